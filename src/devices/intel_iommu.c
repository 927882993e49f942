// SPDX-License-Identifier: GPL-2.0-only
/*
 * intel-iommu: an Intel VT-d remapping unit (spec rev 3.x, legacy mode) at
 * 0xfed90000, as Q35's: DMA remapping of PCI requesters through root,
 * context and second-level page tables, interrupt remapping of MSIs and of
 * the IOAPIC's messages, queued invalidation and fault recording. It is
 * what kvm-unit-tests' intel_iommu test and Linux's intel-iommu driver
 * (with interrupt remapping, xAPIC) drive.
 *
 * The machine asks it through struct machine_iommu_ops: every DMA of a PCI
 * requester (machine_dma_read/write) and every MSI (machine_msi_raise) is
 * translated here, on whichever thread makes it; the vCPUs program the
 * registers. One mutex covers the register file, and guest tables are read
 * under it, entry by entry, each read checked against RAM.
 *
 * Nothing is cached: every translation walks the guest's tables as they are
 * now. So the invalidations (CCMD, IOTLB, queued descriptors) have nothing
 * to drop; they complete at once, reporting the granularity asked for.
 *
 * Not modelled: x2APIC (EIM), posted interrupts, scalable mode, nested and
 * first-level translation, device-TLBs (ATS), the advanced fault log,
 * protected memory regions. Context entries may ask for pass-through.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/acpi.h"
#include "qlite/config.h"
#include "qlite/devices.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define VTD_BASE		0xfed90000ULL
#define VTD_WINDOW		0x1000

/* ---- registers (offsets in the page) ---- */
#define VTD_VER			0x000
#define VTD_CAP			0x008
#define VTD_ECAP		0x010
#define VTD_GCMD		0x018
#define VTD_GSTS		0x01c
#define VTD_RTADDR		0x020
#define VTD_CCMD		0x028
#define VTD_FSTS		0x034
#define VTD_FECTL		0x038
#define VTD_FEDATA		0x03c
#define VTD_FEADDR		0x040
#define VTD_FEUADDR		0x044
#define VTD_AFLOG		0x058
#define VTD_PMEN		0x064
#define VTD_PLMBASE		0x068
#define VTD_PLMLIMIT		0x06c
#define VTD_PHMBASE		0x070
#define VTD_PHMLIMIT		0x078
#define VTD_IQH			0x080
#define VTD_IQT			0x088
#define VTD_IQA			0x090
#define VTD_ICS			0x09c
#define VTD_IECTL		0x0a0
#define VTD_IEDATA		0x0a4
#define VTD_IEADDR		0x0a8
#define VTD_IEUADDR		0x0ac
#define VTD_IRTA		0x0b8
#define VTD_IVA			0x200	/* ECAP.IRO * 16 */
#define VTD_IOTLB		0x208
#define VTD_FRCD		0x220	/* CAP.FRO * 16: the one fault recording register */
#define VTD_REG_END		0x230	/* reads 0 and ignores writes from here on */

#define VTD_VERSION		0x10	/* 1.0 */

/* CAP */
#define CAP_ND_64K		6ULL		/* 16-bit domain ids */
#define CAP_SAGAW_39		(1ULL << 9)	/* 3-level tables */
#define CAP_SAGAW_48		(1ULL << 10)	/* 4-level tables */
#define CAP_MGAW(bits)		((uint64_t)((bits) - 1) << 16)
#define CAP_FRO			((uint64_t)(VTD_FRCD / 16) << 24)
#define CAP_SLLPS_2M		(1ULL << 34)
#define CAP_SLLPS_1G		(1ULL << 35)
#define CAP_PSI			(1ULL << 39)
#define CAP_NFR(n)		((uint64_t)((n) - 1) << 40)
#define CAP_MAMV(v)		((uint64_t)(v) << 48)
#define CAP_DWD			(1ULL << 54)
#define CAP_DRD			(1ULL << 55)

#define VTD_MAMV		18	/* page-selective invalidations up to 2^18 pages */
/* With aw-bits 39 (the default) exactly QEMU 7.2's; 48 adds 4-level tables and MGAW 48. */
#define VTD_CAP_COMMON		(CAP_ND_64K | CAP_SAGAW_39 | CAP_FRO | CAP_SLLPS_2M | \
				 CAP_SLLPS_1G | CAP_PSI | CAP_NFR(1) | CAP_MAMV(VTD_MAMV) | \
				 CAP_DWD | CAP_DRD)

/* ECAP */
#define ECAP_C			(1ULL << 0)	/* walks see RAM directly: coherent */
#define ECAP_QI			(1ULL << 1)
#define ECAP_IR			(1ULL << 3)
#define ECAP_PT			(1ULL << 6)
#define ECAP_IRO		((uint64_t)(VTD_IVA / 16) << 8)
#define ECAP_MHMV		(0xfULL << 20)
#define VTD_ECAP_VALUE		(ECAP_C | ECAP_QI | ECAP_PT | ECAP_IRO | ECAP_MHMV)

/* GCMD and GSTS share bit positions */
#define GCMD_TE			(1u << 31)
#define GCMD_SRTP		(1u << 30)
#define GCMD_QIE		(1u << 26)
#define GCMD_IRE		(1u << 25)
#define GCMD_SIRTP		(1u << 24)
#define GCMD_CFI		(1u << 23)

/* CCMD, IOTLB */
#define CCMD_ICC		(1ULL << 63)
#define CCMD_CIRG_SHIFT		61
#define CCMD_CAIG_SHIFT		59
#define IOTLB_IVT		(1ULL << 63)
#define IOTLB_IIRG_SHIFT	60
#define IOTLB_IAIG_SHIFT	57
#define IOTLB_PAGE		3	/* page-selective granularity */
#define IVA_AM(v)		((unsigned)((v) & 0x3f))

/* FSTS */
#define FSTS_PFO		(1u << 0)
#define FSTS_PPF		(1u << 1)
#define FSTS_IQE		(1u << 4)
#define FSTS_ICE		(1u << 5)
#define FSTS_ITE		(1u << 6)
#define FSTS_FAULTS		(FSTS_PFO | FSTS_PPF | FSTS_IQE | FSTS_ICE | FSTS_ITE)

/* FECTL, IECTL */
#define EVT_IM			(1u << 31)
#define EVT_IP			(1u << 30)

#define ICS_IWC			(1u << 0)

/* IQA */
#define IQA_DW			(1ULL << 11)
#define IQA_QS(v)		((unsigned)((v) & 7))
#define IQ_INDEX(v)		((unsigned)(((v) >> 4) & 0x7fff))

/* IRTA */
#define IRTA_S(v)		((unsigned)((v) & 0xf))

/* FRCD, high quadword */
#define FRCD_F			(1ULL << 63)
#define FRCD_T_READ		(1ULL << 62)
#define FRCD_FR_SHIFT		32

#define PAGE_MASK_4K		(~0xfffULL)
#define VTD_HAW			ACPI_DMAR_HAW_BITS	/* as the DMAR table says */
#define HAW_MASK		((1ULL << VTD_HAW) - 1)
#define ADDR_MASK		(HAW_MASK & PAGE_MASK_4K)

/* ---- fault reasons (spec appendix A) ---- */
enum vtd_fault {
	FR_ROOT_P = 0x1,	/* root entry not present */
	FR_CTX_P = 0x2,		/* context entry not present */
	FR_CTX_INVALID = 0x3,	/* context entry asks for what is not supported */
	FR_ADDR_WIDTH = 0x4,	/* iova beyond the context's address width */
	FR_WRITE = 0x5,		/* no write permission (or not present) */
	FR_READ = 0x6,		/* no read permission (or not present) */
	FR_PTE_ACCESS = 0x7,	/* a paging entry is not in RAM */
	FR_ROOT_ACCESS = 0x8,
	FR_CTX_ACCESS = 0x9,
	FR_ROOT_RSVD = 0xa,
	FR_CTX_RSVD = 0xb,
	FR_PTE_RSVD = 0xc,
	FR_IR_REQ_RSVD = 0x20,	/* reserved bits in the interrupt request */
	FR_IR_INDEX = 0x21,	/* index beyond the table */
	FR_IR_NOT_PRESENT = 0x22,
	FR_IR_ACCESS = 0x23,	/* the IRTE is not in RAM */
	FR_IR_RSVD = 0x24,	/* reserved bits in the IRTE, or posted */
	FR_IR_COMPAT = 0x25,	/* compatibility format while CFIS is clear */
	FR_IR_SID = 0x26,	/* source-id verification failed */
};

/*
 * Faults the FPD bit of the entry that found them may keep out of the
 * log: those found at or after the entry that has the bit.
 */
static bool fault_qualified(enum vtd_fault fr)
{
	switch (fr) {
	case FR_ROOT_P:
	case FR_ROOT_ACCESS:
	case FR_CTX_ACCESS:
	case FR_ROOT_RSVD:
	case FR_IR_REQ_RSVD:
	case FR_IR_INDEX:
	case FR_IR_ACCESS:
	case FR_IR_COMPAT:
		return false;
	default:
		return true;
	}
}

/* ---- the register file ---- */

struct vtd_reg {
	uint16_t off;
	uint8_t size;
	const char *name;
	uint64_t wmask;		/* bits the guest writes */
	uint64_t w1c;		/* bits a written 1 clears */
};

/* Offsets not listed read 0 and ignore writes; GCMD is write-only (handled apart). */
static const struct vtd_reg vtd_regs[] = {
	{ VTD_VER, 4, "VER", 0, 0 },
	{ VTD_CAP, 8, "CAP", 0, 0 },
	{ VTD_ECAP, 8, "ECAP", 0, 0 },
	{ VTD_GCMD, 4, "GCMD", 0, 0 },
	{ VTD_GSTS, 4, "GSTS", 0, 0 },
	{ VTD_RTADDR, 8, "RTADDR", PAGE_MASK_4K, 0 },
	{ VTD_CCMD, 8, "CCMD", 0xe0000003ffffffffULL, 0 },
	{ VTD_FSTS, 4, "FSTS", 0, FSTS_PFO | FSTS_IQE | FSTS_ICE | FSTS_ITE },
	{ VTD_FECTL, 4, "FECTL", EVT_IM, 0 },
	{ VTD_FEDATA, 4, "FEDATA", 0xffffffff, 0 },
	{ VTD_FEADDR, 4, "FEADDR", 0xfffffffc, 0 },
	{ VTD_FEUADDR, 4, "FEUADDR", 0xffffffff, 0 },
	{ VTD_AFLOG, 8, "AFLOG", 0, 0 },
	{ VTD_PMEN, 4, "PMEN", 0, 0 },
	{ VTD_PLMBASE, 4, "PLMBASE", 0, 0 },
	{ VTD_PLMLIMIT, 4, "PLMLIMIT", 0, 0 },
	{ VTD_PHMBASE, 8, "PHMBASE", 0, 0 },
	{ VTD_PHMLIMIT, 8, "PHMLIMIT", 0, 0 },
	{ VTD_IQH, 8, "IQH", 0, 0 },
	{ VTD_IQT, 8, "IQT", 0x7fff0, 0 },
	{ VTD_IQA, 8, "IQA", PAGE_MASK_4K | IQA_DW | 7, 0 },
	{ VTD_ICS, 4, "ICS", 0, ICS_IWC },
	{ VTD_IECTL, 4, "IECTL", EVT_IM, 0 },
	{ VTD_IEDATA, 4, "IEDATA", 0xffffffff, 0 },
	{ VTD_IEADDR, 4, "IEADDR", 0xfffffffc, 0 },
	{ VTD_IEUADDR, 4, "IEUADDR", 0xffffffff, 0 },
	/* EIME (bit 11) stays 0: no x2APIC. Writable only with interrupt remapping. */
	{ VTD_IRTA, 8, "IRTA", PAGE_MASK_4K | 0xf, 0 },
	{ VTD_IVA, 8, "IVA", PAGE_MASK_4K | 0x7f, 0 },
	{ VTD_IOTLB, 8, "IOTLB", 0xb003ffff00000000ULL, 0 },
	{ VTD_FRCD, 16, "FRCD", 0, 0 },
};

struct vtd {
	struct machine *m;
	pthread_mutex_t lock;
	bool intremap;
	unsigned aw_bits;	/* MGAW: 39 (3-level tables) or 48 (also 4-level) */
	uint8_t regs[VTD_REG_END];
	uint8_t wmask[VTD_REG_END];
	uint8_t w1c[VTD_REG_END];
	uint64_t root;		/* RTADDR as latched by GCMD.SRTP */
	uint64_t irta;		/* IRTA as latched by GCMD.SIRTP */

	/* For the exit report: updated under lock, read relaxed from anywhere. */
	_Atomic uint64_t dma_translations, dma_faults;
	_Atomic uint64_t irq_remapped, irq_passed, irq_blocked;
	_Atomic uint64_t faults_recorded, faults_suppressed, faults_overflowed, fault_events;
	_Atomic uint64_t qi_descriptors, qi_errors, wait_events;
};

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t reg_get(const struct vtd *v, unsigned off, unsigned size)
{
	return le_load(v->regs + off, size);
}

static void reg_set(struct vtd *v, unsigned off, unsigned size, uint64_t val)
{
	le_store(v->regs + off, val, size);
}

static uint32_t reg32(const struct vtd *v, unsigned off)
{
	return (uint32_t)reg_get(v, off, 4);
}

static void set32(struct vtd *v, unsigned off, uint32_t val)
{
	reg_set(v, off, 4, val);
}

static uint64_t reg64(const struct vtd *v, unsigned off)
{
	return reg_get(v, off, 8);
}

static void set64(struct vtd *v, unsigned off, uint64_t val)
{
	reg_set(v, off, 8, val);
}

static const struct vtd_reg *reg_find(uint64_t off)
{
	for (size_t i = 0; i < ARRAY_SIZE(vtd_regs); i++)
		if (off >= vtd_regs[i].off && off < vtd_regs[i].off + vtd_regs[i].size)
			return &vtd_regs[i];
	return NULL;
}

/* ---- events: fault (FECTL) and invalidation completion (IECTL) ---- */

/*
 * An event of the control register at ctl: sent now when unmasked, else
 * left pending (IP) until the guest unmasks it. The message is the
 * guest's, untranslated: the unit's own interrupts are not remapped.
 */
static void vtd_event(struct vtd *v, unsigned ctl)
{
	uint32_t c = reg32(v, ctl);
	uint64_t addr = reg32(v, ctl + 8) | (uint64_t)reg32(v, ctl + 12) << 32;

	if (c & EVT_IM) {
		set32(v, ctl, c | EVT_IP);
		return;
	}
	set32(v, ctl, c & ~EVT_IP);
	v->m->msi_send(v->m, addr, reg32(v, ctl + 4));
	if (ctl == VTD_FECTL)
		count(&v->fault_events);
	else
		count(&v->wait_events);
}

/* The guest unmasked an event: the pending one goes now. */
static void vtd_event_unmask(struct vtd *v, unsigned ctl)
{
	uint32_t c = reg32(v, ctl);

	if (!(c & EVT_IM) && (c & EVT_IP))
		vtd_event(v, ctl);
}

/*
 * A fault condition was set in FSTS; pre is FSTS before. One event covers
 * every condition up to the guest clearing them all (as QEMU does it).
 */
static void vtd_fault_event(struct vtd *v, uint32_t pre)
{
	if (pre & FSTS_FAULTS)
		return;
	vtd_event(v, VTD_FECTL);
}

static void vtd_set_fsts(struct vtd *v, uint32_t bits)
{
	uint32_t pre = reg32(v, VTD_FSTS);

	set32(v, VTD_FSTS, pre | bits);
	vtd_fault_event(v, pre);
}

/*
 * Log a primary fault in the one recording register: sid, fi (the page,
 * or an interrupt index in bits 63:48), the reason, read or write. A full
 * register overflows (PFO); nothing is logged while PFO is set.
 */
static void vtd_record_fault(struct vtd *v, uint16_t sid, uint64_t fi, enum vtd_fault fr,
			     bool is_read)
{
	uint32_t fsts = reg32(v, VTD_FSTS);
	uint64_t hi;

	if (fsts & FSTS_PFO) {
		count(&v->faults_overflowed);
		return;
	}
	if (reg64(v, VTD_FRCD + 8) & FRCD_F) {
		count(&v->faults_overflowed);
		vtd_set_fsts(v, FSTS_PFO);
		return;
	}
	hi = sid | (uint64_t)fr << FRCD_FR_SHIFT | FRCD_F | (is_read ? FRCD_T_READ : 0);
	set64(v, VTD_FRCD, fi & PAGE_MASK_4K);
	set64(v, VTD_FRCD + 8, hi);
	count(&v->faults_recorded);
	/* FRI stays 0: one register. */
	vtd_set_fsts(v, FSTS_PPF);
}

/* A fault; fpd: the entry that found it disables recording. */
static void vtd_fault(struct vtd *v, uint16_t sid, uint64_t fi, enum vtd_fault fr, bool is_read,
		      bool fpd)
{
	if (fpd && fault_qualified(fr)) {
		count(&v->faults_suppressed);
		return;
	}
	vtd_record_fault(v, sid, fi, fr, is_read);
}

/* ---- DMA remapping ---- */

/* Entry index of size bytes in the table at base; an address that wraps is not RAM either. */
static int read_entry(struct vtd *v, uint64_t base, uint64_t index, size_t size, void *buf)
{
	uint64_t off = index * size;

	if (base > UINT64_MAX - off)
		return -EFAULT;
	return guest_mem_read(v->m->mem, base + off, buf, size);
}

struct vtd_walk {
	uint64_t gpa, len;
	bool fpd;
};

#define RE_RSVD_LO		(0xffeULL | ~HAW_MASK)
#define CE_P			(1ULL << 0)
#define CE_FPD			(1ULL << 1)
#define CE_T(lo)		((unsigned)((lo) >> 2) & 3)
#define CE_RSVD_LO		(0xff0ULL | ~HAW_MASK)
#define CE_AW(hi)		((unsigned)(hi) & 7)
#define CE_RSVD_HI		(0x80ULL | ~0xffffffULL)
#define CE_T_MULTI_LEVEL	0
#define CE_T_PASS_THROUGH	2
#define CE_AW_39		1
#define CE_AW_48		2

#define PTE_R			(1ULL << 0)
#define PTE_W			(1ULL << 1)
#define PTE_PS			(1ULL << 7)
/* SNP (no snoop control), TM (no device-TLB), address bits beyond the HAW. */
#define PTE_RSVD		((1ULL << 11) | (1ULL << 62) | (((1ULL << 52) - 1) & ~HAW_MASK))

/* Reserved bits of a present entry at level (1: 4K PTE ... 4: PML4E). */
static uint64_t pte_rsvd(unsigned level, uint64_t pte)
{
	uint64_t rsvd = PTE_RSVD;

	if (level == 4)
		rsvd |= PTE_PS;
	else if (level > 1 && (pte & PTE_PS))
		/* A superpage's address is aligned to its size. */
		rsvd |= ((1ULL << (12 + 9 * (level - 1))) - 1) & PAGE_MASK_4K;
	return rsvd;
}

/* The context entry of sid, or a fault reason. */
static int vtd_context(struct vtd *v, uint16_t sid, uint64_t ce[2], bool *fpd)
{
	uint64_t re[2];

	if (read_entry(v, v->root, sid >> 8, sizeof(re), re))
		return FR_ROOT_ACCESS;
	if (!(re[0] & 1))
		return FR_ROOT_P;
	if ((re[0] & RE_RSVD_LO) || re[1])
		return FR_ROOT_RSVD;
	if (read_entry(v, re[0] & ADDR_MASK, sid & 0xff, 2 * sizeof(*ce), ce))
		return FR_CTX_ACCESS;
	/* The spec has FPD count even in a not-present entry. */
	*fpd = ce[0] & CE_FPD;
	if (!(ce[0] & CE_P))
		return FR_CTX_P;
	if ((ce[0] & CE_RSVD_LO) || (ce[1] & CE_RSVD_HI))
		return FR_CTX_RSVD;
	return 0;
}

/* Walk the second-level tables from table for iova; 0 or a fault reason. */
static int vtd_walk_tables(struct vtd *v, uint64_t table, unsigned levels, uint64_t iova,
			   bool write, struct vtd_walk *w)
{
	uint64_t need = write ? PTE_W : PTE_R, pte, size;

	for (unsigned level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);

		if (read_entry(v, table, (iova >> shift) & 511, sizeof(pte), &pte))
			return FR_PTE_ACCESS;
		/* An entry with neither R nor W is not present: a permission fault too. */
		if (!(pte & need))
			return write ? FR_WRITE : FR_READ;
		if (pte & pte_rsvd(level, pte))
			return FR_PTE_RSVD;
		if (level == 1 || (pte & PTE_PS)) {
			size = 1ULL << shift;
			w->gpa = (pte & ADDR_MASK & ~(size - 1)) | (iova & (size - 1));
			w->len = size - (iova & (size - 1));
			return 0;
		}
		table = pte & ADDR_MASK;
	}
	return FR_PTE_RSVD;	/* not reached: level 1 is always a leaf */
}

static int vtd_translate_locked(struct vtd *v, uint16_t sid, uint64_t iova, bool write,
				struct vtd_walk *w)
{
	unsigned levels;
	uint64_t ce[2];
	int fr;

	fr = vtd_context(v, sid, ce, &w->fpd);
	if (fr)
		return fr;
	switch (CE_T(ce[0])) {
	case CE_T_MULTI_LEVEL:
		break;
	case CE_T_PASS_THROUGH:
		w->gpa = iova;
		w->len = 0x1000 - (iova & 0xfff);
		return 0;
	default:
		/* Device-TLB translation (no ATS here) or reserved. */
		return FR_CTX_INVALID;
	}
	/* AW must be one CAP.SAGAW offers. */
	switch (CE_AW(ce[1])) {
	case CE_AW_39:
		levels = 3;
		break;
	case CE_AW_48:
		if (v->aw_bits < 48)
			return FR_CTX_INVALID;
		levels = 4;
		break;
	default:
		return FR_CTX_INVALID;
	}
	/* The tables' width, which MGAW does not exceed here. */
	if (iova >> (12 + 9 * levels))
		return FR_ADDR_WIDTH;
	return vtd_walk_tables(v, ce[0] & ADDR_MASK, levels, iova, write, w);
}

static int vtd_dma_translate(void *opaque, uint16_t sid, uint64_t iova, bool write,
			     uint64_t *gpa, uint64_t *len)
{
	struct vtd *v = opaque;
	struct vtd_walk w = { 0 };
	int fr = 0;

	pthread_mutex_lock(&v->lock);
	count(&v->dma_translations);
	if (reg32(v, VTD_GSTS) & GCMD_TE) {
		fr = vtd_translate_locked(v, sid, iova, write, &w);
		if (fr) {
			count(&v->dma_faults);
			vtd_fault(v, sid, iova, fr, !write, w.fpd);
		}
	} else {
		w.gpa = iova;
		w.len = 0x1000 - (iova & 0xfff);
	}
	pthread_mutex_unlock(&v->lock);
	if (fr)
		return -EFAULT;
	*gpa = w.gpa;
	*len = w.len;
	return 0;
}

/* ---- interrupt remapping ---- */

#define MSI_ADDR_BASE		0xfee00000u
#define MSI_ADDR_REMAPPABLE	(1u << 4)
#define MSI_ADDR_SHV		(1u << 3)
#define MSI_ADDR_RH		(1u << 3)
#define MSI_ADDR_DM		(1u << 2)
#define MSI_DATA_LEVEL		(1u << 15)
#define MSI_DATA_ASSERT		(1u << 14)

#define IRTE_P			(1ULL << 0)
#define IRTE_FPD		(1ULL << 1)
#define IRTE_DM			(1ULL << 2)
#define IRTE_RH			(1ULL << 3)
#define IRTE_TM			(1ULL << 4)
#define IRTE_DLM(lo)		((unsigned)((lo) >> 5) & 7)
#define IRTE_IM			(1ULL << 15)
#define IRTE_V(lo)		((unsigned)((lo) >> 16) & 0xff)
#define IRTE_DST_XAPIC(lo)	((unsigned)((lo) >> 40) & 0xff)
/* xAPIC mode: the destination is bits 47:40; 39:32 and 63:48 are reserved. */
#define IRTE_RSVD_LO		(0x7000ULL | 0xff000000ULL | 0xff00000000ULL | 0xffff000000000000ULL)
#define IRTE_SID(hi)		((uint16_t)(hi))
#define IRTE_SQ(hi)		((unsigned)((hi) >> 16) & 3)
#define IRTE_SVT(hi)		((unsigned)((hi) >> 18) & 3)
#define IRTE_RSVD_HI		(~0xfffffULL)
#define SVT_NONE		0
#define SVT_SID			1
#define SVT_BUS_RANGE		2

/* Does requester sid pass the IRTE's source-id verification (SVT, SQ, SID)? */
static bool irte_sid_ok(uint64_t hi, uint16_t sid)
{
	/* SQ: which function-number bits the comparison ignores. */
	static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
	uint16_t want = IRTE_SID(hi);

	switch (IRTE_SVT(hi)) {
	case SVT_SID:
		return (sid & sq_mask[IRTE_SQ(hi)]) == (want & sq_mask[IRTE_SQ(hi)]);
	case SVT_BUS_RANGE:
		return (sid >> 8) >= (want >> 8) && (sid >> 8) <= (want & 0xff);
	default:
		return true;
	}
}

/*
 * A remappable-format message through the IRTE its handle picks: 0 and
 * the compatibility message in *addr and *data, or a fault reason (*fpd: the
 * IRTE asks not to record it, *index the index for the log).
 */
static int vtd_remap(struct vtd *v, uint16_t sid, uint64_t *addr, uint32_t *data, bool *fpd,
		     unsigned *index)
{
	unsigned idx = ((*addr >> 5) & 0x7fff) | ((*addr >> 2) & 1) << 15;
	uint64_t irte[2];

	if (*addr & MSI_ADDR_SHV)
		idx += *data & 0xffff;
	*index = idx & 0xffff;
	if (idx >= 2u << IRTA_S(v->irta))
		return FR_IR_INDEX;
	if (read_entry(v, v->irta & PAGE_MASK_4K, idx, sizeof(irte), irte))
		return FR_IR_ACCESS;
	*fpd = irte[0] & IRTE_FPD;
	if (!(irte[0] & IRTE_P))
		return FR_IR_NOT_PRESENT;
	/* A posted-interrupt entry (IM) is reserved without posted-interrupt support. */
	if ((irte[0] & (IRTE_RSVD_LO | IRTE_IM)) || (irte[1] & IRTE_RSVD_HI) ||
	    IRTE_SVT(irte[1]) == 3)
		return FR_IR_RSVD;
	/*
	 * The IOAPIC's messages are not verified, as QEMU does not verify
	 * them: kvm-unit-tests programs the IOAPIC's IRTE with the requester
	 * id of the PCI device behind the pin (edu), not the IOAPIC's.
	 */
	if (sid != MACHINE_SID_IOAPIC && !irte_sid_ok(irte[1], sid))
		return FR_IR_SID;
	*addr = MSI_ADDR_BASE | IRTE_DST_XAPIC(irte[0]) << 12 |
		((irte[0] & IRTE_RH) ? MSI_ADDR_RH : 0) | ((irte[0] & IRTE_DM) ? MSI_ADDR_DM : 0);
	*data = IRTE_V(irte[0]) | IRTE_DLM(irte[0]) << 8 |
		((irte[0] & IRTE_TM) ? MSI_DATA_LEVEL | MSI_DATA_ASSERT : 0);
	return 0;
}

static int vtd_msi_translate(void *opaque, uint16_t sid, uint64_t *addr, uint32_t *data)
{
	struct vtd *v = opaque;
	bool fpd = false, remappable;
	unsigned index = 0;
	int fr = 0;

	pthread_mutex_lock(&v->lock);
	if (!(reg32(v, VTD_GSTS) & GCMD_IRE)) {
		/* Remapping off: messages pass as they are (QEMU). */
		count(&v->irq_passed);
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	remappable = *addr & MSI_ADDR_REMAPPABLE;
	if (*addr >> 32 || (*addr & 0xfff00000) != MSI_ADDR_BASE)
		fr = FR_IR_REQ_RSVD;
	else if (!remappable)
		fr = (reg32(v, VTD_GSTS) & GCMD_CFI) ? 0 : FR_IR_COMPAT;
	else
		fr = vtd_remap(v, sid, addr, data, &fpd, &index);
	if (fr) {
		count(&v->irq_blocked);
		vtd_fault(v, sid, (uint64_t)index << 48, fr, false, fpd);
	} else {
		/* A compatibility-format message passes as it is while CFIS is set. */
		count(remappable ? &v->irq_remapped : &v->irq_passed);
	}
	pthread_mutex_unlock(&v->lock);
	return fr ? -EFAULT : 0;
}

/* ---- queued invalidation ---- */

#define QI_TYPE(lo)		((unsigned)((lo) & 0xf) | (unsigned)(((lo) >> 9) & 7) << 4)
#define QI_CC			1	/* context-cache */
#define QI_IOTLB		2
#define QI_DEV_IOTLB		3
#define QI_IEC			4	/* interrupt entry cache */
#define QI_WAIT			5
#define QI_G(lo)		((unsigned)((lo) >> 4) & 3)

#define QI_CC_RSVD		0xfffc00000000ffc0ULL
#define QI_IOTLB_RSVD_LO	0xffffffff0000ff00ULL
#define QI_IOTLB_RSVD_HI	0xf80ULL
#define QI_DEV_RSVD_LO		0x000f0000ffe001f0ULL	/* PFSID (15:12, 63:52) ignored */
#define QI_DEV_RSVD_HI		0xffeULL
#define QI_IEC_RSVD		0xffff000007fff1e0ULL
#define QI_WAIT_IF		(1ULL << 4)
#define QI_WAIT_SW		(1ULL << 5)
#define QI_WAIT_RSVD_LO		0xffffff00ULL
#define QI_WAIT_RSVD_HI		0x3ULL

static int vtd_qi_wait(struct vtd *v, uint64_t lo, uint64_t hi)
{
	uint8_t status[4];

	if ((lo & QI_WAIT_RSVD_LO) || (hi & QI_WAIT_RSVD_HI))
		return -EINVAL;
	le_store(status, lo >> 32, sizeof(status));
	/* The status write is a plain write to RAM, as the spec has it (not remapped). */
	if ((lo & QI_WAIT_SW) && guest_mem_write(v->m->mem, hi, status, sizeof(status)))
		return -EFAULT;
	if (lo & QI_WAIT_IF) {
		uint32_t ics = reg32(v, VTD_ICS);

		set32(v, VTD_ICS, ics | ICS_IWC);
		if (!(ics & ICS_IWC))
			vtd_event(v, VTD_IECTL);
	}
	return 0;
}

/*
 * Carry out one descriptor: 0, or -errno for an invalid one. Nothing is
 * cached, so the invalidations only check what they were asked.
 */
static int vtd_qi_desc(struct vtd *v, uint64_t lo, uint64_t hi)
{
	switch (QI_TYPE(lo)) {
	case QI_CC:
		return (lo & QI_CC_RSVD) || hi || QI_G(lo) == 0 ? -EINVAL : 0;
	case QI_IOTLB:
		if ((lo & QI_IOTLB_RSVD_LO) || (hi & QI_IOTLB_RSVD_HI) || QI_G(lo) == 0)
			return -EINVAL;
		return QI_G(lo) == IOTLB_PAGE && IVA_AM(hi) > VTD_MAMV ? -EINVAL : 0;
	case QI_DEV_IOTLB:
		return (lo & QI_DEV_RSVD_LO) || (hi & QI_DEV_RSVD_HI) ? -EINVAL : 0;
	case QI_IEC:
		return (lo & QI_IEC_RSVD) || hi ? -EINVAL : 0;
	case QI_WAIT:
		return vtd_qi_wait(v, lo, hi);
	default:
		return -EINVAL;
	}
}

static void vtd_qi_error(struct vtd *v)
{
	count(&v->qi_errors);
	vtd_set_fsts(v, FSTS_IQE);
}

/*
 * Fetch and carry out the descriptors from IQH up to IQT. An invalid one
 * sets IQE and leaves IQH on it; nothing is fetched while IQE is set.
 */
static void vtd_qi_run(struct vtd *v)
{
	uint64_t iqa = reg64(v, VTD_IQA), desc[2];
	unsigned entries = 256u << IQA_QS(iqa);
	unsigned head = IQ_INDEX(reg64(v, VTD_IQH)), tail = IQ_INDEX(reg64(v, VTD_IQT));

	if (!(reg32(v, VTD_GSTS) & GCMD_QIE) || (reg32(v, VTD_FSTS) & FSTS_IQE))
		return;
	/* 256-bit descriptors are for scalable mode only. */
	if ((iqa & IQA_DW) || tail >= entries || head >= entries) {
		vtd_qi_error(v);
		return;
	}
	while (head != tail) {
		if (read_entry(v, iqa & PAGE_MASK_4K, head, sizeof(desc), desc) ||
		    vtd_qi_desc(v, desc[0], desc[1])) {
			vtd_qi_error(v);
			return;
		}
		count(&v->qi_descriptors);
		head = (head + 1) % entries;
		set64(v, VTD_IQH, (uint64_t)head << 4);
	}
}

/* ---- register writes with side effects ---- */

static void vtd_gcmd(struct vtd *v, uint32_t cmd)
{
	uint32_t sts = reg32(v, VTD_GSTS);
	bool qi_on = false;

	/* SRTP and SIRTP are one-shot: the pointer is latched and the status bit stays set. */
	if (cmd & GCMD_SRTP) {
		v->root = reg64(v, VTD_RTADDR);
		sts |= GCMD_SRTP;
	}
	sts = (cmd & GCMD_TE) ? sts | GCMD_TE : sts & ~GCMD_TE;
	if ((cmd & GCMD_QIE) && !(sts & GCMD_QIE)) {
		/* Enabling starts the queue at its base (IQH 0), as QEMU. */
		set64(v, VTD_IQH, 0);
		sts |= GCMD_QIE;
		qi_on = true;
	} else if (!(cmd & GCMD_QIE)) {
		sts &= ~GCMD_QIE;
	}
	if (v->intremap) {
		if (cmd & GCMD_SIRTP) {
			v->irta = reg64(v, VTD_IRTA);
			sts |= GCMD_SIRTP;
		}
		sts = (cmd & GCMD_IRE) ? sts | GCMD_IRE : sts & ~GCMD_IRE;
		sts = (cmd & GCMD_CFI) ? sts | GCMD_CFI : sts & ~GCMD_CFI;
	}
	/* SFL (no advanced fault log) and WBF (CAP.RWBF clear) complete with nothing to do. */
	set32(v, VTD_GSTS, sts);
	if (qi_on)
		vtd_qi_run(v);
}

/* Register-based context-cache invalidation: done, at the granularity asked for. */
static void vtd_ccmd(struct vtd *v)
{
	uint64_t c = reg64(v, VTD_CCMD);
	uint64_t g = (c >> CCMD_CIRG_SHIFT) & 3;

	if (!(c & CCMD_ICC))
		return;
	c &= ~(CCMD_ICC | 3ULL << CCMD_CAIG_SHIFT);
	set64(v, VTD_CCMD, c | g << CCMD_CAIG_SHIFT);
}

/* Register-based IOTLB invalidation; an invalid request reports granularity 0. */
static void vtd_iotlb(struct vtd *v)
{
	uint64_t c = reg64(v, VTD_IOTLB);
	uint64_t g = (c >> IOTLB_IIRG_SHIFT) & 3;

	if (!(c & IOTLB_IVT))
		return;
	if (g == IOTLB_PAGE && IVA_AM(reg64(v, VTD_IVA)) > VTD_MAMV)
		g = 0;
	c &= ~(IOTLB_IVT | 3ULL << IOTLB_IAIG_SHIFT);
	set64(v, VTD_IOTLB, c | g << IOTLB_IAIG_SHIFT);
}

/* FSTS.PPF follows the F bit of the recording register; IP clears with every condition. */
static void vtd_fault_status_update(struct vtd *v)
{
	uint32_t fsts = reg32(v, VTD_FSTS) & ~FSTS_PPF;

	if (reg64(v, VTD_FRCD + 8) & FRCD_F)
		fsts |= FSTS_PPF;
	set32(v, VTD_FSTS, fsts);
	if (!(fsts & FSTS_FAULTS))
		set32(v, VTD_FECTL, reg32(v, VTD_FECTL) & ~EVT_IP);
}

static bool touches(uint64_t off, unsigned len, unsigned reg, unsigned size)
{
	return off < reg + size && reg < off + len;
}

static void vtd_mmio_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vtd *v = opaque;
	const uint8_t *b = data;
	uint8_t cmd[4];
	bool iqe;

	if (off >= VTD_REG_END)
		return;
	if (len > VTD_REG_END - off)
		len = VTD_REG_END - off;
	pthread_mutex_lock(&v->lock);
	iqe = reg32(v, VTD_FSTS) & FSTS_IQE;
	/* A partial GCMD write keeps the other commands as GSTS has them. */
	memcpy(cmd, v->regs + VTD_GSTS, sizeof(cmd));
	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i;

		if (o >= VTD_GCMD && o < VTD_GCMD + 4)
			cmd[o - VTD_GCMD] = b[i];
		v->regs[o] = (v->regs[o] & ~v->wmask[o]) | (b[i] & v->wmask[o]);
		v->regs[o] &= ~(b[i] & v->w1c[o]);
	}
	if (touches(off, len, VTD_CCMD + 4, 4))
		vtd_ccmd(v);
	if (touches(off, len, VTD_IOTLB + 4, 4))
		vtd_iotlb(v);
	if (touches(off, len, VTD_FSTS, 4) || touches(off, len, VTD_FRCD, 16))
		vtd_fault_status_update(v);
	if (touches(off, len, VTD_FECTL, 4))
		vtd_event_unmask(v, VTD_FECTL);
	if (touches(off, len, VTD_ICS, 4) && !(reg32(v, VTD_ICS) & ICS_IWC))
		set32(v, VTD_IECTL, reg32(v, VTD_IECTL) & ~EVT_IP);
	if (touches(off, len, VTD_IECTL, 4))
		vtd_event_unmask(v, VTD_IECTL);
	if (touches(off, len, VTD_GCMD, 4))
		vtd_gcmd(v, (uint32_t)le_load(cmd, 4));
	/*
	 * A new tail, or IQE cleared: fetching goes on from IQH (Linux puts a
	 * wait descriptor over the invalid one, clears IQE and waits on it).
	 */
	if (touches(off, len, VTD_IQT, 8) || (iqe && !(reg32(v, VTD_FSTS) & FSTS_IQE)))
		vtd_qi_run(v);
	pthread_mutex_unlock(&v->lock);
}

static void vtd_mmio_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct vtd *v = opaque;
	uint8_t *b = data;

	memset(b, 0, len);
	if (off >= VTD_REG_END)
		return;
	if (len > VTD_REG_END - off)
		len = VTD_REG_END - off;
	pthread_mutex_lock(&v->lock);
	memcpy(b, v->regs + off, len);
	pthread_mutex_unlock(&v->lock);
}

static const char *vtd_reg_name(void *opaque, uint64_t off)
{
	const struct vtd_reg *r = reg_find(off);

	(void)opaque;
	return r ? r->name : NULL;
}

/* A 64-bit register's halves count as the register. */
static uint64_t vtd_reg_key(void *opaque, uint64_t off)
{
	const struct vtd_reg *r = reg_find(off);

	(void)opaque;
	return r ? r->off : off;
}

static const struct bus_ops vtd_mmio_ops = {
	.read = vtd_mmio_read,
	.write = vtd_mmio_write,
	.reg_name = vtd_reg_name,
	.reg_key = vtd_reg_key,
};

static const struct machine_iommu_ops vtd_iommu_ops = {
	.dma_translate = vtd_dma_translate,
	.msi_translate = vtd_msi_translate,
};

/* ---- the device ---- */

static void vtd_report(void *opaque, struct device_report *out)
{
	struct vtd *v = opaque;
	static const struct { const char *name; size_t off; } counters[] = {
		{ "dma_translations", offsetof(struct vtd, dma_translations) },
		{ "dma_faults", offsetof(struct vtd, dma_faults) },
		{ "irq_remapped", offsetof(struct vtd, irq_remapped) },
		{ "irq_passed", offsetof(struct vtd, irq_passed) },
		{ "irq_blocked", offsetof(struct vtd, irq_blocked) },
		{ "faults_recorded", offsetof(struct vtd, faults_recorded) },
		{ "faults_suppressed", offsetof(struct vtd, faults_suppressed) },
		{ "faults_overflowed", offsetof(struct vtd, faults_overflowed) },
		{ "fault_events", offsetof(struct vtd, fault_events) },
		{ "qi_descriptors", offsetof(struct vtd, qi_descriptors) },
		{ "qi_errors", offsetof(struct vtd, qi_errors) },
		{ "wait_events", offsetof(struct vtd, wait_events) },
	};

	snprintf(out->path, sizeof(out->path), "DMA remapping, interrupt remapping %s",
		 v->intremap ? "on (xAPIC)" : "off");
	for (size_t i = 0; i < ARRAY_SIZE(counters); i++)
		device_report_add(out, counters[i].name,
				  atomic_load_explicit((_Atomic uint64_t *)((char *)v + counters[i].off),
						       memory_order_relaxed));
}

static void vtd_release(void *state)
{
	struct vtd *v = state;

	pthread_mutex_destroy(&v->lock);
	free(v);
}

static void vtd_reset(struct vtd *v)
{
	for (size_t i = 0; i < ARRAY_SIZE(vtd_regs); i++) {
		const struct vtd_reg *r = &vtd_regs[i];
		uint64_t wmask = r->wmask;

		if (r->off == VTD_IRTA && !v->intremap)
			wmask = 0;
		for (unsigned j = 0; j < r->size && j < 8; j++) {
			v->wmask[r->off + j] = (uint8_t)(wmask >> (8 * j));
			v->w1c[r->off + j] = (uint8_t)(r->w1c >> (8 * j));
		}
	}
	/* FRCD's F (bit 127) is its only guest-writable bit: write 1 to clear. */
	v->w1c[VTD_FRCD + 15] = 0x80;
	set32(v, VTD_VER, VTD_VERSION);
	set64(v, VTD_CAP, VTD_CAP_COMMON | CAP_MGAW(v->aw_bits) |
			  (v->aw_bits >= 48 ? CAP_SAGAW_48 : 0));
	set64(v, VTD_ECAP, VTD_ECAP_VALUE | (v->intremap ? ECAP_IR : 0));
	set32(v, VTD_FECTL, EVT_IM);
	set32(v, VTD_IECTL, EVT_IM);
}

static int intel_iommu_create(struct machine *m, const struct vdev_spec *vs)
{
	const char *s = vdev_opt_get(vs, "intremap"), *aw = vdev_opt_get(vs, "aw-bits");
	unsigned aw_bits = 39;
	char summary[96];
	bool intremap = true;
	struct vtd *v;
	int ret;

	if (s && config_parse_bool(s, &intremap))
		return report(-EINVAL, "intel-iommu: intremap: \"%s\" is not on or off", s);
	/* The parser checked the choice; this is the last word. */
	if (aw && strcmp(aw, "39") && strcmp(aw, "48"))
		return report(-EINVAL, "intel-iommu: aw-bits: \"%s\" is not 39 or 48", aw);
	if (aw)
		aw_bits = (unsigned)atoi(aw);
	if (intremap && !m->split_irqchip)
		return report(-EINVAL, "intel-iommu: interrupt remapping needs `irqchip split` "
			      "(qlite's IOAPIC)");
	v = machine_alloc_device(m, sizeof(*v), vtd_release);
	if (!v)
		return report(-ENOMEM, "intel-iommu: out of memory");
	v->m = m;
	v->intremap = intremap;
	v->aw_bits = aw_bits;
	pthread_mutex_init(&v->lock, NULL);
	vtd_reset(v);
	ret = machine_set_iommu(m, &vtd_iommu_ops, v, VTD_BASE, intremap);
	if (ret < 0)
		return report(ret, "intel-iommu: the machine has an IOMMU already (one only)");
	ret = machine_claim(m, BUS_MMIO, VTD_BASE, VTD_WINDOW, "intel-iommu", &vtd_mmio_ops, v);
	if (ret < 0)
		return ret;
	snprintf(summary, sizeof(summary), "regs %#llx, VT-d 1.0, aw-bits %u, intremap %s",
		 VTD_BASE, aw_bits, intremap ? "on" : "off");
	ret = machine_add_report(m, "intel-iommu", summary, vtd_report, v);
	return ret < 0 ? report(ret, "intel-iommu: out of memory") : 0;
}

static const struct vdev_opt_desc intel_iommu_opts[] = {
	{ "intremap", VDEV_OPT_BOOL,
	  .help = "interrupt remapping (default on; needs `irqchip split`)" },
	{ "aw-bits", VDEV_OPT_ENUM, .choices = "39|48",
	  .help = "the guest address width, as QEMU's: 39 (default, 3-level tables) or 48 (also "
		  "4-level)" },
	{ .key = NULL }
};

const struct vdev_type intel_iommu_vdev = {
	.name = "intel-iommu",
	.help = "Intel VT-d remapping unit at 0xfed90000 (Q35's), with its ACPI DMAR table: "
		"DMA remapping of PCI devices (3-level tables, 4-level with aw-bits 48, 2M/1G "
		"pages), interrupt remapping (xAPIC), queued invalidation; kvm-unit-tests' "
		"intel_iommu and Linux's intel_iommu=on drive it",
	.opts = intel_iommu_opts,
	.create = intel_iommu_create,
	.is_iommu = true,
};
