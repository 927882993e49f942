// SPDX-License-Identifier: GPL-2.0-only
/*
 * Initial BSP state: flat 32-bit protected mode, paging off, for PVH and
 * multiboot (EAX = 0x2BADB002 says which to the kernel), long mode with
 * identity-mapped page tables for the Linux 64-bit protocol. The GDT is
 * written to guest memory too, so that a reload of any selector finds the
 * same descriptor the vCPU was given.
 */
#include <errno.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/util.h"

#define GDT_CODE32	1
#define GDT_CODE64	2
#define GDT_DATA	3
#define GDT_TSS		4
#define GDT_ENTRIES	5

#define MULTIBOOT_BOOTLOADER_MAGIC	0x2badb002

#define X86_CR0_PE	0x1ULL
#define X86_CR0_ET	0x10ULL
#define X86_CR0_PG	0x80000000ULL
#define X86_CR4_PAE	0x20ULL
#define EFER_LME	0x100ULL
#define EFER_LMA	0x400ULL

/* An 8-byte descriptor from base/limit/flags as in the SDM's figure 3-8. */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) | ((uint64_t)(base & 0x00ffffff) << 16) |
	       (limit & 0xffff);
}

static struct kvm_segment seg_from_gdt(uint64_t e, unsigned index)
{
	return (struct kvm_segment){
		.base = ((e >> 16) & 0xffffff) | (((e >> 56) & 0xff) << 24),
		.limit = (((e >> 48) & 0xf) << 16 | (e & 0xffff)) *
			 (((e >> 55) & 1) ? 4096 : 1) + (((e >> 55) & 1) ? 4095 : 0),
		.selector = index * 8,
		.type = (e >> 40) & 0xf,
		.present = (e >> 47) & 1,
		.dpl = (e >> 45) & 3,
		.db = (e >> 54) & 1,
		.s = (e >> 44) & 1,
		.l = (e >> 53) & 1,
		.g = (e >> 55) & 1,
		.avl = (e >> 52) & 1,
	};
}

void boot_regs(const struct boot_result *res, struct kvm_regs *regs)
{
	memset(regs, 0, sizeof(*regs));
	regs->rflags = 0x2;
	regs->rip = res->entry;
	switch (res->kind) {
	case BOOT_MULTIBOOT:
		regs->rax = MULTIBOOT_BOOTLOADER_MAGIC;
		regs->rbx = res->boot_info;
		break;
	case BOOT_PVH:
		regs->rbx = res->boot_info;
		break;
	case BOOT_LINUX64:
		regs->rsi = res->boot_info;
		break;
	}
}

static int write_page_tables(struct guest_mem *gm)
{
	uint64_t *pml4 = guest_mem_ptr(gm, BOOT_PML4_ADDR, 4096);
	uint64_t *pdpt = guest_mem_ptr(gm, BOOT_PDPT_ADDR, 4096);
	uint64_t *pd = guest_mem_ptr(gm, BOOT_PD_ADDR, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return -ENOSPC;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT_ADDR | 0x3;			/* present, writable */
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * 4096) | 0x3;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* present, writable, 2 MiB page */
	return 0;
}

int boot_sregs(struct guest_mem *gm, const struct boot_result *res, struct kvm_sregs *sregs)
{
	uint64_t gdt[GDT_ENTRIES] = {
		[GDT_CODE32] = gdt_entry(0xc09b, 0, 0xfffff),
		[GDT_CODE64] = gdt_entry(0xa09b, 0, 0xfffff),
		[GDT_DATA] = gdt_entry(0xc093, 0, 0xfffff),
		[GDT_TSS] = gdt_entry(0x008b, 0, 0x67),
	};
	uint64_t *g = guest_mem_ptr(gm, BOOT_GDT_ADDR, sizeof(gdt));
	struct kvm_segment data;

	if (!g)
		goto too_small;
	memcpy(g, gdt, sizeof(gdt));
	sregs->gdt.base = BOOT_GDT_ADDR;
	sregs->gdt.limit = sizeof(gdt) - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;

	data = seg_from_gdt(gdt[GDT_DATA], GDT_DATA);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr = seg_from_gdt(gdt[GDT_TSS], GDT_TSS);
	sregs->ldt = (struct kvm_segment){ .type = 2, .present = 1, .limit = 0xffff };

	if (res->kind == BOOT_PVH || res->kind == BOOT_MULTIBOOT) {
		sregs->cs = seg_from_gdt(gdt[GDT_CODE32], GDT_CODE32);
		sregs->cr0 = X86_CR0_PE | X86_CR0_ET;
		sregs->cr4 = 0;
		sregs->efer = 0;
		return 0;
	}
	if (write_page_tables(gm) < 0)
		goto too_small;
	sregs->cs = seg_from_gdt(gdt[GDT_CODE64], GDT_CODE64);
	sregs->cr3 = BOOT_PML4_ADDR;
	sregs->cr4 = X86_CR4_PAE;
	sregs->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sregs->efer = EFER_LME | EFER_LMA;
	return 0;

too_small:
	return report(-ENOSPC, "guest RAM too small for the boot structures");
}
