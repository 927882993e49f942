// SPDX-License-Identifier: GPL-2.0-only
/* Fake machine services for device unit tests; see fake_machine.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fake_machine.h"
#include "qlite/util.h"

static struct fake_machine *to_fake(struct machine *m)
{
	return m->opaque;
}

static void fake_irq_set(struct machine *m, unsigned gsi, int level)
{
	struct fake_machine *fm = to_fake(m);

	assert_in_range(gsi, 0, FAKE_MAX_GSI - 1);
	assert_true(level == 0 || level == 1);
	assert_true(fm->nr_irq_calls < FAKE_MAX_CALLS);
	fm->irq_calls[fm->nr_irq_calls++] = (struct fake_irq_call){ gsi, level };
	fm->irq_level[gsi] = level;
}

static void fake_msi_send(struct machine *m, uint64_t addr, uint32_t data)
{
	struct fake_machine *fm = to_fake(m);

	assert_true(fm->nr_msi_calls < FAKE_MAX_CALLS);
	fm->msi_calls[fm->nr_msi_calls++] = (struct fake_msi_call){ addr, data };
}

static void fake_request_stop(struct machine *m, enum stop_reason why, int exit_status)
{
	struct fake_machine *fm = to_fake(m);

	if (!fm->nr_stops++) {
		fm->stop_why = why;
		fm->stop_status = exit_status;
	}
}

struct fake_machine *fake_machine_create(void)
{
	struct fake_machine *fm = calloc(1, sizeof(*fm));

	assert_non_null(fm);
	fm->m.bus[BUS_PIO] = bus_create(BUS_PIO);
	fm->m.bus[BUS_MMIO] = bus_create(BUS_MMIO);
	assert_non_null(fm->m.bus[BUS_PIO]);
	assert_non_null(fm->m.bus[BUS_MMIO]);
	fm->m.opaque = fm;
	fm->m.irq_set = fake_irq_set;
	fm->m.msi_send = fake_msi_send;
	fm->m.request_stop = fake_request_stop;
	return fm;
}

void fake_machine_destroy(struct fake_machine *fm)
{
	machine_release_all(&fm->m);
	bus_destroy(fm->m.bus[BUS_PIO]);
	bus_destroy(fm->m.bus[BUS_MMIO]);
	free(fm);
}

void fake_machine_clear_calls(struct fake_machine *fm)
{
	fm->nr_irq_calls = 0;
	fm->nr_msi_calls = 0;
}

uint32_t fake_pio_read(struct fake_machine *fm, uint16_t port, unsigned len)
{
	uint8_t buf[4];

	assert_true(len == 1 || len == 2 || len == 4);
	bus_dispatch(fm->m.bus[BUS_PIO], port, buf, len, false);
	return le_load(buf, len);
}

void fake_pio_write(struct fake_machine *fm, uint16_t port, unsigned len, uint32_t val)
{
	uint8_t buf[4];

	assert_true(len == 1 || len == 2 || len == 4);
	le_store(buf, val, len);
	bus_dispatch(fm->m.bus[BUS_PIO], port, buf, len, true);
}

uint64_t fake_mmio_read(struct fake_machine *fm, uint64_t addr, unsigned len)
{
	uint8_t buf[8];

	assert_true(len == 1 || len == 2 || len == 4 || len == 8);
	bus_dispatch(fm->m.bus[BUS_MMIO], addr, buf, len, false);
	return le_load(buf, len);
}

void fake_mmio_write(struct fake_machine *fm, uint64_t addr, unsigned len, uint64_t val)
{
	uint8_t buf[8];

	assert_true(len == 1 || len == 2 || len == 4 || len == 8);
	le_store(buf, val, len);
	bus_dispatch(fm->m.bus[BUS_MMIO], addr, buf, len, true);
}
