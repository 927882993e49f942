// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk (virtio 1.2, 5.2), the device side: a raw image served on the
 * machine's asynchronous I/O (io_uring, or the epoll fallback's workers).
 *
 * A kick pops every available chain and submits their I/O as one batch,
 * which reaches the kernel when the loop next waits. Completions run on
 * the I/O thread and push their chains; the last one of the kick's batch
 * publishes them all with one virtio_queue_flush(), so the driver gets at
 * most one interrupt per batch (none when EVENT_IDX says it polls).
 *
 * Every request is checked before the image is touched: a header of 16
 * bytes, a status byte, lengths in whole sectors, a range inside the
 * capacity (overflow-safe), no writes to a read-only disk, the discard and
 * write-zeroes segments and their flags. Guest buffers arrive from the core
 * as iovecs already checked against RAM; a request keeps its chain and
 * iovecs until its last I/O is done, and a completion after a reset or a
 * broken queue writes nothing into the guest (the core's epoch check).
 *
 * A reset (status 0) waits for the requests in flight: the kernel may still
 * be reading into the driver's buffers, and after a reset the device must
 * not touch them (virtio 1.2, 2.4). While it waits, kicks pop nothing,
 * requests stop after their current I/O and are dropped, not returned; the
 * vCPU that wrote the status sleeps until the I/O thread has seen the last
 * completion (at most VBLK_DRAIN_MS), as QEMU's blk_drain() does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qlite/block.h"
#include "qlite/machine.h"
#include "qlite/stats.h"
#include "qlite/util.h"
#include "qlite/virtio.h"
#include "qlite/virtio_blk.h"

#define SECTOR		VIRTIO_BLK_SECTOR_SIZE
#define VBLK_IOV_MAX	(VIRTIO_BLK_SEG_MAX + 2)	/* the data, the header and the status */
#define VBLK_CHUNK	(64 * KiB)	/* bounce buffer; zeroes written where fallocate cannot */
#define VBLK_DIO_ALIGN	512		/* O_DIRECT: buffer address and length */
#define VBLK_DRAIN_MS	10000		/* at teardown, for I/O still in flight */
/* parse: the request has I/O to do (else it returns the status to complete with) */
#define VBLK_RUN	-1

/* ---- the device ---- */

/* The chains one kick popped: published together when the last completes. */
struct vblk_batch {
	unsigned pending;	/* requests not yet completed, +1 while the kick pops */
};

struct vblk_req {
	struct virtio_blk *blk;
	struct vblk_batch *batch;	/* NULL (out of memory): published on its own */
	unsigned q;
	struct aio_req aio;
	struct {			/* zeroed for each chain */
		uint8_t *status;	/* the chain's last device-writable byte */
		uint32_t type;
		uint32_t used_len;	/* bytes written into the chain if it succeeds */
		uint64_t bytes;		/* data of IN/OUT */
		/* The image range in progress, [pos, end), and what moves there. */
		enum aio_op op;
		uint64_t pos, end;
		const struct dma_sg *payload;	/* IN/OUT: guest buffers; NULL: zeroes */
		uint64_t payload_off;		/* where byte pos is in the payload */
		bool bounce;			/* direct on, buffers unaligned: through buf */
		bool unmap;			/* WRITE_ZEROES may deallocate */
		bool sync;			/* fdatasync once the data is written */
		unsigned nr_segs, next_seg;
		struct virtio_blk_dwz segs[VIRTIO_BLK_DWZ_SEG_MAX];
	} w;
	void *buf;			/* the bounce buffer, VBLK_CHUNK bytes */
	struct vblk_req *next_free;
	struct virtq_elem elem;
	struct iovec out_iov[VBLK_IOV_MAX], in_iov[VBLK_IOV_MAX], io_iov[VBLK_IOV_MAX];
};

struct vblk_queue {
	unsigned inflight;	/* popped, not yet completed */
	bool starved;		/* stopped popping at the cap: a completion resumes */
};

struct virtio_blk {
	struct virtio_device vdev;
	struct virtio_device_info info;
	bool inited;		/* vdev is initialised */
	struct machine *m;
	struct block_image *img;	/* the raw image (src/block/) */
	bool readonly, direct;
	bool writethrough;	/* FLUSH offered, not negotiated: a write is stable when done */
	bool no_punch, no_zero_range;	/* the file system said EOPNOTSUPP once */
	bool releasing;		/* teardown: completions only free their requests */
	bool resetting;		/* a reset waits for the requests in flight */
	bool reset_timeout_told;	/* the one line about a reset that could not wait */
	pthread_cond_t drained;	/* signalled when the last popped request is finished */
	pthread_t io_thread;	/* where kicks and completions run, once io_thread_seen */
	bool io_thread_seen;
	bool io_error_told;	/* the one line about the host failing our I/O */
	char serial[VIRTIO_BLK_ID_BYTES];	/* NUL-padded */
	struct virtio_blk_config config;
	uint16_t queue_sizes[VIRTIO_BLK_MAX_QUEUES];
	struct vblk_queue queues[VIRTIO_BLK_MAX_QUEUES];
	struct vblk_req *free_reqs;
	unsigned aio_inflight;	/* submitted, done not yet called */
	void *zeroes;		/* VBLK_CHUNK zero bytes, on first need */
	struct virtio_blk_stats stats;
};

static bool vblk_range_ok(const struct virtio_blk *blk, uint64_t sector, uint64_t sectors)
{
	uint64_t cap = blk->img->sectors;

	return sector <= cap && sectors <= cap - sector;
}

/* dst = the bytes [off, off + len) of sg, as iovecs; how many. dst holds sg->max entries. */
static unsigned vblk_slice(struct iovec *dst, const struct dma_sg *sg, uint64_t off, uint64_t len)
{
	unsigned n = 0;

	for (unsigned i = 0; i < sg->n && len; i++) {
		uint64_t seg = sg->iov[i].iov_len, take;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		take = seg - off < len ? seg - off : len;
		dst[n++] = (struct iovec){ (char *)sg->iov[i].iov_base + off, take };
		len -= take;
		off = 0;
	}
	return n;
}

static bool vblk_aligned(const struct iovec *iov, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (VBLK_DIO_ALIGN - 1))
			return false;
	return true;
}

/* ---- requests: pool, batches, completion ---- */

static struct vblk_req *vblk_req_get(struct virtio_blk *blk)
{
	struct vblk_req *req = blk->free_reqs;

	if (req) {
		blk->free_reqs = req->next_free;
		return req;
	}
	req = calloc(1, sizeof(*req));
	if (req)
		req->blk = blk;
	return req;
}

static void vblk_req_put(struct virtio_blk *blk, struct vblk_req *req)
{
	free(req->buf);
	req->buf = NULL;
	req->next_free = blk->free_reqs;
	blk->free_reqs = req;
}

static void vblk_batch_put(struct virtio_blk *blk, struct vblk_batch *b, unsigned q)
{
	if (b && --b->pending)
		return;
	free(b);
	if (!blk->releasing && !blk->resetting)
		virtio_queue_flush(&blk->vdev, q);
}

/* Requests popped and not yet finished, over all queues. */
static unsigned vblk_popped(const struct virtio_blk *blk)
{
	unsigned n = 0;

	for (unsigned q = 0; q < blk->info.nr_queues; q++)
		n += blk->queues[q].inflight;
	return n;
}

static void vblk_count_done(struct virtio_blk *blk, const struct vblk_req *req, uint8_t status)
{
	if (status != VIRTIO_BLK_S_OK || !req->w.status)
		stat_add(&blk->stats.errors, 1);
	else if (req->w.type == VIRTIO_BLK_T_IN)
		stat_add(&blk->stats.read_bytes, req->w.bytes);
	else if (req->w.type == VIRTIO_BLK_T_OUT)
		stat_add(&blk->stats.write_bytes, req->w.bytes);
}

/* Complete req with a VIRTIO_BLK_S_* status and give its chain back. */
static void vblk_finish(struct vblk_req *req, uint8_t status)
{
	struct virtio_blk *blk = req->blk;
	struct virtq *vq = virtio_queue(&blk->vdev, req->q);
	uint32_t len = 0;

	if (blk->releasing) {
		/* Nothing: the transport is gone and the rings with it. */
	} else if (blk->resetting || req->elem.epoch != vq->epoch || vq->broken) {
		/* The driver resets the device, or broke the queue: the chain is not ours. */
		stat_add(&blk->stats.dropped, 1);
	} else {
		vblk_count_done(blk, req, status);
		if (req->w.status) {
			*req->w.status = status;
			len = status == VIRTIO_BLK_S_OK ? req->w.used_len : 1;
		}
		virtq_push(vq, &req->elem, len);
	}
	blk->queues[req->q].inflight--;
	vblk_batch_put(blk, req->batch, req->q);
	vblk_req_put(blk, req);
	if (blk->resetting && !vblk_popped(blk))
		pthread_cond_broadcast(&blk->drained);
}

/* ---- I/O ---- */

/*
 * The host failed a request (the guest sees IOERR): said once in the
 * device's life, as a full disk fails every write after the first.
 */
static void vblk_host_error(struct vblk_req *req, int err, const char *what, const char *why)
{
	struct virtio_blk *blk = req->blk;

	if (blk->io_error_told)
		return;
	blk->io_error_told = true;
	report(err, "%s: %s: %s at byte %llu: %s; the guest sees I/O errors", blk->info.name,
	       blk->img->path, what, (unsigned long long)req->w.pos, why ? why : strerror(-err));
}

static const char *vblk_op_name(enum aio_op op)
{
	static const char *const names[] = {
		[AIO_READ] = "read", [AIO_WRITE] = "write", [AIO_FLUSH] = "fdatasync",
		[AIO_DISCARD] = "punching a hole", [AIO_WRITE_ZEROES] = "zeroing",
	};

	return (unsigned)op < ARRAY_SIZE(names) ? names[op] : "I/O";
}

static void vblk_aio_done(struct aio_req *aio, int res);

static int vblk_submit(struct vblk_req *req, enum aio_op op, unsigned iovcnt, uint64_t offset,
		       uint64_t len)
{
	struct virtio_blk *blk = req->blk;
	int ret;

	req->aio = (struct aio_req){
		.fd = blk->img->fd, .op = op, .iov = req->io_iov, .iovcnt = iovcnt,
		.offset = offset, .len = len, .done = vblk_aio_done, .opaque = req,
	};
	ret = machine_aio_submit(blk->m, &req->aio);
	if (!ret)
		blk->aio_inflight++;
	return ret;
}

/* How WRITE_ZEROES zeroes a range, as far as the file system has let us know. */
static enum aio_op vblk_zeroing_op(const struct virtio_blk *blk, bool unmap)
{
	if (unmap && !blk->no_punch)
		return AIO_DISCARD;		/* a hole reads as zeroes */
	if (!blk->no_zero_range)
		return AIO_WRITE_ZEROES;
	return AIO_WRITE;			/* of zeroes */
}

/* The next discard or write-zeroes segment becomes the range in progress. */
static void vblk_seg_begin(struct vblk_req *req)
{
	const struct virtio_blk_dwz *s = &req->w.segs[req->w.next_seg++];

	req->w.pos = s->sector * SECTOR;
	req->w.end = req->w.pos + (uint64_t)s->num_sectors * SECTOR;
	req->w.payload = NULL;
	req->w.unmap = s->flags & VIRTIO_BLK_DWZ_F_UNMAP;
	if (req->w.type == VIRTIO_BLK_T_WRITE_ZEROES)
		req->w.op = vblk_zeroing_op(req->blk, req->w.unmap);
	else if (req->blk->no_punch)
		req->w.pos = req->w.end;	/* discarding is advisory: nothing to do */
	else
		req->w.op = AIO_DISCARD;
}

/* Zeroes for AIO_WRITE where fallocate cannot zero, in up to VBLK_IOV_MAX chunks. */
static int vblk_submit_zeroes(struct vblk_req *req, uint64_t left)
{
	struct virtio_blk *blk = req->blk;
	unsigned n = 0;

	if (!blk->zeroes) {
		/* Aligned, so it serves O_DIRECT too. */
		if (posix_memalign(&blk->zeroes, 4096, VBLK_CHUNK))
			return -ENOMEM;
		memset(blk->zeroes, 0, VBLK_CHUNK);
	}
	while (left && n < VBLK_IOV_MAX) {
		uint64_t take = left < VBLK_CHUNK ? left : VBLK_CHUNK;

		req->io_iov[n++] = (struct iovec){ blk->zeroes, take };
		left -= take;
	}
	return vblk_submit(req, AIO_WRITE, n, req->w.pos, 0);
}

/* Through the bounce buffer: one chunk, copied in before a write (out after a read). */
static int vblk_submit_bounce(struct vblk_req *req, uint64_t left)
{
	uint64_t chunk = left < VBLK_CHUNK ? left : VBLK_CHUNK;

	if (!req->buf && posix_memalign(&req->buf, 4096, VBLK_CHUNK))
		return -ENOMEM;
	if (req->w.op == AIO_WRITE)
		dma_sg_from(req->w.payload, req->w.payload_off, req->buf, chunk);
	req->io_iov[0] = (struct iovec){ req->buf, chunk };
	return vblk_submit(req, req->w.op, 1, req->w.pos, 0);
}

static int vblk_submit_range(struct vblk_req *req)
{
	uint64_t left = req->w.end - req->w.pos;
	unsigned n;

	if (req->w.op == AIO_DISCARD || req->w.op == AIO_WRITE_ZEROES)
		return vblk_submit(req, req->w.op, 0, req->w.pos, left);
	if (!req->w.payload)
		return vblk_submit_zeroes(req, left);
	if (req->w.bounce)
		return vblk_submit_bounce(req, left);
	n = vblk_slice(req->io_iov, req->w.payload, req->w.payload_off, left);
	return vblk_submit(req, req->w.op, n, req->w.pos, 0);
}

/* Issue req's next I/O, or complete it when none is left. */
static void vblk_next(struct vblk_req *req)
{
	int ret;

	for (;;) {
		if (req->w.pos < req->w.end) {
			ret = vblk_submit_range(req);
			break;
		}
		if (req->w.next_seg < req->w.nr_segs) {
			vblk_seg_begin(req);
			continue;
		}
		if (req->w.sync) {
			req->w.sync = false;
			ret = vblk_submit(req, AIO_FLUSH, 0, 0, 0);
			break;
		}
		vblk_finish(req, VIRTIO_BLK_S_OK);
		return;
	}
	/* Out of memory or submission slots: the guest sees an I/O error, qlite goes on. */
	if (ret < 0) {
		vblk_host_error(req, ret, vblk_op_name(req->aio.op), NULL);
		vblk_finish(req, VIRTIO_BLK_S_IOERR);
	}
}

/* One I/O of req finished with res: false when the request has failed. */
static bool vblk_advance(struct vblk_req *req, int res)
{
	struct virtio_blk *blk = req->blk;
	enum aio_op op = req->aio.op;

	/* Teardown, or a reset waiting: no further I/O, nothing copied into the guest. */
	if (blk->releasing || blk->resetting)
		return false;
	if (res == -EOPNOTSUPP && (op == AIO_DISCARD || op == AIO_WRITE_ZEROES)) {
		/* The file system cannot: remember, and zero the range another way. */
		if (op == AIO_DISCARD)
			blk->no_punch = true;
		else
			blk->no_zero_range = true;
		if (req->w.type == VIRTIO_BLK_T_DISCARD)
			req->w.pos = req->w.end;
		else
			req->w.op = vblk_zeroing_op(blk, req->w.unmap);
		return true;
	}
	if (res < 0) {
		vblk_host_error(req, res, vblk_op_name(op), NULL);
		return false;
	}
	if (op == AIO_FLUSH)
		return true;
	if (op == AIO_DISCARD || op == AIO_WRITE_ZEROES) {
		req->w.pos = req->w.end;
		return true;
	}
	/* Nothing moved (the image shrank under us), or more than asked: give up. */
	if (!res || (uint64_t)res > req->w.end - req->w.pos) {
		vblk_host_error(req, -EIO, vblk_op_name(op),
				res ? "more bytes than asked" : "the file ends there (did it shrink?)");
		return false;
	}
	if (req->w.bounce && op == AIO_READ)
		dma_sg_to(req->w.payload, req->w.payload_off, req->buf, res);
	req->w.pos += res;
	req->w.payload_off += res;
	return true;
}

static void vblk_serve(struct virtio_blk *blk, unsigned q);

/* A queue that stopped at its cap of requests goes on once one has completed. */
static void vblk_resume(struct virtio_blk *blk, unsigned q)
{
	struct vblk_queue *bq = &blk->queues[q];

	if (!bq->starved || blk->releasing || blk->resetting || !virtio_device_live(&blk->vdev))
		return;
	bq->starved = false;
	vblk_serve(blk, q);
}

/* On the I/O thread, without the device's lock. */
static void vblk_aio_done(struct aio_req *aio, int res)
{
	struct vblk_req *req = aio->opaque;
	struct virtio_blk *blk = req->blk;
	unsigned q = req->q;

	virtio_device_lock(&blk->vdev);
	blk->io_thread = pthread_self();
	blk->io_thread_seen = true;
	blk->aio_inflight--;
	if (vblk_advance(req, res))
		vblk_next(req);
	else
		vblk_finish(req, VIRTIO_BLK_S_IOERR);
	vblk_resume(blk, q);
	virtio_device_unlock(&blk->vdev);
}

/* ---- parsing a request ---- */

static int vblk_parse_rw(struct vblk_req *req, uint64_t sector, const struct dma_sg *payload,
			 uint64_t skip, uint64_t len)
{
	struct virtio_blk *blk = req->blk;
	unsigned n;

	if (len % SECTOR || !vblk_range_ok(blk, sector, len / SECTOR))
		return VIRTIO_BLK_S_IOERR;
	req->w.op = req->w.type == VIRTIO_BLK_T_IN ? AIO_READ : AIO_WRITE;
	req->w.pos = sector * SECTOR;
	req->w.end = req->w.pos + len;
	req->w.payload = payload;
	req->w.payload_off = skip;
	req->w.bytes = len;
	if (req->w.type == VIRTIO_BLK_T_IN)
		req->w.used_len = len + 1;
	if (blk->direct && len) {
		n = vblk_slice(req->io_iov, payload, skip, len);
		req->w.bounce = !vblk_aligned(req->io_iov, n);
		if (req->w.bounce)
			stat_add(&blk->stats.bounced, 1);
	}
	return VBLK_RUN;
}

static int vblk_parse_get_id(struct vblk_req *req)
{
	const struct dma_sg *in = &req->elem.in;
	uint64_t n = in->bytes - 1;

	stat_add(&req->blk->stats.get_ids, 1);
	if (n > VIRTIO_BLK_ID_BYTES)
		n = VIRTIO_BLK_ID_BYTES;
	dma_sg_to(in, 0, req->blk->serial, n);
	req->w.used_len = n + 1;
	return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: all segments are copied and checked before any is done. */
static int vblk_parse_dwz(struct vblk_req *req)
{
	struct virtio_blk *blk = req->blk;
	const struct dma_sg *out = &req->elem.out;
	bool discard = req->w.type == VIRTIO_BLK_T_DISCARD;
	uint64_t len = out->bytes - sizeof(struct virtio_blk_outhdr);
	uint64_t n = len / sizeof(struct virtio_blk_dwz);

	stat_add(discard ? &blk->stats.discards : &blk->stats.write_zeroes, 1);
	/* Not offered on a read-only disk; a driver must not send what it did not accept. */
	if (!virtio_feature_on(&blk->vdev, discard ? VIRTIO_BLK_F_DISCARD :
						    VIRTIO_BLK_F_WRITE_ZEROES))
		return VIRTIO_BLK_S_UNSUPP;
	if (!len || len % sizeof(struct virtio_blk_dwz))
		return VIRTIO_BLK_S_IOERR;
	if (n > VIRTIO_BLK_DWZ_SEG_MAX)
		return VIRTIO_BLK_S_UNSUPP;
	dma_sg_from(out, sizeof(struct virtio_blk_outhdr), req->w.segs, len);
	for (unsigned i = 0; i < n; i++) {
		const struct virtio_blk_dwz *s = &req->w.segs[i];

		/* 5.2.6.2: unknown flags, and unmap on a discard, are unsupported. */
		if (s->flags & ~(discard ? 0 : VIRTIO_BLK_DWZ_F_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (s->num_sectors > VIRTIO_BLK_DWZ_SECTORS_MAX ||
		    !vblk_range_ok(blk, s->sector, s->num_sectors))
			return VIRTIO_BLK_S_IOERR;
	}
	req->w.nr_segs = n;
	req->w.sync = blk->writethrough;
	return VBLK_RUN;
}

/* Check a chain: VBLK_RUN when it has I/O to do, else the status to complete it with. */
static int vblk_parse(struct vblk_req *req)
{
	struct virtio_blk *blk = req->blk;
	const struct dma_sg *out = &req->elem.out, *in = &req->elem.in;
	struct virtio_blk_outhdr hdr;
	const struct iovec *last;

	/* No device-writable byte: nothing can say how it went. */
	if (!in->bytes)
		return VIRTIO_BLK_S_IOERR;
	last = &in->iov[in->n - 1];
	req->w.status = (uint8_t *)last->iov_base + last->iov_len - 1;
	req->w.used_len = 1;
	if (out->bytes < sizeof(hdr))
		return VIRTIO_BLK_S_IOERR;
	/* One copy: the driver may rewrite the header while we work. */
	dma_sg_from(out, 0, &hdr, sizeof(hdr));
	req->w.type = hdr.type;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		stat_add(&blk->stats.reads, 1);
		return vblk_parse_rw(req, hdr.sector, in, 0, in->bytes - 1);
	case VIRTIO_BLK_T_OUT:
		stat_add(&blk->stats.writes, 1);
		/* 5.2.6.2: IOERR, and no data written. */
		if (blk->readonly)
			return VIRTIO_BLK_S_IOERR;
		req->w.sync = blk->writethrough;
		return vblk_parse_rw(req, hdr.sector, out, sizeof(hdr), out->bytes - sizeof(hdr));
	case VIRTIO_BLK_T_FLUSH:
		stat_add(&blk->stats.flushes, 1);
		/* Completed only once fdatasync has returned; nothing to sync read-only. */
		req->w.sync = !blk->readonly;
		return VBLK_RUN;
	case VIRTIO_BLK_T_GET_ID:
		return vblk_parse_get_id(req);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return vblk_parse_dwz(req);
	}
	return VIRTIO_BLK_S_UNSUPP;
}

/* ---- the device's ops ---- */

/* Pop and start what queue q has, as one batch. */
static void vblk_serve(struct virtio_blk *blk, unsigned q)
{
	struct virtq *vq = virtio_queue(&blk->vdev, q);
	struct vblk_queue *bq = &blk->queues[q];
	struct vblk_batch *batch = malloc(sizeof(*batch));
	struct vblk_req *req;
	int status;

	if (batch)
		batch->pending = 1;
	for (;;) {
		/*
		 * More than the ring holds can only be a driver that reuses chains it
		 * has not got back; stop there and go on as requests complete.
		 */
		req = bq->inflight < vq->size ? vblk_req_get(blk) : NULL;
		if (!req) {
			bq->starved = true;
			break;
		}
		virtq_elem_init(&req->elem, req->out_iov, VBLK_IOV_MAX, req->in_iov, VBLK_IOV_MAX);
		if (virtq_pop(vq, &req->elem) <= 0) {
			vblk_req_put(blk, req);
			break;
		}
		memset(&req->w, 0, sizeof(req->w));
		req->batch = batch;
		req->q = q;
		bq->inflight++;
		if (batch)
			batch->pending++;
		status = vblk_parse(req);
		if (status == VBLK_RUN)
			vblk_next(req);
		else
			vblk_finish(req, status);
	}
	vblk_batch_put(blk, batch, q);
}

static void vblk_queue_notify(struct virtio_device *vdev, unsigned q)
{
	struct virtio_blk *blk = vdev->priv;

	blk->io_thread = pthread_self();
	blk->io_thread_seen = true;
	/* A kick while a reset waits: the rings are about to go, nothing is popped. */
	if (!blk->resetting)
		vblk_serve(blk, q);
}

static void vblk_config_read(struct virtio_device *vdev, uint32_t offset, void *data, unsigned len)
{
	struct virtio_blk *blk = vdev->priv;

	memcpy(data, (const uint8_t *)&blk->config + offset, len);
}

static int vblk_activate(struct virtio_device *vdev)
{
	struct virtio_blk *blk = vdev->priv;

	/* 5.2.6.2: FLUSH offered and not negotiated: each write is stable when completed. */
	blk->writethrough = !blk->readonly && !virtio_feature_on(vdev, VIRTIO_BLK_F_FLUSH);
	return 0;
}

static bool vblk_past(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/*
 * Status 0 (device lock held, on the vCPU that wrote it): wait until every
 * popped request is finished. The wait gives up the device lock, so the
 * I/O thread's completions get through; they drop their requests. A
 * request the kernel holds past VBLK_DRAIN_MS is said once: its completion
 * still writes nothing of qlite's into the rings (the epoch), but a read
 * the kernel finishes later lands in the buffers the driver gave it.
 */
static void vblk_reset(struct virtio_device *vdev)
{
	struct virtio_blk *blk = vdev->priv;
	/* Only the unit tests and the fuzzer reset from the loop's own thread: serve it here. */
	bool on_io_thread = blk->io_thread_seen && pthread_equal(blk->io_thread, pthread_self());
	struct timespec deadline;

	blk->resetting = true;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += VBLK_DRAIN_MS / 1000;
	while (vblk_popped(blk) && !vblk_past(&deadline)) {
		if (!on_io_thread) {
			pthread_cond_timedwait(&blk->drained, &vdev->lock, &deadline);
			continue;
		}
		virtio_device_unlock(vdev);
		event_loop_run_once(blk->m->loop, 10);
		virtio_device_lock(vdev);
	}
	if (vblk_popped(blk) && !blk->reset_timeout_told) {
		blk->reset_timeout_told = true;
		report(-ETIMEDOUT, "%s: reset: %u requests still in flight after %u s; they are "
		       "dropped, but a read the host finishes later still fills its buffer",
		       blk->info.name, vblk_popped(blk), VBLK_DRAIN_MS / 1000);
	}
	blk->resetting = false;
	for (unsigned q = 0; q < VIRTIO_BLK_MAX_QUEUES; q++)
		blk->queues[q].starved = false;
	blk->writethrough = false;
}

/* The request counters, after the transport's path and the core's queue counters. */
static void vblk_report(struct virtio_device *vdev, struct device_report *out)
{
	struct virtio_blk_stats st;

	virtio_blk_get_stats(vdev->priv, &st);
	device_report_add(out, "reads", st.reads);
	device_report_add(out, "writes", st.writes);
	device_report_add(out, "flushes", st.flushes);
	device_report_add(out, "discards", st.discards);
	device_report_add(out, "write_zeroes", st.write_zeroes);
	device_report_add(out, "get_ids", st.get_ids);
	device_report_add(out, "read_bytes", st.read_bytes);
	device_report_add(out, "write_bytes", st.write_bytes);
	device_report_add(out, "errors", st.errors);
	device_report_add(out, "bounced", st.bounced);
	device_report_add(out, "dropped", st.dropped);
}

static const struct virtio_device_ops vblk_ops = {
	.config_read = vblk_config_read,
	.queue_notify = vblk_queue_notify,
	.activate = vblk_activate,
	.reset = vblk_reset,
	.report = vblk_report,
};

/* Teardown with I/O in flight: let it finish, so no worker touches freed requests. */
static void vblk_drain(struct virtio_blk *blk)
{
	for (unsigned waited = 0; blk->aio_inflight && waited < VBLK_DRAIN_MS; waited += 100)
		if (event_loop_run_once(blk->m->loop, 100) < 0)
			break;
}

static void virtio_blk_release(void *state)
{
	struct virtio_blk *blk = state;
	struct vblk_req *req;

	if (blk->inited) {
		/* The transport went first (adopted after us): nothing may reach it now. */
		virtio_device_lock(&blk->vdev);
		blk->releasing = true;
		virtio_device_set_transport(&blk->vdev, NULL, NULL);
		virtio_device_unlock(&blk->vdev);
		if (blk->m->loop)
			vblk_drain(blk);
	}
	if (blk->aio_inflight) {
		/* The kernel still has our buffers: leave them and the file to the exit. */
		report(-EBUSY, "%s: %u I/O still in flight after %u s; left to the exit",
		       blk->info.name, blk->aio_inflight, VBLK_DRAIN_MS / 1000);
		return;
	}
	while ((req = blk->free_reqs)) {
		blk->free_reqs = req->next_free;
		free(req->buf);
		free(req);
	}
	free(blk->zeroes);
	block_image_close(blk->img);
	blk->img = NULL;
	virtio_device_destroy(&blk->vdev);
	pthread_cond_destroy(&blk->drained);
	free(blk);
}

/* ---- construction ---- */

static int vblk_check_opts(const struct virtio_blk_opts *o)
{
	if (!o->file || !*o->file)
		return report(-EINVAL, "virtio-blk: no image: add `file PATH`");
	if (o->queues > VIRTIO_BLK_MAX_QUEUES)
		return report(-EINVAL, "virtio-blk: queues %u: at most %u", o->queues,
			      VIRTIO_BLK_MAX_QUEUES);
	if (!o->serial)
		return 0;
	if (strlen(o->serial) > VIRTIO_BLK_ID_BYTES)
		return report(-EINVAL, "virtio-blk: serial \"%s\" is longer than %u characters",
			      o->serial, VIRTIO_BLK_ID_BYTES);
	for (const char *c = o->serial; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return report(-EINVAL, "virtio-blk: serial: printable ASCII only");
	return 0;
}

static void vblk_fill_config(struct virtio_blk *blk, unsigned queues)
{
	struct virtio_blk_config *c = &blk->config;

	c->capacity = blk->img->sectors;
	c->size_max = VIRTIO_BLK_SIZE_MAX;
	c->seg_max = VIRTIO_BLK_SEG_MAX;
	c->blk_size = SECTOR;
	/* 4 KiB physical blocks: guests then align to the host's pages and file system blocks. */
	c->physical_block_exp = 3;
	c->min_io_size = 1 << c->physical_block_exp;
	c->num_queues = queues;
	if (blk->readonly)
		return;
	c->max_discard_sectors = VIRTIO_BLK_DWZ_SECTORS_MAX;
	c->max_discard_seg = VIRTIO_BLK_DWZ_SEG_MAX;
	c->discard_sector_alignment = 4096 / SECTOR;
	c->max_write_zeroes_sectors = VIRTIO_BLK_DWZ_SECTORS_MAX;
	c->max_write_zeroes_seg = VIRTIO_BLK_DWZ_SEG_MAX;
	c->write_zeroes_may_unmap = 1;
}

static uint64_t vblk_features(bool readonly, unsigned queues)
{
	uint64_t f = VIRTIO_F_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_F_BIT(VIRTIO_BLK_F_SEG_MAX) |
		     VIRTIO_F_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_F_BIT(VIRTIO_BLK_F_TOPOLOGY) |
		     VIRTIO_F_BIT(VIRTIO_BLK_F_FLUSH);

	if (readonly)
		f |= VIRTIO_F_BIT(VIRTIO_BLK_F_RO);
	else
		f |= VIRTIO_F_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_F_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	if (queues > 1)
		f |= VIRTIO_F_BIT(VIRTIO_BLK_F_MQ);
	return f;
}

/* A reset's deadline is on the monotonic clock: a step of the wall clock moves nothing. */
static void vblk_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &ca);
	pthread_condattr_destroy(&ca);
}

int virtio_blk_create(struct machine *m, const struct virtio_blk_opts *o,
		      struct virtio_blk **out)
{
	unsigned queues = o->queues ? o->queues : 1;
	struct virtio_blk *blk;
	int ret;

	ret = vblk_check_opts(o);
	if (ret)
		return ret;
	blk = machine_alloc_device(m, sizeof(*blk), virtio_blk_release);
	if (!blk)
		return report(-ENOMEM, "virtio-blk: out of memory");
	vblk_cond_init(&blk->drained);
	blk->m = m;
	blk->readonly = o->readonly;
	blk->direct = o->direct;
	/* NUL-padded, without a terminator at 20 characters (5.2.6). */
	if (o->serial)
		memcpy(blk->serial, o->serial, strlen(o->serial));
	ret = block_image_open(&blk->img, o->file, o->readonly, o->direct);
	if (ret)
		return ret;
	vblk_fill_config(blk, queues);
	for (unsigned q = 0; q < queues; q++)
		blk->queue_sizes[q] = VIRTIO_BLK_QUEUE_SIZE;
	blk->info = (struct virtio_device_info){
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.features = vblk_features(o->readonly, queues),
		.config_size = sizeof(blk->config),
		.nr_queues = queues,
		.queue_max_sizes = blk->queue_sizes,
		.ops = &vblk_ops,
	};
	ret = virtio_device_init(&blk->vdev, &blk->info, m->mem, blk);
	if (ret)
		return ret;
	blk->inited = true;
	*out = blk;
	return 0;
}

struct virtio_device *virtio_blk_device(struct virtio_blk *blk)
{
	return &blk->vdev;
}

void virtio_blk_get_stats(const struct virtio_blk *blk, struct virtio_blk_stats *out)
{
	const struct virtio_blk_stats *s = &blk->stats;

	*out = (struct virtio_blk_stats){
		.reads = stat_read(&s->reads),
		.writes = stat_read(&s->writes),
		.flushes = stat_read(&s->flushes),
		.discards = stat_read(&s->discards),
		.write_zeroes = stat_read(&s->write_zeroes),
		.get_ids = stat_read(&s->get_ids),
		.read_bytes = stat_read(&s->read_bytes),
		.write_bytes = stat_read(&s->write_bytes),
		.errors = stat_read(&s->errors),
		.bounced = stat_read(&s->bounced),
		.dropped = stat_read(&s->dropped),
	};
}
