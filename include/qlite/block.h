/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Disk images (src/block/): a raw image in a regular file, addressed in
 * 512-byte sectors. An image is locked while open (an OFD lock: exclusive
 * when writable, shared when read-only), so two devices or two qlite
 * processes never write one image. Synchronous helpers for devices that do
 * their I/O on the vCPU thread (IDE); the machine's async I/O takes the fd.
 */
#ifndef QLITE_BLOCK_H
#define QLITE_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLOCK_SECTOR_SIZE	512
#define BLOCK_SECTOR_SHIFT	9

struct block_image {
	int fd;
	char *path;		/* for messages */
	uint64_t sectors;	/* bytes past the last whole sector are not reachable */
	bool readonly;		/* opened O_RDONLY: writes fail with -EROFS */
	bool direct;		/* O_DIRECT: unaligned buffers go through bounce */
	void *bounce;
};

/*
 * Can path be opened as an image, read-write unless readonly, and locked?
 * 0, or -errno with why (a phrase: "in use by another device or process
 * (locked)") for the caller's message. Opens and closes the file.
 */
int block_image_check(const char *path, bool readonly, char *why, size_t len);

/* Open and lock; on failure one report() "PATH: why" and -errno. */
int block_image_open(struct block_image **out, const char *path, bool readonly, bool direct);
void block_image_close(struct block_image *img);

/*
 * Move the iovecs' bytes (a multiple of 512) from/to the image at sector.
 * 0 when all of it moved; -EINVAL past the end (nothing moves), -EROFS for
 * a write to a read-only image, else the host's -errno (-EIO for an image
 * that shrank under us).
 */
int block_image_read(struct block_image *img, uint64_t sector, const struct iovec *iov,
		     unsigned iovcnt);
int block_image_write(struct block_image *img, uint64_t sector, const struct iovec *iov,
		      unsigned iovcnt);
/* Written data reaches the disk (fdatasync); nothing to do on a read-only image. */
int block_image_flush(struct block_image *img);

#endif
