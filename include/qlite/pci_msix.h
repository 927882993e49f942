/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MSI-X for a PCI function (PCI Local Bus 3.0, 6.8.2): the capability in
 * config space, and the vector table and pending bit array (PBA) inside one
 * of the device's memory BARs. The device's BAR handler hands accesses to
 * the table and the PBA to the functions below (or the whole BAR, when it
 * holds nothing else, with pci_msix_bar_ops); its cfg_written callback
 * calls pci_msix_cfg_written(). The device raises a vector with
 * pci_msix_notify(): delivered at once, or, while the vector or the
 * function is masked or MSI-X is off, recorded in the PBA and delivered
 * when that ends.
 *
 * Each vector is a machine interrupt event (KVM_IRQFD through an MSI route,
 * or KVM_SIGNAL_MSI) that is given the table entry's address/data, and the
 * function's requester id, when the vector becomes deliverable, so a guest
 * that programs masked vectors, as Linux does, costs one route update per
 * vector, not one per dword. Beside an IOMMU that remaps interrupts the
 * vectors are raised from userspace, each message translated as it goes.
 *
 * Locking: struct pci_msix has its own lock, taken by every function here.
 * pci_msix_cfg_written() runs under the PCI host's lock (host, then msix);
 * nothing here calls the host, so devices may call pci_msix_notify() from
 * any thread, under their own locks.
 */
#ifndef QLITE_PCI_MSIX_H
#define QLITE_PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "machine.h"
#include "pci.h"

#define PCI_MSIX_MAX_VECTORS	2048	/* the table size field has 11 bits */

/* Bytes the table and the PBA of n vectors take in the BAR (the PBA in whole qwords). */
#define PCI_MSIX_TABLE_SIZE(n)	((uint64_t)(n) * 16)
#define PCI_MSIX_PBA_SIZE(n)	(((uint64_t)(n) + 63) / 64 * 8)

struct pci_msix_vector;

struct pci_msix {
	struct pci_device *dev;
	struct machine *m;
	unsigned nr_vectors;
	unsigned cap;			/* the capability's offset in config space */
	uint64_t table_offset;		/* in the BAR */
	uint64_t pba_offset;
	pthread_mutex_t lock;		/* everything below */
	bool enabled;			/* Message Control: MSI-X Enable */
	bool masked;			/* Message Control: Function Mask */
	bool route_warned;		/* a route update failed: said once */
	struct pci_msix_vector *vec;
	uint64_t *pba;
};

/*
 * Add the MSI-X capability to dev (before pci_host_add_device()) for
 * nr_vectors vectors whose table and PBA sit at table_offset and pba_offset
 * (qword-aligned, inside memory BAR bar, not overlapping), and create an
 * interrupt event per vector, in the kernel when in_kernel and the machine
 * can (not under interrupt remapping). Vectors start masked, MSI-X disabled. x is handed to the machine
 * (machine_adopt), which destroys the events at teardown: x must outlive
 * that, e.g. inside a device state from machine_alloc_device(). Returns 0
 * or -errno, said once.
 */
int pci_msix_init(struct pci_msix *x, struct pci_device *dev, struct machine *m,
		  unsigned nr_vectors, unsigned bar, uint64_t table_offset, uint64_t pba_offset,
		  bool in_kernel);

/* From the device's cfg_written: follows the guest's MSI-X Enable and Function Mask. */
void pci_msix_cfg_written(struct pci_msix *x, unsigned offset, unsigned len);

/*
 * Table and PBA accesses, offsets from the table's or the PBA's start. Only
 * aligned 4- and 8-byte accesses inside them count, as the spec allows;
 * other reads return 0 and other writes are ignored, as are all writes to
 * the PBA (the spec leaves them undefined).
 */
void pci_msix_table_read(struct pci_msix *x, uint64_t offset, void *data, unsigned len);
void pci_msix_table_write(struct pci_msix *x, uint64_t offset, const void *data, unsigned len);
void pci_msix_pba_read(struct pci_msix *x, uint64_t offset, void *data, unsigned len);

/* For a BAR that holds only the table and the PBA: opaque is the struct pci_msix. */
extern const struct bus_ops pci_msix_bar_ops;

/* Raise vector (or make it pending); a vector past the table is ignored. */
void pci_msix_notify(struct pci_msix *x, unsigned vector);
/* The guest enabled MSI-X: the device signals through it, not INTx. */
bool pci_msix_enabled(struct pci_msix *x);
/* Do the vectors go through KVM_IRQFD (else KVM_SIGNAL_MSI from userspace)? */
bool pci_msix_in_kernel(const struct pci_msix *x);

#endif
