// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA and MSIs as a PCI requester makes them: through the machine's IOMMU
 * when it has one (intel-iommu), straight to RAM and the LAPICs otherwise.
 * Devices that call these never know whether an IOMMU is there.
 */
#include <errno.h>
#include <string.h>

#include "qlite/dma.h"
#include "qlite/machine.h"

int machine_set_iommu(struct machine *m, const struct machine_iommu_ops *ops, void *opaque,
		      uint64_t base, bool intremap)
{
	if (m->iommu)
		return -EBUSY;
	m->iommu = ops;
	m->iommu_opaque = opaque;
	m->iommu_base = base;
	m->iommu_intremap = intremap;
	return 0;
}

/*
 * The host address of the next piece of [addr, addr + len) for sid:
 * *n gets its length. NULL when the IOMMU refuses it or it is not RAM.
 */
static void *dma_piece(struct machine *m, uint16_t sid, uint64_t addr, size_t len, bool write,
		       size_t *n)
{
	uint64_t gpa = addr, span = len;

	if (m->iommu) {
		if (m->iommu->dma_translate(m->iommu_opaque, sid, addr, write, &gpa, &span) < 0)
			return NULL;
		if (span == 0)
			return NULL;
		if (span > len)
			span = len;
	}
	*n = (size_t)span;
	return guest_mem_ptr(m->mem, gpa, span);
}

int machine_dma_read(struct machine *m, uint16_t sid, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0, n;

	if (addr + len < addr)
		return -EFAULT;
	/* Translate everything before copying, so a refused read leaves buf alone. */
	while (done < len) {
		if (!dma_piece(m, sid, addr + done, len - done, false, &n))
			return -EFAULT;
		done += n;
	}
	for (done = 0; done < len; done += n) {
		/* The guest may have changed its tables since: check again. */
		void *p = dma_piece(m, sid, addr + done, len - done, false, &n);

		if (!p)
			return -EFAULT;
		memcpy((char *)buf + done, p, n);
	}
	return 0;
}

int machine_dma_write(struct machine *m, uint16_t sid, uint64_t addr, const void *buf, size_t len)
{
	size_t done = 0, n;
	void *p;

	if (addr + len < addr)
		return -EFAULT;
	while (done < len) {
		p = dma_piece(m, sid, addr + done, len - done, true, &n);
		if (!p)
			return -EFAULT;
		memcpy(p, (const char *)buf + done, n);
		done += n;
	}
	return 0;
}

int machine_dma_sg_add(struct machine *m, uint16_t sid, struct dma_sg *sg, uint64_t addr,
		       uint64_t len, bool write)
{
	unsigned n0 = sg->n;
	size_t last_len = n0 ? sg->iov[n0 - 1].iov_len : 0;
	uint64_t done = 0;
	int ret = 0;

	/* Guest-physical: exactly what the device did before there were IOMMUs. */
	if (!m->iommu)
		return dma_sg_add(sg, addr, len);
	if (!len)
		return -EINVAL;
	if (len > UINT32_MAX - sg->bytes)
		return -E2BIG;
	if (addr + len < addr)
		return -EFAULT;
	while (done < len) {
		struct iovec *prev = sg->n ? &sg->iov[sg->n - 1] : NULL;
		size_t n;
		char *p = dma_piece(m, sid, addr + done, len - done, write, &n);

		if (!p) {
			ret = -EFAULT;
			break;
		}
		/* Pages that follow each other in RAM (an identity mapping) stay one entry. */
		if (prev && (char *)prev->iov_base + prev->iov_len == p) {
			prev->iov_len += n;
		} else if (sg->n < sg->max) {
			sg->iov[sg->n++] = (struct iovec){ .iov_base = p, .iov_len = n };
		} else {
			ret = -E2BIG;
			break;
		}
		done += n;
	}
	if (ret < 0) {
		/* All or nothing, as dma_sg_add: the entry it may have grown gets its length back. */
		sg->n = n0;
		if (n0)
			sg->iov[n0 - 1].iov_len = last_len;
		return ret;
	}
	sg->bytes += len;
	return 0;
}

int machine_msi_raise(struct machine *m, uint16_t sid, uint64_t addr, uint32_t data)
{
	int ret;

	if (m->iommu) {
		ret = m->iommu->msi_translate(m->iommu_opaque, sid, &addr, &data);
		if (ret < 0)
			return ret;
	}
	m->msi_send(m, addr, data);
	return 0;
}
