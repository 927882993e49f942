// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stats outputs checked before a VM starts (config_check_outputs):
 * regular file or absent, in a writable directory, distinct from every
 * other output and input. Runs in a fresh directory of its own.
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

/* Parse argv (NULL-terminated) and check its outputs; the message, if any, in *msg. */
static int check(char **msg, ...)
{
	struct vm_spec spec;
	char *argv[16], *buf = NULL;
	size_t len = 0;
	int argc = 0, ret;
	FILE *err = open_memstream(&buf, &len);
	va_list ap;

	va_start(ap, msg);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	vm_spec_init(&spec);
	ret = config_parse_args(&spec, argc, argv, err);
	assert_int_equal(ret, 0);
	ret = config_check_outputs(&spec, err);
	vm_spec_free(&spec);
	fclose(err);
	*msg = buf;
	return ret;
}

static void expect_error(const char *want, char *msg, int ret)
{
	if (ret >= 0 || !strstr(msg, want))
		fail_msg("expected an error with \"%s\", got %d: %s", want, ret, msg);
	free(msg);
}

static void expect_ok(char *msg, int ret)
{
	if (ret != 0)
		fail_msg("expected no error, got %d: %s", ret, msg);
	free(msg);
}

static int setup(void **state)
{
	static char dir[] = "/tmp/qlite-test-outputs-XXXXXX";
	FILE *f;

	if (!mkdtemp(dir) || chdir(dir) < 0)
		return -1;
	f = fopen("vmlinux", "w");
	if (!f)
		return -1;
	fputs("not a kernel, only an input", f);
	fclose(f);
	if (mkfifo("fifo", 0600) < 0 || mkdir("dir", 0700) < 0 || symlink("old.json", "link") < 0 ||
	    link("vmlinux", "vmlinux.hard") < 0)
		return -1;
	f = fopen("old.json", "w");
	if (!f)
		return -1;
	fclose(f);
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	static const char *const names[] = {
		"vmlinux", "vmlinux.hard", "fifo", "link", "old.json", "vm.conf", "new.json",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(names[i]);
	rmdir("dir");
	if (chdir("/") < 0 || rmdir(*state) < 0)
		return -1;
	return 0;
}

static void test_regular_or_absent(void **state)
{
	/* One output each: the option, its value, the message. */
	static const struct {
		const char *option, *path, *want;
	} bad[] = {
		{ "--stats-json", "/dev/full", "--stats-json: /dev/full is a character device, not a regular file" },
		{ "--stats-prom", "fifo", "--stats-prom: fifo is a FIFO, not a regular file" },
		{ "--stats-json", "link", "--stats-json: link is a symbolic link" },
		{ "--stats-log", "dir", "--stats-log: dir is a directory" },
		{ "--stats-json", "dir/", "--stats-json: dir/ names a directory" },
		{ "--stats-json", "nodir/x.json",
		  "--stats-json: nodir/x.json: directory nodir: No such file or directory" },
		{ "--stats-json", "vmlinux/x.json", "--stats-json: vmlinux/x.json: Not a directory" },
		/* Given through `--stats json=...`: the option as written. */
		{ "--stats", "json=fifo", "--stats: fifo is a FIFO" },
	};
	struct stat st;
	char *msg;
	int ret;

	ret = check(&msg, "--kernel", "vmlinux", "--stats-json", "new.json", "--stats-prom",
		    "old.json", "--stats-log", "dir/log", NULL);
	expect_ok(msg, ret);
	assert_int_equal(access("new.json", F_OK), -1);		/* checking creates nothing */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = check(&msg, "--kernel", "vmlinux", bad[i].option, bad[i].path, NULL);
		expect_error(bad[i].want, msg, ret);
	}
	assert_int_equal(stat("/dev/full", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	/* `stats off`: nothing is written, nothing to check. */
	ret = check(&msg, "--kernel", "vmlinux", "--stats-json", "/dev/full", "--stats", "off", NULL);
	expect_ok(msg, ret);
}

static void test_unwritable_directory(void **state)
{
	char *msg;
	int ret;

	if (geteuid() == 0)
		skip();		/* root writes anywhere access() is asked about */
	assert_int_equal(chmod("dir", 0500), 0);
	ret = check(&msg, "--kernel", "vmlinux", "--stats-json", "dir/x.json", NULL);
	chmod("dir", 0700);
	expect_error("--stats-json: dir/x.json: directory dir: Permission denied", msg, ret);
}

static void test_distinct(void **state)
{
	FILE *f;
	char *msg;
	int ret;

	/* Two outputs on one path, however it is spelled. */
	ret = check(&msg, "--kernel", "vmlinux", "--stats-json", "new.json", "--stats-prom",
		    "./dir/../new.json", NULL);
	expect_error("--stats-json: new.json is also the Prometheus output (--stats-prom): each output needs a file of its own",
		     msg, ret);
	ret = check(&msg, "--kernel", "vmlinux", "--stats-json", "old.json", "--stats-log", "old.json", NULL);
	expect_error("--stats-json: old.json is also the stats log (--stats-log)", msg, ret);
	/* An output over an input: the kernel (by a hard link too), the initrd, the config file. */
	ret = check(&msg, "--kernel", "vmlinux", "--stats-prom", "vmlinux", NULL);
	expect_error("--stats-prom: vmlinux is also the kernel (--kernel): an output would overwrite it", msg, ret);
	ret = check(&msg, "--kernel", "vmlinux", "--stats-json", "vmlinux.hard", NULL);
	expect_error("--stats-json: vmlinux.hard is also the kernel", msg, ret);
	ret = check(&msg, "--kernel", "vmlinux", "--initrd", "old.json", "--stats-log", "old.json", NULL);
	expect_error("--stats-log: old.json is also the initrd (--initrd)", msg, ret);
	/* ... and a disk image: rewriting it would destroy the disk. */
	ret = check(&msg, "--kernel", "vmlinux", "--vdev", "ide,file=old.json", "--stats-json",
		    "old.json", NULL);
	expect_error("--stats-json: old.json is also a vdev's file (--vdev): an output would overwrite it",
		     msg, ret);
	f = fopen("vm.conf", "w");
	assert_non_null(f);
	fputs("kernel vmlinux\nstats json vm.conf\n", f);
	fclose(f);
	ret = check(&msg, "vm.conf", NULL);
	expect_error("vm.conf:2: vm.conf is also a config file of this VM: an output would overwrite it", msg, ret);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular_or_absent),
		cmocka_unit_test(test_unwritable_directory),
		cmocka_unit_test(test_distinct),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
