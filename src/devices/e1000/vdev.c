// SPDX-License-Identifier: GPL-2.0-only
/*
 * `vdev e1000`: the backend options every NIC shares (net_vdev.h), the MAC,
 * and `coalesce on|off`; the device itself is e1000_attach() (e1000.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "qlite/config.h"
#include "qlite/devices.h"
#include "qlite/net_vdev.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

static int e1000_create(struct machine *m, const struct vdev_spec *vs)
{
	struct net_backend_opts o = { 0 };
	const char *v = vdev_opt_get(vs, "coalesce");
	bool coalesce = false;
	uint8_t mac[6];
	int ret;

	if (v && config_parse_bool(v, &coalesce))
		return report(-EINVAL, "e1000: coalesce \"%s\": on or off", v);
	ret = net_vdev_opts(m, vs, "e1000", &o, mac);
	if (ret < 0)
		return ret;
	return e1000_attach(m, &o, mac, coalesce);
}

static const struct vdev_opt_desc e1000_opts[] = {
	NET_BACKEND_VDEV_OPTS,
	{ "coalesce", VDEV_OPT_BOOL,
	  .help = "KVM coalesced MMIO for the registers the driver does not wait on, as QEMU "
		  "sets it up for e1000 (default off): their writes queue in a ring instead of "
		  "exiting" },
	{ .key = NULL }
};

const struct vdev_type e1000_vdev = {
	.name = "e1000",
	.help = "QEMU's e1000: an Intel 82540EM Gigabit Ethernet controller (PCI 8086:100e, "
		"BAR0 registers, BAR1 I/O window, INTx) with checksum offload and TSO; Linux "
		"drives it with e1000",
	.opts = e1000_opts,
	.create = e1000_create,
};
