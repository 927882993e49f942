/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Checks of a parsed vm_spec against the host (files, CPUs, memory, KVM
 * limits) and against the machine (overlapping ports, MMIO and IRQs), in
 * the language's error style: `FILE:LINE: message` or `--option: message`.
 */
#ifndef QLITE_CONFIG_CHECK_H
#define QLITE_CONFIG_CHECK_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vm_spec.h"

/*
 * Checks that need the host (files exist, CPUs online, KVM limits); same
 * error style. 0, or a negative errno with one line written to err: the
 * file's errno (-ENOENT, -EISDIR, ...) for a file, -EINVAL otherwise.
 */
int config_validate(const struct vm_spec *spec, FILE *err);

/* What config_validate() learns about the host; tests build one by hand. */
struct config_host {
	cpu_set_t present, online, allowed;
	bool have_present, have_online, have_allowed;
	uint64_t mem_total;		/* bytes; 0: unknown */
	unsigned max_vcpus;		/* KVM_CAP_MAX_VCPUS; 0: unknown (no /dev/kvm) */
};

void config_host_probe(struct config_host *host);
int config_validate_host(const struct vm_spec *spec, const struct config_host *host, FILE *err);
/* PIO/MMIO ranges and IRQs of the vdevs must not overlap each other or the platform's. */
int config_check_resources(const struct vm_spec *spec, FILE *err);
/*
 * The files qlite writes (--stats-json, --stats-prom, --stats-log): each a
 * regular file or absent, in a writable directory, and none of them another
 * output or an input (kernel, initrd, config files, a vdev's files).
 */
int config_check_outputs(const struct vm_spec *spec, FILE *err);

#endif
