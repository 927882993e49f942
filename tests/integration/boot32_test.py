#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration tests of the 32-bit boot formats: multiboot v1 (ELF32 and a.out kludge) and
32-bit PVH ELF kernels, cross-checked against QEMU.

usage: boot32_test.py QLITE MULTIBOOT_ELF AOUT_BIN PVH32_ELF CASE

The guests (tests/guest/boot32/) check what their loader gave them (magic, info flags, memory
sizes and map, command line, modules) and print it on COM1: `cmdline: ...`, `loader: ...`,
`mod N: SIZE bytes, sum SUM, 'STRING'`, then `qlite-boot32: ok` and a write of 0 to the
debug-exit port at 0xf4 (status 1), or `FAIL why` and the check's number. The qemu_* cases boot
the same guests with the same modules under qemu-system-x86_64 -M pc, the reference, and require
the same lines (all but the boot loader's name) and status. The *_multiboot_bios cases have the
multiboot guest check the firmware state (`bios=1 irq14=1`, with pc-testdev): the PICs, PIT
channel 0, the IVT, and in real mode the BDA tick count and a slave IRQ's acknowledgement.

Without a usable /dev/kvm every case is skipped (exit 77); without qemu-system-x86_64 the qemu_*
cases are. In CI (CI=true) both are failures.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
from guest_test import check, run_case, stop_line

QEMU = "qemu-system-x86_64"
QEMU_TIMEOUT = 60


def qlite(q, sub, args, timeout=60):
    return subprocess.run([q, sub] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace", timeout=timeout)


def qemu(kernel, append, initrd=None, extra=()):
    argv = [QEMU, "-accel", "kvm", "-M", "pc", "-nodefaults", "-m", "64", "-display", "none",
            "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-kernel", kernel, "-append", append] + (["-initrd", initrd] if initrd else []) + \
        list(extra)
    res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         errors="replace", timeout=QEMU_TIMEOUT)
    errors = [l for l in res.stderr.splitlines() if l.startswith(QEMU + ":") and "warning:" not in l]
    check(not errors, "QEMU failed: " + "; ".join(errors), res)
    return res


def guest_lines(out):
    """What the guest said, from its first line on, without the boot loader's name."""
    lines = [l.rstrip("\r") for l in out.splitlines()]
    start = next((i for i, l in enumerate(lines) if l.startswith("qlite-boot32:")), len(lines))
    return [l for l in lines[start:] if not l.startswith("loader:")]


def write_modules(d):
    """Three module files of known bytes: (path, bytes) each."""
    mods = []
    for i, size in enumerate((5000, 3, 4097)):
        data = bytes((i * 31 + j * 7) & 0xFF for j in range(size))
        path = os.path.join(d, f"mod{i}.bin")
        with open(path, "wb") as f:
            f.write(data)
        mods.append((path, data))
    return mods


def mod_line(i, data, string=None):
    return f"mod {i}: {len(data)} bytes, sum {sum(data)}" + (f", '{string}'" if string else "")


def passed(res, kind, what):
    check(res.returncode == 1 and f"qlite-boot32: {kind}" in res.stdout
          and "qlite-boot32: ok" in res.stdout, f"{what}: the guest's checks must pass (status 1)", res)


def case_qlite_multiboot(q, mb, aout, pvh):
    """The ELF32 multiboot guest: its command line is its path and ours, the loader is qlite."""
    res = qlite(q, "run", ["--kernel", mb, "--cmdline", "hello mods=0", "--ram", "64M"])
    passed(res, "multiboot", "multiboot ELF32")
    check(f"cmdline: {mb} hello mods=0" in res.stdout, "the multiboot command line", res)
    check("loader: qlite" in res.stdout, "boot_loader_name is qlite", res)
    check("debug-exit" in stop_line(res), "stop line names debug-exit", res)


def case_qlite_multiboot_modules(q, mb, aout, pvh):
    """--initrd is the first module, --module and `module` lines follow with their strings."""
    with tempfile.TemporaryDirectory() as d:
        (p0, d0), (p1, d1), (p2, d2) = write_modules(d)
        conf = os.path.join(d, "mb.conf")
        with open(conf, "w") as f:
            f.write(f"kernel {mb}\nram 64M\ninitrd {p0}\nmodule {p1} arg=1 two\n")
        res = qlite(q, "run", [conf, "--module", f"{p2} x", "--cmdline", "mods=3"])
        passed(res, "multiboot", "three modules")
        want = [mod_line(0, d0, p0), mod_line(1, d1, f"{p1} arg=1 two"), mod_line(2, d2, f"{p2} x")]
        got = [l for l in guest_lines(res.stdout) if l.startswith("mod ")]
        check(got == want, f"modules {got} != {want}", res)
        chk = qlite(q, "check", [conf, "--module", f"{p2} x"])
        check(chk.returncode == 0 and f"module {p1}, module {p2}" in chk.stdout,
              "qlite check lists the modules", chk)


def case_qlite_aout(q, mb, aout, pvh):
    """The flat binary: loaded by the a.out kludge addresses alone."""
    with tempfile.TemporaryDirectory() as d:
        (p0, d0), _, _ = write_modules(d)
        res = qlite(q, "run", ["--kernel", aout, "--initrd", p0, "--cmdline", "mods=1", "--ram", "64M"])
        passed(res, "multiboot", "a.out kludge")
        check(mod_line(0, d0, p0) in res.stdout, "the module", res)


def case_qlite_pvh32(q, mb, aout, pvh):
    """The 32-bit PVH ELF: start info, memory map, command line; the initrd and a module."""
    with tempfile.TemporaryDirectory() as d:
        (p0, d0), (p1, d1), _ = write_modules(d)
        res = qlite(q, "run", ["--kernel", pvh, "--initrd", p0, "--module", f"{p1} m1",
                               "--cmdline", "hello mods=2", "--ram", "64M"])
        passed(res, "pvh", "32-bit PVH")
        check("cmdline: hello mods=2" in res.stdout, "the PVH command line", res)
        want = [mod_line(0, d0), mod_line(1, d1, f"{p1} m1")]
        got = [l for l in guest_lines(res.stdout) if l.startswith("mod ")]
        check(got == want, f"modules {got} != {want}", res)


def case_qlite_refused(q, mb, aout, pvh):
    """Broken multiboot headers: one line and status 1, from run and check alike."""
    with open(aout, "rb") as f:
        good = f.read()
    bad_sum = good[:8] + b"\0\0\0\0" + good[12:]
    flags = 0x10000 | 0x3 | 0x20        # bit 5: required, unknown to qlite
    unknown = good[:4] + flags.to_bytes(4, "little") + \
        ((-(0x1BADB002 + flags)) & 0xFFFFFFFF).to_bytes(4, "little") + good[12:]
    with tempfile.TemporaryDirectory() as d:
        for name, data, line in (
                ("sum.bin", bad_sum, "multiboot header at 0 has a wrong checksum"),
                ("flags.bin", unknown, "multiboot header requires features qlite does not have "
                 "(flags 0x10023, unknown required bits 0x20)"),
                ("cut.bin", good[:20], "truncated multiboot header at 0")):
            path = os.path.join(d, name)
            with open(path, "wb") as f:
                f.write(data)
            for sub in ("run", "check"):
                res = qlite(q, sub, ["--kernel", path, "--ram", "64M"])
                check(res.returncode == 1 and len(res.stderr.splitlines()) == 1
                      and res.stderr.startswith(f"qlite: {path}: {line}"),
                      f"qlite {sub} {name}: status 1 and one line '{line}'", res)


def compare(q, kernel, kind, append, mods, qlite_extra=(), qemu_extra=()):
    """The same guest, command line and modules under QEMU and qlite: the same lines."""
    args = ["--kernel", kernel, "--cmdline", append, "--ram", "64M"] + list(qlite_extra)
    if mods:
        args += ["--initrd", mods[0]] + sum((["--module", m] for m in mods[1:]), [])
    ref = qemu(kernel, append, ",".join(mods) if mods else None, qemu_extra)
    res = qlite(q, "run", args)
    passed(ref, kind, "QEMU")
    passed(res, kind, "qlite")
    check(guest_lines(ref.stdout) == guest_lines(res.stdout),
          f"QEMU said {guest_lines(ref.stdout)}, qlite {guest_lines(res.stdout)}", res)
    print("\n".join(guest_lines(res.stdout)))


def case_qemu_multiboot(q, mb, aout, pvh):
    with tempfile.TemporaryDirectory() as d:
        (p0, _), (p1, _), _ = write_modules(d)
        compare(q, mb, "multiboot", "hello mods=2", [p0, f"{p1} arg=1"])


# What the multiboot guest's `bios=1 irq14=1` prints when the firmware state is SeaBIOS's
# (tests/guest/boot32/boot32.c, bios()): the PICs' masks and ELCR, PIT channel 0's mode 2, the
# IRQ vectors, the BDA tick count moving in real mode, IRQ 14 served on both PICs.
BIOS_LINES = [
    "pic imr b8 8e, elcr 00 0c, pit channel 0 34",
    "irq vectors in segment f000",
    "real mode: the BDA tick count moves",
    "irq 14: slave irr 40, then isr 00 00, irr 00",
]


def case_qlite_multiboot_bios(q, mb, aout, pvh):
    """A multiboot kernel finds SeaBIOS's state: PICs, PIT, IVT and handlers, BDA ticks."""
    res = qlite(q, "run", ["--kernel", mb, "--cmdline", "bios=1 irq14=1", "--ram", "64M",
                           "--vdev", "pc-testdev"])
    passed(res, "multiboot", "multiboot firmware state")
    got = [l for l in guest_lines(res.stdout) if l in BIOS_LINES or l.startswith(("pic ", "irq"))]
    check(got == BIOS_LINES, f"firmware state {got} != {BIOS_LINES}", res)
    chk = qlite(q, "check", ["--kernel", mb, "--ram", "64M"])
    check(chk.returncode == 0 and "\nbios: pic vectors 0x08 0x70, masks b8 8e, elcr 00 0c; pit "
          "channel 0 mode 2 count 65536; real-mode IVT, handlers at 0xff000\n" in chk.stdout,
          "qlite check says what a multiboot kernel finds", chk)
    chk = qlite(q, "check", ["--kernel", pvh, "--ram", "64M"])
    check(chk.returncode == 0 and "\nbios:" not in chk.stdout, "a PVH kernel finds no BIOS state",
          chk)


def case_qlite_multiboot_bios_split(q, mb, aout, pvh):
    """The same state with `irqchip split`: qlite's own 8259 pair and 8254 get firmware's writes,
    real-mode ticks reach the BIOS's IRQ 0 handler through them, IRQ 14 through the slave."""
    res = qlite(q, "run", ["--kernel", mb, "--cmdline", "bios=1 irq14=1", "--ram", "64M",
                           "--vdev", "pc-testdev", "--irqchip", "split"])
    passed(res, "multiboot", "multiboot firmware state, irqchip split")
    got = [l for l in guest_lines(res.stdout) if l in BIOS_LINES or l.startswith(("pic ", "irq"))]
    check(got == BIOS_LINES, f"firmware state {got} != {BIOS_LINES}", res)


def case_qemu_multiboot_bios(q, mb, aout, pvh):
    """The same lines under QEMU, where SeaBIOS ran before the kernel."""
    compare(q, mb, "multiboot", "bios=1 irq14=1", [], ["--vdev", "pc-testdev"],
            ["-device", "pc-testdev"])


def case_qemu_aout(q, mb, aout, pvh):
    with tempfile.TemporaryDirectory() as d:
        (p0, _), _, _ = write_modules(d)
        compare(q, aout, "multiboot", "mods=1", [p0])


def case_qemu_pvh32(q, mb, aout, pvh):
    """QEMU gives a 32-bit PVH kernel one module, the initrd."""
    with tempfile.TemporaryDirectory() as d:
        (p0, _), _, _ = write_modules(d)
        compare(q, pvh, "pvh", "hello mods=1", [p0])


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def qemu_missing(case):
    if case.startswith("qemu_") and not shutil.which(QEMU):
        return f"{QEMU} not found (Debian: qemu-system-x86, installed by scripts/setup.sh)"
    return None


if __name__ == "__main__":
    sys.exit(run_case({k: (lambda f: lambda *a: f(*map(os.path.abspath, a)))(f)
                       for k, f in CASES.items()},
                      ["QLITE", "MULTIBOOT_ELF", "AOUT_BIN", "PVH32_ELF"], qemu_missing))
