// SPDX-License-Identifier: GPL-2.0-only
/*
 * The socket backend: frames over a unix socket, in QEMU 7.2's formats so a
 * test harness talks to qlite and QEMU alike.
 *   stream   each frame after its length, 4 bytes big-endian (-netdev stream)
 *   dgram    one frame a datagram (-netdev dgram)
 *
 * connect PATH connects at start-up. listen PATH (stream) binds, waits at
 * start-up for one peer (one report line says so), accepts it and removes
 * PATH: nobody else can join. listen PATH with dgram binds PATH and takes as
 * its peer whoever sends the first datagram; until then sends are dropped
 * and counted. opts.fd > 0 is a connected socket to use as is.
 *
 * A stream write the kernel takes only in part keeps the rest in a bounded
 * buffer, flushed from the I/O thread when the socket is writable; a frame
 * that does not fit is dropped and counted. A stream read keeps a partial
 * frame until the rest arrives. When the peer hangs up: one report line,
 * then frames are dropped and counted and qlite runs on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "qlite/machine.h"
#include "qlite/util.h"
#include "net_internal.h"

#define HDR_LEN		4
#define RXBUF_LEN	(2 * (HDR_LEN + NET_MAX_FRAME))
#define TXBUF_LEN	(1u << 20)	/* pending stream bytes before frames are dropped */
#define READ_BUDGET	32		/* reads per callback, so a flood cannot starve the loop */
#define TX_IOV_MAX	63		/* segments sent as they are; more are copied into one */

struct net_socket {
	struct net_backend *be;
	int fd;
	int txfd;		/* a dup of fd for the POLLOUT watch, apart from the reader's */
	bool dgram;
	bool dgram_wait_peer;	/* dgram listen: no peer until the first datagram */
	bool rx_watched;	/* I/O thread */
	bool tx_watched;	/* I/O thread */
	atomic_bool dead;	/* the peer hung up: drop everything */
	atomic_bool tx_want;	/* a sender left bytes pending: watch POLLOUT */

	pthread_mutex_t tx_lock;	/* senders are vCPU threads and the I/O thread */
	uint8_t *txbuf;
	size_t tx_off, tx_len;		/* pending bytes: txbuf[tx_off, tx_off + tx_len) */

	uint8_t *rxbuf;			/* stream: bytes read, not yet delivered */
	size_t rx_off, rx_len;
	uint8_t *dgbuf;			/* dgram: one datagram */
};

static void hang_up(struct net_socket *s, const char *why, int err)
{
	struct net_backend *be = s->be;

	if (atomic_exchange(&s->dead, true))
		return;
	report(err, "%s: %s: %s; frames are dropped from now on", be->owner, be->desc, why);
}

/* ---- receiving (I/O thread) ---- */

/* Deliver the whole frames in rxbuf; false when one was held (stop reading). */
static bool stream_parse(struct net_socket *s)
{
	while (s->rx_len >= HDR_LEN) {
		const uint8_t *p = s->rxbuf + s->rx_off;
		uint32_t flen = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | p[2] << 8 | p[3];
		bool more;

		if (flen > NET_MAX_FRAME) {
			hang_up(s, "a frame longer than 65536 bytes: the stream is out of step", 0);
			return false;
		}
		if (s->rx_len < HDR_LEN + flen)
			break;
		s->rx_off += HDR_LEN + flen;
		s->rx_len -= HDR_LEN + flen;
		/* An empty frame carries nothing for a NIC: skipped, as QEMU does. */
		more = !flen || net_rx_input(s->be, p + HDR_LEN, flen);
		if (!more)
			return false;
	}
	return true;
}

/* One read; 1: go on, 0: no more now (EAGAIN or a hold), -1: the peer is gone. */
static int stream_read(struct net_socket *s)
{
	ssize_t n;

	if (s->rx_off) {
		memmove(s->rxbuf, s->rxbuf + s->rx_off, s->rx_len);
		s->rx_off = 0;
	}
	n = recv(s->fd, s->rxbuf + s->rx_len, RXBUF_LEN - s->rx_len, MSG_DONTWAIT);
	if (n == 0) {
		hang_up(s, "the peer hung up", 0);
		return -1;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		hang_up(s, "read", -errno);
		return -1;
	}
	s->rx_len += n;
	return stream_parse(s) ? 1 : 0;
}

static int dgram_read(struct net_socket *s)
{
	struct sockaddr_un peer;
	socklen_t plen = sizeof(peer);
	ssize_t n;

	n = recvfrom(s->fd, s->dgbuf, NET_MAX_FRAME, MSG_DONTWAIT | MSG_TRUNC,
		     (struct sockaddr *)&peer, &plen);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		hang_up(s, "read", -errno);
		return -1;
	}
	if (s->dgram_wait_peer && plen > sizeof(sa_family_t)) {
		/* The first sender is the peer (listen); replies go to its address. */
		if (connect(s->fd, (struct sockaddr *)&peer, plen) == 0)
			s->dgram_wait_peer = false;
	}
	if (n > NET_MAX_FRAME) {
		net_count_rx_drop(s->be);
		return 1;
	}
	if (!n)
		return 1;
	return net_rx_input(s->be, s->dgbuf, n) ? 1 : 0;
}

static bool on_readable(void *opaque, int fd, uint32_t revents)
{
	struct net_socket *s = opaque;

	for (unsigned i = 0; i < READ_BUDGET && s->be->reading; i++) {
		int r = s->dgram ? dgram_read(s) : stream_read(s);

		if (r < 0)
			break;
		if (r == 0)
			return s->be->reading;
	}
	if (atomic_load(&s->dead) || !s->be->reading) {
		s->rx_watched = false;
		return false;
	}
	return true;
}

static void socket_set_reading(struct net_backend *be, bool on)
{
	struct net_socket *s = be->priv;

	if (!on || atomic_load(&s->dead))
		return;		/* on_readable sees be->reading and stops its watch */
	/* Frames read before the hold come first. */
	if (!s->dgram && !stream_parse(s))
		return;
	if (!s->rx_watched && be->reading &&
	    machine_watch_fd(be->m, s->fd, POLLIN, on_readable, s) == 0)
		s->rx_watched = true;
}

/* ---- sending (any thread) ---- */

/* Under tx_lock: write what is pending; 0, or -errno when the peer is gone. */
static int tx_flush_locked(struct net_socket *s)
{
	while (s->tx_len) {
		ssize_t n = send(s->fd, s->txbuf + s->tx_off, s->tx_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		s->tx_off += n;
		s->tx_len -= n;
	}
	s->tx_off = 0;
	return 0;
}

static bool on_writable(void *opaque, int fd, uint32_t revents)
{
	struct net_socket *s = opaque;
	bool again;
	int ret;

	pthread_mutex_lock(&s->tx_lock);
	ret = tx_flush_locked(s);
	again = !ret && s->tx_len;
	if (!again)
		s->tx_watched = false;
	pthread_mutex_unlock(&s->tx_lock);
	if (ret == -EPIPE || ret == -ECONNRESET)
		hang_up(s, "the peer hung up", 0);
	else if (ret < 0)
		hang_up(s, "write", ret);
	return again;
}

static void socket_wake(struct net_backend *be)
{
	struct net_socket *s = be->priv;

	if (!atomic_exchange(&s->tx_want, false))
		return;
	pthread_mutex_lock(&s->tx_lock);
	if (s->tx_len && !s->tx_watched &&
	    machine_watch_fd(be->m, s->txfd, POLLOUT, on_writable, s) == 0)
		s->tx_watched = true;
	pthread_mutex_unlock(&s->tx_lock);
}

static int stream_send(struct net_socket *s, const struct iovec *iov, unsigned iovcnt,
		       size_t len)
{
	uint8_t hdr[HDR_LEN] = { len >> 24, len >> 16, len >> 8, len };
	struct iovec v[1 + TX_IOV_MAX];
	size_t total = HDR_LEN + len, sent = 0;
	uint8_t *linear = NULL;
	int ret = 0;

	v[0] = (struct iovec){ hdr, HDR_LEN };
	if (iovcnt > TX_IOV_MAX) {
		/* A long chain (virtio) is copied once rather than cut into several writes. */
		linear = malloc(len);
		if (!linear)
			return -ENOMEM;
		net_iov_copy(linear, iov, iovcnt, 0, len);
		v[1] = (struct iovec){ linear, len };
		iovcnt = 1;
	} else {
		memcpy(v + 1, iov, iovcnt * sizeof(*iov));
	}
	pthread_mutex_lock(&s->tx_lock);
	if (!s->tx_len) {
		struct msghdr msg = { .msg_iov = v, .msg_iovlen = 1 + iovcnt };
		ssize_t n = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			ret = -errno;
			goto out;
		}
		sent = n < 0 ? 0 : n;
		if (sent == total)
			goto out;
	} else if (s->tx_off + s->tx_len + total > TXBUF_LEN) {
		if (s->tx_len + total > TXBUF_LEN) {
			ret = -ENOBUFS;
			goto out;
		}
		memmove(s->txbuf, s->txbuf + s->tx_off, s->tx_len);
		s->tx_off = 0;
	}
	/* The rest of the frame waits for POLLOUT; the I/O thread adds the watch. */
	net_iov_copy(s->txbuf + s->tx_off + s->tx_len, v, 1 + iovcnt, sent, total - sent);
	s->tx_len += total - sent;
	atomic_store(&s->tx_want, true);
	net_wake(s->be);
out:
	pthread_mutex_unlock(&s->tx_lock);
	free(linear);
	if (ret == -EPIPE || ret == -ECONNRESET)
		hang_up(s, "the peer hung up", 0);
	else if (ret < 0 && ret != -ENOBUFS)
		hang_up(s, "write", ret);
	return ret < 0 && ret != -ENOBUFS ? -EPIPE : ret;
}

static int dgram_send(struct net_socket *s, const struct iovec *iov, unsigned iovcnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt };

	if (s->dgram_wait_peer)
		return -ENOTCONN;
	if (sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return 0;
	/* A full receiver loses the datagram, as a wire would. */
	if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
		return -ENOBUFS;
	if (errno == ECONNREFUSED || errno == ECONNRESET || errno == EPIPE ||
	    errno == ENOTCONN)
		hang_up(s, "the peer is gone", 0);
	else
		hang_up(s, "write", -errno);
	return -EPIPE;
}

static int socket_send(struct net_backend *be, const struct iovec *iov, unsigned iovcnt,
		       size_t len)
{
	struct net_socket *s = be->priv;

	if (atomic_load(&s->dead))
		return -EPIPE;
	return s->dgram ? dgram_send(s, iov, iovcnt) : stream_send(s, iov, iovcnt, len);
}

/* ---- open, close ---- */

static int unix_addr(struct net_backend *be, const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (!*path)
		return report(-EINVAL, "%s: socket: the path is empty", be->owner);
	if (strlen(path) >= sizeof(sa->sun_path))
		return report(-ENAMETOOLONG, "%s: socket %s", be->owner, path);
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* A stale socket left by an earlier run is replaced; any other file is not. */
static int remove_stale(struct net_backend *be, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : report_errno(-errno, "%s: socket %s", be->owner, path);
	if (!S_ISSOCK(st.st_mode))
		return report(-EEXIST, "%s: socket %s: exists and is no socket", be->owner, path);
	if (unlink(path) < 0)
		return report_errno(-errno, "%s: socket %s", be->owner, path);
	return 0;
}

static int socket_connect_path(struct net_backend *be, const struct net_backend_opts *o)
{
	int type = (o->dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC;
	struct sockaddr_un sa;
	sa_family_t fam = AF_UNIX;
	int fd, ret;

	ret = unix_addr(be, o->path, &sa);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, type, 0);
	if (fd < 0)
		return report_errno(-errno, "%s: socket", be->owner);
	/* dgram: an autobound (abstract) address of our own, for the peer's replies. */
	if (o->dgram && bind(fd, (struct sockaddr *)&fam, sizeof(fam)) < 0) {
		ret = report_errno(-errno, "%s: socket %s: bind", be->owner, o->path);
		goto err;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = report_errno(-errno, "%s: socket %s: connect", be->owner, o->path);
		goto err;
	}
	return fd;
err:
	close(fd);
	return ret;
}

static int socket_listen_path(struct net_backend *be, const struct net_backend_opts *o,
			      bool *wait_peer)
{
	int type = (o->dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC;
	struct sockaddr_un sa;
	int fd, peer, ret;

	ret = unix_addr(be, o->path, &sa);
	if (ret < 0)
		return ret;
	ret = remove_stale(be, o->path);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, type, 0);
	if (fd < 0)
		return report_errno(-errno, "%s: socket", be->owner);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = report_errno(-errno, "%s: socket %s: bind", be->owner, o->path);
		goto err;
	}
	if (o->dgram) {
		*wait_peer = true;
		return fd;
	}
	if (listen(fd, 1) < 0) {
		ret = report_errno(-errno, "%s: socket %s: listen", be->owner, o->path);
		goto err_unlink;
	}
	report(0, "%s: socket %s: waiting for a peer to connect", be->owner, o->path);
	do
		peer = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	while (peer < 0 && errno == EINTR);
	if (peer < 0) {
		ret = report_errno(-errno, "%s: socket %s: accept", be->owner, o->path);
		goto err_unlink;
	}
	/* One peer only: the name goes with the listening socket. */
	unlink(o->path);
	close(fd);
	return peer;
err_unlink:
	unlink(o->path);
err:
	close(fd);
	return ret;
}

static void socket_free(struct net_socket *s)
{
	pthread_mutex_destroy(&s->tx_lock);
	free(s->txbuf);
	free(s->rxbuf);
	free(s->dgbuf);
	free(s);
}

static int socket_open(struct net_backend *be, const struct net_backend_opts *o)
{
	const char *framing = o->dgram ? "dgram" : "stream";
	struct sockaddr_un sa;
	struct net_socket *s;
	int fd, ret;

	if (o->fd > 0)
		snprintf(be->desc, sizeof(be->desc), "socket fd %d %s", o->fd, framing);
	else if (o->path)
		snprintf(be->desc, sizeof(be->desc), "socket %s %s %s", o->path,
			 o->listen ? "listen" : "connect", framing);
	else
		return report(-EINVAL, "%s: socket: connect PATH or listen PATH is required",
			      be->owner);
	if (o->fd <= 0 && (ret = unix_addr(be, o->path, &sa)) < 0)
		return ret;
	if (be->offline)
		return 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return report(-ENOMEM, "%s: socket", be->owner);
	*s = (struct net_socket){ .be = be, .fd = -1, .txfd = -1, .dgram = o->dgram };
	pthread_mutex_init(&s->tx_lock, NULL);
	if (o->dgram)
		s->dgbuf = malloc(NET_MAX_FRAME);
	else
		s->rxbuf = malloc(RXBUF_LEN);
	s->txbuf = o->dgram ? NULL : malloc(TXBUF_LEN);
	if (o->dgram ? !s->dgbuf : !s->rxbuf || !s->txbuf) {
		socket_free(s);
		return report(-ENOMEM, "%s: socket buffers", be->owner);
	}
	if (o->fd > 0)
		fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 3);
	else if (o->listen)
		fd = socket_listen_path(be, o, &s->dgram_wait_peer);
	else
		fd = socket_connect_path(be, o);
	if (fd < 0) {
		ret = o->fd > 0 ? report_errno(-errno, "%s: socket fd %d", be->owner, o->fd) : fd;
		socket_free(s);
		return ret;
	}
	s->fd = fd;
	s->txfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	ret = s->txfd < 0 ? -errno : 0;
	if (!ret)
		ret = machine_watch_fd(be->m, fd, POLLIN, on_readable, s);
	if (ret < 0) {
		report(ret, "%s: %s: cannot watch the socket", be->owner, be->desc);
		if (s->txfd >= 0)
			close(s->txfd);
		close(fd);
		socket_free(s);
		return ret;
	}
	s->rx_watched = true;
	be->priv = s;
	return 0;
}

static void socket_close(struct net_backend *be)
{
	struct net_socket *s = be->priv;

	if (!s)
		return;
	if (s->rx_watched)
		machine_unwatch_fd(be->m, s->fd);
	if (s->tx_watched)
		machine_unwatch_fd(be->m, s->txfd);
	close(s->txfd);
	close(s->fd);
	socket_free(s);
}

const struct net_kind_ops net_socket_ops = {
	.open = socket_open,
	.close = socket_close,
	.send = socket_send,
	.set_reading = socket_set_reading,
	.wake = socket_wake,
};
