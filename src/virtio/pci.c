// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio PCI transport, modern only (virtio 1.2, 4.1); see
 * include/qlite/virtio_pci.h. Registers go to the core's entry points,
 * which validate what the driver hands them; this file checks offsets,
 * widths and indices, and routes notifications and interrupts.
 *
 * BAR0 (32-bit memory, what the PCI host implements), one page per part so
 * the MSI-X table and PBA share no page with other registers (PCI 3.0,
 * 6.8.2) and every part can be mapped on its own:
 *   0x0000  common config (0x3c bytes)
 *   0x1000  ISR (1 byte, read-to-clear)
 *   0x2000  device config (the device's config_size, at most a page)
 *   0x3000  notify: queue q at 0x3000 + 4 * q, a 16-bit write of q
 *   then    the MSI-X table, then the PBA, each from a page boundary
 *
 * A multiplier of 4 gives each queue an address of its own, so a doorbell
 * needs no data match and KVM can take each one in the kernel.
 *
 * Locking: vp->lock guards the select registers, the MSI-X vector numbers
 * and the ISR (with the INTx level that follows it). The core calls the
 * interrupt ops with the device's lock held, so the order is device lock,
 * then vp->lock, then the MSI-X and INTx locks; register handlers never
 * hold vp->lock while they call into the core. Config-space callbacks run
 * under the PCI host's lock, which comes before all of these.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "qlite/pci_msix.h"
#include "qlite/util.h"
#include "qlite/virtio_pci.h"

/* virtio 1.2 fields newer than some distributions' headers. */
#ifndef VIRTIO_PCI_COMMON_Q_NDATA
#define VIRTIO_PCI_COMMON_Q_NDATA	56
#endif
#ifndef VIRTIO_PCI_COMMON_Q_RESET
#define VIRTIO_PCI_COMMON_Q_RESET	58
#endif

#define VP_VENDOR		0x1af4
#define VP_DEVICE_BASE		0x1040	/* modern ids: 0x1040 + virtio device id */
#define VP_REVISION		1
#define VP_SUBSYS_ID		0x1100	/* QEMU's, so guests see what they see under QEMU */

#define VP_BAR			0
#define VP_PAGE			0x1000
#define VP_COMMON_OFF		0x0000
#define VP_COMMON_LEN		(VIRTIO_PCI_COMMON_Q_RESET + 2)
#define VP_ISR_OFF		0x1000
#define VP_ISR_LEN		1
#define VP_DEVICE_OFF		0x2000
#define VP_NOTIFY_OFF		0x3000
#define VP_NOTIFY_MULT		4
#define VP_NOTIFY_WIDTH		2	/* the driver writes the 16-bit queue index */

#define VP_ISR_QUEUE		0x1
#define VP_ISR_CONFIG		VIRTIO_PCI_ISR_CONFIG

/* The PCI config access capability's data window. */
#define VP_CFG_DATA		offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)

struct vp_queue {
	struct virtio_pci *vp;
	unsigned index;
	struct doorbell *db;
	uint16_t vector;		/* under vp->lock */
	_Atomic uint64_t late;		/* kicks that came past the doorbell, for the I/O thread */
};

struct virtio_pci {
	struct pci_device pci;
	struct pci_msix msix;
	struct machine *m;
	struct virtio_device *vdev;
	unsigned nr_queues;
	uint64_t msix_table, msix_pba;
	unsigned cfg_cap;		/* the PCI config access capability's offset */
	int late_efd;			/* rings the I/O thread for vp_queue.late */
	bool move_warned;

	pthread_mutex_t lock;		/* everything below, and the INTx level */
	uint32_t dfselect, gfselect;
	uint16_t queue_select;
	uint16_t config_vector;
	uint8_t isr;
	struct vp_queue *queues;	/* nr_queues; their vector fields too */
};

/* ---- the register map: one table names and dispatches the common config ---- */

enum vp_reg {
	R_DFSELECT, R_DF, R_GFSELECT, R_GF, R_MSIX, R_NUMQ, R_STATUS, R_CFGGEN,
	R_Q_SELECT, R_Q_SIZE, R_Q_MSIX, R_Q_ENABLE, R_Q_NOFF,
	R_Q_DESCLO, R_Q_DESCHI, R_Q_AVAILLO, R_Q_AVAILHI, R_Q_USEDLO, R_Q_USEDHI,
	R_Q_NDATA, R_Q_RESET, R_NR
};

static const struct vp_reg_desc {
	uint8_t offset;
	uint8_t size;
	const char *name;
} vp_regs[R_NR] = {
	[R_DFSELECT]	= { VIRTIO_PCI_COMMON_DFSELECT, 4, "COMMON_DFSELECT" },
	[R_DF]		= { VIRTIO_PCI_COMMON_DF, 4, "COMMON_DF" },
	[R_GFSELECT]	= { VIRTIO_PCI_COMMON_GFSELECT, 4, "COMMON_GFSELECT" },
	[R_GF]		= { VIRTIO_PCI_COMMON_GF, 4, "COMMON_GF" },
	[R_MSIX]	= { VIRTIO_PCI_COMMON_MSIX, 2, "COMMON_MSIX" },
	[R_NUMQ]	= { VIRTIO_PCI_COMMON_NUMQ, 2, "COMMON_NUMQ" },
	[R_STATUS]	= { VIRTIO_PCI_COMMON_STATUS, 1, "COMMON_STATUS" },
	[R_CFGGEN]	= { VIRTIO_PCI_COMMON_CFGGENERATION, 1, "COMMON_CFGGENERATION" },
	[R_Q_SELECT]	= { VIRTIO_PCI_COMMON_Q_SELECT, 2, "COMMON_Q_SELECT" },
	[R_Q_SIZE]	= { VIRTIO_PCI_COMMON_Q_SIZE, 2, "COMMON_Q_SIZE" },
	[R_Q_MSIX]	= { VIRTIO_PCI_COMMON_Q_MSIX, 2, "COMMON_Q_MSIX" },
	[R_Q_ENABLE]	= { VIRTIO_PCI_COMMON_Q_ENABLE, 2, "COMMON_Q_ENABLE" },
	[R_Q_NOFF]	= { VIRTIO_PCI_COMMON_Q_NOFF, 2, "COMMON_Q_NOFF" },
	[R_Q_DESCLO]	= { VIRTIO_PCI_COMMON_Q_DESCLO, 4, "COMMON_Q_DESCLO" },
	[R_Q_DESCHI]	= { VIRTIO_PCI_COMMON_Q_DESCHI, 4, "COMMON_Q_DESCHI" },
	[R_Q_AVAILLO]	= { VIRTIO_PCI_COMMON_Q_AVAILLO, 4, "COMMON_Q_AVAILLO" },
	[R_Q_AVAILHI]	= { VIRTIO_PCI_COMMON_Q_AVAILHI, 4, "COMMON_Q_AVAILHI" },
	[R_Q_USEDLO]	= { VIRTIO_PCI_COMMON_Q_USEDLO, 4, "COMMON_Q_USEDLO" },
	[R_Q_USEDHI]	= { VIRTIO_PCI_COMMON_Q_USEDHI, 4, "COMMON_Q_USEDHI" },
	[R_Q_NDATA]	= { VIRTIO_PCI_COMMON_Q_NDATA, 2, "COMMON_Q_NDATA" },
	[R_Q_RESET]	= { VIRTIO_PCI_COMMON_Q_RESET, 2, "COMMON_Q_RESET" },
};

/* The register holding byte offset of the common config, or R_NR. */
static enum vp_reg vp_reg_at(uint64_t offset)
{
	for (unsigned r = 0; r < R_NR; r++)
		if (offset - vp_regs[r].offset < vp_regs[r].size)
			return r;
	return R_NR;
}

/* The queue address registers come in lo/hi pairs, in enum virtq_area order. */
static bool vp_reg_is_addr(enum vp_reg r)
{
	return r >= R_Q_DESCLO && r <= R_Q_USEDHI;
}

enum vp_area { AREA_NONE, AREA_COMMON, AREA_ISR, AREA_DEVICE, AREA_NOTIFY, AREA_MSIX };

static bool in_part(uint64_t offset, uint64_t start, uint64_t len, uint64_t *rel)
{
	if (offset < start || offset - start >= len)
		return false;
	*rel = offset - start;
	return true;
}

/* Which structure of the BAR offset falls in, and where in it. */
static enum vp_area vp_area_at(const struct virtio_pci *vp, uint64_t offset, uint64_t *rel)
{
	if (in_part(offset, VP_COMMON_OFF, VP_COMMON_LEN, rel))
		return AREA_COMMON;
	if (in_part(offset, VP_ISR_OFF, VP_ISR_LEN, rel))
		return AREA_ISR;
	if (in_part(offset, VP_DEVICE_OFF, vp->vdev->info->config_size, rel))
		return AREA_DEVICE;
	if (in_part(offset, VP_NOTIFY_OFF, (uint64_t)vp->nr_queues * VP_NOTIFY_MULT, rel))
		return AREA_NOTIFY;
	*rel = offset;		/* pci_msix takes BAR offsets */
	if (offset >= vp->msix_table)
		return AREA_MSIX;
	return AREA_NONE;
}

/* ---- interrupts ---- */

/* A vector number as the driver may map it; the device reads NO_VECTOR back for others. */
static uint16_t vp_vector(const struct virtio_pci *vp, uint32_t v)
{
	return v < vp->msix.nr_vectors ? v : VIRTIO_MSI_NO_VECTOR;
}

/* Called with vp->lock held. */
static void vp_raise(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	/* 4.1.4.5: with MSI-X on, the vector alone; an unmapped one means no interrupt. */
	if (pci_msix_enabled(&vp->msix)) {
		if (vector != VIRTIO_MSI_NO_VECTOR)
			pci_msix_notify(&vp->msix, vector);
		return;
	}
	vp->isr |= isr_bit;
	pci_irq_set(&vp->pci, 1);
}

static void vp_queue_interrupt(struct virtio_device *vdev, unsigned q)
{
	struct virtio_pci *vp = vdev->transport_priv;

	if (q >= vp->nr_queues)
		return;
	pthread_mutex_lock(&vp->lock);
	vp_raise(vp, vp->queues[q].vector, VP_ISR_QUEUE);
	pthread_mutex_unlock(&vp->lock);
}

static void vp_config_interrupt(struct virtio_device *vdev)
{
	struct virtio_pci *vp = vdev->transport_priv;

	pthread_mutex_lock(&vp->lock);
	vp_raise(vp, vp->config_vector, VP_ISR_CONFIG);
	pthread_mutex_unlock(&vp->lock);
}

static const struct virtio_transport_ops vp_transport_ops = {
	.queue_interrupt = vp_queue_interrupt,
	.config_interrupt = vp_config_interrupt,
};

/* Reading the ISR clears it and lowers INTx (4.1.4.5); peek leaves both. */
static uint8_t vp_isr_read(struct virtio_pci *vp, bool peek)
{
	uint8_t isr;

	pthread_mutex_lock(&vp->lock);
	isr = vp->isr;
	if (!peek) {
		vp->isr = 0;
		pci_irq_set(&vp->pci, 0);
	}
	pthread_mutex_unlock(&vp->lock);
	return isr;
}

/* After a device reset: nothing mapped, nothing pending. */
static void vp_reset(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned q = 0; q < vp->nr_queues; q++)
		vp->queues[q].vector = VIRTIO_MSI_NO_VECTOR;
	vp->isr = 0;
	pci_irq_set(&vp->pci, 0);
	pthread_mutex_unlock(&vp->lock);
}

/* ---- notifications ---- */

/* A doorbell rang (I/O thread). */
static void vp_doorbell_rang(void *opaque, uint64_t rings)
{
	struct vp_queue *vq = opaque;

	virtio_queue_kick(vq->vp->vdev, vq->index, rings);
}

/*
 * A notify write the doorbell did not take (through the PCI config window,
 * or a doorbell left behind by a failed move): the kick still belongs on
 * the I/O thread, so count it there and ring it.
 */
static void vp_kick_late(struct virtio_pci *vp, unsigned q)
{
	uint64_t one = 1;

	atomic_fetch_add_explicit(&vp->queues[q].late, 1, memory_order_relaxed);
	/* Only a counter at 2^64 - 2 unread rings could fail: the I/O thread owes a read. */
	(void)!write(vp->late_efd, &one, sizeof(one));
}

static bool vp_late_kicks(void *opaque, int fd, uint32_t revents)
{
	struct virtio_pci *vp = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return true;
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		n = atomic_exchange_explicit(&vp->queues[q].late, 0, memory_order_relaxed);
		if (n)
			virtio_queue_kick(vp->vdev, q, n);
	}
	return true;
}

static void vp_notify_write(struct virtio_pci *vp, uint64_t rel, unsigned len)
{
	/* Only the driver's 16-bit write at a queue's own address (4.1.5.2). */
	if (len != VP_NOTIFY_WIDTH || rel % VP_NOTIFY_MULT)
		return;
	vp_kick_late(vp, rel / VP_NOTIFY_MULT);
}

/* The BAR moved: each queue's doorbell follows its notify address. Host lock held. */
static void vp_bar_moved(struct pci_device *dev, unsigned bar, uint64_t base)
{
	struct virtio_pci *vp = dev->opaque;

	if (bar != VP_BAR)
		return;
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		uint64_t addr = base == BUS_UNMAPPED ? BUS_UNMAPPED :
				base + VP_NOTIFY_OFF + (uint64_t)q * VP_NOTIFY_MULT;
		int ret = doorbell_move(vp->queues[q].db, addr);

		/* The notify region still takes the writes, through vp_kick_late. */
		if (ret < 0 && !vp->move_warned) {
			vp->move_warned = true;
			report_errno(ret, "%s: queue %u: cannot move its doorbell to %#llx; "
				     "kicks exit to qlite", vp->pci.name, q, (unsigned long long)addr);
		}
	}
}

/* ---- common config ---- */

/* A queue register as the core holds it; 0 for a queue that does not exist. */
static uint64_t vp_queue_get(struct virtio_pci *vp, unsigned q, enum vp_reg r)
{
	struct virtq *vq = virtio_queue(vp->vdev, q);
	uint64_t v = 0;

	if (!vq)
		return 0;
	virtio_device_lock(vp->vdev);
	if (r == R_Q_SIZE)
		v = vq->size;
	else if (r == R_Q_ENABLE)
		v = vq->enabled;
	else if (vp_reg_is_addr(r))
		v = vq->addr[(r - R_Q_DESCLO) / 2];
	virtio_device_unlock(vp->vdev);
	return v;
}

/* The transport's own registers (selects, vectors, queue count): true when r is one. */
static bool vp_own_get(struct virtio_pci *vp, enum vp_reg r, uint32_t *v)
{
	unsigned q;
	bool own = true;

	pthread_mutex_lock(&vp->lock);
	q = vp->queue_select;
	switch (r) {
	case R_DFSELECT:
		*v = vp->dfselect;
		break;
	case R_GFSELECT:
		*v = vp->gfselect;
		break;
	case R_MSIX:
		*v = vp->config_vector;
		break;
	case R_NUMQ:
		*v = vp->nr_queues;
		break;
	case R_Q_SELECT:
		*v = q;
		break;
	case R_Q_MSIX:
		*v = q < vp->nr_queues ? vp->queues[q].vector : VIRTIO_MSI_NO_VECTOR;
		break;
	case R_Q_NOFF:
		*v = q < vp->nr_queues ? q : 0;
		break;
	default:
		own = false;
	}
	pthread_mutex_unlock(&vp->lock);
	return own;
}

static bool vp_own_set(struct virtio_pci *vp, enum vp_reg r, uint32_t v)
{
	unsigned q;
	bool own = true;

	pthread_mutex_lock(&vp->lock);
	q = vp->queue_select;
	switch (r) {
	case R_DFSELECT:
		vp->dfselect = v;
		break;
	case R_GFSELECT:
		vp->gfselect = v;
		break;
	case R_MSIX:
		vp->config_vector = vp_vector(vp, v);
		break;
	case R_Q_SELECT:
		vp->queue_select = v;
		break;
	case R_Q_MSIX:
		if (q < vp->nr_queues)
			vp->queues[q].vector = vp_vector(vp, v);
		break;
	default:
		own = false;
	}
	pthread_mutex_unlock(&vp->lock);
	return own;
}

/* The select registers, read together: another vCPU may be changing them. */
struct vp_selects {
	uint32_t df, gf;
	unsigned q;
};

static struct vp_selects vp_selects(struct virtio_pci *vp)
{
	struct vp_selects s;

	pthread_mutex_lock(&vp->lock);
	s = (struct vp_selects){ vp->dfselect, vp->gfselect, vp->queue_select };
	pthread_mutex_unlock(&vp->lock);
	return s;
}

static uint32_t vp_common_get(struct virtio_pci *vp, enum vp_reg r)
{
	struct virtio_device *vdev = vp->vdev;
	struct vp_selects s;
	uint32_t v;

	if (vp_own_get(vp, r, &v))
		return v;
	s = vp_selects(vp);
	switch (r) {
	case R_DF:
		return virtio_get_device_features(vdev, s.df);
	case R_GF:
		return virtio_get_driver_features(vdev, s.gf);
	case R_STATUS:
		return virtio_get_status(vdev);
	case R_CFGGEN:
		return virtio_get_config_generation(vdev);
	case R_Q_SIZE:
	case R_Q_ENABLE:
		return vp_queue_get(vp, s.q, r);
	case R_Q_DESCLO:
	case R_Q_AVAILLO:
	case R_Q_USEDLO:
		return (uint32_t)vp_queue_get(vp, s.q, r);
	case R_Q_DESCHI:
	case R_Q_AVAILHI:
	case R_Q_USEDHI:
		return vp_queue_get(vp, s.q, r) >> 32;
	default:
		/* Q_NDATA and Q_RESET: their features (NOTIF_CONFIG_DATA, RING_RESET) are not offered. */
		return 0;
	}
}

/* The core's registers are written without vp->lock: the core may interrupt from inside. */
static void vp_common_set(struct virtio_pci *vp, enum vp_reg r, uint32_t v)
{
	struct virtio_device *vdev = vp->vdev;
	struct vp_selects s;
	unsigned shift;
	uint64_t addr;

	if (vp_own_set(vp, r, v))
		return;
	s = vp_selects(vp);
	switch (r) {
	case R_GF:
		virtio_set_driver_features(vdev, s.gf, v);
		break;
	case R_STATUS:
		virtio_set_status(vdev, v);
		if (!v)
			vp_reset(vp);
		break;
	case R_Q_SIZE:
		virtio_queue_set_size(vdev, s.q, v);
		break;
	case R_Q_ENABLE:
		/* 4.1.4.3.2: the driver never writes 0 (that is RING_RESET's, not offered). */
		if (v == 1)
			virtio_queue_set_enable(vdev, s.q, true);
		break;
	case R_Q_DESCLO:
	case R_Q_DESCHI:
	case R_Q_AVAILLO:
	case R_Q_AVAILHI:
	case R_Q_USEDLO:
	case R_Q_USEDHI:
		/* 4.1.3.1: each half of a 64-bit field may be written on its own. */
		shift = (r - R_Q_DESCLO) % 2 * 32;
		addr = vp_queue_get(vp, s.q, r);
		addr = (addr & ~(0xffffffffULL << shift)) | (uint64_t)v << shift;
		virtio_queue_set_addr(vdev, s.q, (r - R_Q_DESCLO) / 2, addr);
		break;
	default:
		break;	/* read-only */
	}
}

/*
 * 4.1.3.1: each field with its natural width; a 64-bit address also as one
 * aligned qword. Anything else reads 0 and writes nothing.
 */
static enum vp_reg vp_common_access(uint64_t rel, unsigned len)
{
	enum vp_reg r = vp_reg_at(rel);

	if (r == R_NR || rel != vp_regs[r].offset)
		return R_NR;
	if (len == vp_regs[r].size)
		return r;
	if (len == 8 && vp_reg_is_addr(r) && (r - R_Q_DESCLO) % 2 == 0)
		return r;
	return R_NR;
}

static void vp_common_read(struct virtio_pci *vp, uint64_t rel, void *data, unsigned len)
{
	enum vp_reg r = vp_common_access(rel, len);
	uint64_t v;

	if (r == R_NR)
		return;
	v = vp_common_get(vp, r);
	if (len == 8)
		v |= (uint64_t)vp_common_get(vp, r + 1) << 32;
	le_store(data, v, len);
}

static void vp_common_write(struct virtio_pci *vp, uint64_t rel, const void *data, unsigned len)
{
	enum vp_reg r = vp_common_access(rel, len);
	uint64_t v = le_load(data, len);

	if (r == R_NR)
		return;
	vp_common_set(vp, r, (uint32_t)v);
	if (len == 8)
		vp_common_set(vp, r + 1, v >> 32);
}

/* ---- the BAR ---- */

/* peek: no side effects (the ISR is not cleared), for the PCI config window. */
static void vp_read(struct virtio_pci *vp, uint64_t offset, void *data, unsigned len, bool peek)
{
	uint64_t rel;

	memset(data, 0, len);
	switch (vp_area_at(vp, offset, &rel)) {
	case AREA_COMMON:
		vp_common_read(vp, rel, data, len);
		break;
	case AREA_ISR:
		if (len == 1)
			*(uint8_t *)data = vp_isr_read(vp, peek);
		break;
	case AREA_DEVICE:
		virtio_config_read(vp->vdev, rel, data, len);
		break;
	case AREA_MSIX:
		pci_msix_bar_ops.read(&vp->msix, rel, data, len);
		break;
	default:
		break;	/* the notify region is write-only; gaps read 0 */
	}
}

static void vp_write(struct virtio_pci *vp, uint64_t offset, const void *data, unsigned len)
{
	uint64_t rel;

	switch (vp_area_at(vp, offset, &rel)) {
	case AREA_COMMON:
		vp_common_write(vp, rel, data, len);
		break;
	case AREA_DEVICE:
		virtio_config_write(vp->vdev, rel, data, len);
		break;
	case AREA_NOTIFY:
		vp_notify_write(vp, rel, len);
		break;
	case AREA_MSIX:
		pci_msix_bar_ops.write(&vp->msix, rel, data, len);
		break;
	default:
		break;	/* the ISR is read-only; gaps drop writes */
	}
}

static void vp_bar_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	vp_read(opaque, offset, data, len, false);
}

static void vp_bar_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	vp_write(opaque, offset, data, len);
}

static const char *vp_reg_name(void *opaque, uint64_t offset)
{
	struct virtio_pci *vp = opaque;
	enum vp_reg r;
	uint64_t rel;

	switch (vp_area_at(vp, offset, &rel)) {
	case AREA_COMMON:
		r = vp_reg_at(rel);
		return r < R_NR ? vp_regs[r].name : NULL;
	case AREA_ISR:
		return "ISR";
	case AREA_DEVICE:
		return "DEVICE_CFG";
	case AREA_NOTIFY:
		return "NOTIFY";
	case AREA_MSIX:
		return pci_msix_bar_ops.reg_name(&vp->msix, rel);
	default:
		return NULL;
	}
}

static const struct bus_ops vp_bar_ops = {
	.read = vp_bar_read,
	.write = vp_bar_write,
	.reg_name = vp_reg_name,
};

/* ---- config space: MSI-X and the PCI config access window (4.1.4.9) ---- */

/* The BAR access the window describes, if it is one: BAR0, 1/2/4 bytes, aligned, inside. */
static bool vp_window(const struct virtio_pci *vp, uint64_t *offset, unsigned *len)
{
	const uint8_t *cap = vp->pci.cfg + vp->cfg_cap;
	uint32_t length = le_load(cap + VIRTIO_PCI_CAP_LENGTH, 4);

	*offset = le_load(cap + VIRTIO_PCI_CAP_OFFSET, 4);
	*len = length;
	if (cap[VIRTIO_PCI_CAP_BAR] != VP_BAR || (length != 1 && length != 2 && length != 4))
		return false;
	return !(*offset % length) && *offset + length <= vp->pci.bar[VP_BAR].size;
}

/*
 * The window (4.1.4.9): a driver read of pci_cfg_data is a BAR read made
 * then, side effects included (reading the ISR through it acknowledges
 * the interrupt); a write to it is a BAR write. An invalid window reads 0
 * and drops writes.
 */
static void vp_cfg_read(struct pci_device *dev, unsigned offset, unsigned len)
{
	struct virtio_pci *vp = dev->opaque;
	unsigned data = vp->cfg_cap + VP_CFG_DATA;
	uint8_t *window = vp->pci.cfg + data;
	uint64_t where;
	unsigned n;

	if (offset >= data + 4 || offset + len <= data)
		return;
	memset(window, 0, 4);
	if (vp_window(vp, &where, &n))
		vp_read(vp, where, window, n, false);
}

static void vp_cfg_written(struct pci_device *dev, unsigned offset, unsigned len)
{
	struct virtio_pci *vp = dev->opaque;
	unsigned data = vp->cfg_cap + VP_CFG_DATA;
	uint64_t where;
	unsigned n;

	pci_msix_cfg_written(&vp->msix, offset, len);
	if (offset < data + 4 && offset + len > data && vp_window(vp, &where, &n))
		vp_write(vp, where, vp->pci.cfg + data, n);
}

/* ---- set-up ---- */

/* The class a driver-less guest sees in lspci, as QEMU gives it. */
static uint32_t vp_class(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000;	/* network, ethernet */
	case VIRTIO_ID_BLOCK:
		return 0x010000;	/* mass storage, SCSI */
	case VIRTIO_ID_CONSOLE:
		return 0x078000;	/* communication, other */
	default:
		return 0xff0000;	/* unassigned class */
	}
}

/* A virtio vendor capability of len bytes describing [offset, offset + length) of the BAR. */
static int vp_add_cap(struct virtio_pci *vp, uint8_t type, unsigned len, uint32_t offset,
		      uint32_t length, unsigned *pos)
{
	uint8_t *cap;
	int ret;

	ret = pci_add_cap(&vp->pci, PCI_CAP_ID_VNDR, len, pos);
	if (ret < 0)
		return ret;
	cap = vp->pci.cfg + *pos;
	cap[VIRTIO_PCI_CAP_CFG_TYPE] = type;
	cap[VIRTIO_PCI_CAP_BAR] = VP_BAR;
	le_store(cap + VIRTIO_PCI_CAP_OFFSET, offset, 4);
	le_store(cap + VIRTIO_PCI_CAP_LENGTH, length, 4);
	return 0;
}

static int vp_add_caps(struct virtio_pci *vp)
{
	uint32_t config_size = vp->vdev->info->config_size;
	unsigned pos;
	int ret;

	ret = vp_add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, sizeof(struct virtio_pci_cap),
			 VP_COMMON_OFF, VP_COMMON_LEN, &pos);
	if (ret < 0)
		return ret;
	ret = vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, sizeof(struct virtio_pci_notify_cap),
			 VP_NOTIFY_OFF, vp->nr_queues * VP_NOTIFY_MULT, &pos);
	if (ret < 0)
		return ret;
	le_store(vp->pci.cfg + pos + VIRTIO_PCI_NOTIFY_CAP_MULT, VP_NOTIFY_MULT, 4);
	ret = vp_add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, sizeof(struct virtio_pci_cap),
			 VP_ISR_OFF, VP_ISR_LEN, &pos);
	if (ret < 0)
		return ret;
	/* 4.1.4.6: only a device with a config space has the capability. */
	if (config_size) {
		ret = vp_add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, sizeof(struct virtio_pci_cap),
				 VP_DEVICE_OFF, config_size, &pos);
		if (ret < 0)
			return ret;
	}
	/* The window's bar, offset, length and data are the driver's to write. */
	ret = vp_add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, sizeof(struct virtio_pci_cfg_cap), 0, 0,
			 &vp->cfg_cap);
	if (ret < 0)
		return ret;
	pos = vp->cfg_cap;
	vp->pci.wmask[pos + VIRTIO_PCI_CAP_BAR] = 0xff;
	memset(vp->pci.wmask + pos + VIRTIO_PCI_CAP_OFFSET, 0xff, 8);
	memset(vp->pci.wmask + pos + VP_CFG_DATA, 0xff, 4);
	return 0;
}

static int vp_add_doorbells(struct virtio_pci *vp, bool in_kernel)
{
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		struct vp_queue *vq = &vp->queues[q];
		struct doorbell_desc d = {
			.name = vp->pci.name,
			.space = BUS_MMIO,
			.addr = BUS_UNMAPPED,	/* bar_moved places it with the BAR */
			.len = VP_NOTIFY_WIDTH,
			.in_kernel = in_kernel,
			.ring = vp_doorbell_rang,
			.opaque = vq,
		};
		int ret = machine_doorbell_add(vp->m, &d, &vq->db);

		if (ret < 0)
			return report_errno(ret, "%s: queue %u: cannot add its doorbell",
					    vp->pci.name, q);
	}
	return 0;
}

static void vp_release(void *state)
{
	struct virtio_pci *vp = state;

	if (vp->late_efd >= 0) {
		machine_unwatch_fd(vp->m, vp->late_efd);
		close(vp->late_efd);
	}
	for (unsigned q = 0; vp->queues && q < vp->nr_queues; q++)
		doorbell_remove(vp->queues[q].db);
	free(vp->queues);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}

static uint64_t pow2_roundup(uint64_t v)
{
	uint64_t p = VP_PAGE;

	while (p < v)
		p <<= 1;
	return p;
}

/* The MSI-X table and PBA after the notify region, and the BAR's size. */
static uint64_t vp_layout(struct virtio_pci *vp, unsigned nr_vectors)
{
	uint64_t notify_end = VP_NOTIFY_OFF + (uint64_t)vp->nr_queues * VP_NOTIFY_MULT;

	vp->msix_table = ALIGN_UP(notify_end, (uint64_t)VP_PAGE);
	vp->msix_pba = ALIGN_UP(vp->msix_table + PCI_MSIX_TABLE_SIZE(nr_vectors), (uint64_t)VP_PAGE);
	return pow2_roundup(vp->msix_pba + PCI_MSIX_PBA_SIZE(nr_vectors));
}

/* The exit report's entry (any thread): how kicks and interrupts travel, then the counters. */
static void vp_report(void *opaque, struct device_report *out)
{
	struct virtio_pci *vp = opaque;
	unsigned in_kernel = 0;
	const char *kicks, *irqs;

	for (unsigned q = 0; q < vp->nr_queues; q++)
		in_kernel += doorbell_in_kernel(vp->queues[q].db);
	kicks = virtio_kicks_path(in_kernel, vp->nr_queues);
	if (!pci_msix_enabled(&vp->msix))
		irqs = "interrupts injected from userspace INTx";
	else if (pci_msix_in_kernel(&vp->msix))
		irqs = "interrupts irqfd MSI-X";
	else
		irqs = "interrupts injected from userspace MSI-X";
	snprintf(out->path, sizeof(out->path), "%s, %s", kicks, irqs);
	virtio_device_report(vp->vdev, out);
}

static int vp_add_report(struct virtio_pci *vp, const struct virtio_pci_opts *o)
{
	char summary[256], own[128];
	int ret;

	virtio_device_describe(vp->vdev, own, sizeof(own));
	snprintf(summary, sizeof(summary),
		 "virtio-pci 00:%02x.%u, %u queue%s, ioeventfd %s, irqfd %s%s",
		 vp->pci.slot, vp->pci.function, vp->nr_queues, vp->nr_queues == 1 ? "" : "s",
		 o->ioeventfd ? "on" : "off", o->irqfd ? "on" : "off", own);
	ret = machine_add_report(vp->m, vp->vdev->info->name, summary, vp_report, vp);
	if (ret < 0)
		return report(ret, "%s: out of memory", vp->vdev->info->name);
	return 0;
}

int virtio_pci_attach(struct machine *m, struct virtio_device *vdev,
		      const struct virtio_pci_opts *o, struct virtio_pci **out)
{
	const struct virtio_device_info *info = vdev->info;
	unsigned nr_vectors;
	struct virtio_pci *vp;
	int ret;

	if (!m->pci)
		return report(-ENODEV, "%s: transport pci: the machine has no PCI host", info->name);
	if (info->config_size > VP_PAGE)
		return report(-EINVAL, "%s: config space of %u bytes (a page at most)", info->name,
			      info->config_size);
	vp = machine_alloc_device(m, sizeof(*vp), vp_release);
	if (!vp)
		return report(-ENOMEM, "%s: out of memory", info->name);
	/* From here the machine releases whatever was set up: returning is enough. */
	vp->late_efd = -1;
	pthread_mutex_init(&vp->lock, NULL);
	vp->m = m;
	vp->vdev = vdev;
	vp->nr_queues = virtio_queue_count(vdev);
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->queues = calloc(vp->nr_queues, sizeof(*vp->queues));
	if (!vp->queues)
		return report(-ENOMEM, "%s: out of memory", info->name);
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		vp->queues[q].vp = vp;
		vp->queues[q].index = q;
		vp->queues[q].vector = VIRTIO_MSI_NO_VECTOR;
	}

	/* One vector per queue and one for config changes, as Linux asks first. */
	nr_vectors = vp->nr_queues + 1;
	pci_device_init(&vp->pci, info->name, VP_VENDOR, VP_DEVICE_BASE + info->device_id,
			o->class_code ? o->class_code : vp_class(info->device_id), 1);
	vp->pci.cfg[PCI_REVISION_ID] = VP_REVISION;
	le_store(vp->pci.cfg + PCI_SUBSYSTEM_VENDOR_ID, VP_VENDOR, 2);
	le_store(vp->pci.cfg + PCI_SUBSYSTEM_ID, VP_SUBSYS_ID, 2);
	vp->pci.bar[VP_BAR] = (struct pci_bar){
		.size = vp_layout(vp, nr_vectors), .name = info->name,
		.ops = &vp_bar_ops, .opaque = vp,
	};
	vp->pci.cfg_written = vp_cfg_written;
	vp->pci.cfg_read = vp_cfg_read;
	vp->pci.bar_moved = vp_bar_moved;
	vp->pci.opaque = vp;

	ret = vp_add_caps(vp);
	if (ret < 0)
		return ret;
	ret = pci_msix_init(&vp->msix, &vp->pci, m, nr_vectors, VP_BAR, vp->msix_table,
			    vp->msix_pba, o->irqfd);
	if (ret < 0)
		return ret;

	vp->late_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vp->late_efd < 0)
		return report_errno(-errno, "%s: eventfd", info->name);
	ret = machine_watch_fd(m, vp->late_efd, POLLIN, vp_late_kicks, vp);
	if (ret < 0)
		return report_errno(ret, "%s: cannot watch its eventfd", info->name);
	ret = vp_add_doorbells(vp, o->ioeventfd);
	if (ret < 0)
		return ret;

	virtio_device_set_transport(vdev, &vp_transport_ops, vp);
	/* Last: the host maps the BAR, and bar_moved places the doorbells. */
	ret = pci_host_add_device(m->pci, &vp->pci);
	if (ret < 0)
		return ret;
	ret = vp_add_report(vp, o);
	if (ret < 0)
		return ret;
	if (out)
		*out = vp;
	return 0;
}

struct pci_device *virtio_pci_function(struct virtio_pci *vp)
{
	return &vp->pci;
}

bool virtio_pci_doorbell_in_kernel(const struct virtio_pci *vp, unsigned q)
{
	return q < vp->nr_queues && doorbell_in_kernel(vp->queues[q].db);
}
