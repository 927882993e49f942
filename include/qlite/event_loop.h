/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The I/O thread: watches on file descriptors (console input, eventfds of
 * doorbells, timers, later tap devices) and asynchronous block I/O, each
 * completion calling back on this one thread.
 *
 * Two backends behind the same behaviour. io_uring is the fast path: polls
 * and file I/O in the kernel. Where io_uring cannot be set up (Docker's default
 * seccomp profile, sysctl kernel.io_uring_disabled, ENOSYS) the loop falls
 * back to epoll for the watches and a pool of two threads for the file I/O,
 * whose completions still run on the I/O thread. QLITE_NO_IO_URING=1 in the
 * environment of event_loop_create() forces the fallback (tests).
 */
#ifndef QLITE_EVENT_LOOP_H
#define QLITE_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct event_loop;

/* revents as poll(2) reports them; return false to stop watching the fd. */
typedef bool (*event_fn)(void *opaque, int fd, uint32_t revents);

/* Returns NULL with errno set; an io_uring that cannot be set up is no failure. */
struct event_loop *event_loop_create(void);
void event_loop_destroy(struct event_loop *loop);
/* On io_uring, or on the fallback (epoll and the worker pool)? */
bool event_loop_uses_io_uring(const struct event_loop *loop);
/* 0 on io_uring; else why not: -errno of its set-up, -ECANCELED if forced off. */
int event_loop_io_uring_error(const struct event_loop *loop);
/* Watch fd for events (POLLIN...); the watch re-arms after each callback. 0 or -errno. */
int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque);
/* Stop watching fd; safe from its own callback. */
void event_loop_remove(struct event_loop *loop, int fd);
/* Serve callbacks until event_loop_stop() is called from one of them. 0 or -errno. */
int event_loop_run(struct event_loop *loop);
/* Serve what completes within timeout_ms (-1: wait for one); how many callbacks ran, or -errno. */
int event_loop_run_once(struct event_loop *loop, int timeout_ms);
void event_loop_stop(struct event_loop *loop);

/* One-shot timers on a timerfd each; fn runs on the I/O thread. */
struct loop_timer;
int event_loop_timer_create(struct event_loop *loop, void (*fn)(void *opaque), void *opaque,
			    struct loop_timer **out);
/* Fire once, ns from now (replacing any earlier deadline); 0 cancels. From any thread. */
int loop_timer_arm(struct loop_timer *t, uint64_t ns);
void loop_timer_destroy(struct loop_timer *t);

/* Asynchronous file I/O on the loop's io_uring, or its worker pool. */
enum aio_op {
	AIO_READ,		/* preadv of iov at offset */
	AIO_WRITE,		/* pwritev of iov at offset */
	AIO_FLUSH,		/* fdatasync */
	AIO_DISCARD,		/* fallocate PUNCH_HOLE|KEEP_SIZE of len bytes at offset */
	AIO_WRITE_ZEROES,	/* fallocate ZERO_RANGE|KEEP_SIZE of len bytes at offset */
};

struct aio_req {
	int fd;
	enum aio_op op;
	const struct iovec *iov;	/* must stay valid until done */
	unsigned iovcnt;
	uint64_t offset, len;
	/* On the I/O thread: res is bytes transferred (reads, writes), 0, or -errno. */
	void (*done)(struct aio_req *req, int res);
	void *opaque;
};

/*
 * Queue req; the requests queued during one round of callbacks reach the
 * kernel (or the workers) together when the loop next waits, and complete
 * in any order. Call on the I/O thread.
 */
int event_loop_aio_submit(struct event_loop *loop, struct aio_req *req);

#endif
