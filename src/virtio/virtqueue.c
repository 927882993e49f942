// SPDX-License-Identifier: GPL-2.0-only
/*
 * Split virtqueues (virtio 1.2, 2.7) over guest RAM. The driver owns the
 * descriptor table and the avail ring and may change them at any moment
 * from another vCPU, so every value is read once into a local, checked,
 * and only the checked copy is used: a head or next index against the
 * table, a buffer or an indirect table against RAM (through dma_sg), an
 * avail idx against what can be pending. The first violation breaks the
 * queue; a broken queue touches guest RAM no more until it is reset.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qlite/stats.h"
#include "qlite/virtio.h"

/* The compiler must not re-read a value it copied out of guest RAM. */
#define barrier()	__atomic_signal_fence(__ATOMIC_SEQ_CST)
/* Stores before it are seen before loads after it (the driver does the same). */
#define full_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)

static inline uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static uint16_t *used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->size];
}

static uint16_t *avail_event(struct virtq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

static int __attribute__((format(printf, 2, 3))) virtq_break(struct virtq *vq, const char *fmt, ...)
{
	va_list ap;

	if (vq->broken)
		return -EIO;
	vq->broken = true;
	va_start(ap, fmt);
	vsnprintf(vq->why, sizeof(vq->why), fmt, ap);
	va_end(ap);
	if (vq->on_broken)
		vq->on_broken(vq->opaque, vq);
	return -EIO;
}

void virtq_init(struct virtq *vq, const struct guest_mem *mem, unsigned index, uint16_t max_size)
{
	*vq = (struct virtq){ .mem = mem, .index = index, .max_size = max_size, .epoch = 1 };
	vq->size = max_size;
}

void virtq_reset(struct virtq *vq)
{
	struct virtq keep = *vq;

	virtq_init(vq, keep.mem, keep.index, keep.max_size);
	vq->on_broken = keep.on_broken;
	vq->opaque = keep.opaque;
	vq->stats = keep.stats;
	/* Chains popped before now belong to rings the driver has let go of. */
	vq->epoch = keep.epoch + 1;
}

/* Host pointer to one area of the ring, or the queue broken. */
static void *virtq_map(struct virtq *vq, enum virtq_area area, uint64_t align, uint64_t len)
{
	static const char *const names[] = { "descriptor table", "avail ring", "used ring" };
	uint64_t gpa = vq->addr[area];
	void *p;

	if (gpa & (align - 1)) {
		virtq_break(vq, "%s at %#llx is not %llu-byte aligned", names[area],
			    (unsigned long long)gpa, (unsigned long long)align);
		return NULL;
	}
	p = guest_mem_ptr(vq->mem, gpa, len);
	if (!p)
		virtq_break(vq, "%s %#llx+%llu is outside RAM", names[area],
			    (unsigned long long)gpa, (unsigned long long)len);
	return p;
}

int virtq_enable(struct virtq *vq, uint64_t features)
{
	unsigned size = vq->size;
	/* The event words exist only with EVENT_IDX: a driver without it may end a ring at RAM's end. */
	uint64_t ev;

	if (vq->broken)
		return -EIO;
	if (!size || size & (size - 1) || size > vq->max_size) {
		virtq_break(vq, "size %u is not a power of 2 up to %u", size, vq->max_size);
		return -EINVAL;
	}
	vq->event_idx = features & VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX);
	vq->indirect = features & VIRTIO_F_BIT(VIRTIO_F_INDIRECT_DESC);
	ev = vq->event_idx ? 0 : 2;
	vq->desc = virtq_map(vq, VIRTQ_AREA_DESC, VIRTQ_DESC_ALIGN, virtq_desc_bytes(size));
	if (!vq->desc)
		return -EFAULT;
	vq->avail = virtq_map(vq, VIRTQ_AREA_AVAIL, VIRTQ_AVAIL_ALIGN, virtq_avail_bytes(size) - ev);
	if (!vq->avail)
		return -EFAULT;
	vq->used = virtq_map(vq, VIRTQ_AREA_USED, VIRTQ_USED_ALIGN, virtq_used_bytes(size) - ev);
	if (!vq->used)
		return -EFAULT;
	vq->last_avail = vq->used_idx = vq->published = 0;
	vq->inflight = 0;
	vq->no_notify = false;
	vq->enabled = true;
	return 0;
}

/* How many chains the driver has made available: -EIO when it claims more than fit. */
static int virtq_pending(struct virtq *vq)
{
	/* Acquire: the ring entries the driver wrote before this idx are read after it. */
	uint16_t idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t n = idx - vq->last_avail;

	if (n > vq->size)
		return virtq_break(vq, "avail idx %u is %u ahead of %u (size %u)", idx, n,
				   vq->last_avail, vq->size);
	return n;
}

bool virtq_has_avail(struct virtq *vq)
{
	if (!vq->enabled || vq->broken)
		return false;
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

/* Ask for a kick when the next chain comes; the caller checks the ring again after it. */
static void virtq_arm_kicks(struct virtq *vq)
{
	if (vq->event_idx) {
		store16(avail_event(vq), vq->last_avail);
	} else if (vq->no_notify) {
		store16(&vq->used->flags, 0);
		vq->no_notify = false;
	}
	/* Our store before the driver's idx load, as its idx store before its event load. */
	full_mb();
}

/* Chains are pending and will be popped without being told: no kicks meanwhile. */
static void virtq_quiet_kicks(struct virtq *vq)
{
	/* With EVENT_IDX, avail_event stays where the last arm left it: the driver is past it. */
	if (vq->event_idx || vq->no_notify)
		return;
	store16(&vq->used->flags, VIRTQ_USED_F_NO_NOTIFY);
	vq->no_notify = true;
}

static void read_desc(const uint8_t *table, unsigned i, struct virtq_desc *d)
{
	memcpy(d, table + 16ULL * i, sizeof(*d));
	barrier();
}

/* Switch the walk to the indirect table d describes. */
static int virtq_enter_indirect(struct virtq *vq, const struct virtq_desc *d,
				const uint8_t **table, uint32_t *len)
{
	if (!vq->indirect)
		return virtq_break(vq, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return virtq_break(vq, "indirect descriptor with NEXT");
	if (!d->len || d->len % sizeof(struct virtq_desc))
		return virtq_break(vq, "indirect table of %u bytes", d->len);
	*table = guest_mem_ptr(vq->mem, d->addr, d->len);
	if (!*table)
		return virtq_break(vq, "indirect table %#llx+%u is outside RAM",
				   (unsigned long long)d->addr, d->len);
	*len = d->len / sizeof(struct virtq_desc);
	return 0;
}

static int virtq_add_segment(struct virtq *vq, struct virtq_elem *e, const struct virtq_desc *d)
{
	struct dma_sg *sg = d->flags & VIRTQ_DESC_F_WRITE ? &e->in : &e->out;
	int ret;

	if (sg == &e->out && e->in.n)
		return virtq_break(vq, "chain %u: readable descriptor after a writable one", e->head);
	ret = dma_sg_add(sg, d->addr, d->len);
	if (ret == -EINVAL)
		return virtq_break(vq, "chain %u: empty descriptor", e->head);
	if (ret == -EFAULT)
		return virtq_break(vq, "chain %u: buffer %#llx+%u is outside RAM", e->head,
				   (unsigned long long)d->addr, d->len);
	if (ret == -E2BIG)
		return virtq_break(vq, "chain %u: more than %u %s segments or 4 GiB", e->head,
				   sg->max, sg == &e->in ? "writable" : "readable");
	return ret;
}

/*
 * Follow the chain from head: NEXT links within a table (the ring's, then at
 * most one indirect table), each table walked at most its length times so a
 * loop ends as a chain too long.
 */
static int virtq_walk(struct virtq *vq, uint16_t head, struct virtq_elem *e)
{
	const uint8_t *table = (const uint8_t *)vq->desc;
	uint32_t len = vq->size, walked = 0, i = head;
	bool indirect = false;
	struct virtq_desc d;
	int ret;

	e->head = head;
	e->epoch = vq->epoch;
	dma_sg_init(&e->out, vq->mem, e->out.iov, e->out.max);
	dma_sg_init(&e->in, vq->mem, e->in.iov, e->in.max);
	for (;;) {
		if (++walked > len)
			return virtq_break(vq, "chain %u: longer than its table of %u (a loop?)",
					   head, len);
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (indirect)
				return virtq_break(vq, "chain %u: indirect descriptor in an indirect table",
						   head);
			ret = virtq_enter_indirect(vq, &d, &table, &len);
			if (ret)
				return ret;
			indirect = true;
			i = walked = 0;
			continue;
		}
		ret = virtq_add_segment(vq, e, &d);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= len)
			return virtq_break(vq, "chain %u: next %u is past its table of %u", head,
					   d.next, len);
		i = d.next;
	}
}

int virtq_pop(struct virtq *vq, struct virtq_elem *e)
{
	uint16_t head;
	int n, ret;

	if (vq->broken)
		return -EIO;
	if (!vq->enabled)
		return 0;
	n = virtq_pending(vq);
	if (!n) {
		virtq_arm_kicks(vq);
		n = virtq_pending(vq);
	}
	if (n <= 0)
		return n;
	virtq_quiet_kicks(vq);
	head = load16(&vq->avail->ring[vq->last_avail & (vq->size - 1)]);
	if (head >= vq->size)
		return virtq_break(vq, "avail ring entry %u names head %u of %u",
				   vq->last_avail, head, vq->size);
	ret = virtq_walk(vq, head, e);
	if (ret)
		return ret;
	vq->last_avail++;
	vq->inflight++;
	return 1;
}

int virtq_push(struct virtq *vq, const struct virtq_elem *e, uint32_t len)
{
	struct virtq_used_elem *u;

	if (e->epoch != vq->epoch)
		return -ESTALE;
	if (vq->broken)
		return -EIO;
	if (!vq->enabled || !vq->inflight)
		return -EINVAL;
	if (len > e->in.bytes)
		len = e->in.bytes;
	u = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	__atomic_store_n(&u->id, e->head, __ATOMIC_RELAXED);
	__atomic_store_n(&u->len, len, __ATOMIC_RELAXED);
	vq->used_idx++;
	vq->inflight--;
	return 0;
}

/* Did the used idx pass the driver's used_event going from old to new? (2.7.10) */
static bool need_event(uint16_t event, uint16_t new, uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

bool virtq_flush(struct virtq *vq)
{
	uint16_t old = vq->published, new = vq->used_idx;
	bool need;

	if (!vq->enabled || vq->broken || old == new)
		return false;
	/* Release: the entries are visible before the idx that covers them. */
	__atomic_store_n(&vq->used->idx, new, __ATOMIC_RELEASE);
	vq->published = new;
	/* The idx store before the event/flags load: else a driver going to sleep is missed. */
	full_mb();
	if (vq->event_idx)
		need = need_event(load16(used_event(vq)), new, old);
	else
		need = !(load16(&vq->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	stat_add(need ? &vq->stats.interrupts : &vq->stats.suppressed, 1);
	return need;
}
