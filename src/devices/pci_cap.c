// SPDX-License-Identifier: GPL-2.0-only
/*
 * The capabilities list of a PCI function's config space (PCI Local Bus
 * 3.0, 6.7): capabilities follow the type 0 header from 0x40, each dword
 * aligned, linked in the order the device adds them, which is the order a
 * guest walking from PCI_CAPABILITY_LIST finds them. The links are
 * read-only to the guest (their wmask stays 0).
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "qlite/pci.h"
#include "qlite/util.h"

/* More links than dwords after the header means a loop. */
#define PCI_CAP_MAX_LINKS	((PCI_CFG_SIZE - PCI_STD_HEADER_SIZEOF) / 4)
#define PCI_CAP_VNDR_LEN	2	/* a vendor-specific capability's length byte */

/* A link as pci_add_cap() writes them; anything else was written by someone else. */
static bool pci_cap_link_valid(unsigned pos)
{
	return pos >= PCI_STD_HEADER_SIZEOF && pos <= PCI_CFG_SIZE - 4 && !(pos & 3);
}

int pci_add_cap(struct pci_device *dev, uint8_t id, unsigned len, unsigned *offset)
{
	unsigned pos, last = 0, links = 0;

	if (len < 2 || (id == PCI_CAP_ID_VNDR && len < 3) ||
	    len > PCI_CFG_SIZE - PCI_STD_HEADER_SIZEOF)
		return report(-EINVAL, "pci %s: capability %#04x: invalid length %u",
			      dev->name, id, len);
	/* An empty list (pci_device_init() cleared config space) starts over at 0x40. */
	if (!dev->cfg[PCI_CAPABILITY_LIST] || dev->cap_end < PCI_STD_HEADER_SIZEOF)
		dev->cap_end = PCI_STD_HEADER_SIZEOF;
	pos = ALIGN_UP(dev->cap_end, 4);
	if (pos > PCI_CFG_SIZE || len > PCI_CFG_SIZE - pos)
		return report(-ENOSPC, "pci %s: capability %#04x: no room for %u bytes in config "
			      "space", dev->name, id, len);

	for (unsigned p = dev->cfg[PCI_CAPABILITY_LIST]; p; p = dev->cfg[p + PCI_CAP_LIST_NEXT]) {
		if (!pci_cap_link_valid(p) || ++links > PCI_CAP_MAX_LINKS)
			return report(-EINVAL, "pci %s: capability list broken at %#x",
				      dev->name, p);
		last = p;
	}

	memset(dev->cfg + pos, 0, len);
	memset(dev->wmask + pos, 0, len);
	dev->cfg[pos + PCI_CAP_LIST_ID] = id;
	if (id == PCI_CAP_ID_VNDR)
		dev->cfg[pos + PCI_CAP_VNDR_LEN] = len;
	if (last)
		dev->cfg[last + PCI_CAP_LIST_NEXT] = pos;
	else
		dev->cfg[PCI_CAPABILITY_LIST] = pos;
	dev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	dev->cap_end = pos + len;
	*offset = pos;
	return 0;
}
