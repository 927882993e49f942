// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu on the fake machine, driven as kvm-unit-tests' lib/pci-edu.c and
 * x86/intel-iommu.c drive it: identity and BAR, ID and liveness, the
 * factorial finished on the I/O loop, DMA both ways straight to RAM and
 * through a fake IOMMU (translated, refused), DMA outside the buffer,
 * access widths, INTx raised and acknowledged, MSI instead of INTx, and the
 * MSI capability's config-space behaviour (pci_msi.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>

#include "fake_machine.h"
#include "pci_guest.h"
#include "qlite/guest_mem.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define SLOT		1
#define GSI		(PCI_GSI_BASE + SLOT)	/* pin A of slot 1 */
#define SID		(SLOT << 3)
#define RAM_SIZE	(16u << 20)

#define ID		0x00
#define LIVENESS	0x04
#define FACTORIAL	0x08
#define STATUS		0x20
#define INTR_STATUS	0x24
#define INTR_RAISE	0x60
#define INTR_ACK	0x64
#define DMA_SRC		0x80
#define DMA_DST		0x88
#define DMA_COUNT	0x90
#define DMA_CMD		0x98

#define CMD_START	0x1
#define CMD_TO_RAM	0x2
#define CMD_IRQ		0x4
#define BUF		0x40000ull

/* The fake IOMMU: iova + IOMMU_SHIFT, refusing from IOMMU_LIMIT on; MSIs get a new data. */
#define IOMMU_SHIFT	0x300000ull
#define IOMMU_LIMIT	0x800000ull
#define IOMMU_PAGE	0x1000ull
#define REMAPPED_DATA	0x77

struct ctx {
	struct fake_machine *fm;
	struct guest_mem gm;
	struct vm_spec spec;
	struct vdev_spec vs;
	uint64_t bar;
	unsigned msi;		/* the MSI capability's offset */
	/* The fake IOMMU's view. */
	unsigned translations, msi_translations;
	uint16_t last_sid;
	bool block_msi;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->fm = fake_machine_create();
	assert_int_equal(guest_mem_init(&c->gm, RAM_SIZE, false), 0);
	c->fm->m.mem = &c->gm;
	assert_non_null(pci_host_create(&c->fm->m));
	c->vs = (struct vdev_spec){ .type = "edu",
				    .origin = { .file = "vm.conf", .line = 2, .option = "vdev" } };
	c->spec.vdevs = &c->vs;
	c->spec.nr_vdevs = 1;
	assert_int_equal(vdev_create_all(&c->fm->m, &c->spec), 0);
	c->bar = pci_guest_cfg_read(c->fm, SLOT, PCI_BASE_ADDRESS_0, 4) & PCI_BASE_ADDRESS_MEM_MASK;
	c->msi = pci_guest_find_cap(c->fm, SLOT, PCI_CAP_ID_MSI, 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	pci_host_destroy(c->fm->m.pci);
	fake_machine_destroy(c->fm);
	guest_mem_destroy(&c->gm);
	free(c);
	return 0;
}

static uint64_t rd(struct ctx *c, unsigned off, unsigned len)
{
	return fake_mmio_read(c->fm, c->bar + off, len);
}

static void wr(struct ctx *c, unsigned off, unsigned len, uint64_t v)
{
	fake_mmio_write(c->fm, c->bar + off, len, v);
}

/* The I/O thread's turn: the one timer the last command armed. */
static void run_io(struct ctx *c)
{
	assert_int_equal(fake_run_io(c->fm, 1, 2000), 1);
}

static uint64_t counter(struct ctx *c, const char *name)
{
	struct device_report rep = { .n = 0 };

	for (unsigned i = 0; i < c->fm->m.nr_reports; i++) {
		const struct machine_report_src *src = &c->fm->m.reports[i];

		if (strcmp(src->name, "edu"))
			continue;
		src->fn(src->opaque, &rep);
		for (unsigned j = 0; j < rep.n; j++)
			if (!strcmp(rep.c[j].name, name))
				return rep.c[j].value;
		fail_msg("edu reports no %s", name);
	}
	fail_msg("no edu report");
	return 0;
}

/* What lib/pci-edu.c's edu_dma() does, then the I/O loop's turn. */
static void dma(struct ctx *c, uint64_t src, uint64_t dst, uint64_t count, uint32_t cmd)
{
	wr(c, DMA_SRC, 8, src);
	wr(c, DMA_DST, 8, dst);
	wr(c, DMA_COUNT, 8, count);
	wr(c, DMA_CMD, 4, cmd | CMD_START);
	/* Not done inside the write: the guest polls. */
	assert_int_equal(rd(c, DMA_CMD, 4) & CMD_START, CMD_START);
	run_io(c);
	assert_int_equal(rd(c, DMA_CMD, 4) & CMD_START, 0);
}

static void fill(struct ctx *c, uint64_t gpa, size_t len, uint8_t seed)
{
	uint8_t *p = guest_mem_ptr(&c->gm, gpa, len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static const uint8_t *ram(struct ctx *c, uint64_t gpa, size_t len)
{
	const uint8_t *p = guest_mem_ptr(&c->gm, gpa, len);

	assert_non_null(p);
	return p;
}

static void test_identity(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_DEVICE_ID, 2), 0x11e8);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_REVISION_ID, 1), 0x10);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_CLASS_DEVICE, 2), 0x00ff);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_SUBSYSTEM_ID, 2), 0x1100);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_INTERRUPT_LINE, 1), GSI);
	/* BAR0: 1 MiB of 32-bit memory; nothing else. */
	pci_guest_cfg_write(c->fm, SLOT, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_BASE_ADDRESS_0, 4), 0xfff00000);
	pci_guest_cfg_write(c->fm, SLOT, PCI_BASE_ADDRESS_0, 4, (uint32_t)c->bar);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, PCI_BASE_ADDRESS_1, 4), 0);
	/* The one capability, MSI, where QEMU puts it. */
	assert_int_equal(c->msi, 0x40);
	assert_int_equal(pci_guest_find_cap(c->fm, SLOT, PCI_CAP_ID_MSI, c->msi), 0);
	assert_int_equal(pci_guest_find_cap(c->fm, SLOT, PCI_CAP_ID_MSIX, 0), 0);
}

static void test_id_liveness(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(rd(c, ID, 4), 0x010000ed);
	/* Read-only. */
	wr(c, ID, 4, 0);
	assert_int_equal(rd(c, ID, 4), 0x010000ed);
	for (uint32_t v = 1; v < 5; v++) {
		wr(c, LIVENESS, 4, v);
		assert_int_equal(rd(c, LIVENESS, 4), (uint32_t)~v);
	}
	wr(c, LIVENESS, 4, 0x12345678);
	assert_int_equal(rd(c, LIVENESS, 4), 0xedcba987);
}

static uint32_t fact(struct ctx *c, uint32_t n)
{
	wr(c, FACTORIAL, 4, n);
	assert_int_equal(rd(c, STATUS, 4) & 1, 1);
	run_io(c);
	assert_int_equal(rd(c, STATUS, 4) & 1, 0);
	return (uint32_t)rd(c, FACTORIAL, 4);
}

static void test_factorial(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(fact(c, 0), 1);
	assert_int_equal(fact(c, 1), 1);
	assert_int_equal(fact(c, 10), 3628800);
	assert_int_equal(fact(c, 12), 479001600);
	/* 13! = 6227020800, kept modulo 2^32. */
	assert_int_equal(fact(c, 13), (uint32_t)6227020800ull);
	assert_int_equal(fact(c, 33), (uint32_t)0x80000000);
	assert_int_equal(fact(c, 34), 0);
	/* A hostile n finishes at once. */
	assert_int_equal(fact(c, 0xffffffff), 0);
	assert_int_equal(counter(c, "factorials"), 8);

	/* Computing: the input reads back, a second write is ignored, STATUS bit 0 is read-only. */
	wr(c, FACTORIAL, 4, 5);
	assert_int_equal(rd(c, FACTORIAL, 4), 5);
	wr(c, FACTORIAL, 4, 6);
	wr(c, STATUS, 4, 0);
	assert_int_equal(rd(c, STATUS, 4), 1);
	run_io(c);
	assert_int_equal(rd(c, FACTORIAL, 4), 120);
	assert_int_equal(rd(c, STATUS, 4), 0);
	wr(c, STATUS, 4, 0xff);
	assert_int_equal(rd(c, STATUS, 4), 0x80);
	/* No interrupt asked for: none came. */
	assert_int_equal(rd(c, INTR_STATUS, 4), 0);
	assert_int_equal(c->fm->irq_level[GSI], 0);
}

static void test_factorial_irq(void **state)
{
	struct ctx *c = *state;

	wr(c, STATUS, 4, 0x80);
	wr(c, FACTORIAL, 4, 4);
	assert_int_equal(c->fm->irq_level[GSI], 0);
	run_io(c);
	assert_int_equal(rd(c, FACTORIAL, 4), 24);
	assert_int_equal(rd(c, INTR_STATUS, 4), 0x1);
	assert_int_equal(c->fm->irq_level[GSI], 1);
	wr(c, INTR_ACK, 4, 1);
	assert_int_equal(c->fm->irq_level[GSI], 0);
	assert_int_equal(counter(c, "interrupts_raised"), 1);
}

static void test_dma_identity(void **state)
{
	struct ctx *c = *state;
	uint8_t want[300];

	fill(c, 0x100000, sizeof(want), 3);
	memcpy(want, ram(c, 0x100000, sizeof(want)), sizeof(want));
	/* RAM -> buffer at offset 16, then back out to another page. */
	dma(c, 0x100000, BUF + 16, sizeof(want), 0);
	dma(c, BUF + 16, 0x200000, sizeof(want), CMD_TO_RAM);
	assert_memory_equal(ram(c, 0x200000, sizeof(want)), want, sizeof(want));
	/* The buffer's last byte and the whole buffer. */
	dma(c, 0x100000, BUF + 4095, 1, 0);
	dma(c, BUF + 4095, 0x300000, 1, CMD_TO_RAM);
	assert_int_equal(*ram(c, 0x300000, 1), want[0]);
	fill(c, 0x400000, 4096, 9);
	dma(c, 0x400000, BUF, 4096, 0);
	dma(c, BUF, 0x500000, 4096, CMD_TO_RAM);
	assert_memory_equal(ram(c, 0x500000, 4096), ram(c, 0x400000, 4096), 4096);
	/* The RAM side has 28 address bits: bit 28 and up are dropped, as QEMU's dma_mask does. */
	fill(c, 0x600000, 64, 1);
	dma(c, 0xf0600000ull | 1ull << 40, BUF, 64, 0);
	dma(c, BUF, 0x700000, 64, CMD_TO_RAM);
	assert_memory_equal(ram(c, 0x700000, 64), ram(c, 0x600000, 64), 64);
	assert_int_equal(counter(c, "dma_to_device"), 4);
	assert_int_equal(counter(c, "dma_from_device"), 4);
	assert_int_equal(counter(c, "dma_refused"), 0);
	/* No interrupt asked for. */
	assert_int_equal(rd(c, INTR_STATUS, 4), 0);
	/* Parameters read back; the command without START. */
	assert_int_equal(rd(c, DMA_SRC, 8), BUF);
	assert_int_equal(rd(c, DMA_DST, 8), 0x700000);
	assert_int_equal(rd(c, DMA_COUNT, 8), 64);
	assert_int_equal(rd(c, DMA_CMD, 8), CMD_TO_RAM);
}

static void test_dma_irq_and_busy(void **state)
{
	struct ctx *c = *state;

	fill(c, 0x100000, 8, 0);
	wr(c, DMA_SRC, 8, 0x100000);
	wr(c, DMA_DST, 8, BUF);
	wr(c, DMA_COUNT, 4, 8);
	wr(c, DMA_CMD, 4, CMD_START | CMD_IRQ);
	/* While it runs, the parameters and the command are frozen. */
	wr(c, DMA_SRC, 8, 0x900000);
	wr(c, DMA_COUNT, 4, 4096);
	wr(c, DMA_CMD, 4, CMD_START | CMD_TO_RAM);
	assert_int_equal(rd(c, DMA_SRC, 8), 0x100000);
	assert_int_equal(rd(c, DMA_COUNT, 8), 8);
	assert_int_equal(rd(c, DMA_CMD, 4), CMD_START | CMD_IRQ);
	run_io(c);
	assert_int_equal(rd(c, DMA_CMD, 4), CMD_IRQ);
	assert_int_equal(rd(c, INTR_STATUS, 4), 0x100);
	assert_int_equal(c->fm->irq_level[GSI], 1);
	wr(c, INTR_ACK, 4, 0x100);
	assert_int_equal(c->fm->irq_level[GSI], 0);
	/* A command without START starts nothing and is not stored. */
	wr(c, DMA_CMD, 4, CMD_TO_RAM);
	assert_int_equal(rd(c, DMA_CMD, 4), CMD_IRQ);
	assert_int_equal(fake_run_io(c->fm, 1, 50), 0);
	assert_int_equal(counter(c, "dma_to_device"), 1);
}

static void test_dma_out_of_buffer(void **state)
{
	static const struct { uint64_t dev, count; } bad[] = {
		{ BUF + 4000, 200 },		/* runs past the end */
		{ BUF - 1, 2 },			/* starts before it */
		{ 0, 16 },
		{ BUF + 4096, 1 },
		{ BUF, 4097 },
		{ BUF + 8, ~0ull - 4 },		/* wraps */
		{ ~0ull, 2 },
	};
	struct ctx *c = *state;
	uint8_t before[64];

	fill(c, 0x100000, 4096, 5);
	memcpy(before, ram(c, 0x100000, sizeof(before)), sizeof(before));
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		/* Into the device: nothing lands; out of it: RAM is untouched. */
		dma(c, 0x100000, bad[i].dev, bad[i].count, CMD_IRQ);
		dma(c, bad[i].dev, 0x100000, bad[i].count, CMD_TO_RAM | CMD_IRQ);
		assert_memory_equal(ram(c, 0x100000, sizeof(before)), before, sizeof(before));
	}
	assert_int_equal(counter(c, "dma_out_of_buffer"), 2 * ARRAY_SIZE(bad));
	assert_int_equal(counter(c, "dma_to_device"), 0);
	assert_int_equal(counter(c, "dma_from_device"), 0);
	/* The command completed: its interrupt came. */
	assert_int_equal(rd(c, INTR_STATUS, 4), 0x100);
	/* The buffer still holds zeroes: nothing was copied in. */
	dma(c, BUF, 0x100000, 64, CMD_TO_RAM);
	assert_int_equal(ram(c, 0x100000, 64)[63], 0);
	/* Outside RAM is refused by the machine. */
	dma(c, RAM_SIZE - 8, BUF, 16, 0);
	assert_int_equal(counter(c, "dma_refused"), 1);
}

/* ---- the fake IOMMU ---- */

static int iommu_dma(void *opaque, uint16_t sid, uint64_t iova, bool write, uint64_t *gpa,
		     uint64_t *len)
{
	struct ctx *c = opaque;

	(void)write;
	c->translations++;
	c->last_sid = sid;
	if (iova >= IOMMU_LIMIT)
		return -EFAULT;
	*gpa = iova + IOMMU_SHIFT;
	*len = IOMMU_PAGE - (iova & (IOMMU_PAGE - 1));
	return 0;
}

static int iommu_msi(void *opaque, uint16_t sid, uint64_t *addr, uint32_t *data)
{
	struct ctx *c = opaque;

	(void)addr;
	c->msi_translations++;
	c->last_sid = sid;
	if (c->block_msi)
		return -EFAULT;
	*data = REMAPPED_DATA;
	return 0;
}

static const struct machine_iommu_ops fake_iommu = {
	.dma_translate = iommu_dma,
	.msi_translate = iommu_msi,
};

static void test_dma_iommu(void **state)
{
	struct ctx *c = *state;
	uint8_t want[5000 - 4096 + 100];

	assert_int_equal(machine_set_iommu(&c->fm->m, &fake_iommu, c, 0xfed90000, true), 0);
	/* iova 0x1f00..0x2064 crosses a page: two translations, both applied. */
	fill(c, 0x1f00 + IOMMU_SHIFT, sizeof(want), 11);
	memcpy(want, ram(c, 0x1f00 + IOMMU_SHIFT, sizeof(want)), sizeof(want));
	dma(c, 0x1f00, BUF, sizeof(want), 0);
	assert_int_equal(c->last_sid, SID);
	dma(c, BUF, 0x5000, sizeof(want), CMD_TO_RAM);
	assert_memory_equal(ram(c, 0x5000 + IOMMU_SHIFT, sizeof(want)), want, sizeof(want));
	/* Untranslated, that address holds nothing of it. */
	assert_int_equal(ram(c, 0x5000, 1)[0], 0);
	assert_int_equal(counter(c, "dma_to_device"), 1);
	assert_int_equal(counter(c, "dma_from_device"), 1);

	/* Refused both ways: dropped, counted, the buffer and RAM untouched, START cleared. */
	fill(c, IOMMU_LIMIT, 16, 99);
	dma(c, IOMMU_LIMIT, BUF, 16, CMD_IRQ);
	dma(c, BUF, IOMMU_LIMIT - 8, 16, CMD_TO_RAM);
	assert_int_equal(counter(c, "dma_refused"), 2);
	dma(c, BUF, 0x6000, 16, CMD_TO_RAM);
	assert_memory_equal(ram(c, 0x6000 + IOMMU_SHIFT, 16), want, 16);
	assert_int_equal(counter(c, "dma_to_device"), 1);
	assert_int_equal(counter(c, "dma_from_device"), 2);
	/* The refused one still completed with its interrupt. */
	assert_int_equal(rd(c, INTR_STATUS, 4), 0x100);
}

static void test_widths(void **state)
{
	struct ctx *c = *state;

	/* Below 0x80 only 4 bytes: other widths read all-ones and write nothing. */
	assert_int_equal(rd(c, ID, 1), 0xff);
	assert_int_equal(rd(c, ID, 2), 0xffff);
	assert_int_equal(rd(c, ID, 8), ~0ull);
	wr(c, LIVENESS, 4, 0);
	wr(c, LIVENESS, 2, 0x1234);
	wr(c, LIVENESS, 1, 0x12);
	wr(c, LIVENESS, 8, 0x1234);
	assert_int_equal(rd(c, LIVENESS, 4), 0xffffffff);
	wr(c, FACTORIAL, 2, 5);
	assert_int_equal(rd(c, STATUS, 4), 0);
	wr(c, INTR_RAISE, 8, 1);
	wr(c, INTR_RAISE, 1, 1);
	assert_int_equal(rd(c, INTR_STATUS, 4), 0);
	/* From 0x80, 4 or 8; a 4-byte write sets the whole register, zero-extended. */
	wr(c, DMA_SRC, 8, 0x1122334455667788ull);
	assert_int_equal(rd(c, DMA_SRC, 8), 0x1122334455667788ull);
	assert_int_equal(rd(c, DMA_SRC, 4), 0x55667788);
	wr(c, DMA_SRC, 4, 0xabcd);
	assert_int_equal(rd(c, DMA_SRC, 8), 0xabcd);
	wr(c, DMA_SRC, 2, 0x1);
	wr(c, DMA_SRC, 1, 0x1);
	assert_int_equal(rd(c, DMA_SRC, 8), 0xabcd);
	assert_int_equal(rd(c, DMA_SRC, 2), 0xffff);
	/* The upper half is no register of its own. */
	assert_int_equal(rd(c, DMA_SRC + 4, 4), 0xffffffff);
	wr(c, DMA_SRC + 4, 4, 7);
	assert_int_equal(rd(c, DMA_SRC, 8), 0xabcd);
	wr(c, DMA_CMD, 2, CMD_START);
	wr(c, DMA_CMD + 4, 4, CMD_START);
	assert_int_equal(rd(c, DMA_CMD, 4), 0);
	assert_int_equal(fake_run_io(c->fm, 1, 50), 0);
	/* Offsets that are no register, and the BAR's last bytes. */
	assert_int_equal(rd(c, 0x10, 4), 0xffffffff);
	assert_int_equal(rd(c, 0xa0, 8), ~0ull);
	assert_int_equal(rd(c, (1u << 20) - 4, 4), 0xffffffff);
	wr(c, (1u << 20) - 8, 8, ~0ull);
	assert_int_equal(rd(c, ID, 4), 0x010000ed);
}

static void test_intx(void **state)
{
	struct ctx *c = *state;

	/* What intel-iommu.c's IOAPIC test does: raise 1, the handler acks what it reads. */
	wr(c, INTR_RAISE, 4, 1);
	assert_int_equal(c->fm->irq_level[GSI], 1);
	assert_int_equal(rd(c, INTR_STATUS, 4), 1);
	/* Status bit 3 shows the line. */
	assert_true(pci_guest_cfg_read(c->fm, SLOT, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	wr(c, INTR_ACK, 4, (uint32_t)rd(c, INTR_STATUS, 4));
	assert_int_equal(c->fm->irq_level[GSI], 0);
	/* ... then raises 0: nothing pending, nothing raised. */
	wr(c, INTR_RAISE, 4, 0);
	assert_int_equal(c->fm->irq_level[GSI], 0);
	/* Two causes: the line stays up until both are acknowledged. */
	wr(c, INTR_RAISE, 4, 0x5);
	wr(c, INTR_ACK, 4, 0x1);
	assert_int_equal(rd(c, INTR_STATUS, 4), 0x4);
	assert_int_equal(c->fm->irq_level[GSI], 1);
	wr(c, INTR_ACK, 4, 0x4);
	assert_int_equal(c->fm->irq_level[GSI], 0);
	/* The line went up twice; three raises left causes pending. */
	assert_int_equal(counter(c, "intx_asserted"), 2);
	assert_int_equal(counter(c, "interrupts_raised"), 2);
	assert_int_equal(c->fm->nr_msi_calls, 0);
}

static void msi_program(struct ctx *c, uint32_t addr, uint32_t data, bool enable)
{
	pci_guest_cfg_write(c->fm, SLOT, c->msi + PCI_MSI_ADDRESS_LO, 4, addr);
	pci_guest_cfg_write(c->fm, SLOT, c->msi + PCI_MSI_ADDRESS_HI, 4, 0);
	pci_guest_cfg_write(c->fm, SLOT, c->msi + PCI_MSI_DATA_64, 2, data);
	pci_guest_cfg_write(c->fm, SLOT, c->msi + PCI_MSI_FLAGS, 2, enable ? PCI_MSI_FLAGS_ENABLE : 0);
}

static void test_msi(void **state)
{
	struct ctx *c = *state;

	/* INTx pending when MSI is enabled: the line drops (PCI: never both). */
	wr(c, INTR_RAISE, 4, 2);
	assert_int_equal(c->fm->irq_level[GSI], 1);
	msi_program(c, 0xfee01000, 0x4041, true);
	assert_int_equal(c->fm->irq_level[GSI], 0);
	wr(c, INTR_ACK, 4, 2);
	fake_machine_clear_calls(c->fm);

	wr(c, INTR_RAISE, 4, 1);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(c->fm->msi_calls[0].addr, 0xfee01000);
	assert_int_equal(c->fm->msi_calls[0].data, 0x4041);
	assert_int_equal(c->fm->nr_irq_calls, 0);
	wr(c, INTR_ACK, 4, 1);
	assert_int_equal(c->fm->nr_irq_calls, 0);
	/* The DMA and factorial interrupts take MSI from the I/O thread. */
	wr(c, STATUS, 4, 0x80);
	wr(c, FACTORIAL, 4, 3);
	run_io(c);
	assert_int_equal(c->fm->nr_msi_calls, 2);
	wr(c, INTR_ACK, 4, 1);
	dma(c, 0x1000, BUF, 8, CMD_IRQ);
	assert_int_equal(c->fm->nr_msi_calls, 3);
	wr(c, INTR_ACK, 4, 0x100);
	assert_int_equal(c->fm->nr_irq_calls, 0);
	assert_int_equal(counter(c, "msi_sent"), 3);

	/* Disabled with a cause pending: INTx takes over. */
	wr(c, INTR_RAISE, 4, 8);
	assert_int_equal(c->fm->nr_msi_calls, 4);
	pci_guest_cfg_write(c->fm, SLOT, c->msi + PCI_MSI_FLAGS, 2, 0);
	assert_int_equal(c->fm->irq_level[GSI], 1);
	wr(c, INTR_ACK, 4, 8);
	assert_int_equal(c->fm->irq_level[GSI], 0);
	assert_int_equal(c->fm->nr_msi_calls, 4);
}

static void test_msi_iommu(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(machine_set_iommu(&c->fm->m, &fake_iommu, c, 0xfed90000, true), 0);
	msi_program(c, 0xfee00000, 0x41, true);
	wr(c, INTR_RAISE, 4, 1);
	assert_int_equal(c->msi_translations, 1);
	assert_int_equal(c->last_sid, SID);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(c->fm->msi_calls[0].data, REMAPPED_DATA);
	wr(c, INTR_ACK, 4, 1);
	/* Blocked by the remapping: nothing delivered, counted, INTx stays quiet. */
	c->block_msi = true;
	wr(c, INTR_RAISE, 4, 1);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(c->fm->irq_level[GSI], 0);
	assert_int_equal(counter(c, "msi_sent"), 1);
	assert_int_equal(counter(c, "msi_blocked"), 1);
}

static void test_msi_config(void **state)
{
	struct ctx *c = *state;
	unsigned m = c->msi;

	/* 64-bit, one vector, no mask bits, disabled. */
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, m + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT);
	/* Only the enable bit is writable: not Multiple Message Enable, not the capability bits. */
	pci_guest_cfg_write(c->fm, SLOT, m + PCI_MSI_FLAGS, 2, 0xffff);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, m + PCI_MSI_FLAGS, 2),
			 PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_ENABLE);
	pci_guest_cfg_write(c->fm, SLOT, m + PCI_MSI_FLAGS, 2, 0);
	/* The ID and next pointer are read-only. */
	pci_guest_cfg_write(c->fm, SLOT, m, 2, 0xffff);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, m, 2), PCI_CAP_ID_MSI);
	/* Address: dword-aligned, all 64 bits; data: 16 bits. */
	pci_guest_cfg_write(c->fm, SLOT, m + PCI_MSI_ADDRESS_LO, 4, 0xffffffff);
	pci_guest_cfg_write(c->fm, SLOT, m + PCI_MSI_ADDRESS_HI, 4, 0xffffffff);
	pci_guest_cfg_write(c->fm, SLOT, m + PCI_MSI_DATA_64, 4, 0xffffffff);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, m + PCI_MSI_ADDRESS_LO, 4), 0xfffffffc);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, m + PCI_MSI_ADDRESS_HI, 4), 0xffffffff);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, m + PCI_MSI_DATA_64, 4), 0xffff);
	/* Byte by byte counts as well: the copy follows each write. */
	msi_program(c, 0, 0, false);
	for (unsigned i = 0; i < 4; i++)
		pci_guest_cfg_write(c->fm, SLOT, m + PCI_MSI_ADDRESS_LO + i, 1, 0xfee01234u >> (8 * i));
	pci_guest_cfg_write(c->fm, SLOT, m + PCI_MSI_DATA_64 + 1, 1, 0x40);
	pci_guest_cfg_write(c->fm, SLOT, m + PCI_MSI_DATA_64, 1, 0x55);
	pci_guest_cfg_write(c->fm, SLOT, m + PCI_MSI_FLAGS, 1, PCI_MSI_FLAGS_ENABLE);
	wr(c, INTR_RAISE, 4, 1);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(c->fm->msi_calls[0].addr, 0xfee01234);
	assert_int_equal(c->fm->msi_calls[0].data, 0x4055);
	/* A 64-bit address goes out whole. */
	wr(c, INTR_ACK, 4, 1);
	pci_guest_cfg_write(c->fm, SLOT, m + PCI_MSI_ADDRESS_HI, 4, 0x1);
	wr(c, INTR_RAISE, 4, 1);
	assert_int_equal(c->fm->msi_calls[1].addr, 0x1fee01234ull);
	/* Past the capability's 14 bytes: nothing. */
	pci_guest_cfg_write(c->fm, SLOT, m + 0x0e, 2, 0xffff);
	assert_int_equal(pci_guest_cfg_read(c->fm, SLOT, m + 0x0e, 2), 0);
}

static void test_reg_names(void **state)
{
	static const struct { unsigned off; const char *name; } regs[] = {
		{ ID, "ID" }, { LIVENESS, "LIVENESS" }, { FACTORIAL, "FACTORIAL" },
		{ STATUS, "STATUS" }, { INTR_STATUS, "INTR_STATUS" },
		{ INTR_RAISE, "INTR_RAISE" }, { INTR_ACK, "INTR_ACK" },
		{ DMA_SRC, "DMA_SRC" }, { DMA_SRC + 4, "DMA_SRC" }, { DMA_DST, "DMA_DST" },
		{ DMA_COUNT, "DMA_COUNT" }, { DMA_CMD, "DMA_CMD" }, { DMA_CMD + 4, "DMA_CMD" },
	};
	struct ctx *c = *state;
	const struct bus_region *r = bus_lookup(c->fm->m.bus[BUS_MMIO], c->bar, 4);

	assert_non_null(r);
	assert_string_equal(r->name, "edu");
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++) {
		uint64_t key = r->ops->reg_key(r->opaque, regs[i].off);

		assert_string_equal(r->ops->reg_name(r->opaque, key), regs[i].name);
	}
	assert_int_equal(r->ops->reg_key(r->opaque, DMA_SRC + 4), DMA_SRC);
	assert_null(r->ops->reg_name(r->opaque, 0x10));
	assert_null(r->ops->reg_name(r->opaque, 0xa0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_liveness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_factorial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_factorial_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_irq_and_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_out_of_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_widths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reg_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
