// SPDX-License-Identifier: GPL-2.0-only
/*
 * qlite's entry: the command table. Each command is a file of src/cmd/:
 *   qlite run   [FILE.conf] [--option value]...   build the VM and run it
 *   qlite check [FILE.conf] [--option value]...   validate and describe the VM
 *   qlite compare A.conf B.conf [--workload W]...  the same workload on two VMs, side by side
 *   qlite help [config]                           usage, or the config reference
 */
#include <stdio.h>
#include <string.h>

#include "qlite/util.h"
#include "cmd/cmd.h"

static const struct cmd commands[] = {
	{ "run", cmd_run },
	{ "check", cmd_check },
	{ "compare", cmd_compare },
	{ "help", cmd_help },
	{ "--help", cmd_help },
	{ "-h", cmd_help },
	{ "--version", cmd_version },
	{ "-V", cmd_version },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		cmd_usage(stderr);
		return EXIT_CONFIG;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 2, argv + 2);
	pr_err("unknown command \"%s\"", argv[1]);
	cmd_usage(stderr);
	return EXIT_CONFIG;
}
