#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The slow suite's Linux disk tests: the minimal kernel mounts an ext2 root from a qlite disk.
#
# usage: linux-disk.sh QLITE KIND [KERNEL]
#   KIND     ide              vdev ide file IMG                        root=/dev/sda (ata_piix)
#            virtio-blk-pci   vdev virtio-blk file IMG transport pci   root=/dev/vda (virtio_pci)
#            virtio-blk-mmio  vdev virtio-blk file IMG transport mmio  root=/dev/vda (virtio_mmio)
#   KERNEL   default $QLITE_LINUX_KERNEL, else guest/vmlinux-min (scripts/get-guest.sh --min builds
#            it; guest/vmlinux links to it). The kernel must have the disk's drivers and ext2 built
#            in: there is no initramfs. Developers on the project's machines can take the prebuilt
#            one: QLITE_LINUX_KERNEL=/work/shared/guest-kernel/vmlinux-6.1.192-min
# environment (and those of lib.sh: QLITE_TEST_VMM=qemu, QLITE_LINUX_LOG, ...):
#   QLITE_LINUX_CPUS=N          vCPUs (default 1: linux-boot.sh covers SMP, and one vCPU reaches
#                               the mount ~1.5x sooner here; pinned to host CPUs 0..N-1 when there
#                               are enough)
#   QLITE_LINUX_TIMEOUT=S       give up after S seconds (default 780)
#
# What it does: mke2fs (Debian's e2fsprogs, no root needed) makes a 10000 KiB ext2 image
# (20000 sectors, label qlite-disk) from a small tree: /sbin/init is an executable text file that
# is not a program, plus a few data files. The kernel boots with no initramfs and
# `root=/dev/sda rw` (ide) or `root=/dev/vda rw` (virtio), mounts the image read-write, reads
# /sbin/init's first bytes (exec fails with -ENOEXEC), finds no other init and panics;
# `panic=-1 reboot=k` turn the panic into a reset, so the VMM stops by itself with status 0. No
# Linux user space is needed, so the test means the same on every host.
#
# Checked in the kernel log, in this order (N = 20000, the image's sectors):
#   ide:    scsi hostH: ata_piix               ata1.00: ATA-V: ...     ata1.00: N sectors, ...
#           sd 0:0:0:0: [sda] N 512-byte logical blocks    [sda] Write Protect is off
#           [sda] Attached SCSI disk
#   virtio: (mmio: virtio-mmio: Registering device virtio-mmio.0 at ...)
#           virtio_blk virtioK: [vda] N 512-byte logical blocks
#   all:    VFS: Mounted root (ext2 filesystem) on device M:m.     (not "readonly")
#           Starting init: /sbin/init exists but couldn't execute it (error -8)
#           Kernel panic - not syncing: No working init found
# and nothing of: another kernel panic, "I/O error", a libata "exception Emask", an "EXT2-fs (...):
# error" or "warning" (a clean mount of a fresh image prints no EXT2-fs line at all), a read-only
# root, a KVM internal or emulation error. Then, with the VMM gone (status 0):
#   e2fsck -fn IMG exits 0; dumpe2fs -h IMG shows the mount count went from 0 to 1 (the kernel
#   wrote the superblock when it mounted read-write); every file reads back as it was written
#   (debugfs -R "cat ..."). Under qlite (--stats), the exit report's totals for the disk's
#   devices are printed.
#
# Times of the ide case on the project's build machine (2 CPUs; nested, software-assisted KVM, so
# guest ring 0 is emulated), 2026-12-01, the prebuilt vmlinux-6.1.192-min, 256 MiB: seconds from
# the start to "VFS: Mounted root" (to the VMM's exit) [1-minute load average at start -> end].
# The machine was shared with other test runs, and the times follow its load (up to 3x):
#   qlite, 1 vCPU:      60.9 (67.3) [1.3->1.1]   62.9 (69.2) [2.9->2.4]   66.1 (72.3) [3.1->2.8]
#                       78.3 (85.7) [8.1->7.6]   182.3 (196.6) [~4-6]
#   qlite, 2 vCPUs:     95.4 (102.9) [4.5->3.1]  99.1 (107.2) [1.0->3.2]
#                       230.1 (260.3) [~4-6]     286.8 (314.3) [6.3->8.1]
#   QEMU 7.2, 1 vCPU:   62.9 (69.2) [1.1->1.0]   70.5 (76.8) [2.4->2.2]   82.9 (89.2) [2.8->2.7]
#                       97.0 (103.8) [7.6->4.5]  139.3 (154.8) [~4-6]
# Back-to-back pairs, qlite 1 vCPU / QEMU: 60.9/62.9 on a quiet machine, then 62.9/70.5, 66.1/82.9,
# 78.3/97.0 and 182.3/139.3 under load: the same time when quiet, and of the same order within this
# machine's noise otherwise. QEMU: qemu-system-x86_64 -accel kvm -M pc -cpu qemu64,-cx16,kvm=off
# -m 256 -kernel vmlinux -drive file=IMG,format=raw,if=ide, the same command line plus what qlite
# adds on such hosts (noxsave nopcid clearcpuid=...): QLITE_TEST_VMM=qemu. In both, the time goes
# to the kernel's own initialisation in emulated ring 0: from the ata_piix probe to the mount is
# 5-15 s. The virtio-blk kinds under QEMU, to check their log lines: pci 119.7 s [6.3], mmio
# (microvm) 102.0 s [4.1].
# Exit status: 0 pass, 1 fail, 77 skip.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cpus=${QLITE_LINUX_CPUS:-1}
limit=${QLITE_LINUX_TIMEOUT:-780}

[ $# -ge 2 ] || { echo "usage: $0 QLITE ide|virtio-blk-pci|virtio-blk-mmio [KERNEL]" >&2; exit 2; }
qlite=$1
kind=$2
case "$kind" in
ide) disk=sda ;;
virtio-blk-pci|virtio-blk-mmio) disk=vda ;;
*) echo "$0: unknown disk kind '$kind' (ide, virtio-blk-pci, virtio-blk-mmio)" >&2; exit 2 ;;
esac
slow_kernel "${3:-}"
for t in mke2fs e2fsck dumpe2fs debugfs; do
	command -v "$t" >/dev/null || PATH=$PATH:/sbin:/usr/sbin
	command -v "$t" >/dev/null || fail "$t not found: install Debian's e2fsprogs (scripts/setup.sh does)"
done
slow_require_kvm

tmp=$(mktemp -d)
keep_tmp=no
pid=""
log=${QLITE_LINUX_LOG:-$tmp/console.log}
err=$log.stderr
cleanup() {
	slow_stop
	if [ $keep_tmp = yes ]; then
		echo "the image and its source tree are kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# Once the VM has run, a failure keeps the image for a look.
ran=no
fail() { echo "FAIL: $*"; [ $ran = no ] || keep_tmp=yes; exit 1; }

# --- the image: ext2 from a small tree, made as any user (mke2fs -d) ---
img=$tmp/disk.img
src=$tmp/tree
kib=10000
sectors=$((kib * 2))
mkdir -p "$src"/{sbin,etc,dev,data}
# The kernel execs /sbin/init first: an executable that is neither ELF nor #! (-ENOEXEC, -8) shows
# it read the file's first bytes from the disk. /dev is where devtmpfs gets mounted.
printf 'qlite-disk: this /sbin/init is not a program\n' > "$src/sbin/init"
chmod 755 "$src/sbin/init"
printf 'qlite linux-disk test image (%s)\n' "$kind" > "$src/etc/motd"
seq 1 20000 > "$src/data/numbers.txt"					# ~108 KiB
head -c 300000 /dev/urandom > "$src/data/random.bin"			# indirect blocks
mke2fs -q -t ext2 -F -L qlite-disk -d "$src" "$img" "${kib}k" >/dev/null ||
	fail "mke2fs -t ext2 -d $src $img ${kib}k failed"
[ "$(stat -c %s "$img")" -eq $((sectors * 512)) ] || fail "$img: not $((sectors * 512)) bytes"
sb_field() { dumpe2fs -h "$img" 2>/dev/null | sed -n "s/^$1:[[:space:]]*//p"; }
mounts0=$(sb_field 'Mount count')
[ "$mounts0" = 0 ] || fail "a fresh image has mount count '$mounts0', not 0"
echo "image: $img, ext2, $sectors sectors, label $(sb_field 'Filesystem volume name'), state $(sb_field 'Filesystem state'), mount count 0"

cmdline="console=ttyS0 root=/dev/$disk rw panic=-1 reboot=k$slow_cmdline_extra"

case "$vmm" in
qlite)
	[ -x "$qlite" ] || fail "$qlite: not an executable"
	case "$kind" in
	ide) vdev="ide,file=$img" ;;
	virtio-blk-pci) vdev="virtio-blk,file=$img,transport=pci" ;;
	virtio-blk-mmio) vdev="virtio-blk,file=$img,transport=mmio" ;;
	esac
	vm=(--kernel "$kernel" --cmdline "$cmdline" --ram 256M --cpus "$cpus" --vdev "$vdev")
	if [ "$(nproc)" -ge "$cpus" ]; then
		vm+=(--cpu-cluster "$(seq -s, 0 $((cpus - 1)))")
	fi
	# It shows the machine and the effective command line.
	slow_qlite_check "$qlite" "${vm[@]}"
	grep -E '^(quirks|cmdline):|  (pio|mmio|irq|pci) .*(ide|virtio|blk)' <<<"$check_out" |
		sed 's/^/qlite check| /'
	if [ "$kind" = virtio-blk-mmio ]; then
		grep -q '^cmdline:.* virtio_mmio\.device=' <<<"$check_out" ||
			fail "qlite check: the effective command line names no virtio_mmio.device=: x86 Linux finds virtio-mmio devices only there"
	fi
	argv=("$qlite" run "${vm[@]}" --stats)
	;;
qemu)
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
	# SeaBIOS, whose MP table tells Linux about the CPUs, finds only the boot CPU on hosts
	# without VMX/SVM: QLITE_LINUX_CPUS above 1 gives QEMU more vCPUs than Linux sees.
	cmdline+=$qemu_cmdline_extra
	case "$kind" in
	ide) machine=(-M pc -drive "file=$img,format=raw,if=ide") ;;
	virtio-blk-pci) machine=(-M pc -drive "if=none,id=d,file=$img,format=raw"
				 -device virtio-blk-pci,drive=d,disable-legacy=on) ;;
	# Without ACPI (the minimal kernel has none) microvm adds virtio_mmio.device= to the
	# command line of a -kernel it boots; its virtio-mmio is legacy (version 1) unless told
	# otherwise; it has no i8042 for reboot=k unless given one.
	virtio-blk-mmio) machine=(-M microvm,acpi=off -device i8042
				  -global virtio-mmio.force-legacy=false
				  -drive "if=none,id=d,file=$img,format=raw"
				  -device virtio-blk-device,drive=d) ;;
	esac
	argv=(qemu-system-x86_64 -accel kvm -cpu "$qemu_cpu" -m 256 -smp "$cpus" "${machine[@]}"
	      -nodefaults -display none -serial stdio -monitor none -no-reboot
	      -kernel "$kernel" -append "$cmdline")
	;;
*)
	fail "QLITE_TEST_VMM=$vmm: expected qlite or qemu"
	;;
esac

# name|extended regular expression, in the order the kernel prints them
milestones=("kernel banner|Linux version [0-9]")
case "$kind" in
ide)
	milestones+=(
		"ata_piix host|scsi host[0-9]+: ata_piix"
		"ATA disk identified|ata1\.00: ATA-[0-9]+: "
		"ATA capacity $sectors sectors|ata1\.00: $sectors sectors, "
		"sd capacity $sectors|sd 0:0:0:0: \[sda\] $sectors 512-byte logical blocks"
		"sda writable|\[sda\] Write Protect is off"
		"sda attached|\[sda\] Attached SCSI disk"
	)
	;;
virtio-blk-*)
	[ "$kind" = virtio-blk-pci ] ||
		milestones+=("virtio-mmio device registered|virtio-mmio: Registering device virtio-mmio\.[0-9]+ at ")
	milestones+=("virtio_blk capacity $sectors|virtio_blk virtio[0-9]+: \[vda\] $sectors 512-byte logical blocks")
	;;
esac
milestones+=(
	"root mounted read-write|VFS: Mounted root \(ext2 filesystem\) on device [0-9]+:[0-9]+"
	"/sbin/init read from disk|Starting init: /sbin/init exists but couldn't execute it \(error -8\)"
	"no working init: panic|Kernel panic - not syncing: No working init found"
)
mount_ms=$(( ${#milestones[@]} - 3 ))	# the root mount: the time to compare
# Lines that end the run at once: the boot went wrong. Kernel panics other than the expected one
# are caught separately.
expected_panic='No working init found'
fatal='I/O error|exception Emask|EXT2-fs \([a-z]+\): (error|warning)|VFS: Mounted root \(ext2 filesystem\) readonly|VFS: Cannot open root device|KVM internal error|emulation failure'

echo "host: $(nproc) CPUs, VMX/SVM: $hw_virt; VMM: $vmm; disk: $kind; kernel: $kernel; time limit ${limit} s"
slow_run "${argv[@]}"

# The exit report's totals for the disk's devices (qlite's device names: ide-primary,
# ide-primary-ctl, piix3-ide-bmdma; virtio-blk).
case "$kind" in
ide) devs='ide-|piix3-ide' ;;
*) devs='virtio' ;;
esac
slow_exit_report "$devs"

slow_require_clean_stop

# --- the image after the VMM is gone ---
echo "after the run:"
fsck_out=$(e2fsck -fn "$img" 2>&1)
fsck_status=$?
sed 's/^/e2fsck| /' <<<"$fsck_out"
[ $fsck_status -eq 0 ] || fail "e2fsck -fn $img exited with status $fsck_status"
for f in 'Filesystem state' 'Mount count' 'Last write time'; do
	echo "dumpe2fs| $f: $(sb_field "$f")"
done
mounts1=$(sb_field 'Mount count')
[ "$mounts1" = $((mounts0 + 1)) ] ||
	fail "mount count $mounts0 before, '$mounts1' after: the kernel's superblock write did not reach the image"
for f in sbin/init etc/motd data/numbers.txt data/random.bin; do
	debugfs -R "cat /$f" "$img" 2>/dev/null | cmp -s - "$src/$f" ||
		fail "/$f does not read back from the image as it was written"
done
echo "files: /sbin/init /etc/motd /data/numbers.txt /data/random.bin read back intact"

echo "passed: $kind under $vmm: ${#milestones[@]} kernel log lines, root mounted read-write at" \
     "${times[$mount_ms]} s, $vmm stopped with status 0 at $run_time s; e2fsck -fn clean, mount count $mounts0 -> $mounts1"
exit 0
