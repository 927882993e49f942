/* SPDX-License-Identifier: GPL-2.0-only */
/* Unit tests: what report() prints, captured in memory instead of stderr. */
#ifndef QLITE_TEST_REPORT_CAPTURE_H
#define QLITE_TEST_REPORT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct report_capture {
	char *buf;
	size_t len;
	FILE *stream;
};

/* From now on report() writes into c; stop puts stderr back and frees the text. */
void report_capture_start(struct report_capture *c);
void report_capture_stop(struct report_capture *c);
/* Everything reported so far ("" when nothing was). */
const char *report_capture_text(struct report_capture *c);
unsigned report_capture_lines(struct report_capture *c);
bool report_capture_has(struct report_capture *c, const char *text);

#endif
