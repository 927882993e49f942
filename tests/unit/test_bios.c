// SPDX-License-Identifier: GPL-2.0-only
/*
 * A multiboot kernel's BIOS state (src/boot/bios.c): the IVT and where each
 * vector leads, the handlers' bytes (disassembled by objdump and compared
 * with the tables' text), the BDA tick count, the PIC and PIT values handed
 * to the accel ops, and that vm_load_boot() gives them to a multiboot kernel
 * and not to a PVH one.
 */
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
#include <unistd.h>

#include "qlite/boot.h"
#include "qlite/devices.h"
#include "qlite/machine.h"
#include "qlite/util.h"
#include "qlite/vm.h"
#include "qlite/vm_spec.h"
#include "fake_machine.h"
#include "report_capture.h"

#define RAM	(64ULL << 20)

/* The real-mode address F000:xxxx an IVT entry holds, as a physical address. */
static uint32_t ivt_target(const struct guest_mem *gm, unsigned v)
{
	const uint8_t *e = guest_mem_ptr((struct guest_mem *)gm, 4 * v, 4);

	return le_load(e + 2, 2) * 16 + le_load(e, 2);
}

static uint32_t stub_addr(unsigned stub)
{
	return BIOS_STUBS_ADDR + bios_stubs[stub].offset;
}

static void test_ivt(void **state)
{
	struct guest_mem gm;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_int_equal(bios_write(&gm, 1234), 0);
	for (unsigned v = 0; v < 256; v++) {
		unsigned want = BIOS_STUB_IRET;

		if (v == 0x08)
			want = BIOS_STUB_TIMER;
		else if (v >= 0x09 && v <= 0x0f)
			want = BIOS_STUB_MASTER;
		else if (v >= 0x70 && v <= 0x77)
			want = BIOS_STUB_SLAVE;
		assert_int_equal(ivt_target(&gm, v), stub_addr(want));
		/* Segment F000: the handlers are reachable from real mode as the BIOS's are. */
		assert_int_equal(le_load(guest_mem_ptr(&gm, 4 * v + 2, 2), 2), 0xf000);
	}
	assert_int_equal(le_load(guest_mem_ptr(&gm, 0x46c, 4), 4), 1234);
	assert_int_equal(*(uint8_t *)guest_mem_ptr(&gm, 0x470, 1), 0);
	/* A count past a day wraps as the handler wraps it. */
	assert_int_equal(bios_write(&gm, BIOS_TICKS_PER_DAY + 5), 0);
	assert_int_equal(le_load(guest_mem_ptr(&gm, 0x46c, 4), 4), 5);
	guest_mem_destroy(&gm);
}

/* The handlers in RAM are the tables' bytes, in order, each inside its slot. */
static void test_stub_bytes(void **state)
{
	struct guest_mem gm;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_int_equal(bios_write(&gm, 0), 0);
	for (unsigned i = 0; i < BIOS_NR_STUBS; i++) {
		const struct bios_stub *s = &bios_stubs[i];
		const uint8_t *p = guest_mem_ptr(&gm, stub_addr(i), bios_stub_len(s));
		size_t end = i + 1 < BIOS_NR_STUBS ? bios_stubs[i + 1].offset : BIOS_STUBS_SIZE;

		assert_true(s->offset + bios_stub_len(s) <= end);
		for (unsigned j = 0; j < s->nr; j++) {
			assert_true(s->insns[j].len >= 1 && s->insns[j].len <= BIOS_INSN_MAX);
			assert_memory_equal(p, s->insns[j].bytes, s->insns[j].len);
			p += s->insns[j].len;
		}
		/* Every handler returns with iret, and only there. */
		for (unsigned j = 0; j < s->nr; j++)
			assert_int_equal(!strcmp(s->insns[j].text, "iret"), j == s->nr - 1);
	}
	guest_mem_destroy(&gm);
}

/* "  2a:\t1f                   \tpop    ds" -> offset 0x2a, "pop ds". */
static bool parse_objdump_line(char *line, unsigned *off, char *text, size_t size)
{
	char *tab1 = strchr(line, '\t'), *tab2, *out = text;

	if (!tab1 || sscanf(line, " %x:", off) != 1)
		return false;
	tab2 = strchr(tab1 + 1, '\t');
	if (!tab2)
		return false;	/* a continuation line of a long instruction's bytes */
	for (const char *p = tab2 + 1; *p && *p != '\n' && out + 1 < text + size; p++) {
		if (*p == ' ' && (out == text || out[-1] == ' '))
			continue;
		*out++ = *p;
	}
	while (out > text && out[-1] == ' ')
		out--;
	*out = '\0';
	return true;
}

/* Each handler, disassembled as 16-bit code from its start, says what its table says. */
static void test_stubs_disassemble(void **state)
{
	char path[] = "/tmp/qlite-bios-XXXXXX";

	if (system("objdump --version >/dev/null 2>&1") != 0)
		skip();
	for (unsigned i = 0; i < BIOS_NR_STUBS; i++) {
		const struct bios_stub *s = &bios_stubs[i];
		char cmd[256], line[256], text[128];
		unsigned j = 0, off, at = 0;
		int fd = mkstemp(path);
		FILE *f;

		assert_true(fd >= 0);
		for (unsigned k = 0; k < s->nr; k++)
			assert_int_equal(write(fd, s->insns[k].bytes, s->insns[k].len), s->insns[k].len);
		close(fd);
		snprintf(cmd, sizeof(cmd),
			 "objdump -D -b binary -m i8086 -M intel --insn-width=10 %s", path);
		f = popen(cmd, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			if (!parse_objdump_line(line, &off, text, sizeof(text)))
				continue;
			assert_true(j < s->nr);
			assert_int_equal(off, at);
			if (strcmp(text, s->insns[j].text))
				fail_msg("%s handler, instruction %u: objdump says '%s', the table '%s'",
					 s->name, j, text, s->insns[j].text);
			at += s->insns[j++].len;
		}
		assert_int_equal(pclose(f), 0);
		unlink(path);
		strcpy(path, "/tmp/qlite-bios-XXXXXX");
		assert_int_equal(j, s->nr);
	}
}

/* The timer handler's jb lands on an instruction of its own: the int 0x1c after the wrap. */
static void test_timer_branch(void **state)
{
	const struct bios_stub *s = &bios_stubs[BIOS_STUB_TIMER];
	unsigned at = 0, target = 0, found = 0;

	for (unsigned j = 0; j < s->nr; j++) {
		const struct bios_insn *in = &s->insns[j];

		if (in->bytes[0] == 0x72)	/* jb rel8 */
			target = at + in->len + (int8_t)in->bytes[1];
		at += in->len;
	}
	assert_true(target > 0);
	at = 0;
	for (unsigned j = 0; j < s->nr; j++) {
		if (at == target) {
			assert_string_equal(s->insns[j].text, "int 0x1c");
			found++;
		}
		at += s->insns[j].len;
	}
	assert_int_equal(found, 1);
}

static void test_ticks(void **state)
{
	assert_int_equal(bios_ticks_at(0), 0);
	/* Noon: 43200 s of 1193182 / 65536 ticks. */
	assert_int_equal(bios_ticks_at(43200), 786521);
	assert_true(bios_ticks_at(86399) < BIOS_TICKS_PER_DAY);
	assert_int_equal(bios_ticks_at(86400), 0);
}

static void test_small_ram(void **state)
{
	struct guest_mem gm;
	struct report_capture c;

	/* 512 KiB: no BIOS area. */
	assert_int_equal(guest_mem_init(&gm, 512 << 10, false), 0);
	report_capture_start(&c);
	assert_int_equal(bios_write(&gm, 0), -ENOSPC);
	assert_string_equal(report_capture_text(&c),
			    "qlite: BIOS state: the IVT, BDA or BIOS area is not in RAM\n");
	report_capture_stop(&c);
	guest_mem_destroy(&gm);
}

/* The PICs as SeaBIOS 1.16 leaves them on QEMU's pc, and the PIT at 18.2 Hz. */
static void test_chips(void **state)
{
	struct fake_machine *fm = fake_machine_create_accel();
	struct fake_machine *offline = fake_machine_create();
	struct report_capture c;

	assert_int_equal(bios_setup_chips(&fm->m), 0);
	assert_int_equal(fm->nr_pic_setups, 1);
	assert_int_equal(fm->nr_pit_setups, 1);
	assert_int_equal(fm->pic.vector_base[0], 0x08);
	assert_int_equal(fm->pic.vector_base[1], 0x70);
	/* Unmasked: IRQ 0, 1, 2, 6 and 8, 12, 13, 14 (what a guest reads under QEMU). */
	assert_int_equal(fm->pic.imr[0], 0xb8);
	assert_int_equal(fm->pic.imr[1], 0x8e);
	/* Level: IRQ 10 and 11 (PCI INTx). */
	assert_int_equal(fm->pic.elcr[0], 0x00);
	assert_int_equal(fm->pic.elcr[1], 0x0c);
	assert_int_equal(fm->pit.mode, 2);
	assert_int_equal(fm->pit.count, 0);

	/* qlite check: no accel, nothing to program. */
	assert_int_equal(bios_setup_chips(&offline->m), 0);

	fm->chip_setup_error = -EINVAL;
	report_capture_start(&c);
	assert_int_equal(bios_setup_chips(&fm->m), -EINVAL);
	assert_string_equal(report_capture_text(&c),
			    "qlite: BIOS state: programming the in-kernel PICs: Invalid argument\n");
	report_capture_stop(&c);
	fake_machine_destroy(fm);
	fake_machine_destroy(offline);
}

/*
 * `irqchip split`: qlite's own PICs and PIT get the same state through
 * their ports, as firmware's writes; the accel's chip ioctls are not used.
 */
static void test_chips_split(void **state)
{
	struct fake_machine *fm = fake_machine_create_accel();
	struct fake_machine *bare = fake_machine_create_accel();
	struct report_capture c;

	fm->m.split_irqchip = true;
	assert_non_null(pic8259_create(&fm->m));
	assert_int_equal(pit8254_create(&fm->m), 0);
	assert_int_equal(bios_setup_chips(&fm->m), 0);
	assert_int_equal(fm->nr_pic_setups, 0);
	assert_int_equal(fm->nr_pit_setups, 0);
	assert_int_equal(fake_pio_read(fm, 0x21, 1), 0xb8);
	assert_int_equal(fake_pio_read(fm, 0xa1, 1), 0x8e);
	assert_int_equal(fake_pio_read(fm, 0x4d0, 1), 0x00);
	assert_int_equal(fake_pio_read(fm, 0x4d1, 1), 0x0c);
	/* The vectors: IRQ 1 on 0x09, IRQ 8 on 0x70 through the cascade. */
	pic8259_set_irq(fm->m.pic, 1, 1);
	pic8259_set_irq(fm->m.pic, 1, 0);
	assert_int_equal(pic8259_ack(fm->m.pic), 0x09);
	fake_pio_write(fm, 0x20, 1, 0x20);
	pic8259_set_irq(fm->m.pic, 8, 1);
	pic8259_set_irq(fm->m.pic, 8, 0);
	assert_int_equal(pic8259_ack(fm->m.pic), 0x70);
	/* PIT channel 0's read-back status: lobyte/hibyte, mode 2, binary. */
	fake_pio_write(fm, 0x43, 1, 0xe2);
	assert_int_equal(fake_pio_read(fm, 0x40, 1) & 0x3f, 0x34);

	/* Split, but the chips not on the bus: said, and an error. */
	bare->m.split_irqchip = true;
	assert_int_equal(bios_setup_chips(&bare->m), 0);
	bare->m.pic = fm->m.pic;
	report_capture_start(&c);
	assert_int_equal(bios_setup_chips(&bare->m), -ENODEV);
	assert_string_equal(report_capture_text(&c),
			    "qlite: BIOS state: qlite's PICs are not on ports 0x20, 0xa0, 0x4d0\n");
	report_capture_stop(&c);
	fake_machine_destroy(fm);
	fake_machine_destroy(bare);
}

/* A multiboot a.out-kludge image at 1 MiB: the header, then hlt. */
static size_t make_multiboot(uint8_t *d)
{
	const uint32_t flags = 0x10003, base = 0x100000;
	uint32_t h[8] = { 0x1badb002, flags, -(0x1badb002 + flags), base, base, 0, 0, base + 32 };

	memcpy(d, h, sizeof(h));
	d[32] = 0xf4;
	return 64;
}

/* A 32-bit PVH ELF at 1 MiB: one PT_LOAD of hlt and the Xen entry note. */
static size_t make_pvh32(uint8_t *d)
{
	Elf32_Ehdr *eh = (Elf32_Ehdr *)d;
	Elf32_Phdr *ph = (Elf32_Phdr *)(d + sizeof(*eh));
	uint8_t *note = d + sizeof(*eh) + 2 * sizeof(*ph);
	uint32_t n[5] = { 4, 4, 18, 0x006e6558 /* "Xen" */, 0x100000 };
	size_t code = sizeof(*eh) + 2 * sizeof(*ph) + sizeof(n);

	memset(d, 0, code + 16);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_machine = EM_386;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = code, .p_paddr = 0x100000,
			      .p_vaddr = 0x100000, .p_filesz = 16, .p_memsz = 16 };
	ph[1] = (Elf32_Phdr){ .p_type = PT_NOTE, .p_offset = sizeof(*eh) + 2 * sizeof(*ph),
			      .p_filesz = sizeof(n) };
	memcpy(note, n, sizeof(n));
	d[code] = 0xf4;
	return code + 16;
}

/* vm_load_boot() of the image make() builds, on a fake machine with its accel ops. */
static void load(size_t (*make)(uint8_t *), struct fake_machine *fm, struct guest_mem *gm)
{
	char path[] = "/tmp/qlite-bios-kernel-XXXXXX";
	struct vm_spec spec = { .ram_size = RAM, .nr_vcpus = 1, .acpi_off = true };
	struct vm_boot b = { 0 };
	uint8_t img[512];
	size_t len = make(img);
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	close(fd);
	spec.kernel = path;
	assert_int_equal(guest_mem_init(gm, RAM, false), 0);
	assert_int_equal(vm_load_boot(&spec, false, 1, &fm->m, gm, &b), 0);
	vm_boot_free(&b);
	unlink(path);
}

static void test_multiboot_gets_bios_state(void **state)
{
	struct fake_machine *fm = fake_machine_create_accel();
	struct guest_mem gm;

	load(make_multiboot, fm, &gm);
	assert_int_equal(fm->nr_pic_setups, 1);
	assert_int_equal(fm->nr_pit_setups, 1);
	assert_int_equal(ivt_target(&gm, 0x08), stub_addr(BIOS_STUB_TIMER));
	assert_int_equal(ivt_target(&gm, 0x73), stub_addr(BIOS_STUB_SLAVE));
	assert_true(le_load(guest_mem_ptr(&gm, 0x46c, 4), 4) < BIOS_TICKS_PER_DAY);
	guest_mem_destroy(&gm);
	fake_machine_destroy(fm);
}

static void test_pvh_keeps_reset_state(void **state)
{
	struct fake_machine *fm = fake_machine_create_accel();
	struct guest_mem gm;
	static const uint8_t zero[BIOS_IVT_SIZE];

	load(make_pvh32, fm, &gm);
	assert_int_equal(fm->nr_pic_setups, 0);
	assert_int_equal(fm->nr_pit_setups, 0);
	assert_memory_equal(guest_mem_ptr(&gm, 0, BIOS_IVT_SIZE), zero, BIOS_IVT_SIZE);
	guest_mem_destroy(&gm);
	fake_machine_destroy(fm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ivt),
		cmocka_unit_test(test_stub_bytes),
		cmocka_unit_test(test_stubs_disassemble),
		cmocka_unit_test(test_timer_branch),
		cmocka_unit_test(test_ticks),
		cmocka_unit_test(test_small_ram),
		cmocka_unit_test(test_chips),
		cmocka_unit_test(test_chips_split),
		cmocka_unit_test(test_multiboot_gets_bios_state),
		cmocka_unit_test(test_pvh_keeps_reset_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
