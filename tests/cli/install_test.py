#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""`meson install` into a temporary DESTDIR, and what it installed: the binary, the man page
(rendered by man-db's `man -l` without a warning, every keyword and device type in it), the bash
completion (sources cleanly, completes `qlite run --ra` to `--ram`), the example configs and the
docs. Needs no /dev/kvm.

Usage: install_test.py MESON BUILD_ROOT SOURCE_ROOT PREFIX BINDIR MANDIR DATADIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
from cli_test import expect

SKIP = 77


def under(destdir, prefix, d):
    """Where meson puts directory d (relative to prefix, or absolute) inside destdir."""
    return os.path.join(destdir, os.path.join(prefix, d).lstrip("/"))


def main():
    meson, build, source, prefix, bindir, mandir, datadir = sys.argv[1:8]
    missing = [t for t in ("man", "groff", "bash") if not shutil.which(t)]
    if missing:
        why = f"{', '.join(missing)} not found (Debian: man-db, groff-base; scripts/setup.sh installs them)"
        if os.environ.get("CI") == "true":
            expect(False, why + " (in CI it is required)")
        print("SKIP: " + why)
        return SKIP
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MANPAGER="cat", PAGER="cat")
    with tempfile.TemporaryDirectory() as dest:
        p = subprocess.run([meson, "install", "-C", build, "--destdir", dest, "--no-rebuild", "--quiet"],
                           capture_output=True, text=True, timeout=120)
        expect(p.returncode == 0, "meson install --destdir", p.stdout + p.stderr)
        qlite = os.path.join(under(dest, prefix, bindir), "qlite")
        man = os.path.join(under(dest, prefix, mandir), "man1", "qlite.1")
        completion = os.path.join(under(dest, prefix, datadir), "bash-completion", "completions", "qlite")
        configs = os.path.join(under(dest, prefix, datadir), "qlite", "configs")
        docs = os.path.join(under(dest, prefix, datadir), "doc", "qlite")

        # The binary.
        p = subprocess.run([qlite, "--version"], capture_output=True, text=True, timeout=10)
        expect(p.returncode == 0 and p.stdout.startswith("qlite "), f"{qlite} --version", p.stdout + p.stderr)

        # The man page: the one `qlite help config --man` prints, rendered without a warning.
        with open(man) as f:
            page = f.read()
        p = subprocess.run([qlite, "help", "config", "--man"], capture_output=True, text=True, timeout=10)
        expect(p.stdout == page, "the installed qlite.1 is `qlite help config --man`")
        p = subprocess.run(["man", "--warnings", "-l", man], capture_output=True, text=True, env=env, timeout=60)
        expect(p.returncode == 0 and not p.stderr, "man --warnings -l qlite.1: no warning", p.stderr)
        text = p.stdout
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "CONFIGURATION", "SYNTAX",
                        "KEYWORDS", "DEVICE TYPES", "EXAMPLE", "EXIT STATUS", "SEE ALSO"):
            expect(f"\n{section}\n" in text, f"man page: section {section}", text)
        options = subprocess.run([qlite, "help", "options"], capture_output=True, text=True).stdout.split("\n")
        for opt in filter(None, options):
            expect(opt.split()[0] in text, f"man page: option {opt.split()[0]}", text)
        for dev in subprocess.run([qlite, "help", "devices"], capture_output=True, text=True).stdout.split():
            expect(f"vdev {dev}\n" in text, f"man page: device type {dev}", text)
        p = subprocess.run(["groff", "-man", "-Tutf8", "-wall", "-z", man], capture_output=True, text=True,
                           env=env, timeout=60)
        expect(p.returncode == 0 and not p.stderr, "groff -man -wall: no warning", p.stderr)

        # The completion: sources cleanly, completes from the installed qlite on PATH.
        script = f"""
set -u
source {completion} || exit 3
complete -p qlite
t() {{ COMP_WORDS=("$@"); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); _qlite; echo "${{COMPREPLY[*]}}"; }}
t qlite run --ra
t qlite ch
t qlite check --print-c
t qlite run --vdev pvpanic-
t qlite run --quirks o
t qlite comp
t qlite compare a.conf b.conf --work
t qlite compare a.conf b.conf --workload net-e
"""
        env_path = dict(env, PATH=os.path.dirname(qlite) + os.pathsep + env["PATH"])
        p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True,
                           env=env_path, timeout=60)
        lines = p.stdout.splitlines()
        expect(p.returncode == 0 and not p.stderr, "the completion sources cleanly in bash", p.stdout + p.stderr)
        expect(lines[:1] == ["complete -F _qlite qlite"], "complete -F _qlite qlite", p.stdout)
        expect(lines[1:] == ["--ram", "check", "--print-config", "pvpanic-pci", "on off", "compare",
                             "--workload", "net-echo"],
               "completions: --ra -> --ram, ch -> check, --print-c -> --print-config, --vdev pvpanic- -> "
               "pvpanic-pci, --quirks o -> on off, comp -> compare, compare --work -> --workload, "
               "--workload net-e -> net-echo", p.stdout)

        # The example configs and the docs, as in the source tree.
        for name in os.listdir(os.path.join(source, "configs")):
            with open(os.path.join(source, "configs", name)) as a, open(os.path.join(configs, name)) as b:
                expect(a.read() == b.read(), f"share/qlite/configs/{name}")
        for name in ("README.md", "config.md", "design.md", "stats.md", "compare.md"):
            expect(os.path.isfile(os.path.join(docs, name)), f"share/doc/qlite/{name}")
    print("PASS: install")
    return 0


if __name__ == "__main__":
    sys.exit(main())
