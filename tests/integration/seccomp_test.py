#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration tests: qlite where io_uring is denied, as under Docker's default seccomp profile.

usage: seccomp_test.py QLITE TEST_GUEST NO_IO_URING CASE

NO_IO_URING (tests/integration/no_io_uring.c) runs a command under a seccomp filter that makes
io_uring_setup/_enter/_register fail with EPERM. qlite must then say so in one line and run the
I/O thread on epoll and a worker pool, to the same result as on io_uring.

Without a usable /dev/kvm a case is skipped (exit 77), except in CI (CI=true), where that is a
failure.
"""
import ctypes
import os
import re
import signal
import subprocess
import sys
import time

# The helpers of the other integration tests (this directory is sys.path[0]); no __pycache__
# left in the source tree.
sys.dont_write_bytecode = True
from guest_test import Failure, check, guest_args, run_case, stop_line

SKIP = 77
FALLBACK = re.compile(r"^qlite: io_uring unavailable \((.*)\): the I/O thread uses epoll and "
                      r"a worker pool for disk I/O$", re.M)
NR_IO_URING_SETUP = 425  # x86_64


def run(cmd, stdin=subprocess.DEVNULL, input=None, env=None):
    if input is not None:
        stdin = None
    return subprocess.run(cmd, stdin=stdin, input=input, capture_output=True, text=True,
                          errors="replace", timeout=120, env=env)


def io_uring_usable():
    """None when this process may set up an io_uring, else why not."""
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)  # struct io_uring_params
    fd = libc.syscall(NR_IO_URING_SETUP, 1, params)
    if fd < 0:
        return os.strerror(ctypes.get_errno())
    os.close(fd)
    return None


def fallback_lines(res):
    return FALLBACK.findall(res.stderr)


def before_time(line):
    """The stop line up to its timing: reason, detail and status."""
    return line.split(", after ")[0]


def case_hello(q, g, wrap):
    """Under the filter: the same output and status as without it, and one line saying why."""
    cmd = [q, "run"] + guest_args(g, "hello")
    ref = run(cmd)
    res = run([wrap] + cmd)
    check("qlite-test-guest: hello" in res.stdout, "no hello on the UART under the filter", res)
    check(res.returncode == 1, "expected status 1 (debug-exit 0) under the filter", res)
    check("debug-exit" in stop_line(res), "stop line does not name debug-exit", res)
    check(res.returncode == ref.returncode and res.stdout == ref.stdout,
          f"status and output differ from the run without the filter:\n--- without\n{ref.stdout}"
          f"status {ref.returncode}", res)
    check(before_time(stop_line(res)) == before_time(stop_line(ref)),
          f"stop line differs from the run without the filter: {stop_line(ref)}", res)
    check(fallback_lines(res) == ["Operation not permitted"],
          "expected one fallback line giving EPERM", res)


def case_no_fallback(q, g, wrap):
    """Without the filter, io_uring: not a word about a fallback."""
    why = io_uring_usable()
    if why:
        print(f"SKIP: io_uring is denied on this host already ({why})")
        return SKIP
    res = run([q, "run"] + guest_args(g, "hello"))
    check(res.returncode == 1 and "qlite-test-guest: hello" in res.stdout, "guest failed", res)
    check(not fallback_lines(res) and "io_uring" not in res.stderr,
          "qlite fell back from io_uring where it is allowed", res)


def case_forced(q, g, wrap):
    """QLITE_NO_IO_URING=1 takes the same fallback without any filter."""
    env = dict(os.environ, QLITE_NO_IO_URING="1")
    res = run([q, "run"] + guest_args(g, "hello"), env=env)
    check(res.returncode == 1 and "qlite-test-guest: hello" in res.stdout, "guest failed", res)
    check(len(fallback_lines(res)) == 1, "expected one fallback line", res)


def case_uart_input(q, g, wrap):
    """Console input reaches the guest through an epoll watch."""
    res = run([wrap, q, "run"] + guest_args(g, "uart-echo=5"), input="hello")
    check(res.returncode == 1, "uart-echo failed under the filter", res)
    check("hello" in res.stdout, "echoed bytes missing", res)
    check(len(fallback_lines(res)) == 1, "expected one fallback line", res)


def case_sigterm(q, g, wrap):
    """SIGTERM reaches the signalfd on the epoll loop (and no worker thread takes it)."""
    p = subprocess.Popen([wrap, q, "run"] + guest_args(g, "hello spin=60000"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    time.sleep(3)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    res = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    check(p.returncode == 128 + signal.SIGTERM, "SIGTERM must stop the VM with status 143", res)
    check("(signal:" in stop_line(res), "stop line does not name the signal", res)
    check(len(fallback_lines(res)) == 1, "expected one fallback line", res)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


if __name__ == "__main__":
    sys.exit(run_case(CASES, ["QLITE", "GUEST", "NO_IO_URING"]))
