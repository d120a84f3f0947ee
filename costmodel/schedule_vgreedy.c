/* schedule_vgreedy: ZBV's unit orders built the way the V-shape paper's
 * authors build them (see schedule_vshape.h).
 *
 * Our own C rendering of the greedy of sail-sg/zero-bubble-pipeline-
 * parallelism, megatron/core/pipeline_parallel/zerobubble/scheduler/zbv.py
 * (PipelineGraph.try_v_schedule and create_schedule), step for step:
 *   1. every rank runs F of chunk 0 of microbatch 0; then, from the last rank
 *      down, each rank runs further chunk-0 forwards (with the ranks below
 *      it) while they fit before the chunk-1 input arrives and in memory,
 *      then its first chunk-1 forward;
 *   2. the ranks above rank 0 catch up with forwards of alternating chunks
 *      until each has as many as the rank before it;
 *   3. 2 m rounds: every rank runs one B (the chunk whose input is there,
 *      the turn of the V first), every rank one F; before either, pending
 *      W fill any wait for the input and, when the wait is longer than the
 *      rank's bubble may still grow, one more W;
 *   4. the W left.
 * The whole is tried again with each rank's bubble from the last try as its
 * allowance while the largest bubble shrinks, with and without the W fill
 * before B and F; the order with the least bubble wins.
 *
 * Kinds are numbered as in zbv.py: k = cat * 2 + lane, cat 0 F, 1 B, 2 W;
 * lane 0 flows up the ranks and lane 1 down.  F's lane is the chunk; B's
 * lane 0 is chunk 1 (the V's turn back), lane 1 chunk 0. */
#include <math.h>
#include <stdlib.h>

#include "cs_alloc.h"
#include "schedule_vshape.h"

/* Memory per chunk of one microbatch, sail-sg's own accounting
 * (zerobubble/runtime.py: f_mem_approx = 34 h + 5 a s, w_mem_approx =
 * -32 h, b_mem = -f_mem - w_mem): with flash attention the 5 a s term is
 * not stored, leaving 34 h of which W holds 32 h.  In units of 2 h. */
enum { F_MEM = 17, W_MEM = -16, B_MEM = -1 };

typedef struct vg {
    int p, m;
    double cost[3], c; /* F, B, W time; one send */
    int fill_f, fill_b;
    const double *approved; /* NULL on the first try */
    int *count;             /* [p][6] */
    double *end;            /* [6][p][m] */
    double *cur, *bubble;
    int *mem;
    int *wq, *wq_head, *wq_tail; /* per rank FIFO of W lanes, capacity 2 m */
    schedule_unit *out;          /* [p][3 * 2 m] */
    int *n_out;
} vg;

static size_t id_of(const vg *g, int cat, int lane, int stage, int mb)
{
    return ((size_t)(cat * 2 + lane) * (size_t)g->p + (size_t)stage) * (size_t)g->m + (size_t)mb;
}

/* zbv.py reads end_time[-1] (the last W of the last rank, -1 until the very
 * end) where a unit has no input from a neighbour: kept for the same orders. */
static double end_or_last(const vg *g, long id)
{
    size_t last = (size_t)6 * (size_t)g->p * (size_t)g->m - 1;
    return g->end[id >= 0 ? (size_t)id : last];
}

static double max_bubble(const vg *g, int stage)
{
    double most = 0, allowed = 0;
    for (int r = 0; r < g->p; r++) {
        most = fmax(most, g->bubble[r]);
        if (g->approved)
            allowed = fmax(allowed, g->approved[r]);
    }
    if (stage >= 0 && g->approved)
        most = fmax(most, allowed - g->approved[stage]);
    return most;
}

static void put(vg *g, int cat, int lane, int stage)
{
    int *cnt = &g->count[stage * 6 + cat * 2 + lane];
    if (*cnt >= g->m)
        return; /* zbv.py asserts this never happens */
    double no_bubble = g->cur[stage] + g->cost[cat], t = no_bubble;
    if (cat < 2 && lane == 1 && stage < g->p - 1)
        t = fmax(t, g->end[id_of(g, cat, 1, stage + 1, *cnt)] + g->c + g->cost[cat]);
    if (cat < 2 && lane == 0 && stage > 0)
        t = fmax(t, g->end[id_of(g, cat, 0, stage - 1, *cnt)] + g->c + g->cost[cat]);
    if (g->count[stage * 6] > 0)
        g->bubble[stage] += t - no_bubble;
    g->end[id_of(g, cat, lane, stage, *cnt)] = t;
    g->cur[stage] = t;
    g->mem[stage] += cat == 0 ? F_MEM : cat == 1 ? B_MEM : W_MEM;
    int chunk = cat == 0 ? lane : 1 - lane;
    g->out[(size_t)stage * 6 * g->m + g->n_out[stage]++] =
        (schedule_unit){cat == 0 ? SCHEDULE_F : cat == 1 ? SCHEDULE_B : SCHEDULE_W, *cnt, chunk, 0};
    if (cat == 1)
        g->wq[stage * 2 * g->m + g->wq_tail[stage]++] = lane;
    (*cnt)++;
}

static int has_w(const vg *g, int r) { return g->wq_head[r] < g->wq_tail[r]; }

static void put_w(vg *g, int r)
{
    if (has_w(g, r))
        put(g, 2, g->wq[r * 2 * g->m + g->wq_head[r]++], r);
}

static int cnt(const vg *g, int r, int k) { return g->count[r * 6 + k]; }

/* Pending W before a unit whose input comes from `from` (-1: none): those
 * that fit in the wait, and one more where waiting would grow the bubble
 * past the allowance (`fill`). */
static void fill_wait(vg *g, int r, long from, int fill)
{
    while (has_w(g, r) && from >= 0 && g->end[from] + g->c >= g->cur[r] + g->cost[2])
        put_w(g, r);
    if (has_w(g, r) && end_or_last(g, from) + g->c - g->cur[r] > max_bubble(g, r) - g->bubble[r] &&
        fill)
        put_w(g, r);
}

static void warm_up(vg *g)
{
    int p = g->p, m = g->m, max_mem = F_MEM * 2 * p;
    for (int i = 0; i < p; i++)
        put(g, 0, 0, i);
    for (int i = p - 1; i >= 0; i--) {
        if (i < p - 1) {
            double arrive = g->end[id_of(g, 0, 1, i + 1, 0)] + g->c;
            while (g->mem[i] + F_MEM * (2 + 2 * i) <= max_mem &&
                   g->cur[i] + g->cost[0] <= arrive && cnt(g, i, 0) < m)
                for (int j = 0; j <= i; j++)
                    put(g, 0, 0, j);
        }
        put(g, 0, 1, i);
    }
    int lane = 0, idle = 0;
    for (int i = 1; i < p; i++, idle = 0)
        while (cnt(g, i, 0) + cnt(g, i, 1) < cnt(g, i - 1, 0) + cnt(g, i - 1, 1) ||
               (cnt(g, i, 1) <= cnt(g, i - 1, 1) && cnt(g, i - 1, 1) < m)) {
            int before = cnt(g, i, 0) + cnt(g, i, 1);
            for (int j = p - 1; j >= i; j--)
                if (cnt(g, j, lane) < m)
                    put(g, 0, lane, j);
            lane = 1 - lane;
            idle = cnt(g, i, 0) + cnt(g, i, 1) == before ? idle + 1 : 0;
            if (idle == 2)
                break; /* neither lane has work left (zbv.py would loop) */
        }
}

static void round_b(vg *g)
{
    int p = g->p, m = g->m;
    int *lanes = cs_xrealloc(NULL, sizeof *lanes * (size_t)p);
    for (int i = 0; i < p; i++) {
        if (cnt(g, i, 3) >= cnt(g, i, 2))
            lanes[i] = 0;
        else if (i == p - 1)
            lanes[i] = 1;
        else
            lanes[i] = g->end[id_of(g, 1, 1, i + 1, cnt(g, i, 3))] >= 0 || cnt(g, i, 2) >= m;
    }
    /* the lane-1 ranks from the top, then the lane-0 ranks from the bottom */
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < p; k++) {
            int i = pass == 0 ? p - 1 - k : k, lane = lanes[i];
            if (lane != 1 - pass)
                continue;
            long from = -1;
            if (lane == 1 && i < p - 1)
                from = (long)id_of(g, 1, 1, i + 1, cnt(g, i, 3));
            if (lane == 0 && i > 0)
                from = (long)id_of(g, 1, 0, i - 1, cnt(g, i, 2));
            fill_wait(g, i, from, lane == 1 || g->fill_b);
            put(g, 1, lane, i);
        }
    free(lanes);
}

static void round_f(vg *g)
{
    int p = g->p, m = g->m, max_mem = F_MEM * 2 * p;
    for (int i = 0; i < p; i++) {
        if (cnt(g, i, 1) >= m)
            continue;
        int lane = -1;
        if (cnt(g, i, 1) >= cnt(g, i, 0))
            lane = 0;
        else if (i == p - 1 || g->end[id_of(g, 0, 1, i + 1, cnt(g, i, 1))] >= 0)
            lane = 1;
        else if (cnt(g, i, 0) < m && (i == 0 || g->end[id_of(g, 0, 0, i - 1, cnt(g, i, 0))] >= 0))
            lane = 0;
        if (lane < 0)
            continue;
        while (g->mem[i] + F_MEM > max_mem && has_w(g, i))
            put_w(g, i);
        long from = -1;
        if (lane == 0 && i > 0)
            from = (long)id_of(g, 0, 0, i - 1, cnt(g, i, 0));
        if (lane == 1 && i < p - 1)
            from = (long)id_of(g, 0, 1, i + 1, cnt(g, i, 1));
        fill_wait(g, i, from, g->fill_f);
        put(g, 0, lane, i);
    }
}

/* One try; returns its largest bubble, the order in g->out. */
static double try_once(vg *g)
{
    int p = g->p;
    size_t cells = (size_t)6 * p * g->m;
    for (size_t i = 0; i < cells; i++)
        g->end[i] = -1;
    for (int r = 0; r < p; r++) {
        g->cur[r] = g->bubble[r] = 0;
        g->mem[r] = g->wq_head[r] = g->wq_tail[r] = g->n_out[r] = 0;
        for (int k = 0; k < 6; k++)
            g->count[r * 6 + k] = 0;
    }
    warm_up(g);
    for (int round = 0; round < 2 * g->m; round++) {
        round_b(g);
        round_f(g);
    }
    for (int r = 0; r < p; r++)
        while (has_w(g, r))
            put_w(g, r);
    const double *keep = g->approved;
    g->approved = NULL;
    double most = max_bubble(g, -1);
    g->approved = keep;
    return most;
}

static void alloc_vg(vg *g)
{
    size_t p = (size_t)g->p, m = (size_t)g->m;
    g->count = cs_xrealloc(NULL, sizeof *g->count * p * 6);
    g->end = cs_xrealloc(NULL, sizeof *g->end * 6 * p * m);
    g->cur = cs_xrealloc(NULL, sizeof *g->cur * p);
    g->bubble = cs_xrealloc(NULL, sizeof *g->bubble * p);
    g->mem = cs_xrealloc(NULL, sizeof *g->mem * p);
    g->wq = cs_xrealloc(NULL, sizeof *g->wq * p * 2 * m);
    g->wq_head = cs_xrealloc(NULL, sizeof *g->wq_head * p);
    g->wq_tail = cs_xrealloc(NULL, sizeof *g->wq_tail * p);
    g->n_out = cs_xrealloc(NULL, sizeof *g->n_out * p);
    g->out = cs_xrealloc(NULL, sizeof *g->out * p * 6 * m);
}

static void free_vg(vg *g)
{
    void *arrays[] = {g->count, g->end, g->cur, g->bubble, g->mem,
                      g->wq, g->wq_head, g->wq_tail, g->n_out, g->out};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
}

/* zbv.py's retry: each rank's bubble as its allowance while the largest
 * shrinks; *best (order) and the return value hold the best try. */
static double refine(vg *g, schedule_unit *best, double best_bubble, int depth)
{
    size_t n = (size_t)g->p * 6 * (size_t)g->m;
    double got = try_once(g);
    for (int r = 0; r < g->p; r++)
        if (g->n_out[r] != 6 * g->m)
            got = INFINITY; /* a try that could not place every unit is no order */
    int better = got < best_bubble;
    if (better) {
        for (size_t i = 0; i < n; i++)
            best[i] = g->out[i];
        best_bubble = got;
    }
    double most_allowed = 0;
    if (g->approved)
        for (int r = 0; r < g->p; r++)
            most_allowed = fmax(most_allowed, g->approved[r]);
    if (depth < 64 && (!g->approved || got < most_allowed)) {
        double *allow = cs_xrealloc(NULL, sizeof *allow * (size_t)g->p);
        for (int r = 0; r < g->p; r++)
            allow[r] = g->bubble[r];
        const double *keep = g->approved;
        g->approved = allow;
        best_bubble = refine(g, best, best_bubble, depth + 1);
        g->approved = keep;
        free(allow);
    }
    return best_bubble;
}

void schedule_zbv_orders(const layout_desc *l, const schedule_costs *c, schedule_unit *out)
{
    vg g = {.p = l->pp, .m = layout_microbatches(l), .cost = {1, 1, 1}, .c = 0};
    if (c) { /* the middle of the measured times, as runtime.py feeds zbv.py */
        int nv = schedule_vstages(l);
        g.cost[0] = g.cost[1] = g.cost[2] = 0;
        for (int v = 0; v < nv; v++)
            g.cost[0] += c->f_s[v] / nv, g.cost[1] += c->b_s[v] / nv, g.cost[2] += c->w_s[v] / nv;
        g.c = c->p2p_s;
    }
    alloc_vg(&g);
    size_t n = (size_t)g.p * 6 * (size_t)g.m;
    schedule_unit *best = cs_xrealloc(NULL, sizeof *best * n);
    double best_bubble = INFINITY;
    for (int fb = 1; fb >= 0; fb--)
        for (int ff = 1; ff >= 0; ff--) {
            g.fill_b = fb, g.fill_f = ff, g.approved = NULL;
            best_bubble = refine(&g, best, best_bubble, 0);
        }
    free_vg(&g);
    if (isinf(best_bubble)) { /* never seen (p 2..32, m 1..80): V-Half's order, complete by construction */
        layout_desc half = *l;
        half.schedule = LAYOUT_SCHEDULE_V_HALF;
        schedule_vpattern_orders(&half, out);
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = best[i];
    }
    free(best);
}
