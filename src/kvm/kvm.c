// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM bring-up: /dev/kvm, the capabilities qlite relies on, the VM with its
 * in-kernel IOAPIC/PIC/PIT, guest RAM slots, and the interrupt services
 * devices use through struct machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "qlite/util.h"
#include "qlite/vm.h"

/* Reserved just below the BIOS: never RAM, never a PCI BAR (the window ends at 0xfec00000). */
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

int kvm_open(struct vm *vm)
{
	int version;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		pr_errno("/dev/kvm: open");
		return -1;
	}
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		pr_err("/dev/kvm: API version %d, qlite needs %d", version, KVM_API_VERSION);
		return -1;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			pr_err("/dev/kvm: missing capability %s", required_caps[i].name);
			return -1;
		}
	}
	vm->run_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_mmap_size < (int)sizeof(struct kvm_run)) {
		pr_errno("/dev/kvm: KVM_GET_VCPU_MMAP_SIZE");
		return -1;
	}
	return 0;
}

static int kvm_map_ram(struct vm *vm)
{
	for (unsigned i = 0; i < vm->mem.nr_slots; i++) {
		struct guest_mem_slot *s = &vm->mem.slots[i];
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = s->gpa,
			.memory_size = s->size,
			.userspace_addr = (uintptr_t)s->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			pr_errno("KVM_SET_USER_MEMORY_REGION slot %u (%#llx bytes at %#llx)", i,
				 (unsigned long long)s->size, (unsigned long long)s->gpa);
			return -1;
		}
	}
	return 0;
}

int kvm_create_vm(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		pr_errno("KVM_CREATE_VM");
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		pr_errno("KVM_SET_TSS_ADDR");
		return -1;
	}
	/* Only VMX without unrestricted guest uses it; optional elsewhere. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) {
		pr_errno("KVM_SET_IDENTITY_MAP_ADDR");
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		pr_errno("KVM_CREATE_IRQCHIP");
		return -1;
	}
	/* Speaker port 0x61 stays in the kernel too: Linux polls it in PIT calibration. */
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		pr_errno("KVM_CREATE_PIT2");
		return -1;
	}
	return kvm_map_ram(vm);
}

int kvm_apply_tuning(struct vm *vm)
{
	const struct vm_spec *spec = vm->spec;

	if (spec->exits_disable) {
		int allowed = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_DISABLE_EXITS);
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_X86_DISABLE_EXITS,
			.args[0] = spec->exits_disable,
		};

		if (allowed <= 0 || (spec->exits_disable & ~(unsigned)allowed)) {
			pr_err("exits disable: this KVM allows only %#x of the requested %#x (KVM_CAP_X86_DISABLE_EXITS)",
			       allowed > 0 ? allowed : 0, spec->exits_disable);
			return -1;
		}
		if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
			pr_errno("KVM_CAP_X86_DISABLE_EXITS");
			return -1;
		}
	}
	if (spec->halt_poll_ns >= 0) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_HALT_POLL,
			.args[0] = spec->halt_poll_ns,
		};

		if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL) <= 0) {
			pr_err("halt-poll: this KVM lacks KVM_CAP_HALT_POLL");
			return -1;
		}
		if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
			pr_errno("KVM_CAP_HALT_POLL");
			return -1;
		}
	}
	return 0;
}

static struct vm *machine_vm(struct machine *m)
{
	return m->opaque;
}

void kvm_irq_set(struct machine *m, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(machine_vm(m)->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		pr_errno("KVM_IRQ_LINE gsi %u level %d", gsi, level);
}

void kvm_msi_send(struct machine *m, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = addr >> 32,
		.data = data,
	};

	/* 0 means the guest masked or filtered it: not an error. */
	if (ioctl(machine_vm(m)->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		pr_errno("KVM_SIGNAL_MSI addr %#llx data %#x", (unsigned long long)addr, data);
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
