/* Unit tests: max-min fair sharing on hand-computed cases. */
#include "maxmin.h"
#include "tap.h"

static void solve(int nflows, const int32_t *start, const int32_t *link, const double *w,
                  int nlinks, const double *cap, double *rates)
{
    maxmin_problem p = {nflows, start, link, w, nlinks, cap, NULL};
    maxmin_work work;
    maxmin_work_init(&work);
    maxmin_solve(&p, rates, &work);
    maxmin_work_free(&work);
}

/* Two flows on one 10 GB/s link share it equally. */
static void equal_share(void)
{
    int32_t start[] = {0, 1, 2}, link[] = {0, 0};
    double w[] = {1, 1}, cap[] = {10e9}, r[2];
    solve(2, start, link, w, 1, cap, r);
    CHECK_REL(r[0], 5e9, 1e-12);
    CHECK_REL(r[1], 5e9, 1e-12);
}

/* The classic line: flow A crosses links 0 and 1, B only 0, C only 1.
 * cap0 = 10, cap1 = 4: link 1 fills first (share 2): A = C = 2, then B takes
 * the rest of link 0: 8. */
static void bottleneck_elsewhere(void)
{
    int32_t start[] = {0, 2, 3, 4}, link[] = {0, 1, 0, 1};
    double w[] = {1, 1, 1, 1}, cap[] = {10, 4}, r[3];
    solve(3, start, link, w, 2, cap, r);
    CHECK_REL(r[0], 2, 1e-12);
    CHECK_REL(r[1], 8, 1e-12);
    CHECK_REL(r[2], 2, 1e-12);
}

/* Weight 2 means a flow crosses the link twice: with a plain flow on a
 * 9 GB/s link, 2r + r = 9 -> r = 3 for both. */
static void weighted_flow(void)
{
    int32_t start[] = {0, 1, 2}, link[] = {0, 0};
    double w[] = {2, 1}, cap[] = {9}, r[2];
    solve(2, start, link, w, 1, cap, r);
    CHECK_REL(r[0], 3, 1e-12);
    CHECK_REL(r[1], 3, 1e-12);
}

/* Three levels: links of 3, 6 and 100; flows: f0 {0,1,2}, f1 {1}, f2 {2}, f3 {2}.
 * link0 share 3 -> f0 = 3; link1 left 3 for f1 -> 3; link2 left 97 for f2, f3 -> 48.5. */
static void three_levels(void)
{
    int32_t start[] = {0, 3, 4, 5, 6}, link[] = {0, 1, 2, 1, 2, 2};
    double w[] = {1, 1, 1, 1, 1, 1}, cap[] = {3, 6, 100}, r[4];
    solve(4, start, link, w, 3, cap, r);
    CHECK_REL(r[0], 3, 1e-12);
    CHECK_REL(r[1], 3, 1e-12);
    CHECK_REL(r[2], 48.5, 1e-12);
    CHECK_REL(r[3], 48.5, 1e-12);
}

static void zero_capacity_and_no_links(void)
{
    int32_t start[] = {0, 1, 1}, link[] = {0};
    double w[] = {1}, cap[] = {0}, r[2];
    solve(2, start, link, w, 1, cap, r);
    CHECK(r[0] == 0);
    CHECK(isinf(r[1]));
}

/* Random problems: every link within capacity, and every flow has a
 * saturated link on which it has the largest rate (the max-min condition). */
static void random_problems_are_max_min(void)
{
    unsigned seed = 12345;
    for (int trial = 0; trial < 200; trial++) {
        int nl = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 8;
        int nf = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 10;
        int32_t start[11], link[80];
        double w[80], cap[8], r[10];
        int e = 0;
        for (int l = 0; l < nl; l++)
            cap[l] = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 100;
        for (int f = 0; f < nf; f++) {
            start[f] = e;
            for (int l = 0; l < nl; l++)
                if (((seed = seed * 1103515245u + 12345u) >> 16) % 2 || l == f % nl) {
                    link[e] = l;
                    w[e++] = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 3;
                }
        }
        start[nf] = e;
        solve(nf, start, link, w, nl, cap, r);
        double load[8] = {0};
        for (int f = 0; f < nf; f++)
            for (int k = start[f]; k < start[f + 1]; k++)
                load[link[k]] += w[k] * r[f];
        for (int l = 0; l < nl; l++)
            CHECK(load[l] <= cap[l] * (1 + 1e-9));
        for (int f = 0; f < nf; f++) {
            int has_bottleneck = 0;
            for (int k = start[f]; k < start[f + 1]; k++) {
                int l = link[k], top = 1;
                if (load[l] < cap[l] * (1 - 1e-9))
                    continue;
                for (int g = 0; g < nf; g++)
                    for (int j = start[g]; j < start[g + 1]; j++)
                        if (link[j] == l && r[g] > r[f] * (1 + 1e-9))
                            top = 0;
                has_bottleneck |= top;
            }
            CHECK(has_bottleneck);
        }
    }
}

/* A flow bound is a link of the flow's own: random problems solved with
 * bounds give the rates of the same problems with one more link per flow. */
static void flow_bounds_equal_own_links(void)
{
    unsigned seed = 777;
    for (int trial = 0; trial < 200; trial++) {
        int nl = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 6;
        int nf = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 8;
        int32_t start[9], link[64], xstart[9], xlink[80];
        double w[64], xw[80], cap[16], bound[8], r[8], xr[8];
        int e = 0, x = 0;
        for (int l = 0; l < nl; l++)
            cap[l] = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 100;
        for (int f = 0; f < nf; f++) {
            start[f] = e;
            xstart[f] = x;
            for (int l = 0; l < nl; l++)
                if (((seed = seed * 1103515245u + 12345u) >> 16) % 3 == 0) {
                    link[e] = xlink[x] = l;
                    w[e++] = xw[x++] = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 3;
                }
            bound[f] = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 60;
            cap[nl + f] = bound[f];
            xlink[x] = nl + f;
            xw[x++] = 1;
        }
        start[nf] = e;
        xstart[nf] = x;
        maxmin_problem p = {nf, start, link, w, nl, cap, bound};
        maxmin_work work;
        maxmin_work_init(&work);
        maxmin_solve(&p, r, &work);
        maxmin_work_free(&work);
        solve(nf, xstart, xlink, xw, nl + nf, cap, xr);
        for (int f = 0; f < nf; f++)
            CHECK_REL(r[f], xr[f], 1e-12);
    }
}

TAP_MAIN({"two flows share a link equally", equal_share},
         {"a flow limited elsewhere leaves bandwidth to others", bottleneck_elsewhere},
         {"a flow crossing a link twice counts twice", weighted_flow},
         {"three bottleneck levels", three_levels},
         {"zero capacity stalls, no links is unbounded", zero_capacity_and_no_links},
         {"random problems satisfy the max-min condition", random_problems_are_max_min},
         {"a flow bound acts as a link of the flow's own", flow_bounds_equal_own_links})
