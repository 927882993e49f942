// SPDX-License-Identifier: GPL-2.0-only
/*
 * qlite command line:
 *   qlite run   [FILE.conf] [--option value]...   build the VM and run it
 *   qlite check [FILE.conf] [--option value]...   validate and describe the VM
 *   qlite help [config]                           usage, or the config reference
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "qlite/config.h"
#include "qlite/util.h"
#include "qlite/vm.h"

#define EXIT_CONFIG 2

static void usage(FILE *out)
{
	fprintf(out,
		"usage: qlite run   [FILE.conf] [--option value]...\n"
		"       qlite check [FILE.conf] [--option value]... [--print-config] [--dtb FILE]\n"
		"       qlite help [config [--markdown]]\n"
		"\n"
		"Options are the config file's keywords (see 'qlite help config'), e.g.\n"
		"  qlite run --kernel vmlinux --initrd initrd.cpio.gz --cmdline \"console=ttyS0\" \\\n"
		"            --ram 256M --cpus 2 --cpu-cluster 0,1\n"
		"Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n");
}

static int parse_spec(struct vm_spec *spec, int argc, char **argv)
{
	vm_spec_init(spec);
	if (config_parse_args(spec, argc, argv, stderr) < 0)
		return -1;
	if (config_validate(spec, stderr) < 0)
		return -1;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct vm_spec spec;
	struct vm vm;
	int status;

	if (parse_spec(&spec, argc, argv) < 0) {
		vm_spec_free(&spec);
		return EXIT_CONFIG;
	}
	if (vm_create(&vm, &spec) < 0) {
		vm_destroy(&vm);
		vm_spec_free(&spec);
		return 1;
	}
	status = vm_run(&vm);
	vm_destroy(&vm);
	vm_spec_free(&spec);
	return status;
}

/*
 * `check` has options of its own: --print-config prints the spec in the
 * config language, --dtb FILE writes the machine as a device tree.
 */
static int cmd_check(int argc, char **argv)
{
	bool print_config = false;
	const char *dtb = NULL;
	struct vm_spec spec;
	int ret = 0, n = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--print-config")) {
			print_config = true;
		} else if (!strcmp(argv[i], "--dtb")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "--dtb: missing value (a file to write)\n");
				return EXIT_CONFIG;
			}
			dtb = argv[++i];
		} else {
			argv[n++] = argv[i];
		}
	}
	if (parse_spec(&spec, n, argv) < 0)
		ret = EXIT_CONFIG;
	else if (print_config)
		config_print(&spec, stdout);
	else if (vm_describe(&spec, stdout, dtb) < 0)
		ret = 1;
	vm_spec_free(&spec);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 2, argv + 2);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		if (argc > 2 && !strcmp(argv[2], "config")) {
			config_print_reference(stdout, argc > 3 && !strcmp(argv[3], "--markdown"));
			return 0;
		}
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("qlite 0.1.0\n");
		return 0;
	}
	pr_err("unknown command \"%s\"", argv[1]);
	usage(stderr);
	return EXIT_CONFIG;
}
