// SPDX-License-Identifier: GPL-2.0-only
/*
 * The userspace 8254 PIT of `irqchip split`, on a clock the test moves:
 * control words and access modes, the counter latch and read-back
 * commands, counting in modes 0-5 (OUT, reloads, a mode 2 count that waits
 * for the period's end), BCD, channel 2's gate and OUT through port B, IRQ 0
 * edges from the I/O thread's timer (periodic, one-shot, the 200 us clamp
 * and its lost ticks), and hostile accesses of every width.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_machine.h"
#include "qlite/devices.h"

#define CH0	0x40
#define CH1	0x41
#define CH2	0x42
#define MODE	0x43
#define PORTB	0x61

/* The test's clock: nanoseconds, moved by hand. */
static int64_t fake_ns;

static int64_t fake_clock(void *opaque)
{
	return fake_ns;
}

/* Move the clock to the first ns of tick t (tick 0 is the device's creation). */
static void at_tick(int64_t t)
{
	fake_ns = (int64_t)(((__int128)t * 1000000000 + PIT_HZ - 1) / PIT_HZ);
}

static int setup(void **state)
{
	struct fake_machine *fm = fake_machine_create();

	fake_ns = 0;
	assert_int_equal(pit8254_create_clocked(&fm->m, fake_clock, NULL), 0);
	*state = fm;
	return 0;
}

static int teardown(void **state)
{
	fake_machine_destroy(*state);
	return 0;
}

static uint8_t inb(struct fake_machine *fm, uint16_t port)
{
	return fake_pio_read(fm, port, 1);
}

static void outb(struct fake_machine *fm, uint16_t port, uint8_t v)
{
	fake_pio_write(fm, port, 1, v);
}

/* Control word: channel ch, lobyte/hibyte, mode, binary; then the count. */
static void program(struct fake_machine *fm, unsigned ch, unsigned mode, uint16_t count)
{
	outb(fm, MODE, ch << 6 | 3 << 4 | mode << 1);
	outb(fm, CH0 + ch, count & 0xff);
	outb(fm, CH0 + ch, count >> 8);
}

/* Low then high byte, in that order. */
static uint16_t read16(struct fake_machine *fm, uint16_t port)
{
	uint8_t lo = inb(fm, port);

	return lo | inb(fm, port) << 8;
}

/* Counter latch, then low and high byte. */
static uint16_t latched(struct fake_machine *fm, unsigned ch)
{
	outb(fm, MODE, ch << 6);
	return read16(fm, CH0 + ch);
}

/* Read-back of one channel's status alone. */
static uint8_t status(struct fake_machine *fm, unsigned ch)
{
	outb(fm, MODE, 0xc0 | 0x20 | 2u << ch);
	return inb(fm, CH0 + ch);
}

static bool out(struct fake_machine *fm, unsigned ch)
{
	return status(fm, ch) & 0x80;
}

static uint64_t report_counter(struct fake_machine *fm, const char *name)
{
	for (unsigned i = 0; i < fm->m.nr_reports; i++) {
		struct device_report r = { 0 };

		if (strcmp(fm->m.reports[i].name, "pit"))
			continue;
		fm->m.reports[i].fn(fm->m.reports[i].opaque, &r);
		for (unsigned j = 0; j < r.n; j++)
			if (!strcmp(r.c[j].name, name))
				return r.c[j].value;
	}
	fail_msg("no pit counter %s", name);
	return 0;
}

static void test_claims(void **state)
{
	struct fake_machine *fm = *state;
	const struct bus_region *r = bus_lookup(fm->m.bus[BUS_PIO], MODE, 1);
	const struct bus_region *b = bus_lookup(fm->m.bus[BUS_PIO], PORTB, 1);
	bool irq0 = false;

	assert_non_null(r);
	assert_string_equal(r->name, "pit");
	assert_int_equal(r->base, 0x40);
	assert_int_equal(r->len, 4);
	assert_string_equal(r->ops->reg_name(r->opaque, 0), "CH0");
	assert_string_equal(r->ops->reg_name(r->opaque, 2), "CH2");
	assert_string_equal(r->ops->reg_name(r->opaque, 3), "MODE");
	assert_non_null(b);
	assert_string_equal(b->name, "pit-port61");
	assert_string_equal(b->ops->reg_name(b->opaque, 0), "PORT61");
	for (unsigned i = 0; i < fm->m.nr_irqs; i++)
		irq0 |= fm->m.irqs[i].gsi == 0 && !strcmp(fm->m.irqs[i].owner, "pit");
	assert_true(irq0);
	/* Unprogrammed, nothing counts and nothing is raised. */
	at_tick(100000);
	assert_int_equal(fake_run_io(fm, 1, 30), 0);
	assert_int_equal(fm->nr_irq_calls, 0);
}

static void test_access_modes(void **state)
{
	struct fake_machine *fm = *state;

	/* Low byte only: the high byte is 0; one read per value. */
	outb(fm, MODE, 0x00 | 1 << 4 | 0 << 1);
	outb(fm, CH0, 0x34);
	assert_int_equal(inb(fm, CH0), 0x34);
	assert_int_equal(inb(fm, CH0), 0x34);
	at_tick(4);
	assert_int_equal(inb(fm, CH0), 0x30);
	/* High byte only: the low byte is 0. */
	outb(fm, MODE, 0x40 | 2 << 4 | 0 << 1);
	outb(fm, CH1, 0x12);
	assert_int_equal(inb(fm, CH1), 0x12);
	at_tick(5);
	assert_int_equal(inb(fm, CH1), 0x11);	/* 0x1200 - 1 = 0x11ff */
	/* Low then high, read in the same order; the flip-flop alternates. */
	outb(fm, MODE, 0x80 | 3 << 4 | 0 << 1);
	outb(fm, CH2, 0x78);
	outb(fm, CH2, 0x56);
	assert_int_equal(inb(fm, CH2), 0x78);	/* gate 2 is low: held */
	assert_int_equal(inb(fm, CH2), 0x56);
	assert_int_equal(inb(fm, CH2), 0x78);
	/* A control word resets the flip-flop: the next read is a low byte again. */
	outb(fm, MODE, 0x80 | 3 << 4 | 0 << 1);
	outb(fm, CH2, 0x01);
	outb(fm, CH2, 0x02);
	assert_int_equal(latched(fm, 2), 0x0201);
	/* The control port reads nothing. */
	assert_int_equal(inb(fm, MODE), 0xff);
}

static void test_latch(void **state)
{
	struct fake_machine *fm = *state;

	program(fm, 0, 2, 1000);
	at_tick(100);
	outb(fm, MODE, 0x00);		/* latch channel 0 */
	at_tick(300);
	outb(fm, MODE, 0x00);		/* ignored: the first latch is unread */
	assert_int_equal(read16(fm, CH0), 900);
	/* Read, the latch is released: the count is live again. */
	assert_int_equal(latched(fm, 0), 700);
	/* Half a latched value read, then a live read finishes it. */
	outb(fm, MODE, 0x00);
	assert_int_equal(inb(fm, CH0), 700 & 0xff);
	at_tick(400);
	assert_int_equal(inb(fm, CH0), 700 >> 8);
	assert_int_equal(read16(fm, CH0), 600);
}

static void test_readback(void **state)
{
	struct fake_machine *fm = *state;
	uint8_t st;

	/* After a control word and before a count: null count; mode 0's OUT is low. */
	outb(fm, MODE, 0x00 | 3 << 4 | 0 << 1);
	assert_int_equal(status(fm, 0), 0x40 | 0x30 | 0x00);
	outb(fm, CH0, 50);
	outb(fm, CH0, 0);
	assert_int_equal(status(fm, 0), 0x30);	/* loaded: no null count, OUT still low */
	at_tick(50);
	assert_int_equal(status(fm, 0), 0x80 | 0x30);
	/* Status and count together: status first, then the count's bytes. */
	program(fm, 1, 2, 0x1234);
	at_tick(50 + 0x34);
	outb(fm, MODE, 0xc0 | 4);		/* count and status of channel 1 */
	st = inb(fm, CH1);
	assert_int_equal(st, 0x80 | 0x30 | 2 << 1);
	assert_int_equal(inb(fm, CH1), 0x00);
	assert_int_equal(inb(fm, CH1), 0x12);
	/* Mode 6 reads back as written (a rate generator all the same), BCD too. */
	outb(fm, MODE, 0x80 | 3 << 4 | 6 << 1 | 1);
	assert_int_equal(status(fm, 2), 0x80 | 0x40 | 0x30 | 6 << 1 | 1);
	/* Read-back of all three counts at once, each read in turn. */
	program(fm, 0, 2, 1000);
	program(fm, 1, 2, 2000);
	at_tick(50 + 0x34 + 10);
	outb(fm, MODE, 0xc0 | 0x10 | 0x0e);
	at_tick(50 + 0x34 + 500);
	assert_int_equal(read16(fm, CH0), 990);
	assert_int_equal(read16(fm, CH1), 1990);
}

static void test_mode0(void **state)
{
	struct fake_machine *fm = *state;

	program(fm, 0, 0, 1000);
	assert_false(out(fm, 0));
	at_tick(999);
	assert_false(out(fm, 0));
	assert_int_equal(latched(fm, 0), 1);
	at_tick(1000);
	assert_true(out(fm, 0));
	assert_int_equal(latched(fm, 0), 0);
	/* It counts on past the terminal count, wrapping around; OUT stays high. */
	at_tick(1001);
	assert_int_equal(latched(fm, 0), 0xffff);
	assert_true(out(fm, 0));
	/* The first byte of a new count stops counting and sets OUT low... */
	outb(fm, CH0, 100);
	assert_false(out(fm, 0));
	at_tick(2000);
	assert_int_equal(latched(fm, 0), 0xffff);
	/* ...the second starts the new count. */
	outb(fm, CH0, 0);
	at_tick(2099);
	assert_false(out(fm, 0));
	at_tick(2100);
	assert_true(out(fm, 0));
}

static void test_mode2(void **state)
{
	struct fake_machine *fm = *state;

	program(fm, 0, 2, 100);
	assert_int_equal(latched(fm, 0), 100);
	assert_true(out(fm, 0));
	at_tick(98);
	assert_int_equal(latched(fm, 0), 2);
	assert_true(out(fm, 0));
	at_tick(99);
	assert_int_equal(latched(fm, 0), 1);
	assert_false(out(fm, 0));	/* low for the one tick at count 1 */
	at_tick(100);
	assert_int_equal(latched(fm, 0), 100);
	assert_true(out(fm, 0));
	at_tick(100 * 5 + 30);
	assert_int_equal(latched(fm, 0), 70);
	/* A new count waits for the end of the period: null count until then. */
	outb(fm, CH0, 10);
	outb(fm, CH0, 0);
	assert_true(status(fm, 0) & 0x40);
	at_tick(599);
	assert_int_equal(latched(fm, 0), 1);
	at_tick(600);
	assert_int_equal(latched(fm, 0), 10);
	assert_false(status(fm, 0) & 0x40);
	at_tick(615);
	assert_int_equal(latched(fm, 0), 5);
	/* 0 is 65536, which reads as 0 at the reload. */
	program(fm, 0, 2, 0);
	assert_int_equal(latched(fm, 0), 0);
	at_tick(615 + 65535);
	assert_int_equal(latched(fm, 0), 1);
}

static void test_mode3(void **state)
{
	struct fake_machine *fm = *state;

	/* Even: high for 5 ticks, low for 5, counting down by two. */
	program(fm, 0, 3, 10);
	assert_true(out(fm, 0));
	assert_int_equal(latched(fm, 0), 10);
	at_tick(4);
	assert_true(out(fm, 0));
	assert_int_equal(latched(fm, 0), 2);
	at_tick(5);
	assert_false(out(fm, 0));
	assert_int_equal(latched(fm, 0), 10);
	at_tick(9);
	assert_false(out(fm, 0));
	at_tick(10);
	assert_true(out(fm, 0));
	/* Odd: high for (N + 1) / 2, low for (N - 1) / 2. */
	program(fm, 0, 3, 7);
	at_tick(13);
	assert_true(out(fm, 0));
	at_tick(14);
	assert_false(out(fm, 0));
	at_tick(16);
	assert_false(out(fm, 0));
	at_tick(17);
	assert_true(out(fm, 0));
	/* Mode 7 is mode 3. */
	outb(fm, MODE, 0x00 | 3 << 4 | 7 << 1);
	outb(fm, CH0, 4);
	outb(fm, CH0, 0);
	at_tick(19);
	assert_false(out(fm, 0));
}

static void test_mode4_and_bcd(void **state)
{
	struct fake_machine *fm = *state;

	program(fm, 0, 4, 20);
	at_tick(19);
	assert_true(out(fm, 0));
	at_tick(20);
	assert_false(out(fm, 0));	/* the strobe */
	at_tick(21);
	assert_true(out(fm, 0));
	/* Mode 4 restarts on a new count without a control word. */
	outb(fm, CH0, 5);
	outb(fm, CH0, 0);
	at_tick(26);
	assert_false(out(fm, 0));

	/* BCD: 0x0100 is a hundred ticks, read back in decimal. */
	outb(fm, MODE, 0x00 | 3 << 4 | 0 << 1 | 1);
	outb(fm, CH0, 0x00);
	outb(fm, CH0, 0x01);
	at_tick(27);
	assert_int_equal(latched(fm, 0), 0x0099);
	at_tick(126);
	assert_int_equal(latched(fm, 0), 0x0000);
	assert_true(out(fm, 0));
	at_tick(127);
	assert_int_equal(latched(fm, 0), 0x9999);	/* wraps at 10000 */
	/* Not BCD digits: counted for their values, modulo 10000, and still BCD out. */
	outb(fm, MODE, 0x00 | 3 << 4 | 2 << 1 | 1);
	outb(fm, CH0, 0xff);
	outb(fm, CH0, 0xff);
	for (int i = 0; i < 40; i++) {
		uint16_t v;

		at_tick(127 + i * 997);
		v = latched(fm, 0);
		for (int d = 0; d < 4; d++)
			assert_true(((v >> (4 * d)) & 0xf) <= 9);
	}
}

static void test_channel2_gate(void **state)
{
	struct fake_machine *fm = *state;
	uint8_t b;

	/* Port B keeps bits 0-3; OUT 2 is bit 5; bits 6 and 7 read 0. */
	outb(fm, PORTB, 0xfc);
	b = inb(fm, PORTB);
	assert_int_equal(b & 0xcf, 0x0c);
	/* Mode 0 with the gate low loads the count and holds it. */
	program(fm, 2, 0, 1000);
	at_tick(500);
	assert_int_equal(latched(fm, 2), 1000);
	assert_false(inb(fm, PORTB) & 0x20);
	/* Gate high (as a calibrating guest sets it, speaker off): it counts. */
	outb(fm, PORTB, 0x01);
	at_tick(1499);
	assert_false(inb(fm, PORTB) & 0x20);
	at_tick(1000);	/* the clock never runs backwards */
	assert_int_equal(latched(fm, 2), 1);
	/* Gate low again: held at 1; high: goes on from there. */
	outb(fm, PORTB, 0x00);
	at_tick(3000);
	assert_int_equal(latched(fm, 2), 1);
	assert_false(inb(fm, PORTB) & 0x20);
	outb(fm, PORTB, 0x01);
	at_tick(3001);
	assert_true(inb(fm, PORTB) & 0x20);

	/* Mode 1: armed by the count (OUT high), started by the gate's rising edge. */
	outb(fm, PORTB, 0x00);
	program(fm, 2, 1, 100);
	at_tick(3500);
	assert_true(inb(fm, PORTB) & 0x20);
	outb(fm, PORTB, 0x01);
	assert_false(inb(fm, PORTB) & 0x20);
	at_tick(3599);
	assert_false(inb(fm, PORTB) & 0x20);
	/* Gate low has no effect on a one-shot; a new rising edge retriggers it. */
	outb(fm, PORTB, 0x00);
	outb(fm, PORTB, 0x01);
	at_tick(3600);
	assert_false(inb(fm, PORTB) & 0x20);
	at_tick(3699);
	assert_true(inb(fm, PORTB) & 0x20);

	/* Mode 2: gate low forces OUT high and stops; high reloads from the count. */
	program(fm, 2, 2, 50);
	at_tick(3748);
	assert_false(inb(fm, PORTB) & 0x20);	/* count 1 */
	outb(fm, PORTB, 0x00);
	assert_true(inb(fm, PORTB) & 0x20);
	at_tick(4000);
	assert_int_equal(latched(fm, 2), 1);
	outb(fm, PORTB, 0x01);
	assert_int_equal(latched(fm, 2), 50);
	at_tick(4010);
	assert_int_equal(latched(fm, 2), 40);

	/* Mode 5 waits for the gate's edge, strobes after the count. */
	outb(fm, PORTB, 0x00);
	program(fm, 2, 5, 10);
	outb(fm, PORTB, 0x01);
	at_tick(4020);
	assert_false(inb(fm, PORTB) & 0x20);
	at_tick(4021);
	assert_true(inb(fm, PORTB) & 0x20);
}

/* The guest's calibration: channel 2 mode 0 for 10 ms, port B polled for OUT. */
static void test_calibration_pattern(void **state)
{
	struct fake_machine *fm = *state;
	const unsigned latch = (PIT_HZ * 10 + 500) / 1000;
	uint8_t b = inb(fm, PORTB);
	int64_t t = 0;
	unsigned polls = 0;

	outb(fm, PORTB, (b & ~0x02) | 0x01);
	outb(fm, MODE, 0xb0);
	outb(fm, CH2, latch & 0xff);
	outb(fm, CH2, latch >> 8);
	while (!(inb(fm, PORTB) & 0x20)) {
		t += 37;
		at_tick(t);
		polls++;
		assert_true(polls < 1000);
	}
	/* OUT rose within one poll of the latch running out. */
	assert_true(t >= latch && t < latch + 37);
}

static void test_refresh_toggle(void **state)
{
	struct fake_machine *fm = *state;
	bool seen[2] = { false, false };

	for (int t = 0; t < 200; t += 5) {
		at_tick(t);
		seen[!!(inb(fm, PORTB) & 0x10)] = true;
	}
	assert_true(seen[0] && seen[1]);
}

/* Wait for the timer's next callback (it fires on real time; the clock is the test's). */
static void run_timer(struct fake_machine *fm)
{
	assert_int_equal(fake_run_io(fm, 1, 2000), 1);
}

static void test_irq0_periodic(void **state)
{
	struct fake_machine *fm = *state;
	const unsigned count = 11932;	/* 10 ms */

	program(fm, 0, 2, count);
	assert_int_equal(report_counter(fm, "reprograms"), 1);
	at_tick(count);
	run_timer(fm);
	assert_int_equal(fm->nr_irq_calls, 2);
	assert_int_equal(fm->irq_calls[0].gsi, 0);
	assert_int_equal(fm->irq_calls[0].level, 1);
	assert_int_equal(fm->irq_calls[1].gsi, 0);
	assert_int_equal(fm->irq_calls[1].level, 0);
	/* A late I/O thread: three periods passed, one edge, two lost. */
	at_tick(4 * count);
	run_timer(fm);
	assert_int_equal(fm->nr_irq_calls, 4);
	assert_int_equal(report_counter(fm, "irq0_ticks"), 2);
	assert_int_equal(report_counter(fm, "lost_ticks"), 2);
	/* In time: an edge a period, nothing lost. */
	for (unsigned k = 5; k < 8; k++) {
		at_tick(k * count);
		run_timer(fm);
	}
	assert_int_equal(fm->nr_irq_calls, 10);
	assert_int_equal(report_counter(fm, "irq0_ticks"), 5);
	assert_int_equal(report_counter(fm, "lost_ticks"), 2);
	/* Mode 3 ticks the same, on OUT's rising edge. */
	program(fm, 0, 3, count);
	at_tick(9 * count);
	run_timer(fm);
	assert_int_equal(report_counter(fm, "irq0_ticks"), 6);
	/* A control word without a count stops the ticks. */
	outb(fm, MODE, 0x34);
	at_tick(20 * count);
	assert_int_equal(fake_run_io(fm, 1, 50), 0);
	assert_int_equal(report_counter(fm, "irq0_ticks"), 6);
}

static void test_irq0_oneshot(void **state)
{
	struct fake_machine *fm = *state;

	program(fm, 0, 0, 1193);	/* 1 ms */
	at_tick(1193);
	run_timer(fm);
	assert_int_equal(fm->nr_irq_calls, 2);
	at_tick(1193 * 100);
	assert_int_equal(fake_run_io(fm, 1, 50), 0);
	assert_int_equal(fm->nr_irq_calls, 2);
	/* Mode 4, as Linux's one-shot clockevent programs it: once per count. */
	outb(fm, MODE, 0x38);
	outb(fm, CH0, 100);
	outb(fm, CH0, 0);
	at_tick(1193 * 100 + 100);
	run_timer(fm);
	assert_int_equal(fm->nr_irq_calls, 4);
	outb(fm, CH0, 50);
	outb(fm, CH0, 0);
	/* 50 ticks is less than the 200 us between edges: it comes at the clamp. */
	at_tick(1193 * 100 + 150);
	fake_run_io(fm, 5, 5);
	assert_int_equal(fm->nr_irq_calls, 4);
	at_tick(1193 * 100 + 100 + 300);
	run_timer(fm);
	assert_int_equal(fm->nr_irq_calls, 6);
	assert_int_equal(report_counter(fm, "lost_ticks"), 0);
	assert_int_equal(report_counter(fm, "reprograms"), 3);
}

static void test_irq0_clamped(void **state)
{
	struct fake_machine *fm = *state;
	const int64_t t1 = 1193;	/* ~1 ms */

	/* Count 2: a period of 1.7 us, far below the 200 us clamp. */
	program(fm, 0, 2, 2);
	at_tick(t1);
	run_timer(fm);
	assert_int_equal(fm->nr_irq_calls, 2);
	assert_int_equal(report_counter(fm, "irq0_ticks"), 1);
	assert_int_equal(report_counter(fm, "lost_ticks"), t1 / 2 - 1);
	/* The next edge waits for the clamp, however many periods pass meanwhile. */
	at_tick(t1 + 100);		/* 84 us after the last edge: the timer may fire, raises nothing */
	fake_run_io(fm, 5, 5);
	assert_int_equal(fm->nr_irq_calls, 2);
	at_tick(t1 + 1193);
	run_timer(fm);
	assert_int_equal(fm->nr_irq_calls, 4);
	assert_int_equal(report_counter(fm, "lost_ticks"), (t1 + 1193) / 2 - 2);
	/* Count 1 is as absurd and as harmless. */
	program(fm, 0, 2, 1);
	at_tick(3 * t1);
	run_timer(fm);
	assert_int_equal(report_counter(fm, "irq0_ticks"), 3);
}

/* Every width at every port, every value of every control word, absurd counts. */
static void test_hostile(void **state)
{
	struct fake_machine *fm = *state;
	static const unsigned widths[] = { 1, 2, 4 };
	uint32_t seed = 12345;

	for (unsigned port = 0x3e; port <= 0x63; port++) {
		for (unsigned w = 0; w < 3; w++) {
			seed = seed * 1103515245 + 12345;
			fake_pio_write(fm, port, widths[w], seed);
			fake_pio_read(fm, port, widths[w]);
		}
	}
	for (unsigned cw = 0; cw < 256; cw++) {
		at_tick(cw * 1000);
		outb(fm, MODE, cw);
		for (unsigned i = 0; i < 3; i++) {
			seed = seed * 1103515245 + 12345;
			outb(fm, CH0 + (cw >> 6) % 3, seed >> 16);
			inb(fm, CH0 + (cw >> 6) % 3);
			outb(fm, PORTB, seed >> 8);
		}
		fake_pio_write(fm, CH0, 4, seed);
		fake_pio_read(fm, CH0, 4);
		inb(fm, PORTB);
	}
	/* Counts of 0, 1 and 0xffff in every mode, read at odd times. */
	for (unsigned mode = 0; mode < 8; mode++) {
		static const uint16_t counts[] = { 0, 1, 0xffff };

		for (unsigned i = 0; i < 3; i++) {
			program(fm, 0, mode, counts[i]);
			program(fm, 2, mode, counts[i]);
			outb(fm, PORTB, i & 1);
			at_tick(300000 + mode * 100000 + i * 33333);
			latched(fm, 0);
			latched(fm, 2);
			inb(fm, PORTB);
		}
	}
	/* Whatever it went through, it still counts. */
	at_tick(2000000);
	program(fm, 1, 2, 1000);
	assert_int_equal(latched(fm, 1), 1000);
	at_tick(2000010);
	assert_int_equal(latched(fm, 1), 990);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode4_and_bcd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel2_gate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calibration_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_toggle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq0_periodic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq0_oneshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq0_clamped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
