/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Intel 82540EM (e1000) inside its directory; nothing outside it knows
 * these registers. The files call one way (the layout test checks it):
 *   e1000.c  PCI function, BARs, vdev type, reports, the timer
 *     -> regs.c  the register table: dispatch, names, reset
 *        -> tx.c, rx.c, phy.c, eeprom.c  the engines
 *           -> intr.c  interrupt causes, moderation deadlines, the INTx line
 * Register offsets, bits and the descriptor layouts are the 8254x software
 * developer's manual's (the same names Linux's e1000_hw.h uses).
 */
#ifndef QLITE_DEVICES_E1000_H
#define QLITE_DEVICES_E1000_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "qlite/machine.h"
#include "qlite/net.h"
#include "qlite/pci.h"

#define E1000_MMIO_SIZE		0x20000	/* BAR0: registers and packet buffer memory */
#define E1000_IO_SIZE		0x40	/* BAR1: IOADDR, IODATA */
#define E1000_NR_REGS		(E1000_MMIO_SIZE / 4)

/* ---- register offsets (bytes into BAR0) ---- */
enum {
	CTRL = 0x0000, CTRL_DUP = 0x0004, STATUS = 0x0008, EECD = 0x0010, EERD = 0x0014,
	CTRL_EXT = 0x0018, FLA = 0x001c, MDIC = 0x0020, FCAL = 0x0028, FCAH = 0x002c,
	FCT = 0x0030, VET = 0x0038, ICR = 0x00c0, ITR = 0x00c4, ICS = 0x00c8, IMS = 0x00d0,
	IMC = 0x00d8, RCTL = 0x0100, FCTTV = 0x0170, TXCW = 0x0178, RXCW = 0x0180,
	TCTL = 0x0400, TIPG = 0x0410, AIT = 0x0458, LEDCTL = 0x0e00, PBA = 0x1000,
	FCRTL = 0x2160, FCRTH = 0x2168, RDFH = 0x2410, RDFT = 0x2418, RDFHS = 0x2420,
	RDFTS = 0x2428, RDFPC = 0x2430, RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808,
	RDH = 0x2810, RDT = 0x2818, RDTR = 0x2820, RXDCTL = 0x2828, RADV = 0x282c,
	RSRPD = 0x2c00, TXDMAC = 0x3000, TDFH = 0x3410, TDFT = 0x3418, TDFHS = 0x3420,
	TDFTS = 0x3428, TDFPC = 0x3430, TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808,
	TDH = 0x3810, TDT = 0x3818, TIDV = 0x3820, TXDCTL = 0x3828, TADV = 0x382c,
	TSPMT = 0x3830,
	/* statistics, 0x4000-0x40fc */
	CRCERRS = 0x4000, ALGNERRC = 0x4004, SYMERRS = 0x4008, RXERRC = 0x400c, MPC = 0x4010,
	SCC = 0x4014, ECOL = 0x4018, MCC = 0x401c, LATECOL = 0x4020, COLC = 0x4028,
	DC = 0x4030, TNCRS = 0x4034, SEC = 0x4038, CEXTERR = 0x403c, RLEC = 0x4040,
	XONRXC = 0x4048, XONTXC = 0x404c, XOFFRXC = 0x4050, XOFFTXC = 0x4054, FCRUC = 0x4058,
	PRC64 = 0x405c, PRC127 = 0x4060, PRC255 = 0x4064, PRC511 = 0x4068, PRC1023 = 0x406c,
	PRC1522 = 0x4070, GPRC = 0x4074, BPRC = 0x4078, MPRC = 0x407c, GPTC = 0x4080,
	GORCL = 0x4088, GORCH = 0x408c, GOTCL = 0x4090, GOTCH = 0x4094, RNBC = 0x40a0,
	RUC = 0x40a4, RFC = 0x40a8, ROC = 0x40ac, RJC = 0x40b0, MGTPRC = 0x40b4,
	MGTPDC = 0x40b8, MGTPTC = 0x40bc, TORL = 0x40c0, TORH = 0x40c4, TOTL = 0x40c8,
	TOTH = 0x40cc, TPR = 0x40d0, TPT = 0x40d4, PTC64 = 0x40d8, PTC127 = 0x40dc,
	PTC255 = 0x40e0, PTC511 = 0x40e4, PTC1023 = 0x40e8, PTC1522 = 0x40ec, MPTC = 0x40f0,
	BPTC = 0x40f4, TSCTC = 0x40f8, TSCTFC = 0x40fc,
	RXCSUM = 0x5000, MTA = 0x5200, RAL = 0x5400, RAH = 0x5404, VFTA = 0x5600,
	WUC = 0x5800, WUFC = 0x5808, WUS = 0x5810, MANC = 0x5820, IPAV = 0x5838,
	IP4AT = 0x5840, IP6AT = 0x5880, WUPL = 0x5900, WUPM = 0x5a00, FFLT = 0x5f00,
	FFMT = 0x9000, FFVT = 0x9800, PBM = 0x10000,
};

#define E1000_MTA_SIZE		128
#define E1000_VFTA_SIZE		128
#define E1000_RA_ENTRIES	16

/* I/O BAR */
#define IOADDR			0x00
#define IODATA			0x04

/* CTRL */
#define CTRL_FD			0x00000001u
#define CTRL_SLU		0x00000040u
#define CTRL_SPD_1000		0x00000200u
#define CTRL_SWDPIN0		0x00040000u
#define CTRL_SWDPIN2		0x00100000u
#define CTRL_RST		0x04000000u
#define CTRL_VME		0x40000000u
#define CTRL_PHY_RST		0x80000000u
/* STATUS */
#define STATUS_FD		0x00000001u
#define STATUS_LU		0x00000002u
#define STATUS_SPEED_1000	0x00000080u
#define STATUS_ASDV		0x00000300u
#define STATUS_MTXCKOK		0x00000400u
#define STATUS_GIO_MASTER	0x00080000u
/* CTRL_EXT */
#define CTRL_EXT_ASDCHK		0x00001000u
#define CTRL_EXT_EE_RST		0x00002000u
/* EECD */
#define EECD_SK			0x001u
#define EECD_CS			0x002u
#define EECD_DI			0x004u
#define EECD_DO			0x008u
#define EECD_FWE_MASK		0x030u
#define EECD_REQ		0x040u
#define EECD_GNT		0x080u
#define EECD_PRES		0x100u
/* EERD (82540: start bit 0, done bit 4, address 15:8, data 31:16) */
#define EERD_START		0x00000001u
#define EERD_DONE		0x00000010u
#define EERD_ADDR_SHIFT		8
#define EERD_DATA_SHIFT		16
/* MDIC */
#define MDIC_DATA_MASK		0x0000ffffu
#define MDIC_REG_SHIFT		16
#define MDIC_PHY_SHIFT		21
#define MDIC_OP_WRITE		0x04000000u
#define MDIC_OP_READ		0x08000000u
#define MDIC_READY		0x10000000u
#define MDIC_INT_EN		0x20000000u
#define MDIC_ERROR		0x40000000u
/* interrupt causes (ICR, ICS, IMS, IMC) */
#define ICR_TXDW		0x00000001u
#define ICR_TXQE		0x00000002u
#define ICR_LSC			0x00000004u
#define ICR_RXDMT0		0x00000010u
#define ICR_RXO			0x00000040u
#define ICR_RXT0		0x00000080u
#define ICR_MDAC		0x00000200u
/* RCTL */
#define RCTL_EN			0x00000002u
#define RCTL_SBP		0x00000004u
#define RCTL_UPE		0x00000008u
#define RCTL_MPE		0x00000010u
#define RCTL_LPE		0x00000020u
#define RCTL_RDMTS_SHIFT	8
#define RCTL_MO_SHIFT		12
#define RCTL_BAM		0x00008000u
#define RCTL_BSIZE_SHIFT	16
#define RCTL_VFE		0x00040000u
#define RCTL_BSEX		0x02000000u
#define RCTL_SECRC		0x04000000u
/* TCTL */
#define TCTL_EN			0x00000002u
#define TCTL_PSP		0x00000008u
/* RDTR */
#define RDTR_FPD		0x80000000u
/* RAH */
#define RAH_AV			0x80000000u

/* ---- descriptors (16 bytes, little-endian) ---- */
#define DESC_SIZE		16
/* TX: the dword at 8 (length/cmd) and the byte at 12 (status) */
#define TXD_DTYP_D		0x00100000u
#define TXD_CMD_EOP		0x01000000u
#define TXD_CMD_IFCS		0x02000000u
#define TXD_CMD_IC		0x04000000u	/* legacy: insert checksum */
#define TXD_CMD_TSE		0x04000000u	/* context and data: TCP segmentation */
#define TXD_CMD_TCP		0x01000000u	/* context: TCP, else UDP */
#define TXD_CMD_IP		0x02000000u	/* context: IPv4, else IPv6 */
#define TXD_CMD_RS		0x08000000u
#define TXD_CMD_RPS		0x10000000u
#define TXD_CMD_DEXT		0x20000000u
#define TXD_CMD_VLE		0x40000000u
#define TXD_CMD_IDE		0x80000000u
#define TXD_STAT_DD		0x01u
#define TXD_POPTS_IXSM		0x01u
#define TXD_POPTS_TXSM		0x02u
/* RX: status and errors bytes */
#define RXD_STAT_DD		0x01u
#define RXD_STAT_EOP		0x02u
#define RXD_STAT_IXSM		0x04u
#define RXD_STAT_VP		0x08u

/* PHY (Marvell 88E1011 as QEMU's 82540EM has it) */
enum {
	PHY_BMCR = 0x00, PHY_BMSR = 0x01, PHY_ID1 = 0x02, PHY_ID2 = 0x03, PHY_ANAR = 0x04,
	PHY_ANLPAR = 0x05, PHY_ANER = 0x06, PHY_CTRL1000 = 0x09, PHY_STAT1000 = 0x0a,
	PHY_SPEC_CTRL = 0x10, PHY_SPEC_STATUS = 0x11, PHY_EXT_SPEC_CTRL = 0x14,
	PHY_RX_ERR_CNTR = 0x15, PHY_NR_REGS = 0x20,
};
#define BMCR_ANRESTART		0x0200u
#define BMCR_AUTOEN		0x1000u
#define BMCR_RESET		0x8000u
#define BMSR_LINK_ST		0x0004u
#define BMSR_AN_COMP		0x0020u
#define ANLPAR_ACK		0x4000u

#define E1000_EEPROM_WORDS	64
#define E1000_EEPROM_SUM	0xbaba
/* Autonegotiation takes this long after the driver restarts it, as on QEMU. */
#define E1000_AUTONEG_NS	500000000ull

/* Deadlines of the device's one timer. */
enum e1000_deadline {
	DL_RDTR, DL_RADV,	/* receive packet timer, absolute timer */
	DL_TIDV, DL_TADV,	/* transmit interrupt delay, absolute delay */
	DL_ITR,			/* the next interrupt allowed by the throttle */
	DL_AUTONEG,
	DL_NR,
};

/* A transmit context (QEMU keeps one for TSO and one for checksums, as Linux uses both). */
struct e1000_ctx {
	uint8_t ipcss, ipcso, tucss, tucso, hdr_len;
	uint16_t ipcse, tucse, mss;
	uint32_t paylen;
	bool ip, tcp;
};

#define E1000_TX_BUF		NET_MAX_FRAME
#define E1000_TX_HDR_MAX	256

struct e1000_tx {
	struct e1000_ctx ctx, tso_ctx;
	uint8_t popts;		/* of the packet's first data descriptor */
	bool tse, vlan, legacy_ic;
	uint8_t cso, css;	/* legacy checksum */
	uint16_t vlan_tci;
	uint32_t size;		/* bytes in data */
	uint32_t segs;		/* TSO segments sent of this packet */
	uint32_t descs;		/* descriptors of this packet so far */
	uint8_t header[E1000_TX_HDR_MAX];
	uint8_t data[E1000_TX_BUF + 4];
};

struct e1000_counters {
	uint64_t tx_frames, tx_bytes, tx_dropped, tso_segments, tx_csum_offloads;
	uint64_t rx_frames, rx_bytes, rx_filtered, rx_dropped_no_buffer, rx_dropped_oversize;
	uint64_t rx_held, interrupts, resets, queue_stops;
	uint64_t unknown_reads, unknown_writes;
	uint64_t coalesced_writes;
};

struct e1000 {
	pthread_mutex_t lock;
	struct machine *m;
	struct pci_device pci;
	struct net_backend *be;
	bool vnet_hdr;		/* the backend's frames carry a virtio_net_hdr */
	char name[32];
	uint8_t mac[6];

	uint32_t reg[E1000_NR_REGS];
	uint32_t ioaddr;
	uint16_t phy[PHY_NR_REGS];
	uint16_t eeprom[E1000_EEPROM_WORDS];
	struct {
		uint32_t val_in;
		unsigned bits_in, bit_out;
		bool reading;
		uint32_t old;
	} ee;
	uint32_t rx_buf_size;

	/* Interrupts and moderation */
	struct loop_timer *timer;
	uint64_t deadline[DL_NR];	/* CLOCK_MONOTONIC ns, 0 = not running */
	uint64_t armed_for;		/* what the timer was last armed for */
	uint64_t last_irq_ns;
	bool irq_level;

	/* Queues stopped by a hostile ring, until a reset or the queue is enabled again. */
	bool tx_stopped, rx_stopped;
	bool said_tx, said_rx;
	bool rx_held;		/* the backend holds a frame we could not take */
	bool want_rx_ready;	/* call net_backend_rx_ready() once the lock is dropped */
	bool coalesce;		/* BAR0 writes may wait in KVM's coalesced MMIO ring */

	struct e1000_counters cnt;
	struct e1000_tx tx;
};

static inline uint32_t e1000_reg(const struct e1000 *s, uint32_t off)
{
	return s->reg[off >> 2];
}

static inline void e1000_set_reg(struct e1000 *s, uint32_t off, uint32_t v)
{
	s->reg[off >> 2] = v;
}

static inline void e1000_count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* Statistics registers saturate, as the manual's counters do. */
static inline void e1000_stat_inc(struct e1000 *s, uint32_t off)
{
	if (s->reg[off >> 2] != UINT32_MAX)
		s->reg[off >> 2]++;
}

/* A 64-bit counter in a low/high pair. */
static inline void e1000_stat_add64(struct e1000 *s, uint32_t lo, uint64_t n)
{
	uint64_t v = (uint64_t)e1000_reg(s, lo + 4) << 32 | e1000_reg(s, lo);

	v = v + n < v ? UINT64_MAX : v + n;
	e1000_set_reg(s, lo, (uint32_t)v);
	e1000_set_reg(s, lo + 4, v >> 32);
}

static inline uint16_t e1000_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void e1000_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

uint64_t e1000_now_ns(void);

/*
 * The device's DMA, as its PCI function: through the machine's IOMMU when
 * there is one (addresses are then IOVAs), straight to RAM otherwise. 0, or
 * -EFAULT for an address the IOMMU refuses or that is not RAM, which the
 * callers treat alike: a bad address stops the queue.
 */
static inline int e1000_dma_read(struct e1000 *s, uint64_t addr, void *buf, size_t len)
{
	return machine_dma_read(s->m, pci_requester_id(&s->pci), addr, buf, len);
}

static inline int e1000_dma_write(struct e1000 *s, uint64_t addr, const void *buf, size_t len)
{
	return machine_dma_write(s->m, pci_requester_id(&s->pci), addr, buf, len);
}

/* How a refused address is said: with an IOMMU it may be its refusal or RAM's end. */
static inline const char *e1000_bad_addr(const struct e1000 *s)
{
	return s->m->iommu ? "refused by the IOMMU or outside RAM" : "outside RAM";
}

/* intr.c */
void e1000_set_cause(struct e1000 *s, uint32_t causes);
void e1000_update_irq(struct e1000 *s);
void e1000_rx_interrupt(struct e1000 *s);
void e1000_tx_interrupt(struct e1000 *s, bool delayed);
void e1000_rdtr_written(struct e1000 *s, uint32_t val);
void e1000_timer_rearm(struct e1000 *s);
/* The timer fired: serve the moderation deadlines that passed (autoneg is phy.c's). */
void e1000_intr_expire(struct e1000 *s, uint64_t now);
void e1000_intr_reset(struct e1000 *s);
/* Ring base, TDLEN/RDLEN in descriptors, head and tail: usable, or the queue stops. */
bool e1000_ring_ok(struct e1000 *s, bool tx, uint64_t base, uint32_t n);
#define ETH_FCS		4	/* the CRC the wire adds to every frame; counted in the statistics */

/* The statistics registers one direction counts a frame in. */
struct e1000_frame_stats {
	uint32_t total, good, octets_lo, total_octets_lo, broadcast, multicast;
	uint32_t size[6];	/* the 64/127/255/511/1023/1522-byte counters */
};
/* Count a frame of len bytes (without FCS) to dst in one direction's statistics. */
void e1000_count_frame(struct e1000 *s, const struct e1000_frame_stats *r, const uint8_t *dst,
		       uint32_t len);
/* One report() line per queue in the device's life; the queue stops. */
void e1000_queue_stop(struct e1000 *s, bool tx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A descriptor at `at` the device cannot reach (its DMA refused): the queue stops. */
static inline void e1000_bad_desc(struct e1000 *s, bool tx, uint64_t at)
{
	e1000_queue_stop(s, tx, "descriptor %#llx %s", (unsigned long long)at, e1000_bad_addr(s));
}

/* eeprom.c */
void e1000_eeprom_init(struct e1000 *s);
uint32_t e1000_eecd_read(struct e1000 *s);
void e1000_eecd_write(struct e1000 *s, uint32_t val);
uint32_t e1000_eerd_read(struct e1000 *s);

/* phy.c */
void e1000_phy_reset(struct e1000 *s);
void e1000_mdic_write(struct e1000 *s, uint32_t val);
void e1000_autoneg_expire(struct e1000 *s, uint64_t now);
bool e1000_link_up(const struct e1000 *s);

/* tx.c */
void e1000_tx_kick(struct e1000 *s);
void e1000_tx_reset(struct e1000 *s);

/* rx.c */
bool e1000_receive(void *opaque, const struct iovec *iov, unsigned iovcnt, size_t len);
bool e1000_rx_can_take(const struct e1000 *s);
uint32_t e1000_rx_buf_size(uint32_t rctl);
/* The guest gave buffers or enabled the receiver: ask the backend for held frames. */
void e1000_rx_kick(struct e1000 *s);

/* regs.c */
uint32_t e1000_reg_read(struct e1000 *s, uint32_t off);
void e1000_reg_write(struct e1000 *s, uint32_t off, uint32_t val);
const char *e1000_reg_name(uint32_t off);
/* Offset under which an access is counted: an array's entries fold into its first. */
uint32_t e1000_reg_key(uint32_t off);
void e1000_reset(struct e1000 *s);
/* Registers the guest waits on (its reads or writes have effects now): never coalesced. */
bool e1000_reg_has_side_effects(uint32_t off);
/* For the unit test: the table is sorted and without overlaps. */
bool e1000_regs_sorted(void);

#endif
