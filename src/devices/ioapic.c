// SPDX-License-Identifier: GPL-2.0-only
/*
 * The 82093AA-style IOAPIC in userspace, for `irqchip split`: KVM keeps the
 * LAPICs and qlite the IOAPIC, so that an IOMMU can remap what the IOAPIC
 * sends (a remappable-format redirection entry means nothing to KVM's own
 * IOAPIC). Version 0x20, as QEMU's with a split irqchip: 24 pins and the
 * EOI register.
 *
 * A pin's interrupt is an MSI write: redirection entry bits 63:48 become
 * address bits 19:4 (the destination, or the remapping handle and format
 * bit), bit 11 address bit 2, and vector, delivery and trigger mode the
 * data; the machine sends it through the IOMMU as requester
 * MACHINE_SID_IOAPIC. A level-triggered interrupt also becomes KVM's route
 * for its GSI: KVM learns from the routes which vectors to report back on
 * EOI (KVM_EXIT_IOAPIC_EOI, ioapic_eoi()), and Remote IRR is cleared then.
 *
 * Edge interrupts on a masked pin are latched in IRR and delivered on
 * unmask, as KVM's and QEMU's IOAPICs do.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/devices.h"
#include "qlite/platform.h"
#include "qlite/util.h"

#define IOAPIC_REG_SEL		0x00
#define IOAPIC_REG_WIN		0x10
#define IOAPIC_REG_EOI		0x40

#define IOAPIC_ID		0x00
#define IOAPIC_VER		0x01
#define IOAPIC_ARB		0x02
#define IOAPIC_REDTBL		0x10	/* pin n: 0x10 + 2n (low), 0x11 + 2n (high) */

#define IOAPIC_VERSION		0x20

#define RTE_VECTOR		0xffULL
#define RTE_DELIVERY_SHIFT	8
#define RTE_DELIVERY		(7ULL << RTE_DELIVERY_SHIFT)
#define RTE_DEST_MODE		(1ULL << 11)
#define RTE_DELIV_STATUS	(1ULL << 12)	/* read-only */
#define RTE_POLARITY		(1ULL << 13)
#define RTE_REMOTE_IRR		(1ULL << 14)	/* read-only */
#define RTE_LEVEL		(1ULL << 15)
#define RTE_MASKED		(1ULL << 16)
#define RTE_RO_BITS		(RTE_DELIV_STATUS | RTE_REMOTE_IRR)

#define MSI_ADDR_BASE		0xfee00000ULL

/* Registers as the exit report names them. */
static const char *const ioapic_reg_names[] = {
	[IOAPIC_REG_SEL] = "IOREGSEL",
	[IOAPIC_REG_WIN] = "IOWIN",
	[IOAPIC_REG_EOI] = "EOI",
};

struct ioapic {
	struct machine *m;
	pthread_mutex_t lock;	/* vCPUs' MMIO and EOIs against devices' lines */
	uint32_t sel;
	uint8_t id;
	uint64_t rte[IOAPIC_NR_PINS];
	uint32_t irr;		/* pins whose interrupt waits for delivery */
	uint32_t level;		/* each pin's line */
	/* The route KVM has for each pin: what it reports EOIs for. */
	struct { bool valid; uint64_t addr; uint32_t data; } route[IOAPIC_NR_PINS];
	_Atomic uint64_t delivered, blocked, eois;
};

static bool pin_is_level(const struct ioapic *io, unsigned pin)
{
	return io->rte[pin] & RTE_LEVEL;
}

/* The MSI the pin's redirection entry stands for, before any remapping. */
static void rte_to_msi(uint64_t rte, uint64_t *addr, uint32_t *data)
{
	*addr = MSI_ADDR_BASE | ((rte >> 48) & 0xffff) << 4 | (rte & RTE_DEST_MODE ? 1u << 2 : 0);
	*data = (uint32_t)(rte & RTE_VECTOR) | (uint32_t)(rte & RTE_DELIVERY) |
		(rte & RTE_LEVEL ? (1u << 15) | (1u << 14) : 0);
}

/* Under the lock: keep KVM's route for a level pin where its interrupts go now. */
static void route_pin(struct ioapic *io, unsigned pin, uint64_t addr, uint32_t data)
{
	const struct machine_accel_ops *a = io->m->accel;

	if (!a || !a->ioapic_route)
		return;
	if (io->route[pin].valid && io->route[pin].addr == addr && io->route[pin].data == data)
		return;
	if (a->ioapic_route(io->m->accel_ctx, pin, true, addr, data) < 0)
		return;
	io->route[pin].valid = true;
	io->route[pin].addr = addr;
	io->route[pin].data = data;
}

/* Under the lock: send what waits on pin, when it may go. */
static void service_pin(struct ioapic *io, unsigned pin)
{
	struct machine *m = io->m;
	uint64_t rte = io->rte[pin], addr;
	uint32_t data;

	if (!(io->irr & (1u << pin)) || (rte & RTE_MASKED))
		return;
	if (pin_is_level(io, pin) && (rte & RTE_REMOTE_IRR))
		return;
	rte_to_msi(rte, &addr, &data);
	if (m->iommu && m->iommu->msi_translate(m->iommu_opaque, MACHINE_SID_IOAPIC, &addr, &data) < 0) {
		/* Blocked by interrupt remapping (the IOMMU recorded the fault): dropped. */
		io->irr &= ~(1u << pin);
		atomic_fetch_add_explicit(&io->blocked, 1, memory_order_relaxed);
		return;
	}
	if (pin_is_level(io, pin)) {
		route_pin(io, pin, addr, data);
		io->rte[pin] |= RTE_REMOTE_IRR;
	} else {
		io->irr &= ~(1u << pin);
	}
	atomic_fetch_add_explicit(&io->delivered, 1, memory_order_relaxed);
	m->msi_send(m, addr, data);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, int level)
{
	uint32_t bit;

	if (pin >= IOAPIC_NR_PINS)
		return;
	bit = 1u << pin;
	pthread_mutex_lock(&io->lock);
	if (level) {
		/* An edge pin takes a rising edge only; a level pin is pending while high. */
		if (pin_is_level(io, pin) || !(io->level & bit))
			io->irr |= bit;
		io->level |= bit;
		service_pin(io, pin);
	} else {
		io->level &= ~bit;
		if (pin_is_level(io, pin))
			io->irr &= ~bit;
	}
	pthread_mutex_unlock(&io->lock);
}

/* Under the lock: the LAPICs accepted an EOI of vector; level pins on it may fire again. */
static void eoi_locked(struct ioapic *io, unsigned vector)
{
	for (unsigned pin = 0; pin < IOAPIC_NR_PINS; pin++) {
		uint64_t rte = io->rte[pin];

		if ((rte & RTE_VECTOR) != vector || !(rte & RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		if (pin_is_level(io, pin) && (io->level & (1u << pin))) {
			io->irr |= 1u << pin;
			service_pin(io, pin);
		}
	}
}

void ioapic_eoi(struct ioapic *io, unsigned vector)
{
	atomic_fetch_add_explicit(&io->eois, 1, memory_order_relaxed);
	pthread_mutex_lock(&io->lock);
	eoi_locked(io, vector & 0xff);
	pthread_mutex_unlock(&io->lock);
}

static uint32_t reg_read(struct ioapic *io)
{
	unsigned pin;

	switch (io->sel) {
	case IOAPIC_ID:
		return (uint32_t)io->id << 24;
	case IOAPIC_VER:
		return (IOAPIC_NR_PINS - 1) << 16 | IOAPIC_VERSION;
	case IOAPIC_ARB:
		return (uint32_t)io->id << 24;
	}
	if (io->sel < IOAPIC_REDTBL || io->sel >= IOAPIC_REDTBL + 2 * IOAPIC_NR_PINS)
		return 0;
	pin = (io->sel - IOAPIC_REDTBL) / 2;
	return io->sel & 1 ? (uint32_t)(io->rte[pin] >> 32) : (uint32_t)io->rte[pin];
}

static void reg_write(struct ioapic *io, uint32_t val)
{
	uint64_t old, new;
	unsigned pin;

	if (io->sel == IOAPIC_ID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (io->sel < IOAPIC_REDTBL || io->sel >= IOAPIC_REDTBL + 2 * IOAPIC_NR_PINS)
		return;
	pin = (io->sel - IOAPIC_REDTBL) / 2;
	old = io->rte[pin];
	if (io->sel & 1)
		new = (old & 0xffffffffULL) | (uint64_t)val << 32;
	else
		new = (old & ~0xffffffffULL & ~RTE_RO_BITS) | (val & ~RTE_RO_BITS) |
		      (old & RTE_RO_BITS);
	/* An edge pin has no Remote IRR (82093AA: undefined; KVM and QEMU clear it). */
	if (!(new & RTE_LEVEL))
		new &= ~RTE_REMOTE_IRR;
	io->rte[pin] = new;
	if (pin_is_level(io, pin) && (io->level & (1u << pin)))
		io->irr |= 1u << pin;
	service_pin(io, pin);
}

static void ioapic_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct ioapic *io = opaque;
	uint32_t v = 0;

	pthread_mutex_lock(&io->lock);
	if (offset == IOAPIC_REG_SEL)
		v = io->sel;
	else if (offset == IOAPIC_REG_WIN)
		v = reg_read(io);
	pthread_mutex_unlock(&io->lock);
	/* Narrower reads see the low bytes of the register (as KVM's IOAPIC). */
	v = htole32(v);
	memcpy(data, &v, len < 4 ? len : 4);
	if (len > 4)
		memset((char *)data + 4, 0, len - 4);
}

static void ioapic_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct ioapic *io = opaque;
	uint32_t v = 0;

	memcpy(&v, data, len < 4 ? len : 4);
	v = le32toh(v);
	pthread_mutex_lock(&io->lock);
	if (offset == IOAPIC_REG_SEL)
		io->sel = v & 0xff;
	else if (offset == IOAPIC_REG_WIN)
		reg_write(io, v);
	else if (offset == IOAPIC_REG_EOI) {
		atomic_fetch_add_explicit(&io->eois, 1, memory_order_relaxed);
		eoi_locked(io, v & 0xff);
	}
	pthread_mutex_unlock(&io->lock);
}

static const char *ioapic_reg_name(void *opaque, uint64_t offset)
{
	if (offset < ARRAY_SIZE(ioapic_reg_names) && ioapic_reg_names[offset])
		return ioapic_reg_names[offset];
	return NULL;
}

static const struct bus_ops ioapic_ops = {
	.read = ioapic_read,
	.write = ioapic_write,
	.reg_name = ioapic_reg_name,
};

static void ioapic_report(void *opaque, struct device_report *out)
{
	struct ioapic *io = opaque;

	snprintf(out->path, sizeof(out->path), "qlite's (irqchip split): MSIs%s, EOIs from KVM",
		 io->m->iommu && io->m->iommu_intremap ? " through interrupt remapping" : "");
	device_report_add(out, "interrupts", atomic_load_explicit(&io->delivered, memory_order_relaxed));
	device_report_add(out, "blocked_by_iommu", atomic_load_explicit(&io->blocked, memory_order_relaxed));
	device_report_add(out, "eois", atomic_load_explicit(&io->eois, memory_order_relaxed));
}

static void ioapic_release(void *state)
{
	struct ioapic *io = state;

	pthread_mutex_destroy(&io->lock);
	free(io);
}

struct ioapic *ioapic_create(struct machine *m)
{
	struct ioapic *io = machine_alloc_device(m, sizeof(*io), ioapic_release);

	if (!io)
		return NULL;
	io->m = m;
	pthread_mutex_init(&io->lock, NULL);
	for (unsigned pin = 0; pin < IOAPIC_NR_PINS; pin++)
		io->rte[pin] = RTE_MASKED;
	if (machine_claim(m, BUS_MMIO, IOAPIC_BASE, IOAPIC_SIZE, "ioapic", &ioapic_ops, io) < 0)
		return NULL;
	if (machine_add_report(m, "ioapic", "0xfec00000, 24 pins, version 0x20 (irqchip split)",
			       ioapic_report, io) < 0)
		return NULL;
	m->ioapic = io;
	return io;
}
