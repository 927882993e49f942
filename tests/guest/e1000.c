// SPDX-License-Identifier: GPL-2.0-only
/*
 * e1000.c - a polled driver for the Intel 82540EM (8086:100e, QEMU's and
 * qlite's e1000) from ring 3, behind the NIC interface of net.c.
 *
 * Legacy descriptors: a 16-entry TX ring with one buffer (each frame waits
 * for its DD before the next), a 256-entry RX ring with a 2 KiB buffer each,
 * all in static guest RAM. All interrupts masked (IMC), nothing
 * interrupt-driven: the DD bits are polled in RAM, so waiting costs no exits.
 *
 * Register accesses (each one MMIO exit through BAR0):
 *   set-up: RCTL and TCTL off, CTRL.RST, CTRL read until RST clears (once
 *           on QEMU), IMC, RAL0 and RAH0 (the MAC; from EERD words 0..2
 *           instead when RAH0 is not valid, and then written back to
 *           RAL0/RAH0), TDBAL, TDBAH, TDLEN, TDH, TDT, TCTL, RDBAL, RDBAH,
 *           RDLEN, RDH, RDT, RCTL, CTRL.SLU, STATUS (link up; polled each ms
 *           while it is down): 22 on QEMU.
 *   per frame sent: one TDT write.
 *   per frame received: one RDT write (the buffer handed back).
 */
#include "guest.h"

#define E1000_VENDOR		0x8086
#define E1000_DEVICE		0x100e
#define E1000_BAR_SIZE		0x20000

#define REG_CTRL		0x0000
#define REG_STATUS		0x0008
#define REG_EERD		0x0014
#define REG_IMC			0x00d8
#define REG_RCTL		0x0100
#define REG_TCTL		0x0400
#define REG_RDBAL		0x2800
#define REG_RDBAH		0x2804
#define REG_RDLEN		0x2808
#define REG_RDH			0x2810
#define REG_RDT			0x2818
#define REG_TDBAL		0x3800
#define REG_TDBAH		0x3804
#define REG_TDLEN		0x3808
#define REG_TDH			0x3810
#define REG_TDT			0x3818
#define REG_RAL0		0x5400
#define REG_RAH0		0x5404

#define CTRL_SLU		(1u << 6)
#define CTRL_RST		(1u << 26)
#define STATUS_LU		(1u << 1)
#define EERD_START		(1u << 0)
#define EERD_DONE		(1u << 4)
#define EERD_ADDR_SHIFT		8
#define EERD_DATA_SHIFT		16
#define RAH_AV			(1u << 31)
#define RCTL_EN			(1u << 1)
#define RCTL_BAM		(1u << 15)	/* broadcast: DHCP offers and acks */
#define RCTL_SECRC		(1u << 26)	/* no FCS in the buffer; BSIZE 0: 2048 bytes */
#define TCTL_EN			(1u << 1)
#define TCTL_PSP		(1u << 3)	/* pad short frames */
#define TCTL_CT			(0x0fu << 4)
#define TCTL_COLD		(0x40u << 12)

#define TXD_CMD_EOP		0x01
#define TXD_CMD_IFCS		0x02
#define TXD_CMD_RS		0x08	/* report status: the device sets DD */
#define TXD_STAT_DD		0x01
#define RXD_STAT_DD		0x01
#define RXD_STAT_EOP		0x02

#define TX_RING			16	/* 256 bytes: a multiple of 128, as TDLEN wants */
/*
 * Room for a whole burst of the tests' 200 frames: QEMU's e1000 drops what
 * arrives while the ring is full (receiver overrun), as the hardware does.
 */
#define RX_RING			256
#define RESET_TIMEOUT_US	1000000
#define LINK_TIMEOUT_US		3000000

struct tx_desc {
	uint64_t addr;
	uint16_t len;
	uint8_t cso, cmd, status, css;
	uint16_t special;
};

struct rx_desc {
	uint64_t addr;
	uint16_t len, csum;
	uint8_t status, errors;
	uint16_t special;
};

static struct tx_desc tx_ring[TX_RING] __attribute__((aligned(4096)));
static struct rx_desc rx_ring[RX_RING] __attribute__((aligned(4096)));
static uint8_t tx_buf[NET_BUF_SIZE] __attribute__((aligned(4096)));

static struct {
	uint64_t regs;
	unsigned tx_tail, rx_next;
	uint8_t (*rx_bufs)[NET_BUF_SIZE];	/* RX_RING of them, past the image (512 KiB) */
} e;

static uint32_t rd(unsigned reg)
{
	return mmio_read32(e.regs + reg);
}

static void wr(unsigned reg, uint32_t v)
{
	mmio_write32(e.regs + reg, v);
}

static uint16_t eeprom_word(struct nic *n, unsigned addr)
{
	uint64_t deadline = tsc_deadline(RESET_TIMEOUT_US);
	uint32_t v;

	wr(REG_EERD, addr << EERD_ADDR_SHIFT | EERD_START);
	while (!((v = rd(REG_EERD)) & EERD_DONE))
		if (rdtsc() > deadline)
			fail("%s: EERD word %u: no DONE after %u ms", n->word, addr,
			     RESET_TIMEOUT_US / 1000);
	return v >> EERD_DATA_SHIFT;
}

static void read_mac(struct nic *n)
{
	uint32_t lo = rd(REG_RAL0), hi = rd(REG_RAH0);

	if (!(hi & RAH_AV)) {
		/* No valid receive address: the EEPROM's words 0..2, and the filter set from them. */
		for (unsigned i = 0; i < 3; i++) {
			uint16_t w = eeprom_word(n, i);

			n->mac[2 * i] = w;
			n->mac[2 * i + 1] = w >> 8;
		}
		lo = n->mac[0] | n->mac[1] << 8 | n->mac[2] << 16 | (uint32_t)n->mac[3] << 24;
		hi = n->mac[4] | n->mac[5] << 8;
		wr(REG_RAL0, lo);
		wr(REG_RAH0, hi | RAH_AV);
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		n->mac[i] = lo >> (8 * i);
	n->mac[4] = hi;
	n->mac[5] = hi >> 8;
}

static void e1000_send(struct nic *n, const void *frame, unsigned len)
{
	struct tx_desc *d = &tx_ring[e.tx_tail];
	volatile uint8_t *status = &d->status;
	uint64_t deadline;

	memcpy(tx_buf, frame, len);
	*d = (struct tx_desc){ .addr = (uintptr_t)tx_buf, .len = len,
			       .cmd = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS };
	e.tx_tail = (e.tx_tail + 1) % TX_RING;
	barrier();				/* the descriptor before the tail */
	wr(REG_TDT, e.tx_tail);
	n->tx_bells++;
	deadline = tsc_deadline(NET_TIMEOUT_US);
	while (!(*status & TXD_STAT_DD)) {
		if (rdtsc() > deadline)
			fail("%s: TX descriptor %u not done after %u s (TDH %u, STATUS 0x%x)", n->word,
			     (unsigned)(d - tx_ring), NET_TIMEOUT_US / 1000000, rd(REG_TDH),
			     rd(REG_STATUS));
		cpu_relax();
	}
}

static int e1000_recv(struct nic *n, const uint8_t **frame, uint64_t deadline)
{
	struct rx_desc *d = &rx_ring[e.rx_next];
	volatile uint8_t *status = &d->status;

	while (!(*status & RXD_STAT_DD)) {
		if (rdtsc() > deadline)
			return -1;
		cpu_relax();
	}
	barrier();				/* DD before the rest of the descriptor */
	if (!(d->status & RXD_STAT_EOP) || d->errors)
		fail("%s: RX descriptor %u: status 0x%x errors 0x%x length %u (one frame a buffer "
		     "expected)", n->word, e.rx_next, d->status, d->errors, d->len);
	if (d->len > NET_BUF_SIZE)
		fail("%s: RX descriptor %u: length %u past the %u-byte buffer", n->word, e.rx_next,
		     d->len, NET_BUF_SIZE);
	*frame = e.rx_bufs[e.rx_next];
	return d->len;
}

/* The descriptor just read goes back to the device: it becomes the new tail. */
static void e1000_release(struct nic *n)
{
	rx_ring[e.rx_next].status = 0;
	barrier();
	wr(REG_RDT, e.rx_next);
	n->rx_bells++;
	e.rx_next = (e.rx_next + 1) % RX_RING;
}

static void e1000_rx_state(struct nic *n)
{
	struct rx_desc *d = &rx_ring[e.rx_next];

	gprintf("%s: RX ring 0x%lx: RDH %u RDT %u RCTL 0x%x STATUS 0x%x; descriptor %u status 0x%x "
		"length %u\n", n->word, (unsigned long)(uintptr_t)rx_ring, rd(REG_RDH), rd(REG_RDT),
		rd(REG_RCTL), rd(REG_STATUS), e.rx_next, d->status, d->len);
}

/*
 * The next nic= word: receive and transmit off, then a reset, so that no
 * more DMA reaches the rings (QEMU 7.2 only clears CTRL.RST, it resets nothing).
 */
static void e1000_close(struct nic *n)
{
	wr(REG_RCTL, 0);
	wr(REG_TCTL, 0);
	wr(REG_CTRL, CTRL_RST);
}

void e1000_open(struct nic *n)
{
	int bdf = pci_find(E1000_VENDOR, E1000_DEVICE);
	struct pci_bar bar;
	uint64_t deadline;
	uint32_t st;

	if (bdf < 0)
		fail("%s: no e1000 (8086:100e) on PCI bus 0", n->word);
	if (!pci_bar(bdf, 0, &bar) || bar.io || !bar.addr || bar.size < E1000_BAR_SIZE ||
	    !phys_mapped(bar.addr, E1000_BAR_SIZE))
		fail("%s: BAR0 %s 0x%lx size 0x%lx: not a memory BAR of 128 KiB assigned in "
		     "0..1/3..4 GiB", n->word, bar.io ? "io" : "mem", (unsigned long)bar.addr,
		     (unsigned long)bar.size);
	pci_enable(bdf, PCI_CMD_MEM | PCI_CMD_MASTER);
	e.regs = bar.addr;

	/* As Linux's e1000_reset_hw: receive and transmit off first, whatever RST does. */
	wr(REG_RCTL, 0);
	wr(REG_TCTL, 0);
	wr(REG_CTRL, CTRL_RST);
	deadline = tsc_deadline(RESET_TIMEOUT_US);
	while (rd(REG_CTRL) & CTRL_RST)
		if (rdtsc() > deadline)
			fail("%s: CTRL.RST still set %u ms after the reset", n->word,
			     RESET_TIMEOUT_US / 1000);
	wr(REG_IMC, 0xffffffffu);
	read_mac(n);

	memset(tx_ring, 0, sizeof(tx_ring));
	memset(rx_ring, 0, sizeof(rx_ring));
	if (!e.rx_bufs)
		e.rx_bufs = ram_alloc(n->word, RX_RING * NET_BUF_SIZE, 4096);
	for (unsigned i = 0; i < RX_RING; i++)
		rx_ring[i].addr = (uintptr_t)e.rx_bufs[i];
	e.tx_tail = e.rx_next = 0;
	wr(REG_TDBAL, (uintptr_t)tx_ring);
	wr(REG_TDBAH, (uint64_t)(uintptr_t)tx_ring >> 32);
	wr(REG_TDLEN, sizeof(tx_ring));
	wr(REG_TDH, 0);
	wr(REG_TDT, 0);
	wr(REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
	wr(REG_RDBAL, (uintptr_t)rx_ring);
	wr(REG_RDBAH, (uint64_t)(uintptr_t)rx_ring >> 32);
	wr(REG_RDLEN, sizeof(rx_ring));
	wr(REG_RDH, 0);
	wr(REG_RDT, RX_RING - 1);			/* RDH == RDT means empty: all but one */
	wr(REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
	wr(REG_CTRL, CTRL_SLU);
	deadline = tsc_deadline(LINK_TIMEOUT_US);
	while (!((st = rd(REG_STATUS)) & STATUS_LU)) {
		if (rdtsc() > deadline)
			fail("%s: link down %u ms after CTRL.SLU (STATUS 0x%x): no backend?", n->word,
			     LINK_TIMEOUT_US / 1000, st);
		udelay(1000);
	}
	n->send = e1000_send;
	n->recv = e1000_recv;
	n->release = e1000_release;
	n->rx_state = e1000_rx_state;
	n->close = e1000_close;
	gprintf("%s: 00:%02x.%x 8086:100e, BAR0 0x%lx, STATUS 0x%x, TX ring %u, RX ring %u\n",
		n->word, bdf >> 3, bdf & 7, (unsigned long)bar.addr, st, TX_RING, RX_RING);
}
