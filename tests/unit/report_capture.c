// SPDX-License-Identifier: GPL-2.0-only
/* Reports captured in memory for the unit tests; see report_capture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report_capture.h"
#include "qlite/util.h"

void report_capture_start(struct report_capture *c)
{
	*c = (struct report_capture){ 0 };
	c->stream = open_memstream(&c->buf, &c->len);
	assert_non_null(c->stream);
	report_set_stream(c->stream);
}

void report_capture_stop(struct report_capture *c)
{
	report_set_stream(NULL);
	fclose(c->stream);
	free(c->buf);
	*c = (struct report_capture){ 0 };
}

const char *report_capture_text(struct report_capture *c)
{
	fflush(c->stream);
	return c->buf ? c->buf : "";
}

unsigned report_capture_lines(struct report_capture *c)
{
	const char *s = report_capture_text(c);
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

bool report_capture_has(struct report_capture *c, const char *text)
{
	return strstr(report_capture_text(c), text) != NULL;
}
