// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device types the `vdev` keyword knows, and the one path that builds
 * a spec's devices. Each device file defines its struct vdev_type (name,
 * help, options with the kind and span of its ports/MMIO, create); adding
 * a device is one line in builtin_types. The option helpers the devices
 * call are in vdev_opts.c, so this table and the devices depend one way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "qlite/config.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

static const struct vdev_type *const builtin_types[] = {
	&isa_debug_exit_vdev,
	&ide_vdev,
	&virtio_blk_vdev,
	&virtio_net_vdev,
	&pvpanic_vdev,
	&pvpanic_pci_vdev,
	&e1000_vdev,
	&pc_testdev_vdev,
	&pci_testdev_vdev,
	&edu_vdev,
	&intel_iommu_vdev,
};

/* Unit tests swap in a table of their own (vdev_use_table). */
static const struct vdev_type *test_types;
static unsigned nr_test_types;

void vdev_use_table(const struct vdev_type *table, unsigned n)
{
	test_types = table;
	nr_test_types = table ? n : 0;
}

unsigned vdev_type_count(void)
{
	return test_types ? nr_test_types : ARRAY_SIZE(builtin_types);
}

const struct vdev_type *vdev_type_at(unsigned i)
{
	if (i >= vdev_type_count())
		return NULL;
	return test_types ? &test_types[i] : builtin_types[i];
}

const struct vdev_type *vdev_type_lookup(const char *name)
{
	for (unsigned i = 0; i < vdev_type_count(); i++)
		if (!strcmp(vdev_type_at(i)->name, name))
			return vdev_type_at(i);
	return NULL;
}

void vdev_format_known(char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (!vdev_type_count()) {
		snprintf(buf, len, "none yet");
		return;
	}
	for (unsigned i = 0; i < vdev_type_count() && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 vdev_type_at(i)->name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void vdev_where(const struct vdev_spec *vs, char *where, size_t len)
{
	if (vs->origin.file)
		snprintf(where, len, "%s:%u", vs->origin.file, vs->origin.line);
	else
		snprintf(where, len, "%s", vs->origin.option ? vs->origin.option : "--vdev");
}

/* Build one vdev line, its FILE:LINE (or --vdev) before whatever its constructor says. */
static int vdev_create_one(struct machine *m, const struct vdev_spec *vs,
			   const struct vdev_type *t)
{
	char where[512];
	int ret;

	vdev_where(vs, where, sizeof(where));
	report_set_context(where);
	/* The parser knows every type; a table swapped under it is a bug, said as one. */
	if (!t || !t->create)
		ret = report(-ENOSYS, "vdev %s cannot be built", vs->type);
	else
		ret = t->create(m, vs);
	report_set_context(NULL);
	return ret;
}

int vdev_create_all(struct machine *m, const struct vm_spec *spec)
{
	/*
	 * The IOMMUs first, wherever their lines are: a device decides at
	 * construction how its interrupts travel (an MSI-X vector takes KVM's
	 * irqfd route only without interrupt remapping), so m->iommu must be
	 * there before any device, as it is on the hardware from power-on.
	 */
	for (unsigned pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < spec->nr_vdevs; i++) {
			const struct vdev_spec *vs = &spec->vdevs[i];
			const struct vdev_type *t = vdev_type_lookup(vs->type);
			int ret;

			if ((t && t->is_iommu) != !pass)
				continue;
			ret = vdev_create_one(m, vs, t);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}
