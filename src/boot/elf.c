// SPDX-License-Identifier: GPL-2.0-only
/*
 * ELF images for the loaders that take them (PVH, multiboot): the header of
 * either class, the PT_LOAD segments checked against the file and guest RAM
 * before any byte is copied, and the notes (the PVH entry, "Linux").
 */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "qlite/util.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18

static bool in_file(const struct boot_image *img, uint64_t off, uint64_t len)
{
	return off <= img->len && len <= img->len - off;
}

static unsigned phdr_size(unsigned class)
{
	return class == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
}

/* Where the fields read here sit in each class's header (<elf.h>'s Elf32_Ehdr, Elf64_Ehdr). */
struct ehdr_layout {
	size_t size, addr_len, entry, phoff, phentsize, phnum;
};

static const struct ehdr_layout ehdr32 = {
	sizeof(Elf32_Ehdr), 4, offsetof(Elf32_Ehdr, e_entry), offsetof(Elf32_Ehdr, e_phoff),
	offsetof(Elf32_Ehdr, e_phentsize), offsetof(Elf32_Ehdr, e_phnum),
};
static const struct ehdr_layout ehdr64 = {
	sizeof(Elf64_Ehdr), 8, offsetof(Elf64_Ehdr, e_entry), offsetof(Elf64_Ehdr, e_phoff),
	offsetof(Elf64_Ehdr, e_phentsize), offsetof(Elf64_Ehdr, e_phnum),
};

int elf_read_header(const struct boot_image *img, struct elf_hdr *h, bool quiet)
{
	const struct ehdr_layout *l;
	const uint8_t *d = img->data;
	unsigned phentsize;

	*h = (struct elf_hdr){ 0 };
	if (img->len < EI_NIDENT)
		goto short_header;
	h->class = d[EI_CLASS];
	if (h->class != ELFCLASS32 && h->class != ELFCLASS64) {
		/* e_machine is at the same offset in both classes. */
		h->machine = img->len >= 20 ? le_load(d + 18, 2) : 0;
		return -ENOEXEC;
	}
	l = h->class == ELFCLASS64 ? &ehdr64 : &ehdr32;
	if (img->len < l->size)
		goto short_header;
	h->machine = le_load(d + offsetof(Elf64_Ehdr, e_machine), 2);
	h->entry = le_load(d + l->entry, l->addr_len);
	h->phoff = le_load(d + l->phoff, l->addr_len);
	h->phnum = le_load(d + l->phnum, 2);
	phentsize = le_load(d + l->phentsize, 2);
	if (phentsize != phdr_size(h->class) ||
	    !in_file(img, h->phoff, (uint64_t)h->phnum * phentsize))
		return quiet ? -EINVAL :
		       report(-EINVAL, "%s: truncated or corrupt ELF program headers", img->path);
	return 0;

short_header:
	return quiet ? -EINVAL : report(-EINVAL, "%s: truncated ELF header", img->path);
}

/* Program header i as an Elf64_Phdr, whatever the class; in the file (elf_read_header). */
static void read_phdr(const struct boot_image *img, const struct elf_hdr *h, unsigned i,
		      Elf64_Phdr *ph)
{
	const uint8_t *p = img->data + h->phoff + (uint64_t)i * phdr_size(h->class);
	Elf32_Phdr ph32;

	if (h->class == ELFCLASS64) {
		memcpy(ph, p, sizeof(*ph));
		return;
	}
	memcpy(&ph32, p, sizeof(ph32));
	*ph = (Elf64_Phdr){
		.p_type = ph32.p_type, .p_flags = ph32.p_flags, .p_offset = ph32.p_offset,
		.p_vaddr = ph32.p_vaddr, .p_paddr = ph32.p_paddr, .p_filesz = ph32.p_filesz,
		.p_memsz = ph32.p_memsz, .p_align = ph32.p_align,
	};
}

/*
 * Walk one PT_NOTE segment; malformed notes end the walk rather than the boot.
 * Note segments may overlap, so all of them together read at most the file's
 * length: 65,535 headers over the same bytes must not cost 65,535 walks.
 * Elf32_Nhdr and Elf64_Nhdr are the same three words.
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

void elf_scan_all_notes(const struct boot_image *img, const struct elf_hdr *h,
			struct elf_notes *notes)
{
	*notes = (struct elf_notes){ .budget = img->len };
	for (unsigned i = 0; i < h->phnum; i++) {
		Elf64_Phdr ph;

		read_phdr(img, h, i, &ph);
		if (ph.p_type == PT_NOTE && in_file(img, ph.p_offset, ph.p_filesz))
			scan_notes(img, ph.p_offset, ph.p_filesz, notes);
	}
}

static int seg_cmp(const void *a, const void *b)
{
	const struct elf_seg *x = a, *y = b;

	if (x->paddr != y->paddr)
		return x->paddr < y->paddr ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

bool boot_fits(const struct guest_mem *gm, uint64_t start, uint64_t end, bool low_ok)
{
	if (end <= start || !guest_mem_ptr(gm, start, end - start))
		return false;
	return start >= HIGH_MEM_START || (low_ok && start >= BOOT_LOW_KERNEL_MIN &&
					   end <= EBDA_START);
}

int elf_check_segments(const struct guest_mem *gm, const struct boot_image *img,
		       const struct elf_hdr *h, bool low_ok, struct elf_layout *l)
{
	struct elf_seg *s;
	unsigned n = 0;
	int ret;

	*l = (struct elf_layout){ .notes.budget = img->len };
	s = malloc((h->phnum ? h->phnum : 1) * sizeof(*s));
	if (!s)
		return report_errno(-ENOMEM, "%s", img->path);
	for (unsigned i = 0; i < h->phnum; i++) {
		Elf64_Phdr ph;

		read_phdr(img, h, i, &ph);
		if (ph.p_type == PT_NOTE) {
			if (!in_file(img, ph.p_offset, ph.p_filesz)) {
				ret = report(-EINVAL, "%s: truncated ELF (note segment %u past end of file)",
					     img->path, i);
				goto err;
			}
			scan_notes(img, ph.p_offset, ph.p_filesz, &l->notes);
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
		if (ph.p_paddr + ph.p_memsz < ph.p_paddr ||
		    !boot_fits(gm, ph.p_paddr, ph.p_paddr + ph.p_memsz, low_ok)) {
			ret = report(-ENOSPC, "%s: segment %u at %#llx..%#llx does not fit in guest RAM %s",
				     img->path, i, (unsigned long long)ph.p_paddr,
				     (unsigned long long)(ph.p_paddr + ph.p_memsz),
				     low_ok ? "(0x1000..0x9fc00 or above 1 MiB)" : "above 1 MiB");
			goto err;
		}
		s[n++] = (struct elf_seg){
			.paddr = ph.p_paddr, .vaddr = ph.p_vaddr, .memsz = ph.p_memsz,
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
	l->segs = s;
	l->nr_segs = n;
	return 0;

err:
	free(s);
	return ret;
}

void elf_layout_free(struct elf_layout *l)
{
	free(l->segs);
	l->segs = NULL;
	l->nr_segs = 0;
}

void elf_load_segments(struct guest_mem *gm, const struct boot_image *img,
		       const struct elf_layout *l)
{
	for (unsigned i = 0; i < l->nr_segs; i++) {
		const struct elf_seg *s = &l->segs[i];
		uint8_t *dst = guest_mem_ptr(gm, s->paddr, s->memsz);

		memcpy(dst, img->data + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
}

bool elf_in_segment(const struct elf_layout *l, uint64_t addr)
{
	for (unsigned i = 0; i < l->nr_segs; i++)
		if (addr >= l->segs[i].paddr && addr - l->segs[i].paddr < l->segs[i].memsz)
			return true;
	return false;
}

uint64_t elf_end(const struct elf_layout *l)
{
	/* Sorted and disjoint: the last segment ends the kernel. */
	return l->segs[l->nr_segs - 1].paddr + l->segs[l->nr_segs - 1].memsz;
}
