#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run a built kvm-unit-tests tree's x86 tests under qlite (and, with --qemu,
# under QEMU with KVM, as kvm-unit-tests' own x86/run starts it), from its
# x86/unittests.cfg: PASS/FAIL/SKIP per test, a summary, and with --qemu both
# columns and the tests where they differ.
#
#   scripts/kvm-unit-tests.sh [options] KUT_DIR [TEST_OR_GROUP...]
#     --qemu               also run each test under qemu-system-x86_64 -accel kvm
#     --qlite PATH         the qlite binary (default: build/qlite beside this script)
#     --timeout-factor N   multiply each test's timeout (default 1; the cfg's
#                          timeout, else kvm-unit-tests' 90 s)
#     --logs DIR           keep each run's output in DIR/NAME.{qlite,qemu}.log
#                          (default: a new directory under /tmp, printed)
#     --list               print the selected tests and their command lines only
# Words after KUT_DIR select tests by name or by group; none selects every test
# outside the `nodefault` group (kvm-unit-tests' rule).
#
# Outcome, as kvm-unit-tests' runner decides it: the guest's debug-exit status
# (v << 1) | 1 is 1 for PASS, 77 for SKIP, anything else FAIL; 124 is a
# timeout; QEMU's status 1 with an error line of its own (not a warning) is a
# FAIL (QEMU did not start). Tests for another arch, for TCG only, or whose
# `check` the host fails are SKIP for both VMMs without running.
#
# What qlite gets for QEMU's command line: -kernel X.flat -> --kernel, -smp N
# -> --cpus N, -append/test_args -> --cmdline, -m N -> --ram NM, the test
# devices -> --vdev pc-testdev --vdev pci-testdev (qlite's isa-debug-exit at
# 0xf4 is part of its platform), -machine kernel-irqchip=split -> --irqchip
# split, -device edu and -device intel-iommu[,intremap=on|off][,eim=off] ->
# --vdev. -cpu models, other -machine options (q35) and -global have no qlite
# equivalent: they are listed as "not mapped" in the log.
#
# Exit status: 0 when no test failed under qlite (and, with --qemu, when qlite
# fails nothing QEMU passes), 1 otherwise, 2 for bad usage.
set -u

usage() {
	sed -n '5,24p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
qlite="$here/../build/qlite"
with_qemu=no
factor=1
logs=""
list_only=no
while [ $# -gt 0 ]; do
	case "$1" in
	--qemu) with_qemu=yes ;;
	--qlite) qlite=$2; shift ;;
	--timeout-factor) factor=$2; shift ;;
	--logs) logs=$2; shift ;;
	--list) list_only=yes ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "kvm-unit-tests.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 1 ] || usage
kut=$1
shift
wanted=("$@")
cfg="$kut/x86/unittests.cfg"
if [ ! -f "$cfg" ] || [ ! -f "$kut/config.mak" ]; then
	echo "kvm-unit-tests.sh: $kut is not a configured kvm-unit-tests tree" \
	     "(no x86/unittests.cfg or config.mak): run ./configure && make there" >&2
	exit 2
fi
case "$factor" in ''|*[!0-9]*) echo "kvm-unit-tests.sh: --timeout-factor takes a whole number" >&2; exit 2 ;; esac
arch=$(sed -n 's/^ARCH=//p' "$kut/config.mak")
[ -n "$arch" ] || arch=x86_64
if [ "$list_only" = no ] && [ ! -x "$qlite" ]; then
	echo "kvm-unit-tests.sh: no qlite binary at $qlite (build it, or --qlite PATH)" >&2
	exit 2
fi
# Each test runs from inside the tree: a relative path (meson passes ./qlite) must not move.
[ "$list_only" = no ] && qlite="$(cd "$(dirname "$qlite")" && pwd)/$(basename "$qlite")"
if [ "$with_qemu" = yes ] && ! command -v qemu-system-x86_64 >/dev/null; then
	echo "kvm-unit-tests.sh: --qemu: no qemu-system-x86_64 in PATH" >&2
	exit 2
fi
if [ -z "$logs" ] && [ "$list_only" = no ]; then
	logs=$(mktemp -d /tmp/kut-logs.XXXXXX)
fi
[ "$list_only" = yes ] || mkdir -p "$logs" || exit 2

# ---- the cfg: one record per [section], fields in parallel arrays ----
names=(); files=(); smps=(); params=(); args=(); groups=(); timeouts=(); arches=()
accels=(); checks=()
n=-1
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%%$'\r'}
	case "$line" in
	'#'*|'') continue ;;
	'['*']')
		n=$((n + 1))
		names[n]=${line:1:${#line}-2}
		files[n]=""; smps[n]=1; params[n]=""; args[n]=""; groups[n]=""
		timeouts[n]=90; arches[n]=""; accels[n]=""; checks[n]=""
		continue ;;
	esac
	[ $n -ge 0 ] || continue
	key=$(sed 's/^\([a-z_]*\) *=.*/\1/' <<<"$line")
	val=$(sed 's/^[a-z_]* *= *//' <<<"$line")
	case "$key" in
	file) files[n]=$val ;;
	smp) smps[n]=$val ;;
	qemu_params|extra_params) params[n]="${params[n]} $val" ;;
	test_args) args[n]=$val ;;
	groups) groups[n]=$val ;;
	timeout) timeouts[n]=$val ;;
	arch) arches[n]=$val ;;
	accel) accels[n]=$val ;;
	check) checks[n]="${checks[n]} $val" ;;
	esac
done <"$cfg"

selected() {
	local i=$1 w g
	if [ ${#wanted[@]} -eq 0 ]; then
		for g in ${groups[i]}; do [ "$g" = nodefault ] && return 1; done
		return 0
	fi
	for w in "${wanted[@]}"; do
		[ "$w" = "${names[i]}" ] && return 0
		for g in ${groups[i]}; do [ "$g" = "$w" ] && return 0; done
	done
	return 1
}

# A value as kvm-unit-tests' runner gives it: through the shell (quotes, `date +%s`).
shell_value() {
	eval "printf '%s' $1"
}

# Why a test cannot run here, or nothing.
skip_reason() {
	local i=$1 c path value
	[ -n "${arches[i]}" ] && [ "${arches[i]}" != "$arch" ] && { echo "${arches[i]} only"; return; }
	[ -n "${accels[i]}" ] && [ "${accels[i]}" != kvm ] && { echo "${accels[i]} only"; return; }
	for c in ${checks[i]}; do
		path=${c%%=*}
		value=${c#*=}
		if [ ! -f "$path" ] || [ "$(cat "$path")" != "$value" ]; then
			echo "$path not equal to $value"
			return
		fi
	done
	[ -f "$kut/x86/${files[i]}" ] || echo "no x86/${files[i]} (not built)"
}

# QEMU's -append (extra_params) wins over nothing; test_args is the newer spelling.
test_cmdline() {
	local i=$1 p=${params[i]}
	if [ -n "${args[i]}" ]; then
		shell_value "${args[i]}"
	elif [[ "$p" == *"-append "* ]]; then
		shell_value "$(sed 's/.*-append \(.*\)$/\1/' <<<"$p")"
	fi
}

# qemu_params without -append, word-split as the runner's eval would.
qemu_extra() {
	local p=${1}
	p=$(sed 's/-append .*$//' <<<"$p")
	printf '%s' "$p"
}

# Map the QEMU parameters qlite has an equivalent for; say which it has not.
qlite_extra=(); unmapped=""
map_machine() {		# -machine's comma list
	local -a opts
	local o
	IFS=, read -r -a opts <<<"$1"
	for o in "${opts[@]}"; do
		case "$o" in
		kernel-irqchip=split) qlite_extra+=(--irqchip split) ;;
		kernel-irqchip=on|accel=kvm) ;;
		*) unmapped="$unmapped -machine $o" ;;
		esac
	done
}
map_device() {		# -device's value
	local -a opts
	local o v
	IFS=, read -r -a opts <<<"$1"
	case "${opts[0]}" in
	edu) [ ${#opts[@]} -eq 1 ] && { qlite_extra+=(--vdev edu); return; } ;;
	intel-iommu)
		v=intel-iommu
		for o in "${opts[@]:1}"; do
			case "$o" in
			intremap=on|intremap=off) v="$v,$o" ;;
			eim=off) ;;	# qlite's VT-d has no extended interrupt mode
			*) unmapped="$unmapped -device $1"; return ;;
			esac
		done
		qlite_extra+=(--vdev "$v"); return ;;
	esac
	unmapped="$unmapped -device $1"
}
map_params() {
	local -a words
	local w m k=0 ram=128M
	qlite_extra=(); unmapped=""
	read -r -a words <<<"$(qemu_extra "$1")"
	while [ $k -lt ${#words[@]} ]; do
		w=${words[k]}
		case "$w" in
		-m)
			k=$((k + 1)); m=${words[k]:-}
			case "$m" in
			*[gG]) ram="${m%[gG]}G" ;;
			*[mM]) ram="${m%[mM]}M" ;;
			*) ram="${m}M" ;;
			esac ;;
		-M|-machine) k=$((k + 1)); map_machine "${words[k]:-}" ;;
		-device) k=$((k + 1)); map_device "${words[k]:-}" ;;
		-cpu|-global|-overcommit)
			unmapped="$unmapped $w ${words[k + 1]:-}"; k=$((k + 1)) ;;
		*) unmapped="$unmapped $w" ;;
		esac
		k=$((k + 1))
	done
	qlite_extra=(--ram "$ram" "${qlite_extra[@]}")
}

# QEMU's own complaint in a log, warnings aside: it also exits 1 when it cannot start (an
# unknown -cpu property), the status a passing test gives, so kvm-unit-tests' runner counts
# status 1 with such a line on stderr as a failure.
qemu_error() {
	grep -a '^qemu-system-x86_64: ' "$1" | grep -aiv warning | head -n 1 |
		sed 's/^qemu-system-x86_64: //;s/\r$//'
}

# outcome STATUS LOGFILE VMM -> "PASS|FAIL|SKIP detail"
outcome() {
	local st=$1 log=$2 vmm=$3 summary err=""
	summary=$(tail -n 40 "$log" | grep -a '^SUMMARY: ' | tail -n 1 | sed 's/^SUMMARY: //;s/\r$//')
	[ "$vmm" = qemu ] && [ "$st" -eq 1 ] && err=$(qemu_error "$log")
	if [ -n "$err" ]; then
		echo "FAIL QEMU error: $err"
	elif [ "$st" -eq 1 ] && { [ "$vmm" = qemu ] || grep -aq 'qlite: stopped (debug-exit' "$log"; }; then
		echo "PASS${summary:+ $summary}"
	elif [ "$st" -eq 77 ]; then
		echo "SKIP${summary:+ $summary}"
	elif [ "$st" -eq 124 ]; then
		echo "FAIL timeout"
	elif [ "$st" -eq 3 ]; then
		echo "FAIL ${summary:-status 3}"
	else
		echo "FAIL status $st${summary:+, $summary}"
	fi
}

run_qlite() {
	local i=$1 to=$2 log=$3 cl
	cl=$(test_cmdline "$i")
	map_params "${params[i]}"
	{
		echo "# qlite run --kernel x86/${files[i]} --cpus ${smps[i]} ${qlite_extra[*]}" \
		     "--vdev pc-testdev --vdev pci-testdev --cmdline '$cl'"
		[ -n "$unmapped" ] && echo "# not mapped:$unmapped"
	} >"$log"
	(cd "$kut" && timeout -k 5 "$to" "$qlite" run --kernel "x86/${files[i]}" \
		--cpus "${smps[i]}" "${qlite_extra[@]}" --vdev pc-testdev --vdev pci-testdev \
		--cmdline "$cl" </dev/null >>"$log" 2>&1) 2>/dev/null
}

run_qemu() {
	local i=$1 to=$2 log=$3 cl
	local -a extra
	cl=$(test_cmdline "$i")
	read -r -a extra <<<"$(qemu_extra "${params[i]}")"
	echo "# qemu-system-x86_64 ... -kernel x86/${files[i]} -smp ${smps[i]} ${extra[*]}" \
	     "-append '$cl'" >"$log"
	(cd "$kut" && timeout -k 5 "$to" qemu-system-x86_64 --no-reboot -nodefaults \
		-global kvm-pit.lost_tick_policy=discard -device pc-testdev \
		-device isa-debug-exit,iobase=0xf4,iosize=0x4 -display none -serial stdio \
		-device pci-testdev -machine accel=kvm -kernel "x86/${files[i]}" \
		-smp "${smps[i]}" "${extra[@]}" -append "$cl" </dev/null >>"$log" 2>&1) 2>/dev/null
}

declare -A count_q=() count_e=()
diffs=()
bad=0
[ "$list_only" = yes ] || printf 'logs in %s\n' "$logs"
if [ "$with_qemu" = yes ]; then
	printf '%-28s %-6s %-6s %s\n' TEST QLITE QEMU DETAIL
fi
for i in $(seq 0 $n); do
	selected "$i" || continue
	name=${names[i]}
	to=$(( ${timeouts[i]%s} * factor ))
	if [ "$list_only" = yes ]; then
		map_params "${params[i]}"
		printf '%s: --kernel x86/%s --cpus %s %s --cmdline "%s"%s\n' "$name" "${files[i]}" \
			"${smps[i]}" "${qlite_extra[*]}" "$(test_cmdline "$i")" \
			"${unmapped:+ (not mapped:$unmapped)}"
		continue
	fi
	why=$(skip_reason "$i")
	if [ -n "$why" ]; then
		rq="SKIP $why"; re="SKIP $why"
	else
		run_qlite "$i" "$to" "$logs/$name.qlite.log"
		rq=$(outcome $? "$logs/$name.qlite.log" qlite)
		if [ "$with_qemu" = yes ]; then
			run_qemu "$i" "$to" "$logs/$name.qemu.log"
			re=$(outcome $? "$logs/$name.qemu.log" qemu)
		fi
	fi
	q=${rq%% *}
	count_q[$q]=$(( ${count_q[$q]:-0} + 1 ))
	if [ "$with_qemu" = yes ]; then
		e=${re%% *}
		count_e[$e]=$(( ${count_e[$e]:-0} + 1 ))
		detail=""
		[ "$rq" != "${rq#* }" ] && detail="qlite: ${rq#* }"
		[ "$re" != "${re#* }" ] && detail="$detail${detail:+; }qemu: ${re#* }"
		printf '%-28s %-6s %-6s %s\n' "$name" "$q" "$e" "$detail"
		if [ "$q" != "$e" ]; then
			diffs+=("$name: qlite $rq | qemu $re")
			[ "$q" = FAIL ] && [ "$e" = PASS ] && bad=1
		fi
	else
		printf '%s %s%s\n' "$q" "$name" "${rq#"$q"}"
		[ "$q" = FAIL ] && bad=1
	fi
done
[ "$list_only" = yes ] && exit 0

printf '\nqlite: %d PASS, %d FAIL, %d SKIP\n' "${count_q[PASS]:-0}" "${count_q[FAIL]:-0}" \
	"${count_q[SKIP]:-0}"
if [ "$with_qemu" = yes ]; then
	printf 'qemu:  %d PASS, %d FAIL, %d SKIP\n' "${count_e[PASS]:-0}" "${count_e[FAIL]:-0}" \
		"${count_e[SKIP]:-0}"
	if [ ${#diffs[@]} -eq 0 ]; then
		echo "differences: none"
	else
		echo "differences:"
		printf '  %s\n' "${diffs[@]}"
	fi
fi
exit $bad
