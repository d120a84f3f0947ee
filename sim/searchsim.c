/* searchsim: the top layouts simulated and re-ranked (see searchsim.h). */
#include "searchsim.h"

#include <math.h>
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

static int simulate_one(const search_input *in, const search_candidate *c, searchsim_row *row,
                        cs_err *err)
{
    estimate_input ei = {in->model, &c->layout, in->topology, in->gpus, in->eff};
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

int searchsim_top(const search_input *in, const search_result *r, search_objective obj, int k,
                  searchsim_row *rows, int *nrows, cs_err *err)
{
    int *order = cs_xrealloc(NULL, sizeof *order * (size_t)(k > 0 ? k : 1));
    int n = search_rank(r, obj, order, k);
    *nrows = 0;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (in->stop && *in->stop)
            break;
        searchsim_row *row = &rows[*nrows];
        memset(row, 0, sizeof *row);
        row->index = order[i];
        rc = simulate_one(in, &r->cands[order[i]], row, err);
        if (rc == 0)
            (*nrows)++;
        else
            estimate_result_free(&row->sim);
    }
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
