// SPDX-License-Identifier: GPL-2.0-only
/*
 * qlite's 8259A pair (`irqchip split`) on the fake machine: the ICW1-ICW4
 * sequence, masks, priorities and rotation, the EOI kinds, the cascade on
 * IRQ 2, edge and level lines through the ELCR, reading IRR and ISR,
 * polling, auto-EOI, special mask and special fully nested modes, spurious
 * IRQs 7 and 15, the acknowledge interface the vCPU side uses, and what a
 * hostile guest can do to its ports.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fake_machine.h"
#include "qlite/devices.h"

#define M_CMD	0x20
#define M_DATA	0x21
#define S_CMD	0xa0
#define S_DATA	0xa1
#define ELCR1	0x4d0
#define ELCR2	0x4d1

#define READ_IRR	0x0a
#define READ_ISR	0x0b
#define POLL		0x0c
#define EOI		0x20

struct ctx {
	struct fake_machine *fm;
	struct pic8259 *pic;
	unsigned rises;		/* pic_intr calls */
};

static struct ctx *current;

static void count_rise(struct machine *m)
{
	current->rises++;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	c->fm = fake_machine_create();
	c->fm->m.split_irqchip = true;
	c->fm->m.pic_intr = count_rise;
	current = c;
	c->pic = pic8259_create(&c->fm->m);
	assert_non_null(c->pic);
	assert_ptr_equal(c->fm->m.pic, c->pic);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	fake_machine_destroy(c->fm);
	free(c);
	current = NULL;
	return 0;
}

static uint8_t in(struct ctx *c, uint16_t port)
{
	return fake_pio_read(c->fm, port, 1);
}

static void out(struct ctx *c, uint16_t port, uint8_t v)
{
	fake_pio_write(c->fm, port, 1, v);
}

/* The PC's initialization: edge, cascade, ICW4 with icw4 (8086 mode at least). */
static void init_chip(struct ctx *c, uint16_t cmd, uint8_t base, uint8_t icw3, uint8_t icw4)
{
	out(c, cmd, 0x11);
	out(c, cmd + 1, base);
	out(c, cmd + 1, icw3);
	out(c, cmd + 1, icw4);
}

static void init_pc(struct ctx *c, uint8_t icw4)
{
	init_chip(c, M_CMD, 0x20, 0x04, icw4);
	init_chip(c, S_CMD, 0x28, 0x02, icw4);
	out(c, M_DATA, 0x00);
	out(c, S_DATA, 0x00);
}

static void pulse(struct ctx *c, unsigned irq)
{
	pic8259_set_irq(c->pic, irq, 1);
	pic8259_set_irq(c->pic, irq, 0);
}

static uint8_t reg(struct ctx *c, uint16_t cmd, uint8_t ocw3)
{
	out(c, cmd, ocw3);
	return in(c, cmd);
}

static uint64_t counter(struct ctx *c, const char *name)
{
	struct device_report r;

	memset(&r, 0, sizeof(r));
	for (unsigned i = 0; i < c->fm->m.nr_reports; i++) {
		if (strcmp(c->fm->m.reports[i].name, "pic"))
			continue;
		c->fm->m.reports[i].fn(c->fm->m.reports[i].opaque, &r);
		for (unsigned j = 0; j < r.n; j++)
			if (!strcmp(r.c[j].name, name))
				return r.c[j].value;
	}
	fail_msg("no counter %s", name);
	return 0;
}

static void test_init_sequence(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	out(c, M_DATA, 0xfe);
	assert_int_equal(in(c, M_DATA), 0xfe);
	assert_false(pic8259_intr(c->pic));
	pulse(c, 0);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(c->rises, 1);
	assert_int_equal(reg(c, M_CMD, READ_IRR), 0x01);
	/* The INTA: the vector (ICW2's base; its low bits ignored), IRR to ISR. */
	assert_int_equal(pic8259_ack(c->pic), 0x20);
	assert_false(pic8259_intr(c->pic));
	assert_int_equal(reg(c, M_CMD, READ_IRR), 0x00);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x01);
	/* The register select sticks: another read is the ISR again. */
	assert_int_equal(in(c, M_CMD), 0x01);
	out(c, M_CMD, EOI);
	assert_int_equal(in(c, M_CMD), 0x00);
	assert_int_equal(counter(c, "acks"), 1);
	assert_int_equal(counter(c, "eois"), 1);

	/* ICW2's low three bits are the input's number in 8086 mode. */
	init_chip(c, M_CMD, 0x47, 0x04, 0x01);
	out(c, M_DATA, 0xfe);
	pulse(c, 0);
	assert_int_equal(pic8259_ack(c->pic), 0x40);
	/* ICW1 resets the IMR and the ISR, and the read select to IRR. */
	out(c, M_CMD, 0x11);
	assert_int_equal(in(c, M_CMD), 0x00);
	out(c, M_DATA, 0x08);
	out(c, M_DATA, 0x04);
	out(c, M_DATA, 0x01);
	assert_int_equal(in(c, M_DATA), 0x00);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x00);

	/* Single mode without ICW4: ICW2 ends it, the next data write is OCW1. */
	out(c, M_CMD, 0x12);
	out(c, M_DATA, 0x30);
	out(c, M_DATA, 0xaa);
	assert_int_equal(in(c, M_DATA), 0xaa);
}

static void test_masks(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	out(c, M_DATA, 0x02);
	pulse(c, 1);
	/* Masked: latched in IRR, no INTR. */
	assert_false(pic8259_intr(c->pic));
	assert_int_equal(reg(c, M_CMD, READ_IRR), 0x02);
	out(c, M_DATA, 0x00);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x21);
	out(c, M_CMD, EOI);
	/* Masking the cascade masks the whole slave. */
	out(c, M_DATA, 0x04);
	pulse(c, 9);
	assert_false(pic8259_intr(c->pic));
	out(c, M_DATA, 0x00);
	assert_int_equal(pic8259_ack(c->pic), 0x29);
}

static void test_priorities(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	pulse(c, 5);
	pulse(c, 3);
	assert_int_equal(pic8259_ack(c->pic), 0x23);
	/* 5 waits behind 3 in service; a higher 1 interrupts it (fully nested). */
	assert_false(pic8259_intr(c->pic));
	pulse(c, 1);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x21);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x0a);
	/* The non-specific EOI ends the highest in service. */
	out(c, M_CMD, EOI);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x08);
	assert_false(pic8259_intr(c->pic));
	out(c, M_CMD, EOI);
	assert_int_equal(pic8259_ack(c->pic), 0x25);
	out(c, M_CMD, EOI);

	/* Set priority: IRQ 4 the lowest, so 5 is the highest and 3 below it. */
	out(c, M_CMD, 0xc4);
	pulse(c, 3);
	pulse(c, 5);
	assert_int_equal(pic8259_ack(c->pic), 0x25);
	/* 3 is below 5 now: it waits. */
	assert_false(pic8259_intr(c->pic));
	out(c, M_CMD, EOI);
	assert_int_equal(pic8259_ack(c->pic), 0x23);
	out(c, M_CMD, EOI);
	/* Rotate on non-specific EOI: the one ended becomes the lowest. */
	out(c, M_CMD, 0xc7);
	pulse(c, 0);
	assert_int_equal(pic8259_ack(c->pic), 0x20);
	out(c, M_CMD, 0xa0);
	pulse(c, 0);
	pulse(c, 1);
	assert_int_equal(pic8259_ack(c->pic), 0x21);
	/* 0 is the lowest: it waits behind 1. */
	assert_false(pic8259_intr(c->pic));
	/* Rotate on specific EOI of 1: 2 the highest, 0 now above 1. */
	out(c, M_CMD, 0xe1);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x00);
	assert_int_equal(pic8259_ack(c->pic), 0x20);
	/* No-op OCW2 changes nothing. */
	out(c, M_CMD, 0x40);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x01);
}

static void test_eoi_kinds(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	pulse(c, 6);
	assert_int_equal(pic8259_ack(c->pic), 0x26);
	pulse(c, 4);
	assert_int_equal(pic8259_ack(c->pic), 0x24);
	/* A specific EOI ends the one it names, even below another in service. */
	out(c, M_CMD, 0x66);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x10);
	/* A specific EOI of one not in service does nothing. */
	out(c, M_CMD, 0x63);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x10);
	out(c, M_CMD, EOI);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x00);
	/* A non-specific EOI with nothing in service is harmless. */
	out(c, M_CMD, EOI);
	assert_int_equal(counter(c, "eois"), 4);
}

static void test_cascade(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	pulse(c, 10);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(reg(c, M_CMD, READ_IRR), 0x04);
	assert_int_equal(reg(c, S_CMD, READ_IRR), 0x04);
	assert_int_equal(pic8259_ack(c->pic), 0x2a);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x04);
	assert_int_equal(reg(c, S_CMD, READ_ISR), 0x04);
	/* A master line below IR2 waits for the cascade's EOI. */
	pulse(c, 3);
	assert_false(pic8259_intr(c->pic));
	/* A second slave request is not lost: it waits for the slave's EOI. */
	pulse(c, 12);
	assert_false(pic8259_intr(c->pic));
	out(c, S_CMD, EOI);
	out(c, M_CMD, EOI);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x2c);
	out(c, S_CMD, EOI);
	out(c, M_CMD, EOI);
	assert_int_equal(pic8259_ack(c->pic), 0x23);
	out(c, M_CMD, EOI);
	assert_false(pic8259_intr(c->pic));
	/* The slave's lines: masks of its own. */
	out(c, S_DATA, 0x01);
	pulse(c, 8);
	assert_false(pic8259_intr(c->pic));
	out(c, S_DATA, 0x00);
	assert_int_equal(pic8259_ack(c->pic), 0x28);
	/* Nobody but the slave drives IR2. */
	out(c, S_CMD, EOI);
	out(c, M_CMD, EOI);
	pulse(c, 2);
	assert_false(pic8259_intr(c->pic));
}

static void test_special_fully_nested(void **state)
{
	struct ctx *c = *state;

	/* The master in special fully nested mode: a higher slave request passes IR2 in service. */
	init_chip(c, M_CMD, 0x20, 0x04, 0x11);
	init_chip(c, S_CMD, 0x28, 0x02, 0x01);
	pulse(c, 12);
	assert_int_equal(pic8259_ack(c->pic), 0x2c);
	pulse(c, 9);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x29);
	assert_int_equal(reg(c, S_CMD, READ_ISR), 0x12);

	/* Without it, the same request waits. */
	init_pc(c, 0x01);
	pulse(c, 12);
	assert_int_equal(pic8259_ack(c->pic), 0x2c);
	pulse(c, 9);
	assert_false(pic8259_intr(c->pic));
}

static void test_special_mask(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	pulse(c, 1);
	assert_int_equal(pic8259_ack(c->pic), 0x21);
	/* Special mask mode, IRQ 1 masked: lower priorities may come while it is in service. */
	out(c, M_CMD, 0x68);
	out(c, M_DATA, 0x02);
	pulse(c, 5);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x25);
	out(c, M_CMD, 0x65);
	/* Reset special mask: IRQ 1 in service blocks 5 again. */
	out(c, M_CMD, 0x48);
	pulse(c, 5);
	assert_false(pic8259_intr(c->pic));
}

static void test_level_and_edge(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	/* IRQ 0, 1, 2, 8 and 13 are edge only. */
	out(c, ELCR1, 0xff);
	out(c, ELCR2, 0xff);
	assert_int_equal(in(c, ELCR1), 0xf8);
	assert_int_equal(in(c, ELCR2), 0xde);
	assert_int_equal(fake_pio_read(c->fm, ELCR1, 2), 0xdef8);
	out(c, ELCR1, 0x00);
	out(c, ELCR2, 0x0c);

	/* Level (IRQ 11): pending while high, again after the EOI. */
	pic8259_set_irq(c->pic, 11, 1);
	assert_int_equal(pic8259_ack(c->pic), 0x2b);
	out(c, S_CMD, EOI);
	out(c, M_CMD, EOI);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x2b);
	pic8259_set_irq(c->pic, 11, 0);
	out(c, S_CMD, EOI);
	out(c, M_CMD, EOI);
	assert_false(pic8259_intr(c->pic));

	/* Edge (IRQ 9): one interrupt per rising edge, however long the line stays high. */
	pic8259_set_irq(c->pic, 9, 1);
	assert_int_equal(pic8259_ack(c->pic), 0x29);
	out(c, S_CMD, EOI);
	out(c, M_CMD, EOI);
	assert_false(pic8259_intr(c->pic));
	pic8259_set_irq(c->pic, 9, 1);
	assert_false(pic8259_intr(c->pic));
	pic8259_set_irq(c->pic, 9, 0);
	/* An edge latched and the line gone: still requested. */
	pulse(c, 9);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x29);
	out(c, S_CMD, EOI);
	out(c, M_CMD, EOI);

	/* A high line turned level by the ELCR is pending. */
	pic8259_set_irq(c->pic, 5, 1);
	assert_int_equal(pic8259_ack(c->pic), 0x25);
	out(c, M_CMD, EOI);
	assert_false(pic8259_intr(c->pic));
	out(c, ELCR1, 0x20);
	assert_true(pic8259_intr(c->pic));
	pic8259_set_irq(c->pic, 5, 0);
	assert_false(pic8259_intr(c->pic));

	/* ICW1's LTIM: every input level-sensitive. */
	out(c, M_CMD, 0x19);
	out(c, M_DATA, 0x20);
	out(c, M_DATA, 0x04);
	out(c, M_DATA, 0x01);
	pic8259_set_irq(c->pic, 3, 1);
	assert_int_equal(pic8259_ack(c->pic), 0x23);
	out(c, M_CMD, EOI);
	assert_true(pic8259_intr(c->pic));
	pic8259_set_irq(c->pic, 3, 0);
	assert_false(pic8259_intr(c->pic));
}

static void test_poll(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	/* Nothing requested: bit 7 clear. */
	out(c, M_CMD, POLL);
	assert_int_equal(in(c, M_CMD), 0x00);
	/* The poll ends with the read: the next read is a register again. */
	pulse(c, 4);
	assert_int_equal(in(c, M_CMD), 0x10);
	out(c, M_CMD, POLL);
	/* The poll is an INTA: the request goes into service. */
	assert_int_equal(in(c, M_DATA), 0x84);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x10);
	assert_false(pic8259_intr(c->pic));
	out(c, M_CMD, EOI);
	/* Polling the slave ends its request on the cascade too. */
	pulse(c, 14);
	out(c, S_CMD, POLL);
	assert_int_equal(in(c, S_CMD), 0x86);
	assert_int_equal(reg(c, S_CMD, READ_ISR), 0x40);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x00);
	/* A masked request is not polled. */
	out(c, S_CMD, EOI);
	out(c, M_DATA, 0x01);
	pulse(c, 0);
	out(c, M_CMD, POLL);
	assert_int_equal(in(c, M_CMD), 0x00);
}

static void test_auto_eoi(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x03);
	pulse(c, 3);
	assert_int_equal(pic8259_ack(c->pic), 0x23);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x00);
	/* Nothing in service: a lower request comes at once. */
	pulse(c, 6);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x26);
	/* Through the cascade: neither chip keeps it in service. */
	pulse(c, 10);
	assert_int_equal(pic8259_ack(c->pic), 0x2a);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x00);
	assert_int_equal(reg(c, S_CMD, READ_ISR), 0x00);
	/* Two slave requests: the second follows the first with no EOI. */
	pulse(c, 9);
	pulse(c, 11);
	assert_int_equal(pic8259_ack(c->pic), 0x29);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x2b);
	/* Rotate in auto-EOI: the one acknowledged becomes the lowest. */
	out(c, M_CMD, 0x80);
	pulse(c, 1);
	assert_int_equal(pic8259_ack(c->pic), 0x21);
	pulse(c, 0);
	pulse(c, 1);
	assert_int_equal(pic8259_ack(c->pic), 0x20);
	assert_int_equal(pic8259_ack(c->pic), 0x21);
	/* Rotation off: the priorities stay where the last one left them (1 the lowest): 3 above 0. */
	out(c, M_CMD, 0x00);
	pulse(c, 0);
	pulse(c, 3);
	assert_int_equal(pic8259_ack(c->pic), 0x23);
	assert_int_equal(counter(c, "eois"), 0);
}

static void test_spurious(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	out(c, ELCR1, 0x20);
	out(c, ELCR2, 0x08);
	/* A level request gone before the INTA: the master's IR7, not in service. */
	pic8259_set_irq(c->pic, 5, 1);
	assert_true(pic8259_intr(c->pic));
	pic8259_set_irq(c->pic, 5, 0);
	assert_false(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x27);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x00);
	assert_int_equal(counter(c, "spurious_irq7"), 1);
	/* The same through the slave: the cascade latched, the slave answers with its IR7. */
	pic8259_set_irq(c->pic, 11, 1);
	pic8259_set_irq(c->pic, 11, 0);
	assert_true(pic8259_intr(c->pic));
	assert_int_equal(pic8259_ack(c->pic), 0x2f);
	assert_int_equal(reg(c, S_CMD, READ_ISR), 0x00);
	/* The master's IR2 went into service: the handler's EOI to the master ends it. */
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x04);
	out(c, M_CMD, EOI);
	assert_int_equal(counter(c, "spurious_irq15"), 1);
	assert_int_equal(counter(c, "acks"), 0);
}

static void test_intr_rises(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	c->rises = 0;
	/* Told once per rise, not per request. */
	pulse(c, 4);
	pulse(c, 3);
	assert_int_equal(c->rises, 1);
	assert_int_equal(pic8259_ack(c->pic), 0x23);
	/* A guest's EOI lets the waiting one through: INTR rises from a port write. */
	out(c, M_CMD, EOI);
	assert_int_equal(c->rises, 2);
	assert_int_equal(pic8259_ack(c->pic), 0x24);
	out(c, M_CMD, EOI);
	/* Unmasking a latched request rises it too. */
	out(c, M_DATA, 0x01);
	pulse(c, 0);
	assert_int_equal(c->rises, 2);
	out(c, M_DATA, 0x00);
	assert_int_equal(c->rises, 3);
}

static void test_lines_out_of_range(void **state)
{
	struct ctx *c = *state;

	init_pc(c, 0x01);
	pic8259_set_irq(c->pic, 16, 1);
	pic8259_set_irq(c->pic, 23, 1);
	pic8259_set_irq(c->pic, ~0u, 1);
	assert_false(pic8259_intr(c->pic));
	assert_int_equal(reg(c, M_CMD, READ_IRR), 0x00);
	assert_int_equal(reg(c, S_CMD, READ_IRR), 0x00);
}

static void test_hostile(void **state)
{
	struct ctx *c = *state;
	static const uint16_t ports[] = { M_CMD, M_DATA, S_CMD, S_DATA, ELCR1, ELCR2 };
	static const unsigned widths[] = { 1, 2, 4 };

	/* Every width on every port, reads and writes: the ISA bus splits them, nothing breaks. */
	for (unsigned i = 0; i < 6; i++) {
		for (unsigned w = 0; w < 3; w++) {
			fake_pio_read(c->fm, ports[i], widths[w]);
			fake_pio_write(c->fm, ports[i], widths[w], 0xffffffff);
			fake_pio_write(c->fm, ports[i], widths[w], 0x0c0c0c0c);
			fake_pio_read(c->fm, ports[i], widths[w]);
		}
	}
	/* A word write to the command port: ICW1 then ICW2 on the data port. */
	fake_pio_write(c->fm, M_CMD, 2, 0x3011);
	out(c, M_DATA, 0x04);
	out(c, M_DATA, 0x01);
	out(c, M_DATA, 0x00);
	init_chip(c, S_CMD, 0x28, 0x02, 0x01);
	out(c, S_DATA, 0x00);
	pulse(c, 0);
	assert_int_equal(pic8259_ack(c->pic), 0x30);
	out(c, M_CMD, EOI);

	/* An ICW sequence interrupted by a new ICW1: it starts again. */
	out(c, M_CMD, 0x11);
	out(c, M_DATA, 0x50);
	out(c, M_CMD, 0x11);
	out(c, M_DATA, 0x60);
	out(c, M_DATA, 0x04);
	out(c, M_DATA, 0x01);
	out(c, M_DATA, 0xfe);
	assert_int_equal(in(c, M_DATA), 0xfe);
	pulse(c, 0);
	assert_int_equal(pic8259_ack(c->pic), 0x60);
	out(c, M_CMD, EOI);
	/* Interrupted by an OCW: the OCW acts, the sequence goes on where it was. */
	out(c, M_CMD, 0x11);
	out(c, M_DATA, 0x70);
	out(c, M_CMD, READ_ISR);
	out(c, M_DATA, 0x04);
	out(c, M_DATA, 0x01);
	out(c, M_DATA, 0xfe);
	assert_int_equal(in(c, M_DATA), 0xfe);
	pulse(c, 0);
	assert_int_equal(pic8259_ack(c->pic), 0x70);
	assert_int_equal(in(c, M_CMD), 0x01);
	/* A sequence left unfinished: the chip still answers and a later ICW1 recovers it. */
	out(c, S_CMD, 0x11);
	pulse(c, 9);
	pic8259_ack(c->pic);
	pic8259_ack(c->pic);
	init_pc(c, 0x01);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x00);
	/* Acknowledges with nothing requested, many times: spurious, nothing in service. */
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(pic8259_ack(c->pic), 0x27);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x00);
	/* Every OCW2 and OCW3 value, with lines moving: the state stays sane. */
	for (unsigned v = 0; v < 256; v++) {
		if (v & 0x10)
			continue;
		pulse(c, v % 16);
		out(c, v & 1 ? S_CMD : M_CMD, v);
		in(c, M_CMD);
		in(c, S_DATA);
		if (pic8259_intr(c->pic))
			pic8259_ack(c->pic);
	}
	init_pc(c, 0x01);
	out(c, M_CMD, 0x48);
	out(c, S_CMD, 0x48);
	pulse(c, 7);
	assert_int_equal(pic8259_ack(c->pic), 0x27);
	assert_int_equal(reg(c, M_CMD, READ_ISR), 0x80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_masks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priorities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eoi_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cascade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_fully_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_and_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_eoi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spurious, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intr_rises, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
