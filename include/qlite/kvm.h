/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The KVM layer (src/kvm/): /dev/kvm, the VM file descriptor with its
 * in-kernel interrupt controllers and RAM slots, CPUID, and the vCPU
 * threads. It knows the machine (buses, stop service) but no VM
 * description: whoever assembles the VM passes the values it needs.
 */
#ifndef QLITE_KVM_H
#define QLITE_KVM_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/kvm.h>

#include "guest_mem.h"
#include "machine.h"
#include "stats.h"

struct kvm;

struct vcpu {
	struct kvm *kvm;
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

/* One routed interrupt of KVM's GSI routing table (an MSI behind an irqfd). */
struct kvm_msi_route {
	unsigned gsi;
	uint64_t addr;
	uint32_t data;
	bool used;
};

#define KVM_MAX_MSI_ROUTES	64

struct kvm {
	int kvm_fd;
	int vm_fd;
	int run_mmap_size;
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID, edited once for all vCPUs */
	struct machine *machine;	/* where exits go, and who is asked to stop */
	bool accounting;		/* per-device/register/timing accounting of exits */
	atomic_bool stopping;		/* set once a stop is requested: vCPU loops end */
	pthread_mutex_t print_lock;	/* one vCPU's fatal dump at a time */

	unsigned nr_vcpus;
	struct vcpu *vcpus;

	/* MSI routes added after the default IOAPIC/PIC ones (KVM_SET_GSI_ROUTING). */
	pthread_mutex_t route_lock;
	struct kvm_msi_route msi_routes[KVM_MAX_MSI_ROUTES];
	bool have_ioeventfd, have_irqfd;

	/*
	 * KVM_CAP_COALESCED_MMIO: the ring's page in each vCPU's mapping (0: none).
	 * The ring is one for the VM; whoever drains it holds coalesced_lock, so
	 * the writes reach the bus in the order the guest made them.
	 */
	int coalesced_page;
	struct kvm_coalesced_mmio_ring *coalesced_ring;
	pthread_mutex_t coalesced_lock;
};

/* kvm.c: bring-up. All return 0 or -errno after one message saying what failed. */
int kvm_open(struct kvm *kvm);
int kvm_create_vm(struct kvm *kvm, const struct guest_mem *mem);
/* KVM_CAP_X86_DISABLE_EXITS bits (0: none) and KVM_CAP_HALT_POLL (-1: KVM's default). */
int kvm_apply_tuning(struct kvm *kvm, unsigned exits_disable, int64_t halt_poll_ns);
void kvm_close(struct kvm *kvm);
void kvm_irq_line(struct kvm *kvm, unsigned gsi, int level);
void kvm_signal_msi(struct kvm *kvm, uint64_t addr, uint32_t data);

/* The in-kernel shortcuts of the machine's doorbells and interrupt eventfds. */
extern const struct machine_accel_ops kvm_accel_ops;

/* cpuid.c: fetch the supported leaves, apply the nested-KVM masks and the user's edits. */
struct cpuid_change {
	const char *feature;
	bool enable;
};
int cpuid_prepare(struct kvm *kvm, bool quirks, const struct cpuid_change *edits, unsigned n);
int vcpu_setup_cpuid(struct vcpu *vcpu);

/* vcpu.c: the vCPUs and their threads. */
int vcpu_create(struct kvm *kvm, struct vcpu *vcpu, unsigned id);
/* Start the thread, pinned to pin when it is not NULL. */
int vcpu_start(struct vcpu *vcpu, const cpu_set_t *pin);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);
void vcpu_dump_regs(struct vcpu *vcpu, FILE *out);
/* Dispatch the writes waiting in the coalesced MMIO ring, counted in vcpu's stats. */
void vcpu_drain_coalesced(struct vcpu *vcpu);

/* True when the host CPU flags show neither VMX nor SVM (a nested, software-assisted KVM). */
bool host_is_nested_soft_kvm(void);

#endif
