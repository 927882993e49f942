// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-mmio transport with a tiny test device on the fake machine:
 * Linux's probe and queue setup, a request round trip through a ring in
 * guarded RAM, kicks with and without ioeventfd (exits counted), the
 * interrupt line with and without irqfd, hostile register accesses,
 * default and explicit windows and lines, the names in the exit report,
 * and what Linux is told: its command line and the --dtb tree.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_machine.h"
#include "report_capture.h"
#include "qlite/cpuid.h"
#include "qlite/util.h"
#include "qlite/virtio_mmio.h"
#include "qlite/vm.h"
#include "virtq_driver.h"

#define RAM_SIZE	(1 << 20)
#define BUF		0x80000
#define DEV_FEATURES	(VIRTIO_F_BIT(0) | VIRTIO_F_BIT(5))
#define V1		VIRTIO_F_BIT(VIRTIO_F_VERSION_1)
#define S_ACK		VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_STATUS_DRIVER
#define S_FEAT		VIRTIO_STATUS_FEATURES_OK
#define S_OK		VIRTIO_STATUS_DRIVER_OK
#define S_LIVE		(S_ACK | S_DRIVER | S_FEAT | S_OK)
#define BASE0		VIRTIO_MMIO_BASE
#define BASE1		(VIRTIO_MMIO_BASE + VIRTIO_MMIO_STRIDE)

/* ---- a test device: two queues of 8 and 16, 8 bytes of config ---- */

struct tdev {
	struct virtio_device vdev;
	struct test_ring ring[2];
	uint8_t config[8];
	unsigned activates, resets, notifies;
	struct iovec out_iov[4], in_iov[4];
	struct virtq_elem e;
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
	while (virtq_pop(vq, &t->e) > 0)
		virtq_push(vq, &t->e, t->e.in.bytes);
	virtio_queue_flush(vdev, q);
}

static int tdev_activate(struct virtio_device *vdev)
{
	((struct tdev *)vdev->priv)->activates++;
	return 0;
}

static void tdev_reset(struct virtio_device *vdev)
{
	((struct tdev *)vdev->priv)->resets++;
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

/* ---- the environment: a fake machine, RAM, devices on it ---- */

#define MAX_DEVS	16

struct env {
	struct fake_machine *fm;
	struct guest_mem gm;
	struct tdev *t[MAX_DEVS];
	unsigned nr;
	struct report_capture log;	/* what report() printed */
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	assert_int_equal(guarded_mem_init(&e->gm, RAM_SIZE), 0);
	report_capture_start(&e->log);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	/* The machine first: its release removes the doorbells before the devices go. */
	if (e->fm)
		fake_machine_destroy(e->fm);
	for (unsigned i = 0; i < e->nr; i++) {
		virtio_device_destroy(&e->t[i]->vdev);
		free(e->t[i]);
	}
	report_capture_stop(&e->log);
	guest_mem_destroy(&e->gm);
	free(e);
	return 0;
}

static unsigned log_lines(struct env *e)
{
	return report_capture_lines(&e->log);
}

static bool logged(struct env *e, const char *text)
{
	return report_capture_has(&e->log, text);
}

static void machine(struct env *e, bool accel)
{
	e->fm = accel ? fake_machine_create_accel() : fake_machine_create();
}

/* A test device attached with o; returns what attach returned. */
static int attach(struct env *e, const struct virtio_mmio_opts *o)
{
	struct tdev *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_true(e->nr < MAX_DEVS);
	e->t[e->nr++] = t;
	assert_int_equal(virtio_device_init(&t->vdev, &tdev_info, &e->gm, t), 0);
	virtq_elem_init(&t->e, t->out_iov, 4, t->in_iov, 4);
	memcpy(t->config, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	return virtio_mmio_attach(&e->fm->m, &t->vdev, o);
}

static uint32_t rd(struct env *e, uint64_t off)
{
	return fake_mmio_read(e->fm, BASE0 + off, 4);
}

static void wr(struct env *e, uint64_t off, uint32_t v)
{
	fake_mmio_write(e->fm, BASE0 + off, 4, v);
}

/* Set up queue q of size entries as Linux's vm_setup_vq does; false when it has none. */
static bool setup_queue(struct env *e, unsigned q, unsigned size)
{
	struct test_ring *r = &e->t[0]->ring[q];

	wr(e, VIRTIO_MMIO_QUEUE_SEL, q);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_READY), 0);
	if (!rd(e, VIRTIO_MMIO_QUEUE_NUM_MAX))
		return false;
	tr_init(r, &e->gm, size, 0x10000 + q * 0x10000);
	wr(e, VIRTIO_MMIO_QUEUE_NUM, size);
	wr(e, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
	wr(e, VIRTIO_MMIO_QUEUE_DESC_HIGH, r->desc >> 32);
	wr(e, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail);
	wr(e, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, r->avail >> 32);
	wr(e, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used);
	wr(e, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, r->used >> 32);
	wr(e, VIRTIO_MMIO_QUEUE_READY, 1);
	return true;
}

/* Linux's probe of device 0, up to FEATURES_OK: its identity and the offered features. */
static uint64_t probe(struct env *e)
{
	uint64_t features;

	assert_int_equal(rd(e, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(e, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(e, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	assert_int_equal(rd(e, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	wr(e, VIRTIO_MMIO_STATUS, 0);
	wr(e, VIRTIO_MMIO_STATUS, S_ACK);
	wr(e, VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	wr(e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	features = (uint64_t)rd(e, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	features |= rd(e, VIRTIO_MMIO_DEVICE_FEATURES);
	return features;
}

/* A machine with one test device attached with o (NULL: defaults), probed. */
static struct tdev *probed(struct env *e, bool accel, const struct virtio_mmio_opts *o)
{
	machine(e, accel);
	assert_int_equal(attach(e, o), 0);
	probe(e);
	return e->t[0];
}

/* Accept want and set FEATURES_OK, as Linux's vm_finalize_features and its caller. */
static void accept_features(struct env *e, uint64_t want)
{
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES, want >> 32);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)want);
	wr(e, VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEAT);
	assert_int_equal(rd(e, VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER | S_FEAT);
}

/* The rest of Linux's bring-up: accept want, both queues, DRIVER_OK. */
static void go_live(struct env *e, uint64_t want)
{
	accept_features(e, want);
	assert_true(setup_queue(e, 0, 8));
	assert_true(setup_queue(e, 1, 16));
	assert_false(setup_queue(e, 2, 8));
	wr(e, VIRTIO_MMIO_STATUS, S_LIVE);
	assert_int_equal(rd(e, VIRTIO_MMIO_STATUS), S_LIVE);
}

/* A request on queue 0: one writable buffer of 64 bytes, made available (no kick). */
static void make_request(struct env *e)
{
	struct test_ring *r = &e->t[0]->ring[0];

	tr_set_desc(r, 0, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	tr_make_avail(r, 0);
}

static uint64_t kicks(struct env *e, unsigned q)
{
	struct virtq_stats st;

	assert_int_equal(virtio_queue_stats(&e->t[0]->vdev, q, &st), 0);
	return st.kicks;
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	struct env *e = *state;
	struct tdev *t;

	machine(e, false);
	assert_int_equal(attach(e, NULL), 0);
	t = e->t[0];
	assert_int_equal(probe(e), DEV_FEATURES | VIRTIO_CORE_FEATURES);
	/* Linux reads QueueNumMax of each queue it wants; the third does not exist. */
	go_live(e, V1 | VIRTIO_F_BIT(5));
	assert_int_equal(t->activates, 1);
	assert_true(virtio_feature_on(&t->vdev, 5));
	wr(e, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_NUM_MAX), 16);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(virtio_queue(&t->vdev, 1)->size, 16);
	assert_int_equal(virtio_queue(&t->vdev, 1)->addr[VIRTQ_AREA_USED], t->ring[1].used);

	/* Config space at 0x100, in the widths Linux's vm_get uses. */
	assert_int_equal(fake_mmio_read(e->fm, BASE0 + 0x100, 1), 0x01);
	assert_int_equal(fake_mmio_read(e->fm, BASE0 + 0x102, 2), 0x0403);
	assert_int_equal(fake_mmio_read(e->fm, BASE0 + 0x104, 4), 0x08070605);
	assert_int_equal(fake_mmio_read(e->fm, BASE0 + 0x100, 8), 0x0807060504030201ULL);
	fake_mmio_write(e->fm, BASE0 + 0x104, 4, 0xdeadbeef);
	assert_memory_equal(t->config + 4, "\xef\xbe\xad\xde", 4);
	assert_int_equal(rd(e, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	virtio_device_lock(&t->vdev);
	virtio_config_changed(&t->vdev);
	virtio_device_unlock(&t->vdev);
	assert_int_equal(rd(e, VIRTIO_MMIO_CONFIG_GENERATION), 1);
	assert_int_equal(rd(e, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);

	/* A reset: the core's and the transport's state. */
	t->resets = 0;
	wr(e, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(t->resets, 1);
	assert_int_equal(rd(e, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(log_lines(e), 0);
}

/* ioeventfd and irqfd in the (fake) kernel: a request costs no exit but its register reads. */
static void test_round_trip_in_kernel(void **state)
{
	struct env *e = *state;
	struct virtio_mmio_opts o = { .ioeventfd = true, .irqfd = true };
	struct test_ring *r;
	unsigned exits;

	r = &probed(e, true, &o)->ring[0];
	/* A doorbell per queue, on QueueNotify, matching the queue's index. */
	assert_int_equal(e->fm->nr_ioeventfds, 2);
	for (unsigned q = 0; q < 2; q++) {
		const struct fake_ioeventfd *io = &e->fm->ioeventfds[q];

		assert_int_equal(io->space, BUS_MMIO);
		assert_int_equal(io->addr, BASE0 + VIRTIO_MMIO_QUEUE_NOTIFY);
		assert_int_equal(io->len, 4);
		assert_true(io->match);
		assert_int_equal(io->value, q);
	}
	assert_int_equal(e->fm->nr_irqfds, 1);
	assert_int_equal(e->fm->irqfds[0].gsi, 5);

	go_live(e, V1);
	make_request(e);
	exits = fake_exits(e->fm);
	wr(e, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(fake_exits(e->fm), exits);
	assert_int_equal(e->t[0]->notifies, 0);	/* not on the vCPU */
	assert_int_equal(fake_run_io(e->fm, 1, 1000), 1);
	assert_int_equal(e->t[0]->notifies, 1);
	assert_int_equal(kicks(e, 0), 1);
	assert_int_equal(tr_used(r)->idx, 1);
	assert_int_equal(tr_used(r)->ring[0].len, 64);
	assert_int_equal(fake_irqfd_drain(e->fm, 5), 1);
	assert_int_equal(e->fm->nr_irq_calls, 0);
	/* Linux's handler: read, ack. */
	assert_int_equal(rd(e, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(e, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(rd(e, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(fake_irqfd_drain(e->fm, 5), 0);
	assert_int_equal(log_lines(e), 0);
}

/* ioeventfd off: every notify is an exit that rings the same doorbell. */
static void test_kicks_exit_without_ioeventfd(void **state)
{
	struct env *e = *state;
	struct virtio_mmio_opts o = { .ioeventfd = false, .irqfd = true };
	unsigned exits;

	probed(e, true, &o);
	assert_int_equal(e->fm->nr_ioeventfds, 0);
	go_live(e, V1);
	make_request(e);
	exits = fake_exits(e->fm);
	wr(e, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wr(e, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wr(e, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(fake_exits(e->fm), exits + 3);
	assert_int_equal(e->t[0]->notifies, 0);	/* still on the I/O thread */
	assert_int_equal(fake_run_io(e->fm, 2, 1000), 2);
	/* The two rings of queue 0 arrive as one call that counts both. */
	assert_int_equal(kicks(e, 0), 2);
	assert_int_equal(kicks(e, 1), 1);
	assert_int_equal(tr_used(&e->t[0]->ring[0])->idx, 1);
	assert_int_equal(fake_irqfd_drain(e->fm, 5), 1);
}

/* A machine without the in-kernel paths: asked-for ioeventfd and irqfd fall back. */
static void test_fallback_to_userspace(void **state)
{
	struct env *e = *state;
	struct virtio_mmio_opts o = { .ioeventfd = true, .irqfd = true };
	unsigned exits;

	probed(e, false, &o);
	go_live(e, V1);
	make_request(e);
	exits = fake_exits(e->fm);
	wr(e, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(fake_exits(e->fm), exits + 1);
	assert_int_equal(fake_run_io(e->fm, 1, 1000), 1);
	assert_int_equal(kicks(e, 0), 1);
	assert_int_equal(e->fm->irq_level[5], 1);
	assert_int_equal(e->fm->nr_irq_calls, 1);
}

/* In userspace the line follows InterruptStatus, with an edge for every event not yet told. */
static void test_interrupt_line(void **state)
{
	struct env *e = *state;
	struct fake_machine *fm;
	struct tdev *t;

	t = probed(e, false, NULL);
	fm = e->fm;
	go_live(e, V1);
	assert_int_equal(fm->nr_irq_calls, 0);

	make_request(e);
	wr(e, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(fm->nr_irq_calls, 1);
	assert_int_equal(fm->irq_calls[0].gsi, 5);
	assert_int_equal(fm->irq_level[5], 1);
	/* A config change while the line is up: a bit, no new call. */
	virtio_device_lock(&t->vdev);
	virtio_config_changed(&t->vdev);
	virtio_device_unlock(&t->vdev);
	assert_int_equal(rd(e, VIRTIO_MMIO_INTERRUPT_STATUS), 3);
	assert_int_equal(fm->nr_irq_calls, 1);
	/* The driver had read only VRING: the ack leaves CONFIG, and a new edge says so. */
	wr(e, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(rd(e, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(fm->nr_irq_calls, 3);
	assert_int_equal(fm->irq_calls[1].level, 0);
	assert_int_equal(fm->irq_calls[2].level, 1);
	/* An ack of a bit that is not set changes nothing. */
	wr(e, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(fm->nr_irq_calls, 3);
	/* The last bit: down. */
	wr(e, VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	assert_int_equal(rd(e, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(fm->irq_level[5], 0);
	assert_int_equal(fm->nr_irq_calls, 4);
	wr(e, VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	assert_int_equal(fm->nr_irq_calls, 4);

	/* A reset takes the line down with the bits. */
	tr_make_avail(&t->ring[0], 0);
	wr(e, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(fm->irq_level[5], 1);
	wr(e, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(fm->irq_level[5], 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(log_lines(e), 0);
}

static void test_hostile_accesses(void **state)
{
	struct env *e = *state;
	struct fake_machine *fm;
	struct tdev *t;
	unsigned exits;

	t = probed(e, false, NULL);
	fm = e->fm;

	/* Registers take aligned 32-bit accesses: others read 0 and are dropped, said once. */
	assert_int_equal(fake_mmio_read(fm, BASE0, 2), 0);
	assert_int_equal(fake_mmio_read(fm, BASE0, 1), 0);
	assert_int_equal(fake_mmio_read(fm, BASE0, 8), 0);
	assert_int_equal(fake_mmio_read(fm, BASE0 + 2, 4), 0);
	fake_mmio_write(fm, BASE0 + VIRTIO_MMIO_STATUS, 1, S_ACK | S_DRIVER | S_FEAT);
	fake_mmio_write(fm, BASE0 + VIRTIO_MMIO_STATUS, 8, 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	assert_int_equal(log_lines(e), 1);
	assert_true(logged(e, "test-dev: 2-byte read at virtio-mmio 0xfed00000+0 ignored"));

	/* Against the direction, and reserved: 0, dropped, silently. */
	wr(e, VIRTIO_MMIO_MAGIC_VALUE, 0);
	wr(e, VIRTIO_MMIO_INTERRUPT_STATUS, 3);
	assert_int_equal(rd(e, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	wr(e, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_SEL), 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_DRIVER_FEATURES), 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_NUM), 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	assert_int_equal(rd(e, 0x018), 0);
	assert_int_equal(rd(e, 0x0c0), 0);
	wr(e, 0x0c0, 1);
	/* No shared memory regions: Linux reads a length of ~0. */
	wr(e, VIRTIO_MMIO_SHM_SEL, 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	assert_int_equal(rd(e, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	/* Feature words past the second read 0 and take nothing. */
	wr(e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(e, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 7);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	assert_int_equal(virtio_get_driver_features(&t->vdev, 0), 0);
	assert_int_equal(virtio_get_driver_features(&t->vdev, 1), 0);

	/* QueueSel past the queues: its registers read 0 and ignore writes. */
	for (uint32_t sel = 2; sel; sel = sel == 2 ? 0xffffffff : 0) {
		wr(e, VIRTIO_MMIO_QUEUE_SEL, sel);
		assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
		wr(e, VIRTIO_MMIO_QUEUE_NUM, 8);
		wr(e, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
		wr(e, VIRTIO_MMIO_QUEUE_READY, 1);
		assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_READY), 0);
	}
	assert_int_equal(virtio_queue(&t->vdev, 0)->addr[VIRTQ_AREA_DESC], 0);
	assert_int_equal(virtio_queue(&t->vdev, 1)->addr[VIRTQ_AREA_DESC], 0);

	/* Config space past its 8 bytes reads 0; past the window is nobody's. */
	assert_int_equal(fake_mmio_read(fm, BASE0 + 0x106, 4), 0);
	assert_int_equal(fake_mmio_read(fm, BASE0 + 0x1fc, 4), 0);
	fake_mmio_write(fm, BASE0 + 0x1fc, 4, 0x11111111);
	assert_int_equal(fake_mmio_read(fm, BASE0 + 0x1fe, 4), 0xffffffff);
	assert_int_equal(fake_mmio_read(fm, BASE0 + VIRTIO_MMIO_SIZE, 4), 0xffffffff);

	go_live(e, V1);
	/* A notify naming no queue: an exit that kicks nothing. */
	exits = fake_exits(fm);
	wr(e, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	fake_mmio_write(fm, BASE0 + VIRTIO_MMIO_QUEUE_NOTIFY, 2, 0);	/* wrong width */
	assert_int_equal(fake_exits(fm), exits + 2);
	assert_int_equal(fake_run_io(fm, 1, 50), 0);
	assert_int_equal(kicks(e, 0) + kicks(e, 1), 0);
	/* An enabled queue's registers are frozen. */
	wr(e, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(e, VIRTIO_MMIO_QUEUE_NUM, 4);
	wr(e, VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);
	assert_int_equal(virtio_queue(&t->vdev, 0)->size, 8);
	assert_int_equal(virtio_queue(&t->vdev, 0)->addr[VIRTQ_AREA_DESC], t->ring[0].desc);
	/* QueueReady takes 0 and 1 only; 0 stops the queue, as Linux's vm_del_vq checks. */
	wr(e, VIRTIO_MMIO_QUEUE_READY, 2);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_READY), 1);
	wr(e, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(log_lines(e), 1);
}

/* Enabling a queue the driver placed badly: NEEDS_RESET, and the config interrupt at DRIVER_OK. */
static void test_bad_queue_needs_reset(void **state)
{
	struct env *e = *state;
	struct fake_machine *fm;
	struct tdev *t;

	t = probed(e, false, NULL);
	fm = e->fm;
	accept_features(e, V1);
	wr(e, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(e, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(e, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	wr(e, VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);		/* 4 GiB: past the 1 MiB of RAM */
	wr(e, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(rd(e, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(fm->nr_irq_calls, 0);
	wr(e, VIRTIO_MMIO_STATUS, S_LIVE);
	assert_int_equal(rd(e, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(fm->irq_level[5], 1);
	assert_int_equal(t->activates, 0);
	assert_int_equal(log_lines(e), 1);
	assert_true(logged(e, "test-dev: queue 0:"));

	/* A size cut to 16 bits would be valid: refused as a whole. */
	wr(e, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(fm->irq_level[5], 0);
	probe(e);
	accept_features(e, V1);
	tr_init(&t->ring[0], &e->gm, 8, 0x10000);
	wr(e, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(e, VIRTIO_MMIO_QUEUE_NUM, 0x10008);
	wr(e, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)t->ring[0].desc);
	wr(e, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)t->ring[0].avail);
	wr(e, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)t->ring[0].used);
	wr(e, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(rd(e, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

static const char *owner_of(struct fake_machine *fm, unsigned gsi)
{
	for (unsigned i = 0; i < fm->m.nr_irqs; i++)
		if (fm->m.irqs[i].gsi == gsi)
			return fm->m.irqs[i].owner;
	return NULL;
}

static void test_windows_and_lines(void **state)
{
	struct env *e = *state;
	struct virtio_mmio_info info[MAX_DEVS];
	struct virtio_mmio_opts o = { .addr = BASE1 };
	static const unsigned irqs[] = { 5, 6, 7, 9, 10, 11 };

	machine(e, false);
	/* An explicit window at the second default: the defaults go around it. */
	assert_int_equal(attach(e, &o), 0);
	for (unsigned i = 1; i < 6; i++)
		assert_int_equal(attach(e, NULL), 0);
	assert_int_equal(virtio_mmio_list(&e->fm->m, info, MAX_DEVS), 6);
	assert_int_equal(info[0].base, BASE0);
	assert_int_equal(info[0].irq, 6);
	assert_int_equal(info[1].base, BASE1);
	assert_int_equal(info[1].irq, 5);
	assert_int_equal(info[2].base, BASE1 + VIRTIO_MMIO_STRIDE);
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(info[i].size, VIRTIO_MMIO_SIZE);
		assert_string_equal(info[i].name, "test-dev");
		assert_int_equal(info[i].device_id, VIRTIO_ID_RNG);
		assert_non_null(owner_of(e->fm, irqs[i]));
	}
	assert_string_equal(owner_of(e->fm, 5), "test-dev@0xfed01000");
	assert_int_equal(log_lines(e), 0);

	/* The pool is used up; the same line or window twice; lines and windows that cannot be. */
	assert_int_equal(attach(e, NULL), -ENOSPC);
	assert_true(logged(e, "test-dev: IRQs 5, 6, 7, 9, 10 and 11 are all used"));
	o = (struct virtio_mmio_opts){ .irq = 5, .addr = 0xfee00000 - VIRTIO_MMIO_SIZE };
	assert_int_equal(attach(e, &o), -EBUSY);
	assert_true(logged(e, "test-dev@0xfedffe00: IRQ 5 is already used by test-dev@0xfed01000"));
	o = (struct virtio_mmio_opts){ .irq = 3, .addr = BASE0 };
	assert_int_equal(attach(e, &o), -EEXIST);
	assert_true(logged(e, "test-dev: cannot claim mmio 0xfed00000-0xfed001ff: already in use"));
	o = (struct virtio_mmio_opts){ .irq = 16 };
	assert_int_equal(attach(e, &o), -EINVAL);
	assert_true(logged(e, "test-dev: irq 16: virtio-mmio takes an ISA IRQ, 1-15"));
	o = (struct virtio_mmio_opts){ .irq = 3, .addr = 0xe0000100 };
	assert_int_equal(attach(e, &o), -EINVAL);
	assert_true(logged(e, "test-dev: addr 0xe0000100 is not a multiple of 0x200"));
	assert_int_equal(log_lines(e), 5);
	/* The failures left no window behind, and claimed no line. */
	assert_int_equal(virtio_mmio_list(&e->fm->m, info, MAX_DEVS), 6);
	assert_null(owner_of(e->fm, 3));
	assert_int_equal(e->fm->m.nr_irqs, 6);
	assert_int_equal(fake_mmio_read(e->fm, 0xfee00000 - VIRTIO_MMIO_SIZE, 4), 0xffffffff);
	fake_mmio_write(e->fm, 0xfee00000 - VIRTIO_MMIO_SIZE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
	assert_int_equal(fake_run_io(e->fm, 1, 50), 0);
}

static void test_register_names(void **state)
{
	static const struct { uint64_t off; const char *name; } names[] = {
		{ 0x000, "MagicValue" }, { 0x004, "Version" }, { 0x008, "DeviceID" },
		{ 0x00c, "VendorID" }, { 0x010, "DeviceFeatures" }, { 0x014, "DeviceFeaturesSel" },
		{ 0x020, "DriverFeatures" }, { 0x024, "DriverFeaturesSel" }, { 0x030, "QueueSel" },
		{ 0x034, "QueueNumMax" }, { 0x038, "QueueNum" }, { 0x044, "QueueReady" },
		{ 0x050, "QueueNotify" }, { 0x060, "InterruptStatus" }, { 0x064, "InterruptACK" },
		{ 0x070, "Status" }, { 0x080, "QueueDescLow" }, { 0x084, "QueueDescHigh" },
		{ 0x090, "QueueDriverLow" }, { 0x094, "QueueDriverHigh" },
		{ 0x0a0, "QueueDeviceLow" }, { 0x0a4, "QueueDeviceHigh" }, { 0x0ac, "SHMSel" },
		{ 0x0b0, "SHMLenLow" }, { 0x0b4, "SHMLenHigh" }, { 0x0b8, "SHMBaseLow" },
		{ 0x0bc, "SHMBaseHigh" }, { 0x0fc, "ConfigGeneration" }, { 0x100, "Config" },
		{ 0x1ff, "Config" }, { 0x072, "Status" },
	};
	struct env *e = *state;
	const struct bus_region *r;
	struct virtio_mmio_info info;

	machine(e, false);
	assert_int_equal(attach(e, NULL), 0);
	r = bus_lookup(e->fm->m.bus[BUS_MMIO], BASE0, 4);
	assert_non_null(r);
	assert_true(virtio_mmio_region_info(r, &info));
	assert_int_equal(info.irq, 5);
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		assert_string_equal(r->ops->reg_name(r->opaque, names[i].off), names[i].name);
	/* Reserved offsets have no name (the report shows +0xNN). */
	assert_null(r->ops->reg_name(r->opaque, 0x018));
	assert_null(r->ops->reg_name(r->opaque, 0x0c0));
}

static void test_linux_cmdline(void **state)
{
	struct env *e = *state;
	struct vm_spec spec;
	char *s, *want;

	vm_spec_init(&spec);
	machine(e, false);
	/* Without devices nothing changes. */
	s = vm_effective_cmdline(&spec, &e->fm->m, false, true);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(attach(e, NULL), 0);
	assert_int_equal(attach(e, &(struct virtio_mmio_opts){ .irq = 10 }), 0);
	spec.cmdline = strdup("console=ttyS0");
	s = vm_effective_cmdline(&spec, &e->fm->m, false, true);
	assert_string_equal(s, "console=ttyS0 virtio_mmio.device=0x200@0xfed00000:5 "
			       "virtio_mmio.device=0x200@0xfed01000:10");
	free(s);
	/* Not for a guest that is not Linux. */
	s = vm_effective_cmdline(&spec, &e->fm->m, true, false);
	assert_string_equal(s, "console=ttyS0");
	free(s);
	/* A device the user named already is not named twice (":1" is not ":10"). */
	free(spec.cmdline);
	spec.cmdline = strdup("virtio_mmio.device=0x200@0xfed01000:1 "
			      "virtio_mmio.device=0x200@0xfed00000:5");
	s = vm_effective_cmdline(&spec, &e->fm->m, false, true);
	assert_string_equal(s, "virtio_mmio.device=0x200@0xfed01000:1 "
			       "virtio_mmio.device=0x200@0xfed00000:5 "
			       "virtio_mmio.device=0x200@0xfed01000:10");
	free(s);
	/* The nested-KVM additions come last. */
	free(spec.cmdline);
	spec.cmdline = NULL;
	s = vm_effective_cmdline(&spec, &e->fm->m, true, true);
	assert_true(asprintf(&want, "virtio_mmio.device=0x200@0xfed00000:5 "
			     "virtio_mmio.device=0x200@0xfed01000:10 %s",
			     nested_quirk_linux_cmdline) > 0);
	assert_string_equal(s, want);
	free(want);
	free(s);
	/* No machine: no devices. */
	s = vm_effective_cmdline(&spec, NULL, false, true);
	assert_string_equal(s, "");
	free(s);
	vm_spec_free(&spec);
}

static void test_dtb(void **state)
{
	struct env *e = *state;
	char path[] = "/tmp/qlite-test-vmmio-XXXXXX";
	struct guest_mem layout;
	struct vm_spec spec;
	const fdt64_t *reg;
	const fdt32_t *irq;
	const char *compat, *why;
	uint8_t *fdt;
	size_t len;
	int fd, node, n;

	vm_spec_init(&spec);
	machine(e, false);
	assert_int_equal(attach(e, NULL), 0);
	assert_int_equal(attach(e, &(struct virtio_mmio_opts){ .irq = 9 }), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	guest_mem_layout(&layout, 64 * MiB);
	assert_int_equal(vm_write_dtb(&spec, &e->fm->m, &layout, "console=ttyS0", path), 0);
	assert_int_equal(read_file(path, &fdt, &len, &why), 0);
	unlink(path);
	assert_int_equal(fdt_check_header(fdt), 0);

	node = fdt_path_offset(fdt, "/test-dev@fed01000");
	assert_true(node >= 0);
	compat = fdt_getprop(fdt, node, "compatible", &n);
	assert_non_null(compat);
	assert_string_equal(compat, "virtio,mmio");
	reg = fdt_getprop(fdt, node, "reg", &n);
	assert_int_equal(n, 16);
	assert_int_equal(fdt64_to_cpu(reg[0]), BASE1);
	assert_int_equal(fdt64_to_cpu(reg[1]), VIRTIO_MMIO_SIZE);
	irq = fdt_getprop(fdt, node, "interrupts", &n);
	assert_int_equal(n, 4);
	assert_int_equal(fdt32_to_cpu(irq[0]), 9);
	node = fdt_path_offset(fdt, "/test-dev@fed00000");
	assert_true(node >= 0);
	irq = fdt_getprop(fdt, node, "interrupts", &n);
	assert_int_equal(n, 4);
	assert_int_equal(fdt32_to_cpu(irq[0]), 5);
	free(fdt);
	vm_spec_free(&spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_in_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kicks_exit_without_ioeventfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_to_userspace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_queue_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_windows_and_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_cmdline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dtb, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
