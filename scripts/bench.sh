#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench.sh - every benchmark of bench/ that exists, qlite and QEMU side by side in one go.
#
# usage: scripts/bench.sh [-C BUILD_DIR] [-o RESULTS_DIR] [--quick] [--linux] [--only NAME[,NAME...]]
#
# NAMEs: exit-cost, blk, kick, boot, net, linux. Each benchmark runs qlite and QEMU interleaved
# itself, prints its table, and leaves NAME.json (the numbers) and NAME.txt (the table) in
# RESULTS_DIR (default bench-results/YYYYMMDD-HHMMSS), beside machine.txt (host, KVM, QEMU, qlite
# revision, load). --quick: fewer runs and no IDE PIO (~2 min instead of ~10).
# --linux: also the Linux boot (bench/linux_boot.py, one boot per VMM to "Run /init", via the
# DHCP lease): slow, 5-10 min a boot on a nested KVM, so never without --linux (or --only linux).
# Not part of the test suite.
#
# Net benchmarks plug in here: bench/net_compare.py, called as
#   net_compare.py QLITE TEST_GUEST --json FILE [--quick]
# runs when it exists and qlite has both NICs (e1000, virtio-net); otherwise one line says why not.
set -u -o pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
out=
quick=
only=exit-cost,blk,kick,boot,net
linux=

while [ $# -gt 0 ]; do
	case $1 in
	-C) build=$(cd "$2" && pwd) || exit 2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--linux) linux=1; shift ;;
	--only) only=$2; shift 2 ;;
	-h|--help) sed -n '4,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

qlite=$build/qlite
guest=$build/tests/guest/qlite-test-guest.elf
if [ ! -x "$qlite" ] || [ ! -f "$guest" ]; then
	echo "bench.sh: no $qlite or $guest: build first (meson setup build && ninja -C build)" >&2
	exit 2
fi
ninja -C "$build" bench/accounting_cost bench/first_run.so >/dev/null || exit 2
[ -n "$out" ] || out=$here/bench-results/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "host: $(uname -srm); $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
	if grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo "kvm: hardware-assisted ($(grep -owE 'vmx|svm' /proc/cpuinfo | head -1))"
	else
		echo "kvm: nested software-assisted (CPU shows neither VMX nor SVM); modules:" \
			"$(ls /sys/module 2>/dev/null | grep '^kvm' | tr '\n' ' ')"
	fi
	echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "qemu: $(qemu-system-x86_64 --version 2>/dev/null | head -1)"
	echo "qlite: $(git -C "$here" describe --always --dirty 2>/dev/null) ($(git -C "$here" \
		rev-parse --abbrev-ref HEAD 2>/dev/null)), build $(meson introspect --buildoptions \
		"$build" 2>/dev/null | python3 -c 'import json,sys; print(next((o["value"] for o in
		json.load(sys.stdin) if o["name"] == "buildtype"), "?"))' 2>/dev/null)"
} >"$out/machine.txt"
cat "$out/machine.txt"

[ -z "$linux" ] || only=$only,linux
failed=0
wanted() { case ",$only," in *",$1,"*) return 0 ;; esac; return 1; }

# run NAME CMD...: the table on the terminal and in NAME.txt, progress lines on stderr.
run() {
	local name=$1 start=$SECONDS
	shift
	echo
	echo "== $name: $*"
	"$@" | tee "$out/$name.txt"
	local status=${PIPESTATUS[0]}
	if [ "$status" = 0 ]; then
		echo "($name: $((SECONDS - start)) s)"
	else
		echo "bench.sh: $name FAILED (status $status)"
		failed=1
	fi
}

if wanted exit-cost; then
	run exit-cost python3 "$here/bench/exit_cost.py" "$qlite" "$guest" --accounting \
		--accounting-cost "$build/bench/accounting_cost" --json "$out/exit-cost.json" \
		${quick:+--rounds 3}
fi
if wanted blk; then
	run blk python3 "$here/bench/blk_compare.py" "$qlite" "$guest" --qemu \
		--json "$out/blk.json" $([ -n "$quick" ] && echo --only virtio --runs 1 || echo --runs 3)
fi
if wanted kick; then
	run kick python3 "$here/bench/kick_latency.py" "$qlite" "$guest" --json "$out/kick.json" \
		--runs $([ -n "$quick" ] && echo 2 || echo 5)
fi
if wanted boot; then
	run boot python3 "$here/bench/boot_footprint.py" "$qlite" "$guest" \
		--first-run "$build/bench/first_run.so" --json "$out/boot.json" ${quick:+--runs 3}
fi
if wanted net; then
	nics=$("$qlite" help config 2>/dev/null | grep -cxE 'vdev (e1000|virtio-net)')
	if [ ! -f "$here/bench/net_compare.py" ]; then
		echo; echo "== net: skipped: bench/net_compare.py does not exist yet"
	elif [ "$nics" != 2 ]; then
		echo; echo "== net: skipped: this qlite lacks e1000 or virtio-net ('qlite help config')"
	else
		run net python3 "$here/bench/net_compare.py" "$qlite" "$guest" --json "$out/net.json" \
			${quick:+--quick}
	fi
fi

if wanted linux; then
	run linux python3 "$here/bench/linux_boot.py" "$qlite" --json "$out/linux.json" \
		--log-dir "$out/linux-logs"
fi

echo
echo "results: $out"
exit $failed
