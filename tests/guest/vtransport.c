// SPDX-License-Identifier: GPL-2.0-only
/*
 * vtransport.c - the virtio 1.x transport the test guest's virtio drivers
 * share (virtio.c: block, vnet.c: network): PCI modern (the common, notify
 * and device configuration found through the vendor capabilities) or MMIO
 * version 2 at a given address; the status handshake, feature negotiation,
 * split virtqueues of at most VQ_MAX entries in static guest RAM, notify.
 *
 * Polled from ring 3: the driver asks for no interrupts
 * (VRING_AVAIL_F_NO_INTERRUPT) and polls used indexes in RAM, so waiting
 * costs no exits. Each register access is one MMIO exit.
 */
#include "guest.h"

#define VIRTIO_VENDOR		0x1af4

#define S_ACKNOWLEDGE		0x01
#define S_DRIVER		0x02
#define S_DRIVER_OK		0x04
#define S_FEATURES_OK		0x08
#define S_NEEDS_RESET		0x40
#define S_FAILED		0x80

/* PCI capability cfg_type and struct virtio_pci_cap fields */
#define CAP_COMMON		1
#define CAP_NOTIFY		2
#define CAP_ISR			3
#define CAP_DEVICE		4
#define CAP_TYPE		3
#define CAP_BAR			4
#define CAP_OFFSET		8
#define CAP_LENGTH		12
#define CAP_NOTIFY_MULT		16

/* struct virtio_pci_common_cfg */
#define CC_DF_SELECT		0x00
#define CC_DF			0x04
#define CC_GF_SELECT		0x08
#define CC_GF			0x0c
#define CC_STATUS		0x14
#define CC_CFG_GEN		0x15
#define CC_Q_SELECT		0x16
#define CC_Q_SIZE		0x18
#define CC_Q_MSIX		0x1a
#define CC_Q_ENABLE		0x1c
#define CC_Q_NOTIFY_OFF		0x1e
#define CC_Q_DESC		0x20
#define CC_Q_DRIVER		0x28
#define CC_Q_DEVICE		0x30
#define CC_MIN_LEN		0x38

/* virtio-mmio version 2 registers */
#define MM_MAGIC		0x000
#define MM_VERSION		0x004
#define MM_DEVICE_ID		0x008
#define MM_VENDOR_ID		0x00c
#define MM_DF			0x010
#define MM_DF_SELECT		0x014
#define MM_GF			0x020
#define MM_GF_SELECT		0x024
#define MM_Q_SELECT		0x030
#define MM_Q_NUM_MAX		0x034
#define MM_Q_NUM		0x038
#define MM_Q_READY		0x044
#define MM_Q_NOTIFY		0x050
#define MM_INT_STATUS		0x060
#define MM_INT_ACK		0x064
#define MM_STATUS		0x070
#define MM_Q_DESC		0x080
#define MM_Q_DRIVER		0x090
#define MM_Q_DEVICE		0x0a0
#define MM_CFG_GEN		0x0fc
#define MM_CONFIG		0x100
#define MM_SIZE			0x200
#define MM_MAGIC_VALUE		0x74726976	/* "virt" */

#define AVAIL_F_NO_INTERRUPT	1
#define MSI_NO_VECTOR		0xffff

/* PCI MSI-X capability (PCI 3.0, 6.8.2) */
#define PCI_CAP_MSIX		0x11
#define MSIX_CTRL		2
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_TABLE		4	/* BIR in bits 2:0, offset above */
#define MSIX_ENTRY_SIZE		16
#define USED_F_NO_NOTIFY	1

#define RESET_TIMEOUT_US	1000000

static uint32_t rd32(const struct vtdev *d, unsigned pci_off, unsigned mmio_off)
{
	return d->mmio ? mmio_read32(d->base + mmio_off) : mmio_read32(d->common + pci_off);
}

static void wr32(const struct vtdev *d, unsigned pci_off, unsigned mmio_off, uint32_t v)
{
	if (d->mmio)
		mmio_write32(d->base + mmio_off, v);
	else
		mmio_write32(d->common + pci_off, v);
}

static void wr64(const struct vtdev *d, unsigned pci_off, unsigned mmio_off, uint64_t v)
{
	wr32(d, pci_off, mmio_off, v);
	wr32(d, pci_off + 4, mmio_off + 4, v >> 32);
}

uint8_t vt_get_status(const struct vtdev *d)
{
	return d->mmio ? mmio_read32(d->base + MM_STATUS) : mmio_read8(d->common + CC_STATUS);
}

static void set_status(const struct vtdev *d, uint8_t s)
{
	if (d->mmio)
		mmio_write32(d->base + MM_STATUS, s);
	else
		mmio_write8(d->common + CC_STATUS, s);
}

static uint8_t cfg_gen(const struct vtdev *d)
{
	return d->mmio ? mmio_read32(d->base + MM_CFG_GEN) : mmio_read8(d->common + CC_CFG_GEN);
}

static uint64_t cfg_addr(const struct vtdev *d, unsigned off)
{
	return d->mmio ? d->base + MM_CONFIG + off : d->device + off;
}

/* A 64-bit config field as two reads, retried while the generation moves. */
uint64_t vt_cfg_read64(const struct vtdev *d, unsigned off)
{
	for (int tries = 0; tries < 10; tries++) {
		uint8_t g = cfg_gen(d);
		uint64_t v = mmio_read32(cfg_addr(d, off)) |
			     (uint64_t)mmio_read32(cfg_addr(d, off + 4)) << 32;

		if (cfg_gen(d) == g)
			return v;
	}
	fail("%s: config generation keeps changing", d->word);
}

/* LEN bytes of device configuration, one byte access each, under one generation. */
void vt_cfg_bytes(const struct vtdev *d, unsigned off, uint8_t *out, unsigned len)
{
	for (int tries = 0; tries < 10; tries++) {
		uint8_t g = cfg_gen(d);

		for (unsigned i = 0; i < len; i++)
			out[i] = mmio_read8(cfg_addr(d, off + i));
		if (cfg_gen(d) == g)
			return;
	}
	fail("%s: config generation keeps changing", d->word);
}

static void queue_select(const struct vtdev *d, unsigned q)
{
	if (d->mmio)
		mmio_write32(d->base + MM_Q_SELECT, q);
	else
		mmio_write16(d->common + CC_Q_SELECT, q);
}

bool vt_queue_enabled(const struct vtdev *d, unsigned q)
{
	queue_select(d, q);
	return d->mmio ? mmio_read32(d->base + MM_Q_READY) : mmio_read16(d->common + CC_Q_ENABLE);
}

/* Reset, and wait until the device says it is done (status reads 0). */
void vt_reset(const struct vtdev *d)
{
	uint64_t deadline = tsc_deadline(RESET_TIMEOUT_US);
	uint8_t s;

	set_status(d, 0);
	while ((s = vt_get_status(d)) != 0)
		if (rdtsc() > deadline)
			fail("%s: status 0x%x still not 0 %u ms after reset", d->word, s,
			     RESET_TIMEOUT_US / 1000);
}

/* Queue Q on the rings in MEM: at most VQ_MAX entries, no interrupts, enabled. */
void vt_queue_setup(const struct vtdev *d, struct vq *vq, struct vq_mem *mem, unsigned q)
{
	unsigned max;

	memset(mem, 0, sizeof(*mem));
	mem->avail.flags = AVAIL_F_NO_INTERRUPT;
	*vq = (struct vq){ .mem = mem, .index = q };

	if (vt_queue_enabled(d, q))
		fail("%s: queue %u is enabled before the driver set it up", d->word, q);
	max = d->mmio ? mmio_read32(d->base + MM_Q_NUM_MAX) : mmio_read16(d->common + CC_Q_SIZE);
	if (max == 0)
		fail("%s: queue %u does not exist (size 0)", d->word, q);
	vq->size = max < VQ_MAX ? max : VQ_MAX;
	if (d->mmio) {
		mmio_write32(d->base + MM_Q_NUM, vq->size);
		vq->notify_addr = d->base + MM_Q_NOTIFY;
	} else {
		unsigned noff;

		if (vq->size != max)
			mmio_write16(d->common + CC_Q_SIZE, vq->size);
		if (d->msix) {
			mmio_write16(d->common + CC_Q_MSIX, 0);
			if (mmio_read16(d->common + CC_Q_MSIX) != 0)
				fail("%s: queue %u: the device refused MSI-X vector 0", d->word, q);
		}
		noff = mmio_read16(d->common + CC_Q_NOTIFY_OFF);
		if ((uint64_t)noff * d->notify_mult + 2 > d->notify_len)
			fail("%s: queue %u: queue_notify_off %u * multiplier %u lies past the notify "
			     "region (%u bytes)", d->word, q, noff, d->notify_mult, d->notify_len);
		vq->notify_addr = d->notify + (uint64_t)noff * d->notify_mult;
	}
	wr64(d, CC_Q_DESC, MM_Q_DESC, (uintptr_t)mem->desc);
	wr64(d, CC_Q_DRIVER, MM_Q_DRIVER, (uintptr_t)&mem->avail);
	wr64(d, CC_Q_DEVICE, MM_Q_DEVICE, (uintptr_t)&mem->used);
	if (d->mmio)
		mmio_write32(d->base + MM_Q_READY, 1);
	else
		mmio_write16(d->common + CC_Q_ENABLE, 1);
}

/*
 * MSI-X on, with table entry 0 sending ADDR/DATA and the rest untouched
 * (masked since reset); vt_queue_setup() then gives its queues vector 0.
 * PCI only; before the queues are set up. off: MSI-X disabled again.
 */
void vt_pci_msix(struct vtdev *d, bool on, uint32_t addr, uint32_t data)
{
	unsigned cap = pci_cap_find(d->bdf, PCI_CAP_MSIX, 0), bir;
	uint32_t table;
	struct pci_bar bar;
	uint64_t entry;

	if (!cap)
		fail("%s: no MSI-X capability", d->word);
	if (!on) {
		pci_write(d->bdf, cap + MSIX_CTRL, 2, 0);
		d->msix = false;
		return;
	}
	table = pci_read(d->bdf, cap + MSIX_TABLE, 4);
	bir = table & 7;
	if (bir > 5 || !pci_bar(d->bdf, bir, &bar) || bar.io || !bar.addr)
		fail("%s: the MSI-X table's BAR%u is not an assigned memory BAR", d->word, bir);
	entry = bar.addr + (table & ~7u);
	if ((table & ~7u) + MSIX_ENTRY_SIZE > bar.size || !phys_mapped(entry, MSIX_ENTRY_SIZE))
		fail("%s: MSI-X table at 0x%lx: outside BAR%u or not mapped", d->word,
		     (unsigned long)entry, bir);
	pci_write(d->bdf, cap + MSIX_CTRL, 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	mmio_write32(entry, addr);
	mmio_write32(entry + 4, 0);
	mmio_write32(entry + 8, data);
	mmio_write32(entry + 12, 0);		/* vector control: unmasked */
	pci_write(d->bdf, cap + MSIX_CTRL, 2, MSIX_CTRL_ENABLE);
	d->msix = true;
}

/* MMIO: read InterruptStatus and acknowledge what it says; what it said. */
uint32_t vt_mmio_irq_ack(const struct vtdev *d)
{
	uint32_t s = mmio_read32(d->base + MM_INT_STATUS);

	mmio_write32(d->base + MM_INT_ACK, s);
	return s;
}

/* Ask the device for an interrupt per used buffer, or for none (the default). */
void vq_interrupts(struct vq *vq, bool on)
{
	*(volatile uint16_t *)&vq->mem->avail.flags = on ? 0 : AVAIL_F_NO_INTERRUPT;
}

/* The doorbell: one MMIO write (MMIO transport: the queue index to QueueNotify). */
void vq_notify(const struct vtdev *d, struct vq *vq)
{
	if (d->mmio)
		mmio_write32(vq->notify_addr, vq->index);
	else
		mmio_write16(vq->notify_addr, vq->index);
	vq->notifies++;
}

/* Make the chain at HEAD available (no notify). */
void vq_push(struct vq *vq, uint16_t head)
{
	vq->mem->avail.ring[vq->avail_idx % vq->size] = head;
	barrier();				/* the entry before the index */
	*(volatile uint16_t *)&vq->mem->avail.idx = ++vq->avail_idx;
}

/*
 * Notify unless the device said it does not need it (VRING_USED_F_NO_NOTIFY,
 * checked after the index is visible, as the device checks the ring after
 * setting the flag). Whether a notify was written.
 */
bool vq_kick(const struct vtdev *d, struct vq *vq)
{
	mb();					/* the index before the flag's read */
	if (*(volatile uint16_t *)&vq->mem->used.flags & USED_F_NO_NOTIFY) {
		vq->skipped++;
		return false;
	}
	vq_notify(d, vq);
	return true;
}

/* The next used entry, or false at DEADLINE (0: do not wait). Polled in RAM. */
bool vq_poll(struct vq *vq, uint64_t deadline, uint32_t *id, uint32_t *len)
{
	volatile uint16_t *used_idx = &vq->mem->used.idx;

	while (*used_idx == vq->used_idx) {
		if (rdtsc() > deadline)
			return false;
		cpu_relax();
	}
	barrier();				/* the index before the entry */
	*id = vq->mem->used.ring[vq->used_idx % vq->size].id;
	*len = vq->mem->used.ring[vq->used_idx % vq->size].len;
	vq->used_idx++;
	return true;
}

/* How many used entries the device has added that were not polled yet. */
uint16_t vq_pending(const struct vq *vq)
{
	return *(volatile uint16_t *)&vq->mem->used.idx - vq->used_idx;
}

/* The first capability of each type, checked against its BAR. */
void vt_pci_probe(struct vtdev *d, uint16_t device)
{
	int bdf = pci_find(VIRTIO_VENDOR, device);
	struct pci_bar bars[6];
	bool sized[6] = { false };
	uint64_t *where[5] = { NULL, &d->common, &d->notify, NULL, &d->device };
	uint32_t lens[5] = { 0 };
	const char *word = d->word;
	unsigned cap;

	if (bdf < 0)
		fail("%s: no %s (1af4:%04x) on PCI bus 0", word, d->what, device);
	for (cap = pci_cap_find(bdf, PCI_CAP_VNDR, 0); cap; cap = pci_cap_find(bdf, PCI_CAP_VNDR, cap)) {
		unsigned type = pci_read(bdf, cap + CAP_TYPE, 1), b = pci_read(bdf, cap + CAP_BAR, 1);
		uint32_t off = pci_read(bdf, cap + CAP_OFFSET, 4), len = pci_read(bdf, cap + CAP_LENGTH, 4);
		uint64_t addr;

		if (type >= 5 || !where[type] || *where[type] || b > 5)
			continue;
		if (!sized[b]) {
			if (!pci_bar(bdf, b, &bars[b]))
				fail("%s: capability type %u names BAR%u, which is not implemented", word,
				     type, b);
			sized[b] = true;
		}
		addr = bars[b].addr + off;
		if (bars[b].io || !bars[b].addr || (uint64_t)off + len > bars[b].size ||
		    !phys_mapped(addr, len))
			fail("%s: capability type %u: BAR%u %s 0x%lx size 0x%lx, offset 0x%x length 0x%x: "
			     "not assigned, outside it or outside 0..1/3..4 GiB", word, type, b,
			     bars[b].io ? "io" : "mem", (unsigned long)bars[b].addr,
			     (unsigned long)bars[b].size, off, len);
		*where[type] = addr;
		lens[type] = len;
		if (type == CAP_NOTIFY)
			d->notify_mult = pci_read(bdf, cap + CAP_NOTIFY_MULT, 4);
	}
	if (!d->common || lens[CAP_COMMON] < CC_MIN_LEN)
		fail("%s: no common configuration capability of at least %u bytes", word, CC_MIN_LEN);
	if (!d->notify || !d->device || lens[CAP_DEVICE] < 8)
		fail("%s: no notify or device configuration capability", word);
	d->notify_len = lens[CAP_NOTIFY];
	d->bdf = bdf;
	pci_enable(bdf, PCI_CMD_MEM | PCI_CMD_MASTER);
	gprintf("%s: 00:%02x.%x 1af4:%04x, common 0x%lx notify 0x%lx (x%u) device 0x%lx\n", word,
		bdf >> 3, bdf & 7, device, (unsigned long)d->common, (unsigned long)d->notify,
		d->notify_mult, (unsigned long)d->device);
}

void vt_mmio_probe(struct vtdev *d, uint64_t base, uint32_t device_id)
{
	const char *word = d->word;
	uint32_t magic, version, id;

	if (!phys_mapped(base, MM_SIZE) || (base & 3))
		fail("%s: 0x%lx is not mapped or not aligned (0..1 GiB and 3..4 GiB are)", word,
		     (unsigned long)base);
	d->mmio = true;
	d->base = base;
	magic = mmio_read32(base + MM_MAGIC);
	version = mmio_read32(base + MM_VERSION);
	id = mmio_read32(base + MM_DEVICE_ID);
	if (magic != MM_MAGIC_VALUE)
		fail("%s: magic 0x%x at 0x%lx, not 0x74726976", word, magic, (unsigned long)base);
	if (version != 2)
		fail("%s: virtio-mmio version %u, 2 needed (QEMU: -global virtio-mmio.force-legacy=false)",
		     word, version);
	if (id != device_id)
		fail("%s: device id %u at 0x%lx, not %u (%s)%s", word, id, (unsigned long)base,
		     device_id, d->what, id ? "" : ": no device behind this transport");
	gprintf("%s: 0x%lx virtio-mmio v2, vendor 0x%x\n", word, (unsigned long)base,
		mmio_read32(base + MM_VENDOR_ID));
}

/* Reset, ACKNOWLEDGE, DRIVER; the features the device offers. */
uint64_t vt_begin(const struct vtdev *d)
{
	uint64_t have;

	vt_reset(d);
	set_status(d, S_ACKNOWLEDGE);
	set_status(d, S_ACKNOWLEDGE | S_DRIVER);
	wr32(d, CC_DF_SELECT, MM_DF_SELECT, 0);
	have = rd32(d, CC_DF, MM_DF);
	wr32(d, CC_DF_SELECT, MM_DF_SELECT, 1);
	have |= (uint64_t)rd32(d, CC_DF, MM_DF) << 32;
	if (!(have & VIRTIO_F_VERSION_1))
		fail("%s: device features 0x%lx lack VERSION_1", d->word, (unsigned long)have);
	return have;
}

/* Write the features the driver takes, FEATURES_OK, and check it stuck. */
void vt_accept(const struct vtdev *d, uint64_t use)
{
	uint8_t s;

	wr32(d, CC_GF_SELECT, MM_GF_SELECT, 0);
	wr32(d, CC_GF, MM_GF, use);
	wr32(d, CC_GF_SELECT, MM_GF_SELECT, 1);
	wr32(d, CC_GF, MM_GF, use >> 32);
	set_status(d, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!((s = vt_get_status(d)) & S_FEATURES_OK))
		fail("%s: features 0x%lx not accepted (status 0x%x)", d->word, (unsigned long)use, s);
}

/* After the queues: DRIVER_OK, and the device must not have given up. */
void vt_driver_ok(const struct vtdev *d)
{
	uint8_t s;

	set_status(d, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	if ((s = vt_get_status(d)) & (S_NEEDS_RESET | S_FAILED))
		fail("%s: status 0x%x after DRIVER_OK", d->word, s);
}
