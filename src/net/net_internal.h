/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside src/net/: what backend.c (the common part) and the three kinds
 * (socket.c, tap.c, slirp.c) share. A NIC sees only include/qlite/net.h.
 */
#ifndef QLITE_NET_INTERNAL_H
#define QLITE_NET_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "qlite/net.h"

#define NET_RXQ_LEN	64	/* frames waiting for the NIC (slirp's output, held frames) */

struct net_frame {
	size_t len;
	uint8_t data[];
};

struct net_backend;

struct net_kind_ops {
	/*
	 * Check o and fill be->desc. Offline (be->offline) nothing may be
	 * opened; else open and start reading. 0 or -errno after one report().
	 */
	int (*open)(struct net_backend *be, const struct net_backend_opts *o);
	void (*close)(struct net_backend *be);
	/* One frame of len bytes, from any thread: 0, or -errno (the caller counts the drop). */
	int (*send)(struct net_backend *be, const struct iovec *iov, unsigned iovcnt, size_t len);
	/* I/O thread: read from the outside again (after a hold), or stop. NULL: never paused. */
	void (*set_reading)(struct net_backend *be, bool on);
	/* I/O thread, after net_wake(): whatever the kind asked a wake for. May be NULL. */
	void (*wake)(struct net_backend *be);
};

extern const struct net_kind_ops net_socket_ops, net_tap_ops, net_slirp_ops;

struct net_backend {
	struct machine *m;
	const struct net_kind_ops *kind;
	const struct net_client_ops *client;
	void *opaque;
	char owner[32];
	char desc[160];
	bool offline;		/* `qlite check`: options checked, nothing opened */
	bool vnet_hdr;
	int efd;		/* wakes the I/O thread: rx_ready, queued frames, kind's wake */
	atomic_bool held;	/* a frame was offered and refused; rx_ready must wake */
	bool reading;		/* I/O thread: the kind reads from the outside */

	pthread_mutex_t rxq_lock;	/* the queue; producers may be vCPU threads (slirp) */
	struct net_frame *rxq[NET_RXQ_LEN];
	unsigned rxq_head, rxq_count;

	struct net_backend_stats st;	/* updated with relaxed atomics */
	void *priv;		/* the kind's state */
};

#define STAT_ADD(be, field, n) __atomic_fetch_add(&(be)->st.field, (n), __ATOMIC_RELAXED)

/* queue.c: the eventfd and its watch (not offline); fini also frees what still waits. */
int net_queue_init(struct net_backend *be);
void net_queue_fini(struct net_backend *be);
/*
 * I/O thread: a frame read from the outside. Delivered at once when
 * nothing waits before it, else (or when refused) queued behind. Returns
 * whether the kind may go on reading (false: a frame is held).
 */
bool net_rx_input(struct net_backend *be, const void *buf, size_t len);
/*
 * Any thread: queue a frame for delivery on the I/O thread (slirp's
 * output). A full queue drops it (rx_dropped). 0 or -ENOBUFS.
 */
int net_rx_queue(struct net_backend *be, const void *buf, size_t len);
/* Any thread: run the kind's wake (and deliver the queue) on the I/O thread. */
void net_wake(struct net_backend *be);
/* The count of something lost on the way in that is no NIC's fault (a truncated datagram). */
void net_count_rx_drop(struct net_backend *be);

/* Copy len bytes of iov, from byte skip on, into dst. */
void net_iov_copy(void *dst, const struct iovec *iov, unsigned iovcnt, size_t skip, size_t len);

#endif
