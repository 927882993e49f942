// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci-testdev on the fake machine, driven as kvm-unit-tests' vmexit and
 * lib/pci-testdev.c drive it: the PCI identity and BARs, each of the six
 * tests' headers, which test writes count and which the doorbell takes
 * (with the fake kernel's ioeventfd: no exit; without it: an exit that
 * reaches no device), doorbells that follow a moved BAR and stop with their
 * test, and every read past the header.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_machine.h"
#include "pci_guest.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define SLOT	1

struct ctx {
	struct fake_machine *fm;
	struct vm_spec spec;
	struct vdev_spec vs;
	uint64_t mem;		/* BAR0 */
	uint16_t io;		/* BAR1 */
};

static struct ctx *ctx_create(bool accel)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->fm = accel ? fake_machine_create_accel() : fake_machine_create();
	assert_non_null(pci_host_create(&c->fm->m));
	c->vs = (struct vdev_spec){ .type = "pci-testdev",
				    .origin = { .file = "vm.conf", .line = 2, .option = "vdev" } };
	c->spec.vdevs = &c->vs;
	c->spec.nr_vdevs = 1;
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	c->mem = pci_guest_cfg_read(c->fm, SLOT, PCI_BASE_ADDRESS_0, 4) & PCI_BASE_ADDRESS_MEM_MASK;
	c->io = pci_guest_cfg_read(c->fm, SLOT, PCI_BASE_ADDRESS_1, 4) & PCI_BASE_ADDRESS_IO_MASK;
	return c;
}

static int setup_accel(void **state)
{
	*state = ctx_create(true);
	return 0;
}

static int setup_user(void **state)
{
	*state = ctx_create(false);
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	pci_host_destroy(c->fm->m.pci);
	fake_machine_destroy(c->fm);
	free(c);
	return 0;
}

/* BAR access through the guest's view of either BAR. */
static uint32_t bar_read(struct ctx *c, bool io, unsigned off, unsigned len)
{
	return io ? fake_pio_read(c->fm, c->io + off, len) :
		    (uint32_t)fake_mmio_read(c->fm, c->mem + off, len);
}

static void bar_write(struct ctx *c, bool io, unsigned off, unsigned len, uint32_t v)
{
	if (io)
		fake_pio_write(c->fm, c->io + off, len, v);
	else
		fake_mmio_write(c->fm, c->mem + off, len, v);
}

static uint64_t rings(struct ctx *c)
{
	struct device_report rep = { .n = 0 };

	for (unsigned i = 0; i < c->fm->m.nr_reports; i++) {
		const struct machine_report_src *src = &c->fm->m.reports[i];

		if (strcmp(src->name, "pci-testdev"))
			continue;
		src->fn(src->opaque, &rep);
		assert_int_equal(rep.n, 1);
		assert_string_equal(rep.c[0].name, "doorbell_rings");
		return rep.c[0].value;
	}
	fail_msg("no pci-testdev report");
	return 0;
}

/* What lib/pci-testdev.c's pci_testdev_one() does: start, check, write 16 times. */
static uint32_t guest_run_test(struct ctx *c, bool io, unsigned nr, uint32_t *offset)
{
	bar_write(c, io, 0, 1, nr);
	assert_int_equal(bar_read(c, io, 12, 4), 0);
	assert_int_equal(bar_read(c, io, 1, 1), 1);
	*offset = bar_read(c, io, 4, 4);
	for (unsigned i = 0; i < 16; i++)
		bar_write(c, io, *offset, 1, bar_read(c, io, 8, 4));
	return bar_read(c, io, 12, 4);
}

static void test_identity(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_VENDOR_ID, 2), 0x1b36);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_DEVICE_ID, 2), 0x0005);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_CLASS_DEVICE, 2), 0x00ff);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_REVISION_ID, 1), 0);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_INTERRUPT_PIN, 1), 0);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	/* BAR0 memory (4 KiB), BAR1 ports (256), as vmexit asserts. */
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_BASE_ADDRESS_0, 4) & 1, 0);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_BASE_ADDRESS_1, 4) & 1, 1);
	pci_guest_cfg_write(c->fm, SLOT, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_BASE_ADDRESS_0, 4), 0xfffff000);
	pci_guest_cfg_write(c->fm, SLOT, PCI_BASE_ADDRESS_0, 4, (uint32_t)c->mem);
	pci_guest_cfg_write(c->fm, SLOT, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_BASE_ADDRESS_1, 4) & 0xffff, 0xff01);
	pci_guest_cfg_write(c->fm, SLOT, PCI_BASE_ADDRESS_1, 4, c->io);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_BASE_ADDRESS_2, 4), 0);
}

/* Each test's header, byte by byte as QEMU serves it, and 0 from its name's NUL on. */
static void test_headers(void **state)
{
	static const char *const names[] = {
		"mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd",
		"portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd",
	};
	struct ctx *c = *state;

	/* No test running: everything reads 0. */
	assert_int_equal(bar_read(c, false, 0, 4), 0);
	assert_int_equal(bar_read(c, true, 16, 4), 0);
	for (unsigned i = 0; i < 6; i++) {
		bool io = i >= 3;
		unsigned len = strlen(names[i]);
		char name[32] = "";

		/* A 4-byte write to TEST is four bytes: the low one starts the test. */
		bar_write(c, io, 0, 4, 0xffffff00 | (i % 3));
		assert_int_equal(bar_read(c, io, 0, 1), i);
		assert_int_equal(bar_read(c, io, 1, 1), 1);
		assert_int_equal(bar_read(c, io, 2, 2), 0);
		assert_int_equal(bar_read(c, io, 4, 4), (io ? 128 : 2048) + i);
		assert_int_equal(bar_read(c, io, 8, 4), i % 3 == 1 ? 0xce : 0xfa);
		assert_int_equal(bar_read(c, io, 12, 4), 0);
		for (unsigned k = 0; k < len; k++)
			name[k] = bar_read(c, io, 16 + k, 1);
		assert_string_equal(name, names[i]);
		assert_int_equal(bar_read(c, io, 16 + len, 1), 0);
		/* Across the NUL: the last letter, then 0. */
		assert_int_equal(bar_read(c, io, 16 + len - 1, 2), (uint8_t)names[i][len - 1]);
		assert_int_equal(bar_read(c, io, 64, 4), 0);
		/* The other BAR's test registers read this test's header too. */
		assert_int_equal(bar_read(c, !io, 0, 1), i);
	}
	/* A test number of 3 or more stops the test. */
	bar_write(c, false, 0, 1, 3);
	assert_int_equal(bar_read(c, false, 0, 4), 0);
	assert_int_equal(bar_read(c, false, 4, 4), 0);
}

/* With KVM's ioeventfd: eventfd tests' writes never exit and COUNT stays 0. */
static void test_counts_in_kernel(void **state)
{
	struct ctx *c = *state;
	uint32_t off;
	unsigned exits;

	for (unsigned io = 0; io < 2; io++) {
		exits = fake_exits(c->fm);
		assert_int_equal(guest_run_test(c, io, 0, &off), 16);
		/* start 1, count 1, width 1, offset 1, 16 x (data 1 + write 1), count 1 */
		assert_int_equal(fake_exits(c->fm) - exits, 4 + 32 + 1);
		/* Another value or offset does not count. */
		bar_write(c, io, off, 1, 0xfb);
		bar_write(c, io, off + 1, 1, 0xfa);
		assert_int_equal(bar_read(c, io, 12, 4), 16);

		for (unsigned t = 1; t < 3; t++) {
			uint64_t before = rings(c);

			exits = fake_exits(c->fm);
			assert_int_equal(guest_run_test(c, io, t, &off), 0);
			assert_int_equal(fake_exits(c->fm) - exits, 4 + 16 + 1);
			assert_int_equal(fake_run_io(c->fm, 1, 1000), 1);
			assert_int_equal(rings(c) - before, 16);
		}
		/* Datamatch: another value exits and does not count either. */
		exits = fake_exits(c->fm);
		bar_write(c, io, off, 1, 0xfb);
		assert_int_equal(fake_exits(c->fm) - exits, 1);
		assert_int_equal(bar_read(c, io, 12, 4), 0);
		/* A wider write is no doorbell's (KVM matches the length): it counts, as in QEMU. */
		bar_write(c, io, 1, 1, 0);
		bar_write(c, io, 0, 1, 1);
		off = bar_read(c, io, 4, 4);
		bar_write(c, io, off, 2, 0x1234);
		assert_int_equal(bar_read(c, io, 12, 4), 1);
	}
}

/* Without ioeventfd: the doorbell's write exits, reaches no device, and still does not count. */
static void test_counts_userspace(void **state)
{
	struct ctx *c = *state;
	uint32_t off;
	unsigned exits;

	for (unsigned io = 0; io < 2; io++) {
		uint64_t before = rings(c);

		exits = fake_exits(c->fm);
		assert_int_equal(guest_run_test(c, io, 1, &off), 0);
		assert_int_equal(fake_exits(c->fm) - exits, 4 + 32 + 1);
		assert_int_equal(fake_run_io(c->fm, 1, 1000), 1);
		assert_int_equal(rings(c) - before, 16);
	}
}

/* The running test's doorbell follows its BAR; another test, or none, has no doorbell. */
static void test_doorbell_follows(void **state)
{
	struct ctx *c = *state;
	uint64_t moved = c->mem + 0x10000;
	unsigned exits;
	uint32_t off;

	bar_write(c, false, 0, 1, 1);
	off = bar_read(c, false, 4, 4);
	pci_guest_cfg_write(c->fm, SLOT, PCI_BASE_ADDRESS_0, 4, (uint32_t)moved);
	c->mem = moved;
	exits = fake_exits(c->fm);
	bar_write(c, false, off, 1, 0x55);
	assert_int_equal(fake_exits(c->fm), exits);
	/* Decoding off: no doorbell anywhere, nothing claimed. */
	pci_guest_cfg_write(c->fm, SLOT, PCI_COMMAND, 2, PCI_COMMAND_IO);
	exits = fake_exits(c->fm);
	fake_mmio_write(c->fm, moved + off, 1, 0x55);
	assert_int_equal(fake_exits(c->fm), exits + 1);
	assert_null(bus_lookup(c->fm->m.bus[BUS_MMIO], moved + off, 1));
	pci_guest_cfg_write(c->fm, SLOT, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	exits = fake_exits(c->fm);
	bar_write(c, false, off, 1, 0x55);
	assert_int_equal(fake_exits(c->fm), exits);
	/* Test 0 now: the wildcard test's offset is an ordinary write that counts nothing. */
	bar_write(c, false, 0, 1, 0);
	exits = fake_exits(c->fm);
	bar_write(c, false, off, 1, 0xfa);
	assert_int_equal(fake_exits(c->fm), exits + 1);
	assert_int_equal(bar_read(c, false, 12, 4), 0);
	assert_int_equal(fake_run_io(c->fm, 1, 1000), 1);
	assert_int_equal(rings(c), 2);
}

static void test_reg_names(void **state)
{
	struct ctx *c = *state;
	const struct bus_region *r = bus_lookup(c->fm->m.bus[BUS_MMIO], c->mem, 1);

	assert_non_null(r);
	assert_string_equal(r->name, "pci-testdev");
	assert_string_equal(r->ops->reg_name(r->opaque, 0), "TEST");
	assert_string_equal(r->ops->reg_name(r->opaque, 4), "OFFSET");
	assert_string_equal(r->ops->reg_name(r->opaque, 8), "DATA");
	assert_string_equal(r->ops->reg_name(r->opaque, 12), "COUNT");
	assert_string_equal(r->ops->reg_name(r->opaque, 20), "NAME");
	assert_string_equal(r->ops->reg_name(r->opaque, 2048), "TEST_WRITE");
	assert_null(r->ops->reg_name(r->opaque, 3000));
	r = bus_lookup(c->fm->m.bus[BUS_PIO], c->io, 1);
	assert_non_null(r);
	assert_string_equal(r->ops->reg_name(r->opaque, 133), "TEST_WRITE");
	assert_string_equal(r->ops->reg_name(r->opaque, 1), "WIDTH");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup_accel, teardown),
		cmocka_unit_test_setup_teardown(test_headers, setup_accel, teardown),
		cmocka_unit_test_setup_teardown(test_counts_in_kernel, setup_accel, teardown),
		cmocka_unit_test_setup_teardown(test_counts_userspace, setup_user, teardown),
		cmocka_unit_test_setup_teardown(test_doorbell_follows, setup_accel, teardown),
		cmocka_unit_test_setup_teardown(test_reg_names, setup_accel, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
