// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci.c - PCI configuration mechanism #1 (0xcf8/0xcfc) from ring 3, the
 * enumeration of bus 0, BARs and capabilities, and the `pci` scenario.
 *
 * Enumeration follows Linux (pci_scan_slot): function 0 of each slot is
 * probed, and functions 1..7 only when function 0 exists and says it is
 * multi-function in its header type. A device a VMM puts at 00:01.1 without
 * a multi-function 00:01.0 is therefore not found here, as Linux would not
 * find it either.
 *
 * Each configuration cycle is two PIO exits (address, then data).
 */
#include "guest.h"

#define PCI_ADDR_PORT		0xcf8
#define PCI_DATA_PORT		0xcfc
#define PCI_ENABLE		0x80000000u

#define PCI_VENDOR		0x00
#define PCI_DEVICE		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_CLASS_REV		0x08
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_CAP_PTR		0x34
#define PCI_STATUS_CAP_LIST	0x10
#define HDR_MULTI_FUNCTION	0x80
#define HDR_TYPE_MASK		0x7f

#define BAR_IO			0x1
#define BAR_MEM_TYPE_MASK	0x6
#define BAR_MEM_TYPE_64		0x4
#define BAR_IO_MASK		0xfffffffcu
#define BAR_MEM_MASK		0xfffffff0u

#define MAX_CAPS		48	/* a cycle in the list must not hang the guest */

static void pci_select(unsigned bdf, unsigned off)
{
	outl(PCI_ADDR_PORT, PCI_ENABLE | (uint32_t)bdf << 8 | (off & 0xfc));
}

uint32_t pci_read(unsigned bdf, unsigned off, unsigned size)
{
	pci_select(bdf, off);
	switch (size) {
	case 1: return inb(PCI_DATA_PORT + (off & 3));
	case 2: return inw(PCI_DATA_PORT + (off & 2));
	default: return inl(PCI_DATA_PORT);
	}
}

void pci_write(unsigned bdf, unsigned off, unsigned size, uint32_t v)
{
	pci_select(bdf, off);
	switch (size) {
	case 1: outb(PCI_DATA_PORT + (off & 3), v); break;
	case 2: outw(PCI_DATA_PORT + (off & 2), v); break;
	default: outl(PCI_DATA_PORT, v); break;
	}
}

/* Calls fn for every function on bus 0 until it returns true; returns that bdf or -1. */
static int pci_scan(bool (*fn)(unsigned bdf, uint32_t id, void *ctx), void *ctx)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		unsigned nfn = 1;

		for (unsigned f = 0; f < nfn; f++) {
			unsigned bdf = dev << 3 | f;
			uint32_t id = pci_read(bdf, PCI_VENDOR, 4);

			if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
				continue;
			if (f == 0 && (pci_read(bdf, PCI_HEADER_TYPE, 1) & HDR_MULTI_FUNCTION))
				nfn = 8;
			if (fn(bdf, id, ctx))
				return bdf;
		}
	}
	return -1;
}

static bool match_id(unsigned bdf, uint32_t id, void *ctx)
{
	return id == *(uint32_t *)ctx;
}

int pci_find(uint16_t vendor, uint16_t device)
{
	uint32_t id = (uint32_t)device << 16 | vendor;

	return pci_scan(match_id, &id);
}

/*
 * BAR i of a type 0 header: address, size (by writing all-ones with decoding
 * off, as Linux does), kind. Returns the number of BAR slots it uses (2 for
 * a 64-bit memory BAR), 0 for an unimplemented BAR.
 */
unsigned pci_bar(unsigned bdf, unsigned i, struct pci_bar *bar)
{
	unsigned off = PCI_BAR0 + 4 * i;
	uint32_t lo = pci_read(bdf, off, 4), hi = 0, szlo, szhi = 0xffffffffu;
	uint16_t cmd = pci_read(bdf, PCI_COMMAND, 2);
	uint64_t mask;

	memset(bar, 0, sizeof(*bar));
	bar->io = lo & BAR_IO;
	bar->mem64 = !bar->io && (lo & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_64 && i < 5;
	pci_write(bdf, PCI_COMMAND, 2, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	pci_write(bdf, off, 4, 0xffffffffu);
	szlo = pci_read(bdf, off, 4);
	pci_write(bdf, off, 4, lo);
	if (bar->mem64) {
		hi = pci_read(bdf, off + 4, 4);
		pci_write(bdf, off + 4, 4, 0xffffffffu);
		szhi = pci_read(bdf, off + 4, 4);
		pci_write(bdf, off + 4, 4, hi);
	}
	pci_write(bdf, PCI_COMMAND, 2, cmd);
	if (bar->io) {
		if (!(szlo & BAR_IO_MASK))
			return 0;
		bar->addr = lo & BAR_IO_MASK;
		/* The upper 16 bits of an I/O BAR may read as 0. */
		mask = 0xffffffffffff0000ull | (szlo & BAR_IO_MASK);
	} else {
		if (!(szlo & BAR_MEM_MASK) && !(bar->mem64 && szhi))
			return 0;
		bar->addr = (uint64_t)hi << 32 | (lo & BAR_MEM_MASK);
		mask = (uint64_t)szhi << 32 | (szlo & BAR_MEM_MASK);
	}
	bar->size = ~mask + 1;
	return bar->mem64 ? 2 : 1;
}

void pci_enable(unsigned bdf, uint16_t bits)
{
	uint16_t cmd = pci_read(bdf, PCI_COMMAND, 2);

	if ((cmd & bits) != bits)
		pci_write(bdf, PCI_COMMAND, 2, cmd | bits);
}

/* The offset of the next capability with this id after `from` (0: from the start), or 0. */
unsigned pci_cap_find(unsigned bdf, uint8_t id, unsigned from)
{
	unsigned ptr, n;

	if (!(pci_read(bdf, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	ptr = from ? pci_read(bdf, from + 1, 1) : pci_read(bdf, PCI_CAP_PTR, 1);
	for (n = 0; n < MAX_CAPS && ptr >= 0x40; n++) {
		ptr &= 0xfc;
		if (pci_read(bdf, ptr, 1) == id)
			return ptr;
		ptr = pci_read(bdf, ptr + 1, 1);
	}
	return 0;
}

static bool list_one(unsigned bdf, uint32_t id, void *ctx)
{
	uint32_t class = pci_read(bdf, PCI_CLASS_REV, 4) >> 8;
	unsigned hdr = pci_read(bdf, PCI_HEADER_TYPE, 1);
	struct pci_bar bar;

	gprintf("pci %02x:%02x.%x %04x:%04x class %06x", 0, bdf >> 3, bdf & 7, id & 0xffff,
		id >> 16, class);
	if ((hdr & HDR_TYPE_MASK) == 0) {
		for (unsigned i = 0; i < 6; ) {
			unsigned used = pci_bar(bdf, i, &bar);

			if (used)
				gprintf(" bar%u %s 0x%lx+0x%lx", i,
					bar.io ? "io" : bar.mem64 ? "mem64" : "mem",
					(unsigned long)bar.addr, (unsigned long)bar.size);
			i += used ? used : 1;
		}
	} else {
		gprintf(" header type 0x%x", hdr);
	}
	if (pci_read(bdf, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) {
		unsigned ptr = pci_read(bdf, PCI_CAP_PTR, 1);

		gprintf(" caps");
		for (unsigned n = 0; n < MAX_CAPS && ptr >= 0x40; n++) {
			ptr &= 0xfc;
			gprintf(" %02x@%02x", pci_read(bdf, ptr, 1), ptr);
			ptr = pci_read(bdf, ptr + 1, 1);
		}
	}
	gprintf("\n");
	return false;
}

/* `pci`: one line per function found on bus 0. */
void do_pci(const char *word, char *arg)
{
	if (arg)
		fail("%s: takes no argument", word);
	pci_scan(list_one, NULL);
}
