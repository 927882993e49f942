# SPDX-License-Identifier: GPL-2.0-only
# What the slow suite's Linux tests share (sourced, not run): finding the kernel and /dev/kvm, the
# command line for hosts without VMX/SVM, QEMU's equivalent CPU, and running a VMM while timing the
# kernel log lines the test waits for.
#
# Environment (all optional):
#   QLITE_LINUX_KERNEL=FILE     the kernel (default guest/vmlinux-min, scripts/get-guest.sh --min)
#   QLITE_GUEST_DIR=DIR         where guest/ is
#   QLITE_TEST_VMM=qemu         the same boot and checks under qemu-system-x86_64 -accel kvm
#   QLITE_LINUX_TIMEOUT=S       give up after S seconds
#   QLITE_LINUX_LOG=FILE        keep the console log (the VMM's own messages go to FILE.stderr)
#   QLITE_LINUX_SKIP_MISSING=1  no guest kernel prepared: skip (status 77) instead of failing

slow_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
guest=${QLITE_GUEST_DIR:-$slow_top/guest}
vmm=${QLITE_TEST_VMM:-qlite}

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# slow_kernel [FILE]: sets kernel, or fails (skips with QLITE_LINUX_SKIP_MISSING=1).
slow_kernel() {
	kernel=${1:-${QLITE_LINUX_KERNEL:-$guest/vmlinux-min}}
	[ -f "$kernel" ] && return 0
	local msg="$kernel: no such file; prepare the minimal kernel with: scripts/get-guest.sh --min (~5 min to build), or point QLITE_LINUX_KERNEL at one"
	[ "${QLITE_LINUX_SKIP_MISSING:-0}" = 1 ] && skip "$msg"
	fail "$msg"
}

slow_require_kvm() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && return 0
	[ "${CI:-}" = true ] && fail "/dev/kvm is missing or not usable (CI=true)"
	skip "/dev/kvm is missing or not usable"
}

# Without VMX/SVM guest ring 0 is emulated: the kernel would calibrate its delay loop and the TSC
# for minutes (the guest-kernel measurements). qlite adds the CPUID-related part itself.
hw_virt=no
grep -qwE 'vmx|svm' /proc/cpuinfo && hw_virt=yes
slow_cmdline_extra=""
[ $hw_virt = yes ] || slow_cmdline_extra=" lpj=4000000 tsc=reliable no_timer_check"

# QEMU's CPU and the command line qlite would add by itself on such hosts (see linux-boot.sh):
# mask CX16, hide the KVM signature, tell Linux about the features the host's KVM cannot emulate.
qemu_cpu=host
qemu_cmdline_extra=""
if [ $hw_virt = no ]; then
	qemu_cpu=qemu64,-cx16,kvm=off
	qemu_cmdline_extra=" noxsave nopcid clearcpuid=smap,smep,xsave,avx,avx2,avx512f,pku,umip,popcnt,bmi1,bmi2,movbe,erms,fsrm,adx,rdrand,rdseed,fsgsbase,invpcid,clflushopt,clwb,abm,rdpid,rdtscp,fma,f16c,aes,pclmulqdq,sha_ni,gfni,vaes,vpclmulqdq,sse4_1,sse4_2,ssse3"
fi

# slow_qlite_check QLITE ARGS...: `qlite check` of the VM a test is about to run; a qlite that does
# not know a device is a failure, not a skip. Sets check_out.
slow_qlite_check() {
	local q=$1 status
	shift
	[ -x "$q" ] || fail "$q: not an executable"
	check_out=$("$q" check "$@" 2>&1)
	status=$?
	[ $status -eq 0 ] && return 0
	if grep -q 'unknown device' <<<"$check_out"; then
		fail "this qlite lacks a device of the test: $(grep -m1 'unknown device' <<<"$check_out")"
	fi
	echo "$check_out"
	fail "qlite check refused the VM (status $status)"
}

# slow_run ARGV...: run the VMM in the background and follow its console log until every entry of
# milestones ("name|ERE", in the order the kernel prints them) has appeared, a line matching
# $fatal (or a kernel panic other than $expected_panic) shows the boot went wrong, the VMM exits,
# or $limit seconds pass. Once all are seen, the VMM has 60 s to stop by itself (panic=-1 reboots
# the guest). Sets: times[] (seconds to each milestone), seen, failed (yes|no), vmm_status (empty
# while it had to be killed), run_time. Uses log, err, limit.
slow_run() {
	: > "$log"
	: > "$err"
	printf 'running:'; printf ' %q' "$@"; echo
	t0=$(date +%s.%N)
	"$@" </dev/null >"$log" 2>"$err" &
	pid=$!
	ran=yes
	shown=0 seen=0 failed=no vmm_status=""
	times=()
	while :; do
		slow_check_log
		[ $seen -lt ${#milestones[@]} ] || break
		if [ -n "$(slow_bad_lines)" ]; then
			echo "the boot went wrong:"
			slow_bad_lines | head -n 5
			failed=yes
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			slow_reap
			slow_check_log	# the last lines arrived with the exit
			break
		fi
		if awk -v e="$(slow_elapsed)" -v l="$limit" 'BEGIN { exit !(e >= l) }'; then
			echo "time limit of $limit s reached"
			break
		fi
		sleep 0.5
	done
	if [ $failed = no ] && [ -z "$vmm_status" ] && [ $seen -eq ${#milestones[@]} ]; then
		for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
		kill -0 "$pid" 2>/dev/null || slow_reap
		slow_check_log
		if [ -n "$(slow_bad_lines)" ]; then
			echo "the boot went wrong:"
			slow_bad_lines | head -n 5
			failed=yes
		fi
	fi
	run_time=$(slow_elapsed)
	slow_stop
	# The VMM's own lines: qlite's quirks and stop lines, QEMU's errors.
	grep -v '^ \|^$\|^===\|^\[\|^tuning:' "$err" | head -n 20 | sed "s/^/$vmm stderr| /"
}

slow_elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
slow_clean_log() { tr -d '\r' < "$log"; }

slow_reap() {
	wait "$pid"
	vmm_status=$?
	pid=""
	echo "$vmm exited with status $vmm_status after $(slow_elapsed) s"
}

# Stop the VMM if it still runs (TERM, then KILL after 30 s).
slow_stop() {
	[ -n "${pid:-}" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	pid=""
}

# Echo the new console lines, time the milestones that appeared since.
slow_check_log() {
	local total i m
	total=$(wc -l < "$log")
	if [ "$total" -gt "$shown" ]; then
		sed -n "$((shown + 1)),${total}p" "$log" | tr -d '\r' | sed 's/^/console| /'
		shown=$total
	fi
	for ((i = 0; i < ${#milestones[@]}; i++)); do
		[ -z "${times[$i]:-}" ] || continue
		m=${milestones[$i]}
		slow_clean_log | grep -qE "${m#*|}" || continue
		times[$i]=$(slow_elapsed)
		seen=$((seen + 1))
		printf '  %7s s  %s\n' "${times[$i]}" "${m%%|*}"
	done
}

slow_bad_lines() {
	slow_clean_log | grep -E "$fatal"
	slow_clean_log | grep 'Kernel panic - not syncing' | grep -v "$expected_panic"
}

# After slow_run: fail unless every milestone was seen, nothing went wrong and the VMM stopped by
# itself with status 0.
slow_require_clean_stop() {
	local missing="" i m
	if [ $seen -lt ${#milestones[@]} ]; then
		for ((i = 0; i < ${#milestones[@]}; i++)); do
			[ -n "${times[$i]:-}" ] || { m=${milestones[$i]}; missing+="${missing:+, }${m%%|*}"; }
		done
		fail "not reached after $run_time s: $missing"
	fi
	[ $failed = no ] || fail "the kernel log shows an error (above)"
	[ -n "$vmm_status" ] || fail "$vmm still running 60 s after the panic: the reset did not stop it"
	[ "$vmm_status" = 0 ] || fail "$vmm exited with status $vmm_status after the guest reset (expected 0)"
}

# slow_exit_report ERE: under qlite (--stats), the exit report's totals for the devices whose
# names match ERE, and their device reports.
slow_exit_report() {
	[ "$vmm" = qlite ] && grep -q '=== qlite exit report' "$err" || return 0
	echo "exit report: $(grep -m1 '=== qlite exit report' "$err" | sed 's/^=== qlite exit report: //; s/ ===$//')"
	grep -m1 '^  device  *bus  *register' "$err" | sed 's/^/  /'
	awk -v devs="^($1)" '$3 == "(all)" && $1 ~ devs { print "  " $0 }' "$err"
	awk -v devs="^($1)" '$3 == "(all)" && $1 ~ devs { n++ } END { exit !n }' "$err" ||
		echo "  (no exits counted for these devices)"
}
