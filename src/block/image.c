// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raw disk images: a regular file, nothing else (a block device or a FIFO
 * has other failure modes and sizes), locked with an OFD lock over the
 * whole file. OFD locks belong to the open file, not the process, so a
 * second open in the same qlite conflicts as a second qlite does, and
 * closing the fd drops the lock. Read-only images take a shared lock:
 * any number of readers, no writer beside them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qlite/block.h"
#include "qlite/util.h"

#define IOV_BATCH	128		/* iovecs per preadv/pwritev (IOV_MAX is 1024) */
#define DIRECT_ALIGN	512		/* O_DIRECT: buffer address and length */
#define BOUNCE_SIZE	(256 * KiB)

static int image_fail(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int image_fail(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return err;
}

/* Open, check and lock; the fd or -errno with why filled. */
static int image_open_fd(const char *path, bool readonly, bool direct, uint64_t *sectors,
			 char *why, size_t len)
{
	/* O_NONBLOCK: a FIFO would block the open; on a regular file it changes nothing. */
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK |
		    (direct ? O_DIRECT : 0);
	struct flock fl = { .l_type = readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
	struct stat st;
	int fd, ret;

	fd = open(path, flags);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EINVAL && direct)
			return image_fail(why, len, ret,
					  "the file system refuses O_DIRECT (direct on)");
		if (!readonly && (ret == -EACCES || ret == -EROFS || ret == -EPERM))
			return image_fail(why, len, ret, "%s (for a read-only disk: readonly on)",
					  strerror(-ret));
		return image_fail(why, len, ret, "%s", strerror(-ret));
	}
	if (fstat(fd, &st) < 0) {
		ret = image_fail(why, len, -errno, "%s", strerror(errno));
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = image_fail(why, len, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
				 "not a regular file (a raw image file is needed)");
		goto err_close;
	}
	if (st.st_size < BLOCK_SECTOR_SIZE) {
		ret = image_fail(why, len, -EINVAL, "%lld bytes: smaller than one %u-byte sector",
				 (long long)st.st_size, BLOCK_SECTOR_SIZE);
		goto err_close;
	}
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		ret = -errno;
		if (ret == -EAGAIN || ret == -EACCES)
			ret = image_fail(why, len, -EBUSY,
					 "in use by another device or process (locked)");
		else
			ret = image_fail(why, len, ret, "cannot lock: %s", strerror(-ret));
		goto err_close;
	}
	*sectors = (uint64_t)st.st_size >> BLOCK_SECTOR_SHIFT;
	return fd;

err_close:
	close(fd);
	return ret;
}

int block_image_check(const char *path, bool readonly, char *why, size_t len)
{
	uint64_t sectors;
	int fd = image_open_fd(path, readonly, false, &sectors, why, len);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int block_image_open(struct block_image **out, const char *path, bool readonly, bool direct)
{
	struct block_image *img = calloc(1, sizeof(*img));
	char why[256];
	int ret;

	if (!img)
		return report(-ENOMEM, "%s: out of memory", path);
	img->path = strdup(path);
	if (!img->path) {
		ret = report(-ENOMEM, "%s: out of memory", path);
		goto err_free;
	}
	ret = image_open_fd(path, readonly, direct, &img->sectors, why, sizeof(why));
	if (ret < 0) {
		report(ret, "%s: %s", path, why);
		goto err_free;
	}
	img->fd = ret;
	img->readonly = readonly;
	img->direct = direct;
	if (direct && posix_memalign(&img->bounce, 4096, BOUNCE_SIZE)) {
		img->bounce = NULL;
		ret = report(-ENOMEM, "%s: out of memory", path);
		close(img->fd);
		goto err_free;
	}
	*out = img;
	return 0;

err_free:
	free(img->path);
	free(img);
	return ret;
}

void block_image_close(struct block_image *img)
{
	struct flock unlock = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	if (!img)
		return;
	/*
	 * Unlock before closing: io_uring may hold a reference to the file a
	 * moment after its last completion, and an OFD lock lives as long as
	 * the open file does, so a disk reopened at once could find it locked.
	 */
	fcntl(img->fd, F_OFD_SETLK, &unlock);
	close(img->fd);
	free(img->bounce);
	free(img->path);
	free(img);
}

static size_t iov_bytes(const struct iovec *iov, unsigned n)
{
	size_t bytes = 0;

	for (unsigned i = 0; i < n; i++)
		bytes += iov[i].iov_len;
	return bytes;
}

/* All of iov at off, in batches, through short transfers and EINTR. */
static int rw_all(int fd, bool write, uint64_t off, const struct iovec *iov, unsigned n)
{
	struct iovec cur[IOV_BATCH];
	size_t skip = 0;	/* bytes of iov[i] already done */
	unsigned i = 0;

	for (;;) {
		unsigned k = 0;
		ssize_t done;

		while (i < n && iov[i].iov_len == skip) {
			i++;
			skip = 0;
		}
		if (i == n)
			return 0;
		for (unsigned j = i; j < n && k < IOV_BATCH; j++, k++) {
			cur[k] = iov[j];
			if (j == i) {
				cur[k].iov_base = (char *)cur[k].iov_base + skip;
				cur[k].iov_len -= skip;
			}
		}
		done = write ? pwritev(fd, cur, k, off) : preadv(fd, cur, k, off);
		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -errno;
		if (done == 0)
			return -EIO;	/* the file ended early: it shrank */
		off += done;
		while (done > 0) {
			size_t left = iov[i].iov_len - skip;

			if ((size_t)done < left) {
				skip += done;
				break;
			}
			done -= left;
			i++;
			skip = 0;
		}
	}
}

static bool iov_aligned(const struct iovec *iov, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) % DIRECT_ALIGN)
			return false;
	return true;
}

/* Copy between the iovecs from byte off and a flat buffer. */
static void iov_copy(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len,
		     bool to_iov)
{
	for (unsigned i = 0; i < n && len; i++) {
		size_t seg = iov[i].iov_len, c;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		c = seg - off < len ? seg - off : len;
		if (to_iov)
			memcpy((char *)iov[i].iov_base + off, buf, c);
		else
			memcpy(buf, (char *)iov[i].iov_base + off, c);
		buf = (char *)buf + c;
		len -= c;
		off = 0;
	}
}

static int image_rw(struct block_image *img, bool write, uint64_t sector,
		    const struct iovec *iov, unsigned n)
{
	size_t bytes = iov_bytes(iov, n), done = 0;
	uint64_t off = sector << BLOCK_SECTOR_SHIFT;
	int ret;

	if (bytes % BLOCK_SECTOR_SIZE || sector > img->sectors ||
	    bytes >> BLOCK_SECTOR_SHIFT > img->sectors - sector)
		return -EINVAL;
	if (write && img->readonly)
		return -EROFS;
	if (!img->direct || iov_aligned(iov, n))
		return rw_all(img->fd, write, off, iov, n);
	/* O_DIRECT wants aligned buffers; guest buffers (PRD entries) need not be. */
	while (done < bytes) {
		size_t chunk = bytes - done < BOUNCE_SIZE ? bytes - done : BOUNCE_SIZE;
		struct iovec b = { img->bounce, chunk };

		if (write)
			iov_copy(iov, n, done, img->bounce, chunk, false);
		ret = rw_all(img->fd, write, off + done, &b, 1);
		if (ret < 0)
			return ret;
		if (!write)
			iov_copy(iov, n, done, img->bounce, chunk, true);
		done += chunk;
	}
	return 0;
}

int block_image_read(struct block_image *img, uint64_t sector, const struct iovec *iov,
		     unsigned iovcnt)
{
	return image_rw(img, false, sector, iov, iovcnt);
}

int block_image_write(struct block_image *img, uint64_t sector, const struct iovec *iov,
		      unsigned iovcnt)
{
	return image_rw(img, true, sector, iov, iovcnt);
}

int block_image_flush(struct block_image *img)
{
	if (img->readonly)
		return 0;
	while (fdatasync(img->fd) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}
