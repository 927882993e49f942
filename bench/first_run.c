// SPDX-License-Identifier: GPL-2.0-only
/*
 * first_run.so - LD_PRELOAD'ed into a VMM by boot_footprint.py: appends the CLOCK_MONOTONIC
 * times of the process's first KVM_CREATE_VM ("create_vm T") and first KVM_RUN ("run T": the
 * guest's first instruction is about to run) to $FIRST_RUN_FILE. The same for qlite and QEMU
 * (both call ioctl(2) through libc); the cost is a relaxed load or two per ioctl.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

static atomic_bool vm_done, run_done;

static void note(atomic_bool *done, const char *what)
{
	const char *path = getenv("FIRST_RUN_FILE");
	struct timespec ts;
	char buf[64];
	int fd, n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!path || atomic_exchange(done, true))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%s %lld.%09ld\n", what, (long long)ts.tv_sec, ts.tv_nsec);
	if (write(fd, buf, n) != n)
		n = -1;
	close(fd);
}

int ioctl(int fd, unsigned long req, ...)
{
	static int (*real)(int, unsigned long, void *);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real)
		real = (int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT, "ioctl");
	if (req == KVM_RUN && !atomic_load_explicit(&run_done, memory_order_relaxed))
		note(&run_done, "run");
	else if (req == KVM_CREATE_VM && !atomic_load_explicit(&vm_done, memory_order_relaxed))
		note(&vm_done, "create_vm");
	return real(fd, req, arg);
}
