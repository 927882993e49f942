/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM description language. A config file and the command line are one
 * language: every keyword of the file is an option of `qlite run`, and one
 * keyword table drives the parser, the CLI and the generated reference.
 */
#ifndef QLITE_CONFIG_H
#define QLITE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vm_spec.h"

/*
 * Parse `qlite run|check` arguments: [FILE.conf|-] [--option value]... in
 * order, later ones overriding or extending earlier ones. On error, writes
 * one line ("FILE:LINE: message" or "--option: message") to err and
 * returns a negative errno: -EINVAL for a bad value, the errno of a file
 * that cannot be read, -ENOMEM. The caller exits with status 2.
 */
int config_parse_args(struct vm_spec *spec, int argc, char **argv, FILE *err);

/*
 * A config file given as `-` is read from standard input and named so in
 * errors (`<stdin>:3: ...`); its relative paths are relative to the
 * current directory.
 */
#define CONFIG_STDIN_NAME "<stdin>"

/* ---- The keyword table: one entry per keyword drives everything below. ---- */

struct config_parser;

/* Flags of a keyword. */
#define KW_REPEATABLE	(1u << 0)	/* each line adds; otherwise once per file */
#define KW_LIST		(1u << 1)	/* commas separate words and KEY=VALUE is KEY VALUE */
#define KW_VALUE_OPTIONAL (1u << 2)	/* on the command line, --kw alone is allowed */
#define KW_NO_VALUE	(1u << 3)	/* a switch: never a value, nor the next argument */

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
 * the last file or option; config_parse_args() does all of it. All of them
 * return 0 or, with the one error line written to err, a negative errno.
 */
int config_parse_file(struct vm_spec *spec, const char *path, FILE *err);
int config_parse_text(struct vm_spec *spec, const char *name, const char *text, size_t len,
		      unsigned flags, FILE *err);
/* One command-line option; value may be NULL for KW_VALUE_OPTIONAL and KW_NO_VALUE keywords. */
int config_parse_option(struct vm_spec *spec, const char *option, const char *value, FILE *err);
/* Settle the vCPU count and pinning (`cpus`, `cpu` lines, --cpu-cluster). */
int config_finalize(struct vm_spec *spec, FILE *err);

/*
 * Print the spec in the config language; parsing the output gives the same
 * spec, with every path absolute (config_absolute_path), so the output
 * works wherever it is saved.
 */
void config_print(const struct vm_spec *spec, FILE *out);
/* path from the current directory, its directory resolved (realpath) and its name kept; malloc'ed. */
char *config_absolute_path(const char *path);
/* The language reference: `qlite help config`, docs/config.md, the man page's sections. */
enum config_doc {
	CONFIG_DOC_TEXT,	/* the terminal: wrapped at 78 columns */
	CONFIG_DOC_MARKDOWN,	/* docs/config.md */
	CONFIG_DOC_MAN,		/* roff sections (.SH CONFIGURATION...) for qlite(1) */
};
void config_print_reference(FILE *out, enum config_doc format);
/* One line of the man page from text with `code` marks (bold), escaped for roff. */
void config_print_man_line(FILE *out, const char *text);
/* Every command-line spelling of every keyword with its syntax, one a line ("--ram SIZE"). */
void config_print_options(FILE *out);

/* Values of the language, shared with the device constructors. 0 or -EINVAL/-ERANGE. */
int config_parse_u64(const char *s, uint64_t *v);		/* decimal or 0x hex */
int config_parse_size(const char *s, uint64_t *bytes);	/* 512M, 1GiB, 0x1000 */
int config_parse_duration(const char *s, uint64_t bare_unit_ns, uint64_t *ns); /* 10ms, 1s */
int config_parse_bool(const char *s, bool *on);		/* on|off */
/* "0-3,5" as one set; returns the number of comma-separated entries or -errno. */
int config_parse_cpulist(const char *s, cpu_set_t *set);
void config_format_cpulist(const cpu_set_t *set, char *buf, size_t len);
void config_format_size(uint64_t bytes, char *buf, size_t len);

#endif
