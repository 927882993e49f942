#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Boot time and memory footprint of the VMM, qlite beside QEMU, on the test guest.

usage: boot_footprint.py QLITE TEST_GUEST [--runs N] [--qemu]

Boot time: from exec to the guest's first line on the serial console (`qlite-test-guest:
hello`), and to the VMM's exit, median of N runs. Footprint: the VMM's resident memory
(VmRSS, split into anonymous and file-backed) sampled while the guest spins in ring 3; the
guest touches about 1 MiB of its 64 MiB, so the figure is essentially the VMM's own.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def boot(argv):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = None
    for line in p.stdout:
        if b"qlite-test-guest: hello" in line and first is None:
            first = time.monotonic() - t0
    p.wait()
    return first, time.monotonic() - t0


def footprint(argv):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for line in p.stdout:                      # wait until the guest runs
        if b"qlite-test-guest: hello" in line:
            break
    time.sleep(0.5)
    fields = {}
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                fields[k] = v.strip()
    p.kill()
    p.wait()
    return fields


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qlite")
    ap.add_argument("guest")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--qemu", action="store_true")
    a = ap.parse_args()

    vmms = {"qlite": lambda cmd: [a.qlite, "run", "--kernel", a.guest, "--ram", "64M", "--cmdline", cmd]}
    if a.qemu and shutil.which("qemu-system-x86_64"):
        vmms["qemu"] = lambda cmd: ["qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-m", "64",
                                    "-display", "none", "-serial", "stdio", "-no-reboot", "-net", "none",
                                    "-kernel", a.guest, "-append", cmd,
                                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    print(f"{'':8}{'to hello':>12}{'to exit':>12}{'VmRSS':>12}{'anon':>12}{'file':>12}{'threads':>9}")
    for name, mk in vmms.items():
        runs = [boot(mk("hello")) for _ in range(a.runs)]
        fp = footprint(mk("hello spin=3000"))
        hello = statistics.median(r[0] for r in runs if r[0] is not None)
        total = statistics.median(r[1] for r in runs)
        print(f"{name:8}{hello * 1000:10.1f} ms{total * 1000:10.1f} ms{fp.get('VmRSS', '?'):>12}"
              f"{fp.get('RssAnon', '?'):>12}{fp.get('RssFile', '?'):>12}{fp.get('Threads', '?'):>9}")
    print(f"(median of {a.runs} boots; host {os.uname().release}; QEMU runs SeaBIOS first, "
          "qlite enters the PVH entry point directly)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
