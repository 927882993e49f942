// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net on the socket backend (one end of a datagram socketpair; the
 * test holds the other) and the fake machine's real I/O loop, driven
 * through the virtio core's entry points with a transport that counts
 * interrupts, and once through the MMIO transport for exact kick and
 * interrupt counts: frames sent byte-exact whatever their descriptors,
 * received into one or several chains, held while there are no buffers,
 * dropped and counted when too big, every hostile chain, the control
 * queue's filter, a reset with chains held.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_machine.h"
#include "report_capture.h"
#include "qlite/util.h"
#include "qlite/virtio.h"
#include "qlite/virtio_mmio.h"
#include "qlite/virtio_net.h"
#include "virtq_driver.h"

#define RAM_SIZE	(4 << 20)
#define QSIZE		16
#define RING_BASE	0x1000			/* queue q's rings at RING_BASE + q * 0x1000 */
#define TABLE_BASE	0x8000			/* indirect tables */
#define TX_BASE		0x100000		/* TX frames (header included) */
#define RX_BASE		0x200000		/* RX buffers */
#define HDR		NET_VNET_HDR_LEN
#define V1		VIRTIO_F_BIT(VIRTIO_F_VERSION_1)
#define EV_IDX		VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX)
#define INDIRECT	VIRTIO_F_BIT(VIRTIO_F_INDIRECT_DESC)
#define F(b)		VIRTIO_F_BIT(VIRTIO_NET_F_##b)
#define S_LIVE		(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)
#define RXQ		VIRTIO_NET_RXQ
#define TXQ		VIRTIO_NET_TXQ
#define CTRLQ		VIRTIO_NET_CTRLQ
#define MMIO_BASE	VIRTIO_MMIO_BASE

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };

struct fx {
	struct fake_machine *fm;
	struct guest_mem gm;
	struct virtio_net *net;
	struct virtio_device *vdev;
	struct test_ring ring[3];
	int peer;			/* the other end of the backend's socket */
	struct test_irqs irqs;
	struct report_capture log;
	uint8_t buf[70000];
};

/* One descriptor of a chain, as the driver lays it out. */
struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static uint8_t *ram(struct fx *f, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(&f->gm, gpa, len);

	assert_non_null(p);
	return p;
}

static uint8_t pattern(unsigned seed, size_t i)
{
	return (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* An Ethernet frame of len bytes to dst: dst, our MAC, then the pattern. */
static void make_frame(uint8_t *p, size_t len, const uint8_t *dst, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern(seed, i);
	memcpy(p, dst, 6);
	memcpy(p + 6, our_mac, 6);
}

static bool frame_is(const uint8_t *p, size_t len, const uint8_t *dst, unsigned seed)
{
	if (memcmp(p, dst, 6) || memcmp(p + 6, our_mac, 6))
		return false;
	for (size_t i = 12; i < len; i++)
		if (p[i] != pattern(seed, i))
			return false;
	return true;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fm = fake_machine_create();
	assert_int_equal(guarded_mem_init(&f->gm, RAM_SIZE), 0);
	f->fm->m.mem = &f->gm;
	f->peer = -1;
	report_capture_start(&f->log);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	fake_machine_destroy(f->fm);
	if (f->peer >= 0)
		close(f->peer);
	guest_mem_destroy(&f->gm);
	report_capture_stop(&f->log);
	free(f);
	return 0;
}

static bool logged(struct fx *f, const char *text)
{
	return report_capture_has(&f->log, text);
}

/* Options for a device on a fresh socketpair; the test keeps the peer end. */
static struct virtio_net_opts socket_opts(struct fx *f)
{
	struct virtio_net_opts o = { .mtu = 0 };
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	if (f->peer >= 0)
		close(f->peer);
	f->peer = sv[1];
	o.backend.kind = NET_BACKEND_SOCKET;
	o.backend.fd = sv[0];
	o.backend.dgram = true;
	memcpy(o.mac, our_mac, 6);
	return o;
}

/* The backend works on its own copy of the socket. */
static void create(struct fx *f, const struct virtio_net_opts *o)
{
	assert_int_equal(virtio_net_create(&f->fm->m, o, &f->net), 0);
	close(o->backend.fd);
	f->vdev = virtio_net_device(f->net);
	virtio_device_set_transport(f->vdev, &test_counting_transport, &f->irqs);
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

/* A device on a socketpair, live with features (mrg-rxbuf as asked). */
static void live(struct fx *f, bool mrg, uint64_t features)
{
	struct virtio_net_opts o = socket_opts(f);

	o.no_mrg_rxbuf = !mrg;
	create(f, &o);
	go_live(f, features | (mrg ? F(MRG_RXBUF) : 0), 3);
}

/* Descriptors [head, head + n) of queue q chained as segs, and made available. */
static void chain(struct fx *f, unsigned q, unsigned head, const struct seg *segs, unsigned n)
{
	struct test_ring *r = &f->ring[q];

	for (unsigned i = 0; i < n; i++)
		tr_set_desc(r, (head + i) % QSIZE, segs[i].gpa, segs[i].len,
			    (segs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
			    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0), (head + i + 1) % QSIZE);
	tr_make_avail(r, head);
}

static void kick(struct fx *f, unsigned q)
{
	virtio_queue_kick(f->vdev, q, 1);
}

static uint16_t used_idx(struct fx *f, unsigned q)
{
	return __atomic_load_n(&tr_used(&f->ring[q])->idx, __ATOMIC_ACQUIRE);
}

static struct virtq_used_elem used_elem(struct fx *f, unsigned q, unsigned i)
{
	return tr_used(&f->ring[q])->ring[i % QSIZE];
}

/* Run the I/O loop until queue q's used idx reaches idx (5 s at most). */
static void wait_used(struct fx *f, unsigned q, uint16_t idx)
{
	for (int i = 0; i < 500 && used_idx(f, q) != idx; i++)
		fake_run_io(f->fm, 1, 10);
	assert_int_equal(used_idx(f, q), idx);
}

/* Let the loop run a while: whatever was to happen has happened. */
static void settle(struct fx *f)
{
	for (int i = 0; i < 5; i++)
		fake_run_io(f->fm, 1, 10);
}

static struct virtio_net_stats stats(struct fx *f)
{
	struct virtio_net_stats s;

	virtio_net_get_stats(f->net, &s);
	return s;
}

static struct virtq_stats qstats(struct fx *f, unsigned q)
{
	struct virtq_stats s;

	assert_int_equal(virtio_queue_stats(f->vdev, q, &s), 0);
	return s;
}

/* The next frame the backend sent, into f->buf: its length (-1: none). */
static ssize_t peer_recv(struct fx *f)
{
	return recv(f->peer, f->buf, sizeof(f->buf), MSG_DONTWAIT);
}

static void peer_send(struct fx *f, size_t len, const uint8_t *dst, unsigned seed)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	make_frame(p, len, dst, seed);
	assert_int_equal(send(f->peer, p, len, 0), (ssize_t)len);
	free(p);
}

/* A TX frame of len bytes (header and frame) at gpa: zero header, then make_frame. */
static void tx_write(struct fx *f, uint64_t gpa, size_t len, unsigned seed)
{
	memset(ram(f, gpa, HDR), 0, HDR);
	make_frame(ram(f, gpa + HDR, len), len, our_mac, seed);
}

static struct virtio_net_hdr_v1 rx_hdr(struct fx *f, uint64_t gpa)
{
	struct virtio_net_hdr_v1 h;

	memcpy(&h, ram(f, gpa, HDR), HDR);
	return h;
}

/* ---- tests ---- */

static void test_config_space(void **state)
{
	struct fx *f = *state;
	struct virtio_net_opts o = socket_opts(f);
	uint64_t want = F(MAC) | F(STATUS) | F(MRG_RXBUF) | F(CTRL_VQ) | F(CTRL_RX) |
			F(CTRL_MAC_ADDR) | VIRTIO_CORE_FEATURES;
	struct virtio_net_config c;

	create(f, &o);
	/* The socket backend has no vnet headers: no offloads. */
	assert_int_equal(offered(f), want);
	assert_int_equal(f->vdev->info->device_id, VIRTIO_ID_NET);
	assert_int_equal(virtio_queue_count(f->vdev), 3);
	virtio_config_read(f->vdev, 0, &c, sizeof(c));
	assert_memory_equal(c.mac, our_mac, 6);
	assert_int_equal(c.status, VIRTIO_NET_S_LINK_UP);
	assert_int_equal(c.max_virtqueue_pairs, 1);
	assert_int_equal(c.mtu, 0);
	/* Config writes change nothing (the MAC is read-only with VERSION_1). */
	virtio_config_write(f->vdev, 0, "\x01\x02\x03\x04\x05\x06", 6);
	virtio_config_read(f->vdev, 0, &c, sizeof(c));
	assert_memory_equal(c.mac, our_mac, 6);

	/* mrg-rxbuf off, mtu 9000. */
	o = socket_opts(f);
	o.no_mrg_rxbuf = true;
	o.mtu = 9000;
	create(f, &o);
	assert_int_equal(offered(f), (want & ~F(MRG_RXBUF)) | F(MTU));
	virtio_config_read(f->vdev, 0, &c, sizeof(c));
	assert_int_equal(c.mtu, 9000);
	o = socket_opts(f);
	o.mtu = 67;
	assert_int_equal(virtio_net_create(&f->fm->m, &o, &f->net), -EINVAL);
	assert_true(logged(f, "virtio-net: mtu 67: at least 68"));
	close(o.backend.fd);
}

/* Frames of 60, 1514 and 65535 bytes in one descriptor, in many, through an indirect table. */
static void test_tx_frames(void **state)
{
	struct fx *f = *state;
	static const size_t sizes[] = { 60, 1514, 65535 };
	unsigned n = 0;

	live(f, true, V1 | INDIRECT | EV_IDX);
	for (unsigned k = 0; k < ARRAY_SIZE(sizes); k++) {
		size_t len = sizes[k];
		struct seg one = { TX_BASE, HDR + len, false };
		struct seg many[7];
		uint64_t pos = TX_BASE;
		unsigned nm = 0;

		/* One descriptor. */
		tx_write(f, TX_BASE, len, k);
		chain(f, TXQ, 0, &one, 1);
		kick(f, TXQ);
		wait_used(f, TXQ, ++n);
		assert_int_equal(used_elem(f, TXQ, n - 1).len, 0);
		assert_int_equal(peer_recv(f), len);
		assert_true(frame_is(f->buf, len, our_mac, k));

		/* The header split over two, the frame over the rest at odd boundaries. */
		tx_write(f, TX_BASE, len, k + 10);
		many[nm++] = (struct seg){ pos, 5, false };
		many[nm++] = (struct seg){ pos + 5, 7, false };
		pos += HDR;
		for (uint64_t left = len; left; nm++) {
			uint32_t take = nm == 6 ? left : (left + 2) / 3;

			many[nm] = (struct seg){ pos, take, false };
			pos += take;
			left -= take;
		}
		chain(f, TXQ, 2, many, nm);
		kick(f, TXQ);
		wait_used(f, TXQ, ++n);
		assert_int_equal(peer_recv(f), len);
		assert_true(frame_is(f->buf, len, our_mac, k + 10));

		/* An indirect table: header and frame in two entries. */
		tx_write(f, TX_BASE, len, k + 20);
		tr_set_table_desc(&f->ring[TXQ], TABLE_BASE, 0, TX_BASE, HDR, VIRTQ_DESC_F_NEXT, 1);
		tr_set_table_desc(&f->ring[TXQ], TABLE_BASE, 1, TX_BASE + HDR, len, 0, 0);
		tr_set_desc(&f->ring[TXQ], 10, TABLE_BASE, 32, VIRTQ_DESC_F_INDIRECT, 0);
		tr_make_avail(&f->ring[TXQ], 10);
		kick(f, TXQ);
		wait_used(f, TXQ, ++n);
		assert_int_equal(peer_recv(f), len);
		assert_true(frame_is(f->buf, len, our_mac, k + 20));
	}
	assert_int_equal(peer_recv(f), -1);
	assert_int_equal(stats(f).tx_frames, n);
	assert_int_equal(stats(f).tx_bytes, 3 * (60 + 1514 + 65535));
	assert_int_equal(stats(f).tx_dropped, 0);
	assert_string_equal(report_capture_text(&f->log), "");
}

/* Several frames, one kick: all sent in order, one flush, one interrupt. */
static void test_tx_batch(void **state)
{
	struct fx *f = *state;
	const unsigned k = 6;

	live(f, true, V1);
	for (unsigned i = 0; i < k; i++) {
		struct seg s = { TX_BASE + 0x1000 * i, HDR + 100 + i, false };

		tx_write(f, s.gpa, 100 + i, i);
		chain(f, TXQ, i, &s, 1);
	}
	kick(f, TXQ);
	wait_used(f, TXQ, k);
	for (unsigned i = 0; i < k; i++) {
		assert_int_equal(peer_recv(f), 100 + i);
		assert_true(frame_is(f->buf, 100 + i, our_mac, i));
	}
	assert_int_equal(f->irqs.queue[TXQ], 1);
	assert_int_equal(qstats(f, TXQ).kicks, 1);
	assert_int_equal(qstats(f, TXQ).interrupts, 1);
}

/* Chains that carry no frame are dropped and counted; broken rings need a reset. */
static void test_tx_hostile(void **state)
{
	struct fx *f = *state;
	struct seg s;

	live(f, true, V1);
	/* A header cut short, a header and nothing more, a frame past the largest. */
	s = (struct seg){ TX_BASE, HDR - 4, false };
	chain(f, TXQ, 0, &s, 1);
	s = (struct seg){ TX_BASE, HDR, false };
	chain(f, TXQ, 1, &s, 1);
	s = (struct seg){ TX_BASE, HDR + NET_MAX_FRAME + 1, false };
	chain(f, TXQ, 2, &s, 1);
	kick(f, TXQ);
	wait_used(f, TXQ, 3);
	assert_int_equal(peer_recv(f), -1);
	assert_int_equal(stats(f).tx_dropped, 3);
	assert_int_equal(stats(f).tx_frames, 0);
	assert_true(virtio_device_live(f->vdev));

	/* A buffer outside RAM. */
	s = (struct seg){ RAM_SIZE - 16, 64, false };
	chain(f, TXQ, 3, &s, 1);
	kick(f, TXQ);
	assert_false(virtio_device_live(f->vdev));
	assert_true(virtio_get_status(f->vdev) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(logged(f, "is outside RAM"));
	assert_int_equal(peer_recv(f), -1);

	/* A loop. */
	go_live(f, V1, 3);
	tr_set_desc(&f->ring[TXQ], 0, TX_BASE, HDR, VIRTQ_DESC_F_NEXT, 1);
	tr_set_desc(&f->ring[TXQ], 1, TX_BASE + HDR, 60, VIRTQ_DESC_F_NEXT, 0);
	tr_make_avail(&f->ring[TXQ], 0);
	kick(f, TXQ);
	assert_false(virtio_device_live(f->vdev));
	assert_int_equal(peer_recv(f), -1);

	/* A device-writable descriptor in a TX chain. */
	go_live(f, V1, 3);
	tx_write(f, TX_BASE, 60, 1);
	{
		struct seg w[2] = { { TX_BASE, HDR + 60, false }, { RX_BASE, 64, true } };

		chain(f, TXQ, 0, w, 2);
	}
	kick(f, TXQ);
	assert_false(virtio_device_live(f->vdev));
	assert_int_equal(peer_recv(f), -1);

	/* After a reset the device sends again. */
	go_live(f, V1, 3);
	s = (struct seg){ TX_BASE, HDR + 60, false };
	chain(f, TXQ, 0, &s, 1);
	kick(f, TXQ);
	wait_used(f, TXQ, 1);
	assert_int_equal(peer_recv(f), 60);
	assert_true(frame_is(f->buf, 60, our_mac, 1));
}

/* Without MRG_RXBUF: one chain per frame, num_buffers 1, a zero header. */
static void test_rx_one_chain(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 h;
	struct seg two[2] = { { RX_BASE, HDR, true }, { RX_BASE + 0x100, 1514, true } };
	struct seg big[4];

	live(f, false, V1);
	assert_false(virtio_feature_on(f->vdev, VIRTIO_NET_F_MRG_RXBUF));
	/* A small frame into one 1526-byte buffer. */
	{
		struct seg one = { RX_BASE, 1526, true };

		memset(ram(f, RX_BASE, 1526), 0xaa, 1526);
		chain(f, RXQ, 0, &one, 1);
	}
	kick(f, RXQ);
	peer_send(f, 60, our_mac, 1);
	wait_used(f, RXQ, 1);
	assert_int_equal(used_elem(f, RXQ, 0).id, 0);
	assert_int_equal(used_elem(f, RXQ, 0).len, HDR + 60);
	h = rx_hdr(f, RX_BASE);
	assert_int_equal(h.num_buffers, 1);
	assert_int_equal(h.flags | h.gso_type | h.hdr_len | h.gso_size | h.csum_start |
			 h.csum_offset, 0);
	assert_true(frame_is(ram(f, RX_BASE + HDR, 60), 60, our_mac, 1));
	assert_int_equal(*ram(f, RX_BASE + HDR + 60, 1), 0xaa);	/* nothing past it */

	/* A full-size frame into header + data descriptors. */
	chain(f, RXQ, 1, two, 2);
	kick(f, RXQ);
	peer_send(f, 1514, our_mac, 2);
	wait_used(f, RXQ, 2);
	assert_int_equal(used_elem(f, RXQ, 1).len, HDR + 1514);
	assert_int_equal(rx_hdr(f, RX_BASE).num_buffers, 1);
	assert_true(frame_is(ram(f, RX_BASE + 0x100, 1514), 1514, our_mac, 2));

	/* 65535 bytes into a 64 KiB chain of four descriptors. */
	for (unsigned i = 0; i < 4; i++)
		big[i] = (struct seg){ RX_BASE + 0x10000 + 0x8000 * i, i < 3 ? 16384 : 16399,
				       true };
	chain(f, RXQ, 3, big, 4);
	kick(f, RXQ);
	peer_send(f, 65535, our_mac, 3);
	wait_used(f, RXQ, 3);
	assert_int_equal(used_elem(f, RXQ, 2).len, HDR + 65535);
	{
		uint8_t *p = malloc(3 * 16384 + 16399);	/* the chain, 4 bytes past the frame */

		assert_non_null(p);
		for (unsigned i = 0; i < 4; i++)
			memcpy(p + 16384 * i, ram(f, big[i].gpa, big[i].len), big[i].len);
		assert_true(frame_is(p + HDR, 65535, our_mac, 3));
		free(p);
	}

	/* Too big for the chain: dropped, counted; the chain takes the next frame. */
	{
		struct seg one = { RX_BASE, 1526, true };

		chain(f, RXQ, 7, &one, 1);
	}
	kick(f, RXQ);
	peer_send(f, 1600, our_mac, 4);
	peer_send(f, 64, our_mac, 5);
	wait_used(f, RXQ, 4);
	assert_int_equal(used_elem(f, RXQ, 3).id, 7);
	assert_int_equal(used_elem(f, RXQ, 3).len, HDR + 64);
	assert_true(frame_is(ram(f, RX_BASE + HDR, 64), 64, our_mac, 5));
	assert_int_equal(stats(f).rx_dropped_too_big, 1);
	assert_int_equal(stats(f).rx_frames, 4);
	assert_int_equal(stats(f).rx_bytes, 60 + 1514 + 65535 + 64);
	assert_string_equal(report_capture_text(&f->log), "");
}

/* MRG_RXBUF: a frame across several chains, num_buffers and each chain's used length. */
static void test_rx_mergeable(void **state)
{
	struct fx *f = *state;
	uint8_t p[3000];

	live(f, true, V1);
	for (unsigned i = 0; i < 4; i++) {
		struct seg s = { RX_BASE + 0x1000 * i, 1024, true };

		chain(f, RXQ, i, &s, 1);
	}
	kick(f, RXQ);
	peer_send(f, 3000, our_mac, 7);
	wait_used(f, RXQ, 3);
	assert_int_equal(rx_hdr(f, RX_BASE).num_buffers, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(used_elem(f, RXQ, i).id, i);
	assert_int_equal(used_elem(f, RXQ, 0).len, 1024);
	assert_int_equal(used_elem(f, RXQ, 1).len, 1024);
	assert_int_equal(used_elem(f, RXQ, 2).len, HDR + 3000 - 2048);
	memcpy(p, ram(f, RX_BASE + HDR, 1024 - HDR), 1024 - HDR);
	memcpy(p + 1024 - HDR, ram(f, RX_BASE + 0x1000, 1024), 1024);
	memcpy(p + 2048 - HDR, ram(f, RX_BASE + 0x2000, 3000 - 2048 + HDR), 3000 - 2048 + HDR);
	assert_true(frame_is(p, 3000, our_mac, 7));
	/* One interrupt for the frame, not one per chain. */
	assert_int_equal(f->irqs.queue[RXQ], 1);

	/* The next frame takes the fourth chain alone. */
	peer_send(f, 200, our_mac, 8);
	wait_used(f, RXQ, 4);
	assert_int_equal(used_elem(f, RXQ, 3).id, 3);
	assert_int_equal(used_elem(f, RXQ, 3).len, HDR + 200);
	assert_int_equal(rx_hdr(f, RX_BASE + 0x3000).num_buffers, 1);
	assert_true(frame_is(ram(f, RX_BASE + 0x3000 + HDR, 200), 200, our_mac, 8));

	/* Every chain the ring holds is not enough: dropped, the chains serve the next frame. */
	for (unsigned i = 0; i < QSIZE; i++) {
		struct seg s = { RX_BASE + 0x100 * i, 64, true };

		chain(f, RXQ, (4 + i) % QSIZE, &s, 1);
	}
	kick(f, RXQ);
	peer_send(f, 2000, our_mac, 9);
	peer_send(f, 100, our_mac, 10);
	wait_used(f, RXQ, 6);
	assert_int_equal(stats(f).rx_dropped_too_big, 1);
	assert_int_equal(rx_hdr(f, RX_BASE).num_buffers, 2);
	assert_int_equal(used_elem(f, RXQ, 4).len, 64);
	assert_int_equal(used_elem(f, RXQ, 5).len, HDR + 100 - 64);
	assert_int_equal(stats(f).rx_frames, 3);
}

/* An RX chain through an indirect table: header and frame in two writable entries. */
static void test_rx_indirect(void **state)
{
	struct fx *f = *state;
	struct test_ring *r;

	live(f, true, V1 | INDIRECT);
	r = &f->ring[RXQ];
	tr_set_table_desc(r, TABLE_BASE, 0, RX_BASE, HDR, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
			  1);
	tr_set_table_desc(r, TABLE_BASE, 1, RX_BASE + 0x800, 1514, VIRTQ_DESC_F_WRITE, 0);
	tr_set_desc(r, 5, TABLE_BASE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	tr_make_avail(r, 5);
	kick(f, RXQ);
	peer_send(f, 1000, our_mac, 4);
	wait_used(f, RXQ, 1);
	assert_int_equal(used_elem(f, RXQ, 0).id, 5);
	assert_int_equal(used_elem(f, RXQ, 0).len, HDR + 1000);
	assert_int_equal(rx_hdr(f, RX_BASE).num_buffers, 1);
	assert_true(frame_is(ram(f, RX_BASE + 0x800, 1000), 1000, our_mac, 4));
}

/* No buffers: the frame waits with the backend; a kick after buffers came delivers it. */
static void test_rx_no_buffers(void **state)
{
	struct fx *f = *state;
	struct seg s = { RX_BASE, 2048, true };

	live(f, true, V1);
	peer_send(f, 100, our_mac, 1);
	peer_send(f, 101, our_mac, 2);
	settle(f);
	assert_int_equal(used_idx(f, RXQ), 0);
	assert_true(stats(f).rx_no_buffer >= 1);
	/* No spinning: the loop is idle while the frame waits. */
	{
		uint64_t waits = stats(f).rx_no_buffer;

		settle(f);
		assert_int_equal(stats(f).rx_no_buffer, waits);
	}
	chain(f, RXQ, 0, &s, 1);
	kick(f, RXQ);
	wait_used(f, RXQ, 1);
	assert_true(frame_is(ram(f, RX_BASE + HDR, 100), 100, our_mac, 1));
	/* The second frame waits for the next buffer; none was lost. */
	settle(f);
	assert_int_equal(used_idx(f, RXQ), 1);
	s.gpa = RX_BASE + 0x1000;
	chain(f, RXQ, 1, &s, 1);
	kick(f, RXQ);
	wait_used(f, RXQ, 2);
	assert_true(frame_is(ram(f, RX_BASE + 0x1000 + HDR, 101), 101, our_mac, 2));

	/* MRG_RXBUF, one of the two chains the frame needs: it waits for the second. */
	s = (struct seg){ RX_BASE + 0x2000, 1024, true };
	chain(f, RXQ, 2, &s, 1);
	kick(f, RXQ);
	peer_send(f, 1500, our_mac, 3);
	settle(f);
	assert_int_equal(used_idx(f, RXQ), 2);
	s.gpa = RX_BASE + 0x3000;
	chain(f, RXQ, 3, &s, 1);
	kick(f, RXQ);
	wait_used(f, RXQ, 4);
	assert_int_equal(rx_hdr(f, RX_BASE + 0x2000).num_buffers, 2);
	assert_int_equal(used_elem(f, RXQ, 3).len, HDR + 1500 - 1024);
	assert_int_equal(stats(f).rx_frames, 3);
	assert_int_equal(stats(f).rx_dropped_too_big, 0);
}

/* EVENT_IDX: interrupts only when the used idx passes used_event; the rest counted. */
static void test_rx_event_idx(void **state)
{
	struct fx *f = *state;
	struct virtq_stats st;

	live(f, true, V1 | EV_IDX);
	for (unsigned i = 0; i < 8; i++) {
		struct seg s = { RX_BASE + 0x1000 * i, 2048, true };

		chain(f, RXQ, i, &s, 1);
	}
	kick(f, RXQ);
	/* The driver wants to hear after the third frame only (used_event 2). */
	*tr_used_event(&f->ring[RXQ]) = 2;
	for (unsigned i = 0; i < 5; i++) {
		peer_send(f, 60, our_mac, i);
		wait_used(f, RXQ, i + 1);
	}
	assert_int_equal(f->irqs.queue[RXQ], 1);
	st = qstats(f, RXQ);
	assert_int_equal(st.interrupts, 1);
	assert_int_equal(st.suppressed, 4);
	/* While buffers are pending the driver is not asked for kicks beyond avail_event. */
	assert_int_equal(st.kicks, 1);
}

/* RX chains the frame cannot go into at all: the device needs a reset; the frame is kept. */
static void test_rx_hostile(void **state)
{
	struct fx *f = *state;
	struct seg s;

	live(f, true, V1);
	/* No writable descriptor. */
	s = (struct seg){ RX_BASE, 2048, false };
	chain(f, RXQ, 0, &s, 1);
	kick(f, RXQ);
	peer_send(f, 100, our_mac, 1);
	settle(f);
	assert_false(virtio_device_live(f->vdev));
	assert_true(logged(f, "virtio-net: receive chain 0 has a device-readable buffer; "
			      "device needs reset"));
	assert_int_equal(used_idx(f, RXQ), 0);

	/* Reset, a buffer smaller than the header. */
	go_live(f, V1, 3);
	s = (struct seg){ RX_BASE, 8, true };
	chain(f, RXQ, 0, &s, 1);
	kick(f, RXQ);
	settle(f);
	assert_false(virtio_device_live(f->vdev));
	assert_int_equal(used_idx(f, RXQ), 0);
	assert_int_equal(f->vdev->needs_reset_count, 2);

	/* Outside RAM: the core breaks the ring. */
	go_live(f, V1, 3);
	s = (struct seg){ RAM_SIZE - 100, 2048, true };
	chain(f, RXQ, 0, &s, 1);
	kick(f, RXQ);
	settle(f);
	assert_false(virtio_device_live(f->vdev));

	/* A loop in an RX chain. */
	go_live(f, V1, 3);
	tr_set_desc(&f->ring[RXQ], 0, RX_BASE, 2048, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	tr_make_avail(&f->ring[RXQ], 0);
	kick(f, RXQ);
	settle(f);
	assert_false(virtio_device_live(f->vdev));

	/* Through all this the frame waited: a good ring gets it. */
	go_live(f, V1, 3);
	s = (struct seg){ RX_BASE, 2048, true };
	chain(f, RXQ, 0, &s, 1);
	kick(f, RXQ);
	wait_used(f, RXQ, 1);
	assert_true(frame_is(ram(f, RX_BASE + HDR, 100), 100, our_mac, 1));
	assert_int_equal(stats(f).rx_frames, 1);
}

/* A reset with chains held: nothing is written into the old rings, the new ones serve. */
static void test_reset_in_flight(void **state)
{
	struct fx *f = *state;
	struct seg s = { RX_BASE, 1024, true };

	live(f, true, V1);
	/* MRG_RXBUF, a frame waiting for its second chain: the first is held. */
	memset(ram(f, RX_BASE, 1024), 0xee, 1024);
	chain(f, RXQ, 0, &s, 1);
	kick(f, RXQ);
	peer_send(f, 1500, our_mac, 1);
	settle(f);
	assert_int_equal(used_idx(f, RXQ), 0);
	virtio_set_status(f->vdev, 0);
	assert_int_equal(*ram(f, RX_BASE, 1), 0xee);
	/* New rings, a chain elsewhere: the frame goes there, whole. */
	go_live(f, F(MRG_RXBUF) | V1, 3);
	s = (struct seg){ RX_BASE + 0x4000, 2048, true };
	chain(f, RXQ, 0, &s, 1);
	kick(f, RXQ);
	wait_used(f, RXQ, 1);
	assert_int_equal(rx_hdr(f, RX_BASE + 0x4000).num_buffers, 1);
	assert_true(frame_is(ram(f, RX_BASE + 0x4000 + HDR, 1500), 1500, our_mac, 1));
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(*ram(f, RX_BASE + i, 1), 0xee);

	/* TX made available, reset before the kick: nothing sent from the old ring. */
	s = (struct seg){ TX_BASE, HDR + 60, false };
	tx_write(f, TX_BASE, 60, 2);
	chain(f, TXQ, 0, &s, 1);
	virtio_set_status(f->vdev, 0);
	kick(f, TXQ);
	assert_int_equal(peer_recv(f), -1);
	assert_int_equal(stats(f).tx_frames, 0);
}

/* One control command: its ack. */
static uint8_t ctrl(struct fx *f, uint8_t class, uint8_t cmd, const void *data, size_t len)
{
	static unsigned head;
	uint16_t idx = used_idx(f, CTRLQ);
	struct seg s[3];
	unsigned n = 0;
	uint8_t *p = ram(f, TX_BASE, 2 + len);

	p[0] = class;
	p[1] = cmd;
	if (len)
		memcpy(p + 2, data, len);
	*ram(f, TX_BASE + 0x1000, 1) = 0x77;
	s[n++] = (struct seg){ TX_BASE, 2, false };
	if (len)
		s[n++] = (struct seg){ TX_BASE + 2, len, false };
	s[n++] = (struct seg){ TX_BASE + 0x1000, 1, true };
	chain(f, CTRLQ, head, s, n);
	head = (head + 3) % QSIZE;
	kick(f, CTRLQ);
	wait_used(f, CTRLQ, idx + 1);
	assert_int_equal(used_elem(f, CTRLQ, idx).len, 1);
	return *ram(f, TX_BASE + 0x1000, 1);
}

/* n frames to dst each, with buffers for them: how many arrived (the rest were filtered). */
static unsigned rx_to(struct fx *f, const uint8_t *dst, unsigned n)
{
	struct test_ring *r = &f->ring[RXQ];
	uint16_t before = used_idx(f, RXQ);
	uint64_t filtered = stats(f).rx_filtered;

	/* Chains of earlier calls not used yet stay available: top up to n. */
	while ((uint16_t)(r->avail_idx - before) < n) {
		unsigned head = r->avail_idx % QSIZE;
		struct seg s = { RX_BASE + 0x1000 * head, 2048, true };

		chain(f, RXQ, head, &s, 1);
	}
	kick(f, RXQ);
	for (unsigned i = 0; i < n; i++)
		peer_send(f, 80, dst, i);
	for (int i = 0; i < 500; i++) {
		if ((uint16_t)(used_idx(f, RXQ) - before) + stats(f).rx_filtered - filtered == n)
			break;
		fake_run_io(f->fm, 1, 10);
	}
	return (uint16_t)(used_idx(f, RXQ) - before);
}

static void test_ctrl_filter(void **state)
{
	struct fx *f = *state;
	static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t newmac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	uint8_t on = 1, off = 0, table[4 + 6 + 4 + 6];
	uint64_t all = V1 | F(CTRL_VQ) | F(CTRL_RX) | F(CTRL_MAC_ADDR);
	struct virtio_net_config c;

	live(f, false, all);
	/* Promiscuous until told otherwise (5.1.6.5.1). */
	assert_int_equal(rx_to(f, other, 1), 1);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &off, 1),
			 VIRTIO_NET_OK);
	assert_int_equal(rx_to(f, other, 1), 0);
	assert_int_equal(stats(f).rx_filtered, 1);
	go_live(f, all, 3);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &off, 1),
			 VIRTIO_NET_OK);
	assert_int_equal(rx_to(f, our_mac, 1), 1);
	assert_int_equal(rx_to(f, bcast, 1), 1);
	assert_int_equal(rx_to(f, mcast, 1), 0);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1),
			 VIRTIO_NET_OK);
	go_live(f, all, 3);
	ctrl(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &off, 1);
	ctrl(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1);
	assert_int_equal(rx_to(f, mcast, 1), 1);
	ctrl(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, &off, 1);

	/* The MAC tables: one unicast (other), one multicast. */
	memcpy(table, "\x01\x00\x00\x00", 4);
	memcpy(table + 4, other, 6);
	memcpy(table + 10, "\x01\x00\x00\x00", 4);
	memcpy(table + 14, mcast, 6);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
			      sizeof(table)), VIRTIO_NET_OK);
	assert_int_equal(rx_to(f, other, 1), 1);
	assert_int_equal(rx_to(f, mcast, 1), 1);
	/* Bad commands: a table longer than its data, a trailing byte, an unknown class. */
	memcpy(table, "\x05\x00\x00\x00", 4);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
			      sizeof(table)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, table, 2),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, 9, 0, NULL, 0), VIRTIO_NET_ERR);
	/* The unchanged tables still let other through. */
	assert_int_equal(rx_to(f, other, 1), 1);

	/* ADDR_SET: the config space follows, and frames to the new address pass. */
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, newmac, 6),
			 VIRTIO_NET_OK);
	virtio_config_read(f->vdev, 0, &c, sizeof(c));
	assert_memory_equal(c.mac, newmac, 6);
	assert_int_equal(rx_to(f, newmac, 1), 1);
	assert_int_equal(stats(f).ctrl_errors, 3);
	assert_true(stats(f).ctrl_commands >= 10);
	assert_true(virtio_device_live(f->vdev));
}

/* The device's part of the exit report (ops->report) and of `qlite check` (ops->describe). */
static void test_report(void **state)
{
	struct fx *f = *state;
	struct device_report r = { .n = 0 };
	struct seg s = { TX_BASE, HDR + 60, false };
	char own[128];
	unsigned found = 0;

	live(f, true, V1);
	tx_write(f, TX_BASE, 60, 0);
	chain(f, TXQ, 0, &s, 1);
	kick(f, TXQ);
	wait_used(f, TXQ, 1);
	f->vdev->info->ops->describe(f->vdev, own, sizeof(own));
	assert_non_null(strstr(own, "mac 52:54:00:12:34:57 backend socket"));
	f->vdev->info->ops->report(f->vdev, &r);
	for (unsigned i = 0; i < r.n; i++) {
		if (!strcmp(r.c[i].name, "tx_frames") && ++found)
			assert_int_equal(r.c[i].value, 1);
		if (!strcmp(r.c[i].name, "tx_bytes") && ++found)
			assert_int_equal(r.c[i].value, 60);
		if (!strcmp(r.c[i].name, "rx_frames") && ++found)
			assert_int_equal(r.c[i].value, 0);
	}
	assert_int_equal(found, 3);
}

/* The transport's entry: its summary ends with the device's part; the kicks per queue. */
static void check_transport_report(struct fx *f, uint64_t tx_kicks)
{
	struct device_report r = { .n = 0 };
	struct machine_report_src *src;
	bool seen = false;

	assert_int_equal(f->fm->m.nr_reports, 1);
	src = &f->fm->m.reports[0];
	assert_string_equal(src->name, "virtio-net");
	assert_non_null(strstr(src->summary, "virtio-mmio "));
	assert_non_null(strstr(src->summary, ", mac 52:54:00:12:34:5"));
	src->fn(src->opaque, &r);
	for (unsigned i = 0; i < r.n; i++) {
		if (!strcmp(r.c[i].name, "q1.kicks")) {
			assert_int_equal(r.c[i].value, tx_kicks);
			seen = true;
		}
	}
	assert_true(seen);
}

/* The tap of test_tap_vnet_hdr up, IPv6 off (no router solicitations in the way). */
static bool tap_up(const char *ifname)
{
	struct ifreq ifr = { .ifr_flags = 0 };
	char path[96];
	FILE *fp;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fp = fopen(path, "w");
	if (fp) {
		fputs("1", fp);
		fclose(fp);
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ok = fd >= 0 && !ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ok = ok && !ioctl(fd, SIOCSIFFLAGS, &ifr);
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * A tap with vnet headers (needs CAP_NET_ADMIN and /dev/net/tun; skipped
 * without): the offloads are offered, and the header goes through as it
 * is, both ways. The host's side is a packet socket on the interface.
 */
static void test_tap_vnet_hdr(void **state)
{
	struct fx *f = *state;
	static const char ifname[] = "qlvnettest0";
	struct virtio_net_opts o = { .mtu = 0 };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct seg s = { TX_BASE, HDR + 200, false }, r = { RX_BASE, 2048, true };
	struct virtio_net_hdr_v1 h;
	uint8_t frame[200];
	int ps, found = 0;

	o.backend = (struct net_backend_opts){ .kind = NET_BACKEND_TAP, .ifname = ifname,
					       .vnet_hdr = true };
	memcpy(o.mac, our_mac, 6);
	if (access("/dev/net/tun", R_OK | W_OK) ||
	    virtio_net_create(&f->fm->m, &o, &f->net)) {
		skip();
		return;
	}
	f->vdev = virtio_net_device(f->net);
	virtio_device_set_transport(f->vdev, &test_counting_transport, &f->irqs);
	assert_int_equal(offered(f) & (F(CSUM) | F(GUEST_CSUM) | F(HOST_TSO4) | F(HOST_TSO6) |
				       F(GUEST_TSO4) | F(GUEST_TSO6)),
			 F(CSUM) | F(GUEST_CSUM) | F(HOST_TSO4) | F(HOST_TSO6) | F(GUEST_TSO4) |
			 F(GUEST_TSO6));
	assert_true(tap_up(ifname));
	ll.sll_ifindex = if_nametoindex(ifname);
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	assert_true(ps >= 0);
	assert_int_equal(bind(ps, (struct sockaddr *)&ll, sizeof(ll)), 0);
	go_live(f, V1 | F(MRG_RXBUF) | F(CSUM) | F(GUEST_CSUM), 3);

	/* TX: the guest's header reaches the tap, the frame the host. */
	tx_write(f, TX_BASE, 200, 5);
	chain(f, TXQ, 0, &s, 1);
	kick(f, TXQ);
	wait_used(f, TXQ, 1);
	for (int i = 0; i < 100 && !found; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(ps, f->buf, sizeof(f->buf), 0, (struct sockaddr *)&from, &fl);

		if (n == 200 && from.sll_pkttype != PACKET_OUTGOING &&
		    frame_is(f->buf, 200, our_mac, 5))
			found = 1;
		else if (n < 0)
			usleep(10000);
	}
	assert_true(found);

	/* RX: a frame the host sends out of the tap comes with the tap's header. */
	chain(f, RXQ, 0, &r, 1);
	kick(f, RXQ);
	make_frame(frame, sizeof(frame), our_mac, 6);
	assert_int_equal(sendto(ps, frame, sizeof(frame), 0, (struct sockaddr *)&ll, sizeof(ll)),
			 sizeof(frame));
	wait_used(f, RXQ, 1);
	assert_int_equal(used_elem(f, RXQ, 0).len, HDR + sizeof(frame));
	h = rx_hdr(f, RX_BASE);
	assert_int_equal(h.num_buffers, 1);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_true(frame_is(ram(f, RX_BASE + HDR, sizeof(frame)), sizeof(frame), our_mac, 6));
	assert_int_equal(stats(f).tx_frames, 1);
	assert_int_equal(stats(f).rx_frames, 1);
	close(ps);
}

/*
 * Through the MMIO transport: N frames sent with one notify and N received
 * one at a time: exact exits, kicks and interrupts with ioeventfd and irqfd
 * on (in the fake kernel) and off (every notify an exit, the line in userspace).
 */
static void counts(struct fx *f, bool in_kernel)
{
	struct virtio_mmio_opts mo = { .addr = MMIO_BASE, .irq = 5, .ioeventfd = in_kernel,
				       .irqfd = in_kernel };
	struct virtio_net_opts o;
	const unsigned n = 4;
	unsigned exits;

	fake_machine_destroy(f->fm);
	f->fm = in_kernel ? fake_machine_create_accel() : fake_machine_create();
	f->fm->m.mem = &f->gm;
	o = socket_opts(f);
	assert_int_equal(virtio_net_create(&f->fm->m, &o, &f->net), 0);
	close(o.backend.fd);
	f->vdev = virtio_net_device(f->net);
	assert_int_equal(virtio_mmio_attach(&f->fm->m, f->vdev, &mo), 0);
	assert_int_equal(f->fm->nr_ioeventfds, in_kernel ? 3 : 0);
	/* The bring-up through the core (the transport's registers are its own tests'). */
	go_live(f, V1 | F(MRG_RXBUF), 3);
	for (unsigned i = 0; i < n; i++) {
		struct seg s = { TX_BASE + 0x1000 * i, HDR + 60, false };

		tx_write(f, s.gpa, 60, i);
		chain(f, TXQ, i, &s, 1);
	}
	exits = fake_exits(f->fm);
	fake_mmio_write(f->fm, MMIO_BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, TXQ);
	assert_int_equal(fake_exits(f->fm), exits + (in_kernel ? 0 : 1));
	wait_used(f, TXQ, n);
	assert_int_equal(qstats(f, TXQ).kicks, 1);
	assert_int_equal(qstats(f, TXQ).interrupts, 1);
	check_transport_report(f, 1);
	if (in_kernel) {
		assert_int_equal(fake_irqfd_drain(f->fm, 5), 1);
		assert_int_equal(f->fm->nr_irq_calls, 0);
	} else {
		assert_int_equal(f->fm->nr_irq_calls, 1);
		assert_int_equal(f->fm->irq_level[5], 1);
	}
	fake_mmio_write(f->fm, MMIO_BASE + VIRTIO_MMIO_INTERRUPT_ACK, 4, VIRTIO_MMIO_INT_VRING);
	fake_machine_clear_calls(f->fm);

	/* RX: buffers, one notify, then n frames one by one: one interrupt each. */
	for (unsigned i = 0; i < n; i++) {
		struct seg s = { RX_BASE + 0x1000 * i, 2048, true };

		chain(f, RXQ, i, &s, 1);
	}
	exits = fake_exits(f->fm);
	fake_mmio_write(f->fm, MMIO_BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, RXQ);
	assert_int_equal(fake_exits(f->fm), exits + (in_kernel ? 0 : 1));
	settle(f);
	for (unsigned i = 0; i < n; i++) {
		peer_send(f, 60, our_mac, i);
		wait_used(f, RXQ, i + 1);
		if (in_kernel)
			assert_int_equal(fake_irqfd_drain(f->fm, 5), 1);
		else
			assert_int_equal(f->fm->irq_level[5], 1);
		/* Linux's handler between frames: the next frame is a new edge. */
		fake_mmio_write(f->fm, MMIO_BASE + VIRTIO_MMIO_INTERRUPT_ACK, 4,
				VIRTIO_MMIO_INT_VRING);
		if (!in_kernel)
			assert_int_equal(f->fm->irq_level[5], 0);
	}
	assert_int_equal(qstats(f, RXQ).kicks, 1);
	assert_int_equal(qstats(f, RXQ).interrupts, n);
	if (!in_kernel)
		assert_int_equal(f->fm->nr_irq_calls, 2 * n);
	assert_int_equal(stats(f).rx_frames, n);
	assert_int_equal(stats(f).tx_frames, n);
}

static void test_counts_in_kernel(void **state)
{
	counts(*state, true);
}

static void test_counts_userspace(void **state)
{
	counts(*state, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_space, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tx_frames, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tx_batch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tx_hostile, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_one_chain, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_mergeable, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_indirect, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_no_buffers, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_event_idx, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_hostile, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reset_in_flight, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_filter, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_report, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tap_vnet_hdr, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_counts_in_kernel, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_counts_userspace, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
