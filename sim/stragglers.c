/* stragglers: iterations with slow GPUs and links (see stragglers.h). */
#include "stragglers.h"

#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "trainsim.h"

/* ---- parsing ---- */

static int parse_range(const char *text, straggler *out, cs_err *err)
{
    char *end;
    long from = strtol(text, &end, 10), to = from;
    if (end != text && *end == '-')
        to = strtol(end + 1, &end, 10);
    if (end == text || *end || from < 0 || to < from || to > INT_MAX)
        return cs_fail(err, "iterations '%s' are not FROM-TO (0-based, FROM <= TO)", text);
    out->from_iter = (int)from, out->to_iter = (int)to;
    return 0;
}

int straggler_parse(const char *text, straggler *out, cs_err *err)
{
    char kind[8], rest[64];
    int used = 0;
    if (sscanf(text, "%7[a-z]:%n", kind, &used) != 1 || used == 0)
        return cs_fail(err, "straggler '%s' is not gpu:RANK:FACTOR[:FROM-TO] or "
                            "link:NODE:FACTOR[:FROM-TO]", text);
    if (strcmp(kind, "gpu") != 0 && strcmp(kind, "link") != 0)
        return cs_fail(err, "straggler '%s': '%s' is not gpu or link", text, kind);
    out->kind = kind[0] == 'g' ? STRAGGLER_GPU : STRAGGLER_LINK;
    char *end;
    long target = strtol(text + used, &end, 10);
    if (end == text + used || *end != ':' || target < 0 || target > INT_MAX)
        return cs_fail(err, "straggler '%s': the %s must be a number from 0", text,
                       out->kind == STRAGGLER_GPU ? "rank" : "node");
    out->target = (int)target;
    out->factor = strtod(end + 1, &end);
    if (!(out->factor >= 1 && out->factor <= STRAGGLER_MAX_FACTOR) || (*end && *end != ':'))
        return cs_fail(err, "straggler '%s': the factor must be a number >= 1 and <= %g (2: half "
                            "speed)", text, STRAGGLER_MAX_FACTOR);
    out->from_iter = 0, out->to_iter = INT_MAX;
    snprintf(rest, sizeof rest, "%s", *end ? end + 1 : "");
    return *end ? parse_range(rest, out, err) : 0;
}

/* ---- one iteration's slowdowns ---- */

typedef struct config {
    double *gpu;           /* per GPU */
    double *node;          /* per node: its NIC links */
} config;

int straggler_check(const estimate_input *in, const straggler *s, cs_err *err)
{
    int limit = s->kind == STRAGGLER_GPU ? in->gpus : topo_node_count(in->topology);
    const char *what = s->kind == STRAGGLER_GPU ? "GPU" : "node";
    if (s->target < 0 || s->target >= limit)
        return cs_fail(err, "%s %d does not exist; the job has %d (0 to %d)", what, s->target,
                       limit, limit - 1);
    if (!(s->factor >= 1))
        return cs_fail(err, "factor %g is below 1 (2: half speed)", s->factor);
    if (!(s->factor <= STRAGGLER_MAX_FACTOR))
        return cs_fail(err, "factor %g is above %g (a GPU that slow is dead, not a straggler)",
                       s->factor, STRAGGLER_MAX_FACTOR);
    if (s->from_iter < 0)
        return cs_fail(err, "from %d is below 0 (iterations count from 0)", s->from_iter);
    if (s->from_iter > s->to_iter)
        return cs_fail(err, "from %d is after to %d (the first and last iteration it lasts)",
                       s->from_iter, s->to_iter);
    return 0;
}

long straggler_max_simulations(const straggler_plan *p)
{
    /* given stragglers change the configuration only where a range starts
     * or ends: at most 2n + 1 stretches; the same as the one before reuses it */
    long stretches = 2L * p->n + 1;
    long changes = p->random_prob > 0 || stretches > p->iterations ? p->iterations : stretches;
    return changes + 1; /* the baseline */
}

/* Every-rank iterations cost in proportion to the GPUs: bound their product. */
static int check_work(const estimate_input *in, const straggler_plan *p, cs_err *err)
{
    if (in->gpus > TRAINSIM_MAX_ALL_RANKS) /* first: what fits below assumes a job that runs */
        return cs_fail(err, "every rank of %d GPUs to simulate; the limit is %ld: fewer GPUs",
                       in->gpus, (long)TRAINSIM_MAX_ALL_RANKS);
    long sims = straggler_max_simulations(p);
    double work = (double)sims * in->gpus;
    if (work <= STRAGGLER_MAX_GPU_ITERATIONS)
        return 0;
    /* iterations besides the baseline; each given range makes up to two of them */
    long fit = STRAGGLER_MAX_GPU_ITERATIONS / in->gpus - 1;
    if (p->random_prob > 0)
        return cs_fail(err, "up to %ld distinct iterations (the baseline included) on %d GPUs "
                            "are %.0f GPU-iterations to simulate; the limit is %ld: at most %ld "
                            "iterations on this job, or fewer GPUs", sims, in->gpus, work,
                       (long)STRAGGLER_MAX_GPU_ITERATIONS, fit);
    return cs_fail(err, "up to %ld distinct iterations (the baseline included) on %d GPUs are "
                        "%.0f GPU-iterations to simulate; the limit is %ld: at most %ld "
                        "iterations or %ld straggler ranges on this job, or fewer GPUs", sims,
                   in->gpus, work, (long)STRAGGLER_MAX_GPU_ITERATIONS, fit, (fit - 1) / 2);
}

static int check_plan(const estimate_input *in, const straggler_plan *p, cs_err *err)
{
    if (p->iterations < 1)
        return cs_fail(err, "stragglers: at least one iteration");
    if (!(p->random_prob >= 0 && p->random_prob <= 1) ||
        (p->random_prob > 0 &&
         !(p->random_factor >= 1 && p->random_factor <= STRAGGLER_MAX_FACTOR)))
        return cs_fail(err, "stragglers: the probability must be in [0, 1] and the factor from 1 "
                            "to %g", STRAGGLER_MAX_FACTOR);
    for (int i = 0; i < p->n; i++) {
        cs_err one;
        if (straggler_check(in, &p->list[i], &one) != 0)
            return cs_fail(err, "stragglers: %s", one.msg);
    }
    return check_work(in, p, err);
}

static void fill_config(const estimate_input *in, const straggler_plan *p, int iter, gsl_rng *rng,
                        config *c, straggler_iter *it)
{
    int nodes = topo_node_count(in->topology);
    for (int g = 0; g < in->gpus; g++)
        c->gpu[g] = 1;
    for (int n = 0; n < nodes; n++)
        c->node[n] = 1;
    for (int i = 0; i < p->n; i++) {
        const straggler *s = &p->list[i];
        if (iter < s->from_iter || iter > s->to_iter)
            continue;
        double *slot = s->kind == STRAGGLER_GPU ? &c->gpu[s->target] : &c->node[s->target];
        *slot *= s->factor;
    }
    for (int g = 0; p->random_prob > 0 && g < in->gpus; g++)
        if (gsl_rng_uniform(rng) < p->random_prob)
            c->gpu[g] *= p->random_factor;
    it->gpus_slowed = it->links_slowed = 0;
    for (int g = 0; g < in->gpus; g++)
        it->gpus_slowed += c->gpu[g] != 1;
    for (int n = 0; n < nodes; n++)
        it->links_slowed += c->node[n] != 1;
}

static int same_config(const estimate_input *in, const config *a, const config *b)
{
    int nodes = topo_node_count(in->topology);
    return memcmp(a->gpu, b->gpu, sizeof *a->gpu * (size_t)in->gpus) == 0 &&
           memcmp(a->node, b->node, sizeof *a->node * (size_t)nodes) == 0;
}

/* ---- running ---- */

/* Divides the bandwidth of every link at a slowed node's NICs; saved holds
 * every link's bandwidth to restore. */
static void slow_links(topo *t, const config *c, const double *saved)
{
    for (int n = 0; n < topo_node_count(t); n++) {
        if (c->node[n] == 1)
            continue;
        for (int k = 0; k < topo_node_type(t, n)->nics; k++) {
            int v = topo_nic_vertex(t, n, k);
            for (int l = 0; l < topo_link_count(t); l++) {
                const topo_link *lk = topo_link_at(t, l);
                if (lk->src == v || lk->dst == v)
                    topo_set_link_bw(t, l, saved[l] / c->node[n]);
            }
        }
    }
}

static void restore_links(topo *t, const double *saved)
{
    for (int l = 0; l < topo_link_count(t); l++)
        topo_set_link_bw(t, l, saved[l]);
}

/* The iteration's time and the GPU the others waited for: the one whose
 * compute grew most over its own without stragglers (base_busy; NULL for
 * that run itself). */
static int run_one(const estimate_input *in, const config *c, const double *saved, double *busy,
                   const double *base_busy, straggler_iter *it, cs_err *err)
{
    slow_links(in->topology, c, saved);
    trainsim_slow slow = {c->gpu, busy};
    estimate_result r;
    int rc = trainsim_run_slow(in, &slow, &r, err);
    restore_links(in->topology, saved);
    if (rc == 0) {
        it->iteration_s = r.iteration_s;
        int top = 0;
        for (int g = 1; base_busy && g < in->gpus; g++)
            if (busy[g] - base_busy[g] > busy[top] - base_busy[top])
                top = g;
        it->busiest_s = busy[top];
        it->base_busy_s = base_busy ? base_busy[top] : busy[top];
        /* stands out: slower than itself without stragglers by more than rounding */
        it->held_up_by = it->busiest_s > it->base_busy_s * (1 + 1e-9) ? top : -1;
    }
    estimate_result_free(&r);
    return rc;
}

int straggler_run(const estimate_input *in, const straggler_plan *p, straggler_result *out,
                  cs_err *err)
{
    memset(out, 0, sizeof *out);
    if (check_plan(in, p, err) != 0)
        return -1;
    int nodes = topo_node_count(in->topology), nlinks = topo_link_count(in->topology);
    /* one block: saved link bandwidths, busy times, and two configs */
    size_t g = (size_t)in->gpus, nn = (size_t)nodes;
    double *saved = cs_xrealloc(NULL, sizeof *saved * ((size_t)nlinks + 4 * g + 2 * nn));
    double *busy = saved + nlinks, *base_busy = busy + g;
    config cur = {busy + 2 * g, busy + 3 * g}, prev = {busy + 3 * g + nn, busy + 4 * g + nn};
    for (int l = 0; l < nlinks; l++)
        saved[l] = topo_link_at(in->topology, l)->bw_bytes_per_s;
    out->iters = cs_xrealloc(NULL, sizeof *out->iters * (size_t)p->iterations);
    out->n = p->iterations;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)p->seed);
    straggler_iter base;
    straggler_plan none = {1, NULL, 0, 0, 1, 0, NULL, NULL};
    fill_config(in, &none, 0, rng, &prev, &base);
    int rc = run_one(in, &prev, saved, base_busy, NULL, &base, err);
    out->baseline_s = base.iteration_s;
    out->simulations = 1;
    straggler_iter last = base;
    for (int i = 0; rc == 0 && i < p->iterations; i++) {
        straggler_iter *it = &out->iters[i];
        fill_config(in, p, i, rng, &cur, it);
        if (!same_config(in, &cur, &prev)) {
            rc = run_one(in, &cur, saved, busy, base_busy, &last, err);
            out->simulations++;
            config swap = prev;
            prev = cur, cur = swap;
        }
        int gs = it->gpus_slowed, ls = it->links_slowed;
        *it = last;
        it->gpus_slowed = gs, it->links_slowed = ls;
        if (p->progress)
            p->progress(p->progress_ctx, i + 1, p->iterations);
    }
    gsl_rng_free(rng);
    free(saved);
    if (rc != 0)
        straggler_result_free(out);
    return rc;
}

void straggler_result_free(straggler_result *r)
{
    free(r->iters);
    r->iters = NULL;
    r->n = 0;
}

/* ---- summary ---- */

static int by_gpu(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Most often first; a tie goes to the lower rank, as a reader scans. */
static int by_count(const void *a, const void *b)
{
    const straggler_culprit *x = a, *y = b;
    if (x->iterations != y->iterations)
        return x->iterations < y->iterations ? 1 : -1;
    return (x->gpu > y->gpu) - (x->gpu < y->gpu);
}

/* Counts culprits from the sorted held_up_by of every iteration: no array
 * over all the job's GPUs, which may be thousands for a few culprits. */
static void count_culprits(const straggler_result *r, straggler_summary *out)
{
    int *held = cs_xrealloc(NULL, sizeof *held * (size_t)r->n);
    for (int i = 0; i < r->n; i++)
        held[i] = r->iters[i].held_up_by;
    qsort(held, (size_t)r->n, sizeof *held, by_gpu);
    out->culprits = cs_xrealloc(NULL, sizeof *out->culprits * (size_t)r->n);
    for (int i = 0; i < r->n; i++) {
        if (held[i] < 0)
            out->none++;
        else if (out->nculprits > 0 && out->culprits[out->nculprits - 1].gpu == held[i])
            out->culprits[out->nculprits - 1].iterations++;
        else
            out->culprits[out->nculprits++] = (straggler_culprit){held[i], 1};
    }
    qsort(out->culprits, (size_t)out->nculprits, sizeof *out->culprits, by_count);
    free(held);
}

void straggler_summarize(const straggler_result *r, straggler_summary *out)
{
    memset(out, 0, sizeof *out);
    size_t n = (size_t)r->n;
    double *t = cs_xrealloc(NULL, sizeof *t * n);
    for (size_t i = 0; i < n; i++)
        t[i] = r->iters[i].iteration_s;
    gsl_sort(t, 1, n);
    out->min_s = t[0], out->max_s = t[n - 1];
    out->median_s = gsl_stats_median_from_sorted_data(t, 1, n);
    out->p90_s = gsl_stats_quantile_from_sorted_data(t, 1, n, 0.9);
    out->mean_s = gsl_stats_mean(t, 1, n);
    free(t);
    count_culprits(r, out);
}

void straggler_summary_free(straggler_summary *s)
{
    free(s->culprits);
    s->culprits = NULL;
    s->nculprits = 0;
}

straggler_place straggler_place_of(const layout_desc *l, int gpu)
{
    int dpc = layout_dp_cp(l), cp = layout_cp_of(l); /* tp-cp-dp-pp */
    return (straggler_place){gpu / (l->tp * dpc), gpu % l->tp, gpu / (l->tp * cp) % l->dp};
}
