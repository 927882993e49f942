/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The backend options of a NIC's vdev line, shared by e1000 and virtio-net
 * (src/devices/net_vdev.c):
 *   backend slirp|tap|socket   (default slirp)
 *   slirp:  net 10.0.2.0/24, hostfwd RULE[;RULE...]  (RULE: tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)
 *   tap:    ifname NAME, vnet-hdr on|off
 *   socket: connect PATH | listen PATH, dgram on|off
 *   mac 52:54:00:12:34:56      (default 52:54:00:12:34:56, the last byte + n for the n-th NIC)
 */
#ifndef QLITE_NET_VDEV_H
#define QLITE_NET_VDEV_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "vdev.h"

#define NET_BACKEND_VDEV_OPTS \
	{ "backend", VDEV_OPT_ENUM, .choices = "slirp|tap|socket", \
	  .help = "where frames go: slirp (user-mode, no root; default), a tap interface, " \
		  "or a unix socket" }, \
	{ "mac", VDEV_OPT_STRING, .check = net_vdev_mac_check, \
	  .help = "the MAC address, six hex bytes with colons (default 52:54:00:12:34:56, " \
		  "the last byte counting up for each further NIC)" }, \
	{ "net", VDEV_OPT_STRING, .check = net_slirp_net_check, \
	  .help = "slirp: the guest's IPv4 network, ADDR/PREFIX (default 10.0.2.0/24: " \
		  "gateway .2, DNS .3, DHCP from .15)" }, \
	{ "hostfwd", VDEV_OPT_STRING, .check = net_hostfwd_check, \
	  .help = "slirp: forwards from the host, tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, " \
		  "several separated by ';'" }, \
	{ "ifname", VDEV_OPT_STRING, .help = "tap: the interface (required with backend tap)" }, \
	{ "vnet-hdr", VDEV_OPT_BOOL, \
	  .help = "tap: IFF_VNET_HDR, so virtio-net offloads reach the host (default on " \
		  "for virtio-net, off for e1000)" }, \
	{ "connect", VDEV_OPT_STRING, .help = "socket: the unix socket to connect to" }, \
	{ "listen", VDEV_OPT_STRING, \
	  .help = "socket: the unix socket to listen on; qlite waits for one peer at start" }, \
	{ "dgram", VDEV_OPT_BOOL, \
	  .help = "socket: one frame per datagram (SOCK_DGRAM) instead of a stream of " \
		  "length-prefixed frames (default off)" }

/* A unicast MAC, six hex bytes with colons: 0, or -EINVAL with why (the option's check). */
int net_vdev_mac_check(const char *value, char *why, size_t len);

/*
 * Read the backend options of vs into o (strings point into vs) and the
 * MAC into mac: when absent, the default for the machine's n-th NIC, n
 * counting the calls made for m (struct machine's nr_nic_macs). 0, or
 * -EINVAL after one report() naming owner. o->vnet_hdr is what the line
 * says, off when absent: a NIC whose default is on (virtio-net) looks for
 * vdev_opt_get(vs, "vnet-hdr") == NULL itself.
 */
int net_vdev_opts(struct machine *m, const struct vdev_spec *vs, const char *owner,
		  struct net_backend_opts *o, uint8_t mac[6]);

#endif
