#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The far end of a NIC's socket backend, for the integration tests (python3, no dependencies).

It listens on a unix stream socket and speaks QEMU 7.2's `-netdev stream` format, which is
qlite's `backend socket` stream format too: each Ethernet frame (no FCS) is sent after its
length as 4 bytes big-endian. So the same harness talks to
    qlite:  vdev e1000 backend socket connect PATH
    QEMU:   -netdev stream,id=n0,server=off,addr.type=unix,addr.path=PATH

Test frames (what `source` sends and `sink` checks; the test guest's drivers use the same):

    offset  size  field
    0       6     destination MAC (source: --dst, default ff:ff:ff:ff:ff:ff)
    6       6     source MAC (source: --src, default 52:54:00:aa:bb:cc)
    12      2     Ethertype 0x88b5 (IEEE local experimental), big-endian: 88 b5
    14      4     sequence number, little-endian; the first frame is 0, then 1, 2, ...
    18      ...   pattern: byte i (i = 0 at offset 18) is (seq + i) & 0xff, to the frame's end

A test frame is 60 bytes at least (the Ethernet minimum without FCS, so no NIC pads it) and
65535 at most. `sink` checks every byte to the end of each frame and that the sequence numbers
come in order from 0.

Modes:
    echo            send every frame back with the source and destination MACs swapped,
                    until the peer hangs up (or --count frames)
    sink N          receive N test frames and check them; print "sink: N frames B bytes"
    source N SIZE   send N test frames of SIZE bytes; print "source: N frames B bytes",
                    then keep the connection until the peer hangs up or --linger seconds pass

Output: "net_peer: listening on PATH" once the socket accepts connections (a test waits for this
line before it starts qlite), "net_peer: connected", then the mode's summary. Exit status 0 when
all went as asked; 1 with a "net_peer: ..." line on stderr otherwise (a bad frame, a timeout).
"""
import argparse
import os
import socket
import struct
import sys
import time

ETHERTYPE = 0x88B5
HDR = 14
SEQ = 4
MIN_FRAME = 60
MAX_FRAME = 65535


def mac_bytes(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise argparse.ArgumentTypeError("a MAC is six hex bytes with colons: %s" % text)
    return bytes(int(p, 16) for p in parts)


def pattern(seq, n):
    """The n pattern bytes of frame seq: (seq + i) & 0xff, sliced from a repeating ramp (a
    per-byte loop took ~100 us a full frame: a sink fell behind a guest sending 10,000)."""
    start = seq & 0xFF
    reps = (start + n) // 256 + 1
    return (bytes(range(256)) * reps)[start:start + n]


def make_frame(seq, size, dst, src):
    """The test frame number seq, size bytes long."""
    return dst + src + struct.pack(">H", ETHERTYPE) + struct.pack("<I", seq) + pattern(seq, size - HDR - SEQ)


def check_frame(frame, want_seq):
    """None when frame is test frame number want_seq, else what is wrong with it."""
    if len(frame) < MIN_FRAME:
        return "%d bytes, fewer than %d" % (len(frame), MIN_FRAME)
    (etype,) = struct.unpack(">H", frame[12:14])
    if etype != ETHERTYPE:
        return "Ethertype 0x%04x, not 0x%04x" % (etype, ETHERTYPE)
    (seq,) = struct.unpack("<I", frame[14:18])
    if seq != want_seq:
        return "sequence number %d where %d was due" % (seq, want_seq)
    payload = frame[HDR + SEQ:]
    want = pattern(seq, len(payload))
    if payload != want:
        i = next(i for i in range(len(payload)) if payload[i] != want[i])
        return "pattern byte %d is 0x%02x, not 0x%02x" % (i, payload[i], want[i])
    return None


class Stream:
    """QEMU's stream framing over a connected socket, with a deadline."""

    def __init__(self, conn, deadline):
        self.conn = conn
        self.deadline = deadline
        self.buf = b""
        self.pos = 0	# frames are taken from buf at pos: no copy of the rest a frame

    def _fill(self, n):
        while len(self.buf) - self.pos < n:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.conn.settimeout(left)
            try:
                data = self.conn.recv(1 << 20)
            except socket.timeout:
                raise TimeoutError
            except ConnectionResetError:
                data = b""
            if not data:
                return False
            self.buf = self.buf[self.pos:] + data
            self.pos = 0
        return True

    def recv(self):
        """One frame, or None when the peer hung up."""
        if not self._fill(4):
            return None
        (length,) = struct.unpack_from(">I", self.buf, self.pos)
        if length > MAX_FRAME + 1:
            raise ValueError("a length of %d bytes: the stream is out of step" % length)
        if not self._fill(4 + length):
            return None
        frame = self.buf[self.pos + 4:self.pos + 4 + length]
        self.pos += 4 + length
        return frame

    def send(self, frame):
        self.conn.settimeout(max(self.deadline - time.monotonic(), 0.001))
        self.conn.sendall(struct.pack(">I", len(frame)) + frame)


def fail(msg):
    print("net_peer: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def run_echo(stream, count):
    frames = nbytes = 0
    while count is None or frames < count:
        frame = stream.recv()
        if frame is None:
            break
        if len(frame) >= 12:
            frame = frame[6:12] + frame[0:6] + frame[12:]
        stream.send(frame)
        frames += 1
        nbytes += len(frame)
    print("echo: %d frames %d bytes" % (frames, nbytes), flush=True)
    return 0


def run_sink(stream, n):
    nbytes = 0
    for i in range(n):
        frame = stream.recv()
        if frame is None:
            fail("sink: the peer hung up after %d of %d frames" % (i, n))
        why = check_frame(frame, i)
        if why:
            fail("sink: frame %d: %s" % (i, why))
        nbytes += len(frame)
    print("sink: %d frames %d bytes" % (n, nbytes), flush=True)
    return 0


def run_source(stream, n, size, dst, src, linger):
    nbytes = 0
    for seq in range(n):
        frame = make_frame(seq, size, dst, src)
        stream.send(frame)
        nbytes += len(frame)
    print("source: %d frames %d bytes" % (n, nbytes), flush=True)
    # The guest may still be reading: keep the connection (and drain its frames) a while.
    stream.deadline = min(stream.deadline, time.monotonic() + linger)
    try:
        while stream.recv() is not None:
            pass
    except TimeoutError:
        pass
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", help="the unix socket to listen on (replaced if it exists)")
    ap.add_argument("mode", choices=["echo", "sink", "source"])
    ap.add_argument("args", nargs="*", type=int, help="sink: N; source: N SIZE")
    ap.add_argument("--count", type=int, help="echo: stop after this many frames")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="give up after this many seconds in all (default 120)")
    ap.add_argument("--linger", type=float, default=5.0,
                    help="source: seconds to keep the connection after sending (default 5)")
    ap.add_argument("--dst", type=mac_bytes, default=mac_bytes("ff:ff:ff:ff:ff:ff"))
    ap.add_argument("--src", type=mac_bytes, default=mac_bytes("52:54:00:aa:bb:cc"))
    a = ap.parse_args()

    want = {"echo": 0, "sink": 1, "source": 2}[a.mode]
    if len(a.args) != want:
        ap.error("%s takes %d numbers" % (a.mode, want))
    if a.mode == "source" and not MIN_FRAME <= a.args[1] <= MAX_FRAME:
        ap.error("a test frame is %d to %d bytes" % (MIN_FRAME, MAX_FRAME))

    deadline = time.monotonic() + a.timeout
    if os.path.exists(a.path):
        os.unlink(a.path)
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(a.path)
    lsock.listen(1)
    print("net_peer: listening on %s" % a.path, flush=True)
    lsock.settimeout(a.timeout)
    try:
        conn, _ = lsock.accept()
    except socket.timeout:
        fail("nobody connected within %g s" % a.timeout)
    finally:
        lsock.close()
        os.unlink(a.path)
    print("net_peer: connected", flush=True)
    stream = Stream(conn, deadline)
    try:
        if a.mode == "echo":
            return run_echo(stream, a.count)
        if a.mode == "sink":
            return run_sink(stream, a.args[0])
        return run_source(stream, a.args[0], a.args[1], a.dst, a.src, a.linger)
    except TimeoutError:
        fail("%s: timed out after %g s" % (a.mode, a.timeout))
    except (ValueError, BrokenPipeError, ConnectionResetError) as e:
        fail("%s: %s" % (a.mode, e))
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
