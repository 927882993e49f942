#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration tests of the isa-debug-exit vdev, cross-checked against QEMU.

usage: vdev_test.py QLITE TEST_GUEST CASE

qlite's `vdev isa-debug-exit` (`--vdev isa-debug-exit,iobase=0x501,iosize=2`) is QEMU's device of
the same name: a write of v to one of its ports stops the VM with status (v << 1) | 1. The qlite_*
cases boot guests under qlite; the qemu_* cases boot the same guests under qemu-system-x86_64
(QEMU is the reference implementation) and require the same exit status.

Without a usable /dev/kvm every case is skipped (exit 77); without qemu-system-x86_64 the qemu_*
cases are. In CI (CI=true) both are failures: CI must run the cross-checks.

Guests: the test guest (tests/guest/) writes only index values with pio-write (COUNT=1 writes 0),
so the values other than 0 come from tiny bzImages that write one chosen value to one chosen port
(through their 64-bit entry under qlite, their real-mode setup entry under QEMU's Linux loader).
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

# The helpers of the other integration tests (this directory is sys.path[0]); no __pycache__
# left in the source tree.
sys.dont_write_bytecode = True
from guest_test import Failure, check, make_bzimage, run_case, stop_line
from stats_test import parse_prom, prom_get

QEMU = "qemu-system-x86_64"
QEMU_TIMEOUT = 60  # SeaBIOS alone takes ~5 s on the development host

VDEV = "isa-debug-exit,iobase=0x501,iosize=2"
SCENARIO = "pio-write=0x501,1,1"  # one byte write of 0 to 0x501

# A bzImage guest per row: (port, value, access size, vdev iosize, expected exit status).
# Every status is the low byte of (value << 1) | 1, which QEMU passes to exit().
VALUE_CASES = [
    (0x501, 5, 1, 2, 11),  # the brief's value, first port
    (0x502, 0x2a, 1, 2, 85),  # second port of the default range
    (0x501, 0x105, 2, 2, 11),  # a 16-bit write covering both ports: the whole value (261) counts
    (0x504, 7, 1, 4, 15),  # last port of iosize 4
]


def qlite(q, sub, args, timeout=60):
    return subprocess.run([q, sub] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                  text=True, errors="replace", timeout=timeout)


def guest(g, cmdline, extra=()):
    return ["--kernel", g, "--cmdline", cmdline, "--ram", "64M"] + list(extra)


def out_code(port, value, size, long_mode):
    """mov dx, port; mov al/ax/eax, value; out dx, al/ax/eax; hlt; jmp hlt - in 64-bit or 16-bit mode."""
    o16 = b"\x66" if long_mode else b""  # operand-size prefix for 16 bits in long mode
    o32 = b"" if long_mode else b"\x66"  # ... for 32 bits in real mode
    mov_dx = o16 + b"\xBA" + struct.pack("<H", port)
    if size == 1:
        mov, out = b"\xB0" + struct.pack("<B", value), b"\xEE"
    elif size == 2:
        mov, out = o16 + b"\xB8" + struct.pack("<H", value), o16 + b"\xEF"
    else:
        mov, out = o32 + b"\xB8" + struct.pack("<I", value), o32 + b"\xEF"
    return mov_dx + mov + out + b"\xF4\xEB\xFD"


def write_value_image(path, port, value, size):
    """guest_test's minimal bzImage with this write at its 64-bit entry (what qlite enters) and at
    the target of the setup's jump at 0x200 (0x26c, just past the 2.15 header: what QEMU's
    linuxboot ROM enters in real mode)."""
    img = bytearray(make_bzimage(out_code(port, value, size, True)))
    rm = out_code(port, value, size, False)
    img[0x26C:0x26C + len(rm)] = rm
    with open(path, "wb") as f:
        f.write(img)


def devices(data, name):
    return [d for d in data["devices"] if d["device"] == name]


# --- qlite ---

def pio_lines(text):
    """{(first, last): name} of the 'pio' rows of qlite check's device list."""
    return {(int(a, 16), int(b, 16)): n
        for a, b, n in re.findall(r"^\s+pio\s+0x([0-9a-f]{4})-0x([0-9a-f]{4})\s+(\S+)\s*$", text, re.M)}


def case_qlite_check(q, g):
    """qlite check lists the vdev's ports beside the platform's debug-exit port, for the defaults,
    an explicit iosize, a config file, and the config qlite prints back; the DTB has its node."""
    for vdev, last in ((VDEV, 0x502), ("isa-debug-exit", 0x502), ("isa-debug-exit,iobase=0x501,iosize=4", 0x504)):
        res = qlite(q, "check", ["--kernel", g, "--ram", "64M", "--vdev", vdev])
        ports = pio_lines(res.stdout)
        check(res.returncode == 0, f"qlite check --vdev {vdev}", res)
        check(re.search(rf"^\s+pio\s+0x0501-0x{last:04x}\s+isa-debug-exit$", res.stdout, re.M),
              f"--vdev {vdev}: no 'pio 0x0501-0x{last:04x}  isa-debug-exit' line", res)
        check(ports.get((0x501, last)) == "isa-debug-exit" and
              [r for r, n in ports.items() if n == "isa-debug-exit"] == [(0x501, last)],
              f"--vdev {vdev}: isa-debug-exit must claim exactly 0x501-{last:#x}: {ports}", res)
        check(ports.get((0xF4, 0xF7)) == "debug-exit", f"--vdev {vdev}: the platform's 0xf4-0xf7 port is gone", res)
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "vm.conf")
        with open(conf, "w") as f:
            f.write(f"ram 64M\nkernel {g}\nvdev isa-debug-exit iobase 0x501 iosize 4\n")
        res = qlite(q, "check", [conf])
        ports = pio_lines(res.stdout)
        check(res.returncode == 0 and ports.get((0x501, 0x504)) == "isa-debug-exit"
              and ports.get((0xF4, 0xF7)) == "debug-exit", "config file: vdev isa-debug-exit iobase 0x501 iosize 4", res)
        # --print-config writes the vdev back, and the printed file assembles the same ports.
        res = qlite(q, "check", [conf, "--print-config"])
        check(res.returncode == 0 and re.search(r"^vdev\s+isa-debug-exit\b.*\biosize\s+4\b", res.stdout, re.M),
              "--print-config: no vdev isa-debug-exit line with iosize 4", res)
        printed = os.path.join(d, "printed.conf")
        with open(printed, "w") as f:
            f.write(res.stdout)
        res = qlite(q, "check", [printed, "--kernel", g])
        check(res.returncode == 0 and pio_lines(res.stdout) == ports, "the printed config assembles other ports", res)
        if shutil.which("dtc"):
            dtb = os.path.join(d, "m.dtb")
            res = qlite(q, "check", [conf, "--dtb", dtb])
            check(res.returncode == 0, "qlite check --dtb", res)
            res = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", dtb], capture_output=True, text=True)
            node = re.search(r"isa-debug-exit@i501 \{([^}]*)\}", res.stdout)
            check(node and re.search(r"reg = <0x00 0x501 0x00 0x04>;", node.group(1))
                  and 'qlite,space = "pio";' in node.group(1), "DTB: isa-debug-exit@i501 with reg 0x501 size 4", res)


def case_qlite_exit(q, g):
    """The test guest writes 0 to 0x501: the vdev stops it with status 1 before it finishes,
    the stop line names isa-debug-exit, and every report attributes that one write to it."""
    with tempfile.TemporaryDirectory() as d:
        js, prom = os.path.join(d, "exits.json"), os.path.join(d, "exits.prom")
        res = qlite(q, "run", guest(g, SCENARIO, ["--vdev", VDEV, "--stats-json", js, "--stats-prom", prom]))
        check(res.returncode == 1, "status must be (0 << 1) | 1 = 1", res)
        check("(debug-exit: guest wrote 0 to the isa-debug-exit port)" in stop_line(res),
              "the stop line must name the isa-debug-exit port", res)
        check("qlite-test-guest: done" not in res.stdout and "pio-write:" not in res.stdout,
              "the guest ran on after its write to 0x501 (status 1 came from 0xf4)", res)
        with open(js) as f:
            data = json.load(f)
        with open(prom) as f:
            series = parse_prom(f.read())
        ide = devices(data, "isa-debug-exit")
        check(len(ide) == 1, f"json: {len(ide)} isa-debug-exit devices", res)
        ide = ide[0]
        check((ide["bus"], ide["base"], ide["size"]) == ("pio", 0x501, 2), f"json: isa-debug-exit region {ide}", res)
        check((ide["reads"], ide["writes"], ide["transfers"]) == (0, 1, 1),
              f"json: isa-debug-exit reads/writes/transfers {ide['reads'], ide['writes'], ide['transfers']} != (0, 1, 1)", res)
        regs = {(r["register"], r["dir"]): r["exits"] for r in ide["registers"]}
        check(sum(n for (_, dr), n in regs.items() if dr == "write") == 1 and regs.get(("EXIT", "write")) == 1,
              f"json: the write must be the EXIT register's: {regs}", res)
        check(all(x["writes"] == 0 for x in devices(data, "debug-exit")), "json: a write to the platform's 0xf4", res)
        pio_dev = sum(x["reads"] + x["writes"] for x in data["devices"] if x["bus"] == "pio")
        io = data["vcpus"][0]["reasons"].get("io", {}).get("exits")
        check(io == pio_dev and data["unclaimed"]["pio_writes"] == 0,
              f"json: io exits {io} != PIO exits attributed to devices {pio_dev}", res)
        got = prom_get(series, "qlite_device_exits_total", device="isa-debug-exit", register="EXIT", dir="write")
        check(got == 1, f"prom: isa-debug-exit EXIT writes {got} != 1", res)

    # Control: without the vdev the same write is unclaimed and the guest finishes through 0xf4.
    res = qlite(q, "run", guest(g, SCENARIO))
    check(res.returncode == 1 and "qlite-test-guest: done" in res.stdout
          and "guest wrote 0 to the debug-exit port" in stop_line(res)
          and "unclaimed pio 0 reads 1 writes" in stop_line(res), "without the vdev 0x501 is unclaimed", res)
    # Just past the range (iosize 2: 0x501-0x502) nothing is claimed either.
    res = qlite(q, "run", guest(g, "pio-write=0x503,1,1 pio-write=0x500,1,1", ["--vdev", VDEV]))
    check(res.returncode == 1 and "qlite-test-guest: done" in res.stdout
          and "unclaimed pio 0 reads 2 writes" in stop_line(res), "0x500 and 0x503 lie outside 0x501-0x502", res)
    # The example config: finishes through 0xf4 as written, stops at the vdev when asked to.
    conf = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "configs", "isa-debug-exit.conf")
    res = qlite(q, "run", [conf, "--kernel", g, "--cmdline", SCENARIO])
    check(res.returncode == 1 and "isa-debug-exit port" in stop_line(res), "configs/isa-debug-exit.conf", res)


def case_qlite_values(q, g):
    """Guests writing chosen values: status (v << 1) | 1 (low byte), the stop line gives v."""
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "bzImage")
        for port, value, size, iosize, status in VALUE_CASES:
            write_value_image(img, port, value, size)
            res = qlite(q, "run", ["--kernel", img, "--ram", "64M",
                           "--vdev", f"isa-debug-exit,iobase=0x501,iosize={iosize}"])
            what = f"{size}-byte write of {value:#x} to {port:#x} (iosize {iosize})"
            check(res.returncode == status, f"{what}: status must be {status}", res)
            check(f"(debug-exit: guest wrote {value} to the isa-debug-exit port)" in stop_line(res),
                  f"{what}: the stop line must say it wrote {value} to isa-debug-exit", res)
            # The stop line's status is the process's: (v << 1) | 1 keeps its low byte.
            check(f", exit status {status}, " in stop_line(res),
                  f"{what}: the stop line must give the status the shell sees ({status})", res)


def case_qlite_duplicate(q, g):
    """Two isa-debug-exit on the same ports, or one on the platform's 0xf4: one error line, the VM
    does not start. A second vdev with the default ports collides when the machine is assembled
    (status 1, 'already in use'); one that spells the same iobase is caught by the config check
    (status 2, 'overlap'). Either is accepted where both could apply."""
    in_use = "isa-debug-exit: cannot claim pio 0x501-0x502: already in use"

    def refused(res, where, pattern, what):
        check(res.returncode in (1, 2), f"{what}: status must be 1 or 2", res)
        errs = [l for l in res.stderr.splitlines() if l.startswith(where + ": ")]
        check(len(errs) == 1 and re.fullmatch(re.escape(where) + ": (?:" + pattern + ")", errs[0]),
              f"{what}: expected one line '{where}: {pattern}'", res)
        check(res.stdout == "" and not stop_line(res), f"{what}: the VM must not start", res)
        return res.returncode

    st = refused(qlite(q, "run", guest(g, "hello", ["--vdev", VDEV, "--vdev", "isa-debug-exit"])),
             "--vdev", re.escape(in_use), "--vdev twice (the second with the defaults)")
    print(f"--vdev twice (defaults): status {st}")
    either = (re.escape(in_use) + "|" +
          r"iobase: ports 0x501-0x502 overlap vdev isa-debug-exit (from --vdev|at \S+:3) \(0x501-0x502\)")
    st = refused(qlite(q, "run", guest(g, "hello", ["--vdev", VDEV, "--vdev", VDEV])),
             "--vdev", either, "--vdev twice (both iobase=0x501)")
    print(f"--vdev twice (explicit): status {st}")
    st = refused(qlite(q, "run", guest(g, "hello", ["--vdev", "isa-debug-exit,iobase=0xf4,iosize=4"])),
             "--vdev", r"isa-debug-exit: cannot claim pio 0xf4-0xf7: already in use|"
             r"iobase: ports 0xf4-0xf7 overlap debug-exit \(0xf4-0xf7\)", "--vdev on the platform's 0xf4")
    print(f"--vdev on 0xf4: status {st}")
    with tempfile.TemporaryDirectory() as d:
        for second, pattern in (("vdev isa-debug-exit", re.escape(in_use)),
                    ("vdev isa-debug-exit iobase 0x501 iosize 2", either)):
            conf = os.path.join(d, "two.conf")
            with open(conf, "w") as f:
                f.write(f"ram 64M\nkernel {g}\nvdev isa-debug-exit iobase 0x501 iosize 2\n{second}\ncmdline hello\n")
            for sub in ("run", "check"):
                st = refused(qlite(q, sub, [conf]), conf + ":4", pattern, f"qlite {sub}, config file with '{second}'")
                print(f"qlite {sub} FILE, line 4 '{second}': status {st}")


# --- QEMU, the reference ---

def qemu_run(kernel, append=None, devices=(), extra=(), nodefaults=False):
    """kernel under QEMU -M pc with these -device arguments; fails on an error of QEMU's own."""
    argv = [QEMU, "-accel", "kvm", "-M", "pc"] + (["-nodefaults"] if nodefaults else []) + [
        "-m", "64", "-display", "none", "-serial", "stdio", "-no-reboot", "-kernel", kernel] + (
        ["-append", append] if append else [])
    for d in devices:
        argv += ["-device", d]
    res = subprocess.run(argv + list(extra), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                 errors="replace", timeout=QEMU_TIMEOUT)
    # QEMU's own errors exit with 1 too: status 1 only counts without one.
    errors = [l for l in res.stderr.splitlines() if l.startswith(QEMU + ":") and "warning:" not in l]
    check(not errors, "QEMU failed: " + "; ".join(errors), res)
    return res


def qemu(kernel, append=None, iosize=2):
    return qemu_run(kernel, append, [f"isa-debug-exit,iobase=0x501,iosize={iosize}",
                                     "isa-debug-exit,iobase=0xf4,iosize=4"])


def case_qemu_exit(q, g):
    """The test guest's write of 0 to 0x501 under QEMU and under qlite: status 1, the guest does not finish."""
    ref = qemu(g, SCENARIO)
    check(ref.returncode == 1 and "qlite-test-guest: done" not in ref.stdout,
          "QEMU: status 1 with the guest stopped at its write to 0x501", ref)
    res = qlite(q, "run", guest(g, SCENARIO, ["--vdev", VDEV]))
    check(res.returncode == ref.returncode and "qlite-test-guest: done" not in res.stdout,
          f"qlite: status {res.returncode}, QEMU {ref.returncode}", res)
    print(f"{SCENARIO}: QEMU {ref.returncode}, qlite {res.returncode}")


def case_qemu_values(q, g):
    """The chosen-value guests under QEMU: the same status as qlite, and as expected."""
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "bzImage")
        for port, value, size, iosize, status in VALUE_CASES:
            write_value_image(img, port, value, size)
            what = f"{size}-byte write of {value:#x} to {port:#x} (iosize {iosize})"
            ref = qemu(img, iosize=iosize)
            res = qlite(q, "run", ["--kernel", img, "--ram", "64M",
                           "--vdev", f"isa-debug-exit,iobase=0x501,iosize={iosize}"])
            print(f"{what}: QEMU {ref.returncode}, qlite {res.returncode}, expected {status}")
            check(ref.returncode == status, f"{what}: QEMU status {ref.returncode} != {status}", ref)
            check(res.returncode == ref.returncode, f"{what}: qlite status {res.returncode} != QEMU's", res)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def qemu_missing(case):
    if case.startswith("qemu_") and not shutil.which(QEMU):
        return f"{QEMU} not found (Debian: qemu-system-x86, installed by scripts/setup.sh)"
    return None


def absolute(case_fn):
    """meson runs this in build/ with relative paths; the config files written here name the
    kernel from another directory."""
    return lambda q, g: case_fn(os.path.abspath(q), os.path.abspath(g))


if __name__ == "__main__":
    sys.exit(run_case({k: absolute(f) for k, f in CASES.items()}, ["QLITE", "GUEST"],
                      qemu_missing))
