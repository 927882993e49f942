// SPDX-License-Identifier: GPL-2.0-only
/* Which boot protocol an image speaks; the loaders of each are in their own files. */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/util.h"

/* The first bytes alone decide; silent, so that boot_image_is_linux() can ask too. */
static int probe_kind(const struct boot_image *img, enum boot_kind *kind)
{
	if (img->len >= SELFMAG && !memcmp(img->data, ELFMAG, SELFMAG)) {
		*kind = BOOT_PVH;
		return 0;
	}
	if (img->len >= 0x206 && le_load(img->data + 0x1fe, 2) == 0xaa55 &&
	    !memcmp(img->data + 0x202, "HdrS", 4)) {
		*kind = BOOT_LINUX64;
		return 0;
	}
	return -ENOEXEC;
}

int boot_probe_kind(const struct boot_image *img, enum boot_kind *kind)
{
	if (!probe_kind(img, kind))
		return 0;
	if (img->len < 0x206)
		return report(-ENOEXEC, "%s: too short (%zu bytes) to be a kernel image",
			      img->path, img->len);
	return report(-ENOEXEC, "%s: not a kernel image: neither an ELF (PVH) nor a bzImage", img->path);
}

bool boot_image_is_linux(const struct boot_image *img)
{
	enum boot_kind kind;

	if (probe_kind(img, &kind) < 0)
		return false;
	return kind == BOOT_LINUX64 || elf_is_linux(img);
}

int boot_load(struct guest_mem *gm, const struct boot_image *kernel, const struct boot_image *initrd,
	      const char *cmdline, struct boot_result *res)
{
	enum boot_kind kind;
	int ret;

	if (cmdline && strlen(cmdline) >= BOOT_CMDLINE_MAX)
		return report(-E2BIG, "kernel command line too long (%zu bytes, at most %d)",
			      strlen(cmdline), BOOT_CMDLINE_MAX - 1);
	ret = boot_probe_kind(kernel, &kind);
	if (ret < 0)
		return ret;
	memset(res, 0, sizeof(*res));
	if (kind == BOOT_PVH)
		return pvh_load(gm, kernel, initrd, cmdline, res);
	return bzimage_load(gm, kernel, initrd, cmdline, res);
}

int boot_set_rsdp(struct guest_mem *gm, const struct boot_result *res, uint64_t rsdp)
{
	if (res->kind == BOOT_PVH)
		return pvh_set_rsdp(gm, res->boot_info, rsdp);
	return bzimage_set_rsdp(gm, res->boot_info, rsdp);
}
