// SPDX-License-Identifier: GPL-2.0-only
/* The exit report as JSON (schema: docs/stats.md, "version": 3). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "qlite/stats.h"
#include "qlite/util.h"
#include "stats_internal.h"

static void json_hist(FILE *out, const struct stats_view *v, const struct stats_hist *h)
{
	struct hist_ns ns;

	if (v->accounting_off) {
		fprintf(out, "null");	/* not measured, rather than zeros */
		return;
	}
	stats_hist_ns(h, v->tsc_per_ns, &ns);
	fprintf(out, "{\"count\": %llu, \"avg_ns\": %.1f, \"p50_ns\": %.1f, \"p99_ns\": %.1f, \"max_ns\": %.1f}",
		(unsigned long long)ns.count, ns.avg, ns.p50, ns.p99, ns.max);
}

static void json_vcpus(const struct stats_view *v, FILE *out)
{
	fprintf(out, "  \"vcpus\": [");
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		const struct vcpu_stats *st = v->vcpu[i];
		bool first = true;

		fprintf(out, "%s\n    {\"vcpu\": %u, \"exits\": %llu, \"interrupted\": %llu, \"reasons\": {",
			i ? "," : "", i, (unsigned long long)stat_read(&st->exits),
			(unsigned long long)stat_read(&st->run_eintr));
		for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
			if (!stat_read(&st->reason[r]))
				continue;
			fprintf(out, "%s\n      \"%s\": {\"exits\": %llu, \"handler\": ", first ? "" : ",",
				kvm_exit_reason_name(r), (unsigned long long)stat_read(&st->reason[r]));
			json_hist(out, v, &st->reason_time[r]);
			fprintf(out, "}");
			first = false;
		}
		fprintf(out, "}}");
	}
	fprintf(out, "\n  ],\n");
}

/* The busiest unclaimed addresses of each bus, most first. */
static void json_unclaimed_top(const struct stats_view *v, FILE *out)
{
	bool first = true;

	for (unsigned s = 0; s < BUS_NR_SPACES; s++) {
		struct stats_unclaimed top[STATS_UNCLAIMED_TOP];
		unsigned n = stats_unclaimed_top(v, s, top);

		for (unsigned i = 0; i < n; i++) {
			fprintf(out, "%s\n    {\"bus\": \"%s\", \"addr\": %llu, \"dir\": \"%s\", \"count\": %llu}",
				first ? "" : ",", bus_space_name(s), (unsigned long long)top[i].addr,
				top[i].write ? "write" : "read", (unsigned long long)top[i].count);
			first = false;
		}
	}
	if (!first)
		fprintf(out, "\n  ");
}

/* Devices' own reports: {name, path, counters}. */
static void json_device_reports(const struct stats_view *v, FILE *out)
{
	fprintf(out, "  \"device_reports\": [");
	for (unsigned i = 0; i < v->nr_devices; i++) {
		const struct stats_device *d = &v->devices[i];

		fprintf(out, "%s\n    {\"name\": ", i ? "," : "");
		json_write_str(out, d->name);
		fprintf(out, ", \"path\": ");
		json_write_str(out, d->rep.path);
		fprintf(out, ", \"counters\": {");
		for (unsigned k = 0; k < d->rep.n; k++) {
			fprintf(out, "%s", k ? ", " : "");
			json_write_str(out, d->rep.c[k].name);
			fprintf(out, ": %llu", (unsigned long long)d->rep.c[k].value);
		}
		fprintf(out, "}}");
	}
	fprintf(out, "%s],\n", v->nr_devices ? "\n  " : "");
}

static void json_devices(const struct stats_view *v, const struct stats_totals *t, FILE *out)
{
	bool first_dev = true;

	fprintf(out, "  \"devices\": [");
	for (unsigned s = 0; s < BUS_NR_SPACES; s++) {
		for (unsigned id = 0; id < BUS_MAX_REGIONS; id++) {
			const struct bus_region *r = bus_region_by_id(v->bus[s], id);
			struct region_stats m;
			bool first = true;

			if (!r || !stats_region_merge(v, s, id, &m))
				continue;
			fprintf(out, "%s\n    {\"device\": ", first_dev ? "" : ",");
			json_write_str(out, r->name);
			fprintf(out, ", \"bus\": \"%s\", \"base\": %llu, \"size\": %llu, \"reads\": %llu, \"writes\": %llu, \"transfers\": %llu, \"handler\": ",
				bus_space_name(s), (unsigned long long)r->base, (unsigned long long)r->len,
				(unsigned long long)m.count[0], (unsigned long long)m.count[1],
				(unsigned long long)(m.transfers[0] + m.transfers[1]));
			json_hist(out, v, &m.time);
			fprintf(out, ", \"registers\": [");
			stats_sort_regs(&m);
			for (unsigned k = 0; k < STATS_REG_SLOTS && m.regs[k].key; k++) {
				uint64_t off = (m.regs[k].key - 1) >> 1;
				char buf[32];

				fprintf(out, "%s\n      {\"register\": ", first ? "" : ",");
				json_write_str(out, stats_reg_name(r, off, buf, sizeof(buf)));
				fprintf(out, ", \"offset\": %llu, \"dir\": \"%s\", \"exits\": %llu}",
					(unsigned long long)off, (m.regs[k].key - 1) & 1 ? "write" : "read",
					(unsigned long long)m.regs[k].count);
				first = false;
			}
			fprintf(out, "], \"other_reads\": %llu, \"other_writes\": %llu}",
				(unsigned long long)m.other[0], (unsigned long long)m.other[1]);
			first_dev = false;
		}
	}
	fprintf(out, "\n  ],\n  \"unclaimed\": {\"pio_reads\": %llu, \"pio_writes\": %llu, \"mmio_reads\": %llu, \"mmio_writes\": %llu, \"top\": [",
		(unsigned long long)t->unclaimed[BUS_PIO][0], (unsigned long long)t->unclaimed[BUS_PIO][1],
		(unsigned long long)t->unclaimed[BUS_MMIO][0], (unsigned long long)t->unclaimed[BUS_MMIO][1]);
	json_unclaimed_top(v, out);
	fprintf(out, "]},\n");
}

static void json_kvm_block(const struct kvm_binary_stats *k, FILE *out)
{
	bool first = true;

	fprintf(out, "{");
	for (unsigned d = 0; d < k->nr; d++) {
		uint64_t val;

		if (!kvm_binary_stats_value(k, d, &val))
			continue;
		fprintf(out, "%s", first ? "" : ", ");
		json_write_str(out, k->name[d]);
		fprintf(out, ": %llu", (unsigned long long)val);
		first = false;
	}
	fprintf(out, "}");
}

static void json_kvm(const struct stats_view *v, FILE *out)
{
	fprintf(out, "  \"kvm_stats\": {");
	if (!v->kvm_vcpu) {
		fprintf(out, "\"available\": false, \"why\": ");
		json_write_str(out, v->kvm_why ? v->kvm_why : "not opened");
		fprintf(out, "},\n");
		return;
	}
	fprintf(out, "\"available\": true, \"vm\": ");
	if (v->kvm_vm)
		json_kvm_block(v->kvm_vm, out);
	else
		fprintf(out, "{}");
	fprintf(out, ", \"vcpus\": [");
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		fprintf(out, "%s", i ? ", " : "");
		json_kvm_block(&v->kvm_vcpu[i], out);
	}
	fprintf(out, "]},\n");
}

static void json_hw(const struct stats_view *v, FILE *out)
{
	char why[200];
	bool first = true;

	fprintf(out, "  \"hardware_exits\": {");
	if (!stats_hw_usable(v, why, sizeof(why))) {
		fprintf(out, "\"available\": false, \"why\": ");
		json_write_str(out, why);
		fprintf(out, "}\n");
		return;
	}
	fprintf(out, "\"available\": true, \"isa\": \"%s\", \"lost\": %llu, \"reasons\": {",
		v->hw->isa == 1 ? "vmx" : v->hw->isa == 2 ? "svm" : "unknown",
		(unsigned long long)v->hw->lost);
	for (unsigned r = 0; r < HW_EXIT_REASONS; r++) {
		if (!v->hw->count[r])
			continue;
		fprintf(out, "%s", first ? "" : ", ");
		json_write_str(out, hw_exit_reason_name(v->hw->isa, r));
		fprintf(out, ": %llu", (unsigned long long)v->hw->count[r]);
		first = false;
	}
	fprintf(out, "}}\n");
}

/* RFC 3339 in UTC, to the millisecond: when the numbers were read. */
static void json_timestamp(FILE *out, double wall_time)
{
	time_t sec = (time_t)wall_time;
	int ms = (int)((wall_time - sec) * 1000);
	struct tm tm;
	char buf[32];

	gmtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "\"%s.%03dZ\"", buf, ms);
}

int stats_write_json(const struct stats_view *v, FILE *out)
{
	struct stats_totals t;

	stats_sum(v, &t);
	fprintf(out, "{\n  \"version\": 3,\n  \"qlite_version\": ");
	json_write_str(out, QLITE_VERSION);
	fprintf(out, ",\n  \"vm\": ");
	if (v->vm_name)
		json_write_str(out, v->vm_name);
	else
		fprintf(out, "null");
	fprintf(out, ",\n  \"timestamp\": ");
	json_timestamp(out, v->wall_time);
	fprintf(out, ",\n  \"elapsed_s\": %.3f,\n  \"clock\": \"rdtsc\",\n  \"tsc_per_ns\": %.4f,\n  \"accounting\": %s,\n  \"tuning\": ",
		v->elapsed_s, v->tsc_per_ns, v->accounting_off ? "false" : "true");
	json_write_str(out, v->tuning ? v->tuning : "");
	fprintf(out, ",\n  \"exits\": %llu,\n  \"interrupted\": %llu,\n  \"io_transfers\": %llu,\n",
		(unsigned long long)t.exits, (unsigned long long)t.run_eintr,
		(unsigned long long)t.io_transfers);
	json_vcpus(v, out);
	json_devices(v, &t, out);
	json_device_reports(v, out);
	json_kvm(v, out);
	json_hw(v, out);
	fprintf(out, "}\n");
	return ferror(out) ? -EIO : 0;
}
