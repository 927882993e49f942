#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the minimal guest kernel (PVH ELF vmlinux) from Debian's linux-source-6.1 with the
# project's own config fragment and patch (scripts/guest-kernel/). It boots on a nested,
# software-assisted KVM too, where every ring-0 instruction is emulated: tinyconfig plus only
# what qlite's devices need, HZ=100, no AMD CPU support code (an x87 workaround the emulator
# cannot run), and the int3 self-test skipped (the emulator rejects int3).
#
# Usage: scripts/build-guest-kernel.sh [--acpi] [OUTDIR]   (default: guest/; writes
#        OUTDIR/vmlinux-min and OUTDIR/vmlinux-min.config)
#   --acpi   the same kernel plus config-acpi (CONFIG_ACPI, magic SysRq over the serial line):
#            OUTDIR/vmlinux-acpi, for the slow suite's ACPI test (linux-acpi.sh), which finds
#            its CPUs through qlite's ACPI tables and powers off through \_S5 on SysRq 'o'
# Environment: JOBS=N parallel make jobs (default: the number of CPUs).
#
# Recipe: make tinyconfig; merge_config.sh -m .config config-fragment; make olddefconfig;
# apply skip-int3-selftest.patch; make vmlinux. The unpacked, patched tree stays in
# OUTDIR/.build-min/linux: it is unpacked again only when the linux-source-6.1 package or the
# patch changed, and the kernel is rebuilt (incrementally) only when the fragment changed too.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
variant=min
if [ "${1:-}" = --acpi ]; then
	variant=acpi
	shift
fi
out=$(realpath -m "${1:-$top/guest}")
kdir="$top/scripts/guest-kernel"
work="$out/.build-$variant"
fragments=("$kdir/config-fragment")
[ $variant = acpi ] && fragments+=("$kdir/config-acpi")
jobs=${JOBS:-$(nproc)}
say() { echo "build-guest-kernel: $*"; }
die() { echo "build-guest-kernel: $*" >&2; exit 1; }

for f in "${fragments[@]}" "$kdir/skip-int3-selftest.patch"; do
	[ -f "$f" ] || die "$f: missing"
done
mkdir -p "$out" "$work"

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: cannot install packages"
	sudo="sudo"
fi
need=(linux-source-6.1 make gcc bc bison flex libelf-dev libssl-dev xz-utils patch binutils)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || die "$tarball: not found (package linux-source-6.1)"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
src_key=$( { echo "linux-source-6.1 $srcver"; cat "$kdir/skip-int3-selftest.patch"; } | sha256sum | cut -d' ' -f1)
out_key=$( { echo "$src_key"; cat "${fragments[@]}"; } | sha256sum | cut -d' ' -f1)

if [ -f "$out/vmlinux-$variant" ] && [ "$(cat "$work/out-key" 2>/dev/null)" = "$out_key" ]; then
	say "$out/vmlinux-$variant is up to date (linux-source-6.1 $srcver, same fragment and patch)"
	exit 0
fi

src="$work/linux"
if [ "$(cat "$work/src-key" 2>/dev/null)" != "$src_key" ] || [ ! -f "$src/Makefile" ]; then
	say "unpacking $tarball ($srcver) into $src"
	rm -rf "$src" "$work/src-key" "$work/out-key"
	mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	say "applying skip-int3-selftest.patch"
	patch -s -d "$src" -p1 < "$kdir/skip-int3-selftest.patch"
	echo "$src_key" > "$work/src-key"
fi

cd "$src"
say "configuring: tinyconfig + ${fragments[*]##*/} + olddefconfig"
make -s ARCH=x86_64 tinyconfig >/dev/null
scripts/kconfig/merge_config.sh -m -O . .config "${fragments[@]}" >/dev/null
make -s ARCH=x86_64 olddefconfig >/dev/null
# Kconfig drops an option whose dependencies are not met without a word: check every one
# the fragment asks for.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=y)
		grep -qx "$line" .config || { echo "build-guest-kernel: ${line%=y} did not stick" >&2; bad=1; } ;;
	CONFIG_*=n)
		! grep -qx "${line%=n}=y" .config || { echo "build-guest-kernel: ${line%=n} is still set" >&2; bad=1; } ;;
	esac
done < <(cat "${fragments[@]}")
[ $bad -eq 0 ] || die "the configuration does not match ${fragments[*]#$top/}"

say "make -j$jobs vmlinux (about 4 minutes on 2 CPUs for a fresh tree)"
nice make -s ARCH=x86_64 -j"$jobs" vmlinux
# XEN_ELFNOTE_PHYS32_ENTRY (type 0x12) is the PVH entry point qlite boots through.
readelf -n vmlinux | grep -q 'Xen .*(0x00000012)\|Xen .*PHYS32_ENTRY' ||
	die "vmlinux has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)"
cp vmlinux "$out/vmlinux-$variant.tmp"
mv "$out/vmlinux-$variant.tmp" "$out/vmlinux-$variant"
cp .config "$out/vmlinux-$variant.config"
echo "$out_key" > "$work/out-key"
say "wrote $out/vmlinux-$variant ($(make -s kernelrelease), $(( $(stat -c %s "$out/vmlinux-$variant") >> 20 )) MiB, PVH entry note present)"
