/* schedule_zb: unit orders of the schedules that split the backward into B
 * (input gradients) and W (weight gradients), their replay and their
 * activation memory (see schedule.h).
 *
 * zb-h1, zb-h2 and zb-auto are built the way Qi et al. 2024
 * (sec. 3.1, their heuristic "automatic scheduling") builds them: each rank
 * runs the work of a list schedule, simulated here unit by unit, that
 *   - starts a new microbatch's F only while the activations it keeps stay
 *     within the rank's memory limit (counted in stages whose F ran and
 *     whose W has not),
 *   - prefers B, whose output the previous stage waits for, then F (zb-h1
 *     and zb-auto the other way round, see below),
 *   - fills any time it would wait with a pending W, which nothing but the
 *     optimizer waits for.
 * Memory is counted in stages of activations: F adds one, W takes it back
 * (B frees little: W still reads every linear layer's input and output
 * gradient, 32 sbh of the 34 sbh + 5 a s^2 b Megatron stores per layer, as
 * sail-sg's scheduler counts them).  Two caps per rank: on stages whose F
 * ran and whose B has not ("fb"), and on those whose W has not ("held").
 *   zb-h1, zb-auto: fb pp - r (1F1B's warm-up), held pp on every rank (the
 *     1F1B peak of rank 0, so 1x memory), and F before B when both are
 *     ready (1F1B's steady state); zb-auto builds with the measured F, B,
 *     W and p2p times instead of equal ones (their ZB-1p);
 *   zb-h2: fb 2 (pp - r) - 1, held 2 pp - 1 (2x, ZB-H2's longer warm-up;
 *     m >= 2 pp - 1, layout.c);
 * With F = B = W these orders reach ZB-H1's bubble (p-1)(F+B-W) at 1x
 * and ZB-H2's 0 at 2x exactly.  The V-shapes (zbv, v-half, v-min) and
 * dualpipe come from their authors' constructions instead
 * (schedule_vshape.h, schedule_dualpipe.h): tests/unit/test_schedule_zb.c,
 * validate/schedules.md.
 * No part of the orders is written by hand: they follow from these rules
 * and the dependencies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "cs_scratch.h"
#include "rankheap.h"
#include "schedule.h"
#include "schedule_dualpipe.h"
#include "schedule_memo.h"
#include "schedule_vshape.h"

typedef struct gen {
    const layout_desc *l;
    const schedule_costs *c;
    int pp, m, nv, chunks;
    int f_first; /* F before B when both are ready (zb-h1's 1F1B steady state) */
    double *f_end, *b_end;          /* [vs * m + mb], -1 until run */
    int *next_f, *next_b;           /* [vs]: next microbatch (index into vs's list) */
    int *wq, *wq_head, *wq_tail;    /* per rank FIFO of pending W: [r * cap + i] = vs * m + mb */
    int wcap;
    double *free_s;
    int *reserved, *limit;
    int *held, *hold_limit;         /* stages whose F ran and whose W has not; their cap */
    int *count;                     /* units emitted per rank */
    schedule_unit *out;
    int units;
} gen;

static double cost_of(const schedule_costs *c, const double *arr, int vs)
{
    return c ? arr[vs] : 1.0;
}

static double p2p_of(const gen *g, int from_vs, int to_vs)
{
    if (!g->c || schedule_vstage_rank(g->l, from_vs) == schedule_vstage_rank(g->l, to_vs))
        return 0;
    return g->c->p2p_s;
}


static int limit_of(const layout_desc *l, int r)
{
    int p = l->pp;
    switch (l->schedule) {
    case LAYOUT_SCHEDULE_ZB_H2: return 2 * (p - r) - 1;
    default: return p - r;
    }
}

static int hold_limit_of(const layout_desc *l)
{
    int p = l->pp;
    switch (l->schedule) {
    case LAYOUT_SCHEDULE_ZB_H2: return 2 * p - 1;
    default: return p; /* zb-h1, zb-auto: 1F1B's peak, rank 0's p, on every rank */
    }
}

/* When F (kind 0) or B (kind 1) of mb at vs may start; INFINITY if its input is not yet made. */
static double ready_s(const gen *g, int kind, int vs, int mb)
{
    int first, last;
    schedule_path(g->l, mb, &first, &last);
    if (kind == 0) {
        if (vs == first)
            return 0;
        double e = g->f_end[(vs - 1) * g->m + mb];
        return e < 0 ? INFINITY : e + p2p_of(g, vs - 1, vs);
    }
    double own = g->f_end[vs * g->m + mb];
    if (own < 0)
        return INFINITY;
    if (vs == last)
        return own;
    double e = g->b_end[(vs + 1) * g->m + mb];
    return e < 0 ? INFINITY : fmax(own, e + p2p_of(g, vs + 1, vs));
}

typedef struct pick {
    double at_s;
    int kind, vs, mb; /* kind: SCHEDULE_F/B/W */
} pick;

/* Rank r's next unit by the rules above, and when it starts. */
static pick choose(const gen *g, int r)
{
    pick best = {INFINITY, -1, -1, -1};
    double now = g->free_s[r];
    double ready[2][2] = {{INFINITY, INFINITY}, {INFINITY, INFINITY}};
    int mbs[2][2] = {{-1, -1}, {-1, -1}};
    for (int c = 0; c < g->chunks; c++) {
        int vs = schedule_vstage(g->l, r, c), hi = g->m;
        int f = g->next_f[vs], b = g->next_b[vs];
        if (f < hi && g->reserved[r] < g->limit[r] && g->held[r] < g->hold_limit[r]) {
            ready[0][c] = ready_s(g, 0, vs, f);
            mbs[0][c] = f;
        }
        if (b < hi && b < f) {
            ready[1][c] = ready_s(g, 1, vs, b);
            mbs[1][c] = b;
        }
    }
    int has_w = g->wq_head[r] < g->wq_tail[r];
    double earliest = has_w ? now : INFINITY;
    for (int k = 0; k < 2; k++)
        for (int c = 0; c < g->chunks; c++)
            earliest = fmin(earliest, fmax(now, ready[k][c]));
    if (isinf(earliest))
        return best;
    best.at_s = earliest;
    /* B before F; among chunks the later virtual stage (its microbatch is
     * further along); W only when neither is ready. */
    for (int i = 0; i < 2; i++) {
        int k = g->f_first ? i : 1 - i;
        for (int c = g->chunks - 1; c >= 0; c--) {
            int vs = schedule_vstage(g->l, r, c);
            if (ready[k][c] <= earliest && (best.kind < 0 || vs > best.vs)) {
                best.kind = k ? SCHEDULE_B : SCHEDULE_F;
                best.vs = vs;
                best.mb = mbs[k][c];
            }
        }
        if (best.kind >= 0)
            return best;
    }
    if (best.kind >= 0)
        return best;
    int key = g->wq[r * g->wcap + g->wq_head[r]];
    best.kind = SCHEDULE_W;
    best.vs = key / g->m;
    best.mb = key % g->m;
    return best;
}

static void run_pick(gen *g, int r, const pick *p)
{
    const schedule_costs *c = g->c;
    int key = p->vs * g->m + p->mb;
    double dur;
    if (p->kind == SCHEDULE_F) {
        dur = cost_of(c, c ? c->f_s : NULL, p->vs);
        g->f_end[key] = p->at_s + dur;
        g->next_f[p->vs]++;
        g->reserved[r]++;
        g->held[r]++;
    } else if (p->kind == SCHEDULE_B) {
        dur = cost_of(c, c ? c->b_s : NULL, p->vs);
        g->b_end[key] = p->at_s + dur;
        g->next_b[p->vs]++;
        g->wq[r * g->wcap + g->wq_tail[r]++] = key;
        g->reserved[r]--;
    } else {
        dur = cost_of(c, c ? c->w_s : NULL, p->vs);
        g->wq_head[r]++;
        g->held[r]--;
    }
    g->free_s[r] = p->at_s + dur;
    int chunk = p->vs == schedule_vstage(g->l, r, 0) ? 0 : 1;
    g->out[(size_t)r * g->units + g->count[r]++] = (schedule_unit){p->kind, p->mb, chunk, 0};
}

static double *doubles(size_t n, double fill)
{
    double *a = cs_xrealloc(NULL, sizeof *a * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        a[i] = fill;
    return a;
}

static int *ints(size_t n, int fill)
{
    int *a = cs_xrealloc(NULL, sizeof *a * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        a[i] = fill;
    return a;
}

/* Rank r's next pick, in the heap by its start or out when it has none. */
static void repick(gen *g, rankheap *ready, pick *next, int r)
{
    next[r] = choose(g, r);
    if (next[r].kind >= 0)
        rankheap_set(ready, r, next[r].at_s);
    else
        rankheap_remove(ready, r);
}

/* The list schedule of zb-h1, zb-h2 and zb-auto (above). */
static void list_orders(const layout_desc *l, const schedule_costs *costs, schedule_unit *out)
{
    gen g = {.l = l, .c = costs, .pp = l->pp, .m = layout_microbatches(l),
             .nv = schedule_vstages(l), .chunks = schedule_chunks(l), .out = out,
             .units = schedule_units(l)};
    g.wcap = g.units;
    g.f_first = l->schedule == LAYOUT_SCHEDULE_ZB_H1 || l->schedule == LAYOUT_SCHEDULE_ZB_AUTO;
    g.f_end = doubles((size_t)g.nv * g.m, -1);
    g.b_end = doubles((size_t)g.nv * g.m, -1);
    g.next_f = ints((size_t)g.nv, 0);
    g.next_b = ints((size_t)g.nv, 0);
    g.wq = ints((size_t)g.pp * g.wcap, 0);
    g.wq_head = ints((size_t)g.pp, 0);
    g.wq_tail = ints((size_t)g.pp, 0);
    g.free_s = doubles((size_t)g.pp, 0);
    g.reserved = ints((size_t)g.pp, 0);
    g.limit = ints((size_t)g.pp, 0);
    g.held = ints((size_t)g.pp, 0);
    g.hold_limit = ints((size_t)g.pp, 0);
    g.count = ints((size_t)g.pp, 0);
    for (int r = 0; r < g.pp; r++) {
        int lim = limit_of(l, r);
        g.limit[r] = lim < 1 ? 1 : lim;
        int hold = hold_limit_of(l);
        g.hold_limit[r] = hold < g.limit[r] ? g.limit[r] : hold;
    }
    /* A rank's next pick changes only when it runs a unit or a neighbour
     * makes its input: keep each rank's pick until then, the ranks in a
     * heap by its start (ties to the lower rank). */
    pick *next = cs_xrealloc(NULL, sizeof *next * (size_t)(g.pp > 0 ? g.pp : 1));
    rankheap ready;
    rankheap_init(&ready, g.pp);
    for (int r = 0; r < g.pp; r++)
        repick(&g, &ready, next, r);
    for (long left = (long)g.pp * g.units; left > 0; left--) {
        int at = rankheap_top(&ready);
        if (at < 0)
            abort(); /* cannot happen: some rank can always go on (limits >= 1) */
        pick done = next[at];
        run_pick(&g, at, &done);
        repick(&g, &ready, next, at);
        int feeds = done.kind == SCHEDULE_F ? done.vs + 1 : done.vs - 1;
        if (done.kind != SCHEDULE_W && feeds >= 0 && feeds < g.nv)
            repick(&g, &ready, next, schedule_vstage_rank(l, feeds));
    }
    rankheap_free(&ready);
    free(next);
    void *arrays[] = {g.f_end, g.b_end, g.next_f, g.next_b, g.wq, g.wq_head, g.wq_tail,
                      g.free_s, g.reserved, g.limit, g.count, g.held, g.hold_limit};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
}

void schedule_orders_built(const layout_desc *l, const schedule_costs *costs, schedule_unit *out)
{
    if (!schedule_splits_backward(l)) {
        for (int r = 0; r < l->pp; r++)
            schedule_order(l, r, out + (size_t)r * (size_t)schedule_units(l));
    } else if (l->schedule == LAYOUT_SCHEDULE_ZBV) {
        schedule_zbv_orders(l, costs, out);
    } else if (l->schedule == LAYOUT_SCHEDULE_V_HALF || l->schedule == LAYOUT_SCHEDULE_V_MIN) {
        schedule_vpattern_orders(l, out);
    } else if (l->schedule == LAYOUT_SCHEDULE_DUALPIPE) {
        schedule_dualpipe_orders(l, out);
    } else {
        list_orders(l, costs, out);
    }
}

void schedule_orders(const layout_desc *l, const schedule_costs *costs, schedule_unit *out)
{
    if (!schedule_splits_backward(l)) {
        schedule_orders_built(l, costs, out);
        return;
    }
    /* Built from equal unit times, an order depends on the schedule, pp,
     * vpp and the microbatches alone: the memo keeps it for the next
     * layout that shares them (a search prices thousands). */
    int m = layout_microbatches(l);
    size_t n = (size_t)schedule_units(l) * (size_t)l->pp;
    if (!costs && schedule_memo_get(l->schedule, l->pp, l->vpp, m, out, n))
        return;
    schedule_orders_built(l, costs, out);
    if (!costs)
        schedule_memo_put(l->schedule, l->pp, l->vpp, m, out, n);
}

/* ---- replay ---------------------------------------------------------------- */

/* fmax as glibc computes it (the larger; the other when one is NaN),
 * inline: replay takes two per unit, and the library call was 2% of a
 * search's time. */
static inline double max_s(double a, double b)
{
    return a >= b || isnan(b) ? a : b;
}

/* What replay looks up for every unit, computed once per replay instead:
 * schedule_vstage, schedule_vstage_rank and schedule_path were calls per
 * unit per attempt (3% of the 96-GPU GPT-3 search's profile); the arrays
 * come from the thread's scratch instead of an allocation per layout
 * (cs_scratch.h). */
typedef struct replay_state {
    int pp, m, n, chunks;
    double *f_end, *b_end;       /* [vs * m + mb]: when F (B) of mb at vs ended, -1 until run */
    double *free_s, *busy, *first;
    int *next;                   /* [rank]: its next unit */
    int *vs_of;                  /* [rank * chunks + chunk]: schedule_vstage */
    int *rank_of;                /* [vs]: schedule_vstage_rank */
    int *first_vs, *last_vs;     /* [mb]: schedule_path */
} replay_state;

static void fill_doubles(double *a, size_t n, double v)
{
    for (size_t i = 0; i < n; i++)
        a[i] = v;
}

static void replay_begin(const layout_desc *l, replay_state *st)
{
    int pp = l->pp, m = layout_microbatches(l), nv = schedule_vstages(l);
    int chunks = schedule_chunks(l);
    size_t cells = (size_t)nv * (size_t)m;
    st->pp = pp;
    st->m = m;
    st->n = schedule_units(l);
    st->chunks = chunks;
    double *d = cs_scratch(CS_SCRATCH_REPLAY_DOUBLES, sizeof *d * (2 * cells + 3 * (size_t)pp));
    st->f_end = d;
    st->b_end = d + cells;
    st->free_s = st->b_end + cells;
    st->busy = st->free_s + pp;
    st->first = st->busy + pp;
    fill_doubles(st->f_end, 2 * cells, -1);
    fill_doubles(st->free_s, 2 * (size_t)pp, 0);
    fill_doubles(st->first, (size_t)pp, -1);
    size_t nints = (size_t)pp * (1 + (size_t)chunks) + (size_t)nv + 2 * (size_t)m;
    int *k = cs_scratch(CS_SCRATCH_REPLAY_INTS, sizeof *k * nints);
    st->next = k;
    st->vs_of = k + pp;
    st->rank_of = st->vs_of + (size_t)pp * chunks;
    st->first_vs = st->rank_of + nv;
    st->last_vs = st->first_vs + m;
    for (int r = 0; r < pp; r++) {
        st->next[r] = 0;
        for (int c = 0; c < chunks; c++)
            st->vs_of[r * chunks + c] = schedule_vstage(l, r, c);
    }
    for (int vs = 0; vs < nv; vs++)
        st->rank_of[vs] = schedule_vstage_rank(l, vs);
    for (int mb = 0; mb < m; mb++)
        schedule_path(l, mb, &st->first_vs[mb], &st->last_vs[mb]);
}

/* When the unit's input is available (its producer's end, plus a send
 * between ranks), or -1 while the producer has not run. */
static double input_s(const replay_state *st, const schedule_costs *c, int r,
                      const schedule_unit *u)
{
    int vs = st->vs_of[r * st->chunks + u->chunk], mb = u->microbatch;
    double p2p = c ? c->p2p_s : 0;
    if (u->backward == SCHEDULE_F) {
        if (vs == st->first_vs[mb])
            return 0;
        double e = st->f_end[(vs - 1) * st->m + mb];
        return e < 0 ? -1 : e + (st->rank_of[vs - 1] == r ? 0 : p2p);
    }
    if (u->backward == SCHEDULE_W || vs == st->last_vs[mb])
        return 0; /* its B (or F) ran before it on this rank */
    double e = st->b_end[(vs + 1) * st->m + mb];
    return e < 0 ? -1 : e + (st->rank_of[vs + 1] == r ? 0 : p2p);
}

static double unit_cost(const schedule_costs *c, const schedule_unit *u, int vs)
{
    const double *arr = !c ? NULL : u->backward == SCHEDULE_F ? c->f_s
                                  : u->backward == SCHEDULE_B ? c->b_s
                                                              : c->w_s;
    return cost_of(c, arr, vs);
}

int schedule_group_len(const schedule_unit *order, int i, int n)
{
    int len = 1;
    if (order[i].overlap && order[i].backward == SCHEDULE_F)
        while (i + len < n && order[i + len].overlap && order[i + len].backward != SCHEDULE_F)
            len++;
    return len;
}

/* Seconds of the group of len units at u (one unit, or an F&B unit). */
static double group_cost(const replay_state *st, const schedule_costs *c, const schedule_unit *u,
                         int len, int r)
{
    const int *vs_of = st->vs_of + r * st->chunks;
    if (len > 1 && c && c->fb_s)
        return c->fb_s[vs_of[u->chunk]];
    double sum = 0;
    for (int j = 0; j < len; j++)
        sum += unit_cost(c, &u[j], vs_of[u[j].chunk]);
    return sum;
}

/* When the group of len units at u may start on rank r, or -1 while an
 * input is missing: an F&B unit starts when both its inputs are in
 * (dualpipe.py receives both before it computes). */
static double group_input_s(const replay_state *st, const schedule_costs *c, int r,
                            const schedule_unit *u, int len)
{
    double in = 0;
    for (int j = 0; j < len && in >= 0; j++) {
        double at = input_s(st, c, r, &u[j]);
        in = at < 0 ? -1 : max_s(in, at);
    }
    return in;
}

/* Runs the group of len units at rank r's unit i from `start` for dur
 * seconds: their ends (an F&B unit sends both at its end) and times. */
static void run_group(replay_state *st, int r, int i, const schedule_unit *u, int len,
                      double start, double dur, double *unit_start_s, double *unit_end_s)
{
    if (st->first[r] < 0)
        st->first[r] = start;
    double end = start + dur;
    st->free_s[r] = end;
    st->busy[r] += dur;
    for (int j = 0; j < len; j++) {
        int vs = st->vs_of[r * st->chunks + u[j].chunk];
        if (unit_start_s) {
            unit_start_s[(size_t)r * st->n + i + j] = start;
            unit_end_s[(size_t)r * st->n + i + j] = end;
        }
        if (u[j].backward == SCHEDULE_F)
            st->f_end[vs * st->m + u[j].microbatch] = end;
        else if (u[j].backward == SCHEDULE_B)
            st->b_end[vs * st->m + u[j].microbatch] = end;
    }
}

/* Rank r's units from its next one until one waits for an input; 1 when
 * it ran any. */
static int advance_rank(replay_state *st, const schedule_unit *orders, const schedule_costs *c,
                        int r, double *unit_start_s, double *unit_end_s)
{
    const schedule_unit *order = orders + (size_t)r * st->n;
    int ran = 0;
    while (st->next[r] < st->n) {
        int i = st->next[r], len = schedule_group_len(order, i, st->n);
        double in = group_input_s(st, c, r, &order[i], len);
        if (in < 0)
            break;
        double start = max_s(st->free_s[r], in);
        run_group(st, r, i, &order[i], len, start, group_cost(st, c, &order[i], len, r),
                  unit_start_s, unit_end_s);
        st->next[r] += len;
        ran = 1;
    }
    return ran;
}

static void replay(const layout_desc *l, const schedule_unit *orders,
                   const schedule_costs *costs, double *first_s, double *end_s,
                   double *busy_s, double *unit_start_s, double *unit_end_s)
{
    replay_state st;
    replay_begin(l, &st);
    for (int progress = 1; progress;) {
        progress = 0;
        for (int r = 0; r < st.pp; r++)
            progress |= advance_rank(&st, orders, costs, r, unit_start_s, unit_end_s);
    }
    for (int r = 0; r < st.pp; r++) {
        if (first_s)
            first_s[r] = st.first[r];
        if (end_s)
            end_s[r] = st.free_s[r];
        if (busy_s)
            busy_s[r] = st.busy[r];
    }
}

void schedule_replay(const layout_desc *l, const schedule_unit *orders,
                     const schedule_costs *costs, double *first_s, double *end_s,
                     double *busy_s)
{
    replay(l, orders, costs, first_s, end_s, busy_s, NULL, NULL);
}

void schedule_replay_units(const layout_desc *l, const schedule_unit *orders,
                           const schedule_costs *costs, double *first_s, double *end_s,
                           double *unit_start_s, double *unit_end_s)
{
    replay(l, orders, costs, first_s, end_s, NULL, unit_start_s, unit_end_s);
}

/* ---- memory ---------------------------------------------------------------- */

double schedule_peak_activation(const layout_desc *l, const schedule_unit *order,
                                const double *act_bytes, const double *wpend_bytes,
                                int *peak_units)
{
    int split = schedule_splits_backward(l), n = schedule_units(l);
    double now = 0, peak = 0;
    int units = 0, most = 0;
    for (int i = 0; i < n; i++) {
        const schedule_unit *u = &order[i];
        double keep = split ? wpend_bytes[u->chunk] : 0;
        if (u->backward == SCHEDULE_F) {
            now += act_bytes[u->chunk];
            units++;
        } else if (u->backward == SCHEDULE_B) {
            now -= act_bytes[u->chunk] - keep;
            units -= !split;
        } else {
            now -= keep;
            units--;
        }
        peak = fmax(peak, now);
        most = units > most ? units : most;
    }
    if (peak_units)
        *peak_units = most;
    return peak;
}
