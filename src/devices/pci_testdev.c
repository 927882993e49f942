// SPDX-License-Identifier: GPL-2.0-only
/*
 * QEMU's pci-testdev (PCI 1b36:0005): how kvm-unit-tests' vmexit measures
 * a write that ends in the kernel (ioeventfd) against one that reaches the
 * VMM. Off by default; `vdev pci-testdev`.
 *
 * BAR0 (4 KiB MMIO) and BAR1 (256 ports) each run one of three tests at a
 * time; a BAR's tests are numbered 0-2 by the guest, 0-2 (MMIO) and 3-5
 * (ports) in the header:
 *   no-eventfd         every write of the test byte exits to the VMM
 *   wildcard-eventfd   a 1-byte write of any value is a doorbell
 *   datamatch-eventfd  a 1-byte write of 0xfa is a doorbell
 * The BAR reads as the running test's header (QEMU's PCITestDevHdr):
 *   0x00 TEST    the test's number (a write starts a test: see below)
 *   0x01 WIDTH   1, the test write's width
 *   0x04 OFFSET  where to write: 2048 + n in BAR0, 128 + n in BAR1
 *   0x08 DATA    the value to write: 0xfa (datamatch, no-eventfd), 0xce
 *   0x0c COUNT   test writes that reached the device (le32)
 *   0x10 NAME    "mmio-no-eventfd", ..., NUL-terminated
 * and 0 past the name or with no test running. A write to TEST stops the
 * running test and starts test (value) of this BAR, COUNT 0, when the value
 * is below 3. A write to OFFSET of the running test counts, when it is the
 * test's width and, for datamatch, value; a write the doorbell took (the
 * kernel's KVM_IOEVENTFD, or qlite's userspace doorbell) reaches no device
 * and does not count: with eventfd tests COUNT stays 0, as on QEMU+KVM.
 * QEMU handles the BARs a byte at a time: a wider access is bytes at
 * consecutive offsets, so a 4-byte write to TEST starts test (low byte).
 *
 * The eventfd tests' doorbells are the machine's: the exit report shows
 * them ("doorbell_rings"), where QEMU merely clears its notifier.
 */
#include <endian.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/devices.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define TESTDEV_VENDOR		0x1b36	/* Red Hat, QEMU's own devices */
#define TESTDEV_DEVICE		0x0005
#define TESTDEV_SUBVENDOR	0x1af4	/* what QEMU gives every device */
#define TESTDEV_SUBDEVICE	0x1100
#define TESTDEV_CLASS		0x00ff00	/* QEMU's PCI_CLASS_OTHERS as a class word */

#define TESTDEV_MEMSIZE		2048	/* BAR0 is twice this; test writes start here */
#define TESTDEV_IOSIZE		128	/* BAR1 is twice this */
#define TESTDEV_NR_KINDS	3
#define TESTDEV_NR_TESTS	(2 * TESTDEV_NR_KINDS)
#define TESTDEV_DATAMATCH	0xfa
#define TESTDEV_NOMATCH		0xce
#define TESTDEV_WIDTH		1

enum { KIND_NO_EVENTFD, KIND_WILDCARD, KIND_DATAMATCH };
enum { BAR_MMIO, BAR_PIO };

/* QEMU's PCITestDevHdr, as the guest reads it. */
struct testdev_hdr {
	uint8_t test;
	uint8_t width;
	uint8_t pad0[2];
	uint32_t offset;
	uint8_t data;
	uint8_t pad1[3];
	uint32_t count;
	char name[32];	/* "portio-datamatch-eventfd" and its NUL */
};

struct iotest {
	struct testdev_hdr hdr;
	unsigned bufsize;	/* header and name with its NUL: what reads as non-zero */
	bool match;
	struct doorbell *db;	/* NULL for no-eventfd */
	_Atomic uint64_t rings;	/* doorbell writes, for the report */
};

struct pci_testdev {
	struct machine *m;
	struct pci_device pci;
	pthread_mutex_t lock;	/* vCPUs' accesses against each other and BAR moves */
	struct iotest tests[TESTDEV_NR_TESTS];
	int current;		/* -1: none */
	uint64_t bar_base[2];	/* BUS_UNMAPPED while the BAR does not decode */
};

struct testdev_bar {
	struct pci_testdev *d;
	unsigned bar;
};

static unsigned test_bar(unsigned i)
{
	return i / TESTDEV_NR_KINDS;
}

/* Under the lock: where test i's doorbell belongs now. */
static void test_place(struct pci_testdev *d, unsigned i, bool on)
{
	struct iotest *t = &d->tests[i];
	uint64_t base = d->bar_base[test_bar(i)];

	if (!t->db)
		return;
	/* A doorbell at a fixed BAR offset: failing to move it leaves the test counting writes. */
	doorbell_move(t->db, on && base != BUS_UNMAPPED ? base + t->hdr.offset : BUS_UNMAPPED);
}

static void test_stop_current(struct pci_testdev *d)
{
	if (d->current < 0)
		return;
	test_place(d, d->current, false);
	d->current = -1;
}

static void write_byte(struct pci_testdev *d, unsigned bar, uint64_t offset, uint8_t val)
{
	struct iotest *t;

	if (offset == offsetof(struct testdev_hdr, test)) {
		test_stop_current(d);
		if (val >= TESTDEV_NR_KINDS)
			return;
		d->current = bar * TESTDEV_NR_KINDS + val;
		d->tests[d->current].hdr.count = 0;
		test_place(d, d->current, true);
		return;
	}
	if (d->current < 0)
		return;
	t = &d->tests[d->current];
	/* QEMU also checks the width, which after its byte split is always 1: so is the test's. */
	if (offset != t->hdr.offset || (t->match && val != t->hdr.data))
		return;
	t->hdr.count = htole32(le32toh(t->hdr.count) + 1);
}

static uint8_t read_byte(struct pci_testdev *d, uint64_t offset)
{
	const struct iotest *t;

	if (d->current < 0)
		return 0;
	t = &d->tests[d->current];
	/* QEMU's bound: the name's NUL and anything past it read 0. */
	if (offset + 1 >= t->bufsize)
		return 0;
	return ((const uint8_t *)&t->hdr)[offset];
}

/* Whichever BAR: the test it starts is its own (MMIO 0-2, ports 3-5). */
static void bar_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct testdev_bar *b = opaque;

	pthread_mutex_lock(&b->d->lock);
	for (unsigned i = 0; i < len; i++)
		write_byte(b->d, b->bar, offset + i, ((const uint8_t *)data)[i]);
	pthread_mutex_unlock(&b->d->lock);
}

static void bar_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct testdev_bar *b = opaque;

	pthread_mutex_lock(&b->d->lock);
	for (unsigned i = 0; i < len; i++)
		((uint8_t *)data)[i] = read_byte(b->d, offset + i);
	pthread_mutex_unlock(&b->d->lock);
}

static const char *bar_reg_name(void *opaque, uint64_t offset)
{
	struct testdev_bar *b = opaque;
	uint64_t tests = b->bar == BAR_MMIO ? TESTDEV_MEMSIZE : TESTDEV_IOSIZE;

	if (offset >= tests)
		return offset < tests + TESTDEV_NR_TESTS ? "TEST_WRITE" : NULL;
	if (offset < offsetof(struct testdev_hdr, width))
		return "TEST";
	if (offset < offsetof(struct testdev_hdr, pad0))
		return "WIDTH";
	if (offset < offsetof(struct testdev_hdr, offset))
		return NULL;
	if (offset < offsetof(struct testdev_hdr, data))
		return "OFFSET";
	if (offset < offsetof(struct testdev_hdr, pad1))
		return "DATA";
	if (offset < offsetof(struct testdev_hdr, count))
		return NULL;
	if (offset < offsetof(struct testdev_hdr, name))
		return "COUNT";
	return "NAME";
}

static const struct bus_ops bar_ops = {
	.read = bar_read,
	.write = bar_write,
	.reg_name = bar_reg_name,
};

/* The host's lock is held: only the device's own is taken here. */
static void testdev_bar_moved(struct pci_device *pci, unsigned bar, uint64_t base)
{
	struct pci_testdev *d = pci->opaque;

	if (bar > BAR_PIO)
		return;
	pthread_mutex_lock(&d->lock);
	d->bar_base[bar] = base;
	if (d->current >= 0 && test_bar(d->current) == bar)
		test_place(d, d->current, true);
	pthread_mutex_unlock(&d->lock);
}

static void testdev_ring(void *opaque, uint64_t rings)
{
	struct iotest *t = opaque;

	atomic_fetch_add_explicit(&t->rings, rings, memory_order_relaxed);
}

static void pci_testdev_report(void *opaque, struct device_report *out)
{
	struct pci_testdev *d = opaque;
	bool in_kernel = false;
	uint64_t rings = 0;

	for (unsigned i = 0; i < TESTDEV_NR_TESTS; i++) {
		if (!d->tests[i].db)
			continue;
		in_kernel |= doorbell_in_kernel(d->tests[i].db);
		rings += atomic_load_explicit(&d->tests[i].rings, memory_order_relaxed);
	}
	snprintf(out->path, sizeof(out->path), "eventfd tests: %s",
		 in_kernel ? "ioeventfd (KVM)" : "userspace doorbell");
	device_report_add(out, "doorbell_rings", rings);
}

static void pci_testdev_release(void *state)
{
	struct pci_testdev *d = state;

	for (unsigned i = 0; i < TESTDEV_NR_TESTS; i++)
		if (d->tests[i].db)
			doorbell_remove(d->tests[i].db);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static int test_init(struct pci_testdev *d, unsigned i)
{
	static const char *const kinds[] = { "no-eventfd", "wildcard-eventfd",
					     "datamatch-eventfd" };
	struct iotest *t = &d->tests[i];
	unsigned kind = i % TESTDEV_NR_KINDS;
	bool pio = test_bar(i) == BAR_PIO;
	struct doorbell_desc db;

	t->hdr.test = i;
	t->hdr.width = TESTDEV_WIDTH;
	t->hdr.offset = htole32((pio ? TESTDEV_IOSIZE : TESTDEV_MEMSIZE) + i * TESTDEV_WIDTH);
	t->match = kind != KIND_WILDCARD;
	t->hdr.data = t->match ? TESTDEV_DATAMATCH : TESTDEV_NOMATCH;
	snprintf(t->hdr.name, sizeof(t->hdr.name), "%s-%s", pio ? "portio" : "mmio", kinds[kind]);
	t->bufsize = offsetof(struct testdev_hdr, name) + strlen(t->hdr.name) + 1;
	if (kind == KIND_NO_EVENTFD)
		return 0;
	db = (struct doorbell_desc){
		.name = "pci-testdev", .space = pio ? BUS_PIO : BUS_MMIO, .addr = BUS_UNMAPPED,
		.len = TESTDEV_WIDTH, .match = t->match, .value = t->hdr.data, .in_kernel = true,
		.ring = testdev_ring, .opaque = t,
	};
	return machine_doorbell_add(d->m, &db, &t->db);
}

static int pci_testdev_create(struct machine *m, const struct vdev_spec *vs)
{
	struct pci_testdev *d;
	struct testdev_bar *bars;
	char summary[64];
	int ret;

	(void)vs;
	if (!m->pci)
		return report(-ENODEV, "pci-testdev: the machine has no PCI host");
	d = machine_alloc_device(m, sizeof(*d), pci_testdev_release);
	bars = machine_alloc_device(m, 2 * sizeof(*bars), NULL);
	if (!d || !bars)
		return report(-ENOMEM, "pci-testdev: out of memory");
	d->m = m;
	d->current = -1;
	d->bar_base[BAR_MMIO] = d->bar_base[BAR_PIO] = BUS_UNMAPPED;
	pthread_mutex_init(&d->lock, NULL);
	for (unsigned i = 0; i < TESTDEV_NR_TESTS; i++) {
		ret = test_init(d, i);
		if (ret < 0)
			return report(ret, "pci-testdev: cannot add the doorbell of test %u", i);
	}
	bars[0] = (struct testdev_bar){ d, BAR_MMIO };
	bars[1] = (struct testdev_bar){ d, BAR_PIO };
	/* No interrupt pin, as QEMU's. */
	pci_device_init(&d->pci, "pci-testdev", TESTDEV_VENDOR, TESTDEV_DEVICE, TESTDEV_CLASS, 0);
	le_store(d->pci.cfg + PCI_SUBSYSTEM_VENDOR_ID, TESTDEV_SUBVENDOR, 2);
	le_store(d->pci.cfg + PCI_SUBSYSTEM_ID, TESTDEV_SUBDEVICE, 2);
	d->pci.bar[BAR_MMIO] = (struct pci_bar){
		.size = 2 * TESTDEV_MEMSIZE, .name = "pci-testdev", .ops = &bar_ops,
		.opaque = &bars[0],
	};
	d->pci.bar[BAR_PIO] = (struct pci_bar){
		.size = 2 * TESTDEV_IOSIZE, .io = true, .name = "pci-testdev", .ops = &bar_ops,
		.opaque = &bars[1],
	};
	d->pci.bar_moved = testdev_bar_moved;
	d->pci.opaque = d;
	ret = pci_host_add_device(m->pci, &d->pci);
	if (ret < 0)
		return ret;
	snprintf(summary, sizeof(summary), "pci 00:%02x.%u", d->pci.slot, d->pci.function);
	ret = machine_add_report(m, "pci-testdev", summary, pci_testdev_report, d);
	return ret < 0 ? report(ret, "pci-testdev: out of memory") : 0;
}

static const struct vdev_opt_desc pci_testdev_opts[] = {
	{ .key = NULL }
};

const struct vdev_type pci_testdev_vdev = {
	.name = "pci-testdev",
	.help = "QEMU's pci-testdev (1b36:0005), which kvm-unit-tests' vmexit uses: in BAR0 "
		"(MMIO) and BAR1 (ports) a test register and writes that exit, or end in an "
		"ioeventfd with or without a value match",
	.opts = pci_testdev_opts,
	.create = pci_testdev_create,
};
