// SPDX-License-Identifier: GPL-2.0-only
/*
 * trap.c - the one C function that runs in ring 0: exception reporting.
 *
 * Any exception is a test failure, except the #GP that ring 3 raises on
 * purpose with hlt at park_hlt to get a CPU halted (ring 3 cannot hlt).
 * Keep it to plain integer code: ring 0 is emulated and the emulator
 * rejects some instructions.
 */
#include "guest.h"

#define VEC_GP	13
#define VEC_PF	14

static const char *const vec_names[NUM_VECTORS] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "?", "#TS", "#NP", "#SS", "#GP", "#PF", "?",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "?", "?",
	"?", "?", "?", "?", "#HV", "#VC", "#SX", "?",
};

static noreturn void cpu_park(void)
{
	asm volatile("1: cli; hlt; jmp 1b");
	__builtin_unreachable();
}

noreturn void trap_handler(struct trap_frame *f)
{
	uint64_t cr2 = 0;

	if (f->vector == VEC_GP && f->rip == (uintptr_t)park_hlt)
		cpu_park();
	if (f->vector == VEC_PF)
		asm volatile("mov %%cr2, %0" : "=r"(cr2));
	uart_lock_break();
	gprintf("\nEXCEPTION: vector %lu %s error 0x%lx rip 0x%lx cs 0x%lx rsp 0x%lx cr2 0x%lx\n",
		(unsigned long)f->vector, f->vector < NUM_VECTORS ? vec_names[f->vector] : "?",
		(unsigned long)f->error, (unsigned long)f->rip, (unsigned long)f->cs,
		(unsigned long)f->rsp, (unsigned long)cr2);
	outb(DEBUG_EXIT_PORT, EXIT_EXCEPTION);
	cpu_park();
}
