// SPDX-License-Identifier: GPL-2.0-only
/*
 * hist.c - per-access round-trip histograms for the pio-/mmio- loops (`hist`).
 *
 * A loop's mean hides the shape: an exit's round trip spreads over two
 * orders of magnitude when the host deschedules the vCPU or an interrupt
 * lands in it. With `hist`, each following loop times every access on its
 * own (rdtsc on both sides, which adds its own few tens of cycles to each
 * sample, the same under any VMM) into quarter-octave buckets, and prints
 * the non-empty ones after its usual line:
 *     pio-read: hist cycles LOW:COUNT LOW:COUNT ...
 * where LOW is the bucket's lower bound in TSC cycles.
 */
#include "guest.h"

#define HIST_SUB	4			/* buckets per octave */
#define HIST_BUCKETS	(64 * HIST_SUB)

bool hist_on;
static uint32_t hist[HIST_BUCKETS];

/* Values below 4 have buckets of their own; above, the octave and the next two bits. */
static unsigned hist_bucket(uint64_t c)
{
	unsigned msb;

	if (c < HIST_SUB)
		return c;
	msb = 63 - __builtin_clzll(c);
	return msb * HIST_SUB + ((c >> (msb - 2)) & (HIST_SUB - 1));
}

static uint64_t hist_low(unsigned b)
{
	if (b < HIST_SUB)
		return b;
	return (uint64_t)(HIST_SUB + b % HIST_SUB) << (b / HIST_SUB - 2);
}

void hist_reset(void)
{
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		hist[b] = 0;
}

void hist_add(uint64_t cycles)
{
	hist[hist_bucket(cycles)]++;
}

void hist_print(const char *word)
{
	gprintf("%s: hist cycles", word);
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		if (hist[b])
			gprintf(" %lu:%u", (unsigned long)hist_low(b), hist[b]);
	gprintf("\n");
}
