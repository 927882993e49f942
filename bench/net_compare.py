#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The same 10,000 frames sent by the test guest through each NIC, under qlite and QEMU.

usage: net_compare.py QLITE TEST_GUEST [--qemu | --no-qemu] [--frames N] [--size BYTES] [--quick]
                      [--only SUBSTRING] [--json FILE]

The test guest sets up the NIC (nic=e1000, nic=virtio, nic=virtio-mmio:ADDR), then sends
net-tx=10000,1514 to tests/integration/net_peer.py's `sink 10000` over a unix socket (qlite:
backend=socket,connect=PATH; QEMU: -netdev stream), which checks every byte and the order. The
send is wrapped in 'spin=1 spin=400 ... spin=1 spin=400' and every counter is read while the guest
spins silently after each 'spin: 1 ms' line (as bench/blk_compare.py does), so boot, firmware and
the NIC's set-up are left out: the window holds the 10,000 sends and the guest's three lines
about them on the UART (2 PIO per byte).

1514 bytes: a full Ethernet frame (without FCS), the size a bulk transfer sends. Neither driver's
exits depend on the size (one descriptor, one doorbell a frame), so the exits per frame hold for
any size; the time per frame includes copying 1514 bytes through guest RAM twice (the guest's
buffer, then the device's read) and the socket.

Runs: qlite e1000 with coalesce off and on, virtio-net PCI with ioeventfd and irqfd on and off,
virtio-net MMIO; and QEMU 7.2 (when qemu-system-x86_64 is installed, or --qemu; --no-qemu
skips it) -M pc with -device e1000 (QEMU always coalesces e1000's
MMIO writes but for the registers the guest waits on, like qlite's coalesce on) and
virtio-net-pci,disable-legacy=on (ioeventfd on and off), and -M microvm with virtio-net-device.

- qlite: its exit report, snapshotted with --stats-json every 100 ms: userspace exits per device
  and register, and KVM's own counters for the VM (KVM_GET_STATS_FD, the `kvm_stats` block).
- QEMU: KVM's counters over QMP query-stats (tests/integration/blk_guest_test.py's Qmp). QEMU has
  no per-register count.
- Time: the guest's own 'net-tx: N ops, T us' (its TSC, calibrated against the PIT, around the
  sends only: filling the frame is left out) and the host's CLOCK_MONOTONIC between the two marks'
  arrival less the 401 ms the guest spins there (it includes filling the frames and the UART).
- The guest's doorbell writes (its 'T TX and R RX doorbell writes' line) under both VMMs: QEMU
  sets VRING_USED_F_NO_NOTIFY on TX while its bottom half runs, so a virtio guest may kick less.

Not part of the test suite (about 1.5 minutes with QEMU; --quick: 2,000 frames). scripts/bench.sh
runs it as `net_compare.py QLITE TEST_GUEST --json FILE [--quick]`, so QEMU is on by default.
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import benchlib  # noqa: E402
import blk_compare as bc  # noqa: E402
import blk_guest_test as bg  # noqa: E402
import net_guest_test as ng  # noqa: E402

FRAMES = 10000
QUICK_FRAMES = 2000
SIZE = 1514
TIMEOUT = 300

# (name, qlite --vdev, guest nic= for qlite, QEMU: (ng.QEMU_NIC key, device options) or None)
RUNS = [
    ("e1000", "e1000", "e1000", None),
    ("e1000 coalesce=on", "e1000,coalesce=on", "e1000", ("e1000", "")),
    ("virtio-net PCI", "virtio-net", "virtio", ("virtio", "")),
    ("virtio-net PCI ioeventfd=off,irqfd=off", "virtio-net,ioeventfd=off,irqfd=off", "virtio",
     ("virtio", ",ioeventfd=off")),
    ("virtio-net MMIO", "virtio-net,transport=mmio", "mmio", ("mmio", "")),
]
NIC_DEVICES = ("e1000", "virtio-net")


TSC_KHZ = None   # set in main(): KVM_GET_TSC_KHZ, given to the guest as tsc-khz=N


def cmdline(vmm, nic, frames, size):
    return (f"tsc-khz={TSC_KHZ} {ng.nic_word(vmm, nic)} spin=1 spin={bc.SPIN_MS} "
            f"net-tx={frames},{size} spin=1 spin={bc.SPIN_MS}")


def at_marks(vm, read, name):
    """read(arrival) at each of the two 'spin: 1 ms' marks, while the guest spins silently."""
    out = []
    for nth in (1, 2):
        t = vm.wait_line(bg.is_spin1, nth, timeout=TIMEOUT)
        if t is None:
            break
        out.append((t, read(t)))
    bg.check(len(out) == 2, f"{name}: the guest did not reach both marks")
    return out


def guest_result(res, name, frames, size):
    """The guest's time per frame (us) and its doorbell writes, from its net-tx lines."""
    bg.check(res.returncode == 1 and "qlite-test-guest: done" in res.stdout
             and "FAIL" not in res.stdout, f"{name}: the guest did not finish", res)
    f, b, tx, rx = ng.doorbells(res.stdout, "net-tx")
    bg.check((f, b) == (frames, frames * size), f"{name}: the guest sent {f} frames {b} bytes", res)
    m = re.search(r"^net-tx: (\d+) ops, (\d+) us, \d+ ns/op, clock (\S+)", res.stdout, re.M)
    bg.check(m, f"{name}: no 'net-tx: N ops' line", res)
    bg.check(m.group(3) == "cmdline", f"{name}: net-tx was not timed with the tsc-khz given", res)
    return {"guest_us": int(m.group(2)) / frames, "tx_bells": tx, "rx_bells": rx}


def sink_done(peer, name, frames, size):
    rc, out = peer.finish()
    want = f"sink: {frames} frames {frames * size} bytes"
    bg.check(rc == 0 and want in out, f"{name}: net_peer.py status {rc}, '{want}' expected:\n{out}")


def run_qlite(q, g, name, vdev, nic, frames, size, tmp):
    js = os.path.join(tmp, "exits.json")
    peer = ng.Peer(tmp, "sink", str(frames))
    vm = bg.VmRun([q, "run", "--kernel", g, "--ram", "64M", "--cmdline",
                   cmdline("qlite", nic, frames, size), "--vdev",
                   f"{vdev},backend=socket,connect={peer.path}", "--stats-json", js,
                   "--stats-interval", f"{int(bc.INTERVAL_S * 1000)}ms"], tmp)

    def read(t):
        wall = time.time() - (time.monotonic() - t)
        time.sleep(max(0, t + bc.INTERVAL_S * 2.5 - time.monotonic()))
        return bc.snapshot(js, wall)
    try:
        marks = at_marks(vm, read, name)
    finally:
        res = vm.finish(timeout=TIMEOUT)
    sink_done(peer, name, frames, size)
    (t1, a), (t2, b) = marks
    ra, ta, ka = bc.flat(a)
    rb, tb, kb = bc.flat(b)
    return dict(guest_result(res, name, frames, size), vmm="qlite", name=name,
                regs={k: rb[k] - ra.get(k, 0) for k in rb if rb[k] != ra.get(k, 0)},
                totals={k: tb[k] - ta[k] for k in tb}, kvm={k: kb[k] - ka[k] for k in kb},
                host_ms=(t2 - t1) * 1000 - bc.SPIN_MS - 1)


def run_qemu(g, name, qemu, frames, size, tmp):
    nic, devopt = qemu
    machine, device = ng.QEMU_NIC[nic]
    peer = ng.Peer(tmp, "sink", str(frames))
    netdev = f"stream,id=n,server=off,addr.type=unix,addr.path={peer.path}"
    vm = bg.QemuRun(g, cmdline("qemu", nic, frames, size),
                    machine + ["-netdev", netdev, "-device", device + devopt], tmp)
    try:
        qmp = bg.Qmp(vm.qmp_path, time.time() + 60)
        if devopt:
            qtree = qmp.command("human-monitor-command", **{"command-line": "info qtree"})
            bg.check("ioeventfd = false" in qtree, f"{name}: QEMU did not take {devopt}")

        def read(t):
            stats = qmp.vcpu_stats()
            late = time.monotonic() - t
            bg.check(late < bc.SPIN_MS / 1000 * 0.75, f"{name}: QEMU counters read {late:.3f} s "
                     "after the mark")
            return stats
        marks = at_marks(vm, read, name)
        qmp.close()
    finally:
        res = vm.finish(timeout=TIMEOUT)
    sink_done(peer, name, frames, size)
    (t1, a), (t2, b) = marks
    return dict(guest_result(res, name, frames, size), vmm="QEMU", name=name,
                kvm={k: b[k] - a[k] for k in bg.STATS}, host_ms=(t2 - t1) * 1000 - bc.SPIN_MS - 1)


def per(x, frames):
    return f"{x / frames:.3f}"


def report(results, frames, size):
    out = [f"{frames:,} frames of {size} bytes; counts per frame (the window's total / {frames:,})", "",
           "| NIC | VMM | guest TX doorbells | userspace exits | NIC exits | uart exits | KVM exits | "
           "KVM io_exits | KVM mmio_exits | KVM insn_emulation | guest us/frame | host us/frame |",
           "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in results:
        if r["vmm"] == "qlite":
            regs = r["regs"]
            nic = sum(v for (d, reg, _), v in regs.items()
                      if d in NIC_DEVICES and not reg.endswith(" (coalesced)"))
            uart = sum(v for (d, _, _), v in regs.items() if d == "uart8250")
            cols = [per(r["totals"]["exits"], frames), per(nic, frames), per(uart, frames)]
        else:
            cols = ["-", "-", "-"]
        k = r["kvm"]
        out.append(f"| {r['name']} | {r['vmm']} | {per(r['tx_bells'], frames)} | " + " | ".join(cols)
                   + f" | {per(k['exits'], frames)} | {per(k['io_exits'], frames)} | "
                   f"{per(k['mmio_exits'], frames)} | {per(k['insn_emulation'], frames)} | "
                   f"{r['guest_us']:.1f} | {r['host_ms'] * 1000 / frames:.1f} |")
    ql = [r for r in results if r["vmm"] == "qlite"]
    if not ql:
        return "\n".join(out)
    out += ["", "qlite's userspace exits per frame by device and register over the same window "
            "(coalesced writes are no exits; the UART's lines summed in one row):", ""]
    out.append("| device | register | dir | " + " | ".join(r["name"] for r in ql) + " |")
    out.append("|---|---|---|" + "--:|" * len(ql))
    rows = [{} for _ in ql]
    for i, r in enumerate(ql):
        for (d, reg, di), n in r["regs"].items():
            k = (d, "(all)", "") if d == "uart8250" else (d, reg, di)
            rows[i][k] = rows[i].get(k, 0) + n
    keys = sorted({k for row in rows for k in row}, key=lambda k: (k[0] == "uart8250", k))
    for k in keys:
        out.append(f"| {k[0]} | {k[1]} | {k[2]} | " +
                   " | ".join(per(row[k], frames) if row.get(k) else "" for row in rows) + " |")
    out.append("| **all** | | | " + " | ".join(f"**{per(r['totals']['exits'], frames)}**"
                                              for r in ql) + " |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qlite")
    ap.add_argument("guest")
    ap.add_argument("--qemu", action="store_true", default=None,
                    help="also run each NIC under qemu-system-x86_64 (default: when installed)")
    ap.add_argument("--no-qemu", dest="qemu", action="store_false", help="qlite only")
    ap.add_argument("--frames", type=int, default=FRAMES)
    ap.add_argument("--size", type=int, default=SIZE, help="frame size, 60..1514")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_FRAMES} frames")
    ap.add_argument("--only", help="only the runs whose name contains this")
    ap.add_argument("--json", help="write the raw numbers here")
    a = ap.parse_args()
    global TSC_KHZ
    TSC_KHZ = benchlib.tsc_khz()
    frames = QUICK_FRAMES if a.quick else a.frames
    q, g = os.path.abspath(a.qlite), os.path.abspath(a.guest)
    if a.qemu is None:
        a.qemu = bool(shutil.which(bg.QEMU))
        if not a.qemu:
            print(f"{bg.QEMU} not found: qlite only", file=sys.stderr)
    elif a.qemu and not shutil.which(bg.QEMU):
        sys.exit(f"{bg.QEMU} not found")
    results = []
    for name, vdev, nic, qemu in RUNS:
        if a.only and a.only not in name:
            continue
        with tempfile.TemporaryDirectory() as d:
            r = run_qlite(q, g, name, vdev, nic, frames, a.size, d)
        results.append(r)
        print(f"qlite {name}: {r['totals']['exits']:,} exits, {r['host_ms']:,.0f} ms", file=sys.stderr)
        if a.qemu and qemu:
            with tempfile.TemporaryDirectory() as d:
                r = run_qemu(g, name, qemu, frames, a.size, d)
            results.append(r)
            print(f"QEMU {name}: {r['kvm']['exits']:,} KVM exits, {r['host_ms']:,.0f} ms",
                  file=sys.stderr)
    print(report(results, frames, a.size))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"schema": "qlite-bench-net-compare/1", "frames": frames, "size": a.size,
                       "tsc_khz": TSC_KHZ,
                       "clocks": {"guest_us": benchlib.GUEST_CLOCK + ", around the sends",
                                  "host_ms": "host CLOCK_MONOTONIC between the marks - 401 ms"},
                       "results": [dict(r, regs={" ".join(k): v for k, v in r.get("regs", {}).items()})
                                   for r in results]}, f, indent=1)


if __name__ == "__main__":
    try:
        main()
    except bg.Failure as e:
        sys.exit(f"FAIL: {e}")
