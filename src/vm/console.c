// SPDX-License-Identifier: GPL-2.0-only
/* Console input: stdin -> UART receive FIFO, with QEMU's Ctrl-A escapes. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "qlite/console.h"
#include "qlite/devices.h"
#include "qlite/util.h"

#define CTRL_A 0x01

struct console {
	struct machine *m;
	struct uart8250 *uart;
	struct event_loop *loop;
	int in_fd;
	bool escape;		/* the previous byte was Ctrl-A */
	bool waiting;		/* pending bytes wait for FIFO room */
	uint8_t buf[256];
	size_t len, off;
};

static struct termios saved_tio;
static int saved_fd = -1;

void console_restore_terminal(void)
{
	if (saved_fd >= 0) {
		tcsetattr(saved_fd, TCSANOW, &saved_tio);
		saved_fd = -1;
	}
}

static void console_raw_mode(int fd)
{
	struct termios tio;

	if (!isatty(fd) || tcgetattr(fd, &saved_tio) < 0)
		return;
	tio = saved_tio;
	/* No echo, no line editing, no signals from ^C: the guest gets every key. */
	tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	tio.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	tio.c_cflag &= ~(CSIZE | PARENB);
	tio.c_cflag |= CS8;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &tio) == 0) {
		saved_fd = fd;
		atexit(console_restore_terminal);
	}
}

/* Strip the escapes out of buf[off..len) in place; act on them. */
static void console_filter(struct console *con)
{
	size_t out = con->off;

	for (size_t i = con->off; i < con->len; i++) {
		uint8_t c = con->buf[i];

		if (con->escape) {
			con->escape = false;
			if (c == 'x' || c == 'X') {
				con->m->request_stop(con->m, STOP_USER_QUIT, 0, NULL);
				con->len = con->off = 0;
				return;
			}
			if (c != CTRL_A)
				continue;	/* unknown escape: swallowed, like QEMU */
		} else if (c == CTRL_A) {
			con->escape = true;
			continue;
		}
		con->buf[out++] = c;
	}
	con->len = out;
}

/* Push what fits into the FIFO; true when everything went. */
static bool console_flush(struct console *con)
{
	con->off += uart8250_receive(con->uart, con->buf + con->off, con->len - con->off);
	if (con->off < con->len)
		return false;
	con->off = con->len = 0;
	return true;
}

static bool console_on_input(void *opaque, int fd, uint32_t revents);

static bool console_on_space(void *opaque, int fd, uint32_t revents)
{
	struct console *con = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return false;
	if (con->waiting && console_flush(con)) {
		con->waiting = false;
		/* stdin was not watched while the FIFO was full: watch it again. */
		if (event_loop_add(con->loop, con->in_fd, POLLIN, console_on_input, con) < 0)
			pr_err("console: cannot watch stdin again");
	}
	return true;
}

static bool console_on_input(void *opaque, int fd, uint32_t revents)
{
	struct console *con = opaque;
	ssize_t n;

	n = read(fd, con->buf, sizeof(con->buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;	/* EOF or error: the guest keeps running without input */
	con->off = 0;
	con->len = n;
	console_filter(con);
	if (console_flush(con))
		return true;
	/* The guest is slower than the keyboard: stop reading until the FIFO drains. */
	con->waiting = true;
	return false;
}

struct console *console_create(struct machine *m, struct uart8250 *uart, struct event_loop *loop,
			       int in_fd)
{
	struct console *con = calloc(1, sizeof(*con));
	struct pollfd pfd = { .fd = in_fd, .events = POLLIN };

	if (!con)
		return NULL;
	con->m = m;
	con->uart = uart;
	con->loop = loop;
	con->in_fd = in_fd;
	/* A closed or invalid stdin (CI, daemons) simply means no console input. */
	if (poll(&pfd, 1, 0) < 0 || (pfd.revents & POLLNVAL))
		return con;
	console_raw_mode(in_fd);
	if (event_loop_add(loop, in_fd, POLLIN, console_on_input, con) < 0 ||
	    event_loop_add(loop, uart8250_rx_space_fd(uart), POLLIN, console_on_space, con) < 0) {
		pr_err("console: cannot watch stdin");
		free(con);
		return NULL;
	}
	return con;
}

void console_destroy(struct console *con)
{
	console_restore_terminal();
	free(con);
}
