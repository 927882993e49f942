#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Exit counting is checked, not trusted: the block devices' exits, register by register.

usage: blk_count_test.py QLITE TEST_GUEST CASE

Each case runs the test guest's block scenarios (tests/guest/ide.c, virtio.c, pci.c, disk.c) on a
fresh image under qlite with --stats-json and --stats-prom, and asserts the EXACT exit count of
every register of every device that the guest touched, derived here from what the guest driver
does per command and what qlite's device model answers. Nothing is measured first and pasted in:
each number below is a formula over the workload (sectors, commands, requests) with the driver
code it comes from.

The guest polls in five places. Under qlite each poll loop ends at its first read, for a reason
in the device model, so those counts are exact too (and the test fails if the model changes):
- ATA status (ata_wait): qlite runs every command on the vCPU thread inside the register write
  that starts it (src/devices/ide/ata.c: "BSY is never seen"), so each wait is one STATUS read;
- the bus master status after START (dma_transfer): the whole DMA happens inside the START write,
  so the first BM_STATUS read already shows Interrupt without Active;
- the virtio status after a reset (vt_reset): the reset is done inside the status write;
- the config generation around the 64-bit capacity (cfg_read64): it never moves here;
- the UART's LSR before each byte: qlite's THRE always reads 1 (src/devices/uart8250.c).
The used ring is polled in guest RAM: no exits. On a device that shows BSY or completes DMA
later (QEMU's AIO) these five would be lower bounds, and the rest would stay exact.

String PIO (docs/stats.md): `rep insw` of a sector is ONE exit of 256 transfers (KVM's emulator
reads up to 1 KiB ahead within a page, and every buffer the guest reads into is 512-byte aligned);
`rep outsw` reaches qlite as 256 exits of one transfer each (KVM's emulator writes string PIO one
element per exit). The transfers are checked per direction from the Prometheus output.

The devices' own reports ("device_reports" in the JSON, qlite_device_stat in Prometheus) are
exact too: virtio-blk's q0.kicks is the guest's notify writes (one a request: virtio.c notifies
after every request and never reads VIRTQ_USED_F_NO_NOTIFY), whether KVM took them (ioeventfd on,
no NOTIFY exit) or they exited; q0.interrupts is 0 and q0.suppressed one a request, since the
driver sets VRING_AVAIL_F_NO_INTERRUPT and has one request in flight (one flush each); and the
path names how the kicks and interrupts travelled. The IDE report counts commands by kind and
sectors from the same workload.

Without a usable /dev/kvm a case is skipped (exit 77), except in CI (CI=true), where that is a
failure.
"""
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

# The helpers of the other integration tests (this directory is sys.path[0]); no __pycache__
# left in the source tree.
sys.dont_write_bytecode = True
from guest_test import check, run_case  # noqa: E402
from stats_test import parse_prom, prom_get  # noqa: E402

IMAGE_SIZE = 16 << 20
WORDS_PER_SECTOR = 256
COALESCED = " (coalesced)"	# the suffix of a register's coalesced-write row
QLITE_MMIO = 0xFED00000	 # qlite's first virtio-mmio window (blk_guest_test checks it with qlite check)


def ceil_div(a, b):
    return (a + b - 1) // b


# --- what the guest does, per scenario word ---

def ide_setup(e, dma):
    """ide_setup() after the PCI probe: device control, select, IDENTIFY."""
    if dma:
        e["piix3-ide-bmdma", "BM_STATUS_PRI", "read"] += 1	# bm_keep: the DMA-capable bits
    e["ide-primary-ctl", "ALTSTATUS/DEVCTL", "write"] += 1	# nIEN clear
    e["ide-primary", "DEVICE", "write"] += 1		# select the master
    e["ide-primary-ctl", "ALTSTATUS/DEVCTL", "read"] += 1	# the 400 ns wait
    e["ide-primary", "STATUS/COMMAND", "read"] += 2		# presence check, then ata_wait
    ata_command(e)						# IDENTIFY DEVICE
    e["ide-primary", "STATUS/COMMAND", "read"] += 2		# ata_wait for DRQ, and after the data
    e["ide-primary", "DATA", "read"] += 1			# rep insw of 256 words: one exit
    return {"read": WORDS_PER_SECTOR - 1}			# transfers beyond one per exit


def ata_command(e):
    """ata_command(): LBA28 task file, command, alternate status."""
    for reg in ("NSECT", "LBAL", "LBAM", "LBAH", "DEVICE"):
        e["ide-primary", reg, "write"] += 1
    e["ide-primary", "STATUS/COMMAND", "write"] += 1
    e["ide-primary-ctl", "ALTSTATUS/DEVCTL", "read"] += 1


def ide_word(e, n, count, dma):
    """ide-pio=N,COUNT or ide-dma=N,COUNT: writes, FLUSH CACHE, reads; the extra transfers."""
    extra = Counter(ide_setup(e, dma))
    cmds = ceil_div(n, count)					# per direction
    for _ in range(2 * cmds):
        ata_command(e)
        if dma:
            # dma_transfer(): PRD address, clear status, direction, (task file), START, one poll
            # of the bus master status, stop, the ATA status, clear Interrupt.
            e["piix3-ide-bmdma", "BM_PRD_PRI", "write"] += 1
            e["piix3-ide-bmdma", "BM_STATUS_PRI", "write"] += 2
            e["piix3-ide-bmdma", "BM_CMD_PRI", "write"] += 3
            e["piix3-ide-bmdma", "BM_STATUS_PRI", "read"] += 1
            e["ide-primary", "STATUS/COMMAND", "read"] += 1
    if not dma:
        # pio_transfer(): per sector an ata_wait for DRQ and the data, per command a final wait.
        e["ide-primary", "STATUS/COMMAND", "read"] += 2 * n + 2 * cmds
        e["ide-primary", "DATA", "write"] += n * WORDS_PER_SECTOR	# rep outsw: one exit a word
        e["ide-primary", "DATA", "read"] += n				# rep insw: one exit a sector
        extra["read"] += n * (WORDS_PER_SECTOR - 1)
    ata_command(e)						# FLUSH CACHE
    e["ide-primary", "STATUS/COMMAND", "read"] += 1
    return extra


def pci_ide():
    """pci.c for the PIIX3 IDE on qlite's bus (00:00.0 host bridge, 00:01.0 PIIX3 ISA bridge,
    multi-function, 00:01.1 IDE). One cycle = CONFIG_ADDRESS write + a CONFIG_DATA+(off & 3)
    access. pci_find: vendor/device (4 bytes) of 00.0, 01.0, 01.1 and the header type (1 byte at
    0x0e, so CONFIG_DATA+2) of the two function 0s; then the class and IDETIM (2 bytes at 0x40);
    pci_enable reads COMMAND and writes nothing: qlite sets I/O decoding (BAR4 is assigned) and bus
    mastering (as a BIOS would) on the IDE function."""
    return Counter({("CONFIG_DATA", "read"): 3 + 2 + 1, ("CONFIG_DATA+2", "read"): 2})


def pci_bar_sizing(cycles):
    """pci_bar() of a 32-bit BAR: BAR and COMMAND read, decoding off, all-ones, size read, BAR
    and COMMAND restored."""
    cycles["CONFIG_DATA", "read"] += 3
    cycles["CONFIG_DATA", "write"] += 4


def pci_vblk(first):
    """pci.c and virtio.c's pci_probe for qlite's virtio-blk-pci at 00:01.0, whose capability
    list is common, notify, ISR, device, PCI-config (virtio vendor capabilities, 0x09) and then
    MSI-X (src/virtio/pci.c vp_add_caps, then pci_msix_init), all in 32-bit memory BAR0."""
    c = Counter()
    c["CONFIG_DATA", "read"] += 2			# pci_find: vendor/device of 00.0 and 01.0
    c["CONFIG_DATA+2", "read"] += 2			# ... and their header types
    # Six pci_cap_find calls, one per vendor capability and one that walks past MSI-X to the end:
    # each reads STATUS (2 bytes at 0x06: +2), a pointer (CAP_PTR at 0x34 for the first, the
    # previous capability's next byte, +1, after that) and the id (+0); the last one reads the
    # id of MSI-X (not 0x09) and its next pointer (0: the end).
    c["CONFIG_DATA+2", "read"] += 6
    c["CONFIG_DATA", "read"] += 1 + 6
    c["CONFIG_DATA+1", "read"] += 5 + 1
    # Each of the 5 vendor capabilities: cfg_type (+3), bar (+4: +0), offset and length (4 bytes).
    c["CONFIG_DATA+3", "read"] += 5
    c["CONFIG_DATA", "read"] += 5 * 3
    c["CONFIG_DATA", "read"] += 1			# notify_off_multiplier
    pci_bar_sizing(c)					# BAR0, once, for the common capability
    c["CONFIG_DATA", "read"] += 1			# pci_enable reads COMMAND ...
    if first:
        c["CONFIG_DATA", "write"] += 1		# ... and sets bus mastering (qlite set only MEM)
    return c


def vblk_word(e, dev, n, mmio):
    """vblk=N[,SIZE] or vblk-mmio=ADDR,N[,SIZE] after the probe: set-up, N writes, FLUSH, N reads,
    reset. Returns the number of requests, each made available with one notify (kick)."""
    def acc(pci_reg, mmio_reg, d, k=1):
        e[dev, mmio_reg if mmio else pci_reg, d] += k

    if mmio:	# mmio_probe: magic, version, device id, and the vendor for the probe line
        for reg in ("MagicValue", "Version", "DeviceID", "VendorID"):
            acc(None, reg, "read")
    # vt_init: reset (status 0, then one read of 0), ACKNOWLEDGE, DRIVER, two feature words read
    # and two written, FEATURES_OK read back, queue 0, DRIVER_OK read back, the capacity (two
    # 32-bit config reads between two generation reads); the final vt_reset and queue_enabled.
    acc("COMMON_STATUS", "Status", "write", 6)		# 0, ACK, +DRIVER, +FEATURES_OK, +DRIVER_OK, 0
    acc("COMMON_STATUS", "Status", "read", 4)		# after each reset, FEATURES_OK, DRIVER_OK
    acc("COMMON_DFSELECT", "DeviceFeaturesSel", "write", 2)
    acc("COMMON_DF", "DeviceFeatures", "read", 2)
    acc("COMMON_GFSELECT", "DriverFeaturesSel", "write", 2)
    acc("COMMON_GF", "DriverFeatures", "write", 2)
    acc("COMMON_Q_SELECT", "QueueSel", "write", 2)	# queue_enabled(), before set-up and after reset
    acc("COMMON_Q_ENABLE", "QueueReady", "read", 2)
    acc("COMMON_Q_SIZE", "QueueNumMax", "read")
    # qlite's queues have VIRTIO_BLK_QUEUE_SIZE (> 16) entries: the driver asks for 16.
    acc("COMMON_Q_SIZE", "QueueNum", "write")
    if not mmio:
        acc("COMMON_Q_NOFF", None, "read")
    for pci_reg, mmio_reg in (("COMMON_Q_DESC", "QueueDesc"), ("COMMON_Q_AVAIL", "QueueDriver"),
                              ("COMMON_Q_USED", "QueueDevice")):
        acc(pci_reg + "LO", mmio_reg + "Low", "write")
        acc(pci_reg + "HI", mmio_reg + "High", "write")
    acc("COMMON_Q_ENABLE", "QueueReady", "write")
    acc("COMMON_CFGGENERATION", "ConfigGeneration", "read", 2)
    acc("DEVICE_CFG", "Config", "read", 2)
    return 2 * n + 1					# N writes, one FLUSH (qlite offers it), N reads


def device_report(data, series, name, res):
    """The JSON entry of a device's own report, its Prometheus samples checked against it."""
    reps = [d for d in data["device_reports"] if d["name"] == name]
    check(len(reps) == 1, f"device_reports: no single {name!r} in {[d['name'] for d in data['device_reports']]}", res)
    rep = reps[0]
    for c, v in rep["counters"].items():
        have = prom_get(series, "qlite_device_stat", device=name, counter=c)
        check(have == v, f"prom: qlite_device_stat {name} {c} = {have}, json says {v}", res)
    print(f"  {name}: {rep['path']}: " + ", ".join(f"{c} {v}" for c, v in rep["counters"].items()))
    return rep


def check_counters(rep, want, res):
    wrong = {c: (rep["counters"].get(c), v) for c, v in want.items() if rep["counters"].get(c) != v}
    check(not wrong, f"{rep['name']} counters (measured, expected): {wrong}", res)


def uart(e, printed):
    """Every byte the guest prints: one LSR read (THRE is always 1 under qlite) and one THR write."""
    e["uart8250", "LSR", "read"] += printed
    e["uart8250", "RBR/THR", "write"] += printed
    e["debug-exit", "EXIT", "write"] += 1		# the result at the end


# --- running and comparing ---

def run_counted(q, g, words, vdev, more=()):
    """MORE: further qlite options (the IOMMU cases' --irqchip split --vdev intel-iommu)."""
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "disk.img")
        with open(img, "wb") as f:
            f.truncate(IMAGE_SIZE)
        js, prom = os.path.join(d, "exits.json"), os.path.join(d, "exits.prom")
        argv = [q, "run", "--kernel", g, "--ram", "64M", "--cmdline", words, "--vdev",
                vdev.format(img=img), "--stats-json", js, "--stats-prom", prom, *more]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        res = subprocess.CompletedProcess(argv, p.returncode, p.stdout.decode(errors="replace"),
                                          p.stderr.decode(errors="replace"))
        check(p.returncode == 1 and b"qlite-test-guest: done" in p.stdout and b"FAIL" not in p.stdout,
              f"'{words}' with --vdev {vdev}: expected status 1 and done", res)
        with open(js) as f:
            data = json.load(f)
        with open(prom) as f:
            series = parse_prom(f.read())
    return data, series, len(p.stdout), res


def measured(data):
    """{(device, register, dir): exits}, summed over the register's offsets."""
    got = Counter()
    for dev in data["devices"]:
        for r in dev["registers"]:
            got[dev["device"], r["register"], r["dir"]] += r["exits"]
    return got


def compare(data, series, expected, extra_transfers, res):
    """Every register count exact; the report's totals, transfers and reasons consistent."""
    got = measured(data)
    wrong = sorted((k, got.get(k, 0), v) for k, v in expected.items() if got.get(k, 0) != v)
    stray = sorted((k, v) for k, v in got.items() if k not in expected)
    for k, v in sorted(expected.items()):
        print(f"  {k[0]:16} {k[1]:22} {k[2]:5} {v:7}" + ("" if got.get(k, 0) == v else f"  (measured {got.get(k, 0)})"))
    check(not wrong and not stray,
          "exit counts differ from the model:\n" +
          "".join(f"  {k}: measured {m}, expected {x}\n" for k, m, x in wrong) +
          "".join(f"  {k}: {v} exits the model does not expect\n" for k, v in stray), res)

    check(data["unclaimed"] == {"pio_reads": 0, "pio_writes": 0, "mmio_reads": 0, "mmio_writes": 0,
                               "top": []},
          f"unclaimed accesses: {data['unclaimed']}", res)
    pio = mmio = 0
    for dev in data["devices"]:
        name, n = dev["device"], dev["reads"] + dev["writes"]
        check(dev["other_reads"] == 0 and dev["other_writes"] == 0, f"{name}: registers past the table", res)
        # Coalesced writes (e1000 `coalesce on`) have rows of their own but are no exits and no
        # transfers: KVM queued them in its ring (docs/stats.md).
        per_dir = {d: sum(v for (dv, reg, dd), v in expected.items()
                          if dv == name and dd == d and not reg.endswith(COALESCED))
                   for d in ("read", "write")}
        check((dev["reads"], dev["writes"]) == (per_dir["read"], per_dir["write"]),
              f"{name}: reads/writes {dev['reads']}/{dev['writes']}, registers say "
              f"{per_dir['read']}/{per_dir['write']}", res)
        # One transfer per exit, plus the string PIO reads' extra elements.
        for d in ("read", "write"):
            want = per_dir[d] + extra_transfers.get((name, d), 0)
            have = prom_get(series, "qlite_device_transfers_total", device=name, dir=d)
            check(have == want, f"{name}: {d} transfers {have}, expected {want}", res)
        want = sum(per_dir.values()) + sum(v for (dv, _), v in extra_transfers.items() if dv == name)
        check(dev["transfers"] == want, f"{name}: json transfers {dev['transfers']}, expected {want}", res)
        # Prometheus carries the same register counts.
        for (dv, reg, d), v in expected.items():
            if dv == name:
                have = prom_get(series, "qlite_device_exits_total", device=name, register=reg, dir=d)
                check(have == v, f"prom: {name} {reg} {d} = {have}, json says {v}", res)
        if dev["bus"] == "pio":
            pio += n
        else:
            mmio += n
    reasons = Counter()
    for v in data["vcpus"]:
        for r, x in v["reasons"].items():
            reasons[r] += x["exits"]
    check(set(reasons) <= {"io", "mmio"} and reasons["io"] == pio and reasons["mmio"] == mmio,
          f"exit reasons {dict(reasons)} != io {pio} + mmio {mmio} from the devices", res)
    check(data["exits"] == pio + mmio + data["interrupted"],
          f"exits {data['exits']} != {pio} + {mmio} device exits + {data['interrupted']} interrupted", res)
    print(f"  total: {data['exits']} exits ({pio} PIO, {mmio} MMIO, {data['interrupted']} interrupted), "
          f"{data['io_transfers']} PIO transfers")


SPLIT_PIT = ("pit", "pit-port61")	# qlite's 8254 under `irqchip split` (src/devices/pit8254.c)
SPLIT_PICS = ("pic-master", "pic-slave")	# and its 8259 pair (src/devices/pic8259.c)


def strip_split_irqchip(data, res):
    """Take out of DATA what `irqchip split` adds, unit or no unit: the guest's clock calibration
    on PIT channel 2 exits to qlite's own 8254 (KVM's PIT takes it in the kernel otherwise), and
    its two writes masking the 8259s reach qlite's own pair (exactly one DATA write each; KVM's
    PICs take them in the kernel otherwise). The rest must then be the plain case's model,
    exactly."""
    extra = sum(d["reads"] + d["writes"] for d in data["devices"] if d["device"] in SPLIT_PIT)
    for pic in SPLIT_PICS:
        regs = {(r["register"], r["dir"]): r["exits"]
                for d in data["devices"] if d["device"] == pic for r in d["registers"]}
        check(regs == {("DATA", "write"): 1}, f"{pic}: {regs}, expected the guest's one mask write",
              res)
        extra += 1
    data["devices"] = [d for d in data["devices"] if d["device"] not in SPLIT_PIT + SPLIT_PICS]
    u = data["unclaimed"]
    check((u["pio_reads"], u["pio_writes"], u["mmio_reads"], u["mmio_writes"]) == (0, 0, 0, 0),
          f"unclaimed accesses: {u}", res)
    check(len(data["vcpus"]) == 1, "one vCPU", res)
    data["vcpus"][0]["reasons"]["io"]["exits"] -= extra
    data["exits"] -= extra
    print(f"  irqchip split: {extra} exits of qlite's PIT and PICs left out")


def ide_case(q, g, words, dma, more=()):
    data, series, printed, res = run_counted(q, g, " ".join(words), "ide,file={img}", more)
    if "split" in more:
        strip_split_irqchip(data, res)
    e, extra = Counter(), Counter()
    for w in words:
        n, count = (int(x) for x in w.split("=")[1].split(","))
        for (reg, d), v in pci_ide().items():
            e["pci-host", reg, d] += v
            e["pci-host", "CONFIG_ADDRESS", "write"] += v
        if dma:		# pci_bar(4) for the bus master base
            c = Counter()
            pci_bar_sizing(c)
            for (reg, d), v in c.items():
                e["pci-host", reg, d] += v
                e["pci-host", "CONFIG_ADDRESS", "write"] += v
        for d, v in ide_word(e, n, count, dma).items():
            extra["ide-primary", d] += v
    uart(e, printed)
    compare(data, series, e, extra, res)
    # The controller's report: per word IDENTIFY, the writes, FLUSH CACHE and the reads.
    sizes = [tuple(int(x) for x in w.split("=")[1].split(",")) for w in words]
    cmds = sum(ceil_div(n, c) for n, c in sizes)
    sectors = sum(n for n, _ in sizes)
    kind = "dma" if dma else "pio"
    rep = device_report(data, series, "ide", res)
    check_counters(rep, {f"{kind}_reads": cmds, f"{kind}_writes": cmds,
                         ("pio" if dma else "dma") + "_reads": 0, "flushes": len(words),
                         "identifies": len(words), "other_commands": 0, "sectors_read": sectors,
                         "sectors_written": sectors, "dma_transfers": 2 * cmds if dma else 0,
                         "errors": 0}, res)
    check(rep["path"].startswith("data by bus-master DMA" if dma else "data through the PIO data port"),
          f"ide path: {rep['path']}", res)
    return data


def vblk_case(q, g, words, vdev, mmio, notify_exits, irqfd=True):
    """NOTIFY_EXITS: whether a kick is a userspace exit (ioeventfd off) or not (ioeventfd on:
    KVM signals the eventfd and the vCPU goes on). IRQFD: the vdev's irqfd option."""
    data, series, printed, res = run_counted(q, g, " ".join(words), vdev)
    dev = "virtio-blk"
    e = Counter()
    kicks = 0
    for i, w in enumerate(words):
        args = [int(x, 0) for x in w.split("=")[1].split(",")]
        n = args[1] if mmio else args[0]
        if not mmio:
            for (reg, d), v in pci_vblk(first=i == 0).items():
                e["pci-host", reg, d] += v
                e["pci-host", "CONFIG_ADDRESS", "write"] += v
        kicks += vblk_word(e, dev, n, mmio)
    if notify_exits:
        e[dev, "QueueNotify" if mmio else "NOTIFY", "write"] += kicks	# one write per request
    uart(e, printed)
    print(f"  {kicks} requests, {kicks} kicks: {kicks if notify_exits else 0} NOTIFY exits")
    compare(data, series, e, Counter(), res)

    # The device's own report: the kicks KVM took are counted even without exits.
    sizes = []
    for w in words:
        args = [int(x, 0) for x in w.split("=")[1].split(",")]
        sizes.append((args[1], args[2]) if mmio else (args[0], args[1]))
    rep = device_report(data, series, dev, res)
    moved = sum(n * size for n, size in sizes)
    check_counters(rep, {"q0.kicks": kicks, "q0.interrupts": 0, "q0.suppressed": kicks,
                         "needs_reset": 0, "reads": sum(n for n, _ in sizes),
                         "writes": sum(n for n, _ in sizes), "flushes": len(words),
                         "read_bytes": moved, "write_bytes": moved, "errors": 0, "dropped": 0}, res)
    check(not any(c.startswith("q1.") for c in rep["counters"]), "a second queue reported", res)
    want = "kicks userspace exits" if notify_exits else "kicks ioeventfd (KVM)"
    # The test guest leaves MSI-X off, so a PCI device interrupts through INTx from userspace;
    # an mmio line goes through KVM_IRQFD with irqfd on.
    if mmio:
        want += ", interrupts irqfd IRQ " if irqfd else ", interrupts injected from userspace IRQ "
    else:
        want += ", interrupts injected from userspace INTx"
    check(rep["path"].startswith(want), f"{dev} path {rep['path']!r}, expected {want!r}...", res)


# --- the cases (meson: tests/integration/meson.build) ---

def case_ide_pio(q, g):
    """Two words: 10 sectors 4 a command (4, 4, 2) and 3 sectors one a command."""
    ide_case(q, g, ["ide-pio=10,4", "ide-pio=3,1"], dma=False)


def case_ide_dma(q, g):
    """600 sectors 256 a command (two PRD entries of 64 KiB, then 88 sectors), and 5 one a command."""
    ide_case(q, g, ["ide-dma=600,256", "ide-dma=5,1"], dma=True)


def case_ide_dma_iommu(q, g):
    """The same words beside an intel-iommu (on qlite's IOAPIC, as interrupt remapping needs),
    which the guest leaves off: the bus master's PRD reads and buffers go through the unit's
    hooks (identity while translation is off) and every exit count is the same as without it."""
    words = ["ide-dma=600,256", "ide-dma=5,1"]
    data = ide_case(q, g, words, dma=True, more=("--irqchip", "split", "--vdev", "intel-iommu"))
    reps = {r["name"]: r["counters"] for r in data["device_reports"]}
    vtd = reps.get("intel-iommu", {})
    print(f"  intel-iommu: {vtd}")
    # Every DMA command (CMDS each way) reads its PRD entries through the unit (translated twice:
    # checked, then copied) and maps its buffers through it (a piece a page at least): 3
    # translations a command at least, and never a fault.
    cmds = sum(ceil_div(*(int(x) for x in w.split("=")[1].split(","))) for w in words)
    check(vtd.get("dma_translations", 0) >= 3 * 2 * cmds and vtd.get("dma_faults") == 0,
          f"intel-iommu DMA counters {vtd}", None)


VBLK_WORDS = ["vblk=6,8192", "vblk=3,512"]
MMIO_WORDS = [f"vblk-mmio={QLITE_MMIO:#x},6,8192", f"vblk-mmio={QLITE_MMIO:#x},3,512"]


def case_vblk_pci(q, g):
    """virtio-blk-pci with ioeventfd and irqfd (the defaults): no NOTIFY exit at all."""
    vblk_case(q, g, VBLK_WORDS, "virtio-blk,file={img}", False, False)


def case_vblk_pci_no_ioeventfd(q, g):
    """ioeventfd off: each kick is one NOTIFY write exit."""
    vblk_case(q, g, VBLK_WORDS, "virtio-blk,file={img},ioeventfd=off", False, True)


def case_vblk_pci_no_irqfd(q, g):
    """irqfd off changes no exit: the driver asks for no interrupts (VRING_AVAIL_F_NO_INTERRUPT)."""
    vblk_case(q, g, VBLK_WORDS, "virtio-blk,file={img},irqfd=off", False, False, irqfd=False)


def case_vblk_mmio(q, g):
    """virtio-mmio with ioeventfd: no QueueNotify exit."""
    vblk_case(q, g, MMIO_WORDS, "virtio-blk,file={img},transport=mmio", True, False)


def case_vblk_mmio_no_ioeventfd(q, g):
    """virtio-mmio, ioeventfd and irqfd off: one QueueNotify write exit per kick."""
    vblk_case(q, g, MMIO_WORDS, "virtio-blk,file={img},transport=mmio,ioeventfd=off,irqfd=off",
              True, True, irqfd=False)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def absolute(case_fn):
    return lambda q, g: case_fn(os.path.abspath(q), os.path.abspath(g))


if __name__ == "__main__":
    sys.exit(run_case({k: absolute(f) for k, f in CASES.items()}, ["QLITE", "GUEST"]))
