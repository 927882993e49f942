/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel loading: PVH ELF (64- and 32-bit), bzImage (64-bit boot protocol),
 * multiboot v1 (ELF32 or the a.out kludge); e820 map, MP table (ACPI: acpi.h).
 */
#ifndef QLITE_BOOT_H
#define QLITE_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "guest_mem.h"

/* Fixed low-memory layout used by the loaders (all below 1 MiB, none of it in the e820 RAM the guest is told about is overwritten later). */
#define BOOT_GDT_ADDR		0x0500
#define BOOT_INFO_ADDR		0x7000	/* hvm_start_info, boot_params (zero page), multiboot info */
#define BOOT_MEMMAP_ADDR	0x8000	/* PVH or multiboot memory map */
#define BOOT_MODLIST_ADDR	0x8800	/* PVH or multiboot module list */
#define BOOT_MODLIST_SIZE	0x800
#define BOOT_PML4_ADDR		0x9000	/* page tables for the 64-bit boot protocol */
#define BOOT_PDPT_ADDR		0xa000
#define BOOT_PD_ADDR		0xb000	/* four pages: 4 GiB of 2 MiB pages */
#define BOOT_CMDLINE_ADDR	0x20000
#define BOOT_CMDLINE_MAX	0x10000
#define BOOT_STRINGS_ADDR	0x30000	/* module command lines, the boot loader's name */
#define BOOT_STRINGS_MAX	0x10000
#define BOOT_MAX_MODULES	64	/* what the module list area holds in either protocol */
#define EBDA_START		0x9fc00
/* The lowest address a multiboot kernel may load at: above the IVT and qlite's boot GDT. */
#define BOOT_LOW_KERNEL_MIN	0x1000
#define BIOS_START		0xf0000	/* MP table lives here, the ACPI RSDP at its end */
/* A multiboot kernel's BIOS state (bios.c): the IVT at 0, the BDA, real-mode handlers. */
#define BIOS_IVT_SIZE		0x400
#define BIOS_BDA_ADDR		0x400
#define BIOS_BDA_SIZE		0x100
#define BIOS_STUBS_ADDR		0xff000	/* F000:F000, above the RSDP at 0xfe000 */
#define BIOS_STUBS_SIZE		0x100
#define HIGH_MEM_START		0x100000

#define E820_MAX_ENTRIES	8
#define E820_RAM		1
#define E820_RESERVED		2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

enum boot_kind { BOOT_PVH, BOOT_LINUX64, BOOT_MULTIBOOT };

struct boot_image {
	const uint8_t *data;
	size_t len;
	const char *path;	/* for messages */
};

/* A module: the initrd, or one of several for a multiboot or PVH kernel. */
struct boot_module {
	struct boot_image img;
	const char *cmdline;	/* the module's string; NULL: its path */
};

struct boot_result {
	enum boot_kind kind;
	bool is_linux;		/* the image is a Linux kernel (Linux ELF note or bzImage) */
	uint64_t entry;		/* guest-physical entry point */
	uint64_t boot_info;	/* %ebx (PVH, multiboot) or %rsi (Linux 64-bit) */
	uint64_t kernel_end;	/* first byte after the loaded kernel */
};

/* The e820 map for the RAM in gm; returns the number of entries. */
unsigned e820_build(const struct guest_mem *gm, struct e820_entry *e, unsigned max);

/*
 * Image probing and loading. They return 0 or a negative errno and report
 * their one-line message themselves, the image's path first: -ENOEXEC for
 * a file that is not a kernel we can boot, -EINVAL for a corrupt one,
 * -E2BIG for a command line too long, -ENOSPC when guest RAM is too small,
 * -ENOMEM when the host is out of memory.
 */
int boot_probe_kind(const struct boot_image *img, enum boot_kind *kind);
/* Is this image a Linux kernel (bzImage, or an ELF with a "Linux" note)? Silent. */
bool boot_image_is_linux(const struct boot_image *img);
bool elf_is_linux(const struct boot_image *img);
/* An empty initrd (len 0) is no initrd: the guest is told of none. */
int boot_load(struct guest_mem *gm, const struct boot_image *kernel, const struct boot_image *initrd,
	      const char *cmdline, struct boot_result *res);
/*
 * The same with modules in order (the initrd, when there is one, first; an
 * empty module is a module): a bzImage takes at most one, a multiboot or
 * PVH kernel up to BOOT_MAX_MODULES.
 */
int boot_load_mods(struct guest_mem *gm, const struct boot_image *kernel,
		   const struct boot_module *mods, unsigned nr_mods, const char *cmdline,
		   struct boot_result *res);

int pvh_load(struct guest_mem *gm, const struct boot_image *kernel, const struct boot_module *mods,
	     unsigned nr_mods, const char *cmdline, struct boot_result *res);
int bzimage_load(struct guest_mem *gm, const struct boot_image *kernel, const struct boot_image *initrd,
		 const char *cmdline, struct boot_result *res);
/*
 * Multiboot v1, silent: 0 and the offset of the first valid header in the
 * first 8 KiB; -EBADMSG and the offset of the first magic when every magic
 * there has a wrong checksum; -ENOEXEC when there is none.
 */
int multiboot_find(const struct boot_image *img, size_t *off);
int multiboot_load(struct guest_mem *gm, const struct boot_image *kernel, size_t hdr_off,
		   const struct boot_module *mods, unsigned nr_mods, const char *cmdline,
		   struct boot_result *res);
/*
 * Tell the booted kernel where the ACPI RSDP is: start_info's rsdp_paddr
 * (PVH), boot_params' acpi_rsdp_addr (bzImage). -EINVAL when res's boot
 * structure is not in gm.
 */
int boot_set_rsdp(struct guest_mem *gm, const struct boot_result *res, uint64_t rsdp);
int pvh_set_rsdp(struct guest_mem *gm, uint64_t start_info, uint64_t rsdp);
int bzimage_set_rsdp(struct guest_mem *gm, uint64_t boot_params, uint64_t rsdp);
/* Where an initrd of len bytes goes: highest 4 KiB-aligned spot below limit, above kernel_end. Silent; -ENOSPC. */
int initrd_place(const struct guest_mem *gm, uint64_t kernel_end, uint64_t limit, size_t len,
		 uint64_t *gpa);

/* Initial BSP state for the kind of entry (PVH and multiboot: flat 32-bit, paging off); boot_sregs() reports -ENOSPC (RAM too small). */
void boot_regs(const struct boot_result *res, struct kvm_regs *regs);
int boot_sregs(struct guest_mem *gm, const struct boot_result *res, struct kvm_sregs *sregs);

/*
 * The BSP's state at the OS's ACPI waking vector (src/boot/wake.c): regs and
 * sregs hold the vCPU's reset state on entry and the waking state on return.
 */
struct acpi_wake;
void boot_wake_regs(const struct acpi_wake *w, struct kvm_regs *regs, struct kvm_sregs *sregs);

/*
 * What SeaBIOS leaves for a multiboot kernel under QEMU (bios.c): the PICs'
 * vectors, masks and ELCR, PIT channel 0, and in RAM a real-mode IVT whose
 * vectors reach handlers in the BIOS area, and the BDA's tick count.
 */
#define BIOS_IRQ0_VECTOR	0x08
#define BIOS_IRQ8_VECTOR	0x70
#define BIOS_TICKS_PER_DAY	0x1800b0	/* 18.2 Hz ticks a BIOS counts in a day */

struct machine;
struct machine_pic_setup;
struct machine_pit_setup;
extern const struct machine_pic_setup bios_pic;
extern const struct machine_pit_setup bios_pit;

/* One instruction of a handler: its bytes and what they are (objdump -M intel, i8086). */
#define BIOS_INSN_MAX		9
struct bios_insn {
	uint8_t len;
	uint8_t bytes[BIOS_INSN_MAX];
	const char *text;
};

enum { BIOS_STUB_IRET, BIOS_STUB_MASTER, BIOS_STUB_SLAVE, BIOS_STUB_TIMER, BIOS_NR_STUBS };

/* A handler at BIOS_STUBS_ADDR + offset: its instructions in order. */
struct bios_stub {
	const char *name;
	uint16_t offset;
	const struct bios_insn *insns;
	unsigned nr;
};
extern const struct bios_stub bios_stubs[BIOS_NR_STUBS];
size_t bios_stub_len(const struct bios_stub *s);

/* The IVT, the handlers and the BDA (ticks since midnight) in gm; reports -ENOSPC. */
int bios_write(struct guest_mem *gm, uint32_t ticks);
/* The BDA tick count at a time of day, as a BIOS sets it from the RTC. */
uint32_t bios_ticks_at(uint64_t seconds_since_midnight);
/* bios_pic and bios_pit through m's accel ops; none (qlite check): nothing to do. Reports. */
int bios_setup_chips(struct machine *m);

/* MP table for nr_cpus CPUs, the IOAPIC, ISA IRQs and PCI INTx routes; reports its errors. */
struct pci_host;
int mptable_write(struct guest_mem *gm, unsigned nr_cpus, const struct pci_host *pci);

#endif
