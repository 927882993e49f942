// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM bring-up: /dev/kvm, the capabilities qlite relies on, the VM with its
 * in-kernel IOAPIC/PIC/PIT, guest RAM slots, and the interrupt lines the
 * VM's machine services use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "qlite/util.h"
#include "qlite/kvm.h"
#include "qlite/platform.h"

/* Reserved just below the BIOS: never RAM, never a PCI BAR (the window ends at IOAPIC_BASE). */
#define KVM_TSS_ADDR		0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL

struct kvm_cap_need {
	int cap;
	const char *name;
};

static const struct kvm_cap_need required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
};

int kvm_open(struct kvm *kvm)
{
	int version;

	kvm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->kvm_fd < 0)
		return report_errno(-errno, "/dev/kvm: open");
	version = ioctl(kvm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION)
		return report(-ENOTSUP, "/dev/kvm: API version %d, qlite needs %d", version,
			      KVM_API_VERSION);
	for (unsigned i = 0; i < ARRAY_SIZE(required_caps); i++)
		if (ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			return report(-ENOTSUP, "/dev/kvm: missing capability %s",
				      required_caps[i].name);
	kvm->have_ioeventfd = ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0;
	kvm->have_irqfd = ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) > 0;
	kvm->coalesced_page = ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (kvm->coalesced_page < 0)
		kvm->coalesced_page = 0;
	pthread_mutex_init(&kvm->coalesced_lock, NULL);
	kvm->run_mmap_size = ioctl(kvm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->run_mmap_size < (int)sizeof(struct kvm_run))
		return report_errno(-(errno ? errno : EINVAL), "/dev/kvm: KVM_GET_VCPU_MMAP_SIZE");
	return 0;
}

static int kvm_map_ram(struct kvm *kvm, const struct guest_mem *mem)
{
	for (unsigned i = 0; i < mem->nr_slots; i++) {
		const struct guest_mem_slot *s = &mem->slots[i];
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = s->gpa,
			.memory_size = s->size,
			.userspace_addr = (uintptr_t)s->hva,
		};

		if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return report_errno(-errno, "KVM_SET_USER_MEMORY_REGION slot %u (%#llx bytes at %#llx)",
					    i, (unsigned long long)s->size,
					    (unsigned long long)s->gpa);
	}
	return 0;
}

int kvm_create_vm(struct kvm *kvm, const struct guest_mem *mem)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;
	int ret;

	kvm->vm_fd = ioctl(kvm->kvm_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0)
		return report_errno(-errno, "KVM_CREATE_VM");
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		return report_errno(-errno, "KVM_SET_TSS_ADDR");
	/* Only VMX without unrestricted guest uses it; optional elsewhere. */
	if (ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		return report_errno(-errno, "KVM_SET_IDENTITY_MAP_ADDR");
	ret = kvm_map_ram(kvm, mem);
	if (ret < 0)
		return ret;
	if (kvm->split_irqchip) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_SPLIT_IRQCHIP,
			.args[0] = IOAPIC_NR_PINS,	/* GSIs kept for the IOAPIC's pins */
		};

		if (ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) <= 0)
			return report(-ENOTSUP, "irqchip split: this KVM lacks KVM_CAP_SPLIT_IRQCHIP");
		if (ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			return report_errno(-errno, "KVM_CAP_SPLIT_IRQCHIP");
		/* No PIC, so no in-kernel PIT either (KVM refuses one without its PIC). */
		return 0;
	}
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return report_errno(-errno, "KVM_CREATE_IRQCHIP");
	/* Speaker port 0x61 stays in the kernel too: Linux polls it in PIT calibration. */
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return report_errno(-errno, "KVM_CREATE_PIT2");
	return 0;
}

int kvm_apply_tuning(struct kvm *kvm, unsigned exits_disable, int64_t halt_poll_ns)
{
	if (exits_disable) {
		int allowed = ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_DISABLE_EXITS);
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_X86_DISABLE_EXITS,
			.args[0] = exits_disable,
		};

		if (allowed <= 0 || (exits_disable & ~(unsigned)allowed))
			return report(-ENOTSUP, "exits disable: this KVM allows only %#x of the requested %#x (KVM_CAP_X86_DISABLE_EXITS)",
				      allowed > 0 ? allowed : 0, exits_disable);
		if (ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			return report_errno(-errno, "KVM_CAP_X86_DISABLE_EXITS");
	}
	if (halt_poll_ns >= 0) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_HALT_POLL,
			.args[0] = halt_poll_ns,
		};

		if (ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL) <= 0)
			return report(-ENOTSUP, "halt-poll: this KVM lacks KVM_CAP_HALT_POLL");
		if (ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			return report_errno(-errno, "KVM_CAP_HALT_POLL");
	}
	return 0;
}

void kvm_irq_line(struct kvm *kvm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		pr_errno("KVM_IRQ_LINE gsi %u level %d", gsi, level);
}

void kvm_signal_msi(struct kvm *kvm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = addr >> 32,
		.data = data,
	};

	/* 0 means the guest masked or filtered it: not an error. */
	if (ioctl(kvm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		pr_errno("KVM_SIGNAL_MSI addr %#llx data %#x", (unsigned long long)addr, data);
}

void kvm_close(struct kvm *kvm)
{
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->kvm_fd >= 0)
		close(kvm->kvm_fd);
	kvm->vm_fd = kvm->kvm_fd = -1;
	free(kvm->cpuid);
	kvm->cpuid = NULL;
	kvm->coalesced_ring = NULL;
}

bool host_is_nested_soft_kvm(void)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		found = strstr(line, " vmx") || strstr(line, " svm");
		break;
	}
	fclose(f);
	return !found;
}
