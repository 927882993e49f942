// SPDX-License-Identifier: GPL-2.0-only
/*
 * The e1000 register file: one table, sorted by offset, that dispatches
 * every access and names it for the exit report. A register is plain
 * storage (with the bits the manual makes writable) unless its entry has a
 * handler. Statistics clear when read (a 64-bit pair when its high half
 * is). An offset in no entry reads 0 and ignores writes; those accesses
 * are counted. Called with the device lock held, for aligned dwords.
 */
#include <string.h>

#include "e1000.h"

#define R	0x1	/* readable */
#define W	0x2	/* writable */
#define RC	0x4	/* statistic: cleared by a read */
#define RC64	0x8	/* high half of a 64-bit statistic: a read clears both */
#define RW	(R | W)

struct reg_desc {
	uint32_t off;
	uint32_t n;		/* dwords covered (arrays) */
	uint8_t flags;
	const char *name;
	uint32_t wmask;		/* writable bits of plain storage; 0: all */
	uint32_t (*read)(struct e1000 *s, uint32_t off);
	void (*write)(struct e1000 *s, uint32_t off, uint32_t val);
};

static uint32_t rd_icr(struct e1000 *s, uint32_t off)
{
	uint32_t v = e1000_reg(s, ICR);

	(void)off;
	e1000_set_reg(s, ICR, 0);
	e1000_update_irq(s);
	return v;
}

/* ICS is write-only in the manual; real parts (and QEMU) read ICR through it, uncleared. */
static uint32_t rd_ics(struct e1000 *s, uint32_t off)
{
	(void)off;
	return e1000_reg(s, ICR);
}

static uint32_t rd_eecd(struct e1000 *s, uint32_t off)
{
	(void)off;
	return e1000_eecd_read(s);
}

static uint32_t rd_eerd(struct e1000 *s, uint32_t off)
{
	(void)off;
	return e1000_eerd_read(s);
}

static void wr_ctrl(struct e1000 *s, uint32_t off, uint32_t val)
{
	(void)off;
	if (val & CTRL_RST) {
		e1000_count(&s->cnt.resets, 1);
		e1000_reset(s);
		return;
	}
	e1000_set_reg(s, CTRL, val);
}

static void wr_ctrl_ext(struct e1000 *s, uint32_t off, uint32_t val)
{
	/* EEPROM reload and speed detection finish at once. */
	(void)off;
	e1000_set_reg(s, CTRL_EXT, val & ~(CTRL_EXT_EE_RST | CTRL_EXT_ASDCHK));
}

static void wr_eecd(struct e1000 *s, uint32_t off, uint32_t val)
{
	(void)off;
	e1000_eecd_write(s, val);
}

static void wr_mdic(struct e1000 *s, uint32_t off, uint32_t val)
{
	(void)off;
	e1000_mdic_write(s, val);
}

static void wr_icr(struct e1000 *s, uint32_t off, uint32_t val)
{
	(void)off;
	e1000_set_reg(s, ICR, e1000_reg(s, ICR) & ~val);
	e1000_update_irq(s);
}

static void wr_ics(struct e1000 *s, uint32_t off, uint32_t val)
{
	(void)off;
	e1000_set_cause(s, val);
}

static void wr_ims(struct e1000 *s, uint32_t off, uint32_t val)
{
	(void)off;
	e1000_set_reg(s, IMS, e1000_reg(s, IMS) | val);
	e1000_update_irq(s);
}

static void wr_imc(struct e1000 *s, uint32_t off, uint32_t val)
{
	(void)off;
	e1000_set_reg(s, IMS, e1000_reg(s, IMS) & ~val);
	e1000_update_irq(s);
}

static void wr_rctl(struct e1000 *s, uint32_t off, uint32_t val)
{
	uint32_t old = e1000_reg(s, RCTL);

	(void)off;
	e1000_set_reg(s, RCTL, val);
	s->rx_buf_size = e1000_rx_buf_size(val);
	if ((val & RCTL_EN) && !(old & RCTL_EN))
		s->rx_stopped = false;
	e1000_rx_kick(s);
}

static void wr_tctl(struct e1000 *s, uint32_t off, uint32_t val)
{
	uint32_t old = e1000_reg(s, TCTL);

	(void)off;
	e1000_set_reg(s, TCTL, val);
	if ((val & TCTL_EN) && !(old & TCTL_EN))
		s->tx_stopped = false;
	e1000_tx_kick(s);
}

static void wr_rdt(struct e1000 *s, uint32_t off, uint32_t val)
{
	(void)off;
	e1000_set_reg(s, RDT, val & 0xffff);
	e1000_rx_kick(s);
}

static void wr_tdt(struct e1000 *s, uint32_t off, uint32_t val)
{
	(void)off;
	e1000_set_reg(s, TDT, val & 0xffff);
	e1000_tx_kick(s);
}

static void wr_rdtr(struct e1000 *s, uint32_t off, uint32_t val)
{
	(void)off;
	e1000_rdtr_written(s, val);
}

#define REG(o, cnt, f, nm, ...) \
	{ .off = (o), .n = (cnt), .flags = (f), .name = (nm), __VA_ARGS__ }

/* The table: sorted by offset (a unit test checks), nothing overlapping. */
static const struct reg_desc regs[] = {
	REG(CTRL, 1, RW, "CTRL", .write = wr_ctrl),
	REG(STATUS, 1, R, "STATUS"),
	REG(EECD, 1, RW, "EECD", .read = rd_eecd, .write = wr_eecd),
	REG(EERD, 1, RW, "EERD", .wmask = 0xff01, .read = rd_eerd),
	REG(CTRL_EXT, 1, RW, "CTRL_EXT", .write = wr_ctrl_ext),
	REG(MDIC, 1, RW, "MDIC", .write = wr_mdic),
	REG(FCAL, 1, RW, "FCAL"),
	REG(FCAH, 1, RW, "FCAH", .wmask = 0xffff),
	REG(FCT, 1, RW, "FCT", .wmask = 0xffff),
	REG(VET, 1, RW, "VET", .wmask = 0xffff),
	REG(ICR, 1, RW, "ICR", .read = rd_icr, .write = wr_icr),
	REG(ITR, 1, RW, "ITR", .wmask = 0xffff),
	REG(ICS, 1, RW, "ICS", .read = rd_ics, .write = wr_ics),
	REG(IMS, 1, RW, "IMS", .write = wr_ims),
	REG(IMC, 1, W, "IMC", .write = wr_imc),
	REG(RCTL, 1, RW, "RCTL", .write = wr_rctl),
	REG(FCTTV, 1, RW, "FCTTV", .wmask = 0xffff),
	REG(TXCW, 1, RW, "TXCW"),
	REG(RXCW, 1, R, "RXCW"),
	REG(TCTL, 1, RW, "TCTL", .write = wr_tctl),
	REG(TIPG, 1, RW, "TIPG"),
	REG(AIT, 1, RW, "AIT", .wmask = 0xffff),
	REG(LEDCTL, 1, RW, "LEDCTL"),
	REG(PBA, 1, RW, "PBA", .wmask = 0xffff),
	REG(FCRTL, 1, RW, "FCRTL", .wmask = 0x8000fff8),
	REG(FCRTH, 1, RW, "FCRTH", .wmask = 0xfff8),
	REG(RDFH, 1, RW, "RDFH", .wmask = 0x1fff),
	REG(RDFT, 1, RW, "RDFT", .wmask = 0x1fff),
	REG(RDFHS, 1, RW, "RDFHS", .wmask = 0x1fff),
	REG(RDFTS, 1, RW, "RDFTS", .wmask = 0x1fff),
	REG(RDFPC, 1, RW, "RDFPC", .wmask = 0x1fff),
	REG(RDBAL, 1, RW, "RDBAL", .wmask = 0xfffffff0),
	REG(RDBAH, 1, RW, "RDBAH"),
	REG(RDLEN, 1, RW, "RDLEN", .wmask = 0xfff80),
	REG(RDH, 1, RW, "RDH", .wmask = 0xffff),
	REG(RDT, 1, RW, "RDT", .write = wr_rdt),
	REG(RDTR, 1, RW, "RDTR", .write = wr_rdtr),
	REG(RXDCTL, 1, RW, "RXDCTL"),
	REG(RADV, 1, RW, "RADV", .wmask = 0xffff),
	REG(RSRPD, 1, RW, "RSRPD", .wmask = 0xfff),
	REG(TXDMAC, 1, RW, "TXDMAC", .wmask = 0x1),
	REG(TDFH, 1, RW, "TDFH", .wmask = 0x7ff),
	REG(TDFT, 1, RW, "TDFT", .wmask = 0x7ff),
	REG(TDFHS, 1, RW, "TDFHS", .wmask = 0x1fff),
	REG(TDFTS, 1, RW, "TDFTS", .wmask = 0x1fff),
	REG(TDFPC, 1, RW, "TDFPC", .wmask = 0x1fff),
	REG(TDBAL, 1, RW, "TDBAL", .wmask = 0xfffffff0),
	REG(TDBAH, 1, RW, "TDBAH"),
	REG(TDLEN, 1, RW, "TDLEN", .wmask = 0xfff80),
	REG(TDH, 1, RW, "TDH", .wmask = 0xffff),
	REG(TDT, 1, RW, "TDT", .write = wr_tdt),
	REG(TIDV, 1, RW, "TIDV", .wmask = 0xffff),
	REG(TXDCTL, 1, RW, "TXDCTL"),
	REG(TADV, 1, RW, "TADV", .wmask = 0xffff),
	REG(TSPMT, 1, RW, "TSPMT"),
	REG(CRCERRS, 1, R | RC, "CRCERRS"),
	REG(ALGNERRC, 1, R | RC, "ALGNERRC"),
	REG(SYMERRS, 1, R | RC, "SYMERRS"),
	REG(RXERRC, 1, R | RC, "RXERRC"),
	REG(MPC, 1, R | RC, "MPC"),
	REG(SCC, 1, R | RC, "SCC"),
	REG(ECOL, 1, R | RC, "ECOL"),
	REG(MCC, 1, R | RC, "MCC"),
	REG(LATECOL, 1, R | RC, "LATECOL"),
	REG(COLC, 1, R | RC, "COLC"),
	REG(DC, 1, R | RC, "DC"),
	REG(TNCRS, 1, R | RC, "TNCRS"),
	REG(SEC, 1, R | RC, "SEC"),
	REG(CEXTERR, 1, R | RC, "CEXTERR"),
	REG(RLEC, 1, R | RC, "RLEC"),
	REG(XONRXC, 1, R | RC, "XONRXC"),
	REG(XONTXC, 1, R | RC, "XONTXC"),
	REG(XOFFRXC, 1, R | RC, "XOFFRXC"),
	REG(XOFFTXC, 1, R | RC, "XOFFTXC"),
	REG(FCRUC, 1, R | RC, "FCRUC"),
	REG(PRC64, 1, R | RC, "PRC64"),
	REG(PRC127, 1, R | RC, "PRC127"),
	REG(PRC255, 1, R | RC, "PRC255"),
	REG(PRC511, 1, R | RC, "PRC511"),
	REG(PRC1023, 1, R | RC, "PRC1023"),
	REG(PRC1522, 1, R | RC, "PRC1522"),
	REG(GPRC, 1, R | RC, "GPRC"),
	REG(BPRC, 1, R | RC, "BPRC"),
	REG(MPRC, 1, R | RC, "MPRC"),
	REG(GPTC, 1, R | RC, "GPTC"),
	REG(GORCL, 1, R, "GORCL"),
	REG(GORCH, 1, R | RC64, "GORCH"),
	REG(GOTCL, 1, R, "GOTCL"),
	REG(GOTCH, 1, R | RC64, "GOTCH"),
	REG(RNBC, 1, R | RC, "RNBC"),
	REG(RUC, 1, R | RC, "RUC"),
	REG(RFC, 1, R | RC, "RFC"),
	REG(ROC, 1, R | RC, "ROC"),
	REG(RJC, 1, R | RC, "RJC"),
	REG(MGTPRC, 1, R | RC, "MGTPRC"),
	REG(MGTPDC, 1, R | RC, "MGTPDC"),
	REG(MGTPTC, 1, R | RC, "MGTPTC"),
	REG(TORL, 1, R, "TORL"),
	REG(TORH, 1, R | RC64, "TORH"),
	REG(TOTL, 1, R, "TOTL"),
	REG(TOTH, 1, R | RC64, "TOTH"),
	REG(TPR, 1, R | RC, "TPR"),
	REG(TPT, 1, R | RC, "TPT"),
	REG(PTC64, 1, R | RC, "PTC64"),
	REG(PTC127, 1, R | RC, "PTC127"),
	REG(PTC255, 1, R | RC, "PTC255"),
	REG(PTC511, 1, R | RC, "PTC511"),
	REG(PTC1023, 1, R | RC, "PTC1023"),
	REG(PTC1522, 1, R | RC, "PTC1522"),
	REG(MPTC, 1, R | RC, "MPTC"),
	REG(BPTC, 1, R | RC, "BPTC"),
	REG(TSCTC, 1, R | RC, "TSCTC"),
	REG(TSCTFC, 1, R | RC, "TSCTFC"),
	REG(RXCSUM, 1, RW, "RXCSUM", .wmask = 0x7ff),
	REG(MTA, E1000_MTA_SIZE, RW, "MTA"),
	REG(RAL, 2 * E1000_RA_ENTRIES, RW, "RAL"),	/* RAL/RAH pairs */
	REG(VFTA, E1000_VFTA_SIZE, RW, "VFTA"),
	REG(WUC, 1, RW, "WUC", .wmask = 0xf),
	REG(WUFC, 1, RW, "WUFC", .wmask = 0xf00ff),
	REG(WUS, 1, RW, "WUS", .wmask = 0xf00ff),
	REG(MANC, 1, RW, "MANC"),
	REG(IPAV, 1, RW, "IPAV", .wmask = 0x1000f),
	REG(IP4AT, 7, RW, "IP4AT"),
	REG(IP6AT, 4, RW, "IP6AT"),
	REG(WUPL, 1, R, "WUPL"),
	REG(WUPM, 32, RW, "WUPM"),
	REG(FFLT, 7, RW, "FFLT", .wmask = 0x7ff),
	REG(FFMT, 255, RW, "FFMT", .wmask = 0xf),
	REG(FFVT, 255, RW, "FFVT"),
	REG(PBM, 16384, RW, "PBM"),
};

static const struct reg_desc *reg_find(uint32_t off)
{
	unsigned lo = 0, hi = sizeof(regs) / sizeof(regs[0]);

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct reg_desc *r = &regs[mid];

		if (off < r->off)
			hi = mid;
		else if (off >= r->off + 4 * r->n)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

uint32_t e1000_reg_read(struct e1000 *s, uint32_t off)
{
	const struct reg_desc *r = reg_find(off);
	uint32_t v;

	if (!r) {
		e1000_count(&s->cnt.unknown_reads, 1);
		return 0;
	}
	if (!(r->flags & R))
		return 0;
	if (r->read)
		return r->read(s, off);
	v = e1000_reg(s, off);
	if (r->flags & (RC | RC64))
		e1000_set_reg(s, off, 0);
	if (r->flags & RC64)
		e1000_set_reg(s, off - 4, 0);
	return v;
}

void e1000_reg_write(struct e1000 *s, uint32_t off, uint32_t val)
{
	const struct reg_desc *r = reg_find(off);

	if (!r) {
		e1000_count(&s->cnt.unknown_writes, 1);
		return;
	}
	if (!(r->flags & W))
		return;
	if (r->write)
		r->write(s, off, val);
	else
		e1000_set_reg(s, off, r->wmask ? val & r->wmask : val);
}

const char *e1000_reg_name(uint32_t off)
{
	const struct reg_desc *r = reg_find(off & ~3u);

	if (!r)
		return NULL;
	if (r->off == RAL && (off & 4))
		return "RAH";
	return r->name;
}

uint32_t e1000_reg_key(uint32_t off)
{
	const struct reg_desc *r = reg_find(off & ~3u);

	if (!r || r->n == 1)
		return off;
	/* RAL and RAH alternate: each folds into its own first entry. */
	if (r->off == RAL)
		return RAL + (off & 4);
	return r->off;
}

bool e1000_reg_has_side_effects(uint32_t off)
{
	/* What QEMU leaves out of e1000's coalesced MMIO: the guest waits on these. */
	switch (off & ~3u) {
	case MDIC:
	case ICR:
	case ICS:
	case IMS:
	case IMC:
	case TCTL:
	case TDT:
		return true;
	default:
		return false;
	}
}

bool e1000_regs_sorted(void)
{
	for (unsigned i = 1; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (regs[i].off < regs[i - 1].off + 4 * regs[i - 1].n)
			return false;
	return true;
}

void e1000_reset(struct e1000 *s)
{
	const uint8_t *mac = s->mac;
	bool link = s->phy[PHY_BMSR] & BMSR_LINK_ST;

	memset(s->reg, 0, sizeof(s->reg));
	e1000_set_reg(s, CTRL, CTRL_SWDPIN2 | CTRL_SWDPIN0 | CTRL_SPD_1000 | CTRL_SLU);
	e1000_set_reg(s, STATUS, 0x80000000u | STATUS_GIO_MASTER | STATUS_ASDV | STATUS_MTXCKOK |
		      STATUS_SPEED_1000 | STATUS_FD | (link ? STATUS_LU : 0));
	e1000_set_reg(s, PBA, 0x00100030);
	e1000_set_reg(s, LEDCTL, 0x602);
	/* QEMU's MANC: ARP, RMCP, 0298, TCO receive, to host. */
	e1000_set_reg(s, MANC, 0x00222300);
	e1000_set_reg(s, VET, 0x8100);
	/* The EEPROM's address loads into the first receive address, valid. */
	e1000_set_reg(s, RAL, mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24);
	e1000_set_reg(s, RAH, mac[4] | mac[5] << 8 | RAH_AV);
	s->rx_buf_size = e1000_rx_buf_size(0);
	memset(&s->ee, 0, sizeof(s->ee));
	s->ioaddr = 0;
	s->rx_stopped = false;
	e1000_tx_reset(s);
	e1000_intr_reset(s);
}
