// SPDX-License-Identifier: GPL-2.0-only
/*
 * The devices of a VM: the platform every VM has, then the spec's `vdev`
 * lines. One function, so `qlite run` and `qlite check` cannot disagree on
 * what the guest gets.
 */
#include <errno.h>

#include "qlite/devices.h"
#include "qlite/event_loop.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/vdev.h"
#include "qlite/vm.h"

int vm_assemble_devices(struct machine *m, const struct vm_spec *spec, struct uart8250 **uart)
{
	int ret;

	m->split_irqchip = spec->split_irqchip;
	ret = platform_create(m, !spec->acpi_off, !spec->fw_cfg_off, uart);
	if (ret < 0)
		return ret;
	return vdev_create_all(m, spec);
}

int vm_assemble_offline(struct machine *m, const struct vm_spec *spec, struct uart8250 **uart)
{
	int ret = machine_init_offline(m);

	*uart = NULL;
	if (ret < 0)
		return ret;
	/* Devices may watch fds as they are built; nothing runs the loop. */
	m->loop = event_loop_create();
	if (!m->loop)
		return report_errno(-errno, "the I/O loop");
	return vm_assemble_devices(m, spec, uart);
}

void vm_teardown_offline(struct machine *m, struct uart8250 *uart)
{
	struct event_loop *loop = m->loop;

	platform_teardown_offline(m, uart);
	event_loop_destroy(loop);
}
