// SPDX-License-Identifier: GPL-2.0-only
/*
 * PVH boot: load an ELF kernel's segments at their physical addresses and
 * enter its XEN_ELFNOTE_PHYS32_ENTRY in 32-bit protected mode with %ebx
 * pointing at a struct hvm_start_info (Xen's public start_info.h layout,
 * version 1: command line, modules, memory map).
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
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
	uint64_t budget;	/* note bytes left to read */
};

/* A PT_LOAD segment, checked against the file and guest RAM. */
struct elf_seg {
	uint64_t paddr, memsz, offset, filesz;
	unsigned index;		/* in the program headers, for messages */
};

static bool in_file(const struct boot_image *img, uint64_t off, uint64_t len)
{
	return off <= img->len && len <= img->len - off;
}

static void notes_init(struct elf_notes *notes, const struct boot_image *img)
{
	*notes = (struct elf_notes){ .budget = img->len };
}

/*
 * Walk one PT_NOTE segment; malformed notes end the walk rather than the boot.
 * Note segments may overlap, so all of them together read at most the file's
 * length: 65,535 headers over the same bytes must not cost 65,535 walks.
 */
static void scan_notes(const struct boot_image *img, uint64_t off, uint64_t len,
		       struct elf_notes *notes)
{
	uint64_t end = off + len;

	if (len > notes->budget)
		return;
	notes->budget -= len;
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

static int seg_cmp(const void *a, const void *b)
{
	const struct elf_seg *x = a, *y = b;

	if (x->paddr != y->paddr)
		return x->paddr < y->paddr ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Check every program header before anything is written to guest RAM:
 * the PT_LOAD segments (sorted by address in *segs) must be in the file,
 * in RAM above 1 MiB and disjoint, so that loading writes each byte of
 * RAM at most once however many headers there are.
 */
static int check_segments(const struct guest_mem *gm, const struct boot_image *img,
			  const Elf64_Ehdr *eh, struct elf_notes *notes,
			  struct elf_seg **segs, unsigned *nr_segs)
{
	struct elf_seg *s;
	unsigned n = 0;
	int ret;

	s = malloc((eh->e_phnum ? eh->e_phnum : 1) * sizeof(*s));
	if (!s)
		return report_errno(-ENOMEM, "%s", img->path);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img->data + eh->e_phoff + (uint64_t)i * eh->e_phentsize, sizeof(ph));
		if (ph.p_type == PT_NOTE) {
			if (!in_file(img, ph.p_offset, ph.p_filesz)) {
				ret = report(-EINVAL, "%s: truncated ELF (note segment %u past end of file)",
					     img->path, i);
				goto err;
			}
			scan_notes(img, ph.p_offset, ph.p_filesz, notes);
			continue;
		}
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_filesz > ph.p_memsz || !in_file(img, ph.p_offset, ph.p_filesz)) {
			ret = report(-EINVAL, "%s: truncated or corrupt ELF (segment %u: %#llx bytes at offset %#llx, file is %zu bytes)",
				     img->path, i, (unsigned long long)ph.p_filesz,
				     (unsigned long long)ph.p_offset, img->len);
			goto err;
		}
		if (!guest_mem_ptr(gm, ph.p_paddr, ph.p_memsz) || ph.p_paddr < HIGH_MEM_START) {
			ret = report(-ENOSPC, "%s: segment %u at %#llx..%#llx does not fit in guest RAM above 1 MiB",
				     img->path, i, (unsigned long long)ph.p_paddr,
				     (unsigned long long)(ph.p_paddr + ph.p_memsz));
			goto err;
		}
		s[n++] = (struct elf_seg){
			.paddr = ph.p_paddr, .memsz = ph.p_memsz,
			.offset = ph.p_offset, .filesz = ph.p_filesz, .index = i,
		};
	}
	if (!n) {
		ret = report(-ENOEXEC, "%s: ELF has no loadable segment", img->path);
		goto err;
	}
	qsort(s, n, sizeof(*s), seg_cmp);
	for (unsigned i = 1; i < n; i++) {
		/* Sorted by start: disjoint iff each starts at or after the previous end. */
		if (s[i].paddr < s[i - 1].paddr + s[i - 1].memsz) {
			unsigned a = s[i - 1].index, b = s[i].index;

			ret = report(-EINVAL, "%s: corrupt ELF: segments %u and %u overlap at %#llx",
				     img->path, a < b ? a : b, a < b ? b : a,
				     (unsigned long long)s[i].paddr);
			goto err;
		}
	}
	*segs = s;
	*nr_segs = n;
	return 0;

err:
	free(s);
	return ret;
}

static bool in_segment(const struct elf_seg *s, unsigned n, uint64_t addr)
{
	for (unsigned i = 0; i < n; i++)
		if (addr >= s[i].paddr && addr - s[i].paddr < s[i].memsz)
			return true;
	return false;
}

int pvh_load(struct guest_mem *gm, const struct boot_image *img, const struct boot_image *initrd,
	     const char *cmdline, struct boot_result *res)
{
	struct hvm_memmap_entry *mm;
	struct hvm_start_info *si;
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct elf_notes notes;
	struct elf_seg *segs = NULL;
	Elf64_Ehdr eh;
	uint64_t kernel_end, initrd_at = 0;
	unsigned n, nr_segs = 0;
	int ret;

	if (img->len < sizeof(eh))
		return report(-EINVAL, "%s: truncated ELF header", img->path);
	memcpy(&eh, img->data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
		return report(-ENOEXEC, "%s: not an x86-64 ELF (class %u, machine %u)",
			      img->path, eh.e_ident[EI_CLASS], eh.e_machine);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_file(img, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		return report(-EINVAL, "%s: truncated or corrupt ELF program headers", img->path);
	notes_init(&notes, img);
	ret = check_segments(gm, img, &eh, &notes, &segs, &nr_segs);
	if (ret < 0)
		return ret;
	if (!notes.have_entry) {
		ret = report(-ENOEXEC, "%s: ELF has no PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY note); build the kernel with CONFIG_PVH=y",
			     img->path);
		goto out;
	}
	if (notes.entry >= 0x100000000ULL || !guest_mem_ptr(gm, notes.entry, 1)) {
		ret = report(-EINVAL, "%s: PVH entry %#llx is outside guest RAM",
			     img->path, (unsigned long long)notes.entry);
		goto out;
	}
	if (!in_segment(segs, nr_segs, notes.entry)) {
		ret = report(-EINVAL, "%s: PVH entry %#llx is not in a loaded segment",
			     img->path, (unsigned long long)notes.entry);
		goto out;
	}
	/* Sorted and disjoint: the last segment ends the kernel. */
	kernel_end = segs[nr_segs - 1].paddr + segs[nr_segs - 1].memsz;

	/* An empty initrd is no initrd (and nothing to copy from a NULL buffer). */
	if (initrd && !initrd->len)
		initrd = NULL;
	if (initrd && initrd_place(gm, kernel_end, 0, initrd->len, &initrd_at) < 0) {
		ret = report(-ENOSPC, "%s: initrd of %zu bytes does not fit in guest RAM below %#llx after the kernel",
			     initrd->path, initrd->len, (unsigned long long)gm->slots[0].size);
		goto out;
	}

	for (unsigned i = 0; i < nr_segs; i++) {
		uint8_t *dst = guest_mem_ptr(gm, segs[i].paddr, segs[i].memsz);

		memcpy(dst, img->data + segs[i].offset, segs[i].filesz);
		memset(dst + segs[i].filesz, 0, segs[i].memsz - segs[i].filesz);
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

		memcpy(guest_mem_ptr(gm, initrd_at, initrd->len), initrd->data, initrd->len);
		*mod = (struct hvm_modlist_entry){ .paddr = initrd_at, .size = initrd->len };
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
	ret = 0;
out:
	free(segs);
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
	Elf64_Ehdr eh;

	if (img->len < sizeof(eh))
		return false;
	notes_init(&notes, img);
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
