// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI host bridge (i440FX identity, 8086:1237) with configuration mechanism
 * #1, the PIIX reset control register at 0xcf9, and the registry of PCI
 * devices: slots, BAR windows, BAR mapping on the buses and INTx routing.
 *
 * Only bus 0 exists. Each slot holds up to 8 functions; function 0 says
 * in its header type when there are more (Linux scans functions 1-7 only
 * then). Configuration cycles to an absent slot, function or bus read
 * all-ones, as a master abort does.
 *
 * BARs are assigned and decoding is enabled when a device is added, as a
 * BIOS does before it boots an OS: Linux without firmware keeps the
 * addresses it finds and never needs to program them. The guest may still
 * size, move, disable and re-enable any BAR; each change moves the bus
 * region, and a BAR moved onto another region is left unmapped (reported
 * once) rather than shadowing it.
 *
 * Locking: host->lock serializes configuration cycles (CONFIG_ADDRESS is
 * shared state) and BAR mapping, and is held around the cfg_written and
 * bar_moved callbacks.
 * host->irq_lock only guards INTx levels; pci_irq_set() takes nothing else,
 * so devices may call it under their own locks from any thread.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/pci.h"
#include "qlite/util.h"

#define PCI_HOST_PORT		0xcf8
#define PCI_HOST_PORTS		8	/* CONFIG_ADDRESS 0xcf8..0xcfb, CONFIG_DATA 0xcfc..0xcff */
#define PCI_RCR_OFFSET		1	/* 0xcf9, byte accesses only */
#define PCI_DATA_OFFSET		4

#define CA_ENABLE		0x80000000u
/*
 * Enable, bus, device, function, register, and bits 1:0, which PCI reserves
 * but QEMU keeps and ORs into the CONFIG_DATA byte lane: kvm-unit-tests
 * writes the field's own offset there (reg 2, then a 16-bit read of
 * 0xcfc for the device ID), so qlite does what QEMU does.
 */
#define CA_MASK			0x80ffffffu
#define CA_REG(ca, lane)	(((ca) & 0xff) | (lane))

#define RCR_SYS_RESET		0x02	/* hard (1) or soft (0) reset when RCPU fires */
#define RCR_RESET_CPU		0x04

#ifndef PCI_HEADER_TYPE_MFD
#define PCI_HEADER_TYPE_MFD	0x80	/* multi-function device (function 0's header type) */
#endif

#define PCI_BAR_IO_MASK		(~(uint64_t)0x3)
#define PCI_BAR_MEM_MASK	(~(uint64_t)0xf)

/* The host's view of one function. */
struct pci_fn {
	struct pci_device *dev;
	uint64_t mapped[PCI_MAX_BARS];	/* where each BAR region sits on its bus now */
	bool overlap_warned[PCI_MAX_BARS];
	bool intx_level;		/* what the device drives */
	bool intx_disabled;		/* command register INTX_DISABLE */
};

struct pci_host {
	pthread_mutex_t lock;
	pthread_mutex_t irq_lock;
	struct machine *m;
	int region;
	uint32_t config_address;
	uint8_t rcr;
	uint64_t next_mmio, next_pio;
	unsigned gsi_asserted[PCI_GSI_COUNT];	/* devices asserting each shared line */
	bool gsi_claimed[PCI_GSI_COUNT];	/* declared to the machine, once each */
	struct pci_fn fn[PCI_MAX_DEVICES][PCI_MAX_FUNCTIONS];
	struct pci_device bridge;
};

static uint16_t cfg_word(const struct pci_device *dev, unsigned offset)
{
	return le_load(dev->cfg + offset, 2);
}

void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor,
		     uint16_t device, uint32_t class_code, uint8_t irq_pin)
{
	/* bar[], cfg_written and opaque belong to the caller and are left alone. */
	memset(dev->cfg, 0, sizeof(dev->cfg));
	memset(dev->wmask, 0, sizeof(dev->wmask));
	dev->name = name;
	le_store(dev->cfg + PCI_VENDOR_ID, vendor, 2);
	le_store(dev->cfg + PCI_DEVICE_ID, device, 2);
	le_store(dev->cfg + PCI_CLASS_REVISION, class_code << 8, 4);
	dev->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	dev->cfg[PCI_INTERRUPT_PIN] = irq_pin;
	le_store(dev->wmask + PCI_COMMAND,
		 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE, 2);
	dev->wmask[PCI_LATENCY_TIMER] = 0xff;
	dev->fixed = false;
	dev->slot = 0;
	dev->function = 0;
	dev->gsi = 0;
	dev->host = NULL;
	for (unsigned i = 0; i < PCI_MAX_BARS; i++)
		dev->bar_region[i] = -1;
}

static struct pci_fn *pci_fn_of(struct pci_host *h, const struct pci_device *dev)
{
	return &h->fn[dev->slot][dev->function];
}

static bool pci_bar_offset(unsigned offset, unsigned *bar)
{
	if (offset < PCI_BASE_ADDRESS_0 || offset >= PCI_BASE_ADDRESS_0 + 4 * PCI_MAX_BARS)
		return false;
	*bar = (offset - PCI_BASE_ADDRESS_0) / 4;
	return true;
}

/* INTx level changes, with irq_lock held: the GSI is the OR of its devices. */
static void pci_intx_update(struct pci_host *h, struct pci_fn *s, bool level, bool disabled)
{
	bool was = s->intx_level && !s->intx_disabled, now = level && !disabled;
	unsigned line = s->dev->gsi - PCI_GSI_BASE;

	s->intx_level = level;
	s->intx_disabled = disabled;
	if (was == now || line >= PCI_GSI_COUNT)
		return;
	if (now && h->gsi_asserted[line]++ == 0)
		h->m->irq_set(h->m, s->dev->gsi, 1);
	else if (!now && --h->gsi_asserted[line] == 0)
		h->m->irq_set(h->m, s->dev->gsi, 0);
}

void pci_irq_set(struct pci_device *dev, int level)
{
	struct pci_host *h = dev->host;
	struct pci_fn *s;

	if (!h || !dev->cfg[PCI_INTERRUPT_PIN])
		return;
	s = pci_fn_of(h, dev);
	pthread_mutex_lock(&h->irq_lock);
	pci_intx_update(h, s, level != 0, s->intx_disabled);
	pthread_mutex_unlock(&h->irq_lock);
}

uint32_t pci_cfg_read(struct pci_device *dev, unsigned offset, unsigned len)
{
	uint32_t v;

	if (len < 1 || len > 4)
		return ~0u;
	if (offset >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - offset)
		return ~0u >> (32 - 8 * len);
	v = le_load(dev->cfg + offset, len);
	/* Status bit 3 shows the INTx the device drives, whatever INTX_DISABLE says. */
	if (dev->host && offset <= PCI_STATUS && offset + len > PCI_STATUS) {
		struct pci_host *h = dev->host;
		bool level;

		pthread_mutex_lock(&h->irq_lock);
		level = pci_fn_of(h, dev)->intx_level;
		pthread_mutex_unlock(&h->irq_lock);
		if (level)
			v |= (uint32_t)PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - offset));
	}
	return v;
}

/* Map each BAR where the config space says, or unmap it. Called with host->lock held. */
static void pci_host_map_bars(struct pci_host *h, struct pci_device *dev)
{
	struct pci_fn *s = pci_fn_of(h, dev);
	uint16_t cmd = cfg_word(dev, PCI_COMMAND);

	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		const struct pci_bar *bar = &dev->bar[i];
		enum bus_space space = bar->io ? BUS_PIO : BUS_MMIO;
		uint64_t v = le_load(dev->cfg + PCI_BASE_ADDRESS_0 + 4 * i, 4);
		uint64_t addr = v & (bar->io ? PCI_BAR_IO_MASK : PCI_BAR_MEM_MASK);
		uint64_t limit = bar->io ? 0x10000 : 0x100000000ULL;
		uint64_t target = BUS_UNMAPPED;
		int ret;

		if (!bar->size || dev->bar_region[i] < 0)
			continue;
		/* Address 0 means "unassigned"; the space limit catches sizing patterns. */
		if ((cmd & (bar->io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) &&
		    addr && addr + bar->size <= limit)
			target = addr;
		if (target == s->mapped[i])
			continue;
		ret = bus_move(h->m->bus[space], dev->bar_region[i], target);
		if (ret < 0) {
			if (!s->overlap_warned[i])
				pr_err("pci 00:%02x.%u %s: BAR%u at %#llx: %s; left unmapped",
				       dev->slot, dev->function, dev->name, i,
				       (unsigned long long)target,
				       ret == -EEXIST ? "overlaps another device" : "invalid");
			s->overlap_warned[i] = true;
			bus_move(h->m->bus[space], dev->bar_region[i], BUS_UNMAPPED);
			target = BUS_UNMAPPED;
		}
		if (target == s->mapped[i])
			continue;
		s->mapped[i] = target;
		if (dev->bar_moved)
			dev->bar_moved(dev, i, target);
	}
}

/* Keep only the address bits a BAR of this size implements, and its type bits. */
static void pci_bar_fixup(struct pci_device *dev, unsigned i)
{
	const struct pci_bar *bar = &dev->bar[i];
	uint8_t *p = dev->cfg + PCI_BASE_ADDRESS_0 + 4 * i;
	uint32_t v = le_load(p, 4);

	if (!bar->size)
		v = 0;
	else
		v = (v & ~(uint32_t)(bar->size - 1)) |
		    (bar->io ? PCI_BASE_ADDRESS_SPACE_IO : PCI_BASE_ADDRESS_MEM_TYPE_32);
	le_store(p, v, 4);
}

void pci_cfg_write(struct pci_device *dev, unsigned offset, unsigned len, uint32_t val)
{
	uint16_t old_cmd = cfg_word(dev, PCI_COMMAND);
	bool bars_written = false;
	unsigned bar;

	if (len < 1 || len > 4 || offset >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - offset)
		return;
	for (unsigned i = 0; i < len; i++) {
		unsigned o = offset + i;
		uint8_t b = val >> (8 * i);

		if (pci_bar_offset(o, &bar)) {
			dev->cfg[o] = b;
			bars_written = true;
		} else if (o == PCI_INTERRUPT_LINE) {
			dev->cfg[o] = b;	/* firmware's notes to the OS, not routing */
		} else {
			dev->cfg[o] = (dev->cfg[o] & ~dev->wmask[o]) | (b & dev->wmask[o]);
		}
	}
	if (bars_written)
		for (bar = 0; bar < PCI_MAX_BARS; bar++)
			pci_bar_fixup(dev, bar);

	if (dev->host) {
		uint16_t cmd = cfg_word(dev, PCI_COMMAND);
		struct pci_host *h = dev->host;
		struct pci_fn *s = pci_fn_of(h, dev);

		if (bars_written || ((cmd ^ old_cmd) & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
			pci_host_map_bars(h, dev);
		if ((cmd ^ old_cmd) & PCI_COMMAND_INTX_DISABLE) {
			pthread_mutex_lock(&h->irq_lock);
			pci_intx_update(h, s, s->intx_level, cmd & PCI_COMMAND_INTX_DISABLE);
			pthread_mutex_unlock(&h->irq_lock);
		}
	}
	if (dev->cfg_written)
		dev->cfg_written(dev, offset, len);
}

/* The device a CONFIG_DATA access reaches, or NULL for a master abort. */
static struct pci_device *pci_host_target(struct pci_host *h)
{
	uint32_t ca = h->config_address;
	unsigned bus = (ca >> 16) & 0xff, slot = (ca >> 11) & 0x1f, fn = (ca >> 8) & 0x7;

	if (!(ca & CA_ENABLE) || bus)
		return NULL;
	return h->fn[slot][fn].dev;
}

static void pci_host_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pci_host *h = opaque;
	struct pci_device *dev;
	uint32_t v = ~0u;

	pthread_mutex_lock(&h->lock);
	if (offset == 0 && len == 4) {
		v = h->config_address;
	} else if (offset == PCI_RCR_OFFSET && len == 1) {
		v = h->rcr;
	} else if (offset >= PCI_DATA_OFFSET) {
		/* The byte lane picks the byte within the addressed dword. */
		unsigned reg = CA_REG(h->config_address, offset - PCI_DATA_OFFSET);

		dev = pci_host_target(h);
		if (dev && dev->cfg_read && reg < PCI_CFG_SIZE && len <= PCI_CFG_SIZE - reg)
			dev->cfg_read(dev, reg, len);
		if (dev)
			v = pci_cfg_read(dev, reg, len);
	}
	/* Other accesses to 0xcf8..0xcfb are plain I/O nobody claims. */
	pthread_mutex_unlock(&h->lock);
	le_store(data, v, len);
}

static void pci_host_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pci_host *h = opaque;
	uint32_t v = le_load(data, len);
	struct pci_device *dev;

	pthread_mutex_lock(&h->lock);
	if (offset == 0 && len == 4) {
		h->config_address = v & CA_MASK;
	} else if (offset == PCI_RCR_OFFSET && len == 1) {
		/* RCPU fires the reset; SYS_RESET picks hard or soft, both restart the guest. */
		h->rcr = v & RCR_SYS_RESET;
		if (v & RCR_RESET_CPU)
			h->m->request_stop(h->m, STOP_RESET, 0, NULL);
	} else if (offset >= PCI_DATA_OFFSET) {
		dev = pci_host_target(h);
		if (dev)
			pci_cfg_write(dev, CA_REG(h->config_address, offset - PCI_DATA_OFFSET),
				      len, v);
	}
	pthread_mutex_unlock(&h->lock);
}

/* Byte lanes get their own names: Linux reads 16-bit fields at CONFIG_DATA+2, for instance. */
static const char *pci_host_reg_name(void *opaque, uint64_t offset)
{
	static const char *const names[PCI_HOST_PORTS] = {
		"CONFIG_ADDRESS", "RESET_CONTROL", "CONFIG_ADDRESS+2", "CONFIG_ADDRESS+3",
		"CONFIG_DATA", "CONFIG_DATA+1", "CONFIG_DATA+2", "CONFIG_DATA+3",
	};

	_Static_assert(PCI_RCR_OFFSET == 1 && PCI_DATA_OFFSET == 4, "names follow the port layout");
	return offset < PCI_HOST_PORTS ? names[offset] : NULL;
}

static const struct bus_ops pci_host_ops = {
	.read = pci_host_read,
	.write = pci_host_write,
	.reg_name = pci_host_reg_name,
};

struct pci_host *pci_host_create(struct machine *m)
{
	struct pci_host *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return NULL;
	h->m = m;
	h->next_mmio = PCI_MMIO_WINDOW_START;
	h->next_pio = PCI_PIO_WINDOW_START;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->irq_lock, NULL);

	pci_device_init(&h->bridge, "host bridge", 0x8086, 0x1237, 0x060000, 0);
	le_store(h->bridge.cfg + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	h->bridge.host = h;
	h->fn[0][0].dev = &h->bridge;

	ret = machine_claim(m, BUS_PIO, PCI_HOST_PORT, PCI_HOST_PORTS, "pci-host", &pci_host_ops, h);
	if (ret < 0)
		goto err_free;
	h->region = ret;
	m->pci = h;
	return h;

err_free:
	pthread_mutex_destroy(&h->irq_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return NULL;
}

/* Unregisters the bridge and every BAR region: call before the buses go. */
void pci_host_destroy(struct pci_host *h)
{
	if (!h)
		return;
	for (unsigned s = 0; s < PCI_MAX_DEVICES * PCI_MAX_FUNCTIONS; s++) {
		struct pci_device *dev = h->fn[s / PCI_MAX_FUNCTIONS][s % PCI_MAX_FUNCTIONS].dev;

		if (!dev || dev == &h->bridge)
			continue;
		for (unsigned i = 0; i < PCI_MAX_BARS; i++)
			if (dev->bar_region[i] >= 0)
				bus_unregister(h->m->bus[dev->bar[i].io ? BUS_PIO : BUS_MMIO],
					       dev->bar_region[i]);
		dev->host = NULL;
	}
	bus_unregister(h->m->bus[BUS_PIO], h->region);
	if (h->m->pci == h)
		h->m->pci = NULL;
	pthread_mutex_destroy(&h->irq_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static int pci_check_bar(const struct pci_device *dev, unsigned i)
{
	const struct pci_bar *bar = &dev->bar[i];
	uint64_t min = bar->io ? 4 : 4096;
	uint64_t max = bar->io ? 256 : 1ULL << 31;	/* PCI caps I/O BARs at 256 bytes */

	if (!bar->size)
		return 0;
	if ((bar->size & (bar->size - 1)) || bar->size < min || bar->size > max || !bar->ops) {
		pr_err("pci %s: BAR%u: invalid %s BAR of %#llx bytes", dev->name, i,
		       bar->io ? "I/O" : "memory", (unsigned long long)bar->size);
		return -EINVAL;
	}
	return 0;
}

/* Give each BAR the next naturally aligned address of its window, in config space. */
static int pci_assign_bars(struct pci_host *h, struct pci_device *dev)
{
	uint64_t next[2] = { h->next_mmio, h->next_pio };
	const uint64_t end[2] = { PCI_MMIO_WINDOW_END, PCI_PIO_WINDOW_END };

	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		const struct pci_bar *bar = &dev->bar[i];
		uint64_t addr;

		if (!bar->size)
			continue;
		addr = ALIGN_UP(next[bar->io], bar->size);
		if (addr + bar->size > end[bar->io]) {
			pr_err("pci %s: BAR%u (%#llx bytes) does not fit in the %s window",
			       dev->name, i, (unsigned long long)bar->size,
			       bar->io ? "I/O" : "MMIO");
			return -ENOSPC;
		}
		le_store(dev->cfg + PCI_BASE_ADDRESS_0 + 4 * i, addr, 4);
		pci_bar_fixup(dev, i);
		next[bar->io] = addr + bar->size;
	}
	h->next_mmio = next[0];
	h->next_pio = next[1];
	return 0;
}

static int pci_free_slot_locked(const struct pci_host *h, unsigned from)
{
	for (unsigned slot = from; slot < PCI_MAX_DEVICES; slot++)
		if (!h->fn[slot][0].dev)
			return slot;
	return -ENOSPC;
}

int pci_host_free_slot(struct pci_host *h, unsigned from)
{
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = pci_free_slot_locked(h, from);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

/* Where dev goes: the place it asked for, or the next free slot's function 0. */
static int pci_place(struct pci_host *h, const struct pci_device *dev, unsigned *slot,
		     unsigned *fn)
{
	int free_slot;

	if (!dev->fixed) {
		free_slot = pci_free_slot_locked(h, 1);
		if (free_slot < 0) {
			pr_err("pci %s: no free slot on bus 0", dev->name);
			return free_slot;
		}
		*slot = free_slot;
		*fn = 0;
		return 0;
	}
	if (dev->slot >= PCI_MAX_DEVICES || dev->function >= PCI_MAX_FUNCTIONS) {
		pr_err("pci %s: no slot %u function %u on bus 0", dev->name, dev->slot,
		       dev->function);
		return -EINVAL;
	}
	if (h->fn[dev->slot][dev->function].dev) {
		pr_err("pci 00:%02x.%u %s: already taken by %s", dev->slot, dev->function,
		       dev->name, h->fn[dev->slot][dev->function].dev->name);
		return -EBUSY;
	}
	/* Without function 0 nobody looks at the others. */
	if (dev->function && !h->fn[dev->slot][0].dev) {
		pr_err("pci 00:%02x.%u %s: function 0 of the slot is empty", dev->slot,
		       dev->function, dev->name);
		return -ENODEV;
	}
	*slot = dev->slot;
	*fn = dev->function;
	return 0;
}

int pci_host_add_device(struct pci_host *h, struct pci_device *dev)
{
	uint8_t pin = dev->cfg[PCI_INTERRUPT_PIN];
	uint16_t cmd = cfg_word(dev, PCI_COMMAND);
	uint64_t saved_mmio, saved_pio;
	unsigned slot, fn, i, gsi;
	struct pci_fn *f;
	int ret;

	if (pin > 4) {
		pr_err("pci %s: invalid interrupt pin %u", dev->name, pin);
		return -EINVAL;
	}
	for (i = 0; i < PCI_MAX_BARS; i++) {
		dev->bar_region[i] = -1;
		ret = pci_check_bar(dev, i);
		if (ret < 0)
			return ret;
	}

	pthread_mutex_lock(&h->lock);
	ret = pci_place(h, dev, &slot, &fn);
	if (ret < 0)
		goto out;
	/* Nothing is committed until the BARs are registered: a failure leaves no trace. */
	saved_mmio = h->next_mmio;
	saved_pio = h->next_pio;
	ret = pci_assign_bars(h, dev);
	if (ret < 0)
		goto out;
	for (i = 0; i < PCI_MAX_BARS; i++) {
		const struct pci_bar *bar = &dev->bar[i];

		if (!bar->size)
			continue;
		ret = machine_register(h->m, bar->io ? BUS_PIO : BUS_MMIO, BUS_UNMAPPED,
				       bar->size, bar->name ? bar->name : dev->name,
				       bar->ops, bar->opaque);
		if (ret < 0) {
			pr_err("pci %s: BAR%u: cannot register: bus full", dev->name, i);
			goto err_unregister;
		}
		dev->bar_region[i] = ret;
		if (bar->io)
			cmd |= PCI_COMMAND_IO;
		else
			cmd |= PCI_COMMAND_MEMORY;
	}

	/* Pin A of slot s is line s, B is s + 1...: neighbours spread over the 8 GSIs. */
	gsi = pci_intx_gsi(slot, pin);
	if (pin && !h->gsi_claimed[gsi - PCI_GSI_BASE]) {
		ret = machine_claim_irq(h->m, gsi, "pci", true);
		if (ret < 0)
			goto err_unregister;
		h->gsi_claimed[gsi - PCI_GSI_BASE] = true;
	}
	dev->slot = slot;
	dev->function = fn;
	dev->host = h;
	dev->gsi = pin ? gsi : 0;
	dev->cfg[PCI_INTERRUPT_LINE] = pin ? dev->gsi : 0;
	f = &h->fn[slot][fn];
	*f = (struct pci_fn){ .dev = dev };
	for (i = 0; i < PCI_MAX_BARS; i++)
		f->mapped[i] = BUS_UNMAPPED;
	/* Header type bit 7: function 0 says the slot has more. */
	if (fn)
		h->fn[slot][0].dev->cfg[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MFD;
	/* Decoding on, as a BIOS leaves it; maps the BARs. */
	le_store(dev->cfg + PCI_COMMAND, cmd, 2);
	pci_host_map_bars(h, dev);
	ret = 0;
	goto out;

err_unregister:
	while (i--)
		if (dev->bar_region[i] >= 0) {
			bus_unregister(h->m->bus[dev->bar[i].io ? BUS_PIO : BUS_MMIO],
				       dev->bar_region[i]);
			dev->bar_region[i] = -1;
		}
	h->next_mmio = saved_mmio;
	h->next_pio = saved_pio;
out:
	pthread_mutex_unlock(&h->lock);
	return ret;
}

unsigned pci_host_nr_devices(const struct pci_host *h)
{
	unsigned n = 0;

	for (unsigned s = 0; s < PCI_MAX_DEVICES; s++)
		for (unsigned f = 0; f < PCI_MAX_FUNCTIONS; f++)
			n += h->fn[s][f].dev != NULL;
	return n;
}

struct pci_device *pci_host_device(const struct pci_host *h, unsigned i)
{
	for (unsigned s = 0; s < PCI_MAX_DEVICES; s++) {
		for (unsigned f = 0; f < PCI_MAX_FUNCTIONS; f++) {
			if (!h->fn[s][f].dev)
				continue;
			if (!i--)
				return h->fn[s][f].dev;
		}
	}
	return NULL;
}
