#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Prepare Linux guests for qlite from Debian packages only, into guest/ (or OUTDIR):
#   initrd.cpio.gz          busybox-static initramfs, /init = scripts/guest-init.sh (always)
#   vmlinux-min             --min: the minimal kernel, built from linux-source-6.1 by
#                           scripts/build-guest-kernel.sh; boots on a nested, software KVM too
#   vmlinux-debian          --debian: Debian's linux-image-amd64 kernel as a PVH ELF
#   initrd-debian.cpio.gz   --debian: initrd.cpio.gz plus Debian's e1000, ata_piix, sd_mod,
#                           virtio and ext4 modules (modprobe-able, loaded by /init)
#   vmlinux                 link to vmlinux-min when there is one, else vmlinux-debian: with
#                           initrd.cpio.gz a pair that boots (configs/linux.conf uses it)
#
# Usage: scripts/get-guest.sh [--min|--debian|--all] [OUTDIR]
# Default: --min on hosts whose CPU shows neither VMX nor SVM, --debian on others.
# Runs as root, or as a user with sudo (for apt-get). Nothing is installed from elsewhere than
# the Debian archive, and Debian's kernel package is unpacked, never installed on the host.
# A second run reuses what is up to date.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
what=""
out="$top/guest"
for a in "$@"; do
	case "$a" in
	--min|--debian|--all) what=${a#--} ;;
	-h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "get-guest: unknown option $a (see --help)" >&2; exit 2 ;;
	*) out=$a ;;
	esac
done
out=$(realpath -m "$out")
say() { echo "get-guest: $*"; }
die() { echo "get-guest: $*" >&2; exit 1; }

hw_virt=no
grep -qwE 'vmx|svm' /proc/cpuinfo && hw_virt=yes
[ -n "$what" ] || { [ $hw_virt = yes ] && what=debian || what=min; }
say "preparing --$what into $out (host CPU virtualization flags: $hw_virt)"
mkdir -p "$out"

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: cannot install packages"
	sudo="sudo"
fi
apt_updated=no
apt_update() {
	[ $apt_updated = yes ] && return 0
	say "apt-get update"
	$sudo apt-get update -qq
	apt_updated=yes
}
need=(busybox-static cpio gzip xz-utils kmod binutils)
[ "$what" = min ] || need+=(zstd)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt_update
	say "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# stage_base DIR: the busybox tree every initramfs shares.
stage_base() {
	local s=$1
	mkdir -p "$s"
	chmod 755 "$s"
	mkdir -p "$s"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc,lib/modules}
	chmod 1777 "$s/tmp"
	chmod 700 "$s/root"
	cp /bin/busybox "$s/bin/busybox"
	cp "$top/scripts/guest-init.sh" "$s/init"
	chmod 755 "$s/init" "$s/bin/busybox"
	# The kernel opens /dev/console before /init runs; its built-in initramfs has one too,
	# so without root this node is only a nicety.
	[ "$(id -u)" -ne 0 ] || mknod -m 600 "$s/dev/console" c 5 1
}

# pack DIR OUT.cpio.gz: a newc archive of DIR with every file owned by root. Fixed times and
# inode numbers make it reproducible, so an unchanged archive is left as it is.
pack() {
	local s=$1 cpio=$2
	find "$s" -exec touch -h -d @0 {} +
	(cd "$s" && find . | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --renumber-inodes --ignore-devno --quiet | gzip -9n) > "$cpio.tmp"
	if cmp -s "$cpio.tmp" "$cpio"; then
		rm -f "$cpio.tmp"
		say "$cpio is up to date"
		return 0
	fi
	mv -f "$cpio.tmp" "$cpio"
	say "wrote $cpio ($(du -k "$cpio" | cut -f1) KiB)"
}

make_initrd() {
	local s
	s=$(mktemp -d)
	stage_base "$s"
	pack "$s" "$out/initrd.cpio.gz"
	rm -rf "$s"
}

# elf_complete FILE: an x86-64 ELF whose section header table lies inside the file (a
# decompressor stopped early leaves a valid header on a truncated file).
elf_complete() {
	local hdr shoff shsize shnum
	hdr=$(LC_ALL=C readelf -h "$1" 2>/dev/null) || return 1
	grep -q 'Machine:.*X86-64' <<<"$hdr" || return 1
	shoff=$(awk '/Start of section headers:/ { print $5 }' <<<"$hdr")
	shsize=$(awk '/Size of section headers:/ { print $5 }' <<<"$hdr")
	shnum=$(awk '/Number of section headers:/ { print $5 }' <<<"$hdr")
	[ -n "$shoff" ] && [ -n "$shsize" ] && [ -n "$shnum" ] || return 1
	[ $((shoff + shsize * shnum)) -le "$(stat -c %s "$1")" ]
}

# extract_vmlinux BZIMAGE OUT: the bzImage carries the ELF vmlinux compressed (Debian's 6.1:
# xz); find each candidate stream by its magic number and keep the first that unpacks to a
# complete x86-64 ELF. Trailing bytes after the stream make the tools complain: ignored.
extract_vmlinux() {
	local bz=$1 dst=$2 entry hex tool off pat
	for entry in 'fd377a585a00:xz -dc' '28b52ffd:zstd -dc' '1f8b0800:gzip -dc' \
		     '894c5a4f:lzop -dc' '425a68:bzip2 -dc' '5d000000:xz -dc --format=lzma'; do
		hex=${entry%%:*}
		tool=${entry#*:}
		command -v "${tool%% *}" >/dev/null || continue
		pat=$(sed 's/../\\x&/g' <<<"$hex")
		for off in $(LC_ALL=C grep -obUaP "$pat" "$bz" | cut -d: -f1); do
			tail -c +$((off + 1)) "$bz" | $tool > "$dst.tmp" 2>/dev/null || true
			if elf_complete "$dst.tmp"; then
				mv -f "$dst.tmp" "$dst"
				say "$(basename "$bz"): ${tool%% *} stream at offset $off holds the ELF vmlinux"
				return 0
			fi
		done
	done
	rm -f "$dst.tmp"
	return 1
}

has_pvh_note() {
	LC_ALL=C readelf -n "$1" | grep -q 'Xen .*(0x00000012)\|Xen .*PHYS32_ENTRY'
}

debian_modules=(e1000 ata_piix sd_mod virtio_pci virtio_mmio virtio_net virtio_blk virtio_console ext4)

get_debian() {
	local pkg ver key tree kver s m
	apt-cache show linux-image-amd64 >/dev/null 2>&1 || apt_update
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || die "cannot tell which kernel package linux-image-amd64 depends on"
	ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
	kver=${pkg#linux-image-}
	key=$( { echo "$pkg $ver ${debian_modules[*]}"; cat "$top/scripts/guest-init.sh" /bin/busybox; } |
		sha256sum | cut -d' ' -f1)
	if [ -f "$out/vmlinux-debian" ] && [ -f "$out/initrd-debian.cpio.gz" ] &&
	   [ "$(cat "$out/.debian-key" 2>/dev/null)" = "$key" ]; then
		say "vmlinux-debian and initrd-debian.cpio.gz are up to date ($pkg $ver)"
		return 0
	fi

	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# apt-get download fetches as the _apt user when that user may write there.
	[ "$(id -u)" -ne 0 ] || ! id _apt >/dev/null 2>&1 || chown _apt "$tmp"
	say "downloading $pkg $ver (unpacked here, not installed on the host)"
	(cd "$tmp" && apt-get download -qq "$pkg=$ver")
	tree="$tmp/root"
	dpkg-deb -x "$tmp"/"${pkg}"_*.deb "$tree"
	[ -f "$tree/boot/vmlinuz-$kver" ] || die "$pkg has no /boot/vmlinuz-$kver"
	extract_vmlinux "$tree/boot/vmlinuz-$kver" "$out/vmlinux-debian.new" ||
		die "vmlinuz-$kver: no compressed stream in it unpacks to an ELF vmlinux"
	has_pvh_note "$out/vmlinux-debian.new" ||
		die "vmlinuz-$kver: the kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)"
	mv -f "$out/vmlinux-debian.new" "$out/vmlinux-debian"
	say "wrote $out/vmlinux-debian ($kver, PVH entry note present)"

	# The modules asked for and everything they need (modules.dep, soft dependencies), at their
	# paths under lib/modules/KVER, with depmod's indexes rebuilt for just those: modprobe works
	# in the guest as it does on an installed system.
	depmod -b "$tree" "$kver"
	s="$tmp/stage"
	stage_base "$s"
	local mdir="lib/modules/$kver"
	mkdir -p "$s/$mdir"
	for m in "${debian_modules[@]}"; do
		modprobe -d "$tree" -S "$kver" --show-depends "$m" ||
			die "module $m is not in $pkg"
	done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' | while read -r ko; do
		rel=${ko#"$tree/$mdir/"}
		mkdir -p "$s/$mdir/$(dirname "$rel")"
		cp "$ko" "$s/$mdir/$rel"
	done
	cp "$tree/$mdir"/modules.{order,builtin,builtin.modinfo} "$s/$mdir/"
	depmod -b "$s" "$kver"
	printf '%s\n' "${debian_modules[@]}" > "$s/$mdir/qlite.modules"
	say "initrd-debian.cpio.gz: $(find "$s/$mdir" -name '*.ko*' | wc -l) modules for ${debian_modules[*]}"
	pack "$s" "$out/initrd-debian.cpio.gz"
	echo "$key" > "$out/.debian-key"
	rm -rf "$tmp"
}

make_initrd
case "$what" in
min) "$top/scripts/build-guest-kernel.sh" "$out" ;;
debian) get_debian ;;
all) "$top/scripts/build-guest-kernel.sh" "$out"; get_debian ;;
esac

if [ -f "$out/vmlinux-min" ]; then
	ln -sfn vmlinux-min "$out/vmlinux"
elif [ -f "$out/vmlinux-debian" ]; then
	ln -sfn vmlinux-debian "$out/vmlinux"
fi
say "$out/vmlinux -> $(readlink "$out/vmlinux")"
say "boot it: build/qlite run --kernel $out/vmlinux --initrd $out/initrd.cpio.gz" \
    "--cmdline 'console=ttyS0 reboot=k qlite.cmd=\"cat /proc/cpuinfo\"' --ram 256M --cpus 2"
