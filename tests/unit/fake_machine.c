// SPDX-License-Identifier: GPL-2.0-only
/* Fake machine services for device unit tests; see fake_machine.h. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

static void fake_request_stop(struct machine *m, enum stop_reason why, int exit_status,
			      const char *detail)
{
	struct fake_machine *fm = to_fake(m);

	if (!fm->nr_stops++) {
		fm->stop_why = why;
		fm->stop_status = exit_status;
		snprintf(fm->stop_detail, sizeof(fm->stop_detail), "%s", detail ? detail : "");
	}
}

static void fake_sleep(struct machine *m)
{
	struct fake_machine *fm = to_fake(m);

	/* The PM device never asks twice without a wake between. */
	assert_int_equal(fm->nr_sleeps, fm->nr_wakes);
	fm->nr_sleeps++;
}

static void fake_wake(struct machine *m)
{
	struct fake_machine *fm = to_fake(m);

	assert_int_equal(fm->nr_sleeps, fm->nr_wakes + 1);
	fm->nr_wakes++;
}

/* ---- the fake kernel ---- */

static int fake_ioeventfd(void *ctx, enum bus_space space, uint64_t addr, unsigned len,
			  bool match, uint64_t value, int efd, bool assign)
{
	struct fake_machine *fm = ctx;

	if (assign) {
		assert_true(fm->nr_ioeventfds < FAKE_MAX_FDS);
		fm->ioeventfds[fm->nr_ioeventfds++] = (struct fake_ioeventfd){
			.space = space, .addr = addr, .len = len, .match = match,
			.value = value, .efd = efd,
		};
		return 0;
	}
	for (unsigned i = 0; i < fm->nr_ioeventfds; i++) {
		struct fake_ioeventfd *io = &fm->ioeventfds[i];

		if (io->efd == efd && io->addr == addr && io->space == space) {
			*io = fm->ioeventfds[--fm->nr_ioeventfds];
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_irqfd(void *ctx, int efd, unsigned gsi, bool assign)
{
	struct fake_machine *fm = ctx;

	if (assign) {
		assert_true(fm->nr_irqfds < FAKE_MAX_FDS);
		fm->irqfds[fm->nr_irqfds++] = (struct fake_irqfd){ .efd = efd, .gsi = gsi };
		return 0;
	}
	for (unsigned i = 0; i < fm->nr_irqfds; i++) {
		if (fm->irqfds[i].efd == efd && fm->irqfds[i].gsi == gsi) {
			fm->irqfds[i] = fm->irqfds[--fm->nr_irqfds];
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_msi_route(void *ctx, int *gsi, uint64_t addr, uint32_t data)
{
	struct fake_machine *fm = ctx;

	if (*gsi < 0) {
		assert_true(fm->nr_routes < FAKE_MAX_FDS);
		*gsi = 24 + fm->nr_routes;
		fm->routes[fm->nr_routes++] = (struct fake_route){ .gsi = *gsi };
	}
	for (unsigned i = 0; i < fm->nr_routes; i++) {
		if (fm->routes[i].gsi == *gsi) {
			fm->routes[i].addr = addr;
			fm->routes[i].data = data;
			fm->route_writes++;
			return 0;
		}
	}
	return -ENOENT;
}

static void fake_msi_route_free(void *ctx, int gsi)
{
	struct fake_machine *fm = ctx;

	for (unsigned i = 0; i < fm->nr_routes; i++)
		if (fm->routes[i].gsi == gsi)
			fm->routes[i] = fm->routes[--fm->nr_routes];
}

static bool fake_coalesced_supported(void *ctx)
{
	return true;
}

static int fake_coalesced_mmio(void *ctx, uint64_t addr, uint64_t len, bool assign)
{
	struct fake_machine *fm = ctx;

	if (assign) {
		assert_true(fm->nr_zones < FAKE_MAX_FDS);
		fm->zones[fm->nr_zones++] = (struct fake_zone){ .addr = addr, .len = len };
		return 0;
	}
	for (unsigned i = 0; i < fm->nr_zones; i++) {
		if (fm->zones[i].addr == addr && fm->zones[i].len == len) {
			fm->zones[i] = fm->zones[--fm->nr_zones];
			return 0;
		}
	}
	return -ENOENT;
}

/* Recorded only: the test plays the vCPU that drains (fake_coalesced_drain). */
static void fake_coalesced_flush(void *ctx)
{
	struct fake_machine *fm = ctx;

	fm->flush_requests++;
}

/* Recorded, or failed with chip_setup_error. */
static int fake_pic_setup(void *ctx, const struct machine_pic_setup *pic)
{
	struct fake_machine *fm = ctx;

	if (fm->chip_setup_error)
		return fm->chip_setup_error;
	fm->pic = *pic;
	fm->nr_pic_setups++;
	return 0;
}

static int fake_pit_setup(void *ctx, const struct machine_pit_setup *pit)
{
	struct fake_machine *fm = ctx;

	if (fm->chip_setup_error)
		return fm->chip_setup_error;
	fm->pit = *pit;
	fm->nr_pit_setups++;
	return 0;
}

/* KVM's routes of the IOAPIC pins with a split irqchip, as qlite's IOAPIC sets them. */
static int fake_ioapic_route(void *ctx, unsigned pin, bool valid, uint64_t addr, uint32_t data)
{
	struct fake_machine *fm = ctx;

	if (pin >= FAKE_IOAPIC_PINS)
		return -EINVAL;
	fm->ioapic_routes[pin] = (struct fake_route){ .gsi = valid ? (int)pin : -1,
						      .addr = addr, .data = data };
	fm->nr_ioapic_route_calls++;
	return 0;
}

static const struct machine_accel_ops fake_accel_ops = {
	.ioapic_route = fake_ioapic_route,
	.ioeventfd = fake_ioeventfd,
	.irqfd = fake_irqfd,
	.msi_route = fake_msi_route,
	.msi_route_free = fake_msi_route_free,
	.coalesced_mmio_supported = fake_coalesced_supported,
	.coalesced_mmio = fake_coalesced_mmio,
	.coalesced_flush = fake_coalesced_flush,
	.pic_setup = fake_pic_setup,
	.pit_setup = fake_pit_setup,
};

/* Like KVM: a write inside a coalesced zone joins the ring (while it has room). */
static bool fake_kernel_coalesces(struct fake_machine *fm, uint64_t addr, unsigned len,
				  uint64_t val)
{
	if (fm->ring_len == FAKE_MAX_CALLS)
		return false;
	for (unsigned i = 0; i < fm->nr_zones; i++) {
		const struct fake_zone *z = &fm->zones[i];

		if (addr < z->addr || addr + len > z->addr + z->len)
			continue;
		fm->ring[fm->ring_len] = (struct fake_coalesced){ .addr = addr, .len = len };
		le_store(fm->ring[fm->ring_len++].data, val, len);
		fm->nr_coalesced++;
		return true;
	}
	return false;
}

void fake_coalesced_drain(struct fake_machine *fm)
{
	for (unsigned i = 0; i < fm->ring_len; i++) {
		bus_dispatch(fm->m.bus[BUS_MMIO], fm->ring[i].addr, fm->ring[i].data,
			     fm->ring[i].len, true);
		fm->nr_drained++;
	}
	fm->ring_len = 0;
}

/* Like KVM: a write matching an ioeventfd signals it and never exits. */
static bool fake_kernel_takes(struct fake_machine *fm, enum bus_space space, uint64_t addr,
			      unsigned len, uint64_t val)
{
	uint64_t one = 1;

	for (unsigned i = 0; i < fm->nr_ioeventfds; i++) {
		const struct fake_ioeventfd *io = &fm->ioeventfds[i];

		if (io->space != space || io->addr != addr || io->len != len)
			continue;
		if (io->match && io->value != val)
			continue;
		assert_int_equal(write(io->efd, &one, sizeof(one)), sizeof(one));
		return true;
	}
	return false;
}

/* ---- the machine ---- */

struct fake_machine *fake_machine_create(void)
{
	struct fake_machine *fm = calloc(1, sizeof(*fm));

	assert_non_null(fm);
	fm->m.bus[BUS_PIO] = bus_create(BUS_PIO);
	fm->m.bus[BUS_MMIO] = bus_create(BUS_MMIO);
	assert_non_null(fm->m.bus[BUS_PIO]);
	assert_non_null(fm->m.bus[BUS_MMIO]);
	fm->m.loop = event_loop_create();
	assert_non_null(fm->m.loop);
	fm->m.opaque = fm;
	fm->m.irq_set = fake_irq_set;
	fm->m.msi_send = fake_msi_send;
	fm->m.request_stop = fake_request_stop;
	fm->m.sleep = fake_sleep;
	fm->m.wake = fake_wake;
	return fm;
}

struct fake_machine *fake_machine_create_accel(void)
{
	struct fake_machine *fm = fake_machine_create();

	fm->m.accel = &fake_accel_ops;
	fm->m.accel_ctx = fm;
	return fm;
}

void fake_machine_destroy(struct fake_machine *fm)
{
	machine_release_all(&fm->m);
	event_loop_destroy(fm->m.loop);
	bus_destroy(fm->m.bus[BUS_PIO]);
	bus_destroy(fm->m.bus[BUS_MMIO]);
	free(fm);
}

void fake_machine_clear_calls(struct fake_machine *fm)
{
	fm->nr_irq_calls = 0;
	fm->nr_msi_calls = 0;
}

unsigned fake_exits(const struct fake_machine *fm)
{
	return fm->nr_exits;
}

uint32_t fake_pio_read(struct fake_machine *fm, uint16_t port, unsigned len)
{
	uint8_t buf[4];

	assert_true(len == 1 || len == 2 || len == 4);
	fm->nr_exits++;
	fake_coalesced_drain(fm);
	bus_dispatch(fm->m.bus[BUS_PIO], port, buf, len, false);
	return le_load(buf, len);
}

void fake_pio_write(struct fake_machine *fm, uint16_t port, unsigned len, uint32_t val)
{
	uint8_t buf[4];

	assert_true(len == 1 || len == 2 || len == 4);
	if (fake_kernel_takes(fm, BUS_PIO, port, len, val))
		return;
	fm->nr_exits++;
	fake_coalesced_drain(fm);
	le_store(buf, val, len);
	bus_dispatch(fm->m.bus[BUS_PIO], port, buf, len, true);
}

uint64_t fake_mmio_read(struct fake_machine *fm, uint64_t addr, unsigned len)
{
	uint8_t buf[8];

	assert_true(len == 1 || len == 2 || len == 4 || len == 8);
	fm->nr_exits++;
	fake_coalesced_drain(fm);
	bus_dispatch(fm->m.bus[BUS_MMIO], addr, buf, len, false);
	return le_load(buf, len);
}

void fake_mmio_write(struct fake_machine *fm, uint64_t addr, unsigned len, uint64_t val)
{
	uint8_t buf[8];

	assert_true(len == 1 || len == 2 || len == 4 || len == 8);
	if (fake_kernel_takes(fm, BUS_MMIO, addr, len, val) ||
	    fake_kernel_coalesces(fm, addr, len, val))
		return;
	fm->nr_exits++;
	fake_coalesced_drain(fm);
	le_store(buf, val, len);
	bus_dispatch(fm->m.bus[BUS_MMIO], addr, buf, len, true);
}

static uint32_t config_address(unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | slot << 11 | fn << 8 | (reg & 0xfc);
}

uint32_t fake_pci_cfg_read(struct fake_machine *fm, unsigned slot, unsigned fn, unsigned reg,
			   unsigned len)
{
	fake_pio_write(fm, 0xcf8, 4, config_address(slot, fn, reg));
	return fake_pio_read(fm, 0xcfc + (reg & 3), len);
}

void fake_pci_cfg_write(struct fake_machine *fm, unsigned slot, unsigned fn, unsigned reg,
			unsigned len, uint32_t val)
{
	fake_pio_write(fm, 0xcf8, 4, config_address(slot, fn, reg));
	fake_pio_write(fm, 0xcfc + (reg & 3), len, val);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

int fake_run_io(struct fake_machine *fm, int n, int timeout_ms)
{
	struct timespec t0;
	int done = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < n) {
		long left = timeout_ms - ms_since(&t0);
		int ret;

		if (left <= 0)
			break;
		ret = event_loop_run_once(fm->m.loop, (int)left);
		assert_true(ret >= 0);
		done += ret;
	}
	return done;
}

uint64_t fake_irqfd_drain(struct fake_machine *fm, unsigned gsi)
{
	for (unsigned i = 0; i < fm->nr_irqfds; i++) {
		uint64_t n;

		if (fm->irqfds[i].gsi != gsi)
			continue;
		if (read(fm->irqfds[i].efd, &n, sizeof(n)) != sizeof(n))
			return 0;
		return n;
	}
	return 0;
}
