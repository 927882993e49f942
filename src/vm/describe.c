// SPDX-License-Identifier: GPL-2.0-only
/*
 * `qlite check`: assemble the machine's devices on buses without KVM and
 * print what the guest will see: memory map, devices with their ports,
 * MMIO ranges, IRQs and PCI slots, vCPUs with their host CPUs, the ACPI
 * tables, and the effective kernel command line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/config.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/vm.h"
#include "qlite/platform.h"

static void print_size(FILE *out, uint64_t size)
{
	if (size >= GiB && !(size % GiB))
		fprintf(out, "%llu GiB", (unsigned long long)(size / GiB));
	else if (size >= MiB)
		fprintf(out, "%llu MiB", (unsigned long long)(size / MiB));
	else
		fprintf(out, "%llu KiB", (unsigned long long)(size / KiB));
}

static void describe_memory(const struct guest_mem *gm, bool split_irqchip, FILE *out)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	unsigned n;

	fprintf(out, "memory map (e820):\n");
	n = e820_build(gm, e, E820_MAX_ENTRIES);
	for (unsigned i = 0; i < n; i++) {
		fprintf(out, "  0x%012llx-0x%012llx  %-8s  ", (unsigned long long)e[i].addr,
			(unsigned long long)(e[i].addr + e[i].size - 1),
			e[i].type == E820_RAM ? "ram" : "reserved");
		print_size(out, e[i].size);
		fprintf(out, "%s\n",
			e[i].type == E820_RAM ? "" : " (EBDA, BIOS area: MP table, ACPI)");
	}
	fprintf(out, "  0x%012llx-0x%012llx  pci-mmio  BAR window\n", PCI_MMIO_WINDOW_START,
		PCI_MMIO_WINDOW_END - 1);
	fprintf(out, "  0x%012llx                 ioapic    %s\n", IOAPIC_BASE,
		split_irqchip ? "qlite's (irqchip split)" : "in-kernel");
	fprintf(out, "  0x%012llx                 lapic     in-kernel, one per vCPU\n", LAPIC_BASE);
}

static void describe_bus(struct machine *m, enum bus_space space, FILE *out)
{
	struct bus_region r[BUS_MAX_REGIONS];
	unsigned n = bus_list(m->bus[space], r, BUS_MAX_REGIONS);

	for (unsigned i = 0; i < n && i < BUS_MAX_REGIONS; i++)
		fprintf(out, "  %-4s  0x%0*llx-0x%0*llx  %s\n", bus_space_name(space),
			space == BUS_PIO ? 4 : 8, (unsigned long long)r[i].base,
			space == BUS_PIO ? 4 : 8, (unsigned long long)(r[i].base + r[i].len - 1),
			r[i].name);
}

static void describe_cpus(const struct vm_spec *spec, FILE *out)
{
	unsigned nr = spec->nr_vcpus ? spec->nr_vcpus : 1;
	cpu_set_t io;
	char list[256];

	fprintf(out, "vcpus: %u (APIC ids 0..%u, one package, one thread per core)\n", nr, nr - 1);
	for (unsigned i = 0; i < nr; i++) {
		fprintf(out, "  vcpu %u  thread qlite-vcpu-%u  host CPUs ", i, i);
		if (!spec->cluster_set[i]) {
			fprintf(out, "any (not pinned)\n");
			continue;
		}
		for (int c = 0, first = 1; c < CPU_SETSIZE; c++) {
			if (!CPU_ISSET(c, &spec->cluster[i]))
				continue;
			fprintf(out, "%s%d", first ? "" : ",", c);
			first = 0;
		}
		fprintf(out, "\n");
	}
	if (!vm_io_cpus(spec, &io)) {
		fprintf(out, "  I/O   thread qlite        host CPUs any (the vCPUs are not all pinned, or take every CPU)\n");
		return;
	}
	config_format_cpulist(&io, list, sizeof(list));
	fprintf(out, "  I/O   thread qlite        host CPUs %s (those the vCPUs do not take)\n", list);
}

static void describe_acpi(const struct acpi_tables *t, FILE *out)
{
	if (!t->n) {
		fprintf(out, "acpi: off (the MP table only)\n");
		return;
	}
	fprintf(out, "acpi tables:\n");
	for (unsigned i = 0; i < t->n; i++)
		fprintf(out, "  %-4.4s  0x%08llx  %u bytes\n",
			!strcmp(t->t[i].sig, "RSD PTR ") ? "RSDP" : t->t[i].sig,
			(unsigned long long)t->t[i].addr, t->t[i].len);
}

/* Each table as DIR/SIG.dat (rsdp.dat, facp.dat, apic.dat...), what `iasl -d` reads. */
static int dump_acpi(const struct acpi_tables *t, const struct guest_mem *gm, const char *dir)
{
	if (!t->n)
		return report(-EINVAL, "--dump-acpi: the VM has no ACPI tables (acpi off)");
	for (unsigned i = 0; i < t->n; i++) {
		const char *sig = !strcmp(t->t[i].sig, "RSD PTR ") ? "rsdp" : t->t[i].sig;
		const void *p = guest_mem_ptr(gm, t->t[i].addr, t->t[i].len);
		char path[4096], name[5];
		int ret;

		for (int j = 0; j < 4; j++)
			name[j] = sig[j] >= 'A' && sig[j] <= 'Z' ? sig[j] - 'A' + 'a' : sig[j];
		name[4] = '\0';
		if (!p)
			return report(-EFAULT, "--dump-acpi: %s is not in guest RAM", t->t[i].sig);
		if (snprintf(path, sizeof(path), "%s/%s.dat", dir, name) >= (int)sizeof(path))
			return report(-ENAMETOOLONG, "--dump-acpi: %s: path too long", dir);
		ret = write_file(path, p, t->t[i].len);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int vm_describe(const struct vm_spec *spec, FILE *out, const char *dtb_path, const char *acpi_dir)
{
	struct guest_mem ram;
	struct machine m;
	struct uart8250 *uart;
	struct vm_boot boot = { 0 };
	bool nested = host_is_nested_soft_kvm();
	bool quirks = spec->quirks == QUIRKS_ON || (spec->quirks == QUIRKS_AUTO && nested);
	int ret;

	ret = vm_assemble_offline(&m, spec, &uart);
	if (ret < 0)
		goto out;
	/* The kernel is loaded as run loads it, so a kernel run refuses fails here too. */
	ret = guest_mem_init(&ram, spec->ram_size, false);
	if (ret < 0) {
		report_errno(ret, "guest RAM of %llu MiB", (unsigned long long)(spec->ram_size >> 20));
		goto out;
	}
	ret = vm_load_boot(spec, quirks, spec->nr_vcpus ? spec->nr_vcpus : 1, &m, &ram, &boot);
	if (ret < 0)
		goto out_boot;

	fprintf(out, "machine: %s, ", spec->name ? spec->name : "(unnamed)");
	print_size(out, spec->ram_size);
	fprintf(out, " RAM, kernel %s%s%s", spec->kernel ? spec->kernel : "(none)",
		spec->initrd ? ", initrd " : "", spec->initrd ? spec->initrd : "");
	for (unsigned i = 0; i < spec->nr_modules; i++)
		fprintf(out, ", module %s", spec->modules[i].path);
	fputc('\n', out);
	describe_memory(&ram, spec->split_irqchip, out);
	fprintf(out, "devices:\n");
	describe_bus(&m, BUS_PIO, out);
	describe_bus(&m, BUS_MMIO, out);
	if (spec->split_irqchip)
		fprintf(out, "  in-kernel: lapic (irqchip split: the pic, ioapic and pit are qlite's)\n");
	else
		fprintf(out, "  in-kernel: pic 0x20,0xa0,0x4d0  pit 0x40-0x43,0x61  ioapic  lapic\n");
	for (unsigned i = 0; i < m.nr_irqs; i++)
		fprintf(out, "  irq   %-2u  %s%s\n", m.irqs[i].gsi, m.irqs[i].owner,
			m.irqs[i].shared ? " (shared)" : "");
	for (unsigned i = 0; m.pci && i < pci_host_nr_devices(m.pci); i++) {
		struct pci_device *d = pci_host_device(m.pci, i);

		fprintf(out, "  pci   00:%02x.%u  %04x:%04x  %s", d->slot, d->function,
			(unsigned)le_load(d->cfg, 2), (unsigned)le_load(d->cfg + 2, 2), d->name);
		if (d->cfg[0x3d])
			fprintf(out, "  INT%c -> irq %u", 'A' + d->cfg[0x3d] - 1, d->gsi);
		fprintf(out, "\n");
	}
	/* What each device says of itself; its counters come with the exit report. */
	for (unsigned i = 0; i < m.nr_reports; i++)
		fprintf(out, "  dev   %-14s %s\n", m.reports[i].name,
			m.reports[i].summary[0] ? m.reports[i].summary : "-");
	describe_cpus(spec, out);
	fprintf(out, "quirks: %s%s\n", quirks ? "on" : "off",
		nested ? " (host KVM is nested and software-assisted)" : "");
	describe_acpi(&boot.acpi, out);
	if (boot.res.kind == BOOT_MULTIBOOT)
		fprintf(out, "bios: pic vectors %#04x %#04x, masks %02x %02x, elcr %02x %02x; pit channel 0 mode %u count %u; real-mode IVT, handlers at %#x\n",
			bios_pic.vector_base[0], bios_pic.vector_base[1], bios_pic.imr[0],
			bios_pic.imr[1], bios_pic.elcr[0], bios_pic.elcr[1], bios_pit.mode,
			bios_pit.count ? bios_pit.count : 0x10000, BIOS_STUBS_ADDR);
	fprintf(out, "cmdline: %s\n", boot.cmdline);
	if (dtb_path)
		ret = vm_write_dtb(spec, &m, &ram, boot.cmdline, dtb_path);
	if (!ret && acpi_dir)
		ret = dump_acpi(&boot.acpi, &ram, acpi_dir);
out_boot:
	vm_boot_free(&boot);
	guest_mem_destroy(&ram);
out:
	vm_teardown_offline(&m, uart);
	return ret;
}
