/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM description language. A config file and the command line are one
 * language: every keyword of the file is an option of `qlite run`, and one
 * keyword table drives the parser, the CLI and the generated reference.
 */
#ifndef QLITE_CONFIG_H
#define QLITE_CONFIG_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define QLITE_MAX_VCPUS		64
#define VDEV_MAX_OPTS		16
#define CPUID_MAX_EDITS		32

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
	struct vdev_spec *vdevs;
	unsigned nr_vdevs;

	unsigned exits_disable;		/* EXITS_DISABLE_* */
	int64_t halt_poll_ns;		/* -1: KVM's default */
	struct cpuid_edit cpuid_edits[CPUID_MAX_EDITS];
	unsigned nr_cpuid_edits;
	enum quirks_mode quirks;
	bool memfd;			/* back RAM with a memfd */
	bool accounting_off;		/* no per-device/register/timing accounting of exits */

	/* stats: filled by the stats keywords (exit accounting issue) */
	bool stats;
	uint64_t stats_interval_ms;	/* 0: no periodic report */
	char *stats_json;
	char *stats_prom;
	char *stats_log;		/* interval lines go here instead of stderr */

	struct spec_origin origin_of_kernel;
	struct spec_origin origin_of_initrd;
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

/*
 * Parse `qlite run|check` arguments: [FILE.conf] [--option value]... in
 * order, later ones overriding or extending earlier ones. On error, writes
 * one line ("FILE:LINE: message" or "--option: message") to err and
 * returns -1; the caller exits with status 2.
 */
int config_parse_args(struct vm_spec *spec, int argc, char **argv, FILE *err);

/* Checks that need the host (files exist, CPUs online, KVM limits); same error style. */
int config_validate(const struct vm_spec *spec, FILE *err);

/* ---- The keyword table: one entry per keyword drives everything below. ---- */

struct config_parser;

/* Flags of a keyword. */
#define KW_REPEATABLE	(1u << 0)	/* each line adds; otherwise once per file */
#define KW_LIST		(1u << 1)	/* commas separate words and KEY=VALUE is KEY VALUE */
#define KW_VALUE_OPTIONAL (1u << 2)	/* on the command line, --kw alone is allowed */

struct config_keyword {
	const char *name;		/* the file keyword */
	const char *cli[4];		/* command-line spellings, cli[0] is "--" name */
	const char *syntax;		/* arguments, e.g. "SIZE" */
	const char *help;
	unsigned min_args, max_args;	/* max_args 0: unlimited */
	unsigned flags;			/* KW_* */
	int (*parse)(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, unsigned argc, const struct spec_origin *origin);
};

extern const struct config_keyword config_keywords[];
extern const unsigned config_nr_keywords;

/* The keyword of a file line, or of a command-line spelling ("--ram", "-m"); NULL if unknown. */
const struct config_keyword *config_keyword_lookup(const char *name);
const struct config_keyword *config_option_lookup(const char *option);

/* Flags of config_parse_text(). */
#define CONFIG_NO_INCLUDE	(1u << 0)	/* reject `include` (fuzzing: no file access) */

/*
 * Parse one config file, or text as if read from a file called name (paths
 * in it resolve relative to name's directory). Call config_finalize() after
 * the last file or option; config_parse_args() does all of it.
 */
int config_parse_file(struct vm_spec *spec, const char *path, FILE *err);
int config_parse_text(struct vm_spec *spec, const char *name, const char *text, size_t len,
		      unsigned flags, FILE *err);
/* One command-line option; value may be NULL for KW_VALUE_OPTIONAL keywords. */
int config_parse_option(struct vm_spec *spec, const char *option, const char *value, FILE *err);
/* Settle the vCPU count and pinning (`cpus`, `cpu` lines, --cpu-cluster). */
int config_finalize(struct vm_spec *spec, FILE *err);

/* Print the spec in the config language; parsing the output gives the same spec. */
void config_print(const struct vm_spec *spec, FILE *out);
/* The language reference (`qlite help config`); markdown gives docs/config.md. */
void config_print_reference(FILE *out, bool markdown);

/* Values of the language, shared with the device constructors. 0 or -EINVAL/-ERANGE. */
int config_parse_u64(const char *s, uint64_t *v);		/* decimal or 0x hex */
int config_parse_size(const char *s, uint64_t *bytes);	/* 512M, 1GiB, 0x1000 */
int config_parse_duration(const char *s, uint64_t bare_unit_ns, uint64_t *ns); /* 10ms, 1s */
int config_parse_bool(const char *s, bool *on);		/* on|off */
/* "0-3,5" as one set; returns the number of comma-separated entries or -errno. */
int config_parse_cpulist(const char *s, cpu_set_t *set);
void config_format_cpulist(const cpu_set_t *set, char *buf, size_t len);
void config_format_size(uint64_t bytes, char *buf, size_t len);

/* What config_validate() learns about the host; tests build one by hand. */
struct config_host {
	cpu_set_t present, online, allowed;
	bool have_present, have_online, have_allowed;
	uint64_t mem_total;		/* bytes; 0: unknown */
	unsigned max_vcpus;		/* KVM_CAP_MAX_VCPUS; 0: unknown (no /dev/kvm) */
};

void config_host_probe(struct config_host *host);
int config_validate_host(const struct vm_spec *spec, const struct config_host *host, FILE *err);
/* PIO/MMIO ranges and IRQs of the vdevs must not overlap each other or the platform's. */
int config_check_resources(const struct vm_spec *spec, FILE *err);

#endif
