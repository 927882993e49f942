// SPDX-License-Identifier: GPL-2.0-only
/*
 * irq.c - one interrupt vector, for the scenarios that time interrupt
 * delivery (virtio.c's vblk-kick): its IDT gate, a ring-0 handler that only
 * notes the TSC and counts, the local APIC (software enable, EOI), and the
 * two ways a device reaches the vector: an MSI message (for an MSI-X table
 * entry) or an IOAPIC pin.
 *
 * Ring 0 is emulated instruction by instruction on the hosts we test on, so
 * the handler takes the TSC first and does nothing else: ring 3 sees the
 * count move, acknowledges the device and writes the EOI itself (the LAPIC
 * and IOAPIC lie in the user-accessible 3..4 GiB window). Everywhere else
 * the guest runs with interrupts masked at their source; only between
 * irq_open() and irq_close() may this vector come.
 */
#include "guest.h"

#define IRQ_VECTOR		0x40
#define SPURIOUS_VECTOR		0xff	/* the LAPIC's, in its SVR: ignored */

#define LAPIC_BASE		0xfee00000ull
#define LAPIC_ID		0x020
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define SVR_ENABLE		0x100

#define IOAPIC_WINDOW		0x10	/* IOREGSEL at 0, IOWIN here */
#define IOAPIC_VER		0x01
#define IOAPIC_REDTBL		0x10	/* two registers per pin */
#define RTE_MASKED		(1u << 16)

#define MSI_ADDR_BASE		0xfee00000u
#define GATE_INTERRUPT		0x8e00	/* present, DPL 0, 64-bit interrupt gate */

#define VEC_GP			13

extern uint8_t idt[];
void irq_entry(void);
void irq_spurious(void);
void irq_gp_entry(void);
void irq_sti(void);
void irq_cli(void);
uint64_t irq_gp_chain;			/* entry.S's #GP stub: irq_gp_entry passes others on */

volatile uint64_t irq_tsc;		/* the TSC when the handler last ran */
volatile uint32_t irq_count;		/* how many times it ran */

/* From ring 3 (the TSS's stack): two registers, the TSC, the count, back. */
asm(".pushsection .text\n"
    ".globl irq_entry, irq_spurious\n"
    "irq_entry:\n"
    "	pushq %rax\n"
    "	pushq %rdx\n"
    "	rdtsc\n"
    "	movl %eax, irq_tsc(%rip)\n"
    "	movl %edx, irq_tsc+4(%rip)\n"
    "	incl irq_count(%rip)\n"
    "	popq %rdx\n"
    "	popq %rax\n"
    "irq_spurious:\n"
    "	iretq\n"
    /*
     * Ring 3 sets and clears IF with sti/cli, which IOPL=3 allows; PVM hosts run
     * ring 3 with the real IOPL=0 and raise #GP instead. This #GP handler then
     * does what the instruction asked in the frame it returns through (the one
     * way to change IF there, as entry.S's iretq did) and steps over it. Other
     * #GPs go on to entry.S's stub. Stack: rax, error code, rip, cs, rflags.
     */
    "irq_gp_entry:\n"
    "	pushq %rax\n"
    "	movq 16(%rsp), %rax\n"
    "	cmpq $irq_sti_insn, %rax\n"
    "	je 1f\n"
    "	cmpq $irq_cli_insn, %rax\n"
    "	je 2f\n"
    "	popq %rax\n"
    "	jmp *irq_gp_chain(%rip)\n"
    "1:	orq $0x200, 32(%rsp)\n"
    "	jmp 3f\n"
    "2:	andq $-0x201, 32(%rsp)\n"
    "3:	incq 16(%rsp)\n"
    "	popq %rax\n"
    "	addq $8, %rsp\n"
    "	iretq\n"
    "irq_sti:\n"
    "irq_sti_insn:\n"
    "	sti\n"
    "	ret\n"
    "irq_cli:\n"
    "irq_cli_insn:\n"
    "	cli\n"
    "	ret\n"
    ".popsection");

static uint32_t svr_saved;

static uint64_t gate_get(unsigned vector)
{
	volatile uint32_t *g = (volatile uint32_t *)(idt + 16 * vector);

	return (g[0] & 0xffff) | (g[1] & 0xffff0000) | (uint64_t)g[2] << 32;
}

static void gate_set(unsigned vector, void (*fn)(void))
{
	uint64_t a = (uintptr_t)fn;
	volatile uint32_t *g = (volatile uint32_t *)(idt + 16 * vector);

	g[0] = (a & 0xffff) | SEL_KCODE << 16;
	g[1] = (a & 0xffff0000) | GATE_INTERRUPT;
	g[2] = a >> 32;
	g[3] = 0;
}


/* The vector's gate, the LAPIC enabled, interrupts on in ring 3; the vector. */
unsigned irq_open(void)
{
	if (!irq_gp_chain) {
		irq_gp_chain = gate_get(VEC_GP);
		gate_set(VEC_GP, irq_gp_entry);
	}
	gate_set(IRQ_VECTOR, irq_entry);
	gate_set(SPURIOUS_VECTOR, irq_spurious);
	svr_saved = mmio_read32(LAPIC_BASE + LAPIC_SVR);
	mmio_write32(LAPIC_BASE + LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	irq_sti();
	return IRQ_VECTOR;
}

void irq_close(void)
{
	irq_cli();
	mmio_write32(LAPIC_BASE + LAPIC_SVR, svr_saved);
}

void irq_eoi(void)
{
	mmio_write32(LAPIC_BASE + LAPIC_EOI, 0);
}

/* An MSI to this CPU's LAPIC (physical destination, fixed, edge): its address and data. */
void irq_msi(uint32_t *addr, uint32_t *data)
{
	*addr = MSI_ADDR_BASE | (mmio_read32(LAPIC_BASE + LAPIC_ID) >> 24) << 12;
	*data = IRQ_VECTOR;
}

static uint32_t ioapic_read(uint64_t base, unsigned reg)
{
	mmio_write32(base, reg);
	return mmio_read32(base + IOAPIC_WINDOW);
}

static void ioapic_write(uint64_t base, unsigned reg, uint32_t v)
{
	mmio_write32(base, reg);
	mmio_write32(base + IOAPIC_WINDOW, v);
}

/*
 * Route the IOAPIC at BASE's PIN to the vector on this CPU (fixed, physical,
 * active high, edge: one interrupt per rising edge, whether the device pulses
 * or holds its line until acknowledged), or mask it again.
 */
void irq_ioapic_route(const char *word, uint64_t base, unsigned pin, bool on)
{
	unsigned pins;

	if (!phys_mapped(base, IOAPIC_WINDOW + 4) || (base & 0xf))
		fail("%s: IOAPIC 0x%lx is not mapped or not aligned", word, (unsigned long)base);
	pins = (ioapic_read(base, IOAPIC_VER) >> 16 & 0xff) + 1;
	if (pin >= pins)
		fail("%s: IOAPIC 0x%lx has %u pins, no pin %u", word, (unsigned long)base, pins,
		     pin);
	if (!on) {
		ioapic_write(base, IOAPIC_REDTBL + 2 * pin, RTE_MASKED);
		return;
	}
	ioapic_write(base, IOAPIC_REDTBL + 2 * pin + 1,
		     mmio_read32(LAPIC_BASE + LAPIC_ID) & 0xff000000);
	ioapic_write(base, IOAPIC_REDTBL + 2 * pin, IRQ_VECTOR);
}
