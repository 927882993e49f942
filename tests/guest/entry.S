/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * entry.S - everything that runs in ring 0, plus the static tables.
 *
 * Ring 0 is emulated instruction by instruction on the hosts we test on,
 * so it is kept to a few hundred plain instructions per CPU: the page
 * tables and GDT are static data, only the IDT and the per-CPU TSS are
 * filled in at run time, and then each CPU drops to ring 3 (IOPL=3) where
 * all scenario code runs natively.
 *
 * BSP:  PVH entry (32-bit, paging off, %ebx = hvm_start_info) -> long mode.
 * APs:  SIPI -> tramp_start (real mode, copied to TRAMP_ADDR by smp.c)
 *       -> ap_entry32 -> the same long-mode path with their own index.
 */
#include "guest.h"

/* PVH: Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY with the 32-bit entry point. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* namesz: "Xen\0" */
	.long 4			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long entry32

	.section .text.entry, "ax"
	.code32
	.globl entry32
entry32:
	cli
	cld
	movl %ebx, boot_info_pa
	xorl %edi, %edi			/* CPU index 0 */
	jmp long_mode_enter

	.globl ap_entry32
ap_entry32:
	movl $SEL_KDATA, %eax		/* the trampoline left real-mode bases */
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	cld
	movl $1, %edi
	lock xaddl %edi, next_cpu	/* first come, first index */

long_mode_enter:
	lgdt gdtr
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $SEL_KCODE, $entry64

	.code64
entry64:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	cmpl $MAX_CPUS, %edi
	jae park			/* no stack for it: stay halted */

	leal 1(%rdi), %eax		/* ring-0 stack top of this CPU */
	shll $KSTACK_SHIFT, %eax
	leaq kstacks(%rax), %rsp

	/*
	 * TSS: rsp0 for exceptions taken in ring 3, and an I/O permission
	 * bitmap allowing every port. IOPL=3 alone lets ring 3 use in/out on
	 * hardware, but PVM hosts run ring 3 with the real IOPL=0, trap each
	 * in/out and let KVM's emulator decide, and it honours only the
	 * bitmap. The bitmap is zero (bss); the byte after it must be 0xff.
	 */
	imull $TSS_STRIDE, %edi, %eax
	leaq tss_array(%rax), %rdx
	movq %rsp, 4(%rdx)
	movw $TSS_SIZE, 102(%rdx)
	movb $0xff, TSS_LIMIT(%rdx)

	/* Its 16-byte GDT descriptor: available 64-bit TSS (type 9), present. */
	movl %edi, %eax
	shll $4, %eax
	leaq gdt_tss(%rax), %rsi
	movl %edx, %ecx
	shll $16, %ecx
	orl $TSS_LIMIT, %ecx
	movl %ecx, (%rsi)
	movl %edx, %ecx
	shrl $16, %ecx
	andl $0xff, %ecx
	orl $0x8900, %ecx
	movl %edx, %eax
	andl $0xff000000, %eax
	orl %eax, %ecx
	movl %ecx, 4(%rsi)
	movq $0, 8(%rsi)
	movl %edi, %eax
	shll $4, %eax
	addl $SEL_TSS0, %eax
	ltr %ax

	/*
	 * The BSP builds the IDT and masks the 8259s: firmware may have left
	 * the timer on, and PVM hosts treat ring 3 as interrupts-enabled
	 * whatever RFLAGS.IF says.
	 */
	testl %edi, %edi
	jnz 1f
	call idt_build
	call hv_tsc_probe
	movb $0xff, %al
	outb %al, $0x21
	outb %al, $0xa1
1:	lidt idtr

	/* Drop to ring 3 with IOPL=3 and interrupts off; %edi survives. */
	leal 1(%rdi), %eax
	shll $USTACK_SHIFT, %eax
	leaq ustacks(%rax), %rcx
	pushq $(SEL_UDATA | 3)
	pushq %rcx
	pushq $RFLAGS_IOPL3
	pushq $(SEL_UCODE | 3)
	pushq $ring3_entry
	iretq

/*
 * The hypervisor's TSC rate, CPUID 0x40000010 EAX in kHz (VMware's leaf, which
 * KVM VMMs fill too), kept in hv_tsc_khz for timer.c. Read here because ring-3
 * cpuid runs natively on PVM hosts and shows the host's leaves.
 */
hv_tsc_probe:
	pushq %rbx
	movl $1, %eax
	cpuid
	btl $31, %ecx			/* no hypervisor bit: 0x40000000 means nothing */
	jnc 1f
	movl $0x40000000, %eax
	cpuid
	cmpl $0x40000010, %eax		/* max hypervisor leaf */
	jb 1f
	cmpl $0x400000ff, %eax
	ja 1f
	movl $0x40000010, %eax
	cpuid
	movl %eax, hv_tsc_khz(%rip)
1:	popq %rbx
	ret

/* Interrupt gates (DPL 0) for the 32 exception vectors. */
idt_build:
	leaq idt(%rip), %rsi
	movl $exc_stubs, %eax
	xorl %ecx, %ecx
2:	movl %eax, %edx
	andl $0xffff, %edx
	orl $(SEL_KCODE << 16), %edx
	movl %edx, (%rsi)
	movl %eax, %edx
	andl $0xffff0000, %edx
	orl $0x8e00, %edx
	movl %edx, 4(%rsi)
	movq $0, 8(%rsi)
	addl $EXC_STUB_SIZE, %eax
	addq $16, %rsi
	incl %ecx
	cmpl $NUM_VECTORS, %ecx
	jb 2b
	ret

/* One stub per vector, EXC_STUB_SIZE apart; a dummy error code where the CPU pushes none. */
	.balign EXC_STUB_SIZE
exc_stubs:
	.set vec, 0
	.rept NUM_VECTORS
	.balign EXC_STUB_SIZE
	.if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
	.else
	pushq $0
	.endif
	pushq $vec
	jmp exc_common
	.set vec, vec + 1
	.endr

exc_common:
	movq %rsp, %rdi			/* struct trap_frame */
	andq $-16, %rsp
	call trap_handler		/* does not return */

	.globl park
park:
	cli
	hlt
	jmp park

/* Ring 3 starts here: CPU 0 runs the scenarios, the others check in. */
ring3_entry:
	testl %edi, %edi
	jnz 1f
	call guest_main
	jmp guest_park
1:	call ap_main

/*
 * Ring 3 cannot halt; its hlt raises #GP, and trap_handler parks the CPU in
 * ring 0 (cli; hlt) when the fault is at park_hlt.
 */
	.globl guest_park, park_hlt
guest_park:
park_hlt:
	hlt
	jmp park_hlt

/* AP trampoline: copied to TRAMP_ADDR, entered in real mode at CS=TRAMP_ADDR>>4, IP=0. */
	.code16
	.globl tramp_start, tramp_end
tramp_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdtr - tramp_start
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_KCODE32, $ap_entry32
	.balign 4
tramp_gdtr:
	.word gdt_end - gdt - 1
	.long gdt
tramp_end:
	.code64

	.data
	.globl boot_info_pa, next_cpu
boot_info_pa:
	.quad 0
next_cpu:
	.long 1

	.balign 16
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08 ring-0 code, 64-bit */
	.quad 0x00cf93000000ffff	/* 0x10 ring-0 data */
	.quad 0x00cff3000000ffff	/* 0x18 ring-3 data */
	.quad 0x00affb000000ffff	/* 0x20 ring-3 code, 64-bit */
	.quad 0x00cf9b000000ffff	/* 0x28 ring-0 code, 32-bit */
gdt_tss:
	.fill MAX_CPUS * 2, 8, 0	/* 0x30 + 16 * cpu: filled in entry64 */
gdt_end:

	.balign 8
	.word 0
gdtr:
	.word gdt_end - gdt - 1
	.quad gdt
	.word 0
idtr:
	.word IDT_VECTORS * 16 - 1
	.quad idt

/*
 * Identity map with 2 MiB pages, all user-accessible: 0..1 GiB (RAM) and
 * 3..4 GiB uncached (PCI MMIO window, IOAPIC, LAPIC).
 */
	.section .data.pagetables, "aw"
	.balign 4096
pml4:
	.quad pdpt + 0x7
	.fill 511, 8, 0
pdpt:
	.quad pd_low + 0x7
	.quad 0
	.quad 0
	.quad pd_high + 0x7
	.fill 508, 8, 0
pd_low:
	.set i, 0
	.rept 512
	.quad (i << 21) | 0x87		/* P RW U PS */
	.set i, i + 1
	.endr
pd_high:
	.set i, 0
	.rept 512
	.quad (0xc0000000 + (i << 21)) | 0x9f	/* P RW U PWT PCD PS */
	.set i, i + 1
	.endr

	.bss
	.balign 4096
kstacks:
	.skip MAX_CPUS << KSTACK_SHIFT
ustacks:
	.skip MAX_CPUS << USTACK_SHIFT
	.balign 16
tss_array:
	.skip MAX_CPUS * TSS_STRIDE
	.balign 16
	.globl idt
idt:
	.skip IDT_VECTORS * 16		/* past the exceptions: not present until irq.c fills one */

	.section .note.GNU-stack, "", @progbits
