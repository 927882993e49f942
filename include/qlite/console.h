/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host side of the serial console: stdin to the UART (raw mode when it
 * is a terminal, restored on every exit path), Ctrl-A x to quit, Ctrl-A
 * Ctrl-A for a literal Ctrl-A, as QEMU's -serial mon:stdio users expect.
 */
#ifndef QLITE_CONSOLE_H
#define QLITE_CONSOLE_H

#include "event_loop.h"
#include "machine.h"

struct uart8250;
struct console;

struct console *console_create(struct machine *m, struct uart8250 *uart, struct event_loop *loop,
			       int in_fd);
void console_destroy(struct console *con);
/* Put the terminal back; safe to call more than once and from exit paths. */
void console_restore_terminal(void);

#endif
