// SPDX-License-Identifier: GPL-2.0-only
/*
 * smp.c - bring up the application processors with INIT-SIPI-SIPI.
 *
 * The xAPIC page is mapped user-accessible, so the BSP sends the IPIs and
 * waits from ring 3: only the APs' short trip through the trampoline and
 * entry64 runs in ring 0. The IPIs are broadcast (all excluding self), so no
 * MP table or ACPI is needed to find the APs.
 */
#include "guest.h"

#define LAPIC_BASE		0xfee00000UL
#define LAPIC_ID		0x020
#define LAPIC_SVR		0x0f0
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310
#define SVR_ENABLE		0x100
#define ICR_BUSY		(1u << 12)
#define ICR_INIT		0x000c4500	/* all excluding self, assert, INIT */
#define ICR_SIPI		0x000c4600	/* all excluding self, assert, start-up */
#define CHECKIN_TIMEOUT_US	5000000

static volatile uint32_t checked_in;

static volatile uint32_t *lapic_reg(unsigned off)
{
	return (volatile uint32_t *)(LAPIC_BASE + off);
}

static void lapic_ipi(uint32_t icr)
{
	uint64_t deadline = tsc_deadline(1000);

	*lapic_reg(LAPIC_ICR_HI) = 0;
	*lapic_reg(LAPIC_ICR_LO) = icr;
	while (*lapic_reg(LAPIC_ICR_LO) & ICR_BUSY)
		if (rdtsc() > deadline)
			fail("smp: IPI 0x%x still pending after 1 ms", icr);
}

void smp_bringup(unsigned n)
{
	uint64_t t0 = rdtsc(), deadline;

	if (n > 1) {
		tsc_ensure();
		memcpy((void *)TRAMP_ADDR, tramp_start, tramp_end - tramp_start);
		next_cpu = 1;
		checked_in = 1;
		*lapic_reg(LAPIC_SVR) |= SVR_ENABLE | 0xff;
		lapic_ipi(ICR_INIT);
		udelay(10000);
		lapic_ipi(ICR_SIPI | TRAMP_ADDR >> 12);
		udelay(200);
		lapic_ipi(ICR_SIPI | TRAMP_ADDR >> 12);
		deadline = tsc_deadline(CHECKIN_TIMEOUT_US);
		while (checked_in < n) {
			if (rdtsc() > deadline)
				fail("smp: only %u of %u cpus checked in within %u ms",
				     checked_in, n, CHECKIN_TIMEOUT_US / 1000);
			cpu_relax();
		}
	}
	gprintf("smp: %u cpus up (%lu us)\n", n, (unsigned long)tsc_to_us(rdtsc() - t0));
}

/*
 * An AP in ring 3: say hello, check in, and return to be parked. The APIC id
 * comes from the LAPIC, not CPUID: PVM hosts run ring-3 CPUID natively, so it
 * reports the host CPU's id.
 */
void ap_main(void)
{
	gprintf("cpu %u up\n", *lapic_reg(LAPIC_ID) >> 24);
	__atomic_fetch_add(&checked_in, 1, __ATOMIC_SEQ_CST);
}
