// SPDX-License-Identifier: GPL-2.0-only
/*
 * Multiboot v1 and 32-bit PVH kernels built in memory: the multiboot
 * information (flags, memory sizes, memory map, command line, modules,
 * loader name), the a.out kludge, the entry registers, probing order, and
 * hostile headers refused with their exact line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/util.h"
#include "report_capture.h"

#define RAM		(64ULL << 20)
#define MB_MAGIC	0x1badb002u

/* The call returns err and reports exactly the line what. */
#define assert_reports(call, err, what)					\
	do {								\
		struct report_capture c_;				\
		int ret_;						\
									\
		report_capture_start(&c_);				\
		ret_ = (call);						\
		if (strcmp(report_capture_text(&c_), what))		\
			print_error("reported \"%s\"\n", report_capture_text(&c_)); \
		assert_string_equal(report_capture_text(&c_), what);	\
		report_capture_stop(&c_);				\
		assert_int_equal(ret_, err);				\
	} while (0)

/* The call succeeds and reports nothing. */
#define assert_silent_ok(call)						\
	do {								\
		struct report_capture c_;				\
		int ret_;						\
									\
		report_capture_start(&c_);				\
		ret_ = (call);						\
		assert_string_equal(report_capture_text(&c_), "");	\
		report_capture_stop(&c_);				\
		assert_int_equal(ret_, 0);				\
	} while (0)

/* The multiboot information as the spec lays it out. */
struct mbi {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name;
};

static void put_mb_header(uint8_t *p, uint32_t flags)
{
	le_store(p, MB_MAGIC, 4);
	le_store(p + 4, flags, 4);
	le_store(p + 8, (uint32_t)-(MB_MAGIC + flags), 4);
}

/*
 * An ELF32 kernel: headers, at 128 a multiboot header (optional), at 140 a
 * PVH note (optional), at 160 code. One PT_LOAD of file bytes 128..224 at
 * 1 MiB with 8 KiB of memory; e_entry and the note point at the code.
 */
#define E32_LOAD_OFF	128
#define E32_NOTE_OFF	140
#define E32_CODE_OFF	160
#define E32_LEN		224
#define E32_ENTRY	(0x100000 + E32_CODE_OFF - E32_LOAD_OFF)

static void make_elf32(uint8_t *d, bool mb, bool pvh, unsigned machine)
{
	Elf32_Ehdr eh = {
		.e_type = ET_EXEC, .e_machine = machine, .e_version = EV_CURRENT,
		.e_entry = E32_ENTRY, .e_phoff = sizeof(Elf32_Ehdr), .e_ehsize = sizeof(Elf32_Ehdr),
		.e_phentsize = sizeof(Elf32_Phdr), .e_phnum = 2,
	};
	Elf32_Phdr ph[2] = {
		{ .p_type = PT_LOAD, .p_offset = E32_LOAD_OFF, .p_vaddr = 0x100000,
		  .p_paddr = 0x100000, .p_filesz = E32_LEN - E32_LOAD_OFF, .p_memsz = 0x2000 },
		{ .p_type = pvh ? PT_NOTE : PT_NULL, .p_offset = E32_NOTE_OFF, .p_filesz = 20 },
	};

	memset(d, 0, E32_LEN);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(d, &eh, sizeof(eh));
	memcpy(d + sizeof(eh), ph, sizeof(ph));
	if (mb)
		put_mb_header(d + E32_LOAD_OFF, 0x3);
	if (pvh) {
		le_store(d + E32_NOTE_OFF, 4, 4);		/* namesz */
		le_store(d + E32_NOTE_OFF + 4, 4, 4);		/* descsz */
		le_store(d + E32_NOTE_OFF + 8, 18, 4);		/* XEN_ELFNOTE_PHYS32_ENTRY */
		memcpy(d + E32_NOTE_OFF + 12, "Xen", 4);
		le_store(d + E32_NOTE_OFF + 16, E32_ENTRY, 4);
	}
	memset(d + E32_CODE_OFF, 0x90, E32_LEN - E32_CODE_OFF);
}

/*
 * A flat a.out-kludge image of 0x200 bytes: the header at 0x40 says it sits
 * at 0x200040, so the file loads at 0x200000; bss to 0x203000; entry 0x200080.
 */
#define AOUT_LEN	0x200
#define AOUT_HDR	0x40

static void make_aout(uint8_t *d, uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	for (unsigned i = 0; i < AOUT_LEN; i++)
		d[i] = i * 7 + 1;
	put_mb_header(d + AOUT_HDR, 0x10003);
	le_store(d + AOUT_HDR + 12, 0x200040, 4);	/* header_addr */
	le_store(d + AOUT_HDR + 16, 0x200000, 4);	/* load_addr */
	le_store(d + AOUT_HDR + 20, load_end, 4);
	le_store(d + AOUT_HDR + 24, bss_end, 4);
	le_store(d + AOUT_HDR + 28, entry, 4);
}

static void *gp(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);

	assert_non_null(p);
	return p;
}

static void test_mb_elf_info(void **state)
{
	static uint8_t k[E32_LEN], mod0[5000], mod1[3] = { 1, 2, 3 };
	struct boot_image kernel = { k, sizeof(k), "synth.mb" };
	struct boot_module mods[2] = {
		{ .img = { mod0, sizeof(mod0), "initrd.img" } },
		{ .img = { mod1, sizeof(mod1), "m1" }, .cmdline = "m1 arg=1" },
	};
	struct kvm_sregs sregs = { 0 };
	struct kvm_regs regs;
	struct boot_result res;
	struct guest_mem gm;
	struct mbi *mbi;
	uint32_t *mod;
	uint8_t *mm;

	make_elf32(k, true, false, EM_386);
	memset(mod0, 0x5a, sizeof(mod0));
	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	memset(gp(&gm, 0x100000, 0x2000), 0xff, 0x2000);
	assert_silent_ok(boot_load_mods(&gm, &kernel, mods, 2, "console=ttyS0 a", &res));
	assert_int_equal(res.kind, BOOT_MULTIBOOT);
	assert_false(res.is_linux);
	assert_int_equal(res.entry, E32_ENTRY);
	assert_int_equal(res.boot_info, BOOT_INFO_ADDR);
	assert_int_equal(res.kernel_end, 0x102000);
	assert_memory_equal(gp(&gm, 0x100000, 96), k + E32_LOAD_OFF, 96);
	assert_int_equal(*(uint8_t *)gp(&gm, 0x100000 + 96, 1), 0);	/* bss cleared */
	assert_int_equal(*(uint8_t *)gp(&gm, 0x101fff, 1), 0);

	mbi = gp(&gm, BOOT_INFO_ADDR, sizeof(*mbi));
	/* memory, cmdline, mods, mmap, boot loader name */
	assert_int_equal(mbi->flags, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9));
	assert_int_equal(mbi->mem_lower, 639);
	assert_int_equal(mbi->mem_upper, (RAM - 0x100000) / 1024);
	assert_string_equal(gp(&gm, mbi->cmdline, 1), "synth.mb console=ttyS0 a");
	assert_string_equal(gp(&gm, mbi->boot_loader_name, 1), "qlite");

	/* Modules follow the kernel in order, each page-aligned; strings: cmdline or path. */
	assert_int_equal(mbi->mods_count, 2);
	mod = gp(&gm, mbi->mods_addr, 32);
	assert_int_equal(mod[0], 0x102000);
	assert_int_equal(mod[1], 0x102000 + sizeof(mod0));
	assert_string_equal(gp(&gm, mod[2], 1), "initrd.img");
	assert_int_equal(mod[4], 0x104000);
	assert_int_equal(mod[5], 0x104000 + 3);
	assert_string_equal(gp(&gm, mod[6], 1), "m1 arg=1");
	assert_memory_equal(gp(&gm, mod[0], sizeof(mod0)), mod0, sizeof(mod0));
	assert_memory_equal(gp(&gm, mod[4], 3), mod1, 3);

	/* The map: low RAM, the reserved EBDA/BIOS area, RAM from 1 MiB; size excludes itself. */
	assert_int_equal(mbi->mmap_length, 3 * 24);
	mm = gp(&gm, mbi->mmap_addr, mbi->mmap_length);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(le_load(mm + i * 24, 4), 20);
	assert_int_equal(le_load(mm + 4, 8), 0);
	assert_int_equal(le_load(mm + 12, 8), 0x9fc00);
	assert_int_equal(le_load(mm + 20, 4), E820_RAM);
	assert_int_equal(le_load(mm + 24 + 20, 4), E820_RESERVED);
	assert_int_equal(le_load(mm + 48 + 4, 8), 0x100000);
	assert_int_equal(le_load(mm + 48 + 12, 8), RAM - 0x100000);
	assert_int_equal(le_load(mm + 48 + 20, 4), E820_RAM);

	/* Flat 32-bit protected mode, paging off, EAX the boot loader's magic. */
	boot_regs(&res, &regs);
	assert_int_equal(regs.rax, 0x2badb002);
	assert_int_equal(regs.rbx, BOOT_INFO_ADDR);
	assert_int_equal(regs.rip, E32_ENTRY);
	assert_int_equal(boot_sregs(&gm, &res, &sregs), 0);
	assert_int_equal(sregs.cs.db, 1);
	assert_int_equal(sregs.cs.l, 0);
	assert_int_equal(sregs.cs.base, 0);
	assert_int_equal(sregs.cs.limit, 0xffffffff);
	assert_int_equal(sregs.ds.limit, 0xffffffff);
	assert_int_equal(sregs.cr0 & 0x80000001, 1);
	assert_int_equal(sregs.efer, 0);
	guest_mem_destroy(&gm);
}

static void test_mb_no_cmdline_no_modules(void **state)
{
	static uint8_t k[E32_LEN];
	struct boot_image kernel = { k, sizeof(k), "/boot/k.elf" };
	struct boot_result res;
	struct guest_mem gm;
	struct mbi *mbi;

	make_elf32(k, true, false, EM_386);
	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_silent_ok(boot_load(&gm, &kernel, NULL, NULL, &res));
	mbi = gp(&gm, BOOT_INFO_ADDR, sizeof(*mbi));
	assert_string_equal(gp(&gm, mbi->cmdline, 1), "/boot/k.elf");
	assert_int_equal(mbi->mods_count, 0);
	assert_true(mbi->flags & (1 << 3));
	/* The video mode bit (2) is ignored, as QEMU and GRUB without a framebuffer do. */
	put_mb_header(k + E32_LOAD_OFF, 0x7);
	assert_silent_ok(boot_load(&gm, &kernel, NULL, "", &res));
	assert_string_equal(gp(&gm, mbi->cmdline, 1), "/boot/k.elf");
	guest_mem_destroy(&gm);
}

/*
 * A kernel in conventional memory, as QEMU loads kvm-unit-tests' realmode.flat
 * (0x8000): it covers qlite's info block, which moves after its modules (from 1 MiB);
 * one over the command line, the first page or the EBDA is refused.
 */
static void test_mb_elf_low(void **state)
{
	static uint8_t k[E32_LEN], mod0[100];
	struct boot_image kernel = { k, sizeof(k), "low.mb" };
	struct boot_module mods[1] = { { .img = { mod0, sizeof(mod0), "m0" } } };
	struct boot_result res;
	struct guest_mem gm;
	Elf32_Phdr ph;
	Elf32_Ehdr eh;
	struct mbi *mbi;
	uint32_t *mod;

	(void)state;
	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	make_elf32(k, true, false, EM_386);
	memcpy(&ph, k + sizeof(Elf32_Ehdr), sizeof(ph));
	ph.p_paddr = ph.p_vaddr = 0x8000;
	memcpy(k + sizeof(Elf32_Ehdr), &ph, sizeof(ph));
	memcpy(&eh, k, sizeof(eh));
	eh.e_entry = 0x8000 + E32_CODE_OFF - E32_LOAD_OFF;
	memcpy(k, &eh, sizeof(eh));
	assert_silent_ok(boot_load_mods(&gm, &kernel, mods, 1, "x", &res));
	assert_int_equal(res.entry, 0x8000 + E32_CODE_OFF - E32_LOAD_OFF);
	assert_int_equal(res.kernel_end, 0xa000);
	assert_memory_equal(gp(&gm, 0x8000, 96), k + E32_LOAD_OFF, 96);
	/* The module from 1 MiB, the info block on the page after it. */
	assert_int_equal(res.boot_info, 0x101000);
	mbi = gp(&gm, res.boot_info, sizeof(*mbi));
	assert_int_equal(mbi->mods_count, 1);
	assert_int_equal(mbi->mods_addr, 0x101000 + BOOT_MODLIST_ADDR - BOOT_INFO_ADDR);
	assert_int_equal(mbi->mmap_addr, 0x101000 + BOOT_MEMMAP_ADDR - BOOT_INFO_ADDR);
	mod = gp(&gm, mbi->mods_addr, 16);
	assert_int_equal(mod[0], 0x100000);
	assert_string_equal(gp(&gm, mbi->cmdline, 1), "low.mb x");
	assert_int_equal(mbi->mmap_length, 3 * 24);

	/* Over the command line at 0x20000, in the first page, into the EBDA. */
	ph.p_paddr = ph.p_vaddr = 0x1f000;
	memcpy(k + sizeof(Elf32_Ehdr), &ph, sizeof(ph));
	eh.e_entry = 0x1f000 + E32_CODE_OFF - E32_LOAD_OFF;
	memcpy(k, &eh, sizeof(eh));
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOSPC,
		       "qlite: low.mb: multiboot image at 0x1f000..0x21000 covers qlite's boot command line and strings at 0x20000..0x40000\n");
	ph.p_paddr = ph.p_vaddr = 0;
	memcpy(k + sizeof(Elf32_Ehdr), &ph, sizeof(ph));
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOSPC,
		       "qlite: low.mb: segment 0 at 0..0x2000 does not fit in guest RAM (0x1000..0x9fc00 or above 1 MiB)\n");
	ph.p_paddr = ph.p_vaddr = 0x9f000;
	memcpy(k + sizeof(Elf32_Ehdr), &ph, sizeof(ph));
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOSPC,
		       "qlite: low.mb: segment 0 at 0x9f000..0xa1000 does not fit in guest RAM (0x1000..0x9fc00 or above 1 MiB)\n");
	guest_mem_destroy(&gm);
}

/* ELF segments given by virtual address: GRUB's translation of e_entry through its segment. */
static void test_mb_elf_virtual_entry(void **state)
{
	static uint8_t k[E32_LEN];
	struct boot_image kernel = { k, sizeof(k), "virt.mb" };
	struct boot_result res;
	struct guest_mem gm;
	Elf32_Phdr ph;

	make_elf32(k, true, false, EM_386);
	memcpy(&ph, k + sizeof(Elf32_Ehdr), sizeof(ph));
	ph.p_vaddr = 0xc0100000;
	memcpy(k + sizeof(Elf32_Ehdr), &ph, sizeof(ph));
	le_store(k + offsetof(Elf32_Ehdr, e_entry), 0xc0100000 + E32_CODE_OFF - E32_LOAD_OFF, 4);
	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_silent_ok(boot_load(&gm, &kernel, NULL, NULL, &res));
	assert_int_equal(res.entry, E32_ENTRY);
	le_store(k + offsetof(Elf32_Ehdr, e_entry), 0xd0000000, 4);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: virt.mb: multiboot entry 0xd0000000 is not in a loaded segment\n");
	guest_mem_destroy(&gm);
}

static void test_mb_aout(void **state)
{
	static uint8_t k[AOUT_LEN];
	struct boot_image kernel = { k, sizeof(k), "flat.bin" };
	static uint8_t mod[100];
	struct boot_module m = { .img = { mod, sizeof(mod), "mod" } };
	struct boot_result res;
	struct guest_mem gm;
	uint32_t *mods;
	struct mbi *mbi;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	/* load_end_addr 0: the file to its end; bss to bss_end_addr. */
	make_aout(k, 0, 0x203000, 0x200080);
	memset(gp(&gm, 0x200000, 0x3000), 0xff, 0x3000);
	assert_silent_ok(boot_load_mods(&gm, &kernel, &m, 1, "x", &res));
	assert_int_equal(res.kind, BOOT_MULTIBOOT);
	assert_int_equal(res.entry, 0x200080);
	assert_int_equal(res.kernel_end, 0x203000);
	assert_memory_equal(gp(&gm, 0x200000, AOUT_LEN), k, AOUT_LEN);
	assert_int_equal(*(uint8_t *)gp(&gm, 0x200000 + AOUT_LEN, 1), 0);
	assert_int_equal(*(uint8_t *)gp(&gm, 0x202fff, 1), 0);
	mbi = gp(&gm, BOOT_INFO_ADDR, sizeof(*mbi));
	mods = gp(&gm, mbi->mods_addr, 16);
	assert_int_equal(mods[0], 0x203000);
	assert_string_equal(gp(&gm, mods[2], 1), "mod");

	/* load_end_addr inside the file: that much is copied, the rest is bss; no bss_end. */
	make_aout(k, 0x200100, 0, 0x200080);
	memset(gp(&gm, 0x200000, 0x3000), 0xff, 0x3000);
	assert_silent_ok(boot_load(&gm, &kernel, NULL, NULL, &res));
	assert_int_equal(res.kernel_end, 0x200100);
	assert_memory_equal(gp(&gm, 0x200000, 0x100), k, 0x100);
	assert_int_equal(*(uint8_t *)gp(&gm, 0x200100, 1), 0xff);	/* not the kernel's */
	guest_mem_destroy(&gm);
}

static void test_mb_bad_headers(void **state)
{
	static uint8_t k[AOUT_LEN];
	struct boot_image kernel = { k, sizeof(k), "bad.mb" };
	struct boot_result res;
	struct guest_mem gm;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);

	make_aout(k, 0, 0, 0x200080);
	le_store(k + AOUT_HDR + 8, 0x12345678, 4);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOEXEC,
		       "qlite: bad.mb: multiboot header at 0x40 has a wrong checksum (0x12345678, expected 0xe4514ffb)\n");

	/* Bit 3 is required and unknown: the spec says a boot loader must refuse. */
	make_aout(k, 0, 0, 0x200080);
	put_mb_header(k + AOUT_HDR, 0x10008);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOEXEC,
		       "qlite: bad.mb: multiboot header requires features qlite does not have (flags 0x10008, unknown required bits 0x8)\n");

	/* Without flag 16 the file must be an ELF32. */
	make_aout(k, 0, 0, 0x200080);
	put_mb_header(k + AOUT_HDR, 0x3);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOEXEC,
		       "qlite: bad.mb: multiboot kernel is neither an ELF32 i386 nor an a.out kludge image (header flag 16)\n");

	make_aout(k, 0, 0, 0x200080);
	le_store(k + AOUT_HDR + 16, 0x200080, 4);	/* load_addr above header_addr */
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: bad.mb: corrupt multiboot header: load_addr 0x200080 and header_addr 0x200040 put the image before the file's start\n");

	make_aout(k, 0, 0, 0x200080);
	le_store(k + AOUT_HDR + 12, 0x200100, 4);	/* the file would start 0xc0 before offset 0 */
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: bad.mb: corrupt multiboot header: load_addr 0x200000 and header_addr 0x200100 put the image before the file's start\n");

	make_aout(k, 0x200300, 0, 0x200080);		/* load_end past the file's end */
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: bad.mb: truncated multiboot image (0x300 bytes from offset 0, file is 512 bytes)\n");

	make_aout(k, 0x1ff000, 0, 0x200080);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: bad.mb: corrupt multiboot header: load_end_addr 0x1ff000 is below load_addr 0x200000\n");

	make_aout(k, 0, 0x200100, 0x200080);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: bad.mb: corrupt multiboot header: bss_end_addr 0x200100 is below the end of the loaded image 0x200200\n");

	/* Past the end of RAM (overlapping it), and below 1 MiB into the EBDA. */
	make_aout(k, 0, RAM + 0x1000, 0x200080);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOSPC,
		       "qlite: bad.mb: multiboot image at 0x200000..0x4001000 does not fit in guest RAM (0x1000..0x9fc00 or above 1 MiB)\n");
	make_aout(k, 0, 0, 0x200080);
	le_store(k + AOUT_HDR + 12, 0x9fb40, 4);
	le_store(k + AOUT_HDR + 16, 0x9fb00, 4);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOSPC,
		       "qlite: bad.mb: multiboot image at 0x9fb00..0x9fd00 does not fit in guest RAM (0x1000..0x9fc00 or above 1 MiB)\n");

	make_aout(k, 0, 0, 0x203000);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: bad.mb: multiboot entry 0x203000 is outside the loaded image 0x200000..0x200200\n");

	/* The header's address fields cut off by the end of the file. */
	make_aout(k, 0, 0, 0x200080);
	kernel.len = AOUT_HDR + 20;
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: bad.mb: truncated multiboot header at 0x40 (its load addresses are past the end of the file)\n");
	guest_mem_destroy(&gm);
}

static void test_mb_elf_errors(void **state)
{
	static uint8_t k[E32_LEN];
	struct boot_image kernel = { k, sizeof(k), "bad.elf" };
	struct boot_result res;
	struct guest_mem gm;
	Elf32_Phdr ph;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	/* A wrong checksum in an ELF with no PVH note: the multiboot line, not PVH's. */
	make_elf32(k, true, false, EM_386);
	le_store(k + E32_LOAD_OFF + 8, 0, 4);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOEXEC,
		       "qlite: bad.elf: multiboot header at 0x80 has a wrong checksum (0, expected 0xe4524ffb)\n");

	/* An x86-64 ELF with a multiboot header and no a.out addresses: QEMU refuses it too. */
	make_elf32(k, true, false, EM_X86_64);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOEXEC,
		       "qlite: bad.elf: multiboot kernel is neither an ELF32 i386 nor an a.out kludge image (header flag 16)\n");

	/* A segment outside RAM, one past the file. */
	make_elf32(k, true, false, EM_386);
	memcpy(&ph, k + sizeof(Elf32_Ehdr), sizeof(ph));
	ph.p_paddr = RAM - 0x1000;
	memcpy(k + sizeof(Elf32_Ehdr), &ph, sizeof(ph));
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOSPC,
		       "qlite: bad.elf: segment 0 at 0x3fff000..0x4001000 does not fit in guest RAM (0x1000..0x9fc00 or above 1 MiB)\n");
	make_elf32(k, true, false, EM_386);
	kernel.len = 200;
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: bad.elf: truncated or corrupt ELF (segment 0: 0x60 bytes at offset 0x80, file is 200 bytes)\n");
	kernel.len = 40;	/* the multiboot header is gone with the rest: a short ELF */
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: bad.elf: truncated ELF header\n");
	guest_mem_destroy(&gm);
}

static void test_mb_modules_refused(void **state)
{
	static uint8_t k[E32_LEN], big[64 << 10];
	struct boot_image kernel = { k, sizeof(k), "k.mb" };
	struct boot_module mods[BOOT_MAX_MODULES + 1];
	struct boot_result res;
	struct guest_mem gm;
	char *longarg;

	make_elf32(k, true, false, EM_386);
	for (unsigned i = 0; i <= BOOT_MAX_MODULES; i++)
		mods[i] = (struct boot_module){ .img = { big, 16, "m" } };
	assert_int_equal(guest_mem_init(&gm, 2 * MiB, false), 0);
	assert_reports(boot_load_mods(&gm, &kernel, mods, BOOT_MAX_MODULES + 1, NULL, &res), -E2BIG,
		       "qlite: k.mb: 65 modules, at most 64\n");
	/* 2 MiB of RAM: the kernel ends at 0x102000; a 1 MiB module no longer fits after it. */
	mods[0].img = (struct boot_image){ big, sizeof(big), "a" };
	mods[1].img = (struct boot_image){ big, 1 * MiB, "b" };
	assert_reports(boot_load_mods(&gm, &kernel, mods, 2, NULL, &res), -ENOSPC,
		       "qlite: b: module of 1048576 bytes does not fit in guest RAM at 0x112000 after the kernel\n");
	/* Module strings beyond their area. */
	longarg = malloc(BOOT_STRINGS_MAX);
	memset(longarg, 'x', BOOT_STRINGS_MAX - 1);
	longarg[BOOT_STRINGS_MAX - 1] = '\0';
	mods[0] = (struct boot_module){ .img = { big, 1, "a" }, .cmdline = longarg };
	mods[1] = (struct boot_module){ .img = { big, 1, "b" } };
	assert_reports(boot_load_mods(&gm, &kernel, mods, 2, NULL, &res), -E2BIG,
		       "qlite: module command lines and strings take more than 65536 bytes\n");
	free(longarg);
	guest_mem_destroy(&gm);
}

/* QEMU's order: a multiboot header wins over a PVH note; a broken one does not. */
static void test_probe_order(void **state)
{
	static uint8_t k[E32_LEN], junk[9000];
	struct boot_image kernel = { k, sizeof(k), "both.elf" };
	struct boot_image j = { junk, sizeof(junk), "late.bin" };
	struct boot_result res;
	struct guest_mem gm;
	enum boot_kind kind;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	make_elf32(k, true, true, EM_386);
	assert_silent_ok(boot_probe_kind(&kernel, &kind));
	assert_int_equal(kind, BOOT_MULTIBOOT);
	le_store(k + E32_LOAD_OFF + 8, 0, 4);
	assert_silent_ok(boot_load(&gm, &kernel, NULL, NULL, &res));
	assert_int_equal(res.kind, BOOT_PVH);
	assert_false(boot_image_is_linux(&kernel));

	/* A header must start in the first 8 KiB and end there too. */
	memset(junk, 0x41, sizeof(junk));
	put_mb_header(junk + 8192 - 8, 0x10003);
	assert_reports(boot_load(&gm, &j, NULL, NULL, &res), -ENOEXEC,
		       "qlite: late.bin: not a kernel image: no ELF, bzImage or multiboot header\n");
	guest_mem_destroy(&gm);
}

static void test_pvh32(void **state)
{
	static uint8_t k[E32_LEN], m0[10], m1[20];
	struct boot_image kernel = { k, sizeof(k), "pvh32.elf" };
	struct boot_module mods[2] = {
		{ .img = { m0, sizeof(m0), "m0" } },
		{ .img = { m1, sizeof(m1), "m1" }, .cmdline = "m1 x" },
	};
	struct kvm_sregs sregs = { 0 };
	struct kvm_regs regs;
	struct boot_result res;
	struct guest_mem gm;
	uint64_t *ml;
	uint32_t *si;

	make_elf32(k, false, true, EM_386);
	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_silent_ok(boot_load_mods(&gm, &kernel, mods, 2, "hello", &res));
	assert_int_equal(res.kind, BOOT_PVH);
	assert_int_equal(res.entry, E32_ENTRY);
	assert_int_equal(res.kernel_end, 0x102000);
	assert_memory_equal(gp(&gm, 0x100000, 96), k + E32_LOAD_OFF, 96);
	si = gp(&gm, BOOT_INFO_ADDR, 56);
	assert_int_equal(si[0], 0x336ec578);
	assert_int_equal(si[1], 1);
	assert_int_equal(si[3], 2);
	assert_string_equal(gp(&gm, le_load(&si[6], 8), 1), "hello");
	assert_int_equal(si[12], 3);
	/* Modules from the top of RAM down; the one with a string has it. */
	ml = gp(&gm, le_load(&si[4], 8), 64);
	assert_int_equal(ml[0], RAM - 0x1000);
	assert_int_equal(ml[1], sizeof(m0));
	assert_int_equal(ml[2], 0);
	assert_int_equal(ml[4], RAM - 0x2000);
	assert_int_equal(ml[5], sizeof(m1));
	assert_string_equal(gp(&gm, ml[6], 1), "m1 x");
	boot_regs(&res, &regs);
	assert_int_equal(regs.rbx, BOOT_INFO_ADDR);
	assert_int_equal(boot_sregs(&gm, &res, &sregs), 0);
	assert_int_equal(sregs.cs.db, 1);
	assert_int_equal(sregs.cr0 & 0x80000001, 1);

	/* ELF32 must be i386; an ELF32 without the note says what to build. */
	make_elf32(k, false, true, EM_X86_64);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOEXEC,
		       "qlite: pvh32.elf: not an x86 ELF (class 1, machine 62): PVH takes ELF64 x86-64 or ELF32 i386\n");
	make_elf32(k, false, false, EM_386);
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -ENOEXEC,
		       "qlite: pvh32.elf: ELF has no PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY note); build the kernel with CONFIG_PVH=y\n");
	/* Program headers cut off by the file's end. */
	make_elf32(k, false, true, EM_386);
	kernel.len = sizeof(Elf32_Ehdr) + 40;
	assert_reports(boot_load(&gm, &kernel, NULL, NULL, &res), -EINVAL,
		       "qlite: pvh32.elf: truncated or corrupt ELF program headers\n");
	guest_mem_destroy(&gm);
}

/* A bzImage has one initrd: several modules are refused, one is its initrd. */
static void test_bzimage_modules(void **state)
{
	static uint8_t bz[0x1000];
	struct boot_image kernel = { bz, sizeof(bz), "bz" };
	struct boot_module mods[2] = { { .img = { bz, 1, "a" } }, { .img = { bz, 1, "b" } } };
	struct boot_result res;
	struct guest_mem gm;

	bz[0x1f1] = 1;
	le_store(bz + 0x1fe, 0xaa55, 2);
	bz[0x200] = 0xeb;
	bz[0x201] = 0x6a;
	memcpy(bz + 0x202, "HdrS", 4);
	le_store(bz + 0x206, 0x020f, 2);
	le_store(bz + 0x236, 1, 2);
	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_reports(boot_load_mods(&gm, &kernel, mods, 2, NULL, &res), -EINVAL,
		       "qlite: bz: a bzImage takes one initrd, not 2 modules (several are for multiboot and PVH kernels)\n");
	assert_silent_ok(boot_load_mods(&gm, &kernel, mods, 1, NULL, &res));
	assert_int_equal(le_load(gp(&gm, BOOT_INFO_ADDR + 0x21c, 4), 4), 1);	/* ramdisk_size */
	guest_mem_destroy(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mb_elf_info),
		cmocka_unit_test(test_mb_no_cmdline_no_modules),
		cmocka_unit_test(test_mb_elf_virtual_entry),
		cmocka_unit_test(test_mb_elf_low),
		cmocka_unit_test(test_mb_aout),
		cmocka_unit_test(test_mb_bad_headers),
		cmocka_unit_test(test_mb_elf_errors),
		cmocka_unit_test(test_mb_modules_refused),
		cmocka_unit_test(test_probe_order),
		cmocka_unit_test(test_pvh32),
		cmocka_unit_test(test_bzimage_modules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
