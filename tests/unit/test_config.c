// SPDX-License-Identifier: GPL-2.0-only
/*
 * The config language: grammar, command line, errors (exact one-line
 * messages), host validation against a hand-made host, device resource
 * overlaps, print/parse round trip, the shipped configs and the generated
 * reference in docs/config.md.
 *
 * Environment (set by meson): QLITE_CONFIG_CASES (tests/unit/config_cases,
 * the test runs there), QLITE_CONFIGS_DIR (configs/), QLITE_CONFIG_DOCS
 * (docs/config.md). `test_config --write-docs FILE` regenerates the docs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qlite/config.h"
#include "qlite/config_check.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

/* ---- a device table for tests: the built-in one is empty today ---- */

static const struct vdev_opt_desc nic_opts[] = {
	{ .key = "iobase", .kind = VDEV_OPT_PIO, .span = 0x20, .help = "base port" },
	{ .key = "irq", .kind = VDEV_OPT_IRQ, .help = "interrupt line" },
	{ .key = "backend", .kind = VDEV_OPT_ENUM, .choices = "tap|slirp", .help = "host side" },
	{ .key = "hostfwd", .kind = VDEV_OPT_STRING, .help = "forwarded ports" },
	{ .key = NULL },
};

static const struct vdev_opt_desc blk_opts[] = {
	{ .key = "transport", .kind = VDEV_OPT_ENUM, .choices = "pci|mmio", .help = "bus" },
	{ .key = "addr", .kind = VDEV_OPT_MMIO, .span = 0x200, .help = "MMIO base" },
	{ .key = "irq", .kind = VDEV_OPT_IRQ, .help = "interrupt line" },
	{ .key = "file", .kind = VDEV_OPT_PATH, .help = "disk image" },
	{ .key = "readonly", .kind = VDEV_OPT_BOOL, .help = "no writes" },
	{ .key = "queue", .kind = VDEV_OPT_NUMBER, .help = "queue size" },
	{ .key = NULL },
};

static const struct vdev_type fake_types[] = {
	{ .name = "e1000", .help = "test NIC", .opts = nic_opts },
	{ .name = "virtio-blk", .help = "test disk", .opts = blk_opts },
};

static int use_fake_devices(void **state)
{
	vdev_use_table(fake_types, ARRAY_SIZE(fake_types));
	return 0;
}

static int use_builtin_devices(void **state)
{
	vdev_use_table(NULL, 0);
	return 0;
}

/* ---- helpers ---- */

struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static char *capture_close(struct capture *c)
{
	fclose(c->f);
	return c->buf;
}

/* Parse text named name, then finalize; returns the status and the error text. */
static int parse(struct vm_spec *spec, const char *name, const char *text, char **errs)
{
	struct capture c;
	int ret;

	capture_open(&c);
	ret = config_parse_text(spec, name, text, strlen(text), 0, c.f);
	if (!ret)
		ret = config_finalize(spec, c.f);
	*errs = capture_close(&c);
	return ret;
}

static int parse_argv(struct vm_spec *spec, char **errs, ...)
{
	char *argv[32];
	int argc = 0, ret;
	struct capture c;
	va_list ap;

	va_start(ap, errs);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	capture_open(&c);
	ret = config_parse_args(spec, argc, argv, c.f);
	*errs = capture_close(&c);
	return ret;
}

static void parse_ok(struct vm_spec *spec, const char *name, const char *text)
{
	char *errs;
	int ret;

	vm_spec_init(spec);
	ret = parse(spec, name, text, &errs);
	if (ret)
		fail_msg("unexpected error: %s", errs);
	assert_string_equal(errs, "");
	free(errs);
}

/* ---- grammar ---- */

static void test_defaults(void **state)
{
	struct vm_spec spec;

	parse_ok(&spec, "empty.conf", "# nothing but a comment\n\n   \t\n");
	assert_int_equal(spec.ram_size, 256 * MiB);
	assert_int_equal(spec.nr_vcpus, 1);
	assert_false(spec.cluster_set[0]);
	assert_int_equal(spec.halt_poll_ns, -1);
	assert_int_equal(spec.quirks, QUIRKS_AUTO);
	assert_false(spec.memfd);
	assert_false(spec.acpi_off);
	assert_false(spec.fw_cfg_off);
	assert_false(spec.split_irqchip);
	assert_false(spec.stats);
	assert_false(spec.stats_table);
	assert_null(spec.kernel);
	assert_null(spec.cmdline);
	assert_int_equal(spec.nr_vdevs, 0);
	vm_spec_free(&spec);
}

static void test_grammar_file(void **state)
{
	struct vm_spec spec;
	char *errs;
	cpu_set_t s01;

	vm_spec_init(&spec);
	if (config_parse_file(&spec, "grammar.conf", stderr) || config_finalize(&spec, stderr))
		fail();
	assert_string_equal(spec.name, "grammar test");
	assert_int_equal(spec.ram_size, 512 * MiB);
	assert_int_equal(spec.origin_of_ram.line, 3);
	assert_string_equal(spec.origin_of_ram.file, "grammar.conf");
	assert_int_equal(spec.nr_vcpus, 3);
	CPU_ZERO(&s01);
	CPU_SET(0, &s01);
	CPU_SET(1, &s01);
	assert_true(spec.cluster_set[0] && spec.cluster_set[1]);
	assert_false(spec.cluster_set[2]);
	assert_true(CPU_EQUAL(&spec.cluster[0], &s01));
	assert_true(CPU_EQUAL(&spec.cluster[1], &s01));
	assert_int_equal(spec.origin_of_cluster[1].line, 5);
	assert_string_equal(spec.kernel, "dir with space/vm\"linux");
	assert_string_equal(spec.initrd, "/abs/initrd.img");
	/* Continued line; words joined by one space, quoted spacing kept. */
	assert_string_equal(spec.cmdline, "console=ttyS0 quiet a  b");
	assert_int_equal(spec.exits_disable, EXITS_DISABLE_HLT | EXITS_DISABLE_PAUSE |
			 EXITS_DISABLE_MWAIT);
	assert_int_equal(spec.halt_poll_ns, 50000);
	assert_int_equal(spec.nr_cpuid_edits, 3);
	assert_string_equal(spec.cpuid_edits[0].feature, "x2apic");
	assert_true(spec.cpuid_edits[0].enable);
	assert_string_equal(spec.cpuid_edits[1].feature, "pv-eoi");
	assert_false(spec.cpuid_edits[1].enable);
	assert_string_equal(spec.cpuid_edits[2].feature, "kvm-signature");
	assert_int_equal(spec.cpuid_edits[2].origin.line, 14);
	assert_int_equal(spec.quirks, QUIRKS_OFF);
	assert_true(spec.memfd);
	assert_true(spec.acpi_off);
	assert_true(spec.fw_cfg_off);
	assert_true(spec.split_irqchip);
	assert_true(spec.stats);
	assert_false(spec.stats_table);		/* settings alone: no table */
	assert_int_equal(spec.stats_interval_ms, 1500);
	assert_string_equal(spec.stats_json, "out/exits.json");
	assert_string_equal(spec.stats_prom, "p r.prom");
	vm_spec_free(&spec);

	/* The line after a continued one keeps its own number. */
	vm_spec_init(&spec);
	assert_int_equal(parse(&spec, "c.conf", "cmdline a \\\n b\nrma 1\n", &errs), -EINVAL);
	assert_string_equal(errs, "c.conf:3: unknown keyword \"rma\" (did you mean \"ram\"?)\n");
	free(errs);
	vm_spec_free(&spec);
}

static void test_lexical_details(void **state)
{
	struct vm_spec spec;

	/* CRLF line ends, tabs, comment right after a value, '#' inside a word. */
	parse_ok(&spec, "crlf.conf", "ram\t64M\r\nsystem a#b # comment\r\ncmdline \"x # y\"\r\n");
	assert_int_equal(spec.ram_size, 64 * MiB);
	assert_string_equal(spec.name, "a#b");
	assert_string_equal(spec.cmdline, "x # y");
	vm_spec_free(&spec);

	/* Escapes and a continuation inside quotes; adjacent quoted and bare parts. */
	parse_ok(&spec, "q.conf", "cmdline \"a\\\"b\\\\c\" pre\"fix\"post \"d\\\ne\"\n");
	assert_string_equal(spec.cmdline, "a\"b\\c prefixpost de");
	vm_spec_free(&spec);

	/* No final newline; empty quoted cmdline. */
	parse_ok(&spec, "n.conf", "cmdline \"\"");
	assert_string_equal(spec.cmdline, "");
	vm_spec_free(&spec);

	/* A backslash not at a line end is an ordinary character outside quotes. */
	parse_ok(&spec, "b.conf", "kernel a\\b\n");
	assert_string_equal(spec.kernel, "a\\b");
	vm_spec_free(&spec);

	/* Commented-out continuation does not swallow the next line. */
	parse_ok(&spec, "cc.conf", "# comment \\\nram 32M\n");
	assert_int_equal(spec.ram_size, 32 * MiB);
	vm_spec_free(&spec);

	/* A final backslash in a comment, or a continuation onto a last blank line, is fine. */
	parse_ok(&spec, "ce.conf", "ram 32M\n# the end \\");
	vm_spec_free(&spec);
	parse_ok(&spec, "cb.conf", "cmdline a \\\n\n");
	assert_string_equal(spec.cmdline, "a");
	vm_spec_free(&spec);
	parse_ok(&spec, "cs.conf", "cmdline a \\\n  \n");
	assert_string_equal(spec.cmdline, "a");
	vm_spec_free(&spec);
}

/* A command-line value has no lines to continue: a final backslash is a character. */
static void test_cli_final_backslash(void **state)
{
	struct vm_spec spec;
	char *errs;

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--cmdline", "a \\", "--cpuid", "+x2apic\\",
				    NULL), -EINVAL);
	assert_string_equal(errs, "--cpuid: unknown CPUID feature \"x2apic\\\"\n");
	assert_string_equal(spec.cmdline, "a \\");
	free(errs);
	vm_spec_free(&spec);
}

static void test_values(void **state)
{
	static const struct {
		const char *s;
		int ret;
		uint64_t v;
	} sizes[] = {
		{ "4096", 0, 4096 }, { "0x1000", 0, 4096 }, { "64K", 0, 64 * KiB },
		{ "64k", 0, 64 * KiB }, { "64KiB", 0, 64 * KiB }, { "512M", 0, 512 * MiB },
		{ "3MiB", 0, 3 * MiB }, { "2G", 0, 2 * GiB }, { "1GiB", 0, GiB },
		{ "1T", 0, GiB << 10 }, { "0x10M", 0, 16 * MiB }, { "", -EINVAL, 0 },
		{ "M", -EINVAL, 0 }, { "1MB", -EINVAL, 0 }, { "-1M", -EINVAL, 0 }, { "1.5G", -EINVAL, 0 },
		{ "0x", -EINVAL, 0 }, { "1 M", -EINVAL, 0 }, { "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 }, { "17179869184G", -ERANGE, 0 },
	};
	uint64_t v;
	bool b;
	cpu_set_t set;
	char buf[64];

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		int ret = config_parse_size(sizes[i].s, &v);

		if (ret != sizes[i].ret || (!ret && v != sizes[i].v))
			fail_msg("size \"%s\": got %d/%llu", sizes[i].s, ret, (unsigned long long)v);
	}
	assert_int_equal(config_parse_u64("0xfF", &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(config_parse_u64("12a", &v), -EINVAL);
	assert_int_equal(config_parse_u64("+1", &v), -EINVAL);
	assert_int_equal(config_parse_duration("1s", 0, &v), 0);
	assert_int_equal(v, 1000000000);
	assert_int_equal(config_parse_duration("250ms", 0, &v), 0);
	assert_int_equal(v, 250000000);
	assert_int_equal(config_parse_duration("7us", 0, &v), 0);
	assert_int_equal(v, 7000);
	assert_int_equal(config_parse_duration("7", 0, &v), -EINVAL);
	assert_int_equal(config_parse_duration("7", 1, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(config_parse_duration("7h", 1, &v), -EINVAL);
	assert_int_equal(config_parse_duration("99999999999999s", 1, &v), -ERANGE);
	assert_int_equal(config_parse_bool("on", &b), 0);
	assert_true(b);
	assert_int_equal(config_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(config_parse_bool("yes", &b), -EINVAL);

	assert_int_equal(config_parse_cpulist("0-3,5,7-8", &set), 3);
	config_format_cpulist(&set, buf, sizeof(buf));
	assert_string_equal(buf, "0-3,5,7-8");
	assert_int_equal(config_parse_cpulist("3", &set), 1);
	assert_int_equal(config_parse_cpulist("1023", &set), 1);
	assert_int_equal(config_parse_cpulist("1024", &set), -ERANGE);
	assert_int_equal(config_parse_cpulist("3-1", &set), -EINVAL);
	assert_int_equal(config_parse_cpulist("1,", &set), -EINVAL);
	assert_int_equal(config_parse_cpulist("1-", &set), -EINVAL);
	assert_int_equal(config_parse_cpulist("0x1", &set), -EINVAL);
	assert_int_equal(config_parse_cpulist("", &set), -EINVAL);

	config_format_size(256 * MiB, buf, sizeof(buf));
	assert_string_equal(buf, "256M");
	config_format_size(3 * GiB, buf, sizeof(buf));
	assert_string_equal(buf, "3G");
	config_format_size(1028 * KiB, buf, sizeof(buf));
	assert_string_equal(buf, "1028K");
	config_format_size(100, buf, sizeof(buf));
	assert_string_equal(buf, "100");
}

static void test_paths_relative_to_file(void **state)
{
	struct vm_spec spec;
	char *errs;

	parse_ok(&spec, "dir/sub/vm.conf",
		 "kernel vmlinux\ninitrd /boot/initrd\nstats json out.json prom ../p.prom\n");
	assert_string_equal(spec.kernel, "dir/sub/vmlinux");
	assert_string_equal(spec.initrd, "/boot/initrd");
	assert_string_equal(spec.stats_json, "dir/sub/out.json");
	assert_string_equal(spec.stats_prom, "dir/sub/../p.prom");
	vm_spec_free(&spec);

	parse_ok(&spec, "/etc/vm.conf", "kernel vmlinux\n");
	assert_string_equal(spec.kernel, "/etc/vmlinux");
	vm_spec_free(&spec);

	parse_ok(&spec, "vm.conf", "kernel vmlinux\n");
	assert_string_equal(spec.kernel, "vmlinux");
	vm_spec_free(&spec);

	/* On the command line, relative to the cwd. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "grammar.conf", "--kernel", "k/vmlinux",
				    "--stats-json=x.json", NULL), 0);
	assert_string_equal(errs, "");
	assert_string_equal(spec.kernel, "k/vmlinux");
	assert_null(spec.origin_of_kernel.file);
	assert_string_equal(spec.origin_of_kernel.option, "--kernel");
	assert_string_equal(spec.stats_json, "x.json");
	free(errs);
	vm_spec_free(&spec);
}

static void test_include(void **state)
{
	struct vm_spec spec;
	char *errs;

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "main.conf", NULL), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(spec.ram_size, 512 * MiB);	/* the includer overrides */
	assert_string_equal(spec.origin_of_ram.file, "main.conf");
	assert_string_equal(spec.kernel, "sub/vmlinux");
	assert_string_equal(spec.origin_of_kernel.file, "sub/inc.conf");
	assert_int_equal(spec.origin_of_kernel.line, 2);
	assert_string_equal(spec.initrd, "sub/../initrd.img");
	assert_int_equal(spec.nr_vdevs, 1);
	assert_string_equal(vdev_opt_get(&spec.vdevs[0], "file"), "sub/disk.img");
	assert_int_equal(spec.nr_files, 2);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "loop_a.conf", NULL), -EINVAL);
	assert_string_equal(errs, "loop_b.conf:2: include loop: loop_a.conf -> loop_b.conf -> "
			    "loop_a.conf\n");
	free(errs);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "missing_include.conf", NULL), -ENOENT);
	assert_string_equal(errs, "missing_include.conf:3: nothere.conf: No such file or "
			    "directory\n");
	free(errs);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "nothere.conf", NULL), -ENOENT);
	assert_string_equal(errs, "nothere.conf: No such file or directory\n");
	free(errs);
	vm_spec_free(&spec);

	/* --include from the command line, relative to the cwd. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--include", "sub/inc.conf", "--ram", "1G",
				    NULL), 0);
	assert_string_equal(spec.kernel, "sub/vmlinux");
	assert_int_equal(spec.ram_size, GiB);
	free(errs);
	vm_spec_free(&spec);

	/* Fuzzing mode: no file access. */
	vm_spec_init(&spec);
	{
		struct capture c;
		const char *t = "include main.conf\n";

		capture_open(&c);
		assert_int_equal(config_parse_text(&spec, "f.conf", t, strlen(t), CONFIG_NO_INCLUDE,
						   c.f), -EINVAL);
		errs = capture_close(&c);
		assert_string_equal(errs, "f.conf:1: include is not allowed here\n");
		free(errs);
	}
	vm_spec_free(&spec);
}

/* ---- the command line ---- */

static void test_cli_overrides_file(void **state)
{
	struct vm_spec spec;
	char *errs;

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "grammar.conf", "--ram", "1G", "-m", "2G",
				    "--mem=3G", "--append", "root=/dev/vda ro", "--system=cli",
				    "--cpuid", "-x2apic,+pv-unhalt", "--exits", "disable=cstate",
				    "--halt-poll", "0", "--quirks", "on", "--memfd=off",
				    "--stats", "off", "--stats-prom", "m.prom", "--cpu", "cluster=3",
				    "--acpi", "on", NULL), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(spec.ram_size, 3 * GiB);
	assert_string_equal(spec.origin_of_ram.option, "--mem");
	assert_string_equal(spec.cmdline, "root=/dev/vda ro");
	assert_string_equal(spec.name, "cli");
	/* Repeatables extend: one more vCPU, more exits, edits replaced or added. */
	assert_int_equal(spec.nr_vcpus, 4);
	assert_true(spec.cluster_set[3] && CPU_ISSET(3, &spec.cluster[3]));
	assert_string_equal(spec.origin_of_cluster[3].option, "--cpu");
	assert_int_equal(spec.exits_disable, EXITS_DISABLE_HLT | EXITS_DISABLE_PAUSE |
			 EXITS_DISABLE_MWAIT | EXITS_DISABLE_CSTATE);
	assert_int_equal(spec.nr_cpuid_edits, 4);
	assert_false(spec.cpuid_edits[0].enable);		/* x2apic now removed */
	assert_string_equal(spec.cpuid_edits[3].feature, "pv-unhalt");
	assert_int_equal(spec.halt_poll_ns, 0);
	assert_int_equal(spec.quirks, QUIRKS_ON);
	assert_false(spec.memfd);
	assert_false(spec.acpi_off);		/* grammar.conf's `acpi off`, overridden */
	/* --stats off, then --stats-prom turns its own output on again: later wins. */
	assert_true(spec.stats);
	assert_false(spec.stats_table);
	assert_string_equal(spec.stats_prom, "m.prom");
	vm_spec_free(&spec);

	/* --stats alone, and --stats followed by another option. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--stats", "--stats-interval", "2s", NULL), 0);
	assert_true(spec.stats);
	assert_true(spec.stats_table);
	assert_int_equal(spec.stats_interval_ms, 2000);
	free(errs);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--stats", "on,interval=500ms,json=j.json",
				    NULL), 0);
	assert_true(spec.stats);
	assert_true(spec.stats_table);
	assert_int_equal(spec.stats_interval_ms, 500);
	assert_string_equal(spec.stats_json, "j.json");
	free(errs);
	vm_spec_free(&spec);

	/* --stats-json alone writes the JSON, without the table (that is --stats). */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--stats-json", "j.json", NULL), 0);
	assert_true(spec.stats);
	assert_false(spec.stats_table);
	free(errs);
	vm_spec_free(&spec);

	/* A config's `stats on` keeps its table when the command line adds a file. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--stats", "on", "--stats-prom", "m.prom", NULL), 0);
	assert_true(spec.stats && spec.stats_table);
	free(errs);
	vm_spec_free(&spec);
}

static void test_cli_cpu_cluster(void **state)
{
	struct vm_spec spec;
	char *errs;

	/* One entry per vCPU: entry i pins vCPU i. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--cpu-cluster", "0,1", "--cpus", "2", NULL), 0);
	assert_int_equal(spec.nr_vcpus, 2);
	assert_true(spec.cluster_set[0] && spec.cluster_set[1]);
	assert_true(CPU_ISSET(0, &spec.cluster[0]) && CPU_COUNT(&spec.cluster[0]) == 1);
	assert_true(CPU_ISSET(1, &spec.cluster[1]) && CPU_COUNT(&spec.cluster[1]) == 1);
	free(errs);
	vm_spec_free(&spec);

	/* One entry: a set shared by all vCPUs. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--cpus", "3", "--cpu-cluster", "0-3", NULL), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_true(spec.cluster_set[i] && CPU_COUNT(&spec.cluster[i]) == 4);
	free(errs);
	vm_spec_free(&spec);

	/* Entries may be ranges; --cpu-cluster overrides the file's cpu lines. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "grammar.conf", "--cpu-cluster", "0-1,2,3", NULL),
			 0);
	assert_int_equal(CPU_COUNT(&spec.cluster[0]), 2);
	assert_true(CPU_ISSET(2, &spec.cluster[1]) && CPU_COUNT(&spec.cluster[1]) == 1);
	assert_true(spec.cluster_set[2] && CPU_ISSET(3, &spec.cluster[2]));
	free(errs);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--cpus", "2", "--cpu-cluster", "0,1,2", NULL),
			 -EINVAL);
	assert_string_equal(errs, "--cpu-cluster: 3 entries for 2 vCPUs (give one entry per "
			    "vCPU, or one entry shared by all)\n");
	free(errs);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--cpu-cluster", "0,1", NULL), -EINVAL);
	assert_string_equal(errs, "--cpu-cluster: 2 entries for 1 vCPU (give one entry per "
			    "vCPU, or one entry shared by all)\n");
	free(errs);
	vm_spec_free(&spec);
}

/* QEMU's spellings mean what they mean in QEMU. */
static void test_qemu_spellings(void **state)
{
	static const struct {
		const char *option, *value;
		uint64_t bytes;
	} mem[] = {
		{ "-m", "512", 512 * MiB }, { "--mem", "1024", GiB }, { "--mem=2048", NULL, 2 * GiB },
		{ "-m", "0x100", 256 * MiB }, { "-m", "512M", 512 * MiB }, { "-m", "1G", GiB },
		{ "--ram", "268435456", 256 * MiB }, { "--ram=4M", NULL, 4 * MiB },
	};
	struct vm_spec spec;
	char *errs;

	for (unsigned i = 0; i < ARRAY_SIZE(mem); i++) {
		vm_spec_init(&spec);
		if (parse_argv(&spec, &errs, mem[i].option, mem[i].value, NULL) ||
		    spec.ram_size != mem[i].bytes)
			fail_msg("%s %s: got %llu bytes, %s", mem[i].option, mem[i].value,
				 (unsigned long long)spec.ram_size, errs);
		free(errs);
		vm_spec_free(&spec);
	}

	/* A QEMU command line, as QEMU users write it. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "-kernel", "k/vmlinux", "-initrd", "i.cpio",
				    "-m", "512", "-smp", "2", "-nographic", "-append",
				    "console=ttyS0 quiet", "-nographic", NULL), 0);
	assert_string_equal(errs, "");
	assert_string_equal(spec.kernel, "k/vmlinux");
	assert_string_equal(spec.origin_of_kernel.option, "-kernel");
	assert_string_equal(spec.initrd, "i.cpio");
	assert_int_equal(spec.ram_size, 512 * MiB);
	assert_string_equal(spec.origin_of_ram.option, "-m");
	assert_int_equal(spec.nr_vcpus, 2);
	assert_string_equal(spec.origin_of_cpus.option, "-smp");
	assert_string_equal(spec.cmdline, "console=ttyS0 quiet");
	free(errs);
	vm_spec_free(&spec);

	/* -nographic never takes the next argument; `nographic` in a file is a no-op too. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "-nographic", "-m", "64", NULL), 0);
	assert_int_equal(spec.ram_size, 64 * MiB);
	free(errs);
	vm_spec_free(&spec);
	parse_ok(&spec, "ng.conf", "nographic\nram 64M\n");
	vm_spec_free(&spec);
}

/* The errno of each failure: -EINVAL for bad input, a file's own errno for a file. */
static void test_error_codes(void **state)
{
	char path[] = "/tmp/qlite-big-XXXXXX", *want;
	struct vm_spec spec;
	char *errs;
	int fd;

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "sub", NULL), -EISDIR);
	assert_string_equal(errs, "sub: not a regular file (a directory)\n");
	free(errs);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	assert_int_equal(config_parse_option(&spec, "--ram", "12X", NULL), -EINVAL);
	assert_int_equal(config_parse_option(&spec, "--rma", "1G", NULL), -EINVAL);
	assert_int_equal(config_parse_file(&spec, "nothere.conf", NULL), -ENOENT);
	assert_int_equal(config_parse_option(&spec, "--ram", "2G", NULL), 0);
	vm_spec_free(&spec);

	/* A file too large: named once, as the context of the line. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (1 << 20) + 1), 0);
	close(fd);
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, path, NULL), -EINVAL);
	if (asprintf(&want, "%s: larger than 1048576 bytes; not a config file?\n", path) < 0)
		fail();
	assert_string_equal(errs, want);
	free(want);
	free(errs);
	vm_spec_free(&spec);
	unlink(path);
}

/* ---- errors: input -> the exact line ---- */

static const struct {
	const char *text;
	const char *message;
} bad_files[] = {
	{ "rma 1G\n", "bad.conf:1: unknown keyword \"rma\" (did you mean \"ram\"?)" },
	{ "# x\n\ncpsu 2\n", "bad.conf:3: unknown keyword \"cpsu\" (did you mean \"cpus\"?)" },
	{ "kernal vmlinux\n", "bad.conf:1: unknown keyword \"kernal\" (did you mean \"kernel\"?)" },
	{ "zzzzzz 1\n", "bad.conf:1: unknown keyword \"zzzzzz\"" },
	{ "ram\n", "bad.conf:1: missing value (ram SIZE)" },
	{ "ram 1M 2M\n", "bad.conf:1: too many values (ram SIZE)" },
	{ "ram 1M \\\n  2M\n", "bad.conf:1: too many values (ram SIZE)" },
	{ "ram 12X\n", "bad.conf:1: bad size \"12X\" (a number with K, M, G or KiB, MiB, GiB)" },
	{ "ram 99999999999999999999\n", "bad.conf:1: size \"99999999999999999999\" is too large" },
	{ "ram 512\n", "bad.conf:1: 512 is too small: at least 1M (a bare number is bytes; did you "
	  "mean 512M?)" },
	{ "ram 512K\n", "bad.conf:1: 512K is too small: at least 1M" },
	{ "ram 1025K\n", "bad.conf:1: 1025K is not a multiple of 4K" },
	{ "ram 1M\n\nram 2M\n", "bad.conf:3: duplicate ram (first at bad.conf:1)" },
	{ "system a\nsystem b\n", "bad.conf:2: duplicate system (first at bad.conf:1)" },
	{ "system \"\"\n", "bad.conf:1: empty name" },
	{ "cpus x\n", "bad.conf:1: bad number \"x\"" },
	{ "cpus 0\n", "bad.conf:1: 0 vCPUs: give 1 to 64" },
	{ "cpus 65\n", "bad.conf:1: 65 vCPUs: give 1 to 64" },
	{ "cpus 2\ncpu cluster 0\n", "bad.conf:1: 2 vCPUs, but 1 cpu line (first at bad.conf:2)" },
	{ "cpu cluster 3-1\n", "bad.conf:1: bad CPU list \"3-1\" (e.g. 2, 0-3 or 0,2-3)" },
	{ "cpu cluster 4096\n", "bad.conf:1: bad CPU list \"4096\": host CPUs are numbered below 1024" },
	{ "cpu cluster\n", "bad.conf:1: expected \"cluster CPULIST\" (cpu [cluster CPULIST])" },
	{ "cpu pin 1\n", "bad.conf:1: expected \"cluster CPULIST\" (cpu [cluster CPULIST])" },
	{ "cpu cluster 1 x\n", "bad.conf:1: bad CPU list \"1,x\" (e.g. 2, 0-3 or 0,2-3)" },
	{ "cpus 2\ncpu-cluster 0,1,2\n",
	  "bad.conf:2: 3 entries for 2 vCPUs (give one entry per vCPU, or one entry shared by all)" },
	{ "cpu-cluster 0,,1\n", "bad.conf:1: bad CPU list \"0,,1\" (e.g. 2, 0-3 or 0,2-3)" },
	{ "kernel\n", "bad.conf:1: missing value (kernel PATH)" },
	{ "kernel a b\n", "bad.conf:1: too many values (kernel PATH)" },
	{ "kernel \"\"\n", "bad.conf:1: empty path" },
	{ "kernel \"vmlinux\n", "bad.conf:1: unterminated quoted string" },
	{ "\n\nkernel \"vmlinux", "bad.conf:3: unterminated quoted string" },
	{ "kernel \"a\\tb\"\n", "bad.conf:1: bad escape \"\\t\" in quoted string (only \\\" and \\\\)" },
	{ "cmdline\n", "bad.conf:1: missing value (cmdline TEXT...)" },
	{ "vdev rtl8139 backend tap\n", "bad.conf:1: unknown device \"rtl8139\" (known: isa-debug-exit, ide, virtio-blk, virtio-net, pvpanic, pvpanic-pci, e1000, pc-testdev, pci-testdev, edu, intel-iommu)" },
	{ "vdev\n", "bad.conf:1: missing value (vdev TYPE [KEY VALUE]...)" },
	{ "exits hlt\n", "bad.conf:1: missing value (exits disable EXIT[,EXIT]...)" },
	{ "exits enable hlt\n", "bad.conf:1: expected \"disable\" (exits disable EXIT[,EXIT]...)" },
	{ "exits disable hlt,hlp\n",
	  "bad.conf:1: unknown exit \"hlp\" (hlt, pause, mwait, cstate or all)" },
	{ "halt-poll 5x\n",
	  "bad.conf:1: bad duration \"5x\" (nanoseconds, or a number with ns, us, ms or s)" },
	{ "halt-poll 5s\n", "bad.conf:1: 5s is too long: at most 4294967295 ns" },
	{ "cpuid x2apic\n",
	  "bad.conf:1: \"x2apic\" needs + or - (+x2apic adds the feature, -x2apic removes it)" },
	{ "cpuid +x2apik\n", "bad.conf:1: unknown CPUID feature \"x2apik\"" },
	{ "cpuid +\n", "bad.conf:1: unknown CPUID feature \"\"" },
	{ "quirks maybe\n", "bad.conf:1: \"maybe\" is not on, off or auto" },
	{ "memfd yes\n", "bad.conf:1: \"yes\" is not on or off" },
	{ "acpi 2\n", "bad.conf:1: \"2\" is not on or off" },
	{ "irqchip userspace\n", "bad.conf:1: \"userspace\" is not kernel or split" },
	{ "irqchip\n", "bad.conf:1: missing value (irqchip kernel|split)" },
	{ "stats interval\n",
	  "bad.conf:1: \"interval\" needs a value (stats [on|off] [interval DURATION] [json FILE] "
	  "[prom FILE] [log FILE])" },
	{ "stats interval 5\n", "bad.conf:1: bad duration \"5\" (e.g. 500ms or 1s)" },
	{ "stats interval 1500us\n", "bad.conf:1: bad duration \"1500us\" (e.g. 500ms or 1s)" },
	{ "stats on off\n", "bad.conf:1: on/off given twice" },
	{ "stats often\n",
	  "bad.conf:1: unknown stats setting \"often\" (stats [on|off] [interval DURATION] "
	  "[json FILE] [prom FILE] [log FILE])" },
	{ "stats-interval 1\n", "bad.conf:1: bad duration \"1\" (e.g. 500ms or 1s)" },
	{ "stats-json\n", "bad.conf:1: missing value (stats-json FILE)" },
	{ "stats-log a b\n", "bad.conf:1: too many values (stats-log FILE)" },
	{ "nographic on\n", "bad.conf:1: takes no value (nographic)" },
	{ "include\n", "bad.conf:1: missing value (include FILE)" },
	{ "include \"\"\n", "bad.conf:1: empty path" },
	{ "ram 1M\ncmdline \"a\nb\"\n", "bad.conf:2: unterminated quoted string" },
	/* A continuation needs a next line: the file must not end right after the backslash. */
	{ "cmdline a \\", "bad.conf:1: backslash at the end of the file (a continued line needs a "
	  "next line)" },
	{ "cmdline a \\\n", "bad.conf:1: backslash at the end of the file (a continued line needs "
	  "a next line)" },
	{ "cmdline a \\\r\n", "bad.conf:1: backslash at the end of the file (a continued line "
	  "needs a next line)" },
	{ "ram 1M\nkernel vmlinux\\", "bad.conf:2: backslash at the end of the file (a continued "
	  "line needs a next line)" },
	{ "ram 1M\n\\", "bad.conf:2: backslash at the end of the file (a continued line needs a "
	  "next line)" },
	{ "cmdline a \\\n b \\\n", "bad.conf:2: backslash at the end of the file (a continued "
	  "line needs a next line)" },
	{ "cmdline \"a\\", "bad.conf:1: backslash at the end of the file (a continued line needs "
	  "a next line)" },
	/* Control characters in user text never break the one-line rule. */
	{ "ram 1\x1b[31m\n", "bad.conf:1: bad size \"1?[31m\" (a number with K, M, G or KiB, MiB, GiB)" },
};

static void test_bad_files(void **state)
{
	for (unsigned i = 0; i < ARRAY_SIZE(bad_files); i++) {
		struct vm_spec spec;
		char *errs, *want;
		int ret;

		vm_spec_init(&spec);
		ret = parse(&spec, "bad.conf", bad_files[i].text, &errs);
		if (asprintf(&want, "%s\n", bad_files[i].message) < 0)
			fail();
		if (ret != -EINVAL || strcmp(errs, want))
			fail_msg("input %u \"%s\":\n  got  %s\n  want %s", i, bad_files[i].text, errs,
				 want);
		free(want);
		free(errs);
		vm_spec_free(&spec);
	}
}

static void test_nul_byte(void **state)
{
	static const char text[] = "ram 1M\nsystem a\0b\n";
	struct vm_spec spec;
	struct capture c;
	char *errs;

	vm_spec_init(&spec);
	capture_open(&c);
	assert_int_equal(config_parse_text(&spec, "nul.conf", text, sizeof(text) - 1, 0, c.f),
			 -EINVAL);
	errs = capture_close(&c);
	assert_string_equal(errs, "nul.conf:2: NUL byte in the text\n");
	free(errs);
	vm_spec_free(&spec);
}

static const struct {
	const char *argv[8];
	const char *message;
} bad_args[] = {
	{ { "--rma", "1G" }, "--rma: unknown option (did you mean \"--ram\"?)" },
	{ { "--memm", "1G" }, "--memm: unknown option (did you mean \"--mem\"?)" },
	{ { "--cpu-clusters=0" }, "--cpu-clusters: unknown option (did you mean \"--cpu-cluster\"?)" },
	{ { "--frobnicate" }, "--frobnicate: unknown option (see qlite help config)" },
	{ { "--ram" }, "--ram: missing value (--ram SIZE)" },
	{ { "-m", "12X" }, "-m: bad size \"12X\" (a number with K, M, G or KiB, MiB, GiB)" },
	{ { "--mem=" }, "--mem: bad size \"\" (a number with K, M, G or KiB, MiB, GiB)" },
	{ { "--kernel=" }, "--kernel: empty path" },
	{ { "--cmdline", "a\nb" }, "--cmdline: newline in the value" },
	{ { "--ram", "1G", "vm.conf" },
	  "vm.conf: unexpected argument (the config file comes first; options start with --)" },
	{ { "--vdev", "rtl8139,backend=tap" }, "--vdev: unknown device \"rtl8139\" (known: isa-debug-exit, ide, virtio-blk, virtio-net, pvpanic, pvpanic-pci, e1000, pc-testdev, pci-testdev, edu, intel-iommu)" },
	{ { "--cpus", "3", "--cpu", "cluster=0" }, "--cpus: 3 vCPUs, but 1 cpu line (from --cpu)" },
	{ { "--cpus", "0x41" }, "--cpus: 0x41 vCPUs: give 1 to 64" },
	{ { "--exits", "disable=hlt,nap" },
	  "--exits: unknown exit \"nap\" (hlt, pause, mwait, cstate or all)" },
	{ { "--cpuid", "+x2apic,\"-pv-eoi" }, "--cpuid: unterminated quoted string" },
	{ { "--stats", "on,interval" },
	  "--stats: \"interval\" needs a value (--stats [on|off] [interval DURATION] [json FILE] "
	  "[prom FILE] [log FILE])" },
	{ { "--stats-interval", "fast" }, "--stats-interval: bad duration \"fast\" (e.g. 500ms or 1s)" },
	{ { "grammar.conf", "--quirks", "sometimes" },
	  "--quirks: \"sometimes\" is not on, off or auto" },
	/* Nor in an option as typed. */
	{ { "--r\nam", "1G" }, "--r?am: unknown option (did you mean \"--ram\"?)" },
	{ { "--ram", "512" },
	  "--ram: 512 is too small: at least 1M (a bare number is bytes; did you mean 512M?)" },
	{ { "-m", "0" }, "-m: 0 is too small: at least 1M" },
	{ { "-m", "17592186044416" }, "-m: size \"17592186044416\" is too large" },
	{ { "--mem", "1.5" }, "--mem: bad size \"1.5\" (a number with K, M, G or KiB, MiB, GiB)" },
	{ { "-smp", "0" }, "-smp: 0 vCPUs: give 1 to 64" },
	{ { "-kernel" }, "-kernel: missing value (-kernel PATH)" },
	{ { "--nographic=on" }, "--nographic: takes no value (--nographic)" },
	{ { "-nographic", "vm.conf" },
	  "vm.conf: unexpected argument (the config file comes first; options start with --)" },
};

static void test_bad_args(void **state)
{
	for (unsigned i = 0; i < ARRAY_SIZE(bad_args); i++) {
		struct vm_spec spec;
		struct capture c;
		char *argv[8], *want;
		int argc = 0, ret;

		while (argc < 8 && bad_args[i].argv[argc]) {
			argv[argc] = (char *)bad_args[i].argv[argc];
			argc++;
		}
		vm_spec_init(&spec);
		capture_open(&c);
		ret = config_parse_args(&spec, argc, argv, c.f);
		capture_close(&c);
		if (asprintf(&want, "%s\n", bad_args[i].message) < 0)
			fail();
		if (ret != -EINVAL || strcmp(c.buf, want))
			fail_msg("args %u (%s ...):\n  got  %s\n  want %s", i, argv[0], c.buf, want);
		free(want);
		free(c.buf);
		vm_spec_free(&spec);
	}
}

/* ---- devices ---- */

static void test_vdev_unknown_builtin(void **state)
{
	char known[160];

	/* The built-in table: each device file's type, by its config name. */
	assert_int_equal(vdev_type_count(), 11);
	vdev_format_known(known, sizeof(known));
	assert_string_equal(known,
			    "isa-debug-exit, ide, virtio-blk, virtio-net, pvpanic, pvpanic-pci, e1000, "
			    "pc-testdev, pci-testdev, edu, intel-iommu");
	assert_ptr_equal(vdev_type_lookup("isa-debug-exit"), &isa_debug_exit_vdev);
	assert_ptr_equal(vdev_type_lookup("ide"), &ide_vdev);
	assert_ptr_equal(vdev_type_lookup("virtio-blk"), &virtio_blk_vdev);
	assert_ptr_equal(vdev_type_lookup("pvpanic"), &pvpanic_vdev);
	assert_ptr_equal(vdev_type_lookup("pvpanic-pci"), &pvpanic_pci_vdev);
	assert_ptr_equal(vdev_type_lookup("e1000"), &e1000_vdev);
	assert_null(vdev_type_lookup("rtl8139"));
}

static void test_vdev_options(void **state)
{
	struct vm_spec spec;
	char *errs;
	char known[64];

	vdev_format_known(known, sizeof(known));
	assert_string_equal(known, "e1000, virtio-blk");

	parse_ok(&spec, "d/vm.conf",
		 "vdev virtio-blk transport mmio file disk.img readonly on queue 0x80\n"
		 "vdev e1000,backend=slirp,hostfwd=\"tcp:8080-:80,tcp:2222-:22\"\n"
		 "vdev virtio-blk file=/abs/d.img\n");
	assert_int_equal(spec.nr_vdevs, 3);
	assert_string_equal(spec.vdevs[0].type, "virtio-blk");
	assert_int_equal(spec.vdevs[0].nr_opts, 4);
	assert_string_equal(vdev_opt_get(&spec.vdevs[0], "transport"), "mmio");
	assert_string_equal(vdev_opt_get(&spec.vdevs[0], "file"), "d/disk.img");
	assert_string_equal(vdev_opt_get(&spec.vdevs[0], "queue"), "0x80");
	assert_int_equal(spec.vdevs[0].origin.line, 1);
	assert_string_equal(vdev_opt_get(&spec.vdevs[1], "hostfwd"), "tcp:8080-:80,tcp:2222-:22");
	assert_string_equal(vdev_opt_get(&spec.vdevs[2], "file"), "/abs/d.img");
	assert_null(vdev_opt_get(&spec.vdevs[2], "transport"));
	vm_spec_free(&spec);

	/* The CLI form adds to the file's devices; its paths stay relative to the cwd. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "main.conf", "--vdev",
				    "virtio-blk,transport=pci,file=x.img", NULL), 0);
	assert_int_equal(spec.nr_vdevs, 2);
	assert_string_equal(vdev_opt_get(&spec.vdevs[1], "file"), "x.img");
	assert_string_equal(spec.vdevs[1].origin.option, "--vdev");
	free(errs);
	vm_spec_free(&spec);

	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "vdev e100\n", "v.conf:1: unknown device \"e100\" (did you mean \"e1000\"? known: "
				 "e1000, virtio-blk)" },
		{ "vdev sound\n", "v.conf:1: unknown device \"sound\" (known: e1000, virtio-blk)" },
		{ "vdev virtio-blk file\n", "v.conf:1: option \"file\" has no value" },
		{ "vdev virtio-blk fil x\n",
		  "v.conf:1: unknown option \"fil\" for virtio-blk (known: transport, addr, irq, file, "
		  "readonly, queue)" },
		{ "vdev virtio-blk file a file b\n", "v.conf:1: option \"file\" given twice" },
		{ "vdev virtio-blk transport usb\n",
		  "v.conf:1: transport: \"usb\" is not one of pci|mmio" },
		{ "vdev virtio-blk readonly yes\n", "v.conf:1: readonly: \"yes\" is not on or off" },
		{ "vdev virtio-blk queue 12q\n", "v.conf:1: queue: bad number \"12q\"" },
		{ "vdev virtio-blk file=\n", "v.conf:1: option \"file\" has an empty value" },
		{ "vdev virtio-blk \"Fi le\" x\n", "v.conf:1: bad option name \"Fi le\"" },
		{ "vdev e1000 irq 1 irq 2 irq 3 irq 4 irq 5 irq 6 irq 7 irq 8 irq 9 irq 10 irq 11 "
		  "irq 12 irq 13 irq 14 irq 15 irq 16 irq 17\n",
		  "v.conf:1: too many options (at most 16)" },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		char *want;

		vm_spec_init(&spec);
		assert_int_equal(parse(&spec, "v.conf", bad[i].text, &errs), -EINVAL);
		if (asprintf(&want, "%s\n", bad[i].message) < 0)
			fail();
		if (strcmp(errs, want))
			fail_msg("vdev %u:\n  got  %s\n  want %s", i, errs, want);
		free(want);
		free(errs);
		vm_spec_free(&spec);
	}
}

/* Resources: a spec built here, as the device issues' types will describe them. */
static void add_vdev(struct vm_spec *spec, const char *type, unsigned line, const char *k1,
		     const char *v1, const char *k2, const char *v2)
{
	struct vdev_spec *vs;

	spec->vdevs = realloc(spec->vdevs, (spec->nr_vdevs + 1) * sizeof(*vs));
	assert_non_null(spec->vdevs);
	vs = &spec->vdevs[spec->nr_vdevs++];
	memset(vs, 0, sizeof(*vs));
	vs->type = strdup(type);
	vs->origin = (struct spec_origin){ "r.conf", line, "vdev" };
	vs->opts[vs->nr_opts++] = (struct vdev_opt){ strdup(k1), strdup(v1) };
	if (k2)
		vs->opts[vs->nr_opts++] = (struct vdev_opt){ strdup(k2), strdup(v2) };
}

static void expect_resources(struct vm_spec *spec, const char *message)
{
	struct capture c;
	int ret;

	capture_open(&c);
	ret = config_check_resources(spec, c.f);
	capture_close(&c);
	if (!message) {
		if (ret)
			fail_msg("unexpected: %s", c.buf);
	} else {
		char *want;

		if (asprintf(&want, "%s\n", message) < 0)
			fail();
		if (ret != -EINVAL || strcmp(c.buf, want))
			fail_msg("\n  got  %d %s\n  want %s", ret, c.buf, want);
		free(want);
	}
	free(c.buf);
	vm_spec_free(spec);
}

static void test_resources(void **state)
{
	struct vm_spec spec;

	vm_spec_init(&spec);
	add_vdev(&spec, "e1000", 3, "iobase", "0x300", "irq", "10");
	add_vdev(&spec, "e1000", 4, "iobase", "0x320", "irq", "11");
	add_vdev(&spec, "virtio-blk", 5, "addr", "0xd0000000", "irq", "5");
	add_vdev(&spec, "virtio-blk", 6, "addr", "0xd0000200", NULL, NULL);
	expect_resources(&spec, NULL);

	vm_spec_init(&spec);
	add_vdev(&spec, "e1000", 3, "iobase", "0x300", NULL, NULL);
	add_vdev(&spec, "e1000", 7, "iobase", "0x310", NULL, NULL);
	expect_resources(&spec, "r.conf:7: iobase: ports 0x310-0x32f overlap vdev e1000 at "
			 "r.conf:3 (0x300-0x31f)");

	vm_spec_init(&spec);
	add_vdev(&spec, "e1000", 2, "iobase", "0x3e0", NULL, NULL);
	expect_resources(&spec, "r.conf:2: iobase: ports 0x3e0-0x3ff overlap uart8250 (0x3f8-0x3ff)");

	vm_spec_init(&spec);
	add_vdev(&spec, "e1000", 2, "iobase", "0xfff0", NULL, NULL);
	expect_resources(&spec, "r.conf:2: iobase: ports 0xfff0-0x1000f go past 0xffff");

	vm_spec_init(&spec);
	add_vdev(&spec, "virtio-blk", 4, "addr", "0xd0000000", "irq", "5");
	add_vdev(&spec, "virtio-blk", 9, "addr", "0xd0000100", NULL, NULL);
	expect_resources(&spec, "r.conf:9: addr: MMIO 0xd0000100-0xd00002ff overlap vdev "
			 "virtio-blk at r.conf:4 (0xd0000000-0xd00001ff)");

	vm_spec_init(&spec);
	add_vdev(&spec, "virtio-blk", 4, "addr", "0x1000", NULL, NULL);
	expect_resources(&spec, "r.conf:4: addr: MMIO 0x1000-0x11ff overlap guest RAM "
			 "(0-0xfffffff)");

	vm_spec_init(&spec);
	add_vdev(&spec, "virtio-blk", 4, "addr", "0xfec00000", NULL, NULL);
	expect_resources(&spec, "r.conf:4: addr: MMIO 0xfec00000-0xfec001ff overlap the IOAPIC "
			 "(0xfec00000-0xfec00fff)");

	vm_spec_init(&spec);
	add_vdev(&spec, "e1000", 2, "iobase", "0x300", "irq", "10");
	add_vdev(&spec, "virtio-blk", 8, "addr", "0xd0000000", "irq", "10");
	expect_resources(&spec, "r.conf:8: irq: IRQ 10 is also used by vdev e1000 at r.conf:2");

	vm_spec_init(&spec);
	add_vdev(&spec, "e1000", 2, "irq", "4", NULL, NULL);
	expect_resources(&spec, "r.conf:2: irq: IRQ 4 is also used by uart8250");

	vm_spec_init(&spec);
	add_vdev(&spec, "e1000", 2, "irq", "24", NULL, NULL);
	expect_resources(&spec, "r.conf:2: irq: IRQ 24: the IOAPIC has pins 0-23");

	/* fw_cfg's DMA ports, on by default, and free again with `fw-cfg off`. */
	vm_spec_init(&spec);
	add_vdev(&spec, "isa-debug-exit", 2, "iobase", "0x518", NULL, NULL);
	expect_resources(&spec, "r.conf:2: iobase: ports 0x518-0x518 overlap fw-cfg (0x514-0x51b)");
	vm_spec_init(&spec);
	spec.fw_cfg_off = true;
	add_vdev(&spec, "isa-debug-exit", 2, "iobase", "0x518", NULL, NULL);
	expect_resources(&spec, NULL);

	/*
	 * `irqchip split` puts qlite's PICs, IOAPIC and PIT on the bus: their
	 * ports, the ELCR and port B are the platform's then.
	 */
	vm_spec_init(&spec);
	add_vdev(&spec, "isa-debug-exit", 2, "iobase", "0x40", NULL, NULL);
	expect_resources(&spec, "r.conf:2: iobase: ports 0x40-0x40 overlap the PIT (0x40-0x43)");
	vm_spec_init(&spec);
	spec.split_irqchip = true;
	add_vdev(&spec, "isa-debug-exit", 2, "iobase", "0x40", NULL, NULL);
	expect_resources(&spec, "r.conf:2: iobase: ports 0x40-0x40 overlap pit (0x40-0x43)");
	vm_spec_init(&spec);
	spec.split_irqchip = true;
	add_vdev(&spec, "isa-debug-exit", 2, "iobase", "0x61", NULL, NULL);
	expect_resources(&spec, "r.conf:2: iobase: ports 0x61-0x61 overlap pit-port61 (0x61-0x61)");
	vm_spec_init(&spec);
	spec.split_irqchip = true;
	add_vdev(&spec, "isa-debug-exit", 2, "iobase", "0x20", NULL, NULL);
	expect_resources(&spec, "r.conf:2: iobase: ports 0x20-0x20 overlap pic-master (0x20-0x21)");
	vm_spec_init(&spec);
	spec.split_irqchip = true;
	add_vdev(&spec, "isa-debug-exit", 2, "iobase", "0x4d1", NULL, NULL);
	expect_resources(&spec, "r.conf:2: iobase: ports 0x4d1-0x4d1 overlap pic-elcr (0x4d0-0x4d1)");
	vm_spec_init(&spec);
	add_vdev(&spec, "isa-debug-exit", 2, "iobase", "0xa1", NULL, NULL);
	expect_resources(&spec, "r.conf:2: iobase: ports 0xa1-0xa1 overlap the PIC (0xa0-0xa1)");

	/* Types not in the table: options are read by their conventional names. */
	vm_spec_init(&spec);
	add_vdev(&spec, "future-dev", 2, "iobase", "0x3f8", NULL, NULL);
	expect_resources(&spec, "r.conf:2: iobase: ports 0x3f8-0x3f8 overlap uart8250 (0x3f8-0x3ff)");

	vm_spec_init(&spec);
	add_vdev(&spec, "virtio-blk", 2, "addr", "0xfffffffffffffff0", NULL, NULL);
	expect_resources(&spec, "r.conf:2: addr: 0xfffffffffffffff0 + 0x200 wraps around");
}

/* ---- host validation ---- */

static void fake_host(struct config_host *h)
{
	memset(h, 0, sizeof(*h));
	config_parse_cpulist("0-3", &h->present);
	config_parse_cpulist("0-2", &h->online);
	config_parse_cpulist("0-1", &h->allowed);
	h->have_present = h->have_online = h->have_allowed = true;
	h->mem_total = 2 * GiB;
	h->max_vcpus = 8;
}

/* message NULL: valid; otherwise the line and the errno returned (-EINVAL, a file's). */
static void expect_validate(const char *text, int err, const char *message)
{
	struct config_host host;
	struct vm_spec spec;
	struct capture c;
	char *errs;
	int ret;

	fake_host(&host);
	vm_spec_init(&spec);
	if (parse(&spec, "val.conf", text, &errs))
		fail_msg("parse: %s", errs);
	free(errs);
	capture_open(&c);
	ret = config_validate_host(&spec, &host, c.f);
	capture_close(&c);
	if (!message) {
		if (ret)
			fail_msg("unexpected: %s", c.buf);
	} else {
		char *want;

		if (asprintf(&want, "%s\n", message) < 0)
			fail();
		if (ret != err || strcmp(c.buf, want))
			fail_msg("\n  got  %d %s\n  want %d %s", ret, c.buf, err, want);
		free(want);
	}
	free(c.buf);
	vm_spec_free(&spec);
}

/* expect_validate() of text_fmt and message_fmt, each with path for its %s. */
static void expect_validate_path(const char *text_fmt, int err, const char *message_fmt,
				 const char *path)
{
	char *text = NULL, *message = NULL;

	if (asprintf(&text, text_fmt, path) < 0 || asprintf(&message, message_fmt, path) < 0)
		fail();
	expect_validate(text, err, message);
	free(text);
	free(message);
}

/*
 * Inputs that are not regular files: refused at once with what they are,
 * never waited on (a FIFO's open() blocks until a writer comes: the alarm
 * turns that into a failure instead of a hang).
 */
static void test_hostile_inputs(void **state)
{
	char dir[] = "/tmp/qlite-fifo-XXXXXX", fifo[64], *text, *errs, *want;
	struct vm_spec spec;

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(20);

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, fifo, NULL), -EINVAL);
	if (asprintf(&want, "%s: not a regular file (a FIFO); `-` reads a config from standard "
		     "input\n", fifo) < 0)
		fail();
	assert_string_equal(errs, want);
	free(want);
	free(errs);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	if (asprintf(&text, "ram 64M\ninclude %s\n", fifo) < 0)
		fail();
	assert_int_equal(parse(&spec, "inc.conf", text, &errs), -EINVAL);
	if (asprintf(&want, "inc.conf:2: %s: not a regular file (a FIFO)\n", fifo) < 0)
		fail();
	assert_string_equal(errs, want);
	free(want);
	free(text);
	free(errs);
	vm_spec_free(&spec);

	expect_validate_path("kernel %s\n", -EINVAL, "val.conf:1: %s: not a regular file (a FIFO)",
			     fifo);
	expect_validate_path("kernel dummy-kernel\ninitrd %s\n", -EINVAL,
			     "val.conf:2: %s: not a regular file (a FIFO)", fifo);
	expect_validate_path("kernel %s\n", -EINVAL,
			     "val.conf:1: %s: not a regular file (a character device)", "/dev/zero");
	/* A disk may be a block device, but not a FIFO. */
	expect_validate_path("kernel dummy-kernel\nvdev virtio-blk file %s\n", -EINVAL,
			     "val.conf:2: %s: not a regular file or block device (a FIFO)", fifo);

	alarm(0);
	unlink(fifo);
	rmdir(dir);
}

static void test_validate(void **state)
{
	expect_validate("kernel dummy-kernel\ninitrd dummy-kernel\ncpus 2\ncpu-cluster 0-1\n"
			"vdev virtio-blk file dummy-kernel\n", 0, NULL);
	expect_validate("ram 64M\n", -EINVAL, "val.conf: no kernel: add a line \"kernel PATH\" or "
			"give --kernel PATH");
	expect_validate("\nkernel nothere\n", -ENOENT,
			"val.conf:2: nothere: No such file or directory");
	expect_validate("kernel dummy-kernel\ninitrd sub\n", -EISDIR,
			"val.conf:2: sub: not a regular file (a directory)");
	expect_validate("kernel dummy-kernel\nvdev virtio-blk file nodisk.img\n", -ENOENT,
			"val.conf:2: nodisk.img: No such file or directory");
	expect_validate("kernel dummy-kernel\nram 3G\n", -EINVAL,
			"val.conf:2: 3G of RAM is more than the host has (MemTotal 2048 MiB)");
	expect_validate("kernel dummy-kernel\ncpus 9\n", -EINVAL,
			"val.conf:2: 9 vCPUs, but KVM allows at most 8 (KVM_CAP_MAX_VCPUS)");
	expect_validate("kernel dummy-kernel\ncpu\ncpu cluster 7\n", -EINVAL,
			"val.conf:3: host CPU 7 does not exist (host CPUs: 0-3)");
	expect_validate("kernel dummy-kernel\ncpu cluster 3\n", -EINVAL,
			"val.conf:2: host CPU 3 is offline (online: 0-2)");
	expect_validate("kernel dummy-kernel\ncpu cluster 1-2\n", -EINVAL,
			"val.conf:2: host CPU 2 is outside qlite's CPU affinity (allowed: 0-1)");
	expect_validate("kernel dummy-kernel\nvdev e1000 iobase 0x2f8 irq 3\n"
			"vdev e1000 iobase 0x340 irq 3\n", -EINVAL,
			"val.conf:3: irq: IRQ 3 is also used by vdev e1000 at val.conf:2");
}

static void test_validate_cli_and_probe(void **state)
{
	struct config_host host;
	struct vm_spec spec;
	char *errs;
	struct capture c;

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--ram", "64M", NULL), 0);
	free(errs);
	capture_open(&c);
	assert_int_equal(config_validate(&spec, c.f), -EINVAL);
	capture_close(&c);
	assert_string_equal(c.buf, "--kernel: missing: no kernel to boot (--kernel PATH)\n");
	free(c.buf);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--kernel", "dummy-kernel", "--cpu-cluster",
				    "4095", NULL), -EINVAL);
	assert_string_equal(errs, "--cpu-cluster: bad CPU list \"4095\": host CPUs are numbered "
			    "below 1024\n");
	free(errs);
	vm_spec_free(&spec);

	/* The real host: sysfs lists its CPUs, one of them is ours, memory is known. */
	config_host_probe(&host);
	if (!access("/sys/devices/system/cpu/online", R_OK)) {
		assert_true(host.have_present && host.have_online);
		assert_true(CPU_COUNT(&host.online) > 0);
		assert_true(CPU_COUNT(&host.present) >= CPU_COUNT(&host.online));
	}
	assert_true(host.have_allowed && CPU_COUNT(&host.allowed) > 0);
	assert_true(host.mem_total > 0);
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--kernel", "dummy-kernel", "--ram", "16M", NULL),
			 0);
	free(errs);
	capture_open(&c);
	assert_int_equal(config_validate(&spec, c.f), 0);
	capture_close(&c);
	assert_string_equal(c.buf, "");
	free(c.buf);
	vm_spec_free(&spec);
}

/* ---- round trip ---- */

/* b is how the printed file names a's path: absolute, the same file. */
static void assert_same_path(const char *a, const char *b)
{
	char *abs = config_absolute_path(a);

	assert_non_null(abs);
	assert_true(b[0] == '/');
	assert_string_equal(abs, b);
	free(abs);
}

static void assert_same_spec(const struct vm_spec *a, const struct vm_spec *b)
{
	assert_true((a->name == NULL) == (b->name == NULL));
	if (a->name)
		assert_string_equal(a->name, b->name);
	assert_int_equal(a->ram_size, b->ram_size);
	assert_int_equal(a->nr_vcpus, b->nr_vcpus);
	for (unsigned i = 0; i < a->nr_vcpus; i++) {
		assert_int_equal(a->cluster_set[i], b->cluster_set[i]);
		if (a->cluster_set[i])
			assert_true(CPU_EQUAL(&a->cluster[i], &b->cluster[i]));
	}
#define SAME_STR(f) do { \
		assert_true((a->f == NULL) == (b->f == NULL)); \
		if (a->f) \
			assert_string_equal(a->f, b->f); \
	} while (0)
	/* Paths are printed absolute: the same file from here. */
#define SAME_PATH(f) do { \
		assert_true((a->f == NULL) == (b->f == NULL)); \
		if (a->f) \
			assert_same_path(a->f, b->f); \
	} while (0)
	SAME_PATH(kernel);
	SAME_PATH(initrd);
	SAME_STR(cmdline);
	SAME_PATH(stats_json);
	SAME_PATH(stats_prom);
	SAME_PATH(stats_log);
	assert_int_equal(a->nr_modules, b->nr_modules);
	for (unsigned i = 0; i < a->nr_modules; i++) {
		SAME_PATH(modules[i].path);
		SAME_STR(modules[i].args);
	}
#undef SAME_STR
#undef SAME_PATH
	assert_int_equal(a->nr_vdevs, b->nr_vdevs);
	for (unsigned i = 0; i < a->nr_vdevs; i++) {
		assert_string_equal(a->vdevs[i].type, b->vdevs[i].type);
		assert_int_equal(a->vdevs[i].nr_opts, b->vdevs[i].nr_opts);
		for (unsigned j = 0; j < a->vdevs[i].nr_opts; j++) {
			const struct vdev_type *t = vdev_type_lookup(a->vdevs[i].type);

			assert_string_equal(a->vdevs[i].opts[j].key, b->vdevs[i].opts[j].key);
			if (vdev_opt_is_path(t, a->vdevs[i].opts[j].key))
				assert_same_path(a->vdevs[i].opts[j].value, b->vdevs[i].opts[j].value);
			else
				assert_string_equal(a->vdevs[i].opts[j].value,
						    b->vdevs[i].opts[j].value);
		}
	}
	assert_int_equal(a->exits_disable, b->exits_disable);
	assert_int_equal(a->halt_poll_ns, b->halt_poll_ns);
	assert_int_equal(a->nr_cpuid_edits, b->nr_cpuid_edits);
	for (unsigned i = 0; i < a->nr_cpuid_edits; i++) {
		assert_string_equal(a->cpuid_edits[i].feature, b->cpuid_edits[i].feature);
		assert_int_equal(a->cpuid_edits[i].enable, b->cpuid_edits[i].enable);
	}
	assert_int_equal(a->quirks, b->quirks);
	assert_int_equal(a->memfd, b->memfd);
	assert_int_equal(a->accounting_off, b->accounting_off);
	assert_int_equal(a->acpi_off, b->acpi_off);
	assert_int_equal(a->fw_cfg_off, b->fw_cfg_off);
	assert_int_equal(a->split_irqchip, b->split_irqchip);
	assert_int_equal(a->stats, b->stats);
	assert_int_equal(a->stats_table, b->stats_table);
	assert_int_equal(a->stats_interval_ms, b->stats_interval_ms);
}

static void round_trip(struct vm_spec *a)
{
	struct vm_spec b;
	struct capture c;
	char *errs;

	capture_open(&c);
	config_print(a, c.f);
	capture_close(&c);
	vm_spec_init(&b);
	if (parse(&b, "printed.conf", c.buf, &errs))
		fail_msg("printed spec does not parse: %s\n%s", errs, c.buf);
	assert_same_spec(a, &b);
	free(errs);
	free(c.buf);
	vm_spec_free(&b);
}

/* config_absolute_path(path) is the current directory, then want. */
static void expect_absolute(const char *cwd, const char *path, const char *want)
{
	char *got = config_absolute_path(path), *full;

	if (asprintf(&full, "%s/%s", cwd, want) < 0)
		fail();
	assert_string_equal(got, full);
	free(got);
	free(full);
}

static void test_absolute_path(void **state)
{
	char *cwd = getcwd(NULL, 0), *p;

	assert_non_null(cwd);
	p = config_absolute_path("/x/../y");
	assert_string_equal(p, "/x/../y");	/* absolute already: as written */
	free(p);
	expect_absolute(cwd, "dummy-kernel", "dummy-kernel");
	/* The directory resolved, .. included; the name kept. */
	expect_absolute(cwd, "sub/../sub/inc.conf", "sub/inc.conf");
	/* A directory that does not exist: from the current one. */
	expect_absolute(cwd, "nodir/out.json", "nodir/out.json");
	free(cwd);
}

static void test_round_trip(void **state)
{
	struct vm_spec spec;
	char *errs;

	/* Everything at once: quoting, continuations, pinning, devices, the CLI. */
	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "grammar.conf", "--vdev",
				    "e1000,backend=tap,hostfwd=\"a=b,c \\\"d\\\\\",iobase=0x300",
				    "--vdev", "virtio-blk,file=\"#odd name.img\",readonly=off",
				    "--cmdline", "console=ttyS0 x=\"y z\" \\ #", "--ram", "1028K",
				    NULL), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_string_equal(vdev_opt_get(&spec.vdevs[0], "hostfwd"), "a=b,c \"d\\");
	round_trip(&spec);
	vm_spec_free(&spec);

	/* Defaults only; then unpinned SMP, stats off with a file, bare stats on. */
	parse_ok(&spec, "rt.conf", "");
	round_trip(&spec);
	vm_spec_free(&spec);
	parse_ok(&spec, "rt.conf", "cpus 4\nstats off json s.json\nhalt-poll 0\nram 5G\n");
	round_trip(&spec);
	vm_spec_free(&spec);
	parse_ok(&spec, "rt.conf", "stats\ncpuid -kvm-signature\nexits disable all\n");
	round_trip(&spec);
	vm_spec_free(&spec);
	parse_ok(&spec, "rt.conf", "cpu\ncpu cluster 1-3,5\nquirks on\nsystem \"\\\\\"\n");
	round_trip(&spec);
	vm_spec_free(&spec);
}

/* module PATH [ARGS...]: paths as kernel's, repeatable, in order; the CLI splits at a space. */
static void test_modules(void **state)
{
	struct vm_spec spec;
	char *errs;

	parse_ok(&spec, "dir/vm.conf", "kernel k\nmodule a.bin\nmodule /m/b.bin x=1  \"y z\"\n");
	assert_int_equal(spec.nr_modules, 2);
	assert_string_equal(spec.modules[0].path, "dir/a.bin");
	assert_null(spec.modules[0].args);
	assert_string_equal(spec.modules[1].path, "/m/b.bin");
	assert_string_equal(spec.modules[1].args, "x=1 y z");
	assert_int_equal(spec.modules[1].origin.line, 3);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	assert_int_equal(parse_argv(&spec, &errs, "--kernel", "k", "--module", "m/c.bin  arg 2",
				    "--module", "d.bin", NULL), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(spec.nr_modules, 2);
	assert_string_equal(spec.modules[0].path, "m/c.bin");
	assert_string_equal(spec.modules[0].args, "arg 2");
	assert_string_equal(spec.modules[1].path, "d.bin");
	assert_null(spec.modules[1].args);
	round_trip(&spec);
	vm_spec_free(&spec);

	vm_spec_init(&spec);
	assert_int_equal(parse(&spec, "vm.conf", "module\n", &errs), -EINVAL);
	assert_string_equal(errs, "vm.conf:1: missing value (module PATH [ARGS...])\n");
	free(errs);
	vm_spec_free(&spec);
}

/* ---- the shipped configs ---- */

static void parse_config(struct vm_spec *spec, const char *name)
{
	const char *dir = getenv("QLITE_CONFIGS_DIR");
	char *path;

	if (!dir)
		skip();
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		fail();
	vm_spec_init(spec);
	if (config_parse_file(spec, path, stderr) || config_finalize(spec, stderr))
		fail_msg("%s does not parse", path);
	free(path);
}

static void test_shipped_configs(void **state)
{
	struct vm_spec spec;

	parse_config(&spec, "test-guest.conf");
	assert_non_null(strstr(spec.kernel, "build/tests/guest/qlite-test-guest.elf"));
	assert_string_equal(spec.cmdline, "hello reset");
	assert_int_equal(spec.nr_vcpus, 1);
	vm_spec_free(&spec);

	parse_config(&spec, "linux.conf");
	assert_non_null(strstr(spec.kernel, "guest/vmlinux"));
	assert_non_null(strstr(spec.initrd, "guest/initrd.cpio.gz"));
	assert_string_equal(spec.cmdline, "console=ttyS0 panic=-1");
	/* A panic stops qlite: Linux's pvpanic-pci driver finds this device without ACPI. */
	assert_int_equal(spec.nr_vdevs, 1);
	assert_string_equal(spec.vdevs[0].type, "pvpanic-pci");
	vm_spec_free(&spec);

	parse_config(&spec, "smp-pinned.conf");
	assert_int_equal(spec.nr_vcpus, 2);
	assert_true(spec.cluster_set[0] && CPU_ISSET(0, &spec.cluster[0]) &&
		    CPU_COUNT(&spec.cluster[0]) == 1);
	assert_true(spec.cluster_set[1] && CPU_ISSET(1, &spec.cluster[1]) &&
		    CPU_COUNT(&spec.cluster[1]) == 1);
	assert_string_equal(spec.cmdline, "smp=2");
	assert_non_null(strstr(spec.kernel, "qlite-test-guest.elf"));
	vm_spec_free(&spec);

	parse_config(&spec, "no-hlt-exits.conf");
	assert_int_equal(spec.exits_disable, EXITS_DISABLE_HLT | EXITS_DISABLE_PAUSE);
	vm_spec_free(&spec);
}

/* ---- the keyword table and the reference ---- */

static void test_keyword_table(void **state)
{
	for (unsigned i = 0; i < config_nr_keywords; i++) {
		const struct config_keyword *kw = &config_keywords[i];
		char cli0[64];

		snprintf(cli0, sizeof(cli0), "--%s", kw->name);
		assert_non_null(kw->cli[0]);
		assert_string_equal(kw->cli[0], cli0);
		assert_true(strlen(kw->help) > 10);
		assert_non_null(kw->parse);
		assert_ptr_equal(config_keyword_lookup(kw->name), kw);
		for (unsigned j = 0; j < ARRAY_SIZE(kw->cli) && kw->cli[j]; j++)
			assert_ptr_equal(config_option_lookup(kw->cli[j]), kw);
	}
	assert_null(config_keyword_lookup("--ram"));
	assert_null(config_option_lookup("ram"));
}

static char *reference_in(enum config_doc format)
{
	struct capture c;

	capture_open(&c);
	config_print_reference(c.f, format);
	return capture_close(&c);
}

static char *reference(bool markdown)
{
	return reference_in(markdown ? CONFIG_DOC_MARKDOWN : CONFIG_DOC_TEXT);
}

/*
 * The man page's sections: every keyword and device type an entry, every
 * line a request qlite writes or text roff cannot take for one, no code
 * mark left, options' hyphens as \-.
 */
static void test_reference_man(void **state)
{
	static const char *const requests[] = { ".SH ", ".TP\n", ".PP\n", ".IP\n", ".IP \\(bu 2\n",
						".RS\n", ".RE\n", ".nf\n", ".fi\n" };
	char *man = reference_in(CONFIG_DOC_MAN), entry[128];

	assert_null(strchr(man, '`'));
	assert_true(!strncmp(man, ".SH CONFIGURATION\n", 18));
	for (char *line = man; *line;) {
		char *nl = strchr(line, '\n');
		bool known = false;

		assert_non_null(nl);
		for (unsigned i = 0; i < ARRAY_SIZE(requests) && !known; i++)
			known = !strncmp(line, requests[i], strlen(requests[i]));
		if (!known && (*line == '.' || *line == '\''))
			fail_msg("a line roff reads as a request: %.*s", (int)(nl - line), line);
		line = nl + 1;
	}
	for (unsigned i = 0; i < config_nr_keywords + vdev_type_count(); i++) {
		const char *name = i < config_nr_keywords ? config_keywords[i].name :
				   vdev_type_at(i - config_nr_keywords)->name;
		size_t n = snprintf(entry, sizeof(entry), ".TP\n\\fB\\%%%s",
				    i < config_nr_keywords ? "" : "vdev ");

		for (; *name && n + 3 < sizeof(entry); name++) {
			if (*name == '-')
				entry[n++] = '\\';
			entry[n++] = *name;
		}
		entry[n] = '\0';
		if (!strstr(man, entry))
			fail_msg("no entry \"%s\" in the man page", entry);
	}
	assert_non_null(strstr(man, "\\fB\\%\\-\\-cpu\\-cluster LIST\\fR"));
	assert_non_null(strstr(man, ".SH DEVICE TYPES\n"));
	free(man);
}

static void test_reference(void **state)
{
	char *text = reference(false), *md = reference(true);

	for (unsigned i = 0; i < config_nr_keywords; i++) {
		char head[128];

		snprintf(head, sizeof(head), "\n### `%s", config_keywords[i].name);
		assert_non_null(strstr(md, head));
		assert_non_null(strstr(text, config_keywords[i].cli[0]));
	}
	assert_non_null(strstr(md, "isa-debug-exit"));
	/* The terminal version is wrapped and has no markdown code marks. */
	assert_null(strchr(text, '`'));
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');

		assert_non_null(nl);
		assert_true(nl - line <= 78 || !memchr(line, ' ', nl - line));
		line = nl + 1;
	}
	free(text);
	free(md);
}

/* With a device table, the reference lists each type and its options. */
static void test_reference_devices(void **state)
{
	char *md = reference(true);

	assert_non_null(strstr(md, "### `vdev virtio-blk`"));
	assert_non_null(strstr(md, "- `transport` (pci|mmio): bus"));
	assert_non_null(strstr(md, "- `iobase` (I/O port): base port"));
	free(md);
}

static void test_docs_up_to_date(void **state)
{
	const char *path = getenv("QLITE_CONFIG_DOCS"), *why;
	uint8_t *committed;
	size_t len;
	char *md;

	if (!path)
		skip();
	md = reference(true);
	if (read_file(path, &committed, &len, &why) < 0)
		fail_msg("%s: cannot read", path);
	if (len != strlen(md) || memcmp(committed, md, len))
		fail_msg("%s is out of date with the keyword table: regenerate it with "
			 "`test_config --write-docs %s` (or qlite help config --markdown)", path, path);
	free(committed);
	free(md);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_grammar_file),
		cmocka_unit_test(test_lexical_details),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_paths_relative_to_file),
		cmocka_unit_test_setup_teardown(test_include, use_fake_devices, use_builtin_devices),
		cmocka_unit_test(test_cli_overrides_file),
		cmocka_unit_test(test_cli_cpu_cluster),
		cmocka_unit_test(test_cli_final_backslash),
		cmocka_unit_test(test_qemu_spellings),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_vdev_unknown_builtin),
		cmocka_unit_test_setup_teardown(test_vdev_options, use_fake_devices,
						use_builtin_devices),
		cmocka_unit_test_setup_teardown(test_resources, use_fake_devices, use_builtin_devices),
		cmocka_unit_test_setup_teardown(test_validate, use_fake_devices, use_builtin_devices),
		cmocka_unit_test_setup_teardown(test_hostile_inputs, use_fake_devices,
						use_builtin_devices),
		cmocka_unit_test(test_validate_cli_and_probe),
		cmocka_unit_test(test_absolute_path),
		cmocka_unit_test_setup_teardown(test_modules, use_fake_devices, use_builtin_devices),
		cmocka_unit_test_setup_teardown(test_round_trip, use_fake_devices,
						use_builtin_devices),
		cmocka_unit_test(test_shipped_configs),
		cmocka_unit_test(test_keyword_table),
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_reference_man),
		cmocka_unit_test_setup_teardown(test_reference_devices, use_fake_devices,
						use_builtin_devices),
		cmocka_unit_test(test_docs_up_to_date),
	};
	const char *cases = getenv("QLITE_CONFIG_CASES");

	if (argc == 3 && !strcmp(argv[1], "--write-docs")) {
		FILE *f = fopen(argv[2], "w");

		if (!f) {
			perror(argv[2]);
			return 1;
		}
		config_print_reference(f, true);
		return fclose(f) ? 1 : 0;
	}
	if (cases && chdir(cases) < 0) {
		perror(cases);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
