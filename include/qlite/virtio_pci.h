/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio PCI transport, modern only (virtio 1.2, 4.1): a device built on
 * the virtio core (virtio.h) becomes a PCI function 1af4:(1040 + device id),
 * revision 1, with one 32-bit memory BAR that holds the common config, ISR,
 * device config and notify structures and the MSI-X table and PBA, found by
 * the guest through the five virtio vendor capabilities and MSI-X.
 *
 * Each queue's notify address is a machine doorbell (KVM_IOEVENTFD, or a
 * userspace exit that rings the same eventfd) that follows the BAR; a ring
 * reaches the device as virtio_queue_kick() on the I/O thread. Interrupts go
 * out as MSI-X vectors (one per queue and one for config changes, irqfd or
 * KVM_SIGNAL_MSI), or, while MSI-X is off, as the ISR bits and INTx.
 */
#ifndef QLITE_VIRTIO_PCI_H
#define QLITE_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"
#include "pci.h"
#include "virtio.h"

/* What the device's `vdev` line says about its transport. */
struct virtio_pci_opts {
	bool ioeventfd;		/* `ioeventfd on`: doorbells in the kernel when KVM can */
	bool irqfd;		/* `irqfd on`: MSI-X vectors through KVM_IRQFD when KVM can */
	uint32_t class_code;	/* 0: from the device id (network, storage, ...) */
};

struct virtio_pci;

/*
 * Put vdev (virtio_device_init() done) on the machine's PCI bus and make
 * this transport its virtio_transport_ops. The transport's state is handed
 * to the machine, which releases it in reverse order of adoption: call this
 * after the device's own state is adopted, so vdev outlives the doorbells
 * that kick it. out (may be NULL) gets the transport, for tests and reports.
 * 0 or -errno, said once ("NAME: ...").
 */
int virtio_pci_attach(struct machine *m, struct virtio_device *vdev,
		      const struct virtio_pci_opts *o, struct virtio_pci **out);

/* The PCI function (slot, BAR region), e.g. for `qlite check`. */
struct pci_device *virtio_pci_function(struct virtio_pci *vp);
/* Are queue q's notifications taken by the kernel (no exit per kick)? */
bool virtio_pci_doorbell_in_kernel(const struct virtio_pci *vp, unsigned q);

#endif
