#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The slow suite: Linux on qlite's ACPI tables, from the CPUs to the power-off. A kernel built
# with CONFIG_ACPI and serial SysRq (scripts/build-guest-kernel.sh --acpi: guest/vmlinux-acpi)
# boots with 2 vCPUs and no disk, `root=/dev/sda rootwait`, so it ends up idle, waiting for its
# root device. The early log must show the RSDP at 0xfe000, the tables, the PM timer at 0x608, the
# IOAPIC, the SCI's override and "Using ACPI (MADT) for SMP configuration", 2 CPUs allowed, and
# PnP must find the DSDT's ISA devices (COM1, RTC, keyboard, mouse, fw_cfg). Then
# the test types Ctrl-A b, o on the console: a break and 'o' are SysRq's power-off, which runs the
# kernel's own kernel_power_off() (no user space runs on the nested, software KVM hosts), and that
# enters S5 through the FADT's PM1a control block with \_S5's sleep type. qlite must stop by
# itself, with status 0 and a stop line that says S5.
#
# usage: linux-acpi.sh QLITE [KERNEL]
#   KERNEL   default $QLITE_LINUX_ACPI_KERNEL, else guest/vmlinux-acpi
# environment: QLITE_LINUX_TIMEOUT=S (default 900), QLITE_LINUX_SKIP_MISSING=1 (no kernel: skip),
#   QLITE_TEST_VMM=qemu: the same boot and power-off under qemu-system-x86_64 -M pc (SeaBIOS's
#   tables, PIIX4 PM; -serial mon:stdio, whose Ctrl-A b qlite's console copies)
# Exit status: 0 pass, 1 fail, 77 skip.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
limit=${QLITE_LINUX_TIMEOUT:-900}

[ $# -ge 1 ] || { echo "usage: $0 QLITE [KERNEL]" >&2; exit 2; }
qlite=$1
kernel=${2:-${QLITE_LINUX_ACPI_KERNEL:-$guest/vmlinux-acpi}}
if [ ! -f "$kernel" ]; then
	msg="$kernel: no such file; build it with: scripts/build-guest-kernel.sh --acpi (~5 min)"
	[ "${QLITE_LINUX_SKIP_MISSING:-0}" = 1 ] && skip "$msg"
	fail "$msg"
fi
# printk's format strings are in the image: no such string, no CONFIG_ACPI (or no serial SysRq).
grep -aq 'Using ACPI (MADT) for SMP configuration information' "$kernel" ||
	fail "$kernel is built without CONFIG_ACPI (scripts/build-guest-kernel.sh --acpi builds one)"
grep -aq 'Power Off' "$kernel" || fail "$kernel is built without CONFIG_MAGIC_SYSRQ"
slow_require_kvm

cmdline="console=ttyS0 root=/dev/sda rootwait panic=-1$slow_cmdline_extra"
if [ "$vmm" = qemu ]; then
	command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 not found"
	argv=(qemu-system-x86_64 -accel kvm -M pc -cpu "$qemu_cpu" -smp 2 -m 256 -display none
	      -serial mon:stdio -no-reboot -kernel "$kernel" -append "$cmdline$qemu_cmdline_extra")
else
	argv=("$qlite" run --kernel "$kernel" --cmdline "$cmdline" --ram 256M --cpus 2)
fi

dir=$(mktemp -d)
log=$dir/log
pid=
trap 'exec 3>&-; [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
mkfifo "$dir/console"
echo "kernel $kernel, $vmm, 2 vCPUs, limit $limit s"
printf 'running:'; printf ' %q' "${argv[@]}"; echo
t0=$(date +%s)
"${argv[@]}" <"$dir/console" >"$log" 2>&1 &
pid=$!
exec 3>"$dir/console"	# the console's input: open until the end, so the VMM never sees EOF

# wait_for ERE SECONDS: true once the log has a line matching ERE; false if the VMM exited or
# the time ran out.
wait_for() {
	local end=$(($(date +%s) + $2))
	while [ "$(date +%s)" -lt $end ]; do
		tr -d '\r' <"$log" | grep -qE "$1" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 1
	done
	return 1
}

wait_for 'Waiting for root device' "$limit" ||
	{ tail -n 20 "$log"; fail "no 'Waiting for root device' within $limit s"; }
echo "  $(($(date +%s) - t0)) s  waiting for its root device: Ctrl-A b, o"
printf '\001b' >&3
sleep 2
printf 'o' >&3
end=$(($(date +%s) + 300))
while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt $end ]; do sleep 1; done
if kill -0 "$pid" 2>/dev/null; then
	tail -n 20 "$log"
	fail "$vmm still running 300 s after SysRq o"
fi
wait "$pid"
status=$?
pid=
echo "  $(($(date +%s) - t0)) s  $vmm exited with status $status"
tr -d '\r' <"$log" | grep -E 'ACPI|IOAPIC|smpboot: Allowing|sysrq|reboot:|qlite: stopped|qemu-system'

want=(
	'ACPI: FACP 0x'
	'ACPI: DSDT 0x'
	'ACPI: APIC 0x'
	'ACPI: Using ACPI \(MADT\) for SMP configuration information'
	'smpboot: Allowing 2 CPUs, 0 hotplug CPUs'
	'pnp: PnP ACPI: found [1-9][0-9]* devices'
	'sysrq: Power Off'
	'reboot: Power down'
)
[ "$vmm" = qemu ] || want+=(
	'ACPI: RSDP 0x00000000000FE000 000024 \(v02 QLITE \)'
	'ACPI: XSDT 0x'
	'ACPI: FACP 0x.* \(v06 QLITE  QLITEVMM'
	'ACPI: PM-Timer IO Port: 0x608'
	'IOAPIC\[0\]: apic_id 2, version 17, address 0xfec00000, GSI 0-23'
	'ACPI: INT_SRC_OVR \(bus 0 bus_irq 9 global_irq 9 high level\)'
	'qlite: stopped \(poweroff: guest entered ACPI S5'
)
for w in "${want[@]}"; do
	tr -d '\r' <"$log" | grep -qE -- "$w" || fail "no line '$w' in the log"
done
[ $status -eq 0 ] || fail "$vmm exited with status $status after S5 (expected 0)"
echo "pass: Linux took its CPUs from the ACPI tables and powered off through S5: $vmm status 0"
