// SPDX-License-Identifier: GPL-2.0-only
/*
 * QEMU isa-debug-exit compatible port: a guest (typically a test) writes v
 * and the VM stops with exit status (v << 1) | 1, so a status of 1 is never
 * mistaken for a VM that merely ran to completion with 0.
 *
 * Every VM has one at 0xf4 (the platform); `vdev isa-debug-exit` adds one
 * where QEMU users put theirs (iobase 0x501, iosize 2 by default).
 */
#include <errno.h>
#include <stdio.h>

#include "qlite/config.h"
#include "qlite/devices.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

struct debug_exit {
	struct machine *m;
	const char *name;
};

static void debug_exit_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		((uint8_t *)data)[i] = 0xff;
}

static void debug_exit_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct debug_exit *d = opaque;
	uint32_t v = le_load(data, len);
	char detail[96];

	snprintf(detail, sizeof(detail), "guest wrote %u to the %s port", v, d->name);
	/* As QEMU: the shifted value, truncated by the process exit status to 8 bits. */
	d->m->request_stop(d->m, STOP_DEBUG_EXIT, (int)((v << 1) | 1), detail);
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

int debug_exit_create(struct machine *m, const char *name, uint16_t base, unsigned size)
{
	struct debug_exit *d;
	int ret;

	if (!size || base + size > 0x10000)
		return report(-EINVAL, "%s: invalid port range %#x+%u", name, base, size);
	d = machine_alloc_device(m, sizeof(*d), NULL);
	if (!d)
		return -ENOMEM;
	*d = (struct debug_exit){ .m = m, .name = name };
	ret = machine_claim(m, BUS_PIO, base, size, name, &debug_exit_ops, d);
	return ret < 0 ? ret : 0;
}

/* ---- vdev isa-debug-exit ---- */

static int isa_debug_exit_create(struct machine *m, const struct vdev_spec *vs)
{
	const char *iobase = vdev_opt_get(vs, "iobase"), *iosize = vdev_opt_get(vs, "iosize");
	uint64_t base = 0x501, size = 2;

	/* The parser checked both numbers; their sum against 0xffff is checked here. */
	if ((iobase && config_parse_u64(iobase, &base)) || (iosize && config_parse_u64(iosize, &size)))
		return report(-EINVAL, "isa-debug-exit: bad iobase or iosize");
	if (size > 0x10000 || base > 0xffff)
		return report(-EINVAL, "isa-debug-exit: ports %#llx+%llu go past 0xffff",
			      (unsigned long long)base, (unsigned long long)size);
	return debug_exit_create(m, "isa-debug-exit", base, size);
}

static const struct vdev_opt_desc isa_debug_exit_opts[] = {
	{ "iobase", VDEV_OPT_PIO, .span_opt = "iosize", .span = 2,
	  .help = "first port (default 0x501, as QEMU)" },
	{ "iosize", VDEV_OPT_NUMBER, .help = "ports decoded (default 2)" },
	{ .key = NULL }
};

const struct vdev_type isa_debug_exit_vdev = {
	.name = "isa-debug-exit",
	.help = "QEMU's isa-debug-exit: writing v stops the VM with status (v << 1) | 1",
	.opts = isa_debug_exit_opts,
	.create = isa_debug_exit_create,
};
