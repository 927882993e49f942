// SPDX-License-Identifier: GPL-2.0-only
/*
 * timer.c - time from the TSC, at the rate the VMM states or calibrated once.
 *
 * rdtsc runs natively in ring 3, so waits cost no exits. The rate comes, in
 * this order, from the word tsc-khz=N (the harness passes what KVM reports,
 * the same way under every VMM), from CPUID 0x40000010 as read in ring 0 at
 * entry (ring-3 cpuid reports the host's leaves on PVM hosts), or else from
 * the PIT: 10 ms of polling port 0x61, as Linux does, done lazily by the
 * first scenario that needs time. A PIT calibration reads short whenever the
 * vCPU is descheduled inside its window, so benchmarks pass tsc-khz; report()
 * names the source. Machines without port 0x61 (QEMU's microvm has
 * a PIT but no speaker port to gate channel 2) are calibrated on channel 0
 * instead, by latching and reading its count (3 PIO exits a sample) over
 * 20 ms, and say so. If no PIT counts, a 2 GHz TSC is assumed and said so.
 */
#include "guest.h"

#define PIT_HZ		1193182
#define PIT_CH0		0x40
#define PIT_CH2		0x42
#define PIT_CMD		0x43
#define PORT_B		0x61	/* bit 0: ch2 gate, bit 1: speaker, bit 5: ch2 output */
#define CAL_MS		10
#define CH0_CAL_MS	20
#define CH0_STILL	1000	/* samples without a tick: no PIT (a tick is 0.84 us) */
#define CAL_SPINS	10000000
#define FALLBACK_KHZ	2000000

uint32_t hv_tsc_khz;
static uint64_t tsc_khz;
static const char *tsc_source = "none";

static uint64_t pit_calibrate(void)
{
	const uint32_t latch = (PIT_HZ * CAL_MS + 500) / 1000;
	uint64_t t0, t1;
	unsigned i;

	uint8_t b = inb(PORT_B);

	if (b == 0xff)		/* nothing decodes port 0x61 */
		return 0;
	outb(PORT_B, (b & ~0x02) | 0x01);
	outb(PIT_CMD, 0xb0);	/* channel 2, lobyte/hibyte, mode 0, binary */
	outb(PIT_CH2, latch & 0xff);
	outb(PIT_CH2, latch >> 8);
	t0 = rdtsc();
	for (i = 0; i < CAL_SPINS; i++)
		if (inb(PORT_B) & 0x20)
			break;
	t1 = rdtsc();
	if (i == 0 || i == CAL_SPINS)	/* output high at once, or never */
		return 0;
	return (t1 - t0) * PIT_HZ / ((uint64_t)latch * 1000);
}

static uint16_t pit_ch0_count(void)
{
	uint8_t lo;

	outb(PIT_CMD, 0x00);	/* latch channel 0 */
	lo = inb(PIT_CH0);
	return lo | inb(PIT_CH0) << 8;
}

/* Channel 0 as a rate generator from 65536, its count sampled until CH0_CAL_MS of ticks passed. */
static uint64_t pit_ch0_calibrate(void)
{
	const uint64_t want = (uint64_t)PIT_HZ * CH0_CAL_MS / 1000;
	uint64_t ticks = 0, t0, t1;
	uint16_t prev, c;
	unsigned i, still = 0;

	outb(PIT_CMD, 0x34);	/* channel 0, lobyte/hibyte, mode 2, binary */
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
	prev = pit_ch0_count();
	t0 = t1 = rdtsc();
	for (i = 0; i < CAL_SPINS && ticks < want && still < CH0_STILL; i++) {
		c = pit_ch0_count();
		t1 = rdtsc();
		still = c == prev ? still + 1 : 0;
		ticks += (uint16_t)(prev - c);
		prev = c;
	}
	if (ticks < want)
		return 0;
	return (t1 - t0) * PIT_HZ / (ticks * 1000);
}

static bool khz_plausible(uint64_t khz)
{
	return khz >= 100000 && khz <= 10000000;	/* 100 MHz..10 GHz */
}

/* tsc-khz=N: the TSC rate as the VMM (KVM_GET_TSC_KHZ) states it; wins over CPUID and PIT. */
void do_tsc_khz(const char *word, char *arg)
{
	uint64_t v[1];

	args(word, arg, v, 1, 1);
	if (!khz_plausible(v[0]))
		fail("tsc-khz: %lu kHz is outside 100 MHz..10 GHz", (unsigned long)v[0]);
	if (hv_tsc_khz && hv_tsc_khz != v[0])
		gprintf("qlite-test-guest: tsc-khz=%lu, CPUID 0x40000010 says %u\n",
			(unsigned long)v[0], hv_tsc_khz);
	tsc_khz = v[0];
	tsc_source = "cmdline";
}

void tsc_ensure(void)
{
	uint64_t khz;

	if (tsc_khz)
		return;
	if (khz_plausible(hv_tsc_khz)) {
		tsc_khz = hv_tsc_khz;
		tsc_source = "cpuid";
		return;
	}
	tsc_source = "pit";
	khz = pit_calibrate();
	if (!khz) {
		khz = pit_ch0_calibrate();
		tsc_source = "pit-ch0";
		gprintf("qlite-test-guest: PIT channel 2 does not count (no port 0x61?), "
			"channel 0 gives %lu kHz\n", (unsigned long)khz);
	}
	if (!khz_plausible(khz)) {
		gprintf("qlite-test-guest: PIT calibration gave %lu kHz, assuming %u kHz\n",
			(unsigned long)khz, FALLBACK_KHZ);
		khz = FALLBACK_KHZ;
		tsc_source = "assumed";
	}
	tsc_khz = khz;
}

const char *tsc_clock(void)
{
	tsc_ensure();
	return tsc_source;
}

uint64_t tsc_to_us(uint64_t cycles)
{
	tsc_ensure();
	return cycles * 1000 / tsc_khz;
}

uint64_t tsc_to_ns(uint64_t cycles)
{
	tsc_ensure();
	return cycles * 1000000 / tsc_khz;
}

/* The TSC value us microseconds from now. */
uint64_t tsc_deadline(uint64_t us)
{
	tsc_ensure();
	return rdtsc() + us * tsc_khz / 1000;
}

void udelay(uint64_t us)
{
	uint64_t deadline = tsc_deadline(us);

	while (rdtsc() < deadline)
		cpu_relax();
}
