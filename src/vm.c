// SPDX-License-Identifier: GPL-2.0-only
/*
 * Assemble a VM from a vm_spec, run it, stop it, tear it down.
 *
 * Threads: one per vCPU plus the main thread, which is the I/O thread (the
 * event loop: console input, signals, the stop eventfd). Whoever wants the
 * VM stopped calls vm_request_stop(); the main thread then kicks every vCPU
 * out of KVM_RUN, joins them, and prints the stop line.
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
	vm->exit_status = exit_status;
	va_start(ap, fmt);
	vsnprintf(vm->stop_detail, sizeof(vm->stop_detail), fmt, ap);
	va_end(ap);
	atomic_store(&vm->stopping, true);
	pthread_mutex_unlock(&vm->stop_lock);
	if (write(vm->stop_efd, &one, sizeof(one)) < 0)
		pr_errno("stop eventfd");
}

/* The machine's stop service, for devices. */
static void machine_request_stop(struct machine *m, enum stop_reason why, int exit_status)
{
	struct vm *vm = m->opaque;

	switch (why) {
	case STOP_DEBUG_EXIT:
		vm_request_stop(vm, why, exit_status, "guest wrote %d to the debug-exit port",
				exit_status >> 1);
		break;
	case STOP_USER_QUIT:
		vm_request_stop(vm, why, exit_status, "Ctrl-A x on the console");
		break;
	default:
		vm_request_stop(vm, why, exit_status, "guest %s", stop_names[why]);
	}
}

static int load_image(const char *path, struct boot_image *img, uint8_t **buf)
{
	size_t len;
	int ret = read_file(path, buf, &len);

	if (ret < 0) {
		pr_err("%s: %s", path, strerror(-ret));
		return -1;
	}
	*img = (struct boot_image){ .data = *buf, .len = len, .path = path };
	return 0;
}

char *vm_effective_cmdline(const struct vm_spec *spec, bool quirks, bool is_linux)
{
	const char *user = spec->cmdline ? spec->cmdline : "";
	char *s;

	if (!(quirks && is_linux))
		return strdup(user);
	if (asprintf(&s, "%s%s%s", user, *user ? " " : "", nested_quirk_linux_cmdline) < 0)
		return NULL;
	return s;
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
	const struct vm_spec *spec = vm->spec;
	struct boot_image kernel, initrd;
	uint8_t *kbuf = NULL, *ibuf = NULL;
	struct boot_result res;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	char err[512];
	char *cmdline = NULL;
	int ret = -1;

	if (!spec->kernel) {
		pr_err("no kernel given (--kernel FILE or 'kernel FILE')");
		return -1;
	}
	if (load_image(spec->kernel, &kernel, &kbuf) < 0)
		return -1;
	if (spec->initrd && load_image(spec->initrd, &initrd, &ibuf) < 0)
		goto out;
	vm->guest_is_linux = boot_image_is_linux(&kernel);
	cmdline = vm_effective_cmdline(spec, vm->quirks, vm->guest_is_linux);
	if (!cmdline)
		goto out;
	if (boot_load(&vm->mem, &kernel, spec->initrd ? &initrd : NULL, cmdline, &res,
		      err, sizeof(err)) < 0) {
		pr_err("%s", err);
		goto out;
	}
	boot_regs(&res, &regs);
	if (ioctl(vm->vcpus[0].fd, KVM_GET_SREGS, &sregs) < 0) {
		pr_errno("KVM_GET_SREGS");
		goto out;
	}
	if (boot_sregs(&vm->mem, &res, &sregs) < 0) {
		pr_err("guest RAM too small for the boot structures");
		goto out;
	}
	if (ioctl(vm->vcpus[0].fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vm->vcpus[0].fd, KVM_SET_REGS, &regs) < 0) {
		pr_errno("vCPU 0: setting the boot registers");
		goto out;
	}
	if (mptable_write(&vm->mem, vm->nr_vcpus, vm->machine.pci, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		goto out;
	}
	ret = 0;
out:
	free(cmdline);
	free(kbuf);
	free(ibuf);
	return ret;
}


int vm_create(struct vm *vm, const struct vm_spec *spec)
{
	struct machine *m = &vm->machine;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->spec = spec;
	vm->kvm_fd = vm->vm_fd = vm->stop_efd = -1;
	vm->nr_vcpus = spec->nr_vcpus ? spec->nr_vcpus : 1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0) {
		pr_errno("eventfd");
		return -1;
	}
	if (kvm_open(vm) < 0)
		return -1;
	vm->nested_soft_kvm = host_is_nested_soft_kvm();
	vm->quirks = spec->quirks == QUIRKS_ON || (spec->quirks == QUIRKS_AUTO && vm->nested_soft_kvm);

	ret = guest_mem_init(&vm->mem, spec->ram_size, spec->memfd);
	if (ret < 0) {
		pr_err("guest RAM of %llu MiB: %s", (unsigned long long)(spec->ram_size >> 20),
		       strerror(-ret));
		return -1;
	}
	if (kvm_create_vm(vm) < 0 || kvm_apply_tuning(vm) < 0)
		return -1;

	m->bus[BUS_PIO] = bus_create(BUS_PIO);
	m->bus[BUS_MMIO] = bus_create(BUS_MMIO);
	if (!m->bus[BUS_PIO] || !m->bus[BUS_MMIO])
		return -1;
	m->mem = &vm->mem;
	m->opaque = vm;
	m->irq_set = kvm_irq_set;
	m->msi_send = kvm_msi_send;
	m->request_stop = machine_request_stop;
	if (platform_create(m, &vm->uart) < 0)
		return -1;

	if (cpuid_prepare(vm) < 0)
		return -1;
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vcpu_create(vm, &vm->vcpus[i], i) < 0)
			return -1;
	if (vm_load_kernel(vm) < 0)
		return -1;
	vm->accounting = !spec->accounting_off;
	if (vm_stats_create(vm) < 0)
		return -1;
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

/* One line at stop: why, how long, and the exits (the full report is --stats). */
static void vm_print_stop_line(struct vm *vm)
{
	uint64_t reason[EXIT_REASON_MAX] = { 0 }, total = 0, unclaimed[BUS_NR_SPACES][2] = { { 0 } };
	char buf[1024];
	size_t off = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_stats *st = &vm->vcpus[i].stats;

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
	fprintf(stderr, "qlite: stopped (%s: %s), exit status %d, after %.2f s; %llu exits (%s); unclaimed pio %llu reads %llu writes, mmio %llu reads %llu writes\n",
		stop_names[vm->stop_reason], vm->stop_detail, vm->exit_status,
		elapsed_since(&vm->started), (unsigned long long)total, off ? buf : "none",
		(unsigned long long)unclaimed[BUS_PIO][0], (unsigned long long)unclaimed[BUS_PIO][1],
		(unsigned long long)unclaimed[BUS_MMIO][0], (unsigned long long)unclaimed[BUS_MMIO][1]);
}

int vm_run(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = sigusr1_kick };
	sigset_t stop_signals;
	int sfd;

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

	vm->loop = event_loop_create();
	if (!vm->loop || sfd < 0)
		return 1;
	if (event_loop_add(vm->loop, vm->stop_efd, POLLIN, on_stop, vm) < 0 ||
	    event_loop_add(vm->loop, sfd, POLLIN, on_signal, vm) < 0) {
		pr_err("event loop: cannot watch the stop and signal fds");
		return 1;
	}
	vm->console = console_create(&vm->machine, vm->uart, vm->loop, STDIN_FILENO);

	clock_gettime(CLOCK_MONOTONIC, &vm->started);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (vcpu_start(&vm->vcpus[i]) < 0) {
			vm_request_stop(vm, STOP_ERROR, 1, "vCPU %u could not start", i);
			break;
		}
	}
	if (vm->stats && vm_stats_start(vm->stats, vm->loop) < 0)
		vm_request_stop(vm, STOP_ERROR, 1, "exit reports could not start");
	if (!atomic_load(&vm->stopping))
		event_loop_run(vm->loop);

	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].thread_started)
			pthread_join(vm->vcpus[i].thread, NULL);
	console_restore_terminal();
	close(sfd);
	if (vm->stats)
		vm_stats_finish(vm->stats);
	vm_print_stop_line(vm);
	return vm->exit_status;
}

void vm_destroy(struct vm *vm)
{
	struct machine *m = &vm->machine;

	vm_stats_destroy(vm->stats);
	if (vm->console)
		console_destroy(vm->console);
	event_loop_destroy(vm->loop);
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	free(vm->cpuid);
	if (m->pci)
		pci_host_destroy(m->pci);
	if (vm->uart)
		uart8250_destroy(vm->uart);
	machine_release_all(m);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	guest_mem_destroy(&vm->mem);
	bus_destroy(m->bus[BUS_PIO]);
	bus_destroy(m->bus[BUS_MMIO]);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	pthread_mutex_destroy(&vm->stop_lock);
}
