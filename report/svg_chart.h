/* svg_chart: a line or scatter chart of a few series, as SVG.
 *
 * Owns the generic chart that scenario scripts and the layout search draw
 * their sweeps with: a title, axis labels, an x axis linear or base-2
 * logarithmic (NIC speeds 200, 400, 800; GPU counts), series as lines with
 * point markers or as points only, a legend right of the plot and a tooltip
 * on every point.  The y axis starts at 0 unless values go below it.  The
 * series' arrays stay the caller's; nothing is copied. */
#ifndef CS_SVG_CHART_H
#define CS_SVG_CHART_H

#include <stdio.h>

#include "cs_error.h"

#define SVG_CHART_MAX_SERIES 16

typedef enum svg_chart_mode {
    SVG_CHART_LINES,  /* points joined in the order given, with markers */
    SVG_CHART_POINTS  /* markers only */
} svg_chart_mode;

typedef struct svg_series {
    const char *name;
    const double *x, *y; /* n values each, caller-owned */
    int n;
} svg_series;

typedef struct svg_chart {
    const char *title, *x_label, *y_label; /* each may be NULL */
    int x_log2;                            /* base-2 logarithmic x axis */
    svg_chart_mode mode;
    svg_series series[SVG_CHART_MAX_SERIES];
    int nseries;
} svg_chart;

/* An empty line chart with linear axes. */
void svg_chart_init(svg_chart *c, const char *title, const char *x_label, const char *y_label);

/* Appends a series; -1 with err when the chart already has the most. */
int svg_chart_add(svg_chart *c, const char *name, const double *x, const double *y, int n,
                  cs_err *err);

/* Checks the chart (at least one series, none empty, every value finite,
 * x > 0 on a logarithmic axis) and writes it.  Returns 0, or -1 with err
 * when the chart is refused (nothing written) or writing failed. */
int svg_chart_write(FILE *f, const svg_chart *c, cs_err *err);

#endif
