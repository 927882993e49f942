/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The driver's side of a split virtqueue, for the virtio unit tests: it
 * lays out rings in guest RAM and writes descriptors and avail entries as
 * Linux's virtio_ring.c would (or as a hostile guest would: nothing is
 * checked here). The RAM has inaccessible guard pages on both sides, so a
 * device touching a byte outside it crashes the test.
 */
#ifndef QLITE_TEST_VIRTQ_DRIVER_H
#define QLITE_TEST_VIRTQ_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "qlite/guest_mem.h"
#include "qlite/virtio.h"

/* RAM of size bytes (a multiple of 4 KiB) at guest address 0, between guard pages. */
int guarded_mem_init(struct guest_mem *gm, uint64_t size);
/* Every iovec of the element lies inside gm's RAM. */
bool elem_in_ram(const struct guest_mem *gm, const struct virtq_elem *e);

/*
 * The transport the device-side unit tests attach (no PCI, no MMIO): it
 * counts the device's interrupts in the struct test_irqs given as its
 * transport_priv.
 */
#define TEST_IRQS_MAX_QUEUES	8
struct test_irqs {
	unsigned queue[TEST_IRQS_MAX_QUEUES];
	unsigned config;
};
extern const struct virtio_transport_ops test_counting_transport;

struct test_ring {
	struct guest_mem *gm;
	unsigned size;
	uint64_t desc, avail, used;	/* guest addresses */
	uint16_t avail_idx;		/* the driver's shadow of avail->idx */
};

/* Rings of size entries from gpa base (desc, avail, then used 4-aligned), zeroed. */
void tr_init(struct test_ring *r, struct guest_mem *gm, unsigned size, uint64_t base);
/* Give the ring's size and addresses to a queue, as a transport would. */
void tr_attach(const struct test_ring *r, struct virtq *vq);
/* Write descriptor i of the ring, or of a table at gpa (tr_set_table_desc). */
void tr_set_desc(struct test_ring *r, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next);
void tr_set_table_desc(struct test_ring *r, uint64_t table, unsigned i, uint64_t addr,
		       uint32_t len, uint16_t flags, uint16_t next);
/*
 * The driver's side of 3.1.1 through the core's entry points, as a
 * transport would make them: reset, features, queues 0..nq-1 of size
 * entries with rings r[q] at base + q * 0x1000 (tr_init), DRIVER_OK.
 * false when the device refused FEATURES_OK, a queue or DRIVER_OK.
 */
bool tr_go_live(struct virtio_device *v, struct test_ring *r, struct guest_mem *gm,
		uint64_t features, unsigned nq, unsigned size, uint64_t base);
/* Put head in the next avail slot and publish the new avail idx. */
void tr_make_avail(struct test_ring *r, uint16_t head);
/* Set avail->idx to any value (a hostile driver). */
void tr_set_avail_idx(struct test_ring *r, uint16_t idx);

struct virtq_avail *tr_avail(const struct test_ring *r);
struct virtq_used *tr_used(const struct test_ring *r);
uint16_t *tr_used_event(const struct test_ring *r);
uint16_t tr_avail_event(const struct test_ring *r);

#endif
