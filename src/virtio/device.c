// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio device model between a device and its transport: feature
 * negotiation, the status state machine (virtio 1.2, 2.1 and 3.1), the
 * config generation, the queues' registers, kicks and interrupts. The
 * transport calls in from vCPU threads (register writes) and the I/O thread
 * (kicks); the device's mutex orders them against the device's own work.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/machine.h"
#include "qlite/stats.h"
#include "qlite/util.h"
#include "qlite/virtio.h"

/* Status bits the driver may set; NEEDS_RESET is the device's. */
#define DRIVER_STATUS_BITS	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
				 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK | \
				 VIRTIO_STATUS_FAILED)

/* Enough for virtio-net with a few hundred queue pairs; beyond that a size is a bug. */
#define VIRTIO_MAX_QUEUES	1024

static void virtio_vq_broken(void *opaque, struct virtq *vq)
{
	virtio_device_needs_reset(opaque, "queue %u: %s", vq->index, vq->why);
}

/*
 * The rings and buffers are guest-physical (dma.h, virtqueue.c), which is
 * what a device without ACCESS_PLATFORM promises; devices cannot offer it
 * either (bits 24..40 are the core's, refused below).
 */
_Static_assert(!(VIRTIO_CORE_FEATURES & VIRTIO_F_BIT(VIRTIO_F_ACCESS_PLATFORM)),
	       "virtio DMA is guest-physical: ACCESS_PLATFORM must not be offered");

static int virtio_check_info(const struct virtio_device_info *info)
{
	if (!info->nr_queues || info->nr_queues > VIRTIO_MAX_QUEUES || !info->queue_max_sizes)
		return report(-EINVAL, "%s: %u queues", info->name, info->nr_queues);
	if (info->features & VIRTIO_TRANSPORT_FEATURES_MASK)
		return report(-EINVAL, "%s: feature bits 24..40 (%#llx) are the virtio core's",
			      info->name,
			      (unsigned long long)(info->features & VIRTIO_TRANSPORT_FEATURES_MASK));
	if (!info->ops || !info->ops->queue_notify)
		return report(-EINVAL, "%s: no queue_notify", info->name);
	for (unsigned q = 0; q < info->nr_queues; q++) {
		unsigned n = info->queue_max_sizes[q];

		if (!n || n & (n - 1) || n > VIRTQ_MAX_SIZE)
			return report(-EINVAL, "%s: queue %u: size %u is not a power of 2 up to %u",
				      info->name, q, n, VIRTQ_MAX_SIZE);
	}
	return 0;
}

int virtio_device_init(struct virtio_device *vdev, const struct virtio_device_info *info,
		       const struct guest_mem *mem, void *priv)
{
	int ret;

	memset(vdev, 0, sizeof(*vdev));
	ret = virtio_check_info(info);
	if (ret)
		return ret;
	vdev->vqs = calloc(info->nr_queues, sizeof(*vdev->vqs));
	if (!vdev->vqs)
		return report(-ENOMEM, "%s: out of memory for %u queues", info->name, info->nr_queues);
	ret = pthread_mutex_init(&vdev->lock, NULL);
	if (ret) {
		free(vdev->vqs);
		vdev->vqs = NULL;
		return report_errno(-ret, "%s: mutex", info->name);
	}
	vdev->info = info;
	vdev->priv = priv;
	vdev->offered = info->features | VIRTIO_CORE_FEATURES;
	for (unsigned q = 0; q < info->nr_queues; q++) {
		struct virtq *vq = &vdev->vqs[q];

		virtq_init(vq, mem, q, info->queue_max_sizes[q]);
		vq->on_broken = virtio_vq_broken;
		vq->opaque = vdev;
	}
	return 0;
}

void virtio_device_destroy(struct virtio_device *vdev)
{
	if (!vdev->vqs)
		return;
	pthread_mutex_destroy(&vdev->lock);
	free(vdev->vqs);
	vdev->vqs = NULL;
}

void virtio_device_set_transport(struct virtio_device *vdev, const struct virtio_transport_ops *ops,
				 void *priv)
{
	vdev->transport = ops;
	vdev->transport_priv = priv;
}

/* ---- interrupts and errors ---- */

static void virtio_config_interrupt(struct virtio_device *vdev)
{
	if (vdev->transport && vdev->transport->config_interrupt)
		vdev->transport->config_interrupt(vdev);
}

void virtio_device_needs_reset(struct virtio_device *vdev, const char *fmt, ...)
{
	char what[192];
	va_list ap;

	stat_add(&vdev->needs_reset_count, 1);	/* read by the exit report */
	if (!(vdev->status & VIRTIO_STATUS_NEEDS_RESET)) {
		vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
		/* 2.1.2: once DRIVER_OK, say so with a config change; before, at DRIVER_OK. */
		if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
			virtio_config_interrupt(vdev);
	}
	/* Once per device: a guest that breaks its rings in a loop must not flood the log. */
	if (vdev->reported)
		return;
	vdev->reported = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	report(-EIO, "%s: %s; device needs reset", vdev->info->name, what);
}

bool virtio_device_live(const struct virtio_device *vdev)
{
	return (vdev->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET |
				VIRTIO_STATUS_FAILED)) == VIRTIO_STATUS_DRIVER_OK;
}

bool virtio_feature_on(const struct virtio_device *vdev, unsigned bit)
{
	return bit < 64 && (vdev->status & VIRTIO_STATUS_FEATURES_OK) &&
	       (vdev->driver_features & VIRTIO_F_BIT(bit));
}

void virtio_config_changed(struct virtio_device *vdev)
{
	vdev->config_generation++;
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_config_interrupt(vdev);
}

void virtio_queue_flush(struct virtio_device *vdev, unsigned q)
{
	struct virtq *vq = virtio_queue(vdev, q);

	if (vq && virtq_flush(vq) && vdev->transport && vdev->transport->queue_interrupt)
		vdev->transport->queue_interrupt(vdev, q);
}

/* ---- status and features ---- */

static void virtio_reset(struct virtio_device *vdev)
{
	if (vdev->info->ops->reset)
		vdev->info->ops->reset(vdev);
	for (unsigned q = 0; q < vdev->info->nr_queues; q++)
		virtq_reset(&vdev->vqs[q]);
	vdev->driver_features = 0;
	vdev->status = 0;
}

/* 3.1.1 step 5: the device refuses FEATURES_OK for features it cannot work with. */
static bool virtio_features_acceptable(struct virtio_device *vdev)
{
	uint64_t extra = vdev->driver_features & ~vdev->offered;

	if (!extra && (vdev->driver_features & VIRTIO_F_BIT(VIRTIO_F_VERSION_1)))
		return true;
	if (!vdev->refusal_reported) {
		vdev->refusal_reported = true;
		if (extra)
			report(-EINVAL, "%s: driver wants features %#llx it was not offered",
			       vdev->info->name, (unsigned long long)extra);
		else
			report(-EINVAL, "%s: driver did not accept VIRTIO_F_VERSION_1 (a legacy driver?)",
			       vdev->info->name);
	}
	return false;
}

static void virtio_driver_ok(struct virtio_device *vdev)
{
	int ret;

	vdev->status |= VIRTIO_STATUS_DRIVER_OK;
	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET) {
		/* A queue broke during setup: tell the driver now that it listens. */
		virtio_config_interrupt(vdev);
		return;
	}
	if (!vdev->info->ops->activate)
		return;
	ret = vdev->info->ops->activate(vdev);
	if (ret)
		virtio_device_needs_reset(vdev, "cannot activate: %s", strerror(-ret));
}

uint8_t virtio_get_status(struct virtio_device *vdev)
{
	uint8_t s;

	virtio_device_lock(vdev);
	s = vdev->status;
	virtio_device_unlock(vdev);
	return s;
}

void virtio_set_status(struct virtio_device *vdev, uint8_t status)
{
	uint8_t add;

	virtio_device_lock(vdev);
	if (!status) {
		virtio_reset(vdev);
		goto out;
	}
	/* Bits are only added (the driver MUST NOT clear one), each after its predecessor. */
	add = status & ~vdev->status & DRIVER_STATUS_BITS;
	if (add & VIRTIO_STATUS_FAILED)
		vdev->status |= VIRTIO_STATUS_FAILED;
	if (add & VIRTIO_STATUS_ACKNOWLEDGE)
		vdev->status |= VIRTIO_STATUS_ACKNOWLEDGE;
	if ((add & VIRTIO_STATUS_DRIVER) && (vdev->status & VIRTIO_STATUS_ACKNOWLEDGE))
		vdev->status |= VIRTIO_STATUS_DRIVER;
	if ((add & VIRTIO_STATUS_FEATURES_OK) && (vdev->status & VIRTIO_STATUS_DRIVER) &&
	    virtio_features_acceptable(vdev))
		vdev->status |= VIRTIO_STATUS_FEATURES_OK;
	if ((add & VIRTIO_STATUS_DRIVER_OK) && (vdev->status & VIRTIO_STATUS_FEATURES_OK))
		virtio_driver_ok(vdev);
out:
	virtio_device_unlock(vdev);
}

static uint32_t feature_word(uint64_t features, unsigned word)
{
	return word < 2 ? (uint32_t)(features >> (32 * word)) : 0;
}

uint32_t virtio_get_device_features(struct virtio_device *vdev, unsigned word)
{
	return feature_word(vdev->offered, word);
}

uint32_t virtio_get_driver_features(struct virtio_device *vdev, unsigned word)
{
	uint32_t v;

	virtio_device_lock(vdev);
	v = feature_word(vdev->driver_features, word);
	virtio_device_unlock(vdev);
	return v;
}

void virtio_set_driver_features(struct virtio_device *vdev, unsigned word, uint32_t value)
{
	uint64_t mask;

	if (word >= 2)
		return;
	mask = 0xffffffffULL << (32 * word);
	virtio_device_lock(vdev);
	/* Final once FEATURES_OK is set; checked against the offer when it is. */
	if (!(vdev->status & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED)))
		vdev->driver_features = (vdev->driver_features & ~mask) |
					((uint64_t)value << (32 * word));
	virtio_device_unlock(vdev);
}

uint8_t virtio_get_config_generation(struct virtio_device *vdev)
{
	uint8_t g;

	virtio_device_lock(vdev);
	g = vdev->config_generation;
	virtio_device_unlock(vdev);
	return g;
}

/* ---- config space ---- */

static bool config_in_range(const struct virtio_device *vdev, uint32_t offset, unsigned len)
{
	return offset <= vdev->info->config_size && len <= vdev->info->config_size - offset;
}

void virtio_config_read(struct virtio_device *vdev, uint32_t offset, void *data, unsigned len)
{
	memset(data, 0, len);
	if (!len || !config_in_range(vdev, offset, len) || !vdev->info->ops->config_read)
		return;
	virtio_device_lock(vdev);
	vdev->info->ops->config_read(vdev, offset, data, len);
	virtio_device_unlock(vdev);
}

void virtio_config_write(struct virtio_device *vdev, uint32_t offset, const void *data,
			 unsigned len)
{
	if (!len || !config_in_range(vdev, offset, len) || !vdev->info->ops->config_write)
		return;
	virtio_device_lock(vdev);
	vdev->info->ops->config_write(vdev, offset, data, len);
	virtio_device_unlock(vdev);
}

/* ---- queues ---- */

unsigned virtio_queue_count(const struct virtio_device *vdev)
{
	return vdev->info->nr_queues;
}

struct virtq *virtio_queue(struct virtio_device *vdev, unsigned q)
{
	return q < vdev->info->nr_queues ? &vdev->vqs[q] : NULL;
}

/* Queue q when its registers may change: it exists and is not enabled. */
static struct virtq *virtio_queue_setup(struct virtio_device *vdev, unsigned q)
{
	struct virtq *vq = virtio_queue(vdev, q);

	return vq && !vq->enabled ? vq : NULL;
}

void virtio_queue_set_size(struct virtio_device *vdev, unsigned q, uint16_t size)
{
	struct virtq *vq;

	virtio_device_lock(vdev);
	vq = virtio_queue_setup(vdev, q);
	if (vq)
		vq->size = size;	/* checked at enable */
	virtio_device_unlock(vdev);
}

void virtio_queue_set_addr(struct virtio_device *vdev, unsigned q, enum virtq_area area,
			   uint64_t addr)
{
	struct virtq *vq;

	if ((unsigned)area > VIRTQ_AREA_USED)
		return;
	virtio_device_lock(vdev);
	vq = virtio_queue_setup(vdev, q);
	if (vq)
		vq->addr[area] = addr;
	virtio_device_unlock(vdev);
}

void virtio_queue_set_enable(struct virtio_device *vdev, unsigned q, bool enable)
{
	struct virtq *vq;

	virtio_device_lock(vdev);
	vq = virtio_queue(vdev, q);
	if (!vq)
		goto out;
	if (!enable) {
		virtq_reset(vq);
		goto out;
	}
	if (vq->enabled || vq->broken)
		goto out;
	/* The ring layout depends on the features (event words): they must be final. */
	if (!(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_device_needs_reset(vdev, "queue %u: enabled before FEATURES_OK", q);
		goto out;
	}
	virtq_enable(vq, vdev->driver_features);	/* a bad ring breaks the queue */
out:
	virtio_device_unlock(vdev);
}

void virtio_queue_kick(struct virtio_device *vdev, unsigned q, uint64_t rings)
{
	struct virtq *vq;

	virtio_device_lock(vdev);
	vq = virtio_queue(vdev, q);
	if (!vq)
		goto out;
	stat_add(&vq->stats.kicks, rings);
	if (virtio_device_live(vdev) && vq->enabled && !vq->broken)
		vdev->info->ops->queue_notify(vdev, q);
out:
	virtio_device_unlock(vdev);
}

int virtio_queue_stats(struct virtio_device *vdev, unsigned q, struct virtq_stats *out)
{
	struct virtq *vq = virtio_queue(vdev, q);

	if (!vq)
		return -EINVAL;
	out->kicks = stat_read(&vq->stats.kicks);
	out->interrupts = stat_read(&vq->stats.interrupts);
	out->suppressed = stat_read(&vq->stats.suppressed);
	return 0;
}

void virtio_device_report(struct virtio_device *vdev, struct device_report *out)
{
	char name[40];

	device_report_add(out, "needs_reset", stat_read(&vdev->needs_reset_count));
	if (vdev->info->ops->report)
		vdev->info->ops->report(vdev, out);
	/* Queue 0 always; a queue the driver never used (one of 64) adds nothing but zeroes. */
	for (unsigned q = 0; q < vdev->info->nr_queues; q++) {
		struct virtq_stats st;

		if (virtio_queue_stats(vdev, q, &st) < 0 ||
		    (q && !st.kicks && !st.interrupts && !st.suppressed))
			continue;
		snprintf(name, sizeof(name), "q%u.kicks", q);
		device_report_add(out, name, st.kicks);
		snprintf(name, sizeof(name), "q%u.interrupts", q);
		device_report_add(out, name, st.interrupts);
		snprintf(name, sizeof(name), "q%u.suppressed", q);
		device_report_add(out, name, st.suppressed);
	}
}

void virtio_device_describe(struct virtio_device *vdev, char *buf, size_t len)
{
	char own[128] = "";

	if (vdev->info->ops->describe)
		vdev->info->ops->describe(vdev, own, sizeof(own));
	snprintf(buf, len, "%s%s", own[0] ? ", " : "", own);
}

const char *virtio_kicks_path(unsigned in_kernel, unsigned nr_queues)
{
	if (in_kernel == nr_queues)
		return "kicks ioeventfd (KVM)";
	return in_kernel ? "kicks ioeventfd (KVM) on some queues, userspace exits on others" :
			   "kicks userspace exits";
}
