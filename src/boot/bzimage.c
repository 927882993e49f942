// SPDX-License-Identifier: GPL-2.0-only
/*
 * bzImage through the Linux 64-bit boot protocol (Documentation/arch/x86/
 * boot.rst): the protected-mode kernel goes to 1 MiB, a zero page carries
 * the setup header, command line, initrd and e820 map, and the vCPU enters
 * at +0x200 in long mode with the first 4 GiB identity-mapped.
 */
#include <errno.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/util.h"

/* Offsets in struct boot_params / struct setup_header. */
#define BP_ACPI_RSDP_ADDR	0x070
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

#define ENTRY_64		0x200	/* startup_64, from the protected-mode kernel's start */

#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x01

/*
 * The end of the last setup header field read here. A file is checked to
 * hold all of them before any is read: the probe only saw "HdrS" at 0x202,
 * and a file may end right after it.
 */
#define HDR_FIELDS_END		(HDR_CMDLINE_SIZE + 4)

int bzimage_load(struct guest_mem *gm, const struct boot_image *img, const struct boot_image *initrd,
		 const char *cmdline, struct boot_result *res)
{
	const uint8_t *d = img->data;
	struct e820_entry e820[E820_MAX_ENTRIES];
	uint8_t *bp, *dst;
	unsigned setup_sects, version, hdr_end, n;
	size_t setup_size, kernel_size, cmdline_len = 0;
	uint64_t initrd_at = 0;

	if (img->len < HDR_FIELDS_END)
		return report(-EINVAL, "%s: truncated bzImage setup header", img->path);
	version = le_load(d + HDR_VERSION, 2);
	if (version < 0x020c)
		return report(-ENOEXEC, "%s: boot protocol %u.%02u is too old for 64-bit entry (need 2.12)",
			      img->path, version >> 8, version & 0xff);
	/* The header's own length (the jump over it) must cover the fields read here, and be in the file. */
	hdr_end = HDR_JUMP + 2 + d[HDR_JUMP + 1];
	if (img->len < hdr_end || hdr_end < HDR_FIELDS_END)
		return report(-EINVAL, "%s: truncated bzImage setup header", img->path);
	if (!(le_load(d + HDR_XLOADFLAGS, 2) & XLF_KERNEL_64))
		return report(-ENOEXEC, "%s: bzImage has no 64-bit entry point (XLF_KERNEL_64)", img->path);
	setup_sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4;
	setup_size = (setup_sects + 1) * 512;
	if (img->len <= setup_size)
		return report(-EINVAL, "%s: truncated bzImage (%zu bytes, setup alone is %zu)",
			      img->path, img->len, setup_size);
	kernel_size = img->len - setup_size;
	if (kernel_size <= ENTRY_64)
		return report(-EINVAL, "%s: truncated bzImage (%zu bytes of kernel, its 64-bit entry is at +%#x)",
			      img->path, kernel_size, ENTRY_64);
	dst = guest_mem_ptr(gm, HIGH_MEM_START, kernel_size);
	if (!dst)
		return report(-ENOSPC, "%s: kernel of %zu bytes does not fit in guest RAM", img->path, kernel_size);
	if (cmdline) {
		uint32_t max = le_load(d + HDR_CMDLINE_SIZE, 4);

		cmdline_len = strlen(cmdline);
		if (max && cmdline_len > max)
			return report(-E2BIG, "%s: command line of %zu bytes exceeds the kernel's limit of %u",
				      img->path, cmdline_len, max);
	}
	/* An empty initrd is no initrd (and nothing to copy from a NULL buffer). */
	if (initrd && !initrd->len)
		initrd = NULL;
	if (initrd && initrd_place(gm, HIGH_MEM_START + kernel_size, le_load(d + HDR_INITRD_ADDR_MAX, 4),
				   initrd->len, &initrd_at) < 0)
		return report(-ENOSPC, "%s: initrd of %zu bytes does not fit below the kernel's initrd_addr_max",
			      initrd->path, initrd->len);

	memcpy(dst, d + setup_size, kernel_size);

	bp = guest_mem_ptr(gm, BOOT_INFO_ADDR, BOOT_PARAMS_SIZE);
	memset(bp, 0, BOOT_PARAMS_SIZE);
	memcpy(bp + BP_HDR, d + BP_HDR, hdr_end - BP_HDR);
	bp[HDR_TYPE_OF_LOADER] = 0xff;	/* undefined boot loader */
	bp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	le_store(bp + HDR_HEAP_END_PTR, 0xfe00, 2);

	if (cmdline) {
		memcpy(guest_mem_ptr(gm, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX), cmdline, cmdline_len + 1);
		le_store(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR, 4);
	}

	if (initrd) {
		memcpy(guest_mem_ptr(gm, initrd_at, initrd->len), initrd->data, initrd->len);
		le_store(bp + HDR_RAMDISK_IMAGE, initrd_at, 4);
		le_store(bp + HDR_RAMDISK_SIZE, initrd->len, 4);
	}

	n = e820_build(gm, e820, E820_MAX_ENTRIES);
	memcpy(bp + BP_E820_TABLE, e820, n * sizeof(e820[0]));
	bp[BP_E820_ENTRIES] = n;

	res->kind = BOOT_LINUX64;
	res->is_linux = true;
	res->entry = HIGH_MEM_START + ENTRY_64;
	res->boot_info = BOOT_INFO_ADDR;
	res->kernel_end = HIGH_MEM_START + kernel_size;
	return 0;
}

int bzimage_set_rsdp(struct guest_mem *gm, uint64_t boot_params, uint64_t rsdp)
{
	uint8_t *bp = guest_mem_ptr(gm, boot_params, BOOT_PARAMS_SIZE);

	if (!bp)
		return -EINVAL;
	/* Read by kernels of boot protocol 2.14 and later; older ones scan for the RSDP. */
	le_store(bp + BP_ACPI_RSDP_ADDR, rsdp, 8);
	return 0;
}
