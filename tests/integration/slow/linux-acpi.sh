#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The slow suite: Linux finds its CPUs and interrupt controllers through the ACPI tables qlite
# writes. A kernel with ACPI boots with 2 vCPUs; the early log must show the RSDP at 0xfe000,
# the tables, the PM timer at 0x608, the IOAPIC, the SCI's override and "Using ACPI (MADT) for
# SMP configuration", 2 CPUs allowed. Then qlite is stopped (SIGTERM): no Linux user space runs
# on the nested, software KVM hosts, so S5 is proven from the test guest's side instead
# (tests/integration/acpi_test.py).
#
# usage: linux-acpi.sh QLITE [KERNEL]
#   KERNEL   default $QLITE_LINUX_ACPI_KERNEL, else guest/vmlinux-debian (scripts/get-guest.sh
#            --debian): the minimal kernel is built without CONFIG_ACPI, and a kernel without ACPI
#            is a skip, said so.
# environment: QLITE_LINUX_TIMEOUT=S (default 600), QLITE_LINUX_SKIP_MISSING=1 (no kernel: skip)
# Exit status: 0 pass, 1 fail, 77 skip.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
limit=${QLITE_LINUX_TIMEOUT:-600}

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

[ $# -ge 1 ] || { echo "usage: $0 QLITE [KERNEL]" >&2; exit 2; }
qlite=$1
kernel=${2:-${QLITE_LINUX_ACPI_KERNEL:-${QLITE_GUEST_DIR:-$top/guest}/vmlinux-debian}}
if [ ! -f "$kernel" ]; then
	msg="$kernel: no such file; get it with: scripts/get-guest.sh --debian"
	[ "${QLITE_LINUX_SKIP_MISSING:-0}" = 1 ] && skip "$msg"
	fail "$msg"
fi
# printk's format strings are in the image: no such string, no CONFIG_ACPI.
grep -aq 'Using ACPI (MADT) for SMP configuration information' "$kernel" ||
	skip "$kernel is built without CONFIG_ACPI"
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	[ "${CI:-}" = true ] && fail "/dev/kvm is missing or not usable (CI=true)"
	skip "/dev/kvm is missing or not usable"
fi

cmdline='console=ttyS0 panic=-1'
grep -qwE 'vmx|svm' /proc/cpuinfo || cmdline+=" lpj=4000000 tsc=reliable no_timer_check"
log=$(mktemp)
trap 'rm -f "$log"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT
echo "kernel $kernel, 2 vCPUs, limit $limit s"
"$qlite" run --kernel "$kernel" --cmdline "$cmdline" --ram 256M --cpus 2 </dev/null >"$log" 2>&1 &
pid=$!
# The last line wanted comes with the MADT, early in setup_arch: stop there.
for ((i = 0; i < limit; i++)); do
	grep -q 'smpboot: Allowing' "$log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 1
done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
pid=
grep -E 'ACPI|IOAPIC|smpboot: Allowing|qlite: stopped' "$log" | tr -d '\r'
want=(
	'ACPI: RSDP 0x00000000000FE000 000024 (v02 QLITE )'
	'ACPI: XSDT 0x'
	'ACPI: FACP 0x.* (v06 QLITE  QLITEVMM'
	'ACPI: DSDT 0x'
	'ACPI: APIC 0x'
	'ACPI: PM-Timer IO Port: 0x608'
	'IOAPIC\[0\]: apic_id 2, version 17, address 0xfec00000, GSI 0-23'
	'ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 high level)'
	'ACPI: Using ACPI (MADT) for SMP configuration information'
	'smpboot: Allowing 2 CPUs, 0 hotplug CPUs'
)
for w in "${want[@]}"; do
	grep -q -- "$w" "$log" || fail "no line '$w' in the kernel log within $limit s"
done
echo "pass: Linux took its CPUs, IOAPIC, SCI and PM timer from qlite's ACPI tables"
