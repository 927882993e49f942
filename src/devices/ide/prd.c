// SPDX-License-Identifier: GPL-2.0-only
/*
 * Physical Region Descriptor tables (Bus Master IDE, rev. 1.0): 8-byte
 * entries of a 32-bit buffer address (bit 0 reserved), a 16-bit byte count
 * (bit 0 reserved; 0 means 64 KiB) and an end-of-table bit (bit 31 of the
 * second dword). Entries and buffers are DMA as the IDE function, through
 * the machine's IOMMU when it has one; every entry and buffer is checked
 * against RAM (after translation) as it is read; a list is read only as
 * far as the transfer needs.
 */
#include <errno.h>

#include "ide.h"
#include "qlite/util.h"

#define PRD_ENTRY	8
#define PRD_EOT		0x80000000u

int ide_prd_map(struct machine *m, uint16_t sid, uint32_t table, uint64_t bytes, bool to_ram,
		struct dma_sg *sg, bool *longer)
{
	uint64_t done = 0;

	if (!m->mem)
		return -EFAULT;
	/* The table is dword aligned: the register's low bits are not address bits. */
	table &= ~3u;
	for (unsigned i = 0; i < IDE_PRD_MAX; i++) {
		uint64_t at = (uint64_t)table + (uint64_t)i * PRD_ENTRY, count, take;
		uint8_t e[PRD_ENTRY];
		uint32_t addr, flags;
		int ret;

		if (machine_dma_read(m, sid, at, e, sizeof(e)) < 0)
			return -EFAULT;
		addr = le_load(e, 4) & ~1u;
		flags = le_load(e + 4, 4);
		count = flags & 0xfffe;
		if (!count)
			count = 0x10000;
		take = bytes - done < count ? bytes - done : count;
		ret = machine_dma_sg_add(m, sid, sg, addr, take, to_ram);
		/* Pieces beyond IDE_SG_MAX (an IOMMU with pages under 4 KiB): not an end-bit matter. */
		if (ret == -E2BIG)
			return -ENOBUFS;
		if (ret < 0)
			return ret;
		done += take;
		if (done == bytes) {
			*longer = take < count || !(flags & PRD_EOT);
			return 0;
		}
		if (flags & PRD_EOT)
			return -ENOSPC;
	}
	return -E2BIG;
}
