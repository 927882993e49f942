// SPDX-License-Identifier: GPL-2.0-only
/*
 * The comparison's data: each run's exit report (docs/stats.md) flattened
 * into rows of samples, one per run and side, and the medians, spreads and
 * ratios the outputs print. Counts are summed over vCPUs, and over the bus
 * regions of one device; a count a run does not mention is 0 in that run.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/compare.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void cmp_stat_of(const double *v, unsigned n, struct cmp_stat *out)
{
	double s[CMP_MAX_RUNS];
	unsigned m = 0;

	for (unsigned i = 0; i < n && m < CMP_MAX_RUNS; i++)
		if (!isnan(v[i]))
			s[m++] = v[i];
	out->n = m;
	if (!m) {
		out->median = out->min = out->max = NAN;
		return;
	}
	qsort(s, m, sizeof(s[0]), cmp_double);
	out->min = s[0];
	out->max = s[m - 1];
	out->median = m % 2 ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
}

static const char *const section_names[CMP_SECTIONS] = {
	[CMP_REASON] = "reason",
	[CMP_DEVICE] = "device",
	[CMP_REGISTER] = "register",
	[CMP_KVM] = "kvm",
	[CMP_DEVREP] = "device_report",
};

const char *cmp_section_name(enum cmp_section s)
{
	return s < CMP_SECTIONS ? section_names[s] : "?";
}

void cmp_result_init(struct cmp_result *r, const struct cmp_workload *w, unsigned runs)
{
	memset(r, 0, sizeof(*r));
	r->w = *w;
	r->runs = runs;
}

void cmp_result_free(struct cmp_result *r)
{
	free(r->rows);
	r->rows = NULL;
	r->nr_rows = r->cap = 0;
}

const struct cmp_row *cmp_row_find(const struct cmp_result *r, enum cmp_section sec,
				   const char *name)
{
	for (unsigned i = 0; i < r->nr_rows; i++)
		if (r->rows[i].section == sec && !strcmp(r->rows[i].name, name))
			return &r->rows[i];
	return NULL;
}

static struct cmp_row *row_get(struct cmp_result *r, enum cmp_section sec, const char *name)
{
	struct cmp_row *row = (struct cmp_row *)cmp_row_find(r, sec, name);

	if (row)
		return row;
	if (r->nr_rows == r->cap) {
		unsigned cap = r->cap ? r->cap * 2 : 64;
		struct cmp_row *rows = realloc(r->rows, cap * sizeof(*rows));

		if (!rows)
			return NULL;
		r->rows = rows;
		r->cap = cap;
	}
	row = &r->rows[r->nr_rows++];
	memset(row, 0, sizeof(*row));
	row->section = sec;
	snprintf(row->name, sizeof(row->name), "%s", name);
	/* Counts and time a run does not mention are 0; averages and quantiles unknown. */
	for (unsigned s = 0; s < 2; s++)
		for (unsigned k = 0; k < CMP_MAX_RUNS; k++)
			row->v[s][CMP_AVG_NS][k] = row->v[s][CMP_P99_NS][k] = NAN;
	return row;
}

/* Add count (and a handler histogram, when hist is one) to a row of run k. */
static int row_add(struct cmp_result *r, unsigned s, unsigned k, enum cmp_section sec,
		   const char *name, double count, const struct json *hist)
{
	struct cmp_row *row = row_get(r, sec, name);
	double hcount, p99;

	if (!row)
		return -ENOMEM;
	row->seen[s] = true;
	row->v[s][CMP_COUNT][k] += count;
	if (!hist || hist->type != JSON_OBJECT)
		return 0;
	hcount = json_num(hist, "count", 0);
	row->v[s][CMP_TIME_NS][k] += hcount * json_num(hist, "avg_ns", 0);
	/* Histograms of several vCPUs or regions cannot be merged: the worst p99 stands. */
	p99 = json_num(hist, "p99_ns", NAN);
	if (!isnan(p99) && (isnan(row->v[s][CMP_P99_NS][k]) || p99 > row->v[s][CMP_P99_NS][k]))
		row->v[s][CMP_P99_NS][k] = p99;
	return 0;
}

static int add_reasons(struct cmp_result *r, unsigned s, unsigned k, const struct json *rep)
{
	const struct json *vcpus = json_get(rep, "vcpus");
	int ret = row_add(r, s, k, CMP_REASON, "(all)", json_num(rep, "exits", 0), NULL);

	for (unsigned i = 0; vcpus && vcpus->type == JSON_ARRAY && i < vcpus->n && !ret; i++) {
		const struct json *reasons = json_get(&vcpus->items[i], "reasons");

		for (unsigned j = 0; reasons && j < reasons->n && !ret; j++) {
			const struct json *re = &reasons->items[j];
			const struct json *h = json_get(re, "handler");

			ret = row_add(r, s, k, CMP_REASON, re->key, json_num(re, "exits", 0), h);
			if (!ret && h && h->type == JSON_OBJECT) {
				struct cmp_row *all = row_get(r, CMP_REASON, "(all)");

				all->v[s][CMP_TIME_NS][k] += json_num(h, "count", 0) *
							     json_num(h, "avg_ns", 0);
			}
		}
	}
	return ret;
}

/* Is dev one of the prefixes in list ("ide-|piix3-ide")? */
static bool region_of(const char *list, const char *dev)
{
	while (*list) {
		size_t n = strcspn(list, "|");

		if (n && !strncmp(dev, list, n))
			return true;
		list += n + (list[n] == '|');
	}
	return false;
}

static int add_devices(struct cmp_result *r, unsigned s, unsigned k, const struct json *rep)
{
	const struct json *devs = json_get(rep, "devices");
	const struct json *un = json_get(rep, "unclaimed");
	char name[96];
	int ret = 0;

	for (unsigned i = 0; devs && devs->type == JSON_ARRAY && i < devs->n && !ret; i++) {
		const struct json *d = &devs->items[i];
		const struct json *regs = json_get(d, "registers");
		const char *dev = json_str_of(d, "device");

		/* A device's own report (see add_reports) is not a bus region. */
		if (!dev)
			continue;
		ret = row_add(r, s, k, CMP_DEVICE, dev,
			      json_num(d, "reads", 0) + json_num(d, "writes", 0),
			      json_get(d, "handler"));
		if (!ret && region_of(r->side[s].regions, dev))
			ret = row_add(r, s, k, CMP_DEVICE, "(compared)",
				      json_num(d, "reads", 0) + json_num(d, "writes", 0),
				      json_get(d, "handler"));
		for (unsigned j = 0; regs && j < regs->n && !ret; j++) {
			const struct json *reg = &regs->items[j];
			const char *rn = json_str_of(reg, "register"), *dir = json_str_of(reg, "dir");

			snprintf(name, sizeof(name), "%s %s %s", dev, rn ? rn : "?", dir ? dir : "?");
			ret = row_add(r, s, k, CMP_REGISTER, name, json_num(reg, "exits", 0), NULL);
		}
		for (unsigned w = 0; w < 2 && !ret; w++) {
			double n = json_num(d, w ? "other_writes" : "other_reads", 0);

			snprintf(name, sizeof(name), "%s (other) %s", dev, w ? "write" : "read");
			if (n)
				ret = row_add(r, s, k, CMP_REGISTER, name, n, NULL);
		}
	}
	/* A compared device no exit reached (kicks through ioeventfd) is there with 0. */
	if (!ret && r->side[s].regions[0])
		ret = row_add(r, s, k, CMP_DEVICE, "(compared)", 0, NULL);
	if (!ret && un) {
		double n = json_num(un, "pio_reads", 0) + json_num(un, "pio_writes", 0) +
			   json_num(un, "mmio_reads", 0) + json_num(un, "mmio_writes", 0);

		if (n)
			ret = row_add(r, s, k, CMP_DEVICE, "(unclaimed)", n, NULL);
	}
	return ret;
}

static int add_kvm(struct cmp_result *r, unsigned s, unsigned k, const struct json *rep)
{
	const struct json *kvm = json_get(rep, "kvm_stats");
	const struct json *avail = json_get(kvm, "available");
	const struct json *vcpus = json_get(kvm, "vcpus");
	int ret = 0;

	if (!avail || avail->type != JSON_BOOL || !avail->num || !vcpus)
		return 0;
	for (unsigned i = 0; vcpus->type == JSON_ARRAY && i < vcpus->n && !ret; i++) {
		const struct json *v = &vcpus->items[i];

		for (unsigned j = 0; v->type == JSON_OBJECT && j < v->n && !ret; j++)
			if (v->items[j].type == JSON_NUMBER)
				ret = row_add(r, s, k, CMP_KVM, v->items[j].key, v->items[j].num, NULL);
	}
	return ret;
}

/*
 * Devices' own reports: "device_reports": [{"name", "path", "counters": {...}}];
 * also taken from "devices" entries of that shape (a name and counters, no bus).
 */
static int add_report_list(struct cmp_result *r, unsigned s, unsigned k,
			   const struct json *reps)
{
	struct cmp_side *side = &r->side[s];
	char name[96];
	int ret = 0;

	for (unsigned i = 0; reps && reps->type == JSON_ARRAY && i < reps->n && !ret; i++) {
		const struct json *d = &reps->items[i];
		const struct json *c = json_get(d, "counters");
		const char *dev = json_str_of(d, "name"), *path = json_str_of(d, "path");
		bool known = false;

		if (!dev || !c || json_get(d, "bus"))
			continue;
		for (unsigned p = 0; p < side->nr_paths; p++)
			known |= !strcmp(side->paths[p].device, dev);
		if (!known && path && *path && side->nr_paths < CMP_MAX_PATHS) {
			snprintf(side->paths[side->nr_paths].device,
				 sizeof(side->paths[0].device), "%s", dev);
			snprintf(side->paths[side->nr_paths].path,
				 sizeof(side->paths[0].path), "%s", path);
			side->nr_paths++;
		}
		for (unsigned j = 0; c->type == JSON_OBJECT && j < c->n && !ret; j++) {
			if (c->items[j].type != JSON_NUMBER)
				continue;
			snprintf(name, sizeof(name), "%s %s", dev, c->items[j].key);
			ret = row_add(r, s, k, CMP_DEVREP, name, c->items[j].num, NULL);
		}
	}
	return ret;
}

static int add_reports(struct cmp_result *r, unsigned s, unsigned k, const struct json *rep)
{
	int ret = add_report_list(r, s, k, json_get(rep, "device_reports"));

	return ret ? ret : add_report_list(r, s, k, json_get(rep, "devices"));
}

int cmp_add_run(struct cmp_result *r, unsigned s, const struct json *rep, char *why,
		size_t len)
{
	const struct json *acc = json_get(rep, "accounting");
	unsigned k = r->side[s].runs;
	int ret;

	if (json_num(rep, "version", 0) < 2 || !json_get(rep, "vcpus")) {
		snprintf(why, len, "not a qlite exit report of version 2 or later");
		return -EINVAL;
	}
	if (acc && acc->type == JSON_BOOL && !acc->num) {
		snprintf(why, len, "made with accounting off: no devices or handler time");
		return -EINVAL;
	}
	if (k >= CMP_MAX_RUNS) {
		snprintf(why, len, "more than %d runs", CMP_MAX_RUNS);
		return -E2BIG;
	}
	r->side[s].elapsed_s[k] = json_num(rep, "elapsed_s", NAN);
	ret = add_reasons(r, s, k, rep);
	if (!ret)
		ret = add_devices(r, s, k, rep);
	if (!ret)
		ret = add_kvm(r, s, k, rep);
	if (!ret)
		ret = add_reports(r, s, k, rep);
	if (ret) {
		snprintf(why, len, "out of memory");
		return ret;
	}
	/* Averages from the summed time and the handled exits. */
	for (unsigned i = 0; i < r->nr_rows; i++) {
		struct cmp_row *row = &r->rows[i];

		if (row->v[s][CMP_COUNT][k] > 0 && row->v[s][CMP_TIME_NS][k] > 0)
			row->v[s][CMP_AVG_NS][k] = row->v[s][CMP_TIME_NS][k] /
						   row->v[s][CMP_COUNT][k];
	}
	r->side[s].runs++;
	return 0;
}

void cmp_row_stat(const struct cmp_result *r, const struct cmp_row *row, unsigned s,
		  enum cmp_qty q, enum cmp_scale scale, struct cmp_stat *out)
{
	const struct cmp_side *side = &r->side[s];
	double v[CMP_MAX_RUNS] = { 0 };
	unsigned n = side->runs < CMP_MAX_RUNS ? side->runs : CMP_MAX_RUNS;

	if (!row || !row->seen[s]) {
		cmp_stat_of(v, 0, out);
		return;
	}
	for (unsigned k = 0; k < n; k++) {
		double x = row->v[s][q][k];

		if (q == CMP_AVG_NS || q == CMP_P99_NS || scale == CMP_RAW)
			v[k] = x;
		else if (scale == CMP_PER_UNIT)
			v[k] = r->w.units > 0 ? x / r->w.units : NAN;
		else
			v[k] = side->elapsed_s[k] > 0 ? x / side->elapsed_s[k] : NAN;
	}
	cmp_stat_of(v, n, out);
}

double cmp_ratio(const struct cmp_result *r, const struct cmp_row *row, enum cmp_qty q)
{
	struct cmp_stat a, b;

	cmp_row_stat(r, row, 0, q, CMP_PER_UNIT, &a);
	cmp_row_stat(r, row, 1, q, CMP_PER_UNIT, &b);
	if (!a.n || !b.n || a.median == 0)
		return NAN;
	return b.median / a.median;
}

static void verdict_part(char *buf, size_t len, double a, double b, const char *fewer,
			 const char *more, const char *what)
{
	if (isnan(a) || isnan(b))
		snprintf(buf, len, "%s not measured", what);
	else if (a == b)
		snprintf(buf, len, "as many %s", what);
	else if (b == 0)
		snprintf(buf, len, "no %s (A: %.3g)", what, a);
	else
		snprintf(buf, len, b < a ? "%.*fx %s %s" : "%.*fx %s %s",
			 fmax(a, b) / fmin(a, b) >= 100 ? 0 : 1, fmax(a, b) / fmin(a, b),
			 b < a ? fewer : more, what);
}

void cmp_verdict(const struct cmp_result *r, struct cmp_verdict *v)
{
	const struct cmp_row *all = cmp_row_find(r, CMP_REASON, "(all)");
	const struct cmp_row *dev = cmp_row_find(r, CMP_DEVICE, "(compared)");
	char ex[96], tm[96], dx[96] = "", dt[96] = "";
	struct cmp_stat st;

	for (unsigned s = 0; s < 2; s++) {
		cmp_row_stat(r, all, s, CMP_COUNT, CMP_PER_UNIT, &st);
		v->exits[s] = st.median;
		cmp_row_stat(r, all, s, CMP_TIME_NS, CMP_PER_UNIT, &st);
		v->time_ns[s] = st.median;
		cmp_row_stat(r, dev, s, CMP_COUNT, CMP_PER_UNIT, &st);
		v->dev_exits[s] = st.median;
		cmp_row_stat(r, dev, s, CMP_TIME_NS, CMP_PER_UNIT, &st);
		v->dev_time_ns[s] = st.median;
	}
	if (dev && dev->seen[0] && dev->seen[1]) {
		verdict_part(dx, sizeof(dx), v->dev_exits[0], v->dev_exits[1], "fewer", "more",
			     "exits");
		verdict_part(dt, sizeof(dt), v->dev_time_ns[0], v->dev_time_ns[1], "less", "more",
			     "handler time");
	}
	v->exits_factor = v->exits[1] > 0 ? v->exits[0] / v->exits[1] : NAN;
	v->time_factor = v->time_ns[1] > 0 ? v->time_ns[0] / v->time_ns[1] : NAN;
	verdict_part(ex, sizeof(ex), v->exits[0], v->exits[1], "fewer", "more", "exits");
	verdict_part(tm, sizeof(tm), v->time_ns[0], v->time_ns[1], "less", "more",
		     "time in qlite's handlers");
	snprintf(v->text, sizeof(v->text), "%s against %s: %s per %s, %s%s%s%s%s%s",
		 r->side[1].label, r->side[0].label, ex, r->w.unit, tm,
		 dx[0] ? " (the devices alone: " : "", dx, dx[0] ? ", " : "", dt, dx[0] ? ")" : "");
}
