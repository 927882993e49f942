// SPDX-License-Identifier: GPL-2.0-only
/*
 * The e1000 on the fake machine, driven as Linux's e1000 drives it: the
 * reset through the I/O BAR, the MAC from the bit-banged EEPROM, the PHY
 * through MDIC, rings in guest RAM, frames out to and in from the other
 * end of a socketpair (the socket backend, datagrams), byte for byte.
 * Offloads are checked by recomputing the checksums, interrupts on the
 * INTx line the fake machine records, moderation against the clock, and
 * hostile rings by the queue stopping with one line while the rest runs.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake_iommu.h"
#include "fake_machine.h"
#include "pci_guest.h"
#include "report_capture.h"
#include "qlite/devices.h"
#include "qlite/net.h"
#include "qlite/pci.h"
#include "qlite/util.h"

#define RAM_SIZE	(4 << 20)
#define TX_RING		0x10000
#define RX_RING		0x20000
#define TX_BUF		0x100000
#define RX_BUF		0x200000
#define RX_BUF_STRIDE	0x4000
#define NDESC		16

/* Registers (the manual's offsets) and bits, as a driver writes them. */
enum {
	CTRL = 0x0, STATUS = 0x8, EECD = 0x10, EERD = 0x14, MDIC = 0x20, ICR = 0xc0, ITR = 0xc4,
	ICS = 0xc8, IMS = 0xd0, IMC = 0xd8, RCTL = 0x100, TCTL = 0x400, TIPG = 0x410,
	RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808, RDH = 0x2810, RDT = 0x2818,
	RDTR = 0x2820, RADV = 0x282c, TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808,
	TDH = 0x3810, TDT = 0x3818, TIDV = 0x3820, TADV = 0x382c, GPRC = 0x4074, GPTC = 0x4080,
	GORCL = 0x4088, GORCH = 0x408c, GOTCL = 0x4090, GOTCH = 0x4094, RNBC = 0x40a0,
	TPR = 0x40d0, TPT = 0x40d4, BPRC = 0x4078, MPRC = 0x407c, MTA = 0x5200, RAL = 0x5400,
	RAH = 0x5404, VFTA = 0x5600, MANC = 0x5820,
};
#define CTRL_RST	0x04000000u
#define STATUS_LU	0x2u
#define EECD_SK		0x1u
#define EECD_CS		0x2u
#define EECD_DI		0x4u
#define EECD_DO		0x8u
#define EECD_REQ	0x40u
#define EECD_GNT	0x80u
#define ICR_TXDW	0x01u
#define ICR_TXQE	0x02u
#define ICR_LSC		0x04u
#define ICR_RXDMT0	0x10u
#define ICR_RXT0	0x80u
#define ICR_MDAC	0x200u
#define MDIC_READ	0x08000000u
#define MDIC_WRITE	0x04000000u
#define MDIC_READY	0x10000000u
#define MDIC_INT_EN	0x20000000u
#define MDIC_ERROR	0x40000000u
#define RCTL_EN		0x2u
#define RCTL_UPE	0x8u
#define RCTL_MPE	0x10u
#define RCTL_BAM	0x8000u
#define RCTL_SZ_256	0x30000u
#define RCTL_SECRC	0x04000000u
#define TCTL_EN		0x2u
#define TCTL_PSP	0x8u
/* descriptor command byte */
#define CMD_EOP		0x01
#define CMD_IFCS	0x02
#define CMD_TSE		0x04
#define CMD_RS		0x08
#define CMD_DEXT	0x20
#define CMD_IDE		0x80
#define CTX_TCP		0x01
#define CTX_IP		0x02
#define POPTS_IXSM	0x01
#define POPTS_TXSM	0x02

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct ctx {
	struct fake_machine *fm;
	struct pci_host *host;
	struct guest_mem gm;
	struct pci_device *dev;
	int peer;
	uint64_t bar0;
	uint16_t io;
	unsigned tx_tail, rx_tail;
	struct report_capture log;
	struct fake_iommu iommu;	/* tests behind an IOMMU */
};

/* ---- the machine and the driver's register accesses ---- */

static uint32_t rd(struct ctx *c, uint32_t off)
{
	return (uint32_t)fake_mmio_read(c->fm, c->bar0 + off, 4);
}

static void wr(struct ctx *c, uint32_t off, uint32_t v)
{
	fake_mmio_write(c->fm, c->bar0 + off, 4, v);
}

static void ctx_attach(struct ctx *c, bool coalesce, bool accel)
{
	struct net_backend_opts o = { .kind = NET_BACKEND_SOCKET, .dgram = true };
	int sv[2];

	report_capture_start(&c->log);
	c->fm = accel ? fake_machine_create_accel() : fake_machine_create();
	assert_int_equal(guest_mem_init(&c->gm, RAM_SIZE, false), 0);
	c->fm->m.mem = &c->gm;
	c->host = pci_host_create(&c->fm->m);
	assert_non_null(c->host);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	o.fd = sv[0];
	assert_int_equal(e1000_attach(&c->fm->m, &o, MAC, coalesce), 0);
	close(sv[0]);
	c->peer = sv[1];
	for (unsigned i = 0; i < pci_host_nr_devices(c->host); i++) {
		struct pci_device *d = pci_host_device(c->host, i);

		if (le_load(d->cfg + 2, 2) == 0x100e)
			c->dev = d;
	}
	assert_non_null(c->dev);
	c->bar0 = pci_guest_cfg_read(c->fm, c->dev->slot, 0x10, 4) & ~0xfu;
	c->io = pci_guest_cfg_read(c->fm, c->dev->slot, 0x14, 4) & ~0x3u;
	/* pci_set_master(), as e1000_probe() does */
	pci_guest_cfg_write(c->fm, c->dev->slot, 0x04, 2, 0x7);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	ctx_attach(c, false, false);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	pci_host_destroy(c->host);
	fake_machine_destroy(c->fm);
	guest_mem_destroy(&c->gm);
	close(c->peer);
	report_capture_stop(&c->log);
	free(c);
	return 0;
}

static unsigned gsi_level(struct ctx *c)
{
	return c->fm->irq_level[c->dev->gsi];
}

/* Rising edges of the device's line since the last clear. */
static unsigned irq_edges(struct ctx *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->fm->nr_irq_calls; i++)
		n += c->fm->irq_calls[i].gsi == c->dev->gsi && c->fm->irq_calls[i].level;
	return n;
}

static uint64_t counter(struct ctx *c, const char *name)
{
	struct device_report r = { 0 };

	for (unsigned i = 0; i < c->fm->m.nr_reports; i++) {
		if (strcmp(c->fm->m.reports[i].name, "e1000"))
			continue;
		c->fm->m.reports[i].fn(c->fm->m.reports[i].opaque, &r);
		for (unsigned k = 0; k < r.n; k++)
			if (!strcmp(r.c[k].name, name))
				return r.c[k].value;
	}
	fail_msg("no counter %s", name);
	return 0;
}

/* e1000_reset_hw() for the 82540: units off, the reset through IOADDR/IODATA, masks. */
static void drv_reset(struct ctx *c)
{
	uint32_t ctrl;

	wr(c, IMC, 0xffffffff);
	wr(c, RCTL, 0);
	wr(c, TCTL, TCTL_PSP);
	ctrl = rd(c, CTRL);
	fake_pio_write(c->fm, c->io, 4, CTRL);
	fake_pio_write(c->fm, c->io + 4, 4, ctrl | CTRL_RST);
	wr(c, MANC, rd(c, MANC) & ~0x2000u);
	wr(c, IMC, 0xffffffff);
	rd(c, ICR);
}

/* e1000_read_eeprom() on Microwire: opcode 110b and 6 address bits out, 16 bits in. */
static uint16_t ee_word(struct ctx *c, unsigned addr)
{
	uint32_t eecd = rd(c, EECD) & ~(EECD_SK | EECD_DI);
	uint32_t cmd = 0x6u << 6 | addr;
	uint16_t v = 0;

	wr(c, EECD, eecd | EECD_CS);
	eecd |= EECD_CS;
	for (int b = 8; b >= 0; b--) {
		eecd = (cmd >> b & 1) ? eecd | EECD_DI : eecd & ~EECD_DI;
		wr(c, EECD, eecd);
		wr(c, EECD, eecd | EECD_SK);
		wr(c, EECD, eecd);
	}
	eecd &= ~EECD_DI;
	for (int b = 0; b < 16; b++) {
		wr(c, EECD, eecd | EECD_SK);
		v = v << 1 | !!(rd(c, EECD) & EECD_DO);
		wr(c, EECD, eecd);
	}
	wr(c, EECD, eecd & ~EECD_CS);
	return v;
}

static uint32_t mdic(struct ctx *c, uint32_t cmd)
{
	wr(c, MDIC, cmd);
	return rd(c, MDIC);
}

static uint16_t phy_read(struct ctx *c, unsigned reg)
{
	uint32_t v = mdic(c, MDIC_READ | 1u << 21 | reg << 16);

	assert_true(v & MDIC_READY);
	assert_false(v & MDIC_ERROR);
	return (uint16_t)v;
}

/* ---- rings ---- */

static void put_desc(struct ctx *c, uint64_t at, uint64_t addr, uint32_t lo, uint32_t hi)
{
	uint8_t d[16];

	le_store(d, addr, 8);
	le_store(d + 8, lo, 4);
	le_store(d + 12, hi, 4);
	assert_int_equal(guest_mem_write(&c->gm, at, d, 16), 0);
}

static uint8_t *ram(struct ctx *c, uint64_t gpa)
{
	return guest_mem_ptr(&c->gm, gpa, 1);
}

static void tx_setup(struct ctx *c)
{
	wr(c, TDBAL, TX_RING);
	wr(c, TDBAH, 0);
	wr(c, TDLEN, NDESC * 16);
	wr(c, TDH, 0);
	wr(c, TDT, 0);
	wr(c, TIDV, 0);
	wr(c, TIPG, 0x0060200a);
	wr(c, TCTL, TCTL_EN | TCTL_PSP);
	c->tx_tail = 0;
}

/* A legacy descriptor at the tail (not yet given to the device). */
static void txd_legacy(struct ctx *c, uint64_t addr, uint16_t len, uint8_t cmd)
{
	put_desc(c, TX_RING + 16 * c->tx_tail, addr, len | (uint32_t)cmd << 24, 0);
	c->tx_tail = (c->tx_tail + 1) % NDESC;
}

static void txd_context(struct ctx *c, const uint8_t f[8], uint32_t paylen, uint8_t tucmd,
			uint8_t hdr_len, uint16_t mss)
{
	uint64_t lower = le_load(f, 8);

	put_desc(c, TX_RING + 16 * c->tx_tail, lower,
		 paylen | (uint32_t)(tucmd | CMD_DEXT) << 24, (uint32_t)hdr_len << 8 |
		 (uint32_t)mss << 16);
	c->tx_tail = (c->tx_tail + 1) % NDESC;
}

static void txd_data(struct ctx *c, uint64_t addr, uint32_t len, uint8_t cmd, uint8_t popts)
{
	put_desc(c, TX_RING + 16 * c->tx_tail, addr,
		 len | 0x00100000u | (uint32_t)(cmd | CMD_DEXT) << 24, (uint32_t)popts << 8);
	c->tx_tail = (c->tx_tail + 1) % NDESC;
}

static void rx_setup(struct ctx *c, uint32_t rctl, unsigned bufs)
{
	for (unsigned i = 0; i < NDESC; i++)
		put_desc(c, RX_RING + 16 * i, RX_BUF + i * RX_BUF_STRIDE, 0, 0);
	wr(c, RDBAL, RX_RING);
	wr(c, RDBAH, 0);
	wr(c, RDLEN, NDESC * 16);
	wr(c, RDH, 0);
	wr(c, RDT, 0);
	wr(c, RDTR, 0);
	wr(c, RCTL, rctl | RCTL_EN);
	c->rx_tail = bufs;
	wr(c, RDT, bufs);
}

static ssize_t peer_recv(struct ctx *c, uint8_t *buf, size_t len)
{
	return recv(c->peer, buf, len, MSG_DONTWAIT);
}

/* Send a frame from the outside and let the I/O thread deliver it. */
static void peer_send(struct ctx *c, const uint8_t *f, size_t len)
{
	assert_int_equal(send(c->peer, f, len, 0), (ssize_t)len);
	fake_run_io(c->fm, 1, 200);
}

static void frame_init(uint8_t *f, size_t len, const uint8_t *dst, uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5;		/* local experimental ethertype */
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seed);
}

/* ---- checksums, recomputed as a receiver would ---- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static bool ip_csum_ok(const uint8_t *ip)
{
	return fold(sum16(ip, (ip[0] & 15) * 4, 0)) == 0xffff;
}

/* TCP or UDP over IPv4: the pseudo-header plus the segment sums to all-ones. */
static bool l4_csum_ok(const uint8_t *ip)
{
	unsigned ihl = (ip[0] & 15) * 4, tot = ip[2] << 8 | ip[3], l4 = tot - ihl;
	uint32_t s = sum16(ip + 12, 8, 0) + ip[9] + l4;

	return fold(sum16(ip + ihl, l4, s)) == 0xffff;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | p[2] << 8 | p[3];
}

/* Ethernet, IPv4 (20), TCP (20) or UDP (8), payload bytes; checksums seeded as Linux does. */
static size_t build_ip(uint8_t *f, bool tcp, size_t payload, bool tso)
{
	size_t l4h = tcp ? 20 : 8, tot = 20 + l4h + payload;
	uint8_t *ip = f + 14, *l4 = ip + 20;
	uint32_t ps;

	memset(f, 0, 14 + tot);
	memcpy(f, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(f + 6, MAC, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = tot >> 8;
	ip[3] = (uint8_t)tot;
	ip[4] = 0x12;
	ip[5] = 0x34;
	ip[8] = 64;
	ip[9] = tcp ? 6 : 17;
	memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
	l4[0] = 0x30;
	l4[1] = 0x39;
	l4[2] = 0x00;
	l4[3] = 0x50;
	if (tcp) {
		memcpy(l4 + 4, "\x11\x22\x33\x44", 4);
		l4[12] = 5 << 4;
		l4[13] = 0x18 | 0x01;	/* PSH ACK FIN */
	} else {
		l4[4] = (8 + payload) >> 8;
		l4[5] = (uint8_t)(8 + payload);
	}
	for (size_t i = 0; i < payload; i++)
		l4[l4h + i] = (uint8_t)(i * 13 + 5);
	/* The pseudo-header seed: Linux leaves out the length for TSO. */
	ps = sum16(ip + 12, 8, 0) + ip[9] + (tso ? 0 : l4h + payload);
	ip[10] = ip[11] = 0;
	l4[tcp ? 16 : 6] = fold(ps) >> 8;
	l4[(tcp ? 16 : 6) + 1] = (uint8_t)fold(ps);
	return 14 + tot;
}

/* ---- tests ---- */

static void test_register_table(void **state)
{
	struct ctx *c = *state;
	const struct bus_region *r = bus_lookup(c->fm->m.bus[BUS_MMIO], c->bar0, 4);
	const struct bus_region *io = bus_lookup(c->fm->m.bus[BUS_PIO], c->io, 4);
	static const struct { uint32_t off; const char *name; } names[] = {
		{ CTRL, "CTRL" }, { STATUS, "STATUS" }, { ICR, "ICR" }, { IMS, "IMS" },
		{ RDT, "RDT" }, { TDT, "TDT" }, { GORCH, "GORCH" }, { RAL + 8, "RAL" },
		{ RAH + 8, "RAH" }, { MTA + 0x40, "MTA" }, { VFTA + 4, "VFTA" },
	};

	assert_true(e1000_regs_sorted());
	assert_non_null(r);
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		assert_string_equal(r->ops->reg_name(r->opaque, r->ops->reg_key(r->opaque,
							names[i].off)), names[i].name);
	/* Arrays fold into their first entry, so 128 MTA writes are one line of the report. */
	assert_int_equal(r->ops->reg_key(r->opaque, MTA + 0x1fc), MTA);
	assert_int_equal(r->ops->reg_key(r->opaque, RAH + 0x78), RAH);
	assert_int_equal(r->ops->reg_key(r->opaque, CTRL), CTRL);
	assert_null(r->ops->reg_name(r->opaque, 0x0ff0));
	/* Unknown registers read 0, ignore writes, and are counted. */
	wr(c, 0x0ff0, 0xdeadbeef);
	assert_int_equal(rd(c, 0x0ff0), 0);
	assert_int_equal(counter(c, "unknown_reads"), 1);
	assert_int_equal(counter(c, "unknown_writes"), 1);
	/* The I/O window: IOADDR and IODATA, IODATA counted under the register it reaches. */
	assert_non_null(io);
	assert_string_equal(io->ops->reg_name(io->opaque, io->ops->reg_key(io->opaque, 0)),
			    "IOADDR");
	fake_pio_write(c->fm, c->io, 4, STATUS);
	assert_string_equal(io->ops->reg_name(io->opaque, io->ops->reg_key(io->opaque, 4)),
			    "STATUS");
	assert_int_equal(fake_pio_read(c->fm, c->io + 4, 4), rd(c, STATUS));
	assert_int_equal(fake_pio_read(c->fm, c->io, 4), STATUS);
}

static void test_pci_identity(void **state)
{
	struct ctx *c = *state;
	unsigned slot = c->dev->slot;

	assert_int_equal(pci_guest_cfg_read(c->fm, slot, 0x00, 4), 0x100e8086);
	assert_int_equal(pci_guest_cfg_read(c->fm, slot, 0x08, 4), 0x02000003);
	assert_int_equal(pci_guest_cfg_read(c->fm, slot, 0x2c, 4), 0x11001af4);
	assert_int_equal(pci_guest_cfg_read(c->fm, slot, 0x3d, 1), 1);	/* INTA */
	assert_int_equal(pci_guest_cfg_read(c->fm, slot, 0x0c, 1), 0x10);
	/* BAR sizes as Linux's sizing finds them. */
	pci_guest_cfg_write(c->fm, slot, 0x10, 4, 0xffffffff);
	assert_int_equal(pci_guest_cfg_read(c->fm, slot, 0x10, 4) & ~0xfu, 0xfffe0000u);
	pci_guest_cfg_write(c->fm, slot, 0x10, 4, (uint32_t)c->bar0);
	pci_guest_cfg_write(c->fm, slot, 0x14, 4, 0xffffffff);
	assert_int_equal(pci_guest_cfg_read(c->fm, slot, 0x14, 4) & 0xffff, 0xffc1);
	pci_guest_cfg_write(c->fm, slot, 0x14, 4, c->io);
	assert_int_equal(rd(c, STATUS) & STATUS_LU, STATUS_LU);
}

static void test_reset_through_io(void **state)
{
	struct ctx *c = *state;

	wr(c, IMS, ICR_RXT0);
	wr(c, RDTR, 0x20);
	wr(c, RAL + 8, 0x11223344);
	assert_int_equal(rd(c, IMS), ICR_RXT0);
	c->fm->nr_exits = 0;
	drv_reset(c);
	/* Linux's reset sequence: 10 register accesses, the reset itself two port writes. */
	assert_int_equal(fake_exits(c->fm), 10);
	assert_int_equal(rd(c, IMS), 0);
	assert_int_equal(rd(c, RDTR), 0);
	assert_int_equal(rd(c, RAL + 8), 0);
	assert_int_equal(rd(c, CTRL) & CTRL_RST, 0);
	/* The EEPROM's address is back in RAL0/RAH0, valid. */
	assert_int_equal(rd(c, RAL), 0x12005452);
	assert_int_equal(rd(c, RAH), 0x80005634);
	assert_int_equal(counter(c, "resets"), 1);
}

static void test_eeprom(void **state)
{
	struct ctx *c = *state;
	uint16_t sum = 0, w;

	/* e1000_acquire_eeprom(): request, granted at once. */
	wr(c, EECD, EECD_REQ);
	assert_true(rd(c, EECD) & EECD_GNT);
	for (unsigned i = 0; i < 3; i++) {
		w = ee_word(c, i);
		assert_int_equal(w, MAC[2 * i] | MAC[2 * i + 1] << 8);
	}
	/* e1000_validate_eeprom_checksum(): words 0-63 sum to 0xBABA. */
	for (unsigned i = 0; i < 64; i++)
		sum += ee_word(c, i);
	assert_int_equal(sum, 0xbaba);
	/* Device id in words 11 and 13; EERD gives the same words. */
	assert_int_equal(ee_word(c, 11), 0x100e);
	for (unsigned i = 0; i < 64; i += 7) {
		wr(c, EERD, i << 8 | 1);
		w = rd(c, EERD) >> 16;
		assert_true(rd(c, EERD) & 0x10);
		assert_int_equal(w, ee_word(c, i));
	}
	/* One word bit-banged is 78 register accesses (Linux adds its own EECD reads). */
	c->fm->nr_exits = 0;
	ee_word(c, 1);
	assert_int_equal(fake_exits(c->fm), 78);
}

static void test_phy(void **state)
{
	struct ctx *c = *state;
	uint32_t v;

	assert_int_equal(phy_read(c, 2), 0x0141);
	assert_int_equal(phy_read(c, 3), 0x0c20);
	assert_true(phy_read(c, 1) & 0x0004);		/* link */
	assert_int_equal(phy_read(c, 0), 0x1140);
	/* A register QEMU's PHY has not, and another PHY address: the error bit. */
	v = mdic(c, MDIC_READ | 1u << 21 | 0x1d << 16);
	assert_true(v & MDIC_ERROR);
	v = mdic(c, MDIC_READ | 2u << 21 | 2 << 16);
	assert_true(v & MDIC_ERROR);
	mdic(c, MDIC_WRITE | 1u << 21 | 4 << 16 | 0x01e1);
	assert_int_equal(phy_read(c, 4), 0x01e1);
	/* MDIC with interrupt enable: MDAC. */
	wr(c, IMS, ICR_MDAC);
	fake_machine_clear_calls(c->fm);
	mdic(c, MDIC_READ | MDIC_INT_EN | 1u << 21 | 2 << 16);
	assert_int_equal(irq_edges(c), 1);
	assert_int_equal(rd(c, ICR), ICR_MDAC);
	assert_int_equal(gsi_level(c), 0);
}

static void test_autoneg_lsc(void **state)
{
	struct ctx *c = *state;
	struct timespec t0, t1;
	long ms;

	wr(c, IMS, ICR_LSC);
	fake_machine_clear_calls(c->fm);
	/* e1000_copper_link_autoneg(): autonegotiation enabled and restarted. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mdic(c, MDIC_WRITE | 1u << 21 | 0 << 16 | 0x1000 | 0x0200);
	assert_int_equal(rd(c, STATUS) & STATUS_LU, 0);
	assert_false(phy_read(c, 1) & 0x0004);
	while (!gsi_level(c))
		assert_true(fake_run_io(c->fm, 1, 2000) > 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 499);
	assert_int_equal(irq_edges(c), 1);
	assert_int_equal(rd(c, ICR), ICR_LSC);
	assert_int_equal(gsi_level(c), 0);
	assert_int_equal(rd(c, STATUS) & STATUS_LU, STATUS_LU);
	assert_int_equal(phy_read(c, 1) & 0x0024, 0x0024);	/* link, autoneg complete */
	assert_true(phy_read(c, 5) & 0x4000);
}

static void test_tx_frames(void **state)
{
	struct ctx *c = *state;
	static const size_t lens[] = { 60, 1514, 300 };
	uint8_t f[3][1514], got[2048];
	uint64_t bytes = 0;

	tx_setup(c);
	wr(c, IMS, ICR_TXDW);
	for (unsigned i = 0; i < 3; i++) {
		frame_init(f[i], lens[i], (const uint8_t *)"\x02\x00\x00\x00\x00\x02", (uint8_t)i);
		assert_int_equal(guest_mem_write(&c->gm, TX_BUF + i * 0x1000, f[i], lens[i]), 0);
		bytes += lens[i] + 4;
	}
	txd_legacy(c, TX_BUF, 60, CMD_EOP | CMD_IFCS | CMD_RS);
	/* The second frame in two descriptors, as a fragmented skb. */
	txd_legacy(c, TX_BUF + 0x1000, 1000, CMD_IFCS);
	txd_legacy(c, TX_BUF + 0x1000 + 1000, 514, CMD_EOP | CMD_IFCS | CMD_RS);
	txd_legacy(c, TX_BUF + 0x2000, 300, CMD_EOP | CMD_IFCS | CMD_RS);
	fake_machine_clear_calls(c->fm);
	c->fm->nr_exits = 0;
	wr(c, TDT, c->tx_tail);
	/* One exit sends them all, and one interrupt says so. */
	assert_int_equal(fake_exits(c->fm), 1);
	assert_int_equal(irq_edges(c), 1);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(peer_recv(c, got, sizeof(got)), (ssize_t)lens[i]);
		assert_memory_equal(got, f[i], lens[i]);
	}
	assert_int_equal(peer_recv(c, got, sizeof(got)), -1);
	assert_int_equal(rd(c, TDH), 4);
	/* DD on the descriptors with RS, not on the one without. */
	assert_int_equal(*ram(c, TX_RING + 12) & 1, 1);
	assert_int_equal(*ram(c, TX_RING + 16 + 12) & 1, 0);
	assert_int_equal(*ram(c, TX_RING + 32 + 12) & 1, 1);
	assert_int_equal(rd(c, ICR), ICR_TXDW | ICR_TXQE);
	assert_int_equal(rd(c, ICR), 0);
	/* Statistics, cleared when read (a 64-bit pair by its high half). */
	assert_int_equal(rd(c, GPTC), 3);
	assert_int_equal(rd(c, GPTC), 0);
	assert_int_equal(rd(c, TPT), 3);
	assert_int_equal(rd(c, GOTCL), bytes);
	assert_int_equal(rd(c, GOTCH), 0);
	assert_int_equal(rd(c, GOTCL), 0);
	assert_int_equal(counter(c, "tx_frames"), 3);
	assert_int_equal(counter(c, "tx_bytes"), bytes - 12);

	/* A short frame is padded to 60 bytes (TCTL.PSP). */
	frame_init(f[0], 42, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 9);
	guest_mem_write(&c->gm, TX_BUF, f[0], 42);
	txd_legacy(c, TX_BUF, 42, CMD_EOP | CMD_RS);
	wr(c, TDT, c->tx_tail);
	memset(f[0] + 42, 0, 18);
	assert_int_equal(peer_recv(c, got, sizeof(got)), 60);
	assert_memory_equal(got, f[0], 60);
}

static void test_tx_checksum_offload(void **state)
{
	struct ctx *c = *state;
	uint8_t f[1514], got[2048], ctxf[8];
	size_t len = build_ip(f, false, 333, false);

	tx_setup(c);
	guest_mem_write(&c->gm, TX_BUF, f, len);
	/* The checksum context of e1000_tx_csum() plus the IP header sum. */
	ctxf[0] = 14;		/* ipcss */
	ctxf[1] = 14 + 10;	/* ipcso */
	le_store(ctxf + 2, 14 + 20 - 1, 2);
	ctxf[4] = 34;		/* tucss */
	ctxf[5] = 34 + 6;	/* tucso: UDP */
	le_store(ctxf + 6, 0, 2);
	txd_context(c, ctxf, 0, CTX_IP, 0, 0);
	txd_data(c, TX_BUF, 100, 0, POPTS_IXSM | POPTS_TXSM);
	txd_data(c, TX_BUF + 100, len - 100, CMD_EOP | CMD_RS, 0);
	wr(c, TDT, c->tx_tail);
	assert_int_equal(peer_recv(c, got, sizeof(got)), (ssize_t)len);
	assert_true(ip_csum_ok(got + 14));
	assert_true(l4_csum_ok(got + 14));
	/* Nothing else changed. */
	memcpy(got + 24, f + 24, 2);
	memcpy(got + 40, f + 40, 2);
	assert_memory_equal(got, f, len);
	assert_int_equal(counter(c, "tx_csum_offloads"), 1);
}

static void test_tx_tso(void **state)
{
	struct ctx *c = *state;
	enum { MSS = 1000, PAY = 2500, HDR = 54 };
	uint8_t f[HDR + PAY], got[2048], ctxf[8], payload[PAY];
	size_t len = build_ip(f, true, PAY, true);
	unsigned off = 0;

	memcpy(payload, f + HDR, PAY);
	tx_setup(c);
	guest_mem_write(&c->gm, TX_BUF, f, len);
	/* e1000_tso(): IP header sum and TCP sum, segment size and header length. */
	ctxf[0] = 14;
	ctxf[1] = 24;
	le_store(ctxf + 2, 33, 2);
	ctxf[4] = 34;
	ctxf[5] = 34 + 16;
	le_store(ctxf + 6, 0, 2);
	txd_context(c, ctxf, PAY, CMD_TSE | CTX_IP | CTX_TCP, HDR, MSS);
	txd_data(c, TX_BUF, HDR, CMD_TSE, POPTS_IXSM | POPTS_TXSM);
	txd_data(c, TX_BUF + HDR, 1700, CMD_TSE, 0);
	txd_data(c, TX_BUF + HDR + 1700, PAY - 1700, CMD_TSE | CMD_EOP | CMD_RS, 0);
	wr(c, TDT, c->tx_tail);
	for (unsigned seg = 0; seg < 3; seg++) {
		unsigned plen = seg < 2 ? MSS : PAY - 2 * MSS;
		const uint8_t *ip = got + 14, *tcp = got + 34;

		assert_int_equal(peer_recv(c, got, sizeof(got)), HDR + plen);
		assert_int_equal(be16(ip + 2), 40 + plen);
		assert_int_equal(be16(ip + 4), 0x1234 + seg);
		assert_int_equal(be32(tcp + 4), 0x11223344u + seg * MSS);
		/* PSH and FIN on the last segment only. */
		assert_int_equal(tcp[13], seg < 2 ? 0x10 : 0x19);
		assert_true(ip_csum_ok(ip));
		assert_true(l4_csum_ok(ip));
		assert_memory_equal(got + HDR, payload + off, plen);
		off += plen;
	}
	assert_int_equal(peer_recv(c, got, sizeof(got)), -1);
	assert_int_equal(counter(c, "tso_segments"), 3);
	assert_int_equal(rd(c, GPTC), 3);
}

static void test_rx_filters(void **state)
{
	struct ctx *c = *state;
	uint8_t f[200];
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	unsigned mta_bit;

	rx_setup(c, RCTL_BAM | RCTL_SECRC, NDESC - 1);
	wr(c, IMS, ICR_RXT0);
	fake_machine_clear_calls(c->fm);
	/* Ours: taken, written back byte for byte, RXT0 at once (RDTR 0). */
	frame_init(f, 100, MAC, 1);
	peer_send(c, f, 100);
	assert_int_equal(rd(c, RDH), 1);
	assert_memory_equal(ram(c, RX_BUF), f, 100);
	assert_int_equal(le_load(ram(c, RX_RING + 8), 2), 100);
	assert_int_equal(*ram(c, RX_RING + 12), 0x07);	/* DD EOP IXSM */
	assert_int_equal(irq_edges(c), 1);
	/* Someone else's: refused. */
	frame_init(f, 100, other, 2);
	peer_send(c, f, 100);
	assert_int_equal(rd(c, RDH), 1);
	assert_int_equal(counter(c, "rx_filtered"), 1);
	/* Broadcast with BAM. */
	frame_init(f, 100, bcast, 3);
	peer_send(c, f, 100);
	assert_int_equal(rd(c, RDH), 2);
	/* Multicast: refused until its MTA bit is set (MO 0: address bits 47:36). */
	frame_init(f, 100, mcast, 4);
	peer_send(c, f, 100);
	assert_int_equal(rd(c, RDH), 2);
	mta_bit = ((mcast[5] << 8 | mcast[4]) >> 4) & 0xfff;
	wr(c, MTA + 4 * (mta_bit >> 5), 1u << (mta_bit & 31));
	peer_send(c, f, 100);
	assert_int_equal(rd(c, RDH), 3);
	/* A second exact address in RAL1/RAH1, then unicast promiscuous. */
	wr(c, RAL + 8, other[0] | other[1] << 8 | other[2] << 16 | (uint32_t)other[3] << 24);
	wr(c, RAH + 8, other[4] | other[5] << 8 | 0x80000000u);
	frame_init(f, 100, other, 5);
	peer_send(c, f, 100);
	assert_int_equal(rd(c, RDH), 4);
	wr(c, RAH + 8, 0);
	wr(c, RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC | RCTL_UPE | RCTL_MPE);
	peer_send(c, f, 100);
	assert_int_equal(rd(c, RDH), 5);
	assert_int_equal(counter(c, "rx_filtered"), 2);
	assert_int_equal(rd(c, GPRC), 5);
	assert_int_equal(rd(c, BPRC), 1);
	assert_int_equal(rd(c, MPRC), 1);
	assert_int_equal(rd(c, TPR), 5);
	assert_int_equal(rd(c, GORCL), 5 * 104);
	assert_int_equal(rd(c, GORCH), 0);
	assert_int_equal(rd(c, GPRC), 0);
}

static void test_rx_multi_descriptor_and_fcs(void **state)
{
	struct ctx *c = *state;
	uint8_t f[600], fcs[4];
	uint32_t crc = 0xffffffffu;

	/* 256-byte buffers, FCS kept: 604 bytes over three descriptors. */
	rx_setup(c, RCTL_SZ_256, NDESC - 1);
	frame_init(f, sizeof(f), MAC, 7);
	peer_send(c, f, sizeof(f));
	assert_int_equal(rd(c, RDH), 3);
	assert_int_equal(le_load(ram(c, RX_RING + 8), 2), 256);
	assert_int_equal(le_load(ram(c, RX_RING + 16 + 8), 2), 256);
	assert_int_equal(le_load(ram(c, RX_RING + 32 + 8), 2), 92);
	assert_int_equal(*ram(c, RX_RING + 12), 0x01);
	assert_int_equal(*ram(c, RX_RING + 16 + 12), 0x01);
	assert_int_equal(*ram(c, RX_RING + 32 + 12), 0x07);
	assert_memory_equal(ram(c, RX_BUF), f, 256);
	assert_memory_equal(ram(c, RX_BUF + RX_BUF_STRIDE), f + 256, 256);
	assert_memory_equal(ram(c, RX_BUF + 2 * RX_BUF_STRIDE), f + 512, 88);
	for (size_t i = 0; i < sizeof(f); i++) {
		crc ^= f[i];
		for (unsigned k = 0; k < 8; k++)
			crc = crc & 1 ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
	}
	le_store(fcs, ~crc, 4);
	assert_memory_equal(ram(c, RX_BUF + 2 * RX_BUF_STRIDE + 88), fcs, 4);
}

static void test_rx_held_until_rdt(void **state)
{
	struct ctx *c = *state;
	uint8_t f[100];

	rx_setup(c, RCTL_SECRC, 0);		/* RDH == RDT: no buffer */
	frame_init(f, sizeof(f), MAC, 3);
	peer_send(c, f, sizeof(f));
	assert_int_equal(rd(c, RDH), 0);
	assert_int_equal(rd(c, RNBC), 1);
	/* The guest gives two buffers: the held frame comes in. */
	wr(c, RDT, 2);
	fake_run_io(c->fm, 2, 200);
	assert_int_equal(rd(c, RDH), 1);
	assert_memory_equal(ram(c, RX_BUF), f, sizeof(f));
	assert_int_equal(counter(c, "rx_frames"), 1);
	assert_int_equal(counter(c, "rx_dropped_no_buffer"), 0);
}

static long elapsed_us(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000;
}

static void test_moderation(void **state)
{
	struct ctx *c = *state;
	struct timespec t0;
	uint8_t f[100];
	long us;

	/* RDTR 5000 x 1.024 us: RXT0 about 5 ms after the frame, not before. */
	rx_setup(c, RCTL_SECRC, NDESC - 1);
	wr(c, RDTR, 5000);
	wr(c, IMS, ICR_RXT0);
	fake_machine_clear_calls(c->fm);
	frame_init(f, sizeof(f), MAC, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(send(c->peer, f, sizeof(f), 0), (ssize_t)sizeof(f));
	while (rd(c, RDH) != 1)
		assert_true(fake_run_io(c->fm, 1, 1000) > 0);
	assert_int_equal(irq_edges(c), 0);
	assert_int_equal(rd(c, ICS) & ICR_RXT0, 0);
	while (!gsi_level(c))
		assert_true(fake_run_io(c->fm, 1, 1000) > 0);
	us = elapsed_us(&t0);
	assert_true(us >= 5000);
	assert_int_equal(rd(c, ICR), ICR_RXT0);

	/* ITR 20000 x 256 ns: a second edge waits 5.12 ms after the first (RXT0's, 6 ms ago). */
	usleep(6000);
	wr(c, ITR, 20000);
	wr(c, IMS, ICR_TXQE);
	fake_machine_clear_calls(c->fm);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	wr(c, ICS, ICR_TXQE);
	assert_int_equal(irq_edges(c), 1);
	rd(c, ICR);
	wr(c, ICS, ICR_TXQE);
	assert_int_equal(irq_edges(c), 1);	/* throttled */
	while (!gsi_level(c))
		assert_true(fake_run_io(c->fm, 1, 1000) > 0);
	assert_true(elapsed_us(&t0) >= 5120);
	assert_int_equal(irq_edges(c), 2);
	rd(c, ICR);

	/* TIDV with IDE: TXDW after the delay; without IDE at once. */
	wr(c, ITR, 0);
	tx_setup(c);
	wr(c, TIDV, 3000);
	wr(c, IMS, ICR_TXDW);
	wr(c, IMC, ICR_TXQE);
	frame_init(f, sizeof(f), MAC, 2);
	guest_mem_write(&c->gm, TX_BUF, f, sizeof(f));
	fake_machine_clear_calls(c->fm);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	txd_legacy(c, TX_BUF, sizeof(f), CMD_EOP | CMD_RS | CMD_IDE);
	wr(c, TDT, c->tx_tail);
	assert_int_equal(irq_edges(c), 0);
	while (!gsi_level(c))
		assert_true(fake_run_io(c->fm, 1, 1000) > 0);
	assert_true(elapsed_us(&t0) >= 3072);
	assert_true(rd(c, ICR) & ICR_TXDW);
	fake_machine_clear_calls(c->fm);
	txd_legacy(c, TX_BUF, sizeof(f), CMD_EOP | CMD_RS);
	wr(c, TDT, c->tx_tail);
	assert_int_equal(irq_edges(c), 1);
}

static void test_icr_ims(void **state)
{
	struct ctx *c = *state;

	wr(c, ICS, ICR_LSC | ICR_RXDMT0);
	assert_int_equal(gsi_level(c), 0);		/* masked */
	assert_int_equal(rd(c, ICS), ICR_LSC | ICR_RXDMT0);	/* ICS reads ICR, uncleared */
	wr(c, IMS, ICR_LSC);
	assert_int_equal(gsi_level(c), 1);
	assert_int_equal(rd(c, IMS), ICR_LSC);
	wr(c, IMC, ICR_LSC);
	assert_int_equal(gsi_level(c), 0);
	wr(c, IMS, ICR_LSC);
	/* One read returns every cause and clears them all, lowering the line. */
	c->fm->nr_exits = 0;
	assert_int_equal(rd(c, ICR), ICR_LSC | ICR_RXDMT0);
	assert_int_equal(gsi_level(c), 0);
	assert_int_equal(rd(c, ICR), 0);
	assert_int_equal(fake_exits(c->fm), 2);
	assert_int_equal(counter(c, "interrupts"), 2);
}

static void test_hostile_tx(void **state)
{
	struct ctx *c = *state;
	uint8_t f[100], got[200];

	tx_setup(c);
	/* A buffer outside RAM: the queue stops, one line. */
	txd_legacy(c, RAM_SIZE - 10, 100, CMD_EOP | CMD_RS);
	txd_legacy(c, TX_BUF, 100, CMD_EOP | CMD_RS);
	wr(c, TDT, c->tx_tail);
	assert_int_equal(peer_recv(c, got, sizeof(got)), -1);
	assert_int_equal(report_capture_lines(&c->log), 1);
	assert_true(report_capture_has(&c->log, "transmit queue stopped"));
	/* Stopped: more TDT writes send nothing and say nothing. */
	wr(c, TDT, 0);
	wr(c, TDT, 5);
	assert_int_equal(report_capture_lines(&c->log), 1);
	/* TDT past TDLEN, a zero-length ring, a ring outside RAM: each stops it again. */
	drv_reset(c);
	tx_setup(c);
	wr(c, TDT, NDESC + 3);
	assert_int_equal(counter(c, "queue_stops"), 2);
	drv_reset(c);
	tx_setup(c);
	wr(c, TDLEN, 0);
	wr(c, TDT, 1);
	assert_int_equal(counter(c, "queue_stops"), 3);
	drv_reset(c);
	tx_setup(c);
	wr(c, TDBAL, RAM_SIZE - 64);
	wr(c, TDT, 1);
	assert_int_equal(counter(c, "queue_stops"), 4);
	/* A packet without EOP over the whole ring, again and again: past 64 KiB it stops. */
	drv_reset(c);
	tx_setup(c);
	for (unsigned i = 0; i < NDESC - 1; i++)
		txd_legacy(c, TX_BUF, 0xffff, 0);
	wr(c, TDT, c->tx_tail);
	assert_int_equal(counter(c, "queue_stops"), 5);
	assert_int_equal(peer_recv(c, got, sizeof(got)), -1);
	/* Still one line, and after a reset the queue works. */
	assert_int_equal(report_capture_lines(&c->log), 1);
	drv_reset(c);
	tx_setup(c);
	frame_init(f, sizeof(f), MAC, 1);
	guest_mem_write(&c->gm, TX_BUF, f, sizeof(f));
	txd_legacy(c, TX_BUF, sizeof(f), CMD_EOP | CMD_RS);
	wr(c, TDT, c->tx_tail);
	assert_int_equal(peer_recv(c, got, sizeof(got)), (ssize_t)sizeof(f));
	assert_int_equal(c->fm->nr_stops, 0);
}

static void test_hostile_rx(void **state)
{
	struct ctx *c = *state;
	uint8_t f[100];

	/* RDLEN past RAM. */
	rx_setup(c, RCTL_SECRC, 4);
	wr(c, RDBAL, RAM_SIZE - 32);
	frame_init(f, sizeof(f), MAC, 1);
	peer_send(c, f, sizeof(f));
	assert_int_equal(report_capture_lines(&c->log), 1);
	assert_true(report_capture_has(&c->log, "receive queue stopped"));
	peer_send(c, f, sizeof(f));
	assert_int_equal(counter(c, "rx_dropped_no_buffer"), 2);
	/* RDT past RDLEN; a buffer outside RAM. */
	rx_setup(c, RCTL_SECRC, 4);
	wr(c, RCTL, 0);
	wr(c, RCTL, RCTL_EN | RCTL_SECRC);
	wr(c, RDT, 1000);
	peer_send(c, f, sizeof(f));
	assert_int_equal(counter(c, "queue_stops"), 2);
	wr(c, RCTL, 0);
	rx_setup(c, RCTL_SECRC, 4);
	put_desc(c, RX_RING, 0x7ffffff000ull, 0, 0);
	peer_send(c, f, sizeof(f));
	assert_int_equal(counter(c, "queue_stops"), 3);
	assert_int_equal(report_capture_lines(&c->log), 1);
	/* Re-enabled with a sane ring it receives again. */
	wr(c, RCTL, 0);
	rx_setup(c, RCTL_SECRC, 4);
	peer_send(c, f, sizeof(f));
	assert_int_equal(counter(c, "rx_frames"), 1);
	assert_int_equal(c->fm->nr_stops, 0);
}

/* ---- behind an IOMMU ---- */

/* The fake IOMMU's window (fake_iommu.h): what the tests below map and refuse. */
#define IOVA_BASE	0x80000000ull
#define IOVA_SPAN	0x100000ull
#define IOVA_REFUSED	(IOVA_BASE + 0x80000)
#define GPA_BASE	0x300000ull

/* Install the fake IOMMU with this file's window. */
static void iommu_install(struct ctx *c)
{
	c->iommu = (struct fake_iommu){ .iova_base = IOVA_BASE, .span = IOVA_SPAN,
					.refused = IOVA_REFUSED, .gpa_base = GPA_BASE,
					.mem = &c->gm };
	fake_iommu_install(&c->fm->m, &c->iommu);
}

static void test_tx_iommu(void **state)
{
	struct ctx *c = *state;
	const uint64_t ring = IOVA_BASE, buf = IOVA_BASE + 0x10a00;
	uint8_t f[1514], got[2048];

	iommu_install(c);
	/* The ring's IOVA is beyond RAM: taken all the same, as an IOVA. */
	wr(c, TDBAL, (uint32_t)ring);
	wr(c, TDBAH, 0);
	wr(c, TDLEN, NDESC * 16);
	wr(c, TDH, 0);
	wr(c, TDT, 0);
	wr(c, TCTL, TCTL_EN | TCTL_PSP);
	/* A frame across a page boundary, whose two pages are apart in RAM. */
	frame_init(f, sizeof(f), (const uint8_t *)"\x02\x00\x00\x00\x00\x02", 3);
	fake_iommu_rw(&c->iommu, buf, f, sizeof(f), true);
	put_desc(c, fake_iommu_gpa(&c->iommu, ring), buf, sizeof(f) | (uint32_t)(CMD_EOP | CMD_RS) << 24, 0);
	wr(c, TDT, 1);
	assert_int_equal(peer_recv(c, got, sizeof(got)), (ssize_t)sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	assert_int_equal(rd(c, TDH), 1);
	/* DD went to where the descriptor's IOVA maps, as the PCI function. */
	assert_int_equal(*ram(c, fake_iommu_gpa(&c->iommu, ring) + 12) & 1, 1);
	assert_int_equal(c->iommu.last_sid, pci_requester_id(c->dev));
	assert_int_equal(c->iommu.last_sid, c->dev->slot << 3);

	/* A buffer the IOMMU refuses is a bad address: the queue stops, one line. */
	put_desc(c, fake_iommu_gpa(&c->iommu, ring + 16), IOVA_REFUSED + 0x100, 100 |
		 (uint32_t)(CMD_EOP | CMD_RS) << 24, 0);
	wr(c, TDT, 2);
	assert_int_equal(peer_recv(c, got, sizeof(got)), -1);
	assert_int_equal(counter(c, "queue_stops"), 1);
	assert_int_equal(report_capture_lines(&c->log), 1);
	assert_true(report_capture_has(&c->log, "transmit queue stopped"));
	assert_true(report_capture_has(&c->log, "refused by the IOMMU"));
	assert_int_equal(*ram(c, fake_iommu_gpa(&c->iommu, ring + 16) + 12) & 1, 0);

	/* A refused ring stops it at the first descriptor it reads. */
	drv_reset(c);
	wr(c, TDBAL, (uint32_t)IOVA_REFUSED);
	wr(c, TDLEN, NDESC * 16);
	wr(c, TCTL, TCTL_EN | TCTL_PSP);
	wr(c, TDT, 1);
	assert_int_equal(counter(c, "queue_stops"), 2);
	assert_int_equal(rd(c, TDH), 0);
	assert_int_equal(peer_recv(c, got, sizeof(got)), -1);
	assert_int_equal(c->fm->nr_stops, 0);
}

static void test_rx_iommu(void **state)
{
	struct ctx *c = *state;
	const uint64_t ring = IOVA_BASE + 0x20000, bufs = IOVA_BASE + 0x30e00;
	uint8_t f[1000];

	iommu_install(c);
	/* Buffers of 2 KiB, each across a page boundary. */
	for (unsigned i = 0; i < NDESC; i++)
		put_desc(c, fake_iommu_gpa(&c->iommu, ring + 16 * i), bufs + i * 0x1000, 0, 0);
	wr(c, RDBAL, (uint32_t)ring);
	wr(c, RDBAH, 0);
	wr(c, RDLEN, NDESC * 16);
	wr(c, RDH, 0);
	wr(c, RDT, 0);
	wr(c, RDTR, 0);
	wr(c, RCTL, RCTL_EN | RCTL_SECRC);
	wr(c, RDT, 4);
	frame_init(f, sizeof(f), MAC, 9);
	peer_send(c, f, sizeof(f));
	assert_int_equal(counter(c, "rx_frames"), 1);
	assert_int_equal(rd(c, RDH), 1);
	/* 0x200 bytes on the buffer's first page, the rest on the second, each where it maps. */
	assert_memory_equal(ram(c, fake_iommu_gpa(&c->iommu, bufs)), f, 0x200);
	assert_memory_equal(ram(c, fake_iommu_gpa(&c->iommu, bufs + 0x200)), f + 0x200, sizeof(f) - 0x200);
	assert_int_equal(le_load(ram(c, fake_iommu_gpa(&c->iommu, ring) + 8), 2), sizeof(f));
	assert_int_equal(*ram(c, fake_iommu_gpa(&c->iommu, ring) + 12), 0x07);	/* DD EOP IXSM */
	assert_int_equal(c->iommu.last_sid, pci_requester_id(c->dev));

	/* The next descriptor's buffer is refused: the queue stops, nothing written back. */
	put_desc(c, fake_iommu_gpa(&c->iommu, ring + 16), IOVA_REFUSED + 0x800, 0, 0);
	peer_send(c, f, sizeof(f));
	assert_int_equal(counter(c, "queue_stops"), 1);
	assert_int_equal(counter(c, "rx_frames"), 1);
	assert_int_equal(*ram(c, fake_iommu_gpa(&c->iommu, ring + 16) + 12), 0);
	assert_true(report_capture_has(&c->log, "receive queue stopped"));
	/* Re-enabled over a refused ring: the first descriptor read stops it again. */
	wr(c, RCTL, 0);
	wr(c, RDBAL, (uint32_t)IOVA_REFUSED);
	wr(c, RDH, 0);
	wr(c, RDT, 0);
	wr(c, RCTL, RCTL_EN | RCTL_SECRC);
	wr(c, RDT, 4);
	peer_send(c, f, sizeof(f));
	assert_int_equal(counter(c, "queue_stops"), 2);
	assert_int_equal(counter(c, "rx_dropped_no_buffer"), 1);
	assert_int_equal(report_capture_lines(&c->log), 1);
	assert_int_equal(c->fm->nr_stops, 0);
}

static void test_rx_radv_rxdmt0_rxo(void **state)
{
	struct ctx *c = *state;
	struct timespec t0;
	uint8_t f[5000];

	/* RDTR 50 ms restarted by each frame, RADV 4 ms from the first: RADV ends it. */
	rx_setup(c, RCTL_SECRC | RCTL_SZ_256 | (1u << 8), 12);	/* RDMTS 1: a quarter */
	wr(c, RDTR, 50000);
	wr(c, RADV, 4000);
	wr(c, IMS, ICR_RXT0);
	fake_machine_clear_calls(c->fm);
	frame_init(f, 100, MAC, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	peer_send(c, f, 100);
	peer_send(c, f, 100);
	assert_int_equal(rd(c, RDH), 2);
	assert_int_equal(irq_edges(c), 0);
	while (!gsi_level(c))
		assert_true(fake_run_io(c->fm, 1, 1000) > 0);
	assert_true(elapsed_us(&t0) >= 4096);
	assert_true(elapsed_us(&t0) < 40000);
	assert_int_equal(rd(c, ICR), ICR_RXT0);
	/* Free buffers down to a quarter of the ring (4 of 16): RXDMT0 with the frame. */
	frame_init(f, 1000, MAC, 2);
	peer_send(c, f, 1000);		/* 4 buffers: 6 left */
	assert_int_equal(rd(c, RDH), 6);
	assert_int_equal(rd(c, ICR) & ICR_RXDMT0, 0);
	peer_send(c, f, 1000);		/* 4 more: 2 left */
	assert_int_equal(rd(c, RDH), 10);
	assert_true(rd(c, ICS) & ICR_RXDMT0);
	/* A frame no ring of 16 256-byte buffers can ever hold: dropped, RXO. */
	wr(c, RCTL, RCTL_EN | RCTL_SECRC | RCTL_SZ_256 | 0x20 /* LPE */);
	frame_init(f, sizeof(f), MAC, 3);
	peer_send(c, f, sizeof(f));
	assert_true(rd(c, ICR) & 0x40);
	assert_int_equal(rd(c, 0x4010 /* MPC */), 1);
	assert_int_equal(rd(c, RDH), 10);
}

static void test_vlan(void **state)
{
	struct ctx *c = *state;
	uint8_t f[100], tagged[104], got[200];

	/* CTRL.VME: the tag goes into the descriptor on receive, out of it on transmit. */
	wr(c, CTRL, rd(c, CTRL) | 0x40000000u);
	rx_setup(c, RCTL_SECRC, 4);
	frame_init(f, sizeof(f), MAC, 1);
	memcpy(tagged, f, 12);
	memcpy(tagged + 12, "\x81\x00\x20\x05", 4);
	memcpy(tagged + 16, f + 12, sizeof(f) - 12);
	peer_send(c, tagged, sizeof(tagged));
	assert_int_equal(le_load(ram(c, RX_RING + 8), 2), sizeof(f));
	assert_int_equal(*ram(c, RX_RING + 12), 0x0f);		/* DD EOP IXSM VP */
	assert_int_equal(le_load(ram(c, RX_RING + 14), 2), 0x2005);
	assert_memory_equal(ram(c, RX_BUF), f, sizeof(f));
	/* VFE: VLAN 5 refused until its VFTA bit is set. */
	wr(c, RCTL, RCTL_EN | RCTL_SECRC | 0x40000);
	peer_send(c, tagged, sizeof(tagged));
	assert_int_equal(rd(c, RDH), 1);
	wr(c, 0x5600, 1u << 5);
	peer_send(c, tagged, sizeof(tagged));
	assert_int_equal(rd(c, RDH), 2);
	/* Transmit with VLE: the special field's tag after the addresses. */
	tx_setup(c);
	guest_mem_write(&c->gm, TX_BUF, f, sizeof(f));
	put_desc(c, TX_RING, TX_BUF, sizeof(f) | (uint32_t)(CMD_EOP | CMD_RS | 0x40) << 24,
		 0x2005u << 16);
	wr(c, TDT, 1);
	assert_int_equal(peer_recv(c, got, sizeof(got)), sizeof(tagged));
	assert_memory_equal(got, tagged, sizeof(tagged));
}

static int setup_coalesce(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	ctx_attach(c, true, true);
	*state = c;
	return 0;
}

/* The zones QEMU's e1000 coalesces: all of BAR0 between the registers the guest waits on. */
static void assert_zones(struct ctx *c, uint64_t base)
{
	static const uint64_t zone[][2] = {
		{ 0x0, 0x20 }, { 0x24, 0x9c }, { 0xc4, 0x4 }, { 0xcc, 0x4 }, { 0xd4, 0x4 },
		{ 0xdc, 0x324 }, { 0x404, 0x3414 }, { 0x381c, 0x1c7e4 },
	};

	assert_int_equal(c->fm->nr_zones, ARRAY_SIZE(zone));
	for (unsigned i = 0; i < ARRAY_SIZE(zone); i++) {
		bool found = false;

		for (unsigned k = 0; k < c->fm->nr_zones; k++)
			found |= c->fm->zones[k].addr == base + zone[i][0] &&
				 c->fm->zones[k].len == zone[i][1];
		assert_true(found);
	}
}

static void test_coalesce(void **state)
{
	struct ctx *c = *state;
	uint8_t f[100], got[200];
	uint64_t moved = c->bar0 + 0x100000;

	assert_zones(c, c->bar0);
	/* TX: the descriptors' TDT write still exits (the guest waits on it), once. */
	tx_setup(c);
	frame_init(f, sizeof(f), MAC, 1);
	guest_mem_write(&c->gm, TX_BUF, f, sizeof(f));
	txd_legacy(c, TX_BUF, sizeof(f), CMD_EOP | CMD_RS);
	c->fm->nr_exits = 0;
	wr(c, TDT, c->tx_tail);
	assert_int_equal(fake_exits(c->fm), 1);
	assert_int_equal(peer_recv(c, got, sizeof(got)), (ssize_t)sizeof(f));
	/* RX: a frame waits for buffers; the RDT write is coalesced, no exit, nothing yet. */
	rx_setup(c, RCTL_SECRC, 0);
	fake_coalesced_drain(c->fm);
	peer_send(c, f, sizeof(f));
	c->fm->nr_exits = 0;
	c->fm->nr_coalesced = 0;
	wr(c, RDT, 4);
	assert_int_equal(fake_exits(c->fm), 0);
	assert_int_equal(c->fm->nr_coalesced, 1);
	fake_run_io(c->fm, 1, 50);
	assert_int_equal(counter(c, "rx_frames"), 0);
	/* The held frame asked for the ring to be drained (a vCPU is kicked for it). */
	assert_true(c->fm->flush_requests >= 1);
	/* The next exit (the interrupt handler's ICR read) drains it first: the frame comes. */
	rd(c, ICR);
	assert_int_equal(fake_exits(c->fm), 1);
	fake_run_io(c->fm, 2, 200);
	assert_int_equal(counter(c, "rx_frames"), 1);
	assert_memory_equal(ram(c, RX_BUF), f, sizeof(f));
	/* The zones follow BAR0 when the guest moves it. */
	pci_guest_cfg_write(c->fm, c->dev->slot, 0x10, 4, (uint32_t)moved);
	assert_zones(c, moved);
}

static void test_coalesce_unsupported(void **state)
{
	struct net_backend_opts o = { .kind = NET_BACKEND_SOCKET, .dgram = true };
	struct report_capture log;
	struct fake_machine *fm;
	struct guest_mem gm;
	int sv[2];

	(void)state;
	report_capture_start(&log);
	fm = fake_machine_create();	/* no in-kernel services at all */
	assert_int_equal(guest_mem_init(&gm, RAM_SIZE, false), 0);
	fm->m.mem = &gm;
	assert_non_null(pci_host_create(&fm->m));
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	o.fd = sv[0];
	assert_int_equal(e1000_attach(&fm->m, &o, MAC, true), -ENOTSUP);
	assert_true(report_capture_has(&log, "no coalesced MMIO"));
	assert_int_equal(report_capture_lines(&log), 1);
	close(sv[0]);
	close(sv[1]);
	pci_host_destroy(fm->m.pci);
	fake_machine_destroy(fm);
	guest_mem_destroy(&gm);
	report_capture_stop(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_through_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eeprom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_autoneg_lsc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_checksum_offload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_tso, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_multi_descriptor_and_fcs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_held_until_rdt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moderation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icr_ims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_radv_rxdmt0_rxo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_rx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalesce, setup_coalesce, teardown),
		cmocka_unit_test(test_coalesce_unsupported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
