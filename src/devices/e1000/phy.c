// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PHY behind MDIC: a Marvell 88E1011 at MDIO address 1 with the
 * registers and values QEMU's 82540EM gives it (id 0141:0c20), link up.
 * Restarting autonegotiation takes the link down for E1000_AUTONEG_NS;
 * then it is up, autonegotiation complete, and LSC tells the driver.
 * A register QEMU does not implement answers with MDIC's error bit, as
 * QEMU's does, so a driver sees the same PHY under both.
 */
#include "e1000.h"

#define PHY_ADDR	1
#define PHY_R		1
#define PHY_W		2

static const uint8_t phy_access[PHY_NR_REGS] = {
	[PHY_BMCR] = PHY_R | PHY_W, [PHY_BMSR] = PHY_R, [PHY_ID1] = PHY_R, [PHY_ID2] = PHY_R,
	[PHY_ANAR] = PHY_R | PHY_W, [PHY_ANLPAR] = PHY_R, [PHY_ANER] = PHY_R,
	[PHY_CTRL1000] = PHY_R | PHY_W, [PHY_STAT1000] = PHY_R,
	[PHY_SPEC_CTRL] = PHY_R | PHY_W, [PHY_SPEC_STATUS] = PHY_R,
	[PHY_EXT_SPEC_CTRL] = PHY_R | PHY_W, [PHY_RX_ERR_CNTR] = PHY_R,
};

static const uint16_t phy_init[PHY_NR_REGS] = {
	[PHY_BMCR] = 0x1140,		/* 1000 Mb/s, full duplex, autonegotiation on */
	[PHY_BMSR] = 0x794d,		/* link up; autonegotiation not yet complete */
	[PHY_ID1] = 0x0141,
	[PHY_ID2] = 0x0c20,
	[PHY_ANAR] = 0x0de1,
	[PHY_ANLPAR] = 0x01e0,
	[PHY_CTRL1000] = 0x0e00,
	[PHY_STAT1000] = 0x3c00,
	[PHY_SPEC_CTRL] = 0x0360,
	[PHY_SPEC_STATUS] = 0xac00,
	[PHY_EXT_SPEC_CTRL] = 0x0d60,
};

void e1000_phy_reset(struct e1000 *s)
{
	for (unsigned i = 0; i < PHY_NR_REGS; i++)
		s->phy[i] = phy_init[i];
	s->deadline[DL_AUTONEG] = 0;
	e1000_timer_rearm(s);
}

bool e1000_link_up(const struct e1000 *s)
{
	return e1000_reg(s, STATUS) & STATUS_LU;
}

static void phy_bmcr_write(struct e1000 *s, uint16_t val)
{
	/* Bits 0-5 are reserved; reset and restart clear themselves. */
	s->phy[PHY_BMCR] = val & ~(0x3f | BMCR_RESET | BMCR_ANRESTART);
	if (!(val & BMCR_ANRESTART) || !(val & BMCR_AUTOEN))
		return;
	e1000_set_reg(s, STATUS, e1000_reg(s, STATUS) & ~STATUS_LU);
	s->phy[PHY_BMSR] &= ~(BMSR_LINK_ST | BMSR_AN_COMP);
	s->phy[PHY_ANLPAR] &= ~ANLPAR_ACK;
	s->deadline[DL_AUTONEG] = e1000_now_ns() + E1000_AUTONEG_NS;
	e1000_timer_rearm(s);
}

void e1000_autoneg_expire(struct e1000 *s, uint64_t now)
{
	if (!s->deadline[DL_AUTONEG] || s->deadline[DL_AUTONEG] > now)
		return;
	s->deadline[DL_AUTONEG] = 0;
	e1000_set_reg(s, STATUS, e1000_reg(s, STATUS) | STATUS_LU);
	s->phy[PHY_BMSR] |= BMSR_LINK_ST | BMSR_AN_COMP;
	s->phy[PHY_ANLPAR] |= ANLPAR_ACK;
	e1000_set_cause(s, ICR_LSC);
}

void e1000_mdic_write(struct e1000 *s, uint32_t val)
{
	unsigned reg = (val >> MDIC_REG_SHIFT) & 0x1f, phy = (val >> MDIC_PHY_SHIFT) & 0x1f;
	uint32_t out = val & ~(MDIC_READY | MDIC_ERROR);

	if (phy != PHY_ADDR) {
		out = e1000_reg(s, MDIC) | MDIC_ERROR;
	} else if (val & MDIC_OP_READ) {
		if (phy_access[reg] & PHY_R)
			out = (out & ~MDIC_DATA_MASK) | s->phy[reg];
		else
			out |= MDIC_ERROR;
	} else if (val & MDIC_OP_WRITE) {
		if (!(phy_access[reg] & PHY_W))
			out |= MDIC_ERROR;
		else if (reg == PHY_BMCR)
			phy_bmcr_write(s, val & MDIC_DATA_MASK);
		else
			s->phy[reg] = val & MDIC_DATA_MASK;
	}
	/* The access completes at once. */
	e1000_set_reg(s, MDIC, out | MDIC_READY);
	if (val & MDIC_INT_EN)
		e1000_set_cause(s, ICR_MDAC);
}
