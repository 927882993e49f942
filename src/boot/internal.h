/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the loaders of src/boot/ only: ELF32/ELF64 program headers and notes (elf.c). */
#ifndef QLITE_BOOT_INTERNAL_H
#define QLITE_BOOT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "qlite/boot.h"

/* The fields of an ELF header the loaders use, whatever the class. */
struct elf_hdr {
	unsigned class;		/* ELFCLASS32 or ELFCLASS64 */
	unsigned machine;
	uint64_t entry;
	uint64_t phoff;
	unsigned phnum;
};

struct elf_notes {
	bool have_entry;	/* XEN_ELFNOTE_PHYS32_ENTRY */
	uint64_t entry;
	bool linux_note;
	uint64_t budget;	/* note bytes left to read */
};

/* A PT_LOAD segment, checked against the file and guest RAM. */
struct elf_seg {
	uint64_t paddr, vaddr, memsz, offset, filesz;
	unsigned index;		/* in the program headers, for messages */
};

/* The PT_LOAD segments, sorted by address and disjoint, and the notes seen on the way. */
struct elf_layout {
	struct elf_seg *segs;
	unsigned nr_segs;
	struct elf_notes notes;
};

/*
 * 0 for an ELF32 or ELF64 header whose program headers are in the file;
 * -EINVAL when the header or the program headers are cut off or have an
 * entry size that is not the class's (reported unless quiet); -ENOEXEC,
 * never reported, for another class. The caller checks the machine.
 */
int elf_read_header(const struct boot_image *img, struct elf_hdr *h, bool quiet);
/*
 * Check every program header before anything is written to guest RAM: the
 * PT_LOAD segments must be in the file, in RAM above 1 MiB (or, with
 * low_ok, in conventional memory: boot_fits) and disjoint, so that loading
 * writes each byte of RAM at most once. Reports; on success the caller
 * frees l->segs (elf_layout_free).
 */
int elf_check_segments(const struct guest_mem *gm, const struct boot_image *img,
		       const struct elf_hdr *h, bool low_ok, struct elf_layout *l);
/*
 * Is [start, end) RAM a kernel may be loaded into: above 1 MiB, or with
 * low_ok also in conventional memory between the first page (real-mode
 * IVT, qlite's boot GDT) and the EBDA, as QEMU lets multiboot kernels
 * (kvm-unit-tests' realmode test loads at 0x8000).
 */
bool boot_fits(const struct guest_mem *gm, uint64_t start, uint64_t end, bool low_ok);
void elf_layout_free(struct elf_layout *l);
/* Copy the checked segments into RAM and clear their bss. */
void elf_load_segments(struct guest_mem *gm, const struct boot_image *img,
		       const struct elf_layout *l);
/* The notes of every PT_NOTE segment that is in the file. Silent. */
void elf_scan_all_notes(const struct boot_image *img, const struct elf_hdr *h,
			struct elf_notes *notes);
bool elf_in_segment(const struct elf_layout *l, uint64_t addr);
/* The first byte after the last segment. */
uint64_t elf_end(const struct elf_layout *l);

/* Copy the modules to the places checked for them (an empty one copies nothing). */
void boot_copy_modules(struct guest_mem *gm, const struct boot_module *mods, unsigned nr_mods,
		       const uint64_t *at);
/*
 * Write each module's string (its cmdline; when that is NULL, its path if
 * paths, else none: address 0) and then extra (unless NULL) into the
 * strings area, NUL-terminated. -E2BIG, reported, when they do not fit.
 */
int boot_put_strings(struct guest_mem *gm, const struct boot_module *mods, unsigned nr_mods,
		     bool paths, const char *extra, uint64_t *str_at, uint64_t *extra_at);

#endif
