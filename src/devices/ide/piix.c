// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PIIX3 south bridge as QEMU's pc has it, for its IDE controller:
 * function 0 is the ISA bridge 8086:7000 (identity only: the ISA devices
 * are qlite's platform), function 1 the IDE controller 8086:7010 in
 * compatibility mode (class 01 01 80: both channels at the legacy ports
 * and ISA IRQs 14/15, bus master in BAR4). Slot 1 when free, as on QEMU;
 * else the first free slot (Linux does not mind where).
 *
 * `vdev ide file disk.img [readonly on] [slave on] [channel secondary]`
 * adds one disk; the first builds the controller, the others join it. A
 * channel's ports, IRQ and decode-enable bit (IDETIM bit 15, which
 * ata_piix checks before it probes a port) come with its first disk, so a
 * channel without disks is one the BIOS left off.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ide.h"
#include "qlite/config.h"
#include "qlite/stats.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define PIIX3_ISA_ID		0x7000
#define PIIX3_IDE_ID		0x7010
#define PIIX_IDETIM		0x40	/* primary 0x40-0x41, secondary 0x42-0x43 */
#define PIIX_IDETIM_IDE		0x8000	/* decode enable */
#define PIIX_SIDETIM		0x44
#define PIIX_PIRQRC		0x60	/* PIRQ[A-D] routing, 0x80 = not routed */

static const struct {
	const char *name, *ctl_name;
	uint16_t cmd, ctl;
	unsigned gsi;
} channel_res[IDE_CHANNELS] = {
	{ "ide-primary", "ide-primary-ctl", IDE_PRIMARY_CMD, IDE_PRIMARY_CTL, IDE_PRIMARY_IRQ },
	{ "ide-secondary", "ide-secondary-ctl", IDE_SECONDARY_CMD, IDE_SECONDARY_CTL,
	  IDE_SECONDARY_IRQ },
};

static void ide_ctrl_release(void *state)
{
	struct ide_ctrl *c = state;

	for (unsigned i = 0; i < IDE_CHANNELS; i++) {
		for (unsigned u = 0; u < IDE_UNITS; u++)
			block_image_close(c->ch[i].drive[u].img);
		free(c->ch[i].iov);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The controller an earlier `vdev ide` built on this machine, if any. */
static struct ide_ctrl *ide_ctrl_find(struct machine *m)
{
	for (unsigned i = 0; i < pci_host_nr_devices(m->pci); i++) {
		struct pci_device *d = pci_host_device(m->pci, i);

		if (le_load(d->cfg + PCI_VENDOR_ID, 2) == 0x8086 &&
		    le_load(d->cfg + PCI_DEVICE_ID, 2) == PIIX3_IDE_ID && d->opaque)
			return d->opaque;
	}
	return NULL;
}

static void piix3_isa_init(struct pci_device *isa)
{
	pci_device_init(isa, "piix3-isa", 0x8086, PIIX3_ISA_ID, 0x060100, 0);
	le_store(isa->cfg + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
		 PCI_COMMAND_MASTER, 2);
	/* Its registers are plain storage a BIOS or Linux's quirks may write (DLC at 0x82). */
	memset(isa->wmask + 0x40, 0xff, PCI_CFG_SIZE - 0x40);
	memset(isa->cfg + PIIX_PIRQRC, 0x80, 4);
}

static void piix3_ide_init(struct ide_ctrl *c)
{
	struct pci_device *ide = &c->ide;

	pci_device_init(ide, "piix3-ide", 0x8086, PIIX3_IDE_ID, 0x010180, 0);
	ide->bar[4] = (struct pci_bar){ .size = BM_SIZE, .io = true, .name = "piix3-ide-bmdma",
					.ops = &ide_bm_ops, .opaque = c };
	/* A BIOS enables bus mastering; the guest may turn it off (DMA then fails). */
	le_store(ide->cfg + PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	/* Timings are the guest's to program; the decode-enable bits are ours. */
	le_store(ide->wmask + PIIX_IDETIM, ~PIIX_IDETIM_IDE, 2);
	le_store(ide->wmask + PIIX_IDETIM + 2, ~PIIX_IDETIM_IDE, 2);
	ide->wmask[PIIX_SIDETIM] = 0xff;
	ide->opaque = c;
}

/* The exit report's entry (any thread): commands by kind, data moved, and the path it took. */
static void ide_report(void *opaque, struct device_report *out)
{
	const struct ide_stats *st = &((struct ide_ctrl *)opaque)->stats;
	uint64_t pio = stat_read(&st->pio_reads) + stat_read(&st->pio_writes);
	uint64_t dma = stat_read(&st->dma_reads) + stat_read(&st->dma_writes);

	snprintf(out->path, sizeof(out->path),
		 "%s; commands on the vCPU, interrupts injected from userspace",
		 pio && dma ? "data through the PIO data port and bus-master DMA" :
		 pio ? "data through the PIO data port" :
		 dma ? "data by bus-master DMA" : "no data moved yet");
	device_report_add(out, "pio_reads", stat_read(&st->pio_reads));
	device_report_add(out, "pio_writes", stat_read(&st->pio_writes));
	device_report_add(out, "dma_reads", stat_read(&st->dma_reads));
	device_report_add(out, "dma_writes", stat_read(&st->dma_writes));
	device_report_add(out, "flushes", stat_read(&st->flushes));
	device_report_add(out, "identifies", stat_read(&st->identifies));
	device_report_add(out, "other_commands", stat_read(&st->other));
	device_report_add(out, "sectors_read", stat_read(&st->sectors_read));
	device_report_add(out, "sectors_written", stat_read(&st->sectors_written));
	device_report_add(out, "dma_transfers", stat_read(&st->dma_transfers));
	device_report_add(out, "dma_short_prds", stat_read(&st->dma_short));
	device_report_add(out, "errors", stat_read(&st->errors));
}

static struct ide_ctrl *ide_ctrl_create(struct machine *m)
{
	struct ide_ctrl *c;
	int slot, ret;

	if (!m->pci) {
		report(-ENODEV, "ide: the machine has no PCI host");
		return NULL;
	}
	c = machine_alloc_device(m, sizeof(*c), ide_ctrl_release);
	if (!c) {
		report(-ENOMEM, "ide: out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->m = m;
	for (unsigned i = 0; i < IDE_CHANNELS; i++) {
		struct ide_channel *ch = &c->ch[i];

		ch->ctrl = c;
		ch->index = i;
		ch->name = channel_res[i].name;
		ch->ctl_name = channel_res[i].ctl_name;
		ch->cmd_base = channel_res[i].cmd;
		ch->ctl_base = channel_res[i].ctl;
		ch->gsi = channel_res[i].gsi;
		ch->iov = calloc(IDE_SG_MAX, sizeof(*ch->iov));
		if (!ch->iov) {
			report(-ENOMEM, "ide: out of memory");
			return NULL;
		}
		for (unsigned u = 0; u < IDE_UNITS; u++) {
			ch->drive[u].ch = ch;
			ch->drive[u].unit = u;
			ide_drive_reset(&ch->drive[u]);
		}
	}
	piix3_isa_init(&c->isa);
	piix3_ide_init(c);
	slot = pci_host_free_slot(m->pci, 1);
	if (slot < 0) {
		report(slot, "ide: no free PCI slot for the PIIX3");
		return NULL;
	}
	c->isa.fixed = c->ide.fixed = true;
	c->isa.slot = c->ide.slot = slot;
	c->ide.function = 1;
	/* The PCI host says why it refuses. */
	ret = pci_host_add_device(m->pci, &c->isa);
	if (ret < 0)
		return NULL;
	ret = pci_host_add_device(m->pci, &c->ide);
	if (ret < 0)
		return NULL;
	if (machine_add_report(m, "ide", NULL, ide_report, c) < 0) {
		report(-ENOMEM, "ide: out of memory");
		return NULL;
	}
	return c;
}

/* `qlite check`'s line: where the controller is and which disks it has. */
static void ide_report_summary(struct ide_ctrl *c)
{
	static const char *const place[IDE_CHANNELS][IDE_UNITS] = {
		{ "primary master", "primary slave" }, { "secondary master", "secondary slave" },
	};
	struct machine *m = c->m;

	for (unsigned i = 0; i < m->nr_reports; i++) {
		char *s = m->reports[i].summary;
		size_t len = sizeof(m->reports[i].summary), off;

		if (m->reports[i].opaque != c)
			continue;
		off = snprintf(s, len, "PIIX3 IDE 00:%02x.%u", c->ide.slot, c->ide.function);
		for (unsigned ch = 0; ch < IDE_CHANNELS; ch++)
			for (unsigned u = 0; u < IDE_UNITS && off < len; u++)
				if (c->ch[ch].drive[u].img)
					off += snprintf(s + off, len - off, ", %s %s", place[ch][u],
							c->ch[ch].drive[u].img->path);
	}
}

/* A channel's ports and IRQ, and its decode-enable bit: with its first disk. */
static int ide_channel_claim(struct ide_ctrl *c, struct ide_channel *ch)
{
	struct machine *m = c->m;
	uint8_t *idetim = c->ide.cfg + PIIX_IDETIM + 2 * ch->index;
	int ret;

	if (ch->claimed)
		return 0;
	ret = machine_claim(m, BUS_PIO, ch->cmd_base, IDE_CMD_PORTS, ch->name, &ide_cmd_ops, ch);
	if (ret < 0)
		return ret;
	ret = machine_claim(m, BUS_PIO, ch->ctl_base, IDE_CTL_PORTS, ch->ctl_name, &ide_ctl_ops,
			    ch);
	if (ret < 0)
		return ret;
	ret = machine_claim_irq(m, ch->gsi, ch->name, false);
	if (ret < 0)
		return ret;
	le_store(idetim, le_load(idetim, 2) | PIIX_IDETIM_IDE, 2);
	ch->claimed = true;
	return 0;
}

/* ---- vdev ide ---- */

static bool opt_on(const struct vdev_spec *vs, const char *key)
{
	const char *v = vdev_opt_get(vs, key);
	bool on = false;

	return v && !config_parse_bool(v, &on) && on;
}

static int ide_vdev_create(struct machine *m, const struct vdev_spec *vs)
{
	const char *file = vdev_opt_get(vs, "file"), *channel = vdev_opt_get(vs, "channel");
	unsigned chan = channel && !strcmp(channel, "secondary"), unit = opt_on(vs, "slave");
	struct block_image *img;
	struct ide_drive *d;
	struct ide_ctrl *c;
	int ret;

	/* The parser made sure of file; a spec built by hand may still lack it. */
	if (!file)
		return report(-EINVAL, "ide: no disk: add file PATH");
	c = m->pci ? ide_ctrl_find(m) : NULL;
	if (c && c->ch[chan].drive[unit].img)
		return report(-EBUSY, "ide: the %s %s already has a disk (%s)",
			      chan ? "secondary" : "primary", unit ? "slave" : "master",
			      c->ch[chan].drive[unit].img->path);
	ret = block_image_open(&img, file, opt_on(vs, "readonly"), opt_on(vs, "direct"));
	if (ret < 0)
		return ret;
	if (!c)
		c = ide_ctrl_create(m);
	if (!c) {
		block_image_close(img);
		return -ENODEV;
	}
	ret = ide_channel_claim(c, &c->ch[chan]);
	if (ret < 0) {
		block_image_close(img);
		return ret;
	}
	pthread_mutex_lock(&c->lock);
	d = &c->ch[chan].drive[unit];
	d->img = img;
	snprintf(d->serial, sizeof(d->serial), "QL%05u", 2 * chan + unit + 1);
	/*
	 * Power-on defaults, as QEMU's ide-hd: CHS 16 heads, 63 sectors; caches
	 * on; UDMA 5 selected; multiple mode on, 16 sectors a block.
	 */
	d->heads = 16;
	d->spt = 63;
	d->cyls = img->sectors / (16 * 63) < 16383 ? img->sectors / (16 * 63) : 16383;
	d->xfer_mode = 0x45;
	d->wcache = d->lookahead = true;
	d->mult = IDE_MAX_MULTIPLE;
	ide_drive_reset(d);
	pthread_mutex_unlock(&c->lock);
	ide_report_summary(c);
	return 0;
}

static const struct vdev_opt_desc ide_opts[] = {
	{ "file", VDEV_OPT_IMAGE, .readonly_opt = "readonly", .required = true,
	  .help = "the disk: a raw image file, locked while qlite runs" },
	{ "readonly", VDEV_OPT_BOOL, .help = "open the image read-only; writes fail (ABRT)" },
	{ "slave", VDEV_OPT_BOOL, .help = "device 1 of the channel (default: device 0, master)" },
	{ "channel", VDEV_OPT_ENUM, .choices = "primary|secondary",
	  .help = "primary: ports 0x1f0-0x1f7, 0x3f6, IRQ 14 (default); secondary: 0x170-0x177, "
		  "0x376, IRQ 15" },
	{ "direct", VDEV_OPT_BOOL, .help = "O_DIRECT: bypass the host page cache" },
	{ .key = NULL }
};

const struct vdev_type ide_vdev = {
	.name = "ide",
	.help = "A disk on QEMU pc's IDE controller: the PIIX3 at 00:01.0 (ISA bridge) and "
		"00:01.1 (IDE, compatibility mode, bus master DMA in BAR4), built once for all "
		"disks; Linux drives it with ata_piix",
	.opts = ide_opts,
	.create = ide_vdev_create,
};
