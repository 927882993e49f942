#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The bad-input guarantees under the sanitizers: unit and integration suites in an
# ASan/UBSan build (build-asan/), and the libFuzzer targets for a bounded time with
# clang (build-fuzz/): the config parser (30 s), the kernel loaders, split virtqueues over
# hostile rings, IDE registers with PRD tables and virtio-blk's hostile requests (20 s
# each). Run after scripts/setup.sh.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

need=(clang libclang-rt-14-dev)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-asan --print-errorlogs --suite unit --suite integration

[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null
ninja -C build-fuzz
meson test -C build-fuzz --print-errorlogs --suite fuzz
