// SPDX-License-Identifier: GPL-2.0-only
/*
 * qlite help [TOPIC], qlite --version, each command's --help, and the man
 * page (`qlite help config --man`, build/qlite.1): its commands and exit
 * statuses from here, its configuration sections from the keyword and
 * device tables, as `qlite help config` prints them.
 */
#include <string.h>

#include "qlite/compare.h"
#include "qlite/config.h"
#include "qlite/util.h"
#include "qlite/vdev.h"
#include "cmd.h"

static const char run_usage[] =
	"usage: qlite run [FILE.conf|-] [--option value]...\n"
	"Build the VM that FILE.conf (- reads it from standard input) and the options\n"
	"describe, and run it. Options are the config file's keywords ('qlite help config'), e.g.\n"
	"  qlite run --kernel vmlinux --initrd initrd.cpio.gz --cmdline \"console=ttyS0\" \\\n"
	"            --ram 256M --cpus 2 --cpu-cluster 0,1\n"
	"Kernels: an ELF with a PVH note (64- or 32-bit), a bzImage, or a multiboot v1 kernel\n"
	"(ELF32 or a.out kludge; --initrd is its first module, --module \"PATH ARGS\" adds more).\n"
	"Console: Ctrl-A x quits, Ctrl-A b sends a break (Linux: SysRq), Ctrl-A Ctrl-A sends Ctrl-A.\n"
	"Exit status: the guest's (debug-exit: (v << 1) | 1; reset or power-off: 0; a panic\n"
	"reported through pvpanic: 6), 128+N on signal N, 1 when the VM could not be built,\n"
	"2 for a bad command line or config, 4 when an output could not be written.\n";

static const char check_usage[] =
	"usage: qlite check [FILE.conf|-]... [--option value]... [--print-config] [--dtb FILE]\n"
	"                   [--dump-acpi DIR]\n"
	"Validate the VM without running it (the kernel and initrd are loaded as run loads\n"
	"them, into scratch memory) and print the assembled machine: memory map,\n"
	"ports, MMIO, IRQs, PCI slots, vCPU pinning, the ACPI tables, the effective kernel\n"
	"command line. Several config files are checked one after the other, each with the\n"
	"options.\n"
	"  --print-config  print the VM in the config language instead\n"
	"  --dtb FILE      also write the machine as a flattened device tree\n"
	"  --dump-acpi DIR also write each ACPI table as DIR/SIG.dat (rsdp, facp, apic...: iasl -d)\n"
	"Exit status: 0 when every VM is valid, 2 for a bad config, 1 when it cannot be built.\n";

static const char compare_usage[] =
	"usage: qlite compare A.conf B.conf [--workload W] [--runs N] [--json FILE] [--svg FILE]\n"
	"                     [--until LINE] [--timeout DURATION] [--option value]...\n"
	"Run the same workload on VM A and VM B, A and B interleaved run by run, and print\n"
	"their exits side by side: per second and per unit of work, by reason, device and\n"
	"register, with B/A; handler time (avg, p99); the kernel's counters (KVM stats fd);\n"
	"the devices' own counters (virtio kicks and interrupts per queue); a verdict line.\n"
	"Each run is a child `qlite run` of the config with the workload's test guest\n"
	"command line (its words come from the device each config has); the disk a block\n"
	"workload drives is replaced by a fresh sparse scratch image, so no image is written.\n"
	"  --workload W    the test guest's workload (default blk-write, or the first below)\n"
	"  --until LINE    instead: boot the config as it is (a Linux guest) until a line of\n"
	"                  its console holds LINE; the unit of work is the boot\n"
	"  --runs N        runs of each VM (default 3): median and spread (min..max)\n"
	"  --json FILE     the comparison as JSON (docs/compare.md)\n"
	"  --svg FILE      grouped bars by reason and device, A beside B (SVG 1.1)\n"
	"  --timeout D     stop a run after D (default 600s) and fail\n"
	"Other options are the config language's and apply to both VMs (--ram 128M).\n"
	"Exit status: 0 when every run ended as expected, 1 when one did not, 2 for a bad\n"
	"command line or config.\n"
	"Workloads (SIZE: the bytes of a request or a frame):\n";

static const char help_usage[] =
	"usage: qlite help [config [--markdown|--man]|options|devices|run|check|compare]\n"
	"  config      the config language: every keyword (and option) and device type\n"
	"  --markdown  ... as docs/config.md; --man: the whole man page, qlite(1), in roff\n"
	"  options     the options of run and check, one a line with its syntax (for scripts)\n"
	"  devices     the vdev types, one a line\n";

void cmd_usage(FILE *out)
{
	fprintf(out,
		"usage: qlite run   [FILE.conf|-] [--option value]...\n"
		"       qlite check [FILE.conf|-]... [--option value]... [--print-config] [--dtb FILE]\n"
		"       qlite compare A.conf B.conf [--workload W] [--runs N] [--json FILE] [--svg FILE]\n"
		"                     [--until LINE]\n"
		"       qlite help [config [--markdown|--man]|options|devices|run|check|compare]\n"
		"       qlite --version\n"
		"\n"
		"Options are the config file's keywords (see 'qlite help config'), e.g.\n"
		"  qlite run --kernel vmlinux --initrd initrd.cpio.gz --cmdline \"console=ttyS0\" \\\n"
		"            --ram 256M --cpus 2 --cpu-cluster 0,1\n"
		"Kernels: PVH ELF (64- or 32-bit), bzImage, multiboot v1 (ELF32 or a.out kludge).\n"
		"Console: Ctrl-A x quits, Ctrl-A b sends a break (Linux: SysRq), Ctrl-A Ctrl-A sends Ctrl-A.\n"
		"'qlite COMMAND --help' says more about a command.\n");
}

/*
 * `qlite run --help` and the like: the command's usage on stdout. Only as
 * the first argument, where it cannot be the value of an option
 * (`--cmdline --help` is a kernel command line).
 */
static void compare_help(FILE *out)
{
	char line[512];

	fputs(compare_usage, out);
	for (unsigned i = 0; cmp_workload_help(i, line, sizeof(line)); i++)
		fprintf(out, "  %s\n", line);
}

bool cmd_wants_help(int argc, char **argv, const char *command)
{
	const char *text = !strcmp(command, "run") ? run_usage :
			   !strcmp(command, "check") ? check_usage : help_usage;

	if (argc < 1 || (strcmp(argv[0], "--help") && strcmp(argv[0], "-h")))
		return false;
	if (!strcmp(command, "compare"))
		compare_help(stdout);
	else
		fputs(text, stdout);
	return true;
}

/* The exit statuses of `qlite run`, as README.md's table has them. */
static const struct {
	const char *status, *meaning;
} exit_statuses[] = {
	{ "0", "The guest reset or powered off, or `Ctrl-A x` on the console." },
	{ "(v << 1) | 1", "The guest wrote v to a debug-exit port: always odd (1 is the test "
	  "guest's \"passed\")." },
	{ "1", "qlite could not build or run the VM (a kernel it cannot boot, a KVM error); "
	  "`qlite check`: a VM that cannot be built." },
	{ "2", "A bad command line or VM description; nothing was started." },
	{ "4", "The VM ran, but an output (`--stats-json`, `--stats-prom`, `--stats-log`) could "
	  "not be written; the stop line names it and the status the VM ended with." },
	{ "6", "The guest panicked: it wrote PANICKED to a `pvpanic` or `pvpanic-pci` device." },
	{ "128 + N", "Stopped by signal N (SIGINT, SIGTERM, SIGHUP)." },
};

/* The compare command in the man page, its workloads from the workload table. */
static void help_man_compare(FILE *out)
{
	char line[512];

	fputs(".TP\n"
	      "\\fBcompare\\fR \\fIA.conf\\fR \\fIB.conf\\fR [\\fIOPTION\\fR]...\n", out);
	config_print_man_line(out, "Run the same workload on VM A and VM B, A and B interleaved run "
			      "by run (`--runs N`, default 3), each run a child `qlite run` with "
			      "`--stats-json`, and print their exits side by side: per second and per "
			      "unit of work by reason, device and register with B/A, handler time "
			      "(avg, p99), the kernel's counters (KVM stats fd), the devices' own "
			      "counters (virtio kicks and interrupts per queue), medians with their "
			      "spread (min..max), and a verdict line. The test guest's command line "
			      "is made from the device each config has (ide, virtio-blk over PCI or "
			      "MMIO, e1000, virtio-net); the disk a block workload drives is replaced "
			      "by a fresh sparse scratch image for every run, so no image is written. "
			      "Other options are the config language's and apply to both VMs. "
			      "`--until LINE` boots the configs as they are (Linux) until a console "
			      "line holds LINE instead. `--json FILE` writes the comparison as JSON "
			      "(docs/compare.md), `--svg FILE` grouped bars per reason and device, A "
			      "beside B, on a log scale when they span more than 100x. `--timeout "
			      "DURATION` (default 600s) fails a run that does not end. Exit status 0, "
			      "1 when a run failed, 2 for a bad command line or config. Workloads "
			      "(`--workload W`, default blk-write):");
	fputs(".RS\n", out);
	for (unsigned i = 0; cmp_workload_help(i, line, sizeof(line)); i++) {
		fputs(".IP \\(bu 2\n", out);
		config_print_man_line(out, line);
	}
	fputs(".RE\n", out);
}

/* qlite(1): built by meson into build/qlite.1 and installed with the binary. */
static void help_man(FILE *out)
{
	fprintf(out,
		".\\\" Generated by `qlite help config --man` from the keyword and device tables; do not edit.\n"
		".TH QLITE 1 \"\" \"qlite %s\" \"User Commands\"\n"
		".SH NAME\n"
		"qlite \\- a small KVM virtual machine monitor that counts what virtualization costs\n"
		".SH SYNOPSIS\n"
		".B qlite run\n"
		"[\\fIFILE.conf\\fR|\\fB\\-\\fR] [\\fIOPTION\\fR]...\n"
		".br\n"
		".B qlite check\n"
		"[\\fIFILE.conf\\fR|\\fB\\-\\fR]... [\\fIOPTION\\fR]... [\\fB\\-\\-print\\-config\\fR] "
		"[\\fB\\-\\-dtb\\fR \\fIFILE\\fR] [\\fB\\-\\-dump\\-acpi\\fR \\fIDIR\\fR]\n"
		".br\n"
		".B qlite compare\n"
		"\\fIA.conf\\fR \\fIB.conf\\fR [\\fB\\-\\-workload\\fR \\fIW\\fR] "
		"[\\fB\\-\\-runs\\fR \\fIN\\fR] [\\fB\\-\\-json\\fR \\fIFILE\\fR] "
		"[\\fB\\-\\-svg\\fR \\fIFILE\\fR] [\\fB\\-\\-until\\fR \\fILINE\\fR] "
		"[\\fB\\-\\-timeout\\fR \\fIDURATION\\fR]\n"
		".br\n"
		".B qlite help\n"
		"[\\fBconfig\\fR [\\fB\\-\\-markdown\\fR|\\fB\\-\\-man\\fR]|\\fBoptions\\fR|"
		"\\fBdevices\\fR|\\fBrun\\fR|\\fBcheck\\fR|\\fBcompare\\fR]\n"
		".br\n"
		".B qlite \\-\\-version\n"
		".SH DESCRIPTION\n"
		"qlite boots Linux guests (an ELF vmlinux through its PVH entry, or a bzImage), 32-bit\n"
		"PVH kernels and multiboot v1 kernels (ELF32 or a.out kludge, with modules) on\n"
		".I /dev/kvm\n"
		"with one pinned thread per vCPU, and counts every exit, per vCPU, per reason and per\n"
		"device register. A VM is described by a config file, by options, or both: every\n"
		"keyword of the file is also an option (see CONFIGURATION).\n"
		".SH COMMANDS\n"
		".TP\n"
		"\\fBrun\\fR [\\fIFILE.conf\\fR|\\fB\\-\\fR] [\\fIOPTION\\fR]...\n"
		"Build the VM and run it. The guest's serial console is the terminal (raw mode when\n"
		"it is one): \\fBCtrl-A x\\fR quits, \\fBCtrl-A b\\fR sends a break (a Linux guest's SysRq), \\fBCtrl-A Ctrl-A\\fR sends a Ctrl-A. At every stop\n"
		"qlite prints one line: why it stopped, how long it ran, the exits by reason and the\n"
		"accesses no device claimed.\n"
		".TP\n"
		"\\fBcheck\\fR [\\fIFILE.conf\\fR|\\fB\\-\\fR]... [\\fIOPTION\\fR]...\n"
		"Validate the VM without running it (the kernel and initrd are loaded as \\fBrun\\fR\n"
		"loads them, into scratch memory) and print the assembled machine: memory map, ports,\n"
		"MMIO, IRQs, PCI slots, vCPU pinning, the ACPI tables, the effective kernel command\n"
		"line. Several config files are checked one after the other, each with the options.\n"
		"\\fB\\-\\-print\\-config\\fR prints the VM in the config language instead, with\n"
		"absolute paths; \\fB\\-\\-dtb\\fR \\fIFILE\\fR also writes the machine as a\n"
		"flattened device tree, \\fB\\-\\-dump\\-acpi\\fR \\fIDIR\\fR its ACPI tables as\n"
		"files (\\fIDIR\\fR/facp.dat...) that \\fBiasl \\-d\\fR reads.\n", QLITE_VERSION);
	help_man_compare(out);
	fprintf(out,
		".TP\n"
		"\\fBhelp\\fR [\\fITOPIC\\fR]\n"
		"The usage, or a topic: \\fBconfig\\fR (the reference below; \\fB\\-\\-markdown\\fR\n"
		"gives docs/config.md, \\fB\\-\\-man\\fR this page), \\fBoptions\\fR and\n"
		"\\fBdevices\\fR (one a line, for scripts such as the bash completion), \\fBrun\\fR,\n"
		"\\fBcheck\\fR, \\fBcompare\\fR. \\fBqlite\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR (or \\fB\\-h\\fR, as the\n"
		"first argument) prints a command's usage.\n"
		".PP\n"
		"A config file named \\fB\\-\\fR is read from standard input; its paths are relative\n"
		"to the current directory and its errors say \\fB<stdin>:\\fR\\fILINE\\fR.\n");
	config_print_reference(out, CONFIG_DOC_MAN);
	fputs(".SH EXIT STATUS\n", out);
	for (size_t i = 0; i < ARRAY_SIZE(exit_statuses); i++) {
		char tag[64];

		snprintf(tag, sizeof(tag), "`%s`", exit_statuses[i].status);
		fputs(".TP\n", out);
		config_print_man_line(out, tag);
		config_print_man_line(out, exit_statuses[i].meaning);
	}
	fputs(".SH FILES\n"
	      ".TP\n"
	      ".I /dev/kvm\n"
	      "The KVM device; without it \\fBrun\\fR cannot start (\\fBcheck\\fR needs none).\n"
	      ".TP\n"
	      ".I share/qlite/configs/\n"
	      "Example VM descriptions, under the installation prefix.\n"
	      ".SH SEE ALSO\n"
	      ".BR qemu\\-system\\-x86_64 (1);\n"
	      "README.md, docs/design.md, docs/stats.md (the exit reports), docs/compare.md (qlite compare)\n"
	      "in share/doc/qlite.\n", out);
}

int cmd_help(int argc, char **argv)
{
	if (argc == 0) {
		cmd_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[0], "config")) {
		if (argc > 1 && !strcmp(argv[1], "--man"))
			help_man(stdout);
		else
			config_print_reference(stdout, argc > 1 && !strcmp(argv[1], "--markdown") ?
					       CONFIG_DOC_MARKDOWN : CONFIG_DOC_TEXT);
		return 0;
	}
	if (!strcmp(argv[0], "options")) {
		config_print_options(stdout);
		/* check's own; --help and -h only as the first argument. */
		printf("--print-config\n--dtb FILE\n--dump-acpi DIR\n--help\n");
		return 0;
	}
	if (!strcmp(argv[0], "devices")) {
		for (unsigned i = 0; i < vdev_type_count(); i++)
			printf("%s\n", vdev_type_at(i)->name);
		return 0;
	}
	if (!strcmp(argv[0], "run") || !strcmp(argv[0], "check")) {
		fputs(!strcmp(argv[0], "run") ? run_usage : check_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[0], "compare")) {
		compare_help(stdout);
		return 0;
	}
	pr_err("help: no topic \"%s\" (topics: config, options, devices, run, check, compare; the exit "
	       "reports are in docs/stats.md)", argv[0]);
	return EXIT_CONFIG;
}

int cmd_version(int argc, char **argv)
{
	printf("qlite %s\n", QLITE_VERSION);
	return 0;
}
