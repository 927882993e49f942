// SPDX-License-Identifier: GPL-2.0-only
/*
 * e1000 transmit, on the vCPU thread that writes TDT (or enables TCTL):
 * the descriptors from TDH up to TDT, legacy ones (with the legacy
 * checksum insert) and the extended pair, context and data, with IP and
 * TCP/UDP checksum insertion and TCP segmentation. A packet is gathered
 * from its descriptors up to EOP, or, segmenting, one MSS at a time behind
 * a copy of the header, each segment patched (IP total length and id, TCP
 * sequence and flags, UDP length) and summed before it goes out.
 * Descriptors with RS get DD written back, then TXDW (delayed by TIDV and
 * TADV when they had IDE) and TXQE once the ring is empty.
 *
 * Everything the guest gives is checked where it is used: the ring is in
 * RAM, TDH and TDT inside it, each buffer in RAM, a packet within 64 KiB
 * and a segment size that makes progress. Otherwise the queue stops with
 * one line, and qlite runs on.
 */
#include <errno.h>
#include <string.h>

#include "e1000.h"
#include "qlite/util.h"

#define ETH_ZLEN	60
#define VLAN_HLEN	4

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * The checksum of [css, cse] (cse 0: to the end), the field at sloc
 * included (it holds the pseudo-header seed), stored at sloc. Ranges
 * outside the packet are left alone.
 */
static void put_csum(uint8_t *data, uint32_t n, uint32_t sloc, uint32_t css, uint32_t cse)
{
	uint16_t sum;

	if (cse && cse < n)
		n = cse + 1;
	if (css >= n || sloc + 2 > n)
		return;
	sum = ~csum_fold(csum_add(0, data + css, n - css));
	/* A zero UDP checksum means "none": send all-ones instead, as QEMU does. */
	e1000_put_be16(data + sloc, sum ? sum : 0xffff);
}

static const struct e1000_frame_stats tx_stats = {
	TPT, GPTC, GOTCL, TOTL, BPTC, MPTC,
	{ PTC64, PTC127, PTC255, PTC511, PTC1023, PTC1522 },
};

/* The frame in tx.data goes out: padding, the VLAN tag, the vnet header. */
static void tx_send(struct e1000 *s)
{
	static const uint8_t vnet_hdr[NET_VNET_HDR_LEN];
	struct e1000_tx *t = &s->tx;
	uint32_t len = t->size;
	uint8_t tag[VLAN_HLEN];
	struct iovec iov[4];
	unsigned n = 0;

	if (len < 14)
		return;		/* no Ethernet header: nothing a wire could carry */
	if (len < ETH_ZLEN && (e1000_reg(s, TCTL) & TCTL_PSP)) {
		memset(t->data + len, 0, ETH_ZLEN - len);
		len = ETH_ZLEN;
	}
	if (s->vnet_hdr)
		iov[n++] = (struct iovec){ (void *)vnet_hdr, sizeof(vnet_hdr) };
	if (t->vlan) {
		e1000_put_be16(tag, (uint16_t)e1000_reg(s, VET));
		e1000_put_be16(tag + 2, t->vlan_tci);
		iov[n++] = (struct iovec){ t->data, 12 };
		iov[n++] = (struct iovec){ tag, sizeof(tag) };
		iov[n++] = (struct iovec){ t->data + 12, len - 12 };
	} else {
		iov[n++] = (struct iovec){ t->data, len };
	}
	if (net_backend_send(s->be, iov, n) < 0)
		e1000_count(&s->cnt.tx_dropped, 1);
	len += t->vlan ? VLAN_HLEN : 0;
	e1000_count(&s->cnt.tx_frames, 1);
	e1000_count(&s->cnt.tx_bytes, len);
	e1000_count_frame(s, &tx_stats, t->data, len);
}

/* One TSO segment: patch the headers for segment t->segs, then sum. */
static void tso_patch(struct e1000 *s)
{
	struct e1000_tx *t = &s->tx;
	const struct e1000_ctx *c = &t->tso_ctx;
	uint8_t *d = t->data;
	uint32_t n = t->size, sofar = t->segs * c->mss, l4len;

	if (c->ip) {
		if (c->ipcss + 6u <= n) {
			uint16_t id = e1000_get_be16(d + c->ipcss + 4);

			e1000_put_be16(d + c->ipcss + 2, (uint16_t)(n - c->ipcss));
			e1000_put_be16(d + c->ipcss + 4, (uint16_t)(id + t->segs));
		}
	} else if (c->ipcss + 40u <= n) {
		/* IPv6 payload length: what follows the 40-byte header. */
		e1000_put_be16(d + c->ipcss + 4, (uint16_t)(n - c->ipcss - 40));
	}
	if (c->tucss >= n)
		return;
	l4len = n - c->tucss;
	if (c->tcp) {
		if (c->tucss + 14u <= n) {
			uint32_t seq = (uint32_t)e1000_get_be16(d + c->tucss + 4) << 16 |
				       e1000_get_be16(d + c->tucss + 6);

			seq += sofar;
			e1000_put_be16(d + c->tucss + 4, seq >> 16);
			e1000_put_be16(d + c->tucss + 6, (uint16_t)seq);
			/* PSH and FIN belong to the last segment only. */
			if (c->paylen > sofar + c->mss)
				d[c->tucss + 13] &= ~0x09;
		}
	} else if (c->tucss + 6u <= n) {
		e1000_put_be16(d + c->tucss + 4, (uint16_t)l4len);
	}
	/* The seed Linux leaves holds no length: add this segment's. */
	if ((t->popts & TXD_POPTS_TXSM) && c->tucso + 2u <= n)
		e1000_put_be16(d + c->tucso, csum_fold(e1000_get_be16(d + c->tucso) + l4len));
}

static void tx_segment(struct e1000 *s)
{
	struct e1000_tx *t = &s->tx;
	const struct e1000_ctx *c = t->tse ? &t->tso_ctx : &t->ctx;

	if (t->tse)
		tso_patch(s);
	if (t->legacy_ic)
		put_csum(t->data, t->size, t->cso, t->css, 0);
	if (t->popts & TXD_POPTS_TXSM)
		put_csum(t->data, t->size, c->tucso, c->tucss, c->tucse);
	if (t->popts & TXD_POPTS_IXSM)
		put_csum(t->data, t->size, c->ipcso, c->ipcss, c->ipcse);
	if (t->popts & (TXD_POPTS_TXSM | TXD_POPTS_IXSM) || t->legacy_ic)
		e1000_count(&s->cnt.tx_csum_offloads, 1);
	tx_send(s);
	if (t->tse) {
		t->segs++;
		e1000_count(&s->cnt.tso_segments, 1);
	}
}

static void tx_packet_done(struct e1000 *s)
{
	struct e1000_tx *t = &s->tx;

	t->size = t->segs = t->descs = 0;
	t->popts = 0;
	t->tse = t->vlan = t->legacy_ic = false;
}

static void tx_context(struct e1000 *s, const uint8_t *d)
{
	uint32_t cmd = le_load(d + 8, 4);
	struct e1000_ctx *c = (cmd & TXD_CMD_TSE) ? &s->tx.tso_ctx : &s->tx.ctx;

	c->ipcss = d[0];
	c->ipcso = d[1];
	c->ipcse = (uint16_t)le_load(d + 2, 2);
	c->tucss = d[4];
	c->tucso = d[5];
	c->tucse = (uint16_t)le_load(d + 6, 2);
	c->paylen = cmd & 0xfffff;
	c->ip = cmd & TXD_CMD_IP;
	c->tcp = cmd & TXD_CMD_TCP;
	c->hdr_len = d[13];
	c->mss = (uint16_t)le_load(d + 14, 2);
}

/* Copy len bytes of a TSO packet: a segment goes out each time hdr_len + mss are in. */
static int tx_copy_tso(struct e1000 *s, uint64_t addr, uint32_t len)
{
	struct e1000_tx *t = &s->tx;
	const struct e1000_ctx *c = &t->tso_ctx;
	uint32_t msh = c->hdr_len + c->mss;

	if (!c->mss || msh > E1000_TX_BUF) {
		e1000_queue_stop(s, true, "TSO context with MSS %u, header %u bytes", c->mss,
				 c->hdr_len);
		return -EINVAL;
	}
	while (len) {
		uint32_t chunk = len < msh - t->size ? len : msh - t->size;

		if (e1000_dma_read(s, addr, t->data + t->size, chunk) < 0) {
			e1000_queue_stop(s, true, "buffer %#llx+%u %s", (unsigned long long)addr,
					 chunk, e1000_bad_addr(s));
			return -EFAULT;
		}
		if (t->size < c->hdr_len && t->size + chunk >= c->hdr_len)
			memcpy(t->header, t->data, c->hdr_len);
		t->size += chunk;
		addr += chunk;
		len -= chunk;
		if (t->size == msh) {
			tx_segment(s);
			memcpy(t->data, t->header, c->hdr_len);
			t->size = c->hdr_len;
		}
	}
	return 0;
}

/* One data or legacy descriptor: its bytes join the packet; EOP sends it. */
static int tx_data(struct e1000 *s, const uint8_t *d, bool legacy)
{
	struct e1000_tx *t = &s->tx;
	uint64_t addr = le_load(d, 8);
	uint32_t lower = le_load(d + 8, 4), upper = le_load(d + 12, 4);
	uint32_t len = legacy ? lower & 0xffff : lower & 0xfffff;

	if (!t->descs++) {
		/* The first descriptor of a packet says what to do with all of it. */
		t->tse = !legacy && (lower & TXD_CMD_TSE);
		t->popts = legacy ? 0 : (upper >> 8) & 0xff;
		t->legacy_ic = legacy && (lower & TXD_CMD_IC);
		t->cso = (lower >> 16) & 0xff;
		t->css = (upper >> 8) & 0xff;
	}
	/* The tag is the EOP descriptor's; segments going out before it need it already. */
	if ((e1000_reg(s, CTRL) & CTRL_VME) && (lower & TXD_CMD_VLE) &&
	    ((lower & TXD_CMD_EOP) || t->tse)) {
		t->vlan = true;
		t->vlan_tci = upper >> 16;
	}
	if (t->tse) {
		if (tx_copy_tso(s, addr, len) < 0)
			return -EINVAL;
	} else if (len) {
		if (t->size + len > E1000_TX_BUF) {
			e1000_queue_stop(s, true, "a packet of more than %u bytes without EOP "
					 "(%u descriptors)", E1000_TX_BUF, t->descs);
			return -E2BIG;
		}
		if (e1000_dma_read(s, addr, t->data + t->size, len) < 0) {
			e1000_queue_stop(s, true, "buffer %#llx+%u %s", (unsigned long long)addr,
					 len, e1000_bad_addr(s));
			return -EFAULT;
		}
		t->size += len;
	}
	if (!(lower & TXD_CMD_EOP))
		return 0;
	if (!t->tse) {
		tx_segment(s);
	} else {
		/* The last segment holds what is left; a header alone only if nothing went. */
		if (t->size > t->tso_ctx.hdr_len || (!t->segs && t->size == t->tso_ctx.hdr_len))
			tx_segment(s);
		e1000_stat_inc(s, TSCTC);
	}
	tx_packet_done(s);
	return 0;
}

void e1000_tx_kick(struct e1000 *s)
{
	uint64_t base = (uint64_t)e1000_reg(s, TDBAH) << 32 | (e1000_reg(s, TDBAL) & ~0xfu);
	uint32_t n = e1000_reg(s, TDLEN) / DESC_SIZE, head = e1000_reg(s, TDH);
	bool written = false, delayed = true;

	if (!(e1000_reg(s, TCTL) & TCTL_EN) || s->tx_stopped ||
	    head == e1000_reg(s, TDT) || !e1000_ring_ok(s, true, base, n))
		return;
	while (head != e1000_reg(s, TDT) && !s->tx_stopped) {
		uint64_t at = base + (uint64_t)head * DESC_SIZE;
		uint8_t d[DESC_SIZE];
		uint32_t lower;
		int ret = 0;

		/* One copy: the guest may change the descriptor under us. */
		if (e1000_dma_read(s, at, d, sizeof(d)) < 0) {
			e1000_bad_desc(s, true, at);
			break;
		}
		lower = le_load(d + 8, 4);
		if (!(lower & TXD_CMD_DEXT))
			ret = tx_data(s, d, true);
		else if (!(lower & TXD_DTYP_D))
			tx_context(s, d);
		else
			ret = tx_data(s, d, false);
		if (ret < 0)
			break;
		if (lower & (TXD_CMD_RS | TXD_CMD_RPS)) {
			uint8_t st = (d[12] & ~0x0e) | TXD_STAT_DD;

			if (e1000_dma_write(s, at + 12, &st, 1) < 0) {
				e1000_bad_desc(s, true, at);
				break;
			}
			written = true;
			delayed &= !!(lower & TXD_CMD_IDE);
		}
		head = head + 1 == n ? 0 : head + 1;
		e1000_set_reg(s, TDH, head);
	}
	if (written)
		e1000_tx_interrupt(s, delayed);
	if (head == e1000_reg(s, TDT))
		e1000_set_cause(s, ICR_TXQE);
}

void e1000_tx_reset(struct e1000 *s)
{
	tx_packet_done(s);
	memset(&s->tx.ctx, 0, sizeof(s->tx.ctx));
	memset(&s->tx.tso_ctx, 0, sizeof(s->tx.tso_ctx));
	s->tx_stopped = false;
}
