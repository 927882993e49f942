// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for intel-iommu: registers programmed by a guest and
 * translations over tables the guest wrote, on a fresh unit (interrupt
 * remapping on, aw-bits 48) over 2 MiB of RAM. An input is a list of operations:
 *   0 OFF16 W V64              write V to the register page at OFF % 4096, width
 *                              1, 2, 4 or 8 (W % 4), when it fits in the page
 *   1 OFF16 W                  read it
 *   2 A24 V64                  put 8 bytes in RAM at (A % (RAM / 8)) * 8: tables,
 *                              descriptors, whatever a guest leaves there
 *   3 SID16 IOVA64 F           a DMA of requester SID at IOVA: a write when F bit 0,
 *                              of (F >> 1) % 64 + 1 bytes, through machine_dma_*
 *   4 SID16 ADDR64 DATA32      an MSI of requester SID through machine_msi_raise
 * Checked on the way: a translation the unit grants keeps the offset in the
 * page and reports 1 byte to 1 GiB; a message it remaps comes out in the
 * compatibility format at 0xfee0_0000; VER and CAP never change.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/devices.h"
#include "qlite/guest_mem.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define RAM		(2 * MiB)
#define BASE		0xfed90000ULL
#define PAGE		0x1000
#define ARGS		14	/* the longest operation's arguments */

static struct guest_mem ram;
static uint64_t msi_sent;

/* What the LAPICs get: messages let through and the unit's own events, the guest's to aim. */
static void count_msi(struct machine *m, uint64_t addr, uint32_t data)
{
	(void)m;
	(void)addr;
	(void)data;
	msi_sent++;
}

static uint64_t mmio(struct machine *m, unsigned off, unsigned len, uint64_t v, bool write)
{
	uint8_t buf[8];

	le_store(buf, v, len);
	bus_dispatch(m->bus[BUS_MMIO], BASE + off, buf, len, write);
	return le_load(buf, len);
}

/* Straight through the unit's translate hook: what it grants must make sense. */
static void translate(struct machine *m, uint16_t sid, uint64_t iova, bool write)
{
	uint64_t gpa = 0, len = 0;

	if (m->iommu->dma_translate(m->iommu_opaque, sid, iova, write, &gpa, &len) < 0)
		return;
	if (len < 1 || len > (1ULL << 30) || (gpa & 0xfff) != (iova & 0xfff))
		abort();
}

static void remap(struct machine *m, uint16_t sid, uint64_t addr, uint32_t data)
{
	uint64_t a = addr;
	uint32_t d = data;
	bool remappable = (addr & 0xfff00000) == 0xfee00000 && (addr & (1 << 4)) && !(addr >> 32);

	if (m->iommu->msi_translate(m->iommu_opaque, sid, &a, &d) < 0 || !remappable)
		return;
	/* Passed unchanged (remapping off) or remapped into the compatibility format. */
	if (a != addr && ((a >> 32) || (a & 0xfff00000) != 0xfee00000 || (a & (1 << 4))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned widths[] = { 1, 2, 4, 8 };
	static bool once;
	/* 48-bit guest addresses: the 4-level walks too. */
	struct vdev_spec vs = { .type = "intel-iommu", .nr_opts = 1,
				.opts = { { "aw-bits", "48" } } };
	struct machine m;
	uint8_t buf[64];
	uint64_t cap;
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
	m.split_irqchip = true;
	m.msi_send = count_msi;
	msi_sent = 0;
	if (intel_iommu_vdev.create(&m, &vs) < 0 || !m.iommu)
		abort();
	cap = mmio(&m, 0x8, 8, 0, false);

	while (i < size) {
		uint8_t op = data[i++] % 5, a[ARGS] = { 0 };
		size_t n = size - i < sizeof(a) ? size - i : sizeof(a);
		unsigned off, len;
		uint16_t sid;

		memcpy(a, data + i, n);
		off = le_load(a, 2) % PAGE;
		len = widths[a[2] % 4];
		sid = (uint16_t)le_load(a, 2);
		switch (op) {
		case 0:
		case 1:
			if (off + len <= PAGE)
				mmio(&m, off, len, le_load(a + 3, 8), op == 0);
			i += op == 0 ? 11 : 3;
			break;
		case 2:
			guest_mem_write(&ram, le_load(a, 3) % (RAM / 8) * 8, a + 3, 8);
			i += 11;
			break;
		case 3:
			translate(&m, sid, le_load(a + 2, 8), a[10] & 1);
			len = (a[10] >> 1) % 64 + 1;
			if (a[10] & 1)
				machine_dma_write(&m, sid, le_load(a + 2, 8), buf, len);
			else
				machine_dma_read(&m, sid, le_load(a + 2, 8), buf, len);
			i += 11;
			break;
		case 4:
			remap(&m, sid, le_load(a + 2, 8), (uint32_t)le_load(a + 10, 4));
			machine_msi_raise(&m, sid, le_load(a + 2, 8), (uint32_t)le_load(a + 10, 4));
			i += 14;
			break;
		}
	}
	if (mmio(&m, 0x0, 4, 0, false) != 0x10 || mmio(&m, 0x8, 8, 0, false) != cap)
		abort();
	platform_teardown_offline(&m, NULL);
	return 0;
}
