#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The slow suite's Linux network tests: the minimal kernel's in-kernel DHCP client gets a lease over
# a qlite NIC from slirp (user-mode networking, no root).
#
# usage: linux-net.sh QLITE KIND [KERNEL]
#   KIND     e1000             vdev e1000                        (Linux's e1000)
#            e1000-coalesce    vdev e1000 coalesce on            (KVM's coalesced MMIO ring: the
#                                                                 writes must still arrive in order)
#            virtio-net-pci    vdev virtio-net transport pci     (virtio_net over virtio_pci)
#            virtio-net-mmio   vdev virtio-net transport mmio    (virtio_net over virtio_mmio)
#   KERNEL   as linux-disk.sh: $QLITE_LINUX_KERNEL, else guest/vmlinux-min; it needs the NIC's
#            driver and IP autoconfiguration with DHCP built in (the minimal kernel has them).
# environment: those of lib.sh; QLITE_LINUX_TIMEOUT=S (default 1200: the boots take 5-13 min here, with the machine busy).
#
# The kernel boots with `ip=dhcp` and no root device: it probes the NIC, brings the link up, asks
# slirp for a lease (DISCOVER/OFFER/REQUEST/ACK through the NIC's RX and TX rings), then panics at
# the root mount; `panic=-1 reboot=k` make that a reset, which stops the VMM with status 0.
# Checked in the kernel log, in this order:
#   e1000:   e1000: Intel(R) PRO/1000 Network Driver
#            e1000 0000:00:DD.0 eth0: (PCI:33MHz:32-bit) 52:54:00:12:34:56
#            e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex
#   mmio:    virtio-mmio: Registering device virtio-mmio.0 at ...
#   all:     IP-Config: Got DHCP answer from 10.0.2.2, my address is 10.0.2.15
#            IP-Config: Complete: ... device=eth0, hwaddr=52:54:00:12:34:56, ipaddr=10.0.2.15 ...
#            Kernel panic - not syncing: VFS: Unable to mount root fs
# Under qlite (--stats) the exit report must name the NIC's registers Linux touched (e1000: ICR,
# IMS, RDT, TDT among them; virtio: the common configuration and the notify registers), and the
# NIC's device report is printed.
# Exit status: 0 pass, 1 fail, 77 skip.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
limit=${QLITE_LINUX_TIMEOUT:-1200}

[ $# -ge 2 ] || { echo "usage: $0 QLITE e1000|virtio-net-pci|virtio-net-mmio [KERNEL]" >&2; exit 2; }
qlite=$1
kind=$2
case "$kind" in
e1000|e1000-coalesce|virtio-net-pci|virtio-net-mmio) ;;
*) echo "$0: unknown NIC kind '$kind' (e1000, e1000-coalesce, virtio-net-pci, virtio-net-mmio)" >&2; exit 2 ;;
esac
slow_kernel "${3:-}"
slow_require_kvm

tmp=$(mktemp -d)
pid=""
log=${QLITE_LINUX_LOG:-$tmp/console.log}
err=$log.stderr
trap 'slow_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

mac=52:54:00:12:34:56
cmdline="console=ttyS0 ip=dhcp panic=-1 reboot=k$slow_cmdline_extra"
case "$vmm" in
qlite)
	case "$kind" in
	e1000) vdev="e1000,mac=$mac" ;;
	e1000-coalesce) vdev="e1000,mac=$mac,coalesce=on" ;;
	virtio-net-pci) vdev="virtio-net,mac=$mac,transport=pci" ;;
	virtio-net-mmio) vdev="virtio-net,mac=$mac,transport=mmio" ;;
	esac
	vm=(--kernel "$kernel" --cmdline "$cmdline" --ram 256M --cpus 1 --vdev "$vdev")
	slow_qlite_check "$qlite" "${vm[@]}"
	grep -E '^(cmdline):|  (pci|mmio|irq|nic|device) .*(e1000|virtio)' <<<"$check_out" |
		sed 's/^/qlite check| /'
	argv=("$qlite" run "${vm[@]}" --stats)
	;;
qemu)
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
	cmdline+=$qemu_cmdline_extra
	case "$kind" in
	# QEMU coalesces e1000's writes by itself.
	e1000|e1000-coalesce) machine=(-M pc -netdev user,id=n -device "e1000,netdev=n,mac=$mac") ;;
	virtio-net-pci) machine=(-M pc -netdev user,id=n
				 -device "virtio-net-pci,netdev=n,mac=$mac,disable-legacy=on") ;;
	# As in linux-disk.sh: microvm without ACPI names its virtio-mmio devices on the command line.
	virtio-net-mmio) machine=(-M microvm,acpi=off -device i8042
				  -global virtio-mmio.force-legacy=false -netdev user,id=n
				  -device "virtio-net-device,netdev=n,mac=$mac") ;;
	esac
	argv=(qemu-system-x86_64 -accel kvm -cpu "$qemu_cpu" -m 256 "${machine[@]}"
	      -nodefaults -display none -serial stdio -monitor none -no-reboot
	      -kernel "$kernel" -append "$cmdline")
	;;
*)
	fail "QLITE_TEST_VMM=$vmm: expected qlite or qemu"
	;;
esac

milestones=("kernel banner|Linux version [0-9]")
case "$kind" in
e1000*)
	milestones+=(
		"e1000 driver|e1000: Intel\(R\) PRO/1000 Network Driver"
		"e1000 probed with the MAC|e1000 0000:00:[0-9a-f]{2}\.0 eth0: \(PCI:33MHz:32-bit\) $mac"
		"link up|e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex"
	)
	;;
virtio-net-mmio)
	milestones+=("virtio-mmio device registered|virtio-mmio: Registering device virtio-mmio\.[0-9]+ at ")
	;;
esac
milestones+=(
	"DHCP lease|IP-Config: Got DHCP answer from 10\.0\.2\.2, my address is 10\.0\.2\.15"
	"eth0 configured with the MAC|device=eth0, hwaddr=$mac, ipaddr=10\.0\.2\.15, mask=255\.255\.255\.0, gw=10\.0\.2\.2"
	"no root: panic|Kernel panic - not syncing: VFS: Unable to mount root fs"
)
lease_ms=$(( ${#milestones[@]} - 3 ))
expected_panic='VFS: Unable to mount root fs'
fatal='IP-Config: Retrying forever|IP-Config: Auto-configuration of network failed|e1000: .*(Hardware Error|The EEPROM Checksum Is Not Valid)|virtio_net .*(probe|error)|transmit (timed out|queue [0-9]+ timed out)|KVM internal error|emulation failure'

echo "host: $(nproc) CPUs, VMX/SVM: $hw_virt; VMM: $vmm; NIC: $kind; kernel: $kernel; time limit ${limit} s"
slow_run "${argv[@]}"

case "$kind" in
e1000*) devs='e1000' ;;
*) devs='virtio' ;;
esac
slow_exit_report "$devs"
slow_require_clean_stop

if [ "$vmm" = qlite ]; then
	# The registers Linux touched, by name, as the exit report lists them.
	# Register rows follow their device's "(all)" row, indented, the register first.
	regs=$(awk -v devs="^($devs)" '
		/^  [^ ]/ && $3 == "(all)" { cur = ($1 ~ devs); next }
		/^  *[^ ]/ && !/^                      [^ ]/ { cur = 0 }
		cur { print $1 }' "$err" | sort -u | tr '\n' ' ')
	echo "registers with exits: ${regs:-none}"
	if [ "${kind%-coalesce}" = e1000 ]; then
		for r in ICR IMS RDT TDT; do
			grep -qw "$r" <<<"$regs" || fail "the exit report names no e1000 register $r"
		done
	else
		[ -n "$regs" ] || fail "the exit report names no register of the virtio-net device"
	fi
	if [ "$kind" = e1000-coalesce ]; then
		# KVM queued writes instead of exiting: the report counts them apart from the exits.
		coalesced=$(awk '$1 == "coalesced" { print $2; exit }' "$err")
		echo "writes through the coalesced MMIO ring: ${coalesced:-none}"
		[ "${coalesced:-0}" -gt 0 ] 2>/dev/null || fail "coalesce on, but no coalesced writes in the exit report"
	fi
	sed -n "/devices' own counters/,/^\[/p" "$err" | grep -E -A24 "^  ($devs)" | head -n 30 |
		sed 's/^/device report| /'
fi
echo "passed: $kind under $vmm: ${#milestones[@]} kernel log lines, DHCP lease at" \
     "${times[$lease_ms]} s, $vmm stopped with status 0 at $run_time s"
exit 0
