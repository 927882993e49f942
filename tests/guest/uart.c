// SPDX-License-Identifier: GPL-2.0-only
/*
 * uart.c - COM1 output and input by polling, and a tiny printf.
 *
 * Polling (THRE before each byte, DR before each read) needs no interrupt
 * and no UART setup, and makes every byte a predictable pair of PIO exits.
 * A spinlock keeps lines from several CPUs whole.
 */
#include "guest.h"

#define COM1		0x3f8
#define UART_RBR	0
#define UART_THR	0
#define UART_LSR	5
#define LSR_DR		0x01
#define LSR_BI		0x10
#define LSR_THRE	0x20
#define THRE_SPINS	1000000	/* a missing UART must not hang the guest */

static volatile uint32_t uart_lock;

static void lock(void)
{
	while (__atomic_exchange_n(&uart_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

static void unlock(void)
{
	__atomic_store_n(&uart_lock, 0, __ATOMIC_RELEASE);
}

/* The trap handler may interrupt a holder on its own CPU: it just takes over. */
void uart_lock_break(void)
{
	unlock();
}

void uart_putc(char c)
{
	for (unsigned i = 0; i < THRE_SPINS; i++)
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
	outb(COM1 + UART_THR, c);
}

/*
 * A byte from COM1, UART_BREAK for a break (the zero byte whose LSR shows BI), or -1 if none
 * arrived within timeout_us.
 */
int uart_getc(uint64_t timeout_us)
{
	uint64_t deadline = tsc_deadline(timeout_us);
	uint8_t lsr;

	while (!((lsr = inb(COM1 + UART_LSR)) & LSR_DR)) {
		if (rdtsc() > deadline)
			return -1;
	}
	if (lsr & LSR_BI) {
		inb(COM1 + UART_RBR);
		return UART_BREAK;
	}
	return inb(COM1 + UART_RBR);
}

/* v in base, at least width digits (zero-padded, as %08x is used). */
static void put_num(uint64_t v, unsigned base, bool neg, unsigned width)
{
	char buf[24];
	unsigned n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n < width && n < sizeof(buf))
		buf[n++] = '0';
	if (neg)
		uart_putc('-');
	while (n)
		uart_putc(buf[--n]);
}

/* %s %c %d %u %x with an optional zero-padded width (%04x) and l; %% . Enough for test output. */
void vgprintf(const char *fmt, va_list ap)
{
	lock();
	for (; *fmt; fmt++) {
		bool is_long = false;
		unsigned width = 0;
		const char *s;

		if (*fmt != '%') {
			uart_putc(*fmt);
			continue;
		}
		while (*++fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt - '0');
		if (*fmt == 'l') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			for (s = va_arg(ap, const char *); *s; s++)
				uart_putc(*s);
			break;
		case 'c':
			uart_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = is_long ? va_arg(ap, long) : va_arg(ap, int);

			put_num(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width);
			break;
		}
		case 'u':
		case 'x':
			put_num(is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned),
				*fmt == 'x' ? 16 : 10, false, width);
			break;
		case '%':
			uart_putc('%');
			break;
		default:	/* unknown conversion or a trailing '%': stop */
			unlock();
			return;
		}
	}
	unlock();
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vgprintf(fmt, ap);
	va_end(ap);
}
