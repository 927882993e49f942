// SPDX-License-Identifier: GPL-2.0-only
/* Messages and small file helpers shared by every module. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qlite/util.h"

static FILE *report_out;
static __thread const char *report_context;

void report_set_context(const char *context)
{
	report_context = context;
}

void report_set_stream(FILE *out)
{
	report_out = out;
}

FILE *report_stream(void)
{
	return report_out ? report_out : stderr;
}

/* err < 0 appends strerror(-err); 0 or a positive value appends nothing. */
int vreport_to(FILE *out, const char *context, int err, const char *fmt, va_list ap)
{
	const char *sep = context ? ": " : "";
	char buf[1024];

	if (vsnprintf(buf, sizeof(buf), fmt, ap) < 0)
		buf[0] = '\0';
	if (!context)
		context = "";
	/* One fprintf: a line from another thread cannot cut into it. */
	if (err < 0)
		fprintf(out, "%s%s%s: %s\n", context, sep, buf, strerror(-err));
	else
		fprintf(out, "%s%s%s\n", context, sep, buf);
	return err;
}

int vreport(const char *context, int err, const char *fmt, va_list ap)
{
	return vreport_to(report_stream(), context, err, fmt, ap);
}

int report(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(report_context ? report_context : "qlite", 0, fmt, ap);
	va_end(ap);
	return err;
}

int report_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(report_context ? report_context : "qlite", err, fmt, ap);
	va_end(ap);
	return err;
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("qlite", 0, fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("qlite", 0, fmt, ap);
	va_end(ap);
}

void pr_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport("qlite", -(err ? err : EIO), fmt, ap);
	va_end(ap);
}

/* What a file that is not a regular one is, for "PATH: not a regular file (a FIFO)". */
const char *file_type_name(mode_t mode)
{
	static const struct {
		mode_t type;
		const char *name;
	} types[] = {
		{ S_IFDIR, "a directory" }, { S_IFCHR, "a character device" },
		{ S_IFBLK, "a block device" }, { S_IFIFO, "a FIFO" }, { S_IFSOCK, "a socket" },
		{ S_IFLNK, "a symbolic link" }, { S_IFREG, "a regular file" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if ((mode & S_IFMT) == types[i].type)
			return types[i].name;
	return "of an unknown type";
}

int open_input(const char *path, struct stat *st)
{
	/*
	 * O_NONBLOCK: open() of a FIFO waits for a writer, forever if none
	 * comes; fstat then says what the file is before anything reads it.
	 * O_NOCTTY: a terminal named here must not become ours.
	 */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* The rest of fd, up to max bytes (more is -EFBIG), into a malloc'ed buffer. */
static int read_fd(int fd, size_t max, uint8_t **bufp, size_t *lenp)
{
	size_t done = 0, cap = 0;
	uint8_t *buf = NULL;

	for (;;) {
		ssize_t n;

		if (done == cap) {
			uint8_t *grown;

			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			cap = cap ? 2 * cap : 64 * KiB;
			grown = realloc(buf, cap);
			if (!grown) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
		}
		n = read(fd, buf + done, cap - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* A pipe left non-blocking by whoever handed it to us: wait for it. */
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			poll(&pfd, 1, -1);
			continue;
		}
		if (n < 0) {
			int ret = -errno;

			free(buf);
			return ret;
		}
		if (!n)
			break;
		done += n;
	}
	if (done > max) {
		free(buf);
		return -EFBIG;
	}
	*bufp = buf;
	*lenp = done;
	return 0;
}

int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t done = 0;

	if (fd < 0)
		return report_errno(-errno, "%s: open", path);
	while (done < len) {
		ssize_t n = write(fd, (const uint8_t *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int ret = report_errno(n < 0 ? -errno : -ENOSPC, "%s: write", path);

			close(fd);
			return ret;
		}
		done += n;
	}
	return close(fd) < 0 ? report_errno(-errno, "%s: close", path) : 0;
}

int read_file(const char *path, uint8_t **bufp, size_t *lenp, const char **why)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd, ret;

	fd = open_input(path, &st);
	if (fd < 0) {
		ret = fd;
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		static __thread char not_regular[64];

		snprintf(not_regular, sizeof(not_regular), "not a regular file (%s)",
			 file_type_name(st.st_mode));
		close(fd);
		*why = not_regular;
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		ret = -ENOMEM;
		goto err_close;
	}
	/* The size fstat gave: a file that grows meanwhile is read as it was. */
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			free(buf);
			goto err_close;
		}
		done += n;
	}
	close(fd);
	*bufp = buf;
	*lenp = done;
	return 0;

err_close:
	close(fd);
err:
	*why = strerror(-ret);
	return ret;
}

int read_stdin(size_t max, uint8_t **bufp, size_t *lenp, const char **why)
{
	int ret = read_fd(STDIN_FILENO, max, bufp, lenp);

	if (ret < 0)
		*why = strerror(-ret);
	return ret;
}

void json_write_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}
