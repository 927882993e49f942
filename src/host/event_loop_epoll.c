// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loop without io_uring: epoll for the fd watches (timers are timerfds,
 * so they come along), and a worker pool for file I/O (aio_pool.c) whose
 * completions come back through an eventfd in the same epoll set.
 *
 * The watches are level-triggered: a callback that leaves data unread is
 * called again on the next round, as a re-armed one-shot poll would be. The
 * one difference from poll is hidden too: epoll refuses files that cannot
 * be polled (regular files, /dev/null), which poll reports always ready, so
 * such a watch is called on every round without waiting.
 *
 * A watch removed during a round (by any callback) stays allocated, marked,
 * until the round is over: a later event of the same epoll_wait batch may
 * still point at it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "aio_pool.h"
#include "event_loop_internal.h"

#define EPOLL_BATCH		64
/* What poll(2) reports for a file without a poll method. */
#define ALWAYS_READY_MASK	(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

struct epoll_loop {
	struct event_loop loop;
	int epfd;
	struct aio_pool *pool;	/* its eventfd is in the set with a NULL pointer */
	unsigned nr_ready;	/* always-ready watches: wait for nothing */
	bool in_round;		/* dispatching: removed watches are freed at its end */
};

static struct epoll_loop *to_epoll(struct event_loop *loop)
{
	return (struct epoll_loop *)((char *)loop - offsetof(struct epoll_loop, loop));
}

static int epoll_loop_create(struct event_loop **out)
{
	struct epoll_loop *el = calloc(1, sizeof(*el));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int ret;

	if (!el)
		return -ENOMEM;
	el->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (el->epfd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = aio_pool_create(&el->pool);
	if (ret < 0)
		goto err_close;
	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, aio_pool_fd(el->pool), &ev) < 0) {
		ret = -errno;
		goto err_pool;
	}
	el->loop.ops = &loop_epoll_ops;
	*out = &el->loop;
	return 0;

err_pool:
	aio_pool_destroy(el->pool);
err_close:
	close(el->epfd);
err_free:
	free(el);
	return ret;
}

/* Take w out of the epoll set (or the always-ready ones). */
static void watch_deregister(struct epoll_loop *el, struct watch *w)
{
	if (w->always_ready) {
		w->always_ready = false;
		el->nr_ready--;
	}
	if (w->reg_fd < 0)
		return;
	epoll_ctl(el->epfd, EPOLL_CTL_DEL, w->reg_fd, NULL);
	if (w->reg_fd != w->fd)
		close(w->reg_fd);
	w->reg_fd = -1;
}

static void epoll_loop_destroy(struct event_loop *loop)
{
	struct epoll_loop *el = to_epoll(loop);

	/* First the workers: none may be writing into a buffer once the loop is gone. */
	aio_pool_destroy(el->pool);
	for (struct watch *w = loop->watches; w; w = w->next)
		watch_deregister(el, w);
	watches_free(loop);
	close(el->epfd);
	free(el);
}

static int epoll_watch_add(struct event_loop *loop, struct watch *w)
{
	struct epoll_loop *el = to_epoll(loop);
	struct epoll_event ev = { .events = w->events, .data.ptr = w };
	int fd = w->fd;
	int ret;

	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
		w->reg_fd = fd;
		return 0;
	}
	if (errno == EPERM) {
		/* Ready for what poll would say; never, when asked for nothing of that. */
		if (w->events & ALWAYS_READY_MASK) {
			w->always_ready = true;
			el->nr_ready++;
		}
		return 0;
	}
	if (errno != EEXIST)
		return -errno;
	/* A second watch on the fd: epoll keys on the fd, so it gets a duplicate. */
	fd = fcntl(w->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	w->reg_fd = fd;
	return 0;
}

static void epoll_watch_remove(struct event_loop *loop, struct watch *w)
{
	struct epoll_loop *el = to_epoll(loop);

	watch_deregister(el, w);
	if (!el->in_round)
		watch_unlink(loop, w);
}

/* Run w's callback; a false return stops the watch. Returns 1 (callbacks run). */
static int watch_call(struct event_loop *loop, struct watch *w, uint32_t revents)
{
	if (!w->fn(w->opaque, w->fd, revents) && !w->removed) {
		w->removed = true;
		watch_deregister(to_epoll(loop), w);
	}
	return 1;
}

/* Free the watches removed during the round. */
static void sweep_removed(struct event_loop *loop)
{
	struct watch **p = &loop->watches;

	while (*p) {
		struct watch *w = *p;

		if (w->removed) {
			*p = w->next;
			free(w);
		} else {
			p = &w->next;
		}
	}
}

static int epoll_run_once(struct event_loop *loop, int timeout_ms)
{
	struct epoll_loop *el = to_epoll(loop);
	struct epoll_event ev[EPOLL_BATCH];
	struct watch *first;
	int n, ran = 0;

	/* What the last round queued goes to the workers together, as io_uring submits it. */
	aio_pool_kick(el->pool);
	n = epoll_wait(el->epfd, ev, EPOLL_BATCH, el->nr_ready ? 0 : timeout_ms);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	el->in_round = true;
	/* Watches added by this round's callbacks go in front of first: next round. */
	first = loop->watches;
	for (int i = 0; i < n; i++) {
		struct watch *w = ev[i].data.ptr;

		if (!w)
			ran += aio_pool_complete(el->pool);
		else if (!w->removed)
			ran += watch_call(loop, w, ev[i].events);
	}
	for (struct watch *w = first; w; w = w->next)
		if (w->always_ready && !w->removed)
			ran += watch_call(loop, w, w->events & ALWAYS_READY_MASK);
	el->in_round = false;
	sweep_removed(loop);
	return ran;
}

static int epoll_aio_submit(struct event_loop *loop, struct aio_req *req)
{
	return aio_pool_queue(to_epoll(loop)->pool, req);
}

const struct loop_ops loop_epoll_ops = {
	.create = epoll_loop_create,
	.destroy = epoll_loop_destroy,
	.watch_add = epoll_watch_add,
	.watch_remove = epoll_watch_remove,
	.run_once = epoll_run_once,
	.aio_submit = epoll_aio_submit,
};
