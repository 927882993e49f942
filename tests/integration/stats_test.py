#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration tests of the exit reports (--stats, --stats-json, --stats-prom).

usage: stats_test.py QLITE TEST_GUEST CASE

The test guest makes a known number of accesses; the three outputs must show exactly those
counts under the right device and register, and agree with each other. Without a usable
/dev/kvm a case is skipped (exit 77), except in CI (CI=true), where that is a failure.
"""
import datetime
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

# The shared helpers of the integration tests (this directory is sys.path[0]).
sys.dont_write_bytecode = True
from guest_test import SKIP, Failure, check, run_case, stop_line  # noqa: E402

VERSION = "0.1.0"		# meson.build's project version
UART_SCR = "0x3ff"		# uart8250 scratch register: claimed, no side effect
UNCLAIMED_PIO = "0x2e0"
UNCLAIMED_MMIO = "0xc8000000"	# in the PCI hole, no BAR there


def qlite_run(q, g, cmdline, extra=(), timeout=120):
    argv = [q, "run", "--kernel", g, "--cmdline", cmdline, "--ram", "64M"] + list(extra)
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          errors="replace", timeout=timeout)


# --- Prometheus text exposition, checked strictly ---
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{({LABEL}(?:,{LABEL})*)\}})? (\S+)$")
HELP = re.compile(rf"^# HELP ({NAME}) (.+)$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram)$")
LABEL_SPLIT = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
VALUE = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)$")


HIST_SUFFIXES = ("_bucket", "_sum", "_count")


def check_histograms(series, types):
    """Every histogram series: le bounds ascending to +Inf, cumulative counts, +Inf == _count."""
    buckets = {}
    for (name, pairs), v in series.items():		# dicts keep the file's order
        if not name.endswith("_bucket") or types.get(name[:-len("_bucket")]) != "histogram":
            continue
        labels = dict(pairs)
        check("le" in labels, f"prom: {name} sample without le")
        le = labels.pop("le")
        buckets.setdefault((name[:-len("_bucket")], tuple(sorted(labels.items()))), []).append((le, v))
    for (family, labels), bs in buckets.items():
        bounds = [float(le) for le, _ in bs]
        counts = [v for _, v in bs]
        check(bs[-1][0] == "+Inf", f"prom: {family}{labels}: the last bucket is not +Inf")
        check(bounds == sorted(bounds) and len(set(bounds)) == len(bounds), f"prom: {family}{labels}: le not ascending")
        check(counts == sorted(counts), f"prom: {family}{labels}: buckets not cumulative {counts}")
        count = [v for (n, p), v in series.items() if n == family + "_count" and tuple(sorted(x for x in p)) == labels]
        check(count == [counts[-1]], f"prom: {family}{labels}: _count {count} != +Inf bucket {counts[-1]}")
        check(any(n == family + "_sum" and tuple(sorted(p)) == labels for n, p in series),
              f"prom: {family}{labels}: no _sum")


def parse_prom(text):
    """{(metric, ((label, value), ...)): float}; raises Failure on any deviation from the grammar."""
    check(text.endswith("\n"), "prom: the file must end with a newline")
    series, types, seen_families, current = {}, {}, [], None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        m = HELP.match(line)
        if m:
            check(m.group(1) not in types, f"prom line {n}: HELP after the family's samples: {line!r}")
            continue
        m = TYPE.match(line)
        if m:
            check(m.group(1) not in types, f"prom line {n}: second TYPE for {m.group(1)}")
            types[m.group(1)] = m.group(2)
            current = m.group(1)
            seen_families.append(current)
            continue
        check(not line.startswith("#"), f"prom line {n}: stray comment {line!r}")
        m = SAMPLE.match(line)
        check(m, f"prom line {n}: not a sample line: {line!r}")
        name, labels, value = m.groups()
        family = name
        if types.get(current) == "histogram" and name.startswith(current) and name[len(current):] in HIST_SUFFIXES:
            family = current
        check(family == current, f"prom line {n}: {name} outside its family (TYPE {current})")
        check(VALUE.match(value), f"prom line {n}: bad value {value!r}")
        pairs = tuple(LABEL_SPLIT.findall(labels or ""))
        check(len({k for k, _ in pairs}) == len(pairs), f"prom line {n}: repeated label")
        key = (name, pairs)
        check(key not in series, f"prom line {n}: duplicate series {line!r}")
        check(pairs and pairs[0][0] == "vm", f"prom line {n}: no vm label first")
        v = float(value)
        if types[family] == "counter":
            check(v >= 0 and name.endswith("_total"), f"prom line {n}: counter must be >= 0 and end in _total")
        series[key] = v
    check_histograms(series, types)
    return series


def prom_get(series, metric, **labels):
    """Sum of the series of metric name whose labels include the given ones."""
    want = set(labels.items())
    return sum(v for (n, pairs), v in series.items() if n == metric and want <= set(pairs))


# --- the text table ---
def table_section(text, start, end=None):
    check(start in text, f"table: no section {start!r}")
    s = text.split(start, 1)[1]
    return s.split(end, 1)[0] if end and end in s else s


def table_registers(text):
    """{(device, register, dir): exits} from the 'by device and register' part of the table."""
    part = table_section(text, "by device and register", "[2] in-kernel counters")
    regs, device = {}, None
    for line in part.splitlines()[2:]:
        m = re.match(r"^  (\S.{13}) (pio |mmio) \(all\)", line)
        if m:
            device = m.group(1).strip()
            continue
        m = re.match(r"^ {22}(\S.*?)\s+(read|write)\s+(\d+)\s", line)
        if m and device:
            regs[(device, m.group(1), m.group(2))] = int(m.group(3))
    return regs


def table_reasons(text):
    part = table_section(text, "[1] userspace exits", "by device and register")
    out = {}
    for line in part.splitlines()[2:]:
        m = re.match(r"^  (\S+)\s+((?:\d+\s+)+)", line)
        if m and m.group(1) not in ("interrupted", "all"):
            nums = m.group(2).split()
            out[m.group(1)] = nums
    return out


def device(data, name):
    d = [x for x in data["devices"] if x["device"] == name]
    check(len(d) == 1, f"json: expected one {name} device, got {len(d)}")
    return d[0]


def json_regs(dev):
    return {(r["register"], r["dir"]): r["exits"] for r in dev["registers"]}


def case_counts_agree(q, g):
    """Known accesses: exact counts under the right device and register, the same in all three outputs."""
    with tempfile.TemporaryDirectory() as d:
        js, prom = os.path.join(d, "exits.json"), os.path.join(d, "exits.prom")
        res = qlite_run(q, g, f"pio-write={UART_SCR},1000 pio-read={UART_SCR},500 "
                              f"pio-ins={UART_SCR},64 pio-outs={UART_SCR},64 "
                              f"pio-read=0x60,2 pio-read=0x64,3 "
                              f"pio-read={UNCLAIMED_PIO},5 mmio-read={UNCLAIMED_MMIO},7 "
                              f"mmio-write={UNCLAIMED_MMIO},3",
                        ["--stats", "--stats-json", js, "--stats-prom", prom, "--system", "stats-test"])
        check(res.returncode == 1, "guest failed (expected debug-exit 0 = status 1)", res)
        check(not [f for f in os.listdir(d) if ".tmp." in f], "temporary report files left behind", res)
        with open(js) as f:
            data = json.load(f)
        with open(prom) as f:
            series = parse_prom(f.read())
        table = res.stderr
        check(all(dict(pairs).get("vm") == "stats-test" for _, pairs in series), "prom: the VM's name on every series", res)
        check(data["version"] == 3 and data["qlite_version"] == VERSION and data["vm"] == "stats-test",
              f"json: version, qlite_version, vm: {data['version'], data['qlite_version'], data['vm']}", res)
        stamp = datetime.datetime.fromisoformat(data["timestamp"].replace("Z", "+00:00"))
        age = (datetime.datetime.now(datetime.timezone.utc) - stamp).total_seconds()
        check(data["timestamp"].endswith("Z") and 0 <= age < 60, f"json: timestamp {data['timestamp']}", res)
        check(prom_get(series, "qlite_build_info", version=VERSION) == 1, f"prom: qlite_build_info version {VERSION}", res)

        # Exact counts. rep insb is one exit of 64 transfers; rep outsb may reach qlite as 1..64
        # exits (KVM's emulator splits it), but its transfers add up to 64 either way.
        uart = device(data, "uart8250")
        regs = json_regs(uart)
        scr_w, scr_r = regs.get(("SCR", "write"), 0), regs.get(("SCR", "read"), 0)
        outs_exits = scr_w - 1000
        check(scr_r == 501, f"json: SCR reads {scr_r}, expected 500 in + 1 rep insb", res)
        check(1 <= outs_exits <= 64, f"json: SCR writes {scr_w}, expected 1000 + 1..64 for rep outsb", res)
        tr_r = prom_get(series, "qlite_device_transfers_total", device="uart8250", dir="read")
        tr_w = prom_get(series, "qlite_device_transfers_total", device="uart8250", dir="write")
        check(tr_r == uart["reads"] + 63, f"prom: uart read transfers {tr_r} != exits {uart['reads']} + 63", res)
        check(tr_w == uart["writes"] + 64 - outs_exits,
              f"prom: uart write transfers {tr_w} != exits {uart['writes']} + {64 - outs_exits}", res)
        check(uart["transfers"] == tr_r + tr_w, "json and prom disagree on the uart's transfers", res)
        # The totals, and which addresses they were: busiest first on each bus.
        check(data["unclaimed"] == {"pio_reads": 5, "pio_writes": 0, "mmio_reads": 7, "mmio_writes": 3,
                                    "top": [{"bus": "pio", "addr": int(UNCLAIMED_PIO, 0), "dir": "read", "count": 5},
                                            {"bus": "mmio", "addr": int(UNCLAIMED_MMIO, 0), "dir": "read", "count": 7},
                                            {"bus": "mmio", "addr": int(UNCLAIMED_MMIO, 0), "dir": "write", "count": 3}]},
              f"json: unclaimed {data['unclaimed']}", res)

        # The table shows the same registers with the same counts.
        trows = table_registers(table)
        for (reg, dr), n in regs.items():
            check(trows.get(("uart8250", reg, dr)) == n,
                  f"table: uart8250 {reg} {dr} = {trows.get(('uart8250', reg, dr))}, json says {n}", res)
        check(trows.get(("debug-exit", "EXIT", "write")) == 1, "table: one debug-exit EXIT write", res)
        # A device with two regions (i8042 data and command ports): each region's row names it,
        # counted per register, and its device-level Prometheus series summed, not repeated
        # (parse_prom rejects repeats).
        check(trows.get(("i8042@0x60", "DATA", "read")) == 2 and
              trows.get(("i8042@0x64", "STATUS/COMMAND", "read")) == 3,
              "table: i8042@0x60 DATA and i8042@0x64 STATUS/COMMAND reads", res)
        check(prom_get(series, "qlite_device_transfers_total", device="i8042", dir="read") == 5,
              "prom: the i8042's two regions summed", res)
        check(re.search(r"^\s+\(unclaimed\)\s+pio\s+-\s+read\s+5\s", table, re.M), "table: 5 unclaimed PIO reads", res)
        check(re.search(r"^\s+\(unclaimed\)\s+mmio\s+-\s+write\s+3\s", table, re.M), "table: 3 unclaimed MMIO writes", res)

        # Prometheus carries the same register counts, per vCPU (one here).
        for (reg, dr), n in regs.items():
            got = prom_get(series, "qlite_device_exits_total", vcpu="0", reason="io",
                           device="uart8250", register=reg, dir=dr)
            check(got == n, f"prom: uart8250 {reg} {dr} = {got}, json says {n}", res)
        for bus, dr, n in (("pio", "read", 5), ("mmio", "read", 7), ("mmio", "write", 3)):
            check(prom_get(series, "qlite_unclaimed_accesses_total", bus=bus, dir=dr) == n,
                  f"prom: unclaimed {bus} {dr}", res)

        # Reasons: per-vCPU reasons add up to the exits that were not EINTR, in every output.
        v0 = data["vcpus"][0]
        reasons = {r: x["exits"] for r, x in v0["reasons"].items()}
        check(sum(reasons.values()) == v0["exits"] - v0["interrupted"], "json: reasons do not add up to exits", res)
        check(data["exits"] == v0["exits"], "json: one vCPU, total exits differ", res)
        # Every exit attributed: io = PIO exits to devices + unclaimed PIO, mmio likewise.
        pio_dev = sum(x["reads"] + x["writes"] for x in data["devices"] if x["bus"] == "pio")
        mmio_dev = sum(x["reads"] + x["writes"] for x in data["devices"] if x["bus"] == "mmio")
        check(reasons.get("io") == pio_dev + 5, f"json: io exits {reasons.get('io')} != device PIO {pio_dev} + 5 unclaimed", res)
        check(reasons.get("mmio", 0) == mmio_dev + 10, f"json: mmio exits != device MMIO {mmio_dev} + 10 unclaimed", res)
        for r, n in reasons.items():
            check(prom_get(series, "qlite_exits_total", vcpu="0", reason=r) == n, f"prom: {r} exits", res)
            check(prom_get(series, "qlite_exit_handler_seconds_count", vcpu="0", reason=r) == n,
                  f"prom: {r} handler histogram count", res)
            check(table_reasons(table).get(r, [None])[0] == str(n), f"table: {r} exits", res)
            h = v0["reasons"][r]["handler"]
            check(h["count"] == n and 0 < h["p50_ns"] <= h["p99_ns"] <= h["max_ns"],
                  f"json: {r} handler histogram {h}", res)
        # PIO transfers: every element, claimed or not.
        check(data["io_transfers"] == prom_get(series, "qlite_device_transfers_total", reason="io") + 5,
              "json io_transfers != device transfers + unclaimed", res)

        # Layer 2: the kernel's counters, for the VM and each vCPU; its exits count qlite's and more.
        kvm = data["kvm_stats"]
        check("[2] in-kernel counters" in table, "table: no KVM stats section", res)
        if kvm["available"]:
            check(len(kvm["vcpus"]) == 1 and kvm["vm"], "json: KVM stats for the VM and every vCPU", res)
            check("exits" in kvm["vcpus"][0], "json: the kernel offers no 'exits' stat", res)
            check(kvm["vcpus"][0]["exits"] >= v0["exits"] - v0["interrupted"],
                  f"KVM exits {kvm['vcpus'][0]['exits']} < userspace exits {v0['exits']}", res)
            check(prom_get(series, "qlite_kvm_vcpu_exits_total", vcpu="0") == kvm["vcpus"][0]["exits"],
                  "prom: KVM exits differ from json", res)
            check(any(n.startswith("qlite_kvm_vm_") for n, _ in series), "prom: no VM-wide KVM stats", res)
        else:
            check(kvm["why"] and "unavailable: " + kvm["why"] in table, "KVM stats unavailable without a why", res)

        # Layer 3: counts, or a reason why not; never a table of zeros.
        hw = data["hardware_exits"]
        section = table_section(table, "[3] hardware exit reasons")
        if hw["available"]:
            check(sum(hw["reasons"].values()) > 0, "json: hardware exits available but empty", res)
        else:
            check(hw["why"] and "unavailable: " + hw["why"] in section, "table and json: hardware exits why", res)


def case_smp(q, g):
    """Two vCPUs: per-vCPU columns, per-vCPU KVM stats, per-vCPU Prometheus series."""
    with tempfile.TemporaryDirectory() as d:
        js, prom = os.path.join(d, "exits.json"), os.path.join(d, "exits.prom")
        res = qlite_run(q, g, f"smp=2 pio-write={UART_SCR},300",
                        ["--cpus", "2", "--stats", "--stats-json", js, "--stats-prom", prom])
        check(res.returncode == 1, "guest failed", res)
        check(re.search(r"^\s+reason\s+vcpu0\s+vcpu1\s+total", res.stderr, re.M), "table: vcpu0 and vcpu1 columns", res)
        with open(js) as f:
            data = json.load(f)
        with open(prom) as f:
            series = parse_prom(f.read())
        check([v["vcpu"] for v in data["vcpus"]] == [0, 1], "json: two vCPUs", res)
        check(data["vcpus"][1]["exits"] > 0, "json: the AP made no exit", res)
        check(data["exits"] == sum(v["exits"] for v in data["vcpus"]), "json: total != sum of vCPUs", res)
        check(json_regs(device(data, "uart8250")).get(("SCR", "write")) == 300, "json: 300 SCR writes", res)
        if data["kvm_stats"]["available"]:
            check(len(data["kvm_stats"]["vcpus"]) == 2, "json: KVM stats for both vCPUs", res)
            for i in (0, 1):
                check(prom_get(series, "qlite_kvm_vcpu_exits_total", vcpu=str(i)) ==
                      data["kvm_stats"]["vcpus"][i]["exits"], f"prom: KVM exits of vCPU {i}", res)
        for i in (0, 1):
            check(prom_get(series, "qlite_exits_total", vcpu=str(i)) ==
                  data["vcpus"][i]["exits"] - data["vcpus"][i]["interrupted"], f"prom: exits of vCPU {i}", res)


def case_accounting_off(q, g):
    """--accounting off: reasons and unclaimed still exact; no device rows, no times, no zeros posing as data."""
    with tempfile.TemporaryDirectory() as d:
        js, prom = os.path.join(d, "exits.json"), os.path.join(d, "exits.prom")
        res = qlite_run(q, g, f"pio-write={UART_SCR},200 pio-read={UNCLAIMED_PIO},4",
                        ["--accounting", "off", "--stats", "--stats-json", js, "--stats-prom", prom])
        check(res.returncode == 1, "guest failed", res)
        check("accounting off" in res.stderr and "not counted (accounting off)" in res.stderr,
              "table: says accounting is off", res)
        check("avg ns" not in table_section(res.stderr, "[1] userspace exits", "[2]"), "table: time columns without accounting", res)
        with open(js) as f:
            data = json.load(f)
        with open(prom) as f:
            series = parse_prom(f.read())
        check(data["accounting"] is False and data["devices"] == [], "json: accounting false, no devices", res)
        check(all(r["handler"] is None for r in data["vcpus"][0]["reasons"].values()), "json: handler null", res)
        check(data["unclaimed"]["pio_reads"] == 4, "json: 4 unclaimed PIO reads", res)
        check(data["vcpus"][0]["reasons"]["io"]["exits"] >= 200 + 4 + 1, "json: io exits", res)
        # The devices' own counters (qlite_device_stat) cost the exit path nothing: they stay.
        check(not any((n.startswith("qlite_device_") and n != "qlite_device_stat") or "handler" in n
                      for n, _ in series),
              "prom: device or time series without accounting", res)
        check(prom_get(series, "qlite_unclaimed_accesses_total", bus="pio", dir="read") == 4, "prom: unclaimed", res)
        stop = [l for l in res.stderr.splitlines() if l.startswith("qlite: stopped")]
        check(stop and "unclaimed pio 4 reads" in stop[-1], "stop line: unclaimed reads", res)


def case_live_files(q, g):
    """While the guest runs, the JSON and Prometheus files are always complete (renamed into place) and advance."""
    with tempfile.TemporaryDirectory() as d:
        js, prom = os.path.join(d, "exits.json"), os.path.join(d, "exits.prom")
        argv = [q, "run", "--kernel", g, "--ram", "64M", "--cmdline",
                f"pio-write={UART_SCR},3000 spin=1500 pio-write={UART_SCR},10",
                "--stats-interval", "200ms", "--stats-json", js, "--stats-prom", prom]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, errors="replace")
        uptimes, scr, reads, bounds = [], [], 0, set()
        deadline = time.monotonic() + 60
        while p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            if not (os.path.exists(js) and os.path.exists(prom)):
                continue
            with open(prom) as f:
                series = parse_prom(f.read())		# a torn file would fail the grammar
            with open(js) as f:
                data = json.load(f)
            reads += 1
            uptimes.append(prom_get(series, "qlite_uptime_seconds"))
            scr.append(prom_get(series, "qlite_device_exits_total", register="SCR", dir="write"))
            bounds.add(tuple(dict(p)["le"] for n, p in series
                             if n == "qlite_exit_handler_seconds_bucket" and ("reason", "io") in p))
            check(data["version"] == 3, "json: version")
        out, err = p.communicate(timeout=60)
        res = subprocess.CompletedProcess(argv, p.returncode, out, err)
        check(p.returncode == 1, "guest failed", res)
        check(reads >= 5, f"only {reads} reads of the live files", res)
        check(len(set(uptimes)) >= 3, f"files were not rewritten each interval: uptimes {sorted(set(uptimes))}", res)
        check(uptimes == sorted(uptimes) and scr == sorted(scr), "live counters went backwards", res)
        check(len(bounds) == 1, f"histogram bounds changed between snapshots: {bounds}", res)
        lines = [l for l in err.splitlines() if re.match(r"^qlite:\s+[0-9.]+ s\s+exits/s", l)]
        check(len(lines) >= 5, f"expected interval lines every 200 ms, got {len(lines)}", res)
        with open(prom) as f:
            final = parse_prom(f.read())
        check(prom_get(final, "qlite_device_exits_total", register="SCR", dir="write") == 3010,
              "the final file has the final counts", res)
        check(sorted(os.listdir(d)) == ["exits.json", "exits.prom"], f"left behind: {os.listdir(d)}", res)


def case_json_alone(q, g):
    """--stats-json alone writes the JSON and prints no table (that is --stats); --stats adds it."""
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "exits.json")
        res = qlite_run(q, g, f"pio-write={UART_SCR},10", ["--stats-json", js])
        check(res.returncode == 1, "guest failed", res)
        check("=== qlite exit report" not in res.stderr, "--stats-json alone printed the table", res)
        with open(js) as f:
            check(json.load(f)["exits"] > 0, "json: no exits", res)
        res = qlite_run(q, g, f"pio-write={UART_SCR},10", ["--stats-json", js, "--stats"])
        check(res.returncode == 1 and "=== qlite exit report" in res.stderr, "--stats: no table", res)


def case_outputs_checked(q, g):
    """Outputs are checked before the VM starts: a non-regular file, a missing directory, two
    outputs on one path or an output over an input is a `--option: why` line with status 2, from
    `qlite run` and `qlite check` alike, and nothing is created or replaced."""
    with tempfile.TemporaryDirectory() as d:
        kernel = os.path.join(d, "guest.elf")		# a copy: a regression must not eat the real one
        shutil.copy(g, kernel)
        fifo, sub = os.path.join(d, "fifo"), os.path.join(d, "sub")
        os.mkfifo(fifo)
        os.mkdir(sub)
        os.symlink("target.json", os.path.join(d, "link"))
        nodes = {fifo: stat.S_ISFIFO, sub: stat.S_ISDIR}
        if os.geteuid() == 0:				# a character device like /dev/full, in the temp dir
            full = os.path.join(d, "full")
            os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
            nodes[full] = stat.S_ISCHR
        cases = [
            (["--stats-json", fifo], f"--stats-json: {fifo} is a FIFO, not a regular file"),
            (["--stats-prom", sub], f"--stats-prom: {sub} is a directory, not a regular file"),
            (["--stats-json", os.path.join(d, "link")], "is a symbolic link"),
            (["--stats-json", os.path.join(d, "no", "x.json")], "directory " + os.path.join(d, "no") + ": No such file"),
            (["--stats-json", os.path.join(d, "x"), "--stats-prom", os.path.join(sub, "..", "x")],
             "is also the Prometheus output (--stats-prom): each output needs a file of its own"),
            (["--stats-json", os.path.join(d, "x"), "--stats-log", os.path.join(d, "x")], "is also the stats log"),
            (["--stats-prom", kernel], f"--stats-prom: {kernel} is also the kernel (--kernel): an output would overwrite it"),
        ]
        if os.geteuid() == 0:
            cases.append((["--stats-json", full], f"--stats-json: {full} is a character device"))
        for extra, why in cases:
            for cmd in ("run", "check"):
                argv = [q, cmd, "--kernel", kernel, "--cmdline", "pio-write=0x3ff,1", "--ram", "64M"] + extra
                res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                     errors="replace", timeout=60)
                check(res.returncode == 2, f"qlite {cmd} {' '.join(extra)}: status {res.returncode}, expected 2", res)
                check(why in res.stderr and len(res.stderr.splitlines()) == 1,
                      f"qlite {cmd} {' '.join(extra)}: expected one line with {why!r}", res)
                check("qlite: stopped" not in res.stderr, "the VM ran", res)
        for path, is_kind in nodes.items():
            check(is_kind(os.lstat(path).st_mode), f"{path} was replaced")
        with open(kernel, "rb") as f, open(g, "rb") as orig:
            check(f.read() == orig.read(), "the kernel was overwritten")
        check(sorted(os.listdir(d)) == sorted(["guest.elf", "fifo", "sub", "link"] +
                                              (["full"] if os.geteuid() == 0 else [])),
              f"files were created: {sorted(os.listdir(d))}")


def file_size_limit(limit):
    """preexec_fn: writes past limit bytes fail with EFBIG, as on a full disk (SIGXFSZ ignored)."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def case_write_errors(q, g):
    """An output that cannot be written during the run is said once, named in the stop line, and
    the exit status is 4 (the VM ran, an output is missing); the stats log's errors too."""
    limit = 3000
    with tempfile.TemporaryDirectory() as d:
        prom, log = os.path.join(d, "exits.prom"), os.path.join(d, "stats.log")
        with open(log, "w") as f:
            f.write("x" * (limit - 10))		# the next interval line passes the limit
        argv = [q, "run", "--kernel", g, "--ram", "64M", "--cmdline",
                f"pio-write={UART_SCR},1000 spin=1000 pio-write={UART_SCR},10",
                "--stats-interval", "200ms", "--stats-prom", prom, "--stats-log", log]
        res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             errors="replace", timeout=120, preexec_fn=file_size_limit(limit))
        check(res.returncode == 4, f"status {res.returncode}, expected 4 (an output could not be written)", res)
        for opt, path in (("--stats-prom", prom), ("--stats-log", log)):
            said = [l for l in res.stderr.splitlines() if l.startswith(f"qlite: {opt} {path}: not written: File too large")]
            check(len(said) == 1, f"{opt}: the error said {len(said)} times, expected once", res)
        stop = stop_line(res)
        check("outputs not written (exit status 4 instead of 1): " in stop and
              re.search(rf"--stats-prom {re.escape(prom)}: File too large \((\d+) of \1 writes failed\)", stop) and
              f"--stats-log {log}: File too large" in stop, "stop line: the outputs that failed", res)
        check(sorted(os.listdir(d)) == ["stats.log"], f"left behind: {os.listdir(d)}", res)

    # The directory goes away while the guest runs: said once, status 4, the rest keeps working.
    with tempfile.TemporaryDirectory() as d:
        sub, gone = os.path.join(d, "sub"), os.path.join(d, "gone")
        os.mkdir(sub)
        js = os.path.join(sub, "exits.json")
        argv = [q, "run", "--kernel", g, "--ram", "64M", "--cmdline",
                f"pio-write={UART_SCR},1000 spin=1500 pio-write={UART_SCR},10",
                "--stats-interval", "200ms", "--stats-json", js]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, errors="replace")
        deadline = time.monotonic() + 60
        while not os.path.exists(js) and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.rename(sub, gone)
        out, err = p.communicate(timeout=60)
        res = subprocess.CompletedProcess(argv, p.returncode, out, err)
        check(p.returncode == 4, f"status {p.returncode}, expected 4", res)
        said = [l for l in err.splitlines() if l.startswith(f"qlite: --stats-json {js}: not written")]
        check(len(said) == 1 and "No such file or directory" in said[0], "the error said once", res)
        check(f"--stats-json {js}: No such file or directory" in stop_line(res), "stop line", res)
        check(os.listdir(gone) == ["exits.json"], f"left behind: {os.listdir(gone)}", res)


def case_stale_tmp(q, g):
    """FILE.tmp.PID of a qlite killed before its rename is removed when the file is next written;
    a temporary file whose PID is alive stays."""
    with tempfile.TemporaryDirectory() as d:
        prom = os.path.join(d, "exits.prom")
        victim = subprocess.Popen([q, "run", "--kernel", g, "--ram", "64M", "--cmdline", "spin=60000",
                                   "--stats-prom", prom], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        victim.kill()				# SIGKILL: what it was writing stays behind
        victim.wait()
        dead, live = f"{prom}.tmp.{victim.pid}", f"{prom}.tmp.{os.getpid()}"
        for path in (dead, live):
            with open(path, "w") as f:
                f.write("# HELP half a file\n")
        res = qlite_run(q, g, f"pio-write={UART_SCR},10", ["--stats-prom", prom])
        check(res.returncode == 1, "guest failed", res)
        check(not os.path.exists(dead), "the dead qlite's temporary file is still there", res)
        check(os.path.exists(live), "a live process's temporary file was removed", res)
        check(sorted(os.listdir(d)) == sorted(["exits.prom", os.path.basename(live)]), f"{os.listdir(d)}", res)


def case_promtool(q, g):
    """Prometheus's own linter accepts the file (Debian's prometheus package has promtool)."""
    promtool = shutil.which("promtool")
    if not promtool:
        print("SKIP: no promtool (apt-get install prometheus)")
        return SKIP
    with tempfile.TemporaryDirectory() as d:
        prom = os.path.join(d, "exits.prom")
        img = os.path.join(d, "disk.img")
        with open(img, "wb") as f:
            f.truncate(1 << 20)
        # A virtio-blk, so the devices' own counters (qlite_device_stat) are linted too.
        res = qlite_run(q, g, f"smp=2 pio-write={UART_SCR},100 pio-read=0x60,2 pio-read=0x64,3 "
                              f"pio-read={UNCLAIMED_PIO},5 vblk=1",
                        ["--cpus", "2", "--stats-prom", prom, "--system", 'a "quoted" name',
                         "--vdev", f"virtio-blk,file={img}"])
        check(res.returncode == 1, "guest failed", res)
        with open(prom) as f:
            text = f.read()
        check('qlite_device_stat{vm="a \\"quoted\\" name",device="virtio-blk",counter="q0.kicks"} 3\n' in text,
              "no q0.kicks 3 of virtio-blk in the Prometheus file", res)
        with open(prom) as f:
            lint = subprocess.run([promtool, "check", "metrics"], stdin=f, capture_output=True, text=True)
        check(lint.returncode == 0 and not (lint.stdout + lint.stderr).strip(),
              f"promtool check metrics: {lint.stdout}{lint.stderr}", res)


CASES = {
    "counts_agree": case_counts_agree,
    "smp": case_smp,
    "accounting_off": case_accounting_off,
    "live_files": case_live_files,
    "json_alone": case_json_alone,
    "outputs_checked": case_outputs_checked,
    "write_errors": case_write_errors,
    "stale_tmp": case_stale_tmp,
    "promtool": case_promtool,
}


if __name__ == "__main__":
    sys.exit(run_case(CASES, ["QLITE", "TEST_GUEST"]))
