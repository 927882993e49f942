// SPDX-License-Identifier: GPL-2.0-only
/* PCI host: enumeration through 0xcf8/0xcfc, BAR sizing and mapping, INTx, 0xcf9. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_machine.h"
#include "pci_guest.h"
#include "qlite/boot.h"
#include "qlite/guest_mem.h"
#include "qlite/pci.h"
#include "qlite/platform.h"
#include "qlite/util.h"

#define CA(slot, reg)	(0x80000000u | ((slot) << 11) | (reg))

struct bar_move {
	unsigned bar;
	uint64_t base;
};

struct test_dev {
	struct pci_device pci;
	unsigned reads, writes;
	uint64_t last_offset;
	unsigned cfg_written_calls;
	struct bar_move moves[16];	/* bar_moved calls, when the test asks for them */
	unsigned nr_moves;
};

static void tdev_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct test_dev *t = opaque;

	t->reads++;
	t->last_offset = offset;
	memset(data, 0xab, len);
}

static void tdev_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct test_dev *t = opaque;

	t->writes++;
	t->last_offset = offset;
}

static const struct bus_ops tdev_ops = { .read = tdev_read, .write = tdev_write };

static void tdev_cfg_written(struct pci_device *dev, unsigned offset, unsigned len)
{
	struct test_dev *t = dev->opaque;

	t->cfg_written_calls++;
}

static void tdev_bar_moved(struct pci_device *dev, unsigned bar, uint64_t base)
{
	struct test_dev *t = dev->opaque;

	assert_true(t->nr_moves < ARRAY_SIZE(t->moves));
	t->moves[t->nr_moves++] = (struct bar_move){ bar, base };
}

/* A device with a 4 KiB MMIO BAR0 and a 32-byte I/O BAR1. */
static void tdev_init(struct test_dev *t, uint16_t id, uint8_t pin)
{
	memset(t, 0, sizeof(*t));
	pci_device_init(&t->pci, "test", 0x1af4, id, 0x020000, pin);
	t->pci.bar[0] = (struct pci_bar){ .size = 4096, .name = "test mmio",
					  .ops = &tdev_ops, .opaque = t };
	t->pci.bar[1] = (struct pci_bar){ .size = 32, .io = true, .name = "test pio",
					  .ops = &tdev_ops, .opaque = t };
	t->pci.cfg_written = tdev_cfg_written;
	t->pci.opaque = t;
}

struct ctx {
	struct fake_machine *fm;
	struct pci_host *host;
	struct test_dev dev[2];
	struct test_dev more[32];	/* devices a test adds: they live as long as the host */
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->fm = fake_machine_create();
	c->host = pci_host_create(&c->fm->m);
	assert_non_null(c->host);
	assert_ptr_equal(c->fm->m.pci, c->host);
	tdev_init(&c->dev[0], 0x1000, 1);	/* slot 1, INTA */
	tdev_init(&c->dev[1], 0x1001, 2);	/* slot 2, INTB */
	assert_int_equal(pci_host_add_device(c->host, &c->dev[0].pci), 0);
	assert_int_equal(pci_host_add_device(c->host, &c->dev[1].pci), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	pci_host_destroy(c->host);
	fake_machine_destroy(c->fm);
	free(c);
	return 0;
}

static uint32_t cfg_read(struct ctx *c, unsigned slot, unsigned reg, unsigned len)
{
	fake_pio_write(c->fm, 0xcf8, 4, CA(slot, reg & 0xfc));
	return fake_pio_read(c->fm, 0xcfc + (reg & 3), len);
}

static void cfg_write(struct ctx *c, unsigned slot, unsigned reg, unsigned len, uint32_t v)
{
	fake_pio_write(c->fm, 0xcf8, 4, CA(slot, reg & 0xfc));
	fake_pio_write(c->fm, 0xcfc + (reg & 3), len, v);
}

static void test_enumeration(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(cfg_read(c, 0, 0x00, 4), 0x12378086);
	assert_int_equal(cfg_read(c, 0, 0x08, 4) >> 8, 0x060000);
	assert_int_equal(cfg_read(c, 1, 0x00, 4), 0x10001af4);
	assert_int_equal(cfg_read(c, 2, 0x00, 4), 0x10011af4);
	assert_int_equal(cfg_read(c, 1, 0x0c, 4) & 0x00ff0000, 0);	/* header type 0 */
	/* Empty slots, other buses and other functions master-abort: all-ones. */
	for (unsigned s = 3; s < 32; s++)
		assert_int_equal(cfg_read(c, s, 0x00, 4), 0xffffffff);
	fake_pio_write(c->fm, 0xcf8, 4, 0x80010000);		/* bus 1 */
	assert_int_equal(fake_pio_read(c->fm, 0xcfc, 4), 0xffffffff);
	fake_pio_write(c->fm, 0xcf8, 4, CA(1, 0) | 0x100);	/* function 1 */
	assert_int_equal(fake_pio_read(c->fm, 0xcfc, 2), 0xffff);
	/* Enable bit clear: CONFIG_DATA is plain unclaimed I/O. */
	fake_pio_write(c->fm, 0xcf8, 4, 0x00000800);
	assert_int_equal(fake_pio_read(c->fm, 0xcfc, 4), 0xffffffff);

	assert_int_equal(pci_host_nr_devices(c->host), 3);
	assert_int_equal(pci_host_device(c->host, 0)->slot, 0);
	assert_ptr_equal(pci_host_device(c->host, 1), &c->dev[0].pci);
	assert_ptr_equal(pci_host_device(c->host, 2), &c->dev[1].pci);
	assert_null(pci_host_device(c->host, 3));
}

static void test_config_address_register(void **state)
{
	struct ctx *c = *state;

	fake_pio_write(c->fm, 0xcf8, 4, 0xffffffff);
	/* Reserved bits 30:24 read zero; 1:0 stay, as in QEMU (see test_config_address_low_bits). */
	assert_int_equal(fake_pio_read(c->fm, 0xcf8, 4), 0x80ffffff);
	/* Only dword accesses reach CONFIG_ADDRESS. */
	fake_pio_write(c->fm, 0xcf8, 2, 0x1234);
	fake_pio_write(c->fm, 0xcfa, 1, 0x00);
	assert_int_equal(fake_pio_read(c->fm, 0xcf8, 4), 0x80ffffff);
	assert_int_equal(fake_pio_read(c->fm, 0xcf8, 2), 0xffff);
}

/*
 * kvm-unit-tests' pci_config_readw(dev, reg) writes reg unaligned into
 * CONFIG_ADDRESS and reads 0xcfc: QEMU ORs bits 1:0 into the byte lane.
 */
static void test_config_address_low_bits(void **state)
{
	struct ctx *c = *state;

	fake_pio_write(c->fm, 0xcf8, 4, 0x80000000 | (1 << 11) | 0x02);
	assert_int_equal(fake_pio_read(c->fm, 0xcfc, 2), 0x1000);	/* device ID, not vendor */
	assert_int_equal(fake_pio_read(c->fm, 0xcf8, 4), 0x80000802);
	fake_pio_write(c->fm, 0xcf8, 4, 0x80000000 | (1 << 11) | 0x01);
	assert_int_equal(fake_pio_read(c->fm, 0xcfc, 1), 0x1a);
	/* OR, not add: lane 2 of reg 2 is still byte 2. */
	fake_pio_write(c->fm, 0xcf8, 4, 0x80000000 | (1 << 11) | 0x02);
	assert_int_equal(fake_pio_read(c->fm, 0xcfe, 1), 0x00);
}

static void test_byte_lanes(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(cfg_read(c, 1, 0x00, 1), 0xf4);
	assert_int_equal(cfg_read(c, 1, 0x01, 1), 0x1a);
	assert_int_equal(cfg_read(c, 1, 0x02, 2), 0x1000);
	assert_int_equal(cfg_read(c, 1, 0x03, 1), 0x10);
	assert_int_equal(cfg_read(c, 1, 0x0b, 1), 0x02);	/* class: network */
	/* Latency timer is byte 1 of dword 0x0c. */
	cfg_write(c, 1, 0x0d, 1, 0x40);
	assert_int_equal(cfg_read(c, 1, 0x0c, 4), 0x00004000);
	assert_int_equal(cfg_read(c, 1, 0x0d, 1), 0x40);
	/* A word at 0xcfe reaches the upper half of the dword. */
	cfg_write(c, 1, 0x3c, 2, 0x0b);
	assert_int_equal(cfg_read(c, 1, 0x3c, 1), 0x0b);
	assert_int_equal(cfg_read(c, 1, 0x3e, 2), 0x0000);
}

static void test_read_only_fields(void **state)
{
	struct ctx *c = *state;

	cfg_write(c, 1, 0x00, 4, 0xffffffff);
	cfg_write(c, 1, 0x08, 4, 0xffffffff);
	assert_int_equal(cfg_read(c, 1, 0x00, 4), 0x10001af4);
	assert_int_equal(cfg_read(c, 1, 0x08, 4), 0x02000000);
	/* Interrupt line: assigned GSI, writable; pin: read-only. */
	assert_int_equal(cfg_read(c, 1, 0x3c, 1), c->dev[0].pci.gsi);
	cfg_write(c, 1, 0x3c, 4, 0x0000ff05);
	assert_int_equal(cfg_read(c, 1, 0x3c, 2), 0x0105);
	assert_true(c->dev[0].cfg_written_calls >= 3);
}

static void test_bar_assignment_and_dispatch(void **state)
{
	struct ctx *c = *state;
	struct fake_machine *fm = c->fm;
	const struct bus_region *r;

	assert_int_equal(cfg_read(c, 1, 0x10, 4), 0xc0000000);
	assert_int_equal(cfg_read(c, 1, 0x14, 4), 0xc001);
	assert_int_equal(cfg_read(c, 2, 0x10, 4), 0xc0001000);
	assert_int_equal(cfg_read(c, 2, 0x14, 4), 0xc021);
	assert_int_equal(cfg_read(c, 1, 0x18, 4), 0);		/* unused BAR */
	/* Decoding enabled at add time, as a BIOS leaves it. */
	assert_int_equal(cfg_read(c, 1, 0x04, 2) & 0x3, 0x3);
	r = bus_lookup(fm->m.bus[BUS_MMIO], 0xc0000010, 4);
	assert_non_null(r);
	assert_string_equal(r->name, "test mmio");
	assert_int_equal(fake_mmio_read(fm, 0xc0000010, 4), 0xabababab);
	assert_int_equal(c->dev[0].reads, 1);
	assert_int_equal(c->dev[0].last_offset, 0x10);
	fake_pio_write(fm, 0xc004, 2, 1);
	assert_int_equal(c->dev[0].writes, 1);
	assert_int_equal(c->dev[0].last_offset, 4);
	assert_int_equal(c->dev[0].pci.bar_region[0], r->id);
	assert_int_equal(c->dev[0].pci.bar_region[2], -1);
}

static void test_bar_sizing_and_move(void **state)
{
	struct ctx *c = *state;
	struct bus *mmio = c->fm->m.bus[BUS_MMIO], *pio = c->fm->m.bus[BUS_PIO];

	/* Decoding off unmaps both BARs. */
	cfg_write(c, 1, 0x04, 2, 0x0000);
	assert_null(bus_lookup(mmio, 0xc0000000, 4));
	assert_null(bus_lookup(pio, 0xc000, 1));
	assert_int_equal(fake_mmio_read(c->fm, 0xc0000000, 4), 0xffffffff);
	assert_int_equal(c->dev[0].reads, 0);

	/* Sizing: all-ones reads back ~(size - 1) with the type bits. */
	cfg_write(c, 1, 0x10, 4, 0xffffffff);
	cfg_write(c, 1, 0x14, 4, 0xffffffff);
	cfg_write(c, 1, 0x18, 4, 0xffffffff);
	assert_int_equal(cfg_read(c, 1, 0x10, 4), 0xfffff000);
	assert_int_equal(cfg_read(c, 1, 0x14, 4), 0xffffffe1);
	assert_int_equal(cfg_read(c, 1, 0x18, 4), 0);

	/* Move and re-enable: mapped at the new place only. */
	cfg_write(c, 1, 0x10, 4, 0xd0000000);
	cfg_write(c, 1, 0x14, 4, 0xe000);
	assert_null(bus_lookup(mmio, 0xd0000000, 4));		/* still disabled */
	cfg_write(c, 1, 0x04, 2, 0x0003);
	assert_non_null(bus_lookup(mmio, 0xd0000ffc, 4));
	assert_null(bus_lookup(mmio, 0xc0000000, 4));
	assert_non_null(bus_lookup(pio, 0xe01f, 1));
	assert_null(bus_lookup(pio, 0xe020, 1));
	/* Memory decoding alone leaves the I/O BAR unmapped. */
	cfg_write(c, 1, 0x04, 2, 0x0002);
	assert_null(bus_lookup(pio, 0xe000, 1));
	assert_non_null(bus_lookup(mmio, 0xd0000000, 4));
	/* Moving while enabled moves at once; low bits are not address bits. */
	cfg_write(c, 1, 0x10, 4, 0xd0100fff);
	assert_int_equal(cfg_read(c, 1, 0x10, 4), 0xd0100000);
	assert_non_null(bus_lookup(mmio, 0xd0100000, 4));
	assert_null(bus_lookup(mmio, 0xd0000000, 4));
	/* Byte writes into a BAR work too (upper byte). */
	cfg_write(c, 1, 0x13, 1, 0xd1);
	assert_non_null(bus_lookup(mmio, 0xd1100000, 4));
}

static void test_bar_overlap_left_unmapped(void **state)
{
	struct ctx *c = *state;
	struct bus *mmio = c->fm->m.bus[BUS_MMIO];
	const struct bus_region *r;

	/* Move device 2's BAR0 onto device 1's: it stays off the bus. */
	cfg_write(c, 2, 0x10, 4, 0xc0000000);
	r = bus_lookup(mmio, 0xc0000000, 4);
	assert_non_null(r);
	assert_int_equal(r->id, c->dev[0].pci.bar_region[0]);
	assert_null(bus_lookup(mmio, 0xc0001000, 4));
	cfg_write(c, 2, 0x10, 4, 0xc0000000);			/* warned once only */
	/* Somewhere free: mapped again. */
	cfg_write(c, 2, 0x10, 4, 0xc0008000);
	r = bus_lookup(mmio, 0xc0008000, 4);
	assert_non_null(r);
	assert_int_equal(r->id, c->dev[1].pci.bar_region[0]);
}

static void test_intx(void **state)
{
	struct ctx *c = *state;
	struct fake_machine *fm = c->fm;
	struct test_dev *extra = &c->more[0];

	/* GSI 16 + (slot + pin) % 8, pin A = 0: slot 2 INTB and slot 3 INTA share 19. */
	assert_int_equal(c->dev[0].pci.gsi, 17);
	assert_int_equal(c->dev[1].pci.gsi, 19);
	assert_int_equal(cfg_read(c, 2, 0x3c, 2), 0x0213);	/* line 19, pin B */
	tdev_init(extra, 0x1002, 1);
	assert_int_equal(pci_host_add_device(c->host, &extra->pci), 0);
	assert_int_equal(extra->pci.gsi, 19);
	assert_int_equal(extra->pci.slot, 3);
	/* Each line is declared to the machine once, as shareable. */
	unsigned n19 = 0;
	for (unsigned i = 0; i < fm->m.nr_irqs; i++)
		if (fm->m.irqs[i].gsi == 19) {
			n19++;
			assert_true(fm->m.irqs[i].shared);
		}
	assert_int_equal(n19, 1);

	fake_machine_clear_calls(fm);
	pci_irq_set(&c->dev[0].pci, 1);
	assert_int_equal(fm->nr_irq_calls, 1);
	assert_int_equal(fm->irq_calls[0].gsi, 17);
	assert_int_equal(fm->irq_calls[0].level, 1);
	assert_int_equal(cfg_read(c, 1, 0x06, 2) & 0x08, 0x08);	/* status.INTx */
	pci_irq_set(&c->dev[0].pci, 1);
	assert_int_equal(fm->nr_irq_calls, 1);			/* no change, no call */

	/* INTX_DISABLE drops the line, status still shows the device's level. */
	cfg_write(c, 1, 0x04, 2, 0x0403);
	assert_int_equal(fm->irq_level[17], 0);
	assert_int_equal(cfg_read(c, 1, 0x04, 4) & 0x00080400, 0x00080400);
	cfg_write(c, 1, 0x04, 2, 0x0003);
	assert_int_equal(fm->irq_level[17], 1);
	pci_irq_set(&c->dev[0].pci, 0);
	assert_int_equal(fm->irq_level[17], 0);
	assert_int_equal(cfg_read(c, 1, 0x06, 2) & 0x08, 0);
}

static void test_shared_gsi(void **state)
{
	struct ctx *c = *state;
	struct fake_machine *fm = c->fm;
	struct test_dev *d = c->more;

	/* Fill slots 3..10; slot 9 INTA lands on GSI 16 + 9 % 8 = 17, like slot 1 INTA. */
	for (unsigned i = 0; i < 8; i++) {
		tdev_init(&d[i], 0x2000 + i, 1);
		d[i].pci.bar[0].size = 0;
		d[i].pci.bar[1].size = 0;
		assert_int_equal(pci_host_add_device(c->host, &d[i].pci), 0);
	}
	assert_int_equal(d[6].pci.slot, 9);
	assert_int_equal(d[6].pci.gsi, 17);
	fake_machine_clear_calls(fm);
	pci_irq_set(&c->dev[0].pci, 1);
	pci_irq_set(&d[6].pci, 1);
	pci_irq_set(&c->dev[0].pci, 0);
	/* The line is the OR: still high after one of the two lets go. */
	assert_int_equal(fm->nr_irq_calls, 1);
	assert_int_equal(fm->irq_level[17], 1);
	pci_irq_set(&d[6].pci, 0);
	assert_int_equal(fm->nr_irq_calls, 2);
	assert_int_equal(fm->irq_level[17], 0);
}

static void test_reset_control(void **state)
{
	struct ctx *c = *state;
	struct fake_machine *fm = c->fm;

	fake_pio_write(fm, 0xcf9, 1, 0x02);
	assert_int_equal(fm->nr_stops, 0);
	assert_int_equal(fake_pio_read(fm, 0xcf9, 1), 0x02);
	/* A word access at 0xcf9 is not the reset register. */
	fake_pio_write(fm, 0xcf9, 2, 0x0606);
	assert_int_equal(fm->nr_stops, 0);
	fake_pio_write(fm, 0xcf9, 1, 0x06);
	assert_int_equal(fm->nr_stops, 1);
	assert_int_equal(fm->stop_why, STOP_RESET);
}

static void test_add_failures(void **state)
{
	struct ctx *c = *state;
	struct test_dev *big = &c->more[30], *bad = &c->more[31], *many = c->more;
	unsigned nr = pci_host_nr_devices(c->host);

	/* 2 GiB does not fit the ~1 GiB window: refused, nothing consumed. */
	tdev_init(big, 0x3000, 1);
	big->pci.bar[0].size = 1ULL << 31;
	assert_int_equal(pci_host_add_device(c->host, &big->pci), -ENOSPC);
	assert_int_equal(pci_host_nr_devices(c->host), nr);
	assert_int_equal(big->pci.bar_region[0], -1);

	tdev_init(bad, 0x3001, 1);
	bad->pci.bar[0].size = 3000;				/* not a power of two */
	assert_int_equal(pci_host_add_device(c->host, &bad->pci), -EINVAL);
	bad->pci.bar[0].size = 4096;
	bad->pci.bar[1].size = 2;				/* I/O BARs are >= 4 bytes */
	assert_int_equal(pci_host_add_device(c->host, &bad->pci), -EINVAL);

	/* The next device still gets the next addresses and slot 3. */
	tdev_init(&many[0], 0x4000, 1);
	assert_int_equal(pci_host_add_device(c->host, &many[0].pci), 0);
	assert_int_equal(many[0].pci.slot, 3);
	assert_int_equal(pci_cfg_read(&many[0].pci, 0x10, 4), 0xc0002000);
	for (unsigned i = 1; i < 29; i++) {
		tdev_init(&many[i], 0x4000 + i, 1);
		assert_int_equal(pci_host_add_device(c->host, &many[i].pci), 0);
	}
	assert_int_equal(pci_host_nr_devices(c->host), 32);
	tdev_init(&many[29], 0x4100, 1);
	assert_int_equal(pci_host_add_device(c->host, &many[29].pci), -ENOSPC);
	assert_int_equal(many[29].pci.bar_region[0], -1);
}

static void test_pio_window_full(void **state)
{
	struct ctx *c = *state;
	struct test_dev *d = c->more;
	unsigned i, nr;

	/*
	 * Six 256-byte I/O BARs a device: after the two 32-byte BARs at 0xc000,
	 * the 16 KiB window holds ten such devices and not an eleventh.
	 */
	for (i = 0; i < 11; i++) {
		tdev_init(&d[i], 0x5000 + i, 0);
		for (unsigned b = 0; b < PCI_MAX_BARS; b++)
			d[i].pci.bar[b] = (struct pci_bar){ .size = 256, .io = true,
							    .ops = &tdev_ops, .opaque = &d[i] };
	}
	for (i = 0; i < 10; i++)
		assert_int_equal(pci_host_add_device(c->host, &d[i].pci), 0);
	nr = pci_host_nr_devices(c->host);
	assert_int_equal(pci_cfg_read(&d[9].pci, 0x24, 4), 0xfc01);	/* ends at 0xfd00 */
	assert_int_equal(pci_host_add_device(c->host, &d[10].pci), -ENOSPC);
	assert_int_equal(pci_host_nr_devices(c->host), nr);
	for (unsigned b = 0; b < PCI_MAX_BARS; b++)
		assert_int_equal(d[10].pci.bar_region[b], -1);
	/* A memory-only device still fits, in the next slot. */
	tdev_init(&d[11], 0x5100, 1);
	d[11].pci.bar[1].size = 0;
	assert_int_equal(pci_host_add_device(c->host, &d[11].pci), 0);
	assert_int_equal(d[11].pci.slot, 13);
}

static void assert_moves(struct test_dev *t, const struct bar_move *want, unsigned n)
{
	assert_int_equal(t->nr_moves, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(t->moves[i].bar, want[i].bar);
		assert_int_equal(t->moves[i].base, want[i].base);
	}
	t->nr_moves = 0;
}

/* bar_moved follows every change of where a BAR decodes, and only changes. */
static void test_bar_moved(void **state)
{
	struct ctx *c = *state;
	struct test_dev *t = &c->more[0];

	/* The first mapping, at add time (BAR1 after the two devices' I/O BARs). */
	tdev_init(t, 0x1003, 1);
	t->pci.bar_moved = tdev_bar_moved;
	assert_int_equal(pci_host_add_device(c->host, &t->pci), 0);
	assert_int_equal(t->pci.slot, 3);
	assert_moves(t, (struct bar_move[]){ { 0, 0xc0002000 }, { 1, 0xc040 } }, 2);

	/* Decode toggles: memory off, I/O off, both on again. */
	cfg_write(c, 3, 0x04, 2, 0x0001);
	assert_moves(t, (struct bar_move[]){ { 0, BUS_UNMAPPED } }, 1);
	cfg_write(c, 3, 0x04, 2, 0x0000);
	assert_moves(t, (struct bar_move[]){ { 1, BUS_UNMAPPED } }, 1);
	cfg_write(c, 3, 0x04, 2, 0x0000);
	cfg_write(c, 3, 0x04, 2, 0x0400);			/* INTX_DISABLE: no BAR change */
	assert_moves(t, NULL, 0);
	cfg_write(c, 3, 0x04, 2, 0x0003);
	assert_moves(t, (struct bar_move[]){ { 0, 0xc0002000 }, { 1, 0xc040 } }, 2);

	/* Sizing with memory decoding off, as Linux does it: no call until it is back on. */
	cfg_write(c, 3, 0x04, 2, 0x0001);
	cfg_write(c, 3, 0x10, 4, 0xffffffff);
	assert_int_equal(cfg_read(c, 3, 0x10, 4), 0xfffff000);
	cfg_write(c, 3, 0x10, 4, 0xc0002000);
	assert_moves(t, (struct bar_move[]){ { 0, BUS_UNMAPPED } }, 1);
	cfg_write(c, 3, 0x04, 2, 0x0003);
	assert_moves(t, (struct bar_move[]){ { 0, 0xc0002000 } }, 1);
	/* Sizing the I/O BAR while decoding: all-ones is past 64 KiB, so unmapped, then back. */
	cfg_write(c, 3, 0x14, 4, 0xffffffff);
	assert_moves(t, (struct bar_move[]){ { 1, BUS_UNMAPPED } }, 1);
	cfg_write(c, 3, 0x14, 4, 0xc040);
	assert_moves(t, (struct bar_move[]){ { 1, 0xc040 } }, 1);

	/* A move while decoding; rewriting the same address is no change. */
	cfg_write(c, 3, 0x10, 4, 0xd0000000);
	cfg_write(c, 3, 0x10, 4, 0xd0000000);
	cfg_write(c, 3, 0x14, 4, 0xe000);
	assert_moves(t, (struct bar_move[]){ { 0, 0xd0000000 }, { 1, 0xe000 } }, 2);
	/* Unrelated config writes do not call it. */
	cfg_write(c, 3, 0x0d, 1, 0x40);
	cfg_write(c, 3, 0x3c, 1, 0x05);
	assert_moves(t, NULL, 0);

	/* Onto another device's BAR: left unmapped, said once; somewhere free: back. */
	cfg_write(c, 3, 0x10, 4, 0xc0000000);
	cfg_write(c, 3, 0x10, 4, 0xc0000000);
	assert_moves(t, (struct bar_move[]){ { 0, BUS_UNMAPPED } }, 1);
	cfg_write(c, 3, 0x10, 4, 0xc0010000);
	assert_moves(t, (struct bar_move[]){ { 0, 0xc0010000 } }, 1);
	assert_non_null(bus_lookup(c->fm->m.bus[BUS_MMIO], 0xc0010000, 4));
}

static void test_caps_list(void **state)
{
	struct ctx *c = *state;
	struct test_dev *t = &c->more[0];
	unsigned vndr1, vndr2, other, pos;

	/* The devices from setup have no list: status bit 4 clear, no pointer. */
	assert_int_equal(cfg_read(c, 1, 0x06, 2) & 0x10, 0);
	assert_int_equal(cfg_read(c, 1, 0x34, 1), 0);
	assert_int_equal(pci_guest_find_cap(c->fm, 1, 0x09, 0), 0);

	tdev_init(t, 0x1003, 1);
	assert_int_equal(pci_add_cap(&t->pci, 0x09, 16, &vndr1), 0);
	assert_int_equal(pci_add_cap(&t->pci, 0x09, 5, &vndr2), 0);
	assert_int_equal(pci_add_cap(&t->pci, 0x11, 12, &other), 0);
	assert_int_equal(vndr1, 0x40);
	assert_int_equal(vndr2, 0x50);
	assert_int_equal(other, 0x58);			/* 0x55 rounded up to a dword */
	/* A body byte the device makes writable. */
	t->pci.cfg[vndr2 + 3] = 0x5a;
	t->pci.wmask[vndr2 + 3] = 0x0f;
	assert_int_equal(pci_host_add_device(c->host, &t->pci), 0);

	/* Found as Linux finds them, in the order they were added. */
	assert_int_equal(cfg_read(c, 3, 0x06, 2) & 0x10, 0x10);
	assert_int_equal(pci_guest_find_cap(c->fm, 3, 0x09, 0), 0x40);
	assert_int_equal(pci_guest_find_cap(c->fm, 3, 0x09, 0x40), 0x50);
	assert_int_equal(pci_guest_find_cap(c->fm, 3, 0x09, 0x50), 0);
	assert_int_equal(pci_guest_find_cap(c->fm, 3, 0x11, 0), 0x58);
	assert_int_equal(pci_guest_find_cap(c->fm, 3, 0x05, 0), 0);
	assert_int_equal(cfg_read(c, 3, 0x58, 2), 0x0011);	/* the tail links nowhere */
	/* Vendor-specific capabilities carry their length in byte 2. */
	assert_int_equal(cfg_read(c, 3, 0x40, 4), 0x00105009);
	assert_int_equal(cfg_read(c, 3, 0x52, 1), 5);

	/* The guest cannot rewrite the links, the IDs or the lengths; the caller's wmask holds. */
	cfg_write(c, 3, 0x34, 1, 0x00);
	cfg_write(c, 3, 0x40, 4, 0xffffffff);
	cfg_write(c, 3, 0x06, 2, 0x0000);
	cfg_write(c, 3, 0x53, 1, 0xff);
	assert_int_equal(cfg_read(c, 3, 0x34, 1), 0x40);
	assert_int_equal(cfg_read(c, 3, 0x40, 4), 0x00105009);
	assert_int_equal(cfg_read(c, 3, 0x06, 2) & 0x10, 0x10);
	assert_int_equal(cfg_read(c, 3, 0x53, 1), 0x5f);
	for (pos = 0, vndr1 = 0; (pos = pci_guest_find_cap(c->fm, 3, 0x09, pos)); vndr1++)
		;
	assert_int_equal(vndr1, 2);
}

static void test_caps_bounds(void **state)
{
	struct ctx *c = *state;
	struct pci_device *dev = &c->more[0].pci;
	unsigned off = 0xdead, a, b;

	tdev_init(&c->more[0], 0x1003, 1);
	/* Lengths that cannot be a capability, or cannot fit whatever the list holds. */
	assert_int_equal(pci_add_cap(dev, 0x11, 0, &off), -EINVAL);
	assert_int_equal(pci_add_cap(dev, 0x11, 1, &off), -EINVAL);
	assert_int_equal(pci_add_cap(dev, 0x09, 2, &off), -EINVAL);
	assert_int_equal(pci_add_cap(dev, 0x11, 193, &off), -EINVAL);
	assert_int_equal(pci_add_cap(dev, 0x11, ~0u, &off), -EINVAL);
	assert_int_equal(off, 0xdead);
	assert_int_equal(dev->cfg[0x34], 0);
	assert_int_equal(dev->cfg[0x06] & 0x10, 0);

	/* 192 bytes after the header: 4 + 188 fill them exactly, then nothing fits. */
	assert_int_equal(pci_add_cap(dev, 0x05, 4, &a), 0);
	assert_int_equal(pci_add_cap(dev, 0x09, 188, &b), 0);
	assert_int_equal(b, 0x44);
	assert_int_equal(dev->cfg[b + 2], 188);
	assert_int_equal(pci_add_cap(dev, 0x11, 2, &off), -ENOSPC);
	assert_int_equal(off, 0xdead);
	assert_int_equal(dev->cfg[b + 1], 0);			/* the tail is unchanged */

	/* pci_device_init() clears config space: the list starts over at 0x40. */
	pci_device_init(dev, "test", 0x1af4, 0x1003, 0x020000, 1);
	assert_int_equal(pci_add_cap(dev, 0x11, 12, &a), 0);
	assert_int_equal(a, 0x40);
	assert_int_equal(pci_add_cap(dev, 0x11, 192 - 12 + 1, &b), -ENOSPC);
	assert_int_equal(pci_add_cap(dev, 0x11, 192 - 12, &b), 0);
	assert_int_equal(b, 0x4c);

	/* A list someone broke (a link off the dword grid, a loop) is refused, not followed. */
	dev->cfg[0x4c + 1] = 0x4d;
	dev->cap_end = 0x50;
	assert_int_equal(pci_add_cap(dev, 0x09, 4, &off), -EINVAL);
	dev->cfg[0x4c + 1] = 0x40;
	assert_int_equal(pci_add_cap(dev, 0x09, 4, &off), -EINVAL);
	assert_int_equal(off, 0xdead);
}

/* A slot of three functions, as the PIIX3 is built: function 0 first, then fixed places. */
static void add_multifunction(struct ctx *c, unsigned slot, struct test_dev *f)
{
	for (unsigned i = 0; i < 3; i++) {
		tdev_init(&f[i], 0x7000 + i, i == 2 ? 1 : 0);
		f[i].pci.bar[0].size = 0;
		f[i].pci.fixed = true;
		f[i].pci.slot = slot;
		f[i].pci.function = i == 2 ? 5 : i;
	}
	f[2].pci.bar[1].size = 0;
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(pci_host_add_device(c->host, &f[i].pci), 0);
}

static void test_multifunction(void **state)
{
	struct ctx *c = *state;
	struct test_dev *f = c->more, *late = &c->more[3], *orphan = &c->more[4];

	assert_int_equal(pci_host_free_slot(c->host, 1), 3);
	add_multifunction(c, 3, f);
	assert_int_equal(f[1].pci.slot, 3);
	assert_int_equal(f[1].pci.function, 1);
	/* Function 0 says multi-function; the others keep header type 0. */
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 0, 0x0e, 1), 0x80);
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 1, 0x0e, 1), 0x00);
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 1, 0x00, 4), 0x70011af4);
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 5, 0x00, 4), 0x70021af4);
	/* Single-function slots stay header type 0. */
	assert_int_equal(cfg_read(c, 1, 0x0c, 4) & 0x00ff0000, 0);
	/* Absent functions of a present slot master-abort. */
	for (unsigned fn = 2; fn < 8; fn++)
		if (fn != 5)
			assert_int_equal(fake_pci_cfg_read(c->fm, 3, fn, 0x00, 4), 0xffffffff);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x00, 2), 0xffff);
	/* Each function has its own BARs and config space. */
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 0, 0x14, 4), 0xc041);
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 1, 0x14, 4), 0xc061);
	fake_pci_cfg_write(c->fm, 3, 1, 0x14, 4, 0xe000);
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 1, 0x14, 4), 0xe001);
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 0, 0x14, 4), 0xc041);
	assert_non_null(bus_lookup(c->fm->m.bus[BUS_PIO], 0xe000, 1));
	assert_non_null(bus_lookup(c->fm->m.bus[BUS_PIO], 0xc040, 1));

	/* Listed in slot, then function order. */
	assert_int_equal(pci_host_nr_devices(c->host), 6);
	assert_ptr_equal(pci_host_device(c->host, 3), &f[0].pci);
	assert_ptr_equal(pci_host_device(c->host, 4), &f[1].pci);
	assert_ptr_equal(pci_host_device(c->host, 5), &f[2].pci);

	/* The next device goes to the next slot whose function 0 is free. */
	tdev_init(late, 0x7100, 1);
	assert_int_equal(pci_host_add_device(c->host, &late->pci), 0);
	assert_int_equal(late->pci.slot, 4);
	assert_int_equal(late->pci.function, 0);

	/* A taken place, a function without function 0, a place that does not exist. */
	tdev_init(orphan, 0x7200, 0);
	orphan->pci.fixed = true;
	orphan->pci.slot = 3;
	orphan->pci.function = 1;
	assert_int_equal(pci_host_add_device(c->host, &orphan->pci), -EBUSY);
	orphan->pci.slot = 9;
	assert_int_equal(pci_host_add_device(c->host, &orphan->pci), -ENODEV);
	orphan->pci.function = 8;
	assert_int_equal(pci_host_add_device(c->host, &orphan->pci), -EINVAL);
	orphan->pci.slot = 32;
	orphan->pci.function = 0;
	assert_int_equal(pci_host_add_device(c->host, &orphan->pci), -EINVAL);
	orphan->pci.slot = 0;				/* the host bridge's */
	assert_int_equal(pci_host_add_device(c->host, &orphan->pci), -EBUSY);
	assert_int_equal(orphan->pci.bar_region[0], -1);
	assert_int_equal(pci_host_nr_devices(c->host), 7);
	/* Nothing of the failed attempts was consumed: the next BARs follow late's. */
	orphan->pci.slot = 9;
	assert_int_equal(pci_host_add_device(c->host, &orphan->pci), 0);
	assert_int_equal(pci_cfg_read(&orphan->pci, 0x10, 4),
			 pci_cfg_read(&late->pci, 0x10, 4) + 0x1000);
}

/* INTx per function: the pin of each function, the slot's lines shared between functions. */
static void test_multifunction_intx(void **state)
{
	struct ctx *c = *state;
	struct fake_machine *fm = c->fm;
	struct test_dev *f = c->more;

	add_multifunction(c, 3, f);
	/* Function 5 has pin A: slot 3 INTA is GSI 16 + 3 % 8 = 19, shared with slot 2 INTB. */
	assert_int_equal(f[2].pci.gsi, 19);
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 5, 0x3c, 2), 0x0113);
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 0, 0x3d, 1), 0);
	/* A function without a pin drives nothing. */
	fake_machine_clear_calls(fm);
	pci_irq_set(&f[0].pci, 1);
	assert_int_equal(fm->nr_irq_calls, 0);
	pci_irq_set(&f[2].pci, 1);
	pci_irq_set(&c->dev[1].pci, 1);
	assert_int_equal(fm->nr_irq_calls, 1);
	assert_int_equal(fm->irq_level[19], 1);
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 5, 0x06, 2) & 0x08, 0x08);
	assert_int_equal(fake_pci_cfg_read(c->fm, 3, 1, 0x06, 2) & 0x08, 0);
	/* INTX_DISABLE of function 5 alone: slot 2 still holds the line. */
	fake_pci_cfg_write(c->fm, 3, 5, 0x04, 2, 0x0401);
	assert_int_equal(fm->irq_level[19], 1);
	pci_irq_set(&c->dev[1].pci, 0);
	assert_int_equal(fm->irq_level[19], 0);
	fake_pci_cfg_write(c->fm, 3, 5, 0x04, 2, 0x0001);
	assert_int_equal(fm->irq_level[19], 1);
	pci_irq_set(&f[2].pci, 0);
	assert_int_equal(fm->irq_level[19], 0);
}

/* The MP table: one PCI interrupt entry per slot and pin, (slot << 2) | pin. */
static void test_multifunction_mptable(void **state)
{
	struct ctx *c = *state;
	struct test_dev *f = c->more, *twin = &c->more[3];
	struct guest_mem gm;
	uint8_t *p, *end;
	unsigned n = 0, found[8][4] = { { 0 } };

	add_multifunction(c, 3, f);
	/* Another function of slot 3 on pin A: no second entry for the same line. */
	tdev_init(twin, 0x7300, 1);
	twin->pci.bar[0].size = 0;
	twin->pci.bar[1].size = 0;
	twin->pci.fixed = true;
	twin->pci.slot = 3;
	twin->pci.function = 7;
	assert_int_equal(pci_host_add_device(c->host, &twin->pci), 0);
	assert_int_equal(guest_mem_init(&gm, 2 * MiB, false), 0);
	assert_int_equal(mptable_write(&gm, 1, c->host), 0);
	p = guest_mem_ptr(&gm, BIOS_START + 16, 44);
	assert_non_null(p);
	end = p + le_load(p + 4, 2);
	for (p += 44; p < end; p += p[0] == 0 ? 20 : 8) {
		/* MP_INTSRC from the PCI bus (id 0) */
		if (p[0] != 3 || p[4] != 0)
			continue;
		assert_true(p[5] >> 2 < 8);
		found[p[5] >> 2][p[5] & 3]++;
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(found[1][0], 1);	/* slot 1 INTA */
	assert_int_equal(found[2][1], 1);	/* slot 2 INTB */
	assert_int_equal(found[3][0], 1);	/* slot 3 INTA, functions 5 and 7 */
	guest_mem_destroy(&gm);
}

/* The exit report names every port of the bridge, each byte lane on its own. */
static void test_register_names(void **state)
{
	struct ctx *c = *state;
	static const char *const want[] = {
		"CONFIG_ADDRESS", "RESET_CONTROL", "CONFIG_ADDRESS+2", "CONFIG_ADDRESS+3",
		"CONFIG_DATA", "CONFIG_DATA+1", "CONFIG_DATA+2", "CONFIG_DATA+3",
	};
	const struct bus_region *r = bus_lookup(c->fm->m.bus[BUS_PIO], 0xcf8, 1);

	assert_non_null(r);
	for (unsigned i = 0; i < 8; i++)
		assert_string_equal(r->ops->reg_name(r->opaque, i), want[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enumeration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_address_low_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_address_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_lanes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_assignment_and_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing_and_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_overlap_left_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_gsi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_window_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multifunction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multifunction_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multifunction_mptable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
