// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lexical side of the config language: words of a line (quotes,
 * comments, continuation, the KEY=VALUE,... form of list keywords), the
 * value syntaxes (numbers, sizes, durations, CPU lists) and error lines.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "qlite/util.h"

/* ---- error lines ---- */

int config_verror(FILE *err, const struct spec_origin *o, const char *fmt, va_list ap)
{
	char msg[512];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "error");
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	/* User text may hold control characters: the error stays one line. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (!err)
		return -1;
	if (o && o->file && o->line)
		fprintf(err, "%s:%u: %s\n", o->file, o->line, msg);
	else if (o && o->file)
		fprintf(err, "%s: %s\n", o->file, msg);
	else if (o && o->option)
		fprintf(err, "%s: %s\n", o->option, msg);
	else
		fprintf(err, "%s\n", msg);
	return -1;
}

int config_error(FILE *err, const struct spec_origin *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_verror(err, o, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- "did you mean" ---- */

unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned *d, r;

	/* Long words are never typos of a keyword; keep the table small. */
	if (la > 64 || lb > 64)
		return 1000;
	d = calloc((la + 1) * (lb + 1), sizeof(*d));
	if (!d)
		return 1000;
#define D(i, j) d[(i) * (lb + 1) + (j)]
	for (size_t i = 0; i <= la; i++)
		D(i, 0) = i;
	for (size_t j = 0; j <= lb; j++)
		D(0, j) = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = D(i - 1, j) + 1;

			if (D(i, j - 1) + 1 < v)
				v = D(i, j - 1) + 1;
			if (D(i - 1, j - 1) + cost < v)
				v = D(i - 1, j - 1) + cost;
			/* A swap of two neighbours is one typo ("rma" -> "ram"). */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    D(i - 2, j - 2) + 1 < v)
				v = D(i - 2, j - 2) + 1;
			D(i, j) = v;
		}
	}
	r = D(la, lb);
#undef D
	free(d);
	return r;
}

bool close_enough(const char *typo, const char *known, unsigned dist)
{
	size_t len = strlen(typo) < strlen(known) ? strlen(typo) : strlen(known);

	/* One typo per three letters, at most three. */
	return dist > 0 && dist <= 3 && dist <= (len + 2) / 3;
}

/* ---- words ---- */

int words_push(struct words *w, char *word)
{
	if (w->n == w->cap) {
		unsigned cap = w->cap ? w->cap * 2 : 8;
		char **v = realloc(w->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = word;
	return 0;
}

void words_free(struct words *w)
{
	for (unsigned i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = w->cap = 0;
}

struct strbuf {
	char *s;
	size_t len, cap;
};

static int sb_add(struct strbuf *sb, char c)
{
	if (sb->len + 1 >= sb->cap) {
		size_t cap = sb->cap ? sb->cap * 2 : 32;
		char *s = realloc(sb->s, cap);

		if (!s)
			return -ENOMEM;
		sb->s = s;
		sb->cap = cap;
	}
	sb->s[sb->len++] = c;
	sb->s[sb->len] = '\0';
	return 0;
}

/* ---- the lexer ---- */

void lex_init(struct lexer *lx, const char *buf, size_t len, bool cli)
{
	memset(lx, 0, sizeof(*lx));
	lx->buf = buf;
	lx->len = len;
	lx->line = 1;
	lx->cli = cli;
}

static int peek(const struct lexer *lx, size_t ahead)
{
	return lx->pos + ahead < lx->len ? (unsigned char)lx->buf[lx->pos + ahead] : -1;
}

/* A backslash at the end of a line joins the next one; returns true when it consumed one. */
static bool lex_continuation(struct lexer *lx)
{
	if (peek(lx, 0) != '\\')
		return false;
	if (peek(lx, 1) == '\n') {
		lx->pos += 2;
	} else if (peek(lx, 1) == '\r' && peek(lx, 2) == '\n') {
		lx->pos += 3;
	} else {
		return false;
	}
	lx->line++;
	return true;
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static enum lex_result lex_fail(struct lexer *lx, struct strbuf *sb, const char *msg)
{
	snprintf(lx->err, sizeof(lx->err), "%s", msg);
	free(sb->s);
	return LEX_ERROR;
}

static enum lex_result lex_quoted(struct lexer *lx, struct strbuf *sb)
{
	lx->pos++;	/* the opening quote */
	for (;;) {
		int c = peek(lx, 0);

		if (c < 0 || c == '\n')
			return lex_fail(lx, sb, "unterminated quoted string");
		if (c == '"') {
			lx->pos++;
			return LEX_WORD;
		}
		if (c == '\0')
			return lex_fail(lx, sb, "NUL byte in the text");
		if (c == '\\') {
			int n = peek(lx, 1);

			if (lex_continuation(lx))
				continue;
			if (n != '"' && n != '\\') {
				snprintf(lx->err, sizeof(lx->err),
					 "bad escape \"\\%c\" in quoted string (only \\\" and \\\\)",
					 n > 0x20 && n < 0x7f ? n : '?');
				free(sb->s);
				return LEX_ERROR;
			}
			c = n;
			lx->pos++;
		}
		if (sb_add(sb, (char)c) < 0)
			return lex_fail(lx, sb, "out of memory");
		lx->pos++;
	}
}

enum lex_result lex_word(struct lexer *lx, char **word)
{
	struct strbuf sb = { 0 };
	bool quoted = false, value = lx->want_value;

	*word = NULL;
	lx->want_value = false;
	if (value)
		goto read;
	for (;;) {
		int c = peek(lx, 0);

		if (is_blank(c) || (lx->list && c == ',') || (lx->cli && c == '\n'))
			lx->pos++;
		else if (!lex_continuation(lx))
			break;
	}
	if (peek(lx, 0) < 0)
		return LEX_EOF;
	if (peek(lx, 0) == '\n') {
		lx->pos++;
		lx->line++;
		return LEX_EOL;
	}
	if (peek(lx, 0) == '#' && !lx->cli) {
		while (peek(lx, 0) >= 0 && peek(lx, 0) != '\n')
			lx->pos++;
		return lex_word(lx, word);
	}
read:
	lx->word_line = lx->line;
	for (;;) {
		int c = peek(lx, 0);

		if (c < 0 || c == '\n' || is_blank(c))
			break;
		if (lex_continuation(lx))
			continue;
		if (lx->list && c == ',')
			break;
		if (lx->list && c == '=' && !value && sb.len && !quoted) {
			/* KEY=VALUE: the key ends here, the value is the next word. */
			lx->pos++;
			lx->want_value = true;
			break;
		}
		if (c == '"') {
			quoted = true;
			if (lex_quoted(lx, &sb) == LEX_ERROR)
				return LEX_ERROR;
			continue;
		}
		if (c == '\0')
			return lex_fail(lx, &sb, "NUL byte in the text");
		if (sb_add(&sb, (char)c) < 0)
			return lex_fail(lx, &sb, "out of memory");
		lx->pos++;
	}
	if (!sb.s) {
		sb.s = strdup("");
		if (!sb.s)
			return lex_fail(lx, &sb, "out of memory");
	}
	*word = sb.s;
	return LEX_WORD;
}

bool word_needs_quotes(const char *s, bool list)
{
	if (!*s || *s == '#')
		return true;
	for (; *s; s++) {
		if (is_blank((unsigned char)*s) || *s == '"' || *s == '\\')
			return true;
		if (list && (*s == ',' || *s == '='))
			return true;
	}
	return false;
}

void print_word(FILE *out, const char *s, bool list)
{
	if (!word_needs_quotes(s, list)) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* ---- values ---- */

/* Digits of a number at s; *end is where they stop. */
static int parse_digits(const char *s, const char **end, uint64_t *v)
{
	unsigned base = 10;
	uint64_t x = 0;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!isxdigit((unsigned char)*p) || (base == 10 && !isdigit((unsigned char)*p)))
		return -EINVAL;
	for (; *p; p++) {
		unsigned d;

		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = (tolower((unsigned char)*p) - 'a') + 10;
		else
			break;
		if (x > (UINT64_MAX - d) / base)
			return -ERANGE;
		x = x * base + d;
	}
	*end = p;
	*v = x;
	return 0;
}

int config_parse_u64(const char *s, uint64_t *v)
{
	const char *end;
	int ret = parse_digits(s, &end, v);

	if (ret)
		return ret;
	return *end ? -EINVAL : 0;
}

static const struct {
	const char *suffix;
	uint64_t mult;
} size_suffixes[] = {
	{ "", 1 },
	{ "K", KiB }, { "k", KiB }, { "KiB", KiB },
	{ "M", MiB }, { "m", MiB }, { "MiB", MiB },
	{ "G", GiB }, { "g", GiB }, { "GiB", GiB },
	{ "T", GiB << 10 }, { "t", GiB << 10 }, { "TiB", GiB << 10 },
};

int config_parse_size(const char *s, uint64_t *bytes)
{
	const char *end;
	uint64_t v;
	int ret = parse_digits(s, &end, &v);

	if (ret)
		return ret;
	for (unsigned i = 0; i < ARRAY_SIZE(size_suffixes); i++) {
		if (strcmp(end, size_suffixes[i].suffix))
			continue;
		if (v > UINT64_MAX / size_suffixes[i].mult)
			return -ERANGE;
		*bytes = v * size_suffixes[i].mult;
		return 0;
	}
	return -EINVAL;
}

static const struct {
	const char *unit;
	uint64_t ns;
} duration_units[] = {
	{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
};

int config_parse_duration(const char *s, uint64_t bare_unit_ns, uint64_t *ns)
{
	const char *end;
	uint64_t v, mult = 0;
	int ret = parse_digits(s, &end, &v);

	if (ret)
		return ret;
	if (!*end)
		mult = bare_unit_ns;
	for (unsigned i = 0; i < ARRAY_SIZE(duration_units) && *end; i++)
		if (!strcmp(end, duration_units[i].unit))
			mult = duration_units[i].ns;
	if (!mult)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*ns = v * mult;
	return 0;
}

int config_parse_bool(const char *s, bool *on)
{
	if (!strcmp(s, "on")) {
		*on = true;
		return 0;
	}
	if (!strcmp(s, "off")) {
		*on = false;
		return 0;
	}
	return -EINVAL;
}

int config_parse_cpulist(const char *s, cpu_set_t *set)
{
	const char *p = s;
	int entries = 0;

	CPU_ZERO(set);
	if (strpbrk(s, "xX"))	/* CPU numbers are decimal, as in sysfs */
		return -EINVAL;
	for (;;) {
		uint64_t lo, hi;
		const char *end;

		if (parse_digits(p, &end, &lo))
			return -EINVAL;
		hi = lo;
		if (*end == '-') {
			p = end + 1;
			if (parse_digits(p, &end, &hi))
				return -EINVAL;
		}
		if (lo > hi)
			return -EINVAL;
		if (hi >= CPU_SETSIZE)
			return -ERANGE;
		for (uint64_t c = lo; c <= hi; c++)
			CPU_SET(c, set);
		entries++;
		if (!*end)
			return entries;
		if (*end != ',')
			return -EINVAL;
		p = end + 1;
	}
}

void config_format_cpulist(const cpu_set_t *set, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE; c++) {
		int last = c, n;

		if (!CPU_ISSET(c, set))
			continue;
		while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set))
			last++;
		if (last == c)
			n = snprintf(buf + used, len - used, "%s%d", used ? "," : "", c);
		else
			n = snprintf(buf + used, len - used, "%s%d-%d", used ? "," : "", c, last);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
		c = last;
	}
}

void config_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = { { "T", GiB << 10 }, { "G", GiB }, { "M", MiB }, { "K", KiB } };

	for (unsigned i = 0; i < ARRAY_SIZE(units); i++) {
		if (bytes && !(bytes % units[i].mult)) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(bytes / units[i].mult),
				 units[i].suffix);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
}
