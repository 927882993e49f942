// SPDX-License-Identifier: GPL-2.0-only
/*
 * qlite check [FILE.conf] [--option value]... [--print-config] [--dtb FILE]:
 * validate the VM and describe it. Its own options: --print-config prints
 * the spec in the config language, --dtb FILE writes the machine as a
 * device tree.
 */
#include <stdbool.h>
#include <string.h>

#include "qlite/config.h"
#include "qlite/vm.h"
#include "cmd.h"

int cmd_check(int argc, char **argv)
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
	if (cmd_parse_spec(&spec, n, argv) < 0)
		ret = EXIT_CONFIG;
	else if (print_config)
		config_print(&spec, stdout);
	else if (vm_describe(&spec, stdout, dtb) < 0)
		ret = 1;
	vm_spec_free(&spec);
	return ret;
}
