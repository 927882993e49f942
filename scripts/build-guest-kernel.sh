#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the minimal guest kernel (PVH ELF vmlinux) from Debian's linux-source-6.1 with the
# project's own config fragment and patch (scripts/guest-kernel/). It boots on a nested,
# software-assisted KVM, where every ring-0 instruction is emulated: tinyconfig plus only
# what qlite's devices need, HZ=100, no AMD CPU support code (an x87 workaround the emulator
# cannot run), and the int3 self-test skipped (the emulator rejects int3).
#
# Usage: scripts/build-guest-kernel.sh [OUTDIR]     (default: guest/; writes OUTDIR/vmlinux-min)
# The build tree is OUTDIR/.build-min; a rebuild happens only when the inputs change.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$top/guest}")
kdir="$top/scripts/guest-kernel"
work="$out/.build-min"
mkdir -p "$out" "$work"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
need=(linux-source-6.1 make gcc bc bison flex libelf-dev libssl-dev xz-utils patch)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "build-guest-kernel: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

tarball=$(ls /usr/src/linux-source-6.1*.tar.xz | head -n1)
stamp=$(cat "$tarball.sha256" 2>/dev/null || true)
[ -n "$stamp" ] || stamp=$(stat -c '%s %Y' "$tarball")
inputs=$(cat "$kdir/config-fragment" "$kdir/skip-int3-selftest.patch"; echo "$stamp")
key=$(printf '%s' "$inputs" | sha256sum | cut -d' ' -f1)

if [ -f "$out/vmlinux-min" ] && [ "$(cat "$work/key" 2>/dev/null)" = "$key" ]; then
	echo "build-guest-kernel: $out/vmlinux-min is up to date"
	exit 0
fi

src="$work/linux"
if [ ! -d "$src" ] || [ "$(cat "$work/key" 2>/dev/null)" != "$key" ]; then
	echo "build-guest-kernel: unpacking $(basename "$tarball")"
	rm -rf "$src" "$work/key"
	mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	patch -d "$src" -p1 < "$kdir/skip-int3-selftest.patch"
fi

cd "$src"
make -s ARCH=x86_64 tinyconfig
scripts/kconfig/merge_config.sh -m -O . .config "$kdir/config-fragment" >/dev/null
make -s ARCH=x86_64 olddefconfig
# merge_config may silently drop an option whose dependencies are missing: check the ones that matter.
for opt in PVH SERIAL_8250_CONSOLE SMP X86_MPPARSE BLK_DEV_INITRD RD_GZIP DEVTMPFS E1000 ATA_PIIX \
	   VIRTIO_PCI VIRTIO_MMIO VIRTIO_NET VIRTIO_BLK EXT2_FS IP_PNP_DHCP HZ_100; do
	grep -q "^CONFIG_$opt=y" .config || { echo "build-guest-kernel: CONFIG_$opt did not stick" >&2; exit 1; }
done
echo "build-guest-kernel: make vmlinux (a few minutes)"
nice make -s ARCH=x86_64 -j"$(nproc)" vmlinux
readelf -n vmlinux | grep -q 'Xen.*0x00000012' ||
	{ echo "build-guest-kernel: vmlinux has no PVH entry note" >&2; exit 1; }
cp vmlinux "$out/vmlinux-min"
cp .config "$out/vmlinux-min.config"
echo "$key" > "$work/key"
echo "build-guest-kernel: wrote $out/vmlinux-min"
