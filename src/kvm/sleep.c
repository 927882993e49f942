// SPDX-License-Identifier: GPL-2.0-only
/*
 * ACPI S3 for the vCPU threads. The PM device's SLP_EN write asks the
 * machine to sleep; the VM starts a sleep generation here and kicks every
 * vCPU out of KVM_RUN. Each vCPU thread then enters KVM_RUN with
 * immediate_exit set, which completes the exit in hand (on the vCPU that
 * wrote SLP_EN, that write: its OUT is the last instruction run) and
 * returns EINTR without running another (vcpu.c); there it parks. The wake
 * (an enabled event, on the I/O thread) brings vCPU 0's state at the OS's
 * waking vector; once every vCPU has parked, each resets itself: vCPU 0 to
 * that state, the others to their reset state waiting for a SIPI, as after
 * an INIT. Guest RAM, the in-kernel PICs and IOAPIC and the devices keep
 * their state; so do the MSRs outside the segment state (an OS resuming
 * restores its own, as on hardware whose firmware does not).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "qlite/kvm.h"
#include "qlite/util.h"

int vcpu_save_reset_state(struct vcpu *vcpu)
{
	struct vcpu_reset_state *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &r->regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &r->sregs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_FPU, &r->fpu) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_LAPIC, &r->lapic) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &r->events) < 0) {
		err = -errno;
		free(r);
		return err;
	}
	vcpu->reset = r;
	return 0;
}

void kvm_sleep(struct kvm *kvm)
{
	pthread_mutex_lock(&kvm->sleep_lock);
	kvm->asleep = 0;
	atomic_fetch_add(&kvm->sleep_gen, 1);
	pthread_mutex_unlock(&kvm->sleep_lock);
}

void kvm_wake(struct kvm *kvm, const struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
	pthread_mutex_lock(&kvm->sleep_lock);
	kvm->wake_regs = *regs;
	kvm->wake_sregs = *sregs;
	kvm->wake_gen = atomic_load(&kvm->sleep_gen);
	pthread_cond_broadcast(&kvm->sleep_cond);
	pthread_mutex_unlock(&kvm->sleep_lock);
}

void kvm_sleep_release(struct kvm *kvm)
{
	/* Under the lock: a vCPU checks `stopping` under it before it waits. */
	pthread_mutex_lock(&kvm->sleep_lock);
	pthread_cond_broadcast(&kvm->sleep_cond);
	pthread_mutex_unlock(&kvm->sleep_lock);
}

bool vcpu_sleep_due(struct vcpu *vcpu)
{
	return vcpu->slept != atomic_load(&vcpu->kvm->sleep_gen);
}

/* vCPU 0 enters regs/sregs; the others are reset and wait for a SIPI. */
static int vcpu_reset(struct vcpu *vcpu, const struct kvm_regs *regs,
		      const struct kvm_sregs *sregs)
{
	const struct vcpu_reset_state *r = vcpu->reset;
	struct kvm_mp_state mp = {
		vcpu->id ? KVM_MP_STATE_INIT_RECEIVED : KVM_MP_STATE_RUNNABLE,
	};

	if (!vcpu->id) {
		if (ioctl(vcpu->fd, KVM_SET_SREGS, sregs) < 0 ||
		    ioctl(vcpu->fd, KVM_SET_REGS, regs) < 0)
			return -errno;
	} else if (ioctl(vcpu->fd, KVM_SET_SREGS, &r->sregs) < 0 ||
		   ioctl(vcpu->fd, KVM_SET_REGS, &r->regs) < 0) {
		return -errno;
	}
	/* The LAPIC after the APIC base (in the sregs) that places it. */
	if (ioctl(vcpu->fd, KVM_SET_FPU, &r->fpu) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_LAPIC, &r->lapic) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &r->events) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0)
		return -errno;
	return 0;
}

void vcpu_sleep(struct vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t gen;
	bool stop;
	int ret;

	pthread_mutex_lock(&kvm->sleep_lock);
	gen = atomic_load(&kvm->sleep_gen);
	vcpu->slept = gen;
	if (++kvm->asleep == kvm->nr_vcpus) {
		kvm->all_asleep_gen = gen;
		pthread_cond_broadcast(&kvm->sleep_cond);
	}
	while (!atomic_load(&kvm->stopping) && (kvm->wake_gen < gen || kvm->all_asleep_gen < gen))
		pthread_cond_wait(&kvm->sleep_cond, &kvm->sleep_lock);
	stop = atomic_load(&kvm->stopping);
	regs = kvm->wake_regs;
	sregs = kvm->wake_sregs;
	pthread_mutex_unlock(&kvm->sleep_lock);
	if (stop)
		return;
	ret = vcpu_reset(vcpu, &regs, &sregs);
	if (ret < 0) {
		char detail[128];

		snprintf(detail, sizeof(detail), "vCPU %u: reset for the wake from S3: %s", vcpu->id,
			 strerror(-ret));
		kvm->machine->request_stop(kvm->machine, STOP_ERROR, 1, detail);
	}
}
