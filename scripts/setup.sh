#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what qlite needs to build and test on Debian 12 (as root, or through sudo), then
# configure build/ with meson (reconfigure when it exists) and build it with ninja.
# Idempotent: installed packages are left alone and apt-get update runs only when a package is
# missing and the package lists are absent or too old to install it.
#
# Usage: scripts/setup.sh [meson setup options...]     e.g. -Db_sanitize=address,undefined
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
say() { echo "setup: $*"; }
run() { echo "setup: \$ $*"; "$@"; }

packages=(
	# compilers and build system
	build-essential gcc clang meson ninja-build pkg-config
	# libraries qlite links with, the unit-test framework
	liburing-dev libfdt-dev libcmocka-dev linux-libc-dev
	# the slirp network backend (user-mode networking); its runtime is libslirp0
	libslirp-dev
	# the integration tests (python3), dtc to decode the device trees qlite writes
	python3 device-tree-compiler
	# the install test renders the man page (man -l, groff) and sources the bash completion
	man-db groff-base bash
	# scripts/get-guest.sh: the busybox initramfs, unpacking Debian's kernel and its modules
	busybox-static cpio gzip xz-utils zstd kmod binutils
	# the Linux disk tests (tests/integration/slow/linux-disk.sh): mke2fs, e2fsck, dumpe2fs, debugfs
	e2fsprogs
	# QEMU is the reference implementation the device tests cross-check against
	# (tests/integration/vdev_test.py runs the same guests under qemu-system-x86_64)
	qemu-system-x86
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	say "all ${#packages[@]} Debian packages already installed"
else
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null ||
			{ echo "setup: not root and no sudo: install ${missing[*]} as root" >&2; exit 1; }
		sudo="sudo"
	fi
	say "missing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	install=(apt-get install -y -q --no-install-recommends "${missing[@]}")
	[ -z "$sudo" ] || install=("$sudo" "${install[@]}")
	# A fresh image has no package lists; stale ones fail with 404s: update, then retry.
	if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
		run $sudo apt-get update -q
		run "${install[@]}"
	elif ! run "${install[@]}"; then
		say "install failed: refreshing the package lists and trying again"
		run $sudo apt-get update -q
		run "${install[@]}"
	fi
fi

if [ -f build/meson-private/coredata.dat ]; then
	if ! run meson setup --reconfigure build "$@"; then
		say "reconfiguring failed: configuring build/ from scratch"
		run meson setup --wipe build "$@"
	fi
else
	run meson setup build "$@"
fi
run ninja -C build
say "done: build/qlite; the tests: meson test -C build"
