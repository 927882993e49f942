#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Userspace PIO exit round trip, with qlite's exit accounting on and off (and QEMU beside it).

usage: exit_cost.py QLITE TEST_GUEST [--ops N] [--rounds R] [--qemu]

The test guest loops in ring 3 on `out`/`in` to the UART scratch register (0x3ff, claimed,
no side effect) and times the loop itself (TSC); each round runs qlite once with
`--accounting on` and once with `--accounting off`, alternating, and the median of the
rounds is reported. Accounting is the per-device/per-register attribution and the handler
time histograms; the per-reason counters run in both. Target: overhead < 2%.
"""
import argparse
import re
import shutil
import statistics
import subprocess
import sys

PORT = "0x3ff"


def guest_ns(argv, timeout=300):
    out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         errors="replace", timeout=timeout).stdout
    res = {}
    for word in ("pio-write", "pio-read"):
        m = re.search(rf"^{word}: \d+ ops, \d+ us, (\d+) ns/op", out, re.M)
        if not m:
            raise RuntimeError(f"no {word} timing in the guest output:\n{out}")
        res[word] = int(m.group(1))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qlite")
    ap.add_argument("guest")
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--qemu", action="store_true", help="also run the guest under qemu-system-x86_64")
    a = ap.parse_args()

    cmdline = f"pio-write={PORT},{a.ops} pio-read={PORT},{a.ops}"
    base = [a.qlite, "run", "--kernel", a.guest, "--ram", "64M", "--cmdline", cmdline]
    runs = {"on": [], "off": []}
    for r in range(a.rounds):
        for mode in (("on", "off") if r % 2 == 0 else ("off", "on")):
            runs[mode].append(guest_ns(base + ["--accounting", mode]))
    med = {mode: {w: statistics.median(x[w] for x in runs[mode]) for w in ("pio-write", "pio-read")}
           for mode in runs}

    print(f"PIO exit round trip, ring-3 loop of {a.ops} ops to port {PORT}, median of {a.rounds} rounds")
    print(f"{'':14}{'accounting on':>16}{'accounting off':>16}{'ratio':>9}")
    worst = 0.0
    for w in ("pio-write", "pio-read"):
        ratio = med["on"][w] / med["off"][w]
        worst = max(worst, ratio)
        print(f"{w:14}{med['on'][w]:13.0f} ns{med['off'][w]:13.0f} ns{ratio:9.4f}")
    spread = max(statistics.pstdev(x[w] for x in runs[m]) / med[m][w] for m in runs
                 for w in ("pio-write", "pio-read"))
    print(f"run-to-run spread (stdev/median): {spread * 100:.1f}%")

    if a.qemu and shutil.which("qemu-system-x86_64"):
        q = [guest_ns(["qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-m", "64", "-display", "none",
                       "-serial", "stdio", "-no-reboot", "-net", "none", "-kernel", a.guest,
                       "-append", cmdline, "-device", "isa-debug-exit,iobase=0xf4,iosize=4"])
             for _ in range(3)]
        for w in ("pio-write", "pio-read"):
            print(f"qemu {w:9}{statistics.median(x[w] for x in q):13.0f} ns  (QEMU 'pc', median of 3)")

    verdict = "PASS" if worst < 1.02 else "FAIL"
    print(f"{verdict}: accounting overhead {100 * (worst - 1):+.2f}% (target < 2%)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
