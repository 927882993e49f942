// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for virtio-net: hostile rings on all three queues and
 * frames of any size from the outside. The device is built on each input
 * from its flags (the features the driver accepts, MRG_RXBUF offered or
 * not) on the socket backend, one end of a datagram socketpair whose other
 * end the script sends frames into and drains; a real I/O loop delivers
 * them. Guest RAM is one heap buffer (ASan redzones around it) holding the
 * rings at fixed places and whatever the input puts there. After every
 * input:
 *   - every TX and control chain popped in the current epoch was given
 *     back (or the queue broke): none is lost;
 *   - every frame that came out is one a chain could carry (1 to
 *     NET_MAX_FRAME bytes), and no more came out than chains were sent;
 *   - teardown leaves nothing behind (LeakSanitizer).
 *
 * Input: 4 header bytes, then the script, then the RAM image (zero beyond).
 *   [0]  bit 0 EVENT_IDX, 1 INDIRECT_DESC, 2 MRG_RXBUF accepted, 3 the control
 *        queue (CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR), 4 MRG_RXBUF not offered
 *   [1]  queue size 1 << (b & 7) (the control queue's at most 64)
 *   [2]  script length (& 63), one byte per step and its argument bytes
 *   [3]  unused
 * Rings: queue q's descriptors at 0x4000 q, avail at +0x800, used at +0x1000.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qlite/machine.h"
#include "qlite/util.h"
#include "qlite/virtio.h"
#include "qlite/virtio_net.h"
#include "fuzz_virtio.h"

#define RAM_SIZE	0x20000
#define HDR		4
#define NQ		3

struct fuzz {
	struct machine m;
	struct guest_mem gm;
	struct virtio_net *net;
	struct virtio_device *vdev;
	uint64_t features;
	uint16_t size;
	int peer;
	struct fuzz_script s;
};

static uint8_t *ram;
static uint8_t *frame;		/* what the peer sends and receives */
static struct event_loop *loop;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtio_net: %s\n", what);
	abort();
}

static void once(void)
{
	FILE *devnull = fopen("/dev/null", "w");

	/* The device says what a broken ring did; once per input is noise here. */
	if (devnull)
		report_set_stream(devnull);
	ram = aligned_alloc(4096, RAM_SIZE);
	frame = malloc(NET_MAX_FRAME + 16);
	loop = event_loop_create();
	if (!ram || !frame || !loop)
		die("set-up");
}

static void go_live(struct fuzz *f)
{
	uint16_t sizes[NQ] = { f->size, f->size, f->size };

	if (sizes[VIRTIO_NET_CTRLQ] > VIRTIO_NET_CTRL_QUEUE_SIZE)
		sizes[VIRTIO_NET_CTRLQ] = VIRTIO_NET_CTRL_QUEUE_SIZE;
	fuzz_virtio_go_live(f->vdev, f->features, NQ, sizes);
}

/* A frame from the outside: length and destination from the script. */
static void peer_send(struct fuzz *f)
{
	static const uint8_t dsts[4][6] = {
		{ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },	/* ours */
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
		{ 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 },
	};
	uint8_t sel = fuzz_next(&f->s);
	size_t len = (size_t)fuzz_next(&f->s) << 8 | fuzz_next(&f->s);

	/* Mostly small; 0x80 in the selector makes it up to 64 KiB. */
	if (!(sel & 0x80))
		len &= 0x7ff;
	for (size_t i = 0; i < len; i++)
		frame[i] = (uint8_t)(i * 13 + sel);
	memcpy(frame, dsts[sel & 3], len < 6 ? len : 6);
	/* A full socket is the backend's business: the frame is not sent. */
	if (send(f->peer, frame, len, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ENOBUFS)
		die("send");
}

/* Read what the device sent: every frame 1 to NET_MAX_FRAME bytes. */
static void peer_drain(struct fuzz *f)
{
	ssize_t n;

	while ((n = recv(f->peer, frame, NET_MAX_FRAME + 16, MSG_DONTWAIT)) >= 0)
		if (n < 1 || n > NET_MAX_FRAME)
			die("a frame of an impossible size came out");
}

static void step(struct fuzz *f, uint8_t op)
{
	unsigned q = (op >> 3) % NQ;

	if (fuzz_virtio_step(f->vdev, f->m.loop, ram, RAM_SIZE, virtio_queue(f->vdev, q), &f->s,
			     op))
		return;
	switch (op & 7) {
	case 0:
		virtio_queue_kick(f->vdev, q, 1);
		break;
	case 4:
		go_live(f);
		break;
	case 5:
		peer_send(f);
		break;
	case 7:
		peer_drain(f);
		break;
	}
}

/* TX and control chains popped in this epoch and not given back, over working queues. */
static unsigned pending(struct fuzz *f)
{
	unsigned n = 0;

	for (unsigned q = VIRTIO_NET_TXQ; q < NQ; q++) {
		const struct virtq *vq = virtio_queue(f->vdev, q);

		if (vq->enabled && !vq->broken)
			n += vq->inflight;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz f = { .peer = -1 };
	struct virtio_net_opts o = { .mtu = 0 };
	struct virtio_net_stats st;
	struct virtq_stats tx;
	size_t image;
	int sv[2];

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

	f.gm = (struct guest_mem){ .ram_size = RAM_SIZE, .nr_slots = 1, .memfd = -1 };
	f.gm.slots[0] = (struct guest_mem_slot){ .gpa = 0, .size = RAM_SIZE, .hva = ram };
	f.m.mem = &f.gm;
	f.m.loop = loop;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	f.peer = sv[1];
	o.backend = (struct net_backend_opts){ .kind = NET_BACKEND_SOCKET, .fd = sv[0],
					       .dgram = true };
	memcpy(o.mac, "\x52\x54\x00\x12\x34\x56", 6);
	o.no_mrg_rxbuf = data[0] & 16;
	if (virtio_net_create(&f.m, &o, &f.net))
		die("create");
	close(sv[0]);	/* the backend has its own copy */
	f.vdev = virtio_net_device(f.net);
	f.size = 1u << (data[1] & 7);
	f.features = VIRTIO_F_BIT(VIRTIO_F_VERSION_1) | VIRTIO_F_BIT(VIRTIO_NET_F_MAC) |
		     VIRTIO_F_BIT(VIRTIO_NET_F_STATUS);
	if (data[0] & 1)
		f.features |= VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX);
	if (data[0] & 2)
		f.features |= VIRTIO_F_BIT(VIRTIO_F_INDIRECT_DESC);
	if ((data[0] & 4) && !o.no_mrg_rxbuf)
		f.features |= VIRTIO_F_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (data[0] & 8)
		f.features |= VIRTIO_F_BIT(VIRTIO_NET_F_CTRL_VQ) |
			      VIRTIO_F_BIT(VIRTIO_NET_F_CTRL_RX) |
			      VIRTIO_F_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR);
	go_live(&f);

	while (f.s.pos < f.s.len)
		step(&f, fuzz_next(&f.s));
	/* Whatever the script left: one more kick per queue, the loop, what came out. */
	for (unsigned q = 0; q < NQ; q++)
		virtio_queue_kick(f.vdev, q, 1);
	for (int i = 0; i < 8 && event_loop_run_once(f.m.loop, 0) > 0; i++)
		;
	peer_drain(&f);
	if (pending(&f))
		die("a TX or control chain was never given back");
	virtio_net_get_stats(f.net, &st);
	if (!virtio_queue_stats(f.vdev, VIRTIO_NET_TXQ, &tx) && st.tx_frames > tx.kicks * 256)
		die("more frames sent than a kick can pop");
	machine_release_all(&f.m);
	close(f.peer);
	return 0;
}
