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
#include <linux/perf_event.h>
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

static const char *const vmx_names[] = {
	[0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT", [2] = "TRIPLE_FAULT",
	[3] = "INIT_SIGNAL", [4] = "SIPI_SIGNAL", [7] = "INTERRUPT_WINDOW", [8] = "NMI_WINDOW",
	[9] = "TASK_SWITCH", [10] = "CPUID", [12] = "HLT", [13] = "INVD", [14] = "INVLPG",
	[15] = "RDPMC", [16] = "RDTSC", [18] = "VMCALL", [19] = "VMCLEAR", [20] = "VMLAUNCH",
	[21] = "VMPTRLD", [22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME", [25] = "VMWRITE",
	[26] = "VMOFF", [27] = "VMON", [28] = "CR_ACCESS", [29] = "DR_ACCESS",
	[30] = "IO_INSTRUCTION", [31] = "MSR_READ", [32] = "MSR_WRITE", [33] = "INVALID_STATE",
	[34] = "MSR_LOAD_FAIL", [36] = "MWAIT_INSTRUCTION", [37] = "MONITOR_TRAP_FLAG",
	[39] = "MONITOR_INSTRUCTION", [40] = "PAUSE_INSTRUCTION", [41] = "MCE_DURING_VMENTRY",
	[43] = "TPR_BELOW_THRESHOLD", [44] = "APIC_ACCESS", [45] = "EOI_INDUCED",
	[46] = "GDTR_IDTR", [47] = "LDTR_TR", [48] = "EPT_VIOLATION", [49] = "EPT_MISCONFIG",
	[50] = "INVEPT", [51] = "RDTSCP", [52] = "PREEMPTION_TIMER", [53] = "INVVPID",
	[54] = "WBINVD", [55] = "XSETBV", [56] = "APIC_WRITE", [57] = "RDRAND", [58] = "INVPCID",
	[59] = "VMFUNC", [60] = "ENCLS", [61] = "RDSEED", [62] = "PML_FULL", [63] = "XSAVES",
	[64] = "XRSTORS", [67] = "UMWAIT", [68] = "TPAUSE", [74] = "BUS_LOCK", [75] = "NOTIFY",
};

static const char *const svm_names[] = {
	[0x060] = "intr", [0x061] = "nmi", [0x062] = "smi", [0x063] = "init", [0x064] = "vintr",
	[0x065] = "cr0_sel_write", [0x066] = "idtr_read", [0x067] = "gdtr_read",
	[0x068] = "ldtr_read", [0x069] = "tr_read", [0x06a] = "idtr_write",
	[0x06b] = "gdtr_write", [0x06c] = "ldtr_write", [0x06d] = "tr_write", [0x06e] = "rdtsc",
	[0x06f] = "rdpmc", [0x070] = "pushf", [0x071] = "popf", [0x072] = "cpuid", [0x073] = "rsm",
	[0x074] = "iret", [0x075] = "swint", [0x076] = "invd", [0x077] = "pause", [0x078] = "hlt",
	[0x079] = "invlpg", [0x07a] = "invlpga", [0x07b] = "io", [0x07c] = "msr",
	[0x07d] = "task_switch", [0x07e] = "ferr_freeze", [0x07f] = "shutdown", [0x080] = "vmrun",
	[0x081] = "vmmcall", [0x082] = "vmload", [0x083] = "vmsave", [0x084] = "stgi",
	[0x085] = "clgi", [0x086] = "skinit", [0x087] = "rdtscp", [0x088] = "icebp",
	[0x089] = "wbinvd", [0x08a] = "monitor", [0x08b] = "mwait", [0x08c] = "mwait_cond",
	[0x08d] = "xsetbv", [0x08e] = "rdpru", [0x08f] = "efer_write_trap", [0x0a3] = "invpcid",
	[0x400] = "npf", [0x401] = "avic_incomplete_ipi", [0x402] = "avic_unaccelerated_access",
	[0x403] = "vmgexit",
};

const char *hw_exit_reason_name(unsigned isa, unsigned reason)
{
	static __thread char buf[24];

	if (isa == 1) {
		reason &= 0xffff;	/* bit 31: VM-entry failure */
		if (reason < ARRAY_SIZE(vmx_names) && vmx_names[reason])
			return vmx_names[reason];
	} else if (isa == 2) {
		if (reason < ARRAY_SIZE(svm_names) && svm_names[reason])
			return svm_names[reason];
		if (reason < 0x10)
			snprintf(buf, sizeof(buf), "read_cr%u", reason);
		else if (reason < 0x20)
			snprintf(buf, sizeof(buf), "write_cr%u", reason - 0x10);
		else if (reason < 0x30)
			snprintf(buf, sizeof(buf), "read_dr%u", reason - 0x20);
		else if (reason < 0x40)
			snprintf(buf, sizeof(buf), "write_dr%u", reason - 0x30);
		else if (reason < 0x60)
			snprintf(buf, sizeof(buf), "excp_%u", reason - 0x40);
		else
			snprintf(buf, sizeof(buf), "0x%x", reason);
		return buf;
	}
	snprintf(buf, sizeof(buf), "%u", reason);
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
