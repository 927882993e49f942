#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The shape of the source tree, checked on every test run (docs/design.md, "Layout"):

- the top of src/ holds main.c and no other source file: every file lives in a room;
- no circle between source files: file A calls into file B when A's object leaves a symbol
  undefined that B's object defines (nm); the graph of those calls has no cycle;
- include rules: src/kvm/ never sees a config header, devices never see the VM, boot
  loaders make no KVM ioctl, and disk images (src/block/) see neither machine nor config.

Usage: check_layout.py SOURCE_ROOT OBJECT_DIR...
"""
import os
import re
import subprocess
import sys

CONFIG_HEADERS = {"config.h", "config_check.h", "vm_spec.h"}
RULES = [
    # (directory, headers it must never reach, directly or through other headers)
    ("src/kvm", CONFIG_HEADERS | {"vm.h"}),
    ("src/devices", {"vm.h", "kvm.h"}),
    ("src/machine", {"vm.h", "kvm.h"} | CONFIG_HEADERS),
    ("src/boot", {"vm.h", "kvm.h"} | CONFIG_HEADERS),
    # disk images know files, not machines or devices
    ("src/block", {"vm.h", "kvm.h", "machine.h", "pci.h", "vdev.h"} | CONFIG_HEADERS),
    ("src/stats", {"vm.h", "kvm.h"}),
    ("src/virtio", {"vm.h", "kvm.h"} | CONFIG_HEADERS),
    # network backends serve NICs through net.h: no VM, no config language, no vdev lines
    ("src/net", {"vm.h", "kvm.h", "vdev.h"} | CONFIG_HEADERS),
]
INCLUDE = re.compile(r'^\s*#\s*include\s+"(?:qlite/)?([^"]+)"', re.M)


def headers_of(path, hdr_dir, seen=None):
    """Every qlite header path reaches, transitively."""
    seen = set() if seen is None else seen
    with open(path) as f:
        for name in INCLUDE.findall(f.read()):
            base = os.path.basename(name)
            if base in seen:
                continue
            seen.add(base)
            h = os.path.join(hdr_dir, base)
            if os.path.exists(h):
                headers_of(h, hdr_dir, seen)
    return seen


def symbol_graph(objects):
    defined, undefined = {}, {}
    for obj in objects:
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        undefined[obj] = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "U":
                undefined[obj].add(parts[1])
            elif len(parts) == 3 and parts[1] in "TDBRCV" and parts[1].isupper():
                defined.setdefault(parts[2], obj)
    edges = {o: set() for o in objects}
    for obj, syms in undefined.items():
        for s in syms:
            d = defined.get(s)
            if d and d != obj:
                edges[obj].add(d)
    return edges


def cycles(edges):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


def main():
    root, obj_dirs = sys.argv[1], sys.argv[2:]
    problems = []
    src = os.path.join(root, "src")
    top = sorted(f for f in os.listdir(src) if f.endswith((".c", ".h")))
    if top != ["main.c"]:
        problems.append("src/ holds %s at its top; only main.c belongs there" % ", ".join(top))

    hdr_dir = os.path.join(root, "include", "qlite")
    for room, banned in RULES:
        d = os.path.join(root, room)
        for dirpath, _, files in os.walk(d):
            for f in files:
                if not f.endswith((".c", ".h")):
                    continue
                p = os.path.join(dirpath, f)
                bad = headers_of(p, hdr_dir) & banned
                if bad:
                    problems.append("%s reaches %s" % (os.path.relpath(p, root), ", ".join(sorted(bad))))
                if room == "src/boot":
                    with open(p) as fh:
                        if re.search(r"\bioctl\s*\(", fh.read()):
                            problems.append("%s makes an ioctl: loaders leave KVM to src/kvm/" %
                                            os.path.relpath(p, root))

    objects = []
    for d in obj_dirs:
        objects += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".o")]
    if not objects:
        problems.append("no object files in %s" % " ".join(obj_dirs))
    graph = symbol_graph(objects)
    for comp in cycles(graph):
        problems.append("circle between " + ", ".join(os.path.basename(o) for o in comp))

    for p in problems:
        print("layout: " + p)
    print("layout: %d objects, %d calls between files, %d problems" %
          (len(objects), sum(len(v) for v in graph.values()), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
