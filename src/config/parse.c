// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VM description language: the file parser (includes, duplicate
 * once-only keywords), the command line, and settling the vCPUs once all
 * input is read. Pure apart from reading the files it is given or told to
 * include; the keywords are in config_keywords.c, host checks in
 * config_validate.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "qlite/util.h"

#define PERR(p, o, ...) config_error((p)->err, (o), __VA_ARGS__)

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
	if (w->n < kw->min_args)
		return PERR(p, o, "missing value (%s)", config_hint(kw, o, buf, sizeof(buf)));
	if (kw->max_args && w->n > kw->max_args)
		return PERR(p, o, "too many values (%s)", config_hint(kw, o, buf, sizeof(buf)));
	return kw->parse(p, kw, w->v, w->n, o);
}

static int unknown_keyword(struct config_parser *p, const char *word, const struct spec_origin *o)
{
	const char *best = NULL;
	unsigned best_d = UINT_MAX;

	for (unsigned i = 0; i < config_nr_keywords; i++) {
		unsigned d = edit_distance(word, config_keywords[i].name);

		if (d < best_d && close_enough(word, config_keywords[i].name, d)) {
			best = config_keywords[i].name;
			best_d = d;
		}
	}
	if (best)
		return PERR(p, o, "unknown keyword \"%s\" (did you mean \"%s\"?)", word, best);
	return PERR(p, o, "unknown keyword \"%s\"", word);
}

static int unknown_option(struct config_parser *p, const char *option)
{
	struct spec_origin o = { NULL, 0, option };
	const char *best = NULL;
	unsigned best_d = UINT_MAX;

	for (unsigned i = 0; i < config_nr_keywords; i++) {
		const struct config_keyword *kw = &config_keywords[i];

		for (unsigned j = 0; j < ARRAY_SIZE(kw->cli) && kw->cli[j]; j++) {
			unsigned d = edit_distance(option, kw->cli[j]);

			if (d < best_d && close_enough(option, kw->cli[j], d)) {
				best = kw->cli[j];
				best_d = d;
			}
		}
	}
	if (best)
		return PERR(p, &o, "unknown option (did you mean \"%s\"?)", best);
	return PERR(p, &o, "unknown option (see qlite help config)");
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
			return PERR(p, &o, "%s", lx.err);
		kw = config_keyword_lookup(word);
		if (!kw) {
			ret = unknown_keyword(p, word, &o);
			free(word);
			return ret;
		}
		free(word);
		o.option = kw->name;
		lx.list = kw->flags & KW_LIST;
		while ((r = lex_word(&lx, &word)) == LEX_WORD) {
			if (words_push(&w, word) < 0) {
				free(word);
				words_free(&w);
				return PERR(p, NULL, "out of memory");
			}
		}
		lx.list = false;
		lx.want_value = false;
		if (r == LEX_ERROR) {
			o.line = lx.line;
			o.option = NULL;
			words_free(&w);
			return PERR(p, &o, "%s", lx.err);
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
		return PERR(p, NULL, "out of memory");
	}
	p->stack[p->depth] = canon;
	p->stack_name[p->depth] = name;
	p->depth++;
	ret = parse_lines(p, name, text, len);
	p->depth--;
	free(canon);
	return ret;
}

static int config_include(struct config_parser *p, const char *path,
			  const struct spec_origin *from)
{
	struct spec_origin top = { path, 0, NULL };
	uint8_t *buf;
	size_t len;
	char *canon;
	int ret;

	if (!from)
		from = &top;
	canon = realpath(path, NULL);
	if (!canon)
		return from == &top ? PERR(p, from, "%s", strerror(errno)) :
				      PERR(p, from, "%s: %s", path, strerror(errno));
	ret = read_file(path, &buf, &len);
	if (ret < 0) {
		free(canon);
		return from == &top ? PERR(p, from, "%s", strerror(-ret)) :
				      PERR(p, from, "%s: %s", path, strerror(-ret));
	}
	if (len > CONFIG_MAX_FILE_SIZE) {
		free(canon);
		free(buf);
		return PERR(p, from, "%s: larger than %u bytes; not a config file?", path,
			    CONFIG_MAX_FILE_SIZE);
	}
	ret = parse_named(p, path, canon, (const char *)buf, len, from);
	free(buf);
	return ret;
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
		return PERR(&p, NULL, "out of memory");
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
	if (!value && !(kw->flags & KW_VALUE_OPTIONAL))
		return PERR(p, &o, "missing value (%s)", config_hint(kw, &o, buf, sizeof(buf)));
	if (value && strchr(value, '\n'))
		return PERR(p, &o, "newline in the value");
	if (value && (kw->flags & KW_LIST)) {
		struct lexer lx;
		enum lex_result r;

		lex_init(&lx, value, strlen(value), true);
		lx.list = true;
		while ((r = lex_word(&lx, &word)) == LEX_WORD) {
			if (words_push(&w, word) < 0) {
				free(word);
				words_free(&w);
				return PERR(p, NULL, "out of memory");
			}
		}
		if (r == LEX_ERROR) {
			words_free(&w);
			return PERR(p, &o, "%s", lx.err);
		}
	} else if (value) {
		word = strdup(value);
		if (!word || words_push(&w, word) < 0) {
			free(word);
			return PERR(p, NULL, "out of memory");
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
	int i = 0;

	if (argc > 0 && argv[0][0] != '-') {
		if (config_include(&p, argv[0], NULL) < 0)
			return -1;
		i = 1;
	}
	for (; i < argc; i++) {
		const char *a = argv[i], *eq = NULL, *value = NULL;
		const struct config_keyword *kw;
		char *name;
		int ret;

		if (a[0] != '-' || !a[1]) {
			struct spec_origin o = { NULL, 0, a };

			return PERR(&p, &o, "unexpected argument (the config file comes first; "
				    "options start with --)");
		}
		if (a[1] == '-')
			eq = strchr(a, '=');
		name = eq ? strndup(a, eq - a) : strdup(a);
		if (!name)
			return PERR(&p, NULL, "out of memory");
		kw = config_option_spelling(name, NULL);
		if (eq)
			value = eq + 1;
		else if (kw && i + 1 < argc &&
			 !((kw->flags & KW_VALUE_OPTIONAL) && argv[i + 1][0] == '-'))
			value = argv[++i];
		ret = parse_option(&p, name, value);
		free(name);
		if (ret)
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
		return config_error(err, NULL, "out of memory");
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
