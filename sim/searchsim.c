/* searchsim: the top layouts simulated and re-ranked (see searchsim.h). */
#include "searchsim.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_alloc.h"
#include "commcost.h"
#include "parmap.h"
#include "trainsim.h"

/* The parts of an iteration the two estimates may split differently. */
enum { PART_BUBBLE, PART_DP, PART_P2P, PART_TP, PART_COMPUTE, NPARTS };

static void parts_of(const estimate_result *r, double *parts)
{
    memset(parts, 0, sizeof(double) * NPARTS);
    for (int s = 0; s < r->pp; s++) {
        const estimate_stage *st = &r->stages[s];
        parts[PART_BUBBLE] += st->bubble_s;
        parts[PART_DP] += st->dp_exposed_s;
        parts[PART_P2P] += st->p2p_s;
        parts[PART_TP] += st->tp_comm_s;
        parts[PART_COMPUTE] += st->compute_s + st->recompute_s + st->optimizer_s;
    }
}

/* "bubble: simulated 1.20 s, closed form 0.80 s (sum over stages)" */
static void explain(const estimate_result *sim, const estimate_result *ana, char *note, size_t n)
{
    static const char *const names[NPARTS] = {"bubble", "exposed dp comm", "pipeline transfers",
                                              "tp comm", "compute"};
    double a[NPARTS], b[NPARTS];
    parts_of(sim, a);
    parts_of(ana, b);
    int worst = 0;
    for (int p = 1; p < NPARTS; p++)
        if (fabs(a[p] - b[p]) > fabs(a[worst] - b[worst]))
            worst = p;
    snprintf(note, n, "%s: sim %.3g s, closed form %.3g s (all stages)", names[worst], a[worst],
             b[worst]);
}

static int simulate_one(const search_input *in, topo *t, const search_candidate *c,
                        searchsim_row *row, cs_err *err)
{
    estimate_input ei = {in->model, &c->layout, t, in->gpus, in->eff};
    estimate_result ana;
    if (trainsim_run(&ei, TRAINSIM_FOLDED, &row->sim, NULL, err) != 0)
        return -1;
    if (estimate_analytic(&ei, &ana, err) != 0) {
        estimate_result_free(&ana);
        return -1;
    }
    row->analytic_s = ana.iteration_s;
    row->tokens_per_day = row->sim.tokens_per_s * 86400 * c->goodput;
    row->diff_percent = 100.0 * (ana.iteration_s - row->sim.iteration_s) / row->sim.iteration_s;
    row->note[0] = '\0';
    if (fabs(row->diff_percent) > SEARCHSIM_AGREE_PERCENT)
        explain(&row->sim, &ana, row->note, sizeof row->note);
    estimate_result_free(&ana);
    return 0;
}

static search_objective rank_obj; /* qsort has no context in C17; one thread ranks */

static int by_sim(const void *a, const void *b)
{
    const searchsim_row *x = a, *y = b;
    double kx = x->sim.iteration_s, ky = y->sim.iteration_s;
    if (rank_obj == SEARCH_MEMORY && x->sim.peak_mem_bytes != y->sim.peak_mem_bytes)
        return x->sim.peak_mem_bytes < y->sim.peak_mem_bytes ? -1 : 1;
    if (rank_obj == SEARCH_GOODPUT && x->tokens_per_day != y->tokens_per_day)
        return x->tokens_per_day > y->tokens_per_day ? -1 : 1;
    if (kx != ky)
        return kx < ky ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* One finalist's result as parmap carries it: flat, so that under an MPI
 * backend it is gathered by index and shared with every rank.  The
 * per-stage split stays where it was simulated (only the note drawn from it
 * travels): row.sim.stages is NULL and row.sim.pp 0. */
typedef struct finalist_out {
    searchsim_row row;
    int state;   /* 0 not run (stopped), 1 done, -1 failed */
    cs_err err;  /* when failed */
} finalist_out;

/* A topology keeps routing scratch, so two finalists never share one at the
 * same time: an item takes a free copy (same system, same link bandwidths)
 * or makes one.  Every copy gives the same figures, so the rows do not
 * depend on which copy, thread or rank ran a finalist. */
typedef struct topo_pool {
    topo **free_list, **owned;
    int nfree, nowned;
    pthread_mutex_t lock;
} topo_pool;

typedef struct finalists {
    const search_input *in;
    const search_result *r;
    const int *order;  /* slot i: finalist order[i] */
    topo_pool pool;
    int n;             /* finalists to simulate */
    double t0_s;       /* when they started, for the progress bar */
} finalists;

/* A copy of the topology: the system rebuilt, then every link's bandwidth
 * copied (a slowed link stays slowed). */
static int copy_topology(const topo *from, topo **out, cs_err *err)
{
    if (topo_build(topo_system(from), out, err) != 0)
        return -1;
    for (int l = 0; l < topo_link_count(from); l++)
        topo_set_link_bw(*out, l, topo_link_at(from, l)->bw_bytes_per_s);
    return 0;
}

static topo *pool_take(topo_pool *p, const topo *from, cs_err *err)
{
    pthread_mutex_lock(&p->lock);
    topo *t = p->nfree > 0 ? p->free_list[--p->nfree] : NULL;
    pthread_mutex_unlock(&p->lock);
    if (t)
        return t;
    if (copy_topology(from, &t, err) != 0)
        return NULL;
    pthread_mutex_lock(&p->lock);
    p->owned = cs_xrealloc(p->owned, sizeof *p->owned * (size_t)(p->nowned + 1));
    p->owned[p->nowned++] = t;
    /* room for every topology there is, so a give never grows the list */
    p->free_list = cs_xrealloc(p->free_list, sizeof *p->free_list * (size_t)(p->nowned + 1));
    pthread_mutex_unlock(&p->lock);
    return t;
}

static void pool_give(topo_pool *p, topo *t)
{
    pthread_mutex_lock(&p->lock);
    p->free_list[p->nfree++] = t;
    pthread_mutex_unlock(&p->lock);
}

static void finalist_item(void *ctx, long i, void *out)
{
    finalists *f = ctx;
    finalist_out *o = out;
    if (f->in->stop && *f->in->stop)
        return; /* state 0: not run */
    o->row.index = f->order[i];
    topo *t = pool_take(&f->pool, f->in->topology, &o->err);
    if (!t) {
        o->state = -1;
        return;
    }
    o->state = simulate_one(f->in, t, &f->r->cands[f->order[i]], &o->row, &o->err) == 0 ? 1 : -1;
    pool_give(&f->pool, t);
    estimate_result_free(&o->row.sim); /* the stages do not travel */
    o->row.sim.pp = 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* In order as they finish: the bar (each finalist of a large job is seconds). */
static void finalist_done(void *ctx, long i, const void *out)
{
    (void)out;
    const finalists *f = ctx;
    if (f->in->progress)
        f->in->progress(f->in->progress_ctx, "finalists", i + 1, f->n, now_s() - f->t0_s);
}

static void finalist_label(void *ctx, long i, char *buf, size_t n)
{
    const finalists *f = ctx;
    layout_describe(&f->r->cands[f->order[i]].layout, buf, (int)n);
}

/* The finalists over threads, or over ranks under a backend (parmap):
 * finalist i lands in slot i whoever ran it. */
static void run_finalists(finalists *f, int n, finalist_out *outs)
{
    int threads = f->in->threads < 1 ? 1 : f->in->threads > SEARCHSIM_MAX_THREADS
                                               ? SEARCHSIM_MAX_THREADS : f->in->threads;
    f->pool.free_list = cs_xrealloc(NULL, sizeof *f->pool.free_list);
    f->pool.free_list[0] = f->in->topology;
    f->pool.nfree = 1;
    f->n = n;
    f->t0_s = now_s();
    parmap_job pj = {.n = n, .out_size = sizeof *outs, .item = finalist_item, .ctx = f,
                     .commit = finalist_done, .label = finalist_label,
                     .what = "search finalist", .threads = threads, .chunk_max = 1};
    parmap_run(&pj, outs);
    for (int k = 0; k < f->pool.nowned; k++)
        topo_free(f->pool.owned[k]);
    free(f->pool.owned);
    free(f->pool.free_list);
}

int searchsim_check_top(const search_input *in, int k, cs_err *err)
{
    double work = (double)k * in->gpus;
    if (work <= SEARCHSIM_MAX_GPU_FINALISTS || in->gpus > COMMCOST_MAX_GPUS)
        return 0; /* a job too large to plan is refused by the search itself, for that */
    long fit = SEARCHSIM_MAX_GPU_FINALISTS / in->gpus;
    return cs_fail(err, "top %d finalists to simulate on %d GPUs are %.0f GPU-simulations; "
                        "the limit is %ld: top %ld or less on this job",
                   k, in->gpus, work, (long)SEARCHSIM_MAX_GPU_FINALISTS, fit < 1 ? 1 : fit);
}

int searchsim_top(const search_input *in, const search_result *r, search_objective obj, int k,
                  searchsim_row *rows, int *nrows, cs_err *err)
{
    if (searchsim_check_top(in, k, err) != 0) {
        *nrows = 0;
        return -1;
    }
#ifdef SEARCHSIM_MAX_FINALISTS /* the fuzzing build's bound on the work (meson.build) */
    if (k > SEARCHSIM_MAX_FINALISTS)
        k = SEARCHSIM_MAX_FINALISTS;
#endif
    int *order = cs_xrealloc(NULL, sizeof *order * (size_t)(k > 0 ? k : 1));
    int n = search_rank(r, obj, order, k);
    finalists f = {in, r, order, {NULL, NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER}, 0, 0};
    finalist_out *outs = cs_xrealloc(NULL, sizeof *outs * (size_t)(n > 0 ? n : 1));
    if (n > 0)
        run_finalists(&f, n, outs);
    /* The rows up to the first finalist not simulated (stopped) or failed. */
    int rc = 0;
    *nrows = 0;
    while (*nrows < n && outs[*nrows].state == 1) {
        rows[*nrows] = outs[*nrows].row;
        (*nrows)++;
    }
    if (*nrows < n && outs[*nrows].state == -1) {
        *err = outs[*nrows].err;
        rc = -1;
    }
    free(outs);
    free(order);
    rank_obj = obj;
    qsort(rows, (size_t)*nrows, sizeof *rows, by_sim);
    return rc;
}

void searchsim_rows_free(searchsim_row *rows, int n)
{
    for (int i = 0; i < n; i++)
        estimate_result_free(&rows[i].sim);
}
