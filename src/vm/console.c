// SPDX-License-Identifier: GPL-2.0-only
/* Console input: stdin -> UART receive FIFO, with QEMU's Ctrl-A escapes (x, b, Ctrl-A). */
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

/*
 * Feed buf[off..len) to the UART, acting on the escapes on the way (QEMU's: Ctrl-A x quits,
 * Ctrl-A b sends a break, Ctrl-A Ctrl-A sends a Ctrl-A, anything else after Ctrl-A is
 * swallowed). Byte by byte, so a break keeps its place among the bytes around it. True when
 * everything went; false when the FIFO is full (off stays on the byte to retry).
 */
static bool console_flush(struct console *con)
{
	for (; con->off < con->len; con->off++) {
		uint8_t c = con->buf[con->off];

		if (con->escape) {
			if (c == 'x' || c == 'X') {
				con->m->request_stop(con->m, STOP_USER_QUIT, 0, NULL);
				break;
			}
			if (c == 'b' || c == 'B') {
				if (!uart8250_send_break(con->uart))
					return false;
			} else if (c == CTRL_A && !uart8250_receive(con->uart, &c, 1)) {
				return false;
			}
			con->escape = false;
		} else if (c == CTRL_A) {
			con->escape = true;
		} else if (!uart8250_receive(con->uart, &c, 1)) {
			return false;
		}
	}
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
