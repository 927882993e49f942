// SPDX-License-Identifier: GPL-2.0-only
/*
 * net.c - the network scenarios: nic= picks and sets up the NIC (e1000.c,
 * vnet.c) the following words use; net-tx, net-rx and net-echo move frames
 * in the pattern of tests/integration/net_peer.py; net-dhcp leases an
 * address from slirp (QEMU's -netdev user, qlite's backend slirp) over raw
 * frames. All polled from ring 3, one frame in flight.
 */
#include "guest.h"

#define ETH_HLEN		14
#define ETH_MIN			60	/* without FCS */
#define ETH_MAX			1514
#define ETH_P_IP		0x0800

static struct nic nic;
static bool nic_ready;
static uint8_t frame[ETH_MAX];

/* --- the pattern (tests/integration/net_peer.py) --- */

/*
 * Test frame number SEQ of SIZE bytes: destination, source, Ethertype 0x88b5
 * (IEEE local experimental), SEQ as 4 bytes little-endian at offset 14, then
 * byte i (i = 0 at offset 18) is (SEQ + i) & 0xff to the end. The guest sends
 * to the peer's default address; the peer's echo swaps the two MACs.
 */
#define ETH_P_TEST		0x88b5
#define TEST_SEQ_OFF		ETH_HLEN
#define TEST_DATA_OFF		(ETH_HLEN + 4)

static const uint8_t peer_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

static void pattern_frame(uint8_t *f, uint32_t seq, unsigned size)
{
	memcpy(f, peer_mac, 6);
	memcpy(f + 6, nic.mac, 6);
	f[12] = ETH_P_TEST >> 8;
	f[13] = ETH_P_TEST & 0xff;
	for (unsigned i = 0; i < 4; i++)
		f[TEST_SEQ_OFF + i] = seq >> (8 * i);
	for (unsigned k = TEST_DATA_OFF; k < size; k++)
		f[k] = seq + (k - TEST_DATA_OFF);
}

/* Frame F of LEN bytes must be test frame SEQ (from any addresses). */
static void pattern_check_frame(const char *word, const uint8_t *f, unsigned len, uint32_t seq)
{
	uint32_t got = 0;

	if (len < ETH_MIN || len > ETH_MAX)
		fail("%s: frame %u has %u bytes (%u..%u expected)", word, seq, len, ETH_MIN, ETH_MAX);
	if ((f[12] << 8 | f[13]) != ETH_P_TEST)
		fail("%s: frame %u: Ethertype 0x%02x%02x, not 0x88b5", word, seq, f[12], f[13]);
	for (unsigned i = 0; i < 4; i++)
		got |= (uint32_t)f[TEST_SEQ_OFF + i] << (8 * i);
	if (got != seq)
		fail("%s: frame %u carries sequence number %u", word, seq, got);
	for (unsigned k = TEST_DATA_OFF; k < len; k++)
		if (f[k] != (uint8_t)(seq + (k - TEST_DATA_OFF)))
			fail("%s: frame %u byte %u reads 0x%02x, 0x%02x expected", word, seq, k, f[k],
			     (uint8_t)(seq + (k - TEST_DATA_OFF)));
}

/* The echo of test frame SEQ: the same size, addressed back to this NIC. */
static void echo_check(const char *word, const uint8_t *f, unsigned len, uint32_t seq,
		       unsigned size)
{
	if (len != size)
		fail("%s: the echo of frame %u has %u bytes, %u were sent", word, seq, len, size);
	if (memcmp(f, nic.mac, 6) || memcmp(f + 6, peer_mac, 6))
		fail("%s: the echo of frame %u goes %02x:%02x:%02x:%02x:%02x:%02x <- "
		     "%02x:%02x:%02x:%02x:%02x:%02x, not back to this NIC from the peer", word, seq,
		     f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11]);
	pattern_check_frame(word, f, len, seq);
}

/* --- nic= --- */

/* nic=e1000 | nic=virtio | nic=virtio-mmio:ADDR */
void do_nic(const char *word, char *arg)
{
	static char name[32];
	uint64_t base;

	if (!arg)
		fail("%s: expected e1000, virtio or virtio-mmio:ADDR", word);
	if (nic_ready)
		nic.close(&nic);
	nic_ready = false;
	if (strlen(arg) >= sizeof(name))
		fail("%s: '%s' is too long", word, arg);
	memcpy(name, arg, strlen(arg) + 1);
	nic = (struct nic){ .word = name };
	tsc_ensure();
	if (!strcmp(arg, "e1000")) {
		e1000_open(&nic);
	} else if (!strcmp(arg, "virtio")) {
		vnet_open_pci(&nic);
	} else if (strlen(arg) > 12 && !memcmp(arg, "virtio-mmio:", 12) &&
		   parse_u64(arg + 12, &base)) {
		name[11] = '\0';		/* "virtio-mmio" in messages */
		vnet_open_mmio(&nic, base);
	} else {
		fail("%s: unknown NIC '%s' (e1000, virtio, virtio-mmio:ADDR)", word, arg);
	}
	nic_ready = true;
	gprintf("%s: %s MAC %02x:%02x:%02x:%02x:%02x:%02x\n", word, nic.word, nic.mac[0],
		nic.mac[1], nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5]);
}

static void need_nic(const char *word)
{
	if (!nic_ready)
		fail("%s: no NIC selected (nic=e1000, nic=virtio or nic=virtio-mmio:ADDR first)",
		     word);
}

/* The next frame from the NIC, or FAIL after NET_TIMEOUT_US. Hand it back with nic.release. */
static unsigned recv_frame(const char *word, const uint8_t **f, const char *waiting_for)
{
	int len = nic.recv(&nic, f, tsc_deadline(NET_TIMEOUT_US));

	if (len < 0) {
		nic.rx_state(&nic);
		fail("%s: %s: no frame within %u s", word, waiting_for, NET_TIMEOUT_US / 1000000);
	}
	return len;
}

/* "<word>: <nic> N frames B bytes, T TX and R RX doorbell writes" and the ops line. */
static void net_report(const char *word, uint64_t frames, uint64_t bytes, uint64_t tx0,
		       uint64_t rx0, uint64_t cycles)
{
	gprintf("%s: %s %lu frames %lu bytes, %lu TX and %lu RX doorbell writes\n", word,
		nic.word, (unsigned long)frames, (unsigned long)bytes,
		(unsigned long)(nic.tx_bells - tx0), (unsigned long)(nic.rx_bells - rx0));
	report(word, frames, cycles);
}

static uint64_t frame_size(const char *word, uint64_t *v, int n)
{
	if (n < 2)
		return ETH_MAX;
	if (v[1] < ETH_MIN || v[1] > ETH_MAX)
		fail("%s: SIZE must be %u..%u bytes", word, ETH_MIN, ETH_MAX);
	return v[1];
}

/* net-tx=N[,SIZE] */
void do_net_tx(const char *word, char *arg)
{
	uint64_t v[2] = { 0, ETH_MAX }, size, tx0, rx0, t = 0, t0;

	args(word, arg, v, 1, 2);
	size = frame_size(word, v, 2);
	need_nic(word);
	tx0 = nic.tx_bells;
	rx0 = nic.rx_bells;
	for (uint64_t i = 0; i < v[0]; i++) {
		pattern_frame(frame, nic.tx_seq++, size);
		t0 = rdtsc();
		nic.send(&nic, frame, size);
		t += rdtsc() - t0;
	}
	net_report(word, v[0], v[0] * size, tx0, rx0, t);
}

/* net-rx=N */
void do_net_rx(const char *word, char *arg)
{
	uint64_t v[1], tx0, rx0, t = 0, t0, bytes = 0;
	const uint8_t *f;

	args(word, arg, v, 1, 1);
	need_nic(word);
	tx0 = nic.tx_bells;
	rx0 = nic.rx_bells;
	for (uint64_t i = 0; i < v[0]; i++) {
		unsigned len;

		t0 = rdtsc();
		len = recv_frame(word, &f, "waiting for a frame from the peer");
		t += rdtsc() - t0;
		pattern_check_frame(word, f, len, nic.rx_seq++);
		bytes += len;
		t0 = rdtsc();
		nic.release(&nic);
		t += rdtsc() - t0;
	}
	net_report(word, v[0], bytes, tx0, rx0, t);
}

/* net-echo=N[,SIZE] */
void do_net_echo(const char *word, char *arg)
{
	uint64_t v[2] = { 0, ETH_MAX }, size, tx0, rx0, t = 0, t0;
	const uint8_t *f;

	args(word, arg, v, 1, 2);
	size = frame_size(word, v, 2);
	need_nic(word);
	tx0 = nic.tx_bells;
	rx0 = nic.rx_bells;
	for (uint64_t i = 0; i < v[0]; i++) {
		unsigned len;

		pattern_frame(frame, nic.tx_seq++, size);
		t0 = rdtsc();
		nic.send(&nic, frame, size);
		len = recv_frame(word, &f, "waiting for the echo");
		t += rdtsc() - t0;
		echo_check(word, f, len, nic.rx_seq++, size);
		t0 = rdtsc();
		nic.release(&nic);
		t += rdtsc() - t0;
	}
	net_report(word, v[0], v[0] * size, tx0, rx0, t);
}

/* --- net-dhcp --- */

#define IP_HLEN			20
#define UDP_HLEN		8
#define BOOTP_LEN		236	/* up to the options */
#define DHCP_OPT_LEN		312	/* a 576-byte IP datagram, which servers may insist on */
#define DHCP_FRAME		(ETH_HLEN + IP_HLEN + UDP_HLEN + BOOTP_LEN + DHCP_OPT_LEN)
#define DHCP_COOKIE		0x63825363u
#define DHCP_XID		0x716c7465u	/* "qlte" */

#define OPT_PAD			0
#define OPT_MASK		1
#define OPT_ROUTER		3
#define OPT_DNS			6
#define OPT_REQ_ADDR		50
#define OPT_LEASE		51
#define OPT_MSG_TYPE		53
#define OPT_SERVER		54
#define OPT_PARAMS		55
#define OPT_END			255

#define DHCPDISCOVER		1
#define DHCPOFFER		2
#define DHCPREQUEST		3
#define DHCPACK			5
#define DHCPNAK			6

struct dhcp_reply {
	uint8_t type;
	uint32_t yiaddr, server, mask, router, dns, lease;	/* host order */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint16_t ip_checksum(const uint8_t *p, unsigned len)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < len; i += 2)
		sum += get16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* A DHCP message from 0.0.0.0:68 to 255.255.255.255:67, broadcast. */
static void dhcp_send(uint8_t type, const struct dhcp_reply *offer)
{
	uint8_t *ip = frame + ETH_HLEN, *udp = ip + IP_HLEN, *bp = udp + UDP_HLEN;
	uint8_t *opt = bp + BOOTP_LEN;

	memset(frame, 0, DHCP_FRAME);
	memset(frame, 0xff, 6);
	memcpy(frame + 6, nic.mac, 6);
	put16(frame + 12, ETH_P_IP);
	ip[0] = 0x45;
	put16(ip + 2, DHCP_FRAME - ETH_HLEN);
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 16, 0xffffffffu);
	put16(ip + 10, ip_checksum(ip, IP_HLEN));
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, DHCP_FRAME - ETH_HLEN - IP_HLEN);	/* checksum 0: none */
	bp[0] = 1;				/* BOOTREQUEST */
	bp[1] = 1;				/* Ethernet */
	bp[2] = 6;
	put32(bp + 4, DHCP_XID);
	put16(bp + 10, 0x8000);			/* broadcast the reply: no address yet */
	memcpy(bp + 28, nic.mac, 6);
	put32(opt, DHCP_COOKIE);
	opt += 4;
	*opt++ = OPT_MSG_TYPE;
	*opt++ = 1;
	*opt++ = type;
	if (offer) {
		*opt++ = OPT_REQ_ADDR;
		*opt++ = 4;
		put32(opt, offer->yiaddr);
		opt += 4;
		*opt++ = OPT_SERVER;
		*opt++ = 4;
		put32(opt, offer->server);
		opt += 4;
	}
	*opt++ = OPT_PARAMS;
	*opt++ = 3;
	*opt++ = OPT_MASK;
	*opt++ = OPT_ROUTER;
	*opt++ = OPT_DNS;
	*opt = OPT_END;
	nic.send(&nic, frame, DHCP_FRAME);
}

/* Whether F is a BOOTREPLY to this client; its options into r. */
static bool dhcp_parse(const uint8_t *f, unsigned len, struct dhcp_reply *r)
{
	const uint8_t *ip = f + ETH_HLEN, *udp, *bp, *opt, *end;
	unsigned ihl;

	if (len < ETH_HLEN + IP_HLEN || get16(f + 12) != ETH_P_IP || (ip[0] >> 4) != 4 ||
	    ip[9] != 17)
		return false;
	ihl = (ip[0] & 0xf) * 4;
	if (ihl < IP_HLEN || len < ETH_HLEN + ihl + UDP_HLEN + BOOTP_LEN + 4)
		return false;
	udp = ip + ihl;
	bp = udp + UDP_HLEN;
	if (get16(udp + 2) != 68 || bp[0] != 2 || get32(bp + 4) != DHCP_XID ||
	    memcmp(bp + 28, nic.mac, 6) || get32(bp + BOOTP_LEN) != DHCP_COOKIE)
		return false;
	*r = (struct dhcp_reply){ .yiaddr = get32(bp + 16) };
	end = f + len;
	for (opt = bp + BOOTP_LEN + 4; opt < end && *opt != OPT_END; ) {
		uint8_t code = *opt++, n;

		if (code == OPT_PAD)
			continue;
		if (opt >= end || opt + 1 + *opt > end)
			break;
		n = *opt++;
		if (code == OPT_MSG_TYPE && n >= 1)
			r->type = opt[0];
		else if (n >= 4 && code == OPT_SERVER)
			r->server = get32(opt);
		else if (n >= 4 && code == OPT_MASK)
			r->mask = get32(opt);
		else if (n >= 4 && code == OPT_ROUTER)
			r->router = get32(opt);
		else if (n >= 4 && code == OPT_DNS)
			r->dns = get32(opt);
		else if (n >= 4 && code == OPT_LEASE)
			r->lease = get32(opt);
		opt += n;
	}
	return true;
}

/* Frames until the reply of type WANT; others (ARP, IPv6 router advertisements...) are counted. */
static void dhcp_wait(const char *word, uint8_t want, struct dhcp_reply *r, uint64_t *ignored)
{
	uint64_t deadline = tsc_deadline(NET_TIMEOUT_US);
	const char *name = want == DHCPOFFER ? "DHCPOFFER" : "DHCPACK";

	for (;;) {
		const uint8_t *f;
		int len = nic.recv(&nic, &f, deadline);
		bool ours;

		if (len < 0) {
			nic.rx_state(&nic);
			fail("%s: no %s within %u s (%lu other frames)", word, name,
			     NET_TIMEOUT_US / 1000000, (unsigned long)*ignored);
		}
		ours = dhcp_parse(f, len, r);
		nic.release(&nic);
		if (!ours) {
			++*ignored;
			continue;
		}
		if (r->type == DHCPNAK)
			fail("%s: DHCPNAK from %u.%u.%u.%u", word, r->server >> 24,
			     (r->server >> 16) & 0xff, (r->server >> 8) & 0xff, r->server & 0xff);
		if (r->type != want)
			fail("%s: DHCP message type %u, %s expected", word, r->type, name);
		if (!r->yiaddr || !r->server)
			fail("%s: %s without an address or a server identifier", word, name);
		return;
	}
}

#define IP4(a)	(unsigned)((a) >> 24), (unsigned)(((a) >> 16) & 0xff), \
		(unsigned)(((a) >> 8) & 0xff), (unsigned)((a) & 0xff)

/* net-dhcp: DISCOVER, OFFER, REQUEST, ACK. */
void do_net_dhcp(const char *word, char *arg)
{
	struct dhcp_reply offer, ack;
	uint64_t tx0, rx0, ignored = 0, t0;

	if (arg)
		fail("%s: takes no argument", word);
	need_nic(word);
	tx0 = nic.tx_bells;
	rx0 = nic.rx_bells;
	t0 = rdtsc();
	dhcp_send(DHCPDISCOVER, NULL);
	dhcp_wait(word, DHCPOFFER, &offer, &ignored);
	dhcp_send(DHCPREQUEST, &offer);
	dhcp_wait(word, DHCPACK, &ack, &ignored);
	t0 = rdtsc() - t0;
	if (ack.yiaddr != offer.yiaddr)
		fail("%s: offered %u.%u.%u.%u, acknowledged %u.%u.%u.%u", word, IP4(offer.yiaddr),
		     IP4(ack.yiaddr));
	gprintf("%s: leased %u.%u.%u.%u from %u.%u.%u.%u (mask %u.%u.%u.%u, router %u.%u.%u.%u, "
		"dns %u.%u.%u.%u, %u s), %lu other frames ignored\n", word, IP4(ack.yiaddr),
		IP4(ack.server), IP4(ack.mask), IP4(ack.router), IP4(ack.dns), ack.lease,
		(unsigned long)ignored);
	gprintf("%s: %s 2 exchanges, %lu TX and %lu RX doorbell writes\n", word, nic.word,
		(unsigned long)(nic.tx_bells - tx0), (unsigned long)(nic.rx_bells - rx0));
	report(word, 2, t0);
}
