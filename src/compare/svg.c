// SPDX-License-Identifier: GPL-2.0-only
/*
 * The comparison as a picture: SVG 1.1, grouped bars of exits per unit of
 * work (medians; a whisker for min..max), one group per exit reason and per
 * device, A beside B. When the bars span more than 100x the axis is log10,
 * so a device with 20x fewer exits is still a visible bar. Each bar carries
 * a <title> (a browser's tooltip) with its row and value.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/compare.h"

#define SVG_LEFT	80
#define SVG_TOP		56
#define SVG_PLOT_H	300
#define SVG_BOTTOM	170
#define SVG_BAR_W	18
#define SVG_GROUP_GAP	16
#define SVG_RIGHT	24

static const char *const bar_color[2] = { "#4e79a7", "#f28e2b" };

static void svg_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			/* Only printable ASCII: nothing an XML parser could refuse. */
			fputc((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?', out);
		}
	}
}

struct svg_bar {
	const struct cmp_row *row;
	struct cmp_stat st[2];
};

struct svg_scale {
	bool log;
	double lo, hi;	/* the axis' ends */
};

static double svg_y(const struct svg_scale *sc, double v)
{
	double f;

	if (isnan(v) || v <= 0)
		f = 0;
	else if (sc->log)
		f = (log10(v) - log10(sc->lo)) / (log10(sc->hi) - log10(sc->lo));
	else
		f = v / sc->hi;
	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	return SVG_TOP + SVG_PLOT_H * (1 - f);
}

static void svg_pick_scale(const struct svg_bar *bars, unsigned n, struct svg_scale *sc)
{
	double lo = INFINITY, hi = 0;

	for (unsigned i = 0; i < n; i++)
		for (unsigned s = 0; s < 2; s++) {
			double v = bars[i].st[s].n ? bars[i].st[s].max : 0;
			double m = bars[i].st[s].n ? bars[i].st[s].median : 0;

			if (v > hi)
				hi = v;
			if (m > 0 && m < lo)
				lo = m;
		}
	if (hi <= 0) {
		*sc = (struct svg_scale){ .log = false, .lo = 0, .hi = 1 };
		return;
	}
	sc->log = lo < INFINITY && hi / lo > 100;
	if (sc->log) {
		/* Decades around the values; the smallest bar keeps some height. */
		sc->lo = pow(10, floor(log10(lo)));
		if (sc->lo >= lo)
			sc->lo /= 10;
		sc->hi = pow(10, ceil(log10(hi)));
	} else {
		double step = pow(10, floor(log10(hi)));

		sc->lo = 0;
		sc->hi = ceil(hi / step) * step;
	}
}

static void svg_axis(FILE *out, const struct svg_scale *sc, unsigned width, const char *unit)
{
	fprintf(out, "  <g class=\"axis\" font-size=\"11\" text-anchor=\"end\">\n");
	if (sc->log) {
		for (double t = sc->lo; t <= sc->hi * 1.0001; t *= 10) {
			double y = svg_y(sc, t);

			fprintf(out, "    <line x1=\"%d\" y1=\"%.1f\" x2=\"%u\" y2=\"%.1f\" "
				"stroke=\"#ddd\"/>\n", SVG_LEFT, y, width - SVG_RIGHT, y);
			fprintf(out, "    <text x=\"%d\" y=\"%.1f\">%g</text>\n", SVG_LEFT - 6, y + 4, t);
		}
	} else {
		for (int i = 0; i <= 5; i++) {
			double t = sc->hi * i / 5, y = svg_y(sc, t);

			fprintf(out, "    <line x1=\"%d\" y1=\"%.1f\" x2=\"%u\" y2=\"%.1f\" "
				"stroke=\"#ddd\"/>\n", SVG_LEFT, y, width - SVG_RIGHT, y);
			fprintf(out, "    <text x=\"%d\" y=\"%.1f\">%g</text>\n", SVG_LEFT - 6, y + 4, t);
		}
	}
	fprintf(out, "    <text x=\"16\" y=\"%d\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 16 %d)\">exits per ", SVG_TOP + SVG_PLOT_H / 2,
		SVG_TOP + SVG_PLOT_H / 2);
	svg_text(out, unit);
	fprintf(out, " (%s scale)</text>\n  </g>\n", sc->log ? "log" : "linear");
}

static void svg_group(FILE *out, const struct svg_bar *b, unsigned i, const struct svg_scale *sc,
		      const struct cmp_result *r)
{
	double x0 = SVG_LEFT + SVG_GROUP_GAP / 2.0 + i * (2.0 * SVG_BAR_W + SVG_GROUP_GAP);
	double base = svg_y(sc, 0);

	fprintf(out, "  <g class=\"group\" id=\"group-%u\">\n", i);
	for (unsigned s = 0; s < 2; s++) {
		const struct cmp_stat *st = &b->st[s];
		double v = st->n ? st->median : 0, y = svg_y(sc, v), x = x0 + s * SVG_BAR_W;
		char val[32];

		snprintf(val, sizeof(val), "%.6g", v);
		fprintf(out, "    <rect class=\"bar %c\" id=\"bar-%c-%u\" x=\"%.1f\" y=\"%.2f\" "
			"width=\"%d\" height=\"%.2f\" fill=\"%s\">\n      <title>%s ",
			"ab"[s], "ab"[s], i, x, y, SVG_BAR_W - 2, base - y, bar_color[s],
			cmp_section_name(b->row->section));
		svg_text(out, b->row->name);
		fprintf(out, ": %c ", "AB"[s]);
		svg_text(out, r->side[s].label);
		fprintf(out, " %s exits per ", st->n ? val : "none");
		svg_text(out, r->w.unit);
		fprintf(out, "</title>\n    </rect>\n");
		if (st->n > 1 && st->max > st->min) {
			double cx = x + (SVG_BAR_W - 2) / 2.0;

			fprintf(out, "    <line class=\"spread\" x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" "
				"y2=\"%.2f\" stroke=\"#333\"/>\n", cx, svg_y(sc, st->min), cx,
				svg_y(sc, st->max));
		}
	}
	fprintf(out, "    <text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" "
		"transform=\"rotate(-45 %.1f %d)\">", x0 + SVG_BAR_W, SVG_TOP + SVG_PLOT_H + 14,
		x0 + SVG_BAR_W, SVG_TOP + SVG_PLOT_H + 14);
	fputs(b->row->section == CMP_DEVICE ? "device " : "exit ", out);
	svg_text(out, b->row->name);
	fprintf(out, "</text>\n  </g>\n");
}

int cmp_write_svg(const struct cmp_result *r, FILE *out)
{
	struct svg_bar *bars = calloc(r->nr_rows ? r->nr_rows : 1, sizeof(*bars));
	struct svg_scale sc;
	unsigned n = 0, width, height = SVG_TOP + SVG_PLOT_H + SVG_BOTTOM;

	if (!bars)
		return -ENOMEM;
	/* The reasons first, then the devices. */
	for (unsigned i = 0; i < 2 * r->nr_rows; i++) {
		const struct cmp_row *row = &r->rows[i % r->nr_rows];
		struct svg_bar *b = &bars[n];

		if (row->section != (i < r->nr_rows ? CMP_REASON : CMP_DEVICE))
			continue;
		b->row = row;
		for (unsigned s = 0; s < 2; s++)
			cmp_row_stat(r, row, s, CMP_COUNT, CMP_PER_UNIT, &b->st[s]);
		if ((b->st[0].n && b->st[0].median > 0) || (b->st[1].n && b->st[1].median > 0))
			n++;
	}
	svg_pick_scale(bars, n, &sc);
	width = SVG_LEFT + n * (2 * SVG_BAR_W + SVG_GROUP_GAP) + SVG_RIGHT;
	if (width < 480)
		width = 480;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
		"\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%u\" "
		"height=\"%u\" viewBox=\"0 0 %u %u\" font-family=\"sans-serif\">\n"
		"  <title>qlite compare: ", width, height, width, height);
	svg_text(out, r->w.spec);
	fprintf(out, "</title>\n  <rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" fill=\"white\"/>\n"
		"  <text x=\"%d\" y=\"20\" font-size=\"14\">exits per ", width, height, SVG_LEFT);
	svg_text(out, r->w.unit);
	fputs(" (", out);
	svg_text(out, r->w.spec);
	fprintf(out, ", median of %u run%s)</text>\n", r->runs, r->runs == 1 ? "" : "s");
	for (unsigned s = 0; s < 2; s++) {
		int x = SVG_LEFT + s * 200;

		fprintf(out, "  <rect class=\"legend\" x=\"%d\" y=\"30\" width=\"12\" height=\"12\" "
			"fill=\"%s\"/>\n  <text x=\"%d\" y=\"41\" font-size=\"12\">%c: ", x,
			bar_color[s], x + 16, "AB"[s]);
		svg_text(out, r->side[s].label);
		fputs("</text>\n", out);
	}
	fprintf(out, "  <g id=\"plot\" class=\"%s\">\n", sc.log ? "log" : "linear");
	svg_axis(out, &sc, width, r->w.unit);
	for (unsigned i = 0; i < n; i++)
		svg_group(out, &bars[i], i, &sc, r);
	fprintf(out, "  <line x1=\"%d\" y1=\"%.1f\" x2=\"%u\" y2=\"%.1f\" stroke=\"#000\"/>\n"
		"  </g>\n</svg>\n", SVG_LEFT, svg_y(&sc, 0), width - SVG_RIGHT, svg_y(&sc, 0));
	free(bars);
	return ferror(out) ? -EIO : 0;
}
