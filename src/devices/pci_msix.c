// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2); see include/qlite/pci_msix.h.
 *
 * A vector is deliverable when MSI-X is enabled and neither the function
 * nor the vector is masked. Whenever a vector becomes deliverable (a table
 * write, a Message Control write), its interrupt event is given the entry's
 * address/data if they changed, and a pending message is sent and its PBA
 * bit cleared. A notify on a vector that is not deliverable sets its PBA
 * bit; so does one whose route the kernel refused, rather than sending the
 * message to where the vector used to point.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/pci_msix.h"
#include "qlite/util.h"

/* Dwords of a table entry. */
enum { ENTRY_ADDR_LO, ENTRY_ADDR_HI, ENTRY_DATA, ENTRY_CTRL, ENTRY_DWORDS };

struct pci_msix_vector {
	uint32_t entry[ENTRY_DWORDS];	/* as the guest reads it back */
	struct irq_event *ev;
	bool synced;			/* ev carries entry's address/data */
};

static bool msix_deliverable(const struct pci_msix *x, unsigned v)
{
	return x->enabled && !x->masked &&
	       !(x->vec[v].entry[ENTRY_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static bool pba_test(const struct pci_msix *x, unsigned v)
{
	return x->pba[v / 64] & (1ULL << (v % 64));
}

static void pba_set(struct pci_msix *x, unsigned v, bool pending)
{
	if (pending)
		x->pba[v / 64] |= 1ULL << (v % 64);
	else
		x->pba[v / 64] &= ~(1ULL << (v % 64));
}

/* Give vector v's event the entry's address/data. Called with x->lock held. */
static bool msix_sync(struct pci_msix *x, unsigned v)
{
	struct pci_msix_vector *vec = &x->vec[v];
	uint64_t addr = vec->entry[ENTRY_ADDR_LO] | (uint64_t)vec->entry[ENTRY_ADDR_HI] << 32;
	int ret;

	if (vec->synced)
		return true;
	/* The function has its slot by now: the guest reached the table through its BAR. */
	ret = irq_event_set_msi(vec->ev, pci_requester_id(x->dev), addr, vec->entry[ENTRY_DATA]);
	if (ret < 0) {
		/* The guest can provoke this at every unmask: say it once. */
		if (!x->route_warned)
			report_errno(ret, "pci %s: msix vector %u: cannot route %#llx/%#x",
				     x->dev->name, v, (unsigned long long)addr,
				     vec->entry[ENTRY_DATA]);
		x->route_warned = true;
		return false;
	}
	vec->synced = true;
	return true;
}

/* Vector v may have become deliverable: follow its entry, send what is pending. */
static void msix_update(struct pci_msix *x, unsigned v)
{
	if (!msix_deliverable(x, v) || !msix_sync(x, v))
		return;
	if (pba_test(x, v)) {
		pba_set(x, v, false);
		irq_event_raise(x->vec[v].ev);
	}
}

void pci_msix_notify(struct pci_msix *x, unsigned vector)
{
	if (vector >= x->nr_vectors)
		return;
	pthread_mutex_lock(&x->lock);
	if (msix_deliverable(x, vector) && msix_sync(x, vector))
		irq_event_raise(x->vec[vector].ev);
	else
		pba_set(x, vector, true);
	pthread_mutex_unlock(&x->lock);
}

bool pci_msix_enabled(struct pci_msix *x)
{
	bool enabled;

	pthread_mutex_lock(&x->lock);
	enabled = x->enabled;
	pthread_mutex_unlock(&x->lock);
	return enabled;
}

bool pci_msix_in_kernel(const struct pci_msix *x)
{
	/* The vectors were made together, alike: the first speaks for all. */
	return x->nr_vectors && irq_event_in_kernel(x->vec[0].ev);
}

void pci_msix_cfg_written(struct pci_msix *x, unsigned offset, unsigned len)
{
	/* The byte with MSI-X Enable and Function Mask. */
	unsigned ctrl_hi = x->cap + PCI_MSIX_FLAGS + 1;
	uint8_t v;

	if (offset > ctrl_hi || len <= ctrl_hi - offset)
		return;
	/* The host applied the write under its lock, which the caller still holds. */
	v = x->dev->cfg[ctrl_hi];
	pthread_mutex_lock(&x->lock);
	x->enabled = v & (PCI_MSIX_FLAGS_ENABLE >> 8);
	x->masked = v & (PCI_MSIX_FLAGS_MASKALL >> 8);
	if (x->enabled && !x->masked)
		for (unsigned i = 0; i < x->nr_vectors; i++)
			msix_update(x, i);
	pthread_mutex_unlock(&x->lock);
}

/* An aligned dword or qword inside a structure of size bytes. */
static bool msix_access_ok(uint64_t offset, unsigned len, uint64_t size)
{
	return (len == 4 || len == 8) && !(offset & (len - 1)) &&
	       offset < size && len <= size - offset;
}

void pci_msix_table_read(struct pci_msix *x, uint64_t offset, void *data, unsigned len)
{
	if (!msix_access_ok(offset, len, PCI_MSIX_TABLE_SIZE(x->nr_vectors))) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&x->lock);
	/* A qword is two dwords of the same entry. */
	for (unsigned i = 0; i < len / 4; i++) {
		uint64_t o = offset + 4 * i;

		le_store((uint8_t *)data + 4 * i, x->vec[o / 16].entry[o % 16 / 4], 4);
	}
	pthread_mutex_unlock(&x->lock);
}

void pci_msix_table_write(struct pci_msix *x, uint64_t offset, const void *data, unsigned len)
{
	struct pci_msix_vector *vec;

	if (!msix_access_ok(offset, len, PCI_MSIX_TABLE_SIZE(x->nr_vectors)))
		return;
	vec = &x->vec[offset / 16];
	pthread_mutex_lock(&x->lock);
	for (unsigned i = 0; i < len / 4; i++) {
		unsigned dw = (offset + 4 * i) % 16 / 4;
		uint32_t v = le_load((const uint8_t *)data + 4 * i, 4);

		/* Address bits 1:0 and the reserved control bits read as 0. */
		if (dw == ENTRY_ADDR_LO)
			v &= ~3u;
		else if (dw == ENTRY_CTRL)
			v &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
		if (dw != ENTRY_CTRL && v != vec->entry[dw])
			vec->synced = false;
		vec->entry[dw] = v;
	}
	/* A write to an unmasked entry takes effect now (the spec leaves it undefined). */
	msix_update(x, offset / 16);
	pthread_mutex_unlock(&x->lock);
}

void pci_msix_pba_read(struct pci_msix *x, uint64_t offset, void *data, unsigned len)
{
	uint64_t v;

	if (!msix_access_ok(offset, len, PCI_MSIX_PBA_SIZE(x->nr_vectors))) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&x->lock);
	v = x->pba[offset / 8] >> (8 * (offset % 8));
	pthread_mutex_unlock(&x->lock);
	le_store(data, v, len);
}

static bool in_struct(uint64_t offset, uint64_t start, uint64_t size)
{
	return offset >= start && offset - start < size;
}

static void msix_bar_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pci_msix *x = opaque;

	if (in_struct(offset, x->table_offset, PCI_MSIX_TABLE_SIZE(x->nr_vectors)))
		pci_msix_table_read(x, offset - x->table_offset, data, len);
	else if (in_struct(offset, x->pba_offset, PCI_MSIX_PBA_SIZE(x->nr_vectors)))
		pci_msix_pba_read(x, offset - x->pba_offset, data, len);
	else
		memset(data, 0, len);
}

static void msix_bar_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pci_msix *x = opaque;

	if (in_struct(offset, x->table_offset, PCI_MSIX_TABLE_SIZE(x->nr_vectors)))
		pci_msix_table_write(x, offset - x->table_offset, data, len);
}

static const char *msix_bar_reg_name(void *opaque, uint64_t offset)
{
	static const char *const names[ENTRY_DWORDS] = {
		"MSIX_ADDR_LO", "MSIX_ADDR_HI", "MSIX_DATA", "MSIX_VECTOR_CTRL",
	};
	struct pci_msix *x = opaque;

	if (in_struct(offset, x->table_offset, PCI_MSIX_TABLE_SIZE(x->nr_vectors)))
		return names[(offset - x->table_offset) % 16 / 4];
	if (in_struct(offset, x->pba_offset, PCI_MSIX_PBA_SIZE(x->nr_vectors)))
		return "MSIX_PBA";
	return NULL;
}

const struct bus_ops pci_msix_bar_ops = {
	.read = msix_bar_read,
	.write = msix_bar_write,
	.reg_name = msix_bar_reg_name,
};

static void msix_free(struct pci_msix *x)
{
	for (unsigned i = 0; x->vec && i < x->nr_vectors; i++)
		irq_event_destroy(x->vec[i].ev);
	free(x->vec);
	free(x->pba);
	x->vec = NULL;
	x->pba = NULL;
}

static void msix_release(void *state)
{
	struct pci_msix *x = state;

	msix_free(x);
	pthread_mutex_destroy(&x->lock);
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int msix_check_layout(const struct pci_device *dev, unsigned nr_vectors, unsigned bar,
			     uint64_t table_offset, uint64_t pba_offset)
{
	uint64_t table_size = PCI_MSIX_TABLE_SIZE(nr_vectors);
	uint64_t pba_size = PCI_MSIX_PBA_SIZE(nr_vectors);
	uint64_t bar_size;

	if (!nr_vectors || nr_vectors > PCI_MSIX_MAX_VECTORS)
		return report(-EINVAL, "pci %s: msix: %u vectors (1 to %u)", dev->name, nr_vectors,
			      PCI_MSIX_MAX_VECTORS);
	if (bar >= PCI_MAX_BARS || !dev->bar[bar].size || dev->bar[bar].io)
		return report(-EINVAL, "pci %s: msix: BAR%u is not a memory BAR", dev->name, bar);
	bar_size = dev->bar[bar].size;
	/* The offsets share their register with the BIR: bits 2:0 are not theirs. */
	if ((table_offset | pba_offset) & 7 ||
	    table_offset > bar_size || table_size > bar_size - table_offset ||
	    pba_offset > bar_size || pba_size > bar_size - pba_offset ||
	    ranges_overlap(table_offset, table_size, pba_offset, pba_size))
		return report(-EINVAL, "pci %s: msix: table at %#llx (%#llx bytes) and PBA at "
			      "%#llx (%#llx bytes) must be qword-aligned, apart, and inside "
			      "BAR%u (%#llx bytes)",
			      dev->name, (unsigned long long)table_offset,
			      (unsigned long long)table_size, (unsigned long long)pba_offset,
			      (unsigned long long)pba_size, bar, (unsigned long long)bar_size);
	return 0;
}

int pci_msix_init(struct pci_msix *x, struct pci_device *dev, struct machine *m,
		  unsigned nr_vectors, unsigned bar, uint64_t table_offset, uint64_t pba_offset,
		  bool in_kernel)
{
	unsigned cap, i;
	int ret;

	*x = (struct pci_msix){
		.dev = dev, .m = m, .nr_vectors = nr_vectors,
		.table_offset = table_offset, .pba_offset = pba_offset,
	};
	ret = msix_check_layout(dev, nr_vectors, bar, table_offset, pba_offset);
	if (ret < 0)
		return ret;
	x->vec = calloc(nr_vectors, sizeof(*x->vec));
	x->pba = calloc(PCI_MSIX_PBA_SIZE(nr_vectors) / 8, sizeof(*x->pba));
	if (!x->vec || !x->pba) {
		ret = report(-ENOMEM, "pci %s: msix: out of memory", dev->name);
		goto err_free;
	}
	for (i = 0; i < nr_vectors; i++) {
		/* Masked, as after reset. */
		x->vec[i].entry[ENTRY_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
		ret = machine_irq_event_msi(m, pci_requester_id(dev), 0, 0, in_kernel,
					    &x->vec[i].ev);
		if (ret < 0) {
			report_errno(ret, "pci %s: msix vector %u", dev->name, i);
			goto err_free;
		}
	}
	ret = pci_add_cap(dev, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF, &cap);
	if (ret < 0)
		goto err_free;
	/* From here on the capability is in config space; the device fails with it. */
	ret = machine_adopt(m, x, msix_release);
	if (ret < 0) {
		report(ret, "pci %s: msix: out of memory", dev->name);
		goto err_free;
	}
	pthread_mutex_init(&x->lock, NULL);
	x->cap = cap;
	le_store(dev->cfg + cap + PCI_MSIX_FLAGS, nr_vectors - 1, 2);
	le_store(dev->cfg + cap + PCI_MSIX_TABLE, table_offset | bar, 4);
	le_store(dev->cfg + cap + PCI_MSIX_PBA, pba_offset | bar, 4);
	dev->wmask[cap + PCI_MSIX_FLAGS + 1] =
		(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
	return 0;

err_free:
	msix_free(x);
	return ret;
}
