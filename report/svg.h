/* svg: a minimal SVG 1.1 writer onto a FILE*, with axes and legends.
 *
 * Owns the markup of the pictures clustersim draws (svg_pipeline,
 * svg_chart): the document with its white background and <title>,
 * rectangles, circles, lines, polylines and step lines, text with XML
 * escaping; "nice" axis ticks at 1, 2 or 5 x 10^k (or doublings on a base-2
 * axis) and their compact labels; axes drawn with ticks, labels and grid
 * lines; legends that wrap into lines of a given width.
 *
 * Coordinates are SVG user units (px), y pointing down.  The writers do not
 * check every fprintf: a picture's writer checks ferror once at the end.
 * Text widths are estimates (no font metrics): callers use them to keep
 * labels from overlapping, so they err on the wide side. */
#ifndef CS_SVG_H
#define CS_SVG_H

#include <stdio.h>

#define SVG_FONT_FAMILY "DejaVu Sans, sans-serif"

typedef enum svg_anchor { SVG_START, SVG_MIDDLE, SVG_END } svg_anchor;

/* The XML header, the <svg> element, a white background and <title>. */
void svg_begin(FILE *f, double width_px, double height_px, const char *title);
void svg_end(FILE *f);

/* A group; class_name (may be NULL) lets readers and tests find parts. */
void svg_group_begin(FILE *f, const char *class_name);
void svg_group_end(FILE *f);

/* stroke and tooltip may be NULL; the tooltip becomes a <title> child,
 * shown by browsers on hover. */
void svg_rect(FILE *f, double x, double y, double w, double h, const char *fill,
              const char *stroke, const char *tooltip);
void svg_circle(FILE *f, double cx, double cy, double r, const char *fill,
                const char *tooltip);

/* dash is a stroke-dasharray such as "6 3", or NULL for a solid line. */
void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke,
              double width_px, const char *dash);
void svg_polyline(FILE *f, const double *x, const double *y, int n, const char *stroke,
                  double width_px, const char *dash);
/* A step function: y[i] holds from x[i] until x[i + 1]. */
void svg_step_line(FILE *f, const double *x, const double *y, int n, const char *stroke,
                   double width_px, const char *dash);

/* Text at (x, y) (the baseline), turned by rotate_deg about that point. */
void svg_text(FILE *f, double x, double y, double size_px, svg_anchor anchor,
              double rotate_deg, const char *fill, const char *text);

/* Writes text with & < > " ' escaped; control characters become spaces. */
void svg_escape(FILE *f, const char *text);

/* Estimated width of text in the sans-serif font: about 0.6 em per
 * character, more for capitals (a UTF-8 sequence counts as one). */
double svg_text_width_px(const char *text, double size_px);

/* ---- ticks ---- */

/* The step, 1, 2 or 5 x 10^k, that cuts [lo, hi] into about `target` parts. */
double svg_nice_step(double lo, double hi, int target);

/* The multiples of svg_nice_step inside [lo, hi], ascending, at most max;
 * returns their number (0 when the range is empty or not finite). */
int svg_nice_ticks(double lo, double hi, int target, double *ticks, int max);

/* Widens [*lo, *hi] outward to multiples of the nice step. */
void svg_nice_range(double *lo, double *hi, int target);

/* Ticks of a base-2 axis: lo, then repeated doublings (or quadruplings
 * and more when the range is wide) up to hi; lo > 0. */
int svg_log2_ticks(double lo, double hi, int target, double *ticks, int max);

/* A tick label: "0", "0.25", "2000", "1500000"; %g with an exponent only
 * below 1e-4 or from 1e15. */
void svg_tick_label(char *buf, size_t size, double v);

/* ---- axes ---- */

/* Maps values [lo, hi] onto pixels [px_lo, px_hi] (px_hi < px_lo for an
 * upward y axis); log2 for a base-2 logarithmic axis (lo > 0). */
typedef struct svg_axis {
    double lo, hi;
    double px_lo, px_hi;
    int log2;
} svg_axis;

double svg_axis_px(const svg_axis *a, double v);

/* The widest tick label of the axis, to size the margin beside it. */
double svg_axis_label_width_px(const svg_axis *a);

/* A horizontal axis line at y_px with ticks, tick labels and the axis
 * label below it; grid lines up to grid_top_px (none when it is >= y_px). */
void svg_axis_x(FILE *f, const svg_axis *a, double y_px, double grid_top_px,
                const char *label);
/* A vertical axis line at x_px with tick labels left of it and the label
 * turned upright beside them; grid lines right to grid_right_px. */
void svg_axis_y(FILE *f, const svg_axis *a, double x_px, double grid_right_px,
                const char *label);

/* Space an x axis takes below its line: ticks, labels and the axis label. */
#define SVG_AXIS_X_HEIGHT_PX 44.0

/* ---- legends ---- */

typedef enum svg_key {
    SVG_KEY_SWATCH,      /* a filled square: boxes */
    SVG_KEY_LINE,        /* a short line: lines */
    SVG_KEY_LINE_MARKER, /* a line through a dot: lines with point markers */
    SVG_KEY_MARKER       /* a dot: scatter points */
} svg_key;

typedef struct svg_legend_entry {
    char label[96];
    char color[16];    /* "#rrggbb" */
    const char *dash;  /* line samples: stroke-dasharray, or NULL */
    svg_key key;
} svg_legend_entry;

/* Height of the legend wrapped into lines at most width_px wide. */
double svg_legend_height_px(const svg_legend_entry *e, int n, double width_px);
/* Width of its widest entry (a legend in one column is this wide). */
double svg_legend_entry_width_px(const svg_legend_entry *e, int n);
void svg_legend(FILE *f, const svg_legend_entry *e, int n, double x, double y,
                double width_px);

#endif
