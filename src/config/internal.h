/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the files of src/config/ only. */
#ifndef QLITE_CONFIG_INTERNAL_H
#define QLITE_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "qlite/config.h"
#include "qlite/config_check.h"

#define CONFIG_MAX_KEYWORDS	32
#define CONFIG_MAX_INCLUDE_DEPTH 16
#define CONFIG_MAX_FILE_SIZE	(1u << 20)

/* ---- lex.c: words of a line ---- */

enum lex_result { LEX_WORD, LEX_EOL, LEX_EOF, LEX_ERROR };

struct lexer {
	const char *buf;
	size_t len, pos;
	unsigned line;		/* physical line at pos */
	unsigned word_line;	/* line where the last word started */
	bool cli;		/* a command-line value: no comments, no newlines */
	bool list;		/* KW_LIST words: ',' separates, KEY=VALUE splits */
	bool want_value;	/* just split at '=': the next word is the value */
	bool nomem;		/* the LEX_ERROR was out of memory */
	char err[160];
};

void lex_init(struct lexer *lx, const char *buf, size_t len, bool cli);
/* LEX_WORD sets *word (malloc'ed); LEX_ERROR leaves the reason in lx->err. */
enum lex_result lex_word(struct lexer *lx, char **word);

struct words {
	char **v;
	size_t n, cap;
};

int words_push(struct words *w, char *word);
void words_free(struct words *w);
/* The words up to the end of the line into w; returns what ended them (not LEX_WORD). */
enum lex_result lex_words(struct lexer *lx, struct words *w);

/* Does a word need quotes to be read back as one word (list: in a KW_LIST line)? */
bool word_needs_quotes(const char *s, bool list);
void print_word(FILE *out, const char *s, bool list);

/* ---- parse.c: the parser ---- */

struct config_parser {
	struct vm_spec *spec;
	FILE *err;
	unsigned flags;			/* CONFIG_NO_INCLUDE */
	/*
	 * Read the config file at path; from is the include line. The parser
	 * sets it, so the keyword table (keywords.c) never calls back into
	 * parse.c by name: the files depend one way only.
	 */
	int (*include)(struct config_parser *p, const char *path, const struct spec_origin *from);
	unsigned depth;
	char *stack[CONFIG_MAX_INCLUDE_DEPTH];	/* canonical paths being parsed */
	const char *stack_name[CONFIG_MAX_INCLUDE_DEPTH];
};

/* ---- keywords.c ---- */

/* A path in a file is relative to that file's directory; on the command line, to the cwd. */
char *config_resolve_path(const struct spec_origin *o, const char *path);
void config_vdev_clear(struct vdev_spec *vs);
/* How to write a keyword: "ram SIZE" in a file, "--mem SIZE" on the command line. */
const char *config_hint(const struct config_keyword *kw, const struct spec_origin *o,
			char *buf, size_t len);
/* The keyword of a command-line spelling; *spelling gets the table's copy of it. */
const struct config_keyword *config_option_spelling(const char *option, const char **spelling);

/* The EXIT names of `exits disable`; "all" is the union of the others. NULL-terminated. */
struct exit_name {
	const char *name;
	unsigned bits;		/* EXITS_DISABLE_* */
};
extern const struct exit_name config_exit_names[];

/* The files of `stats` (json, prom, log) and the vm_spec fields of each. NULL-terminated. */
struct stats_file {
	const char *name;
	size_t offset;		/* of a char * in struct vm_spec */
	size_t origin_offset;	/* of its struct spec_origin */
	const char *what;	/* for messages: "the JSON output" */
	bool appended;		/* opened for appending (the log), not replaced by rename */
};
extern const struct stats_file config_stats_files[];

/* Like strchr(), const in but not out: the printer reads the field, the parser sets it. */
static inline char **stats_file_path(const struct vm_spec *spec, const struct stats_file *f)
{
	return (char **)((const char *)spec + f->offset);
}

static inline struct spec_origin *stats_file_origin(const struct vm_spec *spec,
						     const struct stats_file *f)
{
	return (struct spec_origin *)((const char *)spec + f->origin_offset);
}

/* ---- lex.c: errors and suggestions ---- */

/*
 * Write one "FILE:LINE: message" (or "FILE: message", "--option: message",
 * or the message alone without an origin) to out, through vreport_to(). An
 * errno (err < 0) is appended as ": strerror" and returned; err 0 returns
 * -EINVAL, the error of every bad value. out NULL writes nothing.
 */
int config_verror(FILE *out, const struct spec_origin *o, int err, const char *fmt, va_list ap);
/* The same, err 0: returns -EINVAL. */
int config_error(FILE *out, const struct spec_origin *o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int config_error_errno(FILE *out, const struct spec_origin *o, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "out of memory"; returns -ENOMEM. */
int config_nomem(FILE *out);

#define PERR(p, o, ...) config_error((p)->err, (o), __VA_ARGS__)

/* "Did you mean": offer each known word; best is the closest plausible one, or NULL. */
struct suggestion {
	const char *best;
	unsigned dist;
};
#define SUGGESTION_INIT { NULL, ~0u }
void suggest(struct suggestion *s, const char *typo, const char *known);

#endif
