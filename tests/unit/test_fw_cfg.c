// SPDX-License-Identifier: GPL-2.0-only
/*
 * fw_cfg on the fake machine with 16 MiB of guest RAM, driven as a guest
 * drives it: the signature and ID through the ports, the file directory
 * parsed as firmware parses it, etc/e820 (the loader's map of this RAM)
 * through the data port and through DMA with the same bytes, the selector's
 * rules (a select rewinds, bit 14 is ignored, keys past the table read 0),
 * DMA partial reads and hostile descriptors (ERROR, never a crash), the
 * table's own rules (sorted names, full, duplicates), the register names the
 * exit report shows, and the platform without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_machine.h"
#include "qlite/boot.h"
#include "qlite/devices.h"
#include "qlite/fw_cfg.h"
#include "qlite/util.h"

#define RAM		(16ULL << 20)
#define DESC		0x200000ULL	/* where the test puts its FWCfgDmaAccess */
#define BUF		0x300000ULL	/* and the buffer it reads into */

struct ctx {
	struct fake_machine *fm;
	struct guest_mem gm;
	uint8_t e820[E820_MAX_ENTRIES * sizeof(struct e820_entry)];
	size_t e820_len;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct e820_entry e[E820_MAX_ENTRIES];
	unsigned n;

	assert_non_null(c);
	c->fm = fake_machine_create();
	assert_non_null(c->fm);
	assert_int_equal(guest_mem_init(&c->gm, RAM, false), 0);
	c->fm->m.mem = &c->gm;
	assert_int_equal(fw_cfg_create(&c->fm->m), 0);
	assert_non_null(c->fm->m.fw_cfg);
	/* What the loader adds (src/vm/load.c), with the map e820_build() makes of this RAM. */
	n = e820_build(&c->gm, e, E820_MAX_ENTRIES);
	assert_true(n >= 2);
	for (unsigned i = 0; i < n; i++) {
		le_store(c->e820 + 20 * i, e[i].addr, 8);
		le_store(c->e820 + 20 * i + 8, e[i].size, 8);
		le_store(c->e820 + 20 * i + 16, e[i].type, 4);
	}
	c->e820_len = 20 * n;
	assert_int_equal(fw_cfg_add_le(c->fm->m.fw_cfg, FW_CFG_RAM_SIZE, RAM, 8), 0);
	assert_int_equal(fw_cfg_add_le(c->fm->m.fw_cfg, FW_CFG_NB_CPUS, 2, 2), 0);
	assert_int_equal(fw_cfg_add_file(c->fm->m.fw_cfg, "etc/e820", c->e820, c->e820_len), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	fake_machine_destroy(c->fm);
	guest_mem_destroy(&c->gm);
	free(c);
	return 0;
}

static void sel(struct ctx *c, uint16_t key)
{
	fake_pio_write(c->fm, FW_CFG_PORT_SEL, 2, key);
}

static void port_read(struct ctx *c, void *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* A FWCfgDmaAccess at DESC, started by the two halves of its address; returns control after. */
static uint32_t dma(struct ctx *c, uint32_t control, uint32_t length, uint64_t addr)
{
	uint8_t d[16], out[4];

	for (int i = 0; i < 4; i++) {
		d[i] = control >> (24 - 8 * i);
		d[4 + i] = length >> (24 - 8 * i);
	}
	for (int i = 0; i < 8; i++)
		d[8 + i] = addr >> (56 - 8 * i);
	assert_int_equal(guest_mem_write(&c->gm, DESC, d, sizeof(d)), 0);
	/* The port is big-endian: the guest's outl(bswap32(half)) puts these bytes on the bus. */
	fake_pio_write(c->fm, FW_CFG_PORT_DMA, 4, __builtin_bswap32((uint32_t)(DESC >> 32)));
	fake_pio_write(c->fm, FW_CFG_PORT_DMA + 4, 4, __builtin_bswap32((uint32_t)DESC));
	assert_int_equal(guest_mem_read(&c->gm, DESC, out, 4), 0);
	return be32(out);
}

/* The selector of a file, found as firmware finds it: through the directory. */
static uint16_t find_file(struct ctx *c, const char *name, uint32_t *size)
{
	uint8_t cnt[4], ent[64];

	sel(c, FW_CFG_FILE_DIR);
	port_read(c, cnt, 4);
	for (uint32_t i = 0; i < be32(cnt); i++) {
		port_read(c, ent, sizeof(ent));
		if (!strcmp((char *)ent + 8, name)) {
			*size = be32(ent);
			return ent[4] << 8 | ent[5];
		}
	}
	return 0;
}

static void test_signature_and_id(void **state)
{
	struct ctx *c = *state;
	char sig[5] = { 0 };
	uint8_t id[4], tail;

	/* QEMU's reset state: the signature is selected. */
	port_read(c, sig, 4);
	assert_string_equal(sig, "QEMU");
	port_read(c, &tail, 1);
	assert_int_equal(tail, 0);	/* past the end */
	sel(c, FW_CFG_ID);
	port_read(c, id, 4);
	assert_int_equal(le_load(id, 4), FW_CFG_VERSION | FW_CFG_VERSION_DMA);
	/* The DMA port reads "QEMU CFG" in order, as big-endian 0x51454d5520434647. */
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DMA, 4), le_load("QEMU", 4));
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DMA + 4, 4), le_load(" CFG", 4));
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DMA + 6, 2), le_load("FG", 2));
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DMA + 1, 1), 'E');
	/* Numbers are little-endian, as QEMU's fw_cfg_add_i16/i32/i64. */
	sel(c, FW_CFG_RAM_SIZE);
	port_read(c, id, 4);
	assert_int_equal(le_load(id, 4), (uint32_t)RAM);
	sel(c, FW_CFG_NB_CPUS);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 2);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 0);
	sel(c, FW_CFG_NOGRAPHIC);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 1);
	sel(c, FW_CFG_UUID);
	for (int i = 0; i < 16; i++)
		assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 0);
}

static void test_file_directory(void **state)
{
	struct ctx *c = *state;
	static const char *const names[] = { "bootorder", "etc/boot-fail-wait", "etc/e820" };
	static const uint32_t sizes[] = { 0, 4, 0 };
	uint8_t cnt[4], ent[64], wait[4];
	uint32_t size;

	sel(c, FW_CFG_FILE_DIR);
	port_read(c, cnt, 4);
	assert_int_equal(be32(cnt), 3);
	for (unsigned i = 0; i < 3; i++) {
		port_read(c, ent, sizeof(ent));
		/* Sorted by name, selectors in order from 0x20, big-endian. */
		assert_string_equal((char *)ent + 8, names[i]);
		assert_int_equal(ent[4] << 8 | ent[5], FW_CFG_FILE_FIRST + i);
		assert_int_equal(ent[6] | ent[7], 0);
		assert_int_equal(be32(ent), i == 2 ? c->e820_len : sizes[i]);
	}
	/* The rest of QEMU's 32 slots reads as empty entries. */
	port_read(c, ent, sizeof(ent));
	for (unsigned i = 0; i < sizeof(ent); i++)
		assert_int_equal(ent[i], 0);
	assert_int_equal(find_file(c, "etc/boot-fail-wait", &size), FW_CFG_FILE_FIRST + 1);
	sel(c, FW_CFG_FILE_FIRST + 1);
	port_read(c, wait, 4);
	assert_int_equal(le_load(wait, 4), 0xffffffffu);
	assert_int_equal(find_file(c, "etc/acpi/tables", &size), 0);
}

static void test_e820_port_and_dma(void **state)
{
	struct ctx *c = *state;
	uint8_t by_port[sizeof(c->e820)], *by_dma = guest_mem_ptr(&c->gm, BUF, sizeof(c->e820));
	uint32_t size;
	uint16_t key = find_file(c, "etc/e820", &size);

	assert_int_equal(key, FW_CFG_FILE_FIRST + 2);
	assert_int_equal(size, c->e820_len);
	sel(c, key);
	port_read(c, by_port, size);
	assert_memory_equal(by_port, c->e820, size);
	/* The first entry is the loader's: RAM from 0 to the EBDA. */
	assert_int_equal(le_load(by_port, 8), 0);
	assert_int_equal(le_load(by_port + 8, 8), EBDA_START);
	assert_int_equal(le_load(by_port + 16, 4), E820_RAM);

	memset(by_dma, 0xaa, sizeof(c->e820));
	assert_int_equal(dma(c, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, size, BUF),
			 0);
	assert_memory_equal(by_dma, by_port, size);
	/* The read pointer moved with the transfer: the port is at the end. */
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 0);
	/* In two pieces, the second without SELECT, continuing from the offset. */
	memset(by_dma, 0xaa, sizeof(c->e820));
	assert_int_equal(dma(c, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 7, BUF),
			 0);
	assert_int_equal(dma(c, FW_CFG_DMA_READ, size - 7, BUF + 7), 0);
	assert_memory_equal(by_dma, c->e820, size);
	/* SKIP moves the offset without touching RAM. */
	memset(by_dma, 0xaa, sizeof(c->e820));
	assert_int_equal(dma(c, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_SKIP, 20, BUF),
			 0);
	assert_int_equal(by_dma[0], 0xaa);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), c->e820[20]);
}

static void test_dma_partial_and_unknown(void **state)
{
	struct ctx *c = *state;
	uint8_t *buf = guest_mem_ptr(&c->gm, BUF, 64);

	/* Past the item's end: its 4 bytes, then zeros, and no ERROR (as QEMU). */
	memset(buf, 0xaa, 64);
	assert_int_equal(dma(c, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 16,
			     BUF), 0);
	assert_memory_equal(buf, "QEMU", 4);
	for (int i = 4; i < 16; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[16], 0xaa);
	/* A key past the table selects nothing: a read gets zeros, no ERROR... */
	memset(buf, 0xaa, 64);
	assert_int_equal(dma(c, 0x3fffu << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 8, BUF), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf[i], 0);
	/* ...a write has nowhere to go, and items are read-only. */
	assert_int_equal(dma(c, 0x3fffu << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE, 8, BUF),
			 FW_CFG_DMA_ERROR);
	assert_int_equal(dma(c, FW_CFG_ID << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE, 4, BUF),
			 FW_CFG_DMA_ERROR);
	/* No operation bit: nothing moves, success. */
	memset(buf, 0xaa, 64);
	assert_int_equal(dma(c, FW_CFG_ID << 16 | FW_CFG_DMA_SELECT, 4, BUF), 0);
	assert_int_equal(buf[0], 0xaa);
}

static void test_dma_hostile(void **state)
{
	struct ctx *c = *state;
	uint8_t *buf = guest_mem_ptr(&c->gm, BUF, 64);
	uint32_t read_sig = FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ;

	/* Destinations outside RAM: past its end, across its end, wrapping, in the PCI hole. */
	assert_int_equal(dma(c, read_sig, 4, RAM), FW_CFG_DMA_ERROR);
	assert_int_equal(dma(c, read_sig, 4, RAM - 2), FW_CFG_DMA_ERROR);
	assert_int_equal(dma(c, read_sig, 16, UINT64_MAX - 3), FW_CFG_DMA_ERROR);
	assert_int_equal(dma(c, read_sig, 4, 0xfec00000), FW_CFG_DMA_ERROR);
	/* The zero fill past an item's end is checked too: a huge length over RAM's end. */
	assert_int_equal(dma(c, read_sig, 0xffffffff, BUF), FW_CFG_DMA_ERROR);
	assert_int_equal(dma(c, FW_CFG_DMA_SKIP, 0xffffffff, 0), 0);
	/* A descriptor outside RAM: nothing to write back to, and qlite goes on. */
	fake_pio_write(c->fm, FW_CFG_PORT_DMA, 4, __builtin_bswap32(1));	/* 4 GiB up */
	fake_pio_write(c->fm, FW_CFG_PORT_DMA + 4, 4, __builtin_bswap32(0x1000));
	/* Half in RAM: its control word still gets ERROR. */
	assert_int_equal(guest_mem_write(&c->gm, RAM - 8, "\0\0\0\x0a", 4), 0);
	fake_pio_write(c->fm, FW_CFG_PORT_DMA + 4, 4, __builtin_bswap32((uint32_t)RAM - 8));
	assert_int_equal(guest_mem_read(&c->gm, RAM - 8, buf, 4), 0);
	assert_int_equal(be32(buf), FW_CFG_DMA_ERROR);
	/* The high half was used once, then cleared: this transfer is in low RAM and works. */
	memset(buf, 0xaa, 8);
	assert_int_equal(dma(c, read_sig, 4, BUF), 0);
	assert_memory_equal(buf, "QEMU", 4);
	/* Writes of other widths or places start nothing. */
	fake_pio_write(c->fm, FW_CFG_PORT_DMA + 4, 2, 0x1234);
	fake_pio_write(c->fm, FW_CFG_PORT_DMA + 5, 1, 0x12);
}

static void test_selector_rules(void **state)
{
	struct ctx *c = *state;
	char two[2];

	sel(c, FW_CFG_SIGNATURE);
	port_read(c, two, 2);
	assert_memory_equal(two, "QE", 2);
	/* Selecting again, even the same item, rewinds. */
	sel(c, FW_CFG_SIGNATURE);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 'Q');
	/* A DMA select rewinds as well. */
	assert_int_equal(dma(c, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT, 0, 0), 0);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 'Q');
	/* Bit 14 (the old write flag) is ignored: 0x4000 is the signature. */
	sel(c, 0x4000);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 'Q');
	/* Arch-local keys exist but hold nothing here; keys past the table are nothing. */
	sel(c, FW_CFG_ARCH_LOCAL);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 0);
	sel(c, FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 0);
	sel(c, 0xffff);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 0);
	/* A byte read of the selector port is a data read; wider reads are not decoded: 0. */
	sel(c, FW_CFG_SIGNATURE);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_SEL, 1), 'Q');
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_SEL, 2), 0);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 'E');
	/* Byte writes (QEMU dropped data writes in 2.4) change nothing. */
	fake_pio_write(c->fm, FW_CFG_PORT_DATA, 1, 0x55);
	fake_pio_write(c->fm, FW_CFG_PORT_SEL, 1, FW_CFG_ID);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), 'M');
}

static void test_exits_and_names(void **state)
{
	struct ctx *c = *state;
	static const struct { uint16_t port; const char *name; } regs[] = {
		{ 0x510, "SELECTOR" }, { 0x511, "DATA" }, { 0x514, "DMA_HI" }, { 0x517, "DMA_HI" },
		{ 0x518, "DMA_LO" }, { 0x51b, "DMA_LO" },
	};
	unsigned before = fake_exits(c->fm);
	char sig[4];

	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		const struct bus_region *r = bus_lookup(c->fm->m.bus[BUS_PIO], regs[i].port, 1);

		assert_non_null(r);
		assert_string_equal(r->name, "fw-cfg");
		assert_string_equal(r->ops->reg_name(r->opaque, regs[i].port - r->base),
				    regs[i].name);
	}
	assert_null(bus_lookup(c->fm->m.bus[BUS_PIO], 0x512, 1));
	assert_null(bus_lookup(c->fm->m.bus[BUS_PIO], 0x51c, 1));
	/* Signature by the port: 1 select + 4 data; by DMA: 2 (the halves), whatever its length. */
	sel(c, FW_CFG_SIGNATURE);
	port_read(c, sig, 4);
	assert_int_equal(fake_exits(c->fm) - before, 5);
	assert_int_equal(dma(c, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 4096,
			     BUF), 0);
	assert_int_equal(fake_exits(c->fm) - before, 7);
}

static void test_report(void **state)
{
	struct ctx *c = *state;
	struct device_report out = { 0 };
	struct machine *m = &c->fm->m;
	unsigned i;

	sel(c, FW_CFG_SIGNATURE);
	assert_int_equal(dma(c, FW_CFG_DMA_READ, 4, BUF), 0);
	assert_int_equal(dma(c, FW_CFG_DMA_READ, 4, RAM), FW_CFG_DMA_ERROR);
	for (i = 0; i < m->nr_reports && strcmp(m->reports[i].name, "fw-cfg"); i++)
		;
	assert_true(i < m->nr_reports);
	assert_non_null(strstr(m->reports[i].summary, "0x510-0x511"));
	m->reports[i].fn(m->reports[i].opaque, &out);
	assert_non_null(strstr(out.path, "3 files"));
	assert_string_equal(out.c[0].name, "selects");
	assert_int_equal(out.c[0].value, 1);
	assert_string_equal(out.c[1].name, "dma_ok");
	assert_int_equal(out.c[1].value, 1);
	assert_string_equal(out.c[2].name, "dma_errors");
	assert_int_equal(out.c[2].value, 1);
	assert_string_equal(out.c[3].name, "dma_bytes");
	assert_int_equal(out.c[3].value, 4);
}

static void test_add_rules(void **state)
{
	struct ctx *c = *state;
	struct fw_cfg *fw = c->fm->m.fw_cfg;
	char name[80];
	uint32_t size;
	unsigned n = 3;

	assert_int_equal(fw_cfg_add_file(fw, "etc/e820", "x", 1), -EEXIST);
	assert_int_equal(fw_cfg_add_bytes(fw, FW_CFG_SIGNATURE, "QEMU", 4), -EEXIST);
	assert_int_equal(fw_cfg_add_bytes(fw, FW_CFG_FILE_DIR, "x", 1), -EEXIST);
	assert_int_equal(fw_cfg_add_bytes(fw, FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS, "x", 1),
			 -EINVAL);
	memset(name, 'a', 56);
	name[56] = '\0';
	assert_int_equal(fw_cfg_add_file(fw, name, "x", 1), -ENAMETOOLONG);
	/* A name sorting first moves every file up a selector; the data moves with it. */
	assert_int_equal(fw_cfg_add_file(fw, "a-first", "1", 1), 0);
	n++;
	assert_int_equal(find_file(c, "a-first", &size), FW_CFG_FILE_FIRST);
	assert_int_equal(find_file(c, "etc/e820", &size), FW_CFG_FILE_FIRST + 3);
	sel(c, FW_CFG_FILE_FIRST + 3);
	assert_int_equal(fake_pio_read(c->fm, FW_CFG_PORT_DATA, 1), c->e820[0]);
	while (n < FW_CFG_FILE_SLOTS) {
		snprintf(name, sizeof(name), "opt/test/%02u", n);
		assert_int_equal(fw_cfg_add_file(fw, name, name, strlen(name)), 0);
		n++;
	}
	assert_int_equal(fw_cfg_add_file(fw, "opt/test/full", "x", 1), -ENOSPC);
	/* Every entry still names the item it selects. */
	for (unsigned i = 4; i < n; i++) {
		char got[16] = { 0 };

		snprintf(name, sizeof(name), "opt/test/%02u", i);
		sel(c, find_file(c, name, &size));
		assert_int_equal(size, strlen(name));
		port_read(c, got, size);
		assert_string_equal(got, name);
	}
}

static void test_platform_without(void **state)
{
	struct uart8250 *uart;
	struct machine m;

	assert_int_equal(platform_assemble_offline(&m, true, false, false, &uart), 0);
	assert_null(m.fw_cfg);
	assert_null(bus_lookup(m.bus[BUS_PIO], FW_CFG_PORT_SEL, 2));
	platform_teardown_offline(&m, uart);
	assert_int_equal(platform_assemble_offline(&m, true, true, false, &uart), 0);
	assert_non_null(m.fw_cfg);
	assert_non_null(bus_lookup(m.bus[BUS_PIO], FW_CFG_PORT_DMA, 4));
	platform_teardown_offline(&m, uart);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signature_and_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_e820_port_and_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_partial_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selector_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exits_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_rules, setup, teardown),
		cmocka_unit_test(test_platform_without),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
