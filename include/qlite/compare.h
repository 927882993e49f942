/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `qlite compare` (src/compare/, the command in src/cmd/compare.c): two VMs
 * run the same workload, run by run; each run's exit report (the stats
 * JSON of `qlite run --stats-json`) is read back and the two are set side
 * by side as medians and spreads, per unit of work. Everything here is pure
 * data and text: no KVM, no processes, so unit tests reach all of it.
 */
#ifndef QLITE_COMPARE_H
#define QLITE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vm_spec;

/* ---- a small JSON reader (src/compare/json_read.c) ---- */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	double num;		/* JSON_NUMBER; JSON_BOOL: 0 or 1 */
	char *str;		/* JSON_STRING */
	char *key;		/* the member's name inside an object */
	struct json *items;	/* JSON_ARRAY, JSON_OBJECT: n of them */
	unsigned n;
};

/*
 * Parse text (len bytes) into *out; 0, or -EINVAL with where and why in
 * err (e.g. "offset 12: expected ':'"). Nesting is bounded (64 levels).
 */
int json_parse(const char *text, size_t len, struct json *out, char *err, size_t errlen);
void json_free(struct json *j);
/* An object's member, or NULL (also when j is not an object). */
const struct json *json_get(const struct json *j, const char *key);
/* A member's number, or def when it is missing or not a number. */
double json_num(const struct json *j, const char *key, double def);
/* A member's string, or NULL. */
const char *json_str_of(const struct json *j, const char *key);

/* ---- statistics over runs (src/compare/result.c) ---- */

struct cmp_stat {
	double median, min, max;
	unsigned n;		/* samples; 0: nothing measured (the other fields are NaN) */
};

/* Of the n values that are not NaN (the array is not changed). */
void cmp_stat_of(const double *v, unsigned n, struct cmp_stat *out);

/* ---- workloads and the devices they drive (src/compare/workload.c) ---- */

#define CMP_WORDS_MAX	512

/* What a compared VM has that a workload can drive, found in its vdev lines. */
struct cmp_device {
	const char *kind;	/* "ide", "virtio-blk-pci", "e1000", "virtio-net-mmio", ... */
	bool disk;		/* a block device: its image is replaced by a scratch one */
	const char *regions;	/* its bus regions' names in the exit report: "ide-|piix3-ide" */
	uint64_t addr;		/* virtio-mmio: its register window */
	unsigned vdev;		/* index in the spec's vdevs */
};

/*
 * The device a workload drives in spec: the first disk for a block
 * workload, the first NIC for a network one. 0, or -ENODEV with why.
 */
int cmp_find_device(const struct vm_spec *spec, bool nic, struct cmp_device *dev,
		    char *why, size_t len);

struct cmp_workload {
	char spec[64];		/* as given: "blk-write:4M" */
	const char *name;	/* "blk-write", or "boot" */
	const char *unit;	/* "MiB", "frame", "boot" */
	bool nic;		/* drives a NIC, else a disk (boot: neither) */
	uint64_t count, size;	/* blk: bytes and request size; net: frames and frame size */
	double units;		/* of work per run */
	const char *until;	/* a guest line that ends the run early, or NULL */
	const char *what;	/* one line on what it runs (blk-read, for one, also writes) */
};

/*
 * Parse a --workload value ("blk-write", "blk-write:4M", "blk-read:8M,128K",
 * "net-tx:10000,1514"): 0, or -EINVAL with why. until (may be NULL) makes it
 * the boot workload: the config's own kernel command line, up to that line.
 */
int cmp_workload_parse(struct cmp_workload *w, const char *arg, const char *until,
		       char *why, size_t len);
/*
 * The test guest's command line for w on dev (from the workload table):
 * 0, or -ENOENT when the table has no scenario for that device.
 */
int cmp_workload_words(const struct cmp_workload *w, const struct cmp_device *dev,
		       char *words, size_t len);
/* Bytes of scratch image a block workload needs. */
uint64_t cmp_workload_image_size(const struct cmp_workload *w);
/* Workload i for the usage and the man page ("`blk-write[:COUNT[,SIZE]]` ..."): false past the last. */
bool cmp_workload_help(unsigned i, char *buf, size_t len);

/* ---- the comparison: rows of samples (src/compare/result.c) ---- */

#define CMP_MAX_RUNS	32
#define CMP_MAX_PATHS	16

enum cmp_section {
	CMP_REASON,	/* KVM_EXIT_* reasons; "(all)" is every exit */
	CMP_DEVICE,	/* bus regions of one device name, summed; "(compared)": the compared
			 * device's regions (cmp_side.regions), under one name for both sides */
	CMP_REGISTER,	/* "device register dir" */
	CMP_KVM,	/* the kernel's counters (KVM stats fd), summed over vCPUs */
	CMP_DEVREP,	/* devices' own counters ("virtio-blk q0.kicks") */
	CMP_SECTIONS
};

enum cmp_qty {
	CMP_COUNT,	/* exits (or the counter) in the run */
	CMP_TIME_NS,	/* handler time in the run: count x average */
	CMP_AVG_NS,
	CMP_P99_NS,
	CMP_QTYS
};

struct cmp_row {
	enum cmp_section section;
	char name[96];
	bool seen[2];				/* side A, side B had it in some run */
	double v[2][CMP_QTYS][CMP_MAX_RUNS];	/* NaN: not in that run (a count: 0) */
};

struct cmp_side {
	char config[256];
	char label[64];			/* the compared device: "virtio-blk-pci", or the VM's name */
	char regions[64];		/* its regions' name prefixes ('|' between), or "" */
	char words[CMP_WORDS_MAX];	/* the test guest's command line, or the config's */
	unsigned runs;			/* read so far */
	double elapsed_s[CMP_MAX_RUNS];
	struct {
		char device[32];
		char path[128];
	} paths[CMP_MAX_PATHS];		/* devices' notification paths (device reports) */
	unsigned nr_paths;
};

struct cmp_result {
	struct cmp_workload w;
	unsigned runs;			/* asked for, per side */
	struct cmp_side side[2];
	struct cmp_row *rows;
	unsigned nr_rows, cap;
};

void cmp_result_init(struct cmp_result *r, const struct cmp_workload *w, unsigned runs);
void cmp_result_free(struct cmp_result *r);
/*
 * Read one run's exit report (stats JSON, version 2 or later) into the
 * next run of side s: 0, or -EINVAL with why (not a qlite report, no
 * accounting), -ENOMEM, -E2BIG past CMP_MAX_RUNS.
 */
int cmp_add_run(struct cmp_result *r, unsigned s, const struct json *report, char *why,
		size_t len);
/* The row, or NULL. */
const struct cmp_row *cmp_row_find(const struct cmp_result *r, enum cmp_section sec,
				   const char *name);
/* Median and spread of a row's quantity on side s: per unit of work, per second, as is. */
enum cmp_scale { CMP_PER_UNIT, CMP_PER_S, CMP_RAW };
void cmp_row_stat(const struct cmp_result *r, const struct cmp_row *row, unsigned s,
		  enum cmp_qty q, enum cmp_scale scale, struct cmp_stat *out);
/* B's median over A's (per unit), NaN when either is unmeasured or A's is 0. */
double cmp_ratio(const struct cmp_result *r, const struct cmp_row *row, enum cmp_qty q);
const char *cmp_section_name(enum cmp_section s);

/* The verdict: B against A, in exits and handler time per unit of work. */
struct cmp_verdict {
	double exits[2], time_ns[2];	/* medians per unit, A and B: every exit */
	double dev_exits[2], dev_time_ns[2];	/* ... the compared devices' exits alone */
	double exits_factor, time_factor;	/* > 1: B needs that many times fewer */
	char text[512];
};
void cmp_verdict(const struct cmp_result *r, struct cmp_verdict *v);

/* ---- outputs (src/compare/output.c, svg.c) ---- */

void cmp_write_table(const struct cmp_result *r, FILE *out);
/* The JSON of docs/compare.md ("version": 1). */
int cmp_write_json(const struct cmp_result *r, FILE *out);
/*
 * Grouped bars, A beside B, of exits per unit by reason and by device, as
 * SVG 1.1; a log scale when the bars' range exceeds 100x. 0 or -EIO.
 */
int cmp_write_svg(const struct cmp_result *r, FILE *out);

#endif
