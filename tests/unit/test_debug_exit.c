// SPDX-License-Identifier: GPL-2.0-only
/* isa-debug-exit: status (v << 1) | 1 for 1, 2 and 4-byte writes. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_machine.h"
#include "qlite/devices.h"

static int setup(void **state)
{
	struct fake_machine *fm = fake_machine_create();

	assert_int_equal(debug_exit_create(&fm->m, "debug-exit", DEBUG_EXIT_BASE, DEBUG_EXIT_SIZE), 0);
	*state = fm;
	return 0;
}

static int teardown(void **state)
{
	fake_machine_destroy(*state);
	return 0;
}

static void test_byte_write(void **state)
{
	struct fake_machine *fm = *state;

	fake_pio_write(fm, DEBUG_EXIT_BASE, 1, 0x00);
	assert_int_equal(fm->nr_stops, 1);
	assert_int_equal(fm->stop_why, STOP_DEBUG_EXIT);
	assert_int_equal(fm->stop_status, 1);
}

static void test_byte_write_other_port(void **state)
{
	struct fake_machine *fm = *state;

	fake_pio_write(fm, DEBUG_EXIT_BASE + 3, 1, 0x10);
	assert_int_equal(fm->stop_why, STOP_DEBUG_EXIT);
	assert_int_equal(fm->stop_status, 0x21);
}

static void test_word_write(void **state)
{
	struct fake_machine *fm = *state;

	fake_pio_write(fm, DEBUG_EXIT_BASE, 2, 0x1234);
	assert_int_equal(fm->stop_status, 0x2469);
}

static void test_dword_write(void **state)
{
	struct fake_machine *fm = *state;

	fake_pio_write(fm, DEBUG_EXIT_BASE, 4, 0x12345678);
	assert_int_equal(fm->stop_status, 0x2468acf1);
	/* A dword at base + 1 would pass the end: unclaimed, no stop. */
	fake_pio_write(fm, DEBUG_EXIT_BASE + 1, 4, 0);
	assert_int_equal(fm->nr_stops, 1);
}

static void test_reads_all_ones(void **state)
{
	struct fake_machine *fm = *state;

	assert_int_equal(fake_pio_read(fm, DEBUG_EXIT_BASE, 1), 0xff);
	assert_int_equal(fake_pio_read(fm, DEBUG_EXIT_BASE, 4), 0xffffffff);
	assert_non_null(bus_lookup(fm->m.bus[BUS_PIO], DEBUG_EXIT_BASE, 4));
	assert_int_equal(fm->nr_stops, 0);
}

static void test_bad_range(void **state)
{
	struct fake_machine *fm = *state;

	assert_int_equal(debug_exit_create(&fm->m, "debug-exit", 0x500, 0), -EINVAL);
	assert_int_equal(debug_exit_create(&fm->m, "debug-exit", 0xfffe, 4), -EINVAL);
	assert_int_equal(debug_exit_create(&fm->m, "debug-exit", DEBUG_EXIT_BASE + 2, 1), -EEXIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_byte_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_write_other_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_word_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dword_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_all_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_range, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
