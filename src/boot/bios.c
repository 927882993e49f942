// SPDX-License-Identifier: GPL-2.0-only
/*
 * The machine a multiboot kernel finds under QEMU, where SeaBIOS ran first
 * (QEMU boots one through its multiboot option ROM, at the BIOS's boot
 * stage): qlite has no BIOS, so it leaves the state SeaBIOS 1.16 (QEMU 7.2)
 * leaves on a pc machine with no floppy drive, and nothing else of it:
 *
 * - the 8259 pair in 8086 mode with vectors 0x08 (IRQ 0-7) and 0x70 (IRQ
 *   8-15); unmasked the lines SeaBIOS serves: the timer (0), the keyboard
 *   (1), the cascade (2), the floppy (6: unmasked with or without a drive),
 *   the RTC (8), the mouse (12), the FPU (13) and the primary IDE channel
 *   (14), masks 0xb8 and 0x8e as a guest reads them under QEMU 7.2 -M pc;
 *   IRQs 10 and 11, where it routes PCI INTx, level triggered in the ELCR;
 * - 8254 channel 0 in mode 2 (rate generator; control word 0x34, as a
 *   guest reads it back under QEMU) with a count of 65536: IRQ 0 at 18.2 Hz
 *   (KVM's chips through its ioctls; with `irqchip split` qlite's own
 *   through their ports, the writes firmware makes);
 * - a real-mode IVT whose 256 vectors point into the BIOS area: an IRQ's
 *   handler acknowledges it (non-specific EOI to the master; for IRQ 8-15 to
 *   the slave, then the master), the timer's first counts the tick in the
 *   BIOS data area (32 bits at 0x46c, back to 0 with the midnight flag at
 *   0x470 set after a day's 0x1800b0 ticks) and calls INT 0x1c, as a BIOS
 *   does; every other vector is an iret;
 * - the BDA tick count at the time of day the RTC shows.
 *
 * No BIOS service (INT 0x10, 0x13, 0x15...) exists: those vectors iret
 * too. The handlers are qlite's own, a few instructions each, built from
 * the tables below, which say what each byte is; tests/unit/test_bios.c
 * disassembles them and compares.
 */
#include <errno.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/devices.h"
#include "qlite/machine.h"
#include "qlite/util.h"

#define BIOS_SEGMENT		0xf000
#define BDA_TICKS		0x46c	/* 32-bit count of IRQ 0 ticks since midnight */
#define BDA_MIDNIGHT		0x470	/* set when the count wraps */
#define PIC_EOI			0x20	/* OCW2: non-specific end of interrupt */

const struct machine_pic_setup bios_pic = {
	.vector_base = { BIOS_IRQ0_VECTOR, BIOS_IRQ8_VECTOR },
	.imr = { (uint8_t)~(1u << 0 | 1u << 1 | 1u << 2 | 1u << 6),
		 (uint8_t)~(1u << (8 - 8) | 1u << (12 - 8) | 1u << (13 - 8) | 1u << (14 - 8)) },
	.elcr = { 0, 1u << (10 - 8) | 1u << (11 - 8) },
};

const struct machine_pit_setup bios_pit = { .mode = 2, .count = 0 };

#define I(text, ...) { sizeof((uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ }, text }

/* Vectors nobody serves. */
static const struct bios_insn stub_iret[] = {
	I("iret", 0xcf),
};

/* IRQ 1-7: acknowledge at the master. */
static const struct bios_insn stub_master[] = {
	I("push ax", 0x50),
	I("mov al,0x20", 0xb0, PIC_EOI),
	I("out 0x20,al", 0xe6, 0x20),
	I("pop ax", 0x58),
	I("iret", 0xcf),
};

/* IRQ 8-15: acknowledge at the slave, then at the master for the cascade line. */
static const struct bios_insn stub_slave[] = {
	I("push ax", 0x50),
	I("mov al,0x20", 0xb0, PIC_EOI),
	I("out 0xa0,al", 0xe6, 0xa0),
	I("out 0x20,al", 0xe6, 0x20),
	I("pop ax", 0x58),
	I("iret", 0xcf),
};

/*
 * IRQ 0: count the tick at 0000:046c (DS is the interrupted code's, so it
 * is saved and set to 0), wrap it at midnight, call the user hook INT 0x1c,
 * then acknowledge. The jb skips the two wrap instructions (9 + 5 bytes) to
 * the int at offset 0x24.
 */
static const struct bios_insn stub_timer[] = {
	I("push ax", 0x50),
	I("push ds", 0x1e),
	I("xor ax,ax", 0x31, 0xc0),
	I("mov ds,ax", 0x8e, 0xd8),
	I("inc DWORD PTR ds:0x46c", 0x66, 0xff, 0x06, 0x6c, 0x04),
	I("cmp DWORD PTR ds:0x46c,0x1800b0", 0x66, 0x81, 0x3e, 0x6c, 0x04, 0xb0, 0x00, 0x18, 0x00),
	I("jb 0x24", 0x72, 0x0e),
	I("mov DWORD PTR ds:0x46c,0x0", 0x66, 0xc7, 0x06, 0x6c, 0x04, 0x00, 0x00, 0x00, 0x00),
	I("mov BYTE PTR ds:0x470,0x1", 0xc6, 0x06, 0x70, 0x04, 0x01),
	I("int 0x1c", 0xcd, 0x1c),
	I("mov al,0x20", 0xb0, PIC_EOI),
	I("out 0x20,al", 0xe6, 0x20),
	I("pop ds", 0x1f),
	I("pop ax", 0x58),
	I("iret", 0xcf),
};

#undef I

/* Each at its offset from BIOS_STUBS_ADDR; bios_write() checks that none runs into the next. */
const struct bios_stub bios_stubs[BIOS_NR_STUBS] = {
	[BIOS_STUB_IRET] = { "iret", 0x00, stub_iret, ARRAY_SIZE(stub_iret) },
	[BIOS_STUB_MASTER] = { "master IRQ", 0x10, stub_master, ARRAY_SIZE(stub_master) },
	[BIOS_STUB_SLAVE] = { "slave IRQ", 0x20, stub_slave, ARRAY_SIZE(stub_slave) },
	[BIOS_STUB_TIMER] = { "timer IRQ 0", 0x30, stub_timer, ARRAY_SIZE(stub_timer) },
};

size_t bios_stub_len(const struct bios_stub *s)
{
	size_t len = 0;

	for (unsigned i = 0; i < s->nr; i++)
		len += s->insns[i].len;
	return len;
}

/* The stub a vector's IVT entry points to. */
static unsigned vector_stub(unsigned v)
{
	if (v == BIOS_IRQ0_VECTOR)
		return BIOS_STUB_TIMER;
	if (v > BIOS_IRQ0_VECTOR && v < BIOS_IRQ0_VECTOR + 8)
		return BIOS_STUB_MASTER;
	if (v >= BIOS_IRQ8_VECTOR && v < BIOS_IRQ8_VECTOR + 8)
		return BIOS_STUB_SLAVE;
	return BIOS_STUB_IRET;
}

int bios_write(struct guest_mem *gm, uint32_t ticks)
{
	uint8_t *ivt = guest_mem_ptr(gm, 0, BIOS_IVT_SIZE);
	uint8_t *bda = guest_mem_ptr(gm, BIOS_BDA_ADDR, BIOS_BDA_SIZE);
	uint8_t *code = guest_mem_ptr(gm, BIOS_STUBS_ADDR, BIOS_STUBS_SIZE);

	if (!ivt || !bda || !code)
		return report(-ENOSPC, "BIOS state: the IVT, BDA or BIOS area is not in RAM");
	memset(code, 0, BIOS_STUBS_SIZE);
	for (unsigned i = 0; i < BIOS_NR_STUBS; i++) {
		const struct bios_stub *s = &bios_stubs[i];
		size_t end = i + 1 < BIOS_NR_STUBS ? bios_stubs[i + 1].offset : BIOS_STUBS_SIZE;
		uint8_t *p = code + s->offset;

		if (s->offset + bios_stub_len(s) > end)
			return report(-EINVAL, "BIOS state: the %s handler runs into the next", s->name);
		for (unsigned j = 0; j < s->nr; j++) {
			memcpy(p, s->insns[j].bytes, s->insns[j].len);
			p += s->insns[j].len;
		}
	}
	for (unsigned v = 0; v < BIOS_IVT_SIZE / 4; v++) {
		uint32_t off = BIOS_STUBS_ADDR - BIOS_SEGMENT * 16 + bios_stubs[vector_stub(v)].offset;

		le_store(ivt + 4 * v, off, 2);
		le_store(ivt + 4 * v + 2, BIOS_SEGMENT, 2);
	}
	memset(bda, 0, BIOS_BDA_SIZE);
	le_store(bda + BDA_TICKS - BIOS_BDA_ADDR, ticks % BIOS_TICKS_PER_DAY, 4);
	return 0;
}

uint32_t bios_ticks_at(uint64_t seconds_since_midnight)
{
	/* PIT ticks of 65536 input clocks at 1193182 Hz. */
	return seconds_since_midnight % 86400 * 1193182 / 65536 % BIOS_TICKS_PER_DAY;
}

/* One byte to a port of qlite's own chips, as firmware's out instruction would. */
static int bios_out(struct machine *m, uint16_t port, uint8_t v)
{
	return bus_dispatch(m->bus[BUS_PIO], port, &v, 1, true) ? 0 : -ENODEV;
}

/*
 * `irqchip split`: the PICs and the PIT are qlite's devices on the bus, so
 * they get firmware's very writes: ICW1-ICW4 (edge, cascade, 8086 mode) and
 * OCW1 to each PIC, the ELCR, and channel 0's control word and count.
 */
static int bios_setup_own_chips(struct machine *m)
{
	static const uint16_t cmd[2] = { PIC_MASTER_PORT, PIC_SLAVE_PORT };
	/* ICW3: the master has its slave on IR2, the slave's id is 2. */
	static const uint8_t icw3[2] = { 1u << 2, 2 };
	int ret = 0;

	for (unsigned i = 0; i < 2; i++) {
		ret |= bios_out(m, cmd[i], 0x11);	/* ICW1: edge, cascade, ICW4 follows */
		ret |= bios_out(m, cmd[i] + 1, bios_pic.vector_base[i]);
		ret |= bios_out(m, cmd[i] + 1, icw3[i]);
		ret |= bios_out(m, cmd[i] + 1, 0x01);	/* ICW4: 8086 mode, normal EOI */
		ret |= bios_out(m, cmd[i] + 1, bios_pic.imr[i]);
		ret |= bios_out(m, PIC_ELCR_PORT + i, bios_pic.elcr[i]);
	}
	if (ret)
		return report(-ENODEV, "BIOS state: qlite's PICs are not on ports 0x20, 0xa0, 0x4d0");
	/* Channel 0, lobyte/hibyte, the mode, binary; then the count. */
	ret |= bios_out(m, PIT_BASE_PORT + 3, 0x30 | bios_pit.mode << 1);
	ret |= bios_out(m, PIT_BASE_PORT, bios_pit.count & 0xff);
	ret |= bios_out(m, PIT_BASE_PORT, bios_pit.count >> 8);
	if (ret)
		return report(-ENODEV, "BIOS state: qlite's PIT is not on ports 0x40-0x43");
	return 0;
}

int bios_setup_chips(struct machine *m)
{
	const struct machine_accel_ops *a = m->accel;
	int ret;

	/* qlite check: nothing runs. */
	if (m->offline)
		return 0;
	if (m->split_irqchip)
		return m->pic ? bios_setup_own_chips(m) : 0;
	if (!a || !a->pic_setup || !a->pit_setup)
		return 0;
	ret = a->pic_setup(m->accel_ctx, &bios_pic);
	if (ret < 0)
		return report_errno(ret, "BIOS state: programming the in-kernel PICs");
	ret = a->pit_setup(m->accel_ctx, &bios_pit);
	if (ret < 0)
		return report_errno(ret, "BIOS state: programming the in-kernel PIT");
	return 0;
}
