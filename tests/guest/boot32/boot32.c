// SPDX-License-Identifier: GPL-2.0-only
/*
 * A tiny 32-bit guest that checks what its boot loader gave it and says so
 * on COM1: the multiboot information (magic, flags, memory sizes and map,
 * command line, modules, boot loader name) or the PVH start info (magic,
 * memory map, command line, modules). It ends through the debug-exit port
 * at 0xf4: 0 when every check passed (status 1), else the failed check's
 * number. Ring 0 may be emulated at ~1 M instructions/s: it does little.
 *
 * Command line words it reads: mods=N (the number of modules expected);
 * multiboot only: bios=1 (check the firmware state: bios() below) and
 * irq14=1 (with it, raise IRQ 14 through pc-testdev).
 */
#include <stdbool.h>
#include <stdint.h>

#define MB_BOOT_MAGIC	0x2badb002
#define PVH_MAGIC	0x336ec578
#define E820_RAM	1

enum check {
	CHECK_MAGIC = 2, CHECK_CR0, CHECK_FLAGS, CHECK_MEM, CHECK_MMAP, CHECK_CMDLINE,
	CHECK_MODS, CHECK_AOUT, CHECK_BIOS,
};

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name;
} __attribute__((packed));

struct mb_module {
	uint32_t start, end, string, reserved;
};

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct pvh_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct pvh_module {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct pvh_memmap {
	uint64_t addr, size;
	uint32_t type, reserved;
};

#ifdef PVH
#define IS_PVH true
#else
#define IS_PVH false
#endif

extern char __image_start[], __bss_end[];
/* The last word of .data (boot32.ld): loaded from the file, not bss. */
extern const volatile uint32_t __load_end_word;
static volatile uint32_t bss_word;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void con_puts(const char *s)
{
	while (*s)
		outb(0x3f8, *s++);
}

static void putu(uint32_t v)
{
	char buf[11], *p = buf + sizeof(buf) - 1;

	*p = '\0';
	do
		*--p = '0' + v % 10;
	while (v /= 10);
	con_puts(p);
}

static __attribute__((noreturn)) void finish(unsigned code, const char *why)
{
	if (code) {
		con_puts("qlite-boot32: FAIL ");
		con_puts(why);
	} else {
		con_puts("qlite-boot32: ok");
	}
	con_puts("\n");
	outb(0xf4, code);
	for (;;)
		__asm__ volatile("hlt");
}

static void expect(bool ok, unsigned code, const char *why)
{
	if (!ok)
		finish(code, why);
}

/* The value of "word=N" on the command line, or def. */
static uint32_t cmdline_uint(const char *cl, const char *word, uint32_t def)
{
	for (const char *p = cl; *p; p++) {
		const char *w = word, *q = p;

		if (p != cl && p[-1] != ' ')
			continue;
		while (*w && *q == *w)
			w++, q++;
		if (*w || *q != '=')
			continue;
		uint32_t v = 0;

		while (*++q >= '0' && *q <= '9')
			v = v * 10 + (*q - '0');
		return v;
	}
	return def;
}

/* Bytes summed: what the test compares with the module file it gave. */
static uint32_t sum(uint32_t start, uint32_t len)
{
	const uint8_t *p = (const uint8_t *)start;
	uint32_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static void module_line(unsigned i, uint32_t start, uint32_t len, const char *string)
{
	con_puts("mod ");
	putu(i);
	con_puts(": ");
	putu(len);
	con_puts(" bytes, sum ");
	putu(sum(start, len));
	if (string) {
		con_puts(", '");
		con_puts(string);
		con_puts("'");
	}
	con_puts("\n");
}

/* RAM from 1 MiB covers the loaded image: the one region every map must have. */
static bool covers_image(uint64_t addr, uint64_t len, uint32_t type)
{
	return type == E820_RAM && addr <= (uintptr_t)__image_start &&
	       addr + len >= (uintptr_t)__bss_end;
}

static void multiboot(const struct mb_info *mbi)
{
	const char *cl = (const char *)mbi->cmdline;
	bool found = false;
	uint32_t want = 1 | 4 | 8 | 64;	/* memory, cmdline, mods, mmap */

	expect((mbi->flags & want) == want, CHECK_FLAGS, "info flags lack memory, cmdline, mods or mmap");
	expect(mbi->mem_lower >= 512 && mbi->mem_lower <= 640, CHECK_MEM, "mem_lower");
	expect((uint64_t)mbi->mem_upper * 1024 + 0x100000 >= (uintptr_t)__bss_end, CHECK_MEM,
	       "mem_upper does not cover the kernel");
	for (uint32_t off = 0; off + 24 <= mbi->mmap_length;) {
		const struct mb_mmap *e = (const struct mb_mmap *)(mbi->mmap_addr + off);

		expect(e->size >= 20, CHECK_MMAP, "mmap entry size");
		found |= covers_image(e->addr, e->len, e->type);
		off += e->size + 4;
	}
	expect(found, CHECK_MMAP, "no available mmap region holds the kernel");
	con_puts("cmdline: ");
	con_puts(cl);
	con_puts("\n");
	if (mbi->flags & (1 << 9)) {
		con_puts("loader: ");
		con_puts((const char *)mbi->boot_loader_name);
		con_puts("\n");
	}
	expect(mbi->mods_count == cmdline_uint(cl, "mods", 0), CHECK_MODS, "module count");
	for (uint32_t i = 0; i < mbi->mods_count; i++) {
		const struct mb_module *m = (const struct mb_module *)mbi->mods_addr + i;

		expect(!(m->start & 0xfff) && m->end >= m->start && m->start >= (uintptr_t)__bss_end,
		       CHECK_MODS, "module not page-aligned after the kernel");
		module_line(i, m->start, m->end - m->start, (const char *)m->string);
	}
}

static void pvh(const struct pvh_info *si)
{
	const char *cl = si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr : "";
	bool found = false;

	expect(si->version >= 1 && si->memmap_entries, CHECK_MMAP, "no memory map (version 0)");
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		const struct pvh_memmap *e = (const struct pvh_memmap *)(uintptr_t)si->memmap_paddr + i;

		found |= covers_image(e->addr, e->size, e->type);
	}
	expect(found, CHECK_MMAP, "no RAM region of the memory map holds the kernel");
	expect(si->cmdline_paddr, CHECK_CMDLINE, "no command line");
	con_puts("cmdline: ");
	con_puts(cl);
	con_puts("\n");
	expect(si->nr_modules == cmdline_uint(cl, "mods", 0), CHECK_MODS, "module count");
	for (uint32_t i = 0; i < si->nr_modules; i++) {
		const struct pvh_module *m = (const struct pvh_module *)(uintptr_t)si->modlist_paddr + i;

		module_line(i, m->paddr, m->size,
			    m->cmdline_paddr ? (const char *)(uintptr_t)m->cmdline_paddr : 0);
	}
}

#ifdef MULTIBOOT
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* The real-mode probe of entry.S, run at RM_ADDR (a copy of rm_start..rm_end). */
#define RM_ADDR		0x3000
extern char rm_start[], rm_end[], rm_irq14[], rm_out[];

struct rm_result {
	uint32_t ticks;			/* BDA tick count moves seen (3 when the timer works) */
	uint8_t irr_raised;		/* the slave's IRR after IRQ 14's edge */
	uint8_t isr[2];			/* master, slave after the interrupt was served */
	uint8_t irr_after;
};

static void putx8(uint8_t v)
{
	static const char hex[] = "0123456789abcdef";
	char buf[3] = { hex[v >> 4], hex[v & 15], '\0' };

	con_puts(buf);
}

static inline char *rm_copy(const char *p)
{
	return (char *)RM_ADDR + (p - rm_start);
}

/* An IVT entry's segment. */
static uint16_t ivt_segment(unsigned v)
{
	return *(const volatile uint16_t *)(4 * v + 2);
}

/*
 * What the firmware left (`bios` on the command line; `irq14` also raises
 * IRQ 14 through pc-testdev): the PICs' masks and ELCR, PIT channel 0's
 * control word, IRQ vectors in the
 * BIOS segment, and in real mode the timer counting in the BDA and a slave
 * IRQ acknowledged on both PICs. Each printed, for the test to compare.
 */
static void bios(bool irq14)
{
	const struct rm_result *r = (const struct rm_result *)rm_copy(rm_out);
	bool in_bios = true;

	con_puts("pic imr ");
	putx8(inb(0x21));
	con_puts(" ");
	putx8(inb(0xa1));
	con_puts(", elcr ");
	putx8(inb(0x4d0));
	con_puts(" ");
	putx8(inb(0x4d1));
	/* Read-back of channel 0's status: access, mode and BCD bits (the control word's). */
	outb(0x43, 0xe2);
	con_puts(", pit channel 0 ");
	putx8(inb(0x40) & 0x3f);
	con_puts("\n");
	for (unsigned v = 0; v < 8; v++)
		in_bios &= ivt_segment(0x08 + v) == 0xf000 && ivt_segment(0x70 + v) == 0xf000;
	expect(in_bios, CHECK_BIOS, "IRQ vectors 0x08-0x0f, 0x70-0x77 not in segment f000");
	con_puts("irq vectors in segment f000\n");

	for (char *s = rm_start, *d = rm_copy(rm_start); s < rm_end; )
		*d++ = *s++;
	*rm_copy(rm_irq14) = irq14;
	((void (*)(void))RM_ADDR)();
	expect(r->ticks >= 3, CHECK_BIOS, "the BDA tick count did not move 3 times in real mode");
	con_puts("real mode: the BDA tick count moves\n");
	if (!irq14)
		return;
	con_puts("irq 14: slave irr ");
	putx8(r->irr_raised);
	con_puts(", then isr ");
	putx8(r->isr[0]);
	con_puts(" ");
	putx8(r->isr[1]);
	con_puts(", irr ");
	putx8(r->irr_after);

	con_puts("\n");
}
#endif

void boot32_main(uint32_t eax, uint32_t ebx)
{
	uint32_t cr0;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	con_puts(IS_PVH ? "qlite-boot32: pvh\n" : "qlite-boot32: multiboot\n");
	if (IS_PVH)
		expect(*(const uint32_t *)ebx == PVH_MAGIC, CHECK_MAGIC, "start_info magic");
	else
		expect(eax == MB_BOOT_MAGIC, CHECK_MAGIC, "eax is not 0x2badb002");
	expect((cr0 & 1) && !(cr0 & 0x80000000), CHECK_CR0, "not protected mode with paging off");
	expect(__load_end_word == 0x10ad10ad && !bss_word, CHECK_AOUT, "image or bss not loaded");
	if (IS_PVH)
		pvh((const struct pvh_info *)ebx);
	else
		multiboot((const struct mb_info *)ebx);
#ifdef MULTIBOOT
	if (cmdline_uint((const char *)((const struct mb_info *)ebx)->cmdline, "bios", 0))
		bios(cmdline_uint((const char *)((const struct mb_info *)ebx)->cmdline, "irq14", 0));
#endif
	finish(0, "");
}
