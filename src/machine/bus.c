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
 *
 * Userspace doorbells live in the same snapshot, sorted by address, as many
 * as devices ask for (a virtio-blk of 64 queues has 64): the table grows
 * under the mutex, an id stays its index, and adding or removing a disabled
 * one publishes nothing, since snapshots hold only the enabled ones.
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
	bool used;		/* the table's slot is taken (bus->doorbells only) */
	int efd;
};

struct bus_map {
	unsigned nr;
	unsigned nr_doorbells;
	struct bus_doorbell *doorbells;	/* the enabled ones, by address, after sorted[] */
	struct bus_map *retired;	/* older snapshots, freed with the bus */
	struct bus_region sorted[];	/* copies of the mapped regions, by base */
};

struct bus {
	enum bus_space space;
	pthread_mutex_t lock;
	_Atomic(struct bus_map *) map;
	struct bus_region regions[BUS_MAX_REGIONS];
	bool used[BUS_MAX_REGIONS];
	struct bus_doorbell *doorbells;	/* nr_doorbell_slots; an id is an index */
	unsigned nr_doorbell_slots;
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
	free(bus->doorbells);
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

static int doorbell_cmp(const void *a, const void *b)
{
	const struct bus_doorbell *da = a, *db = b;

	return da->addr < db->addr ? -1 : da->addr > db->addr;
}

static bool doorbell_enabled(const struct bus_doorbell *d)
{
	return d->used && d->addr != BUS_UNMAPPED;
}

/* Publish a new snapshot of the mapped regions and enabled doorbells. Caller holds the lock. */
static int bus_publish(struct bus *bus)
{
	struct bus_map *old = atomic_load(&bus->map), *map;
	unsigned nr = 0, nd = 0;

	for (unsigned i = 0; i < BUS_MAX_REGIONS; i++)
		nr += bus->used[i] && bus->regions[i].base != BUS_UNMAPPED;
	for (unsigned i = 0; i < bus->nr_doorbell_slots; i++)
		nd += doorbell_enabled(&bus->doorbells[i]);
	_Static_assert(sizeof(struct bus_region) % _Alignof(struct bus_doorbell) == 0,
		       "the doorbells follow the regions in one allocation");
	map = calloc(1, sizeof(*map) + nr * sizeof(map->sorted[0]) + nd * sizeof(*map->doorbells));
	if (!map)
		return -ENOMEM;
	nr = 0;
	for (unsigned i = 0; i < BUS_MAX_REGIONS; i++)
		if (bus->used[i] && bus->regions[i].base != BUS_UNMAPPED)
			map->sorted[nr++] = bus->regions[i];
	qsort(map->sorted, nr, sizeof(map->sorted[0]), region_cmp);
	map->nr = nr;
	map->doorbells = (struct bus_doorbell *)&map->sorted[nr];
	for (unsigned i = 0; i < bus->nr_doorbell_slots; i++)
		if (doorbell_enabled(&bus->doorbells[i]))
			map->doorbells[map->nr_doorbells++] = bus->doorbells[i];
	qsort(map->doorbells, map->nr_doorbells, sizeof(*map->doorbells), doorbell_cmp);
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
	unsigned lo = 0, hi = map->nr_doorbells;
	uint64_t one = 1;

	/* The first doorbell at addr; several may share it, told apart by len and value. */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (map->doorbells[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (unsigned i = lo; i < map->nr_doorbells && map->doorbells[i].addr == addr; i++) {
		const struct bus_doorbell *d = &map->doorbells[i];

		if (d->len != len)
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

/* A free slot of the doorbell table, grown when full; its index, or -ENOMEM. Lock held. */
static int doorbell_slot(struct bus *bus)
{
	unsigned n = bus->nr_doorbell_slots;
	struct bus_doorbell *t;

	for (unsigned i = 0; i < n; i++)
		if (!bus->doorbells[i].used)
			return i;
	if (n >= INT32_MAX / 2)
		return -ENOMEM;
	t = realloc(bus->doorbells, (n ? 2 * n : 16) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(t + n, 0, (n ? n : 16) * sizeof(*t));
	bus->doorbells = t;
	bus->nr_doorbell_slots = n ? 2 * n : 16;
	return n;
}

int bus_add_doorbell(struct bus *bus, uint64_t addr, unsigned len, bool match, uint64_t value,
		     int efd)
{
	int ret, id;

	if (efd < 0 || (len != 1 && len != 2 && len != 4 && len != 8) ||
	    !doorbell_addr_valid(bus, addr, len))
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	ret = id = doorbell_slot(bus);
	if (id >= 0) {
		bus->doorbells[id] = (struct bus_doorbell){
			.addr = addr, .len = len, .match = match, .value = value, .efd = efd,
			.used = true,
		};
		/* A disabled one is in no snapshot: nothing to publish until it moves. */
		ret = addr == BUS_UNMAPPED ? 0 : bus_publish(bus);
		if (ret < 0)
			bus->doorbells[id].used = false;
		else
			ret = id;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int bus_move_doorbell(struct bus *bus, unsigned id, uint64_t addr)
{
	uint64_t old;
	int ret = -ENOENT;

	pthread_mutex_lock(&bus->lock);
	if (id >= bus->nr_doorbell_slots || !bus->doorbells[id].used) {
		ret = id >= bus->nr_doorbell_slots ? -EINVAL : -ENOENT;
	} else if (!doorbell_addr_valid(bus, addr, bus->doorbells[id].len)) {
		ret = -EINVAL;
	} else {
		old = bus->doorbells[id].addr;
		bus->doorbells[id].addr = addr;
		ret = old == addr ? 0 : bus_publish(bus);
		if (ret < 0)
			bus->doorbells[id].addr = old;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

void bus_remove_doorbell(struct bus *bus, unsigned id)
{
	pthread_mutex_lock(&bus->lock);
	if (id < bus->nr_doorbell_slots && bus->doorbells[id].used) {
		bool was_enabled = doorbell_enabled(&bus->doorbells[id]);

		bus->doorbells[id].used = false;
		if (was_enabled)
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
