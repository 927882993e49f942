// SPDX-License-Identifier: GPL-2.0-only
/*
 * The platform every VM has: COM1, i8042, RTC, debug-exit port, PCI host
 * bridge, with ACPI the PM device, QEMU's fw_cfg unless turned off, and
 * with `irqchip split` the IOAPIC, the 8259 pair and the 8254 PIT (KVM's otherwise). One place
 * creates it,
 * so the running VM, `qlite check` and the config's overlap checks all see
 * the same machine.
 */
#include <errno.h>
#include <unistd.h>

#include "qlite/devices.h"
#include "qlite/fw_cfg.h"
#include "qlite/pci.h"

int platform_create(struct machine *m, bool acpi, bool fw_cfg, struct uart8250 **uart)
{
	int ret;

	if (m->split_irqchip) {
		if (!ioapic_create(m))
			return -ENOMEM;
		/* ISA lines go to both, as on a PC: Linux probes the 8259 and times IRQ 0 through it. */
		if (!pic8259_create(m))
			return -ENOMEM;
		/* KVM has no PIT without its PIC: the guest's timer and port B are qlite's. */
		ret = pit8254_create(m);
		if (ret < 0)
			return ret;
	}
	*uart = uart8250_create(m, UART_COM1_BASE, UART_COM1_GSI, STDOUT_FILENO);
	if (!*uart)
		return -ENOMEM;
	ret = i8042_create(m);
	if (ret < 0)
		return ret;
	ret = rtc_create(m);
	if (ret < 0)
		return ret;
	ret = debug_exit_create(m, "debug-exit", DEBUG_EXIT_BASE, DEBUG_EXIT_SIZE);
	if (ret < 0)
		return ret;
	if (acpi) {
		ret = acpi_pm_create(m);
		if (ret < 0)
			return ret;
	}
	if (fw_cfg) {
		ret = fw_cfg_create(m);
		if (ret < 0)
			return ret;
	}
	m->pci = pci_host_create(m);
	return m->pci ? 0 : -ENOMEM;
}

static void no_irq(struct machine *m, unsigned gsi, int level) { }
static void no_msi(struct machine *m, uint64_t addr, uint32_t data) { }
static void no_stop(struct machine *m, enum stop_reason why, int status, const char *detail) { }
static void no_sleep(struct machine *m) { }

int machine_init_offline(struct machine *m)
{
	*m = (struct machine){ .irq_set = no_irq, .msi_send = no_msi, .request_stop = no_stop,
			       .sleep = no_sleep, .wake = no_sleep, .offline = true };
	m->bus[BUS_PIO] = bus_create(BUS_PIO);
	m->bus[BUS_MMIO] = bus_create(BUS_MMIO);
	return m->bus[BUS_PIO] && m->bus[BUS_MMIO] ? 0 : -ENOMEM;
}

int platform_assemble_offline(struct machine *m, bool acpi, bool fw_cfg, bool split_irqchip,
			      struct uart8250 **uart)
{
	int ret = machine_init_offline(m);

	*uart = NULL;
	m->split_irqchip = split_irqchip;
	return ret < 0 ? ret : platform_create(m, acpi, fw_cfg, uart);
}

void platform_teardown_offline(struct machine *m, struct uart8250 *uart)
{
	if (m->pci)
		pci_host_destroy(m->pci);
	if (uart)
		uart8250_destroy(uart);
	machine_release_all(m);
	bus_destroy(m->bus[BUS_PIO]);
	bus_destroy(m->bus[BUS_MMIO]);
}
