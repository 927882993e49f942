/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The 32-bit boot guests' entry: one source, three images (meson.build):
 * -DMULTIBOOT an ELF32 with a multiboot header, -DMULTIBOOT -DAOUT the same
 * header with the a.out kludge addresses (made a flat binary by objcopy),
 * -DPVH an ELF32 with the PVH note. All enter here in flat 32-bit protected
 * mode, paging off: %eax the multiboot magic, %ebx the boot information.
 */
#define MB_MAGIC	0x1badb002
#ifdef AOUT
#define MB_FLAGS	0x00010003	/* page-aligned modules, memory info, a.out addresses */
#else
#define MB_FLAGS	0x00000003
#endif

#ifdef MULTIBOOT
	.section .multiboot, "a"
	.balign 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
#ifdef AOUT
	.long mb_header		/* header_addr */
	.long __image_start	/* load_addr */
	.long __load_end	/* load_end_addr */
	.long __bss_end		/* bss_end_addr */
	.long _start		/* entry_addr */
#endif
#endif

#ifdef PVH
	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* namesz */
	.long 4			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start
#endif

	.text
	.code32
	.globl _start
_start:
	mov $stack_top, %esp
	push %ebx
	push %eax
	call boot32_main
1:	hlt
	jmp 1b

#ifdef MULTIBOOT
/*
 * The BIOS probe (boot32.c, `bios` on the command line): copied to RM_ADDR
 * and called there from 32-bit code; it drops to real mode, where the IVT
 * the firmware left serves interrupts, and comes back. In real mode, with
 * interrupts on only while it waits:
 *   1. it polls the BDA tick count at 0x46c until it has moved 3 times
 *      (IRQ 0 through vector 0x08, counted and acknowledged, or it would
 *      move once), for at most ~2^21 reads;
 *   2. with rm_irq14 set, it raises and lowers ISA IRQ 14 through
 *      pc-testdev's line window (0x2000 + line), reads the slave's IRR,
 *      lets the interrupt in (vector 0x76) and polls the IRR until the bit
 *      clears (at most 2^18 reads: `sti; hlt` is not enough under QEMU
 *      on a nested KVM, which may leave it pending past the tick that ends
 *      the hlt), then reads both ISRs and the slave's IRR again: the
 *      handler acknowledged both PICs.
 * Results go to rm_out (struct rm_result in boot32.c).
 */
#define RM_ADDR		0x3000		/* free below 1 MiB under qlite and QEMU alike */
#define RM(x)		((x) - rm_start + RM_ADDR)
#define SEL_CODE16	0x08
#define SEL_DATA16	0x10
#define SEL_CODE32	0x18
#define SEL_DATA32	0x20

/* Every data segment register from %ax (the same bytes in 16- and 32-bit code). */
	.macro data_segments_from_ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	.endm

	.section .rodata
	.globl rm_start, rm_end
	.balign 16
	.code32
rm_start:
	pushal
	movl %esp, RM(rm_esp)
	lgdtl RM(rm_gdtr)
	ljmpl $SEL_CODE16, $RM(1f)
	.code16
1:	movw $SEL_DATA16, %ax
	data_segments_from_ax
	movl %cr0, %eax
	andl $~1, %eax
	movl %eax, %cr0
	ljmpw $0, $RM(2f)
2:	xorw %ax, %ax
	data_segments_from_ax
	movw $RM_ADDR, %sp
	lidtl RM(rm_ivtr)

	movl 0x46c, %ebx
	movl $0x200000, %ecx
	sti
3:	movl 0x46c, %eax
	subl %ebx, %eax
	cmpl $3, %eax
	jae 4f
	decl %ecx
	jnz 3b
4:	cli
	movl %eax, RM(rm_out)		/* ticks seen */

	cmpb $0, RM(rm_irq14)
	je 5f
	movw $0x200e, %dx
	movb $1, %al
	outb %al, %dx
	movb $0, %al
	outb %al, %dx
	inb $0xa0, %al			/* OCW3 selects the IRR after init */
	movb %al, RM(rm_out) + 4
	movl $0x40000, %ecx
	sti
7:	inb $0xa0, %al
	testb $0x40, %al
	jz 8f
	decl %ecx
	jnz 7b
8:	cli
	movb $0x0b, %al			/* OCW3: read the ISR */
	outb %al, $0x20
	outb %al, $0xa0
	inb $0x20, %al
	movb %al, RM(rm_out) + 5
	inb $0xa0, %al
	movb %al, RM(rm_out) + 6
	movb $0x0a, %al			/* OCW3: the IRR again */
	outb %al, $0x20
	outb %al, $0xa0
	inb $0xa0, %al
	movb %al, RM(rm_out) + 7

5:	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $RM(6f)
	.code32
6:	movw $SEL_DATA32, %ax
	data_segments_from_ax
	movl RM(rm_esp), %esp
	popal
	ret

	.balign 8
rm_gdt:
	.quad 0
	.quad 0x00009a000000ffff	/* 16-bit code, base 0, limit 64 KiB */
	.quad 0x000092000000ffff	/* 16-bit data */
	.quad 0x00cf9a000000ffff	/* flat 32-bit code */
	.quad 0x00cf92000000ffff	/* flat 32-bit data */
rm_gdtr:
	.word rm_gdtr - rm_gdt - 1
	.long RM(rm_gdt)
rm_ivtr:
	.word 0x3ff
	.long 0
rm_esp:
	.long 0
	.globl rm_irq14, rm_out
rm_irq14:
	.byte 0
	.balign 4
rm_out:
	.space 8
rm_end:
#endif

	.bss
	.balign 16
	.space 4096
stack_top:
