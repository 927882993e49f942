// SPDX-License-Identifier: GPL-2.0-only
/*
 * i8042 keyboard controller: data port 0x60, status/command port 0x64.
 *
 * It exists so that guests can reset the machine the PC way (reboot=k: pulse
 * the reset line with command 0xfe) and so that Linux's i8042 probe finds a
 * sane controller. No keyboard or mouse is attached: bytes sent to either
 * device get the answer a real controller gives for an absent device, a
 * timeout (status bit 6) with 0xfe in the output buffer, so the guest's
 * probe fails fast instead of waiting for its own timeouts.
 *
 * The output buffer is one byte deep, as on the real part; reading the data
 * port with nothing pending returns the last byte again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "qlite/devices.h"
#include "qlite/util.h"



/* Status register */
#define STR_OBF		0x01	/* output buffer full */
#define STR_IBF		0x02	/* input buffer full: never, commands complete at once */
#define STR_SYS		0x04	/* system flag: mirrors CTR bit 2 */
#define STR_CMD		0x08	/* last write was to the command port */
#define STR_UNLOCKED	0x10	/* keyboard not inhibited by the keylock */
#define STR_AUXDATA	0x20	/* output buffer holds aux data */
#define STR_TIMEOUT	0x40
#define STR_PARITY	0x80

/* Controller configuration ("command") byte */
#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40

/* Controller output port */
#define OUTP_RESET	0x01	/* active low: clearing it resets the CPU */
#define OUTP_A20	0x02

/* Commands written to port 0x64 */
#define CMD_READ_CTR		0x20
#define CMD_WRITE_CTR		0x60
#define CMD_AUX_DISABLE		0xa7
#define CMD_AUX_ENABLE		0xa8
#define CMD_AUX_TEST		0xa9
#define CMD_SELF_TEST		0xaa
#define CMD_KBD_TEST		0xab
#define CMD_KBD_DISABLE		0xad
#define CMD_KBD_ENABLE		0xae
#define CMD_READ_INPUT		0xc0
#define CMD_READ_OUTP		0xd0
#define CMD_WRITE_OUTP		0xd1
#define CMD_KBD_LOOP		0xd2
#define CMD_AUX_LOOP		0xd3
#define CMD_AUX_SEND		0xd4
#define CMD_READ_TEST		0xe0
#define CMD_PULSE_FIRST		0xf0

#define SELF_TEST_OK		0x55
#define PORT_TEST_OK		0x00
#define DEV_NO_ANSWER		0xfe

struct i8042 {
	pthread_mutex_t lock;
	struct machine *m;
	uint8_t status;
	uint8_t ctr;
	uint8_t outp;
	uint8_t obuf;		/* last byte placed in the output buffer */
	uint8_t pending_cmd;	/* command waiting for its data byte, 0 if none */
	bool kbd_irq, aux_irq;	/* current levels of GSI 1 and 12 */
};

static void i8042_set_line(struct i8042 *k, bool *cur, unsigned gsi, bool level)
{
	if (*cur == level)
		return;
	*cur = level;
	k->m->irq_set(k->m, gsi, level);
}

/* The lines follow "output buffer full" for the source, when its interrupt is enabled. */
static void i8042_update_irq(struct i8042 *k)
{
	bool full = k->status & STR_OBF, aux = k->status & STR_AUXDATA;

	i8042_set_line(k, &k->kbd_irq, I8042_KBD_GSI, full && !aux && (k->ctr & CTR_KBDINT));
	i8042_set_line(k, &k->aux_irq, I8042_AUX_GSI, full && aux && (k->ctr & CTR_AUXINT));
}

static void i8042_output(struct i8042 *k, uint8_t v, uint8_t flags)
{
	k->obuf = v;
	k->status &= ~(STR_AUXDATA | STR_TIMEOUT | STR_PARITY);
	k->status |= STR_OBF | flags;
}

static void i8042_set_ctr(struct i8042 *k, uint8_t v)
{
	k->ctr = v;
	if (v & CTR_SYS)
		k->status |= STR_SYS;
	else
		k->status &= ~STR_SYS;
}

static void i8042_set_outp(struct i8042 *k, uint8_t v)
{
	k->outp = v;
	if (!(v & OUTP_RESET))
		k->m->request_stop(k->m, STOP_RESET, 0, NULL);
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_output(k, k->ctr, 0);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
	case CMD_KBD_LOOP:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		k->pending_cmd = cmd;
		break;
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		/* The clock and data lines test fine even with nothing plugged in. */
		i8042_output(k, PORT_TEST_OK, 0);
		break;
	case CMD_SELF_TEST:
		i8042_output(k, SELF_TEST_OK, 0);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= ~CTR_KBDDIS;
		break;
	case CMD_READ_INPUT:
		/* Bit 7 set: keyboard not inhibited. */
		i8042_output(k, 0x80, 0);
		break;
	case CMD_READ_OUTP:
		i8042_output(k, k->outp, 0);
		break;
	case CMD_READ_TEST:
		i8042_output(k, 0x00, 0);
		break;
	default:
		/* 0xf0..0xff pulse the output lines whose bits are clear; bit 0 is reset. */
		if (cmd >= CMD_PULSE_FIRST && !(cmd & OUTP_RESET))
			k->m->request_stop(k->m, STOP_RESET, 0, NULL);
		/* Other commands are vendor specific or obsolete: ignored as by many clones. */
		break;
	}
}

static void i8042_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		i8042_set_ctr(k, v);
		break;
	case CMD_WRITE_OUTP:
		i8042_set_outp(k, v);
		break;
	case CMD_KBD_LOOP:
		i8042_output(k, v, 0);
		break;
	case CMD_AUX_LOOP:
		i8042_output(k, v, STR_AUXDATA);
		break;
	case CMD_AUX_SEND:
		/* No mouse. */
		i8042_output(k, DEV_NO_ANSWER, STR_AUXDATA | STR_TIMEOUT);
		break;
	default:
		/* A byte for the keyboard, which is not there. Writing it re-enables the port. */
		k->ctr &= ~CTR_KBDDIS;
		i8042_output(k, DEV_NO_ANSWER, STR_TIMEOUT);
		break;
	}
}

static void i8042_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct i8042 *k = opaque;
	uint8_t *b = data;
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	if (offset == 0) {
		v = k->obuf;
		k->status &= ~STR_OBF;
		i8042_update_irq(k);
	} else {
		v = k->status;
	}
	pthread_mutex_unlock(&k->lock);
	/* The controller drives the low byte only; the ISA bus floats high above it. */
	b[0] = v;
	for (unsigned i = 1; i < len; i++)
		b[i] = 0xff;
}

static void i8042_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct i8042 *k = opaque;
	uint8_t v = *(const uint8_t *)data;

	pthread_mutex_lock(&k->lock);
	if (offset == 0) {
		k->status &= ~STR_CMD;
		i8042_data(k, v);
	} else {
		k->status |= STR_CMD;
		i8042_command(k, v);
	}
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

static const char *i8042_data_name(void *opaque, uint64_t offset)
{
	return "DATA";
}

static const char *i8042_cmd_name(void *opaque, uint64_t offset)
{
	return "STATUS/COMMAND";
}

static const struct bus_ops i8042_data_ops = {
	.read = i8042_read,
	.write = i8042_write,
	.reg_name = i8042_data_name,
};

/* The command port region dispatches with offset 0; shift it to tell the ports apart. */
static void i8042_cmd_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	i8042_read(opaque, 1, data, len);
}

static void i8042_cmd_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	i8042_write(opaque, 1, data, len);
}

static const struct bus_ops i8042_cmd_ops = {
	.read = i8042_cmd_read,
	.write = i8042_cmd_write,
	.reg_name = i8042_cmd_name,
};

static void i8042_release(void *state)
{
	struct i8042 *k = state;

	pthread_mutex_destroy(&k->lock);
	free(k);
}

int i8042_create(struct machine *m)
{
	struct i8042 *k = machine_alloc_device(m, sizeof(*k), i8042_release);
	int ret;

	if (!k)
		return -ENOMEM;
	k->m = m;
	k->status = STR_UNLOCKED | STR_SYS;
	k->ctr = CTR_KBDINT | CTR_AUXINT | CTR_SYS | CTR_XLATE;	/* as a BIOS leaves it */
	k->outp = OUTP_RESET | OUTP_A20;
	pthread_mutex_init(&k->lock, NULL);

	/* 0x61..0x63 belong to other chips: two one-byte regions. */
	ret = machine_claim(m, BUS_PIO, I8042_DATA_PORT, 1, "i8042", &i8042_data_ops, k);
	if (ret >= 0)
		ret = machine_claim(m, BUS_PIO, I8042_CMD_PORT, 1, "i8042", &i8042_cmd_ops, k);
	if (ret >= 0)
		ret = machine_claim_irq(m, I8042_KBD_GSI, "i8042", false);
	if (ret >= 0)
		ret = machine_claim_irq(m, I8042_AUX_GSI, "i8042", false);
	return ret < 0 ? ret : 0;
}
