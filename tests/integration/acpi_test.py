#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""ACPI from the guest's side (tests/guest/acpi.c): the test guest finds the RSDP, the FADT's PM
ports and the MADT's CPUs, then powers off through S5; qlite stops with status 0 and says
poweroff, and the exit report puts the guest's accesses on the acpi-pm registers. The FADT's
reset register resets the VM. S3 sleeps until the RTC alarm wakes the guest at its FACS waking
vector in real mode, the OUT to PM1a_CNT the last instruction before the sleep. `acpi off`
leaves the guest nothing to find. The qemu_* cases run the same guest under QEMU's pc, the
reference, which must end with the same status.

usage: acpi_test.py QLITE GUEST CASE
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
from guest_test import check, run_case, stop_line
from vdev_test import QEMU, qemu_run

ACPI_LINE = re.compile(r"^acpi: rsdp 0x([0-9a-f]+), (\d+) cpus, pm1a_cnt 0x([0-9a-f]+), "
                       r"pm_tmr 0x([0-9a-f]+), sci (\d+), timer (\d+) kHz$", re.M)


def qlite(q, args, timeout=60):
    return subprocess.run([q, "run"] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace", timeout=timeout)


def guest(g, cmdline, extra=()):
    return ["--kernel", g, "--cmdline", cmdline, "--ram", "64M"] + list(extra)


def qlite_with_report(q, args, timeout=60):
    """qlite run with --stats-json: the result and the JSON report."""
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "exits.json")
        res = qlite(q, list(args) + ["--stats-json", js], timeout)
        check(os.path.exists(js), "no JSON report", res)
        with open(js) as f:
            return res, json.load(f)


def pm_registers(data, res):
    """The exits on the acpi-pm registers, {(register, dir): exits}, from the JSON report."""
    pm = [x for x in data["devices"] if x["device"] == "acpi-pm"]
    check(len(pm) == 1 and (pm[0]["base"], pm[0]["size"]) == (0x600, 12),
          f"json: acpi-pm region {pm}", res)
    return {(r["register"], r["dir"]): r["exits"] for r in pm[0]["registers"]}


def case_qlite_poweroff(q, g):
    """Two vCPUs: the tables say so, the ports are QEMU's, S5 gives status 0 and the stop line
    says poweroff; the JSON report has exactly the guest's PM1_CNT read and write."""
    res, data = qlite_with_report(q, guest(g, "acpi acpi-poweroff", ["--cpus", "2"]))
    m = ACPI_LINE.search(res.stdout)
    check(m is not None, "no acpi line from the guest", res)
    rsdp, cpus, cnt, tmr, sci, khz = m.groups()
    check((int(rsdp, 16), int(cpus), int(cnt, 16), int(tmr, 16), int(sci)) ==
          (0xfe000, 2, 0x604, 0x608, 9), f"acpi line: {m.group(0)}", res)
    check(int(khz) > 0, "the PM timer does not count", res)
    check(res.returncode == 0, "S5 must stop the VM with status 0", res)
    check("(poweroff: guest entered ACPI S5" in stop_line(res), "the stop line says S5", res)
    check("FAIL" not in res.stdout and "done" not in res.stdout, "the guest ran on", res)
    regs = pm_registers(data, res)
    # acpi: two PM_TMR reads; acpi-poweroff: PM1_CNT read, then the S5 write.
    check(regs.get(("PM1_CNT", "write")) == 1 and regs.get(("PM1_CNT", "read")) == 1
          and regs.get(("PM_TMR", "read")) == 2, f"json: acpi-pm registers {regs}", res)


def case_qlite_reset(q, g):
    """The FADT's reset register (0xcf9, value 6) resets the VM: status 0, the stop line says
    reset. (QEMU's pc has a revision-1 FADT without one, so there is no QEMU column here.)"""
    res = qlite(q, guest(g, "acpi-reset"))
    check("acpi-reset: 0x6 to port 0xcf9" in res.stdout, "the reset register must be 0xcf9, 6", res)
    check(res.returncode == 0 and "(reset:" in stop_line(res), "ACPI reset: status 0, reset", res)
    check("FAIL" not in res.stdout, "the guest ran on after the reset", res)


def case_qlite_off(q, g):
    """With `acpi off` there is no RSDP for the guest, no PM device on the ports, and the MP
    table still describes the CPUs (smp=2 comes up)."""
    res = qlite(q, guest(g, "smp=2 pio-read=0x604,1,2 acpi", ["--cpus", "2", "--acpi", "off"]))
    check("smp: 2 cpus up" in res.stdout, "the MP table must still bring the CPUs up", res)
    check("acpi: no RSDP in 0xe0000-0xfffff" in res.stdout and res.returncode == 255,
          "acpi off: the guest must find no RSDP", res)
    check("unclaimed pio 1 reads" in stop_line(res), "acpi off: 0x604 must be unclaimed", res)


S3_RESUMED = "acpi-s3: resumed in real mode"


def case_qlite_s3(q, g):
    """Two vCPUs (the second parked waiting for a SIPI): S3 through the DSDT's _S3, the RTC alarm
    wakes the guest at its waking vector; the stub exits 0 (status 1) only if the vCPU did not run
    past the SLP_EN write. The report counts one sleep and one wake, and the guest's accesses."""
    res, data = qlite_with_report(q, guest(g, "acpi-s3", ["--cpus", "2"]), timeout=30)
    check("acpi-s3: waking vector 0x18000, SLP_TYP 1 | SLP_EN to 0x604, RTC_EN at 0x602"
          in res.stdout, "the guest must find _S3 = 1 and QEMU's ports", res)
    check(S3_RESUMED in res.stdout, "the guest did not resume at its waking vector", res)
    check(res.returncode == 1, "status 1: the stub's flag 0 (status 3: the vCPU ran on)", res)
    check("(debug-exit:" in stop_line(res), "the stub ends through debug-exit", res)
    check("FAIL" not in res.stdout and "done" not in res.stdout, "the guest ran on", res)
    rep = [x for x in data["device_reports"] if x["name"] == "acpi-pm"]
    check(len(rep) == 1, f"json: acpi-pm report {rep}", res)
    counters = rep[0]["counters"]
    check((counters["s3_sleeps"], counters["s3_wakes"], counters["sleeps_ignored"]) == (1, 1, 0),
          f"json: acpi-pm counters {counters}", res)
    regs = pm_registers(data, res)
    # Clear WAK_STS|RTC_STS, set RTC_EN, read PM1_CNT, write S3 with SLP_EN.
    check(regs == {("PM1_STS", "write"): 1, ("PM1_EN", "write"): 1, ("PM1_CNT", "read"): 1,
                   ("PM1_CNT", "write"): 1}, f"json: acpi-pm registers {regs}", res)


def case_qemu_s3(q, g):
    """The same S3 under QEMU's pc (SeaBIOS resumes at the waking vector): both resume and end
    with status 1."""
    ref = qemu_run(g, "acpi-s3", ["isa-debug-exit,iobase=0xf4,iosize=4"], ["-smp", "2"])
    check(S3_RESUMED in ref.stdout and ref.returncode == 1, "QEMU: S3 must resume, status 1", ref)
    res = qlite(q, guest(g, "acpi-s3", ["--cpus", "2"]), timeout=30)
    check(S3_RESUMED in res.stdout, "qlite: the guest did not resume", res)
    check(res.returncode == ref.returncode, f"qlite {res.returncode}, QEMU {ref.returncode}", res)
    print(f"QEMU: status {ref.returncode}; qlite {res.returncode}")


def case_qemu_poweroff(q, g):
    """The same guest under QEMU's pc (SeaBIOS's tables, PIIX4 PM): the same ports and SCI, and
    S5 ends QEMU with status 0 as it ends qlite."""
    ref = qemu_run(g, "acpi acpi-poweroff", ["isa-debug-exit,iobase=0xf4,iosize=4"],
                   ["-smp", "2"])
    m = ACPI_LINE.search(ref.stdout)
    check(m is not None, "QEMU: no acpi line from the guest", ref)
    check((int(m.group(2)), int(m.group(3), 16), int(m.group(4), 16), int(m.group(5))) ==
          (2, 0x604, 0x608, 9), f"QEMU: acpi line {m.group(0)}", ref)
    check(ref.returncode == 0 and "FAIL" not in ref.stdout, "QEMU: S5 must end with status 0", ref)
    res = qlite(q, guest(g, "acpi acpi-poweroff", ["--cpus", "2"]))
    check(res.returncode == ref.returncode, f"qlite {res.returncode}, QEMU {ref.returncode}", res)
    print(f"QEMU: {m.group(0)}; status {ref.returncode}; qlite {res.returncode}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def qemu_missing(case):
    if case.startswith("qemu_") and not shutil.which(QEMU):
        return f"{QEMU} not found (Debian: qemu-system-x86, installed by scripts/setup.sh)"
    return None


if __name__ == "__main__":
    sys.exit(run_case(CASES, ["QLITE", "GUEST"], qemu_missing))
