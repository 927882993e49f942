// SPDX-License-Identifier: GPL-2.0-only
/*
 * The I/O thread's loop: the API, timers, and the choice of backend. io_uring
 * is the fast path (event_loop_uring.c); where io_uring_setup fails (Docker's
 * default seccomp profile, kernel.io_uring_disabled, old kernels) or
 * QLITE_NO_IO_URING is set, epoll watches the fds and a small worker pool does
 * the file I/O (event_loop_epoll.c, aio_pool.c). Both keep the same contract:
 * callbacks, fd watches and aio completions alike, run on the I/O thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "event_loop_internal.h"

struct loop_timer {
	struct event_loop *loop;
	int fd;
	void (*fn)(void *opaque);
	void *opaque;
};

/* QLITE_NO_IO_URING=1 (any value but empty or 0): the fallback, as under a seccomp profile. */
static bool io_uring_forced_off(void)
{
	const char *v = getenv("QLITE_NO_IO_URING");

	return v && *v && strcmp(v, "0") != 0;
}

struct event_loop *event_loop_create(void)
{
	struct event_loop *loop = NULL;
	int why = -ECANCELED;
	int ret;

	if (!io_uring_forced_off()) {
		why = loop_uring_ops.create(&loop);
		if (why == 0)
			return loop;
	}
	ret = loop_epoll_ops.create(&loop);
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	loop->uring_err = why;
	return loop;
}

void event_loop_destroy(struct event_loop *loop)
{
	if (loop)
		loop->ops->destroy(loop);
}

bool event_loop_uses_io_uring(const struct event_loop *loop)
{
	return loop->uring_err == 0;
}

int event_loop_io_uring_error(const struct event_loop *loop)
{
	return loop->uring_err;
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque)
{
	struct watch *w;
	int ret;

	/* io_uring would accept a bad fd and drop the watch later: both backends say it now. */
	if (fcntl(fd, F_GETFD) < 0)
		return -errno;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct watch){ .fd = fd, .events = events, .fn = fn, .opaque = opaque, .reg_fd = -1 };
	w->next = loop->watches;
	loop->watches = w;
	ret = loop->ops->watch_add(loop, w);
	if (ret < 0)
		watch_unlink(loop, w);
	return ret;
}

void event_loop_remove(struct event_loop *loop, int fd)
{
	for (struct watch *w = loop->watches; w; w = w->next) {
		if (w->fd != fd || w->removed)
			continue;
		w->removed = true;
		loop->ops->watch_remove(loop, w);
		return;
	}
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stop = true;
}

int event_loop_run_once(struct event_loop *loop, int timeout_ms)
{
	return loop->ops->run_once(loop, timeout_ms);
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
	/* The io_uring backend tags the pointer's low bit. */
	if (((uintptr_t)req & 1) || !req->done)
		return -EINVAL;
	switch (req->op) {
	case AIO_READ:
	case AIO_WRITE:
	case AIO_FLUSH:
	case AIO_DISCARD:
	case AIO_WRITE_ZEROES:
		return loop->ops->aio_submit(loop, req);
	}
	return -EINVAL;
}
