// SPDX-License-Identifier: GPL-2.0-only
/*
 * qlite compare without KVM: statistics over runs, the JSON reader, the
 * workloads' test guest words, exit reports set side by side, the JSON
 * written back, and the SVG (its bars are checked by compare_svg_test.py,
 * which runs this program as `test_compare svg DIR`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/compare.h"
#include "qlite/vm_spec.h"

static void test_stat_median_spread(void **state)
{
	const double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 10 };
	const double gaps[] = { NAN, 7, NAN, 2 };
	struct cmp_stat st;

	cmp_stat_of(odd, 3, &st);
	assert_int_equal(st.n, 3);
	assert_true(st.median == 3 && st.min == 1 && st.max == 5);
	cmp_stat_of(even, 4, &st);
	assert_true(st.median == 3.5 && st.min == 1 && st.max == 10);
	/* Runs that did not measure it are left out, not counted as 0. */
	cmp_stat_of(gaps, 4, &st);
	assert_int_equal(st.n, 2);
	assert_true(st.median == 4.5 && st.min == 2 && st.max == 7);
	cmp_stat_of(gaps, 1, &st);
	assert_int_equal(st.n, 0);
	assert_true(isnan(st.median) && isnan(st.min) && isnan(st.max));
}

static void test_json_reader(void **state)
{
	static const char text[] =
		" {\"a\": [1, -2.5e1, true, false, null], \"s\": \"x\\\"y\\\\z\\n\\u0041\\u00e9\","
		"  \"o\": {\"k\": {}}, \"e\": []} ";
	struct json j;
	const struct json *a;
	char err[128];

	assert_int_equal(json_parse(text, strlen(text), &j, err, sizeof(err)), 0);
	a = json_get(&j, "a");
	assert_non_null(a);
	assert_int_equal(a->type, JSON_ARRAY);
	assert_int_equal(a->n, 5);
	assert_true(a->items[0].num == 1 && a->items[1].num == -25);
	assert_true(a->items[2].type == JSON_BOOL && a->items[2].num == 1);
	assert_true(a->items[3].type == JSON_BOOL && a->items[3].num == 0);
	assert_int_equal(a->items[4].type, JSON_NULL);
	assert_string_equal(json_str_of(&j, "s"), "x\"y\\z\nA?");
	assert_int_equal(json_get(json_get(&j, "o"), "k")->type, JSON_OBJECT);
	assert_int_equal(json_get(&j, "e")->n, 0);
	assert_null(json_get(&j, "missing"));
	assert_true(json_num(&j, "s", 42) == 42);
	json_free(&j);

	static const char *const bad[] = {
		"", "{", "[1,]", "{\"a\" 1}", "{\"a\": 1,}", "\"unterminated", "[1] x",
		"tru", "01x", "{\"a\": \"\\q\"}", "[\"\\u12\"]", "[nan]", "{1: 2}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(json_parse(bad[i], strlen(bad[i]), &j, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "offset"));
	}
	/* Nesting is bounded: no stack to exhaust. */
	{
		char deep[200];

		memset(deep, '[', sizeof(deep));
		assert_int_equal(json_parse(deep, sizeof(deep), &j, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "nested"));
	}
}

/* A spec with the given vdevs (type, then key, value pairs, NULL-terminated). */
static void spec_add(struct vm_spec *spec, const char *type, ...)
{
	struct vdev_spec *vs;
	va_list ap;
	const char *k;

	spec->vdevs = realloc(spec->vdevs, (spec->nr_vdevs + 1) * sizeof(*spec->vdevs));
	assert_non_null(spec->vdevs);
	vs = &spec->vdevs[spec->nr_vdevs++];
	memset(vs, 0, sizeof(*vs));
	vs->type = strdup(type);
	va_start(ap, type);
	while ((k = va_arg(ap, const char *))) {
		vs->opts[vs->nr_opts].key = strdup(k);
		vs->opts[vs->nr_opts++].value = strdup(va_arg(ap, const char *));
	}
	va_end(ap);
}

static void words_for(const char *workload, struct vm_spec *spec, bool nic, const char *want)
{
	struct cmp_workload w;
	struct cmp_device dev;
	char why[160], words[CMP_WORDS_MAX];

	assert_int_equal(cmp_workload_parse(&w, workload, NULL, why, sizeof(why)), 0);
	assert_int_equal(w.nic, nic);
	assert_int_equal(cmp_find_device(spec, w.nic, &dev, why, sizeof(why)), 0);
	assert_int_equal(cmp_workload_words(&w, &dev, words, sizeof(words)), 0);
	assert_string_equal(words, want);
}

static void test_workload_words(void **state)
{
	struct vm_spec ide, vblk, mmio, mmio2, e1000, vnet_mmio, none;
	struct cmp_workload w;
	struct cmp_device dev;
	char why[160];

	vm_spec_init(&ide);
	vm_spec_init(&vblk);
	vm_spec_init(&mmio);
	vm_spec_init(&mmio2);
	vm_spec_init(&e1000);
	vm_spec_init(&vnet_mmio);
	vm_spec_init(&none);
	spec_add(&ide, "pvpanic-pci", NULL);
	spec_add(&ide, "ide", "file", "d.img", NULL);
	spec_add(&vblk, "virtio-blk", "file", "d.img", NULL);
	/* The second mmio transport without addr takes the first slot the first left free. */
	spec_add(&mmio, "virtio-blk", "transport", "mmio", "addr", "0xfed00000", "file", "x", NULL);
	spec_add(&mmio, "virtio-blk", "transport", "mmio", "file", "y", NULL);
	spec_add(&e1000, "e1000", "backend", "slirp", NULL);
	spec_add(&vnet_mmio, "virtio-net", "transport", "mmio", NULL);
	spec_add(&none, "pvpanic-pci", NULL);

	words_for("blk-write:4M", &ide, false, "flushed ide-dma=8192,128");
	words_for("blk-write", &vblk, false, "flushed vblk=64,65536");
	words_for("blk-read:1M,128K", &vblk, false, "vblk=8,131072");
	words_for("blk-read:1M,4K", &mmio, false, "vblk-mmio=0xfed00000,256,4096");
	words_for("net-tx:10000,1514", &e1000, true, "nic=e1000 net-tx=10000,1514");
	words_for("net-echo:5", &vnet_mmio, true, "nic=virtio-mmio:0xfed00000 net-echo=5,64");
	words_for("net-rx", &e1000, true, "nic=e1000 net-rx=1000");
	/* An mmio disk without addr: the first slot no other one claims. */
	spec_add(&mmio2, "virtio-blk", "transport", "mmio", "file", "x", NULL);
	spec_add(&mmio2, "virtio-blk", "transport", "mmio", "addr", "0xfed00000", "file", "y",
		 NULL);
	assert_int_equal(cmp_find_device(&mmio2, false, &dev, why, sizeof(why)), 0);
	assert_int_equal(dev.vdev, 0);
	assert_int_equal(dev.addr, 0xfed01000);
	assert_string_equal(dev.kind, "virtio-blk-mmio");
	assert_string_equal(dev.regions, "virtio-blk");
	vm_spec_free(&mmio2);

	assert_int_equal(cmp_workload_parse(&w, "blk-write:4M", NULL, why, sizeof(why)), 0);
	assert_string_equal(w.unit, "MiB");
	assert_true(w.units == 4);
	assert_string_equal(w.until, "qlite-test-guest: flushed");
	assert_true(cmp_workload_image_size(&w) >= 4u << 20);
	assert_int_equal(cmp_workload_parse(&w, "blk-read:4M", NULL, why, sizeof(why)), 0);
	assert_true(w.units == 8);	/* written and read back */
	assert_null(w.until);
	assert_int_equal(cmp_workload_parse(&w, "net-tx:100,60", NULL, why, sizeof(why)), 0);
	assert_true(w.units == 100 && w.size == 60);
	assert_string_equal(w.unit, "frame");
	assert_int_equal(cmp_workload_parse(&w, NULL, "Run /init", why, sizeof(why)), 0);
	assert_string_equal(w.name, "boot");
	assert_string_equal(w.until, "Run /init");
	assert_true(w.units == 1);

	static const char *const bad[] = {
		"blk-wrote", "blk-write:0", "blk-write:4M,1000", "blk-write:4M,256K",
		"blk-write:1000K,64K", "net-tx:x", "net-tx:10,70000", "blk-write:2G", "net-tx:10,59",
		"net-echo:1,1515",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cmp_workload_parse(&w, bad[i], NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(cmp_workload_parse(&w, "blk-write", "line", why, sizeof(why)), -EINVAL);

	assert_int_equal(cmp_find_device(&none, false, &dev, why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "no disk"));
	assert_int_equal(cmp_find_device(&ide, true, &dev, why, sizeof(why)), -ENODEV);
	assert_int_equal(cmp_find_device(&e1000, false, &dev, why, sizeof(why)), -ENODEV);

	vm_spec_free(&ide);
	vm_spec_free(&vblk);
	vm_spec_free(&mmio);
	vm_spec_free(&e1000);
	vm_spec_free(&vnet_mmio);
	vm_spec_free(&none);
}

/*
 * An exit report as `qlite run --stats-json` writes it (docs/stats.md),
 * with the numbers that matter here: io exits of a disk device, a uart.
 */
static char *make_report(double elapsed, double dev_exits, const char *dev, double dev_avg,
			 double uart_exits, const char *extra)
{
	double io = dev_exits + uart_exits;
	char *s;

	assert_true(asprintf(&s,
		"{\"version\": 2, \"qlite_version\": \"0.1.0\", \"vm\": null, \"elapsed_s\": %g,"
		" \"accounting\": true, \"exits\": %g, \"interrupted\": 0,"
		" \"vcpus\": [{\"vcpu\": 0, \"exits\": %g, \"reasons\": {"
		"   \"io\": {\"exits\": %g, \"handler\": {\"count\": %g, \"avg_ns\": %g,"
		"            \"p50_ns\": 100, \"p99_ns\": %g, \"max_ns\": 90000}}}}],"
		" \"devices\": ["
		"  {\"device\": \"uart8250\", \"bus\": \"pio\", \"base\": 1016, \"size\": 8,"
		"   \"reads\": %g, \"writes\": 0, \"transfers\": 0,"
		"   \"handler\": {\"count\": %g, \"avg_ns\": 1000, \"p50_ns\": 900, \"p99_ns\": 2000,"
		"                \"max_ns\": 3000},"
		"   \"registers\": [{\"register\": \"LSR\", \"offset\": 5, \"dir\": \"read\","
		"                    \"exits\": %g}], \"other_reads\": 0, \"other_writes\": 0},"
		"  {\"device\": \"%s\", \"bus\": \"pio\", \"base\": 496, \"size\": 8,"
		"   \"reads\": 0, \"writes\": %g, \"transfers\": 0,"
		"   \"handler\": {\"count\": %g, \"avg_ns\": %g, \"p50_ns\": 900, \"p99_ns\": 5000,"
		"                \"max_ns\": 6000},"
		"   \"registers\": [{\"register\": \"CMD\", \"offset\": 7, \"dir\": \"write\","
		"                    \"exits\": %g}], \"other_reads\": 0, \"other_writes\": 3}"
		" ],"
		" \"unclaimed\": {\"pio_reads\": 0, \"pio_writes\": 0, \"mmio_reads\": 0,"
		"                \"mmio_writes\": 0},"
		" \"kvm_stats\": {\"available\": true, \"vm\": {},"
		"                \"vcpus\": [{\"exits\": %g, \"io_exits\": 0}]}%s}",
		elapsed, io, io, io, io, (uart_exits * 1000 + dev_exits * dev_avg) / io, 4000.0,
		uart_exits, uart_exits, uart_exits, dev, dev_exits, dev_exits, dev_avg, dev_exits,
		io * 2, extra ? extra : "") > 0);
	return s;
}

static void add_report(struct cmp_result *r, unsigned side, char *text)
{
	struct json j;
	char why[160];

	assert_int_equal(json_parse(text, strlen(text), &j, why, sizeof(why)), 0);
	assert_int_equal(cmp_add_run(r, side, &j, why, sizeof(why)), 0);
	json_free(&j);
	free(text);
}

static const char devreport[] =
	", \"device_reports\": [{\"name\": \"virtio-blk\", \"path\": \"kicks ioeventfd (KVM)\","
	"  \"counters\": {\"q0.kicks\": 64, \"q0.interrupts\": 0}}]";

/* A: ide, 1000 and 1200 device exits (and 100 uart) a run; B: virtio-blk, 10 and 14. */
static void make_result(struct cmp_result *r, unsigned runs, double scale_a, double scale_b)
{
	struct cmp_workload w;
	char why[160];

	assert_int_equal(cmp_workload_parse(&w, "blk-write:4M", NULL, why, sizeof(why)), 0);
	cmp_result_init(r, &w, runs);
	snprintf(r->side[0].label, sizeof(r->side[0].label), "ide");
	snprintf(r->side[0].regions, sizeof(r->side[0].regions), "ide-|piix3-ide");
	snprintf(r->side[1].label, sizeof(r->side[1].label), "virtio-blk-pci");
	snprintf(r->side[1].regions, sizeof(r->side[1].regions), "virtio-blk");
	for (unsigned k = 0; k < runs; k++) {
		add_report(r, 0, make_report(0.5 + k * 0.5, (1000 + 200 * k) * scale_a, "ide-primary",
					     20000, 100, NULL));
		add_report(r, 1, make_report(0.25, (10 + 4 * k) * scale_b, "virtio-blk", 500, 100,
					     devreport));
	}
}

static void test_result_rows(void **state)
{
	struct cmp_result r;
	const struct cmp_row *row;
	struct cmp_stat st;
	struct cmp_verdict v;
	struct json bad;
	char why[160];

	make_result(&r, 2, 1, 1);
	row = cmp_row_find(&r, CMP_DEVICE, "ide-primary");
	assert_non_null(row);
	assert_true(row->seen[0] && !row->seen[1]);
	cmp_row_stat(&r, row, 0, CMP_COUNT, CMP_RAW, &st);
	assert_true(st.median == 1100 && st.min == 1000 && st.max == 1200 && st.n == 2);
	cmp_row_stat(&r, row, 0, CMP_COUNT, CMP_PER_UNIT, &st);	/* 4 MiB a run */
	assert_true(st.median == 275 && st.min == 250 && st.max == 300);
	cmp_row_stat(&r, row, 0, CMP_COUNT, CMP_PER_S, &st);	/* 1000/0.5 s, 1200/1 s */
	assert_true(st.min == 1200 && st.max == 2000 && st.median == 1600);
	cmp_row_stat(&r, row, 0, CMP_AVG_NS, CMP_RAW, &st);
	assert_true(st.median == 20000);
	cmp_row_stat(&r, row, 1, CMP_COUNT, CMP_PER_UNIT, &st);
	assert_int_equal(st.n, 0);				/* B has no IDE */
	assert_true(isnan(cmp_ratio(&r, row, CMP_COUNT)));

	/* The compared devices under one name: ide-primary on A, virtio-blk on B. */
	row = cmp_row_find(&r, CMP_DEVICE, "(compared)");
	assert_non_null(row);
	assert_true(fabs(cmp_ratio(&r, row, CMP_COUNT) - 12.0 / 1100) < 1e-12);
	/* The uart is on both: the same exits, B/A 1. */
	row = cmp_row_find(&r, CMP_REGISTER, "uart8250 LSR read");
	assert_true(cmp_ratio(&r, row, CMP_COUNT) == 1);
	assert_non_null(cmp_row_find(&r, CMP_REGISTER, "ide-primary (other) write"));
	row = cmp_row_find(&r, CMP_REASON, "(all)");
	cmp_row_stat(&r, row, 1, CMP_COUNT, CMP_RAW, &st);
	assert_true(st.median == 112);
	/* Time: (100 x 1000 + 10 x 500) ns and (100 x 1000 + 14 x 500) ns. */
	cmp_row_stat(&r, row, 1, CMP_TIME_NS, CMP_RAW, &st);
	assert_true(fabs(st.median - 106000) < 1);	/* through %g's 6 digits */
	row = cmp_row_find(&r, CMP_KVM, "exits");
	cmp_row_stat(&r, row, 0, CMP_COUNT, CMP_RAW, &st);
	assert_true(st.median == 2400);
	row = cmp_row_find(&r, CMP_DEVREP, "virtio-blk q0.kicks");
	assert_non_null(row);
	assert_true(row->seen[1] && !row->seen[0]);
	cmp_row_stat(&r, row, 1, CMP_COUNT, CMP_PER_UNIT, &st);
	assert_true(st.median == 16);
	assert_int_equal(r.side[1].nr_paths, 1);
	assert_string_equal(r.side[1].paths[0].path, "kicks ioeventfd (KVM)");

	cmp_verdict(&r, &v);
	assert_true(fabs(v.exits[0] - 1200.0 / 4) < 1e-9 && fabs(v.exits[1] - 112.0 / 4) < 1e-9);
	assert_true(fabs(v.exits_factor - 1200.0 / 112) < 1e-9);
	assert_non_null(strstr(v.text, "virtio-blk-pci against ide: 10.7x fewer exits per MiB"));
	assert_non_null(strstr(v.text, "less time in qlite's handlers"));
	assert_non_null(strstr(v.text, "the devices alone: 91.7x fewer exits"));

	/* Reports compare cannot use. */
	assert_int_equal(json_parse("{\"version\": 1}", 14, &bad, why, sizeof(why)), 0);
	assert_int_equal(cmp_add_run(&r, 0, &bad, why, sizeof(why)), -EINVAL);
	json_free(&bad);
	assert_int_equal(json_parse("{\"version\": 2, \"vcpus\": [], \"accounting\": false}", 48,
				    &bad, why, sizeof(why)), 0);
	assert_int_equal(cmp_add_run(&r, 0, &bad, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "accounting off"));
	json_free(&bad);
	cmp_result_free(&r);
}

static const struct json *find_row(const struct json *rows, const char *section,
				   const char *name)
{
	for (unsigned i = 0; i < rows->n; i++)
		if (!strcmp(json_str_of(&rows->items[i], "section"), section) &&
		    !strcmp(json_str_of(&rows->items[i], "name"), name))
			return &rows->items[i];
	return NULL;
}

static void test_json_writer(void **state)
{
	struct cmp_result r;
	const struct json *rows, *row, *a, *b, *v;
	struct json j;
	char *buf, why[160];
	size_t len;
	FILE *f;

	make_result(&r, 3, 1, 1);
	snprintf(r.side[0].config, sizeof(r.side[0].config), "a \"quoted\".conf");
	f = open_memstream(&buf, &len);
	assert_int_equal(cmp_write_json(&r, f), 0);
	fclose(f);
	assert_int_equal(json_parse(buf, len, &j, why, sizeof(why)), 0);
	assert_true(json_num(&j, "version", 0) == 1);
	assert_string_equal(json_str_of(json_get(&j, "workload"), "unit"), "MiB");
	assert_true(json_num(json_get(&j, "workload"), "units_per_run", 0) == 4);
	assert_true(json_num(&j, "runs", 0) == 3);
	assert_string_equal(json_str_of(&json_get(&j, "sides")->items[0], "config"),
			    "a \"quoted\".conf");
	rows = json_get(&j, "rows");
	row = find_row(rows, "device", "ide-primary");
	assert_non_null(row);
	a = json_get(row, "a");
	assert_true(json_num(json_get(a, "per_unit"), "median", 0) == 300);	/* 1200 / 4 */
	assert_true(json_num(json_get(a, "per_unit"), "min", 0) == 250);
	assert_true(json_num(json_get(a, "per_unit"), "max", 0) == 350);
	assert_true(json_num(json_get(a, "count"), "n", 0) == 3);
	assert_true(json_num(json_get(a, "avg_ns"), "median", 0) == 20000);
	assert_int_equal(json_get(row, "b")->type, JSON_NULL);
	assert_int_equal(json_get(json_get(row, "ratio"), "per_unit")->type, JSON_NULL);
	row = find_row(rows, "register", "uart8250 LSR read");
	assert_true(json_num(json_get(row, "ratio"), "per_unit", 0) == 1);
	b = json_get(row, "b");
	assert_int_equal(json_get(b, "avg_ns")->type, JSON_NULL);	/* registers: no time */
	row = find_row(rows, "device_report", "virtio-blk q0.kicks");
	assert_true(json_num(json_get(json_get(row, "b"), "per_unit"), "median", 0) == 16);
	v = json_get(&j, "verdict");
	assert_non_null(strstr(json_str_of(v, "text"), "fewer exits per MiB"));
	assert_true(json_num(v, "exits_factor", 0) > 1);
	v = json_get(&json_get(&j, "sides")->items[1], "paths");
	assert_string_equal(json_str_of(&v->items[0], "path"), "kicks ioeventfd (KVM)");
	json_free(&j);
	free(buf);

	/* The table: every section, B/A, the verdict. */
	f = open_memstream(&buf, &len);
	cmp_write_table(&r, f);
	fclose(f);
	assert_non_null(strstr(buf, "exits per MiB"));
	assert_non_null(strstr(buf, "ide-primary CMD write"));
	assert_non_null(strstr(buf, "300 [250..350]"));
	assert_non_null(strstr(buf, "kernel counters (KVM stats fd"));
	assert_non_null(strstr(buf, "virtio-blk q0.kicks"));
	assert_non_null(strstr(buf, "B virtio-blk: kicks ioeventfd (KVM)"));
	assert_non_null(strstr(buf, "\nverdict: virtio-blk-pci against ide: "));
	free(buf);
	cmp_result_free(&r);
}

/* `test_compare svg DIR`: DIR/linear.{svg,json} and DIR/log.{svg,json} for compare_svg_test.py. */
static int write_svgs(const char *dir)
{
	static const struct {
		const char *name;
		double scale_a, scale_b;	/* values spanning 17x, and 1500x */
	} cases[] = { { "linear", 0.05, 1 }, { "log", 1, 0.1 } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmp_result r;
		char path[4096];
		FILE *f;

		make_result(&r, 3, cases[i].scale_a, cases[i].scale_b);
		snprintf(path, sizeof(path), "%s/%s.svg", dir, cases[i].name);
		f = fopen(path, "w");
		if (!f || cmp_write_svg(&r, f) || fclose(f))
			return 1;
		snprintf(path, sizeof(path), "%s/%s.json", dir, cases[i].name);
		f = fopen(path, "w");
		if (!f || cmp_write_json(&r, f) || fclose(f))
			return 1;
		cmp_result_free(&r);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_median_spread),
		cmocka_unit_test(test_json_reader),
		cmocka_unit_test(test_workload_words),
		cmocka_unit_test(test_result_rows),
		cmocka_unit_test(test_json_writer),
	};

	if (argc == 3 && !strcmp(argv[1], "svg"))
		return write_svgs(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
