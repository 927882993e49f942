// SPDX-License-Identifier: GPL-2.0-only
/*
 * ide.c - the PIIX3 IDE (8086:7010) primary master from ring 3: ATA PIO
 * (READ/WRITE SECTORS) and Bus Master IDE DMA (READ/WRITE DMA with a PRD
 * table), LBA28, polled; ide-pio=N[,COUNT] and ide-dma=N[,COUNT].
 *
 * The channel is in compatibility mode (0x1f0-0x1f7, control 0x3f6), the bus
 * master registers at BAR4. Like Linux's ata_piix, the primary channel must
 * be enabled in IDETIM (config 0x40, bit 15): firmware or the VMM sets it.
 * nIEN stays clear: the controller raises IRQ 14, which goes nowhere (the
 * 8259s are masked), and sets the bus master Interrupt bit this driver
 * checks. Every register access is one PIO exit; `rep insw` of a sector is
 * one string-PIO exit where the VMM takes it whole, `rep outsw` is 256.
 */
#include "guest.h"

#define ATA_DATA		0x1f0
#define ATA_ERROR		0x1f1
#define ATA_NSECT		0x1f2
#define ATA_LBAL		0x1f3
#define ATA_LBAM		0x1f4
#define ATA_LBAH		0x1f5
#define ATA_DEVICE		0x1f6
#define ATA_STATUS		0x1f7	/* read: status (clears INTRQ); write: command */
#define ATA_COMMAND		0x1f7
#define ATA_ALTSTATUS		0x3f6	/* read: alternate status; write: device control */
#define ATA_CTL			0x3f6

#define ST_ERR			0x01
#define ST_DRQ			0x08
#define ST_DF			0x20
#define ST_DRDY			0x40
#define ST_BSY			0x80

#define DEV_LBA_MASTER		0xe0	/* obsolete bits 7 and 5 set, LBA, device 0 */

#define CMD_READ_SECTORS	0x20
#define CMD_WRITE_SECTORS	0x30
#define CMD_READ_DMA		0xc8
#define CMD_WRITE_DMA		0xca
#define CMD_FLUSH_CACHE		0xe7
#define CMD_IDENTIFY		0xec

#define BM_CMD			0	/* offsets in BAR4, primary channel */
#define BM_STATUS		2
#define BM_PRD			4
#define BM_CMD_START		0x01
#define BM_CMD_TO_MEMORY	0x08	/* the device writes memory: READ DMA */
#define BM_ST_ACTIVE		0x01
#define BM_ST_ERR		0x02
#define BM_ST_INT		0x04
#define BM_ST_CAPABLE		0x60	/* drive 0/1 DMA capable: software-owned, kept */
#define PRD_EOT			0x8000

#define PIIX_IDETIM_PRI		0x40
#define IDETIM_DECODE		0x8000
#define PCI_CLASS_REV		0x08
#define PROGIF_PRI_NATIVE	0x01

#define LBA28_LIMIT		(1u << 28)
#define WORDS_PER_SECTOR	(SECTOR_SIZE / 2)

struct prd {
	uint32_t addr;
	uint16_t bytes;		/* 0 means 64 KiB */
	uint16_t flags;
};

/* Two entries cover 128 KiB; 16 bytes, aligned, so never across 64 KiB. */
static struct prd prd_table[2] __attribute__((aligned(16)));
/*
 * 512-byte aligned, like every sector buffer: `rep insw` of IDENTIFY never
 * crosses a page, so it is one string-PIO exit whatever the link layout
 * (KVM's emulator splits a string read at a page boundary).
 */
static uint16_t identify[256] __attribute__((aligned(512)));

struct ide {
	const char *word;
	uint16_t bm;		/* bus master base (BAR4) */
	uint8_t bm_keep;	/* BM_ST_CAPABLE bits as found */
	uint64_t sectors;	/* LBA28 capacity from IDENTIFY */
};

static uint8_t ata_wait(const struct ide *d, const char *what, uint8_t cmd, bool drq)
{
	uint64_t deadline = tsc_deadline(DISK_TIMEOUT_US);
	uint8_t st;

	while ((st = inb(ATA_STATUS)) & ST_BSY)
		if (rdtsc() > deadline)
			fail("%s: %s (command 0x%x): still busy after %u s, status 0x%x", d->word,
			     what, cmd, DISK_TIMEOUT_US / 1000000, st);
	if (st & (ST_ERR | ST_DF))
		fail("%s: %s (command 0x%x): status 0x%x, error 0x%x", d->word, what, cmd, st,
		     inb(ATA_ERROR));
	if (!!(st & ST_DRQ) != drq)
		fail("%s: %s (command 0x%x): status 0x%x, DRQ should be %s", d->word, what, cmd,
		     st, drq ? "set" : "clear");
	return st;
}

/* LBA28 task file, then the command; the alternate status read is the 400 ns wait. */
static void ata_command(uint64_t lba, unsigned count, uint8_t cmd)
{
	outb(ATA_NSECT, count & 0xff);	/* 0 means 256 */
	outb(ATA_LBAL, lba);
	outb(ATA_LBAM, lba >> 8);
	outb(ATA_LBAH, lba >> 16);
	outb(ATA_DEVICE, DEV_LBA_MASTER | ((lba >> 24) & 0x0f));
	outb(ATA_COMMAND, cmd);
	(void)inb(ATA_ALTSTATUS);
}

static void ide_setup(struct ide *d, const char *word, bool dma)
{
	int bdf = pci_find(0x8086, 0x7010);
	uint32_t class;
	struct pci_bar bar;
	uint8_t st;
	char model[41];

	d->word = word;
	if (bdf < 0)
		fail("%s: no PIIX3 IDE (8086:7010) on PCI bus 0", word);
	class = pci_read(bdf, PCI_CLASS_REV, 4) >> 8;
	if ((class >> 8) != 0x0101 || (class & PROGIF_PRI_NATIVE))
		fail("%s: 00:%02x.%x class 0x%06x: not an IDE controller in compatibility mode",
		     word, bdf >> 3, bdf & 7, class);
	if (!(pci_read(bdf, PIIX_IDETIM_PRI, 2) & IDETIM_DECODE))
		fail("%s: primary channel disabled (IDETIM bit 15 clear); Linux would ignore it", word);
	if (dma) {
		if (pci_bar(bdf, 4, &bar) != 1 || !bar.io || bar.size < 8 || !bar.addr ||
		    bar.addr + bar.size > 0x10000)
			fail("%s: BAR4 (bus master) is not an assigned I/O BAR: 0x%lx size 0x%lx",
			     word, (unsigned long)bar.addr, (unsigned long)bar.size);
		d->bm = bar.addr;
		pci_enable(bdf, PCI_CMD_IO | PCI_CMD_MASTER);
		d->bm_keep = inb(d->bm + BM_STATUS) & BM_ST_CAPABLE;
	} else {
		pci_enable(bdf, PCI_CMD_IO);
	}

	tsc_ensure();
	outb(ATA_CTL, 0);		/* nIEN clear, no reset */
	outb(ATA_DEVICE, DEV_LBA_MASTER);
	(void)inb(ATA_ALTSTATUS);
	st = inb(ATA_STATUS);
	if (st == 0xff || st == 0)
		fail("%s: no device on the primary channel (status 0x%x)", word, st);
	ata_wait(d, "select", 0, false);

	ata_command(0, 0, CMD_IDENTIFY);
	ata_wait(d, "IDENTIFY DEVICE", CMD_IDENTIFY, true);
	insw(ATA_DATA, identify, 256);
	ata_wait(d, "IDENTIFY DEVICE end", CMD_IDENTIFY, false);
	if (identify[0] & 0x8000)
		fail("%s: IDENTIFY word 0 is 0x%x: not an ATA disk", word, identify[0]);
	if (!(identify[49] & 0x0200) || (dma && !(identify[49] & 0x0100)))
		fail("%s: IDENTIFY word 49 is 0x%x: no LBA%s", word, identify[49],
		     dma ? " or no DMA" : "");
	d->sectors = identify[60] | (uint32_t)identify[61] << 16;
	for (unsigned i = 0; i < 20; i++) {
		model[2 * i] = identify[27 + i] >> 8;
		model[2 * i + 1] = identify[27 + i] & 0xff;
	}
	model[40] = '\0';
	for (int i = 39; i >= 0 && model[i] == ' '; i--)
		model[i] = '\0';
	gprintf("%s: 00:%02x.%x, master '%s', %lu sectors (LBA28)", word, bdf >> 3, bdf & 7,
		model, (unsigned long)d->sectors);
	if (dma)
		gprintf(", bus master at 0x%x", d->bm);
	gprintf("\n");
}

static void pio_transfer(const struct ide *d, uint64_t lba, unsigned count, bool write)
{
	uint8_t cmd = write ? CMD_WRITE_SECTORS : CMD_READ_SECTORS;
	uint16_t *p = (uint16_t *)disk_buf;

	ata_command(lba, count, cmd);
	for (unsigned i = 0; i < count; i++, p += WORDS_PER_SECTOR) {
		ata_wait(d, write ? "WRITE SECTORS" : "READ SECTORS", cmd, true);
		if (write)
			outsw(ATA_DATA, p, WORDS_PER_SECTOR);
		else
			insw(ATA_DATA, p, WORDS_PER_SECTOR);
	}
	ata_wait(d, write ? "WRITE SECTORS end" : "READ SECTORS end", cmd, false);
}

static void dma_transfer(const struct ide *d, uint64_t lba, unsigned count, bool write)
{
	uint8_t cmd = write ? CMD_WRITE_DMA : CMD_READ_DMA;
	uint8_t dir = write ? 0 : BM_CMD_TO_MEMORY;
	uint32_t bytes = count * SECTOR_SIZE, first = bytes > 0x10000 ? 0x10000 : bytes;
	uint64_t deadline;
	uint8_t bs;

	/* Entry 0: up to 64 KiB (0 = 64 KiB); entry 1: the rest of 128 KiB. */
	prd_table[0].addr = (uintptr_t)disk_buf;
	prd_table[0].bytes = first & 0xffff;
	prd_table[0].flags = bytes == first ? PRD_EOT : 0;
	prd_table[1].addr = (uintptr_t)disk_buf + first;
	prd_table[1].bytes = (bytes - first) & 0xffff;
	prd_table[1].flags = PRD_EOT;
	barrier();

	outl(d->bm + BM_PRD, (uintptr_t)prd_table);
	outb(d->bm + BM_STATUS, d->bm_keep | BM_ST_ERR | BM_ST_INT);	/* write 1 to clear */
	outb(d->bm + BM_CMD, dir);
	ata_command(lba, count, cmd);
	outb(d->bm + BM_CMD, dir | BM_CMD_START);

	deadline = tsc_deadline(DISK_TIMEOUT_US);
	while (((bs = inb(d->bm + BM_STATUS)) & (BM_ST_ACTIVE | BM_ST_INT | BM_ST_ERR)) == BM_ST_ACTIVE)
		if (rdtsc() > deadline)
			fail("%s: %s: bus master still active after %u s, status 0x%x", d->word,
			     write ? "WRITE DMA" : "READ DMA", DISK_TIMEOUT_US / 1000000, bs);
	outb(d->bm + BM_CMD, dir);	/* stop the engine */
	ata_wait(d, write ? "WRITE DMA" : "READ DMA", cmd, false);
	if ((bs & (BM_ST_ACTIVE | BM_ST_INT | BM_ST_ERR)) != BM_ST_INT)
		fail("%s: %s: bus master status 0x%x at the end (want Interrupt, not Active or Error)",
		     d->word, write ? "WRITE DMA" : "READ DMA", bs);
	outb(d->bm + BM_STATUS, d->bm_keep | BM_ST_INT);
}

/* ide-pio=N[,COUNT] and ide-dma=N[,COUNT]: write N sectors from LBA 0, flush, read back. */
static void ide_run(const char *word, char *arg, bool dma)
{
	uint64_t v[2] = { 0, 1 }, n, t0;
	uint32_t tag = disk_tag(word);
	struct disk_times t = { 0 };
	struct ide d;

	args(word, arg, v, 1, 2);
	n = v[0];
	if (n < 1 || v[1] < 1 || v[1] > 256)
		fail("%s: N must be at least 1 and COUNT 1..256", word);
	disk_buf_alloc(word);
	ide_setup(&d, word, dma);
	if (n > d.sectors || n > LBA28_LIMIT)
		fail("%s: %lu sectors do not fit the disk (%lu sectors, LBA28)", word,
		     (unsigned long)n, (unsigned long)d.sectors);
	t.cmds = (n + v[1] - 1) / v[1];

	for (uint64_t lba = 0; lba < n; lba += v[1]) {
		unsigned c = n - lba < v[1] ? n - lba : v[1];

		pattern_fill(disk_buf, lba, c, tag);
		t0 = rdtsc();
		(dma ? dma_transfer : pio_transfer)(&d, lba, c, true);
		t.write += rdtsc() - t0;
	}

	t0 = rdtsc();
	ata_command(0, 0, CMD_FLUSH_CACHE);
	ata_wait(&d, "FLUSH CACHE", CMD_FLUSH_CACHE, false);
	t.flush = rdtsc() - t0;
	disk_after_flush(word);

	for (uint64_t lba = 0; lba < n; lba += v[1]) {
		unsigned c = n - lba < v[1] ? n - lba : v[1];

		pattern_poison(disk_buf, (uint64_t)c * SECTOR_SIZE);
		t0 = rdtsc();
		(dma ? dma_transfer : pio_transfer)(&d, lba, c, false);
		t.read += rdtsc() - t0;
		pattern_check(word, disk_buf, lba, c, tag);
	}
	disk_report(word, n, &t);
}

/*
 * ide-identify: the 512 bytes of IDENTIFY DEVICE as the controller answered
 * them, 16 words a line ("ide-identify: 000: 0040 3fff ..."), so a test can
 * compare what qlite and QEMU say of the same image word by word.
 */
void do_ide_identify(const char *word, char *arg)
{
	struct ide d = { 0 };

	ide_setup(&d, word, false);
	for (unsigned i = 0; i < 256; i += 16) {
		gprintf("%s: %03u:", word, i);
		for (unsigned k = 0; k < 16; k++)
			gprintf(" %04x", identify[i + k]);
		gprintf("\n");
	}
}

void do_ide_pio(const char *word, char *arg) { ide_run(word, arg, false); }
void do_ide_dma(const char *word, char *arg) { ide_run(word, arg, true); }
