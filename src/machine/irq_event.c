// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupt events: a device raises an edge GSI or an MSI from whatever
 * thread completes its work. With KVM_IRQFD the raise is one eventfd write
 * and the kernel injects; otherwise qlite injects with an ioctl
 * (irq_set/msi_send). An MSI behind an irqfd needs a GSI route of its own,
 * updated when the guest reprograms the vector.
 *
 * An MSI is a write by a PCI requester, and an IOMMU that remaps interrupts
 * decides what it becomes from the requester id and the guest's interrupt
 * remapping table, which the guest may change at any time without telling
 * the device. A KVM route would hold the untranslated message (remappable
 * format, meaningless to the LAPICs) or a translation gone stale: so with
 * such an IOMMU MSI events stay in userspace and each raise goes through
 * machine_msi_raise, translated then. GSI events and machines without
 * interrupt remapping are unchanged.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "qlite/machine.h"

struct irq_event {
	struct machine *m;
	bool is_msi;
	unsigned gsi;		/* the line, or the MSI's route when in_kernel */
	uint16_t sid;		/* MSI, for the userspace path: the requester, */
	uint64_t addr;		/* and its message as the guest programmed it */
	uint32_t data;
	bool in_kernel;
	int efd;
	pthread_mutex_t lock;	/* sid/addr/data against a raise on another thread */
	_Atomic uint64_t count;
};

static int irq_event_new(struct machine *m, struct irq_event **out)
{
	struct irq_event *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return -ENOMEM;
	ev->m = m;
	ev->efd = -1;
	pthread_mutex_init(&ev->lock, NULL);
	*out = ev;
	return 0;
}

static bool can_irqfd(struct machine *m, bool is_msi)
{
	const struct machine_accel_ops *a = m->accel;

	/* Interrupt remapping translates each message as it is raised (above). */
	if (is_msi && m->iommu && m->iommu_intremap)
		return false;
	return a && a->irqfd && (!is_msi || (a->msi_route && a->msi_route_free));
}

/* Try the in-kernel path; on any refusal the event stays in userspace. */
static void irq_event_try_kernel(struct irq_event *ev)
{
	const struct machine_accel_ops *a = ev->m->accel;
	void *ctx = ev->m->accel_ctx;
	int route = -1;

	if (!can_irqfd(ev->m, ev->is_msi))
		return;
	ev->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ev->efd < 0)
		return;
	if (ev->is_msi) {
		if (a->msi_route(ctx, &route, ev->addr, ev->data) < 0)
			goto err_close;
		ev->gsi = route;
	}
	if (a->irqfd(ctx, ev->efd, ev->gsi, true) < 0)
		goto err_route;
	ev->in_kernel = true;
	return;

err_route:
	if (ev->is_msi)
		a->msi_route_free(ctx, route);
err_close:
	close(ev->efd);
	ev->efd = -1;
}

int machine_irq_event_gsi(struct machine *m, unsigned gsi, bool in_kernel, struct irq_event **out)
{
	int ret = irq_event_new(m, out);

	if (ret < 0)
		return ret;
	(*out)->gsi = gsi;
	if (in_kernel)
		irq_event_try_kernel(*out);
	return 0;
}

int machine_irq_event_msi(struct machine *m, uint16_t sid, uint64_t addr, uint32_t data,
			  bool in_kernel, struct irq_event **out)
{
	int ret = irq_event_new(m, out);

	if (ret < 0)
		return ret;
	(*out)->is_msi = true;
	(*out)->sid = sid;
	(*out)->addr = addr;
	(*out)->data = data;
	if (in_kernel)
		irq_event_try_kernel(*out);
	return 0;
}

int irq_event_set_msi(struct irq_event *ev, uint16_t sid, uint64_t addr, uint32_t data)
{
	int ret = 0;
	int gsi;

	if (!ev->is_msi)
		return -EINVAL;
	pthread_mutex_lock(&ev->lock);
	if (ev->in_kernel) {
		gsi = ev->gsi;
		ret = ev->m->accel->msi_route(ev->m->accel_ctx, &gsi, addr, data);
	}
	if (ret == 0) {
		ev->sid = sid;
		ev->addr = addr;
		ev->data = data;
	}
	pthread_mutex_unlock(&ev->lock);
	return ret;
}

void irq_event_raise(struct irq_event *ev)
{
	uint64_t one = 1, addr;
	uint32_t data;
	uint16_t sid;

	atomic_fetch_add_explicit(&ev->count, 1, memory_order_relaxed);
	if (ev->in_kernel) {
		/* Only a counter about to overflow could refuse: it is drained by KVM. */
		(void)!write(ev->efd, &one, sizeof(one));
		return;
	}
	if (!ev->is_msi) {
		ev->m->irq_set(ev->m, ev->gsi, 1);
		ev->m->irq_set(ev->m, ev->gsi, 0);
		return;
	}
	pthread_mutex_lock(&ev->lock);
	sid = ev->sid;
	addr = ev->addr;
	data = ev->data;
	pthread_mutex_unlock(&ev->lock);
	/*
	 * msi_send without an IOMMU; with one, the message it makes of it. A
	 * message it blocks has had its fault recorded there: nothing to send.
	 */
	(void)machine_msi_raise(ev->m, sid, addr, data);
}

void irq_event_destroy(struct irq_event *ev)
{
	const struct machine_accel_ops *a;

	if (!ev)
		return;
	a = ev->m->accel;
	if (ev->in_kernel) {
		a->irqfd(ev->m->accel_ctx, ev->efd, ev->gsi, false);
		if (ev->is_msi)
			a->msi_route_free(ev->m->accel_ctx, ev->gsi);
	}
	if (ev->efd >= 0)
		close(ev->efd);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

bool irq_event_in_kernel(const struct irq_event *ev)
{
	return ev->in_kernel;
}

uint64_t irq_event_count(const struct irq_event *ev)
{
	return atomic_load_explicit(&((struct irq_event *)ev)->count, memory_order_relaxed);
}
