// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exit path's accounting: per-reason and per-device handler time
 * histograms (log2 of TSC cycles: one bit scan and three stores) and
 * per-register counts in a small open-addressed table per device.
 */
#include <stdlib.h>
#include <time.h>

#include "qlite/stats.h"

void stats_hist_add(struct stats_hist *h, uint64_t cycles)
{
	unsigned b = cycles ? 63 - __builtin_clzll(cycles) : 0;

	if (b >= STATS_HIST_BUCKETS)
		b = STATS_HIST_BUCKETS - 1;
	stat_add(&h->bucket[b], 1);
	stat_add(&h->count, 1);
	stat_add(&h->sum, cycles);
	if (cycles > stat_read(&h->max))
		__atomic_store_n(&h->max, cycles, __ATOMIC_RELAXED);
}

/*
 * Linear interpolation inside the log2 bucket that holds the rank, as
 * Prometheus's histogram_quantile() does: the bucket's upper bound alone
 * overstates by up to 2x (a p50 far above the average). Bucket 0 starts
 * at 0, and the bucket holding the maximum ends there.
 */
double stats_hist_quantile(const struct stats_hist *h, double q)
{
	uint64_t n = stat_read(&h->count), max = stat_read(&h->max);
	double rank = q * n, seen = 0;

	if (!n)
		return 0;
	for (unsigned b = 0; b < STATS_HIST_BUCKETS; b++) {
		uint64_t c = stat_read(&h->bucket[b]);
		double lo = b ? (double)(1ULL << b) : 0, hi = (double)(2ULL << b), v;

		if (!c || seen + c < rank) {
			seen += c;
			continue;
		}
		/* The last bucket also holds everything above it; no bucket ends past the max. */
		if (b == STATS_HIST_BUCKETS - 1 || (max >= lo && max < hi))
			hi = max;
		v = lo + (hi - lo) * (rank - seen) / c;
		return v < max ? v : max;
	}
	return max;	/* counts read while a vCPU adds: the rank is past the buckets */
}

static struct region_stats *region_stats_get(struct vcpu_stats *st, enum bus_space space, unsigned id)
{
	struct region_stats *rs = st->region[space][id];

	if (rs)
		return rs;
	/* Once per device per vCPU; published for the reporter thread with release order. */
	rs = calloc(1, sizeof(*rs));
	if (rs)
		__atomic_store_n(&st->region[space][id], rs, __ATOMIC_RELEASE);
	return rs;
}

/*
 * Count key in an open-addressed table of n slots (a power of 2): the
 * count first, then the key with release order, so a reader that sees
 * the key sees its first count. false when the table is full.
 */
static bool count_slot(struct reg_slot *slots, unsigned n, uint64_t key)
{
	unsigned h = (unsigned)((key * 0x9e3779b97f4a7c15ULL) >> 32);

	for (unsigned i = 0; i < n; i++) {
		struct reg_slot *s = &slots[(h + i) & (n - 1)];
		uint64_t k = stat_read(&s->key);

		if (k == key) {
			stat_add(&s->count, 1);
			return true;
		}
		if (!k) {
			stat_add(&s->count, 1);
			__atomic_store_n(&s->key, key, __ATOMIC_RELEASE);
			return true;
		}
	}
	return false;
}

_Static_assert(!(STATS_REG_SLOTS & (STATS_REG_SLOTS - 1)), "a power of 2");
_Static_assert(!(STATS_UNCLAIMED_SLOTS & (STATS_UNCLAIMED_SLOTS - 1)), "a power of 2");

static void count_register(struct region_stats *rs, uint64_t offset, bool is_write)
{
	if (!count_slot(rs->regs, STATS_REG_SLOTS, (offset << 1 | is_write) + 1))
		stat_add(&rs->other[is_write], 1);
}

void stats_count_access(struct vcpu_stats *st, enum bus_space space, const struct bus_region *r,
			uint64_t addr, bool is_write, uint32_t count, struct region_stats **out)
{
	struct region_stats *rs;

	*out = NULL;
	if (!r) {
		stat_add(&st->unclaimed[space][is_write], 1);
		/* Which address, while the table has room; the totals stay exact either way. */
		count_slot(st->unclaimed_addr[space], STATS_UNCLAIMED_SLOTS,
			   (addr << 1 | is_write) + 1);
		return;
	}
	rs = region_stats_get(st, space, r->id);
	if (!rs)
		return;
	stat_add(&rs->count[is_write], 1);
	stat_add(&rs->transfers[is_write], count);
	count_register(rs, r->ops->reg_key ? r->ops->reg_key(r->opaque, addr - r->base) :
		       addr - r->base, is_write);
	*out = rs;
}

void stats_count_coalesced(struct vcpu_stats *st, enum bus_space space, const struct bus_region *r,
			   uint64_t addr)
{
	struct region_stats *rs;

	stat_add(&st->coalesced, 1);
	if (!r || !(rs = region_stats_get(st, space, r->id)))
		return;
	count_register(rs, (r->ops->reg_key ? r->ops->reg_key(r->opaque, addr - r->base) :
			    addr - r->base) | STATS_COALESCED, true);
}

void vcpu_stats_free(struct vcpu_stats *st)
{
	for (unsigned s = 0; s < BUS_NR_SPACES; s++)
		for (unsigned i = 0; i < BUS_MAX_REGIONS; i++) {
			free(st->region[s][i]);
			st->region[s][i] = NULL;
		}
}

void stats_clock_mark(struct stats_clock_ref *ref)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	ref->tsc = stats_clock();
	ref->ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

double stats_tsc_per_ns(const struct stats_clock_ref *a, const struct stats_clock_ref *b)
{
	if (b->ns <= a->ns || b->tsc <= a->tsc)
		return 1.0;
	return (double)(b->tsc - a->tsc) / (double)(b->ns - a->ns);
}
