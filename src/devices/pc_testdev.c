// SPDX-License-Identifier: GPL-2.0-only
/*
 * QEMU's pc-testdev: the ISA test device kvm-unit-tests' x86 tests drive
 * (QEMU's x86 runner always adds it). Off by default; `vdev pc-testdev`.
 * Its windows, at QEMU's fixed addresses:
 *   pio 0xe0-0xe3     IOPORT       a 32-bit scratch register: an access of
 *                                  1, 2 or 4 bytes at offset o reads or
 *                                  writes bytes o..o+len-1 of it (emulator,
 *                                  realmode: in/out of every width)
 *   pio 0xe4-0xe7     FLUSH_PAGE   a 32-bit write of a guest-physical
 *                                  address makes the kernel drop its
 *                                  mapping of that RAM page (QEMU:
 *                                  mprotect(PROT_NONE) then back), so the
 *                                  next guest access faults it in again
 *                                  (eventinj)
 *   pio 0xe8-0xeb     IOPORT_BYTE  the same scratch register, which QEMU
 *                                  reaches one byte at a time (a wider
 *                                  access is split): the same result
 *   pio 0x2000-0x2017 IRQ_LINE     a byte write to 0x2000 + n sets ISA IRQ
 *                                  n to (value != 0) (ioapic, the level-
 *                                  and edge-triggered tests)
 *   mmio 0xff000000   IOMEM        64 KiB of device memory (emulator's
 *        +64 KiB                   MMIO instructions)
 * QEMU 7.2's memory core splits an access into naturally aligned pieces no
 * wider than a window takes (IRQ_LINE: bytes; the others: up to 4) and
 * drops a piece narrower than the window's minimum (FLUSH_PAGE takes only
 * 4 bytes; a dropped read gives 0). So an unaligned or wide access to
 * IOPORT or IOMEM is byte-exact, and realmode's `outl` to 0x200b sets
 * lines 11-14 from the four bytes, as on QEMU.
 *
 * IRQ_LINE is QEMU's window onto any ISA line: it claims none (the lines
 * belong to the UART, RTC, ...; the test toggles one nobody else uses). QEMU
 * 7.2 aborts on a line >= 16 (isa_get_irq's assert); here such a write is
 * ignored and said once.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "qlite/devices.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define TESTDEV_IOPORT		0xe0
#define TESTDEV_FLUSH		0xe4
#define TESTDEV_IOPORT_BYTE	0xe8
#define TESTDEV_REG_LEN		4
#define TESTDEV_IRQ		0x2000
#define TESTDEV_IRQ_LINES	24
#define TESTDEV_ISA_IRQS	16
#define TESTDEV_IOMEM		0xff000000ULL
#define TESTDEV_IOMEM_LEN	0x10000
#define TESTDEV_PAGE		4096ULL

struct pc_testdev {
	struct machine *m;
	_Atomic uint32_t ioport_data;
	atomic_bool said_irq;
	/* The MMIO window is plain memory to the guest; vCPUs race on it as on RAM. */
	uint8_t iomem[TESTDEV_IOMEM_LEN];
	_Atomic uint64_t flushes, flush_misses;
};

/* ---- the scratch register (IOPORT and IOPORT_BYTE) ---- */

static void ioport_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pc_testdev *t = opaque;
	uint32_t v = atomic_load_explicit(&t->ioport_data, memory_order_relaxed);

	for (unsigned i = 0; i < len; i++)
		((uint8_t *)data)[i] = v >> ((offset + i) % 4 * 8);
}

static void ioport_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pc_testdev *t = opaque;
	uint32_t old, v;

	/* A read-modify-write per access, whole, against another vCPU's. */
	old = atomic_load_explicit(&t->ioport_data, memory_order_relaxed);
	do {
		v = old;
		for (unsigned i = 0; i < len; i++) {
			unsigned shift = (offset + i) % 4 * 8;

			v = (v & ~(0xffu << shift)) | (uint32_t)((const uint8_t *)data)[i] << shift;
		}
	} while (!atomic_compare_exchange_weak(&t->ioport_data, &old, v));
}

static const char *ioport_reg_name(void *opaque, uint64_t offset)
{
	(void)opaque;
	(void)offset;
	return "IOPORT";
}

static const char *ioport_byte_reg_name(void *opaque, uint64_t offset)
{
	(void)opaque;
	(void)offset;
	return "IOPORT_BYTE";
}

static const struct bus_ops ioport_ops = {
	.read = ioport_read,
	.write = ioport_write,
	.reg_name = ioport_reg_name,
};

static const struct bus_ops ioport_byte_ops = {
	.read = ioport_read,
	.write = ioport_write,
	.reg_name = ioport_byte_reg_name,
};

/* ---- FLUSH_PAGE ---- */

static void zero_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
}

/*
 * Taking the page's access away and giving it back makes the host kernel
 * invalidate KVM's mapping of it (the MMU notifier), which is the point:
 * the guest's next touch of the page exits to KVM and is mapped afresh.
 * The contents stay. An address outside RAM is counted and ignored.
 */
static void flush_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pc_testdev *t = opaque;
	uint32_t gpa;
	void *page;

	/* Only a whole aligned dword: QEMU drops the narrower pieces of anything else. */
	if (offset || len != 4)
		return;
	memcpy(&gpa, data, 4);
	page = t->m->mem ? guest_mem_ptr(t->m->mem, gpa & ~(TESTDEV_PAGE - 1), TESTDEV_PAGE) : NULL;
	if (!page || mprotect(page, TESTDEV_PAGE, PROT_NONE) ||
	    mprotect(page, TESTDEV_PAGE, PROT_READ | PROT_WRITE)) {
		atomic_fetch_add_explicit(&t->flush_misses, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&t->flushes, 1, memory_order_relaxed);
}

static const char *flush_reg_name(void *opaque, uint64_t offset)
{
	(void)opaque;
	(void)offset;
	return "FLUSH_PAGE";
}

static const struct bus_ops flush_ops = {
	.read = zero_read,
	.write = flush_write,
	.reg_name = flush_reg_name,
};

/* ---- IRQ_LINE ---- */

static void irq_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pc_testdev *t = opaque;

	/* Byte by byte, lines in address order, as QEMU splits a wider write. */
	for (unsigned i = 0; i < len; i++) {
		unsigned line = offset + i;

		if (line >= TESTDEV_ISA_IRQS) {
			if (!atomic_exchange(&t->said_irq, true))
				pr_info("pc-testdev: guest set line %u, which is no ISA IRQ; "
					"ignored (QEMU 7.2 aborts)", line);
			continue;
		}
		t->m->irq_set(t->m, line, !!((const uint8_t *)data)[i]);
	}
}

static const char *irq_reg_name(void *opaque, uint64_t offset)
{
	(void)opaque;
	(void)offset;
	return "IRQ_LINE";
}

static const struct bus_ops irq_ops = {
	.read = zero_read,
	.write = irq_write,
	.reg_name = irq_reg_name,
};

/* ---- IOMEM ---- */

static void iomem_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pc_testdev *t = opaque;

	memcpy(data, t->iomem + offset, len);
}

static void iomem_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pc_testdev *t = opaque;

	memcpy(t->iomem + offset, data, len);
}

static const char *iomem_reg_name(void *opaque, uint64_t offset)
{
	(void)opaque;
	(void)offset;
	return "IOMEM";
}

static const struct bus_ops iomem_ops = {
	.read = iomem_read,
	.write = iomem_write,
	.reg_name = iomem_reg_name,
};

static void pc_testdev_report(void *opaque, struct device_report *out)
{
	struct pc_testdev *t = opaque;

	device_report_add(out, "pages_flushed",
			  atomic_load_explicit(&t->flushes, memory_order_relaxed));
	device_report_add(out, "flushes_outside_ram",
			  atomic_load_explicit(&t->flush_misses, memory_order_relaxed));
}

static int pc_testdev_create(struct machine *m, const struct vdev_spec *vs)
{
	static const struct {
		enum bus_space space;
		uint64_t base, len;
		const struct bus_ops *ops;
	} win[] = {
		{ BUS_PIO, TESTDEV_IOPORT, TESTDEV_REG_LEN, &ioport_ops },
		{ BUS_PIO, TESTDEV_FLUSH, TESTDEV_REG_LEN, &flush_ops },
		{ BUS_PIO, TESTDEV_IOPORT_BYTE, TESTDEV_REG_LEN, &ioport_byte_ops },
		{ BUS_PIO, TESTDEV_IRQ, TESTDEV_IRQ_LINES, &irq_ops },
		{ BUS_MMIO, TESTDEV_IOMEM, TESTDEV_IOMEM_LEN, &iomem_ops },
	};
	struct pc_testdev *t = machine_alloc_device(m, sizeof(*t), NULL);
	int ret;

	(void)vs;
	if (!t)
		return report(-ENOMEM, "pc-testdev: out of memory");
	t->m = m;
	for (unsigned i = 0; i < ARRAY_SIZE(win); i++) {
		ret = machine_claim(m, win[i].space, win[i].base, win[i].len, "pc-testdev",
				    win[i].ops, t);
		if (ret < 0)
			return ret;
	}
	ret = machine_add_report(m, "pc-testdev", "pio 0xe0-0xeb 0x2000-0x2017, mmio 0xff000000",
				 pc_testdev_report, t);
	return ret < 0 ? report(ret, "pc-testdev: out of memory") : 0;
}

/* Fixed addresses, as in QEMU: the overlap check sees them through these spans. */
static const struct vdev_opt_desc pc_testdev_opts[] = {
	{ .key = NULL }
};

const struct vdev_type pc_testdev_vdev = {
	.name = "pc-testdev",
	.help = "QEMU's pc-testdev, which kvm-unit-tests' x86 tests use: a scratch register at "
		"pio 0xe0 and 0xe8, a page-flush port at 0xe4, ISA IRQ lines to set at "
		"0x2000-0x200f, 64 KiB of memory at mmio 0xff000000",
	.opts = pc_testdev_opts,
	.create = pc_testdev_create,
};
