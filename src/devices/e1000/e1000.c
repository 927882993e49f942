// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Intel 82540EM Gigabit Ethernet controller, PCI 8086:100e, as QEMU's
 * `-device e1000` presents it and Linux's e1000 driver drives it:
 *   BAR0  128 KiB of registers (MMIO)
 *   BAR1  64 bytes of I/O: IOADDR at 0 selects a register, IODATA at 4
 *         reads or writes it (Linux resets this chip through it)
 *   INTA  level-triggered INTx
 * with subsystem 1af4:1100 and revision 3, QEMU's. Frames go to and come
 * from a network backend (include/qlite/net.h).
 *
 * `vdev e1000 [backend slirp|tap|socket ...] [mac M] [coalesce on|off]`.
 * With coalesce on, writes to the registers the guest does not wait on go
 * to KVM's coalesced MMIO ring instead of exiting, as QEMU arranges it for
 * e1000 (all of BAR0 but MDIC, ICR, ICS, IMS, IMC, TCTL and TDT); the vCPU
 * drains the ring in order before it handles its next PIO or MMIO exit.
 *
 * Locking: one mutex per device. Register accesses come from vCPU threads
 * (transmit runs there too), frames and the timer from the I/O thread.
 * net_backend_rx_ready() is called with the lock dropped.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e1000.h"
#include "qlite/devices.h"
#include "qlite/util.h"

#define E1000_VENDOR		0x8086
#define E1000_DEVICE		0x100e	/* 82540EM */
#define E1000_REVISION		0x03
#define E1000_SUBVENDOR		0x1af4	/* what QEMU gives its devices */
#define E1000_SUBDEVICE		0x1100
#define E1000_CLASS		0x020000	/* Ethernet controller */
#define E1000_IO_KEY		0x100000	/* IODATA counted under IOADDR's register */

/* Coalesced zones of BAR0: everything between the registers QEMU leaves out. */
static const uint32_t coalesce_excluded[] = { MDIC, ICR, ICS, IMS, IMC, TCTL, TDT };
#define E1000_COALESCE_ZONES	(sizeof(coalesce_excluded) / sizeof(coalesce_excluded[0]) + 1)

struct e1000_dev {
	struct e1000 s;			/* first: the engines see only this */
	bool coalesce;
	unsigned zones;			/* registered at zone_base */
	bool said_zone;
	uint64_t zone_base;
};

static void e1000_unlock(struct e1000 *s)
{
	bool kick = s->want_rx_ready;

	s->want_rx_ready = false;
	pthread_mutex_unlock(&s->lock);
	if (kick)
		net_backend_rx_ready(s->be);
}

/* ---- BAR0: the registers ---- */

static void e1000_mmio_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct e1000 *s = opaque;
	uint32_t off = (uint32_t)offset & ~3u, lo, hi = 0;

	pthread_mutex_lock(&s->lock);
	lo = e1000_reg_read(s, off);
	if (len == 8)
		hi = e1000_reg_read(s, off + 4);
	e1000_unlock(s);
	/* Narrower reads see their bytes of the register (its read side effects included). */
	le_store(data, ((uint64_t)hi << 32 | lo) >> (8 * (offset & 3)), len);
}

static void e1000_mmio_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct e1000 *s = opaque;
	uint64_t v = le_load(data, len);
	uint32_t off = (uint32_t)offset & ~3u;

	pthread_mutex_lock(&s->lock);
	if (len == 8) {
		e1000_reg_write(s, off, (uint32_t)v);
		e1000_reg_write(s, off + 4, v >> 32);
	} else {
		/* As QEMU widens them: the bytes in place, the rest of the register 0. */
		e1000_reg_write(s, off, (uint32_t)(v << (8 * (offset & 3))));
	}
	e1000_unlock(s);
}

static const char *e1000_mmio_name(void *opaque, uint64_t offset)
{
	(void)opaque;
	return e1000_reg_name((uint32_t)offset);
}

static uint64_t e1000_mmio_key(void *opaque, uint64_t offset)
{
	(void)opaque;
	return e1000_reg_key((uint32_t)offset);
}

static const struct bus_ops e1000_mmio_ops = {
	.read = e1000_mmio_read,
	.write = e1000_mmio_write,
	.reg_name = e1000_mmio_name,
	.reg_key = e1000_mmio_key,
};

/* ---- BAR1: IOADDR and IODATA ---- */

static void e1000_io_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct e1000 *s = opaque;
	uint32_t v = 0;

	pthread_mutex_lock(&s->lock);
	if (offset < IODATA)
		v = s->ioaddr >> (8 * offset);
	else if (offset == IODATA && len == 4 && s->ioaddr < E1000_MMIO_SIZE)
		v = e1000_reg_read(s, s->ioaddr);
	e1000_unlock(s);
	le_store(data, v, len);
}

static void e1000_io_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct e1000 *s = opaque;
	uint32_t v = (uint32_t)le_load(data, len);

	pthread_mutex_lock(&s->lock);
	if (offset < IODATA) {
		uint32_t mask = (len >= 4 ? ~0u : (1u << (8 * len)) - 1) << (8 * offset);

		s->ioaddr = ((s->ioaddr & ~mask) | ((v << (8 * offset)) & mask)) & 0x7fffc;
	} else if (offset == IODATA && len == 4 && s->ioaddr < E1000_MMIO_SIZE) {
		e1000_reg_write(s, s->ioaddr, v);
	}
	e1000_unlock(s);
}

/* IODATA accesses are counted under the register IOADDR selected, with its name. */
static uint64_t e1000_io_key(void *opaque, uint64_t offset)
{
	struct e1000 *s = opaque;
	uint32_t a = __atomic_load_n(&s->ioaddr, __ATOMIC_RELAXED);

	if (offset != IODATA || a >= E1000_MMIO_SIZE)
		return offset;
	return E1000_IO_KEY + e1000_reg_key(a);
}

static const char *e1000_io_name(void *opaque, uint64_t key)
{
	(void)opaque;
	if (key >= E1000_IO_KEY)
		return e1000_reg_name((uint32_t)(key - E1000_IO_KEY));
	if (key < IODATA)
		return "IOADDR";
	return key < IODATA + 4 ? "IODATA" : NULL;
}

static const struct bus_ops e1000_io_ops = {
	.read = e1000_io_read,
	.write = e1000_io_write,
	.reg_name = e1000_io_name,
	.reg_key = e1000_io_key,
};

/* ---- the timer, PCI hooks, coalescing ---- */

static void e1000_timer_fire(void *opaque)
{
	struct e1000 *s = opaque;
	uint64_t now;

	pthread_mutex_lock(&s->lock);
	now = e1000_now_ns();
	s->armed_for = 0;
	e1000_intr_expire(s, now);
	e1000_autoneg_expire(s, now);
	e1000_rx_kick(s);
	e1000_timer_rearm(s);
	e1000_unlock(s);
}

static void e1000_cfg_written(struct pci_device *pci, unsigned offset, unsigned len)
{
	struct e1000 *s = pci->opaque;

	/* Bus mastering back on may let a held frame in. */
	if (offset > PCI_COMMAND || offset + len <= PCI_COMMAND)
		return;
	pthread_mutex_lock(&s->lock);
	e1000_rx_kick(s);
	e1000_unlock(s);
}

static void e1000_coalesce_zones(struct e1000_dev *d, uint64_t base, bool assign)
{
	const struct machine_accel_ops *a = d->s.m->accel;
	uint32_t from = 0;

	for (unsigned i = 0; i < E1000_COALESCE_ZONES; i++) {
		uint32_t to = i < E1000_COALESCE_ZONES - 1 ? coalesce_excluded[i] : E1000_MMIO_SIZE;
		int ret = to > from ? a->coalesced_mmio(d->s.m->accel_ctx, base + from, to - from,
							assign) : 0;

		/* Those writes then exit as any other: said once, the device works on. */
		if (ret < 0 && !d->said_zone) {
			d->said_zone = true;
			report_errno(ret, "e1000: %s coalesced MMIO %#llx+%#x",
				     assign ? "KVM_REGISTER" : "KVM_UNREGISTER",
				     (unsigned long long)(base + from), to - from);
		}
		from = to + 4;
	}
	d->zones = assign ? E1000_COALESCE_ZONES : 0;
	d->zone_base = assign ? base : BUS_UNMAPPED;
}

/* The host holds its lock: only KVM ioctls here. */
static void e1000_bar_moved(struct pci_device *pci, unsigned bar, uint64_t base)
{
	struct e1000_dev *d = pci->opaque;

	if (bar != 0 || !d->coalesce)
		return;
	if (d->zones)
		e1000_coalesce_zones(d, d->zone_base, false);
	if (base != BUS_UNMAPPED)
		e1000_coalesce_zones(d, base, true);
}

/* ---- reports ---- */

static void e1000_report(void *opaque, struct device_report *out)
{
	struct e1000_dev *d = opaque;
	struct e1000 *s = &d->s;
	const struct e1000_counters *c = &s->cnt;
	struct net_backend_stats bs = { 0 };
	static const struct { const char *name; size_t off; } counters[] = {
#define C(x) { #x, offsetof(struct e1000_counters, x) }
		C(tx_frames), C(tx_bytes), C(tx_dropped), C(tso_segments), C(tx_csum_offloads),
		C(rx_frames), C(rx_bytes), C(rx_filtered), C(rx_dropped_no_buffer),
		C(rx_dropped_oversize), C(interrupts), C(resets), C(queue_stops),
		C(unknown_reads), C(unknown_writes),
#undef C
	};

	snprintf(out->path, sizeof(out->path), "interrupts INTx GSI %u (level)%s", s->pci.gsi,
		 d->coalesce ?
		 ", writes coalesced (KVM ring) but for MDIC ICR ICS IMS IMC TCTL TDT" : "");
	for (unsigned i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		device_report_add(out, counters[i].name,
				  __atomic_load_n((const uint64_t *)((const char *)c +
								     counters[i].off),
						  __ATOMIC_RELAXED));
	if (s->be) {
		net_backend_get_stats(s->be, &bs);
		device_report_add(out, "backend_tx_dropped", bs.tx_dropped);
		device_report_add(out, "backend_rx_dropped", bs.rx_dropped);
	}
}

/* ---- construction ---- */

static void e1000_release(void *state)
{
	struct e1000_dev *d = state;

	if (d->s.timer)
		loop_timer_destroy(d->s.timer);
	if (d->s.be)
		net_backend_close(d->s.be);
	pthread_mutex_destroy(&d->s.lock);
	free(d);
}

static const struct net_client_ops e1000_net_ops = {
	.receive = e1000_receive,
};

static void e1000_pci_init(struct e1000_dev *d)
{
	struct pci_device *pci = &d->s.pci;

	pci_device_init(pci, "e1000", E1000_VENDOR, E1000_DEVICE, E1000_CLASS, 1);
	pci->cfg[PCI_REVISION_ID] = E1000_REVISION;
	pci->cfg[PCI_CACHE_LINE_SIZE] = 0x10;
	le_store(pci->cfg + PCI_SUBSYSTEM_VENDOR_ID, E1000_SUBVENDOR, 2);
	le_store(pci->cfg + PCI_SUBSYSTEM_ID, E1000_SUBDEVICE, 2);
	pci->bar[0] = (struct pci_bar){ .size = E1000_MMIO_SIZE, .name = "e1000",
					.ops = &e1000_mmio_ops, .opaque = &d->s };
	pci->bar[1] = (struct pci_bar){ .size = E1000_IO_SIZE, .io = true, .name = "e1000-io",
					.ops = &e1000_io_ops, .opaque = &d->s };
	pci->cfg_written = e1000_cfg_written;
	pci->bar_moved = e1000_bar_moved;
	pci->opaque = d;
}

static int e1000_coalesce_check(struct machine *m)
{
	if (!m->loop || m->offline)
		return 0;	/* `qlite check` builds no VM: nothing to ask KVM */
	if (!m->accel || !m->accel->coalesced_mmio || !m->accel->coalesced_mmio_supported ||
	    !m->accel->coalesced_mmio_supported(m->accel_ctx))
		return report(-ENOTSUP, "e1000: coalesce on: this KVM has no coalesced MMIO "
			      "(KVM_CAP_COALESCED_MMIO); use coalesce off");
	return 0;
}

int e1000_attach(struct machine *m, const struct net_backend_opts *opts, const uint8_t mac[6],
		 bool coalesce)
{
	struct net_backend_opts o = *opts;
	struct e1000_dev *d;
	struct e1000 *s;
	char summary[160];
	int ret;

	if (!m->pci)
		return report(-ENODEV, "e1000: the machine has no PCI host");
	if (coalesce && (ret = e1000_coalesce_check(m)) < 0)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d || machine_adopt(m, d, e1000_release) < 0) {
		free(d);
		return report(-ENOMEM, "e1000: out of memory");
	}
	s = &d->s;
	pthread_mutex_init(&s->lock, NULL);
	s->m = m;
	d->coalesce = coalesce && m->loop && !m->offline;
	s->coalesce = d->coalesce;
	d->zone_base = BUS_UNMAPPED;
	memcpy(s->mac, mac, sizeof(s->mac));
	snprintf(s->name, sizeof(s->name), "e1000");
	e1000_pci_init(d);
	e1000_eeprom_init(s);
	e1000_phy_reset(s);
	e1000_reset(s);
	if (m->loop) {
		ret = machine_timer_create(m, e1000_timer_fire, s, &s->timer);
		if (ret < 0)
			return report_errno(ret, "e1000: timer");
	}
	o.owner = "e1000";
	ret = net_backend_open(m, &o, &e1000_net_ops, s, &s->be);
	if (ret < 0)
		return ret;
	s->vnet_hdr = net_backend_has_vnet_hdr(s->be);
	ret = pci_host_add_device(m->pci, &s->pci);
	if (ret < 0)
		return ret;
	snprintf(summary, sizeof(summary),
		 "00:%02x.%u mac %02x:%02x:%02x:%02x:%02x:%02x backend %s irq %u%s", s->pci.slot,
		 s->pci.function, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
		 net_backend_describe(s->be), s->pci.gsi, coalesce ? " coalesce on" : "");
	ret = machine_add_report(m, "e1000", summary, e1000_report, d);
	if (ret < 0)
		return report(ret, "e1000: out of memory");
	return 0;
}
