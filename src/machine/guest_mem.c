// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest RAM. One host mapping backs all of it; below 4 GiB RAM stops at the
 * PCI hole and the rest continues at 4 GiB, as on a PC.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qlite/guest_mem.h"

void guest_mem_layout(struct guest_mem *gm, uint64_t ram_size)
{
	uint64_t low = ram_size < PCI_HOLE_START ? ram_size : PCI_HOLE_START;

	memset(gm, 0, sizeof(*gm));
	gm->memfd = -1;
	gm->ram_size = ram_size;
	gm->slots[0] = (struct guest_mem_slot){ .gpa = 0, .size = low };
	gm->nr_slots = 1;
	if (ram_size > low) {
		gm->slots[1] = (struct guest_mem_slot){ .gpa = PCI_HOLE_END, .size = ram_size - low };
		gm->nr_slots = 2;
	}
}

int guest_mem_init(struct guest_mem *gm, uint64_t ram_size, bool use_memfd)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	int fd = -1;
	void *map;

	memset(gm, 0, sizeof(*gm));
	gm->memfd = -1;
	if (!ram_size || ram_size & 0xfff)
		return -EINVAL;
	if (use_memfd) {
		fd = memfd_create("qlite-ram", MFD_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, ram_size) < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		flags = MAP_SHARED | MAP_NORESERVE;
	}
	map = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (map == MAP_FAILED) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		return err;
	}
	/* Guest RAM is large and mostly idle: let THP back it where the host allows. */
	madvise(map, ram_size, MADV_HUGEPAGE);
	guest_mem_layout(gm, ram_size);
	gm->map = map;
	gm->map_size = ram_size;
	gm->memfd = fd;
	/* One mapping: the slots are consecutive pieces of it. */
	gm->slots[0].hva = map;
	if (gm->nr_slots > 1)
		gm->slots[1].hva = (uint8_t *)map + gm->slots[0].size;
	return 0;
}

void guest_mem_destroy(struct guest_mem *gm)
{
	if (gm->map)
		munmap(gm->map, gm->map_size);
	if (gm->memfd >= 0)
		close(gm->memfd);
	memset(gm, 0, sizeof(*gm));
	gm->memfd = -1;
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < gm->nr_slots; i++) {
		const struct guest_mem_slot *s = &gm->slots[i];

		/* Written so that no sum can wrap: gpa and len come from the guest. */
		if (gpa < s->gpa || gpa - s->gpa >= s->size)
			continue;
		if (len > s->size - (gpa - s->gpa))
			return NULL;
		return s->hva + (gpa - s->gpa);
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *buf, size_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *buf, size_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}
