// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2): the register
 * window, QueueNotify doorbells and the interrupt line of one device.
 * Registers take aligned 32-bit accesses only (4.2.2.2); others read 0,
 * are dropped and said once per device. Registers of a direction the spec
 * does not give (a write to MagicValue, a read of QueueSel) and reserved
 * offsets read 0 and drop writes silently, as does every queue register
 * while QueueSel names no queue.
 *
 * Notifications: one doorbell per queue on QueueNotify, matching the
 * queue's index (KVM_IOEVENTFD with datamatch, or the bus's userspace
 * doorbell), so a kick reaches virtio_queue_kick() on the I/O thread and
 * the vCPU never runs a device. A value naming no queue matches no doorbell
 * and reaches the register, which drops it.
 *
 * Interrupts: InterruptStatus holds the events until the driver acks them,
 * and Linux's handler reads it, acks what it read, then serves: a level
 * line is the spec's model. But qlite's MP table declares ISA IRQs 0-15
 * edge-triggered (conforming to the ISA bus), so the guest programs the
 * IOAPIC pin for edges and a line that stays high tells it nothing new.
 * So the driver gets an edge whenever there is something it has not been
 * told of: when InterruptStatus goes from 0 to non-zero, and when an ack
 * leaves bits it did not ack (set after its read). In userspace the line
 * also follows InterruptStatus as a level (1 until the ack that clears the
 * last bit; a partial ack drops and raises it), right for an edge pin and a
 * level one alike. With `irqfd on` each edge is one KVM_IRQFD write, which
 * KVM injects as a pulse: right for the edge pin the MP table gives. A
 * level pin would need KVM_IRQFD_FLAG_RESAMPLE (raise again at EOI while
 * bits are set), an accel op the machine does not have, and no guest of
 * qlite's sees one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/platform.h"
#include "qlite/util.h"
#include "qlite/virtio_mmio.h"

/* Lines for devices without `irq`: ISA IRQs nothing on a PC claims by convention. */
static const unsigned mmio_default_irqs[] = { 5, 6, 7, 9, 10, 11 };

struct virtio_mmio;

struct mmio_queue {
	struct virtio_mmio *d;
	unsigned index;
	struct doorbell *db;
};

struct virtio_mmio {
	struct machine *m;
	struct virtio_device *vdev;
	uint64_t base;
	unsigned irq;
	int region;			/* bus region id, -1 until claimed */
	char owner[64];			/* the line's owner: "virtio-blk@0xfed00000" */

	/* The driver's selectors; vCPUs write and read them, nothing else does. */
	_Atomic uint32_t device_features_sel;
	_Atomic uint32_t driver_features_sel;
	_Atomic uint32_t queue_sel;

	pthread_mutex_t isr_lock;	/* isr and the line, changed together */
	uint32_t isr;			/* InterruptStatus */
	struct irq_event *irq_ev;	/* irqfd in the kernel; NULL: levels by irq_set */
	atomic_bool bad_access_said;

	unsigned nr_queues;
	struct mmio_queue *queues;
};

/* ---- the register table: names for the exit report, directions for dispatch ---- */

enum { REG_R = 1, REG_W = 2 };

struct mmio_reg {
	const char *name;
	uint8_t access;
};

#define REG(off, n, a)	[(off) / 4] = { (n), (a) }
static const struct mmio_reg mmio_regs[VIRTIO_MMIO_CONFIG / 4] = {
	REG(VIRTIO_MMIO_MAGIC_VALUE, "MagicValue", REG_R),
	REG(VIRTIO_MMIO_VERSION, "Version", REG_R),
	REG(VIRTIO_MMIO_DEVICE_ID, "DeviceID", REG_R),
	REG(VIRTIO_MMIO_VENDOR_ID, "VendorID", REG_R),
	REG(VIRTIO_MMIO_DEVICE_FEATURES, "DeviceFeatures", REG_R),
	REG(VIRTIO_MMIO_DEVICE_FEATURES_SEL, "DeviceFeaturesSel", REG_W),
	REG(VIRTIO_MMIO_DRIVER_FEATURES, "DriverFeatures", REG_W),
	REG(VIRTIO_MMIO_DRIVER_FEATURES_SEL, "DriverFeaturesSel", REG_W),
	REG(VIRTIO_MMIO_QUEUE_SEL, "QueueSel", REG_W),
	REG(VIRTIO_MMIO_QUEUE_NUM_MAX, "QueueNumMax", REG_R),
	REG(VIRTIO_MMIO_QUEUE_NUM, "QueueNum", REG_W),
	REG(VIRTIO_MMIO_QUEUE_READY, "QueueReady", REG_R | REG_W),
	REG(VIRTIO_MMIO_QUEUE_NOTIFY, "QueueNotify", REG_W),
	REG(VIRTIO_MMIO_INTERRUPT_STATUS, "InterruptStatus", REG_R),
	REG(VIRTIO_MMIO_INTERRUPT_ACK, "InterruptACK", REG_W),
	REG(VIRTIO_MMIO_STATUS, "Status", REG_R | REG_W),
	REG(VIRTIO_MMIO_QUEUE_DESC_LOW, "QueueDescLow", REG_W),
	REG(VIRTIO_MMIO_QUEUE_DESC_HIGH, "QueueDescHigh", REG_W),
	REG(VIRTIO_MMIO_QUEUE_DRIVER_LOW, "QueueDriverLow", REG_W),
	REG(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, "QueueDriverHigh", REG_W),
	REG(VIRTIO_MMIO_QUEUE_DEVICE_LOW, "QueueDeviceLow", REG_W),
	REG(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, "QueueDeviceHigh", REG_W),
	REG(VIRTIO_MMIO_SHM_SEL, "SHMSel", REG_W),
	REG(VIRTIO_MMIO_SHM_LEN_LOW, "SHMLenLow", REG_R),
	REG(VIRTIO_MMIO_SHM_LEN_HIGH, "SHMLenHigh", REG_R),
	REG(VIRTIO_MMIO_SHM_BASE_LOW, "SHMBaseLow", REG_R),
	REG(VIRTIO_MMIO_SHM_BASE_HIGH, "SHMBaseHigh", REG_R),
	REG(VIRTIO_MMIO_CONFIG_GENERATION, "ConfigGeneration", REG_R),
};
#undef REG

static const char *mmio_reg_name(void *opaque, uint64_t offset)
{
	if (offset >= VIRTIO_MMIO_CONFIG)
		return "Config";
	return mmio_regs[offset / 4].name;	/* NULL: reserved, shown as +0xNN */
}

/* May the access go on to register offset? The bus keeps offset + len inside the window. */
static bool mmio_reg_access(struct virtio_mmio *d, uint64_t offset, unsigned len, uint8_t dir)
{
	const struct mmio_reg *reg = &mmio_regs[offset / 4];

	if (len != 4 || offset % 4) {
		if (!atomic_exchange(&d->bad_access_said, true))
			report(-EINVAL, "%s: %u-byte %s at virtio-mmio %#llx+%#x ignored: registers take aligned 32-bit accesses",
			       d->vdev->info->name, len, dir == REG_R ? "read" : "write",
			       (unsigned long long)d->base, (unsigned)offset);
		return false;
	}
	return reg->access & dir;
}

/* ---- interrupts ---- */

/* An edge for the driver: the level goes (back) up, or one irqfd pulse. Caller holds isr_lock. */
static void mmio_line_edge(struct virtio_mmio *d, bool was_high)
{
	if (d->irq_ev) {
		irq_event_raise(d->irq_ev);
		return;
	}
	if (was_high)
		d->m->irq_set(d->m, d->irq, 0);
	d->m->irq_set(d->m, d->irq, 1);
}

static void mmio_line_low(struct virtio_mmio *d)
{
	if (!d->irq_ev)
		d->m->irq_set(d->m, d->irq, 0);
}

static void mmio_raise(struct virtio_mmio *d, uint32_t bit)
{
	pthread_mutex_lock(&d->isr_lock);
	if (!d->isr)
		mmio_line_edge(d, false);
	d->isr |= bit;
	pthread_mutex_unlock(&d->isr_lock);
}

static void mmio_ack(struct virtio_mmio *d, uint32_t bits)
{
	uint32_t old;

	pthread_mutex_lock(&d->isr_lock);
	old = d->isr;
	d->isr &= ~bits;
	if (old && !d->isr)
		mmio_line_low(d);
	else if ((old & bits) && d->isr)
		mmio_line_edge(d, true);	/* events after the driver's read: tell it again */
	pthread_mutex_unlock(&d->isr_lock);
}

static void mmio_queue_interrupt(struct virtio_device *vdev, unsigned q)
{
	mmio_raise(vdev->transport_priv, VIRTIO_MMIO_INT_VRING);
}

static void mmio_config_interrupt(struct virtio_device *vdev)
{
	mmio_raise(vdev->transport_priv, VIRTIO_MMIO_INT_CONFIG);
}

static const struct virtio_transport_ops mmio_transport_ops = {
	.queue_interrupt = mmio_queue_interrupt,
	.config_interrupt = mmio_config_interrupt,
};

/* Status 0 was written: the core reset the device; the transport's part (4.2.2.1). */
static void mmio_reset(struct virtio_mmio *d)
{
	atomic_store(&d->device_features_sel, 0);
	atomic_store(&d->driver_features_sel, 0);
	atomic_store(&d->queue_sel, 0);
	pthread_mutex_lock(&d->isr_lock);
	if (d->isr)
		mmio_line_low(d);
	d->isr = 0;
	pthread_mutex_unlock(&d->isr_lock);
}

/* ---- registers ---- */

static uint32_t mmio_queue_read(struct virtio_mmio *d, uint64_t offset)
{
	struct virtq *vq = virtio_queue(d->vdev, atomic_load(&d->queue_sel));
	uint32_t v;

	if (!vq)
		return 0;
	virtio_device_lock(d->vdev);
	v = offset == VIRTIO_MMIO_QUEUE_READY ? vq->enabled : vq->max_size;
	virtio_device_unlock(d->vdev);
	return v;
}

static uint32_t mmio_reg_read(struct virtio_mmio *d, uint64_t offset)
{
	struct virtio_device *vdev = d->vdev;
	uint32_t v;

	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_2;
	case VIRTIO_MMIO_DEVICE_ID:
		return vdev->info->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_get_device_features(vdev, atomic_load(&d->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
	case VIRTIO_MMIO_QUEUE_READY:
		return mmio_queue_read(d, offset);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		pthread_mutex_lock(&d->isr_lock);
		v = d->isr;
		pthread_mutex_unlock(&d->isr_lock);
		return v;
	case VIRTIO_MMIO_STATUS:
		return virtio_get_status(vdev);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff;	/* a length of ~0: no shared memory region (4.2.2) */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return virtio_get_config_generation(vdev);
	}
	return 0;
}

/* The Low/High halves of a queue's areas; DESC, DRIVER and DEVICE are 0x10 apart. */
static void mmio_queue_addr(struct virtio_mmio *d, unsigned q, uint64_t offset, uint32_t v)
{
	enum virtq_area area = (offset - VIRTIO_MMIO_QUEUE_DESC_LOW) / 0x10;
	struct virtq *vq = virtio_queue(d->vdev, q);
	uint64_t addr;

	if (!vq)
		return;
	virtio_device_lock(d->vdev);
	addr = vq->addr[area];
	virtio_device_unlock(d->vdev);
	if (offset & 4)
		addr = (addr & 0xffffffffULL) | (uint64_t)v << 32;
	else
		addr = (addr & ~0xffffffffULL) | v;
	virtio_queue_set_addr(d->vdev, q, area, addr);	/* ignored while enabled */
}

static void mmio_reg_write(struct virtio_mmio *d, uint64_t offset, uint32_t v)
{
	struct virtio_device *vdev = d->vdev;
	unsigned q = atomic_load(&d->queue_sel);

	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		atomic_store(&d->device_features_sel, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_set_driver_features(vdev, atomic_load(&d->driver_features_sel), v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		atomic_store(&d->driver_features_sel, v);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		atomic_store(&d->queue_sel, v);
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		/* Cut to 16 bits, 0x10008 would become a valid 8: make it a size enable refuses. */
		virtio_queue_set_size(vdev, q, v > VIRTQ_MAX_SIZE ? 0 : v);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (v <= 1)
			virtio_queue_set_enable(vdev, q, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		mmio_ack(d, v);
		break;
	case VIRTIO_MMIO_STATUS:
		virtio_set_status(vdev, (uint8_t)v);
		if (!(uint8_t)v)
			mmio_reset(d);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		mmio_queue_addr(d, q, offset, v);
		break;
	}
	/* QueueNotify gets here only with a value no doorbell matched: no such queue. */
}

static void mmio_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct virtio_mmio *d = opaque;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		virtio_config_read(d->vdev, offset - VIRTIO_MMIO_CONFIG, data, len);
		return;
	}
	memset(data, 0, len);
	if (mmio_reg_access(d, offset, len, REG_R))
		le_store(data, mmio_reg_read(d, offset), 4);
}

static void mmio_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct virtio_mmio *d = opaque;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		virtio_config_write(d->vdev, offset - VIRTIO_MMIO_CONFIG, data, len);
		return;
	}
	if (mmio_reg_access(d, offset, len, REG_W))
		mmio_reg_write(d, offset, le_load(data, 4));
}

static const struct bus_ops virtio_mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
	.reg_name = mmio_reg_name,
};

/* ---- attaching a device ---- */

static void mmio_kick(void *opaque, uint64_t rings)
{
	struct mmio_queue *mq = opaque;

	virtio_queue_kick(mq->d->vdev, mq->index, rings);
}

/* The doorbells and the interrupt event, at teardown or when attaching fails. */
static void mmio_put_services(struct virtio_mmio *d)
{
	for (unsigned q = 0; d->queues && q < d->nr_queues; q++)
		doorbell_remove(d->queues[q].db);
	free(d->queues);
	d->queues = NULL;
	irq_event_destroy(d->irq_ev);
	d->irq_ev = NULL;
}

static void mmio_release(void *state)
{
	struct virtio_mmio *d = state;

	mmio_put_services(d);
	pthread_mutex_destroy(&d->isr_lock);
	free(d);
}

static bool irq_claimed(const struct machine *m, unsigned irq)
{
	for (unsigned i = 0; i < m->nr_irqs; i++)
		if (m->irqs[i].gsi == irq)
			return true;
	return false;
}

static int mmio_pick_irq(struct virtio_mmio *d, unsigned irq)
{
	const char *name = d->vdev->info->name;

	if (irq != VIRTIO_MMIO_AUTO) {
		if (irq >= ISA_NR_IRQS)
			return report(-EINVAL, "%s: irq %u: virtio-mmio takes an ISA IRQ, 1-15 (16-23 are PCI's)",
				      name, irq);
		d->irq = irq;
		return 0;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(mmio_default_irqs); i++) {
		if (!irq_claimed(d->m, mmio_default_irqs[i])) {
			d->irq = mmio_default_irqs[i];
			return 0;
		}
	}
	return report(-ENOSPC, "%s: IRQs 5, 6, 7, 9, 10 and 11 are all used: give this device one with irq N",
		      name);
}

static int mmio_claim_window(struct virtio_mmio *d, uint64_t addr)
{
	const char *name = d->vdev->info->name;
	int ret;

	if (addr != VIRTIO_MMIO_AUTO) {
		if (addr % VIRTIO_MMIO_SIZE)
			return report(-EINVAL, "%s: addr %#llx is not a multiple of 0x200",
				      name, (unsigned long long)addr);
		ret = machine_claim(d->m, BUS_MMIO, addr, VIRTIO_MMIO_SIZE, name, &virtio_mmio_ops, d);
		if (ret < 0)
			return ret;
		d->base = addr;
		d->region = ret;
		return 0;
	}
	for (addr = VIRTIO_MMIO_BASE; addr + VIRTIO_MMIO_SIZE <= LAPIC_BASE;
	     addr += VIRTIO_MMIO_STRIDE) {
		ret = machine_register(d->m, BUS_MMIO, addr, VIRTIO_MMIO_SIZE, name,
				       &virtio_mmio_ops, d);
		if (ret == -EEXIST)
			continue;
		if (ret < 0)
			return report(ret, "%s: cannot claim a virtio-mmio window: bus full", name);
		d->base = addr;
		d->region = ret;
		return 0;
	}
	return report(-ENOSPC, "%s: no free virtio-mmio window in %#llx-%#llx: give one with addr",
		      name, VIRTIO_MMIO_BASE, LAPIC_BASE - 1);
}

static int mmio_add_doorbells(struct virtio_mmio *d, bool in_kernel)
{
	const char *name = d->vdev->info->name;
	int ret;

	d->queues = calloc(d->nr_queues, sizeof(*d->queues));
	if (!d->queues)
		return report(-ENOMEM, "%s: out of memory for %u doorbells", name, d->nr_queues);
	for (unsigned q = 0; q < d->nr_queues; q++) {
		struct mmio_queue *mq = &d->queues[q];
		struct doorbell_desc desc = {
			.name = name,
			.space = BUS_MMIO,
			.addr = d->base + VIRTIO_MMIO_QUEUE_NOTIFY,
			.len = 4,
			.match = true,
			.value = q,
			.in_kernel = in_kernel,
			.ring = mmio_kick,
			.opaque = mq,
		};

		*mq = (struct mmio_queue){ .d = d, .index = q };
		ret = machine_doorbell_add(d->m, &desc, &mq->db);
		if (ret < 0)
			return report_errno(ret, "%s: queue %u: no QueueNotify doorbell", name, q);
	}
	return 0;
}

/* The exit report's entry (any thread): how kicks and interrupts travel, then the counters. */
static void mmio_report(void *opaque, struct device_report *out)
{
	struct virtio_mmio *d = opaque;
	unsigned in_kernel = 0;

	for (unsigned q = 0; q < d->nr_queues; q++)
		in_kernel += doorbell_in_kernel(d->queues[q].db);
	snprintf(out->path, sizeof(out->path), "%s, %s IRQ %u",
		 virtio_kicks_path(in_kernel, d->nr_queues),
		 d->irq_ev ? "interrupts irqfd" : "interrupts injected from userspace", d->irq);
	virtio_device_report(d->vdev, out);
}

int virtio_mmio_attach(struct machine *m, struct virtio_device *vdev,
		       const struct virtio_mmio_opts *o)
{
	const struct virtio_mmio_opts none = { 0 };
	struct virtio_mmio *d;
	char summary[256], own[128];
	int ret;

	if (!o)
		o = &none;
	d = machine_alloc_device(m, sizeof(*d), mmio_release);
	if (!d)
		return report(-ENOMEM, "%s: out of memory", vdev->info->name);
	pthread_mutex_init(&d->isr_lock, NULL);
	d->m = m;
	d->vdev = vdev;
	d->region = -1;
	d->nr_queues = virtio_queue_count(vdev);

	ret = mmio_pick_irq(d, o->irq);
	if (ret < 0)
		return ret;
	ret = mmio_claim_window(d, o->addr);
	if (ret < 0)
		return ret;
	snprintf(d->owner, sizeof(d->owner), "%s@%#llx", vdev->info->name,
		 (unsigned long long)d->base);
	if (o->irqfd) {
		ret = machine_irq_event_gsi(m, d->irq, true, &d->irq_ev);
		if (ret < 0) {
			report_errno(ret, "%s: IRQ %u: no interrupt event", d->owner, d->irq);
			goto err_unclaim;
		}
		/* No KVM_IRQFD here: the line's level from userspace, as with irqfd off. */
		if (!irq_event_in_kernel(d->irq_ev)) {
			irq_event_destroy(d->irq_ev);
			d->irq_ev = NULL;
		}
	}
	ret = mmio_add_doorbells(d, o->ioeventfd);
	if (ret < 0)
		goto err_unclaim;
	/* Last: a failure before leaves no line claimed. Edge ISA lines are not shared. */
	ret = machine_claim_irq(m, d->irq, d->owner, false);
	if (ret < 0)
		goto err_unclaim;
	virtio_device_describe(vdev, own, sizeof(own));
	snprintf(summary, sizeof(summary),
		 "virtio-mmio %#llx irq %u, %u queue%s, ioeventfd %s, irqfd %s%s",
		 (unsigned long long)d->base, d->irq, d->nr_queues, d->nr_queues == 1 ? "" : "s",
		 o->ioeventfd ? "on" : "off", o->irqfd ? "on" : "off", own);
	ret = machine_add_report(m, vdev->info->name, summary, mmio_report, d);
	if (ret < 0) {
		report(ret, "%s: out of memory", d->owner);
		goto err_unclaim;
	}
	virtio_device_set_transport(vdev, &mmio_transport_ops, d);
	return 0;

err_unclaim:
	/* Nothing of it is left for the guest to reach; the state goes with the machine. */
	mmio_put_services(d);
	bus_unregister(m->bus[BUS_MMIO], d->region);
	return ret;
}

/* ---- what the guest is told ---- */

bool virtio_mmio_region_info(const struct bus_region *r, struct virtio_mmio_info *info)
{
	const struct virtio_mmio *d = r->opaque;

	if (r->ops != &virtio_mmio_ops)
		return false;
	*info = (struct virtio_mmio_info){
		.name = d->vdev->info->name,
		.base = r->base,
		.size = r->len,
		.irq = d->irq,
		.device_id = d->vdev->info->device_id,
	};
	return true;
}

unsigned virtio_mmio_list(struct machine *m, struct virtio_mmio_info *out, unsigned max)
{
	struct bus_region r[BUS_MAX_REGIONS];
	unsigned n = bus_list(m->bus[BUS_MMIO], r, BUS_MAX_REGIONS), found = 0;

	for (unsigned i = 0; i < n && i < BUS_MAX_REGIONS; i++) {
		struct virtio_mmio_info info;

		if (!virtio_mmio_region_info(&r[i], &info))
			continue;
		if (found < max)
			out[found] = info;
		found++;
	}
	return found;
}

/* Does the command line hold param as a whole word? */
static bool cmdline_has(const char *cmdline, const char *param)
{
	size_t len = strlen(param);

	for (const char *p = cmdline; (p = strstr(p, param)); p++)
		if ((p == cmdline || p[-1] == ' ') && (p[len] == '\0' || p[len] == ' '))
			return true;
	return false;
}

char *virtio_mmio_linux_params(struct machine *m, const char *have)
{
	struct virtio_mmio_info devs[BUS_MAX_REGIONS];
	unsigned n = m ? virtio_mmio_list(m, devs, ARRAY_SIZE(devs)) : 0;
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	bool first = true;

	if (!f)
		return NULL;
	for (unsigned i = 0; i < n && i < ARRAY_SIZE(devs); i++) {
		char p[80];

		snprintf(p, sizeof(p), "virtio_mmio.device=%#llx@%#llx:%u",
			 (unsigned long long)devs[i].size, (unsigned long long)devs[i].base,
			 devs[i].irq);
		if (have && cmdline_has(have, p))
			continue;
		fprintf(f, "%s%s", first ? "" : " ", p);
		first = false;
	}
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}
