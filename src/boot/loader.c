// SPDX-License-Identifier: GPL-2.0-only
/* Which boot protocol an image speaks; the loaders of each are in their own files. */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/util.h"

int boot_probe_kind(const struct boot_image *img, enum boot_kind *kind, char *err, size_t errlen)
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
	if (img->len < 0x206)
		snprintf(err, errlen, "%s: too short (%zu bytes) to be a kernel image", img->path, img->len);
	else
		snprintf(err, errlen, "%s: not a kernel image: neither an ELF (PVH) nor a bzImage", img->path);
	return -1;
}

bool boot_image_is_linux(const struct boot_image *img)
{
	enum boot_kind kind;
	char err[8];

	if (boot_probe_kind(img, &kind, err, sizeof(err)) < 0)
		return false;
	return kind == BOOT_LINUX64 || elf_is_linux(img);
}

int boot_load(struct guest_mem *gm, const struct boot_image *kernel, const struct boot_image *initrd,
	      const char *cmdline, struct boot_result *res, char *err, size_t errlen)
{
	enum boot_kind kind;

	if (cmdline && strlen(cmdline) >= BOOT_CMDLINE_MAX) {
		snprintf(err, errlen, "kernel command line too long (%zu bytes, at most %d)",
			 strlen(cmdline), BOOT_CMDLINE_MAX - 1);
		return -1;
	}
	if (boot_probe_kind(kernel, &kind, err, errlen) < 0)
		return -1;
	memset(res, 0, sizeof(*res));
	if (kind == BOOT_PVH)
		return pvh_load(gm, kernel, initrd, cmdline, res, err, errlen);
	return bzimage_load(gm, kernel, initrd, cmdline, res, err, errlen);
}
