// SPDX-License-Identifier: GPL-2.0-only
/* Guest RAM layout around the PCI hole and the bounds checks devices rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "qlite/boot.h"
#include "qlite/dma.h"
#include "qlite/guest_mem.h"

static void test_small_ram_one_slot(void **state)
{
	struct guest_mem gm;
	uint8_t b[16] = { 1 };

	assert_int_equal(guest_mem_init(&gm, 64 << 20, false), 0);
	assert_int_equal(gm.nr_slots, 1);
	assert_non_null(guest_mem_ptr(&gm, 0, 64 << 20));
	assert_null(guest_mem_ptr(&gm, 0, (64 << 20) + 1));
	assert_null(guest_mem_ptr(&gm, (64 << 20) - 8, 16));	/* straddles the end */
	assert_null(guest_mem_ptr(&gm, UINT64_MAX - 4, 16));	/* wraps */
	assert_null(guest_mem_ptr(&gm, 16, UINT64_MAX));
	assert_int_equal(guest_mem_write(&gm, 0x1000, b, sizeof(b)), 0);
	assert_int_equal(guest_mem_read(&gm, 64 << 20, b, 1), -EFAULT);
	guest_mem_destroy(&gm);
}

static void test_large_ram_splits_at_hole(void **state)
{
	struct guest_mem gm;
	uint64_t size = PCI_HOLE_START + (256 << 20);
	struct e820_entry e[E820_MAX_ENTRIES];
	unsigned n;

	assert_int_equal(guest_mem_init(&gm, size, true), 0);
	assert_int_equal(gm.nr_slots, 2);
	assert_int_equal(gm.slots[0].size, PCI_HOLE_START);
	assert_int_equal(gm.slots[1].gpa, PCI_HOLE_END);
	assert_int_equal(gm.slots[1].size, 256 << 20);
	assert_null(guest_mem_ptr(&gm, PCI_HOLE_START, 1));		/* the hole is not RAM */
	assert_null(guest_mem_ptr(&gm, PCI_HOLE_START - 4, 8));	/* nor is a straddle into it */
	assert_non_null(guest_mem_ptr(&gm, PCI_HOLE_END, 256 << 20));
	/* Both slots share one mapping: writes land where reads look. */
	*(uint8_t *)guest_mem_ptr(&gm, PCI_HOLE_END, 1) = 0xab;
	assert_int_equal(*(uint8_t *)guest_mem_ptr(&gm, PCI_HOLE_END, 1), 0xab);

	n = e820_build(&gm, e, E820_MAX_ENTRIES);
	assert_int_equal(n, 4);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, EBDA_START);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].addr, HIGH_MEM_START);
	assert_int_equal(e[2].addr + e[2].size, PCI_HOLE_START);
	assert_int_equal(e[3].addr, PCI_HOLE_END);
	assert_int_equal(e[3].size, 256 << 20);
	guest_mem_destroy(&gm);
}

static void test_bad_sizes(void **state)
{
	struct guest_mem gm;

	assert_int_equal(guest_mem_init(&gm, 0, false), -EINVAL);
	assert_int_equal(guest_mem_init(&gm, 4097, false), -EINVAL);
}

/* Scatter-gather over RAM: every range checked as it is added; copies span segments. */
static void test_dma_sg(void **state)
{
	uint64_t size = PCI_HOLE_START + (16 << 20);
	struct iovec iov[3];
	struct guest_mem gm;
	struct dma_sg sg;
	uint8_t out[10], in[10] = { 0 };

	assert_int_equal(guest_mem_init(&gm, size, false), 0);
	dma_sg_init(&sg, &gm, iov, 3);
	assert_int_equal(dma_sg_add(&sg, 0x1000, 4), 0);
	assert_int_equal(dma_sg_add(&sg, PCI_HOLE_END + 0x2000, 6), 0);	/* the high slot */
	assert_int_equal(sg.n, 2);
	assert_int_equal(sg.bytes, 10);
	/* Outside RAM, across the hole, wrapping, empty: refused, the list unchanged. */
	assert_int_equal(dma_sg_add(&sg, PCI_HOLE_START - 2, 4), -EFAULT);
	assert_int_equal(dma_sg_add(&sg, PCI_HOLE_START, 1), -EFAULT);
	assert_int_equal(dma_sg_add(&sg, size + PCI_HOLE_END, 1), -EFAULT);
	assert_int_equal(dma_sg_add(&sg, UINT64_MAX - 1, 4), -EFAULT);
	assert_int_equal(dma_sg_add(&sg, 0x3000, 0), -EINVAL);
	assert_int_equal(dma_sg_add(&sg, 0x3000, UINT32_MAX), -E2BIG);
	assert_int_equal(sg.n, 2);
	assert_int_equal(sg.bytes, 10);
	for (int i = 0; i < 10; i++)
		out[i] = i + 1;
	assert_int_equal(dma_sg_to(&sg, 0, out, sizeof(out)), 10);
	assert_int_equal(*(uint8_t *)guest_mem_ptr(&gm, 0x1003, 1), 4);
	assert_int_equal(*(uint8_t *)guest_mem_ptr(&gm, PCI_HOLE_END + 0x2000, 1), 5);
	/* From an offset inside the first segment, across into the second. */
	assert_int_equal(dma_sg_from(&sg, 2, in, 5), 5);
	assert_memory_equal(in, out + 2, 5);
	/* Past the end: only what is there. */
	assert_int_equal(dma_sg_from(&sg, 8, in, 10), 2);
	assert_int_equal(dma_sg_add(&sg, 0x5000, 1), 0);
	assert_int_equal(dma_sg_add(&sg, 0x6000, 1), -E2BIG);		/* the array is full */
	guest_mem_destroy(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_ram_one_slot),
		cmocka_unit_test(test_dma_sg),
		cmocka_unit_test(test_large_ram_splits_at_hole),
		cmocka_unit_test(test_bad_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
