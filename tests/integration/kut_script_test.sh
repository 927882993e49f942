#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# scripts/kvm-unit-tests.sh's verdicts, without KVM: a fake kvm-unit-tests tree and stand-ins
# for qlite and qemu-system-x86_64 that exit as the real ones do. The case that matters: QEMU
# exits 1 both for a passing test and when it cannot start (an unknown -cpu property, as the
# cfg's ept test asks of QEMU 7.2); only its warnings may come with a PASS.
#   usage: kut_script_test.sh SCRIPT
set -u
script=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/kut/x86" "$tmp/bin"
echo ARCH=x86_64 >"$tmp/kut/config.mak"
cat >"$tmp/kut/x86/unittests.cfg" <<'EOF'
[quiet]
file = quiet.flat

[warned]
file = warned.flat
qemu_params = -cpu qemu64,+x2apic

[refused]
file = refused.flat
qemu_params = -cpu max,+vmx,-vmx-mbec

[failing]
file = failing.flat

[iommu]
file = iommu.flat
smp = 4
qemu_params = -M q35,kernel-irqchip=split -device intel-iommu,intremap=on,eim=off -device edu
EOF
for t in quiet warned refused failing iommu; do : >"$tmp/kut/x86/$t.flat"; done

# Both stand-ins pick their behaviour from the kernel's name; "failing" ends with status 3,
# a test that reported a failure through the debug-exit port.
cat >"$tmp/bin/qlite" <<'EOF'
#!/bin/bash
case "$*" in
*failing.flat*) echo "qlite: stopped (debug-exit: guest wrote 1 to the debug-exit port)"; exit 3 ;;
esac
echo "SUMMARY: 2 tests"
echo "qlite: stopped (debug-exit: guest wrote 0 to the debug-exit port), exit status 1"
exit 1
EOF
cat >"$tmp/bin/qemu-system-x86_64" <<'EOF'
#!/bin/bash
case "$*" in
*warned.flat*)
	echo "qemu-system-x86_64: warning: host doesn't support requested feature: x2apic" >&2 ;;
*refused.flat*)
	echo "qemu-system-x86_64: Property 'max-x86_64-cpu.vmx-mbec' not found" >&2; exit 1 ;;
*failing.flat*) echo "SUMMARY: 2 tests, 1 unexpected failures"; exit 3 ;;
esac
echo "SUMMARY: 2 tests"
exit 1
EOF
chmod +x "$tmp/bin/qlite" "$tmp/bin/qemu-system-x86_64"

out=$(PATH="$tmp/bin:$PATH" bash "$script" --qemu --qlite "$tmp/bin/qlite" \
	--logs "$tmp/logs" "$tmp/kut" quiet warned refused failing)
status=$?
echo "$out"

bad=0
expect() {
	if ! grep -qE "$1" <<<"$out"; then
		echo "FAIL: no line matching: $1"
		bad=1
	fi
}
expect '^quiet +PASS +PASS +qlite: 2 tests; qemu: 2 tests$'
expect '^warned +PASS +PASS '
expect "^refused +PASS +FAIL .*qemu: QEMU error: Property 'max-x86_64-cpu.vmx-mbec' not found$"
expect '^failing +FAIL +FAIL '
expect '^qemu: +2 PASS, 2 FAIL, 0 SKIP$'
# qlite failed only where QEMU failed too: status 0.
if [ "$status" -ne 0 ]; then
	echo "FAIL: exit status $status, expected 0"
	bad=1
fi

# QEMU's parameters that qlite has: the split irqchip, the VT-d unit and edu; q35 it has not.
out=$(bash "$script" --list "$tmp/kut" iommu)
echo "$out"
expect '^iommu: --kernel x86/iommu.flat --cpus 4 --ram 128M --irqchip split --vdev intel-iommu,intremap=on --vdev edu --cmdline "" \(not mapped: -machine q35\)$'

# A relative --qlite (meson passes ./qlite) still names the binary once the tests run in the tree.
out=$(cd "$tmp" && PATH="$tmp/bin:$PATH" bash "$script" --qlite ./bin/qlite --logs "$tmp/logs2" \
	"$tmp/kut" quiet)
echo "$out"
expect '^PASS quiet 2 tests$'
expect '^qlite: 1 PASS, 0 FAIL, 0 SKIP$'
exit $bad
