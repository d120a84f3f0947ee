/* svg: SVG markup, ticks, axes and legends (see svg.h). */
#include "svg.h"

#include <math.h>
#include <string.h>

#define TICK_FONT_PX 11.0
#define AXIS_LABEL_FONT_PX 12.0
#define LEGEND_FONT_PX 12.0
#define LEGEND_LINE_PX 20.0
#define LEGEND_SAMPLE_PX 18.0
#define MAX_TICKS 64
#define GRID_COLOR "#dddddd"
#define AXIS_COLOR "#333333"

void svg_begin(FILE *f, double width_px, double height_px, const char *title)
{
    double w = ceil(width_px), h = ceil(height_px);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\">\n",
            w, h, w, h, SVG_FONT_FAMILY);
    fputs("<title>", f);
    svg_escape(f, title ? title : "");
    fputs("</title>\n", f);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", w, h);
}

void svg_end(FILE *f)
{
    fputs("</svg>\n", f);
}

void svg_group_begin(FILE *f, const char *class_name)
{
    if (class_name) {
        fputs("<g class=\"", f);
        svg_escape(f, class_name);
        fputs("\">\n", f);
    } else {
        fputs("<g>\n", f);
    }
}

void svg_group_end(FILE *f)
{
    fputs("</g>\n", f);
}

/* Closes an element, with the tooltip as a <title> child when there is one. */
static void close_with_tooltip(FILE *f, const char *element, const char *tooltip)
{
    if (!tooltip) {
        fputs("/>\n", f);
        return;
    }
    fputs("><title>", f);
    svg_escape(f, tooltip);
    fprintf(f, "</title></%s>\n", element);
}

void svg_rect(FILE *f, double x, double y, double w, double h, const char *fill,
              const char *stroke, const char *tooltip)
{
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"", x, y,
            w > 0 ? w : 0, h > 0 ? h : 0, fill);
    if (stroke)
        fprintf(f, " stroke=\"%s\" stroke-width=\"1\"", stroke);
    close_with_tooltip(f, "rect", tooltip);
}

void svg_circle(FILE *f, double cx, double cy, double r, const char *fill, const char *tooltip)
{
    fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"%s\"", cx, cy, r, fill);
    close_with_tooltip(f, "circle", tooltip);
}

static void stroke_attrs(FILE *f, const char *stroke, double width_px, const char *dash)
{
    fprintf(f, " fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\"", stroke, width_px);
    if (dash)
        fprintf(f, " stroke-dasharray=\"%s\"", dash);
}

void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke,
              double width_px, const char *dash)
{
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"", x1, y1, x2, y2);
    stroke_attrs(f, stroke, width_px, dash);
    fputs("/>\n", f);
}

void svg_polyline(FILE *f, const double *x, const double *y, int n, const char *stroke,
                  double width_px, const char *dash)
{
    fputs("<polyline points=\"", f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%.2f,%.2f", i ? " " : "", x[i], y[i]);
    fputc('"', f);
    stroke_attrs(f, stroke, width_px, dash);
    fputs("/>\n", f);
}

void svg_step_line(FILE *f, const double *x, const double *y, int n, const char *stroke,
                   double width_px, const char *dash)
{
    fputs("<polyline points=\"", f);
    for (int i = 0; i < n; i++) {
        /* the level reached at x[i] runs from the previous level's end */
        if (i > 0)
            fprintf(f, " %.2f,%.2f ", x[i], y[i - 1]);
        fprintf(f, "%.2f,%.2f", x[i], y[i]);
    }
    fputc('"', f);
    stroke_attrs(f, stroke, width_px, dash);
    fputs("/>\n", f);
}

void svg_text(FILE *f, double x, double y, double size_px, svg_anchor anchor, double rotate_deg,
              const char *fill, const char *text)
{
    static const char *const anchors[] = {"start", "middle", "end"};
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\"", x, y, size_px);
    if (anchor != SVG_START)
        fprintf(f, " text-anchor=\"%s\"", anchors[anchor]);
    if (rotate_deg != 0)
        fprintf(f, " transform=\"rotate(%.1f %.2f %.2f)\"", rotate_deg, x, y);
    if (fill)
        fprintf(f, " fill=\"%s\"", fill);
    fputc('>', f);
    svg_escape(f, text);
    fputs("</text>\n", f);
}

void svg_escape(FILE *f, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* XML 1.0 forbids most control characters, even escaped */
            fputc(*p < 0x20 ? ' ' : *p, f);
        }
    }
}

double svg_text_width_px(const char *text, double size_px)
{
    /* DejaVu Sans: digits 0.64 em, lower case about 0.55-0.6 em, capitals
     * about 0.7 em (W and M more) */
    double em = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p & 0xC0) != 0x80)
            em += *p >= 'A' && *p <= 'Z' ? 0.75 : 0.62;
    return em * size_px;
}

/* ---- ticks ---- */

/* The nice step as mantissa x 10^exponent, so that ticks can be computed
 * from integers and come out as the doubles nearest to 0.2, 0.6, ... */
static int nice_step_parts(double lo, double hi, int target, int *mantissa, int *exponent)
{
    double range = hi - lo;
    if (!isfinite(range) || !(range > 0))
        return -1;
    double raw = range / (target > 0 ? target : 1);
    int e = (int)floor(log10(raw));
    double norm = raw / pow(10, e);
    int m = norm <= 1 + 1e-9 ? 1 : norm <= 2 + 1e-9 ? 2 : norm <= 5 + 1e-9 ? 5 : 10;
    if (m == 10) {
        m = 1;
        e++;
    }
    *mantissa = m;
    *exponent = e;
    return 0;
}

/* k x mantissa x 10^exponent, dividing for negative exponents: 6 / 10 is
 * the double nearest 0.6, while 6 x 0.1 is not. */
static double step_multiple(double k, int mantissa, int exponent)
{
    return exponent >= 0 ? k * mantissa * pow(10, exponent) : k * mantissa / pow(10, -exponent);
}

double svg_nice_step(double lo, double hi, int target)
{
    int m, e;
    return nice_step_parts(lo, hi, target, &m, &e) == 0 ? step_multiple(1, m, e) : 0;
}

int svg_nice_ticks(double lo, double hi, int target, double *ticks, int max)
{
    int m, e, n = 0;
    if (nice_step_parts(lo, hi, target, &m, &e) != 0)
        return 0;
    double step = step_multiple(1, m, e);
    double kmin = ceil(lo / step - 1e-9), kmax = floor(hi / step + 1e-9);
    for (double k = kmin; k <= kmax && n < max; k++) {
        double v = step_multiple(k, m, e);
        ticks[n++] = v == 0 ? 0 : v; /* no -0 */
    }
    return n;
}

void svg_nice_range(double *lo, double *hi, int target)
{
    if (!isfinite(*lo) || !isfinite(*hi))
        return;
    if (!(*hi > *lo)) {
        double d = *lo != 0 ? fabs(*lo) * 0.5 : 1;
        *lo -= d;
        *hi += d;
    }
    int m, e;
    if (nice_step_parts(*lo, *hi, target, &m, &e) != 0)
        return;
    double step = step_multiple(1, m, e);
    double lo_n = step_multiple(floor(*lo / step + 1e-9), m, e);
    double hi_n = step_multiple(ceil(*hi / step - 1e-9), m, e);
    *lo = lo_n == 0 ? 0 : lo_n;
    *hi = hi_n;
}

int svg_log2_ticks(double lo, double hi, int target, double *ticks, int max)
{
    if (!(lo > 0) || !(hi >= lo) || !isfinite(hi))
        return 0;
    double doublings = log2(hi / lo);
    int per_tick = (int)ceil(doublings / (target > 0 ? target : 1) - 1e-9);
    if (per_tick < 1)
        per_tick = 1;
    int n = 0;
    for (int k = 0; n < max; k += per_tick) {
        double v = ldexp(lo, k);
        if (v > hi * (1 + 1e-9))
            break;
        ticks[n++] = v;
    }
    return n;
}

void svg_tick_label(char *buf, size_t size, double v)
{
    double a = fabs(v);
    if (v == 0 || a < 1e-4 || a >= 1e15) {
        snprintf(buf, size, "%g", v == 0 ? 0.0 : v);
        return;
    }
    snprintf(buf, size, "%.4f", v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, size, "0");
}

/* ---- axes ---- */

double svg_axis_px(const svg_axis *a, double v)
{
    double t;
    if (a->log2)
        t = a->hi > a->lo ? log2(v / a->lo) / log2(a->hi / a->lo) : 0;
    else
        t = a->hi > a->lo ? (v - a->lo) / (a->hi - a->lo) : 0;
    return a->px_lo + t * (a->px_hi - a->px_lo);
}

static int ticks_for_target(const svg_axis *a, int target, double *ticks)
{
    return a->log2 ? svg_log2_ticks(a->lo, a->hi, target, ticks, MAX_TICKS)
                   : svg_nice_ticks(a->lo, a->hi, target, ticks, MAX_TICKS);
}

static double widest_label_px(const double *ticks, int n)
{
    double w = 0;
    char buf[64];
    for (int i = 0; i < n; i++) {
        svg_tick_label(buf, sizeof buf, ticks[i]);
        double wi = svg_text_width_px(buf, TICK_FONT_PX);
        if (wi > w)
            w = wi;
    }
    return w;
}

/* Ticks about min_gap_px apart; along x, fewer until the labels (side by
 * side) do not touch. */
static int axis_ticks(const svg_axis *a, double min_gap_px, int labels_side_by_side,
                      double *ticks)
{
    double len = fabs(a->px_hi - a->px_lo);
    /* every doubling of a base-2 axis is worth a tick when the labels fit */
    if (a->log2)
        min_gap_px /= 2;
    int target = (int)(len / min_gap_px);
    if (target < 2)
        target = 2;
    for (;; target--) {
        int n = ticks_for_target(a, target, ticks);
        if (!labels_side_by_side || n < 2 || target <= 1)
            return n;
        double gap = fabs(svg_axis_px(a, ticks[1]) - svg_axis_px(a, ticks[0]));
        if (gap >= widest_label_px(ticks, n) + 12)
            return n;
    }
}

double svg_axis_label_width_px(const svg_axis *a)
{
    double ticks[MAX_TICKS];
    int n = axis_ticks(a, 50, 0, ticks);
    return widest_label_px(ticks, n);
}

void svg_axis_x(FILE *f, const svg_axis *a, double y_px, double grid_top_px, const char *label)
{
    double ticks[MAX_TICKS];
    char buf[64];
    int n = axis_ticks(a, 100, 1, ticks);
    for (int i = 0; i < n; i++) {
        double x = svg_axis_px(a, ticks[i]);
        if (grid_top_px < y_px)
            svg_line(f, x, grid_top_px, x, y_px, GRID_COLOR, 1, NULL);
        svg_line(f, x, y_px, x, y_px + 5, AXIS_COLOR, 1, NULL);
        svg_tick_label(buf, sizeof buf, ticks[i]);
        svg_text(f, x, y_px + 18, TICK_FONT_PX, SVG_MIDDLE, 0, NULL, buf);
    }
    svg_line(f, a->px_lo, y_px, a->px_hi, y_px, AXIS_COLOR, 1, NULL);
    if (label)
        svg_text(f, (a->px_lo + a->px_hi) / 2, y_px + 36, AXIS_LABEL_FONT_PX, SVG_MIDDLE, 0,
                 NULL, label);
}

void svg_axis_y(FILE *f, const svg_axis *a, double x_px, double grid_right_px, const char *label)
{
    double ticks[MAX_TICKS];
    char buf[64];
    int n = axis_ticks(a, 50, 0, ticks);
    for (int i = 0; i < n; i++) {
        double y = svg_axis_px(a, ticks[i]);
        if (grid_right_px > x_px)
            svg_line(f, x_px, y, grid_right_px, y, GRID_COLOR, 1, NULL);
        svg_line(f, x_px - 5, y, x_px, y, AXIS_COLOR, 1, NULL);
        svg_tick_label(buf, sizeof buf, ticks[i]);
        svg_text(f, x_px - 8, y + 4, TICK_FONT_PX, SVG_END, 0, NULL, buf);
    }
    svg_line(f, x_px, a->px_lo, x_px, a->px_hi, AXIS_COLOR, 1, NULL);
    if (label) {
        /* turned -90 degrees, the glyphs stand left of the baseline */
        double x = x_px - 8 - widest_label_px(ticks, n) - 8;
        svg_text(f, x, (a->px_lo + a->px_hi) / 2, AXIS_LABEL_FONT_PX, SVG_MIDDLE, -90, NULL,
                 label);
    }
}

/* ---- legends ---- */

static double entry_width_px(const svg_legend_entry *e)
{
    return LEGEND_SAMPLE_PX + 6 + svg_text_width_px(e->label, LEGEND_FONT_PX) + 18;
}

static void draw_entry(FILE *f, const svg_legend_entry *e, double x, double baseline)
{
    double mid_y = baseline - 4.5;
    if (e->key == SVG_KEY_SWATCH)
        svg_rect(f, x + 3, baseline - 11, 12, 12, e->color, "#666666", NULL);
    if (e->key == SVG_KEY_LINE || e->key == SVG_KEY_LINE_MARKER)
        svg_line(f, x, mid_y, x + LEGEND_SAMPLE_PX, mid_y, e->color, 2.5, e->dash);
    if (e->key == SVG_KEY_MARKER || e->key == SVG_KEY_LINE_MARKER)
        svg_circle(f, x + LEGEND_SAMPLE_PX / 2, mid_y, 3.5, e->color, NULL);
    svg_text(f, x + LEGEND_SAMPLE_PX + 6, baseline, LEGEND_FONT_PX, SVG_START, 0, NULL,
             e->label);
}

/* Lays the entries out left to right, wrapping at width_px; draws them
 * when f is not NULL.  Returns the number of lines. */
static int legend_layout(FILE *f, const svg_legend_entry *e, int n, double x, double y,
                         double width_px)
{
    int lines = n > 0;
    double cx = x;
    for (int i = 0; i < n; i++) {
        double w = entry_width_px(&e[i]);
        if (cx > x && cx + w > x + width_px) {
            cx = x;
            lines++;
        }
        if (f)
            draw_entry(f, &e[i], cx, y + lines * LEGEND_LINE_PX - 6);
        cx += w;
    }
    return lines;
}

double svg_legend_height_px(const svg_legend_entry *e, int n, double width_px)
{
    return legend_layout(NULL, e, n, 0, 0, width_px) * LEGEND_LINE_PX;
}

double svg_legend_entry_width_px(const svg_legend_entry *e, int n)
{
    double w = 0;
    for (int i = 0; i < n; i++)
        if (entry_width_px(&e[i]) > w)
            w = entry_width_px(&e[i]);
    return w;
}

void svg_legend(FILE *f, const svg_legend_entry *e, int n, double x, double y, double width_px)
{
    svg_group_begin(f, "legend");
    legend_layout(f, e, n, x, y, width_px);
    svg_group_end(f);
}
