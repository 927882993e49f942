/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A VM assembled from a vm_spec (src/vm/): KVM, guest RAM, the I/O loop,
 * the machine with its platform and `vdev` devices, the vCPU threads.
 */
#ifndef QLITE_VM_H
#define QLITE_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "acpi.h"
#include "boot.h"
#include "guest_mem.h"
#include "kvm.h"
#include "machine.h"
#include "vm_spec.h"

struct event_loop;
struct uart8250;
struct console;
struct vm_stats;

struct vm {
	const struct vm_spec *spec;
	struct kvm kvm;
	bool nested_soft_kvm;		/* host CPU shows neither VMX nor SVM */
	bool quirks;			/* nested-KVM workarounds applied */
	bool guest_is_linux;
	uint64_t facs;			/* guest-physical address of the FACS; 0 with `acpi off` */
	struct vm_stats *stats;		/* reporters (src/vm/stats.c), NULL without --stats */

	struct guest_mem mem;
	struct machine machine;
	struct uart8250 *uart;
	struct console *console;
	struct event_loop *loop;

	/* Stopping: the first request wins; the main thread then kicks and joins. */
	pthread_mutex_t stop_lock;
	enum stop_reason stop_reason;
	int exit_status;
	int stop_efd;			/* written once a stop is requested */
	char stop_detail[256];

	struct timespec started;
};

/* Build everything up to (not including) starting the vCPU threads. 0 or -errno, reported. */
int vm_create(struct vm *vm, const struct vm_spec *spec);
/* Start the vCPUs, serve I/O until the VM stops; returns the process exit status. */
int vm_run(struct vm *vm);
/*
 * The host CPUs of the I/O thread (the main thread, and the disk workers it
 * starts): when every vCPU is pinned, those qlite may use that no vCPU's
 * cluster holds; false (left to the scheduler) when a vCPU is not pinned or
 * the vCPUs take every CPU.
 */
bool vm_io_cpus(const struct vm_spec *spec, cpu_set_t *io);
void vm_destroy(struct vm *vm);

/*
 * The kernel command line the guest gets: the user's, plus for Linux the
 * virtio-mmio devices of m (NULL: none) and the nested-KVM additions.
 */
char *vm_effective_cmdline(const struct vm_spec *spec, struct machine *m, bool quirks,
			   bool is_linux);

/* What the guest boots (src/vm/load.c). */
struct vm_boot {
	bool is_linux;			/* a bzImage, or an ELF with a Linux note */
	char *cmdline;			/* the effective command line */
	struct boot_result res;
	struct kvm_regs regs;
	struct kvm_sregs sregs;		/* in: the vCPU's (KVM_GET_SREGS); out: its boot state */
	struct acpi_tables acpi;	/* the ACPI tables written (none with `acpi off`) */
};

/*
 * Read spec's kernel and initrd and load them into gm with the boot
 * structures, the MP table and (unless `acpi off`) the ACPI tables (nr_vcpus, m's PCI devices; m's virtio-mmio
 * devices on a Linux command line), and for a multiboot kernel the BIOS
 * state (src/boot/bios.c; the chips through m's accel ops): the one path of `qlite run` and of
 * `qlite check` (scratch RAM, no KVM), so both refuse the same kernels
 * with the same message. 0 or -errno, reported once. vm_boot_free() after
 * either.
 */
int vm_load_boot(const struct vm_spec *spec, bool quirks, unsigned nr_vcpus, struct machine *m,
		 struct guest_mem *gm, struct vm_boot *b);
void vm_boot_free(struct vm_boot *b);

/*
 * `qlite check`: the assembled machine, built without KVM, printed to out (and as a DTB,
 * and its ACPI tables as files in acpi_dir, when not NULL).
 */
int vm_describe(const struct vm_spec *spec, FILE *out, const char *dtb_path, const char *acpi_dir);
int vm_write_dtb(const struct vm_spec *spec, struct machine *m, const struct guest_mem *layout,
		 const char *cmdline, const char *path);

/*
 * The machine every VM has, with the spec's `vdev` devices, on m's buses:
 * used by run, check and the overlap checks alike. assemble_offline gives
 * the machine fresh buses, an event loop and services that do nothing, for
 * describing and checking without KVM.
 */
int vm_assemble_devices(struct machine *m, const struct vm_spec *spec, struct uart8250 **uart);
int vm_assemble_offline(struct machine *m, const struct vm_spec *spec, struct uart8250 **uart);
void vm_teardown_offline(struct machine *m, struct uart8250 *uart);

void vm_request_stop(struct vm *vm, enum stop_reason why, int exit_status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The exit status when the VM ran but an output could not be written (README, exit statuses). */
#define VM_EXIT_OUTPUT 4

/* src/vm/stats.c: the exit reports of --stats. */
int vm_stats_create(struct vm *vm);
int vm_stats_start(struct vm_stats *s, struct event_loop *loop);
/* The final reports; -EIO when an output could not be written, at the end or before. */
int vm_stats_finish(struct vm_stats *s);
/* The outputs that failed, as the stop line says them; returns how many. */
int vm_stats_output_errors(const struct vm_stats *s, char *buf, size_t len);
void vm_stats_destroy(struct vm_stats *s);

#endif
