#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration tests of the test guest's block drivers, under QEMU (the reference).

usage: blk_guest_test.py QLITE TEST_GUEST CASE

The test guest (tests/guest/) drives a disk from ring 3: ide-pio and ide-dma on the PIIX3 IDE
primary master, vblk on virtio-blk-pci (modern), vblk-mmio on virtio-mmio v2. Each writes a pattern
from sector 0, flushes, reads it back and checks it. These cases run the scenarios under
qemu-system-x86_64 on a fresh raw image and then check, after the VM is gone, that the image holds
exactly the pattern the guest wrote and nothing else. The qemu_flushed case kills QEMU (SIGKILL) at
the guest's 'qlite-test-guest: flushed' line and checks the image too: what qlite's own durability
tests will do.

Each scenario run also records QEMU's own KVM exit counters (QMP query-stats, vCPU target) taken
around the scenario: the guest command line is wrapped in 'spin=1 spin=400 ... spin=1 spin=400',
and the counters are read while the guest spins silently after each 'spin: 1 ms' line. They are
printed, not checked (on this host's KVM most PIO is not counted as io_exits).

The qlite_* cases run the same words under qlite (`--vdev ide,file=IMG`, `--vdev
virtio-blk,file=IMG` and `--vdev virtio-blk,file=IMG,transport=mmio`, whose window `qlite check`
must show at 0xfed00000) and check the same images. A qlite that refuses the device (`qlite
check`) fails them, as does a window elsewhere. Without a usable /dev/kvm every case is skipped, and
without qemu-system-x86_64 the qemu_* cases are (exit 77); in CI (CI=true) either is a failure.
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

# The helpers of the other integration tests (this directory is sys.path[0]); no __pycache__
# left in the source tree.
sys.dont_write_bytecode = True
from guest_test import Failure, check, run_case

QEMU = "qemu-system-x86_64"
QEMU_TIMEOUT = 120  # SeaBIOS takes ~3 s with -nodefaults here; PIO writes ~13 ms per sector
SECTOR = 512
IMAGE_SIZE = 16 << 20  # 32768 sectors
MICROVM_MMIO = 0xFEB02E00  # microvm's last virtio-mmio transport: where the first device goes
STATS_SPIN_MS = 400
STATS = ("exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits", "insn_emulation",
         "signal_exits")

# -nodefaults drops the VGA, NIC and CD-ROM and their option ROMs: SeaBIOS boots in half the time.
# The pc machine's PIIX3 IDE (00:01.1) is part of the board; -device piix3-ide would add a second.
COMMON = ["-accel", "kvm", "-nodefaults", "-m", "64", "-display", "none", "-serial", "stdio",
          "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


def machine(kind, img, blkdebug=None):
    """QEMU arguments for a disk on IMG behind each kind of controller; with BLKDEBUG (a blkdebug
    config file) the disk fails the I/O it says."""
    drive = ["-drive", f"if=none,id=d,file={img},format=raw"]
    if blkdebug:
        drive = ["-drive", f"if=none,id=d,driver=raw,file.driver=blkdebug,file.config={blkdebug},"
                 f"file.image.filename={img}"]
    if kind == "ide":
        return ["-M", "pc"] + drive + ["-device", "ide-hd,drive=d,bus=ide.0"]
    if kind == "vblk":
        return ["-M", "pc"] + drive + ["-device", "virtio-blk-pci,drive=d,disable-legacy=on"]
    if kind == "mmio":
        # virtio-mmio is legacy (version 1) unless told otherwise.
        return ["-M", "microvm", "-global", "virtio-mmio.force-legacy=false"] + drive + [
            "-device", "virtio-blk-device,drive=d"]
    raise ValueError(kind)


def tag(word):
    """The pattern's tag: the last four letters of the scenario word, little-endian."""
    return int.from_bytes(word[-4:].encode(), "little")


def pattern(lba, t):
    """Sector LBA as the guest writes it (tests/guest/disk.c)."""
    return struct.pack("<128I", *[((lba << 7 | k) * 0x9E3779B1 ^ t) & 0xFFFFFFFF for k in range(128)])


def fresh_image(d, name="disk.img"):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.truncate(IMAGE_SIZE)
    return path


def check_image(path, word, sectors, res=None):
    """The first SECTORS sectors hold WORD's pattern, the rest of the image is still zero."""
    with open(path, "rb") as f:
        data = f.read()
    check(len(data) == IMAGE_SIZE, f"{path}: size {len(data)} != {IMAGE_SIZE}", res)
    t = tag(word)
    for lba in range(sectors):
        got = data[lba * SECTOR:(lba + 1) * SECTOR]
        want = pattern(lba, t)
        if got != want:
            off = next(i for i in range(SECTOR) if got[i] != want[i])
            check(False, f"{word}: image LBA {lba} byte {off}: {got[off:off + 8].hex()} on disk, "
                  f"{want[off:off + 8].hex()} written", res)
    rest = data[sectors * SECTOR:]
    nz = len(rest) - len(rest.lstrip(b"\0"))
    check(rest.count(0) == len(rest),
          f"{word}: image has data past LBA {sectors - 1}: first non-zero byte at {sectors * SECTOR + nz}", res)
    print(f"{word}: image holds the pattern in LBA 0..{sectors - 1}, zeros after")


class Qmp:
    """A QMP client on a unix socket: the handshake, then one command at a time."""

    def __init__(self, path, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise Failure(f"QMP socket {path} never accepted a connection")
                time.sleep(0.02)
        self.sock.settimeout(10)
        self.buf = b""
        self._reply()  # the greeting
        self.command("qmp_capabilities")

    def _reply(self):
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise Failure("QMP connection closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, name, **arguments):
        req = {"execute": name}
        if arguments:
            req["arguments"] = arguments
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        msg = self._reply()
        if "error" in msg:
            raise Failure(f"QMP {name}: {msg['error']}")
        return msg.get("return")

    def vcpu_stats(self):
        """The KVM vCPU counters named in STATS, summed over the vCPUs."""
        out = dict.fromkeys(STATS, 0)
        for entry in self.command("query-stats", target="vcpu"):
            for s in entry.get("stats", []):
                if s["name"] in out and isinstance(s["value"], int):
                    out[s["name"]] += s["value"]
        return out

    def close(self):
        self.sock.close()


class VmRun:
    """A VMM running the test guest, its serial output (stdout) collected line by line with
    arrival times."""

    def __init__(self, argv, tmp):
        self.argv = argv
        self.err = tempfile.TemporaryFile("w+", dir=tmp)
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, errors="replace")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()
        with self.cond:
            self.lines.append((time.monotonic(), None))  # end of output
            self.cond.notify_all()

    def wait_line(self, pred, nth=1, timeout=QEMU_TIMEOUT):
        """The arrival time of the nth line for which pred(line) holds; None if the output ends
        or a FAIL or EXCEPTION line comes first."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                seen = 0
                for t, line in self.lines:
                    if line is None or line.startswith(("FAIL:", "EXCEPTION:")):
                        return None
                    if pred(line):
                        seen += 1
                        if seen == nth:
                            return t
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def finish(self, kill=False, timeout=QEMU_TIMEOUT):
        if kill:
            self.proc.send_signal(signal.SIGKILL)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=10)
        self.err.seek(0)
        out = "\n".join(l for _, l in self.lines if l is not None) + "\n"
        res = subprocess.CompletedProcess(self.argv, self.proc.returncode, out, self.err.read())
        self.err.close()
        return res


class QemuRun(VmRun):
    """QEMU running the test guest, with QMP on a socket."""

    def __init__(self, guest, cmdline, args, tmp):
        self.qmp_path = os.path.join(tmp, "qmp.sock")
        super().__init__([QEMU] + COMMON + args + ["-kernel", guest, "-append", cmdline,
                                                   "-qmp", f"unix:{self.qmp_path},server=on,wait=off"], tmp)

    def finish(self, kill=False, timeout=QEMU_TIMEOUT):
        res = super().finish(kill, timeout)
        # QEMU's own errors exit with 1 too: status 1 only counts without one.
        errors = [l for l in res.stderr.splitlines() if l.startswith(QEMU + ":") and "warning:" not in l]
        check(not errors, "QEMU failed: " + "; ".join(errors), res)
        return res


def is_spin1(line):
    return line.startswith("spin: 1 ms")


def mmio_transport(qtree):
    """The address of the virtio-mmio transport holding the virtio-blk-device, from 'info qtree'
    (its 'mmio ADDR/SIZE' line comes a few lines above the device's)."""
    where = None
    for line in qtree.splitlines():
        m = re.match(r"\s*mmio ([0-9a-f]+)/", line)
        if m:
            where = int(m.group(1), 16)
        elif re.match(r"\s*dev: ", line) and "virtio-blk-device" not in line and "virtio-mmio" not in line:
            where = None
        elif "dev: virtio-blk-device" in line:
            return where
    return None


def run_scenario(guest, kind, words, tmp, img):
    """WORDS under QEMU with a disk on IMG; the exit counters around them. Returns the result."""
    cmdline = f"spin=1 spin={STATS_SPIN_MS} {words} spin=1 spin={STATS_SPIN_MS}"
    q = QemuRun(guest, cmdline, machine(kind, img), tmp)
    deltas, note = None, ""
    try:
        qmp = Qmp(q.qmp_path, time.time() + 30)
        if kind == "mmio":
            where = mmio_transport(qmp.command("human-monitor-command", **{"command-line": "info qtree"}))
            check(where == MICROVM_MMIO, f"QEMU put virtio-blk-device at {where and hex(where)}, "
                  f"not {MICROVM_MMIO:#x} (info qtree)")
        t_mark = q.wait_line(is_spin1, 1)
        if t_mark is not None:
            before = qmp.vcpu_stats()
            late = time.monotonic() - t_mark
            if q.wait_line(is_spin1, 2) is not None:
                t2 = time.monotonic()
                after = qmp.vcpu_stats()
                late = max(late, time.monotonic() - t2)
                deltas = {k: after[k] - before[k] for k in STATS}
                if late > STATS_SPIN_MS / 1000 * 0.75:
                    note = f" (a reading came {late * 1000:.0f} ms after its mark: not exact)"
        qmp.close()
    finally:
        res = q.finish()
    if deltas:
        print(f"QEMU KVM counters over '{words}'{note}: " +
              ", ".join(f"{k} {v}" for k, v in deltas.items()) +
              f"; the guest printed {uart_bytes(res.stdout)} bytes meanwhile (2 PIO each)")
    return res


def uart_bytes(out):
    """Bytes the guest printed between the two counter readings: after the first 'spin: 1 ms'
    line, up to the end of the second."""
    lines = out.splitlines(keepends=True)
    marks = [i for i, l in enumerate(lines) if is_spin1(l)]
    return sum(len(l) for l in lines[marks[0] + 1:marks[1] + 1]) if len(marks) >= 2 else 0


def check_passed(res, words):
    check(res.returncode == 1 and "qlite-test-guest: done" in res.stdout and "FAIL" not in res.stdout,
          f"'{words}' under QEMU: expected status 1 and done", res)
    for line in res.stdout.splitlines():
        if re.match(r"(ide-pio|ide-dma|vblk|vblk-mmio|qlite-test-guest: PIT|pci )", line):
            print("  " + line)


def scenario_case(guest, kind, words, last_word, sectors):
    with tempfile.TemporaryDirectory() as d:
        img = fresh_image(d)
        res = run_scenario(guest, kind, words, d, img)
        check_passed(res, words)
        check_image(img, last_word, sectors, res)


def case_qemu_ide_pio(q, g):
    """One sector per command, then 8; PIO writes cost 256 exits a sector."""
    scenario_case(g, "ide", "pci ide-pio=16 ide-pio=64,8", "ide-pio", 64)


def case_qemu_ide_dma(q, g):
    """One sector per command, then 256 (two PRD entries of 64 KiB)."""
    scenario_case(g, "ide", "ide-dma=64 ide-dma=1024,256", "ide-dma", 1024)


def case_qemu_vblk(q, g):
    """4 KiB requests, 512-byte requests, then 128 KiB requests (4096 sectors)."""
    scenario_case(g, "vblk", "pci vblk=64 vblk=8,512 vblk=32,131072", "vblk", 8192)


def case_qemu_vblk_mmio(q, g):
    """The same over virtio-mmio on microvm (no PCI, no port 0x61: the TSC is calibrated on PIT
    channel 0)."""
    a = f"{MICROVM_MMIO:#x}"
    scenario_case(g, "mmio", f"vblk-mmio={a},64 vblk-mmio={a},8,512 vblk-mmio={a},32,131072",
                  "vblk-mmio", 8192)


FLUSHED = [  # (kind, words ({mmio}: the transport's address), word, sectors written before the flush)
    ("ide", "flushed ide-pio=16,4", "ide-pio", 16),
    ("ide", "flushed ide-dma=512,64", "ide-dma", 512),
    ("vblk", "flushed vblk=64,8192", "vblk", 1024),
    ("mmio", "flushed vblk-mmio={mmio:#x},64,8192", "vblk-mmio", 1024),
]


def case_qemu_flushed(q, g):
    """'flushed': QEMU is SIGKILLed at the guest's 'qlite-test-guest: flushed' line; the image
    must hold everything written before the flush."""
    for kind, words, word, sectors in FLUSHED:
        words = words.format(mmio=MICROVM_MMIO)
        with tempfile.TemporaryDirectory() as d:
            img = fresh_image(d)
            qr = QemuRun(g, words, machine(kind, img), d)
            seen = qr.wait_line(lambda l: l == "qlite-test-guest: flushed")
            res = qr.finish(kill=seen is not None)
            check(seen is not None, f"'{words}': no 'qlite-test-guest: flushed' line", res)
            check(res.returncode == -signal.SIGKILL, f"'{words}': QEMU should have died of SIGKILL", res)
            check(not re.search(r"ops, \d+ us", res.stdout), f"'{words}': the guest went on after the flush", res)
            check_image(img, word, sectors, res)


def failed(g, kind, words, img, why, blkdebug=None):
    """WORDS must fail in the guest (status 255) with a FAIL line matching WHY."""
    with tempfile.TemporaryDirectory() as d:
        res = QemuRun(g, words, machine(kind, img, blkdebug), d).finish()
    check(res.returncode == 255 and re.search("^FAIL: " + why, res.stdout, re.M),
          f"'{words}': expected status 255 and 'FAIL: {why}'", res)
    return f"{words}: " + next(l for l in res.stdout.splitlines() if l.startswith("FAIL:"))


def all_failed(runs):
    """failed(*run) for each run, two at a time (each QEMU boot is one busy host CPU)."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        for line in pool.map(lambda run: failed(*run), runs):
            print(line)


def case_qemu_refused(q, g):
    """What the drivers refuse: a read-only virtio disk, more sectors than the disk has, a
    SIZE too large, an empty virtio-mmio transport, no device at all. Nothing is written."""
    mm = f"{MICROVM_MMIO:#x}"
    with tempfile.TemporaryDirectory() as d:
        img = fresh_image(d)
        ro = img + ",readonly=on,file.locking=off"
        img_shared = img + ",file.locking=off"
        all_failed([
            (g, "vblk", "vblk=1", ro, r"vblk: the device is read-only"),
            (g, "mmio", f"vblk-mmio={mm},1", ro, r"vblk-mmio: the device is read-only"),
            (g, "ide", "ide-dma=40000", img_shared, r"ide-dma: 40000 sectors do not fit"),
            (g, "vblk", "vblk=9,2097152", img_shared, r"vblk: N must be at least 1 and SIZE"),
            (g, "mmio", f"vblk-mmio={mm},4097,4096", img_shared,
             r"vblk-mmio: 4097 requests of 4096 bytes do not fit"),
            (g, "mmio", "vblk-mmio=0xfeb00000,1", img_shared, r"vblk-mmio: device id 0 .*no device"),
            (g, "mmio", "ide-pio=1", img_shared, r"ide-pio: no PIIX3 IDE"),
            (g, "ide", "vblk=1", img_shared, r"vblk: no virtio-blk"),
        ])
        with open(img, "rb") as f:
            check(f.read().count(0) == IMAGE_SIZE, "a refused run wrote to the image")


# QEMU's blkdebug fails the disk's writes, reads or flushes with EIO, which both controllers
# report to the guest (IDE: status ERR, error ABRT; virtio-blk: VIRTIO_BLK_S_IOERR).
BLKDEBUG = {
    "write": 'event = "write_aio"\niotype = "write"\n',
    "read": 'event = "read_aio"\niotype = "read"\n',
    "flush": 'event = "flush_to_disk"\n',
}
IO_ERRORS = [  # (kind, words, failing I/O, FAIL line)
    ("ide", "ide-pio=2", "write", r"ide-pio: WRITE SECTORS.*status 0x41, error 0x4"),
    ("ide", "ide-pio=2", "read", r"ide-pio: READ SECTORS.*status 0x41, error 0x4"),
    ("ide", "ide-pio=2", "flush", r"ide-pio: FLUSH CACHE.*status 0x41, error 0x4"),
    ("ide", "ide-dma=8,4", "write", r"ide-dma: WRITE DMA.*status 0x41, error 0x4"),
    ("ide", "ide-dma=8,4", "read", r"ide-dma: READ DMA.*status 0x41, error 0x4"),
    ("ide", "ide-dma=8,4", "flush", r"ide-dma: FLUSH CACHE.*status 0x41, error 0x4"),
    ("vblk", "vblk=2", "write", r"vblk: write at sector 0: status 1"),
    ("vblk", "vblk=2", "read", r"vblk: read at sector 0: status 1"),
    ("vblk", "vblk=2", "flush", r"vblk: flush at sector 0: status 1"),
    ("mmio", f"vblk-mmio={MICROVM_MMIO:#x},2", "write", r"vblk-mmio: write at sector 0: status 1"),
    ("mmio", f"vblk-mmio={MICROVM_MMIO:#x},2", "read", r"vblk-mmio: read at sector 0: status 1"),
    ("mmio", f"vblk-mmio={MICROVM_MMIO:#x},2", "flush", r"vblk-mmio: flush at sector 0: status 1"),
]


def case_qemu_io_errors(q, g):
    """A disk that fails writes, reads or flushes: every scenario must FAIL at that command."""
    with tempfile.TemporaryDirectory() as d:
        runs = []
        for i, (kind, words, io, why) in enumerate(IO_ERRORS):
            cfg = os.path.join(d, f"{io}.cfg")
            with open(cfg, "w") as f:
                f.write('[inject-error]\nerrno = "5"\n' + BLKDEBUG[io])
            runs.append((g, kind, words, fresh_image(d, f"disk{i}.img"), why, cfg))
        all_failed(runs)


# --- qlite: the same scenarios under qlite's vdevs ---

QLITE_VDEV = {"ide": "ide,file={img}", "vblk": "virtio-blk,file={img}",
              "mmio": "virtio-blk,file={img},transport=mmio"}
QLITE_MMIO = 0xFED00000  # qlite's first virtio-mmio window (qlite check lists it)


def qlite_argv(q, g, cmdline, kind, img):
    return [q, "run", "--kernel", g, "--ram", "64M", "--cmdline", cmdline,
            "--vdev", QLITE_VDEV[kind].format(img=img)]


def check_qlite_device(q, g, kind):
    """Fail unless `qlite check` accepts the device (a bad option, an image it cannot open, a
    set-up error all fail the case), with its window where the words expect it."""
    with tempfile.TemporaryDirectory() as d:
        img = fresh_image(d)
        res = subprocess.run([q, "check", "--kernel", g, "--ram", "64M", "--vdev",
                              QLITE_VDEV[kind].format(img=img)],
                             capture_output=True, text=True, errors="replace", timeout=60)
    check(res.returncode == 0, f"qlite check refused a device it knows: --vdev {QLITE_VDEV[kind].format(img='IMG')}", res)
    if kind == "mmio":
        where = re.findall(r"^\s*mmio\s+(0x[0-9a-f]+)-0x[0-9a-f]+\s+virtio-blk\s*$", res.stdout, re.M)
        check(where == [f"{QLITE_MMIO:#x}"], f"qlite check puts the virtio-mmio window at {where}, "
              f"not {QLITE_MMIO:#x}", res)
    return None


def qlite_stop(res):
    lines = [l for l in res.stderr.splitlines() if l.startswith("qlite: stopped")]
    return lines[-1] if lines else ""


def qlite_scenario_case(q, g, kind, words, last_word, sectors):
    check_qlite_device(q, g, kind)
    with tempfile.TemporaryDirectory() as d:
        img = fresh_image(d)
        res = VmRun(qlite_argv(q, g, words, kind, img), d).finish()
        check_passed(res, words)
        print("  " + qlite_stop(res))
        check_image(img, last_word, sectors, res)
    return None


def identify_words(res, who):
    """The 256 IDENTIFY words the guest's ide-identify printed."""
    words = []
    for m in re.finditer(r"^ide-identify: (\d{3}):((?: [0-9a-f]{4}){16})$", res.stdout, re.M):
        check(int(m.group(1)) == len(words), f"{who}: ide-identify lines out of order", res)
        words += [int(w, 16) for w in m.group(2).split()]
    check(len(words) == 256, f"{who}: {len(words)} IDENTIFY words, not 256", res)
    return words


# Words that differ on purpose: the serial (10-19), firmware (23-26) and model (27-46) strings,
# qlite's integrity word (255; QEMU leaves it 0), and the feature sets qlite does not implement,
# which it must not claim: SMART (bit 0 of 82 and 85) and TRIM (69, 169).
IDENTIFY_OWN = set(range(10, 20)) | set(range(23, 47)) | {69, 169, 255}
IDENTIFY_MASK = {82: ~1 & 0xFFFF, 85: ~1 & 0xFFFF}


def case_qemu_ide_identify(q, g):
    """IDENTIFY DEVICE of the same image under QEMU's ide-hd and qlite's vdev ide: word by word
    the same, but for IDENTIFY_OWN and IDENTIFY_MASK; qlite says so of the words it leaves out."""
    check_qlite_device(q, g, "ide")
    with tempfile.TemporaryDirectory() as d:
        img = fresh_image(d)
        qres = QemuRun(g, "ide-identify", machine("ide", img), d).finish()
        check_passed(qres, "ide-identify")
        lres = VmRun(qlite_argv(q, g, "ide-identify", "ide", img), d).finish()
        check_passed(lres, "ide-identify")
    want, have = identify_words(qres, "QEMU"), identify_words(lres, "qlite")
    diff = [(w, have[w], want[w]) for w in range(256) if w not in IDENTIFY_OWN and
            (have[w] & IDENTIFY_MASK.get(w, 0xFFFF)) != (want[w] & IDENTIFY_MASK.get(w, 0xFFFF))]
    check(not diff, "IDENTIFY words that differ (word, qlite, QEMU): " +
          ", ".join(f"{w}: {h:#06x} {x:#06x}" for w, h, x in diff), lres)
    # What qlite leaves out is all QEMU has there: TRIM and SMART, nothing else.
    check(want[69] == 0x4000 and want[169] == 1 and have[69] == 0 and have[169] == 0,
          f"TRIM words: QEMU {want[69]:#x}/{want[169]:#x}, qlite {have[69]:#x}/{have[169]:#x}", lres)
    check(have[82] & 1 == 0 and have[85] & 1 == 0, "qlite claims SMART", lres)
    print(f"  {256 - len(IDENTIFY_OWN)} IDENTIFY words as QEMU's; word 47 {have[47]:#06x}, "
          f"59 {have[59]:#06x}, 80 {have[80]:#06x}, 88 {have[88]:#06x}, 93 {have[93]:#06x}")
    return None


def case_qlite_ide_pio(q, g):
    """qemu_ide_pio's words under qlite's vdev ide."""
    return qlite_scenario_case(q, g, "ide", "pci ide-pio=16 ide-pio=64,8", "ide-pio", 64)


def case_qlite_ide_dma(q, g):
    """qemu_ide_dma's words under qlite's vdev ide."""
    return qlite_scenario_case(q, g, "ide", "ide-dma=64 ide-dma=1024,256", "ide-dma", 1024)


def case_qlite_vblk(q, g):
    """qemu_vblk's words under qlite's vdev virtio-blk (PCI)."""
    return qlite_scenario_case(q, g, "vblk", "pci vblk=64 vblk=8,512 vblk=32,131072", "vblk", 8192)


def case_qlite_vblk_mmio(q, g):
    """qemu_vblk_mmio's words under qlite's vdev virtio-blk,transport=mmio, at qlite's window."""
    a = f"{QLITE_MMIO:#x}"
    return qlite_scenario_case(q, g, "mmio", f"vblk-mmio={a},64 vblk-mmio={a},8,512 vblk-mmio={a},32,131072",
                               "vblk-mmio", 8192)


def qlite_flushed_runs(q, g, kinds):
    """FLUSHED's runs of KINDS under qlite, SIGKILLed at 'qlite-test-guest: flushed': the image
    holds what was written before the flush."""
    for kind in kinds:
        check_qlite_device(q, g, kind)
    for kind, words, word, sectors in FLUSHED:
        if kind not in kinds:
            continue
        words = words.format(mmio=QLITE_MMIO)
        with tempfile.TemporaryDirectory() as d:
            img = fresh_image(d)
            vm = VmRun(qlite_argv(q, g, words, kind, img), d)
            seen = vm.wait_line(lambda l: l == "qlite-test-guest: flushed")
            res = vm.finish(kill=seen is not None)
            check(seen is not None, f"'{words}': no 'qlite-test-guest: flushed' line", res)
            check(res.returncode == -signal.SIGKILL, f"'{words}': qlite should have died of SIGKILL", res)
            check(not re.search(r"ops, \d+ us", res.stdout), f"'{words}': the guest went on after the flush", res)
            check_image(img, word, sectors, res)
    return None


def case_qlite_flushed(q, g):
    """qlite SIGKILLed at 'qlite-test-guest: flushed' after IDE PIO and DMA writes."""
    return qlite_flushed_runs(q, g, ("ide",))


def case_qlite_vblk_flushed(q, g):
    """The same after virtio-blk writes and FLUSH, over PCI and over MMIO."""
    return qlite_flushed_runs(q, g, ("vblk", "mmio"))


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def qemu_missing(case):
    if case.startswith("qemu_") and not shutil.which(QEMU):
        return f"{QEMU} not found (Debian: qemu-system-x86, installed by scripts/setup.sh)"
    return None


def absolute(case_fn):
    """meson runs this in build/ with relative paths; QEMU runs in other directories."""
    return lambda q, g: case_fn(os.path.abspath(q), os.path.abspath(g))


if __name__ == "__main__":
    sys.exit(run_case({k: absolute(f) for k, f in CASES.items()}, ["QLITE", "GUEST"], qemu_missing))
