// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bus Master IDE registers (BAR4 of the PIIX3 IDE function, 16 ports):
 * per channel a command register (START, direction), a status register
 * (ACTIVE, ERROR and INTR, the last two write-1-to-clear; two bits the
 * BIOS sets to say a drive can do DMA) and the PRD table address. Every
 * access is taken byte by byte, so the 32-bit write of the PRD address and
 * a byte write of the command register go through the same table.
 */
#include "ide.h"
#include "qlite/util.h"

struct bm_reg {
	const char *name;
	uint8_t (*read)(struct ide_channel *ch, unsigned byte);
	void (*write)(struct ide_channel *ch, unsigned byte, uint8_t v);
};

static uint8_t bm_cmd_read(struct ide_channel *ch, unsigned byte)
{
	return ch->bm_cmd;
}

static void bm_cmd_write(struct ide_channel *ch, unsigned byte, uint8_t v)
{
	bool was = ch->bm_cmd & BM_CMD_START;

	ch->bm_cmd = v & (BM_CMD_START | BM_CMD_TO_MEMORY);
	if (!(v & BM_CMD_START)) {
		/* Stopping the engine ends what it was doing, done or not. */
		ch->bm_status &= ~BM_STATUS_ACTIVE;
		return;
	}
	if (was)
		return;
	ch->bm_status |= BM_STATUS_ACTIVE;
	ide_dma_kick(ch);
}

static uint8_t bm_status_read(struct ide_channel *ch, unsigned byte)
{
	return ch->bm_status;
}

static void bm_status_write(struct ide_channel *ch, unsigned byte, uint8_t v)
{
	ch->bm_status &= ~(v & (BM_STATUS_ERROR | BM_STATUS_INTR));
	ch->bm_status = (ch->bm_status & ~BM_STATUS_DMA_CAP) | (v & BM_STATUS_DMA_CAP);
}

static uint8_t bm_prd_read(struct ide_channel *ch, unsigned byte)
{
	return ch->bm_prd >> (8 * byte);
}

/* The table is dword aligned: bits 1:0 read 0. */
static void bm_prd_write(struct ide_channel *ch, unsigned byte, uint8_t v)
{
	uint32_t mask = 0xffu << (8 * byte);

	ch->bm_prd = ((ch->bm_prd & ~mask) | ((uint32_t)v << (8 * byte))) & ~3u;
}

static uint8_t bm_none_read(struct ide_channel *ch, unsigned byte)
{
	return 0;
}

static void bm_none_write(struct ide_channel *ch, unsigned byte, uint8_t v)
{
}

/* One channel's 8 ports; the secondary's repeat them 8 ports up. */
static const struct bm_reg bm_regs[2][BM_CHANNEL_STRIDE] = {
	{
		{ "BM_CMD_PRI", bm_cmd_read, bm_cmd_write },
		{ "BM_PRI+1", bm_none_read, bm_none_write },
		{ "BM_STATUS_PRI", bm_status_read, bm_status_write },
		{ "BM_PRI+3", bm_none_read, bm_none_write },
		{ "BM_PRD_PRI", bm_prd_read, bm_prd_write },
		{ "BM_PRD_PRI+1", bm_prd_read, bm_prd_write },
		{ "BM_PRD_PRI+2", bm_prd_read, bm_prd_write },
		{ "BM_PRD_PRI+3", bm_prd_read, bm_prd_write },
	}, {
		{ "BM_CMD_SEC", bm_cmd_read, bm_cmd_write },
		{ "BM_SEC+1", bm_none_read, bm_none_write },
		{ "BM_STATUS_SEC", bm_status_read, bm_status_write },
		{ "BM_SEC+3", bm_none_read, bm_none_write },
		{ "BM_PRD_SEC", bm_prd_read, bm_prd_write },
		{ "BM_PRD_SEC+1", bm_prd_read, bm_prd_write },
		{ "BM_PRD_SEC+2", bm_prd_read, bm_prd_write },
		{ "BM_PRD_SEC+3", bm_prd_read, bm_prd_write },
	},
};

static void bm_access(struct ide_ctrl *c, uint64_t offset, uint8_t *data, unsigned len,
		      bool write)
{
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < len; i++) {
		unsigned o = offset + i, chan = o / BM_CHANNEL_STRIDE, r = o % BM_CHANNEL_STRIDE;
		const struct bm_reg *reg = &bm_regs[chan][r];
		unsigned byte = r >= BM_PRD ? r - BM_PRD : 0;

		if (write)
			reg->write(&c->ch[chan], byte, data[i]);
		else
			data[i] = reg->read(&c->ch[chan], byte);
	}
	pthread_mutex_unlock(&c->lock);
}

static void bm_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	bm_access(opaque, offset, data, len, false);
}

static void bm_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	bm_access(opaque, offset, (uint8_t *)data, len, true);
}

static const char *bm_reg_name(void *opaque, uint64_t offset)
{
	if (offset >= BM_SIZE)
		return NULL;
	return bm_regs[offset / BM_CHANNEL_STRIDE][offset % BM_CHANNEL_STRIDE].name;
}

const struct bus_ops ide_bm_ops = {
	.read = bm_read,
	.write = bm_write,
	.reg_name = bm_reg_name,
};
