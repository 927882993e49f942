// SPDX-License-Identifier: GPL-2.0-only
/*
 * Layer 3: hardware exit reasons from the kvm:kvm_exit tracepoint, one
 * perf event per vCPU thread (so only qlite's vCPUs are counted), sampled
 * into a ring buffer drained by the reporter. The tracepoint's `isa` field
 * says whether exit_reason is a VMX basic exit reason or an SVM exit code.
 * Needs tracefs and perf privileges; when either is missing the layer says
 * why instead of reporting zeros.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <asm/svm.h>
#include <asm/vmx.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "qlite/stats.h"
#include "qlite/util.h"

#define RING_PAGES 16	/* data pages per vCPU, a power of two */

static const char *const tracefs_dirs[] = {
	"/sys/kernel/tracing/events/kvm/kvm_exit",
	"/sys/kernel/debug/tracing/events/kvm/kvm_exit",
};

/*
 * The names the kernel's own kvm_exit tracepoint prints, from the uapi
 * headers the build already uses (linux-libc-dev): no hand-kept copy to
 * drift from the kernel. <asm/svm.h> names exceptions by the vectors of
 * <asm/kvm.h>, which <linux/kvm.h> includes.
 */
struct hw_exit_name {
	uint32_t code;
	const char *name;
};

static const struct hw_exit_name vmx_names[] = { VMX_EXIT_REASONS };
static const struct hw_exit_name svm_names[] = { SVM_EXIT_REASONS };

static const char *find_name(const struct hw_exit_name *t, size_t n, uint32_t code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

const char *hw_exit_reason_name(unsigned isa, unsigned reason)
{
	static __thread char buf[24];
	const char *name = NULL;

	if (isa == 1) {
		reason &= 0xffff;	/* bit 31: VM-entry failure */
		name = find_name(vmx_names, ARRAY_SIZE(vmx_names), reason);
	} else if (isa == 2) {
		name = find_name(svm_names, ARRAY_SIZE(svm_names), reason);
	}
	if (name)
		return name;
	/* Codes the headers do not name, as the kernel's trace prints them: in hex for SVM. */
	snprintf(buf, sizeof(buf), isa == 2 ? "0x%x" : "%u", reason);
	return buf;
}

/* The tracepoint id and the offsets of exit_reason and isa in its raw record. */
static int read_format(struct hw_exit_trace *t, uint64_t *id)
{
	char path[256], line[512];
	FILE *f = NULL;
	bool have_reason = false, have_isa = false;

	for (unsigned i = 0; i < ARRAY_SIZE(tracefs_dirs) && !f; i++) {
		snprintf(path, sizeof(path), "%s/id", tracefs_dirs[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%lu", (unsigned long *)id) != 1) {
			fclose(f);
			f = NULL;
			continue;
		}
		fclose(f);
		snprintf(path, sizeof(path), "%s/format", tracefs_dirs[i]);
		f = fopen(path, "re");
	}
	if (!f) {
		snprintf(t->why, sizeof(t->why),
			 "tracefs has no readable kvm:kvm_exit (tracefs not mounted, or no permission)");
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned off;

		if (strstr(line, " exit_reason;") && sscanf(strstr(line, "offset:"), "offset:%u", &off) == 1) {
			t->reason_off = off;
			have_reason = true;
		} else if (strstr(line, " isa;") && sscanf(strstr(line, "offset:"), "offset:%u", &off) == 1) {
			t->isa_off = off;
			have_isa = true;
		}
	}
	fclose(f);
	if (!have_reason) {
		snprintf(t->why, sizeof(t->why), "kvm:kvm_exit format has no exit_reason field");
		return -EINVAL;
	}
	if (!have_isa)
		t->isa_off = UINT32_MAX;	/* old kernels: VMX or SVM only by the module */
	return 0;
}

int hw_exit_trace_open(struct hw_exit_trace *t, const int *tids, unsigned nr)
{
	size_t map = (RING_PAGES + 1) * (size_t)getpagesize();
	uint64_t id;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = read_format(t, &id);
	if (ret < 0)
		return ret;
	t->fd = calloc(nr, sizeof(*t->fd));
	t->ring = calloc(nr, sizeof(*t->ring));
	if (!t->fd || !t->ring) {
		snprintf(t->why, sizeof(t->why), "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < nr; i++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_TRACEPOINT,
			.size = sizeof(attr),
			.config = id,
			.sample_period = 1,
			.sample_type = PERF_SAMPLE_RAW,
			.wakeup_events = 1 << 20,	/* drained by polling, no wakeups */
		};
		int fd = syscall(SYS_perf_event_open, &attr, tids[i], -1, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			ret = -errno;
			snprintf(t->why, sizeof(t->why), "perf_event_open(kvm:kvm_exit): %s%s", strerror(errno),
				 errno == EACCES || errno == EPERM ? " (perf_event_paranoid, or run as root)" : "");
			t->nr_fds = i;
			hw_exit_trace_close(t);
			return ret;
		}
		t->fd[i] = fd;
		t->ring[i] = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		t->nr_fds = i + 1;
		if (t->ring[i] == MAP_FAILED) {
			ret = -errno;
			t->ring[i] = NULL;
			snprintf(t->why, sizeof(t->why), "perf ring buffer: %s", strerror(errno));
			hw_exit_trace_close(t);
			return ret;
		}
	}
	t->available = true;
	return 0;
}

void hw_exit_trace_record(struct hw_exit_trace *t, const uint8_t *raw, uint32_t len)
{
	uint32_t reason;

	if (t->reason_off > len || len - t->reason_off < 4)
		return;
	reason = le_load(raw + t->reason_off, 4);
	if (t->isa_off != UINT32_MAX && t->isa_off <= len && len - t->isa_off >= 4)
		t->isa = le_load(raw + t->isa_off, 4);
	if (t->isa == 1)
		reason &= 0xffff;	/* bit 31 flags a failed VM entry */
	if (reason < HW_EXIT_REASONS)
		t->count[reason]++;
	else
		t->other++;
	t->total++;
}

static void drain_ring(struct hw_exit_trace *t, struct perf_event_mmap_page *meta)
{
	uint8_t *data = (uint8_t *)meta + getpagesize();
	uint64_t size = RING_PAGES * (uint64_t)getpagesize();
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = meta->data_tail;

	while (tail + sizeof(struct perf_event_header) <= head) {
		struct perf_event_header h;
		uint8_t rec[512];

		for (unsigned i = 0; i < sizeof(h); i++)
			((uint8_t *)&h)[i] = data[(tail + i) % size];
		if (h.size < sizeof(h) || tail + h.size > head)
			break;
		for (unsigned i = 0; i < h.size && i < sizeof(rec); i++)
			rec[i] = data[(tail + i) % size];
		if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof(h) + 4) {
			uint32_t raw = le_load(rec + sizeof(h), 4);
			uint32_t room = (h.size < sizeof(rec) ? h.size : sizeof(rec)) - sizeof(h) - 4;

			hw_exit_trace_record(t, rec + sizeof(h) + 4, raw < room ? raw : room);
		} else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
			t->lost += le_load(rec + sizeof(h) + 8, 8);
		}
		tail += h.size;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

void hw_exit_trace_drain(struct hw_exit_trace *t)
{
	for (unsigned i = 0; t->available && i < t->nr_fds; i++)
		drain_ring(t, t->ring[i]);
}

void hw_exit_trace_close(struct hw_exit_trace *t)
{
	size_t map = (RING_PAGES + 1) * (size_t)getpagesize();

	for (unsigned i = 0; i < t->nr_fds; i++) {
		if (t->ring && t->ring[i])
			munmap(t->ring[i], map);
		if (t->fd)
			close(t->fd[i]);
	}
	free(t->fd);
	free(t->ring);
	t->fd = NULL;
	t->ring = NULL;
	t->nr_fds = 0;
	t->available = false;
}
