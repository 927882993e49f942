// SPDX-License-Identifier: GPL-2.0-only
/* Exit accounting: histograms, per-register attribution, and the three report formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <asm/svm.h>
#include <asm/vmx.h>

#include "qlite/bus.h"
#include "qlite/machine.h"
#include "qlite/stats.h"

static void test_hist_buckets_and_quantiles(void **state)
{
	struct stats_hist h;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 98; i++)
		stats_hist_add(&h, 100);	/* bucket 6: [64, 128) */
	stats_hist_add(&h, 5000);		/* bucket 12 */
	stats_hist_add(&h, 0);			/* bucket 0 */
	assert_int_equal(h.count, 100);
	assert_int_equal(h.bucket[6], 98);
	assert_int_equal(h.bucket[12], 1);
	assert_int_equal(h.bucket[0], 1);
	assert_int_equal(h.sum, 98 * 100 + 5000);
	assert_int_equal(h.max, 5000);
	/* Interpolated in bucket 6: rank 50 is 49 of its 98 samples in, half way from 64 to 128. */
	assert_int_equal(stats_hist_quantile(&h, 0.5), 96);
	assert_int_equal(stats_hist_quantile(&h, 0.99), 128);
	assert_int_equal(stats_hist_quantile(&h, 1.0), 5000);	/* the bucket of the max ends at it */
	stats_hist_add(&h, UINT64_MAX);				/* clamps to the last bucket */
	assert_int_equal(h.bucket[STATS_HIST_BUCKETS - 1], 1);
}

/* Samples spread over one bucket: p50 near the true median and the average, not the bucket's end. */
static void test_hist_quantile_inside_bucket(void **state)
{
	struct stats_hist h;
	double p50, p99, avg;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 1000; i++)
		stats_hist_add(&h, 16384 + i * 16);	/* bucket 14: [16384, 32768) */
	avg = (double)h.sum / h.count;
	p50 = stats_hist_quantile(&h, 0.5);
	p99 = stats_hist_quantile(&h, 0.99);
	assert_true(p50 > 24384 * 0.99 && p50 < 24384 * 1.01);	/* true median 24384 */
	assert_true(p50 < avg * 1.01);
	assert_true(p99 > 32224 * 0.99 && p99 <= h.max);	/* true p99 32224 */
	assert_true(stats_hist_quantile(&h, 0.0) >= 16384);
}

static uint8_t regs[16];

static void fake_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memcpy(data, regs + off, len);
}

static void fake_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	memcpy(regs + off, data, len);
}

static const char *fake_reg_name(void *opaque, uint64_t off)
{
	return off == 0 ? "DATA" : off == 4 ? "CTRL" : NULL;
}

static const struct bus_ops fake_ops = {
	.read = fake_read, .write = fake_write, .reg_name = fake_reg_name,
};

struct fixture {
	struct bus *bus[BUS_NR_SPACES];
	struct vcpu_stats *vcpu[2];
	struct stats_view view;
	int id;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->bus[BUS_PIO] = bus_create(BUS_PIO);
	f->bus[BUS_MMIO] = bus_create(BUS_MMIO);
	f->id = bus_register(f->bus[BUS_PIO], 0x500, 16, "dev \"q\"", &fake_ops, NULL);
	f->vcpu[0] = calloc(1, sizeof(struct vcpu_stats));
	f->vcpu[1] = calloc(1, sizeof(struct vcpu_stats));
	f->view = (struct stats_view){
		.nr_vcpus = 2, .vcpu = f->vcpu, .bus = { f->bus[0], f->bus[1] },
		.elapsed_s = 2.0, .tsc_per_ns = 2.0, .tuning = "quirks off", .vm_name = "test vm",
		.wall_time = 1700000000.25,
		.kvm_why = "not opened in a unit test",
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 2; i++) {
		vcpu_stats_free(f->vcpu[i]);
		free(f->vcpu[i]);
	}
	bus_destroy(f->bus[0]);
	bus_destroy(f->bus[1]);
	free(f);
	return 0;
}

/* What the vCPU loop does for one PIO exit. */
static void pio_exit(struct fixture *f, int vcpu, uint16_t port, bool write, uint32_t count)
{
	uint8_t data[4] = { 0 };
	const struct bus_region *r = bus_dispatch(f->bus[BUS_PIO], port, data, 1, write);
	struct region_stats *rs;

	stat_add(&f->vcpu[vcpu]->exits, 1);
	stat_add(&f->vcpu[vcpu]->reason[2], 1);		/* KVM_EXIT_IO */
	stats_count_access(f->vcpu[vcpu], BUS_PIO, r, port, write, count, &rs);
	stats_hist_add(&f->vcpu[vcpu]->reason_time[2], 1000);
	if (rs)
		stats_hist_add(&rs->time, 1000);
}

static void fill(struct fixture *f)
{
	for (int i = 0; i < 1000; i++)
		pio_exit(f, 0, 0x500, true, 1);
	for (int i = 0; i < 500; i++)
		pio_exit(f, 1, 0x504, false, 1);
	pio_exit(f, 1, 0x504, false, 64);	/* a string PIO: one exit, 64 transfers */
	for (int i = 0; i < 7; i++)
		pio_exit(f, 0, 0x2e0, false, 1);	/* nobody's port */
}

static void test_attribution(void **state)
{
	struct fixture *f = *state;
	struct region_stats *rs;

	fill(f);
	rs = f->vcpu[0]->region[BUS_PIO][f->id];
	assert_non_null(rs);
	assert_int_equal(rs->count[1], 1000);
	assert_int_equal(f->vcpu[0]->unclaimed[BUS_PIO][0], 7);
	rs = f->vcpu[1]->region[BUS_PIO][f->id];
	assert_int_equal(rs->count[0], 501);
	assert_int_equal(rs->transfers[0], 564);
	assert_int_equal(rs->time.count, 501);
}

static void test_register_table_overflow(void **state)
{
	struct fixture *f = *state;
	struct region_stats *rs;
	struct bus_region big = { .id = 7, .base = 0, .len = 4096, .name = "big", .ops = &fake_ops };

	/* More distinct registers than slots: the rest is counted, as "other". */
	for (unsigned off = 0; off < STATS_REG_SLOTS + 10; off++)
		stats_count_access(f->vcpu[0], BUS_MMIO, &big, off * 4, true, 1, &rs);
	assert_int_equal(rs->count[1], STATS_REG_SLOTS + 10);
	assert_int_equal(rs->other[1], 10);
}

/* A small recursive-descent JSON checker: the report must parse back. */
static const char *json_value(const char *p);

static const char *ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if (*p == '\\') {
			p++;
			if (!*p)
				return NULL;
		} else if ((unsigned char)*p < 0x20) {
			return NULL;
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *json_list(const char *p, char close, bool object)
{
	p = ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (object) {
			p = json_string(ws(p));
			if (!p || *(p = ws(p)) != ':')
				return NULL;
			p++;
		}
		p = json_value(p);
		if (!p)
			return NULL;
		p = ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *p)
{
	char *end;

	p = ws(p);
	if (*p == '{')
		return json_list(p, '}', true);
	if (*p == '[')
		return json_list(p, ']', false);
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	/* JSON numbers only: strtod would also take nan, inf and hex. */
	if (*p != '-' && !isdigit((unsigned char)*p))
		return NULL;
	if (p[*p == '-'] == '0' && (p[1 + (*p == '-')] == 'x' || p[1 + (*p == '-')] == 'X'))
		return NULL;
	strtod(p, &end);
	return end == p ? NULL : end;
}

static char *render(struct fixture *f, int (*writer)(const struct stats_view *, FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_int_equal(writer(&f->view, out), 0);
	fclose(out);
	return buf;
}

static void test_json_parses_back(void **state)
{
	struct fixture *f = *state;
	char *js;
	const char *end;

	fill(f);
	js = render(f, stats_write_json);
	end = json_value(js);
	assert_non_null(end);
	assert_string_equal(ws(end), "");
	assert_non_null(strstr(js, "\"version\": 3,\n  \"qlite_version\": \"" QLITE_VERSION "\",\n"
				   "  \"vm\": \"test vm\",\n  \"timestamp\": \"2023-11-14T22:13:20.250Z\",\n"));
	assert_non_null(strstr(js, "\"register\": \"DATA\", \"offset\": 0, \"dir\": \"write\", \"exits\": 1000"));
	assert_non_null(strstr(js, "\"register\": \"CTRL\", \"offset\": 4, \"dir\": \"read\", \"exits\": 501"));
	assert_non_null(strstr(js, "\"device\": \"dev \\\"q\\\"\""));	/* quotes escaped */
	assert_non_null(strstr(js, "\"pio_reads\": 7"));
	assert_non_null(strstr(js, "\"available\": false, \"why\": \"not opened in a unit test\""));
	free(js);
}

static void test_prom_grammar(void **state)
{
	struct fixture *f = *state;
	regex_t sample, comment;
	char *text, *line, *save;
	unsigned samples = 0;

	fill(f);
	text = render(f, stats_write_prom);
	assert_int_equal(regcomp(&sample,
		"^[a-zA-Z_:][a-zA-Z0-9_:]*"
		"(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\.)*\""
		"(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\.)*\")*\\})?"
		" -?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&comment, "^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$",
				 REG_EXTENDED | REG_NOSUB), 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			if (regexec(&comment, line, 0, NULL, 0))
				fail_msg("bad comment line: %s", line);
			continue;
		}
		if (regexec(&sample, line, 0, NULL, 0))
			fail_msg("bad sample line: %s", line);
		samples++;
	}
	assert_true(samples > 5);
	free(text);
	text = render(f, stats_write_prom);
	/* Every series carries the VM's name; the version is the build's. */
	assert_non_null(strstr(text, "# TYPE qlite_build_info gauge\n"
				     "qlite_build_info{vm=\"test vm\",version=\"" QLITE_VERSION "\"} 1\n"));
	assert_non_null(strstr(text,
		"qlite_device_exits_total{vm=\"test vm\",vcpu=\"0\",reason=\"io\",device=\"dev \\\"q\\\"\",register=\"DATA\",dir=\"write\"} 1000\n"));
	assert_non_null(strstr(text, "qlite_unclaimed_accesses_total{vm=\"test vm\",bus=\"pio\",dir=\"read\"} 7\n"));
	assert_non_null(strstr(text, "qlite_exits_total{vm=\"test vm\",vcpu=\"1\",reason=\"io\"} 501\n"));
	/*
	 * Handler time as a histogram: 501 exits of 1000 cycles at 2 cycles/ns
	 * are in bucket 9, [512, 1024) cycles, so le = 1023 cycles = 511.5 ns
	 * holds them all and le = 511 cycles none; the sum is 250.5 us.
	 */
	assert_non_null(strstr(text, "# TYPE qlite_device_exit_handler_seconds histogram\n"));
	assert_non_null(strstr(text,
		"qlite_device_exit_handler_seconds_bucket{vm=\"test vm\",vcpu=\"1\",reason=\"io\",device=\"dev \\\"q\\\"\",le=\"2.555e-07\"} 0\n"
		"qlite_device_exit_handler_seconds_bucket{vm=\"test vm\",vcpu=\"1\",reason=\"io\",device=\"dev \\\"q\\\"\",le=\"5.115e-07\"} 501\n"));
	assert_non_null(strstr(text,
		"qlite_device_exit_handler_seconds_bucket{vm=\"test vm\",vcpu=\"1\",reason=\"io\",device=\"dev \\\"q\\\"\",le=\"+Inf\"} 501\n"
		"qlite_device_exit_handler_seconds_sum{vm=\"test vm\",vcpu=\"1\",reason=\"io\",device=\"dev \\\"q\\\"\"} 0.0002505\n"
		"qlite_device_exit_handler_seconds_count{vm=\"test vm\",vcpu=\"1\",reason=\"io\",device=\"dev \\\"q\\\"\"} 501\n"));
	assert_non_null(strstr(text,
		"qlite_exit_handler_seconds_bucket{vm=\"test vm\",vcpu=\"0\",reason=\"io\",le=\"+Inf\"} 1007\n"));
	/* the string PIO's 64 transfers */
	assert_non_null(strstr(text,
		"qlite_device_transfers_total{vm=\"test vm\",vcpu=\"1\",reason=\"io\",device=\"dev \\\"q\\\"\",dir=\"read\"} 564\n"));
	assert_non_null(strstr(text, "qlite_exits_interrupted_total{vm=\"test vm\",vcpu=\"0\"} 0\n"));
	regfree(&sample);
	regfree(&comment);
	free(text);
}

/* A fake KVM_GET_STATS_FD reading: descriptors and values as the kernel would give them. */
struct fake_kvm_stat {
	const char *name;
	uint32_t flags;
	int16_t exponent;
	uint16_t size;
	uint64_t base, now;
};

static void fake_kvm_stats(struct kvm_binary_stats *k, const struct fake_kvm_stat *st, unsigned nr)
{
	unsigned off = 0;

	memset(k, 0, sizeof(*k));
	k->fd = -1;
	k->nr = nr;
	k->name = calloc(nr, sizeof(*k->name));
	k->flags = calloc(nr, sizeof(*k->flags));
	k->exponent = calloc(nr, sizeof(*k->exponent));
	k->offset = calloc(nr, sizeof(*k->offset));
	k->size = calloc(nr, sizeof(*k->size));
	k->base = calloc(64, 8);
	k->now = calloc(64, 8);
	for (unsigned i = 0; i < nr; i++) {
		snprintf(k->name[i], sizeof(k->name[i]), "%s", st[i].name);
		k->flags[i] = st[i].flags;
		k->exponent[i] = st[i].exponent;
		k->size[i] = st[i].size;
		k->offset[i] = off * 8;
		k->base[off] = st[i].base;
		k->now[off] = st[i].now;
		off += st[i].size;
	}
	k->data_size = off * 8;
}

/* The kernel's stats as families of their own, by type and unit. */
static void test_prom_kvm_families(void **state)
{
	static const struct fake_kvm_stat vcpu_stats[] = {
		{ "exits", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE, 0, 1, 10, 110 },
		{ "halt_wait_ns", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS | KVM_STATS_BASE_POW10,
		  -9, 1, 0, 1500000000 },
		{ "blocking", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN, 0, 1, 0, 1 },
		{ "halt_wait_hist", KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS, -9, 32, 0, 0 },
	}, vm_stats[] = {
		{ "pages_4k", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_NONE, 0, 1, 0, 512 },
		{ "max_mmu_rmap_size", KVM_STATS_TYPE_PEAK | KVM_STATS_UNIT_NONE, 0, 1, 0, 9 },
		{ "remote_tlb_flush", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE, 0, 1, 5, 8 },
	};
	struct fixture *f = *state;
	struct kvm_binary_stats vcpus[2], vm;
	char *text;

	fake_kvm_stats(&vcpus[0], vcpu_stats, 4);
	fake_kvm_stats(&vcpus[1], vcpu_stats, 4);
	vcpus[1].now[0] = 11;
	fake_kvm_stats(&vm, vm_stats, 3);
	f->view.kvm_vcpu = vcpus;
	f->view.kvm_vm = &vm;
	text = render(f, stats_write_prom);
	assert_non_null(strstr(text, "# TYPE qlite_kvm_vcpu_exits_total counter\n"
				     "qlite_kvm_vcpu_exits_total{vm=\"test vm\",vcpu=\"0\"} 100\n"
				     "qlite_kvm_vcpu_exits_total{vm=\"test vm\",vcpu=\"1\"} 1\n"));
	assert_non_null(strstr(text, "# TYPE qlite_kvm_vcpu_halt_wait_seconds_total counter\n"
				     "qlite_kvm_vcpu_halt_wait_seconds_total{vm=\"test vm\",vcpu=\"0\"} 1.5\n"));
	assert_non_null(strstr(text, "# TYPE qlite_kvm_vcpu_blocking gauge\n"
				     "qlite_kvm_vcpu_blocking{vm=\"test vm\",vcpu=\"0\"} 1\n"));
	assert_null(strstr(text, "halt_wait_hist"));	/* the kernel's histograms are left out */
	assert_non_null(strstr(text, "# TYPE qlite_kvm_vm_pages_4k gauge\n"
				     "qlite_kvm_vm_pages_4k{vm=\"test vm\"} 512\n"));
	assert_non_null(strstr(text, "# TYPE qlite_kvm_vm_max_mmu_rmap_size gauge\n"));
	assert_non_null(strstr(text, "# TYPE qlite_kvm_vm_remote_tlb_flush_total counter\n"
				     "qlite_kvm_vm_remote_tlb_flush_total{vm=\"test vm\"} 3\n"));
	free(text);
	f->view.kvm_vcpu = NULL;
	f->view.kvm_vm = NULL;
	kvm_binary_stats_close(&vcpus[0]);	/* fd -1: frees the arrays only */
	kvm_binary_stats_close(&vcpus[1]);
	kvm_binary_stats_close(&vm);
}

static int table_writer(const struct stats_view *v, FILE *out)
{
	stats_report_table(v, out);
	return 0;
}

static void test_table_and_interval(void **state)
{
	struct fixture *f = *state;
	struct stats_interval prev;
	char *text, *buf = NULL;
	size_t len = 0;
	FILE *out;

	fill(f);
	text = render(f, table_writer);
	assert_non_null(strstr(text, "[1] userspace exits"));
	assert_non_null(strstr(text, "[2] in-kernel counters"));
	assert_non_null(strstr(text, "unavailable: not opened in a unit test"));
	assert_non_null(strstr(text, "[3] hardware exit reasons"));
	assert_non_null(strstr(text, "tuning: quirks off"));
	assert_non_null(strstr(text, "  io               "));
	free(text);

	memset(&prev, 0, sizeof(prev));
	out = open_memstream(&buf, &len);
	stats_report_interval(&f->view, &prev, 2.0, out);
	fclose(out);
	/* 1508 exits in 2 s, all io; the device took 1501 of them */
	assert_non_null(strstr(buf, "exits/s 754: io 754 | dev \"q\" 750"));
	free(buf);
}

/* A device with two regions (as the i8042's data and command ports): each row says which. */
static void test_table_names_regions(void **state)
{
	struct fixture *f = *state;
	int second = bus_register(f->bus[BUS_PIO], 0x600, 4, "dev \"q\"", &fake_ops, NULL);
	char *text;

	assert_true(second >= 0);
	fill(f);
	pio_exit(f, 0, 0x600, true, 1);
	text = render(f, table_writer);
	assert_non_null(strstr(text, "  dev \"q\"@0x500  pio  (all)"));
	assert_non_null(strstr(text, "  dev \"q\"@0x600  pio  (all)"));
	free(text);
}

/* Accounting off: reasons and unclaimed accesses still reported, times and devices not, and never as zeros. */
static void test_accounting_off(void **state)
{
	struct fixture *f = *state;
	char *text;
	const char *end;

	for (int i = 0; i < 10; i++) {
		stat_add(&f->vcpu[0]->exits, 1);
		stat_add(&f->vcpu[0]->reason[2], 1);
	}
	stat_add(&f->vcpu[0]->unclaimed[BUS_PIO][1], 3);
	f->view.accounting_off = true;

	text = render(f, table_writer);
	assert_non_null(strstr(text, "(handler time not measured: accounting off)"));
	assert_non_null(strstr(text, "not counted (accounting off); unclaimed: pio 0 reads 3 writes"));
	assert_null(strstr(text, "avg ns"));
	free(text);

	text = render(f, stats_write_json);
	end = json_value(text);
	assert_non_null(end);
	assert_string_equal(ws(end), "");
	assert_non_null(strstr(text, "\"accounting\": false"));
	/* An unnamed VM: null, not an empty name. */
	f->view.vm_name = NULL;
	free(text);
	text = render(f, stats_write_json);
	assert_non_null(strstr(text, "\"vm\": null,"));
	f->view.vm_name = "test vm";
	assert_non_null(strstr(text, "\"io\": {\"exits\": 10, \"handler\": null}"));
	assert_non_null(strstr(text, "\"pio_writes\": 3"));
	free(text);

	text = render(f, stats_write_prom);
	assert_non_null(strstr(text, "qlite_exits_total{vm=\"test vm\",vcpu=\"0\",reason=\"io\"} 10\n"));
	assert_null(strstr(text, "handler_seconds"));
	assert_null(strstr(text, "qlite_device_"));
	free(text);
}

/* ---- output files ---- */

static char out_dir[64];

static void make_out_dir(void)
{
	strcpy(out_dir, "/tmp/qlite-test-stats-XXXXXX");
	assert_non_null(mkdtemp(out_dir));
}

static char *out_path(const char *name)
{
	static char buf[4][256];
	static unsigned n;
	char *p = buf[n++ % 4];

	snprintf(p, 256, "%s/%s", out_dir, name);
	return p;
}

static unsigned count_entries(void)
{
	char cmd[320];
	FILE *ls;
	unsigned n = 0;
	int c;

	snprintf(cmd, sizeof(cmd), "ls -A %s", out_dir);
	ls = popen(cmd, "r");
	while ((c = fgetc(ls)) != EOF)
		n += c == '\n';
	pclose(ls);
	return n;
}

/* Never over what is not a regular file; no temporary file left behind, whatever happens. */
static void test_write_file(void **state)
{
	struct fixture *f = *state;
	struct rlimit old, small = { 512, 512 };
	struct stat st;

	fill(f);
	make_out_dir();
	assert_int_equal(stats_write_file(out_path("a.json"), &f->view, stats_write_json), 0);
	assert_int_equal(stat(out_path("a.json"), &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size > 100);

	assert_int_equal(mkfifo(out_path("fifo"), 0600), 0);
	assert_int_equal(stats_write_file(out_path("fifo"), &f->view, stats_write_prom), -EEXIST);
	assert_int_equal(lstat(out_path("fifo"), &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(symlink("a.json", out_path("link")), 0);
	assert_int_equal(stats_write_file(out_path("link"), &f->view, stats_write_prom), -EEXIST);
	assert_int_equal(lstat(out_path("link"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(mkdir(out_path("dir"), 0700), 0);
	assert_int_equal(stats_write_file(out_path("dir"), &f->view, stats_write_prom), -EISDIR);
	assert_int_equal(stats_write_file(out_path("none/x.prom"), &f->view, stats_write_prom), -ENOENT);

	/* A full disk, as a file size limit: the write's errno, and no half file. */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	setrlimit(RLIMIT_FSIZE, &small);
	assert_int_equal(stats_write_file(out_path("big.prom"), &f->view, stats_write_prom), -EFBIG);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(access(out_path("big.prom"), F_OK), -1);
	assert_int_equal(count_entries(), 4);	/* a.json fifo link dir: no FILE.tmp.PID */

	unlink(out_path("a.json"));
	unlink(out_path("fifo"));
	unlink(out_path("link"));
	rmdir(out_path("dir"));
	rmdir(out_dir);
}

/* FILE.tmp.PID of a PID that no longer exists goes; a live PID's, other files and non-PIDs stay. */
static void test_remove_stale_tmp(void **state)
{
	static const char *const keep[] = { "x.json.tmp.%d.more", "x.json.tmp.0%d", "y.json.tmp.%d",
					     "x.json.tmp.-%d" };
	char name[64];
	pid_t dead = fork();
	FILE *f;

	if (!dead)
		_exit(0);
	waitpid(dead, NULL, 0);		/* reaped: the PID is free */
	make_out_dir();
	snprintf(name, sizeof(name), "x.json.tmp.%d", (int)dead);
	fclose(fopen(out_path(name), "w"));
	snprintf(name, sizeof(name), "x.json.tmp.%d", (int)getppid());
	fclose(fopen(out_path(name), "w"));
	for (unsigned i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		snprintf(name, sizeof(name), keep[i], (int)dead);
		f = fopen(out_path(name), "w");
		assert_non_null(f);
		fclose(f);
	}
	assert_int_equal(stats_remove_stale_tmp(out_path("x.json")), 1);
	snprintf(name, sizeof(name), "x.json.tmp.%d", (int)dead);
	assert_int_equal(access(out_path(name), F_OK), -1);
	assert_int_equal(count_entries(), 5);
	snprintf(name, sizeof(name), "rm -r %s", out_dir);
	assert_int_equal(system(name), 0);
}

/* The interval line says when it could not be written (a log file on a full disk). */
static void test_interval_write_error(void **state)
{
	struct fixture *f = *state;
	struct stats_interval prev;
	FILE *full = fopen("/dev/full", "w");

	if (!full)
		skip();
	setvbuf(full, NULL, _IOLBF, 0);
	memset(&prev, 0, sizeof(prev));
	fill(f);
	assert_int_equal(stats_report_interval(&f->view, &prev, 1.0, full), -ENOSPC);
	assert_int_equal(stats_report_interval(&f->view, &prev, 1.0, full), -ENOSPC);	/* again, not sticky */
	fclose(full);
}

static void kvm_exit_record(uint8_t *raw, uint32_t reason, uint32_t isa)
{
	memset(raw, 0, 32);
	memcpy(raw + 8, &reason, 4);	/* offsets as a format file would give them */
	memcpy(raw + 24, &isa, 4);
}

static void test_hw_exit_records_and_names(void **state)
{
	struct hw_exit_trace t;
	uint8_t raw[32];

	memset(&t, 0, sizeof(t));
	t.reason_off = 8;
	t.isa_off = 24;
	kvm_exit_record(raw, 30, 1);			/* VMX IO_INSTRUCTION */
	hw_exit_trace_record(&t, raw, sizeof(raw));
	kvm_exit_record(raw, 0x80000021, 1);		/* VM-entry failure bit, reason 33 */
	hw_exit_trace_record(&t, raw, sizeof(raw));
	hw_exit_trace_record(&t, raw, 10);		/* truncated: ignored */
	assert_int_equal(t.isa, 1);
	assert_int_equal(t.count[30], 1);
	assert_int_equal(t.count[33], 1);
	assert_int_equal(t.total, 2);
	assert_string_equal(hw_exit_reason_name(1, 30), "IO_INSTRUCTION");
	assert_string_equal(hw_exit_reason_name(1, 49), "EPT_MISCONFIG");
	assert_string_equal(hw_exit_reason_name(1, 74), "BUS_LOCK");
	assert_string_equal(hw_exit_reason_name(1, 5), "5");		/* no such VMX reason */
	assert_string_equal(hw_exit_reason_name(2, 0x7b), "io");
	assert_string_equal(hw_exit_reason_name(2, 0x400), "npf");
	assert_string_equal(hw_exit_reason_name(2, 0x13), "write_cr3");
	/* The kernel's spellings (its trace prints these), not qlite's own. */
	assert_string_equal(hw_exit_reason_name(2, 0x45), "BR excp");
	assert_string_equal(hw_exit_reason_name(2, 0x60), "interrupt");
	assert_string_equal(hw_exit_reason_name(2, 0x81), "hypercall");
	assert_string_equal(hw_exit_reason_name(2, 0x80000001), "vmgexit_mmio_read");
	assert_string_equal(hw_exit_reason_name(2, 0xffffffff), "invalid_guest_state");
	assert_string_equal(hw_exit_reason_name(2, 0x42), "0x42");	/* vector 2: unnamed */
	kvm_exit_record(raw, 5000, 2);			/* beyond the table: counted as other */
	hw_exit_trace_record(&t, raw, sizeof(raw));
	assert_int_equal(t.other, 1);
	assert_int_equal(t.isa, 2);
}

/* Every name the kernel headers give, and only those. */
static void test_hw_exit_names_are_the_kernels(void **state)
{
	static const struct { uint32_t code; const char *name; } vmx[] = { VMX_EXIT_REASONS },
		svm[] = { SVM_EXIT_REASONS };

	for (size_t i = 0; i < sizeof(vmx) / sizeof(vmx[0]); i++)
		assert_string_equal(hw_exit_reason_name(1, vmx[i].code), vmx[i].name);
	for (size_t i = 0; i < sizeof(svm) / sizeof(svm[0]); i++)
		assert_string_equal(hw_exit_reason_name(2, svm[i].code), svm[i].name);
}

/* Two devices as the transports and the IDE register them: a path and named counters. */
struct fake_dev {
	const char *path;
	uint64_t kicks;
};

static void fake_dev_report(void *opaque, struct device_report *out)
{
	const struct fake_dev *d = opaque;

	snprintf(out->path, sizeof(out->path), "%s", d->path);
	device_report_add(out, "q0.kicks", d->kicks);
	device_report_add(out, "q0.interrupts", d->kicks / 2);
}

static void fill_devices(struct fixture *f, struct machine *m, struct stats_device *devs,
			 struct fake_dev *a, struct fake_dev *b)
{
	memset(m, 0, sizeof(*m));
	assert_int_equal(machine_add_report(m, "virtio-blk", "00:03.0", fake_dev_report, a), 0);
	assert_int_equal(machine_add_report(m, "virtio-blk", "00:04.0", fake_dev_report, b), 0);
	/* Only for `qlite check`: no entry in the exit report. */
	assert_int_equal(machine_add_report(m, "summary-only", "x", NULL, NULL), 0);
	f->view.devices = devs;
	f->view.nr_devices = stats_devices_read(m, devs, 4);
}

static void test_device_reports(void **state)
{
	struct fixture *f = *state;
	struct fake_dev a = { "kicks ioeventfd (KVM), interrupts irqfd MSI-X", 40 };
	struct fake_dev b = { "kicks userspace exits, \"INTx\"", 7 };
	struct stats_device devs[4];
	struct machine m;
	char *text;

	fill(f);
	fill_devices(f, &m, devs, &a, &b);
	assert_int_equal(f->view.nr_devices, 2);
	/* The machine makes the second name unique; the copy outlives the machine's sources. */
	assert_string_equal(devs[1].name, "virtio-blk.1");
	machine_release_all(&m);
	assert_null(m.reports);

	text = render(f, table_writer);
	assert_non_null(strstr(text,
		"  virtio-blk     kicks ioeventfd (KVM), interrupts irqfd MSI-X\n"
		"                   q0.kicks                              40\n"
		"                   q0.interrupts                         20\n"
		"  virtio-blk.1   kicks userspace exits, \"INTx\"\n"
		"                   q0.kicks                               7\n"));
	free(text);

	text = render(f, stats_write_json);
	assert_non_null(json_value(text));
	assert_non_null(strstr(text,
		"  \"device_reports\": [\n"
		"    {\"name\": \"virtio-blk\", \"path\": \"kicks ioeventfd (KVM), interrupts irqfd MSI-X\", "
		"\"counters\": {\"q0.kicks\": 40, \"q0.interrupts\": 20}},\n"
		"    {\"name\": \"virtio-blk.1\", \"path\": \"kicks userspace exits, \\\"INTx\\\"\", "
		"\"counters\": {\"q0.kicks\": 7, \"q0.interrupts\": 3}}\n  ],\n"));
	free(text);

	text = render(f, stats_write_prom);
	assert_non_null(strstr(text,
		"# TYPE qlite_device_stat gauge\n"
		"qlite_device_stat{vm=\"test vm\",device=\"virtio-blk\",counter=\"q0.kicks\"} 40\n"
		"qlite_device_stat{vm=\"test vm\",device=\"virtio-blk\",counter=\"q0.interrupts\"} 20\n"
		"qlite_device_stat{vm=\"test vm\",device=\"virtio-blk.1\",counter=\"q0.kicks\"} 7\n"
		"qlite_device_stat{vm=\"test vm\",device=\"virtio-blk.1\",counter=\"q0.interrupts\"} 3\n"));
	assert_null(strstr(text, "summary-only"));
	free(text);
}

/* No device reports: an empty array, and no family without samples. */
static void test_device_reports_none(void **state)
{
	struct fixture *f = *state;
	char *text;

	fill(f);
	text = render(f, stats_write_json);
	assert_non_null(strstr(text, "  \"device_reports\": [],\n"));
	free(text);
	text = render(f, stats_write_prom);
	assert_null(strstr(text, "qlite_device_stat"));
	free(text);
	text = render(f, table_writer);
	assert_null(strstr(text, "devices' own counters"));
	free(text);
}

/* A device can only add DEVICE_REPORT_MAX counters; the rest are dropped, not overrun. */
static void test_device_report_cap(void **state)
{
	struct device_report r;
	char name[16];

	memset(&r, 0, sizeof(r));
	for (unsigned i = 0; i < DEVICE_REPORT_MAX + 5; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		device_report_add(&r, name, i);
	}
	assert_int_equal(r.n, DEVICE_REPORT_MAX);
	assert_string_equal(r.c[DEVICE_REPORT_MAX - 1].name, "c47");
}

/* Unclaimed addresses by name: merged over vCPUs, busiest first, the totals exact past the table. */
static void test_unclaimed_named(void **state)
{
	struct fixture *f = *state;
	struct stats_unclaimed top[STATS_UNCLAIMED_TOP];
	struct region_stats *rs;
	char *text;
	unsigned n;

	fill(f);	/* 7 reads of 0x2e0 on vCPU 0 */
	for (int i = 0; i < 5; i++)
		pio_exit(f, 1, 0x2e0, false, 1);
	for (int i = 0; i < 9; i++)
		pio_exit(f, 1, 0x80, true, 1);
	for (int i = 0; i < 3; i++)
		stats_count_access(f->vcpu[0], BUS_MMIO, NULL, 0xc8000000, false, 1, &rs);
	/* More distinct ports than the table holds: counted in the totals only. */
	for (unsigned p = 0; p < STATS_UNCLAIMED_SLOTS + 8; p++)
		stats_count_access(f->vcpu[0], BUS_PIO, NULL, 0x9000 + p, true, 1, &rs);

	n = stats_unclaimed_top(&f->view, BUS_PIO, top);
	assert_int_equal(n, STATS_UNCLAIMED_TOP);
	assert_int_equal(top[0].addr, 0x2e0);
	assert_false(top[0].write);
	assert_int_equal(top[0].count, 12);
	assert_int_equal(top[1].addr, 0x80);
	assert_true(top[1].write);
	assert_int_equal(top[1].count, 9);
	assert_int_equal(top[2].count, 1);
	n = stats_unclaimed_top(&f->view, BUS_MMIO, top);
	assert_int_equal(n, 1);
	assert_int_equal(top[0].addr, 0xc8000000);
	assert_int_equal(top[0].count, 3);
	assert_int_equal(f->vcpu[0]->unclaimed[BUS_PIO][1], STATS_UNCLAIMED_SLOTS + 8);

	text = render(f, stats_write_json);
	assert_non_null(json_value(text));
	assert_non_null(strstr(text, "\"top\": [\n    {\"bus\": \"pio\", \"addr\": 736, \"dir\": \"read\", \"count\": 12},\n"
				     "    {\"bus\": \"pio\", \"addr\": 128, \"dir\": \"write\", \"count\": 9},\n"));
	assert_non_null(strstr(text, "{\"bus\": \"mmio\", \"addr\": 3355443200, \"dir\": \"read\", \"count\": 3}\n  ]},\n"));
	free(text);
	text = render(f, table_writer);
	assert_non_null(strstr(text, "  (unclaimed)    pio  -                  read           12"));
	assert_non_null(strstr(text, "                      0x2e0              read           12"));
	assert_non_null(strstr(text, "                      0x80               write           9"));
	assert_non_null(strstr(text, "                      0xc8000000         read            3"));
	free(text);
}

/* A register array (as e1000's MTA) folded by reg_key, and writes drained from KVM's coalesced ring. */
static const char *array_reg_name(void *opaque, uint64_t off)
{
	return off == 0x200 ? "MTA" : off == 0x18 ? "TDT" : NULL;
}

static uint64_t array_reg_key(void *opaque, uint64_t off)
{
	return off >= 0x200 && off < 0x400 ? 0x200 : off;
}

static const struct bus_ops array_ops = {
	.read = fake_read, .write = fake_write, .reg_name = array_reg_name,
	.reg_key = array_reg_key,
};

static void test_reg_key_and_coalesced(void **state)
{
	struct fixture *f = *state;
	int id = bus_register(f->bus[BUS_MMIO], 0xc0000000, 0x1000, "nic", &array_ops, NULL);
	const struct bus_region *r = bus_region_by_id(f->bus[BUS_MMIO], id);
	struct region_stats *rs;
	char *text;

	assert_true(id >= 0);
	/* 128 writes to 128 entries: one register, one row. */
	for (unsigned i = 0; i < 128; i++)
		stats_count_access(f->vcpu[0], BUS_MMIO, r, r->base + 0x200 + 4 * i, true, 1, &rs);
	stats_count_access(f->vcpu[0], BUS_MMIO, r, r->base + 0x18, true, 1, &rs);
	for (unsigned i = 0; i < 5; i++)
		stats_count_coalesced(f->vcpu[1], BUS_MMIO, r, r->base + 0x204);
	text = render(f, table_writer);
	/* 129 exits: the coalesced writes are none of them. */
	assert_non_null(strstr(text, "nic            mmio (all)                            129"));
	assert_non_null(strstr(text, "MTA                write         128"));
	assert_non_null(strstr(text, "TDT                write           1"));
	assert_non_null(strstr(text, "MTA (coalesced)    write           5"));
	assert_non_null(strstr(text, "coalesced                  5 (MMIO writes"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_buckets_and_quantiles),
		cmocka_unit_test(test_hist_quantile_inside_bucket),
		cmocka_unit_test(test_hw_exit_records_and_names),
		cmocka_unit_test(test_hw_exit_names_are_the_kernels),
		cmocka_unit_test_setup_teardown(test_attribution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_table_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_parses_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prom_grammar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prom_kvm_families, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_and_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_names_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reg_key_and_coalesced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounting_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_reports_none, setup, teardown),
		cmocka_unit_test(test_device_report_cap),
		cmocka_unit_test_setup_teardown(test_unclaimed_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_file, setup, teardown),
		cmocka_unit_test(test_remove_stale_tmp),
		cmocka_unit_test_setup_teardown(test_interval_write_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
