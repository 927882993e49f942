// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the kernel loaders: ELF32/ELF64 program headers and
 * PVH notes, multiboot headers (ELF32 and the a.out kludge), the bzImage
 * setup header, initrd and module placement. An input is a kernel
 * image followed by twelve option bytes, which say what else boot_load()
 * gets:
 *
 *   [-12] bit 0: an initrd, bit 1: a command line, bit 2: 4 MiB of guest
 *         RAM instead of 2 MiB, bit 3 (with bit 0): the initrd's bytes as
 *         two modules instead, the second with a string (multiboot, PVH)
 *   [-11..-10] the initrd's length in 64-byte units (0: an empty initrd)
 *   [-9] the command line's length
 *   [-8..-1] when not 0 and shorter, the kernel's length: the image is cut
 *         there. A 64-bit field, as the loaders' length comparisons are, so
 *         that the fuzzer puts their constants (0x206...) straight into it.
 *
 * The kernel and initrd are exact-size heap copies and guest RAM is heap
 * memory too, so that AddressSanitizer sees any access past their ends.
 * Every input must give 0 and silence, with the entry inside the kernel
 * loaded above 1 MiB, or a negative errno and exactly one "qlite: " line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/boot.h"
#include "qlite/guest_mem.h"
#include "qlite/util.h"

/* Small, so that clearing a kernel's bss costs little per input. */
#define SMALL_RAM	(2 * MiB)
#define LARGE_RAM	(4 * MiB)

#define NR_OPTS		12

static uint8_t *ram;

static void check_report(int ret, const char *text, size_t len)
{
	const char *nl = len ? memchr(text, '\n', len) : NULL;
	bool known = ret == -ENOEXEC || ret == -EINVAL || ret == -E2BIG || ret == -ENOSPC;

	if (!ret && !len)
		return;
	if (known && len > 7 && !memcmp(text, "qlite: ", 7) && nl == text + len - 1)
		return;
	fprintf(stderr, "boot_load returned %d and wrote %zu bytes:\n%.*s\n", ret, len,
		(int)len, text);
	abort();
}

static void check_result(const struct guest_mem *gm, const struct boot_image *k,
			 const struct boot_result *res)
{
	/*
	 * Every protocol enters the kernel it loaded above 1 MiB, but multiboot,
	 * which may load in conventional memory (0x1000..the EBDA, as QEMU does);
	 * the boot information is at its place, or after such a kernel and its
	 * modules when the kernel covers that place.
	 */
	bool low = res->kind == BOOT_MULTIBOOT && res->kernel_end <= EBDA_START;
	uint64_t floor = low ? BOOT_LOW_KERNEL_MIN : HIGH_MEM_START;
	struct kvm_sregs sregs;
	enum boot_kind kind;

	if (res->entry < floor || res->entry >= res->kernel_end ||
	    res->kernel_end > gm->slots[0].size ||
	    (res->boot_info != BOOT_INFO_ADDR && !(low && res->boot_info >= res->kernel_end))) {
		fprintf(stderr, "loaded, but entry %#llx, kernel end %#llx, boot info %#llx\n",
			(unsigned long long)res->entry, (unsigned long long)res->kernel_end,
			(unsigned long long)res->boot_info);
		abort();
	}
	if (boot_probe_kind(k, &kind) || kind != res->kind ||
	    (res->kind == BOOT_LINUX64 && !res->is_linux))
		abort();
	memset(&sregs, 0, sizeof(sregs));
	if (boot_sregs((struct guest_mem *)gm, res, &sregs))
		abort();
}

/* An exact-size copy of src, or of a pattern when src is NULL; NULL when len is 0. */
static uint8_t *copy(const uint8_t *src, size_t len)
{
	uint8_t *p;

	if (!len)
		return NULL;
	p = malloc(len);
	if (!p)
		abort();
	if (src)
		memcpy(p, src, len);
	else
		memset(p, 0x5a, len);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t no_opts[NR_OPTS];
	const uint8_t *opt = size >= NR_OPTS ? data + size - NR_OPTS : no_opts;
	size_t kernel_len = size >= NR_OPTS ? size - NR_OPTS : size;
	struct boot_image kernel = { NULL, 0, "fuzz-kernel" };
	struct boot_image initrd = { NULL, 0, "fuzz-initrd" };
	uint8_t *kernel_buf, *initrd_buf = NULL;
	char *cmdline = NULL, *text = NULL;
	struct boot_result res;
	struct guest_mem gm;
	uint64_t cut = le_load(opt + 4, 8);
	size_t text_len;
	FILE *out;
	int ret;

	if (!ram) {
		ram = malloc(LARGE_RAM);
		if (!ram)
			abort();
	}
	guest_mem_layout(&gm, opt[0] & 4 ? LARGE_RAM : SMALL_RAM);
	gm.slots[0].hva = ram;

	if (cut && cut < kernel_len)
		kernel_len = cut;
	kernel_buf = copy(data, kernel_len);
	kernel.data = kernel_buf;
	kernel.len = kernel_len;
	if (opt[0] & 1) {
		initrd.len = le_load(opt + 1, 2) * 64;
		initrd_buf = copy(NULL, initrd.len);
		initrd.data = initrd_buf;
	}
	if (opt[0] & 2) {
		cmdline = malloc(opt[3] + 1);
		if (!cmdline)
			abort();
		memset(cmdline, 'c', opt[3]);
		cmdline[opt[3]] = '\0';
	}

	out = open_memstream(&text, &text_len);
	if (!out)
		abort();
	report_set_stream(out);
	/* Asked of every kernel before it is loaded: it must not speak. */
	boot_image_is_linux(&kernel);
	if ((opt[0] & 9) == 9) {
		struct boot_module mods[2] = {
			{ .img = { initrd.data, initrd.len / 2, "fuzz-mod0" } },
			{ .img = { initrd.data ? initrd.data + initrd.len / 2 : NULL,
				   initrd.len - initrd.len / 2, "fuzz-mod1" }, .cmdline = "fuzz-mod1 arg" },
		};

		ret = boot_load_mods(&gm, &kernel, mods, 2, cmdline, &res);
	} else {
		ret = boot_load(&gm, &kernel, opt[0] & 1 ? &initrd : NULL, cmdline, &res);
	}
	report_set_stream(NULL);
	if (fclose(out))
		abort();
	check_report(ret, text, text_len);
	if (!ret)
		check_result(&gm, &kernel, &res);

	free(text);
	free(cmdline);
	free(initrd_buf);
	free(kernel_buf);
	return 0;
}
