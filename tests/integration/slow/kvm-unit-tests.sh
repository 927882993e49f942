#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The `kut` suite: kvm-unit-tests' x86 tests under qlite and, where QEMU is installed, under
# QEMU with KVM on the same host (scripts/kvm-unit-tests.sh). Fails when qlite fails a test
# QEMU passes (or, without QEMU, any test). Skipped (77) unless QLITE_KUT_DIR is a built tree.
#   QLITE_KUT_DIR=/tmp/kut meson test -C build --suite kut
#   QLITE_KUT_TESTS="msr vmexit" (names or groups; default: the quick ones below)
#   QLITE_KUT_TIMEOUT_FACTOR=3 (default 2: ring 0 is emulated on nested hosts)
set -u
qlite=$1
script=$(dirname "$0")/../../../scripts/kvm-unit-tests.sh
if [ -z "${QLITE_KUT_DIR:-}" ] || [ ! -f "$QLITE_KUT_DIR/x86/unittests.cfg" ]; then
	echo "kut: set QLITE_KUT_DIR to a built kvm-unit-tests tree (README: kvm-unit-tests)"
	exit 77
fi
read -r -a tests <<<"${QLITE_KUT_TESTS:-smptest smptest3 vmexit_cpuid vmexit_inl_pmtimer vmexit_mov_from_cr8 vmexit_mov_to_cr8 vmexit_ipi idt_test setjmp msr tsc intel_iommu}"
qemu=()
command -v qemu-system-x86_64 >/dev/null && [ -w /dev/kvm ] && qemu=(--qemu)
exec bash "$script" "${qemu[@]}" --qlite "$qlite" \
	--timeout-factor "${QLITE_KUT_TIMEOUT_FACTOR:-2}" "$QLITE_KUT_DIR" "${tests[@]}"
