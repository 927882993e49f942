/* SPDX-License-Identifier: GPL-2.0-only */
/* CPUID feature names, shared by the `cpuid +feat/-feat` option and the quirks. */
#ifndef QLITE_CPUID_H
#define QLITE_CPUID_H

#include <stdint.h>

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct cpuid_feature {
	const char *name;	/* as in /proc/cpuinfo; KVM paravirt features as pv-eoi etc. */
	uint32_t leaf;
	uint32_t index;
	enum cpuid_reg reg;
	uint8_t bit;
};

/* Look a feature up by name ('-' and '_' are the same); NULL when unknown. */
const struct cpuid_feature *cpuid_feature_lookup(const char *name);
/* The pseudo-feature that stands for the KVM signature leaves 0x40000000.. */
#define CPUID_KVM_SIGNATURE "kvm-signature"

/* The features masked, and the Linux command line added, on a nested software KVM. */
extern const char *const nested_quirk_cpuid_masks[];
extern const char nested_quirk_linux_cmdline[];

#endif
