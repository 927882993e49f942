/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Device types of the `vdev` keyword. Each device file defines its
 * struct vdev_type; the table in src/devices/vdev.c lists them, apart from
 * the config keyword table. Adding a device is its file plus one line
 * there, with its options described so the parser checks them, the
 * reference lists them and the resource check sees its ports, MMIO and IRQ.
 */
#ifndef QLITE_VDEV_H
#define QLITE_VDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm_spec.h"

struct machine;

enum vdev_opt_kind {
	VDEV_OPT_STRING,
	VDEV_OPT_PATH,		/* resolved relative to the config file; must be readable */
	VDEV_OPT_NUMBER,	/* decimal or 0x hex */
	VDEV_OPT_SIZE,		/* 512M, 1G */
	VDEV_OPT_BOOL,		/* on|off */
	VDEV_OPT_ENUM,		/* one of choices */
	VDEV_OPT_PIO,		/* base port of span ports */
	VDEV_OPT_MMIO,		/* base guest-physical address of span bytes */
	VDEV_OPT_IRQ,		/* GSI */
	/*
	 * A disk image (a path, resolved as VDEV_OPT_PATH): a regular file,
	 * opened read-write unless the on|off option readonly_opt names is on,
	 * and used by one vdev only (read-only ones may share).
	 */
	VDEV_OPT_IMAGE,
};

struct vdev_opt_desc {
	const char *key;
	enum vdev_opt_kind kind;
	const char *choices;	/* VDEV_OPT_ENUM: "pci|mmio" */
	uint64_t span;		/* VDEV_OPT_PIO/MMIO: bytes decoded from the base */
	const char *span_opt;	/* ...or the option that sets it, span being its default */
	const char *readonly_opt;	/* VDEV_OPT_IMAGE: the option that makes it read-only */
	bool required;		/* the parser refuses a vdev line without it */
	const char *help;
	/*
	 * Optional: the value's own syntax, checked by the parser, so a bad
	 * value is a configuration error (exit status 2) in run and check
	 * alike. 0, or -EINVAL with why filled ("\"tcp:22\": no '-' ...").
	 */
	int (*check)(const char *value, char *why, size_t len);
};

struct vdev_type {
	const char *name;	/* as written after `vdev` */
	const char *help;
	/* Known options, ended by { NULL }; an option not listed is an error. */
	const struct vdev_opt_desc *opts;
	/*
	 * Build the device and register its ranges: 0, or -errno after one
	 * report() (vdev_create_all() puts the vdev line's FILE:LINE before it).
	 */
	int (*create)(struct machine *m, const struct vdev_spec *spec);
	bool is_iommu;		/* it translates the others' DMA and MSIs (intel-iommu) */
};

const struct vdev_type *vdev_type_lookup(const char *name);
unsigned vdev_type_count(void);
const struct vdev_type *vdev_type_at(unsigned i);
/* "e1000, virtio-blk, virtio-net", or "none yet" while the table is empty. */
void vdev_format_known(char *buf, size_t len);

const struct vdev_opt_desc *vdev_type_opt(const struct vdev_type *type, const char *key);
/*
 * How an option of a device is read: from the type's description when it
 * has one, else by its conventional name (file: path, iobase: PIO,
 * addr: MMIO, irq: IRQ, anything else: string). span gets the bytes a
 * PIO/MMIO option decodes, as vs sets them (vs may be NULL: the default);
 * -EINVAL when the option that sets it is not a number.
 */
enum vdev_opt_kind vdev_opt_kind(const struct vdev_type *type, const char *key);
/* Is the option a file (VDEV_OPT_PATH or VDEV_OPT_IMAGE)? */
bool vdev_opt_is_path(const struct vdev_type *type, const char *key);
int vdev_opt_span(const struct vdev_type *type, const struct vdev_spec *vs, const char *key,
		  uint64_t *span);
/* The value of key in a parsed vdev, or NULL. */
const char *vdev_opt_get(const struct vdev_spec *vs, const char *key);

/*
 * Build every vdev of spec on m through the type table: the IOMMUs
 * (is_iommu) first, then the others in order; the one path of `qlite run`
 * and `qlite check`. A failure is reported as
 * "FILE:LINE: message" (or "--vdev: message") and returned as -errno.
 */
int vdev_create_all(struct machine *m, const struct vm_spec *spec);

/* The device files' types, listed in src/devices/vdev.c. */
extern const struct vdev_type isa_debug_exit_vdev;
extern const struct vdev_type ide_vdev;
extern const struct vdev_type virtio_blk_vdev;
extern const struct vdev_type virtio_net_vdev;
extern const struct vdev_type pvpanic_vdev;
extern const struct vdev_type pvpanic_pci_vdev;
extern const struct vdev_type e1000_vdev;
extern const struct vdev_type pc_testdev_vdev;
extern const struct vdev_type pci_testdev_vdev;
extern const struct vdev_type edu_vdev;
extern const struct vdev_type intel_iommu_vdev;

/* For unit tests: use another device table (NULL restores the built-in one). */
void vdev_use_table(const struct vdev_type *types, unsigned n);

#endif
