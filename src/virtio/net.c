// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net (virtio 1.2, 5.1), the device side: receiveq1, transmitq1 and
 * a control queue, frames to and from one network backend (net.h).
 *
 * TX: a kick pops every available chain and sends each as one frame, then
 * publishes them with one flush (at most one interrupt per kick; none when
 * EVENT_IDX says the driver polls). RX: the backend hands over one frame
 * at a time on the I/O thread; it goes into one chain, or with MRG_RXBUF
 * into as many as it needs (num_buffers says how many), and is published
 * at once. Without buffers the frame stays with the backend, which stops
 * reading until a kick of the receive queue says there are buffers again:
 * nothing spins and nothing is lost silently.
 *
 * Chains popped for RX and not yet filled are held here (the frame they
 * were popped for did not fit, or waits for more buffers); a reset makes
 * them stale through the core's epoch. Each frame carries the 12-byte
 * virtio_net_hdr_v1: a backend with vnet headers (tap vnet-hdr) gets and
 * gives it as it is; otherwise the device strips it on TX (no offload was
 * offered, so the guest cannot have asked for one) and writes a zero one
 * on RX. Guest buffers arrive from the core as iovecs already checked
 * against RAM; what the core cannot know (a TX chain shorter than the
 * header, an RX buffer that cannot hold it) is checked here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/machine.h"
#include "qlite/net.h"
#include "qlite/stats.h"
#include "qlite/util.h"
#include "qlite/virtio.h"
#include "qlite/virtio_net.h"

#define VNET_HDR		NET_VNET_HDR_LEN
#define VNET_NR_QUEUES		3
#define VNET_TX_IOV_MAX		1024	/* a TX chain's segments; longer ones break the queue */
#define VNET_RX_IOV_MAX		64	/* an RX chain's (Linux's big buffers use up to 19) */
#define VNET_CTRL_IOV_MAX	8	/* header, two MAC tables, ack: 4 in practice */

static const uint8_t vnet_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* One receive chain popped and not yet given back. */
struct vnet_rx_buf {
	struct virtq_elem elem;
	struct iovec in_iov[VNET_RX_IOV_MAX];
	struct iovec out_iov[1];	/* any device-readable part is a driver error */
};

struct virtio_net {
	struct virtio_device vdev;
	struct virtio_device_info info;
	bool inited;		/* vdev is initialised */
	struct machine *m;
	struct net_backend *be;
	bool vnet_hdr;		/* the backend's frames carry the header */
	uint16_t queue_sizes[VNET_NR_QUEUES];
	struct virtio_net_config config;

	/* Receive chains held, a ring of VIRTIO_NET_QUEUE_SIZE from rx_first. */
	struct vnet_rx_buf *rx;
	unsigned rx_first, rx_held;

	/* Transmit and control: one chain at a time, under the lock. */
	struct virtq_elem tx_elem;
	struct iovec tx_iov[VNET_TX_IOV_MAX];
	struct iovec ctrl_out[VNET_CTRL_IOV_MAX], ctrl_in[VNET_CTRL_IOV_MAX];

	/* CTRL_RX and the MAC tables (5.1.6.5.1, 5.1.6.5.2), back to promiscuous at reset. */
	bool promisc, allmulti;
	bool uc_overflow, mc_overflow;	/* a table larger than ours: accept all of that kind */
	unsigned nr_uc, nr_mc;
	uint8_t uc[VIRTIO_NET_MAC_TABLE][6], mc[VIRTIO_NET_MAC_TABLE][6];

	struct virtio_net_stats stats;
};

/* ---- helpers ---- */

static size_t iov_bytes(const struct iovec *iov, unsigned n)
{
	size_t len = 0;

	for (unsigned i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

/* Copy len bytes of iov from byte off into buf; how many there were. */
static size_t iov_read(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t seg = iov[i].iov_len, take;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		take = seg - off < len - done ? seg - off : len - done;
		memcpy((uint8_t *)buf + done, (const uint8_t *)iov[i].iov_base + off, take);
		done += take;
		off = 0;
	}
	return done;
}

/* len bytes of iov from byte src_off into sg at byte dst_off. */
static void iov_to_sg(const struct dma_sg *sg, size_t dst_off, const struct iovec *iov,
		      unsigned n, size_t src_off, size_t len)
{
	for (unsigned i = 0; i < n && len; i++) {
		size_t seg = iov[i].iov_len, take;

		if (src_off >= seg) {
			src_off -= seg;
			continue;
		}
		take = seg - src_off < len ? seg - src_off : len;
		dma_sg_to(sg, dst_off, (const uint8_t *)iov[i].iov_base + src_off, take);
		dst_off += take;
		len -= take;
		src_off = 0;
	}
}

static bool vnet_on(const struct virtio_net *n, unsigned bit)
{
	return virtio_feature_on(&n->vdev, bit);
}

/* ---- transmit ---- */

/* Send the frame of one TX chain; false when it was dropped. */
static bool vnet_tx_one(struct virtio_net *n, struct virtq_elem *e)
{
	struct iovec *iov = e->out.iov;
	unsigned cnt = e->out.n;
	uint64_t frame;

	/* 5.1.6.2: every frame starts with the header; a shorter chain carries no frame. */
	if (e->out.bytes < VNET_HDR)
		return false;
	frame = e->out.bytes - VNET_HDR;
	if (!frame || frame > NET_MAX_FRAME)
		return false;
	if (!n->vnet_hdr) {
		/* Drop the header's bytes from the front of our own copy of the iovecs. */
		size_t skip = VNET_HDR;

		while (skip >= iov->iov_len) {
			skip -= iov->iov_len;
			iov++;
			cnt--;
		}
		iov->iov_base = (uint8_t *)iov->iov_base + skip;
		iov->iov_len -= skip;
	}
	if (net_backend_send(n->be, iov, cnt) < 0)
		return false;
	stat_add(&n->stats.tx_frames, 1);
	stat_add(&n->stats.tx_bytes, frame);
	return true;
}

static void vnet_tx(struct virtio_net *n)
{
	struct virtq *vq = virtio_queue(&n->vdev, VIRTIO_NET_TXQ);
	struct virtq_elem *e = &n->tx_elem;

	for (;;) {
		/* No writable part: a TX chain with one breaks the queue in the core. */
		virtq_elem_init(e, n->tx_iov, VNET_TX_IOV_MAX, NULL, 0);
		if (virtq_pop(vq, e) <= 0)
			break;
		if (!vnet_tx_one(n, e))
			stat_add(&n->stats.tx_dropped, 1);
		virtq_push(vq, e, 0);
	}
	virtio_queue_flush(&n->vdev, VIRTIO_NET_TXQ);
}

/* ---- receive ---- */

static bool mac_in(const uint8_t (*table)[6], unsigned n, const uint8_t *mac)
{
	for (unsigned i = 0; i < n; i++)
		if (!memcmp(table[i], mac, 6))
			return true;
	return false;
}

/* Does the receive filter let a frame to dst through? */
static bool vnet_wanted(const struct virtio_net *n, const uint8_t *dst)
{
	if (!vnet_on(n, VIRTIO_NET_F_CTRL_RX) || n->promisc)
		return true;
	if (!memcmp(dst, vnet_broadcast, 6))
		return true;
	if (dst[0] & 1)
		return n->allmulti || n->mc_overflow || mac_in(n->mc, n->nr_mc, dst);
	return !memcmp(dst, n->config.mac, 6) || n->uc_overflow || mac_in(n->uc, n->nr_uc, dst);
}

/* A header from the backend asks only for what the driver accepted. */
static bool vnet_offload_ok(const struct virtio_net *n, const struct virtio_net_hdr_v1 *h)
{
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !vnet_on(n, VIRTIO_NET_F_GUEST_CSUM))
		return false;
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return vnet_on(n, VIRTIO_NET_F_GUEST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return vnet_on(n, VIRTIO_NET_F_GUEST_TSO6);
	}
	return false;	/* UDP, ECN: never offered */
}

static struct vnet_rx_buf *vnet_rx_at(struct virtio_net *n, unsigned i)
{
	return &n->rx[(n->rx_first + i) % VIRTIO_NET_QUEUE_SIZE];
}

/*
 * Chain i of those held, popping one more when i is the next: NULL when
 * the ring has no more (or is broken). A chain the frame cannot go into at
 * all is the driver's error (5.1.6.3.1): the device needs a reset.
 */
static struct vnet_rx_buf *vnet_rx_chain(struct virtio_net *n, struct virtq *vq, unsigned i)
{
	struct vnet_rx_buf *b;

	if (i < n->rx_held)
		return vnet_rx_at(n, i);
	if (n->rx_held >= VIRTIO_NET_QUEUE_SIZE)
		return NULL;
	b = vnet_rx_at(n, i);
	virtq_elem_init(&b->elem, b->out_iov, 1, b->in_iov, VNET_RX_IOV_MAX);
	if (virtq_pop(vq, &b->elem) <= 0)
		return NULL;
	n->rx_held++;
	if (b->elem.out.n) {
		virtio_device_needs_reset(&n->vdev, "receive chain %u has a device-readable buffer",
					  b->elem.head);
		return NULL;
	}
	if (b->elem.in.bytes < VNET_HDR) {
		virtio_device_needs_reset(&n->vdev, "receive chain %u: %llu bytes, less than the "
					  "%u-byte header", b->elem.head,
					  (unsigned long long)b->elem.in.bytes, VNET_HDR);
		return NULL;
	}
	return b;
}

/* Write the header and frame into the first used chains held, give them back. */
static void vnet_rx_fill(struct virtio_net *n, struct virtq *vq, unsigned used,
			 const struct virtio_net_hdr_v1 *hdr, const struct iovec *iov,
			 unsigned iovcnt, size_t skip, size_t frame)
{
	size_t off = 0, total = VNET_HDR + frame;	/* off: bytes of header and frame written */

	for (unsigned i = 0; i < used; i++) {
		const struct dma_sg *sg = &vnet_rx_at(n, i)->elem.in;
		size_t room = sg->bytes < total - off ? sg->bytes : total - off, pos = 0;

		if (!i) {
			dma_sg_to(sg, 0, hdr, VNET_HDR);
			pos = VNET_HDR;
		}
		iov_to_sg(sg, pos, iov, iovcnt, skip + off + pos - VNET_HDR, room - pos);
		virtq_push(vq, &vnet_rx_at(n, i)->elem, room);
		off += room;
	}
	n->rx_first = (n->rx_first + used) % VIRTIO_NET_QUEUE_SIZE;
	n->rx_held -= used;
}

/* One frame from the backend (lock held): true taken (delivered or dropped), false no room. */
static bool vnet_rx(struct virtio_net *n, const struct iovec *iov, unsigned iovcnt, size_t len)
{
	struct virtq *vq = virtio_queue(&n->vdev, VIRTIO_NET_RXQ);
	bool mrg = vnet_on(n, VIRTIO_NET_F_MRG_RXBUF);
	struct virtio_net_hdr_v1 hdr = { 0 };
	size_t skip = n->vnet_hdr ? VNET_HDR : 0, frame, room = 0;
	uint8_t dst[6];
	unsigned used = 0;

	if (!virtio_device_live(&n->vdev) || !vq->enabled || vq->broken) {
		stat_add(&n->stats.rx_no_buffer, 1);
		return false;
	}
	/* Popped before a reset (or a queue disable): the driver has them back. */
	if (n->rx_held && vnet_rx_at(n, 0)->elem.epoch != vq->epoch)
		n->rx_held = 0;
	len = len < iov_bytes(iov, iovcnt) ? len : iov_bytes(iov, iovcnt);
	if (len < skip + sizeof(dst)) {
		/* Not even a destination address (or a backend header cut short). */
		stat_add(&n->stats.rx_dropped_malformed, 1);
		return true;
	}
	frame = len - skip;
	if (frame > NET_MAX_FRAME) {
		stat_add(&n->stats.rx_dropped_too_big, 1);
		return true;
	}
	if (skip) {
		iov_read(iov, iovcnt, 0, &hdr, VNET_HDR);
		if (!vnet_offload_ok(n, &hdr)) {
			stat_add(&n->stats.rx_dropped_offload, 1);
			return true;
		}
		/* 5.1.6.4.1: without GUEST_CSUM the flags are zero (no DATA_VALID either). */
		hdr.flags &= vnet_on(n, VIRTIO_NET_F_GUEST_CSUM) ?
			     VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID : 0;
	}
	iov_read(iov, iovcnt, skip, dst, sizeof(dst));
	if (!vnet_wanted(n, dst)) {
		stat_add(&n->stats.rx_filtered, 1);
		return true;
	}
	/* One chain, or with MRG_RXBUF as many as the header and frame need. */
	while (mrg ? room < VNET_HDR + frame : !used) {
		struct vnet_rx_buf *b = vnet_rx_chain(n, vq, used);

		if (!b)
			break;
		room += b->elem.in.bytes;
		used++;
	}
	if (room < VNET_HDR + frame) {
		bool all_here = n->rx_held >= vq->size || n->rx_held >= VIRTIO_NET_QUEUE_SIZE;

		if (virtio_device_live(&n->vdev) && !vq->broken && used && (!mrg || all_here)) {
			/*
			 * 5.1.6.3: the buffers are too small for it (without MRG_RXBUF
			 * the one chain, with it every chain the ring holds). They
			 * stay here for the next frame.
			 */
			stat_add(&n->stats.rx_dropped_too_big, 1);
			return true;
		}
		/* Wait for buffers (a kick), or for the reset a broken ring needs. */
		stat_add(&n->stats.rx_no_buffer, 1);
		return false;
	}
	hdr.num_buffers = mrg ? used : 1;
	vnet_rx_fill(n, vq, used, &hdr, iov, iovcnt, skip, frame);
	virtio_queue_flush(&n->vdev, VIRTIO_NET_RXQ);
	stat_add(&n->stats.rx_frames, 1);
	stat_add(&n->stats.rx_bytes, frame);
	return true;
}

/* The backend's receive callback, on the I/O thread. */
static bool vnet_receive(void *opaque, const struct iovec *iov, unsigned iovcnt, size_t len)
{
	struct virtio_net *n = opaque;
	bool taken;

	virtio_device_lock(&n->vdev);
	taken = vnet_rx(n, iov, iovcnt, len);
	virtio_device_unlock(&n->vdev);
	return taken;
}

static const struct net_client_ops vnet_client_ops = {
	.receive = vnet_receive,
};

/* ---- control queue ---- */

/* One MAC table of a TABLE_SET at byte *off of the command's data: entries, then the MACs. */
static bool vnet_ctrl_table(const struct dma_sg *out, size_t *off, uint8_t (*table)[6],
			    unsigned *nr, bool *overflow)
{
	uint32_t entries;

	if (out->bytes - *off < sizeof(entries))
		return false;
	dma_sg_from(out, *off, &entries, sizeof(entries));
	*off += sizeof(entries);
	if (entries > (out->bytes - *off) / 6)
		return false;
	*overflow = entries > VIRTIO_NET_MAC_TABLE;
	*nr = *overflow ? 0 : entries;
	dma_sg_from(out, *off, table, *nr * 6ULL);
	*off += entries * 6ULL;
	return true;
}

static uint8_t vnet_ctrl_cmd(struct virtio_net *n, const struct dma_sg *out)
{
	struct virtio_net_ctrl_hdr h;
	size_t len, off = sizeof(h);
	uint8_t on;

	if (out->bytes < sizeof(h))
		return VIRTIO_NET_ERR;
	dma_sg_from(out, 0, &h, sizeof(h));
	len = out->bytes - sizeof(h);
	if (h.class == VIRTIO_NET_CTRL_RX && vnet_on(n, VIRTIO_NET_F_CTRL_RX)) {
		if (len != 1 || h.cmd > VIRTIO_NET_CTRL_RX_ALLMULTI)
			return VIRTIO_NET_ERR;
		dma_sg_from(out, off, &on, 1);
		if (h.cmd == VIRTIO_NET_CTRL_RX_PROMISC)
			n->promisc = on;
		else
			n->allmulti = on;
		return VIRTIO_NET_OK;
	}
	if (h.class != VIRTIO_NET_CTRL_MAC)
		return VIRTIO_NET_ERR;
	if (h.cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET && vnet_on(n, VIRTIO_NET_F_CTRL_MAC_ADDR)) {
		if (len != 6)
			return VIRTIO_NET_ERR;
		dma_sg_from(out, off, n->config.mac, 6);
		return VIRTIO_NET_OK;
	}
	if (h.cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET && vnet_on(n, VIRTIO_NET_F_CTRL_RX)) {
		uint8_t uc[VIRTIO_NET_MAC_TABLE][6], mc[VIRTIO_NET_MAC_TABLE][6];
		unsigned nr_uc, nr_mc;
		bool uc_over, mc_over;

		/* Both tables checked before either is used: a bad command changes nothing. */
		if (!vnet_ctrl_table(out, &off, uc, &nr_uc, &uc_over) ||
		    !vnet_ctrl_table(out, &off, mc, &nr_mc, &mc_over) || off != out->bytes)
			return VIRTIO_NET_ERR;
		memcpy(n->uc, uc, sizeof(uc));
		memcpy(n->mc, mc, sizeof(mc));
		n->nr_uc = nr_uc;
		n->nr_mc = nr_mc;
		n->uc_overflow = uc_over;
		n->mc_overflow = mc_over;
		return VIRTIO_NET_OK;
	}
	return VIRTIO_NET_ERR;
}

static void vnet_ctrl(struct virtio_net *n)
{
	struct virtq *vq = virtio_queue(&n->vdev, VIRTIO_NET_CTRLQ);
	struct virtq_elem e;

	for (;;) {
		uint8_t ack;

		virtq_elem_init(&e, n->ctrl_out, VNET_CTRL_IOV_MAX, n->ctrl_in, VNET_CTRL_IOV_MAX);
		if (virtq_pop(vq, &e) <= 0)
			break;
		stat_add(&n->stats.ctrl_commands, 1);
		ack = vnet_ctrl_cmd(n, &e.out);
		if (ack != VIRTIO_NET_OK || !e.in.bytes)
			stat_add(&n->stats.ctrl_errors, 1);
		/* No writable byte for the ack: the command is done, nothing says how. */
		dma_sg_to(&e.in, 0, &ack, e.in.bytes ? 1 : 0);
		virtq_push(vq, &e, e.in.bytes ? 1 : 0);
	}
	virtio_queue_flush(&n->vdev, VIRTIO_NET_CTRLQ);
}

/* ---- the device's ops ---- */

static void vnet_queue_notify(struct virtio_device *vdev, unsigned q)
{
	struct virtio_net *n = vdev->priv;

	/*
	 * Buffers may have come: the backend offers its held frame again. It
	 * only wakes the I/O thread (net.h: never a delivery from inside), so
	 * our lock held here is no deadlock.
	 */
	if (q == VIRTIO_NET_RXQ)
		net_backend_rx_ready(n->be);
	else if (q == VIRTIO_NET_TXQ)
		vnet_tx(n);
	else if (q == VIRTIO_NET_CTRLQ && vnet_on(n, VIRTIO_NET_F_CTRL_VQ))
		vnet_ctrl(n);
}

static void vnet_config_read(struct virtio_device *vdev, uint32_t offset, void *data,
			     unsigned len)
{
	struct virtio_net *n = vdev->priv;

	memcpy(data, (const uint8_t *)&n->config + offset, len);
}

static int vnet_activate(struct virtio_device *vdev)
{
	struct virtio_net *n = vdev->priv;

	/* Buffers made available before DRIVER_OK came without a kick we saw. */
	net_backend_rx_ready(n->be);
	return 0;
}

static void vnet_reset(struct virtio_device *vdev)
{
	struct virtio_net *n = vdev->priv;

	/* Held chains are the driver's again; the filter back to its default (5.1.6.5.1). */
	n->rx_held = 0;
	n->rx_first = 0;
	n->promisc = true;
	n->allmulti = false;
	n->nr_uc = n->nr_mc = 0;
	n->uc_overflow = n->mc_overflow = false;
}

/* The device's counters in the transport's exit-report entry (any thread, no lock). */
static void vnet_report(struct virtio_device *vdev, struct device_report *out)
{
	struct virtio_net *n = vdev->priv;
	struct virtio_net_stats s;
	struct net_backend_stats b;

	virtio_net_get_stats(n, &s);
	net_backend_get_stats(n->be, &b);
	device_report_add(out, "tx_frames", s.tx_frames);
	device_report_add(out, "tx_bytes", s.tx_bytes);
	device_report_add(out, "tx_dropped", s.tx_dropped);
	device_report_add(out, "rx_frames", s.rx_frames);
	device_report_add(out, "rx_bytes", s.rx_bytes);
	/* The backend counts what it lost while we had no buffers. */
	device_report_add(out, "rx_dropped_no_buffer", b.rx_dropped);
	device_report_add(out, "rx_no_buffer_waits", s.rx_no_buffer);
	device_report_add(out, "rx_dropped_too_big", s.rx_dropped_too_big);
	device_report_add(out, "rx_dropped_offload", s.rx_dropped_offload);
	device_report_add(out, "rx_dropped_malformed", s.rx_dropped_malformed);
	device_report_add(out, "rx_filtered", s.rx_filtered);
	device_report_add(out, "ctrl_commands", s.ctrl_commands);
	device_report_add(out, "ctrl_errors", s.ctrl_errors);
}

/* Its part of the `qlite check` line: the MAC and the backend. */
static void vnet_describe(struct virtio_device *vdev, char *buf, size_t len)
{
	struct virtio_net *n = vdev->priv;
	const uint8_t *mac = n->config.mac;

	snprintf(buf, len, "mac %02x:%02x:%02x:%02x:%02x:%02x backend %s", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5], net_backend_describe(n->be));
}

static const struct virtio_device_ops vnet_ops = {
	.config_read = vnet_config_read,
	.queue_notify = vnet_queue_notify,
	.activate = vnet_activate,
	.reset = vnet_reset,
	.report = vnet_report,
	.describe = vnet_describe,
};

static void virtio_net_release(void *state)
{
	struct virtio_net *n = state;

	/* The backend first: no frame may come once the transport (released before us) is gone. */
	if (n->be)
		net_backend_close(n->be);
	n->be = NULL;
	if (n->inited) {
		virtio_device_lock(&n->vdev);
		virtio_device_set_transport(&n->vdev, NULL, NULL);
		virtio_device_unlock(&n->vdev);
		virtio_device_destroy(&n->vdev);
	}
	free(n->rx);
	free(n);
}

/* ---- construction and reports ---- */

static uint64_t vnet_features(const struct virtio_net_opts *o, bool vnet_hdr)
{
	uint64_t f = VIRTIO_F_BIT(VIRTIO_NET_F_MAC) | VIRTIO_F_BIT(VIRTIO_NET_F_STATUS) |
		     VIRTIO_F_BIT(VIRTIO_NET_F_CTRL_VQ) | VIRTIO_F_BIT(VIRTIO_NET_F_CTRL_RX) |
		     VIRTIO_F_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR);

	if (!o->no_mrg_rxbuf)
		f |= VIRTIO_F_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (o->mtu)
		f |= VIRTIO_F_BIT(VIRTIO_NET_F_MTU);
	/* Offloads only where the backend carries the header that asks for them. */
	if (vnet_hdr)
		f |= VIRTIO_F_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_F_BIT(VIRTIO_NET_F_GUEST_CSUM) |
		     VIRTIO_F_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_F_BIT(VIRTIO_NET_F_HOST_TSO6) |
		     VIRTIO_F_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_F_BIT(VIRTIO_NET_F_GUEST_TSO6);
	return f;
}

int virtio_net_create(struct machine *m, const struct virtio_net_opts *o,
		      struct virtio_net **out)
{
	struct net_backend_opts bo = o->backend;
	struct virtio_net *n;
	int ret;

	if (o->mtu && o->mtu < 68)
		return report(-EINVAL, "virtio-net: mtu %u: at least 68", o->mtu);
	n = machine_alloc_device(m, sizeof(*n), virtio_net_release);
	if (!n)
		return report(-ENOMEM, "virtio-net: out of memory");
	n->m = m;
	n->rx = calloc(VIRTIO_NET_QUEUE_SIZE, sizeof(*n->rx));
	if (!n->rx)
		return report(-ENOMEM, "virtio-net: out of memory");
	bo.owner = "virtio-net";
	ret = net_backend_open(m, &bo, &vnet_client_ops, n, &n->be);
	if (ret)
		return ret;
	n->vnet_hdr = net_backend_has_vnet_hdr(n->be);
	memcpy(n->config.mac, o->mac, 6);
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = 1;
	n->config.mtu = o->mtu;
	n->promisc = true;
	n->queue_sizes[VIRTIO_NET_RXQ] = VIRTIO_NET_QUEUE_SIZE;
	n->queue_sizes[VIRTIO_NET_TXQ] = VIRTIO_NET_QUEUE_SIZE;
	n->queue_sizes[VIRTIO_NET_CTRLQ] = VIRTIO_NET_CTRL_QUEUE_SIZE;
	n->info = (struct virtio_device_info){
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.features = vnet_features(o, n->vnet_hdr),
		.config_size = sizeof(n->config),
		.nr_queues = VNET_NR_QUEUES,
		.queue_max_sizes = n->queue_sizes,
		.ops = &vnet_ops,
	};
	ret = virtio_device_init(&n->vdev, &n->info, m->mem, n);
	if (ret)
		return ret;
	n->inited = true;
	*out = n;
	return 0;
}

struct virtio_device *virtio_net_device(struct virtio_net *n)
{
	return &n->vdev;
}

void virtio_net_get_stats(const struct virtio_net *n, struct virtio_net_stats *out)
{
	const struct virtio_net_stats *s = &n->stats;

	*out = (struct virtio_net_stats){
		.tx_frames = stat_read(&s->tx_frames),
		.tx_bytes = stat_read(&s->tx_bytes),
		.tx_dropped = stat_read(&s->tx_dropped),
		.rx_frames = stat_read(&s->rx_frames),
		.rx_bytes = stat_read(&s->rx_bytes),
		.rx_no_buffer = stat_read(&s->rx_no_buffer),
		.rx_dropped_too_big = stat_read(&s->rx_dropped_too_big),
		.rx_dropped_offload = stat_read(&s->rx_dropped_offload),
		.rx_dropped_malformed = stat_read(&s->rx_dropped_malformed),
		.rx_filtered = stat_read(&s->rx_filtered),
		.ctrl_commands = stat_read(&s->ctrl_commands),
		.ctrl_errors = stat_read(&s->ctrl_errors),
	};
}

