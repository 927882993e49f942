/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the report writers. */
#ifndef QLITE_STATS_INTERNAL_H
#define QLITE_STATS_INTERNAL_H

#include <stddef.h>

#include "qlite/stats.h"

struct hist_ns {
	uint64_t count;
	double avg, p50, p99, max;
};

void stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src);
void stats_hist_ns(const struct stats_hist *h, double tsc_per_ns, struct hist_ns *out);
bool stats_region_merge(const struct stats_view *v, enum bus_space s, unsigned id,
			struct region_stats *out);
void stats_reg_add(struct region_stats *rs, uint64_t key, uint64_t count);
void stats_sort_regs(struct region_stats *rs);
const char *stats_region_label(const struct stats_view *v, enum bus_space s,
			       const struct bus_region *r, char *buf, size_t len);
const char *stats_reg_name(const struct bus_region *r, uint64_t offset, char *buf, size_t len);
bool stats_hw_usable(const struct stats_view *v, char *why, size_t len);

#endif
