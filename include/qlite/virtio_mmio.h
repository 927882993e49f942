/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2): a 0x200-byte
 * register window and one interrupt line per device (src/virtio/mmio.c).
 * A device calls virtio_mmio_attach() from its vdev create when its
 * `transport` option is mmio; the transport then drives the device through
 * the core's entry points (include/qlite/virtio.h).
 *
 * Where devices go when the vdev line does not say:
 *   window  the first free of VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_STRIDE, up
 *           to the LAPIC: above the IOAPIC, so outside the PCI BAR window
 *           [0xc0000000, 0xfec00000) that the PCI host fills from its
 *           bottom without looking at the bus.
 *   line    the first free of ISA IRQs 5, 6, 7, 9, 10, 11: those no platform
 *           device claims and no conventional PC device (COM2's 3, the RTC's
 *           8, the FPU's 13, IDE's 14 and 15) would. An `irq` must be an ISA
 *           line (1-15): 16-23 are the PCI INTx lines.
 * Defaults are handed out in vdev order, so a line or window given
 * explicitly to a later device can collide with an earlier default: the
 * claim then fails with both owners named.
 *
 * Linux on x86 finds these devices only through its command line
 * (`virtio_mmio.device=0x200@ADDR:IRQ`, virtio_mmio_linux_params()); the
 * `qlite check --dtb` tree describes them as "virtio,mmio" nodes.
 */
#ifndef QLITE_VIRTIO_MMIO_H
#define QLITE_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "machine.h"
#include "virtio.h"

#define VIRTIO_MMIO_SIZE		0x200
#define VIRTIO_MMIO_BASE		0xfed00000ULL	/* the first default window */
#define VIRTIO_MMIO_STRIDE		0x1000ULL
#define VIRTIO_MMIO_MAGIC		0x74726976	/* "virt" */
#define VIRTIO_MMIO_VERSION_2		2
#define VIRTIO_MMIO_VENDOR		0x554d4551	/* "QEMU", as QEMU's devices say */

/* Register offsets (4.2.2); all 32-bit, config space from 0x100. */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

/* InterruptStatus bits */
#define VIRTIO_MMIO_INT_VRING		0x1
#define VIRTIO_MMIO_INT_CONFIG		0x2

/* addr and irq of struct virtio_mmio_opts: take the next free default. */
#define VIRTIO_MMIO_AUTO		0

struct virtio_mmio_opts {
	uint64_t addr;		/* the window's base, 0x200-aligned; VIRTIO_MMIO_AUTO */
	unsigned irq;		/* ISA IRQ 1-15; VIRTIO_MMIO_AUTO */
	bool ioeventfd;		/* QueueNotify through KVM_IOEVENTFD, where the machine has it */
	bool irqfd;		/* the interrupt through KVM_IRQFD, where the machine has it */
};

/*
 * The `addr` and `irq` options of a device that has a mmio transport, for
 * its struct vdev_opt_desc table (the overlap check then sees them).
 */
#define VIRTIO_MMIO_VDEV_OPTS							\
	{ "addr", VDEV_OPT_MMIO, .span = VIRTIO_MMIO_SIZE,			\
	  .help = "transport mmio: base of its 0x200-byte register window "	\
		  "(default: the first free of 0xfed00000, 0xfed01000, ...)" },	\
	{ "irq", VDEV_OPT_IRQ,							\
	  .help = "transport mmio: its ISA IRQ, 1-15 "				\
		  "(default: the first free of 5, 6, 7, 9, 10, 11)" }

/*
 * Put vdev (initialised, not yet used) on m behind a virtio-mmio window:
 * claims the window and the line, a doorbell per queue on QueueNotify
 * (matching the queue's index) and becomes vdev's transport. The state is
 * the machine's (machine_adopt), released before a device adopted earlier,
 * so vdev must outlive the machine's teardown up to there: adopt vdev's
 * owner first. 0 or -errno, said once.
 */
int virtio_mmio_attach(struct machine *m, struct virtio_device *vdev,
		       const struct virtio_mmio_opts *o);

/* What the guest is told about one device. */
struct virtio_mmio_info {
	const char *name;	/* the device's (virtio_device_info.name) */
	uint64_t base;
	uint64_t size;
	unsigned irq;
	uint32_t device_id;
};

/* Is the bus region a virtio-mmio window? Then *info describes it. */
bool virtio_mmio_region_info(const struct bus_region *r, struct virtio_mmio_info *info);
/* The machine's devices, by address: fills up to max, returns how many there are. */
unsigned virtio_mmio_list(struct machine *m, struct virtio_mmio_info *out, unsigned max);
/*
 * `virtio_mmio.device=0x200@ADDR:IRQ` for each device, space-separated,
 * leaving out those the command line `have` already names (NULL: none):
 * a malloc'ed string, "" without devices; NULL when out of memory.
 */
char *virtio_mmio_linux_params(struct machine *m, const char *have);

#endif
