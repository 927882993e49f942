/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-net, the device side (src/virtio/net.c): one receive and one
 * transmit queue (and a control queue) behind either virtio transport,
 * frames to and from a network backend (net.h). The wire format below is
 * virtio 1.2, 5.1 (little-endian, as the core asserts).
 */
#ifndef QLITE_VIRTIO_NET_H
#define QLITE_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "net.h"

struct machine;
struct virtio_device;

/* Feature bits (5.1.3) */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_CTRL_RX		18
#define VIRTIO_NET_F_CTRL_VLAN		19
#define VIRTIO_NET_F_GUEST_ANNOUNCE	21
#define VIRTIO_NET_F_MQ			22
#define VIRTIO_NET_F_CTRL_MAC_ADDR	23

#define VIRTIO_NET_S_LINK_UP		1

/* The header in front of every frame on both queues (5.1.6), 12 bytes with VERSION_1. */
struct virtio_net_hdr_v1 {
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
	uint8_t flags;
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;	/* RX: chains the frame spans (1 without MRG_RXBUF); TX: 0 */
};

_Static_assert(sizeof(struct virtio_net_hdr_v1) == NET_VNET_HDR_LEN, "virtio 1.2 5.1.6");

/* The config space up to mtu (5.1.4). */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

_Static_assert(sizeof(struct virtio_net_config) == 12, "virtio 1.2 5.1.4, up to mtu");

/* The control queue (5.1.6.5): a class and command, their data, then one ack byte. */
struct virtio_net_ctrl_hdr {
	uint8_t class;
	uint8_t cmd;
};

#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_RX		0
#define VIRTIO_NET_CTRL_RX_PROMISC	0
#define VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define VIRTIO_NET_CTRL_MAC		1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET	0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET	1

/* Queues of this device: receiveq1, transmitq1, controlq. */
#define VIRTIO_NET_RXQ			0
#define VIRTIO_NET_TXQ			1
#define VIRTIO_NET_CTRLQ		2
#define VIRTIO_NET_QUEUE_SIZE		256
#define VIRTIO_NET_CTRL_QUEUE_SIZE	64
#define VIRTIO_NET_MAC_TABLE		64	/* unicast and multicast filter entries, each */

struct virtio_net_opts {
	struct net_backend_opts backend;	/* owner set by virtio_net_create */
	uint8_t mac[6];
	bool no_mrg_rxbuf;	/* do not offer VIRTIO_NET_F_MRG_RXBUF */
	uint16_t mtu;		/* 0: VIRTIO_NET_F_MTU not offered */
};

/* Per-device counters for the exit report (the queues' are the core's). */
struct virtio_net_stats {
	uint64_t tx_frames, tx_bytes;	/* handed to the backend (headers not counted) */
	uint64_t tx_dropped;		/* malformed chains, or the backend refused them */
	uint64_t rx_frames, rx_bytes;	/* written into the guest's buffers */
	uint64_t rx_no_buffer;		/* frames left with the backend for want of buffers */
	uint64_t rx_dropped_too_big;	/* larger than all the buffers the driver gave */
	uint64_t rx_dropped_offload;	/* an offload the driver did not accept */
	uint64_t rx_dropped_malformed;	/* shorter than a MAC address */
	uint64_t rx_filtered;		/* not for us by the CTRL_RX / MAC table filter */
	uint64_t ctrl_commands, ctrl_errors;
};

struct virtio_net;

/*
 * Open the backend and build the device, adopted by m (freed with it); no
 * transport yet. 0, or -errno after one report().
 */
int virtio_net_create(struct machine *m, const struct virtio_net_opts *opts,
		      struct virtio_net **out);
/* The device model a transport drives. */
struct virtio_device *virtio_net_device(struct virtio_net *net);
void virtio_net_get_stats(const struct virtio_net *net, struct virtio_net_stats *out);

#endif
