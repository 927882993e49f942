// SPDX-License-Identifier: GPL-2.0-only
/*
 * Plain MSI, one vector, 64-bit address, no mask bits (PCI Local Bus 3.0,
 * 6.8.1); see include/qlite/pci_msi.h.
 *
 * Config space keeps what the guest reads back (the host applies its
 * writes through wmask); this file keeps a copy of the enable bit, address
 * and data under its own lock, taken when a write touches the capability,
 * so a notify on another thread never reads config space while the host
 * writes it.
 */
#include <errno.h>
#include <linux/pci_regs.h>

#include "qlite/pci_msi.h"
#include "qlite/util.h"

static void msi_release(void *state)
{
	struct pci_msi *x = state;

	pthread_mutex_destroy(&x->lock);
}

int pci_msi_init(struct pci_msi *x, struct pci_device *dev, struct machine *m)
{
	unsigned cap;
	int ret;

	*x = (struct pci_msi){ .dev = dev, .m = m };
	ret = pci_add_cap(dev, PCI_CAP_ID_MSI, PCI_MSI_CAP_SIZE, &cap);
	if (ret < 0)
		return ret;
	pthread_mutex_init(&x->lock, NULL);
	ret = machine_adopt(m, x, msi_release);
	if (ret < 0) {
		pthread_mutex_destroy(&x->lock);
		return report(ret, "pci %s: msi: out of memory", dev->name);
	}
	x->cap = cap;
	/* One vector (Multiple Message Capable 0), 64-bit capable, no per-vector masking. */
	le_store(dev->cfg + cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT, 2);
	dev->wmask[cap + PCI_MSI_FLAGS] = PCI_MSI_FLAGS_ENABLE;
	/* The address is dword-aligned: bits 1:0 read as 0. */
	le_store(dev->wmask + cap + PCI_MSI_ADDRESS_LO, 0xfffffffcu, 4);
	le_store(dev->wmask + cap + PCI_MSI_ADDRESS_HI, 0xffffffffu, 4);
	le_store(dev->wmask + cap + PCI_MSI_DATA_64, 0xffff, 2);
	return 0;
}

void pci_msi_cfg_written(struct pci_msi *x, unsigned offset, unsigned len)
{
	const uint8_t *c = x->dev->cfg + x->cap;

	if (offset >= x->cap + PCI_MSI_CAP_SIZE || offset + len <= x->cap)
		return;
	/* The host applied the write under its lock, which the caller still holds. */
	pthread_mutex_lock(&x->lock);
	x->enabled = le_load(c + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE;
	x->addr = le_load(c + PCI_MSI_ADDRESS_LO, 4) |
		  (uint64_t)le_load(c + PCI_MSI_ADDRESS_HI, 4) << 32;
	x->data = le_load(c + PCI_MSI_DATA_64, 2);
	pthread_mutex_unlock(&x->lock);
}

bool pci_msi_enabled(struct pci_msi *x)
{
	bool enabled;

	pthread_mutex_lock(&x->lock);
	enabled = x->enabled;
	pthread_mutex_unlock(&x->lock);
	return enabled;
}

int pci_msi_notify(struct pci_msi *x)
{
	uint64_t addr;
	uint32_t data;
	bool enabled;
	int ret;

	pthread_mutex_lock(&x->lock);
	enabled = x->enabled;
	addr = x->addr;
	data = x->data;
	pthread_mutex_unlock(&x->lock);
	if (!enabled)
		return -EAGAIN;
	/* No lock held: the IOMMU may take its own and read its tables in RAM. */
	ret = machine_msi_raise(x->m, pci_requester_id(x->dev), addr, data);
	pthread_mutex_lock(&x->lock);
	if (ret < 0)
		x->blocked++;
	else
		x->sent++;
	pthread_mutex_unlock(&x->lock);
	return ret < 0 ? -EFAULT : 0;
}

void pci_msi_counts(struct pci_msi *x, uint64_t *sent, uint64_t *blocked)
{
	pthread_mutex_lock(&x->lock);
	*sent = x->sent;
	*blocked = x->blocked;
	pthread_mutex_unlock(&x->lock);
}
