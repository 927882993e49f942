// SPDX-License-Identifier: GPL-2.0-only
/* The PIO/MMIO buses: registration, lookup, dispatch, overlap rules, moves. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "qlite/bus.h"
#include "qlite/util.h"

struct rec {
	unsigned reads, writes;
	uint64_t offset;
	unsigned len;
	uint64_t wval;
};

static void rec_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct rec *r = opaque;

	r->reads++;
	r->offset = offset;
	r->len = len;
	le_store(data, 0x1122334455667788ULL, len);
}

static void rec_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct rec *r = opaque;

	r->writes++;
	r->offset = offset;
	r->len = len;
	r->wval = le_load(data, len);
}

static const struct bus_ops rec_ops = { .read = rec_read, .write = rec_write };
static const struct bus_ops write_only_ops = { .write = rec_write };

static int setup(void **state)
{
	struct bus *bus = bus_create(BUS_MMIO);

	assert_non_null(bus);
	*state = bus;
	return 0;
}

static int teardown(void **state)
{
	bus_destroy(*state);
	return 0;
}

static void test_register_lookup_dispatch(void **state)
{
	struct bus *bus = *state;
	struct rec a = { 0 };
	const struct bus_region *r;
	uint8_t buf[8];
	int id;

	id = bus_register(bus, 0x1000, 0x100, "a", &rec_ops, &a);
	assert_true(id >= 0);
	r = bus_lookup(bus, 0x1080, 4);
	assert_non_null(r);
	assert_int_equal(r->id, id);
	assert_int_equal(r->base, 0x1000);
	assert_int_equal(r->len, 0x100);
	assert_string_equal(r->name, "a");
	assert_ptr_equal(r->opaque, &a);
	assert_ptr_equal(bus_region_by_id(bus, id)->ops, &rec_ops);

	assert_ptr_equal(bus_dispatch(bus, 0x1010, buf, 4, false), r);
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.offset, 0x10);
	assert_int_equal(a.len, 4);
	assert_int_equal(le_load(buf, 4), 0x55667788);

	le_store(buf, 0xdeadbeefcafef00dULL, 8);
	assert_non_null(bus_dispatch(bus, 0x10f8, buf, 8, true));
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.offset, 0xf8);
	assert_int_equal(a.wval, 0xdeadbeefcafef00dULL);
	assert_string_equal(bus_space_name(BUS_PIO), "pio");
	assert_string_equal(bus_space_name(BUS_MMIO), "mmio");
}

static void test_unclaimed(void **state)
{
	struct bus *bus = *state;
	struct rec a = { 0 };
	uint8_t buf[8] = { 0 };

	assert_true(bus_register(bus, 0x1000, 0x10, "a", &rec_ops, &a) >= 0);
	assert_null(bus_dispatch(bus, 0x2000, buf, 8, false));
	assert_int_equal(le_load(buf, 8), UINT64_MAX);
	assert_null(bus_dispatch(bus, 0xfff, buf, 1, true));
	assert_null(bus_lookup(bus, 0x1010, 1));
	/* Straddling the region end (or its start) belongs to nobody. */
	memset(buf, 0, sizeof(buf));
	assert_null(bus_dispatch(bus, 0x100e, buf, 4, false));
	assert_int_equal(le_load(buf, 4), 0xffffffff);
	assert_null(bus_lookup(bus, 0xffe, 4));
	assert_non_null(bus_lookup(bus, 0x100c, 4));
	assert_int_equal(a.reads, 0);
	assert_int_equal(a.writes, 0);
	/* A region without a read op reads all-ones, but is claimed. */
	assert_true(bus_register(bus, 0x3000, 4, "wo", &write_only_ops, &a) >= 0);
	memset(buf, 0, sizeof(buf));
	assert_non_null(bus_dispatch(bus, 0x3000, buf, 2, false));
	assert_int_equal(le_load(buf, 2), 0xffff);
}

static void test_overlap_and_adjacent(void **state)
{
	struct bus *bus = *state;
	struct rec a = { 0 }, b = { 0 }, c = { 0 };
	int ida, idb, idc;

	ida = bus_register(bus, 0x1000, 0x100, "a", &rec_ops, &a);
	assert_true(ida >= 0);
	assert_int_equal(bus_register(bus, 0x1000, 0x100, "x", &rec_ops, &b), -EEXIST);
	assert_int_equal(bus_register(bus, 0x10ff, 1, "x", &rec_ops, &b), -EEXIST);
	assert_int_equal(bus_register(bus, 0xf00, 0x101, "x", &rec_ops, &b), -EEXIST);
	assert_int_equal(bus_register(bus, 0x800, 0x1000, "x", &rec_ops, &b), -EEXIST);
	/* Adjacent on both sides is fine. */
	idb = bus_register(bus, 0x1100, 0x10, "b", &rec_ops, &b);
	idc = bus_register(bus, 0xf00, 0x100, "c", &rec_ops, &c);
	assert_true(idb >= 0 && idc >= 0);
	assert_true(ida != idb && idb != idc && ida != idc);
	assert_int_equal(bus_lookup(bus, 0x10ff, 1)->id, ida);
	assert_int_equal(bus_lookup(bus, 0x1100, 1)->id, idb);
	assert_int_equal(bus_lookup(bus, 0xfff, 1)->id, idc);
	/* Empty and wrapping ranges are invalid. */
	assert_int_equal(bus_register(bus, 0x5000, 0, "x", &rec_ops, &b), -EINVAL);
	assert_int_equal(bus_register(bus, UINT64_MAX - 1, 4, "x", &rec_ops, &b), -EINVAL);
}

static void test_pio_limits(void **state)
{
	struct bus *pio = bus_create(BUS_PIO);
	struct rec a = { 0 };

	assert_non_null(pio);
	assert_true(bus_register(pio, 0xfffc, 4, "top", &rec_ops, &a) >= 0);
	assert_int_equal(bus_register(pio, 0xfffe, 4, "x", &rec_ops, &a), -EINVAL);
	bus_destroy(pio);
}

static void test_move_and_unmap(void **state)
{
	struct bus *bus = *state;
	struct rec a = { 0 }, b = { 0 };
	uint8_t buf[4];
	int ida, idb;

	ida = bus_register(bus, 0x1000, 0x100, "a", &rec_ops, &a);
	idb = bus_register(bus, 0x2000, 0x100, "b", &rec_ops, &b);
	assert_int_equal(bus_move(bus, ida, 0x4000), 0);
	assert_null(bus_lookup(bus, 0x1000, 1));
	assert_int_equal(bus_lookup(bus, 0x40ff, 1)->id, ida);
	assert_int_equal(bus_region_by_id(bus, ida)->base, 0x4000);
	/* Onto another region: refused, stays where it was. */
	assert_int_equal(bus_move(bus, ida, 0x2080), -EEXIST);
	assert_int_equal(bus_lookup(bus, 0x4000, 1)->id, ida);
	/* Unmapped: invisible but keeps its id, and frees the range. */
	assert_int_equal(bus_move(bus, ida, BUS_UNMAPPED), 0);
	assert_null(bus_dispatch(bus, 0x4000, buf, 4, false));
	assert_int_equal(a.reads, 0);
	assert_non_null(bus_region_by_id(bus, ida));
	assert_int_equal(bus_region_by_id(bus, ida)->base, BUS_UNMAPPED);
	assert_true(bus_register(bus, 0x4000, 0x10, "c", &rec_ops, &b) >= 0);
	assert_int_equal(bus_move(bus, ida, 0x5000), 0);
	assert_non_null(bus_dispatch(bus, 0x5004, buf, 4, false));
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.offset, 4);
	/* Registered unmapped, mapped later: how PCI BARs start. */
	int idu = bus_register(bus, BUS_UNMAPPED, 0x1000, "u", &rec_ops, &b);
	assert_true(idu >= 0);
	assert_int_equal(bus_move(bus, idu, 0x8000), 0);
	assert_int_equal(bus_lookup(bus, 0x8fff, 1)->id, idu);
	/* Unregistered: gone from lookups. */
	bus_unregister(bus, idb);
	assert_null(bus_lookup(bus, 0x2000, 1));
	assert_int_equal(bus_move(bus, BUS_MAX_REGIONS, 0), -EINVAL);
}

static void test_many_regions(void **state)
{
	struct bus *bus = *state;
	struct rec a = { 0 };
	int i;

	/* Registered out of order; the sorted lookup finds each one. */
	for (i = 0; i < BUS_MAX_REGIONS; i++) {
		uint64_t base = ((i * 37) % BUS_MAX_REGIONS) * 0x100;
		assert_true(bus_register(bus, base, 0x100, "r", &rec_ops, &a) >= 0);
	}
	assert_int_equal(bus_register(bus, 0x100000, 1, "x", &rec_ops, &a), -ENOSPC);
	for (i = 0; i < BUS_MAX_REGIONS; i++) {
		const struct bus_region *r = bus_lookup(bus, i * 0x100 + 0x80, 1);
		assert_non_null(r);
		assert_int_equal(r->base, i * 0x100);
	}
}

static uint64_t efd_take(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/*
 * More doorbells than the old fixed table of 64 (a virtio-blk of 64 queues
 * beside other devices): each rings its own eventfd, found by address in
 * the snapshot; several on one address are told apart by width and value.
 */
static void test_many_doorbells(void **state)
{
	struct bus *bus = *state;
	enum { N = 300 };
	int efd[N], id[N], shared = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), other;
	struct rec a = { 0 };
	uint16_t v;

	assert_true(bus_register(bus, 0x10000, 0x10000, "notify", &rec_ops, &a) >= 0);
	for (unsigned i = 0; i < N; i++) {
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_true(efd[i] >= 0);
		/* Added in an order that is not the address order. */
		id[i] = bus_add_doorbell(bus, 0x10000 + 4 * ((i * 7) % N), 2, false, 0, efd[i]);
		assert_int_equal(id[i], i);
	}
	for (unsigned i = 0; i < N; i++) {
		v = i;
		/* A write that rings returns the region under it. */
		assert_non_null(bus_dispatch(bus, 0x10000 + 4 * ((i * 7) % N), &v, 2, true));
	}
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(efd_take(efd[i]), 1);
	assert_int_equal(a.writes, 0);
	/* Another width at a doorbell's address reaches the region. */
	bus_dispatch(bus, 0x10000, &(uint32_t){ 0 }, 4, true);
	assert_int_equal(a.writes, 1);
	/* Value-matched doorbells sharing one address (as virtio-mmio's QueueNotify). */
	assert_true(shared >= 0);
	other = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(bus_add_doorbell(bus, 0x18000, 4, true, 5, shared) >= N);
	assert_true(bus_add_doorbell(bus, 0x18000, 4, true, 63, other) >= N);
	bus_dispatch(bus, 0x18000, &(uint32_t){ 63 }, 4, true);
	bus_dispatch(bus, 0x18000, &(uint32_t){ 63 }, 4, true);
	bus_dispatch(bus, 0x18000, &(uint32_t){ 5 }, 4, true);
	assert_int_equal(efd_take(other), 2);
	assert_int_equal(efd_take(shared), 1);
	bus_dispatch(bus, 0x18000, &(uint32_t){ 7 }, 4, true);	/* no queue 7: the register */
	assert_int_equal(a.writes, 2);
	/* Disabled, moved, removed: the slot is taken again by the next one. */
	assert_int_equal(bus_move_doorbell(bus, id[10], BUS_UNMAPPED), 0);
	v = 0;
	bus_dispatch(bus, 0x10000 + 4 * 70, &v, 2, true);
	assert_int_equal(efd_take(efd[10]), 0);
	assert_int_equal(a.writes, 3);
	assert_int_equal(bus_move_doorbell(bus, id[10], 0x1fff0), 0);
	bus_dispatch(bus, 0x1fff0, &v, 2, true);
	assert_int_equal(efd_take(efd[10]), 1);
	bus_remove_doorbell(bus, id[20]);
	assert_int_equal(bus_move_doorbell(bus, id[20], 0x1000), -ENOENT);
	assert_int_equal(bus_move_doorbell(bus, 100000, 0x1000), -EINVAL);
	assert_int_equal(bus_add_doorbell(bus, BUS_UNMAPPED, 2, false, 0, efd[20]), id[20]);
	for (unsigned i = 0; i < N; i++)
		close(efd[i]);
	close(shared);
	close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_lookup_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclaimed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_and_adjacent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_and_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_doorbells, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
