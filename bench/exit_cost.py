#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Exit round trips from ring 3, userspace and in-kernel, qlite and QEMU run by run.

usage: exit_cost.py QLITE TEST_GUEST [--ops N] [--repeat K] [--rounds R] [--no-qemu] [--accounting]
                    [--accounting-cost BIN] [--no-hist] [--json FILE]

One guest boot runs every loop below K times (--repeat), each N accesses long, and keeps the
fastest of the K for each loop: a loop the host descheduled the vCPU in is left out, a run where
it was busy throughout is not (hence min / median / max over the runs). A round boots it once under qlite
and once under QEMU (-accel kvm -M pc, same guest), the order alternating round by round, so a
host that gets busier or quieter moves both. With --accounting a round adds a qlite run with
`--accounting off` next to the one with it on (order alternating): the median of those pairs'
ratios is the accounting's cost; --accounting-cost BIN adds its in-process figure.

Histograms: after its K passes each boot runs every loop once more with the guest's `hist` word,
which times each access on its own (rdtsc around it) into quarter-octave buckets of cycles; the
buckets of all runs are summed per VMM and loop, and printed as percentiles and, for one
userspace and one in-kernel loop, as the histogram itself (--no-hist: none).

Clock: the guest's TSC at the rate KVM_GET_TSC_KHZ reports (`tsc-khz=N` on its command line,
the same for both VMMs); each loop's line must say `clock cmdline`, else the run is refused.
The guest's TSC runs at the host's rate here (a 3 s guest spin is 3.00 s on the host).
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
import benchlib  # noqa: E402

UNCLAIMED_MMIO = 0xC0000000   # PCI hole, nothing there under either VMM: both answer in user space
# (name, kind, guest word): kind is where the exit is handled, the same under both VMMs.
LOOPS = [
    ("PIO write 0x3ff (UART scratch)", "userspace", "pio-write=0x3ff,{n}"),
    ("PIO read 0x3ff (UART scratch)", "userspace", "pio-read=0x3ff,{n}"),
    (f"MMIO write {UNCLAIMED_MMIO:#x} (unclaimed)", "userspace", f"mmio-write={UNCLAIMED_MMIO:#x},{{n}}"),
    (f"MMIO read {UNCLAIMED_MMIO:#x} (unclaimed)", "userspace", f"mmio-read={UNCLAIMED_MMIO:#x},{{n}}"),
    ("PIO read 0x40 (PIT counter 0)", "in-kernel", "pio-read=0x40,{n}"),
    ("MMIO read 0xfee00030 (LAPIC version)", "in-kernel", "mmio-read=0xfee00030,{n}"),
    ("MMIO write 0xfee000b0 (LAPIC EOI, none pending)", "in-kernel", "mmio-write=0xfee000b0,{n}"),
]
LINE = re.compile(r"^([a-z-]+): (\d+) ops, \d+ us, (\d+) ns/op, clock (\S+)", re.M)
HIST = re.compile(r"^([a-z-]+): hist cycles((?: \d+:\d+)*)$", re.M)
PERCENTILES = (50, 90, 99, 99.9)
TARGET = 0.8   # issue 12: userspace PIO/MMIO round trip <= 0.8x QEMU's


def run(argv, repeat, hist, timeout=600):
    """ns per access of each loop: the fastest of its REPEAT passes (the words come in passes);
    with hist, each loop's histogram from the pass after them ({cycles: count})."""
    res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         errors="replace", timeout=timeout)
    got = LINE.findall(res.stdout)
    hists = HIST.findall(res.stdout)
    want = len(LOOPS) * (repeat + hist)
    if (len(got) != want or len(hists) != len(LOOPS) * hist or
            "qlite-test-guest: done" not in res.stdout):
        raise RuntimeError(f"{argv[0]}: expected {want} loop lines and {len(LOOPS) * hist} "
                           f"histograms:\n{res.stdout}{res.stderr}")
    for word, _, _, clock in got:
        if clock != "cmdline":
            raise RuntimeError(f"{word} was timed with clock {clock}, not the tsc-khz given")
    ns = [int(x[2]) for x in got[:len(LOOPS) * repeat]]
    buckets = [{int(lo): int(n) for lo, n in (b.split(":") for b in h[1].split())} for h in hists]
    return [min(ns[i::len(LOOPS)]) for i in range(len(LOOPS))], buckets


def hist_sum(hists):
    out = {}
    for h in hists:
        for lo, n in h.items():
            out[lo] = out.get(lo, 0) + n
    return dict(sorted(out.items()))


def hist_percentile(h, p):
    """The lower bound of the bucket holding the p-th percentile sample."""
    total, seen = sum(h.values()), 0
    for lo, n in h.items():
        seen += n
        if seen * 100 >= p * total:
            return lo
    return None


def octaves(h):
    """Quarter-octave buckets folded into octaves: {2^k: count}."""
    out = {}
    for lo, n in h.items():
        k = 1 << (lo.bit_length() - 1) if lo else 0
        out[k] = out.get(k, 0) + n
    return out


def print_hist(name, hv, khz):
    """One loop's histogram, octave by octave, each VMM's share of its samples as a bar."""
    print(f"\n{name}: share of accesses per octave of cycles (all runs' samples)")
    oct_ = {v: octaves(h) for v, h in hv.items()}
    total = {v: sum(h.values()) for v, h in hv.items()}
    keys = sorted(set().union(*oct_.values()))
    print("| cycles | from us | " + " | ".join(f"{v} | {v} share" for v in hv) + " |")
    print("|--:|--:|" + "--:|:--|" * len(hv))
    for k in keys:
        cells = [f"{k:,}-{2 * k - 1:,}", f"{k / khz * 1000:,.1f}"]
        for v in hv:
            share = oct_[v].get(k, 0) / total[v]
            cells += [f"{100 * share:.2f}%", "#" * round(40 * share) or "."]
        print("| " + " | ".join(cells) + " |")


def userspace_exits(res):
    """qlite's own count of the exits it handled (its last line)."""
    m = re.search(r"; (\d+) exits", res.stderr + res.stdout)
    return int(m.group(1)) if m else None


def check_in_kernel(qlite, guest, khz, ops):
    """The in-kernel loops must not reach qlite: its exits for a loop of OPS less a loop of 1."""
    def exits(words):
        res = subprocess.run([qlite, "run", "--kernel", guest, "--ram", "64M", "--cmdline",
                              f"tsc-khz={khz} {words}"], stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, errors="replace", timeout=300)
        n = userspace_exits(res)
        if n is None:
            raise RuntimeError(f"no exit count from qlite:\n{res.stdout}{res.stderr}")
        return n

    out = {}
    for name, kind, word in LOOPS:
        if kind == "in-kernel":
            # Both print the loop's line on the UART (2 exits a byte; the digits differ).
            out[name] = exits(word.format(n=ops)) - exits(word.format(n=1))
            if out[name] >= ops // 10:
                raise RuntimeError(f"{name}: {out[name]} more qlite exits for {ops} accesses")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qlite")
    ap.add_argument("guest")
    ap.add_argument("--ops", type=int, default=1000, help="accesses per loop (default 1000)")
    ap.add_argument("--repeat", type=int, default=5, help="passes per run, fastest kept (default 5)")
    ap.add_argument("--rounds", type=int, default=9, help="runs per VMM (default 9)")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--qemu", action="store_true", help="(the default; kept for old callers)")
    ap.add_argument("--accounting", action="store_true",
                    help="also a qlite --accounting off run each round, paired with the on run")
    ap.add_argument("--accounting-cost", help="bench/accounting_cost binary: ns per exit in-process")
    ap.add_argument("--no-hist", action="store_true", help="no per-access histogram pass")
    ap.add_argument("--json", help="write the numbers here")
    a = ap.parse_args()

    khz = benchlib.tsc_khz()
    hist = 0 if a.no_hist else 1
    words = [w.format(n=a.ops) for _, _, w in LOOPS]
    cmdline = f"tsc-khz={khz} " + " ".join(words * a.repeat + (["hist"] + words) * hist)
    qlite = [a.qlite, "run", "--kernel", a.guest, "--ram", "64M", "--cmdline", cmdline]
    vmms = {"qlite": qlite}
    if not a.no_qemu and shutil.which("qemu-system-x86_64"):
        vmms["QEMU"] = benchlib.qemu_argv(a.guest, cmdline)
    if a.accounting or a.accounting_cost:
        vmms["qlite accounting off"] = qlite + ["--accounting", "off"]
    in_kernel = check_in_kernel(a.qlite, a.guest, khz, a.ops)

    runs = {v: [] for v in vmms}
    hists = {v: [] for v in vmms}
    order = list(vmms)
    for r in range(a.rounds):
        for v in (order if r % 2 == 0 else order[::-1]):
            ns, h = run(vmms[v], a.repeat, hist)
            runs[v].append(ns)
            hists[v].append(h)
        print(f"round {r + 1}/{a.rounds}: " + ", ".join(
            f"{v} {runs[v][-1][0]} ns" for v in order) + " (first loop)", file=sys.stderr)

    loops = []
    for i, (name, kind, word) in enumerate(LOOPS):
        d = {"name": name, "kind": kind, "word": word.format(n=a.ops),
             "ns": {v: benchlib.spread([x[i] for x in runs[v]]) for v in vmms}}
        if "QEMU" in vmms:
            d["ratio_median"] = d["ns"]["qlite"]["median"] / d["ns"]["QEMU"]["median"]
            d["ratio_min"] = d["ns"]["qlite"]["min"] / d["ns"]["QEMU"]["min"]
            d["ratio_rounds"] = benchlib.spread([q[i] / e[i] for q, e in zip(runs["qlite"], runs["QEMU"])])
        if hist:
            d["hist_cycles"] = {v: hist_sum(h[i] for h in hists[v]) for v in vmms}
            d["hist_percentiles"] = {v: {str(p): hist_percentile(d["hist_cycles"][v], p)
                                         for p in PERCENTILES} for v in vmms}
        if "qlite accounting off" in vmms:
            d["accounting_on_off"] = statistics.median(
                on[i] / off[i] for on, off in zip(runs["qlite"], runs["qlite accounting off"]))
        loops.append(d)

    print(f"Exit round trip from a ring-3 loop of {a.ops} accesses, ns per access: per run the fastest "
          f"of {a.repeat} passes; min / median / max of {a.rounds} runs each, qlite and QEMU "
          "interleaved run by run")
    print(f"clock: {benchlib.GUEST_CLOCK}; tsc-khz={khz}; cycles = median ns x {khz / 1e6:.6f}")
    vs = [v for v in vmms if v != "qlite accounting off"]
    head = "| loop | handled | " + " | ".join(f"{v} ns min / med / max | {v} cycles (med)" for v in vs)
    if "QEMU" in vmms:
        head += " | qlite/QEMU (medians) | per round min-max"
    head += " |"
    print(head)
    print("|---|---|" + "--:|--:|" * len(vs) + ("--:|--:|" if "QEMU" in vmms else ""))
    for d in loops:
        row = f"| {d['name']} | {d['kind']} | "
        row += " | ".join(f"{d['ns'][v]['min']:,} / {d['ns'][v]['median']:,.0f} / {d['ns'][v]['max']:,} | "
                          f"{d['ns'][v]['median'] * khz / 1e6:,.0f}" for v in vs)
        if "QEMU" in vmms:
            rr = d["ratio_rounds"]
            row += f" | {d['ratio_median']:.2f} | {rr['min']:.2f}-{rr['max']:.2f}"
        print(row + " |")
    if hist:
        print(f"\nPer-access round trips (the histogram pass: {a.ops} accesses a loop, timed one by one, "
              f"{a.rounds} runs summed), cycles at the lower bound of the quarter-octave bucket "
              "holding each percentile:")
        print("| loop | " + " | ".join(f"{v} p{p}" for v in vs for p in PERCENTILES) + " |")
        print("|---|" + "--:|" * (len(vs) * len(PERCENTILES)))
        for d in loops:
            print(f"| {d['name']} | " + " | ".join(
                f"{d['hist_percentiles'][v][str(p)]:,}" for v in vs for p in PERCENTILES) + " |")
        for kind in ("userspace", "in-kernel"):
            d = next(x for x in loops if x["kind"] == kind)
            print_hist(d["name"], {v: d["hist_cycles"][v] for v in vs}, khz)
        print()
    print(f"in-kernel check: qlite's userspace exits for a loop of {a.ops} less a loop of 1: " +
          ", ".join(f"{k.split(' (')[0]} {v:+}" for k, v in in_kernel.items()))
    if "QEMU" in vmms:
        for d in loops:
            if d["kind"] == "userspace":
                ok = d["ratio_median"] <= TARGET
                print(f"{'MET' if ok else 'NOT MET'}: {d['name']}: qlite/QEMU {d['ratio_median']:.2f} "
                      f"(target <= {TARGET})")
    acct = None
    if "qlite accounting off" in vmms:
        acct = {d["name"]: d["accounting_on_off"] for d in loops}
        print("accounting on/off, median of paired runs: " +
              ", ".join(f"{k.split(' (')[0]} {v:.3f}" for k, v in acct.items()))
    if a.accounting_cost:
        out = subprocess.run([a.accounting_cost], capture_output=True, text=True, timeout=300).stdout
        m = re.search(r"accounting adds (-?[0-9.]+) ns per exit", out)
        if m:
            trip = min(d["ns"]["qlite"]["median"] for d in loops if d["kind"] == "userspace")
            acct = dict(acct or {}, in_process_ns=float(m.group(1)), share=float(m.group(1)) / trip)
            print(f"{out.strip()}\n= {100 * acct['share']:.3f}% of the {trip:.0f} ns userspace round "
                  "trip above (target < 2%)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"schema": "qlite-bench-exit-cost/1", "host": platform.uname()._asdict(),
                       "tsc_khz": khz, "clock": benchlib.GUEST_CLOCK, "ops": a.ops, "rounds": a.rounds,
                       "repeat": a.repeat,
                       "hist": bool(hist),
                       "loops": loops, "in_kernel_check": in_kernel, "accounting": acct,
                       "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
