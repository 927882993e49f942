// SPDX-License-Identifier: GPL-2.0-only
/*
 * isa-debug-exit: status (v << 1) | 1 for 1, 2 and 4-byte writes; the
 * `vdev isa-debug-exit` type built through vdev_create_all(), as run and
 * check build it.
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
#include "qlite/devices.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

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

/* Add a `vdev isa-debug-exit [k1 v1] [k2 v2]` line to spec, as the parser would. */
static void spec_add_vdev(struct vm_spec *spec, unsigned line, const char *k1, const char *v1,
			  const char *k2, const char *v2)
{
	struct vdev_spec *vs;

	spec->vdevs = realloc(spec->vdevs, (spec->nr_vdevs + 1) * sizeof(*vs));
	assert_non_null(spec->vdevs);
	vs = &spec->vdevs[spec->nr_vdevs++];
	memset(vs, 0, sizeof(*vs));
	vs->type = "isa-debug-exit";
	vs->origin = (struct spec_origin){ .file = "vm.conf", .line = line, .option = "vdev" };
	if (k1)
		vs->opts[vs->nr_opts++] = (struct vdev_opt){ (char *)k1, (char *)v1 };
	if (k2)
		vs->opts[vs->nr_opts++] = (struct vdev_opt){ (char *)k2, (char *)v2 };
}

static void test_vdev(void **state)
{
	struct fake_machine *fm = *state;
	struct vm_spec spec = { 0 };

	spec_add_vdev(&spec, 3, NULL, NULL, NULL, NULL);		/* QEMU's defaults */
	spec_add_vdev(&spec, 4, "iobase", "0x600", "iosize", "4");
	assert_int_equal(vdev_create_all(&fm->m, &spec), 0);
	assert_non_null(bus_lookup(fm->m.bus[BUS_PIO], 0x501, 2));
	assert_null(bus_lookup(fm->m.bus[BUS_PIO], 0x503, 1));
	assert_non_null(bus_lookup(fm->m.bus[BUS_PIO], 0x600, 4));
	/* The platform's port is still there, beside them. */
	assert_non_null(bus_lookup(fm->m.bus[BUS_PIO], DEBUG_EXIT_BASE, 4));
	fake_pio_write(fm, 0x602, 1, 5);
	assert_int_equal(fm->stop_why, STOP_DEBUG_EXIT);
	assert_int_equal(fm->stop_status, 11);
	assert_string_equal(fm->stop_detail, "guest wrote 5 to the isa-debug-exit port");
	free(spec.vdevs);
}

static void test_vdev_conflict(void **state)
{
	struct fake_machine *fm = *state;
	struct vm_spec spec = { 0 };
	char *msg = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&msg, &len);

	spec_add_vdev(&spec, 7, "iobase", "0x501", NULL, NULL);
	spec_add_vdev(&spec, 9, NULL, NULL, NULL, NULL);
	report_set_stream(out);
	assert_int_equal(vdev_create_all(&fm->m, &spec), -EEXIST);
	report_set_stream(NULL);
	fclose(out);
	/* The device says what failed; the path puts the vdev line before it. */
	assert_string_equal(msg, "vm.conf:9: isa-debug-exit: cannot claim pio 0x501-0x502: already in use\n");
	free(msg);
	free(spec.vdevs);
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
		cmocka_unit_test_setup_teardown(test_vdev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vdev_conflict, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
