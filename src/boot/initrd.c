// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where an initrd goes, for every boot protocol: as high as the protocol
 * allows in the first RAM slot, page-aligned, above the kernel. And the
 * strings of modules (PVH, multiboot), in the low area kept for them.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
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

void boot_copy_modules(struct guest_mem *gm, const struct boot_module *mods, unsigned nr_mods,
		       const uint64_t *at)
{
	for (unsigned i = 0; i < nr_mods; i++)
		if (mods[i].img.len)
			memcpy(guest_mem_ptr(gm, at[i], mods[i].img.len), mods[i].img.data,
			       mods[i].img.len);
}

static int put_string(struct guest_mem *gm, size_t *used, const char *s, uint64_t *at)
{
	size_t len = strlen(s) + 1;

	if (len > BOOT_STRINGS_MAX - *used)
		return report(-E2BIG, "module command lines and strings take more than %d bytes",
			      BOOT_STRINGS_MAX);
	*at = BOOT_STRINGS_ADDR + *used;
	memcpy(guest_mem_ptr(gm, *at, len), s, len);
	*used += len;
	return 0;
}

int boot_put_strings(struct guest_mem *gm, const struct boot_module *mods, unsigned nr_mods,
		     bool paths, const char *extra, uint64_t *str_at, uint64_t *extra_at)
{
	size_t used = 0;
	int ret;

	if (!guest_mem_ptr(gm, BOOT_STRINGS_ADDR, BOOT_STRINGS_MAX))
		return report(-ENOSPC, "guest RAM too small for the boot structures");
	for (unsigned i = 0; i < nr_mods; i++) {
		const char *s = mods[i].cmdline ? mods[i].cmdline : paths ? mods[i].img.path : NULL;

		str_at[i] = 0;
		if (s && (ret = put_string(gm, &used, s, &str_at[i])) < 0)
			return ret;
	}
	return extra ? put_string(gm, &used, extra, extra_at) : 0;
}
