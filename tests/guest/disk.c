// SPDX-License-Identifier: GPL-2.0-only
/*
 * disk.c - what the block scenarios (ide-pio, ide-dma, vblk, vblk-mmio)
 * share: the data buffer, the pattern they write, the check of what they
 * read back, their report, and the `flushed` stop for durability tests.
 *
 * The pattern is a function of the disk address alone, so a test can
 * recompute it from the image file: 32-bit little-endian word k (0..127)
 * of the sector at LBA s is ((s << 7 | k) * 0x9e3779b1) ^ tag, where tag is
 * the last four characters of the scenario word read as a little-endian
 * number ("-pio", "-dma", "vblk", "mmio"). Every word of a sector differs
 * (the multiplier is odd), so a sector the device never transferred cannot
 * pass for written data.
 */
#include "guest.h"

#define POISON			0xa5
#define FLUSHED_SPIN_US		60000000	/* the test kills the VMM long before */

/*
 * 64 KiB aligned: a bus master PRD region must not cross a 64 KiB boundary.
 * Past the image (ram_alloc), which keeps the image small.
 */
uint8_t *disk_buf;

/* Each block scenario's first step: the buffer, set aside on first use. */
void disk_buf_alloc(const char *word)
{
	if (!disk_buf)
		disk_buf = ram_alloc(word, DISK_BUF_SIZE, 65536);
}

static bool stop_after_flush;

uint32_t disk_tag(const char *word)
{
	size_t n = strlen(word);
	uint32_t tag = 0;

	for (size_t i = 0; i < 4; i++)
		tag |= (uint32_t)(uint8_t)(n >= 4 ? word[n - 4 + i] : 0) << (8 * i);
	return tag;
}

static uint32_t pattern_word(uint64_t lba, unsigned k, uint32_t tag)
{
	return (uint32_t)((lba << 7 | k) * 0x9e3779b1u) ^ tag;
}

void pattern_fill(void *buf, uint64_t lba, uint64_t sectors, uint32_t tag)
{
	uint32_t *w = buf;

	for (uint64_t s = 0; s < sectors; s++)
		for (unsigned k = 0; k < SECTOR_SIZE / 4; k++)
			*w++ = pattern_word(lba + s, k, tag);
}

/* Before each read: what is in the buffer must come from the device. */
void pattern_poison(void *buf, uint64_t bytes)
{
	memset(buf, POISON, bytes);
}

void pattern_check(const char *word, const void *buf, uint64_t lba, uint64_t sectors,
		   uint32_t tag)
{
	const uint32_t *w = buf;

	for (uint64_t s = 0; s < sectors; s++) {
		for (unsigned k = 0; k < SECTOR_SIZE / 4; k++, w++) {
			uint32_t want = pattern_word(lba + s, k, tag);

			if (*w != want)
				fail("%s: LBA %lu byte %u reads 0x%08x, 0x%08x was written", word,
				     (unsigned long)(lba + s), k * 4, *w, want);
		}
	}
}

/*
 * Called by each block scenario once its FLUSH has completed. After the
 * word `flushed` it stops there: a test kills the VMM at this line and
 * checks that the image holds every sector written.
 */
void disk_after_flush(const char *word)
{
	if (!stop_after_flush)
		return;
	gprintf("qlite-test-guest: flushed\n");
	udelay(FLUSHED_SPIN_US);
	fail("%s: still running %u s after 'flushed' (nobody stopped the VMM)", word,
	     FLUSHED_SPIN_US / 1000000);
}

/*
 * "<word>: write W us, flush F us, read R us (C commands per pass)" and the
 * usual "<word>: N ops, T us, X ns/op" over all three phases.
 */
void disk_report(const char *word, uint64_t ops, const struct disk_times *t)
{
	gprintf("%s: write %lu us, flush %lu us, read %lu us (%lu commands each way)\n", word,
		(unsigned long)tsc_to_us(t->write), (unsigned long)tsc_to_us(t->flush),
		(unsigned long)tsc_to_us(t->read), (unsigned long)t->cmds);
	report(word, ops, t->write + t->flush + t->read);
}

/* `flushed`: the next block scenario stops after its flush (see disk_after_flush). */
void do_flushed(const char *word, char *arg)
{
	if (arg)
		fail("%s: takes no argument", word);
	stop_after_flush = true;
}
