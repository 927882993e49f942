#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The command line a new user meets first: --version, each command's --help, help topics,
and qlite check over several config files. Needs no /dev/kvm.

Usage: cli_test.py QLITE CONFIGS_DIR TEST_GUEST CASE
"""
import os
import shutil
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
    for cmd in ("run", "check", "compare"):
        rc, out, err = qlite(cmd, "--help")
        expect(rc == 0 and out.startswith("usage: qlite " + cmd) and not err,
               cmd + " --help: its usage on stdout, status 0", out + err)
        rc2, out2, _ = qlite("help", cmd)
        expect(rc2 == 0 and out2 == out, "help " + cmd + " is " + cmd + " --help")
    rc, out, err = qlite("help")
    expect(rc == 0 and "qlite --version" in out and "COMMAND --help" in out, "help: usage", out)
    expect("qlite compare A.conf B.conf" in out, "help: the usage names compare", out)
    # compare's usage lists every workload of its table.
    rc, out, err = qlite("compare", "--help")
    for w in ("blk-write", "blk-read", "net-tx", "net-rx", "net-echo", "--until", "--svg"):
        expect(w in out, f"compare --help names {w}", out)
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


def qlite_in(args, stdin=subprocess.DEVNULL, cwd=None, timeout=10):
    """qlite with a short timeout: an input that blocks in open() must fail the test, not hang it."""
    try:
        p = subprocess.run([os.path.abspath(QLITE), *args], stdin=stdin, capture_output=True,
                           text=True, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        expect(False, f"qlite {' '.join(args)}: still running after {timeout} s (blocked in open()?)")
    return p.returncode, p.stdout, p.stderr


def case_hostile_inputs():
    """Inputs that are not regular files are refused at once, saying what they are; a FIFO is
    never waited on, whether it is the config, an include, the kernel or the initrd."""
    guest = os.path.abspath(GUEST)
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        conf = os.path.join(d, "inc.conf")
        with open(conf, "w") as f:
            f.write(f"ram 64M\ninclude fifo\nkernel {guest}\n")
        cases = [
            (["check", fifo], f"{fifo}: not a regular file (a FIFO); `-` reads a config from standard input"),
            (["check", conf], f"{conf}:2: {fifo}: not a regular file (a FIFO)"),
            (["check", "--kernel", fifo], f"--kernel: {fifo}: not a regular file (a FIFO)"),
            (["check", "--kernel", guest, "--initrd", fifo], f"--initrd: {fifo}: not a regular file (a FIFO)"),
            (["check", "--kernel", "/dev/zero"], "--kernel: /dev/zero: not a regular file (a character device)"),
            (["check", "--kernel", d], f"--kernel: {d}: not a regular file (a directory)"),
        ]
        for args, line in cases:
            for cmd in ("check", "run"):   # both refuse before anything (KVM included) is opened
                argv = [cmd] + args[1:]
                rc, out, err = qlite_in(argv)
                expect(rc == 2 and err == line + "\n" and not out,
                       f"qlite {' '.join(argv)}: status 2 and one line '{line}'", f"status {rc}\n{out}{err}")
        # /dev/stdin on a pipe is a FIFO; on a regular file it is that file.
        rc, out, err = qlite_in(["check", "/dev/stdin"], stdin=subprocess.PIPE)
        expect(rc == 2 and "/dev/stdin: not a regular file (a FIFO); `-` reads" in err,
               "/dev/stdin on a pipe: refused with a pointer to -", out + err)
        good = os.path.join(d, "good.conf")
        with open(good, "w") as f:
            f.write(f"ram 64M\nkernel {guest}\n")
        with open(good) as f:
            rc, out, err = qlite_in(["check", "/dev/stdin"], stdin=f)
        expect(rc == 0 and "machine:" in out, "/dev/stdin on a regular file is that file", out + err)


def case_stdin_config():
    """`-` reads the config from standard input: its paths are relative to the current directory
    and its errors say <stdin>:LINE."""
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(GUEST, os.path.join(d, "guest.elf"))
        text = "system from-stdin\nram 64M\nkernel guest.elf\ncmdline hello\n"
        p = subprocess.run([os.path.abspath(QLITE), "check", "-"], input=text, capture_output=True,
                           text=True, cwd=d, timeout=10)
        expect(p.returncode == 0 and "machine: from-stdin" in p.stdout and "kernel guest.elf" in p.stdout,
               "check -: the config on stdin, kernel relative to the current directory", p.stdout + p.stderr)
        p = subprocess.run([os.path.abspath(QLITE), "check", "-", "--ram", "128M"], input=text,
                           capture_output=True, text=True, cwd=d, timeout=10)
        expect(p.returncode == 0 and "128 MiB RAM" in p.stdout, "check - --ram 128M: options after -",
               p.stdout + p.stderr)
        for cmd in ("check", "run"):
            p = subprocess.run([os.path.abspath(QLITE), cmd, "-", "--kernel", "guest.elf"],
                               input="ram 64M\ncpus 2\nbogus 1\n", capture_output=True, text=True,
                               cwd=d, timeout=10)
            expect(p.returncode == 2 and p.stderr == '<stdin>:3: unknown keyword "bogus"\n',
                   f"{cmd} -: an error is <stdin>:LINE", p.stdout + p.stderr)
            p = subprocess.run([os.path.abspath(QLITE), cmd, "-"], input="ram 64M\nkernel nothere\n",
                               capture_output=True, text=True, cwd=d, timeout=10)
            expect(p.returncode == 2 and p.stderr == "<stdin>:2: nothere: No such file or directory\n",
                   f"{cmd} -: a missing kernel relative to the current directory", p.stdout + p.stderr)
        p = subprocess.run([os.path.abspath(QLITE), "check", "-", "-"], input=text,
                           capture_output=True, text=True, cwd=d, timeout=10)
        expect(p.returncode == 2 and "standard input given twice" in p.stderr, "check - -: refused",
               p.stdout + p.stderr)


def bad_kernels(d):
    """(name, check arguments, the one line both run and check must say) for kernels qlite cannot boot."""
    guest = os.path.abspath(GUEST)
    with open(guest, "rb") as f:
        elf = f.read()
    files = {"junk": os.urandom(4096), "short": b"\x7fELF", "trunc.elf": elf[:30000]}
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    p = lambda n: os.path.join(d, n)
    return [
        ("junk", ["--kernel", p("junk")], f"qlite: {p('junk')}: not a kernel image: no ELF, bzImage or multiboot header"),
        ("short", ["--kernel", p("short")], f"qlite: {p('short')}: truncated ELF header"),
        ("trunc", ["--kernel", p("trunc.elf")], f"qlite: {p('trunc.elf')}: truncated or corrupt ELF"),
        ("ram", ["--kernel", guest, "--ram", "1M"], f"qlite: {guest}: segment 0 at 0x100000"),
        ("cmdline", ["--kernel", guest, "--cmdline", "a" * 70000],
         "qlite: kernel command line too long (70000 bytes, at most 65535)"),
    ]


def case_check_kernel():
    """qlite check loads the kernel (and initrd) as run does, into scratch RAM laid out like the
    VM's: a kernel run refuses fails check too, with run's message and status 1."""
    with tempfile.TemporaryDirectory() as d:
        for name, args, line in bad_kernels(d):
            rc, out, err = qlite("check", *args)
            expect(rc == 1 and not out and len(err.splitlines()) == 1 and err.startswith(line),
                   f"check, {name} kernel: status 1 and one line '{line}...'", f"status {rc}\n{out}{err}")
        # 4M: the guest, loaded as its own initrd too, no longer fits in 2M.
        rc, out, err = qlite("check", "--kernel", os.path.abspath(GUEST), "--ram", "4M",
                             "--initrd", os.path.abspath(GUEST))
        expect(rc == 0 and "memory map" in out, "a kernel and initrd that fit: status 0", out + err)


def case_print_config_paths():
    """--print-config writes absolute paths: the printed file, saved in another directory and
    checked from a third, names the same kernel, initrd and outputs."""
    with tempfile.TemporaryDirectory() as d:
        a, b, c = (os.path.join(d, x) for x in "abc")
        for x in (a, b, c, os.path.join(a, "sub")):
            os.mkdir(x)
        shutil.copy(GUEST, os.path.join(a, "guest.elf"))
        shutil.copy(GUEST, os.path.join(a, "sub", "initrd.img"))
        with open(os.path.join(a, "vm.conf"), "w") as f:
            f.write("ram 64M\nkernel guest.elf\ninitrd sub/../sub/initrd.img\nstats json out.json\n")
        p = subprocess.run([os.path.abspath(QLITE), "check", "a/vm.conf", "--print-config"], cwd=d,
                           capture_output=True, text=True, timeout=10)
        expect(p.returncode == 0, "check --print-config", p.stdout + p.stderr)
        real = os.path.realpath(a)
        for line in (f"kernel {real}/guest.elf", f"initrd {real}/sub/initrd.img",
                     f"stats json {real}/out.json"):
            expect(line in p.stdout.splitlines(), f"--print-config: '{line}'", p.stdout)
        printed = os.path.join(b, "printed.conf")
        with open(printed, "w") as f:
            f.write(p.stdout)
        p = subprocess.run([os.path.abspath(QLITE), "check", printed], cwd=c, capture_output=True,
                           text=True, timeout=10)
        expect(p.returncode == 0 and f"kernel {real}/guest.elf" in p.stdout,
               "the printed config, saved elsewhere, checks from a third directory", p.stdout + p.stderr)


def case_check_ide():
    """vdev ide: the ports, IRQs and PCI functions qlite check lists; the image errors are
    config errors: one FILE:LINE line and status 2, before anything is built."""
    kernel = os.path.abspath(GUEST)    # check loads it as run would
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
         "check_ide": case_check_ide, "hostile_inputs": case_hostile_inputs,
         "stdin_config": case_stdin_config, "check_kernel": case_check_kernel,
         "print_config_paths": case_print_config_paths}

if __name__ == "__main__":
    QLITE, CONFIGS, GUEST, name = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    CASES[name]()
    print("PASS: " + name)
