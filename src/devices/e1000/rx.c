// SPDX-License-Identifier: GPL-2.0-only
/*
 * e1000 receive, on the I/O thread, one frame from the backend at a time:
 * padded to 60 bytes, checked against the size limits (LPE) and the
 * filters (broadcast BAM, unicast and multicast promiscuous UPE/MPE, the
 * 16 exact RAL/RAH entries, the MTA hash chosen by MO, the VLAN table with
 * VFE), the VLAN tag stripped into the descriptor with CTRL.VME, the FCS
 * appended unless RCTL.SECRC, then written over as many descriptors from
 * RDH as the buffer size (RCTL.BSIZE/BSEX) needs. Each descriptor gets its
 * length and status back (DD, EOP on the last, IXSM: no checksum offload);
 * RXT0 follows (moderated by RDTR/RADV), RXDMT0 when the free descriptors
 * fall to the RDMTS threshold.
 *
 * No room (RDH == RDT, or fewer free buffers than the frame needs): the
 * backend keeps the frame (return false) until the guest writes RDT. A
 * frame the whole ring could never hold is dropped with RXO. Frames the
 * filters refuse are taken and counted. A ring or buffer outside RAM, or
 * RDH/RDT past RDLEN, stops the queue with one line.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <string.h>

#include "e1000.h"
#include "qlite/util.h"

#define ETH_ZLEN	60
#define ETH_HLEN	14
#define VLAN_HLEN	4
#define RX_MAX_SHORT	(ETH_HLEN + VLAN_HLEN + 1500)	/* past this LPE is needed */
#define RX_MAX_LONG	(16384 - ETH_FCS)		/* past this no frame is taken */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (unsigned k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* The Ethernet FCS (CRC-32, sent least significant byte first). */
static uint32_t eth_fcs(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	pthread_once(&crc_once, crc_init);
	for (size_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return ~c;
}

uint32_t e1000_rx_buf_size(uint32_t rctl)
{
	static const uint32_t plain[] = { 2048, 1024, 512, 256 };
	static const uint32_t ext[] = { 2048, 16384, 8192, 4096 };
	unsigned bsize = (rctl >> RCTL_BSIZE_SHIFT) & 3;

	return (rctl & RCTL_BSEX) ? ext[bsize] : plain[bsize];
}

bool e1000_rx_can_take(const struct e1000 *s)
{
	return e1000_link_up(s) && (e1000_reg(s, RCTL) & RCTL_EN) &&
	       (le_load(s->pci.cfg + PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
}

void e1000_rx_kick(struct e1000 *s)
{
	if (s->rx_held && e1000_rx_can_take(s))
		s->want_rx_ready = true;
}

static bool rx_vlan_ok(const struct e1000 *s, const uint8_t *f)
{
	unsigned vid;

	if (!(e1000_reg(s, RCTL) & RCTL_VFE) ||
	    e1000_get_be16(f + 12) != (e1000_reg(s, VET) & 0xffff))
		return true;
	vid = e1000_get_be16(f + 14) & 0xfff;
	return e1000_reg(s, VFTA + 4 * (vid >> 5)) & (1u << (vid & 31));
}

static bool rx_addr_ok(const struct e1000 *s, const uint8_t *dst)
{
	static const unsigned mo_shift[] = { 4, 3, 2, 0 };
	uint32_t rctl = e1000_reg(s, RCTL), f;

	if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6)) {
		if (rctl & RCTL_BAM)
			return true;
	} else if (dst[0] & 1) {
		if (rctl & RCTL_MPE)
			return true;
	} else if (rctl & RCTL_UPE) {
		return true;
	}
	for (unsigned i = 0; i < E1000_RA_ENTRIES; i++) {
		uint32_t lo = e1000_reg(s, RAL + 8 * i), hi = e1000_reg(s, RAH + 8 * i);
		uint8_t ra[6] = { lo, lo >> 8, lo >> 16, lo >> 24, hi, hi >> 8 };

		if ((hi & RAH_AV) && !memcmp(dst, ra, 6))
			return true;
	}
	/* The inexact filter, as QEMU applies it: 12 bits of the address pick an MTA bit. */
	f = ((uint32_t)(dst[5] << 8 | dst[4]) >> mo_shift[(rctl >> RCTL_MO_SHIFT) & 3]) & 0xfff;
	return e1000_reg(s, MTA + 4 * (f >> 5)) & (1u << (f & 31));
}

static const struct e1000_frame_stats rx_stats = {
	TPR, GPRC, GORCL, TORL, BPRC, MPRC,
	{ PRC64, PRC127, PRC255, PRC511, PRC1023, PRC1522 },
};

/*
 * Buffers (descriptors with an address) from RDH up to RDT, counting at
 * most want into *bufs. -EFAULT: a descriptor was refused, the queue stopped.
 */
static int rx_free_buffers(struct e1000 *s, uint64_t base, uint32_t n, uint32_t want,
			   uint32_t *bufs)
{
	uint32_t i = e1000_reg(s, RDH), tail = e1000_reg(s, RDT);

	*bufs = 0;
	while (i != tail && *bufs < want) {
		uint64_t at = base + (uint64_t)i * DESC_SIZE, addr = 0;

		if (e1000_dma_read(s, at, &addr, sizeof(addr)) < 0) {
			e1000_bad_desc(s, false, at);
			return -EFAULT;
		}
		*bufs += addr != 0;
		i = i + 1 == n ? 0 : i + 1;
	}
	return 0;
}

/* Write frame (total bytes, FCS included) over the descriptors from RDH. */
static void rx_write(struct e1000 *s, uint64_t base, uint32_t n, const uint8_t *frame,
		     uint32_t total, uint8_t vlan_status, uint16_t vlan_tci)
{
	uint32_t head = e1000_reg(s, RDH), off = 0, bufsize = s->rx_buf_size;

	while (off < total && head != e1000_reg(s, RDT)) {
		uint64_t at = base + (uint64_t)head * DESC_SIZE, addr = 0;
		uint32_t chunk = total - off < bufsize ? total - off : bufsize;
		uint8_t wb[8] = { 0 };

		if (e1000_dma_read(s, at, &addr, sizeof(addr)) < 0) {
			e1000_bad_desc(s, false, at);
			return;
		}
		addr = le_load(&addr, 8);
		if (addr) {
			if (e1000_dma_write(s, addr, frame + off, chunk) < 0) {
				e1000_queue_stop(s, false, "buffer %#llx+%u %s",
						 (unsigned long long)addr, chunk, e1000_bad_addr(s));
				return;
			}
			off += chunk;
			le_store(wb, chunk, 2);
		}
		/* A descriptor without a buffer is skipped, written back empty. */
		wb[4] = RXD_STAT_DD | vlan_status;
		if (off >= total)
			wb[4] |= RXD_STAT_EOP | RXD_STAT_IXSM;
		le_store(wb + 6, vlan_tci, 2);
		if (e1000_dma_write(s, at + 8, wb, sizeof(wb)) < 0) {
			e1000_bad_desc(s, false, at);
			return;
		}
		head = head + 1 == n ? 0 : head + 1;
		e1000_set_reg(s, RDH, head);
	}
}

static bool rx_frame(struct e1000 *s, const struct iovec *iov, unsigned iovcnt, size_t len)
{
	uint64_t base = (uint64_t)e1000_reg(s, RDBAH) << 32 | (e1000_reg(s, RDBAL) & ~0xfu);
	uint32_t n = e1000_reg(s, RDLEN) / DESC_SIZE, size, total, need, free, tail;
	uint8_t frame[RX_MAX_LONG + ETH_FCS];
	uint8_t vlan_status = 0;
	uint16_t vlan_tci = 0;
	size_t skip = s->vnet_hdr ? NET_VNET_HDR_LEN : 0, got = 0;

	if (s->rx_stopped) {
		e1000_count(&s->cnt.rx_dropped_no_buffer, 1);
		return true;
	}
	if (!e1000_rx_can_take(s)) {
		s->rx_held = true;
		return false;
	}
	if (len < skip + ETH_HLEN || len - skip > RX_MAX_LONG) {
		e1000_stat_inc(s, len < skip + ETH_HLEN ? RUC : ROC);
		e1000_count(&s->cnt.rx_dropped_oversize, 1);
		return true;
	}
	size = (uint32_t)(len - skip);
	for (unsigned i = 0; i < iovcnt && got < size; i++) {
		size_t from = skip < iov[i].iov_len ? skip : iov[i].iov_len;
		size_t take = iov[i].iov_len - from;

		skip -= from;
		if (take > size - got)
			take = size - got;
		memcpy(frame + got, (const uint8_t *)iov[i].iov_base + from, take);
		got += take;
	}
	if (size < ETH_ZLEN) {
		memset(frame + size, 0, ETH_ZLEN - size);
		size = ETH_ZLEN;
	}
	if (size > RX_MAX_SHORT && !(e1000_reg(s, RCTL) & (RCTL_LPE | RCTL_SBP))) {
		e1000_stat_inc(s, ROC);
		e1000_count(&s->cnt.rx_dropped_oversize, 1);
		return true;
	}
	if (!rx_vlan_ok(s, frame) || !rx_addr_ok(s, frame)) {
		e1000_count(&s->cnt.rx_filtered, 1);
		return true;
	}
	if ((e1000_reg(s, CTRL) & CTRL_VME) &&
	    e1000_get_be16(frame + 12) == (e1000_reg(s, VET) & 0xffff)) {
		vlan_tci = e1000_get_be16(frame + 14);
		vlan_status = RXD_STAT_VP;
		memmove(frame + 12, frame + 16, size - 16);
		size -= VLAN_HLEN;
	}
	total = size;
	if (!(e1000_reg(s, RCTL) & RCTL_SECRC)) {
		le_store(frame + size, eth_fcs(frame, size), 4);
		total += ETH_FCS;
	}
	tail = e1000_reg(s, RDT);
	if (e1000_reg(s, RDH) == tail) {
		if (!s->rx_held)
			e1000_stat_inc(s, RNBC);
		s->rx_held = true;
		return false;
	}
	if (!e1000_ring_ok(s, false, base, n)) {
		e1000_count(&s->cnt.rx_dropped_no_buffer, 1);
		return true;
	}
	need = (total + s->rx_buf_size - 1) / s->rx_buf_size;
	if (need > n - 1) {
		/* More buffers than the ring can ever offer: lost, as an overrun. */
		e1000_stat_inc(s, MPC);
		e1000_count(&s->cnt.rx_dropped_no_buffer, 1);
		e1000_set_cause(s, ICR_RXO);
		return true;
	}
	if (rx_free_buffers(s, base, n, need, &free) < 0) {
		e1000_count(&s->cnt.rx_dropped_no_buffer, 1);
		return true;
	}
	if (free < need) {
		if (!s->rx_held)
			e1000_stat_inc(s, RNBC);
		s->rx_held = true;
		return false;
	}
	s->rx_held = false;
	rx_write(s, base, n, frame, total, vlan_status, vlan_tci);
	if (s->rx_stopped)
		return true;
	e1000_count_frame(s, &rx_stats, frame, size);
	e1000_count(&s->cnt.rx_frames, 1);
	e1000_count(&s->cnt.rx_bytes, size);
	e1000_rx_interrupt(s);
	tail = e1000_reg(s, RDT);
	free = (tail >= e1000_reg(s, RDH) ? 0 : n) + tail - e1000_reg(s, RDH);
	if (free <= n >> (((e1000_reg(s, RCTL) >> RCTL_RDMTS_SHIFT) & 3) + 1))
		e1000_set_cause(s, ICR_RXDMT0);
	return true;
}

bool e1000_receive(void *opaque, const struct iovec *iov, unsigned iovcnt, size_t len)
{
	struct e1000 *s = opaque;
	bool taken, want_drain;

	pthread_mutex_lock(&s->lock);
	taken = rx_frame(s, iov, iovcnt, len);
	want_drain = !taken && s->coalesce;
	pthread_mutex_unlock(&s->lock);
	/* The guest's RDT write may wait in the coalesced ring: have a vCPU deliver it. */
	if (want_drain && s->m->accel && s->m->accel->coalesced_flush)
		s->m->accel->coalesced_flush(s->m->accel_ctx);
	return taken;
}
