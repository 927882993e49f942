// SPDX-License-Identifier: GPL-2.0-only
/* 16550A UART: registers, FIFO, interrupt priorities, THRE, loopback, TX path. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_machine.h"
#include "qlite/devices.h"

#define BASE	UART_COM1_BASE
#define GSI	UART_COM1_GSI

#define RBR	(BASE + 0)
#define THR	(BASE + 0)
#define DLL	(BASE + 0)
#define IER	(BASE + 1)
#define DLM	(BASE + 1)
#define IIR	(BASE + 2)
#define FCR	(BASE + 2)
#define LCR	(BASE + 3)
#define MCR	(BASE + 4)
#define LSR	(BASE + 5)
#define MSR	(BASE + 6)
#define SCR	(BASE + 7)

struct ctx {
	struct fake_machine *fm;
	struct uart8250 *u;
	int pipe[2];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(pipe2(c->pipe, O_NONBLOCK), 0);
	c->fm = fake_machine_create();
	c->u = uart8250_create(&c->fm->m, BASE, GSI, c->pipe[1]);
	assert_non_null(c->u);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	uart8250_destroy(c->u);
	fake_machine_destroy(c->fm);
	close(c->pipe[0]);
	close(c->pipe[1]);
	free(c);
	return 0;
}

static uint8_t rd(struct ctx *c, uint16_t port)
{
	return fake_pio_read(c->fm, port, 1);
}

static void wr(struct ctx *c, uint16_t port, uint8_t v)
{
	fake_pio_write(c->fm, port, 1, v);
}

static void test_dlab_divisor(void **state)
{
	struct ctx *c = *state;

	wr(c, IER, 0x05);
	wr(c, LCR, 0x83);
	wr(c, DLL, 0x01);
	wr(c, DLM, 0x02);
	assert_int_equal(rd(c, DLL), 0x01);
	assert_int_equal(rd(c, DLM), 0x02);
	/* With DLAB set, offset 0 writes the divisor and transmits nothing. */
	char b;
	assert_int_equal(read(c->pipe[0], &b, 1), -1);
	wr(c, LCR, 0x03);
	assert_int_equal(rd(c, LCR), 0x03);
	assert_int_equal(rd(c, IER), 0x05);
	/* IER keeps only its four defined bits. */
	wr(c, IER, 0xff);
	assert_int_equal(rd(c, IER), 0x0f);
	wr(c, SCR, 0x5a);
	assert_int_equal(rd(c, SCR), 0x5a);
}

static void test_tx_to_pipe(void **state)
{
	struct ctx *c = *state;
	char buf[16];

	wr(c, THR, 'h');
	wr(c, THR, 'i');
	assert_int_equal(read(c->pipe[0], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "hi", 2);
	assert_int_equal(rd(c, LSR) & 0x60, 0x60);	/* THRE | TEMT */
}

static void test_tx_full_pipe_does_not_block(void **state)
{
	struct ctx *c = *state;
	char buf[4096];
	long filled = 0;
	struct timespec t0, t1;

	/* Fill the pipe, then make sure transmitting drops instead of hanging. */
	memset(buf, 'x', sizeof(buf));
	for (;;) {
		ssize_t n = write(c->pipe[1], buf, sizeof(buf));
		if (n <= 0)
			break;
		filled += n;
	}
	assert_true(filled > 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 100; i++)
		wr(c, THR, 'y');
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* One short wait for the first byte, then drops without waiting. */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 200);
	assert_int_equal(rd(c, LSR) & 0x60, 0x60);
}

static void test_rx_fifo_and_overrun(void **state)
{
	struct ctx *c = *state;
	uint8_t in[20];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = 'a' + i;
	/* Without the FIFO the receiver holds one byte. */
	assert_int_equal(uart8250_receive(c->u, in, sizeof(in)), 1);
	assert_int_equal(rd(c, LSR) & 0x01, 0x01);
	assert_int_equal(rd(c, RBR), 'a');
	assert_int_equal(rd(c, LSR) & 0x01, 0);

	wr(c, FCR, 0x07);
	assert_int_equal(uart8250_receive(c->u, in, sizeof(in)), 16);
	assert_int_equal(uart8250_receive(c->u, in, sizeof(in)), 0);
	assert_int_equal(rd(c, LSR) & 0x03, 0x01);	/* DR, no overrun: excess refused */

	/* Overflow through loopback: the 17th byte is lost and OE set. */
	wr(c, MCR, 0x10);
	wr(c, THR, 'Z');
	uint8_t lsr = rd(c, LSR);
	assert_int_equal(lsr & 0x02, 0x02);
	assert_int_equal(rd(c, LSR) & 0x02, 0);	/* read clears OE */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(rd(c, RBR), 'a' + i);
	assert_int_equal(rd(c, LSR) & 0x01, 0);

	/* FCR clear RX empties the FIFO. */
	wr(c, MCR, 0x00);
	assert_int_equal(uart8250_receive(c->u, in, 5), 5);
	wr(c, FCR, 0x03);
	assert_int_equal(rd(c, LSR) & 0x01, 0);
}

/* A break is a zero byte whose BI shows in LSR when it reaches the top of the FIFO. */
static void test_break_in_stream(void **state)
{
	struct ctx *c = *state;
	uint8_t a = 'a', b = 'b';

	wr(c, FCR, 0x01);
	wr(c, IER, 0x05);			/* RX data and line status */
	assert_int_equal(uart8250_receive(c->u, &a, 1), 1);
	assert_true(uart8250_send_break(c->u));
	assert_int_equal(uart8250_receive(c->u, &b, 1), 1);

	assert_int_equal(rd(c, IIR) & 0x0f, 0x04);	/* 'a' on top: data, no line status yet */
	assert_int_equal(rd(c, LSR) & 0x1f, 0x01);
	assert_int_equal(rd(c, RBR), 'a');
	assert_int_equal(rd(c, IIR) & 0x0f, 0x06);	/* the break on top: line status */
	assert_int_equal(rd(c, LSR) & 0x1f, 0x11);	/* BI and DR; the read reports it once */
	assert_int_equal(rd(c, LSR) & 0x1f, 0x01);
	assert_int_equal(rd(c, RBR), 0);
	assert_int_equal(rd(c, LSR) & 0x1f, 0x01);
	assert_int_equal(rd(c, RBR), 'b');
	assert_int_equal(rd(c, LSR) & 0x1f, 0);
	assert_int_equal(rd(c, IIR) & 0x0f, 0x01);

	/* A full FIFO refuses the break (the console retries on room), no overrun. */
	wr(c, FCR, 0x00);
	assert_int_equal(uart8250_receive(c->u, &a, 1), 1);
	assert_false(uart8250_send_break(c->u));
	assert_int_equal(rd(c, LSR) & 0x1f, 0x01);
	assert_int_equal(rd(c, RBR), 'a');

	/* In loopback the line is disconnected: the break is lost, as bytes are. */
	wr(c, MCR, 0x10);
	assert_true(uart8250_send_break(c->u));
	assert_int_equal(rd(c, LSR) & 0x1f, 0);
}

static void test_rx_space_eventfd(void **state)
{
	struct ctx *c = *state;
	uint8_t in[32] = { 0 };
	uint64_t v;
	int fd = uart8250_rx_space_fd(c->u);

	wr(c, FCR, 0x01);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, &v, sizeof(v)), -1);	/* nothing yet */
	assert_int_equal(uart8250_receive(c->u, in, sizeof(in)), 16);
	assert_int_equal(read(fd, &v, sizeof(v)), -1);
	rd(c, RBR);
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(uart8250_receive(c->u, in, 1), 1);
}

static void test_fifo_iir_and_trigger(void **state)
{
	struct ctx *c = *state;
	uint8_t in[8] = "12345678";

	assert_int_equal(rd(c, IIR), 0x01);		/* no FIFO bits, nothing pending */
	wr(c, FCR, 0x81);				/* FIFO on, trigger 8 */
	assert_int_equal(rd(c, IIR), 0xc1);
	wr(c, IER, 0x01);
	assert_int_equal(uart8250_receive(c->u, in, 4), 4);
	/* Below the trigger level the data is reported as a character timeout. */
	assert_int_equal(rd(c, IIR), 0xcc);
	assert_int_equal(uart8250_receive(c->u, in + 4, 4), 4);
	assert_int_equal(rd(c, IIR), 0xc4);
	while (rd(c, LSR) & 0x01)
		rd(c, RBR);
	assert_int_equal(rd(c, IIR), 0xc1);
}

static void test_iir_priorities(void **state)
{
	struct ctx *c = *state;
	/* Make every source pending: modem status, THRE, RX data, line status. */
	wr(c, MCR, 0x10);		/* loopback: MSR deltas follow MCR */
	wr(c, MCR, 0x13);		/* RTS/DTR rise -> DCTS, DDSR */
	wr(c, THR, 'A');		/* received in loopback, THRE pending */
	wr(c, THR, 'B');		/* FIFO off: overrun */
	wr(c, IER, 0x0f);

	assert_int_equal(rd(c, IIR), 0x06);		/* line status first */
	assert_int_equal(rd(c, LSR) & 0x03, 0x03);	/* OE and DR; read clears OE */
	assert_int_equal(rd(c, IIR), 0x04);		/* then RX data */
	assert_int_equal(rd(c, RBR), 'A');
	assert_int_equal(rd(c, IIR), 0x02);		/* then THRE; this read acknowledges it */
	assert_int_equal(rd(c, IIR), 0x00);		/* then modem status */
	assert_int_equal(rd(c, MSR) & 0x0f, 0x0b);	/* DCD, DSR, CTS moved */
	assert_int_equal(rd(c, IIR), 0x01);
}

static void test_thre_interrupt(void **state)
{
	struct ctx *c = *state;
	struct fake_machine *fm = c->fm;
	char buf[8];

	fake_machine_clear_calls(fm);
	wr(c, IER, 0x02);
	/* Enabling ETBEI with an empty THR raises the line at once. */
	assert_int_equal(fm->nr_irq_calls, 1);
	assert_int_equal(fm->irq_calls[0].gsi, GSI);
	assert_int_equal(fm->irq_calls[0].level, 1);
	assert_int_equal(rd(c, IIR), 0x02);
	/* The IIR read that reported it cleared it and dropped the line. */
	assert_int_equal(fm->nr_irq_calls, 2);
	assert_int_equal(fm->irq_level[GSI], 0);
	assert_int_equal(rd(c, IIR), 0x01);
	assert_int_equal(fm->nr_irq_calls, 2);	/* no change, no call */

	/* A THR write clears it and, the byte gone at once, raises it again: an edge. */
	wr(c, THR, 'x');
	assert_int_equal(fm->nr_irq_calls, 3);
	assert_int_equal(fm->irq_calls[2].level, 1);
	wr(c, THR, 'y');
	assert_int_equal(fm->nr_irq_calls, 5);
	assert_int_equal(fm->irq_calls[3].level, 0);
	assert_int_equal(fm->irq_calls[4].level, 1);
	assert_int_equal(read(c->pipe[0], buf, sizeof(buf)), 2);

	/* Masking ETBEI drops the line; re-enabling raises it (Linux's THRE probe). */
	wr(c, IER, 0x00);
	assert_int_equal(fm->irq_level[GSI], 0);
	rd(c, IIR);
	wr(c, IER, 0x02);
	assert_int_equal(fm->irq_level[GSI], 1);
}

static void test_rx_interrupt_line(void **state)
{
	struct ctx *c = *state;
	struct fake_machine *fm = c->fm;
	uint8_t b = 'k';

	wr(c, IER, 0x01);
	fake_machine_clear_calls(fm);
	assert_int_equal(uart8250_receive(c->u, &b, 1), 1);
	assert_int_equal(fm->nr_irq_calls, 1);
	assert_int_equal(fm->irq_level[GSI], 1);
	assert_int_equal(rd(c, RBR), 'k');
	assert_int_equal(fm->nr_irq_calls, 2);
	assert_int_equal(fm->irq_level[GSI], 0);
}

static void test_loopback(void **state)
{
	struct ctx *c = *state;
	char buf[4];
	uint8_t in = 'e';

	wr(c, MCR, 0x1f);
	/* Modem inputs follow outputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	assert_int_equal(rd(c, MSR) & 0xf0, 0xf0);
	wr(c, MCR, 0x10);
	assert_int_equal(rd(c, MSR), 0x0f);	/* all four fell: every delta, TERI included */
	wr(c, THR, 'L');
	assert_int_equal(rd(c, RBR), 'L');
	assert_int_equal(read(c->pipe[0], buf, sizeof(buf)), -1);	/* nothing on the wire */
	/* External input is disconnected in loopback. */
	assert_int_equal(uart8250_receive(c->u, &in, 1), 1);
	assert_int_equal(rd(c, LSR) & 0x01, 0);
	wr(c, MCR, 0x0b);
	assert_int_equal(rd(c, MSR) & 0xf0, 0xb0);	/* connected modem */
	assert_int_equal(rd(c, MCR), 0x0b);
}

static void test_word_access_splits(void **state)
{
	struct ctx *c = *state;

	/* A 16-bit write at LCR reaches LCR and MCR as two byte cycles. */
	fake_pio_write(c->fm, LCR, 2, 0x0803);
	assert_int_equal(rd(c, LCR), 0x03);
	assert_int_equal(rd(c, MCR), 0x08);
	/* The region ends at SCR: a word at SCR belongs to nobody. */
	assert_int_equal(fake_pio_read(c->fm, SCR, 2), 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dlab_divisor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_to_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_full_pipe_does_not_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_fifo_and_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_break_in_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_space_eventfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_iir_and_trigger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iir_priorities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_interrupt_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_word_access_splits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
