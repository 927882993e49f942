// SPDX-License-Identifier: GPL-2.0-only
/*
 * The backend options of a NIC's vdev line (include/qlite/net_vdev.h),
 * shared by e1000 and virtio-net: read, checked together, turned into
 * struct net_backend_opts and a MAC. The NIC opens the backend with them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "qlite/config.h"
#include "qlite/machine.h"
#include "qlite/net_vdev.h"
#include "qlite/util.h"

/* QEMU's first default MAC; the n-th NIC of a machine gets the last byte + n. */
static const uint8_t default_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_mac(const char *s, uint8_t mac[6], char *why, size_t len)
{
	static const uint8_t zero[6];

	for (unsigned i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi, lo;

		if (strnlen(s, 3 * i + 2) < 3 * i + 2 || (hi = hex_digit(p[0])) < 0 ||
		    (lo = hex_digit(p[1])) < 0 || p[2] != (i == 5 ? '\0' : ':')) {
			snprintf(why, len, "\"%s\" is not six hex bytes with colons "
				 "(52:54:00:12:34:56)", s);
			return -EINVAL;
		}
		mac[i] = hi << 4 | lo;
	}
	if (mac[0] & 1) {
		snprintf(why, len, "\"%s\" is a multicast address (the first byte is odd)", s);
		return -EINVAL;
	}
	if (!memcmp(mac, zero, 6)) {
		snprintf(why, len, "\"%s\" is no station's address", s);
		return -EINVAL;
	}
	return 0;
}

int net_vdev_mac_check(const char *value, char *why, size_t len)
{
	uint8_t mac[6];

	return parse_mac(value, mac, why, len);
}

static int opt_bool(const struct vdev_spec *vs, const char *owner, const char *key, bool *v)
{
	const char *s = vdev_opt_get(vs, key);

	*v = false;
	if (s && config_parse_bool(s, v))
		return report(-EINVAL, "%s: %s: \"%s\" is not on or off", owner, key, s);
	return 0;
}

/* Options that belong to one backend only, and the backend they belong to. */
static const struct {
	const char *key;
	enum net_backend_kind kind;
	const char *kind_name;
} owned_opts[] = {
	{ "net", NET_BACKEND_SLIRP, "slirp" },
	{ "hostfwd", NET_BACKEND_SLIRP, "slirp" },
	{ "ifname", NET_BACKEND_TAP, "tap" },
	{ "vnet-hdr", NET_BACKEND_TAP, "tap" },
	{ "connect", NET_BACKEND_SOCKET, "socket" },
	{ "listen", NET_BACKEND_SOCKET, "socket" },
	{ "dgram", NET_BACKEND_SOCKET, "socket" },
};

int net_vdev_opts(struct machine *m, const struct vdev_spec *vs, const char *owner,
		  struct net_backend_opts *o, uint8_t mac[6])
{
	const char *backend = vdev_opt_get(vs, "backend"), *mac_text = vdev_opt_get(vs, "mac");
	const char *connect = vdev_opt_get(vs, "connect"), *listen = vdev_opt_get(vs, "listen");
	unsigned n = m->nr_nic_macs++;
	char why[256];
	int ret;

	*o = (struct net_backend_opts){ .kind = NET_BACKEND_SLIRP, .owner = owner };
	if (!backend || !strcmp(backend, "slirp"))
		o->kind = NET_BACKEND_SLIRP;
	else if (!strcmp(backend, "tap"))
		o->kind = NET_BACKEND_TAP;
	else if (!strcmp(backend, "socket"))
		o->kind = NET_BACKEND_SOCKET;
	else
		return report(-EINVAL, "%s: backend \"%s\" is not one of slirp|tap|socket",
			      owner, backend);
	for (unsigned i = 0; i < sizeof(owned_opts) / sizeof(owned_opts[0]); i++)
		if (owned_opts[i].kind != o->kind && vdev_opt_get(vs, owned_opts[i].key))
			return report(-EINVAL, "%s: %s is an option of backend %s, not %s", owner,
				      owned_opts[i].key, owned_opts[i].kind_name,
				      backend ? backend : "slirp (the default)");

	if (mac_text) {
		if (parse_mac(mac_text, mac, why, sizeof(why)))
			return report(-EINVAL, "%s: mac %s", owner, why);
	} else {
		memcpy(mac, default_mac, 6);
		mac[5] += n;
	}

	switch (o->kind) {
	case NET_BACKEND_SLIRP:
		o->net = vdev_opt_get(vs, "net");
		o->hostfwd = vdev_opt_get(vs, "hostfwd");
		if (o->net && net_slirp_net_check(o->net, why, sizeof(why)))
			return report(-EINVAL, "%s: net %s", owner, why);
		if (o->hostfwd && net_hostfwd_check(o->hostfwd, why, sizeof(why)))
			return report(-EINVAL, "%s: hostfwd %s", owner, why);
		break;
	case NET_BACKEND_TAP:
		o->ifname = vdev_opt_get(vs, "ifname");
		if (!o->ifname || !*o->ifname)
			return report(-EINVAL, "%s: backend tap needs ifname NAME", owner);
		ret = opt_bool(vs, owner, "vnet-hdr", &o->vnet_hdr);
		if (ret)
			return ret;
		break;
	case NET_BACKEND_SOCKET:
		if (!connect == !listen)
			return report(-EINVAL, connect ? "%s: connect and listen exclude each other"
					       : "%s: backend socket needs connect PATH or listen PATH",
				      owner);
		o->path = connect ? connect : listen;
		o->listen = listen != NULL;
		ret = opt_bool(vs, owner, "dgram", &o->dgram);
		if (ret)
			return ret;
		break;
	}
	return 0;
}
