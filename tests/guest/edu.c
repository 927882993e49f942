// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu.c - `edu=N`: QEMU's educational PCI device (1234:11e8), driven the way
 * kvm-unit-tests' lib/pci-edu.c drives it, with exactly the register accesses
 * listed below so that an integration test can count them:
 *   ID             1 read (0x010000ed)
 *   LIVENESS       N writes of 1..N, each read back (the bitwise NOT)
 *   DMA_SRC/DST/COUNT  1 qword write each per transfer, 2N transfers
 *   DMA_CMD        1 write per transfer, then read until START clears (the
 *                  reads are counted and printed: the device finishes on
 *                  its own time)
 *   FACTORIAL      1 write (10), 1 read (10! = 3628800)
 *   STATUS         read until COMPUTING clears (counted and printed)
 *   INTR_RAISE     2 writes of 1 (INTx, then MSI)
 *   INTR_STATUS    2 reads (one per interrupt, before the acknowledge)
 *   INTR_ACK       2 writes of 1
 * A round trip i copies LEN(i) bytes of a pattern from RAM into the device's
 * buffer at an offset, back out to another RAM buffer, and compares. The
 * INTx goes through the IOAPIC pin the interrupt line register names (edge,
 * to this CPU), the MSI to this CPU's LAPIC; both on irq.c's vector. The
 * device must sit in the mapped 3..4 GiB window, its DMA buffers below 256
 * MiB (edu drives 28 address bits): the image's .bss is.
 */
#include "guest.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_BAR_SIZE		0x100000
#define EDU_ID_VALUE		0x010000edu

#define EDU_ID			0x00
#define EDU_LIVENESS		0x04
#define EDU_FACTORIAL		0x08
#define EDU_STATUS		0x20
#define EDU_INTR_STATUS		0x24
#define EDU_INTR_RAISE		0x60
#define EDU_INTR_ACK		0x64
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98

#define STATUS_COMPUTING	0x01
#define CMD_START		0x1
#define CMD_TO_RAM		0x2
#define DMA_BUF			0x40000ull	/* the device's buffer, in its own address space */
#define DMA_BUF_SIZE		4096

#define FACT_N			10
#define FACT_WANT		3628800u

#define PCI_INTERRUPT_LINE	0x3c
#define PCI_CAP_ID_MSI		0x05
#define MSI_FLAGS		0x02
#define MSI_FLAGS_ENABLE	0x0001
#define MSI_FLAGS_64BIT		0x0080
#define MSI_ADDR_LO		0x04
#define MSI_ADDR_HI		0x08
#define MSI_DATA_64		0x0c

#define IOAPIC_BASE		0xfec00000ull
#define EDU_TIMEOUT_US		5000000

struct edu {
	const char *word;
	unsigned bdf;
	uint64_t bar;
	uint64_t cmd_polls, status_polls;
};

static uint8_t ram_src[DMA_BUF_SIZE] __attribute__((aligned(4096)));
static uint8_t ram_dst[DMA_BUF_SIZE] __attribute__((aligned(4096)));

static uint32_t rd32(struct edu *e, unsigned reg)
{
	return mmio_read32(e->bar + reg);
}

static void wr32(struct edu *e, unsigned reg, uint32_t v)
{
	mmio_write32(e->bar + reg, v);
}

/* One movq: edu takes 8-byte accesses from 0x80 on. */
static void wr64(struct edu *e, unsigned reg, uint64_t v)
{
	asm volatile("movq %0, (%1)" : : "r"(v), "r"(e->bar + reg) : "memory");
}

static void edu_probe(struct edu *e)
{
	struct pci_bar bar;
	int bdf = pci_find(EDU_VENDOR, EDU_DEVICE);
	uint32_t id;

	if (bdf < 0)
		fail("%s: no edu device (1234:11e8) on bus 0", e->word);
	e->bdf = bdf;
	if (!pci_bar(bdf, 0, &bar) || bar.io || bar.size != EDU_BAR_SIZE)
		fail("%s: BAR0 is not 1 MiB of memory (size 0x%lx)", e->word,
		     (unsigned long)bar.size);
	if (!phys_mapped(bar.addr, bar.size))
		fail("%s: BAR0 at 0x%lx is not mapped", e->word, (unsigned long)bar.addr);
	e->bar = bar.addr;
	pci_enable(bdf, PCI_CMD_MEM | PCI_CMD_MASTER);
	id = rd32(e, EDU_ID);
	if (id != EDU_ID_VALUE)
		fail("%s: ID reads 0x%x, not 0x%x", e->word, id, EDU_ID_VALUE);
}

static void edu_liveness(struct edu *e, uint64_t n)
{
	for (uint32_t i = 1; i <= n; i++) {
		uint32_t v;

		wr32(e, EDU_LIVENESS, i);
		v = rd32(e, EDU_LIVENESS);
		if (v != ~i)
			fail("%s: liveness wrote 0x%x, read 0x%x", e->word, i, v);
	}
}

static void edu_dma(struct edu *e, uint64_t src, uint64_t dst, uint64_t len, bool to_ram)
{
	uint64_t deadline = tsc_deadline(EDU_TIMEOUT_US);

	wr64(e, EDU_DMA_SRC, src);
	wr64(e, EDU_DMA_DST, dst);
	wr64(e, EDU_DMA_COUNT, len);
	wr32(e, EDU_DMA_CMD, CMD_START | (to_ram ? CMD_TO_RAM : 0));
	for (;;) {
		e->cmd_polls++;
		if (!(rd32(e, EDU_DMA_CMD) & CMD_START))
			return;
		if (rdtsc() > deadline)
			fail("%s: DMA of %lu bytes still running after 5 s", e->word,
			     (unsigned long)len);
		cpu_relax();
	}
}

/* Round trip i: LEN bytes at an offset of the device's buffer that moves with i. */
static uint64_t edu_round_trip(struct edu *e, uint32_t i)
{
	uint64_t len = 1 + (i * 997u) % DMA_BUF_SIZE;
	uint64_t off = (i * 61u) % (DMA_BUF_SIZE - len + 1);

	for (uint64_t k = 0; k < len; k++) {
		ram_src[k] = (uint8_t)(i * 13 + k * 7);
		ram_dst[k] = (uint8_t)~ram_src[k];
	}
	edu_dma(e, (uintptr_t)ram_src, DMA_BUF + off, len, false);
	edu_dma(e, DMA_BUF + off, (uintptr_t)ram_dst, len, true);
	for (uint64_t k = 0; k < len; k++)
		if (ram_dst[k] != ram_src[k])
			fail("%s: round trip %u (%lu bytes at buffer offset %lu): byte %lu is "
			     "0x%x, not 0x%x", e->word, i, (unsigned long)len, (unsigned long)off,
			     (unsigned long)k, ram_dst[k], ram_src[k]);
	return len;
}

static void edu_factorial(struct edu *e)
{
	uint64_t deadline = tsc_deadline(EDU_TIMEOUT_US);
	uint32_t v;

	wr32(e, EDU_FACTORIAL, FACT_N);
	for (;;) {
		e->status_polls++;
		if (!(rd32(e, EDU_STATUS) & STATUS_COMPUTING))
			break;
		if (rdtsc() > deadline)
			fail("%s: factorial still computing after 5 s", e->word);
		cpu_relax();
	}
	v = rd32(e, EDU_FACTORIAL);
	if (v != FACT_WANT)
		fail("%s: %u! reads %u, not %u", e->word, FACT_N, v, FACT_WANT);
}

/* INTR_RAISE 1, wait for the vector, INTR_STATUS, INTR_ACK, EOI. */
static void edu_interrupt(struct edu *e, const char *how)
{
	uint64_t deadline = tsc_deadline(EDU_TIMEOUT_US);
	uint32_t seen = irq_count, st;

	wr32(e, EDU_INTR_RAISE, 1);
	while (irq_count == seen) {
		if (rdtsc() > deadline)
			fail("%s: no %s interrupt within 5 s", e->word, how);
		cpu_relax();
	}
	st = rd32(e, EDU_INTR_STATUS);
	if (st != 1)
		fail("%s: %s: interrupt status 0x%x, not 0x1", e->word, how, st);
	wr32(e, EDU_INTR_ACK, st);
	irq_eoi();
	/* The line (or message) is quiet now: no second interrupt. */
	udelay(1000);
	if (irq_count != seen + 1)
		fail("%s: %s: %u interrupts for one raise", e->word, how, irq_count - seen);
}

static void edu_intx(struct edu *e, unsigned *pin)
{
	*pin = pci_read(e->bdf, PCI_INTERRUPT_LINE, 1);
	if (*pin == 0 || *pin >= 24)
		fail("%s: interrupt line %u is no IOAPIC pin", e->word, *pin);
	irq_ioapic_route(e->word, IOAPIC_BASE, *pin, true);
	edu_interrupt(e, "INTx");
	irq_ioapic_route(e->word, IOAPIC_BASE, *pin, false);
}

static void edu_msi(struct edu *e)
{
	unsigned cap = pci_cap_find(e->bdf, PCI_CAP_ID_MSI, 0);
	uint32_t addr, data, flags;

	if (!cap)
		fail("%s: no MSI capability", e->word);
	flags = pci_read(e->bdf, cap + MSI_FLAGS, 2);
	if (!(flags & MSI_FLAGS_64BIT))
		fail("%s: MSI capability without 64-bit addresses (flags 0x%x)", e->word, flags);
	irq_msi(&addr, &data);
	pci_write(e->bdf, cap + MSI_ADDR_LO, 4, addr);
	pci_write(e->bdf, cap + MSI_ADDR_HI, 4, 0);
	pci_write(e->bdf, cap + MSI_DATA_64, 2, data);
	pci_write(e->bdf, cap + MSI_FLAGS, 2, flags | MSI_FLAGS_ENABLE);
	edu_interrupt(e, "MSI");
	pci_write(e->bdf, cap + MSI_FLAGS, 2, flags & ~MSI_FLAGS_ENABLE);
}

void do_edu(const char *word, char *arg)
{
	struct edu e = { .word = word };
	uint64_t v[1], bytes = 0;
	unsigned pin;

	args(word, arg, v, 1, 1);
	if (v[0] > 1000000)
		fail("%s: at most 1000000 rounds", word);
	edu_probe(&e);
	edu_liveness(&e, v[0]);
	for (uint32_t i = 0; i < v[0]; i++)
		bytes += edu_round_trip(&e, i);
	edu_factorial(&e);
	irq_open();
	edu_intx(&e, &pin);
	edu_msi(&e);
	irq_close();
	gprintf("%s: at 00:%02x.%x, BAR0 0x%lx, INTx on IOAPIC pin %u\n", word, e.bdf >> 3,
		e.bdf & 7, (unsigned long)e.bar, pin);
	gprintf("%s: polls DMA_CMD %lu STATUS %lu\n", word, (unsigned long)e.cmd_polls,
		(unsigned long)e.status_polls);
	gprintf("%s: %lu liveness checks, %lu DMA round trips of %lu bytes, %u! = %u, "
		"INTx 1, MSI 1\n", word, (unsigned long)v[0], (unsigned long)v[0],
		(unsigned long)bytes, FACT_N, FACT_WANT);
}
