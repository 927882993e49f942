// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for virtio-blk: hostile requests on hostile rings. The
 * device is built on each input from its flags (read-only, O_DIRECT, two
 * queues, the features the driver accepts), on an image in a memfd (tmpfs:
 * no ZERO_RANGE, so the zero-writing fallback runs too) and a real I/O
 * loop; guest RAM is one heap buffer (ASan redzones around it) holding
 * the rings at fixed places and whatever the input puts there. After
 * every input:
 *   - the file is as long as it was and its bytes past the last whole
 *     sector are untouched: nothing is written outside the image;
 *   - a read-only image is untouched;
 *   - every request popped in the current epoch was completed (or the
 *     queue broke): none is lost, and teardown leaves nothing behind.
 *
 * Input: 4 header bytes, then the script, then the RAM image (zero beyond).
 *   [0]  bit 0 read-only, 1 EVENT_IDX, 2 INDIRECT_DESC, 3 FLUSH,
 *        4 DISCARD and WRITE_ZEROES, 5 direct, 6 two queues (MQ)
 *   [1]  queue size 1 << (b & 7)
 *   [2]  script length (& 63), one byte per step and its argument bytes
 *   [3]  unused
 * Rings: queue q's descriptors at 0x4000 q, avail at +0x800, used at +0x1000.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qlite/machine.h"
#include "qlite/util.h"
#include "qlite/virtio.h"
#include "qlite/virtio_blk.h"
#include "fuzz_virtio.h"

#define RAM_SIZE	0x10000
#define HDR		4
#define IMG_SECTORS	64
#define IMG_TAIL	100		/* past the last whole sector: never reachable */
#define IMG_BYTES	(IMG_SECTORS * 512 + IMG_TAIL)

struct fuzz {
	struct machine m;
	struct guest_mem gm;
	struct virtio_blk *blk;
	struct virtio_device *vdev;
	uint64_t features;
	unsigned nq;
	uint16_t size;
	struct fuzz_script s;
};

static uint8_t *ram;
static struct event_loop *loop;	/* idle between inputs: each ends with its I/O done */
static int img_fd = -1;
static char img_path[64];
static uint8_t baseline[IMG_BYTES];

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtio_blk: %s\n", what);
	abort();
}

static void once(void)
{
	FILE *devnull = fopen("/dev/null", "w");

	/* The device says what a broken ring did; once per input is noise here. */
	if (devnull)
		report_set_stream(devnull);
	/* Page-aligned as guest RAM is, so O_DIRECT sees aligned buffers too. */
	ram = aligned_alloc(4096, RAM_SIZE);
	loop = event_loop_create();
	img_fd = memfd_create("fuzz-vblk", MFD_CLOEXEC);
	if (!ram || !loop || img_fd < 0)
		die("set-up");
	snprintf(img_path, sizeof(img_path), "/proc/self/fd/%d", img_fd);
	for (unsigned i = 0; i < IMG_BYTES; i++)
		baseline[i] = i < IMG_SECTORS * 512 ? (uint8_t)(i * 7 + i / 512) : 0xee;
}

static void image_restore(void)
{
	if (ftruncate(img_fd, IMG_BYTES) ||
	    pwrite(img_fd, baseline, IMG_BYTES, 0) != IMG_BYTES)
		die("image");
}

static void image_check(bool readonly)
{
	static uint8_t now[IMG_BYTES + 1];
	ssize_t n = pread(img_fd, now, sizeof(now), 0);

	if (n != IMG_BYTES)
		die("the image changed size");
	if (memcmp(now + IMG_SECTORS * 512, baseline + IMG_SECTORS * 512, IMG_TAIL))
		die("bytes past the last sector were written");
	if (readonly && memcmp(now, baseline, IMG_BYTES))
		die("a read-only image was written");
}

static void go_live(struct fuzz *f)
{
	const uint16_t sizes[2] = { f->size, f->size };

	fuzz_virtio_go_live(f->vdev, f->features, f->nq, sizes);
}

/* Popped in this epoch and not completed, over the queues that still work. */
static unsigned pending(struct fuzz *f)
{
	unsigned n = 0;

	for (unsigned q = 0; q < f->nq; q++) {
		const struct virtq *vq = virtio_queue(f->vdev, q);

		if (vq->enabled && !vq->broken)
			n += vq->inflight;
	}
	return n;
}

static void drain(struct fuzz *f)
{
	for (int i = 0; i < 500 && pending(f); i++)
		if (event_loop_run_once(f->m.loop, 10) < 0)
			die("loop");
	if (pending(f))
		die("a request was never completed");
}

static void step(struct fuzz *f, uint8_t op)
{
	unsigned q = (op >> 3) % f->nq;

	if (fuzz_virtio_step(f->vdev, f->m.loop, ram, RAM_SIZE, virtio_queue(f->vdev, q), &f->s,
			     op))
		return;
	switch (op & 7) {
	case 0:
	case 7:
		virtio_queue_kick(f->vdev, q, 1);
		break;
	case 4:
		go_live(f);
		break;
	case 5:
		drain(f);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz f = { .nq = 1 };
	struct virtio_blk_opts o = { 0 };
	size_t image;
	int ret;

	if (size < HDR)
		return 0;
	if (!ram)
		once();
	memset(ram, 0, RAM_SIZE);
	f.s.bytes = data + HDR;
	f.s.len = data[2] & 63;
	if (f.s.len > size - HDR)
		f.s.len = size - HDR;
	image = size - HDR - f.s.len;
	memcpy(ram, f.s.bytes + f.s.len, image < RAM_SIZE ? image : RAM_SIZE);
	image_restore();

	f.gm = (struct guest_mem){ .ram_size = RAM_SIZE, .nr_slots = 1, .memfd = -1 };
	f.gm.slots[0] = (struct guest_mem_slot){ .gpa = 0, .size = RAM_SIZE, .hva = ram };
	f.m.mem = &f.gm;
	f.m.loop = loop;
	o.file = img_path;
	o.readonly = data[0] & 1;
	o.direct = data[0] & 32;
	o.queues = data[0] & 64 ? 2 : 1;
	ret = virtio_blk_create(&f.m, &o, &f.blk);
	if (ret == -EINVAL && o.direct)
		goto out;		/* this tmpfs refuses O_DIRECT */
	if (ret) {
		fprintf(stderr, "fuzz_virtio_blk: create: %s\n", strerror(-ret));
		abort();
	}
	f.vdev = virtio_blk_device(f.blk);
	f.nq = o.queues;
	f.size = 1u << (data[1] & 7);
	f.features = VIRTIO_F_BIT(VIRTIO_F_VERSION_1);
	if (data[0] & 2)
		f.features |= VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX);
	if (data[0] & 4)
		f.features |= VIRTIO_F_BIT(VIRTIO_F_INDIRECT_DESC);
	if (data[0] & 8)
		f.features |= VIRTIO_F_BIT(VIRTIO_BLK_F_FLUSH);
	if ((data[0] & 16) && !o.readonly)
		f.features |= VIRTIO_F_BIT(VIRTIO_BLK_F_DISCARD) |
			      VIRTIO_F_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	if (o.queues > 1)
		f.features |= VIRTIO_F_BIT(VIRTIO_BLK_F_MQ);
	go_live(&f);

	while (f.s.pos < f.s.len)
		step(&f, fuzz_next(&f.s));
	/* Whatever the script left: one more kick per queue, and everything completes. */
	for (unsigned q = 0; q < f.nq; q++)
		virtio_queue_kick(f.vdev, q, 1);
	drain(&f);
out:
	/* Teardown waits for I/O from before any reset too. */
	machine_release_all(&f.m);
	image_check(o.readonly);
	return 0;
}
