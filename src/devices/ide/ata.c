// SPDX-License-Identifier: GPL-2.0-only
/*
 * ATA drives on a PIIX3 channel (ATA/ATAPI-6): the task file, the command
 * set a Linux libata host uses on a PATA disk, PIO through the data port
 * and DMA through the bus master.
 *
 * Everything runs on the vCPU thread that wrote the register, with the
 * controller lock held: a command is done (or waits on the data port or
 * the bus master) by the time the write returns, so BSY is never seen
 * except while SRST is held. The guest sees what a fast drive shows:
 * - PIO in: each DRQ block raises INTRQ; after the last one DRQ drops
 *   without an interrupt. PIO out: the first block is awaited without an
 *   interrupt, each one written raises INTRQ (the last with DRQ clear).
 * - DMA: the command leaves DRQ set until the bus master's START bit is
 *   set (before or after the command), then the whole transfer happens,
 *   and INTRQ and the bus master's INTR bit announce the end.
 * - Errors: DRDY|ERR and the error register (ABRT, IDNF, UNC), with INTRQ.
 *   A PRD entry or buffer outside RAM fails the transfer (bus master ERROR,
 *   ABRT) rather than hang the guest. A table that ends before the transfer
 *   (or has no end bit within 64 KiB) stops it as QEMU does: no data, no
 *   error, no interrupt, the engine inactive (see dma_short()).
 *   The command, not the bus master's direction bit, says which way the
 *   data goes (as in QEMU); drivers set the bit to match anyway.
 * Both drives of a channel latch every task file write, as on a cable; an
 * absent drive's status reads 0, which is how libata tells it is missing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "ide.h"
#include "qlite/stats.h"
#include "qlite/util.h"

#define ATA_CMD_SIG_NSECT	0x01	/* after reset: the ATA signature in the task file */
#define ATA_DIAG_PASSED		0x01	/* error register after reset */

static struct ide_drive *selected(struct ide_channel *ch)
{
	return &ch->drive[ch->sel];
}

/*
 * Who answers a register read. ATA-6 for a channel with one device: it
 * answers for the absent one too, except that Status and Alternate Status
 * read 00h. So libata's probe of an absent device sees the present one's
 * signature and a status of 0, and calls it no device without a word.
 */
static struct ide_drive *responder(struct ide_channel *ch)
{
	struct ide_drive *d = selected(ch), *other = &ch->drive[!ch->sel];

	return d->img || !other->img ? d : other;
}

/* ---- interrupts ---- */

/*
 * INTRQ follows the selected drive's pending interrupt unless nIEN masks
 * it. The ISA line is edge-triggered: a rising edge is one pulse, and the
 * bus master's INTR bit latches it (Bus Master IDE: "set by the rising
 * edge of the IDE interrupt line").
 */
static void ide_update_irq(struct ide_channel *ch)
{
	struct machine *m = ch->ctrl->m;
	bool level = selected(ch)->intrq && !(ch->devctl & ATA_NIEN);

	if (level && !ch->irq_level) {
		ch->bm_status |= BM_STATUS_INTR;
		m->irq_set(m, ch->gsi, 1);
		m->irq_set(m, ch->gsi, 0);
	}
	ch->irq_level = level;
}

static void ide_raise(struct ide_drive *d)
{
	d->intrq = true;
	ide_update_irq(d->ch);
}

/* ---- command endings ---- */

static void ide_done(struct ide_drive *d)
{
	d->xfer = XFER_NONE;
	d->status = ATA_DRDY | ATA_DSC;
	ide_raise(d);
}

static void ide_fail(struct ide_drive *d, uint8_t error)
{
	stat_add(&d->ch->ctrl->stats.errors, 1);
	d->xfer = XFER_NONE;
	d->error = error;
	d->status = ATA_DRDY | ATA_ERR;
	ide_raise(d);
}

/* ATA-6: the address of the first sector in error goes back into the task file. */
static void ide_set_lba(struct ide_drive *d, uint64_t lba, bool lba48)
{
	d->lbal = lba;
	d->lbam = lba >> 8;
	d->lbah = lba >> 16;
	if (lba48) {
		d->hob_lbal = lba >> 24;
		d->hob_lbam = lba >> 32;
		d->hob_lbah = lba >> 40;
	} else {
		d->device = (d->device & 0xf0) | ((lba >> 24) & 0x0f);
	}
}

/* A host I/O error: the sector is unreadable (UNC), or the write could not be done (ABRT). */
static void ide_io_error(struct ide_drive *d, int err, bool write, uint64_t lba, bool lba48)
{
	pr_err("%s %s: %s at sector %llu: %s", d->ch->name, d->unit ? "slave" : "master",
	       write ? "write" : "read", (unsigned long long)lba, strerror(-err));
	ide_set_lba(d, lba, lba48);
	ide_fail(d, write ? ATA_ABRT : ATA_UNC);
}

/* ---- addressing ---- */

/* The command's first sector and count, or false after failing it (IDNF). */
static bool ide_range(struct ide_drive *d, bool lba48, uint64_t *lba, uint32_t *count)
{
	uint64_t first;
	uint32_t n;

	if (lba48) {
		first = (uint64_t)d->hob_lbah << 40 | (uint64_t)d->hob_lbam << 32 |
			(uint64_t)d->hob_lbal << 24 | d->lbah << 16 | d->lbam << 8 | d->lbal;
		n = d->hob_nsect << 8 | d->nsect;
		if (!n)
			n = 65536;
	} else {
		n = d->nsect ? d->nsect : 256;
		if (d->device & ATA_LBA) {
			first = (uint64_t)(d->device & 0x0f) << 24 | d->lbah << 16 | d->lbam << 8 |
				d->lbal;
		} else {
			unsigned cyl = d->lbah << 8 | d->lbam, head = d->device & 0x0f;
			unsigned sect = d->lbal;

			if (!d->spt || !sect || sect > d->spt || head >= d->heads ||
			    cyl >= d->cyls) {
				ide_fail(d, ATA_IDNF);
				return false;
			}
			first = ((uint64_t)cyl * d->heads + head) * d->spt + sect - 1;
		}
	}
	/* Never past the image: the first sector beyond it is the one in error. */
	if (first >= d->img->sectors || n > d->img->sectors - first) {
		ide_set_lba(d, first > d->img->sectors ? first : d->img->sectors, lba48);
		ide_fail(d, ATA_IDNF);
		return false;
	}
	*lba = first;
	*count = n;
	return true;
}

/* ---- PIO ---- */

static void pio_in_block(struct ide_drive *d)
{
	unsigned n = d->left < d->block ? d->left : d->block;
	struct iovec iov = { d->buf, (size_t)n * IDE_SECTOR };
	int ret;

	if (d->from_image) {
		ret = block_image_read(d->img, d->lba, &iov, 1);
		if (ret < 0) {
			ide_io_error(d, ret, false, d->lba, d->lba48);
			return;
		}
		stat_add(&d->ch->ctrl->stats.sectors_read, n);
	}
	d->pos = 0;
	d->end = n * IDE_SECTOR;
	d->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
	ide_raise(d);
}

static void pio_start(struct ide_drive *d, enum ide_xfer xfer, uint64_t lba, uint32_t count,
		      unsigned block)
{
	d->xfer = xfer;
	d->from_image = true;
	d->lba = lba;
	d->left = count;
	d->block = block;
	if (xfer == XFER_PIO_IN) {
		pio_in_block(d);
		return;
	}
	d->pos = 0;
	d->end = (count < block ? count : block) * IDE_SECTOR;
	d->status = ATA_DRDY | ATA_DSC | ATA_DRQ;	/* no interrupt before the first block */
}

/* The host read the whole block: the next one, or the end. */
static void pio_in_next(struct ide_drive *d)
{
	unsigned n = d->end / IDE_SECTOR;

	d->left -= n;
	d->lba += n;
	if (d->left) {
		pio_in_block(d);
		return;
	}
	d->xfer = XFER_NONE;
	d->status = ATA_DRDY | ATA_DSC;		/* ATA: no interrupt after the last block */
}

/* The host wrote the whole block: to the image, then ask for the next one or end. */
static void pio_out_next(struct ide_drive *d)
{
	unsigned n = d->end / IDE_SECTOR;
	struct iovec iov = { d->buf, d->end };
	int ret;

	ret = block_image_write(d->img, d->lba, &iov, 1);
	if (!ret && d->left == n && !d->wcache)
		ret = block_image_flush(d->img);
	if (ret < 0) {
		ide_io_error(d, ret, true, d->lba, d->lba48);
		return;
	}
	stat_add(&d->ch->ctrl->stats.sectors_written, n);
	d->left -= n;
	d->lba += n;
	if (!d->left) {
		ide_done(d);
		return;
	}
	d->pos = 0;
	d->end = (d->left < d->block ? d->left : d->block) * IDE_SECTOR;
	d->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
	ide_raise(d);
}

/* A data port access of len bytes (16 or 32-bit; PIIX3 takes both). */
static void ide_data(struct ide_channel *ch, void *data, unsigned len, bool write)
{
	struct ide_drive *d = selected(ch);
	unsigned n;

	if (!(d->status & ATA_DRQ) ||
	    d->xfer != (write ? XFER_PIO_OUT : XFER_PIO_IN)) {
		/* No data phase: reads float (0), writes go nowhere. */
		if (!write)
			memset(data, 0, len);
		return;
	}
	n = d->end - d->pos < len ? d->end - d->pos : len;
	if (write) {
		memcpy(d->buf + d->pos, data, n);
	} else {
		memcpy(data, d->buf + d->pos, n);
		memset((uint8_t *)data + n, 0, len - n);
	}
	d->pos += n;
	if (d->pos < d->end)
		return;
	if (write)
		pio_out_next(d);
	else
		pio_in_next(d);
}

/* ---- DMA ---- */

static void dma_start(struct ide_drive *d, enum ide_xfer xfer, uint64_t lba, uint32_t count)
{
	d->xfer = xfer;
	d->lba = lba;
	d->left = count;
	d->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
	if (d->ch->bm_cmd & BM_CMD_START)
		ide_dma_kick(d->ch);
}

/*
 * The bus master could not move the data (the guest's fault: a PRD entry
 * or buffer outside RAM, bus mastering off): its ERROR bit, the drive
 * aborts. Nothing is logged; the guest sees the error.
 */
static void dma_fail(struct ide_channel *ch, struct ide_drive *d)
{
	ch->bm_status = (ch->bm_status & ~BM_STATUS_ACTIVE) | BM_STATUS_ERROR;
	ide_fail(d, ATA_ABRT);
}

/*
 * The PRD table ended before the transfer did (its end bit, or no end bit
 * within IDE_PRD_MAX entries, QEMU's fail-safe): what SFF-8038i's status
 * table calls Interrupt 0, Active 0, Error 0, "the PRDs specified a smaller
 * size than the IDE transfer size". As QEMU 7.2 (ide_dma_cb): nothing of
 * the request is moved, the drive ends it ready without an error or an
 * interrupt, and the engine stops.
 */
static void dma_short(struct ide_channel *ch, struct ide_drive *d)
{
	stat_add(&ch->ctrl->stats.dma_short, 1);
	ch->bm_status &= ~BM_STATUS_ACTIVE;
	d->xfer = XFER_NONE;
	d->status = ATA_DRDY | ATA_DSC;
}

static bool dma_pending(const struct ide_drive *d)
{
	return d->xfer == XFER_DMA_IN || d->xfer == XFER_DMA_OUT;
}

void ide_dma_kick(struct ide_channel *ch)
{
	/* The drive asking for DMA, selected or not (one command a channel at a time). */
	struct ide_drive *d = dma_pending(selected(ch)) ? selected(ch) : &ch->drive[!ch->sel];
	bool write = d->xfer == XFER_DMA_OUT, longer = false;
	uint16_t pci_cmd = le_load(ch->ctrl->ide.cfg + PCI_COMMAND, 2);
	struct dma_sg sg;
	int ret;

	if (!dma_pending(d))
		return;		/* START without a DMA command: the engine waits */
	if (!(pci_cmd & PCI_COMMAND_MASTER)) {
		dma_fail(ch, d);
		return;
	}
	dma_sg_init(&sg, ch->ctrl->m->mem, ch->iov, IDE_SG_MAX);
	ret = ide_prd_map(ch->ctrl->m, pci_requester_id(&ch->ctrl->ide), ch->bm_prd,
			  (uint64_t)d->left * IDE_SECTOR, !write, &sg, &longer);
	if (ret == -ENOSPC || ret == -E2BIG) {
		dma_short(ch, d);
		return;
	}
	if (ret < 0) {
		dma_fail(ch, d);
		return;
	}
	ret = write ? block_image_write(d->img, d->lba, sg.iov, sg.n) :
		      block_image_read(d->img, d->lba, sg.iov, sg.n);
	if (!ret && write && !d->wcache)
		ret = block_image_flush(d->img);
	/* The engine stops at the end of the transfer unless the PRDs had room for more. */
	if (!longer || ret < 0)
		ch->bm_status &= ~BM_STATUS_ACTIVE;
	if (ret < 0) {
		ide_io_error(d, ret, write, d->lba, d->lba48);
		return;
	}
	stat_add(&ch->ctrl->stats.dma_transfers, 1);
	stat_add(write ? &ch->ctrl->stats.sectors_written : &ch->ctrl->stats.sectors_read, d->left);
	ide_done(d);
}

/* ---- IDENTIFY DEVICE ---- */

/* ATA strings: two characters a word, the first in the high byte, space padded. */
static void ata_string(uint16_t *id, unsigned word, unsigned words, const char *s)
{
	size_t len = strlen(s);

	for (unsigned i = 0; i < 2 * words; i++) {
		uint8_t c = i < len ? s[i] : ' ';

		if (i & 1)
			id[word + i / 2] |= c;
		else
			id[word + i / 2] = c << 8;
	}
}

static void put32(uint16_t *id, unsigned word, uint32_t v)
{
	id[word] = v;
	id[word + 1] = v >> 16;
}

/*
 * The 512 bytes of IDENTIFY DEVICE, words little-endian as on the wire:
 * what QEMU 7.2's ide-hd answers for the same image, word for word
 * (tests/integration/blk_guest_test.py compares them), but for the
 * feature sets qlite does not implement: SMART (bit 0 of words 82 and
 * 85) and TRIM (words 69 and 169) are not claimed. Unlike QEMU, the words
 * are made afresh each time, so word 59 follows SET MULTIPLE MODE, and the
 * integrity word (255) is filled.
 */
static void ide_identify(struct ide_drive *d, uint8_t *out)
{
	uint64_t sectors = d->img->sectors;
	uint32_t lba28 = sectors < 0x0fffffff ? sectors : 0x0fffffff;
	unsigned def_cyls = sectors / (16 * 63) < 16383 ? sectors / (16 * 63) : 16383;
	uint16_t id[256] = { 0 };
	uint8_t sum = 0;

	id[0] = 0x0040;				/* fixed device */
	id[1] = def_cyls;
	id[3] = 16;
	id[4] = 512 * 63;			/* retired: bytes per track, as QEMU fills them */
	id[5] = 512;				/* retired: bytes per sector */
	id[6] = 63;
	ata_string(id, 10, 10, d->serial);
	id[20] = 3;				/* retired: buffer type */
	id[21] = 512;				/* retired: buffer size in sectors */
	id[22] = 4;				/* obsolete: ECC bytes */
	ata_string(id, 23, 4, QLITE_VERSION);
	ata_string(id, 27, 20, "qlite HARDDISK");
	id[47] = 0x8000 | IDE_MAX_MULTIPLE;
	id[48] = 1;				/* doubleword I/O: the PIIX3 takes 32-bit data */
	id[49] = 1 << 11 | 1 << 9 | 1 << 8;	/* IORDY, LBA, DMA */
	id[51] = 0x0200;			/* PIO timing mode 2 (obsolete field) */
	id[52] = 0x0200;
	id[53] = 0x0007;			/* words 54-58, 64-70 and 88 are valid */
	id[54] = d->cyls;
	id[55] = d->heads;
	id[56] = d->spt;
	put32(id, 57, (uint32_t)d->cyls * d->heads * d->spt);
	id[59] = d->mult ? 0x0100 | d->mult : 0;
	put32(id, 60, lba28);
	/* Modes supported, and the one SET FEATURES selected (UDMA 5 at power-on, as QEMU). */
	id[62] = 0x0007;
	id[63] = 0x0007;
	if ((d->xfer_mode & 0xf8) == 0x10)
		id[62] |= 0x100 << (d->xfer_mode & 7);
	if ((d->xfer_mode & 0xf8) == 0x20)
		id[63] |= 0x100 << (d->xfer_mode & 7);
	id[64] = 0x0003;			/* PIO 3 and 4 */
	id[65] = 120;
	id[66] = 120;
	id[67] = 120;
	id[68] = 120;
	id[80] = 0x00f0;			/* major versions ATA-4 to ATA-7 */
	id[81] = 0x0016;			/* minor version: ATA/ATAPI-5 T13 1321D rev. 1 */
	id[82] = 1 << 14 | 1 << 5;		/* NOP, write cache */
	id[83] = 0x4000 | 1 << 13 | 1 << 12 | 1 << 10;	/* FLUSH CACHE (EXT), 48-bit */
	id[84] = 0x4000;
	id[85] = 1 << 14 | (d->wcache ? 1 << 5 : 0);
	id[86] = 1 << 13 | 1 << 12 | 1 << 10;
	id[87] = 0x4000;
	id[88] = 0x003f;			/* UDMA 0-5 (the PIIX3 drives MWDMA) */
	if ((d->xfer_mode & 0xf8) == 0x40)
		id[88] |= 0x100 << (d->xfer_mode & 7);
	/* Hardware reset result: bit 0 set, 80-conductor cable detected (bit 13), as QEMU. */
	id[93] = 0x6001;
	put32(id, 100, sectors);
	put32(id, 102, sectors >> 32);
	id[106] = 0x6000;			/* one logical sector per physical sector, valid */
	id[255] = 0x00a5;			/* integrity word: signature A5h, checksum below */
	for (unsigned i = 0; i < 256; i++)
		le_store(out + 2 * i, id[i], 2);
	/* The checksum makes the 512 bytes sum to 0. */
	for (unsigned i = 0; i < 511; i++)
		sum += out[i];
	out[511] = -sum;
}

/* ---- the command set ---- */

struct ata_cmd {
	uint8_t opcode;
	const char *name;
	void (*run)(struct ide_drive *d, const struct ata_cmd *c);
	bool lba48;
	enum ide_xfer xfer;		/* data direction of the read/write commands */
	bool multiple;			/* READ/WRITE MULTIPLE: blocks of SET MULTIPLE's size */
};

static void cmd_identify(struct ide_drive *d, const struct ata_cmd *c)
{
	ide_identify(d, d->buf);
	d->xfer = XFER_PIO_IN;
	d->from_image = false;
	d->left = 1;
	d->block = 1;
	d->pos = 0;
	d->end = IDE_SECTOR;
	d->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
	ide_raise(d);
}

static void cmd_rw(struct ide_drive *d, const struct ata_cmd *c)
{
	bool write = c->xfer == XFER_PIO_OUT || c->xfer == XFER_DMA_OUT;
	uint64_t lba;
	uint32_t count;

	if (c->multiple && !d->mult) {
		ide_fail(d, ATA_ABRT);		/* multiple mode is off */
		return;
	}
	if (write && d->img->readonly) {
		ide_fail(d, ATA_ABRT);		/* a write-protected drive refuses */
		return;
	}
	if (!ide_range(d, c->lba48, &lba, &count))
		return;
	d->standby = false;
	d->lba48 = c->lba48;
	if (c->xfer == XFER_DMA_IN || c->xfer == XFER_DMA_OUT)
		dma_start(d, c->xfer, lba, count);
	else
		pio_start(d, c->xfer, lba, count, c->multiple ? d->mult : 1);
}

static void cmd_verify(struct ide_drive *d, const struct ata_cmd *c)
{
	uint64_t lba;
	uint32_t count;

	if (ide_range(d, c->lba48, &lba, &count))
		ide_done(d);
}

static void cmd_flush(struct ide_drive *d, const struct ata_cmd *c)
{
	int ret = block_image_flush(d->img);

	if (ret < 0) {
		pr_err("%s %s: flush: %s", d->ch->name, d->unit ? "slave" : "master",
		       strerror(-ret));
		ide_fail(d, ATA_ABRT);
		return;
	}
	ide_done(d);
}

static void cmd_set_multiple(struct ide_drive *d, const struct ata_cmd *c)
{
	unsigned n = d->nsect;

	/* 0 turns multiple mode off; else a power of two the drive can do. */
	if (n > IDE_MAX_MULTIPLE || (n & (n - 1))) {
		ide_fail(d, ATA_ABRT);
		return;
	}
	d->mult = n;
	ide_done(d);
}

static bool xfer_mode_ok(uint8_t v)
{
	switch (v & 0xf8) {
	case 0x00:
		return v <= 0x01;		/* PIO default mode (IORDY on or off) */
	case 0x08:
		return (v & 7) <= 4;		/* PIO flow control mode 0-4 */
	case 0x10:
		return (v & 7) <= 2;		/* single-word DMA 0-2 (word 62) */
	case 0x20:
		return (v & 7) <= 2;		/* multiword DMA 0-2 */
	case 0x40:
		return (v & 7) <= 5;		/* Ultra DMA 0-5 */
	}
	return false;
}

static void cmd_set_features(struct ide_drive *d, const struct ata_cmd *c)
{
	switch (d->feature) {
	case 0x02:
		d->wcache = true;
		break;
	case 0x82:
		/* From now on every write reaches the disk before it completes. */
		if (block_image_flush(d->img) < 0) {
			ide_fail(d, ATA_ABRT);
			return;
		}
		d->wcache = false;
		break;
	case 0x03:
		if (!xfer_mode_ok(d->nsect)) {
			ide_fail(d, ATA_ABRT);
			return;
		}
		d->xfer_mode = d->nsect;
		break;
	case 0xaa:
		d->lookahead = true;
		break;
	case 0x55:
		d->lookahead = false;
		break;
	case 0x66:	/* keep settings over a reset */
		d->keep_settings = true;
		break;
	case 0xcc:	/* revert to defaults on reset */
		d->keep_settings = false;
		break;
	default:
		ide_fail(d, ATA_ABRT);
		return;
	}
	ide_done(d);
}

static void cmd_power(struct ide_drive *d, const struct ata_cmd *c)
{
	/* STANDBY (E2h) and STANDBY IMMEDIATE (E0h) spin down; the IDLEs spin up. */
	d->standby = c->opcode == 0xe0 || c->opcode == 0xe2;
	ide_done(d);
}

static void cmd_check_power(struct ide_drive *d, const struct ata_cmd *c)
{
	ide_done(d);
	d->nsect = d->standby ? 0x00 : 0xff;
}

static void cmd_init_params(struct ide_drive *d, const struct ata_cmd *c)
{
	unsigned heads = (d->device & 0x0f) + 1, spt = d->nsect;
	uint64_t cyls;

	if (!spt) {
		ide_fail(d, ATA_ABRT);
		return;
	}
	cyls = d->img->sectors / (heads * spt);
	d->heads = heads;
	d->spt = spt;
	d->cyls = cyls < 65535 ? cyls : 65535;
	ide_done(d);
}

#define CMD(op, name, fn, lba48)	{ op, name, fn, lba48, XFER_NONE, false }
#define RW(op, name, lba48, xfer, multiple) { op, name, cmd_rw, lba48, xfer, multiple }

static const struct ata_cmd ata_cmds[] = {
	CMD(0xec, "IDENTIFY DEVICE", cmd_identify, false),
	RW(0x20, "READ SECTORS", false, XFER_PIO_IN, false),
	RW(0x21, "READ SECTORS (no retry)", false, XFER_PIO_IN, false),
	RW(0x24, "READ SECTORS EXT", true, XFER_PIO_IN, false),
	RW(0x30, "WRITE SECTORS", false, XFER_PIO_OUT, false),
	RW(0x31, "WRITE SECTORS (no retry)", false, XFER_PIO_OUT, false),
	RW(0x34, "WRITE SECTORS EXT", true, XFER_PIO_OUT, false),
	RW(0xc4, "READ MULTIPLE", false, XFER_PIO_IN, true),
	RW(0x29, "READ MULTIPLE EXT", true, XFER_PIO_IN, true),
	RW(0xc5, "WRITE MULTIPLE", false, XFER_PIO_OUT, true),
	RW(0x39, "WRITE MULTIPLE EXT", true, XFER_PIO_OUT, true),
	RW(0xc8, "READ DMA", false, XFER_DMA_IN, false),
	RW(0xc9, "READ DMA (no retry)", false, XFER_DMA_IN, false),
	RW(0x25, "READ DMA EXT", true, XFER_DMA_IN, false),
	RW(0xca, "WRITE DMA", false, XFER_DMA_OUT, false),
	RW(0xcb, "WRITE DMA (no retry)", false, XFER_DMA_OUT, false),
	RW(0x35, "WRITE DMA EXT", true, XFER_DMA_OUT, false),
	CMD(0x40, "READ VERIFY SECTORS", cmd_verify, false),
	CMD(0x41, "READ VERIFY SECTORS (no retry)", cmd_verify, false),
	CMD(0x42, "READ VERIFY SECTORS EXT", cmd_verify, true),
	CMD(0xe7, "FLUSH CACHE", cmd_flush, false),
	CMD(0xea, "FLUSH CACHE EXT", cmd_flush, false),
	CMD(0xc6, "SET MULTIPLE MODE", cmd_set_multiple, false),
	CMD(0xef, "SET FEATURES", cmd_set_features, false),
	CMD(0xe0, "STANDBY IMMEDIATE", cmd_power, false),
	CMD(0xe1, "IDLE IMMEDIATE", cmd_power, false),
	CMD(0xe2, "STANDBY", cmd_power, false),
	CMD(0xe3, "IDLE", cmd_power, false),
	CMD(0xe5, "CHECK POWER MODE", cmd_check_power, false),
	CMD(0x91, "INITIALIZE DEVICE PARAMETERS", cmd_init_params, false),
};

/* Which counter a command adds to: by the data path of reads and writes, else by kind. */
static uint64_t *ide_cmd_counter(struct ide_stats *st, const struct ata_cmd *c)
{
	switch (c->xfer) {
	case XFER_PIO_IN:
		return &st->pio_reads;
	case XFER_PIO_OUT:
		return &st->pio_writes;
	case XFER_DMA_IN:
		return &st->dma_reads;
	case XFER_DMA_OUT:
		return &st->dma_writes;
	case XFER_NONE:
		break;
	}
	if (c->run == cmd_flush)
		return &st->flushes;
	if (c->run == cmd_identify)
		return &st->identifies;
	return &st->other;
}

static void ide_command(struct ide_channel *ch, uint8_t opcode)
{
	struct ide_drive *d = selected(ch);

	/* An absent drive does not answer; a drive in reset takes nothing. */
	if (!d->img || (d->status & ATA_BSY))
		return;
	/* A new command ends whatever transfer was going on, and its interrupt. */
	d->intrq = false;
	ide_update_irq(ch);
	d->xfer = XFER_NONE;
	d->error = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(ata_cmds); i++) {
		if (ata_cmds[i].opcode == opcode) {
			stat_add(ide_cmd_counter(&ch->ctrl->stats, &ata_cmds[i]), 1);
			ata_cmds[i].run(d, &ata_cmds[i]);
			return;
		}
	}
	stat_add(&ch->ctrl->stats.other, 1);
	ide_fail(d, ATA_ABRT);
}

/* ---- reset ---- */

void ide_drive_reset(struct ide_drive *d)
{
	d->xfer = XFER_NONE;
	d->intrq = false;
	d->error = ATA_DIAG_PASSED;
	d->feature = d->hob_feature = 0;
	d->nsect = ATA_CMD_SIG_NSECT;
	d->lbal = 1;
	d->hob_nsect = d->hob_lbal = d->hob_lbam = d->hob_lbah = 0;
	d->device = 0;
	if (d->img) {
		/* The ATA signature (lbam, lbah 0) and ready. */
		d->lbam = d->lbah = 0;
		d->status = ATA_DRDY | ATA_DSC;
	} else {
		/* No device: status 0 (its other registers are read from the present one). */
		d->lbam = d->lbah = 0;
		d->status = 0;
	}
}

static void ide_srst(struct ide_channel *ch, bool assert)
{
	for (unsigned u = 0; u < IDE_UNITS; u++) {
		struct ide_drive *d = &ch->drive[u];

		if (assert) {
			d->xfer = XFER_NONE;
			d->intrq = false;
			d->status = d->img ? ATA_BSY : 0;
		} else {
			ide_drive_reset(d);
			/* Reverting to defaults, as QEMU's reset does, unless SET FEATURES 66h. */
			if (!d->keep_settings)
				d->mult = IDE_MAX_MULTIPLE;
		}
	}
	ch->sel = 0;
	ide_update_irq(ch);
}

/* ---- registers ---- */

static uint8_t *tf_reg(struct ide_drive *d, unsigned reg, bool hob)
{
	switch (reg) {
	case 1:
		return hob ? &d->hob_feature : &d->feature;
	case 2:
		return hob ? &d->hob_nsect : &d->nsect;
	case 3:
		return hob ? &d->hob_lbal : &d->lbal;
	case 4:
		return hob ? &d->hob_lbam : &d->lbam;
	default:
		return hob ? &d->hob_lbah : &d->lbah;
	}
}

static uint8_t reg_error_read(struct ide_channel *ch, unsigned reg)
{
	struct ide_drive *d = responder(ch);

	/* With HOB set, libata reads the previous features here (hob_feature). */
	return ch->devctl & ATA_HOB ? d->hob_feature : d->error;
}

static uint8_t reg_tf_read(struct ide_channel *ch, unsigned reg)
{
	return *tf_reg(responder(ch), reg, ch->devctl & ATA_HOB);
}

/* Both drives latch: the current value becomes the previous one (LBA48's two-deep FIFO). */
static void reg_tf_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
	for (unsigned u = 0; u < IDE_UNITS; u++) {
		struct ide_drive *d = &ch->drive[u];

		*tf_reg(d, reg, true) = *tf_reg(d, reg, false);
		*tf_reg(d, reg, false) = v;
	}
}

static uint8_t reg_device_read(struct ide_channel *ch, unsigned reg)
{
	return responder(ch)->device;
}

static void reg_device_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
	for (unsigned u = 0; u < IDE_UNITS; u++)
		ch->drive[u].device = v;
	ch->sel = !!(v & ATA_DEV1);
	ide_update_irq(ch);
}

static uint8_t reg_status_read(struct ide_channel *ch, unsigned reg)
{
	struct ide_drive *d = selected(ch);

	/* Reading the status acknowledges the interrupt. */
	d->intrq = false;
	ide_update_irq(ch);
	return d->status;
}

static void reg_command_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
	ide_command(ch, v);
}

static uint8_t reg_altstatus_read(struct ide_channel *ch, unsigned reg)
{
	return selected(ch)->status;
}

static void reg_devctl_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
	bool was = ch->devctl & ATA_SRST, now = v & ATA_SRST;

	ch->devctl = v;
	if (was != now)
		ide_srst(ch, now);
	else
		ide_update_irq(ch);	/* nIEN may unmask a pending interrupt */
}

/* One table names and dispatches each port; DATA moves bytes and has no byte handlers. */
struct ide_reg {
	const char *name;
	uint8_t (*read)(struct ide_channel *ch, unsigned reg);
	void (*write)(struct ide_channel *ch, unsigned reg, uint8_t v);
};

#define IDE_REG_DATA	0

static const struct ide_reg cmd_regs[IDE_CMD_PORTS] = {
	{ "DATA", NULL, NULL },
	{ "ERROR/FEATURES", reg_error_read, reg_tf_write },
	{ "NSECT", reg_tf_read, reg_tf_write },
	{ "LBAL", reg_tf_read, reg_tf_write },
	{ "LBAM", reg_tf_read, reg_tf_write },
	{ "LBAH", reg_tf_read, reg_tf_write },
	{ "DEVICE", reg_device_read, reg_device_write },
	{ "STATUS/COMMAND", reg_status_read, reg_command_write },
};

static const struct ide_reg ctl_regs[IDE_CTL_PORTS] = {
	{ "ALTSTATUS/DEVCTL", reg_altstatus_read, reg_devctl_write },
};

static void ide_cmd_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct ide_channel *ch = opaque;

	pthread_mutex_lock(&ch->ctrl->lock);
	if (offset == IDE_REG_DATA) {
		ide_data(ch, data, len, false);
	} else {
		/* Wider accesses are byte accesses to consecutive registers. */
		for (unsigned i = 0; i < len; i++)
			((uint8_t *)data)[i] = cmd_regs[offset + i].read ?
				cmd_regs[offset + i].read(ch, offset + i) : 0xff;
	}
	pthread_mutex_unlock(&ch->ctrl->lock);
}

static void ide_cmd_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct ide_channel *ch = opaque;

	pthread_mutex_lock(&ch->ctrl->lock);
	if (offset == IDE_REG_DATA) {
		ide_data(ch, (void *)data, len, true);
	} else {
		for (unsigned i = 0; i < len; i++) {
			/* ATA-6: a write to any command block register clears HOB. */
			ch->devctl &= ~ATA_HOB;
			const struct ide_reg *r = &cmd_regs[offset + i];

			if (r->write)
				r->write(ch, offset + i, ((const uint8_t *)data)[i]);
		}
	}
	pthread_mutex_unlock(&ch->ctrl->lock);
}

static const char *ide_cmd_reg_name(void *opaque, uint64_t offset)
{
	return offset < IDE_CMD_PORTS ? cmd_regs[offset].name : NULL;
}

static void ide_ctl_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct ide_channel *ch = opaque;

	pthread_mutex_lock(&ch->ctrl->lock);
	for (unsigned i = 0; i < len; i++)
		((uint8_t *)data)[i] = ctl_regs[offset + i].read(ch, offset + i);
	pthread_mutex_unlock(&ch->ctrl->lock);
}

static void ide_ctl_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct ide_channel *ch = opaque;

	pthread_mutex_lock(&ch->ctrl->lock);
	for (unsigned i = 0; i < len; i++)
		ctl_regs[offset + i].write(ch, offset + i, ((const uint8_t *)data)[i]);
	pthread_mutex_unlock(&ch->ctrl->lock);
}

static const char *ide_ctl_reg_name(void *opaque, uint64_t offset)
{
	return offset < IDE_CTL_PORTS ? ctl_regs[offset].name : NULL;
}

const struct bus_ops ide_cmd_ops = {
	.read = ide_cmd_read,
	.write = ide_cmd_write,
	.reg_name = ide_cmd_reg_name,
};

const struct bus_ops ide_ctl_ops = {
	.read = ide_ctl_read,
	.write = ide_ctl_write,
	.reg_name = ide_ctl_reg_name,
};
