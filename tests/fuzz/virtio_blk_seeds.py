#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Seed inputs for fuzz_virtio_blk (its header comment has the format): requests a driver
would make, so the fuzzer starts from chains the device serves, and mutates from there.

Usage: virtio_blk_seeds.py OUTDIR
"""
import os
import struct
import sys

RAM = 0x10000
NEXT, WRITE, INDIRECT = 1, 2, 4
RO, EVENT_IDX, INDIRECT_DESC, FLUSH, DWZ, DIRECT, MQ = 1, 2, 4, 8, 16, 32, 64
KICK, RUN, SCRIBBLE, ADVANCE, RESET, DRAIN, CONFIG = 0, 1, 2, 3, 4, 5, 6
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WRITE_ZEROES = 0, 1, 4, 8, 11, 13


def q1(op):
    """The step on queue 1."""
    return op | 8


def desc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def hdr(t, sector=0):
    return struct.pack("<IIQ", t, 0, sector)


def dwz(sector, n, flags=0):
    return struct.pack("<QII", sector, n, flags)


def avail(heads, used_event=0):
    return struct.pack("<HH", 0, len(heads)) + b"".join(struct.pack("<H", h) for h in heads) + \
        struct.pack("<H", used_event)


def chains(reqs, base=0x2000):
    """reqs: (readable bytes: header and segments, [(len, writable)] data), ...; each request's
    readable bytes and status in a slot of 0x100 from base, data from base + 0x1000.
    Returns {gpa: bytes} of the descriptor table, slots and data, and the heads."""
    ram, table, heads, data_at = {}, b"", [], base + 0x1000
    for i, (h, data) in enumerate(reqs):
        first = len(table) // 16
        slot = base + 0x100 * i
        heads.append(first)
        segs = [(slot, len(h), 0)]
        ram[slot] = h
        for length, w in data:
            segs.append((data_at, length, WRITE if w else 0))
            data_at += (length + 0x1ff) & ~0x1ff
        segs.append((slot + 0xff, 1, WRITE))
        for k, (a, n, fl) in enumerate(segs):
            last = k == len(segs) - 1
            table += desc(a, n, fl | (0 if last else NEXT), 0 if last else first + k + 1)
    return table, ram, heads


def seed(flags, size_log2, script, ram):
    image = bytearray(RAM)
    for gpa, data in ram.items():
        image[gpa:gpa + len(data)] = data
    return bytes([flags, size_log2, len(script), 0]) + bytes(script) + bytes(image.rstrip(b"\0"))


def queue(table, heads, q=0):
    return {0x4000 * q: table, 0x4000 * q + 0x800: avail(heads)}


def simple(flags, size_log2, script, reqs, q=0):
    table, ram, heads = chains(reqs, base=0x2000 + 0x4000 * q)
    assert len(table) // 16 <= 1 << size_log2, "more descriptors than the ring holds"
    ram.update(queue(table, heads, q))
    return seed(flags, size_log2, script, ram)


def indirect():
    """One IN request through an indirect table; the driver rewrites its header in flight."""
    ram = {0x2000: hdr(T_IN, 3),
           0x2400: desc(0x2000, 16, NEXT, 1) + desc(0x3000, 1024, WRITE | NEXT, 2) +
           desc(0x2010, 1, WRITE)}
    ram.update(queue(desc(0x2400, 48, INDIRECT), [0]))
    return seed(EVENT_IDX | INDIRECT_DESC | FLUSH, 2,
                [KICK, SCRIBBLE, 0x20, 0x00, 0x01, RUN, RESET, KICK, DRAIN], ram)


SEEDS = {
    "rw": simple(FLUSH | DWZ, 4, [KICK, RUN, DRAIN, CONFIG, 0, 3],
                 [(hdr(T_OUT, 2), [(1024, False)]), (hdr(T_IN, 2), [(1024, True)]),
                  (hdr(T_FLUSH), []), (hdr(T_GET_ID), [(20, True)])]),
    "dwz": simple(FLUSH | DWZ, 3, [KICK, DRAIN],
                  [(hdr(T_WRITE_ZEROES) + dwz(1, 4) + dwz(60, 4, 1), []),
                   (hdr(T_DISCARD) + dwz(10, 8), []),
                   (hdr(T_WRITE_ZEROES) + dwz(63, 2), [])]),
    "writethrough": simple(0, 3, [KICK, RUN, RUN, DRAIN],
                           [(hdr(T_OUT, 63), [(512, False)]), (hdr(T_IN, 64), [(512, True)])]),
    "ro_mq": simple(RO | MQ | FLUSH, 3, [q1(KICK), q1(ADVANCE), 1, q1(KICK), DRAIN],
                    [(hdr(T_OUT, 0), [(512, False)]), (hdr(T_IN, 0), [(4096, True)]),
                     (hdr(T_WRITE_ZEROES) + dwz(0, 1), [])], q=1),
    "direct": simple(DIRECT | FLUSH, 3, [KICK, DRAIN],
                     [(hdr(T_IN, 5), [(100, True), (924, True)]),
                      (hdr(T_OUT, 9), [(1536, False)])]),
    "indirect": indirect(),
}

if __name__ == "__main__":
    out = sys.argv[1]
    for name, data in SEEDS.items():
        with open(os.path.join(out, "virtio_blk_" + name + ".seed"), "wb") as f:
            f.write(data)
