// SPDX-License-Identifier: GPL-2.0-only
/* The unit tests' IOMMU: see fake_iommu.h. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_iommu.h"

#define PAGE	0x1000ull

uint64_t fake_iommu_gpa(const struct fake_iommu *f, uint64_t iova)
{
	return f->gpa_base + ((iova - f->iova_base) ^ PAGE);
}

static int fake_dma_translate(void *opaque, uint16_t sid, uint64_t iova, bool write,
			      uint64_t *gpa, uint64_t *len)
{
	struct fake_iommu *f = opaque;

	f->translations++;
	f->last_sid = sid;
	if (iova < f->iova_base || iova >= f->iova_base + f->span || iova >= f->refused)
		return -EFAULT;
	*gpa = fake_iommu_gpa(f, iova);
	*len = PAGE - (iova & (PAGE - 1));
	return 0;
}

static int fake_msi_translate(void *opaque, uint16_t sid, uint64_t *addr, uint32_t *data)
{
	return 0;
}

static const struct machine_iommu_ops fake_iommu_ops = {
	.dma_translate = fake_dma_translate,
	.msi_translate = fake_msi_translate,
};

void fake_iommu_install(struct machine *m, struct fake_iommu *f)
{
	assert_int_equal(machine_set_iommu(m, &fake_iommu_ops, f, 0xfed90000, false), 0);
}

void fake_iommu_rw(const struct fake_iommu *f, uint64_t iova, void *buf, size_t len, bool write)
{
	while (len) {
		size_t n = PAGE - (iova & (PAGE - 1));

		if (n > len)
			n = len;
		if (write)
			assert_int_equal(guest_mem_write(f->mem, fake_iommu_gpa(f, iova), buf, n), 0);
		else
			assert_int_equal(guest_mem_read(f->mem, fake_iommu_gpa(f, iova), buf, n), 0);
		iova += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
}
