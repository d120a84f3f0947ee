/* searchsim: the top layouts simulated and re-ranked (see searchsim.h). */
#include "searchsim.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
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

/* The finalists spread over threads.  A topology keeps routing scratch, so
 * each worker has its own copy (same system, same link bandwidths); finalist
 * i always lands in slot i, so the rows do not depend on the thread count. */
typedef struct finalists {
    const search_input *in;
    const search_result *r;
    const int *order;
    int n, next;
    searchsim_row *rows;      /* slot i: finalist order[i] */
    int *state;               /* per slot: 0 not run, 1 done, -1 failed */
    cs_err *errs;             /* per slot */
    pthread_mutex_t lock;
} finalists;

typedef struct finalist_worker {
    finalists *f;
    topo *t;
} finalist_worker;

static void *finalist_loop(void *arg)
{
    finalist_worker *w = arg;
    finalists *f = w->f;
    for (;;) {
        pthread_mutex_lock(&f->lock);
        int i = f->next++;
        pthread_mutex_unlock(&f->lock);
        if (i >= f->n || (f->in->stop && *f->in->stop))
            return NULL;
        searchsim_row *row = &f->rows[i];
        memset(row, 0, sizeof *row);
        row->index = f->order[i];
        f->state[i] = simulate_one(f->in, w->t, &f->r->cands[f->order[i]], row, &f->errs[i])
                          == 0 ? 1 : -1;
    }
}

/* A worker's own topology: the system rebuilt, then every link's bandwidth
 * copied (a slowed link stays slowed). */
static int copy_topology(const topo *from, topo **out, cs_err *err)
{
    if (topo_build(topo_system(from), out, err) != 0)
        return -1;
    for (int l = 0; l < topo_link_count(from); l++)
        topo_set_link_bw(*out, l, topo_link_at(from, l)->bw_bytes_per_s);
    return 0;
}

static int run_finalists(finalists *f, int threads, cs_err *err)
{
    finalist_worker w[SEARCHSIM_MAX_THREADS];
    pthread_t tid[SEARCHSIM_MAX_THREADS];
    int rc = 0, started = 0;
    for (int k = 0; k < threads; k++) {
        w[k] = (finalist_worker){f, f->in->topology};
        if (k > 0 && copy_topology(f->in->topology, &w[k].t, err) != 0) {
            threads = k;
            rc = -1;
        }
    }
    for (int k = 1; k < threads && rc == 0; k++, started++)
        if (pthread_create(&tid[k], NULL, finalist_loop, &w[k]) != 0)
            break; /* fewer threads: the others take its share */
    if (rc == 0)
        finalist_loop(&w[0]);
    for (int k = 1; k <= started; k++)
        pthread_join(tid[k], NULL);
    for (int k = 1; k < threads; k++)
        topo_free(w[k].t);
    return rc;
}

int searchsim_top(const search_input *in, const search_result *r, search_objective obj, int k,
                  searchsim_row *rows, int *nrows, cs_err *err)
{
    int *order = cs_xrealloc(NULL, sizeof *order * (size_t)(k > 0 ? k : 1));
    int n = search_rank(r, obj, order, k);
    finalists f = {in, r, order, n, 0, rows, NULL, NULL, PTHREAD_MUTEX_INITIALIZER};
    f.state = cs_xrealloc(NULL, sizeof *f.state * (size_t)(n > 0 ? n : 1));
    f.errs = cs_xrealloc(NULL, sizeof *f.errs * (size_t)(n > 0 ? n : 1));
    memset(f.state, 0, sizeof *f.state * (size_t)(n > 0 ? n : 1));
    int threads = in->threads < 1 ? 1 : in->threads > SEARCHSIM_MAX_THREADS
                                            ? SEARCHSIM_MAX_THREADS : in->threads;
    int rc = run_finalists(&f, threads < n ? threads : (n > 0 ? n : 1), err);
    /* The rows up to the first finalist not simulated (stopped) or failed. */
    *nrows = 0;
    while (rc == 0 && *nrows < n && f.state[*nrows] == 1)
        (*nrows)++;
    if (rc == 0 && *nrows < n && f.state[*nrows] == -1) {
        *err = f.errs[*nrows];
        rc = -1;
    }
    for (int i = *nrows; i < n; i++)
        if (f.state[i] != 0)
            estimate_result_free(&rows[i].sim);
    free(f.state);
    free(f.errs);
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
