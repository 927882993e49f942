/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the virtio device fuzz targets share: the driver's bring-up over
 * rings at fixed places (queue q's descriptors at 0x4000 q, avail at
 * +0x800, used at +0x1000) and the script steps that do not depend on the
 * device. Each target includes it once.
 */
#ifndef QLITE_FUZZ_VIRTIO_H
#define QLITE_FUZZ_VIRTIO_H

#include <stdint.h>

#include "qlite/event_loop.h"
#include "qlite/virtio.h"

#define FUZZ_RING(q)	(0x4000ULL * (q))

/* Reset, features, queues 0..nq-1 of sizes[q] entries, DRIVER_OK: whatever the device says. */
static inline void fuzz_virtio_go_live(struct virtio_device *v, uint64_t features, unsigned nq,
				       const uint16_t *sizes)
{
	virtio_set_status(v, 0);
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	virtio_set_driver_features(v, 0, (uint32_t)features);
	virtio_set_driver_features(v, 1, (uint32_t)(features >> 32));
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			     VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < nq; q++) {
		virtio_queue_set_size(v, q, sizes[q]);
		virtio_queue_set_addr(v, q, VIRTQ_AREA_DESC, FUZZ_RING(q));
		virtio_queue_set_addr(v, q, VIRTQ_AREA_AVAIL, FUZZ_RING(q) + 0x800);
		virtio_queue_set_addr(v, q, VIRTQ_AREA_USED, FUZZ_RING(q) + 0x1000);
		virtio_queue_set_enable(v, q, true);
	}
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* The script's cursor: next() gives its next byte (0 past the end). */
struct fuzz_script {
	const uint8_t *bytes;
	size_t len, pos;
};

static inline uint8_t fuzz_next(struct fuzz_script *s)
{
	return s->pos < s->len ? s->bytes[s->pos++] : 0;
}

/*
 * The steps every device has, op & 7 of: 1 run the loop once, 2 the driver
 * rewrites a byte of RAM (descriptors, headers, data in flight), 3 more
 * made available on vq (or a rewind) without a kick, 6 a config read.
 * false: op is the device's own.
 */
static inline bool fuzz_virtio_step(struct virtio_device *v, struct event_loop *loop,
				    uint8_t *ram, size_t ram_size, struct virtq *vq,
				    struct fuzz_script *s, uint8_t op)
{
	switch (op & 7) {
	case 1:
		event_loop_run_once(loop, 0);
		return true;
	case 2: {
		unsigned off = (fuzz_next(s) << 8 | fuzz_next(s)) % ram_size;

		ram[off] = fuzz_next(s);
		return true;
	}
	case 3:
		if (vq->avail)
			__atomic_store_n(&vq->avail->idx, vq->avail->idx + (int8_t)fuzz_next(s),
					 __ATOMIC_RELEASE);
		return true;
	case 6: {
		uint8_t buf[8];

		virtio_config_read(v, fuzz_next(s), buf, 1u << (fuzz_next(s) & 3));
		return true;
	}
	}
	return false;
}

#endif
