#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Seeds for fuzz_boot: a minimal bzImage, the same cut after its setup
header (the lengths where header fields run out), a minimal PVH ELF, a 32-bit
PVH ELF, a multiboot ELF32, a multiboot a.out-kludge image and the test guest
(argv[2]), each followed by the twelve option bytes fuzz_boot.c reads
(initrd or two modules, command line, RAM, the kernel's length)."""
import struct
import sys


def trailer(flags, initrd_units, cmdline_len):
    return struct.pack("<BHBQ", flags, initrd_units, cmdline_len, 0)


def bzimage():
    setup = bytearray(2 * 512)                      # setup_sects = 1
    setup[0x1f1] = 1
    struct.pack_into("<H", setup, 0x1fe, 0xAA55)
    setup[0x200:0x202] = b"\xeb\x6a"                # header runs to 0x26c
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x020F)     # boot protocol 2.15
    struct.pack_into("<I", setup, 0x22C, 0x1FFFFF)   # initrd_addr_max
    struct.pack_into("<H", setup, 0x236, 1)          # XLF_KERNEL_64
    struct.pack_into("<I", setup, 0x238, 255)        # cmdline_size
    return bytes(setup) + b"\xf4" * 0x200


def note(name, ntype, desc):
    name += b"\0"
    pad = lambda b: b + bytes(-len(b) % 4)
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def pvh_elf():
    notes = note(b"Xen", 18, struct.pack("<I", 0x100000)) + note(b"Linux", 6, b"6.1\0")
    phoff, phnum = 64, 2
    notes_off = phoff + phnum * 56
    load_off = notes_off + len(notes)
    code = b"\xf4" * 64
    eh = bytearray(64)
    eh[0:4] = b"\x7fELF"
    eh[4], eh[5], eh[6] = 2, 1, 1                   # 64-bit, little endian, version 1
    struct.pack_into("<HHIQQQIHHHHHH", eh, 16, 2, 62, 1, 0x100000, phoff, 0, 0,
                     64, 56, phnum, 64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 5, load_off, 0x100000, 0x100000, len(code), 0x2000, 4096)
    nt = struct.pack("<IIQQQQQQ", 4, 4, notes_off, 0, 0, len(notes), len(notes), 4)
    return bytes(eh) + load + nt + notes + code


def elf32(mb_flags=None, pvh=True, base=0x100000):
    """ELF32 i386: the headers, a multiboot header (optional), a PVH note, code at base (1 MiB;
    a multiboot kernel may sit in conventional memory, as kvm-unit-tests' realmode does)."""
    mb = b""
    if mb_flags is not None:
        mb = struct.pack("<III", 0x1BADB002, mb_flags, -(0x1BADB002 + mb_flags) & 0xFFFFFFFF)
    entry = base + len(mb) + (20 if pvh else 0)  # the code, after the note
    notes = note(b"Xen", 18, struct.pack("<I", entry)) if pvh else b""
    phoff, phnum = 52, 2
    load_off = phoff + phnum * 32
    body = mb + notes + b"\xf4" * 64
    eh = bytearray(52)
    eh[0:4] = b"\x7fELF"
    eh[4], eh[5], eh[6] = 1, 1, 1                   # 32-bit, little endian, version 1
    struct.pack_into("<HHIIIIIHHHHHH", eh, 16, 2, 3, 1, entry, phoff, 0, 0,
                     52, 32, phnum, 40, 0, 0)
    load = struct.pack("<IIIIIIII", 1, load_off, base, base, len(body), 0x2000, 7, 4096)
    nt = struct.pack("<IIIIIIII", 4 if pvh else 0, load_off + len(mb), 0, 0, len(notes),
                     len(notes), 4, 4)
    return bytes(eh) + load + nt + body


def aout():
    """A flat multiboot image with the a.out kludge: header at 0, loaded at 2 MiB, bss after."""
    flags = 0x10003
    hdr = struct.pack("<IIIIIIII", 0x1BADB002, flags, -(0x1BADB002 + flags) & 0xFFFFFFFF,
                      0x200000, 0x200000, 0, 0x204000, 0x200020)
    return hdr + b"\xf4" * 0x100


out, guest = sys.argv[1], sys.argv[2]
with open(guest, "rb") as f:
    guest_elf = f.read()
for name, data in (("bzimage.seed", bzimage() + trailer(3, 16, 32)),
                   ("bzimage-header.seed", bzimage()[:0x26c] + trailer(0, 0, 0)),
                   ("pvh.seed", pvh_elf() + trailer(7, 4096, 200)),
                   ("guest.seed", guest_elf + trailer(3, 1, 0)),
                   ("pvh32.seed", elf32() + trailer(11, 8, 16)),
                   ("multiboot.seed", elf32(3, pvh=False) + trailer(11, 8, 16)),
                   ("multiboot-low.seed", elf32(3, pvh=False, base=0x8000) + trailer(11, 8, 16)),
                   ("aout.seed", aout() + trailer(3, 2, 8))):
    with open(f"{out}/{name}", "wb") as f:
        f.write(data)
