/* Unit tests: DualPipe (deepseek-ai/DualPipe; DeepSeek-V3 Technical Report,
 * arXiv 2412.19437, sec. 3.2.1).
 *   - the unit order is dualpipe.py's: for pp 4, m 8 every rank's order as
 *     the authors' DualPipe.step() emits it (its eight steps run verbatim
 *     against a recorder by validate/dualpipe_order.py, commit 3da1bbe;
 *     validate/schedules.md has the wider comparison);
 *   - the overlapped F&B unit's time against hand derivations, with the
 *     communication shorter and longer than the other pass's compute;
 *   - the README's bubble (PP/2 - 1)(F&B + B - 3W), B the full backward,
 *     with F&B the unit's own time (schedule_dualpipe_fb_s), and its
 *     activation memory PP + 1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "schedule_dualpipe.h"
#include "tap.h"

static layout_desc dualpipe_of(int pp, int m)
{
    layout_desc l;
    layout_init(&l, NULL);
    l.pp = pp;
    l.gbs = m;
    l.schedule = LAYOUT_SCHEDULE_DUALPIPE;
    return l;
}

/* Rank r's order as the harness prints dualpipe.py's: "F3.0" the forward
 * of microbatch 3 through chunk 0, "&" on the units of an F&B unit. */
static void order_text(const schedule_unit *o, int n, char *out, size_t size)
{
    static const char kind[] = "FBW";
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < n && at < size; i++)
        at += (size_t)snprintf(out + at, size - at, "%s%s%c%d.%d", i ? " " : "",
                               o[i].overlap ? "&" : "", kind[o[i].backward], o[i].microbatch,
                               o[i].chunk);
}

/* validate/dualpipe_order.py dualpipe.py 4 8, on dualpipe.py at commit 3da1bbe. */
static const char *const authors_p4_m8[4] = {
    "F0.0 F1.0 F2.0 F4.1 B4.1 W4.1 F5.1 &F3.0 &B5.1 &W5.1 &F6.1 &B0.0 &W0.0 B6.1 W6.1 &F7.1 "
    "&B1.0 &W1.0 B7.1 W7.1 B2.0 W2.0 B3.0 W3.0",
    "F0.0 F4.1 F1.0 F5.1 F2.0 B4.1 W4.1 &F6.1 &B0.0 &W0.0 &F3.0 &B5.1 &W5.1 &F7.1 &B1.0 &W1.0 "
    "B6.1 W6.1 B2.0 W2.0 B7.1 B3.0 W7.1 W3.0",
    "F4.1 F0.0 F5.1 F1.0 F6.1 B0.0 W0.0 &F2.0 &B4.1 &W4.1 &F7.1 &B1.0 &W1.0 &F3.0 &B5.1 &W5.1 "
    "B2.0 W2.0 B6.1 W6.1 B3.0 B7.1 W3.0 W7.1",
    "F4.1 F5.1 F6.1 F0.0 B0.0 W0.0 F1.0 &F7.1 &B1.0 &W1.0 &F2.0 &B4.1 &W4.1 B2.0 W2.0 &F3.0 "
    "&B5.1 &W5.1 B3.0 W3.0 B6.1 W6.1 B7.1 W7.1"};

static void authors_order(void)
{
    layout_desc l = dualpipe_of(4, 8);
    int n = schedule_units(&l);
    schedule_unit *o = malloc(sizeof *o * (size_t)n * 4);
    schedule_orders(&l, NULL, o);
    char text[512];
    for (int r = 0; r < 4; r++) {
        order_text(o + (size_t)r * n, n, text, sizeof text);
        if (strcmp(text, authors_p4_m8[r]) != 0)
            printf("# rank %d:\n#  ours    %s\n#  authors %s\n", r, text, authors_p4_m8[r]);
        CHECK(strcmp(text, authors_p4_m8[r]) == 0);
    }
    free(o);
}

/* By hand, sm = 20/132: a half is max(comm, compute + sm comm).
 *   communication shorter: F 2 s compute, 1 s all-to-all; full backward
 *     3 s, 0.5 s: (3 + sm) + (2 + 0.5 sm) = 5 + 1.5 sm;
 *   longer: F 1 s, 4 s; B 2 s, 3 s: max(4, 2 + 4 sm) + max(3, 1 + 3 sm) = 7;
 *   between (compute < comm < compute / (1 - sm)): F 1 s, 0.2 s; B 1 s,
 *     1.1 s: (1 + 0.2 sm) + (1 + 1.1 sm);
 *   none: F + B. */
static void fb_by_hand(void)
{
    double sm = SCHEDULE_DUALPIPE_COMM_SM_SHARE;
    CHECK(fabs(sm - 20.0 / 132.0) < 1e-15);
    CHECK_REL(schedule_dualpipe_fb_s(2, 1, 3, 0.5, sm), 5 + 1.5 * sm, 1e-12);
    CHECK_REL(schedule_dualpipe_fb_s(1, 4, 2, 3, sm), 7, 1e-12);
    CHECK_REL(schedule_dualpipe_fb_s(1, 0.2, 1, 1.1, sm), 2 + 1.3 * sm, 1e-12);
    CHECK_REL(schedule_dualpipe_fb_s(1.5, 0, 2.5, 0, sm), 4, 1e-12);
    CHECK_REL(schedule_dualpipe_fb_s(2, 1, 3, 0.5, 0), 5, 1e-12); /* all hidden */
}

/* Every rank's order replayed with F, B (input), W and the F&B unit's
 * time.  The bubble as the README counts it: both ends start at time 0,
 * so a rank's idle time is the iteration (the last rank's end) less its
 * own work; the schedule's is the largest. */
static double bubble_of(const layout_desc *l, double f, double b, double w, double fb,
                        double *peak_stages)
{
    int nv = schedule_vstages(l), n = schedule_units(l), pp = l->pp;
    double *fs = malloc(sizeof *fs * (size_t)nv * 4), *bs = fs + nv, *ws = bs + nv, *fbs = ws + nv;
    for (int v = 0; v < nv; v++)
        fs[v] = f, bs[v] = b, ws[v] = w, fbs[v] = fb;
    schedule_costs c = {fs, bs, ws, 0, fbs};
    schedule_unit *o = malloc(sizeof *o * (size_t)n * (size_t)pp);
    schedule_orders(l, NULL, o);
    double end[64], busy[64], iteration = 0, bubble = 0, act[2] = {1, 1};
    schedule_replay(l, o, &c, NULL, end, busy);
    *peak_stages = 0;
    for (int s = 0; s < pp; s++)
        iteration = fmax(iteration, end[s]);
    for (int s = 0; s < pp; s++) {
        bubble = fmax(bubble, iteration - busy[s]);
        *peak_stages = fmax(*peak_stages, schedule_peak_activation(l, o + (size_t)s * n, act,
                                                                   act, NULL));
    }
    free(fs);
    free(o);
    return bubble;
}

/* The README's bubble with F&B the unit's own time, F = W = B / 2 (the
 * README figure's cells): no communication (F&B = F + B = 3), and lone
 * units of 0.75 s compute and 0.25 s all-to-all each whose F&B hides both
 * (2.5 + 0.5 sm).  Exact for pp 4, 8, 16.  Ours beyond the README: where
 * F&B is longer than F + B (lone units that hide part of their all-to-all,
 * --ep-overlap, here F&B = 3.5), the F&B units bound the steady state and
 * the bubble grows by (PP/2 - 2)(F&B - F - B), which the replay holds too. */
static void readme_bubble(void)
{
    static const int ps[] = {4, 8, 16}, ms[] = {32, 64};
    double sm = SCHEDULE_DUALPIPE_COMM_SM_SHARE;
    double fbs[] = {schedule_dualpipe_fb_s(1, 0, 2, 0, sm),
                    schedule_dualpipe_fb_s(0.75, 0.25, 1.75, 0.25, sm), 3.5};
    CHECK_REL(fbs[1], 2.5 + 0.5 * sm, 1e-12);
    for (size_t k = 0; k < sizeof fbs / sizeof fbs[0]; k++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) {
                layout_desc l = dualpipe_of(ps[i], ms[j]);
                double f = 1, b = 1, w = 1, fb = fbs[k], half = ps[i] / 2;
                double peak, got = bubble_of(&l, f, b, w, fb, &peak);
                double want = (half - 1) * (fb + (b + w) - 3 * w);
                if (fb > f + b + w)
                    want += (half - 2) * (fb - f - (b + w));
                printf("# pp %2d m %2d F&B %.4f: bubble %.4f, README (PP/2-1)(F&B+B-3W) %.4f%s\n",
                       ps[i], ms[j], fb, got, (half - 1) * (fb + (b + w) - 3 * w),
                       fb > f + b + w ? " + (PP/2-2)(F&B-F-B)" : "");
                CHECK(fabs(got - want) <= 1e-9 * (1 + want));
                CHECK_EQ_INT(lround(peak), ps[i] + 1); /* README: PP + 1 */
            }
}

TAP_MAIN({"authors_order", authors_order}, {"fb_by_hand", fb_by_hand},
         {"readme_bubble", readme_bubble})
