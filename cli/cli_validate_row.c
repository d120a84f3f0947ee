/* cli_validate_row: what every study of `clustersim validate` does with a
 * data row: its fields as numbers, and one layout simulated (or estimated)
 * into the run's next compared row with the busiest stage's terms. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_validate_private.h"
#include "tiers_spec.h"
#include "trainsim.h"

/* Simulates (or estimates) one layout on `nodes` nodes of system `sys_name`. */
static int run_layout(const val_opts *o, const char *sys_name, int nodes, const model_desc *m,
                      const layout_desc *l, estimate_result *r, double *wall_s, cs_err *err)
{
    sys_system sys;
    topo *t = NULL;
    if (sys_from_spec(sys_name, nodes, &sys, err) != 0 || topo_build(&sys, &t, err) != 0)
        return -1;
    opcost_eff eff;
    opcost_eff_default(&eff);
    estimate_input in = {m, l, t, (int)layout_gpus(l), &eff};
    trainsim_stats stats = {0};
    double t0 = cli_wall_s();
    int rc = o->analytic ? estimate_analytic(&in, r, err)
                         : trainsim_run(&in, TRAINSIM_FOLDED, r, &stats, err);
    *wall_s = cli_wall_s() - t0;
    topo_free(t);
    return rc;
}

/* The busiest stage's breakdown (its idle time is the bubble), so that the
 * terms of a row add up to its iteration. */
static void keep_terms(const estimate_result *res, val_row *r)
{
    double most = -1;
    for (int s = 0; s < res->pp; s++) {
        const estimate_stage *e = &res->stages[s];
        double busy = e->compute_s + e->recompute_s + e->tp_comm_s + e->p2p_s + e->dp_exposed_s +
                      e->optimizer_s + e->offload_s + e->cp_exposed_s + e->ep_comm_s;
        if (busy > most) {
            most = busy;
            r->stage = s;
            r->terms = *e;
        }
    }
    r->terms.bubble_s = fmax(0, res->iteration_s - most);
}

int val_field_num(char **f, int i, int line, double *out, cs_err *err)
{
    char *end;
    *out = strtod(f[i], &end);
    if (end == f[i] || *end)
        return cs_fail(err, "line %d, column %d: '%s' is not a number", line, i + 1, f[i]);
    return 0;
}

int val_int_at(char **f, int i, int line, int lo, int hi, double *out, cs_err *err)
{
    if (val_field_num(f, i, line, out, err) != 0)
        return -1;
    if (!(*out >= lo && *out <= hi) || *out != floor(*out))
        return cs_fail(err, "line %d, column %d: '%s' is not a whole number from %d to %d", line,
                       i + 1, f[i], lo, hi);
    return 0;
}

int val_count_at(char **f, int i, int line, double *out, cs_err *err)
{
    return val_int_at(f, i, line, 1, VAL_MAX_COUNT, out, err);
}

int val_gpus_split(int line, double gpus, double tp, double pp, cs_err *err)
{
    if (tp * pp > gpus || fmod(gpus, tp * pp) != 0)
        return cs_fail(err, "line %d: %g GPUs is not a multiple of tp %g x pp %g", line, gpus, tp,
                       pp);
    return 0;
}

int val_counts_at(char **f, const int *column, int n, int line, double *out, cs_err *err)
{
    for (int i = 0; i < n; i++)
        if (val_count_at(f, column[i], line, &out[i], err) != 0)
            return -1;
    return 0;
}

int val_fields_num(char **f, int n, int line, double *out, cs_err *err)
{
    for (int i = 0; i < n; i++)
        if (val_field_num(f, i, line, &out[i], err) != 0)
            return -1;
    return 0;
}

static val_row *next_row(val_run *run, int line, cs_err *err)
{
    if (run->n == (int)(sizeof run->rows / sizeof run->rows[0])) {
        cs_fail(err, "line %d: more than %d rows", line, run->n);
        return NULL;
    }
    return memset(&run->rows[run->n++], 0, sizeof(val_row));
}

int val_fields_at(char **f, const int *column, int n, int line, double *out, cs_err *err)
{
    for (int i = 0; i < n; i++)
        if (val_field_num(f, column[i], line, &out[i], err) != 0)
            return -1;
    return 0;
}

val_row *val_run_job(val_run *run, const val_job *job, estimate_result *res, cs_err *err)
{
    /* the error is relative to it: a positive, finite figure (0, inf, nan
     * printed an error of inf or nan and a nan mean) */
    if (!(job->row.published > 0 && job->row.published < INFINITY)) {
        cs_fail(err, "line %d (%s): published %g must be a positive number", job->line,
                job->name, job->row.published);
        return NULL;
    }
    val_row *r = next_row(run, job->line, err);
    double wall = 0;
    if (!r)
        return NULL; /* its message names the line */
    if (run_layout(run->o, job->system, job->nodes, job->m, job->l, res, &wall, err) != 0) {
        cs_fail_prefix(err, "line %d (%s): ", job->line, job->name);
        return NULL;
    }
    *r = job->row;
    r->microbatches = layout_microbatches(job->l); /* a valid layout's: no division by 0 */
    r->fits = res->fits;
    r->iteration_s = res->iteration_s;
    r->wall_s = wall;
    keep_terms(res, r);
    snprintf(r->label, sizeof r->label, "%s", job->name);
    return r;
}
