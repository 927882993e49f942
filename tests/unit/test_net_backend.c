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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_machine.h"
#include "report_capture.h"
#include "qlite/net.h"
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
		cmocka_unit_test(test_offline),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, remove_tmpdir);
}
