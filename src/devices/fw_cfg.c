// SPDX-License-Identifier: GPL-2.0-only
/*
 * QEMU's fw_cfg at its x86 ports (docs/specs/fw_cfg.rst in QEMU):
 *   0x510  SELECTOR  16-bit write selects an item and rewinds it
 *   0x511  DATA      8-bit read: the next byte (0 past the end)
 *   0x514  DMA_HI    big-endian address of a FWCfgDmaAccess, high half
 *   0x518  DMA_LO    ...low half: writing it runs the transfer
 * QEMU decodes 0x510-0x511 as one region taking 8-bit reads and writes at
 * either port and 16-bit writes: a byte read of 0x510 is a DATA read, byte
 * writes (the data writes QEMU dropped in 2.4) do nothing, and a wider read
 * is not decoded and returns 0. Reads of the DMA ports return "QEMU CFG".
 *
 * A transfer reads the descriptor {control, length, address} from guest
 * RAM, optionally selects (key in control's top 16 bits), then reads
 * (copies the item to address, zeros past its end), skips, or writes (every
 * item here is read-only: ERROR), and stores the outcome in control: 0, or
 * ERROR when a guest range is not RAM. A descriptor outside RAM gets ERROR
 * where it can be written, and nothing else happens.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/devices.h"
#include "qlite/dma.h"
#include "qlite/fw_cfg.h"
#include "qlite/util.h"

#define NR_KEYS		(FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)
#define INVALID_KEY	0xffff		/* no item selected: reads give 0 */
#define DIR_ENTRY	64		/* FWCfgFile: size, select, reserved, name[56] */
#define DMA_DESC_LEN	16

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg {
	struct machine *m;
	pthread_mutex_t lock;		/* vCPUs select, read and transfer concurrently */
	struct fw_cfg_item items[2][NR_KEYS];	/* [generic, arch-local][key & ENTRY_MASK] */
	uint8_t dir[FW_CFG_FILE_DIR_SIZE];	/* FW_CFG_FILE_DIR: all slots, as QEMU sizes it */
	uint16_t cur;			/* the selected key, or INVALID_KEY */
	uint32_t off;			/* the read pointer in it */
	uint64_t dma_addr;		/* the descriptor address being written */
	_Atomic uint64_t selects, dma_ok, dma_errors, dma_bytes;
};

static uint64_t be_load(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

static void be_store(uint8_t *p, uint64_t v, unsigned len)
{
	for (unsigned i = len; i--; v >>= 8)
		p[i] = v;
}

static void count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* ---- items ---- */

static struct fw_cfg_item *item(struct fw_cfg *fw, uint16_t key)
{
	if (key == INVALID_KEY || (key & FW_CFG_ENTRY_MASK) >= NR_KEYS)
		return NULL;
	return &fw->items[!!(key & FW_CFG_ARCH_LOCAL)][key & FW_CFG_ENTRY_MASK];
}

/* Under the lock. As QEMU: a key past the table selects nothing; the offset rewinds either way. */
static void select_key(struct fw_cfg *fw, uint16_t key)
{
	fw->off = 0;
	fw->cur = (key & FW_CFG_ENTRY_MASK) < NR_KEYS ? key : INVALID_KEY;
	count(&fw->selects, 1);
}

int fw_cfg_add_bytes(struct fw_cfg *fw, uint16_t key, const void *data, size_t len)
{
	struct fw_cfg_item *it = item(fw, key);
	uint8_t *copy;

	if (!it || len > UINT32_MAX)
		return -EINVAL;
	if (it->data)
		return -EEXIST;
	/* An empty item still exists (bootorder): one byte so that data says so. */
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	*it = (struct fw_cfg_item){ .data = copy, .len = len };
	return 0;
}

int fw_cfg_add_le(struct fw_cfg *fw, uint16_t key, uint64_t value, unsigned len)
{
	uint8_t b[8];

	if (len > sizeof(b))
		return -EINVAL;
	le_store(b, value, len);
	return fw_cfg_add_bytes(fw, key, b, len);
}

static uint8_t *dir_entry(struct fw_cfg *fw, unsigned i)
{
	return fw->dir + 4 + i * DIR_ENTRY;
}

int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, size_t len)
{
	unsigned n = be_load(fw->dir, 4), at = n;
	struct fw_cfg_item *files = &fw->items[0][FW_CFG_FILE_FIRST];
	int ret;

	if (strlen(name) >= FW_CFG_FILE_NAME_MAX)
		return -ENAMETOOLONG;
	if (len > UINT32_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!strcmp((char *)dir_entry(fw, i) + 8, name))
			return -EEXIST;
	if (n >= FW_CFG_FILE_SLOTS)
		return -ENOSPC;
	/* Sorted by name: the later ones move up a slot, and their selectors with them. */
	while (at > 0 && strcmp(name, (char *)dir_entry(fw, at - 1) + 8) < 0)
		at--;
	memmove(dir_entry(fw, at + 1), dir_entry(fw, at), (n - at) * DIR_ENTRY);
	memmove(&files[at + 1], &files[at], (n - at) * sizeof(*files));
	files[at] = (struct fw_cfg_item){ 0 };
	ret = fw_cfg_add_bytes(fw, FW_CFG_FILE_FIRST + at, data, len);
	if (ret < 0) {
		memmove(dir_entry(fw, at), dir_entry(fw, at + 1), (n - at) * DIR_ENTRY);
		memmove(&files[at], &files[at + 1], (n - at) * sizeof(*files));
		files[n] = (struct fw_cfg_item){ 0 };
		memset(dir_entry(fw, n), 0, DIR_ENTRY);
		return ret;
	}
	memset(dir_entry(fw, at), 0, DIR_ENTRY);
	be_store(dir_entry(fw, at), len, 4);
	memcpy(dir_entry(fw, at) + 8, name, strlen(name) + 1);
	for (unsigned i = at; i <= n; i++)
		be_store(dir_entry(fw, i) + 4, FW_CFG_FILE_FIRST + i, 2);
	be_store(fw->dir, n + 1, 4);
	return 0;
}

/* ---- the selector and data ports ---- */

static uint8_t data_read(struct fw_cfg *fw)
{
	const struct fw_cfg_item *it;
	uint8_t v = 0;

	pthread_mutex_lock(&fw->lock);
	it = item(fw, fw->cur);
	if (it && it->data && fw->off < it->len)
		v = it->data[fw->off++];
	pthread_mutex_unlock(&fw->lock);
	return v;
}

static void port_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	memset(data, 0, len);
	if (len == 1)
		*(uint8_t *)data = data_read(opaque);
}

static void port_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct fw_cfg *fw = opaque;

	if (len != 2 || offset != 0)
		return;
	pthread_mutex_lock(&fw->lock);
	select_key(fw, le_load(data, 2));
	pthread_mutex_unlock(&fw->lock);
}

static const char *port_reg_name(void *opaque, uint64_t offset)
{
	return offset ? "DATA" : "SELECTOR";
}

static const struct bus_ops fw_cfg_port_ops = {
	.read = port_read,
	.write = port_write,
	.reg_name = port_reg_name,
};

/* ---- DMA ---- */

/* Copy n bytes of src (NULL: zeros) to [gpa, gpa + n), all RAM or nothing. */
static int dma_to_guest(struct fw_cfg *fw, uint64_t gpa, const uint8_t *src, uint32_t n)
{
	struct iovec iov[1];
	struct dma_sg sg;
	int ret;

	dma_sg_init(&sg, fw->m->mem, iov, 1);
	ret = dma_sg_add(&sg, gpa, n);
	if (ret < 0)
		return ret;
	if (src)
		dma_sg_to(&sg, 0, src, n);
	else
		memset(iov[0].iov_base, 0, n);
	count(&fw->dma_bytes, n);
	return 0;
}

/* Under the lock: one FWCfgDmaAccess at desc. */
static void dma_transfer(struct fw_cfg *fw, uint64_t desc)
{
	uint8_t d[DMA_DESC_LEN], status[4];
	uint32_t control, length, result = 0;
	uint64_t addr;

	if (!fw->m->mem || guest_mem_read(fw->m->mem, desc, d, sizeof(d)) < 0) {
		be_store(status, FW_CFG_DMA_ERROR, 4);
		if (fw->m->mem)
			guest_mem_write(fw->m->mem, desc, status, 4);
		count(&fw->dma_errors, 1);
		return;
	}
	control = be_load(d, 4);
	length = be_load(d + 4, 4);
	addr = be_load(d + 8, 8);
	if (control & FW_CFG_DMA_SELECT)
		select_key(fw, control >> 16);
	/* One operation, READ first, as QEMU tests them; none: nothing moves. */
	if (control & FW_CFG_DMA_READ)
		control = FW_CFG_DMA_READ;
	else if (control & FW_CFG_DMA_WRITE)
		control = FW_CFG_DMA_WRITE;
	else if (control & FW_CFG_DMA_SKIP)
		control = FW_CFG_DMA_SKIP;
	else
		length = 0;

	while (length && !result) {
		const struct fw_cfg_item *it = item(fw, fw->cur);
		uint32_t n = length;

		if (!it || !it->data || fw->off >= it->len) {
			/* Past the end: a read gets zeros, a write has nowhere to go. */
			if (control == FW_CFG_DMA_READ && dma_to_guest(fw, addr, NULL, n) < 0)
				result = FW_CFG_DMA_ERROR;
			if (control == FW_CFG_DMA_WRITE)
				result = FW_CFG_DMA_ERROR;
		} else {
			if (n > it->len - fw->off)
				n = it->len - fw->off;
			if (control == FW_CFG_DMA_READ &&
			    dma_to_guest(fw, addr, it->data + fw->off, n) < 0)
				result = FW_CFG_DMA_ERROR;
			/* Every item here is read-only. */
			if (control == FW_CFG_DMA_WRITE)
				result = FW_CFG_DMA_ERROR;
			fw->off += n;
		}
		addr += n;
		length -= n;
	}
	be_store(status, result, 4);
	guest_mem_write(fw->m->mem, desc, status, 4);
	count(result ? &fw->dma_errors : &fw->dma_ok, 1);
}

static void dma_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	/* QEMU takes only aligned reads; the rest read 0. */
	memset(data, 0, len);
	if (offset % len == 0)
		memcpy(data, FW_CFG_DMA_SIGNATURE + offset, len);
}

static void dma_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct fw_cfg *fw = opaque;
	uint64_t v = be_load(data, len);

	pthread_mutex_lock(&fw->lock);
	if (len == 4 && offset == 0) {
		fw->dma_addr = v << 32;
	} else if ((len == 4 && offset == 4) || (len == 8 && offset == 0)) {
		uint64_t desc = len == 8 ? v : fw->dma_addr | v;

		/* The register reads as 0 again before the transfer starts. */
		fw->dma_addr = 0;
		dma_transfer(fw, desc);
	}
	pthread_mutex_unlock(&fw->lock);
}

static const char *dma_reg_name(void *opaque, uint64_t offset)
{
	return offset < 4 ? "DMA_HI" : "DMA_LO";
}

static const struct bus_ops fw_cfg_dma_ops = {
	.read = dma_read,
	.write = dma_write,
	.reg_name = dma_reg_name,
};

/* ---- the device ---- */

static void fw_cfg_report(void *opaque, struct device_report *out)
{
	struct fw_cfg *fw = opaque;

	snprintf(out->path, sizeof(out->path), "%u files, DMA interface on",
		 (unsigned)be_load(fw->dir, 4));
	device_report_add(out, "selects", atomic_load_explicit(&fw->selects, memory_order_relaxed));
	device_report_add(out, "dma_ok", atomic_load_explicit(&fw->dma_ok, memory_order_relaxed));
	device_report_add(out, "dma_errors",
			  atomic_load_explicit(&fw->dma_errors, memory_order_relaxed));
	device_report_add(out, "dma_bytes",
			  atomic_load_explicit(&fw->dma_bytes, memory_order_relaxed));
}

static void fw_cfg_release(void *state)
{
	struct fw_cfg *fw = state;

	for (unsigned a = 0; a < 2; a++)
		for (unsigned k = 0; k < NR_KEYS; k++)
			if (fw->items[a][k].data != fw->dir)
				free(fw->items[a][k].data);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}

/* What QEMU's pc has whatever it boots. */
static int add_fixed_items(struct fw_cfg *fw)
{
	static const uint8_t uuid[16];
	int ret;

	fw->items[0][FW_CFG_FILE_DIR] = (struct fw_cfg_item){ .data = fw->dir,
							       .len = sizeof(fw->dir) };
	ret = fw_cfg_add_bytes(fw, FW_CFG_SIGNATURE, "QEMU", 4);
	if (!ret)
		ret = fw_cfg_add_le(fw, FW_CFG_ID, FW_CFG_VERSION | FW_CFG_VERSION_DMA, 4);
	if (!ret)
		ret = fw_cfg_add_bytes(fw, FW_CFG_UUID, uuid, sizeof(uuid));
	/* No display: as QEMU's -nographic. */
	if (!ret)
		ret = fw_cfg_add_le(fw, FW_CFG_NOGRAPHIC, 1, 2);
	if (!ret)
		ret = fw_cfg_add_le(fw, FW_CFG_BOOT_MENU, 0, 2);
	/* Seconds a BIOS waits before retrying a failed boot: -1, never, QEMU's default. */
	if (!ret)
		ret = fw_cfg_add_file(fw, "etc/boot-fail-wait", (const uint8_t[]){ 0xff, 0xff, 0xff,
										   0xff }, 4);
	/* No device asks for a boot index. */
	if (!ret)
		ret = fw_cfg_add_file(fw, "bootorder", "", 0);
	return ret;
}

int fw_cfg_create(struct machine *m)
{
	struct fw_cfg *fw = machine_alloc_device(m, sizeof(*fw), fw_cfg_release);
	char summary[128];
	int ret;

	if (!fw)
		return -ENOMEM;
	fw->m = m;
	fw->cur = FW_CFG_SIGNATURE;	/* QEMU's reset state */
	pthread_mutex_init(&fw->lock, NULL);
	ret = add_fixed_items(fw);
	if (ret < 0)
		return report(ret, "fw-cfg: %s", strerror(-ret));
	ret = machine_claim(m, BUS_PIO, FW_CFG_PORT_SEL, 2, "fw-cfg", &fw_cfg_port_ops, fw);
	if (ret < 0)
		return ret;
	ret = machine_claim(m, BUS_PIO, FW_CFG_PORT_DMA, 8, "fw-cfg", &fw_cfg_dma_ops, fw);
	if (ret < 0)
		return ret;
	snprintf(summary, sizeof(summary), "pio %#x-%#x (selector, data), %#x-%#x (DMA)",
		 FW_CFG_PORT_SEL, FW_CFG_PORT_SEL + 1, FW_CFG_PORT_DMA, FW_CFG_PORT_DMA + 7);
	ret = machine_add_report(m, "fw-cfg", summary, fw_cfg_report, fw);
	if (ret < 0)
		return ret;
	m->fw_cfg = fw;
	return 0;
}
