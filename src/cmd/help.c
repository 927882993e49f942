// SPDX-License-Identifier: GPL-2.0-only
/* qlite help [TOPIC], qlite --version, and each command's --help. */
#include <string.h>

#include "qlite/config.h"
#include "qlite/util.h"
#include "cmd.h"

static const char run_usage[] =
	"usage: qlite run [FILE.conf|-] [--option value]...\n"
	"Build the VM that FILE.conf (- reads it from standard input) and the options\n"
	"describe, and run it. Options are the config file's keywords ('qlite help config'), e.g.\n"
	"  qlite run --kernel vmlinux --initrd initrd.cpio.gz --cmdline \"console=ttyS0\" \\\n"
	"            --ram 256M --cpus 2 --cpu-cluster 0,1\n"
	"Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n"
	"Exit status: the guest's (debug-exit: (v << 1) | 1; reset or power-off: 0; a panic\n"
	"reported through pvpanic: 6), 128+N on signal N, 1 when the VM could not be built,\n"
	"2 for a bad command line or config, 4 when an output could not be written.\n";

static const char check_usage[] =
	"usage: qlite check [FILE.conf|-]... [--option value]... [--print-config] [--dtb FILE]\n"
	"Validate the VM without running it (the kernel and initrd are loaded as run loads\n"
	"them, into scratch memory) and print the assembled machine: memory map,\n"
	"ports, MMIO, IRQs, PCI slots, vCPU pinning, the effective kernel command line.\n"
	"Several config files are checked one after the other, each with the options.\n"
	"  --print-config  print the VM in the config language instead\n"
	"  --dtb FILE      also write the machine as a flattened device tree\n"
	"Exit status: 0 when every VM is valid, 2 for a bad config, 1 when it cannot be built.\n";

static const char help_usage[] =
	"usage: qlite help [config [--markdown]]\n";

void cmd_usage(FILE *out)
{
	fprintf(out,
		"usage: qlite run   [FILE.conf|-] [--option value]...\n"
		"       qlite check [FILE.conf|-]... [--option value]... [--print-config] [--dtb FILE]\n"
		"       qlite help [config [--markdown]]\n"
		"       qlite --version\n"
		"\n"
		"Options are the config file's keywords (see 'qlite help config'), e.g.\n"
		"  qlite run --kernel vmlinux --initrd initrd.cpio.gz --cmdline \"console=ttyS0\" \\\n"
		"            --ram 256M --cpus 2 --cpu-cluster 0,1\n"
		"Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n"
		"'qlite COMMAND --help' says more about a command.\n");
}

/*
 * `qlite run --help` and the like: the command's usage on stdout. Only as
 * the first argument, where it cannot be the value of an option
 * (`--cmdline --help` is a kernel command line).
 */
bool cmd_wants_help(int argc, char **argv, const char *command)
{
	const char *text = !strcmp(command, "run") ? run_usage :
			   !strcmp(command, "check") ? check_usage : help_usage;

	if (argc < 1 || (strcmp(argv[0], "--help") && strcmp(argv[0], "-h")))
		return false;
	fputs(text, stdout);
	return true;
}

int cmd_help(int argc, char **argv)
{
	if (argc == 0) {
		cmd_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[0], "config")) {
		config_print_reference(stdout, argc > 1 && !strcmp(argv[1], "--markdown"));
		return 0;
	}
	if (!strcmp(argv[0], "run") || !strcmp(argv[0], "check")) {
		fputs(!strcmp(argv[0], "run") ? run_usage : check_usage, stdout);
		return 0;
	}
	pr_err("help: no topic \"%s\" (topics: config, run, check; the exit reports are in docs/stats.md)",
	       argv[0]);
	return EXIT_CONFIG;
}

int cmd_version(int argc, char **argv)
{
	printf("qlite %s\n", QLITE_VERSION);
	return 0;
}
