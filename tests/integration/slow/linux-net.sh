#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The slow suite's Linux network tests: the minimal kernel configures eth0 by DHCP (ip=dhcp, the
# kernel's own IP autoconfiguration, no user space) through Linux's virtio_net driver, qlite's
# virtio-net and the slirp backend, whose DHCP server answers from 10.0.2.2 with 10.0.2.15.
#
# usage: linux-net.sh QLITE KIND [KERNEL]
#   KIND     virtio-net-pci    vdev virtio-net transport pci
#            virtio-net-mmio   vdev virtio-net transport mmio (Linux gets virtio_mmio.device=)
#   KERNEL   default $QLITE_LINUX_KERNEL, else guest/vmlinux-min (scripts/get-guest.sh --min);
#            it needs CONFIG_VIRTIO_NET and CONFIG_IP_PNP_DHCP built in (config-fragment has them).
#            Developers on the project's machines can take the prebuilt one:
#            QLITE_LINUX_KERNEL=/work/shared/guest-kernel/vmlinux-6.1.192-min
# environment: QLITE_LINUX_TIMEOUT=S (default 900), QLITE_LINUX_SKIP_MISSING=1 (no kernel: skip),
#              QLITE_LINUX_LOG=FILE (keep the console log there)
#
# Checked in the kernel log: "Sending DHCP requests", "IP-Config: Got DHCP answer from 10.0.2.2,
# my address is 10.0.2.15", "device=eth0, hwaddr=52:54:00:12:34:56, ipaddr=10.0.2.15,
# mask=255.255.255.0, gw=10.0.2.2"; then, with no root device, the kernel panics and panic=-1
# reboot=k stop qlite with status 0. Nothing of "virtio_net ... probe ... failed", a KVM
# internal or emulation error. Under load the boot takes minutes (~4.5 min to the DHCP answer
# with a 1-minute load average of 7-9 on the 2-CPU build machine, 2026-12-01).
# Exit status: 0 pass, 1 fail, 77 skip.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
limit=${QLITE_LINUX_TIMEOUT:-900}

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

[ $# -ge 2 ] || { echo "usage: $0 QLITE virtio-net-pci|virtio-net-mmio [KERNEL]" >&2; exit 2; }
qlite=$1
kind=$2
kernel=${3:-${QLITE_LINUX_KERNEL:-${QLITE_GUEST_DIR:-$top/guest}/vmlinux-min}}
case "$kind" in
virtio-net-pci) transport=pci ;;
virtio-net-mmio) transport=mmio ;;
*) echo "$0: unknown kind '$kind' (virtio-net-pci, virtio-net-mmio)" >&2; exit 2 ;;
esac
if [ ! -f "$kernel" ]; then
	msg="$kernel: no such file; build it with: scripts/get-guest.sh --min"
	[ "${QLITE_LINUX_SKIP_MISSING:-0}" = 1 ] && skip "$msg"
	fail "$msg"
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	[ "${CI:-}" = true ] && fail "/dev/kvm is missing or not usable (CI=true)"
	skip "/dev/kvm is missing or not usable"
fi

cmdline='console=ttyS0 panic=-1 reboot=k ip=dhcp'
# As in linux-boot.sh: without VMX/SVM ring 0 is emulated; skip the slow calibrations.
grep -qwE 'vmx|svm' /proc/cpuinfo || cmdline+=" lpj=4000000 tsc=reliable no_timer_check"
tmp=$(mktemp)
log=${QLITE_LINUX_LOG:-$tmp}
trap 'rm -f "$tmp"' EXIT
echo "kernel $kernel, vdev virtio-net transport $transport, limit $limit s"
start=$(date +%s)
timeout "$limit" "$qlite" run --kernel "$kernel" --cmdline "$cmdline" --ram 256M \
	--vdev "virtio-net,transport=$transport" </dev/null >"$log" 2>&1
status=$?
tr -d '\r' <"$log" | grep -E 'virtio-mmio: Registering|Sending DHCP|IP-Config|device=eth0|Kernel panic|qlite: stopped'
echo "$(( $(date +%s) - start )) s"
[ $status -ne 124 ] || fail "qlite still running after $limit s"
for want in 'Sending DHCP requests' \
	'IP-Config: Got DHCP answer from 10.0.2.2, my address is 10.0.2.15' \
	'device=eth0, hwaddr=52:54:00:12:34:56, ipaddr=10.0.2.15, mask=255.255.255.0, gw=10.0.2.2'; do
	grep -qF "$want" "$log" || fail "not in the kernel log: $want"
done
if [ $transport = mmio ]; then
	grep -q 'virtio-mmio: Registering device virtio-mmio.0' "$log" ||
		fail "Linux did not find the virtio-mmio device"
fi
if grep -qE 'virtio_net.*(probe|failed)|KVM internal error|emulation failure' "$log"; then
	fail "errors in the log"
fi
grep -q 'Kernel panic - not syncing' "$log" || fail "the kernel did not panic at the root mount"
[ $status -eq 0 ] || fail "qlite exited with status $status (want 0: panic=-1 reboot=k)"
echo "pass: eth0 configured by DHCP through virtio-net ($transport) and slirp"
