/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exit accounting, three layers kept apart:
 *  1. userspace exits qlite sees (KVM_EXIT_*), PIO/MMIO attributed to the
 *     bus region (device) and register, with handler time histograms;
 *  2. the kernel's own counters from KVM_GET_STATS_FD, as deltas;
 *  3. hardware exit reasons from the kvm:kvm_exit tracepoint, when the host
 *     lets us read it.
 *
 * Each vCPU thread is the only writer of its own counters: no locks and no
 * locked instructions on the exit path. Reporters read from another thread
 * with relaxed loads and accept a view that is a few exits stale.
 */
#ifndef QLITE_STATS_H
#define QLITE_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bus.h"
#include "machine.h"

#define EXIT_REASON_MAX		64	/* KVM_EXIT_* values are below this */
#define STATS_HIST_BUCKETS	48	/* log2 of handler time in TSC cycles */
#define STATS_REG_SLOTS		128	/* distinct (register, direction) pairs per device (Linux e1000: ~100) */
#define STATS_UNCLAIMED_SLOTS	32	/* unclaimed (address, direction) pairs per vCPU and bus */
#define STATS_UNCLAIMED_TOP	8	/* the busiest the reports name */

/* One writer increments, anyone reads: plain moves on x86, but no data race for the compiler. */
static inline void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint64_t stat_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

struct stats_hist {
	uint64_t bucket[STATS_HIST_BUCKETS];	/* bucket b: [2^b, 2^(b+1)) cycles; b = 0 also holds 0 */
	uint64_t count;
	uint64_t sum;				/* cycles */
	uint64_t max;				/* cycles */
};

struct reg_slot {
	uint64_t key;		/* (offset << 1 | is_write) + 1; 0 = free */
	uint64_t count;
};

/* Per vCPU, per bus region: allocated by the vCPU thread on the region's first access. */
struct region_stats {
	uint64_t count[2];		/* exits by direction: 0 read, 1 write */
	uint64_t transfers[2];		/* string PIO: elements moved (count[] counts exits) */
	struct stats_hist time;		/* handler time of this device's exits */
	struct reg_slot regs[STATS_REG_SLOTS];
	uint64_t other[2];		/* exits to registers beyond the table */
};

struct vcpu_stats {
	uint64_t exits;				/* every return of KVM_RUN, including EINTR */
	uint64_t reason[EXIT_REASON_MAX];	/* by kvm_run->exit_reason */
	uint64_t run_eintr;			/* KVM_RUN interrupted by a signal */
	uint64_t io_transfers;			/* PIO elements moved (string PIO: count per exit) */
	struct stats_hist reason_time[EXIT_REASON_MAX];
	struct region_stats *region[BUS_NR_SPACES][BUS_MAX_REGIONS];
	uint64_t unclaimed[BUS_NR_SPACES][2];	/* reads got all-ones, writes were dropped */
	/* Which addresses: key (addr << 1 | is_write) + 1, as reg_slot; full: only the totals. */
	struct reg_slot unclaimed_addr[BUS_NR_SPACES][STATS_UNCLAIMED_SLOTS];
	uint64_t coalesced;			/* writes drained from the coalesced MMIO ring */
};

const char *kvm_exit_reason_name(unsigned reason);

/* Exit path helpers (src/stats/counters.c). */
static inline uint64_t stats_clock(void)
{
	return __builtin_ia32_rdtsc();
}
void stats_hist_add(struct stats_hist *h, uint64_t cycles);
/* Attribute one PIO/MMIO exit (count elements for string PIO) to region r; NULL r = unclaimed. */
void stats_count_access(struct vcpu_stats *st, enum bus_space space, const struct bus_region *r,
			uint64_t addr, bool is_write, uint32_t count, struct region_stats **out);
/*
 * A write KVM queued in its coalesced MMIO ring and a vCPU dispatched later:
 * counted per register under the register's key with STATS_COALESCED set
 * (the reports name it "REG (coalesced)"), never as an exit.
 */
#define STATS_COALESCED		(1ULL << 40)
void stats_count_coalesced(struct vcpu_stats *st, enum bus_space space, const struct bus_region *r,
			   uint64_t addr);
void vcpu_stats_free(struct vcpu_stats *st);

/* Reading a histogram: the q quantile in cycles, interpolated inside its log2 bucket. */
double stats_hist_quantile(const struct stats_hist *h, double q);

/* TSC rate, measured against CLOCK_MONOTONIC_RAW between two points (src/stats/counters.c). */
struct stats_clock_ref {
	uint64_t tsc;
	uint64_t ns;
};
void stats_clock_mark(struct stats_clock_ref *ref);
double stats_tsc_per_ns(const struct stats_clock_ref *a, const struct stats_clock_ref *b);

/* Layer 2: KVM binary stats (src/stats/kvm_stats.c). */
struct kvm_stats_desc;
struct kvm_binary_stats {
	int fd;
	char id[64];
	unsigned nr;
	char (*name)[64];
	uint32_t *flags;	/* KVM_STATS_TYPE_*, _UNIT_*, _BASE_* */
	int16_t *exponent;	/* value * base^exponent is in the unit (halt_wait_ns: 10^-9 s) */
	uint32_t *offset;	/* into the data block */
	uint16_t *size;		/* in u64s */
	uint32_t data_offset;
	size_t data_size;
	uint64_t *base;		/* values at open: cumulative counters are reported as deltas */
	uint64_t *now;
};
int kvm_binary_stats_open(struct kvm_binary_stats *s, int ioctl_fd, char *err, size_t errlen);
int kvm_binary_stats_read(struct kvm_binary_stats *s);
/* Delta since open for cumulative stats, current value for instant/peak; false for histograms. */
bool kvm_binary_stats_value(const struct kvm_binary_stats *s, unsigned i, uint64_t *v);
void kvm_binary_stats_close(struct kvm_binary_stats *s);

/* Layer 3: kvm:kvm_exit through perf_event_open (src/stats/tracepoint.c). */
#define HW_EXIT_REASONS	1024
struct hw_exit_trace {
	bool available;
	char why[160];		/* when unavailable */
	unsigned nr_fds;
	int *fd;
	void **ring;
	uint32_t reason_off, isa_off;
	unsigned isa;		/* 1 VMX, 2 SVM, 0 not seen yet */
	uint64_t count[HW_EXIT_REASONS];
	uint64_t other;
	uint64_t total;
	uint64_t lost;
};
int hw_exit_trace_open(struct hw_exit_trace *t, const int *tids, unsigned nr);
void hw_exit_trace_drain(struct hw_exit_trace *t);
/* Count one raw kvm_exit record (the tracepoint's fields, as in its format file). */
void hw_exit_trace_record(struct hw_exit_trace *t, const uint8_t *raw, uint32_t len);
void hw_exit_trace_close(struct hw_exit_trace *t);
const char *hw_exit_reason_name(unsigned isa, unsigned reason);

/* What one device said about itself (machine_add_report), read when the view was refreshed. */
struct stats_device {
	char name[32];
	struct device_report rep;
};

/* Reports (src/stats/report*.c): what a report reads. */
struct stats_view {
	unsigned nr_vcpus;
	struct vcpu_stats **vcpu;
	struct bus *bus[BUS_NR_SPACES];
	double elapsed_s;
	double tsc_per_ns;
	/*
	 * The rate the Prometheus histograms' `le` bounds are converted with:
	 * fixed for the run (0: tsc_per_ns), so a bucket keeps its label from
	 * one scrape to the next while tsc_per_ns is refined.
	 */
	double bucket_tsc_per_ns;
	const char *vm_name;			/* `system NAME`, or NULL */
	double wall_time;			/* CLOCK_REALTIME of the numbers, in s (the JSON's timestamp) */
	const char *tuning;			/* one line: exits disable, halt-poll, cpuid, quirks */
	bool accounting_off;			/* only reasons and unclaimed counted: no devices, no times */
	struct kvm_binary_stats *kvm_vm;	/* NULL when unavailable */
	struct kvm_binary_stats *kvm_vcpu;	/* nr_vcpus of them, or NULL */
	const char *kvm_why;			/* why layer 2 is unavailable */
	struct hw_exit_trace *hw;
	/* Devices' own reports (a copy: the machine frees its sources at teardown). */
	const struct stats_device *devices;
	unsigned nr_devices;
};

/* Totals across vCPUs, as the reports use them. */
struct stats_totals {
	uint64_t exits, reason[EXIT_REASON_MAX], run_eintr, io_transfers, coalesced;
	uint64_t unclaimed[BUS_NR_SPACES][2];
};
void stats_sum(const struct stats_view *v, struct stats_totals *t);
/*
 * The busiest unclaimed (address, direction) pairs of a bus over all
 * vCPUs, most first: how many filled (at most STATS_UNCLAIMED_TOP).
 */
struct stats_unclaimed {
	uint64_t addr;
	bool write;
	uint64_t count;
};
unsigned stats_unclaimed_top(const struct stats_view *v, enum bus_space s,
			     struct stats_unclaimed top[STATS_UNCLAIMED_TOP]);
/* Fill devices (max entries) from the machine's report sources; how many. Any thread. */
unsigned stats_devices_read(const struct machine *m, struct stats_device *devices, unsigned max);

void stats_report_table(const struct stats_view *v, FILE *out);
/* What the interval line compares against: the totals at the previous line. */
struct stats_interval {
	struct stats_totals t;
	uint64_t dev[BUS_NR_SPACES][BUS_MAX_REGIONS];
};
/*
 * One line covering the dt seconds since prev (updated to now): exits/s by
 * reason, top devices. 0, or the -errno of writing it to out.
 */
int stats_report_interval(const struct stats_view *v, struct stats_interval *prev, double dt, FILE *out);
/* The whole report to out; 0 or -EIO when out has an error. */
int stats_write_json(const struct stats_view *v, FILE *out);
int stats_write_prom(const struct stats_view *v, FILE *out);

/*
 * Output files (src/stats/output.c). stats_write_file() writes path with
 * writer into path.tmp.PID and renames it over path, so a reader never sees
 * half a report. It never replaces what is not a regular file: -EISDIR for
 * a directory, -EEXIST for anything else (a device, FIFO, socket or link),
 * left as it is. Otherwise 0, or the -errno of the write (-ENOSPC, ...).
 */
int stats_write_file(const char *path, const struct stats_view *v,
		     int (*writer)(const struct stats_view *, FILE *));
/* Remove path.tmp.PID files whose PID no longer exists (a writer killed before its rename). */
int stats_remove_stale_tmp(const char *path);

#endif
