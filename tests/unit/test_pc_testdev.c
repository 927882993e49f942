// SPDX-License-Identifier: GPL-2.0-only
/*
 * pc-testdev on the fake machine, built through vdev_create_all(): the
 * scratch register at 0xe0 and 0xe8 with every width and offset (QEMU's
 * alignment rule), the page-flush port against real guest RAM and outside
 * it, the IRQ-line window, the MMIO window, what nobody claims around them,
 * one exit per access, and the register names of the exit report.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_machine.h"
#include "qlite/guest_mem.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define IOMEM	0xff000000ULL
#define RAM	(16ULL << 20)

struct ctx {
	struct fake_machine *fm;
	struct guest_mem gm;
	struct vm_spec spec;
	struct vdev_spec vs;
	char *msgs;
	size_t msgs_len;
	FILE *out;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->fm = fake_machine_create();
	assert_int_equal(guest_mem_init(&c->gm, RAM, false), 0);
	c->fm->m.mem = &c->gm;
	c->out = open_memstream(&c->msgs, &c->msgs_len);
	assert_non_null(c->out);
	report_set_stream(c->out);
	c->vs = (struct vdev_spec){ .type = "pc-testdev",
				    .origin = { .file = "vm.conf", .line = 2, .option = "vdev" } };
	c->spec.vdevs = &c->vs;
	c->spec.nr_vdevs = 1;
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	report_set_stream(NULL);
	fclose(c->out);
	free(c->msgs);
	fake_machine_destroy(c->fm);
	guest_mem_destroy(&c->gm);
	free(c);
	return 0;
}

static const char *said(struct ctx *c)
{
	fflush(c->out);
	return c->msgs ? c->msgs : "";
}

static uint64_t report_counter(struct ctx *c, const char *name)
{
	struct device_report rep = { .n = 0 };
	const struct machine_report_src *src = NULL;

	for (unsigned i = 0; i < c->fm->m.nr_reports; i++)
		if (!strcmp(c->fm->m.reports[i].name, "pc-testdev"))
			src = &c->fm->m.reports[i];
	assert_non_null(src);
	src->fn(src->opaque, &rep);
	for (unsigned i = 0; i < rep.n; i++)
		if (!strcmp(rep.c[i].name, name))
			return rep.c[i].value;
	fail_msg("no counter %s", name);
	return 0;
}

static const char *reg_at(struct ctx *c, enum bus_space space, uint64_t addr)
{
	const struct bus_region *r = bus_lookup(c->fm->m.bus[space], addr, 1);

	assert_non_null(r);
	assert_string_equal(r->name, "pc-testdev");
	return r->ops->reg_name(r->opaque, addr - r->base);
}

/* emulator.c and realmode.c: a write of each width reads back whole and in parts. */
static void test_ioport_widths(void **state)
{
	struct ctx *c = *state;

	for (unsigned port = 0xe0; port <= 0xe8; port += 8) {
		fake_pio_write(c->fm, port, 4, 0x12345678);
		assert_int_equal(fake_pio_read(c->fm, port, 4), 0x12345678);
		assert_int_equal(fake_pio_read(c->fm, port, 2), 0x5678);
		assert_int_equal(fake_pio_read(c->fm, port + 2, 2), 0x1234);
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(fake_pio_read(c->fm, port + i, 1), (0x12345678 >> (8 * i)) & 0xff);
		fake_pio_write(c->fm, port + 1, 1, 0xab);
		assert_int_equal(fake_pio_read(c->fm, port, 4), 0x1234ab78);
		fake_pio_write(c->fm, port + 2, 2, 0xcdef);
		assert_int_equal(fake_pio_read(c->fm, port, 4), 0xcdefab78);
		fake_pio_write(c->fm, port, 2, 0x4321);
		assert_int_equal(fake_pio_read(c->fm, port, 4), 0xcdef4321);
		/* realmode's `out %al; in %al`: only the byte moves. */
		fake_pio_write(c->fm, port, 1, 0xff);
		assert_int_equal(fake_pio_read(c->fm, port, 4), 0xcdef43ff);
	}
	/* 0xe0 and 0xe8 are one register, as in QEMU. */
	fake_pio_write(c->fm, 0xe0, 4, 0xdeadbeef);
	assert_int_equal(fake_pio_read(c->fm, 0xe8, 4), 0xdeadbeef);
	fake_pio_write(c->fm, 0xe8, 1, 0x00);
	assert_int_equal(fake_pio_read(c->fm, 0xe0, 4), 0xdeadbe00);
}

/* QEMU's memory core splits an unaligned access into aligned pieces: it is byte-exact. */
static void test_ioport_unaligned(void **state)
{
	struct ctx *c = *state;

	fake_pio_write(c->fm, 0xe0, 4, 0x11223344);
	fake_pio_write(c->fm, 0xe1, 2, 0xaabb);
	assert_int_equal(fake_pio_read(c->fm, 0xe0, 4), 0x11aabb44);
	fake_pio_write(c->fm, 0xe9, 2, 0x1234);
	assert_int_equal(fake_pio_read(c->fm, 0xe1, 2), 0x1234);
	assert_int_equal(fake_pio_read(c->fm, 0xeb, 2), 0xffff);	/* straddles: nobody's */
	/* An access past a window is unclaimed (all-ones) and changes nothing. */
	fake_pio_write(c->fm, 0xe2, 4, 0);
	assert_int_equal(fake_pio_read(c->fm, 0xe0, 4), 0x11123444);
	assert_int_equal(fake_pio_read(c->fm, 0xec, 1), 0xff);
	assert_int_equal(fake_pio_read(c->fm, 0xdf, 1), 0xff);
}

/* eventinj: the page's contents stay; an address outside RAM does nothing. */
static void test_flush_page(void **state)
{
	struct ctx *c = *state;
	uint32_t v = 0xfeedf00d, back = 0;

	assert_int_equal(guest_mem_write(&c->gm, 0x123450, &v, 4), 0);
	fake_pio_write(c->fm, 0xe4, 4, 0x123456);
	assert_int_equal(report_counter(c, "pages_flushed"), 1);
	assert_int_equal(guest_mem_read(&c->gm, 0x123450, &back, 4), 0);
	assert_int_equal(back, 0xfeedf00d);
	/* The page is writable again from the host side too. */
	v = 1;
	assert_int_equal(guest_mem_write(&c->gm, 0x123000, &v, 4), 0);

	fake_pio_write(c->fm, 0xe4, 4, 0xfffff000);	/* above RAM */
	fake_pio_write(c->fm, 0xe4, 4, (uint32_t)RAM);
	assert_int_equal(report_counter(c, "flushes_outside_ram"), 2);
	/* Only 4-byte writes at the port count; reads are 0. */
	fake_pio_write(c->fm, 0xe4, 2, 0x1000);
	fake_pio_write(c->fm, 0xe4, 1, 0x10);
	fake_pio_write(c->fm, 0xe6, 2, 0x1000);
	assert_int_equal(report_counter(c, "pages_flushed"), 1);
	assert_int_equal(report_counter(c, "flushes_outside_ram"), 2);
	assert_int_equal(fake_pio_read(c->fm, 0xe4, 4), 0);
}

/* ioapic: a byte to 0x2000 + n sets ISA line n to (value != 0). */
static void test_irq_lines(void **state)
{
	struct ctx *c = *state;

	fake_pio_write(c->fm, 0x200e, 1, 1);
	fake_pio_write(c->fm, 0x200e, 1, 0);
	fake_pio_write(c->fm, 0x200f, 1, 0x80);
	fake_pio_write(c->fm, 0x2000, 1, 1);
	assert_int_equal(c->fm->nr_irq_calls, 4);
	assert_int_equal(c->fm->irq_calls[0].gsi, 14);
	assert_int_equal(c->fm->irq_calls[0].level, 1);
	assert_int_equal(c->fm->irq_calls[1].gsi, 14);
	assert_int_equal(c->fm->irq_calls[1].level, 0);
	assert_int_equal(c->fm->irq_calls[2].gsi, 15);
	assert_int_equal(c->fm->irq_calls[2].level, 1);
	assert_int_equal(c->fm->irq_calls[3].gsi, 0);
	/* realmode's outl to 0x200b: four lines from four bytes, in address order. */
	fake_pio_write(c->fm, 0x200b, 4, 1);
	assert_int_equal(c->fm->nr_irq_calls, 8);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(c->fm->irq_calls[4 + i].gsi, 11 + i);
		assert_int_equal(c->fm->irq_calls[4 + i].level, i == 0);
	}
	/* Lines 16-23 are in the window but no ISA line: said once, ignored. */
	fake_pio_write(c->fm, 0x200e, 4, 0x01010101);	/* 14, 15, then 16, 17 */
	fake_pio_write(c->fm, 0x2010, 1, 1);
	fake_pio_write(c->fm, 0x2017, 1, 1);
	assert_int_equal(c->fm->nr_irq_calls, 10);
	assert_string_equal(said(c), "qlite: pc-testdev: guest set line 16, which is no ISA IRQ; "
			    "ignored (QEMU 7.2 aborts)\n");
	assert_int_equal(fake_pio_read(c->fm, 0x200e, 1), 0);
	assert_int_equal(fake_pio_read(c->fm, 0x2018, 1), 0xff);
	assert_int_equal(c->fm->nr_stops, 0);
}

/* emulator: 64 KiB of memory at 0xff000000, any aligned width up to 8. */
static void test_iomem(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(fake_mmio_read(c->fm, IOMEM, 8), 0);
	fake_mmio_write(c->fm, IOMEM, 8, 0x0123456789abcdefULL);
	assert_true(fake_mmio_read(c->fm, IOMEM, 8) == 0x0123456789abcdefULL);
	assert_int_equal(fake_mmio_read(c->fm, IOMEM + 4, 4), 0x01234567);
	assert_int_equal(fake_mmio_read(c->fm, IOMEM + 1, 1), 0xcd);
	fake_mmio_write(c->fm, IOMEM + 0xfffe, 2, 0xbeef);
	assert_int_equal(fake_mmio_read(c->fm, IOMEM + 0xfffe, 2), 0xbeef);
	assert_int_equal(fake_mmio_read(c->fm, IOMEM + 0xffff, 1), 0xbe);
	/* Unaligned: QEMU's pieces add up to plain memory. */
	fake_mmio_write(c->fm, IOMEM + 2, 4, 0);
	assert_true(fake_mmio_read(c->fm, IOMEM, 8) == 0x012300000000cdefULL);
	assert_int_equal(fake_mmio_read(c->fm, IOMEM + 1, 4), 0xcd);
	/* Past the window: nobody's. */
	assert_true(fake_mmio_read(c->fm, IOMEM + 0x10000, 4) == 0xffffffffu);
	assert_true(fake_mmio_read(c->fm, IOMEM + 0xfffe, 4) == 0xffffffffu);
}

/* Every access is one exit, under the register the exit report names. */
static void test_exits_and_names(void **state)
{
	struct ctx *c = *state;
	unsigned before = fake_exits(c->fm);

	fake_pio_write(c->fm, 0xe0, 1, 1);
	fake_pio_read(c->fm, 0xe0, 4);
	fake_pio_write(c->fm, 0xe4, 4, 0);
	fake_pio_write(c->fm, 0x200e, 1, 0);
	fake_mmio_write(c->fm, IOMEM, 4, 0);
	assert_int_equal(fake_exits(c->fm) - before, 5);
	assert_string_equal(reg_at(c, BUS_PIO, 0xe0), "IOPORT");
	assert_string_equal(reg_at(c, BUS_PIO, 0xe3), "IOPORT");
	assert_string_equal(reg_at(c, BUS_PIO, 0xe4), "FLUSH_PAGE");
	assert_string_equal(reg_at(c, BUS_PIO, 0xe8), "IOPORT_BYTE");
	assert_string_equal(reg_at(c, BUS_PIO, 0x2017), "IRQ_LINE");
	assert_string_equal(reg_at(c, BUS_MMIO, IOMEM + 0x8000), "IOMEM");
}

/* A second pc-testdev cannot have the fixed ports; it says so once. */
static void test_twice(void **state)
{
	struct ctx *c = *state;
	struct vdev_spec two[2] = { c->vs, c->vs };
	struct vm_spec spec = { .vdevs = two, .nr_vdevs = 2 };
	struct fake_machine *fm = fake_machine_create();

	two[1].origin.line = 3;
	assert_int_equal(vdev_create_all(&fm->m, &spec), -EEXIST);
	assert_string_equal(said(c), "vm.conf:3: pc-testdev: cannot claim pio 0xe0-0xe3: "
			    "already in use\n");
	fake_machine_destroy(fm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ioport_widths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioport_unaligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iomem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exits_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_twice, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
