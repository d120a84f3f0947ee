/* search_report: summary, ranked table, files (see search_report.h). */
#include "search_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_alloc.h"
#include "memory.h"
#include "parmap.h"
#include "report.h"
#include "searchsim.h"
#include "svg_chart.h"
#include "table.h"
#include "units.h"

#define GIB (1024.0 * 1024 * 1024)

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static double usable_bytes(const search_input *in)
{
    return memory_usable_bytes(estimate_device(in->topology));
}

static void summary(FILE *f, const search_input *in, const search_result *r)
{
    const model_desc *m = in->model;
    fprintf(f, "# %s (sequence %d) on %d GPUs of %s, global batch %d\n", m->name, m->seq_len,
            in->gpus, topo_node_type(in->topology, 0)->name, in->gbs);
    fprintf(f, "# space: %ld layouts; removed by rule:\n", r->space);
    for (int i = 0; i < SEARCH_NRULES; i++)
        if (r->removed[i])
            fprintf(f, "#   %-62s %ld\n", search_rule_name(i), r->removed[i]);
    fprintf(f, "# valid: %ld; removed by memory (peak above %.1f GiB): %ld; fit: %ld\n", r->valid,
            usable_bytes(in) / GIB, r->evaluated - r->fitting, r->fitting);
    int ranks = parmap_size(), threads = ranks > 1 ? ranks : in->threads > 0 ? in->threads : 1;
    const char *unit = ranks > 1 ? "MPI rank" : "thread"; /* under mpirun the ranks share it */
    double rate = r->eval_s > 0 ? (double)r->evaluated / r->eval_s : 0;
    fprintf(f, "# closed form: %ld layouts in %.3f s on %d %s%s: %.0f layouts/s, %.0f per "
               "%s (plans of %d tp x pp x dp mappings built first, %.3f s; whole pass "
               "%.3f s)\n", r->evaluated, r->eval_s, threads, unit, threads > 1 ? "s" : "", rate,
            rate / threads, unit, r->groups, r->groups_s, r->wall_s);
    if (r->interrupted)
        fprintf(f, "# interrupted: ranking the %ld layouts evaluated so far\n", r->evaluated);
}

void search_report_nothing(FILE *f, const search_input *in, const search_result *r)
{
    fprintf(f, "clustersim search: ");
    if (r->valid == 0) {
        fprintf(f, "no layout of the %ld enumerated passes the rules:\n", r->space);
        for (int i = 0; i < SEARCH_NRULES; i++)
            if (r->removed[i])
                fprintf(f, "  %s: %ld removed\n", search_rule_name(i), r->removed[i]);
        fprintf(f, "loosen --fix, or change --gbs or the GPU count\n");
        return;
    }
    int c = search_closest_miss(r);
    const search_candidate *best = &r->cands[c];
    char desc[160];
    double usable = usable_bytes(in);
    fprintf(f, "no layout fits memory: %ld layouts pass the rules, none fits the %.2f GiB a GPU "
               "leaves; the closest, %s, needs %.2f GiB on stage %d, %.2f GiB too much; more "
               "GPUs, a smaller --gbs or a larger --max-tp would help\n", r->valid, usable / GIB,
            layout_describe(&best->layout, desc, sizeof desc), best->peak_mem_bytes / GIB,
            best->peak_stage, (best->peak_mem_bytes - usable) / GIB);
}

/* ---- the ranked table ---- */

enum { NCOLS = 9, NCOLS_FAULTS = 12 }; /* the goodput objective adds three before the note */

static void row_cells(const search_result *r, const searchsim_row *row, int rank, char cells[][96])
{
    const search_candidate *c = &r->cands[row->index];
    snprintf(cells[0], 96, "%d", rank);
    layout_describe(&c->layout, cells[1], 96);
    snprintf(cells[2], 96, "%.3f", row->sim.iteration_s);
    snprintf(cells[3], 96, "%.3f", row->analytic_s);
    snprintf(cells[4], 96, "%+.1f", row->diff_percent);
    snprintf(cells[5], 96, "%.0f", row->sim.tokens_per_s);
    snprintf(cells[6], 96, "%.3f", row->sim.mfu);
    snprintf(cells[7], 96, "%.1f", row->sim.peak_mem_bytes / GIB);
    snprintf(cells[8], 96, "%.3g", c->ckpt_s);
    snprintf(cells[9], 96, "%.4f", c->goodput);
    snprintf(cells[10], 96, "%.4g", row->tokens_per_day);
    snprintf(cells[NCOLS_FAULTS - 1], 96, "%s", row->note);
}

static void print_table(const search_result *r, const searchsim_row *rows, int n, int faults)
{
    static const char *const names[NCOLS_FAULTS] = {
        "rank", "layout", "iteration", "closed form", "diff", "throughput", "MFU",
        "peak memory", "checkpoint", "goodput", "tokens/day", "note"};
    static const char *const units[NCOLS_FAULTS] = {NULL, NULL, "s, sim", "s", "%", "tokens/s",
                                                    "fraction", "GiB", "s, stall", "Daly",
                                                    "sim", NULL};
    int ncols = faults ? NCOLS_FAULTS : NCOLS;
    const char *col_names[NCOLS_FAULTS], *col_units[NCOLS_FAULTS];
    for (int k = 0; k < ncols; k++) { /* without faults, the note follows the memory */
        int from = !faults && k == NCOLS - 1 ? NCOLS_FAULTS - 1 : k;
        col_names[k] = names[from], col_units[k] = units[from];
    }
    table *t = table_new(ncols, col_names, col_units);
    for (int i = 0; i < n; i++) {
        char cells[NCOLS_FAULTS][96];
        const char *ptrs[NCOLS_FAULTS];
        row_cells(r, &rows[i], i + 1, cells);
        for (int k = 0; k < ncols; k++)
            ptrs[k] = cells[!faults && k == NCOLS - 1 ? NCOLS_FAULTS - 1 : k];
        table_add_row(t, ptrs);
    }
    table_print(t, stdout, 0);
    table_free(t);
}

static void print_csv(const search_result *r, const searchsim_row *rows, int n)
{
    printf("rank,layout,tp,pp,dp,vpp,mbs,sp,recompute,zero,schedule,sim_iteration_s,"
           "analytic_iteration_s,diff_percent,tokens_per_s,mfu,peak_mem_gib,note,checkpoint_s,"
           "goodput,tokens_per_day\n");
    for (int i = 0; i < n; i++) {
        const searchsim_row *row = &rows[i];
        const layout_desc *l = &r->cands[row->index].layout;
        char desc[160];
        printf("%d,", i + 1);
        report_csv_field(stdout, layout_describe(l, desc, sizeof desc));
        printf(",%d,%d,%d,%d,%d,%d,%s,%d,%s,%.6f,%.6f,%.3f,%.1f,%.4f,%.3f,", l->tp, l->pp, l->dp,
               l->vpp, l->mbs, l->sp, layout_recompute_name(l->recompute), l->zero,
               layout_schedule_name(l->schedule), row->sim.iteration_s, row->analytic_s,
               row->diff_percent, row->sim.tokens_per_s, row->sim.mfu,
               row->sim.peak_mem_bytes / GIB);
        report_csv_field(stdout, row->note);
        const search_candidate *c = &r->cands[row->index];
        if (c->goodput > 0)
            printf(",%.6g,%.6f,%.6g\n", c->ckpt_s, c->goodput, row->tokens_per_day);
        else
            printf(",,,\n");
    }
}

/* ---- the files ---- */

static void write_all_csv(FILE *f, const search_result *r, const int *front,
                          const searchsim_row *rows, int n)
{
    fputs("layout,tp,pp,dp,vpp,mbs,sp,recompute,zero,schedule,iteration_s,tokens_per_s,mfu,"
          "peak_mem_gib,fits,pareto,sim_iteration_s,sim_rank\n", f);
    for (int i = 0; i < r->ncands; i++) {
        const search_candidate *c = &r->cands[i];
        if (!c->evaluated)
            continue;
        const layout_desc *l = &c->layout;
        char desc[160];
        report_csv_field(f, layout_describe(l, desc, sizeof desc));
        fprintf(f, ",%d,%d,%d,%d,%d,%d,%s,%d,%s,%.6f,%.1f,%.4f,%.3f,%s,%s,", l->tp, l->pp, l->dp,
                l->vpp, l->mbs, l->sp, layout_recompute_name(l->recompute), l->zero,
                layout_schedule_name(l->schedule), c->iteration_s, c->tokens_per_s, c->mfu,
                c->peak_mem_bytes / GIB, c->fits ? "true" : "false", front[i] ? "true" : "false");
        int k = 0;
        while (k < n && rows[k].index != i)
            k++;
        if (k < n)
            fprintf(f, "%.6f,%d\n", rows[k].sim.iteration_s, k + 1);
        else
            fputs(",\n", f);
    }
}

static int write_svg(FILE *f, const search_input *in, const search_result *r, const int *front,
                     cs_err *err)
{
    size_t n = (size_t)r->ncands + 1;
    double *x = cs_xrealloc(NULL, sizeof *x * n * 4), *y = x + n, *fx = x + 2 * n, *fy = x + 3 * n;
    int na = 0, nf = 0;
    for (int i = 0; i < r->ncands; i++) {
        const search_candidate *c = &r->cands[i];
        if (!c->evaluated || !c->fits)
            continue;
        x[na] = c->peak_mem_bytes / GIB, y[na++] = c->iteration_s;
        if (front[i])
            fx[nf] = c->peak_mem_bytes / GIB, fy[nf++] = c->iteration_s;
    }
    char title[200];
    snprintf(title, sizeof title, "%s on %d GPUs, global batch %d: %d layouts that fit",
             in->model->name, in->gpus, in->gbs, na);
    svg_chart ch;
    svg_chart_init(&ch, title, "peak memory per GPU (GiB)", "iteration time (s, closed form)");
    ch.mode = SVG_CHART_POINTS;
    int rc = svg_chart_add(&ch, "layout", x, y, na, err);
    if (rc == 0)
        rc = svg_chart_add(&ch, "Pareto front", fx, fy, nf, err);
    if (rc == 0)
        rc = svg_chart_write(f, &ch, err);
    free(x);
    return rc;
}

static int write_files(const search_input *in, const search_result *r, const searchsim_row *rows,
                       int n, const char *csv_path, const char *svg_path, cs_err *err)
{
    int *front = cs_xrealloc(NULL, sizeof *front * (size_t)(r->ncands + 1));
    search_pareto(r, front);
    int rc = 0;
    const char *paths[2] = {csv_path, svg_path};
    report_set *sets[2] = {NULL, NULL};
    for (int k = 0; k < 2 && rc == 0; k++) {
        if (!paths[k])
            continue;
        const char *name;
        sets[k] = report_for_path(paths[k], &name);
        FILE *f = report_begin(sets[k], name, err);
        if (!f)
            rc = -1;
        else if (k == 0)
            write_all_csv(f, r, front, rows, n);
        else
            rc = write_svg(f, in, r, front, err);
    }
    for (int k = 0; k < 2 && rc == 0; k++)
        if (sets[k])
            rc = report_commit(sets[k], err);
    for (int k = 0; k < 2; k++) {
        if (sets[k] && rc != 0)
            report_abort(sets[k]);
        report_free(sets[k]);
    }
    free(front);
    return rc;
}

int search_report_all(const search_input *in, const search_result *r, search_objective obj,
                      int top, int csv_stdout, const char *csv_path, const char *svg_path,
                      cs_err *err)
{
    FILE *info = csv_stdout ? stderr : stdout;
    summary(info, in, r);
    searchsim_row *rows = cs_xrealloc(NULL, sizeof *rows * (size_t)(top > 0 ? top : 1));
    int n = 0;
    double t0 = now_s();
    int rc = searchsim_top(in, r, obj, top, rows, &n, err);
    if (rc == 0) {
        int stopped = in->stop && *in->stop;
        fprintf(info, "# %ssimulated the best %d in %.2f s; ranked by %s\n",
                stopped ? "interrupted: " : "", n, now_s() - t0,
                obj == SEARCH_MEMORY    ? "peak memory, then simulated time"
                : obj == SEARCH_GOODPUT ? "simulated tokens per day under failures"
                                        : "simulated time");
        if (in->faults) {
            char every[32];
            units_format_duration(in->faults->mtbf_s, every, (int)sizeof every);
            fprintf(info, "# faults: the job fails every %s; %s checkpoints; %.0f s to detect "
                          "and restart, then the reload\n", every,
                    in->faults->async ? "async" : "sync", in->faults->down_s);
        }
        if (csv_stdout)
            print_csv(r, rows, n);
        else
            print_table(r, rows, n, in->faults != NULL);
        rc = write_files(in, r, rows, n, csv_path, svg_path, err);
    }
    searchsim_rows_free(rows, n);
    free(rows);
    return rc;
}
