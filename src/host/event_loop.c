// SPDX-License-Identifier: GPL-2.0-only
/*
 * The I/O thread's loop on io_uring. Each watch is a one-shot poll that is
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
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "qlite/event_loop.h"

#define EVENT_LOOP_ENTRIES	256
#define TAG_AIO			1ul

struct watch {
	int fd;
	uint32_t events;
	event_fn fn;
	void *opaque;
	bool armed;		/* a poll is in flight */
	bool removed;		/* free once the poll in flight completes */
	struct watch *next;
};

struct event_loop {
	struct io_uring ring;
	bool stop;
	struct watch *watches;
};

struct loop_timer {
	struct event_loop *loop;
	int fd;
	void (*fn)(void *opaque);
	void *opaque;
};

struct event_loop *event_loop_create(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	int ret;

	if (!loop)
		return NULL;
	ret = io_uring_queue_init(EVENT_LOOP_ENTRIES, &loop->ring, 0);
	if (ret < 0) {
		free(loop);
		errno = -ret;
		return NULL;
	}
	return loop;
}

void event_loop_destroy(struct event_loop *loop)
{
	struct watch *w, *next;

	if (!loop)
		return;
	io_uring_queue_exit(&loop->ring);
	for (w = loop->watches; w; w = next) {
		next = w->next;
		free(w);
	}
	free(loop);
}

/* An SQE, submitting what is queued when the ring is full. */
static struct io_uring_sqe *loop_sqe(struct event_loop *loop)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);

	if (!sqe) {
		io_uring_submit(&loop->ring);
		sqe = io_uring_get_sqe(&loop->ring);
	}
	return sqe;
}

static int watch_arm(struct event_loop *loop, struct watch *w)
{
	struct io_uring_sqe *sqe = loop_sqe(loop);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, w->fd, w->events);
	io_uring_sqe_set_data(sqe, w);
	w->armed = true;
	return 0;
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque)
{
	struct watch *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	*w = (struct watch){ .fd = fd, .events = events, .fn = fn, .opaque = opaque };
	ret = watch_arm(loop, w);
	if (ret < 0) {
		free(w);
		return ret;
	}
	w->next = loop->watches;
	loop->watches = w;
	return 0;
}

static void watch_unlink(struct event_loop *loop, struct watch *w)
{
	for (struct watch **p = &loop->watches; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	free(w);
}

void event_loop_remove(struct event_loop *loop, int fd)
{
	for (struct watch *w = loop->watches; w; w = w->next) {
		struct io_uring_sqe *sqe;

		if (w->fd != fd || w->removed)
			continue;
		w->removed = true;
		if (!w->armed)		/* inside its own callback: freed after it */
			return;
		sqe = loop_sqe(loop);
		if (sqe) {
			io_uring_prep_poll_remove(sqe, (__u64)(uintptr_t)w);
			io_uring_sqe_set_data(sqe, NULL);
		}
		return;
	}
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stop = true;
}

static void watch_complete(struct event_loop *loop, struct watch *w, int res)
{
	bool again;

	w->armed = false;
	if (w->removed) {
		watch_unlink(loop, w);
		return;
	}
	if (res < 0) {
		/* The fd is gone or cannot be polled: drop the watch. */
		watch_unlink(loop, w);
		return;
	}
	again = w->fn(w->opaque, w->fd, res);
	if (again && !w->removed && !loop->stop && watch_arm(loop, w) == 0)
		return;
	if (!again || w->removed)
		watch_unlink(loop, w);
}

static int loop_reap(struct event_loop *loop)
{
	struct io_uring_cqe *cqe;
	int n = 0;

	while (io_uring_peek_cqe(&loop->ring, &cqe) == 0) {
		uintptr_t data = (uintptr_t)io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&loop->ring, cqe);
		if (!data)
			continue;	/* a poll_remove's own completion */
		n++;
		if (data & TAG_AIO) {
			struct aio_req *req = (struct aio_req *)(data & ~TAG_AIO);

			req->done(req, res);
		} else {
			watch_complete(loop, (struct watch *)data, res);
		}
	}
	return n;
}

int event_loop_run_once(struct event_loop *loop, int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	int ret;

	if (timeout_ms < 0)
		ret = io_uring_submit_and_wait(&loop->ring, 1);
	else
		ret = io_uring_submit_and_wait_timeout(&loop->ring, &cqe, 1, &ts, NULL);
	if (ret < 0 && ret != -EINTR && ret != -ETIME)
		return ret;
	return loop_reap(loop);
}

int event_loop_run(struct event_loop *loop)
{
	while (!loop->stop) {
		int ret = event_loop_run_once(loop, -1);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static bool timer_expired(void *opaque, int fd, uint32_t revents)
{
	struct loop_timer *t = opaque;
	uint64_t n;

	/* EAGAIN: re-armed or cancelled after the poll fired; nothing is due. */
	if (read(fd, &n, sizeof(n)) == sizeof(n))
		t->fn(t->opaque);
	return true;
}

int event_loop_timer_create(struct event_loop *loop, void (*fn)(void *opaque), void *opaque,
			    struct loop_timer **out)
{
	struct loop_timer *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	*t = (struct loop_timer){ .loop = loop, .fn = fn, .opaque = opaque };
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->fd < 0) {
		ret = -errno;
		free(t);
		return ret;
	}
	ret = event_loop_add(loop, t->fd, POLLIN, timer_expired, t);
	if (ret < 0) {
		close(t->fd);
		free(t);
		return ret;
	}
	*out = t;
	return 0;
}

int loop_timer_arm(struct loop_timer *t, uint64_t ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 },
	};

	return timerfd_settime(t->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

void loop_timer_destroy(struct loop_timer *t)
{
	if (!t)
		return;
	event_loop_remove(t->loop, t->fd);
	close(t->fd);
	free(t);
}

int event_loop_aio_submit(struct event_loop *loop, struct aio_req *req)
{
	struct io_uring_sqe *sqe;

	if (((uintptr_t)req & TAG_AIO) || !req->done)
		return -EINVAL;
	sqe = loop_sqe(loop);
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
	default:
		return -EINVAL;
	}
	io_uring_sqe_set_data(sqe, (void *)((uintptr_t)req | TAG_AIO));
	return 0;
}
