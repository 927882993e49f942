// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for split virtqueues: the guest's RAM, the ring
 * addresses and size, the negotiated features and a script of device and
 * driver steps all come from the input. RAM is two heap buffers (ASan
 * redzones around both) at guest addresses 0 and 4 GiB, with the PCI hole
 * between, so any access outside RAM is caught. After every step:
 *   - a popped chain lies in RAM, its totals match its segments, and the
 *     device may write all of its writable bytes and read all readable ones;
 *   - a pop that fails leaves the queue broken, told to its owner once;
 *   - a broken queue gives nothing more and publishes nothing.
 *
 * Input: 9 header bytes, then the script, then the RAM image (zero beyond).
 *   [0]    size: bit 7 set: the low 7 bits as is (mostly invalid), else 1 << (b & 7)
 *   [1]    features: bit 0 EVENT_IDX, bit 1 INDIRECT_DESC
 *   [2..7] desc, avail, used: u16 v -> (v & 0x7fff) + (v & 0x8000 ? 4 GiB : 0)
 *   [8]    script length (& 63), one byte per step and its argument bytes
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/virtio.h"

#define LOW_SIZE	0x4000
#define HIGH_SIZE	0x1000
#define HDR		9
#define NR_HELD		4
#define MAX_SEGS	16

struct fuzz {
	struct guest_mem gm;
	struct virtq vq;
	struct virtq_elem held[NR_HELD + 1];	/* the last one for chains not held */
	struct iovec iov[NR_HELD + 1][2][MAX_SEGS];
	unsigned nr_held;
	unsigned breaks;
	const uint8_t *script;
	size_t script_len, pos;
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtqueue: %s\n", what);
	abort();
}

static void on_broken(void *opaque, struct virtq *vq)
{
	struct fuzz *f = opaque;

	if (!vq->broken || !vq->why[0])
		die("broken hook without a broken queue");
	f->breaks++;
}

static uint8_t next_byte(struct fuzz *f)
{
	return f->pos < f->script_len ? f->script[f->pos++] : 0;
}

static bool in_ram(const struct guest_mem *gm, const struct iovec *iov)
{
	for (unsigned i = 0; i < gm->nr_slots; i++) {
		const uint8_t *lo = gm->slots[i].hva, *b = iov->iov_base;

		if (b >= lo && b < lo + gm->slots[i].size &&
		    iov->iov_len <= gm->slots[i].size - (size_t)(b - lo))
			return true;
	}
	return false;
}

/* What a device does with a chain: read every readable byte, fill every writable one. */
static void check_elem(struct fuzz *f, const struct virtq_elem *e)
{
	const struct dma_sg *sgs[] = { &e->out, &e->in };
	static uint8_t buf[1 << 16];

	if (e->head >= f->vq.size)
		die("head past the table");
	for (unsigned s = 0; s < 2; s++) {
		uint64_t sum = 0;

		for (unsigned i = 0; i < sgs[s]->n; i++) {
			if (!in_ram(&f->gm, &sgs[s]->iov[i]) || !sgs[s]->iov[i].iov_len)
				die("segment outside RAM or empty");
			sum += sgs[s]->iov[i].iov_len;
		}
		if (sum != sgs[s]->bytes)
			die("segment total");
	}
	dma_sg_from(&e->out, 0, buf, sizeof(buf));
	for (unsigned i = 0; i < e->in.n; i++)
		memset(e->in.iov[i].iov_base, 0xa5, e->in.iov[i].iov_len);
}

static void step_pop(struct fuzz *f, bool hold)
{
	unsigned slot = hold && f->nr_held < NR_HELD ? f->nr_held : NR_HELD;
	struct virtq_elem *e = &f->held[slot];
	bool was_broken = f->vq.broken;
	unsigned breaks = f->breaks;
	int ret;

	virtq_elem_init(e, f->iov[slot][0], MAX_SEGS, f->iov[slot][1], MAX_SEGS);
	ret = virtq_pop(&f->vq, e);
	if (ret < 0) {
		if (!f->vq.broken || f->breaks != breaks + !was_broken)
			die("a failed pop without exactly one break");
		return;
	}
	if (f->vq.broken)
		die("pop succeeded on a broken queue");
	if (!ret)
		return;
	check_elem(f, e);
	if (slot < NR_HELD)
		f->nr_held++;
	else
		virtq_push(&f->vq, e, (uint32_t)next_byte(f) << 6);
}

static void step(struct fuzz *f, uint8_t op)
{
	switch (op & 7) {
	case 0:
	case 1:
		step_pop(f, op & 8);
		break;
	case 2:
		if (virtq_flush(&f->vq) && f->vq.broken)
			die("interrupt from a broken queue");
		break;
	case 3:
		/* The driver makes more available (or rewinds) while the device works. */
		if (f->vq.avail)
			__atomic_store_n(&f->vq.avail->idx, f->vq.avail->idx + (int8_t)next_byte(f),
					 __ATOMIC_RELEASE);
		break;
	case 4: {
		/* The driver scribbles a byte anywhere in low RAM (descriptors it already gave). */
		unsigned off = (next_byte(f) << 8 | next_byte(f)) % LOW_SIZE;

		f->gm.slots[0].hva[off] = next_byte(f);
		break;
	}
	case 5:
		if (f->nr_held) {
			f->nr_held--;
			virtq_push(&f->vq, &f->held[f->nr_held], next_byte(f));
		}
		break;
	case 6: {
		/* Reset and enable again: what was held is stale now. */
		uint64_t features = f->vq.event_idx ? VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX) : 0;
		uint16_t size = f->vq.size;
		uint64_t addr[3];

		features |= f->vq.indirect ? VIRTIO_F_BIT(VIRTIO_F_INDIRECT_DESC) : 0;
		memcpy(addr, f->vq.addr, sizeof(addr));
		virtq_reset(&f->vq);
		f->vq.size = size;
		memcpy(f->vq.addr, addr, sizeof(addr));
		virtq_enable(&f->vq, features);
		for (unsigned i = 0; i < f->nr_held; i++)
			if (virtq_push(&f->vq, &f->held[i], 1) != -ESTALE)
				die("a chain from before the reset was completed");
		f->nr_held = 0;
		break;
	}
	case 7:
		if (virtq_has_avail(&f->vq) && f->vq.broken)
			die("a broken queue has buffers");
		break;
	}
}

static uint64_t ring_addr(const uint8_t *p)
{
	uint16_t v = p[0] | p[1] << 8;

	return (v & 0x7fff) + (v & 0x8000 ? PCI_HOLE_END : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *low, *high;
	static struct fuzz f;
	uint64_t features = 0;
	size_t image;

	if (size < HDR)
		return 0;
	if (!low) {
		low = malloc(LOW_SIZE);
		high = malloc(HIGH_SIZE);
		if (!low || !high)
			die("out of memory");
	}
	memset(&f, 0, sizeof(f));
	f.gm.nr_slots = 2;
	f.gm.ram_size = LOW_SIZE + HIGH_SIZE;
	f.gm.memfd = -1;
	f.gm.slots[0] = (struct guest_mem_slot){ .gpa = 0, .size = LOW_SIZE, .hva = low };
	f.gm.slots[1] = (struct guest_mem_slot){ .gpa = PCI_HOLE_END, .size = HIGH_SIZE,
						 .hva = high };
	f.script = data + HDR;
	f.script_len = data[8] & 63;
	if (f.script_len > size - HDR)
		f.script_len = size - HDR;
	image = size - HDR - f.script_len;
	memset(low, 0, LOW_SIZE);
	memset(high, 0, HIGH_SIZE);
	memcpy(low, f.script + f.script_len, image < LOW_SIZE ? image : LOW_SIZE);
	if (image > LOW_SIZE)
		memcpy(high, f.script + f.script_len + LOW_SIZE,
		       image - LOW_SIZE < HIGH_SIZE ? image - LOW_SIZE : HIGH_SIZE);

	virtq_init(&f.vq, &f.gm, 0, 128);
	f.vq.on_broken = on_broken;
	f.vq.opaque = &f;
	f.vq.size = data[0] & 0x80 ? data[0] & 0x7f : 1u << (data[0] & 7);
	f.vq.addr[VIRTQ_AREA_DESC] = ring_addr(data + 2);
	f.vq.addr[VIRTQ_AREA_AVAIL] = ring_addr(data + 4);
	f.vq.addr[VIRTQ_AREA_USED] = ring_addr(data + 6);
	if (data[1] & 1)
		features |= VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX);
	if (data[1] & 2)
		features |= VIRTIO_F_BIT(VIRTIO_F_INDIRECT_DESC);
	if (virtq_enable(&f.vq, features) && (!f.vq.broken || f.breaks != 1))
		die("a refused enable without exactly one break");

	while (f.pos < f.script_len)
		step(&f, next_byte(&f));
	/* Whatever the script left: drain what the ring still offers. */
	for (unsigned i = 0; i < 256 && !f.vq.broken; i++) {
		f.nr_held = 0;
		step_pop(&f, false);
		if (!f.vq.enabled || !virtq_has_avail(&f.vq))
			break;
	}
	virtq_flush(&f.vq);
	return 0;
}
