// SPDX-License-Identifier: GPL-2.0-only
/*
 * Assemble a VM from a vm_spec, run it, stop it, tear it down.
 *
 * Threads: one per vCPU plus the main thread, which is the I/O thread (the
 * event loop: console input, signals, the stop eventfd, devices' doorbells,
 * timers and disk I/O). The loop exists before the devices, which get it
 * through the machine. Whoever wants the VM stopped asks the machine
 * (request_stop); the main thread then kicks every vCPU out of KVM_RUN,
 * joins them, and prints the stop line. ACPI S3 is the machine's sleep and
 * wake: the vCPUs park (src/kvm/sleep.c) while the I/O thread runs on, and
 * the wake plays the firmware's part (the FACS's waking vector).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "qlite/boot.h"
#include "qlite/console.h"
#include "qlite/cpuid.h"
#include "qlite/kvm.h"
#include "qlite/devices.h"
#include "qlite/event_loop.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/vm.h"

static const char *const stop_names[] = {
	[STOP_NONE] = "running",
	[STOP_RESET] = "reset",
	[STOP_POWEROFF] = "poweroff",
	[STOP_DEBUG_EXIT] = "debug-exit",
	[STOP_SIGNAL] = "signal",
	[STOP_USER_QUIT] = "quit",
	[STOP_ERROR] = "error",
	[STOP_PANIC] = "panic",
};

void vm_request_stop(struct vm *vm, enum stop_reason why, int exit_status, const char *fmt, ...)
{
	uint64_t one = 1;
	va_list ap;

	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason != STOP_NONE) {
		pthread_mutex_unlock(&vm->stop_lock);
		return;
	}
	vm->stop_reason = why;
	/* What the shell will see: a process exit status keeps its low 8 bits. */
	vm->exit_status = exit_status & 0xff;
	va_start(ap, fmt);
	vsnprintf(vm->stop_detail, sizeof(vm->stop_detail), fmt, ap);
	va_end(ap);
	atomic_store(&vm->kvm.stopping, true);
	pthread_mutex_unlock(&vm->stop_lock);
	if (write(vm->stop_efd, &one, sizeof(one)) < 0)
		pr_errno("stop eventfd");
}

/* The machine's services, for devices and vCPUs. */
static void vm_machine_request_stop(struct machine *m, enum stop_reason why, int exit_status,
				    const char *detail)
{
	struct vm *vm = m->opaque;

	if (detail)
		vm_request_stop(vm, why, exit_status, "%s", detail);
	else if (why == STOP_USER_QUIT)
		vm_request_stop(vm, why, exit_status, "Ctrl-A x on the console");
	else
		vm_request_stop(vm, why, exit_status, "guest %s", stop_names[why]);
}

static void vm_machine_sleep(struct machine *m)
{
	struct vm *vm = m->opaque;

	kvm_sleep(&vm->kvm);
	for (unsigned i = 0; i < vm->kvm.nr_vcpus; i++)
		vcpu_kick(&vm->kvm.vcpus[i]);
}

/* What firmware does on a wake from S3: vCPU 0 to the OS's waking vector. */
static void vm_machine_wake(struct machine *m)
{
	struct vm *vm = m->opaque;
	const struct vcpu_reset_state *bsp = vm->kvm.vcpus[0].reset;
	struct kvm_regs regs = bsp->regs;
	struct kvm_sregs sregs = bsp->sregs;
	struct acpi_wake w;

	if (!vm->facs || acpi_waking_vector(&vm->mem, vm->facs, &w) < 0) {
		vm_request_stop(vm, STOP_ERROR, 1, "woke from ACPI S3 with no waking vector qlite can enter");
		return;
	}
	if (w.mode == ACPI_WAKE_NONE) {
		/* Firmware given no vector boots afresh: a reset, which ends qlite. */
		vm_request_stop(vm, STOP_RESET, 0, "woke from ACPI S3, the FACS's waking vectors are 0: reset");
		return;
	}
	boot_wake_regs(&w, &regs, &sregs);
	kvm_wake(&vm->kvm, &regs, &sregs);
}

static void vm_machine_irq_set(struct machine *m, unsigned gsi, int level)
{
	if (!m->ioapic) {
		kvm_irq_line(&((struct vm *)m->opaque)->kvm, gsi, level);
		return;
	}
	/* ISA IRQs reach the 8259 pair and the IOAPIC alike, as on a PC. */
	if (m->pic && gsi < ISA_NR_IRQS)
		pic8259_set_irq(m->pic, gsi, level);
	ioapic_set_irq(m->ioapic, gsi, level);
}

/* The PIC's INTR rose: vCPU 0 injects it before its next KVM_RUN (vcpu.c), so get it there. */
static void vm_machine_pic_intr(struct machine *m)
{
	struct vm *vm = m->opaque;

	if (vm->kvm.vcpus && vm->kvm.nr_vcpus)
		vcpu_kick_from_other(&vm->kvm.vcpus[0]);
}

static void vm_machine_msi_send(struct machine *m, uint64_t addr, uint32_t data)
{
	kvm_signal_msi(&((struct vm *)m->opaque)->kvm, addr, data);
}

static void print_quirks_line(const struct vm *vm)
{
	char masks[512] = "";
	size_t off = 0;

	for (unsigned i = 0; nested_quirk_cpuid_masks[i] && off < sizeof(masks); i++)
		off += snprintf(masks + off, sizeof(masks) - off, "%s-%s", i ? " " : "",
				nested_quirk_cpuid_masks[i]);
	pr_info("nested software-assisted KVM (host CPU shows neither VMX nor SVM): quirks on: cpuid %s; KVM signature hidden%s ('quirks off' disables them)",
		masks, vm->guest_is_linux ? "; Linux cmdline += noxsave nopcid clearcpuid=<the same list>" : "");
}

static int vm_load_kernel(struct vm *vm)
{
	struct vcpu *bsp = &vm->kvm.vcpus[0];
	struct vm_boot b = { 0 };
	int ret;

	if (ioctl(bsp->fd, KVM_GET_SREGS, &b.sregs) < 0)
		return report_errno(-errno, "KVM_GET_SREGS");
	ret = vm_load_boot(vm->spec, vm->quirks, vm->kvm.nr_vcpus, &vm->machine, &vm->mem, &b);
	if (ret < 0)
		goto out;
	vm->guest_is_linux = b.is_linux;
	for (unsigned i = 0; i < b.acpi.n; i++)
		if (!strcmp(b.acpi.t[i].sig, "FACS"))
			vm->facs = b.acpi.t[i].addr;
	if (ioctl(bsp->fd, KVM_SET_SREGS, &b.sregs) < 0 || ioctl(bsp->fd, KVM_SET_REGS, &b.regs) < 0)
		ret = report_errno(-errno, "vCPU 0: setting the boot registers");
out:
	vm_boot_free(&b);
	return ret;
}

/* The user's `cpuid` edits, as the KVM layer takes them. */
static int vm_prepare_cpuid(struct vm *vm)
{
	const struct vm_spec *spec = vm->spec;
	struct cpuid_change edits[CPUID_MAX_EDITS];

	for (unsigned i = 0; i < spec->nr_cpuid_edits && i < CPUID_MAX_EDITS; i++)
		edits[i] = (struct cpuid_change){
			.feature = spec->cpuid_edits[i].feature,
			.enable = spec->cpuid_edits[i].enable,
		};
	return cpuid_prepare(&vm->kvm, vm->quirks, edits, spec->nr_cpuid_edits);
}

static int vm_create_machine(struct vm *vm)
{
	struct machine *m = &vm->machine;

	m->bus[BUS_PIO] = bus_create(BUS_PIO);
	m->bus[BUS_MMIO] = bus_create(BUS_MMIO);
	if (!m->bus[BUS_PIO] || !m->bus[BUS_MMIO])
		return -ENOMEM;
	m->mem = &vm->mem;
	m->loop = vm->loop;
	m->accel = &kvm_accel_ops;
	m->accel_ctx = &vm->kvm;
	m->opaque = vm;
	m->irq_set = vm_machine_irq_set;
	m->msi_send = vm_machine_msi_send;
	m->pic_intr = vm_machine_pic_intr;
	m->request_stop = vm_machine_request_stop;
	m->sleep = vm_machine_sleep;
	m->wake = vm_machine_wake;
	vm->kvm.machine = m;
	return vm_assemble_devices(m, vm->spec, &vm->uart);
}

int vm_create(struct vm *vm, const struct vm_spec *spec)
{
	struct kvm *kvm = &vm->kvm;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->spec = spec;
	vm->stop_efd = -1;
	kvm->kvm_fd = kvm->vm_fd = -1;
	kvm->nr_vcpus = spec->nr_vcpus ? spec->nr_vcpus : 1;
	kvm->accounting = !spec->accounting_off;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&kvm->print_lock, NULL);
	pthread_mutex_init(&kvm->sleep_lock, NULL);
	pthread_cond_init(&kvm->sleep_cond, NULL);
	pthread_mutex_init(&kvm->route_lock, NULL);
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0)
		return report_errno(-errno, "eventfd");
	vm->loop = event_loop_create();
	if (!vm->loop)
		return report_errno(-errno, "the I/O thread's event loop");
	if (!event_loop_uses_io_uring(vm->loop))
		pr_info("io_uring unavailable (%s): the I/O thread uses epoll and a worker pool for disk I/O",
			strerror(-event_loop_io_uring_error(vm->loop)));
	ret = kvm_open(kvm);
	if (ret < 0)
		return ret;
	vm->nested_soft_kvm = host_is_nested_soft_kvm();
	vm->quirks = spec->quirks == QUIRKS_ON || (spec->quirks == QUIRKS_AUTO && vm->nested_soft_kvm);

	ret = guest_mem_init(&vm->mem, spec->ram_size, spec->memfd);
	if (ret < 0)
		return report_errno(ret, "guest RAM of %llu MiB",
				    (unsigned long long)(spec->ram_size >> 20));
	kvm->split_irqchip = spec->split_irqchip;
	ret = kvm_create_vm(kvm, &vm->mem);
	if (ret < 0)
		return ret;
	ret = kvm_apply_tuning(kvm, spec->exits_disable, spec->halt_poll_ns);
	if (ret < 0)
		return ret;
	ret = vm_create_machine(vm);
	if (ret < 0)
		return ret;
	ret = vm_prepare_cpuid(vm);
	if (ret < 0)
		return ret;
	kvm->vcpus = calloc(kvm->nr_vcpus, sizeof(*kvm->vcpus));
	if (!kvm->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < kvm->nr_vcpus; i++)
		kvm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < kvm->nr_vcpus; i++) {
		ret = vcpu_create(kvm, &kvm->vcpus[i], i);
		if (ret < 0)
			return ret;
	}
	ret = vm_load_kernel(vm);
	if (ret < 0)
		return ret;
	ret = vm_stats_create(vm);
	if (ret < 0)
		return ret;
	if (vm->quirks && vm->nested_soft_kvm)
		print_quirks_line(vm);
	else if (vm->quirks)
		pr_info("quirks on (forced): nested-KVM workarounds applied on a VMX/SVM host");
	return 0;
}

static void sigusr1_kick(int sig)
{
	/* Only there to make KVM_RUN return EINTR. */
}

static bool on_stop(void *opaque, int fd, uint32_t revents)
{
	struct vm *vm = opaque;

	event_loop_stop(vm->loop);
	return false;
}

static bool on_signal(void *opaque, int fd, uint32_t revents)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return true;
	vm_request_stop(vm, STOP_SIGNAL, 128 + si.ssi_signo, "host signal %s",
			strsignal(si.ssi_signo));
	return true;
}

static double elapsed_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * One line at stop: why, how long, and the exits (the full report is
 * --stats); the outputs that could not be written, and the status the VM
 * itself ended with (own_status) when that is why the exit status differs.
 */
static void vm_print_stop_line(struct vm *vm, int own_status)
{
	uint64_t reason[EXIT_REASON_MAX] = { 0 }, total = 0, unclaimed[BUS_NR_SPACES][2] = { { 0 } };
	char buf[1024], outputs[1024];
	size_t off = 0;

	for (unsigned i = 0; i < vm->kvm.nr_vcpus; i++) {
		const struct vcpu_stats *st = &vm->kvm.vcpus[i].stats;

		total += st->exits;
		for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
			reason[r] += st->reason[r];
		for (unsigned s = 0; s < BUS_NR_SPACES; s++)
			for (unsigned d = 0; d < 2; d++)
				unclaimed[s][d] += st->unclaimed[s][d];
	}
	for (unsigned r = 0; r < EXIT_REASON_MAX && off < sizeof(buf); r++)
		if (reason[r])
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s %llu", off ? ", " : "",
					kvm_exit_reason_name(r), (unsigned long long)reason[r]);
	fprintf(stderr, "qlite: stopped (%s: %s), exit status %d, after %.2f s; %llu exits (%s); unclaimed pio %llu reads %llu writes, mmio %llu reads %llu writes",
		stop_names[vm->stop_reason], vm->stop_detail, vm->exit_status,
		elapsed_since(&vm->started), (unsigned long long)total, off ? buf : "none",
		(unsigned long long)unclaimed[BUS_PIO][0], (unsigned long long)unclaimed[BUS_PIO][1],
		(unsigned long long)unclaimed[BUS_MMIO][0], (unsigned long long)unclaimed[BUS_MMIO][1]);
	if (vm_stats_output_errors(vm->stats, outputs, sizeof(outputs))) {
		fprintf(stderr, "; outputs not written");
		if (vm->exit_status != own_status)
			fprintf(stderr, " (exit status %d instead of %d)", vm->exit_status, own_status);
		fprintf(stderr, ": %s", outputs);
	}
	fputc('\n', stderr);
}

bool vm_io_cpus(const struct vm_spec *spec, cpu_set_t *io)
{
	unsigned nr = spec->nr_vcpus ? spec->nr_vcpus : 1;

	if (sched_getaffinity(0, sizeof(*io), io))
		return false;
	for (unsigned i = 0; i < nr; i++) {
		if (!spec->cluster_set[i])
			return false;
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &spec->cluster[i]))
				CPU_CLR(c, io);
	}
	return CPU_COUNT(io) > 0;
}

/*
 * A kick's ioeventfd is signalled from the vCPU's own KVM_RUN, and the
 * scheduler likes to wake the I/O thread on that CPU, where it waits for the
 * vCPU (spinning on the used ring, say) to be preempted: a polled virtio-blk
 * request took 39 us so against 6 us with the I/O thread on another CPU
 * (this host, bench/RESULTS.md section 5). With the vCPUs pinned, keep it off
 * their CPUs when others are there.
 */
static void vm_place_io_thread(struct vm *vm)
{
	cpu_set_t io;

	if (!vm_io_cpus(vm->spec, &io))
		return;
	if (sched_setaffinity(0, sizeof(io), &io))
		pr_errno("cannot keep the I/O thread off the vCPUs' host CPUs");
}

int vm_run(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = sigusr1_kick };
	sigset_t stop_signals;
	int sfd, own_status;

	/* No SA_RESTART: a kicked vCPU must leave KVM_RUN. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	/* Blocked before any vCPU thread exists, so only the signalfd sees them. */
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	sfd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);

	if (sfd < 0) {
		pr_errno("signalfd");
		return 1;
	}
	if (event_loop_add(vm->loop, vm->stop_efd, POLLIN, on_stop, vm) < 0 ||
	    event_loop_add(vm->loop, sfd, POLLIN, on_signal, vm) < 0) {
		pr_err("event loop: cannot watch the stop and signal fds");
		return 1;
	}
	vm->console = console_create(&vm->machine, vm->uart, vm->loop, STDIN_FILENO);

	clock_gettime(CLOCK_MONOTONIC, &vm->started);
	for (unsigned i = 0; i < vm->kvm.nr_vcpus; i++) {
		const struct vm_spec *spec = vm->spec;

		if (vcpu_start(&vm->kvm.vcpus[i], spec->cluster_set[i] ? &spec->cluster[i] : NULL) < 0) {
			vm_request_stop(vm, STOP_ERROR, 1, "vCPU %u could not start", i);
			break;
		}
	}
	/* After the vCPUs: their threads take their own clusters, not this thread's set. */
	vm_place_io_thread(vm);
	if (vm->stats && vm_stats_start(vm->stats, vm->loop) < 0)
		vm_request_stop(vm, STOP_ERROR, 1, "exit reports could not start");
	if (!atomic_load(&vm->kvm.stopping))
		event_loop_run(vm->loop);

	kvm_sleep_release(&vm->kvm);
	for (unsigned i = 0; i < vm->kvm.nr_vcpus; i++)
		vcpu_kick(&vm->kvm.vcpus[i]);
	for (unsigned i = 0; i < vm->kvm.nr_vcpus; i++)
		if (vm->kvm.vcpus[i].thread_started)
			pthread_join(vm->kvm.vcpus[i].thread, NULL);
	console_restore_terminal();
	close(sfd);
	/* Reports the user asked for are missing: a VM that ran fine must not look fine (README). */
	own_status = vm->exit_status;
	if (vm->stats && vm_stats_finish(vm->stats) < 0 && vm->stop_reason != STOP_ERROR)
		vm->exit_status = VM_EXIT_OUTPUT;
	vm_print_stop_line(vm, own_status);
	return vm->exit_status;
}

void vm_destroy(struct vm *vm)
{
	struct machine *m = &vm->machine;
	struct kvm *kvm = &vm->kvm;

	vm_stats_destroy(vm->stats);
	if (vm->console)
		console_destroy(vm->console);
	for (unsigned i = 0; kvm->vcpus && i < kvm->nr_vcpus; i++)
		vcpu_destroy(&kvm->vcpus[i]);
	free(kvm->vcpus);
	/* Devices first: their doorbells and interrupt events still hold KVM and loop fds. */
	if (m->pci)
		pci_host_destroy(m->pci);
	if (vm->uart)
		uart8250_destroy(vm->uart);
	machine_release_all(m);
	event_loop_destroy(vm->loop);
	kvm_close(kvm);
	guest_mem_destroy(&vm->mem);
	bus_destroy(m->bus[BUS_PIO]);
	bus_destroy(m->bus[BUS_MMIO]);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	pthread_mutex_destroy(&kvm->route_lock);
	pthread_mutex_destroy(&kvm->print_lock);
	pthread_cond_destroy(&kvm->sleep_cond);
	pthread_mutex_destroy(&kvm->sleep_lock);
	pthread_mutex_destroy(&vm->stop_lock);
}
