// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio.c - a polled virtio-blk driver from ring 3 over two transports:
 * PCI modern (1af4:1042; common, notify and device configuration found
 * through the vendor capabilities) and MMIO version 2 at a given address.
 * vblk=N[,SIZE] and vblk-mmio=ADDR,N[,SIZE].
 *
 * One split virtqueue of at most 16 entries, one request in flight: header,
 * data and status descriptors, the avail index bumped, one notify, then the
 * used index polled in RAM (no exits while waiting). The driver asks for no
 * interrupts (VRING_AVAIL_F_NO_INTERRUPT) and negotiates VERSION_1 and,
 * when offered, FLUSH; nothing else. Each register access is one MMIO exit.
 */
#include "guest.h"

#define VIRTIO_VENDOR		0x1af4
#define VIRTIO_PCI_BLK		0x1042	/* 0x1040 + device id 2 */
#define VIRTIO_ID_BLOCK		2

#define S_ACKNOWLEDGE		0x01
#define S_DRIVER		0x02
#define S_DRIVER_OK		0x04
#define S_FEATURES_OK		0x08
#define S_NEEDS_RESET		0x40
#define S_FAILED		0x80

#define F_VERSION_1		(1ull << 32)
#define BLK_F_RO		(1ull << 5)
#define BLK_F_FLUSH		(1ull << 9)

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
#define MM_STATUS		0x070
#define MM_Q_DESC		0x080
#define MM_Q_DRIVER		0x090
#define MM_Q_DEVICE		0x0a0
#define MM_CFG_GEN		0x0fc
#define MM_CONFIG		0x100
#define MM_SIZE			0x200
#define MM_MAGIC_VALUE		0x74726976	/* "virt" */

#define VQ_MAX			16
#define DESC_F_NEXT		1
#define DESC_F_WRITE		2
#define AVAIL_F_NO_INTERRUPT	1

#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_S_OK		0
#define BLK_CFG_CAPACITY	0	/* le64, in 512-byte sectors */

#define RESET_TIMEOUT_US	1000000

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vq_avail {
	uint16_t flags, idx, ring[VQ_MAX], used_event;
};

struct vq_used {
	uint16_t flags, idx;
	struct {
		uint32_t id, len;
	} ring[VQ_MAX];
	uint16_t avail_event;
};

/* Each part on its own page: more alignment than any transport asks for. */
static struct vq_desc vq_desc[VQ_MAX] __attribute__((aligned(4096)));
static struct vq_avail vq_avail __attribute__((aligned(4096)));
static struct vq_used vq_used __attribute__((aligned(4096)));

static struct {
	uint32_t type, reserved;
	uint64_t sector;
	uint8_t status;
} blk_req __attribute__((aligned(64)));

struct vtdev {
	const char *word;
	bool mmio;
	uint64_t base;				/* MMIO: the transport's registers */
	uint64_t common, notify, device;	/* PCI: where the capabilities point */
	uint32_t notify_len, notify_mult;
	uint64_t notify_addr;			/* queue 0's doorbell */
	uint16_t qsize, avail_idx, used_idx;
	bool flush;				/* FLUSH negotiated */
};

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

static uint8_t get_status(const struct vtdev *d)
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

static uint32_t cfg_read32(const struct vtdev *d, unsigned off)
{
	return mmio_read32(d->mmio ? d->base + MM_CONFIG + off : d->device + off);
}

/* A 64-bit config field as two reads, retried while the generation moves. */
static uint64_t cfg_read64(const struct vtdev *d, unsigned off)
{
	for (int tries = 0; tries < 10; tries++) {
		uint8_t g = cfg_gen(d);
		uint64_t v = cfg_read32(d, off) | (uint64_t)cfg_read32(d, off + 4) << 32;

		if (cfg_gen(d) == g)
			return v;
	}
	fail("%s: config generation keeps changing", d->word);
}

static void queue_select(const struct vtdev *d)
{
	if (d->mmio)
		mmio_write32(d->base + MM_Q_SELECT, 0);
	else
		mmio_write16(d->common + CC_Q_SELECT, 0);
}

static bool queue_enabled(const struct vtdev *d)
{
	queue_select(d);
	return d->mmio ? mmio_read32(d->base + MM_Q_READY) : mmio_read16(d->common + CC_Q_ENABLE);
}

/* Reset, and wait until the device says it is done (status reads 0). */
static void vt_reset(const struct vtdev *d)
{
	uint64_t deadline = tsc_deadline(RESET_TIMEOUT_US);
	uint8_t s;

	set_status(d, 0);
	while ((s = get_status(d)) != 0)
		if (rdtsc() > deadline)
			fail("%s: status 0x%x still not 0 %u ms after reset", d->word, s,
			     RESET_TIMEOUT_US / 1000);
}

static void wr64(const struct vtdev *d, unsigned pci_off, unsigned mmio_off, uint64_t v)
{
	wr32(d, pci_off, mmio_off, v);
	wr32(d, pci_off + 4, mmio_off + 4, v >> 32);
}

static void queue_setup(struct vtdev *d)
{
	unsigned max;

	memset(vq_desc, 0, sizeof(vq_desc));
	memset(&vq_avail, 0, sizeof(vq_avail));
	memset(&vq_used, 0, sizeof(vq_used));
	vq_avail.flags = AVAIL_F_NO_INTERRUPT;
	d->avail_idx = d->used_idx = 0;

	if (queue_enabled(d))
		fail("%s: queue 0 is enabled before the driver set it up", d->word);
	max = d->mmio ? mmio_read32(d->base + MM_Q_NUM_MAX) : mmio_read16(d->common + CC_Q_SIZE);
	if (max == 0)
		fail("%s: queue 0 does not exist (size 0)", d->word);
	d->qsize = max < VQ_MAX ? max : VQ_MAX;
	if (d->mmio) {
		mmio_write32(d->base + MM_Q_NUM, d->qsize);
	} else {
		unsigned noff;

		if (d->qsize != max)
			mmio_write16(d->common + CC_Q_SIZE, d->qsize);
		noff = mmio_read16(d->common + CC_Q_NOTIFY_OFF);
		if ((uint64_t)noff * d->notify_mult + 2 > d->notify_len)
			fail("%s: queue_notify_off %u * multiplier %u lies past the notify region (%u bytes)",
			     d->word, noff, d->notify_mult, d->notify_len);
		d->notify_addr = d->notify + (uint64_t)noff * d->notify_mult;
	}
	wr64(d, CC_Q_DESC, MM_Q_DESC, (uintptr_t)vq_desc);
	wr64(d, CC_Q_DRIVER, MM_Q_DRIVER, (uintptr_t)&vq_avail);
	wr64(d, CC_Q_DEVICE, MM_Q_DEVICE, (uintptr_t)&vq_used);
	if (d->mmio)
		mmio_write32(d->base + MM_Q_READY, 1);
	else
		mmio_write16(d->common + CC_Q_ENABLE, 1);
}

static void notify(const struct vtdev *d)
{
	if (d->mmio)
		mmio_write32(d->base + MM_Q_NOTIFY, 0);
	else
		mmio_write16(d->notify_addr, 0);
}

/* Make descriptor chain 0.. available, notify, poll the used ring; the used length. */
static uint32_t vq_run(struct vtdev *d, const char *what)
{
	volatile uint16_t *used_idx = &vq_used.idx;
	uint64_t deadline;
	uint16_t idx;
	uint32_t id, len;

	vq_avail.ring[d->avail_idx % d->qsize] = 0;
	barrier();				/* the entry before the index */
	*(volatile uint16_t *)&vq_avail.idx = ++d->avail_idx;
	mb();					/* the index before the doorbell */
	notify(d);
	deadline = tsc_deadline(DISK_TIMEOUT_US);
	while ((idx = *used_idx) == d->used_idx) {
		if (rdtsc() > deadline)
			fail("%s: %s: no used entry after %u s (device status 0x%x)", d->word, what,
			     DISK_TIMEOUT_US / 1000000, get_status(d));
		cpu_relax();
	}
	barrier();				/* the index before the entry */
	if ((uint16_t)(idx - d->used_idx) != 1)
		fail("%s: %s: used index moved from %u to %u for one request", d->word, what,
		     d->used_idx, idx);
	id = vq_used.ring[d->used_idx % d->qsize].id;
	len = vq_used.ring[d->used_idx % d->qsize].len;
	d->used_idx++;
	if (id != 0)
		fail("%s: %s: used entry names descriptor %u, 0 was made available", d->word, what, id);
	return len;
}

static void blk_request(struct vtdev *d, uint32_t type, uint64_t sector, void *buf, uint32_t bytes)
{
	const char *what = type == BLK_T_IN ? "read" : type == BLK_T_OUT ? "write" : "flush";
	uint32_t want = 1 + (type == BLK_T_IN ? bytes : 0), len;
	unsigned n = 0;

	blk_req.type = type;
	blk_req.reserved = 0;
	blk_req.sector = sector;
	blk_req.status = 0xff;
	vq_desc[n++] = (struct vq_desc){ (uintptr_t)&blk_req, 16, DESC_F_NEXT, 1 };
	if (bytes)
		vq_desc[n++] = (struct vq_desc){ (uintptr_t)buf, bytes,
			DESC_F_NEXT | (type == BLK_T_IN ? DESC_F_WRITE : 0), 2 };
	vq_desc[n] = (struct vq_desc){ (uintptr_t)&blk_req.status, 1, DESC_F_WRITE, 0 };
	len = vq_run(d, what);
	barrier();
	if (blk_req.status != BLK_S_OK)
		fail("%s: %s at sector %lu: status %u", d->word, what, (unsigned long)sector,
		     blk_req.status);
	if (len != want)
		fail("%s: %s at sector %lu: used length %u, the device wrote %u bytes", d->word, what,
		     (unsigned long)sector, len, want);
}

/* The first capability of each type, checked against its BAR. */
static void pci_probe(struct vtdev *d, const char *word)
{
	int bdf = pci_find(VIRTIO_VENDOR, VIRTIO_PCI_BLK);
	struct pci_bar bars[6];
	bool sized[6] = { false };
	uint64_t *where[5] = { NULL, &d->common, &d->notify, NULL, &d->device };
	uint32_t lens[5] = { 0 };
	unsigned cap;

	if (bdf < 0)
		fail("%s: no virtio-blk (1af4:1042) on PCI bus 0", word);
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
	pci_enable(bdf, PCI_CMD_MEM | PCI_CMD_MASTER);
	gprintf("%s: 00:%02x.%x 1af4:1042, common 0x%lx notify 0x%lx (x%u) device 0x%lx\n", word,
		bdf >> 3, bdf & 7, (unsigned long)d->common, (unsigned long)d->notify,
		d->notify_mult, (unsigned long)d->device);
}

static void mmio_probe(struct vtdev *d, const char *word, uint64_t base)
{
	uint32_t magic, version, id;

	if (!phys_mapped(base, MM_SIZE) || (base & 3))
		fail("%s: 0x%lx is not mapped or not aligned (0..1 GiB and 3..4 GiB are)", word,
		     (unsigned long)base);
	d->base = base;
	magic = mmio_read32(base + MM_MAGIC);
	version = mmio_read32(base + MM_VERSION);
	id = mmio_read32(base + MM_DEVICE_ID);
	if (magic != MM_MAGIC_VALUE)
		fail("%s: magic 0x%x at 0x%lx, not 0x74726976", word, magic, (unsigned long)base);
	if (version != 2)
		fail("%s: virtio-mmio version %u, 2 needed (QEMU: -global virtio-mmio.force-legacy=false)",
		     word, version);
	if (id != VIRTIO_ID_BLOCK)
		fail("%s: device id %u at 0x%lx, not 2 (block)%s", word, id, (unsigned long)base,
		     id ? "" : ": no device behind this transport");
	gprintf("%s: 0x%lx virtio-mmio v2, vendor 0x%x\n", word, (unsigned long)base,
		mmio_read32(base + MM_VENDOR_ID));
}

/* Status handshake, features, the queue, DRIVER_OK; returns the capacity in sectors. */
static uint64_t vt_init(struct vtdev *d)
{
	uint64_t have, use, cap;
	uint8_t s;

	vt_reset(d);
	set_status(d, S_ACKNOWLEDGE);
	set_status(d, S_ACKNOWLEDGE | S_DRIVER);
	wr32(d, CC_DF_SELECT, MM_DF_SELECT, 0);
	have = rd32(d, CC_DF, MM_DF);
	wr32(d, CC_DF_SELECT, MM_DF_SELECT, 1);
	have |= (uint64_t)rd32(d, CC_DF, MM_DF) << 32;
	if (!(have & F_VERSION_1))
		fail("%s: device features 0x%lx lack VERSION_1", d->word, (unsigned long)have);
	if (have & BLK_F_RO)
		fail("%s: the device is read-only", d->word);
	use = F_VERSION_1 | (have & BLK_F_FLUSH);
	wr32(d, CC_GF_SELECT, MM_GF_SELECT, 0);
	wr32(d, CC_GF, MM_GF, use);
	wr32(d, CC_GF_SELECT, MM_GF_SELECT, 1);
	wr32(d, CC_GF, MM_GF, use >> 32);
	set_status(d, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!((s = get_status(d)) & S_FEATURES_OK))
		fail("%s: features 0x%lx not accepted (status 0x%x)", d->word, (unsigned long)use, s);
	queue_setup(d);
	set_status(d, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	if ((s = get_status(d)) & (S_NEEDS_RESET | S_FAILED))
		fail("%s: status 0x%x after DRIVER_OK", d->word, s);
	cap = cfg_read64(d, BLK_CFG_CAPACITY);
	gprintf("%s: %lu sectors, features 0x%lx, using 0x%lx, queue %u entries\n", d->word,
		(unsigned long)cap, (unsigned long)have, (unsigned long)use, d->qsize);
	d->flush = use & BLK_F_FLUSH;
	if (!d->flush)
		gprintf("%s: no FLUSH feature: the device writes through, nothing to flush\n", d->word);
	return cap;
}

/* Write N requests of SIZE bytes from sector 0, flush, read back and check, reset. */
static void vblk_run(struct vtdev *d, uint64_t n, uint64_t size)
{
	uint32_t tag = disk_tag(d->word);
	uint64_t spr = size / SECTOR_SIZE, cap, t0;
	struct disk_times t = { .cmds = n };

	if (n < 1 || size < SECTOR_SIZE || size % SECTOR_SIZE || size > DISK_BUF_SIZE)
		fail("%s: N must be at least 1 and SIZE a multiple of 512 up to %u", d->word,
		     DISK_BUF_SIZE);
	tsc_ensure();
	cap = vt_init(d);
	if (n > cap / spr)
		fail("%s: %lu requests of %lu bytes do not fit %lu sectors", d->word,
		     (unsigned long)n, (unsigned long)size, (unsigned long)cap);

	for (uint64_t i = 0; i < n; i++) {
		pattern_fill(disk_buf, i * spr, spr, tag);
		t0 = rdtsc();
		blk_request(d, BLK_T_OUT, i * spr, disk_buf, size);
		t.write += rdtsc() - t0;
	}
	if (d->flush) {
		t0 = rdtsc();
		blk_request(d, BLK_T_FLUSH, 0, NULL, 0);
		t.flush = rdtsc() - t0;
	}
	disk_after_flush(d->word);
	for (uint64_t i = 0; i < n; i++) {
		pattern_poison(disk_buf, size);
		t0 = rdtsc();
		blk_request(d, BLK_T_IN, i * spr, disk_buf, size);
		t.read += rdtsc() - t0;
		pattern_check(d->word, disk_buf, i * spr, spr, tag);
	}
	vt_reset(d);
	if (queue_enabled(d))
		fail("%s: queue 0 still enabled after the reset", d->word);
	disk_report(d->word, n, &t);
}

/* vblk=N[,SIZE] */
void do_vblk(const char *word, char *arg)
{
	uint64_t v[2] = { 0, 4096 };
	struct vtdev d = { .word = word };

	args(word, arg, v, 1, 2);
	pci_probe(&d, word);
	vblk_run(&d, v[0], v[1]);
}

/* vblk-mmio=ADDR,N[,SIZE] */
void do_vblk_mmio(const char *word, char *arg)
{
	uint64_t v[3] = { 0, 0, 4096 };
	struct vtdev d = { .word = word, .mmio = true };

	args(word, arg, v, 2, 3);
	mmio_probe(&d, word, v[0]);
	vblk_run(&d, v[1], v[2]);
}
