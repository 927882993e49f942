/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Asynchronous file I/O without io_uring: a few worker threads run
 * preadv/pwritev/fdatasync/fallocate, and the I/O thread collects the
 * results when the pool's eventfd is readable, so `done` runs there only.
 */
#ifndef QLITE_HOST_AIO_POOL_H
#define QLITE_HOST_AIO_POOL_H

#include "qlite/event_loop.h"

struct aio_pool;

/* The workers start with the first request. 0 or -errno. */
int aio_pool_create(struct aio_pool **out);
/* Joins the workers; requests not completed yet are dropped without `done`. */
void aio_pool_destroy(struct aio_pool *pool);
/* Readable when completions wait for aio_pool_complete(). */
int aio_pool_fd(const struct aio_pool *pool);
/* On the I/O thread: hold req until the next aio_pool_kick(). 0 or -errno. */
int aio_pool_queue(struct aio_pool *pool, struct aio_req *req);
/* On the I/O thread: hand what was queued to the workers, as one batch. */
void aio_pool_kick(struct aio_pool *pool);
/* On the I/O thread: run the `done` of each completed request; how many ran. */
int aio_pool_complete(struct aio_pool *pool);

#endif
