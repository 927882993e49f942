/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An IOMMU for device unit tests (machine_set_iommu): IOVAs from iova_base
 * (beyond RAM) land at gpa_base with the two pages of each pair swapped, so
 * a buffer across a page boundary is two pieces apart in RAM; IOVAs from
 * refused on, and any outside [iova_base, iova_base + span), are refused.
 * MSIs pass unchanged (no interrupt remapping). It counts translations and
 * keeps the last requester id, so a test sees whose DMA it was.
 */
#ifndef QLITE_TEST_FAKE_IOMMU_H
#define QLITE_TEST_FAKE_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qlite/machine.h"

struct fake_iommu {
	uint64_t iova_base, span, refused, gpa_base;
	struct guest_mem *mem;		/* where fake_iommu_rw reads and writes */
	unsigned translations;
	uint16_t last_sid;
};

/* Install f as m's IOMMU; the test keeps f alive as long as m. */
void fake_iommu_install(struct machine *m, struct fake_iommu *f);
/* Where an IOVA inside the window lands. */
uint64_t fake_iommu_gpa(const struct fake_iommu *f, uint64_t iova);
/* The driver's side of a mapping: bytes at an IOVA, page by page, in f->mem. */
void fake_iommu_rw(const struct fake_iommu *f, uint64_t iova, void *buf, size_t len, bool write);

#endif
