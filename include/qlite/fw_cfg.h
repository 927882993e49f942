/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * QEMU's firmware configuration device (fw_cfg) at QEMU's x86 ports: a
 * selector, a byte-wide data port and the DMA interface (src/devices/fw_cfg.c).
 * The platform creates it empty but for the items that never change; the
 * loader adds what it knows once the kernel is in RAM (src/vm/load.c).
 * Items are added before any vCPU runs and never change afterwards.
 */
#ifndef QLITE_FW_CFG_H
#define QLITE_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"

#define FW_CFG_PORT_SEL		0x510	/* 16-bit write: select an item */
#define FW_CFG_PORT_DATA	0x511	/* 8-bit read: the next byte of it */
#define FW_CFG_PORT_DMA		0x514	/* 64-bit big-endian address of a FWCfgDmaAccess */

/* Selector keys, as QEMU numbers them (include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_ID		0x01
#define FW_CFG_UUID		0x02
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NOGRAPHIC	0x04
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_BOOT_MENU	0x0e
#define FW_CFG_MAX_CPUS		0x0f
#define FW_CFG_CMDLINE_ADDR	0x13
#define FW_CFG_CMDLINE_SIZE	0x14
#define FW_CFG_CMDLINE_DATA	0x15
#define FW_CFG_FILE_DIR		0x19
#define FW_CFG_FILE_FIRST	0x20
#define FW_CFG_FILE_SLOTS	0x20	/* QEMU's default for pc */
#define FW_CFG_ARCH_LOCAL	0x8000
#define FW_CFG_ENTRY_MASK	0x3fff	/* bit 14 (the old write flag) is ignored */

/* FW_CFG_ID */
#define FW_CFG_VERSION		0x01
#define FW_CFG_VERSION_DMA	0x02

/* FWCfgDmaAccess.control (big-endian in guest RAM; the select key in the top 16 bits). */
#define FW_CFG_DMA_ERROR	0x01
#define FW_CFG_DMA_READ		0x02
#define FW_CFG_DMA_SKIP		0x04
#define FW_CFG_DMA_SELECT	0x08
#define FW_CFG_DMA_WRITE	0x10
#define FW_CFG_DMA_SIGNATURE	"QEMU CFG"	/* what reads of the DMA port return */

#define FW_CFG_FILE_NAME_MAX	56	/* FWCfgFile.name, with its NUL */
#define FW_CFG_FILE_DIR_SIZE	(4 + 64 * FW_CFG_FILE_SLOTS)

struct fw_cfg;

/*
 * Claim the ports and add the items QEMU's pc always has: signature, ID,
 * UUID (zeros), NOGRAPHIC, BOOT_MENU, etc/boot-fail-wait, an empty bootorder.
 * Sets m->fw_cfg. 0 or -errno, reported.
 */
int fw_cfg_create(struct machine *m);

/* An item under a numbered key; data is copied. -EEXIST when the key has one, -EINVAL for a bad key. */
int fw_cfg_add_bytes(struct fw_cfg *fw, uint16_t key, const void *data, size_t len);
/* Little-endian numbers, as QEMU's fw_cfg_add_i16/i32/i64. */
int fw_cfg_add_le(struct fw_cfg *fw, uint16_t key, uint64_t value, unsigned len);
/*
 * A named file in FW_CFG_FILE_DIR; the directory stays sorted by name, as
 * QEMU's current machines keep it, so selectors follow the names. -EEXIST for
 * a name taken, -ENOSPC when every slot is, -ENAMETOOLONG.
 */
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, size_t len);

#endif
