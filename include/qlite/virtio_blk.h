/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-blk, the device side (src/virtio/blk.c): a raw image served on the
 * machine's asynchronous I/O, behind either virtio transport. The wire
 * format below is virtio 1.2, 5.2 (little-endian, as the core asserts).
 */
#ifndef QLITE_VIRTIO_BLK_H
#define QLITE_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct virtio_device;

/* Feature bits (5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX		1
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_TOPOLOGY		10
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

/* Request types and status values (5.2.6) */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

#define VIRTIO_BLK_SECTOR_SIZE		512
#define VIRTIO_BLK_ID_BYTES		20
#define VIRTIO_BLK_DWZ_F_UNMAP		1

/* What this device offers in its config space. */
#define VIRTIO_BLK_QUEUE_SIZE		256
#define VIRTIO_BLK_SEG_MAX		126		/* data segments per request */
#define VIRTIO_BLK_SIZE_MAX		(1u << 20)	/* bytes per segment */
#define VIRTIO_BLK_DWZ_SEG_MAX		8		/* discard/write-zeroes segments */
#define VIRTIO_BLK_DWZ_SECTORS_MAX	(1u << 22)	/* sectors per such segment */
#define VIRTIO_BLK_MAX_QUEUES		64

/* The request header, the first 16 device-readable bytes of every chain. */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* One segment of a DISCARD or WRITE_ZEROES request. */
struct virtio_blk_dwz {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* The config space up to the fields this device offers (5.2.4). */
struct virtio_blk_config {
	uint64_t capacity;			/* 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;			/* geometry: not offered */
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;		/* topology */
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

_Static_assert(sizeof(struct virtio_blk_config) == 60, "virtio 1.2 5.2.4, up to unused1");

struct virtio_blk_opts {
	const char *file;	/* a regular file holding the raw image */
	bool readonly;		/* opened read-only, VIRTIO_BLK_F_RO offered */
	bool direct;		/* O_DIRECT; unaligned guest buffers go through a bounce buffer */
	const char *serial;	/* GET_ID's answer, up to 20 printable characters; NULL: none */
	unsigned queues;	/* 1..VIRTIO_BLK_MAX_QUEUES; 0 means 1 */
};

/* Per-device request counters for the exit report (the queues' are the core's). */
struct virtio_blk_stats {
	uint64_t reads, writes, flushes, discards, write_zeroes, get_ids;
	uint64_t read_bytes, write_bytes;	/* moved by requests that succeeded */
	uint64_t errors;	/* completed IOERR or UNSUPP, or without a status byte to say so */
	uint64_t bounced;	/* direct on: requests copied through a bounce buffer */
	uint64_t dropped;	/* completed after a reset: not returned to the driver */
};

struct virtio_blk;

/*
 * Open the image and build the device, adopted by m (freed with it); no
 * transport yet. 0, or -errno after one report().
 */
int virtio_blk_create(struct machine *m, const struct virtio_blk_opts *opts,
		      struct virtio_blk **out);
/* The device model a transport drives. */
struct virtio_device *virtio_blk_device(struct virtio_blk *blk);
void virtio_blk_get_stats(const struct virtio_blk *blk, struct virtio_blk_stats *out);

#endif
