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
#define NUM_VECTORS		32	/* the exceptions, each with a stub in entry.S */
#define IDT_VECTORS		256	/* the IDT's size: irq.c adds its vector's gate */
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
int memcmp(const void *a, const void *b, size_t n);
bool parse_u64(const char *s, uint64_t *out);
int split_args(char *s, uint64_t *vals, int max);
bool phys_mapped(uint64_t addr, uint64_t len);
extern char image_end[];		/* guest.ld: the end of .bss */
extern uint64_t ram_top;		/* the end of the image's RAM range; 0: unknown */
void *ram_alloc(const char *word, uint64_t size, uint64_t align);

/* hist.c: `hist` turns per-access histograms on for the following pio-/mmio- loops. */
extern bool hist_on;
void hist_reset(void);
void hist_add(uint64_t cycles);
void hist_print(const char *word);

/* uart.c */
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vgprintf(const char *fmt, va_list ap);
void uart_putc(char c);
#define UART_BREAK	0x100	/* uart_getc(): a break arrived */
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

extern uint8_t *disk_buf;		/* DISK_BUF_SIZE bytes once disk_buf_alloc() ran */
void disk_buf_alloc(const char *word);
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

/* vtransport.c: virtio 1.x over PCI (modern) or MMIO version 2, polled split queues */
#define VIRTIO_F_VERSION_1	(1ull << 32)
#define VQ_MAX			16
#define VQ_DESC_F_NEXT		1
#define VQ_DESC_F_WRITE		2

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* Each part on its own page: more alignment than any transport asks for. */
struct vq_mem {
	struct vq_desc desc[VQ_MAX] __attribute__((aligned(4096)));
	struct {
		uint16_t flags, idx, ring[VQ_MAX], used_event;
	} avail __attribute__((aligned(4096)));
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[VQ_MAX];
		uint16_t avail_event;
	} used __attribute__((aligned(4096)));
};

struct vq {
	struct vq_mem *mem;
	uint16_t index, size, avail_idx, used_idx;
	uint64_t notify_addr;		/* this queue's doorbell */
	uint64_t notifies, skipped;	/* doorbell writes made; left out for NO_NOTIFY */
};

struct vtdev {
	const char *word, *what;	/* the scenario word; "virtio-blk", "virtio-net" */
	bool mmio;
	bool msix;			/* PCI: queues get MSI-X vector 0 (vt_pci_msix) */
	int bdf;			/* PCI: where vt_pci_probe found it */
	uint64_t base;				/* MMIO: the transport's registers */
	uint64_t common, notify, device;	/* PCI: where the capabilities point */
	uint32_t notify_len, notify_mult;
};

void vt_pci_probe(struct vtdev *d, uint16_t device);
void vt_pci_msix(struct vtdev *d, bool on, uint32_t addr, uint32_t data);
uint32_t vt_mmio_irq_ack(const struct vtdev *d);
void vq_interrupts(struct vq *vq, bool on);
void vt_mmio_probe(struct vtdev *d, uint64_t base, uint32_t device_id);
void vt_reset(const struct vtdev *d);
uint8_t vt_get_status(const struct vtdev *d);
uint64_t vt_begin(const struct vtdev *d);
void vt_accept(const struct vtdev *d, uint64_t use);
void vt_queue_setup(const struct vtdev *d, struct vq *vq, struct vq_mem *mem, unsigned q);
bool vt_queue_enabled(const struct vtdev *d, unsigned q);
void vt_driver_ok(const struct vtdev *d);
uint64_t vt_cfg_read64(const struct vtdev *d, unsigned off);
void vt_cfg_bytes(const struct vtdev *d, unsigned off, uint8_t *out, unsigned len);
void vq_push(struct vq *vq, uint16_t head);
void vq_notify(const struct vtdev *d, struct vq *vq);
bool vq_kick(const struct vtdev *d, struct vq *vq);
bool vq_poll(struct vq *vq, uint64_t deadline, uint32_t *id, uint32_t *len);
uint16_t vq_pending(const struct vq *vq);

/* virtio.c */
void do_vblk(const char *word, char *arg);
void do_vblk_mmio(const char *word, char *arg);
void do_vblk_kick(const char *word, char *arg);
void do_vblk_mmio_kick(const char *word, char *arg);

/* irq.c: one vector for timing interrupt delivery; the handler notes the TSC and counts */
extern volatile uint64_t irq_tsc;
extern volatile uint32_t irq_count;
unsigned irq_open(void);
void irq_close(void);
void irq_eoi(void);
void irq_msi(uint32_t *addr, uint32_t *data);
void irq_ioapic_route(const char *word, uint64_t base, unsigned pin, bool on);

/* pic.c: timer ticks through the 8259 pair */
void do_pic_ticks(const char *word, char *arg);

/* acpi.c */
void do_acpi(const char *word, char *arg);
void do_acpi_poweroff(const char *word, char *arg);
void do_acpi_reset(const char *word, char *arg);
void do_acpi_s3(const char *word, char *arg);

/* net.c: the NIC the net words use, set up by nic=; e1000.c, vnet.c drive it */
#define NET_BUF_SIZE		2048	/* one frame and, for virtio, its header */
#define NET_TIMEOUT_US		10000000	/* for any one frame */

struct nic {
	const char *word;		/* "e1000", "virtio", "virtio-mmio": for messages */
	uint8_t mac[6];
	uint64_t tx_bells, rx_bells;	/* doorbell writes made for frames sent, received */
	uint32_t tx_seq, rx_seq;	/* the next test frame's number each way (net.c) */
	/* Send one frame and wait until the device is done with it. */
	void (*send)(struct nic *n, const void *frame, unsigned len);
	/* The next frame's length and where it is, or -1 at deadline (TSC). */
	int (*recv)(struct nic *n, const uint8_t **frame, uint64_t deadline);
	/* Hand the buffer of the frame recv returned back to the device. */
	void (*release)(struct nic *n);
	/* Print the receive side's state, for a FAIL line that follows (a few exits). */
	void (*rx_state)(struct nic *n);
	/* Reset the device: no more DMA into the rings (the next nic= word). */
	void (*close)(struct nic *n);
};

void e1000_open(struct nic *n);
void vnet_open_pci(struct nic *n);
void vnet_open_mmio(struct nic *n, uint64_t base);
void do_nic(const char *word, char *arg);
void do_net_tx(const char *word, char *arg);
void do_net_rx(const char *word, char *arg);
void do_net_echo(const char *word, char *arg);
void do_net_dhcp(const char *word, char *arg);

/* fwcfg.c */
void do_fw_cfg(const char *word, char *arg);

/* edu.c: QEMU's educational PCI device (liveness, DMA round trips, factorial, INTx, MSI) */
void do_edu(const char *word, char *arg);

/* trap.c (ring 0) */
struct trap_frame {
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};
noreturn void trap_handler(struct trap_frame *f);

#endif /* __ASSEMBLER__ */
#endif
