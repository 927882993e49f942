// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio device model through a tiny test device and a transport that
 * records its interrupts: feature negotiation, the status state machine,
 * config space and generation, queue registers, kicks to interrupts with
 * their counters, and a broken ring: DEVICE_NEEDS_RESET, a config
 * interrupt, one line for the device's whole life.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/util.h"
#include "qlite/virtio.h"
#include "virtq_driver.h"
#include "report_capture.h"

#define RAM_SIZE	(1 << 20)
#define BUF		0x80000
#define DEV_FEATURES	(VIRTIO_F_BIT(0) | VIRTIO_F_BIT(5))
#define V1		VIRTIO_F_BIT(VIRTIO_F_VERSION_1)
#define EV_IDX		VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX)
#define S_ACK		VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_STATUS_DRIVER
#define S_FEAT		VIRTIO_STATUS_FEATURES_OK
#define S_OK		VIRTIO_STATUS_DRIVER_OK

struct tdev {
	struct virtio_device vdev;
	struct guest_mem gm;
	struct test_ring ring[2];
	uint8_t config[8];
	unsigned activates, resets, notifies;
	int activate_ret;
	bool hold;			/* pop one chain and keep it */
	struct iovec out_iov[4], in_iov[4];
	struct virtq_elem e;
	struct test_irqs irqs;
	struct report_capture log;	/* what report() printed */
};

static void tdev_config_read(struct virtio_device *vdev, uint32_t offset, void *data, unsigned len)
{
	struct tdev *t = vdev->priv;

	memcpy(data, t->config + offset, len);
}

static void tdev_config_write(struct virtio_device *vdev, uint32_t offset, const void *data,
			      unsigned len)
{
	struct tdev *t = vdev->priv;

	memcpy(t->config + offset, data, len);
}

/* Serve every chain: "write" all its writable bytes. */
static void tdev_queue_notify(struct virtio_device *vdev, unsigned q)
{
	struct tdev *t = vdev->priv;
	struct virtq *vq = virtio_queue(vdev, q);

	t->notifies++;
	if (t->hold) {
		virtq_pop(vq, &t->e);
		return;
	}
	while (virtq_pop(vq, &t->e) > 0)
		virtq_push(vq, &t->e, t->e.in.bytes);
	virtio_queue_flush(vdev, q);
}

static int tdev_activate(struct virtio_device *vdev)
{
	struct tdev *t = vdev->priv;

	t->activates++;
	return t->activate_ret;
}

static void tdev_reset(struct virtio_device *vdev)
{
	struct tdev *t = vdev->priv;

	t->resets++;
}

static const struct virtio_device_ops tdev_ops = {
	.config_read = tdev_config_read,
	.config_write = tdev_config_write,
	.queue_notify = tdev_queue_notify,
	.activate = tdev_activate,
	.reset = tdev_reset,
};

static const uint16_t tdev_sizes[] = { 8, 16 };

static const struct virtio_device_info tdev_info = {
	.name = "test-dev",
	.device_id = VIRTIO_ID_RNG,
	.features = DEV_FEATURES,
	.config_size = 8,
	.nr_queues = 2,
	.queue_max_sizes = tdev_sizes,
	.ops = &tdev_ops,
};

static int setup(void **state)
{
	struct tdev *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(guarded_mem_init(&t->gm, RAM_SIZE), 0);
	report_capture_start(&t->log);
	assert_int_equal(virtio_device_init(&t->vdev, &tdev_info, &t->gm, t), 0);
	virtio_device_set_transport(&t->vdev, &test_counting_transport, &t->irqs);
	virtq_elem_init(&t->e, t->out_iov, 4, t->in_iov, 4);
	memcpy(t->config, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tdev *t = *state;

	report_capture_stop(&t->log);
	virtio_device_destroy(&t->vdev);
	guest_mem_destroy(&t->gm);
	free(t);
	return 0;
}

static unsigned log_lines(struct tdev *t)
{
	return report_capture_lines(&t->log);
}

/* The reports so far hold text. */
static bool logged(struct tdev *t, const char *text)
{
	return report_capture_has(&t->log, text);
}

static void set_features(struct tdev *t, uint64_t f)
{
	virtio_set_driver_features(&t->vdev, 0, (uint32_t)f);
	virtio_set_driver_features(&t->vdev, 1, (uint32_t)(f >> 32));
}

/* The driver's steps 1-6 (3.1.1); returns the status it reads back. */
static uint8_t negotiate(struct tdev *t, uint64_t features)
{
	virtio_set_status(&t->vdev, 0);
	virtio_set_status(&t->vdev, S_ACK);
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER);
	set_features(t, features);
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER | S_FEAT);
	return virtio_get_status(&t->vdev);
}

static void setup_queue(struct tdev *t, unsigned q, unsigned size)
{
	struct test_ring *r = &t->ring[q];

	tr_init(r, &t->gm, size, 0x10000 + q * 0x10000);
	virtio_queue_set_size(&t->vdev, q, size);
	virtio_queue_set_addr(&t->vdev, q, VIRTQ_AREA_DESC, r->desc);
	virtio_queue_set_addr(&t->vdev, q, VIRTQ_AREA_AVAIL, r->avail);
	virtio_queue_set_addr(&t->vdev, q, VIRTQ_AREA_USED, r->used);
	virtio_queue_set_enable(&t->vdev, q, true);
}

/* Negotiated, queue 0 of 8 enabled, DRIVER_OK. */
static void go_live(struct tdev *t, uint64_t features)
{
	assert_int_equal(negotiate(t, features), S_ACK | S_DRIVER | S_FEAT);
	setup_queue(t, 0, 8);
	assert_true(virtio_queue(&t->vdev, 0)->enabled);
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER | S_FEAT | S_OK);
	assert_true(virtio_device_live(&t->vdev));
}

static void test_init_checks(void **state)
{
	static const uint16_t bad_sizes[] = { 8, 12 };
	struct tdev *t = *state;
	struct virtio_device v;
	struct virtio_device_info info = tdev_info;

	info.features = DEV_FEATURES | VIRTIO_F_BIT(VIRTIO_F_EVENT_IDX);
	assert_int_equal(virtio_device_init(&v, &info, &t->gm, NULL), -EINVAL);
	info = tdev_info;
	info.queue_max_sizes = bad_sizes;
	assert_int_equal(virtio_device_init(&v, &info, &t->gm, NULL), -EINVAL);
	info = tdev_info;
	info.nr_queues = 0;
	assert_int_equal(virtio_device_init(&v, &info, &t->gm, NULL), -EINVAL);
	assert_int_equal(log_lines(t), 3);
	assert_true(logged(t, "test-dev: queue 1: size 12 is not a power of 2"));
	virtio_device_destroy(&v);	/* harmless after a failed init */
}

static void test_features(void **state)
{
	struct tdev *t = *state;
	uint64_t want = VIRTIO_F_BIT(5) | EV_IDX | V1;

	assert_int_equal(virtio_get_device_features(&t->vdev, 0),
			 (uint32_t)(DEV_FEATURES | VIRTIO_CORE_FEATURES));
	assert_int_equal(virtio_get_device_features(&t->vdev, 1), 1);	/* VERSION_1 is bit 32 */
	assert_int_equal(virtio_get_device_features(&t->vdev, 2), 0);
	assert_int_equal(negotiate(t, want), S_ACK | S_DRIVER | S_FEAT);
	assert_true(virtio_feature_on(&t->vdev, 5));
	assert_true(virtio_feature_on(&t->vdev, VIRTIO_F_EVENT_IDX));
	assert_false(virtio_feature_on(&t->vdev, 0));
	assert_false(virtio_feature_on(&t->vdev, VIRTIO_F_INDIRECT_DESC));
	/* Final once FEATURES_OK is set. */
	set_features(t, DEV_FEATURES | V1);
	assert_int_equal(virtio_get_driver_features(&t->vdev, 0), (uint32_t)want);
	assert_int_equal(virtio_get_driver_features(&t->vdev, 1), 1);
	assert_int_equal(log_lines(t), 0);
}

static void test_features_refused(void **state)
{
	struct tdev *t = *state;

	/* Bit 7 was not offered: FEATURES_OK stays clear, as the driver reads back. */
	assert_int_equal(negotiate(t, VIRTIO_F_BIT(7) | V1), S_ACK | S_DRIVER);
	assert_false(virtio_feature_on(&t->vdev, 7));
	assert_int_equal(log_lines(t), 1);
	assert_true(logged(t, "test-dev: driver wants features 0x80 it was not offered"));
	/* A legacy driver: no VERSION_1. Refused, not said again. */
	assert_int_equal(negotiate(t, DEV_FEATURES), S_ACK | S_DRIVER);
	assert_int_equal(log_lines(t), 1);
	/* DRIVER_OK cannot follow a refused FEATURES_OK. */
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER | S_FEAT | S_OK);
	assert_int_equal(virtio_get_status(&t->vdev), S_ACK | S_DRIVER);
	assert_int_equal(t->activates, 0);
}

static void test_status_order(void **state)
{
	struct tdev *t = *state;

	virtio_set_status(&t->vdev, S_DRIVER);			/* before ACKNOWLEDGE */
	assert_int_equal(virtio_get_status(&t->vdev), 0);
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER | S_OK);	/* DRIVER_OK before FEATURES_OK */
	assert_int_equal(virtio_get_status(&t->vdev), S_ACK | S_DRIVER);
	virtio_set_status(&t->vdev, S_ACK | VIRTIO_STATUS_NEEDS_RESET);	/* the device's bit */
	assert_int_equal(virtio_get_status(&t->vdev), S_ACK | S_DRIVER);
	/* All at once, in order, is fine; cleared bits are ignored. */
	set_features(t, V1);
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER | S_FEAT | S_OK);
	assert_int_equal(virtio_get_status(&t->vdev), S_ACK | S_DRIVER | S_FEAT | S_OK);
	assert_int_equal(t->activates, 1);
	virtio_set_status(&t->vdev, S_ACK);
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER | S_FEAT | S_OK);
	assert_int_equal(virtio_get_status(&t->vdev), S_ACK | S_DRIVER | S_FEAT | S_OK);
	assert_int_equal(t->activates, 1);
	/* FAILED: the driver gave up; kicks are no longer delivered. */
	virtio_set_status(&t->vdev, VIRTIO_STATUS_FAILED);
	assert_false(virtio_device_live(&t->vdev));
	virtio_queue_kick(&t->vdev, 0, 1);
	assert_int_equal(t->notifies, 0);
}

static void test_reset(void **state)
{
	struct tdev *t = *state;
	const struct virtq *vq = virtio_queue(&t->vdev, 0);

	go_live(t, V1);
	virtio_config_changed(&t->vdev);
	t->resets = 0;
	virtio_set_status(&t->vdev, 0);
	assert_int_equal(t->resets, 1);
	assert_int_equal(virtio_get_status(&t->vdev), 0);
	assert_int_equal(virtio_get_driver_features(&t->vdev, 1), 0);
	assert_false(vq->enabled);
	assert_int_equal(vq->size, 8);
	assert_int_equal(vq->addr[VIRTQ_AREA_USED], 0);
	assert_int_equal(virtio_get_config_generation(&t->vdev), 1);
	/* And the device comes up again. */
	go_live(t, V1);
	assert_int_equal(t->activates, 2);
}

static void test_config(void **state)
{
	struct tdev *t = *state;
	uint8_t b[8];
	uint32_t v;

	virtio_config_read(&t->vdev, 4, &v, 4);
	assert_int_equal(v, 0x08070605);
	memset(b, 0xaa, sizeof(b));
	virtio_config_read(&t->vdev, 6, b, 4);			/* straddles the end */
	assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
	virtio_config_read(&t->vdev, UINT32_MAX, b, 4);
	assert_int_equal(b[0], 0);
	v = 0xdeadbeef;
	virtio_config_write(&t->vdev, 0, &v, 4);
	virtio_config_write(&t->vdev, 7, &v, 2);		/* dropped */
	virtio_config_write(&t->vdev, UINT32_MAX - 1, &v, 4);	/* dropped */
	assert_memory_equal(t->config, "\xef\xbe\xad\xde\x05\x06\x07\x08", 8);

	/* A change before DRIVER_OK: new generation, no interrupt yet. */
	virtio_config_changed(&t->vdev);
	assert_int_equal(virtio_get_config_generation(&t->vdev), 1);
	assert_int_equal(t->irqs.config, 0);
	go_live(t, V1);
	virtio_config_changed(&t->vdev);
	assert_int_equal(virtio_get_config_generation(&t->vdev), 2);
	assert_int_equal(t->irqs.config, 1);
}

static void test_kick_to_interrupt(void **state)
{
	struct tdev *t = *state;
	struct virtq_stats st;
	struct test_ring *r = &t->ring[0];

	assert_int_equal(negotiate(t, V1 | EV_IDX), S_ACK | S_DRIVER | S_FEAT);
	setup_queue(t, 0, 8);
	tr_set_desc(r, 0, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	tr_make_avail(r, 0);
	virtio_queue_kick(&t->vdev, 0, 1);		/* before DRIVER_OK: counted, not served */
	assert_int_equal(t->notifies, 0);
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER | S_FEAT | S_OK);
	virtio_queue_kick(&t->vdev, 0, 2);
	assert_int_equal(t->notifies, 1);
	assert_int_equal(tr_used(r)->idx, 1);
	assert_int_equal(tr_used(r)->ring[0].len, 64);
	assert_int_equal(t->irqs.queue[0], 1);

	/* The driver polls: used_event stays behind, no interrupt for the next one. */
	tr_make_avail(r, 0);
	virtio_queue_kick(&t->vdev, 0, 1);
	assert_int_equal(t->irqs.queue[0], 1);
	assert_int_equal(virtio_queue_stats(&t->vdev, 0, &st), 0);
	assert_int_equal(st.kicks, 4);
	assert_int_equal(st.interrupts, 1);
	assert_int_equal(st.suppressed, 1);
	assert_int_equal(virtio_queue_stats(&t->vdev, 2, &st), -EINVAL);

	/* Registers of an enabled queue do not change; a queue that does not exist is ignored. */
	virtio_queue_set_size(&t->vdev, 0, 4);
	virtio_queue_set_addr(&t->vdev, 0, VIRTQ_AREA_DESC, 0x1000);
	assert_int_equal(virtio_queue(&t->vdev, 0)->size, 8);
	assert_int_equal(virtio_queue(&t->vdev, 0)->addr[VIRTQ_AREA_DESC], r->desc);
	virtio_queue_set_enable(&t->vdev, 5, true);
	virtio_queue_kick(&t->vdev, 5, 1);
	assert_null(virtio_queue(&t->vdev, 5));
	assert_int_equal(virtio_queue_count(&t->vdev), 2);
	/* Disabling a queue resets it. */
	virtio_queue_set_enable(&t->vdev, 0, false);
	assert_false(virtio_queue(&t->vdev, 0)->enabled);
	virtio_queue_kick(&t->vdev, 0, 1);
	assert_int_equal(t->notifies, 2);
	assert_int_equal(log_lines(t), 0);
}

/* A hostile ring: NEEDS_RESET, a config interrupt, one line in the device's life. */
static void test_broken_ring(void **state)
{
	struct tdev *t = *state;

	go_live(t, V1);
	tr_make_avail(&t->ring[0], 9);			/* head 9 of 8 */
	virtio_queue_kick(&t->vdev, 0, 1);
	assert_true(virtio_get_status(&t->vdev) & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(virtio_device_live(&t->vdev));
	assert_int_equal(t->irqs.config, 1);
	assert_int_equal(log_lines(t), 1);
	assert_true(logged(t, "qlite: test-dev: queue 0: avail ring entry 0 names head 9 "
				       "of 8; device needs reset\n"));
	virtio_queue_kick(&t->vdev, 0, 1);		/* not delivered any more */
	assert_int_equal(t->notifies, 1);

	/* The driver resets and breaks it again: status and interrupt again, no second line. */
	go_live(t, V1);
	tr_make_avail(&t->ring[0], 0);
	tr_set_desc(&t->ring[0], 0, RAM_SIZE - 4, 8, 0, 0);
	virtio_queue_kick(&t->vdev, 0, 1);
	assert_true(virtio_get_status(&t->vdev) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(t->irqs.config, 2);
	assert_int_equal(log_lines(t), 1);
	assert_int_equal(t->vdev.needs_reset_count, 2);
	assert_int_equal(tr_used(&t->ring[0])->idx, 0);
}

/* A bad ring at enable time, before DRIVER_OK: the interrupt waits for DRIVER_OK. */
static void test_broken_at_setup(void **state)
{
	struct tdev *t = *state;

	assert_int_equal(negotiate(t, V1), S_ACK | S_DRIVER | S_FEAT);
	virtio_queue_set_size(&t->vdev, 1, 12);
	virtio_queue_set_enable(&t->vdev, 1, true);
	assert_false(virtio_queue(&t->vdev, 1)->enabled);
	assert_true(virtio_get_status(&t->vdev) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(t->irqs.config, 0);
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER | S_FEAT | S_OK);
	assert_int_equal(t->irqs.config, 1);
	assert_int_equal(t->activates, 0);
	assert_true(logged(t, "test-dev: queue 1: size 12 is not a power of 2 up to 16"));

	/* A queue enabled before the features are final. */
	virtio_set_status(&t->vdev, 0);
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER);
	virtio_queue_set_enable(&t->vdev, 0, true);
	assert_false(virtio_queue(&t->vdev, 0)->enabled);
	assert_true(virtio_get_status(&t->vdev) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(log_lines(t), 1);
}

static void test_activate_fails(void **state)
{
	struct tdev *t = *state;

	t->activate_ret = -ENOSPC;
	assert_int_equal(negotiate(t, V1), S_ACK | S_DRIVER | S_FEAT);
	virtio_set_status(&t->vdev, S_ACK | S_DRIVER | S_FEAT | S_OK);
	assert_int_equal(virtio_get_status(&t->vdev),
			 S_ACK | S_DRIVER | S_FEAT | S_OK | VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(t->irqs.config, 1);
	assert_true(logged(t, "test-dev: cannot activate: No space left on device"));
}

/* A chain popped before a reset is never completed into the new rings. */
static void test_stale_after_reset(void **state)
{
	struct tdev *t = *state;
	struct virtq *vq = virtio_queue(&t->vdev, 0);

	t->hold = true;
	go_live(t, V1);
	tr_set_desc(&t->ring[0], 3, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	tr_make_avail(&t->ring[0], 3);
	virtio_queue_kick(&t->vdev, 0, 1);
	assert_int_equal(t->e.head, 3);
	go_live(t, V1);
	virtio_device_lock(&t->vdev);
	assert_int_equal(virtq_push(vq, &t->e, 64), -ESTALE);
	virtio_queue_flush(&t->vdev, 0);
	virtio_device_unlock(&t->vdev);
	assert_int_equal(tr_used(&t->ring[0])->idx, 0);
	assert_int_equal(t->irqs.queue[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kick_to_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_at_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activate_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_after_reset, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
