// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lexical side of the config language: words of a line (quotes,
 * comments, continuation, the KEY=VALUE,... form of list keywords), the
 * value syntaxes (numbers, sizes, durations, CPU lists) and error lines.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "qlite/util.h"

/* ---- error lines ---- */

/* vreport_to() takes a format; the message here is already formed. */
static void emit(FILE *out, const char *context, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport_to(out, context, err, fmt, ap);
	va_end(ap);
}

/* User text may hold control characters: the error stays one line. */
static void sanitise(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/*
 * The line is vreport_to()'s "CONTEXT: message[: strerror]"; what is added
 * here is the context of a config value and a message that stays one line
 * of bounded length, whatever user text it quotes.
 */
int config_verror(FILE *out, const struct spec_origin *o, int err, const char *fmt, va_list ap)
{
	int n, ret = err < 0 ? err : -EINVAL;
	char msg[512], context[PATH_MAX + 16];

	if (!out)
		return ret;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "error");
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	sanitise(msg);
	context[0] = '\0';
	if (o && o->file && o->line)
		snprintf(context, sizeof(context), "%s:%u", o->file, o->line);
	else if (o && (o->file || o->option))
		snprintf(context, sizeof(context), "%s", o->file ? o->file : o->option);
	sanitise(context);
	emit(out, context[0] ? context : NULL, err, "%s", msg);
	return ret;
}

int config_error(FILE *out, const struct spec_origin *o, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = config_verror(out, o, 0, fmt, ap);
	va_end(ap);
	return ret;
}

int config_error_errno(FILE *out, const struct spec_origin *o, int err, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = config_verror(out, o, err, fmt, ap);
	va_end(ap);
	return ret;
}

int config_nomem(FILE *out)
{
	config_error(out, NULL, "out of memory");
	return -ENOMEM;
}

/* ---- "did you mean" ---- */

/* Optimal string alignment distance. */
static unsigned edit_distance(const char *a, const char *b)
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

void suggest(struct suggestion *s, const char *typo, const char *known)
{
	unsigned dist = edit_distance(typo, known);
	size_t len = strlen(typo) < strlen(known) ? strlen(typo) : strlen(known);

	/* One typo per three letters, at most three; the first of equals wins. */
	if (dist > 0 && dist <= 3 && dist <= (len + 2) / 3 && dist < s->dist) {
		s->best = known;
		s->dist = dist;
	}
}

/* ---- words ---- */

/* Room for element n of a doubling array; NULL (the array unchanged) when out of memory. */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	size_t new_cap = *cap ? *cap * 2 : 16;

	if (n < *cap)
		return v;
	v = realloc(v, new_cap * size);
	if (v)
		*cap = new_cap;
	return v;
}

int words_push(struct words *w, char *word)
{
	char **v = grow(w->v, &w->cap, w->n, sizeof(*v));

	if (!v)
		return -ENOMEM;
	w->v = v;
	w->v[w->n++] = word;
	return 0;
}

void words_free(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
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
	char *s = grow(sb->s, &sb->cap, sb->len + 1, 1);	/* and the NUL */

	if (!s)
		return -ENOMEM;
	sb->s = s;
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

/*
 * A backslash at the end of a line joins the next one: 1 when it consumed
 * one, 0 when there is none, -1 (lx->err set) when the file ends with it or
 * right after its newline: the line it continues never comes.
 */
static int lex_continuation(struct lexer *lx)
{
	size_t nl;

	if (peek(lx, 0) != '\\')
		return 0;
	if (peek(lx, 1) == '\n')
		nl = 1;
	else if (peek(lx, 1) == '\r' && peek(lx, 2) == '\n')
		nl = 2;
	else if (peek(lx, 1) < 0 && !lx->cli)
		nl = 0;
	else
		return 0;	/* an ordinary character */
	if (!lx->cli && peek(lx, nl + 1) < 0) {
		snprintf(lx->err, sizeof(lx->err),
			 "backslash at the end of the file (a continued line needs a next line)");
		return -1;
	}
	lx->pos += nl + 1;
	lx->line++;
	return 1;
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* msg NULL: lx->err already says why. */
static enum lex_result lex_fail(struct lexer *lx, struct strbuf *sb, const char *msg)
{
	if (msg)
		snprintf(lx->err, sizeof(lx->err), "%s", msg);
	free(sb->s);
	sb->s = NULL;
	return LEX_ERROR;
}

static enum lex_result lex_nomem(struct lexer *lx, struct strbuf *sb)
{
	lx->nomem = true;
	return lex_fail(lx, sb, "out of memory");
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
			int n = peek(lx, 1), cont = lex_continuation(lx);

			if (cont < 0)
				return lex_fail(lx, sb, NULL);
			if (cont)
				continue;
			if (n != '"' && n != '\\') {
				snprintf(lx->err, sizeof(lx->err),
					 "bad escape \"\\%c\" in quoted string (only \\\" and \\\\)",
					 n > 0x20 && n < 0x7f ? n : '?');
				return lex_fail(lx, sb, NULL);
			}
			c = n;
			lx->pos++;
		}
		if (sb_add(sb, (char)c) < 0)
			return lex_nomem(lx, sb);
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
		int c = peek(lx, 0), cont;

		if (is_blank(c) || (lx->list && c == ',') || (lx->cli && c == '\n')) {
			lx->pos++;
			continue;
		}
		cont = lex_continuation(lx);
		if (cont < 0)
			return LEX_ERROR;
		if (!cont)
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
		int c = peek(lx, 0), cont;

		if (c < 0 || c == '\n' || is_blank(c))
			break;
		cont = lex_continuation(lx);
		if (cont < 0)
			return lex_fail(lx, &sb, NULL);
		if (cont)
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
			return lex_nomem(lx, &sb);
		lx->pos++;
	}
	if (!sb.s) {
		sb.s = strdup("");
		if (!sb.s)
			return lex_nomem(lx, &sb);
	}
	*word = sb.s;
	return LEX_WORD;
}

enum lex_result lex_words(struct lexer *lx, struct words *w)
{
	enum lex_result r;
	char *word;

	while ((r = lex_word(lx, &word)) == LEX_WORD) {
		if (words_push(w, word) < 0) {
			struct strbuf sb = { .s = word };	/* for lex_nomem() to free */

			return lex_nomem(lx, &sb);
		}
	}
	return r;
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
