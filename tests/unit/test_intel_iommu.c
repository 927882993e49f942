// SPDX-License-Identifier: GPL-2.0-only
/*
 * intel-iommu on the fake machine with real guest RAM, built through
 * vdev_create_all() as run and check build it: the registers a driver
 * reads and programs (4- and 8-byte, and halves), DMA remapping through
 * 3- and 4-level tables and superpages, every DMA and interrupt-remapping
 * fault as the fault recording register and the fault event report it,
 * interrupt remapping of MSIs and of the IOAPIC's messages, queued
 * invalidation, and a hostile guest's tables and accesses. DMA and MSIs go
 * through the machine's own machine_dma_read/write and machine_msi_raise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_machine.h"
#include "report_capture.h"
#include "qlite/util.h"
#include "qlite/pci.h"
#include "qlite/vdev.h"

#define RAM		(64ULL << 20)
#define BASE		0xfed90000ULL

#define VER		0x000
#define CAP		0x008
#define ECAP		0x010
#define GCMD		0x018
#define GSTS		0x01c
#define RTADDR		0x020
#define CCMD		0x028
#define FSTS		0x034
#define FECTL		0x038
#define FEDATA		0x03c
#define FEADDR		0x040
#define FEUADDR		0x044
#define IQH		0x080
#define IQT		0x088
#define IQA		0x090
#define ICS		0x09c
#define IECTL		0x0a0
#define IEDATA		0x0a4
#define IEADDR		0x0a8
#define IRTA		0x0b8
#define IVA		0x200
#define IOTLB		0x208
#define FRCD		0x220

#define TE		(1u << 31)
#define SRTP		(1u << 30)
#define SFL		(1u << 29)
#define WBF		(1u << 27)
#define QIE		(1u << 26)
#define IRE		(1u << 25)
#define SIRTP		(1u << 24)
#define CFI		(1u << 23)

#define PFO		(1u << 0)
#define PPF		(1u << 1)
#define IQE		(1u << 4)
#define IM		(1u << 31)
#define IP		(1u << 30)

/* The values the unit advertises (docs/design.md). */
#define CAP_VALUE	0x00d2008c22260206ULL	/* QEMU 7.2's, aw-bits 39 */
#define CAP_AW48	0x00d2008c222f0606ULL
#define ECAP_VALUE	0x0000000000f0204bULL	/* C, QI, IR, PT, IRO 0x20, MHMV 15 */
#define ECAP_NO_IR	0x0000000000f02043ULL

/* Guest RAM layout of the tests' tables. */
#define ROOT		0x100000ULL
#define IRT		0x180000ULL	/* 65536 entries: 1 MiB */
#define QUEUE		0x400000ULL
#define STATUS		0x500000ULL	/* after the largest queue */
#define POOL		0x800000ULL	/* context and page tables from here */
#define DATA		0x2000000ULL	/* DMA targets */

#define SID_EDU		0x0018	/* 00:03.0 */
#define SID_OTHER	0x0020	/* 00:04.0 */

#define FE_ADDR		0xfee01000u
#define FE_DATA		0x4e
#define IE_ADDR		0xfee02000u
#define IE_DATA		0x4f

#define PTE_R		1ULL
#define PTE_W		2ULL
#define PTE_RW		3ULL
#define PTE_PS		(1ULL << 7)

struct ctx {
	struct fake_machine *fm;
	struct guest_mem gm;
	struct vm_spec spec;
	struct report_capture said;
	uint64_t next;		/* the next free page of POOL */
};

static void spec_add(struct vm_spec *spec, const char *key, const char *value)
{
	struct vdev_spec *vs;

	spec->vdevs = realloc(spec->vdevs, (spec->nr_vdevs + 1) * sizeof(*vs));
	assert_non_null(spec->vdevs);
	vs = &spec->vdevs[spec->nr_vdevs];
	memset(vs, 0, sizeof(*vs));
	vs->type = "intel-iommu";
	vs->origin = (struct spec_origin){ .file = "vm.conf", .line = 2 + spec->nr_vdevs,
					   .option = "vdev" };
	if (key)
		vs->opts[vs->nr_opts++] = (struct vdev_opt){ (char *)key, (char *)value };
	spec->nr_vdevs++;
}

static struct ctx *ctx_new(bool split)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->fm = fake_machine_create();
	assert_int_equal(guest_mem_init(&c->gm, RAM, false), 0);
	c->fm->m.mem = &c->gm;
	c->fm->m.split_irqchip = split;
	c->next = POOL;
	report_capture_start(&c->said);
	return c;
}

static void ctx_destroy(struct ctx *c)
{
	report_capture_stop(&c->said);
	fake_machine_destroy(c->fm);
	guest_mem_destroy(&c->gm);
	free(c->spec.vdevs);
	free(c);
}

static struct ctx *ctx_create(const char *key, const char *value)
{
	struct ctx *c = ctx_new(true);

	spec_add(&c->spec, key, value);
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	assert_non_null(c->fm->m.iommu);
	return c;
}

static int setup(void **state)
{
	*state = ctx_create(NULL, NULL);
	return 0;
}

/* 48-bit guest addresses: 4-level tables too. */
static int setup48(void **state)
{
	*state = ctx_create("aw-bits", "48");
	return 0;
}

static int teardown(void **state)
{
	ctx_destroy(*state);
	return 0;
}

static uint64_t rd(struct ctx *c, unsigned off, unsigned len)
{
	return fake_mmio_read(c->fm, BASE + off, len);
}

static void wr(struct ctx *c, unsigned off, unsigned len, uint64_t val)
{
	fake_mmio_write(c->fm, BASE + off, len, val);
}

/* What kvm-unit-tests' vtd_gcmd_or does: the status with one more command. */
static void gcmd_or(struct ctx *c, uint32_t cmd)
{
	wr(c, GCMD, 4, (rd(c, GSTS, 4) | cmd) & ~(uint64_t)(SFL | WBF));
}

static void gcmd_clear(struct ctx *c, uint32_t cmd)
{
	wr(c, GCMD, 4, rd(c, GSTS, 4) & ~(uint64_t)cmd);
}

static void put64(struct ctx *c, uint64_t gpa, uint64_t v)
{
	assert_int_equal(guest_mem_write(&c->gm, gpa, &v, sizeof(v)), 0);
}

static uint64_t get64(struct ctx *c, uint64_t gpa)
{
	uint64_t v;

	assert_int_equal(guest_mem_read(&c->gm, gpa, &v, sizeof(v)), 0);
	return v;
}

static uint64_t alloc_page(struct ctx *c)
{
	uint64_t p = c->next;
	void *h = guest_mem_ptr(&c->gm, p, 4096);

	assert_non_null(h);
	memset(h, 0, 4096);
	c->next += 4096;
	return p;
}

/* The context entry of sid (its root entry made as needed); returns its address. */
static uint64_t context_entry(struct ctx *c, uint16_t sid)
{
	uint64_t re = ROOT + (sid >> 8) * 16, ct;

	if (!(get64(c, re) & 1))
		put64(c, re, alloc_page(c) | 1);
	ct = get64(c, re) & ~0xfffULL;
	return ct + (sid & 0xff) * 16;
}

/* A multi-level context entry for sid: aw 1 (3 levels) or 2 (4 levels); returns its table. */
static uint64_t attach(struct ctx *c, uint16_t sid, unsigned aw, bool fpd)
{
	uint64_t ce = context_entry(c, sid), slpt = alloc_page(c);

	put64(c, ce, slpt | (fpd ? 2 : 0) | 1);
	put64(c, ce + 8, aw | (uint64_t)sid << 8);
	return slpt;
}

/* Map iova to gpa at level (1: 4K, 2: 2M, 3: 1G) in a table of levels levels. */
static void map(struct ctx *c, uint64_t table, unsigned levels, uint64_t iova, uint64_t gpa,
		unsigned level, uint64_t perm)
{
	for (unsigned l = levels; l > level; l--) {
		uint64_t e = table + ((iova >> (12 + 9 * (l - 1))) & 511) * 8;

		if (!(get64(c, e) & PTE_RW))
			put64(c, e, alloc_page(c) | PTE_RW);
		table = get64(c, e) & ~0xfffULL;
	}
	put64(c, table + ((iova >> (12 + 9 * (level - 1))) & 511) * 8,
	      gpa | perm | (level > 1 ? PTE_PS : 0));
}

static void dmar_on(struct ctx *c)
{
	wr(c, RTADDR, 8, ROOT);
	gcmd_or(c, SRTP);
	gcmd_or(c, TE);
	wr(c, FEADDR, 4, FE_ADDR);
	wr(c, FEDATA, 4, FE_DATA);
	wr(c, FECTL, 4, 0);
}

static int translate(struct ctx *c, uint16_t sid, uint64_t iova, bool write, uint64_t *gpa,
		     uint64_t *len)
{
	struct machine *m = &c->fm->m;

	return m->iommu->dma_translate(m->iommu_opaque, sid, iova, write, gpa, len);
}

/* The fault in the recording register: reason, sid, fault info, read; then clear it. */
static void expect_fault(struct ctx *c, unsigned reason, uint16_t sid, uint64_t fi, bool read)
{
	uint64_t lo = rd(c, FRCD, 8), hi = rd(c, FRCD + 8, 8);

	assert_true(rd(c, FSTS, 4) & PPF);
	assert_true(hi >> 63);
	assert_int_equal((hi >> 32) & 0xff, reason);
	assert_int_equal(hi & 0xffff, sid);
	assert_int_equal((hi >> 62) & 1, read);
	assert_int_equal(lo, fi & ~0xfffULL);
	/* FRI: the one register. */
	assert_int_equal((rd(c, FSTS, 4) >> 8) & 0xff, 0);
	/* F is write-1-to-clear (a 4-byte write of the top dword); PPF follows it. */
	wr(c, FRCD + 12, 4, 1u << 31);
	assert_int_equal(rd(c, FRCD + 8, 8) >> 63, 0);
	assert_int_equal(rd(c, FSTS, 4) & PPF, 0);
}

static bool msi_seen(struct ctx *c, uint64_t addr, uint32_t data)
{
	for (unsigned i = 0; i < c->fm->nr_msi_calls; i++)
		if (c->fm->msi_calls[i].addr == addr && c->fm->msi_calls[i].data == data)
			return true;
	return false;
}

/* ---- registers ---- */

static void test_defaults(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(rd(c, VER, 4), 0x10);
	assert_int_equal(rd(c, CAP, 8), CAP_VALUE);
	assert_int_equal(rd(c, ECAP, 8), ECAP_VALUE);
	/* 64-bit registers read as halves too. */
	assert_int_equal(rd(c, CAP, 4), CAP_VALUE & 0xffffffff);
	assert_int_equal(rd(c, CAP + 4, 4), CAP_VALUE >> 32);
	/* 39-bit AGAW, MGAW 39, 2M and 1G pages, FRO 0x220, IRO 0x200; 48 with aw-bits 48. */
	assert_int_equal((CAP_VALUE >> 8) & 0x1f, 0x2);
	assert_int_equal(((CAP_VALUE >> 16) & 0x3f) + 1, 39);
	assert_int_equal((CAP_AW48 >> 8) & 0x1f, 0x6);
	assert_int_equal(((CAP_AW48 >> 16) & 0x3f) + 1, 48);
	assert_int_equal(CAP_AW48 & ~0x3f1f00ULL, CAP_VALUE & ~0x3f1f00ULL);
	assert_int_equal((CAP_VALUE >> 34) & 0xf, 3);
	assert_int_equal(((CAP_VALUE >> 24) & 0x3ff) * 16, FRCD);
	assert_int_equal(((ECAP_VALUE >> 8) & 0x3ff) * 16, IVA);
	assert_int_equal(rd(c, GSTS, 4), 0);
	assert_int_equal(rd(c, FSTS, 4), 0);
	assert_int_equal(rd(c, FECTL, 4), IM);
	assert_int_equal(rd(c, IECTL, 4), IM);
	assert_int_equal(rd(c, RTADDR, 8), 0);
	assert_int_equal(rd(c, IRTA, 8), 0);
	assert_int_equal(rd(c, FRCD, 8), 0);
	assert_int_equal(rd(c, FRCD + 8, 8), 0);
	/* GCMD is write-only; unknown offsets and the rest of the page read 0. */
	assert_int_equal(rd(c, GCMD, 4), 0);
	assert_int_equal(rd(c, 0x100, 8), 0);
	assert_int_equal(rd(c, 0x230, 4), 0);
	assert_int_equal(rd(c, 0xff8, 8), 0);
	/* Read-only registers keep their value. */
	wr(c, CAP, 8, 0);
	wr(c, VER, 4, 0);
	wr(c, GSTS, 4, 0xffffffff);
	assert_int_equal(rd(c, CAP, 8), CAP_VALUE);
	assert_int_equal(rd(c, VER, 4), 0x10);
	assert_int_equal(rd(c, GSTS, 4), 0);
	assert_true(c->fm->m.iommu_intremap);
	assert_int_equal(c->fm->m.iommu_base, BASE);
}

/* GCMD -> GSTS in kvm-unit-tests' order, then back off. */
static void test_gcmd(void **state)
{
	struct ctx *c = *state;

	wr(c, IQT, 8, 0);
	gcmd_or(c, QIE);
	assert_int_equal(rd(c, GSTS, 4), QIE);
	assert_int_equal(rd(c, IQH, 8), 0);
	wr(c, RTADDR, 8, ROOT);
	assert_int_equal(rd(c, RTADDR, 8), ROOT);
	gcmd_or(c, SRTP);
	assert_int_equal(rd(c, GSTS, 4), QIE | SRTP);
	wr(c, IRTA, 8, IRT | 0xf);
	assert_int_equal(rd(c, IRTA, 8), IRT | 0xf);
	gcmd_or(c, SIRTP);
	assert_int_equal(rd(c, GSTS, 4), QIE | SRTP | SIRTP);
	gcmd_or(c, TE);
	gcmd_or(c, IRE);
	assert_int_equal(rd(c, GSTS, 4), QIE | SRTP | SIRTP | TE | IRE);
	gcmd_or(c, CFI);
	assert_true(rd(c, GSTS, 4) & CFI);
	/* One-shot commands with nothing to report: no status bit. */
	wr(c, GCMD, 4, rd(c, GSTS, 4) | WBF | SFL);
	assert_int_equal(rd(c, GSTS, 4), QIE | SRTP | SIRTP | TE | IRE | CFI);
	/* The top byte alone: the other commands stay as GSTS has them. */
	wr(c, GCMD + 3, 1, (rd(c, GSTS, 4) & ~(uint64_t)TE) >> 24);
	assert_int_equal(rd(c, GSTS, 4), QIE | SRTP | SIRTP | IRE | CFI);
	gcmd_clear(c, IRE | CFI | QIE);
	assert_int_equal(rd(c, GSTS, 4), SRTP | SIRTP);
	assert_int_equal(rd(c, FSTS, 4), 0);
	/* Reserved bits of the address registers stay 0 (EIME: no x2APIC). */
	wr(c, IRTA, 8, ~0ULL);
	assert_int_equal(rd(c, IRTA, 8), ~0xfffULL | 0xf);
	wr(c, RTADDR, 8, ~0ULL);
	assert_int_equal(rd(c, RTADDR, 8), ~0xfffULL);
	wr(c, IQA, 8, ~0ULL);
	assert_int_equal(rd(c, IQA, 8), ~0x7f8ULL);
}

/* An 8-byte register written as two 4-byte halves, either order, and wide writes. */
static void test_halves(void **state)
{
	struct ctx *c = *state;

	wr(c, RTADDR + 4, 4, 0x1);
	wr(c, RTADDR, 4, 0x12345000);
	assert_int_equal(rd(c, RTADDR, 8), 0x112345000ULL);
	wr(c, IRTA, 4, 0x00abc007);
	wr(c, IRTA + 4, 4, 0);
	assert_int_equal(rd(c, IRTA, 8), 0xabc007);
	/* An 8-byte write over FEDATA and FEADDR sets both. */
	wr(c, FEDATA, 8, (uint64_t)FE_ADDR << 32 | FE_DATA);
	assert_int_equal(rd(c, FEDATA, 4), FE_DATA);
	assert_int_equal(rd(c, FEADDR, 4), FE_ADDR);
	/* Register-based invalidations complete at once: ICC/IVT clear, the granularity reported. */
	wr(c, CCMD, 8, 1ULL << 63 | 2ULL << 61 | 5);
	assert_int_equal(rd(c, CCMD, 8), 2ULL << 61 | 2ULL << 59 | 5);
	wr(c, CCMD, 4, 0);
	wr(c, CCMD + 4, 4, 0xa0000000);	/* ICC, global, from the high half */
	assert_int_equal(rd(c, CCMD, 8) >> 59, 0x1 << 2 | 1);
	wr(c, IOTLB, 8, 1ULL << 63 | 1ULL << 60);
	assert_int_equal(rd(c, IOTLB, 8), 1ULL << 60 | 1ULL << 57);
	/* Page-selective with an address mask beyond MAMV: not done (IAIG 0). */
	wr(c, IVA, 8, 0x5000 | 19);
	wr(c, IOTLB, 8, 1ULL << 63 | 3ULL << 60);
	assert_int_equal(rd(c, IOTLB, 8), 3ULL << 60);
	wr(c, IVA, 8, 0x5000 | 2);
	wr(c, IOTLB + 4, 4, (1u << 31 | 3u << 28));
	assert_int_equal(rd(c, IOTLB, 8), 3ULL << 60 | 3ULL << 57);
}

/* ---- DMA remapping ---- */

static void test_identity_when_off(void **state)
{
	struct ctx *c = *state;
	uint64_t gpa, len;
	uint32_t v = 0xdeadbeef, back = 0;

	assert_int_equal(translate(c, SID_EDU, 0x1234, false, &gpa, &len), 0);
	assert_int_equal(gpa, 0x1234);
	assert_int_equal(len, 0x1000 - 0x234);
	assert_int_equal(machine_dma_write(&c->fm->m, SID_EDU, DATA, &v, 4), 0);
	assert_int_equal(guest_mem_read(&c->gm, DATA, &back, 4), 0);
	assert_int_equal(back, v);
}

static void test_translate_3level(void **state)
{
	struct ctx *c = *state;
	uint64_t slpt = attach(c, SID_EDU, 1, true), gpa, len;
	uint32_t word = 0x12345678, back = 0;

	map(c, slpt, 3, 0, DATA, 1, PTE_RW);
	map(c, slpt, 3, 0x7fffff000ULL, DATA + 0x1000, 1, PTE_R);
	dmar_on(c);
	assert_int_equal(translate(c, SID_EDU, 0x123, false, &gpa, &len), 0);
	assert_int_equal(gpa, DATA + 0x123);
	assert_int_equal(len, 0x1000 - 0x123);
	assert_int_equal(translate(c, SID_EDU, 0x7fffff008ULL, false, &gpa, &len), 0);
	assert_int_equal(gpa, DATA + 0x1008);
	/* kvm-unit-tests' DMA: read 4 bytes at iova 0, write them back at iova 4. */
	put64(c, DATA, word);
	assert_int_equal(machine_dma_read(&c->fm->m, SID_EDU, 0, &back, 4), 0);
	assert_int_equal(back, word);
	assert_int_equal(machine_dma_write(&c->fm->m, SID_EDU, 4, &back, 4), 0);
	assert_int_equal(get64(c, DATA) >> 32, word);
	/* Across the page end into an unmapped page: refused, nothing read. */
	back = 0;
	assert_int_equal(machine_dma_read(&c->fm->m, SID_EDU, 0xffe, &back, 4), -EFAULT);
	assert_int_equal(back, 0);
	/* FPD in the context entry: faults not recorded. */
	assert_int_equal(rd(c, FSTS, 4), 0);
	assert_int_equal(c->fm->nr_msi_calls, 0);
}

static void test_translate_4level_superpages(void **state)
{
	struct ctx *c = *state;
	uint64_t slpt = attach(c, SID_EDU, 2, false), gpa, len;

	/* 4K high in the 48-bit space, a 2M page and a 1G page. */
	map(c, slpt, 4, 0xabcd12345000ULL, DATA, 1, PTE_RW);
	map(c, slpt, 4, 0x40200000ULL, 0x1400000ULL, 2, PTE_RW);
	map(c, slpt, 4, 0x8000000000ULL, 0x40000000ULL, 3, PTE_RW);
	dmar_on(c);
	assert_int_equal(translate(c, SID_EDU, 0xabcd12345010ULL, true, &gpa, &len), 0);
	assert_int_equal(gpa, DATA + 0x10);
	assert_int_equal(len, 0xff0);
	assert_int_equal(translate(c, SID_EDU, 0x40212345ULL, true, &gpa, &len), 0);
	assert_int_equal(gpa, 0x1412345ULL);
	assert_int_equal(len, 0x200000 - 0x12345);
	assert_int_equal(translate(c, SID_EDU, 0x8012345678ULL, false, &gpa, &len), 0);
	assert_int_equal(gpa, 0x52345678ULL);
	assert_int_equal(len, 0x40000000ULL - 0x12345678);
	/* A 2M page crossed by a DMA: one piece, into RAM. */
	put64(c, 0x1400000ULL + 0x1ffff8, 0x1122334455667788ULL);
	{
		uint64_t v = 0;

		assert_int_equal(machine_dma_read(&c->fm->m, SID_EDU, 0x403ffff8ULL, &v, 8), 0);
		assert_int_equal(v, 0x1122334455667788ULL);
	}
	assert_int_equal(rd(c, FSTS, 4), 0);
}

/* aw-bits 39 (QEMU's default): a 4-level context is invalid, 39 bits the limit; 48 on request. */
static void test_aw_bits(void **state)
{
	struct ctx *c = *state, *c48;
	uint64_t gpa, len;

	map(c, attach(c, SID_EDU, 2, false), 4, 0x5000, DATA, 1, PTE_RW);
	dmar_on(c);
	assert_int_equal(translate(c, SID_EDU, 0x5000, false, &gpa, &len), -EFAULT);
	expect_fault(c, 0x3, SID_EDU, 0x5000, true);
	map(c, attach(c, SID_OTHER, 1, false), 3, 0x7ffffff000ULL, DATA, 1, PTE_RW);
	assert_int_equal(translate(c, SID_OTHER, 0x7ffffff000ULL, true, &gpa, &len), 0);
	assert_int_equal(translate(c, SID_OTHER, 1ULL << 39, true, &gpa, &len), -EFAULT);
	expect_fault(c, 0x4, SID_OTHER, 1ULL << 39, false);

	c48 = ctx_create("aw-bits", "48");
	assert_int_equal(rd(c48, CAP, 8), CAP_AW48);
	assert_string_equal(c48->fm->m.reports[0].summary,
			    "regs 0xfed90000, VT-d 1.0, aw-bits 48, intremap on");
	ctx_destroy(c48);
}

/* Pass-through context entries (ECAP.PT): identity, whatever the tables. */
static void test_pass_through(void **state)
{
	struct ctx *c = *state;
	uint64_t ce = context_entry(c, SID_OTHER), gpa, len;

	put64(c, ce, 2 << 2 | 1);
	put64(c, ce + 8, 1);
	dmar_on(c);
	assert_int_equal(translate(c, SID_OTHER, 0x3456789, true, &gpa, &len), 0);
	assert_int_equal(gpa, 0x3456789);
	assert_int_equal(len, 0x1000 - 0x789);
}

struct fault_case {
	const char *what;
	unsigned reason;
	uint64_t iova;
	bool write;
	void (*prepare)(struct ctx *c);
};

static void no_root(struct ctx *c) { (void)c; }

static void no_context(struct ctx *c)
{
	context_entry(c, SID_EDU);
}

static void bad_aw(struct ctx *c)
{
	uint64_t ce = context_entry(c, SID_EDU);

	put64(c, ce, alloc_page(c) | 1);
	put64(c, ce + 8, 3);
}

static void bad_type(struct ctx *c)
{
	uint64_t ce = context_entry(c, SID_EDU);

	put64(c, ce, alloc_page(c) | 1 << 2 | 1);	/* device-TLB: no ATS */
	put64(c, ce + 8, 1);
}

static void mapped_ro(struct ctx *c)
{
	map(c, attach(c, SID_EDU, 1, false), 3, 0x5000, DATA, 1, PTE_R);
}

static void mapped_wo(struct ctx *c)
{
	map(c, attach(c, SID_EDU, 1, false), 3, 0x5000, DATA, 1, PTE_W);
}

static void pte_outside_ram(struct ctx *c)
{
	uint64_t slpt = attach(c, SID_EDU, 1, false);

	put64(c, slpt, 0xc0000000ULL | PTE_RW);	/* the PCI hole */
}

static void root_outside_ram(struct ctx *c)
{
	wr(c, RTADDR, 8, 0x7ffffff000ULL);
	gcmd_or(c, SRTP);
}

static void context_outside_ram(struct ctx *c)
{
	put64(c, ROOT, 0x7ffffff000ULL | 1);
}

static void root_reserved(struct ctx *c)
{
	context_entry(c, SID_EDU);
	put64(c, ROOT + 8, 1);
}

static void context_reserved(struct ctx *c)
{
	attach(c, SID_EDU, 1, false);
	put64(c, context_entry(c, SID_EDU) + 8, 1 | 1ULL << 40);
}

static void pte_reserved(struct ctx *c)
{
	uint64_t slpt = attach(c, SID_EDU, 1, false);

	/* A 1G page whose address is not 1G-aligned. */
	put64(c, slpt, 0x200000ULL | PTE_RW | PTE_PS);
}

static void snoop_reserved(struct ctx *c)
{
	map(c, attach(c, SID_EDU, 1, false), 3, 0x5000, DATA | 1 << 11, 1, PTE_RW);
}

static void pml4_superpage(struct ctx *c)
{
	uint64_t slpt = attach(c, SID_EDU, 2, false);

	put64(c, slpt, PTE_RW | PTE_PS);
}

static void not_present_middle(struct ctx *c)
{
	attach(c, SID_EDU, 1, false);
}

static const struct fault_case fault_cases[] = {
	{ "root entry not present", 0x1, 0x5000, false, no_root },
	{ "context entry not present", 0x2, 0x5000, false, no_context },
	{ "context AW not supported", 0x3, 0x5000, false, bad_aw },
	{ "context T device-TLB", 0x3, 0x5000, false, bad_type },
	{ "beyond 39 bits", 0x4, 1ULL << 39, false, mapped_ro },
	{ "write to read-only", 0x5, 0x5008, true, mapped_ro },
	{ "read of write-only", 0x6, 0x5008, false, mapped_wo },
	{ "not present on the way", 0x6, 0x5000, false, not_present_middle },
	{ "paging entry outside RAM", 0x7, 0x5000, false, pte_outside_ram },
	{ "root table outside RAM", 0x8, 0x5000, false, root_outside_ram },
	{ "context table outside RAM", 0x9, 0x5000, false, context_outside_ram },
	{ "root entry reserved bits", 0xa, 0x5000, false, root_reserved },
	{ "context entry reserved bits", 0xb, 0x5000, false, context_reserved },
	{ "superpage misaligned", 0xc, 0x5000, false, pte_reserved },
	{ "SNP without snoop control", 0xc, 0x5000, true, snoop_reserved },
	{ "PS in a PML4E", 0xc, 0x5000, false, pml4_superpage },
};

/* Every DMA fault: refused, logged, FSTS.PPF, one fault event with the guest's message. */
static void test_dma_faults(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(fault_cases); i++) {
		const struct fault_case *f = &fault_cases[i];
		struct ctx *c = ctx_create("aw-bits", "48");
		uint64_t gpa = 0, len = 0, buf = 0;

		print_message("%s\n", f->what);
		dmar_on(c);
		f->prepare(c);
		assert_int_equal(translate(c, SID_EDU, f->iova, f->write, &gpa, &len), -EFAULT);
		expect_fault(c, f->reason, SID_EDU, f->iova, !f->write);
		assert_int_equal(c->fm->nr_msi_calls, 1);
		assert_true(msi_seen(c, FE_ADDR, FE_DATA));
		/* Through the machine too: the device's access is dropped. */
		if (f->write)
			assert_int_equal(machine_dma_write(&c->fm->m, SID_EDU, f->iova, &buf, 8),
					 -EFAULT);
		else
			assert_int_equal(machine_dma_read(&c->fm->m, SID_EDU, f->iova, &buf, 8),
					 -EFAULT);
		ctx_destroy(c);
	}
}

/* A masked fault event stays pending (IP) and goes when unmasked; a second fault overflows. */
static void test_fault_event_masked_and_overflow(void **state)
{
	struct ctx *c = *state;
	uint64_t gpa, len;

	dmar_on(c);
	wr(c, FECTL, 4, IM);
	assert_int_equal(translate(c, SID_EDU, 0x1000, false, &gpa, &len), -EFAULT);
	assert_int_equal(c->fm->nr_msi_calls, 0);
	assert_int_equal(rd(c, FECTL, 4), IM | IP);
	assert_int_equal(translate(c, SID_OTHER, 0x2000, true, &gpa, &len), -EFAULT);
	assert_int_equal(rd(c, FSTS, 4), PPF | PFO);
	/* The first fault is the one logged. */
	assert_int_equal(rd(c, FRCD + 8, 8) & 0xffff, SID_EDU);
	wr(c, FECTL, 4, 0);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_true(msi_seen(c, FE_ADDR, FE_DATA));
	assert_int_equal(rd(c, FECTL, 4), 0);
	/* While PFO is set nothing more is logged, and no more events. */
	wr(c, FRCD + 12, 4, 1u << 31);
	assert_int_equal(translate(c, SID_OTHER, 0x2000, true, &gpa, &len), -EFAULT);
	assert_int_equal(rd(c, FRCD + 8, 8) >> 63, 0);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	/* Cleared (RW1C): the next fault is logged and signalled again. */
	wr(c, FSTS, 4, PFO);
	assert_int_equal(rd(c, FSTS, 4), 0);
	assert_int_equal(translate(c, SID_OTHER, 0x2000, true, &gpa, &len), -EFAULT);
	expect_fault(c, 0x1, SID_OTHER, 0x2000, false);
	assert_int_equal(c->fm->nr_msi_calls, 2);
}

/* FPD: faults found at the context entry or after it are not logged; the root's are. */
static void test_fpd(void **state)
{
	struct ctx *c = *state;
	uint64_t ce = context_entry(c, SID_EDU), gpa, len;

	dmar_on(c);
	put64(c, ce, 2);	/* not present, FPD */
	assert_int_equal(translate(c, SID_EDU, 0, false, &gpa, &len), -EFAULT);
	attach(c, SID_EDU, 1, true);
	assert_int_equal(translate(c, SID_EDU, 0, true, &gpa, &len), -EFAULT);
	assert_int_equal(translate(c, SID_EDU, 1ULL << 40, true, &gpa, &len), -EFAULT);
	assert_int_equal(rd(c, FSTS, 4), 0);
	assert_int_equal(c->fm->nr_msi_calls, 0);
	assert_int_equal(translate(c, 0x0100, 0, false, &gpa, &len), -EFAULT);	/* bus 1: no root entry */
	expect_fault(c, 0x1, 0x0100, 0, true);
}

/* ---- interrupt remapping ---- */

static void put_irte(struct ctx *c, unsigned index, uint64_t lo, uint64_t hi)
{
	put64(c, IRT + index * 16ULL, lo);
	put64(c, IRT + index * 16ULL + 8, hi);
}

/* An IRTE as kvm-unit-tests' vtd_setup_irte makes one, and Linux's destination field. */
static uint64_t irte_lo(unsigned vector, unsigned dest, bool level)
{
	return 1 | (level ? 1 << 4 : 0) | (uint64_t)vector << 16 | (uint64_t)dest << 40;
}

static uint64_t irte_sid(uint16_t sid, unsigned sq, unsigned svt)
{
	return sid | (uint64_t)sq << 16 | (uint64_t)svt << 18;
}

static void ir_on(struct ctx *c, unsigned s)
{
	wr(c, IRTA, 8, IRT | s);
	gcmd_or(c, SIRTP);
	gcmd_or(c, IRE);
	wr(c, FEADDR, 4, FE_ADDR);
	wr(c, FEDATA, 4, FE_DATA);
	wr(c, FECTL, 4, 0);
}

/* A remappable-format MSI address for handle, as kvm-unit-tests' vtd_setup_msi makes it. */
static uint64_t handle_addr(unsigned handle, bool shv)
{
	return 0xfee00000u | (handle & 0x7fff) << 5 | 1 << 4 | (shv ? 1 << 3 : 0) |
	       ((handle >> 15) & 1) << 2;
}

static int raise(struct ctx *c, uint16_t sid, uint64_t addr, uint32_t data)
{
	return machine_msi_raise(&c->fm->m, sid, addr, data);
}

static void test_ir_remap(void **state)
{
	struct ctx *c = *state;

	/* Remapping off: a message passes unchanged. */
	assert_int_equal(raise(c, SID_EDU, handle_addr(5, false), 0), 0);
	assert_true(msi_seen(c, handle_addr(5, false), 0));
	fake_machine_clear_calls(c->fm);
	ir_on(c, 0xf);
	/* Vector 0x42 to APIC 3, logical, redirection hint, level. */
	put_irte(c, 5, irte_lo(0x42, 3, true) | 1 << 2 | 1 << 3 | 1 << 5,
		 irte_sid(SID_EDU, 0, 1));
	assert_int_equal(raise(c, SID_EDU, handle_addr(5, false), 0), 0);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(c->fm->msi_calls[0].addr, 0xfee0300cULL);
	assert_int_equal(c->fm->msi_calls[0].data, 0x42 | 1 << 8 | 1 << 15 | 1 << 14);
	/* Subhandle: handle 2 + data 3 is entry 5. */
	assert_int_equal(raise(c, SID_EDU, handle_addr(2, true), 3), 0);
	assert_int_equal(c->fm->msi_calls[1].addr, 0xfee0300cULL);
	/* Handle bit 15 is address bit 2. */
	put_irte(c, 0x8001, irte_lo(0x51, 0, false), irte_sid(SID_EDU, 0, 1));
	assert_int_equal(raise(c, SID_EDU, handle_addr(0x8001, false), 0), 0);
	assert_int_equal(c->fm->msi_calls[2].addr, 0xfee00000ULL);
	assert_int_equal(c->fm->msi_calls[2].data, 0x51);
	assert_int_equal(rd(c, FSTS, 4), 0);
}

/* Source-id verification: full sid, SQ masks, bus range; the IOAPIC's messages are not verified. */
static void test_ir_sid(void **state)
{
	struct ctx *c = *state;
	/* What the userspace IOAPIC sends for an RTE with handle 1, vector 0xed, edge. */
	uint64_t ioapic_addr = 0xfee00000u | 1 << 5 | 1 << 4;

	ir_on(c, 0xf);
	put_irte(c, 1, irte_lo(0xed, 0, false), irte_sid(SID_EDU, 0, 1));
	assert_int_equal(raise(c, SID_OTHER, handle_addr(1, false), 0), -EFAULT);
	expect_fault(c, 0x26, SID_OTHER, 1ULL << 48, false);
	assert_int_equal(c->fm->nr_msi_calls, 1);	/* the fault event only */
	assert_true(msi_seen(c, FE_ADDR, FE_DATA));
	assert_int_equal(raise(c, MACHINE_SID_IOAPIC, ioapic_addr, 0xed), 0);
	assert_true(msi_seen(c, 0xfee00000ULL, 0xed));
	/* SQ 3: function bits ignored. */
	put_irte(c, 2, irte_lo(0x60, 1, false), irte_sid(SID_EDU | 7, 3, 1));
	assert_int_equal(raise(c, SID_EDU, handle_addr(2, false), 0), 0);
	assert_int_equal(raise(c, SID_OTHER, handle_addr(2, false), 0), -EFAULT);
	/* SQ 1: function bit 2 only. */
	put_irte(c, 3, irte_lo(0x61, 1, false), irte_sid(SID_EDU | 4, 1, 1));
	assert_int_equal(raise(c, SID_EDU, handle_addr(3, false), 0), 0);
	assert_int_equal(raise(c, SID_EDU | 1, handle_addr(3, false), 0), -EFAULT);
	/* SVT 2: buses 1 to 3. */
	put_irte(c, 4, irte_lo(0x62, 1, false), irte_sid(0x0103, 0, 2));
	assert_int_equal(raise(c, 0x0208, handle_addr(4, false), 0), 0);
	assert_int_equal(raise(c, 0x0408, handle_addr(4, false), 0), -EFAULT);
	assert_int_equal(raise(c, 0x0008, handle_addr(4, false), 0), -EFAULT);
	/* SVT 0: anyone. */
	put_irte(c, 6, irte_lo(0x63, 1, false), irte_sid(SID_EDU, 0, 0));
	assert_int_equal(raise(c, 0xabcd, handle_addr(6, false), 0), 0);
}

struct ir_case {
	const char *what;
	unsigned reason;
	unsigned s;		/* IRTA.S */
	uint64_t addr;
	uint32_t data;
	uint64_t lo, hi;	/* IRTE 7 */
	unsigned index;		/* in the fault record */
};

static const struct ir_case ir_cases[] = {
	{ "upper address bits", 0x20, 0xf, 1ULL << 32 | 0xfee00000u | 7 << 5 | 1 << 4, 0,
	  0, 0, 0 },
	{ "not an interrupt address", 0x20, 0xf, 0xfed00000u | 1 << 4, 0, 0, 0, 0 },
	{ "index beyond the table", 0x21, 0, 0xfee00000u | 7 << 5 | 1 << 4, 0, 0, 0, 7 },
	{ "subhandle beyond the table", 0x21, 2, 0xfee00000u | 7 << 5 | 1 << 4 | 1 << 3, 1,
	  0, 0, 8 },
	{ "not present", 0x22, 0xf, 0xfee00000u | 7 << 5 | 1 << 4, 0, 0x420000, 0, 7 },
	{ "posted", 0x24, 0xf, 0xfee00000u | 7 << 5 | 1 << 4, 0, 0x420001 | 1 << 15, 0, 7 },
	{ "reserved low", 0x24, 0xf, 0xfee00000u | 7 << 5 | 1 << 4, 0, 0x420001 | 1ULL << 32,
	  0, 7 },
	{ "reserved high", 0x24, 0xf, 0xfee00000u | 7 << 5 | 1 << 4, 0, 0x420001,
	  1ULL << 20, 7 },
	{ "SVT 3", 0x24, 0xf, 0xfee00000u | 7 << 5 | 1 << 4, 0, 0x420001, 3 << 18, 7 },
	{ "compatibility format without CFI", 0x25, 0xf, 0xfee00000u, 0x30, 0, 0, 0 },
};

static void test_ir_faults(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(ir_cases); i++) {
		const struct ir_case *f = &ir_cases[i];
		struct ctx *c = ctx_create("intremap", "on");

		print_message("%s\n", f->what);
		ir_on(c, f->s);
		put_irte(c, 7, f->lo, f->hi);
		assert_int_equal(raise(c, SID_EDU, f->addr, f->data), -EFAULT);
		expect_fault(c, f->reason, SID_EDU, (uint64_t)f->index << 48, false);
		assert_int_equal(c->fm->nr_msi_calls, 1);
		assert_true(msi_seen(c, FE_ADDR, FE_DATA));
		ctx_destroy(c);
	}
}

/* CFI lets compatibility-format messages through; the IRTE's FPD silences its faults. */
static void test_ir_cfi_fpd(void **state)
{
	struct ctx *c = *state;

	ir_on(c, 0xf);
	gcmd_or(c, CFI);
	assert_int_equal(raise(c, SID_EDU, 0xfee01000u, 0x31), 0);
	assert_true(msi_seen(c, 0xfee01000u, 0x31));
	put_irte(c, 9, 2, 0);	/* not present, FPD */
	assert_int_equal(raise(c, SID_EDU, handle_addr(9, false), 0), -EFAULT);
	put_irte(c, 9, irte_lo(0x40, 0, false) | 2, irte_sid(SID_EDU, 0, 1));
	assert_int_equal(raise(c, SID_OTHER, handle_addr(9, false), 0), -EFAULT);
	assert_int_equal(rd(c, FSTS, 4), 0);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	/* IRTA latched at SIRTP: a new IRTA is not used before the next SIRTP. */
	put_irte(c, 9, irte_lo(0x40, 0, false), 0);
	wr(c, IRTA, 8, 0x7ffffff000ULL | 0xf);
	assert_int_equal(raise(c, SID_EDU, handle_addr(9, false), 0), 0);
	gcmd_or(c, SIRTP);
	assert_int_equal(raise(c, SID_EDU, handle_addr(9, false), 0), -EFAULT);
	expect_fault(c, 0x23, SID_EDU, 9ULL << 48, false);
}

/* ---- queued invalidation ---- */

static void put_desc(struct ctx *c, unsigned i, uint64_t lo, uint64_t hi)
{
	put64(c, QUEUE + i * 16ULL, lo);
	put64(c, QUEUE + i * 16ULL + 8, hi);
}

static void qi_on(struct ctx *c, unsigned qs)
{
	wr(c, IQT, 8, 0);
	wr(c, IQA, 8, QUEUE | qs);
	gcmd_or(c, QIE);
	wr(c, IEADDR, 4, IE_ADDR);
	wr(c, IEDATA, 4, IE_DATA);
	wr(c, FEADDR, 4, FE_ADDR);
	wr(c, FEDATA, 4, FE_DATA);
	wr(c, FECTL, 4, 0);
}

/* Queued invalidation off, the queue emptied and IQE cleared, then on again over iqa. */
static void qi_restart(struct ctx *c, uint64_t iqa)
{
	gcmd_clear(c, QIE);
	wr(c, IQT, 8, 0);
	wr(c, FSTS, 4, IQE);
	wr(c, IQA, 8, iqa);
	gcmd_or(c, QIE);
	assert_int_equal(rd(c, IQH, 8), 0);
}

#define WAIT_IF		(1ULL << 4)
#define WAIT_SW		(1ULL << 5)

static void test_qi(void **state)
{
	struct ctx *c = *state;

	qi_on(c, 0);
	put_desc(c, 0, 1 | 1 << 4, 0);				/* context cache, global */
	put_desc(c, 1, 2 | 3 << 4 | 5ULL << 16, 0x5000 | 3);	/* IOTLB, page, 8 pages */
	put_desc(c, 2, 3 | (uint64_t)SID_EDU << 32, 0x7000);	/* device-TLB */
	put_desc(c, 3, 4 | 1 << 4 | 9ULL << 32, 0);		/* IEC, index 9 */
	put_desc(c, 4, 5 | WAIT_SW | WAIT_IF | 0xcafef00dULL << 32, STATUS);
	wr(c, IQT, 8, 5 << 4);
	assert_int_equal(rd(c, IQH, 8), 5 << 4);
	assert_int_equal(get64(c, STATUS) & 0xffffffff, 0xcafef00d);
	assert_int_equal(rd(c, ICS, 4), 1);
	/* The invalidation event was unmasked? No: IECTL starts masked, so it is pending. */
	assert_int_equal(rd(c, IECTL, 4), IM | IP);
	assert_int_equal(c->fm->nr_msi_calls, 0);
	wr(c, IECTL, 4, 0);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_true(msi_seen(c, IE_ADDR, IE_DATA));
	wr(c, ICS, 4, 1);
	assert_int_equal(rd(c, ICS, 4), 0);
	/* Unmasked now: the next wait signals at once; the queue wraps after 256 entries. */
	for (unsigned i = 5; i < 255; i++)
		put_desc(c, i, 4, 0);				/* IEC, global */
	wr(c, IQT, 8, 255 << 4);
	assert_int_equal(rd(c, IQH, 8), 255 << 4);
	put_desc(c, 255, 5 | WAIT_IF, 0);
	put_desc(c, 0, 5 | WAIT_SW | 7ULL << 32, STATUS + 8);
	wr(c, IQT, 8, 1 << 4);
	assert_int_equal(rd(c, IQH, 8), 1 << 4);
	assert_int_equal(get64(c, STATUS + 8), 7);
	assert_int_equal(c->fm->nr_msi_calls, 2);
	assert_int_equal(rd(c, FSTS, 4), 0);
	/* Re-enabling starts the queue over at 0. */
	gcmd_clear(c, QIE);
	wr(c, IQT, 8, 0);
	gcmd_or(c, QIE);
	assert_int_equal(rd(c, IQH, 8), 0);
}

struct qi_case {
	const char *what;
	uint64_t lo, hi;
};

static const struct qi_case qi_cases[] = {
	{ "type 0", 0, 0 },
	{ "type 6 (PASID-IOTLB)", 6, 0 },
	{ "type bits 11:9", 5 | 1 << 9, 0 },
	{ "context cache granularity 0", 1, 0 },
	{ "context cache reserved", 1 | 1 << 4 | 1 << 6, 0 },
	{ "IOTLB reserved high", 2 | 1 << 4, 1 << 7 },
	{ "IOTLB AM beyond MAMV", 2 | 3 << 4, 19 },
	{ "IEC reserved", 4 | 1ULL << 48, 0 },
	{ "wait reserved", 5 | 1 << 8, 0 },
	{ "wait status address unaligned", 5 | WAIT_SW, STATUS | 2 },
	{ "wait status outside RAM", 5 | WAIT_SW, 0xc0000000ULL },
};

/*
 * An invalid descriptor: IQE, IQH stays on it, a fault event; nothing runs
 * while IQE is set, and clearing it goes on from IQH.
 */
static void test_qi_errors(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(qi_cases); i++) {
		struct ctx *c = ctx_create("aw-bits", "48");

		print_message("%s\n", qi_cases[i].what);
		qi_on(c, 0);
		put_desc(c, 0, 5 | WAIT_SW | 1ULL << 32, STATUS);
		put_desc(c, 1, qi_cases[i].lo, qi_cases[i].hi);
		put_desc(c, 2, 5 | WAIT_SW | 2ULL << 32, STATUS);
		wr(c, IQT, 8, 3 << 4);
		assert_int_equal(rd(c, IQH, 8), 1 << 4);
		assert_int_equal(get64(c, STATUS), 1);
		assert_int_equal(rd(c, FSTS, 4), IQE);
		assert_int_equal(c->fm->nr_msi_calls, 1);
		assert_true(msi_seen(c, FE_ADDR, FE_DATA));
		wr(c, IQT, 8, 3 << 4);
		assert_int_equal(rd(c, IQH, 8), 1 << 4);
		/* The guest fixes the descriptor (as Linux: a wait over it) and clears IQE: on from IQH. */
		put_desc(c, 1, 5 | WAIT_SW | 3ULL << 32, STATUS + 8);
		wr(c, FSTS, 4, IQE);
		assert_int_equal(rd(c, FSTS, 4), 0);
		assert_int_equal(rd(c, IQH, 8), 3 << 4);
		assert_int_equal(get64(c, STATUS + 8), 3);
		assert_int_equal(get64(c, STATUS), 2);
		assert_int_equal(c->fm->nr_msi_calls, 1);
		ctx_destroy(c);
	}
}

/* ---- a hostile guest ---- */

static void test_hostile_queue(void **state)
{
	struct ctx *c = *state;

	/* The tail beyond a 256-entry queue. */
	qi_on(c, 0);
	wr(c, IQT, 8, 0x7fff0);
	assert_int_equal(rd(c, FSTS, 4), IQE);
	assert_int_equal(rd(c, IQH, 8), 0);
	/* Cleared with the tail still out there: the error again, at once. */
	wr(c, FSTS, 4, IQE);
	assert_int_equal(rd(c, FSTS, 4), IQE);
	/* The largest queue (32768 entries) outside RAM. */
	qi_restart(c, 0xfffffffffffff000ULL | 7);
	wr(c, IQT, 8, 0x7fff0);
	assert_int_equal(rd(c, FSTS, 4), IQE);
	assert_int_equal(rd(c, IQH, 8), 0);
	/* 256-bit descriptors (scalable mode only). */
	qi_restart(c, QUEUE | 1 << 11);
	wr(c, IQT, 8, 1 << 4);
	assert_int_equal(rd(c, FSTS, 4), IQE);
	/* A full queue of waits that each write their status: all done, in one IQT write. */
	qi_restart(c, QUEUE | 7);
	assert_int_equal(rd(c, FSTS, 4), 0);
	for (unsigned i = 0; i < 32767; i++)
		put_desc(c, i, 5 | WAIT_SW | (uint64_t)i << 32, STATUS);
	wr(c, IQT, 8, 32767 << 4);
	assert_int_equal(rd(c, IQH, 8), 32767 << 4);
	assert_int_equal(get64(c, STATUS) & 0xffffffff, 32766);
	assert_int_equal(rd(c, FSTS, 4), 0);
	/* IRTA and the root table outside RAM: faults, no crash. */
	wr(c, IRTA, 8, 0xfffffffffffff000ULL | 0xf);
	gcmd_or(c, SIRTP);
	gcmd_or(c, IRE);
	assert_int_equal(raise(c, SID_EDU, handle_addr(0xffff, false), 0), -EFAULT);
	expect_fault(c, 0x23, SID_EDU, 0xffffULL << 48, false);
	wr(c, RTADDR, 8, 0xfffffffffffff000ULL);
	gcmd_or(c, SRTP);
	gcmd_or(c, TE);
	{
		uint64_t gpa, len;

		assert_int_equal(translate(c, 0xffff, ~0ULL, true, &gpa, &len), -EFAULT);
		expect_fault(c, 0x8, 0xffff, ~0ULL, false);
	}
}

/* Every width at every offset of the page, reads then writes of all-ones, then the hooks. */
static void test_hostile_accesses(void **state)
{
	struct ctx *c = *state;
	static const unsigned widths[] = { 1, 2, 4, 8 };
	uint64_t gpa, len, buf = 0;

	for (unsigned w = 0; w < ARRAY_SIZE(widths); w++)
		for (unsigned off = 0; off + widths[w] <= 0x1000; off += widths[w] == 8 ? 4 : 1)
			(void)rd(c, off, widths[w]);
	for (unsigned w = 0; w < ARRAY_SIZE(widths); w++)
		for (unsigned off = 0; off + widths[w] <= 0x1000; off++)
			wr(c, off, widths[w], ~0ULL);
	/* Every command again, then translations and messages with whatever the registers hold. */
	wr(c, GCMD, 4, 0xffffffff);
	assert_int_equal(rd(c, VER, 4), 0x10);
	assert_int_equal(rd(c, CAP, 8), CAP_VALUE);
	(void)translate(c, SID_EDU, 0x1000, false, &gpa, &len);
	(void)machine_dma_read(&c->fm->m, SID_EDU, ~0ULL - 3, &buf, 8);
	(void)raise(c, SID_EDU, handle_addr(0x1234, true), 0xffff);
	(void)raise(c, MACHINE_SID_IOAPIC, 0xfeefffff, ~0u);
	wr(c, IQT, 8, ~0ULL);
	assert_true(c->fm->nr_msi_calls <= 4);
}

static uint64_t counter(struct ctx *c, const char *name)
{
	struct machine *m = &c->fm->m;
	struct device_report r;

	for (unsigned i = 0; i < m->nr_reports; i++) {
		if (strcmp(m->reports[i].name, "intel-iommu"))
			continue;
		memset(&r, 0, sizeof(r));
		m->reports[i].fn(m->reports[i].opaque, &r);
		for (unsigned j = 0; j < r.n; j++)
			if (!strcmp(r.c[j].name, name))
				return r.c[j].value;
	}
	fail_msg("no counter %s", name);
	return 0;
}

/* ---- threads ---- */

#define RACE_ROUNDS	20000

static _Atomic uint64_t race_msis;

/* The fake machine's recorder is for one thread and 256 calls: count instead. */
static void race_msi_send(struct machine *m, uint64_t addr, uint32_t data)
{
	(void)m;
	(void)addr;
	(void)data;
	race_msis++;
}

/* The I/O thread's side: DMA and MSIs while the vCPU reprograms the unit. */
static void *race_io(void *arg)
{
	struct ctx *c = arg;
	uint32_t v = 0xffffffff;

	for (unsigned i = 0; i < RACE_ROUNDS; i++) {
		(void)machine_dma_write(&c->fm->m, SID_EDU, (i & 7) * 0x1000, &v, sizeof(v));
		(void)raise(c, SID_EDU, handle_addr(i & 3, false), 0);
	}
	return NULL;
}

/*
 * vCPU writes (translation and remapping on and off, faults cleared, queued
 * waits) against DMA and MSIs on another thread: no deadlock, every
 * translation and message counted once, RAM written only where mapped.
 */
static void test_concurrent(void **state)
{
	struct ctx *c = *state;
	uint64_t slpt = attach(c, SID_EDU, 1, false);
	pthread_t io;

	for (unsigned i = 0; i < 4; i++)
		map(c, slpt, 3, i * 0x1000, DATA + i * 0x1000, 1, PTE_RW);
	put_irte(c, 1, irte_lo(0x40, 0, false), 0);
	dmar_on(c);
	ir_on(c, 0);
	qi_on(c, 0);
	for (unsigned i = 0; i < 256; i++)
		put_desc(c, i, 5 | WAIT_SW | (uint64_t)i << 32, STATUS);
	c->fm->m.msi_send = race_msi_send;
	race_msis = 0;
	assert_int_equal(pthread_create(&io, NULL, race_io, c), 0);
	for (unsigned i = 0; i < RACE_ROUNDS / 4; i++) {
		gcmd_clear(c, (i & 1) ? TE : IRE);
		gcmd_or(c, TE | IRE);
		wr(c, FRCD + 12, 4, 1u << 31);
		wr(c, FSTS, 4, PFO);
		wr(c, IQT, 8, (i & 255) << 4);
	}
	assert_int_equal(pthread_join(io, NULL), 0);
	assert_int_equal(counter(c, "irq_remapped") + counter(c, "irq_passed") +
			 counter(c, "irq_blocked"), RACE_ROUNDS);
	/* Only handle 1 has an entry; every message let through reached the LAPICs. */
	assert_true(counter(c, "irq_remapped") <= RACE_ROUNDS / 4);
	assert_true(race_msis >= counter(c, "irq_remapped") + counter(c, "irq_passed"));
	/* One translation per DMA write; only pages 4-7 are unmapped. */
	assert_int_equal(counter(c, "dma_translations"), RACE_ROUNDS);
	assert_true(counter(c, "dma_faults") <= RACE_ROUNDS / 2);
	/* Each write landed in a mapped page or, translation off, at its iova: nowhere else. */
	for (uint64_t a = 0x8000; a < 0x10000; a += 8)
		assert_int_equal(get64(c, a), 0);
	for (uint64_t a = DATA + 0x4000; a < DATA + 0x8000; a += 8)
		assert_int_equal(get64(c, a), 0);
	assert_int_equal(get64(c, DATA) & 0xffffffff, 0xffffffff);
	assert_int_equal(rd(c, VER, 4), 0x10);
}

/* ---- creation, options, the report ---- */

static void test_create_errors(void **state)
{
	struct ctx *c = ctx_new(false);

	(void)state;
	spec_add(&c->spec, NULL, NULL);
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), -EINVAL);
	assert_true(report_capture_has(&c->said,
				       "intel-iommu: interrupt remapping needs `irqchip split` "
				       "(qlite's IOAPIC)"));
	assert_int_equal(report_capture_lines(&c->said), 1);
	assert_null(c->fm->m.iommu);
	ctx_destroy(c);

	c = ctx_new(true);
	spec_add(&c->spec, "aw-bits", "57");
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), -EINVAL);
	assert_true(report_capture_has(&c->said, "intel-iommu: aw-bits: \"57\" is not 39 or 48"));
	ctx_destroy(c);

	c = ctx_new(true);
	spec_add(&c->spec, "intremap", "maybe");
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), -EINVAL);
	assert_true(report_capture_has(&c->said, "\"maybe\" is not on or off"));
	ctx_destroy(c);

	c = ctx_new(true);
	spec_add(&c->spec, NULL, NULL);
	spec_add(&c->spec, "intremap", "off");
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), -EBUSY);
	assert_true(report_capture_has(&c->said, "vm.conf:3: intel-iommu: the machine has an "
				       "IOMMU already"));
	ctx_destroy(c);

	/*
	 * Devices with DMA are welcome beside it: e1000 (and IDE) through it,
	 * virtio-net guest-physical by its spec (no ACCESS_PLATFORM). Declared
	 * after them, the unit is still built first: virtio-net's MSI-X vectors
	 * see it and take no KVM route (the machine has the fake kernel's).
	 */
	c = ctx_new(true);
	fake_machine_destroy(c->fm);
	c->fm = fake_machine_create_accel();
	c->fm->m.mem = &c->gm;
	c->fm->m.split_irqchip = true;
	c->fm->m.offline = true;	/* as `qlite check`: the backends open nothing */
	spec_add(&c->spec, NULL, NULL);
	spec_add(&c->spec, NULL, NULL);
	spec_add(&c->spec, NULL, NULL);
	c->spec.vdevs[0].type = "e1000";
	c->spec.vdevs[1].type = "virtio-net";
	assert_non_null(pci_host_create(&c->fm->m));
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	assert_non_null(c->fm->m.iommu);
	assert_true(c->fm->m.iommu_intremap);
	assert_int_equal(c->fm->nr_routes, 0);
	assert_int_equal(report_capture_lines(&c->said), 0);
	pci_host_destroy(c->fm->m.pci);
	ctx_destroy(c);

	/* Without the unit the same virtio-net routes its vectors in the kernel, as before. */
	c = ctx_new(true);
	fake_machine_destroy(c->fm);
	c->fm = fake_machine_create_accel();
	c->fm->m.mem = &c->gm;
	c->fm->m.offline = true;
	spec_add(&c->spec, NULL, NULL);
	c->spec.vdevs[0].type = "virtio-net";
	assert_non_null(pci_host_create(&c->fm->m));
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	assert_null(c->fm->m.iommu);
	assert_true(c->fm->nr_routes > 0);
	pci_host_destroy(c->fm->m.pci);
	ctx_destroy(c);

	/* A device's error after the reordering still names its own line. */
	c = ctx_new(true);
	c->fm->m.offline = true;
	spec_add(&c->spec, NULL, NULL);
	spec_add(&c->spec, "mtu", "5");
	spec_add(&c->spec, NULL, NULL);
	c->spec.vdevs[0].type = "e1000";
	c->spec.vdevs[1].type = "virtio-net";
	assert_non_null(pci_host_create(&c->fm->m));
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), -EINVAL);
	assert_true(report_capture_has(&c->said, "vm.conf:3: virtio-net: mtu 5: 68 to 65535"));
	assert_int_equal(report_capture_lines(&c->said), 1);
	assert_non_null(c->fm->m.iommu);
	pci_host_destroy(c->fm->m.pci);
	ctx_destroy(c);

	/* edu's goes through it. */
	c = ctx_new(true);
	spec_add(&c->spec, NULL, NULL);
	spec_add(&c->spec, NULL, NULL);
	c->spec.vdevs[1].type = "edu";
	assert_non_null(pci_host_create(&c->fm->m));
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	assert_non_null(c->fm->m.iommu);
	pci_host_destroy(c->fm->m.pci);
	ctx_destroy(c);
}

/* intremap off: no IR in ECAP, IRTA and the IR commands ignored, messages pass; any irqchip. */
static void test_intremap_off(void **state)
{
	struct ctx *c = ctx_new(false);

	(void)state;
	spec_add(&c->spec, "intremap", "off");
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	assert_false(c->fm->m.iommu_intremap);
	assert_int_equal(rd(c, ECAP, 8), ECAP_NO_IR);
	wr(c, IRTA, 8, IRT | 0xf);
	assert_int_equal(rd(c, IRTA, 8), 0);
	wr(c, GCMD, 4, IRE | SIRTP | CFI);
	assert_int_equal(rd(c, GSTS, 4), 0);
	assert_int_equal(raise(c, SID_EDU, handle_addr(3, false), 0), 0);
	assert_true(msi_seen(c, handle_addr(3, false), 0));
	ctx_destroy(c);
}

static void test_report(void **state)
{
	struct ctx *c = *state;
	const struct bus_region *r = bus_lookup(c->fm->m.bus[BUS_MMIO], BASE + RTADDR + 4, 4);
	uint64_t gpa, len;

	assert_non_null(r);
	assert_string_equal(r->name, "intel-iommu");
	/* Halves of a 64-bit register count as the register. */
	assert_int_equal(r->ops->reg_key(r->opaque, RTADDR + 4), RTADDR);
	assert_string_equal(r->ops->reg_name(r->opaque, RTADDR), "RTADDR");
	assert_string_equal(r->ops->reg_name(r->opaque, FRCD + 12), "FRCD");
	assert_null(r->ops->reg_name(r->opaque, 0x800));
	assert_string_equal(c->fm->m.reports[0].summary,
			    "regs 0xfed90000, VT-d 1.0, aw-bits 39, intremap on");
	dmar_on(c);
	(void)translate(c, SID_EDU, 0, false, &gpa, &len);
	ir_on(c, 0);
	put_irte(c, 1, irte_lo(0x40, 0, false), 0);
	assert_int_equal(raise(c, SID_EDU, handle_addr(1, false), 0), 0);
	assert_int_equal(raise(c, SID_EDU, handle_addr(2, false), 0), -EFAULT);
	assert_int_equal(counter(c, "dma_translations"), 1);
	assert_int_equal(counter(c, "dma_faults"), 1);
	assert_int_equal(counter(c, "irq_remapped"), 1);
	assert_int_equal(counter(c, "irq_blocked"), 1);
	assert_int_equal(counter(c, "faults_recorded"), 1);
	assert_int_equal(counter(c, "faults_overflowed"), 1);
	assert_int_equal(counter(c, "fault_events"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gcmd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_halves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_when_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_translate_3level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_translate_4level_superpages, setup48, teardown),
		cmocka_unit_test_setup_teardown(test_aw_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_through, setup, teardown),
		cmocka_unit_test(test_dma_faults),
		cmocka_unit_test_setup_teardown(test_fault_event_masked_and_overflow, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fpd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ir_remap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ir_sid, setup, teardown),
		cmocka_unit_test(test_ir_faults),
		cmocka_unit_test_setup_teardown(test_ir_cfi_fpd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qi, setup, teardown),
		cmocka_unit_test(test_qi_errors),
		cmocka_unit_test_setup_teardown(test_hostile_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_intremap_off),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
