// SPDX-License-Identifier: GPL-2.0-only
/* qlite help [config [--markdown]], qlite --version. */
#include <string.h>

#include "qlite/config.h"
#include "cmd.h"

void cmd_usage(FILE *out)
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

int cmd_help(int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "config")) {
		config_print_reference(stdout, argc > 1 && !strcmp(argv[1], "--markdown"));
		return 0;
	}
	cmd_usage(stdout);
	return 0;
}

int cmd_version(int argc, char **argv)
{
	printf("qlite 0.1.0\n");
	return 0;
}
