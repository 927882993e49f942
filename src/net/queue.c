// SPDX-License-Identifier: GPL-2.0-only
/*
 * The way in: the queue of frames waiting for the NIC, their delivery on
 * the I/O thread, hold and resume, and the eventfd that wakes the I/O
 * thread (net_backend_rx_ready, slirp's output, a kind's own wake). The
 * kinds call down into this file; backend.c calls down into them.
 *
 * A frame the NIC refuses stays at the head of the queue and the kind
 * stops reading (a socket or a tap keeps its frames in the kernel
 * meanwhile); net_backend_rx_ready(), from any thread, wakes the I/O thread
 * to offer it again.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "qlite/machine.h"
#include "qlite/util.h"
#include "net_internal.h"

void net_iov_copy(void *dst, const struct iovec *iov, unsigned iovcnt, size_t skip, size_t len)
{
	uint8_t *d = dst;

	for (unsigned i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len;

		if (skip >= n) {
			skip -= n;
			continue;
		}
		n -= skip;
		if (n > len)
			n = len;
		memcpy(d, (const uint8_t *)iov[i].iov_base + skip, n);
		d += n;
		len -= n;
		skip = 0;
	}
}

void net_count_rx_drop(struct net_backend *be)
{
	STAT_ADD(be, rx_dropped, 1);
}

void net_wake(struct net_backend *be)
{
	uint64_t one = 1;

	/* EAGAIN only when the counter is near overflow: a wake is pending anyway. */
	if (write(be->efd, &one, sizeof(one)) < 0)
		return;
}

/* Offer one frame to the NIC; I/O thread. */
static bool rx_offer(struct net_backend *be, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	/*
	 * Set before the offer: an rx_ready racing with a refusal then always
	 * sees it and wakes us (a spurious wake after an accepted frame is harmless).
	 */
	atomic_store(&be->held, true);
	if (!be->client->receive(be->opaque, &iov, 1, len))
		return false;
	atomic_store(&be->held, false);
	STAT_ADD(be, rx_frames, 1);
	STAT_ADD(be, rx_bytes, len);
	return true;
}

static struct net_frame *frame_new(const void *buf, size_t len)
{
	struct net_frame *f = malloc(sizeof(*f) + len);

	if (f) {
		f->len = len;
		memcpy(f->data, buf, len);
	}
	return f;
}

/* Append f; false (f not taken) when the queue is full. */
static bool rxq_push(struct net_backend *be, struct net_frame *f)
{
	bool ok;

	pthread_mutex_lock(&be->rxq_lock);
	ok = be->rxq_count < NET_RXQ_LEN;
	if (ok)
		be->rxq[(be->rxq_head + be->rxq_count++) % NET_RXQ_LEN] = f;
	pthread_mutex_unlock(&be->rxq_lock);
	return ok;
}

static unsigned rxq_count(struct net_backend *be)
{
	unsigned n;

	pthread_mutex_lock(&be->rxq_lock);
	n = be->rxq_count;
	pthread_mutex_unlock(&be->rxq_lock);
	return n;
}

/* Offer the queue in order until it is empty or the NIC refuses; true when emptied. */
static bool rxq_deliver(struct net_backend *be)
{
	for (;;) {
		struct net_frame *f;

		pthread_mutex_lock(&be->rxq_lock);
		f = be->rxq_count ? be->rxq[be->rxq_head] : NULL;
		pthread_mutex_unlock(&be->rxq_lock);
		if (!f)
			return true;
		/* Without the lock: the NIC may send (slirp queues its answer here). */
		if (!rx_offer(be, f->data, f->len))
			return false;
		pthread_mutex_lock(&be->rxq_lock);
		be->rxq_head = (be->rxq_head + 1) % NET_RXQ_LEN;
		be->rxq_count--;
		pthread_mutex_unlock(&be->rxq_lock);
		free(f);
	}
}

static void set_reading(struct net_backend *be, bool on)
{
	if (be->reading == on || !be->kind->set_reading)
		return;
	be->reading = on;
	be->kind->set_reading(be, on);
}

bool net_rx_input(struct net_backend *be, const void *buf, size_t len)
{
	struct net_frame *f;

	if (!rxq_count(be) && rx_offer(be, buf, len))
		return true;
	f = frame_new(buf, len);
	if (!f || !rxq_push(be, f)) {
		/* Cannot happen while kinds stop reading at a hold; counted if it does. */
		free(f);
		STAT_ADD(be, rx_dropped, 1);
	}
	set_reading(be, false);
	return false;
}

int net_rx_queue(struct net_backend *be, const void *buf, size_t len)
{
	struct net_frame *f = frame_new(buf, len);

	if (!f || !rxq_push(be, f)) {
		free(f);
		STAT_ADD(be, rx_dropped, 1);
		return -ENOBUFS;
	}
	net_wake(be);
	return 0;
}

static bool on_wake(void *opaque, int fd, uint32_t revents)
{
	struct net_backend *be = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return true;
	if (be->kind->wake)
		be->kind->wake(be);
	if (rxq_deliver(be))
		set_reading(be, true);
	return true;
}

void net_backend_rx_ready(struct net_backend *be)
{
	/* Only a refused frame needs the I/O thread: most calls cost one atomic. */
	if (atomic_exchange(&be->held, false))
		net_wake(be);
}

int net_queue_init(struct net_backend *be)
{
	int ret;

	be->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (be->efd < 0)
		return report_errno(-errno, "%s: eventfd", be->owner);
	ret = machine_watch_fd(be->m, be->efd, POLLIN, on_wake, be);
	if (ret < 0) {
		close(be->efd);
		be->efd = -1;
		return report(ret, "%s: cannot watch the backend's eventfd", be->owner);
	}
	return 0;
}

void net_queue_fini(struct net_backend *be)
{
	if (be->efd >= 0) {
		machine_unwatch_fd(be->m, be->efd);
		close(be->efd);
	}
	while (be->rxq_count) {
		free(be->rxq[be->rxq_head]);
		be->rxq_head = (be->rxq_head + 1) % NET_RXQ_LEN;
		be->rxq_count--;
	}
}
