/* SPDX-License-Identifier: GPL-2.0-only */
/* A VM assembled from a vm_spec: KVM objects, guest RAM, devices, vCPU threads. */
#ifndef QLITE_VM_H
#define QLITE_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/kvm.h>

#include "config.h"
#include "guest_mem.h"
#include "machine.h"
#include "stats.h"

struct vm;
struct event_loop;
struct uart8250;
struct console;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool thread_started;
	atomic_int tid;			/* host thread id, for affinity checks and reports */
	struct vcpu_stats stats;
	struct region_stats *cur_region;	/* the device this exit went to, for its handler time */
};

struct vm {
	const struct vm_spec *spec;
	int kvm_fd;
	int vm_fd;
	int run_mmap_size;
	bool nested_soft_kvm;		/* host CPU shows neither VMX nor SVM */
	bool quirks;			/* nested-KVM workarounds applied */
	bool guest_is_linux;
	bool accounting;		/* per-device/register/timing accounting of exits */
	struct vm_stats *stats;		/* reporters (src/vm_stats.c), NULL without --stats */
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID, edited once for all vCPUs */

	struct guest_mem mem;
	struct machine machine;
	struct uart8250 *uart;
	struct console *console;
	struct event_loop *loop;

	unsigned nr_vcpus;
	struct vcpu *vcpus;

	/* Stopping: the first request wins; the main thread then kicks and joins. */
	pthread_mutex_t stop_lock;
	atomic_bool stopping;
	enum stop_reason stop_reason;
	int exit_status;
	int stop_efd;			/* written once a stop is requested */
	char stop_detail[256];

	struct timespec started;
};

/* Build everything up to (not including) starting the vCPU threads. Returns -1 after printing why. */
int vm_create(struct vm *vm, const struct vm_spec *spec);
/* Start the vCPUs, serve I/O until the VM stops; returns the process exit status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

/* The kernel command line the guest gets: the user's, plus the nested-KVM additions for Linux. */
char *vm_effective_cmdline(const struct vm_spec *spec, bool quirks, bool is_linux);
/* `qlite check`: the assembled machine, built without KVM, printed to out (and as a DTB). */
int vm_describe(const struct vm_spec *spec, FILE *out, const char *dtb_path);
int vm_write_dtb(const struct vm_spec *spec, struct machine *m, const struct guest_mem *layout,
		 const char *cmdline, const char *path);

void vm_request_stop(struct vm *vm, enum stop_reason why, int exit_status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* src/vm_stats.c: the exit reports of --stats. */
int vm_stats_create(struct vm *vm);
int vm_stats_start(struct vm_stats *s, struct event_loop *loop);
void vm_stats_finish(struct vm_stats *s);
void vm_stats_destroy(struct vm_stats *s);

/* src/kvm/: KVM bring-up and vCPUs. */
int kvm_open(struct vm *vm);
int kvm_create_vm(struct vm *vm);
void kvm_irq_set(struct machine *m, unsigned gsi, int level);
void kvm_msi_send(struct machine *m, uint64_t addr, uint32_t data);
int kvm_apply_tuning(struct vm *vm);

/* cpuid.c: fetch the supported leaves and apply quirks and the spec's edits. */
int cpuid_prepare(struct vm *vm);
int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned id);
int vcpu_setup_cpuid(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);
void vcpu_dump_regs(struct vcpu *vcpu, FILE *out);

/* True when the host CPU flags show neither VMX nor SVM (a nested, software-assisted KVM). */
bool host_is_nested_soft_kvm(void);

#endif
