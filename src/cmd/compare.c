// SPDX-License-Identifier: GPL-2.0-only
/*
 * qlite compare A.conf B.conf [--workload W] [--runs N] [--json FILE]
 *               [--svg FILE] [--until LINE] [--timeout DURATION]:
 * boot each VM with the same workload, A and B interleaved run by run, and
 * set their exit reports side by side (src/compare/ reads and prints them).
 *
 * Each run is a child process, this same binary's `qlite run` on a config
 * derived from the given one (the workload's kernel command line; a fresh
 * sparse scratch image instead of the disk it drives, so no image of the
 * user's is ever written) with --stats-json into a private directory. A
 * guest that fails or a VMM that crashes ends that run, never compare.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qlite/compare.h"
#include "qlite/config.h"
#include "qlite/util.h"
#include "qlite/vdev.h"
#include "qlite/vm_spec.h"
#include "cmd.h"

#define TAIL_LINES	12
#define LINE_MAX_LEN	1024

struct compare_opts {
	const char *config[2];
	char **vm_args;		/* [config, options for both VMs...]: what the rest is not */
	int nr_vm_args;
	const char *workload, *until, *json, *svg;
	unsigned runs;
	uint64_t timeout_ms;
};

struct compare_side {
	struct vm_spec spec;
	struct cmp_device dev;
	bool has_dev;
	char conf[PATH_MAX + 16];	/* the derived config */
	char image[PATH_MAX + 16];	/* its scratch image, or "" */
};

struct compare_ctx {
	struct compare_opts o;
	struct cmp_workload w;
	struct compare_side side[2];
	char dir[PATH_MAX];
	char self[PATH_MAX];
	struct cmp_result res;
};

/* ---- the VMs ---- */

static int side_prepare(struct compare_ctx *c, unsigned s)
{
	struct compare_side *cs = &c->side[s];
	struct cmp_side *rs = &c->res.side[s];
	char why[160];
	FILE *f;
	int ret;

	c->o.vm_args[0] = (char *)c->o.config[s];
	if (cmd_parse_spec(&cs->spec, c->o.nr_vm_args, c->o.vm_args) < 0)
		return EXIT_CONFIG;
	snprintf(rs->config, sizeof(rs->config), "%s", c->o.config[s]);
	if (strcmp(c->w.name, "boot")) {
		ret = cmp_find_device(&cs->spec, c->w.nic, &cs->dev, why, sizeof(why));
		if (ret < 0) {
			pr_err("compare: %s: %s for %s", c->o.config[s], why, c->w.spec);
			return EXIT_CONFIG;
		}
		cs->has_dev = true;
		if (cmp_workload_words(&c->w, &cs->dev, rs->words, sizeof(rs->words)) < 0) {
			pr_err("compare: %s: the workload %s has no scenario for %s", c->o.config[s],
			       c->w.name, cs->dev.kind);
			return EXIT_CONFIG;
		}
		free(cs->spec.cmdline);
		cs->spec.cmdline = strdup(rs->words);
		if (!cs->spec.cmdline)
			return 1;
	} else {
		/* The boot compares VMs: name them by their disk or NIC where they have one. */
		cs->has_dev = !cmp_find_device(&cs->spec, false, &cs->dev, why, sizeof(why)) ||
			      !cmp_find_device(&cs->spec, true, &cs->dev, why, sizeof(why));
		snprintf(rs->words, sizeof(rs->words), "%s", cs->spec.cmdline ? cs->spec.cmdline : "");
	}
	snprintf(rs->label, sizeof(rs->label), "%s", cs->has_dev ? cs->dev.kind :
		 cs->spec.name ? cs->spec.name : c->o.config[s]);
	if (cs->has_dev)
		snprintf(rs->regions, sizeof(rs->regions), "%s", cs->dev.regions);
	if (cs->has_dev && cs->dev.disk && strcmp(c->w.name, "boot")) {
		struct vdev_spec *vs = &cs->spec.vdevs[cs->dev.vdev];
		const struct vdev_type *t = vdev_type_lookup(vs->type);

		snprintf(cs->image, sizeof(cs->image), "%s/%c.img", c->dir, "AB"[s]);
		for (unsigned i = 0; i < vs->nr_opts; i++) {
			struct vdev_opt *o = &vs->opts[i];
			char *v = NULL;

			if (vdev_opt_kind(t, o->key) == VDEV_OPT_IMAGE)
				v = strdup(cs->image);
			else if (!strcmp(o->key, "readonly"))
				v = strdup("off");
			else
				continue;
			if (!v)
				return 1;
			free(o->value);
			o->value = v;
		}
	}
	snprintf(cs->conf, sizeof(cs->conf), "%s/%c.conf", c->dir, "AB"[s]);
	f = fopen(cs->conf, "w");
	if (!f) {
		pr_errno("compare: %s", cs->conf);
		return 1;
	}
	config_print(&cs->spec, f);
	if (fclose(f)) {
		pr_errno("compare: %s", cs->conf);
		return 1;
	}
	return 0;
}

/* A fresh sparse image for every run: each run writes the same blocks into nothing. */
static int scratch_image(const char *path, uint64_t size)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, size) < 0) {
		pr_errno("compare: scratch image %s", path);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

/* ---- one run ---- */

struct run_out {
	char tail[TAIL_LINES][LINE_MAX_LEN];	/* the last lines of the guest's output */
	unsigned lines;
	char partial[LINE_MAX_LEN];
	size_t plen;
	bool until_seen;
	bool done_seen;		/* the test guest's last line: every word passed */
};

#define GUEST_DONE	"qlite-test-guest: done"

static void out_line(struct run_out *ro, const char *until, const char *line)
{
	snprintf(ro->tail[ro->lines++ % TAIL_LINES], LINE_MAX_LEN, "%s", line);
	if (until && strstr(line, until))
		ro->until_seen = true;
	if (!strcmp(line, GUEST_DONE))
		ro->done_seen = true;
}

static void out_bytes(struct run_out *ro, const char *until, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || ro->plen == LINE_MAX_LEN - 1) {
			ro->partial[ro->plen] = '\0';
			/* The console may end lines with \r\n. */
			if (ro->plen && ro->partial[ro->plen - 1] == '\r')
				ro->partial[ro->plen - 1] = '\0';
			out_line(ro, until, ro->partial);
			ro->plen = 0;
			if (buf[i] == '\n')
				continue;
		}
		ro->partial[ro->plen++] = buf[i];
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static pid_t spawn(const struct compare_ctx *c, unsigned s, const char *json, const char *err,
		   int *out_fd)
{
	int pipefd[2];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (!pid) {
		int in = open("/dev/null", O_RDONLY);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (in < 0 || e < 0 || dup2(in, 0) < 0 || dup2(pipefd[1], 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		/* compare ignores Ctrl-C to clean up after its child; the child must not. */
		signal(SIGINT, SIG_DFL);
		execl(c->self, "qlite", "run", c->side[s].conf, "--stats-json", json, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	*out_fd = pipefd[0];
	return pid;
}

/* Read the child's output until it ends; stop it at the until line or the timeout. */
static int watch(const struct compare_ctx *c, pid_t pid, int fd, struct run_out *ro,
		 bool *timed_out)
{
	uint64_t deadline = now_ms() + c->o.timeout_ms, killed_at = 0;
	const char *until = c->w.until;
	int status;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t t = now_ms();
		char buf[4096];
		ssize_t n;

		if (t >= deadline && !killed_at) {
			*timed_out = true;
			kill(pid, SIGTERM);
			killed_at = t;
		} else if (killed_at && t >= killed_at + 5000) {
			kill(pid, SIGKILL);
		}
		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out_bytes(ro, until, buf, n);
		if (ro->until_seen && !killed_at) {
			kill(pid, SIGTERM);
			killed_at = now_ms();
		}
	}
	close(fd);
	if (ro->plen) {
		ro->partial[ro->plen] = '\0';
		out_line(ro, until, ro->partial);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

static void print_tail(const struct run_out *ro, const char *err_file)
{
	unsigned first = ro->lines > TAIL_LINES ? ro->lines - TAIL_LINES : 0;
	uint8_t *buf;
	size_t len;
	const char *why;

	fprintf(stderr, "--- the guest's last lines\n");
	for (unsigned i = first; i < ro->lines; i++)
		fprintf(stderr, "%s\n", ro->tail[i % TAIL_LINES]);
	if (!read_file(err_file, &buf, &len, &why)) {
		fprintf(stderr, "--- qlite run's messages\n%.*s", (int)len, (const char *)buf);
		free(buf);
	}
}

static int run_one(struct compare_ctx *c, unsigned s, unsigned k)
{
	char json[PATH_MAX + 16], err[PATH_MAX + 16], why[160];
	struct run_out *ro = calloc(1, sizeof(*ro));
	bool timed_out = false, ok;
	struct json rep;
	uint8_t *text;
	size_t len;
	const char *rwhy;
	int fd = -1, status, ret;
	pid_t pid;

	if (!ro)
		return -ENOMEM;
	snprintf(json, sizeof(json), "%s/%c-%u.json", c->dir, "AB"[s], k);
	snprintf(err, sizeof(err), "%s/%c-%u.err", c->dir, "AB"[s], k);
	if (c->side[s].image[0]) {
		ret = scratch_image(c->side[s].image, cmp_workload_image_size(&c->w));
		if (ret < 0)
			goto out;
	}
	pid = spawn(c, s, json, err, &fd);
	if (pid < 0) {
		ret = report_errno((int)pid, "compare: cannot start %s", c->self);
		goto out;
	}
	status = watch(c, pid, fd, ro, &timed_out);
	/*
	 * Ended at its line (then stopped by us), or the test guest's "passed":
	 * debug-exit 0 after its last line (status 1 alone is also a VM qlite
	 * could not build).
	 */
	ok = !timed_out && (c->w.until ? ro->until_seen :
			    WIFEXITED(status) && WEXITSTATUS(status) == 1 && ro->done_seen);
	if (!ok) {
		if (timed_out)
			pr_err("compare: %c run %u (%s): no end after %llu s; stopped", "AB"[s], k + 1,
			       c->o.config[s], (unsigned long long)c->o.timeout_ms / 1000);
		else if (WIFSIGNALED(status))
			pr_err("compare: %c run %u (%s): qlite run was killed by signal %d",
			       "AB"[s], k + 1, c->o.config[s], WTERMSIG(status));
		else if (c->w.until)
			pr_err("compare: %c run %u (%s): ended with status %d before \"%s\"",
			       "AB"[s], k + 1, c->o.config[s], WEXITSTATUS(status), c->w.until);
		else
			pr_err("compare: %c run %u (%s): ended with status %d%s, not the test "
			       "guest's \"%s\" and status 1", "AB"[s], k + 1, c->o.config[s],
			       WEXITSTATUS(status), ro->done_seen ? "" : " before its last line",
			       GUEST_DONE);
		print_tail(ro, err);
		ret = -EIO;
		goto out;
	}
	ret = read_file(json, &text, &len, &rwhy);
	if (ret < 0) {
		pr_err("compare: %c run %u: %s: %s", "AB"[s], k + 1, json, rwhy);
		print_tail(ro, err);
		goto out;
	}
	ret = json_parse((const char *)text, len, &rep, why, sizeof(why));
	free(text);
	if (ret < 0) {
		pr_err("compare: %c run %u: %s: %s", "AB"[s], k + 1, json, why);
		goto out;
	}
	ret = cmp_add_run(&c->res, s, &rep, why, sizeof(why));
	if (ret < 0)
		pr_err("compare: %c run %u: %s: %s", "AB"[s], k + 1, json, why);
	else
		fprintf(stderr, "qlite compare: %c run %u/%u: %.2f s, %.0f exits\n", "AB"[s], k + 1,
			c->o.runs, json_num(&rep, "elapsed_s", NAN), json_num(&rep, "exits", NAN));
	json_free(&rep);
out:
	unlink(json);
	unlink(err);
	free(ro);
	return ret;
}

/* ---- the command ---- */

static int write_output(const struct cmp_result *r, const char *path,
			int (*fn)(const struct cmp_result *, FILE *))
{
	char tmp[PATH_MAX + 32];
	FILE *f;
	int ret;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		pr_errno("compare: %s", path);
		return -errno;
	}
	ret = fn(r, f);
	if (fclose(f) || ret) {
		pr_err("compare: %s: write failed", path);
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, path) < 0) {
		pr_errno("compare: %s", path);
		unlink(tmp);
		return -errno;
	}
	return 0;
}

/* Before any run: an output that exists is a regular file, its directory is writable. */
static int output_check(const char *opt, const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;

	if (!path)
		return 0;
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		pr_err("compare: %s %s: %s, not a regular file", opt, path,
		       file_type_name(st.st_mode));
		return -EINVAL;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';	/* "/x" is in "/" */
	if (access(slash ? dir : ".", W_OK) < 0) {
		pr_errno("compare: %s %s: cannot write in %s", opt, path, slash ? dir : ".");
		return -errno;
	}
	return 0;
}

/*
 * The two configs come first; then compare's own options, and any other
 * option is the config language's, for both VMs (`--ram 128M`, `--kernel F`).
 */
static int parse_opts(struct compare_opts *o, int argc, char **argv)
{
	int files = 0;

	*o = (struct compare_opts){ .runs = 3, .timeout_ms = 600000 };
	while (files < argc && files < 2 && argv[files][0] != '-')
		o->config[files] = argv[files], files++;
	if (files != 2) {
		pr_err("compare: two configs to compare first, A and B (see qlite compare --help)");
		return -EINVAL;
	}
	o->vm_args = calloc(argc + 1, sizeof(*o->vm_args));
	if (!o->vm_args)
		return -ENOMEM;
	o->nr_vm_args = 1;
	for (int i = files; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool own = !strcmp(a, "--workload") || !strcmp(a, "--until") ||
			   !strcmp(a, "--json") || !strcmp(a, "--svg") || !strcmp(a, "--runs") ||
			   !strcmp(a, "--timeout");
		uint64_t n;

		if (!own) {
			o->vm_args[o->nr_vm_args++] = argv[i];
			continue;
		}
		if (!v) {
			pr_err("compare: %s: missing value", a);
			return -EINVAL;
		}
		i++;
		if (!strcmp(a, "--workload")) {
			o->workload = v;
		} else if (!strcmp(a, "--until")) {
			o->until = v;
		} else if (!strcmp(a, "--json")) {
			o->json = v;
		} else if (!strcmp(a, "--svg")) {
			o->svg = v;
		} else if (!strcmp(a, "--runs")) {
			if (config_parse_u64(v, &n) || !n || n > CMP_MAX_RUNS) {
				pr_err("compare: --runs %s: 1 to %d", v, CMP_MAX_RUNS);
				return -EINVAL;
			}
			o->runs = n;
		} else {
			if (config_parse_duration(v, 1000000000ull, &n) || n < 1000000) {
				pr_err("compare: --timeout %s: a duration (90s, 600s, 1500ms)", v);
				return -EINVAL;
			}
			o->timeout_ms = n / 1000000;
		}
	}
	return 0;
}

static void remove_dir(const char *dir, const struct compare_ctx *c)
{
	for (unsigned s = 0; s < 2; s++) {
		if (c->side[s].image[0])
			unlink(c->side[s].image);
		if (c->side[s].conf[0])
			unlink(c->side[s].conf);
	}
	rmdir(dir);
}

int cmd_compare(int argc, char **argv)
{
	struct compare_ctx *c;
	const char *tmp = getenv("TMPDIR");
	char why[160];
	ssize_t n;
	int ret = 0;

	if (cmd_wants_help(argc, argv, "compare"))
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return 1;
	vm_spec_init(&c->side[0].spec);
	vm_spec_init(&c->side[1].spec);
	if (parse_opts(&c->o, argc, argv) < 0) {
		ret = EXIT_CONFIG;
		goto out_free;
	}
	if (output_check("--json", c->o.json) < 0 || output_check("--svg", c->o.svg) < 0) {
		ret = EXIT_CONFIG;
		goto out_free;
	}
	if (cmp_workload_parse(&c->w, c->o.workload, c->o.until, why, sizeof(why)) < 0) {
		pr_err("compare: --workload: %s", why);
		ret = EXIT_CONFIG;
		goto out_free;
	}
	cmp_result_init(&c->res, &c->w, c->o.runs);
	n = readlink("/proc/self/exe", c->self, sizeof(c->self) - 1);
	if (n < 0) {
		pr_errno("compare: /proc/self/exe");
		ret = 1;
		goto out_free;
	}
	c->self[n] = '\0';
	snprintf(c->dir, sizeof(c->dir), "%s/qlite-compare.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(c->dir)) {
		pr_errno("compare: %s", c->dir);
		ret = 1;
		goto out_free;
	}
	for (unsigned s = 0; s < 2 && !ret; s++)
		ret = side_prepare(c, s);
	/*
	 * Ctrl-C reaches the child too (one process group): it stops, its run
	 * fails, and compare removes its directory on the way out.
	 */
	signal(SIGINT, SIG_IGN);
	/* Interleaved: A1 B1 A2 B2 ..., so a host that slows down slows both. */
	for (unsigned k = 0; k < c->o.runs && !ret; k++)
		for (unsigned s = 0; s < 2 && !ret; s++)
			if (run_one(c, s, k) < 0)
				ret = 1;
	if (!ret) {
		cmp_write_table(&c->res, stdout);
		fflush(stdout);
		if (c->o.json && write_output(&c->res, c->o.json, cmp_write_json) < 0)
			ret = 1;
		if (c->o.svg && write_output(&c->res, c->o.svg, cmp_write_svg) < 0)
			ret = 1;
	}
	remove_dir(c->dir, c);
out_free:
	cmp_result_free(&c->res);
	vm_spec_free(&c->side[0].spec);
	vm_spec_free(&c->side[1].spec);
	free(c->o.vm_args);
	free(c);
	return ret;
}
