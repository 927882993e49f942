// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ACPI PM device on the fake machine: S5 through PM1a_CNT powers off
 * with status 0, S3 puts the machine to sleep until an RTC alarm with RTC_EN
 * wakes it (WAK_STS, RTC_STS), another sleep type does nothing, SCI_EN
 * always reads 1, the enables keep only their bits, TMR_STS and RTC_STS are
 * write-1-to-clear and with their enables raise the SCI (TMR_STS when the
 * timer's top bit toggles), and the PM timer counts at 3.579545 MHz, checked
 * against CLOCK_MONOTONIC read around it. Last, the RTC and the PM device
 * on one machine: the alarm wakes the sleeping machine within its second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fake_machine.h"
#include "report_capture.h"
#include "qlite/acpi.h"
#include "qlite/devices.h"

static int setup(void **state)
{
	struct fake_machine *fm = fake_machine_create();

	assert_non_null(fm);
	assert_int_equal(acpi_pm_create(&fm->m), 0);
	*state = fm;
	return 0;
}

static int teardown(void **state)
{
	fake_machine_destroy(*state);
	return 0;
}

static void test_s5_powers_off(void **state)
{
	struct fake_machine *fm = *state;
	uint16_t typ = ACPI_S5_SLP_TYP << ACPI_PM1_CNT_SLP_TYP_SHIFT;

	/* ACPICA writes the type first, then the type with SLP_EN. */
	fake_pio_write(fm, ACPI_PM1_CNT_BLK, 2, typ);
	assert_int_equal(fm->nr_stops, 0);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_CNT_BLK, 2), typ | ACPI_PM1_CNT_SCI_EN);
	fake_pio_write(fm, ACPI_PM1_CNT_BLK, 2, typ | ACPI_PM1_CNT_SLP_EN);
	assert_int_equal(fm->nr_stops, 1);
	assert_int_equal(fm->stop_why, STOP_POWEROFF);
	assert_int_equal(fm->stop_status, 0);
	assert_non_null(strstr(fm->stop_detail, "S5"));
	/* SLP_EN is write-only. */
	assert_false(fake_pio_read(fm, ACPI_PM1_CNT_BLK, 2) & ACPI_PM1_CNT_SLP_EN);
}

static void test_s5_byte_write(void **state)
{
	struct fake_machine *fm = *state;
	uint16_t v = ACPI_S5_SLP_TYP << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_SLP_EN;

	/* SLP_TYP and SLP_EN are in the high byte: a byte write there is enough. */
	fake_pio_write(fm, ACPI_PM1_CNT_BLK + 1, 1, v >> 8);
	assert_int_equal(fm->nr_stops, 1);
	assert_int_equal(fm->stop_why, STOP_POWEROFF);
	assert_int_equal(fm->stop_status, 0);
}

static void test_other_sleep_types(void **state)
{
	struct fake_machine *fm = *state;
	struct report_capture c;

	report_capture_start(&c);
	for (unsigned typ = 0; typ < 8; typ++)
		if (typ != ACPI_S5_SLP_TYP && typ != ACPI_S3_SLP_TYP)
			fake_pio_write(fm, ACPI_PM1_CNT_BLK, 2,
				       typ << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_SLP_EN);
	/* Said once, whatever the guest repeats. */
	assert_int_equal(report_capture_lines(&c), 1);
	assert_true(report_capture_has(&c, "acpi-pm: guest asked for sleep type"));
	report_capture_stop(&c);
	assert_int_equal(fm->nr_stops, 0);
	assert_int_equal(fm->nr_sleeps, 0);
	/* A SLP_EN in a write to the status register is no sleep. */
	fake_pio_write(fm, ACPI_PM1_EVT_BLK, 4, 0xffffffff);
	assert_int_equal(fm->nr_stops, 0);
	assert_int_equal(fm->nr_sleeps, 0);
}

/* The exit report's counter name of the device's report, or ~0 when absent. */
static uint64_t report_counter(struct fake_machine *fm, const char *name)
{
	struct device_report out = { 0 };

	for (unsigned i = 0; i < fm->m.nr_reports; i++)
		if (!strcmp(fm->m.reports[i].name, "acpi-pm"))
			fm->m.reports[i].fn(fm->m.reports[i].opaque, &out);
	for (unsigned i = 0; i < out.n; i++)
		if (!strcmp(out.c[i].name, name))
			return out.c[i].value;
	return ~0ULL;
}

static const uint16_t s3_write = ACPI_S3_SLP_TYP << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_SLP_EN;

/* S3 with RTC_EN: the machine sleeps; the RTC's event wakes it with WAK_STS and RTC_STS. */
static void test_s3_rtc_wake(void **state)
{
	struct fake_machine *fm = *state;

	fake_pio_write(fm, ACPI_PM1_EVT_BLK + 2, 2, ACPI_PM1_RTC);
	/* ACPICA writes SLP_TYP first: no sleep without SLP_EN. */
	fake_pio_write(fm, ACPI_PM1_CNT_BLK, 2, s3_write & ~ACPI_PM1_CNT_SLP_EN);
	assert_int_equal(fm->nr_sleeps, 0);
	fake_pio_write(fm, ACPI_PM1_CNT_BLK, 2, s3_write);
	assert_int_equal(fm->nr_sleeps, 1);
	assert_int_equal(fm->nr_stops, 0);
	/* A second SLP_EN while asleep (another vCPU's, before it stopped) is the same sleep. */
	fake_pio_write(fm, ACPI_PM1_CNT_BLK, 2, s3_write);
	assert_int_equal(fm->nr_sleeps, 1);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), 0);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 0);

	machine_pm_event(&fm->m, PM_EVENT_RTC_ALARM);
	assert_int_equal(fm->nr_wakes, 1);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), ACPI_PM1_RTC | ACPI_PM1_WAK);
	/* RTC_STS with RTC_EN is an SCI too, once awake. */
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 1);
	/* Another alarm while awake wakes nothing. */
	machine_pm_event(&fm->m, PM_EVENT_RTC_ALARM);
	assert_int_equal(fm->nr_wakes, 1);
	/* Write 1 to clear, each bit alone; WAK_STS has no enable and raises nothing. */
	fake_pio_write(fm, ACPI_PM1_EVT_BLK, 2, ACPI_PM1_RTC);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), ACPI_PM1_WAK);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 0);
	fake_pio_write(fm, ACPI_PM1_EVT_BLK + 1, 1, ACPI_PM1_WAK >> 8);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), 0);
	/* The device sleeps again, and is counted. */
	fake_pio_write(fm, ACPI_PM1_CNT_BLK + 1, 1, s3_write >> 8);
	machine_pm_event(&fm->m, PM_EVENT_RTC_ALARM);
	assert_int_equal(fm->nr_sleeps, 2);
	assert_int_equal(fm->nr_wakes, 2);
	assert_int_equal(report_counter(fm, "s3_sleeps"), 2);
	assert_int_equal(report_counter(fm, "s3_wakes"), 2);
	assert_int_equal(report_counter(fm, "sleeps_ignored"), 0);
	assert_int_equal(fm->nr_stops, 0);
}

/* S3 with no wake event enabled: said once; the RTC's event sets RTC_STS and wakes nothing. */
static void test_s3_without_wake_event(void **state)
{
	struct fake_machine *fm = *state;
	struct report_capture c;

	report_capture_start(&c);
	fake_pio_write(fm, ACPI_PM1_EVT_BLK + 2, 2, ACPI_PM1_TMR);
	fake_pio_write(fm, ACPI_PM1_CNT_BLK, 2, s3_write);
	assert_int_equal(fm->nr_sleeps, 1);
	assert_true(report_capture_has(&c, "acpi-pm: guest entered S3 with no wake event enabled"));
	assert_int_equal(report_capture_lines(&c), 1);
	report_capture_stop(&c);
	machine_pm_event(&fm->m, PM_EVENT_RTC_ALARM);
	assert_int_equal(fm->nr_wakes, 0);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), ACPI_PM1_RTC);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 0);
	/* Enabling RTC_EN now raises the SCI for the status already there (no wake: past event). */
	fake_pio_write(fm, ACPI_PM1_EVT_BLK + 2, 2, ACPI_PM1_RTC);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 1);
	assert_int_equal(fm->nr_wakes, 0);
	/* The next alarm wakes it. */
	machine_pm_event(&fm->m, PM_EVENT_RTC_ALARM);
	assert_int_equal(fm->nr_wakes, 1);
}

static void test_registers(void **state)
{
	struct fake_machine *fm = *state;

	/* Enables: the defined bits only; a byte write changes its byte. */
	fake_pio_write(fm, ACPI_PM1_EVT_BLK + 2, 2, 0xffff);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK + 2, 2),
			 ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN |
			 ACPI_PM1_RTC);
	fake_pio_write(fm, ACPI_PM1_EVT_BLK + 3, 1, 0);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK + 2, 2), ACPI_PM1_TMR | ACPI_PM1_GBL);
	/* The timer has not run 2^31 ticks: no status, no SCI, whatever is enabled. */
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), 0);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 0);
	/* A dword read of the event block: status low, enables high. */
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 4),
			 (uint32_t)(ACPI_PM1_TMR | ACPI_PM1_GBL) << 16);
	/* Control: SCI_EN reads 1 even when written 0; reserved bits stay 0. */
	fake_pio_write(fm, ACPI_PM1_CNT_BLK, 2, 0x0004);	/* GBL_RLS: write-only */
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_CNT_BLK, 2), ACPI_PM1_CNT_SCI_EN);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_CNT_BLK + 2, 2), 0);	/* reserved */
	assert_int_equal(fm->nr_stops, 0);
	/* The timer is read-only. */
	fake_pio_write(fm, ACPI_PM_TMR_BLK, 4, 0);
	assert_int_equal(fm->nr_stops, 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void test_timer_rate(void **state)
{
	struct fake_machine *fm = *state;
	uint64_t t0, t1, t2, t3, ticks, lo, hi;
	uint32_t r1, r2;
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	t0 = now_ns();
	r1 = fake_pio_read(fm, ACPI_PM_TMR_BLK, 4);
	t1 = now_ns();
	nanosleep(&pause, NULL);
	t2 = now_ns();
	r2 = fake_pio_read(fm, ACPI_PM_TMR_BLK, 4);
	t3 = now_ns();
	ticks = (uint32_t)(r2 - r1);
	/* The ticks between the reads lie between the time surely and at most elapsed. */
	lo = (t2 - t1) * ACPI_PM_TIMER_HZ / 1000000000;
	hi = (t3 - t0) * ACPI_PM_TIMER_HZ / 1000000000 + 2;
	if (ticks + 1 < lo || ticks > hi)
		fail_msg("%llu ticks in %llu..%llu ns: expected %llu..%llu",
			 (unsigned long long)ticks, (unsigned long long)(t2 - t1),
			 (unsigned long long)(t3 - t0), (unsigned long long)lo,
			 (unsigned long long)hi);
	/* 50 ms is about 178977 ticks. */
	assert_true(ticks > 170000);
	/* A byte read sees the counter's byte at that moment. */
	{
		uint32_t b = fake_pio_read(fm, ACPI_PM_TMR_BLK + 3, 1);
		uint32_t r3 = fake_pio_read(fm, ACPI_PM_TMR_BLK, 4);

		assert_true(b >= (r2 >> 24) && b <= (r3 >> 24));
	}
}

/*
 * TMR_STS and the SCI: a timer 50 ms before its top bit toggles. With TMR_EN the machine's timer
 * wakes the device at the toggle and the SCI (IRQ 9, level) goes up; clearing TMR_STS lowers it.
 */
static void test_timer_sci(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	uint32_t start = 0x80000000u - ACPI_PM_TIMER_HZ / 20;

	assert_non_null(fm);
	assert_int_equal(acpi_pm_create_counting_from(&fm->m, start), 0);
	assert_true(fake_pio_read(fm, ACPI_PM_TMR_BLK, 4) - start < ACPI_PM_TIMER_HZ / 20);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), 0);
	fake_pio_write(fm, ACPI_PM1_EVT_BLK + 2, 2, ACPI_PM1_TMR);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 0);
	/* The timer callback: at most a few wake-ups, within a second. */
	for (int i = 0; i < 5 && !fm->irq_level[ACPI_SCI_IRQ]; i++)
		fake_run_io(fm, 1, 1000);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 1);
	assert_true(fake_pio_read(fm, ACPI_PM_TMR_BLK, 4) >= 0x80000000u);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), ACPI_PM1_TMR);
	/* Writing 0 clears nothing; writing the bit clears it and the line falls. */
	fake_pio_write(fm, ACPI_PM1_EVT_BLK, 2, 0);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 1);
	fake_pio_write(fm, ACPI_PM1_EVT_BLK, 2, ACPI_PM1_TMR);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 0);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), 0);
	/* The next toggle is 2^31 ticks (10 minutes) away: nothing within 100 ms. */
	fake_run_io(fm, 1, 100);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 0);
	fake_machine_destroy(fm);
}

/* Status without the enable raises nothing: TMR_STS is set, TMR_EN is not. */
static void test_timer_sts_without_sci(void **state)
{
	struct fake_machine *fm = fake_machine_create();

	assert_non_null(fm);
	assert_int_equal(acpi_pm_create_counting_from(&fm->m, 0x80000000u - 100), 0);
	fake_run_io(fm, 1, 20);		/* 100 ticks are 28 us */
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), ACPI_PM1_TMR);
	fake_pio_write(fm, ACPI_PM1_EVT_BLK + 2, 2, ACPI_PM1_PWRBTN);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 0);
	assert_int_equal(fm->nr_irq_calls, 0);
	/* Enabling it now raises the SCI at once. */
	fake_pio_write(fm, ACPI_PM1_EVT_BLK + 2, 2, ACPI_PM1_TMR);
	assert_int_equal(fm->irq_level[ACPI_SCI_IRQ], 1);
	fake_machine_destroy(fm);
}

/* The whole path on one machine: the RTC's alarm (its timer on the I/O loop) wakes the PM device. */
static void test_s3_rtc_alarm_wakes(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct timespec t0, t1;
	unsigned sec, alarm;
	long ms;

	assert_non_null(fm);
	assert_int_equal(rtc_create(&fm->m), 0);
	assert_int_equal(acpi_pm_create(&fm->m), 0);
	fake_pio_write(fm, ACPI_PM1_EVT_BLK + 2, 2, ACPI_PM1_RTC);
	/*
	 * Alarm at the second after next (BCD), minutes and hours any, AIE.
	 * Not "any second": a second boundary between the read of C and the
	 * S3 write would raise the line while awake, and nothing then rises
	 * again to wake the machine.
	 */
	fake_pio_write(fm, 0x70, 1, 0x00);
	sec = fake_pio_read(fm, 0x71, 1);
	sec = (sec >> 4) * 10 + (sec & 0xf);
	alarm = (sec + 2) % 60;
	fake_pio_write(fm, 0x70, 1, 0x01);
	fake_pio_write(fm, 0x71, 1, (alarm / 10) << 4 | alarm % 10);
	for (unsigned reg = 3; reg <= 5; reg += 2) {
		fake_pio_write(fm, 0x70, 1, reg);
		fake_pio_write(fm, 0x71, 1, 0xc0);
	}
	fake_pio_write(fm, 0x70, 1, 0x0c);
	fake_pio_read(fm, 0x71, 1);
	fake_pio_write(fm, 0x70, 1, 0x0b);
	fake_pio_write(fm, 0x71, 1, 0x22);
	fake_pio_write(fm, ACPI_PM1_CNT_BLK, 2, s3_write);
	assert_int_equal(fm->nr_sleeps, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 10 && !fm->nr_wakes; i++)
		fake_run_io(fm, 1, 1500);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_int_equal(fm->nr_wakes, 1);
	assert_true(ms <= 2100);
	assert_int_equal(fm->irq_level[8], 1);
	assert_int_equal(fake_pio_read(fm, ACPI_PM1_EVT_BLK, 2), ACPI_PM1_RTC | ACPI_PM1_WAK);
	fake_machine_destroy(fm);
}

static void test_names_and_claims(void **state)
{
	struct fake_machine *fm = *state;
	const struct bus_region *r = bus_lookup(fm->m.bus[BUS_PIO], ACPI_PM_TMR_BLK, 4);
	bool irq = false;

	assert_non_null(r);
	assert_string_equal(r->name, "acpi-pm");
	assert_string_equal(r->ops->reg_name(r->opaque, ACPI_PM_TMR_BLK - ACPI_PM_BASE), "PM_TMR");
	assert_string_equal(r->ops->reg_name(r->opaque, 0), "PM1_STS");
	assert_string_equal(r->ops->reg_name(r->opaque, 2), "PM1_EN");
	assert_string_equal(r->ops->reg_name(r->opaque, 5), "PM1_CNT");
	for (unsigned i = 0; i < fm->m.nr_irqs; i++)
		irq |= fm->m.irqs[i].gsi == ACPI_SCI_IRQ && !fm->m.irqs[i].shared;
	assert_true(irq);
	/* A second PM device finds the ports taken. */
	{
		struct report_capture c;

		report_capture_start(&c);
		assert_true(acpi_pm_create(&fm->m) < 0);
		assert_true(report_capture_has(&c, "acpi-pm: cannot claim pio 0x600-0x60b"));
		report_capture_stop(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_s5_powers_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s5_byte_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_sleep_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s3_rtc_wake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s3_without_wake_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_and_claims, setup, teardown),
		cmocka_unit_test(test_timer_sci),
		cmocka_unit_test(test_timer_sts_without_sci),
		cmocka_unit_test(test_s3_rtc_alarm_wakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
