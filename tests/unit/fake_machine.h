/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A machine for device unit tests: two real buses, a real I/O loop, fake
 * interrupt, stop and sleep/wake services that record every call, and a fake "kernel"
 * for the in-kernel paths of doorbells and interrupt events: it records
 * KVM_IOEVENTFD/KVM_IRQFD/MSI-route calls and, like KVM, signals an
 * ioeventfd when a guest write matches one (fake_pio_write/fake_mmio_write).
 * So a device runs its doorbells, interrupt events, timers and disk I/O
 * through the machine's real services, without /dev/kvm.
 */
#ifndef QLITE_TEST_FAKE_MACHINE_H
#define QLITE_TEST_FAKE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "qlite/machine.h"

#define FAKE_MAX_CALLS	256
#define FAKE_MAX_GSI	32
#define FAKE_MAX_FDS	32

struct fake_irq_call {
	unsigned gsi;
	int level;
};

struct fake_msi_call {
	uint64_t addr;
	uint32_t data;
};

struct fake_ioeventfd {
	enum bus_space space;
	uint64_t addr, value;
	unsigned len;
	bool match;
	int efd;
};

struct fake_irqfd {
	int efd;
	unsigned gsi;
};

struct fake_route {
	int gsi;
	uint64_t addr;
	uint32_t data;
};

struct fake_zone {
	uint64_t addr, len;
};

/* A write the fake kernel queued in its coalesced MMIO ring. */
struct fake_coalesced {
	uint64_t addr;
	unsigned len;
	uint8_t data[8];
};

struct fake_machine {
	struct machine m;

	struct fake_irq_call irq_calls[FAKE_MAX_CALLS];
	unsigned nr_irq_calls;
	int irq_level[FAKE_MAX_GSI];	/* last level set per GSI */

	struct fake_msi_call msi_calls[FAKE_MAX_CALLS];
	unsigned nr_msi_calls;

	unsigned nr_stops;		/* every request, not only the first */
	enum stop_reason stop_why;	/* the first request, as the VM keeps it */
	int stop_status;
	char stop_detail[256];
	unsigned nr_exits;		/* accesses that reached the bus (fake_exits) */
	unsigned nr_sleeps, nr_wakes;	/* machine->sleep and ->wake calls */

	/* The fake kernel (m.accel is set by fake_machine_create_accel only). */
	struct fake_ioeventfd ioeventfds[FAKE_MAX_FDS];
	unsigned nr_ioeventfds;
	struct fake_irqfd irqfds[FAKE_MAX_FDS];
	unsigned nr_irqfds;
	struct fake_route routes[FAKE_MAX_FDS];
	unsigned nr_routes;
	unsigned route_writes;		/* msi_route calls that changed the table */
	/*
	 * Coalesced MMIO, as KVM does it: a write inside a zone joins the ring
	 * and does not exit; the ring is drained, in order, before the next
	 * access that exits (as a vCPU drains it before handling an exit).
	 */
	struct fake_zone zones[FAKE_MAX_FDS];
	unsigned nr_zones;
	struct fake_coalesced ring[FAKE_MAX_CALLS];
	unsigned ring_len;
	unsigned nr_coalesced;		/* writes queued instead of exiting */
	unsigned nr_drained;		/* of them, dispatched to the bus */
	unsigned flush_requests;	/* coalesced_flush calls: someone needs the ring drained */
	/* The legacy chips' firmware state, as last handed over; how many times; errno to fail with. */
	struct machine_pic_setup pic;
	struct machine_pit_setup pit;
	unsigned nr_pic_setups, nr_pit_setups;
	int chip_setup_error;
	/* split irqchip: each IOAPIC pin's route (gsi -1: none) and how many route updates. */
#define FAKE_IOAPIC_PINS	24
	struct fake_route ioapic_routes[FAKE_IOAPIC_PINS];
	unsigned nr_ioapic_route_calls;
};

/* Every service in userspace (no accel), as on a KVM without ioeventfd/irqfd. */
struct fake_machine *fake_machine_create(void);
/* With the fake kernel's ioeventfd, irqfd and MSI routes. */
struct fake_machine *fake_machine_create_accel(void);
void fake_machine_destroy(struct fake_machine *fm);
void fake_machine_clear_calls(struct fake_machine *fm);

/* PIO/MMIO accesses as a vCPU exit would make them; return the value read. */
uint32_t fake_pio_read(struct fake_machine *fm, uint16_t port, unsigned len);
void fake_pio_write(struct fake_machine *fm, uint16_t port, unsigned len, uint32_t val);
uint64_t fake_mmio_read(struct fake_machine *fm, uint64_t addr, unsigned len);
void fake_mmio_write(struct fake_machine *fm, uint64_t addr, unsigned len, uint64_t val);
/* A configuration cycle through 0xcf8/0xcfc (mechanism #1, bus 0), as a guest makes one. */
uint32_t fake_pci_cfg_read(struct fake_machine *fm, unsigned slot, unsigned fn, unsigned reg,
			   unsigned len);
void fake_pci_cfg_write(struct fake_machine *fm, unsigned slot, unsigned fn, unsigned reg,
			unsigned len, uint32_t val);
/*
 * How many of the writes so far exited to userspace (reached the bus); a
 * write the fake kernel took through an ioeventfd does not.
 */
unsigned fake_exits(const struct fake_machine *fm);

/* Dispatch the queued coalesced writes now (a vCPU's next exit does it anyway). */
void fake_coalesced_drain(struct fake_machine *fm);

/* Run the I/O loop until it has served n callbacks or timeout_ms passed; returns how many. */
int fake_run_io(struct fake_machine *fm, int n, int timeout_ms);
/* The value an irqfd's eventfd holds (drained): how many times the kernel would inject. */
uint64_t fake_irqfd_drain(struct fake_machine *fm, unsigned gsi);

#endif
