// SPDX-License-Identifier: GPL-2.0-only
/*
 * The files qlite writes (the stats outputs), checked before anything
 * starts, in the language's error style. An output is a regular file or
 * absent, in a directory qlite can write, and no other output or input:
 * the JSON and Prometheus files are replaced by rename, which would turn a
 * device node, FIFO or symbolic link into a regular file, and an output on
 * the path of another file (the kernel, a config file, the other output)
 * overwrites it. Files are the same when their device and inode are, or,
 * when an output does not exist yet, when their resolved paths are.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

struct file_id {
	bool exists;
	dev_t dev;
	ino_t ino;
	char *resolved;		/* absent: realpath of the directory + "/" + the name */
};

/* Another file of the VM, to compare an output with. */
struct named_file {
	const char *path;
	const char *what;
	const struct spec_origin *o;	/* where it was named; NULL for a config file */
	struct file_id id;
};

/* The directory part of path ("." when it has none). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, slash - path);
}

/* 0 with id filled, or -errno. An absent file is identified by its resolved path. */
static int file_identify(const char *path, struct file_id *id)
{
	char *dir, real[PATH_MAX];
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) == 0) {
		id->exists = true;
		id->dev = st.st_dev;
		id->ino = st.st_ino;
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	dir = dir_of(path);
	if (!dir)
		return -ENOMEM;
	if (!realpath(dir, real)) {
		int ret = -errno;

		free(dir);
		return ret;
	}
	free(dir);
	if (asprintf(&id->resolved, "%s/%s", real, strrchr(path, '/') ? strrchr(path, '/') + 1 : path) < 0) {
		id->resolved = NULL;
		return -ENOMEM;
	}
	return 0;
}

static bool file_same(const struct file_id *a, const struct file_id *b)
{
	if (a->exists != b->exists)
		return false;
	if (a->exists)
		return a->dev == b->dev && a->ino == b->ino;
	return a->resolved && b->resolved && !strcmp(a->resolved, b->resolved);
}

/* A regular file or nothing, in a directory qlite can write. */
static int check_output(const struct stats_file *f, const char *path, const struct spec_origin *o,
			FILE *err)
{
	struct stat st;
	bool absent = false;
	char *dir;
	int ret = 0;

	if (path[strlen(path) - 1] == '/')
		return config_error(err, o, "%s names a directory: %s needs a file name", path, f->what);
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			return config_error(err, o, "%s is a symbolic link: name the file itself (%s is written as a regular file, never through a link)",
					    path, f->what);
		if (!S_ISREG(st.st_mode))
			return config_error(err, o, "%s is %s, not a regular file: qlite writes %s only as a regular file and replaces nothing else",
					    path, file_type_name(st.st_mode), f->what);
		if (access(path, W_OK) < 0)
			return config_error_errno(err, o, -errno, "%s", path);
	} else if (errno == ENOENT) {
		absent = true;
	} else {
		return config_error_errno(err, o, -errno, "%s", path);
	}
	/* The JSON and Prometheus files are renamed into place: their directory takes a new file. */
	if (!f->appended || absent) {
		dir = dir_of(path);
		if (!dir)
			return config_nomem(err);
		if (stat(dir, &st) < 0)
			ret = -errno;
		else if (!S_ISDIR(st.st_mode))
			ret = -ENOTDIR;
		else if (access(dir, W_OK | X_OK) < 0)
			ret = -errno;
		if (ret < 0)
			config_error_errno(err, o, ret, "%s: directory %s", path, dir);
		free(dir);
	}
	return ret;
}

static void add_file(struct named_file *files, unsigned *n, unsigned max, const char *path,
		     const char *what, const struct spec_origin *o)
{
	if (*n < max)
		files[(*n)++] = (struct named_file){ .path = path, .what = what, .o = o };
}

/* The VM's inputs: kernel, initrd, a vdev's files and the config files read. */
static void list_inputs(const struct vm_spec *spec, struct named_file *files, unsigned *n,
			unsigned max)
{
	if (spec->kernel)
		add_file(files, n, max, spec->kernel, "the kernel", &spec->origin_of_kernel);
	if (spec->initrd)
		add_file(files, n, max, spec->initrd, "the initrd", &spec->origin_of_initrd);
	for (unsigned i = 0; i < spec->nr_modules; i++)
		add_file(files, n, max, spec->modules[i].path, "a module", &spec->modules[i].origin);
	for (unsigned i = 0; i < spec->nr_vdevs; i++) {
		const struct vdev_spec *vs = &spec->vdevs[i];
		const struct vdev_type *t = vdev_type_lookup(vs->type);

		for (unsigned j = 0; j < vs->nr_opts; j++)
			if (vdev_opt_is_path(t, vs->opts[j].key))
				add_file(files, n, max, vs->opts[j].value, "a vdev's file", &vs->origin);
	}
	for (unsigned i = 0; i < spec->nr_files; i++)
		if (strcmp(spec->files[i], CONFIG_STDIN_NAME))	/* no path to overwrite */
			add_file(files, n, max, spec->files[i], "a config file of this VM", NULL);
}

static void describe_origin(const struct spec_origin *o, char *buf, size_t len)
{
	if (o && o->file)
		snprintf(buf, len, " (%s:%u)", o->file, o->line);
	else if (o && o->option)
		snprintf(buf, len, " (%s)", o->option);
	else
		buf[0] = '\0';
}

int config_check_outputs(const struct vm_spec *spec, FILE *err)
{
	unsigned n = 0, nr_out, max;
	struct named_file *files;
	int ret = 0;

	if (!spec->stats)
		return 0;	/* `stats off`: nothing is written */
	max = 4 + spec->nr_files + spec->nr_modules + spec->nr_vdevs * VDEV_MAX_OPTS;
	files = calloc(max, sizeof(*files));
	if (!files)
		return config_nomem(err);
	/* The outputs first, each checked on its own, then every pair. */
	for (const struct stats_file *f = config_stats_files; f->name && !ret; f++) {
		const char *path = *stats_file_path(spec, f);
		const struct spec_origin *o = stats_file_origin(spec, f);

		if (!path)
			continue;
		ret = check_output(f, path, o, err);
		add_file(files, &n, max, path, f->what, o);
	}
	nr_out = n;
	if (!ret)
		list_inputs(spec, files, &n, max);
	for (unsigned i = 0; i < n && !ret; i++) {
		ret = file_identify(files[i].path, &files[i].id);
		if (ret == -ENOMEM)
			config_nomem(err);
		else if (ret < 0)	/* an input that went away: its own check says why */
			ret = 0;
	}
	for (unsigned i = 0; i < nr_out && !ret; i++) {
		for (unsigned j = 0; j < n; j++) {
			char where[PATH_MAX + 32];

			if (j == i || !file_same(&files[i].id, &files[j].id))
				continue;
			describe_origin(files[j].o, where, sizeof(where));
			ret = config_error(err, files[i].o, "%s is also %s%s: %s",
					   files[i].path, files[j].what, where,
					   j < nr_out ? "each output needs a file of its own" :
					   "an output would overwrite it");
			break;
		}
	}
	for (unsigned i = 0; i < n; i++)
		free(files[i].id.resolved);
	free(files);
	return ret;
}
