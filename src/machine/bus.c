// SPDX-License-Identifier: GPL-2.0-only
/*
 * PIO and MMIO address spaces.
 *
 * vCPU threads look regions up on every exit, while PCI BAR programming
 * (itself a vCPU exit) may move regions at any time. Readers therefore see
 * an immutable sorted snapshot published with an atomic pointer; writers
 * build a new snapshot (copies of the regions, so a reader never sees a
 * region change under it) under a mutex. Old snapshots are retired, not freed,
 * until the bus is destroyed: moves are rare (BAR programming at boot), so
 * this costs little and keeps the lookup free of locks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qlite/bus.h"
#include "qlite/util.h"

struct bus_doorbell {
	uint64_t addr;		/* BUS_UNMAPPED: disabled */
	uint64_t value;
	unsigned len;
	bool match;
	int efd;
};

struct bus_map {
	unsigned nr;
	unsigned nr_doorbells;
	struct bus_doorbell doorbells[BUS_MAX_DOORBELLS];	/* the enabled ones */
	struct bus_map *retired;	/* older snapshots, freed with the bus */
	struct bus_region sorted[];	/* copies of the mapped regions, by base */
};

struct bus {
	enum bus_space space;
	pthread_mutex_t lock;
	_Atomic(struct bus_map *) map;
	struct bus_region regions[BUS_MAX_REGIONS];
	bool used[BUS_MAX_REGIONS];
	struct bus_doorbell doorbells[BUS_MAX_DOORBELLS];
	bool doorbell_used[BUS_MAX_DOORBELLS];
};

const char *bus_space_name(enum bus_space space)
{
	return space == BUS_PIO ? "pio" : "mmio";
}

struct bus *bus_create(enum bus_space space)
{
	struct bus *bus = calloc(1, sizeof(*bus));
	struct bus_map *map = calloc(1, sizeof(*map));

	if (!bus || !map) {
		free(bus);
		free(map);
		return NULL;
	}
	bus->space = space;
	pthread_mutex_init(&bus->lock, NULL);
	atomic_store(&bus->map, map);
	return bus;
}

void bus_destroy(struct bus *bus)
{
	struct bus_map *map, *next;

	if (!bus)
		return;
	for (map = atomic_load(&bus->map); map; map = next) {
		next = map->retired;
		free(map);
	}
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Does [base, base+len) collide with a mapped region other than skip? Caller holds the lock. */
static bool bus_collides(struct bus *bus, uint64_t base, uint64_t len, int skip)
{
	for (unsigned i = 0; i < BUS_MAX_REGIONS; i++) {
		const struct bus_region *r = &bus->regions[i];

		if (!bus->used[i] || (int)i == skip || r->base == BUS_UNMAPPED)
			continue;
		if (ranges_overlap(base, len, r->base, r->len))
			return true;
	}
	return false;
}

static int region_cmp(const void *a, const void *b)
{
	const struct bus_region *ra = a, *rb = b;

	return ra->base < rb->base ? -1 : ra->base > rb->base;
}

/* Publish a new snapshot of the mapped regions. Caller holds the lock. */
static int bus_publish(struct bus *bus)
{
	struct bus_map *old = atomic_load(&bus->map), *map;
	unsigned nr = 0;

	for (unsigned i = 0; i < BUS_MAX_REGIONS; i++)
		nr += bus->used[i] && bus->regions[i].base != BUS_UNMAPPED;
	map = calloc(1, sizeof(*map) + nr * sizeof(map->sorted[0]));
	nr = 0;
	if (!map)
		return -ENOMEM;
	for (unsigned i = 0; i < BUS_MAX_REGIONS; i++)
		if (bus->used[i] && bus->regions[i].base != BUS_UNMAPPED)
			map->sorted[nr++] = bus->regions[i];
	qsort(map->sorted, nr, sizeof(map->sorted[0]), region_cmp);
	map->nr = nr;
	for (unsigned i = 0; i < BUS_MAX_DOORBELLS; i++)
		if (bus->doorbell_used[i] && bus->doorbells[i].addr != BUS_UNMAPPED)
			map->doorbells[map->nr_doorbells++] = bus->doorbells[i];
	map->retired = old;
	atomic_store_explicit(&bus->map, map, memory_order_release);
	return 0;
}

static bool range_valid(uint64_t base, uint64_t len)
{
	return len && base + len > base;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const char *name,
		 const struct bus_ops *ops, void *opaque)
{
	int ret = -ENOSPC;

	if (!ops || (base != BUS_UNMAPPED && !range_valid(base, len)) || !len)
		return -EINVAL;
	if (bus->space == BUS_PIO && base != BUS_UNMAPPED && base + len > 0x10000)
		return -EINVAL;

	pthread_mutex_lock(&bus->lock);
	if (base != BUS_UNMAPPED && bus_collides(bus, base, len, -1)) {
		ret = -EEXIST;
		goto out;
	}
	for (unsigned i = 0; i < BUS_MAX_REGIONS; i++) {
		if (bus->used[i])
			continue;
		bus->regions[i] = (struct bus_region){
			.id = i, .base = base, .len = len, .name = name,
			.ops = ops, .opaque = opaque,
		};
		bus->used[i] = true;
		ret = bus_publish(bus);
		if (ret < 0)
			bus->used[i] = false;
		else
			ret = i;
		break;
	}
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int bus_move(struct bus *bus, unsigned id, uint64_t new_base)
{
	struct bus_region *r;
	uint64_t old_base;
	int ret;

	if (id >= BUS_MAX_REGIONS)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	r = &bus->regions[id];
	ret = -ENOENT;
	if (!bus->used[id])
		goto out;
	ret = 0;
	if (r->base == new_base)
		goto out;
	ret = -EINVAL;
	if (new_base != BUS_UNMAPPED &&
	    (!range_valid(new_base, r->len) ||
	     (bus->space == BUS_PIO && new_base + r->len > 0x10000)))
		goto out;
	ret = -EEXIST;
	if (new_base != BUS_UNMAPPED && bus_collides(bus, new_base, r->len, id))
		goto out;
	old_base = r->base;
	r->base = new_base;
	ret = bus_publish(bus);
	if (ret < 0)
		r->base = old_base;
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

void bus_unregister(struct bus *bus, unsigned id)
{
	if (id >= BUS_MAX_REGIONS)
		return;
	pthread_mutex_lock(&bus->lock);
	if (bus->used[id]) {
		bus->regions[id].base = BUS_UNMAPPED;
		bus_publish(bus);
		/* The id stays reserved so per-region counters never change meaning. */
	}
	pthread_mutex_unlock(&bus->lock);
}

const struct bus_region *bus_lookup(struct bus *bus, uint64_t addr, unsigned len)
{
	const struct bus_map *map = atomic_load_explicit(&bus->map, memory_order_acquire);
	unsigned lo = 0, hi = map->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct bus_region *r = &map->sorted[mid];
		uint64_t base = r->base;

		if (addr < base) {
			hi = mid;
		} else if (addr - base >= r->len) {
			lo = mid + 1;
		} else {
			/* An access straddling the region end belongs to nobody. */
			if (len > r->len - (addr - base))
				return NULL;
			return r;
		}
	}
	return NULL;
}

const struct bus_region *bus_region_by_id(struct bus *bus, unsigned id)
{
	if (id >= BUS_MAX_REGIONS || !bus->used[id])
		return NULL;
	return &bus->regions[id];
}

/* A write that rings a doorbell signals its eventfd and goes no further. */
static bool bus_ring_doorbell(struct bus *bus, uint64_t addr, const void *data, unsigned len)
{
	const struct bus_map *map = atomic_load_explicit(&bus->map, memory_order_acquire);
	uint64_t one = 1;

	for (unsigned i = 0; i < map->nr_doorbells; i++) {
		const struct bus_doorbell *d = &map->doorbells[i];

		if (d->addr != addr || d->len != len)
			continue;
		if (d->match && le_load(data, len) != d->value)
			continue;
		/* Only a counter at 2^64 - 2 unread rings could fail: nothing to do then. */
		(void)!write(d->efd, &one, sizeof(one));
		return true;
	}
	return false;
}

const struct bus_region *bus_dispatch(struct bus *bus, uint64_t addr, void *data,
				      unsigned len, bool is_write)
{
	const struct bus_region *r = bus_lookup(bus, addr, len);

	if (is_write && bus_ring_doorbell(bus, addr, data, len))
		return r;
	if (!r) {
		if (!is_write)
			memset(data, 0xff, len);
		return NULL;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, len);
	} else if (r->ops->read) {
		r->ops->read(r->opaque, addr - r->base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return r;
}

static bool doorbell_addr_valid(const struct bus *bus, uint64_t addr, unsigned len)
{
	if (addr == BUS_UNMAPPED)
		return true;
	return range_valid(addr, len) && (bus->space != BUS_PIO || addr + len <= 0x10000);
}

int bus_add_doorbell(struct bus *bus, uint64_t addr, unsigned len, bool match, uint64_t value,
		     int efd)
{
	int ret = -ENOSPC;

	if (efd < 0 || (len != 1 && len != 2 && len != 4 && len != 8) ||
	    !doorbell_addr_valid(bus, addr, len))
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	for (unsigned i = 0; i < BUS_MAX_DOORBELLS; i++) {
		if (bus->doorbell_used[i])
			continue;
		bus->doorbells[i] = (struct bus_doorbell){
			.addr = addr, .len = len, .match = match, .value = value, .efd = efd,
		};
		bus->doorbell_used[i] = true;
		ret = bus_publish(bus);
		if (ret < 0)
			bus->doorbell_used[i] = false;
		else
			ret = i;
		break;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int bus_move_doorbell(struct bus *bus, unsigned id, uint64_t addr)
{
	uint64_t old;
	int ret = -ENOENT;

	if (id >= BUS_MAX_DOORBELLS)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	if (bus->doorbell_used[id] && !doorbell_addr_valid(bus, addr, bus->doorbells[id].len)) {
		ret = -EINVAL;
	} else if (bus->doorbell_used[id]) {
		old = bus->doorbells[id].addr;
		bus->doorbells[id].addr = addr;
		ret = bus_publish(bus);
		if (ret < 0)
			bus->doorbells[id].addr = old;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

void bus_remove_doorbell(struct bus *bus, unsigned id)
{
	if (id >= BUS_MAX_DOORBELLS)
		return;
	pthread_mutex_lock(&bus->lock);
	if (bus->doorbell_used[id]) {
		bus->doorbell_used[id] = false;
		bus_publish(bus);
	}
	pthread_mutex_unlock(&bus->lock);
}

unsigned bus_list(struct bus *bus, struct bus_region *out, unsigned max)
{
	const struct bus_map *map = atomic_load_explicit(&bus->map, memory_order_acquire);

	for (unsigned i = 0; i < map->nr && i < max; i++)
		out[i] = map->sorted[i];
	return map->nr;
}
