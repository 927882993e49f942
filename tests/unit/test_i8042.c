// SPDX-License-Identifier: GPL-2.0-only
/* i8042: status, self tests, command byte, output port and the reset pulse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_machine.h"
#include "qlite/devices.h"

#define DATA	0x60
#define CMD	0x64

static int setup(void **state)
{
	struct fake_machine *fm = fake_machine_create();

	assert_int_equal(i8042_create(&fm->m), 0);
	*state = fm;
	return 0;
}

static int teardown(void **state)
{
	/* The device lives as long as the machine; the buses go with the fake. */
	fake_machine_destroy(*state);
	return 0;
}

static uint8_t status(struct fake_machine *fm)
{
	return fake_pio_read(fm, CMD, 1);
}

static void command(struct fake_machine *fm, uint8_t cmd)
{
	fake_pio_write(fm, CMD, 1, cmd);
}

static void test_self_tests(void **state)
{
	struct fake_machine *fm = *state;

	assert_int_equal(status(fm) & 0x03, 0);		/* OBF and IBF clear */
	assert_int_equal(status(fm) & 0x04, 0x04);	/* SYS flag: POST done */
	command(fm, 0xaa);
	assert_int_equal(status(fm) & 0x0b, 0x09);	/* OBF, last write a command */
	assert_int_equal(fake_pio_read(fm, DATA, 1), 0x55);
	assert_int_equal(status(fm) & 0x01, 0);
	/* Nothing pending: the data port keeps returning the last byte. */
	assert_int_equal(fake_pio_read(fm, DATA, 1), 0x55);
	command(fm, 0xab);
	assert_int_equal(fake_pio_read(fm, DATA, 1), 0x00);
	command(fm, 0xa9);
	assert_int_equal(fake_pio_read(fm, DATA, 1), 0x00);
	assert_int_equal(fm->nr_stops, 0);
}

static void test_command_byte(void **state)
{
	struct fake_machine *fm = *state;

	command(fm, 0x60);
	fake_pio_write(fm, DATA, 1, 0x20);	/* aux disabled, no SYS, no interrupts */
	assert_int_equal(status(fm) & 0x0c, 0x00);	/* SYS follows CTR; last write data */
	command(fm, 0x20);
	assert_int_equal(fake_pio_read(fm, DATA, 1), 0x20);
	command(fm, 0xa8);			/* enable aux */
	command(fm, 0xad);			/* disable kbd */
	command(fm, 0x20);
	assert_int_equal(fake_pio_read(fm, DATA, 1), 0x10);
	command(fm, 0xae);
	command(fm, 0xa7);
	command(fm, 0x20);
	assert_int_equal(fake_pio_read(fm, DATA, 1), 0x20);
	command(fm, 0x60);
	fake_pio_write(fm, DATA, 1, 0x45);
	assert_int_equal(status(fm) & 0x04, 0x04);
}

static void test_interrupts_and_absent_keyboard(void **state)
{
	struct fake_machine *fm = *state;

	command(fm, 0x60);
	fake_pio_write(fm, DATA, 1, 0x47);	/* kbd and aux interrupts on */
	fake_machine_clear_calls(fm);
	/* A byte for the keyboard: nobody answers, the controller reports a timeout. */
	fake_pio_write(fm, DATA, 1, 0xf2);
	assert_int_equal(status(fm) & 0x61, 0x41);
	assert_int_equal(fm->nr_irq_calls, 1);
	assert_int_equal(fm->irq_calls[0].gsi, 1);
	assert_int_equal(fm->irq_calls[0].level, 1);
	assert_int_equal(fake_pio_read(fm, DATA, 1), 0xfe);
	assert_int_equal(fm->irq_level[1], 0);
	/* The same for the mouse, on IRQ 12 with the aux flag. */
	command(fm, 0xd4);
	fake_pio_write(fm, DATA, 1, 0xff);
	assert_int_equal(status(fm) & 0x61, 0x61);
	assert_int_equal(fm->irq_level[12], 1);
	assert_int_equal(fake_pio_read(fm, DATA, 1), 0xfe);
	assert_int_equal(fm->irq_level[12], 0);
	/* Aux loopback echoes the byte as aux data. */
	command(fm, 0xd3);
	fake_pio_write(fm, DATA, 1, 0x5a);
	assert_int_equal(status(fm) & 0x61, 0x21);
	assert_int_equal(fake_pio_read(fm, DATA, 1), 0x5a);
}

static void test_output_port(void **state)
{
	struct fake_machine *fm = *state;

	command(fm, 0xd0);
	assert_int_equal(fake_pio_read(fm, DATA, 1) & 0x03, 0x03);	/* not in reset, A20 on */
	command(fm, 0xd1);
	fake_pio_write(fm, DATA, 1, 0x03);
	assert_int_equal(fm->nr_stops, 0);
	command(fm, 0xd1);
	fake_pio_write(fm, DATA, 1, 0x02);	/* bit 0 clear: reset */
	assert_int_equal(fm->nr_stops, 1);
	assert_int_equal(fm->stop_why, STOP_RESET);
}

static void test_pulse_reset(void **state)
{
	struct fake_machine *fm = *state;

	command(fm, 0xff);			/* pulses nothing */
	command(fm, 0xfd);			/* pulses line 1 only */
	assert_int_equal(fm->nr_stops, 0);
	command(fm, 0xfe);
	assert_int_equal(fm->nr_stops, 1);
	assert_int_equal(fm->stop_why, STOP_RESET);
	assert_int_equal(fm->stop_status, 0);
	command(fm, 0xf0);
	assert_int_equal(fm->nr_stops, 2);
}

static void test_ports_between_unclaimed(void **state)
{
	struct fake_machine *fm = *state;

	/* 0x61..0x63 are other chips' ports. */
	assert_null(bus_lookup(fm->m.bus[BUS_PIO], 0x61, 1));
	assert_non_null(bus_lookup(fm->m.bus[BUS_PIO], 0x60, 1));
	assert_non_null(bus_lookup(fm->m.bus[BUS_PIO], 0x64, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_self_tests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupts_and_absent_keyboard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pulse_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ports_between_unclaimed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
