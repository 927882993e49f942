/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef QLITE_UTIL_H
#define QLITE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#include <stdarg.h>
#include <stdio.h>

/*
 * The error convention (docs/design.md): functions return 0 (or a count)
 * and a negative errno on failure. A message for a person is formed once,
 * where the context is known, by vreport(): "CONTEXT: message[: strerror]"
 * on the report stream (stderr; tests may point it elsewhere). CONTEXT is
 * "qlite" for run-time messages, FILE:LINE or --option for the VM
 * description, and the message itself starts with the device or path.
 */
int vreport(const char *context, int err, const char *fmt, va_list ap);
/* The same line on out (a caller's own stream); a NULL context writes the message alone. */
int vreport_to(FILE *out, const char *context, int err, const char *fmt, va_list ap);
/* "qlite: message"; returns err so a caller can `return report(-EINVAL, ...)`. */
int report(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with ": strerror(-err)" appended. */
int report_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* What report() puts first instead of "qlite" (a config line's FILE:LINE); NULL restores it. */
void report_set_context(const char *context);
/* Where reports go (NULL: stderr). */
void report_set_stream(FILE *out);
FILE *report_stream(void);

/* Shorthands for messages that are not a function's failure. */
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like pr_err() with ": strerror(errno)" appended. */
void pr_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Inputs (config files, kernels, initrds) are regular files, opened
 * without blocking: a FIFO's open() waits for a writer. open_input()
 * returns the fd with st filled, or -errno, whatever the file is.
 */
int open_input(const char *path, struct stat *st);
/* "a FIFO", "a character device", "a directory"...: what st_mode says a file is. */
const char *file_type_name(mode_t mode);
/*
 * Read a whole regular file into a malloc'ed buffer. Returns 0 or -errno
 * with *why the text of the one message "PATH: WHY": strerror, or "not a
 * regular file (a FIFO)" (-EISDIR for a directory, -EINVAL for the rest).
 */
int read_file(const char *path, uint8_t **buf, size_t *len, const char **why);
/* s as a JSON string, quoted and escaped (the exit reports and qlite compare write JSON). */
void json_write_str(FILE *out, const char *s);
/* Create or truncate path and write len bytes; 0 or -errno, reported ("PATH: write: ..."). */
int write_file(const char *path, const void *buf, size_t len);
/* All of standard input (a config given as `-`), at most max bytes (else -EFBIG). */
int read_stdin(size_t max, uint8_t **buf, size_t *len, const char **why);

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
