/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Plain MSI for a PCI function (PCI Local Bus 3.0, 6.8.1): one vector, a
 * 64-bit message address, no per-vector masking; the capability QEMU's
 * msi_init(dev, 0, 1, true, false) gives a device (edu). The device's
 * cfg_written callback calls pci_msi_cfg_written(); it asks
 * pci_msi_enabled() whether to signal by MSI instead of INTx (PCI: with
 * MSI enabled the function must not assert INTx) and raises the vector
 * with pci_msi_notify().
 *
 * The message goes through machine_msi_raise() from the thread that
 * notifies, so an IOMMU's interrupt remapping sees the function's
 * requester id. Multiple Message Enable stays 0 (read-only): one vector
 * is all the capability offers, so the data is never modified.
 *
 * Locking: struct pci_msi has its own lock. pci_msi_cfg_written() runs
 * under the PCI host's lock (host, then msi) and copies the enable bit,
 * address and data out of config space under it; pci_msi_notify() sends
 * that copy with no lock held, so a device may call it from any thread,
 * but not under a lock the IOMMU could need.
 */
#ifndef QLITE_PCI_MSI_H
#define QLITE_PCI_MSI_H

#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine.h"
#include "pci.h"

/* ID, next, Message Control, address low and high, data: 64-bit without mask bits. */
#define PCI_MSI_CAP_SIZE	(PCI_MSI_DATA_64 + 2)

struct pci_msi {
	struct pci_device *dev;
	struct machine *m;
	unsigned cap;			/* the capability's offset in config space */
	pthread_mutex_t lock;		/* everything below */
	bool enabled;			/* Message Control: MSI Enable */
	uint64_t addr;
	uint32_t data;
	uint64_t sent;			/* messages the machine took */
	uint64_t blocked;		/* messages the IOMMU refused */
};

/*
 * Add the capability to dev (before pci_host_add_device()), MSI disabled.
 * x is handed to the machine (machine_adopt) to free its lock: it must
 * outlive that, e.g. inside a device state from machine_alloc_device().
 * 0 or -errno, said once.
 */
int pci_msi_init(struct pci_msi *x, struct pci_device *dev, struct machine *m);

/* From the device's cfg_written: follows the guest's enable bit, address and data. */
void pci_msi_cfg_written(struct pci_msi *x, unsigned offset, unsigned len);

/* The guest enabled MSI: the function signals through it, not INTx. */
bool pci_msi_enabled(struct pci_msi *x);

/*
 * Send the vector's message: 0; -EAGAIN while MSI is disabled (nothing
 * sent: a plain-MSI function without mask bits has no pending state);
 * -EFAULT when the IOMMU blocked it.
 */
int pci_msi_notify(struct pci_msi *x);

/* Messages sent and blocked so far, for a device's report. */
void pci_msi_counts(struct pci_msi *x, uint64_t *sent, uint64_t *blocked);

#endif
