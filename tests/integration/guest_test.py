#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration tests: qlite boots the test guest under the real /dev/kvm.

usage: guest_test.py QLITE TEST_GUEST CASE

Each CASE is one meson test. Without a usable /dev/kvm a case is skipped
(exit 77), except in CI (CI=true), where that is a failure.
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError as e:
        return f"/dev/kvm: {e.strerror}"
    os.close(fd)
    return None


class Failure(Exception):
    pass


def check(cond, what, res=None):
    if not cond:
        detail = ""
        if res is not None:
            detail = f"\n--- status {res.returncode}\n--- stdout\n{res.stdout}\n--- stderr\n{res.stderr}"
        raise Failure(what + detail)


def run(qlite, args, timeout=120, stdin=subprocess.DEVNULL):
    return subprocess.run([qlite, "run"] + args, stdin=stdin, capture_output=True,
                          text=True, errors="replace", timeout=timeout)


def guest_args(guest, cmdline, extra=()):
    return ["--kernel", guest, "--cmdline", cmdline, "--ram", "64M"] + list(extra)


def stop_line(res):
    lines = [l for l in res.stderr.splitlines() if l.startswith("qlite: stopped")]
    return lines[-1] if lines else ""


def case_hello(q, g):
    res = run(q, guest_args(g, "hello"))
    check("qlite-test-guest: hello" in res.stdout, "no hello on the UART", res)
    check(res.returncode == 1, "expected status 1 (debug-exit 0)", res)
    check("debug-exit" in stop_line(res), "stop line does not name debug-exit", res)


def case_exit_code(q, g):
    for v in (0, 5, 0x42):
        res = run(q, guest_args(g, f"exit={v}"))
        check(res.returncode == ((v << 1) | 1) & 0xff, f"exit={v}: wrong status", res)


def case_reset(q, g):
    res = run(q, guest_args(g, "hello reset"))
    check(res.returncode == 0, "i8042 reset must stop the VM with status 0", res)
    check("(reset:" in stop_line(res), "stop line does not say reset", res)
    check("FAIL" not in res.stdout, "guest kept running after reset", res)


def case_unclaimed(q, g):
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "exits.json")
        res = run(q, guest_args(g, "pio-read=0x2e0,7 pio-write=0x2e0,5 mmio-read=0xc8000000,3",
                                ["--stats", "--stats-json", js]))
        check(res.returncode == 1, "guest failed", res)
        with open(js) as f:
            unclaimed = json.load(f)["unclaimed"]
    line = stop_line(res)
    m = re.search(r"unclaimed pio (\d+) reads (\d+) writes, mmio (\d+) reads (\d+) writes", line)
    check(m, "no unclaimed counts in the stop line", res)
    pr, pw, mr, mw = map(int, m.groups())
    check((pr, pw, mr, mw) == (7, 5, 3, 0),
          f"unclaimed counts {(pr, pw, mr, mw)} != (7, 5, 3, 0)", res)
    # Named, busiest first per bus: the ports and the address the guest probed, nothing else.
    want = [{"bus": "pio", "addr": 0x2e0, "dir": "read", "count": 7},
            {"bus": "pio", "addr": 0x2e0, "dir": "write", "count": 5},
            {"bus": "mmio", "addr": 0xc8000000, "dir": "read", "count": 3}]
    check(unclaimed["top"] == want, f"unclaimed top {unclaimed['top']} != {want}", res)
    for addr, d, n in (("0x2e0", "read", 7), ("0x2e0", "write", 5), ("0xc8000000", "read", 3)):
        check(re.search(rf"^ +{addr} +{d} +{n} ", res.stderr, re.M),
              f"the table names no {addr} {d} x{n}", res)


def task_affinity(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                allowed = re.search(r"Cpus_allowed_list:\s*(\S+)", f.read()).group(1)
        except (OSError, AttributeError):
            continue
        out[name] = allowed
    return out


def run_watching_threads(q, args, enough):
    """qlite run ARGS, reading its threads' affinities (task_affinity) until enough(seen) or it
    ends; then (the last seen, the finished run)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen([q, "run"] + args, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             text=True)
        seen = {}
        deadline = time.time() + 60
        while time.time() < deadline and p.poll() is None:
            seen = task_affinity(p.pid)
            if enough(seen):
                break
            time.sleep(0.05)
        p.wait(timeout=120)
        out.seek(0)
        err.seek(0)
        return seen, subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())


def cpu_list(text):
    """A Cpus_allowed_list ("0-2,5") as a set."""
    out = set()
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def case_io_thread_placed(q, g):
    """With every vCPU pinned, the I/O thread (the main thread, comm "qlite") runs on the host
    CPUs no vCPU takes: a kick's eventfd is signalled from the vCPU's CPU, and the scheduler would
    otherwise wake the I/O thread there, behind the vCPU."""
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        print("qlite may use one host CPU: nothing to keep the I/O thread off")
        return SKIP
    vcpu_cpu = max(allowed)
    seen, res = run_watching_threads(
        q, guest_args(g, "spin=2000", ["--cpu-cluster", str(vcpu_cpu)]),
        lambda seen: "qlite-vcpu-0" in seen and cpu_list(seen.get("qlite", "")) != allowed)
    check(seen.get("qlite-vcpu-0") == str(vcpu_cpu), f"vCPU 0's affinity {seen}", res)
    check(cpu_list(seen.get("qlite", "")) == allowed - {vcpu_cpu},
          f"the I/O thread's affinity {seen.get('qlite')} != {sorted(allowed - {vcpu_cpu})}", res)
    check(res.returncode == 1, "guest failed", res)


def case_smp_pinned(q, g):
    ncpu = os.cpu_count() or 1
    if ncpu < 2:
        print("host has one CPU: pinning two vCPUs to two host CPUs cannot be checked")
        return SKIP
    seen, res = run_watching_threads(
        q, guest_args(g, "smp=2 spin=3000", ["--cpus", "2", "--cpu-cluster", "0,1"]),
        lambda seen: "qlite-vcpu-0" in seen and "qlite-vcpu-1" in seen)
    check(seen.get("qlite-vcpu-0") == "0" and seen.get("qlite-vcpu-1") == "1",
          f"vCPU threads' affinity {seen} != vcpu-0 on 0, vcpu-1 on 1", res)
    allowed = os.sched_getaffinity(0)
    if allowed == {0, 1}:
        # The vCPUs take every CPU: the I/O thread is left to the scheduler.
        check(cpu_list(seen.get("qlite", "")) == allowed,
              f"the I/O thread's affinity {seen.get('qlite')} != {allowed}", res)
    check("smp: 2 cpus up" in res.stdout, "the guest did not see 2 CPUs up", res)
    check(res.returncode == 1, "guest failed", res)


SPLIT_KICKS = 20


def split_irqchip_run(argv, what):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    res = subprocess.CompletedProcess(argv, p.returncode, p.stdout.decode(errors="replace"),
                                      p.stderr.decode(errors="replace"))
    check(f"{SPLIT_KICKS} GET_ID requests interrupt-driven" in res.stdout and
          "qlite-test-guest: done" in res.stdout and "FAIL" not in res.stdout,
          f"{what}: the interrupt-driven requests did not all complete", res)
    return res


def case_split_irqchip(q, g):
    """`irqchip split`: virtio-blk over MMIO interrupts through qlite's IOAPIC, pin 5, edge; one
    interrupt per interrupt-driven request, and the IOAPIC's exits exactly as the guest's driver
    (tests/guest/irq.c irq_ioapic_route) makes them: routing on (VER read, high then low half of
    the entry) and off (VER read, mask)."""
    with tempfile.TemporaryDirectory() as d:
        img, js = os.path.join(d, "disk.img"), os.path.join(d, "exits.json")
        with open(img, "wb") as f:
            f.truncate(16 << 20)
        res = split_irqchip_run(
            [q, "run"] + guest_args(g, f"vblk-mmio-kick=0xfed00000,0xfec00000,5,{SPLIT_KICKS}",
                                    ["--irqchip", "split", "--vdev",
                                     f"virtio-blk,transport=mmio,irq=5,file={img}",
                                     "--stats-json", js]), "qlite")
        check(res.returncode == 1, "expected status 1 (debug-exit 0)", res)
        with open(js) as f:
            data = json.load(f)
    rep = [r for r in data["device_reports"] if r["name"] == "ioapic"]
    check(len(rep) == 1, "no ioapic in the device reports", res)
    check(rep[0]["counters"] == {"interrupts": SPLIT_KICKS, "blocked_by_iommu": 0, "eois": 0},
          f"ioapic counters {rep[0]['counters']}", res)
    regs = {}
    for dev in data["devices"]:
        if dev["device"] == "ioapic":
            for r in dev["registers"]:
                regs[r["register"], r["dir"]] = regs.get((r["register"], r["dir"]), 0) + r["exits"]
            check(dev["other_reads"] == 0 and dev["other_writes"] == 0, "ioapic: unnamed accesses", res)
    want = {("IOREGSEL", "write"): 5, ("IOWIN", "read"): 2, ("IOWIN", "write"): 3}
    check(regs == want, f"ioapic exits {regs}, expected {want}", res)
    eois = sum(v["reasons"].get("ioapic_eoi", {}).get("exits", 0) for v in data["vcpus"])
    check(eois == 0, f"edge interrupts made {eois} EOI exits", res)


def case_qemu_split_irqchip(q, g):
    """The same word under QEMU with its split irqchip (microvm, one IOAPIC, its device on pin 23)."""
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "disk.img")
        with open(img, "wb") as f:
            f.truncate(16 << 20)
        res = split_irqchip_run(
            ["qemu-system-x86_64", "-accel", "kvm", "-nodefaults", "-m", "64", "-display", "none",
             "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
             "-M", "microvm,ioapic2=off,kernel-irqchip=split",
             "-global", "virtio-mmio.force-legacy=false",
             "-drive", f"if=none,id=d,file={img},format=raw", "-device", "virtio-blk-device,drive=d",
             "-kernel", g, "-append", f"vblk-mmio-kick=0xfeb00e00,0xfec00000,23,{SPLIT_KICKS}"],
            "QEMU")
        check(res.returncode == 1, "QEMU: expected status 1 (debug-exit 0)", res)


PIT_SPIN_MS = 500


def split_pit_check(res, what):
    """The guest calibrated its TSC against PIT channel 2 through port 0x61, without falling back."""
    check(res.returncode == 1, f"{what}: expected status 1 (debug-exit 0)", res)
    check(re.search(r"^pio-write: 10 ops, \d+ us, \d+ ns/op, clock pit$", res.stdout, re.M),
          f"{what}: expected clock pit (channel 2 calibration)", res)
    check("does not count" not in res.stdout and "assuming" not in res.stdout,
          f"{what}: the PIT calibration fell back", res)
    check(f"spin: {PIT_SPIN_MS} ms" in res.stdout, f"{what}: no spin line", res)


def case_split_pit(q, g):
    """`irqchip split` has qlite's own 8254 (src/devices/pit8254.c): with quirks on (no CPUID
    0x40000010) the test guest calibrates against channel 2 and port B, as under KVM's PIT. The
    rate it finds is right within a factor of about 1.6 (a 500 ms spin takes 0.3-3 s of host
    time), the PIT's exits are its named registers, and channel 0 stayed quiet."""
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "exits.json")
        t0 = time.monotonic()
        res = run(q, guest_args(g, f"pio-write=0x3ff,10 spin={PIT_SPIN_MS}",
                                ["--irqchip", "split", "--quirks", "on", "--stats-json", js]))
        took = time.monotonic() - t0
        split_pit_check(res, "qlite")
        with open(js) as f:
            data = json.load(f)
    check(0.3 <= took <= 3.0, f"a {PIT_SPIN_MS} ms spin took {took:.2f} s: the PIT's rate is off", res)
    regs = {}
    for dev in data["devices"]:
        if dev["device"] in ("pit", "pit-port61"):
            for r in dev["registers"]:
                regs[r["register"], r["dir"]] = regs.get((r["register"], r["dir"]), 0) + r["exits"]
            check(dev["other_reads"] == 0 and dev["other_writes"] == 0,
                  f"{dev['device']}: unnamed accesses", res)
    # tests/guest/timer.c pit_calibrate: port B read and written, a control word, two count bytes,
    # then port B polled until channel 2's OUT rises.
    check(regs.get(("MODE", "write")) == 1 and regs.get(("CH2", "write")) == 2 and
          regs.get(("PORT61", "write")) == 1 and regs.get(("PORT61", "read"), 0) > 2 and
          not any(k[0] in ("CH0", "CH1") for k in regs),
          f"pit exits {regs}", res)
    rep = [r for r in data["device_reports"] if r["name"] == "pit"]
    check(len(rep) == 1, "no pit in the device reports", res)
    check(rep[0]["counters"] == {"irq0_ticks": 0, "lost_ticks": 0, "reprograms": 0},
          f"pit counters {rep[0]['counters']}", res)


def case_qemu_split_pit(q, g):
    """The same guest under QEMU's split irqchip, whose PIT is in userspace too (pc machine: port
    0x61 is there, unlike microvm's), calibrates the same way."""
    if not shutil.which("qemu-system-x86_64"):
        raise Failure("qemu-system-x86_64 not found (Debian: qemu-system-x86, scripts/setup.sh)")
    argv = ["qemu-system-x86_64", "-accel", "kvm", "-nodefaults", "-m", "64", "-display", "none",
            "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-M", "pc,kernel-irqchip=split", "-kernel", g,
            "-append", f"pio-write=0x3ff,10 spin={PIT_SPIN_MS}"]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    res = subprocess.CompletedProcess(argv, p.returncode, p.stdout.decode(errors="replace"),
                                      p.stderr.decode(errors="replace"))
    split_pit_check(res, "QEMU")


PIC_TICKS = 50


def pic_ticks_check(res, what):
    check(res.returncode == 1, f"{what}: expected status 1 (debug-exit 0)", res)
    check(re.search(rf"^pic-ticks: {PIC_TICKS} ticks on vector 0x40 through the 8259 in \d+ us$",
                    res.stdout, re.M), f"{what}: no pic-ticks line", res)


def case_pic_ticks(q, g):
    """tests/guest/pic.c under KVM's own PIC and PIT: the word's reference run."""
    pic_ticks_check(run(q, guest_args(g, f"pic-ticks={PIC_TICKS}")), "qlite (KVM's PIC)")


def case_split_pic(q, g):
    """`irqchip split` has qlite's own 8259 pair (src/devices/pic8259.c): PIT channel 0 ticks reach
    the guest through it as ExtINT on vCPU 0 (KVM_INTERRUPT), each one acknowledged at injection
    (in ISR when the handler ran) and ended by the guest's EOI; the PIC's exits are its named
    registers, and the IOAPIC, whose pin 0 stays masked, delivered nothing."""
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "exits.json")
        res = run(q, guest_args(g, f"pic-ticks={PIC_TICKS}", ["--irqchip", "split", "--stats-json", js]))
        pic_ticks_check(res, "qlite")
        with open(js) as f:
            data = json.load(f)
    reps = {r["name"]: r["counters"] for r in data["device_reports"]}
    pic = reps.get("pic", {})
    # One more tick may be taken between the last EOI and the guest's masking it (then ended too).
    check(pic.get("acks") in (PIC_TICKS, PIC_TICKS + 1) and pic.get("eois") == pic.get("acks") and
          pic.get("spurious_irq7") == 0 and pic.get("spurious_irq15") == 0,
          f"pic counters {pic}", res)
    check(reps["ioapic"]["interrupts"] == 0, f"ioapic counters {reps['ioapic']}", res)
    check(reps["pit"]["irq0_ticks"] >= PIC_TICKS, f"pit counters {reps['pit']}", res)
    for dev in data["devices"]:
        if dev["device"] in ("pic-master", "pic-slave", "pic-elcr"):
            check(dev["other_reads"] == 0 and dev["other_writes"] == 0,
                  f"{dev['device']}: unnamed accesses", res)


def case_qemu_split_pic(q, g):
    """The same word under QEMU's split irqchip (pc machine), whose 8259 pair is in userspace too."""
    if not shutil.which("qemu-system-x86_64"):
        raise Failure("qemu-system-x86_64 not found (Debian: qemu-system-x86, scripts/setup.sh)")
    argv = ["qemu-system-x86_64", "-accel", "kvm", "-nodefaults", "-m", "64", "-display", "none",
            "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-M", "pc,kernel-irqchip=split", "-kernel", g, "-append", f"pic-ticks={PIC_TICKS}"]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    res = subprocess.CompletedProcess(argv, p.returncode, p.stdout.decode(errors="replace"),
                                      p.stderr.decode(errors="replace"))
    pic_ticks_check(res, "QEMU")


def case_uart_input(q, g):
    p = subprocess.run([q, "run"] + guest_args(g, "uart-echo=5"), input="hello",
                       capture_output=True, text=True, errors="replace", timeout=120)
    check(p.returncode == 1, "uart-echo failed", p)
    check("hello" in p.stdout, "echoed bytes missing", p)


def case_hist(q, g):
    """`hist` times each access of the loops after it: one bucket line per loop, the counts add
    up to the loop's accesses, the bounds are quarter-octave lower bounds, and the loop before
    `hist` prints none."""
    res = run(q, guest_args(g, "pio-read=0x3ff,10 hist pio-read=0x3ff,50 mmio-read=0xfee00030,30"))
    check(res.returncode == 1, "hist run failed", res)
    got = re.findall(r"^([a-z-]+): hist cycles((?: \d+:\d+)+)$", res.stdout, re.M)
    check([w for w, _ in got] == ["pio-read", "mmio-read"], f"hist lines {got}", res)
    for (word, buckets), n in zip(got, (50, 30)):
        pairs = [tuple(map(int, b.split(":"))) for b in buckets.split()]
        check(sum(c for _, c in pairs) == n, f"{word}: {pairs} does not add up to {n}", res)
        for lo, _ in pairs:
            top = lo.bit_length() - 1
            check(lo < 4 or lo >> max(top - 2, 0) in (4, 5, 6, 7) and lo % (1 << (top - 2)) == 0,
                  f"{word}: {lo} is no quarter-octave bound", res)
        check([lo for lo, _ in pairs] == sorted(lo for lo, _ in pairs), f"{word}: unsorted", res)


def paced_break(argv, what):
    """Types Z, then Ctrl-A b, then Y into argv's stdin, each after the guest echoed the one
    before (so a break never waits in a FIFO behind a byte: QEMU's UART flags BI at once, not
    when its byte reaches the top), and returns the output."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    out = b""
    try:
        # The guest waits for the next byte after each echo, so the first two end the output;
        # the last one is followed by the guest's exit lines.
        for send, echo, last in ((b"Z", b"Z", False), (b"\x01b", b"Z[break]", False),
                                 (b"Y", b"Z[break]Y\n", True)):
            p.stdin.write(send)
            p.stdin.flush()
            deadline = time.monotonic() + 60
            while not (out.endswith(echo) or (last and echo in out)):
                left = deadline - time.monotonic()
                check(left > 0 and select.select([p.stdout], [], [], left)[0],
                      f"{what}: no '{echo.decode()}' echoed; output:\n{out.decode(errors='replace')}")
                chunk = os.read(p.stdout.fileno(), 4096)
                check(chunk, f"{what} ended early; output:\n{out.decode(errors='replace')}")
                out += chunk
        p.stdin.close()
        p.wait(timeout=60)
        out += p.stdout.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out.decode(errors="replace")


def case_uart_break(q, g):
    """Ctrl-A b on the console sends a break: the guest's UART shows LSR.BI with a zero byte,
    between the bytes typed before and after it (Linux takes this for its serial SysRq)."""
    status, out = paced_break([q, "run"] + guest_args(g, "uart-echo=3"), "qlite")
    check(status == 1 and "Z[break]Y\n" in out, f"qlite: status {status}, output:\n{out}")


def case_qemu_uart_break(q, g):
    """The same under QEMU (-serial mon:stdio, whose Ctrl-A b is the escape qlite copies)."""
    if not shutil.which("qemu-system-x86_64"):
        raise Failure("qemu-system-x86_64 not found (Debian: qemu-system-x86, scripts/setup.sh)")
    status, out = paced_break(["qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-m", "64",
                               "-display", "none", "-serial", "mon:stdio", "-no-reboot",
                               "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                               "-kernel", g, "-append", "uart-echo=3"], "QEMU")
    check(status == 1 and "Z[break]Y\n" in out, f"QEMU: status {status}, output:\n{out}")


def case_console_tty(q, g):
    """On a terminal: raw mode (keys reach the guest unechoed), Ctrl-A x quits, the terminal is restored."""
    import pty
    import termios
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    p = subprocess.Popen([q, "run"] + guest_args(g, "hello uart-echo=3 spin=30000"),
                         stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    out = b""

    def read_until(marker, limit):
        nonlocal out
        end = time.time() + limit
        while marker not in out and time.time() < end:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
        return marker in out

    try:
        ok = read_until(b"qlite-test-guest: hello", 30)
        os.write(master, b"xyz")
        ok = ok and read_until(b"xyz", 30)
        os.write(master, b"\x01x")
        p.wait(timeout=30)
        read_until(b"qlite: stopped", 5)
    finally:
        if p.poll() is None:
            p.kill()
    after = termios.tcgetattr(slave)
    os.close(slave)
    os.close(master)
    text = out.decode(errors="replace")
    res = subprocess.CompletedProcess(p.args, p.returncode, text, "")
    check(ok and "FAIL" not in text, "the guest did not echo the keys typed on the terminal", res)
    check(p.returncode == 0 and "(quit: Ctrl-A x" in text, "Ctrl-A x must stop qlite with status 0", res)
    check(before == after, "the terminal settings were not restored", res)


def case_sigterm(q, g):
    p = subprocess.Popen([q, "run"] + guest_args(g, "hello spin=60000"), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    res = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    check(p.returncode == 128 + signal.SIGTERM, "SIGTERM must stop the VM with status 143", res)
    check("(signal:" in stop_line(res), "stop line does not name the signal", res)


def last_load_middle(elf):
    """An offset inside the file data of the ELF's last PT_LOAD segment."""
    import struct
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    best = 0
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if p_type == 1 and p_filesz:
            best = max(best, p_offset + p_filesz // 2)
    return best


def case_bad_kernel(q, g):
    with tempfile.TemporaryDirectory() as d:
        junk = os.path.join(d, "junk")
        with open(junk, "wb") as f:
            f.write(os.urandom(4096))
        res = run(q, ["--kernel", junk, "--ram", "64M"])
        check(res.returncode == 1 and "not a kernel image" in res.stderr, "junk kernel", res)
        short = os.path.join(d, "short")
        with open(short, "wb") as f:
            f.write(b"\x7fELF")
        res = run(q, ["--kernel", short, "--ram", "64M"])
        check(res.returncode == 1 and "truncated ELF header" in res.stderr, "4-byte kernel", res)
        trunc = os.path.join(d, "trunc.elf")
        with open(g, "rb") as f:
            data = f.read()
        with open(trunc, "wb") as f:
            f.write(data[:last_load_middle(data)])
        res = run(q, ["--kernel", trunc, "--ram", "64M"])
        check(res.returncode == 1 and "trunc" in res.stderr, "truncated ELF", res)
        for r in (res,):
            check(len(r.stderr.strip().splitlines()) == 1, "error must be one line", r)
        res = run(q, ["--kernel", os.path.join(d, "missing"), "--ram", "64M"])
        check(res.returncode == 2, "missing kernel must be a config error (status 2)", res)


def case_check_as_run(q, g):
    """Every kernel qlite run refuses, qlite check refuses too: the same line, status 1 both."""
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
    import cli_test
    cli_test.GUEST = g
    with tempfile.TemporaryDirectory() as d:
        for name, args, line in cli_test.bad_kernels(d):
            res = run(q, args)
            chk = subprocess.run([q, "check"] + args, capture_output=True, text=True, timeout=60)
            errs = [l for l in res.stderr.splitlines() if l.startswith(line)]
            check(res.returncode == 1 and len(errs) == 1, f"run, {name} kernel: status 1 and '{line}...'", res)
            check(chk.returncode == 1 and chk.stderr == errs[0] + "\n",
                  f"check, {name} kernel: status 1 and run's line '{errs[0]}'", chk)


def case_stdin_config(q, g):
    """`qlite run -`: the config from standard input, its kernel path relative to the current
    directory; the console then reads the same stdin at its end without harm."""
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(g, os.path.join(d, "guest.elf"))
        res = subprocess.run([os.path.abspath(q), "run", "-", "--ram", "64M"], cwd=d,
                             input="kernel guest.elf\ncmdline hello\n", capture_output=True,
                             text=True, errors="replace", timeout=120)
        check(res.returncode == 1 and "qlite-test-guest: hello" in res.stdout,
              "qlite run - boots the config read from stdin", res)


CMDLINE_TO_DEBUG_EXIT = bytes([
    0x8B, 0x8E, 0x28, 0x02, 0x00, 0x00,  # mov ecx, [rsi + 0x228]
    0x8A, 0x01,                          # mov al, [rcx]
    0xE6, 0xF4,                          # out 0xf4, al
    0xF4, 0xEB, 0xFD])                   # hlt; jmp hlt


def make_bzimage(code=CMDLINE_TO_DEBUG_EXIT):
    """A minimal bzImage whose 64-bit entry (+0x200) writes the first byte of
    the command line (boot_params.hdr.cmd_line_ptr, found through %rsi) to
    the debug-exit port: proves long-mode entry, the zero page and the cmdline."""
    import struct
    setup = bytearray(2 * 512)                      # setup_sects = 1
    setup[0x1f1] = 1
    struct.pack_into("<H", setup, 0x1fe, 0xAA55)
    setup[0x200:0x202] = b"\xeb\x6a"                # header runs to 0x26c
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x020F)     # boot protocol 2.15
    struct.pack_into("<I", setup, 0x22C, 0x7FFFFFFF) # initrd_addr_max
    struct.pack_into("<H", setup, 0x236, 1)          # XLF_KERNEL_64
    struct.pack_into("<I", setup, 0x238, 255)        # cmdline_size
    return bytes(setup) + bytes(0x200) + code


def case_bzimage(q, g):
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "bzImage")
        with open(img, "wb") as f:
            f.write(make_bzimage())
        res = run(q, ["--kernel", img, "--cmdline", "A", "--ram", "64M"])
        check(res.returncode == (0x41 << 1 | 1) & 0xFF,
              "bzImage entry must see its command line through the zero page", res)


def case_stats_interval(q, g):
    res = run(q, guest_args(g, "pio-write=0x3ff,20000 spin=2500", ["--stats-interval", "500ms"]))
    check(res.returncode == 1, "guest failed", res)
    lines = [l for l in res.stderr.splitlines() if re.match(r"qlite:\s+[0-9.]+ s\s+exits/s", l)]
    check(len(lines) >= 3, f"expected interval lines every 500 ms, got {len(lines)}", res)
    check(any("uart8250" in l for l in lines), "interval lines name the busiest device", res)
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "stats.log")
        res = run(q, guest_args(g, "pio-write=0x3ff,2000 spin=1200", ["--stats", "interval=500ms,log=" + log]))
        check(res.returncode == 1, "guest failed", res)
        with open(log) as f:
            logged = [l for l in f if re.match(r"qlite:\s+[0-9.]+ s\s+exits/s", l)]
        check(len(logged) >= 2, f"--stats log: expected interval lines in the file, got {len(logged)}", res)
        check(not re.search(r"exits/s", res.stderr.split("=== qlite exit report")[0]),
              "with a log file the interval lines leave stderr", res)


CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "configs")


def case_configs(q, g):
    """Every example in configs/ checks clean; those made for the test guest run.
    The kernel (and initrd) are pointed at the test guest built here, since
    the files name paths under build/ and guest/ that a test build may not have."""
    confs = sorted(f for f in os.listdir(CONFIGS) if f.endswith(".conf"))
    check(confs, "no configs found")
    for conf in confs:
        path = os.path.join(CONFIGS, conf)
        with open(path) as f:
            text = f.read()
        override = ["--kernel", g] + (["--initrd", g] if "initrd" in text else [])
        res = subprocess.run([q, "check", path] + override, capture_output=True, text=True, timeout=60)
        check(res.returncode == 0 and "memory map" in res.stdout, f"qlite check {conf}", res)
        with tempfile.TemporaryDirectory() as d:
            dtb = os.path.join(d, "machine.dtb")
            res = subprocess.run([q, "check", path, "--dtb", dtb] + override, capture_output=True,
                                 text=True, timeout=60)
            check(res.returncode == 0 and os.path.getsize(dtb) > 0, f"qlite check {conf} --dtb", res)
            if shutil.which("dtc"):
                res = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", dtb], capture_output=True, text=True)
                check(res.returncode == 0 and "cpu@0" in res.stdout and "uart8250@i3f8" in res.stdout
                      and "Warning" not in res.stderr, f"dtc reads the DTB of {conf}", res)
        if "linux" in conf:
            continue
        res = run(q, [path, "--kernel", g])
        passed = res.returncode == 1 and "qlite-test-guest: done" in res.stdout
        reset = res.returncode == 0 and "(reset:" in stop_line(res) and "FAIL" not in res.stdout
        check(passed or reset, f"qlite run {conf}", res)


def case_triple_fault(q, g):
    """ud2 with no IDT (the 64-bit entry state has none): #UD, #DF, triple fault. Like a reset,
    it stops the VM with status 0, and the stop line says what happened."""
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "bzImage")
        with open(img, "wb") as f:
            f.write(make_bzimage(bytes([0x0F, 0x0B, 0xEB, 0xFE])))  # ud2; jmp $
        res = run(q, ["--kernel", img, "--ram", "64M"])
        check(res.returncode == 0 and "triple fault" in stop_line(res), "triple fault must stop the VM", res)


def case_tsc_clock(q, g):
    """The guest's TSC rate: tsc-khz=N wins; else qlite's CPUID 0x40000010 (KVM_GET_TSC_KHZ,
    beside a visible KVM signature); else the PIT (quirks on hide the signature). The loop line
    names the clock each time."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
    import benchlib
    khz = benchlib.tsc_khz()
    loop = r"^pio-write: 10 ops, \d+ us, \d+ ns/op, clock "
    res = run(q, guest_args(g, f"tsc-khz={khz} pio-write=0x3ff,10"))
    check(re.search(loop + "cmdline$", res.stdout, re.M), "tsc-khz=N: expected clock cmdline", res)
    res = run(q, guest_args(g, "pio-write=0x3ff,10", ["--quirks", "off"]))
    check(re.search(loop + "cpuid$", res.stdout, re.M), "quirks off: expected clock cpuid", res)
    res = run(q, guest_args(g, f"tsc-khz={khz + 1000} pio-write=0x3ff,10", ["--quirks", "off"]))
    check(f"tsc-khz={khz + 1000}, CPUID 0x40000010 says {khz}\n" in res.stdout,
          f"CPUID 0x40000010 must hold KVM_GET_TSC_KHZ ({khz})", res)
    check(re.search(loop + "cmdline$", res.stdout, re.M), "tsc-khz=N must win over CPUID", res)
    res = run(q, guest_args(g, "pio-write=0x3ff,10", ["--quirks", "on"]))
    check(re.search(loop + "pit$", res.stdout, re.M), "quirks on (no KVM signature): expected clock pit", res)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def run_case(cases, args, extra_why=None):
    """The main of every integration test file: usage ARGS... CASE, where CASE names one of cases,
    called with ARGS. Without a usable /dev/kvm (or what extra_why(case) says is missing) the case
    is skipped, except in CI (CI=true), where that is a failure."""
    if len(sys.argv) != len(args) + 2 or sys.argv[-1] not in cases:
        print(f"usage: {sys.argv[0]} {' '.join(args)} {{{','.join(cases)}}}", file=sys.stderr)
        return 2
    case = sys.argv[-1]
    why = kvm_usable() or (extra_why(case) if extra_why else None)
    if why:
        if os.environ.get("CI") == "true":
            print(f"FAIL: {why} (in CI it is required)")
            return 1
        print(f"SKIP: {why}")
        return SKIP
    try:
        ret = cases[case](*sys.argv[1:-1])
    except Failure as e:
        print(f"FAIL: {e}")
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"FAIL: timeout: {e}")
        return 1
    print(f"ok: {case}")
    return ret or 0


if __name__ == "__main__":
    sys.exit(run_case(CASES, ["QLITE", "GUEST"]))
