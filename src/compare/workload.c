// SPDX-License-Identifier: GPL-2.0-only
/*
 * The workloads of `qlite compare` and the test guest's words for each
 * device kind (tests/guest/README.md has the scenarios). A new workload or
 * device is a line in one of the two tables: a workload's words name the
 * device's by {blk} or {nic}; a device's words use the workload's numbers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/compare.h"
#include "qlite/config.h"
#include "qlite/vdev.h"
#include "qlite/vm_spec.h"

#define MiB		(1024.0 * 1024.0)
#define MMIO_SLOT0	0xfed00000ull	/* where a virtio-mmio transport goes by default */
#define MMIO_SLOT	0x1000ull
#define MMIO_SLOTS	32

static const struct cmp_workload_def {
	const char *name, *unit;
	bool nic;
	uint64_t count, size;	/* defaults: blk bytes and request size; net frames and size */
	double per_count;	/* units of work per count: per byte (in MiB) or per frame */
	const char *words, *until, *what;
} workloads[] = {
	{ "blk-write", "MiB", false, 4 << 20, 64 << 10, 1.0 / MiB,
	  "flushed {blk}", "qlite-test-guest: flushed",
	  "writes BYTES from sector 0 in requests of SIZE, one flush; the run ends at the guest's "
	  "'flushed' line" },
	{ "blk-read", "MiB", false, 4 << 20, 64 << 10, 2.0 / MiB, "{blk}", NULL,
	  "the guest has no read-only scenario: writes BYTES, flushes, reads them back and "
	  "checks them; a MiB of work is a MiB moved either way (2 x BYTES a run)" },
	{ "net-tx", "frame", true, 1000, 1514, 1, "nic={nic} net-tx={count},{size}", NULL,
	  "sends N frames of SIZE bytes" },
	{ "net-rx", "frame", true, 1000, 0, 1, "nic={nic} net-rx={count}", NULL,
	  "receives N frames; they must come from a peer on the NIC's backend "
	  "(tests/integration/net_peer.py on backend socket): compare starts none" },
	{ "net-echo", "frame", true, 1000, 64, 1, "nic={nic} net-echo={count},{size}", NULL,
	  "N round trips of SIZE-byte frames (a unit: a frame out and its echo back); the "
	  "echo must come from a peer, as for net-rx" },
};

/* regions: the exit report's names of the device's bus regions (prefixes, '|' between). */
static const struct {
	const char *kind, *type, *transport;	/* the vdev type and its transport option */
	bool disk;
	const char *words, *regions;
} kinds[] = {
	{ "ide", "ide", NULL, true, "ide-dma={sectors},{req_sectors}", "ide-|piix3-ide" },
	{ "virtio-blk-pci", "virtio-blk", "pci", true, "vblk={requests},{size}", "virtio-blk" },
	{ "virtio-blk-mmio", "virtio-blk", "mmio", true, "vblk-mmio={addr},{requests},{size}",
	  "virtio-blk" },
	{ "e1000", "e1000", NULL, false, "e1000", "e1000" },
	{ "virtio-net-pci", "virtio-net", "pci", false, "virtio", "virtio-net" },
	{ "virtio-net-mmio", "virtio-net", "mmio", false, "virtio-mmio:{addr}", "virtio-net" },
};

static const struct cmp_workload_def *workload_def(const char *name)
{
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (!strcmp(workloads[i].name, name))
			return &workloads[i];
	return NULL;
}

bool cmp_workload_help(unsigned i, char *buf, size_t len)
{
	const struct cmp_workload_def *d;
	char count[24], size[24];

	if (i >= sizeof(workloads) / sizeof(workloads[0]))
		return false;
	d = &workloads[i];
	if (d->nic) {
		snprintf(count, sizeof(count), "%llu", (unsigned long long)d->count);
		snprintf(size, sizeof(size), "%llu", (unsigned long long)d->size);
	} else {
		config_format_size(d->count, count, sizeof(count));
		config_format_size(d->size, size, sizeof(size));
	}
	if (d->size)
		snprintf(buf, len, "`%s[:%s[,SIZE]]` (default %s,%s; per %s): %s", d->name,
			 d->nic ? "N" : "BYTES", count, size, d->unit, d->what);
	else
		snprintf(buf, len, "`%s[:N]` (default %s; per %s): %s", d->name, count, d->unit,
			 d->what);
	return true;
}

static bool slot_used(const uint64_t *used, unsigned n, uint64_t addr)
{
	for (unsigned i = 0; i < n; i++)
		if (used[i] == addr)
			return true;
	return false;
}

/*
 * virtio-mmio windows as the VM assembly gives them: an explicit addr, else
 * the first free slot from 0xfed00000, in vdev order.
 */
static uint64_t mmio_addr(const struct vm_spec *spec, unsigned which)
{
	uint64_t used[MMIO_SLOTS + VDEV_MAX_OPTS];
	unsigned n = 0;
	uint64_t addr = 0;

	for (unsigned i = 0; i < spec->nr_vdevs && n < MMIO_SLOTS; i++) {
		const char *t = vdev_opt_get(&spec->vdevs[i], "transport");
		const char *a = vdev_opt_get(&spec->vdevs[i], "addr");

		if (t && !strcmp(t, "mmio") && a && !config_parse_u64(a, &addr))
			used[n++] = addr;
	}
	for (unsigned i = 0; i <= which && i < spec->nr_vdevs; i++) {
		const char *t = vdev_opt_get(&spec->vdevs[i], "transport");
		const char *a = vdev_opt_get(&spec->vdevs[i], "addr");

		if (!t || strcmp(t, "mmio"))
			continue;
		if (a && !config_parse_u64(a, &addr))
			continue;
		for (addr = MMIO_SLOT0; slot_used(used, n, addr); addr += MMIO_SLOT)
			;
		if (n < MMIO_SLOTS + VDEV_MAX_OPTS)
			used[n++] = addr;
	}
	return addr;
}

int cmp_find_device(const struct vm_spec *spec, bool nic, struct cmp_device *dev,
		    char *why, size_t len)
{
	for (unsigned i = 0; i < spec->nr_vdevs; i++) {
		const struct vdev_spec *vs = &spec->vdevs[i];
		const char *transport = vdev_opt_get(vs, "transport");

		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			if (strcmp(kinds[k].type, vs->type) || kinds[k].disk == nic)
				continue;
			if (kinds[k].transport &&
			    strcmp(kinds[k].transport, transport ? transport : "pci"))
				continue;
			*dev = (struct cmp_device){ .kind = kinds[k].kind, .disk = kinds[k].disk,
						    .regions = kinds[k].regions, .vdev = i };
			if (transport && !strcmp(transport, "mmio"))
				dev->addr = mmio_addr(spec, i);
			return 0;
		}
	}
	snprintf(why, len, "no %s the workloads know (%s)", nic ? "NIC" : "disk",
		 nic ? "vdev e1000, virtio-net" : "vdev ide, virtio-blk");
	return -ENODEV;
}

int cmp_workload_parse(struct cmp_workload *w, const char *arg, const char *until,
		       char *why, size_t len)
{
	const struct cmp_workload_def *d;
	char name[64], *colon, *comma;
	uint64_t v;

	memset(w, 0, sizeof(*w));
	snprintf(w->spec, sizeof(w->spec), "%s", arg ? arg : until ? "boot" : "blk-write");
	if (until) {
		if (arg) {
			snprintf(why, len, "--until makes the workload the boot itself: no --workload");
			return -EINVAL;
		}
		w->name = "boot";
		w->unit = "boot";
		w->units = 1;
		w->until = until;
		w->what = "the config's own kernel and command line, up to the --until line";
		return 0;
	}
	snprintf(name, sizeof(name), "%s", w->spec);
	colon = strchr(name, ':');
	if (colon)
		*colon = '\0';
	d = workload_def(name);
	if (!d) {
		snprintf(why, len, "%s: no such workload (blk-write, blk-read, net-tx, net-rx, "
			 "net-echo; or --until LINE for a boot)", name);
		return -EINVAL;
	}
	w->name = d->name;
	w->unit = d->unit;
	w->nic = d->nic;
	w->count = d->count;
	w->size = d->size;
	w->until = d->until;
	w->what = d->what;
	colon = strchr(w->spec, ':');
	if (colon) {
		char copy[64];

		snprintf(copy, sizeof(copy), "%s", colon + 1);
		comma = strchr(copy, ',');
		if (comma)
			*comma++ = '\0';
		if ((d->nic ? config_parse_u64(copy, &v) : config_parse_size(copy, &v)) || !v) {
			snprintf(why, len, "%s: bad count \"%s\"", w->spec, copy);
			return -EINVAL;
		}
		w->count = v;
		if (comma) {
			if (config_parse_size(comma, &v) || !v) {
				snprintf(why, len, "%s: bad size \"%s\"", w->spec, comma);
				return -EINVAL;
			}
			w->size = v;
		}
	}
	if (!d->nic) {
		/* The guest's limits: whole sectors, requests of at most 128 KiB. */
		if (w->size % 512 || w->size > 128 << 10 || w->count % w->size) {
			snprintf(why, len, "%s: the size of a request must be a multiple of 512 "
				 "up to 128K, and divide the bytes", w->spec);
			return -EINVAL;
		}
		if (w->count > 1ull << 30) {
			snprintf(why, len, "%s: at most 1G", w->spec);
			return -EINVAL;
		}
	} else if (w->count > 100000000 || (d->size && (w->size < 60 || w->size > 1514))) {
		/* The guest's limits: Ethernet frames without FCS. */
		snprintf(why, len, "%s: at most 100000000 frames of 60 to 1514 bytes", w->spec);
		return -EINVAL;
	}
	w->units = (double)w->count * d->per_count;
	return 0;
}

uint64_t cmp_workload_image_size(const struct cmp_workload *w)
{
	/* The bytes written and a margin; 1 MiB at least. */
	return w->nic || !w->count ? 0 : ((w->count + (2 << 20) - 1) & ~((1ull << 20) - 1));
}

/* Expand {name} from vars (name=value pairs) into out; -ENOSPC, -ENOENT. */
static int expand(const char *tmpl, const char *const vars[][2], size_t nr, char *out,
		  size_t len)
{
	size_t n = 0;

	while (*tmpl) {
		const char *end;
		const char *val = NULL;
		size_t vlen;

		if (*tmpl != '{') {
			if (n + 1 >= len)
				return -ENOSPC;
			out[n++] = *tmpl++;
			continue;
		}
		end = strchr(tmpl, '}');
		if (!end)
			return -ENOENT;
		for (size_t i = 0; i < nr; i++)
			if (strlen(vars[i][0]) == (size_t)(end - tmpl - 1) &&
			    !strncmp(vars[i][0], tmpl + 1, end - tmpl - 1))
				val = vars[i][1];
		if (!val)
			return -ENOENT;
		vlen = strlen(val);
		if (n + vlen >= len)
			return -ENOSPC;
		memcpy(out + n, val, vlen);
		n += vlen;
		tmpl = end + 1;
	}
	out[n] = '\0';
	return 0;
}

int cmp_workload_words(const struct cmp_workload *w, const struct cmp_device *dev,
		       char *words, size_t len)
{
	const struct cmp_workload_def *d = workload_def(w->name);
	char count[24], size[24], sectors[24], req_sectors[24], requests[24], addr[24];
	char devwords[128];
	const char *dev_tmpl = NULL;
	int ret;

	if (!d)
		return -ENOENT;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcmp(kinds[k].kind, dev->kind) && kinds[k].disk != d->nic)
			dev_tmpl = kinds[k].words;
	if (!dev_tmpl)
		return -ENOENT;
	snprintf(count, sizeof(count), "%llu", (unsigned long long)w->count);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)w->size);
	snprintf(sectors, sizeof(sectors), "%llu", (unsigned long long)(w->count / 512));
	snprintf(req_sectors, sizeof(req_sectors), "%llu", (unsigned long long)(w->size / 512));
	snprintf(requests, sizeof(requests), "%llu",
		 (unsigned long long)(w->size ? w->count / w->size : 0));
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)dev->addr);
	{
		const char *const vars[][2] = {
			{ "count", count }, { "size", size }, { "sectors", sectors },
			{ "req_sectors", req_sectors }, { "requests", requests }, { "addr", addr },
		};

		ret = expand(dev_tmpl, vars, sizeof(vars) / sizeof(vars[0]), devwords,
			     sizeof(devwords));
		if (!ret) {
			const char *const all[][2] = {
				{ "count", count }, { "size", size }, { "blk", devwords },
				{ "nic", devwords },
			};

			ret = expand(d->words, all, sizeof(all) / sizeof(all[0]), words, len);
		}
	}
	return ret;
}
