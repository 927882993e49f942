// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM's in-kernel shortcuts behind the machine's doorbells and interrupt
 * events: KVM_IOEVENTFD, KVM_IRQFD, and MSI routes in the GSI routing
 * table; and coalesced MMIO zones (their ring is drained in vcpu.c).
 * KVM_SET_GSI_ROUTING replaces the whole table, so every update writes the
 * IOAPIC pins' routes again (KVM's IOAPIC and PICs, or with a split irqchip
 * the MSIs qlite's IOAPIC gave them), then the MSI routes. And the PICs'
 * and PIT's state as firmware leaves it, for a multiboot kernel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "qlite/kvm.h"
#include "qlite/platform.h"
#include "qlite/util.h"

/* GSIs 0-23 are the IOAPIC pins (0-15 also the PICs'); MSI routes follow. */
#define MSI_GSI_BASE	IOAPIC_NR_PINS

static int kvm_ioeventfd(void *ctx, enum bus_space space, uint64_t addr, unsigned len,
			 bool match, uint64_t value, int efd, bool assign)
{
	struct kvm *kvm = ctx;
	struct kvm_ioeventfd io = {
		.datamatch = match ? value : 0,
		.addr = addr,
		.len = len,
		.fd = efd,
		.flags = (space == BUS_PIO ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (match ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (!kvm->have_ioeventfd)
		return -ENOTSUP;
	return ioctl(kvm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static int kvm_irqfd(void *ctx, int efd, unsigned gsi, bool assign)
{
	struct kvm *kvm = ctx;
	struct kvm_irqfd irqfd = {
		.fd = efd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (!kvm->have_irqfd)
		return -ENOTSUP;
	/* An IOAPIC pin is qlite's with a split irqchip: its line must reach qlite's IOAPIC. */
	if (kvm->split_irqchip && gsi < IOAPIC_NR_PINS)
		return -ENOTSUP;
	return ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

/* Write the whole table: defaults, then the MSI routes in use. Caller holds route_lock. */
static int kvm_write_routes(struct kvm *kvm)
{
	unsigned max = IOAPIC_NR_PINS + ISA_NR_IRQS + KVM_MAX_MSI_ROUTES, n = 0;
	struct kvm_irq_routing *t;
	int ret;

	t = calloc(1, sizeof(*t) + max * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	for (unsigned pin = 0; pin < IOAPIC_NR_PINS && kvm->split_irqchip; pin++) {
		const struct kvm_msi_route *r = &kvm->ioapic_routes[pin];

		if (r->used)
			t->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = pin, .type = KVM_IRQ_ROUTING_MSI,
				.u.msi = {
					.address_lo = (uint32_t)r->addr,
					.address_hi = r->addr >> 32,
					.data = r->data,
				},
			};
	}
	for (unsigned pin = 0; pin < IOAPIC_NR_PINS && !kvm->split_irqchip; pin++) {
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = pin, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = pin },
		};
		if (pin < ISA_NR_IRQS)
			t->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = pin, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = {
					.irqchip = pin < 8 ? KVM_IRQCHIP_PIC_MASTER :
							     KVM_IRQCHIP_PIC_SLAVE,
					.pin = pin % 8,
				},
			};
	}
	for (unsigned i = 0; i < KVM_MAX_MSI_ROUTES; i++) {
		const struct kvm_msi_route *r = &kvm->msi_routes[i];

		if (!r->used)
			continue;
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = r->gsi, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = {
				.address_lo = (uint32_t)r->addr,
				.address_hi = r->addr >> 32,
				.data = r->data,
			},
		};
	}
	t->nr = n;
	ret = ioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, t) < 0 ? -errno : 0;
	free(t);
	return ret;
}

static int kvm_msi_route(void *ctx, int *gsi, uint64_t addr, uint32_t data)
{
	struct kvm *kvm = ctx;
	struct kvm_msi_route *r = NULL, saved;
	int ret = -ENOSPC;

	pthread_mutex_lock(&kvm->route_lock);
	if (*gsi >= 0) {
		unsigned i = *gsi - MSI_GSI_BASE;

		if (*gsi < MSI_GSI_BASE || i >= KVM_MAX_MSI_ROUTES || !kvm->msi_routes[i].used) {
			ret = -ENOENT;
			goto out;
		}
		r = &kvm->msi_routes[i];
	} else {
		for (unsigned i = 0; i < KVM_MAX_MSI_ROUTES && !r; i++)
			if (!kvm->msi_routes[i].used)
				r = &kvm->msi_routes[i];
		if (!r)
			goto out;
		*r = (struct kvm_msi_route){ .gsi = MSI_GSI_BASE + (r - kvm->msi_routes) };
	}
	saved = *r;
	*r = (struct kvm_msi_route){ .gsi = saved.gsi, .addr = addr, .data = data, .used = true };
	ret = kvm_write_routes(kvm);
	if (ret < 0)
		*r = saved;
	else
		*gsi = r->gsi;
out:
	pthread_mutex_unlock(&kvm->route_lock);
	return ret;
}

static void kvm_msi_route_free(void *ctx, int gsi)
{
	struct kvm *kvm = ctx;
	unsigned i = gsi - MSI_GSI_BASE;

	if (gsi < MSI_GSI_BASE || i >= KVM_MAX_MSI_ROUTES)
		return;
	pthread_mutex_lock(&kvm->route_lock);
	if (kvm->msi_routes[i].used) {
		kvm->msi_routes[i].used = false;
		kvm_write_routes(kvm);
	}
	pthread_mutex_unlock(&kvm->route_lock);
}

static int kvm_ioapic_route(void *ctx, unsigned pin, bool valid, uint64_t addr, uint32_t data)
{
	struct kvm *kvm = ctx;
	struct kvm_msi_route saved;
	int ret;

	if (!kvm->split_irqchip || pin >= IOAPIC_NR_PINS)
		return -EINVAL;
	pthread_mutex_lock(&kvm->route_lock);
	saved = kvm->ioapic_routes[pin];
	kvm->ioapic_routes[pin] = (struct kvm_msi_route){
		.gsi = pin, .addr = addr, .data = data, .used = valid,
	};
	ret = kvm_write_routes(kvm);
	if (ret < 0)
		kvm->ioapic_routes[pin] = saved;
	pthread_mutex_unlock(&kvm->route_lock);
	return ret;
}

static bool kvm_coalesced_mmio_supported(void *ctx)
{
	struct kvm *kvm = ctx;

	return kvm->coalesced_page > 0;
}

static int kvm_coalesced_mmio(void *ctx, uint64_t addr, uint64_t len, bool assign)
{
	struct kvm *kvm = ctx;
	struct kvm_coalesced_mmio_zone zone = { .addr = addr, .size = (uint32_t)len };

	if (kvm->coalesced_page <= 0)
		return -ENOTSUP;
	if (ioctl(kvm->vm_fd, assign ? KVM_REGISTER_COALESCED_MMIO :
		  KVM_UNREGISTER_COALESCED_MMIO, &zone) < 0)
		return -errno;
	return 0;
}

/* Only a vCPU drains (its stats have one writer): kick the first, which drains on its EINTR. */
static void kvm_coalesced_flush(void *ctx)
{
	struct kvm *kvm = ctx;
	struct kvm_coalesced_mmio_ring *ring = kvm->coalesced_ring;

	if (!ring || !kvm->nr_vcpus || __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE) ==
					  __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	vcpu_kick(&kvm->vcpus[0]);
}

/*
 * Each PIC as after firmware's ICW1-ICW4 (8086 mode, no auto-EOI) and OCW1:
 * what the kernel's state holds after those writes, from its reset state.
 */
static int kvm_pic_setup(void *ctx, const struct machine_pic_setup *s)
{
	struct kvm *kvm = ctx;

	if (kvm->split_irqchip)
		return -ENODEV;
	for (unsigned i = 0; i < 2; i++) {
		struct kvm_irqchip chip = {
			.chip_id = i ? KVM_IRQCHIP_PIC_SLAVE : KVM_IRQCHIP_PIC_MASTER,
		};
		struct kvm_pic_state *p = &chip.chip.pic;

		if (ioctl(kvm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return -errno;
		p->elcr = s->elcr[i] & p->elcr_mask;
		p->last_irr = 0;
		p->irr &= p->elcr;
		p->isr = 0;
		p->imr = s->imr[i];
		p->irq_base = s->vector_base[i] & 0xf8;
		p->priority_add = 0;
		p->read_reg_select = 0;
		p->poll = 0;
		p->special_mask = 0;
		p->init_state = 0;
		p->auto_eoi = 0;
		p->rotate_on_auto_eoi = 0;
		p->special_fully_nested_mode = 0;
		p->init4 = 1;
		if (ioctl(kvm->vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return -errno;
	}
	return 0;
}

/* i8254.c's access states: lobyte then hibyte, as firmware's control word 0x34/0x36 asks. */
#define PIT_RW_WORD0	3

static int kvm_pit_setup(void *ctx, const struct machine_pit_setup *s)
{
	struct kvm *kvm = ctx;
	struct kvm_pit_state2 st;
	struct kvm_pit_channel_state *c = &st.channels[0];

	if (kvm->split_irqchip)
		return -ENODEV;
	if (ioctl(kvm->vm_fd, KVM_GET_PIT2, &st) < 0)
		return -errno;
	*c = (struct kvm_pit_channel_state){
		.count = s->count ? s->count : 0x10000,
		.read_state = PIT_RW_WORD0,
		.write_state = PIT_RW_WORD0,
		.rw_mode = PIT_RW_WORD0,
		.mode = s->mode,
		.gate = 1,
	};
	/* The kernel reloads each channel's count and starts channel 0's timer. */
	return ioctl(kvm->vm_fd, KVM_SET_PIT2, &st) < 0 ? -errno : 0;
}

const struct machine_accel_ops kvm_accel_ops = {
	.ioeventfd = kvm_ioeventfd,
	.irqfd = kvm_irqfd,
	.msi_route = kvm_msi_route,
	.msi_route_free = kvm_msi_route_free,
	.coalesced_mmio_supported = kvm_coalesced_mmio_supported,
	.coalesced_mmio = kvm_coalesced_mmio,
	.coalesced_flush = kvm_coalesced_flush,
	.pic_setup = kvm_pic_setup,
	.pit_setup = kvm_pit_setup,
	.ioapic_route = kvm_ioapic_route,
};
