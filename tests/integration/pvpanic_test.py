#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration tests of pvpanic and pvpanic-pci, compared with QEMU 7.2.

usage: pvpanic_test.py QLITE TEST_GUEST CASE

A guest that writes PANICKED (1) to the register stops qlite with "guest panicked" and exit
status 6; the register reads the supported events (3); CRASH_LOADED (2), unknown bits and 0 let
the guest run on. The qlite_* cases boot the test guest and tiny bzImages under qlite; the qemu_*
cases boot the same guests under qemu-system-x86_64 with `-device pvpanic` / `-device
pvpanic-pci`. What QEMU 7.2 does, measured here (and said in README.md):

  event written       QEMU 7.2 (default -action panic=shutdown)    qlite
  PANICKED (1, 3)     guest stopped, QEMU exits 0                   stopped, status 6
  CRASH_LOADED (2)    runs on                                       runs on (said once)
  0, unknown bits     runs on                                       runs on (unknown: said once)
  read                3                                             3
  outw to 0x505       its low byte reaches the device               unclaimed (a 1-port region)

`-action panic=exit-failure` makes QEMU exit 1, `panic=pause` (or `-no-shutdown`) pauses it for
good, `panic=none` runs on. Without a usable /dev/kvm every case is skipped (exit 77); without
QEMU the qemu_* cases are; with CI=true both fail.
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
from guest_test import check, make_bzimage, run_case, stop_line
from vdev_test import devices, qemu_missing, qemu_run

PORT = 0x505
PANIC_STATUS = 6


def qlite(q, sub, args, timeout=60):
    return subprocess.run([q, sub] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace", timeout=timeout)


def guest(g, cmdline, extra=()):
    return ["--kernel", g, "--cmdline", cmdline, "--ram", "64M"] + list(extra)


# --- tiny guests: a sequence of port I/O, in long mode (qlite) and real mode (QEMU's setup entry) ---

def io_code(ops, long_mode):
    """ops: ("out", port, byte) or ("report", port): read a byte from port and write it to the
    debug-exit port 0xf4 (status (v << 1) | 1). Then hlt forever."""
    o16 = b"\x66" if long_mode else b""
    code = b""
    for op in ops:
        code += o16 + b"\xBA" + struct.pack("<H", op[1])          # mov dx, port
        if op[0] == "out":
            code += b"\xB0" + bytes([op[2]]) + b"\xEE"            # mov al, v; out dx, al
        else:
            code += b"\xEC\xE6\xF4"                               # in al, dx; out 0xf4, al
    return code + b"\xF4\xEB\xFD"


def io_image(path, ops):
    """guest_test's minimal bzImage with ops at its 64-bit entry (qlite) and at 0x26c, where
    QEMU's linuxboot ROM enters the setup code in real mode."""
    img = bytearray(make_bzimage(io_code(ops, True)))
    rm = io_code(ops, False)
    img[0x26C:0x26C + len(rm)] = rm
    with open(path, "wb") as f:
        f.write(img)


def mmio_read_image(path, addr):
    """Long mode only (qlite): mov al, [addr]; out 0xf4, al."""
    with open(path, "wb") as f:
        f.write(make_bzimage(b"\xA0" + struct.pack("<Q", addr) + b"\xE6\xF4\xF4\xEB\xFD"))


# (name, ops, status under QEMU 7.2, status under qlite, a line qlite says)
IO_CASES = [
    ("read", [("report", PORT)], 7, 7, None),
    ("panicked", [("out", PORT, 1), ("out", 0xF4, 0x10)], 0, PANIC_STATUS, None),
    ("both-bits", [("out", PORT, 3), ("out", 0xF4, 0x12)], 0, PANIC_STATUS, None),
    ("crash-loaded", [("out", PORT, 2), ("out", 0xF4, 0x11)], 0x23, 0x23,
     "qlite: pvpanic: guest panicked with a crash kernel loaded: it runs on (kdump)"),
    ("unknown", [("out", PORT, 8), ("out", 0xF4, 0x13)], 0x27, 0x27,
     "qlite: pvpanic: guest wrote 0x8: bits 0x8 are no event; ignored"),
    ("zero", [("out", PORT, 0), ("out", 0xF4, 0x14)], 0x29, 0x29, None),
]


def pci_bar(text):
    """(addr, size) of the pvpanic-pci BAR0 in the test guest's `pci` listing."""
    m = re.search(r"^pci \S+ 1b36:0011 class 088000 bar0 mem (0x[0-9a-f]+)\+(0x[0-9a-f]+)", text, re.M)
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def check_panicked(res, name, what):
    check(res.returncode == PANIC_STATUS, f"{what}: status must be {PANIC_STATUS}", res)
    check(f"(panic: guest panicked ({name} event 0x1)), exit status {PANIC_STATUS}," in stop_line(res),
          f"{what}: the stop line must say the guest panicked", res)
    check("qlite-test-guest: done" not in res.stdout, f"{what}: the guest ran on after its panic", res)


# --- qlite ---

def case_qlite_isa(q, g):
    """The test guest writes 0 then 1 to 0x505 (pio-write's values are the indexes): the second
    stops qlite; the reports give the pvpanic port exactly those two writes and three reads."""
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "exits.json")
        res = qlite(q, "run", guest(g, "pio-read=0x505,3 pio-write=0x505,2,1",
                                    ["--vdev", "pvpanic", "--stats-json", js]))
        check_panicked(res, "pvpanic", "pio-write=0x505,2,1")
        with open(js) as f:
            data = json.load(f)
        pv = devices(data, "pvpanic")
        check(len(pv) == 1 and (pv[0]["bus"], pv[0]["base"], pv[0]["size"]) == ("pio", PORT, 1),
              f"json: one pvpanic region at pio 0x505, 1 port: {pv}", res)
        regs = {(r["register"], r["dir"]): r["exits"] for r in pv[0]["registers"]}
        check(regs == {("EVENTS", "read"): 3, ("EVENTS", "write"): 2},
              f"json: EVENTS 3 reads, 2 writes: {regs}", res)
        check(data["unclaimed"]["pio_writes"] == 0 and data["unclaimed"]["pio_reads"] == 0,
              "json: nothing unclaimed", res)
    # A write of 0 alone is no event: the guest finishes.
    res = qlite(q, "run", guest(g, "pio-write=0x505,1,1", ["--vdev", "pvpanic"]))
    check(res.returncode == 1 and "qlite-test-guest: done" in res.stdout, "a write of 0 is no event", res)
    # Without the vdev the port is nobody's.
    res = qlite(q, "run", guest(g, "pio-write=0x505,2,1"))
    check(res.returncode == 1 and "unclaimed pio 0 reads 2 writes" in stop_line(res),
          "without the vdev 0x505 is unclaimed", res)
    # Elsewhere with iobase; 16-bit writes straddle the 1-port region (QEMU differs: see above).
    res = qlite(q, "run", guest(g, "pio-write=0x505,2,1 pio-write=0x700,2,2 pio-write=0x700,2,1",
                                ["--vdev", "pvpanic,iobase=0x700"]))
    check_panicked(res, "pvpanic", "iobase 0x700")
    check("unclaimed pio 0 reads 4 writes" in stop_line(res),
          "0x505 unclaimed and the 16-bit writes at 0x700 too", res)


def case_qlite_values(q, g):
    """Tiny guests writing each event (and reading the register) under qlite."""
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "bzImage")
        for name, ops, _, status, line in IO_CASES:
            io_image(img, ops)
            res = qlite(q, "run", ["--kernel", img, "--ram", "64M", "--vdev", "pvpanic"])
            check(res.returncode == status, f"{name}: status must be {status}", res)
            if status == PANIC_STATUS:
                check("(panic: guest panicked (pvpanic event " in stop_line(res), f"{name}: stop line", res)
            if line:
                check(res.stderr.count(line) == 1, f"{name}: qlite says '{line}' once", res)


def case_qlite_pci(q, g):
    """pvpanic-pci as Linux finds it: 1b36:0011 class 088000, BAR0 memory; a write of 1 to BAR0
    stops qlite, a read gives 3, and so do writes at its second byte (QEMU's 2-byte window)."""
    res = qlite(q, "run", guest(g, "pci", ["--vdev", "pvpanic-pci"]))
    bar = pci_bar(res.stdout)
    check(res.returncode == 1 and bar == (0xC0000000, 0x1000), "pci: pvpanic-pci at 00:01.0, BAR0 0xc0000000+0x1000", res)
    res = qlite(q, "run", guest(g, "mmio-write=0xc0000000,2,1", ["--vdev", "pvpanic-pci"]))
    check_panicked(res, "pvpanic-pci", "mmio-write=0xc0000000,2,1")
    res = qlite(q, "run", guest(g, "mmio-write=0xc0000001,2,1", ["--vdev", "pvpanic-pci"]))
    check_panicked(res, "pvpanic-pci", "mmio-write=0xc0000001,2,1")
    res = qlite(q, "run", guest(g, "mmio-write=0xc0000002,2,1 mmio-write=0xc0000fff,2,1", ["--vdev", "pvpanic-pci"]))
    check(res.returncode == 1 and "qlite-test-guest: done" in res.stdout, "beyond the register the BAR ignores writes", res)
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "bzImage")
        mmio_read_image(img, 0xC0000000)
        res = qlite(q, "run", ["--kernel", img, "--ram", "64M", "--vdev", "pvpanic-pci"])
        check(res.returncode == 7, "a read of BAR0 gives 3 (status 7)", res)


def case_qlite_check(q, g):
    """qlite check lists both; the ISA port collides with a device on 0x505."""
    res = qlite(q, "check", ["--kernel", g, "--vdev", "pvpanic", "--vdev", "pvpanic-pci"])
    check(res.returncode == 0 and re.search(r"^\s+pio\s+0x0505-0x0505\s+pvpanic$", res.stdout, re.M)
          and re.search(r"^\s+pci\s+00:01\.0\s+1b36:0011\s+pvpanic-pci$", res.stdout, re.M)
          and re.search(r"^\s+mmio\s+0xc0000000-0xc0000fff\s+pvpanic-pci$", res.stdout, re.M),
          "qlite check: pvpanic at 0x505, pvpanic-pci at 00:01.0 with its BAR", res)
    res = qlite(q, "check", ["--kernel", g, "--vdev", "isa-debug-exit,iobase=0x504,iosize=2", "--vdev", "pvpanic"])
    check(res.returncode in (1, 2) and "pvpanic" in res.stderr and not res.stdout,
          "pvpanic on a port another device has: refused", res)
    res = qlite(q, "check", ["--kernel", g, "--vdev", "pvpanic-pci,iobase=0x600"])
    check(res.returncode == 2 and 'unknown option "iobase" for pvpanic-pci' in res.stderr,
          "pvpanic-pci takes no options", res)


# --- QEMU, the reference ---

def qemu(kernel, device, append=None, extra=()):
    return qemu_run(kernel, append, ["isa-debug-exit,iobase=0xf4,iosize=4", device], extra,
                    nodefaults=True)


def case_qemu_isa(q, g):
    """The same guests under QEMU's -device pvpanic: the same reads and the same events acted on;
    PANICKED ends QEMU with 0 by default (1 with -action panic=exit-failure), qlite with 6."""
    ref = qemu(g, "pvpanic", "pio-write=0x505,2,1")
    check(ref.returncode == 0 and "qlite-test-guest: done" not in ref.stdout,
          "QEMU: the guest stopped at its PANICKED write, status 0 (panic=shutdown)", ref)
    ref = qemu(g, "pvpanic", "pio-write=0x505,2,1", ["-action", "panic=exit-failure"])
    check(ref.returncode == 1 and "qlite-test-guest: done" not in ref.stdout,
          "QEMU -action panic=exit-failure: status 1", ref)
    ref = qemu(g, "pvpanic", "pio-write=0x505,2,1", ["-action", "panic=none"])
    check(ref.returncode == 1 and "qlite-test-guest: done" in ref.stdout, "QEMU -action panic=none: runs on", ref)
    res = qlite(q, "run", guest(g, "pio-write=0x505,2,1", ["--vdev", "pvpanic"]))
    check_panicked(res, "pvpanic", "qlite")
    print(f"pio-write=0x505,2,1: QEMU 0 (panic=shutdown), 1 (panic=exit-failure); qlite {res.returncode}")
    # The one difference in what reaches the device: a 16-bit write at the 1-port region.
    ref = qemu(g, "pvpanic", "pio-write=0x505,2,2")
    res = qlite(q, "run", guest(g, "pio-write=0x505,2,2", ["--vdev", "pvpanic"]))
    check(ref.returncode == 0 and res.returncode == 1 and "unclaimed pio 0 reads 2 writes" in stop_line(res),
          "outw 0x505: QEMU hands its low byte to pvpanic (status 0), qlite leaves it unclaimed", res)
    print(f"pio-write=0x505,2,2 (outw): QEMU {ref.returncode}, qlite {res.returncode} (unclaimed)")
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "bzImage")
        for name, ops, qemu_status, qlite_status, _ in IO_CASES:
            io_image(img, ops)
            ref = qemu(img, "pvpanic")
            res = qlite(q, "run", ["--kernel", img, "--ram", "64M", "--vdev", "pvpanic"])
            print(f"{name}: QEMU {ref.returncode}, qlite {res.returncode}")
            check(ref.returncode == qemu_status, f"{name}: QEMU status {ref.returncode} != {qemu_status}", ref)
            check(res.returncode == qlite_status, f"{name}: qlite status {res.returncode} != {qlite_status}", res)


def case_qemu_pci(q, g):
    """-device pvpanic-pci: the test guest finds 1b36:0011 with a memory BAR0 under both; a write
    of 1 to its first or second byte stops both (QEMU 0, qlite 6), past them neither."""
    ref = qemu(g, "pvpanic-pci", "pci")
    bar = pci_bar(ref.stdout)
    check(ref.returncode == 1 and bar, "QEMU: the test guest lists pvpanic-pci with BAR0", ref)
    addr, size = bar
    print(f"QEMU: pvpanic-pci BAR0 {addr:#x}+{size:#x}; qlite: 0xc0000000+0x1000")
    for off in (0, 1):
        ref = qemu(g, "pvpanic-pci", f"mmio-write={addr + off:#x},2,1")
        check(ref.returncode == 0 and "qlite-test-guest: done" not in ref.stdout,
              f"QEMU: a write of 1 at BAR0+{off} stops it (status 0)", ref)
        res = qlite(q, "run", guest(g, f"mmio-write={0xC0000000 + off:#x},2,1", ["--vdev", "pvpanic-pci"]))
        check_panicked(res, "pvpanic-pci", f"qlite, BAR0+{off}")
    ref = qemu(g, "pvpanic-pci", f"mmio-write={addr + 2:#x},2,1")
    check(ref.returncode == 1 and "qlite-test-guest: done" in ref.stdout, "QEMU: BAR0+2 is no register", ref)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def absolute(case_fn):
    return lambda q, g: case_fn(os.path.abspath(q), os.path.abspath(g))


if __name__ == "__main__":
    sys.exit(run_case({k: absolute(f) for k, f in CASES.items()}, ["QLITE", "GUEST"], qemu_missing))
