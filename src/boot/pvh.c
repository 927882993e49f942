// SPDX-License-Identifier: GPL-2.0-only
/*
 * PVH boot: load an ELF kernel's segments at their physical addresses and
 * enter its XEN_ELFNOTE_PHYS32_ENTRY in 32-bit protected mode with %ebx
 * pointing at a struct hvm_start_info (Xen's public start_info.h layout,
 * version 1: command line, modules, memory map).
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/util.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
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

struct elf_notes {
	bool have_entry;
	uint64_t entry;
	bool linux_note;
};

static bool in_file(const struct boot_image *img, uint64_t off, uint64_t len)
{
	return off <= img->len && len <= img->len - off;
}

/* Walk one PT_NOTE segment; malformed notes end the walk rather than the boot. */
static void scan_notes(const struct boot_image *img, uint64_t off, uint64_t len,
		       struct elf_notes *notes)
{
	uint64_t end = off + len;

	while (off + sizeof(Elf64_Nhdr) <= end) {
		Elf64_Nhdr nh;
		uint64_t name_off, desc_off, next;

		memcpy(&nh, img->data + off, sizeof(nh));
		name_off = off + sizeof(nh);
		desc_off = name_off + ALIGN_UP((uint64_t)nh.n_namesz, 4);
		next = desc_off + ALIGN_UP((uint64_t)nh.n_descsz, 4);
		if (next > end || next <= off)
			return;
		if (nh.n_namesz == 4 && !memcmp(img->data + name_off, "Xen", 4) &&
		    nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY &&
		    (nh.n_descsz == 4 || nh.n_descsz == 8)) {
			notes->entry = le_load(img->data + desc_off, nh.n_descsz);
			notes->have_entry = true;
		}
		if (nh.n_namesz == 6 && !memcmp(img->data + name_off, "Linux", 6))
			notes->linux_note = true;
		off = next;
	}
}

static int load_segments(struct guest_mem *gm, const struct boot_image *img,
			 const Elf64_Ehdr *eh, struct elf_notes *notes,
			 uint64_t *kernel_end, char *err, size_t errlen)
{
	unsigned loaded = 0;

	*kernel_end = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		memcpy(&ph, img->data + eh->e_phoff + (uint64_t)i * eh->e_phentsize, sizeof(ph));
		if (ph.p_type == PT_NOTE) {
			if (!in_file(img, ph.p_offset, ph.p_filesz)) {
				snprintf(err, errlen, "%s: truncated ELF (note segment %u past end of file)",
					 img->path, i);
				return -1;
			}
			scan_notes(img, ph.p_offset, ph.p_filesz, notes);
			continue;
		}
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_filesz > ph.p_memsz || !in_file(img, ph.p_offset, ph.p_filesz)) {
			snprintf(err, errlen, "%s: truncated or corrupt ELF (segment %u: %#llx bytes at offset %#llx, file is %zu bytes)",
				 img->path, i, (unsigned long long)ph.p_filesz,
				 (unsigned long long)ph.p_offset, img->len);
			return -1;
		}
		dst = guest_mem_ptr(gm, ph.p_paddr, ph.p_memsz);
		if (!dst || ph.p_paddr < HIGH_MEM_START) {
			snprintf(err, errlen, "%s: segment %u at %#llx..%#llx does not fit in guest RAM above 1 MiB",
				 img->path, i, (unsigned long long)ph.p_paddr,
				 (unsigned long long)(ph.p_paddr + ph.p_memsz));
			return -1;
		}
		memcpy(dst, img->data + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > *kernel_end)
			*kernel_end = ph.p_paddr + ph.p_memsz;
		loaded++;
	}
	if (!loaded) {
		snprintf(err, errlen, "%s: ELF has no loadable segment", img->path);
		return -1;
	}
	return 0;
}

int pvh_load(struct guest_mem *gm, const struct boot_image *img, const struct boot_image *initrd,
	     const char *cmdline, struct boot_result *res, char *err, size_t errlen)
{
	struct hvm_memmap_entry *mm;
	struct hvm_start_info *si;
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct elf_notes notes = { 0 };
	Elf64_Ehdr eh;
	uint64_t kernel_end;
	unsigned n;

	if (img->len < sizeof(eh)) {
		snprintf(err, errlen, "%s: truncated ELF header", img->path);
		return -1;
	}
	memcpy(&eh, img->data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		snprintf(err, errlen, "%s: not an x86-64 ELF (class %u, machine %u)",
			 img->path, eh.e_ident[EI_CLASS], eh.e_machine);
		return -1;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_file(img, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr))) {
		snprintf(err, errlen, "%s: truncated or corrupt ELF program headers", img->path);
		return -1;
	}
	if (load_segments(gm, img, &eh, &notes, &kernel_end, err, errlen) < 0)
		return -1;
	if (!notes.have_entry) {
		snprintf(err, errlen, "%s: ELF has no PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY note); build the kernel with CONFIG_PVH=y",
			 img->path);
		return -1;
	}
	if (notes.entry >= 0x100000000ULL || !guest_mem_ptr(gm, notes.entry, 1)) {
		snprintf(err, errlen, "%s: PVH entry %#llx is outside guest RAM",
			 img->path, (unsigned long long)notes.entry);
		return -1;
	}

	si = guest_mem_ptr(gm, BOOT_INFO_ADDR, sizeof(*si));
	memset(si, 0, sizeof(*si));
	si->magic = HVM_START_MAGIC;
	si->version = 1;

	if (cmdline) {
		memcpy(guest_mem_ptr(gm, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX), cmdline, strlen(cmdline) + 1);
		si->cmdline_paddr = BOOT_CMDLINE_ADDR;
	}

	if (initrd) {
		struct hvm_modlist_entry *mod = guest_mem_ptr(gm, BOOT_MODLIST_ADDR, sizeof(*mod));
		uint64_t at;

		if (initrd_place(gm, kernel_end, 0, initrd->len, &at) < 0) {
			snprintf(err, errlen, "%s: initrd of %zu bytes does not fit in guest RAM below %#llx after the kernel",
				 initrd->path, initrd->len, (unsigned long long)gm->slots[0].size);
			return -1;
		}
		memcpy(guest_mem_ptr(gm, at, initrd->len), initrd->data, initrd->len);
		*mod = (struct hvm_modlist_entry){ .paddr = at, .size = initrd->len };
		si->nr_modules = 1;
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
	res->is_linux = notes.linux_note;
	res->entry = notes.entry;
	res->boot_info = BOOT_INFO_ADDR;
	res->kernel_end = kernel_end;
	return 0;
}

bool elf_is_linux(const struct boot_image *img)
{
	struct elf_notes notes = { 0 };
	Elf64_Ehdr eh;

	if (img->len < sizeof(eh))
		return false;
	memcpy(&eh, img->data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_file(img, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		return false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img->data + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE && in_file(img, ph.p_offset, ph.p_filesz))
			scan_notes(img, ph.p_offset, ph.p_filesz, &notes);
	}
	return notes.linux_note;
}
