// SPDX-License-Identifier: GPL-2.0-only
/*
 * 16550A UART.
 *
 * Transmission is instantaneous: a byte written to THR goes straight to
 * out_fd, so THR and the transmitter are empty again by the time the write
 * returns (LSR.THRE and LSR.TEMT always read 1). The receive side is a real
 * 16-byte FIFO fed by the console thread through uart8250_receive().
 *
 * There is no timer: the character timeout a real 16550 raises when the FIFO
 * holds fewer bytes than the trigger level is reported at once, so the guest
 * never waits for input that has already arrived.
 *
 * A break (uart8250_send_break(), the console's Ctrl-A b) arrives as the
 * 16550 receives one: a zero byte in the FIFO whose LSR.BI shows when that
 * byte reaches the top, so a guest that reads LSR before each byte (Linux
 * does, for its SysRq) ties the break to the right place in the stream.
 *
 * The interrupt output is not gated by MCR.OUT2 (as it is on PC boards):
 * guests that poll never care, and guests that use interrupts set OUT2.
 *
 * vCPU threads and the console thread both touch the device: one mutex,
 * held for register accesses, irq_set() calls and the (bounded) TX write.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "qlite/devices.h"
#include "qlite/util.h"

#define UART_NR_REGS	8
#define UART_FIFO_SIZE	16

/* Register offsets (DLAB selects DLL/DLM at 0 and 1). */
#define UART_RBR	0	/* read, DLAB=0 */
#define UART_THR	0	/* write, DLAB=0 */
#define UART_IER	1
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* THR empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_CTI		0x0c
#define IIR_FIFO_ON	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04
#define FCR_TRIGGER	0xc0

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_PE		0x04
#define LSR_FE		0x08
#define LSR_BI		0x10
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_ERRORS	(LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTAS	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/* How long a transmit may wait for a full out_fd before the byte is dropped. */
#define UART_TX_WAIT_MS	20

struct uart8250 {
	pthread_mutex_t lock;
	struct machine *m;
	uint16_t base;
	unsigned gsi;
	int out_fd;
	int rx_space_fd;
	int region;

	uint8_t dll, dlm, ier, lcr, mcr, lsr, msr, scr, fcr;
	bool thr_ipending;	/* THRE interrupt latched (cleared by IIR read or THR write) */
	bool irq_level;
	bool rx_waiting;	/* a receive came up short: signal rx_space_fd on room */
	bool tx_stalled;	/* the last byte was dropped: don't wait again */
	bool tx_drop_warned;

	uint8_t rx_fifo[UART_FIFO_SIZE];
	uint8_t rx_err[UART_FIFO_SIZE];	/* LSR error bits carried by each FIFO byte */
	unsigned rx_head, rx_count;
	uint8_t rbr_last;	/* what RBR reads when the FIFO is empty */
};

static const uint8_t fifo_trigger[4] = { 1, 4, 8, 14 };

static unsigned uart_rx_depth(const struct uart8250 *u)
{
	return (u->fcr & FCR_ENABLE) ? UART_FIFO_SIZE : 1;
}

/* LSR as the guest reads it: the errors of the byte at the top of the FIFO show too. */
static uint8_t uart_lsr(const struct uart8250 *u)
{
	return u->lsr | (u->rx_count ? u->rx_err[u->rx_head] : 0);
}

/* The highest priority pending interrupt, as IIR bits 3:0 report it. */
static uint8_t uart_pending_iid(const struct uart8250 *u)
{
	if ((u->ier & IER_ELSI) && (uart_lsr(u) & LSR_ERRORS))
		return IIR_RLSI;
	if ((u->ier & IER_ERBFI) && u->rx_count) {
		if ((u->fcr & FCR_ENABLE) &&
		    u->rx_count < fifo_trigger[(u->fcr & FCR_TRIGGER) >> 6])
			return IIR_CTI;
		return IIR_RDI;
	}
	if ((u->ier & IER_ETBEI) && u->thr_ipending)
		return IIR_THRI;
	if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

/* Make the interrupt line follow "an interrupt is pending"; irq_set on changes only. */
static void uart_update_irq(struct uart8250 *u)
{
	bool level = uart_pending_iid(u) != IIR_NO_INT;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	u->m->irq_set(u->m, u->gsi, level);
}

static void uart_signal_rx_space(struct uart8250 *u)
{
	uint64_t one = 1;

	if (!u->rx_waiting || u->rx_count >= uart_rx_depth(u))
		return;
	u->rx_waiting = false;
	/* A full eventfd counter already means "readable": nothing lost on EAGAIN. */
	if (write(u->rx_space_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_errno("uart %#x: rx space eventfd", u->base);
}

static void uart_rx_clear(struct uart8250 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	u->lsr &= ~LSR_DR;
	uart_signal_rx_space(u);
}

/* Queue one received byte and its errors; a full FIFO drops it and flags an overrun. */
static void uart_rx_push(struct uart8250 *u, uint8_t c, uint8_t err)
{
	unsigned tail = (u->rx_head + u->rx_count) % UART_FIFO_SIZE;

	if (u->rx_count >= uart_rx_depth(u)) {
		u->lsr |= LSR_OE;
		return;
	}
	u->rx_fifo[tail] = c;
	u->rx_err[tail] = err;
	u->rx_count++;
	u->lsr |= LSR_DR;
}

static uint8_t uart_rx_pop(struct uart8250 *u)
{
	if (!u->rx_count)
		return u->rbr_last;
	u->rbr_last = u->rx_fifo[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	if (!--u->rx_count)
		u->lsr &= ~LSR_DR;
	uart_signal_rx_space(u);
	return u->rbr_last;
}

/*
 * Write one byte to out_fd. EINTR is retried; a full non-blocking fd gets one
 * short wait, and none while it stays stuck: a reader that went away loses
 * bytes, it never stalls the vCPU.
 */
static void uart_tx(struct uart8250 *u, uint8_t c)
{
	int wait_ms = u->tx_stalled ? 0 : UART_TX_WAIT_MS;

	if (u->out_fd < 0)
		return;
	for (;;) {
		struct pollfd pfd = { .fd = u->out_fd, .events = POLLOUT };
		ssize_t n = write(u->out_fd, &c, 1);

		if (n == 1) {
			u->tx_stalled = false;
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && wait_ms > 0) {
			poll(&pfd, 1, wait_ms);
			wait_ms = 0;
			continue;
		}
		break;
	}
	u->tx_stalled = true;
	if (!u->tx_drop_warned) {
		u->tx_drop_warned = true;
		pr_err("uart %#x: output is not draining, dropping transmitted bytes", u->base);
	}
}

/* In loopback the modem inputs follow the modem outputs. */
static uint8_t uart_loop_msr(uint8_t mcr)
{
	return ((mcr & MCR_RTS) ? MSR_CTS : 0) | ((mcr & MCR_DTR) ? MSR_DSR : 0) |
	       ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0);
}

/* Outside loopback a modem is always connected and ready. */
#define UART_MSR_CONNECTED (MSR_CTS | MSR_DSR | MSR_DCD)

/* Update MSR status bits, setting the delta bits for the lines that changed. */
static void uart_set_msr_lines(struct uart8250 *u, uint8_t lines)
{
	uint8_t old = u->msr, changed = (old ^ lines) & 0xf0;

	u->msr = (old & MSR_DELTAS) | lines;
	if (changed & MSR_CTS)
		u->msr |= MSR_DCTS;
	if (changed & MSR_DSR)
		u->msr |= MSR_DDSR;
	if ((old & MSR_RI) && !(lines & MSR_RI))
		u->msr |= MSR_TERI;
	if (changed & MSR_DCD)
		u->msr |= MSR_DDCD;
}

static uint8_t uart_read_reg(struct uart8250 *u, unsigned reg)
{
	uint8_t v, iid;

	switch (reg) {
	case UART_RBR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		return uart_rx_pop(u);
	case UART_IER:
		if (u->lcr & LCR_DLAB)
			return u->dlm;
		return u->ier;
	case UART_IIR:
		iid = uart_pending_iid(u);
		/* Reading an IIR that reports THRE acknowledges it. */
		if (iid == IIR_THRI)
			u->thr_ipending = false;
		return iid | ((u->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = uart_lsr(u);
		/* Reading LSR reports the errors once, the top byte's included. */
		u->lsr &= ~LSR_ERRORS;
		if (u->rx_count)
			u->rx_err[u->rx_head] = 0;
		return v;
	case UART_MSR:
		v = u->msr;
		u->msr &= ~MSR_DELTAS;
		return v;
	default:
		return u->scr;
	}
}

static void uart_write_fcr(struct uart8250 *u, uint8_t v)
{
	/* Toggling the FIFO enable clears both FIFOs, as on the 16550A. */
	if ((v ^ u->fcr) & FCR_ENABLE) {
		u->fcr = v & FCR_ENABLE;
		uart_rx_clear(u);
	}
	if (!(v & FCR_ENABLE))
		return;
	u->fcr = v & (FCR_ENABLE | FCR_TRIGGER);
	if (v & FCR_CLEAR_RX)
		uart_rx_clear(u);
	/* FCR_CLEAR_TX: the transmit FIFO is always empty. */
}

static void uart_write_reg(struct uart8250 *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case UART_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			return;
		}
		u->thr_ipending = false;
		uart_update_irq(u);	/* the guest sees the edge of the next THRE */
		if (u->mcr & MCR_LOOP)
			uart_rx_push(u, v, 0);
		else
			uart_tx(u, v);
		/* The byte left at once: THR is empty again. */
		u->thr_ipending = true;
		return;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			return;
		}
		/* Enabling ETBEI while THR is empty raises THRE at once (Linux probes this). */
		if ((v & IER_ETBEI) && !(u->ier & IER_ETBEI))
			u->thr_ipending = true;
		u->ier = v & 0x0f;
		return;
	case UART_FCR:
		uart_write_fcr(u, v);
		return;
	case UART_LCR:
		u->lcr = v;
		return;
	case UART_MCR:
		u->mcr = v & MCR_MASK;
		uart_set_msr_lines(u, (u->mcr & MCR_LOOP) ? uart_loop_msr(u->mcr)
							  : UART_MSR_CONNECTED);
		return;
	case UART_LSR:
		/* Writable only for factory tests; ignored. */
		return;
	case UART_MSR:
		return;
	default:
		u->scr = v;
		return;
	}
}

/* Wider accesses reach an 8-bit device as consecutive byte cycles. */
static void uart_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct uart8250 *u = opaque;
	uint8_t *b = data;

	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < len; i++)
		b[i] = uart_read_reg(u, (offset + i) % UART_NR_REGS);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct uart8250 *u = opaque;
	const uint8_t *b = data;

	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < len; i++)
		uart_write_reg(u, (offset + i) % UART_NR_REGS, b[i]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static const char *uart_reg_name(void *opaque, uint64_t offset)
{
	static const char *const names[UART_NR_REGS] = {
		"RBR/THR", "IER", "IIR/FCR", "LCR", "MCR", "LSR", "MSR", "SCR",
	};

	return offset < UART_NR_REGS ? names[offset] : "?";
}

static const struct bus_ops uart_ops = {
	.read = uart_read,
	.write = uart_write,
	.reg_name = uart_reg_name,
};

struct uart8250 *uart8250_create(struct machine *m, uint16_t base, unsigned gsi, int out_fd)
{
	struct uart8250 *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return NULL;
	u->m = m;
	u->base = base;
	u->gsi = gsi;
	u->out_fd = out_fd;
	u->dll = 0x0c;		/* 9600 baud, as a BIOS leaves it */
	u->lcr = 0x03;		/* 8N1 */
	u->lsr = LSR_THRE | LSR_TEMT;
	u->msr = UART_MSR_CONNECTED;
	u->thr_ipending = true;
	u->rx_space_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->rx_space_fd < 0) {
		pr_errno("uart %#x: eventfd", base);
		goto err_free;
	}
	pthread_mutex_init(&u->lock, NULL);
	ret = machine_claim(m, BUS_PIO, base, UART_NR_REGS, "uart8250", &uart_ops, u);
	if (ret < 0)
		goto err_lock;
	u->region = ret;
	if (machine_claim_irq(m, gsi, "uart8250", false) < 0)
		goto err_unregister;
	return u;

err_unregister:
	bus_unregister(m->bus[BUS_PIO], u->region);
err_lock:
	pthread_mutex_destroy(&u->lock);
	close(u->rx_space_fd);
err_free:
	free(u);
	return NULL;
}

void uart8250_destroy(struct uart8250 *u)
{
	if (!u)
		return;
	bus_unregister(u->m->bus[BUS_PIO], u->region);
	pthread_mutex_destroy(&u->lock);
	close(u->rx_space_fd);
	free(u);
}

size_t uart8250_receive(struct uart8250 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	if (u->mcr & MCR_LOOP) {
		/* The serial input is disconnected in loopback: the bytes are lost on the wire. */
		n = len;
		goto out;
	}
	while (n < len && u->rx_count < uart_rx_depth(u))
		uart_rx_push(u, buf[n++], 0);
	if (n < len)
		u->rx_waiting = true;
	uart_update_irq(u);
out:
	pthread_mutex_unlock(&u->lock);
	return n;
}

bool uart8250_send_break(struct uart8250 *u)
{
	bool sent = true;

	pthread_mutex_lock(&u->lock);
	if (u->mcr & MCR_LOOP)
		goto out;	/* disconnected from the line, as for bytes */
	if (u->rx_count >= uart_rx_depth(u)) {
		u->rx_waiting = true;
		sent = false;
		goto out;
	}
	uart_rx_push(u, 0, LSR_BI);
	uart_update_irq(u);
out:
	pthread_mutex_unlock(&u->lock);
	return sent;
}

int uart8250_rx_space_fd(struct uart8250 *u)
{
	return u->rx_space_fd;
}
