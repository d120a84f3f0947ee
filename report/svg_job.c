/* svg_job: one simulated job along wall time (see svg_job.h). */
#include "svg_job.h"

#include <math.h>
#include <string.h>

#include "cs_alloc.h"
#include "svg.h"

#define BINS 960            /* pixels per row */
#define ROW_H 12.0
#define ROW_GAP 4.0
#define LEFT 70.0
#define TOP 46.0
#define NKINDS 4

static const char *const colours[NKINDS] = {"#43a047", "#e53935", "#1e88e5", "#757575"};
static const char *const labels[NKINDS] = {"training kept", "training lost", "checkpointing",
                                           "down (detect, spare, restart, reload)"};

typedef struct bins {
    int rows;
    double row_s, bin_s;
    double *t;              /* rows x BINS x NKINDS seconds */
    double total[NKINDS];
} bins;

/* Spreads one segment's time over the bins it covers. */
static void add_segment(bins *b, const goodput_segment *sg)
{
    double t = sg->start_s, end = sg->end_s;
    b->total[sg->kind] += end - t;
    while (t < end) {
        long bin = (long)(t / b->bin_s);
        if (bin >= (long)b->rows * BINS)
            return;
        double bin_end = fmin(end, (double)(bin + 1) * b->bin_s);
        b->t[bin * NKINDS + sg->kind] += bin_end - t;
        t = bin_end;
    }
}

static int majority(const double *t)
{
    int k = 0;
    for (int i = 1; i < NKINDS; i++)
        if (t[i] > t[k])
            k = i;
    return t[k] > 0 ? k : -1;
}

/* A rectangle per run of bins with the same majority kind. */
static void draw_row(FILE *f, const bins *b, int row)
{
    const double *t = b->t + (size_t)row * BINS * NKINDS;
    double y = TOP + row * (ROW_H + ROW_GAP);
    int start = 0, kind = majority(t);
    for (int i = 1; i <= BINS; i++) {
        int k = i < BINS ? majority(t + (size_t)i * NKINDS) : -2;
        if (k == kind)
            continue;
        if (kind >= 0)
            svg_rect(f, LEFT + start, y, i - start, ROW_H, colours[kind], NULL, labels[kind]);
        start = i, kind = k;
    }
    char label[32];
    snprintf(label, sizeof label, "%s %d", b->row_s >= 86400 ? "day" : "hour", row + 1);
    svg_text(f, LEFT - 6, y + ROW_H - 2, 10, SVG_END, 0, "#333", label);
}

static void legend(FILE *f, const bins *b, double y)
{
    double x = LEFT, all = 0;
    for (int k = 0; k < NKINDS; k++)
        all += b->total[k];
    for (int k = 0; k < NKINDS; k++) {
        char text[96];
        snprintf(text, sizeof text, "%s %.1f h (%.1f%%)", labels[k], b->total[k] / 3600,
                 all > 0 ? 100 * b->total[k] / all : 0);
        svg_rect(f, x, y - 10, 12, 12, colours[k], NULL, NULL);
        svg_text(f, x + 16, y, 11, SVG_START, 0, "#333", text);
        x += 28 + svg_text_width_px(text, 11);
    }
}

int svg_job_write(FILE *f, const goodput_trace *tr, double horizon_s, const char *title,
                  cs_err *err)
{
    if (!(horizon_s > 0))
        return cs_fail(err, "svg_job: the horizon must be positive");
    bins b = {0};
    b.row_s = horizon_s >= 2 * 86400 ? 86400 : 3600;
    b.rows = (int)ceil(horizon_s / b.row_s);
    if (b.rows > 400)
        return cs_fail(err, "svg_job: %d rows are too many for one picture (at most 400 days)",
                       b.rows);
    b.bin_s = b.row_s / BINS;
    b.t = cs_xrealloc(NULL, sizeof *b.t * (size_t)b.rows * BINS * NKINDS);
    memset(b.t, 0, sizeof *b.t * (size_t)b.rows * BINS * NKINDS);
    for (int i = 0; i < tr->n; i++)
        add_segment(&b, &tr->seg[i]);
    double height = TOP + b.rows * (ROW_H + ROW_GAP) + 40;
    svg_begin(f, LEFT + BINS + 20, height, title);
    svg_text(f, LEFT, 20, 14, SVG_START, 0, "#000", title);
    legend(f, &b, 38);
    svg_group_begin(f, "rows");
    for (int r = 0; r < b.rows; r++)
        draw_row(f, &b, r);
    svg_group_end(f);
    svg_text(f, LEFT, height - 12, 10, SVG_START, 0, "#555",
             "each pixel shows what the job did most in its time");
    svg_end(f);
    free(b.t);
    return ferror(f) ? cs_fail(err, "svg_job: write error") : 0;
}
