#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The slow suite: Linux's own e1000 driver on qlite's e1000, with the slirp backend. The kernel
# boots without an initramfs or a root device, with ip=dhcp: the driver probes (the MAC from the
# bit-banged EEPROM, its checksum), the link comes up after autonegotiation (LSC), and the
# kernel's DHCP client gets its address from slirp (frames both ways); then it panics at the root
# mount and panic=-1 reboots it, which stops qlite with status 0.
#
# usage: linux-e1000.sh QLITE [coalesce] [KERNEL]
#   coalesce  also `coalesce on`: the writes KVM coalesces must still reach the device in order
#   KERNEL    default $QLITE_LINUX_KERNEL, else guest/vmlinux-min (scripts/get-guest.sh --min),
#             with CONFIG_E1000=y and CONFIG_IP_PNP_DHCP=y
# environment: QLITE_LINUX_TIMEOUT=S (default 600), QLITE_LINUX_SKIP_MISSING=1 (no kernel: skip),
#              QLITE_LINUX_LOG=FILE (keep the console and the exit report there)
# Exit status: 0 pass, 1 fail, 77 skip.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
limit=${QLITE_LINUX_TIMEOUT:-600}

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

[ $# -ge 1 ] || { echo "usage: $0 QLITE [coalesce] [KERNEL]" >&2; exit 2; }
qlite=$1
shift
vdev=e1000
if [ "${1:-}" = coalesce ]; then
	vdev=e1000,coalesce=on
	shift
fi
kernel=${1:-${QLITE_LINUX_KERNEL:-${QLITE_GUEST_DIR:-$top/guest}/vmlinux-min}}
if [ ! -f "$kernel" ]; then
	msg="$kernel: no such file; build it with: scripts/get-guest.sh --min"
	[ "${QLITE_LINUX_SKIP_MISSING:-0}" = 1 ] && skip "$msg"
	fail "$msg"
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	[ "${CI:-}" = true ] && fail "/dev/kvm is missing or not usable (CI=true)"
	skip "/dev/kvm is missing or not usable"
fi

cmdline='console=ttyS0 panic=-1 ip=dhcp'
# As in linux-boot.sh: without VMX/SVM ring 0 is emulated; skip the slow calibrations.
grep -qwE 'vmx|svm' /proc/cpuinfo || cmdline+=" lpj=4000000 tsc=reliable no_timer_check"
log=${QLITE_LINUX_LOG:-$(mktemp)}
[ -n "${QLITE_LINUX_LOG:-}" ] || trap 'rm -f "$log"' EXIT
echo "kernel $kernel, vdev $vdev, limit $limit s"
timeout "$limit" "$qlite" run --kernel "$kernel" --cmdline "$cmdline" --ram 128M \
	--vdev "$vdev" --stats </dev/null >"$log" 2>&1
status=$?
grep -E 'e1000|IP-Config|qlite: stopped' "$log" | tr -d '\r'
[ $status -ne 124 ] || fail "qlite still running after $limit s"
grep -q 'eth0: Intel(R) PRO/1000 Network Connection' "$log" || fail "the e1000 driver did not probe"
grep -q 'eth0: (PCI:33MHz:32-bit) 52:54:00:12:34:56' "$log" || fail "not the EEPROM's MAC"
grep -q 'e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex' "$log" || fail "no link"
grep -q 'IP-Config: Got DHCP answer from 10.0.2.2, my address is 10.0.2.15' "$log" ||
	fail "no DHCP answer through the e1000"
[ $status -eq 0 ] || fail "qlite exit status $status"
echo "pass: probe, link, DHCP over $vdev"
