/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the I/O thread's loop: what event_loop.c (the API, timers, the
 * choice of backend) shares with its two backends, io_uring
 * (event_loop_uring.c) and epoll with a worker pool for file I/O
 * (event_loop_epoll.c, aio_pool.c). The shared helpers are inline so the
 * backends never call back into event_loop.c (tests/layout: no circles).
 */
#ifndef QLITE_HOST_EVENT_LOOP_INTERNAL_H
#define QLITE_HOST_EVENT_LOOP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "qlite/event_loop.h"

struct watch {
	int fd;
	uint32_t events;
	event_fn fn;
	void *opaque;
	bool removed;		/* the owner is done with it; freed once the backend is too */
	struct watch *next;
	/* io_uring: a poll is in flight (the watch is freed only when it completes) */
	bool armed;
	/* epoll: the fd in the set (a dup when fd was in it already), or -1 */
	int reg_fd;
	/* epoll: a file epoll refuses (regular file, /dev/null), ready as poll(2) says */
	bool always_ready;
};

struct loop_ops {
	/* A zeroed loop with its backend ready and ops set; 0 or -errno. */
	int (*create)(struct event_loop **out);
	/* Frees the loop and its watches (watches_free), aio in flight or not. */
	void (*destroy)(struct event_loop *loop);
	/* Start watching w, already linked into loop->watches; 0 or -errno. */
	int (*watch_add)(struct event_loop *loop, struct watch *w);
	/* w->removed is set: stop watching, unlink w now or once the backend lets go. */
	void (*watch_remove)(struct event_loop *loop, struct watch *w);
	/* Wait up to timeout_ms (-1: forever) and run callbacks; how many ran, or -errno. */
	int (*run_once)(struct event_loop *loop, int timeout_ms);
	/* req is valid (op, done); queue it for the next wait. 0 or -errno. */
	int (*aio_submit)(struct event_loop *loop, struct aio_req *req);
};

struct event_loop {
	const struct loop_ops *ops;
	bool stop;
	int uring_err;		/* 0 on io_uring, else why not (-errno) */
	struct watch *watches;
};

extern const struct loop_ops loop_uring_ops;
extern const struct loop_ops loop_epoll_ops;

static inline void watch_unlink(struct event_loop *loop, struct watch *w)
{
	for (struct watch **p = &loop->watches; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	free(w);
}

static inline void watches_free(struct event_loop *loop)
{
	struct watch *w, *next;

	for (w = loop->watches; w; w = next) {
		next = w->next;
		free(w);
	}
	loop->watches = NULL;
}

#endif
