// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvpanic and pvpanic-pci on the fake machine, built through
 * vdev_create_all() as run and check build them: the register's reads
 * (the supported events), each event a guest can write, every address and
 * length of the port and of the BAR, the PCI identity Linux's driver
 * matches, and the errors of a bad set-up.
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
#include "pci_guest.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define PORT		0x505
#define BAR0		0xc0000000u	/* the first BAR the host assigns */
#define SLOT		1

struct ctx {
	struct fake_machine *fm;
	struct vm_spec spec;
	char *msgs;		/* what the devices said (report stream) */
	size_t msgs_len;
	FILE *out;
};

/* Add `vdev TYPE [KEY VALUE]` to spec, as the parser would. */
static void spec_add(struct vm_spec *spec, const char *type, const char *key, const char *value)
{
	struct vdev_spec *vs;

	spec->vdevs = realloc(spec->vdevs, (spec->nr_vdevs + 1) * sizeof(*vs));
	assert_non_null(spec->vdevs);
	vs = &spec->vdevs[spec->nr_vdevs];
	memset(vs, 0, sizeof(*vs));
	vs->type = (char *)type;
	vs->origin = (struct spec_origin){ .file = "vm.conf", .line = 2 + spec->nr_vdevs,
					   .option = "vdev" };
	if (key)
		vs->opts[vs->nr_opts++] = (struct vdev_opt){ (char *)key, (char *)value };
	spec->nr_vdevs++;
}

static struct ctx *ctx_create(bool pci)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->fm = fake_machine_create();
	if (pci)
		assert_non_null(pci_host_create(&c->fm->m));
	c->out = open_memstream(&c->msgs, &c->msgs_len);
	assert_non_null(c->out);
	report_set_stream(c->out);
	return c;
}

static void ctx_destroy(struct ctx *c)
{
	report_set_stream(NULL);
	fclose(c->out);
	free(c->msgs);
	if (c->fm->m.pci)
		pci_host_destroy(c->fm->m.pci);
	fake_machine_destroy(c->fm);
	free(c->spec.vdevs);
	free(c);
}

static const char *said(struct ctx *c)
{
	fflush(c->out);
	return c->msgs ? c->msgs : "";
}

static int setup_isa(void **state)
{
	struct ctx *c = ctx_create(false);

	spec_add(&c->spec, "pvpanic", NULL, NULL);
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	*state = c;
	return 0;
}

static int setup_pci(void **state)
{
	struct ctx *c = ctx_create(true);

	spec_add(&c->spec, "pvpanic-pci", NULL, NULL);
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	ctx_destroy(*state);
	return 0;
}

/* ---- the ISA port ---- */

static void test_isa_read(void **state)
{
	struct ctx *c = *state;

	/* Linux reads the supported events first and sends only those. */
	assert_int_equal(fake_pio_read(c->fm, PORT, 1), 3);
	assert_int_equal(fake_pio_read(c->fm, PORT, 1), 3);
	/* One port: a wider access or a neighbour is nobody's (all-ones). */
	assert_int_equal(fake_pio_read(c->fm, PORT, 2), 0xffff);
	assert_int_equal(fake_pio_read(c->fm, PORT - 1, 1), 0xff);
	assert_int_equal(fake_pio_read(c->fm, PORT + 1, 1), 0xff);
	assert_null(bus_lookup(c->fm->m.bus[BUS_PIO], PORT, 2));
	assert_non_null(bus_lookup(c->fm->m.bus[BUS_PIO], PORT, 1));
	assert_int_equal(c->fm->nr_stops, 0);
}

static void test_isa_panicked(void **state)
{
	struct ctx *c = *state;

	fake_pio_write(c->fm, PORT, 1, 1);
	assert_int_equal(c->fm->nr_stops, 1);
	assert_int_equal(c->fm->stop_why, STOP_PANIC);
	assert_int_equal(c->fm->stop_status, MACHINE_EXIT_PANICKED);
	assert_int_equal(c->fm->stop_status, 6);
	assert_string_equal(c->fm->stop_detail, "guest panicked (pvpanic event 0x1)");
	assert_string_equal(said(c), "");
}

/* Events the guest runs on after: none, CRASH_LOADED, unknown bits; each said at most once. */
static void test_isa_other_events(void **state)
{
	struct ctx *c = *state;

	fake_pio_write(c->fm, PORT, 1, 0);
	assert_string_equal(said(c), "");
	fake_pio_write(c->fm, PORT, 1, 2);
	fake_pio_write(c->fm, PORT, 1, 2);
	assert_string_equal(said(c), "qlite: pvpanic: guest panicked with a crash kernel loaded: "
			    "it runs on (kdump)\n");
	for (unsigned v = 4; v < 0x100; v += 4)
		fake_pio_write(c->fm, PORT, 1, v);
	assert_string_equal(said(c), "qlite: pvpanic: guest panicked with a crash kernel loaded: "
			    "it runs on (kdump)\n"
			    "qlite: pvpanic: guest wrote 0x4: bits 0x4 are no event; ignored\n");
	/* Writes that miss the port, or straddle it, are nobody's. */
	fake_pio_write(c->fm, PORT - 1, 1, 1);
	fake_pio_write(c->fm, PORT + 1, 1, 1);
	fake_pio_write(c->fm, PORT, 2, 0x0101);
	fake_pio_write(c->fm, PORT, 4, 0x01010101);
	assert_int_equal(c->fm->nr_stops, 0);
	/* PANICKED with other bits still panics, as in QEMU. */
	fake_pio_write(c->fm, PORT, 1, 0xff);
	assert_int_equal(c->fm->stop_why, STOP_PANIC);
	assert_string_equal(c->fm->stop_detail, "guest panicked (pvpanic event 0xff)");
}

static void test_isa_iobase(void **state)
{
	struct ctx *c = ctx_create(false);
	static const char want[] = "vm.conf:3: pvpanic: cannot claim pio 0x600-0x600: already in use\n";

	spec_add(&c->spec, "pvpanic", "iobase", "0x600");
	spec_add(&c->spec, "pvpanic", "iobase", "0x600");
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), -EEXIST);
	assert_string_equal(said(c), want);
	assert_int_equal(fake_pio_read(c->fm, 0x600, 1), 3);
	assert_int_equal(fake_pio_read(c->fm, PORT, 1), 0xff);
	ctx_destroy(c);

	c = ctx_create(false);
	spec_add(&c->spec, "pvpanic", "iobase", "0x10000");
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), -EINVAL);
	assert_string_equal(said(c), "vm.conf:2: pvpanic: bad iobase \"0x10000\" (a port, 0 to 0xffff)\n");
	ctx_destroy(c);
}

/* ---- the PCI function ---- */

static uint32_t cfg(struct ctx *c, unsigned reg, unsigned len)
{
	return pci_guest_cfg_read(c->fm, SLOT, reg, len);
}

/* What Linux's PCI core and pvpanic-pci driver match and map. */
static void test_pci_identity(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(cfg(c, 0x00, 2), 0x1b36);
	assert_int_equal(cfg(c, 0x02, 2), 0x0011);
	assert_int_equal(cfg(c, 0x08, 4), 0x08800001);	/* class 08 80 00, revision 1 */
	assert_int_equal(cfg(c, 0x2c, 2), 0x1af4);
	assert_int_equal(cfg(c, 0x2e, 2), 0x1100);
	assert_int_equal(cfg(c, 0x0e, 1), 0);		/* header type 0, one function */
	assert_int_equal(cfg(c, 0x3d, 1), 0);		/* no interrupt pin */
	assert_int_equal(cfg(c, 0x04, 2) & 0x2, 0x2);	/* memory decoding on, as a BIOS leaves it */
	assert_int_equal(cfg(c, 0x06, 2) & 0x10, 0);	/* no capabilities */
	assert_int_equal(cfg(c, 0x10, 4), BAR0);	/* 32-bit memory, not prefetchable */
	for (unsigned bar = 1; bar < 6; bar++)
		assert_int_equal(cfg(c, 0x10 + 4 * bar, 4), 0);
	/* Sizing BAR0 as Linux does: decoding off, all-ones, read back, restore. */
	pci_guest_cfg_write(c->fm, SLOT, 0x04, 2, 0);
	pci_guest_cfg_write(c->fm, SLOT, 0x10, 4, 0xffffffff);
	assert_int_equal(cfg(c, 0x10, 4), 0xfffff000);
	assert_int_equal(fake_mmio_read(c->fm, BAR0, 1), 0xff);	/* not decoding */
	pci_guest_cfg_write(c->fm, SLOT, 0x10, 4, BAR0);
	pci_guest_cfg_write(c->fm, SLOT, 0x04, 2, 0x2);
	assert_int_equal(fake_mmio_read(c->fm, BAR0, 1), 3);
}

/* Every offset and length of the BAR: the register is bytes 0 and 1 (QEMU's window), the rest 0. */
static void test_pci_every_access(void **state)
{
	static const unsigned lens[] = { 1, 2, 4, 8 };
	struct ctx *c = *state;

	for (unsigned off = 0; off < 4096; off++) {
		for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
			unsigned len = lens[i];
			uint64_t want = 0, got;

			if (off + len > 4096) {
				assert_null(bus_lookup(c->fm->m.bus[BUS_MMIO], BAR0 + off, len));
				continue;
			}
			for (unsigned b = 0; b < len; b++)
				if (off + b < 2)
					want |= (uint64_t)3 << (8 * b);
			got = fake_mmio_read(c->fm, BAR0 + off, len);
			if (got != want)
				fail_msg("read of %u at +%#x: %#llx, want %#llx", len, off,
					 (unsigned long long)got, (unsigned long long)want);
			/* Outside the register a write is dropped, whatever it says. */
			if (off >= 2)
				fake_mmio_write(c->fm, BAR0 + off, len, ~0ULL);
		}
	}
	assert_int_equal(c->fm->nr_stops, 0);
	assert_string_equal(said(c), "");
}

static void test_pci_panicked(void **state)
{
	struct ctx *c = *state;

	/* What the driver does at panic: iowrite8(PVPANIC_PANICKED, base). */
	fake_mmio_write(c->fm, BAR0, 1, 1);
	assert_int_equal(c->fm->stop_why, STOP_PANIC);
	assert_int_equal(c->fm->stop_status, 6);
	assert_string_equal(c->fm->stop_detail, "guest panicked (pvpanic-pci event 0x1)");
}

/* A wider write is byte by byte, as QEMU splits it: the event in byte 1 counts. */
static void test_pci_wide_write(void **state)
{
	struct ctx *c = *state;

	fake_mmio_write(c->fm, BAR0, 2, 0x0200);
	assert_int_equal(c->fm->nr_stops, 0);
	assert_string_equal(said(c), "qlite: pvpanic-pci: guest panicked with a crash kernel loaded: "
			    "it runs on (kdump)\n");
	fake_mmio_write(c->fm, BAR0, 4, 0x01000000);	/* byte 3: outside the register */
	assert_int_equal(c->fm->nr_stops, 0);
	fake_mmio_write(c->fm, BAR0, 8, 0x0100);
	assert_int_equal(c->fm->nr_stops, 1);
	assert_int_equal(c->fm->stop_why, STOP_PANIC);
}

static void test_pci_no_host(void **state)
{
	struct ctx *c = ctx_create(false);

	spec_add(&c->spec, "pvpanic-pci", NULL, NULL);
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), -ENODEV);
	assert_string_equal(said(c), "vm.conf:2: pvpanic-pci: the machine has no PCI host\n");
	ctx_destroy(c);
}

/* Both at once, and two PCI functions: each its own slot and BAR, either one panics. */
static void test_both(void **state)
{
	struct ctx *c = ctx_create(true);

	spec_add(&c->spec, "pvpanic", NULL, NULL);
	spec_add(&c->spec, "pvpanic-pci", NULL, NULL);
	spec_add(&c->spec, "pvpanic-pci", NULL, NULL);
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	assert_int_equal(pci_guest_cfg_read(c->fm, 2, 0x02, 2), 0x0011);
	assert_int_equal(pci_guest_cfg_read(c->fm, 2, 0x10, 4), BAR0 + 0x1000);
	assert_int_equal(fake_mmio_read(c->fm, BAR0 + 0x1000, 1), 3);
	assert_int_equal(fake_pio_read(c->fm, PORT, 1), 3);
	fake_mmio_write(c->fm, BAR0 + 0x1000, 1, 1);
	assert_int_equal(c->fm->stop_why, STOP_PANIC);
	ctx_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_isa_read, setup_isa, teardown),
		cmocka_unit_test_setup_teardown(test_isa_panicked, setup_isa, teardown),
		cmocka_unit_test_setup_teardown(test_isa_other_events, setup_isa, teardown),
		cmocka_unit_test(test_isa_iobase),
		cmocka_unit_test_setup_teardown(test_pci_identity, setup_pci, teardown),
		cmocka_unit_test_setup_teardown(test_pci_every_access, setup_pci, teardown),
		cmocka_unit_test_setup_teardown(test_pci_panicked, setup_pci, teardown),
		cmocka_unit_test_setup_teardown(test_pci_wide_write, setup_pci, teardown),
		cmocka_unit_test(test_pci_no_host),
		cmocka_unit_test(test_both),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
