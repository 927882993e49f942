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

	.bss
	.balign 16
	.space 4096
stack_top:
