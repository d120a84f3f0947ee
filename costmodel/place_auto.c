/* place_auto: every algorithm and baseline, then a local search over units.
 *
 * Why: on graphs of many small operators the per-tensor latency dominates
 * and the greedy algorithms, which see one operator at a time, cut far too
 * many edges (on GNMT m-ETF is slower than one GPU).  The search starts
 * from the fastest feasible candidate as the simulation measures it and
 * tries, in a fixed order, until a pass changes nothing or the budget of
 * simulations is spent:
 *   emptying a device into another (whole devices of units at once);
 *   moving a unit to a device that holds one of its neighbours;
 *   when that move does not fit, swapping the unit with a unit on the
 *   target device that neighbours the unit's own device.
 * A move is kept when the memory replay fits and the simulated step is
 * shorter. */
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "place.h"

typedef struct search {
    const opgraph *g;
    const place_prep *p;
    const place_spec *s;
    place_eval_fn eval;
    void *ctx;
    int max_evals, evals, moves;
    int *unit_of, *uops_start, *uops;  /* operators of each unit (CSR) */
    int *cur, *cand;                   /* operator devices */
    double cur_us;
} search;

static void unit_ops(search *c)
{
    const opgraph *g = c->g;
    int nu = c->p->nunits;
    c->unit_of = cs_xrealloc(NULL, sizeof(int) * (size_t)(g->n + 1));
    c->uops_start = calloc((size_t)nu + 2, sizeof(int));
    c->uops = cs_xrealloc(NULL, sizeof(int) * (size_t)(g->n + 1));
    if (!c->uops_start)
        abort();
    for (int v = 0; v < g->n; v++) {
        c->unit_of[v] = c->p->fused.nodes[c->p->fused_of[v]].group;
        c->uops_start[c->unit_of[v] + 1]++;
    }
    for (int u = 0; u < nu; u++)
        c->uops_start[u + 1] += c->uops_start[u];
    int *fill = cs_xrealloc(NULL, sizeof(int) * (size_t)(nu + 1));
    memcpy(fill, c->uops_start, sizeof(int) * (size_t)(nu + 1));
    for (int i = 0; i < g->n; i++) /* topological order inside a unit */
        c->uops[fill[c->unit_of[g->topo[i]]]++] = g->topo[i];
    free(fill);
}

/* Evaluates cand; keeps it when it fits and is faster.  Returns 1 if kept. */
static int try_cand(search *c, cs_err *err, int *failed)
{
    uint64_t need[PLACE_MAX_DEVICES];
    place_replay_memory(c->g, c->p->fused_of, c->cand, c->s->ndev, need);
    if (place_check_memory(c->s, need, NULL) != 0 || c->evals >= c->max_evals)
        return 0;
    double us;
    c->evals++;
    if (c->eval(c->ctx, c->cand, &us, err) != 0) {
        *failed = 1;
        return 0;
    }
    if (!(us < c->cur_us * (1 - 1e-9)))
        return 0;
    c->cur_us = us;
    c->moves++;
    memcpy(c->cur, c->cand, sizeof(int) * (size_t)c->g->n);
    return 1;
}

static void set_unit(search *c, int *dev, int u, int d)
{
    for (int i = c->uops_start[u]; i < c->uops_start[u + 1]; i++)
        dev[c->uops[i]] = d;
}

static int empty_devices(search *c, cs_err *err, int *failed)
{
    int kept = 0;
    for (int a = 0; a < c->s->ndev && !*failed; a++)
        for (int b = 0; b < c->s->ndev && !*failed; b++) {
            int any = 0;
            memcpy(c->cand, c->cur, sizeof(int) * (size_t)c->g->n);
            for (int v = 0; v < c->g->n; v++)
                if (c->cand[v] == a && a != b)
                    c->cand[v] = b, any = 1;
            if (any)
                kept += try_cand(c, err, failed);
        }
    return kept;
}

/* Devices (other than d) holding a neighbour of unit u's operators. */
static int neighbour_devices(const search *c, int u, int d, char *mark)
{
    const opgraph *g = c->g;
    int any = 0;
    memset(mark, 0, PLACE_MAX_DEVICES);
    for (int i = c->uops_start[u]; i < c->uops_start[u + 1]; i++) {
        int v = c->uops[i];
        for (int k = g->out_start[v]; k < g->out_start[v + 1]; k++)
            mark[c->cur[g->edges[g->out_edge[k]].dst]] = 1;
        for (int k = g->in_start[v]; k < g->in_start[v + 1]; k++)
            mark[c->cur[g->edges[g->in_edge[k]].src]] = 1;
        mark[c->cur[v]] |= c->cur[v] != d; /* a unit the expert split */
    }
    mark[d] = 0;
    for (int b = 0; b < c->s->ndev; b++)
        any |= mark[b];
    return any;
}

/* A unit wholly on b with a neighbour on a, to swap with; -1 if none fits. */
static int swap_partner(search *c, int u, int a, int b, cs_err *err, int *failed)
{
    char mark[PLACE_MAX_DEVICES];
    for (int w = 0; w < c->p->nunits && !*failed; w++) {
        if (w == u || c->cur[c->uops[c->uops_start[w]]] != b || !neighbour_devices(c, w, b, mark) ||
            !mark[a])
            continue;
        memcpy(c->cand, c->cur, sizeof(int) * (size_t)c->g->n);
        set_unit(c, c->cand, u, b);
        set_unit(c, c->cand, w, a);
        if (try_cand(c, err, failed))
            return w;
        if (c->evals >= c->max_evals)
            break;
    }
    return -1;
}

static int move_units(search *c, cs_err *err, int *failed)
{
    int kept = 0;
    char mark[PLACE_MAX_DEVICES];
    uint64_t need[PLACE_MAX_DEVICES];
    for (int u = 0; u < c->p->nunits && !*failed && c->evals < c->max_evals; u++) {
        int a = c->cur[c->uops[c->uops_start[u]]];
        if (!neighbour_devices(c, u, a, mark))
            continue;
        for (int b = 0; b < c->s->ndev && !*failed; b++) {
            if (!mark[b])
                continue;
            memcpy(c->cand, c->cur, sizeof(int) * (size_t)c->g->n);
            set_unit(c, c->cand, u, b);
            place_replay_memory(c->g, c->p->fused_of, c->cand, c->s->ndev, need);
            int fits = place_check_memory(c->s, need, NULL) == 0;
            if ((fits && try_cand(c, err, failed)) || (!fits && swap_partner(c, u, a, b, err, failed) >= 0)) {
                kept++;
                break;
            }
        }
    }
    return kept;
}

static const place_algo candidates[] = {PLACE_SINGLE, PLACE_EXPERT, PLACE_EXPERT_NEAREST,
                                        PLACE_TOPO, PLACE_ETF, PLACE_SCT, PLACE_ROUNDROBIN};

#define NCAND ((int)(sizeof candidates / sizeof candidates[0]))
#define STARTS 2 /* the search runs from the fastest two candidates */

typedef struct cand {
    place_result r;
    place_algo algo;
    double us;
} cand;

/* Every feasible candidate, fastest first (stable: ties keep the list's
 * order); returns the count, or -1 on a failed simulation. */
static int candidates_run(search *c, cand *out, cs_err *last, cs_err *err)
{
    int n = 0;
    for (int i = 0; i < NCAND; i++) {
        cand t = {.algo = candidates[i]};
        if (place_run(c->g, c->p, c->s, candidates[i], &t.r, last) != 0)
            continue;
        c->evals++;
        if (c->eval(c->ctx, t.r.op_dev, &t.us, err) != 0) {
            place_result_free(&t.r);
            for (int k = 0; k < n; k++)
                place_result_free(&out[k].r);
            return -1;
        }
        int at = n++;
        while (at > 0 && out[at - 1].us > t.us) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = t;
    }
    return n;
}

/* Moves from the current placement until a pass keeps nothing. */
static int descend(search *c, int budget, cs_err *err)
{
    int failed = 0, kept = 1;
    c->max_evals = c->evals + budget;
    while (kept && !failed && c->evals < c->max_evals)
        kept = empty_devices(c, err, &failed) + move_units(c, err, &failed);
    return failed ? -1 : 0;
}

/* Each evaluation simulates every operator and edge: bound the product
 * before the first (PLACE_MAX_EVAL_WORK).  The NCAND candidates are
 * simulated whatever max_evals is, so they count as the least work. */
static int check_work(const opgraph *g, int max_evals, cs_err *err)
{
    long per_eval = (long)g->n + g->m;
    int evals = max_evals > NCAND ? max_evals : NCAND;
    if (per_eval < 1 || (double)evals * (double)per_eval <= PLACE_MAX_EVAL_WORK)
        return 0;
    return cs_fail(err, "auto: %d evals (at least its %d candidates) of a graph of %d operators "
                   "and %d edges are %.0f operators and edges to simulate; the limit is %ld: at "
                   "most %ld evals on this graph, or one algorithm (topo, etf, sct)", evals,
                   NCAND, g->n, g->m, (double)evals * (double)per_eval,
                   (long)PLACE_MAX_EVAL_WORK, (long)PLACE_MAX_EVAL_WORK / per_eval);
}

int place_auto(const opgraph *g, const place_prep *p, const place_spec *s, place_eval_fn eval,
               void *ctx, int max_evals, place_result *r, place_auto_info *info, cs_err *err)
{
    memset(info, 0, sizeof *info);
    memset(r, 0, sizeof *r);
    if (check_work(g, max_evals, err) != 0)
        return -1;
    search c = {g, p, s, eval, ctx, max_evals, 0, 0, NULL, NULL, NULL, NULL, NULL, 0};
    cand all[NCAND];
    cs_err last;
    int n = candidates_run(&c, all, &last, err), rc = 0, best = 0;
    if (n < 0)
        return -1;
    if (n == 0)
        return cs_fail(err, "auto: no algorithm found a placement within the memory limits; "
                       "the last said: %s", last.msg);
    unit_ops(&c);
    c.cand = cs_xrealloc(NULL, sizeof(int) * (size_t)(g->n + 1));
    int starts = n < STARTS ? n : STARTS, spent = c.evals;
    for (int k = 0; k < starts && rc == 0; k++) {
        int moves = c.moves;
        c.cur = all[k].r.op_dev;
        c.cur_us = all[k].us;
        rc = descend(&c, (max_evals - spent) / starts, err);
        if (c.moves > moves) { /* units may have moved: the op devices say where */
            free(all[k].r.unit_dev);
            all[k].r.unit_dev = NULL;
        }
        if (c.cur_us < info->step_us || k == 0) {
            best = k;
            info->step_us = c.cur_us;
        }
    }
    info->start = all[best].algo;
    info->start_step_us = all[best].us;
    info->evals = c.evals;
    info->moves = c.moves;
    for (int k = 0; k < n; k++)
        if (k == best && rc == 0) {
            *r = all[k].r;
            r->est_step_us = 0; /* auto's figure is the simulation's, not a schedule of its own */
        }
        else
            place_result_free(&all[k].r);
    free(c.unit_of);
    free(c.uops_start);
    free(c.uops);
    free(c.cand);
    return rc;
}
