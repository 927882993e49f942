// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PC's 8259A pair in userspace, for `irqchip split`: KVM keeps only the
 * LAPICs there, and guests that probe for a legacy PIC (Linux does, and
 * finds "NULL legacy PIC" without one) need it for IRQ 0 and the ExtINT
 * path. The master is at ports 0x20-0x21, the slave at 0xa0-0xa1, cascaded
 * on the master's IR2 as on every PC; ports 0x4d0-0x4d1 are the ELCR (a set
 * bit makes a line level-sensitive; IRQ 0, 1, 2, 8 and 13 are always edge).
 *
 * Each chip follows the 8259A datasheet in 8086 mode:
 *   ICW1-ICW4   initialization (ICW1 resets the chip; ICW3 is read for the
 *               sequence only: the wiring is the PC's whatever it says)
 *   OCW1        the IMR (data port outside an initialization)
 *   OCW2        non-specific/specific EOI, with or without rotation,
 *               set priority, rotate in auto-EOI mode
 *   OCW3        read IRR/ISR, poll, special mask mode
 * plus auto-EOI, ICW1's LTIM (every line level-sensitive) and the special
 * fully nested mode (the master lets a slave request through while the
 * cascade is in service). An edge line latches IRR on its rising edge and
 * keeps it until acknowledged; a level line's IRR follows the line.
 *
 * The master's INTR output goes to vCPU 0's LAPIC LINT0 (ExtINT). The CPU
 * side is not here: the machine's pic_intr service is told when INTR rises,
 * and whoever runs vCPU 0 asks pic8259_intr() and does the INTA cycle with
 * pic8259_ack() when it injects, which moves the request from IRR to ISR
 * and gives the vector. A request gone by then gives the spurious IRQ 7
 * (of the master, or IRQ 15 of the slave), as the part does.
 *
 * One lock for both chips: the vCPUs' port accesses, devices' lines from
 * any thread, and the acknowledge on vCPU 0. The pic_intr service is
 * called after it is dropped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/devices.h"
#include "qlite/util.h"

#define PIC_CASCADE_IRQ		2	/* the master's input the slave drives */
#define PIC_SPURIOUS_IRQ	7

/* Command port writes: ICW1 has bit 4 set; OCW3 bit 3, OCW2 neither. */
#define ICW1_IC4		0x01	/* ICW4 follows */
#define ICW1_SNGL		0x02	/* single: no ICW3 */
#define ICW1_LTIM		0x08	/* level-triggered inputs */
#define ICW1_SELECT		0x10
#define OCW3_SELECT		0x08
#define OCW3_RIS		0x01	/* read ISR (with RR) */
#define OCW3_RR			0x02	/* RIS is valid */
#define OCW3_POLL		0x04
#define OCW3_SMM		0x20	/* special mask mode (with ESMM) */
#define OCW3_ESMM		0x40
#define ICW4_AEOI		0x02
#define ICW4_SFNM		0x10

/* OCW2 commands (bits 7-5). */
#define OCW2_ROTATE_AEOI_CLEAR	0
#define OCW2_EOI		1
#define OCW2_NOP		2
#define OCW2_SPECIFIC_EOI	3
#define OCW2_ROTATE_AEOI_SET	4
#define OCW2_ROTATE_EOI		5
#define OCW2_SET_PRIORITY	6
#define OCW2_ROTATE_SPECIFIC	7

/* The ELCR bits that exist: IRQ 0, 1, 2 (master) and 8, 13 (slave) are edge only. */
static const uint8_t elcr_mask[2] = { 0xf8, 0xde };

enum init_step { INIT_DONE, INIT_ICW2, INIT_ICW3, INIT_ICW4 };

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t line;		/* each input's level */
	uint8_t elcr;
	uint8_t base;		/* ICW2: the vector of input 0 */
	uint8_t lowest;		/* the input of lowest priority (7 until rotated) */
	enum init_step init;
	bool icw4, single, ltim;
	bool read_isr, poll, special_mask;
	bool auto_eoi, rotate_aeoi, sfnm;
};

struct pic8259 {
	struct machine *m;
	pthread_mutex_t lock;
	struct pic_chip chip[2];	/* [0] the master, [1] the slave */
	/* The master's INTR output: written under the lock, read without it on every vCPU 0 exit. */
	atomic_bool intr;
	_Atomic uint64_t acks, spurious7, spurious15, eois;
};

static uint8_t level_mask(const struct pic_chip *c)
{
	return c->ltim ? 0xff : c->elcr;
}

/* Inputs in priority order from the highest: the one after the lowest. */
static int highest(const struct pic_chip *c, uint8_t bits)
{
	for (unsigned i = 1; i <= 8; i++) {
		unsigned irq = (c->lowest + i) & 7;

		if (bits & (1u << irq))
			return irq;
	}
	return -1;
}

/* Rank of irq: 0 the highest priority, 7 the lowest; 8 for none. */
static unsigned rank(const struct pic_chip *c, int irq)
{
	return irq < 0 ? 8 : (irq - c->lowest + 7) & 7;
}

/* The input the chip requests the CPU for, or -1: pending, unmasked, above all in service. */
static int chip_request(const struct pic_chip *c, bool master)
{
	int req = highest(c, c->irr & ~c->imr);
	uint8_t busy = c->isr;

	if (req < 0)
		return -1;
	/* Special mask mode: a masked in-service level no longer blocks lower ones. */
	if (c->special_mask)
		busy &= ~c->imr;
	/* Special fully nested: the slave's higher requests pass the cascade in service. */
	if (master && c->sfnm)
		busy &= ~(1u << PIC_CASCADE_IRQ);
	return rank(c, req) < rank(c, highest(c, busy)) ? req : -1;
}

static void chip_set_line(struct pic_chip *c, unsigned irq, int level)
{
	uint8_t bit = 1u << irq;

	if (level) {
		/* Edge: a rising edge latches the request; level: pending while high. */
		if ((level_mask(c) & bit) || !(c->line & bit))
			c->irr |= bit;
		c->line |= bit;
	} else {
		c->line &= ~bit;
		if (level_mask(c) & bit)
			c->irr &= ~bit;
	}
}

/* Under the lock: the cascade follows the slave's INT, INTR the master's; true when INTR rose. */
static bool pic_update(struct pic8259 *p)
{
	struct pic_chip *ms = &p->chip[0];
	bool was = atomic_load_explicit(&p->intr, memory_order_relaxed), now;

	/*
	 * The slave's INT is the master's IR2 line, an edge input: its rise
	 * latches the request. A request gone before the INTA leaves the latch,
	 * and the slave then answers with its IR7, the spurious IRQ 15.
	 */
	chip_set_line(ms, PIC_CASCADE_IRQ, chip_request(&p->chip[1], false) >= 0);
	now = chip_request(ms, true) >= 0;
	atomic_store_explicit(&p->intr, now, memory_order_release);
	return now && !was;
}

static void pic_notify(struct pic8259 *p, bool rose)
{
	if (rose && p->m->pic_intr)
		p->m->pic_intr(p->m);
}

void pic8259_set_irq(struct pic8259 *p, unsigned irq, int level)
{
	bool rose;

	/* IR2 of the master is the slave's; nothing else drives it. */
	if (irq >= 16 || irq == PIC_CASCADE_IRQ)
		return;
	pthread_mutex_lock(&p->lock);
	chip_set_line(&p->chip[irq / 8], irq % 8, level);
	rose = pic_update(p);
	pthread_mutex_unlock(&p->lock);
	pic_notify(p, rose);
}

/* The INTA cycle's part in one chip: the request into service (or not, in auto-EOI). */
static void chip_intack(struct pic_chip *c, unsigned irq)
{
	if (c->auto_eoi) {
		if (c->rotate_aeoi)
			c->lowest = irq;
	} else {
		c->isr |= 1u << irq;
	}
	/* An edge request is consumed; a level one stays while its line is high. */
	if (!(level_mask(c) & (1u << irq)))
		c->irr &= ~(1u << irq);
}

bool pic8259_intr(struct pic8259 *p)
{
	return atomic_load_explicit(&p->intr, memory_order_acquire);
}

/* Under the lock: one INTA cycle, the vector the CPU takes. */
static uint8_t ack_locked(struct pic8259 *p)
{
	struct pic_chip *ms = &p->chip[0], *sl = &p->chip[1];
	int irq = chip_request(ms, true), irq2;

	if (irq < 0) {
		/* INTR went away before the CPU answered: the master's IR7, not put in service. */
		atomic_fetch_add_explicit(&p->spurious7, 1, memory_order_relaxed);
		return ms->base + PIC_SPURIOUS_IRQ;
	}
	chip_intack(ms, irq);
	if (irq != PIC_CASCADE_IRQ) {
		atomic_fetch_add_explicit(&p->acks, 1, memory_order_relaxed);
		return ms->base + irq;
	}
	irq2 = chip_request(sl, false);
	if (irq2 < 0) {
		atomic_fetch_add_explicit(&p->spurious15, 1, memory_order_relaxed);
		return sl->base + PIC_SPURIOUS_IRQ;
	}
	chip_intack(sl, irq2);
	/*
	 * The INTA sequence ends the slave's INT; a request it still has
	 * (auto-EOI, or one above the one just served) raises it again, a new
	 * edge for the master (KVM's pulse), so it is not lost behind the first.
	 */
	ms->line &= ~(1u << PIC_CASCADE_IRQ);
	atomic_fetch_add_explicit(&p->acks, 1, memory_order_relaxed);
	return sl->base + irq2;
}

uint8_t pic8259_ack(struct pic8259 *p)
{
	uint8_t vector;
	bool rose;

	pthread_mutex_lock(&p->lock);
	vector = ack_locked(p);
	rose = pic_update(p);
	pthread_mutex_unlock(&p->lock);
	pic_notify(p, rose);
	return vector;
}

/* ICW1: the datasheet's reset, and the sequence starts. */
static void chip_icw1(struct pic_chip *c, uint8_t v)
{
	c->imr = 0;
	c->isr = 0;
	c->lowest = 7;
	c->read_isr = c->poll = c->special_mask = false;
	c->auto_eoi = c->rotate_aeoi = c->sfnm = false;
	c->icw4 = v & ICW1_IC4;
	c->single = v & ICW1_SNGL;
	c->ltim = v & ICW1_LTIM;
	/*
	 * The edge sense is reset: an edge input needs a new low-to-high
	 * transition (a line held high must fall first); a level one is
	 * pending again while its line is high.
	 */
	c->irr = c->line & level_mask(c);
	c->init = INIT_ICW2;
}

static void chip_ocw2(struct pic8259 *p, struct pic_chip *c, uint8_t v)
{
	unsigned cmd = v >> 5, irq = v & 7;
	int served;

	switch (cmd) {
	case OCW2_ROTATE_AEOI_CLEAR:
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_aeoi = cmd == OCW2_ROTATE_AEOI_SET;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		atomic_fetch_add_explicit(&p->eois, 1, memory_order_relaxed);
		/* The highest in service is the one being finished (fully nested mode). */
		served = highest(c, c->isr);
		if (served < 0)
			break;
		c->isr &= ~(1u << served);
		if (cmd == OCW2_ROTATE_EOI)
			c->lowest = served;
		break;
	case OCW2_SPECIFIC_EOI:
	case OCW2_ROTATE_SPECIFIC:
		atomic_fetch_add_explicit(&p->eois, 1, memory_order_relaxed);
		c->isr &= ~(1u << irq);
		if (cmd == OCW2_ROTATE_SPECIFIC)
			c->lowest = irq;
		break;
	case OCW2_SET_PRIORITY:
		c->lowest = irq;
		break;
	default:
		break;
	}
}

static void chip_ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & OCW3_POLL)
		c->poll = true;
	if (v & OCW3_RR)
		c->read_isr = v & OCW3_RIS;
	if (v & OCW3_ESMM)
		c->special_mask = v & OCW3_SMM;
}

static void chip_write_cmd(struct pic8259 *p, struct pic_chip *c, uint8_t v)
{
	if (v & ICW1_SELECT)
		chip_icw1(c, v);
	else if (v & OCW3_SELECT)
		chip_ocw3(c, v);
	else
		chip_ocw2(p, c, v);
}

static void chip_write_data(struct pic_chip *c, uint8_t v)
{
	switch (c->init) {
	case INIT_ICW2:
		/* In 8086 mode the low three bits are the input's number. */
		c->base = v & 0xf8;
		c->init = c->single ? (c->icw4 ? INIT_ICW4 : INIT_DONE) : INIT_ICW3;
		break;
	case INIT_ICW3:
		c->init = c->icw4 ? INIT_ICW4 : INIT_DONE;
		break;
	case INIT_ICW4:
		c->auto_eoi = v & ICW4_AEOI;
		c->sfnm = v & ICW4_SFNM;
		c->init = INIT_DONE;
		break;
	default:
		c->imr = v;
		break;
	}
}

/*
 * Under the lock: a poll read is an INTA of this chip alone: bit 7 and the
 * input that was put in service, or 0 when none requested.
 */
static uint8_t chip_poll(struct pic8259 *p, unsigned idx)
{
	struct pic_chip *c = &p->chip[idx];
	int irq = chip_request(c, idx == 0);

	c->poll = false;
	if (irq < 0)
		return 0;
	chip_intack(c, irq);
	/* Polling the slave takes its request off the cascade: the master has nothing to answer. */
	if (idx == 1) {
		p->chip[0].irr &= ~(1u << PIC_CASCADE_IRQ);
		p->chip[0].isr &= ~(1u << PIC_CASCADE_IRQ);
	}
	return 0x80 | irq;
}

/* Port offsets within the region: 0 master CMD, 1 master DATA, 0x80 slave CMD, 0x81 slave DATA. */
static uint8_t pic_port_read(struct pic8259 *p, unsigned idx, bool data)
{
	struct pic_chip *c = &p->chip[idx];

	if (c->poll)
		return chip_poll(p, idx);
	if (data)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void pic_port_write(struct pic8259 *p, unsigned idx, bool data, uint8_t v)
{
	if (data)
		chip_write_data(&p->chip[idx], v);
	else
		chip_write_cmd(p, &p->chip[idx], v);
}

/*
 * Each region is two ports; a wider access reaches them a byte at a time,
 * as an ISA bus splits it, and the bus keeps it inside the region.
 */
static void pic_io(struct pic8259 *p, unsigned idx, uint64_t offset, uint8_t *b, unsigned len,
		   bool write)
{
	bool rose;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < len; i++) {
		bool data = (offset + i) & 1;

		if (write)
			pic_port_write(p, idx, data, b[i]);
		else
			b[i] = pic_port_read(p, idx, data);
	}
	rose = pic_update(p);
	pthread_mutex_unlock(&p->lock);
	pic_notify(p, rose);
}

static void master_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	pic_io(opaque, 0, offset, data, len, false);
}

static void master_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	uint8_t b[8];

	memcpy(b, data, len);
	pic_io(opaque, 0, offset, b, len, true);
}

static void slave_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	pic_io(opaque, 1, offset, data, len, false);
}

static void slave_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	uint8_t b[8];

	memcpy(b, data, len);
	pic_io(opaque, 1, offset, b, len, true);
}

static void elcr_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pic8259 *p = opaque;
	uint8_t *b = data;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < len; i++)
		b[i] = offset + i < 2 ? p->chip[offset + i].elcr : 0xff;
	pthread_mutex_unlock(&p->lock);
}

static void elcr_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pic8259 *p = opaque;
	const uint8_t *b = data;
	bool rose;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < len && offset + i < 2; i++) {
		struct pic_chip *c = &p->chip[offset + i];

		c->elcr = b[i] & elcr_mask[offset + i];
		/* A line turned level is pending while high; an edge one keeps its latch. */
		c->irr |= c->line & level_mask(c);
	}
	rose = pic_update(p);
	pthread_mutex_unlock(&p->lock);
	pic_notify(p, rose);
}

static const char *pic_reg_name(void *opaque, uint64_t offset)
{
	return offset & 1 ? "DATA" : "CMD";
}

static const char *elcr_reg_name(void *opaque, uint64_t offset)
{
	return offset ? "ELCR2" : "ELCR1";
}

static const struct bus_ops master_ops = {
	.read = master_read, .write = master_write, .reg_name = pic_reg_name,
};

static const struct bus_ops slave_ops = {
	.read = slave_read, .write = slave_write, .reg_name = pic_reg_name,
};

static const struct bus_ops elcr_ops = {
	.read = elcr_read, .write = elcr_write, .reg_name = elcr_reg_name,
};

static void pic_report(void *opaque, struct device_report *out)
{
	struct pic8259 *p = opaque;

	snprintf(out->path, sizeof(out->path), "qlite's (irqchip split): INTR to vCPU 0's LINT0, ExtINT by KVM_INTERRUPT");
	device_report_add(out, "acks", atomic_load_explicit(&p->acks, memory_order_relaxed));
	device_report_add(out, "spurious_irq7", atomic_load_explicit(&p->spurious7, memory_order_relaxed));
	device_report_add(out, "spurious_irq15", atomic_load_explicit(&p->spurious15, memory_order_relaxed));
	device_report_add(out, "eois", atomic_load_explicit(&p->eois, memory_order_relaxed));
}

static void pic_release(void *state)
{
	struct pic8259 *p = state;

	pthread_mutex_destroy(&p->lock);
	free(p);
}

struct pic8259 *pic8259_create(struct machine *m)
{
	struct pic8259 *p = machine_alloc_device(m, sizeof(*p), pic_release);

	if (!p)
		return NULL;
	p->m = m;
	pthread_mutex_init(&p->lock, NULL);
	/* Before any ICW1, as KVM's and QEMU's start: all unmasked, IR7 lowest, no vector base. */
	for (unsigned i = 0; i < 2; i++)
		p->chip[i].lowest = 7;
	if (machine_claim(m, BUS_PIO, PIC_MASTER_PORT, 2, "pic-master", &master_ops, p) < 0 ||
	    machine_claim(m, BUS_PIO, PIC_SLAVE_PORT, 2, "pic-slave", &slave_ops, p) < 0 ||
	    machine_claim(m, BUS_PIO, PIC_ELCR_PORT, 2, "pic-elcr", &elcr_ops, p) < 0)
		return NULL;
	if (machine_claim_irq(m, PIC_CASCADE_IRQ, "pic cascade", false) < 0)
		return NULL;
	if (machine_add_report(m, "pic", "8259A pair: master 0x20-0x21, slave 0xa0-0xa1 on irq 2, elcr 0x4d0-0x4d1 (irqchip split)",
			       pic_report, p) < 0)
		return NULL;
	m->pic = p;
	return p;
}
