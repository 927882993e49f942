/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A machine for device unit tests: two real buses and fake services that
 * record every call, so a test can assert on interrupt edges and stops.
 */
#ifndef QLITE_TEST_FAKE_MACHINE_H
#define QLITE_TEST_FAKE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "qlite/machine.h"

#define FAKE_MAX_CALLS	256
#define FAKE_MAX_GSI	32

struct fake_irq_call {
	unsigned gsi;
	int level;
};

struct fake_msi_call {
	uint64_t addr;
	uint32_t data;
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
};

struct fake_machine *fake_machine_create(void);
void fake_machine_destroy(struct fake_machine *fm);
void fake_machine_clear_calls(struct fake_machine *fm);

/* PIO/MMIO accesses as a vCPU exit would make them; return the value read. */
uint32_t fake_pio_read(struct fake_machine *fm, uint16_t port, unsigned len);
void fake_pio_write(struct fake_machine *fm, uint16_t port, unsigned len, uint32_t val);
uint64_t fake_mmio_read(struct fake_machine *fm, uint64_t addr, unsigned len);
void fake_mmio_write(struct fake_machine *fm, uint64_t addr, unsigned len, uint64_t val);

#endif
