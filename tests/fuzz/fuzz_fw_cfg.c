// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for fw_cfg: what a guest hands it. An input is a list of
 * operations on a fresh device over 1 MiB of RAM:
 *   0 PORT LEN V32    write V to one of 0x510-0x511, 0x514-0x51b (LEN 1, 2 or 4, if it fits)
 *   1 PORT LEN        read one
 *   2 A16 B64         put 8 bytes in RAM at A * 8 (descriptors and what they point to)
 *   3 HI32 LO32       write both halves of the DMA address: a transfer
 * Afterwards the signature must still read "QEMU" (items are read-only) and
 * RAM past the end is never touched (ASan watches the mapping's edges).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/devices.h"
#include "qlite/fw_cfg.h"
#include "qlite/guest_mem.h"
#include "qlite/util.h"

#define RAM	(1 * MiB)

static struct guest_mem ram;

static void pio(struct machine *m, uint16_t port, unsigned len, uint32_t v, bool write)
{
	uint8_t buf[4];

	le_store(buf, v, len);
	bus_dispatch(m->bus[BUS_PIO], port, buf, len, write);
}

static uint16_t port_of(uint8_t sel)
{
	sel %= 10;
	return sel < 2 ? FW_CFG_PORT_SEL + sel : FW_CFG_PORT_DMA + sel - 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned lens[] = { 1, 2, 4 };
	static bool once;
	struct machine m;
	uint8_t sig[4];
	size_t i = 0;

	if (!once) {
		if (guest_mem_init(&ram, RAM, false) < 0)
			abort();
		once = true;
	}
	memset(ram.map, 0, ram.map_size);
	if (machine_init_offline(&m) < 0)
		abort();
	m.mem = &ram;
	if (fw_cfg_create(&m) < 0 || fw_cfg_add_le(m.fw_cfg, FW_CFG_RAM_SIZE, RAM, 8) < 0 ||
	    fw_cfg_add_file(m.fw_cfg, "etc/e820", "0123456789abcdefghij", 20) < 0)
		abort();

	while (i < size) {
		uint8_t op = data[i++] % 4;
		uint8_t a[10] = { 0 };
		size_t n = size - i < sizeof(a) ? size - i : sizeof(a);
		uint16_t port;
		unsigned len;

		memcpy(a, data + i, n);
		switch (op) {
		case 0:
		case 1:
			port = port_of(a[0]);
			len = lens[a[1] % 3];
			/* The bus never hands a device an access past its region. */
			if (bus_lookup(m.bus[BUS_PIO], port, len))
				pio(&m, port, len, le_load(a + 2, 4), op == 0);
			i += op == 0 ? 6 : 2;
			break;
		case 2:
			guest_mem_write(&ram, (uint64_t)le_load(a, 2) * 8, a + 2, 8);
			i += 10;
			break;
		case 3:
			pio(&m, FW_CFG_PORT_DMA, 4, le_load(a, 4), true);
			pio(&m, FW_CFG_PORT_DMA + 4, 4, le_load(a + 4, 4), true);
			i += 8;
			break;
		}
	}
	pio(&m, FW_CFG_PORT_SEL, 2, FW_CFG_SIGNATURE, true);
	for (unsigned k = 0; k < 4; k++)
		bus_dispatch(m.bus[BUS_PIO], FW_CFG_PORT_DATA, &sig[k], 1, false);
	if (memcmp(sig, "QEMU", 4))
		abort();
	platform_teardown_offline(&m, NULL);
	return 0;
}
