// SPDX-License-Identifier: GPL-2.0-only
/* The driver's side of a split virtqueue for the unit tests; see virtq_driver.h. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "qlite/util.h"
#include "virtq_driver.h"

#define GUARD	4096

int guarded_mem_init(struct guest_mem *gm, uint64_t size)
{
	uint8_t *map;

	guest_mem_layout(gm, size);
	map = mmap(NULL, size + 2 * GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -errno;
	if (mprotect(map + GUARD, size, PROT_READ | PROT_WRITE)) {
		munmap(map, size + 2 * GUARD);
		return -errno;
	}
	/* guest_mem_destroy() unmaps map/map_size: the guards go with it. */
	gm->map = map;
	gm->map_size = size + 2 * GUARD;
	gm->slots[0].hva = map + GUARD;
	return 0;
}

static void count_queue_interrupt(struct virtio_device *vdev, unsigned q)
{
	struct test_irqs *irqs = vdev->transport_priv;

	if (q < TEST_IRQS_MAX_QUEUES)
		irqs->queue[q]++;
}

static void count_config_interrupt(struct virtio_device *vdev)
{
	struct test_irqs *irqs = vdev->transport_priv;

	irqs->config++;
}

const struct virtio_transport_ops test_counting_transport = {
	.queue_interrupt = count_queue_interrupt,
	.config_interrupt = count_config_interrupt,
};

bool elem_in_ram(const struct guest_mem *gm, const struct virtq_elem *e)
{
	const struct dma_sg *sgs[] = { &e->out, &e->in };
	const uint8_t *lo = gm->slots[0].hva, *hi = lo + gm->slots[0].size;

	for (unsigned s = 0; s < 2; s++) {
		for (unsigned i = 0; i < sgs[s]->n; i++) {
			const uint8_t *b = sgs[s]->iov[i].iov_base;

			if (b < lo || b > hi || sgs[s]->iov[i].iov_len > (size_t)(hi - b))
				return false;
		}
	}
	return true;
}

static void *gpa_ptr(const struct test_ring *r, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(r->gm, gpa, len);
}

void tr_init(struct test_ring *r, struct guest_mem *gm, unsigned size, uint64_t base)
{
	*r = (struct test_ring){ .gm = gm, .size = size, .desc = base };
	r->avail = r->desc + virtq_desc_bytes(size);
	r->used = ALIGN_UP(r->avail + virtq_avail_bytes(size), (uint64_t)VIRTQ_USED_ALIGN);
	memset(gpa_ptr(r, base, r->used + virtq_used_bytes(size) - base), 0,
	       r->used + virtq_used_bytes(size) - base);
}

void tr_attach(const struct test_ring *r, struct virtq *vq)
{
	vq->size = r->size;
	vq->addr[VIRTQ_AREA_DESC] = r->desc;
	vq->addr[VIRTQ_AREA_AVAIL] = r->avail;
	vq->addr[VIRTQ_AREA_USED] = r->used;
}

void tr_set_table_desc(struct test_ring *r, uint64_t table, unsigned i, uint64_t addr,
		       uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(gpa_ptr(r, table + 16ULL * i, 16), &d, sizeof(d));
}

void tr_set_desc(struct test_ring *r, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	tr_set_table_desc(r, r->desc, i, addr, len, flags, next);
}

struct virtq_avail *tr_avail(const struct test_ring *r)
{
	return gpa_ptr(r, r->avail, virtq_avail_bytes(r->size));
}

struct virtq_used *tr_used(const struct test_ring *r)
{
	return gpa_ptr(r, r->used, virtq_used_bytes(r->size));
}

uint16_t *tr_used_event(const struct test_ring *r)
{
	return &tr_avail(r)->ring[r->size];
}

uint16_t tr_avail_event(const struct test_ring *r)
{
	uint16_t v;

	memcpy(&v, &tr_used(r)->ring[r->size], sizeof(v));
	return v;
}

void tr_make_avail(struct test_ring *r, uint16_t head)
{
	struct virtq_avail *a = tr_avail(r);

	a->ring[r->avail_idx % r->size] = head;
	__atomic_store_n(&a->idx, ++r->avail_idx, __ATOMIC_RELEASE);
}

void tr_set_avail_idx(struct test_ring *r, uint16_t idx)
{
	r->avail_idx = idx;
	__atomic_store_n(&tr_avail(r)->idx, idx, __ATOMIC_RELEASE);
}

bool tr_go_live(struct virtio_device *v, struct test_ring *r, struct guest_mem *gm,
		uint64_t features, unsigned nq, unsigned size, uint64_t base)
{
	virtio_set_status(v, 0);
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	virtio_set_driver_features(v, 0, (uint32_t)features);
	virtio_set_driver_features(v, 1, (uint32_t)(features >> 32));
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			     VIRTIO_STATUS_FEATURES_OK);
	if (!(virtio_get_status(v) & VIRTIO_STATUS_FEATURES_OK))
		return false;
	for (unsigned q = 0; q < nq; q++) {
		tr_init(&r[q], gm, size, base + q * 0x1000);
		virtio_queue_set_size(v, q, size);
		virtio_queue_set_addr(v, q, VIRTQ_AREA_DESC, r[q].desc);
		virtio_queue_set_addr(v, q, VIRTQ_AREA_AVAIL, r[q].avail);
		virtio_queue_set_addr(v, q, VIRTQ_AREA_USED, r[q].used);
		virtio_queue_set_enable(v, q, true);
		if (!virtio_queue(v, q)->enabled)
			return false;
	}
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return virtio_device_live(v);
}
