// SPDX-License-Identifier: GPL-2.0-only
/*
 * fwcfg.c - QEMU's fw_cfg from the guest's side (ports 0x510/0x511, DMA at 0x514).
 *
 * `fw-cfg`: reads the signature, the ID, the file directory and etc/e820
 * through the data port, then the same four through DMA (big-endian
 * descriptor in RAM, its address written as two 32-bit halves, high first,
 * as Linux's qemu_fw_cfg does), and FAILs when the two differ or a
 * transfer ends with ERROR. It also reads the DMA port's signature and
 * makes one 16-bit read of 0x510 (not a width QEMU decodes there), then
 * checks that it did not move the data offset; last, the kernel command
 * line: CMDLINE_SIZE by the port, CMDLINE_DATA by DMA. It prints
 *   fw-cfg: signature QEMU id 0x3 files N e820 K entries
 *   fw-cfg: dma signature QEMU CFG, 16-bit read of 0x510: 0xV
 *   fw-cfg: file 0xSELECT SIZE NAME        (one line per file)
 *   fw-cfg: e820 0xADDR 0xSIZE TYPE        (one line per entry)
 *   fw-cfg: cmdline SIZE "TEXT"
 * Exits: selector writes 6, selector reads 1 (the 16-bit one), data reads
 * 17 + 64 N + 20 K, DMA_HI and DMA_LO one read each (the signature) and one
 * write each per transfer (6 transfers).
 */
#include "guest.h"

#define PORT_SEL	0x510
#define PORT_DATA	0x511
#define PORT_DMA	0x514
#define KEY_SIGNATURE	0x00
#define KEY_ID		0x01
#define KEY_CMDLINE_SIZE 0x14
#define KEY_CMDLINE_DATA 0x15
#define KEY_FILE_DIR	0x19
#define MAX_CMDLINE	256
#define DMA_ERROR	0x01
#define DMA_READ	0x02
#define DMA_SELECT	0x08
#define MAX_FILES	64
#define MAX_E820	32

struct dma_access {
	uint32_t control, length;
	uint64_t address;
} __attribute__((packed, aligned(16)));

struct file_entry {
	uint32_t size;
	uint16_t select, reserved;
	char name[56];
} __attribute__((packed));

/* Identity-mapped: the addresses of these are the physical ones DMA needs. */
static struct dma_access desc;
static uint8_t dma_buf[MAX_FILES * sizeof(struct file_entry)] __attribute__((aligned(64)));
static uint8_t port_buf[MAX_FILES * sizeof(struct file_entry)];
static uint8_t e820_dma[MAX_E820 * 20] __attribute__((aligned(64)));
static uint8_t e820_port[MAX_E820 * 20];
static char cmdline[MAX_CMDLINE] __attribute__((aligned(64)));

static void port_read(uint16_t key, bool select, void *buf, uint32_t len)
{
	if (select)
		outw(PORT_SEL, key);
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = inb(PORT_DATA);
}

static void dma_read(uint16_t key, bool select, void *buf, uint32_t len)
{
	uint64_t pa = (uint64_t)(uintptr_t)&desc;

	desc.control = __builtin_bswap32((uint32_t)key << 16 | (select ? DMA_SELECT : 0) |
					 DMA_READ);
	desc.length = __builtin_bswap32(len);
	desc.address = __builtin_bswap64((uint64_t)(uintptr_t)buf);
	mb();
	outl(PORT_DMA, __builtin_bswap32(pa >> 32));
	outl(PORT_DMA + 4, __builtin_bswap32((uint32_t)pa));
	mb();
	if (desc.control)
		fail("fw-cfg: DMA of key 0x%x, %u bytes: control 0x%x", key, len,
		     __builtin_bswap32(desc.control));
}

static void same(const char *what, const void *a, const void *b, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (((const uint8_t *)a)[i] != ((const uint8_t *)b)[i])
			fail("fw-cfg: %s: port and DMA differ at byte %u", what, i);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

void do_fw_cfg(const char *word, char *arg)
{
	struct file_entry *dir = (struct file_entry *)port_buf;
	char sig[5] = { 0 }, dma_sig[9] = { 0 };
	uint8_t id[4], clb[4], after_wide;
	uint32_t n, cl, e820_size = 0;
	uint16_t e820_key = 0, wide;

	if (arg)
		fail("%s: takes no argument", word);
	port_read(KEY_SIGNATURE, true, sig, 4);
	if (sig[0] != 'Q' || sig[1] != 'E' || sig[2] != 'M' || sig[3] != 'U')
		fail("fw-cfg: no signature (read %02x %02x %02x %02x)", sig[0] & 0xff,
		     sig[1] & 0xff, sig[2] & 0xff, sig[3] & 0xff);
	port_read(KEY_ID, true, id, 4);
	if (!(le32(id) & 2))
		fail("fw-cfg: ID 0x%x: no DMA interface", le32(id));
	for (int i = 0; i < 2; i++) {
		uint32_t v = inl(PORT_DMA + 4 * i);

		for (int j = 0; j < 4; j++)
			dma_sig[4 * i + j] = v >> (8 * j);
	}
	/* A 16-bit read of 0x510 is not decoded: the next byte is still the first. */
	outw(PORT_SEL, KEY_SIGNATURE);
	wide = inw(PORT_SEL);
	after_wide = inb(PORT_DATA);
	if (after_wide != 'Q')
		fail("fw-cfg: after a 16-bit read of 0x510 the data port gave 0x%x", after_wide);

	port_read(KEY_FILE_DIR, true, port_buf, 4);
	n = __builtin_bswap32(le32(port_buf));
	if (n > MAX_FILES)
		fail("fw-cfg: %u files, more than %u", n, MAX_FILES);
	port_read(KEY_FILE_DIR, false, port_buf, n * sizeof(*dir));
	for (uint32_t i = 0; i < n; i++) {
		if (!strcmp(dir[i].name, "etc/e820")) {
			e820_key = __builtin_bswap16(dir[i].select);
			e820_size = __builtin_bswap32(dir[i].size);
		}
	}
	if (!e820_key || e820_size % 20 || e820_size > MAX_E820 * 20)
		fail("fw-cfg: no etc/e820 of whole entries among %u files (size %u)", n, e820_size);

	/* The same through DMA: directory count, then the entries where the count left off. */
	dma_read(KEY_SIGNATURE, true, dma_buf, 4);
	same("signature", dma_buf, sig, 4);
	dma_read(KEY_ID, true, dma_buf, 4);
	same("ID", dma_buf, id, 4);
	dma_read(KEY_FILE_DIR, true, dma_buf, 4);
	if (__builtin_bswap32(le32(dma_buf)) != n)
		fail("fw-cfg: file count: port %u, DMA %u", n, __builtin_bswap32(le32(dma_buf)));
	dma_read(KEY_FILE_DIR, false, dma_buf, n * sizeof(*dir));
	same("file directory", dma_buf, port_buf, n * sizeof(*dir));

	port_read(e820_key, true, e820_port, e820_size);
	dma_read(e820_key, true, e820_dma, e820_size);
	same("etc/e820", e820_dma, e820_port, e820_size);

	port_read(KEY_CMDLINE_SIZE, true, clb, 4);
	cl = le32(clb);
	if (cl < 1 || cl > MAX_CMDLINE)
		fail("fw-cfg: CMDLINE_SIZE %u (1..%u expected)", cl, MAX_CMDLINE);
	dma_read(KEY_CMDLINE_DATA, true, cmdline, cl);
	if (cmdline[cl - 1] || strlen(cmdline) != cl - 1)
		fail("fw-cfg: CMDLINE_DATA is not %u bytes ending in its NUL", cl);

	gprintf("fw-cfg: signature %s id 0x%x files %u e820 %u entries\n", sig, le32(id), n,
		e820_size / 20);
	gprintf("fw-cfg: dma signature %s, 16-bit read of 0x510: 0x%x\n", dma_sig, wide);
	for (uint32_t i = 0; i < n; i++) {
		const struct file_entry *f = &dir[i];

		gprintf("fw-cfg: file 0x%x %u %s\n", __builtin_bswap16(f->select),
			__builtin_bswap32(f->size), f->name);
	}
	for (uint32_t i = 0; i < e820_size / 20; i++) {
		const uint8_t *e = e820_port + 20 * i;

		gprintf("fw-cfg: e820 0x%lx 0x%lx %u\n", (unsigned long)le64(e),
			(unsigned long)le64(e + 8), le32(e + 16));
	}
	gprintf("fw-cfg: cmdline %u \"%s\"\n", cl, cmdline);
}
