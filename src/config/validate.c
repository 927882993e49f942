// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checks of a parsed spec before anything is created: the files it names,
 * the host CPUs, memory and KVM limits, and the ports, MMIO ranges and IRQs
 * its devices claim. Same error style as the parser: one line with the
 * FILE:LINE or --option the value came from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "internal.h"
#include "qlite/block.h"
#include "qlite/devices.h"
#include "qlite/guest_mem.h"
#include "qlite/util.h"
#include "qlite/vdev.h"
#include "qlite/platform.h"

/* ---- the host ---- */

/* sysfs files claim a size of 4096 and hold one short line: read them with stdio. */
static bool read_cpulist_file(const char *path, cpu_set_t *set)
{
	char line[4096];
	FILE *f = fopen(path, "re");
	bool ok;
	size_t len;

	if (!f)
		return false;
	ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
		line[--len] = '\0';
	return config_parse_cpulist(line, set) > 0;
}

static uint64_t read_mem_total(void)
{
	unsigned long long kb = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * KiB;
}

void config_host_probe(struct config_host *h)
{
	int fd, n;

	memset(h, 0, sizeof(*h));
	h->have_present = read_cpulist_file("/sys/devices/system/cpu/present", &h->present);
	h->have_online = read_cpulist_file("/sys/devices/system/cpu/online", &h->online);
	h->have_allowed = !sched_getaffinity(0, sizeof(h->allowed), &h->allowed);
	h->mem_total = read_mem_total();
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;		/* qlite run says why later; the limit check is skipped */
	n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (n <= 0)
		n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (n > 0)
		h->max_vcpus = n;
	close(fd);
}

/* ---- files ---- */

/*
 * The kernel and initrd are read whole: regular files only. A vdev's file
 * may also be a block device (a disk). Opened without blocking, so a FIFO
 * is refused instead of waiting for a writer.
 */
static int check_input(const char *path, bool blk_ok, const struct spec_origin *o, FILE *err)
{
	struct stat st;
	int fd = open_input(path, &st);

	if (fd < 0)
		return config_error_errno(err, o, fd, "%s", path);
	close(fd);
	if (S_ISREG(st.st_mode) || (blk_ok && S_ISBLK(st.st_mode)))
		return 0;
	config_error(err, o, "%s: not a regular file%s (%s)", path, blk_ok ? " or block device" : "",
		     file_type_name(st.st_mode));
	return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
}

/* A vdev's disk image: is it read-only (its readonly_opt says on)? */
static bool image_readonly(const struct vdev_type *t, const struct vdev_spec *vs, const char *key)
{
	const struct vdev_opt_desc *d = vdev_type_opt(t, key);
	const char *v = d && d->readonly_opt ? vdev_opt_get(vs, d->readonly_opt) : NULL;
	bool ro = false;

	return v && !config_parse_bool(v, &ro) && ro;
}

struct image_use {
	dev_t dev;
	ino_t ino;
	bool readonly;
	const struct vdev_spec *vs;
};

/*
 * A disk image opens as the device will open it (read-write unless
 * readonly, locked), and no two vdevs write one image: the device's lock
 * would refuse the second, but only after the first is built.
 */
static int check_image(const struct vdev_type *t, const struct vdev_spec *vs, const char *key,
		       struct image_use *used, unsigned *nr_used, FILE *err)
{
	const char *path = vdev_opt_get(vs, key);
	bool ro = image_readonly(t, vs, key);
	struct image_use *u = &used[*nr_used];
	char why[256];
	struct stat st;
	int ret;

	ret = block_image_check(path, ro, why, sizeof(why));
	if (ret < 0) {
		/* why says it all (with the host's words where they help). */
		config_error(err, &vs->origin, "%s: %s", path, why);
		return ret;
	}
	if (stat(path, &st) < 0)
		return config_error_errno(err, &vs->origin, -errno, "%s", path);
	for (unsigned i = 0; i < *nr_used; i++) {
		const struct spec_origin *o = &used[i].vs->origin;

		if (used[i].dev != st.st_dev || used[i].ino != st.st_ino)
			continue;
		if (ro && used[i].readonly)
			continue;	/* readers share */
		if (o->file)
			config_error(err, &vs->origin, "%s: already the disk of the vdev at %s:%u",
				     path, o->file, o->line);
		else
			config_error(err, &vs->origin, "%s: already the disk of another vdev",
				     path);
		return -EBUSY;
	}
	*u = (struct image_use){ .dev = st.st_dev, .ino = st.st_ino, .readonly = ro, .vs = vs };
	++*nr_used;
	return 0;
}

static int check_files(const struct vm_spec *spec, FILE *err)
{
	struct image_use *images;
	unsigned nr_images = 0;
	int ret;

	if (!spec->kernel) {
		if (spec->nr_files)
			return config_error(err, &(struct spec_origin){ spec->files[0], 0, NULL },
					    "no kernel: add a line \"kernel PATH\" or give --kernel PATH");
		return config_error(err, &(struct spec_origin){ NULL, 0, "--kernel" },
				    "missing: no kernel to boot (--kernel PATH)");
	}
	ret = check_input(spec->kernel, false, &spec->origin_of_kernel, err);
	if (!ret && spec->initrd)
		ret = check_input(spec->initrd, false, &spec->origin_of_initrd, err);
	for (unsigned i = 0; i < spec->nr_modules && !ret; i++)
		ret = check_input(spec->modules[i].path, false, &spec->modules[i].origin, err);
	if (ret)
		return ret;
	images = calloc(spec->nr_vdevs * VDEV_MAX_OPTS + 1, sizeof(*images));
	if (!images)
		return config_nomem(err);
	for (unsigned i = 0; i < spec->nr_vdevs && !ret; i++) {
		const struct vdev_spec *vs = &spec->vdevs[i];
		const struct vdev_type *t = vdev_type_lookup(vs->type);

		for (unsigned j = 0; j < vs->nr_opts && j < VDEV_MAX_OPTS && !ret; j++) {
			enum vdev_opt_kind kind = vdev_opt_kind(t, vs->opts[j].key);

			if (kind == VDEV_OPT_PATH)
				ret = check_input(vs->opts[j].value, true, &vs->origin, err);
			else if (kind == VDEV_OPT_IMAGE)
				ret = check_image(t, vs, vs->opts[j].key, images, &nr_images, err);
		}
	}
	free(images);
	return ret;
}

/* ---- host limits ---- */

static const struct spec_origin *or_default(const struct spec_origin *o, const char *option,
					    struct spec_origin *tmp)
{
	if (o->file || o->option)
		return o;
	*tmp = (struct spec_origin){ NULL, 0, option };
	return tmp;
}

static int check_cpu(const struct config_host *h, int c, const struct spec_origin *o, FILE *err)
{
	/* In this order: a CPU that does not exist is not "offline" as well. */
	const struct {
		bool known;
		const cpu_set_t *set;
		const char *problem, *which;
	} sets[] = {
		{ h->have_present, &h->present, "does not exist", "host CPUs" },
		{ h->have_online, &h->online, "is offline", "online" },
		{ h->have_allowed, &h->allowed, "is outside qlite's CPU affinity", "allowed" },
	};
	char list[256];

	for (unsigned i = 0; i < ARRAY_SIZE(sets); i++) {
		if (!sets[i].known || CPU_ISSET(c, sets[i].set))
			continue;
		config_format_cpulist(sets[i].set, list, sizeof(list));
		return config_error(err, o, "host CPU %d %s (%s: %s)", c, sets[i].problem,
				    sets[i].which, list);
	}
	return 0;
}

static int check_host(const struct vm_spec *spec, const struct config_host *h, FILE *err)
{
	struct spec_origin tmp;
	char size[32];
	int ret;

	if (h->mem_total && spec->ram_size > h->mem_total) {
		config_format_size(spec->ram_size, size, sizeof(size));
		return config_error(err, or_default(&spec->origin_of_ram, "--ram", &tmp),
				    "%s of RAM is more than the host has (MemTotal %llu MiB)", size,
				    (unsigned long long)(h->mem_total / MiB));
	}
	if (h->max_vcpus && spec->nr_vcpus > h->max_vcpus) {
		const struct spec_origin *o = spec->origin_of_cpus.option ? &spec->origin_of_cpus :
					      &spec->origin_of_cpu_lines;

		return config_error(err, or_default(o, "--cpus", &tmp),
				    "%u vCPUs, but KVM allows at most %u (KVM_CAP_MAX_VCPUS)",
				    spec->nr_vcpus, h->max_vcpus);
	}
	for (unsigned i = 0; i < spec->nr_vcpus && i < QLITE_MAX_VCPUS; i++) {
		if (!spec->cluster_set[i])
			continue;
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (!CPU_ISSET(c, &spec->cluster[i]))
				continue;
			ret = check_cpu(h, c, &spec->origin_of_cluster[i], err);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

int config_validate_host(const struct vm_spec *spec, const struct config_host *host, FILE *err)
{
	int ret = check_files(spec, err);

	if (!ret)
		ret = config_check_outputs(spec, err);
	if (!ret)
		ret = check_host(spec, host, err);
	if (!ret)
		ret = config_check_resources(spec, err);
	return ret;
}

int config_validate(const struct vm_spec *spec, FILE *err)
{
	struct config_host host;

	config_host_probe(&host);
	return config_validate_host(spec, &host, err);
}

/* ---- ports, MMIO and IRQs ---- */

enum res_kind { RES_PIO, RES_MMIO, RES_IRQ };

struct resource {
	enum res_kind kind;
	uint64_t first, last;
	const char *owner;		/* platform device, or NULL for a vdev */
	const struct vdev_spec *vdev;
	const char *key;
};

/*
 * KVM's in-kernel devices are not on qlite's buses, so they are listed here;
 * qlite's own platform devices are read off an assembled platform (below),
 * so that only each device's file knows its ports and lines.
 */
#define RES(k, f, l, o) { .kind = (k), .first = (f), .last = (l), .owner = (o) }
static const struct resource in_kernel[] = {
	RES(RES_MMIO, LAPIC_BASE, LAPIC_BASE + LAPIC_SIZE - 1, "the LAPIC"),
	RES(RES_MMIO, 0xfffbc000, 0xfffbffff, "KVM's TSS and identity map"),
};
/*
 * What `irqchip split` leaves out of KVM: qlite's PICs (ports, ELCR and the
 * cascade IRQ), IOAPIC and PIT (ports and IRQ 0) are on the bus then, so
 * the platform lists them.
 */
static const struct resource in_kernel_irqchip[] = {
	RES(RES_IRQ, 2, 2, "the PIC cascade"),
	RES(RES_PIO, 0x20, 0x21, "the PIC"),
	RES(RES_PIO, 0x40, 0x43, "the PIT"),
	RES(RES_PIO, 0x61, 0x61, "the PIT"),
	RES(RES_PIO, 0xa0, 0xa1, "the PIC"),
	RES(RES_PIO, 0x4d0, 0x4d1, "the PIC's ELCR"),
	RES(RES_MMIO, IOAPIC_BASE, IOAPIC_BASE + IOAPIC_SIZE - 1, "the IOAPIC"),
	RES(RES_IRQ, 0, 0, "the PIT"),
};

#define PLATFORM_MAX_RESOURCES (2 * BUS_MAX_REGIONS + 32)

/* The ports, MMIO ranges and IRQs of qlite's platform devices, as they register them. */
static unsigned platform_resources(const struct vm_spec *spec, struct resource *res, unsigned max)
{
	struct bus_region r[BUS_MAX_REGIONS];
	struct uart8250 *uart;
	struct machine m;
	unsigned n = 0;

	if (platform_assemble_offline(&m, !spec->acpi_off, !spec->fw_cfg_off, spec->split_irqchip,
				      &uart) == 0) {
		for (unsigned s = 0; s < BUS_NR_SPACES; s++) {
			unsigned nr = bus_list(m.bus[s], r, BUS_MAX_REGIONS);

			for (unsigned i = 0; i < nr && i < BUS_MAX_REGIONS && n < max; i++)
				res[n++] = (struct resource)RES(s == BUS_PIO ? RES_PIO : RES_MMIO, r[i].base,
								r[i].base + r[i].len - 1, r[i].name);
		}
		for (unsigned i = 0; i < m.nr_irqs && n < max; i++)
			res[n++] = (struct resource)RES(RES_IRQ, m.irqs[i].gsi, m.irqs[i].gsi, m.irqs[i].owner);
	}
	platform_teardown_offline(&m, uart);
	return n;
}

#define IOAPIC_PINS 24

static const char *const res_names[] = { "ports", "MMIO", "IRQ" };

static void describe(const struct resource *r, char *buf, size_t len)
{
	char where[300] = "";

	if (!r->owner) {
		if (r->vdev->origin.file)
			snprintf(where, sizeof(where), " at %s:%u", r->vdev->origin.file,
				 r->vdev->origin.line);
		else if (r->vdev->origin.option)
			snprintf(where, sizeof(where), " from %s", r->vdev->origin.option);
	}
	if (r->kind == RES_IRQ)
		snprintf(buf, len, "%s%s%s", r->owner ? r->owner : "vdev ",
			 r->owner ? "" : r->vdev->type, where);
	else
		snprintf(buf, len, "%s%s%s (%#llx-%#llx)", r->owner ? r->owner : "vdev ",
			 r->owner ? "" : r->vdev->type, where, (unsigned long long)r->first,
			 (unsigned long long)r->last);
}

static int conflict(const struct resource *r, const struct resource *other, FILE *err)
{
	char with[400];

	describe(other, with, sizeof(with));
	if (r->kind == RES_IRQ)
		return config_error(err, &r->vdev->origin, "%s: IRQ %llu is also used by %s",
				    r->key, (unsigned long long)r->first, with);
	return config_error(err, &r->vdev->origin, "%s: %s %#llx-%#llx overlap %s", r->key,
			    res_names[r->kind], (unsigned long long)r->first,
			    (unsigned long long)r->last, with);
}

/* The resource of one option, if it is one; 1 when it is, 0 when not, -errno on error. */
static int opt_resource(const struct vdev_spec *vs, const struct vdev_opt *opt,
			struct resource *r, FILE *err)
{
	const struct vdev_type *t = vdev_type_lookup(vs->type);
	uint64_t base, span;
	enum vdev_opt_kind kind = vdev_opt_kind(t, opt->key);

	if (kind != VDEV_OPT_PIO && kind != VDEV_OPT_MMIO && kind != VDEV_OPT_IRQ)
		return 0;
	if (vdev_opt_span(t, vs, opt->key, &span) < 0)
		return config_error(err, &vs->origin, "%s: its size is not a positive number",
				    opt->key);
	if (config_parse_u64(opt->value, &base))
		return config_error(err, &vs->origin, "%s: bad number \"%s\"", opt->key, opt->value);
	*r = (struct resource){ .vdev = vs, .key = opt->key, .first = base };
	if (kind == VDEV_OPT_IRQ) {
		r->kind = RES_IRQ;
		r->last = base;
		if (base >= IOAPIC_PINS)
			return config_error(err, &vs->origin, "%s: IRQ %llu: the IOAPIC has pins 0-%u",
					    opt->key, (unsigned long long)base, IOAPIC_PINS - 1);
		return 1;
	}
	r->kind = kind == VDEV_OPT_PIO ? RES_PIO : RES_MMIO;
	if (span - 1 > UINT64_MAX - base)
		return config_error(err, &vs->origin, "%s: %#llx + %#llx wraps around", opt->key,
				    (unsigned long long)base, (unsigned long long)span);
	r->last = base + span - 1;
	if (r->kind == RES_PIO && r->last > 0xffff)
		return config_error(err, &vs->origin, "%s: ports %#llx-%#llx go past 0xffff",
				    opt->key, (unsigned long long)base, (unsigned long long)r->last);
	return 1;
}

int config_check_resources(const struct vm_spec *spec, FILE *err)
{
	unsigned n = 0, max = ARRAY_SIZE(in_kernel) + ARRAY_SIZE(in_kernel_irqchip) +
			      PLATFORM_MAX_RESOURCES + 2 + spec->nr_vdevs * VDEV_MAX_OPTS;
	struct guest_mem ram;
	struct resource *res = calloc(max, sizeof(*res));
	int ret = 0;

	if (!res)
		return config_nomem(err);
	memcpy(res, in_kernel, sizeof(in_kernel));
	n = ARRAY_SIZE(in_kernel);
	if (!spec->split_irqchip) {
		memcpy(res + n, in_kernel_irqchip, sizeof(in_kernel_irqchip));
		n += ARRAY_SIZE(in_kernel_irqchip);
	}
	n += platform_resources(spec, res + n, PLATFORM_MAX_RESOURCES);
	guest_mem_layout(&ram, spec->ram_size);
	for (unsigned i = 0; i < ram.nr_slots; i++)
		if (ram.slots[i].size)
			res[n++] = (struct resource)RES(RES_MMIO, ram.slots[i].gpa,
							ram.slots[i].gpa + ram.slots[i].size - 1, "guest RAM");
	for (unsigned i = 0; i < spec->nr_vdevs && !ret; i++) {
		const struct vdev_spec *vs = &spec->vdevs[i];

		for (unsigned j = 0; j < vs->nr_opts && j < VDEV_MAX_OPTS && !ret; j++) {
			struct resource r;
			int found = opt_resource(vs, &vs->opts[j], &r, err);

			if (found < 0) {
				ret = found;
				break;
			}
			if (!found)
				continue;
			for (unsigned k = 0; k < n; k++) {
				if (res[k].kind == r.kind && res[k].first <= r.last &&
				    r.first <= res[k].last) {
					ret = conflict(&r, &res[k], err);
					break;
				}
			}
			res[n++] = r;
		}
	}
	free(res);
	return ret;
}
