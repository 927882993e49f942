#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Kick and notify latency of virtio-blk under qlite and QEMU: the doorbell, the request's round
trip polled, and the interrupt, as the test guest times them.

usage: kick_latency.py QLITE TEST_GUEST [--runs R] [--requests N] [--no-qemu] [--only SUBSTRING]
                       [--json FILE]

Issue 12's kick/notify benchmark (after ACRN's virtio-echo analysis). The test guest's
vblk-kick=N (virtio-blk-pci, MSI-X) and vblk-mmio-kick=ADDR,IOAPIC,PIN,N (virtio-mmio, an
IOAPIC pin, edge) send N GET_ID requests with interrupts asked for, then N polled
(VRING_AVAIL_F_NO_INTERRUPT), one at a time: GET_ID needs no disk I/O, so what is timed is the
way in and the way out. Per request, from just before the doorbell write (guest TSC):

  doorbell   the notify write itself: with ioeventfd KVM signals an eventfd and resumes the
             guest; without it the write exits to the VMM's vCPU thread (polled requests)
  poll       until ring 3 sees the used index move (polled requests): the round trip without
             an interrupt
  irq        until the guest's interrupt handler takes the TSC (its first instruction, in
             ring 0): the round trip with the interrupt
  irq-used   the interrupt-driven requests, until ring 3 sees the used index move: when the
             interrupt is delivered as the guest re-enters, ring 3 sees it after the handler

Derived, not measured: delivery = irq median - poll median (what the interrupt adds to the round
trip; negative when the VMM injects it before the doorbell write returns, as it does when the
request completes inside the exit); device = poll median - doorbell median (from the doorbell
write's return to the used entry being visible: the VMM waking up and serving the request).

Cases, each run once per round, qlite and QEMU alternating case by case (--runs rounds):
  qlite  virtio-blk PCI with ioeventfd on/off x irqfd on/off; virtio-blk MMIO (irq 5, IOAPIC
         pin 5) with both on, irqfd off, ioeventfd off
  QEMU   -M pc virtio-blk-pci,disable-legacy=on: by default (ioeventfd; its main loop serves the
         queue and sends the MSI-X message with KVM_SIGNAL_MSI: like qlite's irqfd=off),
         ioeventfd=off (the vCPU thread serves it and sends the MSI), iothread=io0 (dataplane:
         ioeventfd and an irqfd per vector, like qlite's default); -M microvm virtio-blk-device,
         as it comes (kernel-irqchip=split: QEMU's own IOAPIC, the second one, pin 23) and with
         ioapic2=off,kernel-irqchip=on (KVM's IOAPIC, pin 23, as qlite has it)
QEMU has no irqfd switch for virtio-pci: its MSI-X goes through irqfd only where it sets up guest
notifiers (iothread dataplane, vhost); -global cannot change that, and kernel-irqchip only moves
the IOAPIC/PIC, not how an MSI is sent.

Times are the guest's TSC at the rate KVM_GET_TSC_KHZ reports, given to the guest as tsc-khz=N
(the guest prints `clock cmdline`; any other clock is refused). Per case the table gives, over
the rounds, the smallest per-boot minimum, the median of the per-boot medians and the largest
per-boot maximum. Not part of the test suite; scripts/bench.sh runs it as `kick`.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import benchlib  # noqa: E402

QEMU = "qemu-system-x86_64"
CLASSES = ("doorbell", "poll", "irq", "irq-used")
REQUESTS = 200
TIMEOUT = 180
QLITE_MMIO, QLITE_MMIO_IRQ = 0xFED00000, 5
QEMU_COMMON = ["-accel", "kvm", "-nodefaults", "-m", "64", "-display", "none", "-serial", "stdio",
               "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
MICROVM = ["-global", "virtio-mmio.force-legacy=false"]

# (name, VMM, kicks, interrupts, qlite --vdev options or QEMU arguments, guest word)
# {img} is the disk image; the words get N appended.
CASES = [
    ("virtio-blk PCI", "qlite", "ioeventfd", "irqfd (MSI-X)", ",ioeventfd=on,irqfd=on", "vblk-kick="),
    ("virtio-blk PCI", "QEMU", "ioeventfd", "irqfd (MSI-X, iothread dataplane)",
     ["-M", "pc", "-object", "iothread,id=io0",
      "-device", "virtio-blk-pci,drive=d,disable-legacy=on,iothread=io0"], "vblk-kick="),
    ("virtio-blk PCI irqfd=off", "qlite", "ioeventfd", "KVM_SIGNAL_MSI from the I/O thread",
     ",ioeventfd=on,irqfd=off", "vblk-kick="),
    ("virtio-blk PCI irqfd=off", "QEMU", "ioeventfd", "KVM_SIGNAL_MSI from the main loop (default)",
     ["-M", "pc", "-device", "virtio-blk-pci,drive=d,disable-legacy=on"], "vblk-kick="),
    ("virtio-blk PCI ioeventfd=off", "qlite", "exit, I/O thread serves", "irqfd (MSI-X)",
     ",ioeventfd=off,irqfd=on", "vblk-kick="),
    ("virtio-blk PCI ioeventfd=off,irqfd=off", "qlite", "exit, I/O thread serves",
     "KVM_SIGNAL_MSI from the I/O thread", ",ioeventfd=off,irqfd=off", "vblk-kick="),
    ("virtio-blk PCI ioeventfd=off,irqfd=off", "QEMU", "exit, vCPU thread serves",
     "KVM_SIGNAL_MSI from the vCPU thread",
     ["-M", "pc", "-device", "virtio-blk-pci,drive=d,disable-legacy=on,ioeventfd=off"], "vblk-kick="),
    ("virtio-blk MMIO", "qlite", "ioeventfd", "irqfd (KVM IOAPIC pin 5)",
     f",transport=mmio,irq={QLITE_MMIO_IRQ},ioeventfd=on,irqfd=on",
     f"vblk-mmio-kick={QLITE_MMIO:#x},0xfec00000,{QLITE_MMIO_IRQ},"),
    ("virtio-blk MMIO irqfd=off", "qlite", "ioeventfd", "KVM_IRQ_LINE (KVM IOAPIC pin 5)",
     f",transport=mmio,irq={QLITE_MMIO_IRQ},ioeventfd=on,irqfd=off",
     f"vblk-mmio-kick={QLITE_MMIO:#x},0xfec00000,{QLITE_MMIO_IRQ},"),
    ("virtio-blk MMIO irqfd=off", "QEMU", "ioeventfd", "KVM_IRQ_LINE (KVM IOAPIC pin 23)",
     ["-M", "microvm,ioapic2=off,kernel-irqchip=on"] + MICROVM +
     ["-device", "virtio-blk-device,drive=d"], "vblk-mmio-kick=0xfeb00e00,0xfec00000,23,"),
    ("virtio-blk MMIO split irqchip", "QEMU", "ioeventfd", "QEMU's IOAPIC (2nd, pin 23), then an MSI",
     ["-M", "microvm"] + MICROVM + ["-device", "virtio-blk-device,drive=d"],
     "vblk-mmio-kick=0xfeb02e00,0xfec10000,23,"),
    ("virtio-blk MMIO ioeventfd=off", "qlite", "exit, I/O thread serves", "irqfd (KVM IOAPIC pin 5)",
     f",transport=mmio,irq={QLITE_MMIO_IRQ},ioeventfd=off,irqfd=on",
     f"vblk-mmio-kick={QLITE_MMIO:#x},0xfec00000,{QLITE_MMIO_IRQ},"),
]
LINE = re.compile(r"^(vblk(?:-mmio)?-kick): (doorbell|poll|irq|irq-used) cycles min (\d+) median (\d+) "
                  r"max (\d+), clock (\S+)$", re.M)


class Failure(Exception):
    pass


def argv(case, qlite, guest, img, cmdline):
    name, vmm, _, _, opts, _ = case
    if vmm == "qlite":
        return [qlite, "run", "--kernel", guest, "--ram", "64M", "--cmdline", cmdline,
                "--vdev", f"virtio-blk,file={img}" + opts]
    return ([QEMU] + QEMU_COMMON + ["-drive", f"if=none,id=d,file={img},format=raw,aio=io_uring"] +
            opts + ["-kernel", guest, "-append", cmdline])


def parse(out, word, n):
    """{class: {min, median, max}} in cycles from the guest's lines; the clock must be cmdline."""
    got = {}
    for w, cls, lo, med, hi, clock in LINE.findall(out):
        if w != word:
            continue
        if clock != "cmdline":
            raise Failure(f"'{word}' timed with clock {clock}, not the tsc-khz given")
        got[cls] = {"min": int(lo), "median": int(med), "max": int(hi)}
    if set(got) != set(CLASSES):
        raise Failure(f"'{word}': lines for {sorted(got)}, expected {list(CLASSES)}:\n{out}")
    if not re.search(rf"^{word}: {2 * n} ops, \d+ us, \d+ ns/op, clock cmdline$", out, re.M):
        raise Failure(f"'{word}': no '{2 * n} ops' line:\n{out}")
    return got


def run_case(case, qlite, guest, n, tsc_khz, tmp):
    word = case[5].split("=")[0]
    img = os.path.join(tmp, "disk.img")
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    cmdline = f"tsc-khz={tsc_khz} {case[5]}{n}"
    av = argv(case, qlite, guest, img, cmdline)
    try:
        p = subprocess.run(av, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"{case[1]} {case[0]}: no end after {TIMEOUT} s: {av}") from e
    if p.returncode != 1 or "qlite-test-guest: done" not in p.stdout:
        raise Failure(f"{case[1]} {case[0]}: status {p.returncode}\n{' '.join(av)}\n{p.stdout}\n"
                      f"{p.stderr[-2000:]}")
    return parse(p.stdout, word, n)


def us(cycles, khz):
    return cycles / khz * 1000


def fold(runs):
    """Over the rounds: min of the minima, median of the medians, max of the maxima (cycles)."""
    return {c: {"min": min(r[c]["min"] for r in runs),
                "median": statistics.median(r[c]["median"] for r in runs),
                "max": max(r[c]["max"] for r in runs)} for c in CLASSES}


def cell(s, khz):
    return (f"{us(s['min'], khz):,.1f} / {us(s['median'], khz):,.1f} / {us(s['max'], khz):,.0f} "
            f"({s['median']:,.0f})")


def table(results, khz):
    out = ["| case | VMM | kicks | interrupts | " +
           " | ".join(f"{c} us min / med / max (cycles med)" for c in CLASSES) +
           " | device = poll - doorbell (us, medians) | delivery = irq - poll (us, medians) |",
           "|---|---|---|---|" + "--:|" * (len(CLASSES) + 2)]
    for r in results:
        f = r["folded"]
        dev = us(f["poll"]["median"] - f["doorbell"]["median"], khz)
        dly = us(f["irq"]["median"] - f["poll"]["median"], khz)
        out.append(f"| {r['name']} | {r['vmm']} | {r['kicks']} | {r['interrupts']} | " +
                   " | ".join(cell(f[c], khz) for c in CLASSES) + f" | {dev:,.1f} | {dly:,.1f} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("qlite")
    ap.add_argument("guest")
    ap.add_argument("--runs", type=int, default=5, help="rounds: boots per case (default 5)")
    ap.add_argument("--requests", type=int, default=REQUESTS,
                    help=f"GET_ID requests each way per boot (default {REQUESTS})")
    ap.add_argument("--no-qemu", action="store_true", help="qlite only")
    ap.add_argument("--only", help="only the cases whose name contains this")
    ap.add_argument("--json", help="write the numbers here")
    a = ap.parse_args()
    if a.runs < 1 or not 1 <= a.requests <= 4096:
        ap.error("--runs must be at least 1 and --requests 1..4096")
    vmms = ("qlite",) if a.no_qemu else ("qlite", "QEMU")
    if "QEMU" in vmms and not shutil.which(QEMU):
        sys.exit(f"{QEMU} not found (--no-qemu to run qlite alone)")
    cases = [c for c in CASES if c[1] in vmms and (not a.only or a.only in c[0])]
    if not cases:
        sys.exit("no case left to run")
    khz = benchlib.tsc_khz()
    q, g = os.path.abspath(a.qlite), os.path.abspath(a.guest)
    runs = {i: [] for i in range(len(cases))}
    loads = [os.getloadavg()[0]]
    for rnd in range(a.runs):
        for i, case in enumerate(cases):
            with tempfile.TemporaryDirectory() as tmp:
                r = run_case(case, q, g, a.requests, khz, tmp)
            runs[i].append(r)
            print(f"round {rnd + 1}/{a.runs} {case[1]} {case[0]}: " +
                  ", ".join(f"{c} {us(r[c]['median'], khz):.1f}" for c in CLASSES) + " us (medians)",
                  file=sys.stderr)
        loads.append(os.getloadavg()[0])
    results = [{"name": c[0], "vmm": c[1], "kicks": c[2], "interrupts": c[3],
                "word": c[5] + str(a.requests), "runs": runs[i], "folded": fold(runs[i])}
               for i, c in enumerate(cases)]
    print(f"clock: {benchlib.GUEST_CLOCK}, tsc-khz={khz} (1 us = {khz / 1000:,.0f} cycles); "
          f"{a.requests} GET_ID requests each way per boot, {a.runs} boot(s) per case, cases "
          f"alternating qlite/QEMU; min = smallest per-boot minimum, med = median of the per-boot "
          f"medians, max = largest per-boot maximum; 1-min load average "
          f"{min(loads):.1f}-{max(loads):.1f}")
    print(table(results, khz))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"schema": "qlite-bench-kick-latency/1", "tsc_khz": khz,
                       "clock": benchlib.GUEST_CLOCK, "requests": a.requests, "runs": a.runs,
                       "classes": list(CLASSES), "units": "guest TSC cycles",
                       "load": {"min": min(loads), "max": max(loads)},
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        sys.exit(f"FAIL: {e}")
