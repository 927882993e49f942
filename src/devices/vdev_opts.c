// SPDX-License-Identifier: GPL-2.0-only
/*
 * Options of a `vdev` line: how each is read (its kind, the span of its
 * ports or MMIO) and its value. Used by the parser, the overlap checks and
 * the device constructors alike.
 */
#include <errno.h>
#include <string.h>

#include "qlite/config.h"
#include "qlite/vdev.h"

const struct vdev_opt_desc *vdev_type_opt(const struct vdev_type *type, const char *key)
{
	if (!type || !type->opts)
		return NULL;
	for (const struct vdev_opt_desc *d = type->opts; d->key; d++)
		if (!strcmp(d->key, key))
			return d;
	return NULL;
}

int vdev_opt_span(const struct vdev_type *type, const struct vdev_spec *vs, const char *key,
		  uint64_t *span)
{
	const struct vdev_opt_desc *d = vdev_type_opt(type, key);
	const char *set = d && d->span_opt && vs ? vdev_opt_get(vs, d->span_opt) : NULL;

	*span = d && d->span ? d->span : 1;
	if (set && (config_parse_u64(set, span) || !*span))
		return -EINVAL;
	return 0;
}

enum vdev_opt_kind vdev_opt_kind(const struct vdev_type *type, const char *key)
{
	const struct vdev_opt_desc *d = vdev_type_opt(type, key);

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

bool vdev_opt_is_path(const struct vdev_type *type, const char *key)
{
	enum vdev_opt_kind kind = vdev_opt_kind(type, key);

	return kind == VDEV_OPT_PATH || kind == VDEV_OPT_IMAGE;
}

const char *vdev_opt_get(const struct vdev_spec *vs, const char *key)
{
	for (unsigned i = 0; i < vs->nr_opts; i++)
		if (!strcmp(vs->opts[i].key, key))
			return vs->opts[i].value;
	return NULL;
}
