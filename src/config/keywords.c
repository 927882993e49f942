// SPDX-License-Identifier: GPL-2.0-only
/*
 * The keyword table of the VM description language and the function of each
 * keyword. This table drives the file parser and the command line
 * (parse.c), the printer and the generated reference (print.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "qlite/cpuid.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

/* ---- helpers for the keyword functions ---- */

/* "ram SIZE" in a file, "--mem SIZE" on the command line: how to write it right. */
const char *config_hint(const struct config_keyword *kw, const struct spec_origin *o,
			char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", o->option ? o->option : kw->name,
		 *kw->syntax ? " " : "", kw->syntax);
	return buf;
}

static int set_string(struct config_parser *p, char **field, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return config_nomem(p->err);
	free(*field);
	*field = s;
	return 0;
}

/* A path in a file is relative to that file's directory; on the command line, to the cwd. */
char *config_resolve_path(const struct spec_origin *o, const char *path)
{
	const char *slash;
	char *out;

	if (path[0] == '/' || !o->file || !(slash = strrchr(o->file, '/')))
		return strdup(path);
	if (asprintf(&out, "%.*s/%s", (int)(slash - o->file), o->file, path) < 0)
		return NULL;
	return out;
}

static int set_path(struct config_parser *p, char **field, const char *path,
		    const struct spec_origin *o)
{
	char *s;

	if (!*path)
		return PERR(p, o, "empty path");
	s = config_resolve_path(o, path);
	if (!s)
		return config_nomem(p->err);
	free(*field);
	*field = s;
	return 0;
}

static int bad_size(struct config_parser *p, const struct spec_origin *o, const char *s, int ret)
{
	if (ret == -ERANGE)
		return PERR(p, o, "size \"%s\" is too large", s);
	return PERR(p, o, "bad size \"%s\" (a number with K, M, G or KiB, MiB, GiB)", s);
}

static int parse_on_off(struct config_parser *p, const struct spec_origin *o, const char *s,
			bool *on)
{
	if (config_parse_bool(s, on))
		return PERR(p, o, "\"%s\" is not on or off", s);
	return 0;
}

/* The words of a line joined by sep, in one malloc'ed string. */
static char *join_words(char **argv, unsigned argc, const char *sep)
{
	size_t len = 1;
	char *s;

	for (unsigned i = 0; i < argc; i++)
		len += strlen(argv[i]) + strlen(sep);
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (unsigned i = 0; i < argc; i++) {
		if (i)
			strcat(s, sep);
		strcat(s, argv[i]);
	}
	return s;
}

/* ---- keyword functions ---- */

static int kw_system(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, unsigned argc, const struct spec_origin *o)
{
	if (!*argv[0])
		return PERR(p, o, "empty name");
	return set_string(p, &p->spec->name, argv[0]);
}

static int kw_include(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, unsigned argc, const struct spec_origin *o)
{
	char *path;
	int ret;

	if (p->flags & CONFIG_NO_INCLUDE)
		return PERR(p, o, "include is not allowed here");
	if (!*argv[0])
		return PERR(p, o, "empty path");
	path = config_resolve_path(o, argv[0]);
	if (!path)
		return config_nomem(p->err);
	ret = p->include(p, path, o);
	free(path);
	return ret;
}

/* QEMU's spellings of `ram` read a bare number as MiB, as QEMU does. */
static bool qemu_mem_spelling(const struct spec_origin *o)
{
	return o->option && (!strcmp(o->option, "-m") || !strcmp(o->option, "--mem"));
}

static int kw_ram(struct config_parser *p, const struct config_keyword *kw,
		  char **argv, unsigned argc, const struct spec_origin *o)
{
	bool bare, mib = qemu_mem_spelling(o);
	uint64_t size;
	int ret;

	bare = !config_parse_u64(argv[0], &size);
	if (bare && mib) {
		if (size > UINT64_MAX / MiB)
			return bad_size(p, o, argv[0], -ERANGE);
		size *= MiB;
	} else {
		ret = config_parse_size(argv[0], &size);
		if (ret)
			return bad_size(p, o, argv[0], ret);
	}
	/* `ram 512` is what -m 512 means: say so rather than fail on bytes alone. */
	if (size < MiB && bare && !mib)
		return PERR(p, o, "%s is too small: at least 1M (a bare number is bytes; did you "
			    "mean %sM?)", argv[0], argv[0]);
	if (size < MiB)
		return PERR(p, o, "%s is too small: at least 1M", argv[0]);
	if (size % (4 * KiB))
		return PERR(p, o, "%s is not a multiple of 4K", argv[0]);
	p->spec->ram_size = size;
	p->spec->origin_of_ram = *o;
	return 0;
}

static int kw_cpus(struct config_parser *p, const struct config_keyword *kw,
		   char **argv, unsigned argc, const struct spec_origin *o)
{
	uint64_t n;

	if (config_parse_u64(argv[0], &n))
		return PERR(p, o, "bad number \"%s\"", argv[0]);
	if (n < 1 || n > QLITE_MAX_VCPUS)
		return PERR(p, o, "%s vCPUs: give 1 to %u", argv[0], QLITE_MAX_VCPUS);
	p->spec->cpus_wanted = n;
	p->spec->origin_of_cpus = *o;
	return 0;
}

static int bad_cpulist(struct config_parser *p, const struct spec_origin *o, const char *s,
		       int ret)
{
	if (ret == -ERANGE)
		return PERR(p, o, "bad CPU list \"%s\": host CPUs are numbered below %d",
			    s, CPU_SETSIZE);
	return PERR(p, o, "bad CPU list \"%s\" (e.g. 2, 0-3 or 0,2-3)", s);
}

static int kw_cpu(struct config_parser *p, const struct config_keyword *kw,
		  char **argv, unsigned argc, const struct spec_origin *o)
{
	struct vm_spec *spec = p->spec;
	unsigned i = spec->nr_cpu_lines;
	char buf[64], *list;
	cpu_set_t set;
	int ret;

	if (argc == 1 || (argc >= 2 && strcmp(argv[0], "cluster")))
		return PERR(p, o, "expected \"cluster CPULIST\" (%s)",
			    config_hint(kw, o, buf, sizeof(buf)));
	if (i >= QLITE_MAX_VCPUS)
		return PERR(p, o, "more than %u vCPUs", QLITE_MAX_VCPUS);
	if (argc >= 2) {
		/* A KW_LIST line splits "0,2-3" at the commas; join them back. */
		list = join_words(argv + 1, argc - 1, ",");
		if (!list)
			return config_nomem(p->err);
		ret = config_parse_cpulist(list, &set);
		if (ret < 0)
			ret = bad_cpulist(p, o, list, ret);
		free(list);
		if (ret < 0)
			return ret;
		spec->cluster[i] = set;
		spec->cluster_set[i] = true;
		spec->origin_of_cluster[i] = *o;
	} else {
		CPU_ZERO(&spec->cluster[i]);
		spec->cluster_set[i] = false;
		memset(&spec->origin_of_cluster[i], 0, sizeof(spec->origin_of_cluster[i]));
	}
	if (!i)
		spec->origin_of_cpu_lines = *o;
	spec->nr_cpu_lines++;
	return 0;
}

static int kw_cpu_cluster(struct config_parser *p, const struct config_keyword *kw,
			  char **argv, unsigned argc, const struct spec_origin *o)
{
	cpu_set_t set;
	int ret = config_parse_cpulist(argv[0], &set);

	if (ret < 0)
		return bad_cpulist(p, o, argv[0], ret);
	p->spec->origin_of_cpu_cluster = *o;
	return set_string(p, &p->spec->cpu_cluster, argv[0]);
}

static int kw_kernel(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, unsigned argc, const struct spec_origin *o)
{
	p->spec->origin_of_kernel = *o;
	return set_path(p, &p->spec->kernel, argv[0], o);
}

static int kw_initrd(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, unsigned argc, const struct spec_origin *o)
{
	p->spec->origin_of_initrd = *o;
	return set_path(p, &p->spec->initrd, argv[0], o);
}

/*
 * module PATH [ARGS...]: in a file, words; on the command line one value, the
 * path up to the first space and the arguments after it (QEMU's -initrd form).
 */
static int kw_module(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, unsigned argc, const struct spec_origin *o)
{
	struct module_spec m = { .origin = *o }, *mods;
	char *path = NULL, *space;
	int ret = -ENOMEM;

	if (p->spec->nr_modules >= SPEC_MAX_MODULES)
		return PERR(p, o, "too many modules (at most %d)", SPEC_MAX_MODULES);
	if (argc == 1 && !o->file && (space = strchr(argv[0], ' '))) {
		path = strndup(argv[0], space - argv[0]);
		while (*space == ' ')
			space++;
		m.args = *space ? strdup(space) : NULL;
		if (!path || (*space && !m.args))
			goto err;
	} else {
		path = strdup(argv[0]);
		m.args = argc > 1 ? join_words(argv + 1, argc - 1, " ") : NULL;
		if (!path || (argc > 1 && !m.args))
			goto err;
	}
	ret = set_path(p, &m.path, path, o);
	if (ret < 0)
		goto out;
	mods = realloc(p->spec->modules, (p->spec->nr_modules + 1) * sizeof(*mods));
	if (!mods) {
		ret = -ENOMEM;
		goto err;
	}
	p->spec->modules = mods;
	mods[p->spec->nr_modules++] = m;
	free(path);
	return 0;
err:
	ret = config_nomem(p->err);
out:
	free(path);
	free(m.path);
	free(m.args);
	return ret;
}

static int kw_cmdline(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, unsigned argc, const struct spec_origin *o)
{
	char *s = join_words(argv, argc, " ");

	if (!s)
		return config_nomem(p->err);
	free(p->spec->cmdline);
	p->spec->cmdline = s;
	return 0;
}

void config_vdev_clear(struct vdev_spec *vs)
{
	free(vs->type);
	for (unsigned i = 0; i < vs->nr_opts; i++) {
		free(vs->opts[i].key);
		free(vs->opts[i].value);
	}
	memset(vs, 0, sizeof(*vs));
}

static bool option_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static void format_opt_keys(const struct vdev_type *t, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct vdev_opt_desc *d = t->opts; d->key && used < len; d++) {
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", d->key);

		if (n < 0)
			return;
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "none");
}

static bool enum_has(const char *choices, const char *v)
{
	size_t len = strlen(v);

	for (const char *c = choices; c && *c;) {
		const char *bar = strchr(c, '|');
		size_t n = bar ? (size_t)(bar - c) : strlen(c);

		if (n == len && !strncmp(c, v, n))
			return true;
		c = bar ? bar + 1 : NULL;
	}
	return false;
}

/* Check one KEY VALUE of a vdev against its description; paths get resolved. */
static int vdev_check_opt(struct config_parser *p, const struct vdev_type *t,
			  struct vdev_opt *opt, const struct spec_origin *o)
{
	const struct vdev_opt_desc *d = vdev_type_opt(t, opt->key);
	char why[256];
	uint64_t v;
	bool b;
	char *s;

	if (d && d->check && d->check(opt->value, why, sizeof(why)))
		return PERR(p, o, "%s: %s", opt->key, why);
	switch (vdev_opt_kind(t, opt->key)) {
	case VDEV_OPT_PATH:
	case VDEV_OPT_IMAGE:
		s = config_resolve_path(o, opt->value);
		if (!s)
			return config_nomem(p->err);
		free(opt->value);
		opt->value = s;
		return 0;
	case VDEV_OPT_NUMBER:
	case VDEV_OPT_PIO:
	case VDEV_OPT_MMIO:
	case VDEV_OPT_IRQ:
		if (config_parse_u64(opt->value, &v))
			return PERR(p, o, "%s: bad number \"%s\"", opt->key, opt->value);
		return 0;
	case VDEV_OPT_SIZE:
		if (config_parse_size(opt->value, &v))
			return PERR(p, o, "%s: bad size \"%s\"", opt->key, opt->value);
		return 0;
	case VDEV_OPT_BOOL:
		if (config_parse_bool(opt->value, &b))
			return PERR(p, o, "%s: \"%s\" is not on or off", opt->key, opt->value);
		return 0;
	case VDEV_OPT_ENUM:
		if (!enum_has(d ? d->choices : NULL, opt->value))
			return PERR(p, o, "%s: \"%s\" is not one of %s", opt->key, opt->value,
				    d && d->choices ? d->choices : "(none)");
		return 0;
	case VDEV_OPT_STRING:
		break;
	}
	return 0;
}

static int vdev_unknown(struct config_parser *p, const char *name, const struct spec_origin *o)
{
	struct suggestion s = SUGGESTION_INIT;
	char known[512];

	for (unsigned i = 0; i < vdev_type_count(); i++)
		suggest(&s, name, vdev_type_at(i)->name);
	vdev_format_known(known, sizeof(known));
	if (s.best)
		return PERR(p, o, "unknown device \"%s\" (did you mean \"%s\"? known: %s)",
			    name, s.best, known);
	return PERR(p, o, "unknown device \"%s\" (known: %s)", name, known);
}

static int kw_vdev(struct config_parser *p, const struct config_keyword *kw,
		   char **argv, unsigned argc, const struct spec_origin *o)
{
	const struct vdev_type *t = vdev_type_lookup(argv[0]);
	struct vdev_spec vs = { 0 }, *vdevs;
	char known[256];
	int ret;

	if (!t)
		return vdev_unknown(p, argv[0], o);
	if ((argc - 1) % 2)
		return PERR(p, o, "option \"%s\" has no value", argv[argc - 1]);
	if ((argc - 1) / 2 > VDEV_MAX_OPTS)
		return PERR(p, o, "too many options (at most %u)", VDEV_MAX_OPTS);
	vs.type = strdup(argv[0]);
	if (!vs.type)
		return config_nomem(p->err);
	vs.origin = *o;
	for (unsigned i = 1; i < argc; i += 2) {
		struct vdev_opt *opt = &vs.opts[vs.nr_opts];
		const char *key = argv[i], *value = argv[i + 1];

		if (!option_name_ok(key)) {
			ret = PERR(p, o, "bad option name \"%s\"", key);
			goto err;
		}
		if (vdev_opt_get(&vs, key)) {
			ret = PERR(p, o, "option \"%s\" given twice", key);
			goto err;
		}
		if (t->opts && !vdev_type_opt(t, key)) {
			format_opt_keys(t, known, sizeof(known));
			ret = PERR(p, o, "unknown option \"%s\" for %s (known: %s)", key, t->name,
				   known);
			goto err;
		}
		if (!*value) {
			ret = PERR(p, o, "option \"%s\" has an empty value", key);
			goto err;
		}
		opt->key = strdup(key);
		opt->value = strdup(value);
		if (!opt->key || !opt->value) {
			free(opt->key);
			free(opt->value);
			ret = config_nomem(p->err);
			goto err;
		}
		vs.nr_opts++;
		ret = vdev_check_opt(p, t, opt, o);
		if (ret < 0)
			goto err;
	}
	for (const struct vdev_opt_desc *d = t->opts; d && d->key; d++) {
		if (d->required && !vdev_opt_get(&vs, d->key)) {
			ret = PERR(p, o, "option \"%s\" is required for %s", d->key, t->name);
			goto err;
		}
	}
	vdevs = realloc(p->spec->vdevs, (p->spec->nr_vdevs + 1) * sizeof(*vdevs));
	if (!vdevs) {
		ret = config_nomem(p->err);
		goto err;
	}
	vdevs[p->spec->nr_vdevs++] = vs;
	p->spec->vdevs = vdevs;
	return 0;
err:
	config_vdev_clear(&vs);
	return ret;
}

const struct exit_name config_exit_names[] = {
	{ "hlt", EXITS_DISABLE_HLT },
	{ "pause", EXITS_DISABLE_PAUSE },
	{ "mwait", EXITS_DISABLE_MWAIT },
	{ "cstate", EXITS_DISABLE_CSTATE },
	{ "all", EXITS_DISABLE_HLT | EXITS_DISABLE_PAUSE | EXITS_DISABLE_MWAIT |
		 EXITS_DISABLE_CSTATE },
	{ NULL, 0 },
};

static int kw_exits(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, unsigned argc, const struct spec_origin *o)
{
	unsigned bits = 0;
	char buf[64];

	if (strcmp(argv[0], "disable"))
		return PERR(p, o, "expected \"disable\" (%s)", config_hint(kw, o, buf, sizeof(buf)));
	for (unsigned i = 1; i < argc; i++) {
		const struct exit_name *e = config_exit_names;

		while (e->name && strcmp(argv[i], e->name))
			e++;
		if (!e->name)
			return PERR(p, o, "unknown exit \"%s\" (hlt, pause, mwait, cstate or all)",
				    argv[i]);
		bits |= e->bits;
	}
	p->spec->exits_disable |= bits;
	return 0;
}

static int kw_halt_poll(struct config_parser *p, const struct config_keyword *kw,
			char **argv, unsigned argc, const struct spec_origin *o)
{
	uint64_t ns;

	if (config_parse_duration(argv[0], 1, &ns))
		return PERR(p, o, "bad duration \"%s\" (nanoseconds, or a number with ns, us, ms or s)",
			    argv[0]);
	if (ns > UINT32_MAX)
		return PERR(p, o, "%s is too long: at most %u ns", argv[0], UINT32_MAX);
	p->spec->halt_poll_ns = (int64_t)ns;
	return 0;
}

static bool cpuid_name_known(const char *name)
{
	return cpuid_feature_lookup(name) || !strcasecmp(name, CPUID_KVM_SIGNATURE);
}

static int kw_cpuid(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, unsigned argc, const struct spec_origin *o)
{
	struct vm_spec *spec = p->spec;

	for (unsigned i = 0; i < argc; i++) {
		const char *w = argv[i], *name = w + 1;
		struct cpuid_edit *ed = NULL;

		if (w[0] != '+' && w[0] != '-')
			return PERR(p, o, "\"%s\" needs + or - (+%s adds the feature, -%s removes it)",
				    w, w, w);
		if (!cpuid_name_known(name))
			return PERR(p, o, "unknown CPUID feature \"%s\"", name);
		/* A later edit of the same feature replaces the earlier one. */
		for (unsigned j = 0; j < spec->nr_cpuid_edits && !ed; j++)
			if (!strcmp(spec->cpuid_edits[j].feature, name))
				ed = &spec->cpuid_edits[j];
		if (!ed) {
			if (spec->nr_cpuid_edits == CPUID_MAX_EDITS)
				return PERR(p, o, "too many CPUID edits (at most %u)", CPUID_MAX_EDITS);
			ed = &spec->cpuid_edits[spec->nr_cpuid_edits];
			ed->feature = strdup(name);
			if (!ed->feature)
				return config_nomem(p->err);
			spec->nr_cpuid_edits++;
		}
		ed->enable = w[0] == '+';
		ed->origin = *o;
	}
	return 0;
}

static int kw_quirks(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, unsigned argc, const struct spec_origin *o)
{
	if (!strcmp(argv[0], "on"))
		p->spec->quirks = QUIRKS_ON;
	else if (!strcmp(argv[0], "off"))
		p->spec->quirks = QUIRKS_OFF;
	else if (!strcmp(argv[0], "auto"))
		p->spec->quirks = QUIRKS_AUTO;
	else
		return PERR(p, o, "\"%s\" is not on, off or auto", argv[0]);
	return 0;
}

static int kw_memfd(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, unsigned argc, const struct spec_origin *o)
{
	return parse_on_off(p, o, argv[0], &p->spec->memfd);
}

/* on|off into a field that is true when off (the zeroed spec is the default: on). */
static int parse_off(struct config_parser *p, const struct spec_origin *o, const char *s,
		     bool *off)
{
	bool on;
	int ret = parse_on_off(p, o, s, &on);

	if (!ret)
		*off = !on;
	return ret;
}

static int kw_accounting(struct config_parser *p, const struct config_keyword *kw,
			 char **argv, unsigned argc, const struct spec_origin *o)
{
	return parse_off(p, o, argv[0], &p->spec->accounting_off);
}

static int kw_acpi(struct config_parser *p, const struct config_keyword *kw,
		   char **argv, unsigned argc, const struct spec_origin *o)
{
	return parse_off(p, o, argv[0], &p->spec->acpi_off);
}

static int kw_irqchip(struct config_parser *p, const struct config_keyword *kw,
		      char **argv, unsigned argc, const struct spec_origin *o)
{
	if (!strcmp(argv[0], "kernel") || !strcmp(argv[0], "split")) {
		p->spec->split_irqchip = !strcmp(argv[0], "split");
		return 0;
	}
	return PERR(p, o, "\"%s\" is not kernel or split", argv[0]);
}

static int kw_fw_cfg(struct config_parser *p, const struct config_keyword *kw,
		     char **argv, unsigned argc, const struct spec_origin *o)
{
	return parse_off(p, o, argv[0], &p->spec->fw_cfg_off);
}

static int kw_nographic(struct config_parser *p, const struct config_keyword *kw,
			char **argv, unsigned argc, const struct spec_origin *o)
{
	return 0;
}

static int stats_interval(struct config_parser *p, const char *s, const struct spec_origin *o)
{
	uint64_t ns;

	if (config_parse_duration(s, 0, &ns) || ns % 1000000)
		return PERR(p, o, "bad duration \"%s\" (e.g. 500ms or 1s)", s);
	p->spec->stats_interval_ms = ns / 1000000;
	return 0;
}

#define STATS_FILE(name, what, appended) \
	{ #name, offsetof(struct vm_spec, stats_##name), \
	  offsetof(struct vm_spec, origin_of_stats_##name), what, appended }
const struct stats_file config_stats_files[] = {
	STATS_FILE(json, "the JSON output", false),
	STATS_FILE(prom, "the Prometheus output", false),
	STATS_FILE(log, "the stats log", true),
	{ .name = NULL },
};
#undef STATS_FILE

static int kw_stats(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, unsigned argc, const struct spec_origin *o)
{
	struct vm_spec *spec = p->spec;
	bool on = true, said = false;
	char buf[96];

	for (unsigned i = 0; i < argc; i++) {
		const struct stats_file *f = config_stats_files;
		const char *w = argv[i];
		int ret;

		if (!strcmp(w, "on") || !strcmp(w, "off")) {
			if (said)
				return PERR(p, o, "on/off given twice");
			on = !strcmp(w, "on");
			said = true;
			continue;
		}
		while (f->name && strcmp(w, f->name))
			f++;
		if (!f->name && strcmp(w, "interval"))
			return PERR(p, o, "unknown stats setting \"%s\" (%s)", w,
				    config_hint(kw, o, buf, sizeof(buf)));
		if (i + 1 == argc)
			return PERR(p, o, "\"%s\" needs a value (%s)", w,
				    config_hint(kw, o, buf, sizeof(buf)));
		i++;
		if (f->name) {
			ret = set_path(p, stats_file_path(spec, f), argv[i], o);
			*stats_file_origin(spec, f) = *o;
		} else
			ret = stats_interval(p, argv[i], o);
		if (ret)
			return ret;
	}
	/* A setting alone asks for its own output; only on/off (or a bare `stats`) sets the table. */
	spec->stats = on;
	if (said || !argc)
		spec->stats_table = on;
	return 0;
}

/* stats-interval, stats-json, stats-prom, stats-log VALUE: `stats SETTING VALUE`. */
static int kw_stats_setting(struct config_parser *p, const struct config_keyword *kw,
			    char **argv, unsigned argc, const struct spec_origin *o)
{
	char *words[] = { (char *)kw->name + strlen("stats-"), argv[0] };

	return kw_stats(p, kw, words, ARRAY_SIZE(words), o);
}

/* ---- the table ---- */

const struct config_keyword config_keywords[] = {
	{ "system", { "--system" }, "NAME",
	  "Name of the VM, shown by `qlite check` and in the exit report.",
	  1, 1, 0, kw_system },
	{ "include", { "--include" }, "FILE",
	  "Read another config file at this point, as if its lines were written here. A relative "
	  "path is relative to the including file. Each file may set a once-only keyword once; "
	  "a later file, or the command line, overrides it. Include loops are an error.",
	  1, 1, KW_REPEATABLE, kw_include },
	{ "ram", { "--ram", "-m", "--mem" }, "SIZE",
	  "Guest RAM, at least 1M, a multiple of 4K. Default 256M. RAM above 3G is placed above "
	  "the PCI hole at 4G. A bare number is bytes in `ram` and `--ram`, as everywhere in the "
	  "language, but MiB after QEMU's `-m` and `--mem` (`-m 512` is 512M, as in QEMU); "
	  "`ram 512`, too small as bytes, is an error asking for `512M` rather than a different "
	  "size.",
	  1, 1, 0, kw_ram },
	{ "cpus", { "--cpus", "-smp" }, "N",
	  "Number of vCPUs, 1 to 64. Default 1. When `cpu` lines are given, their number is the "
	  "vCPU count and `cpus` must agree with it. QEMU's `-smp N` takes the count only.",
	  1, 1, 0, kw_cpus },
	{ "cpu", { "--cpu" }, "[cluster CPULIST]",
	  "Add one vCPU; with `cluster`, the host CPUs its thread may run on (e.g. `2`, `0-3`, "
	  "`0,2-3`). One line per vCPU: the first line is vCPU 0. Command line: "
	  "`--cpu cluster=0,2-3`.",
	  0, 0, KW_REPEATABLE | KW_LIST, kw_cpu },
	{ "cpu-cluster", { "--cpu-cluster" }, "LIST",
	  "Pin all vCPUs at once. LIST is comma-separated host CPUs or ranges a-b: with one entry "
	  "per vCPU, entry i pins vCPU i (`0,1`); with a single entry, that set is shared by all "
	  "vCPUs (`0-3`). Overrides the clusters of `cpu` lines.",
	  1, 1, 0, kw_cpu_cluster },
	{ "kernel", { "--kernel", "-kernel" }, "PATH",
	  "The guest kernel: an ELF with a PVH note (ELF64 x86-64 or ELF32 i386, e.g. a Linux "
	  "vmlinux), a bzImage, or a multiboot v1 kernel (ELF32 or a.out kludge). Required.",
	  1, 1, 0, kw_kernel },
	{ "initrd", { "--initrd", "-initrd" }, "PATH",
	  "An initial ramdisk (e.g. a cpio.gz initramfs) loaded for the kernel; for a multiboot "
	  "or PVH kernel, its first module.",
	  1, 1, 0, kw_initrd },
	{ "module", { "--module" }, "PATH [ARGS...]",
	  "A further module for a multiboot or PVH kernel, after the initrd, in order; its "
	  "string for the kernel is the path and ARGS. Command line: `--module \"mods/a.bin "
	  "arg\"` (the path ends at the first space). A bzImage takes none.",
	  1, 0, KW_REPEATABLE, kw_module },
	{ "cmdline", { "--cmdline", "--append", "-append" }, "TEXT...",
	  "The kernel command line; in a file, the words of the line joined by single spaces "
	  "(quote to keep other spacing).",
	  1, 0, 0, kw_cmdline },
	{ "vdev", { "--vdev" }, "TYPE [KEY VALUE]...",
	  "Add a device of TYPE with its options, e.g. `vdev virtio-blk transport mmio file "
	  "disk.img`, or on the command line `--vdev virtio-blk,transport=mmio,file=disk.img`. "
	  "The option `file` is a path. See the device types below.",
	  1, 0, KW_REPEATABLE | KW_LIST, kw_vdev },
	{ "exits", { "--exits" }, "disable EXIT[,EXIT]...",
	  "Let the guest run these instructions without a VM exit (KVM_CAP_X86_DISABLE_EXITS): "
	  "`hlt`, `pause`, `mwait`, `cstate`, or `all`. Lines add up. Command line: "
	  "`--exits disable=hlt,pause`.",
	  2, 0, KW_REPEATABLE | KW_LIST, kw_exits },
	{ "halt-poll", { "--halt-poll" }, "NS",
	  "How long a halted vCPU polls before sleeping (KVM_CAP_HALT_POLL): nanoseconds, or a "
	  "number with ns, us, ms or s. Default: KVM's.",
	  1, 1, 0, kw_halt_poll },
	{ "cpuid", { "--cpuid" }, "+FEATURE|-FEATURE...",
	  "Add (+) or remove (-) CPUID features by their /proc/cpuinfo name (e.g. `-x2apic`, "
	  "`+pv-eoi`, `-kvm-signature`). Applied after the quirks, so an edit always wins; a "
	  "later edit of the same feature replaces an earlier one.",
	  1, 0, KW_REPEATABLE | KW_LIST, kw_cpuid },
	{ "quirks", { "--quirks" }, "on|off|auto",
	  "The nested-KVM workarounds (CPUID masks, hidden KVM signature, Linux command-line "
	  "additions). `auto` (default) applies them when the host CPU shows neither VMX nor SVM.",
	  1, 1, 0, kw_quirks },
	{ "memfd", { "--memfd" }, "on|off",
	  "Back guest RAM with a memfd instead of anonymous memory. Default off.",
	  1, 1, 0, kw_memfd },
	{ "accounting", { "--accounting" }, "on|off",
	  "Exit accounting by device, register and handler time (the counts by exit reason always "
	  "run). Default on; `off` exists to measure what the accounting itself costs.",
	  1, 1, 0, kw_accounting },
	{ "acpi", { "--acpi" }, "on|off",
	  "ACPI tables (RSDP, RSDT, XSDT, FADT, FACS, MADT, a DSDT with `_S3`, `_S5` and the PCI "
	  "root) and the PM device they describe (PM1 event and control blocks, PM timer at 0x600, "
	  "SCI on IRQ 9): how a guest finds its CPUs, powers off (S5: exit status 0) and "
	  "suspends to RAM (S3, woken by the RTC alarm at the FACS waking vector). Default on. "
	  "The MP table is written either way, for kernels without ACPI.",
	  1, 1, 0, kw_acpi },
	{ "irqchip", { "--irqchip" }, "kernel|split",
	  "Where the interrupt controllers live. `kernel` (default): KVM's PICs, IOAPIC and "
	  "PIT. `split`: KVM keeps the LAPICs and qlite runs the IOAPIC (QEMU's "
	  "`kernel-irqchip=split`), which `vdev intel-iommu` needs to remap its interrupts, "
	  "its own 8259 pair (ports 0x20-0x21 and 0xa0-0xa1, the ELCR at 0x4d0-0x4d1, IRQ 2 "
	  "the cascade; its interrupts reach vCPU 0 as ExtINT) and its own 8254 PIT (ports "
	  "0x40-0x43 and 0x61, IRQ 0).",
	  1, 1, 0, kw_irqchip },
	{ "fw-cfg", { "--fw-cfg" }, "on|off",
	  "QEMU's firmware configuration device (fw_cfg) at ports 0x510-0x511 and its DMA "
	  "interface at 0x514: signature, ID, RAM size, CPU counts, the kernel command line and "
	  "the files `etc/e820`, `etc/boot-fail-wait` and `bootorder`, as QEMU's pc gives them. "
	  "Default on, as on QEMU's pc.",
	  1, 1, 0, kw_fw_cfg },
	{ "stats", { "--stats" }, "[on|off] [interval DURATION] [json FILE] [prom FILE] [log FILE]",
	  "Exit accounting reports: `on` (or `stats` alone) prints a table at exit; `interval` a "
	  "line every DURATION on stderr, or appended to the `log` FILE; `json` and `prom` files "
	  "rewritten every interval (every second without one) and at exit. A setting alone gives "
	  "only its own output; `off` turns every report off. Each FILE must be a regular file or "
	  "absent, in a writable directory, and no other output or input (checked before the VM "
	  "starts). Command line: `--stats`, `--stats on,interval=1s,json=exits.json`.",
	  0, 0, KW_LIST | KW_VALUE_OPTIONAL, kw_stats },
	/* kw_stats_setting() reads the setting off the name: keep "stats-" + a stats word. */
	{ "stats-interval", { "--stats-interval" }, "DURATION",
	  "Same as `stats interval DURATION` (e.g. 500ms, 1s).",
	  1, 1, 0, kw_stats_setting },
	{ "stats-json", { "--stats-json" }, "FILE",
	  "Same as `stats json FILE`.",
	  1, 1, 0, kw_stats_setting },
	{ "stats-prom", { "--stats-prom" }, "FILE",
	  "Same as `stats prom FILE`.",
	  1, 1, 0, kw_stats_setting },
	{ "stats-log", { "--stats-log" }, "FILE",
	  "Same as `stats log FILE`: the interval lines go to FILE (appended) instead of stderr.",
	  1, 1, 0, kw_stats_setting },
	{ "nographic", { "--nographic", "-nographic" }, "",
	  "No effect: qlite has no display, and the guest's serial console is always on the "
	  "terminal. Accepted so that a QEMU command line's `-nographic` needs no editing.",
	  0, 0, KW_NO_VALUE, kw_nographic },
};

const unsigned config_nr_keywords = ARRAY_SIZE(config_keywords);

_Static_assert(ARRAY_SIZE(config_keywords) <= CONFIG_MAX_KEYWORDS, "grow CONFIG_MAX_KEYWORDS");

const struct config_keyword *config_keyword_lookup(const char *name)
{
	for (unsigned i = 0; i < config_nr_keywords; i++)
		if (!strcmp(config_keywords[i].name, name))
			return &config_keywords[i];
	return NULL;
}

const struct config_keyword *config_option_spelling(const char *option, const char **spelling)
{
	for (unsigned i = 0; i < config_nr_keywords; i++) {
		const struct config_keyword *kw = &config_keywords[i];

		for (unsigned j = 0; j < ARRAY_SIZE(kw->cli) && kw->cli[j]; j++) {
			if (!strcmp(kw->cli[j], option)) {
				if (spelling)
					*spelling = kw->cli[j];
				return kw;
			}
		}
	}
	return NULL;
}

const struct config_keyword *config_option_lookup(const char *option)
{
	return config_option_spelling(option, NULL);
}
