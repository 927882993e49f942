#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration tests of the test guest's NIC drivers, under QEMU (the reference) and qlite.

usage: net_guest_test.py QLITE TEST_GUEST CASE

The test guest (tests/guest/) drives a NIC from ring 3, polled: nic=e1000 (8086:100e), nic=virtio
(virtio-net-pci modern, 1af4:1041) or nic=virtio-mmio:ADDR (virtio-mmio v2), then net-tx, net-rx
and net-echo move test frames in net_peer.py's pattern, and net-dhcp leases an address from slirp.

CASE is VMM_NIC_MODE: VMM qemu or qlite, NIC e1000, virtio or mmio, MODE
    tx    the guest sends 150 frames of 1514 bytes and 50 of 60; net_peer.py (sink 200) checks
          every byte and the sequence numbers
    rx    the peer sends 150 frames of 1514 bytes and 50 of 60, the guest checks every byte
    echo  the guest sends 150 + 50 frames as above, net_peer.py (echo) sends each back with the
          MACs swapped, the guest checks the echo
    dhcp  DISCOVER, OFFER, REQUEST, ACK with slirp (QEMU -netdev user, qlite backend slirp):
          the lease must be 10.0.2.15 from 10.0.2.2
The peer listens on a unix socket, and the VMM connects to it (QEMU -netdev stream,server=off;
qlite backend=socket,connect=PATH). For rx the frames are sent from this script (net_peer's
make_frame and Stream) once the guest has printed its 'nic:' line: QEMU drops the frames that
arrive before its NIC takes any (the first two dozen of net_peer.py's `source` were lost there).

qemu_refused: what the guest refuses (no device, the wrong device, no NIC selected, a bad SIZE),
each a FAIL line saying so, on microvm.

The qemu_* cases run qemu-system-x86_64 (-M pc -nodefaults for the PCI NICs, -M microvm with
-global virtio-mmio.force-legacy=false for virtio-net-device, whose transport is 0xfeb02e00);
without it they skip, and with CI=true they fail. The qlite_* cases run the same words under
qlite's `--vdev e1000`, `--vdev virtio-net` and `--vdev virtio-net,transport=mmio` (window at
0xfed00000, which `qlite check` must show); a qlite that refuses the device (`qlite check`) fails them, as does a window elsewhere.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
from guest_test import Failure, check, run_case
from blk_guest_test import QemuRun, VmRun, absolute, qemu_missing, qlite_stop
import net_peer

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "net_peer.py")
TIMEOUT = 90
MICROVM_MMIO = 0xFEB02E00  # microvm's last virtio-mmio transport: the first device's
QLITE_MMIO = 0xFED00000    # qlite's first virtio-mmio window (src/virtio/mmio.c)
BIG, SMALL, NBIG, NSMALL = 1514, 60, 150, 50
FRAMES = NBIG + NSMALL
FRAME_BYTES = NBIG * BIG + NSMALL * SMALL
LEASE = "net-dhcp: leased 10.0.2.15 from 10.0.2.2"

QEMU_NIC = {  # machine arguments, the -device
    "e1000": (["-M", "pc"], "e1000,netdev=n"),
    "virtio": (["-M", "pc"], "virtio-net-pci,netdev=n,disable-legacy=on"),
    "mmio": (["-M", "microvm", "-global", "virtio-mmio.force-legacy=false"],
             "virtio-net-device,netdev=n"),
}
QLITE_NIC = {"e1000": "e1000", "virtio": "virtio-net", "mmio": "virtio-net,transport=mmio"}


def nic_word(vmm, nic):
    if nic == "mmio":
        return f"nic=virtio-mmio:{MICROVM_MMIO if vmm == 'qemu' else QLITE_MMIO:#x}"
    return f"nic={nic}"


def words(vmm, nic, mode):
    n = nic_word(vmm, nic)
    if mode == "tx":
        return f"{n} net-tx={NBIG} net-tx={NSMALL},{SMALL}"
    if mode == "rx":
        return f"{n} net-rx={FRAMES}"
    if mode == "echo":
        return f"{n} net-echo={NBIG} net-echo={NSMALL},{SMALL}"
    return f"{n} net-dhcp"


def start_vmm(q, g, vmm, nic, cmdline, sock, tmp):
    """The VMM running the guest with the NIC on the socket SOCK (None: slirp)."""
    if vmm == "qemu":
        machine, device = QEMU_NIC[nic]
        netdev = (f"stream,id=n,server=off,addr.type=unix,addr.path={sock}" if sock
                  else "user,id=n")
        return QemuRun(g, cmdline, machine + ["-netdev", netdev, "-device", device], tmp)
    backend = f"backend=socket,connect={sock}" if sock else "backend=slirp"
    return VmRun([q, "run", "--kernel", g, "--ram", "64M", "--cmdline", cmdline,
                  "--vdev", f"{QLITE_NIC[nic]},{backend}"], tmp)


class Peer:
    """net_peer.py in MODE on a socket in TMP; started before the VMM, which connects to it."""

    def __init__(self, tmp, *mode):
        self.path = os.path.join(tmp, "net.sock")
        self.out = tempfile.TemporaryFile("w+", dir=tmp)
        self.proc = subprocess.Popen([sys.executable, PEER, self.path] + list(mode)
                                     + ["--timeout", str(TIMEOUT)], stdout=self.out,
                                     stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while not self._text().startswith("net_peer: listening"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"net_peer.py {' '.join(mode)} did not start listening: "
                              f"{self._text()}")
            time.sleep(0.02)

    def _text(self):
        self.out.seek(0)
        return self.out.read()

    def finish(self):
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode, self._text()


class DelayedSource:
    """The rx peer: listens, and once the VMM has connected and the guest printed its 'nic:'
    line, sends net_peer's test frames: NBIG of BIG bytes, then NSMALL of SMALL, numbered from 0."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "net.sock")
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(self.path)
        self.lsock.listen(1)
        self.lsock.settimeout(TIMEOUT)
        self.error = None
        self.sent = 0
        self.vm = None
        self.thread = None

    def start(self, vm):
        self.vm = vm
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            conn, _ = self.lsock.accept()
        except OSError as e:
            self.error = f"nobody connected to {self.path}: {e}"
            return
        try:
            if self.vm.wait_line(lambda l: l.startswith("nic: "), timeout=TIMEOUT) is None:
                self.error = "the guest printed no 'nic:' line"
                return
            stream = net_peer.Stream(conn, time.monotonic() + TIMEOUT)
            dst, src = b"\xff" * 6, bytes.fromhex("525400aabbcc")
            for seq in range(FRAMES):
                stream.send(net_peer.make_frame(seq, BIG if seq < NBIG else SMALL, dst, src))
                self.sent += 1
            # Hold the connection until the VMM goes: closing it could look like a link change.
            conn.settimeout(TIMEOUT)
            while conn.recv(65536):
                pass
        except OSError as e:
            if self.sent < FRAMES:
                self.error = f"sending frame {self.sent}: {e}"
        finally:
            conn.close()

    def finish(self):
        if self.thread:
            self.thread.join(timeout=30)
        self.lsock.close()
        return self.error


def check_done(res, what):
    passed = "qlite-test-guest: done" in res.stdout and "FAIL" not in res.stdout
    check(res.returncode == 1 and passed,
          f"{what}: expected status 1 and done", res)
    for line in res.stdout.splitlines():
        if re.match(r"(nic|net-|e1000|virtio|qlite-test-guest: PIT)", line):
            print("  " + line)


def doorbells(out, word):
    """The guest's '<word>: <nic> F frames B bytes, T TX and R RX doorbell writes' lines, summed:
    (F, B, T, R)."""
    tot = [0, 0, 0, 0]
    for m in re.finditer(rf"^{word}: \S+ (\d+) frames (\d+) bytes, (\d+) TX and (\d+) RX doorbell",
                         out, re.M):
        tot = [a + int(x) for a, x in zip(tot, m.groups())]
    return tuple(tot)


def report_line(res, word, frames, nbytes):
    """The frames and bytes of the guest's report lines."""
    f, b, _, _ = doorbells(res.stdout, word)
    check((f, b) == (frames, nbytes), f"{word}: the guest reports {f} frames {b} bytes, "
          f"{frames} frames {nbytes} bytes expected", res)


def run_mode(q, g, vmm, nic, mode):
    cmdline = words(vmm, nic, mode)
    what = f"{vmm}: '{cmdline}'"
    with tempfile.TemporaryDirectory() as d:
        if mode == "dhcp":
            res = start_vmm(q, g, vmm, nic, cmdline, None, d).finish(timeout=TIMEOUT)
            check_done(res, what)
            check(LEASE in res.stdout, f"{what}: no '{LEASE}' line", res)
        elif mode == "rx":
            src = DelayedSource(d)
            vm = start_vmm(q, g, vmm, nic, cmdline, src.path, d)
            src.start(vm)
            res = vm.finish(timeout=TIMEOUT)
            err = src.finish()
            check(err is None, f"{what}: the peer: {err}", res)
            check_done(res, f"{what} (the peer sent {src.sent} frames)")
            report_line(res, "net-rx", FRAMES, FRAME_BYTES)
        else:
            peer = Peer(d, "sink", str(FRAMES)) if mode == "tx" else Peer(d, "echo")
            vm = start_vmm(q, g, vmm, nic, cmdline, peer.path, d)
            res = vm.finish(timeout=TIMEOUT)
            rc, out = peer.finish()
            check_done(res, what)
            summary = f"{'sink' if mode == 'tx' else 'echo'}: {FRAMES} frames {FRAME_BYTES} bytes"
            check(rc == 0 and summary in out, f"{what}: net_peer.py: status {rc}, "
                  f"'{summary}' expected:\n{out}", res)
            report_line(res, "net-tx" if mode == "tx" else "net-echo", FRAMES, FRAME_BYTES)
        if vmm == "qlite":
            print("  " + qlite_stop(res))
    return None


def check_qlite_device(q, g, nic):
    """Fail unless `qlite check` accepts the NIC, with an MMIO window where the words expect it."""
    vdev = f"{QLITE_NIC[nic]},backend=slirp"
    res = subprocess.run([q, "check", "--kernel", g, "--ram", "64M", "--vdev", vdev],
                         capture_output=True, text=True, errors="replace", timeout=60)
    check(res.returncode == 0, f"qlite check refused a device it knows: --vdev {vdev}", res)
    if nic == "mmio":
        where = re.findall(r"^\s*mmio\s+(0x[0-9a-f]+)-0x[0-9a-f]+\s+virtio-net\s*$", res.stdout,
                           re.M)
        check(where == [f"{QLITE_MMIO:#x}"], f"qlite check puts the virtio-mmio window at {where}, "
              f"not {QLITE_MMIO:#x}", res)
    return None


def make_case(vmm, nic, mode):
    def case(q, g):
        if vmm == "qlite":
            check_qlite_device(q, g, nic)
        return run_mode(q, g, vmm, nic, mode)
    case.__doc__ = f"{mode} over {nic} under {vmm}"
    return case


CASES = {f"{vmm}_{nic}_{mode}": make_case(vmm, nic, mode)
         for vmm in ("qemu", "qlite") for nic in ("e1000", "virtio", "mmio")
         for mode in ("tx", "rx", "echo", "dhcp")}

MICROVM = ["-M", "microvm", "-global", "virtio-mmio.force-legacy=false"]
MM = f"nic=virtio-mmio:{MICROVM_MMIO:#x}"
REFUSED = [  # (QEMU arguments after the machine's, words, FAIL line)
    ([], MM, r"virtio-mmio: device id 0 at 0xfeb02e00, not 1 .*no device"),
    (["-drive", "if=none,id=d,file=null-co://,format=raw", "-device", "virtio-blk-device,drive=d"],
     MM, r"virtio-mmio: device id 2 at 0xfeb02e00, not 1 \(virtio-net\)"),
    ([], "nic=e1000", r"e1000: no e1000 \(8086:100e\) on PCI bus 0"),
    ([], "nic=virtio", r"virtio: no virtio-net \(1af4:1041\) on PCI bus 0"),
    ([], "nic=rtl8139", r"nic: unknown NIC 'rtl8139'"),
    ([], "net-tx=1", r"net-tx: no NIC selected"),
    (["-netdev", "user,id=n", "-device", "virtio-net-device,netdev=n"],
     MM + " net-echo=1,59", r"net-echo: SIZE must be 60\.\.1514 bytes"),
]


def case_qemu_refused(q, g):
    """What the guest refuses, each a FAIL naming it (microvm: no PCI, ~0.2 s a boot): no device
    behind the transport, another device there, no PCI NIC, an unknown NIC, a net word before
    nic=, a frame below the Ethernet minimum."""
    for args, cmdline, why in REFUSED:
        with tempfile.TemporaryDirectory() as d:
            res = QemuRun(g, cmdline, MICROVM + args, d).finish(timeout=TIMEOUT)
        check(res.returncode == 255 and re.search("^FAIL: " + why, res.stdout, re.M),
              f"'{cmdline}': expected status 255 and 'FAIL: {why}'", res)
        print(f"{cmdline}: " + next(l for l in res.stdout.splitlines() if l.startswith("FAIL:")))


CASES["qemu_refused"] = case_qemu_refused


if __name__ == "__main__":
    sys.exit(run_case({k: absolute(f) for k, f in CASES.items()}, ["QLITE", "GUEST"], qemu_missing))
