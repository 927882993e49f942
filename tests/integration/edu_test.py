#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""QEMU's educational PCI device (`vdev edu`): exact exits per register, and QEMU's result.

usage: edu_test.py QLITE TEST_GUEST CASE

The test guest's `edu=N` word (tests/guest/edu.c) finds 1234:11e8, checks liveness N times, makes
N DMA round trips (RAM -> the device's buffer -> RAM, compared), one factorial (10!) and raises
one interrupt by INTx (an IOAPIC pin) and one by MSI. Its accesses to the device are fixed by the
driver, except two polls whose length depends on when the device finishes (on qlite's I/O thread,
on QEMU's timer and thread): the guest prints how many reads each took, and the counts below use
those numbers, so every register's count is exact.

  qlite_counts  `--vdev edu`, --stats-json: every edu register's reads and writes, nothing else
                on the BAR, and the device's report (transfers, factorial, interrupts)
  qlite_absent  the word without the device: a FAIL line and status 255, no crash
  qemu          the same word under qemu-system-x86_64 -M pc -device edu: the same result line
  qlite_iommu   qlite_counts beside an intel-iommu the guest leaves off (`irqchip split`): the
                same exits on edu, its DMA and interrupts through the unit untranslated
  qemu_iommu    qemu, both VMMs with the unit: QEMU -M q35,kernel-irqchip=split -device intel-iommu

Without a usable /dev/kvm every case is skipped (exit 77), without qemu-system-x86_64 the qemu
case is; in CI (CI=true) both are failures.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

# The helpers of the other integration tests (this directory is sys.path[0]); no __pycache__
# left in the source tree.
sys.dont_write_bytecode = True
from guest_test import check, run_case  # noqa: E402

QEMU = "qemu-system-x86_64"
QEMU_TIMEOUT = 120	# SeaBIOS ~5 s, then QEMU's DMA timer: 100 ms of virtual time a transfer
ROUNDS = 16		# qlite
QEMU_ROUNDS = 4		# 8 transfers under QEMU: about a second
DONE = "qlite-test-guest: done"

RESULT_RE = re.compile(r"^edu: \d+ liveness checks, .*$", re.M)
POLLS_RE = re.compile(r"^edu: polls DMA_CMD (\d+) STATUS (\d+)$", re.M)


def expected_exits(n, cmd_polls, status_polls):
    """{(register, dir): exits} of edu=N, from tests/guest/edu.c."""
    e = Counter()
    e["ID", "read"] = 1					# edu_probe
    e["LIVENESS", "write"] = e["LIVENESS", "read"] = n	# edu_liveness
    for reg in ("DMA_SRC", "DMA_DST", "DMA_COUNT", "DMA_CMD"):
        e[reg, "write"] = 2 * n				# edu_dma, twice a round trip
    e["DMA_CMD", "read"] = cmd_polls			# ... polling START
    e["FACTORIAL", "write"] = e["FACTORIAL", "read"] = 1	# edu_factorial
    e["STATUS", "read"] = status_polls			# ... polling COMPUTING
    for reg, d in (("INTR_RAISE", "write"), ("INTR_STATUS", "read"), ("INTR_ACK", "write")):
        e[reg, d] = 2					# edu_interrupt: INTx, then MSI
    return e


def result_line(out, what, res):
    m = RESULT_RE.search(out)
    check(m is not None, f"{what}: no edu result line", res)
    return m.group(0)


def qlite_counts(q, g, extra=()):
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "exits.json")
        argv = [q, "run", "--kernel", g, "--ram", "64M", "--cmdline", f"edu={ROUNDS}",
                "--vdev", "edu", "--stats-json", js] + list(extra)
        res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             errors="replace", timeout=120)
        check(res.returncode == 1 and DONE in res.stdout and "FAIL" not in res.stdout,
              f"edu={ROUNDS} under qlite: expected status 1 and done", res)
        with open(js) as f:
            data = json.load(f)
    print(result_line(res.stdout, "qlite", res))
    m = POLLS_RE.search(res.stdout)
    check(m is not None, "no polls line", res)
    cmd_polls, status_polls = int(m.group(1)), int(m.group(2))
    # At least one read per transfer and one for the factorial.
    check(cmd_polls >= 2 * ROUNDS and status_polls >= 1, f"polls {cmd_polls}, {status_polls}", res)

    devs = [dev for dev in data["devices"] if dev["device"] == "edu"]
    check(len(devs) == 1 and devs[0]["bus"] == "mmio" and devs[0]["size"] == 1 << 20,
          f"one edu BAR of 1 MiB in the report: {[(x['device'], x['size']) for x in devs]}", res)
    dev = devs[0]
    got = Counter()
    for r in dev["registers"]:
        got[r["register"], r["dir"]] += r["exits"]
    want = expected_exits(ROUNDS, cmd_polls, status_polls)
    for k, v in sorted(want.items()):
        print(f"  {k[0]:12} {k[1]:5} {v:5}" + ("" if got.get(k, 0) == v else f"  (measured {got.get(k, 0)})"))
    wrong = {k: (got.get(k, 0), v) for k in set(want) | set(got) if got.get(k, 0) != want.get(k, 0)}
    check(not wrong, f"edu exits (measured, expected): {wrong}", res)
    reads = sum(v for (_, d), v in want.items() if d == "read")
    writes = sum(v for (_, d), v in want.items() if d == "write")
    check((dev["reads"], dev["writes"]) == (reads, writes) and
          dev["other_reads"] == 0 and dev["other_writes"] == 0,
          f"edu reads/writes {dev['reads']}/{dev['writes']}, expected {reads}/{writes}", res)

    reps = [r for r in data["device_reports"] if r["name"] == "edu"]
    check(len(reps) == 1, "no single edu device report", res)
    rep = reps[0]
    print(f"  edu: {rep['path']}: " + ", ".join(f"{c} {v}" for c, v in rep["counters"].items()))
    want_rep = {"dma_to_device": ROUNDS, "dma_from_device": ROUNDS, "dma_refused": 0,
                "dma_out_of_buffer": 0, "factorials": 1, "interrupts_raised": 2,
                "intx_asserted": 1, "msi_sent": 1, "msi_blocked": 0}
    wrong = {c: (rep["counters"].get(c), v) for c, v in want_rep.items() if rep["counters"].get(c) != v}
    check(not wrong, f"edu report (measured, expected): {wrong}", res)
    # The guest left MSI disabled again.
    check(rep["path"].startswith("interrupts INTx"), f"edu path: {rep['path']}", res)
    return data, res


def case_qlite_iommu(q, g):
    """The same word with an intel-iommu the guest leaves off, on qlite's IOAPIC: the same exits
    on edu, its DMA and both interrupts through the unit (untranslated: TE and IRE are clear)."""
    data, res = qlite_counts(q, g, ["--irqchip", "split", "--vdev", "intel-iommu"])
    reps = {r["name"]: r["counters"] for r in data["device_reports"]}
    check("intel-iommu" in reps and "ioapic" in reps, f"device reports {sorted(reps)}", res)
    vtd, io = reps["intel-iommu"], reps["ioapic"]
    print(f"  intel-iommu: {vtd}\n  ioapic: {io}")
    # 2N transfers, each one or more pieces (a piece ends at a page boundary).
    check(vtd["dma_translations"] >= 2 * ROUNDS and vtd["dma_faults"] == 0,
          f"intel-iommu DMA counters {vtd}", res)
    # The INTx through the IOAPIC and the MSI, both compatibility format with IRE clear.
    check((vtd["irq_passed"], vtd["irq_remapped"], vtd["irq_blocked"]) == (2, 0, 0),
          f"intel-iommu interrupt counters {vtd}", res)
    check(io["interrupts"] == 1 and io["blocked_by_iommu"] == 0, f"ioapic counters {io}", res)


def case_qlite_counts(q, g):
    qlite_counts(q, g)


def case_qlite_absent(q, g):
    res = subprocess.run([q, "run", "--kernel", g, "--ram", "64M", "--cmdline", "edu=1"],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         errors="replace", timeout=120)
    check(res.returncode == 255 and "FAIL: edu: no edu device" in res.stdout,
          "edu=1 without the device: expected the guest's FAIL (status 255)", res)


def qemu_same_line(q, g, qemu_machine, qlite_extra=()):
    word = f"edu={QEMU_ROUNDS}"
    argv = [QEMU, "-accel", "kvm"] + list(qemu_machine) + [
            "-nodefaults", "-m", "64", "-display", "none",
            "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-kernel", g, "-append", word, "-device", "edu"]
    ref = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         errors="replace", timeout=QEMU_TIMEOUT)
    errors = [l for l in ref.stderr.splitlines() if l.startswith(QEMU + ":") and "warning:" not in l]
    check(not errors, "QEMU failed: " + "; ".join(errors), ref)
    check(ref.returncode == 1 and DONE in ref.stdout, f"{word} under QEMU: status 1 and done", ref)
    want = result_line(ref.stdout, "QEMU", ref)
    res = subprocess.run([q, "run", "--kernel", g, "--ram", "64M", "--cmdline", word,
                          "--vdev", "edu"] + list(qlite_extra), stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, errors="replace", timeout=120)
    check(res.returncode == 1 and DONE in res.stdout, f"{word} under qlite: status 1 and done", res)
    got = result_line(res.stdout, "qlite", res)
    print(f"QEMU:  {want}\nqlite: {got}")
    check(got == want, "qlite's result line differs from QEMU's", res)


def case_qemu(q, g):
    qemu_same_line(q, g, ("-M", "pc"))


def case_qemu_iommu(q, g):
    """The same word beside QEMU's intel-iommu (q35, split irqchip), as kvm-unit-tests runs it."""
    qemu_same_line(q, g, ("-M", "q35,kernel-irqchip=split", "-device", "intel-iommu,intremap=on,eim=off"),
              ("--irqchip", "split", "--vdev", "intel-iommu"))


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def qemu_missing(case):
    if case.startswith("qemu") and not shutil.which(QEMU):
        return f"{QEMU} not found (Debian: qemu-system-x86, installed by scripts/setup.sh)"
    return None


if __name__ == "__main__":
    sys.exit(run_case(CASES, ["QLITE", "GUEST"], qemu_missing))
