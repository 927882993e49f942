// SPDX-License-Identifier: GPL-2.0-only
/*
 * QEMU isa-debug-exit compatible port: a guest (typically a test) writes v
 * and the VM stops with exit status (v << 1) | 1, so a status of 1 is never
 * mistaken for a VM that merely ran to completion with 0.
 */
#include <errno.h>

#include "qlite/devices.h"
#include "qlite/util.h"

static void debug_exit_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		((uint8_t *)data)[i] = 0xff;
}

static void debug_exit_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct machine *m = opaque;
	uint32_t v = le_load(data, len);

	/* As QEMU: the shifted value, truncated by the process exit status to 8 bits. */
	m->request_stop(m, STOP_DEBUG_EXIT, (int)((v << 1) | 1));
}

static const char *debug_exit_reg_name(void *opaque, uint64_t offset)
{
	return "EXIT";
}

static const struct bus_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
	.reg_name = debug_exit_reg_name,
};

int debug_exit_create(struct machine *m, uint16_t base, unsigned size)
{
	int ret;

	/* No state beyond the machine: the machine is the opaque. */
	if (!size || base + size > 0x10000) {
		pr_err("debug-exit: invalid port range %#x+%u", base, size);
		return -EINVAL;
	}
	ret = machine_register(m, BUS_PIO, base, size, "debug-exit", &debug_exit_ops, m);
	if (ret < 0) {
		pr_err("debug-exit: cannot claim ports %#x-%#x: %s", base, base + size - 1,
		       ret == -EEXIST ? "already in use" : "bus full");
		return ret;
	}
	return 0;
}
