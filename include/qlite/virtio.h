/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio core: split virtqueues over guest RAM (src/virtio/virtqueue.c)
 * and the device model a transport drives (src/virtio/device.c). Virtio 1.2,
 * modern only (VIRTIO_F_VERSION_1), little-endian rings.
 *
 * Three parties, as in kvmtool and Firecracker:
 *   device     (virtio-blk, virtio-net, ...) fills a virtio_device_info and
 *              its virtio_device_ops: config space, kicks, activate, reset.
 *   transport  (PCI modern, MMIO v2) maps the registers, calls the entry
 *              points below for status/feature/queue writes and kicks, and
 *              provides virtio_transport_ops to interrupt the driver.
 *   core       negotiates features, runs the status state machine, owns the
 *              queues and validates everything the guest hands them. A
 *              broken ring sets DEVICE_NEEDS_RESET, asks for a config
 *              interrupt and is reported once per device; qlite runs on and
 *              nothing outside guest RAM is ever read or written.
 *
 * Locking: transport entry points and kick delivery take the device's mutex
 * and call the device's ops with it held. A device that touches its queues
 * from elsewhere (an I/O completion, a tap read) takes virtio_device_lock()
 * first. The ring helpers (virtq_*) and virtio_queue_flush() expect it held.
 */
#ifndef QLITE_VIRTIO_H
#define QLITE_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "dma.h"
#include "guest_mem.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio rings are little-endian");

/* ---- virtio 1.2 constants ---- */

/* Device status (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* Reserved feature bits (6) the core implements; bits 24..40 are the core's to offer. */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
/*
 * Never offered: without it (virtio 1.2, 6 Reserved Feature Bits) the
 * device uses the physical addresses the driver gives it, untranslated by
 * any IOMMU (src/devices/virtio_vdev.c says why that is right).
 */
#define VIRTIO_F_ACCESS_PLATFORM	33
#define VIRTIO_F_BIT(b)			(1ULL << (b))
#define VIRTIO_CORE_FEATURES		(VIRTIO_F_BIT(VIRTIO_F_INDIRECT_DESC) | \
					 VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX) | \
					 VIRTIO_F_BIT(VIRTIO_F_VERSION_1))
#define VIRTIO_TRANSPORT_FEATURES_MASK	(((1ULL << 41) - 1) & ~((1ULL << 24) - 1))

/* Device ids (5) */
#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_RNG			4

/* ---- split virtqueue layout (2.7) ---- */

#define VIRTQ_MAX_SIZE			32768
#define VIRTQ_DESC_F_NEXT		1
#define VIRTQ_DESC_F_WRITE		2
#define VIRTQ_DESC_F_INDIRECT		4
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY		1
/* Queue part alignment (2.7.2) */
#define VIRTQ_DESC_ALIGN		16
#define VIRTQ_AVAIL_ALIGN		2
#define VIRTQ_USED_ALIGN		4

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* size entries, then used_event (EVENT_IDX) */
};

struct virtq_used_elem {
	uint32_t id;		/* head of the chain */
	uint32_t len;		/* bytes the device wrote into it */
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];	/* size entries, then avail_event (EVENT_IDX) */
};

/* Bytes of each part for a queue of size entries (the event word included). */
static inline uint64_t virtq_desc_bytes(unsigned size)
{
	return 16ULL * size;
}

static inline uint64_t virtq_avail_bytes(unsigned size)
{
	return 6 + 2ULL * size;
}

static inline uint64_t virtq_used_bytes(unsigned size)
{
	return 6 + 8ULL * size;
}

/* ---- one split virtqueue (src/virtio/virtqueue.c) ---- */

struct virtq_stats {
	uint64_t kicks;		/* doorbell rings delivered to the device */
	uint64_t interrupts;	/* flushes after which the driver asked to be interrupted */
	uint64_t suppressed;	/* flushes with new used entries it did not ask for */
};

/* The areas a driver places: for virtio_queue_set_addr(). */
enum virtq_area { VIRTQ_AREA_DESC, VIRTQ_AREA_AVAIL, VIRTQ_AREA_USED };

struct virtq {
	/* As the driver set them; transports read them back from here. */
	uint16_t size;
	uint16_t max_size;	/* the device's; 0: the queue does not exist */
	uint64_t addr[3];	/* enum virtq_area */
	bool enabled;		/* validated and live */

	/* Negotiated at enable. */
	bool event_idx;
	bool indirect;

	/* Guest RAM and host pointers into it, valid while enabled. */
	const struct guest_mem *mem;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;

	uint16_t last_avail;	/* next avail ring entry to read */
	uint16_t used_idx;	/* next used ring entry to write */
	uint16_t published;	/* used idx the driver sees (the last flush) */
	bool no_notify;		/* VIRTQ_USED_F_NO_NOTIFY currently set */
	uint32_t inflight;	/* popped, not yet pushed */
	uint32_t epoch;		/* bumped by reset: completions of older pops are dropped */

	bool broken;		/* the guest broke it: nothing more until reset */
	char why[112];		/* what it did */
	/* Told once when the queue breaks (the device core sets it). */
	void (*on_broken)(void *opaque, struct virtq *vq);
	void *opaque;
	unsigned index;		/* for messages */

	struct virtq_stats stats;
};

/*
 * One popped chain. The caller gives the iovec arrays (sized for the most
 * segments it accepts: a longer chain breaks the queue); pop fills them.
 */
struct virtq_elem {
	uint16_t head;		/* the id pushed back */
	uint32_t epoch;		/* the queue's when popped */
	struct dma_sg out;	/* device-readable, in chain order */
	struct dma_sg in;	/* device-writable, after the readable ones */
};

static inline void virtq_elem_init(struct virtq_elem *e, struct iovec *out_iov, unsigned out_max,
				   struct iovec *in_iov, unsigned in_max)
{
	dma_sg_init(&e->out, NULL, out_iov, out_max);
	dma_sg_init(&e->in, NULL, in_iov, in_max);
}

/* A disabled queue of max_size entries (0: absent), size preset to max_size. */
void virtq_init(struct virtq *vq, const struct guest_mem *mem, unsigned index, uint16_t max_size);
/* Back to what virtq_init left (the counters stay); pending pops become stale. */
void virtq_reset(struct virtq *vq);
/*
 * Check the size and areas the driver set against guest RAM and go live
 * with the negotiated features. -EINVAL (the size) or -EFAULT (an area)
 * break the queue; -EIO: it was broken already.
 */
int virtq_enable(struct virtq *vq, uint64_t features);
/*
 * Take the next available chain: 1 popped, 0 none, -EIO broken (now or
 * before). When the ring is empty, kicks are asked for again (avail_event,
 * or NO_NOTIFY cleared) and the ring checked once more, so a buffer made
 * available after a 0 always comes with a kick; while chains are pending
 * the driver is asked not to kick.
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *e);
/*
 * Return a popped chain with len bytes written (clamped to e->in.bytes).
 * Not visible to the driver before virtq_flush(). -ESTALE for a chain
 * popped before a reset (dropped), -EIO broken, -EINVAL nothing in flight.
 */
int virtq_push(struct virtq *vq, const struct virtq_elem *e, uint32_t len);
/*
 * Publish the pushed entries (used idx, after the entries) and say whether
 * the driver wants an interrupt now (used_event, or NO_INTERRUPT).
 */
bool virtq_flush(struct virtq *vq);
/* Buffers available now (no state change); false when broken or disabled. */
bool virtq_has_avail(struct virtq *vq);

/* ---- the device model (src/virtio/device.c) ---- */

struct virtio_device;
struct device_report;

/* What a device implements. Called with the device's lock held (report excepted). */
struct virtio_device_ops {
	/* Config space, offset and len already checked against config_size. */
	void (*config_read)(struct virtio_device *vdev, uint32_t offset, void *data, unsigned len);
	void (*config_write)(struct virtio_device *vdev, uint32_t offset, const void *data,
			     unsigned len);
	/* The driver kicked queue q (I/O thread); only while the device is live. */
	void (*queue_notify)(struct virtio_device *vdev, unsigned q);
	/* DRIVER_OK: features final, enabled queues live. -errno: the device needs a reset. */
	int (*activate)(struct virtio_device *vdev);
	/*
	 * Status 0 written: stop in-flight work. The core resets the queues
	 * after this, and from then on the device must not touch the driver's
	 * buffers (2.4): wait for what it cannot stop.
	 */
	void (*reset)(struct virtio_device *vdev);
	/*
	 * Optional: append the device's own counters (requests, bytes, drops)
	 * to the exit report's entry the transport made for it. Any thread,
	 * without the device's lock: read counters with stat_read().
	 */
	void (*report)(struct virtio_device *vdev, struct device_report *out);
	/*
	 * Optional: what the device adds to its `qlite check` line after the
	 * transport's part ("mac 52:54:00:12:34:56 backend slirp 10.0.2.0/24").
	 */
	void (*describe)(struct virtio_device *vdev, char *buf, size_t len);
};

/* What a transport implements: interrupt the driver (MSI-X vector, or ISR bit and INTx). */
struct virtio_transport_ops {
	void (*queue_interrupt)(struct virtio_device *vdev, unsigned q);
	void (*config_interrupt)(struct virtio_device *vdev);
};

/* A device's constants, usually a static const in its file. */
struct virtio_device_info {
	const char *name;		/* messages start with it */
	uint32_t device_id;		/* VIRTIO_ID_* */
	uint64_t features;		/* device bits; the core adds VIRTIO_CORE_FEATURES */
	uint32_t config_size;
	unsigned nr_queues;
	const uint16_t *queue_max_sizes;	/* nr_queues entries, powers of 2 */
	const struct virtio_device_ops *ops;
};

struct virtio_device {
	const struct virtio_device_info *info;
	void *priv;			/* the device's state */
	pthread_mutex_t lock;

	const struct virtio_transport_ops *transport;
	void *transport_priv;

	uint64_t offered;		/* info->features | VIRTIO_CORE_FEATURES */
	uint64_t driver_features;	/* as written; final at FEATURES_OK */
	uint8_t status;
	uint8_t config_generation;
	bool reported;			/* the one NEEDS_RESET line was printed */
	bool refusal_reported;		/* the one FEATURES_OK refusal line was */
	uint64_t needs_reset_count;
	struct virtq *vqs;		/* nr_queues */
};

/* Check info (sizes, feature bits), allocate the queues. -EINVAL/-ENOMEM, reported. */
int virtio_device_init(struct virtio_device *vdev, const struct virtio_device_info *info,
		       const struct guest_mem *mem, void *priv);
void virtio_device_destroy(struct virtio_device *vdev);
void virtio_device_set_transport(struct virtio_device *vdev, const struct virtio_transport_ops *ops,
				 void *priv);

static inline void virtio_device_lock(struct virtio_device *vdev)
{
	pthread_mutex_lock(&vdev->lock);
}

static inline void virtio_device_unlock(struct virtio_device *vdev)
{
	pthread_mutex_unlock(&vdev->lock);
}

/* -- entry points for the transport (they take the lock) -- */

uint8_t virtio_get_status(struct virtio_device *vdev);
/*
 * A status write: 0 resets; bits are only ever added, each after its
 * predecessor (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK); FEATURES_OK is
 * refused (left clear) unless the driver's features are acceptable.
 */
void virtio_set_status(struct virtio_device *vdev, uint8_t status);
/* 32-bit words of the feature bits, as PCI and MMIO select them (word 0: bits 0..31). */
uint32_t virtio_get_device_features(struct virtio_device *vdev, unsigned word);
uint32_t virtio_get_driver_features(struct virtio_device *vdev, unsigned word);
/* Ignored outside DRIVER-and-not-FEATURES_OK. */
void virtio_set_driver_features(struct virtio_device *vdev, unsigned word, uint32_t value);
uint8_t virtio_get_config_generation(struct virtio_device *vdev);
/* Out of config_size: reads give zeroes, writes are dropped. */
void virtio_config_read(struct virtio_device *vdev, uint32_t offset, void *data, unsigned len);
void virtio_config_write(struct virtio_device *vdev, uint32_t offset, const void *data,
			 unsigned len);

unsigned virtio_queue_count(const struct virtio_device *vdev);
/*
 * Queue q (NULL when out of range): transports read its registers back
 * from it and change them only through the calls below; devices pop from it.
 */
struct virtq *virtio_queue(struct virtio_device *vdev, unsigned q);
/* Queue register writes; ignored while the queue is enabled or q does not exist. */
void virtio_queue_set_size(struct virtio_device *vdev, unsigned q, uint16_t size);
void virtio_queue_set_addr(struct virtio_device *vdev, unsigned q, enum virtq_area area,
			   uint64_t addr);
/* Enable validates the queue (a bad one: NEEDS_RESET); disable stops and resets it. */
void virtio_queue_set_enable(struct virtio_device *vdev, unsigned q, bool enable);
/* rings doorbell writes to queue q (I/O thread): counted, then queue_notify. */
void virtio_queue_kick(struct virtio_device *vdev, unsigned q, uint64_t rings);
/* Counters for the exit report; -EINVAL when q is out of range. */
int virtio_queue_stats(struct virtio_device *vdev, unsigned q, struct virtq_stats *out);
/*
 * The counters of the transport's device_report (any thread, no lock):
 * needs_reset, the device's own (ops->report), then qN.kicks,
 * qN.interrupts and qN.suppressed for queue 0 and every queue with a
 * nonzero one. The transport writes the path.
 */
void virtio_device_report(struct virtio_device *vdev, struct device_report *out);
/* The device's part of the summary (ops->describe) after ", ", or nothing; for the transports. */
void virtio_device_describe(struct virtio_device *vdev, char *buf, size_t len);
/* The kicks' half of a transport's path, from how many of its doorbells KVM takes. */
const char *virtio_kicks_path(unsigned in_kernel, unsigned nr_queues);

/* -- helpers for the device (lock held) -- */

bool virtio_feature_on(const struct virtio_device *vdev, unsigned bit);
/* Publish queue q's pushed entries and interrupt the driver when it wants one. */
void virtio_queue_flush(struct virtio_device *vdev, unsigned q);
/* The config space changed: new generation, and a config interrupt once DRIVER_OK. */
void virtio_config_changed(struct virtio_device *vdev);
/*
 * The driver broke the device: set DEVICE_NEEDS_RESET, stop delivering
 * kicks, interrupt the driver (once DRIVER_OK). The first time in the
 * device's life, one report() line "NAME: WHAT; device needs reset".
 */
void virtio_device_needs_reset(struct virtio_device *vdev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* DRIVER_OK and not NEEDS_RESET or FAILED: the queues may be served. */
bool virtio_device_live(const struct virtio_device *vdev);

#endif
