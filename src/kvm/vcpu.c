// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPU threads: one per vCPU, named qlite-vcpu-N, pinned before the first
 * KVM_RUN. The run loop counts every exit, sends PIO/MMIO to the buses and
 * turns stop-worthy exits into a stop request; it never takes a lock on the
 * PIO/MMIO path (the bus lookup is lock-free, counters are per vCPU). When
 * the machine sleeps (ACPI S3) it parks between two KVM_RUNs (sleep.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "qlite/util.h"
#include "qlite/kvm.h"
#include "qlite/devices.h"

#define APIC_LVT_LINT0		0x350
#define APIC_LVT_LINT1		0x360
#define APIC_MODE_EXTINT	0x7
#define APIC_MODE_NMI		0x4
#define APIC_LVT_MASKED		0x10000
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MISC_ENABLE_FAST_STRING	0x1

/*
 * LINT0 in virtual-wire mode (ExtINT from the PIC), LINT1 as NMI, as a PC
 * BIOS leaves them: LINT0 unmasked on the BSP only, where the PIC's INTR is
 * wired (KVM accepts a userspace PIC's KVM_INTERRUPT only through it).
 */
static int vcpu_setup_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t v;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	v = le_load(lapic.regs + APIC_LVT_LINT0, 4);
	v = (v & ~(0x700u | APIC_LVT_MASKED)) | APIC_MODE_EXTINT << 8 |
	    (vcpu->id ? APIC_LVT_MASKED : 0);
	le_store(lapic.regs + APIC_LVT_LINT0, v, 4);
	v = le_load(lapic.regs + APIC_LVT_LINT1, 4);
	v = (v & ~0x700u) | APIC_MODE_NMI << 8;
	le_store(lapic.regs + APIC_LVT_LINT1, v, 4);
	return ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0 ? -errno : 0;
}

static int vcpu_setup_fpu_msrs(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	/* struct kvm_msrs ends in a flexible array: room for one entry after it. */
	uint64_t buf[(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)) / 8] = { 0 };
	struct kvm_msrs *msrs = (struct kvm_msrs *)buf;

	msrs->nmsrs = 1;
	msrs->entries[0].index = MSR_IA32_MISC_ENABLE;
	msrs->entries[0].data = MISC_ENABLE_FAST_STRING;
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	/* Returns the number set; a KVM without this MSR is not fatal. */
	ioctl(vcpu->fd, KVM_SET_MSRS, msrs);
	return 0;
}

int vcpu_create(struct kvm *kvm, struct vcpu *vcpu, unsigned id)
{
	int ret;

	vcpu->kvm = kvm;
	vcpu->id = id;
	vcpu->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return report_errno(-errno, "vCPU %u: KVM_CREATE_VCPU", id);
	vcpu->run_size = kvm->run_mmap_size;
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return report_errno(-errno, "vCPU %u: mmap kvm_run", id);
	}
	/* The coalesced MMIO ring: a page of the vCPU mapping, the same ring for every vCPU. */
	if (kvm->coalesced_page > 0 && !kvm->coalesced_ring &&
	    (size_t)kvm->coalesced_page * getpagesize() < vcpu->run_size)
		kvm->coalesced_ring = (void *)((char *)vcpu->run +
					       (size_t)kvm->coalesced_page * getpagesize());
	ret = vcpu_setup_cpuid(vcpu);
	if (ret < 0)
		return ret;
	ret = vcpu_setup_lapic(vcpu);
	if (ret < 0)
		return report_errno(ret, "vCPU %u: LAPIC LINT setup", id);
	ret = vcpu_setup_fpu_msrs(vcpu);
	if (ret < 0)
		return report_errno(ret, "vCPU %u: KVM_SET_FPU", id);
	ret = vcpu_save_reset_state(vcpu);
	if (ret < 0)
		return report_errno(ret, "vCPU %u: reading its reset state", id);
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd > 0)
		close(vcpu->fd);
	vcpu_stats_free(&vcpu->stats);
	free(vcpu->reset);
	vcpu->reset = NULL;
	vcpu->run = NULL;
	vcpu->fd = -1;
}

static void print_seg(FILE *out, const char *name, const struct kvm_segment *s)
{
	fprintf(out, "  %-3s sel=%04x base=%016llx limit=%08x type=%x dpl=%u db=%u l=%u p=%u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl,
		s->db, s->l, s->present);
}

void vcpu_dump_regs(struct vcpu *vcpu, FILE *out)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(out, "  (registers unavailable: %s)\n", strerror(errno));
		return;
	}
	fprintf(out, "  rip=%016llx rsp=%016llx rflags=%016llx\n", r.rip, r.rsp, r.rflags);
	fprintf(out, "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", r.rax, r.rbx, r.rcx, r.rdx);
	fprintf(out, "  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n", r.rsi, r.rdi, r.rbp, r.r8);
	fprintf(out, "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx\n",
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	print_seg(out, "cs", &s.cs);
	print_seg(out, "ss", &s.ss);
	print_seg(out, "ds", &s.ds);
	print_seg(out, "tr", &s.tr);
	fprintf(out, "  gdt=%016llx/%x idt=%016llx/%x\n", (unsigned long long)s.gdt.base,
		s.gdt.limit, (unsigned long long)s.idt.base, s.idt.limit);
}

/* Accounting off keeps only what the stop line needs: reasons and unclaimed accesses. */
static void vcpu_count_access(struct vcpu *vcpu, enum bus_space space, const struct bus_region *r,
			      uint64_t addr, bool is_write, uint32_t count)
{
	if (vcpu->kvm->accounting)
		stats_count_access(&vcpu->stats, space, r, addr, is_write, count, &vcpu->cur_region);
	else if (!r)
		stat_add(&vcpu->stats.unclaimed[space][is_write], 1);
}

/*
 * Writes KVM queued in the coalesced MMIO ring instead of exiting reach the
 * bus before this vCPU's exit is handled, in order, as QEMU drains them;
 * they are counted per register as coalesced writes, not as exits.
 */
void vcpu_drain_coalesced(struct vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_coalesced_mmio_ring *ring = kvm->coalesced_ring;
	const unsigned max = (getpagesize() - sizeof(*ring)) / sizeof(ring->coalesced_mmio[0]);

	if (!ring || __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE) ==
		     __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&kvm->coalesced_lock);
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio e = ring->coalesced_mmio[ring->first % max];
		enum bus_space space = e.pio ? BUS_PIO : BUS_MMIO;
		unsigned len = e.len <= sizeof(e.data) ? e.len : sizeof(e.data);
		const struct bus_region *r;

		r = bus_dispatch(kvm->machine->bus[space], e.phys_addr, e.data, len, true);
		if (kvm->accounting)
			stats_count_coalesced(&vcpu->stats, space, r, e.phys_addr);
		__atomic_store_n(&ring->first, (ring->first + 1) % max, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&kvm->coalesced_lock);
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct bus *bus = vcpu->kvm->machine->bus[BUS_PIO];
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	const struct bus_region *r = NULL;

	/* String PIO: one exit, count transfers of size bytes, all to the same port. */
	for (uint32_t i = 0; i < run->io.count; i++)
		r = bus_dispatch(bus, run->io.port, data + (size_t)i * run->io.size,
				 run->io.size, is_write);
	stat_add(&vcpu->stats.io_transfers, run->io.count);
	vcpu_count_access(vcpu, BUS_PIO, r, run->io.port, is_write, run->io.count);
}

static void vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	const struct bus_region *r;
	unsigned len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	r = bus_dispatch(vcpu->kvm->machine->bus[BUS_MMIO], run->mmio.phys_addr, run->mmio.data,
			 len, run->mmio.is_write);
	vcpu_count_access(vcpu, BUS_MMIO, r, run->mmio.phys_addr, run->mmio.is_write, 1);
}

/* Ask the machine to stop, with the vCPU named in the stop line. */
static void vcpu_stop(struct vcpu *vcpu, enum stop_reason why, int status, const char *what)
{
	struct machine *m = vcpu->kvm->machine;
	char detail[256];

	snprintf(detail, sizeof(detail), "vCPU %u: %s", vcpu->id, what);
	m->request_stop(m, why, status, detail);
}

static void vcpu_fatal(struct vcpu *vcpu, const char *what)
{
	struct kvm *kvm = vcpu->kvm;

	/* One dump at a time, so two dying vCPUs do not interleave. */
	pthread_mutex_lock(&kvm->print_lock);
	fprintf(stderr, "qlite: vCPU %u: %s\n", vcpu->id, what);
	vcpu_dump_regs(vcpu, stderr);
	pthread_mutex_unlock(&kvm->print_lock);
	vcpu_stop(vcpu, STOP_ERROR, 1, what);
}

/* Returns false when the loop must end. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[256];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_drain_coalesced(vcpu);
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_drain_coalesced(vcpu);
		vcpu_handle_mmio(vcpu);
		return true;
	case KVM_EXIT_IOAPIC_EOI:
		/* split irqchip: a level-triggered vector of qlite's IOAPIC was EOI'd. */
		if (vcpu->kvm->machine->ioapic)
			ioapic_eoi(vcpu->kvm->machine->ioapic, run->eoi.vector);
		return true;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:		/* only without an in-kernel LAPIC; resume */
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_SHUTDOWN:
		vcpu_stop(vcpu, STOP_RESET, 0, "triple fault (shutdown)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vcpu->kvm->machine->request_stop(vcpu->kvm->machine, STOP_POWEROFF, 0,
							 "guest powered off");
			break;
		case KVM_SYSTEM_EVENT_RESET:
			vcpu->kvm->machine->request_stop(vcpu->kvm->machine, STOP_RESET, 0,
							 "guest reset");
			break;
		default:
			snprintf(what, sizeof(what), "system event %u (crash)", run->system_event.type);
			vcpu_fatal(vcpu, what);
		}
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error, suberror %u%s", run->internal.suberror,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			 " (instruction emulation failed)" : "");
		vcpu_fatal(vcpu, what);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, hardware reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_fatal(vcpu, what);
		return false;
	default:
		snprintf(what, sizeof(what), "unhandled exit reason %u (%s)", run->exit_reason,
			 kvm_exit_reason_name(run->exit_reason));
		vcpu_fatal(vcpu, what);
		return false;
	}
}

/*
 * vCPU 0 with qlite's 8259 (irqchip split): its INTR is LINT0's ExtINT,
 * which KVM leaves to userspace. Before each KVM_RUN, as QEMU does: when
 * the PIC requests and the last exit said the vCPU can take an interrupt
 * (IF set, no ExtINT already queued, LINT0 unmasked in ExtINT mode), the
 * INTA cycle happens now and KVM_INTERRUPT queues its vector; when it
 * cannot, KVM is asked to exit as soon as it can (an interrupt window).
 * Another thread raising INTR kicks vCPU 0 (vcpu_kick_from_other), so a
 * halted or running guest gets here soon.
 */
static void vcpu_pic_inject(struct vcpu *vcpu, struct pic8259 *pic)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_interrupt irq;

	if (pic8259_intr(pic) && run->ready_for_interrupt_injection && run->if_flag) {
		irq.irq = pic8259_ack(pic);
		if (ioctl(vcpu->fd, KVM_INTERRUPT, &irq) < 0 && !vcpu->extint_failed) {
			/* The vector is in the PIC's ISR and lost: say so once. */
			vcpu->extint_failed = true;
			pr_errno("vCPU %u: KVM_INTERRUPT of PIC vector %#x", vcpu->id, irq.irq);
		}
	}
	run->request_interrupt_window = pic8259_intr(pic);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct kvm *kvm = vcpu->kvm;
	char name[16], what[128];

	snprintf(name, sizeof(name), "qlite-vcpu-%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	atomic_store(&vcpu->tid, (int)syscall(SYS_gettid));

	while (!atomic_load(&kvm->stopping)) {
		struct vcpu_stats *st = &vcpu->stats;
		uint64_t t_exit;
		unsigned reason;
		int ret;

		/*
		 * ACPI S3 (sleep.c): KVM finishes the exit in hand (or hands back
		 * the next part of a string I/O) and runs no guest instruction.
		 */
		if (vcpu_sleep_due(vcpu))
			vcpu->run->immediate_exit = 1;
		/* Not into a KVM_RUN that returns at once: the vector would wait there (or a sleep). */
		if (vcpu->id == 0 && kvm->machine->pic && !vcpu->run->immediate_exit)
			vcpu_pic_inject(vcpu, kvm->machine->pic);
		ret = ioctl(vcpu->fd, KVM_RUN, 0);
		t_exit = kvm->accounting ? stats_clock() : 0;

		stat_add(&st->exits, 1);
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				stat_add(&st->run_eintr, 1);
				vcpu->run->immediate_exit = 0;
				/* A kick may be the I/O thread asking for the ring. */
				vcpu_drain_coalesced(vcpu);
				/* No exit pending, no guest code run since: where a vCPU parks. */
				if (vcpu_sleep_due(vcpu))
					vcpu_sleep(vcpu);
				continue;
			}
			snprintf(what, sizeof(what), "KVM_RUN: %s", strerror(errno));
			vcpu_stop(vcpu, STOP_ERROR, 1, what);
			break;
		}
		reason = vcpu->run->exit_reason < EXIT_REASON_MAX ? vcpu->run->exit_reason : 0;
		stat_add(&st->reason[reason], 1);
		vcpu->cur_region = NULL;
		if (!vcpu_handle_exit(vcpu))
			break;
		if (kvm->accounting) {
			/* Handler time: from KVM_RUN's return to the next entry. */
			uint64_t cycles = stats_clock() - t_exit;

			stats_hist_add(&st->reason_time[reason], cycles);
			if (vcpu->cur_region)
				stats_hist_add(&vcpu->cur_region->time, cycles);
		}
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu, const cpu_set_t *pin)
{
	pthread_attr_t attr;
	int ret;

	pthread_attr_init(&attr);
	/* Affinity is part of the thread's creation, so it holds before the first KVM_RUN. */
	if (pin) {
		ret = pthread_attr_setaffinity_np(&attr, sizeof(cpu_set_t), pin);
		if (ret) {
			pthread_attr_destroy(&attr);
			return report_errno(-ret, "vCPU %u: cannot pin", vcpu->id);
		}
	}
	ret = pthread_create(&vcpu->thread, &attr, vcpu_thread, vcpu);
	pthread_attr_destroy(&attr);
	if (ret)
		return report(-ret, "vCPU %u: cannot start its thread: %s (host CPUs of its cluster allowed to qlite?)",
			      vcpu->id, strerror(ret));
	vcpu->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (vcpu->run)
		vcpu->run->immediate_exit = 1;
	if (vcpu->thread_started)
		pthread_kill(vcpu->thread, SIGUSR1);
}

void vcpu_kick_from_other(struct vcpu *vcpu)
{
	/* The vCPU's own thread looks before its next KVM_RUN anyway. */
	if (vcpu->thread_started && pthread_equal(pthread_self(), vcpu->thread))
		return;
	vcpu_kick(vcpu);
}
