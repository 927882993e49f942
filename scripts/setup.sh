#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what qlite needs on Debian 12 (idempotent), then configure and build it in build/.
# Usage: scripts/setup.sh [meson setup options...]   (e.g. -Db_sanitize=address,undefined)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

packages=(
	gcc clang meson ninja-build pkg-config python3
	liburing-dev libfdt-dev libcmocka-dev linux-libc-dev
	device-tree-compiler
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "setup: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	echo "setup: build dependencies already installed"
fi

if [ -f build/build.ninja ]; then
	echo "setup: reconfiguring build/"
	meson setup --reconfigure build "$@" >/dev/null
else
	echo "setup: configuring build/"
	meson setup build "$@" >/dev/null
fi
echo "setup: building"
ninja -C build
echo "setup: done: build/qlite"
