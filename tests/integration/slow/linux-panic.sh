#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The slow suite: a Linux guest that panics stops qlite. The kernel boots without an initramfs or
# a root device, so it panics at the root mount ("VFS: Unable to mount root fs"); with
# `vdev pvpanic-pci` and Linux's pvpanic-pci driver qlite stops with "guest panicked" and status 6,
# and without the driver panic=-1 reboots the guest, which stops qlite with status 0.
#
# usage: linux-panic.sh QLITE [KERNEL]
#   KERNEL   default $QLITE_LINUX_KERNEL, else guest/vmlinux-min (scripts/get-guest.sh --min).
#            The driver is expected when KERNEL.config (build-guest-kernel.sh writes it) has
#            CONFIG_PVPANIC_PCI=y; without a .config, either outcome passes and is said.
# environment: QLITE_LINUX_TIMEOUT=S (default 600), QLITE_LINUX_SKIP_MISSING=1 (no kernel: skip)
# Exit status: 0 pass, 1 fail, 77 skip.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
limit=${QLITE_LINUX_TIMEOUT:-600}

[ $# -ge 1 ] || { echo "usage: $0 QLITE [KERNEL]" >&2; exit 2; }
qlite=$1
slow_kernel "${2:-}"
slow_require_kvm
driver=unknown
if [ -f "$kernel.config" ]; then
	grep -qx 'CONFIG_PVPANIC_PCI=y' "$kernel.config" && driver=yes || driver=no
fi

cmdline="console=ttyS0 panic=-1$slow_cmdline_extra"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "kernel $kernel (pvpanic-pci driver: $driver), limit $limit s"
timeout "$limit" "$qlite" run --kernel "$kernel" --cmdline "$cmdline" --ram 256M \
	--vdev pvpanic-pci </dev/null >"$log" 2>&1
status=$?
grep -E 'pci 0000:00:0.\.0: \[1b36:0011\]|Kernel panic|qlite: stopped' "$log" | tr -d '\r'
[ $status -ne 124 ] || fail "qlite still running after $limit s"
grep -q 'Kernel panic - not syncing' "$log" || fail "the kernel did not panic (status $status)"
panicked=no
grep -q '(panic: guest panicked (pvpanic-pci event 0x1)), exit status 6,' "$log" && panicked=yes
case "$driver,$status,$panicked" in
yes,6,yes | unknown,6,yes)
	echo "pass: the panic reached qlite through pvpanic-pci: status 6" ;;
no,0,no | unknown,0,no)
	grep -q '(reset:' "$log" || fail "status 0 without a reset"
	echo "pass: no pvpanic-pci driver: panic=-1 rebooted the guest, status 0" ;;
*)
	fail "driver $driver: status $status, guest panicked line: $panicked" ;;
esac
