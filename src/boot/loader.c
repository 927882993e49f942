// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which boot protocol an image speaks; the loaders of each are in their own
 * files. The order is QEMU's: a bzImage's "HdrS", then a multiboot header
 * (which an ELF may carry too), then an ELF with a PVH note.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "qlite/util.h"

static bool is_bzimage(const struct boot_image *img)
{
	return img->len >= 0x206 && le_load(img->data + 0x1fe, 2) == 0xaa55 &&
	       !memcmp(img->data + 0x202, "HdrS", 4);
}

static bool is_elf(const struct boot_image *img)
{
	return img->len >= SELFMAG && !memcmp(img->data, ELFMAG, SELFMAG);
}

/* The first bytes alone decide; silent, so that boot_image_is_linux() can ask too. */
static int probe_kind(const struct boot_image *img, enum boot_kind *kind)
{
	size_t off;

	if (is_bzimage(img))
		*kind = BOOT_LINUX64;
	else if (!multiboot_find(img, &off))
		*kind = BOOT_MULTIBOOT;
	else if (is_elf(img))
		*kind = BOOT_PVH;
	else
		return -ENOEXEC;
	return 0;
}

/* A multiboot magic whose checksum is wrong: the one line for an image nothing else boots. */
static int bad_multiboot(const struct boot_image *img, size_t off)
{
	const uint8_t *p = img->data + off;

	return report(-ENOEXEC, "%s: multiboot header at %#zx has a wrong checksum (%#x, expected %#x)",
		      img->path, off, (unsigned)le_load(p + 8, 4),
		      (unsigned)(uint32_t)-(0x1badb002 + le_load(p + 4, 4)));
}

int boot_probe_kind(const struct boot_image *img, enum boot_kind *kind)
{
	size_t off;

	if (!probe_kind(img, kind))
		return 0;
	if (multiboot_find(img, &off) == -EBADMSG)
		return bad_multiboot(img, off);
	if (img->len < 0x206)
		return report(-ENOEXEC, "%s: too short (%zu bytes) to be a kernel image",
			      img->path, img->len);
	return report(-ENOEXEC, "%s: not a kernel image: no ELF, bzImage or multiboot header",
		      img->path);
}

bool boot_image_is_linux(const struct boot_image *img)
{
	enum boot_kind kind;

	if (probe_kind(img, &kind) < 0)
		return false;
	return kind == BOOT_LINUX64 || (kind == BOOT_PVH && elf_is_linux(img));
}

/* An ELF with no PVH note but a multiboot magic of wrong checksum was meant to be multiboot. */
static bool meant_multiboot(const struct boot_image *img, size_t *off)
{
	struct elf_notes notes;
	struct elf_hdr h;

	if (multiboot_find(img, off) != -EBADMSG || elf_read_header(img, &h, true) < 0)
		return false;
	elf_scan_all_notes(img, &h, &notes);
	return !notes.have_entry;
}

int boot_load_mods(struct guest_mem *gm, const struct boot_image *kernel,
		   const struct boot_module *mods, unsigned nr_mods, const char *cmdline,
		   struct boot_result *res)
{
	enum boot_kind kind;
	size_t off;
	int ret;

	if (cmdline && strlen(cmdline) >= BOOT_CMDLINE_MAX)
		return report(-E2BIG, "kernel command line too long (%zu bytes, at most %d)",
			      strlen(cmdline), BOOT_CMDLINE_MAX - 1);
	ret = boot_probe_kind(kernel, &kind);
	if (ret < 0)
		return ret;
	memset(res, 0, sizeof(*res));
	switch (kind) {
	case BOOT_MULTIBOOT:
		multiboot_find(kernel, &off);
		return multiboot_load(gm, kernel, off, mods, nr_mods, cmdline, res);
	case BOOT_PVH:
		if (meant_multiboot(kernel, &off))
			return bad_multiboot(kernel, off);
		return pvh_load(gm, kernel, mods, nr_mods, cmdline, res);
	case BOOT_LINUX64:
		break;
	}
	if (nr_mods > 1)
		return report(-EINVAL, "%s: a bzImage takes one initrd, not %u modules (several are for multiboot and PVH kernels)",
			      kernel->path, nr_mods);
	return bzimage_load(gm, kernel, nr_mods ? &mods[0].img : NULL, cmdline, res);
}

int boot_load(struct guest_mem *gm, const struct boot_image *kernel, const struct boot_image *initrd,
	      const char *cmdline, struct boot_result *res)
{
	struct boot_module mod;

	/* An empty initrd is no initrd (and nothing to copy from a NULL buffer). */
	if (!initrd || !initrd->len)
		return boot_load_mods(gm, kernel, NULL, 0, cmdline, res);
	mod = (struct boot_module){ .img = *initrd };
	return boot_load_mods(gm, kernel, &mod, 1, cmdline, res);
}

int boot_set_rsdp(struct guest_mem *gm, const struct boot_result *res, uint64_t rsdp)
{
	if (res->kind == BOOT_PVH)
		return pvh_set_rsdp(gm, res->boot_info, rsdp);
	return bzimage_set_rsdp(gm, res->boot_info, rsdp);
}
