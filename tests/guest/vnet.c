// SPDX-License-Identifier: GPL-2.0-only
/*
 * vnet.c - a polled virtio-net driver from ring 3 over the transports of
 * vtransport.c: PCI modern (1af4:1041) or MMIO version 2 at a given
 * address, behind the NIC interface of net.c.
 *
 * Features: VERSION_1 and MAC only (no MRG_RXBUF, so every buffer starts
 * with the 12-byte virtio_net_hdr_v1 and holds one whole frame; no
 * EVENT_IDX, no offloads, no control queue). Queue 0 receives: all its
 * entries (at most 16) get a 2 KiB device-writable buffer at set-up. Queue
 * 1 transmits one frame at a time from one buffer, header and frame in one
 * descriptor. Used rings are polled in RAM; no interrupts.
 *
 * Register accesses (each one MMIO exit):
 *   set-up: the transport's handshake and both queues (vtransport.c), the
 *           MAC as 6 byte reads between two generation reads, one RX notify.
 *   per frame sent: one TX notify, left out while the device sets
 *           VRING_USED_F_NO_NOTIFY in the TX used ring.
 *   per frame received: one RX notify for the buffer handed back, left out
 *           the same way (QEMU sets the flag while the RX queue has buffers).
 * net.c prints the notifies each word made.
 */
#include "guest.h"

#define VIRTIO_PCI_NET		0x1041	/* 0x1040 + device id 1 */
#define VIRTIO_ID_NET		1
#define NET_F_MAC		(1ull << 5)
#define NET_HDR_LEN		12	/* virtio_net_hdr_v1 (num_buffers included) */
#define RXQ			0
#define TXQ			1

static struct vq_mem rx_mem, tx_mem;
static uint8_t tx_buf[NET_BUF_SIZE] __attribute__((aligned(4096)));

static uint8_t (*rx_bufs)[NET_BUF_SIZE];	/* VQ_MAX of them, past the image */

static struct {
	struct vtdev t;
	struct vq rx, tx;
	uint32_t rx_id;			/* the buffer last received */
} v;

static void vnet_send(struct nic *n, const void *frame, unsigned len)
{
	uint32_t id, ulen;

	memset(tx_buf, 0, NET_HDR_LEN);
	memcpy(tx_buf + NET_HDR_LEN, frame, len);
	tx_mem.desc[0] = (struct vq_desc){ (uintptr_t)tx_buf, NET_HDR_LEN + len, 0, 0 };
	vq_push(&v.tx, 0);
	if (vq_kick(&v.t, &v.tx))
		n->tx_bells++;
	if (!vq_poll(&v.tx, tsc_deadline(NET_TIMEOUT_US), &id, &ulen))
		fail("%s: TX: no used entry after %u s (device status 0x%x)", n->word,
		     NET_TIMEOUT_US / 1000000, vt_get_status(&v.t));
	if (id != 0 || vq_pending(&v.tx))
		fail("%s: TX: used entry names descriptor %u (0 was made available), %u more", n->word,
		     id, vq_pending(&v.tx));
}

static int vnet_recv(struct nic *n, const uint8_t **frame, uint64_t deadline)
{
	uint32_t id, len;

	if (!vq_poll(&v.rx, deadline, &id, &len))
		return -1;
	if (id >= v.rx.size)
		fail("%s: RX: used entry names descriptor %u of %u", n->word, id, v.rx.size);
	if (len < NET_HDR_LEN || len > NET_BUF_SIZE)
		fail("%s: RX: used length %u (the header is %u bytes, the buffer %u)", n->word, len,
		     NET_HDR_LEN, NET_BUF_SIZE);
	v.rx_id = id;
	*frame = rx_bufs[id] + NET_HDR_LEN;
	return len - NET_HDR_LEN;
}

static void vnet_release(struct nic *n)
{
	vq_push(&v.rx, v.rx_id);
	if (vq_kick(&v.t, &v.rx))
		n->rx_bells++;
}

static void vnet_rx_state(struct nic *n)
{
	gprintf("%s: RX queue: avail index %u, used index %u (polled up to %u), used flags 0x%x, "
		"device status 0x%x\n", n->word, v.rx.avail_idx, rx_mem.used.idx, v.rx.used_idx,
		rx_mem.used.flags, vt_get_status(&v.t));
}

/* Reset the device (its queues stop), as a driver unbinding does. */
static void vnet_close(struct nic *n)
{
	vt_reset(&v.t);
}

static void vnet_init(struct nic *n)
{
	uint64_t have, use = VIRTIO_F_VERSION_1 | NET_F_MAC;

	have = vt_begin(&v.t);
	if (!(have & NET_F_MAC))
		fail("%s: device features 0x%lx lack MAC", n->word, (unsigned long)have);
	vt_accept(&v.t, use);
	vt_queue_setup(&v.t, &v.rx, &rx_mem, RXQ);
	vt_queue_setup(&v.t, &v.tx, &tx_mem, TXQ);
	vt_driver_ok(&v.t);
	vt_cfg_bytes(&v.t, 0, n->mac, 6);
	if (!rx_bufs)
		rx_bufs = ram_alloc(n->word, VQ_MAX * NET_BUF_SIZE, 4096);
	for (unsigned i = 0; i < v.rx.size; i++) {
		rx_mem.desc[i] = (struct vq_desc){ (uintptr_t)rx_bufs[i], NET_BUF_SIZE,
						   VQ_DESC_F_WRITE, 0 };
		vq_push(&v.rx, i);
	}
	mb();
	vq_notify(&v.t, &v.rx);
	n->send = vnet_send;
	n->recv = vnet_recv;
	n->release = vnet_release;
	n->rx_state = vnet_rx_state;
	n->close = vnet_close;
	gprintf("%s: features 0x%lx, using 0x%lx, queues of %u (RX) and %u (TX)\n", n->word,
		(unsigned long)have, (unsigned long)use, v.rx.size, v.tx.size);
}

void vnet_open_pci(struct nic *n)
{
	v = (typeof(v)){ .t = { .word = n->word, .what = "virtio-net" } };
	vt_pci_probe(&v.t, VIRTIO_PCI_NET);
	vnet_init(n);
}

void vnet_open_mmio(struct nic *n, uint64_t base)
{
	v = (typeof(v)){ .t = { .word = n->word, .what = "virtio-net" } };
	vt_mmio_probe(&v.t, base, VIRTIO_ID_NET);
	vnet_init(n);
}

