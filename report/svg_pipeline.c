/* svg_pipeline: the schedule and memory pictures (see svg_pipeline.h). */
#include "svg_pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "svg.h"

#define WIDTH_PX 1200.0
#define MARGIN_RIGHT_PX 24.0
#define TITLE_FONT_PX 15.0
#define PLOT_TOP_PX 40.0
#define IDLE_COLOR "#e6e6e6"
#define PS_PER_MS 1e9
#define BYTES_PER_GIB (1024.0 * 1024.0 * 1024.0)

/* ---- shared ---- */

/* The title, shrunk to fit the width when it is long. */
static void draw_title(FILE *f, const char *title)
{
    double size = TITLE_FONT_PX;
    double w = svg_text_width_px(title, size);
    if (w > WIDTH_PX - 20)
        size *= (WIDTH_PX - 20) / w;
    svg_text(f, 10, 24, size, SVG_START, 0, NULL, title);
}

/* The end of the picture's time axis: the makespan, or the last slice's
 * end when slices run past it (or it was not set). */
static uint64_t time_end_ps(const timeline *tl)
{
    uint64_t end = tl->makespan_ps;
    for (int i = 0; i < tl->nslices; i++)
        if (tl->slices[i].end_ps > end)
            end = tl->slices[i].end_ps;
    return end > 0 ? end : 1;
}

static int finish(FILE *f)
{
    svg_end(f);
    fflush(f);
    return ferror(f) ? -1 : 0;
}

/* ---- colours ---- */

typedef struct rgb {
    int r, g, b;
} rgb;

/* Forward and backward: a family each, from the first chunk's shade (dark)
 * to the last's (light). */
static const rgb forward_dark = {33, 113, 181}, forward_light = {158, 202, 225};
static const rgb backward_dark = {217, 72, 1}, backward_light = {253, 174, 107};
static const rgb weight_dark = {140, 81, 10}, weight_light = {223, 194, 125}; /* W */

static const char *const kind_color[TL_KINDS] = {
    [TL_RECOMPUTE] = "#41ab5d", [TL_TP_COMM] = "#969696",    [TL_DP_COMM] = "#41b6c4",
    [TL_OPTIMIZER] = "#8856a7", [TL_PARAM_GATHER] = "#a6761d", [TL_P2P] = "#e7298a",
    [TL_COMPUTE] = "#3182bd",   [TL_COLLECTIVE] = "#31a354",  [TL_MEMORY_OP] = "#756bb1",
};

static rgb chunk_rgb(tl_kind kind, int chunk, int vpp)
{
    rgb dark = kind == TL_FORWARD ? forward_dark : kind == TL_WEIGHT_GRAD ? weight_dark
                                                                          : backward_dark;
    rgb light = kind == TL_FORWARD ? forward_light : kind == TL_WEIGHT_GRAD ? weight_light
                                                                            : backward_light;
    double t = vpp > 1 ? (double)chunk / (vpp - 1) : 0;
    return (rgb){(int)lround(dark.r + t * (light.r - dark.r)),
                 (int)lround(dark.g + t * (light.g - dark.g)),
                 (int)lround(dark.b + t * (light.b - dark.b))};
}

/* A slice's chunk as an index into the shades (bad values fold in). */
static int chunk_index(const timeline *tl, const tl_slice *s)
{
    int vpp = tl->vpp > 0 ? tl->vpp : 1;
    return s->chunk > 0 ? s->chunk % vpp : 0;
}

static int has_shades(tl_kind kind)
{
    return kind == TL_FORWARD || kind == TL_BACKWARD || kind == TL_WEIGHT_GRAD;
}

/* Fill colour of a slice; *dark tells whether white text reads on it. */
static void slice_color(const timeline *tl, const tl_slice *s, char out[16], int *dark)
{
    if (!has_shades(s->kind)) {
        snprintf(out, 16, "%s", s->kind >= 0 && s->kind < TL_KINDS ? kind_color[s->kind]
                                                                   : "#000000");
        *dark = 1;
        return;
    }
    rgb c = chunk_rgb(s->kind, chunk_index(tl, s), tl->vpp);
    snprintf(out, 16, "#%02x%02x%02x", c.r, c.g, c.b);
    *dark = 0.299 * c.r + 0.587 * c.g + 0.114 * c.b < 150;
}

/* ---- schedule ---- */

typedef struct sched_layout {
    double left_px, right_px;   /* plot area along x */
    double row_px, bar_px;      /* row pitch, bar height within it */
    double axis_y_px;           /* the x axis line */
    double legend_y_px;
    double height_px;
    svg_axis time;              /* ms */
} sched_layout;

/* Row pitch: about 480 px for all rows, 18 to 40 px each. */
static double row_pitch_px(int rows)
{
    double row = rows > 0 ? 480.0 / rows : 40;
    return row < 18 ? 18 : row > 40 ? 40 : row;
}

/* Row of each track: the stage whose compute track it is, else -1, so
 * that one pass over the slices finds every slice's row. */
static int *track_rows(const timeline *tl)
{
    int *row = cs_xrealloc(NULL, sizeof *row * (size_t)(tl->ntracks > 0 ? tl->ntracks : 1));
    for (int i = 0; i < tl->ntracks; i++)
        row[i] = -1;
    for (int s = 0; s < tl->pp; s++) {
        int t = timeline_stage_track(tl, s);
        if (t >= 0)
            row[t] = s;
    }
    return row;
}

static int slice_row(const timeline *tl, const int *rows, const tl_slice *s)
{
    return s->track >= 0 && s->track < tl->ntracks ? rows[s->track] : -1;
}

/* Legend entries for what the drawn slices show, in a fixed order:
 * forward chunks, backward chunks, the other kinds, then idle time. */
static int schedule_legend(const timeline *tl, const int *rows, svg_legend_entry **out)
{
    int vpp = tl->vpp > 0 ? tl->vpp : 1;
    char *seen = calloc((size_t)TL_KINDS * vpp, 1);
    svg_legend_entry *e = calloc((size_t)(3 * vpp + TL_KINDS + 2), sizeof *e);
    if (!seen || !e)
        abort();
    for (int i = 0; i < tl->nslices; i++) {
        const tl_slice *s = &tl->slices[i];
        if (slice_row(tl, rows, s) >= 0 && s->kind >= 0 && s->kind < TL_KINDS)
            seen[s->kind * vpp + (has_shades(s->kind) ? chunk_index(tl, s) : 0)] = 1;
    }
    int n = 0, split = 0;
    for (int c = 0; c < vpp; c++)
        split |= seen[TL_WEIGHT_GRAD * vpp + c];
    for (int k = 0; k < TL_KINDS; k++)
        for (int c = 0; c < (has_shades(k) ? vpp : 1); c++) {
            if (!seen[k * vpp + c])
                continue;
            /* with W drawn apart, the passes by the letters the papers use */
            const char *name = !split || !has_shades(k) ? timeline_kind_name(k)
                               : k == TL_FORWARD        ? "F forward"
                               : k == TL_BACKWARD       ? "B input grad"
                                                        : "W weight grad";
            if (has_shades(k) && vpp > 1)
                snprintf(e[n].label, sizeof e[n].label, "%s %s %d", name,
                         tl->bidirectional ? "direction" : "chunk", c);
            else
                snprintf(e[n].label, sizeof e[n].label, "%s", name);
            tl_slice probe = {.kind = k, .chunk = c};
            int dark;
            slice_color(tl, &probe, e[n].color, &dark);
            n++;
        }
    for (int i = 0; i < tl->nslices; i++)
        if (slice_row(tl, rows, &tl->slices[i]) >= 0 && tl->slices[i].fb_pair > 0) {
            snprintf(e[n].label, sizeof e[n].label,
                     "F&B overlapped: forward + other direction's backward (black frame)");
            snprintf(e[n].color, sizeof e[n].color, "#ffffff");
            n++;
            break;
        }
    snprintf(e[n].label, sizeof e[n].label, "idle (bubble)");
    snprintf(e[n].color, sizeof e[n].color, "%s", IDLE_COLOR);
    n++;
    free(seen);
    *out = e;
    return n;
}

static sched_layout schedule_layout(const timeline *tl, const svg_legend_entry *legend,
                                    int nlegend)
{
    sched_layout L;
    char label[32];
    snprintf(label, sizeof label, "stage %d", tl->pp > 0 ? tl->pp - 1 : 0);
    L.left_px = 10 + svg_text_width_px(label, 12) + 12;
    L.right_px = WIDTH_PX - MARGIN_RIGHT_PX;
    L.row_px = row_pitch_px(tl->pp);
    L.bar_px = L.row_px * 0.8;
    L.axis_y_px = PLOT_TOP_PX + (tl->pp > 0 ? tl->pp : 0) * L.row_px + 4;
    L.legend_y_px = L.axis_y_px + SVG_AXIS_X_HEIGHT_PX + 8;
    L.height_px = L.legend_y_px + svg_legend_height_px(legend, nlegend, WIDTH_PX - 20) + 10;
    L.time = (svg_axis){0, (double)time_end_ps(tl) / PS_PER_MS, L.left_px, L.right_px, 0};
    return L;
}

static double row_top_px(const sched_layout *L, int row)
{
    return PLOT_TOP_PX + row * L->row_px + (L->row_px - L->bar_px) / 2;
}

static void draw_rows(FILE *f, const timeline *tl, const sched_layout *L)
{
    double font = L->row_px * 0.6 < 12 ? L->row_px * 0.6 : 12;
    char label[32];
    for (int s = 0; s < tl->pp; s++) {
        double y = row_top_px(L, s);
        svg_rect(f, L->left_px, y, L->right_px - L->left_px, L->bar_px, IDLE_COLOR, NULL, NULL);
        snprintf(label, sizeof label, "stage %d", s);
        svg_text(f, L->left_px - 8, y + L->bar_px / 2 + font * 0.35, font, SVG_END, 0, NULL,
                 label);
    }
}

static void slice_tooltip(const tl_slice *s, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s, stage %d", timeline_kind_name(s->kind), s->stage);
    if (s->chunk >= 0 && n < (int)size)
        n += snprintf(buf + n, size - n, ", chunk %d", s->chunk);
    if (s->microbatch >= 0 && n < (int)size)
        n += snprintf(buf + n, size - n, ", microbatch %d", s->microbatch);
    if (s->layer_first >= 0 && n < (int)size)
        n += snprintf(buf + n, size - n, ", layers %d-%d", s->layer_first, s->layer_last);
    if (n < (int)size)
        snprintf(buf + n, size - n, ", start %.6g ms, duration %.6g ms",
                 (double)s->start_ps / PS_PER_MS, (double)(s->end_ps - s->start_ps) / PS_PER_MS);
}

/* The microbatch number, only inside a box that holds it. */
static void draw_microbatch(FILE *f, const tl_slice *s, double x, double y, double w, double h,
                            int dark)
{
    char text[16];
    double font = h - 4 < 11 ? h - 4 : 11;
    if (!has_shades(s->kind) || s->microbatch < 0 || font < 7)
        return;
    snprintf(text, sizeof text, "%d", s->microbatch);
    if (svg_text_width_px(text, font) + 4 > w)
        return;
    svg_text(f, x + w / 2, y + h / 2 + font * 0.35, font, SVG_MIDDLE, 0,
             dark ? "#ffffff" : "#000000", text);
}

static void draw_slices(FILE *f, const timeline *tl, const sched_layout *L, const int *rows)
{
    char color[16], tip[256];
    svg_group_begin(f, "slices");
    for (int i = 0; i < tl->nslices; i++) {
        const tl_slice *s = &tl->slices[i];
        int row = slice_row(tl, rows, s);
        if (row < 0)
            continue;
        double x = svg_axis_px(&L->time, (double)s->start_ps / PS_PER_MS);
        double w = svg_axis_px(&L->time, (double)s->end_ps / PS_PER_MS) - x;
        double y = row_top_px(L, row);
        int dark;
        slice_color(tl, s, color, &dark);
        slice_tooltip(s, tip, sizeof tip);
        /* a white edge parts neighbours of one colour, where there is room */
        svg_rect(f, x, y, w, L->bar_px, color, w >= 4 ? "#ffffff" : NULL, tip);
        draw_microbatch(f, s, x, y, w, L->bar_px, dark);
    }
    svg_group_end(f);
}

/* DualPipe's overlapped F&B units: a black frame around each one's slices
 * on its row, as DualPipe's README figure encloses "two cells ... [that]
 * have mutually overlapped computation and communication".  Returns how
 * many were drawn. */
static int draw_fb_pairs(FILE *f, const timeline *tl, const sched_layout *L, const int *rows)
{
    int most = 0, drawn = 0;
    for (int i = 0; i < tl->nslices; i++)
        if (slice_row(tl, rows, &tl->slices[i]) >= 0 && tl->slices[i].fb_pair > most)
            most = tl->slices[i].fb_pair;
    if (most == 0 || tl->pp <= 0)
        return 0;
    size_t cells = (size_t)tl->pp * (size_t)(most + 1);
    uint64_t *lo = cs_xrealloc(NULL, sizeof *lo * cells), *hi = cs_xrealloc(NULL, sizeof *hi * cells);
    for (size_t i = 0; i < cells; i++)
        lo[i] = UINT64_MAX, hi[i] = 0;
    for (int i = 0; i < tl->nslices; i++) {
        const tl_slice *s = &tl->slices[i];
        int row = slice_row(tl, rows, s);
        if (row < 0 || s->fb_pair <= 0)
            continue;
        size_t at = (size_t)row * (size_t)(most + 1) + (size_t)s->fb_pair;
        lo[at] = s->start_ps < lo[at] ? s->start_ps : lo[at];
        hi[at] = s->end_ps > hi[at] ? s->end_ps : hi[at];
    }
    svg_group_begin(f, "fb-pairs");
    for (size_t at = 0; at < cells; at++) {
        if (hi[at] == 0)
            continue;
        double x = svg_axis_px(&L->time, (double)lo[at] / PS_PER_MS);
        double w = svg_axis_px(&L->time, (double)hi[at] / PS_PER_MS) - x;
        svg_rect(f, x, row_top_px(L, (int)(at / (size_t)(most + 1))), w, L->bar_px, "none",
                 "#000000", "F&B: a forward and the other direction's full backward, overlapped");
        drawn++;
    }
    svg_group_end(f);
    free(lo);
    free(hi);
    return drawn;
}

/* The share of the stages' time (pp rows over the whole axis) their
 * compute streams are idle: the shaded background left showing. */
static double bubble_fraction(const timeline *tl, const int *rows)
{
    double busy_ps = 0, all_ps = (double)time_end_ps(tl) * (tl->pp > 0 ? tl->pp : 1);
    for (int i = 0; i < tl->nslices; i++)
        if (slice_row(tl, rows, &tl->slices[i]) >= 0)
            busy_ps += (double)(tl->slices[i].end_ps - tl->slices[i].start_ps);
    return all_ps > 0 ? 1 - busy_ps / all_ps : 0;
}

int svg_pipeline_schedule(FILE *f, const timeline *tl)
{
    int *rows = track_rows(tl);
    svg_legend_entry *legend;
    int nlegend = schedule_legend(tl, rows, &legend);
    sched_layout L = schedule_layout(tl, legend, nlegend);

    svg_begin(f, WIDTH_PX, L.height_px, tl->title);
    draw_title(f, tl->title);
    draw_rows(f, tl, &L);
    char axis[96];
    snprintf(axis, sizeof axis, "time (ms); bubble (idle, shaded): %.1f%% of the stages' time",
             100 * bubble_fraction(tl, rows));
    svg_axis_x(f, &L.time, L.axis_y_px, L.axis_y_px, axis);
    draw_slices(f, tl, &L, rows);
    draw_fb_pairs(f, tl, &L, rows);
    svg_legend(f, legend, nlegend, 10, L.legend_y_px, WIDTH_PX - 20);
    free(legend);
    free(rows);
    return finish(f);
}

/* ---- memory ---- */

#define MEM_MAX_LINES 8
#define MEM_PLOT_HEIGHT_PX 360.0

static const char *const stage_palette[MEM_MAX_LINES] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

/* The stages drawn: all, or 8 spread from the first to the last. */
static int memory_stages(const timeline *tl, int *out)
{
    if (tl->pp <= MEM_MAX_LINES) {
        for (int s = 0; s < tl->pp; s++)
            out[s] = s;
        return tl->pp > 0 ? tl->pp : 0;
    }
    for (int i = 0; i < MEM_MAX_LINES; i++)
        out[i] = (int)lround((double)i * (tl->pp - 1) / (MEM_MAX_LINES - 1));
    return MEM_MAX_LINES;
}

static void draw_stage_memory(FILE *f, const tl_memory *mem, const svg_axis *x,
                              const svg_axis *y, const char *color)
{
    int n = mem->npoints;
    if (n <= 0)
        return;
    double *xs = cs_xrealloc(NULL, sizeof *xs * (size_t)n);
    double *ys = cs_xrealloc(NULL, sizeof *ys * (size_t)n);
    for (int i = 0; i < n; i++) {
        xs[i] = svg_axis_px(x, (double)mem->points[i].time_ps / PS_PER_MS);
        ys[i] = svg_axis_px(y, mem->points[i].bytes / BYTES_PER_GIB);
    }
    svg_step_line(f, xs, ys, n, color, 1.8, NULL);
    free(xs);
    free(ys);
}

#define USABLE_DASH "6 4"

static void draw_usable(FILE *f, const timeline *tl, const svg_axis *x, const svg_axis *y)
{
    double py = svg_axis_px(y, tl->usable_bytes / BYTES_PER_GIB);
    svg_line(f, x->px_lo, py, x->px_hi, py, "#000000", 1.5, USABLE_DASH);
}

/* A line sample per stage drawn with its peak, then the usable memory
 * (named in the legend, not on the plot, where the lines would cross it).
 * Returns the entries; *top_gib gets the highest value to show. */
static int memory_legend(const timeline *tl, const int *stages, int n,
                         svg_legend_entry *legend, double *top_gib)
{
    *top_gib = tl->usable_bytes > 0 ? tl->usable_bytes / BYTES_PER_GIB : 0;
    for (int i = 0; i < n; i++) {
        double peak_gib = tl->memory[stages[i]].peak_bytes / BYTES_PER_GIB;
        if (peak_gib > *top_gib)
            *top_gib = peak_gib;
        memset(&legend[i], 0, sizeof legend[i]);
        snprintf(legend[i].label, sizeof legend[i].label, "stage %d (peak %.1f GiB)", stages[i],
                 peak_gib);
        snprintf(legend[i].color, sizeof legend[i].color, "%s", stage_palette[i]);
        legend[i].key = SVG_KEY_LINE;
    }
    if (tl->usable_bytes > 0) {
        memset(&legend[n], 0, sizeof legend[n]);
        snprintf(legend[n].label, sizeof legend[n].label, "usable memory (%.1f GiB)",
                 tl->usable_bytes / BYTES_PER_GIB);
        snprintf(legend[n].color, sizeof legend[n].color, "#000000");
        legend[n].dash = USABLE_DASH;
        legend[n].key = SVG_KEY_LINE;
        n++;
    }
    return n;
}

int svg_pipeline_memory(FILE *f, const timeline *tl)
{
    int stages[MEM_MAX_LINES];
    int n = memory_stages(tl, stages);
    svg_legend_entry legend[MEM_MAX_LINES + 1];
    double top_gib;
    int nlegend = memory_legend(tl, stages, n, legend, &top_gib);
    double lo = 0, hi = top_gib > 0 ? top_gib : 1;
    svg_nice_range(&lo, &hi, 5);
    double plot_bottom = PLOT_TOP_PX + MEM_PLOT_HEIGHT_PX;
    svg_axis y = {lo, hi, plot_bottom, PLOT_TOP_PX, 0};
    double left = 10 + 12 + 8 + svg_axis_label_width_px(&y) + 16;
    svg_axis x = {0, (double)time_end_ps(tl) / PS_PER_MS, left, WIDTH_PX - MARGIN_RIGHT_PX, 0};
    double legend_y = plot_bottom + SVG_AXIS_X_HEIGHT_PX + 8;
    double legend_h = svg_legend_height_px(legend, nlegend, WIDTH_PX - 20);
    int subset = n < tl->pp;

    svg_begin(f, WIDTH_PX, legend_y + legend_h + (subset ? 20 : 0) + 10, tl->title);
    draw_title(f, tl->title);
    svg_axis_y(f, &y, left, x.px_hi, "memory held (GiB)");
    svg_axis_x(f, &x, plot_bottom, PLOT_TOP_PX, "time (ms)");
    for (int i = 0; i < n; i++)
        draw_stage_memory(f, &tl->memory[stages[i]], &x, &y, stage_palette[i]);
    if (tl->usable_bytes > 0)
        draw_usable(f, tl, &x, &y);
    svg_legend(f, legend, nlegend, 10, legend_y, WIDTH_PX - 20);
    if (subset) {
        char note[96];
        snprintf(note, sizeof note, "showing %d of %d stages, from the first to the last", n,
                 tl->pp);
        svg_text(f, 10, legend_y + legend_h + 16, 12, SVG_START, 0, "#444444", note);
    }
    return finish(f);
}
