/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fixed addresses of the PC platform every qlite VM has, named once: the
 * firmware tables, the device tree, `qlite check`, the overlap checks and
 * KVM's interrupt routing all read them from here.
 */
#ifndef QLITE_PLATFORM_H
#define QLITE_PLATFORM_H

/* In-kernel interrupt controllers (KVM_CREATE_IRQCHIP). */
#define IOAPIC_BASE		0xfec00000ULL
#define IOAPIC_SIZE		0x1000ULL
#define IOAPIC_NR_PINS		24
#define LAPIC_BASE		0xfee00000ULL
#define LAPIC_SIZE		0x1000ULL
#define ISA_NR_IRQS		16	/* GSIs the PICs share with the IOAPIC */

#endif
