#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The command line a new user meets first: --version, each command's --help, help topics,
and qlite check over several config files. Needs no /dev/kvm.

Usage: cli_test.py QLITE CONFIGS_DIR CASE
"""
import os
import subprocess
import sys
import tempfile


def qlite(*args):
    p = subprocess.run([QLITE, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def expect(cond, what, out=""):
    if not cond:
        print("FAIL: " + what)
        if out:
            print(out)
        sys.exit(1)


def case_version():
    for flag in ("--version", "-V"):
        rc, out, err = qlite(flag)
        expect(rc == 0 and out.startswith("qlite ") and out.count("\n") == 1,
               flag + " prints one 'qlite VERSION' line", out + err)
    expect(qlite("--version")[1] == qlite("-V")[1], "-V and --version agree")


def case_help():
    for cmd in ("run", "check"):
        rc, out, err = qlite(cmd, "--help")
        expect(rc == 0 and out.startswith("usage: qlite " + cmd) and not err,
               cmd + " --help: its usage on stdout, status 0", out + err)
        rc2, out2, _ = qlite("help", cmd)
        expect(rc2 == 0 and out2 == out, "help " + cmd + " is " + cmd + " --help")
    rc, out, err = qlite("help")
    expect(rc == 0 and "qlite --version" in out and "COMMAND --help" in out, "help: usage", out)
    rc, out, err = qlite("help", "stats")
    expect(rc == 2 and 'no topic "stats"' in err and "docs/stats.md" in err,
           "help stats: a clear error naming the topics, status 2", out + err)
    # --help as the value of an option is the value, not a request for help.
    rc, out, err = qlite("check", os.path.join(CONFIGS, "test-guest.conf"), "--cmdline", "--help")
    expect(rc == 0 and "cmdline: --help" in out, "--cmdline --help is a command line", out + err)


def case_check_many():
    a = os.path.join(CONFIGS, "test-guest.conf")
    b = os.path.join(CONFIGS, "smp-pinned.conf")
    rc, out, err = qlite("check", a, b)
    expect(rc == 0, "two good configs: status 0", out + err)
    expect(out.count("== ") == 2 and ("== " + a) in out and ("== " + b) in out,
           "a '== FILE' line before each", out)
    expect(out.count("\nmachine: ") + out.startswith("machine: ") == 2, "both described", out)
    # Options after the files apply to each.
    rc, out, err = qlite("check", a, b, "--ram", "128M")
    expect(rc == 0 and out.count("128 MiB RAM") == 2, "--ram applies to both", out + err)
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.conf")
        with open(bad, "w") as f:
            f.write("ram 1\n")
        rc, out, err = qlite("check", a, bad)
        expect(rc == 2 and (bad + ":1:") in err and "== " + a in out,
               "a bad config among good ones: its FILE:LINE error, status 2", out + err)
        rc, out, err = qlite("check", a, b, "--dtb", os.path.join(d, "x.dtb"))
        expect(rc == 2 and "--dtb" in err and not os.path.exists(os.path.join(d, "x.dtb")),
               "--dtb with two VMs is refused before anything is written", out + err)


def case_check_ide():
    """vdev ide: the ports, IRQs and PCI functions qlite check lists; the image errors are
    config errors: one FILE:LINE line and status 2, before anything is built."""
    kernel = os.path.join(CONFIGS, "test-guest.conf")    # any readable file
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        disk, ro = os.path.join(d, "disk.img"), os.path.join(d, "ro.img")
        for path in (disk, ro):
            with open(path, "wb") as f:
                f.truncate(1 << 20)
        os.chmod(ro, 0o444)

        def check(text, *extra, user=None):
            conf = os.path.join(d, "vm.conf")
            with open(conf, "w") as f:
                f.write("kernel %s\n%s" % (kernel, text))
            os.chmod(conf, 0o644)
            if user is None:
                return qlite("check", conf, *extra)
            p = subprocess.run([QLITE, "check", conf, *extra], capture_output=True, text=True,
                               timeout=60, user=user, group=user)
            return p.returncode, p.stdout, p.stderr

        # A file's paths are relative to it, the command line's to the working directory.
        rc, out, err = check("vdev ide file disk.img\n", "--vdev", "ide,file=%s,readonly=on,"
                             "channel=secondary,slave=on" % ro)
        expect(rc == 0 and not err, "two disks: status 0, nothing on stderr", out + err)
        for want in ("pio   0x01f0-0x01f7  ide-primary\n", "pio   0x03f6-0x03f6  ide-primary-ctl\n",
                     "pio   0x0170-0x0177  ide-secondary\n", "piix3-ide-bmdma\n",
                     "irq   14  ide-primary\n", "irq   15  ide-secondary\n",
                     "pci   00:01.0  8086:7000  piix3-isa\n", "pci   00:01.1  8086:7010  piix3-ide\n"):
            expect(want in out, "check lists " + want.strip(), out)
        conf = os.path.join(d, "vm.conf")
        bad = [
            ("vdev ide file nowhere.img\n", "nowhere.img: No such file or directory", None),
            ("vdev ide file disk.img\nvdev ide file disk.img slave on\n",
             "disk.img: already the disk of the vdev at %s:2" % conf, None),
            ("vdev ide readonly on\n", 'option "file" is required for ide', None),
            ("vdev ide file /dev/null\n", "not a regular file", None),
            ("vdev ide file %s\n" % d, "Is a directory", None),
        ]
        if os.geteuid() == 0:
            bad.append(("vdev ide file ro.img\n", "Permission denied (for a read-only disk: "
                        "readonly on)", 65534))
        elif not os.access(ro, os.W_OK):
            bad.append(("vdev ide file ro.img\n", "Permission denied", None))
        for text, want, user in bad:
            rc, out, err = check(text, user=user)
            line = len(text.splitlines()) + 1
            expect(rc == 2 and err.count("\n") == 1 and err.startswith("%s:%d: " % (conf, line))
                   and want in err, "%r: one FILE:LINE line with %r, status 2" % (text, want),
                   out + err)


CASES = {"version": case_version, "help": case_help, "check_many": case_check_many,
         "check_ide": case_check_ide}

if __name__ == "__main__":
    QLITE, CONFIGS, name = sys.argv[1], sys.argv[2], sys.argv[3]
    CASES[name]()
    print("PASS: " + name)
