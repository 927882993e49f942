// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small JSON reader for `qlite compare`: it reads back the exit reports
 * qlite itself wrote (docs/stats.md), so a tree of values is all it needs.
 * Strings keep \uXXXX escapes below 0x80 and turn the rest into '?': the
 * reports' names are ASCII.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/compare.h"

#define JSON_MAX_DEPTH	64

struct jp {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
};

static int jp_fail(struct jp *p, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "offset %zu: %s", p->pos, msg);
	return -EINVAL;
}

static void jp_ws(struct jp *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
		p->pos++;
}

static int jp_peek(struct jp *p)
{
	jp_ws(p);
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int jp_string(struct jp *p, char **out)
{
	size_t start = ++p->pos, n = 0;
	char *buf;

	/* The decoded string is never longer than its text. */
	while (p->pos < p->len && p->s[p->pos] != '"')
		p->pos += p->s[p->pos] == '\\' ? 2 : 1;
	if (p->pos >= p->len)
		return jp_fail(p, "unterminated string");
	buf = malloc(p->pos - start + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = start; i < p->pos; i++) {
		char c = p->s[i];

		if ((unsigned char)c < 0x20) {
			free(buf);
			return jp_fail(p, "control character in a string");
		}
		if (c != '\\') {
			buf[n++] = c;
			continue;
		}
		c = p->s[++i];
		switch (c) {
		case 'n': buf[n++] = '\n'; break;
		case 't': buf[n++] = '\t'; break;
		case 'r': buf[n++] = '\r'; break;
		case 'b': buf[n++] = '\b'; break;
		case 'f': buf[n++] = '\f'; break;
		case '"': case '\\': case '/': buf[n++] = c; break;
		case 'u': {
			char hex[5] = { 0 };
			char *end;
			unsigned long v;

			if (i + 4 >= p->pos) {
				free(buf);
				return jp_fail(p, "short \\u escape");
			}
			memcpy(hex, p->s + i + 1, 4);
			v = strtoul(hex, &end, 16);
			if (*end) {
				free(buf);
				return jp_fail(p, "bad \\u escape");
			}
			buf[n++] = v && v < 0x80 ? (char)v : '?';
			i += 4;
			break;
		}
		default:
			free(buf);
			return jp_fail(p, "bad escape \\%c", c);
		}
	}
	buf[n] = '\0';
	p->pos++;
	*out = buf;
	return 0;
}

static int jp_value(struct jp *p, struct json *j, unsigned depth);

static int jp_push(struct json *j, unsigned *cap, struct json **item)
{
	if (j->n == *cap) {
		unsigned ncap = *cap ? *cap * 2 : 4;
		struct json *items = realloc(j->items, ncap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		j->items = items;
		*cap = ncap;
	}
	*item = &j->items[j->n];
	memset(*item, 0, sizeof(**item));
	return 0;
}

static int jp_container(struct jp *p, struct json *j, unsigned depth)
{
	bool object = p->s[p->pos] == '{';
	char close = object ? '}' : ']';
	unsigned cap = 0;
	int ret, c;

	if (depth >= JSON_MAX_DEPTH)
		return jp_fail(p, "nested too deeply");
	j->type = object ? JSON_OBJECT : JSON_ARRAY;
	p->pos++;
	if (jp_peek(p) == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct json *item;
		char *key = NULL;

		if (object) {
			if (jp_peek(p) != '"')
				return jp_fail(p, "expected a member name");
			ret = jp_string(p, &key);
			if (ret)
				return ret;
			if (jp_peek(p) != ':') {
				free(key);
				return jp_fail(p, "expected ':'");
			}
			p->pos++;
		}
		ret = jp_push(j, &cap, &item);
		if (ret) {
			free(key);
			return ret;
		}
		j->n++;
		item->key = key;
		ret = jp_value(p, item, depth + 1);
		if (ret)
			return ret;
		c = jp_peek(p);
		p->pos++;
		if (c == close)
			return 0;
		if (c != ',') {
			p->pos--;
			return jp_fail(p, "expected ',' or '%c'", close);
		}
	}
}

static int jp_number(struct jp *p, struct json *j)
{
	char buf[64];
	size_t n = 0;
	char *end;

	while (p->pos + n < p->len && n < sizeof(buf) - 1 &&
	       strchr("+-0123456789.eE", p->s[p->pos + n]) && p->s[p->pos + n])
		n++;
	memcpy(buf, p->s + p->pos, n);
	buf[n] = '\0';
	j->num = strtod(buf, &end);
	if (!n || *end || !isfinite(j->num))
		return jp_fail(p, "bad number");
	j->type = JSON_NUMBER;
	p->pos += n;
	return 0;
}

static bool jp_word(struct jp *p, const char *w)
{
	size_t n = strlen(w);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n))
		return false;
	p->pos += n;
	return true;
}

static int jp_value(struct jp *p, struct json *j, unsigned depth)
{
	int c = jp_peek(p);

	if (c == '{' || c == '[')
		return jp_container(p, j, depth);
	if (c == '"') {
		j->type = JSON_STRING;
		return jp_string(p, &j->str);
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return jp_number(p, j);
	if (jp_word(p, "true") || jp_word(p, "false")) {
		j->type = JSON_BOOL;
		j->num = p->s[p->pos - 1] == 'e' && p->s[p->pos - 2] == 'u';
		return 0;
	}
	if (jp_word(p, "null")) {
		j->type = JSON_NULL;
		return 0;
	}
	return c < 0 ? jp_fail(p, "unexpected end") : jp_fail(p, "unexpected '%c'", c);
}

int json_parse(const char *text, size_t len, struct json *out, char *err, size_t errlen)
{
	struct jp p = { .s = text, .len = len, .err = err, .errlen = errlen };
	int ret;

	memset(out, 0, sizeof(*out));
	ret = jp_value(&p, out, 0);
	if (!ret && jp_peek(&p) >= 0)
		ret = jp_fail(&p, "text after the value");
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		json_free(out);
	}
	return ret;
}

void json_free(struct json *j)
{
	for (unsigned i = 0; i < j->n; i++)
		json_free(&j->items[i]);
	free(j->items);
	free(j->str);
	free(j->key);
	memset(j, 0, sizeof(*j));
}

const struct json *json_get(const struct json *j, const char *key)
{
	if (!j || j->type != JSON_OBJECT)
		return NULL;
	for (unsigned i = 0; i < j->n; i++)
		if (!strcmp(j->items[i].key, key))
			return &j->items[i];
	return NULL;
}

double json_num(const struct json *j, const char *key, double def)
{
	const struct json *v = json_get(j, key);

	return v && v->type == JSON_NUMBER ? v->num : def;
}

const char *json_str_of(const struct json *j, const char *key)
{
	const struct json *v = json_get(j, key);

	return v && v->type == JSON_STRING ? v->str : NULL;
}
