// SPDX-License-Identifier: GPL-2.0-only
/* PVH start_info, bzImage zero page and MP table built from synthetic images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/util.h"

#define RAM (64ULL << 20)

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
	char err[256];
	uint32_t *si;
	uint64_t *mod, *mm;

	make_elf(&e, true);
	memset(initrd_data, 0x5a, sizeof(initrd_data));
	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_int_equal(boot_load(&gm, &k, &i, "console=ttyS0 hello", &res, err, sizeof(err)), 0);
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
	guest_mem_destroy(&gm);
}

static void test_pvh_errors(void **state)
{
	struct guest_mem gm;
	struct synth_elf e;
	struct boot_image k = { (uint8_t *)&e, sizeof(e), "synth.elf" };
	struct boot_result res;
	char err[256];

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	make_elf(&e, false);
	assert_int_equal(boot_load(&gm, &k, NULL, "", &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no PVH entry point"));

	make_elf(&e, true);
	k.len = offsetof(struct synth_elf, payload) + 10;	/* truncated segment */
	assert_int_equal(boot_load(&gm, &k, NULL, "", &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated"));

	make_elf(&e, true);
	k.len = sizeof(e);
	e.ph[0].p_paddr = RAM - 100;				/* past the end of RAM */
	assert_int_equal(boot_load(&gm, &k, NULL, "", &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not fit"));

	make_elf(&e, true);
	e.eh.e_phnum = 1000;					/* headers past end of file */
	assert_int_equal(boot_load(&gm, &k, NULL, "", &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "program headers"));

	k.len = 3;
	assert_int_equal(boot_load(&gm, &k, NULL, "", &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too short"));
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
	char err[256];
	uint8_t *bp;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_int_equal(boot_load(&gm, &k, &i, "root=/dev/sda", &res, err, sizeof(err)), 0);
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

	assert_int_equal(boot_sregs(&gm, &res, &sregs), 0);
	assert_true(sregs.efer & 0x500);				/* LME | LMA */
	assert_int_equal(sregs.cs.l, 1);
	assert_int_equal(*(uint64_t *)guest_mem_ptr(&gm, BOOT_PD_ADDR + 8, 8), (1ULL << 21) | 0x83);

	/* A command line over the kernel's cmdline_size is refused. */
	{
		char big[3000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		assert_int_equal(boot_load(&gm, &k, NULL, big, &res, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "exceeds"));
	}
	/* Not 64-bit capable, truncated. */
	le_store(img + 0x236, 0, 2);
	assert_int_equal(boot_load(&gm, &k, NULL, "", &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "64-bit"));
	le_store(img + 0x236, 1, 2);
	k.len = 5 * 512;
	assert_int_equal(boot_load(&gm, &k, NULL, "", &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated"));
	free(img);
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
	char err[128];
	uint8_t *mpf, *mpc;
	unsigned cpus = 0, entries;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_int_equal(mptable_write(&gm, 4, NULL, err, sizeof(err)), 0);
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
	assert_int_equal(mptable_write(&gm, 300, NULL, err, sizeof(err)), -1);
	guest_mem_destroy(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvh_start_info),
		cmocka_unit_test(test_pvh_errors),
		cmocka_unit_test(test_bzimage_zero_page),
		cmocka_unit_test(test_mptable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
