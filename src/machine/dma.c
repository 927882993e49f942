// SPDX-License-Identifier: GPL-2.0-only
/* Scatter-gather lists over guest RAM for device DMA; see dma.h. */
#include <errno.h>
#include <string.h>

#include "qlite/dma.h"

int dma_sg_add(struct dma_sg *sg, uint64_t gpa, uint64_t len)
{
	void *p;

	if (!len)
		return -EINVAL;
	if (sg->n >= sg->max || len > UINT32_MAX - sg->bytes)
		return -E2BIG;
	/* RAM slots are never adjacent (the PCI hole lies between): a range is in one or none. */
	p = guest_mem_ptr(sg->mem, gpa, len);
	if (!p)
		return -EFAULT;
	sg->iov[sg->n++] = (struct iovec){ .iov_base = p, .iov_len = len };
	sg->bytes += len;
	return 0;
}

/* Walk the list from byte off, calling copy on each piece; the bytes done. */
static size_t dma_sg_walk(const struct dma_sg *sg, size_t off, size_t len,
			  void (*copy)(void *seg, void *flat, size_t n), void *flat)
{
	size_t done = 0;

	for (unsigned i = 0; i < sg->n && done < len; i++) {
		size_t seg = sg->iov[i].iov_len, n;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		n = seg - off;
		if (n > len - done)
			n = len - done;
		copy((char *)sg->iov[i].iov_base + off, (char *)flat + done, n);
		done += n;
		off = 0;
	}
	return done;
}

static void copy_to_seg(void *seg, void *flat, size_t n)
{
	memcpy(seg, flat, n);
}

static void copy_from_seg(void *seg, void *flat, size_t n)
{
	memcpy(flat, seg, n);
}

size_t dma_sg_to(const struct dma_sg *sg, size_t off, const void *buf, size_t len)
{
	return dma_sg_walk(sg, off, len, copy_to_seg, (void *)buf);
}

size_t dma_sg_from(const struct dma_sg *sg, size_t off, void *buf, size_t len)
{
	return dma_sg_walk(sg, off, len, copy_from_seg, buf);
}
