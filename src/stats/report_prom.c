// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exit counters in the Prometheus text exposition format, for
 * node_exporter's textfile collector or any scraper. Metric names are
 * documented in docs/stats.md. Every series carries the VM's name (`vm`),
 * so the files of several VMs can share one textfile directory.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/stats.h"
#include "stats_internal.h"

/*
 * Handler time histograms: cumulative counts at le = 2^(b+1) - 1 cycles
 * (bucket b holds [2^b, 2^(b+1)) cycles, so each bound is exact) for b in
 * this range, about 100 ns to 2 s; below and above go to the first bound
 * and +Inf.
 */
#define PROM_HIST_FIRST	7
#define PROM_HIST_LAST	31

struct label {
	const char *name, *value;
};

/* Label values: backslash, double quote and newline escaped, as the format requires. */
static void prom_escape(FILE *out, const char *value)
{
	for (; *value; value++) {
		if (*value == '\\' || *value == '"')
			fprintf(out, "\\%c", *value);
		else if (*value == '\n')
			fprintf(out, "\\n");
		else
			fputc(*value, out);
	}
}

static void prom_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* "NAMESUFFIX{vm="..",labels..}" without the value: the caller prints " value\n". */
static void prom_series(FILE *out, const struct stats_view *v, const char *name, const char *suffix,
			const struct label *l, unsigned n)
{
	fprintf(out, "%s%s{vm=\"", name, suffix);
	prom_escape(out, v->vm_name ? v->vm_name : "");
	fputc('"', out);
	for (unsigned i = 0; i < n; i++) {
		fprintf(out, ",%s=\"", l[i].name);
		prom_escape(out, l[i].value);
		fputc('"', out);
	}
	fputc('}', out);
}

static void prom_u64(FILE *out, const struct stats_view *v, const char *name,
		     const struct label *l, unsigned n, uint64_t value)
{
	prom_series(out, v, name, "", l, n);
	fprintf(out, " %llu\n", (unsigned long long)value);
}

static double prom_seconds(double tsc_per_ns, uint64_t cycles)
{
	return cycles / ((tsc_per_ns > 0 ? tsc_per_ns : 1.0) * 1e9);
}

/* One series of a histogram: cumulative buckets, +Inf, _sum (seconds) and _count. */
static void prom_hist(FILE *out, const struct stats_view *v, const char *name,
		      const struct label *l, unsigned n, const struct stats_hist *h)
{
	double rate = v->bucket_tsc_per_ns > 0 ? v->bucket_tsc_per_ns : v->tsc_per_ns;
	struct label with_le[8];
	uint64_t seen = 0;
	char le[32];

	memcpy(with_le, l, n * sizeof(*l));
	with_le[n] = (struct label){ "le", le };
	for (unsigned b = 0; b < STATS_HIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (b < PROM_HIST_FIRST || b > PROM_HIST_LAST)
			continue;
		snprintf(le, sizeof(le), "%.6g", prom_seconds(rate, (2ULL << b) - 1));
		prom_series(out, v, name, "_bucket", with_le, n + 1);
		fprintf(out, " %llu\n", (unsigned long long)seen);
	}
	/*
	 * +Inf and _count are the buckets' total, not h->count: a vCPU bumps a
	 * bucket before the count, and +Inf must not be below a bucket.
	 */
	snprintf(le, sizeof(le), "+Inf");
	prom_series(out, v, name, "_bucket", with_le, n + 1);
	fprintf(out, " %llu\n", (unsigned long long)seen);
	prom_series(out, v, name, "_sum", l, n);
	fprintf(out, " %.9g\n", prom_seconds(v->tsc_per_ns, h->sum));
	prom_series(out, v, name, "_count", l, n);
	fprintf(out, " %llu\n", (unsigned long long)seen);
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

/* One register of a device, by name: regions of one device may name registers alike. */
struct reg_count {
	char name[32];
	bool write;
	uint64_t n;
};

struct device_sum {
	uint64_t transfers[2];
	struct stats_hist time;
	struct reg_count *regs;
	unsigned nr_regs;
};

static void reg_count_add(struct device_sum *d, const char *name, bool write, uint64_t n)
{
	unsigned i;

	for (i = 0; i < d->nr_regs; i++)
		if (d->regs[i].write == write && !strcmp(d->regs[i].name, name))
			break;
	if (i == d->nr_regs) {
		snprintf(d->regs[i].name, sizeof(d->regs[i].name), "%s", name);
		d->regs[i].write = write;
		d->nr_regs++;
	}
	d->regs[i].n += n;
}

/*
 * One vCPU's counters of device `name` in space s, summed over its regions;
 * false when it had no exit there. d->regs is allocated (free it).
 */
static bool device_sum(const struct stats_view *v, unsigned vcpu, unsigned s, const char *name,
		       struct device_sum *d)
{
	unsigned nr = 0;
	bool any = false;

	memset(d, 0, sizeof(*d));
	for (unsigned id = 0; id < BUS_MAX_REGIONS; id++) {
		const struct bus_region *r = bus_region_by_id(v->bus[s], id);

		nr += r && !strcmp(r->name, name);
	}
	/* Every slot of every region, and "(other)" in both directions. */
	d->regs = calloc(nr * STATS_REG_SLOTS + 2, sizeof(*d->regs));
	if (!d->regs)
		return false;
	for (unsigned id = 0; id < BUS_MAX_REGIONS; id++) {
		const struct bus_region *r = bus_region_by_id(v->bus[s], id);
		const struct region_stats *rs =
			__atomic_load_n(&v->vcpu[vcpu]->region[s][id], __ATOMIC_ACQUIRE);

		if (!r || !rs || strcmp(r->name, name))
			continue;
		any = true;
		for (unsigned dir = 0; dir < 2; dir++) {
			d->transfers[dir] += stat_read(&rs->transfers[dir]);
			if (stat_read(&rs->other[dir]))
				reg_count_add(d, "(other)", dir, stat_read(&rs->other[dir]));
		}
		stats_hist_merge(&d->time, &rs->time);
		for (unsigned k = 0; k < STATS_REG_SLOTS; k++) {
			uint64_t key = __atomic_load_n(&rs->regs[k].key, __ATOMIC_ACQUIRE);
			char buf[32];

			if (key)
				reg_count_add(d, stats_reg_name(r, (key - 1) >> 1, buf, sizeof(buf)),
					      (key - 1) & 1, stat_read(&rs->regs[k].count));
		}
	}
	return any;
}

enum device_family { DEV_EXITS, DEV_TIME, DEV_TRANSFERS, NR_DEV_FAMILIES };

static void prom_devices(const struct stats_view *v, FILE *out)
{
	static const struct { const char *name, *type, *help; } fam[NR_DEV_FAMILIES] = {
		[DEV_EXITS] = { "qlite_device_exits_total", "counter",
			"PIO/MMIO exits by vCPU, device, register and direction." },
		[DEV_TIME] = { "qlite_device_exit_handler_seconds", "histogram",
			"Handler time of a device's exits (KVM_RUN return to next entry), by vCPU and device." },
		[DEV_TRANSFERS] = { "qlite_device_transfers_total", "counter",
			"Elements moved by a device's exits (a string PIO exit moves several), by vCPU, device and direction." },
	};

	for (unsigned f = 0; f < NR_DEV_FAMILIES; f++) {
		prom_head(out, fam[f].name, fam[f].type, fam[f].help);
		for (unsigned i = 0; i < v->nr_vcpus; i++)
			for (unsigned s = 0; s < BUS_NR_SPACES; s++)
				for (unsigned id = 0; id < BUS_MAX_REGIONS; id++) {
					const struct bus_region *r = bus_region_by_id(v->bus[s], id);
					struct device_sum d;
					char vcpu[16];
					struct label l[5] = {
						{ "vcpu", vcpu }, { "reason", s == BUS_PIO ? "io" : "mmio" },
						{ "device", r ? r->name : "" },
					};

					if (!r || !first_of_name(v, s, id))
						continue;
					if (!device_sum(v, i, s, r->name, &d)) {
						free(d.regs);
						continue;
					}
					snprintf(vcpu, sizeof(vcpu), "%u", i);
					if (f == DEV_EXITS) {
						for (unsigned k = 0; k < d.nr_regs; k++) {
							l[3] = (struct label){ "register", d.regs[k].name };
							l[4] = (struct label){ "dir", d.regs[k].write ? "write" : "read" };
							prom_u64(out, v, fam[f].name, l, 5, d.regs[k].n);
						}
					} else if (f == DEV_TIME) {
						prom_hist(out, v, fam[f].name, l, 3, &d.time);
					} else {
						for (unsigned dir = 0; dir < 2; dir++) {
							l[3] = (struct label){ "dir", dir ? "write" : "read" };
							prom_u64(out, v, fam[f].name, l, 4, d.transfers[dir]);
						}
					}
					free(d.regs);
				}
	}
}

/* `foo_ns` in seconds is `foo_seconds`: drop a unit the name already carries. */
static void strip_suffix(char *name, const char *const *suffixes)
{
	size_t len = strlen(name);

	for (; *suffixes; suffixes++) {
		size_t sl = strlen(*suffixes);

		if (len > sl && !strcmp(name + len - sl, *suffixes)) {
			name[len - sl] = '\0';
			return;
		}
	}
}

static double power(double base, int exponent)
{
	double p = 1;

	for (int i = 0; i < abs(exponent); i++)
		p *= base;
	return exponent < 0 ? 1 / p : p;
}

/*
 * A kernel stat as a family of its own, named by its type and unit as the
 * Prometheus conventions want: cumulative ones are counters (`_total`),
 * instant and peak values gauges, and a stat with a unit is converted to
 * the base unit (`halt_wait_ns` becomes `..._halt_wait_seconds_total`).
 * Returns the factor to the base unit.
 */
static double kvm_family(const struct kvm_binary_stats *k, unsigned d, const char *scope,
			 char *name, size_t len, bool *counter)
{
	static const char *const time_suffixes[] = { "_ns", "_us", "_ms", "_s", "_seconds", NULL };
	static const char *const byte_suffixes[] = { "_bytes", NULL };
	static const char *const cycle_suffixes[] = { "_cycles", NULL };
	uint32_t unit = k->flags[d] & KVM_STATS_UNIT_MASK;
	double base = (k->flags[d] & KVM_STATS_BASE_MASK) == KVM_STATS_BASE_POW2 ? 2 : 10;
	char stat[64];
	const char *unit_name = "";

	snprintf(stat, sizeof(stat), "%s", k->name[d]);
	for (char *c = stat; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			*c = '_';
	if (unit == KVM_STATS_UNIT_SECONDS) {
		strip_suffix(stat, time_suffixes);
		unit_name = "_seconds";
	} else if (unit == KVM_STATS_UNIT_BYTES) {
		strip_suffix(stat, byte_suffixes);
		unit_name = "_bytes";
	} else if (unit == KVM_STATS_UNIT_CYCLES) {
		strip_suffix(stat, cycle_suffixes);
		unit_name = "_cycles";
	}
	*counter = (k->flags[d] & KVM_STATS_TYPE_MASK) == KVM_STATS_TYPE_CUMULATIVE;
	snprintf(name, len, "qlite_kvm_%s_%s%s%s", scope, stat, unit_name, *counter ? "_total" : "");
	return unit == KVM_STATS_UNIT_NONE || unit == KVM_STATS_UNIT_BOOLEAN ? 1 :
	       power(base, k->exponent[d]);
}

static void prom_kvm_value(FILE *out, const struct stats_view *v, const char *name,
			   const struct label *l, unsigned n, uint64_t val, double scale)
{
	prom_series(out, v, name, "", l, n);
	if (scale == 1)
		fprintf(out, " %llu\n", (unsigned long long)val);
	else
		fprintf(out, " %.9g\n", val * scale);
}

/* Layer 2: the stats of the nr vCPUs (a `vcpu` label each), or of the VM (nr 0). */
static void prom_kvm_scope(const struct stats_view *v, FILE *out, const char *scope,
			   const struct kvm_binary_stats *k, unsigned nr)
{
	bool per_vcpu = nr > 0;

	nr = per_vcpu ? nr : 1;
	for (unsigned d = 0; d < k[0].nr; d++) {
		char name[160], help[200], vcpu[16];
		struct label l = { "vcpu", vcpu };
		uint64_t val;
		bool counter;
		double scale;

		if (!kvm_binary_stats_value(&k[0], d, &val))
			continue;	/* histograms: left out */
		scale = kvm_family(&k[0], d, scope, name, sizeof(name), &counter);
		snprintf(help, sizeof(help), "KVM_GET_STATS_FD %s stat %s%s.", scope, k[0].name[d],
			 counter ? ", change since the VM was created" : "");
		prom_head(out, name, counter ? "counter" : "gauge", help);
		for (unsigned i = 0; i < nr; i++) {
			if (!kvm_binary_stats_value(&k[i], d, &val))
				continue;
			snprintf(vcpu, sizeof(vcpu), "%u", i);
			prom_kvm_value(out, v, name, &l, per_vcpu, val, scale);
		}
	}
}

/*
 * Devices' own counters, one family: a gauge, since a device's counters
 * mix totals (kicks) with states and the family is typed once; not named
 * "counter", which promtool refuses for a gauge.
 */
static void prom_device_reports(const struct stats_view *v, FILE *out)
{
	if (!v->nr_devices)
		return;
	prom_head(out, "qlite_device_stat", "gauge",
		  "What a device counts of its own work (kicks and interrupts in the kernel, requests), by device and counter.");
	for (unsigned i = 0; i < v->nr_devices; i++) {
		const struct stats_device *d = &v->devices[i];

		for (unsigned k = 0; k < d->rep.n; k++) {
			struct label l[2] = { { "device", d->name },
					      { "counter", d->rep.c[k].name } };

			prom_u64(out, v, "qlite_device_stat", l, 2, d->rep.c[k].value);
		}
	}
}

int stats_write_prom(const struct stats_view *v, FILE *out)
{
	struct stats_totals t;
	char vcpu[16];
	struct label l[2] = { { "vcpu", vcpu } };

	prom_head(out, "qlite_build_info", "gauge", "Always 1: the version of qlite that wrote this file.");
	prom_u64(out, v, "qlite_build_info", &(struct label){ "version", QLITE_VERSION }, 1, 1);
	prom_head(out, "qlite_exits_total", "counter", "KVM_RUN returns handled by qlite, by vCPU and KVM_EXIT reason.");
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
			if (!stat_read(&v->vcpu[i]->reason[r]))
				continue;
			snprintf(vcpu, sizeof(vcpu), "%u", i);
			l[1] = (struct label){ "reason", kvm_exit_reason_name(r) };
			prom_u64(out, v, "qlite_exits_total", l, 2, stat_read(&v->vcpu[i]->reason[r]));
		}
	prom_head(out, "qlite_exits_interrupted_total", "counter",
		  "KVM_RUN returns with EINTR (a signal or a kick), by vCPU; included in no reason.");
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		snprintf(vcpu, sizeof(vcpu), "%u", i);
		prom_u64(out, v, "qlite_exits_interrupted_total", l, 1, stat_read(&v->vcpu[i]->run_eintr));
	}
	/* Accounting off: no time was measured and no device attributed; zeros would lie. */
	if (!v->accounting_off) {
		prom_head(out, "qlite_exit_handler_seconds", "histogram",
			  "Time from the return of KVM_RUN to the next entry, by vCPU and reason.");
		for (unsigned i = 0; i < v->nr_vcpus; i++)
			for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
				struct stats_hist h;

				if (!stat_read(&v->vcpu[i]->reason[r]))
					continue;
				memset(&h, 0, sizeof(h));
				stats_hist_merge(&h, &v->vcpu[i]->reason_time[r]);	/* one consistent copy */
				snprintf(vcpu, sizeof(vcpu), "%u", i);
				l[1] = (struct label){ "reason", kvm_exit_reason_name(r) };
				prom_hist(out, v, "qlite_exit_handler_seconds", l, 2, &h);
			}
		prom_devices(v, out);
	}
	stats_sum(v, &t);
	prom_head(out, "qlite_unclaimed_accesses_total", "counter",
		  "PIO/MMIO accesses no device claimed (reads got all-ones, writes were dropped).");
	for (unsigned s = 0; s < BUS_NR_SPACES; s++)
		for (unsigned d = 0; d < 2; d++) {
			struct label u[2] = { { "bus", bus_space_name(s) }, { "dir", d ? "write" : "read" } };

			prom_u64(out, v, "qlite_unclaimed_accesses_total", u, 2, t.unclaimed[s][d]);
		}
	prom_device_reports(v, out);
	if (v->kvm_vcpu)
		prom_kvm_scope(v, out, "vcpu", v->kvm_vcpu, v->nr_vcpus);
	if (v->kvm_vm)
		prom_kvm_scope(v, out, "vm", v->kvm_vm, 0);
	prom_head(out, "qlite_uptime_seconds", "gauge", "Seconds since the vCPUs started.");
	prom_series(out, v, "qlite_uptime_seconds", "", NULL, 0);
	fprintf(out, " %.3f\n", v->elapsed_s);
	return ferror(out) ? -EIO : 0;
}
