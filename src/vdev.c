// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device types the `vdev` keyword knows. One entry per device; the
 * device issues add theirs here, e.g.
 *
 *	{ "e1000", "Intel 82540EM NIC on PCI", e1000_opts, e1000_create },
 *
 * with e1000_opts describing each option (kind, span of its ports/MMIO).
 */
#include <stdio.h>
#include <string.h>

#include "qlite/util.h"
#include "qlite/vdev.h"

/* Ended by { NULL }: new devices go above that line. */
static const struct vdev_type builtin_types[] = {
	{ .name = NULL }
};

static const struct vdev_type *types = builtin_types;
static unsigned nr_types = ARRAY_SIZE(builtin_types) - 1;

void vdev_use_table(const struct vdev_type *table, unsigned n)
{
	types = table ? table : builtin_types;
	nr_types = table ? n : ARRAY_SIZE(builtin_types) - 1;
}

unsigned vdev_type_count(void)
{
	return nr_types;
}

const struct vdev_type *vdev_type_at(unsigned i)
{
	return i < nr_types ? &types[i] : NULL;
}

const struct vdev_type *vdev_type_lookup(const char *name)
{
	for (unsigned i = 0; i < nr_types; i++)
		if (!strcmp(types[i].name, name))
			return &types[i];
	return NULL;
}

void vdev_format_known(char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (!nr_types) {
		snprintf(buf, len, "none yet");
		return;
	}
	for (unsigned i = 0; i < nr_types && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", types[i].name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

const struct vdev_opt_desc *vdev_type_opt(const struct vdev_type *type, const char *key)
{
	if (!type || !type->opts)
		return NULL;
	for (const struct vdev_opt_desc *d = type->opts; d->key; d++)
		if (!strcmp(d->key, key))
			return d;
	return NULL;
}

enum vdev_opt_kind vdev_opt_kind(const struct vdev_type *type, const char *key, uint64_t *span)
{
	const struct vdev_opt_desc *d = vdev_type_opt(type, key);

	if (span)
		*span = d && d->span ? d->span : 1;
	if (d)
		return d->kind;
	if (!strcmp(key, "file"))
		return VDEV_OPT_PATH;
	if (!strcmp(key, "iobase"))
		return VDEV_OPT_PIO;
	if (!strcmp(key, "addr"))
		return VDEV_OPT_MMIO;
	if (!strcmp(key, "irq"))
		return VDEV_OPT_IRQ;
	return VDEV_OPT_STRING;
}

const char *vdev_opt_get(const struct vdev_spec *vs, const char *key)
{
	for (unsigned i = 0; i < vs->nr_opts; i++)
		if (!strcmp(vs->opts[i].key, key))
			return vs->opts[i].value;
	return NULL;
}
