/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest.h - shared constants and helpers of the freestanding test guest.
 *
 * The constants are shared with entry.S (included under __ASSEMBLER__), so
 * the memory layout is written down once.
 */
#ifndef QLITE_TEST_GUEST_H
#define QLITE_TEST_GUEST_H

#define MAX_CPUS		16
#define KSTACK_SHIFT		12	/* 4 KiB ring-0 stack per CPU */
#define USTACK_SHIFT		14	/* 16 KiB ring-3 stack per CPU */
#define TSS_SIZE		104	/* the 64-bit TSS proper */
#define IOMAP_SIZE		8192	/* one bit per port, all clear: all allowed */
#define TSS_LIMIT		(TSS_SIZE + IOMAP_SIZE)	/* + the 0xff byte ending the map */
#define TSS_STRIDE		8304	/* TSS + map + end byte, 16-byte aligned */
#define NUM_VECTORS		32	/* exceptions only: interrupts stay masked */
#define EXC_STUB_SIZE		16

#define SEL_KCODE		0x08
#define SEL_KDATA		0x10
#define SEL_UDATA		0x18
#define SEL_UCODE		0x20
#define SEL_KCODE32		0x28	/* for the AP trampoline's jump to protected mode */
#define SEL_TSS0		0x30	/* one 16-byte descriptor per CPU from here */

#define CR0_PE			0x00000001
#define CR0_PG			0x80000000
#define CR4_PAE			0x00000020
#define MSR_EFER		0xc0000080
#define EFER_LME		0x00000100
#define RFLAGS_IOPL3		0x3002	/* IOPL=3, IF=0, reserved bit 1 */

#define TRAMP_ADDR		0x10000	/* AP real-mode trampoline: SIPI vector 0x10 */

#define DEBUG_EXIT_PORT		0xf4
#define EXIT_PASS		0x00	/* VMM exit status 1 */
#define EXIT_EXCEPTION		0x7e	/* VMM exit status 253 */
#define EXIT_FAIL		0x7f	/* VMM exit status 255 */

#ifndef __ASSEMBLER__

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define noreturn __attribute__((noreturn))

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" : : : "memory");
}

/* rep insw/outsw: how ATA drivers move PIO data (Linux's ioread16_rep). */
static inline void insw(uint16_t port, void *buf, size_t count)
{
	asm volatile("rep insw" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
}

static inline void outsw(uint16_t port, const void *buf, size_t count)
{
	asm volatile("rep outsw" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
}

/*
 * Device registers in the uncached 3..4 GiB window: one plain mov each, so
 * that the access the VMM decodes is exactly the one written here.
 */
static inline uint8_t mmio_read8(uint64_t a)
{
	uint8_t v;

	asm volatile("movb (%1), %0" : "=q"(v) : "r"(a) : "memory");
	return v;
}

static inline uint16_t mmio_read16(uint64_t a)
{
	uint16_t v;

	asm volatile("movw (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline uint32_t mmio_read32(uint64_t a)
{
	uint32_t v;

	asm volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void mmio_write8(uint64_t a, uint8_t v)
{
	asm volatile("movb %0, (%1)" : : "q"(v), "r"(a) : "memory");
}

static inline void mmio_write16(uint64_t a, uint16_t v)
{
	asm volatile("movw %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

static inline void mmio_write32(uint64_t a, uint32_t v)
{
	asm volatile("movl %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

/* Ordering for rings shared with a device (x86: stores stay in order, loads too). */
static inline void barrier(void)
{
	asm volatile("" : : : "memory");
}

static inline void mb(void)
{
	asm volatile("mfence" : : : "memory");
}

/* entry.S */
extern uint64_t boot_info_pa;
extern volatile uint32_t next_cpu;
extern const char tramp_start[], tramp_end[];
extern const char park_hlt[];
noreturn void guest_park(void);

/* lib.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
bool parse_u64(const char *s, uint64_t *out);
int split_args(char *s, uint64_t *vals, int max);
bool phys_mapped(uint64_t addr, uint64_t len);

/* uart.c */
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vgprintf(const char *fmt, va_list ap);
void uart_putc(char c);
int uart_getc(uint64_t timeout_us);
void uart_lock_break(void);

/* timer.c */
void tsc_ensure(void);
extern uint32_t hv_tsc_khz;	/* CPUID 0x40000010 EAX read in ring 0 at entry, 0 if absent */
void do_tsc_khz(const char *word, char *arg);
const char *tsc_clock(void);	/* where the TSC rate came from: cmdline, cpuid, pit... */
uint64_t tsc_to_us(uint64_t cycles);
uint64_t tsc_to_ns(uint64_t cycles);
uint64_t tsc_deadline(uint64_t us);
void udelay(uint64_t us);

/* smp.c */
void smp_bringup(unsigned n);
void ap_main(void);

/* main.c */
noreturn void guest_main(void);
noreturn void guest_exit(uint8_t code);
noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report(const char *word, uint64_t ops, uint64_t cycles);
void args(const char *word, char *arg, uint64_t *v, int min, int max);

/* pci.c: bus 0 through configuration mechanism #1; bdf = device << 3 | function */
#define PCI_CMD_IO		0x0001
#define PCI_CMD_MEM		0x0002
#define PCI_CMD_MASTER		0x0004
#define PCI_CAP_VNDR		0x09

struct pci_bar {
	uint64_t addr, size;
	bool io, mem64;
};

uint32_t pci_read(unsigned bdf, unsigned off, unsigned size);
void pci_write(unsigned bdf, unsigned off, unsigned size, uint32_t v);
int pci_find(uint16_t vendor, uint16_t device);
unsigned pci_bar(unsigned bdf, unsigned i, struct pci_bar *bar);
void pci_enable(unsigned bdf, uint16_t bits);
unsigned pci_cap_find(unsigned bdf, uint8_t id, unsigned from);
void do_pci(const char *word, char *arg);

/* disk.c: the pattern the block scenarios write, and what they share */
#define SECTOR_SIZE		512
#define DISK_BUF_SIZE		(128u << 10)	/* 256 sectors: one LBA28 command */
#define DISK_TIMEOUT_US		10000000	/* for any one command or request */

struct disk_times {
	uint64_t write, flush, read;	/* TSC cycles in each phase */
	uint64_t cmds;			/* commands or requests per pass */
};

extern uint8_t disk_buf[DISK_BUF_SIZE];
uint32_t disk_tag(const char *word);
void pattern_fill(void *buf, uint64_t lba, uint64_t sectors, uint32_t tag);
void pattern_poison(void *buf, uint64_t bytes);
void pattern_check(const char *word, const void *buf, uint64_t lba, uint64_t sectors,
		   uint32_t tag);
void disk_after_flush(const char *word);
void disk_report(const char *word, uint64_t ops, const struct disk_times *t);
void do_flushed(const char *word, char *arg);

/* ide.c */
void do_ide_pio(const char *word, char *arg);
void do_ide_identify(const char *word, char *arg);
void do_ide_dma(const char *word, char *arg);

/* virtio.c */
void do_vblk(const char *word, char *arg);
void do_vblk_mmio(const char *word, char *arg);

/* acpi.c */
void do_acpi(const char *word, char *arg);
void do_acpi_poweroff(const char *word, char *arg);
void do_acpi_reset(const char *word, char *arg);

/* trap.c (ring 0) */
struct trap_frame {
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};
noreturn void trap_handler(struct trap_frame *f);

#endif /* __ASSEMBLER__ */
#endif
