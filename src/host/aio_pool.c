// SPDX-License-Identifier: GPL-2.0-only
/*
 * The worker pool behind the epoll loop's asynchronous file I/O. A request
 * travels three FIFO lists: queued (the I/O thread's own, until the loop
 * next waits), todo (the workers') and done (back to the I/O thread, which
 * an eventfd wakes). Workers block every signal: SIGINT/SIGTERM go to the
 * signalfd on the I/O thread, never to a worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aio_pool.h"

#define AIO_POOL_THREADS	2

struct aio_work {
	struct aio_req *req;
	int res;
	struct aio_work *next;
};

struct aio_list {
	struct aio_work *head;
	struct aio_work **tail;
};

struct aio_pool {
	int efd;
	pthread_t threads[AIO_POOL_THREADS];
	unsigned nr_threads;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool quit;		/* under lock */
	struct aio_list queued;	/* the I/O thread's */
	struct aio_list todo;	/* under lock */
	struct aio_list done;	/* under lock */
};

static void list_init(struct aio_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

static void list_push(struct aio_list *l, struct aio_work *w)
{
	w->next = NULL;
	*l->tail = w;
	l->tail = &w->next;
}

static struct aio_work *list_pop(struct aio_list *l)
{
	struct aio_work *w = l->head;

	if (w) {
		l->head = w->next;
		if (!l->head)
			l->tail = &l->head;
	}
	return w;
}

/* Move all of from to the end of to. */
static void list_splice(struct aio_list *to, struct aio_list *from)
{
	if (!from->head)
		return;
	*to->tail = from->head;
	to->tail = from->tail;
	list_init(from);
}

static void list_free(struct aio_list *l)
{
	struct aio_work *w;

	while ((w = list_pop(l)))
		free(w);
}

/* The request's result as io_uring would give it: bytes, 0, or -errno. */
static int aio_do(const struct aio_req *req)
{
	ssize_t n = -1;

	switch (req->op) {
	case AIO_READ:
		n = preadv(req->fd, req->iov, req->iovcnt, req->offset);
		break;
	case AIO_WRITE:
		n = pwritev(req->fd, req->iov, req->iovcnt, req->offset);
		break;
	case AIO_FLUSH:
		n = fdatasync(req->fd);
		break;
	case AIO_DISCARD:
		n = fallocate(req->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      req->offset, req->len);
		break;
	case AIO_WRITE_ZEROES:
		n = fallocate(req->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			      req->offset, req->len);
		break;
	default:
		errno = EINVAL;
		break;
	}
	return n < 0 ? -errno : (int)n;
}

/* Wake the I/O thread; an eventfd write fails only at a count of 2^64 - 1. */
static void pool_wake(struct aio_pool *pool)
{
	uint64_t one = 1;
	ssize_t ret = write(pool->efd, &one, sizeof(one));

	(void)ret;
}

static void *aio_worker(void *opaque)
{
	struct aio_pool *pool = opaque;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct aio_work *w;

		while (!pool->todo.head && !pool->quit)
			pthread_cond_wait(&pool->cond, &pool->lock);
		if (pool->quit)
			break;
		w = list_pop(&pool->todo);
		pthread_mutex_unlock(&pool->lock);
		w->res = aio_do(w->req);
		pthread_mutex_lock(&pool->lock);
		list_push(&pool->done, w);
		pool_wake(pool);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

static int pool_start(struct aio_pool *pool)
{
	sigset_t all, old;
	int ret = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	while (pool->nr_threads < AIO_POOL_THREADS) {
		pthread_t *t = &pool->threads[pool->nr_threads];
		char name[16];

		ret = -pthread_create(t, NULL, aio_worker, pool);
		if (ret < 0)
			break;
		snprintf(name, sizeof(name), "qlite-aio-%u", pool->nr_threads);
		pthread_setname_np(*t, name);
		pool->nr_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* One worker is enough to make progress. */
	return pool->nr_threads ? 0 : ret;
}

int aio_pool_create(struct aio_pool **out)
{
	struct aio_pool *pool = calloc(1, sizeof(*pool));
	int ret;

	if (!pool)
		return -ENOMEM;
	pool->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pool->efd < 0) {
		ret = -errno;
		free(pool);
		return ret;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	list_init(&pool->queued);
	list_init(&pool->todo);
	list_init(&pool->done);
	*out = pool;
	return 0;
}

void aio_pool_destroy(struct aio_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->quit = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->nr_threads; i++)
		pthread_join(pool->threads[i], NULL);
	list_free(&pool->queued);
	list_free(&pool->todo);
	list_free(&pool->done);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	close(pool->efd);
	free(pool);
}

int aio_pool_fd(const struct aio_pool *pool)
{
	return pool->efd;
}

int aio_pool_queue(struct aio_pool *pool, struct aio_req *req)
{
	struct aio_work *w;
	int ret;

	if (pool->nr_threads < AIO_POOL_THREADS) {
		ret = pool_start(pool);
		if (ret < 0)
			return ret;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->req = req;
	list_push(&pool->queued, w);
	return 0;
}

void aio_pool_kick(struct aio_pool *pool)
{
	if (!pool->queued.head)
		return;
	pthread_mutex_lock(&pool->lock);
	list_splice(&pool->todo, &pool->queued);
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

int aio_pool_complete(struct aio_pool *pool)
{
	struct aio_list done;
	struct aio_work *w;
	uint64_t n;
	int ran = 0;

	/*
	 * Drain the eventfd before taking the list: a completion pushed after
	 * the splice writes it again, so none waits for an unrelated wake-up.
	 * EAGAIN: an earlier call took these completions already.
	 */
	if (read(pool->efd, &n, sizeof(n)) < 0)
		n = 0;
	list_init(&done);
	pthread_mutex_lock(&pool->lock);
	list_splice(&done, &pool->done);
	pthread_mutex_unlock(&pool->lock);
	while ((w = list_pop(&done))) {
		struct aio_req *req = w->req;
		int res = w->res;

		free(w);
		req->done(req, res);
		ran++;
	}
	return ran;
}
