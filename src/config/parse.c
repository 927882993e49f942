// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VM description language: the file parser (includes, duplicate
 * once-only keywords), the command line, and settling the vCPUs once all
 * input is read. Pure apart from reading the files it is given or told to
 * include; the keywords are in keywords.c, host checks in validate.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "qlite/util.h"

/* ---- applying one line or option ---- */

static int apply_keyword(struct config_parser *p, const struct config_keyword *kw,
			 struct words *w, const struct spec_origin *o,
			 struct spec_origin *seen)
{
	unsigned idx = kw - config_keywords;
	char buf[96];

	if (seen && !(kw->flags & KW_REPEATABLE)) {
		struct spec_origin line = { o->file, o->line, NULL };

		if (seen[idx].file)
			return PERR(p, &line, "duplicate %s (first at %s:%u)", kw->name,
				    seen[idx].file, seen[idx].line);
		seen[idx] = *o;
	}
	if ((kw->flags & KW_NO_VALUE) && w->n)
		return PERR(p, o, "takes no value (%s)", config_hint(kw, o, buf, sizeof(buf)));
	if (w->n < kw->min_args)
		return PERR(p, o, "missing value (%s)", config_hint(kw, o, buf, sizeof(buf)));
	if (kw->max_args && w->n > kw->max_args)
		return PERR(p, o, "too many values (%s)", config_hint(kw, o, buf, sizeof(buf)));
	return kw->parse(p, kw, w->v, w->n, o);
}

static int unknown_keyword(struct config_parser *p, const char *word, const struct spec_origin *o)
{
	struct suggestion s = SUGGESTION_INIT;

	for (unsigned i = 0; i < config_nr_keywords; i++)
		suggest(&s, word, config_keywords[i].name);
	if (s.best)
		return PERR(p, o, "unknown keyword \"%s\" (did you mean \"%s\"?)", word, s.best);
	return PERR(p, o, "unknown keyword \"%s\"", word);
}

static int unknown_option(struct config_parser *p, const char *option)
{
	struct spec_origin o = { NULL, 0, option };
	struct suggestion s = SUGGESTION_INIT;

	for (unsigned i = 0; i < config_nr_keywords; i++) {
		const struct config_keyword *kw = &config_keywords[i];

		for (unsigned j = 0; j < ARRAY_SIZE(kw->cli) && kw->cli[j]; j++)
			suggest(&s, option, kw->cli[j]);
	}
	if (s.best)
		return PERR(p, &o, "unknown option (did you mean \"%s\"?)", s.best);
	return PERR(p, &o, "unknown option (see qlite help config)");
}

/* The lexer's error at o; it knows whether it ran out of memory. */
static int lex_error(struct config_parser *p, const struct spec_origin *o,
		     const struct lexer *lx)
{
	int ret = PERR(p, o, "%s", lx->err);

	return lx->nomem ? -ENOMEM : ret;
}

/* ---- files ---- */

static const char *spec_add_file(struct vm_spec *spec, const char *name)
{
	char **files = realloc(spec->files, (spec->nr_files + 1) * sizeof(*files));

	if (!files)
		return NULL;
	spec->files = files;
	files[spec->nr_files] = strdup(name);
	if (!files[spec->nr_files])
		return NULL;
	return files[spec->nr_files++];
}

static int parse_lines(struct config_parser *p, const char *name, const char *text, size_t len)
{
	struct spec_origin seen[CONFIG_MAX_KEYWORDS] = { { 0 } };
	struct words w = { 0 };
	enum lex_result r;
	struct lexer lx;
	char *word;
	int ret = 0;

	lex_init(&lx, text, len, false);
	for (;;) {
		struct spec_origin o = { name, 0, NULL };
		const struct config_keyword *kw;

		r = lex_word(&lx, &word);
		if (r == LEX_EOF)
			break;
		if (r == LEX_EOL)
			continue;
		o.line = r == LEX_WORD ? lx.word_line : lx.line;
		if (r == LEX_ERROR)
			return lex_error(p, &o, &lx);
		kw = config_keyword_lookup(word);
		if (!kw) {
			ret = unknown_keyword(p, word, &o);
			free(word);
			return ret;
		}
		free(word);
		o.option = kw->name;
		lx.list = kw->flags & KW_LIST;
		r = lex_words(&lx, &w);
		lx.list = false;
		lx.want_value = false;
		if (r == LEX_ERROR) {
			o.line = lx.line;
			o.option = NULL;
			words_free(&w);
			return lex_error(p, &o, &lx);
		}
		ret = apply_keyword(p, kw, &w, &o, seen);
		words_free(&w);
		if (ret || r == LEX_EOF)
			break;
	}
	return ret;
}

/* Parse text named name; canon identifies the file for include-loop detection. */
static int parse_named(struct config_parser *p, const char *path, char *canon,
		       const char *text, size_t len, const struct spec_origin *from)
{
	const char *name;
	int ret;

	for (unsigned i = 0; i < p->depth; i++) {
		char chain[512];
		size_t used = 0;

		if (strcmp(p->stack[i], canon))
			continue;
		for (unsigned j = i; j < p->depth && used < sizeof(chain); j++)
			used += snprintf(chain + used, sizeof(chain) - used, "%s -> ",
					 p->stack_name[j]);
		if (used < sizeof(chain))
			snprintf(chain + used, sizeof(chain) - used, "%s", path);
		free(canon);
		return PERR(p, from, "include loop: %s", chain);
	}
	if (p->depth == CONFIG_MAX_INCLUDE_DEPTH) {
		free(canon);
		return PERR(p, from, "includes nested deeper than %u", CONFIG_MAX_INCLUDE_DEPTH);
	}
	name = spec_add_file(p->spec, path);
	if (!name) {
		free(canon);
		return config_nomem(p->err);
	}
	p->stack[p->depth] = canon;
	p->stack_name[p->depth] = name;
	p->depth++;
	ret = parse_lines(p, name, text, len);
	p->depth--;
	free(canon);
	return ret;
}

/* A config too large is said the same way for a file and for standard input. */
static int too_large(struct config_parser *p, const char *name, const struct spec_origin *from)
{
	return PERR(p, from, "%s: larger than %u bytes; not a config file?", name,
		    CONFIG_MAX_FILE_SIZE);
}

/*
 * Parse a config read whole into buf, named name; canon identifies it for
 * include loops (NULL: out of memory). Both buffers are freed here.
 */
static int parse_read(struct config_parser *p, const char *name, char *canon, uint8_t *buf,
		      size_t len, const struct spec_origin *from)
{
	int ret;

	if (!canon) {
		free(buf);
		return config_nomem(p->err);
	}
	if (len > CONFIG_MAX_FILE_SIZE) {
		free(canon);
		free(buf);
		return too_large(p, name, from);
	}
	ret = parse_named(p, name, canon, (const char *)buf, len, from);
	free(buf);
	return ret;
}

/* from: the include line, NULL for the first file (its errors start with its path). */
static int config_include(struct config_parser *p, const char *path,
			  const struct spec_origin *from)
{
	const char *why;
	uint8_t *buf;
	size_t len;
	char *canon;
	int ret;

	/* Read first: it refuses a FIFO without waiting for a writer, and says what it is. */
	ret = read_file(path, &buf, &len, &why);
	if (ret < 0) {
		/* /dev/stdin is a pipe or a terminal, not a file: `-` reads standard input. */
		if (ret == -EINVAL && !from)
			PERR(p, from, "%s: %s; `-` reads a config from standard input", path, why);
		else
			PERR(p, from, "%s: %s", path, why);
		return ret;
	}
	canon = realpath(path, NULL);
	if (!canon && errno != ENOMEM) {
		ret = config_error_errno(p->err, from, -errno, "%s", path);
		free(buf);
		return ret;
	}
	return parse_read(p, path, canon, buf, len, from);
}

/*
 * `-`: the config on standard input, named <stdin> in errors; its relative
 * paths are relative to the current directory, as on the command line.
 */
static int config_include_stdin(struct config_parser *p)
{
	struct spec_origin o = { CONFIG_STDIN_NAME, 0, NULL };
	const char *why;
	uint8_t *buf;
	size_t len;
	int ret;

	ret = read_stdin(CONFIG_MAX_FILE_SIZE, &buf, &len, &why);
	if (ret == -EFBIG)
		return too_large(p, CONFIG_STDIN_NAME, NULL);
	if (ret < 0) {
		PERR(p, &o, "%s", why);
		return ret;
	}
	return parse_read(p, CONFIG_STDIN_NAME, strdup(CONFIG_STDIN_NAME), buf, len, NULL);
}

int config_parse_file(struct vm_spec *spec, const char *path, FILE *err)
{
	struct config_parser p = { .spec = spec, .err = err, .include = config_include };

	return config_include(&p, path, NULL);
}

int config_parse_text(struct vm_spec *spec, const char *name, const char *text, size_t len,
		      unsigned flags, FILE *err)
{
	struct config_parser p = { .spec = spec, .err = err, .flags = flags,
				    .include = config_include };
	char *canon = realpath(name, NULL);

	if (!canon)
		canon = strdup(name);
	if (!canon)
		return config_nomem(err);
	return parse_named(&p, name, canon, text, len, NULL);
}

/* ---- the command line ---- */

static int parse_option(struct config_parser *p, const char *option, const char *value)
{
	const struct config_keyword *kw;
	struct spec_origin o = { NULL, 0, NULL };
	struct words w = { 0 };
	char buf[96], *word;
	int ret;

	kw = config_option_spelling(option, &o.option);
	if (!kw)
		return unknown_option(p, option);
	if (!value && !(kw->flags & (KW_VALUE_OPTIONAL | KW_NO_VALUE)))
		return PERR(p, &o, "missing value (%s)", config_hint(kw, &o, buf, sizeof(buf)));
	if (value && strchr(value, '\n'))
		return PERR(p, &o, "newline in the value");
	if (value && (kw->flags & KW_LIST)) {
		struct lexer lx;

		lex_init(&lx, value, strlen(value), true);
		lx.list = true;
		if (lex_words(&lx, &w) == LEX_ERROR) {
			words_free(&w);
			return lex_error(p, &o, &lx);
		}
	} else if (value) {
		word = strdup(value);
		if (!word || words_push(&w, word) < 0) {
			free(word);
			return config_nomem(p->err);
		}
	}
	ret = apply_keyword(p, kw, &w, &o, NULL);
	words_free(&w);
	return ret;
}

int config_parse_option(struct vm_spec *spec, const char *option, const char *value, FILE *err)
{
	struct config_parser p = { .spec = spec, .err = err, .include = config_include };

	return parse_option(&p, option, value);
}

int config_parse_args(struct vm_spec *spec, int argc, char **argv, FILE *err)
{
	struct config_parser p = { .spec = spec, .err = err, .include = config_include };
	int i = 0, ret;

	if (argc > 0 && (argv[0][0] != '-' || !strcmp(argv[0], "-"))) {
		if (!strcmp(argv[0], "-"))
			ret = config_include_stdin(&p);
		else
			ret = config_include(&p, argv[0], NULL);
		if (ret < 0)
			return ret;
		i = 1;
	}
	for (; i < argc; i++) {
		const char *a = argv[i], *eq = NULL, *value = NULL;
		const struct config_keyword *kw;
		char *name;

		if (a[0] != '-' || !a[1]) {
			struct spec_origin o = { NULL, 0, a };

			return PERR(&p, &o, "unexpected argument (the config file comes first; "
				    "options start with --)");
		}
		if (a[1] == '-')
			eq = strchr(a, '=');
		name = eq ? strndup(a, eq - a) : strdup(a);
		if (!name)
			return config_nomem(err);
		kw = config_option_spelling(name, NULL);
		if (eq)
			value = eq + 1;
		else if (kw && i + 1 < argc && !(kw->flags & KW_NO_VALUE) &&
			 !((kw->flags & KW_VALUE_OPTIONAL) && argv[i + 1][0] == '-'))
			value = argv[++i];
		ret = parse_option(&p, name, value);
		free(name);
		if (ret < 0)
			return ret;
	}
	return config_finalize(spec, err);
}

/* ---- settling the vCPUs ---- */

static int apply_cpu_cluster(struct vm_spec *spec, FILE *err)
{
	const struct spec_origin *o = &spec->origin_of_cpu_cluster;
	cpu_set_t sets[QLITE_MAX_VCPUS];
	unsigned n = 0;
	char *copy, *save = NULL;

	copy = strdup(spec->cpu_cluster);
	if (!copy)
		return config_nomem(err);
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		if (n < QLITE_MAX_VCPUS && config_parse_cpulist(e, &sets[n]) < 0) {
			free(copy);
			return config_error(err, o, "bad CPU list \"%s\"", spec->cpu_cluster);
		}
		n++;
	}
	free(copy);
	if (n != spec->nr_vcpus && n != 1)
		return config_error(err, o,
				    "%u entries for %u vCPU%s (give one entry per vCPU, or one entry shared by all)",
				    n, spec->nr_vcpus, spec->nr_vcpus == 1 ? "" : "s");
	for (unsigned i = 0; i < spec->nr_vcpus; i++) {
		spec->cluster[i] = sets[n == 1 ? 0 : i];
		spec->cluster_set[i] = true;
		spec->origin_of_cluster[i] = *o;
	}
	return 0;
}

int config_finalize(struct vm_spec *spec, FILE *err)
{
	const struct spec_origin *first = &spec->origin_of_cpu_lines;
	char where[300];

	if (spec->nr_cpu_lines) {
		if (spec->cpus_wanted && spec->cpus_wanted != spec->nr_cpu_lines) {
			if (first->file)
				snprintf(where, sizeof(where), "first at %s:%u", first->file,
					 first->line);
			else
				snprintf(where, sizeof(where), "from %s", first->option);
			return config_error(err, &spec->origin_of_cpus,
					    "%u vCPUs, but %u cpu line%s (%s)",
					    spec->cpus_wanted, spec->nr_cpu_lines,
					    spec->nr_cpu_lines == 1 ? "" : "s", where);
		}
		spec->nr_vcpus = spec->nr_cpu_lines;
	} else {
		spec->nr_vcpus = spec->cpus_wanted ? spec->cpus_wanted : 1;
	}
	if (spec->cpu_cluster)
		return apply_cpu_cluster(spec, err);
	return 0;
}

/* ---- the spec ---- */

void vm_spec_init(struct vm_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->ram_size = 256 * MiB;
	spec->nr_vcpus = 1;
	spec->halt_poll_ns = -1;
	spec->quirks = QUIRKS_AUTO;
}

void vm_spec_free(struct vm_spec *spec)
{
	free(spec->name);
	free(spec->kernel);
	free(spec->initrd);
	free(spec->cmdline);
	for (unsigned i = 0; i < spec->nr_modules; i++) {
		free(spec->modules[i].path);
		free(spec->modules[i].args);
	}
	free(spec->modules);
	for (unsigned i = 0; i < spec->nr_vdevs; i++)
		config_vdev_clear(&spec->vdevs[i]);
	free(spec->vdevs);
	for (unsigned i = 0; i < spec->nr_cpuid_edits; i++)
		free(spec->cpuid_edits[i].feature);
	free(spec->stats_json);
	free(spec->stats_prom);
	free(spec->stats_log);
	free(spec->cpu_cluster);
	for (unsigned i = 0; i < spec->nr_files; i++)
		free(spec->files[i]);
	free(spec->files);
	vm_spec_init(spec);
}
