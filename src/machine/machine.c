// SPDX-License-Identifier: GPL-2.0-only
/*
 * The machine's bookkeeping (device states freed at teardown, interrupt
 * lines and ranges claimed) and its simplest services: fd watches on the
 * I/O thread's loop, and power-management events handed from the device
 * that has them (the RTC) to the one that listens (ACPI PM). Doorbells and
 * interrupt events have files of their own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/machine.h"
#include "qlite/util.h"

struct machine_owned {
	void *state;
	void (*release)(void *state);
	struct machine_owned *next;
};

int machine_adopt(struct machine *m, void *state, void (*release)(void *state))
{
	struct machine_owned *o = malloc(sizeof(*o));

	if (!o)
		return -ENOMEM;
	*o = (struct machine_owned){ .state = state, .release = release, .next = m->owned };
	m->owned = o;
	return 0;
}

void *machine_alloc_device(struct machine *m, size_t size, void (*release)(void *state))
{
	void *state = calloc(1, size);

	if (!state)
		return NULL;
	if (machine_adopt(m, state, release ? release : free) < 0) {
		free(state);
		return NULL;
	}
	return state;
}

void machine_release_all(struct machine *m)
{
	free(m->reports);
	m->reports = NULL;
	m->nr_reports = 0;
	while (m->owned) {
		struct machine_owned *o = m->owned;

		m->owned = o->next;
		o->release(o->state);
		free(o);
	}
}

static bool report_name_taken(const struct machine *m, const char *name)
{
	for (unsigned i = 0; i < m->nr_reports; i++)
		if (!strcmp(m->reports[i].name, name))
			return true;
	return false;
}

int machine_add_report(struct machine *m, const char *name, const char *summary,
		       device_report_fn fn, void *opaque)
{
	struct machine_report_src *r = realloc(m->reports, (m->nr_reports + 1) * sizeof(*r));

	if (!r)
		return -ENOMEM;
	m->reports = r;
	r = &r[m->nr_reports];
	*r = (struct machine_report_src){ .fn = fn, .opaque = opaque };
	snprintf(r->name, sizeof(r->name), "%s", name);
	for (unsigned n = 1; report_name_taken(m, r->name); n++)
		snprintf(r->name, sizeof(r->name), "%s.%u", name, n);
	snprintf(r->summary, sizeof(r->summary), "%s", summary ? summary : "");
	m->nr_reports++;
	return 0;
}

void device_report_add(struct device_report *out, const char *name, uint64_t value)
{
	if (out->n >= DEVICE_REPORT_MAX)
		return;
	snprintf(out->c[out->n].name, sizeof(out->c[out->n].name), "%s", name);
	out->c[out->n++].value = value;
}

int machine_claim_irq(struct machine *m, unsigned gsi, const char *owner, bool shared)
{
	for (unsigned i = 0; i < m->nr_irqs; i++) {
		if (m->irqs[i].gsi != gsi)
			continue;
		if (!shared || !m->irqs[i].shared)
			return report(-EBUSY, "%s: IRQ %u is already used by %s", owner, gsi,
				      m->irqs[i].owner);
	}
	if (m->nr_irqs >= ARRAY_SIZE(m->irqs))
		return report(-ENOSPC, "%s: IRQ %u: no room for more interrupt lines", owner, gsi);
	m->irqs[m->nr_irqs++] = (struct machine_irq){ .gsi = gsi, .owner = owner, .shared = shared };
	return 0;
}

int machine_claim(struct machine *m, enum bus_space space, uint64_t base, uint64_t len,
		  const char *name, const struct bus_ops *ops, void *opaque)
{
	int ret = bus_register(m->bus[space], base, len, name, ops, opaque);

	if (ret >= 0)
		return ret;
	return report(ret, "%s: cannot claim %s %#llx-%#llx: %s", name, bus_space_name(space),
		      (unsigned long long)base, (unsigned long long)(base + len - 1),
		      ret == -EEXIST ? "already in use" : ret == -ENOSPC ? "bus full" :
		      "invalid range");
}

int machine_watch_fd(struct machine *m, int fd, uint32_t events, event_fn fn, void *opaque)
{
	return event_loop_add(m->loop, fd, events, fn, opaque);
}

void machine_unwatch_fd(struct machine *m, int fd)
{
	event_loop_remove(m->loop, fd);
}

int machine_pm_listen(struct machine *m, void (*fn)(void *opaque, enum machine_pm_event ev),
		      void *opaque)
{
	if (m->pm_listener)
		return -EBUSY;
	m->pm_listener = fn;
	m->pm_listener_opaque = opaque;
	return 0;
}

void machine_pm_event(struct machine *m, enum machine_pm_event ev)
{
	if (m->pm_listener)
		m->pm_listener(m->pm_listener_opaque, ev);
}
