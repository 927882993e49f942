// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loop on io_uring, the fast path. Each watch is a one-shot poll that is
 * re-armed after its callback, which works on every io_uring kernel (no
 * multishot needed) and keeps a callback from racing with itself.
 *
 * A completion's user data is a pointer with its kind in the low bit (a
 * watch, or an aio_req). A removed watch is freed only when its poll has
 * completed, so a late completion never reaches a stranger.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stddef.h>
#include <stdlib.h>

#include "event_loop_internal.h"

#define URING_ENTRIES	256
#define TAG_AIO		1ul

struct uring_loop {
	struct event_loop loop;
	struct io_uring ring;
};

static struct uring_loop *to_uring(struct event_loop *loop)
{
	return (struct uring_loop *)((char *)loop - offsetof(struct uring_loop, loop));
}

static struct io_uring *ring_of(struct event_loop *loop)
{
	return &to_uring(loop)->ring;
}

/* A filter may allow io_uring_setup but deny io_uring_enter: try one round trip. */
static int uring_probe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data(sqe, NULL);
	ret = io_uring_submit_and_wait(ring, 1);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret < 0)
		return ret;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

static int uring_create(struct event_loop **out)
{
	struct uring_loop *ul = calloc(1, sizeof(*ul));
	int ret;

	if (!ul)
		return -ENOMEM;
	ret = io_uring_queue_init(URING_ENTRIES, &ul->ring, 0);
	if (ret < 0)
		goto err_free;
	ret = uring_probe(&ul->ring);
	if (ret < 0)
		goto err_exit;
	ul->loop.ops = &loop_uring_ops;
	*out = &ul->loop;
	return 0;

err_exit:
	io_uring_queue_exit(&ul->ring);
err_free:
	free(ul);
	return ret;
}

static void uring_destroy(struct event_loop *loop)
{
	io_uring_queue_exit(ring_of(loop));
	watches_free(loop);
	free(to_uring(loop));
}

/* An SQE, submitting what is queued when the ring is full. */
static struct io_uring_sqe *loop_sqe(struct event_loop *loop)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring_of(loop));

	if (!sqe) {
		io_uring_submit(ring_of(loop));
		sqe = io_uring_get_sqe(ring_of(loop));
	}
	return sqe;
}

static int uring_watch_add(struct event_loop *loop, struct watch *w)
{
	struct io_uring_sqe *sqe = loop_sqe(loop);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, w->fd, w->events);
	io_uring_sqe_set_data(sqe, w);
	w->armed = true;
	return 0;
}

static void uring_watch_remove(struct event_loop *loop, struct watch *w)
{
	struct io_uring_sqe *sqe;

	if (!w->armed)		/* inside its own callback: freed after it */
		return;
	sqe = loop_sqe(loop);
	if (sqe) {
		io_uring_prep_poll_remove(sqe, (__u64)(uintptr_t)w);
		io_uring_sqe_set_data(sqe, NULL);
	}
}

/* A watch's poll completed; 1 when its callback ran, else 0. */
static int watch_complete(struct event_loop *loop, struct watch *w, int res)
{
	bool again;

	w->armed = false;
	if (w->removed || res < 0) {
		/* Removed, or the fd is gone or cannot be polled: drop the watch. */
		watch_unlink(loop, w);
		return 0;
	}
	again = w->fn(w->opaque, w->fd, res);
	if (!again || w->removed) {
		watch_unlink(loop, w);
		return 1;
	}
	/* Stopping, or no SQE: the watch stays, unarmed, until the loop goes. */
	if (!loop->stop)
		uring_watch_add(loop, w);
	return 1;
}

static int loop_reap(struct event_loop *loop)
{
	struct io_uring *ring = ring_of(loop);
	struct io_uring_cqe *cqe;
	int n = 0;

	while (io_uring_peek_cqe(ring, &cqe) == 0) {
		uintptr_t data = (uintptr_t)io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(ring, cqe);
		if (!data)
			continue;	/* a poll_remove's own completion */
		if (data & TAG_AIO) {
			struct aio_req *req = (struct aio_req *)(data & ~TAG_AIO);

			req->done(req, res);
			n++;
		} else {
			n += watch_complete(loop, (struct watch *)data, res);
		}
	}
	return n;
}

static int uring_run_once(struct event_loop *loop, int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	int ret;

	if (timeout_ms < 0)
		ret = io_uring_submit_and_wait(ring_of(loop), 1);
	else
		ret = io_uring_submit_and_wait_timeout(ring_of(loop), &cqe, 1, &ts, NULL);
	if (ret < 0 && ret != -EINTR && ret != -ETIME)
		return ret;
	return loop_reap(loop);
}

static int uring_aio_submit(struct event_loop *loop, struct aio_req *req)
{
	struct io_uring_sqe *sqe = loop_sqe(loop);

	if (!sqe)
		return -EBUSY;
	switch (req->op) {
	case AIO_READ:
		io_uring_prep_readv(sqe, req->fd, req->iov, req->iovcnt, req->offset);
		break;
	case AIO_WRITE:
		io_uring_prep_writev(sqe, req->fd, req->iov, req->iovcnt, req->offset);
		break;
	case AIO_FLUSH:
		io_uring_prep_fsync(sqe, req->fd, IORING_FSYNC_DATASYNC);
		break;
	case AIO_DISCARD:
		io_uring_prep_fallocate(sqe, req->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					req->offset, req->len);
		break;
	case AIO_WRITE_ZEROES:
		io_uring_prep_fallocate(sqe, req->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					req->offset, req->len);
		break;
	}
	io_uring_sqe_set_data(sqe, (void *)((uintptr_t)req | TAG_AIO));
	return 0;
}

const struct loop_ops loop_uring_ops = {
	.create = uring_create,
	.destroy = uring_destroy,
	.watch_add = uring_watch_add,
	.watch_remove = uring_watch_remove,
	.run_once = uring_run_once,
	.aio_submit = uring_aio_submit,
};
