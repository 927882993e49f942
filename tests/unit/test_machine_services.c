// SPDX-License-Identifier: GPL-2.0-only
/*
 * The machine's services for asynchronous devices, through the fake
 * machine: fd watches, doorbells (userspace and "in-kernel" through the
 * fake kernel's ioeventfd), interrupt events (injection and irqfd, GSI and
 * MSI routes), timers and asynchronous file I/O on the real I/O loop.
 *
 * meson runs this file twice: on io_uring, and with QLITE_NO_IO_URING=1 on
 * the fallback (epoll and a worker pool), which must behave the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_machine.h"
#include "qlite/util.h"

#define DEV_BASE	0x10000000ULL	/* a device's MMIO window */
#define DEV_LEN		0x100
#define NOTIFY		(DEV_BASE + 0x10)

/* ---- a tiny device: counts the register writes that reach it ---- */

struct tiny {
	unsigned writes;
	uint64_t last_offset;
	unsigned rings_calls;
	uint64_t rings;
};

static void tiny_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct tiny *t = opaque;

	t->writes++;
	t->last_offset = offset;
}

static const struct bus_ops tiny_ops = { .write = tiny_write };

static void tiny_ring(void *opaque, uint64_t rings)
{
	struct tiny *t = opaque;

	t->rings_calls++;
	t->rings += rings;
}

static struct doorbell *tiny_doorbell(struct fake_machine *fm, struct tiny *t, bool match,
				      uint64_t value, bool in_kernel)
{
	struct doorbell_desc d = {
		.name = "tiny-notify", .space = BUS_MMIO, .addr = NOTIFY, .len = 4,
		.match = match, .value = value, .in_kernel = in_kernel,
		.ring = tiny_ring, .opaque = t,
	};
	struct doorbell *db = NULL;

	assert_true(machine_claim(&fm->m, BUS_MMIO, DEV_BASE, DEV_LEN, "tiny", &tiny_ops, t) >= 0);
	assert_int_equal(machine_doorbell_add(&fm->m, &d, &db), 0);
	return db;
}

/* ---- fd watches ---- */

struct watched {
	unsigned calls;
	char got[16];
};

static bool on_readable(void *opaque, int fd, uint32_t revents)
{
	struct watched *w = opaque;
	ssize_t n = read(fd, w->got, sizeof(w->got) - 1);

	assert_true(revents & POLLIN);
	assert_true(n > 0);
	w->got[n] = '\0';
	w->calls++;
	return true;
}

static void test_watch_fd(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct watched w = { 0 };
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(machine_watch_fd(&fm->m, p[0], POLLIN, on_readable, &w), 0);
	assert_int_equal(fake_run_io(fm, 1, 20), 0);	/* nothing to read yet */
	assert_int_equal(write(p[1], "abc", 3), 3);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(w.calls, 1);
	assert_string_equal(w.got, "abc");
	/* The watch re-arms after its callback. */
	assert_int_equal(write(p[1], "de", 2), 2);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_string_equal(w.got, "de");
	/* Unwatched: data stays unread. */
	machine_unwatch_fd(&fm->m, p[0]);
	assert_int_equal(write(p[1], "f", 1), 1);
	fake_run_io(fm, 2, 50);
	assert_int_equal(w.calls, 2);
	close(p[0]);
	close(p[1]);
	fake_machine_destroy(fm);
}

/* ---- doorbells ---- */

static void test_doorbell_userspace(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct tiny t = { 0 };
	struct doorbell *db = tiny_doorbell(fm, &t, false, 0, true);

	/* No accel: the userspace path, whatever the device asked for. */
	assert_false(doorbell_in_kernel(db));
	fake_mmio_write(fm, NOTIFY, 4, 0);
	assert_int_equal(fake_exits(fm), 1);	/* the write exited to qlite... */
	assert_int_equal(t.writes, 0);		/* ...and went to the doorbell, not the register */
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(t.rings_calls, 1);
	assert_int_equal(t.rings, 1);
	/* Other registers, and other widths at the doorbell's address, reach the device. */
	fake_mmio_write(fm, NOTIFY + 4, 4, 0);
	fake_mmio_write(fm, NOTIFY, 2, 0);
	assert_int_equal(t.writes, 2);
	/* Rings before the I/O thread runs are delivered together, none lost. */
	for (int i = 0; i < 3; i++)
		fake_mmio_write(fm, NOTIFY, 4, i);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(t.rings_calls, 2);
	assert_int_equal(t.rings, 4);
	assert_int_equal(doorbell_count(db), 4);
	doorbell_remove(db);
	fake_mmio_write(fm, NOTIFY, 4, 0);
	assert_int_equal(t.writes, 3);
	fake_machine_destroy(fm);
}

static void test_doorbell_match_and_move(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct tiny t = { 0 };
	struct doorbell *db = tiny_doorbell(fm, &t, true, 3, false);

	fake_mmio_write(fm, NOTIFY, 4, 2);	/* not the value: a register write */
	assert_int_equal(t.writes, 1);
	fake_mmio_write(fm, NOTIFY, 4, 3);
	assert_int_equal(t.writes, 1);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(t.rings, 1);
	/* A BAR moved: the doorbell follows, the old address is a register again. */
	assert_int_equal(doorbell_move(db, NOTIFY + 0x40), 0);
	fake_mmio_write(fm, NOTIFY, 4, 3);
	assert_int_equal(t.writes, 2);
	fake_mmio_write(fm, NOTIFY + 0x40, 4, 3);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(t.rings, 2);
	/* Disabled (BAR unmapped): nothing rings. */
	assert_int_equal(doorbell_move(db, BUS_UNMAPPED), 0);
	fake_mmio_write(fm, NOTIFY + 0x40, 4, 3);
	assert_int_equal(fake_run_io(fm, 1, 30), 0);
	assert_int_equal(t.rings, 2);
	doorbell_remove(db);
	fake_machine_destroy(fm);
}

static void test_doorbell_in_kernel(void **state)
{
	struct fake_machine *fm = fake_machine_create_accel();
	struct tiny t = { 0 };
	struct doorbell *db = tiny_doorbell(fm, &t, false, 0, true);

	assert_true(doorbell_in_kernel(db));
	assert_int_equal(fm->nr_ioeventfds, 1);
	assert_int_equal(fm->ioeventfds[0].addr, NOTIFY);
	assert_int_equal(fm->ioeventfds[0].len, 4);
	fake_mmio_write(fm, NOTIFY, 4, 7);
	fake_mmio_write(fm, NOTIFY, 4, 8);
	assert_int_equal(fake_exits(fm), 0);	/* the kernel took both */
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(t.rings, 2);
	assert_int_equal(t.writes, 0);
	assert_int_equal(doorbell_move(db, NOTIFY + 8), 0);
	assert_int_equal(fm->nr_ioeventfds, 1);
	assert_int_equal(fm->ioeventfds[0].addr, NOTIFY + 8);
	doorbell_remove(db);
	assert_int_equal(fm->nr_ioeventfds, 0);
	fake_machine_destroy(fm);
}

static void test_doorbell_switched_off(void **state)
{
	struct fake_machine *fm = fake_machine_create_accel();
	struct tiny t = { 0 };
	struct doorbell *db = tiny_doorbell(fm, &t, false, 0, false);

	/* `ioeventfd off`: every ring is an exit even where the kernel could take it. */
	assert_false(doorbell_in_kernel(db));
	assert_int_equal(fm->nr_ioeventfds, 0);
	fake_mmio_write(fm, NOTIFY, 4, 0);
	assert_int_equal(fake_exits(fm), 1);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(t.rings, 1);
	doorbell_remove(db);
	fake_machine_destroy(fm);
}

static void test_doorbell_bad(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct tiny t = { 0 };
	struct doorbell_desc d = { .space = BUS_PIO, .addr = 0x500, .len = 3, .ring = tiny_ring,
				   .opaque = &t };
	struct doorbell *db = NULL;

	assert_int_equal(machine_doorbell_add(&fm->m, &d, &db), -EINVAL);
	d.len = 2;
	d.ring = NULL;
	assert_int_equal(machine_doorbell_add(&fm->m, &d, &db), -EINVAL);
	d.ring = tiny_ring;
	d.addr = 0xffff;	/* past the port space */
	assert_int_equal(machine_doorbell_add(&fm->m, &d, &db), -EINVAL);
	assert_null(db);
	fake_machine_destroy(fm);
}

/* ---- interrupt events ---- */

static void test_irq_event_userspace(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct irq_event *gsi = NULL, *msi = NULL;

	assert_int_equal(machine_irq_event_gsi(&fm->m, 11, true, &gsi), 0);
	assert_false(irq_event_in_kernel(gsi));
	irq_event_raise(gsi);
	/* An edge: the line goes up and down. */
	assert_int_equal(fm->nr_irq_calls, 2);
	assert_int_equal(fm->irq_calls[0].gsi, 11);
	assert_int_equal(fm->irq_calls[0].level, 1);
	assert_int_equal(fm->irq_calls[1].level, 0);

	assert_int_equal(machine_irq_event_msi(&fm->m, 0x10, 0xfee00000, 0x4041, true, &msi), 0);
	irq_event_raise(msi);
	assert_int_equal(irq_event_set_msi(msi, 0x10, 0xfee01000, 0x4042), 0);
	irq_event_raise(msi);
	assert_int_equal(fm->nr_msi_calls, 2);
	assert_int_equal(fm->msi_calls[0].addr, 0xfee00000);
	assert_int_equal(fm->msi_calls[0].data, 0x4041);
	assert_int_equal(fm->msi_calls[1].addr, 0xfee01000);
	assert_int_equal(fm->msi_calls[1].data, 0x4042);
	assert_int_equal(irq_event_count(msi), 2);
	assert_int_equal(irq_event_set_msi(gsi, 0, 0, 0), -EINVAL);
	irq_event_destroy(gsi);
	irq_event_destroy(msi);
	fake_machine_destroy(fm);
}

static void test_irq_event_in_kernel(void **state)
{
	struct fake_machine *fm = fake_machine_create_accel();
	struct irq_event *gsi = NULL, *msi = NULL, *off = NULL;

	assert_int_equal(machine_irq_event_gsi(&fm->m, 5, true, &gsi), 0);
	assert_true(irq_event_in_kernel(gsi));
	irq_event_raise(gsi);
	irq_event_raise(gsi);
	assert_int_equal(fm->nr_irq_calls, 0);	/* no injection from userspace */
	assert_int_equal(fake_irqfd_drain(fm, 5), 2);

	/* An MSI behind an irqfd gets a GSI route of its own, updated in place. */
	assert_int_equal(machine_irq_event_msi(&fm->m, 0x10, 0xfee00000, 0x30, true, &msi), 0);
	assert_true(irq_event_in_kernel(msi));
	assert_int_equal(fm->nr_routes, 1);
	assert_int_equal(fm->routes[0].gsi, 24);
	assert_int_equal(fm->routes[0].data, 0x30);
	assert_int_equal(irq_event_set_msi(msi, 0x10, 0xfee00000, 0x31), 0);
	assert_int_equal(fm->nr_routes, 1);
	assert_int_equal(fm->routes[0].data, 0x31);
	irq_event_raise(msi);
	assert_int_equal(fake_irqfd_drain(fm, 24), 1);
	assert_int_equal(fm->nr_msi_calls, 0);

	/* `irqfd off`: injected from userspace although the kernel could. */
	assert_int_equal(machine_irq_event_gsi(&fm->m, 6, false, &off), 0);
	assert_false(irq_event_in_kernel(off));
	irq_event_raise(off);
	assert_int_equal(fm->nr_irq_calls, 2);

	irq_event_destroy(msi);
	assert_int_equal(fm->nr_routes, 0);
	irq_event_destroy(gsi);
	irq_event_destroy(off);
	assert_int_equal(fm->nr_irqfds, 0);
	fake_machine_destroy(fm);
}

/*
 * An IOMMU that remaps interrupts: data 0x100 + n becomes vector
 * vector_base + n, the requester is recorded, and blocked MSIs are refused.
 */
struct remapper {
	unsigned calls;
	uint16_t last_sid;
	uint32_t vector_base;
	bool block;
};

static int remap_dma(void *opaque, uint16_t sid, uint64_t iova, bool write, uint64_t *gpa,
		     uint64_t *len)
{
	(void)opaque;
	(void)sid;
	(void)write;
	*gpa = iova;
	*len = 0x1000 - (iova & 0xfff);
	return 0;
}

static int remap_msi(void *opaque, uint16_t sid, uint64_t *addr, uint32_t *data)
{
	struct remapper *r = opaque;

	r->calls++;
	r->last_sid = sid;
	if (r->block)
		return -EFAULT;
	*addr = 0xfee00000;
	*data = r->vector_base + (*data - 0x100);
	return 0;
}

static const struct machine_iommu_ops remap_ops = {
	.dma_translate = remap_dma,
	.msi_translate = remap_msi,
};

static void test_irq_event_remapped(void **state)
{
	struct fake_machine *fm = fake_machine_create_accel();
	struct remapper r = { .vector_base = 0x40 };
	struct irq_event *gsi = NULL, *msi = NULL;

	(void)state;
	assert_int_equal(machine_set_iommu(&fm->m, &remap_ops, &r, 0xfed90000, true), 0);
	/* A line is no message: still the kernel's. */
	assert_int_equal(machine_irq_event_gsi(&fm->m, 5, true, &gsi), 0);
	assert_true(irq_event_in_kernel(gsi));
	/* An MSI stays in userspace, with no route for KVM to hold. */
	assert_int_equal(machine_irq_event_msi(&fm->m, 0x18, 0xfee00010, 0x100, true, &msi), 0);
	assert_false(irq_event_in_kernel(msi));
	assert_int_equal(fm->nr_routes, 0);
	assert_int_equal(fm->nr_irqfds, 1);
	irq_event_raise(msi);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.last_sid, 0x18);
	assert_int_equal(fm->nr_msi_calls, 1);
	assert_int_equal(fm->msi_calls[0].addr, 0xfee00000);
	assert_int_equal(fm->msi_calls[0].data, 0x40);
	/* The guest rewrites its table: the next raise is translated anew. */
	r.vector_base = 0x60;
	irq_event_raise(msi);
	assert_int_equal(fm->msi_calls[1].data, 0x60);
	/* Reprogrammed (and a requester id learnt late), still no route. */
	assert_int_equal(irq_event_set_msi(msi, 0x20, 0xfee00010, 0x102), 0);
	assert_int_equal(fm->nr_routes, 0);
	irq_event_raise(msi);
	assert_int_equal(r.last_sid, 0x20);
	assert_int_equal(fm->msi_calls[2].data, 0x62);
	/* Blocked by the IOMMU: nothing delivered, the raise still counted. */
	r.block = true;
	irq_event_raise(msi);
	assert_int_equal(r.calls, 4);
	assert_int_equal(fm->nr_msi_calls, 3);
	assert_int_equal(irq_event_count(msi), 4);
	irq_event_destroy(msi);
	irq_event_destroy(gsi);
	fake_machine_destroy(fm);
}

/* An IOMMU without interrupt remapping leaves MSIs to the kernel, as before. */
static void test_irq_event_iommu_no_intremap(void **state)
{
	struct fake_machine *fm = fake_machine_create_accel();
	struct remapper r = { .vector_base = 0x40 };
	struct irq_event *msi = NULL;

	(void)state;
	assert_int_equal(machine_set_iommu(&fm->m, &remap_ops, &r, 0xfed90000, false), 0);
	assert_int_equal(machine_irq_event_msi(&fm->m, 0x18, 0xfee00000, 0x30, true, &msi), 0);
	assert_true(irq_event_in_kernel(msi));
	assert_int_equal(fm->nr_routes, 1);
	assert_int_equal(fm->routes[0].data, 0x30);
	irq_event_raise(msi);
	assert_int_equal(fake_irqfd_drain(fm, 24), 1);
	assert_int_equal(fm->nr_msi_calls, 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(irq_event_count(msi), 1);
	irq_event_destroy(msi);
	fake_machine_destroy(fm);
}

/* ---- timers ---- */

static void on_timer(void *opaque)
{
	(*(unsigned *)opaque)++;
}

static void test_timer(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct loop_timer *t = NULL;
	unsigned fired = 0;

	assert_int_equal(machine_timer_create(&fm->m, on_timer, &fired, &t), 0);
	assert_int_equal(loop_timer_arm(t, 1000000), 0);		/* 1 ms */
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(fired, 1);
	/* One-shot: nothing more. */
	fake_run_io(fm, 1, 30);
	assert_int_equal(fired, 1);
	/* Re-arming replaces the deadline. */
	assert_int_equal(loop_timer_arm(t, 5000000000ULL), 0);
	assert_int_equal(loop_timer_arm(t, 2000000), 0);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(fired, 2);
	/* Cancelled before it fires. */
	assert_int_equal(loop_timer_arm(t, 10000000), 0);
	assert_int_equal(loop_timer_arm(t, 0), 0);
	fake_run_io(fm, 1, 50);
	assert_int_equal(fired, 2);
	loop_timer_destroy(t);
	fake_machine_destroy(fm);
}

/* ---- asynchronous I/O ---- */

struct io_done {
	unsigned calls;
	int res[8];
};

static void on_io_done(struct aio_req *req, int res)
{
	struct io_done *d = req->opaque;

	d->res[d->calls++] = res;
}

static int temp_file(void)
{
	char path[] = "/tmp/qlite-aio-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static void test_aio(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	char a[512], b[512], back[1024];
	struct iovec wr[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct iovec rd = { back, sizeof(back) };
	struct io_done d = { 0 };
	struct aio_req w = { .op = AIO_WRITE, .iov = wr, .iovcnt = 2, .offset = 4096,
			     .done = on_io_done, .opaque = &d };
	struct aio_req f = { .op = AIO_FLUSH, .done = on_io_done, .opaque = &d };
	struct aio_req r = { .op = AIO_READ, .iov = &rd, .iovcnt = 1, .offset = 4096,
			     .done = on_io_done, .opaque = &d };
	int fd = temp_file();

	w.fd = f.fd = r.fd = fd;
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	/* A write of two buffers and a flush, queued in one round. */
	assert_int_equal(machine_aio_submit(&fm->m, &w), 0);
	assert_int_equal(machine_aio_submit(&fm->m, &f), 0);
	assert_int_equal(d.calls, 0);		/* nothing completes before the loop runs */
	assert_int_equal(fake_run_io(fm, 2, 2000), 2);
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.res[0] + d.res[1], 1024);	/* 1024 bytes and 0, in either order */
	assert_int_equal(machine_aio_submit(&fm->m, &r), 0);
	assert_int_equal(fake_run_io(fm, 1, 2000), 1);
	assert_int_equal(d.res[2], 1024);
	assert_memory_equal(back, a, sizeof(a));
	assert_memory_equal(back + 512, b, sizeof(b));

	/* Zeroing and discarding keep the file's size. */
	struct aio_req z = { .fd = fd, .op = AIO_WRITE_ZEROES, .offset = 4096, .len = 512,
			     .done = on_io_done, .opaque = &d };
	struct stat st;

	assert_int_equal(machine_aio_submit(&fm->m, &z), 0);
	assert_int_equal(fake_run_io(fm, 1, 2000), 1);
	assert_int_equal(d.res[3], 0);
	assert_int_equal(pread(fd, back, 1024, 4096), 1024);
	for (int i = 0; i < 512; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(back[512], 'b');
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 4096 + 1024);

	/* Errors come back as -errno in the completion, not as a crash. */
	struct aio_req bad = { .fd = -1, .op = AIO_READ, .iov = &rd, .iovcnt = 1,
			       .done = on_io_done, .opaque = &d };

	assert_int_equal(machine_aio_submit(&fm->m, &bad), 0);
	assert_int_equal(fake_run_io(fm, 1, 2000), 1);
	assert_int_equal(d.res[4], -EBADF);
	bad.op = 99;
	assert_int_equal(machine_aio_submit(&fm->m, &bad), -EINVAL);
	close(fd);
	fake_machine_destroy(fm);
}

/* ---- the loop itself: the same contract on either backend ---- */

static void test_backend(void **state)
{
	const char *forced = getenv("QLITE_NO_IO_URING");
	struct fake_machine *fm = fake_machine_create();
	struct io_uring ring;
	int probe;

	if (forced && strcmp(forced, "1") == 0) {
		assert_false(event_loop_uses_io_uring(fm->m.loop));
		assert_int_equal(event_loop_io_uring_error(fm->m.loop), -ECANCELED);
		fake_machine_destroy(fm);
		return;
	}
	/* Not forced: io_uring exactly when this process may set one up. */
	probe = io_uring_queue_init(8, &ring, 0);
	if (probe == 0)
		io_uring_queue_exit(&ring);
	assert_int_equal(event_loop_uses_io_uring(fm->m.loop), probe == 0);
	assert_int_equal(event_loop_io_uring_error(fm->m.loop), probe);
	fake_machine_destroy(fm);
}

/* An eventfd watch that counts, and stops itself, or another watch, when told to. */
struct counter {
	struct event_loop *loop;
	unsigned calls;
	uint32_t revents;
	bool drain;		/* read the eventfd */
	bool again;		/* the callback's answer */
	int remove_fd;		/* event_loop_remove() this fd from the callback, or -1 */
};

static bool on_count(void *opaque, int fd, uint32_t revents)
{
	struct counter *c = opaque;
	uint64_t v;

	c->calls++;
	c->revents = revents;
	if (c->drain)
		assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	if (c->remove_fd >= 0)
		event_loop_remove(c->loop, c->remove_fd);
	return c->again;
}

static void kick(int efd)
{
	uint64_t one = 1;

	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
}

static void test_watch_contract(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct event_loop *loop = fm->m.loop;
	int a = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int b = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct counter ca = { .loop = loop, .drain = true, .again = true, .remove_fd = -1 };
	struct counter cb = ca;

	assert_true(a >= 0 && b >= 0);
	/* Nothing ready: run_once(timeout) runs nothing and says so. */
	assert_int_equal(event_loop_add(loop, a, POLLIN, on_count, &ca), 0);
	assert_int_equal(event_loop_run_once(loop, 10), 0);
	/* Both ready: one call each, counted. */
	assert_int_equal(event_loop_add(loop, b, POLLIN, on_count, &cb), 0);
	kick(a);
	kick(b);
	assert_int_equal(fake_run_io(fm, 2, 1000), 2);
	assert_int_equal(ca.calls, 1);
	assert_int_equal(cb.calls, 1);
	assert_true(ca.revents & POLLIN);

	/* Not drained: level-triggered, called again on every round. */
	ca.drain = false;
	kick(a);
	assert_int_equal(fake_run_io(fm, 3, 1000), 3);
	assert_int_equal(ca.calls, 4);

	/* A callback returning false stops its watch; the data stays unread. */
	ca.again = false;
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(ca.calls, 5);
	assert_int_equal(fake_run_io(fm, 1, 30), 0);
	assert_int_equal(ca.calls, 5);
	/* ...and the fd can be watched again. */
	ca.again = true;
	ca.drain = true;
	assert_int_equal(event_loop_add(loop, a, POLLIN, on_count, &ca), 0);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(ca.calls, 6);

	/* Removed from its own callback: that call is the last. */
	cb.drain = false;
	cb.remove_fd = b;
	kick(b);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(cb.calls, 2);
	assert_int_equal(fake_run_io(fm, 1, 30), 0);
	assert_int_equal(cb.calls, 2);

	/* One callback removes another watch, ready in the same round: at most one call. */
	cb = (struct counter){ .loop = loop, .drain = true, .again = true, .remove_fd = a };
	ca.remove_fd = b;
	assert_int_equal(event_loop_add(loop, b, POLLIN, on_count, &cb), 0);
	kick(a);
	kick(b);
	fake_run_io(fm, 2, 100);
	assert_int_equal(ca.calls + cb.calls, 6 + 1);
	/* The survivor is still watched, the other is not. */
	ca.remove_fd = cb.remove_fd = -1;
	kick(a);
	kick(b);
	fake_run_io(fm, 2, 100);
	assert_int_equal(ca.calls + cb.calls, 6 + 2);
	event_loop_remove(loop, a);
	event_loop_remove(loop, b);
	kick(a);
	kick(b);
	assert_int_equal(fake_run_io(fm, 1, 30), 0);

	/* Removing what is not watched is harmless. */
	event_loop_remove(loop, a);
	event_loop_remove(loop, 12345);
	close(a);
	close(b);
	fake_machine_destroy(fm);
}

static void test_watch_twice_and_files(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	struct event_loop *loop = fm->m.loop;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct counter c1 = { .loop = loop, .again = true, .remove_fd = -1 };
	struct counter c2 = c1, cn = c1;
	uint64_t v;

	assert_true(efd >= 0 && null >= 0);
	/* Two watches on one fd: both called. */
	assert_int_equal(event_loop_add(loop, efd, POLLIN, on_count, &c1), 0);
	assert_int_equal(event_loop_add(loop, efd, POLLIN, on_count, &c2), 0);
	kick(efd);
	assert_int_equal(fake_run_io(fm, 2, 1000), 2);
	assert_int_equal(c1.calls, 1);
	assert_int_equal(c2.calls, 1);
	assert_int_equal(read(efd, &v, sizeof(v)), sizeof(v));
	/* Removing by fd removes one of them; the other stays. */
	event_loop_remove(loop, efd);
	kick(efd);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(c1.calls + c2.calls, 3);
	event_loop_remove(loop, efd);
	assert_int_equal(fake_run_io(fm, 1, 30), 0);

	/* A file poll(2) calls always ready (stdin from /dev/null): called at once, POLLIN. */
	cn.again = false;
	assert_int_equal(event_loop_add(loop, null, POLLIN, on_count, &cn), 0);
	assert_int_equal(fake_run_io(fm, 1, 1000), 1);
	assert_int_equal(cn.calls, 1);
	assert_true(cn.revents & POLLIN);
	assert_int_equal(fake_run_io(fm, 1, 30), 0);
	assert_int_equal(cn.calls, 1);
	/* Not a file at all. */
	assert_int_equal(event_loop_add(loop, -1, POLLIN, on_count, &cn), -EBADF);
	assert_int_equal(event_loop_add(loop, 12345, POLLIN, on_count, &cn), -EBADF);
	close(efd);
	close(null);
	fake_machine_destroy(fm);
}

/* A read that queues a write from its completion; both complete on the I/O thread. */
struct chain {
	struct event_loop *loop;
	pthread_t io_thread;
	struct aio_req next;
	unsigned calls;
	int res[4];
	bool elsewhere;		/* a completion ran off the I/O thread */
};

static void on_chain_done(struct aio_req *req, int res)
{
	struct chain *c = req->opaque;

	if (!pthread_equal(pthread_self(), c->io_thread))
		c->elsewhere = true;
	c->res[c->calls++] = res;
	if (req != &c->next)
		assert_int_equal(event_loop_aio_submit(c->loop, &c->next), 0);
}

static void test_aio_chained(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	char in[256], out[256];
	struct iovec iv = { in, sizeof(in) }, ov = { out, sizeof(out) };
	struct chain c = { .loop = fm->m.loop, .io_thread = pthread_self() };
	int fd = temp_file();
	struct aio_req r = { .fd = fd, .op = AIO_READ, .iov = &iv, .iovcnt = 1,
			     .done = on_chain_done, .opaque = &c };
	struct aio_req d = { .fd = fd, .op = AIO_DISCARD, .offset = 0, .len = 4096,
			     .done = on_chain_done, .opaque = &c };

	memset(out, 'x', sizeof(out));
	assert_int_equal(pwrite(fd, out, sizeof(out), 0), sizeof(out));
	c.next = (struct aio_req){ .fd = fd, .op = AIO_WRITE, .iov = &ov, .iovcnt = 1,
				   .offset = 8192, .done = on_chain_done, .opaque = &c };
	assert_int_equal(event_loop_aio_submit(fm->m.loop, &r), 0);
	assert_int_equal(fake_run_io(fm, 2, 2000), 2);
	assert_int_equal(c.res[0], sizeof(in));
	assert_int_equal(c.res[1], sizeof(out));
	assert_memory_equal(in, out, sizeof(in));
	/* Past the end: a short read, 0 bytes, like preadv. */
	r.offset = 1 << 20;
	c.next.op = AIO_FLUSH;
	assert_int_equal(event_loop_aio_submit(fm->m.loop, &r), 0);
	assert_int_equal(fake_run_io(fm, 2, 2000), 2);
	assert_int_equal(c.res[2], 0);
	assert_int_equal(c.res[3], 0);
	assert_false(c.elsewhere);
	/* A hole punched where the data was reads back as zeroes. */
	c.calls = 0;
	c.next = d;
	assert_int_equal(event_loop_aio_submit(fm->m.loop, &c.next), 0);
	assert_int_equal(fake_run_io(fm, 1, 2000), 1);
	assert_int_equal(c.res[0], 0);
	assert_int_equal(pread(fd, in, sizeof(in), 0), sizeof(in));
	for (unsigned i = 0; i < sizeof(in); i++)
		assert_int_equal(in[i], 0);
	assert_false(c.elsewhere);
	close(fd);
	fake_machine_destroy(fm);
}

/* Destroying the loop with requests and watches still in it leaks nothing and runs nothing. */
static void test_destroy_busy(void **state)
{
	struct fake_machine *fm = fake_machine_create();
	char buf[64];
	struct iovec iv = { buf, sizeof(buf) };
	struct io_done d = { 0 };
	int fd = temp_file();
	struct aio_req r = { .fd = fd, .op = AIO_READ, .iov = &iv, .iovcnt = 1,
			     .done = on_io_done, .opaque = &d };
	struct counter c = { .loop = fm->m.loop, .again = true, .remove_fd = -1 };
	int efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_int_equal(event_loop_add(fm->m.loop, efd, POLLIN, on_count, &c), 0);
	assert_int_equal(event_loop_add(fm->m.loop, efd, POLLIN, on_count, &c), 0);
	assert_int_equal(event_loop_aio_submit(fm->m.loop, &r), 0);
	fake_machine_destroy(fm);
	assert_int_equal(d.calls, 0);
	assert_int_equal(c.calls, 0);
	close(efd);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_fd),
		cmocka_unit_test(test_doorbell_userspace),
		cmocka_unit_test(test_doorbell_match_and_move),
		cmocka_unit_test(test_doorbell_in_kernel),
		cmocka_unit_test(test_doorbell_switched_off),
		cmocka_unit_test(test_doorbell_bad),
		cmocka_unit_test(test_irq_event_userspace),
		cmocka_unit_test(test_irq_event_in_kernel),
		cmocka_unit_test(test_irq_event_remapped),
		cmocka_unit_test(test_irq_event_iommu_no_intremap),
		cmocka_unit_test(test_timer),
		cmocka_unit_test(test_aio),
		cmocka_unit_test(test_backend),
		cmocka_unit_test(test_watch_contract),
		cmocka_unit_test(test_watch_twice_and_files),
		cmocka_unit_test(test_aio_chained),
		cmocka_unit_test(test_destroy_busy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
