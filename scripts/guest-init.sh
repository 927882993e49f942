#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of qlite's busybox initramfs (scripts/get-guest.sh puts it there).
#
# Mounts proc, sys and devtmpfs, prints the banner line
#   qlite-init: up: Linux <release>, <n> cpus
# loads the modules listed in /lib/modules/<release>/qlite.modules (Debian's kernel), then runs
# the command given on the kernel command line:
#   qlite.cmd="cat /proc/cpuinfo"      double quotes keep spaces (the kernel passes them through)
#   qlite.cmd=cat%20/proc/cpuinfo      or percent-encoding: %XX (two hex digits) is that byte,
#                                      so %22 is a double quote and %25 a percent sign
# with sh -c, prints
#   qlite-init: command exited with status <n>
# and resets the machine (reboot -f; with reboot=k on the command line, which qlite and QEMU's
# -no-reboot turn into a clean stop). Without qlite.cmd it starts a shell on the console and
# resets when the shell exits.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root
/bin/busybox --install -s
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "qlite-init: up: Linux $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus"

list=/lib/modules/$(uname -r)/qlite.modules
if [ -f "$list" ]; then
	for m in $(cat "$list"); do
		modprobe "$m" || echo "qlite-init: modprobe $m failed"
	done
fi

# The value of the first qlite.cmd= parameter: up to the closing quote when it starts with
# one, else up to the next space.
cmd=""
cmdline=" $(cat /proc/cmdline)"
case "$cmdline" in
*" qlite.cmd="*)
	rest=${cmdline#*" qlite.cmd="}
	case "$rest" in
	\"*) rest=${rest#\"}; cmd=${rest%%\"*} ;;
	*) cmd=${rest%% *} ;;
	esac
	case "$cmd" in
	*%*) cmd=$(printf '%b' "$(echo "$cmd" | sed 's/\\/\\\\/g; s/%\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g')") ;;
	esac
	;;
esac

if [ -n "$cmd" ]; then
	echo "qlite-init: running: $cmd"
	sh -c "$cmd"
	echo "qlite-init: command exited with status $?"
	sync
	reboot -f
fi
echo "qlite-init: no qlite.cmd= on the kernel command line: starting a shell (exit or reboot -f stops the VM)"
setsid cttyhack sh
sync
reboot -f
