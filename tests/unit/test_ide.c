// SPDX-License-Identifier: GPL-2.0-only
/*
 * PIIX3 IDE against the fake machine, driven the way Linux's ata_piix and
 * libata drive it: task file loads, commands, status and alternate status
 * reads, the data port, the bus master's setup/start/stop and PRD tables
 * in guest RAM. Every hostile case ends in an error status and a device
 * that still works; the data-port accesses of a PIO transfer are counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_iommu.h"
#include "fake_machine.h"
#include "qlite/block.h"
#include "qlite/config.h"
#include "qlite/config_check.h"
#include "qlite/devices.h"
#include "qlite/guest_mem.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/vdev.h"
#include "unprivileged.h"

#define PRI_CMD		0x1f0
#define PRI_CTL		0x3f6
#define SEC_CMD		0x170
#define SEC_CTL		0x376

/* Task file registers (offsets from the command block) */
#define R_DATA		0
#define R_ERROR		1
#define R_FEATURE	1
#define R_NSECT		2
#define R_LBAL		3
#define R_LBAM		4
#define R_LBAH		5
#define R_DEVICE	6
#define R_STATUS	7
#define R_COMMAND	7
#define R_CTL		8	/* alternate status, device control */

#define ST_ERR		0x01
#define ST_DRQ		0x08
#define ST_DSC		0x10
#define ST_DRDY		0x40
#define ST_BSY		0x80
#define ERR_ABRT	0x04
#define ERR_IDNF	0x10
#define CTL_NIEN	0x02
#define CTL_SRST	0x04
#define CTL_HOB		0x80

#define BM_START	0x01
#define BM_READ		0x08	/* to memory */
#define BMS_ACTIVE	0x01
#define BMS_ERR		0x02
#define BMS_INTR	0x04

#define DISK_SECTORS	2048
#define RAM_SIZE	(16 * MiB)
#define PRD_TABLE	0x10000
#define DMA_BUF		0x100000

/* FLUSH CACHE must reach the file: count the image's fdatasync calls. */
static unsigned nr_fdatasync;

int fdatasync(int fd)
{
	nr_fdatasync++;
	return syscall(SYS_fdatasync, fd);
}

struct ctx {
	struct fake_machine *fm;
	struct guest_mem mem;
	char path[4][64];		/* disk images the tests make */
	struct vm_spec spec;
	uint16_t cmd, ctl;		/* the channel being driven */
	uint16_t bm;			/* BAR4 */
	unsigned data_acc, reg_acc;	/* accesses the test made, by kind */
	char *msg;
	size_t msg_len;
	FILE *reports;
	struct fake_iommu iommu;	/* tests behind an IOMMU */
};

static uint8_t pattern(uint64_t sector, unsigned i)
{
	return (uint8_t)(sector * 31 + i * 7 + (sector >> 8) + (sector >> 16) * 3);
}

static void make_image(char *path, uint64_t sectors, bool fill)
{
	uint8_t buf[512];
	int fd;

	snprintf(path, 64, "test-ide-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, sectors * 512), 0);
	for (uint64_t s = 0; fill && s < sectors; s++) {
		for (unsigned i = 0; i < 512; i++)
			buf[i] = pattern(s, i);
		assert_int_equal(pwrite(fd, buf, 512, s * 512), 512);
	}
	close(fd);
}

static void file_sector(const char *path, uint64_t sector, uint8_t *buf)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, 512, sector * 512), 512);
	close(fd);
}

/* A `vdev ide` line as the parser leaves it: up to three more KEY VALUE pairs. */
static void add_vdev(struct ctx *c, unsigned line, const char *file, ...)
{
	struct vdev_spec *vs;
	va_list ap;
	const char *k;

	c->spec.vdevs = realloc(c->spec.vdevs, (c->spec.nr_vdevs + 1) * sizeof(*vs));
	assert_non_null(c->spec.vdevs);
	vs = &c->spec.vdevs[c->spec.nr_vdevs++];
	memset(vs, 0, sizeof(*vs));
	vs->type = "ide";
	vs->origin = (struct spec_origin){ .file = "vm.conf", .line = line, .option = "vdev" };
	vs->opts[vs->nr_opts++] = (struct vdev_opt){ "file", (char *)file };
	va_start(ap, file);
	while ((k = va_arg(ap, const char *)))
		vs->opts[vs->nr_opts++] = (struct vdev_opt){ (char *)k, va_arg(ap, char *) };
	va_end(ap);
}

static int build(struct ctx *c)
{
	int ret = vdev_create_all(&c->fm->m, &c->spec);

	free(c->spec.vdevs);
	c->spec.vdevs = NULL;
	c->spec.nr_vdevs = 0;
	return ret;
}

static const char *reported(struct ctx *c)
{
	fflush(c->reports);
	return c->msg ? c->msg : "";
}

static void forget_reports(struct ctx *c)
{
	fclose(c->reports);
	free(c->msg);
	c->msg = NULL;
	c->reports = open_memstream(&c->msg, &c->msg_len);
	report_set_stream(c->reports);
}

/* The machine, RAM the bus master can reach, and a filled disk as primary master. */
static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->fm = fake_machine_create();
	assert_non_null(pci_host_create(&c->fm->m));
	assert_int_equal(guest_mem_init(&c->mem, RAM_SIZE, false), 0);
	c->fm->m.mem = &c->mem;
	c->reports = open_memstream(&c->msg, &c->msg_len);
	report_set_stream(c->reports);
	make_image(c->path[0], DISK_SECTORS, true);
	add_vdev(c, 3, c->path[0], NULL);
	assert_int_equal(build(c), 0);
	c->cmd = PRI_CMD;
	c->ctl = PRI_CTL;
	c->bm = fake_pci_cfg_read(c->fm, 1, 1, 0x20, 4) & ~3u;
	fake_machine_clear_calls(c->fm);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	pci_host_destroy(c->fm->m.pci);
	fake_machine_destroy(c->fm);
	guest_mem_destroy(&c->mem);
	report_set_stream(NULL);
	fclose(c->reports);
	free(c->msg);
	for (unsigned i = 0; i < ARRAY_SIZE(c->path); i++)
		if (c->path[i][0])
			unlink(c->path[i]);
	free(c->spec.vdevs);
	free(c);
	return 0;
}

/* ---- the host side, as libata does it ---- */

/* A task file register (R_*), or R_CTL for the control block's one port. */
static uint16_t port_of(struct ctx *c, unsigned reg)
{
	return reg == R_CTL ? c->ctl : c->cmd + reg;
}

static uint8_t ata_in(struct ctx *c, unsigned reg)
{
	c->reg_acc++;
	return fake_pio_read(c->fm, port_of(c, reg), 1);
}

static void ata_out(struct ctx *c, unsigned reg, uint8_t v)
{
	c->reg_acc++;
	fake_pio_write(c->fm, port_of(c, reg), 1, v);
}

#define altstatus(c)	ata_in(c, R_CTL)
#define devctl(c, v)	ata_out(c, R_CTL, v)

/* The data port, 16 bits at a time. */
static uint16_t data_io(struct ctx *c, bool write, uint16_t v)
{
	c->data_acc++;
	if (write) {
		fake_pio_write(c->fm, c->cmd, 2, v);
		return v;
	}
	return fake_pio_read(c->fm, c->cmd, 2);
}

#define data_in(c)	data_io(c, false, 0)
#define data_out(c, v)	data_io(c, true, v)

/* ata_sff_tf_load: the HOB bytes first for LBA48, then the current ones, then the device. */
static void tf_load(struct ctx *c, unsigned dev, uint64_t lba, uint32_t count, bool lba48)
{
	if (lba48) {
		ata_out(c, R_FEATURE, 0);
		ata_out(c, R_NSECT, count >> 8);
		ata_out(c, R_LBAL, lba >> 24);
		ata_out(c, R_LBAM, lba >> 32);
		ata_out(c, R_LBAH, lba >> 40);
	}
	ata_out(c, R_FEATURE, 0);
	ata_out(c, R_NSECT, count);
	ata_out(c, R_LBAL, lba);
	ata_out(c, R_LBAM, lba >> 8);
	ata_out(c, R_LBAH, lba >> 16);
	ata_out(c, R_DEVICE, 0xa0 | 0x40 | dev << 4 | (lba48 ? 0 : (lba >> 24) & 0x0f));
}

static void command(struct ctx *c, uint8_t cmd)
{
	ata_out(c, R_COMMAND, cmd);
	altstatus(c);		/* ata_sff_pause */
}

/* Rising edges on the channel's IRQ since the last clear. */
static unsigned pulses(struct ctx *c, unsigned gsi)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->fm->nr_irq_calls; i++)
		if (c->fm->irq_calls[i].gsi == gsi && c->fm->irq_calls[i].level)
			n++;
	return n;
}

/* The interrupt handler's status read; returns it. */
static uint8_t irq_status(struct ctx *c)
{
	return ata_in(c, R_STATUS);
}

/* One register set, then a command: the status its interrupt handler reads. */
static uint8_t set_and_run(struct ctx *c, unsigned reg, uint8_t v, uint8_t cmd)
{
	ata_out(c, reg, v);
	command(c, cmd);
	return irq_status(c);
}

static void read_sector_words(struct ctx *c, uint8_t *buf)
{
	for (unsigned w = 0; w < 256; w++)
		le_store(buf + 2 * w, data_in(c), 2);
}

static void check_sector(const uint8_t *buf, uint64_t sector)
{
	for (unsigned i = 0; i < 512; i++)
		if (buf[i] != pattern(sector, i))
			fail_msg("sector %llu byte %u: %#x, want %#x",
				 (unsigned long long)sector, i,
				 buf[i], pattern(sector, i));
}

static uint8_t bm_in(struct ctx *c, unsigned reg)
{
	return fake_pio_read(c->fm, c->bm + reg, 1);
}

static void bm_out(struct ctx *c, unsigned reg, uint8_t v)
{
	fake_pio_write(c->fm, c->bm + reg, 1, v);
}

struct prd {
	uint32_t addr, len;	/* len 0x10000 is written as 0 */
	bool eot;
};

static void write_prds(struct ctx *c, uint64_t table, const struct prd *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t e[8];

		le_store(e, p[i].addr, 4);
		le_store(e + 4, (p[i].len & 0xffff) | (p[i].eot ? 0x80000000u : 0), 4);
		assert_int_equal(guest_mem_write(&c->mem, table + 8 * i, e, 8), 0);
	}
}

/* ata_bmdma_setup: table address, direction, START clear; the command; ata_bmdma_start. */
static void dma_command(struct ctx *c, uint32_t table, bool to_memory, uint8_t cmd)
{
	fake_pio_write(c->fm, c->bm + 4, 4, table);
	bm_out(c, 0, to_memory ? BM_READ : 0);
	command(c, cmd);
	bm_out(c, 0, (to_memory ? BM_READ : 0) | BM_START);
}

/* The interrupt: bus master status, stop, task file status, clear the latched bits. */
static uint8_t dma_finish(struct ctx *c, uint8_t *bm_status)
{
	uint8_t st;

	*bm_status = bm_in(c, 2);
	bm_out(c, 0, bm_in(c, 0) & ~BM_START);
	st = irq_status(c);
	bm_out(c, 2, bm_in(c, 2) | BMS_INTR | BMS_ERR);
	return st;
}

/* ---- the PCI functions ---- */

static void test_pci_functions(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 0, 0x00, 4), 0x70008086);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x00, 4), 0x70108086);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 0, 0x08, 4) >> 8, 0x060100);
	/* Mass storage, IDE, prog-if 80h: both channels in compatibility mode, bus master. */
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x08, 4) >> 8, 0x010180);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 0, 0x0e, 1), 0x80);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x0e, 1), 0x00);
	for (unsigned fn = 2; fn < 8; fn++)
		assert_int_equal(fake_pci_cfg_read(c->fm, 1, fn, 0x00, 4), 0xffffffff);
	/* Legacy mode: BARs 0-3 unused; BAR4 a 16-port I/O BAR; I/O and bus mastering on. */
	for (unsigned bar = 0; bar < 4; bar++)
		assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x10 + 4 * bar, 4), 0);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x20, 4) & 0xf, 0x1);
	assert_true(c->bm >= 0xc000);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x04, 2) & 0x5, 0x5);
	fake_pci_cfg_write(c->fm, 1, 1, 0x20, 4, 0xffffffff);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x20, 4), 0xfffffff1);
	fake_pci_cfg_write(c->fm, 1, 1, 0x20, 4, c->bm);
	/* No INTx: the channels use IRQ 14 and 15. */
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x3d, 1), 0);
	/* IDETIM decode enable (what ata_piix's prereset tests): the primary has a disk. */
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x41, 1) & 0x80, 0x80);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x43, 1) & 0x80, 0x00);
	/* piix_set_piomode's writes stick; the enable bit stays. */
	fake_pci_cfg_write(c->fm, 1, 1, 0x40, 2, 0x0307);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x40, 2), 0x8307);
	fake_pci_cfg_write(c->fm, 1, 1, 0x44, 1, 0x0b);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x44, 1), 0x0b);
	/* The ISA bridge's DLC (Linux's passive-release quirk writes it). */
	fake_pci_cfg_write(c->fm, 1, 0, 0x82, 1, 0x02);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 0, 0x82, 1), 0x02);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 0, 0x60, 4), 0x80808080);
	/* The machine knows IRQ 14 as the primary channel's, exclusively. */
	for (unsigned i = 0; i < c->fm->m.nr_irqs; i++)
		if (c->fm->m.irqs[i].gsi == 14)
			assert_false(c->fm->m.irqs[i].shared);
}

static void test_register_names(void **state)
{
	struct ctx *c = *state;
	static const char *const cmd[] = {
		"DATA", "ERROR/FEATURES", "NSECT", "LBAL", "LBAM", "LBAH", "DEVICE",
		"STATUS/COMMAND",
	};
	static const char *const bm[] = {
		"BM_CMD_PRI", "BM_PRI+1", "BM_STATUS_PRI", "BM_PRI+3", "BM_PRD_PRI",
		"BM_PRD_PRI+1", "BM_PRD_PRI+2", "BM_PRD_PRI+3", "BM_CMD_SEC", "BM_SEC+1",
		"BM_STATUS_SEC", "BM_SEC+3", "BM_PRD_SEC", "BM_PRD_SEC+1", "BM_PRD_SEC+2",
		"BM_PRD_SEC+3",
	};
	const struct bus_region *r = bus_lookup(c->fm->m.bus[BUS_PIO], PRI_CMD, 1);

	assert_non_null(r);
	assert_string_equal(r->name, "ide-primary");
	for (unsigned i = 0; i < 8; i++)
		assert_string_equal(r->ops->reg_name(r->opaque, i), cmd[i]);
	r = bus_lookup(c->fm->m.bus[BUS_PIO], PRI_CTL, 1);
	assert_non_null(r);
	assert_string_equal(r->name, "ide-primary-ctl");
	assert_string_equal(r->ops->reg_name(r->opaque, 0), "ALTSTATUS/DEVCTL");
	/* 0x3f7 is the floppy controller's; the secondary channel has no disk: unclaimed. */
	assert_null(bus_lookup(c->fm->m.bus[BUS_PIO], PRI_CTL + 1, 1));
	assert_null(bus_lookup(c->fm->m.bus[BUS_PIO], SEC_CMD, 1));
	r = bus_lookup(c->fm->m.bus[BUS_PIO], c->bm, 1);
	assert_non_null(r);
	assert_string_equal(r->name, "piix3-ide-bmdma");
	for (unsigned i = 0; i < 16; i++)
		assert_string_equal(r->ops->reg_name(r->opaque, i), bm[i]);
}

/* ---- IDENTIFY ---- */

static void ata_string(const uint8_t *id, unsigned word, unsigned words, char *out)
{
	for (unsigned i = 0; i < 2 * words; i++)
		out[i] = id[2 * (word + i / 2) + !(i & 1)];
	out[2 * words] = '\0';
}

static uint16_t word(const uint8_t *id, unsigned w)
{
	return le_load(id + 2 * w, 2);
}

static void identify(struct ctx *c, uint8_t *id)
{
	fake_machine_clear_calls(c->fm);
	ata_out(c, R_DEVICE, 0xa0);
	command(c, 0xec);
	assert_int_equal(pulses(c, 14), 1);
	assert_int_equal(irq_status(c), ST_DRDY | ST_DSC | ST_DRQ);
	read_sector_words(c, id);
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
	assert_int_equal(pulses(c, 14), 1);
}

static void test_identify(void **state)
{
	struct ctx *c = *state;
	uint8_t id[512], sum = 0;
	char s[41];

	identify(c, id);
	assert_int_equal(c->data_acc, 256);
	assert_int_equal(word(id, 0), 0x0040);
	ata_string(id, 27, 20, s);
	assert_string_equal(s, "qlite HARDDISK                          ");
	ata_string(id, 10, 10, s);
	assert_string_equal(s, "QL00001             ");
	ata_string(id, 23, 4, s);
	assert_memory_equal(s, QLITE_VERSION, strlen(QLITE_VERSION));
	/*
	 * Every other word as QEMU 7.2's ide-hd answers for an image of this size
	 * (its `ide-identify` output, tests/integration/blk_guest_test.py), less
	 * SMART (bit 0 of 82 and 85) and TRIM (69, 169), which qlite does not do.
	 */
	{
		const uint16_t cyls = DISK_SECTORS / (16 * 63);
		const struct { unsigned w; uint16_t v; } qemu[] = {
			{ 1, cyls }, { 3, 16 }, { 4, 0x7e00 }, { 5, 0x0200 }, { 6, 63 },
			{ 20, 3 }, { 21, 0x0200 }, { 22, 4 }, { 47, 0x8010 }, { 48, 1 },
			{ 49, 0x0b00 }, { 50, 0 }, { 51, 0x0200 }, { 52, 0x0200 }, { 53, 7 },
			{ 54, cyls }, { 55, 16 }, { 56, 63 }, { 57, cyls * 16 * 63 }, { 58, 0 },
			{ 59, 0x0110 }, { 60, DISK_SECTORS }, { 61, 0 }, { 62, 7 }, { 63, 7 },
			{ 64, 3 }, { 65, 120 }, { 66, 120 }, { 67, 120 }, { 68, 120 },
			{ 69, 0 }, { 80, 0x00f0 }, { 81, 0x0016 }, { 82, 0x4020 }, { 83, 0x7400 },
			{ 84, 0x4000 }, { 85, 0x4020 }, { 86, 0x3400 }, { 87, 0x4000 },
			{ 88, 0x203f }, { 93, 0x6001 }, { 100, DISK_SECTORS }, { 101, 0 },
			{ 102, 0 }, { 103, 0 }, { 106, 0x6000 }, { 169, 0 }, { 217, 0 },
		};
		bool listed[256] = { false };

		for (unsigned i = 0; i < ARRAY_SIZE(qemu); i++) {
			if (word(id, qemu[i].w) != qemu[i].v)
				fail_msg("word %u: 0x%04x, QEMU says 0x%04x", qemu[i].w,
					 word(id, qemu[i].w), qemu[i].v);
			listed[qemu[i].w] = true;
		}
		/* The rest is zero but for the strings and the integrity word. */
		for (unsigned w = 0; w < 255; w++)
			if (w && !listed[w] && !(w >= 10 && w < 47) && word(id, w))
				fail_msg("word %u: 0x%04x, QEMU leaves it 0", w, word(id, w));
	}
	/* Word 255: A5h and a checksum that makes the sector sum to zero. */
	assert_int_equal(id[510], 0xa5);
	for (unsigned i = 0; i < 512; i++)
		sum += id[i];
	assert_int_equal(sum, 0);
}

/* ---- PIO ---- */

/* READ SECTORS (EXT) of n sectors, one interrupt and one status read a sector. */
static void pio_read(struct ctx *c, unsigned dev, uint64_t lba, uint32_t n, bool lba48,
		     uint8_t *buf)
{
	fake_machine_clear_calls(c->fm);
	tf_load(c, dev, lba, n, lba48);
	command(c, lba48 ? 0x24 : 0x20);
	for (uint32_t s = 0; s < n; s++) {
		assert_int_equal(pulses(c, c->cmd == PRI_CMD ? 14 : 15), s + 1);
		assert_int_equal(irq_status(c), ST_DRDY | ST_DSC | ST_DRQ);
		read_sector_words(c, buf + 512 * s);
	}
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
	assert_int_equal(pulses(c, c->cmd == PRI_CMD ? 14 : 15), n);
}

static void test_pio_read_counted(void **state)
{
	struct ctx *c = *state;
	enum { N = 7 };
	uint8_t buf[N * 512];
	unsigned exits = fake_exits(c->fm);

	c->data_acc = c->reg_acc = 0;
	pio_read(c, 0, 100, N, false, buf);
	for (unsigned s = 0; s < N; s++)
		check_sector(buf + 512 * s, 100 + s);
	/* Exactly N * 256 data-port accesses, and the register accesses this test made. */
	assert_int_equal(c->data_acc, N * 256);
	/* task file, command and its pause, a status read a sector, the last altstatus */
	assert_int_equal(c->reg_acc, 6 + 2 + N + 1);
	assert_int_equal(fake_exits(c->fm) - exits, c->data_acc + c->reg_acc);
	/* Reading on: no DRQ, the data port floats to 0 and nothing changes. */
	assert_int_equal(data_in(c), 0);
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
	/* 256 sectors when the count is 0, an interrupt each. */
	tf_load(c, 0, DISK_SECTORS - 256, 0, false);
	fake_machine_clear_calls(c->fm);
	command(c, 0x20);
	for (unsigned s = 0; s < 256; s++) {
		uint8_t sec[512];

		assert_int_equal(pulses(c, 14), 1);
		fake_machine_clear_calls(c->fm);
		assert_int_equal(irq_status(c), ST_DRDY | ST_DSC | ST_DRQ);
		read_sector_words(c, sec);
		check_sector(sec, DISK_SECTORS - 256 + s);
	}
	assert_int_equal(pulses(c, 14), 0);
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
}

/* ata_piix uses 32-bit PIO on the PIIX3 (ata_sff_data_xfer32): 128 accesses a sector. */
static void test_pio_read_32bit(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[2 * 512];
	unsigned exits;

	tf_load(c, 0, 7, 2, false);
	command(c, 0x20);
	exits = fake_exits(c->fm);
	for (unsigned s = 0; s < 2; s++) {
		assert_int_equal(irq_status(c), ST_DRDY | ST_DSC | ST_DRQ);
		for (unsigned i = 0; i < 128; i++)
			le_store(buf + 512 * s + 4 * i, fake_pio_read(c->fm, PRI_CMD, 4), 4);
	}
	assert_int_equal(fake_exits(c->fm) - exits, 2 + 2 * 128);
	check_sector(buf, 7);
	check_sector(buf + 512, 8);
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
}

static void pio_write(struct ctx *c, uint64_t lba, uint32_t n, bool lba48, uint8_t seed)
{
	fake_machine_clear_calls(c->fm);
	tf_load(c, 0, lba, n, lba48);
	command(c, lba48 ? 0x34 : 0x30);
	/* PIO out: DRQ for the first block without an interrupt. */
	assert_int_equal(pulses(c, 14), 0);
	for (uint32_t s = 0; s < n; s++) {
		assert_int_equal(altstatus(c), ST_DRDY | ST_DSC | ST_DRQ);
		for (unsigned w = 0; w < 256; w++)
			data_out(c, (uint16_t)(seed + s) << 8 | (w & 0xff));
		assert_int_equal(pulses(c, 14), s + 1);
		irq_status(c);
	}
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
}

static void test_pio_write(void **state)
{
	struct ctx *c = *state;
	uint8_t sec[512];

	c->data_acc = 0;
	pio_write(c, 40, 3, false, 0x60);
	assert_int_equal(c->data_acc, 3 * 256);
	for (unsigned s = 0; s < 3; s++) {
		file_sector(c->path[0], 40 + s, sec);
		for (unsigned w = 0; w < 256; w++) {
			assert_int_equal(sec[2 * w], w & 0xff);
			assert_int_equal(sec[2 * w + 1], 0x60 + s);
		}
	}
	/* The neighbours are untouched. */
	file_sector(c->path[0], 39, sec);
	check_sector(sec, 39);
	file_sector(c->path[0], 43, sec);
	check_sector(sec, 43);
	/* Writes to the data port without DRQ go nowhere. */
	data_out(c, 0xdead);
	file_sector(c->path[0], 43, sec);
	check_sector(sec, 43);
}

static void test_multiple(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[10 * 512], id[512];

	/* On at power-on, 16 sectors a block as QEMU: 10 sectors in one block. */
	fake_machine_clear_calls(c->fm);
	tf_load(c, 0, 100, 10, false);
	command(c, 0xc4);
	assert_int_equal(irq_status(c), ST_DRDY | ST_DSC | ST_DRQ);
	for (unsigned s = 0; s < 10; s++) {
		read_sector_words(c, buf + 512 * s);
		check_sector(buf + 512 * s, 100 + s);
	}
	assert_int_equal(pulses(c, 14), 1);
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
	/* Not a power of two, too big: aborted; 4 works. */
	assert_int_equal(set_and_run(c, R_NSECT, 3, 0xc6), ST_DRDY | ST_ERR);
	assert_int_equal(set_and_run(c, R_NSECT, 32, 0xc6), ST_DRDY | ST_ERR);
	assert_int_equal(set_and_run(c, R_NSECT, 4, 0xc6), ST_DRDY | ST_DSC);
	identify(c, id);
	assert_int_equal(word(id, 59), 0x0104);

	/* 10 sectors in blocks of 4, 4, 2: three interrupts, 2560 data accesses. */
	fake_machine_clear_calls(c->fm);
	c->data_acc = 0;
	tf_load(c, 0, 200, 10, false);
	command(c, 0xc4);
	for (unsigned b = 0, s = 0; b < 3; b++) {
		unsigned n = b < 2 ? 4 : 2;

		assert_int_equal(pulses(c, 14), b + 1);
		assert_int_equal(irq_status(c), ST_DRDY | ST_DSC | ST_DRQ);
		for (unsigned i = 0; i < n; i++, s++)
			read_sector_words(c, buf + 512 * s);
	}
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
	assert_int_equal(pulses(c, 14), 3);
	assert_int_equal(c->data_acc, 10 * 256);
	for (unsigned s = 0; s < 10; s++)
		check_sector(buf + 512 * s, 200 + s);

	/* WRITE MULTIPLE EXT: 6 sectors, blocks 4 + 2, an interrupt after each. */
	fake_machine_clear_calls(c->fm);
	tf_load(c, 0, 300, 6, true);
	command(c, 0x39);
	assert_int_equal(pulses(c, 14), 0);
	for (unsigned b = 0, s = 0; b < 2; b++) {
		unsigned n = b ? 2 : 4;

		assert_int_equal(altstatus(c), ST_DRDY | ST_DSC | ST_DRQ);
		for (unsigned i = 0; i < n; i++, s++)
			for (unsigned w = 0; w < 256; w++)
				data_out(c, le_load((uint8_t[]){ pattern(200 + s, 2 * w),
								 pattern(200 + s, 2 * w + 1) }, 2));
		assert_int_equal(pulses(c, 14), b + 1);
		irq_status(c);
	}
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
	/* READ MULTIPLE EXT reads them back. */
	tf_load(c, 0, 300, 6, true);
	command(c, 0x29);
	for (unsigned b = 0, s = 0; b < 2; b++) {
		irq_status(c);
		for (unsigned i = 0; i < (b ? 2u : 4u); i++, s++) {
			read_sector_words(c, buf);
			check_sector(buf, 200 + s);
		}
	}
	/* Multiple mode off with a count of 0: READ/WRITE MULTIPLE abort. */
	assert_int_equal(set_and_run(c, R_NSECT, 0, 0xc6), ST_DRDY | ST_DSC);
	tf_load(c, 0, 0, 1, false);
	command(c, 0xc5);
	assert_int_equal(irq_status(c), ST_DRDY | ST_ERR);
	assert_int_equal(ata_in(c, R_ERROR), ERR_ABRT);
	identify(c, id);
	assert_int_equal(word(id, 59), 0);
	/* A soft reset reverts to the default, as QEMU's does ... */
	devctl(c, CTL_SRST);
	devctl(c, 0);
	identify(c, id);
	assert_int_equal(word(id, 59), 0x0110);
	/* ... unless SET FEATURES 66h asked to keep the settings. */
	assert_int_equal(set_and_run(c, R_NSECT, 2, 0xc6), ST_DRDY | ST_DSC);
	assert_int_equal(set_and_run(c, R_FEATURE, 0x66, 0xef), ST_DRDY | ST_DSC);
	devctl(c, CTL_SRST);
	devctl(c, 0);
	identify(c, id);
	assert_int_equal(word(id, 59), 0x0102);
}

/* ---- LBA48 ---- */

static void test_lba48(void **state)
{
	struct ctx *c = *state;
	const uint64_t sectors = (1ULL << 28) + 64, top = (1ULL << 28) + 10;
	uint8_t buf[2 * 512], id[512];
	int fd;

	/* A sparse disk past the 28-bit limit as primary slave; sectors at the top filled. */
	make_image(c->path[1], sectors, false);
	fd = open(c->path[1], O_WRONLY);
	assert_true(fd >= 0);
	for (uint64_t s = top; s < top + 2; s++) {
		for (unsigned i = 0; i < 512; i++)
			buf[i] = pattern(s, i);
		assert_int_equal(pwrite(fd, buf, 512, s * 512), 512);
	}
	close(fd);
	add_vdev(c, 4, c->path[1], "slave", "on", NULL);
	assert_int_equal(build(c), 0);

	ata_out(c, R_DEVICE, 0xb0);
	command(c, 0xec);
	irq_status(c);
	read_sector_words(c, id);
	assert_int_equal(word(id, 60) | word(id, 61) << 16, 0x0fffffff);
	assert_int_equal(word(id, 100) | (uint64_t)word(id, 101) << 16 |
			 (uint64_t)word(id, 102) << 32, sectors);
	ata_string(id, 10, 10, (char *)buf);
	assert_string_equal((char *)buf, "QL00002             ");

	pio_read(c, 1, top, 2, true, buf);
	check_sector(buf, top);
	check_sector(buf + 512, top + 1);
	/* HOB: the previous bytes of each register, read back as libata's tf_read does. */
	tf_load(c, 1, 0x0000123456789abcULL, 0x0102, true);
	devctl(c, CTL_HOB);
	assert_int_equal(ata_in(c, R_NSECT), 0x01);
	assert_int_equal(ata_in(c, R_LBAL), 0x56);
	assert_int_equal(ata_in(c, R_LBAM), 0x34);
	assert_int_equal(ata_in(c, R_LBAH), 0x12);
	devctl(c, 0);
	assert_int_equal(ata_in(c, R_NSECT), 0x02);
	assert_int_equal(ata_in(c, R_LBAL), 0xbc);
	/* A write to a command block register clears HOB. */
	devctl(c, CTL_HOB);
	ata_out(c, R_FEATURE, 0);
	assert_int_equal(ata_in(c, R_LBAL), 0xbc);
	/* That address is past the end: IDNF, and the first sector past the end reported. */
	command(c, 0x24);
	assert_int_equal(irq_status(c), ST_DRDY | ST_ERR);
	assert_int_equal(ata_in(c, R_ERROR), ERR_IDNF);
	/* READ DMA EXT reaches the top too. */
	memset(buf, 0, sizeof(buf));
	write_prds(c, PRD_TABLE, (struct prd[]){ { DMA_BUF, 1024, true } }, 1);
	tf_load(c, 1, top, 2, true);
	dma_command(c, PRD_TABLE, true, 0x25);
	assert_int_equal(guest_mem_read(&c->mem, DMA_BUF, buf, 1024), 0);
	check_sector(buf, top);
	check_sector(buf + 512, top + 1);
	/* A count of 0 is 65536 sectors: past the end from here. */
	tf_load(c, 1, sectors - 100, 0, true);
	command(c, 0x24);
	assert_int_equal(irq_status(c), ST_DRDY | ST_ERR);
	assert_int_equal(ata_in(c, R_ERROR), ERR_IDNF);
	/* The master answers on its own when selected again. */
	pio_read(c, 0, 5, 1, true, buf);
	check_sector(buf, 5);
}

/* ---- DMA ---- */

static void test_dma_read_write(void **state)
{
	struct ctx *c = *state;
	/* 8 sectors over three pieces of RAM, the middle one odd-sized and unaligned. */
	const struct prd prds[] = {
		{ DMA_BUF, 1000, false },
		{ DMA_BUF + 0x10002, 2096, false },
		{ DMA_BUF + 0x30000, 1000, true },
	};
	uint8_t buf[8 * 512], st, bms;

	write_prds(c, PRD_TABLE, prds, 3);
	fake_machine_clear_calls(c->fm);
	tf_load(c, 0, 500, 8, false);
	dma_command(c, PRD_TABLE, true, 0xc8);
	assert_int_equal(pulses(c, 14), 1);
	st = dma_finish(c, &bms);
	assert_int_equal(bms, BMS_INTR);		/* done: not active, no error */
	assert_int_equal(st, ST_DRDY | ST_DSC);
	assert_int_equal(bm_in(c, 2) & (BMS_INTR | BMS_ERR | BMS_ACTIVE), 0);
	assert_int_equal(guest_mem_read(&c->mem, DMA_BUF, buf, 1000), 0);
	assert_int_equal(guest_mem_read(&c->mem, DMA_BUF + 0x10002, buf + 1000, 2096), 0);
	assert_int_equal(guest_mem_read(&c->mem, DMA_BUF + 0x30000, buf + 3096, 1000), 0);
	for (unsigned s = 0; s < 8; s++)
		check_sector(buf + 512 * s, 500 + s);

	/* WRITE DMA of the same RAM to sectors 900..907, START before the command this time. */
	fake_pio_write(c->fm, c->bm + 4, 4, PRD_TABLE);
	bm_out(c, 0, BM_START);
	assert_int_equal(bm_in(c, 2) & BMS_ACTIVE, BMS_ACTIVE);
	tf_load(c, 0, 900, 8, false);
	command(c, 0xca);
	st = dma_finish(c, &bms);
	assert_int_equal(bms, BMS_INTR);
	assert_int_equal(st, ST_DRDY | ST_DSC);
	for (unsigned s = 0; s < 8; s++) {
		uint8_t sec[512];

		file_sector(c->path[0], 900 + s, sec);
		check_sector(sec, 500 + s);
	}

	/* PRDs longer than the transfer: INTR, and ACTIVE until the host stops the engine. */
	write_prds(c, PRD_TABLE, (struct prd[]){ { DMA_BUF, 0x10000, true } }, 1);
	tf_load(c, 0, 10, 2, false);
	dma_command(c, PRD_TABLE, true, 0xc8);
	assert_int_equal(bm_in(c, 2) & (BMS_ACTIVE | BMS_INTR), BMS_ACTIVE | BMS_INTR);
	st = dma_finish(c, &bms);
	assert_int_equal(st, ST_DRDY | ST_DSC);
	assert_int_equal(bm_in(c, 2) & (BMS_ACTIVE | BMS_INTR), 0);
	assert_int_equal(guest_mem_read(&c->mem, DMA_BUF, buf, 1024), 0);
	check_sector(buf, 10);
	check_sector(buf + 512, 11);
	/* The drive-capable bits are the BIOS's to keep; the reserved bits read 0. */
	bm_out(c, 2, 0x60);
	assert_int_equal(bm_in(c, 2), 0x60);
	assert_int_equal(bm_in(c, 1), 0);
	assert_int_equal(fake_pio_read(c->fm, c->bm + 4, 4), PRD_TABLE);
	fake_pio_write(c->fm, c->bm + 4, 4, PRD_TABLE | 3);
	assert_int_equal(fake_pio_read(c->fm, c->bm + 4, 4), PRD_TABLE);
}

/* A DMA of count sectors that must fail: bus master ERROR and INTR, the drive ABRT, one IRQ. */
static void dma_must_fail(struct ctx *c, uint32_t table, bool to_memory, uint8_t cmd,
			  unsigned count)
{
	uint8_t st, bms;

	fake_machine_clear_calls(c->fm);
	tf_load(c, 0, 64, count, false);
	dma_command(c, table, to_memory, cmd);
	assert_int_equal(pulses(c, 14), 1);
	st = dma_finish(c, &bms);
	assert_int_equal(bms, BMS_ERR | BMS_INTR);
	assert_int_equal(st, ST_DRDY | ST_ERR);
	assert_int_equal(ata_in(c, R_ERROR), ERR_ABRT);
	assert_int_equal(c->fm->nr_stops, 0);
}

/*
 * A PRD table that ends before the transfer: as QEMU 7.2 and SFF-8038i
 * (Interrupt 0, Active 0, Error 0), nothing moved, the drive ready
 * without an error or an interrupt.
 */
static void dma_must_stop_short(struct ctx *c, uint32_t table, bool to_memory, uint8_t cmd,
				unsigned count)
{
	static uint8_t before[64 * 512], after[64 * 512];

	assert_true(count * 512 <= sizeof(before));
	assert_int_equal(guest_mem_read(&c->mem, DMA_BUF, before, count * 512), 0);
	bm_out(c, 2, BMS_INTR | BMS_ERR);
	fake_machine_clear_calls(c->fm);
	tf_load(c, 0, 64, count, false);
	dma_command(c, table, to_memory, cmd);
	assert_int_equal(pulses(c, 14), 0);
	assert_int_equal(bm_in(c, 2) & (BMS_ACTIVE | BMS_INTR | BMS_ERR), 0);
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
	assert_int_equal(ata_in(c, R_ERROR), 0);
	bm_out(c, 0, bm_in(c, 0) & ~BM_START);
	assert_int_equal(guest_mem_read(&c->mem, DMA_BUF, after, count * 512), 0);
	assert_memory_equal(before, after, count * 512);
	assert_int_equal(c->fm->nr_stops, 0);
}

static void test_dma_hostile(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[16 * 512], sec[512];
	struct prd many[8192];

	/* The table in the PCI hole, past RAM's end, straddling RAM's end. */
	dma_must_fail(c, 0xe0000000, true, 0xc8, 16);
	dma_must_fail(c, RAM_SIZE, true, 0xc8, 16);
	dma_must_fail(c, RAM_SIZE - 4, true, 0xc8, 16);
	/* A buffer outside RAM, one straddling its end, one in the hole; reads and writes. */
	write_prds(c, PRD_TABLE, (struct prd[]){ { DMA_BUF, 4096, false },
						 { 0xd0000000, 4096, true } }, 2);
	dma_must_fail(c, PRD_TABLE, true, 0xc8, 16);
	dma_must_fail(c, PRD_TABLE, false, 0xca, 16);
	write_prds(c, PRD_TABLE, (struct prd[]){ { RAM_SIZE - 512, 8192, true } }, 1);
	dma_must_fail(c, PRD_TABLE, true, 0xc8, 16);
	/* The end bit before the transfer is complete: reads and writes stop short. */
	write_prds(c, PRD_TABLE, (struct prd[]){ { DMA_BUF, 4096, false },
						 { DMA_BUF + 4096, 2048, true } }, 2);
	dma_must_stop_short(c, PRD_TABLE, true, 0xc8, 16);
	dma_must_stop_short(c, PRD_TABLE, false, 0xca, 16);
	/* No end bit within 64 KiB of the table: 8192 entries of 2 bytes never reach 32 KiB. */
	for (unsigned i = 0; i < 8192; i++)
		many[i] = (struct prd){ DMA_BUF + 2 * i, 2, false };
	write_prds(c, PRD_TABLE, many, 8192);
	dma_must_stop_short(c, PRD_TABLE, true, 0xc8, 64);
	dma_must_stop_short(c, PRD_TABLE, false, 0xca, 64);
	/* The same list ending where RAM ends: the walk stops at 8192 entries, no further. */
	write_prds(c, RAM_SIZE - 0x10000, many, 8192);
	dma_must_stop_short(c, RAM_SIZE - 0x10000, true, 0xc8, 64);
	/* After a short table the drive takes the next command. */
	write_prds(c, PRD_TABLE, (struct prd[]){ { DMA_BUF, 8192, true } }, 1);
	fake_machine_clear_calls(c->fm);
	tf_load(c, 0, 64, 16, false);
	dma_command(c, PRD_TABLE, true, 0xc8);
	assert_int_equal(pulses(c, 14), 1);
	assert_int_equal(bm_in(c, 2) & (BMS_ACTIVE | BMS_INTR | BMS_ERR), BMS_INTR);
	bm_out(c, 0, 0);
	irq_status(c);
	bm_out(c, 2, BMS_INTR | BMS_ERR);
	/* Bus mastering turned off in the PCI command register. */
	write_prds(c, PRD_TABLE, (struct prd[]){ { DMA_BUF, 8192, true } }, 1);
	fake_pci_cfg_write(c->fm, 1, 1, 0x04, 2, 0x0001);
	dma_must_fail(c, PRD_TABLE, true, 0xc8, 16);
	fake_pci_cfg_write(c->fm, 1, 1, 0x04, 2, 0x0005);
	/* None of the failed writes reached the disk. */
	for (unsigned s = 64; s < 80; s++) {
		file_sector(c->path[0], s, sec);
		check_sector(sec, s);
	}
	/* And the controller still works: the same transfer with a good table. */
	tf_load(c, 0, 64, 16, false);
	dma_command(c, PRD_TABLE, true, 0xc8);
	assert_int_equal(bm_in(c, 2) & (BMS_ERR | BMS_INTR), BMS_INTR);
	assert_int_equal(guest_mem_read(&c->mem, DMA_BUF, buf, sizeof(buf)), 0);
	for (unsigned s = 0; s < 16; s++)
		check_sector(buf + 512 * s, 64 + s);
	/* START with no DMA command: the engine waits, nothing happens, no interrupt. */
	bm_out(c, 0, 0);
	bm_out(c, 2, BMS_INTR | BMS_ERR);
	fake_machine_clear_calls(c->fm);
	bm_out(c, 0, BM_START | BM_READ);
	assert_int_equal(bm_in(c, 2), BMS_ACTIVE);
	assert_int_equal(c->fm->nr_irq_calls, 0);
	bm_out(c, 0, 0);
	assert_int_equal(bm_in(c, 2), 0);
}

/* ---- behind an IOMMU ---- */

/* The fake IOMMU's window (fake_iommu.h): what the tests below map and refuse. */
#define IOVA_BASE	0x80000000ull
#define IOVA_SPAN	0x400000ull
#define IOVA_REFUSED	(IOVA_BASE + 0x200000)
#define GPA_BASE	0x400000ull

/* Install the fake IOMMU with this file's window. */
static void iommu_install(struct ctx *c)
{
	c->iommu = (struct fake_iommu){ .iova_base = IOVA_BASE, .span = IOVA_SPAN,
					.refused = IOVA_REFUSED, .gpa_base = GPA_BASE,
					.mem = &c->mem };
	fake_iommu_install(&c->fm->m, &c->iommu);
}

static void write_prds_iova(struct ctx *c, uint64_t table, const struct prd *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t e[8];

		le_store(e, p[i].addr, 4);
		le_store(e + 4, (p[i].len & 0xffff) | (p[i].eot ? 0x80000000u : 0), 4);
		fake_iommu_rw(&c->iommu, table + 8 * i, e, 8, true);
	}
}

static void test_dma_iommu(void **state)
{
	struct ctx *c = *state;
	const uint32_t table = IOVA_BASE + 0xff8;	/* its two entries on two pages */
	/* 8 sectors in two pieces, odd-sized, unaligned, each across a page boundary. */
	const struct prd prds[] = {
		{ IOVA_BASE + 0x10e00, 3000, false },
		{ IOVA_BASE + 0x20ffa, 1096, true },
	};
	uint8_t buf[8 * 512], sec[512], st, bms;

	iommu_install(c);
	write_prds_iova(c, table, prds, 2);
	fake_machine_clear_calls(c->fm);
	tf_load(c, 0, 500, 8, false);
	dma_command(c, table, true, 0xc8);
	assert_int_equal(pulses(c, 14), 1);
	st = dma_finish(c, &bms);
	assert_int_equal(bms, BMS_INTR);
	assert_int_equal(st, ST_DRDY | ST_DSC);
	/* The sectors are where the IOVAs map, as the IDE function 00:01.1. */
	fake_iommu_rw(&c->iommu, prds[0].addr, buf, 3000, false);
	fake_iommu_rw(&c->iommu, prds[1].addr, buf + 3000, 1096, false);
	for (unsigned s = 0; s < 8; s++)
		check_sector(buf + 512 * s, 500 + s);
	assert_int_equal(c->iommu.last_sid, 1 << 3 | 1);

	/* WRITE DMA of the same buffers to sectors 900..907. */
	tf_load(c, 0, 900, 8, false);
	dma_command(c, table, false, 0xca);
	st = dma_finish(c, &bms);
	assert_int_equal(bms, BMS_INTR);
	assert_int_equal(st, ST_DRDY | ST_DSC);
	for (unsigned s = 0; s < 8; s++) {
		file_sector(c->path[0], 900 + s, sec);
		check_sector(sec, 500 + s);
	}

	/* A table the IOMMU refuses, or outside its window: as a table outside RAM. */
	dma_must_fail(c, IOVA_REFUSED, true, 0xc8, 8);
	dma_must_fail(c, 0x1000, false, 0xca, 8);
	/* A buffer it refuses (the second piece of 8 sectors): as a buffer outside RAM. */
	write_prds_iova(c, table, (struct prd[]){ { IOVA_BASE + 0x10e00, 2048, false },
						  { IOVA_REFUSED - 0x200, 2048, true } }, 2);
	dma_must_fail(c, table, true, 0xc8, 8);
	dma_must_fail(c, table, false, 0xca, 8);
	/* None of the failed writes reached the disk. */
	for (unsigned s = 64; s < 72; s++) {
		file_sector(c->path[0], s, sec);
		check_sector(sec, s);
	}
	/* The end bit before the transfer is complete still stops it short, translated. */
	write_prds_iova(c, table, (struct prd[]){ { IOVA_BASE + 0x10e00, 2048, true } }, 1);
	bm_out(c, 2, BMS_INTR | BMS_ERR);
	fake_machine_clear_calls(c->fm);
	tf_load(c, 0, 64, 8, false);
	dma_command(c, table, true, 0xc8);
	assert_int_equal(pulses(c, 14), 0);
	assert_int_equal(bm_in(c, 2) & (BMS_ACTIVE | BMS_INTR | BMS_ERR), 0);
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
	assert_int_equal(c->fm->nr_stops, 0);
}

/* ---- errors ---- */

static void test_lba_past_end(void **state)
{
	struct ctx *c = *state;
	const uint8_t cmds[] = { 0x20, 0x30, 0xc8, 0xca, 0x40 };
	uint8_t sec[512];
	struct stat st;

	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++) {
		/* Two sectors from the last one; then the first sector past the end. */
		for (unsigned k = 0; k < 2; k++) {
			uint64_t lba = k ? DISK_SECTORS : DISK_SECTORS - 1;

			fake_machine_clear_calls(c->fm);
			tf_load(c, 0, lba, 2, false);
			command(c, cmds[i]);
			assert_int_equal(pulses(c, 14), 1);
			assert_int_equal(irq_status(c), ST_DRDY | ST_ERR);
			assert_int_equal(ata_in(c, R_ERROR), ERR_IDNF);
			/* The first sector that is not there. */
			assert_int_equal(ata_in(c, R_LBAL) | ata_in(c, R_LBAM) << 8, DISK_SECTORS);
			/* No data phase: the data port gives nothing. */
			assert_int_equal(data_in(c), 0);
		}
	}
	/* READ VERIFY within the disk completes; 256 sectors from 1900 do not fit. */
	tf_load(c, 0, DISK_SECTORS - 8, 8, false);
	command(c, 0x40);
	assert_int_equal(irq_status(c), ST_DRDY | ST_DSC);
	tf_load(c, 0, 1900, 0, false);
	command(c, 0x40);
	assert_int_equal(irq_status(c), ST_DRDY | ST_ERR);
	assert_int_equal(stat(c->path[0], &st), 0);
	assert_int_equal(st.st_size, DISK_SECTORS * 512);
	file_sector(c->path[0], DISK_SECTORS - 1, sec);
	check_sector(sec, DISK_SECTORS - 1);
}

static void test_bad_commands(void **state)
{
	struct ctx *c = *state;
	const uint8_t aborted[] = { 0x00, 0x08, 0x90, 0xa0, 0xa1, 0xb0, 0xf8, 0x27, 0x2f, 0xff };
	uint8_t id[512];

	for (unsigned i = 0; i < ARRAY_SIZE(aborted); i++) {
		fake_machine_clear_calls(c->fm);
		command(c, aborted[i]);
		assert_int_equal(pulses(c, 14), 1);
		assert_int_equal(irq_status(c), ST_DRDY | ST_ERR);
		assert_int_equal(ata_in(c, R_ERROR), ERR_ABRT);
	}
	/*
	 * SET FEATURES: MWDMA 3 (the drive has 0-2) and an unknown subcommand
	 * abort; UDMA 5, write cache off and look-ahead off work.
	 */
	ata_out(c, R_FEATURE, 0x03);
	assert_int_equal(set_and_run(c, R_NSECT, 0x23, 0xef), ST_DRDY | ST_ERR);
	assert_int_equal(set_and_run(c, R_FEATURE, 0x77, 0xef), ST_DRDY | ST_ERR);
	ata_out(c, R_FEATURE, 0x03);
	assert_int_equal(set_and_run(c, R_NSECT, 0x45, 0xef), ST_DRDY | ST_DSC);
	assert_int_equal(set_and_run(c, R_FEATURE, 0x82, 0xef), ST_DRDY | ST_DSC);
	assert_int_equal(set_and_run(c, R_FEATURE, 0x55, 0xef), ST_DRDY | ST_DSC);
	identify(c, id);
	assert_int_equal(word(id, 88), 0x203f);
	assert_int_equal(word(id, 63), 0x0007);
	assert_int_equal(word(id, 85) & 0x60, 0);
	/* INITIALIZE DEVICE PARAMETERS: 0 sectors a track aborts; 4 heads, 32 sectors works. */
	assert_int_equal(set_and_run(c, R_NSECT, 0, 0x91), ST_DRDY | ST_ERR);
	ata_out(c, R_NSECT, 32);
	assert_int_equal(set_and_run(c, R_DEVICE, 0xa3, 0x91), ST_DRDY | ST_DSC);
	identify(c, id);
	assert_int_equal(word(id, 55), 4);
	assert_int_equal(word(id, 56), 32);
	assert_int_equal(word(id, 54), DISK_SECTORS / (4 * 32));
	/* CHS addressing through that geometry: cylinder 1, head 2, sector 3 is LBA 194. */
	ata_out(c, R_NSECT, 1);
	ata_out(c, R_LBAL, 3);
	ata_out(c, R_LBAM, 1);
	ata_out(c, R_LBAH, 0);
	assert_int_equal(set_and_run(c, R_DEVICE, 0xa2, 0x20), ST_DRDY | ST_DSC | ST_DRQ);
	read_sector_words(c, id);
	check_sector(id, (1 * 4 + 2) * 32 + 3 - 1);
	/* Sector 0 and head 4 do not exist in CHS. */
	assert_int_equal(set_and_run(c, R_LBAL, 0, 0x20), ST_DRDY | ST_ERR);
	assert_int_equal(ata_in(c, R_ERROR), ERR_IDNF);
	ata_out(c, R_LBAL, 1);
	assert_int_equal(set_and_run(c, R_DEVICE, 0xa4, 0x20), ST_DRDY | ST_ERR);
	/* Power management. */
	command(c, 0xe0);
	assert_int_equal(irq_status(c), ST_DRDY | ST_DSC);
	command(c, 0xe5);
	assert_int_equal(irq_status(c), ST_DRDY | ST_DSC);
	assert_int_equal(ata_in(c, R_NSECT), 0x00);		/* standby */
	command(c, 0xe1);
	irq_status(c);
	command(c, 0xe5);
	irq_status(c);
	assert_int_equal(ata_in(c, R_NSECT), 0xff);		/* active or idle */
	assert_int_equal(set_and_run(c, R_NSECT, 10, 0xe2), ST_DRDY | ST_DSC);
	command(c, 0xe3);
	assert_int_equal(irq_status(c), ST_DRDY | ST_DSC);
}

/* A new command in the middle of a transfer ends it; the data port then has nothing. */
static void test_command_during_transfer(void **state)
{
	struct ctx *c = *state;
	uint8_t sec[512];

	tf_load(c, 0, 3, 4, false);
	command(c, 0x20);
	irq_status(c);
	for (unsigned w = 0; w < 100; w++)
		data_in(c);
	tf_load(c, 0, 20, 1, false);
	command(c, 0x20);
	irq_status(c);
	read_sector_words(c, sec);
	check_sector(sec, 20);
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
	assert_int_equal(data_in(c), 0);
	/* A write abandoned half-way leaves the disk as it was. */
	tf_load(c, 0, 30, 1, false);
	command(c, 0x30);
	for (unsigned w = 0; w < 255; w++)
		data_out(c, 0xffff);
	command(c, 0xe7);
	assert_int_equal(irq_status(c), ST_DRDY | ST_DSC);
	data_out(c, 0xffff);
	file_sector(c->path[0], 30, sec);
	check_sector(sec, 30);
}

static void test_flush(void **state)
{
	struct ctx *c = *state;
	unsigned before;

	before = nr_fdatasync;
	pio_write(c, 8, 1, false, 0x11);
	assert_int_equal(nr_fdatasync, before);	/* write cache on: no sync per write */
	command(c, 0xe7);
	assert_int_equal(irq_status(c), ST_DRDY | ST_DSC);
	assert_int_equal(nr_fdatasync, before + 1);
	command(c, 0xea);
	assert_int_equal(irq_status(c), ST_DRDY | ST_DSC);
	assert_int_equal(nr_fdatasync, before + 2);
	/* Write cache off: turning it off syncs, then every write command does. */
	ata_out(c, R_FEATURE, 0x82);
	command(c, 0xef);
	irq_status(c);
	assert_int_equal(nr_fdatasync, before + 3);
	pio_write(c, 8, 2, false, 0x22);
	assert_int_equal(nr_fdatasync, before + 4);
	write_prds(c, PRD_TABLE, (struct prd[]){ { DMA_BUF, 1024, true } }, 1);
	tf_load(c, 0, 8, 2, false);
	dma_command(c, PRD_TABLE, false, 0xca);
	assert_int_equal(nr_fdatasync, before + 5);
}

static void test_readonly(void **state)
{
	struct ctx *c = *state;
	const uint8_t writes[] = { 0x30, 0x34, 0xc5, 0x39, 0xca, 0x35 };
	uint8_t sec[512];
	unsigned before = nr_fdatasync;

	make_image(c->path[1], 64, true);
	add_vdev(c, 4, c->path[1], "readonly", "on", "channel", "secondary", NULL);
	assert_int_equal(build(c), 0);
	c->cmd = SEC_CMD;
	c->ctl = SEC_CTL;
	/* Multiple mode on, so WRITE MULTIPLE fails for being a write. */
	ata_out(c, R_DEVICE, 0xa0);
	ata_out(c, R_NSECT, 2);
	command(c, 0xc6);
	irq_status(c);
	for (unsigned i = 0; i < ARRAY_SIZE(writes); i++) {
		fake_machine_clear_calls(c->fm);
		tf_load(c, 0, 1, 1, writes[i] == 0x34 || writes[i] == 0x39 || writes[i] == 0x35);
		command(c, writes[i]);
		assert_int_equal(pulses(c, 15), 1);
		assert_int_equal(irq_status(c), ST_DRDY | ST_ERR);
		assert_int_equal(ata_in(c, R_ERROR), ERR_ABRT);
		data_out(c, 0);
	}
	file_sector(c->path[1], 1, sec);
	check_sector(sec, 1);
	/* Reads work; FLUSH has nothing to do and succeeds. */
	pio_read(c, 0, 1, 1, false, sec);
	check_sector(sec, 1);
	command(c, 0xe7);
	assert_int_equal(irq_status(c), ST_DRDY | ST_DSC);
	assert_int_equal(nr_fdatasync, before);
}

/* ---- reset, selection, interrupts ---- */

static void check_signature(struct ctx *c)
{
	assert_int_equal(ata_in(c, R_NSECT), 1);
	assert_int_equal(ata_in(c, R_LBAL), 1);
	assert_int_equal(ata_in(c, R_LBAM), 0);
	assert_int_equal(ata_in(c, R_LBAH), 0);
	assert_int_equal(ata_in(c, R_ERROR), 0x01);
}

static void test_reset_and_devchk(void **state)
{
	struct ctx *c = *state;

	/* Power-on: the ATA signature. */
	check_signature(c);
	assert_int_equal(ata_in(c, R_STATUS), ST_DRDY | ST_DSC);
	/* ata_devchk on device 1: the latched bytes read back, but its status is 0. */
	ata_out(c, R_DEVICE, 0xb0);
	ata_out(c, R_NSECT, 0x55);
	ata_out(c, R_LBAL, 0xaa);
	assert_int_equal(ata_in(c, R_NSECT), 0x55);
	assert_int_equal(ata_in(c, R_LBAL), 0xaa);
	assert_int_equal(ata_in(c, R_STATUS), 0);
	assert_int_equal(altstatus(c), 0);
	/* Commands to the absent device go nowhere. */
	fake_machine_clear_calls(c->fm);
	command(c, 0xec);
	assert_int_equal(c->fm->nr_irq_calls, 0);
	assert_int_equal(ata_in(c, R_STATUS), 0);
	/* Leave a command half done on device 0, then ata_bus_softreset. */
	ata_out(c, R_DEVICE, 0xa0);
	tf_load(c, 0, 0, 2, false);
	command(c, 0x20);
	fake_machine_clear_calls(c->fm);
	devctl(c, 0);
	devctl(c, CTL_SRST);
	assert_int_equal(altstatus(c), ST_BSY);
	command(c, 0xec);				/* taken by nobody while in reset */
	devctl(c, 0);
	assert_int_equal(c->fm->nr_irq_calls, 0);	/* reset raises no interrupt */
	assert_int_equal(ata_in(c, R_STATUS), ST_DRDY | ST_DSC);
	assert_int_equal(ata_in(c, R_DEVICE), 0);
	check_signature(c);
	assert_int_equal(data_in(c), 0);
	/*
	 * Device 1 after reset: device 0 answers for it (ATA-6, one device on the
	 * cable): its signature and diagnostic code, but a status of 0, which is
	 * how ata_sff_dev_classify() tells there is nobody.
	 */
	ata_out(c, R_DEVICE, 0xb0);
	check_signature(c);
	assert_int_equal(ata_in(c, R_DEVICE), 0xb0);
	assert_int_equal(ata_in(c, R_STATUS), 0);
	assert_int_equal(altstatus(c), 0);
}

static void test_nien(void **state)
{
	struct ctx *c = *state;
	uint8_t st, bms;

	/* Polling: nIEN set, the command completes with no edge. */
	devctl(c, CTL_NIEN);
	fake_machine_clear_calls(c->fm);
	command(c, 0xe7);
	assert_int_equal(c->fm->nr_irq_calls, 0);
	assert_int_equal(altstatus(c), ST_DRDY | ST_DSC);
	/* Unmasked with the interrupt still pending: the edge comes now. */
	devctl(c, 0);
	assert_int_equal(pulses(c, 14), 1);
	/* Reading the status acknowledges; masking and unmasking then raises nothing. */
	irq_status(c);
	devctl(c, CTL_NIEN);
	devctl(c, 0);
	assert_int_equal(pulses(c, 14), 1);
	/* Alternate status does not acknowledge: no second edge for the next command... */
	command(c, 0xe7);
	assert_int_equal(pulses(c, 14), 2);
	altstatus(c);
	/* ...and a command write does, so the next completion is a new edge. */
	command(c, 0xe7);
	assert_int_equal(pulses(c, 14), 3);
	irq_status(c);
	/* The bus master's INTR latches the edge of a PIO command too. */
	assert_int_equal(bm_in(c, 2) & BMS_INTR, BMS_INTR);
	bm_out(c, 2, BMS_INTR);
	assert_int_equal(bm_in(c, 2) & BMS_INTR, 0);
	/* A DMA with nIEN set: no edge, no INTR; ACTIVE clear says the transfer is over. */
	devctl(c, CTL_NIEN);
	write_prds(c, PRD_TABLE, (struct prd[]){ { DMA_BUF, 512, true } }, 1);
	fake_machine_clear_calls(c->fm);
	tf_load(c, 0, 2, 1, false);
	dma_command(c, PRD_TABLE, true, 0xc8);
	assert_int_equal(c->fm->nr_irq_calls, 0);
	st = dma_finish(c, &bms);
	assert_int_equal(bms, 0);
	assert_int_equal(st, ST_DRDY | ST_DSC);
}

/* ---- two channels, master and slave ---- */

static void test_channels(void **state)
{
	struct ctx *c = *state;
	uint8_t sec[512];

	make_image(c->path[1], 64, true);
	make_image(c->path[2], 128, true);
	add_vdev(c, 4, c->path[1], "channel", "secondary", "slave", "on", NULL);
	add_vdev(c, 5, c->path[2], "slave", "on", NULL);
	assert_int_equal(build(c), 0);
	/* One PIIX3 for all: host bridge + two functions. */
	assert_int_equal(pci_host_nr_devices(c->fm->m.pci), 3);
	assert_int_equal(fake_pci_cfg_read(c->fm, 1, 1, 0x43, 1) & 0x80, 0x80);
	assert_non_null(bus_lookup(c->fm->m.bus[BUS_PIO], SEC_CMD, 8));
	assert_non_null(bus_lookup(c->fm->m.bus[BUS_PIO], SEC_CTL, 1));
	/* Primary slave answers with its own data, and the master with its own. */
	pio_read(c, 1, 100, 1, false, sec);
	check_sector(sec, 100);
	pio_read(c, 0, 100, 1, false, sec);
	check_sector(sec, 100);
	ata_out(c, R_DEVICE, 0xb0);
	command(c, 0xec);
	irq_status(c);
	read_sector_words(c, sec);
	assert_int_equal(word(sec, 60), 128);
	/* Secondary: IRQ 15; its master is absent (status 0), its slave is there. */
	c->cmd = SEC_CMD;
	c->ctl = SEC_CTL;
	ata_out(c, R_DEVICE, 0xa0);
	assert_int_equal(ata_in(c, R_STATUS), 0);
	fake_machine_clear_calls(c->fm);
	pio_read(c, 1, 63, 1, false, sec);
	check_sector(sec, 63);
	assert_int_equal(pulses(c, 14), 0);
	/* DMA on the secondary through its own bus master registers. */
	bm_out(c, 2, BMS_INTR);
	c->bm += 8;
	write_prds(c, PRD_TABLE + 0x100, (struct prd[]){ { DMA_BUF, 1024, true } }, 1);
	tf_load(c, 1, 10, 2, false);
	dma_command(c, PRD_TABLE + 0x100, true, 0xc8);
	assert_int_equal(bm_in(c, 2) & (BMS_INTR | BMS_ERR), BMS_INTR);
	assert_int_equal(fake_pio_read(c->fm, c->bm - 8 + 2, 1) & BMS_INTR, 0);
	assert_int_equal(guest_mem_read(&c->mem, DMA_BUF, sec, 512), 0);
	check_sector(sec, 10);
}

/* ---- the vdev path and the config checks ---- */

static void test_vdev_errors(void **state)
{
	struct ctx *c = *state;
	struct block_image *held;
	char want[256];

	/* The same place twice. */
	forget_reports(c);
	make_image(c->path[1], 64, true);
	add_vdev(c, 7, c->path[1], NULL);
	assert_int_equal(build(c), -EBUSY);
	snprintf(want, sizeof(want), "vm.conf:7: ide: the primary master already has a disk (%s)\n",
		 c->path[0]);
	assert_string_equal(reported(c), want);
	/* A missing image; an image another device holds. */
	forget_reports(c);
	add_vdev(c, 8, "no-such.img", "slave", "on", NULL);
	assert_int_equal(build(c), -ENOENT);
	assert_string_equal(reported(c), "vm.conf:8: no-such.img: No such file or directory\n");
	forget_reports(c);
	assert_int_equal(block_image_open(&held, c->path[1], false, false), 0);
	add_vdev(c, 9, c->path[1], "slave", "on", NULL);
	assert_int_equal(build(c), -EBUSY);
	snprintf(want, sizeof(want),
		 "vm.conf:9: %s: in use by another device or process (locked)\n", c->path[1]);
	assert_string_equal(reported(c), want);
	block_image_close(held);
	/* Ports someone else took: the secondary channel's. */
	forget_reports(c);
	assert_int_equal(debug_exit_create(&c->fm->m, "squatter", 0x170, 1), 0);
	add_vdev(c, 10, c->path[1], "channel", "secondary", NULL);
	assert_int_equal(build(c), -EEXIST);
	assert_string_equal(reported(c), "vm.conf:10: ide-secondary: cannot claim pio "
			    "0x170-0x177: already in use\n");
	/* Nothing of the failures stuck: the primary slave is still free. */
	add_vdev(c, 11, c->path[1], "slave", "on", NULL);
	assert_int_equal(build(c), 0);
	assert_int_equal(pci_host_nr_devices(c->fm->m.pci), 3);
}

/* Parse a config and validate it as qlite run/check do; the one error line or "". */
static int check_config(struct ctx *c, const char *text, char *line, size_t len)
{
	struct vm_spec spec;
	char *out = NULL;
	size_t out_len = 0;
	FILE *err = open_memstream(&out, &out_len);
	int ret;

	vm_spec_init(&spec);
	ret = config_parse_text(&spec, "vm.conf", text, strlen(text), 0, err);
	if (!ret)
		ret = config_finalize(&spec, err);
	if (!ret)
		ret = config_validate(&spec, err);
	fclose(err);
	snprintf(line, len, "%s", out ? out : "");
	free(out);
	vm_spec_free(&spec);
	return ret;
}

struct rw_check {
	struct ctx *c;
	const char *text, *want;
};

static int refused_read_write(void *arg)
{
	struct rw_check *r = arg;
	char line[512];

	return !(check_config(r->c, r->text, line, sizeof(line)) == -EACCES &&
		 !strcmp(line, r->want));
}

static void test_config_checks(void **state)
{
	struct ctx *c = *state;
	char text[512], line[512], want[512];
	struct block_image *held;
	struct rw_check rw_check;

	/* Fresh images: the setup's disk is locked by its device. */
	make_image(c->path[1], 64, true);
	make_image(c->path[2], 64, true);
	assert_int_equal(chmod(c->path[0], 0644), 0);	/* the "kernel": readable by all */
	/* Good: two disks, one of them read-only; two read-only users of one image. */
	snprintf(text, sizeof(text), "kernel %s\nvdev ide file %s\nvdev ide file %s slave on "
		 "readonly on\nvdev ide file %s channel secondary readonly on\n", c->path[0],
		 c->path[2], c->path[1], c->path[1]);
	assert_int_equal(check_config(c, text, line, sizeof(line)), 0);
	assert_string_equal(line, "");
	/* No file option. */
	snprintf(text, sizeof(text), "kernel %s\nvdev ide readonly on\n", c->path[0]);
	assert_int_equal(check_config(c, text, line, sizeof(line)), -EINVAL);
	assert_string_equal(line, "vm.conf:2: option \"file\" is required for ide\n");
	/* A missing image. */
	snprintf(text, sizeof(text), "kernel %s\n\nvdev ide file nowhere.img\n", c->path[0]);
	assert_int_equal(check_config(c, text, line, sizeof(line)), -ENOENT);
	assert_string_equal(line, "vm.conf:3: nowhere.img: No such file or directory\n");
	/* Not a regular file. */
	snprintf(text, sizeof(text), "kernel %s\nvdev ide file /dev/null readonly on\n",
		 c->path[0]);
	assert_int_equal(check_config(c, text, line, sizeof(line)), -EINVAL);
	assert_string_equal(line, "vm.conf:2: /dev/null: not a regular file (a raw image file is "
			    "needed)\n");
	/* Two devices writing one image, or a writer beside a reader. */
	snprintf(text, sizeof(text), "kernel %s\nvdev ide file %s\nvdev ide file %s slave on\n",
		 c->path[0], c->path[1], c->path[1]);
	assert_int_equal(check_config(c, text, line, sizeof(line)), -EBUSY);
	snprintf(want, sizeof(want), "vm.conf:3: %s: already the disk of the vdev at vm.conf:2\n",
		 c->path[1]);
	assert_string_equal(line, want);
	snprintf(text, sizeof(text), "kernel %s\nvdev ide file %s readonly on\nvdev ide file %s "
		 "slave on\n", c->path[0], c->path[1], c->path[1]);
	assert_int_equal(check_config(c, text, line, sizeof(line)), -EBUSY);
	/* An image some other process (here: another open) has locked. */
	assert_int_equal(block_image_open(&held, c->path[1], false, false), 0);
	snprintf(text, sizeof(text), "kernel %s\nvdev ide file %s readonly on\n", c->path[0],
		 c->path[1]);
	assert_int_equal(check_config(c, text, line, sizeof(line)), -EBUSY);
	snprintf(want, sizeof(want), "vm.conf:2: %s: in use by another device or process "
		 "(locked)\n", c->path[1]);
	assert_string_equal(line, want);
	block_image_close(held);
	/* A read-only file without `readonly on`. */
	assert_int_equal(chmod(c->path[1], 0444), 0);
	snprintf(text, sizeof(text), "kernel %s\nvdev ide file %s\n", c->path[0], c->path[1]);
	snprintf(want, sizeof(want), "vm.conf:2: %s: Permission denied (for a read-only disk: "
		 "readonly on)\n", c->path[1]);
	rw_check = (struct rw_check){ c, text, want };
	assert_int_equal(run_unprivileged(refused_read_write, &rw_check), 0);
	snprintf(text, sizeof(text), "kernel %s\nvdev ide file %s readonly on\n", c->path[0],
		 c->path[1]);
	assert_int_equal(check_config(c, text, line, sizeof(line)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pci_functions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_read_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_read_32bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiple, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lba48, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lba_past_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_during_transfer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_devchk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nien, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vdev_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_checks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
