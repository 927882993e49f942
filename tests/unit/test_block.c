// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raw disk images: regular files only, read-only honoured, locks between
 * two opens (the same process counts), reads and writes through many
 * iovecs, nothing past the end, flush, O_DIRECT through the bounce buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "qlite/block.h"
#include "qlite/util.h"
#include "unprivileged.h"

struct ctx {
	char path[64];
	char *msg;
	size_t msg_len;
	FILE *reports;
};

#define IMAGE_SECTORS 64

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	uint8_t sector[BLOCK_SECTOR_SIZE];
	int fd;

	assert_non_null(c);
	snprintf(c->path, sizeof(c->path), "test-block-XXXXXX");
	fd = mkstemp(c->path);
	assert_true(fd >= 0);
	/* Sector s holds the byte s everywhere, and 100 stray bytes follow the last sector. */
	for (unsigned s = 0; s < IMAGE_SECTORS; s++) {
		memset(sector, s, sizeof(sector));
		assert_int_equal(write(fd, sector, sizeof(sector)), sizeof(sector));
	}
	assert_int_equal(write(fd, sector, 100), 100);
	close(fd);
	c->reports = open_memstream(&c->msg, &c->msg_len);
	report_set_stream(c->reports);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	report_set_stream(NULL);
	fclose(c->reports);
	free(c->msg);
	unlink(c->path);
	free(c);
	return 0;
}

static const char *reported(struct ctx *c)
{
	fflush(c->reports);
	return c->msg ? c->msg : "";
}

static void test_open_and_size(void **state)
{
	struct ctx *c = *state;
	struct block_image *img;

	assert_int_equal(block_image_open(&img, c->path, false, false), 0);
	assert_int_equal(img->sectors, IMAGE_SECTORS);
	assert_false(img->readonly);
	assert_string_equal(img->path, c->path);
	block_image_close(img);
	assert_string_equal(reported(c), "");
}

static void test_refused_files(void **state)
{
	struct ctx *c = *state;
	struct block_image *img;
	char why[256], small[] = "test-block-small-XXXXXX", fifo[80];
	int fd;

	assert_int_equal(block_image_open(&img, "no-such-image.img", false, false), -ENOENT);
	assert_string_equal(reported(c), "qlite: no-such-image.img: No such file or directory\n");
	assert_int_equal(block_image_check(".", true, why, sizeof(why)), -EISDIR);
	assert_string_equal(why, "not a regular file (a raw image file is needed)");
	assert_int_equal(block_image_check("/dev/null", true, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not a regular file (a raw image file is needed)");
	/* A FIFO is refused without waiting for a writer. */
	snprintf(fifo, sizeof(fifo), "%s.fifo", c->path);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(block_image_check(fifo, true, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not a regular file (a raw image file is needed)");
	unlink(fifo);
	fd = mkstemp(small);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(block_image_check(small, false, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "1 bytes: smaller than one 512-byte sector");
	unlink(small);
}

static int refused_read_write(void *path)
{
	char why[256];

	return !(block_image_check(path, false, why, sizeof(why)) == -EACCES &&
		 !strcmp(why, "Permission denied (for a read-only disk: readonly on)"));
}

static void test_readonly(void **state)
{
	struct ctx *c = *state;
	struct block_image *img;
	uint8_t buf[BLOCK_SECTOR_SIZE] = { 0 };
	struct iovec iov = { buf, sizeof(buf) };

	assert_int_equal(chmod(c->path, 0444), 0);
	/* Not writable: refused read-write, with the way out. */
	assert_int_equal(run_unprivileged(refused_read_write, c->path), 0);
	assert_int_equal(block_image_open(&img, c->path, true, false), 0);
	assert_true(img->readonly);
	assert_int_equal(block_image_read(img, 3, &iov, 1), 0);
	assert_int_equal(buf[0], 3);
	assert_int_equal(block_image_write(img, 3, &iov, 1), -EROFS);
	assert_int_equal(block_image_flush(img), 0);
	block_image_close(img);
	assert_int_equal(chmod(c->path, 0644), 0);
}

static void test_locks(void **state)
{
	struct ctx *c = *state;
	struct block_image *a, *b;
	char why[256], want[256];

	/* Two writers, or a writer and a reader, in one process: the second is refused. */
	assert_int_equal(block_image_open(&a, c->path, false, false), 0);
	assert_int_equal(block_image_open(&b, c->path, false, false), -EBUSY);
	assert_int_equal(block_image_check(c->path, true, why, sizeof(why)), -EBUSY);
	assert_string_equal(why, "in use by another device or process (locked)");
	block_image_close(a);
	/* Closing the first drops its lock. */
	assert_int_equal(block_image_check(c->path, false, why, sizeof(why)), 0);
	/* Readers share. */
	assert_int_equal(block_image_open(&a, c->path, true, false), 0);
	assert_int_equal(block_image_open(&b, c->path, true, false), 0);
	assert_int_equal(block_image_check(c->path, false, why, sizeof(why)), -EBUSY);
	block_image_close(a);
	block_image_close(b);
	/* The one refused open said so, once, with the path. */
	snprintf(want, sizeof(want), "qlite: %s: in use by another device or process (locked)\n",
		 c->path);
	assert_string_equal(reported(c), want);
}

static void test_rw_many_iovecs(void **state)
{
	struct ctx *c = *state;
	enum { N = 300 };	/* more iovecs than one preadv batch */
	struct block_image *img;
	struct iovec iov[N];
	uint8_t *buf = malloc(N * 16), *back = malloc(N * 16);
	struct iovec flat = { back, N * 16 };

	assert_non_null(buf);
	assert_non_null(back);
	for (unsigned i = 0; i < N * 16; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	/* 300 iovecs of 16 bytes, with empty ones between: 4800 bytes is not whole sectors... */
	for (unsigned i = 0; i < N; i++)
		iov[i] = (struct iovec){ buf + 16 * i, 16 };
	assert_int_equal(block_image_open(&img, c->path, false, false), 0);
	assert_int_equal(block_image_write(img, 1, iov, N), -EINVAL);
	/* ...256 of them are 8 sectors. */
	iov[5].iov_len = 0;
	iov[6].iov_len = 0;
	assert_int_equal(block_image_write(img, 1, iov, 258), 0);
	memset(back, 0, N * 16);
	flat.iov_len = 8 * BLOCK_SECTOR_SIZE;
	assert_int_equal(block_image_read(img, 1, &flat, 1), 0);
	assert_memory_equal(back, buf, 5 * 16);
	assert_memory_equal(back + 5 * 16, buf + 7 * 16, 251 * 16);
	/* The neighbours are untouched. */
	flat.iov_len = BLOCK_SECTOR_SIZE;
	assert_int_equal(block_image_read(img, 0, &flat, 1), 0);
	assert_int_equal(back[511], 0);
	assert_int_equal(block_image_read(img, 9, &flat, 1), 0);
	assert_int_equal(back[0], 9);
	assert_int_equal(block_image_flush(img), 0);
	block_image_close(img);
	free(buf);
	free(back);
}

static void test_bounds(void **state)
{
	struct ctx *c = *state;
	struct block_image *img;
	uint8_t buf[2 * BLOCK_SECTOR_SIZE];
	struct iovec iov = { buf, sizeof(buf) };
	struct stat st;

	assert_int_equal(block_image_open(&img, c->path, false, false), 0);
	/* The last whole sector and no further: the stray bytes are not a sector. */
	iov.iov_len = BLOCK_SECTOR_SIZE;
	assert_int_equal(block_image_read(img, IMAGE_SECTORS - 1, &iov, 1), 0);
	assert_int_equal(buf[0], IMAGE_SECTORS - 1);
	assert_int_equal(block_image_read(img, IMAGE_SECTORS, &iov, 1), -EINVAL);
	iov.iov_len = 2 * BLOCK_SECTOR_SIZE;
	assert_int_equal(block_image_read(img, IMAGE_SECTORS - 1, &iov, 1), -EINVAL);
	assert_int_equal(block_image_write(img, IMAGE_SECTORS - 1, &iov, 1), -EINVAL);
	assert_int_equal(block_image_read(img, UINT64_MAX, &iov, 1), -EINVAL);
	assert_int_equal(block_image_write(img, UINT64_MAX >> 9, &iov, 1), -EINVAL);
	/* Nothing grew. */
	assert_int_equal(stat(c->path, &st), 0);
	assert_int_equal(st.st_size, IMAGE_SECTORS * BLOCK_SECTOR_SIZE + 100);
	/* An image that shrank under us: a short read is an error, not zeros. */
	assert_int_equal(truncate(c->path, 10 * BLOCK_SECTOR_SIZE), 0);
	iov.iov_len = BLOCK_SECTOR_SIZE;
	assert_int_equal(block_image_read(img, 20, &iov, 1), -EIO);
	block_image_close(img);
}

static void test_direct(void **state)
{
	struct ctx *c = *state;
	struct block_image *img;
	uint8_t *buf = malloc(3 * BLOCK_SECTOR_SIZE + 1), *odd = buf + 1;
	struct iovec iov[2] = { { odd, 100 }, { odd + 100, 2 * BLOCK_SECTOR_SIZE - 100 } };
	int ret;

	assert_non_null(buf);
	ret = block_image_open(&img, c->path, false, true);
	if (ret == -EINVAL) {
		free(buf);
		skip();		/* this file system has no O_DIRECT */
	}
	assert_int_equal(ret, 0);
	/* Unaligned guest buffers go through the bounce buffer. */
	assert_int_equal(block_image_read(img, 4, iov, 2), 0);
	assert_int_equal(odd[0], 4);
	assert_int_equal(odd[2 * BLOCK_SECTOR_SIZE - 1], 5);
	memset(odd, 0xee, 2 * BLOCK_SECTOR_SIZE);
	assert_int_equal(block_image_write(img, 4, iov, 2), 0);
	memset(odd, 0, 2 * BLOCK_SECTOR_SIZE);
	assert_int_equal(block_image_read(img, 4, iov, 2), 0);
	assert_int_equal(odd[0], 0xee);
	assert_int_equal(odd[2 * BLOCK_SECTOR_SIZE - 1], 0xee);
	assert_int_equal(block_image_flush(img), 0);
	block_image_close(img);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_and_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rw_many_iovecs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
