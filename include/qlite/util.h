/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef QLITE_UTIL_H
#define QLITE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Messages go to stderr prefixed with "qlite: "; pr_err() never exits. */
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like pr_err() with ": strerror(errno)" appended. */
void pr_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file into a malloc'ed buffer; returns -errno. */
int read_file(const char *path, uint8_t **buf, size_t *len);

/* Little-endian helpers for device register files. */
static inline uint64_t le_load(const void *p, unsigned len)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline void le_store(void *p, uint64_t v, unsigned len)
{
	uint8_t *b = p;

	for (unsigned i = 0; i < len; i++)
		b[i] = v >> (8 * i);
}

#endif
