// SPDX-License-Identifier: GPL-2.0-only
/*
 * PVH boot: load an ELF kernel's segments (ELF64 x86-64 or ELF32 i386) at
 * their physical addresses and enter its XEN_ELFNOTE_PHYS32_ENTRY in 32-bit
 * protected mode with %ebx pointing at a struct hvm_start_info (Xen's public
 * start_info.h layout, version 1: command line, modules, memory map). The
 * entry state is the same for both classes (Xen's docs/misc/pvh.pandoc).
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "qlite/util.h"

#define HVM_START_MAGIC			0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(BOOT_MAX_MODULES * sizeof(struct hvm_modlist_entry) <= BOOT_MODLIST_SIZE,
	       "PVH module list area");

/* ELF64 x86-64 and ELF32 i386, the two kinds QEMU boots through PVH. */
static bool pvh_machine(const struct elf_hdr *h)
{
	return (h->class == ELFCLASS64 && h->machine == EM_X86_64) ||
	       (h->class == ELFCLASS32 && h->machine == EM_386);
}

/*
 * Modules from the top of the first RAM slot down, in order, each page
 * aligned and above the kernel (the initrd alone goes where it always did).
 */
static int place_modules(const struct guest_mem *gm, uint64_t kernel_end,
			 const struct boot_module *mods, unsigned nr_mods, uint64_t *at)
{
	uint64_t limit = 0;

	for (unsigned i = 0; i < nr_mods; i++) {
		if (initrd_place(gm, kernel_end, limit, mods[i].img.len, &at[i]) < 0)
			return report(-ENOSPC, "%s: %s of %zu bytes does not fit in guest RAM below %#llx after the kernel",
				      mods[i].img.path, nr_mods > 1 ? "module" : "initrd",
				      mods[i].img.len, (unsigned long long)(limit ? limit + 1 :
									     gm->slots[0].size));
		limit = at[i] - 1;
	}
	return 0;
}

int pvh_load(struct guest_mem *gm, const struct boot_image *img, const struct boot_module *mods,
	     unsigned nr_mods, const char *cmdline, struct boot_result *res)
{
	uint64_t mod_at[BOOT_MAX_MODULES], str_at[BOOT_MAX_MODULES];
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct hvm_memmap_entry *mm;
	struct hvm_start_info *si;
	struct elf_layout l;
	struct elf_hdr h;
	uint64_t kernel_end;
	unsigned n;
	int ret;

	ret = elf_read_header(img, &h, false);
	if (ret == -ENOEXEC || (!ret && !pvh_machine(&h)))
		return report(-ENOEXEC, "%s: not an x86 ELF (class %u, machine %u): PVH takes ELF64 x86-64 or ELF32 i386",
			      img->path, h.class, h.machine);
	if (ret < 0)
		return ret;
	if (nr_mods > BOOT_MAX_MODULES)
		return report(-E2BIG, "%s: %u modules, at most %d", img->path, nr_mods,
			      BOOT_MAX_MODULES);
	ret = elf_check_segments(gm, img, &h, false, &l);
	if (ret < 0)
		return ret;
	if (!l.notes.have_entry) {
		ret = report(-ENOEXEC, "%s: ELF has no PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY note); build the kernel with CONFIG_PVH=y",
			     img->path);
		goto out;
	}
	if (l.notes.entry >= 0x100000000ULL || !guest_mem_ptr(gm, l.notes.entry, 1)) {
		ret = report(-EINVAL, "%s: PVH entry %#llx is outside guest RAM",
			     img->path, (unsigned long long)l.notes.entry);
		goto out;
	}
	if (!elf_in_segment(&l, l.notes.entry)) {
		ret = report(-EINVAL, "%s: PVH entry %#llx is not in a loaded segment",
			     img->path, (unsigned long long)l.notes.entry);
		goto out;
	}
	kernel_end = elf_end(&l);
	ret = place_modules(gm, kernel_end, mods, nr_mods, mod_at);
	if (ret < 0)
		goto out;
	ret = boot_put_strings(gm, mods, nr_mods, false, NULL, str_at, NULL);
	if (ret < 0)
		goto out;

	elf_load_segments(gm, img, &l);

	si = guest_mem_ptr(gm, BOOT_INFO_ADDR, sizeof(*si));
	memset(si, 0, sizeof(*si));
	si->magic = HVM_START_MAGIC;
	si->version = 1;

	if (cmdline) {
		memcpy(guest_mem_ptr(gm, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX), cmdline, strlen(cmdline) + 1);
		si->cmdline_paddr = BOOT_CMDLINE_ADDR;
	}

	if (nr_mods) {
		struct hvm_modlist_entry *mod = guest_mem_ptr(gm, BOOT_MODLIST_ADDR,
							      nr_mods * sizeof(*mod));

		boot_copy_modules(gm, mods, nr_mods, mod_at);
		for (unsigned i = 0; i < nr_mods; i++) {
			mod[i] = (struct hvm_modlist_entry){
				.paddr = mod_at[i], .size = mods[i].img.len,
				.cmdline_paddr = str_at[i],
			};
		}
		si->nr_modules = nr_mods;
		si->modlist_paddr = BOOT_MODLIST_ADDR;
	}

	n = e820_build(gm, e820, E820_MAX_ENTRIES);
	mm = guest_mem_ptr(gm, BOOT_MEMMAP_ADDR, n * sizeof(*mm));
	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_entry){
			.addr = e820[i].addr, .size = e820[i].size, .type = e820[i].type,
		};
	si->memmap_paddr = BOOT_MEMMAP_ADDR;
	si->memmap_entries = n;

	res->kind = BOOT_PVH;
	res->is_linux = l.notes.linux_note;
	res->entry = l.notes.entry;
	res->boot_info = BOOT_INFO_ADDR;
	res->kernel_end = kernel_end;
	ret = 0;
out:
	elf_layout_free(&l);
	return ret;
}

int pvh_set_rsdp(struct guest_mem *gm, uint64_t start_info, uint64_t rsdp)
{
	struct hvm_start_info *si = guest_mem_ptr(gm, start_info, sizeof(*si));

	if (!si || si->magic != HVM_START_MAGIC)
		return -EINVAL;
	si->rsdp_paddr = rsdp;
	return 0;
}

bool elf_is_linux(const struct boot_image *img)
{
	struct elf_notes notes;
	struct elf_hdr h;

	if (elf_read_header(img, &h, true) < 0)
		return false;
	elf_scan_all_notes(img, &h, &notes);
	return notes.linux_note;
}
