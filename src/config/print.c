// SPDX-License-Identifier: GPL-2.0-only
/*
 * Output in the config language: a spec printed back as a config file
 * (`qlite check --print-config`), and the language reference generated
 * from the keyword and device tables (`qlite help config`, docs/config.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "qlite/util.h"
#include "qlite/vdev.h"

/* ---- a spec as a config file ---- */

char *config_absolute_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real, *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	/* The directory resolved, the name kept: a kernel symlink stays the symlink. */
	dir = slash ? strndup(path, slash - path) : strdup(".");
	if (!dir)
		return NULL;
	real = realpath(dir, NULL);
	free(dir);
	if (real) {
		if (asprintf(&out, "%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : path) < 0)
			out = NULL;
		free(real);
		return out;
	}
	/* A directory that does not exist (yet): the path from the current one. */
	real = getcwd(NULL, 0);
	if (!real)
		return NULL;
	if (asprintf(&out, "%s/%s", real, path) < 0)
		out = NULL;
	free(real);
	return out;
}

/* A path as an absolute one, so the printed file works from wherever it is saved. */
static void print_path(FILE *out, const char *path, bool list)
{
	char *abs = config_absolute_path(path);

	print_word(out, abs ? abs : path, list);
	free(abs);
}

static void print_line(FILE *out, const char *kw, const char *value)
{
	fprintf(out, "%s ", kw);
	print_word(out, value, false);
	fputc('\n', out);
}

static void print_path_line(FILE *out, const char *kw, const char *path)
{
	fprintf(out, "%s ", kw);
	print_path(out, path, false);
	fputc('\n', out);
}

static void print_cpus(const struct vm_spec *spec, FILE *out)
{
	bool pinned = false;
	char list[1024];

	fprintf(out, "cpus %u\n", spec->nr_vcpus);
	for (unsigned i = 0; i < spec->nr_vcpus; i++)
		pinned |= spec->cluster_set[i];
	if (!pinned)
		return;
	for (unsigned i = 0; i < spec->nr_vcpus; i++) {
		if (!spec->cluster_set[i]) {
			fprintf(out, "cpu\n");
			continue;
		}
		config_format_cpulist(&spec->cluster[i], list, sizeof(list));
		fprintf(out, "cpu cluster %s\n", list);
	}
}

static void print_exits(unsigned bits, FILE *out)
{
	const char *sep = " ";

	if (!bits)
		return;
	fprintf(out, "exits disable");
	for (const struct exit_name *e = config_exit_names; e->name; e++) {
		/* Single exits only: "all" is their union. */
		if ((bits & e->bits) && !(e->bits & (e->bits - 1))) {
			fprintf(out, "%s%s", sep, e->name);
			sep = ",";
		}
	}
	fputc('\n', out);
}

static void print_stats(const struct vm_spec *spec, FILE *out)
{
	uint64_t ms = spec->stats_interval_ms;
	bool files = false;

	for (const struct stats_file *f = config_stats_files; f->name; f++)
		files |= *stats_file_path(spec, f) != NULL;
	if (!spec->stats && !ms && !files)
		return;
	/* "on" is the table; settings alone are only their outputs (kw_stats). */
	fprintf(out, "stats%s", spec->stats_table ? " on" : spec->stats ? "" : " off");
	if (ms && !(ms % 1000))
		fprintf(out, " interval %llus", (unsigned long long)(ms / 1000));
	else if (ms)
		fprintf(out, " interval %llums", (unsigned long long)ms);
	for (const struct stats_file *f = config_stats_files; f->name; f++) {
		const char *path = *stats_file_path(spec, f);

		if (!path)
			continue;
		fprintf(out, " %s ", f->name);
		print_path(out, path, true);
	}
	fputc('\n', out);
}

void config_print(const struct vm_spec *spec, FILE *out)
{
	static const char *const quirks[] = {
		[QUIRKS_AUTO] = "auto", [QUIRKS_ON] = "on", [QUIRKS_OFF] = "off",
	};
	char size[32];

	fprintf(out, "# qlite VM description (absolute paths: it works from any directory)\n");
	if (spec->name)
		print_line(out, "system", spec->name);
	config_format_size(spec->ram_size, size, sizeof(size));
	fprintf(out, "ram %s\n", size);
	print_cpus(spec, out);
	if (spec->kernel)
		print_path_line(out, "kernel", spec->kernel);
	if (spec->initrd)
		print_path_line(out, "initrd", spec->initrd);
	for (unsigned i = 0; i < spec->nr_modules; i++) {
		fprintf(out, "module ");
		print_path(out, spec->modules[i].path, false);
		if (spec->modules[i].args) {
			fputc(' ', out);
			print_word(out, spec->modules[i].args, false);
		}
		fputc('\n', out);
	}
	if (spec->cmdline)
		print_line(out, "cmdline", spec->cmdline);
	for (unsigned i = 0; i < spec->nr_vdevs; i++) {
		const struct vdev_spec *vs = &spec->vdevs[i];
		const struct vdev_type *t = vdev_type_lookup(vs->type);

		fprintf(out, "vdev ");
		print_word(out, vs->type, true);
		for (unsigned j = 0; j < vs->nr_opts; j++) {
			fputc(' ', out);
			print_word(out, vs->opts[j].key, true);
			fputc(' ', out);
			if (vdev_opt_is_path(t, vs->opts[j].key))
				print_path(out, vs->opts[j].value, true);
			else
				print_word(out, vs->opts[j].value, true);
		}
		fputc('\n', out);
	}
	print_exits(spec->exits_disable, out);
	if (spec->halt_poll_ns >= 0)
		fprintf(out, "halt-poll %lld\n", (long long)spec->halt_poll_ns);
	if (spec->nr_cpuid_edits) {
		fprintf(out, "cpuid");
		for (unsigned i = 0; i < spec->nr_cpuid_edits; i++)
			fprintf(out, " %c%s", spec->cpuid_edits[i].enable ? '+' : '-',
				spec->cpuid_edits[i].feature);
		fputc('\n', out);
	}
	fprintf(out, "quirks %s\n", spec->quirks <= QUIRKS_OFF ? quirks[spec->quirks] : "auto");
	fprintf(out, "memfd %s\n", spec->memfd ? "on" : "off");
	fprintf(out, "accounting %s\n", spec->accounting_off ? "off" : "on");
	fprintf(out, "acpi %s\n", spec->acpi_off ? "off" : "on");
	fprintf(out, "fw-cfg %s\n", spec->fw_cfg_off ? "off" : "on");
	fprintf(out, "irqchip %s\n", spec->split_irqchip ? "split" : "kernel");
	print_stats(spec, out);
}

/* ---- the reference ---- */

struct doc {
	FILE *out;
	bool md;
	bool man;
};

/*
 * One line of roff: `code` in bold with its hyphens as \- (options stay
 * searchable and copyable), backslashes as \e, and a leading . or ' kept
 * from being read as a request. roff fills the line itself.
 */
void config_print_man_line(FILE *out, const char *text)
{
	bool code = false;

	if (*text == '.' || *text == '\'')
		fputs("\\&", out);
	for (const char *p = text; *p; p++) {
		if (*p == '`') {
			/* \\% : roff must not hyphenate an option or a path. */
			fputs(code ? "\\fR" : "\\fB\\%", out);
			code = !code;
		} else if (*p == '\\') {
			fputs("\\e", out);
		} else if (*p == '-' && code) {
			fputs("\\-", out);
		} else {
			fputc(*p, out);
		}
	}
	if (code)
		fputs("\\fR", out);
	fputc('\n', out);
}

/*
 * Text of the reference is written once, with `code` marks: markdown keeps
 * them, the man page makes them bold, the terminal version drops them and
 * wraps at 78 columns.
 */
static void doc_text(const struct doc *d, unsigned indent, const char *prefix, const char *text)
{
	unsigned col = 0, width = 78;
	const char *p = text;

	if (d->man) {
		config_print_man_line(d->out, text);
		return;
	}
	if (d->md) {
		fprintf(d->out, "%s%s\n", prefix, text);
		return;
	}
	col = fprintf(d->out, "%*s%s", (int)indent, "", prefix);
	while (*p) {
		const char *end = p;
		unsigned len = 0;

		while (*end && *end != ' ') {
			len += *end != '`';
			end++;
		}
		if (col + 1 + len > width && col > indent + strlen(prefix)) {
			fprintf(d->out, "\n%*s", (int)(indent + strlen(prefix)), "");
			col = indent + strlen(prefix);
		} else if (col > indent + strlen(prefix)) {
			fputc(' ', d->out);
			col++;
		}
		for (; p < end; p++)
			if (*p != '`')
				fputc(*p, d->out);
		col += len;
		while (*p == ' ')
			p++;
	}
	fputc('\n', d->out);
}

static void doc_heading(const struct doc *d, unsigned level, const char *text)
{
	if (d->man && level <= 2) {
		fputs(".SH ", d->out);
		for (const char *p = text; *p; p++)
			fputc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, d->out);
		fputc('\n', d->out);
		return;
	}
	if (d->man) {
		fputs(".TP\n", d->out);
		config_print_man_line(d->out, text);
		return;
	}
	if (d->md) {
		fprintf(d->out, "%.*s %s\n\n", (int)level, "####", text);
		return;
	}
	doc_text(d, 0, "", text);
	if (level > 2)
		return;
	for (size_t i = 0; i < strlen(text); i++)
		if (text[i] != '`')
			fputc(level == 1 ? '=' : '-', d->out);
	fputs("\n\n", d->out);
}

static void doc_para(const struct doc *d, const char *text)
{
	if (d->man)
		fputs(".PP\n", d->out);
	doc_text(d, 0, "", text);
	if (!d->man)
		fputc('\n', d->out);
}

static void doc_bullet(const struct doc *d, const char *text)
{
	if (d->man)
		fputs(".IP \\(bu 2\n", d->out);
	doc_text(d, d->md ? 0 : 2, "- ", text);
}

/* A paragraph of the entry a level-3 heading started; in the man page, indented under it. */
static void doc_entry_para(const struct doc *d, const char *text, bool first)
{
	if (d->man && !first)
		fputs(".IP\n", d->out);
	doc_text(d, d->md ? 0 : 4, "", text);
	if (!d->man)
		fputc('\n', d->out);
}

static const char *const intro[] = {
	"A VM is described by a config file, by options of `qlite run` and `qlite check`, or "
	"both: they are one language. Every keyword of a file is also an option: `ram 512M` "
	"in a file is `--ram 512M` or `--ram=512M` on the command line.",
	"`qlite run [FILE.conf] [OPTION]...` reads the file first; options after it override "
	"its once-only keywords and add to its repeatable ones, so `qlite run vm.conf --ram 1G "
	"--vdev e1000,backend=tap` runs vm.conf with 1G of RAM and one more device.",
	"QEMU's options `-m`, `-smp`, `-kernel`, `-initrd`, `-append` and `-nographic` are "
	"accepted too, and mean what they mean in QEMU: `qlite run -kernel vmlinux -m 512 "
	"-nographic` runs with 512 MiB of RAM.",
};

static const char *const syntax[] = {
	"One keyword per line, followed by its values, separated by spaces or tabs.",
	"`#` at the start of a word begins a comment that runs to the end of the line.",
	"A backslash at the end of a line continues the line on the next one; the file must have "
	"that next line: a backslash ending the file is an error.",
	"Values holding spaces, quotes or a leading `#` go in double quotes: `\"my disk.img\"`; "
	"inside quotes, `\\\"` is a quote and `\\\\` a backslash.",
	NULL,	/* the list keywords, generated */
	"SIZE: a number with K, M, G or T (or KiB, MiB, GiB, TiB), in powers of 1024; a bare "
	"number is bytes (MiB after `-m` and `--mem`, as in QEMU). N: decimal, or hex with 0x. "
	"DURATION: a number with ns, us, ms or s.",
	"CPULIST: host CPU numbers and ranges, as in sysfs: `2`, `0-3`, `0,2-3`.",
	"Paths in a file are relative to the directory of that file; on the command line, and "
	"in a config read from standard input (`qlite run -`, `qlite check -`), to the current "
	"directory. Errors in the latter say `<stdin>:LINE`.",
	"The config file, `include`d files, the kernel and the initrd must be regular files "
	"(a FIFO or a device is refused, never waited on); a vdev's `file` may also be a block "
	"device.",
	"A once-only keyword given twice in one file is an error; an included file, a later "
	"file or the command line may override it.",
	"Every error is one line, `FILE:LINE: message` or `--option: message`, and qlite exits "
	"with status 2 before creating anything.",
};

static void doc_list_keywords(const struct doc *d)
{
	char text[512];
	size_t used;

	used = snprintf(text, sizeof(text), "In");
	for (unsigned i = 0, n = 0; i < config_nr_keywords; i++) {
		if (!(config_keywords[i].flags & KW_LIST))
			continue;
		used += snprintf(text + used, sizeof(text) - used, "%s `%s`", n++ ? "," : "",
				 config_keywords[i].name);
	}
	snprintf(text + used, sizeof(text) - used,
		 " lines and options, commas also separate words and `KEY=VALUE` is the same as "
		 "`KEY VALUE`: `vdev virtio-blk,file=disk.img` equals `vdev virtio-blk file "
		 "disk.img`. Quote a value holding a comma or `=`.");
	doc_bullet(d, text);
}

static void doc_keyword(const struct doc *d, const struct config_keyword *kw)
{
	char text[512];
	size_t used;

	snprintf(text, sizeof(text), "`%s%s%s`", kw->name, *kw->syntax ? " " : "", kw->syntax);
	doc_heading(d, 3, text);
	used = snprintf(text, sizeof(text), "Command line:");
	for (unsigned i = 0; i < ARRAY_SIZE(kw->cli) && kw->cli[i]; i++)
		used += snprintf(text + used, sizeof(text) - used, "%s `%s%s%s`", i ? "," : "",
				 kw->cli[i], *kw->syntax ? " " : "", kw->syntax);
	if (kw->flags & KW_VALUE_OPTIONAL)
		used += snprintf(text + used, sizeof(text) - used, " (the value may be left out)");
	snprintf(text + used, sizeof(text) - used, ". %s",
		 kw->flags & KW_REPEATABLE ? "Repeatable: each line or option adds." :
		 "Once per file; the command line overrides.");
	doc_entry_para(d, text, true);
	doc_entry_para(d, kw->help, false);
}

static const char *const kind_names[] = {
	[VDEV_OPT_STRING] = "text", [VDEV_OPT_PATH] = "path", [VDEV_OPT_NUMBER] = "N",
	[VDEV_OPT_SIZE] = "SIZE", [VDEV_OPT_BOOL] = "on|off", [VDEV_OPT_ENUM] = "choice",
	[VDEV_OPT_PIO] = "I/O port", [VDEV_OPT_MMIO] = "MMIO address", [VDEV_OPT_IRQ] = "IRQ",
	[VDEV_OPT_IMAGE] = "disk image",
};

static void doc_vdev_type(const struct doc *d, const struct vdev_type *t)
{
	char text[512];

	snprintf(text, sizeof(text), "`vdev %s`", t->name);
	doc_heading(d, 3, text);
	doc_entry_para(d, t->help ? t->help : "", true);
	if (!t->opts || !t->opts->key)
		return;
	for (const struct vdev_opt_desc *o = t->opts; o->key; o++) {
		snprintf(text, sizeof(text), "`%s` (%s%s): %s", o->key,
			 o->kind == VDEV_OPT_ENUM && o->choices ? o->choices : kind_names[o->kind],
			 o->required ? ", required" : "", o->help ? o->help : "");
		if (d->man)
			fputs(".IP\n", d->out);
		doc_text(d, d->md ? 0 : 4, "- ", text);
	}
	if (!d->man)
		fputc('\n', d->out);
}

static const char example[] =
	"# vm.conf\n"
	"system   linux\n"
	"ram      512M\n"
	"cpu      cluster 2          # one cpu line per vCPU\n"
	"cpu      cluster 3\n"
	"kernel   guest/vmlinux      # relative to this file\n"
	"initrd   guest/initrd.cpio.gz\n"
	"cmdline  console=ttyS0 quiet\n"
	"exits    disable hlt,pause\n"
	"stats    interval 1s json exits.json\n";

void config_print_reference(FILE *out, enum config_doc format)
{
	struct doc d = { out, format == CONFIG_DOC_MARKDOWN, format == CONFIG_DOC_MAN };

	if (d.md) {
		fprintf(out, "# qlite configuration reference\n\n"
			"<!-- Generated from the keyword table (src/config/keywords.c) and the device "
			"table (src/devices/vdev.c) by `qlite help config --markdown`; do not edit. "
			"-->\n\n");
	} else if (d.man) {
		fprintf(out, ".SH CONFIGURATION\n");
	} else {
		fprintf(out, "qlite configuration reference\n=============================\n\n");
	}
	for (unsigned i = 0; i < ARRAY_SIZE(intro); i++)
		doc_para(&d, intro[i]);
	doc_heading(&d, 2, "Syntax");
	for (unsigned i = 0; i < ARRAY_SIZE(syntax); i++) {
		if (syntax[i])
			doc_bullet(&d, syntax[i]);
		else
			doc_list_keywords(&d);
	}
	if (!d.man)
		fputc('\n', out);
	doc_heading(&d, 2, "Keywords");
	for (unsigned i = 0; i < config_nr_keywords; i++)
		doc_keyword(&d, &config_keywords[i]);
	doc_heading(&d, 2, "Device types");
	if (!vdev_type_count())
		doc_para(&d, "This build knows no device types yet: every `vdev` line is rejected "
			 "as an unknown device, with the list of known types.");
	for (unsigned i = 0; i < vdev_type_count(); i++)
		doc_vdev_type(&d, vdev_type_at(i));
	doc_heading(&d, 2, "Example");
	if (d.md) {
		fprintf(out, "```\n%s```\n", example);
		return;
	}
	if (d.man)
		fputs(".PP\n.RS\n.nf\n", out);
	for (const char *p = example; *p;) {
		const char *nl = strchr(p, '\n');

		if (d.man)
			fprintf(out, "\\&%.*s\n", (int)(nl - p), p);
		else
			fprintf(out, "    %.*s\n", (int)(nl - p), p);
		p = nl + 1;
	}
	if (d.man)
		fputs(".fi\n.RE\n", out);
}

void config_print_options(FILE *out)
{
	for (unsigned i = 0; i < config_nr_keywords; i++) {
		const struct config_keyword *kw = &config_keywords[i];

		for (unsigned j = 0; j < ARRAY_SIZE(kw->cli) && kw->cli[j]; j++)
			fprintf(out, "%s%s%s\n", kw->cli[j], *kw->syntax ? " " : "", kw->syntax);
	}
}
