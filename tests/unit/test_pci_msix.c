// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSI-X through the PCI host and the fake machine: the capability as Linux
 * finds and programs it, table programming into interrupt events (the
 * userspace path's msi_send calls, the in-kernel path's routes and irqfds),
 * masking, the PBA and delivery on unmask, and hostile table accesses.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_machine.h"
#include "pci_guest.h"
#include "qlite/pci.h"
#include "qlite/pci_msix.h"
#include "qlite/util.h"

#define NR_VECTORS	8
#define TABLE		0x000	/* in BAR0, as QEMU lays out its virtio MSI-X BAR */
#define PBA		0x800
#define BAR0		0xc0000000ULL
#define MSI_GSI0	24	/* the fake kernel's first MSI route */

#define ADDR_LO		0x0
#define ADDR_HI		0x4
#define DATA		0x8
#define CTRL		0xc

#define FLAGS_ENABLE	0x8000u
#define FLAGS_MASKALL	0x4000u

struct msix_dev {
	struct pci_device pci;
	struct pci_msix msix;
};

struct ctx {
	struct fake_machine *fm;
	struct pci_host *host;
	struct msix_dev d;
	bool kernel;		/* the in-kernel path (routes and irqfds) */
	unsigned cap;
	/* A device a test builds by hand: the machine releases its MSI-X at teardown. */
	struct pci_device more_dev;
	struct pci_msix more_msix;
};

static void dev_cfg_written(struct pci_device *dev, unsigned offset, unsigned len)
{
	struct msix_dev *d = dev->opaque;

	pci_msix_cfg_written(&d->msix, offset, len);
}

/* The device sits in slot 1. */
static uint32_t cfg_read(struct ctx *c, unsigned reg, unsigned len)
{
	return pci_guest_cfg_read(c->fm, 1, reg, len);
}

static void cfg_write(struct ctx *c, unsigned reg, unsigned len, uint32_t v)
{
	pci_guest_cfg_write(c->fm, 1, reg, len, v);
}

static struct ctx *ctx_create(bool accel, bool in_kernel)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct msix_dev *d;

	assert_non_null(c);
	c->fm = accel ? fake_machine_create_accel() : fake_machine_create();
	c->kernel = accel && in_kernel;
	c->host = pci_host_create(&c->fm->m);
	assert_non_null(c->host);
	d = &c->d;
	pci_device_init(&d->pci, "msix-test", 0x1af4, 0x1041, 0x020000, 1);
	d->pci.bar[0] = (struct pci_bar){ .size = 4096, .name = "msix-test msix",
					  .ops = &pci_msix_bar_ops, .opaque = &d->msix };
	d->pci.cfg_written = dev_cfg_written;
	d->pci.opaque = d;
	assert_int_equal(pci_msix_init(&d->msix, &d->pci, &c->fm->m, NR_VECTORS, 0, TABLE, PBA,
				       in_kernel), 0);
	assert_int_equal(pci_host_add_device(c->host, &d->pci), 0);
	assert_int_equal(d->pci.slot, 1);
	assert_int_equal(cfg_read(c, 0x10, 4), BAR0);
	c->cap = pci_guest_find_cap(c->fm, 1, 0x11, 0);
	assert_int_not_equal(c->cap, 0);
	return c;
}

static int setup(void **state)
{
	bool kernel = *state && *(bool *)*state;

	*state = ctx_create(kernel, kernel);
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	pci_host_destroy(c->host);
	fake_machine_destroy(c->fm);	/* destroys the vectors' events */
	free(c);
	return 0;
}

static bool in_kernel = true;

/* Each test on the userspace path (msi_send), then on the fake kernel's routes and irqfds. */
#define BOTH_PATHS(t)								\
	{ #t, t, setup, teardown, NULL },					\
	{ #t " (in kernel)", t, setup, teardown, &in_kernel }

static void entry_write(struct ctx *c, unsigned v, unsigned field, uint32_t val)
{
	fake_mmio_write(c->fm, BAR0 + TABLE + 16 * v + field, 4, val);
}

static uint32_t entry_read(struct ctx *c, unsigned v, unsigned field)
{
	return fake_mmio_read(c->fm, BAR0 + TABLE + 16 * v + field, 4);
}

static uint64_t pba(struct ctx *c)
{
	return fake_mmio_read(c->fm, BAR0 + PBA, 8);
}

static void flags_write(struct ctx *c, uint16_t v)
{
	cfg_write(c, c->cap + 2, 2, v);
}

/* Each vector gets its own message: vector v to APIC v, vector 0x40 + v. */
static uint64_t msg_addr(unsigned v)
{
	return 0xfee00000 | v << 12;
}

static uint32_t msg_data(unsigned v)
{
	return 0x4040 + v;
}

/* Program vector v with its message and leave its mask bit as mask. */
static void program(struct ctx *c, unsigned v, bool mask)
{
	entry_write(c, v, ADDR_LO, (uint32_t)msg_addr(v));
	entry_write(c, v, ADDR_HI, msg_addr(v) >> 32);
	entry_write(c, v, DATA, msg_data(v));
	entry_write(c, v, CTRL, mask);
}

/*
 * Messages vector v sent since the last look, each checked against what the
 * table says: msi_send calls on the userspace path, the irqfd count and its
 * route on the in-kernel one.
 */
static unsigned sent(struct ctx *c, unsigned v, uint64_t addr, uint32_t data)
{
	struct fake_machine *fm = c->fm;
	unsigned n = 0, kept = 0;

	if (c->kernel) {
		uint64_t count = fake_irqfd_drain(fm, MSI_GSI0 + v);

		for (unsigned i = 0; count && i < fm->nr_routes; i++) {
			if (fm->routes[i].gsi != (int)(MSI_GSI0 + v))
				continue;
			assert_int_equal(fm->routes[i].addr, addr);
			assert_int_equal(fm->routes[i].data, data);
		}
		assert_int_equal(fm->nr_msi_calls, 0);
		return count;
	}
	for (unsigned i = 0; i < fm->nr_msi_calls; i++) {
		if (fm->msi_calls[i].addr == addr && fm->msi_calls[i].data == data)
			n++;
		else
			fm->msi_calls[kept++] = fm->msi_calls[i];
	}
	fm->nr_msi_calls = kept;
	return n;
}

static unsigned sent_own(struct ctx *c, unsigned v)
{
	return sent(c, v, msg_addr(v), msg_data(v));
}

static void assert_nothing_sent(struct ctx *c)
{
	assert_int_equal(c->fm->nr_msi_calls, 0);
	for (unsigned v = 0; c->kernel && v < NR_VECTORS; v++)
		assert_int_equal(fake_irqfd_drain(c->fm, MSI_GSI0 + v), 0);
}

static void test_capability(void **state)
{
	struct ctx *c = *state;
	struct pci_msix *x = &c->d.msix;

	assert_int_equal(c->cap, 0x40);
	assert_int_equal(cfg_read(c, c->cap, 2), 0x0011);		/* the only capability */
	assert_int_equal(cfg_read(c, c->cap + 2, 2), NR_VECTORS - 1);	/* off, unmasked */
	assert_int_equal(cfg_read(c, c->cap + 4, 4), TABLE | 0);	/* BIR 0 */
	assert_int_equal(cfg_read(c, c->cap + 8, 4), PBA | 0);
	assert_false(pci_msix_enabled(x));

	/* Only Enable and Function Mask are writable. */
	flags_write(c, 0xffff);
	assert_int_equal(cfg_read(c, c->cap + 2, 2), 0xc000 | (NR_VECTORS - 1));
	assert_true(pci_msix_enabled(x));
	cfg_write(c, c->cap, 4, 0);
	cfg_write(c, c->cap + 4, 4, 0xffffffff);
	cfg_write(c, c->cap + 8, 4, 0xffffffff);
	assert_int_equal(cfg_read(c, c->cap, 4), (NR_VECTORS - 1) << 16 | 0x0011);
	assert_int_equal(cfg_read(c, c->cap + 4, 4), TABLE);
	assert_int_equal(cfg_read(c, c->cap + 8, 4), PBA);
	assert_false(pci_msix_enabled(x));
	/* A byte write to the upper half of Message Control, as some drivers do. */
	cfg_write(c, c->cap + 3, 1, 0x80);
	assert_true(pci_msix_enabled(x));

	/* Out of reset every vector is masked and nothing is pending. */
	for (unsigned v = 0; v < NR_VECTORS; v++) {
		assert_int_equal(entry_read(c, v, CTRL), 1);
		assert_int_equal(entry_read(c, v, DATA), 0);
	}
	assert_int_equal(pba(c), 0);
	if (c->kernel) {
		assert_int_equal(c->fm->nr_routes, NR_VECTORS);
		assert_int_equal(c->fm->nr_irqfds, NR_VECTORS);
	} else {
		assert_int_equal(c->fm->nr_routes, 0);
		assert_int_equal(c->fm->nr_irqfds, 0);
	}
}

/* As Linux's msix_capability_init(): enable with the function masked, program, unmask. */
static void test_program_and_deliver(void **state)
{
	struct ctx *c = *state;
	struct pci_msix *x = &c->d.msix;
	unsigned writes;

	/* Before MSI-X is on, a notify only leaves a pending bit. */
	pci_msix_notify(x, 0);
	assert_nothing_sent(c);
	assert_int_equal(pba(c), 0x1);

	flags_write(c, FLAGS_ENABLE | FLAGS_MASKALL);
	writes = c->fm->route_writes;
	program(c, 0, false);
	program(c, 2, true);
	assert_int_equal(entry_read(c, 0, ADDR_LO), 0xfee00000);
	assert_int_equal(entry_read(c, 2, ADDR_LO), 0xfee02000);
	assert_int_equal(entry_read(c, 2, DATA), 0x4042);
	assert_int_equal(entry_read(c, 0, CTRL), 0);
	assert_nothing_sent(c);
	/* Programming behind the function mask costs no route update. */
	assert_int_equal(c->fm->route_writes, writes);

	/* Function unmasked: vector 0's pending message goes, with its route. */
	flags_write(c, FLAGS_ENABLE);
	assert_int_equal(sent_own(c, 0), 1);
	assert_nothing_sent(c);
	assert_int_equal(pba(c), 0);
	if (c->kernel)
		assert_int_equal(c->fm->route_writes, writes + 1);

	/* Deliverable: each notify is one message. */
	pci_msix_notify(x, 0);
	pci_msix_notify(x, 0);
	assert_int_equal(sent_own(c, 0), 2);

	/* Vector 2 is masked: pending until the guest unmasks it, then once. */
	pci_msix_notify(x, 2);
	pci_msix_notify(x, 2);
	assert_nothing_sent(c);
	assert_int_equal(pba(c), 0x4);
	assert_int_equal(fake_mmio_read(c->fm, BAR0 + PBA, 4), 0x4);
	entry_write(c, 2, CTRL, 0);
	assert_int_equal(sent_own(c, 2), 1);
	assert_int_equal(pba(c), 0);
	assert_nothing_sent(c);

	/* Masked again: pending again, nothing sent; the other vectors are untouched. */
	entry_write(c, 2, CTRL, 1);
	pci_msix_notify(x, 2);
	pci_msix_notify(x, 0);
	assert_int_equal(sent_own(c, 0), 1);
	assert_nothing_sent(c);
	assert_int_equal(pba(c), 0x4);
	/* A vector never programmed, unmasked: it goes where the (zero) entry says. */
	entry_write(c, 7, CTRL, 0);
	pci_msix_notify(x, 7);
	assert_int_equal(sent(c, 7, 0, 0), 1);
}

static void test_function_mask(void **state)
{
	struct ctx *c = *state;
	struct pci_msix *x = &c->d.msix;

	flags_write(c, FLAGS_ENABLE);
	program(c, 0, false);
	program(c, 1, false);
	program(c, 3, true);
	flags_write(c, FLAGS_ENABLE | FLAGS_MASKALL);
	for (unsigned v = 0; v < 4; v++)
		pci_msix_notify(x, v);
	assert_nothing_sent(c);
	assert_int_equal(pba(c), 0xf);
	/* The function mask leaves the vectors' own mask bits alone. */
	assert_int_equal(entry_read(c, 0, CTRL), 0);
	assert_int_equal(entry_read(c, 3, CTRL), 1);

	/* Unmasking the function sends what each unmasked vector has pending. */
	flags_write(c, FLAGS_ENABLE);
	assert_int_equal(sent_own(c, 0), 1);
	assert_int_equal(sent_own(c, 1), 1);
	assert_nothing_sent(c);
	assert_int_equal(pba(c), 0xc);
	/* Vector 3 keeps its own mask: its message waits for it. */
	entry_write(c, 3, CTRL, 0);
	assert_int_equal(sent_own(c, 3), 1);
	assert_int_equal(pba(c), 0x4);

	/* A config write that leaves the bits alone sends nothing more. */
	flags_write(c, FLAGS_ENABLE);
	cfg_write(c, c->cap, 4, FLAGS_ENABLE << 16);
	assert_nothing_sent(c);
}

static void test_disable(void **state)
{
	struct ctx *c = *state;
	struct pci_msix *x = &c->d.msix;

	flags_write(c, FLAGS_ENABLE);
	program(c, 1, false);
	pci_msix_notify(x, 1);
	assert_int_equal(sent_own(c, 1), 1);

	/* Off: nothing goes out, the vector is pending, the table is still there. */
	flags_write(c, 0);
	assert_false(pci_msix_enabled(x));
	pci_msix_notify(x, 1);
	assert_nothing_sent(c);
	assert_int_equal(pba(c), 0x2);
	assert_int_equal(entry_read(c, 1, DATA), msg_data(1));
	/* On with the function masked: still held. */
	flags_write(c, FLAGS_ENABLE | FLAGS_MASKALL);
	assert_nothing_sent(c);
	flags_write(c, FLAGS_ENABLE);
	assert_true(pci_msix_enabled(x));
	assert_int_equal(sent_own(c, 1), 1);
	assert_int_equal(pba(c), 0);
}

/* The event follows the entry: Linux rewrites it masked (affinity), some guests unmasked. */
static void test_reprogram(void **state)
{
	struct ctx *c = *state;
	struct pci_msix *x = &c->d.msix;
	unsigned writes;

	flags_write(c, FLAGS_ENABLE);
	program(c, 4, false);
	writes = c->fm->route_writes;

	/* Masked rewrite, as Linux's __pci_write_msi_msg(): the new message after unmask. */
	entry_write(c, 4, CTRL, 1);
	entry_write(c, 4, ADDR_LO, 0xfee05000);
	entry_write(c, 4, DATA, 0x4099);
	pci_msix_notify(x, 4);
	entry_write(c, 4, CTRL, 0);
	assert_int_equal(sent(c, 4, 0xfee05000, 0x4099), 1);
	if (c->kernel)
		assert_int_equal(c->fm->route_writes, writes + 1);

	/* Unmasked rewrite: takes effect at once. */
	entry_write(c, 4, DATA, 0x40aa);
	pci_msix_notify(x, 4);
	assert_int_equal(sent(c, 4, 0xfee05000, 0x40aa), 1);
	if (c->kernel)
		assert_int_equal(c->fm->route_writes, writes + 2);

	/* Writing the same message, or toggling the mask, updates no route. */
	entry_write(c, 4, DATA, 0x40aa);
	entry_write(c, 4, CTRL, 1);
	entry_write(c, 4, CTRL, 0);
	flags_write(c, FLAGS_ENABLE | FLAGS_MASKALL);
	flags_write(c, FLAGS_ENABLE);
	if (c->kernel)
		assert_int_equal(c->fm->route_writes, writes + 2);
	assert_nothing_sent(c);

	/* A 64-bit address in one qword write. */
	fake_mmio_write(c->fm, BAR0 + TABLE + 16 * 4, 8, 0x00000001fee06000ULL);
	pci_msix_notify(x, 4);
	assert_int_equal(sent(c, 4, 0x1fee06000ULL, 0x40aa), 1);
}

/* Aligned dwords and qwords reach the table; other sizes read 0 and are dropped. */
static void test_access_sizes(void **state)
{
	struct ctx *c = *state;
	struct fake_machine *fm = c->fm;
	const struct bus_region *r;
	uint64_t e = BAR0 + TABLE + 16 * 5;

	fake_mmio_write(fm, e + ADDR_LO, 8, 0x12345678fee0f003ULL);
	fake_mmio_write(fm, e + DATA, 8, 0xfffffffe00004141ULL);
	/* Address bits 1:0 and control bits 31:1 are not implemented. */
	assert_int_equal(fake_mmio_read(fm, e + ADDR_LO, 8), 0x12345678fee0f000ULL);
	assert_int_equal(fake_mmio_read(fm, e + DATA, 8), 0x0000000000004141ULL);
	assert_int_equal(fake_mmio_read(fm, e + ADDR_HI, 4), 0x12345678);

	/* Bytes, words and misaligned accesses: ignored, read as 0. */
	fake_mmio_write(fm, e + DATA, 1, 0x99);
	fake_mmio_write(fm, e + DATA, 2, 0x9999);
	fake_mmio_write(fm, e + DATA + 2, 4, 0x99999999);
	fake_mmio_write(fm, e + ADDR_HI, 8, 0x9999999999999999ULL);
	fake_mmio_write(fm, e + CTRL, 1, 0x01);
	assert_int_equal(fake_mmio_read(fm, e + DATA, 4), 0x4141);
	assert_int_equal(fake_mmio_read(fm, e + CTRL, 4), 0);
	assert_int_equal(fake_mmio_read(fm, e + ADDR_HI, 4), 0x12345678);
	assert_int_equal(fake_mmio_read(fm, e + DATA, 1), 0);
	assert_int_equal(fake_mmio_read(fm, e + DATA, 2), 0);
	assert_int_equal(fake_mmio_read(fm, e + DATA + 2, 4), 0);
	assert_int_equal(fake_mmio_read(fm, e + ADDR_HI, 8), 0);

	/* The PBA is read-only; the gap between table and PBA and the rest read 0. */
	pci_msix_notify(&c->d.msix, 6);
	fake_mmio_write(fm, BAR0 + PBA, 8, 0);
	fake_mmio_write(fm, BAR0 + PBA, 4, 0);
	assert_int_equal(fake_mmio_read(fm, BAR0 + PBA, 8), 0x40);
	assert_int_equal(fake_mmio_read(fm, BAR0 + PBA + 4, 4), 0);
	assert_int_equal(fake_mmio_read(fm, BAR0 + PBA, 1), 0);
	assert_int_equal(fake_mmio_read(fm, BAR0 + PBA + 8, 4), 0);
	assert_int_equal(fake_mmio_read(fm, BAR0 + 16 * NR_VECTORS, 4), 0);
	assert_int_equal(fake_mmio_read(fm, BAR0 + 0xffc, 4), 0);
	fake_mmio_write(fm, BAR0 + 16 * NR_VECTORS, 4, 0xffffffff);

	/* The exit report names the fields. */
	r = bus_lookup(fm->m.bus[BUS_MMIO], BAR0, 4);
	assert_non_null(r);
	assert_string_equal(r->ops->reg_name(r->opaque, 16 * 3 + ADDR_LO), "MSIX_ADDR_LO");
	assert_string_equal(r->ops->reg_name(r->opaque, 16 * 3 + ADDR_HI), "MSIX_ADDR_HI");
	assert_string_equal(r->ops->reg_name(r->opaque, 16 * 3 + DATA), "MSIX_DATA");
	assert_string_equal(r->ops->reg_name(r->opaque, 16 * 7 + CTRL), "MSIX_VECTOR_CTRL");
	assert_string_equal(r->ops->reg_name(r->opaque, PBA), "MSIX_PBA");
	assert_null(r->ops->reg_name(r->opaque, PBA + 8));
	assert_null(r->ops->reg_name(r->opaque, 16 * NR_VECTORS));
}

/*
 * What a device's BAR handler might pass on from a hostile guest: offsets
 * past the table, near UINT64_MAX, straddling its end, any length; vector
 * numbers past it. None reaches memory outside the table, the PBA or the
 * caller's len bytes.
 */
static void test_hostile(void **state)
{
	static const uint64_t offsets[] = {
		16 * NR_VECTORS, 16 * NR_VECTORS - 2, 16 * NR_VECTORS + 4, 16 * NR_VECTORS - 1,
		PBA, 0x1000, 1ULL << 32, UINT64_MAX - 3, UINT64_MAX - 7, UINT64_MAX,
	};
	static const unsigned lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 12, 16, 64 };
	struct ctx *c = *state;
	struct pci_msix *x = &c->d.msix;
	uint8_t before[16 * NR_VECTORS], after[16 * NR_VECTORS];
	uint8_t buf[80], ones[80];

	for (unsigned v = 0; v < NR_VECTORS; v++)
		program(c, v, v & 1);
	for (unsigned o = 0; o < sizeof(before); o += 4)
		pci_msix_table_read(x, o, before + o, 4);
	memset(ones, 0xff, sizeof(ones));

	for (unsigned i = 0; i < ARRAY_SIZE(offsets); i++) {
		for (unsigned j = 0; j < ARRAY_SIZE(lens); j++) {
			unsigned len = lens[j];

			pci_msix_table_write(x, offsets[i], ones, len);
			/* A read fills its len bytes (with zeros) and nothing past them. */
			memset(buf, 0xee, sizeof(buf));
			pci_msix_table_read(x, offsets[i], buf, len);
			for (unsigned k = 0; k < sizeof(buf); k++)
				assert_int_equal(buf[k], k < len ? 0 : 0xee);
			memset(buf, 0xee, sizeof(buf));
			pci_msix_pba_read(x, offsets[i], buf, len);
			for (unsigned k = 0; k < sizeof(buf); k++)
				assert_int_equal(buf[k], k < len ? 0 : 0xee);
		}
	}
	/* Misaligned and odd-sized accesses inside the table change nothing either. */
	for (unsigned o = 0; o < sizeof(before); o++)
		for (unsigned j = 0; j < ARRAY_SIZE(lens); j++)
			if (lens[j] != 4 && lens[j] != 8)
				pci_msix_table_write(x, o, ones, lens[j]);
			else if (o % lens[j])
				pci_msix_table_write(x, o, ones, lens[j]);
	for (unsigned o = 0; o < sizeof(after); o += 4)
		pci_msix_table_read(x, o, after + o, 4);
	assert_memory_equal(before, after, sizeof(before));

	/* Vector numbers past the table (a virtio queue's NO_VECTOR is 0xffff). */
	flags_write(c, FLAGS_ENABLE);
	pci_msix_notify(x, NR_VECTORS);
	pci_msix_notify(x, 0xffff);
	pci_msix_notify(x, UINT_MAX);
	assert_nothing_sent(c);
	assert_int_equal(pba(c), 0);
	/* The last PBA bit and the last entry are in reach, nothing after them. */
	pci_msix_notify(x, NR_VECTORS - 1);
	assert_int_equal(pba(c), 1u << (NR_VECTORS - 1));
	pci_msix_table_read(x, 16 * NR_VECTORS - 8, buf, 8);
	assert_int_equal(le_load(buf, 8), (uint64_t)1 << 32 | msg_data(NR_VECTORS - 1));
}

/* in_kernel is the device's choice: off, a machine with KVM_IRQFD still injects from userspace. */
static void test_in_kernel_off(void **state)
{
	struct ctx *c = ctx_create(true, false);

	*state = c;
	assert_int_equal(c->fm->nr_routes, 0);
	assert_int_equal(c->fm->nr_irqfds, 0);
	flags_write(c, FLAGS_ENABLE);
	program(c, 5, false);
	pci_msix_notify(&c->d.msix, 5);
	assert_int_equal(c->fm->nr_msi_calls, 1);
	assert_int_equal(sent_own(c, 5), 1);
	assert_int_equal(c->fm->route_writes, 0);
}

/*
 * The kernel refuses a route update (here: the fake kernel lost the route):
 * the message is held pending rather than sent where the vector used to
 * point, said once, and goes out once the route takes.
 */
static void test_route_refused(void **state)
{
	struct ctx *c = *state;
	struct fake_machine *fm = c->fm;
	struct pci_msix *x = &c->d.msix;
	struct fake_route saved;
	unsigned i;

	flags_write(c, FLAGS_ENABLE);
	program(c, 1, false);
	pci_msix_notify(x, 1);
	assert_int_equal(sent_own(c, 1), 1);

	for (i = 0; i < fm->nr_routes && fm->routes[i].gsi != MSI_GSI0 + 1; i++)
		;
	assert_true(i < fm->nr_routes);
	saved = fm->routes[i];
	fm->m.accel->msi_route_free(fm->m.accel_ctx, saved.gsi);
	entry_write(c, 1, DATA, 0x4077);
	entry_write(c, 1, DATA, 0x4078);
	pci_msix_notify(x, 1);
	assert_nothing_sent(c);
	assert_int_equal(pba(c), 0x2);

	/* The route is back: the next unmask updates it and sends what is pending. */
	fm->routes[fm->nr_routes++] = saved;
	entry_write(c, 1, CTRL, 1);
	entry_write(c, 1, CTRL, 0);
	assert_int_equal(sent(c, 1, msg_addr(1), 0x4078), 1);
	assert_int_equal(pba(c), 0);
}

static void test_init_errors(void **state)
{
	struct ctx *c = *state;
	struct pci_device *dev = &c->more_dev;
	struct pci_msix *x = &c->more_msix;
	struct machine *m = &c->fm->m;
	unsigned routes = c->fm->nr_routes, off;
	uint8_t buf[8];

	pci_device_init(dev, "bad", 0x1af4, 0x1041, 0x020000, 1);
	dev->bar[0] = (struct pci_bar){ .size = 4096, .ops = &pci_msix_bar_ops, .opaque = x };
	dev->bar[1] = (struct pci_bar){ .size = 256, .io = true, .ops = &pci_msix_bar_ops,
					.opaque = x };
	/* Vector counts, BARs and layouts that cannot be. */
	assert_int_equal(pci_msix_init(x, dev, m, 0, 0, 0, 0x800, true), -EINVAL);
	assert_int_equal(pci_msix_init(x, dev, m, 2049, 0, 0, 0x800, true), -EINVAL);
	assert_int_equal(pci_msix_init(x, dev, m, 4, 1, 0, 0x80, true), -EINVAL);	/* I/O */
	assert_int_equal(pci_msix_init(x, dev, m, 4, 2, 0, 0x80, true), -EINVAL);	/* none */
	assert_int_equal(pci_msix_init(x, dev, m, 4, 6, 0, 0x80, true), -EINVAL);
	assert_int_equal(pci_msix_init(x, dev, m, 4, UINT_MAX, 0, 0x80, true), -EINVAL);
	assert_int_equal(pci_msix_init(x, dev, m, 4, 0, 4, 0x80, true), -EINVAL);	/* align */
	assert_int_equal(pci_msix_init(x, dev, m, 4, 0, 0, 0x84, true), -EINVAL);
	assert_int_equal(pci_msix_init(x, dev, m, 4, 0, 0, 0x38, true), -EINVAL);	/* apart */
	assert_int_equal(pci_msix_init(x, dev, m, 4, 0, 0x40, 0x78, true), -EINVAL);
	assert_int_equal(pci_msix_init(x, dev, m, 4, 0, 0xfc8, 0, true), -EINVAL);	/* past */
	assert_int_equal(pci_msix_init(x, dev, m, 4, 0, 0, 0x1000, true), -EINVAL);
	assert_int_equal(pci_msix_init(x, dev, m, 4, 0, UINT64_MAX - 7, 0x800, true), -EINVAL);
	assert_int_equal(pci_msix_init(x, dev, m, 4, 0, 0, UINT64_MAX - 7, true), -EINVAL);
	assert_int_equal(pci_msix_init(x, dev, m, 257, 0, 0, 0x800, true), -EINVAL);
	/* None of them left a capability or an event behind. */
	assert_int_equal(dev->cfg[0x34], 0);
	assert_int_equal(dev->cfg[0x06] & 0x10, 0);
	assert_int_equal(c->fm->nr_routes, routes);

	/* Config space full: the capability's -ENOSPC, and the events are gone again. */
	assert_int_equal(pci_add_cap(dev, 0x09, 190, &off), 0);
	assert_int_equal(pci_msix_init(x, dev, m, 4, 0, 0, 0x800, true), -ENOSPC);
	assert_int_equal(c->fm->nr_routes, routes);

	/* The largest table (32 KiB) and its PBA in a 64 KiB BAR, the PBA's last qword last. */
	pci_device_init(dev, "big", 0x1af4, 0x1041, 0x020000, 1);
	dev->bar[0].size = 64 * KiB;
	assert_int_equal(pci_msix_init(x, dev, m, 2048, 0, 0, 64 * KiB - 256, false), 0);
	assert_int_equal(le_load(dev->cfg + 0x42, 2), 0x7ff);
	assert_int_equal(le_load(dev->cfg + 0x48, 4), 64 * KiB - 256);
	pci_msix_notify(x, 2047);
	pci_msix_pba_read(x, 248, buf, 8);
	assert_int_equal(le_load(buf, 8), 1ULL << 63);
	pci_msix_pba_read(x, 256, buf, 8);
	assert_int_equal(le_load(buf, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_PATHS(test_capability),
		BOTH_PATHS(test_program_and_deliver),
		BOTH_PATHS(test_function_mask),
		BOTH_PATHS(test_disable),
		BOTH_PATHS(test_reprogram),
		cmocka_unit_test_setup_teardown(test_access_sizes, setup, teardown),
		cmocka_unit_test_teardown(test_in_kernel_off, teardown),
		{ "test_route_refused (in kernel)", test_route_refused, setup, teardown,
		  &in_kernel },
		BOTH_PATHS(test_hostile),
		{ "test_init_errors (in kernel)", test_init_errors, setup, teardown, &in_kernel },
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
