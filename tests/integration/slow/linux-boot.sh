#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The slow suite: boot Linux under qlite as far as the host allows and check the console log.
#
# usage: linux-boot.sh QLITE [KERNEL [INITRD]]
#   KERNEL, INITRD   default $QLITE_LINUX_KERNEL / $QLITE_LINUX_INITRD, else guest/vmlinux-min and
#                    guest/initrd.cpio.gz (scripts/get-guest.sh --min), else guest/vmlinux-debian
#                    and guest/initrd-debian.cpio.gz (--debian)
# environment:
#   QLITE_TEST_VMM=qemu         the same checks under qemu-system-x86_64 -accel kvm (to compare)
#   QLITE_LINUX_CPUS=N          vCPUs (default 2; pinned to host CPUs 0..N-1 when there are enough)
#   QLITE_LINUX_TIMEOUT=S       give up after S seconds (default 720)
#   QLITE_LINUX_LOG=FILE        keep the console log there (default: a temporary file)
#   QLITE_LINUX_SKIP_MISSING=1  no guest kernel prepared: skip (status 77) instead of failing
#
# Milestones, each timed from the start: the kernel's banner, all vCPUs up, the 8250 UART at 0x3f8,
# the initramfs unpacked, the kernel handing over to /init. On a host whose CPU shows VMX or
# SVM, also /init's banner, the output of qlite.cmd="cat /proc/cpuinfo" and its exit status, and
# the VMM stopping by itself with status 0 when /init resets the guest. On a nested,
# software-assisted KVM (neither flag) no Linux user space can run: the check ends at /init.
# Exit status: 0 pass, 1 fail, 77 skip.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
guest=${QLITE_GUEST_DIR:-$top/guest}
vmm=${QLITE_TEST_VMM:-qlite}
cpus=${QLITE_LINUX_CPUS:-2}
limit=${QLITE_LINUX_TIMEOUT:-720}

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

[ $# -ge 1 ] || { echo "usage: $0 QLITE [KERNEL [INITRD]]" >&2; exit 2; }
qlite=$1
kernel=${2:-${QLITE_LINUX_KERNEL:-}}
initrd=${3:-${QLITE_LINUX_INITRD:-}}
if [ -z "$kernel" ]; then
	if [ -f "$guest/vmlinux-min" ]; then
		kernel=$guest/vmlinux-min
		initrd=${initrd:-$guest/initrd.cpio.gz}
	else
		kernel=$guest/vmlinux-debian
		initrd=${initrd:-$guest/initrd-debian.cpio.gz}
	fi
fi
initrd=${initrd:-$guest/initrd.cpio.gz}
for f in "$kernel" "$initrd"; do
	[ -f "$f" ] && continue
	msg="$f: no such file; prepare the guest with: scripts/get-guest.sh --min (minimal kernel, ~5 min to build)"
	[ "${QLITE_LINUX_SKIP_MISSING:-0}" = 1 ] && skip "$msg"
	fail "$msg"
done
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	[ "${CI:-}" = true ] && fail "/dev/kvm is missing or not usable (CI=true)"
	skip "/dev/kvm is missing or not usable"
fi

hw_virt=no
grep -qwE 'vmx|svm' /proc/cpuinfo && hw_virt=yes
cmdline='console=ttyS0 reboot=k panic=-1 qlite.cmd="cat /proc/cpuinfo"'
# The guest-kernel measurements: without these the kernel calibrates its delay loop and the
# TSC in emulated ring 0 for minutes. qlite adds the CPUID-related part (clearcpuid=...) itself.
[ $hw_virt = yes ] || cmdline+=" lpj=4000000 tsc=reliable no_timer_check"

case "$vmm" in
qlite)
	[ -x "$qlite" ] || fail "$qlite: not an executable"
	# pvpanic-pci: a kernel that panics stops the VMM (status 6) instead of idling to the limit.
	argv=("$qlite" run --kernel "$kernel" --initrd "$initrd" --cmdline "$cmdline"
	      --ram 256M --cpus "$cpus" --vdev pvpanic-pci)
	if [ "$(nproc)" -ge "$cpus" ]; then
		argv+=(--cpu-cluster "$(seq -s, 0 $((cpus - 1)))")
	fi
	;;
qemu)
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
	cpu=host
	if [ $hw_virt = no ]; then
		# SeaBIOS, whose MP table tells Linux about the CPUs, finds only the boot CPU on
		# such hosts: compare with one vCPU unless asked otherwise.
		if [ -z "${QLITE_LINUX_CPUS:-}" ]; then
			cpus=1
		fi
		# What qlite does by itself on such hosts: mask CX16, hide the KVM signature, and tell
		# Linux about the features the host's KVM leaves visible but cannot emulate. QEMU's
		# -cpu host aborts there (the nested KVM refuses MSR_IA32_ARCH_CAPABILITIES).
		cpu=qemu64,-cx16,kvm=off
		cmdline+=" noxsave nopcid clearcpuid=smap,smep,xsave,avx,avx2,avx512f,pku,umip,popcnt,bmi1,bmi2,movbe,erms,fsrm,adx,rdrand,rdseed,fsgsbase,invpcid,clflushopt,clwb,abm,rdpid,rdtscp,fma,f16c,aes,pclmulqdq,sha_ni,gfni,vaes,vpclmulqdq,sse4_1,sse4_2,ssse3"
	fi
	argv=(qemu-system-x86_64 -accel kvm -M pc -cpu "$cpu" -m 256 -smp "$cpus"
	      -nodefaults -display none -serial stdio -monitor none -no-reboot -device pvpanic-pci
	      -kernel "$kernel" -initrd "$initrd" -append "$cmdline")
	;;
*)
	fail "QLITE_TEST_VMM=$vmm: expected qlite or qemu"
	;;
esac

# name|extended regular expression, in the order the kernel prints them
milestones=(
	"kernel banner|Linux version [0-9]"
	"$cpus vCPUs up|smp: Brought up [0-9]+ nodes?, $cpus CPUs?$"
	"8250 UART at 0x3f8|ttyS0 at I/O 0x3f8 \(irq = 4"
	"initramfs unpacked|Freeing initrd memory"
	"kernel init done|Freeing unused kernel image"
	"/init started|Run /init as init process"
)
if [ $hw_virt = yes ]; then
	milestones+=(
		"/init banner|qlite-init: up: Linux [^ ]+, $cpus cpus"
		"command output|^processor[[:space:]]*: $((cpus - 1))$"
		"command status 0|qlite-init: command exited with status 0"
	)
fi
# Lines that end the run at once: the boot went wrong.
fatal='Initramfs unpacking failed|Kernel panic - not syncing: (VFS|No working init)|KVM internal error|emulation failure'

log=${QLITE_LINUX_LOG:-}
own_log=no
if [ -z "$log" ]; then
	log=$(mktemp)
	own_log=yes
fi
: > "$log"

echo "host: $(nproc) CPUs, VMX/SVM: $hw_virt; VMM: $vmm; time limit ${limit} s"
printf 'running:'; printf ' %q' "${argv[@]}"; echo
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

"${argv[@]}" </dev/null >"$log" 2>&1 &
pid=$!
cleanup() {
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
		kill -KILL "$pid" 2>/dev/null
	fi
	[ $own_log = no ] || rm -f "$log"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

shown=0
seen=0
times=()		# per milestone: seconds from the start to its line, empty while not seen
last=0
vmm_status=""
# check_log: echo the new console lines, time the milestones that appeared since.
check_log() {
	local total i m
	total=$(wc -l < "$log")
	if [ "$total" -gt "$shown" ]; then
		sed -n "$((shown + 1)),${total}p" "$log" | tr -d '\r' | sed 's/^/console| /'
		shown=$total
	fi
	for ((i = 0; i < ${#milestones[@]}; i++)); do
		[ -z "${times[$i]:-}" ] || continue
		m=${milestones[$i]}
		tr -d '\r' < "$log" | grep -qE "${m#*|}" || continue
		times[$i]=$(elapsed)
		last=${times[$i]}
		seen=$((seen + 1))
		printf '  %7s s  %s\n' "${times[$i]}" "${m%%|*}"
	done
}
while :; do
	check_log
	[ $seen -lt ${#milestones[@]} ] || break
	if tr -d '\r' < "$log" | grep -qE "$fatal"; then
		echo "the boot failed:"
		tr -d '\r' < "$log" | grep -E "$fatal" | head -n 3
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		vmm_status=$?
		check_log	# the last lines arrived with the exit
		echo "$vmm exited with status $vmm_status"
		break
	fi
	if awk -v e="$(elapsed)" -v l="$limit" 'BEGIN { exit !(e >= l) }'; then
		echo "time limit of $limit s reached"
		break
	fi
	sleep 0.5
done

if [ $seen -lt ${#milestones[@]} ]; then
	missing=""
	for ((i = 0; i < ${#milestones[@]}; i++)); do
		[ -n "${times[$i]:-}" ] || { m=${milestones[$i]}; missing+="${missing:+, }${m%%|*}"; }
	done
	fail "not reached after $(elapsed) s: $missing"
fi

if [ $hw_virt = yes ]; then
	# /init resets the guest after the command (reboot -f, reboot=k): the VMM stops by itself.
	if [ -z "$vmm_status" ]; then
		for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
		kill -0 "$pid" 2>/dev/null && fail "$vmm still running 60 s after /init reset the guest"
		wait "$pid"
		vmm_status=$?
	fi
	[ "$vmm_status" = 0 ] || fail "$vmm exited with status $vmm_status after the guest reset"
	echo "passed: ${#milestones[@]} milestones in $last s, $vmm stopped with status 0"
else
	echo "passed: ${#milestones[@]} milestones in $last s (nested software-assisted KVM:" \
	     "Linux user space cannot run here, so the check ends at /init)"
fi
exit 0
