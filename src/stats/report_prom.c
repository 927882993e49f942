// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exit counters in the Prometheus text exposition format, for
 * node_exporter's textfile collector or any scraper. Metric names are
 * documented in docs/stats.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qlite/stats.h"
#include "stats_internal.h"

/* Label values: backslash, double quote and newline escaped, as the format requires. */
static void prom_label(FILE *out, const char *name, const char *value, bool last)
{
	fprintf(out, "%s=\"", name);
	for (; *value; value++) {
		if (*value == '\\' || *value == '"')
			fprintf(out, "\\%c", *value);
		else if (*value == '\n')
			fprintf(out, "\\n");
		else
			fputc(*value, out);
	}
	fprintf(out, "\"%s", last ? "" : ",");
}

static void prom_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_devices(const struct stats_view *v, FILE *out)
{
	prom_head(out, "qlite_device_exits_total", "counter",
		  "PIO/MMIO exits by vCPU, device, register and direction.");
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		for (unsigned s = 0; s < BUS_NR_SPACES; s++) {
			for (unsigned id = 0; id < BUS_MAX_REGIONS; id++) {
				const struct region_stats *rs =
					__atomic_load_n(&v->vcpu[i]->region[s][id], __ATOMIC_ACQUIRE);
				const struct bus_region *r = bus_region_by_id(v->bus[s], id);
				char vcpu[16];

				if (!rs || !r)
					continue;
				snprintf(vcpu, sizeof(vcpu), "%u", i);
				for (unsigned k = 0; k < STATS_REG_SLOTS; k++) {
					uint64_t key = __atomic_load_n(&rs->regs[k].key, __ATOMIC_ACQUIRE);
					char buf[32];

					if (!key)
						continue;
					fprintf(out, "qlite_device_exits_total{");
					prom_label(out, "vcpu", vcpu, false);
					prom_label(out, "reason", s == BUS_PIO ? "io" : "mmio", false);
					prom_label(out, "device", r->name, false);
					prom_label(out, "register", stats_reg_name(r, (key - 1) >> 1, buf, sizeof(buf)), false);
					prom_label(out, "dir", (key - 1) & 1 ? "write" : "read", true);
					fprintf(out, "} %llu\n", (unsigned long long)stat_read(&rs->regs[k].count));
				}
			}
		}
	}
}

int stats_write_prom(const struct stats_view *v, FILE *out)
{
	struct stats_totals t;

	prom_head(out, "qlite_exits_total", "counter", "KVM_RUN returns handled by qlite, by vCPU and KVM_EXIT reason.");
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
			if (stat_read(&v->vcpu[i]->reason[r]))
				fprintf(out, "qlite_exits_total{vcpu=\"%u\",reason=\"%s\"} %llu\n", i,
					kvm_exit_reason_name(r),
					(unsigned long long)stat_read(&v->vcpu[i]->reason[r]));
	prom_head(out, "qlite_exit_handler_seconds_total", "counter",
		  "Time from the return of KVM_RUN to the next entry, by vCPU and reason.");
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
			if (stat_read(&v->vcpu[i]->reason[r]))
				fprintf(out, "qlite_exit_handler_seconds_total{vcpu=\"%u\",reason=\"%s\"} %.9f\n", i,
					kvm_exit_reason_name(r),
					stat_read(&v->vcpu[i]->reason_time[r].sum) / (v->tsc_per_ns * 1e9));
	prom_devices(v, out);
	stats_sum(v, &t);
	prom_head(out, "qlite_unclaimed_accesses_total", "counter",
		  "PIO/MMIO accesses no device claimed (reads got all-ones, writes were dropped).");
	for (unsigned s = 0; s < BUS_NR_SPACES; s++)
		for (unsigned d = 0; d < 2; d++)
			fprintf(out, "qlite_unclaimed_accesses_total{bus=\"%s\",dir=\"%s\"} %llu\n",
				bus_space_name(s), d ? "write" : "read", (unsigned long long)t.unclaimed[s][d]);
	if (v->kvm_vcpu) {
		prom_head(out, "qlite_kvm_vcpu_stat", "gauge",
			  "KVM_GET_STATS_FD per-vCPU statistics: change since VM start for cumulative ones.");
		for (unsigned i = 0; i < v->nr_vcpus; i++)
			for (unsigned d = 0; d < v->kvm_vcpu[i].nr; d++) {
				uint64_t val;

				if (kvm_binary_stats_value(&v->kvm_vcpu[i], d, &val))
					fprintf(out, "qlite_kvm_vcpu_stat{vcpu=\"%u\",name=\"%s\"} %llu\n", i,
						v->kvm_vcpu[i].name[d], (unsigned long long)val);
			}
	}
	prom_head(out, "qlite_uptime_seconds", "gauge", "Seconds since the vCPUs started.");
	fprintf(out, "qlite_uptime_seconds %.3f\n", v->elapsed_s);
	return ferror(out) ? -1 : 0;
}

int stats_write_file(const char *path, const struct stats_view *v,
		     int (*writer)(const struct stats_view *, FILE *))
{
	char tmp[4096];
	FILE *f;
	int ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	ret = writer(v, f);
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}
