// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio.c - a polled virtio-blk driver from ring 3 over the transports of
 * vtransport.c: PCI modern (1af4:1042) and MMIO version 2 at a given
 * address. vblk=N[,SIZE] and vblk-mmio=ADDR,N[,SIZE].
 *
 * One split virtqueue of at most 16 entries, one request in flight: header,
 * data and status descriptors, the avail index bumped, one notify, then the
 * used index polled in RAM (no exits while waiting). The driver negotiates
 * VERSION_1 and, when offered, FLUSH; nothing else.
 *
 * vblk-kick=N and vblk-mmio-kick=ADDR,IOAPIC,PIN,N time the doorbell and the
 * interrupt instead of the disk: GET_ID requests (no disk I/O), one at a
 * time, alternately polled and interrupt-driven (irq.c).
 */
#include "guest.h"

#define VIRTIO_PCI_BLK		0x1042	/* 0x1040 + device id 2 */
#define VIRTIO_ID_BLOCK		2

#define BLK_F_RO		(1ull << 5)
#define BLK_F_FLUSH		(1ull << 9)

#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_T_GET_ID		8
#define BLK_ID_BYTES		20
#define BLK_S_OK		0
#define BLK_CFG_CAPACITY	0	/* le64, in 512-byte sectors */

static struct vq_mem blk_vq_mem;

static struct {
	uint32_t type, reserved;
	uint64_t sector;
	uint8_t status;
} blk_req __attribute__((aligned(64)));

struct vblk {
	struct vtdev t;
	struct vq vq;
	bool flush;				/* FLUSH negotiated */
};

/* Make descriptor chain 0 available, notify, poll the used ring; the used length. */
static uint32_t vq_run(struct vblk *d, const char *what)
{
	uint32_t id, len;

	vq_push(&d->vq, 0);
	mb();					/* the index before the doorbell */
	vq_notify(&d->t, &d->vq);
	if (!vq_poll(&d->vq, tsc_deadline(DISK_TIMEOUT_US), &id, &len))
		fail("%s: %s: no used entry after %u s (device status 0x%x)", d->t.word, what,
		     DISK_TIMEOUT_US / 1000000, vt_get_status(&d->t));
	if (vq_pending(&d->vq))
		fail("%s: %s: used index moved by %u for one request", d->t.word, what,
		     vq_pending(&d->vq) + 1);
	if (id != 0)
		fail("%s: %s: used entry names descriptor %u, 0 was made available", d->t.word, what,
		     id);
	return len;
}

static void blk_request(struct vblk *d, uint32_t type, uint64_t sector, void *buf, uint32_t bytes)
{
	const char *what = type == BLK_T_IN ? "read" : type == BLK_T_OUT ? "write" : "flush";
	uint32_t want = 1 + (type == BLK_T_IN ? bytes : 0), len;
	struct vq_desc *desc = blk_vq_mem.desc;
	unsigned n = 0;

	blk_req.type = type;
	blk_req.reserved = 0;
	blk_req.sector = sector;
	blk_req.status = 0xff;
	desc[n++] = (struct vq_desc){ (uintptr_t)&blk_req, 16, VQ_DESC_F_NEXT, 1 };
	if (bytes)
		desc[n++] = (struct vq_desc){ (uintptr_t)buf, bytes,
			VQ_DESC_F_NEXT | (type == BLK_T_IN ? VQ_DESC_F_WRITE : 0), 2 };
	desc[n] = (struct vq_desc){ (uintptr_t)&blk_req.status, 1, VQ_DESC_F_WRITE, 0 };
	len = vq_run(d, what);
	barrier();
	if (blk_req.status != BLK_S_OK)
		fail("%s: %s at sector %lu: status %u", d->t.word, what, (unsigned long)sector,
		     blk_req.status);
	if (len != want)
		fail("%s: %s at sector %lu: used length %u, the device wrote %u bytes", d->t.word,
		     what, (unsigned long)sector, len, want);
}

/* Status handshake, features, the queue, DRIVER_OK; returns the capacity in sectors. */
static uint64_t vblk_init(struct vblk *d)
{
	uint64_t have, use, cap;

	have = vt_begin(&d->t);
	if (have & BLK_F_RO)
		fail("%s: the device is read-only", d->t.word);
	use = VIRTIO_F_VERSION_1 | (have & BLK_F_FLUSH);
	vt_accept(&d->t, use);
	vt_queue_setup(&d->t, &d->vq, &blk_vq_mem, 0);
	vt_driver_ok(&d->t);
	cap = vt_cfg_read64(&d->t, BLK_CFG_CAPACITY);
	gprintf("%s: %lu sectors, features 0x%lx, using 0x%lx, queue %u entries\n", d->t.word,
		(unsigned long)cap, (unsigned long)have, (unsigned long)use, d->vq.size);
	d->flush = use & BLK_F_FLUSH;
	if (!d->flush)
		gprintf("%s: no FLUSH feature: the device writes through, nothing to flush\n",
			d->t.word);
	return cap;
}

/* Write N requests of SIZE bytes from sector 0, flush, read back and check, reset. */
static void vblk_run(struct vblk *d, uint64_t n, uint64_t size)
{
	const char *word = d->t.word;
	uint32_t tag = disk_tag(word);
	uint64_t spr = size / SECTOR_SIZE, cap, t0;
	struct disk_times t = { .cmds = n };

	if (n < 1 || size < SECTOR_SIZE || size % SECTOR_SIZE || size > DISK_BUF_SIZE)
		fail("%s: N must be at least 1 and SIZE a multiple of 512 up to %u", word,
		     DISK_BUF_SIZE);
	tsc_ensure();
	disk_buf_alloc(word);
	cap = vblk_init(d);
	if (n > cap / spr)
		fail("%s: %lu requests of %lu bytes do not fit %lu sectors", word,
		     (unsigned long)n, (unsigned long)size, (unsigned long)cap);

	for (uint64_t i = 0; i < n; i++) {
		pattern_fill(disk_buf, i * spr, spr, tag);
		t0 = rdtsc();
		blk_request(d, BLK_T_OUT, i * spr, disk_buf, size);
		t.write += rdtsc() - t0;
	}
	if (d->flush) {
		t0 = rdtsc();
		blk_request(d, BLK_T_FLUSH, 0, NULL, 0);
		t.flush = rdtsc() - t0;
	}
	disk_after_flush(word);
	for (uint64_t i = 0; i < n; i++) {
		pattern_poison(disk_buf, size);
		t0 = rdtsc();
		blk_request(d, BLK_T_IN, i * spr, disk_buf, size);
		t.read += rdtsc() - t0;
		pattern_check(word, disk_buf, i * spr, spr, tag);
	}
	vt_reset(&d->t);
	if (vt_queue_enabled(&d->t, 0))
		fail("%s: queue 0 still enabled after the reset", word);
	disk_report(word, n, &t);
}

/* vblk=N[,SIZE] */
void do_vblk(const char *word, char *arg)
{
	uint64_t v[2] = { 0, 4096 };
	struct vblk d = { .t = { .word = word, .what = "virtio-blk" } };

	args(word, arg, v, 1, 2);
	vt_pci_probe(&d.t, VIRTIO_PCI_BLK);
	vblk_run(&d, v[0], v[1]);
}

/* vblk-mmio=ADDR,N[,SIZE] */
void do_vblk_mmio(const char *word, char *arg)
{
	uint64_t v[3] = { 0, 0, 4096 };
	struct vblk d = { .t = { .word = word, .what = "virtio-blk" } };

	args(word, arg, v, 2, 3);
	vt_mmio_probe(&d.t, v[0], VIRTIO_ID_BLOCK);
	vblk_run(&d, v[1], v[2]);
}

/* The kick-latency classes: what each sample spans, from just before the doorbell write. */
enum { K_DOORBELL, K_POLL, K_IRQ, K_IRQ_USED, K_CLASSES };
static const char *const kick_class[K_CLASSES] = {
	"doorbell",	/* the notify write itself: its exit, or KVM's ioeventfd */
	"poll",		/* no interrupt asked for: until ring 3 sees the used index move */
	"irq",		/* interrupt asked for: until the handler's first instruction */
	"irq-used",	/* the same requests: until ring 3 sees the used index move */
};
#define KICK_MAX	4096

static uint8_t blk_id[BLK_ID_BYTES] __attribute__((aligned(64)));

static void sort_u32(uint32_t *v, uint64_t n)
{
	for (uint64_t i = 1; i < n; i++) {
		uint32_t x = v[i];
		uint64_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static uint32_t clamp32(uint64_t cycles)
{
	return cycles > 0xffffffffu ? 0xffffffffu : cycles;
}

/*
 * One GET_ID request: descriptor chain 0 (header, 20 ID bytes, status),
 * timed from just before the doorbell write. With irq the driver asks for an
 * interrupt and waits for the handler as well as for the used entry; it then
 * acknowledges the device (MMIO's InterruptACK) and writes the EOI, untimed.
 */
static void kick_one(struct vblk *d, bool irq, uint32_t *out)
{
	struct vq_desc *desc = blk_vq_mem.desc;
	uint32_t seen = irq_count, id, len;
	uint64_t t0, t1, used = 0, deadline;

	blk_req.type = BLK_T_GET_ID;
	blk_req.reserved = 0;
	blk_req.sector = 0;
	blk_req.status = 0xff;
	desc[0] = (struct vq_desc){ (uintptr_t)&blk_req, 16, VQ_DESC_F_NEXT, 1 };
	desc[1] = (struct vq_desc){ (uintptr_t)blk_id, BLK_ID_BYTES,
				    VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2 };
	desc[2] = (struct vq_desc){ (uintptr_t)&blk_req.status, 1, VQ_DESC_F_WRITE, 0 };
	vq_interrupts(&d->vq, irq);
	vq_push(&d->vq, 0);
	mb();					/* the index before the doorbell */
	t0 = rdtsc();
	vq_notify(&d->t, &d->vq);
	t1 = rdtsc();
	deadline = tsc_deadline(DISK_TIMEOUT_US);
	for (;;) {
		if (!used && vq_pending(&d->vq))
			used = rdtsc();
		if (used && (!irq || irq_count != seen))
			break;
		if (rdtsc() > deadline)
			fail("%s: GET_ID: %s after %u s (device status 0x%x)", d->t.word,
			     used ? "no interrupt" : "no used entry", DISK_TIMEOUT_US / 1000000,
			     vt_get_status(&d->t));
		cpu_relax();
	}
	if (!vq_poll(&d->vq, 0, &id, &len) || vq_pending(&d->vq) || id != 0)
		fail("%s: GET_ID: the used ring moved by more than one, or names descriptor %u",
		     d->t.word, id);
	barrier();
	if (blk_req.status != BLK_S_OK || len < 1 || len > BLK_ID_BYTES + 1)
		fail("%s: GET_ID: status %u, used length %u", d->t.word, blk_req.status, len);
	if (irq) {
		if (irq_count - seen != 1)
			fail("%s: %u interrupts for one request", d->t.word, irq_count - seen);
		out[K_IRQ] = clamp32(irq_tsc - t0);
		out[K_IRQ_USED] = clamp32(used - t0);
		if (d->t.mmio)
			vt_mmio_irq_ack(&d->t);
		irq_eoi();
	} else {
		out[K_DOORBELL] = clamp32(t1 - t0);
		out[K_POLL] = clamp32(used - t0);
		if (irq_count != seen)
			fail("%s: an interrupt although the driver asked for none (NO_INTERRUPT)",
			     d->t.word);
	}
}

/*
 * N interrupt-driven GET_ID requests, then N polled; one line per class.
 * Not alternating: a device decides on the interrupt after it has published
 * the used entry (QEMU does), so a polled request followed at once by one
 * asking for an interrupt can still raise one, which the next request would
 * take for its own. Each interrupt-driven request waits for its interrupt,
 * so the polled ones after them start clean.
 */
static void kick_run(struct vblk *d, uint64_t n)
{
	const char *word = d->t.word;
	uint32_t *s[K_CLASSES], one[K_CLASSES];
	uint64_t t0, total;

	if (n < 1 || n > KICK_MAX)
		fail("%s: N must be 1..%u", word, KICK_MAX);
	tsc_ensure();
	for (int c = 0; c < K_CLASSES; c++)
		s[c] = ram_alloc(word, KICK_MAX * sizeof(uint32_t), 64);
	t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		kick_one(d, true, one);
		s[K_IRQ][i] = one[K_IRQ];
		s[K_IRQ_USED][i] = one[K_IRQ_USED];
	}
	for (uint64_t i = 0; i < n; i++) {
		kick_one(d, false, one);
		s[K_DOORBELL][i] = one[K_DOORBELL];
		s[K_POLL][i] = one[K_POLL];
	}
	total = rdtsc() - t0;
	gprintf("%s: %lu GET_ID requests interrupt-driven, then %lu polled\n", word,
		(unsigned long)n, (unsigned long)n);
	for (int c = 0; c < K_CLASSES; c++) {
		sort_u32(s[c], n);
		gprintf("%s: %s cycles min %u median %u max %u, clock %s\n", word, kick_class[c],
			s[c][0], s[c][n / 2], s[c][n - 1], tsc_clock());
	}
	report(word, 2 * n, total);
}

/* Reset, set-up as for vblk (queue 0 on MSI-X vector 0 over PCI), no disk I/O. */
static void kick_init(struct vblk *d)
{
	uint64_t have = vt_begin(&d->t);

	vt_accept(&d->t, VIRTIO_F_VERSION_1 | (have & BLK_F_FLUSH));
	vt_queue_setup(&d->t, &d->vq, &blk_vq_mem, 0);
	vt_driver_ok(&d->t);
}

static void kick_done(struct vblk *d)
{
	vt_reset(&d->t);
	if (vt_queue_enabled(&d->t, 0))
		fail("%s: queue 0 still enabled after the reset", d->t.word);
}

/* vblk-kick=N: virtio-blk-pci, interrupts by MSI-X. */
void do_vblk_kick(const char *word, char *arg)
{
	uint64_t v[1];
	uint32_t addr, data;
	struct vblk d = { .t = { .word = word, .what = "virtio-blk" } };

	args(word, arg, v, 1, 1);
	vt_pci_probe(&d.t, VIRTIO_PCI_BLK);
	irq_open();
	irq_msi(&addr, &data);
	vt_pci_msix(&d.t, true, addr, data);
	kick_init(&d);
	gprintf("%s: interrupts by MSI-X, address 0x%x data 0x%x\n", word, addr, data);
	kick_run(&d, v[0]);
	kick_done(&d);
	vt_pci_msix(&d.t, false, 0, 0);
	irq_close();
}

/* vblk-mmio-kick=ADDR,IOAPIC,PIN,N: virtio-mmio, its interrupt on that IOAPIC pin. */
void do_vblk_mmio_kick(const char *word, char *arg)
{
	uint64_t v[4];
	struct vblk d = { .t = { .word = word, .what = "virtio-blk" } };

	args(word, arg, v, 4, 4);
	if (v[2] > 255)
		fail("%s: pin %lu", word, (unsigned long)v[2]);
	vt_mmio_probe(&d.t, v[0], VIRTIO_ID_BLOCK);
	irq_open();
	kick_init(&d);
	irq_ioapic_route(word, v[1], v[2], true);
	gprintf("%s: interrupts by IOAPIC 0x%lx pin %lu, edge\n", word, (unsigned long)v[1],
		(unsigned long)v[2]);
	kick_run(&d, v[3]);
	irq_ioapic_route(word, v[1], v[2], false);
	kick_done(&d);
	irq_close();
}
