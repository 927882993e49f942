#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The ACPI tables qlite writes, judged by ACPICA: `qlite check --dump-acpi DIR` for 1, 2 and 8
vCPUs and with an intel-iommu (the DMAR), `iasl -d` on every table (the RSDP, which iasl does
not read alone, is checked here), and the disassembled DSDT compiled back by `iasl` without an
error or warning.

Usage: acpi_iasl_test.py QLITE KERNEL
Skips (77) without iasl (Debian: acpica-tools, scripts/setup.sh installs it), fails with CI=true.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

QLITE, KERNEL = sys.argv[1:3]
SKIP = 77
failures = []


def expect(cond, what, detail=""):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}\n{detail}", file=sys.stderr)


def iasl(args, cwd):
    p = subprocess.run(["iasl"] + args, cwd=cwd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def check_rsdp(path, tables):
    data = open(path, "rb").read()
    expect(len(data) == 36 and data[:8] == b"RSD PTR ", "rsdp.dat: 36 bytes, signature", repr(data))
    expect(sum(data[:20]) % 256 == 0 and sum(data) % 256 == 0, "rsdp.dat: both checksums")
    rsdt, length, xsdt = struct.unpack_from("<IIQ", data, 16)
    expect(data[15] == 2 and length == 36, "rsdp.dat: revision 2, length 36")
    expect(tables.get("RSDT") == rsdt and tables.get("XSDT") == xsdt,
           "rsdp.dat points at the RSDT and XSDT qlite check lists",
           f"{tables} {rsdt:#x} {xsdt:#x}")


def one(cpus, d, extra=()):
    out = subprocess.run([QLITE, "check", "--kernel", KERNEL, "--cpus", str(cpus),
                          "--dump-acpi", d, *extra], capture_output=True, text=True)
    expect(out.returncode == 0, f"{cpus} CPUs: qlite check --dump-acpi", out.stdout + out.stderr)
    listed = dict((m.group(1), int(m.group(2), 16))
                  for m in re.finditer(r"^  (\w{4})  0x([0-9a-f]+)  \d+ bytes$", out.stdout, re.M))
    want = {"RSDP", "FACS", "DSDT", "FACP", "APIC", "RSDT", "XSDT"} | ({"DMAR"} if extra else set())
    expect(set(listed) == want, f"{cpus} CPUs {' '.join(extra)}: qlite check lists {sorted(want)}",
           out.stdout)
    check_rsdp(os.path.join(d, "rsdp.dat"), listed)
    for name in ["facs", "dsdt", "facp", "apic", "rsdt", "xsdt"] + (["dmar"] if extra else []):
        rc, log = iasl(["-d", name + ".dat"], d)
        dsl = os.path.join(d, name + ".dsl")
        bad = [l for l in log.splitlines() if re.search(r"\b(error|warning)\b", l, re.I)
               and not re.search(r"\b0 Errors?\b", l)]
        expect(rc == 0 and os.path.exists(dsl) and not bad,
               f"{cpus} CPUs: iasl -d {name}.dat", log)
    apic = open(os.path.join(d, "apic.dsl")).read()
    expect(apic.count("[Processor Local APIC]") == cpus,
           f"{cpus} CPUs: the disassembled MADT has {cpus} local APICs", apic)
    facp = open(os.path.join(d, "facp.dsl")).read()
    for field, value in [("PM1A Event Block Address", "00000600"),
                         ("PM1A Control Block Address", "00000604"),
                         ("PM Timer Block Address", "00000608"), ("SCI Interrupt", "0009")]:
        expect(re.search(rf"{field} : {value}\b", facp), f"{cpus} CPUs: FADT {field} {value}", facp)
    dsdt = open(os.path.join(d, "dsdt.dsl")).read()
    for hid in ('EisaId ("PNP0A03")', 'EisaId ("PNP0501")', 'EisaId ("PNP0B00")',
                'EisaId ("PNP0303")', 'EisaId ("PNP0F13")', '"QEMU0002"'):
        expect(f"Name (_HID, {hid}" in dsdt, f"{cpus} CPUs: the DSDT has a device {hid}", dsdt)
    # The DSDT compiles back: what qlite wrote is AML that ASL describes exactly.
    rc, log = iasl(["-p", "dsdt2", "dsdt.dsl"], d)
    expect(rc == 0 and re.search(r"\b0 Errors, 0 Warnings\b", log),
           f"{cpus} CPUs: iasl compiles the disassembled DSDT", log)


def main():
    if not shutil.which("iasl"):
        print("iasl not installed (Debian package acpica-tools)", file=sys.stderr)
        return 1 if os.environ.get("CI") == "true" else SKIP
    for cpus in (1, 2, 8):
        with tempfile.TemporaryDirectory() as d:
            one(cpus, d)
    # intel-iommu adds the DMAR (with interrupt remapping it needs `irqchip split`, and the
    # IOAPIC scope is checked by tests/unit/test_acpi.c, iasl included).
    with tempfile.TemporaryDirectory() as d:
        one(2, d, ("--vdev", "intel-iommu,intremap=off"))
        dmar = open(os.path.join(d, "dmar.dsl")).read()
        for field, value in [("Host Address Width", "26"),
                             ("Register Base Address", "00000000FED90000")]:
            expect(re.search(rf"{field} : {value}\b", dmar), f"DMAR {field} {value}", dmar)
    # Without ACPI, nothing to dump, said in one line.
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([QLITE, "check", "--kernel", KERNEL, "--acpi", "off", "--dump-acpi", d],
                           capture_output=True, text=True)
        expect(p.returncode == 1 and "acpi: off" in p.stdout and not os.listdir(d)
               and p.stderr.count("\n") == 1 and "--dump-acpi" in p.stderr,
               "acpi off: check says so and --dump-acpi refuses", p.stdout + p.stderr)
    return 1 if failures else 0


sys.exit(main())
