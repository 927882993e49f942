// SPDX-License-Identifier: GPL-2.0-only
/* A guest's PCI configuration cycles and capability walk; see pci_guest.h. */
#include "pci_guest.h"

#define CA(slot, reg)	(0x80000000u | ((slot) << 11) | ((reg) & 0xfc))

uint32_t pci_guest_cfg_read(struct fake_machine *fm, unsigned slot, unsigned reg, unsigned len)
{
	fake_pio_write(fm, 0xcf8, 4, CA(slot, reg));
	return fake_pio_read(fm, 0xcfc + (reg & 3), len);
}

void pci_guest_cfg_write(struct fake_machine *fm, unsigned slot, unsigned reg, unsigned len,
			 uint32_t val)
{
	fake_pio_write(fm, 0xcf8, 4, CA(slot, reg));
	fake_pio_write(fm, 0xcfc + (reg & 3), len, val);
}

/*
 * Only when the status register says there is a list; each link masked to a
 * dword, a link below 0x40 or an ID of 0xff ends the walk, 48 links at most.
 */
unsigned pci_guest_find_cap(struct fake_machine *fm, unsigned slot, uint8_t id, unsigned pos)
{
	unsigned ttl = 48;

	if (!(pci_guest_cfg_read(fm, slot, 0x06, 2) & 0x10))
		return 0;
	pos = pci_guest_cfg_read(fm, slot, pos ? pos + 1 : 0x34, 1);
	while (ttl-- && pos >= 0x40) {
		uint16_t ent;

		pos &= ~3u;
		ent = pci_guest_cfg_read(fm, slot, pos, 2);
		if ((ent & 0xff) == 0xff)
			break;
		if ((ent & 0xff) == id)
			return pos;
		pos = ent >> 8;
	}
	return 0;
}
