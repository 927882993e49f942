// SPDX-License-Identifier: GPL-2.0-only
/*
 * bzImage through the Linux 64-bit boot protocol (Documentation/arch/x86/
 * boot.rst): the protected-mode kernel goes to 1 MiB, a zero page carries
 * the setup header, command line, initrd and e820 map, and the vCPU enters
 * at +0x200 in long mode with the first 4 GiB identity-mapped.
 */
#include <stdio.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/util.h"

/* Offsets in struct boot_params / struct setup_header. */
#define BP_E820_ENTRIES		0x1e8
#define BP_HDR			0x1f1
#define HDR_SETUP_SECTS		0x1f1
#define HDR_JUMP		0x200
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_HEAP_END_PTR	0x224
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128
#define BOOT_PARAMS_SIZE	0x1000

#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x01

int bzimage_load(struct guest_mem *gm, const struct boot_image *img, const struct boot_image *initrd,
		 const char *cmdline, struct boot_result *res, char *err, size_t errlen)
{
	const uint8_t *d = img->data;
	struct e820_entry e820[E820_MAX_ENTRIES];
	uint8_t *bp, *dst;
	unsigned setup_sects, version, hdr_end, n;
	size_t setup_size, kernel_size;

	version = le_load(d + HDR_VERSION, 2);
	if (version < 0x020c) {
		snprintf(err, errlen, "%s: boot protocol %u.%02u is too old for 64-bit entry (need 2.12)",
			 img->path, version >> 8, version & 0xff);
		return -1;
	}
	hdr_end = HDR_JUMP + 2 + d[HDR_JUMP + 1];
	if (img->len < hdr_end || img->len < HDR_CMDLINE_SIZE + 4) {
		snprintf(err, errlen, "%s: truncated bzImage setup header", img->path);
		return -1;
	}
	if (!(le_load(d + HDR_XLOADFLAGS, 2) & XLF_KERNEL_64)) {
		snprintf(err, errlen, "%s: bzImage has no 64-bit entry point (XLF_KERNEL_64)", img->path);
		return -1;
	}
	setup_sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4;
	setup_size = (setup_sects + 1) * 512;
	if (img->len <= setup_size) {
		snprintf(err, errlen, "%s: truncated bzImage (%zu bytes, setup alone is %zu)",
			 img->path, img->len, setup_size);
		return -1;
	}
	kernel_size = img->len - setup_size;
	dst = guest_mem_ptr(gm, HIGH_MEM_START, kernel_size);
	if (!dst) {
		snprintf(err, errlen, "%s: kernel of %zu bytes does not fit in guest RAM", img->path, kernel_size);
		return -1;
	}
	memcpy(dst, d + setup_size, kernel_size);

	bp = guest_mem_ptr(gm, BOOT_INFO_ADDR, BOOT_PARAMS_SIZE);
	memset(bp, 0, BOOT_PARAMS_SIZE);
	memcpy(bp + BP_HDR, d + BP_HDR, hdr_end - BP_HDR);
	bp[HDR_TYPE_OF_LOADER] = 0xff;	/* undefined boot loader */
	bp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	le_store(bp + HDR_HEAP_END_PTR, 0xfe00, 2);

	if (cmdline) {
		size_t len = strlen(cmdline);
		uint32_t max = le_load(d + HDR_CMDLINE_SIZE, 4);

		if (max && len > max) {
			snprintf(err, errlen, "%s: command line of %zu bytes exceeds the kernel's limit of %u",
				 img->path, len, max);
			return -1;
		}
		memcpy(guest_mem_ptr(gm, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX), cmdline, len + 1);
		le_store(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR, 4);
	}

	if (initrd) {
		uint64_t at;

		if (initrd_place(gm, HIGH_MEM_START + kernel_size, le_load(d + HDR_INITRD_ADDR_MAX, 4),
				 initrd->len, &at) < 0) {
			snprintf(err, errlen, "%s: initrd of %zu bytes does not fit below the kernel's initrd_addr_max",
				 initrd->path, initrd->len);
			return -1;
		}
		memcpy(guest_mem_ptr(gm, at, initrd->len), initrd->data, initrd->len);
		le_store(bp + HDR_RAMDISK_IMAGE, at, 4);
		le_store(bp + HDR_RAMDISK_SIZE, initrd->len, 4);
	}

	n = e820_build(gm, e820, E820_MAX_ENTRIES);
	memcpy(bp + BP_E820_TABLE, e820, n * sizeof(e820[0]));
	bp[BP_E820_ENTRIES] = n;

	res->kind = BOOT_LINUX64;
	res->is_linux = true;
	res->entry = HIGH_MEM_START + 0x200;
	res->boot_info = BOOT_INFO_ADDR;
	res->kernel_end = HIGH_MEM_START + kernel_size;
	return 0;
}
