// SPDX-License-Identifier: GPL-2.0-only
/*
 * Intel MultiProcessor Specification 1.4 table: how a guest without ACPI
 * (our minimal kernel, the test guest) finds its CPUs, the IOAPIC and the
 * interrupt routing of ISA and PCI devices. It lives in the BIOS area at
 * 0xf0000, where Linux's find_smp_config() scans, and which e820 reserves.
 */
#include <errno.h>
#include <string.h>

#include "qlite/acpi.h"
#include "qlite/boot.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/platform.h"

#define MPC_LAPIC_ADDR		LAPIC_BASE
#define MPC_IOAPIC_ADDR		IOAPIC_BASE
#define MPC_LAPIC_VERSION	0x14
#define MPC_IOAPIC_VERSION	0x11

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define BUS_ID_PCI		0
#define BUS_ID_ISA		1
#define MP_IRQ_LEVEL_HIGH	0x0d	/* polarity active high (01), trigger level (11 << 2) */

struct mpf_intel {
	char signature[4];
	uint32_t physptr;
	uint8_t length;
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {
	char signature[4];
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

struct mp_writer {
	uint8_t *base;
	size_t used, size;
	unsigned count;
};

static void *mp_add(struct mp_writer *w, size_t len)
{
	void *p;

	if (w->used + len > w->size)
		return NULL;
	p = w->base + w->used;
	w->used += len;
	w->count++;
	return p;
}

static int add_intsrc(struct mp_writer *w, uint8_t irqtype, uint16_t flag, uint8_t bus,
		      uint8_t busirq, uint8_t apic, uint8_t pin)
{
	struct mpc_intsrc *is = mp_add(w, sizeof(*is));

	if (!is)
		return -1;
	*is = (struct mpc_intsrc){ MP_INTSRC, irqtype, flag, bus, busirq, apic, pin };
	return 0;
}

int mptable_write(struct guest_mem *gm, unsigned nr_cpus, const struct pci_host *pci)
{
	const size_t area = ACPI_RSDP_ADDR - BIOS_START;	/* the RSDP follows */
	uint8_t *mem = guest_mem_ptr(gm, BIOS_START, area);
	struct mpf_intel *mpf;
	struct mpc_table *mpc;
	struct mp_writer w;
	uint8_t ioapic_id = nr_cpus;
	struct mpc_bus *bus;
	struct mpc_ioapic *io;
	struct mpc_intsrc *lint;

	if (!mem)
		return report(-ENOSPC, "MP table: BIOS area not in RAM");
	if (nr_cpus > 254)
		return report(-EINVAL, "MP table: too many CPUs");
	memset(mem, 0, area);
	mpf = (struct mpf_intel *)mem;
	mpc = (struct mpc_table *)(mem + sizeof(*mpf));
	w = (struct mp_writer){ .base = (uint8_t *)(mpc + 1), .size = area - sizeof(*mpf) - sizeof(*mpc) };

	for (unsigned i = 0; i < nr_cpus; i++) {
		struct mpc_cpu *c = mp_add(&w, sizeof(*c));

		if (!c)
			goto full;
		*c = (struct mpc_cpu){
			.type = MP_PROCESSOR, .apicid = i, .apicver = MPC_LAPIC_VERSION,
			.cpuflag = 1 | (i == 0 ? 2 : 0),	/* enabled, BSP */
			.cpufeature = 0x600,			/* family 6: only informative */
			.featureflag = 0x201,			/* FPU, APIC */
		};
	}
	bus = mp_add(&w, sizeof(*bus));
	if (!bus)
		goto full;
	*bus = (struct mpc_bus){ MP_BUS, BUS_ID_PCI, "PCI   " };
	bus = mp_add(&w, sizeof(*bus));
	if (!bus)
		goto full;
	*bus = (struct mpc_bus){ MP_BUS, BUS_ID_ISA, "ISA   " };
	io = mp_add(&w, sizeof(*io));
	if (!io)
		goto full;
	*io = (struct mpc_ioapic){ MP_IOAPIC, ioapic_id, MPC_IOAPIC_VERSION, 1, MPC_IOAPIC_ADDR };

	/* ISA IRQs keep their numbers on the IOAPIC, as KVM's default GSI routing does. */
	for (unsigned irq = 0; irq < 16; irq++)
		if (add_intsrc(&w, MP_INT, 0, BUS_ID_ISA, irq, ioapic_id, irq) < 0)
			goto full;
	/* One entry per slot and pin: the functions of a slot share its lines. */
	for (unsigned i = 0; pci && i < pci_host_nr_devices(pci); i++) {
		struct pci_device *d = pci_host_device(pci, i);
		uint8_t pin = d->cfg[0x3d];
		bool seen = false;

		for (unsigned j = 0; j < i && pin; j++) {
			const struct pci_device *e = pci_host_device(pci, j);

			seen |= e->slot == d->slot && e->cfg[0x3d] == pin;
		}
		if (!pin || seen)
			continue;
		if (add_intsrc(&w, MP_INT, MP_IRQ_LEVEL_HIGH, BUS_ID_PCI,
			       (d->slot << 2) | (pin - 1), ioapic_id, d->gsi) < 0)
			goto full;
	}
	lint = mp_add(&w, sizeof(*lint));
	if (!lint)
		goto full;
	*lint = (struct mpc_intsrc){ MP_LINTSRC, MP_EXTINT, 0, BUS_ID_ISA, 0, 0xff, 0 };
	lint = mp_add(&w, sizeof(*lint));
	if (!lint)
		goto full;
	*lint = (struct mpc_intsrc){ MP_LINTSRC, MP_NMI, 0, BUS_ID_ISA, 0, 0xff, 1 };

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = sizeof(*mpc) + w.used;
	mpc->spec = 4;
	memcpy(mpc->oem, "QLITE   ", 8);
	memcpy(mpc->productid, "qlite VMM   ", 12);
	mpc->oemcount = w.count;
	mpc->lapic = MPC_LAPIC_ADDR;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = BIOS_START + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return 0;

full:
	return report(-ENOSPC, "MP table does not fit in the BIOS area");
}
