// SPDX-License-Identifier: GPL-2.0-only
/*
 * Multiboot v1 (the GNU Multiboot Specification 0.6.96): a header in the
 * first 8 KiB of the file says how to load it, by its ELF32 program headers
 * or by the addresses of the "a.out kludge" (flag 16). The kernel is entered
 * in flat 32-bit protected mode, paging off, with EAX = 0x2BADB002 and EBX
 * at the multiboot information: memory sizes and map, command line,
 * modules, the boot loader's name. As GRUB and QEMU do, the command line
 * starts with the kernel's path and modules follow the kernel, page-aligned.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "qlite/util.h"

#define MB_MAGIC		0x1badb002
#define MB_SEARCH		8192
#define MB_HDR_MIN		12	/* magic, flags, checksum */
#define MB_HDR_ADDRS		32	/* and the a.out kludge addresses */

/* Header flags: 0..15 are required (an unknown one must stop the boot), 16..31 optional. */
#define MB_PAGE_ALIGN		(1u << 0)	/* modules page-aligned: always */
#define MB_MEMORY_INFO		(1u << 1)	/* mem_* and mmap_*: always */
#define MB_VIDEO_MODE		(1u << 2)	/* ignored: no framebuffer, as QEMU */
#define MB_AOUT_KLUDGE		(1u << 16)
#define MB_KNOWN_REQUIRED	(MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE)

/* Information flags. */
#define MBI_MEMORY		(1u << 0)
#define MBI_CMDLINE		(1u << 2)
#define MBI_MODS		(1u << 3)
#define MBI_MMAP		(1u << 6)
#define MBI_LOADER_NAME		(1u << 9)

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe[4];
} __attribute__((packed));

struct mb_module {
	uint32_t mod_start, mod_end;
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));

/* An mmap entry; size counts the bytes after itself. */
struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

_Static_assert(BOOT_MAX_MODULES * sizeof(struct mb_module) <= BOOT_MODLIST_SIZE,
	       "multiboot module list area");

/* What the kernel occupies in RAM and where it starts. */
struct mb_kernel {
	uint64_t start, end, entry;
	size_t offset, filesz;		/* a.out: the bytes copied to start */
	struct elf_layout elf;		/* ELF: its segments */
	bool aout;
};

int multiboot_find(const struct boot_image *img, size_t *off)
{
	size_t limit = img->len < MB_SEARCH ? img->len : MB_SEARCH;
	bool bad = false;

	for (size_t i = 0; i + MB_HDR_MIN <= limit; i += 4) {
		const uint8_t *p = img->data + i;

		if (le_load(p, 4) != MB_MAGIC)
			continue;
		if ((uint32_t)(MB_MAGIC + le_load(p + 4, 4) + le_load(p + 8, 4)) == 0) {
			*off = i;
			return 0;
		}
		if (!bad)
			*off = i;
		bad = true;
	}
	return bad ? -EBADMSG : -ENOEXEC;
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* The a.out kludge: the file from load_addr's offset to load_end_addr, then bss. */
static int check_aout(const struct guest_mem *gm, const struct boot_image *img, size_t hdr,
		      struct mb_kernel *k)
{
	const uint8_t *p = img->data + hdr;
	uint32_t header_addr = le_load(p + 12, 4), load_addr = le_load(p + 16, 4);
	uint32_t load_end = le_load(p + 20, 4), bss_end = le_load(p + 24, 4);
	uint32_t entry = le_load(p + 28, 4);

	if (load_addr > header_addr || header_addr - load_addr > hdr)
		return report(-EINVAL, "%s: corrupt multiboot header: load_addr %#x and header_addr %#x put the image before the file's start",
			      img->path, load_addr, header_addr);
	k->offset = hdr - (header_addr - load_addr);
	if (!load_end)
		k->filesz = img->len - k->offset;
	else if (load_end < load_addr)
		return report(-EINVAL, "%s: corrupt multiboot header: load_end_addr %#x is below load_addr %#x",
			      img->path, load_end, load_addr);
	else
		k->filesz = load_end - load_addr;
	if (k->filesz > img->len - k->offset)
		return report(-EINVAL, "%s: truncated multiboot image (%#zx bytes from offset %#zx, file is %zu bytes)",
			      img->path, k->filesz, k->offset, img->len);
	k->start = load_addr;
	k->end = (uint64_t)load_addr + k->filesz;
	if (bss_end) {
		if (bss_end < k->end)
			return report(-EINVAL, "%s: corrupt multiboot header: bss_end_addr %#x is below the end of the loaded image %#llx",
				      img->path, bss_end, (unsigned long long)k->end);
		k->end = bss_end;
	}
	if (!boot_fits(gm, k->start, k->end, true))
		return report(-ENOSPC, "%s: multiboot image at %#llx..%#llx does not fit in guest RAM (0x1000..0x9fc00 or above 1 MiB)",
			      img->path, (unsigned long long)k->start, (unsigned long long)k->end);
	if (entry < k->start || entry >= k->end)
		return report(-EINVAL, "%s: multiboot entry %#x is outside the loaded image %#llx..%#llx",
			      img->path, entry, (unsigned long long)k->start,
			      (unsigned long long)k->end);
	k->entry = entry;
	k->aout = true;
	return 0;
}

/* An ELF32 kernel: its segments at their physical addresses, e_entry (virtual or physical). */
static int check_elf(const struct guest_mem *gm, const struct boot_image *img,
		     struct mb_kernel *k)
{
	struct elf_hdr h;
	int ret = elf_read_header(img, &h, false);

	if (ret == -ENOEXEC || (!ret && (h.class != ELFCLASS32 || h.machine != EM_386)))
		return report(-ENOEXEC, "%s: multiboot kernel is neither an ELF32 i386 nor an a.out kludge image (header flag 16)",
			      img->path);
	if (ret < 0)
		return ret;
	ret = elf_check_segments(gm, img, &h, true, &k->elf);
	if (ret < 0)
		return ret;
	k->entry = h.entry;
	/* GRUB translates an entry given as a virtual address through its segment. */
	for (unsigned i = 0; i < k->elf.nr_segs && !elf_in_segment(&k->elf, k->entry); i++) {
		const struct elf_seg *s = &k->elf.segs[i];

		if (h.entry >= s->vaddr && h.entry - s->vaddr < s->memsz)
			k->entry = h.entry - s->vaddr + s->paddr;
	}
	if (!elf_in_segment(&k->elf, k->entry)) {
		elf_layout_free(&k->elf);
		return report(-EINVAL, "%s: multiboot entry %#llx is not in a loaded segment",
			      img->path, (unsigned long long)h.entry);
	}
	k->start = k->elf.segs[0].paddr;
	k->end = elf_end(&k->elf);
	return 0;
}

/*
 * Modules after the kernel, in order, each page-aligned (QEMU's layout); below 4 GiB.
 * *end is the page after the last. A kernel in conventional memory has them from 1 MiB,
 * away from the command line and strings qlite keeps there.
 */
static int place_modules(const struct guest_mem *gm, uint64_t kernel_end,
			 const struct boot_module *mods, unsigned nr_mods, uint64_t *at,
			 uint64_t *end)
{
	uint64_t next = ALIGN_UP(kernel_end < HIGH_MEM_START ? HIGH_MEM_START : kernel_end, 0x1000);

	for (unsigned i = 0; i < nr_mods; i++) {
		size_t len = mods[i].img.len;

		if (next >= PCI_HOLE_START || !guest_mem_ptr(gm, next, len ? len : 1))
			return report(-ENOSPC, "%s: module of %zu bytes does not fit in guest RAM at %#llx after the kernel",
				      mods[i].img.path, len, (unsigned long long)next);
		at[i] = next;
		next = ALIGN_UP(next + len, 0x1000);
	}
	*end = next;
	return 0;
}

/* The info structure, memory map and module list sit as one block (BOOT_INFO_ADDR's layout). */
#define MB_BLOCK_SIZE	(BOOT_MODLIST_ADDR + BOOT_MODLIST_SIZE - BOOT_INFO_ADDR)

/*
 * Where the block goes: BOOT_INFO_ADDR, unless a kernel in conventional
 * memory covers it; then after the modules, as QEMU puts its info after the
 * kernel. The command line and strings stay at their fixed places, which
 * such a kernel must leave free.
 */
static int place_info(const struct guest_mem *gm, const struct boot_image *img,
		      const struct mb_kernel *k, uint64_t mods_end, uint64_t *info)
{
	*info = BOOT_INFO_ADDR;
	if (k->start >= HIGH_MEM_START)
		return 0;
	if (overlaps(k->start, k->end, BOOT_CMDLINE_ADDR, BOOT_STRINGS_ADDR + BOOT_STRINGS_MAX))
		return report(-ENOSPC, "%s: multiboot image at %#llx..%#llx covers qlite's boot command line and strings at %#x..%#x",
			      img->path, (unsigned long long)k->start, (unsigned long long)k->end,
			      BOOT_CMDLINE_ADDR, BOOT_STRINGS_ADDR + BOOT_STRINGS_MAX);
	if (!overlaps(k->start, k->end, BOOT_INFO_ADDR, BOOT_INFO_ADDR + MB_BLOCK_SIZE))
		return 0;
	if (!guest_mem_ptr(gm, mods_end, MB_BLOCK_SIZE) || mods_end + MB_BLOCK_SIZE > PCI_HOLE_START)
		return report(-ENOSPC, "%s: no room in guest RAM for the multiboot information at %#llx",
			      img->path, (unsigned long long)mods_end);
	*info = mods_end;
	return 0;
}

int multiboot_load(struct guest_mem *gm, const struct boot_image *img, size_t hdr,
		   const struct boot_module *mods, unsigned nr_mods, const char *cmdline,
		   struct boot_result *res)
{
	uint64_t mod_at[BOOT_MAX_MODULES], str_at[BOOT_MAX_MODULES], name_at = 0;
	uint64_t mods_end = 0, info = BOOT_INFO_ADDR;
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct mb_kernel k = { 0 };
	struct mb_mmap *mm;
	struct mb_info *mbi;
	uint32_t flags = le_load(img->data + hdr + 4, 4);
	size_t path_len = strlen(img->path), args_len = cmdline ? strlen(cmdline) : 0;
	char *cl;
	unsigned n;
	int ret;

	if (flags & 0xffff & ~MB_KNOWN_REQUIRED)
		return report(-ENOEXEC, "%s: multiboot header requires features qlite does not have (flags %#x, unknown required bits %#x)",
			      img->path, flags, flags & 0xffff & ~MB_KNOWN_REQUIRED);
	if (nr_mods > BOOT_MAX_MODULES)
		return report(-E2BIG, "%s: %u modules, at most %d", img->path, nr_mods,
			      BOOT_MAX_MODULES);
	/* The kernel's command line is its path and the user's; it goes where PVH's does. */
	if (path_len + 1 + args_len >= BOOT_CMDLINE_MAX)
		return report(-E2BIG, "%s: multiboot command line (the path and the command line) too long: %zu bytes, at most %d",
			      img->path, path_len + 1 + args_len, BOOT_CMDLINE_MAX - 1);
	if (flags & MB_AOUT_KLUDGE) {
		if (img->len - hdr < MB_HDR_ADDRS)
			return report(-EINVAL, "%s: truncated multiboot header at %#zx (its load addresses are past the end of the file)",
				      img->path, hdr);
		ret = check_aout(gm, img, hdr, &k);
	} else {
		ret = check_elf(gm, img, &k);
	}
	if (ret < 0)
		return ret;
	ret = place_modules(gm, k.end, mods, nr_mods, mod_at, &mods_end);
	if (ret < 0)
		goto out;
	ret = place_info(gm, img, &k, mods_end, &info);
	if (ret < 0)
		goto out;
	ret = boot_put_strings(gm, mods, nr_mods, true, "qlite", str_at, &name_at);
	if (ret < 0)
		goto out;

	if (k.aout) {
		uint8_t *dst = guest_mem_ptr(gm, k.start, k.end - k.start);

		memcpy(dst, img->data + k.offset, k.filesz);
		memset(dst + k.filesz, 0, k.end - k.start - k.filesz);
	} else {
		elf_load_segments(gm, img, &k.elf);
	}

	mbi = guest_mem_ptr(gm, info, sizeof(*mbi));
	memset(mbi, 0, sizeof(*mbi));
	mbi->flags = MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME;
	mbi->mem_lower = EBDA_START / 1024;
	mbi->mem_upper = (gm->slots[0].size - HIGH_MEM_START) / 1024;

	cl = guest_mem_ptr(gm, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX);
	snprintf(cl, BOOT_CMDLINE_MAX, "%s%s%s", img->path, args_len ? " " : "",
		 args_len ? cmdline : "");
	mbi->cmdline = BOOT_CMDLINE_ADDR;

	if (nr_mods) {
		struct mb_module *mod = guest_mem_ptr(gm, info + BOOT_MODLIST_ADDR - BOOT_INFO_ADDR,
						      nr_mods * sizeof(*mod));

		boot_copy_modules(gm, mods, nr_mods, mod_at);
		for (unsigned i = 0; i < nr_mods; i++) {
			mod[i] = (struct mb_module){
				.mod_start = mod_at[i], .mod_end = mod_at[i] + mods[i].img.len,
				.string = str_at[i],
			};
		}
	}
	mbi->mods_count = nr_mods;
	mbi->mods_addr = info + BOOT_MODLIST_ADDR - BOOT_INFO_ADDR;

	n = e820_build(gm, e820, E820_MAX_ENTRIES);
	mm = guest_mem_ptr(gm, info + BOOT_MEMMAP_ADDR - BOOT_INFO_ADDR, n * sizeof(*mm));
	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct mb_mmap){
			.size = sizeof(*mm) - 4, .addr = e820[i].addr, .len = e820[i].size,
			.type = e820[i].type,
		};
	mbi->mmap_addr = info + BOOT_MEMMAP_ADDR - BOOT_INFO_ADDR;
	mbi->mmap_length = n * sizeof(*mm);
	mbi->boot_loader_name = name_at;

	res->kind = BOOT_MULTIBOOT;
	res->is_linux = false;
	res->entry = k.entry;
	res->boot_info = info;
	res->kernel_end = k.end;
	ret = 0;
out:
	elf_layout_free(&k.elf);
	return ret;
}
