// SPDX-License-Identifier: GPL-2.0-only
/* Messages and small file helpers shared by every module. */
#include <errno.h>
#include <fcntl.h>
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

int read_file(const char *path, uint8_t **bufp, size_t *lenp)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto err_close;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		ret = -ENOMEM;
		goto err_close;
	}
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
	return ret;
}
