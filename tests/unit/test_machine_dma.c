// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA as a PCI requester makes it (src/machine/iommu.c): scatter-gather
 * lists built through the machine's IOMMU (machine_dma_sg_add). Without one
 * it is dma_sg_add; with one each piece is translated and checked against
 * RAM, pieces that follow each other in host memory share an entry, and a
 * refusal or a full list leaves the list as it was.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qlite/dma.h"
#include "qlite/guest_mem.h"
#include "qlite/machine.h"

#define RAM_SIZE	(4 << 20)
#define PAGE		0x1000ull
#define IOVA_BASE	0x80000000ull	/* beyond RAM: only an IOMMU makes it an address */
#define GPA_BASE	0x100000ull
#define REFUSED		(IOVA_BASE + 0x40000)	/* this page is refused */
#define OUT_OF_RAM	(IOVA_BASE + 0x50000)	/* this page maps past RAM */

struct ctx {
	struct guest_mem gm;
	struct machine m;
	bool swap;		/* the two pages of each pair swapped, else identity from IOVA_BASE */
	unsigned calls;
	uint16_t last_sid;
	bool last_write;
};

static int iommu_dma(void *opaque, uint16_t sid, uint64_t iova, bool write, uint64_t *gpa,
		     uint64_t *len)
{
	struct ctx *c = opaque;
	uint64_t off = iova - IOVA_BASE;

	c->calls++;
	c->last_sid = sid;
	c->last_write = write;
	if (iova < IOVA_BASE || (iova & ~(PAGE - 1)) == REFUSED)
		return -EFAULT;
	if ((iova & ~(PAGE - 1)) == OUT_OF_RAM)
		*gpa = RAM_SIZE + (iova & (PAGE - 1));
	else
		*gpa = GPA_BASE + (c->swap ? off ^ PAGE : off);
	*len = PAGE - (iova & (PAGE - 1));
	return 0;
}

static int iommu_msi(void *opaque, uint16_t sid, uint64_t *addr, uint32_t *data)
{
	(void)opaque;
	(void)sid;
	(void)addr;
	(void)data;
	return 0;
}

static const struct machine_iommu_ops fake_iommu = {
	.dma_translate = iommu_dma,
	.msi_translate = iommu_msi,
};

static int setup(void **state)
{
	struct ctx *c = test_calloc(1, sizeof(*c));

	assert_int_equal(guest_mem_init(&c->gm, RAM_SIZE, false), 0);
	c->m.mem = &c->gm;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	guest_mem_destroy(&c->gm);
	test_free(c);
	return 0;
}

static uint8_t *host(struct ctx *c, uint64_t gpa)
{
	return guest_mem_ptr(&c->gm, gpa, 1);
}

/* Without an IOMMU: dma_sg_add, guest-physical, an entry per call. */
static void test_no_iommu(void **state)
{
	struct ctx *c = *state;
	struct iovec iov[4];
	struct dma_sg sg;

	dma_sg_init(&sg, &c->gm, iov, 4);
	assert_int_equal(machine_dma_sg_add(&c->m, 8, &sg, 0x1000, 0x3000, true), 0);
	assert_int_equal(machine_dma_sg_add(&c->m, 8, &sg, 0x4000, 0x1000, true), 0);
	assert_int_equal(sg.n, 2);		/* adjacent, yet two entries: as before IOMMUs */
	assert_ptr_equal(iov[0].iov_base, host(c, 0x1000));
	assert_int_equal(iov[0].iov_len, 0x3000);
	assert_int_equal(sg.bytes, 0x4000);
	assert_int_equal(machine_dma_sg_add(&c->m, 8, &sg, RAM_SIZE - 8, 16, false), -EFAULT);
	assert_int_equal(machine_dma_sg_add(&c->m, 8, &sg, IOVA_BASE, 16, false), -EFAULT);
	assert_int_equal(machine_dma_sg_add(&c->m, 8, &sg, 0, 0, false), -EINVAL);
	assert_int_equal(sg.n, 2);
	assert_int_equal(sg.bytes, 0x4000);
}

/* An identity mapping costs no more entries than no IOMMU: contiguous pages join. */
static void test_identity_merges(void **state)
{
	struct ctx *c = *state;
	struct iovec iov[4];
	struct dma_sg sg;

	assert_int_equal(machine_set_iommu(&c->m, &fake_iommu, c, 0xfed90000, false), 0);
	dma_sg_init(&sg, &c->gm, iov, 4);
	/* 64 KiB from mid-page: 17 pieces, one entry. */
	assert_int_equal(machine_dma_sg_add(&c->m, 0x0809, &sg, IOVA_BASE + 0x200, 0x10000,
					    true), 0);
	assert_int_equal(sg.n, 1);
	assert_ptr_equal(iov[0].iov_base, host(c, GPA_BASE + 0x200));
	assert_int_equal(iov[0].iov_len, 0x10000);
	assert_int_equal(c->calls, 17);
	assert_int_equal(c->last_sid, 0x0809);
	assert_true(c->last_write);
	/* The next range picks up where it ended: it joins that entry too. */
	assert_int_equal(machine_dma_sg_add(&c->m, 0x0809, &sg, IOVA_BASE + 0x10200, 0x100,
					    false), 0);
	assert_false(c->last_write);
	assert_int_equal(sg.n, 1);
	assert_int_equal(iov[0].iov_len, 0x10100);
	/* One elsewhere starts an entry of its own. */
	assert_int_equal(machine_dma_sg_add(&c->m, 0x0809, &sg, IOVA_BASE + 0x30000, 0x10, false),
			 0);
	assert_int_equal(sg.n, 2);
	assert_ptr_equal(iov[1].iov_base, host(c, GPA_BASE + 0x30000));
	assert_int_equal(sg.bytes, 0x10110);
}

/* Pages apart in RAM are entries apart, each where its IOVA maps. */
static void test_remapped_pieces(void **state)
{
	struct ctx *c = *state;
	struct iovec iov[8];
	uint8_t src[0x2000], dst[0x2000];
	struct dma_sg sg;

	c->swap = true;
	assert_int_equal(machine_set_iommu(&c->m, &fake_iommu, c, 0xfed90000, false), 0);
	dma_sg_init(&sg, &c->gm, iov, 8);
	/* IOVA pages 0x10 and 0x11 are GPA pages 0x11 and 0x10: backwards, so not merged. */
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, IOVA_BASE + 0x10800, 0x1000, true), 0);
	assert_int_equal(sg.n, 2);
	assert_ptr_equal(iov[0].iov_base, host(c, GPA_BASE + 0x11800));
	assert_int_equal(iov[0].iov_len, 0x800);
	assert_ptr_equal(iov[1].iov_base, host(c, GPA_BASE + 0x10000));
	assert_int_equal(iov[1].iov_len, 0x800);
	/* Bytes copied through the list land where the guest reads its IOVAs. */
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(dma_sg_to(&sg, 0, src, 0x1000), 0x1000);
	assert_int_equal(machine_dma_read(&c->m, 1, IOVA_BASE + 0x10800, dst, 0x1000), 0);
	assert_memory_equal(dst, src, 0x1000);
	assert_memory_equal(host(c, GPA_BASE + 0x11800), src, 0x800);
	assert_memory_equal(host(c, GPA_BASE + 0x10000), src + 0x800, 0x800);
}

/* A refused or non-RAM piece anywhere: -EFAULT, the list as it was, even a grown entry. */
static void test_refusal_all_or_nothing(void **state)
{
	struct ctx *c = *state;
	struct iovec iov[4];
	struct dma_sg sg;

	assert_int_equal(machine_set_iommu(&c->m, &fake_iommu, c, 0xfed90000, false), 0);
	dma_sg_init(&sg, &c->gm, iov, 4);
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, REFUSED - 0x2000, 0x1000, true), 0);
	assert_int_equal(sg.n, 1);
	/* Starts by growing that entry, then reaches the refused page. */
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, REFUSED - 0x1000, 0x1800, true),
			 -EFAULT);
	assert_int_equal(sg.n, 1);
	assert_int_equal(iov[0].iov_len, 0x1000);
	assert_int_equal(sg.bytes, 0x1000);
	/* A translation that lands outside RAM is refused the same way. */
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, OUT_OF_RAM - 0x100, 0x200, false),
			 -EFAULT);
	/* Below the IOMMU's window, and a range that wraps. */
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, 0x1000, 0x10, false), -EFAULT);
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, UINT64_MAX - 0xf, 0x20, false),
			 -EFAULT);
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, IOVA_BASE, 0, false), -EINVAL);
	assert_int_equal(sg.n, 1);
	assert_int_equal(iov[0].iov_len, 0x1000);
	assert_int_equal(sg.bytes, 0x1000);
}

/* Pieces that do not fit, or a total past UINT32_MAX: -E2BIG, the list as it was. */
static void test_full_list(void **state)
{
	struct ctx *c = *state;
	struct iovec iov[2];
	struct dma_sg sg;

	c->swap = true;
	assert_int_equal(machine_set_iommu(&c->m, &fake_iommu, c, 0xfed90000, false), 0);
	dma_sg_init(&sg, &c->gm, iov, 2);
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, IOVA_BASE + 0x20000, 0x100, true), 0);
	/* IOVA pages 0x31 and 0x32 are GPA pages 0x30 and 0x33: two entries, one is left. */
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, IOVA_BASE + 0x31000, 0x2000, true),
			 -E2BIG);
	assert_int_equal(sg.n, 1);
	assert_int_equal(sg.bytes, 0x100);
	/* One piece fits in the last entry. */
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, IOVA_BASE + 0x31000, 0x1000, true), 0);
	assert_int_equal(sg.n, 2);
	assert_int_equal(machine_dma_sg_add(&c->m, 1, &sg, IOVA_BASE + 0x50000, UINT32_MAX, true),
			 -E2BIG);
	assert_int_equal(sg.n, 2);
	assert_int_equal(sg.bytes, 0x1100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_merges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remapped_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_list, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
