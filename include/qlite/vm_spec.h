/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM description as data: what `qlite run` builds, filled by the config
 * language (config.h) and read by the VM assembly. No functions of the
 * parser or of the host live here, so a module that only reads a spec
 * (device types, the VM) depends on nothing else.
 */
#ifndef QLITE_VM_SPEC_H
#define QLITE_VM_SPEC_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#define QLITE_MAX_VCPUS		64
#define VDEV_MAX_OPTS		16
#define CPUID_MAX_EDITS		32
#define SPEC_MAX_MODULES	63	/* module lines; with the initrd, boot.h's BOOT_MAX_MODULES */

/* Where a value came from, for `FILE:LINE: message` or `--option: message`. */
struct spec_origin {
	const char *file;	/* NULL for the command line */
	unsigned line;
	const char *option;	/* the option or keyword as written */
};

struct vdev_opt {
	char *key;
	char *value;
};

struct vdev_spec {
	char *type;			/* "e1000", "virtio-net", ... */
	struct vdev_opt opts[VDEV_MAX_OPTS];
	unsigned nr_opts;
	struct spec_origin origin;
};

/* A module for a multiboot or PVH kernel, after the initrd: `module PATH [ARGS...]`. */
struct module_spec {
	char *path;		/* resolved relative to the file that named it */
	char *args;		/* NULL: none */
	struct spec_origin origin;
};

enum quirks_mode { QUIRKS_AUTO, QUIRKS_ON, QUIRKS_OFF };

/* KVM_CAP_X86_DISABLE_EXITS bits, named as in the config language. */
#define EXITS_DISABLE_MWAIT	(1u << 0)
#define EXITS_DISABLE_HLT	(1u << 1)
#define EXITS_DISABLE_PAUSE	(1u << 2)
#define EXITS_DISABLE_CSTATE	(1u << 3)

struct cpuid_edit {
	char *feature;		/* name as in /proc/cpuinfo, e.g. "x2apic", "pv-eoi" */
	bool enable;		/* +feature or -feature */
	struct spec_origin origin;
};

struct vm_spec {
	char *name;			/* system NAME */
	uint64_t ram_size;		/* bytes */
	unsigned nr_vcpus;
	cpu_set_t cluster[QLITE_MAX_VCPUS];	/* host CPUs vCPU i may run on */
	bool cluster_set[QLITE_MAX_VCPUS];	/* false: no pinning */
	char *kernel;			/* resolved relative to the file that named it */
	char *initrd;
	char *cmdline;
	struct module_spec *modules;
	unsigned nr_modules;
	struct vdev_spec *vdevs;
	unsigned nr_vdevs;

	unsigned exits_disable;		/* EXITS_DISABLE_* */
	int64_t halt_poll_ns;		/* -1: KVM's default */
	struct cpuid_edit cpuid_edits[CPUID_MAX_EDITS];
	unsigned nr_cpuid_edits;
	enum quirks_mode quirks;
	bool memfd;			/* back RAM with a memfd */
	bool accounting_off;		/* no per-device/register/timing accounting of exits */
	bool acpi_off;			/* no ACPI tables, no PM device (the MP table stays) */
	bool split_irqchip;		/* `irqchip split`: IOAPIC, PICs and PIT in qlite */
	bool fw_cfg_off;		/* no fw_cfg device at 0x510 */

	/* stats: filled by the stats keywords (exit accounting issue) */
	bool stats;			/* any report: the table, interval lines or files */
	bool stats_table;		/* the table at stop: `stats on`, or `stats` alone */
	uint64_t stats_interval_ms;	/* 0: no periodic report */
	char *stats_json;
	char *stats_prom;
	char *stats_log;		/* interval lines go here instead of stderr */

	struct spec_origin origin_of_kernel;
	struct spec_origin origin_of_initrd;
	struct spec_origin origin_of_stats_json;
	struct spec_origin origin_of_stats_prom;
	struct spec_origin origin_of_stats_log;
	struct spec_origin origin_of_ram;
	struct spec_origin origin_of_cpus;

	/* Where each vCPU's pinning came from (a `cpu` line or --cpu-cluster). */
	struct spec_origin origin_of_cluster[QLITE_MAX_VCPUS];
	/*
	 * Parser state, settled by config_finalize(): the number of `cpu`
	 * lines, `cpus N` (0 when not given) and the --cpu-cluster list, which
	 * can only be applied once the vCPU count is known.
	 */
	unsigned nr_cpu_lines;
	struct spec_origin origin_of_cpu_lines;	/* the first `cpu` line */
	unsigned cpus_wanted;
	char *cpu_cluster;
	struct spec_origin origin_of_cpu_cluster;

	/* The config files read; every spec_origin.file points into this list. */
	char **files;
	unsigned nr_files;
};

void vm_spec_init(struct vm_spec *spec);
void vm_spec_free(struct vm_spec *spec);

#endif
