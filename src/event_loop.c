// SPDX-License-Identifier: GPL-2.0-only
/*
 * The I/O thread's loop on io_uring. Each watch is a one-shot poll that is
 * re-armed after its callback, which works on every io_uring kernel (no
 * multishot needed) and keeps a callback from racing with itself.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/event_loop.h"
#include "qlite/util.h"

#define EVENT_LOOP_MAX_WATCHES 64

struct watch {
	int fd;
	uint32_t events;
	event_fn fn;
	void *opaque;
	bool used;
};

struct event_loop {
	struct io_uring ring;
	bool stop;
	struct watch watches[EVENT_LOOP_MAX_WATCHES];
};

struct event_loop *event_loop_create(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	int ret;

	if (!loop)
		return NULL;
	ret = io_uring_queue_init(EVENT_LOOP_MAX_WATCHES * 2, &loop->ring, 0);
	if (ret < 0) {
		errno = -ret;
		pr_errno("io_uring_queue_init (is io_uring disabled by kernel.io_uring_disabled?)");
		free(loop);
		return NULL;
	}
	return loop;
}

void event_loop_destroy(struct event_loop *loop)
{
	if (!loop)
		return;
	io_uring_queue_exit(&loop->ring);
	free(loop);
}

static int watch_arm(struct event_loop *loop, struct watch *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, w->fd, w->events);
	io_uring_sqe_set_data(sqe, w);
	return 0;
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque)
{
	for (unsigned i = 0; i < EVENT_LOOP_MAX_WATCHES; i++) {
		struct watch *w = &loop->watches[i];

		if (w->used)
			continue;
		*w = (struct watch){ .fd = fd, .events = events, .fn = fn, .opaque = opaque, .used = true };
		return watch_arm(loop, w);
	}
	return -ENOSPC;
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stop = true;
}

int event_loop_run(struct event_loop *loop)
{
	while (!loop->stop) {
		struct io_uring_cqe *cqe;
		struct watch *w;
		int ret, res;

		ret = io_uring_submit_and_wait(&loop->ring, 1);
		if (ret < 0 && ret != -EINTR) {
			errno = -ret;
			pr_errno("io_uring_submit_and_wait");
			return -1;
		}
		while (io_uring_peek_cqe(&loop->ring, &cqe) == 0) {
			w = io_uring_cqe_get_data(cqe);
			res = cqe->res;
			io_uring_cqe_seen(&loop->ring, cqe);
			if (!w || !w->used)
				continue;
			if (res < 0) {
				errno = -res;
				pr_errno("poll on fd %d", w->fd);
				w->used = false;
				continue;
			}
			if (w->fn(w->opaque, w->fd, res) && !loop->stop)
				watch_arm(loop, w);
			else
				w->used = false;
		}
	}
	return 0;
}
