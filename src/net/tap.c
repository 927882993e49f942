// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tap backend: a host tap interface through /dev/net/tun, IFF_TAP and
 * IFF_NO_PI, with IFF_VNET_HDR (a 12-byte virtio_net_hdr_v1 before each
 * frame, TUNSETVNETHDRSZ) when the NIC wants offloads. One read or write is
 * one frame. Read on the I/O thread; written from the NIC's thread. A full
 * tap queue (EAGAIN) loses the frame, counted, as a wire would.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "qlite/machine.h"
#include "qlite/util.h"
#include "net_internal.h"

#define TUN_PATH	"/dev/net/tun"
#define READ_BUDGET	32

struct net_tap {
	struct net_backend *be;
	int fd;
	bool watched;		/* I/O thread */
	size_t buf_len;
	uint8_t *buf;		/* one frame read, with its vnet header */
};

static bool on_readable(void *opaque, int fd, uint32_t revents)
{
	struct net_tap *t = opaque;

	for (unsigned i = 0; i < READ_BUDGET && t->be->reading; i++) {
		ssize_t n = read(fd, t->buf, t->buf_len);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			/* The interface went away (deleted): one line, then nothing more. */
			report(-errno, "%s: %s: read; the tap is not read from now on",
			       t->be->owner, t->be->desc);
			t->watched = false;
			return false;
		}
		if (n > 0)
			net_rx_input(t->be, t->buf, n);
	}
	t->watched = t->be->reading;
	return t->watched;
}

static void tap_set_reading(struct net_backend *be, bool on)
{
	struct net_tap *t = be->priv;

	if (on && !t->watched && machine_watch_fd(be->m, t->fd, POLLIN, on_readable, t) == 0)
		t->watched = true;
}

static int tap_send(struct net_backend *be, const struct iovec *iov, unsigned iovcnt, size_t len)
{
	struct net_tap *t = be->priv;
	ssize_t n = writev(t->fd, iov, iovcnt);

	if (n >= 0)
		return 0;
	return errno == EAGAIN ? -ENOBUFS : -errno;
}

static int tap_open_fd(struct net_backend *be, const struct net_backend_opts *o)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd, hdr = NET_VNET_HDR_LEN, ret;

	if (o->vnet_hdr)
		ifr.ifr_flags |= IFF_VNET_HDR;
	memcpy(ifr.ifr_name, o->ifname, strlen(o->ifname));
	fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return report_errno(-errno, "%s: tap %s: %s", be->owner, o->ifname, TUN_PATH);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = report_errno(-errno, "%s: tap %s: TUNSETIFF", be->owner, o->ifname);
		goto err;
	}
	if (o->vnet_hdr && ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		ret = report_errno(-errno, "%s: tap %s: TUNSETVNETHDRSZ", be->owner, o->ifname);
		goto err;
	}
	return fd;
err:
	close(fd);
	return ret;
}

static int tap_open(struct net_backend *be, const struct net_backend_opts *o)
{
	struct net_tap *t;
	int ret;

	if (!o->ifname || !*o->ifname)
		return report(-EINVAL, "%s: tap: ifname is required", be->owner);
	if (strlen(o->ifname) >= IFNAMSIZ)
		return report(-EINVAL, "%s: tap %s: an interface name has at most %d characters",
			      be->owner, o->ifname, IFNAMSIZ - 1);
	snprintf(be->desc, sizeof(be->desc), "tap %s%s", o->ifname,
		 o->vnet_hdr ? " vnet-hdr" : "");
	be->vnet_hdr = o->vnet_hdr;
	if (be->offline)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return report(-ENOMEM, "%s: tap", be->owner);
	t->be = be;
	t->buf_len = NET_MAX_FRAME + (o->vnet_hdr ? NET_VNET_HDR_LEN : 0);
	t->buf = malloc(t->buf_len);
	if (!t->buf) {
		free(t);
		return report(-ENOMEM, "%s: tap", be->owner);
	}
	t->fd = tap_open_fd(be, o);
	if (t->fd < 0) {
		ret = t->fd;
		goto err;
	}
	ret = machine_watch_fd(be->m, t->fd, POLLIN, on_readable, t);
	if (ret < 0) {
		report(ret, "%s: %s: cannot watch the tap", be->owner, be->desc);
		close(t->fd);
		goto err;
	}
	t->watched = true;
	be->priv = t;
	return 0;
err:
	free(t->buf);
	free(t);
	return ret;
}

static void tap_close(struct net_backend *be)
{
	struct net_tap *t = be->priv;

	if (!t)
		return;
	if (t->watched)
		machine_unwatch_fd(be->m, t->fd);
	close(t->fd);
	free(t->buf);
	free(t);
}

const struct net_kind_ops net_tap_ops = {
	.open = tap_open,
	.close = tap_close,
	.send = tap_send,
	.set_reading = tap_set_reading,
};
