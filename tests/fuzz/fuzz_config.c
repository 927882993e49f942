// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the config language. An input is either a config
 * file's text, or, when it starts with a NUL byte, command-line arguments
 * separated by NUL bytes. Every input must give a clean error or a spec;
 * an error is -EINVAL (no file is read, and memory is plenty) with exactly
 * one line written, a spec writes nothing and must survive the round trip:
 * printed, parsed back, printed again, the two printouts are the same.
 * Nothing reads files: includes are off and no argument names a config file.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/config.h"
#include "qlite/config_check.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

/* Device types as the device issues will describe them, so vdev lines get past the lookup. */
static const struct vdev_opt_desc nic_opts[] = {
	{ .key = "iobase", .kind = VDEV_OPT_PIO, .span = 0x20 },
	{ .key = "addr", .kind = VDEV_OPT_MMIO, .span = 0x20000 },
	{ .key = "irq", .kind = VDEV_OPT_IRQ },
	{ .key = "backend", .kind = VDEV_OPT_ENUM, .choices = "tap|slirp|dgram" },
	{ .key = "mac", .kind = VDEV_OPT_STRING },
	{ .key = "file", .kind = VDEV_OPT_PATH },
	{ .key = "queue", .kind = VDEV_OPT_NUMBER },
	{ .key = "size", .kind = VDEV_OPT_SIZE },
	{ .key = "readonly", .kind = VDEV_OPT_BOOL },
	{ .key = NULL },
};

static const struct vdev_type fuzz_types[] = {
	{ .name = "e1000", .opts = nic_opts },
	{ .name = "virtio-blk", .opts = nic_opts },
	{ .name = "any" },	/* no option list: every key accepted */
};

#define MAX_ARGS 64

static char *print_spec(const struct vm_spec *spec, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	config_print(spec, f);
	if (fclose(f))
		abort();
	return buf;
}

/* The error convention: 0 and silence, or -EINVAL and one line. */
static void check_errors(int ret, const char *what, const char *text, size_t len)
{
	const char *nl = len ? memchr(text, '\n', len) : NULL;

	if (!ret && !len)
		return;
	if (ret == -EINVAL && nl && nl == text + len - 1)
		return;
	fprintf(stderr, "%s returned %d and wrote %zu bytes:\n%.*s\n", what, ret, len,
		(int)len, text);
	abort();
}

/* Returns what config_check_resources() says of the spec read back. */
static int round_trip(const struct vm_spec *spec, FILE *sink)
{
	struct vm_spec again;
	size_t len1, len2;
	char *first = print_spec(spec, &len1), *second;
	int ret;

	vm_spec_init(&again);
	if (config_parse_text(&again, "printed.conf", first, len1, CONFIG_NO_INCLUDE, stderr) ||
	    config_finalize(&again, stderr)) {
		fprintf(stderr, "printed spec does not parse back:\n%s", first);
		abort();
	}
	second = print_spec(&again, &len2);
	if (len1 != len2 || memcmp(first, second, len1)) {
		fprintf(stderr, "round trip changed the spec:\n%s---\n%s", first, second);
		abort();
	}
	ret = config_check_resources(&again, sink);
	free(first);
	free(second);
	vm_spec_free(&again);
	return ret;
}

/* NUL-separated arguments, minus anything that would read a file. */
static int parse_args(struct vm_spec *spec, const uint8_t *data, size_t size, FILE *sink)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS];
	int argc = 0, ret;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; p < copy + size && argc < MAX_ARGS; p += strlen(p) + 1) {
		if (!strncmp(p, "--include", 9))
			continue;
		if (!argc && p[0] != '-')
			continue;
		argv[argc++] = p;
	}
	ret = config_parse_args(spec, argc, argv, sink);
	free(copy);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	struct vm_spec spec;
	char *errs = NULL;
	size_t len = 0;
	FILE *sink;
	int ret;

	if (!once) {
		vdev_use_table(fuzz_types, ARRAY_SIZE(fuzz_types));
		once = true;
	}
	sink = open_memstream(&errs, &len);
	if (!sink)
		abort();
	vm_spec_init(&spec);
	if (size && !data[0]) {
		ret = parse_args(&spec, data + 1, size - 1, sink);
	} else {
		ret = config_parse_text(&spec, "fuzz.conf", (const char *)data, size,
					CONFIG_NO_INCLUDE, sink);
		if (!ret)
			ret = config_finalize(&spec, sink);
	}
	fflush(sink);
	check_errors(ret, "parsing", errs, len);
	if (!ret) {
		ret = round_trip(&spec, sink);
		fflush(sink);
		check_errors(ret, "config_check_resources", errs, len);
	}
	fclose(sink);
	free(errs);
	vm_spec_free(&spec);
	return 0;
}
