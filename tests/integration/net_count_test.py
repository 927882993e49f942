#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Exit counting is checked, not trusted: the NICs' exits, register by register, per frame.

usage: net_count_test.py QLITE TEST_GUEST CASE

Each case runs the test guest's network scenarios (tests/guest/net.c, e1000.c, vnet.c,
vtransport.c, pci.c) under qlite with the socket backend against net_peer.py (tx: `sink 200`;
rx: net_guest_test's DelayedSource, which sends once the guest has printed its 'nic:' line),
with --stats-json and --stats-prom, and asserts the EXACT exit count of every register of every
device the guest touched, derived from what the drivers do (the helpers of blk_count_test.py
compare the model with the report, its Prometheus twin, the totals and the exit reasons).

The frames: tx is `net-tx=150 net-tx=50,60` (150 of 1514 bytes, 50 of 60), rx is `net-rx=200`
of the same frames from the peer. Per frame the drivers write one doorbell:
- e1000: one TDT write per frame sent, one RDT write per frame received (the descriptor handed
  back); the guest prints them ('T TX and R RX doorbell writes') and T = N, R = N. With
  `coalesce on`, TDT still exits (qlite keeps it out of the coalesced ring, as QEMU does: the
  guest waits on what it starts), while RDT and the set-up writes other than IMC and TCTL land in
  the `(coalesced)` rows: written, but no exit; except that KVM's ring holds 169 writes, so in
  net-rx's burst of 200 RDT writes (no other exit between) the 170th exits: 199 coalesced, 1 exit.
- virtio-net: one notify per frame on the queue it used (TX = queue 1, RX = queue 0), left out
  while the device sets VRING_USED_F_NO_NOTIFY (qlite sets it only while it has chains to pop
  without being told: src/virtio/virtqueue.c). So the counts are the guest's printed T and R,
  T = N (one frame in flight: nothing is pending when the guest kicks). ioeventfd on: KVM takes the kicks, zero NOTIFY/QueueNotify exits, and the device
  report's q1.kicks = T, q0.kicks = R + 1 (the first RX notify after DRIVER_OK). ioeventfd off:
  the notify exits equal those kicks, per queue (PCI: the notify offset is queue x multiplier,
  qlite's queue_notify_off being the queue index). On RX the guest returns each buffer while
  the device still holds others it was not told about, so R is between 0 and N, and varies with
  the peer's timing: the test asserts exits = kicks = R, whatever R is.

Polls that do not exit or exit once under qlite (why the set-up counts are exact): e1000's
CTRL.RST is done inside the write, so the first CTRL read shows it clear; the socket backend is
connected before the guest runs, so the first STATUS read shows Link Up; qlite's RAH0 holds the
MAC with Address Valid, so no EERD reads. The TX DD bits and the used rings are polled in RAM.

Without a usable /dev/kvm a case is skipped (exit 77), except in CI (CI=true).
"""
import json
import os
import re
import sys
import tempfile
from collections import Counter

sys.dont_write_bytecode = True
from guest_test import check, run_case  # noqa: E402
from stats_test import parse_prom  # noqa: E402
from blk_count_test import (COALESCED, absolute, check_counters, compare, device_report,  # noqa: E402
                            pci_bar_sizing, pci_vblk, strip_split_irqchip, uart)
from blk_guest_test import VmRun  # noqa: E402
import net_guest_test as ng  # noqa: E402

TIMEOUT = 60
TX_WORDS = f"net-tx={ng.NBIG} net-tx={ng.NSMALL},{ng.SMALL}"
RX_WORDS = f"net-rx={ng.FRAMES}"
# struct kvm_coalesced_mmio_ring: 8 bytes of header, then 24-byte entries to the end of a page.
COALESCED_RING = (4096 - 8) // 24
E1000_NOT_COALESCED = ("MDIC", "ICR", "ICS", "IMS", "IMC", "TCTL", "TDT")  # src/devices/e1000/e1000.c


IOMMU = ("--irqchip", "split", "--vdev", "intel-iommu")	# the unit, on qlite's IOAPIC


def run_net(q, g, cmdline, vdev, mode, more=()):
    """The guest's CMDLINE under qlite with --vdev VDEV (and the options MORE) on a socket to the
    peer of MODE (tx: a sink of ng.FRAMES, rx: the delayed source of ng.FRAMES). The report, its
    Prometheus series, the result."""
    with tempfile.TemporaryDirectory() as d:
        js, prom = os.path.join(d, "exits.json"), os.path.join(d, "exits.prom")
        peer = ng.Peer(d, "sink", str(ng.FRAMES)) if mode == "tx" else ng.DelayedSource(d)
        vm = VmRun([q, "run", "--kernel", g, "--ram", "64M", "--cmdline", cmdline, "--vdev",
                    f"{vdev},backend=socket,connect={peer.path}", "--stats-json", js,
                    "--stats-prom", prom, *more], d)
        if mode == "rx":
            peer.start(vm)
        res = vm.finish(timeout=TIMEOUT)
        if mode == "tx":
            rc, out = peer.finish()
            want = f"sink: {ng.FRAMES} frames {ng.FRAME_BYTES} bytes"
            check(rc == 0 and want in out, f"net_peer.py: status {rc}, '{want}' expected:\n{out}",
                  res)
        else:
            err = peer.finish()
            check(err is None, f"the peer: {err}", res)
        ng.check_done(res, f"'{cmdline}' with --vdev {vdev}")
        with open(js) as f:
            data = json.load(f)
        with open(prom) as f:
            series = parse_prom(f.read())
    return data, series, res


def frames_and_bells(res, mode):
    """The guest's report lines for the word of MODE: (frames, bytes, TX bells, RX bells), checked
    to be ng.FRAMES frames of ng.FRAME_BYTES bytes."""
    word = "net-tx" if mode == "tx" else "net-rx"
    f, b, t, r = ng.doorbells(res.stdout, word)
    check((f, b) == (ng.FRAMES, ng.FRAME_BYTES), f"{word}: {f} frames {b} bytes reported, "
          f"{ng.FRAMES} and {ng.FRAME_BYTES} expected", res)
    print(f"  the guest: {f} frames {b} bytes, {t} TX and {r} RX doorbell writes")
    return f, b, t, r


def pci_cycles(e, cycles):
    """Configuration cycles: each one CONFIG_ADDRESS write and its CONFIG_DATA+n access."""
    for (reg, d), v in cycles.items():
        e["pci-host", reg, d] += v
        e["pci-host", "CONFIG_ADDRESS", "write"] += v


def pci_e1000():
    """pci.c for qlite's e1000 at 00:01.0: pci_find reads vendor/device of 00.0 and 01.0 and the
    header types of both (single-function); pci_bar(0) sizes the 32-bit memory BAR0; pci_enable
    reads COMMAND and sets bus mastering (qlite set only memory decoding)."""
    c = Counter({("CONFIG_DATA", "read"): 2, ("CONFIG_DATA+2", "read"): 2})
    pci_bar_sizing(c)
    c["CONFIG_DATA", "read"] += 1
    c["CONFIG_DATA", "write"] += 1
    return c


# --- e1000 ---

def e1000_case(q, g, mode, coalesce, more=()):
    cmdline = "nic=e1000 " + (TX_WORDS if mode == "tx" else RX_WORDS)
    vdev = "e1000" + (",coalesce=on" if coalesce else "")
    data, series, res = run_net(q, g, cmdline, vdev, mode, more)
    if "split" in more:
        strip_split_irqchip(data, res)
    frames, nbytes, tx_bells, rx_bells = frames_and_bells(res, mode)
    # The driver writes its doorbell for every frame, whatever the device says.
    check((tx_bells, rx_bells) == ((frames, 0) if mode == "tx" else (0, frames)),
          f"e1000: {tx_bells} TX and {rx_bells} RX doorbell writes for {frames} frames {mode}", res)

    e = Counter()
    pci_cycles(e, pci_e1000())

    def acc(reg, d, k=1):
        if coalesce and d == "write" and reg not in E1000_NOT_COALESCED:
            reg += COALESCED
        e["e1000", reg, d] += k

    # e1000_open: RCTL, TCTL off, CTRL.RST, one CTRL read, IMC, RAL0 and RAH0 read (valid), the TX
    # ring (TDBAL, TDBAH, TDLEN, TDH, TDT, TCTL), the RX ring (RDBAL, RDBAH, RDLEN, RDH, RDT,
    # RCTL), CTRL.SLU, one STATUS read: 22 accesses.
    for reg in ("RCTL", "TCTL", "CTRL", "IMC", "TDBAL", "TDBAH", "TDLEN", "TDH", "TDT", "TCTL",
                "RDBAL", "RDBAH", "RDLEN", "RDH", "RDT", "RCTL", "CTRL"):
        acc(reg, "write")
    for reg in ("CTRL", "RAL", "RAH", "STATUS"):
        acc(reg, "read")
    # Per frame: the doorbell. Coalesced RDT writes queue in KVM's ring, one page of
    # COALESCED_RING entries of which KVM keeps one free: net-rx makes no other PIO or MMIO exit
    # (it prints nothing until its report), so every (COALESCED_RING)th write finds the ring full
    # and exits as a plain MMIO write, and the vCPU drains the ring before handling it.
    acc("TDT", "write", tx_bells)
    ring_full = rx_bells // COALESCED_RING if coalesce else 0
    acc("RDT", "write", rx_bells - ring_full)
    e["e1000", "RDT", "write"] += ring_full
    if coalesce:
        # Draining early (KVM_RUN interrupted, src/kvm/vcpu.c) would move those exits.
        check(data["interrupted"] == 0, f"{data['interrupted']} interrupted KVM_RUNs", res)
    uart(e, len(res.stdout.encode()))
    per = "TDT" if mode == "tx" else "RDT"
    bells = tx_bells + rx_bells
    print(f"  {frames} frames {mode}: {per} writes {bells} ({bells / frames:g} a frame), " +
          (f"{bells - ring_full} coalesced, {ring_full} exits (the ring full)"
           if coalesce and per == "RDT" else "each an MMIO exit"))
    compare(data, series, e, Counter(), res)

    rep = device_report(data, series, "e1000", res)
    tx = (frames, nbytes) if mode == "tx" else (0, 0)
    rx = (frames, nbytes) if mode == "rx" else (0, 0)
    check_counters(rep, {"tx_frames": tx[0], "tx_bytes": tx[1], "rx_frames": rx[0],
                         "rx_bytes": rx[1], "tx_dropped": 0, "rx_dropped_no_buffer": 0,
                         "rx_dropped_oversize": 0, "interrupts": 0, "resets": 1,
                         "unknown_reads": 0, "unknown_writes": 0, "backend_tx_dropped": 0,
                         "backend_rx_dropped": 0}, res)
    coalesced = "writes coalesced (KVM ring) but for " + " ".join(E1000_NOT_COALESCED)
    check((coalesced in rep["path"]) == coalesce, f"e1000 path {rep['path']!r}", res)
    return data, frames, res


def e1000_iommu_case(q, g, mode):
    """The e1000 case beside an intel-iommu the guest leaves off: the same exits once the split
    irqchip's own are set aside, and every frame's descriptor and buffer through the unit."""
    data, frames, res = e1000_case(q, g, mode, False, IOMMU)
    vtd = {r["name"]: r["counters"] for r in data["device_reports"]}.get("intel-iommu", {})
    print(f"  intel-iommu: {vtd}")
    # A frame is a descriptor read (translated twice: checked, copied), its buffer, and a
    # write-back at least.
    check(vtd.get("dma_translations", 0) >= 4 * frames and vtd.get("dma_faults") == 0,
          f"intel-iommu DMA counters {vtd}", res)


def case_e1000_tx(q, g):
    """200 frames sent: 200 TDT write exits."""
    e1000_case(q, g, "tx", False)


def case_e1000_tx_coalesce(q, g):
    """coalesce on: TDT still exits (200), the set-up's ring writes go to the coalesced rows."""
    e1000_case(q, g, "tx", True)


def case_e1000_rx(q, g):
    """200 frames received: 200 RDT write exits."""
    e1000_case(q, g, "rx", False)


def case_e1000_rx_coalesce(q, g):
    """coalesce on: the 200 RDT writes are coalesced, no exit."""
    e1000_case(q, g, "rx", True)


def case_e1000_tx_iommu(q, g):
    """e1000_tx beside an intel-iommu (irqchip split): the same 200 TDT exits."""
    e1000_iommu_case(q, g, "tx")


def case_e1000_rx_iommu(q, g):
    """e1000_rx beside an intel-iommu (irqchip split): the same 200 RDT exits."""
    e1000_iommu_case(q, g, "rx")


# --- virtio-net ---

def vnet_setup(e, dev, mmio):
    """vnet_init over vtransport.c (no close: one nic= word). The reset, ACKNOWLEDGE, DRIVER,
    two feature words read and two written, FEATURES_OK, two queues, DRIVER_OK, the MAC."""
    def acc(pci_reg, mmio_reg, d, k=1):
        e[dev, mmio_reg if mmio else pci_reg, d] += k

    if mmio:	# vt_mmio_probe: magic, version, device id, the vendor for the probe line
        for reg in ("MagicValue", "Version", "DeviceID", "VendorID"):
            acc(None, reg, "read")
    acc("COMMON_STATUS", "Status", "write", 5)		# 0, ACK, +DRIVER, +FEATURES_OK, +DRIVER_OK
    acc("COMMON_STATUS", "Status", "read", 3)		# after the reset, FEATURES_OK, DRIVER_OK
    acc("COMMON_DFSELECT", "DeviceFeaturesSel", "write", 2)
    acc("COMMON_DF", "DeviceFeatures", "read", 2)
    acc("COMMON_GFSELECT", "DriverFeaturesSel", "write", 2)
    acc("COMMON_GF", "DriverFeatures", "write", 2)
    for _ in range(2):					# vt_queue_setup of RX, then TX
        acc("COMMON_Q_SELECT", "QueueSel", "write")
        acc("COMMON_Q_ENABLE", "QueueReady", "read")
        acc("COMMON_Q_SIZE", "QueueNumMax", "read")
        # qlite's queues are larger than the driver's 16 entries: PCI writes the size too.
        acc("COMMON_Q_SIZE", "QueueNum", "write")
        if not mmio:
            acc("COMMON_Q_NOFF", None, "read")
        for pci_reg, mmio_reg in (("COMMON_Q_DESC", "QueueDesc"),
                                  ("COMMON_Q_AVAIL", "QueueDriver"),
                                  ("COMMON_Q_USED", "QueueDevice")):
            acc(pci_reg + "LO", mmio_reg + "Low", "write")
            acc(pci_reg + "HI", mmio_reg + "High", "write")
        acc("COMMON_Q_ENABLE", "QueueReady", "write")
    acc("COMMON_CFGGENERATION", "ConfigGeneration", "read", 2)	# around the MAC
    acc("DEVICE_CFG", "Config", "read", 6)			# the MAC, a byte each


def notify_rows(data, dev):
    """{guest-physical address: exits} of the PCI NOTIFY write rows."""
    out = Counter()
    for d in data["devices"]:
        if d["device"] == dev:
            for r in d["registers"]:
                if r["register"] == "NOTIFY" and r["dir"] == "write":
                    out[d["base"] + r["offset"]] += r["exits"]
    return out


def vnet_case(q, g, mode, mmio, notify_exits):
    """NOTIFY_EXITS: ioeventfd and irqfd off (each kick a userspace exit, interrupts from
    userspace), else both on."""
    nic = f"nic=virtio-mmio:{ng.QLITE_MMIO:#x}" if mmio else "nic=virtio"
    cmdline = f"{nic} " + (TX_WORDS if mode == "tx" else RX_WORDS)
    vdev = "virtio-net" + (",transport=mmio" if mmio else "") + \
        (",ioeventfd=off,irqfd=off" if notify_exits else "")
    data, series, res = run_net(q, g, cmdline, vdev, mode)
    frames, nbytes, tx_bells, rx_bells = frames_and_bells(res, mode)
    # TX: one frame in flight, the device has no chain pending when the guest kicks, so it never
    # sets NO_NOTIFY, and each frame costs its doorbell. RX: the device sets NO_NOTIFY while it
    # has buffers it was not told about, which depends on when the peer's frames arrive; the
    # guest counts the notifies it wrote, and those are what the device must have seen.
    ok = tx_bells == frames and rx_bells == 0 if mode == "tx" else \
        tx_bells == 0 and rx_bells <= frames
    check(ok, f"virtio-net: {tx_bells} TX and {rx_bells} RX doorbell writes for {frames} frames "
          f"{mode}", res)
    dev = "virtio-net"
    e = Counter()
    if not mmio:
        pci_cycles(e, pci_vblk(first=True))	# the same probe: caps, BAR0, bus mastering
    vnet_setup(e, dev, mmio)
    rx_kicks, tx_kicks = 1 + rx_bells, tx_bells	# the first RX notify after DRIVER_OK
    if notify_exits:
        e[dev, "QueueNotify" if mmio else "NOTIFY", "write"] += rx_kicks + tx_kicks
    uart(e, len(res.stdout.encode()))
    bells = tx_bells + rx_bells
    print(f"  {frames} frames {mode}: {bells} kicks ({bells / frames:g} a frame), "
          f"{bells if notify_exits else 0} of them notify exits")
    compare(data, series, e, Counter(), res)
    if notify_exits and not mmio:
        # The guest's probe line names the notify region and its multiplier.
        m = re.search(r"^virtio: .* notify (0x[0-9a-f]+) \(x(\d+)\)", res.stdout, re.M)
        check(m, "no notify address in the guest's probe line", res)
        at, mult = int(m.group(1), 16), int(m.group(2))
        want = {a: k for a, k in ((at, rx_kicks), (at + mult, tx_kicks)) if k}
        got = notify_rows(data, dev)
        check(got == want, f"NOTIFY writes by address {dict(got)}, expected {want}", res)

    rep = device_report(data, series, dev, res)
    tx = (frames, nbytes) if mode == "tx" else (0, 0)
    rx = (frames, nbytes) if mode == "rx" else (0, 0)
    # The driver sets VRING_AVAIL_F_NO_INTERRUPT: every used entry's interrupt is suppressed.
    want = {"q0.kicks": rx_kicks, "q0.interrupts": 0, "q0.suppressed": rx[0],
            "tx_frames": tx[0], "tx_bytes": tx[1], "rx_frames": rx[0], "rx_bytes": rx[1],
            "tx_dropped": 0, "rx_dropped_no_buffer": 0, "needs_reset": 0, "ctrl_commands": 0}
    if tx_kicks:
        want.update({"q1.kicks": tx_kicks, "q1.interrupts": 0, "q1.suppressed": tx[0]})
    else:	# a queue past the first that did nothing is left out of the report
        check(not any(c.startswith("q1.") for c in rep["counters"]), "an idle q1 reported", res)
    check_counters(rep, want, res)
    want = "kicks userspace exits" if notify_exits else "kicks ioeventfd (KVM)"
    # The test guest leaves MSI-X off: PCI interrupts are INTx from userspace; an MMIO line goes
    # through KVM_IRQFD with irqfd on.
    if mmio:
        want += ", interrupts injected from userspace IRQ " if notify_exits else \
            ", interrupts irqfd IRQ "
    else:
        want += ", interrupts injected from userspace INTx"
    check(rep["path"].startswith(want), f"{dev} path {rep['path']!r}, expected {want!r}...", res)


def make_vnet(mode, mmio, notify_exits):
    def case(q, g):
        vnet_case(q, g, mode, mmio, notify_exits)
    case.__doc__ = (f"virtio-net {'mmio' if mmio else 'pci'} {mode}: "
                    + ("ioeventfd/irqfd off, one notify exit a frame" if notify_exits
                       else "ioeventfd/irqfd on, no notify exit, one kick a frame"))
    return case


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
for _mode in ("tx", "rx"):
    for _t in ("pci", "mmio"):
        CASES[f"virtio_{_t}_{_mode}"] = make_vnet(_mode, _t == "mmio", False)
        CASES[f"virtio_{_t}_{_mode}_no_ioeventfd"] = make_vnet(_mode, _t == "mmio", True)


if __name__ == "__main__":
    sys.exit(run_case({k: absolute(f) for k, f in CASES.items()}, ["QLITE", "GUEST"]))
