/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PIIX3 IDE, inside the device: the state the files of src/devices/ide/
 * share. One way between them: piix.c (the PCI functions, the ports, the
 * vdev) -> bmdma.c (BAR4) -> ata.c (drives, commands, transfers) -> prd.c
 * (PRD tables). Nothing outside this folder includes this header.
 */
#ifndef QLITE_DEVICES_IDE_H
#define QLITE_DEVICES_IDE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "qlite/block.h"
#include "qlite/bus.h"
#include "qlite/dma.h"
#include "qlite/machine.h"
#include "qlite/pci.h"

#define IDE_CHANNELS		2
#define IDE_UNITS		2	/* master, slave */
#define IDE_SECTOR		BLOCK_SECTOR_SIZE
#define IDE_MAX_MULTIPLE	16	/* sectors per DRQ block of READ/WRITE MULTIPLE */

/* Compatibility-mode resources, as on every PC. */
#define IDE_PRIMARY_CMD		0x1f0
#define IDE_PRIMARY_CTL		0x3f6
#define IDE_PRIMARY_IRQ		14
#define IDE_SECONDARY_CMD	0x170
#define IDE_SECONDARY_CTL	0x376
#define IDE_SECONDARY_IRQ	15
#define IDE_CMD_PORTS		8
#define IDE_CTL_PORTS		1	/* 0x3f7 is the floppy controller's */

/* Status register */
#define ATA_ERR			0x01
#define ATA_DRQ			0x08
#define ATA_DSC			0x10
#define ATA_DF			0x20
#define ATA_DRDY		0x40
#define ATA_BSY			0x80

/* Error register */
#define ATA_ABRT		0x04
#define ATA_IDNF		0x10
#define ATA_UNC			0x40

/* Device control register */
#define ATA_NIEN		0x02
#define ATA_SRST		0x04
#define ATA_HOB			0x80

/* Device register */
#define ATA_DEV1		0x10
#define ATA_LBA			0x40

/* Bus master IDE (BAR4): per channel, 8 bytes apart */
#define BM_CHANNEL_STRIDE	8
#define BM_SIZE			16
#define BM_CMD			0
#define BM_STATUS		2
#define BM_PRD			4
#define BM_CMD_START		0x01
#define BM_CMD_TO_MEMORY	0x08	/* bus master writes memory: a disk read */
#define BM_STATUS_ACTIVE	0x01
#define BM_STATUS_ERROR		0x02
#define BM_STATUS_INTR		0x04
#define BM_STATUS_DMA_CAP	0x60	/* drive 0/1 DMA capable: the BIOS's notes */

/* A PRD list may not run past 64 KiB from its start: 8192 entries of 8 bytes. */
#define IDE_PRD_MAX		8192
/*
 * The iovecs of one transfer: an entry per PRD without an IOMMU; with one a
 * PRD of c bytes can be a piece per 4 KiB page it spans, at most c / 4096
 * + 2, so for the 32 MiB of a 65536-sector command in up to IDE_PRD_MAX
 * entries 8192 + 2 * IDE_PRD_MAX pieces.
 */
#define IDE_SG_MAX		(3 * IDE_PRD_MAX)

enum ide_xfer {
	XFER_NONE,
	XFER_PIO_IN,		/* device to host through the data port */
	XFER_PIO_OUT,
	XFER_DMA_IN,		/* disk to guest RAM, when the bus master starts */
	XFER_DMA_OUT,
};

struct ide_channel;

struct ide_drive {
	struct ide_channel *ch;
	unsigned unit;
	struct block_image *img;	/* NULL: no drive at this place */
	char serial[21];

	/* The task file as this drive latched it; hob_* is the previous write (LBA48). */
	uint8_t feature, nsect, lbal, lbam, lbah;
	uint8_t hob_feature, hob_nsect, hob_lbal, hob_lbam, hob_lbah;
	uint8_t device, status, error;
	bool intrq;			/* interrupt pending; a status read or command clears it */

	/* Settings the guest makes. */
	unsigned mult;			/* SET MULTIPLE: sectors per block, 0 = off */
	unsigned heads, spt, cyls;	/* CHS translation (INITIALIZE DEVICE PARAMETERS) */
	uint8_t xfer_mode;		/* SET FEATURES 03h value */
	bool wcache, lookahead, standby;
	bool keep_settings;		/* SET FEATURES 66h: SRST keeps mult */

	/* The command in progress. */
	enum ide_xfer xfer;
	bool from_image;		/* PIO in: blocks come from the image (not IDENTIFY) */
	bool lba48;			/* addressed with 48 bits (for the error's address) */
	uint64_t lba;			/* next sector */
	uint32_t left;			/* sectors still to move */
	unsigned block;			/* sectors per DRQ block */
	unsigned pos, end;		/* bytes of buf moved and in the current block */
	uint8_t buf[IDE_MAX_MULTIPLE * IDE_SECTOR];
};

struct ide_ctrl;

struct ide_channel {
	struct ide_ctrl *ctrl;
	unsigned index;			/* 0 primary, 1 secondary */
	const char *name;		/* "ide-primary": its ports and its IRQ */
	const char *ctl_name;
	uint16_t cmd_base, ctl_base;
	unsigned gsi;
	bool claimed;			/* ports and IRQ taken (with the first drive) */
	struct ide_drive drive[IDE_UNITS];
	unsigned sel;			/* DEV bit of the last device register write */
	uint8_t devctl;
	bool irq_level;			/* the INTRQ line as the guest would see it */

	uint8_t bm_cmd, bm_status;
	uint32_t bm_prd;
	struct iovec *iov;		/* IDE_SG_MAX entries for the DMA being mapped */
};

/*
 * Commands and data for the exit report. Written under the controller's
 * lock by the vCPU running the command, read by the reporter without it.
 */
struct ide_stats {
	uint64_t pio_reads, pio_writes, dma_reads, dma_writes;	/* READ/WRITE commands */
	uint64_t flushes, identifies, other;			/* the rest of the commands */
	uint64_t sectors_read, sectors_written;			/* to or from the image */
	uint64_t dma_transfers;		/* bus master runs that moved a command's data */
	uint64_t dma_short;		/* runs whose PRD table ended before the transfer */
	uint64_t errors;		/* commands that ended with ERR (ABRT, IDNF, UNC) */
};

struct ide_ctrl {
	pthread_mutex_t lock;		/* every port, both channels, BAR4 */
	struct ide_stats stats;
	struct machine *m;
	struct pci_device isa;		/* 00:01.0 PIIX3 ISA bridge, identity only */
	struct pci_device ide;		/* 00:01.1 PIIX3 IDE */
	struct ide_channel ch[IDE_CHANNELS];
};

/* ---- ata.c: the drives ---- */

/* Command block and control block ports of a channel (opaque: the channel). */
extern const struct bus_ops ide_cmd_ops;
extern const struct bus_ops ide_ctl_ops;

/* Power-on state of a drive (a present one answers; an absent one reads as nothing). */
void ide_drive_reset(struct ide_drive *d);
/* The bus master's START went 1: run a DMA command waiting for it. Lock held. */
void ide_dma_kick(struct ide_channel *ch);

/* ---- prd.c ---- */

/*
 * Map bytes of a transfer onto sg from the PRD table at table, as DMA by
 * requester sid (to_ram: a disk read, the buffers are written). 0, with
 * *longer when the PRDs describe more than bytes; -EFAULT for an entry or
 * a buffer outside RAM or refused by the IOMMU, -ENOSPC when the end bit
 * comes first, -E2BIG when no end bit comes within IDE_PRD_MAX entries,
 * -ENOBUFS when the pieces would not fit in sg.
 */
int ide_prd_map(struct machine *m, uint16_t sid, uint32_t table, uint64_t bytes, bool to_ram,
		struct dma_sg *sg, bool *longer);

/* ---- bmdma.c ---- */

extern const struct bus_ops ide_bm_ops;

#endif
