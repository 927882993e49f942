// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vdev lines of virtio devices. The device sides live in src/virtio/,
 * which never sees the config language (tests/layout); here their options
 * are read, the device built, and handed to the transport the line names.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "qlite/config.h"
#include "qlite/net_vdev.h"
#include "qlite/util.h"
#include "qlite/vdev.h"
#include "qlite/virtio.h"
#include "qlite/virtio_blk.h"
#include "qlite/virtio_mmio.h"
#include "qlite/virtio_net.h"
#include "qlite/virtio_pci.h"

static int virtio_opt_bool(const struct vdev_spec *vs, const char *name, const char *key, bool *v)
{
	const char *s = vdev_opt_get(vs, key);

	if (s && config_parse_bool(s, v))
		return report(-EINVAL, "%s: %s: \"%s\" is not on or off", name, key, s);
	return 0;
}

/* The options every virtio device line has: transport, ioeventfd, irqfd (and addr, irq for mmio). */
static int virtio_attach(struct machine *m, const struct vdev_spec *vs, struct virtio_device *vdev)
{
	const char *name = vdev->info->name, *transport = vdev_opt_get(vs, "transport");
	const char *addr = vdev_opt_get(vs, "addr"), *irq = vdev_opt_get(vs, "irq");
	bool ioeventfd = true, irqfd = true;
	struct virtio_mmio_opts mo = { 0 };
	uint64_t v;
	int ret;

	if ((ret = virtio_opt_bool(vs, name, "ioeventfd", &ioeventfd)) ||
	    (ret = virtio_opt_bool(vs, name, "irqfd", &irqfd)))
		return ret;
	if (!transport || strcmp(transport, "mmio")) {
		struct virtio_pci_opts po = { .ioeventfd = ioeventfd, .irqfd = irqfd };

		if (addr || irq)
			return report(-EINVAL, "%s: addr and irq are options of transport mmio", name);
		return virtio_pci_attach(m, vdev, &po, NULL);
	}
	mo = (struct virtio_mmio_opts){ .ioeventfd = ioeventfd, .irqfd = irqfd };
	/* The parser checked both are numbers; the transport checks where they may go. */
	if (addr && !config_parse_u64(addr, &v))
		mo.addr = v;
	if (irq && !config_parse_u64(irq, &v))
		mo.irq = v;
	return virtio_mmio_attach(m, vdev, &mo);
}

#define VIRTIO_TRANSPORT_OPTS \
	{ "transport", VDEV_OPT_ENUM, .choices = "pci|mmio", \
	  .help = "virtio-pci modern (default) or virtio-mmio version 2" }, \
	{ "ioeventfd", VDEV_OPT_BOOL, \
	  .help = "queue notifications through KVM_IOEVENTFD, without an exit to qlite " \
		  "(default on)" }, \
	{ "irqfd", VDEV_OPT_BOOL, .help = "interrupts through KVM_IRQFD (default on)" }, \
	VIRTIO_MMIO_VDEV_OPTS

/* ---- vdev virtio-blk ---- */

static int virtio_blk_vdev_create(struct machine *m, const struct vdev_spec *vs)
{
	struct virtio_blk_opts o = { .file = vdev_opt_get(vs, "file"),
				     .serial = vdev_opt_get(vs, "serial") };
	const char *queues = vdev_opt_get(vs, "queues");
	struct virtio_blk *blk;
	uint64_t n = 1;
	int ret;

	if ((ret = virtio_opt_bool(vs, "virtio-blk", "readonly", &o.readonly)) ||
	    (ret = virtio_opt_bool(vs, "virtio-blk", "direct", &o.direct)))
		return ret;
	if (queues && (config_parse_u64(queues, &n) || !n || n > VIRTIO_BLK_MAX_QUEUES))
		return report(-EINVAL, "virtio-blk: queues %s: 1 to %u", queues,
			      VIRTIO_BLK_MAX_QUEUES);
	o.queues = n;
	ret = virtio_blk_create(m, &o, &blk);
	if (ret)
		return ret;
	return virtio_attach(m, vs, virtio_blk_device(blk));
}

static const struct vdev_opt_desc virtio_blk_opts[] = {
	{ "file", VDEV_OPT_IMAGE, .readonly_opt = "readonly", .required = true,
	  .help = "the raw disk image, a regular file (required); the guest sees its size "
		  "rounded down to 512-byte sectors" },
	{ "readonly", VDEV_OPT_BOOL,
	  .help = "open the image read-only and offer VIRTIO_BLK_F_RO: writes fail with IOERR "
		  "(default off)" },
	{ "serial", VDEV_OPT_STRING,
	  .help = "the ID string GET_ID returns, up to 20 printable characters (default empty)" },
	{ "direct", VDEV_OPT_BOOL,
	  .help = "O_DIRECT, past the host page cache; guest buffers not 512-byte aligned are "
		  "copied through a bounce buffer, never refused (default off)" },
	{ "queues", VDEV_OPT_NUMBER,
	  .help = "request queues, 1 to 64; more than 1 offers VIRTIO_BLK_F_MQ (default 1)" },
	VIRTIO_TRANSPORT_OPTS,
	{ .key = NULL }
};

const struct vdev_type virtio_blk_vdev = {
	.name = "virtio-blk",
	.help = "virtio block device (virtio 1.2, modern) on a raw image, served on the I/O "
		"thread's io_uring",
	.opts = virtio_blk_opts,
	.create = virtio_blk_vdev_create,
	/*
	 * Its DMA (and virtio-net's) is guest-physical, past any IOMMU, by the
	 * virtio spec: qlite never
	 * offers VIRTIO_F_ACCESS_PLATFORM (include/qlite/virtio.h, checked in
	 * src/virtio/device.c), and a device without it uses the physical
	 * addresses the driver gives it, untranslated (virtio 1.2, 6 Reserved
	 * Feature Bits), so Linux hands it guest-physical addresses even with
	 * intel_iommu=on, as it does QEMU's virtio devices by default.
	 * Its MSI-X messages still go through interrupt remapping (irq_event.c).
	 */
};

/* ---- vdev virtio-net ---- */

static int virtio_net_vdev_create(struct machine *m, const struct vdev_spec *vs)
{
	struct virtio_net_opts o = { .mtu = 0 };
	const char *mtu = vdev_opt_get(vs, "mtu");
	bool mrg = true;
	struct virtio_net *net;
	uint64_t v;
	int ret;

	if ((ret = virtio_opt_bool(vs, "virtio-net", "mrg-rxbuf", &mrg)))
		return ret;
	o.no_mrg_rxbuf = !mrg;
	if (mtu && (config_parse_u64(mtu, &v) || v < 68 || v > 65535))
		return report(-EINVAL, "virtio-net: mtu %s: 68 to 65535", mtu);
	if (mtu)
		o.mtu = v;
	ret = net_vdev_opts(m, vs, "virtio-net", &o.backend, o.mac);
	if (ret)
		return ret;
	/* The offloads need the header: on unless the line says otherwise (net_vdev.h). */
	if (o.backend.kind == NET_BACKEND_TAP && !vdev_opt_get(vs, "vnet-hdr"))
		o.backend.vnet_hdr = true;
	ret = virtio_net_create(m, &o, &net);
	if (ret)
		return ret;
	return virtio_attach(m, vs, virtio_net_device(net));
}

static const struct vdev_opt_desc virtio_net_opts[] = {
	NET_BACKEND_VDEV_OPTS,
	{ "mrg-rxbuf", VDEV_OPT_BOOL,
	  .help = "offer VIRTIO_NET_F_MRG_RXBUF: a received frame may span several receive "
		  "buffers (default on)" },
	{ "mtu", VDEV_OPT_NUMBER,
	  .help = "offer VIRTIO_NET_F_MTU with this MTU, 68 to 65535 (default: not offered)" },
	VIRTIO_TRANSPORT_OPTS,
	{ .key = NULL }
};

const struct vdev_type virtio_net_vdev = {
	.name = "virtio-net",
	.help = "virtio network device (virtio 1.2, modern): one receive and one transmit queue "
		"and a control queue, on a slirp, tap or socket backend",
	.opts = virtio_net_opts,
	.create = virtio_net_vdev_create,
};
