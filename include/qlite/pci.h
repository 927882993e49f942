/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI host bridge (configuration mechanism #1 at 0xcf8/0xcfc) and the
 * device registry: a PCI device (one function) fills a struct pci_device
 * and adds itself; the host assigns its slot, BAR addresses and INTx line
 * and maps the BARs on the buses as the guest programs them. A device may
 * ask for a fixed slot and function instead, which is how multi-function
 * devices (the PIIX3 at 00:01.0 and 00:01.1) are built: function 0 first.
 */
#ifndef QLITE_PCI_H
#define QLITE_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "machine.h"
#include "platform.h"

#define PCI_MAX_DEVICES		32	/* slots (PCI "device numbers") of bus 0 */
#define PCI_MAX_FUNCTIONS	8
#define PCI_MAX_BARS		6
#define PCI_CFG_SIZE		256

/* Where the host assigns BARs; both lie outside RAM and the legacy ports. */
#define PCI_MMIO_WINDOW_START	0xc0000000ULL
#define PCI_MMIO_WINDOW_END	IOAPIC_BASE	/* the IOAPIC above */
#define PCI_PIO_WINDOW_START	0xc000
#define PCI_PIO_WINDOW_END	0x10000

/*
 * INTx pin A..D of slot s is routed to IOAPIC GSI PCI_GSI_BASE + (s + pin) % PCI_GSI_COUNT,
 * whatever the function: functions of a slot share its four lines, as the MP table says.
 */
#define PCI_GSI_BASE		16
#define PCI_GSI_COUNT		8

/* The GSI of INTx pin (1 = A .. 4 = D) of slot: the MP table and ACPI's _PRT say the same. */
static inline unsigned pci_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_GSI_BASE + (slot + pin - 1) % PCI_GSI_COUNT;
}

/* The device's requester id on its DMA and MSIs (bus 0): what an IOMMU keys on. */
#define pci_requester_id(dev)	((uint16_t)((dev)->slot << 3 | (dev)->function))

struct pci_bar {
	uint64_t size;		/* power of two, 0 = unused; PIO >= 4, MMIO >= 4096 */
	bool io;		/* PIO BAR, else 32-bit non-prefetchable MMIO */
	const char *name;	/* bus region name, e.g. "e1000 mmio" */
	const struct bus_ops *ops;
	void *opaque;
};

struct pci_device {
	const char *name;
	uint8_t cfg[PCI_CFG_SIZE];	/* little-endian config space */
	uint8_t wmask[PCI_CFG_SIZE];	/* guest-writable bits beyond those the host manages */
	struct pci_bar bar[PCI_MAX_BARS];

	/*
	 * Where the device sits. pci_host_add_device() picks the next slot
	 * whose function 0 is free, unless the caller sets fixed after
	 * pci_device_init() with slot and function: then exactly there
	 * (-EBUSY when taken; function 0 of the slot must exist first).
	 */
	bool fixed;
	unsigned slot;
	unsigned function;

	/* Filled by pci_host_add_device(). */
	unsigned gsi;			/* INTx line, valid when cfg[PCI_INTERRUPT_PIN] != 0 */
	int bar_region[PCI_MAX_BARS];	/* bus region ids, -1 when unused */
	struct pci_host *host;

	/* Optional: called after a config write the host applied (capabilities, MSI). */
	void (*cfg_written)(struct pci_device *dev, unsigned offset, unsigned len);
	/*
	 * Optional: called, with the host's lock held, before a guest's config
	 * read of [offset, offset + len) is served from cfg[]: for bytes that
	 * are an access made at read time (virtio's PCI config access window).
	 */
	void (*cfg_read)(struct pci_device *dev, unsigned offset, unsigned len);
	/*
	 * Optional: BAR bar now decodes at base, or stopped decoding (base is
	 * BUS_UNMAPPED: decoding off, being sized, or left off the bus after an
	 * overlap). Called only on a change, with the host's lock held, from the
	 * config cycle that caused it and from pci_host_add_device() (the first
	 * mapping): move doorbells here (doorbell_move); calling pci_host_*()
	 * would deadlock.
	 */
	void (*bar_moved)(struct pci_device *dev, unsigned bar, uint64_t base);
	void *opaque;

	unsigned cap_end;		/* pci_add_cap(): the end of the last capability */
};

/*
 * Set the identity and header type 0 fields; wmask starts with command and
 * latency writable. bar[], the callbacks and opaque are left to the caller.
 */
void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor,
		     uint16_t device, uint32_t class_code, uint8_t irq_pin);

/*
 * Add a capability of len bytes (its ID and next pointer included) to the
 * list: placed after the last one, from 0x40, dword-aligned, linked at the
 * list's tail, with the status register's capability-list bit set. Sets the
 * ID and, for a vendor-specific capability (PCI_CAP_ID_VNDR), its length
 * byte; the caller fills the rest and its wmask at *offset. Call before
 * pci_host_add_device(). -ENOSPC when config space has no room, -EINVAL for
 * a length that cannot be a capability.
 */
int pci_add_cap(struct pci_device *dev, uint8_t id, unsigned len, unsigned *offset);

/* The host bridge registers itself as device 00.0 and claims 0xcf8..0xcff. */
struct pci_host *pci_host_create(struct machine *m);
void pci_host_destroy(struct pci_host *host);

/*
 * Give dev a slot (or the fixed place it asks for), its BAR addresses
 * (decoding on, as a BIOS leaves it) and an INTx GSI. Adding a function
 * other than 0 sets the multi-function bit of function 0's header type.
 */
int pci_host_add_device(struct pci_host *host, struct pci_device *dev);

/* The first slot from `from` on whose function 0 is free, or -ENOSPC. */
int pci_host_free_slot(struct pci_host *host, unsigned from);

/* Assert/deassert INTx of dev (level-triggered). */
void pci_irq_set(struct pci_device *dev, int level);

/* The registered functions, in slot then function order, for firmware tables and `check`. */
unsigned pci_host_nr_devices(const struct pci_host *host);
struct pci_device *pci_host_device(const struct pci_host *host, unsigned i);

/* Config space accessors used by the host and by unit tests. */
uint32_t pci_cfg_read(struct pci_device *dev, unsigned offset, unsigned len);
void pci_cfg_write(struct pci_device *dev, unsigned offset, unsigned len, uint32_t val);

#endif
