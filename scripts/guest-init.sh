#!/bin/busybox sh
# /init of qlite's guest initramfs (busybox). Mounts the usual file systems, loads the
# modules the initramfs carries, then runs the command given on the kernel command line as
#   qlite.cmd="cat /proc/cpuinfo"      (quotes keep spaces; the kernel passes them through)
# prints its exit status and reboots (which stops qlite); without qlite.cmd it starts a shell
# on the console.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "qlite-init: up: Linux $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus"

if [ -f /lib/modules/load-order ]; then
	while read -r m; do
		insmod "/lib/modules/$m" 2>/dev/null || echo "qlite-init: insmod $m failed"
	done < /lib/modules/load-order
fi

cmd=$(sed -n 's/.*qlite\.cmd="\([^"]*\)".*/\1/p; t; s/.*qlite\.cmd=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$cmd" ]; then
	echo "qlite-init: running: $cmd"
	sh -c "$cmd"
	echo "qlite-init: command exited with status $?"
	sync
	reboot -f
fi
echo "qlite-init: no qlite.cmd: starting a shell (reboot -f stops the VM)"
exec setsid cttyhack sh
