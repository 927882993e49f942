/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ACPI as qlite writes it (src/boot/acpi.c) and the power-management device
 * the tables describe (src/devices/acpi_pm.c): the PM1a event and control
 * blocks and the PM timer at the ports of QEMU's pc (PIIX4 PM), the SCI on
 * ISA IRQ 9, the S3 sleep type (suspend to RAM, woken by the RTC alarm) and
 * the S5 one that powers the VM off.
 */
#ifndef QLITE_ACPI_H
#define QLITE_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"

/* The PM device's ports, one block of 12 as on QEMU's pc. */
#define ACPI_PM_BASE		0x600
#define ACPI_PM_LEN		12
#define ACPI_PM1_EVT_BLK	0x600	/* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define ACPI_PM1_EVT_LEN	4
#define ACPI_PM1_CNT_BLK	0x604
#define ACPI_PM1_CNT_LEN	2
#define ACPI_PM_TMR_BLK		0x608
#define ACPI_PM_TMR_LEN		4
#define ACPI_SCI_IRQ		9
#define ACPI_PM_TIMER_HZ	3579545ULL
#define ACPI_PM_TIMER_BITS	32	/* the FADT says TMR_VAL_EXT */

/* PM1 status and enable bits (ACPI 6.5, 4.8.3.1). */
#define ACPI_PM1_TMR		(1u << 0)	/* timer's most significant bit toggled */
#define ACPI_PM1_BM		(1u << 4)
#define ACPI_PM1_GBL		(1u << 5)
#define ACPI_PM1_PWRBTN		(1u << 8)
#define ACPI_PM1_SLPBTN		(1u << 9)
#define ACPI_PM1_RTC		(1u << 10)
#define ACPI_PM1_WAK		(1u << 15)
/* PM1 control bits. */
/* SCI_EN is always set: there is no SMI_CMD, the OS owns the hardware from the start. */
#define ACPI_PM1_CNT_SCI_EN	(1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP	(7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN	(1u << 13)
/* The DSDT's \_S5 and what the PM1 control block takes as "power off" (QEMU's value too). */
#define ACPI_S5_SLP_TYP		0
/* The DSDT's \_S3, suspend to RAM (QEMU's PIIX4 value too). */
#define ACPI_S3_SLP_TYP		1

/*
 * Where the tables go: the RSDP in the BIOS area's F segment, where Linux
 * and kvm-unit-tests scan for it (the MP table takes the segment's start),
 * and the tables it points to in the E segment. e820 reserves both.
 */
#define ACPI_RSDP_ADDR		0xfe000
#define ACPI_TABLES_START	0xe0000
#define ACPI_TABLES_END		0xf0000

#define ACPI_MAX_TABLES		10

struct acpi_table_info {
	char sig[9];		/* "RSD PTR " for the RSDP, else the 4-letter signature */
	uint64_t addr;
	uint32_t len;
};

struct acpi_tables {
	uint64_t rsdp;		/* guest-physical address of the RSDP; 0 when none written */
	unsigned n;
	struct acpi_table_info t[ACPI_MAX_TABLES];	/* the RSDP first */
};

/*
 * The host address width the DMAR table gives (bits of a DMA's physical
 * address), which intel-iommu also takes as the width beyond which a
 * table's address bits are reserved.
 */
#define ACPI_DMAR_HAW_BITS	39

/* The DMA remapping unit the DMAR table describes (intel-iommu, machine->iommu). */
struct acpi_iommu {
	uint64_t base;		/* its register page */
	bool intremap;		/* interrupt remapping: the DMAR flag and the IOAPIC's scope */
};

/*
 * Write RSDP, RSDT, XSDT, FADT, FACS, MADT (nr_cpus local APICs, the IOAPIC)
 * and the DSDT (\_S3, \_S5, \_SB.PCI0 with its resources and INTx routes,
 * the ISA devices: COM1, RTC, keyboard and mouse, and fw_cfg when fw_cfg)
 * into gm, and a DMAR table when iommu is not NULL; out lists them.
 * Reports its errors; -ENOSPC when the area is not RAM.
 */
int acpi_write(struct guest_mem *gm, unsigned nr_cpus, bool fw_cfg, const struct acpi_iommu *iommu,
	       struct acpi_tables *out);

/*
 * Where the OS wants to resume after S3, as the FACS at facs says (ACPI 6.5,
 * 5.2.10): X_Firmware_Waking_Vector when not 0, entered in 32-bit protected
 * mode (a 64-bit environment is not offered: 64BIT_WAKE_SUPPORTED_F is
 * clear), else Firmware_Waking_Vector in real mode; NONE when both are 0.
 * -EINVAL, reported, for a FACS no longer there or a vector qlite cannot
 * enter (outside RAM, a real-mode one at or above 1 MiB, 64BIT_WAKE_F).
 */
struct acpi_wake {
	enum { ACPI_WAKE_NONE, ACPI_WAKE_REAL, ACPI_WAKE_PROTECTED32 } mode;
	uint64_t addr;
};
int acpi_waking_vector(const struct guest_mem *gm, uint64_t facs, struct acpi_wake *out);

/* A checksum byte that makes len bytes at p sum to 0 (mod 256). */
uint8_t acpi_checksum(const void *p, size_t len);

/* The EISA id Name(_HID, EisaId("PNP0A03")) encodes, or 0 for a malformed id. */
uint32_t acpi_eisaid(const char *id);

#endif
