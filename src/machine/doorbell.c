// SPDX-License-Identifier: GPL-2.0-only
/*
 * Doorbells: a guest write that a device wants on the I/O thread, not on
 * the vCPU that made it (a virtqueue kick). Both paths end in one eventfd
 * that the I/O thread watches: KVM_IOEVENTFD lets the kernel signal it
 * without leaving KVM_RUN; otherwise the write exits to qlite and the bus
 * signals it (bus_add_doorbell), so the device code is the same either way
 * and only the exit count differs, which is what users come to measure.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "qlite/machine.h"

struct doorbell {
	struct machine *m;
	struct doorbell_desc d;
	int efd;
	bool in_kernel;
	int bus_id;		/* userspace path: the bus's doorbell id */
	uint64_t addr;		/* where it rings now */
	_Atomic uint64_t count;
};

static bool doorbell_fired(void *opaque, int fd, uint32_t revents)
{
	struct doorbell *db = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return true;
	atomic_fetch_add_explicit(&db->count, n, memory_order_relaxed);
	db->d.ring(db->d.opaque, n);
	return true;
}

static int kernel_assign(struct doorbell *db, uint64_t addr, bool assign)
{
	const struct machine_accel_ops *a = db->m->accel;

	if (addr == BUS_UNMAPPED)
		return 0;
	return a->ioeventfd(db->m->accel_ctx, db->d.space, addr, db->d.len, db->d.match,
			    db->d.value, db->efd, assign);
}

int machine_doorbell_add(struct machine *m, const struct doorbell_desc *d, struct doorbell **out)
{
	struct doorbell *db;
	int ret;

	if (!d->ring || (d->len != 1 && d->len != 2 && d->len != 4 && d->len != 8))
		return -EINVAL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	*db = (struct doorbell){ .m = m, .d = *d, .bus_id = -1, .addr = d->addr };
	db->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (db->efd < 0) {
		ret = -errno;
		goto err_free;
	}
	if (d->in_kernel && m->accel && m->accel->ioeventfd) {
		ret = kernel_assign(db, d->addr, true);
		/* A KVM that refuses this one (length, space) still has the userspace path. */
		db->in_kernel = ret == 0;
	}
	if (!db->in_kernel) {
		ret = bus_add_doorbell(m->bus[d->space], d->addr, d->len, d->match, d->value, db->efd);
		if (ret < 0)
			goto err_close;
		db->bus_id = ret;
	}
	ret = event_loop_add(m->loop, db->efd, POLLIN, doorbell_fired, db);
	if (ret < 0)
		goto err_unassign;
	*out = db;
	return 0;

err_unassign:
	if (db->in_kernel)
		kernel_assign(db, db->addr, false);
	else
		bus_remove_doorbell(m->bus[d->space], db->bus_id);
err_close:
	close(db->efd);
err_free:
	free(db);
	return ret;
}

int doorbell_move(struct doorbell *db, uint64_t addr)
{
	int ret;

	if (addr == db->addr)
		return 0;
	if (!db->in_kernel) {
		ret = bus_move_doorbell(db->m->bus[db->d.space], db->bus_id, addr);
	} else {
		kernel_assign(db, db->addr, false);
		ret = kernel_assign(db, addr, true);
	}
	if (ret == 0)
		db->addr = addr;
	return ret;
}

void doorbell_remove(struct doorbell *db)
{
	if (!db)
		return;
	event_loop_remove(db->m->loop, db->efd);
	if (db->in_kernel)
		kernel_assign(db, db->addr, false);
	else
		bus_remove_doorbell(db->m->bus[db->d.space], db->bus_id);
	close(db->efd);
	free(db);
}

bool doorbell_in_kernel(const struct doorbell *db)
{
	return db->in_kernel;
}

uint64_t doorbell_count(const struct doorbell *db)
{
	return atomic_load_explicit(&((struct doorbell *)db)->count, memory_order_relaxed);
}
