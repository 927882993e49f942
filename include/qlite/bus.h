/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The PIO and MMIO address spaces. A device registers the ranges it owns;
 * a vCPU exit is dispatched to the one region covering the access.
 */
#ifndef QLITE_BUS_H
#define QLITE_BUS_H

#include <stdbool.h>
#include <stdint.h>

enum bus_space { BUS_PIO, BUS_MMIO, BUS_NR_SPACES };

#define BUS_MAX_REGIONS 256
#define BUS_UNMAPPED UINT64_MAX

struct bus_ops {
	/* len is 1, 2, 4 or 8; offset + len never passes the region end. */
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned len);
	/* Optional: the register name at offset, for the exit report. */
	const char *(*reg_name)(void *opaque, uint64_t offset);
	/*
	 * Optional: the offset an access at offset is counted under (an
	 * array's entries under its first, an indirect data port under the
	 * register it reaches); reg_name then names that key.
	 */
	uint64_t (*reg_key)(void *opaque, uint64_t offset);
};

struct bus_region {
	unsigned id;		/* stable index, 0..BUS_MAX_REGIONS-1, for per-region counters */
	uint64_t base;		/* BUS_UNMAPPED when disabled (e.g. a PCI BAR being sized) */
	uint64_t len;
	const char *name;
	const struct bus_ops *ops;
	void *opaque;
};

struct bus;

struct bus *bus_create(enum bus_space space);
void bus_destroy(struct bus *bus);
const char *bus_space_name(enum bus_space space);

/*
 * Claim [base, base + len). Returns the region id (>= 0), -EEXIST when the
 * range overlaps another region, -EINVAL for an empty or wrapping range,
 * -ENOSPC when the bus is full.
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const char *name,
		 const struct bus_ops *ops, void *opaque);
/* Move a region (PCI BAR programming); BUS_UNMAPPED disables it. -EEXIST on overlap. */
int bus_move(struct bus *bus, unsigned id, uint64_t new_base);
void bus_unregister(struct bus *bus, unsigned id);

/* The region covering [addr, addr + len), or NULL. Lock-free, safe from any vCPU thread. */
const struct bus_region *bus_lookup(struct bus *bus, uint64_t addr, unsigned len);
/* The region with this id (mapped or not), or NULL. */
const struct bus_region *bus_region_by_id(struct bus *bus, unsigned id);

/* Copy up to max mapped regions, sorted by base, into out; returns how many are mapped. */
unsigned bus_list(struct bus *bus, struct bus_region *out, unsigned max);

/*
 * Doorbells served in userspace: a write of len bytes to addr (of value,
 * when match) signals efd instead of reaching the region under it, as
 * KVM_IOEVENTFD does in the kernel. As many as memory allows (the table
 * grows); the lookup on the exit path is a binary search of a snapshot.
 * Returns an id >= 0 or -errno (-ENOMEM).
 */
int bus_add_doorbell(struct bus *bus, uint64_t addr, unsigned len, bool match, uint64_t value,
		     int efd);
/* BUS_UNMAPPED disables it. */
int bus_move_doorbell(struct bus *bus, unsigned id, uint64_t addr);
void bus_remove_doorbell(struct bus *bus, unsigned id);

/*
 * Perform one access. Unclaimed reads fill data with all-ones and unclaimed
 * writes are dropped; both return NULL so the caller can count them. A
 * write that rings a doorbell returns the region under it (or NULL).
 */
const struct bus_region *bus_dispatch(struct bus *bus, uint64_t addr, void *data,
				      unsigned len, bool is_write);

#endif
