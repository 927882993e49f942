#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The slow suite: boot Linux under qlite as far as the host allows and check the kernel log.

usage: linux_boot.py QLITE [KERNEL INITRD]
Kernel and initramfs default to guest/vmlinux and guest/initrd.cpio.gz (scripts/get-guest.sh),
or $QLITE_LINUX_KERNEL / $QLITE_LINUX_INITRD. QLITE_TEST_VMM=qemu runs the same checks under
qemu-system-x86_64 to compare times.

On a nested, software-assisted KVM (no VMX/SVM in the host CPU flags) guest ring 0 is emulated and
Linux user space cannot run: the check ends at "Run /init as init process". On VMX/SVM hosts /init
runs a command (`qlite.cmd=`) and its output is checked too. Each milestone's time is printed.
"""
import os
import re
import subprocess
import sys
import threading
import time

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
LIMIT_S = 15 * 60


def hw_virt():
    with open("/proc/cpuinfo") as f:
        return re.search(r"^flags.*\b(vmx|svm)\b", f.read(), re.M) is not None


def milestones(cpus, full):
    m = [
        ("kernel started", r"Linux version \d"),
        ("UART driver", r"ttyS0 at I/O 0x3f8 \(irq = 4"),
        ("SMP", rf"smp: Brought up 1 node, {cpus} CPUs"),
        ("PCI host bridge", r"pci 0000:00:00\.0: \[8086:1237\]"),
        ("initramfs", r"Unpacking initramfs|Trying to unpack rootfs"),
        ("/init started", r"Run /init as init process"),
    ]
    if full:
        m += [
            ("/init banner", rf"qlite-init: up: Linux \S+, {cpus} cpus"),
            ("command output", r"processor\s*:\s*1"),
            ("command status", r"qlite-init: command exited with status 0"),
        ]
    return m


def main():
    qlite = sys.argv[1]
    guest = os.path.join(TOP, "guest")
    kernel = os.environ.get("QLITE_LINUX_KERNEL") or (sys.argv[2] if len(sys.argv) > 2 else os.path.join(guest, "vmlinux"))
    initrd = os.environ.get("QLITE_LINUX_INITRD") or (sys.argv[3] if len(sys.argv) > 3 else os.path.join(guest, "initrd.cpio.gz"))
    for f in (kernel, initrd):
        if not os.path.exists(f):
            print(f"FAIL: {f} missing: prepare the guest with scripts/get-guest.sh")
            return 1
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("FAIL: /dev/kvm is not usable")
        return 1

    full = hw_virt()
    cpus = 2
    cmdline = 'console=ttyS0 reboot=k panic=-1 qlite.cmd="cat /proc/cpuinfo"'
    if not full:
        # What the guest-kernel measurements found necessary when ring 0 is emulated
        # (qlite adds the CPUID-related part itself): no PIT/TSC calibration loops.
        cmdline += " lpj=4000000 tsc=reliable no_timer_check"
    if os.environ.get("QLITE_TEST_VMM") == "qemu":
        argv = ["qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-cpu", "qemu64,-cx16,kvm=off",
                "-m", "256", "-smp", str(cpus), "-display", "none", "-serial", "stdio", "-no-reboot",
                "-net", "none", "-kernel", kernel, "-initrd", initrd, "-append",
                cmdline + ("" if full else " noxsave nopcid clearcpuid=smap,smep,xsave,popcnt")]
    else:
        argv = [qlite, "run", "--kernel", kernel, "--initrd", initrd, "--cmdline", cmdline,
                "--ram", "256M", "--cpus", str(cpus), "--cpu-cluster", "0,1"]
    print("running:", " ".join(argv), flush=True)

    want = milestones(cpus, full)
    seen = {}
    log = []
    t0 = time.time()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)

    def reader():
        for raw in p.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            log.append(line)
            for name, pat in want:
                if name not in seen and re.search(pat, line):
                    seen[name] = time.time() - t0
                    print(f"  {seen[name]:7.1f} s  {name}", flush=True)

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    last = want[-1][0]
    while p.poll() is None and time.time() - t0 < LIMIT_S and last not in seen:
        time.sleep(1)
    if p.poll() is None:
        # Give a booted guest a moment to reboot by itself, then stop it.
        try:
            p.wait(timeout=30 if last in seen else 1)
        except subprocess.TimeoutExpired:
            p.terminate()
            p.wait(timeout=30)
    th.join(timeout=10)
    missing = [name for name, _ in want if name not in seen]
    if missing:
        print("--- last 40 lines of the console")
        print("\n".join(log[-40:]))
        print(f"FAIL: not reached within {LIMIT_S} s: {', '.join(missing)}")
        return 1
    print(f"passed: {len(want)} milestones in {seen[last]:.1f} s"
          + ("" if full else " (nested software KVM: Linux user space cannot run here, so the check ends at /init)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
