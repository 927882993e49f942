// SPDX-License-Identifier: GPL-2.0-only
/*
 * What exit accounting adds to one PIO exit, measured in-process: the exact
 * calls the vCPU loop makes with accounting on (two clock reads, the device
 * and register attribution, two histogram updates), repeated over a spread
 * of registers, against the same loop with accounting off. Prints ns per
 * exit. The host's exit round trip (bench/exit_cost.py) is the denominator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qlite/bus.h"
#include "qlite/stats.h"

static uint8_t regs[8];

static void dev_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memcpy(data, regs + off, len);
}

static void dev_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	memcpy(regs + off, data, len);
}

static const struct bus_ops ops = { .read = dev_read, .write = dev_write };

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double run(struct bus *bus, struct vcpu_stats *st, unsigned n, int accounting)
{
	double t0 = now_ns();

	for (unsigned i = 0; i < n; i++) {
		uint16_t port = 0x3f8 + (i & 7);
		uint8_t data = i;
		uint64_t t_exit = accounting ? stats_clock() : 0;
		const struct bus_region *r;
		struct region_stats *rs = NULL;

		stat_add(&st->exits, 1);
		stat_add(&st->reason[2], 1);
		r = bus_dispatch(bus, port, &data, 1, i & 1);
		if (accounting) {
			uint64_t cycles;

			stats_count_access(st, BUS_PIO, r, port, i & 1, 1, &rs);
			cycles = stats_clock() - t_exit;
			stats_hist_add(&st->reason_time[2], cycles);
			if (rs)
				stats_hist_add(&rs->time, cycles);
		}
	}
	return (now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? strtoul(argv[1], NULL, 0) : 5000000;
	struct bus *bus = bus_create(BUS_PIO);
	struct vcpu_stats *st = calloc(1, sizeof(*st));
	double on = 1e9, off = 1e9;

	bus_register(bus, 0x3f8, 8, "uart", &ops, NULL);
	for (int round = 0; round < 5; round++) {
		double a = run(bus, st, n, 1), b = run(bus, st, n, 0);

		on = a < on ? a : on;
		off = b < off ? b : off;
	}
	printf("exit path without accounting: %.1f ns, with: %.1f ns, accounting adds %.1f ns per exit\n",
	       off, on, on - off);
	vcpu_stats_free(st);
	free(st);
	bus_destroy(bus);
	return 0;
}
