// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writing the report files: atomically (a temporary file renamed into
 * place), never over anything but a regular file, and without the
 * temporary files of writers that were killed before their rename.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qlite/stats.h"

int stats_write_file(const char *path, const struct stats_view *v,
		     int (*writer)(const struct stats_view *, FILE *))
{
	char tmp[4096];
	struct stat st;
	FILE *f;
	int fd, ret;

	/*
	 * The outputs were checked before the VM started; whatever is there
	 * now is checked again, since rename() would replace a device node or
	 * FIFO put there since. (What appears between this and the rename is
	 * replaced: rename has no "only a regular file" flag.)
	 */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		unlink(tmp);
		return ret;
	}
	/* The first failed write sets errno (ENOSPC, EFBIG); fflush() catches what was buffered. */
	errno = 0;
	ret = writer(v, f);
	if (fflush(f) == EOF || ret < 0 || ferror(f))
		ret = errno ? -errno : -EIO;
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* The PID of a name "BASE.tmp.PID", or 0 when it is not one. */
static pid_t tmp_pid(const char *name, const char *base, size_t blen)
{
	const char *p = name + blen + strlen(".tmp.");
	char *end;
	long pid;

	if (strncmp(name, base, blen) || strncmp(name + blen, ".tmp.", strlen(".tmp.")) ||
	    *p < '1' || *p > '9')
		return 0;
	errno = 0;
	pid = strtol(p, &end, 10);
	if (*end || errno || pid <= 0 || pid != (pid_t)pid)
		return 0;
	return pid;
}

/*
 * A PID that exists keeps its file, even when it is reused by another
 * process: a leftover costs less than another writer's file gone.
 */
int stats_remove_stale_tmp(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t blen = strlen(base);
	char *dir = slash ? strndup(path, slash == path ? 1 : slash - path) : strdup(".");
	struct dirent *de;
	int removed = 0;
	DIR *d;

	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	free(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t pid = tmp_pid(de->d_name, base, blen);
		struct stat st;

		if (!pid || pid == getpid())
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
