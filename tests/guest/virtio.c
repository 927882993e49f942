// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio.c - a polled virtio-blk driver from ring 3 over the transports of
 * vtransport.c: PCI modern (1af4:1042) and MMIO version 2 at a given
 * address. vblk=N[,SIZE] and vblk-mmio=ADDR,N[,SIZE].
 *
 * One split virtqueue of at most 16 entries, one request in flight: header,
 * data and status descriptors, the avail index bumped, one notify, then the
 * used index polled in RAM (no exits while waiting). The driver negotiates
 * VERSION_1 and, when offered, FLUSH; nothing else.
 */
#include "guest.h"

#define VIRTIO_PCI_BLK		0x1042	/* 0x1040 + device id 2 */
#define VIRTIO_ID_BLOCK		2

#define BLK_F_RO		(1ull << 5)
#define BLK_F_FLUSH		(1ull << 9)

#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_S_OK		0
#define BLK_CFG_CAPACITY	0	/* le64, in 512-byte sectors */

static struct vq_mem blk_vq_mem;

static struct {
	uint32_t type, reserved;
	uint64_t sector;
	uint8_t status;
} blk_req __attribute__((aligned(64)));

struct vblk {
	struct vtdev t;
	struct vq vq;
	bool flush;				/* FLUSH negotiated */
};

/* Make descriptor chain 0 available, notify, poll the used ring; the used length. */
static uint32_t vq_run(struct vblk *d, const char *what)
{
	uint32_t id, len;

	vq_push(&d->vq, 0);
	mb();					/* the index before the doorbell */
	vq_notify(&d->t, &d->vq);
	if (!vq_poll(&d->vq, tsc_deadline(DISK_TIMEOUT_US), &id, &len))
		fail("%s: %s: no used entry after %u s (device status 0x%x)", d->t.word, what,
		     DISK_TIMEOUT_US / 1000000, vt_get_status(&d->t));
	if (vq_pending(&d->vq))
		fail("%s: %s: used index moved by %u for one request", d->t.word, what,
		     vq_pending(&d->vq) + 1);
	if (id != 0)
		fail("%s: %s: used entry names descriptor %u, 0 was made available", d->t.word, what,
		     id);
	return len;
}

static void blk_request(struct vblk *d, uint32_t type, uint64_t sector, void *buf, uint32_t bytes)
{
	const char *what = type == BLK_T_IN ? "read" : type == BLK_T_OUT ? "write" : "flush";
	uint32_t want = 1 + (type == BLK_T_IN ? bytes : 0), len;
	struct vq_desc *desc = blk_vq_mem.desc;
	unsigned n = 0;

	blk_req.type = type;
	blk_req.reserved = 0;
	blk_req.sector = sector;
	blk_req.status = 0xff;
	desc[n++] = (struct vq_desc){ (uintptr_t)&blk_req, 16, VQ_DESC_F_NEXT, 1 };
	if (bytes)
		desc[n++] = (struct vq_desc){ (uintptr_t)buf, bytes,
			VQ_DESC_F_NEXT | (type == BLK_T_IN ? VQ_DESC_F_WRITE : 0), 2 };
	desc[n] = (struct vq_desc){ (uintptr_t)&blk_req.status, 1, VQ_DESC_F_WRITE, 0 };
	len = vq_run(d, what);
	barrier();
	if (blk_req.status != BLK_S_OK)
		fail("%s: %s at sector %lu: status %u", d->t.word, what, (unsigned long)sector,
		     blk_req.status);
	if (len != want)
		fail("%s: %s at sector %lu: used length %u, the device wrote %u bytes", d->t.word,
		     what, (unsigned long)sector, len, want);
}

/* Status handshake, features, the queue, DRIVER_OK; returns the capacity in sectors. */
static uint64_t vblk_init(struct vblk *d)
{
	uint64_t have, use, cap;

	have = vt_begin(&d->t);
	if (have & BLK_F_RO)
		fail("%s: the device is read-only", d->t.word);
	use = VIRTIO_F_VERSION_1 | (have & BLK_F_FLUSH);
	vt_accept(&d->t, use);
	vt_queue_setup(&d->t, &d->vq, &blk_vq_mem, 0);
	vt_driver_ok(&d->t);
	cap = vt_cfg_read64(&d->t, BLK_CFG_CAPACITY);
	gprintf("%s: %lu sectors, features 0x%lx, using 0x%lx, queue %u entries\n", d->t.word,
		(unsigned long)cap, (unsigned long)have, (unsigned long)use, d->vq.size);
	d->flush = use & BLK_F_FLUSH;
	if (!d->flush)
		gprintf("%s: no FLUSH feature: the device writes through, nothing to flush\n",
			d->t.word);
	return cap;
}

/* Write N requests of SIZE bytes from sector 0, flush, read back and check, reset. */
static void vblk_run(struct vblk *d, uint64_t n, uint64_t size)
{
	const char *word = d->t.word;
	uint32_t tag = disk_tag(word);
	uint64_t spr = size / SECTOR_SIZE, cap, t0;
	struct disk_times t = { .cmds = n };

	if (n < 1 || size < SECTOR_SIZE || size % SECTOR_SIZE || size > DISK_BUF_SIZE)
		fail("%s: N must be at least 1 and SIZE a multiple of 512 up to %u", word,
		     DISK_BUF_SIZE);
	tsc_ensure();
	disk_buf_alloc(word);
	cap = vblk_init(d);
	if (n > cap / spr)
		fail("%s: %lu requests of %lu bytes do not fit %lu sectors", word,
		     (unsigned long)n, (unsigned long)size, (unsigned long)cap);

	for (uint64_t i = 0; i < n; i++) {
		pattern_fill(disk_buf, i * spr, spr, tag);
		t0 = rdtsc();
		blk_request(d, BLK_T_OUT, i * spr, disk_buf, size);
		t.write += rdtsc() - t0;
	}
	if (d->flush) {
		t0 = rdtsc();
		blk_request(d, BLK_T_FLUSH, 0, NULL, 0);
		t.flush = rdtsc() - t0;
	}
	disk_after_flush(word);
	for (uint64_t i = 0; i < n; i++) {
		pattern_poison(disk_buf, size);
		t0 = rdtsc();
		blk_request(d, BLK_T_IN, i * spr, disk_buf, size);
		t.read += rdtsc() - t0;
		pattern_check(word, disk_buf, i * spr, spr, tag);
	}
	vt_reset(&d->t);
	if (vt_queue_enabled(&d->t, 0))
		fail("%s: queue 0 still enabled after the reset", word);
	disk_report(word, n, &t);
}

/* vblk=N[,SIZE] */
void do_vblk(const char *word, char *arg)
{
	uint64_t v[2] = { 0, 4096 };
	struct vblk d = { .t = { .word = word, .what = "virtio-blk" } };

	args(word, arg, v, 1, 2);
	vt_pci_probe(&d.t, VIRTIO_PCI_BLK);
	vblk_run(&d, v[0], v[1]);
}

/* vblk-mmio=ADDR,N[,SIZE] */
void do_vblk_mmio(const char *word, char *arg)
{
	uint64_t v[3] = { 0, 0, 4096 };
	struct vblk d = { .t = { .word = word, .what = "virtio-blk" } };

	args(word, arg, v, 2, 3);
	vt_mmio_probe(&d.t, v[0], VIRTIO_ID_BLOCK);
	vblk_run(&d, v[1], v[2]);
}
