// SPDX-License-Identifier: GPL-2.0-only
/*
 * The e820 map every boot path hands the guest. The EBDA and BIOS area
 * below 1 MiB are reserved because the MP table, the ACPI tables and a
 * multiboot kernel's BIOS handlers (bios.c) live there.
 */
#include "qlite/boot.h"

static void e820_add(struct e820_entry *e, unsigned *n, unsigned max,
		     uint64_t addr, uint64_t size, uint32_t type)
{
	if (*n >= max || !size)
		return;
	e[*n] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
	(*n)++;
}

unsigned e820_build(const struct guest_mem *gm, struct e820_entry *e, unsigned max)
{
	uint64_t low_end = gm->slots[0].size;
	unsigned n = 0;

	e820_add(e, &n, max, 0, EBDA_START, E820_RAM);
	e820_add(e, &n, max, EBDA_START, HIGH_MEM_START - EBDA_START, E820_RESERVED);
	if (low_end > HIGH_MEM_START)
		e820_add(e, &n, max, HIGH_MEM_START, low_end - HIGH_MEM_START, E820_RAM);
	if (gm->nr_slots > 1)
		e820_add(e, &n, max, gm->slots[1].gpa, gm->slots[1].size, E820_RAM);
	return n;
}
