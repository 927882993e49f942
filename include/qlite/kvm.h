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
#include "platform.h"
#include "stats.h"

struct kvm;

/* A vCPU as qlite set it up at creation: what it is reset to on a wake from S3 (sleep.c). */
struct vcpu_reset_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
};

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
	struct vcpu_reset_state *reset;	/* NULL until vcpu_create has set it up */
	uint64_t slept;			/* the last sleep generation it took part in */
	bool extint_failed;		/* a KVM_INTERRUPT of the PIC's vector failed (said once) */
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

	/*
	 * KVM_CAP_SPLIT_IRQCHIP: KVM has the LAPICs only; GSIs 0-23 route
	 * to the MSIs qlite's IOAPIC gives them (ioapic_routes), not to
	 * KVM's IOAPIC and PICs.
	 */
	bool split_irqchip;
	/* MSI routes added after the default IOAPIC/PIC ones (KVM_SET_GSI_ROUTING). */
	pthread_mutex_t route_lock;
	struct kvm_msi_route msi_routes[KVM_MAX_MSI_ROUTES];
	struct kvm_msi_route ioapic_routes[IOAPIC_NR_PINS];	/* split_irqchip */
	bool have_ioeventfd, have_irqfd;

	/*
	 * KVM_CAP_COALESCED_MMIO: the ring's page in each vCPU's mapping (0: none).
	 * The ring is one for the VM; whoever drains it holds coalesced_lock, so
	 * the writes reach the bus in the order the guest made them.
	 */
	int coalesced_page;
	struct kvm_coalesced_mmio_ring *coalesced_ring;
	pthread_mutex_t coalesced_lock;

	/*
	 * ACPI S3 (sleep.c). Each sleep is a generation: every vCPU parks in it
	 * before its next KVM_RUN, and none leaves before all have parked and
	 * the wake came (so vCPU 0 cannot run on while another still runs the
	 * code from before the sleep). Under sleep_lock but sleep_gen, which
	 * the vCPU loops read on every pass.
	 */
	pthread_mutex_t sleep_lock;
	pthread_cond_t sleep_cond;
	_Atomic uint64_t sleep_gen;
	uint64_t wake_gen, all_asleep_gen;
	unsigned asleep;		/* vCPUs parked in sleep_gen */
	struct kvm_regs wake_regs;	/* vCPU 0's entry at the waking vector */
	struct kvm_sregs wake_sregs;
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
/* The same, but nothing when called on the vCPU's own thread (it looks before its next KVM_RUN). */
void vcpu_kick_from_other(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);
void vcpu_dump_regs(struct vcpu *vcpu, FILE *out);
/* Dispatch the writes waiting in the coalesced MMIO ring, counted in vcpu's stats. */
void vcpu_drain_coalesced(struct vcpu *vcpu);

/*
 * sleep.c: ACPI S3 for the vCPU threads. kvm_sleep() from any thread (then
 * kick every vCPU out of KVM_RUN); kvm_wake() with vCPU 0's entry state,
 * once (the others wait for a SIPI); kvm_sleep_release() when the VM stops,
 * so that parked vCPUs leave. vcpu_save_reset_state() at creation, after
 * qlite's set-up; vcpu_sleep() on the vCPU's thread when vcpu_sleep_due(),
 * after a KVM_RUN with immediate_exit returned EINTR (no exit pending).
 */
void kvm_sleep(struct kvm *kvm);
void kvm_wake(struct kvm *kvm, const struct kvm_regs *regs, const struct kvm_sregs *sregs);
void kvm_sleep_release(struct kvm *kvm);
int vcpu_save_reset_state(struct vcpu *vcpu);
bool vcpu_sleep_due(struct vcpu *vcpu);
void vcpu_sleep(struct vcpu *vcpu);

/* True when the host CPU flags show neither VMX nor SVM (a nested, software-assisted KVM). */
bool host_is_nested_soft_kvm(void);

#endif
