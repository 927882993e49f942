// SPDX-License-Identifier: GPL-2.0-only
/*
 * The network backends' API (include/qlite/net.h): open and close by kind,
 * sending, the counters, the description. The kinds (socket.c, tap.c,
 * slirp.c) move bytes; queue.c holds what waits for the NIC. Delivery to
 * the NIC runs on the I/O thread only, never inside net_backend_send().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qlite/machine.h"
#include "qlite/util.h"
#include "net_internal.h"

static const struct net_kind_ops *kind_ops(enum net_backend_kind kind)
{
	switch (kind) {
	case NET_BACKEND_SLIRP:
		return NULL;	/* slirp.c comes next */
	case NET_BACKEND_TAP:
		return &net_tap_ops;
	case NET_BACKEND_SOCKET:
		return &net_socket_ops;
	}
	return NULL;
}

int net_backend_open(struct machine *m, const struct net_backend_opts *o,
		     const struct net_client_ops *ops, void *opaque, struct net_backend **out)
{
	const struct net_kind_ops *kind = kind_ops(o->kind);
	const char *owner = o->owner ? o->owner : "net";
	struct net_backend *be;
	int ret;

	*out = NULL;
	if (o->kind == NET_BACKEND_SLIRP)	/* until src/net/slirp.c lands (next commit) */
		return report(-ENOTSUP, "%s: backend slirp: not available yet", owner);
	if (!kind)
		return report(-EINVAL, "%s: unknown network backend %d", owner, (int)o->kind);
	be = calloc(1, sizeof(*be));
	if (!be)
		return report(-ENOMEM, "%s: network backend", owner);
	*be = (struct net_backend){
		.m = m, .kind = kind, .client = ops, .opaque = opaque,
		/* m->offline: `qlite check` builds devices with a loop that never runs. */
		.offline = !m->loop || m->offline, .efd = -1,
	};
	snprintf(be->owner, sizeof(be->owner), "%s", owner);
	pthread_mutex_init(&be->rxq_lock, NULL);
	if (!be->offline && (ret = net_queue_init(be)) < 0)
		goto err;
	ret = kind->open(be, o);
	if (ret < 0)
		goto err;
	/* The kind reads from its open on (a reader waits for nothing but the loop). */
	be->reading = !be->offline;
	*out = be;
	return 0;
err:
	net_queue_fini(be);
	pthread_mutex_destroy(&be->rxq_lock);
	free(be);
	return ret;
}

void net_backend_close(struct net_backend *be)
{
	if (!be)
		return;
	be->kind->close(be);
	net_queue_fini(be);
	pthread_mutex_destroy(&be->rxq_lock);
	free(be);
}

int net_backend_send(struct net_backend *be, const struct iovec *iov, unsigned iovcnt)
{
	size_t len = 0, max = NET_MAX_FRAME + (be->vnet_hdr ? NET_VNET_HDR_LEN : 0);
	int ret;

	for (unsigned i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (be->offline)
		ret = -ENOTCONN;
	else if (!len || len > max)
		ret = -EMSGSIZE;
	else
		ret = be->kind->send(be, iov, iovcnt, len);
	if (ret < 0) {
		STAT_ADD(be, tx_dropped, 1);
		return ret;
	}
	STAT_ADD(be, tx_frames, 1);
	STAT_ADD(be, tx_bytes, len);
	return 0;
}

bool net_backend_has_vnet_hdr(const struct net_backend *be)
{
	return be->vnet_hdr;
}

const char *net_backend_describe(const struct net_backend *be)
{
	return be->desc;
}

void net_backend_get_stats(const struct net_backend *be, struct net_backend_stats *out)
{
	const struct net_backend_stats *s = &be->st;

	*out = (struct net_backend_stats){
		.tx_frames = __atomic_load_n(&s->tx_frames, __ATOMIC_RELAXED),
		.tx_bytes = __atomic_load_n(&s->tx_bytes, __ATOMIC_RELAXED),
		.tx_dropped = __atomic_load_n(&s->tx_dropped, __ATOMIC_RELAXED),
		.rx_frames = __atomic_load_n(&s->rx_frames, __ATOMIC_RELAXED),
		.rx_bytes = __atomic_load_n(&s->rx_bytes, __ATOMIC_RELAXED),
		.rx_dropped = __atomic_load_n(&s->rx_dropped, __ATOMIC_RELAXED),
	};
}
