// SPDX-License-Identifier: GPL-2.0-only
/* Ownership of device states: freed with the machine, newest first. */
#include <errno.h>
#include <stdlib.h>

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

void machine_release_all(struct machine *m)
{
	while (m->owned) {
		struct machine_owned *o = m->owned;

		m->owned = o->next;
		o->release(o->state);
		free(o);
	}
}

int machine_claim_irq(struct machine *m, unsigned gsi, const char *owner, bool shared)
{
	for (unsigned i = 0; i < m->nr_irqs; i++) {
		if (m->irqs[i].gsi != gsi)
			continue;
		if (!shared || !m->irqs[i].shared) {
			pr_err("%s: IRQ %u is already used by %s", owner, gsi, m->irqs[i].owner);
			return -EBUSY;
		}
	}
	if (m->nr_irqs >= ARRAY_SIZE(m->irqs))
		return -ENOSPC;
	m->irqs[m->nr_irqs++] = (struct machine_irq){ .gsi = gsi, .owner = owner, .shared = shared };
	return 0;
}
