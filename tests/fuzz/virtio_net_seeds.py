#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Seed inputs for fuzz_virtio_net (its header comment has the format): what a driver and
the outside would do, so the fuzzer starts from frames the device carries, and mutates
from there.

Usage: virtio_net_seeds.py OUTDIR
"""
import os
import struct
import sys

RAM = 0x20000
NEXT, WRITE, INDIRECT = 1, 2, 4
EVENT_IDX, INDIRECT_DESC, MRG, CTRL, NO_MRG = 1, 2, 4, 8, 16
KICK, RUN, SCRIBBLE, ADVANCE, RESET, SEND, CONFIG, DRAIN = range(8)
RXQ, TXQ, CTRLQ = 0, 1, 2
HDR = bytes(12)
OURS, BCAST, MCAST, OTHER = 0, 1, 2, 3


def on(q, op):
    """The step on queue q."""
    return op | (q << 3)


def send(dst, length):
    """The outside sends a frame of length bytes to dst (0x80: lengths past 2 KiB)."""
    return [SEND, dst | (0x80 if length > 0x7ff else 0), length >> 8, length & 0xff]


def desc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def avail(heads, used_event=0):
    return struct.pack("<HH", 0, len(heads)) + b"".join(struct.pack("<H", h) for h in heads) + \
        struct.pack("<H", used_event)


def frame(n):
    return b"\x52\x54\x00\x12\x34\x56" + b"\x52\x54\x00\x12\x34\x57" + \
        bytes((i * 7) & 0xff for i in range(n - 12))


def queue(q, table, heads):
    return {0x4000 * q: table, 0x4000 * q + 0x800: avail(heads)}


def seed(flags, size_log2, script, ram):
    image = bytearray(RAM)
    for gpa, data in ram.items():
        image[gpa:gpa + len(data)] = data
    return bytes([flags, size_log2, len(script), 0]) + bytes(script) + bytes(image.rstrip(b"\0"))


def rx_buffers(n, length, base=0xc000):
    """n writable buffers of length bytes on the receive queue, one chain each."""
    table = b"".join(desc(base + i * length, length, WRITE) for i in range(n))
    return queue(RXQ, table, list(range(n)))


def tx():
    """Two frames: one in one descriptor, one with its header apart; a kick sends both."""
    ram = {0xc000: HDR + frame(60), 0xd000: HDR, 0xd100: frame(1514)}
    table = desc(0xc000, 72) + desc(0xd000, 12, NEXT, 2) + desc(0xd100, 1514)
    ram.update(queue(TXQ, table, [0, 1]))
    return seed(0, 3, [on(TXQ, KICK), DRAIN], ram)


def tx_indirect():
    ram = {0xc000: HDR + frame(100),
           0xb000: desc(0xc000, 12, NEXT, 1) + desc(0xc00c, 100)}
    ram.update(queue(TXQ, desc(0xb000, 32, INDIRECT), [0]))
    return seed(INDIRECT_DESC | EVENT_IDX, 2, [on(TXQ, KICK), DRAIN, RESET, on(TXQ, KICK)], ram)


def rx():
    """Without MRG_RXBUF: two 2 KiB buffers, two frames in, one too big for them."""
    return seed(NO_MRG, 2, [on(RXQ, KICK)] + send(OURS, 60) + [RUN] + send(BCAST, 3000) +
                [RUN] + send(OURS, 1514) + [RUN, RUN], rx_buffers(2, 2048))


def rx_mergeable():
    """MRG_RXBUF: a 4000-byte frame over 1 KiB buffers, then one waiting for more."""
    return seed(MRG | EVENT_IDX, 3, [on(RXQ, KICK)] + send(OURS, 4000) + [RUN] +
                send(OURS, 6000) + [RUN, on(RXQ, ADVANCE), 1, on(RXQ, KICK), RUN],
                rx_buffers(6, 1024))


def ctrl():
    """The control queue: promiscuous off, then frames to us and to others."""
    ram = {0xa000: bytes([0, 0, 0]),  # class RX, PROMISC, off
           0xa100: b"\xff"}
    ram.update(queue(CTRLQ, desc(0xa000, 2, NEXT, 1) + desc(0xa002, 1, NEXT, 2) +
                     desc(0xa100, 1, WRITE), [0]))
    ram.update(rx_buffers(4, 2048))
    return seed(CTRL | MRG, 3, [on(CTRLQ, KICK), on(RXQ, KICK)] + send(OTHER, 80) + [RUN] +
                send(OURS, 80) + [RUN] + send(MCAST, 80) + [RUN], ram)


SEEDS = {
    "tx": tx(),
    "tx_indirect": tx_indirect(),
    "rx": rx(),
    "rx_mergeable": rx_mergeable(),
    "ctrl": ctrl(),
}

if __name__ == "__main__":
    out = sys.argv[1]
    for name, data in SEEDS.items():
        with open(os.path.join(out, "virtio_net_" + name + ".seed"), "wb") as f:
            f.write(data)
