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

static double prom_seconds(const struct stats_view *v, uint64_t cycles)
{
	return cycles / ((v->tsc_per_ns > 0 ? v->tsc_per_ns : 1.0) * 1e9);
}

/* Is r the first region with its name in space s? A device may own several (i8042). */
static bool first_of_name(const struct stats_view *v, unsigned s, unsigned id)
{
	const struct bus_region *r = bus_region_by_id(v->bus[s], id);

	for (unsigned k = 0; k < id; k++) {
		const struct bus_region *o = bus_region_by_id(v->bus[s], k);

		if (o && !strcmp(o->name, r->name))
			return false;
	}
	return true;
}

/* One vCPU's counters of device `name`, summed over its regions; false when it had no exit. */
static bool device_sum(const struct stats_view *v, unsigned vcpu, unsigned s, const char *name,
		       uint64_t *cycles, uint64_t transfers[2])
{
	bool any = false;

	*cycles = transfers[0] = transfers[1] = 0;
	for (unsigned id = 0; id < BUS_MAX_REGIONS; id++) {
		const struct bus_region *r = bus_region_by_id(v->bus[s], id);
		const struct region_stats *rs =
			__atomic_load_n(&v->vcpu[vcpu]->region[s][id], __ATOMIC_ACQUIRE);

		if (!r || !rs || strcmp(r->name, name))
			continue;
		any = true;
		*cycles += stat_read(&rs->time.sum);
		transfers[0] += stat_read(&rs->transfers[0]);
		transfers[1] += stat_read(&rs->transfers[1]);
	}
	return any;
}

/* Per vCPU and device: handler time and string-PIO transfers, beside the register counts. */
static void prom_device_totals(const struct stats_view *v, FILE *out)
{
	for (unsigned pass = 0; pass < 2; pass++) {
		if (pass == 0)
			prom_head(out, "qlite_device_exit_handler_seconds_total", "counter",
				  "Handler time of a device's exits (KVM_RUN return to next entry), by vCPU and device.");
		else
			prom_head(out, "qlite_device_transfers_total", "counter",
				  "Elements moved by a device's exits (a string PIO exit moves several), by vCPU, device and direction.");
		for (unsigned i = 0; i < v->nr_vcpus; i++)
			for (unsigned s = 0; s < BUS_NR_SPACES; s++)
				for (unsigned id = 0; id < BUS_MAX_REGIONS; id++) {
					const struct bus_region *r = bus_region_by_id(v->bus[s], id);
					uint64_t cycles, transfers[2];
					char vcpu[16];

					if (!r || !first_of_name(v, s, id) ||
					    !device_sum(v, i, s, r->name, &cycles, transfers))
						continue;
					snprintf(vcpu, sizeof(vcpu), "%u", i);
					for (unsigned d = 0; d < (pass ? 2u : 1u); d++) {
						fprintf(out, "%s{", pass ? "qlite_device_transfers_total" :
							"qlite_device_exit_handler_seconds_total");
						prom_label(out, "vcpu", vcpu, false);
						prom_label(out, "reason", s == BUS_PIO ? "io" : "mmio", false);
						prom_label(out, "device", r->name, !pass);
						if (pass)
							prom_label(out, "dir", d ? "write" : "read", true);
						if (pass)
							fprintf(out, "} %llu\n", (unsigned long long)transfers[d]);
						else
							fprintf(out, "} %.9f\n", prom_seconds(v, cycles));
					}
				}
	}
}

static void prom_kvm(const struct stats_view *v, FILE *out)
{
	prom_head(out, "qlite_kvm_vcpu_stat", "gauge",
		  "KVM_GET_STATS_FD per-vCPU statistics: change since VM start for cumulative ones.");
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		char vcpu[16];

		snprintf(vcpu, sizeof(vcpu), "%u", i);
		for (unsigned d = 0; d < v->kvm_vcpu[i].nr; d++) {
			uint64_t val;

			if (!kvm_binary_stats_value(&v->kvm_vcpu[i], d, &val))
				continue;
			fprintf(out, "qlite_kvm_vcpu_stat{");
			prom_label(out, "vcpu", vcpu, false);
			prom_label(out, "name", v->kvm_vcpu[i].name[d], true);
			fprintf(out, "} %llu\n", (unsigned long long)val);
		}
	}
	if (!v->kvm_vm)
		return;
	prom_head(out, "qlite_kvm_vm_stat", "gauge",
		  "KVM_GET_STATS_FD VM-wide statistics: change since VM start for cumulative ones.");
	for (unsigned d = 0; d < v->kvm_vm->nr; d++) {
		uint64_t val;

		if (!kvm_binary_stats_value(v->kvm_vm, d, &val))
			continue;
		fprintf(out, "qlite_kvm_vm_stat{");
		prom_label(out, "name", v->kvm_vm->name[d], true);
		fprintf(out, "} %llu\n", (unsigned long long)val);
	}
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
	prom_head(out, "qlite_exits_interrupted_total", "counter",
		  "KVM_RUN returns with EINTR (a signal or a kick), by vCPU; included in no reason.");
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		fprintf(out, "qlite_exits_interrupted_total{vcpu=\"%u\"} %llu\n", i,
			(unsigned long long)stat_read(&v->vcpu[i]->run_eintr));
	/* Accounting off: no time was measured and no device attributed; zeros would lie. */
	if (!v->accounting_off) {
		prom_head(out, "qlite_exit_handler_seconds_total", "counter",
			  "Time from the return of KVM_RUN to the next entry, by vCPU and reason.");
		for (unsigned i = 0; i < v->nr_vcpus; i++)
			for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
				if (stat_read(&v->vcpu[i]->reason[r]))
					fprintf(out, "qlite_exit_handler_seconds_total{vcpu=\"%u\",reason=\"%s\"} %.9f\n",
						i, kvm_exit_reason_name(r),
						prom_seconds(v, stat_read(&v->vcpu[i]->reason_time[r].sum)));
		prom_devices(v, out);
		prom_device_totals(v, out);
	}
	stats_sum(v, &t);
	prom_head(out, "qlite_unclaimed_accesses_total", "counter",
		  "PIO/MMIO accesses no device claimed (reads got all-ones, writes were dropped).");
	for (unsigned s = 0; s < BUS_NR_SPACES; s++)
		for (unsigned d = 0; d < 2; d++)
			fprintf(out, "qlite_unclaimed_accesses_total{bus=\"%s\",dir=\"%s\"} %llu\n",
				bus_space_name(s), d ? "write" : "read", (unsigned long long)t.unclaimed[s][d]);
	if (v->kvm_vcpu)
		prom_kvm(v, out);
	prom_head(out, "qlite_uptime_seconds", "gauge", "Seconds since the vCPUs started.");
	fprintf(out, "qlite_uptime_seconds %.3f\n", v->elapsed_s);
	return ferror(out) ? -EIO : 0;
}

