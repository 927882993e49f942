// SPDX-License-Identifier: GPL-2.0-only
/* Text reports: the table at VM stop and the one-line-per-interval view. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/stats.h"
#include "qlite/util.h"
#include "stats_internal.h"

void stats_sum(const struct stats_view *v, struct stats_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		const struct vcpu_stats *st = v->vcpu[i];

		t->exits += stat_read(&st->exits);
		t->run_eintr += stat_read(&st->run_eintr);
		t->io_transfers += stat_read(&st->io_transfers);
		t->coalesced += stat_read(&st->coalesced);
		for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
			t->reason[r] += stat_read(&st->reason[r]);
		for (unsigned s = 0; s < BUS_NR_SPACES; s++)
			for (unsigned d = 0; d < 2; d++)
				t->unclaimed[s][d] += stat_read(&st->unclaimed[s][d]);
	}
}

unsigned stats_unclaimed_top(const struct stats_view *v, enum bus_space s,
			     struct stats_unclaimed top[STATS_UNCLAIMED_TOP])
{
	struct region_stats m;	/* a merge table: the same keys as a register's */
	unsigned n = 0;

	memset(&m, 0, sizeof(m));
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		for (unsigned k = 0; k < STATS_UNCLAIMED_SLOTS; k++) {
			const struct reg_slot *slot = &v->vcpu[i]->unclaimed_addr[s][k];
			uint64_t key = __atomic_load_n(&slot->key, __ATOMIC_ACQUIRE);

			if (key)
				stats_reg_add(&m, key, stat_read(&slot->count));
		}
	stats_sort_regs(&m);
	for (; n < STATS_UNCLAIMED_TOP && m.regs[n].key; n++)
		top[n] = (struct stats_unclaimed){ .addr = (m.regs[n].key - 1) >> 1,
						   .write = (m.regs[n].key - 1) & 1,
						   .count = m.regs[n].count };
	return n;
}

unsigned stats_devices_read(const struct machine *m, struct stats_device *devices, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->nr_reports && n < max; i++) {
		const struct machine_report_src *r = &m->reports[i];

		if (!r->fn)
			continue;
		memset(&devices[n], 0, sizeof(devices[n]));
		snprintf(devices[n].name, sizeof(devices[n].name), "%s", r->name);
		r->fn(r->opaque, &devices[n].rep);
		if (devices[n].rep.n > DEVICE_REPORT_MAX)
			devices[n].rep.n = DEVICE_REPORT_MAX;
		n++;
	}
	return n;
}

void stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src)
{
	for (unsigned b = 0; b < STATS_HIST_BUCKETS; b++)
		dst->bucket[b] += stat_read(&src->bucket[b]);
	dst->count += stat_read(&src->count);
	dst->sum += stat_read(&src->sum);
	if (stat_read(&src->max) > dst->max)
		dst->max = stat_read(&src->max);
}

void stats_hist_ns(const struct stats_hist *h, double tsc_per_ns, struct hist_ns *out)
{
	double k = tsc_per_ns > 0 ? tsc_per_ns : 1.0;

	out->count = h->count;
	out->avg = h->count ? (double)h->sum / h->count / k : 0;
	out->p50 = stats_hist_quantile(h, 0.50) / k;
	out->p99 = stats_hist_quantile(h, 0.99) / k;
	out->max = h->max / k;
}

/* Merge one device's counters over all vCPUs; false when nobody touched it. */
bool stats_region_merge(const struct stats_view *v, enum bus_space s, unsigned id,
			struct region_stats *out)
{
	bool any = false;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		const struct region_stats *rs =
			__atomic_load_n(&v->vcpu[i]->region[s][id], __ATOMIC_ACQUIRE);

		if (!rs)
			continue;
		any = true;
		for (unsigned d = 0; d < 2; d++) {
			out->count[d] += stat_read(&rs->count[d]);
			out->transfers[d] += stat_read(&rs->transfers[d]);
			out->other[d] += stat_read(&rs->other[d]);
		}
		stats_hist_merge(&out->time, &rs->time);
		for (unsigned k = 0; k < STATS_REG_SLOTS; k++) {
			uint64_t key = __atomic_load_n(&rs->regs[k].key, __ATOMIC_ACQUIRE);

			if (key)
				stats_reg_add(out, key, stat_read(&rs->regs[k].count));
		}
	}
	return any;
}

/* Add count to key in a merged (single-threaded) table. */
void stats_reg_add(struct region_stats *rs, uint64_t key, uint64_t count)
{
	for (unsigned k = 0; k < STATS_REG_SLOTS; k++) {
		if (rs->regs[k].key == key || !rs->regs[k].key) {
			rs->regs[k].key = key;
			rs->regs[k].count += count;
			return;
		}
	}
	rs->other[(key - 1) & 1] += count;
}

const char *stats_reg_name(const struct bus_region *r, uint64_t offset, char *buf, size_t len)
{
	uint64_t off = offset & ~STATS_COALESCED;
	const char *name = r->ops->reg_name ? r->ops->reg_name(r->opaque, off) : NULL;

	if (offset & STATS_COALESCED) {
		if (name)
			snprintf(buf, len, "%s (coalesced)", name);
		else
			snprintf(buf, len, "+0x%llx (coalesced)", (unsigned long long)off);
		return buf;
	}
	if (name)
		return name;
	snprintf(buf, len, "+0x%llx", (unsigned long long)offset);
	return buf;
}

static int reg_cmp(const void *a, const void *b)
{
	const struct reg_slot *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

void stats_sort_regs(struct region_stats *rs)
{
	qsort(rs->regs, STATS_REG_SLOTS, sizeof(rs->regs[0]), reg_cmp);
}

/* A device's name, with the region's base when it owns several on the bus (i8042 0x60 and 0x64). */
const char *stats_region_label(const struct stats_view *v, enum bus_space s,
			       const struct bus_region *r, char *buf, size_t len)
{
	for (unsigned id = 0; id < BUS_MAX_REGIONS; id++) {
		const struct bus_region *o = bus_region_by_id(v->bus[s], id);

		if (o && o->id != r->id && !strcmp(o->name, r->name)) {
			snprintf(buf, len, "%s@%#llx", r->name, (unsigned long long)r->base);
			return buf;
		}
	}
	return r->name;
}

static double per_s(const struct stats_view *v, uint64_t n)
{
	return v->elapsed_s > 0 ? n / v->elapsed_s : 0;
}

static double share(uint64_t n, uint64_t total)
{
	return total ? 100.0 * n / total : 0;
}

static void print_hist(FILE *out, const struct stats_hist *h, double tsc_per_ns)
{
	struct hist_ns ns;

	stats_hist_ns(h, tsc_per_ns, &ns);
	fprintf(out, " %9.0f %9.0f %9.0f %10.0f", ns.avg, ns.p50, ns.p99, ns.max);
}

static void report_reasons(const struct stats_view *v, const struct stats_totals *t, FILE *out)
{
	fprintf(out, "\n[1] userspace exits: KVM_RUN returns qlite handled, by reason (KVM_EXIT_*)\n");
	fprintf(out, "  %-16s", "reason");
	for (unsigned i = 0; i < v->nr_vcpus && i < 8; i++)
		fprintf(out, "   vcpu%-5u", i);
	fprintf(out, " %11s %10s %6s", "total", "per s", "share");
	/* Without accounting no time was measured: no column of zeros that looks like data. */
	if (v->accounting_off)
		fprintf(out, "   (handler time not measured: accounting off)\n");
	else
		fprintf(out, " %9s %9s %9s %10s\n", "avg ns", "p50 ns", "p99 ns", "max ns");
	for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
		struct stats_hist h;

		if (!t->reason[r])
			continue;
		memset(&h, 0, sizeof(h));
		fprintf(out, "  %-16s", kvm_exit_reason_name(r));
		for (unsigned i = 0; i < v->nr_vcpus && i < 8; i++)
			fprintf(out, " %11llu", (unsigned long long)stat_read(&v->vcpu[i]->reason[r]));
		for (unsigned i = 0; i < v->nr_vcpus; i++)
			stats_hist_merge(&h, &v->vcpu[i]->reason_time[r]);
		fprintf(out, " %11llu %10.1f %5.1f%%", (unsigned long long)t->reason[r],
			per_s(v, t->reason[r]), share(t->reason[r], t->exits));
		if (!v->accounting_off)
			print_hist(out, &h, v->tsc_per_ns);
		fprintf(out, "\n");
	}
	fprintf(out, "  %-16s %11llu (KVM_RUN returned EINTR: a signal or a kick)\n", "interrupted",
		(unsigned long long)t->run_eintr);
	fprintf(out, "  %-16s %11llu (%.1f per s)\n", "all", (unsigned long long)t->exits,
		per_s(v, t->exits));
	if (t->coalesced)
		fprintf(out, "  %-16s %11llu (MMIO writes KVM queued in its ring, drained by qlite: "
			"no exits; by register below)\n", "coalesced", (unsigned long long)t->coalesced);
}

/* The busiest unclaimed addresses under the totals: what a guest probed. */
static void report_unclaimed_top(const struct stats_view *v, enum bus_space s,
				 const struct stats_totals *t, FILE *out)
{
	struct stats_unclaimed top[STATS_UNCLAIMED_TOP];
	unsigned n = stats_unclaimed_top(v, s, top);

	for (unsigned i = 0; i < n; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)top[i].addr);
		fprintf(out, "  %-14s %-4s %-18s %-5s %11llu %10.1f %5.1f%%\n", "", "", addr,
			top[i].write ? "write" : "read", (unsigned long long)top[i].count,
			per_s(v, top[i].count), share(top[i].count, t->exits));
	}
}

static void report_devices(const struct stats_view *v, const struct stats_totals *t, FILE *out)
{
	fprintf(out, "\n    by device and register (PIO and MMIO exits; a string PIO is one exit, its elements are transfers)\n");
	if (v->accounting_off) {
		fprintf(out, "  not counted (accounting off); unclaimed: pio %llu reads %llu writes, mmio %llu reads %llu writes\n",
			(unsigned long long)t->unclaimed[BUS_PIO][0], (unsigned long long)t->unclaimed[BUS_PIO][1],
			(unsigned long long)t->unclaimed[BUS_MMIO][0], (unsigned long long)t->unclaimed[BUS_MMIO][1]);
		return;
	}
	fprintf(out, "  %-14s %-4s %-18s %-5s %11s %10s %6s %10s %9s %9s %9s %10s\n", "device", "bus",
		"register", "dir", "exits", "per s", "share", "transfers", "avg ns", "p50 ns", "p99 ns",
		"max ns");
	for (unsigned s = 0; s < BUS_NR_SPACES; s++) {
		for (unsigned id = 0; id < BUS_MAX_REGIONS; id++) {
			const struct bus_region *r = bus_region_by_id(v->bus[s], id);
			struct region_stats m;
			char label[80];
			uint64_t n;

			if (!r || !stats_region_merge(v, s, id, &m))
				continue;
			n = m.count[0] + m.count[1];
			fprintf(out, "  %-14s %-4s %-18s %-5s %11llu %10.1f %5.1f%% %10llu",
				stats_region_label(v, s, r, label, sizeof(label)), bus_space_name(s), "(all)", "", (unsigned long long)n, per_s(v, n),
				share(n, t->exits), (unsigned long long)(m.transfers[0] + m.transfers[1]));
			print_hist(out, &m.time, v->tsc_per_ns);
			fprintf(out, "\n");
			stats_sort_regs(&m);
			for (unsigned k = 0; k < STATS_REG_SLOTS && m.regs[k].key; k++) {
				uint64_t off = (m.regs[k].key - 1) >> 1;
				bool w = (m.regs[k].key - 1) & 1;
				char buf[32];

				/* Coalesced writes are no exits: no share of them. */
				if (off & STATS_COALESCED) {
					fprintf(out, "  %-14s %-4s %-18s %-5s %11llu %10.1f      -\n",
						"", "", stats_reg_name(r, off, buf, sizeof(buf)),
						"write", (unsigned long long)m.regs[k].count,
						per_s(v, m.regs[k].count));
					continue;
				}
				fprintf(out, "  %-14s %-4s %-18s %-5s %11llu %10.1f %5.1f%%\n", "", "",
					stats_reg_name(r, off, buf, sizeof(buf)), w ? "write" : "read",
					(unsigned long long)m.regs[k].count, per_s(v, m.regs[k].count),
					share(m.regs[k].count, t->exits));
			}
			for (unsigned d = 0; d < 2; d++)
				if (m.other[d])
					fprintf(out, "  %-14s %-4s %-18s %-5s %11llu\n", "", "", "(other registers)",
						d ? "write" : "read", (unsigned long long)m.other[d]);
		}
		for (unsigned d = 0; d < 2; d++)
			if (t->unclaimed[s][d])
				fprintf(out, "  %-14s %-4s %-18s %-5s %11llu %10.1f %5.1f%%  (no device: %s)\n",
					"(unclaimed)", bus_space_name(s), "-", d ? "write" : "read",
					(unsigned long long)t->unclaimed[s][d], per_s(v, t->unclaimed[s][d]),
					share(t->unclaimed[s][d], t->exits),
					d ? "dropped" : "read all-ones");
		report_unclaimed_top(v, s, t, out);
	}
}

/* What devices said about themselves: the path their notifications take, and their counters. */
static void report_device_reports(const struct stats_view *v, FILE *out)
{
	if (!v->nr_devices)
		return;
	fprintf(out, "\n    devices' own counters (work no exit shows: kicks and interrupts in the kernel, requests)\n");
	for (unsigned i = 0; i < v->nr_devices; i++) {
		const struct stats_device *d = &v->devices[i];

		fprintf(out, "  %-14s %s\n", d->name, d->rep.path[0] ? d->rep.path : "-");
		for (unsigned k = 0; k < d->rep.n; k++)
			fprintf(out, "  %-14s   %-28s %11llu\n", "", d->rep.c[k].name,
				(unsigned long long)d->rep.c[k].value);
	}
}

static void report_kvm(const struct stats_view *v, FILE *out)
{
	const struct kvm_binary_stats *k0 = v->kvm_vcpu;

	fprintf(out, "\n[2] in-kernel counters (KVM_GET_STATS_FD), change over the run\n");
	if (!k0) {
		fprintf(out, "  unavailable: %s\n", v->kvm_why ? v->kvm_why : "not opened");
		return;
	}
	fprintf(out, "  %-28s", "vcpu stat");
	for (unsigned i = 0; i < v->nr_vcpus && i < 8; i++)
		fprintf(out, "   vcpu%-5u", i);
	fprintf(out, " %11s %10s\n", "total", "per s");
	for (unsigned d = 0; d < k0->nr; d++) {
		uint64_t total = 0, val;
		bool ok = kvm_binary_stats_value(k0, d, &val);

		if (!ok)
			continue;
		fprintf(out, "  %-28s", k0->name[d]);
		for (unsigned i = 0; i < v->nr_vcpus; i++) {
			kvm_binary_stats_value(&v->kvm_vcpu[i], d, &val);
			total += val;
			if (i < 8)
				fprintf(out, " %11llu", (unsigned long long)val);
		}
		fprintf(out, " %11llu %10.1f\n", (unsigned long long)total, per_s(v, total));
	}
	if (v->kvm_vm) {
		fprintf(out, "  %-28s %11s\n", "vm stat", "value");
		for (unsigned d = 0; d < v->kvm_vm->nr; d++) {
			uint64_t val;

			if (kvm_binary_stats_value(v->kvm_vm, d, &val))
				fprintf(out, "  %-28s %11llu\n", v->kvm_vm->name[d], (unsigned long long)val);
		}
	}
}

static void report_hw(const struct stats_view *v, FILE *out)
{
	const struct hw_exit_trace *hw = v->hw;
	char why[200];

	fprintf(out, "\n[3] hardware exit reasons (kvm:kvm_exit tracepoint, qlite's vCPU threads)\n");
	if (!stats_hw_usable(v, why, sizeof(why))) {
		fprintf(out, "  unavailable: %s\n", why);
		return;
	}
	fprintf(out, "  %-28s %11s %10s %6s   (%s%s)\n", "reason", "count", "per s", "share",
		hw->isa == 1 ? "VMX" : hw->isa == 2 ? "SVM" : "isa unknown",
		hw->lost ? ", some events lost" : "");
	for (unsigned r = 0; r < HW_EXIT_REASONS; r++)
		if (hw->count[r])
			fprintf(out, "  %-28s %11llu %10.1f %5.1f%%\n", hw_exit_reason_name(hw->isa, r),
				(unsigned long long)hw->count[r], per_s(v, hw->count[r]),
				share(hw->count[r], hw->total));
	if (hw->lost)
		fprintf(out, "  %-28s %11llu\n", "(lost events)", (unsigned long long)hw->lost);
}

bool stats_hw_usable(const struct stats_view *v, char *why, size_t len)
{
	const struct hw_exit_trace *hw = v->hw;
	struct stats_totals t;

	if (!hw || !hw->available) {
		snprintf(why, len, "%s", hw && hw->why[0] ? hw->why : "not opened");
		return false;
	}
	stats_sum(v, &t);
	if (!hw->total && t.exits > t.run_eintr) {
		snprintf(why, len, "no kvm:kvm_exit event arrived although qlite saw %llu exits (a nested or paravirtual KVM that does not fire it)",
			 (unsigned long long)(t.exits - t.run_eintr));
		return false;
	}
	return true;
}

void stats_report_table(const struct stats_view *v, FILE *out)
{
	struct stats_totals t;

	stats_sum(v, &t);
	fprintf(out, "\n=== qlite exit report: %.2f s, %u vCPU%s; handler time = KVM_RUN return to next entry, rdtsc at %.3f cycles/ns ===\n",
		v->elapsed_s, v->nr_vcpus, v->nr_vcpus == 1 ? "" : "s", v->tsc_per_ns);
	if (v->tuning)
		fprintf(out, "tuning: %s\n", v->tuning);
	report_reasons(v, &t, out);
	report_devices(v, &t, out);
	report_device_reports(v, out);
	report_kvm(v, out);
	report_hw(v, out);
	fflush(out);
}

int stats_report_interval(const struct stats_view *v, struct stats_interval *prev, double dt, FILE *out)
{
	/* Per device name: a device may own several regions (i8042 data and command ports). */
	struct { const char *name; uint64_t n; } dev[BUS_NR_SPACES * BUS_MAX_REGIONS], top[3] = { { 0 } };
	unsigned nr_dev = 0;
	struct stats_totals now;
	double rate;
	char buf[768];
	size_t off = 0;

	stats_sum(v, &now);
	for (unsigned r = 0; r < EXIT_REASON_MAX && off < sizeof(buf); r++) {
		uint64_t d = now.reason[r] - prev->t.reason[r];

		if (d)
			off += snprintf(buf + off, sizeof(buf) - off, " %s %.0f", kvm_exit_reason_name(r),
					dt > 0 ? d / dt : 0);
	}
	for (unsigned s = 0; s < BUS_NR_SPACES; s++)
		for (unsigned id = 0; id < BUS_MAX_REGIONS; id++) {
			const struct bus_region *r = bus_region_by_id(v->bus[s], id);
			struct region_stats m;
			uint64_t n;
			unsigned k;

			if (!r || !stats_region_merge(v, s, id, &m))
				continue;
			n = m.count[0] + m.count[1];
			for (k = 0; k < nr_dev && strcmp(dev[k].name, r->name); k++)
				;
			if (k == nr_dev)
				dev[nr_dev++] = (typeof(dev[0])){ r->name, 0 };
			dev[k].n += n - prev->dev[s][id];
			prev->dev[s][id] = n;
		}
	/* The three busiest devices of the interval. */
	for (unsigned i = 0; i < nr_dev; i++)
		for (unsigned k = 0; k < 3; k++) {
			if (dev[i].n <= top[k].n)
				continue;
			memmove(&top[k + 1], &top[k], (2 - k) * sizeof(top[0]));
			top[k] = dev[i];
			break;
		}
	if (off < sizeof(buf) && top[0].n)
		off += snprintf(buf + off, sizeof(buf) - off, " |");
	for (unsigned k = 0; k < 3 && top[k].n && off < sizeof(buf); k++)
		off += snprintf(buf + off, sizeof(buf) - off, " %s %.0f", top[k].name,
				dt > 0 ? top[k].n / dt : 0);
	rate = dt > 0 ? (now.exits - prev->t.exits) / dt : 0;
	prev->t = now;
	/* A log file on a full disk: the caller says so (once), so the error is not kept here. */
	errno = 0;
	fprintf(out, "qlite: %8.1f s  exits/s %.0f:%s\n", v->elapsed_s, rate, off ? buf : " none");
	if (fflush(out) == EOF || ferror(out)) {
		int ret = errno ? -errno : -EIO;

		clearerr(out);
		return ret;
	}
	return 0;
}
