// SPDX-License-Identifier: GPL-2.0-only
/*
 * QEMU's educational PCI device "edu" (PCI 1234:11e8, QEMU's
 * docs/specs/edu.rst), which kvm-unit-tests' intel_iommu test drives: a
 * factorial unit, a 4 KiB DMA buffer and an interrupt that goes out as INTx
 * or MSI, so an IOMMU's DMA and interrupt remapping can be tested. Off by
 * default; `vdev edu`.
 *
 * BAR0 is 1 MiB of 32-bit MMIO:
 *   0x00 ID           RO  0x010000ed (version 1.0, magic 0xed)
 *   0x04 LIVENESS     RW  reads the bitwise NOT of the last value written
 *   0x08 FACTORIAL    RW  a write of n (while not computing) starts n!;
 *                         reads n, then n! (modulo 2^32) once computed
 *   0x20 STATUS       RW  bit 0 computing (RO), bit 7 raise interrupt 0x1
 *                         when a factorial is done
 *   0x24 INTR_STATUS  RO  the interrupt causes raised and not acknowledged
 *   0x60 INTR_RAISE   WO  OR the value into INTR_STATUS and interrupt
 *   0x64 INTR_ACK     WO  clear those bits; INTx drops when none is left
 *   0x80 DMA_SRC, 0x88 DMA_DST, 0x90 DMA_COUNT  (64-bit; a 4-byte write
 *                         sets the register to the zero-extended value)
 *   0x98 DMA_CMD      RW  bit 0 start (reads 1 until done), bit 1
 *                         direction (0: RAM to the buffer, 1: buffer to
 *                         RAM), bit 2 raise interrupt 0x100 when done
 * Offsets below 0x80 take only 4-byte accesses, 0x80 and above 4 or 8;
 * other widths, and offsets that are no register, read all-ones and ignore
 * writes, as QEMU's. While a DMA runs, writes to its four registers are
 * ignored, so the transfer reads its parameters unlocked.
 *
 * The buffer sits at device address 0x40000. A DMA whose buffer side leaves
 * [0x40000, 0x41000) is refused: dropped and counted, START cleared (QEMU
 * aborts, or overruns its buffer, there). The RAM side is masked to 28
 * bits, as QEMU's default dma_mask does, and goes through
 * machine_dma_read/write as this function's requester id: an IOMMU
 * translates it or refuses it (-EFAULT: dropped and counted). A dropped
 * DMA still completes: START clears and the interrupt, when asked for, is
 * raised, as QEMU's does after a DMA error it does not see.
 *
 * The factorial and the DMA run on the I/O thread (a timer of 1 ns), not
 * inside the vCPU's write, so the guest sees COMPUTING or START set and
 * polls, as on QEMU (a thread there, a 100 ms virtual-time timer for DMA).
 *
 * Interrupts: with MSI enabled (one vector, 64-bit, no mask bits; pci_msi.c)
 * every raise that leaves INTR_STATUS non-zero sends the message through
 * machine_msi_raise (interrupt remapping sees the requester id); else INTx
 * pin A is asserted while INTR_STATUS is non-zero and MSI is disabled.
 * Enabling MSI lowers INTx, as PCI asks and QEMU does; disabling it with
 * causes still pending asserts INTx again (QEMU waits for the next raise).
 *
 * Locking: one mutex for the registers, taken by the vCPUs' accesses, the
 * I/O thread's timers and the config-write hook (after the host's lock).
 * MSIs are sent after it is dropped: an IOMMU may read RAM and take its own.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/pci.h"
#include "qlite/pci_msi.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define EDU_VENDOR		0x1234	/* QEMU's own vendor id for emulated devices */
#define EDU_DEVICE		0x11e8
#define EDU_REVISION		0x10
#define EDU_SUBVENDOR		0x1af4	/* what QEMU gives every device */
#define EDU_SUBDEVICE		0x1100
#define EDU_CLASS		0x00ff00	/* QEMU's PCI_CLASS_OTHERS as a class word */
#define EDU_BAR_SIZE		(1u << 20)
#define EDU_ID			0x010000edu

enum edu_reg {
	REG_ID = 0x00,
	REG_LIVENESS = 0x04,
	REG_FACTORIAL = 0x08,
	REG_STATUS = 0x20,
	REG_INTR_STATUS = 0x24,
	REG_INTR_RAISE = 0x60,
	REG_INTR_ACK = 0x64,
	REG_DMA_SRC = 0x80,
	REG_DMA_DST = 0x88,
	REG_DMA_COUNT = 0x90,
	REG_DMA_CMD = 0x98,
	REG_END = 0xa0,
};

#define REG_WIDE_START		REG_DMA_SRC	/* from here 8-byte accesses too */

#define STATUS_COMPUTING	0x01
#define STATUS_IRQ_FACT		0x80

#define IRQ_FACT		0x001
#define IRQ_DMA			0x100

#define DMA_CMD_START		0x1
#define DMA_CMD_TO_RAM		0x2
#define DMA_CMD_IRQ		0x4

#define DMA_BUF_ADDR		0x40000
#define DMA_BUF_SIZE		4096
/* QEMU's default dma_mask: the device drives 28 address bits. */
#define DMA_ADDR_MASK		((1ull << 28) - 1)

/* From 34 on, n! has 32 factors of two: 0 modulo 2^32 (no 4-billion-step loop). */
#define FACT_ZERO_FROM		34

#define EDU_TIMER_NS		1	/* as soon as the I/O thread can */

struct edu_stats {
	uint64_t dma_to_device;		/* RAM -> buffer transfers done */
	uint64_t dma_from_device;	/* buffer -> RAM */
	uint64_t dma_refused;		/* the IOMMU (or RAM's end) refused the RAM side */
	uint64_t dma_out_of_buffer;	/* the buffer side left the 4 KiB buffer */
	uint64_t factorials;
	uint64_t interrupts_raised;	/* raises that left INTR_STATUS non-zero */
	uint64_t intx_asserted;		/* INTx 0 -> 1 */
};

struct edu {
	struct machine *m;
	struct pci_device pci;
	struct pci_msi msi;
	pthread_mutex_t lock;		/* everything below */
	uint32_t liveness;		/* as read: NOT the last value written */
	uint32_t fact;
	uint32_t status;
	uint32_t irq_status;
	uint64_t dma_src, dma_dst, dma_count, dma_cmd;
	bool intx;			/* the level driven on pin A */
	struct edu_stats st;
	struct loop_timer *fact_timer, *dma_timer;
	uint8_t buf[DMA_BUF_SIZE];	/* the DMA's, touched only by the running DMA */
};

/* ---- interrupts (under d->lock) ---- */

static void edu_intx_update(struct edu *d)
{
	bool level = d->irq_status && !pci_msi_enabled(&d->msi);

	if (level == d->intx)
		return;
	d->intx = level;
	if (level)
		d->st.intx_asserted++;
	pci_irq_set(&d->pci, level);
}

/* true: send the MSI once the lock is dropped. */
static bool edu_raise(struct edu *d, uint32_t causes)
{
	d->irq_status |= causes;
	if (!d->irq_status)
		return false;
	d->st.interrupts_raised++;
	if (pci_msi_enabled(&d->msi))
		return true;
	edu_intx_update(d);
	return false;
}

static void edu_lower(struct edu *d, uint32_t causes)
{
	d->irq_status &= ~causes;
	edu_intx_update(d);
}

/* Without d->lock: the IOMMU's remapping counts a blocked message itself, pci_msi too. */
static void edu_send_msi(struct edu *d, bool send)
{
	if (send)
		pci_msi_notify(&d->msi);
}

/* ---- factorial and DMA, on the I/O thread ---- */

static uint32_t factorial(uint32_t n)
{
	uint32_t r = 1;

	if (n >= FACT_ZERO_FROM)
		return 0;
	while (n > 1)
		r *= n--;
	return r;
}

static void edu_fact_done(void *opaque)
{
	struct edu *d = opaque;
	bool msi = false;

	pthread_mutex_lock(&d->lock);
	if (d->status & STATUS_COMPUTING) {
		d->fact = factorial(d->fact);
		d->status &= ~STATUS_COMPUTING;
		d->st.factorials++;
		if (d->status & STATUS_IRQ_FACT)
			msi = edu_raise(d, IRQ_FACT);
	}
	pthread_mutex_unlock(&d->lock);
	edu_send_msi(d, msi);
}

/* Does [addr, addr + len) lie inside the buffer (no wrap)? */
static bool in_buffer(uint64_t addr, uint64_t len)
{
	return addr >= DMA_BUF_ADDR && addr - DMA_BUF_ADDR <= DMA_BUF_SIZE &&
	       len <= DMA_BUF_SIZE - (addr - DMA_BUF_ADDR);
}

/*
 * The transfer itself, unlocked: while START is set the guest cannot change
 * the parameters, and nothing else touches the buffer.
 */
static void edu_dma_transfer(struct edu *d, uint64_t src, uint64_t dst, uint64_t len,
			     bool to_ram)
{
	uint16_t sid = pci_requester_id(&d->pci);
	uint64_t dev = to_ram ? src : dst, ram = (to_ram ? dst : src) & DMA_ADDR_MASK;
	int ret;

	if (!in_buffer(dev, len)) {
		pthread_mutex_lock(&d->lock);
		d->st.dma_out_of_buffer++;
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (to_ram)
		ret = machine_dma_write(d->m, sid, ram, d->buf + (dev - DMA_BUF_ADDR), len);
	else
		ret = machine_dma_read(d->m, sid, ram, d->buf + (dev - DMA_BUF_ADDR), len);
	pthread_mutex_lock(&d->lock);
	if (ret < 0)
		d->st.dma_refused++;
	else if (to_ram)
		d->st.dma_from_device++;
	else
		d->st.dma_to_device++;
	pthread_mutex_unlock(&d->lock);
}

static void edu_dma_run(void *opaque)
{
	struct edu *d = opaque;
	uint64_t src, dst, len, cmd;
	bool msi = false;

	pthread_mutex_lock(&d->lock);
	cmd = d->dma_cmd;
	src = d->dma_src;
	dst = d->dma_dst;
	len = d->dma_count;
	pthread_mutex_unlock(&d->lock);
	if (!(cmd & DMA_CMD_START))
		return;
	edu_dma_transfer(d, src, dst, len, cmd & DMA_CMD_TO_RAM);
	pthread_mutex_lock(&d->lock);
	d->dma_cmd &= ~(uint64_t)DMA_CMD_START;
	if (d->dma_cmd & DMA_CMD_IRQ)
		msi = edu_raise(d, IRQ_DMA);
	pthread_mutex_unlock(&d->lock);
	edu_send_msi(d, msi);
}

/* ---- BAR0 ---- */

/* QEMU's access rules: 4 bytes below 0x80, 4 or 8 from there. */
static bool edu_width_ok(uint64_t offset, unsigned len)
{
	return len == 4 || (len == 8 && offset >= REG_WIDE_START);
}

/* The 64-bit DMA register at offset, or NULL. */
static uint64_t *edu_dma_reg(struct edu *d, uint64_t offset)
{
	switch (offset) {
	case REG_DMA_SRC:
		return &d->dma_src;
	case REG_DMA_DST:
		return &d->dma_dst;
	case REG_DMA_COUNT:
		return &d->dma_count;
	case REG_DMA_CMD:
		return &d->dma_cmd;
	}
	return NULL;
}

/* Under d->lock: the register's value, or all-ones for what is no register. */
static uint64_t edu_reg_read(struct edu *d, uint64_t offset)
{
	uint64_t *dma = edu_dma_reg(d, offset);

	if (dma)
		return *dma;
	switch (offset) {
	case REG_ID:
		return EDU_ID;
	case REG_LIVENESS:
		return d->liveness;
	case REG_FACTORIAL:
		return d->fact;
	case REG_STATUS:
		return d->status;
	case REG_INTR_STATUS:
		return d->irq_status;
	}
	return ~0ull;
}

static void edu_mmio_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct edu *d = opaque;
	uint64_t v = ~0ull;

	if (edu_width_ok(offset, len)) {
		pthread_mutex_lock(&d->lock);
		v = edu_reg_read(d, offset);
		pthread_mutex_unlock(&d->lock);
	}
	le_store(data, v, len);
}

static void edu_start_factorial(struct edu *d, uint32_t n)
{
	if (d->status & STATUS_COMPUTING)
		return;
	d->fact = n;
	d->status |= STATUS_COMPUTING;
	/* Failing to arm leaves COMPUTING set: the guest sees a device that never finishes. */
	loop_timer_arm(d->fact_timer, EDU_TIMER_NS);
}

/* Under d->lock; true: send the MSI once it is dropped. */
static bool edu_reg_write(struct edu *d, uint64_t offset, uint64_t v)
{
	uint64_t *dma = edu_dma_reg(d, offset);

	if (dma) {
		if (d->dma_cmd & DMA_CMD_START)
			return false;
		if (offset == REG_DMA_CMD) {
			if (!(v & DMA_CMD_START))
				return false;
			loop_timer_arm(d->dma_timer, EDU_TIMER_NS);
		}
		*dma = v;
		return false;
	}
	switch (offset) {
	case REG_LIVENESS:
		d->liveness = ~(uint32_t)v;
		break;
	case REG_FACTORIAL:
		edu_start_factorial(d, (uint32_t)v);
		break;
	case REG_STATUS:
		d->status = (d->status & ~STATUS_IRQ_FACT) | ((uint32_t)v & STATUS_IRQ_FACT);
		break;
	case REG_INTR_RAISE:
		return edu_raise(d, (uint32_t)v);
	case REG_INTR_ACK:
		edu_lower(d, (uint32_t)v);
		break;
	}
	return false;
}

static void edu_mmio_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct edu *d = opaque;
	bool msi;

	if (!edu_width_ok(offset, len))
		return;
	pthread_mutex_lock(&d->lock);
	msi = edu_reg_write(d, offset, le_load(data, len));
	pthread_mutex_unlock(&d->lock);
	edu_send_msi(d, msi);
}

/* An 8-byte register's upper half counts under the register. */
static uint64_t edu_reg_key(void *opaque, uint64_t offset)
{
	(void)opaque;
	if (offset >= REG_WIDE_START && offset < REG_END)
		return offset & ~7ull;
	return offset;
}

static const char *edu_reg_name(void *opaque, uint64_t offset)
{
	switch (edu_reg_key(opaque, offset)) {
	case REG_ID:
		return "ID";
	case REG_LIVENESS:
		return "LIVENESS";
	case REG_FACTORIAL:
		return "FACTORIAL";
	case REG_STATUS:
		return "STATUS";
	case REG_INTR_STATUS:
		return "INTR_STATUS";
	case REG_INTR_RAISE:
		return "INTR_RAISE";
	case REG_INTR_ACK:
		return "INTR_ACK";
	case REG_DMA_SRC:
		return "DMA_SRC";
	case REG_DMA_DST:
		return "DMA_DST";
	case REG_DMA_COUNT:
		return "DMA_COUNT";
	case REG_DMA_CMD:
		return "DMA_CMD";
	}
	return NULL;
}

static const struct bus_ops edu_mmio_ops = {
	.read = edu_mmio_read,
	.write = edu_mmio_write,
	.reg_name = edu_reg_name,
	.reg_key = edu_reg_key,
};

/* ---- config space, report, construction ---- */

/* The host's lock is held: MSI's copy first, then INTx follows its enable bit. */
static void edu_cfg_written(struct pci_device *pci, unsigned offset, unsigned len)
{
	struct edu *d = pci->opaque;

	pci_msi_cfg_written(&d->msi, offset, len);
	pthread_mutex_lock(&d->lock);
	edu_intx_update(d);
	pthread_mutex_unlock(&d->lock);
}

static void edu_report(void *opaque, struct device_report *out)
{
	struct edu *d = opaque;
	uint64_t msi_sent, msi_blocked;
	struct edu_stats st;
	bool msi;

	pthread_mutex_lock(&d->lock);
	st = d->st;
	pthread_mutex_unlock(&d->lock);
	msi = pci_msi_enabled(&d->msi);
	pci_msi_counts(&d->msi, &msi_sent, &msi_blocked);
	snprintf(out->path, sizeof(out->path), "interrupts %s, DMA through %s",
		 msi ? "MSI" : "INTx", d->m->iommu ? "the IOMMU" : "guest RAM");
	device_report_add(out, "dma_to_device", st.dma_to_device);
	device_report_add(out, "dma_from_device", st.dma_from_device);
	device_report_add(out, "dma_refused", st.dma_refused);
	device_report_add(out, "dma_out_of_buffer", st.dma_out_of_buffer);
	device_report_add(out, "factorials", st.factorials);
	device_report_add(out, "interrupts_raised", st.interrupts_raised);
	device_report_add(out, "intx_asserted", st.intx_asserted);
	device_report_add(out, "msi_sent", msi_sent);
	device_report_add(out, "msi_blocked", msi_blocked);
}

static void edu_release(void *state)
{
	struct edu *d = state;

	loop_timer_destroy(d->fact_timer);
	loop_timer_destroy(d->dma_timer);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static int edu_create(struct machine *m, const struct vdev_spec *vs)
{
	char summary[96];
	struct edu *d;
	int ret;

	(void)vs;
	if (!m->pci)
		return report(-ENODEV, "edu: the machine has no PCI host");
	d = machine_alloc_device(m, sizeof(*d), edu_release);
	if (!d)
		return report(-ENOMEM, "edu: out of memory");
	d->m = m;
	pthread_mutex_init(&d->lock, NULL);
	ret = machine_timer_create(m, edu_fact_done, d, &d->fact_timer);
	if (ret >= 0)
		ret = machine_timer_create(m, edu_dma_run, d, &d->dma_timer);
	if (ret < 0)
		return report_errno(ret, "edu: cannot create its timers");
	pci_device_init(&d->pci, "edu", EDU_VENDOR, EDU_DEVICE, EDU_CLASS, 1);
	d->pci.cfg[PCI_REVISION_ID] = EDU_REVISION;
	le_store(d->pci.cfg + PCI_SUBSYSTEM_VENDOR_ID, EDU_SUBVENDOR, 2);
	le_store(d->pci.cfg + PCI_SUBSYSTEM_ID, EDU_SUBDEVICE, 2);
	d->pci.bar[0] = (struct pci_bar){
		.size = EDU_BAR_SIZE, .name = "edu", .ops = &edu_mmio_ops, .opaque = d,
	};
	d->pci.cfg_written = edu_cfg_written;
	d->pci.opaque = d;
	ret = pci_msi_init(&d->msi, &d->pci, m);
	if (ret < 0)
		return ret;
	ret = pci_host_add_device(m->pci, &d->pci);
	if (ret < 0)
		return ret;
	snprintf(summary, sizeof(summary), "pci 00:%02x.%u, INTx gsi %u or MSI", d->pci.slot,
		 d->pci.function, d->pci.gsi);
	ret = machine_add_report(m, "edu", summary, edu_report, d);
	return ret < 0 ? report(ret, "edu: out of memory") : 0;
}

static const struct vdev_opt_desc edu_opts[] = {
	{ .key = NULL }
};

const struct vdev_type edu_vdev = {
	.name = "edu",
	.help = "QEMU's educational PCI device (1234:11e8), which kvm-unit-tests' intel_iommu "
		"uses: a factorial unit, DMA to and from a 4 KiB buffer, INTx or MSI",
	.opts = edu_opts,
	.create = edu_create,
};
