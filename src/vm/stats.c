// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VM's exit reports: opens the KVM stats fds and the kvm:kvm_exit
 * trace, prints a line per interval from the I/O thread (a timerfd in the
 * event loop, never a vCPU thread), rewrites the JSON and Prometheus files,
 * and prints the full table when the VM stops.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "qlite/event_loop.h"
#include "qlite/stats.h"
#include "qlite/util.h"
#include "qlite/vm.h"

/* A report file, or the stats log: what went wrong with it, said once. */
struct vm_stats_output {
	const char *option;	/* "--stats-json": how messages name it */
	const char *path;
	int (*writer)(const struct stats_view *, FILE *);	/* NULL for the log */
	bool cleaned;		/* stale temporary files of killed writers removed */
	int err;		/* the first write error, or 0 */
	unsigned writes, failed;
};

enum { OUT_JSON, OUT_PROM, OUT_LOG, NR_OUTPUTS };

struct vm_stats {
	struct vm *vm;
	struct stats_view view;
	struct vcpu_stats **vcpu;
	struct kvm_binary_stats kvm_vm;
	struct kvm_binary_stats *kvm_vcpu;
	bool kvm_ok;
	char kvm_why[160];
	struct hw_exit_trace hw;
	struct stats_clock_ref t0;
	struct stats_interval prev;
	double prev_s;
	int timer_fd;
	FILE *log;		/* interval lines: stderr, or the stats log file */
	struct vm_stats_output out[NR_OUTPUTS];
	char tuning[512];
	/* The devices' reports, copied at each refresh: read before the machine frees them. */
	struct stats_device *devices;
	unsigned max_devices;
};

static void describe_tuning(struct vm *vm, char *buf, size_t len)
{
	const struct vm_spec *spec = vm->spec;
	static const char *const exit_names[] = { "mwait", "hlt", "pause", "cstate" };
	size_t off = 0;
	bool any = false;

	off += snprintf(buf + off, len - off, "quirks %s; exits disable", vm->quirks ? "on" : "off");
	for (unsigned b = 0; b < ARRAY_SIZE(exit_names) && off < len; b++)
		if (spec->exits_disable & (1u << b)) {
			off += snprintf(buf + off, len - off, "%s%s", any ? "," : " ", exit_names[b]);
			any = true;
		}
	if (!any && off < len)
		off += snprintf(buf + off, len - off, " none");
	if (off < len && spec->halt_poll_ns >= 0)
		off += snprintf(buf + off, len - off, "; halt-poll %lld ns", (long long)spec->halt_poll_ns);
	else if (off < len)
		off += snprintf(buf + off, len - off, "; halt-poll KVM default");
	if (off < len)
		off += snprintf(buf + off, len - off, "; cpuid edits");
	for (unsigned i = 0; i < spec->nr_cpuid_edits && off < len; i++)
		off += snprintf(buf + off, len - off, " %c%s", spec->cpuid_edits[i].enable ? '+' : '-',
				spec->cpuid_edits[i].feature);
	if (!spec->nr_cpuid_edits && off < len)
		off += snprintf(buf + off, len - off, " none");
	if (off < len)
		snprintf(buf + off, len - off, "; accounting %s", vm->kvm.accounting ? "on" : "off");
}

/* Before the vCPUs run: the KVM stats fds, whose first reading is the base of every delta. */
int vm_stats_create(struct vm *vm)
{
	struct vm_stats *s;
	char err[160];

	if (!vm->spec->stats)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->timer_fd = -1;
	s->log = stderr;
	s->out[OUT_JSON] = (struct vm_stats_output){
		.option = "--stats-json", .path = vm->spec->stats_json, .writer = stats_write_json };
	s->out[OUT_PROM] = (struct vm_stats_output){
		.option = "--stats-prom", .path = vm->spec->stats_prom, .writer = stats_write_prom };
	s->out[OUT_LOG] = (struct vm_stats_output){ .option = "--stats-log", .path = vm->spec->stats_log };
	if (vm->spec->stats_log) {
		s->log = fopen(vm->spec->stats_log, "ae");
		if (!s->log) {
			int ret = report_errno(-errno, "%s: open", vm->spec->stats_log);

			free(s);
			return ret;
		}
		setvbuf(s->log, NULL, _IOLBF, 0);
	}
	s->vcpu = calloc(vm->kvm.nr_vcpus, sizeof(*s->vcpu));
	s->kvm_vcpu = calloc(vm->kvm.nr_vcpus, sizeof(*s->kvm_vcpu));
	/* Devices register while the machine is assembled, before this. */
	s->max_devices = vm->machine.nr_reports;
	s->devices = s->max_devices ? calloc(s->max_devices, sizeof(*s->devices)) : NULL;
	if (!s->vcpu || !s->kvm_vcpu || (s->max_devices && !s->devices)) {
		if (s->log != stderr)
			fclose(s->log);
		free(s->devices);
		free(s->vcpu);
		free(s->kvm_vcpu);
		free(s);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->kvm.nr_vcpus; i++)
		s->vcpu[i] = &vm->kvm.vcpus[i].stats;
	s->kvm_ok = kvm_binary_stats_open(&s->kvm_vm, vm->kvm.vm_fd, err, sizeof(err)) == 0;
	for (unsigned i = 0; s->kvm_ok && i < vm->kvm.nr_vcpus; i++) {
		s->kvm_ok = kvm_binary_stats_open(&s->kvm_vcpu[i], vm->kvm.vcpus[i].fd, err, sizeof(err)) == 0;
		if (!s->kvm_ok)
			for (unsigned j = 0; j < i; j++)
				kvm_binary_stats_close(&s->kvm_vcpu[j]);
	}
	if (!s->kvm_ok) {
		snprintf(s->kvm_why, sizeof(s->kvm_why), "%s", err);
		if (s->kvm_vm.fd > 0)
			kvm_binary_stats_close(&s->kvm_vm);
	}
	describe_tuning(vm, s->tuning, sizeof(s->tuning));
	s->view = (struct stats_view){
		.nr_vcpus = vm->kvm.nr_vcpus,
		.vcpu = s->vcpu,
		.bus = { vm->machine.bus[BUS_PIO], vm->machine.bus[BUS_MMIO] },
		.tuning = s->tuning,
		.vm_name = vm->spec->name,
		.accounting_off = !vm->kvm.accounting,
		.kvm_vm = s->kvm_ok ? &s->kvm_vm : NULL,
		.kvm_vcpu = s->kvm_ok ? s->kvm_vcpu : NULL,
		.kvm_why = s->kvm_why,
		.hw = &s->hw,
		.devices = s->devices,
	};
	vm->stats = s;
	return 0;
}

static void vm_stats_refresh(struct vm_stats *s)
{
	struct stats_clock_ref now;
	struct timespec wall;

	stats_clock_mark(&now);
	clock_gettime(CLOCK_REALTIME, &wall);
	s->view.wall_time = wall.tv_sec + wall.tv_nsec / 1e9;
	s->view.elapsed_s = (now.ns - s->t0.ns) / 1e9;
	s->view.tsc_per_ns = stats_tsc_per_ns(&s->t0, &now);
	/*
	 * The histograms' bucket bounds keep the first rate measured over 50 ms
	 * or more, in MHz: their `le` labels stay the same for the whole run
	 * (and, mostly, from one run to the next on a host).
	 */
	if (!s->view.bucket_tsc_per_ns && s->view.elapsed_s >= 0.05)
		s->view.bucket_tsc_per_ns = (long long)(s->view.tsc_per_ns * 1000 + 0.5) / 1000.0;
	if (s->kvm_ok) {
		kvm_binary_stats_read(&s->kvm_vm);
		for (unsigned i = 0; i < s->vm->kvm.nr_vcpus; i++)
			kvm_binary_stats_read(&s->kvm_vcpu[i]);
	}
	hw_exit_trace_drain(&s->hw);
	s->view.nr_devices = stats_devices_read(&s->vm->machine, s->devices, s->max_devices);
}

static const char *write_error(int err)
{
	return err == -EEXIST ? "no longer a regular file, left as it is" : strerror(-err);
}

/* Count one write; the first failure is said once, the rest go to the stop line. */
static void output_done(struct vm_stats_output *o, int ret)
{
	o->writes++;
	if (!ret)
		return;
	o->failed++;
	if (o->err)
		return;
	o->err = ret;
	report(ret, "%s %s: not written: %s (said once; the stop line counts the failures)",
	       o->option, o->path, write_error(ret));
}

static void vm_stats_write_files(struct vm_stats *s)
{
	for (unsigned i = OUT_JSON; i <= OUT_PROM; i++) {
		struct vm_stats_output *o = &s->out[i];

		if (!o->path)
			continue;
		/* Leftovers of a qlite killed before its rename (SIGKILL leaves FILE.tmp.PID). */
		if (!o->cleaned) {
			stats_remove_stale_tmp(o->path);
			o->cleaned = true;
		}
		output_done(o, stats_write_file(o->path, &s->view, o->writer));
	}
}

/* The outputs that failed, for the stop line; 0 when none did. */
int vm_stats_output_errors(const struct vm_stats *s, char *buf, size_t len)
{
	size_t off = 0;
	int n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; s && i < NR_OUTPUTS && off < len; i++) {
		const struct vm_stats_output *o = &s->out[i];

		if (!o->failed)
			continue;
		off += snprintf(buf + off, len - off, "%s%s %s: %s (%u of %u writes failed)",
				n++ ? ", " : "", o->option, o->path, write_error(o->err), o->failed,
				o->writes);
	}
	return n;
}

static bool on_stats_timer(void *opaque, int fd, uint32_t revents)
{
	struct vm_stats *s = opaque;
	uint64_t ticks;

	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return false;
	vm_stats_refresh(s);
	if (s->vm->spec->stats_interval_ms) {
		int ret = stats_report_interval(&s->view, &s->prev, s->view.elapsed_s - s->prev_s, s->log);

		if (s->log != stderr)
			output_done(&s->out[OUT_LOG], ret);
	}
	s->prev_s = s->view.elapsed_s;
	vm_stats_write_files(s);
	return true;
}

/* Once the vCPU threads exist: trace them, start the interval timer. */
int vm_stats_start(struct vm_stats *s, struct event_loop *loop)
{
	struct vm *vm = s->vm;
	uint64_t ms = vm->spec->stats_interval_ms;
	int *tids = calloc(vm->kvm.nr_vcpus, sizeof(*tids));

	stats_clock_mark(&s->t0);
	if (!tids)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->kvm.nr_vcpus; i++) {
		/* Each thread records its tid first thing; wait for it (microseconds). */
		for (int spin = 0; !(tids[i] = atomic_load(&vm->kvm.vcpus[i].tid)) && spin < 100000; spin++)
			usleep(10);
	}
	hw_exit_trace_open(&s->hw, tids, vm->kvm.nr_vcpus);
	free(tids);
	if (!ms && (vm->spec->stats_json || vm->spec->stats_prom))
		ms = 1000;	/* files are rewritten every second even without interval lines */
	if (!ms)
		return 0;
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->timer_fd < 0)
		return report_errno(-errno, "stats: timerfd_create");
	timerfd_settime(s->timer_fd, 0, &(struct itimerspec){
		.it_interval = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 },
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 },
	}, NULL);
	return event_loop_add(loop, s->timer_fd, POLLIN, on_stats_timer, s);
}

/* After the vCPU threads are joined: the final numbers. -EIO when an output failed at any time. */
int vm_stats_finish(struct vm_stats *s)
{
	char buf[8];

	vm_stats_refresh(s);
	if (s->vm->spec->stats_table)
		stats_report_table(&s->view, stderr);
	vm_stats_write_files(s);
	return vm_stats_output_errors(s, buf, sizeof(buf)) ? -EIO : 0;
}

void vm_stats_destroy(struct vm_stats *s)
{
	if (!s)
		return;
	hw_exit_trace_close(&s->hw);
	if (s->kvm_ok) {
		kvm_binary_stats_close(&s->kvm_vm);
		for (unsigned i = 0; i < s->vm->kvm.nr_vcpus; i++)
			kvm_binary_stats_close(&s->kvm_vcpu[i]);
	}
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->log && s->log != stderr)
		fclose(s->log);
	free(s->devices);
	free(s->kvm_vcpu);
	free(s->vcpu);
	free(s);
}
