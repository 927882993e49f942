#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Seed inputs for fuzz_e1000 (its header comment has the format): what Linux's e1000 does,
rings set up, frames sent (legacy, checksum offload, TSO) and received, so the fuzzer starts
from packets that move, and mutates from there.

Usage: e1000_seeds.py OUTDIR
"""
import os
import struct
import sys

TX_RING, RX_RING, TX_BUF, RX_BUF = 0x1000, 0x2000, 0x10000, 0x40000
HOT = ["CTRL", "TDT", "RDT", "TCTL", "RCTL", "TDH", "RDH", "TDLEN", "RDLEN", "TDBAL",
       "RDBAL", "IMS", "ICS", "ICR", "MDIC", "EECD", "EERD", "RDTR", "RADV", "TIDV", "TADV",
       "ITR", "RAL", "RAH", "MTA"]
REG = {"TIPG": 0x410, "RDTR": 0x2820, "TIDV": 0x3820}


def wr(name, v):
    return bytes([3, HOT.index(name)]) + struct.pack("<I", v)


def wr_off(off, v):
    return bytes([0]) + struct.pack("<HI", off // 4, v)


def ram(gpa, data):
    out = b""
    data = data + b"\0" * (-len(data) % 8)
    for i in range(0, len(data), 8):
        out += bytes([2]) + struct.pack("<H", (gpa + i) // 8) + data[i:i + 8]
    return out


def desc(addr, lo, hi):
    return struct.pack("<QII", addr, lo, hi)


def frame(n):
    return bytes([2, 0, 0, 0, 0, 2, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x88, 0xb5]) + \
        bytes((i * 7) & 0xff for i in range(n - 14))


def tx_rings():
    return (wr("TDBAL", TX_RING) + wr("TDLEN", 256) + wr("TDH", 0) + wr("TDT", 0) +
            wr("TIDV", 0) + wr("TCTL", 0xa))


def rx_rings(rctl=0x8002):
    d = b"".join(desc(RX_BUF + i * 0x800, 0, 0) for i in range(16))
    return (ram(RX_RING, d) + wr("RDBAL", RX_RING) + wr("RDLEN", 256) + wr("RDH", 0) +
            wr("RCTL", rctl) + wr("RDT", 15) + wr("IMS", 0x9f))


def seeds():
    f = frame(200)
    yield "legacy", (ram(TX_BUF, f) + tx_rings() +
                     ram(TX_RING, desc(TX_BUF, 100 | 0x0b << 24, 0) +
                         desc(TX_BUF + 100, 100 | 0x0b << 24, 0)) + wr("TDT", 2))
    ctx = desc(0x0021180e | 0x28220000 << 32, 0 | 0x22 << 24, 0)
    data = desc(TX_BUF, 200 | 0x00100000 | 0x2b << 24, 0x03 << 8)
    yield "csum", ram(TX_BUF, f) + tx_rings() + ram(TX_RING, ctx + data) + wr("TDT", 2)
    tctx = desc(0x0021180e | 0x00322222 << 32, 146 | 0x27 << 24, 54 << 8 | 50 << 16)
    tdata = desc(TX_BUF, 200 | 0x00100000 | 0x2f << 24, 0x03 << 8)
    yield "tso", ram(TX_BUF, f) + tx_rings() + ram(TX_RING, tctx + tdata) + wr("TDT", 2)
    yield "rx", rx_rings() + bytes([4]) + struct.pack("<H", 100) + b"\x02" + \
        bytes([4]) + struct.pack("<H", 3000) + b"\x01" + bytes([1]) + struct.pack("<H", 0xc0 // 4)
    yield "rx-moderated", (rx_rings(0x30002) + wr("RDTR", 100) + wr("RADV", 200) + bytes([4]) +
                           struct.pack("<H", 600) + b"\x00" + bytes([6]))
    yield "reset-io", (bytes([5, 0]) + struct.pack("<I", 0) + bytes([5, 1]) +
                       struct.pack("<I", 0x04000000) + wr("MDIC", 0x08220000) +
                       wr("MDIC", 0x04201340) + bytes([6]))


def main():
    out = sys.argv[1]
    for name, data in seeds():
        with open(os.path.join(out, "e1000_" + name + ".seed"), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
