// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPUID: start from what KVM supports, describe the topology qlite built
 * (one package, one thread per core, APIC id = vCPU index), then apply the
 * nested-KVM quirks and the user's +feature/-feature edits, in that order,
 * so an explicit edit always wins over a quirk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>

#include "qlite/cpuid.h"
#include "qlite/util.h"
#include "qlite/kvm.h"

#define F(n, l, i, r, b) { n, l, i, CPUID_##r, b }
static const struct cpuid_feature features[] = {
	F("fpu", 1, 0, EDX, 0), F("tsc", 1, 0, EDX, 4), F("msr", 1, 0, EDX, 5),
	F("pae", 1, 0, EDX, 6), F("apic", 1, 0, EDX, 9), F("mtrr", 1, 0, EDX, 12),
	F("pge", 1, 0, EDX, 13), F("cmov", 1, 0, EDX, 15), F("pat", 1, 0, EDX, 16),
	F("clflush", 1, 0, EDX, 19), F("mmx", 1, 0, EDX, 23), F("fxsr", 1, 0, EDX, 24),
	F("sse", 1, 0, EDX, 25), F("sse2", 1, 0, EDX, 26), F("ht", 1, 0, EDX, 28),
	F("pni", 1, 0, ECX, 0), F("sse3", 1, 0, ECX, 0), F("pclmulqdq", 1, 0, ECX, 1),
	F("monitor", 1, 0, ECX, 3), F("vmx", 1, 0, ECX, 5), F("ssse3", 1, 0, ECX, 9),
	F("fma", 1, 0, ECX, 12), F("cx16", 1, 0, ECX, 13), F("pcid", 1, 0, ECX, 17),
	F("sse4_1", 1, 0, ECX, 19), F("sse4_2", 1, 0, ECX, 20), F("x2apic", 1, 0, ECX, 21),
	F("movbe", 1, 0, ECX, 22), F("popcnt", 1, 0, ECX, 23),
	F("tsc_deadline_timer", 1, 0, ECX, 24), F("aes", 1, 0, ECX, 25),
	F("xsave", 1, 0, ECX, 26), F("avx", 1, 0, ECX, 28), F("f16c", 1, 0, ECX, 29),
	F("rdrand", 1, 0, ECX, 30), F("hypervisor", 1, 0, ECX, 31),
	F("fsgsbase", 7, 0, EBX, 0), F("bmi1", 7, 0, EBX, 3), F("hle", 7, 0, EBX, 4),
	F("avx2", 7, 0, EBX, 5), F("smep", 7, 0, EBX, 7), F("bmi2", 7, 0, EBX, 8),
	F("erms", 7, 0, EBX, 9), F("invpcid", 7, 0, EBX, 10), F("rtm", 7, 0, EBX, 11),
	F("avx512f", 7, 0, EBX, 16), F("rdseed", 7, 0, EBX, 18), F("adx", 7, 0, EBX, 19),
	F("smap", 7, 0, EBX, 20), F("clflushopt", 7, 0, EBX, 23), F("clwb", 7, 0, EBX, 24),
	F("sha_ni", 7, 0, EBX, 29), F("umip", 7, 0, ECX, 2), F("pku", 7, 0, ECX, 3),
	F("gfni", 7, 0, ECX, 8), F("vaes", 7, 0, ECX, 9), F("vpclmulqdq", 7, 0, ECX, 10),
	F("rdpid", 7, 0, ECX, 22), F("fsrm", 7, 0, EDX, 4),
	F("lahf_lm", 0x80000001, 0, ECX, 0), F("abm", 0x80000001, 0, ECX, 5),
	F("nx", 0x80000001, 0, EDX, 20), F("pdpe1gb", 0x80000001, 0, EDX, 26),
	F("rdtscp", 0x80000001, 0, EDX, 27), F("lm", 0x80000001, 0, EDX, 29),
	F("kvmclock", 0x40000001, 0, EAX, 3), F("pv-nopiodelay", 0x40000001, 0, EAX, 1),
	F("async-pf", 0x40000001, 0, EAX, 4), F("steal-time", 0x40000001, 0, EAX, 5),
	F("pv-eoi", 0x40000001, 0, EAX, 6), F("pv-unhalt", 0x40000001, 0, EAX, 7),
	F("pv-tlb-flush", 0x40000001, 0, EAX, 9), F("pv-send-ipi", 0x40000001, 0, EAX, 11),
	F("pv-sched-yield", 0x40000001, 0, EAX, 13), F("msi-ext-dest-id", 0x40000001, 0, EAX, 15),
};
#undef F

/* What the README of the guest kernel measured: the nested KVM's emulator rejects these. */
const char *const nested_quirk_cpuid_masks[] = {
	"cx16", "xsave", "avx", "avx2", "avx512f", "smap", "smep", "pku", "umip", "popcnt",
	"bmi1", "bmi2", "movbe", "erms", "fsrm", "adx", "rdrand", "rdseed", "fsgsbase",
	"invpcid", "clflushopt", "clwb", "abm", "rdpid", "rdtscp", "fma", "f16c", "aes",
	"pclmulqdq", "sha_ni", "gfni", "vaes", "vpclmulqdq", "sse4_1", "sse4_2", "ssse3",
	NULL,
};

/* KVM_SET_CPUID2 is only partly honoured there (XSAVE, SMAP stay visible), so Linux is told too. */
const char nested_quirk_linux_cmdline[] =
	"noxsave nopcid clearcpuid=smap,smep,xsave,avx,avx2,avx512f,pku,umip,popcnt,bmi1,bmi2,"
	"movbe,erms,fsrm,adx,rdrand,rdseed,fsgsbase,invpcid,clflushopt,clwb,abm,rdpid,rdtscp,"
	"fma,f16c,aes,pclmulqdq,sha_ni,gfni,vaes,vpclmulqdq,sse4_1,sse4_2,ssse3";

static bool name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char ca = *a == '-' ? '_' : *a, cb = *b == '-' ? '_' : *b;

		if (ca != cb && (ca | 0x20) != (cb | 0x20))
			return false;
	}
	return !*a && !*b;
}

const struct cpuid_feature *cpuid_feature_lookup(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(features); i++)
		if (name_eq(name, features[i].name))
			return &features[i];
	return NULL;
}

static struct kvm_cpuid_entry2 *cpuid_entry(struct kvm_cpuid2 *c, uint32_t leaf, uint32_t index)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != leaf)
			continue;
		if (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index)
			return e;
	}
	return NULL;
}

static uint32_t *entry_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg reg)
{
	switch (reg) {
	case CPUID_EAX: return &e->eax;
	case CPUID_EBX: return &e->ebx;
	case CPUID_ECX: return &e->ecx;
	default: return &e->edx;
	}
}

static void feature_set(struct kvm_cpuid2 *c, const struct cpuid_feature *f, bool on)
{
	struct kvm_cpuid_entry2 *e = cpuid_entry(c, f->leaf, f->index);

	if (!e)
		return;
	if (on)
		*entry_reg(e, f->reg) |= 1u << f->bit;
	else
		*entry_reg(e, f->reg) &= ~(1u << f->bit);
}

/* Drop the 0x40000000.. leaves, as QEMU's kvm=off does: the guest then skips KVM paravirt. */
static void hide_kvm_signature(struct kvm_cpuid2 *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->nent; i++)
		if ((c->entries[i].function & 0xffffff00) != 0x40000000)
			c->entries[n++] = c->entries[i];
	c->nent = n;
}

static unsigned order_base_2(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

static void set_topology(struct kvm_cpuid2 *c, unsigned nr)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* Logical processors per package; the APIC id is per vCPU, see vcpu_setup_cpuid. */
			e->ebx = (e->ebx & 0xff00ffff) | ((nr & 0xff) << 16);
			e->edx |= 1u << 28;	/* HTT: the count above is valid */
			e->ecx |= 1u << 31;	/* running under a hypervisor */
			break;
		case 4:
			if ((e->eax & 0x1f) == 0)
				break;
			e->eax = (e->eax & 0x3ff) | ((nr - 1) << 26);	/* cores per package - 1; one thread shares each cache */
			break;
		case 0xb:
		case 0x1f:
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 1 << 8;		/* SMT level: one thread */
			} else if (e->index == 1) {
				e->eax = order_base_2(nr);
				e->ebx = nr;
				e->ecx = 1 | 2 << 8;		/* core level */
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000008:
			e->ecx = (e->ecx & ~0xf0ffu) | (nr - 1) | (order_base_2(nr) << 12);
			break;
		}
	}
}

int cpuid_prepare(struct kvm *kvm, bool quirks, const struct cpuid_change *edits, unsigned n)
{
	struct kvm_cpuid2 *c;
	unsigned nent = 256;

	for (;;) {
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (!ioctl(kvm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			break;
		free(c);
		if (errno != E2BIG || nent >= 4096)
			return report_errno(-errno, "KVM_GET_SUPPORTED_CPUID");
		nent *= 2;
	}
	set_topology(c, kvm->nr_vcpus);
	if (quirks) {
		for (unsigned i = 0; nested_quirk_cpuid_masks[i]; i++)
			feature_set(c, cpuid_feature_lookup(nested_quirk_cpuid_masks[i]), false);
		hide_kvm_signature(c);
	}
	for (unsigned i = 0; i < n; i++) {
		const struct cpuid_change *ed = &edits[i];
		const struct cpuid_feature *f = cpuid_feature_lookup(ed->feature);

		if (!strcasecmp(ed->feature, CPUID_KVM_SIGNATURE)) {
			if (!ed->enable)
				hide_kvm_signature(c);
			continue;
		}
		if (!f) {
			free(c);
			return report(-EINVAL, "cpuid: unknown feature \"%s\"", ed->feature);
		}
		feature_set(c, f, ed->enable);
	}
	kvm->cpuid = c;
	return 0;
}

/*
 * Leaf 0x40000010 (VMware's timing leaf, as QEMU's vmware-cpuid-freq fills it): the TSC rate
 * in kHz and KVM's 1 GHz APIC bus, so a guest need not calibrate its TSC against the PIT
 * (which reads short when the vCPU is descheduled mid-window). Only beside a visible KVM
 * signature, whose max leaf then covers it; c has room for one more entry.
 */
static void add_tsc_leaf(struct vcpu *vcpu, struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *sig = cpuid_entry(c, 0x40000000, 0);
	int khz;

	if (!sig || cpuid_entry(c, 0x40000010, 0))
		return;
	khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		return;
	if (sig->eax < 0x40000010)
		sig->eax = 0x40000010;
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){
		.function = 0x40000010, .eax = khz, .ebx = 1000000,
	};
}

int vcpu_setup_cpuid(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *src = vcpu->kvm->cpuid;
	size_t size = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	struct kvm_cpuid2 *c = malloc(size + sizeof(src->entries[0]));
	int ret;

	if (!c)
		return -ENOMEM;
	memcpy(c, src, size);
	add_tsc_leaf(vcpu, c);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (vcpu->id << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = vcpu->id;
	}
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	if (ret < 0)
		report_errno(ret, "vCPU %u: KVM_SET_CPUID2", vcpu->id);
	free(c);
	return ret;
}
