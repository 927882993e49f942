# SPDX-License-Identifier: GPL-2.0-only
"""What the benchmarks share: the TSC rate KVM gives a vCPU, and the QEMU command line."""
import fcntl
import os
import statistics

KVMIO = 0xAE
KVM_CREATE_VM = KVMIO << 8 | 0x01
KVM_CHECK_EXTENSION = KVMIO << 8 | 0x03
KVM_CREATE_VCPU = KVMIO << 8 | 0x41
KVM_GET_TSC_KHZ = KVMIO << 8 | 0xA3
KVM_CAP_GET_TSC_KHZ = 61

# Named in every table whose times come from the guest's TSC.
GUEST_CLOCK = "guest TSC at the rate KVM_GET_TSC_KHZ reports, passed as tsc-khz=N (clock cmdline)"


def tsc_khz():
    """The TSC rate (kHz) KVM gives a new vCPU on this host: what both VMMs' guests run at.

    Both VMMs leave the rate alone (no TSC scaling here), so one throw-away VM answers for both.
    """
    kvm = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    try:
        if fcntl.ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ) <= 0:
            raise RuntimeError("KVM lacks KVM_CAP_GET_TSC_KHZ")
        vm = fcntl.ioctl(kvm, KVM_CREATE_VM, 0)
        try:
            vcpu = fcntl.ioctl(vm, KVM_CREATE_VCPU, 0)
            try:
                return fcntl.ioctl(vcpu, KVM_GET_TSC_KHZ, 0)
            finally:
                os.close(vcpu)
        finally:
            os.close(vm)
    finally:
        os.close(kvm)


def qemu_argv(guest, cmdline, ram="64"):
    """QEMU on the same test guest: -M pc, the debug-exit port qlite has, nothing else."""
    return ["qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-m", ram, "-display", "none",
            "-serial", "stdio", "-no-reboot", "-net", "none", "-kernel", guest, "-append", cmdline,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


def spread(xs):
    """min / median / max of a list of numbers."""
    return {"min": min(xs), "median": statistics.median(xs), "max": max(xs), "n": len(xs)}
