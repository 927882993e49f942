/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a device sees of the machine it is plugged into: the buses, guest
 * RAM, the PCI host, and three services (interrupt lines, MSIs, stopping
 * the VM). Devices never see struct vm, so they can be unit-tested against
 * a machine with fake services.
 */
#ifndef QLITE_MACHINE_H
#define QLITE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "guest_mem.h"

enum stop_reason {
	STOP_NONE,
	STOP_RESET,		/* guest reset (i8042, triple fault, KVM system event) */
	STOP_POWEROFF,		/* guest powered off */
	STOP_DEBUG_EXIT,	/* isa-debug-exit style port */
	STOP_SIGNAL,		/* SIGINT/SIGTERM on the host */
	STOP_USER_QUIT,		/* Ctrl-A x on the console */
	STOP_ERROR,		/* fatal exit, reported by the vCPU thread */
};

struct pci_host;

struct machine {
	struct bus *bus[BUS_NR_SPACES];
	struct guest_mem *mem;
	struct pci_host *pci;
	void *opaque;		/* the owner (struct vm); services use it */

	/* Level of a GSI on the in-kernel IOAPIC/PIC (edge devices pulse 1 then 0). */
	void (*irq_set)(struct machine *m, unsigned gsi, int level);
	void (*msi_send)(struct machine *m, uint64_t addr, uint32_t data);
	/* Ask the VM to stop; the first request wins. Safe from any thread. */
	void (*request_stop)(struct machine *m, enum stop_reason why, int exit_status);

	/* Device states the machine frees at teardown (see machine_adopt). */
	struct machine_owned *owned;
	/* Interrupt lines devices declared, for `qlite check` and overlap checks. */
	struct machine_irq { unsigned gsi; const char *owner; bool shared; } irqs[32];
	unsigned nr_irqs;
};

/*
 * Declare that owner drives gsi. -EBUSY when another device holds it and
 * either side cannot share (ISA lines are edge and exclusive; PCI INTx shares).
 */
int machine_claim_irq(struct machine *m, unsigned gsi, const char *owner, bool shared);

/*
 * Hand a device's state to the machine: release(state) runs when the
 * machine is torn down, in reverse order of adoption. Returns -ENOMEM.
 */
int machine_adopt(struct machine *m, void *state, void (*release)(void *state));
void machine_release_all(struct machine *m);

static inline int machine_register(struct machine *m, enum bus_space space, uint64_t base,
				   uint64_t len, const char *name,
				   const struct bus_ops *ops, void *opaque)
{
	return bus_register(m->bus[space], base, len, name, ops, opaque);
}

#endif
