#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Seed inputs for fuzz_virtqueue (its header comment has the format): well-formed rings
a driver would write, so the fuzzer starts from chains that pop, and mutates from there.

Usage: virtqueue_seeds.py OUTDIR
"""
import os
import struct
import sys

LOW, HIGH = 0x4000, 0x1000
NEXT, WRITE, INDIRECT = 1, 2, 4
POP, POP_HOLD, FLUSH, ADVANCE, SCRIBBLE, PUSH_HELD, RESET, HAS_AVAIL = 0, 8, 2, 3, 4, 5, 6, 7


def desc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def seed(size_log2, features, rings, script, ram):
    """rings: guest addresses of desc, avail, used; ram: {guest address: bytes}."""
    def enc(a):
        return (a - (1 << 32)) | 0x8000 if a >= 1 << 32 else a
    hdr = bytes([size_log2, features]) + struct.pack("<HHH", *(enc(a) for a in rings))
    image = bytearray()
    for gpa, data in ram.items():
        off = gpa - (1 << 32) + LOW if gpa >= 1 << 32 else gpa
        image.extend(b"\0" * max(0, off + len(data) - len(image)))
        image[off:off + len(data)] = data
    return hdr + bytes([len(script)]) + bytes(script) + bytes(image)


def avail(idx, heads, used_event=0, flags=0):
    return struct.pack("<HH", flags, idx) + b"".join(struct.pack("<H", h) for h in heads) + \
        struct.pack("<H", used_event)


SEEDS = {
    # Size 8, no features: a request (readable header, writable status) and a lone buffer.
    "simple": seed(3, 0, (0x100, 0x200, 0x300),
                   [POP, 16, POP_HOLD, FLUSH, ADVANCE, 1, POP, PUSH_HELD, 8, FLUSH, RESET, POP],
                   {0x100: desc(0x1000, 64, NEXT, 1) + desc(0x1100, 32, WRITE) +
                    desc(0x1200, 16, WRITE),
                    0x200: avail(2, [0, 2, 0, 0, 0, 0, 0, 0])}),
    # Size 4, EVENT_IDX and INDIRECT: a direct descriptor then a table of three.
    "indirect": seed(2, 3, (0x100, 0x180, 0x1c0),
                     [POP, 4, FLUSH, HAS_AVAIL, SCRIBBLE, 0x04, 0x08, 0x10, POP, FLUSH],
                     {0x100: desc(0x2000, 8, NEXT, 1) + desc(0x400, 48, INDIRECT),
                      0x180: avail(1, [0, 0, 0, 0], used_event=0),
                      0x400: desc(0x2100, 16, NEXT, 1) + desc(0x2200, 512, WRITE | NEXT, 2) +
                      desc(0x3000, 1, WRITE)}),
    # Rings above the PCI hole, buffers on both sides of it.
    "high": seed(1, 1, (1 << 32, (1 << 32) + 0x100, (1 << 32) + 0x200),
                 [POP, 0, POP, 0, FLUSH, ADVANCE, 0xff, POP],
                 {1 << 32: desc(0x3f00, 0x100, NEXT, 1) + desc((1 << 32) + 0x800, 0x100, WRITE),
                  (1 << 32) + 0x100: avail(1, [0, 0])}),
}

if __name__ == "__main__":
    out = sys.argv[1]
    for name, data in SEEDS.items():
        with open(os.path.join(out, "virtqueue_" + name + ".seed"), "wb") as f:
            f.write(data)
