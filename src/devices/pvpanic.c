// SPDX-License-Identifier: GPL-2.0-only
/*
 * QEMU's pvpanic: how a guest tells the host it panicked, so a crashed
 * guest stops qlite instead of leaving it running forever. One byte
 * register: a read gives the events the device supports (PANICKED and
 * CRASH_LOADED: Linux sends only events the device reports), a write sends
 * events:
 *   PANICKED      the VM stops: "guest panicked", exit status
 *                 MACHINE_EXIT_PANICKED (6)
 *   CRASH_LOADED  a kdump kernel takes over: said once, the guest runs on
 *   other bits    ignored, said once (a guest cannot flood the log)
 * as QEMU 7.2 handles them (PANICKED wins when both are written).
 *
 * Two ways in, as in QEMU:
 *   vdev pvpanic [iobase 0x505]   the ISA port; Linux finds it only through
 *                                 ACPI (QEMU0001), not in qlite's DSDT
 *   vdev pvpanic-pci              PCI 1b36:0011, the register at the start of
 *                                 BAR0 (MMIO): Linux's pvpanic-pci driver
 *
 * QEMU 7.2 compared (tests/integration/pvpanic_test.py): the same reads (3)
 * and the same events are acted on, but QEMU's default action on PANICKED
 * (`-action panic=shutdown`) ends QEMU with status 0, as a power-off does;
 * `panic=exit-failure` gives 1, `panic=pause` (or `-no-shutdown`) leaves
 * it paused, `panic=none` runs on. qlite has its own status, 6.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdatomic.h>
#include <stdio.h>

#include "qlite/config.h"
#include "qlite/devices.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define PVPANIC_PANICKED	(1u << 0)
#define PVPANIC_CRASH_LOADED	(1u << 1)
#define PVPANIC_EVENTS		(PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)

#define PVPANIC_ISA_PORT	0x505
#define PVPANIC_ISA_WINDOW	1	/* one port */

#define PVPANIC_PCI_VENDOR	0x1b36	/* Red Hat, QEMU's own devices */
#define PVPANIC_PCI_DEVICE	0x0011
#define PVPANIC_PCI_SUBVENDOR	0x1af4	/* what QEMU gives every device */
#define PVPANIC_PCI_SUBDEVICE	0x1100
#define PVPANIC_PCI_CLASS	0x088000	/* system peripheral, other */
#define PVPANIC_PCI_REVISION	1
/* QEMU's BAR is 2 bytes, each the register; qlite's smallest MMIO BAR is a page. */
#define PVPANIC_PCI_WINDOW	2
#define PVPANIC_PCI_BAR_SIZE	4096

struct pvpanic {
	struct machine *m;
	const char *name;
	unsigned window;	/* bytes from offset 0 that are the register */
	atomic_bool said_crash, said_unknown;
	struct pci_device pci;	/* pvpanic-pci only */
};

static void pvpanic_event(struct pvpanic *p, uint8_t event)
{
	char detail[96];

	if ((event & ~PVPANIC_EVENTS) && !atomic_exchange(&p->said_unknown, true))
		pr_info("%s: guest wrote %#x: bits %#x are no event; ignored", p->name, event,
			event & ~PVPANIC_EVENTS);
	if (event & PVPANIC_PANICKED) {
		snprintf(detail, sizeof(detail), "guest panicked (%s event %#x)", p->name, event);
		p->m->request_stop(p->m, STOP_PANIC, MACHINE_EXIT_PANICKED, detail);
		return;
	}
	if ((event & PVPANIC_CRASH_LOADED) && !atomic_exchange(&p->said_crash, true))
		pr_info("%s: guest panicked with a crash kernel loaded: it runs on (kdump)", p->name);
}

/* Byte by byte, as QEMU splits wider accesses: each byte inside the window is the register. */
static void pvpanic_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pvpanic *p = opaque;

	for (unsigned i = 0; i < len; i++)
		((uint8_t *)data)[i] = offset + i < p->window ? PVPANIC_EVENTS : 0;
}

static void pvpanic_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pvpanic *p = opaque;

	for (unsigned i = 0; i < len; i++)
		if (offset + i < p->window)
			pvpanic_event(p, ((const uint8_t *)data)[i]);
}

static const char *pvpanic_reg_name(void *opaque, uint64_t offset)
{
	struct pvpanic *p = opaque;

	return offset < p->window ? "EVENTS" : NULL;
}

static const struct bus_ops pvpanic_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
	.reg_name = pvpanic_reg_name,
};

static struct pvpanic *pvpanic_alloc(struct machine *m, const char *name, unsigned window)
{
	struct pvpanic *p = machine_alloc_device(m, sizeof(*p), NULL);

	if (!p)
		return NULL;
	p->m = m;
	p->name = name;
	p->window = window;
	return p;
}

/* ---- vdev pvpanic: the ISA port ---- */

static int pvpanic_isa_create(struct machine *m, const struct vdev_spec *vs)
{
	const char *iobase = vdev_opt_get(vs, "iobase");
	uint64_t base = PVPANIC_ISA_PORT;
	struct pvpanic *p;
	int ret;

	/* The parser checked the number and the overlap check its range; this is the last word. */
	if (iobase && (config_parse_u64(iobase, &base) || base > 0xffff))
		return report(-EINVAL, "pvpanic: bad iobase \"%s\" (a port, 0 to 0xffff)", iobase);
	p = pvpanic_alloc(m, "pvpanic", PVPANIC_ISA_WINDOW);
	if (!p)
		return report(-ENOMEM, "pvpanic: out of memory");
	ret = machine_claim(m, BUS_PIO, base, PVPANIC_ISA_WINDOW, "pvpanic", &pvpanic_ops, p);
	return ret < 0 ? ret : 0;
}

static const struct vdev_opt_desc pvpanic_isa_opts[] = {
	{ "iobase", VDEV_OPT_PIO, .span = PVPANIC_ISA_WINDOW,
	  .help = "its port (default 0x505, as QEMU's `ioport`)" },
	{ .key = NULL }
};

const struct vdev_type pvpanic_vdev = {
	.name = "pvpanic",
	.help = "QEMU's pvpanic ISA port: a guest that panics stops the VM with exit status 6. "
		"Linux finds it only through ACPI, which qlite has not: for Linux use `pvpanic-pci`",
	.opts = pvpanic_isa_opts,
	.create = pvpanic_isa_create,
};

/* ---- vdev pvpanic-pci ---- */

static int pvpanic_pci_create(struct machine *m, const struct vdev_spec *vs)
{
	struct pvpanic *p;

	if (!m->pci)
		return report(-ENODEV, "pvpanic-pci: the machine has no PCI host");
	p = pvpanic_alloc(m, "pvpanic-pci", PVPANIC_PCI_WINDOW);
	if (!p)
		return report(-ENOMEM, "pvpanic-pci: out of memory");
	pci_device_init(&p->pci, "pvpanic-pci", PVPANIC_PCI_VENDOR, PVPANIC_PCI_DEVICE,
			PVPANIC_PCI_CLASS, 0);
	p->pci.cfg[PCI_REVISION_ID] = PVPANIC_PCI_REVISION;
	le_store(p->pci.cfg + PCI_SUBSYSTEM_VENDOR_ID, PVPANIC_PCI_SUBVENDOR, 2);
	le_store(p->pci.cfg + PCI_SUBSYSTEM_ID, PVPANIC_PCI_SUBDEVICE, 2);
	p->pci.bar[0] = (struct pci_bar){
		.size = PVPANIC_PCI_BAR_SIZE, .name = "pvpanic-pci", .ops = &pvpanic_ops, .opaque = p,
	};
	p->pci.opaque = p;
	/* pci_host_add_device() says why it failed; the state goes with the machine. */
	return pci_host_add_device(m->pci, &p->pci);
}

static const struct vdev_opt_desc pvpanic_pci_opts[] = {
	{ .key = NULL }
};

const struct vdev_type pvpanic_pci_vdev = {
	.name = "pvpanic-pci",
	.help = "QEMU's pvpanic-pci (1b36:0011, the register in BAR0): a guest that panics stops "
		"the VM with exit status 6. Linux's pvpanic-pci driver (CONFIG_PVPANIC_PCI) finds it "
		"without ACPI",
	.opts = pvpanic_pci_opts,
	.create = pvpanic_pci_create,
};
