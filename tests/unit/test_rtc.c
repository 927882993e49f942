// SPDX-License-Identifier: GPL-2.0-only
/*
 * MC146818 RTC: formats, setting the time, registers A, C and D, CMOS RAM,
 * and its interrupt: GSI 8 rises on time for the alarm, update and periodic
 * events, stays up until register C is read, and each rise is a machine PM
 * event (what wakes the ACPI PM device from S3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>
#include <errno.h>

#include "fake_machine.h"
#include "qlite/devices.h"

static int setup(void **state)
{
	struct fake_machine *fm = fake_machine_create();

	assert_int_equal(rtc_create(&fm->m), 0);
	*state = fm;
	return 0;
}

static int teardown(void **state)
{
	fake_machine_destroy(*state);
	return 0;
}

static uint8_t cmos_read(struct fake_machine *fm, uint8_t reg)
{
	fake_pio_write(fm, 0x70, 1, reg);
	return fake_pio_read(fm, 0x71, 1);
}

static void cmos_write(struct fake_machine *fm, uint8_t reg, uint8_t v)
{
	fake_pio_write(fm, 0x70, 1, reg);
	fake_pio_write(fm, 0x71, 1, v);
}

static unsigned bcd(uint8_t v)
{
	assert_true((v & 0x0f) <= 9 && (v >> 4) <= 9);
	return (v >> 4) * 10 + (v & 0x0f);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Read a full date, retrying across a second boundary, as a guest does. */
static time_t read_time(struct fake_machine *fm, bool binary)
{
	for (;;) {
		uint8_t s = cmos_read(fm, 0x00);
		struct tm tm = { 0 };
		unsigned century;

#define DEC(v) (binary ? (v) : bcd(v))
		tm.tm_sec = DEC(s);
		tm.tm_min = DEC(cmos_read(fm, 0x02));
		tm.tm_hour = DEC(cmos_read(fm, 0x04));
		tm.tm_mday = DEC(cmos_read(fm, 0x07));
		tm.tm_mon = DEC(cmos_read(fm, 0x08)) - 1;
		tm.tm_year = DEC(cmos_read(fm, 0x09));
		century = DEC(cmos_read(fm, 0x32));
#undef DEC
		tm.tm_year += century * 100 - 1900;
		if (cmos_read(fm, 0x00) == s)
			return timegm(&tm);
	}
}

static void test_host_time_bcd_and_binary(void **state)
{
	struct fake_machine *fm = *state;
	time_t host = time(NULL), t;

	assert_int_equal(cmos_read(fm, 0x0b) & 0x06, 0x02);	/* BCD, 24 h */
	t = read_time(fm, false);
	assert_true(t >= host - 1 && t <= host + 2);

	cmos_write(fm, 0x0b, 0x06);				/* binary */
	t = read_time(fm, true);
	assert_true(t >= host - 1 && t <= host + 2);
	assert_true(cmos_read(fm, 0x09) <= 99);
	assert_int_equal(cmos_read(fm, 0x32), (gmtime(&host)->tm_year + 1900) / 100);
}

static void set_time(struct fake_machine *fm, uint8_t b, uint8_t hour)
{
	cmos_write(fm, 0x0b, b | 0x80);		/* SET: hold the clock */
	cmos_write(fm, 0x00, 0x56);
	cmos_write(fm, 0x02, 0x34);
	cmos_write(fm, 0x04, hour);
	cmos_write(fm, 0x07, 0x28);
	cmos_write(fm, 0x08, 0x02);
	cmos_write(fm, 0x09, 0x01);
	cmos_write(fm, 0x32, 0x20);
	/* Held: reads return what was written. */
	assert_int_equal(cmos_read(fm, 0x00), 0x56);
	cmos_write(fm, 0x0b, b);
}

static void test_set_time_runs_from_offset(void **state)
{
	struct fake_machine *fm = *state;
	struct tm want = { .tm_sec = 56, .tm_min = 34, .tm_hour = 23, .tm_mday = 28,
			   .tm_mon = 1, .tm_year = 101 };
	time_t t0 = timegm(&want), t;

	set_time(fm, 0x02, 0x23);			/* 2001-02-28 23:34:56 */
	t = read_time(fm, false);
	assert_true(t >= t0 && t <= t0 + 1);
	/* The host clock was left alone. */
	assert_true(time(NULL) > 1600000000);
	sleep_ms(4100);
	t = read_time(fm, false);
	/* 23:34:56 + 4 s rolls over the minute, still from the guest's epoch. */
	assert_true(t >= t0 + 4 && t <= t0 + 6);
	assert_int_equal(cmos_read(fm, 0x07), 0x28);
	assert_int_equal(cmos_read(fm, 0x06), 0x04);		/* a Wednesday */
}

static void test_12_hour_mode(void **state)
{
	struct fake_machine *fm = *state;

	/* 12-hour BCD: 11 PM is 0x91. */
	set_time(fm, 0x00, 0x91);
	assert_int_equal(cmos_read(fm, 0x04), 0x91);
	cmos_write(fm, 0x0b, 0x02);				/* back to 24 h */
	assert_int_equal(cmos_read(fm, 0x04), 0x23);
	/* Midnight hour is 12 AM. */
	set_time(fm, 0x02, 0x00);
	cmos_write(fm, 0x0b, 0x00);
	assert_int_equal(cmos_read(fm, 0x04), 0x12);
	/* 12 PM binary: 0x80 | 12. */
	set_time(fm, 0x02, 0x12);
	cmos_write(fm, 0x0b, 0x04);
	assert_int_equal(cmos_read(fm, 0x04), 0x8c);
}

static void test_status_registers(void **state)
{
	struct fake_machine *fm = *state;
	unsigned seen_uip = 0;

	assert_int_equal(cmos_read(fm, 0x0d), 0x80);		/* valid RAM and time */
	cmos_write(fm, 0x0d, 0x00);
	assert_int_equal(cmos_read(fm, 0x0d), 0x80);		/* read-only */
	assert_int_equal(cmos_read(fm, 0x0a) & 0x7f, 0x26);
	cmos_write(fm, 0x0a, 0xaf);				/* UIP is read-only */
	assert_int_equal(cmos_read(fm, 0x0a) & 0x7f, 0x2f);
	/* NMI mask bit in the index does not change which register is read. */
	assert_int_equal(cmos_read(fm, 0x8d), 0x80);

	/* UIP shows up in the last 244 us before each second: sleep up to it, then poll. */
	for (int tries = 0; tries < 3 && !seen_uip; tries++) {
		struct timespec now, until;

		clock_gettime(CLOCK_REALTIME, &now);
		until.tv_sec = now.tv_sec + (now.tv_nsec > 999000000 ? 1 : 0);
		until.tv_nsec = 999000000;
		clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL);
		do {
			seen_uip = cmos_read(fm, 0x0a) & 0x80;
			clock_gettime(CLOCK_REALTIME, &now);
		} while (!seen_uip && now.tv_sec == until.tv_sec);
	}
	/* Just after the boundary it is clear again. */
	sleep_ms(2);
	assert_int_equal(cmos_read(fm, 0x0a) & 0x80, 0);
	assert_true(seen_uip);
}

static void test_register_c_flags(void **state)
{
	struct fake_machine *fm = *state;
	uint8_t c;

	cmos_write(fm, 0x0a, 0x2f);			/* 2 Hz periodic */
	cmos_write(fm, 0x0b, 0x12);			/* UIE */
	cmos_read(fm, 0x0c);
	sleep_ms(1100);
	c = cmos_read(fm, 0x0c);
	/* A second passed: update ended (and IRQF, as UIE is on), periods elapsed. */
	assert_int_equal(c & 0xd0, 0xd0);
	/* Alarm registers default to "don't care": it rang every second. */
	assert_int_equal(c & 0x20, 0x20);
	/* Reading cleared them. */
	assert_int_equal(cmos_read(fm, 0x0c) & 0x30, 0);
	/* No I/O loop ran: the read found the events and cleared them, the line never rose. */
	assert_int_equal(fm->nr_irq_calls, 0);
}

static unsigned pm_events;

static void count_pm_event(void *opaque, enum machine_pm_event ev)
{
	assert_int_equal(ev, PM_EVENT_RTC_ALARM);
	pm_events++;
}

/* Serve the I/O loop (the RTC's timer) until GSI 8 is up or ms passed; true when it is. */
static bool wait_irq(struct fake_machine *fm, long ms)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long left;

		if (fm->irq_level[8])
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - (now.tv_sec - t0.tv_sec) * 1000 - (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (left <= 0)
			return false;
		fake_run_io(fm, 1, left);
	}
}

/* Host CLOCK_REALTIME's ms within the second (the RTC runs on it, offset 0 here). */
static long ms_in_second(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_nsec / 1000000;
}

/*
 * The alarm two seconds ahead: nothing before, GSI 8 at its second boundary, one PM event;
 * register C says AF and IRQF, reading it lowers the line.
 */
static void test_alarm_interrupt(void **state)
{
	struct fake_machine *fm = *state;
	unsigned sec;
	uint8_t c;

	pm_events = 0;
	assert_int_equal(machine_pm_listen(&fm->m, count_pm_event, NULL), 0);
	/* GSI 8 is the RTC's, exclusively. */
	assert_true(fm->m.nr_irqs == 1 && fm->m.irqs[0].gsi == 8 && !fm->m.irqs[0].shared);
	/* Right after a second boundary, so that "two seconds ahead" is not a boundary away. */
	while (ms_in_second() > 500)
		sleep_ms(10);
	sec = bcd(cmos_read(fm, 0x00));
	cmos_write(fm, 0x01, (((sec + 2) % 60) / 10) << 4 | (sec + 2) % 10);
	cmos_write(fm, 0x03, 0xc0);			/* any minute */
	cmos_write(fm, 0x05, 0xff);			/* any hour */
	cmos_read(fm, 0x0c);
	cmos_write(fm, 0x0b, 0x22);			/* AIE, 24 h, BCD */
	assert_int_equal(fm->irq_level[8], 0);
	assert_false(wait_irq(fm, 900));
	assert_true(wait_irq(fm, 2500));
	/* On time: in the alarm's second, soon after its start. */
	assert_int_equal(bcd(cmos_read(fm, 0x00)), (sec + 2) % 60);
	assert_true(ms_in_second() < 300);
	assert_int_equal(pm_events, 1);
	assert_int_equal(fm->nr_irq_calls, 1);
	c = cmos_read(fm, 0x0c);
	assert_int_equal(c & 0xa0, 0xa0);		/* IRQF, AF */
	assert_int_equal(fm->irq_level[8], 0);
	assert_int_equal(cmos_read(fm, 0x0c), 0);
	/* A second PM listener is refused. */
	assert_int_equal(machine_pm_listen(&fm->m, count_pm_event, NULL), -EBUSY);
}

/* Update-ended interrupts: the line stays up until C is read, then rises at the next second. */
static void test_update_interrupt_waits_for_c(void **state)
{
	struct fake_machine *fm = *state;

	pm_events = 0;
	assert_int_equal(machine_pm_listen(&fm->m, count_pm_event, NULL), 0);
	cmos_read(fm, 0x0c);
	cmos_write(fm, 0x0b, 0x12);			/* UIE */
	assert_true(wait_irq(fm, 1500));
	assert_true(ms_in_second() < 300);
	/* Another second, C unread: no more line changes, no more events. */
	sleep_ms(1100);
	fake_run_io(fm, 1, 10);
	assert_int_equal(fm->nr_irq_calls, 1);
	assert_int_equal(pm_events, 1);
	assert_int_equal(cmos_read(fm, 0x0c) & 0x90, 0x90);	/* IRQF, UF */
	assert_int_equal(fm->irq_level[8], 0);
	assert_true(wait_irq(fm, 1500));
	assert_int_equal(pm_events, 2);
	/* Disabling UIE with UF latched drops IRQF and the line. */
	cmos_write(fm, 0x0b, 0x02);
	assert_int_equal(fm->irq_level[8], 0);
	assert_int_equal(cmos_read(fm, 0x0c) & 0x90, 0x10);
}

/* Periodic interrupts at 8 Hz: about 125 ms apart. */
static void test_periodic_interrupt(void **state)
{
	struct fake_machine *fm = *state;
	struct timespec t0, t1;
	long ms;

	cmos_write(fm, 0x0a, 0x2d);			/* rate 13: 8 Hz */
	cmos_write(fm, 0x0b, 0x42);			/* PIE */
	cmos_read(fm, 0x0c);
	assert_true(wait_irq(fm, 300));
	assert_int_equal(cmos_read(fm, 0x0c) & 0xc0, 0xc0);	/* IRQF, PF */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(wait_irq(fm, 300));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_in_range(ms, 60, 200);
}

/* An alarm at midnight with the clock set to 23:59:58 rings two seconds later, on the next day. */
static void test_alarm_across_midnight(void **state)
{
	struct fake_machine *fm = *state;

	cmos_write(fm, 0x0b, 0x82);			/* SET */
	cmos_write(fm, 0x00, 0x58);
	cmos_write(fm, 0x02, 0x59);
	cmos_write(fm, 0x04, 0x23);
	cmos_write(fm, 0x07, 0x28);
	cmos_write(fm, 0x08, 0x02);
	cmos_write(fm, 0x09, 0x01);
	cmos_write(fm, 0x32, 0x20);
	cmos_write(fm, 0x01, 0x00);
	cmos_write(fm, 0x03, 0x00);
	cmos_write(fm, 0x05, 0x00);
	/* Held by SET: no update, no alarm. */
	cmos_write(fm, 0x0b, 0xa2);
	assert_false(wait_irq(fm, 300));
	/* The clock keeps the host's phase within the second: start early in one. */
	while (ms_in_second() > 300)
		sleep_ms(10);
	cmos_write(fm, 0x0b, 0x22);			/* run, AIE */
	assert_false(wait_irq(fm, 1500));
	assert_true(wait_irq(fm, 1000));
	assert_int_equal(cmos_read(fm, 0x04), 0x00);
	assert_int_equal(cmos_read(fm, 0x02), 0x00);
	assert_int_equal(cmos_read(fm, 0x08), 0x03);	/* 2001 is no leap year */
	assert_int_equal(cmos_read(fm, 0x07), 0x01);
	assert_int_equal(cmos_read(fm, 0x0c) & 0xa0, 0xa0);
	/* An alarm hour that never comes (25 h) arms nothing and never rings. */
	cmos_write(fm, 0x05, 0x25);
	assert_false(wait_irq(fm, 1200));
	assert_int_equal(cmos_read(fm, 0x0c) & 0x20, 0);
}

static void test_cmos_ram(void **state)
{
	struct fake_machine *fm = *state;

	for (unsigned r = 0x0e; r < 0x80; r++)
		if (r != 0x32)
			cmos_write(fm, r, r ^ 0xa5);
	for (unsigned r = 0x0e; r < 0x80; r++)
		if (r != 0x32)
			assert_int_equal(cmos_read(fm, r), r ^ 0xa5);
	/* Index wraps at 128: bit 7 is the NMI mask. */
	assert_int_equal(cmos_read(fm, 0x8e), 0x0e ^ 0xa5);
	assert_int_equal(fake_pio_read(fm, 0x70, 1), 0x8e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_time_bcd_and_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_time_runs_from_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_12_hour_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_c_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmos_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_interrupt_waits_for_c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_across_midnight, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
