// SPDX-License-Identifier: GPL-2.0-only
/*
 * The 8254 programmable interval timer in userspace, for `irqchip split`:
 * KVM refuses its in-kernel PIT without its in-kernel PIC, and guests still
 * calibrate against channel 2 and may tick on channel 0. Ports 0x40-0x42
 * are the three counters, 0x43 the control word, and 0x61 the PC's port B
 * (channel 2's gate and OUT, the speaker bit, the refresh toggle).
 *
 * Nothing ticks: each channel remembers when its counting element started
 * counting from its count, and the count and OUT are computed on each
 * access from the host's CLOCK_MONOTONIC at 1193182 Hz (in ticks, from the
 * device's creation). The modes follow the datasheet:
 *   0  interrupt on terminal count: OUT low until the count runs out
 *   1  hardware one-shot: armed by the count, started by a gate rising edge
 *   2  rate generator: OUT low for the last tick of each period
 *   3  square wave: OUT high for the first (N + 1) / 2 ticks of each period
 *   4  software strobe: OUT low for one tick when the count runs out
 *   5  hardware strobe: as 4, started by a gate rising edge
 * A gate held low stops modes 0, 2, 3 and 4 (2 and 3 with OUT high); its
 * rising edge starts 1 and 5 and restarts 2 and 3 from the count register.
 * A new count written to a running mode 2 or 3 counter takes effect at the
 * end of the current period, as the part does (its mode 3 takes it at the
 * end of a half-period: this one waits for the whole). BCD counting is done in
 * decimal (0-9999, 0 is 10000); a nibble above 9 counts for its value.
 * Channels 0 and 1 have their gate tied high; channel 2's is port B bit 0.
 *
 * Channel 0's OUT drives IRQ 0, which qlite's tables route to IOAPIC pin 0
 * (GSI 0, no override: src/boot/acpi.c). Each rising edge of OUT is an
 * edge on the line: every period in modes 2 and 3, once in modes 0 and 4.
 * A timer on the I/O thread fires at the next edge; it raises at most one
 * edge per PIT_MIN_PERIOD_NS (KVM's default min_timer_period_us, 200 us),
 * so a tiny count cannot flood the I/O thread or the guest, and edges that
 * passed without being raised (the clamp, or a late I/O thread) are counted
 * as lost, not replayed: the guest's clock is the TSC or this very counter,
 * which runs on regardless.
 *
 * One lock: the vCPUs' port accesses against the timer. The edge is raised
 * after it is dropped, so it is never held around the IOAPIC's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qlite/devices.h"
#include "qlite/util.h"

#define PIT_NR_CHANNELS		3
#define PIT_CONTROL		3	/* offset of port 0x43 */

/* Control word (port 0x43). */
#define CW_SC_SHIFT		6	/* select counter 0-2, 3: read-back */
#define CW_SC_READBACK		3
#define CW_RW_SHIFT		4	/* access: 0 latch, 1 low byte, 2 high byte, 3 low then high */
#define CW_MODE_SHIFT		1
#define CW_BCD			0x01

#define ACCESS_LATCH		0
#define ACCESS_LO		1
#define ACCESS_HI		2
#define ACCESS_LOHI		3

/* Read-back command: bits 5 and 4 are active low; bits 1-3 select counters. */
#define RB_NO_COUNT		0x20
#define RB_NO_STATUS		0x10

/* Status byte (read-back). */
#define ST_OUT			0x80
#define ST_NULL_COUNT		0x40

/* Port B (0x61). */
#define P61_GATE2		0x01
#define P61_SPEAKER		0x02
#define P61_WRITABLE		0x0f	/* gate, speaker, parity and channel check enables */
#define P61_REFRESH		0x10
#define P61_OUT2		0x20

/* Channel 1 on a PC refreshes DRAM every 18 ticks (15.09 us); port B bit 4 toggles with it. */
#define REFRESH_TICKS		18

#define NSEC			1000000000LL

enum ce_state {
	CE_EMPTY,	/* no count since the control word (or mode 0's first byte): idle */
	CE_ARMED,	/* modes 1 and 5: a count waits for the gate's rising edge */
	CE_RUNNING,	/* counting since run_tick */
	CE_HELD,	/* gate low in modes 0, 2, 3, 4: held after held_e ticks */
};

struct pit_channel {
	uint8_t mode_bits;	/* as programmed, 0-7 (6 and 7 are 2 and 3) */
	uint8_t access;		/* ACCESS_LO, _HI or _LOHI */
	bool bcd;
	bool gate;
	uint32_t cr;		/* the count register, 1..65536 (1..10000 in BCD) */
	uint8_t cr_lo;		/* ACCESS_LOHI: the low byte, until the high byte comes */
	bool write_hi;		/* ACCESS_LOHI: the next write is the high byte */
	bool read_hi;		/* ACCESS_LOHI: the next read is the high byte */
	bool null_count;	/* cr written but not yet in the counting element */
	bool count_latched, status_latched;
	uint16_t ol;		/* the output latch (a latched count) */
	uint8_t status;		/* a latched status */

	enum ce_state state;
	uint32_t n;		/* the count the counting element runs with */
	int64_t run_tick;	/* CE_RUNNING: when it started counting from n */
	int64_t held_e;		/* CE_HELD: ticks counted before the gate fell */
	uint16_t idle_ce;	/* CE_EMPTY, CE_ARMED: what a read of the count sees */
	bool pending;		/* modes 2, 3: cr becomes n at pending_tick, the period's end */
	int64_t pending_tick;
	uint64_t edges_seen;	/* rising edges of OUT counted in this counting cycle */
};

struct pit {
	pthread_mutex_t lock;
	struct machine *m;
	int64_t (*now_ns)(void *opaque);
	void *clock_opaque;
	int64_t base_ns;	/* tick 0 */
	int64_t last_ns;	/* the latest clock reading, from base_ns */
	struct pit_channel ch[PIT_NR_CHANNELS];
	uint8_t port61;		/* the writable bits */

	/* Channel 0 -> IRQ 0. */
	struct loop_timer *timer;
	bool armed;
	int64_t deadline_ns;	/* what the timer is armed for (clock ns) */
	uint64_t due;		/* edges passed since the last one raised */
	int64_t last_raise_ns;	/* when the last edge was raised, INT64_MIN: never */

	_Atomic uint64_t irq0_ticks, lost_ticks, reprograms;
};

static int64_t monotonic_ns(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static int64_t ns_to_ticks(int64_t ns)
{
	return (int64_t)((__int128)ns * PIT_HZ / NSEC);
}

/* The first clock ns at which tick t has begun. */
static int64_t ticks_to_ns(int64_t t)
{
	return (int64_t)(((__int128)t * NSEC + PIT_HZ - 1) / PIT_HZ);
}

/* Clock ns since tick 0; never backwards, so no count runs backwards either. */
static int64_t pit_now_ns(struct pit *p)
{
	int64_t ns = p->now_ns(p->clock_opaque) - p->base_ns;

	if (ns > p->last_ns)
		p->last_ns = ns;
	return p->last_ns;
}

/* Modes 6 and 7 are 2 and 3 again (bit 2 is don't-care with bit 1 set). */
static unsigned ch_mode(const struct pit_channel *c)
{
	return c->mode_bits > 5 ? c->mode_bits - 4 : c->mode_bits;
}

static uint32_t ch_modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

/* Ticks counted in this cycle. */
static int64_t ch_elapsed(const struct pit_channel *c, int64_t now)
{
	if (c->state == CE_HELD)
		return c->held_e;
	return now - c->run_tick;
}

/* The counting element after e ticks, in binary. */
static uint32_t ce_value(const struct pit_channel *c, int64_t e)
{
	uint32_t mod = ch_modulus(c), n = c->n, p, half;

	switch (ch_mode(c)) {
	case 2:
		return (n - (uint32_t)(e % n)) % mod;
	case 3:
		/* Decrements by two from n (odd: n - 1), reloading at each half. */
		p = e % n;
		half = (n + 1) / 2;
		if (p >= half)
			p -= half;
		return ((n & ~1u) - 2 * p) % mod;
	default:
		/* Modes 0, 1, 4, 5 wrap around after the terminal count and go on. */
		return (uint32_t)((((int64_t)n - e) % mod + mod) % mod);
	}
}

static bool out_level(const struct pit_channel *c, int64_t now)
{
	unsigned mode = ch_mode(c);
	int64_t e;

	if (c->state == CE_EMPTY)
		return mode != 0;	/* a control word sets OUT low in mode 0, high in the rest */
	if (c->state == CE_ARMED)
		return true;
	if (c->state == CE_HELD && (mode == 2 || mode == 3))
		return true;
	e = ch_elapsed(c, now);
	switch (mode) {
	case 0:
	case 1:
		return e >= c->n;
	case 2:
		return e % c->n != c->n - 1;
	case 3:
		return e % c->n < (c->n + 1) / 2;
	default:
		return e != c->n;	/* 4 and 5: a one-tick strobe */
	}
}

/* Rising edges of OUT in the first e ticks of a cycle. */
static uint64_t edges_in(const struct pit_channel *c, int64_t e)
{
	unsigned mode = ch_mode(c);

	if (mode == 2 || mode == 3)
		return e / c->n;
	return e >= c->n;
}

static uint16_t to_bcd(uint32_t v)
{
	return (v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10;
}

/* What a read of the count sees now, as the guest's format has it. */
static uint16_t ce_read(const struct pit_channel *c, int64_t now)
{
	uint32_t v;

	if (c->state == CE_EMPTY || c->state == CE_ARMED)
		return c->idle_ce;
	v = ce_value(c, ch_elapsed(c, now));
	return c->bcd ? to_bcd(v) : v;
}

/* A written count as a binary number of ticks, 0 being the largest. */
static uint32_t count_from_guest(const struct pit_channel *c, uint16_t raw)
{
	uint32_t v = raw;

	if (c->bcd) {
		v = (raw >> 12) * 1000 + (raw >> 8 & 0xf) * 100 + (raw >> 4 & 0xf) * 10 + (raw & 0xf);
		v %= 10000;
	}
	return v ? v : ch_modulus(c);
}

/*
 * Under the lock: bring channel c up to now, applying a pending reload
 * whose period has ended; channel 0's edges since the last look go to due.
 */
static void ch_sync(struct pit *p, struct pit_channel *c, int64_t now)
{
	uint64_t total;

	if (c->state != CE_RUNNING)
		return;
	if (c->pending && now >= c->pending_tick) {
		total = edges_in(c, c->pending_tick - c->run_tick);
		if (c == &p->ch[0])
			p->due += total - c->edges_seen;
		c->run_tick = c->pending_tick;
		c->n = c->cr;
		c->pending = false;
		c->null_count = false;
		c->edges_seen = 0;
	}
	total = edges_in(c, now - c->run_tick);
	if (c == &p->ch[0])
		p->due += total - c->edges_seen;
	c->edges_seen = total;
}

/* Load the counting element from the count register and count from now (or hold). */
static void ch_start(struct pit_channel *c, int64_t now, bool counting)
{
	c->n = c->cr;
	c->null_count = false;
	c->pending = false;
	c->edges_seen = 0;
	if (counting) {
		c->state = CE_RUNNING;
		c->run_tick = now;
	} else {
		c->state = CE_HELD;
		c->held_e = 0;
	}
}

/* The count register got a whole new count. */
static void ch_load(struct pit *p, struct pit_channel *c, int64_t now)
{
	int64_t e;

	c->null_count = true;
	if (c == &p->ch[0])
		atomic_fetch_add_explicit(&p->reprograms, 1, memory_order_relaxed);
	switch (ch_mode(c)) {
	case 0:
	case 4:
		ch_start(c, now, c->gate);
		break;
	case 1:
	case 5:
		/* Waits for a trigger; a running one-shot finishes its count first. */
		if (c->state == CE_EMPTY) {
			c->state = CE_ARMED;
			c->idle_ce = c->bcd ? to_bcd(c->cr % 10000) : (uint16_t)c->cr;
		}
		break;
	default:
		if (c->state == CE_EMPTY) {
			ch_start(c, now, c->gate);
		} else if (c->state == CE_RUNNING) {
			/* The current period runs out first. */
			e = now - c->run_tick;
			c->pending = true;
			c->pending_tick = c->run_tick + (e / c->n + 1) * c->n;
		}
		/* CE_HELD: the gate's rising edge loads it. */
		break;
	}
}

/* Freeze the count a read would see, for a counter that stops counting. */
static void ch_stop(struct pit_channel *c, int64_t now)
{
	c->idle_ce = ce_read(c, now);
	c->state = CE_EMPTY;
	c->pending = false;
}

static void ch_set_gate(struct pit_channel *c, bool gate, int64_t now)
{
	bool rising = gate && !c->gate, falling = !gate && c->gate;

	c->gate = gate;
	switch (ch_mode(c)) {
	case 0:
	case 4:
		if (falling && c->state == CE_RUNNING) {
			c->held_e = now - c->run_tick;
			c->state = CE_HELD;
		} else if (rising && c->state == CE_HELD) {
			c->run_tick = now - c->held_e;
			c->state = CE_RUNNING;
		}
		break;
	case 1:
	case 5:
		if (rising && c->state != CE_EMPTY)
			ch_start(c, now, true);
		break;
	default:
		if (falling && c->state == CE_RUNNING) {
			c->held_e = now - c->run_tick;
			c->state = CE_HELD;
			c->pending = false;
		} else if (rising && c->state != CE_EMPTY) {
			ch_start(c, now, true);
		}
		break;
	}
}

static uint8_t ch_status(const struct pit_channel *c, int64_t now)
{
	return (out_level(c, now) ? ST_OUT : 0) | (c->null_count ? ST_NULL_COUNT : 0) |
	       c->access << CW_RW_SHIFT | c->mode_bits << CW_MODE_SHIFT | (c->bcd ? CW_BCD : 0);
}

static void ch_latch_count(struct pit_channel *c, int64_t now)
{
	/* A second latch before the first is read is ignored. */
	if (c->count_latched)
		return;
	c->ol = ce_read(c, now);
	c->count_latched = true;
}

static void pit_control(struct pit *p, uint8_t v, int64_t now)
{
	unsigned sc = v >> CW_SC_SHIFT, access = (v >> CW_RW_SHIFT) & 3;
	struct pit_channel *c;

	if (sc == CW_SC_READBACK) {
		for (unsigned i = 0; i < PIT_NR_CHANNELS; i++) {
			if (!(v & (2u << i)))
				continue;
			c = &p->ch[i];
			ch_sync(p, c, now);
			if (!(v & RB_NO_COUNT))
				ch_latch_count(c, now);
			if (!(v & RB_NO_STATUS) && !c->status_latched) {
				c->status = ch_status(c, now);
				c->status_latched = true;
			}
		}
		return;
	}
	c = &p->ch[sc];
	ch_sync(p, c, now);
	if (access == ACCESS_LATCH) {
		ch_latch_count(c, now);
		return;
	}
	ch_stop(c, now);
	c->mode_bits = (v >> CW_MODE_SHIFT) & 7;
	c->access = access;
	c->bcd = v & CW_BCD;
	c->write_hi = c->read_hi = false;
	c->count_latched = c->status_latched = false;
	c->null_count = true;
	c->edges_seen = 0;
}

static void ch_write(struct pit *p, struct pit_channel *c, uint8_t v, int64_t now)
{
	ch_sync(p, c, now);
	switch (c->access) {
	case ACCESS_LO:
		c->cr = count_from_guest(c, v);
		break;
	case ACCESS_HI:
		c->cr = count_from_guest(c, (uint16_t)v << 8);
		break;
	default:
		if (!c->write_hi) {
			c->cr_lo = v;
			c->write_hi = true;
			/* Mode 0 stops counting, OUT low, on the first byte of a new count. */
			if (ch_mode(c) == 0 && c->state != CE_EMPTY)
				ch_stop(c, now);
			return;
		}
		c->write_hi = false;
		c->cr = count_from_guest(c, c->cr_lo | (uint16_t)v << 8);
		break;
	}
	ch_load(p, c, now);
}

/* One byte of a 16-bit value, as the access mode and the flip-flop say; true when done with it. */
static uint8_t read_byte(struct pit_channel *c, uint16_t v, bool *done)
{
	switch (c->access) {
	case ACCESS_LO:
		*done = true;
		return v & 0xff;
	case ACCESS_HI:
		*done = true;
		return v >> 8;
	default:
		c->read_hi = !c->read_hi;
		*done = !c->read_hi;
		return c->read_hi ? v & 0xff : v >> 8;
	}
}

static uint8_t ch_read(struct pit *p, struct pit_channel *c, int64_t now)
{
	bool done;
	uint8_t b;

	ch_sync(p, c, now);
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->count_latched) {
		b = read_byte(c, c->ol, &done);
		if (done)
			c->count_latched = false;
		return b;
	}
	return read_byte(c, ce_read(c, now), &done);
}

/* When channel 0's next edge comes (clock ns), INT64_MAX if none will. */
static int64_t ch0_next_edge_ns(const struct pit *p)
{
	const struct pit_channel *c = &p->ch[0];
	unsigned mode = ch_mode(c);

	if (c->state != CE_RUNNING)
		return INT64_MAX;
	if (mode != 2 && mode != 3 && c->edges_seen)
		return INT64_MAX;
	return ticks_to_ns(c->run_tick + (int64_t)(c->edges_seen + 1) * c->n);
}

/* Under the lock, after any change: the timer waits for the next edge to raise, no sooner than the clamp allows. */
static void pit_arm(struct pit *p, int64_t now_ns)
{
	int64_t next = p->due ? now_ns : ch0_next_edge_ns(p);
	uint64_t left;

	if (!p->timer)
		return;
	if (next == INT64_MAX) {
		if (p->armed)
			loop_timer_arm(p->timer, 0);
		p->armed = false;
		return;
	}
	if (p->last_raise_ns != INT64_MIN && next < p->last_raise_ns + PIT_MIN_PERIOD_NS)
		next = p->last_raise_ns + PIT_MIN_PERIOD_NS;
	if (p->armed && p->deadline_ns == next)
		return;
	/* 0 would cancel; one that fires early finds nothing due and re-arms. */
	left = next > now_ns ? (uint64_t)(next - now_ns) : 1;
	p->armed = !loop_timer_arm(p->timer, left);
	p->deadline_ns = next;
}

static void pit_timer_fired(void *opaque)
{
	struct pit *p = opaque;
	int64_t now_ns;
	bool raise;

	pthread_mutex_lock(&p->lock);
	p->armed = false;
	now_ns = pit_now_ns(p);
	ch_sync(p, &p->ch[0], ns_to_ticks(now_ns));
	/* The clamp is kept on the device's clock, whatever woke the timer. */
	raise = p->due > 0 && (p->last_raise_ns == INT64_MIN ||
			       now_ns - p->last_raise_ns >= PIT_MIN_PERIOD_NS);
	if (raise) {
		atomic_fetch_add_explicit(&p->lost_ticks, p->due - 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&p->irq0_ticks, 1, memory_order_relaxed);
		p->due = 0;
		p->last_raise_ns = now_ns;
	}
	pit_arm(p, now_ns);
	pthread_mutex_unlock(&p->lock);
	if (raise) {
		p->m->irq_set(p->m, PIT_GSI, 1);
		p->m->irq_set(p->m, PIT_GSI, 0);
	}
}

static uint8_t port61_read(struct pit *p, int64_t now)
{
	struct pit_channel *c = &p->ch[2];

	ch_sync(p, c, now);
	return p->port61 | ((now / REFRESH_TICKS) & 1 ? P61_REFRESH : 0) |
	       (out_level(c, now) ? P61_OUT2 : 0);
}

static void port61_write(struct pit *p, uint8_t v, int64_t now)
{
	struct pit_channel *c = &p->ch[2];

	ch_sync(p, c, now);
	p->port61 = v & P61_WRITABLE;
	ch_set_gate(c, v & P61_GATE2, now);
}

/*
 * A wider access reaches consecutive ports one byte at a time, as an ISA
 * bus splits it; the bus keeps it inside the region.
 */
static void pit_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pit *p = opaque;
	uint8_t *b = data;
	int64_t now_ns, now;

	pthread_mutex_lock(&p->lock);
	now_ns = pit_now_ns(p);
	now = ns_to_ticks(now_ns);
	for (unsigned i = 0; i < len; i++) {
		uint64_t port = offset + i;

		/* The control word register cannot be read: the bus floats. */
		b[i] = port < PIT_NR_CHANNELS ? ch_read(p, &p->ch[port], now) : 0xff;
	}
	pit_arm(p, now_ns);
	pthread_mutex_unlock(&p->lock);
}

static void pit_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pit *p = opaque;
	const uint8_t *b = data;
	int64_t now_ns, now;

	pthread_mutex_lock(&p->lock);
	now_ns = pit_now_ns(p);
	now = ns_to_ticks(now_ns);
	for (unsigned i = 0; i < len; i++) {
		uint64_t port = offset + i;

		if (port < PIT_NR_CHANNELS)
			ch_write(p, &p->ch[port], b[i], now);
		else if (port == PIT_CONTROL)
			pit_control(p, b[i], now);
	}
	pit_arm(p, now_ns);
	pthread_mutex_unlock(&p->lock);
}

static void port61_io_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pit *p = opaque;
	uint8_t *b = data;

	pthread_mutex_lock(&p->lock);
	b[0] = port61_read(p, ns_to_ticks(pit_now_ns(p)));
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 1; i < len; i++)
		b[i] = 0xff;
}

static void port61_io_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pit *p = opaque;

	pthread_mutex_lock(&p->lock);
	port61_write(p, *(const uint8_t *)data, ns_to_ticks(pit_now_ns(p)));
	pthread_mutex_unlock(&p->lock);
}

static const char *pit_reg_name(void *opaque, uint64_t offset)
{
	static const char *const names[] = { "CH0", "CH1", "CH2", "MODE" };

	return offset < ARRAY_SIZE(names) ? names[offset] : NULL;
}

static const char *port61_reg_name(void *opaque, uint64_t offset)
{
	return "PORT61";
}

static const struct bus_ops pit_ops = {
	.read = pit_read,
	.write = pit_write,
	.reg_name = pit_reg_name,
};

static const struct bus_ops port61_ops = {
	.read = port61_io_read,
	.write = port61_io_write,
	.reg_name = port61_reg_name,
};

static void pit_report(void *opaque, struct device_report *out)
{
	struct pit *p = opaque;

	snprintf(out->path, sizeof(out->path), "irq 0 edges from a timer on the I/O thread");
	device_report_add(out, "irq0_ticks", atomic_load_explicit(&p->irq0_ticks, memory_order_relaxed));
	device_report_add(out, "lost_ticks", atomic_load_explicit(&p->lost_ticks, memory_order_relaxed));
	device_report_add(out, "reprograms", atomic_load_explicit(&p->reprograms, memory_order_relaxed));
}

static void pit_release(void *state)
{
	struct pit *p = state;

	if (p->timer)
		loop_timer_destroy(p->timer);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int pit8254_create_clocked(struct machine *m, int64_t (*now_ns)(void *opaque), void *opaque)
{
	struct pit *p = machine_alloc_device(m, sizeof(*p), pit_release);
	char summary[128];
	int ret;

	if (!p)
		return -ENOMEM;
	p->m = m;
	p->now_ns = now_ns;
	p->clock_opaque = opaque;
	p->base_ns = now_ns(opaque);
	p->last_raise_ns = INT64_MIN;
	pthread_mutex_init(&p->lock, NULL);
	/* As KVM's PIT starts: no counting and no interrupt until the guest programs a channel. */
	for (unsigned i = 0; i < PIT_NR_CHANNELS; i++) {
		p->ch[i].mode_bits = 3;
		p->ch[i].access = ACCESS_LOHI;
		p->ch[i].gate = i != 2;
		p->ch[i].cr = 65536;
		p->ch[i].n = 65536;
		p->ch[i].state = CE_EMPTY;
	}
	if (m->loop) {
		ret = machine_timer_create(m, pit_timer_fired, p, &p->timer);
		if (ret < 0)
			return report(ret, "pit: timer: %s", strerror(-ret));
	}
	ret = machine_claim(m, BUS_PIO, PIT_BASE_PORT, PIT_NR_PORTS, "pit", &pit_ops, p);
	if (ret < 0)
		return ret;
	ret = machine_claim(m, BUS_PIO, PIT_PORT_B, 1, "pit-port61", &port61_ops, p);
	if (ret < 0)
		return ret;
	ret = machine_claim_irq(m, PIT_GSI, "pit", false);
	if (ret < 0)
		return ret;
	snprintf(summary, sizeof(summary),
		 "8254 at %u Hz, ports %#x-%#x and %#x, channel 0 on irq %u, at most one edge per %u us",
		 PIT_HZ, PIT_BASE_PORT, PIT_BASE_PORT + PIT_NR_PORTS - 1, PIT_PORT_B, PIT_GSI,
		 (unsigned)(PIT_MIN_PERIOD_NS / 1000));
	return machine_add_report(m, "pit", summary, pit_report, p);
}

int pit8254_create(struct machine *m)
{
	return pit8254_create_clocked(m, monotonic_ns, NULL);
}
