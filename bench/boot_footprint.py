#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Start-up time and memory overhead, qlite and QEMU run by run on the same test guest.

usage: boot_footprint.py QLITE TEST_GUEST [--runs N] [--ram MIB] [--no-qemu]
                         [--first-run first_run.so] [--json FILE]

Times (host CLOCK_MONOTONIC, all of them):
- exec -> first KVM_RUN: from just before the VMM is spawned to its first KVM_RUN ioctl, i.e. the
  guest's first instruction (with --first-run, the LD_PRELOAD shim bench/first_run.c notes it;
  QEMU's first instruction is SeaBIOS's);
- exec -> `hello`: to the arrival of the test guest's first console line;
- exec -> exit: to the VMM's exit after the guest wrote the debug-exit port.
Memory, sampled while the guest spins in ring 3 (1 vCPU, --ram MiB, default 128): VmRSS, split into
anonymous and file-backed, and the overhead = VmRSS less the guest RAM the guest touched (the
resident part of every mapping at least as large as the guest RAM). Targets (Firecracker's):
exec -> first instruction <= 8 ms, overhead <= 5 MiB.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
import benchlib  # noqa: E402

HELLO = b"qlite-test-guest: hello"
TARGET_FIRST_MS = 8.0
TARGET_OVERHEAD_MIB = 5.0


def boot(argv, shim, tmp):
    env = dict(os.environ)
    mark = os.path.join(tmp, "first_run")
    if shim:
        env["LD_PRELOAD"] = shim
        env["FIRST_RUN_FILE"] = mark
        if os.path.exists(mark):
            os.unlink(mark)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    hello = None
    for line in p.stdout:
        if HELLO in line and hello is None:
            hello = time.monotonic() - t0
    p.wait()
    total = time.monotonic() - t0
    marks = {}
    if shim and os.path.exists(mark):
        with open(mark) as f:
            for line in f:
                k, v = line.split()
                marks[k] = (float(v) - t0) * 1000
    return {"create_vm_ms": marks.get("create_vm"), "first_run_ms": marks.get("run"),
            "hello_ms": None if hello is None else hello * 1000, "exit_ms": total * 1000}


def spawn_floor(runs):
    """exec of /bin/true to its exit from this process: what the harness's own spawn costs."""
    xs = []
    for _ in range(runs):
        t0 = time.monotonic()
        subprocess.run(["/bin/true"])
        xs.append((time.monotonic() - t0) * 1000)
    return benchlib.spread(xs)


def smaps_guest_ram_kib(pid, ram_mib):
    """Resident KiB of the mappings at least as large as the guest RAM: the RAM the guest touched."""
    kib, size = 0, 0
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k == "Size":
                size = int(v.split()[0])
            elif k == "Rss" and size >= ram_mib * 1024:
                kib += int(v.split()[0])
    return kib


def footprint(argv, ram_mib):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    for line in p.stdout:                      # wait until the guest runs
        if HELLO in line:
            break
    time.sleep(0.5)
    fields = {}
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads"):
                fields[k] = int(v.split()[0])
    fields["GuestRamRss"] = smaps_guest_ram_kib(p.pid, ram_mib)
    fields["OverheadRss"] = fields["VmRSS"] - fields["GuestRamRss"]
    p.kill()
    p.wait()
    return fields


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qlite")
    ap.add_argument("guest")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--ram", type=int, default=128, help="guest RAM in MiB (default 128)")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--qemu", action="store_true", help="(the default; kept for old callers)")
    ap.add_argument("--first-run", help="bench/first_run.so: time the first KVM_RUN")
    ap.add_argument("--json", help="write the numbers here")
    a = ap.parse_args()
    shim = os.path.abspath(a.first_run) if a.first_run else None

    vmms = {"qlite": lambda cmd: [a.qlite, "run", "--kernel", a.guest, "--ram", f"{a.ram}M",
                                  "--cpus", "1", "--cmdline", cmd]}
    if not a.no_qemu and shutil.which("qemu-system-x86_64"):
        vmms["QEMU"] = lambda cmd: benchlib.qemu_argv(a.guest, cmd, ram=str(a.ram))
    runs = {v: [] for v in vmms}
    order = list(vmms)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.runs):
            for v in (order if r % 2 == 0 else order[::-1]):
                runs[v].append(boot(vmms[v]("hello"), shim, tmp))
    fps = {v: footprint(vmms[v]("hello spin=3000"), a.ram) for v in order}
    floor = spawn_floor(a.runs)

    res = {}
    for v in order:
        res[v] = {k: benchlib.spread([x[k] for x in runs[v]])
                  for k in ("create_vm_ms", "first_run_ms", "hello_ms", "exit_ms") if runs[v][0][k] is not None}
        res[v]["memory_kib"] = fps[v]

    def cell(v, k):
        s = res[v].get(k)
        return f"{s['min']:,.1f} / {s['median']:,.1f} / {s['max']:,.1f}" if s else "-"

    print(f"Start-up, ms from exec (host CLOCK_MONOTONIC; min / median / max of {a.runs} runs, qlite "
          f"and QEMU interleaved), and memory while the guest runs (1 vCPU, {a.ram} MiB)")
    print("| VMM | exec -> KVM_CREATE_VM | exec -> first KVM_RUN | exec -> first console line | "
          "exec -> exit | VmRSS MiB | anon | file | guest RAM touched | overhead (VmRSS - guest RAM) "
          "| threads |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for v in order:
        m = res[v]["memory_kib"]
        print(f"| {v} | {cell(v, 'create_vm_ms')} | {cell(v, 'first_run_ms')} | {cell(v, 'hello_ms')} | "
              f"{cell(v, 'exit_ms')} | "
              f"{m['VmRSS'] / 1024:.1f} | {m['RssAnon'] / 1024:.1f} | {m['RssFile'] / 1024:.1f} | "
              f"{m['GuestRamRss'] / 1024:.1f} | {m['OverheadRss'] / 1024:.1f} | {m['Threads']} |")
    print(f"| (/bin/true, the spawn floor) | | | | {floor['min']:.1f} / {floor['median']:.1f} / "
          f"{floor['max']:.1f} | | | | | | |")
    q = res["qlite"]
    if "first_run_ms" in q:
        ok = q["first_run_ms"]["median"] <= TARGET_FIRST_MS
        print(f"{'MET' if ok else 'NOT MET'}: qlite exec -> first guest instruction "
              f"{q['first_run_ms']['median']:.1f} ms (median; target <= {TARGET_FIRST_MS:.0f} ms)")
    ov = q["memory_kib"]["OverheadRss"] / 1024
    print(f"{'MET' if ov <= TARGET_OVERHEAD_MIB else 'NOT MET'}: qlite RSS overhead {ov:.1f} MiB "
          f"(target <= {TARGET_OVERHEAD_MIB:.0f} MiB)")
    print(f"(host {os.uname().release}; QEMU -M pc runs SeaBIOS before the guest, its first KVM_RUN is "
          "SeaBIOS's first instruction; qlite enters the guest's PVH entry point directly)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"schema": "qlite-bench-boot-footprint/1", "host": platform.uname()._asdict(),
                       "clock": "host CLOCK_MONOTONIC", "ram_mib": a.ram, "results": res,
                       "spawn_floor_ms": floor,
                       "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
