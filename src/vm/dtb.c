// SPDX-License-Identifier: GPL-2.0-only
/*
 * `qlite check --dtb FILE`: the assembled machine as a flattened device
 * tree, for tools (dtc -I dtb -O dts FILE). x86 guests do not read it; it
 * is the machine-readable twin of the `qlite check` text.
 */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/virtio_mmio.h"
#include "qlite/vm.h"
#include "qlite/platform.h"

#define DTB_MAX_SIZE (64 * 1024)
#define IOAPIC_PHANDLE 1

static int fdt_prop_u64_pair(void *fdt, const char *name, uint64_t a, uint64_t b)
{
	fdt64_t v[2] = { cpu_to_fdt64(a), cpu_to_fdt64(b) };

	return fdt_property(fdt, name, v, sizeof(v));
}

static int dtb_memory(void *fdt, const struct guest_mem *gm)
{
	int err = 0;

	for (unsigned i = 0; i < gm->nr_slots && !err; i++) {
		char name[32];

		snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)gm->slots[i].gpa);
		err = fdt_begin_node(fdt, name);
		err = err ?: fdt_property_string(fdt, "device_type", "memory");
		err = err ?: fdt_prop_u64_pair(fdt, "reg", gm->slots[i].gpa, gm->slots[i].size);
		err = err ?: fdt_end_node(fdt);
	}
	return err;
}

static int dtb_cpus(void *fdt, const struct vm_spec *spec)
{
	unsigned nr = spec->nr_vcpus ? spec->nr_vcpus : 1;
	int err;

	err = fdt_begin_node(fdt, "cpus");
	err = err ?: fdt_property_u32(fdt, "#address-cells", 1);
	err = err ?: fdt_property_u32(fdt, "#size-cells", 0);
	for (unsigned i = 0; i < nr && !err; i++) {
		fdt32_t cpus[64];
		unsigned n = 0;
		char name[16];

		snprintf(name, sizeof(name), "cpu@%u", i);
		err = fdt_begin_node(fdt, name);
		err = err ?: fdt_property_string(fdt, "device_type", "cpu");
		err = err ?: fdt_property_u32(fdt, "reg", i);	/* APIC id */
		for (int c = 0; spec->cluster_set[i] && c < CPU_SETSIZE && n < ARRAY_SIZE(cpus); c++)
			if (CPU_ISSET(c, &spec->cluster[i]))
				cpus[n++] = cpu_to_fdt32(c);
		if (n)
			err = err ?: fdt_property(fdt, "qlite,host-cpus", cpus, n * sizeof(cpus[0]));
		err = err ?: fdt_end_node(fdt);
	}
	return err ?: fdt_end_node(fdt);
}

static int dtb_devices(void *fdt, struct machine *m)
{
	struct bus_region r[BUS_MAX_REGIONS];
	int err = 0;

	for (unsigned s = 0; s < BUS_NR_SPACES; s++) {
		unsigned n = bus_list(m->bus[s], r, BUS_MAX_REGIONS);

		for (unsigned i = 0; i < n && i < BUS_MAX_REGIONS && !err; i++) {
			char name[64];
			fdt32_t irqs[4];
			unsigned nirq = 0;
			struct virtio_mmio_info vm;
			bool virtio_mmio = virtio_mmio_region_info(&r[i], &vm);

			snprintf(name, sizeof(name), "%s@%s%llx", r[i].name, s == BUS_PIO ? "i" : "",
				 (unsigned long long)r[i].base);
			for (char *p = name; *p; p++)
				if (*p == ' ')
					*p = '-';
			err = fdt_begin_node(fdt, name);
			if (virtio_mmio)
				err = err ?: fdt_property_string(fdt, "compatible", "virtio,mmio");
			err = err ?: fdt_property_string(fdt, "qlite,space", bus_space_name(s));
			err = err ?: fdt_prop_u64_pair(fdt, "reg", r[i].base, r[i].len);
			if (virtio_mmio)
				irqs[nirq++] = cpu_to_fdt32(vm.irq);
			for (unsigned q = 0; q < m->nr_irqs && nirq < ARRAY_SIZE(irqs); q++)
				if (!virtio_mmio && !strcmp(m->irqs[q].owner, r[i].name))
					irqs[nirq++] = cpu_to_fdt32(m->irqs[q].gsi);
			if (nirq)
				err = err ?: fdt_property(fdt, "interrupts", irqs, nirq * sizeof(irqs[0]));
			err = err ?: fdt_end_node(fdt);
		}
	}
	return err;
}

static int dtb_pci(void *fdt, struct pci_host *pci)
{
	int err = fdt_begin_node(fdt, "pci-bus0");

	for (unsigned i = 0; pci && i < pci_host_nr_devices(pci) && !err; i++) {
		struct pci_device *d = pci_host_device(pci, i);
		char name[24];

		/* slot-1 for function 0 as before; slot-1.1 for the other functions. */
		if (d->function)
			snprintf(name, sizeof(name), "slot-%u.%u", d->slot, d->function);
		else
			snprintf(name, sizeof(name), "slot-%u", d->slot);
		err = fdt_begin_node(fdt, name);
		err = err ?: fdt_property_u32(fdt, "qlite,slot", d->slot);
		err = err ?: fdt_property_u32(fdt, "qlite,function", d->function);
		err = err ?: fdt_property_string(fdt, "qlite,name", d->name);
		err = err ?: fdt_property_u32(fdt, "vendor-id", le_load(d->cfg, 2));
		err = err ?: fdt_property_u32(fdt, "device-id", le_load(d->cfg + 2, 2));
		if (d->cfg[0x3d])
			err = err ?: fdt_property_u32(fdt, "interrupts", d->gsi);
		err = err ?: fdt_end_node(fdt);
	}
	return err ?: fdt_end_node(fdt);
}

int vm_write_dtb(const struct vm_spec *spec, struct machine *m, const struct guest_mem *layout,
		 const char *cmdline, const char *path)
{
	void *fdt = calloc(1, DTB_MAX_SIZE);
	int err, ret;

	if (!fdt)
		return -ENOMEM;
	err = fdt_create(fdt, DTB_MAX_SIZE);
	err = err ?: fdt_finish_reservemap(fdt);
	err = err ?: fdt_begin_node(fdt, "");
	err = err ?: fdt_property_u32(fdt, "#address-cells", 2);
	err = err ?: fdt_property_u32(fdt, "#size-cells", 2);
	err = err ?: fdt_property_string(fdt, "compatible", "qlite,pc");
	err = err ?: fdt_property_string(fdt, "model", spec->name ? spec->name : "qlite");
	err = err ?: fdt_property_u32(fdt, "interrupt-parent", IOAPIC_PHANDLE);
	err = err ?: fdt_begin_node(fdt, "chosen");
	err = err ?: fdt_property_string(fdt, "bootargs", cmdline ? cmdline : "");
	if (spec->kernel)
		err = err ?: fdt_property_string(fdt, "qlite,kernel", spec->kernel);
	if (spec->initrd)
		err = err ?: fdt_property_string(fdt, "qlite,initrd", spec->initrd);
	err = err ?: fdt_end_node(fdt);
	err = err ?: dtb_memory(fdt, layout);
	err = err ?: fdt_begin_node(fdt, "ioapic@fec00000");
	err = err ?: fdt_property_string(fdt, "compatible", "intel,ce4100-ioapic");
	err = err ?: fdt_property(fdt, "interrupt-controller", NULL, 0);
	err = err ?: fdt_property_u32(fdt, "#interrupt-cells", 1);
	err = err ?: fdt_property_u32(fdt, "#address-cells", 0);
	err = err ?: fdt_prop_u64_pair(fdt, "reg", IOAPIC_BASE, IOAPIC_SIZE);
	err = err ?: fdt_property_u32(fdt, "phandle", IOAPIC_PHANDLE);
	err = err ?: fdt_end_node(fdt);
	err = err ?: dtb_cpus(fdt, spec);
	err = err ?: dtb_devices(fdt, m);
	err = err ?: dtb_pci(fdt, m->pci);
	err = err ?: fdt_end_node(fdt);
	err = err ?: fdt_finish(fdt);
	if (err) {
		ret = report(-ENOSPC, "%s: building the device tree: %s", path, fdt_strerror(err));
		goto out;
	}
	ret = write_file(path, fdt, fdt_totalsize(fdt));
out:
	free(fdt);
	return ret;
}
