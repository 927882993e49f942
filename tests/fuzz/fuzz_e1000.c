// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the e1000: what a guest hands it, and frames from the
 * outside. An input is a list of operations on a fresh device (1 MiB of RAM,
 * an offline socket backend that drops what is sent, bus mastering on):
 *   0 OFF16 V32    write V to register OFF * 4 of BAR0 (all 128 KiB)
 *   1 OFF16        read register OFF * 4
 *   2 A16 B64      put 8 bytes in RAM at A * 8: rings, descriptors, buffers
 *   3 R8 V32       a hot register (TDT, RDT, RCTL, TCTL, CTRL, ...) gets V
 *   4 LEN16 S8     a frame of LEN bytes (from S) arrives, to our MAC or
 *                  broadcast by S's low bit
 *   5 P8 V32       a port write: IOADDR (P even) or IODATA (P odd)
 *   6              every moderation and autonegotiation deadline passes
 * The sanitizers watch memory; the device must never touch RAM outside
 * guest RAM (guest_mem's checks), and qlite must never stop.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/devices/e1000/e1000.h"
#include "qlite/devices.h"
#include "qlite/guest_mem.h"
#include "qlite/net.h"
#include "qlite/pci.h"
#include "qlite/util.h"

#define RAM		(1 * MiB)

static struct guest_mem ram;
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static bool stopped;

static void on_stop(struct machine *m, enum stop_reason why, int status, const char *detail)
{
	stopped = true;
}

static const uint32_t hot[] = { CTRL, TDT, RDT, TCTL, RCTL, TDH, RDH, TDLEN, RDLEN, TDBAL,
				RDBAL, IMS, ICS, ICR, MDIC, EECD, EERD, RDTR, RADV, TIDV, TADV,
				ITR, RAL, RAH, MTA };

static void mmio(struct machine *m, uint64_t base, uint32_t off, uint32_t v, bool write)
{
	uint8_t buf[4];

	le_store(buf, v, 4);
	bus_dispatch(m->bus[BUS_MMIO], base + off, buf, 4, write);
}

static void frame_in(struct e1000 *s, unsigned len, uint8_t seed)
{
	static uint8_t f[NET_MAX_FRAME];
	struct iovec iov = { f, len };

	for (unsigned i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 31);
	if (len >= 6)
		memcpy(f, (seed & 1) ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" : mac, 6);
	e1000_receive(s, &iov, 1, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_backend_opts o = { .kind = NET_BACKEND_SOCKET, .dgram = true,
				      .path = "/tmp/qlite-fuzz-e1000.sock" };
	struct pci_device *dev = NULL;
	struct machine m;
	struct e1000 *s;
	uint64_t bar0;
	uint16_t io;
	size_t i = 0;

	if (!ram.map && guest_mem_init(&ram, RAM, false) < 0)
		abort();
	memset(ram.map, 0, ram.map_size);
	if (machine_init_offline(&m) < 0)
		abort();
	m.request_stop = on_stop;
	m.mem = &ram;
	m.pci = pci_host_create(&m);
	if (!m.pci || e1000_attach(&m, &o, mac, false) < 0)
		abort();
	for (unsigned k = 0; k < pci_host_nr_devices(m.pci); k++)
		if (le_load(pci_host_device(m.pci, k)->cfg + 2, 2) == 0x100e)
			dev = pci_host_device(m.pci, k);
	if (!dev)
		abort();
	s = dev->opaque;	/* the device state starts with its struct e1000 */
	pci_cfg_write(dev, 0x04, 2, 0x7);
	bar0 = pci_cfg_read(dev, 0x10, 4) & ~0xfu;
	io = pci_cfg_read(dev, 0x14, 4) & ~0x3u;

	while (i < size) {
		uint8_t op = data[i++] % 7, a[10] = { 0 }, buf[4];
		size_t n = size - i < sizeof(a) ? size - i : sizeof(a);

		memcpy(a, data + i, n);
		switch (op) {
		case 0:
			mmio(&m, bar0, (le_load(a, 2) & 0x7fff) * 4, le_load(a + 2, 4), true);
			i += 6;
			break;
		case 1:
			mmio(&m, bar0, (le_load(a, 2) & 0x7fff) * 4, 0, false);
			i += 2;
			break;
		case 2:
			guest_mem_write(&ram, (le_load(a, 2) * 8) % RAM, a + 2, 8);
			i += 10;
			break;
		case 3:
			mmio(&m, bar0, hot[a[0] % ARRAY_SIZE(hot)], le_load(a + 1, 4), true);
			i += 5;
			break;
		case 4:
			frame_in(s, le_load(a, 2) % (NET_MAX_FRAME + 1), a[2]);
			i += 3;
			break;
		case 5:
			le_store(buf, le_load(a + 1, 4), 4);
			bus_dispatch(m.bus[BUS_PIO], io + ((a[0] & 1) ? 4 : 0), buf, 4, true);
			i += 5;
			break;
		case 6:
			pthread_mutex_lock(&s->lock);
			e1000_intr_expire(s, UINT64_MAX);
			e1000_autoneg_expire(s, UINT64_MAX);
			pthread_mutex_unlock(&s->lock);
			break;
		}
	}
	if (stopped)
		abort();
	platform_teardown_offline(&m, NULL);
	return 0;
}
