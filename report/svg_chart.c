/* svg_chart: line and scatter charts (see svg_chart.h). */
#include "svg_chart.h"

#include <math.h>
#include <string.h>

#include "cs_alloc.h"
#include "svg.h"

#define PLOT_W_PX 720.0
#define PLOT_H_PX 420.0
#define PLOT_TOP_PX 44.0
#define TITLE_FONT_PX 15.0
#define MARKER_R_PX 3.5
#define LOG_PAD_PX 16.0 /* keeps the extreme points of a log axis off the frame */

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define PALETTE_N ((int)(sizeof palette / sizeof palette[0]))

void svg_chart_init(svg_chart *c, const char *title, const char *x_label, const char *y_label)
{
    memset(c, 0, sizeof *c);
    c->title = title;
    c->x_label = x_label;
    c->y_label = y_label;
    c->mode = SVG_CHART_LINES;
}

static const char *chart_name(const svg_chart *c)
{
    return c->title ? c->title : "(untitled)";
}

int svg_chart_add(svg_chart *c, const char *name, const double *x, const double *y, int n,
                  cs_err *err)
{
    if (c->nseries >= SVG_CHART_MAX_SERIES)
        return cs_fail(err, "chart '%s': series '%s' is one too many; a chart shows at most %d",
                       chart_name(c), name ? name : "", SVG_CHART_MAX_SERIES);
    c->series[c->nseries++] = (svg_series){name, x, y, n};
    return 0;
}

static int check_series(const svg_chart *c, const svg_series *s, cs_err *err)
{
    const char *name = s->name ? s->name : "(unnamed)";
    if (s->n <= 0 || !s->x || !s->y)
        return cs_fail(err, "chart '%s': series '%s' has no points; give it at least one (x, y) "
                            "pair",
                       chart_name(c), name);
    for (int i = 0; i < s->n; i++) {
        /* within +-1e150: the span of the axis (hi - lo, rounded up to a nice
         * step) must stay finite, or the picture is nan */
        if (!(fabs(s->x[i]) <= 1e150) || !(fabs(s->y[i]) <= 1e150))
            return cs_fail(err, "chart '%s': series '%s' point %d is (%g, %g): every x and y "
                                "must be a finite number within +-1e150",
                           chart_name(c), name, i + 1, s->x[i], s->y[i]);
        if (c->x_log2 && s->x[i] <= 0)
            return cs_fail(err, "chart '%s': series '%s' point %d has x = %g, but the x axis is "
                                "logarithmic and needs x > 0",
                           chart_name(c), name, i + 1, s->x[i]);
    }
    return 0;
}

static int check_chart(const svg_chart *c, cs_err *err)
{
    if (c->nseries <= 0)
        return cs_fail(err, "chart '%s': no series to draw; add a series with at least one "
                            "point",
                       chart_name(c));
    if (c->nseries > SVG_CHART_MAX_SERIES)
        return cs_fail(err, "chart '%s': %d series, at most %d", chart_name(c), c->nseries,
                       SVG_CHART_MAX_SERIES);
    for (int i = 0; i < c->nseries; i++)
        if (check_series(c, &c->series[i], err) != 0)
            return -1;
    return 0;
}

/* The axes' ranges: x over the data (nice on a linear axis), y from 0 or
 * below to the largest value, nice. */
static void data_ranges(const svg_chart *c, svg_axis *x, svg_axis *y)
{
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = 0, y_hi = -INFINITY;
    for (int i = 0; i < c->nseries; i++)
        for (int k = 0; k < c->series[i].n; k++) {
            x_lo = fmin(x_lo, c->series[i].x[k]);
            x_hi = fmax(x_hi, c->series[i].x[k]);
            y_lo = fmin(y_lo, c->series[i].y[k]);
            y_hi = fmax(y_hi, c->series[i].y[k]);
        }
    if (c->x_log2 && x_hi <= x_lo) {
        x_lo /= 2;
        x_hi *= 2;
    } else if (!c->x_log2) {
        svg_nice_range(&x_lo, &x_hi, 6);
    }
    svg_nice_range(&y_lo, &y_hi, 6);
    *x = (svg_axis){x_lo, x_hi, 0, 0, c->x_log2};
    *y = (svg_axis){y_lo, y_hi, PLOT_TOP_PX + PLOT_H_PX, PLOT_TOP_PX, 0};
}

static void draw_series(FILE *f, const svg_chart *c, int i, const svg_axis *x,
                        const svg_axis *y)
{
    const svg_series *s = &c->series[i];
    const char *color = palette[i % PALETTE_N];
    const char *name = s->name ? s->name : "(unnamed)";
    double *px = cs_xrealloc(NULL, sizeof *px * (size_t)s->n);
    double *py = cs_xrealloc(NULL, sizeof *py * (size_t)s->n);
    char tip[160];
    for (int k = 0; k < s->n; k++) {
        px[k] = svg_axis_px(x, s->x[k]);
        py[k] = svg_axis_px(y, s->y[k]);
    }
    svg_group_begin(f, "series");
    if (c->mode == SVG_CHART_LINES && s->n > 1)
        svg_polyline(f, px, py, s->n, color, 2, i >= PALETTE_N ? "6 3" : NULL);
    for (int k = 0; k < s->n; k++) {
        snprintf(tip, sizeof tip, "%s: x = %g, y = %g", name, s->x[k], s->y[k]);
        svg_circle(f, px[k], py[k], MARKER_R_PX, color, tip);
    }
    svg_group_end(f);
    free(px);
    free(py);
}

static int legend_entries(const svg_chart *c, svg_legend_entry *e)
{
    for (int i = 0; i < c->nseries; i++) {
        memset(&e[i], 0, sizeof e[i]);
        snprintf(e[i].label, sizeof e[i].label, "%s",
                 c->series[i].name ? c->series[i].name : "(unnamed)");
        snprintf(e[i].color, sizeof e[i].color, "%s", palette[i % PALETTE_N]);
        e[i].dash = i >= PALETTE_N ? "6 3" : NULL;
        e[i].key = c->mode == SVG_CHART_LINES ? SVG_KEY_LINE_MARKER : SVG_KEY_MARKER;
    }
    return c->nseries;
}

int svg_chart_write(FILE *f, const svg_chart *c, cs_err *err)
{
    if (check_chart(c, err) != 0)
        return -1;
    svg_axis x, y;
    data_ranges(c, &x, &y);
    double left = 10 + 12 + 8 + svg_axis_label_width_px(&y) + 16;
    double right = left + PLOT_W_PX, bottom = PLOT_TOP_PX + PLOT_H_PX;
    double pad = c->x_log2 ? LOG_PAD_PX : 0;
    x.px_lo = left + pad;
    x.px_hi = right - pad;
    svg_legend_entry legend[SVG_CHART_MAX_SERIES];
    int n = legend_entries(c, legend);
    double legend_w = svg_legend_entry_width_px(legend, n);
    double width = right + 20 + legend_w + 10;
    double height = fmax(bottom + SVG_AXIS_X_HEIGHT_PX + 10,
                         PLOT_TOP_PX + svg_legend_height_px(legend, n, legend_w) + 10);

    svg_begin(f, width, height, chart_name(c));
    if (c->title)
        svg_text(f, 10, 26, TITLE_FONT_PX, SVG_START, 0, NULL, c->title);
    svg_axis_y(f, &y, left, right, c->y_label);
    svg_axis_x(f, &x, bottom, PLOT_TOP_PX, c->x_label);
    svg_rect(f, left, PLOT_TOP_PX, PLOT_W_PX, PLOT_H_PX, "none", "#333333", NULL);
    for (int i = 0; i < c->nseries; i++)
        draw_series(f, c, i, &x, &y);
    svg_legend(f, legend, n, right + 20, PLOT_TOP_PX, legend_w);
    svg_end(f);
    fflush(f);
    if (ferror(f))
        return cs_fail(err, "chart '%s': writing the SVG failed", chart_name(c));
    return 0;
}
