#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The same 4 MiB written, flushed and read back through each block device, under qlite and QEMU.

usage: blk_compare.py QLITE TEST_GUEST [--qemu] [--only SUBSTRING] [--runs N] [--json FILE]

What issue 9 asks to see: why IDE takes many more exits than virtio-blk. The test guest writes
4 MiB from LBA 0 (IDE: 8192 sectors, 256 a command; virtio-blk: 32 requests of 128 KiB), flushes,
reads it back and checks it, through IDE PIO, IDE DMA, virtio-blk over PCI (ioeventfd and irqfd
on, and off) and over MMIO (ioeventfd on and off). The scenario is wrapped in
'spin=1 spin=400 ... spin=1 spin=400' and every counter is read while the guest spins silently
after each 'spin: 1 ms' line, so boot and firmware are left out and both VMMs are measured over
the same guest work (plus the guest's own lines on the UART in between: 2 PIO per byte).

- qlite: its exit report, snapshotted with --stats-json every 100 ms: userspace exits per device
  and register, and KVM's own counters for the VM (KVM_GET_STATS_FD, the `kvm_stats` block).
- QEMU (-accel kvm; -M pc, or microvm for MMIO; drive aio=io_uring, as qlite's backend): KVM's
  counters over QMP query-stats, as tests/integration/blk_guest_test.py reads them. QEMU has no
  per-register count.
- Time: the guest's own phases (its TSC at the rate KVM_GET_TSC_KHZ reports, given as tsc-khz=N
  under both VMMs, so no PIT calibration) and the host's time between the two marks (line
  arrival, CLOCK_MONOTONIC) less the 401 ms the guest spins there.
- Per MiB and throughput: 8 MiB move (4 written, 4 read); MiB/s = 8 MiB / (guest write + read).
- --runs N (default 1): N rounds, each running every case under qlite and then QEMU, so the two
  alternate run by run; the counts and the guest's phases are the medians over the runs, MiB/s
  and host ms are given as min / median / max.

The image is checked after every run. Not part of the test suite: IDE PIO alone is ~2.1 million
exits each way (about a minute under qlite, two under QEMU on a nested software KVM).
"""
import argparse
import contextlib
import datetime
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.dont_write_bytecode = True
import blk_guest_test as bg  # noqa: E402
sys.path.insert(0, HERE)
import benchlib  # noqa: E402

MIB4_SECTORS = 8192
SPIN_MS = 400
QLITE_MMIO = bg.QLITE_MMIO
INTERVAL_S = 0.1
MIB_MOVED = 8
TSC_KHZ = None   # set in main(): KVM_GET_TSC_KHZ

# (name, qlite --vdev, QEMU: (kind, extra args, device option) or None, words with {mmio}, word)
RUNS = [
    ("IDE PIO", "ide,file={img}", ("ide", [], ""), "ide-pio=8192,256", "ide-pio"),
    ("IDE DMA", "ide,file={img}", ("ide", [], ""), "ide-dma=8192,256", "ide-dma"),
    ("virtio-blk PCI", "virtio-blk,file={img}", ("vblk", [], ""), "vblk=32,131072", "vblk"),
    ("virtio-blk PCI ioeventfd=off", "virtio-blk,file={img},ioeventfd=off",
     ("vblk", [], ",ioeventfd=off"), "vblk=32,131072", "vblk"),
    ("virtio-blk PCI ioeventfd=off,irqfd=off", "virtio-blk,file={img},ioeventfd=off,irqfd=off",
     None, "vblk=32,131072", "vblk"),
    ("virtio-blk MMIO", "virtio-blk,file={img},transport=mmio", ("mmio", [], ""),
     "vblk-mmio={mmio:#x},32,131072", "vblk-mmio"),
    ("virtio-blk MMIO ioeventfd=off", "virtio-blk,file={img},transport=mmio,ioeventfd=off",
     ("mmio", ["-global", "virtio-mmio.ioeventfd=off"], ""), "vblk-mmio={mmio:#x},32,131072",
     "vblk-mmio"),
]
KVM_STATS = ("exits", "io_exits", "mmio_exits", "insn_emulation", "halt_exits", "irq_exits")
DISK_DEVICES = ("ide-primary", "ide-primary-ctl", "piix3-ide-bmdma", "virtio-blk")


def wrap(words):
    return f"tsc-khz={TSC_KHZ} spin=1 spin={SPIN_MS} {words} spin=1 spin={SPIN_MS}"


def guest_times(out, word):
    m = re.search(rf"^{re.escape(word)}: write (\d+) us, flush (\d+) us, read (\d+) us", out, re.M)
    if not m:
        raise bg.Failure(f"no '{word}: write ... us' line in the guest output:\n{out}")
    if not re.search(rf"^{re.escape(word)}: \d+ ops, .*, clock cmdline$", out, re.M):
        raise bg.Failure(f"'{word}' was not timed with the tsc-khz given:\n{out}")
    return [int(x) / 1000 for x in m.groups()]


def snapshot(path, after_wall):
    """The JSON report written after after_wall (the mark's arrival), within the silent spin."""
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            with open(path) as f:
                data = json.load(f)
            stamp = datetime.datetime.fromisoformat(data["timestamp"].replace("Z", "+00:00")).timestamp()
            if stamp > after_wall + 0.005:
                if stamp > after_wall + SPIN_MS / 1000 * 0.9:
                    raise bg.Failure(f"snapshot taken {stamp - after_wall:.3f} s after the mark: not exact")
                return data
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise bg.Failure(f"{path}: no snapshot after the mark")


def flat(data):
    """{(device, register, dir): exits} summed over offsets; the totals; KVM's counters."""
    regs = {}
    for dev in data["devices"]:
        for r in dev["registers"]:
            k = (dev["device"], r["register"], r["dir"])
            regs[k] = regs.get(k, 0) + r["exits"]
        for d, n in (("read", dev["other_reads"]), ("write", dev["other_writes"])):
            if n:
                regs[dev["device"], "(other)", d] = n
    kvm = dict.fromkeys(KVM_STATS, 0)
    if data["kvm_stats"].get("available"):
        for v in data["kvm_stats"]["vcpus"]:
            for k in KVM_STATS:
                kvm[k] += v.get(k, 0)
    return regs, {"exits": data["exits"], "interrupted": data["interrupted"],
                  "io_transfers": data["io_transfers"]}, kvm


def run_qlite(q, g, name, vdev, words, word, tmp):
    img = bg.fresh_image(tmp)
    js, log = os.path.join(tmp, "exits.json"), os.path.join(tmp, "interval.log")
    argv = [q, "run", "--kernel", g, "--ram", "64M", "--cmdline", wrap(words), "--vdev",
            vdev.format(img=img), "--stats-json", js, "--stats-interval", f"{int(INTERVAL_S * 1000)}ms",
            "--stats-log", log]
    vm = bg.VmRun(argv, tmp)
    marks = []
    try:
        for nth in (1, 2):
            t = vm.wait_line(bg.is_spin1, nth, timeout=600)
            if t is None:
                break
            wall = time.time() - (time.monotonic() - t)
            time.sleep(max(0, t + INTERVAL_S * 2.5 - time.monotonic()))
            marks.append((t, snapshot(js, wall)))
    finally:
        res = vm.finish(timeout=600)
    bg.check(len(marks) == 2 and res.returncode == 1 and "qlite-test-guest: done" in res.stdout,
             f"{name}: qlite run failed", res)
    with contextlib.redirect_stdout(sys.stderr):   # its verdict line: progress, not the table
        bg.check_image(img, word, MIB4_SECTORS, res)
    (t1, a), (t2, b) = marks
    ra, ta, ka = flat(a)
    rb, tb, kb = flat(b)
    regs = {k: rb.get(k, 0) - ra.get(k, 0) for k in rb if rb.get(k, 0) != ra.get(k, 0)}
    return {"vmm": "qlite", "name": name, "regs": regs,
            "totals": {k: tb[k] - ta[k] for k in tb}, "kvm": {k: kb[k] - ka[k] for k in kb},
            "host_ms": (t2 - t1) * 1000 - SPIN_MS - 1, "guest_ms": guest_times(res.stdout, word),
            "uart_bytes": bg.uart_bytes(res.stdout)}


def run_qemu(g, name, qemu, words, word, tmp):
    kind, extra, devopt = qemu
    img = bg.fresh_image(tmp)
    # Both VMMs on io_uring (qlite's backend; issue 12 compares against QEMU's aio=io_uring).
    args = [a + ",aio=io_uring" if a.startswith("if=none,id=d,") else a for a in bg.machine(kind, img)]
    if devopt:
        args = [a + devopt if a.startswith("virtio-blk-pci,") else a for a in args]
    q = bg.QemuRun(g, wrap(words), args + extra, tmp)
    deltas, t_marks = None, []
    try:
        qmp = bg.Qmp(q.qmp_path, time.time() + 60)
        qtree = qmp.command("human-monitor-command", **{"command-line": "info qtree"})
        if kind == "mmio":
            where = bg.mmio_transport(qtree)
            bg.check(where == bg.MICROVM_MMIO, f"{name}: QEMU put virtio-blk-device at {where}")
        if "ioeventfd=off" in devopt or "virtio-mmio.ioeventfd=off" in extra:
            bg.check(re.search(r"ioeventfd = false", qtree), f"{name}: QEMU did not take ioeventfd=off")
        readings = []
        for nth in (1, 2):
            t = q.wait_line(bg.is_spin1, nth, timeout=600)
            if t is None:
                break
            readings.append(qmp.vcpu_stats())
            late = time.monotonic() - t
            bg.check(late < SPIN_MS / 1000 * 0.75, f"{name}: QEMU counters read {late:.3f} s after the mark")
            t_marks.append(t)
        if len(readings) == 2:
            deltas = {k: readings[1][k] - readings[0][k] for k in bg.STATS}
        qmp.close()
    finally:
        res = q.finish(timeout=600)
    bg.check(deltas is not None and res.returncode == 1 and "qlite-test-guest: done" in res.stdout,
             f"{name}: QEMU run failed", res)
    with contextlib.redirect_stdout(sys.stderr):   # its verdict line: progress, not the table
        bg.check_image(img, word, MIB4_SECTORS, res)
    return {"vmm": "QEMU", "name": name, "kvm": deltas,
            "host_ms": (t_marks[1] - t_marks[0]) * 1000 - SPIN_MS - 1,
            "guest_ms": guest_times(res.stdout, word), "uart_bytes": bg.uart_bytes(res.stdout)}


def fmt_ms(x):
    return f"{x:,.0f}" if x >= 10 else f"{x:.1f}"


SHORT = {"virtio-blk PCI": "vblk PCI", "virtio-blk MMIO": "vblk MMIO"}


def short(name):
    for long_, s in SHORT.items():
        name = name.replace(long_, s)
    return name


def mib_s(r):
    """MiB moved per second of the guest's write + read phases (its TSC at KVM's rate)."""
    w, _, rd = r["guest_ms"]
    return MIB_MOVED / ((w + rd) / 1000) if w + rd > 0 else 0.0


def median_of(runs):
    """One record for a case's runs: every count and time the median over them; MiB/s and host
    ms also as min / median / max (`spread`)."""
    med = statistics.median
    r = dict(runs[0])
    for part in ("regs", "totals", "kvm"):
        if part in r:
            keys = {k for x in runs for k in x[part]}
            r[part] = {k: med([x[part].get(k, 0) for x in runs]) for k in keys}
    r["guest_ms"] = [med([x["guest_ms"][i] for x in runs]) for i in range(3)]
    r["host_ms"] = med([x["host_ms"] for x in runs])
    r["uart_bytes"] = med([x["uart_bytes"] for x in runs])
    r["spread"] = {"mib_s": benchlib.spread([mib_s(x) for x in runs]),
                   "host_ms": benchlib.spread([x["host_ms"] for x in runs])}
    r["runs"] = runs
    return r


def fmt_spread(s, f):
    return f(s["median"]) if s["n"] == 1 else " / ".join(f(s[k]) for k in ("min", "median", "max"))


def num(x):
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def report(results):
    out = []
    if results and len(results[0]["runs"]) > 1:
        out += [f"{len(results[0]['runs'])} runs per case and VMM: counts and guest ms are the medians, "
                "MiB/s and host ms min / median / max", ""]
    out.append("| device | VMM | userspace exits | disk device | pci-host | uart | KVM exits | "
               "KVM io_exits | KVM mmio_exits | KVM insn_emulation | KVM exits per MiB | "
               "guest write / flush / read ms | MiB/s | host ms |")
    out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in results:
        if r["vmm"] == "qlite":
            regs = r["regs"]
            disk = sum(v for (d, _, _), v in regs.items() if d in DISK_DEVICES)
            pci = sum(v for (d, _, _), v in regs.items() if d == "pci-host")
            uart = sum(v for (d, _, _), v in regs.items() if d == "uart8250")
            cols = [num(r['totals']['exits']), num(disk), num(pci), num(uart)]
        else:
            cols = ["-", "-", "-", f"({num(2 * r['uart_bytes'])})"]
        k = r["kvm"]
        g = " / ".join(fmt_ms(x) for x in r["guest_ms"])
        out.append(f"| {r['name']} | {r['vmm']} | " + " | ".join(cols) +
                   f" | {num(k['exits'])} | {num(k['io_exits'])} | {num(k['mmio_exits'])} | "
                   f"{num(k['insn_emulation'])} | {k['exits'] / MIB_MOVED:,.0f} | {g} | "
                   f"{fmt_spread(r['spread']['mib_s'], lambda x: f'{x:,.1f}')} | "
                   f"{fmt_spread(r['spread']['host_ms'], fmt_ms)} |")
    ql = [r for r in results if r["vmm"] == "qlite"]
    if not ql:
        return "\n".join(out)
    out += ["", "qlite's userspace exits per device and register over the same window (virtio-blk's "
            "set-up and reset registers, the PCI probe and the UART's lines each summed in one row):", ""]
    out.append("| device | register | dir | " + " | ".join(short(r["name"]) for r in ql) + " |")
    out.append("|---|---|---|" + "--:|" * len(ql))
    rows = [{} for _ in ql]
    for i, r in enumerate(ql):
        for k, n in r["regs"].items():
            rows[i][row_key(k)] = rows[i].get(row_key(k), 0) + n
    order = ["ide-primary", "ide-primary-ctl", "piix3-ide-bmdma", "virtio-blk", "pci-host", "uart8250"]
    keys = sorted({k for row in rows for k in row},
                  key=lambda k: (order.index(k[0]) if k[0] in order else 99, k[1].startswith("("),
                                 -max(row.get(k, 0) for row in rows), k[1], k[2]))
    for k in keys:
        out.append(f"| {k[0]} | {k[1]} | {k[2]} | " +
                   " | ".join(num(row[k]) if row.get(k) else "" for row in rows) + " |")
    out.append("| **all** | | | " + " | ".join(f"**{num(r['totals']['exits'])}**" for r in ql) + " |")
    return "\n".join(out)


def row_key(k):
    """The row of the per-register table a register's count goes to."""
    dev, reg, d = k
    if dev in ("pci-host", "uart8250"):
        return (dev, "(all)", "")
    if dev == "virtio-blk" and reg not in ("NOTIFY", "QueueNotify"):
        return (dev, "(set-up, reset)", "")
    return k


def jsonable(r):
    """A run or a case's record with its register keys as strings (JSON object keys)."""
    return dict(r, regs={" ".join(k): v for k, v in r.get("regs", {}).items()})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qlite")
    ap.add_argument("guest")
    ap.add_argument("--qemu", action="store_true", help="also run each case under qemu-system-x86_64")
    ap.add_argument("--only", help="only the runs whose name contains this")
    ap.add_argument("--runs", type=int, default=1,
                    help="rounds of every case, qlite and QEMU alternating (default 1)")
    ap.add_argument("--json", help="write the raw numbers here")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    q, g = os.path.abspath(a.qlite), os.path.abspath(a.guest)
    global TSC_KHZ
    TSC_KHZ = benchlib.tsc_khz()
    if a.qemu and not shutil.which(bg.QEMU):
        sys.exit(f"{bg.QEMU} not found")
    runs = {}   # (case index, VMM): [run, ...]
    for rnd in range(a.runs):
        for i, (name, vdev, qemu, words, word) in enumerate(RUNS):
            if a.only and a.only not in name:
                continue
            words = words.format(mmio=QLITE_MMIO)
            with tempfile.TemporaryDirectory() as d:
                r = run_qlite(q, g, name, vdev, words, word, d)
            runs.setdefault((i, "qlite"), []).append(r)
            print(f"[{rnd + 1}/{a.runs}] qlite {name}: {r['totals']['exits']:,} exits, "
                  f"{mib_s(r):,.1f} MiB/s, {fmt_ms(r['host_ms'])} ms", file=sys.stderr)
            if a.qemu and qemu:
                qw = words.replace(f"{QLITE_MMIO:#x}", f"{bg.MICROVM_MMIO:#x}")
                with tempfile.TemporaryDirectory() as d:
                    r = run_qemu(g, name, qemu, qw, word, d)
                runs.setdefault((i, "QEMU"), []).append(r)
                print(f"[{rnd + 1}/{a.runs}] QEMU {name}: {r['kvm']['exits']:,} KVM exits, "
                      f"{mib_s(r):,.1f} MiB/s, {fmt_ms(r['host_ms'])} ms", file=sys.stderr)
    results = [median_of(runs[k]) for k in sorted(runs, key=lambda k: (k[0], k[1] != "qlite"))]
    print(f"clock: guest ms = {benchlib.GUEST_CLOCK}, tsc-khz={TSC_KHZ}; host ms = host "
          f"CLOCK_MONOTONIC between the marks' arrival; {a.runs} run(s) per case and VMM, qlite "
          "then QEMU in each round; counts and guest ms are medians over the runs, MiB/s and host "
          "ms min / median / max when there are several")
    print(report(results))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"schema": "qlite-bench-blk-compare/2", "tsc_khz": TSC_KHZ,
                       "clock": benchlib.GUEST_CLOCK, "mib_moved": MIB_MOVED, "runs": a.runs,
                       "results": [dict(jsonable(r), mib_s=mib_s(r),
                                        runs=[dict(jsonable(x), mib_s=mib_s(x)) for x in r["runs"]])
                                   for r in results]}, f, indent=1)


if __name__ == "__main__":
    try:
        main()
    except bg.Failure as e:
        sys.exit(f"FAIL: {e}")
