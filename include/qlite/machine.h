/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a device sees of the machine it is plugged into: the buses, guest
 * RAM, the PCI host, the I/O thread's loop, and the services below. Devices
 * never see struct vm, so they can be unit-tested against a machine with
 * fake interrupt and stop services (tests/unit/fake_machine.c), and
 * `qlite check` can assemble them without KVM.
 *
 * Services for asynchronous devices (src/machine/services.c), each usable
 * with or without KVM's in-kernel shortcut:
 *   watch a file descriptor    callbacks on the I/O thread
 *   doorbell                   a guest write to an address (optionally of one
 *                              value) reaches the device on the I/O thread:
 *                              KVM_IOEVENTFD, or a userspace exit that writes
 *                              the same eventfd
 *   interrupt event            raise an edge GSI or an MSI: KVM_IRQFD, or an
 *                              injection from userspace
 *   timer                      one-shot, nanoseconds, on the I/O thread
 *   async I/O                  readv/writev/fdatasync/fallocate on the
 *                              loop's io_uring (or its worker pool where
 *                              io_uring is denied), completed on the I/O thread
 *   power-management events    a device's wake-capable event (the RTC alarm)
 *                              reaches the one device that decides about
 *                              waking (ACPI PM), neither knowing the other
 * Every function returns 0 or a negative errno; none prints.
 */
#ifndef QLITE_MACHINE_H
#define QLITE_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "bus.h"
#include "event_loop.h"
#include "guest_mem.h"

enum stop_reason {
	STOP_NONE,
	STOP_RESET,		/* guest reset (i8042, triple fault, KVM system event) */
	STOP_POWEROFF,		/* guest powered off */
	STOP_DEBUG_EXIT,	/* isa-debug-exit style port */
	STOP_SIGNAL,		/* SIGINT/SIGTERM on the host */
	STOP_USER_QUIT,		/* Ctrl-A x on the console */
	STOP_ERROR,		/* fatal exit, reported by the vCPU thread */
	STOP_PANIC,		/* the guest said it panicked (pvpanic) */
};

/* The exit status of a guest that panicked (README, exit statuses): even, so no debug-exit value. */
#define MACHINE_EXIT_PANICKED	6

struct pci_host;
struct fw_cfg;
struct ioapic;
struct dma_sg;
struct pic8259;

/*
 * The source-id (requester id) of the IOAPIC's interrupt messages: bus 0xff,
 * device 0, function 0, as the DMAR table's IOAPIC device scope says (QEMU's
 * Q35 pseudo address). A PCI device's is pci_requester_id().
 */
#define MACHINE_SID_IOAPIC	0xff00

/*
 * An IOMMU between PCI requesters and RAM/the LAPICs (intel-iommu). Both
 * run on any thread that does DMA or raises an MSI, with no device lock
 * held that the IOMMU could need.
 */
struct machine_iommu_ops {
	/*
	 * Requester sid reads (write false) or writes iova: *gpa gets where it
	 * lands and *len how many bytes from iova map contiguously (>= 1, at
	 * most to the end of the page). -EFAULT when the access is refused
	 * (not present, not permitted, out of range); the IOMMU records the
	 * fault as the spec says and the device drops the access.
	 */
	int (*dma_translate)(void *opaque, uint16_t sid, uint64_t iova, bool write,
			     uint64_t *gpa, uint64_t *len);
	/*
	 * An MSI write from sid, as the device (or the IOAPIC) formed it,
	 * rewritten in place into the compatibility-format message the LAPICs
	 * take. 0: deliver it; -EFAULT: blocked, fault recorded, drop it.
	 */
	int (*msi_translate)(void *opaque, uint16_t sid, uint64_t *addr, uint32_t *data);
};

/* Events that may wake a sleeping machine (the ACPI fixed wake events). */
enum machine_pm_event {
	PM_EVENT_RTC_ALARM,	/* the RTC asserted its interrupt (RTC_STS) */
};

/*
 * The legacy 8259 pair as firmware leaves it before a boot (src/boot/bios.c):
 * [0] the master, [1] the slave; each as after ICW1-ICW4 (8086 mode) and OCW1.
 */
struct machine_pic_setup {
	uint8_t vector_base[2];	/* ICW2: the vector of IRQ 0 and of IRQ 8 */
	uint8_t imr[2];		/* OCW1: a set bit masks the line */
	uint8_t elcr[2];	/* edge/level control (ports 0x4d0-0x4d1): a set bit is level */
};

/* 8254 channel 0 as firmware programs it: lobyte/hibyte access, binary counting. */
struct machine_pit_setup {
	uint8_t mode;		/* 0-5 */
	uint16_t count;		/* the reload value; 0 is 65536 */
};

/* KVM's in-kernel shortcuts for the services (src/kvm/accel.c); NULL: all in userspace. */
struct machine_accel_ops {
	/* KVM_IOEVENTFD: the kernel signals efd on a matching write instead of exiting. */
	int (*ioeventfd)(void *ctx, enum bus_space space, uint64_t addr, unsigned len,
			 bool match, uint64_t value, int efd, bool assign);
	/* KVM_IRQFD: each write to efd raises gsi in the kernel. */
	int (*irqfd)(void *ctx, int efd, unsigned gsi, bool assign);
	/* Route an MSI through a GSI of its own: *gsi < 0 allocates one, else updates it. */
	int (*msi_route)(void *ctx, int *gsi, uint64_t addr, uint32_t data);
	void (*msi_route_free)(void *ctx, int gsi);
	/*
	 * KVM_(UN)REGISTER_COALESCED_MMIO: writes to [addr, addr + len) queue in
	 * a ring the vCPUs drain, in order, before their next PIO/MMIO exit.
	 */
	bool (*coalesced_mmio_supported)(void *ctx);
	int (*coalesced_mmio)(void *ctx, uint64_t addr, uint64_t len, bool assign);
	/*
	 * Another thread needs the queued writes (a NIC out of buffers whose
	 * RDT write may wait there): a vCPU is kicked to drain the ring soon.
	 */
	void (*coalesced_flush)(void *ctx);
	/*
	 * The in-kernel PICs and PIT channel 0 as firmware leaves them (a
	 * multiboot kernel's boot): before any vCPU runs.
	 */
	int (*pic_setup)(void *ctx, const struct machine_pic_setup *pic);
	int (*pit_setup)(void *ctx, const struct machine_pit_setup *pit);
	/*
	 * split_irqchip: KVM's route for IOAPIC pin (its GSI) becomes the MSI
	 * the pin sends (valid), or none. KVM reports EOIs of the level-
	 * triggered vectors it finds in these routes (KVM_EXIT_IOAPIC_EOI).
	 */
	int (*ioapic_route)(void *ctx, unsigned pin, bool valid, uint64_t addr, uint32_t data);
};

struct machine {
	struct bus *bus[BUS_NR_SPACES];
	struct guest_mem *mem;
	struct pci_host *pci;
	struct fw_cfg *fw_cfg;	/* NULL with `fw-cfg off`; the loader fills it */
	struct event_loop *loop;	/* the I/O thread's; exists before any device */
	const struct machine_accel_ops *accel;
	void *accel_ctx;
	void *opaque;		/* the owner (struct vm); services use it */

	/* Level of a GSI on the in-kernel IOAPIC/PIC (edge devices pulse 1 then 0). */
	void (*irq_set)(struct machine *m, unsigned gsi, int level);
	void (*msi_send)(struct machine *m, uint64_t addr, uint32_t data);
	/*
	 * Ask the VM to stop; the first request wins. Safe from any thread.
	 * detail says why in the stop line; NULL for the reason's default.
	 */
	void (*request_stop)(struct machine *m, enum stop_reason why, int exit_status,
			     const char *detail);
	/*
	 * ACPI S3, asked for by the PM device. sleep: no vCPU runs another guest
	 * instruction until wake (the vCPU whose write asked stops right after
	 * it); never blocks, safe from a vCPU's PIO handler. wake: what firmware
	 * does on a wake event: vCPU 0 enters the OS's waking vector (the FACS),
	 * the others wait for a SIPI; RAM and devices keep their state. The PM
	 * device calls them in turn, never wake without a sleep before it.
	 */
	void (*sleep)(struct machine *m);
	void (*wake)(struct machine *m);
	/* The power-management events' listener (machine_pm_listen), NULL: none. */
	void (*pm_listener)(void *opaque, enum machine_pm_event ev);
	void *pm_listener_opaque;

	/* Device states the machine frees at teardown (see machine_adopt). */
	struct machine_owned *owned;
	/* Interrupt lines devices declared, for `qlite check` and overlap checks. */
	struct machine_irq { unsigned gsi; const char *owner; bool shared; } irqs[32];
	unsigned nr_irqs;
	/* What devices tell the exit report and `qlite check` (machine_add_report). */
	struct machine_report_src *reports;
	unsigned nr_reports;
	/*
	 * `qlite check`: devices are built to be described and never run, so
	 * they open no host resource (a network backend connects nowhere).
	 */
	bool offline;
	/* NICs that took a default MAC so far (net_vdev_opts: 52:54:00:12:34:56 + n). */
	unsigned nr_nic_macs;

	/*
	 * `irqchip split`: KVM keeps the LAPICs; the IOAPIC, the 8259 pair
	 * and the 8254 PIT are qlite's (src/devices/ioapic.c, pic8259.c,
	 * pit8254.c; irq_set reaches the first two). Set before any device
	 * is created.
	 */
	bool split_irqchip;
	struct ioapic *ioapic;	/* with split_irqchip: qlite's IOAPIC, once created */
	struct pic8259 *pic;	/* with split_irqchip: qlite's 8259 pair, once created */
	/*
	 * The PIC's INTR output rose (from any thread, no device lock held):
	 * the CPU it drives, vCPU 0, should look at it soon. NULL: nobody.
	 */
	void (*pic_intr)(struct machine *m);
	/* The IOMMU (machine_set_iommu), NULL: DMA and MSIs go straight through. */
	const struct machine_iommu_ops *iommu;
	void *iommu_opaque;
	uint64_t iommu_base;	/* its register page, for the ACPI DMAR table */
	bool iommu_intremap;	/* it remaps interrupts (DMAR flags, IOAPIC scope) */
};

/*
 * Declare that owner drives gsi. -EBUSY when another device holds it and
 * either side cannot share (ISA lines are edge and exclusive; PCI INTx shares).
 */
int machine_claim_irq(struct machine *m, unsigned gsi, const char *owner, bool shared);

/*
 * Hand a device's state to the machine: release(state) runs when the
 * machine is torn down, in reverse order of adoption. Returns -ENOMEM.
 */
int machine_adopt(struct machine *m, void *state, void (*release)(void *state));
void machine_release_all(struct machine *m);
/*
 * A zeroed device state of size bytes, already adopted (release NULL: free
 * it). A constructor that fails after this needs no unwinding: the state
 * and whatever it claimed go with the machine. NULL when out of memory.
 */
void *machine_alloc_device(struct machine *m, size_t size, void (*release)(void *state));

static inline int machine_register(struct machine *m, enum bus_space space, uint64_t base,
				   uint64_t len, const char *name,
				   const struct bus_ops *ops, void *opaque)
{
	return bus_register(m->bus[space], base, len, name, ops, opaque);
}

/*
 * Claim a range for a device and say so when it cannot: "NAME: cannot claim
 * pio 0x1f0-0x1f7: already in use". Returns the region id or -errno.
 */
int machine_claim(struct machine *m, enum bus_space space, uint64_t base, uint64_t len,
		  const char *name, const struct bus_ops *ops, void *opaque);

/* ---- what a device tells the exit report and `qlite check` ---- */

#define DEVICE_REPORT_MAX	48	/* counters per device */

/*
 * A device's own view of its work, beside the exits the bus counted: the
 * path its notifications take and counters no exit carries (kicks through
 * KVM_IOEVENTFD, interrupts through KVM_IRQFD, frames dropped).
 */
struct device_report {
	/* How it talks to the guest, e.g. "kicks ioeventfd (KVM), interrupts irqfd MSI-X". */
	char path[128];
	unsigned n;
	struct device_counter {
		char name[40];	/* "q0.kicks", "rx_dropped_no_buffer": [a-z0-9_.] */
		uint64_t value;
	} c[DEVICE_REPORT_MAX];
};

/* Fill out (zeroed by the caller) from any thread: read the device's counters relaxed. */
typedef void (*device_report_fn)(void *opaque, struct device_report *out);

struct machine_report_src {
	char name[32];		/* unique per machine: "virtio-blk", "e1000.1" */
	char summary[256];	/* one line for `qlite check`: "00:03.0 mac 52:54:... backend slirp" */
	device_report_fn fn;	/* NULL: nothing for the exit report */
	void *opaque;
};

/*
 * Register a device with the reports. name is made unique by the machine
 * (a second "e1000" becomes "e1000.1"); summary may be NULL. Returns
 * -ENOMEM; the registration lives as long as the machine.
 */
int machine_add_report(struct machine *m, const char *name, const char *summary,
		       device_report_fn fn, void *opaque);
/* Append one counter to out (dropped beyond DEVICE_REPORT_MAX). */
void device_report_add(struct device_report *out, const char *name, uint64_t value);

/* ---- file descriptors ---- */

int machine_watch_fd(struct machine *m, int fd, uint32_t events, event_fn fn, void *opaque);
void machine_unwatch_fd(struct machine *m, int fd);

/* ---- doorbells ---- */

struct doorbell;

struct doorbell_desc {
	const char *name;	/* for messages */
	enum bus_space space;
	uint64_t addr;		/* BUS_UNMAPPED: created disabled (a BAR not yet placed) */
	unsigned len;		/* 1, 2, 4 or 8: the width of the guest's write */
	bool match;		/* ring only when the written value is value */
	uint64_t value;
	bool in_kernel;		/* use KVM_IOEVENTFD when the machine has it */
	/* On the I/O thread; rings is how many writes since the last call (>= 1). */
	void (*ring)(void *opaque, uint64_t rings);
	void *opaque;
};

int machine_doorbell_add(struct machine *m, const struct doorbell_desc *d, struct doorbell **out);
/* Follow a BAR that moved; BUS_UNMAPPED disables the doorbell. */
int doorbell_move(struct doorbell *db, uint64_t addr);
void doorbell_remove(struct doorbell *db);
/* Did the kernel take it (KVM_IOEVENTFD), or does every ring cost a userspace exit? */
bool doorbell_in_kernel(const struct doorbell *db);
/* Writes delivered so far, however they came. */
uint64_t doorbell_count(const struct doorbell *db);

/* ---- interrupt events ---- */

struct irq_event;

/* An edge on a GSI, raised from any thread. */
int machine_irq_event_gsi(struct machine *m, unsigned gsi, bool in_kernel, struct irq_event **out);
/*
 * An MSI (addr/data as the guest programmed them) written by requester sid,
 * raised from any thread. With an IOMMU that remaps interrupts it stays in
 * userspace whatever in_kernel says: each raise goes through
 * machine_msi_raise, translated by the guest's tables as they are then.
 */
int machine_irq_event_msi(struct machine *m, uint16_t sid, uint64_t addr, uint32_t data,
			  bool in_kernel, struct irq_event **out);
/*
 * The guest reprogrammed the vector. sid comes along: a PCI function learns
 * its requester id when the host places it, after its events are made.
 */
int irq_event_set_msi(struct irq_event *ev, uint16_t sid, uint64_t addr, uint32_t data);
void irq_event_raise(struct irq_event *ev);
void irq_event_destroy(struct irq_event *ev);
bool irq_event_in_kernel(const struct irq_event *ev);
uint64_t irq_event_count(const struct irq_event *ev);

/* ---- IOMMU, DMA by PCI requesters, MSIs ---- */

/* Install the machine's IOMMU; -EBUSY when it has one. */
int machine_set_iommu(struct machine *m, const struct machine_iommu_ops *ops, void *opaque,
		      uint64_t base, bool intremap);
/*
 * Copy len bytes between buf and the guest as requester sid sees it:
 * through the IOMMU when there is one, each piece checked against RAM.
 * 0, or -EFAULT when any byte is refused or not RAM: then nothing is
 * copied (a read) or the bytes before the refused piece were (a write).
 */
int machine_dma_read(struct machine *m, uint16_t sid, uint64_t addr, void *buf, size_t len);
int machine_dma_write(struct machine *m, uint16_t sid, uint64_t addr, const void *buf, size_t len);
/*
 * Append [addr, addr + len) as requester sid sees it to sg, for a transfer
 * that writes RAM (write) or reads it, to be done later on sg's iovecs:
 * without an IOMMU this is dma_sg_add(sg, addr, len); with one each piece
 * is translated and checked against RAM, a piece that follows the list's
 * last entry in host memory joins it (an identity mapping costs no more
 * entries than dma_sg_add). Errors as dma_sg_add's (-EFAULT also for a
 * piece the IOMMU refuses, -E2BIG when the pieces fill the list); on error
 * sg is unchanged. The pieces are translated when added: a driver
 * unmaps a buffer only once the device has completed the I/O on it.
 */
int machine_dma_sg_add(struct machine *m, uint16_t sid, struct dma_sg *sg, uint64_t addr,
		       uint64_t len, bool write);
/*
 * Deliver an MSI requester sid wrote: through the IOMMU's interrupt
 * remapping when there is one, then msi_send. 0, or -EFAULT: blocked.
 */
int machine_msi_raise(struct machine *m, uint16_t sid, uint64_t addr, uint32_t data);

/* ---- timers ---- */

/* A one-shot timer on the I/O thread; arm and destroy it with loop_timer_arm/_destroy. */
static inline int machine_timer_create(struct machine *m, void (*fn)(void *opaque), void *opaque,
				       struct loop_timer **out)
{
	return event_loop_timer_create(m->loop, fn, opaque, out);
}

/* ---- power-management events ---- */

/*
 * The device that decides about waking (ACPI PM) listens, at construction;
 * one listener per machine, -EBUSY for a second.
 */
int machine_pm_listen(struct machine *m, void (*fn)(void *opaque, enum machine_pm_event ev),
		      void *opaque);
/* A device's event, from any thread, with no lock of the device held; nothing without a listener. */
void machine_pm_event(struct machine *m, enum machine_pm_event ev);

/* ---- asynchronous block I/O ---- */

/* Submitted from the I/O thread; the batch goes to the kernel when the loop next waits. */
static inline int machine_aio_submit(struct machine *m, struct aio_req *req)
{
	return event_loop_aio_submit(m->loop, req);
}

#endif
