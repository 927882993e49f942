/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Device DMA over guest RAM: a scatter-gather list of guest-physical
 * ranges (virtio descriptors, IDE PRD entries, e1000 buffers) turned into
 * host iovecs, each checked against RAM as it is added. A range that is not
 * all RAM fails with -EFAULT before any byte moves; the device then fails
 * the request, and qlite goes on.
 */
#ifndef QLITE_DMA_H
#define QLITE_DMA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "guest_mem.h"

struct dma_sg {
	const struct guest_mem *mem;
	struct iovec *iov;	/* the caller's array of max entries */
	unsigned n, max;
	uint64_t bytes;		/* sum of the iov lengths */
};

static inline void dma_sg_init(struct dma_sg *sg, const struct guest_mem *mem,
			       struct iovec *iov, unsigned max)
{
	*sg = (struct dma_sg){ .mem = mem, .iov = iov, .max = max };
}

/*
 * Append [gpa, gpa + len): -EFAULT when any byte is outside RAM, -E2BIG when
 * the list is full or the total would pass UINT32_MAX (no device moves
 * more in one request), -EINVAL for len 0. On error sg is unchanged.
 */
int dma_sg_add(struct dma_sg *sg, uint64_t gpa, uint64_t len);

/* Copy between a flat buffer and the list, from byte offset off of the list; returns bytes copied. */
size_t dma_sg_to(const struct dma_sg *sg, size_t off, const void *buf, size_t len);
size_t dma_sg_from(const struct dma_sg *sg, size_t off, void *buf, size_t len);

#endif
