// SPDX-License-Identifier: GPL-2.0-only
/* The comparison as a table and as JSON (docs/compare.md, "version": 1). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "qlite/compare.h"
#include "qlite/util.h"

/* A number in a few characters: "-" when unmeasured. */
static const char *num(char *buf, size_t len, double x)
{
	double a = fabs(x);

	if (isnan(x))
		snprintf(buf, len, "-");
	else if (a >= 1e7)
		snprintf(buf, len, "%.3g", x);
	else if (a >= 100 || a == 0)
		snprintf(buf, len, "%.0f", x);
	else if (a >= 10)
		snprintf(buf, len, "%.1f", x);
	else
		snprintf(buf, len, "%.3g", x);
	return buf;
}

/* "median [min..max]", or the median alone for one run. */
static const char *cell(char *buf, size_t len, const struct cmp_stat *st)
{
	char m[24], lo[24], hi[24];

	if (!st->n)
		return num(buf, len, NAN);
	if (st->n == 1 || st->min == st->max)
		return num(buf, len, st->median);
	snprintf(buf, len, "%s [%s..%s]", num(m, sizeof(m), st->median),
		 num(lo, sizeof(lo), st->min), num(hi, sizeof(hi), st->max));
	return buf;
}

static const char *ratio(char *buf, size_t len, double r)
{
	if (isnan(r))
		return "-";
	snprintf(buf, len, r >= 100 ? "%.0fx" : r >= 10 ? "%.1fx" : "%.2fx", r);
	return buf;
}

static bool row_shown(const struct cmp_result *r, const struct cmp_row *row)
{
	struct cmp_stat st;

	for (unsigned s = 0; s < 2; s++) {
		cmp_row_stat(r, row, s, CMP_COUNT, CMP_RAW, &st);
		if (st.n && st.max != 0)
			return true;
	}
	return false;
}

static void table_counts(const struct cmp_result *r, enum cmp_section sec, const char *title,
			 FILE *out)
{
	bool any = false;

	for (unsigned i = 0; i < r->nr_rows; i++) {
		const struct cmp_row *row = &r->rows[i];
		struct cmp_stat a, b, as, bs;
		char ca[64], cb[64], rt[24], sa[24], sb[24];

		if (row->section != sec || !row_shown(r, row))
			continue;
		if (!any)
			fprintf(out, "%s\n", title);
		any = true;
		cmp_row_stat(r, row, 0, CMP_COUNT, CMP_PER_UNIT, &a);
		cmp_row_stat(r, row, 1, CMP_COUNT, CMP_PER_UNIT, &b);
		cmp_row_stat(r, row, 0, CMP_COUNT, CMP_PER_S, &as);
		cmp_row_stat(r, row, 1, CMP_COUNT, CMP_PER_S, &bs);
		fprintf(out, "  %-38s %24s %24s %8s %10s %10s\n", row->name,
			cell(ca, sizeof(ca), &a), cell(cb, sizeof(cb), &b),
			ratio(rt, sizeof(rt), cmp_ratio(r, row, CMP_COUNT)),
			num(sa, sizeof(sa), as.median), num(sb, sizeof(sb), bs.median));
	}
}

static void table_time(const struct cmp_result *r, FILE *out)
{
	fprintf(out, "\nhandler time (KVM_RUN return to next entry), ns: median [min..max] over runs\n"
		"  %-38s %24s %10s %24s %10s %8s %8s\n", "", "A avg", "A p99", "B avg", "B p99",
		"B/A avg", "B/A time");
	for (unsigned i = 0; i < r->nr_rows; i++) {
		const struct cmp_row *row = &r->rows[i];
		struct cmp_stat aa, ap, ba, bp;
		char c1[64], c2[24], c3[64], c4[24], r1[24], r2[24], name[112];
		double avg_ratio;

		if (row->section != CMP_REASON && row->section != CMP_DEVICE)
			continue;
		cmp_row_stat(r, row, 0, CMP_AVG_NS, CMP_RAW, &aa);
		cmp_row_stat(r, row, 0, CMP_P99_NS, CMP_RAW, &ap);
		cmp_row_stat(r, row, 1, CMP_AVG_NS, CMP_RAW, &ba);
		cmp_row_stat(r, row, 1, CMP_P99_NS, CMP_RAW, &bp);
		if (!aa.n && !ba.n)
			continue;
		avg_ratio = aa.n && ba.n && aa.median > 0 ? ba.median / aa.median : NAN;
		snprintf(name, sizeof(name), "%s %s", cmp_section_name(row->section), row->name);
		fprintf(out, "  %-38s %24s %10s %24s %10s %8s %8s\n", name, cell(c1, sizeof(c1), &aa),
			num(c2, sizeof(c2), ap.median), cell(c3, sizeof(c3), &ba),
			num(c4, sizeof(c4), bp.median), ratio(r1, sizeof(r1), avg_ratio),
			ratio(r2, sizeof(r2), cmp_ratio(r, row, CMP_TIME_NS)));
	}
}

void cmp_write_table(const struct cmp_result *r, FILE *out)
{
	struct cmp_verdict v;
	char head[160];

	fprintf(out, "=== qlite compare: %s, %u run%s each, A and B interleaved ===\n"
		"workload: %s\n", r->w.spec, r->runs, r->runs == 1 ? "" : "s", r->w.what);
	for (unsigned s = 0; s < 2; s++)
		fprintf(out, "%c  %-16s %s\n   guest command line: %s\n", "AB"[s],
			r->side[s].label, r->side[s].config, r->side[s].words);
	snprintf(head, sizeof(head), "exits per %s", r->w.unit);
	fprintf(out, "\n%-40s %24s %24s %8s %10s %10s\n", head, "A median [min..max]",
		"B median [min..max]", "B/A", "A per s", "B per s");
	table_counts(r, CMP_REASON, "by reason (KVM_EXIT_*; (all) is every exit)", out);
	table_counts(r, CMP_DEVICE, "by device (PIO and MMIO exits; a device's regions summed)",
		     out);
	table_counts(r, CMP_REGISTER, "by register and direction", out);
	table_time(r, out);
	snprintf(head, sizeof(head), "\nkernel counters (KVM stats fd, summed over vCPUs), per %s",
		 r->w.unit);
	table_counts(r, CMP_KVM, head, out);
	snprintf(head, sizeof(head), "\ndevices' own counters (kicks and interrupts per queue), "
		 "per %s", r->w.unit);
	table_counts(r, CMP_DEVREP, head, out);
	for (unsigned s = 0; s < 2; s++)
		for (unsigned p = 0; p < r->side[s].nr_paths; p++)
			fprintf(out, "  %c %s: %s\n", "AB"[s], r->side[s].paths[p].device,
				r->side[s].paths[p].path);
	cmp_verdict(r, &v);
	fprintf(out, "\nverdict: %s\n", v.text);
}

/* ---- JSON ---- */

static void json_number(FILE *out, double x)
{
	if (isnan(x) || isinf(x))
		fputs("null", out);
	else
		fprintf(out, "%.10g", x);
}

/* , "key": [A, B] */
static void json_pair(FILE *out, const char *key, const double v[2])
{
	fprintf(out, ", \"%s\": [", key);
	json_number(out, v[0]);
	fputs(", ", out);
	json_number(out, v[1]);
	fputc(']', out);
}

static void json_stat(FILE *out, const struct cmp_stat *st)
{
	if (!st->n) {
		fputs("null", out);
		return;
	}
	fputs("{\"median\": ", out);
	json_number(out, st->median);
	fputs(", \"min\": ", out);
	json_number(out, st->min);
	fputs(", \"max\": ", out);
	json_number(out, st->max);
	fprintf(out, ", \"n\": %u}", st->n);
}

static void json_side_row(const struct cmp_result *r, const struct cmp_row *row, unsigned s,
			  FILE *out)
{
	static const struct {
		const char *key;
		enum cmp_qty q;
		enum cmp_scale scale;
	} fields[] = {
		{ "count", CMP_COUNT, CMP_RAW },
		{ "per_unit", CMP_COUNT, CMP_PER_UNIT },
		{ "per_s", CMP_COUNT, CMP_PER_S },
		{ "time_ns_per_unit", CMP_TIME_NS, CMP_PER_UNIT },
		{ "avg_ns", CMP_AVG_NS, CMP_RAW },
		{ "p99_ns", CMP_P99_NS, CMP_RAW },
	};
	bool timed = row->section == CMP_REASON || row->section == CMP_DEVICE;

	if (!row->seen[s]) {
		fputs("null", out);
		return;
	}
	fputc('{', out);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct cmp_stat st = { .n = 0 };

		if (timed || fields[i].q == CMP_COUNT)
			cmp_row_stat(r, row, s, fields[i].q, fields[i].scale, &st);
		fprintf(out, "%s\"%s\": ", i ? ", " : "", fields[i].key);
		json_stat(out, &st);
	}
	fputc('}', out);
}

int cmp_write_json(const struct cmp_result *r, FILE *out)
{
	struct cmp_verdict v;

	cmp_verdict(r, &v);
	fprintf(out, "{\n  \"version\": 1,\n  \"qlite_version\": ");
	json_write_str(out, QLITE_VERSION);
	fprintf(out, ",\n  \"workload\": {\"spec\": ");
	json_write_str(out, r->w.spec);
	fprintf(out, ", \"name\": ");
	json_write_str(out, r->w.name);
	fprintf(out, ", \"unit\": ");
	json_write_str(out, r->w.unit);
	fprintf(out, ", \"units_per_run\": ");
	json_number(out, r->w.units);
	fprintf(out, ", \"count\": %llu, \"size\": %llu, \"until\": ",
		(unsigned long long)r->w.count, (unsigned long long)r->w.size);
	if (r->w.until)
		json_write_str(out, r->w.until);
	else
		fputs("null", out);
	fprintf(out, ", \"what\": ");
	json_write_str(out, r->w.what);
	fprintf(out, "},\n  \"runs\": %u,\n  \"sides\": [", r->runs);
	for (unsigned s = 0; s < 2; s++) {
		const struct cmp_side *side = &r->side[s];
		struct cmp_stat el;

		cmp_stat_of(side->elapsed_s, side->runs, &el);
		fprintf(out, "%s\n    {\"side\": \"%c\", \"config\": ", s ? "," : "", "AB"[s]);
		json_write_str(out, side->config);
		fprintf(out, ", \"label\": ");
		json_write_str(out, side->label);
		fprintf(out, ", \"words\": ");
		json_write_str(out, side->words);
		fprintf(out, ", \"runs\": %u, \"elapsed_s\": ", side->runs);
		json_stat(out, &el);
		fprintf(out, ", \"paths\": [");
		for (unsigned p = 0; p < side->nr_paths; p++) {
			fprintf(out, "%s{\"device\": ", p ? ", " : "");
			json_write_str(out, side->paths[p].device);
			fprintf(out, ", \"path\": ");
			json_write_str(out, side->paths[p].path);
			fputc('}', out);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "\n  ],\n  \"rows\": [");
	for (unsigned i = 0; i < r->nr_rows; i++) {
		const struct cmp_row *row = &r->rows[i];

		fprintf(out, "%s\n    {\"section\": \"%s\", \"name\": ", i ? "," : "",
			cmp_section_name(row->section));
		json_write_str(out, row->name);
		fprintf(out, ", \"a\": ");
		json_side_row(r, row, 0, out);
		fprintf(out, ", \"b\": ");
		json_side_row(r, row, 1, out);
		fprintf(out, ", \"ratio\": {\"per_unit\": ");
		json_number(out, cmp_ratio(r, row, CMP_COUNT));
		fprintf(out, ", \"time_per_unit\": ");
		json_number(out, cmp_ratio(r, row, CMP_TIME_NS));
		fprintf(out, "}}");
	}
	fprintf(out, "\n  ],\n  \"verdict\": {\"text\": ");
	json_write_str(out, v.text);
	json_pair(out, "exits_per_unit", v.exits);
	json_pair(out, "time_ns_per_unit", v.time_ns);
	json_pair(out, "device_exits_per_unit", v.dev_exits);
	json_pair(out, "device_time_ns_per_unit", v.dev_time_ns);
	fprintf(out, ", \"exits_factor\": ");
	json_number(out, v.exits_factor);
	fprintf(out, ", \"time_factor\": ");
	json_number(out, v.time_factor);
	fprintf(out, "}\n}\n");
	return ferror(out) ? -EIO : 0;
}
