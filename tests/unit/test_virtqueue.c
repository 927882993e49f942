// SPDX-License-Identifier: GPL-2.0-only
/*
 * Split virtqueues as a driver fills them: chains, indirect tables, index
 * wrap-around, notification suppression both ways (EVENT_IDX and the
 * flags), and every hostile ring we know of: each one breaks the queue
 * once, returns no buffer, and touches nothing outside guest RAM (which
 * has guard pages on both sides).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "qlite/virtio.h"
#include "virtq_driver.h"

#define RAM_SIZE	(1 << 20)
#define RING_BASE	0x10000
#define BUF		0x80000		/* buffers from here */
#define TABLE		0x70000		/* indirect tables */
#define EV_IDX		VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX)
#define INDIRECT	VIRTIO_F_BIT(VIRTIO_F_INDIRECT_DESC)
#define NEXT		VIRTQ_DESC_F_NEXT
#define WRITE		VIRTQ_DESC_F_WRITE

struct fix {
	struct guest_mem gm;
	struct test_ring r;
	struct virtq vq;
	struct iovec out_iov[8], in_iov[8];
	struct virtq_elem e;
	unsigned broken_calls;
};

static void on_broken(void *opaque, struct virtq *vq)
{
	struct fix *f = opaque;

	f->broken_calls++;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(guarded_mem_init(&f->gm, RAM_SIZE), 0);
	virtq_elem_init(&f->e, f->out_iov, 8, f->in_iov, 8);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	guest_mem_destroy(&f->gm);
	free(f);
	return 0;
}

/* A queue of size entries with the driver's rings, enabled with features. */
static void start(struct fix *f, unsigned size, uint64_t features)
{
	virtq_init(&f->vq, &f->gm, 0, 256);
	f->vq.on_broken = on_broken;
	f->vq.opaque = f;
	f->broken_calls = 0;
	tr_init(&f->r, &f->gm, size, RING_BASE);
	tr_attach(&f->r, &f->vq);
	assert_int_equal(virtq_enable(&f->vq, features), 0);
}

/* The queue broke exactly once, gives nothing more, and the element points nowhere outside RAM. */
static void assert_broken(struct fix *f)
{
	assert_true(f->vq.broken);
	assert_int_equal(f->broken_calls, 1);
	assert_true(elem_in_ram(&f->gm, &f->e));
	assert_int_equal(virtq_pop(&f->vq, &f->e), -EIO);
	assert_false(virtq_flush(&f->vq));
	assert_int_equal(f->broken_calls, 1);
}

/* The next pop breaks the queue, saying why. */
static void assert_pop_breaks(struct fix *f, const char *why)
{
	assert_int_equal(virtq_pop(&f->vq, &f->e), -EIO);
	if (!strstr(f->vq.why, why))
		fail_msg("\"%s\" is not \"%s\"", f->vq.why, why);
	assert_broken(f);
}

static void test_simple_chain(void **state)
{
	struct fix *f = *state;
	struct virtq_used *u;

	start(f, 8, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 0);
	/* Header, data (readable), status (writable): a block request's shape. */
	tr_set_desc(&f->r, 3, BUF, 16, NEXT, 5);
	tr_set_desc(&f->r, 5, BUF + 0x100, 512, NEXT, 1);
	tr_set_desc(&f->r, 1, BUF + 0x400, 1, WRITE, 0);
	tr_make_avail(&f->r, 3);
	assert_true(virtq_has_avail(&f->vq));
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.head, 3);
	assert_int_equal(f->e.out.n, 2);
	assert_int_equal(f->e.out.bytes, 528);
	assert_int_equal(f->e.in.n, 1);
	assert_int_equal(f->e.in.bytes, 1);
	assert_ptr_equal(f->e.out.iov[1].iov_base, guest_mem_ptr(&f->gm, BUF + 0x100, 512));
	assert_ptr_equal(f->e.in.iov[0].iov_base, guest_mem_ptr(&f->gm, BUF + 0x400, 1));
	assert_int_equal(virtq_pop(&f->vq, &f->e), 0);

	/* Pushed entries are invisible until the flush publishes the idx. */
	assert_int_equal(virtq_push(&f->vq, &f->e, 100), 0);	/* clamped to the 1 writable byte */
	u = tr_used(&f->r);
	assert_int_equal(u->idx, 0);
	assert_true(virtq_flush(&f->vq));
	assert_int_equal(u->idx, 1);
	assert_int_equal(u->ring[0].id, 3);
	assert_int_equal(u->ring[0].len, 1);
	assert_false(virtq_flush(&f->vq));		/* nothing new */
	assert_int_equal(virtq_push(&f->vq, &f->e, 0), -EINVAL);	/* nothing in flight */
	assert_int_equal(f->vq.stats.interrupts, 1);
	assert_int_equal(f->broken_calls, 0);
}

static void test_indirect(void **state)
{
	struct fix *f = *state;

	start(f, 4, INDIRECT);
	tr_set_table_desc(&f->r, TABLE, 0, BUF, 16, NEXT, 2);
	tr_set_table_desc(&f->r, TABLE, 2, BUF + 0x1000, 4096, NEXT | WRITE, 1);
	tr_set_table_desc(&f->r, TABLE, 1, BUF + 0x3000, 1, WRITE, 0);
	/* One direct descriptor before the indirect one: allowed, the indirect ends the chain. */
	tr_set_desc(&f->r, 0, BUF + 0x5000, 8, NEXT, 2);
	tr_set_desc(&f->r, 2, TABLE, 3 * 16, VIRTQ_DESC_F_INDIRECT | WRITE, 0);
	tr_make_avail(&f->r, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.head, 0);
	assert_int_equal(f->e.out.n, 2);
	assert_int_equal(f->e.out.bytes, 24);
	assert_int_equal(f->e.in.n, 2);
	assert_int_equal(f->e.in.bytes, 4097);
	/* A table longer than the queue (Linux does this): bounded by the table, not the ring. */
	for (unsigned i = 0; i < 7; i++)
		tr_set_table_desc(&f->r, TABLE, i, BUF + i * 64, 64, i < 6 ? NEXT : 0, i + 1);
	tr_set_desc(&f->r, 1, TABLE, 7 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	tr_make_avail(&f->r, 1);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.out.n, 7);
	assert_int_equal(f->broken_calls, 0);
}

/* 70,000 requests through a ring of 8: both indexes wrap past 2^16. */
static void test_index_wrap(void **state)
{
	struct fix *f = *state;
	struct virtq_used *u;
	uint16_t seen = 0;

	start(f, 8, EV_IDX);
	u = tr_used(&f->r);
	for (unsigned i = 0; i < 8; i++)
		tr_set_desc(&f->r, i, BUF + i * 16, 16, WRITE, 0);
	for (unsigned n = 0; n < 70000; n += 3) {
		for (unsigned k = 0; k < 3; k++)
			tr_make_avail(&f->r, (n + k) % 8);
		for (unsigned k = 0; k < 3; k++) {
			assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
			assert_int_equal(f->e.head, (n + k) % 8);
			assert_int_equal(virtq_push(&f->vq, &f->e, k), 0);
		}
		assert_int_equal(virtq_pop(&f->vq, &f->e), 0);
		*tr_used_event(&f->r) = seen;	/* the driver wants to hear of the next one */
		assert_true(virtq_flush(&f->vq));
		for (unsigned k = 0; k < 3; k++, seen++) {
			assert_int_equal(u->ring[seen % 8].id, (n + k) % 8);
			assert_int_equal(u->ring[seen % 8].len, k);
		}
		assert_int_equal(u->idx, seen);
	}
	assert_int_equal(f->vq.last_avail, (uint16_t)70002);	/* it did wrap */
	assert_int_equal(tr_avail_event(&f->r), f->vq.last_avail);
	assert_int_equal(f->broken_calls, 0);
}

/* used_event: interrupt only when the used idx passes it. */
static void test_event_idx_interrupts(void **state)
{
	struct fix *f = *state;
	int expect[] = { 0, 0, 1, 0 };

	start(f, 8, EV_IDX);
	for (unsigned i = 0; i < 8; i++)
		tr_set_desc(&f->r, i, BUF + i * 16, 16, WRITE, 0);
	*tr_used_event(&f->r) = 2;	/* wake me when entry 2 is used */
	for (unsigned i = 0; i < 4; i++) {
		tr_make_avail(&f->r, i);
		assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
		assert_int_equal(virtq_push(&f->vq, &f->e, 1), 0);
		assert_int_equal(virtq_flush(&f->vq), expect[i]);
	}
	assert_int_equal(f->vq.stats.interrupts, 1);
	assert_int_equal(f->vq.stats.suppressed, 3);
	/* A batch crossing the event in one flush interrupts once. */
	*tr_used_event(&f->r) = 5;
	for (unsigned i = 4; i < 7; i++) {
		tr_make_avail(&f->r, i);
		assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
		assert_int_equal(virtq_push(&f->vq, &f->e, 1), 0);
	}
	assert_true(virtq_flush(&f->vq));
	assert_int_equal(f->vq.stats.interrupts, 2);
}

/* avail_event: the device asks for a kick only once it has seen the ring empty. */
static void test_event_idx_kicks(void **state)
{
	struct fix *f = *state;

	start(f, 8, EV_IDX);
	for (unsigned i = 0; i < 8; i++)
		tr_set_desc(&f->r, i, BUF + i * 16, 16, 0, 0);
	tr_make_avail(&f->r, 0);
	tr_make_avail(&f->r, 1);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(tr_avail_event(&f->r), 0);	/* pending work: no new event */
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 0);
	assert_int_equal(tr_avail_event(&f->r), 2);	/* kick me when idx passes 2 */
	assert_int_equal(tr_used(&f->r)->flags, 0);	/* the flag is not used with EVENT_IDX */
}

/* Without EVENT_IDX: NO_NOTIFY while chains are pending, NO_INTERRUPT honoured. */
static void test_flags(void **state)
{
	struct fix *f = *state;
	struct virtq_used *u;

	start(f, 8, 0);
	u = tr_used(&f->r);
	tr_set_desc(&f->r, 0, BUF, 16, WRITE, 0);
	tr_make_avail(&f->r, 0);
	tr_make_avail(&f->r, 0);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(u->flags, VIRTQ_USED_F_NO_NOTIFY);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 0);
	assert_int_equal(u->flags, 0);
	tr_avail(&f->r)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_int_equal(virtq_push(&f->vq, &f->e, 4), 0);
	assert_false(virtq_flush(&f->vq));
	assert_int_equal(u->idx, 1);			/* published all the same */
	tr_avail(&f->r)->flags = 0;
	assert_int_equal(virtq_push(&f->vq, &f->e, 4), 0);
	assert_true(virtq_flush(&f->vq));
	assert_int_equal(f->vq.stats.suppressed, 1);
	assert_int_equal(f->vq.stats.interrupts, 1);
}

/* A reset drops what was popped before it: the new rings never see the old head. */
static void test_reset_stale(void **state)
{
	struct fix *f = *state;

	start(f, 8, 0);
	tr_set_desc(&f->r, 6, BUF, 16, WRITE, 0);
	tr_make_avail(&f->r, 6);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	virtq_reset(&f->vq);
	assert_false(f->vq.enabled);
	assert_int_equal(f->vq.size, 256);
	assert_int_equal(virtq_push(&f->vq, &f->e, 1), -ESTALE);
	tr_init(&f->r, &f->gm, 8, RING_BASE);
	tr_attach(&f->r, &f->vq);
	assert_int_equal(virtq_enable(&f->vq, 0), 0);
	assert_int_equal(virtq_push(&f->vq, &f->e, 1), -ESTALE);
	assert_false(virtq_flush(&f->vq));
	assert_int_equal(tr_used(&f->r)->idx, 0);
}

/* ---- hostile rings ---- */

static void test_loop(void **state)
{
	struct fix *f = *state;

	start(f, 4, 0);
	tr_set_desc(&f->r, 0, BUF, 16, NEXT, 1);
	tr_set_desc(&f->r, 1, BUF, 16, NEXT, 2);
	tr_set_desc(&f->r, 2, BUF, 16, NEXT, 0);
	tr_make_avail(&f->r, 1);
	assert_pop_breaks(f, "longer than its table of 4");
}

static void test_self_loop_in_indirect(void **state)
{
	struct fix *f = *state;

	start(f, 4, INDIRECT);
	tr_set_table_desc(&f->r, TABLE, 0, BUF, 16, NEXT, 1);
	tr_set_table_desc(&f->r, TABLE, 1, BUF, 16, NEXT, 1);
	tr_set_desc(&f->r, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	tr_make_avail(&f->r, 0);
	assert_pop_breaks(f, "longer than its table of 2");
}

/* Each entry: one bad descriptor (or table entry) as the head of a chain. */
struct bad_desc {
	uint64_t features;
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
	const char *why;
};

static const struct bad_desc bad_descs[] = {
	{ 0, BUF, 16, NEXT, 4, "next 4 is past its table of 4" },
	{ 0, RAM_SIZE, 1, 0, 0, "outside RAM" },
	{ 0, RAM_SIZE - 8, 16, 0, 0, "outside RAM" },		/* straddles the end */
	{ 0, UINT64_MAX - 4, 16, WRITE, 0, "outside RAM" },	/* wraps */
	{ 0, PCI_HOLE_START, 4, 0, 0, "outside RAM" },
	{ 0, BUF, 0, 0, 0, "empty descriptor" },
	{ 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0, "without VIRTIO_F_INDIRECT_DESC" },
	{ INDIRECT, TABLE, 32, VIRTQ_DESC_F_INDIRECT | NEXT, 1, "indirect descriptor with NEXT" },
	{ INDIRECT, TABLE, 20, VIRTQ_DESC_F_INDIRECT, 0, "indirect table of 20 bytes" },
	{ INDIRECT, TABLE, 0, VIRTQ_DESC_F_INDIRECT, 0, "indirect table of 0 bytes" },
	{ INDIRECT, RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0, "outside RAM" },
	{ INDIRECT, UINT64_MAX - 15, 0xfffffff0, VIRTQ_DESC_F_INDIRECT, 0, "outside RAM" },
};

static void test_bad_descriptors(void **state)
{
	struct fix *f = *state;

	for (unsigned i = 0; i < sizeof(bad_descs) / sizeof(bad_descs[0]); i++) {
		const struct bad_desc *b = &bad_descs[i];

		start(f, 4, b->features);
		tr_set_desc(&f->r, 0, BUF, 8, NEXT, 2);		/* one good descriptor first */
		tr_set_desc(&f->r, 2, b->addr, b->len, b->flags, b->next);
		tr_set_desc(&f->r, 1, BUF, 8, 0, 0);
		tr_make_avail(&f->r, 0);
		assert_pop_breaks(f, b->why);
	}
}

static void test_bad_in_indirect(void **state)
{
	struct fix *f = *state;

	start(f, 4, INDIRECT);
	tr_set_table_desc(&f->r, TABLE, 0, BUF, 16, NEXT, 1);
	tr_set_table_desc(&f->r, TABLE, 1, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	tr_set_desc(&f->r, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	tr_make_avail(&f->r, 0);
	assert_pop_breaks(f, "indirect descriptor in an indirect table");

	start(f, 4, INDIRECT);
	tr_set_table_desc(&f->r, TABLE, 0, BUF, 16, NEXT, 2);	/* table of 2: next 2 is past it */
	tr_set_desc(&f->r, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	tr_make_avail(&f->r, 0);
	assert_pop_breaks(f, "next 2 is past its table of 2");
}

static void test_order_and_capacity(void **state)
{
	struct fix *f = *state;

	start(f, 16, 0);
	tr_set_desc(&f->r, 0, BUF, 8, NEXT | WRITE, 1);
	tr_set_desc(&f->r, 1, BUF, 8, 0, 0);
	tr_make_avail(&f->r, 0);
	assert_pop_breaks(f, "readable descriptor after a writable one");

	/* Nine readable segments for an element that takes eight. */
	start(f, 16, 0);
	for (unsigned i = 0; i < 9; i++)
		tr_set_desc(&f->r, i, BUF + i * 8, 8, i < 8 ? NEXT : 0, i + 1);
	tr_make_avail(&f->r, 0);
	assert_pop_breaks(f, "more than 8 readable segments");
}

static void test_bad_avail(void **state)
{
	struct fix *f = *state;

	/* A head past the table. */
	start(f, 8, 0);
	tr_make_avail(&f->r, 8);
	assert_pop_breaks(f, "names head 8 of 8");

	/* An avail idx further ahead than the ring holds, and one that went backwards. */
	for (unsigned i = 0; i < 2; i++) {
		start(f, 8, EV_IDX);
		tr_set_desc(&f->r, 0, BUF, 8, 0, 0);
		tr_set_avail_idx(&f->r, i ? 0xffff : 9);
		assert_pop_breaks(f, "ahead of 0");
		assert_false(virtq_has_avail(&f->vq));
	}

	/* Exactly full is fine. */
	start(f, 8, 0);
	tr_set_desc(&f->r, 0, BUF, 8, 0, 0);
	tr_set_avail_idx(&f->r, 8);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(virtq_pop(&f->vq, &f->e), 1);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 0);
	assert_int_equal(f->broken_calls, 0);
}

/* Rings that do not fit: refused at enable, before any of them is read. */
static void test_bad_enable(void **state)
{
	static const struct {
		unsigned size;
		uint64_t desc, avail, used, features;
		const char *why;
	} cases[] = {
		{ 0, 0x1000, 0x2000, 0x3000, 0, "size 0" },
		{ 6, 0x1000, 0x2000, 0x3000, 0, "size 6" },
		{ 512, 0x1000, 0x4000, 0x6000, 0, "size 512" },		/* past max 256 */
		{ 8, 0x1008, 0x2000, 0x3000, 0, "descriptor table at 0x1008 is not 16-byte" },
		{ 8, 0x1000, 0x2001, 0x3000, 0, "avail ring at 0x2001 is not 2-byte" },
		{ 8, 0x1000, 0x2000, 0x3002, 0, "used ring at 0x3002 is not 4-byte" },
		{ 8, RAM_SIZE - 64, 0x2000, 0x3000, 0, "descriptor table" },
		{ 8, 0x1000, RAM_SIZE - 18, 0x3000, 0, "avail ring" },
		{ 8, 0x1000, 0x2000, RAM_SIZE - 64, 0, "used ring" },
		/* 4 + 8*8 bytes fit without EVENT_IDX; its avail_event word does not. */
		{ 8, 0x1000, 0x2000, RAM_SIZE - 68, EV_IDX, "used ring" },
		{ 8, UINT64_MAX & ~15ULL, 0x2000, 0x3000, 0, "outside RAM" },
	};
	struct fix *f = *state;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		virtq_init(&f->vq, &f->gm, 0, 256);
		f->vq.on_broken = on_broken;
		f->vq.opaque = f;
		f->broken_calls = 0;
		f->vq.size = cases[i].size;
		f->vq.addr[VIRTQ_AREA_DESC] = cases[i].desc;
		f->vq.addr[VIRTQ_AREA_AVAIL] = cases[i].avail;
		f->vq.addr[VIRTQ_AREA_USED] = cases[i].used;
		assert_true(virtq_enable(&f->vq, cases[i].features) < 0);
		if (!strstr(f->vq.why, cases[i].why))
			fail_msg("case %u: \"%s\" is not \"%s\"", i, f->vq.why, cases[i].why);
		assert_false(f->vq.enabled);
		assert_broken(f);
	}
	/* Without EVENT_IDX, the same used ring ending at RAM's end is fine. */
	virtq_init(&f->vq, &f->gm, 0, 256);
	f->vq.size = 8;
	f->vq.addr[VIRTQ_AREA_DESC] = 0x1000;
	f->vq.addr[VIRTQ_AREA_AVAIL] = 0x2000;
	f->vq.addr[VIRTQ_AREA_USED] = RAM_SIZE - 68;
	assert_int_equal(virtq_enable(&f->vq, 0), 0);
}

/* A queue the driver never enabled gives nothing and publishes nothing. */
static void test_pop_on_disabled(void **state)
{
	struct fix *f = *state;

	virtq_init(&f->vq, &f->gm, 0, 256);
	assert_int_equal(virtq_pop(&f->vq, &f->e), 0);
	assert_false(virtq_has_avail(&f->vq));
	assert_false(virtq_flush(&f->vq));
	assert_int_equal(virtq_push(&f->vq, &f->e, 0), -ESTALE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_kicks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_loop_in_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_in_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_and_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_avail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pop_on_disabled, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
