#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Prepare Linux guests for qlite from Debian packages only, into guest/ (or OUTDIR):
#   vmlinux-min          the minimal kernel (scripts/build-guest-kernel.sh): boots on a nested,
#                        software-assisted KVM too
#   vmlinux-debian       Debian's linux-image-amd64 kernel as a PVH ELF (what users run)
#   initrd-min.cpio.gz   busybox initramfs (scripts/guest-init.sh as /init)
#   initrd-debian.cpio.gz   the same with Debian's e1000, ata_piix, virtio modules
#   vmlinux, initrd.cpio.gz links to the pair for this host: Debian's on VMX/SVM hosts, else
#                        the minimal one (configs/linux.conf uses them)
#
# Usage: scripts/get-guest.sh [--min|--debian|--all] [OUTDIR]   (default: --min on hosts without
# VMX/SVM, --debian on others)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
what=""
out="$top/guest"
for a in "$@"; do
	case "$a" in
	--min|--debian|--all) what=${a#--} ;;
	-h|--help) sed -n '3,13p' "$0"; exit 0 ;;
	-*) echo "get-guest: unknown option $a" >&2; exit 2 ;;
	*) out=$a ;;
	esac
done
out=$(realpath -m "$out")
hw_virt=no
grep -qwE 'vmx|svm' /proc/cpuinfo && hw_virt=yes
[ -n "$what" ] || { [ $hw_virt = yes ] && what=debian || what=min; }
mkdir -p "$out"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
need=(busybox-static cpio gzip xz-utils kmod binutils)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# make_initrd OUT.cpio.gz [MODULE_TREE KVER MODULE...]
make_initrd() {
	local cpio=$1 stage
	stage=$(mktemp -d)
	mkdir -p "$stage"/{bin,dev,proc,sys,tmp,lib/modules}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$top/scripts/guest-init.sh" "$stage/init"
	chmod 755 "$stage/init"
	if [ $# -gt 1 ]; then
		local tree=$2 kver=$3
		shift 3
		# Dependencies first, each module once, in the order modprobe would load them.
		for m in "$@"; do
			modprobe -d "$tree" -S "$kver" --show-depends "$m" ||
				echo "get-guest: module $m not found in $kver" >&2
		done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' | while read -r ko; do
			cp "$ko" "$stage/lib/modules/"
			basename "$ko" >> "$stage/lib/modules/load-order"
		done
	fi
	(cd "$stage" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -9) > "$cpio"
	rm -rf "$stage"
	echo "get-guest: wrote $cpio"
}

# Turn a bzImage into its ELF vmlinux: find the compressed payload by its magic and unpack it.
extract_vmlinux() {
	local bz=$1 dst=$2 off
	for magic in 'fd377a585a00:xz -dc' '28b52ffd:zstd -dc' '1f8b0800:gzip -dc'; do
		local hex=${magic%%:*} tool=${magic#*:}
		for off in $(LC_ALL=C grep -obUaP "$(echo "$hex" | sed 's/../\\x&/g')" "$bz" | cut -d: -f1); do
			tail -c +$((off + 1)) "$bz" | $tool 2>/dev/null > "$dst.tmp" || true
			if readelf -h "$dst.tmp" >/dev/null 2>&1; then
				mv "$dst.tmp" "$dst"
				return 0
			fi
		done
	done
	rm -f "$dst.tmp"
	return 1
}

get_debian() {
	local tmp pkg kver tree
	tmp=$(mktemp -d)
	# apt-get download fetches as the _apt user when it may write there.
	[ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$tmp"
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	echo "get-guest: fetching $pkg (not installed on the host)"
	(cd "$tmp" && apt-get download "$pkg" >/dev/null)
	dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
	kver=${pkg#linux-image-}
	extract_vmlinux "$tmp/root/boot/vmlinuz-$kver" "$out/vmlinux-debian" ||
		{ echo "get-guest: cannot find the ELF kernel inside vmlinuz-$kver" >&2; exit 1; }
	readelf -n "$out/vmlinux-debian" | grep -qE 'Xen.*(0x00000012|PHYS32_ENTRY)' ||
		{ echo "get-guest: Debian's kernel has no PVH entry note" >&2; exit 1; }
	echo "get-guest: wrote $out/vmlinux-debian ($kver)"
	tree="$tmp/root"
	depmod -b "$tree" "$kver"
	make_initrd "$out/initrd-debian.cpio.gz" "$tree" "$kver" \
		e1000 ata_piix sd_mod virtio_pci virtio_mmio virtio_net virtio_blk
	rm -rf "$tmp"
}

make_initrd "$out/initrd-min.cpio.gz"
case "$what" in
min) "$top/scripts/build-guest-kernel.sh" "$out" ;;
debian) get_debian ;;
all) "$top/scripts/build-guest-kernel.sh" "$out"; get_debian ;;
esac

if [ $hw_virt = yes ] && [ -f "$out/vmlinux-debian" ] || [ ! -f "$out/vmlinux-min" ]; then
	flavour=debian
else
	flavour=min
fi
ln -sfn "vmlinux-$flavour" "$out/vmlinux"
ln -sfn "initrd-$flavour.cpio.gz" "$out/initrd.cpio.gz"
echo "get-guest: $out/vmlinux -> vmlinux-$flavour, initrd.cpio.gz -> initrd-$flavour.cpio.gz"
