// SPDX-License-Identifier: GPL-2.0-only
/*
 * pic.c - interrupts through the 8259 pair, as a PC OS's first timer does:
 * `pic-ticks=N` finds the master (its IMR reads back what was written, as
 * Linux probes), initializes both chips (ICW1-ICW4: IRQ 0-7 on irq.c's
 * vector, the slave on IRQ 2), unmasks IRQ 0 only, runs PIT channel 0 as
 * a 1 kHz rate generator, and takes N ticks on the vector. Each tick is in
 * the master's ISR when the handler has run (the CPU's INTA put it there)
 * and leaves it with the non-specific EOI this code writes. The IOAPIC's
 * pin 0 stays masked, so the PIC is the only way the vector can come:
 * KVM's PIC by default, qlite's own (or QEMU's) with a split irqchip.
 */
#include "guest.h"

#define PIC_M_CMD	0x20
#define PIC_M_DATA	0x21
#define PIC_S_CMD	0xa0
#define PIC_S_DATA	0xa1
#define ICW1_ICW4	0x11	/* edge, cascade, ICW4 follows */
#define ICW4_8086	0x01
#define OCW3_READ_ISR	0x0b
#define OCW3_READ_IRR	0x0a
#define OCW2_EOI	0x20

#define PIC_VECTOR	0x40	/* irq.c's: IRQ 0 lands on it, IRQ 8 on the slave's 0x48 */

#define PIT_CMD		0x43
#define PIT_CH0		0x40
#define PIT_HZ		1193182
#define TICK_HZ		1000
#define TICK_TIMEOUT_US	5000000

static uint8_t pic_isr(void)
{
	outb(PIC_M_CMD, OCW3_READ_ISR);
	return inb(PIC_M_CMD);
}

void do_pic_ticks(const char *word, char *arg)
{
	const uint16_t count = (PIT_HZ + TICK_HZ / 2) / TICK_HZ;
	uint64_t v[1], t0, deadline;
	unsigned vector;
	uint32_t seen;
	uint8_t isr;

	args(word, arg, v, 1, 1);
	if (v[0] == 0 || v[0] > 100000)
		fail("%s: %lu ticks is outside 1..100000", word, (unsigned long)v[0]);
	/* Before the chips run: the timeout's clock may calibrate on PIT channel 2. */
	tsc_deadline(0);
	outb(PIC_M_DATA, 0xff);
	if (inb(PIC_M_DATA) != 0xff)
		fail("%s: no 8259 at port 0x20 (its IMR does not read back)", word);
	/* Interrupts are off until irq_open(): the chips are set up, all masked, first. */
	outb(PIC_M_CMD, ICW1_ICW4);
	outb(PIC_M_DATA, PIC_VECTOR);
	outb(PIC_M_DATA, 1u << 2);
	outb(PIC_M_DATA, ICW4_8086);
	outb(PIC_S_CMD, ICW1_ICW4);
	outb(PIC_S_DATA, PIC_VECTOR + 8);
	outb(PIC_S_DATA, 2);
	outb(PIC_S_DATA, ICW4_8086);
	outb(PIC_S_DATA, 0xff);
	outb(PIC_M_DATA, 0xff);
	outb(PIT_CMD, 0x34);	/* channel 0, lobyte/hibyte, mode 2, binary */
	outb(PIT_CH0, count & 0xff);
	outb(PIT_CH0, count >> 8);
	vector = irq_open();
	if (vector != PIC_VECTOR)
		fail("%s: irq.c's vector is 0x%x, not 0x%x", word, vector, PIC_VECTOR);
	t0 = rdtsc();
	/* Counted from before the unmask: the first tick may come at once. */
	seen = irq_count;
	outb(PIC_M_DATA, 0xfe);
	if (inb(PIC_M_DATA) != 0xfe)
		fail("%s: the IMR reads 0x%x after 0xfe", word, inb(PIC_M_DATA));
	for (uint64_t i = 0; i < v[0]; i++, seen++) {
		deadline = tsc_deadline(TICK_TIMEOUT_US);
		while (irq_count == seen) {
			if (rdtsc() > deadline)
				fail("%s: tick %lu of %lu did not come within 5 s (IRR 0x%x ISR 0x%x)",
				     word, (unsigned long)i + 1, (unsigned long)v[0],
				     (outb(PIC_M_CMD, OCW3_READ_IRR), inb(PIC_M_CMD)), pic_isr());
			cpu_relax();
		}
		if (irq_count != seen + 1)
			fail("%s: %u interrupts before an EOI", word, irq_count - seen);
		if (pic_isr() != 0x01)
			fail("%s: ISR 0x%x in the handler's wake, not IRQ 0's", word, pic_isr());
		outb(PIC_M_CMD, OCW2_EOI);
		/*
		 * The next tick may be in service already, but then its handler
		 * ran: the INTA happens when the vector is injected.
		 */
		isr = pic_isr();
		if (isr != 0 && irq_count == seen + 1)
			fail("%s: ISR 0x%x after the EOI", word, isr);
	}
	outb(PIC_M_DATA, 0xff);
	outb(PIT_CMD, 0x30);	/* channel 0 to mode 0 with no count: it stops */
	/* A tick taken after the last EOI, before the mask: ended too, so the chip is left idle. */
	if (pic_isr())
		outb(PIC_M_CMD, OCW2_EOI);
	irq_close();
	gprintf("%s: %lu ticks on vector 0x%x through the 8259 in %lu us\n", word,
		(unsigned long)v[0], vector, (unsigned long)tsc_to_us(rdtsc() - t0));
}
