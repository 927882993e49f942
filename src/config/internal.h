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

/* ---- config_lex.c: words of a line ---- */

enum lex_result { LEX_WORD, LEX_EOL, LEX_EOF, LEX_ERROR };

struct lexer {
	const char *buf;
	size_t len, pos;
	unsigned line;		/* physical line at pos */
	unsigned word_line;	/* line where the last word started */
	bool cli;		/* a command-line value: no comments, no newlines */
	bool list;		/* KW_LIST words: ',' separates, KEY=VALUE splits */
	bool want_value;	/* just split at '=': the next word is the value */
	char err[160];
};

void lex_init(struct lexer *lx, const char *buf, size_t len, bool cli);
/* LEX_WORD sets *word (malloc'ed); LEX_ERROR leaves the reason in lx->err. */
enum lex_result lex_word(struct lexer *lx, char **word);

struct words {
	char **v;
	unsigned n, cap;
};

int words_push(struct words *w, char *word);
void words_free(struct words *w);

/* Does a word need quotes to be read back as one word (list: in a KW_LIST line)? */
bool word_needs_quotes(const char *s, bool list);
void print_word(FILE *out, const char *s, bool list);

/* ---- config.c: the parser ---- */

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


/* ---- config_keywords.c ---- */

/* A path in a file is relative to that file's directory; on the command line, to the cwd. */
char *config_resolve_path(const struct spec_origin *o, const char *path);
void config_vdev_clear(struct vdev_spec *vs);
/* How to write a keyword: "ram SIZE" in a file, "--mem SIZE" on the command line. */
const char *config_hint(const struct config_keyword *kw, const struct spec_origin *o,
			char *buf, size_t len);
/* The keyword of a command-line spelling; *spelling gets the table's copy of it. */
const struct config_keyword *config_option_spelling(const char *option, const char **spelling);

/* ---- config_lex.c: errors and suggestions ---- */

/* Print one "FILE:LINE: message" or "--option: message" line; returns -1. */
int config_error(FILE *err, const struct spec_origin *o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int config_verror(FILE *err, const struct spec_origin *o, const char *fmt, va_list ap);

/* Optimal string alignment distance, for "did you mean". */
unsigned edit_distance(const char *a, const char *b);
bool close_enough(const char *typo, const char *known, unsigned dist);

#endif
