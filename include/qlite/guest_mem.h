/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest RAM: the only door from a device to guest memory. Every access is
 * bounds-checked against the RAM slots; the PCI hole below 4 GiB is not RAM.
 */
#ifndef QLITE_GUEST_MEM_H
#define QLITE_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Low RAM ends here at most; [PCI_HOLE_START, 4 GiB) is MMIO (PCI BARs, IOAPIC, LAPIC). */
#define PCI_HOLE_START	0xc0000000ULL
#define PCI_HOLE_END	0x100000000ULL

#define GUEST_MEM_MAX_SLOTS 2

struct guest_mem_slot {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	uint64_t ram_size;
	unsigned nr_slots;
	struct guest_mem_slot slots[GUEST_MEM_MAX_SLOTS];
	void *map;		/* one host mapping backing all slots */
	size_t map_size;
	int memfd;		/* -1 when anonymous */
};

/* Fill gm's slots for ram_size bytes around the PCI hole, mapping nothing (hva stays NULL). */
void guest_mem_layout(struct guest_mem *gm, uint64_t ram_size);
/* Allocate ram_size bytes of RAM laid out as guest_mem_layout() says. -errno on failure. */
int guest_mem_init(struct guest_mem *gm, uint64_t ram_size, bool use_memfd);
void guest_mem_destroy(struct guest_mem *gm);

/* Host pointer for [gpa, gpa + len) when all of it is RAM in one slot, else NULL. */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copy to/from guest RAM; -EFAULT when any byte is outside RAM. */
int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *buf, size_t len);
int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *buf, size_t len);

#endif
