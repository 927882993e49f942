// SPDX-License-Identifier: GPL-2.0-only
/*
 * What firmware hands the OS's waking vector after S3 (ACPI 6.5, 5.2.10,
 * the FACS): real mode with CS:IP = (vector >> 4):(vector & 0xf), or, for
 * X_Firmware_Waking_Vector, 32-bit protected mode with paging off and flat
 * 4 GiB segments. Either way interrupts are off and caches on; the rest of
 * the vCPU is as reset (the registers come in holding the reset state).
 * No GDT is written (the guest's RAM is the OS's): the 32-bit segments are
 * flat in the vCPU's hidden descriptor state, and the OS loads its own GDT
 * before it reloads a selector, as it must after any firmware.
 */
#include "qlite/acpi.h"
#include "qlite/boot.h"

#define X86_CR0_PE	0x1ULL
#define X86_CR0_NW	(1ULL << 29)
#define X86_CR0_CD	(1ULL << 30)
#define SEG_CODE_RX	0xb	/* execute/read, accessed */
#define SEG_DATA_RW	0x3	/* read/write, accessed */
#define WAKE_CODE32_SEL	0x08
#define WAKE_DATA32_SEL	0x10

static struct kvm_segment flat32(uint16_t selector, uint8_t type)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
}

void boot_wake_regs(const struct acpi_wake *w, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	sregs->cr0 &= ~(X86_CR0_CD | X86_CR0_NW);
	regs->rflags = 0x2;
	if (w->mode == ACPI_WAKE_PROTECTED32) {
		sregs->cs = flat32(WAKE_CODE32_SEL, SEG_CODE_RX);
		sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss =
			flat32(WAKE_DATA32_SEL, SEG_DATA_RW);
		sregs->cr0 |= X86_CR0_PE;
		regs->rip = w->addr;
		return;
	}
	/* Real mode: the reset state's segments, CS moved to the vector's paragraph. */
	sregs->cs.selector = w->addr >> 4;
	sregs->cs.base = w->addr & ~0xfULL;
	regs->rip = w->addr & 0xf;
}
