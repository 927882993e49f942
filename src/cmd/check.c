// SPDX-License-Identifier: GPL-2.0-only
/*
 * qlite check [FILE.conf|-]... [--option value]... [--print-config] [--dtb FILE]
 * [--dump-acpi DIR]: validate each VM and describe it. Its own options:
 * --print-config prints the spec in the config language, --dtb FILE writes
 * the machine as a device tree, --dump-acpi DIR the ACPI tables as files
 * (DIR/facp.dat...) for `iasl -d`. With several config files, each is checked with the same
 * options, under a "== FILE" line.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/config.h"
#include "qlite/vm.h"
#include "cmd.h"

struct check_opts {
	bool print_config;
	const char *dtb;
	const char *acpi_dir;
};

/* argv is one VM's arguments: [FILE.conf] [--option value]... */
static int check_one(const struct check_opts *o, int argc, char **argv)
{
	struct vm_spec spec;
	int ret = 0;

	if (cmd_parse_spec(&spec, argc, argv) < 0)
		ret = EXIT_CONFIG;
	else if (o->print_config)
		config_print(&spec, stdout);
	else if (vm_describe(&spec, stdout, o->dtb, o->acpi_dir) < 0)
		ret = 1;
	vm_spec_free(&spec);
	return ret;
}

int cmd_check(int argc, char **argv)
{
	struct check_opts o = { 0 };
	char **args;
	int n = 0, files = 0, worst = 0;

	if (cmd_wants_help(argc, argv, "check"))
		return 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--print-config")) {
			o.print_config = true;
		} else if (!strcmp(argv[i], "--dtb")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "--dtb: missing value (a file to write)\n");
				return EXIT_CONFIG;
			}
			o.dtb = argv[++i];
		} else if (!strcmp(argv[i], "--dump-acpi")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "--dump-acpi: missing value (a directory)\n");
				return EXIT_CONFIG;
			}
			o.acpi_dir = argv[++i];
		} else {
			argv[n++] = argv[i];
		}
	}
	/* The config files come first (`-` is standard input); the options after them apply to each. */
	while (files < n && (argv[files][0] != '-' || !strcmp(argv[files], "-")))
		files++;
	for (int f = 0, stdin_seen = 0; f < files; f++) {
		if (strcmp(argv[f], "-"))
			continue;
		if (stdin_seen++) {
			fprintf(stderr, "-: standard input given twice; it holds one config\n");
			return EXIT_CONFIG;
		}
	}
	if (files <= 1)
		return check_one(&o, n, argv);
	if (o.dtb || o.acpi_dir) {
		fprintf(stderr, "%s: one output for %d VMs; check them one at a time\n",
			o.dtb ? "--dtb" : "--dump-acpi", files);
		return EXIT_CONFIG;
	}
	args = calloc(n - files + 1, sizeof(*args));
	if (!args)
		return 1;
	memcpy(args + 1, argv + files, (n - files) * sizeof(*args));
	for (int f = 0; f < files; f++) {
		int ret;

		printf("%s== %s\n", f ? "\n" : "", argv[f]);
		fflush(stdout);
		args[0] = argv[f];
		ret = check_one(&o, n - files + 1, args);
		/* A config error (2) outranks a VM that cannot be built (1). */
		if (ret > worst)
			worst = ret;
	}
	free(args);
	return worst;
}
