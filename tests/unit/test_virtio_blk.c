// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk on a real image file and the fake machine's real I/O loop,
 * driven through the virtio core's entry points with a transport that
 * counts interrupts (no PCI or MMIO): data written and read back, FLUSH
 * completed only after fdatasync, GET_ID, DISCARD and WRITE_ZEROES, a
 * read-only disk, every hostile request, one interrupt per kick's batch,
 * a reset with I/O in flight. tests/unit/meson.build runs it twice: on
 * io_uring and on the epoll fallback's worker pool (QLITE_NO_IO_URING=1).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_machine.h"
#include "report_capture.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/virtio.h"
#include "qlite/virtio_pci.h"
#include "qlite/virtio_blk.h"
#include "virtq_driver.h"

#define RAM_SIZE	(2 << 20)
#define QSIZE		16
#define RING_BASE	0x1000			/* queue q's rings at RING_BASE + q * 0x1000 */
#define HDR_BASE	0x10000			/* request slot i: header at +32 i, status at +16 */
#define DATA_BASE	0x20000
#define IMG_SECTORS	2048			/* 1 MiB, plus a partial sector nobody reaches */
#define IMG_BYTES	(IMG_SECTORS * 512 + 100)
#define V1		VIRTIO_F_BIT(VIRTIO_F_VERSION_1)
#define EV_IDX		VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX)
#define F(b)		VIRTIO_F_BIT(VIRTIO_BLK_F_##b)
#define S_LIVE		(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)
#define NO_STATUS	0xff			/* what the driver leaves in a status byte */

struct fx {
	struct fake_machine *fm;
	struct guest_mem gm;
	struct virtio_blk *blk;
	struct virtio_device *vdev;
	struct test_ring ring[4];
	char path[64];
	int fd;				/* the test's own view of the image */
	struct test_irqs irqs;
	struct report_capture log;	/* what report() printed */
};

/* One descriptor of a chain, as the driver lays it out. */
struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;			/* device-writable */
};

static uint8_t *ram(struct fx *f, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(&f->gm, gpa, len);

	assert_non_null(p);
	return p;
}

/* Sector s of the image as the tests fill it. */
static uint8_t pattern(uint64_t s, unsigned i)
{
	return (uint8_t)(s * 7 + i * 13 + 1);
}

static void fill_image(struct fx *f)
{
	uint8_t buf[512];

	for (unsigned s = 0; s < IMG_SECTORS; s++) {
		for (unsigned i = 0; i < sizeof(buf); i++)
			buf[i] = pattern(s, i);
		assert_int_equal(pwrite(f->fd, buf, sizeof(buf), s * 512ULL), sizeof(buf));
	}
	memset(buf, 0xee, 100);
	assert_int_equal(pwrite(f->fd, buf, 100, IMG_SECTORS * 512ULL), 100);
}

/* The image as it was filled, from sector s for n sectors? */
static bool image_has_pattern(struct fx *f, uint64_t s, unsigned n)
{
	uint8_t buf[512];

	for (unsigned k = 0; k < n; k++) {
		assert_int_equal(pread(f->fd, buf, sizeof(buf), (s + k) * 512), sizeof(buf));
		for (unsigned i = 0; i < sizeof(buf); i++)
			if (buf[i] != pattern(s + k, i))
				return false;
	}
	return true;
}

static bool image_zero(struct fx *f, uint64_t s, unsigned n)
{
	uint8_t buf[512];

	for (unsigned k = 0; k < n; k++) {
		assert_int_equal(pread(f->fd, buf, sizeof(buf), (s + k) * 512), sizeof(buf));
		for (unsigned i = 0; i < sizeof(buf); i++)
			if (buf[i])
				return false;
	}
	return true;
}

/* Sectors [s, s + n) read as zeroes, and the sectors on both sides as filled. */
static bool zeroed_alone(struct fx *f, uint64_t s, unsigned n)
{
	return image_zero(f, s, n) && image_has_pattern(f, s - 1, 1) &&
	       image_has_pattern(f, s + n, 1);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fm = fake_machine_create();
	assert_int_equal(guarded_mem_init(&f->gm, RAM_SIZE), 0);
	f->fm->m.mem = &f->gm;
	report_capture_start(&f->log);
	snprintf(f->path, sizeof(f->path), "/tmp/qlite-vblk-XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	assert_int_equal(ftruncate(f->fd, IMG_BYTES), 0);
	fill_image(f);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	fake_machine_destroy(f->fm);
	guest_mem_destroy(&f->gm);
	report_capture_stop(&f->log);
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

static bool logged(struct fx *f, const char *text)
{
	return report_capture_has(&f->log, text);
}

/* A new machine: the devices of the old one (and their image locks) go with it. */
static void fresh_machine(struct fx *f)
{
	fake_machine_destroy(f->fm);
	f->fm = fake_machine_create();
	f->fm->m.mem = &f->gm;
	f->blk = NULL;
	f->vdev = NULL;
}

static int create(struct fx *f, const struct virtio_blk_opts *o)
{
	int ret = virtio_blk_create(&f->fm->m, o, &f->blk);

	if (ret)
		return ret;
	f->vdev = virtio_blk_device(f->blk);
	virtio_device_set_transport(f->vdev, &test_counting_transport, &f->irqs);
	return 0;
}

static uint64_t offered(struct fx *f)
{
	return virtio_get_device_features(f->vdev, 0) |
	       (uint64_t)virtio_get_device_features(f->vdev, 1) << 32;
}

/* The driver's side of 3.1.1: features, queues 0..nq-1 of QSIZE, DRIVER_OK. */
static void go_live(struct fx *f, uint64_t features, unsigned nq)
{
	assert_true(tr_go_live(f->vdev, f->ring, &f->gm, features, nq, QSIZE, RING_BASE));
}

/* A disk with the usual options, live with everything it offers. */
static void live_disk(struct fx *f, const struct virtio_blk_opts *o)
{
	assert_int_equal(create(f, o), 0);
	go_live(f, offered(f), 1);
}

static uint64_t hdr_gpa(unsigned slot)
{
	return HDR_BASE + 32ULL * slot;
}

static uint64_t status_gpa(unsigned slot)
{
	return hdr_gpa(slot) + 16;
}

static uint8_t status_of(struct fx *f, unsigned slot)
{
	return *ram(f, status_gpa(slot), 1);
}

static void write_hdr(struct fx *f, unsigned slot, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };

	memcpy(ram(f, hdr_gpa(slot), sizeof(h)), &h, sizeof(h));
	*ram(f, status_gpa(slot), 1) = NO_STATUS;
}

/* Descriptors [head, head + n) of queue q chained as segs, and made available. */
static void chain(struct fx *f, unsigned q, unsigned head, const struct seg *segs, unsigned n)
{
	struct test_ring *r = &f->ring[q];

	for (unsigned i = 0; i < n; i++)
		tr_set_desc(r, head + i, segs[i].gpa, segs[i].len,
			    (segs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
			    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0), head + i + 1);
	tr_make_avail(r, head);
}

/*
 * A well-formed request in slot (descriptors 3 slot..3 slot+2 of queue q):
 * header, data of len bytes at data (none when len is 0), status.
 */
static void request(struct fx *f, unsigned q, unsigned slot, uint32_t type, uint64_t sector,
		    uint64_t data, uint32_t len)
{
	struct seg segs[3];
	unsigned n = 0;

	write_hdr(f, slot, type, sector);
	segs[n++] = (struct seg){ hdr_gpa(slot), 16, false };
	if (len)
		segs[n++] = (struct seg){ data, len, type != VIRTIO_BLK_T_OUT &&
					  type != VIRTIO_BLK_T_DISCARD &&
					  type != VIRTIO_BLK_T_WRITE_ZEROES };
	segs[n++] = (struct seg){ status_gpa(slot), 1, true };
	chain(f, q, 3 * slot, segs, n);
}

static void kick(struct fx *f, unsigned q)
{
	virtio_queue_kick(f->vdev, q, 1);
}

static uint16_t used_idx(struct fx *f, unsigned q)
{
	return __atomic_load_n(&tr_used(&f->ring[q])->idx, __ATOMIC_ACQUIRE);
}

/* Run the I/O loop until queue q's used idx reaches idx (5 s at most). */
static void wait_used(struct fx *f, unsigned q, uint16_t idx)
{
	for (int i = 0; i < 500 && used_idx(f, q) != idx; i++)
		fake_run_io(f->fm, 1, 10);
	assert_int_equal(used_idx(f, q), idx);
}

static struct virtq_used_elem used_elem(struct fx *f, unsigned q, unsigned i)
{
	return tr_used(&f->ring[q])->ring[i % QSIZE];
}

/* One request, kicked and completed: its status. */
static uint8_t run1(struct fx *f, uint32_t type, uint64_t sector, uint64_t data, uint32_t len)
{
	uint16_t idx = used_idx(f, 0);

	request(f, 0, 0, type, sector, data, len);
	kick(f, 0);
	wait_used(f, 0, idx + 1);
	return status_of(f, 0);
}

static struct virtio_blk_stats stats(struct fx *f)
{
	struct virtio_blk_stats s;

	virtio_blk_get_stats(f->blk, &s);
	return s;
}

static const struct virtio_blk_opts plain = { .file = NULL };

static struct virtio_blk_opts opts_for(struct fx *f)
{
	struct virtio_blk_opts o = plain;

	o.file = f->path;
	return o;
}

/* ---- tests ---- */

static void test_config_space(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	struct virtio_blk_config c;
	uint64_t want = F(SIZE_MAX) | F(SEG_MAX) | F(BLK_SIZE) | F(TOPOLOGY) | F(FLUSH) |
			F(DISCARD) | F(WRITE_ZEROES) | VIRTIO_CORE_FEATURES;

	assert_int_equal(create(f, &o), 0);
	assert_int_equal(offered(f), want);
	assert_int_equal(f->vdev->info->device_id, VIRTIO_ID_BLOCK);
	assert_int_equal(virtio_queue_count(f->vdev), 1);
	virtio_config_read(f->vdev, 0, &c, sizeof(c));
	assert_int_equal(c.capacity, IMG_SECTORS);
	assert_int_equal(c.seg_max, VIRTIO_BLK_SEG_MAX);
	assert_int_equal(c.size_max, VIRTIO_BLK_SIZE_MAX);
	assert_int_equal(c.blk_size, 512);
	assert_int_equal(c.physical_block_exp, 3);
	assert_int_equal(c.min_io_size, 8);
	assert_int_equal(c.num_queues, 1);
	assert_int_equal(c.max_discard_seg, VIRTIO_BLK_DWZ_SEG_MAX);
	assert_int_equal(c.max_write_zeroes_sectors, VIRTIO_BLK_DWZ_SECTORS_MAX);
	assert_int_equal(c.write_zeroes_may_unmap, 1);
	assert_int_equal(c.unused0 | c.unused1[0] | c.unused1[1] | c.unused1[2], 0);
	/* Reads of single fields, and past the end, as a driver does them. */
	{
		uint32_t seg_max = 0, past = 0xffffffff;

		virtio_config_read(f->vdev, offsetof(struct virtio_blk_config, seg_max), &seg_max, 4);
		assert_int_equal(seg_max, VIRTIO_BLK_SEG_MAX);
		virtio_config_read(f->vdev, sizeof(c), &past, 4);
		assert_int_equal(past, 0);
	}
	/* Read-only: RO, no discard or write zeroes; four queues: MQ. */
	fresh_machine(f);
	o.readonly = true;
	o.queues = 4;
	assert_int_equal(create(f, &o), 0);
	assert_int_equal(offered(f), (want & ~(F(DISCARD) | F(WRITE_ZEROES))) | F(RO) | F(MQ));
	assert_int_equal(virtio_queue_count(f->vdev), 4);
	virtio_config_read(f->vdev, 0, &c, sizeof(c));
	assert_int_equal(c.num_queues, 4);
	assert_int_equal(c.max_discard_sectors, 0);
}

static void test_create_errors(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	char small[] = "/tmp/qlite-vblk-small-XXXXXX";
	int fd;

	o.file = NULL;
	assert_int_equal(create(f, &o), -EINVAL);
	assert_true(logged(f, "virtio-blk: no image: add `file PATH`"));
	o.file = "/nonexistent/disk.img";
	assert_int_equal(create(f, &o), -ENOENT);
	assert_true(logged(f, "/nonexistent/disk.img: No such file or directory"));
	o.file = "/tmp";
	assert_int_equal(create(f, &o), -EISDIR);
	o.file = "/dev/null";
	assert_int_equal(create(f, &o), -EINVAL);
	assert_true(logged(f, "/dev/null: not a regular file"));
	fd = mkstemp(small);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	o.file = small;
	assert_int_equal(create(f, &o), -EINVAL);
	assert_true(logged(f, "bytes: smaller than one 512-byte sector"));
	close(fd);
	unlink(small);

	o = opts_for(f);
	o.serial = "123456789012345678901";
	assert_int_equal(create(f, &o), -EINVAL);
	assert_true(logged(f, "longer than 20 characters"));
	o.serial = "tab\there";
	assert_int_equal(create(f, &o), -EINVAL);
	o.serial = NULL;
	o.queues = VIRTIO_BLK_MAX_QUEUES + 1;
	assert_int_equal(create(f, &o), -EINVAL);

	/* One writer per image; readers share, but not with a writer. */
	o = opts_for(f);
	assert_int_equal(create(f, &o), 0);
	assert_int_equal(create(f, &o), -EBUSY);
	assert_true(logged(f, "in use by another device or process (locked)"));
	o.readonly = true;
	assert_int_equal(create(f, &o), -EBUSY);
}

static void test_readers_share(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);

	o.readonly = true;
	assert_int_equal(create(f, &o), 0);
	assert_int_equal(create(f, &o), 0);
	o.readonly = false;
	assert_int_equal(create(f, &o), -EBUSY);
}

/* N sectors written through several descriptors, read back through one. */
static void test_write_read(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	struct seg segs[6];
	uint8_t *src = ram(f, DATA_BASE, 8192), *dst = ram(f, DATA_BASE + 0x10000, 8192);
	uint8_t back[8192];
	struct virtio_blk_stats s;

	live_disk(f, &o);
	for (unsigned i = 0; i < 8192; i++)
		src[i] = (uint8_t)(i * 31 + 5);
	/* Header, four data segments of 2 KiB, status: 16 sectors at sector 100. */
	write_hdr(f, 0, VIRTIO_BLK_T_OUT, 100);
	segs[0] = (struct seg){ hdr_gpa(0), 16, false };
	for (unsigned i = 0; i < 4; i++)
		segs[1 + i] = (struct seg){ DATA_BASE + 2048 * i, 2048, false };
	segs[5] = (struct seg){ status_gpa(0), 1, true };
	chain(f, 0, 0, segs, 6);
	kick(f, 0);
	wait_used(f, 0, 1);
	assert_int_equal(status_of(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(used_elem(f, 0, 0).id, 0);
	assert_int_equal(used_elem(f, 0, 0).len, 1);
	/* On disk, and nothing around it changed. */
	assert_int_equal(pread(f->fd, back, sizeof(back), 100 * 512), sizeof(back));
	assert_memory_equal(back, src, sizeof(back));
	assert_true(image_has_pattern(f, 99, 1));
	assert_true(image_has_pattern(f, 116, 1));

	memset(dst, 0, 8192);
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, 100, DATA_BASE + 0x10000, 8192), VIRTIO_BLK_S_OK);
	assert_memory_equal(dst, src, 8192);
	assert_int_equal(used_elem(f, 0, 1).len, 8192 + 1);
	/* The last whole sector is readable; the partial one after it is not there. */
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, IMG_SECTORS - 1, DATA_BASE, 512),
			 VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(src[i], pattern(IMG_SECTORS - 1, i));

	s = stats(f);
	assert_int_equal(s.writes, 1);
	assert_int_equal(s.reads, 2);
	assert_int_equal(s.write_bytes, 8192);
	assert_int_equal(s.read_bytes, 8192 + 512);
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.bounced, 0);
}

/* Header, data and status in one descriptor each way: any framing is fine (2.6.4). */
static void test_framing(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	uint64_t buf = DATA_BASE;
	struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_OUT, .sector = 7 };
	struct seg segs[2];

	live_disk(f, &o);
	/* A write: header and data in one readable descriptor. */
	memcpy(ram(f, buf, 16), &h, 16);
	memset(ram(f, buf + 16, 1024), 0x5a, 1024);
	*ram(f, status_gpa(0), 1) = NO_STATUS;
	segs[0] = (struct seg){ buf, 16 + 1024, false };
	segs[1] = (struct seg){ status_gpa(0), 1, true };
	chain(f, 0, 0, segs, 2);
	kick(f, 0);
	wait_used(f, 0, 1);
	assert_int_equal(status_of(f, 0), VIRTIO_BLK_S_OK);
	assert_true(image_has_pattern(f, 6, 1));
	assert_true(image_has_pattern(f, 9, 1));
	/* A read: data and status in one writable descriptor. */
	h.type = VIRTIO_BLK_T_IN;
	memcpy(ram(f, hdr_gpa(1), 16), &h, 16);
	memset(ram(f, buf, 1025), 0, 1025);
	*ram(f, buf + 1024, 1) = NO_STATUS;
	segs[0] = (struct seg){ hdr_gpa(1), 16, false };
	segs[1] = (struct seg){ buf, 1025, true };
	chain(f, 0, 3, segs, 2);
	kick(f, 0);
	wait_used(f, 0, 2);
	assert_int_equal(*ram(f, buf + 1024, 1), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(*ram(f, buf + i, 1), 0x5a);
	assert_int_equal(used_elem(f, 0, 1).len, 1025);
}

/* FLUSH completes only after fdatasync returned, and then another fd sees the data. */
static void test_flush(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	int other = open(f->path, O_RDONLY);
	uint8_t back[512];

	assert_true(other >= 0);
	live_disk(f, &o);
	memset(ram(f, DATA_BASE, 512), 0xc3, 512);
	assert_int_equal(run1(f, VIRTIO_BLK_T_OUT, 3, DATA_BASE, 512), VIRTIO_BLK_S_OK);
	request(f, 0, 1, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	kick(f, 0);
	/* Submitted, not done: the status byte waits for the fdatasync. */
	assert_int_equal(status_of(f, 1), NO_STATUS);
	assert_int_equal(used_idx(f, 0), 1);
	wait_used(f, 0, 2);
	assert_int_equal(status_of(f, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(used_elem(f, 0, 1).id, 3);
	assert_int_equal(pread(other, back, sizeof(back), 3 * 512), sizeof(back));
	for (unsigned i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0xc3);
	assert_int_equal(stats(f).flushes, 1);
	close(other);
}

/* FLUSH offered and not negotiated: each write is synced before it completes (5.2.6.2). */
static void test_writethrough(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	int ran = 0;

	assert_int_equal(create(f, &o), 0);
	go_live(f, V1, 1);
	request(f, 0, 0, VIRTIO_BLK_T_OUT, 0, DATA_BASE, 512);
	kick(f, 0);
	/* The write, then the fdatasync: two completions before the chain is used. */
	while (used_idx(f, 0) == 0 && ran < 100)
		ran += fake_run_io(f->fm, 1, 50);
	assert_int_equal(used_idx(f, 0), 1);
	assert_int_equal(ran, 2);
	assert_int_equal(status_of(f, 0), VIRTIO_BLK_S_OK);
	/* With FLUSH negotiated a write is one completion. */
	go_live(f, V1 | F(FLUSH), 1);
	request(f, 0, 0, VIRTIO_BLK_T_OUT, 0, DATA_BASE, 512);
	kick(f, 0);
	assert_int_equal(fake_run_io(f->fm, 1, 2000), 1);
	assert_int_equal(used_idx(f, 0), 1);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	uint8_t *id = ram(f, DATA_BASE, 32);

	o.serial = "qlite-disk-7";
	live_disk(f, &o);
	memset(id, 0xaa, 32);
	assert_int_equal(run1(f, VIRTIO_BLK_T_GET_ID, 0, DATA_BASE, 20), VIRTIO_BLK_S_OK);
	assert_memory_equal(id, "qlite-disk-7\0\0\0\0\0\0\0\0", 20);
	assert_int_equal(id[20], 0xaa);
	assert_int_equal(used_elem(f, 0, 0).len, 21);
	/* A longer buffer gets the 20 bytes, the rest is left alone. */
	memset(id, 0xaa, 32);
	assert_int_equal(run1(f, VIRTIO_BLK_T_GET_ID, 0, DATA_BASE, 32), VIRTIO_BLK_S_OK);
	assert_memory_equal(id, "qlite-disk-7\0\0\0\0\0\0\0\0\xaa\xaa", 22);
	assert_int_equal(used_elem(f, 0, 1).len, 21);
	assert_int_equal(stats(f).get_ids, 2);

	/* 20 characters: no terminator. A short buffer gets what fits. */
	o.serial = "ABCDEFGHIJKLMNOPQRST";
	assert_int_equal(create(f, &o), -EBUSY);		/* the first disk holds the lock */
	fresh_machine(f);
	live_disk(f, &o);
	memset(id, 0xaa, 32);
	assert_int_equal(run1(f, VIRTIO_BLK_T_GET_ID, 0, DATA_BASE, 20), VIRTIO_BLK_S_OK);
	assert_memory_equal(id, "ABCDEFGHIJKLMNOPQRST", 20);
	memset(id, 0xaa, 32);
	assert_int_equal(run1(f, VIRTIO_BLK_T_GET_ID, 0, DATA_BASE, 4), VIRTIO_BLK_S_OK);
	assert_memory_equal(id, "ABCD\xaa", 5);
	assert_int_equal(used_elem(f, 0, 1).len, 5);
}

/* A DISCARD or WRITE_ZEROES request of n segments in slot 0. */
static uint8_t run_dwz(struct fx *f, uint32_t type, const struct virtio_blk_dwz *s, unsigned n)
{
	memcpy(ram(f, DATA_BASE, n * sizeof(*s)), s, n * sizeof(*s));
	return run1(f, type, 0, DATA_BASE, n * sizeof(*s));
}

static void test_discard_write_zeroes(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	struct virtio_blk_dwz s[VIRTIO_BLK_DWZ_SEG_MAX + 1] = {
		{ .sector = 10, .num_sectors = 4 },
		{ .sector = 40, .num_sectors = 1, .flags = VIRTIO_BLK_DWZ_F_UNMAP },
		{ .sector = 100, .num_sectors = 0 },		/* nothing: fine */
	};
	struct stat st;

	live_disk(f, &o);
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, s, 3), VIRTIO_BLK_S_OK);
	assert_true(zeroed_alone(f, 10, 4));
	assert_true(zeroed_alone(f, 40, 1));

	/* Discard: the range may read anything after, but nothing else changes. */
	s[0] = (struct virtio_blk_dwz){ .sector = 200, .num_sectors = 16 };
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_OK);
	assert_true(image_has_pattern(f, 199, 1));
	assert_true(image_has_pattern(f, 216, 1));
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, IMG_BYTES);

	/* 5.2.6.2: unmap on a discard and unknown flags are unsupported; nothing is done. */
	s[0].flags = VIRTIO_BLK_DWZ_F_UNMAP;
	s[0].sector = 300;
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_UNSUPP);
	s[0].flags = 2;
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, s, 1), VIRTIO_BLK_S_UNSUPP);
	assert_true(image_has_pattern(f, 300, 16));
	/* A bad segment fails the request before any segment is done. */
	s[0] = (struct virtio_blk_dwz){ .sector = 300, .num_sectors = 1 };
	s[1] = (struct virtio_blk_dwz){ .sector = IMG_SECTORS - 1, .num_sectors = 2 };
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_IOERR);
	s[1] = (struct virtio_blk_dwz){ .sector = UINT64_MAX, .num_sectors = 2 };
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_IOERR);
	s[1] = (struct virtio_blk_dwz){ .sector = 0, .num_sectors = VIRTIO_BLK_DWZ_SECTORS_MAX + 1 };
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_DISCARD, s, 2), VIRTIO_BLK_S_IOERR);
	assert_true(image_has_pattern(f, 300, 1));
	/* More segments than max_*_seg; a length that is not whole segments; none at all. */
	for (unsigned i = 0; i <= VIRTIO_BLK_DWZ_SEG_MAX; i++)
		s[i] = (struct virtio_blk_dwz){ .sector = 300 + i, .num_sectors = 1 };
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, s, VIRTIO_BLK_DWZ_SEG_MAX + 1),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(run1(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_BASE, 24),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(run1(f, VIRTIO_BLK_T_DISCARD, 0, 0, 0), VIRTIO_BLK_S_IOERR);
	assert_true(image_has_pattern(f, 300, VIRTIO_BLK_DWZ_SEG_MAX + 1));
	/* The most segments there may be. */
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, s, VIRTIO_BLK_DWZ_SEG_MAX),
			 VIRTIO_BLK_S_OK);
	assert_true(zeroed_alone(f, 300, VIRTIO_BLK_DWZ_SEG_MAX));
	assert_int_equal(stats(f).write_zeroes, 7);
	assert_int_equal(stats(f).discards, 4);

	/* A driver that did not accept the features gets UNSUPP. */
	go_live(f, V1 | F(FLUSH), 1);
	s[0] = (struct virtio_blk_dwz){ .sector = 500, .num_sectors = 1 };
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, s, 1), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_UNSUPP);
	assert_true(image_has_pattern(f, 500, 1));
}

/* On tmpfs fallocate cannot zero a range: holes, or zeroes written, do it instead. */
static void test_write_zeroes_fallback(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	struct virtio_blk_dwz s[2] = {
		{ .sector = 10, .num_sectors = 300 },			/* > one 64 KiB chunk */
		{ .sector = 600, .num_sectors = 2, .flags = VIRTIO_BLK_DWZ_F_UNMAP },
	};
	char shm[] = "/dev/shm/qlite-vblk-XXXXXX";
	int fd = mkstemp(shm);

	if (fd < 0)
		skip();
	/* The fixture's image, copied onto tmpfs. */
	close(f->fd);
	unlink(f->path);
	f->fd = fd;
	snprintf(f->path, sizeof(f->path), "%s", shm);
	assert_int_equal(ftruncate(f->fd, IMG_BYTES), 0);
	fill_image(f);
	o.file = f->path;
	live_disk(f, &o);
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_OK);
	assert_true(zeroed_alone(f, 10, 300));
	assert_true(zeroed_alone(f, 600, 2));
	/* And again, now that the device knows: no second try of what failed. */
	fill_image(f);
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_OK);
	assert_true(zeroed_alone(f, 10, 300));
}

static void test_readonly(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	struct virtio_blk_dwz s = { .sector = 0, .num_sectors = 8 };

	o.readonly = true;
	live_disk(f, &o);
	assert_true(virtio_feature_on(f->vdev, VIRTIO_BLK_F_RO));
	memset(ram(f, DATA_BASE, 4096), 0, 4096);
	/* Refused before any I/O: completed within the kick, the loop not run. */
	request(f, 0, 0, VIRTIO_BLK_T_OUT, 0, DATA_BASE, 4096);
	kick(f, 0);
	assert_int_equal(used_idx(f, 0), 1);
	assert_int_equal(status_of(f, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, &s, 1), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(run_dwz(f, VIRTIO_BLK_T_DISCARD, &s, 1), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(run1(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, 0, DATA_BASE, 4096), VIRTIO_BLK_S_OK);
	assert_true(image_has_pattern(f, 0, IMG_SECTORS));
	assert_int_equal(stats(f).errors, 3);
}

/* Every malformed request: an error status when there is a byte for it, the image untouched. */
static void test_hostile_requests(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	struct seg segs[3];
	struct stat st;
	uint16_t n = 0;

	live_disk(f, &o);
	memset(ram(f, DATA_BASE, 8192), 0x77, 8192);

	/* A header of 8 bytes. */
	write_hdr(f, 0, VIRTIO_BLK_T_OUT, 0);
	segs[0] = (struct seg){ hdr_gpa(0), 8, false };
	segs[1] = (struct seg){ status_gpa(0), 1, true };
	chain(f, 0, 0, segs, 2);
	kick(f, 0);
	wait_used(f, 0, ++n);
	assert_int_equal(status_of(f, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used_elem(f, 0, n - 1).len, 1);

	/* No device-writable byte at all: used with length 0, nothing done. */
	write_hdr(f, 0, VIRTIO_BLK_T_OUT, 0);
	segs[0] = (struct seg){ hdr_gpa(0), 16, false };
	segs[1] = (struct seg){ DATA_BASE, 512, false };
	chain(f, 0, 0, segs, 2);
	kick(f, 0);
	wait_used(f, 0, ++n);
	assert_int_equal(used_elem(f, 0, n - 1).len, 0);
	assert_int_equal(status_of(f, 0), NO_STATUS);

	/* A read with no room for the status after 512 bytes: 511 + status is not whole sectors. */
	write_hdr(f, 0, VIRTIO_BLK_T_IN, 0);
	segs[1] = (struct seg){ DATA_BASE, 512, true };
	chain(f, 0, 0, segs, 2);
	kick(f, 0);
	wait_used(f, 0, ++n);
	assert_int_equal(*ram(f, DATA_BASE + 511, 1), VIRTIO_BLK_S_IOERR);

	/* Past the capacity, straddling it, a sector that overflows, odd lengths. */
	assert_int_equal(run1(f, VIRTIO_BLK_T_OUT, IMG_SECTORS, DATA_BASE, 512),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(run1(f, VIRTIO_BLK_T_OUT, IMG_SECTORS - 1, DATA_BASE, 1024),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, IMG_SECTORS, DATA_BASE, 512),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(run1(f, VIRTIO_BLK_T_OUT, UINT64_MAX, DATA_BASE, 1024),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(run1(f, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, DATA_BASE, 512),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(run1(f, VIRTIO_BLK_T_OUT, 0, DATA_BASE, 513), VIRTIO_BLK_S_IOERR);
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, 0, DATA_BASE, 100), VIRTIO_BLK_S_IOERR);
	/* Unknown types, and the legacy SCSI and zoned ones, are unsupported. */
	assert_int_equal(run1(f, 99, 0, DATA_BASE, 512), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(run1(f, 2, 0, DATA_BASE, 512), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(run1(f, 16, 0, DATA_BASE, 512), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(run1(f, 0x80000001, 0, DATA_BASE, 512), VIRTIO_BLK_S_UNSUPP);
	/* A zero-length read at the capacity is a valid nothing. */
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, IMG_SECTORS, 0, 0), VIRTIO_BLK_S_OK);

	assert_true(image_has_pattern(f, 0, IMG_SECTORS));
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, IMG_BYTES);
	assert_int_equal(stats(f).errors, 14);
	/* Requests, not the ring: the device stays live and says nothing. */
	assert_true(virtio_device_live(f->vdev));
	assert_string_equal(report_capture_text(&f->log), "");
}

/* K requests, one kick: one batch, one interrupt; with EVENT_IDX, none the driver did not ask for. */
static void test_one_interrupt_per_batch(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	struct virtq_stats st;
	const unsigned k = 5;

	live_disk(f, &o);
	go_live(f, V1 | F(FLUSH), 1);
	for (unsigned i = 0; i < k; i++)
		request(f, 0, i, i % 2 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 8 * i,
			DATA_BASE + 4096 * i, 4096);
	kick(f, 0);
	wait_used(f, 0, k);
	/* Let anything late run: still one. */
	fake_run_io(f->fm, 1, 50);
	assert_int_equal(f->irqs.queue[0], 1);
	for (unsigned i = 0; i < k; i++)
		assert_int_equal(status_of(f, i), VIRTIO_BLK_S_OK);
	assert_int_equal(virtio_queue_stats(f->vdev, 0, &st), 0);
	assert_int_equal(st.kicks, 1);
	assert_int_equal(st.interrupts, 1);

	/* A batch mixing invalid requests (done at once) and I/O: still one. */
	request(f, 0, 0, 99, 0, DATA_BASE, 512);
	request(f, 0, 1, VIRTIO_BLK_T_IN, 0, DATA_BASE, 512);
	request(f, 0, 2, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	kick(f, 0);
	wait_used(f, 0, k + 3);
	fake_run_io(f->fm, 1, 50);
	assert_int_equal(f->irqs.queue[0], 2);

	/* EVENT_IDX, the driver polling (used_event left behind): no interrupt, counted. */
	go_live(f, V1 | F(FLUSH) | EV_IDX, 1);
	*tr_used_event(&f->ring[0]) = 0xffff;
	for (unsigned i = 0; i < k; i++)
		request(f, 0, i, VIRTIO_BLK_T_IN, 0, DATA_BASE, 512);
	kick(f, 0);
	wait_used(f, 0, k);
	fake_run_io(f->fm, 1, 50);
	assert_int_equal(f->irqs.queue[0], 2);
	assert_int_equal(virtio_queue_stats(f->vdev, 0, &st), 0);
	assert_int_equal(st.suppressed, 1);
}

static void test_multiqueue(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);

	o.queues = 3;
	assert_int_equal(create(f, &o), 0);
	go_live(f, offered(f), 3);
	assert_true(virtio_feature_on(f->vdev, VIRTIO_BLK_F_MQ));
	memset(ram(f, DATA_BASE, 512), 0x42, 512);
	request(f, 2, 0, VIRTIO_BLK_T_OUT, 77, DATA_BASE, 512);
	request(f, 1, 1, VIRTIO_BLK_T_IN, 78, DATA_BASE + 4096, 512);
	kick(f, 2);
	kick(f, 1);
	wait_used(f, 2, 1);
	wait_used(f, 1, 1);
	assert_int_equal(status_of(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(f, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(f->irqs.queue[0], 0);
	assert_int_equal(f->irqs.queue[1], 1);
	assert_int_equal(f->irqs.queue[2], 1);
	assert_false(image_has_pattern(f, 77, 1));
	assert_true(image_has_pattern(f, 78, 1));
}

/* The vCPU that writes status 0 while the I/O thread runs the loop. */
struct resetter {
	struct fx *f;
	pthread_t thread;
	atomic_bool done;
	uint8_t seen[4096];	/* the read's buffer when the reset returned */
};

static void *reset_thread(void *opaque)
{
	struct resetter *r = opaque;

	virtio_set_status(r->f->vdev, 0);
	memcpy(r->seen, ram(r->f, DATA_BASE, sizeof(r->seen)), sizeof(r->seen));
	atomic_store(&r->done, true);
	return NULL;
}

/*
 * A reset with I/O in flight (virtio 1.2, 2.4: after it the device must not
 * use the driver's buffers): status 0 returns only once the read has
 * landed, so the buffer never changes after it; the completions are dropped,
 * a kick while the reset waits pops nothing, and no interrupt comes.
 */
static void test_reset_in_flight(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	struct resetter r = { .f = f };
	uint8_t want[4096];

	live_disk(f, &o);
	memset(ram(f, DATA_BASE, 4096), 0xee, 4096);
	request(f, 0, 0, VIRTIO_BLK_T_IN, 0, DATA_BASE, 4096);
	request(f, 0, 1, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	kick(f, 0);	/* queued: the batch reaches the kernel when the loop next waits */
	assert_int_equal(pthread_create(&r.thread, NULL, reset_thread, &r), 0);
	/* Nothing completes without the loop, so the reset cannot have returned. */
	usleep(50 * 1000);
	assert_false(atomic_load(&r.done));
	/* A kick while it waits: the chain stays in the ring. */
	request(f, 0, 2, VIRTIO_BLK_T_IN, 8, DATA_BASE + 0x8000, 512);
	kick(f, 0);
	for (int i = 0; i < 1000 && !atomic_load(&r.done); i++)
		fake_run_io(f->fm, 1, 10);
	assert_int_equal(pthread_join(r.thread, NULL), 0);
	assert_true(r.done);
	/* The read had finished: the buffer holds sectors 0-7 ... */
	for (unsigned i = 0; i < sizeof(want); i++)
		want[i] = pattern(i / 512, i % 512);
	assert_memory_equal(r.seen, want, sizeof(want));
	/* ... and nothing touches it, the rings or the status bytes afterwards. */
	for (int i = 0; i < 20; i++)
		fake_run_io(f->fm, 1, 10);
	assert_memory_equal(ram(f, DATA_BASE, 4096), r.seen, 4096);
	assert_int_equal(used_idx(f, 0), 0);
	assert_int_equal(status_of(f, 0), NO_STATUS);
	assert_int_equal(status_of(f, 1), NO_STATUS);
	assert_int_equal(status_of(f, 2), NO_STATUS);
	assert_int_equal(f->irqs.queue[0], 0);
	assert_int_equal(stats(f).dropped, 2);
	assert_int_equal(stats(f).errors, 0);
	assert_int_equal(virtio_get_status(f->vdev), 0);
	assert_false(logged(f, "still in flight"));
	/* And the device serves the new rings. */
	go_live(f, offered(f), 1);
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, 0, DATA_BASE, 512), VIRTIO_BLK_S_OK);
}

/* The same from the loop's own thread (as the fuzzer drives it): the reset serves the loop. */
static void test_reset_in_flight_one_thread(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	uint8_t want[4096], seen[4096];

	live_disk(f, &o);
	memset(ram(f, DATA_BASE, 4096), 0xee, 4096);
	request(f, 0, 0, VIRTIO_BLK_T_IN, 8, DATA_BASE, 4096);
	kick(f, 0);
	virtio_set_status(f->vdev, 0);
	memcpy(seen, ram(f, DATA_BASE, 4096), 4096);
	for (unsigned i = 0; i < sizeof(want); i++)
		want[i] = pattern(8 + i / 512, i % 512);
	assert_memory_equal(seen, want, sizeof(want));
	for (int i = 0; i < 20; i++)
		fake_run_io(f->fm, 1, 10);
	assert_memory_equal(ram(f, DATA_BASE, 4096), seen, 4096);
	assert_int_equal(used_idx(f, 0), 0);
	assert_int_equal(status_of(f, 0), NO_STATUS);
	assert_int_equal(stats(f).dropped, 1);
}

/* A device's entry in the machine's reports, filled now. */
static void read_report(struct fx *f, const char *name, struct device_report *out)
{
	for (unsigned i = 0; i < f->fm->m.nr_reports; i++) {
		const struct machine_report_src *r = &f->fm->m.reports[i];

		if (strcmp(r->name, name))
			continue;
		memset(out, 0, sizeof(*out));
		r->fn(r->opaque, out);
		return;
	}
	fail_msg("no report named %s", name);
}

static bool counter(const struct device_report *r, const char *name, uint64_t *value)
{
	for (unsigned i = 0; i < r->n; i++)
		if (!strcmp(r->c[i].name, name)) {
			*value = r->c[i].value;
			return true;
		}
	return false;
}

/*
 * Two virtio-blk of 64 queues over PCI with ioeventfd off: 128 userspace
 * doorbells, where the bus once had room for 64. Each queue's notify
 * address kicks that queue, and the transport's report says how.
 */
static void test_many_queues_userspace_doorbells(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	struct virtio_pci_opts po = { .ioeventfd = false, .irqfd = false };
	struct pci_host *host = pci_host_create(&f->fm->m);
	struct virtio_blk *blk[2];
	struct virtio_pci *vp[2];
	struct device_report rep;
	uint64_t bar, v;

	assert_non_null(host);
	o.readonly = true;	/* two devices on one image: shared locks */
	o.queues = VIRTIO_BLK_MAX_QUEUES;
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(virtio_blk_create(&f->fm->m, &o, &blk[i]), 0);
		assert_int_equal(virtio_pci_attach(&f->fm->m, virtio_blk_device(blk[i]), &po, &vp[i]), 0);
	}
	bar = le_load(virtio_pci_function(vp[1])->cfg + 0x10, 4) & ~0xfULL;
	for (unsigned q = 0; q < VIRTIO_BLK_MAX_QUEUES; q += VIRTIO_BLK_MAX_QUEUES - 1) {
		uint16_t idx = q;

		assert_false(virtio_pci_doorbell_in_kernel(vp[1], q));
		assert_non_null(bus_dispatch(f->fm->m.bus[BUS_MMIO], bar + 0x3000 + 4 * q, &idx, 2,
					     true));
	}
	for (int i = 0; i < 100; i++) {
		struct virtq_stats st;

		assert_int_equal(virtio_queue_stats(virtio_blk_device(blk[1]), 63, &st), 0);
		if (st.kicks)
			break;
		fake_run_io(f->fm, 1, 10);
	}
	read_report(f, "virtio-blk.1", &rep);
	assert_string_equal(rep.path, "kicks userspace exits, interrupts injected from userspace INTx");
	assert_true(counter(&rep, "q0.kicks", &v) && v == 1);
	assert_true(counter(&rep, "q63.kicks", &v) && v == 1);
	assert_true(counter(&rep, "q63.interrupts", &v) && v == 0);
	assert_false(counter(&rep, "q1.kicks", &v));	/* an idle queue adds nothing */
	assert_true(counter(&rep, "needs_reset", &v) && v == 0);
	assert_true(counter(&rep, "reads", &v) && v == 0);
	/* The first device saw none of it. */
	read_report(f, "virtio-blk", &rep);
	assert_true(counter(&rep, "q0.kicks", &v) && v == 0);
	assert_false(counter(&rep, "q63.kicks", &v));
	pci_host_destroy(host);
	fresh_machine(f);
}

/* A reset with nothing in flight does not wait. */
static void test_reset_idle(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	struct timespec t0, t1;

	live_disk(f, &o);
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, 0, DATA_BASE, 512), VIRTIO_BLK_S_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	virtio_set_status(f->vdev, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
	assert_int_equal(stats(f).dropped, 0);
}

/*
 * A driver that makes chains available again before it got them back: at
 * most a ring's worth in flight, the rest once those complete.
 */
static void test_reused_chains(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);

	live_disk(f, &o);
	for (unsigned i = 0; i < QSIZE / 3; i++)
		request(f, 0, i, VIRTIO_BLK_T_IN, i, DATA_BASE + 512 * i, 512);
	/* 3 x 5 = 15 chains available, then the same heads again, one more ring's worth. */
	kick(f, 0);
	for (unsigned i = 0; i < QSIZE; i++)
		tr_make_avail(&f->ring[0], 3 * (i % (QSIZE / 3)));
	kick(f, 0);
	/* Popped: the first 5, then up to the ring's 16 in flight; 5 wait for completions. */
	assert_int_equal(virtio_queue(f->vdev, 0)->last_avail, QSIZE);
	wait_used(f, 0, QSIZE / 3 + QSIZE);
	assert_int_equal(stats(f).reads, QSIZE / 3 + QSIZE);
	assert_int_equal(stats(f).errors, 0);
}

/* direct on: O_DIRECT, and buffers it cannot take go through a bounce buffer. */
static void test_direct(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	uint8_t back[1536];

	o.direct = true;
	if (create(f, &o) == -EINVAL && logged(f, "refuses O_DIRECT"))
		skip();
	go_live(f, offered(f), 1);
	/* Aligned: straight through. */
	memset(ram(f, DATA_BASE, 4096), 0x31, 4096);
	assert_int_equal(run1(f, VIRTIO_BLK_T_OUT, 8, DATA_BASE, 4096), VIRTIO_BLK_S_OK);
	assert_int_equal(stats(f).bounced, 0);
	/* Unaligned address, in a chain of more than one bounce chunk. */
	for (unsigned i = 0; i < 100 * 1024; i++)
		*ram(f, DATA_BASE + 3 + i, 1) = (uint8_t)(i * 3);
	assert_int_equal(run1(f, VIRTIO_BLK_T_OUT, 64, DATA_BASE + 3, 100 * 1024),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(stats(f).bounced, 1);
	assert_int_equal(pread(f->fd, back, sizeof(back), 64 * 512 + 65536 - 512), sizeof(back));
	for (unsigned i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], (uint8_t)((i + 65536 - 512) * 3));
	memset(ram(f, 0x100001, 100 * 1024), 0, 100 * 1024);
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, 64, 0x100001, 100 * 1024), VIRTIO_BLK_S_OK);
	assert_memory_equal(ram(f, 0x100001, 100 * 1024), ram(f, DATA_BASE + 3, 100 * 1024),
			    100 * 1024);
	assert_int_equal(stats(f).bounced, 2);
	assert_true(image_has_pattern(f, 63, 1));
	assert_true(image_has_pattern(f, 64 + 200, 1));
}

/* The image shrank under the device: a read past its new end is an I/O error. */
static void test_image_shrank(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);
	char want[256];

	live_disk(f, &o);
	assert_int_equal(ftruncate(f->fd, 512 * 100), 0);
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, 99, DATA_BASE, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, 100, DATA_BASE, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(run1(f, VIRTIO_BLK_T_IN, 99, DATA_BASE, 1024), VIRTIO_BLK_S_IOERR);
	assert_int_equal(stats(f).errors, 2);
	/* Said once for the device's life. */
	snprintf(want, sizeof(want), "qlite: virtio-blk: %s: read at byte 51200: the file ends "
		 "there (did it shrink?); the guest sees I/O errors\n", f->path);
	assert_string_equal(report_capture_text(&f->log), want);
}

/* The machine goes with requests in flight: they finish first, nothing leaks. */
static void test_teardown_in_flight(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = opts_for(f);

	live_disk(f, &o);
	for (unsigned i = 0; i < 4; i++)
		request(f, 0, i, VIRTIO_BLK_T_IN, i, DATA_BASE + 4096 * i, 4096);
	kick(f, 0);
	/* fx_teardown destroys the machine now. */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_space, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_readers_share, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_write_read, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_framing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_flush, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_writethrough, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_get_id, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_discard_write_zeroes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_write_zeroes_fallback, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_readonly, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_requests, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_interrupt_per_batch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_multiqueue, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reset_in_flight, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reset_in_flight_one_thread, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reset_idle, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_many_queues_userspace_doorbells, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_reused_chains, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_direct, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_image_shrank, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_teardown_in_flight, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
