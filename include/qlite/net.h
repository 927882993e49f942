/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Network backends (src/net/): where a NIC's frames go and come from.
 * Both NICs (e1000, virtio-net) use one backend each through this API and
 * know nothing of slirp, tap or sockets.
 *
 *   slirp    user-mode networking through libslirp: DHCP, DNS, outbound
 *            TCP/UDP, host forwards; no privileges needed (the default)
 *   tap      a host tap interface, with IFF_VNET_HDR when the NIC wants offloads
 *   socket   frames over a unix socket (listen or connect), stream (each
 *            frame after a 4-byte big-endian length, as QEMU's
 *            -netdev stream) or datagram (one frame a datagram, as -netdev dgram)
 *
 * Threads. A NIC sends from whichever thread it runs on (a vCPU thread for
 * a register write, the I/O thread for a kick). Frames from the outside are
 * delivered on the I/O thread only, never from inside net_backend_send(),
 * so a NIC may hold its own lock while sending. A frame the NIC cannot take
 * yet stays with the backend, which stops reading until net_backend_rx_ready().
 * Frames are never lost silently: every drop is counted (net_backend_stats).
 */
#ifndef QLITE_NET_H
#define QLITE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct machine;
struct net_backend;

#define NET_MAX_FRAME		65536	/* the largest frame any backend carries (TSO-sized) */
#define NET_VNET_HDR_LEN	12	/* struct virtio_net_hdr_v1, in front of each frame */

enum net_backend_kind { NET_BACKEND_SLIRP, NET_BACKEND_TAP, NET_BACKEND_SOCKET };

struct net_backend_opts {
	enum net_backend_kind kind;
	const char *owner;		/* the NIC's name, for messages: "e1000" */
	/* slirp */
	const char *net;		/* "10.0.2.0/24" (default): the guest's network */
	const char *hostfwd;		/* "tcp:127.0.0.1:2222-:22;udp::5353-:53", or NULL */
	/* tap */
	const char *ifname;
	bool vnet_hdr;			/* frames carry NET_VNET_HDR_LEN bytes of virtio_net_hdr_v1 */
	/* socket */
	const char *path;
	bool listen;			/* listen on path (else connect to it) */
	int fd;				/* > 0: an open, connected socket to use instead of path
					 * (tests pass one end of a socketpair) */
	bool dgram;			/* SOCK_DGRAM (else SOCK_STREAM, length-prefixed) */
};

/* The NIC's side. */
struct net_client_ops {
	/*
	 * One frame from the outside (with its vnet header when the backend
	 * has them), on the I/O thread. true: taken (delivered, or dropped
	 * and counted by the NIC's own filter); false: no room now, offer it
	 * again after net_backend_rx_ready().
	 */
	bool (*receive)(void *opaque, const struct iovec *iov, unsigned iovcnt, size_t len);
};

struct net_backend_stats {
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_dropped;		/* the backend could not take them (full, no peer) */
	uint64_t rx_frames, rx_bytes;	/* delivered to the NIC */
	uint64_t rx_dropped;		/* lost while the NIC had no buffers (queue full) */
};

/*
 * Open a backend for a NIC. Without a loop (m->loop NULL: `qlite check`)
 * only the options are checked: *out then describes itself but opened
 * nothing, and drops (counts) what is sent. 0, or -errno after
 * one report() that names the owner and what failed ("e1000: tap qtap0:
 * /dev/net/tun: No such file or directory").
 */
int net_backend_open(struct machine *m, const struct net_backend_opts *o,
		     const struct net_client_ops *ops, void *opaque, struct net_backend **out);
void net_backend_close(struct net_backend *be);
/*
 * One frame to the outside, from any thread; iov starts with the vnet
 * header when the backend has them. 0, or -errno when it was dropped (and counted).
 */
int net_backend_send(struct net_backend *be, const struct iovec *iov, unsigned iovcnt);
/* The NIC has buffers again: offer the held frame and resume reading. Any thread. */
void net_backend_rx_ready(struct net_backend *be);
/* Frames carry a virtio_net_hdr_v1 (tap with vnet-hdr on). */
bool net_backend_has_vnet_hdr(const struct net_backend *be);
/* "slirp 10.0.2.0/24", "tap qtap0 vnet-hdr", "socket /tmp/n.sock connect stream". */
const char *net_backend_describe(const struct net_backend *be);
void net_backend_get_stats(const struct net_backend *be, struct net_backend_stats *out);

/*
 * The syntax of slirp's options, for the config parser (the check of a vdev
 * option, so a bad value is a configuration error, exit status 2): 0, or
 * -EINVAL with why filled ("\"tcp:2222\": no '-' between the host and the guest side").
 */
int net_hostfwd_check(const char *rules, char *why, size_t len);
int net_slirp_net_check(const char *net, char *why, size_t len);

#endif
