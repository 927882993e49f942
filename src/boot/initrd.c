// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where an initrd goes, for every boot protocol: as high as the protocol
 * allows in the first RAM slot, page-aligned, above the kernel.
 */
#include <errno.h>

#include "qlite/boot.h"
#include "qlite/util.h"

int initrd_place(const struct guest_mem *gm, uint64_t kernel_end, uint64_t limit, size_t len,
		 uint64_t *gpa)
{
	uint64_t top = gm->slots[0].size;
	uint64_t addr;

	if (limit && limit + 1 < top)
		top = limit + 1;
	if (len > top)
		return -ENOSPC;
	addr = (top - len) & ~0xfffULL;
	if (addr < ALIGN_UP(kernel_end, 0x1000))
		return -ENOSPC;
	*gpa = addr;
	return 0;
}
