#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The test guest's vblk-kick and vblk-mmio-kick words, as bench/kick_latency.py runs them.

usage: kick_latency_test.py QLITE GUEST CASE

Each case boots one of the benchmark's cases for a few GET_ID requests each way and checks the
shape of what the guest prints (one line per class, clock cmdline, the ops line) and that the
numbers make sense without assuming any timing: every figure positive, min <= median <= max,
and the polled round trip never shorter than its own doorbell write (each sample spans it), so
not its minimum, median or maximum either. An interrupt that does not come within 10 s, a
second one for one request or one while the driver asked for none fail in the guest.

qlite_pci, qlite_pci_off: vblk-kick on `vdev virtio-blk` (MSI-X) with ioeventfd/irqfd on, and
off; qlite_mmio: vblk-mmio-kick on transport=mmio, irq 5 (IOAPIC pin 5). qemu_pci,
qemu_mmio: the same words under QEMU 7.2 (-M pc virtio-blk-pci; -M microvm virtio-blk-device,
the second IOAPIC's pin 23); without QEMU they skip, and with CI=true they fail.
"""
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
from guest_test import Failure, check, run_case  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import benchlib  # noqa: E402
import kick_latency as kl  # noqa: E402

REQUESTS = 5


def case_by(vmm, name):
    for c in kl.CASES:
        if c[1] == vmm and c[0] == name:
            return c
    raise Failure(f"bench/kick_latency.py has no {vmm} case '{name}'")


def run(vmm, name, q, g):
    case = case_by(vmm, name)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            got = kl.run_case(case, os.path.abspath(q), os.path.abspath(g), REQUESTS,
                              benchlib.tsc_khz(), tmp)
        except kl.Failure as e:
            raise Failure(str(e)) from e
    print(f"{vmm} {name}: " + "; ".join(f"{c} {got[c]['min']}/{got[c]['median']}/{got[c]['max']}"
                                        for c in kl.CLASSES) + " cycles")
    for c in kl.CLASSES:
        s = got[c]
        check(0 < s["min"] <= s["median"] <= s["max"], f"{c}: min/median/max {s} not positive and ordered")
    for k in ("min", "median", "max"):
        check(got["poll"][k] >= got["doorbell"][k],
              f"poll {k} {got['poll'][k]} shorter than the doorbell write's {got['doorbell'][k]}")


def case_qlite_pci(q, g):
    run("qlite", "virtio-blk PCI", q, g)


def case_qlite_pci_off(q, g):
    run("qlite", "virtio-blk PCI ioeventfd=off,irqfd=off", q, g)


def case_qlite_mmio(q, g):
    run("qlite", "virtio-blk MMIO", q, g)


def case_qemu_pci(q, g):
    run("QEMU", "virtio-blk PCI irqfd=off", q, g)


def case_qemu_mmio(q, g):
    run("QEMU", "virtio-blk MMIO split irqchip", q, g)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def qemu_missing(case):
    if case.startswith("qemu_") and not shutil.which(kl.QEMU):
        return f"{kl.QEMU} not found (Debian: qemu-system-x86, installed by scripts/setup.sh)"
    return None


if __name__ == "__main__":
    sys.exit(run_case(CASES, ["QLITE", "GUEST"], qemu_missing))
