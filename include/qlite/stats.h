/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-vCPU exit counters. Each vCPU thread is the only writer of its own
 * counters (no locks, no atomics on the exit path); reporters read them
 * from another thread and accept a slightly stale view.
 */
#ifndef QLITE_STATS_H
#define QLITE_STATS_H

#include <stdint.h>

#include "bus.h"

#define EXIT_REASON_MAX	64	/* KVM_EXIT_* values are below this */

struct vcpu_stats {
	uint64_t exits;				/* every return of KVM_RUN, including EINTR */
	uint64_t reason[EXIT_REASON_MAX];	/* by kvm_run->exit_reason */
	uint64_t run_eintr;			/* KVM_RUN interrupted by a signal */
	uint64_t io_transfers;			/* string PIO: one exit, count transfers */
	/* Accesses by bus region id and direction (0 read, 1 write). */
	uint64_t region[BUS_NR_SPACES][BUS_MAX_REGIONS][2];
	/* Accesses no device claimed: reads got all-ones, writes were dropped. */
	uint64_t unclaimed[BUS_NR_SPACES][2];
};

const char *kvm_exit_reason_name(unsigned reason);

#endif
