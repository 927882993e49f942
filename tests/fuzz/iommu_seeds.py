#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Seed inputs for fuzz_iommu (its header comment has the format): what kvm-unit-tests'
intel_iommu and Linux's driver do, tables built in RAM, translation and interrupt remapping
enabled, a queued wait, then DMA and MSIs, so the fuzzer starts deep in the walks.

Usage: iommu_seeds.py OUTDIR
"""
import os
import struct
import sys

ROOT, CTX, SLPT, IRT, QUEUE, STATUS = 0x10000, 0x11000, 0x12000, 0x20000, 0x30000, 0x31000
EDU = 0x0018
TE, SRTP, QIE, IRE, SIRTP = 1 << 31, 1 << 30, 1 << 26, 1 << 25, 1 << 24
WIDTH = {1: 0, 2: 1, 4: 2, 8: 3}


def wr(off, v, width=8):
    return bytes([0]) + struct.pack("<HB", off, WIDTH[width]) + struct.pack("<Q", v)


def rd(off, width=4):
    return bytes([1]) + struct.pack("<HB", off, WIDTH[width])


def ram(gpa, v):
    return bytes([2]) + (gpa // 8).to_bytes(3, "little") + struct.pack("<Q", v)


def dma(sid, iova, write, n):
    return bytes([3]) + struct.pack("<HQB", sid, iova, (write & 1) | ((n - 1) << 1))


def msi(sid, addr, data):
    return bytes([4]) + struct.pack("<HQI", sid, addr, data)


def tables(levels):
    """A root entry for bus 0, edu's context entry, a chain to one 4K page and a 2M page."""
    out = ram(ROOT, CTX | 1)
    out += ram(CTX + (EDU & 0xff) * 16, SLPT | 1)
    out += ram(CTX + (EDU & 0xff) * 16 + 8, (1 if levels == 3 else 2) | EDU << 8)
    table = SLPT
    for level in range(levels, 1, -1):
        nxt = table + 0x1000
        out += ram(table, nxt | 3)
        if level == 2:
            out += ram(table + 8, 0x100000 | 3 | 1 << 7)   # iova 2M: a 2M page
        table = nxt
    out += ram(table, 0x40000 | 3)
    return out


def gcmd(sts, cmd):
    return wr(0x18, sts | cmd, 4), sts | cmd


def enable(with_qi):
    out, sts = b"", 0
    if with_qi:
        out += wr(0x90, QUEUE)
        w, sts = gcmd(sts, QIE)
        out += w
    out += wr(0x20, ROOT)
    w, sts = gcmd(sts, SRTP)
    out += w
    out += wr(0xb8, IRT | 0xf)
    w, sts = gcmd(sts, SIRTP)
    out += w
    for cmd in (TE, IRE):
        w, sts = gcmd(sts, cmd)
        out += w
    return out + wr(0x38, 0, 4) + wr(0x3c, 0xfee01000 << 32 | 0x41)


def irte(index, vector, dest, sid, svt):
    lo = 1 | vector << 16 | dest << 40
    hi = sid | svt << 18
    return ram(IRT + index * 16, lo) + ram(IRT + index * 16 + 8, hi)


def handle(index, shv=False):
    return (0xfee00000 | (index & 0x7fff) << 5 | 1 << 4 | (8 if shv else 0)
            | ((index >> 15) & 1) << 2)


SEEDS = {
    "kut": tables(3) + enable(True) + irte(1, 0xed, 0, EDU, 1) + irte(2, 0xee, 0, EDU, 1)
    + dma(EDU, 0, False, 4) + dma(EDU, 4, True, 4) + msi(0xff00, handle(1), 0xed)
    + msi(EDU, handle(2), 0) + rd(0x34) + rd(0x1c),
    "four-level": tables(4) + enable(False) + dma(EDU, 0x200010, True, 32)
    + dma(EDU, 0x5000, False, 8) + rd(0x34) + rd(0x228, 8) + wr(0x22c, 1 << 31, 4),
    "queue": tables(3) + enable(True)
    + ram(QUEUE, 1 | 1 << 4) + ram(QUEUE + 16, 2 | 3 << 4) + ram(QUEUE + 24, 0x5000 | 2)
    + ram(QUEUE + 32, 4) + ram(QUEUE + 48, 5 | 3 << 4 | 0x1234 << 32) + ram(QUEUE + 56, STATUS)
    + wr(0xa0, 0, 4) + wr(0x88, 4 << 4) + rd(0x80, 8) + rd(0x9c) + ram(QUEUE + 64, 7)
    + wr(0x88, 5 << 4) + rd(0x34) + wr(0x34, 0x10, 4),
    "faults": tables(3) + enable(False) + irte(3, 0x40, 1, EDU, 1)
    + dma(0x0100, 0, False, 1) + dma(EDU, 1 << 39, False, 1) + msi(0x0020, handle(3), 0)
    + msi(EDU, handle(2, True), 1) + msi(EDU, 0xfee00000, 0x30) + rd(0x34) + rd(0x220, 8)
    + wr(0x22c, 1 << 31, 4) + wr(0x34, 1, 4) + rd(0x38),
}


def main():
    outdir = sys.argv[1]
    for name, data in SEEDS.items():
        with open(os.path.join(outdir, f"iommu_{name}.seed"), "wb") as f:
            f.write(data)


main()
