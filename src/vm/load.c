// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the guest boots: the kernel and initrd read and loaded into guest
 * RAM, the boot registers, the MP table and ACPI tables. One function for `qlite run`
 * (into the VM's RAM) and `qlite check` (into scratch RAM laid out the
 * same way, without KVM), so check refuses every kernel run refuses, with
 * the same message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qlite/boot.h"
#include "qlite/cpuid.h"
#include "qlite/fw_cfg.h"
#include "qlite/util.h"
#include "qlite/virtio_mmio.h"
#include "qlite/vm.h"

char *vm_effective_cmdline(const struct vm_spec *spec, struct machine *m, bool quirks,
			   bool is_linux)
{
	const char *user = spec->cmdline ? spec->cmdline : "";
	const char *nested = quirks ? nested_quirk_linux_cmdline : "";
	char *devs, *s;
	int n;

	if (!is_linux)
		return strdup(user);
	/* An x86 Linux finds virtio-mmio devices only on its command line. */
	devs = virtio_mmio_linux_params(m, user);
	if (!devs)
		return NULL;
	n = asprintf(&s, "%s%s%s%s%s", user, *user && *devs ? " " : "", devs,
		     (*user || *devs) && *nested ? " " : "", nested);
	free(devs);
	return n < 0 ? NULL : s;
}

static int load_image(const char *path, struct boot_image *img, uint8_t **buf)
{
	const char *why;
	size_t len;
	int ret = read_file(path, buf, &len, &why);

	if (ret < 0)
		return report(ret, "%s: %s", path, why);
	*img = (struct boot_image){ .data = *buf, .len = len, .path = path };
	return 0;
}

/*
 * What fw_cfg tells of this boot, as QEMU's pc with -kernel: RAM size, CPUs,
 * the command line the kernel got, and the e820 map the loaders gave it.
 * QEMU's KERNEL_*, INITRD_* and SETUP_* items carry the images for its
 * linuxboot option ROM to load; here the kernel is in RAM already, so there
 * are none.
 */
static int fw_cfg_fill(struct fw_cfg *fw, const struct vm_spec *spec, unsigned nr_vcpus,
		       const struct guest_mem *gm, const char *cmdline)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	uint8_t raw[E820_MAX_ENTRIES * sizeof(struct e820_entry)];
	unsigned n = e820_build(gm, e, E820_MAX_ENTRIES);
	size_t cl = strlen(cmdline) + 1;
	int ret;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = raw + i * sizeof(struct e820_entry);

		le_store(p, e[i].addr, 8);
		le_store(p + 8, e[i].size, 8);
		le_store(p + 16, e[i].type, 4);
	}
	ret = fw_cfg_add_le(fw, FW_CFG_RAM_SIZE, spec->ram_size, 8);
	if (!ret)
		ret = fw_cfg_add_le(fw, FW_CFG_NB_CPUS, nr_vcpus, 2);
	/* QEMU's is the APIC ID limit: the CPUs' IDs are 0..n-1 here. */
	if (!ret)
		ret = fw_cfg_add_le(fw, FW_CFG_MAX_CPUS, nr_vcpus, 2);
	if (!ret)
		ret = fw_cfg_add_le(fw, FW_CFG_CMDLINE_ADDR, BOOT_CMDLINE_ADDR, 4);
	if (!ret)
		ret = fw_cfg_add_le(fw, FW_CFG_CMDLINE_SIZE, cl, 4);
	if (!ret)
		ret = fw_cfg_add_bytes(fw, FW_CFG_CMDLINE_DATA, cmdline, cl);
	if (!ret)
		ret = fw_cfg_add_file(fw, "etc/e820", raw, n * sizeof(struct e820_entry));
	return ret < 0 ? report(ret, "fw-cfg: %s", strerror(-ret)) : 0;
}

/*
 * A multiboot kernel gets the state SeaBIOS leaves under QEMU (src/boot/bios.c):
 * the IVT, its handlers and the BDA, with the tick count of the time of day
 * the RTC shows (the host's UTC); and, on a VM (not `qlite check`), the
 * PICs and the PIT. PVH and Linux kernels program the chips themselves and
 * keep the reset state they always had here (under QEMU, SeaBIOS runs
 * before them too: docs/design.md, "Boot").
 */
static int load_bios_state(struct machine *m, struct guest_mem *gm)
{
	int ret = bios_write(gm, bios_ticks_at(time(NULL) % 86400));

	return ret < 0 ? ret : bios_setup_chips(m);
}

_Static_assert(1 + SPEC_MAX_MODULES <= BOOT_MAX_MODULES, "the initrd and every module line");

/* The kernel's modules as files read: the initrd first (none when empty), then module lines. */
static int load_modules(const struct vm_spec *spec, struct boot_module *mods, uint8_t **bufs,
			char **strings, unsigned *n)
{
	struct boot_image img;
	int ret;

	*n = 0;
	if (spec->initrd) {
		ret = load_image(spec->initrd, &img, &bufs[0]);
		if (ret < 0)
			return ret;
		if (img.len)
			mods[(*n)++] = (struct boot_module){ .img = img };
	}
	for (unsigned i = 0; i < spec->nr_modules; i++) {
		const struct module_spec *ms = &spec->modules[i];

		ret = load_image(ms->path, &img, &bufs[1 + i]);
		if (ret < 0)
			return ret;
		if (ms->args && asprintf(&strings[i], "%s %s", ms->path, ms->args) < 0) {
			strings[i] = NULL;
			return report(-ENOMEM, "%s: out of memory", ms->path);
		}
		mods[(*n)++] = (struct boot_module){ .img = img, .cmdline = strings[i] };
	}
	return 0;
}

int vm_load_boot(const struct vm_spec *spec, bool quirks, unsigned nr_vcpus, struct machine *m,
		 struct guest_mem *gm, struct vm_boot *b)
{
	struct boot_module mods[1 + SPEC_MAX_MODULES];
	uint8_t *bufs[1 + SPEC_MAX_MODULES] = { NULL };
	char *strings[SPEC_MAX_MODULES] = { NULL };
	/* The DMAR table describes the machine's IOMMU (intel-iommu), when it has one. */
	const struct acpi_iommu iommu = { .base = m->iommu_base, .intremap = m->iommu_intremap };
	struct boot_image kernel;
	uint8_t *kbuf = NULL;
	unsigned nr_mods;
	int ret;

	if (!spec->kernel)
		return report(-EINVAL, "no kernel given (--kernel FILE or 'kernel FILE')");
	ret = load_image(spec->kernel, &kernel, &kbuf);
	if (ret < 0)
		return ret;
	ret = load_modules(spec, mods, bufs, strings, &nr_mods);
	if (ret < 0)
		goto out;
	b->is_linux = boot_image_is_linux(&kernel);
	b->cmdline = vm_effective_cmdline(spec, m, quirks, b->is_linux);
	ret = -ENOMEM;
	if (!b->cmdline)
		goto out;
	ret = boot_load_mods(gm, &kernel, mods, nr_mods, b->cmdline, &b->res);
	if (ret < 0)
		goto out;
	if (m->fw_cfg) {
		ret = fw_cfg_fill(m->fw_cfg, spec, nr_vcpus, gm, b->cmdline);
		if (ret < 0)
			goto out;
	}
	if (b->res.kind == BOOT_MULTIBOOT) {
		ret = load_bios_state(m, gm);
		if (ret < 0)
			goto out;
	}
	boot_regs(&b->res, &b->regs);
	ret = boot_sregs(gm, &b->res, &b->sregs);
	if (ret < 0)
		goto out;
	ret = mptable_write(gm, nr_vcpus, m->pci);
	if (ret < 0 || spec->acpi_off)
		goto out;
	ret = acpi_write(gm, nr_vcpus, m->fw_cfg != NULL, m->iommu ? &iommu : NULL, &b->acpi);
	if (ret < 0)
		goto out;
	ret = boot_set_rsdp(gm, &b->res, b->acpi.rsdp);
	if (ret < 0)
		report(ret, "%s: no boot structure to take the ACPI RSDP address", spec->kernel);
out:
	free(kbuf);
	for (unsigned i = 0; i < 1 + SPEC_MAX_MODULES; i++)
		free(bufs[i]);
	for (unsigned i = 0; i < SPEC_MAX_MODULES; i++)
		free(strings[i]);
	return ret;
}

void vm_boot_free(struct vm_boot *b)
{
	free(b->cmdline);
	b->cmdline = NULL;
}
