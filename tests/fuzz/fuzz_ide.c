// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the PIIX3 IDE: what a guest hands it. An input is a
 * list of operations on a fresh machine (1 MiB of RAM, a writable primary
 * master, a read-only primary slave, a writable secondary slave):
 *   0 PORT LEN V32    write V to a port (the 9 ports of each channel, BAR4)
 *   1 PORT LEN        read a port
 *   2 A16 B64         put 8 bytes in RAM at A * 8: PRD tables and their buffers
 *   3 N               N * 16 data-port reads on the primary (through sectors)
 *   4 N W16           N * 16 data-port writes of W on the primary
 *   5 REG LEN V32     a config write to the IDE function (bus master on/off, BAR4)
 * The image files never grow and the image of the read-only disk never
 * changes, whatever the guest does; the sanitizers watch the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qlite/devices.h"
#include "qlite/guest_mem.h"
#include "qlite/pci.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

#define RAM		(1 * MiB)
#define SECTORS		64
#define IDE_SLOT	1
#define IDE_FN		1

static struct guest_mem ram;
static char images[3][64];
static uint8_t readonly_copy[SECTORS * 512];

static void make_image(char *path, unsigned tag)
{
	uint8_t buf[512];
	int fd;

	snprintf(path, 64, "/tmp/qlite-fuzz-ide-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	for (unsigned s = 0; s < SECTORS; s++) {
		for (unsigned i = 0; i < 512; i++)
			buf[i] = (uint8_t)(s * 3 + i + tag);
		if (pwrite(fd, buf, 512, s * 512) != 512)
			abort();
	}
	close(fd);
}

static void cleanup(void)
{
	for (unsigned i = 0; i < 3; i++)
		unlink(images[i]);
}

static void init_once(void)
{
	int fd;

	if (guest_mem_init(&ram, RAM, false) < 0)
		abort();
	for (unsigned i = 0; i < 3; i++)
		make_image(images[i], i);
	atexit(cleanup);
	fd = open(images[1], O_RDONLY);
	if (fd < 0 || pread(fd, readonly_copy, sizeof(readonly_copy), 0) != sizeof(readonly_copy))
		abort();
	close(fd);
}

static struct vdev_spec *add_disk(struct vm_spec *spec, const char *path)
{
	struct vdev_spec *vs = &spec->vdevs[spec->nr_vdevs++];

	*vs = (struct vdev_spec){ .type = "ide", .origin = { .option = "--vdev" } };
	vs->opts[vs->nr_opts++] = (struct vdev_opt){ "file", (char *)path };
	return vs;
}

static void opt(struct vdev_spec *vs, const char *k, const char *v)
{
	vs->opts[vs->nr_opts++] = (struct vdev_opt){ (char *)k, (char *)v };
}

/* The ports a guest can reach: both channels' command and control blocks, then BAR4. */
static uint16_t port_of(uint8_t sel, uint16_t bm)
{
	static const uint16_t base[] = { 0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7,
					 0x3f6, 0x170, 0x171, 0x172, 0x173, 0x174, 0x175, 0x176,
					 0x177, 0x376 };

	sel %= ARRAY_SIZE(base) + 16;
	return sel < ARRAY_SIZE(base) ? base[sel] : bm + (sel - ARRAY_SIZE(base));
}

static unsigned len_of(uint8_t v)
{
	static const unsigned lens[] = { 1, 2, 4 };

	return lens[v % 3];
}

static void pio(struct machine *m, uint16_t port, unsigned len, uint32_t v, bool write)
{
	uint8_t buf[4];

	le_store(buf, v, len);
	bus_dispatch(m->bus[BUS_PIO], port, buf, len, write);
}

static void check_images(void)
{
	uint8_t buf[SECTORS * 512];
	struct stat st;
	int fd;

	for (unsigned i = 0; i < 3; i++) {
		if (stat(images[i], &st) < 0 || st.st_size != SECTORS * 512) {
			fprintf(stderr, "image %u changed size\n", i);
			abort();
		}
	}
	fd = open(images[1], O_RDONLY);
	if (fd < 0 || pread(fd, buf, sizeof(buf), 0) != sizeof(buf) ||
	    memcmp(buf, readonly_copy, sizeof(buf))) {
		fprintf(stderr, "the read-only image was written\n");
		abort();
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	struct vdev_spec vdevs[3];
	struct vm_spec spec = { .vdevs = vdevs };
	struct uart8250 *uart = NULL;
	struct pci_device *ide;
	struct machine m;
	uint16_t bm;
	size_t i = 0;

	if (!once) {
		init_once();
		once = true;
	}
	memset(ram.map, 0, ram.map_size);
	if (machine_init_offline(&m) < 0)
		abort();
	m.mem = &ram;
	m.pci = pci_host_create(&m);
	if (!m.pci)
		abort();
	add_disk(&spec, images[0]);
	opt(add_disk(&spec, images[1]), "readonly", "on");
	opt(add_disk(&spec, images[2]), "channel", "secondary");
	opt(&vdevs[2], "slave", "on");
	opt(&vdevs[1], "slave", "on");
	if (vdev_create_all(&m, &spec) < 0)
		abort();
	ide = pci_host_device(m.pci, 2);
	bm = pci_cfg_read(ide, 0x20, 4) & ~3u;

	while (i < size) {
		uint8_t op = data[i++] % 6;
		uint8_t a[10] = { 0 };
		size_t n = size - i < sizeof(a) ? size - i : sizeof(a);

		memcpy(a, data + i, n);
		switch (op) {
		case 0:
			pio(&m, port_of(a[0], bm), len_of(a[1]), le_load(a + 2, 4), true);
			i += 6;
			break;
		case 1:
			pio(&m, port_of(a[0], bm), len_of(a[1]), 0, false);
			i += 2;
			break;
		case 2:
			guest_mem_write(&ram, (uint64_t)le_load(a, 2) * 8, a + 2, 8);
			i += 10;
			break;
		case 3:
			for (unsigned k = 0; k < a[0] * 16u; k++)
				pio(&m, 0x1f0, 2, 0, false);
			i += 1;
			break;
		case 4:
			for (unsigned k = 0; k < a[0] * 16u; k++)
				pio(&m, 0x1f0, 2, le_load(a + 1, 2), true);
			i += 3;
			break;
		case 5:
			pci_cfg_write(ide, a[0], len_of(a[1]), le_load(a + 2, 4));
			bm = pci_cfg_read(ide, 0x20, 4) & ~3u;
			i += 6;
			break;
		}
	}
	check_images();
	platform_teardown_offline(&m, uart);
	return 0;
}
