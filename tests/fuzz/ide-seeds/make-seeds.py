#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write the seed inputs of fuzz_ide (the operation format is in tests/fuzz/fuzz_ide.c)."""
import os
import struct

PRI, CTL, SEC, SEC_CTL, BM = 0, 8, 9, 17, 18     # port selectors
L1, L2, L4 = 0, 1, 2


def out(port, v, ln=L1):
    return bytes([0, port, ln]) + struct.pack("<I", v)


def inp(port, ln=L1):
    return bytes([1, port, ln])


def ram(addr, data8):
    return bytes([2]) + struct.pack("<H", addr // 8) + data8


def reads(words):
    return bytes([3, words // 16])


def writes(words, w):
    return bytes([4, words // 16]) + struct.pack("<H", w)


def tf(lba, n, dev=0xe0, base=PRI):
    return (out(base + 2, n) + out(base + 3, lba & 0xff) + out(base + 4, lba >> 8 & 0xff) +
            out(base + 5, lba >> 16 & 0xff) + out(base + 6, dev))


def prd(table, buf, ln, eot=True):
    return ram(table, struct.pack("<II", buf, ln | (0x80000000 if eot else 0)))


seeds = {
    "identify": out(PRI + 6, 0xa0) + out(PRI + 7, 0xec) + inp(PRI + 7) + reads(256) +
    inp(CTL),
    "pio-read": tf(5, 4) + out(PRI + 7, 0x20) + (inp(PRI + 7) + reads(256)) * 4 + inp(CTL),
    "pio-write": tf(3, 2) + out(PRI + 7, 0x30) + writes(512, 0x1234) + inp(PRI + 7) +
    out(PRI + 7, 0xe7) + inp(PRI + 7),
    "dma-read": prd(0x8000, 0x10000, 1024) + out(BM + 4, 0x8000, L4) + out(BM, 0x08) +
    tf(0, 2) + out(PRI + 7, 0xc8) + out(BM, 0x09) + inp(BM + 2) + out(BM, 0x08) +
    inp(PRI + 7) + out(BM + 2, 0x06),
    "dma-write": prd(0x8000, 0x10000, 512, False) + prd(0x8008, 0x20000, 512) +
    out(BM + 4, 0x8000, L4) + out(BM, 0x00) + tf(7, 2) + out(PRI + 7, 0xca) +
    out(BM, 0x01) + inp(BM + 2) + out(BM, 0x00) + inp(PRI + 7) + out(BM + 2, 0x06),
    "lba48-srst": out(PRI + 2, 0) + out(PRI + 3, 0) + out(PRI + 4, 0) + out(PRI + 5, 0) +
    tf(1, 1, 0x40) + out(PRI + 7, 0x24) + inp(PRI + 7) + reads(256) +
    out(CTL, 0x04) + out(CTL, 0x00) + inp(PRI + 7) + out(PRI + 6, 0xf0) +
    out(PRI + 7, 0x30) + inp(PRI + 7) + tf(2, 1, 0xf0, SEC) + out(SEC + 7, 0x20) +
    inp(SEC + 7) + out(CTL, 0x80) + inp(PRI + 3),
}

here = os.path.dirname(os.path.abspath(__file__))
for name, data in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
