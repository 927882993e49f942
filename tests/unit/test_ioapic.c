// SPDX-License-Identifier: GPL-2.0-only
/*
 * qlite's IOAPIC (`irqchip split`) on the fake machine: its registers as a
 * guest reads them through IOREGSEL/IOWIN, edge and level pins with masking
 * and Remote IRR, EOIs from KVM and from the EOI register, the MSI each
 * redirection entry stands for (compatibility and remappable format), KVM's
 * route for level pins, interrupts through an IOMMU that remaps or blocks,
 * and the accesses a hostile guest can make.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "fake_machine.h"
#include "qlite/devices.h"
#include "qlite/platform.h"

#define SEL	IOAPIC_BASE
#define WIN	(IOAPIC_BASE + 0x10)
#define EOIREG	(IOAPIC_BASE + 0x40)

#define LEVEL	(1ULL << 15)
#define MASKED	(1ULL << 16)
#define RIRR	(1ULL << 14)

struct ctx {
	struct fake_machine *fm;
	struct ioapic *io;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	c->fm = fake_machine_create_accel();
	c->fm->m.split_irqchip = true;
	c->io = ioapic_create(&c->fm->m);
	assert_non_null(c->io);
	assert_ptr_equal(c->fm->m.ioapic, c->io);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	fake_machine_destroy(c->fm);
	free(c);
	return 0;
}

static uint32_t reg_read(struct ctx *c, unsigned reg)
{
	fake_mmio_write(c->fm, SEL, 4, reg);
	return (uint32_t)fake_mmio_read(c->fm, WIN, 4);
}

static void reg_write(struct ctx *c, unsigned reg, uint32_t val)
{
	fake_mmio_write(c->fm, SEL, 4, reg);
	fake_mmio_write(c->fm, WIN, 4, val);
}

static uint64_t rte_read(struct ctx *c, unsigned pin)
{
	return reg_read(c, 0x10 + 2 * pin) | (uint64_t)reg_read(c, 0x11 + 2 * pin) << 32;
}

/* High half first, so the entry is never live with a half-written destination. */
static void rte_write(struct ctx *c, unsigned pin, uint64_t rte)
{
	reg_write(c, 0x11 + 2 * pin, rte >> 32);
	reg_write(c, 0x10 + 2 * pin, (uint32_t)rte);
}

static void test_registers(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(reg_read(c, 0x01), 0x00170020);	/* 24 pins, version 0x20 */
	assert_int_equal(reg_read(c, 0x00), 0);
	reg_write(c, 0x00, 0xffffffff);
	assert_int_equal(reg_read(c, 0x00), 0x0f000000);	/* only ID bits 27:24 */
	assert_int_equal(reg_read(c, 0x02), 0x0f000000);	/* arbitration follows the ID */
	reg_write(c, 0x01, 0);
	reg_write(c, 0x02, 0);
	assert_int_equal(reg_read(c, 0x01), 0x00170020);
	assert_int_equal(reg_read(c, 0x02), 0x0f000000);
	for (unsigned pin = 0; pin < IOAPIC_NR_PINS; pin++)
		assert_int_equal(rte_read(c, pin), MASKED);
	/* Delivery status and Remote IRR are read-only. */
	rte_write(c, 3, 0xff000000000000ffULL | RIRR | (1ULL << 12) | MASKED);
	assert_int_equal(rte_read(c, 3), 0xff000000000000ffULL | MASKED);
	assert_int_equal(c->fm->nr_msi_calls, 0);
	/* IOREGSEL reads back; the window past the table reads 0 and ignores writes. */
	fake_mmio_write(c->fm, SEL, 4, 0x40);
	assert_int_equal(fake_mmio_read(c->fm, SEL, 4), 0x40);
	assert_int_equal(reg_read(c, 0x40), 0);
	reg_write(c, 0x40, 0x12345678);
	assert_int_equal(reg_read(c, 0xff), 0);
	assert_int_equal(rte_read(c, 23), MASKED);
}

static void test_edge(void **state)
{
	struct ctx *c = *state;

	rte_write(c, 5, 0x0100000000000040ULL);		/* vector 0x40, APIC 1, fixed, edge */
	ioapic_set_irq(c->io, 5, 1);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(c->fm->msi_calls[0].addr, 0xfee01000);
	assert_int_equal(c->fm->msi_calls[0].data, 0x40);
	/* Held high: no new edge. */
	ioapic_set_irq(c->io, 5, 1);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	ioapic_set_irq(c->io, 5, 0);
	ioapic_set_irq(c->io, 5, 1);
	ioapic_set_irq(c->io, 5, 0);
	assert_int_equal(c->fm->nr_msi_calls, 2);
	/* Edge pins neither set Remote IRR nor touch KVM's routes. */
	assert_int_equal(rte_read(c, 5) & RIRR, 0);
	assert_int_equal(c->fm->nr_ioapic_route_calls, 0);
	/* Logical destination mode and lowest priority reach the MSI. */
	rte_write(c, 6, 0x0300000000000941ULL);
	ioapic_set_irq(c->io, 6, 1);
	assert_int_equal(c->fm->msi_calls[2].addr, 0xfee03004);
	assert_int_equal(c->fm->msi_calls[2].data, 0x141);
}

static void test_masked_edge_latched(void **state)
{
	struct ctx *c = *state;

	rte_write(c, 7, MASKED | 0x51);
	ioapic_set_irq(c->io, 7, 1);
	ioapic_set_irq(c->io, 7, 0);
	assert_int_equal(c->fm->nr_msi_calls, 0);
	rte_write(c, 7, 0x51);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(c->fm->msi_calls[0].data, 0x51);
	/* Delivered once: unmasking again sends nothing. */
	rte_write(c, 7, MASKED | 0x51);
	rte_write(c, 7, 0x51);
	assert_int_equal(c->fm->nr_msi_calls, 1);
}

static void test_level(void **state)
{
	struct ctx *c = *state;

	rte_write(c, 16, 0x0200000000000000ULL | LEVEL | 0x60);
	ioapic_set_irq(c->io, 16, 1);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(c->fm->msi_calls[0].addr, 0xfee02000);
	assert_int_equal(c->fm->msi_calls[0].data, 0xc060);
	/* KVM routes the pin's GSI to the same MSI, so it reports the vector's EOI. */
	assert_int_equal(c->fm->ioapic_routes[16].gsi, 16);
	assert_int_equal(c->fm->ioapic_routes[16].addr, 0xfee02000);
	assert_int_equal(c->fm->ioapic_routes[16].data, 0xc060);
	assert_int_equal(c->fm->nr_ioapic_route_calls, 1);
	assert_true(rte_read(c, 16) & RIRR);
	/* Remote IRR holds the line back. */
	ioapic_set_irq(c->io, 16, 0);
	ioapic_set_irq(c->io, 16, 1);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	/* An EOI of another vector changes nothing; of the pin's, it fires again (still high). */
	ioapic_eoi(c->io, 0x61);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	ioapic_eoi(c->io, 0x60);
	assert_int_equal(c->fm->nr_msi_calls, 2);
	assert_int_equal(c->fm->nr_ioapic_route_calls, 1);	/* the same route: not rewritten */
	/* Lowered, then EOI'd through the EOI register: Remote IRR clears, nothing is sent. */
	ioapic_set_irq(c->io, 16, 0);
	fake_mmio_write(c->fm, EOIREG, 4, 0x60);
	assert_int_equal(c->fm->nr_msi_calls, 2);
	assert_int_equal(rte_read(c, 16) & RIRR, 0);
	/* Masked while high: held; unmasking delivers. */
	rte_write(c, 16, MASKED | LEVEL | 0x60);
	ioapic_set_irq(c->io, 16, 1);
	assert_int_equal(c->fm->nr_msi_calls, 2);
	rte_write(c, 16, LEVEL | 0x62);
	assert_int_equal(c->fm->nr_msi_calls, 3);
	assert_int_equal(c->fm->msi_calls[2].data, 0xc062);
	assert_int_equal(c->fm->ioapic_routes[16].data, 0xc062);
}

static void test_remappable_format(void **state)
{
	struct ctx *c = *state;
	/* Format bit 48, handle[14:0] in 63:49, handle[15] in bit 11: handle 0x8005. */
	uint64_t rte = 1ULL << 48 | 5ULL << 49 | 1ULL << 11 | 0x70;

	rte_write(c, 9, rte);
	ioapic_set_irq(c->io, 9, 1);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(c->fm->msi_calls[0].addr, 0xfee00000 | 5 << 5 | 1 << 4 | 1 << 2);
	assert_int_equal(c->fm->msi_calls[0].data, 0x70);
}

/* An IOMMU that remaps the IOAPIC's interrupts to vector 0x99, or blocks them. */
struct fake_iommu {
	bool block;
	unsigned calls;
	uint16_t sid;
};

static int fake_msi_translate(void *opaque, uint16_t sid, uint64_t *addr, uint32_t *data)
{
	struct fake_iommu *f = opaque;

	f->calls++;
	f->sid = sid;
	if (f->block)
		return -EFAULT;
	*addr = 0xfee05000;
	*data = (*data & ~0xffu) | 0x99;
	return 0;
}

static int fake_dma_translate(void *opaque, uint16_t sid, uint64_t iova, bool write,
			      uint64_t *gpa, uint64_t *len)
{
	return -EFAULT;
}

static const struct machine_iommu_ops fake_iommu_ops = {
	.dma_translate = fake_dma_translate,
	.msi_translate = fake_msi_translate,
};

static void test_through_iommu(void **state)
{
	struct ctx *c = *state;
	struct fake_iommu f = { 0 };

	assert_int_equal(machine_set_iommu(&c->fm->m, &fake_iommu_ops, &f, 0xfed90000, true), 0);
	rte_write(c, 17, LEVEL | 0x71 | 1ULL << 48);
	ioapic_set_irq(c->io, 17, 1);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.sid, MACHINE_SID_IOAPIC);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(c->fm->msi_calls[0].addr, 0xfee05000);
	assert_int_equal(c->fm->msi_calls[0].data, 0xc099);
	/* KVM's route is the remapped message: the EOI KVM reports is of vector 0x99. */
	assert_int_equal(c->fm->ioapic_routes[17].data, 0xc099);
	/*
	 * EOIs match the entry's vector, as the 82093AA's: VT-d asks software to
	 * give a level-triggered entry the vector of its IRTE, and one that does
	 * not keeps Remote IRR until an EOI of the entry's vector.
	 */
	ioapic_eoi(c->io, 0x99);
	assert_true(rte_read(c, 17) & RIRR);
	ioapic_set_irq(c->io, 17, 0);
	ioapic_eoi(c->io, 0x71);
	assert_int_equal(rte_read(c, 17) & RIRR, 0);
	/* Blocked: dropped, nothing pending, Remote IRR stays clear. */
	f.block = true;
	rte_write(c, 4, 0x72);
	ioapic_set_irq(c->io, 4, 1);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	f.block = false;
	rte_write(c, 4, MASKED | 0x72);
	rte_write(c, 4, 0x72);
	assert_int_equal(c->fm->nr_msi_calls, 1);
}

static void test_hostile(void **state)
{
	struct ctx *c = *state;

	/* Odd widths and offsets: no crash, no interrupt. */
	for (uint64_t off = 0; off < 0x100; off++) {
		for (unsigned len = 1; len <= 8; len *= 2) {
			if ((off & (len - 1)) != 0)
				continue;
			fake_mmio_write(c->fm, IOAPIC_BASE + off, len, 0xffffffffu);
			(void)fake_mmio_read(c->fm, IOAPIC_BASE + off, len);
		}
	}
	ioapic_set_irq(c->io, IOAPIC_NR_PINS, 1);
	ioapic_set_irq(c->io, 1000, 1);
	ioapic_eoi(c->io, 0x1ff);
	assert_int_equal(c->fm->nr_msi_calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_masked_edge_latched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remappable_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_through_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
