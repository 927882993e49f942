#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The same minimal Linux kernel booted under qlite and QEMU, timed from exec to its log lines.

usage: linux_boot.py QLITE [--kernel VMLINUX] [--runs N] [--until NAME | --until-line REGEX]
                     [--no-qemu | --no-qlite] [--timeout S] [--log-dir DIR] [--json FILE]

Issue 12's slow Linux benchmark. One boot per VMM and run, qlite and QEMU alternating run by run,
1 vCPU, 256 MiB, an e1000 on user-mode networking (qlite: `vdev e1000` on its slirp backend, as
configs/linux-e1000.conf; QEMU: -M pc -netdev user -device e1000) and a tiny initramfs whose
/init cannot run here (no Linux user space runs on this host's nested KVM; the kernel prints
"Run /init as init process" before it tries). The kernel's command line is
tests/integration/slow/linux-net.sh's: `ip=dhcp` makes the in-kernel DHCP client wait for the
lease before init is started, so one boot passes every milestone, in this order:

  banner   Linux version ...                        (the kernel's first line)
  uart     ttyS0 at I/O 0x3f8                       (the 8250 driver; within the first minute)
  link     e1000: eth0 NIC Link is Up               (the NIC probed and up)
  dhcp     IP-Config: Got DHCP answer from ...      (the lease: two exchanges through the NIC)
  init     Run /init as init process                (the kernel's hand-over to user space)

--until NAME stops each boot at that line (default init); --until-line REGEX at another line
(e.g. a short target to check the script). Each milestone is timed on the host
(CLOCK_MONOTONIC, Python's time.monotonic()) from just before the VMM's exec to the arrival of
its line on the VMM's stdout: the VMM's start, QEMU's SeaBIOS and the kernel's boot all count.
min / median / max over the runs and qlite/QEMU of the medians. A boot that prints
"Kernel panic" or an emulation failure before its target, or passes --timeout, fails the run.

Both VMMs get the workarounds this host needs (tests/integration/slow/lib.sh): on a host without
VMX/SVM the command line adds `lpj=4000000 tsc=reliable no_timer_check`; QEMU also gets
`-cpu qemu64,-cx16,kvm=off` and the `noxsave nopcid clearcpuid=...` that qlite adds by itself.
Each boot takes 5-10 minutes here: --runs defaults to 1. scripts/bench.sh runs it only with
--linux. Not part of the test suite.
"""
import argparse
import gzip
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import benchlib  # noqa: E402

QEMU = "qemu-system-x86_64"
MAC = "52:54:00:12:34:56"
MILESTONES = [
    ("banner", r"Linux version [0-9]"),
    ("uart", r"ttyS0 at I/O 0x3f8"),
    ("link", r"e1000: eth0 NIC Link is Up"),
    ("dhcp", r"IP-Config: Got DHCP answer from"),
    ("init", r"Run /init as init process"),
]
FATAL = re.compile(r"Kernel panic|KVM internal error|emulation failure|"
                   r"IP-Config: (Retrying forever|Auto-configuration of network failed)")
HW_VIRT = None   # set in main()
# What qlite adds to the command line by itself on a host without VMX/SVM (src/kvm/cpuid.c);
# QEMU is told the same (tests/integration/slow/lib.sh).
QEMU_NESTED_EXTRA = (" noxsave nopcid clearcpuid=smap,smep,xsave,avx,avx2,avx512f,pku,umip,popcnt,"
                     "bmi1,bmi2,movbe,erms,fsrm,adx,rdrand,rdseed,fsgsbase,invpcid,clflushopt,clwb,"
                     "abm,rdpid,rdtscp,fma,f16c,aes,pclmulqdq,sha_ni,gfni,vaes,vpclmulqdq,sse4_1,"
                     "sse4_2,ssse3")


def write_initramfs(path):
    """A gzipped newc cpio holding only /init (a script: the kernel names it before it tries)."""
    body = b"#!/bin/sh\necho qlite linux_boot: /init ran\n"
    out = io.BytesIO()
    ino = 1

    def entry(name, mode, data=b""):
        nonlocal ino
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        ino += 1
        out.write(hdr.encode() + nb)
        out.write(b"\0" * (-(110 + len(nb)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))

    entry("init", 0o100755, body)
    entry("TRAILER!!!", 0)
    with open(path, "wb") as f:
        f.write(gzip.compress(out.getvalue()))


def cmdline():
    c = "console=ttyS0 ip=dhcp panic=-1 reboot=k"
    if not HW_VIRT:
        c += " lpj=4000000 tsc=reliable no_timer_check"
    return c


def argv(vmm, qlite, kernel, initrd):
    if vmm == "qlite":
        return [qlite, "run", "--kernel", kernel, "--initrd", initrd, "--cmdline", cmdline(),
                "--ram", "256M", "--cpus", "1", "--vdev", f"e1000,mac={MAC}"]
    cpu, extra = ("host", "") if HW_VIRT else ("qemu64,-cx16,kvm=off", QEMU_NESTED_EXTRA)
    return [QEMU, "-accel", "kvm", "-M", "pc", "-cpu", cpu, "-m", "256", "-smp", "1",
            "-nodefaults", "-display", "none", "-serial", "stdio", "-monitor", "none",
            "-no-reboot", "-netdev", "user,id=n", "-device", f"e1000,netdev=n,mac={MAC}",
            "-kernel", kernel, "-initrd", initrd, "-append", cmdline() + extra]


def boot(vmm, av, targets, timeout, log_path):
    """Start the VMM, note when each target's line arrives, stop it after the last one.

    targets: [(name, regex)] in the order the kernel prints them. Returns {name: seconds}."""
    log = open(log_path, "w")
    t0 = time.monotonic()
    proc = subprocess.Popen(av, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    times, fatal = {}, []
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        pending = list(targets)
        for line in proc.stdout:
            t = time.monotonic() - t0
            log.write(f"[{t:9.3f}] {line}")
            while pending and re.search(pending[0][1], line):
                name = pending.pop(0)[0]
                times[name] = t
                print(f"  {vmm}: {name} at {t:.1f} s", file=sys.stderr)
            if not pending:
                break
            if FATAL.search(line) and not fatal:
                # Keep what follows (a panic's trace, QEMU's register dump) for 3 s more.
                fatal.append(line.strip())
                threading.Timer(3, proc.kill).start()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
    missing = [n for n, _ in targets if n not in times]
    if missing:
        why = fatal[0] if fatal else (f"no line after {timeout} s" if time.monotonic() - t0 >= timeout
                                      else f"{vmm} stopped with status {proc.returncode}")
        raise RuntimeError(f"{vmm}: no '{missing[0]}' line ({why}); console log: {log_path}")
    return times


def fmt(s):
    return f"{s:,.1f}"


def table(targets, results, vmms):
    out = ["| milestone (host s from exec) | " + " | ".join(f"{v} min / median / max" for v in vmms) +
           (" | qlite/QEMU (medians) |" if len(vmms) == 2 else " |"),
           "|---|" + "--:|" * (len(vmms) + (len(vmms) == 2))]
    for name, rx in targets:
        cols, meds = [], []
        for v in vmms:
            xs = [r[name] for r in results[v]]
            s = benchlib.spread(xs)
            meds.append(s["median"])
            cols.append(" / ".join(fmt(s[k]) for k in ("min", "median", "max")))
        ratio = [f"{meds[0] / meds[1]:.2f}"] if len(vmms) == 2 and meds[1] else []
        out.append(f"| {name} (`{rx}`) | " + " | ".join(cols + ratio) + " |")
    return "\n".join(out)


def main():
    global HW_VIRT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("qlite")
    ap.add_argument("--kernel", default=os.path.join(TOP, "guest", "vmlinux-min"),
                    help="the guest kernel, an ELF vmlinux with a PVH note (default guest/vmlinux-min)")
    ap.add_argument("--runs", type=int, default=1, help="boots per VMM (default 1: 5-10 min each here)")
    ap.add_argument("--until", choices=[n for n, _ in MILESTONES], default="init",
                    help="stop each boot at this milestone (default init)")
    ap.add_argument("--until-line", metavar="REGEX", help="stop at the first line matching REGEX instead")
    ap.add_argument("--no-qemu", action="store_true", help="qlite only")
    ap.add_argument("--no-qlite", action="store_true", help="QEMU only (e.g. to repeat its boot)")
    ap.add_argument("--timeout", type=float, default=1500, help="seconds per boot (default 1500)")
    ap.add_argument("--log-dir", help="keep each boot's console log here")
    ap.add_argument("--json", help="write the numbers here")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    if not os.path.isfile(a.kernel):
        sys.exit(f"{a.kernel}: no such file (copy /work/shared/guest-kernel/vmlinux-6.1.192-min "
                 "there, or scripts/get-guest.sh --min)")
    vmms = [v for v, off in (("qlite", a.no_qlite), ("QEMU", a.no_qemu)) if not off]
    if not vmms:
        ap.error("--no-qemu and --no-qlite leave nothing to run")
    if not a.no_qemu and not shutil.which(QEMU):
        sys.exit(f"{QEMU} not found (--no-qemu to run qlite alone)")
    with open("/proc/cpuinfo") as f:
        HW_VIRT = bool(re.search(r"\b(vmx|svm)\b", f.read()))
    if a.until_line:
        upto = [(n, rx) for n, rx in MILESTONES if n == "banner"] + [("line", a.until_line)]
    else:
        upto = MILESTONES[:[n for n, _ in MILESTONES].index(a.until) + 1]
    qlite, kernel = os.path.abspath(a.qlite), os.path.abspath(a.kernel)
    results = {v: [] for v in vmms}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        initrd = os.path.join(tmp, "initrd.cpio.gz")
        write_initramfs(initrd)
        logs = a.log_dir or tmp
        os.makedirs(logs, exist_ok=True)
        for run in range(a.runs):
            for v in vmms:
                loads.append(os.getloadavg()[0])
                print(f"run {run + 1}/{a.runs}: {v} (load {loads[-1]:.1f})", file=sys.stderr)
                log = os.path.join(logs, f"linux-boot-{v.lower()}-{run + 1}.log")
                results[v].append(boot(v, argv(v, qlite, kernel, initrd), upto, a.timeout, log))
    loads.append(os.getloadavg()[0])
    print(f"clock: host CLOCK_MONOTONIC from just before the VMM's exec to the line's arrival on its "
          f"stdout; {a.runs} boot(s) per VMM, alternating; 1 vCPU, 256 MiB, e1000 on slirp; "
          f"1-min load average {min(loads):.1f}-{max(loads):.1f} during the runs")
    print(f"kernel: {kernel}; command line: {cmdline()} (QEMU: plus what qlite adds by itself)"
          if not HW_VIRT else f"kernel: {kernel}; command line: {cmdline()}")
    print(table(upto, results, vmms))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"schema": "qlite-bench-linux-boot/1", "clock": "host CLOCK_MONOTONIC from exec",
                       "kernel": kernel, "cmdline": cmdline(), "hw_virt": HW_VIRT,
                       "milestones": [{"name": n, "regex": rx} for n, rx in upto],
                       "load": {"min": min(loads), "max": max(loads)},
                       "argv": {v: argv(v, qlite, kernel, "INITRD") for v in vmms},
                       "runs": results,
                       "spread": {v: {n: benchlib.spread([r[n] for r in results[v]]) for n, _ in upto}
                                  for v in vmms}}, f, indent=1)


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        sys.exit(f"FAIL: {e}")
