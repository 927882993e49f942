#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""fw_cfg from the guest's side (tests/guest/fwcfg.c): the test guest reads the signature, the ID,
the file directory and etc/e820 through the data port and through DMA and compares them.

qlite_*: the exact exits per register in the JSON report (a known sequence: 6 selector writes,
one 16-bit selector read, 17 + 64 N + 20 K data reads, 2 DMA port reads, 2 writes per transfer)
and the device's own counters; etc/e820 is the map `qlite check` shows for the same VM (the
loaders' map); CMDLINE_SIZE/DATA are the command line; `fw-cfg off` leaves the ports unclaimed
and `qlite check` lists the device only when it is there.

qemu: the same word under QEMU 7.2's pc with the same RAM. Both must have: the signature, the
ID's traditional and DMA bits, the command line, the same answer to a 16-bit read of 0x510 (not decoded: 0), the
directory sorted by name with selectors from 0x20 in that order, every file qlite has (with
etc/boot-fail-wait's size), and RAM in etc/e820 ending at the RAM size. Known differences:
  - QEMU's directory has 13 files to qlite's 3: bios-geometry, etc/acpi/rsdp, etc/acpi/tables,
    etc/table-loader (QEMU hands its ACPI tables to firmware to link; qlite writes them into RAM
    itself), etc/smbios/* (no SMBIOS in qlite), etc/system-states, etc/tpm/log,
    genroms/kvmvapic.bin and genroms/pvh.bin (option ROMs; qlite boots the kernel itself);
  - bootorder: QEMU's names its PVH option ROM; qlite's is empty (nothing to boot from);
  - etc/e820: QEMU's is the raw RAM (0..RAM size as one entry) plus KVM's identity-map pages at
    0xfeffc000 and, on AMD hosts, the HyperTransport hole at 1 TiB - 12 GiB, both reserved;
    SeaBIOS carves the BIOS area out later. qlite has no firmware, so its map is the one its
    loaders hand the kernel: RAM to the EBDA, the EBDA and BIOS area reserved (MP table, ACPI),
    RAM from 1 MiB.

usage: fwcfg_test.py QLITE GUEST CASE
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

RAM_MB = 128
CMDLINE = "fw-cfg hello"
SUMMARY = re.compile(r"^fw-cfg: signature (\S+) id 0x([0-9a-f]+) files (\d+) e820 (\d+) entries$",
                     re.M)
DMA_LINE = re.compile(r"^fw-cfg: dma signature (.+), 16-bit read of 0x510: 0x([0-9a-f]+)$", re.M)
FILE_LINE = re.compile(r"^fw-cfg: file 0x([0-9a-f]+) (\d+) (\S+)$", re.M)
CMDLINE_LINE = re.compile(r'^fw-cfg: cmdline (\d+) "(.*)"$', re.M)
E820_LINE = re.compile(r"^fw-cfg: e820 0x([0-9a-f]+) 0x([0-9a-f]+) (\d+)$", re.M)
CHECK_MAP = re.compile(r"^\s+0x([0-9a-f]+)-0x([0-9a-f]+)\s+(ram|reserved)\b", re.M)


def qlite(q, args, cmd="run", timeout=60):
    return subprocess.run([q, cmd] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace", timeout=timeout)


def guest(g, cmdline, extra=()):
    return ["--kernel", g, "--cmdline", cmdline, "--ram", f"{RAM_MB}M"] + list(extra)


def parse(res, who):
    """What the fw-cfg word printed: summary, DMA line, files [(select, size, name)], e820."""
    m = SUMMARY.search(res.stdout)
    check(m is not None, f"{who}: no fw-cfg line from the guest", res)
    d = DMA_LINE.search(res.stdout)
    check(d is not None, f"{who}: no fw-cfg dma line", res)
    files = [(int(s, 16), int(z), n) for s, z, n in FILE_LINE.findall(res.stdout)]
    e820 = [(int(a, 16), int(z, 16), int(t)) for a, z, t in E820_LINE.findall(res.stdout)]
    c = CMDLINE_LINE.search(res.stdout)
    check(c is not None, f"{who}: no fw-cfg cmdline line", res)
    check(len(files) == int(m.group(3)) and len(e820) == int(m.group(4)),
          f"{who}: the guest's lines disagree with its summary", res)
    check("FAIL" not in res.stdout and "qlite-test-guest: done" in res.stdout,
          f"{who}: the guest failed", res)
    return {"sig": m.group(1), "id": int(m.group(2), 16), "dma_sig": d.group(1),
            "wide": int(d.group(2), 16), "files": files, "e820": e820,
            "cmdline": (int(c.group(1)), c.group(2))}


def ram_ranges(e820):
    return sorted((a, a + s) for a, s, t in e820 if t == 1)


def case_qlite(q, g):
    """Exact exits per register, the device's counters, and etc/e820 = the map check shows."""
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "exits.json")
        res = qlite(q, guest(g, CMDLINE, ["--stats-json", js]))
        check(res.returncode == 1, "the guest must finish (status 1)", res)
        got = parse(res, "qlite")
        with open(js) as f:
            data = json.load(f)
    check(got["sig"] == "QEMU" and got["id"] == 3 and got["dma_sig"] == "QEMU CFG" and
          got["wide"] == 0, f"qlite: {got}", res)
    check(got["cmdline"] == (len(CMDLINE) + 1, CMDLINE), f"cmdline {got['cmdline']}", res)
    names = [f[2] for f in got["files"]]
    check(names == ["bootorder", "etc/boot-fail-wait", "etc/e820"], f"files {names}", res)
    n, k = len(got["files"]), len(got["e820"])
    regions = {(x["base"], x["size"]): x for x in data["devices"] if x["device"] == "fw-cfg"}
    check(set(regions) == {(0x510, 2), (0x514, 8)}, f"json: fw-cfg regions {list(regions)}", res)
    regs = {}
    for x in regions.values():
        check(x["other_reads"] == 0 and x["other_writes"] == 0, f"json: unnamed accesses {x}")
        for r in x["registers"]:
            regs[(r["register"], r["dir"])] = r["exits"]
    want = {("SELECTOR", "write"): 6, ("SELECTOR", "read"): 1,
            ("DATA", "read"): 17 + 64 * n + 20 * k,
            ("DMA_HI", "read"): 1, ("DMA_LO", "read"): 1,
            ("DMA_HI", "write"): 6, ("DMA_LO", "write"): 6}
    check(regs == want, f"json: fw-cfg registers {regs}, expected {want}", res)
    rep = [x for x in data["device_reports"] if x["name"] == "fw-cfg"]
    check(len(rep) == 1, "json: no fw-cfg device report", res)
    size = {f[2]: f[1] for f in got["files"]}
    # 11 selects: 6 by the port, 5 by DMA; the bytes are every DMA read's.
    check(rep[0]["counters"] == {"selects": 11, "dma_ok": 6, "dma_errors": 0,
                                 "dma_bytes": 4 + 4 + 4 + 64 * n + size["etc/e820"] +
                                 len(CMDLINE) + 1},
          f"json: fw-cfg counters {rep[0]['counters']}", res)
    # The loaders' map, as `qlite check` prints it for the same VM.
    chk = qlite(q, guest(g, "fw-cfg"), cmd="check")
    check(chk.returncode == 0, "qlite check failed", chk)
    types = {"ram": 1, "reserved": 2}
    loader = [(int(a, 16), int(b, 16) - int(a, 16) + 1, types[t])
              for a, b, t in CHECK_MAP.findall(chk.stdout)]
    check(loader and got["e820"] == loader, f"etc/e820 {got['e820']}, check's map {loader}", res)
    print(f"qlite: {n} files, e820 {got['e820']}, exits {regs}")


def case_qlite_off(q, g):
    """`fw-cfg off`: nothing at 0x510, the guest finds no signature (all-ones) and fails."""
    res = qlite(q, guest(g, "fw-cfg", ["--fw-cfg", "off"]))
    check("fw-cfg: no signature (read ff ff ff ff)" in res.stdout and res.returncode == 255,
          "fw-cfg off: the guest must find no signature", res)
    check("unclaimed pio 4 reads 1 writes" in stop_line(res), "fw-cfg off: 0x510 unclaimed", res)


def case_qlite_check(q, g):
    """`qlite check` lists the device with its ports, and not with `fw-cfg off`."""
    chk = qlite(q, guest(g, "fw-cfg"), cmd="check")
    check(re.search(r"^\s+dev\s+fw-cfg\s+pio 0x510-0x511 \(selector, data\), 0x514-0x51b \(DMA\)$",
                    chk.stdout, re.M) is not None, "qlite check must list fw-cfg", chk)
    off = qlite(q, guest(g, "fw-cfg", ["--fw-cfg", "off"]), cmd="check")
    check("fw-cfg" not in off.stdout.replace("cmdline: fw-cfg", ""),
          "qlite check with fw-cfg off must not list it", off)


def case_qemu(q, g):
    """QEMU's pc, same guest and RAM: what both must have (see the module's docstring)."""
    ref = qemu_run(g, CMDLINE, ["isa-debug-exit,iobase=0xf4,iosize=4"], ["-m", str(RAM_MB)])
    check(ref.returncode == 1, f"QEMU: the guest must finish (status 1), got {ref.returncode}", ref)
    theirs = parse(ref, "QEMU")
    res = qlite(q, guest(g, CMDLINE))
    ours = parse(res, "qlite")
    check(res.returncode == ref.returncode, f"qlite {res.returncode}, QEMU {ref.returncode}", res)
    for k in ("sig", "dma_sig", "wide", "cmdline"):
        check(ours[k] == theirs[k], f"{k}: qlite {ours[k]!r}, QEMU {theirs[k]!r}", res)
    check(ours["id"] & 3 == theirs["id"] & 3 == 3, f"ID: qlite {ours['id']}, QEMU {theirs['id']}")
    for who, got in (("qlite", ours), ("QEMU", theirs)):
        names = [f[2] for f in got["files"]]
        check(names == sorted(names) and [f[0] for f in got["files"]] ==
              list(range(0x20, 0x20 + len(names))), f"{who}: directory not sorted {names}")
    qemu_files = {f[2]: f[1] for f in theirs["files"]}
    missing = [f[2] for f in ours["files"] if f[2] not in qemu_files]
    check(not missing, f"files QEMU does not have: {missing}")
    ours_size = {f[2]: f[1] for f in ours["files"]}
    check(ours_size["etc/boot-fail-wait"] == qemu_files["etc/boot-fail-wait"],
          "etc/boot-fail-wait sizes differ")
    ram = RAM_MB << 20
    for who, got in (("qlite", ours), ("QEMU", theirs)):
        rr = ram_ranges(got["e820"])
        check(rr and rr[0][0] == 0 and max(e for _, e in rr) == ram,
              f"{who}: etc/e820 RAM {rr} must start at 0 and end at {ram:#x}")
    # qlite's RAM is QEMU's less the BIOS area qlite reserves for its tables.
    q_ram = ram_ranges(theirs["e820"])
    for a, e in ram_ranges(ours["e820"]):
        check(any(qa <= a and e <= qe for qa, qe in q_ram), f"qlite RAM {a:#x}-{e:#x} not in QEMU's")
    print(f"QEMU: {len(theirs['files'])} files, e820 {theirs['e820']}; "
          f"qlite: {len(ours['files'])} files, e820 {ours['e820']}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def qemu_missing(case):
    if case.startswith("qemu") and not shutil.which(QEMU):
        return f"{QEMU} not found (Debian: qemu-system-x86, installed by scripts/setup.sh)"
    return None


if __name__ == "__main__":
    sys.exit(run_case(CASES, ["QLITE", "GUEST"], qemu_missing))
