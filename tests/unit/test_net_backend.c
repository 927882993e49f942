// SPDX-License-Identifier: GPL-2.0-only
/*
 * The network backends (src/net/) on the fake machine's real I/O loop, with
 * a test NIC that records what it is given and refuses frames on demand.
 * socket: stream and dgram round trips over a socketpair and over real
 * listen/connect paths (frames of 60, 1514 and 65535 bytes, byte-exact),
 * a stream frame written in pieces, writes the kernel takes in part,
 * back-pressure (held, resumed in order, nothing lost), a peer that hangs up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "fake_machine.h"
#include "report_capture.h"
#include "unprivileged.h"
#include "qlite/config.h"
#include "qlite/net.h"
#include "qlite/net_vdev.h"
#include "qlite/util.h"

#define MAX_RX	256

/* ---- the test NIC ---- */

struct nic {
	struct net_backend *be;
	unsigned refuse;		/* refuse this many offers from now on */
	unsigned offers, nr;
	uint8_t *frame[MAX_RX];
	size_t len[MAX_RX];
};

static bool nic_receive(void *opaque, const struct iovec *iov, unsigned iovcnt, size_t len)
{
	struct nic *n = opaque;
	size_t off = 0;

	n->offers++;
	if (n->refuse) {
		n->refuse--;
		return false;
	}
	assert_true(n->nr < MAX_RX);
	n->frame[n->nr] = malloc(len);
	for (unsigned i = 0; i < iovcnt; i++) {
		memcpy(n->frame[n->nr] + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	assert_int_equal(off, len);
	n->len[n->nr++] = len;
	return true;
}

static const struct net_client_ops nic_ops = { .receive = nic_receive };

static void nic_free(struct nic *n)
{
	for (unsigned i = 0; i < n->nr; i++)
		free(n->frame[i]);
	n->nr = 0;
}

/* A frame whose bytes say its size and sequence number, so a mix-up shows. */
static void fill(uint8_t *buf, size_t len, unsigned seq)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i + (i >> 8));
}

static bool matches(const uint8_t *buf, size_t len, unsigned seq)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != (uint8_t)(seq * 31 + i + (i >> 8)))
			return false;
	return true;
}

/* Run the loop until the NIC holds want frames (or 5 s pass). */
static void run_until_rx(struct fake_machine *fm, struct nic *n, unsigned want)
{
	for (int i = 0; i < 500 && n->nr < want; i++)
		fake_run_io(fm, 1, 10);
	assert_int_equal(n->nr, want);
}

static int nic_send(struct nic *n, const uint8_t *buf, size_t len)
{
	/* Two segments, as a NIC with a header buffer and a data buffer sends. */
	struct iovec iov[2] = { { (void *)buf, len / 3 }, { (void *)(buf + len / 3), len - len / 3 } };

	return net_backend_send(n->be, iov, 2);
}

/* ---- a peer speaking QEMU's stream format ---- */

static void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, 1000);
			continue;
		}
		assert_true(w > 0);
		p += w;
		len -= w;
	}
}

static void read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		assert_int_equal(poll(&pfd, 1, 5000), 1);
		r = read(fd, p, len);
		assert_true(r > 0);
		p += r;
		len -= r;
	}
}

static void peer_put(int fd, const uint8_t *frame, uint32_t len)
{
	uint8_t hdr[4] = { len >> 24, len >> 16, len >> 8, len };

	write_all(fd, hdr, 4);
	write_all(fd, frame, len);
}

/* One frame from the stream: its length (from the big-endian header) and bytes. */
static size_t peer_get(int fd, uint8_t *frame, size_t max)
{
	uint8_t hdr[4];
	uint32_t len;

	read_all(fd, hdr, 4);
	len = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
	assert_true(len <= max);
	read_all(fd, frame, len);
	return len;
}

/* peer_get while the loop runs: the backend flushes what the kernel did not take at once. */
static size_t peer_get_nonstop(struct fake_machine *fm, int fd, uint8_t *frame)
{
	uint8_t hdr[4];
	size_t got = 0, len = 4;
	uint8_t *p = hdr;

	for (int rounds = 0; got < len; rounds++) {
		ssize_t r = recv(fd, p + got, len - got, MSG_DONTWAIT);

		assert_true(rounds < 100000);
		if (r < 0) {
			assert_int_equal(errno, EAGAIN);
			fake_run_io(fm, 1, 2);
			continue;
		}
		assert_true(r > 0);
		got += r;
		if (got == len && p == hdr) {
			len = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
			assert_true(len <= NET_MAX_FRAME);
			p = frame;
			got = 0;
		}
	}
	return len;
}

static size_t peer_get_dgram(int fd, uint8_t *frame, size_t max)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	r = recv(fd, frame, max, 0);
	assert_true(r > 0);
	return r;
}

static const size_t sizes[] = { 60, 1514, 65535 };

/* Every size each way, byte-exact: the NIC sends, the peer sends back. */
static void round_trips(struct fake_machine *fm, struct nic *n, int peer, bool dgram)
{
	uint8_t *buf = malloc(NET_MAX_FRAME);

	for (unsigned i = 0; i < 3; i++) {
		size_t len;

		fill(buf, sizes[i], i);
		assert_int_equal(nic_send(n, buf, sizes[i]), 0);
		memset(buf, 0, sizes[i]);
		len = dgram ? peer_get_dgram(peer, buf, NET_MAX_FRAME)
			    : peer_get(peer, buf, NET_MAX_FRAME);
		assert_int_equal(len, sizes[i]);
		assert_true(matches(buf, len, i));

		fill(buf, sizes[i], 10 + i);
		if (dgram)
			assert_int_equal(send(peer, buf, sizes[i], 0), (ssize_t)sizes[i]);
		else
			peer_put(peer, buf, sizes[i]);
		run_until_rx(fm, n, i + 1);
		assert_int_equal(n->len[i], sizes[i]);
		assert_true(matches(n->frame[i], sizes[i], 10 + i));
	}
	free(buf);
}

static void check_stats(struct nic *n, uint64_t frames, uint64_t bytes)
{
	struct net_backend_stats st;

	net_backend_get_stats(n->be, &st);
	assert_int_equal(st.tx_frames, frames);
	assert_int_equal(st.tx_bytes, bytes);
	assert_int_equal(st.rx_frames, frames);
	assert_int_equal(st.rx_bytes, bytes);
	assert_int_equal(st.tx_dropped, 0);
	assert_int_equal(st.rx_dropped, 0);
}

static int open_pair(struct fake_machine *fm, struct nic *n, bool dgram, int *peer)
{
	int sv[2];
	struct net_backend_opts o = { .kind = NET_BACKEND_SOCKET, .owner = "test-nic",
				      .dgram = dgram };

	assert_int_equal(socketpair(AF_UNIX, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
				    0, sv), 0);
	o.fd = sv[0];
	assert_int_equal(net_backend_open(&fm->m, &o, &nic_ops, n, &n->be), 0);
	close(sv[0]);		/* the backend keeps its own copy */
	*peer = sv[1];
	return 0;
}

static void test_socket_stream_pair(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct nic n = { 0 };
	int peer;

	open_pair(fm, &n, false, &peer);
	assert_false(net_backend_has_vnet_hdr(n.be));
	assert_true(strstr(net_backend_describe(n.be), "stream") != NULL);
	round_trips(fm, &n, peer, false);
	check_stats(&n, 3, 60 + 1514 + 65535);
	net_backend_close(n.be);
	close(peer);
	nic_free(&n);
	fake_machine_destroy(fm);
}

static void test_socket_dgram_pair(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct nic n = { 0 };
	int peer;

	open_pair(fm, &n, true, &peer);
	assert_true(strstr(net_backend_describe(n.be), "dgram") != NULL);
	round_trips(fm, &n, peer, true);
	check_stats(&n, 3, 60 + 1514 + 65535);
	net_backend_close(n.be);
	close(peer);
	nic_free(&n);
	fake_machine_destroy(fm);
}

/* ---- real paths ---- */

static char tmpdir[64];

static void sock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* qlite connects to a listening peer. */
static void test_socket_connect_path(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct net_backend_opts o = { .kind = NET_BACKEND_SOCKET, .owner = "test-nic" };
	struct nic n = { 0 };
	int lfd, peer;

	sock_path(sa.sun_path, sizeof(sa.sun_path), "peer.sock");
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	o.path = sa.sun_path;
	assert_int_equal(net_backend_open(&fm->m, &o, &nic_ops, &n, &n.be), 0);
	peer = accept(lfd, NULL, NULL);
	assert_true(peer >= 0);
	assert_true(strstr(net_backend_describe(n.be), "connect stream") != NULL);
	round_trips(fm, &n, peer, false);
	net_backend_close(n.be);
	close(peer);
	close(lfd);
	unlink(sa.sun_path);
	nic_free(&n);
	fake_machine_destroy(fm);
}

static void *connect_later(void *arg)
{
	const char *path = arg;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* qlite binds the path, then waits in accept: retry until it is there. */
	for (int i = 0; i < 500; i++) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return (void *)(intptr_t)fd;
		usleep(10000);
	}
	close(fd);
	return (void *)(intptr_t)-1;
}

/* qlite listens, waits for its peer, and removes the path once it has one. */
static void test_socket_listen_path(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct net_backend_opts o = { .kind = NET_BACKEND_SOCKET, .owner = "test-nic",
				      .listen = true };
	struct report_capture log;
	struct nic n = { 0 };
	char path[108];
	pthread_t th;
	void *ret;
	int peer;

	sock_path(path, sizeof(path), "qlite.sock");
	/* A stale socket from an earlier run is replaced. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
	}
	o.path = path;
	assert_int_equal(pthread_create(&th, NULL, connect_later, path), 0);
	report_capture_start(&log);
	assert_int_equal(net_backend_open(&fm->m, &o, &nic_ops, &n, &n.be), 0);
	assert_true(report_capture_has(&log, "test-nic: socket "));
	assert_true(report_capture_has(&log, "qlite.sock: waiting for a peer to connect"));
	assert_int_equal(report_capture_lines(&log), 1);
	report_capture_stop(&log);
	pthread_join(th, &ret);
	peer = (int)(intptr_t)ret;
	assert_true(peer >= 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_true(strstr(net_backend_describe(n.be), "listen stream") != NULL);
	round_trips(fm, &n, peer, false);
	net_backend_close(n.be);
	close(peer);
	nic_free(&n);
	fake_machine_destroy(fm);
}

/* Two backends over a dgram path: the listener learns its peer from the first datagram. */
static void test_socket_dgram_path(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct net_backend_opts lo = { .kind = NET_BACKEND_SOCKET, .owner = "nic-a",
				       .listen = true, .dgram = true };
	struct net_backend_opts co = { .kind = NET_BACKEND_SOCKET, .owner = "nic-b",
				       .dgram = true };
	struct nic a = { 0 }, b = { 0 };
	uint8_t *buf = malloc(NET_MAX_FRAME);
	struct net_backend_stats st;
	char path[108];

	sock_path(path, sizeof(path), "dgram.sock");
	lo.path = co.path = path;
	assert_int_equal(net_backend_open(&fm->m, &lo, &nic_ops, &a, &a.be), 0);
	assert_int_equal(net_backend_open(&fm->m, &co, &nic_ops, &b, &b.be), 0);
	/* No peer yet: dropped and counted. */
	fill(buf, 60, 0);
	assert_int_equal(nic_send(&a, buf, 60), -ENOTCONN);
	net_backend_get_stats(a.be, &st);
	assert_int_equal(st.tx_dropped, 1);
	for (unsigned i = 0; i < 3; i++) {
		fill(buf, sizes[i], i);
		assert_int_equal(nic_send(&b, buf, sizes[i]), 0);
		run_until_rx(fm, &a, i + 1);
		assert_int_equal(a.len[i], sizes[i]);
		assert_true(matches(a.frame[i], sizes[i], i));
		fill(buf, sizes[i], 20 + i);
		assert_int_equal(nic_send(&a, buf, sizes[i]), 0);
		run_until_rx(fm, &b, i + 1);
		assert_int_equal(b.len[i], sizes[i]);
		assert_true(matches(b.frame[i], sizes[i], 20 + i));
	}
	net_backend_close(a.be);
	net_backend_close(b.be);
	unlink(path);
	nic_free(&a);
	nic_free(&b);
	free(buf);
	fake_machine_destroy(fm);
}

/* ---- the stream's edges ---- */

/* A frame arriving a few bytes at a time, its header split too, is delivered once, whole. */
static void test_socket_stream_pieces(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	uint8_t frame[4 + 1514], two[2 * (4 + 60)];
	struct nic n = { 0 };
	int peer;

	open_pair(fm, &n, false, &peer);
	frame[0] = 0;
	frame[1] = 0;
	frame[2] = 1514 >> 8;
	frame[3] = 1514 & 0xff;
	fill(frame + 4, 1514, 7);
	for (size_t off = 0; off < sizeof(frame);) {
		size_t chunk = off < 8 ? 1 : 500;	/* the header byte by byte */

		if (chunk > sizeof(frame) - off)
			chunk = sizeof(frame) - off;
		write_all(peer, frame + off, chunk);
		off += chunk;
		fake_run_io(fm, 1, 20);
		assert_int_equal(n.nr, off == sizeof(frame) ? 1 : 0);
	}
	assert_int_equal(n.len[0], 1514);
	assert_true(matches(n.frame[0], 1514, 7));
	/* Two frames in one write, and an empty frame (skipped) between them and the next. */
	for (unsigned i = 0; i < 2; i++) {
		uint8_t *p = two + i * 64;

		p[0] = p[1] = p[2] = 0;
		p[3] = 60;
		fill(p + 4, 60, 8 + i);
	}
	write_all(peer, two, sizeof(two));
	write_all(peer, (uint8_t[4]){ 0, 0, 0, 0 }, 4);
	run_until_rx(fm, &n, 3);
	assert_true(matches(n.frame[1], 60, 8));
	assert_true(matches(n.frame[2], 60, 9));
	net_backend_close(n.be);
	close(peer);
	nic_free(&n);
	fake_machine_destroy(fm);
}

/* Writes the kernel takes only in part: the rest waits for POLLOUT; nothing lost, in order. */
static void test_socket_stream_partial_writes(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	uint8_t *buf = malloc(NET_MAX_FRAME);
	int sndbuf = 4096, got = 0, sent = 0;
	struct net_backend_stats st;
	struct nic n = { 0 };
	int peer;

	open_pair(fm, &n, false, &peer);
	/* A small receive buffer at the peer, so the kernel soon takes writes in part. */
	setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
	for (; sent < 12; sent++) {
		fill(buf, 65535, sent);
		assert_int_equal(nic_send(&n, buf, 65535), 0);
	}
	/* The peer reads everything while the loop flushes what is pending. */
	while (got < sent) {
		struct pollfd pfd = { .fd = peer, .events = POLLIN };
		size_t len;

		fake_run_io(fm, 1, 5);
		if (poll(&pfd, 1, 0) != 1)
			continue;
		len = peer_get_nonstop(fm, peer, buf);
		assert_int_equal(len, 65535);
		assert_true(matches(buf, len, got));
		got++;
	}
	net_backend_get_stats(n.be, &st);
	assert_int_equal(st.tx_frames, 12);
	assert_int_equal(st.tx_dropped, 0);
	net_backend_close(n.be);
	close(peer);
	nic_free(&n);
	free(buf);
	fake_machine_destroy(fm);
}

/* ---- back-pressure ---- */

/* The NIC refuses: the frame is held, reading stops, rx_ready resumes in order; none lost. */
static void test_socket_hold_resume(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct net_backend_stats st;
	uint8_t buf[200];
	struct nic n = { 0 };
	int peer;

	open_pair(fm, &n, false, &peer);
	n.refuse = 1000;
	for (unsigned i = 0; i < 8; i++) {
		fill(buf, 60 + i, i);
		peer_put(peer, buf, 60 + i);
	}
	fake_run_io(fm, 10, 100);
	/* Offered once, refused, and nothing more is read while it is held. */
	assert_int_equal(n.offers, 1);
	assert_int_equal(n.nr, 0);
	/* rx_ready while the NIC still has no room: offered again, refused again. */
	n.refuse = 1;
	net_backend_rx_ready(n.be);
	fake_run_io(fm, 5, 100);
	assert_int_equal(n.offers, 2);
	assert_int_equal(n.nr, 0);
	/* Room for some: three more refusals spread over the frames, each resumed. */
	n.refuse = 3;
	for (int i = 0; i < 10 && n.nr < 8; i++) {
		net_backend_rx_ready(n.be);
		fake_run_io(fm, 5, 50);
	}
	assert_int_equal(n.nr, 8);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(n.len[i], 60 + i);
		assert_true(matches(n.frame[i], 60 + i, i));
	}
	assert_int_equal(n.offers, 2 + 3 + 8);
	/* A call without a hold costs one atomic and wakes nobody. */
	net_backend_rx_ready(n.be);
	assert_int_equal(fake_run_io(fm, 1, 20), 0);
	net_backend_get_stats(n.be, &st);
	assert_int_equal(st.rx_frames, 8);
	assert_int_equal(st.rx_dropped, 0);
	net_backend_close(n.be);
	close(peer);
	nic_free(&n);
	fake_machine_destroy(fm);
}

/* The peer hangs up: one line, every later frame dropped and counted, the backend stays. */
static void test_socket_peer_gone(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct report_capture log;
	struct net_backend_stats st;
	uint8_t buf[60];
	struct nic n = { 0 };
	int peer;

	open_pair(fm, &n, false, &peer);
	report_capture_start(&log);
	close(peer);
	fake_run_io(fm, 2, 100);
	fill(buf, 60, 1);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(nic_send(&n, buf, 60), -EPIPE);
	fake_run_io(fm, 2, 50);
	assert_int_equal(report_capture_lines(&log), 1);
	assert_true(report_capture_has(&log, "test-nic: socket fd "));
	assert_true(report_capture_has(&log, "the peer hung up; frames are dropped from now on"));
	report_capture_stop(&log);
	net_backend_get_stats(n.be, &st);
	assert_int_equal(st.tx_dropped, 5);
	assert_int_equal(st.tx_frames, 0);
	net_backend_close(n.be);
	fake_machine_destroy(fm);

	/* A dgram peer that is gone is seen at the first send. */
	fm = fake_machine_create();
	open_pair(fm, &n, true, &peer);
	close(peer);
	report_capture_start(&log);
	assert_int_equal(nic_send(&n, buf, 60), -EPIPE);
	assert_int_equal(nic_send(&n, buf, 60), -EPIPE);
	assert_int_equal(report_capture_lines(&log), 1);
	assert_true(report_capture_has(&log, "the peer is gone; frames are dropped from now on"));
	report_capture_stop(&log);
	net_backend_get_stats(n.be, &st);
	assert_int_equal(st.tx_dropped, 2);
	net_backend_close(n.be);
	fake_machine_destroy(fm);
}

/* ---- slirp ---- */

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static void eth_hdr(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, type);
}

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* "who has 10.0.2.2, tell 10.0.2.15", padded to the Ethernet minimum. */
static size_t arp_request(uint8_t *f)
{
	static const uint8_t body[28] = {
		0, 1, 8, 0, 6, 4, 0, 1,			/* Ethernet/IPv4, request */
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15,
		0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
	};

	memset(f, 0, 60);
	eth_hdr(f, bcast, 0x0806);
	memcpy(f + 14, body, sizeof(body));
	return 60;
}

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2)
		sum += get16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

#define BOOTP_LEN	(236 + 312)	/* fixed part, then options as slirp's struct bootp_t */

/* A DHCP DISCOVER from 0.0.0.0:68 to 255.255.255.255:67 (UDP checksum 0: none). */
static size_t dhcp_discover(uint8_t *f)
{
	uint8_t *ip = f + 14, *udp = ip + 20, *bp = udp + 8;
	size_t ip_len = 20 + 8 + BOOTP_LEN;

	memset(f, 0, 14 + ip_len);
	eth_hdr(f, bcast, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, ip_len);
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	put16(ip + 10, ip_csum(ip, 20));
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, 8 + BOOTP_LEN);
	bp[0] = 1;			/* BOOTREQUEST */
	bp[1] = 1;
	bp[2] = 6;
	memcpy(bp + 4, "\x12\x34\x56\x78", 4);	/* xid */
	put16(bp + 10, 0x8000);		/* broadcast */
	memcpy(bp + 28, guest_mac, 6);
	memcpy(bp + 236, "\x63\x82\x53\x63", 4);
	memcpy(bp + 240, "\x35\x01\x01\xff", 4);	/* DHCP message type DISCOVER, end */
	return 14 + ip_len;
}

/* The first frame the NIC got of Ethertype type, or -1. */
static int find_frame(struct nic *n, uint16_t type)
{
	for (unsigned i = 0; i < n->nr; i++)
		if (n->len[i] >= 14 && get16(n->frame[i] + 12) == type)
			return i;
	return -1;
}

static void run_until_type(struct fake_machine *fm, struct nic *n, uint16_t type)
{
	for (int i = 0; i < 500 && find_frame(n, type) < 0; i++)
		fake_run_io(fm, 1, 10);
	assert_true(find_frame(n, type) >= 0);
}

static pthread_t io_thread;
static bool delivered_elsewhere;

static bool nic_receive_where(void *opaque, const struct iovec *iov, unsigned iovcnt, size_t len)
{
	if (!pthread_equal(pthread_self(), io_thread))
		delivered_elsewhere = true;
	return nic_receive(opaque, iov, iovcnt, len);
}

static const struct net_client_ops nic_where_ops = { .receive = nic_receive_where };

static void open_slirp(struct fake_machine *fm, struct nic *n, const char *hostfwd)
{
	struct net_backend_opts o = { .kind = NET_BACKEND_SLIRP, .owner = "test-nic",
				      .hostfwd = hostfwd };

	io_thread = pthread_self();
	delivered_elsewhere = false;
	assert_int_equal(net_backend_open(&fm->m, &o, &nic_where_ops, n, &n->be), 0);
}

/* slirp answers inside slirp_input: the answer waits for the I/O thread, not the sender. */
static void test_slirp_arp(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct nic n = { 0 };
	uint8_t f[60];
	const uint8_t *r;
	int i;

	open_slirp(fm, &n, NULL);
	assert_string_equal(net_backend_describe(n.be), "slirp 10.0.2.0/24");
	assert_int_equal(nic_send(&n, f, arp_request(f)), 0);
	/* Nothing was delivered inside the send. */
	assert_int_equal(n.nr, 0);
	run_until_type(fm, &n, 0x0806);
	i = find_frame(&n, 0x0806);
	r = n.frame[i];
	assert_memory_equal(r, guest_mac, 6);			/* to us */
	assert_int_equal(get16(r + 14 + 6), 2);			/* a reply */
	assert_memory_equal(r + 14 + 14, "\x0a\x00\x02\x02", 4);	/* 10.0.2.2 is at */
	assert_memory_equal(r + 14 + 8, r + 6, 6);		/* ...the sender's MAC */
	assert_memory_equal(r + 14 + 18, guest_mac, 6);
	assert_false(delivered_elsewhere);
	net_backend_close(n.be);
	nic_free(&n);
	fake_machine_destroy(fm);
}

static void *send_discover(void *arg)
{
	struct nic *n = arg;
	uint8_t f[14 + 20 + 8 + BOOTP_LEN];

	return (void *)(intptr_t)nic_send(n, f, dhcp_discover(f));
}

/* A DISCOVER from another thread (a vCPU's) gets an OFFER of 10.0.2.15 on the I/O thread. */
static void test_slirp_dhcp(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct nic n = { 0 };
	const uint8_t *ip, *bp, *opt;
	pthread_t th;
	void *ret;
	int i;

	open_slirp(fm, &n, NULL);
	assert_int_equal(pthread_create(&th, NULL, send_discover, &n), 0);
	pthread_join(th, &ret);
	assert_int_equal((intptr_t)ret, 0);
	run_until_type(fm, &n, 0x0800);
	i = find_frame(&n, 0x0800);
	ip = n.frame[i] + 14;
	assert_int_equal(ip[9], 17);
	assert_int_equal(get16(ip + 20), 67);
	assert_int_equal(get16(ip + 22), 68);
	bp = ip + 28;
	assert_int_equal(bp[0], 2);				/* BOOTREPLY */
	assert_memory_equal(bp + 4, "\x12\x34\x56\x78", 4);
	assert_memory_equal(bp + 16, "\x0a\x00\x02\x0f", 4);	/* yiaddr 10.0.2.15 */
	assert_memory_equal(bp + 236, "\x63\x82\x53\x63", 4);
	for (opt = bp + 240; *opt != 0x35 && *opt != 0xff; opt += 2 + opt[1])
		assert_true(opt < n.frame[i] + n.len[i]);
	assert_int_equal(opt[0], 0x35);
	assert_int_equal(opt[2], 2);				/* OFFER */
	assert_false(delivered_elsewhere);
	net_backend_close(n.be);
	nic_free(&n);
	fake_machine_destroy(fm);
}

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/*
 * A connection to a forwarded host port: slirp's listening socket is watched
 * on the I/O thread, and slirp heads for the guest (first asking who has
 * 10.0.2.15, the default guest address).
 */
static void test_slirp_hostfwd(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char rule[96], want[128];
	struct nic n = { 0 };
	const uint8_t *r;
	int port = free_port(), fd;

	snprintf(rule, sizeof(rule), "udp::%d-:53;tcp:127.0.0.1:%d-:22", port, port);
	open_slirp(fm, &n, rule);
	snprintf(want, sizeof(want), "slirp 10.0.2.0/24 hostfwd %s", rule);
	assert_string_equal(net_backend_describe(n.be), want);
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	run_until_type(fm, &n, 0x0806);
	r = n.frame[find_frame(&n, 0x0806)];
	assert_int_equal(get16(r + 14 + 6), 1);			/* a request */
	assert_memory_equal(r + 14 + 24, "\x0a\x00\x02\x0f", 4);	/* who has 10.0.2.15 */
	close(fd);
	net_backend_close(n.be);
	nic_free(&n);
	fake_machine_destroy(fm);
}

/* Rules and networks that do not parse: one line naming the owner, -EINVAL, even offline. */
static void test_slirp_bad_options(void **state)
{
	static const struct {
		const char *net, *hostfwd, *msg;
	} cases[] = {
		{ NULL, "tcp:2222-:22",
		  "e1000: hostfwd \"tcp:2222-:22\": the host side is not [ADDR]:PORT "
		  "(an IPv4 address, a port 1 to 65535)" },
		{ NULL, "tcp::2222:22",
		  "e1000: hostfwd \"tcp::2222:22\": no '-' between the host and the guest side" },
		{ NULL, "sctp::1-:2",
		  "e1000: hostfwd \"sctp::1-:2\": a rule starts with tcp: or udp: "
		  "(tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)" },
		{ NULL, "tcp::2222-:22;udp::70000-:53",
		  "e1000: hostfwd \"udp::70000-:53\": the host side is not [ADDR]:PORT "
		  "(an IPv4 address, a port 1 to 65535)" },
		{ NULL, "tcp::2222-10.0.2.x:22",
		  "e1000: hostfwd \"tcp::2222-10.0.2.x:22\": the guest side is not [ADDR]:PORT "
		  "(an IPv4 address, a port 1 to 65535)" },
		{ NULL, "", "e1000: hostfwd no rule "
		  "(tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)" },
		{ "10.0.2.0", NULL, "e1000: net \"10.0.2.0\" is not ADDR/PREFIX (10.0.2.0/24)" },
		{ "10.0.2.1/24", NULL,
		  "e1000: net \"10.0.2.1/24\": host bits are set in the network address" },
		{ "10.0.2.0/30", NULL, "e1000: net \"10.0.2.0/30\": the prefix is 1 to 27 (room for "
		  "the gateway .2, DNS .3 and DHCP .15-.30)" },
		{ "10.0.2/24", NULL, "e1000: net \"10.0.2/24\": \"10.0.2\" is not an IPv4 address" },
	};
	struct fake_machine *fm = fake_machine_create();
	struct nic n = { 0 };

	for (unsigned offline = 0; offline < 2; offline++) {
		fm->m.offline = offline;
		for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct net_backend_opts o = { .kind = NET_BACKEND_SLIRP, .owner = "e1000",
						      .net = cases[i].net,
						      .hostfwd = cases[i].hostfwd };
			struct report_capture log;
			char line[300];

			report_capture_start(&log);
			assert_int_equal(net_backend_open(&fm->m, &o, &nic_ops, &n, &n.be), -EINVAL);
			snprintf(line, sizeof(line), "qlite: %s\n", cases[i].msg);
			assert_string_equal(report_capture_text(&log), line);
			report_capture_stop(&log);
			assert_null(n.be);
		}
	}
	/* The same parser serves the config language's check of the option. */
	{
		char why[256];

		assert_int_equal(net_hostfwd_check("tcp::2222-:22;udp:127.0.0.1:5353-10.0.2.15:53",
						   why, sizeof(why)), 0);
		assert_int_equal(net_hostfwd_check("tcp::0-:22", why, sizeof(why)), -EINVAL);
		assert_string_equal(why, "\"tcp::0-:22\": the host side is not [ADDR]:PORT "
				    "(an IPv4 address, a port 1 to 65535)");
		assert_int_equal(net_slirp_net_check("192.168.76.0/24", why, sizeof(why)), 0);
	}
	/* A good custom network, offline: described, nothing opened. */
	{
		struct net_backend_opts o = { .kind = NET_BACKEND_SLIRP, .owner = "e1000",
					      .net = "192.168.76.0/24" };

		fm->m.offline = true;
		assert_int_equal(net_backend_open(&fm->m, &o, &nic_ops, &n, &n.be), 0);
		assert_string_equal(net_backend_describe(n.be), "slirp 192.168.76.0/24");
		net_backend_close(n.be);
	}
	fake_machine_destroy(fm);
}

/* ---- tap ---- */

/* As a user without CAP_NET_ADMIN: one line naming the NIC, the tap and what failed. */
static int tap_denied(void *arg)
{
	struct fake_machine *fm = fake_machine_create();
	struct net_backend_opts o = { .kind = NET_BACKEND_TAP, .owner = "test-nic",
				      .ifname = "qtap0" };
	static const char *const want[][2] = {
		/* /dev/net/tun is 0600 here (this container), 0666 on most hosts */
		{ "qlite: test-nic: tap qtap0: /dev/net/tun: Permission denied\n", "13" },
		{ "qlite: test-nic: tap qtap0: TUNSETIFF: Operation not permitted\n", "1" },
		{ "qlite: test-nic: tap qtap0: /dev/net/tun: No such file or directory\n", "2" },
	};
	struct report_capture log;
	struct nic n = { 0 };
	int ret, ok = 1;

	report_capture_start(&log);
	ret = net_backend_open(&fm->m, &o, &nic_ops, &n, &n.be);
	for (unsigned i = 0; i < 3; i++)
		if (!strcmp(report_capture_text(&log), want[i][0]) && ret == -atoi(want[i][1]))
			ok = 0;
	if (ok)
		fprintf(stderr, "tap_denied: %d, \"%s\"\n", ret, report_capture_text(&log));
	report_capture_stop(&log);
	fake_machine_destroy(fm);
	return ok;
}

static void test_tap_denied(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct net_backend_opts o = { .kind = NET_BACKEND_TAP, .owner = "test-nic",
				      .ifname = "an-interface-name-too-long" };
	struct report_capture log;
	struct nic n = { 0 };

	assert_int_equal(run_unprivileged(tap_denied, NULL), 0);
	report_capture_start(&log);
	assert_int_equal(net_backend_open(&fm->m, &o, &nic_ops, &n, &n.be), -EINVAL);
	assert_string_equal(report_capture_text(&log), "qlite: test-nic: tap "
			    "an-interface-name-too-long: an interface name has at most 15 characters\n");
	report_capture_stop(&log);
	fake_machine_destroy(fm);
}

/* The first frame of the test pattern in the NIC's record, after skip bytes of header; or -1. */
static int find_test_frame(struct nic *n, size_t skip)
{
	for (unsigned i = 0; i < n->nr; i++)
		if (n->len[i] == skip + 60 && get16(n->frame[i] + skip + 12) == 0x88b5 &&
		    matches(n->frame[i] + skip + 14, 46, 3))
			return i;
	return -1;
}

/*
 * As root with /dev/net/tun: a tap with IFF_VNET_HDR, up, and a packet socket
 * on it as the host side. The NIC's frames carry the 12-byte header in both
 * directions; the host sees the bare frame.
 */
static void test_tap_vnet_hdr(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct net_backend_opts o = { .kind = NET_BACKEND_TAP, .owner = "test-nic",
				      .vnet_hdr = true };
	uint8_t frame[NET_VNET_HDR_LEN + 60] = { 0 }, *eth = frame + NET_VNET_HDR_LEN, buf[2048];
	struct ifreq ifr = { 0 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct report_capture log;
	struct nic n = { 0 };
	char ifname[IFNAMSIZ], want[64];
	int ret, ctl, pkt, i;
	bool seen = false;

	snprintf(ifname, sizeof(ifname), "qlnet%d", getpid() % 100000);
	o.ifname = ifname;
	report_capture_start(&log);
	ret = net_backend_open(&fm->m, &o, &nic_ops, &n, &n.be);
	if (ret < 0) {
		print_message("tap: cannot create a tap here (%s): the vnet-hdr framing part is "
			      "not run\n", report_capture_text(&log));
		report_capture_stop(&log);
		fake_machine_destroy(fm);
		skip();
	}
	report_capture_stop(&log);
	assert_true(net_backend_has_vnet_hdr(n.be));
	snprintf(want, sizeof(want), "tap %s vnet-hdr", ifname);
	assert_string_equal(net_backend_describe(n.be), want);

	/* Up, and a packet socket bound to it. */
	ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	assert_int_equal(ioctl(ctl, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(ctl, SIOCSIFFLAGS, &ifr), 0);
	assert_int_equal(ioctl(ctl, SIOCGIFINDEX, &ifr), 0);
	close(ctl);
	pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	assert_true(pkt >= 0);
	sll.sll_ifindex = ifr.ifr_ifindex;
	assert_int_equal(bind(pkt, (struct sockaddr *)&sll, sizeof(sll)), 0);

	/* NIC -> host: a vnet header (no offload) and a test frame; the host sees the frame. */
	memset(eth, 0xff, 6);
	memcpy(eth + 6, guest_mac, 6);
	put16(eth + 12, 0x88b5);
	fill(eth + 14, 46, 3);
	assert_int_equal(net_backend_send(n.be, &(struct iovec){ frame, sizeof(frame) }, 1), 0);
	for (int tries = 0; tries < 50 && !seen; tries++) {
		struct pollfd pfd = { .fd = pkt, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, 100) != 1)
			continue;
		r = recv(pkt, buf, sizeof(buf), 0);
		seen = r == 60 && !memcmp(buf, eth, 60);
	}
	assert_true(seen);

	/* host -> NIC: the frame arrives behind a 12-byte header saying "no offload". */
	assert_int_equal(send(pkt, eth, 60, 0), 60);
	for (int tries = 0; tries < 100 && find_test_frame(&n, NET_VNET_HDR_LEN) < 0; tries++)
		fake_run_io(fm, 1, 20);
	i = find_test_frame(&n, NET_VNET_HDR_LEN);
	assert_true(i >= 0);
	assert_memory_equal(n.frame[i], (uint8_t[NET_VNET_HDR_LEN]){ 0 }, NET_VNET_HDR_LEN);
	assert_memory_equal(n.frame[i] + NET_VNET_HDR_LEN, eth, 60);
	close(pkt);
	net_backend_close(n.be);
	nic_free(&n);
	fake_machine_destroy(fm);
}

/* ---- the vdev options (src/devices/net_vdev.c) ---- */

/* A vdev line's options, as the parser leaves them. */
static void spec_of(struct vdev_spec *vs, const char *const *kv)
{
	*vs = (struct vdev_spec){ .type = "e1000" };
	for (; kv[0]; kv += 2)
		vs->opts[vs->nr_opts++] = (struct vdev_opt){ (char *)kv[0], (char *)kv[1] };
}

static int vdev_opts_of(struct machine *m, const char *const *kv, struct net_backend_opts *o,
			uint8_t mac[6])
{
	struct vdev_spec vs;

	spec_of(&vs, kv);
	return net_vdev_opts(m, &vs, "e1000", o, mac);
}

#define KV(...) ((const char *const[]){ __VA_ARGS__, NULL, NULL })

static void test_vdev_opts(void **state)
{
	struct fake_machine *fm = fake_machine_create(), *fm2 = fake_machine_create();
	struct net_backend_opts o;
	uint8_t mac[6];

	/* Defaults: slirp, and a MAC counting up per NIC of the machine. */
	assert_int_equal(vdev_opts_of(&fm->m, KV(NULL), &o, mac), 0);
	assert_int_equal(o.kind, NET_BACKEND_SLIRP);
	assert_string_equal(o.owner, "e1000");
	assert_null(o.net);
	assert_null(o.hostfwd);
	assert_int_equal(o.fd, 0);
	assert_memory_equal(mac, "\x52\x54\x00\x12\x34\x56", 6);
	assert_int_equal(vdev_opts_of(&fm->m, KV("backend", "slirp", "net", "10.1.0.0/16",
						  "hostfwd", "tcp::2222-:22"), &o, mac), 0);
	assert_memory_equal(mac, "\x52\x54\x00\x12\x34\x57", 6);
	assert_string_equal(o.net, "10.1.0.0/16");
	assert_string_equal(o.hostfwd, "tcp::2222-:22");
	assert_int_equal(vdev_opts_of(&fm->m, KV("mac", "02:AB:cd:00:00:01"), &o, mac), 0);
	assert_memory_equal(mac, "\x02\xab\xcd\x00\x00\x01", 6);
	assert_int_equal(vdev_opts_of(&fm->m, KV(NULL), &o, mac), 0);
	assert_memory_equal(mac, "\x52\x54\x00\x12\x34\x59", 6);
	/* Another machine counts from the start. */
	assert_int_equal(vdev_opts_of(&fm2->m, KV(NULL), &o, mac), 0);
	assert_memory_equal(mac, "\x52\x54\x00\x12\x34\x56", 6);

	assert_int_equal(vdev_opts_of(&fm->m, KV("backend", "tap", "ifname", "qtap0",
						  "vnet-hdr", "on"), &o, mac), 0);
	assert_int_equal(o.kind, NET_BACKEND_TAP);
	assert_string_equal(o.ifname, "qtap0");
	assert_true(o.vnet_hdr);
	assert_int_equal(vdev_opts_of(&fm->m, KV("backend", "socket", "listen", "/tmp/n.sock",
						  "dgram", "on"), &o, mac), 0);
	assert_int_equal(o.kind, NET_BACKEND_SOCKET);
	assert_string_equal(o.path, "/tmp/n.sock");
	assert_true(o.listen);
	assert_true(o.dgram);
	assert_int_equal(vdev_opts_of(&fm->m, KV("backend", "socket", "connect", "/tmp/p.sock"),
				      &o, mac), 0);
	assert_string_equal(o.path, "/tmp/p.sock");
	assert_false(o.listen);
	assert_false(o.dgram);
	fake_machine_destroy(fm2);
	fake_machine_destroy(fm);
}

static void test_vdev_opts_errors(void **state)
{
	const struct {
		const char *const *kv;
		const char *msg;
	} cases[] = {
		{ KV("ifname", "qtap0"),
		  "e1000: ifname is an option of backend tap, not slirp (the default)" },
		{ KV("backend", "tap", "ifname", "qtap0", "connect", "/tmp/x"),
		  "e1000: connect is an option of backend socket, not tap" },
		{ KV("backend", "socket", "connect", "/tmp/x", "hostfwd", "tcp::1-:2"),
		  "e1000: hostfwd is an option of backend slirp, not socket" },
		{ KV("backend", "slirp", "dgram", "on"),
		  "e1000: dgram is an option of backend socket, not slirp" },
		{ KV("backend", "socket"), "e1000: backend socket needs connect PATH or listen PATH" },
		{ KV("backend", "socket", "connect", "/tmp/a", "listen", "/tmp/b"),
		  "e1000: connect and listen exclude each other" },
		{ KV("backend", "socket", "listen", "/tmp/b", "dgram", "maybe"),
		  "e1000: dgram: \"maybe\" is not on or off" },
		{ KV("backend", "tap"), "e1000: backend tap needs ifname NAME" },
		{ KV("mac", "52:54:00:12:34"),
		  "e1000: mac \"52:54:00:12:34\" is not six hex bytes with colons (52:54:00:12:34:56)" },
		{ KV("mac", "52-54-00-12-34-56"),
		  "e1000: mac \"52-54-00-12-34-56\" is not six hex bytes with colons "
		  "(52:54:00:12:34:56)" },
		{ KV("mac", "52:54:00:12:34:567"),
		  "e1000: mac \"52:54:00:12:34:567\" is not six hex bytes with colons "
		  "(52:54:00:12:34:56)" },
		{ KV("mac", "53:54:00:12:34:56"),
		  "e1000: mac \"53:54:00:12:34:56\" is a multicast address (the first byte is odd)" },
		{ KV("mac", "00:00:00:00:00:00"),
		  "e1000: mac \"00:00:00:00:00:00\" is no station's address" },
		{ KV("net", "10.0.2.0/33"), "e1000: net \"10.0.2.0/33\": the prefix is 1 to 27 "
		  "(room for the gateway .2, DNS .3 and DHCP .15-.30)" },
		{ KV("hostfwd", "tcp::22"),
		  "e1000: hostfwd \"tcp::22\": no '-' between the host and the guest side" },
	};
	struct fake_machine *fm = fake_machine_create();

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct net_backend_opts o;
		struct report_capture log;
		char line[300];
		uint8_t mac[6];

		report_capture_start(&log);
		assert_int_equal(vdev_opts_of(&fm->m, cases[i].kv, &o, mac), -EINVAL);
		snprintf(line, sizeof(line), "qlite: %s\n", cases[i].msg);
		assert_string_equal(report_capture_text(&log), line);
		report_capture_stop(&log);
	}
	fake_machine_destroy(fm);
}

/* In the config language: a bad mac, net or hostfwd is the vdev line's error (status 2). */
static const struct vdev_opt_desc nic_opts[] = { NET_BACKEND_VDEV_OPTS, { .key = NULL } };
static const struct vdev_type nic_type = { .name = "test-nic", .help = "a NIC", .opts = nic_opts };

static void test_vdev_opts_config(void **state)
{
	static const struct {
		const char *line, *err;
	} cases[] = {
		{ "vdev test-nic hostfwd tcp:2222-:22\n",
		  "t.conf:1: hostfwd: \"tcp:2222-:22\": the host side is not [ADDR]:PORT "
		  "(an IPv4 address, a port 1 to 65535)\n" },
		{ "vdev test-nic net 10.0.2.0\n",
		  "t.conf:1: net: \"10.0.2.0\" is not ADDR/PREFIX (10.0.2.0/24)\n" },
		{ "vdev test-nic mac 01:00:5e:00:00:01\n",
		  "t.conf:1: mac: \"01:00:5e:00:00:01\" is a multicast address "
		  "(the first byte is odd)\n" },
		{ "vdev test-nic mac 52:54:00:12:34:56 hostfwd udp::5353-:53;tcp::2222-:22\n", "" },
	};

	vdev_use_table(&nic_type, 1);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_spec spec;
		char *buf = NULL;
		size_t len = 0;
		FILE *err = open_memstream(&buf, &len);
		int ret;

		vm_spec_init(&spec);
		ret = config_parse_text(&spec, "t.conf", cases[i].line, strlen(cases[i].line), 0, err);
		fclose(err);
		assert_int_equal(ret, *cases[i].err ? -EINVAL : 0);
		assert_string_equal(buf, cases[i].err);
		free(buf);
		vm_spec_free(&spec);
	}
	vdev_use_table(NULL, 0);
}

/* Offline (`qlite check`): options checked and described, nothing opened, sends dropped. */
static void test_offline(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct net_backend_opts o = { .kind = NET_BACKEND_SOCKET, .owner = "e1000",
				      .path = "/nonexistent/dir/n.sock" };
	struct net_backend_stats st;
	struct report_capture log;
	uint8_t buf[60] = { 0 };
	struct nic n = { 0 };

	fm->m.offline = true;
	assert_int_equal(net_backend_open(&fm->m, &o, &nic_ops, &n, &n.be), 0);
	assert_string_equal(net_backend_describe(n.be),
			    "socket /nonexistent/dir/n.sock connect stream");
	assert_int_equal(nic_send(&n, buf, 60), -ENOTCONN);
	net_backend_get_stats(n.be, &st);
	assert_int_equal(st.tx_dropped, 1);
	net_backend_close(n.be);

	/* A path too long for a unix socket is refused even offline. */
	{
		char longp[200];

		memset(longp, 'x', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		o.path = longp;
		report_capture_start(&log);
		assert_int_equal(net_backend_open(&fm->m, &o, &nic_ops, &n, &n.be), -ENAMETOOLONG);
		assert_int_equal(report_capture_lines(&log), 1);
		assert_true(report_capture_has(&log, "e1000: socket xxx"));
		report_capture_stop(&log);
		assert_null(n.be);
	}
	fake_machine_destroy(fm);
}

static int setup_tmpdir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/qlite-net-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_stream_pair),
		cmocka_unit_test(test_socket_dgram_pair),
		cmocka_unit_test(test_socket_connect_path),
		cmocka_unit_test(test_socket_listen_path),
		cmocka_unit_test(test_socket_dgram_path),
		cmocka_unit_test(test_socket_stream_pieces),
		cmocka_unit_test(test_socket_stream_partial_writes),
		cmocka_unit_test(test_socket_hold_resume),
		cmocka_unit_test(test_socket_peer_gone),
		cmocka_unit_test(test_slirp_arp),
		cmocka_unit_test(test_slirp_dhcp),
		cmocka_unit_test(test_slirp_hostfwd),
		cmocka_unit_test(test_slirp_bad_options),
		cmocka_unit_test(test_tap_denied),
		cmocka_unit_test(test_tap_vnet_hdr),
		cmocka_unit_test(test_vdev_opts),
		cmocka_unit_test(test_vdev_opts_errors),
		cmocka_unit_test(test_vdev_opts_config),
		cmocka_unit_test(test_offline),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, remove_tmpdir);
}
