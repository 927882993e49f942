#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""qlite compare end to end on the shipped block pair (configs/test-guest-ide.conf and
configs/test-guest-virtio-blk.conf, the test guest booted from this build).

usage: compare_test.py QLITE GUEST CASE

block: --workload blk-write:4M --runs 1 --json --svg: the table, the JSON (its counts are the
       ones the guest's drivers imply, as blk_count_test.py derives them) and the SVG (parsed
       back, bars against the JSON: tests/unit/compare_svg_test.py's check_svg).
runs:  blk-read over PCI and MMIO, 3 runs: medians and spreads, the run order A B A B.
failing: a guest that fails, a VM that cannot be built: compare says which run, and exits 1.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "unit"))
sys.dont_write_bytecode = True
from guest_test import Failure, check, run_case  # noqa: E402
import compare_svg_test  # noqa: E402

CONFIGS = os.path.join(HERE, "..", "..", "configs")
IDE = os.path.join(CONFIGS, "test-guest-ide.conf")
VBLK = os.path.join(CONFIGS, "test-guest-virtio-blk.conf")
VBLK_MMIO = os.path.join(CONFIGS, "test-guest-virtio-blk-mmio.conf")


def compare(q, g, args, timeout=120):
    # The configs name the guest under build/; this build's may be elsewhere.
    return subprocess.run([q, "compare"] + args + ["--kernel", g], capture_output=True,
                          text=True, errors="replace", timeout=timeout, stdin=subprocess.DEVNULL)


def rows_of(data):
    return {(r["section"], r["name"]): r for r in data["rows"]}


def median(row, side, what="per_unit"):
    s = row[side]
    return s[what]["median"] if s and s[what] else None


def case_block(q, g):
    with tempfile.TemporaryDirectory() as d:
        j, svg = os.path.join(d, "c.json"), os.path.join(d, "c.svg")
        res = compare(q, g, [IDE, VBLK, "--workload", "blk-write:4M", "--runs", "1",
                             "--json", j, "--svg", svg])
        check(res.returncode == 0, "qlite compare ide virtio-blk", res)
        out = res.stdout
        for want in ("=== qlite compare: blk-write:4M, 1 run each",
                     "guest command line: flushed ide-dma=8192,128",
                     "guest command line: flushed vblk=64,65536",
                     "exits per MiB", "by reason", "by device", "by register and direction",
                     "ide-primary STATUS/COMMAND write", "piix3-ide-bmdma BM_CMD_PRI write",
                     "virtio-blk COMMON_STATUS write", "handler time",
                     "kernel counters (KVM stats fd"):
            check(want in out, f"the table has no {want!r}", res)
        m = re.search(r"^verdict: virtio-blk-pci against ide: ([0-9.]+)x fewer exits per MiB, "
                      r"([0-9.]+)x (less|more) time in qlite's handlers \(the devices alone: "
                      r"([0-9.]+)x fewer exits", out, re.M)
        check(m, "no verdict line, or virtio-blk-pci not ahead of ide in exits", res)
        lines = [l for l in res.stderr.splitlines() if l.startswith("qlite compare: ")]
        check([l.split(":")[1].strip() for l in lines] == ["A run 1/1", "B run 1/1"],
              "one run each, A first", res)

        with open(j) as f:
            data = json.load(f)
        check(data["version"] == 1 and data["runs"] == 1, "JSON version 1, one run", res)
        w = data["workload"]
        check(w["name"] == "blk-write" and w["unit"] == "MiB" and w["units_per_run"] == 4,
              f"JSON workload {w}", res)
        check([s["label"] for s in data["sides"]] == ["ide", "virtio-blk-pci"], "JSON sides", res)
        rows = rows_of(data)
        # Exact counts the drivers imply (blk_count_test.py): 64 WRITE DMA commands of 128
        # sectors and one FLUSH, each with one COMMAND write; one START per DMA command.
        cmd = rows[("register", "ide-primary STATUS/COMMAND write")]["a"]["count"]["median"]
        check(cmd == 64 + 1 + 1, f"ide COMMAND writes {cmd}: 64 writes, FLUSH, IDENTIFY", res)
        check(rows[("register", "ide-primary STATUS/COMMAND write")]["b"] is None,
              "virtio-blk has no IDE rows", res)
        # virtio-blk: kicks go through KVM_IOEVENTFD; the notify register never exits.
        check(not any(s == "register" and "NOTIFY" in n and r["b"] for (s, n), r in rows.items()),
              "virtio-blk's kicks took exits despite ioeventfd", res)
        dev = rows[("device", "(compared)")]
        a, b = median(dev, "a"), median(dev, "b")
        check(a and b and a / b > 10, f"the compared devices per MiB: ide {a}, virtio-blk {b}", res)
        check(abs(dev["ratio"]["per_unit"] - b / a) < 1e-6 * max(1, b / a), "B/A of the row", res)
        allr = rows[("reason", "(all)")]
        v = data["verdict"]
        check(abs(v["exits_per_unit"][0] - median(allr, "a")) < 1e-6 and
              abs(v["exits_per_unit"][1] - median(allr, "b")) < 1e-6,
              "the verdict's exits are the (all) row's", res)
        check(abs(v["exits_factor"] - float(m.group(1))) < 0.051 * v["exits_factor"],
              "the verdict line and the JSON agree", res)
        check(v["text"] in out, "the JSON's verdict text is the table's", res)
        check(any(s == "kvm" and r["a"] for (s, _), r in rows.items()),
              "the kernel's counters are in the JSON", res)
        try:
            compare_svg_test.check_svg(svg, data)
        except compare_svg_test.Failure as e:
            raise Failure(f"SVG: {e}")
        check(not [f for f in os.listdir(d) if f not in ("c.json", "c.svg")],
              "files left beside the outputs", res)


def case_runs(q, g):
    with tempfile.TemporaryDirectory() as d:
        j = os.path.join(d, "c.json")
        res = compare(q, g, [VBLK, VBLK_MMIO, "--workload", "blk-read:2M,128K", "--runs", "3",
                             "--json", j])
        check(res.returncode == 0, "qlite compare virtio-blk pci mmio", res)
        order = [l.split(":")[1].strip() for l in res.stderr.splitlines()
                 if l.startswith("qlite compare: ")]
        check(order == ["A run 1/3", "B run 1/3", "A run 2/3", "B run 2/3", "A run 3/3",
                        "B run 3/3"], f"runs interleaved A B A B: {order}", res)
        check("guest command line: vblk-mmio=0xfed00000,16,131072" in res.stdout,
              "the mmio scenario at the config's address", res)
        with open(j) as f:
            data = json.load(f)
        rows = rows_of(data)
        for side in "ab":
            st = rows[("reason", "(all)")][side]["per_unit"]
            check(st["n"] == 3 and st["min"] <= st["median"] <= st["max"], f"spread {st}", res)
            check(data["sides"]["ab".index(side)]["runs"] == 3, "3 runs a side", res)
        # 2 MiB written and read back: 4 MiB of work a run; MMIO has no PCI config cycles.
        check(data["workload"]["units_per_run"] == 4, "blk-read counts both ways", res)
        # PCI: the common configuration's registers; MMIO: virtio-mmio's, on the other side only.
        check(rows[("register", "virtio-blk COMMON_STATUS write")]["b"] is None and
              rows[("register", "virtio-blk Status write")]["a"] is None and
              median(rows[("register", "virtio-blk Status write")], "b", "count") >= 4,
              "each transport's registers on its side", res)
        # Neither kick exits (ioeventfd): as many device exits whatever the request count.
        check(not any("Notify" in n or "NOTIFY" in n for (s, n) in rows if s == "register"),
              "a kick took an exit despite ioeventfd", res)


def case_failing(q, g):
    res = compare(q, g, [IDE, VBLK, "--runs", "2", "--workload", "blk-write:1M"] +
                  ["--cmdline", "ignored"])  # the workload's words replace it: still fine
    check(res.returncode == 0, "--cmdline is replaced by the workload's words", res)
    with tempfile.TemporaryDirectory() as d:
        junk = os.path.join(d, "junk")
        with open(junk, "wb") as f:
            f.write(os.urandom(4096))
        res = subprocess.run([q, "compare", IDE, VBLK, "--runs", "1", "--kernel", junk],
                             capture_output=True, text=True, timeout=60)
        check(res.returncode == 1 and "A run 1" in res.stderr and "not a kernel image" in res.stderr
              and not res.stdout, "a VM that cannot be built: status 1, the run named", res)
    # The guest fails: its IDE driver wants the primary master, this disk is the secondary's.
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "secondary.conf")
        with open(conf, "w") as f:
            f.write(f"kernel {g}\nram 64M\nvdev ide channel secondary file "
                    f"{os.path.join(CONFIGS, 'empty-disk.img')} readonly on\n")
        res = compare(q, g, [VBLK, conf, "--runs", "1", "--timeout", "60s"])
        check(res.returncode == 1 and "B run 1" in res.stderr and "A run 1/1" in res.stderr
              and "FAIL" in res.stderr and not res.stdout,
              "a guest that fails: status 1, B run 1 named with the guest's last lines", res)
        check(os.listdir(d) == ["secondary.conf"], "compare leaves nothing behind", res)
    res = subprocess.run([q, "compare", IDE, VBLK, "--workload", "net-tx"], capture_output=True,
                         text=True, timeout=60)
    check(res.returncode == 2 and "no NIC" in res.stderr, "net-tx on disks: status 2", res)
    res = subprocess.run([q, "compare", IDE], capture_output=True, text=True, timeout=60)
    check(res.returncode == 2, "one config: status 2", res)
    # Outputs are checked before anything runs.
    for opt, path, why in (("--json", "/nonexistent/c.json", "cannot write in /nonexistent"),
                           ("--svg", "/dev/null", "character device, not a regular file")):
        res = subprocess.run([q, "compare", IDE, VBLK, opt, path], capture_output=True, text=True,
                             timeout=60)
        check(res.returncode == 2 and why in res.stderr and "run 1" not in res.stderr,
              f"{opt} {path}: status 2 before any run", res)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run_case(CASES, ["QLITE", "GUEST"]))
