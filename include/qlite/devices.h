/* SPDX-License-Identifier: GPL-2.0-only */
/* Constructors of the platform devices. Each device lives in one file of src/devices/. */
#ifndef QLITE_DEVICES_H
#define QLITE_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine.h"

/* 8250/16550A UART with a 16-byte FIFO; transmitted bytes go to out_fd. */
#define UART_COM1_BASE	0x3f8
#define UART_COM1_GSI	4
struct uart8250;
struct uart8250 *uart8250_create(struct machine *m, uint16_t base, unsigned gsi, int out_fd);
void uart8250_destroy(struct uart8250 *u);
/* Feed received bytes; returns how many fit in the receive FIFO (the rest must be retried). */
size_t uart8250_receive(struct uart8250 *u, const uint8_t *buf, size_t len);
/* Receive a break (a zero byte with LSR.BI); false when the FIFO is full (retry on rx space). */
bool uart8250_send_break(struct uart8250 *u);
/* An eventfd that becomes readable when the receive FIFO has room again. */
int uart8250_rx_space_fd(struct uart8250 *u);

/*
 * The IOAPIC in userspace (`irqchip split`, src/devices/ioapic.c) at
 * IOAPIC_BASE: created by the platform, it becomes m->ioapic. Lines from
 * any thread; ioapic_eoi() when KVM reports the EOI of a vector.
 */
struct ioapic *ioapic_create(struct machine *m);
void ioapic_set_irq(struct ioapic *io, unsigned pin, int level);
void ioapic_eoi(struct ioapic *io, unsigned vector);

/*
 * The 8259A master/slave pair in userspace (`irqchip split`,
 * src/devices/pic8259.c), cascaded on IRQ 2, with the ELCR: created by the
 * platform, it becomes m->pic; ISA lines 0-15 reach it beside the IOAPIC.
 * Its INTR output is vCPU 0's LINT0 (ExtINT): the machine's pic_intr
 * service hears when it rises; pic8259_intr() is its level and
 * pic8259_ack() the INTA cycle at injection (the vector; IRQ 7's or 15's
 * when the request went away). Any thread.
 */
#define PIC_MASTER_PORT		0x20
#define PIC_SLAVE_PORT		0xa0
#define PIC_ELCR_PORT		0x4d0
struct pic8259;
struct pic8259 *pic8259_create(struct machine *m);
void pic8259_set_irq(struct pic8259 *p, unsigned irq, int level);
bool pic8259_intr(struct pic8259 *p);
uint8_t pic8259_ack(struct pic8259 *p);

/*
 * The 8254 PIT in userspace (`irqchip split`, src/devices/pit8254.c): ports
 * 0x40-0x43 and port B (0x61: channel 2's gate and OUT), channel 0 on IRQ 0.
 * Created by the platform; KVM's in-kernel PIT serves the other machines.
 */
#define PIT_BASE_PORT		0x40
#define PIT_NR_PORTS		4
#define PIT_PORT_B		0x61
#define PIT_GSI			0
#define PIT_HZ			1193182
/* At most one IRQ 0 edge this often (ns): KVM's default min_timer_period_us. */
#define PIT_MIN_PERIOD_NS	200000
int pit8254_create(struct machine *m);
/* The same counting from now_ns(opaque), monotonic nanoseconds, instead of CLOCK_MONOTONIC (tests). */
int pit8254_create_clocked(struct machine *m, int64_t (*now_ns)(void *opaque), void *opaque);

/* i8042 keyboard controller, enough for reboot=k: a 0xfe command resets the VM. */
#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64
#define I8042_KBD_GSI		1
#define I8042_AUX_GSI		12
int i8042_create(struct machine *m);

/* MC146818 CMOS RTC at 0x70/0x71 with the host's time; its interrupts on IRQ 8. */
#define RTC_INDEX_PORT		0x70
#define RTC_NR_PORTS		2
#define RTC_GSI			8
int rtc_create(struct machine *m);

/* QEMU isa-debug-exit compatible: writing v stops the VM with exit status (v << 1) | 1. */
#define DEBUG_EXIT_BASE	0xf4
#define DEBUG_EXIT_SIZE	4
int debug_exit_create(struct machine *m, const char *name, uint16_t base, unsigned size);

/*
 * Intel 82540EM (e1000) on backend o with MAC mac (src/devices/e1000/), what
 * `vdev e1000` builds; coalesce as its `coalesce on`. 0, or -errno after one report().
 */
struct net_backend_opts;
int e1000_attach(struct machine *m, const struct net_backend_opts *o, const uint8_t mac[6],
		 bool coalesce);
/* For the unit test: e1000's register table is sorted by offset, without overlaps. */
bool e1000_regs_sorted(void);

/*
 * ACPI PM1 event/control blocks and PM timer at 0x600 (QEMU's pc), SCI on IRQ 9
 * (src/devices/acpi_pm.c); the FADT (src/boot/acpi.c) points to them.
 */
int acpi_pm_create(struct machine *m);
/* The same with the PM timer starting at count instead of 0 (tests: a toggle of its top bit soon). */
int acpi_pm_create_counting_from(struct machine *m, uint32_t count);

/*
 * The platform every VM has (src/devices/platform.c): COM1 writing to stdout, i8042, RTC,
 * debug-exit port, PCI host bridge, the ACPI PM device when acpi, fw_cfg (fw_cfg.h) when fw_cfg,
 * the IOAPIC, the 8259 pair and the 8254 PIT when m->split_irqchip.
 */
int platform_create(struct machine *m, bool acpi, bool fw_cfg, struct uart8250 **uart);
/* Fresh buses and services that do nothing (no loop): describing and checking without KVM. */
int machine_init_offline(struct machine *m);
/* The platform on such a machine. */
int platform_assemble_offline(struct machine *m, bool acpi, bool fw_cfg, bool split_irqchip,
			      struct uart8250 **uart);
void platform_teardown_offline(struct machine *m, struct uart8250 *uart);

#endif
