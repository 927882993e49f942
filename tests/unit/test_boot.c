// SPDX-License-Identifier: GPL-2.0-only
/* PVH start_info, bzImage zero page and MP table built from synthetic images; hostile images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "qlite/boot.h"
#include "qlite/util.h"

#define RAM (64ULL << 20)

/* What the code under test reported, captured from the report stream. */
static FILE *capture;
static char *captured;
static size_t captured_len;

static void capture_begin(void)
{
	if (capture) {		/* left open by a test that crashed */
		report_set_stream(NULL);
		fclose(capture);
	}
	free(captured);
	captured = NULL;
	capture = open_memstream(&captured, &captured_len);
	assert_non_null(capture);
	report_set_stream(capture);
}

static const char *capture_end(void)
{
	report_set_stream(NULL);
	assert_int_equal(fclose(capture), 0);
	capture = NULL;
	return captured;
}

/* One "qlite: ..." line that contains what. */
static void assert_one_report(const char *text, const char *what)
{
	if (!strstr(text, what))
		print_error("reported: \"%s\", expected \"%s\"\n", text, what);
	assert_non_null(strstr(text, what));
	assert_true(!strncmp(text, "qlite: ", 7));
	assert_non_null(strchr(text, '\n'));
	assert_string_equal(strchr(text, '\n'), "\n");
}

/* The call returns err and reports exactly one line containing what. */
#define assert_reports(call, err, what)			\
	do {						\
		int ret_;				\
							\
		capture_begin();			\
		ret_ = (call);				\
		assert_one_report(capture_end(), what);	\
		assert_int_equal(ret_, err);		\
	} while (0)

/* The call succeeds and reports nothing. */
#define assert_silent_ok(call)				\
	do {						\
		int ret_;				\
							\
		capture_begin();			\
		ret_ = (call);				\
		assert_string_equal(capture_end(), "");	\
		assert_int_equal(ret_, 0);		\
	} while (0)

/*
 * A copy of len bytes that ends where an inaccessible page starts, so that
 * reading past the end faults even without AddressSanitizer.
 */
struct guarded {
	uint8_t *map;
	size_t map_len;
	uint8_t *data;
};

static void guarded_copy(struct guarded *g, const void *src, size_t len)
{
	size_t page = sysconf(_SC_PAGESIZE);
	size_t span = ALIGN_UP(len, page);

	g->map_len = span + page;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + span, page, PROT_NONE), 0);
	g->data = g->map + span - len;
	memcpy(g->data, src, len);
}

static void guarded_free(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

struct synth_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint32_t entry;
	uint8_t payload[64];
} __attribute__((packed));

static void make_elf(struct synth_elf *e, bool with_note)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_phoff = offsetof(struct synth_elf, ph);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = 2;
	e->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = offsetof(struct synth_elf, payload),
				 .p_paddr = 0x100000, .p_filesz = 64, .p_memsz = 4096 };
	e->ph[1] = (Elf64_Phdr){ .p_type = with_note ? PT_NOTE : PT_NULL,
				 .p_offset = offsetof(struct synth_elf, nh),
				 .p_filesz = sizeof(e->nh) + 4 + 4 };
	e->nh = (Elf64_Nhdr){ .n_namesz = 4, .n_descsz = 4, .n_type = 18 };
	memcpy(e->name, "Xen", 4);
	e->entry = 0x100010;
	memset(e->payload, 0x90, sizeof(e->payload));
}

static void test_pvh_start_info(void **state)
{
	struct guest_mem gm;
	struct synth_elf e;
	uint8_t initrd_data[5000];
	struct boot_image k = { (uint8_t *)&e, sizeof(e), "synth.elf" };
	struct boot_image i = { initrd_data, sizeof(initrd_data), "initrd" };
	struct boot_result res;
	uint32_t *si;
	uint64_t *mod, *mm;

	make_elf(&e, true);
	memset(initrd_data, 0x5a, sizeof(initrd_data));
	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_silent_ok(boot_load(&gm, &k, &i, "console=ttyS0 hello", &res));
	assert_int_equal(res.kind, BOOT_PVH);
	assert_int_equal(res.entry, 0x100010);
	assert_int_equal(res.boot_info, BOOT_INFO_ADDR);
	assert_false(res.is_linux);
	assert_memory_equal(guest_mem_ptr(&gm, 0x100000, 64), e.payload, 64);
	assert_int_equal(*(uint8_t *)guest_mem_ptr(&gm, 0x100000 + 100, 1), 0);	/* bss zeroed */

	si = guest_mem_ptr(&gm, BOOT_INFO_ADDR, 56);
	assert_int_equal(si[0], 0x336ec578);	/* magic */
	assert_int_equal(si[1], 1);		/* version */
	assert_int_equal(si[3], 1);		/* one module */
	assert_string_equal((char *)guest_mem_ptr(&gm, *(uint64_t *)&si[6], 1), "console=ttyS0 hello");
	mod = guest_mem_ptr(&gm, *(uint64_t *)&si[4], 32);
	assert_int_equal(mod[1], sizeof(initrd_data));
	assert_int_equal(mod[0] & 0xfff, 0);
	assert_true(mod[0] + mod[1] <= RAM);
	assert_memory_equal(guest_mem_ptr(&gm, mod[0], sizeof(initrd_data)), initrd_data, sizeof(initrd_data));
	assert_int_equal(si[12], 3);		/* memmap entries: low RAM, reserved, high RAM */
	mm = guest_mem_ptr(&gm, *(uint64_t *)&si[10], 3 * 24);
	assert_int_equal(mm[6], HIGH_MEM_START);
	assert_int_equal(mm[6] + mm[7], RAM);
	/* The ACPI RSDP's address goes in start_info.rsdp_paddr. */
	assert_int_equal(*(uint64_t *)&si[8], 0);
	assert_int_equal(boot_set_rsdp(&gm, &res, 0xfe000), 0);
	assert_int_equal(*(uint64_t *)&si[8], 0xfe000);
	/* Only over a start_info: its magic is checked. */
	res.boot_info = 0x3000;
	assert_int_equal(boot_set_rsdp(&gm, &res, 0xfe000), -EINVAL);
	guest_mem_destroy(&gm);
}

static void test_pvh_errors(void **state)
{
	struct guest_mem gm;
	struct synth_elf e;
	struct boot_image k = { (uint8_t *)&e, sizeof(e), "synth.elf" };
	struct boot_result res;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	make_elf(&e, false);
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -ENOEXEC,
		       "qlite: synth.elf: ELF has no PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY note); build the kernel with CONFIG_PVH=y\n");

	make_elf(&e, true);
	k.len = offsetof(struct synth_elf, payload) + 10;	/* truncated segment */
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
		       "qlite: synth.elf: truncated or corrupt ELF (segment 0: 0x40 bytes at offset 0xc4, file is 206 bytes)\n");

	make_elf(&e, true);
	k.len = sizeof(e);
	e.ph[0].p_paddr = RAM - 100;				/* past the end of RAM */
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -ENOSPC,
		       "qlite: synth.elf: segment 0 at 0x3ffff9c..0x4000f9c does not fit in guest RAM above 1 MiB\n");

	make_elf(&e, true);
	e.eh.e_phnum = 1000;					/* headers past end of file */
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
		       "qlite: synth.elf: truncated or corrupt ELF program headers\n");

	make_elf(&e, true);
	e.eh.e_machine = EM_AARCH64;
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -ENOEXEC,
		       "qlite: synth.elf: not an x86 ELF (class 2, machine 183): PVH takes ELF64 x86-64 or ELF32 i386\n");

	make_elf(&e, true);
	e.entry = 0xfff00000;					/* beyond RAM */
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
		       "qlite: synth.elf: PVH entry 0xfff00000 is outside guest RAM\n");

	k.len = 30;
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
		       "qlite: synth.elf: truncated ELF header\n");
	k.len = 3;
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -ENOEXEC,
		       "qlite: synth.elf: too short (3 bytes) to be a kernel image\n");
	guest_mem_destroy(&gm);
}

static void test_not_a_kernel(void **state)
{
	struct guest_mem gm;
	static uint8_t junk[4096];
	struct boot_image k = { junk, sizeof(junk), "junk" };
	struct boot_result res;
	char *big = malloc(BOOT_CMDLINE_MAX + 1);

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	memset(junk, 0x41, sizeof(junk));
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -ENOEXEC,
		       "qlite: junk: not a kernel image: no ELF, bzImage or multiboot header\n");
	/* Probing for Linux is silent. */
	capture_begin();
	assert_false(boot_image_is_linux(&k));
	assert_string_equal(capture_end(), "");

	memset(big, 'a', BOOT_CMDLINE_MAX);
	big[BOOT_CMDLINE_MAX] = '\0';
	assert_reports(boot_load(&gm, &k, NULL, big, &res), -E2BIG,
		       "qlite: kernel command line too long (65536 bytes, at most 65535)\n");
	free(big);
	guest_mem_destroy(&gm);
}

static uint8_t *make_bzimage(size_t *len)
{
	size_t setup = (4 + 1) * 512, size = setup + 8192;
	uint8_t *d = calloc(1, size);

	d[0x1f1] = 4;				/* setup_sects */
	le_store(d + 0x1fe, 0xaa55, 2);
	d[0x200] = 0xeb;
	d[0x201] = 0x6a;			/* header ends at 0x26c */
	memcpy(d + 0x202, "HdrS", 4);
	le_store(d + 0x206, 0x020f, 2);
	le_store(d + 0x22c, 0x37ffffff, 4);	/* initrd_addr_max */
	le_store(d + 0x236, 1, 2);		/* XLF_KERNEL_64 */
	le_store(d + 0x238, 2047, 4);		/* cmdline_size */
	memset(d + setup, 0xcc, 8192);
	*len = size;
	return d;
}

static void test_bzimage_zero_page(void **state)
{
	struct guest_mem gm;
	size_t len;
	uint8_t *img = make_bzimage(&len), initrd_data[100] = { 7 };
	struct boot_image k = { img, len, "bzImage" }, i = { initrd_data, sizeof(initrd_data), "initrd" };
	struct boot_result res;
	struct kvm_sregs sregs = { 0 };
	uint8_t *bp;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_silent_ok(boot_load(&gm, &k, &i, "root=/dev/sda", &res));
	assert_int_equal(res.kind, BOOT_LINUX64);
	assert_true(res.is_linux);
	assert_int_equal(res.entry, 0x100200);
	assert_int_equal(*(uint8_t *)guest_mem_ptr(&gm, 0x100000, 1), 0xcc);
	bp = guest_mem_ptr(&gm, BOOT_INFO_ADDR, 4096);
	assert_int_equal(bp[0x210], 0xff);				/* type_of_loader */
	assert_true(bp[0x211] & 0x01);					/* LOADED_HIGH */
	assert_string_equal((char *)guest_mem_ptr(&gm, le_load(bp + 0x228, 4), 1), "root=/dev/sda");
	assert_int_equal(le_load(bp + 0x21c, 4), sizeof(initrd_data));
	assert_memory_equal(guest_mem_ptr(&gm, le_load(bp + 0x218, 4), 100), initrd_data, 100);
	assert_int_equal(bp[0x1e8], 3);					/* e820 entries */
	assert_int_equal(le_load(bp + 0x2d0 + 2 * 20, 8), HIGH_MEM_START);
	/* The ACPI RSDP's address goes in boot_params.acpi_rsdp_addr. */
	assert_int_equal(le_load(bp + 0x70, 8), 0);
	assert_int_equal(boot_set_rsdp(&gm, &res, 0xfe000), 0);
	assert_int_equal(le_load(bp + 0x70, 8), 0xfe000);

	assert_silent_ok(boot_sregs(&gm, &res, &sregs));
	assert_true(sregs.efer & 0x500);				/* LME | LMA */
	assert_int_equal(sregs.cs.l, 1);
	assert_int_equal(*(uint64_t *)guest_mem_ptr(&gm, BOOT_PD_ADDR + 8, 8), (1ULL << 21) | 0x83);

	/* A command line over the kernel's cmdline_size is refused. */
	{
		char big[3000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		assert_reports(boot_load(&gm, &k, NULL, big, &res), -E2BIG,
			       "qlite: bzImage: command line of 2999 bytes exceeds the kernel's limit of 2047\n");
	}
	/* The initrd does not fit below initrd_addr_max. */
	le_store(img + 0x22c, 0x100fff, 4);
	assert_reports(boot_load(&gm, &k, &i, "", &res), -ENOSPC,
		       "qlite: initrd: initrd of 100 bytes does not fit below the kernel's initrd_addr_max\n");
	le_store(img + 0x22c, 0x37ffffff, 4);
	/* Too old, not 64-bit capable, truncated. */
	le_store(img + 0x206, 0x020b, 2);
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -ENOEXEC,
		       "qlite: bzImage: boot protocol 2.11 is too old for 64-bit entry (need 2.12)\n");
	le_store(img + 0x206, 0x020f, 2);
	le_store(img + 0x236, 0, 2);
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -ENOEXEC,
		       "qlite: bzImage: bzImage has no 64-bit entry point (XLF_KERNEL_64)\n");
	le_store(img + 0x236, 1, 2);
	k.len = 5 * 512;
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
		       "qlite: bzImage: truncated bzImage (2560 bytes, setup alone is 2560)\n");
	k.len = 5 * 512 + 0x200;				/* the 64-bit entry would be past the end */
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
		       "qlite: bzImage: truncated bzImage (512 bytes of kernel, its 64-bit entry is at +0x200)\n");
	k.len = 5 * 512 + 0x201;
	assert_silent_ok(boot_load(&gm, &k, NULL, "", &res));
	assert_int_equal(res.entry, 0x100200);
	k.len = 0x250;
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
		       "qlite: bzImage: truncated bzImage setup header\n");
	k.len = len;
	img[0x201] = 0x10;					/* header says it ends before its fields */
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
		       "qlite: bzImage: truncated bzImage setup header\n");
	free(img);
	guest_mem_destroy(&gm);
}

/*
 * A file that ends inside the setup header, right after the "HdrS" magic
 * or one byte later: no header field past the end may be read.
 */
static void test_bzimage_header_past_end(void **state)
{
	struct guest_mem gm;
	size_t len;
	uint8_t *img = make_bzimage(&len);
	struct boot_result res;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	for (size_t n = 0x206; n <= 0x207; n++) {
		struct guarded g;
		struct boot_image k;

		guarded_copy(&g, img, n);
		k = (struct boot_image){ g.data, n, "short-bzImage" };
		assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
			       "qlite: short-bzImage: truncated bzImage setup header\n");
		capture_begin();
		assert_true(boot_image_is_linux(&k));
		assert_string_equal(capture_end(), "");
		guarded_free(&g);
	}
	free(img);
	guest_mem_destroy(&gm);
}

/* An empty initrd is no initrd: nothing is copied, the guest is told of none. */
static void test_empty_initrd(void **state)
{
	struct guest_mem gm;
	struct synth_elf e;
	size_t len;
	uint8_t *img = make_bzimage(&len), *bp;
	struct boot_image elf = { (uint8_t *)&e, sizeof(e), "synth.elf" };
	struct boot_image bz = { img, len, "bzImage" };
	struct boot_image empty = { NULL, 0, "empty-initrd" };
	struct boot_result res;
	uint32_t *si;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	make_elf(&e, true);
	assert_silent_ok(boot_load(&gm, &elf, &empty, "", &res));
	si = guest_mem_ptr(&gm, BOOT_INFO_ADDR, 56);
	assert_int_equal(si[3], 0);				/* nr_modules */
	assert_int_equal(*(uint64_t *)&si[4], 0);		/* modlist_paddr */

	assert_silent_ok(boot_load(&gm, &bz, &empty, "", &res));
	bp = guest_mem_ptr(&gm, BOOT_INFO_ADDR, 4096);
	assert_int_equal(le_load(bp + 0x218, 4), 0);		/* ramdisk_image */
	assert_int_equal(le_load(bp + 0x21c, 4), 0);		/* ramdisk_size */
	free(img);
	guest_mem_destroy(&gm);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * 65,535 PT_LOAD headers of 62 MiB each, all at 1 MiB: each fits in RAM
 * alone, together they would clear 4 TiB. Refused, and quickly.
 */
static void test_pvh_overlapping_segments(void **state)
{
	const unsigned nr = 65535;
	size_t len = sizeof(Elf64_Ehdr) + nr * sizeof(Elf64_Phdr);
	uint8_t *img = calloc(1, len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	struct boot_image k = { img, len, "many.elf" };
	struct guest_mem gm;
	struct boot_result res;
	double t;

	assert_non_null(img);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = nr;
	for (unsigned i = 0; i < nr; i++)
		ph[i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_paddr = 0x100000, .p_memsz = 62 * MiB };

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	t = now();
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
		       "qlite: many.elf: corrupt ELF: segments 0 and 1 overlap at 0x100000\n");
	assert_true(now() - t < 2.0);

	/* Disjoint segments load, however many there are. */
	for (unsigned i = 0; i < nr; i++)
		ph[i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_paddr = 0x100000 + (uint64_t)i * 512,
				      .p_memsz = 512 };
	t = now();
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -ENOEXEC, "has no PVH entry point");
	assert_true(now() - t < 2.0);
	free(img);
	guest_mem_destroy(&gm);
}

/*
 * 65,535 PT_NOTE headers over the same 4 MiB of zeros, which walk as 12-byte
 * empty notes: the notes are not read over and over.
 */
static void test_pvh_overlapping_notes(void **state)
{
	const unsigned nr = 65535;
	size_t zeros = 4 * MiB, hdrs = sizeof(Elf64_Ehdr) + nr * sizeof(Elf64_Phdr);
	uint8_t *img = calloc(1, hdrs + zeros);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	struct boot_image k = { img, hdrs + zeros, "notes.elf" };
	double t;

	assert_non_null(img);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = nr;
	for (unsigned i = 0; i < nr; i++)
		ph[i] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = hdrs, .p_filesz = zeros };
	t = now();
	assert_false(elf_is_linux(&k));
	assert_true(now() - t < 2.0);
	free(img);
}

/* The PVH entry must be in a loaded segment, not merely in RAM. */
static void test_pvh_entry_outside_segments(void **state)
{
	struct guest_mem gm;
	struct synth_elf e;
	struct boot_image k = { (uint8_t *)&e, sizeof(e), "synth.elf" };
	struct boot_result res;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	make_elf(&e, true);
	e.entry = 0x200000;
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL,
		       "qlite: synth.elf: PVH entry 0x200000 is not in a loaded segment\n");
	e.entry = 0x100000 + 4096;				/* one past the segment's end */
	assert_reports(boot_load(&gm, &k, NULL, "", &res), -EINVAL, "is not in a loaded segment");
	e.entry = 0x100000 + 4095;				/* its last byte (bss) */
	assert_silent_ok(boot_load(&gm, &k, NULL, "", &res));
	guest_mem_destroy(&gm);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void test_mptable(void **state)
{
	struct guest_mem gm;
	uint8_t *mpf, *mpc;
	unsigned cpus = 0, entries;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_silent_ok(mptable_write(&gm, 4, NULL));
	mpf = guest_mem_ptr(&gm, BIOS_START, 16);
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(sum(mpf, 16), 0);
	mpc = guest_mem_ptr(&gm, le_load(mpf + 4, 4), 44);
	assert_memory_equal(mpc, "PCMP", 4);
	assert_int_equal(sum(mpc, le_load(mpc + 4, 2)), 0);
	entries = le_load(mpc + 34, 2);
	/* 4 CPUs, 2 buses, 1 IOAPIC, 16 ISA IRQs, 2 local interrupts */
	assert_int_equal(entries, 4 + 2 + 1 + 16 + 2);
	for (uint8_t *p = mpc + 44; p[0] == 0; p += 20) {
		assert_int_equal(p[1], cpus);			/* APIC id = vCPU index */
		assert_int_equal(!!(p[3] & 2), cpus == 0);	/* only the first is the BSP */
		cpus++;
	}
	assert_int_equal(cpus, 4);
	assert_reports(mptable_write(&gm, 300, NULL), -EINVAL, "qlite: MP table: too many CPUs\n");
	guest_mem_destroy(&gm);

	assert_int_equal(guest_mem_init(&gm, 512 * KiB, false), 0);
	assert_reports(mptable_write(&gm, 1, NULL), -ENOSPC, "qlite: MP table: BIOS area not in RAM\n");
	guest_mem_destroy(&gm);
}

static void test_sregs_small_ram(void **state)
{
	struct guest_mem gm;
	struct boot_result res = { .kind = BOOT_LINUX64 };
	struct kvm_sregs sregs = { 0 };

	assert_int_equal(guest_mem_init(&gm, 0x9000, false), 0);	/* GDT fits, page tables do not */
	assert_reports(boot_sregs(&gm, &res, &sregs), -ENOSPC,
		       "qlite: guest RAM too small for the boot structures\n");
	guest_mem_destroy(&gm);
}

static int teardown(void **state)
{
	free(captured);
	captured = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvh_start_info),
		cmocka_unit_test(test_pvh_errors),
		cmocka_unit_test(test_not_a_kernel),
		cmocka_unit_test(test_bzimage_zero_page),
		cmocka_unit_test(test_bzimage_header_past_end),
		cmocka_unit_test(test_empty_initrd),
		cmocka_unit_test(test_pvh_overlapping_segments),
		cmocka_unit_test(test_pvh_overlapping_notes),
		cmocka_unit_test(test_pvh_entry_outside_segments),
		cmocka_unit_test(test_mptable),
		cmocka_unit_test(test_sregs_small_ram),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
