// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio PCI transport on the fake machine, through a tiny test device
 * (two queues, eight bytes of config; requests come back with their case
 * flipped) and a guest that probes and drives it as Linux's
 * virtio_pci_modern does: the capability walk, feature negotiation, queue
 * set-up, DRIVER_OK, kicks through the doorbells, MSI-X per queue and the
 * INTx + ISR fallback, a BAR that moves, the PCI config window, and hostile
 * accesses. The tests that kick run three ways: on a machine without KVM's
 * shortcuts, with the fake kernel's ioeventfd and irqfd, and with both
 * switched off by the device's options; only the exit count may differ.
 */
#include <errno.h>
#include <linux/virtio_pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_machine.h"
#include "report_capture.h"
#include "pci_guest.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/virtio_pci.h"
#include "virtq_driver.h"

#define RAM_SIZE	(1 << 20)
#define RING_BASE	0x10000		/* queue q's rings at RING_BASE + q * 0x10000 */
#define REQ		0x80000		/* request and response buffers */
#define RESP		0x81000
#define BAR0		0xc0000000ULL	/* the PCI host's first MMIO address */
#define NEW_BAR0	0xd0000000ULL
#define NR_QUEUES	2
#define NR_VECTORS	(NR_QUEUES + 1)
#define MSI_ADDR	0xfee00000u
#define MSI_DATA(v)	(0x30u + (v))
#define MSI_GSI0	24		/* the fake kernel's first MSI route */
#define NO_VECTOR	VIRTIO_MSI_NO_VECTOR
#define IO_WAIT_MS	1000

#define V1		VIRTIO_F_BIT(VIRTIO_F_VERSION_1)
#define S_ACK		VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_STATUS_DRIVER
#define S_FEAT		VIRTIO_STATUS_FEATURES_OK
#define S_OK		VIRTIO_STATUS_DRIVER_OK
#define S_LIVE		(S_ACK | S_DRIVER | S_FEAT | S_OK)

/* The PCI config header and the capabilities Linux reads. */
#define CFG_COMMAND	0x04
#define CFG_STATUS	0x06
#define CFG_REVISION	0x08
#define CFG_BAR0	0x10
#define CFG_SUBSYS_VEN	0x2c
#define CFG_SUBSYS_ID	0x2e
#define CMD_MEMORY	0x02
#define STATUS_INTX	0x08
#define CAP_ID_VNDR	0x09
#define CAP_ID_MSIX	0x11
#define MSIX_FLAGS	2
#define MSIX_ENABLE	0x8000u
#define CFG_CAP_DATA	offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)

/* How a test's machine does notifications and interrupts. */
struct mode {
	bool accel;		/* the fake kernel exists */
	bool ioeventfd, irqfd;	/* the device's options */
	bool remap;		/* an IOMMU remapping interrupts, installed first */
};

static const struct mode m_userspace = { .accel = false, .ioeventfd = true, .irqfd = true };
static const struct mode m_kernel = { .accel = true, .ioeventfd = true, .irqfd = true };
static const struct mode m_options_off = { .accel = true, .ioeventfd = false, .irqfd = false };
static const struct mode m_remapped = { .accel = true, .ioeventfd = true, .irqfd = true,
					.remap = true };

struct ctx {
	const struct mode *mode;
	struct fake_machine *fm;
	struct pci_host *host;
	struct guest_mem gm;
	struct virtio_device vdev;
	struct virtio_pci *vp;

	/* The device. */
	uint8_t config[8];
	unsigned activates, notifies;
	struct iovec out_iov[4], in_iov[4];
	struct virtq_elem e;

	/* The driver. */
	unsigned slot;
	uint64_t bar, bar_size;
	uint64_t common, isr, device, notify;	/* BAR offsets from the capabilities */
	uint32_t common_len, device_len, notify_len, mult;
	unsigned cfg_cap, msix_cap;
	uint64_t msix_table;
	struct test_ring ring[NR_QUEUES];
	uint64_t notify_addr[NR_QUEUES];

	struct report_capture log;	/* what report() printed */

	/* The remapping IOMMU (m_remapped): calls, last requester, what it makes of data. */
	unsigned remaps;
	uint16_t remap_sid;
	uint32_t remap_base;
	bool remap_block;
};

/* ---- the test device ---- */

static void tdev_config_read(struct virtio_device *vdev, uint32_t offset, void *data, unsigned len)
{
	struct ctx *c = vdev->priv;

	memcpy(data, c->config + offset, len);
}

static void tdev_config_write(struct virtio_device *vdev, uint32_t offset, const void *data,
			      unsigned len)
{
	struct ctx *c = vdev->priv;

	memcpy(c->config + offset, data, len);
}

/* Each request comes back in the writable part with its letters' case flipped. */
static void tdev_queue_notify(struct virtio_device *vdev, unsigned q)
{
	struct ctx *c = vdev->priv;
	struct virtq *vq = virtio_queue(vdev, q);
	char buf[64];

	c->notifies++;
	while (virtq_pop(vq, &c->e) > 0) {
		size_t n = dma_sg_from(&c->e.out, 0, buf, sizeof(buf));

		for (size_t i = 0; i < n; i++)
			buf[i] ^= 0x20;
		virtq_push(vq, &c->e, dma_sg_to(&c->e.in, 0, buf, n));
	}
	virtio_queue_flush(vdev, q);
}

static int tdev_activate(struct virtio_device *vdev)
{
	struct ctx *c = vdev->priv;

	c->activates++;
	return 0;
}

static const struct virtio_device_ops tdev_ops = {
	.config_read = tdev_config_read,
	.config_write = tdev_config_write,
	.queue_notify = tdev_queue_notify,
	.activate = tdev_activate,
};

static const uint16_t tdev_sizes[NR_QUEUES] = { 8, 16 };

static const struct virtio_device_info tdev_info = {
	.name = "test-dev",
	.device_id = VIRTIO_ID_RNG,
	.features = VIRTIO_F_BIT(3),
	.config_size = 8,
	.nr_queues = NR_QUEUES,
	.queue_max_sizes = tdev_sizes,
	.ops = &tdev_ops,
};

/* ---- the machine ---- */

/*
 * The IOMMU of m_remapped: MSI_DATA(v) (the guest's handle, say) becomes
 * vector remap_base + v; blocked messages are refused. No DMA goes through
 * it: virtio's is guest-physical (no ACCESS_PLATFORM).
 */
static int remap_dma(void *opaque, uint16_t sid, uint64_t iova, bool write, uint64_t *gpa,
		     uint64_t *len)
{
	(void)opaque;
	(void)sid;
	(void)iova;
	(void)write;
	(void)gpa;
	(void)len;
	fail_msg("virtio DMA went through the IOMMU");
	return -EFAULT;
}

static int remap_msi(void *opaque, uint16_t sid, uint64_t *addr, uint32_t *data)
{
	struct ctx *c = opaque;

	c->remaps++;
	c->remap_sid = sid;
	if (c->remap_block)
		return -EFAULT;
	*addr = MSI_ADDR;
	*data = c->remap_base + (*data - MSI_DATA(0));
	return 0;
}

static const struct machine_iommu_ops remap_ops = {
	.dma_translate = remap_dma,
	.msi_translate = remap_msi,
};

static struct virtio_pci_opts opts_of(const struct mode *mode)
{
	return (struct virtio_pci_opts){ .ioeventfd = mode->ioeventfd, .irqfd = mode->irqfd };
}

static int setup(void **state)
{
	const struct mode *mode = *state ? *state : &m_userspace;
	struct virtio_pci_opts o = opts_of(mode);
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->mode = mode;
	report_capture_start(&c->log);
	c->fm = mode->accel ? fake_machine_create_accel() : fake_machine_create();
	assert_int_equal(guarded_mem_init(&c->gm, RAM_SIZE), 0);
	c->fm->m.mem = &c->gm;
	c->host = pci_host_create(&c->fm->m);
	assert_non_null(c->host);
	/* As vdev_create_all does: the IOMMU exists before any device. */
	if (mode->remap) {
		/* Each vector's message to itself, unless a test retargets them. */
		c->remap_base = MSI_DATA(0);
		assert_int_equal(machine_set_iommu(&c->fm->m, &remap_ops, c, 0xfed90000, true), 0);
	}
	assert_int_equal(virtio_device_init(&c->vdev, &tdev_info, &c->gm, c), 0);
	virtq_elem_init(&c->e, c->out_iov, 4, c->in_iov, 4);
	memcpy(c->config, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(virtio_pci_attach(&c->fm->m, &c->vdev, &o, &c->vp), 0);
	c->slot = virtio_pci_function(c->vp)->slot;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	report_set_stream(NULL);
	pci_host_destroy(c->host);
	fake_machine_destroy(c->fm);	/* releases the transport: before the device goes */
	virtio_device_destroy(&c->vdev);
	guest_mem_destroy(&c->gm);
	report_capture_stop(&c->log);
	free(c);
	return 0;
}

static unsigned log_lines(struct ctx *c)
{
	return report_capture_lines(&c->log);
}

static bool logged(struct ctx *c, const char *text)
{
	return report_capture_has(&c->log, text);
}

static bool kernel_doorbells(const struct ctx *c)
{
	return c->mode->accel && c->mode->ioeventfd;
}

static bool kernel_vectors(const struct ctx *c)
{
	return c->mode->accel && c->mode->irqfd && !c->mode->remap;
}

/* ---- the guest ---- */

static uint32_t cfg_read(struct ctx *c, unsigned reg, unsigned len)
{
	return pci_guest_cfg_read(c->fm, c->slot, reg, len);
}

static void cfg_write(struct ctx *c, unsigned reg, unsigned len, uint32_t v)
{
	pci_guest_cfg_write(c->fm, c->slot, reg, len, v);
}

static uint64_t bar_read(struct ctx *c, uint64_t offset, unsigned len)
{
	return fake_mmio_read(c->fm, c->bar + offset, len);
}

static void bar_write(struct ctx *c, uint64_t offset, unsigned len, uint64_t v)
{
	fake_mmio_write(c->fm, c->bar + offset, len, v);
}

static uint64_t common_read(struct ctx *c, unsigned reg, unsigned len)
{
	return bar_read(c, c->common + reg, len);
}

static void common_write(struct ctx *c, unsigned reg, unsigned len, uint64_t v)
{
	bar_write(c, c->common + reg, len, v);
}

static uint8_t status(struct ctx *c)
{
	return common_read(c, VIRTIO_PCI_COMMON_STATUS, 1);
}

/* __pci_read_base(): decoding off, all-ones, read the mask back, restore. */
static uint64_t size_bar(struct ctx *c, unsigned bar)
{
	uint16_t cmd = cfg_read(c, CFG_COMMAND, 2);
	uint32_t orig, mask;

	cfg_write(c, CFG_COMMAND, 2, cmd & ~CMD_MEMORY);
	orig = cfg_read(c, CFG_BAR0 + 4 * bar, 4);
	cfg_write(c, CFG_BAR0 + 4 * bar, 4, 0xffffffff);
	mask = cfg_read(c, CFG_BAR0 + 4 * bar, 4);
	cfg_write(c, CFG_BAR0 + 4 * bar, 4, orig);
	cfg_write(c, CFG_COMMAND, 2, cmd);
	return mask ? (~(uint64_t)(mask & ~0xfu) + 1) & 0xffffffffu : 0;
}

/* vp_modern_map_capability()'s checks on one capability. */
static uint64_t map_cap(struct ctx *c, unsigned pos, uint32_t minlen, uint32_t align,
			uint32_t *len)
{
	uint32_t offset = cfg_read(c, pos + VIRTIO_PCI_CAP_OFFSET, 4);
	uint32_t length = cfg_read(c, pos + VIRTIO_PCI_CAP_LENGTH, 4);

	assert_int_equal(cfg_read(c, pos + VIRTIO_PCI_CAP_BAR, 1), 0);
	assert_true(length > 0 && length >= minlen);
	assert_int_equal(offset & (align - 1), 0);
	assert_true((uint64_t)offset + minlen <= c->bar_size);
	assert_true((uint64_t)offset + length <= c->bar_size);	/* all of it, not only minlen */
	if (len)
		*len = length;
	return offset;
}

/* virtio_pci_find_capability(): the first vendor capability of type, on a memory BAR. */
static unsigned find_virtio_cap(struct ctx *c, uint8_t type)
{
	for (unsigned pos = pci_guest_find_cap(c->fm, c->slot, CAP_ID_VNDR, 0); pos;
	     pos = pci_guest_find_cap(c->fm, c->slot, CAP_ID_VNDR, pos)) {
		unsigned bar = cfg_read(c, pos + VIRTIO_PCI_CAP_BAR, 1);

		if (cfg_read(c, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1) == type && bar < 6)
			return pos;
	}
	return 0;
}

/* vp_modern_probe(): identity, BAR, capabilities. */
static void probe(struct ctx *c)
{
	unsigned common, isr, notify, device;
	uint32_t bar0 = cfg_read(c, CFG_BAR0, 4);

	assert_int_equal(cfg_read(c, 0x00, 2), 0x1af4);
	assert_int_equal(cfg_read(c, 0x02, 2), 0x1040 + VIRTIO_ID_RNG);
	assert_int_equal(bar0 & 0x7, 0);		/* memory, 32-bit, not prefetchable */
	c->bar = bar0 & ~0xfu;
	c->bar_size = size_bar(c, 0);
	assert_true(c->bar_size >= 0x4000);
	assert_int_equal(cfg_read(c, CFG_BAR0, 4), bar0);	/* sizing left it where it was */

	common = find_virtio_cap(c, VIRTIO_PCI_CAP_COMMON_CFG);
	isr = find_virtio_cap(c, VIRTIO_PCI_CAP_ISR_CFG);
	notify = find_virtio_cap(c, VIRTIO_PCI_CAP_NOTIFY_CFG);
	device = find_virtio_cap(c, VIRTIO_PCI_CAP_DEVICE_CFG);
	c->cfg_cap = find_virtio_cap(c, VIRTIO_PCI_CAP_PCI_CFG);
	c->msix_cap = pci_guest_find_cap(c->fm, c->slot, CAP_ID_MSIX, 0);
	assert_true(common && isr && notify && device && c->cfg_cap && c->msix_cap);
	assert_int_equal(cfg_read(c, notify + VIRTIO_PCI_CAP_LEN, 1),
			 sizeof(struct virtio_pci_notify_cap));
	assert_int_equal(cfg_read(c, c->cfg_cap + VIRTIO_PCI_CAP_LEN, 1),
			 sizeof(struct virtio_pci_cfg_cap));

	c->common = map_cap(c, common, sizeof(struct virtio_pci_common_cfg), 4, &c->common_len);
	c->isr = map_cap(c, isr, 1, 1, NULL);
	c->mult = cfg_read(c, notify + VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
	c->notify = map_cap(c, notify, 2, 2, &c->notify_len);
	c->device = map_cap(c, device, 0, 4, &c->device_len);
	assert_int_equal(c->device_len, 8);
	/* MSI-X: one vector per queue and one for config, table in BAR0. */
	assert_int_equal((cfg_read(c, c->msix_cap + MSIX_FLAGS, 2) & 0x7ff) + 1, NR_VECTORS);
	assert_int_equal(cfg_read(c, c->msix_cap + 4, 4) & 7, 0);
	c->msix_table = cfg_read(c, c->msix_cap + 4, 4) & ~7u;
}

static void msix_program(struct ctx *c)
{
	for (unsigned v = 0; v < NR_VECTORS; v++) {
		uint64_t e = c->msix_table + 16 * v;

		bar_write(c, e + 0, 4, MSI_ADDR);
		bar_write(c, e + 4, 4, 0);
		bar_write(c, e + 8, 4, MSI_DATA(v));
		bar_write(c, e + 12, 4, 0);	/* unmasked */
	}
	cfg_write(c, c->msix_cap + MSIX_FLAGS, 2, MSIX_ENABLE);
}

static void setup_queue(struct ctx *c, unsigned q, bool msix)
{
	struct test_ring *r = &c->ring[q];
	uint16_t size, off;

	common_write(c, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	size = common_read(c, VIRTIO_PCI_COMMON_Q_SIZE, 2);
	assert_int_equal(size, tdev_sizes[q]);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	tr_init(r, &c->gm, size, RING_BASE + q * 0x10000);
	common_write(c, VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
	/* vp_iowrite64_twopart(): lo, then hi. */
	common_write(c, VIRTIO_PCI_COMMON_Q_DESCLO, 4, (uint32_t)r->desc);
	common_write(c, VIRTIO_PCI_COMMON_Q_DESCHI, 4, r->desc >> 32);
	common_write(c, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint32_t)r->avail);
	common_write(c, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, r->avail >> 32);
	common_write(c, VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint32_t)r->used);
	common_write(c, VIRTIO_PCI_COMMON_Q_USEDHI, 4, r->used >> 32);
	off = common_read(c, VIRTIO_PCI_COMMON_Q_NOFF, 2);
	assert_true((uint64_t)off * c->mult + 2 <= c->notify_len);
	c->notify_addr[q] = c->bar + c->notify + (uint64_t)off * c->mult;
	if (msix) {
		common_write(c, VIRTIO_PCI_COMMON_Q_MSIX, 2, q + 1);
		assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_MSIX, 2), q + 1);
	}
}

/* Negotiate features (3.1.1 steps 1-6); returns the status read back. */
static uint8_t negotiate(struct ctx *c, uint64_t features)
{
	uint64_t offered;

	common_write(c, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(status(c), 0);			/* vp_reset() waits for it */
	common_write(c, VIRTIO_PCI_COMMON_STATUS, 1, S_ACK);
	common_write(c, VIRTIO_PCI_COMMON_STATUS, 1, S_ACK | S_DRIVER);
	common_write(c, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	offered = common_read(c, VIRTIO_PCI_COMMON_DF, 4);
	common_write(c, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	offered |= common_read(c, VIRTIO_PCI_COMMON_DF, 4) << 32;
	assert_int_equal(offered, tdev_info.features | VIRTIO_CORE_FEATURES);
	common_write(c, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	common_write(c, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)features);
	common_write(c, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	common_write(c, VIRTIO_PCI_COMMON_GF, 4, features >> 32);
	common_write(c, VIRTIO_PCI_COMMON_STATUS, 1, S_ACK | S_DRIVER | S_FEAT);
	return status(c);
}

/* Linux's probe and virtio_dev_probe(): both queues up, DRIVER_OK; MSI-X or INTx. */
static void linux_init(struct ctx *c, bool msix)
{
	probe(c);
	assert_int_equal(negotiate(c, V1 | VIRTIO_F_BIT(3)), S_ACK | S_DRIVER | S_FEAT);
	if (msix) {
		msix_program(c);
		common_write(c, VIRTIO_PCI_COMMON_MSIX, 2, 0);
		assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_MSIX, 2), 0);
	}
	for (unsigned q = 0; q < NR_QUEUES; q++)
		setup_queue(c, q, msix);
	for (unsigned q = 0; q < NR_QUEUES; q++) {
		common_write(c, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
		common_write(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
		assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	}
	common_write(c, VIRTIO_PCI_COMMON_STATUS, 1, S_LIVE);
	assert_int_equal(status(c), S_LIVE);
	assert_int_equal(c->activates, 1);
	assert_true(virtio_feature_on(&c->vdev, 3));
}

static void kick(struct ctx *c, unsigned q)
{
	fake_mmio_write(c->fm, c->notify_addr[q], 2, q);
}

/* Make a request available on queue q: "text" out, room for the answer in. */
static void post_request(struct ctx *c, unsigned q, const char *text)
{
	struct test_ring *r = &c->ring[q];
	size_t n = strlen(text);

	memcpy(guest_mem_ptr(&c->gm, REQ, n), text, n);
	memset(guest_mem_ptr(&c->gm, RESP, 64), 0, 64);
	tr_set_desc(r, 0, REQ, n, VIRTQ_DESC_F_NEXT, 1);
	tr_set_desc(r, 1, RESP, 64, VIRTQ_DESC_F_WRITE, 0);
	tr_make_avail(r, 0);
}

/* MSIs that reached vector v since the last look, whichever path carried them. */
static unsigned msis(struct ctx *c, unsigned v)
{
	struct fake_machine *fm = c->fm;
	unsigned n = 0, kept = 0;

	if (kernel_vectors(c))
		return fake_irqfd_drain(fm, MSI_GSI0 + v);
	/* The recorded messages to v are taken out of the record. */
	for (unsigned i = 0; i < fm->nr_msi_calls; i++) {
		const struct fake_msi_call m = fm->msi_calls[i];

		assert_int_equal(m.addr, MSI_ADDR);
		if (m.data == MSI_DATA(v))
			n++;
		else
			fm->msi_calls[kept++] = m;
	}
	fm->nr_msi_calls = kept;
	return n;
}

static void forget_msis(struct ctx *c)
{
	for (unsigned v = 0; v < NR_VECTORS; v++)
		msis(c, v);
	assert_int_equal(c->fm->nr_msi_calls, 0);
}

static uint64_t kicks(struct ctx *c, unsigned q)
{
	struct virtq_stats st;

	assert_int_equal(virtio_queue_stats(&c->vdev, q, &st), 0);
	return st.kicks;
}

static unsigned intx_level(struct ctx *c)
{
	return c->fm->irq_level[virtio_pci_function(c->vp)->gsi];
}

/* ---- tests ---- */

static void test_identity_and_caps(void **state)
{
	struct ctx *c = *state;

	probe(c);
	/* Revision 1, class "unassigned" as QEMU gives an rng. */
	assert_int_equal(cfg_read(c, CFG_REVISION, 4), 0xff000001);
	assert_int_equal(cfg_read(c, CFG_SUBSYS_VEN, 2), 0x1af4);
	assert_int_equal(cfg_read(c, CFG_SUBSYS_ID, 2), 0x1100);
	assert_int_equal(cfg_read(c, 0x3d, 1), 1);			/* INTA# */
	assert_int_equal(c->bar, BAR0);
	assert_int_equal(c->mult, 4);
	assert_int_equal(c->notify_len, NR_QUEUES * 4);
	assert_int_equal(c->common_len, VIRTIO_PCI_COMMON_Q_RESET + 2);
	/* The parts do not overlap each other or the MSI-X table. */
	assert_true(c->common + c->common_len <= c->isr && c->isr < c->device &&
		    c->device + c->device_len <= c->notify &&
		    c->notify + c->notify_len <= c->msix_table);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_NUMQ, 2), NR_QUEUES);
	/* The window's fields are writable, the others are not. */
	cfg_write(c, c->cfg_cap + VIRTIO_PCI_CAP_CFG_TYPE, 1, 0x7);
	assert_int_equal(cfg_read(c, c->cfg_cap + VIRTIO_PCI_CAP_CFG_TYPE, 1),
			 VIRTIO_PCI_CAP_PCI_CFG);
	cfg_write(c, c->cfg_cap + VIRTIO_PCI_CAP_OFFSET, 4, 0x1234);
	assert_int_equal(cfg_read(c, c->cfg_cap + VIRTIO_PCI_CAP_OFFSET, 4), 0x1234);
	assert_int_equal(log_lines(c), 0);
}

static void test_linux_init(void **state)
{
	struct ctx *c = *state;

	linux_init(c, true);
	assert_true(virtio_queue(&c->vdev, 0)->enabled);
	assert_true(virtio_queue(&c->vdev, 1)->enabled);
	assert_int_equal(virtio_queue(&c->vdev, 1)->addr[VIRTQ_AREA_USED], c->ring[1].used);
	assert_int_equal(virtio_pci_doorbell_in_kernel(c->vp, 0), kernel_doorbells(c));
	assert_false(virtio_pci_doorbell_in_kernel(c->vp, NR_QUEUES));
	/* The device config through its capability. */
	assert_int_equal(bar_read(c, c->device + 4, 4), 0x08070605);
	bar_write(c, c->device, 2, 0xbeef);
	assert_int_equal(c->config[0], 0xef);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 0);
	assert_int_equal(log_lines(c), 0);
}

/* A request and its answer, the kick through the doorbell, the answer by its vector. */
static void test_round_trip_msix(void **state)
{
	struct ctx *c = *state;
	unsigned exits;

	linux_init(c, true);
	forget_msis(c);
	post_request(c, 1, "Hello");
	exits = fake_exits(c->fm);
	kick(c, 1);
	assert_int_equal(fake_exits(c->fm) - exits, kernel_doorbells(c) ? 0 : 1);
	assert_int_equal(c->notifies, 0);		/* not on the vCPU: on the I/O thread */
	assert_int_equal(fake_run_io(c->fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(c->notifies, 1);
	assert_int_equal(tr_used(&c->ring[1])->idx, 1);
	assert_int_equal(tr_used(&c->ring[1])->ring[0].len, 5);
	assert_memory_equal(guest_mem_ptr(&c->gm, RESP, 5), "hELLO", 5);
	assert_int_equal(msis(c, 2), 1);		/* queue 1's vector */
	assert_int_equal(msis(c, 1), 0);
	assert_int_equal(msis(c, 0), 0);
	/* MSI-X on: no ISR, no INTx. */
	assert_int_equal(bar_read(c, c->isr, 1), 0);
	assert_int_equal(intx_level(c), 0);
	assert_int_equal(kicks(c, 1), 1);
}

/* One vector per queue and one for config changes; NO_VECTOR silences one. */
static void test_msix_per_queue(void **state)
{
	struct ctx *c = *state;

	linux_init(c, true);
	forget_msis(c);
	post_request(c, 0, "a");
	kick(c, 0);
	assert_int_equal(fake_run_io(c->fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(msis(c, 1), 1);
	post_request(c, 1, "b");
	kick(c, 1);
	assert_int_equal(fake_run_io(c->fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(msis(c, 2), 1);
	assert_int_equal(msis(c, 1), 0);

	virtio_device_lock(&c->vdev);
	virtio_config_changed(&c->vdev);
	virtio_device_unlock(&c->vdev);
	assert_int_equal(msis(c, 0), 1);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 1);

	/* Queue 0 unmapped: its completions interrupt nobody, not even through INTx. */
	common_write(c, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	common_write(c, VIRTIO_PCI_COMMON_Q_MSIX, 2, NO_VECTOR);
	post_request(c, 0, "c");
	kick(c, 0);
	assert_int_equal(fake_run_io(c->fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(tr_used(&c->ring[0])->idx, 2);
	for (unsigned v = 0; v < NR_VECTORS; v++)
		assert_int_equal(msis(c, v), 0);
	assert_int_equal(bar_read(c, c->isr, 1), 0);
	assert_int_equal(intx_level(c), 0);
}

/*
 * Beside an IOMMU that remaps interrupts, as Linux programs every vector
 * with intel_iommu=on: the vectors stay in userspace although the kernel
 * could take them, and each message goes through the IOMMU as the
 * function's requester id, translated by the tables as they are when sent.
 */
static void test_msix_remapped(void **state)
{
	struct ctx *c = *state;
	struct fake_machine *fm = c->fm;

	c->remap_base = 0x50;
	linux_init(c, true);
	/* Programmed and unmasked, yet no vector has a route for KVM's irqfds. */
	assert_int_equal(fm->nr_routes, 0);
	fm->nr_msi_calls = 0;
	post_request(c, 1, "Hello");
	kick(c, 1);
	assert_int_equal(fake_run_io(fm, 1, IO_WAIT_MS), 1);
	assert_memory_equal(guest_mem_ptr(&c->gm, RESP, 5), "hELLO", 5);
	/* Queue 1's vector (2), remapped; nothing through an irqfd. */
	assert_int_equal(c->remaps, 1);
	assert_int_equal(c->remap_sid, pci_requester_id(virtio_pci_function(c->vp)));
	assert_int_equal(c->remap_sid, c->slot << 3);
	assert_int_equal(fm->nr_msi_calls, 1);
	assert_int_equal(fm->msi_calls[0].addr, MSI_ADDR);
	assert_int_equal(fm->msi_calls[0].data, 0x52);
	assert_int_equal(fake_irqfd_drain(fm, MSI_GSI0 + 2), 0);
	/* The guest retargets its IRTE without touching the device: the next message follows. */
	c->remap_base = 0x70;
	post_request(c, 0, "x");
	kick(c, 0);
	assert_int_equal(fake_run_io(fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(fm->nr_msi_calls, 2);
	assert_int_equal(fm->msi_calls[1].data, 0x71);
	/* Blocked by the IOMMU: not delivered, and the device carries on. */
	c->remap_block = true;
	post_request(c, 1, "y");
	kick(c, 1);
	assert_int_equal(fake_run_io(fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(tr_used(&c->ring[1])->idx, 2);
	assert_int_equal(c->remaps, 3);
	assert_int_equal(fm->nr_msi_calls, 2);
	assert_int_equal(fm->nr_stops, 0);
}

/* MSI-X off: the ISR says why, INTx is level until the ISR is read. */
static void test_intx_isr(void **state)
{
	struct ctx *c = *state;
	unsigned gsi = virtio_pci_function(c->vp)->gsi;

	linux_init(c, false);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_MSIX, 2), NO_VECTOR);
	post_request(c, 0, "intx");
	kick(c, 0);
	assert_int_equal(fake_run_io(c->fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(tr_used(&c->ring[0])->idx, 1);
	assert_int_equal(intx_level(c), 1);
	assert_true(cfg_read(c, CFG_STATUS, 2) & STATUS_INTX);
	assert_true(gsi >= PCI_GSI_BASE);
	/* vp_interrupt(): one read says "a queue", clears the ISR and lowers the line. */
	assert_int_equal(bar_read(c, c->isr, 1), 1);
	assert_int_equal(intx_level(c), 0);
	assert_false(cfg_read(c, CFG_STATUS, 2) & STATUS_INTX);
	assert_int_equal(bar_read(c, c->isr, 1), 0);

	virtio_device_lock(&c->vdev);
	virtio_config_changed(&c->vdev);
	virtio_device_unlock(&c->vdev);
	assert_int_equal(intx_level(c), 1);
	/* Only one-byte reads count (the ISR is 8 bits): the others leave it. */
	assert_int_equal(bar_read(c, c->isr, 4), 0);
	assert_int_equal(bar_read(c, c->isr, 1), VIRTIO_PCI_ISR_CONFIG);
	assert_int_equal(intx_level(c), 0);
	assert_int_equal(c->fm->nr_msi_calls, 0);

	/* A reset drops what is pending. */
	post_request(c, 0, "x");
	kick(c, 0);
	assert_int_equal(fake_run_io(c->fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(intx_level(c), 1);
	common_write(c, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(intx_level(c), 0);
	assert_int_equal(bar_read(c, c->isr, 1), 0);
}

/* Exactly one exit per kick without ioeventfd, none with it; the kicks all arrive. */
static void test_exit_counts(void **state)
{
	enum { N = 25 };
	struct ctx *c = *state;
	unsigned exits;
	uint64_t before = kicks(c, 0);

	linux_init(c, true);
	exits = fake_exits(c->fm);
	for (unsigned i = 0; i < N; i++)
		kick(c, 0);
	assert_int_equal(fake_exits(c->fm) - exits, kernel_doorbells(c) ? 0 : N);
	/* The eventfd adds the rings up: one callback delivers all of them. */
	assert_int_equal(fake_run_io(c->fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(kicks(c, 0) - before, N);
	assert_int_equal(kicks(c, 1), 0);
	/* And the other queue's doorbell is its own. */
	exits = fake_exits(c->fm);
	for (unsigned i = 0; i < N; i++)
		kick(c, 1);
	assert_int_equal(fake_exits(c->fm) - exits, kernel_doorbells(c) ? 0 : N);
	assert_int_equal(fake_run_io(c->fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(kicks(c, 1), N);
	assert_int_equal(kicks(c, 0) - before, N);
}

/* The guest moves BAR0: the doorbells follow it, the old address is nobody's. */
static void test_bar_move(void **state)
{
	struct ctx *c = *state;
	uint16_t cmd;
	unsigned exits;

	linux_init(c, true);
	forget_msis(c);
	cmd = cfg_read(c, CFG_COMMAND, 2);
	cfg_write(c, CFG_COMMAND, 2, cmd & ~CMD_MEMORY);
	if (kernel_doorbells(c))
		assert_int_equal(c->fm->nr_ioeventfds, 0);
	/* Decoding off: a kick is an exit to nowhere. */
	exits = fake_exits(c->fm);
	kick(c, 0);
	assert_int_equal(fake_exits(c->fm) - exits, 1);
	assert_int_equal(fake_run_io(c->fm, 1, 50), 0);

	cfg_write(c, CFG_BAR0, 4, NEW_BAR0);
	cfg_write(c, CFG_COMMAND, 2, cmd);
	if (kernel_doorbells(c)) {
		assert_int_equal(c->fm->nr_ioeventfds, NR_QUEUES);
		for (unsigned i = 0; i < NR_QUEUES; i++)
			assert_true(c->fm->ioeventfds[i].addr == NEW_BAR0 + c->notify ||
				    c->fm->ioeventfds[i].addr == NEW_BAR0 + c->notify + c->mult);
	}
	exits = fake_exits(c->fm);
	kick(c, 0);					/* the old address */
	assert_int_equal(fake_run_io(c->fm, 1, 50), 0);
	assert_int_equal(kicks(c, 0), 0);

	c->bar = NEW_BAR0;
	for (unsigned q = 0; q < NR_QUEUES; q++)
		c->notify_addr[q] = c->bar + c->notify + q * c->mult;
	post_request(c, 1, "moved");
	kick(c, 1);
	assert_int_equal(fake_exits(c->fm) - exits, kernel_doorbells(c) ? 1 : 2);
	assert_int_equal(fake_run_io(c->fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(kicks(c, 1), 1);
	assert_memory_equal(guest_mem_ptr(&c->gm, RESP, 5), "MOVED", 5);
	assert_int_equal(msis(c, 2), 1);
	/* The registers moved with it. */
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_STATUS, 1), S_LIVE);
	assert_int_equal(fake_mmio_read(c->fm, BAR0 + c->common + VIRTIO_PCI_COMMON_STATUS, 1),
			 0xff);
	assert_int_equal(log_lines(c), 0);
}

/* Bad widths, offsets and indices: reads give 0, writes change nothing. */
static void test_hostile_common(void **state)
{
	struct ctx *c = *state;

	probe(c);
	/* Fields at another width than their own, or not at their start. */
	common_write(c, VIRTIO_PCI_COMMON_STATUS, 2, S_ACK);
	common_write(c, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	assert_int_equal(status(c), 0);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_DF, 2), 0);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_DF + 1, 1), 0);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_NUMQ, 4), 0);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_NUMQ, 1), 0);
	common_write(c, VIRTIO_PCI_COMMON_Q_SELECT, 1, 1);
	common_write(c, VIRTIO_PCI_COMMON_Q_SELECT + 1, 1, 1);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	/* A qword only over a whole address, at its low half. */
	common_write(c, VIRTIO_PCI_COMMON_Q_DESCHI, 8, 0x1000);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
	common_write(c, VIRTIO_PCI_COMMON_Q_AVAILLO, 8, 0x123456789000ULL);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_AVAILLO, 8), 0x123456789000ULL);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_AVAILHI, 4), 0x1234);
	/* Past the structure, and the rest of its page. */
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_RESET + 2, 2), 0);
	assert_int_equal(bar_read(c, 0xff8, 8), 0);
	bar_write(c, 0xffc, 4, 0xffffffff);
	/* Read-only fields. */
	common_write(c, VIRTIO_PCI_COMMON_NUMQ, 2, 100);
	common_write(c, VIRTIO_PCI_COMMON_DF, 4, 0);
	common_write(c, VIRTIO_PCI_COMMON_CFGGENERATION, 1, 9);
	common_write(c, VIRTIO_PCI_COMMON_Q_NOFF, 2, 7);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_NUMQ, 2), NR_QUEUES);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_DF, 4),
			 (uint32_t)(tdev_info.features | VIRTIO_CORE_FEATURES));
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 0);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
	/* Feature words past the second read 0; selecting them changes nothing. */
	common_write(c, VIRTIO_PCI_COMMON_DFSELECT, 4, 0xffffffff);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_DF, 4), 0);
	common_write(c, VIRTIO_PCI_COMMON_GFSELECT, 4, 7);
	common_write(c, VIRTIO_PCI_COMMON_GF, 4, 0xffffffff);
	assert_int_equal(virtio_get_driver_features(&c->vdev, 0), 0);
	/* Vectors the table does not have read back as NO_VECTOR (Linux then fails the probe). */
	common_write(c, VIRTIO_PCI_COMMON_MSIX, 2, NR_VECTORS);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_MSIX, 2), NO_VECTOR);
	common_write(c, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	common_write(c, VIRTIO_PCI_COMMON_Q_MSIX, 2, 0x8000);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_MSIX, 2), NO_VECTOR);
	/* The features these registers need are not offered. */
	common_write(c, VIRTIO_PCI_COMMON_Q_RESET, 2, 1);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_RESET, 2), 0);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_NDATA, 2), 0);
	assert_int_equal(log_lines(c), 0);
}

/* queue_select past num_queues: every queue register reads 0 and takes nothing. */
static void test_hostile_queue_select(void **state)
{
	static const uint16_t sels[] = { NR_QUEUES, 0x100, 0xffff };
	struct ctx *c = *state;

	probe(c);
	assert_int_equal(negotiate(c, V1), S_ACK | S_DRIVER | S_FEAT);
	for (unsigned i = 0; i < ARRAY_SIZE(sels); i++) {
		common_write(c, VIRTIO_PCI_COMMON_Q_SELECT, 2, sels[i]);
		assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_SELECT, 2), sels[i]);
		common_write(c, VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
		common_write(c, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x1000);
		common_write(c, VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);
		common_write(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
		assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
		assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
		assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0);
		assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
		assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_MSIX, 2), NO_VECTOR);
	}
	/* None of it reached the queues that exist, nor broke the device. */
	for (unsigned q = 0; q < NR_QUEUES; q++) {
		assert_int_equal(virtio_queue(&c->vdev, q)->size, tdev_sizes[q]);
		assert_int_equal(virtio_queue(&c->vdev, q)->addr[VIRTQ_AREA_DESC], 0);
		assert_false(virtio_queue(&c->vdev, q)->enabled);
	}
	assert_int_equal(status(c), S_ACK | S_DRIVER | S_FEAT);
	assert_int_equal(log_lines(c), 0);
}

/* A queue enabled over addresses outside RAM: the device needs a reset, said once. */
static void test_hostile_queue_addresses(void **state)
{
	struct ctx *c = *state;

	probe(c);
	assert_int_equal(negotiate(c, V1), S_ACK | S_DRIVER | S_FEAT);
	common_write(c, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	common_write(c, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0);
	common_write(c, VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0x10);	/* 64 GiB: no RAM there */
	common_write(c, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, 0x1000);
	common_write(c, VIRTIO_PCI_COMMON_Q_USEDLO, 4, 0x2000);
	common_write(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(status(c), S_ACK | S_DRIVER | S_FEAT | VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(log_lines(c), 1);
	assert_true(logged(c, "test-dev: queue 0: "));
	assert_true(logged(c, "device needs reset"));
	/* Writing 0 to queue_enable is not how a queue stops here (no RING_RESET). */
	common_write(c, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	common_write(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0);
	assert_false(virtio_queue(&c->vdev, 1)->enabled);
	/* The driver's reset brings the device back. */
	common_write(c, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(status(c), 0);
	common_write(c, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	assert_int_equal(common_read(c, VIRTIO_PCI_COMMON_Q_DESCHI, 4), 0);
	assert_int_equal(log_lines(c), 1);
}

/* The rest of the BAR: ISR and device config widths, notify writes that are no kick, gaps. */
static void test_hostile_bar(void **state)
{
	struct ctx *c = *state;
	unsigned exits;

	linux_init(c, true);
	/* Device config: the core checks offset and length against its size. */
	assert_int_equal(bar_read(c, c->device + 6, 4), 0);
	assert_int_equal(bar_read(c, c->device + 8, 1), 0);
	bar_write(c, c->device + 6, 4, 0xffffffff);
	bar_write(c, c->device + 8, 1, 0xff);
	assert_memory_equal(c->config, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	/* The ISR cannot be written. */
	bar_write(c, c->isr, 1, 0xff);
	assert_int_equal(bar_read(c, c->isr, 1), 0);
	/*
	 * Notify writes the doorbell does not take: not 16 bits, not at a
	 * queue's address, past the last queue. No kick, one exit each.
	 */
	exits = fake_exits(c->fm);
	fake_mmio_write(c->fm, c->notify_addr[0], 4, 0);
	fake_mmio_write(c->fm, c->notify_addr[0], 1, 0);
	fake_mmio_write(c->fm, c->notify_addr[0] + 2, 2, 0);
	fake_mmio_write(c->fm, c->notify_addr[1] + c->mult, 2, 2);
	assert_int_equal(fake_exits(c->fm) - exits, 4);
	assert_int_equal(fake_run_io(c->fm, 1, 50), 0);
	assert_int_equal(kicks(c, 0) + kicks(c, 1), 0);
	assert_int_equal(bar_read(c, c->notify, 2), 0);
	/* Gaps between the parts, and the MSI-X table's own checks. */
	assert_int_equal(bar_read(c, c->isr + 1, 1), 0);
	assert_int_equal(bar_read(c, c->device + 0x800, 4), 0);
	assert_int_equal(bar_read(c, c->bar_size - 8, 8), 0);
	bar_write(c, c->bar_size - 8, 8, ~0ULL);
	assert_int_equal(bar_read(c, c->msix_table + 1, 1), 0);
	assert_int_equal(bar_read(c, c->msix_table + 8, 4), MSI_DATA(0));
	assert_int_equal(status(c), S_LIVE);
	assert_int_equal(log_lines(c), 0);
}

/* The PCI config access capability: BAR accesses through config space. */
static void test_cfg_window(void **state)
{
	struct ctx *c = *state;
	unsigned cap, data;

	probe(c);
	cap = c->cfg_cap;
	data = cap + CFG_CAP_DATA;
	/* SeaBIOS's order: bar, offset, length, then the data. */
	cfg_write(c, cap + VIRTIO_PCI_CAP_BAR, 1, 0);
	cfg_write(c, cap + VIRTIO_PCI_CAP_OFFSET, 4, c->common + VIRTIO_PCI_COMMON_NUMQ);
	cfg_write(c, cap + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	assert_int_equal(cfg_read(c, data, 4), NR_QUEUES);
	/* A write through it is a BAR write. */
	cfg_write(c, cap + VIRTIO_PCI_CAP_OFFSET, 4, c->common + VIRTIO_PCI_COMMON_STATUS);
	cfg_write(c, cap + VIRTIO_PCI_CAP_LENGTH, 4, 1);
	cfg_write(c, data, 1, S_ACK);
	assert_int_equal(status(c), S_ACK);
	cfg_write(c, cap + VIRTIO_PCI_CAP_LENGTH, 4, 1);
	assert_int_equal(cfg_read(c, data, 1), S_ACK);
	/* The read is made when the data is read, not when the window was pointed. */
	common_write(c, VIRTIO_PCI_COMMON_STATUS, 1, S_ACK | S_DRIVER);
	assert_int_equal(cfg_read(c, data, 1), S_ACK | S_DRIVER);

	/* Not BAR0, a length that is no access, misaligned, past the BAR: data reads 0. */
	cfg_write(c, cap + VIRTIO_PCI_CAP_BAR, 1, 1);
	assert_int_equal(cfg_read(c, data, 4), 0);
	cfg_write(c, cap + VIRTIO_PCI_CAP_BAR, 1, 0);
	assert_int_equal(cfg_read(c, data, 1), S_ACK | S_DRIVER);
	cfg_write(c, cap + VIRTIO_PCI_CAP_LENGTH, 4, 3);
	assert_int_equal(cfg_read(c, data, 4), 0);
	cfg_write(c, data, 1, 0);				/* dropped: no reset */
	assert_int_equal(status(c), S_ACK | S_DRIVER);
	cfg_write(c, cap + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	cfg_write(c, cap + VIRTIO_PCI_CAP_OFFSET, 4, c->common + VIRTIO_PCI_COMMON_STATUS);
	assert_int_equal(cfg_read(c, data, 4), 0);
	cfg_write(c, cap + VIRTIO_PCI_CAP_OFFSET, 4, c->bar_size);
	assert_int_equal(cfg_read(c, data, 4), 0);
	cfg_write(c, cap + VIRTIO_PCI_CAP_OFFSET, 4, 0xfffffffe);
	assert_int_equal(cfg_read(c, data, 4), 0);
	assert_int_equal(log_lines(c), 0);
}

/*
 * Through the window, a read is made when pci_cfg_data is read: reading the ISR acknowledges
 * the interrupt, and moving the window reads nothing. A notify still kicks on the I/O thread.
 */
static void test_cfg_window_isr_and_notify(void **state)
{
	struct ctx *c = *state;
	unsigned cap, data;

	linux_init(c, false);
	cap = c->cfg_cap;
	data = cap + CFG_CAP_DATA;
	post_request(c, 0, "win");
	cfg_write(c, cap + VIRTIO_PCI_CAP_BAR, 1, 0);
	cfg_write(c, cap + VIRTIO_PCI_CAP_OFFSET, 4, c->notify);
	cfg_write(c, cap + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	cfg_write(c, data, 2, 0);
	assert_int_equal(c->notifies, 0);
	assert_int_equal(fake_run_io(c->fm, 1, IO_WAIT_MS), 1);
	assert_int_equal(kicks(c, 0), 1);
	assert_int_equal(tr_used(&c->ring[0])->idx, 1);
	assert_int_equal(intx_level(c), 1);

	cfg_write(c, cap + VIRTIO_PCI_CAP_OFFSET, 4, c->isr);
	cfg_write(c, cap + VIRTIO_PCI_CAP_LENGTH, 4, 1);
	assert_int_equal(intx_level(c), 1);		/* pointing is no access */
	assert_int_equal(cfg_read(c, cap + VIRTIO_PCI_CAP_LENGTH, 4), 1);
	assert_int_equal(intx_level(c), 1);		/* nor is reading the pointer */
	assert_int_equal(cfg_read(c, data, 1), 1);
	assert_int_equal(intx_level(c), 0);
	assert_int_equal(cfg_read(c, data, 1), 0);
	assert_int_equal(bar_read(c, c->isr, 1), 0);
}

/* Every register has its name in the exit report. */
static void test_reg_names(void **state)
{
	static const struct { uint64_t offset; const char *name; } names[] = {
		{ VIRTIO_PCI_COMMON_DFSELECT, "COMMON_DFSELECT" },
		{ VIRTIO_PCI_COMMON_GF + 2, "COMMON_GF" },
		{ VIRTIO_PCI_COMMON_MSIX, "COMMON_MSIX" },
		{ VIRTIO_PCI_COMMON_STATUS, "COMMON_STATUS" },
		{ VIRTIO_PCI_COMMON_CFGGENERATION, "COMMON_CFGGENERATION" },
		{ VIRTIO_PCI_COMMON_Q_SELECT, "COMMON_Q_SELECT" },
		{ VIRTIO_PCI_COMMON_Q_ENABLE, "COMMON_Q_ENABLE" },
		{ VIRTIO_PCI_COMMON_Q_DESCHI, "COMMON_Q_DESCHI" },
		{ VIRTIO_PCI_COMMON_Q_USEDLO, "COMMON_Q_USEDLO" },
		{ VIRTIO_PCI_COMMON_Q_RESET, "COMMON_Q_RESET" },
		{ VIRTIO_PCI_COMMON_Q_RESET + 2, NULL },
		{ 0x1000, "ISR" },
		{ 0x1001, NULL },
		{ 0x2000, "DEVICE_CFG" },
		{ 0x2007, "DEVICE_CFG" },
		{ 0x2008, NULL },
		{ 0x3000, "NOTIFY" },
		{ 0x3004, "NOTIFY" },
		{ 0x3008, NULL },
	};
	struct ctx *c = *state;
	const struct bus_region *r;

	probe(c);
	r = bus_lookup(c->fm->m.bus[BUS_MMIO], c->bar, 1);
	assert_non_null(r);
	assert_string_equal(r->name, "test-dev");
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		const char *got = r->ops->reg_name(r->opaque, names[i].offset);

		if (!names[i].name)
			assert_null(got);
		else
			assert_string_equal(got, names[i].name);
	}
	assert_string_equal(r->ops->reg_name(r->opaque, c->msix_table + 8), "MSIX_DATA");
	assert_string_equal(r->ops->reg_name(r->opaque, c->msix_table + 16 * 2 + 12),
			    "MSIX_VECTOR_CTRL");
	assert_string_equal(r->ops->reg_name(r->opaque, c->msix_table + 0x1000), "MSIX_PBA");
}

/* Attach's own checks: a machine without PCI, a config space that does not fit. */
static void test_attach_errors(void **state)
{
	struct ctx *c = *state;
	struct virtio_pci_opts o = opts_of(c->mode);
	struct virtio_device_info info = tdev_info;
	struct fake_machine *bare = fake_machine_create();
	struct virtio_device big;

	assert_int_equal(virtio_pci_attach(&bare->m, &c->vdev, &o, NULL), -ENODEV);
	assert_true(logged(c, "qlite: test-dev: transport pci: the machine has no PCI host\n"));
	fake_machine_destroy(bare);

	info.config_size = 0x1001;
	assert_int_equal(virtio_device_init(&big, &info, &c->gm, c), 0);
	assert_int_equal(virtio_pci_attach(&c->fm->m, &big, &o, NULL), -EINVAL);
	assert_true(logged(c, "test-dev: config space of 4097 bytes (a page at most)"));
	assert_int_equal(log_lines(c), 2);
	virtio_device_destroy(&big);
}

/* Each test that kicks or interrupts, on each path. */
#define ALL_PATHS(t)								\
	{ #t, t, setup, teardown, (void *)&m_userspace },			\
	{ #t " (in kernel)", t, setup, teardown, (void *)&m_kernel },		\
	{ #t " (options off)", t, setup, teardown, (void *)&m_options_off }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_and_caps, setup, teardown),
		ALL_PATHS(test_linux_init),
		ALL_PATHS(test_round_trip_msix),
		ALL_PATHS(test_msix_per_queue),
		{ "test_msix_remapped", test_msix_remapped, setup, teardown, (void *)&m_remapped },
		{ "test_round_trip_msix (remapped)", test_round_trip_msix, setup, teardown,
		  (void *)&m_remapped },
		ALL_PATHS(test_intx_isr),
		ALL_PATHS(test_exit_counts),
		ALL_PATHS(test_bar_move),
		cmocka_unit_test_setup_teardown(test_hostile_common, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_queue_select, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_queue_addresses, setup, teardown),
		ALL_PATHS(test_hostile_bar),
		cmocka_unit_test_setup_teardown(test_cfg_window, setup, teardown),
		ALL_PATHS(test_cfg_window_isr_and_notify),
		cmocka_unit_test_setup_teardown(test_reg_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
