// SPDX-License-Identifier: GPL-2.0-only
/* Ownership of device states: freed with the machine, newest first. */
#include <errno.h>
#include <stdlib.h>

#include "qlite/machine.h"

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
