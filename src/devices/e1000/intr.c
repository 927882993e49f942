// SPDX-License-Identifier: GPL-2.0-only
/*
 * e1000 interrupts: causes gather in ICR, the INTx line is (ICR & IMS) != 0,
 * and the moderation timers of the manual delay the causes that have them:
 *   RDTR  receive packet timer (1.024 us units): restarted by each frame;
 *         0 means RXT0 at once
 *   RADV  receive absolute timer: started by the first frame after an
 *         RXT0, never restarted (only with RDTR != 0)
 *   TIDV  transmit delay for descriptors with IDE: restarted by each
 *   TADV  transmit absolute delay, from the first such descriptor
 *   ITR   the shortest interval between two rising edges (256 ns units)
 * All deadlines share the device's one machine timer; e1000.c serves it.
 * Called with the device lock held.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "e1000.h"
#include "qlite/guest_mem.h"
#include "qlite/util.h"

#define DELAY_UNIT_NS	1024	/* RDTR, RADV, TIDV, TADV */
#define ITR_UNIT_NS	256

uint64_t e1000_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void e1000_timer_rearm(struct e1000 *s)
{
	uint64_t first = 0, now;

	for (unsigned i = 0; i < DL_NR; i++)
		if (s->deadline[i] && (!first || s->deadline[i] < first))
			first = s->deadline[i];
	if (first == s->armed_for || !s->timer)
		return;
	s->armed_for = first;
	if (!first) {
		loop_timer_arm(s->timer, 0);
		return;
	}
	now = e1000_now_ns();
	/* 0 would cancel: a deadline already passed fires after 1 ns. */
	loop_timer_arm(s->timer, first > now ? first - now : 1);
}

void e1000_update_irq(struct e1000 *s)
{
	bool pending = e1000_reg(s, ICR) & e1000_reg(s, IMS);
	uint64_t itr = (uint64_t)(e1000_reg(s, ITR) & 0xffff) * ITR_UNIT_NS, now;

	if (!pending) {
		if (s->irq_level) {
			s->irq_level = false;
			pci_irq_set(&s->pci, 0);
		}
		return;
	}
	if (s->irq_level)
		return;
	now = e1000_now_ns();
	if (itr && s->last_irq_ns && now < s->last_irq_ns + itr) {
		/* Throttled: the edge waits for the interval to end. */
		if (!s->deadline[DL_ITR]) {
			s->deadline[DL_ITR] = s->last_irq_ns + itr;
			e1000_timer_rearm(s);
		}
		return;
	}
	s->deadline[DL_ITR] = 0;
	s->irq_level = true;
	s->last_irq_ns = now;
	e1000_count(&s->cnt.interrupts, 1);
	pci_irq_set(&s->pci, 1);
}

void e1000_set_cause(struct e1000 *s, uint32_t causes)
{
	e1000_set_reg(s, ICR, e1000_reg(s, ICR) | causes);
	e1000_update_irq(s);
}

/* A frame was written back. */
void e1000_rx_interrupt(struct e1000 *s)
{
	uint64_t rdtr = (e1000_reg(s, RDTR) & 0xffff) * (uint64_t)DELAY_UNIT_NS;
	uint64_t radv = (e1000_reg(s, RADV) & 0xffff) * (uint64_t)DELAY_UNIT_NS, now;

	if (!rdtr) {
		e1000_set_cause(s, ICR_RXT0);
		return;
	}
	now = e1000_now_ns();
	s->deadline[DL_RDTR] = now + rdtr;
	if (radv && !s->deadline[DL_RADV])
		s->deadline[DL_RADV] = now + radv;
	e1000_timer_rearm(s);
}

/* A descriptor with RS was written back; delayed when it had IDE. */
void e1000_tx_interrupt(struct e1000 *s, bool delayed)
{
	uint64_t tidv = (e1000_reg(s, TIDV) & 0xffff) * (uint64_t)DELAY_UNIT_NS;
	uint64_t tadv = (e1000_reg(s, TADV) & 0xffff) * (uint64_t)DELAY_UNIT_NS, now;

	if (!delayed || !tidv) {
		e1000_set_cause(s, ICR_TXDW);
		return;
	}
	now = e1000_now_ns();
	s->deadline[DL_TIDV] = now + tidv;
	if (tadv && !s->deadline[DL_TADV])
		s->deadline[DL_TADV] = now + tadv;
	e1000_timer_rearm(s);
}

/* RDTR with FPD set flushes the receive timers: RXT0 now if a frame waits. */
void e1000_rdtr_written(struct e1000 *s, uint32_t val)
{
	e1000_set_reg(s, RDTR, val & 0xffff);
	if (!(val & RDTR_FPD) || !s->deadline[DL_RDTR])
		return;
	s->deadline[DL_RDTR] = s->deadline[DL_RADV] = 0;
	e1000_timer_rearm(s);
	e1000_set_cause(s, ICR_RXT0);
}

void e1000_intr_expire(struct e1000 *s, uint64_t now)
{
	uint32_t causes = 0;

	if ((s->deadline[DL_RDTR] && s->deadline[DL_RDTR] <= now) ||
	    (s->deadline[DL_RADV] && s->deadline[DL_RADV] <= now)) {
		s->deadline[DL_RDTR] = s->deadline[DL_RADV] = 0;
		causes |= ICR_RXT0;
	}
	if ((s->deadline[DL_TIDV] && s->deadline[DL_TIDV] <= now) ||
	    (s->deadline[DL_TADV] && s->deadline[DL_TADV] <= now)) {
		s->deadline[DL_TIDV] = s->deadline[DL_TADV] = 0;
		causes |= ICR_TXDW;
	}
	if (s->deadline[DL_ITR] && s->deadline[DL_ITR] <= now)
		s->deadline[DL_ITR] = 0;
	e1000_set_reg(s, ICR, e1000_reg(s, ICR) | causes);
	e1000_update_irq(s);
}

void e1000_intr_reset(struct e1000 *s)
{
	for (unsigned i = 0; i < DL_NR; i++)
		if (i != DL_AUTONEG)
			s->deadline[i] = 0;
	s->last_irq_ns = 0;
	e1000_timer_rearm(s);
	if (s->irq_level) {
		s->irq_level = false;
		pci_irq_set(&s->pci, 0);
	}
}

bool e1000_ring_ok(struct e1000 *s, bool tx, uint64_t base, uint32_t n)
{
	const char *h = tx ? "TDH" : "RDH", *t = tx ? "TDT" : "RDT", *l = tx ? "TDLEN" : "RDLEN";
	uint32_t head = e1000_reg(s, tx ? TDH : RDH), tail = e1000_reg(s, tx ? TDT : RDT);

	if (!n) {
		e1000_queue_stop(s, tx, "%s %u with %s 0", t, tail, l);
		return false;
	}
	if (head >= n || tail >= n) {
		e1000_queue_stop(s, tx, "%s %u / %s %u past the %u descriptors of %s", h, head, t,
				 tail, n, l);
		return false;
	}
	/*
	 * Without an IOMMU the ring is guest-physical: one check here says at
	 * once, in one line, that the driver gave a ring outside RAM. With one
	 * the base is an IOVA: RAM is the wrong address space to judge it in (a
	 * valid IOVA may lie beyond RAM), and translating the whole ring at each
	 * kick would walk the guest's tables for pages the device does not
	 * touch. So there each descriptor access is checked where it is made
	 * (as it is without an IOMMU too), and a refused one stops the queue.
	 */
	if (!s->m->iommu && !guest_mem_ptr(s->m->mem, base, (uint64_t)n * DESC_SIZE)) {
		e1000_queue_stop(s, tx, "ring %#llx+%u outside RAM", (unsigned long long)base,
				 n * DESC_SIZE);
		return false;
	}
	return true;
}

void e1000_count_frame(struct e1000 *s, const struct e1000_frame_stats *r, const uint8_t *dst,
		       uint32_t len)
{
	uint32_t wire = len + ETH_FCS;
	unsigned b = wire > 1023 ? 5 : wire > 511 ? 4 : wire > 255 ? 3 : wire > 127 ? 2 :
		     wire > 64 ? 1 : 0;

	e1000_stat_inc(s, r->total);
	e1000_stat_inc(s, r->good);
	e1000_stat_add64(s, r->octets_lo, wire);
	e1000_stat_add64(s, r->total_octets_lo, wire);
	if (wire >= 64)
		e1000_stat_inc(s, r->size[b]);
	if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6))
		e1000_stat_inc(s, r->broadcast);
	else if (dst[0] & 1)
		e1000_stat_inc(s, r->multicast);
}

void e1000_queue_stop(struct e1000 *s, bool tx, const char *fmt, ...)
{
	bool *said = tx ? &s->said_tx : &s->said_rx;
	char msg[192];
	va_list ap;

	if (tx)
		s->tx_stopped = true;
	else
		s->rx_stopped = true;
	e1000_count(&s->cnt.queue_stops, 1);
	if (*said)
		return;
	*said = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(0, "%s: %s queue stopped: %s (until the driver resets the device or enables "
	       "the queue again)", s->name, tx ? "transmit" : "receive", msg);
}
