#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""net_peer.py against a client that speaks QEMU's stream framing byte by byte (struct, not
net_peer's own helpers): echo swaps the MACs, sink accepts good test frames and refuses a bad
one (status 1, the frame named), source sends what its docstring says.

Usage: net_peer_test.py
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "net_peer.py")


def start(path, *args):
    p = subprocess.Popen([sys.executable, PEER, path] + list(args) + ["--timeout", "20"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    # Unbuffered: readline takes no more than its line, the rest is communicate()'s.
    line = p.stdout.readline().decode()
    assert line == "net_peer: listening on %s\n" % path, line
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    assert p.stdout.readline() == b"net_peer: connected\n"
    s.settimeout(20)
    return p, s


def put(s, frame):
    s.sendall(struct.pack(">I", len(frame)) + frame)


def get(s):
    def exact(n):
        buf = b""
        while len(buf) < n:
            d = s.recv(n - len(buf))
            assert d, "the peer hung up"
            buf += d
        return buf
    (n,) = struct.unpack(">I", exact(4))
    return exact(n)


def test_frame(seq, size, dst=b"\xff" * 6, src=b"\x52\x54\x00\x12\x34\x56"):
    """Built from the format in net_peer.py's docstring, independently of its code."""
    head = dst + src + b"\x88\xb5" + struct.pack("<I", seq)
    return head + bytes((seq + i) & 0xFF for i in range(size - len(head)))


def finish(p, s):
    s.close()
    out, err = p.communicate(timeout=20)
    return p.returncode, out.decode(), err.decode()


def main():
    d = tempfile.mkdtemp(prefix="qlite-np-")
    path = os.path.join(d, "peer.sock")
    try:
        # echo: source and destination swapped, the rest untouched, sizes up to 65535
        p, s = start(path, "echo")
        for size in (60, 1514, 65535):
            f = test_frame(7, size, dst=b"\x02" * 6, src=b"\x04" * 6)
            put(s, f)
            assert get(s) == b"\x04" * 6 + b"\x02" * 6 + f[12:]
        rc, out, err = finish(p, s)
        assert rc == 0 and out == "echo: 3 frames %d bytes\n" % (60 + 1514 + 65535), (out, err)

        # sink: good frames in order
        p, s = start(path, "sink", "3")
        for seq, size in enumerate((60, 100, 1514)):
            put(s, test_frame(seq, size))
        rc, out, err = finish(p, s)
        assert rc == 0 and out == "sink: 3 frames 1674 bytes\n", (out, err)

        # sink: one wrong pattern byte is named
        p, s = start(path, "sink", "2")
        put(s, test_frame(0, 60))
        bad = bytearray(test_frame(1, 60))
        bad[18 + 5] ^= 0xFF
        put(s, bytes(bad))
        rc, out, err = finish(p, s)
        assert rc == 1 and "frame 1: pattern byte 5 is 0xf9, not 0x06" in err, (rc, err)

        # sink: a frame out of order
        p, s = start(path, "sink", "2")
        put(s, test_frame(1, 60))
        rc, out, err = finish(p, s)
        assert rc == 1 and "sequence number 1 where 0 was due" in err, (rc, err)

        # source: N frames of SIZE bytes, byte for byte as the docstring says
        p, s = start(path, "source", "4", "200", "--linger", "0.2")
        for seq in range(4):
            got = get(s)
            assert got == test_frame(seq, 200, src=b"\x52\x54\x00\xaa\xbb\xcc"), seq
        time.sleep(0.3)
        rc, out, err = finish(p, s)
        assert rc == 0 and "source: 4 frames 800 bytes\n" in out, (out, err)
    finally:
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(d)
    print("net_peer: echo, sink, source as documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
