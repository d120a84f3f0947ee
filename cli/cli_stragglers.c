/* cli_stragglers: `clustersim stragglers`: iterations of one layout with
 * slow GPUs or links, every rank simulated (sim/stragglers): the
 * distribution of iteration times and who held the others up. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_layoutopt.h"
#include "stragglers.h"
#include "table.h"

#define CMD "stragglers"
#define MAX_SLOW 64

static void stragglers_help(void)
{
    printf(
        "usage: clustersim stragglers --system NAME --gpus N (--model NAME | shape flags)\n"
        "         --tp T --pp P ... --mbs M --gbs G\n"
        "         [--slow gpu:RANK:FACTOR[:FROM-TO]] [--slow link:NODE:FACTOR[:FROM-TO]]\n"
        "         [--slow-prob P --slow-factor F] [--iterations N] [--seed S]\n"
        "         [--format table|csv]\n\n"
        "Runs N training iterations (default 20) of the layout with every rank simulated,\n"
        "some of them slowed: a GPU whose compute takes FACTOR times longer, or a node whose\n"
        "NIC links carry FACTOR times less, during iterations FROM to TO (0-based; default\n"
        "all); or, each iteration, every GPU slowed by --slow-factor with probability\n"
        "--slow-prob.  The step is synchronous, so everyone waits for the slowest.  Prints\n"
        "the iteration times (min, median, p90, max, mean) against the iteration without a\n"
        "straggler, and per iteration the rank that held the others up: the GPU whose\n"
        "compute grew most over its own without stragglers (none when none grew, as with\n"
        "slow links).\n\n"
        "  --slow SPEC          a straggler; repeat for more (at most %d)\n"
        "  --slow-prob P        random stragglers: probability per GPU per iteration\n"
        "  --slow-factor F      their factor (default 1.5)\n"
        "  --iterations N       iterations to run (default 20); distinct iterations x GPUs\n"
        "                       at most 1,048,576 (a progress bar shows on a terminal)\n"
        "  --seed S             for the random stragglers (default 1)\n"
        "  --format F           table (default) or csv (one row per iteration)\n"
        "Job flags:\n", MAX_SLOW);
    cli_layoutopt_help();
}

typedef struct strag_opts {
    straggler slow[MAX_SLOW];
    int nslow;
    long iterations, seed;
    double prob, factor;
    cli_format fmt;
    layout_flags lf;
} strag_opts;

enum { O_SLOW = 1, O_PROB, O_FACTOR, O_ITERS, O_SEED, O_FORMAT };

static int parse_slow(const char *arg, strag_opts *o)
{
    cs_err err;
    if (o->nslow == MAX_SLOW)
        return cli_bad_input(CMD, "--slow: at most %d stragglers", MAX_SLOW);
    if (straggler_parse(arg, &o->slow[o->nslow], &err) != 0)
        return cli_bad_input(CMD, "--slow: %s", err.msg);
    o->nslow++;
    return CLI_OK;
}

static int parse_one(int c, const char *arg, void *ctx)
{
    strag_opts *o = ctx;
    switch (c) {
    case O_SLOW: return parse_slow(arg, o);
    case O_PROB: return cli_parse_positive(CMD, "--slow-prob", arg, &o->prob);
    case O_FACTOR: return cli_parse_positive(CMD, "--slow-factor", arg, &o->factor);
    case O_ITERS: return cli_parse_int(CMD, "--iterations", arg, 1, 100000, &o->iterations);
    case O_SEED: return cli_parse_int(CMD, "--seed", arg, 0, 0x7fffffff, &o->seed);
    case O_FORMAT: return cli_parse_format(CMD, arg, &o->fmt);
    default: {
        int rc = cli_layoutopt_parse(CMD, c, arg, &o->lf);
        return rc < 0 ? cli_bad_option(CMD, 0, NULL) : rc;
    }
    }
}

static int parse_opts(int argc, char **argv, strag_opts *o)
{
    static const struct option own[] = {
        {"slow", required_argument, 0, O_SLOW}, {"slow-prob", required_argument, 0, O_PROB},
        {"slow-factor", required_argument, 0, O_FACTOR},
        {"iterations", required_argument, 0, O_ITERS}, {"seed", required_argument, 0, O_SEED},
        {"format", required_argument, 0, O_FORMAT}};
    enum { NOWN = sizeof own / sizeof own[0] };
    struct option opts[CLI_LAYOUTOPT_TABLE(NOWN)];
    cli_layoutopt_table(opts, own, NOWN);
    memset(o, 0, sizeof *o);
    cli_layoutopt_init(&o->lf);
    o->iterations = 20, o->seed = 1, o->factor = 1.5;
    int rc;
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, NULL, parse_one, o)))
        return rc;
    if (o->prob > 1)
        return cli_bad_input(CMD, "--slow-prob: %g is not a probability (0 to 1)", o->prob);
    if (o->factor < 1)
        return cli_bad_input(CMD, "--slow-factor: %g is below 1 (2 means half speed)", o->factor);
    return cli_layoutopt_check(CMD, &o->lf);
}

/* ---- output ---- */

static void describe_gpu(const layout_desc *l, int gpu, char *buf, size_t size)
{
    if (gpu < 0) {
        snprintf(buf, size, "none");
        return;
    }
    straggler_place at = straggler_place_of(l, gpu);
    snprintf(buf, size, "GPU %d (stage %d, tp %d, dp %d)", gpu, at.stage, at.tp, at.dp);
}

/* The ranks that held the others up most often (at most five), then the rest. */
static void print_held_up(const straggler_summary *s, const layout_desc *l)
{
    enum { SHOWN = 5 };
    printf("held up by     ");
    int rest_iters = 0;
    for (int i = 0; i < s->nculprits; i++) {
        char desc[96];
        describe_gpu(l, s->culprits[i].gpu, desc, sizeof desc);
        if (i < SHOWN)
            printf(" %s: %d;", desc, s->culprits[i].iterations);
        else
            rest_iters += s->culprits[i].iterations;
    }
    if (s->nculprits > SHOWN)
        printf(" %d more ranks: %d;", s->nculprits - SHOWN, rest_iters);
    printf(" none: %d (iterations)", s->none);
}

static void print_summary(const straggler_result *r, const layout_desc *l)
{
    straggler_summary s;
    straggler_summarize(r, &s);
    printf("baseline        %.4f s (no straggler)\n", r->baseline_s);
    printf("iteration time  min %.4f  median %.4f  p90 %.4f  max %.4f  mean %.4f s over %d "
           "iterations (mean %+.1f%%)\n", s.min_s, s.median_s, s.p90_s, s.max_s, s.mean_s, r->n,
           100 * (s.mean_s / r->baseline_s - 1));
    print_held_up(&s, l);
    printf("\nsimulations     %d distinct iterations simulated\n", r->simulations);
    straggler_summary_free(&s);
}

static void print_iterations(const straggler_result *r, const layout_desc *l)
{
    static const char *const names[] = {"iteration", "time", "vs baseline", "GPUs slowed",
                                        "links slowed", "held up by", "its compute", "unslowed"};
    static const char *const units[] = {NULL, "s", "%", NULL, "nodes", NULL, "s", "s"};
    table *t = table_new(8, names, units);
    for (int i = 0; i < r->n; i++) {
        const straggler_iter *it = &r->iters[i];
        char c[8][96];
        snprintf(c[0], 96, "%d", i);
        snprintf(c[1], 96, "%.4f", it->iteration_s);
        snprintf(c[2], 96, "%+.1f", 100 * (it->iteration_s / r->baseline_s - 1));
        snprintf(c[3], 96, "%d", it->gpus_slowed);
        snprintf(c[4], 96, "%d", it->links_slowed);
        describe_gpu(l, it->held_up_by, c[5], 96);
        snprintf(c[6], 96, "%.4f", it->busiest_s);
        snprintf(c[7], 96, "%.4f", it->base_busy_s);
        const char *row[8] = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]};
        table_add_row(t, row);
    }
    table_print(t, stdout, 0);
    table_free(t);
}

static void print_csv(const straggler_result *r)
{
    printf("iteration,time_s,vs_baseline_percent,gpus_slowed,links_slowed,held_up_by,"
           "its_compute_s,its_unslowed_compute_s\n");
    for (int i = 0; i < r->n; i++) {
        const straggler_iter *it = &r->iters[i];
        printf("%d,%.6f,%.3f,%d,%d,%d,%.6f,%.6f\n", i, it->iteration_s,
               100 * (it->iteration_s / r->baseline_s - 1), it->gpus_slowed, it->links_slowed,
               it->held_up_by, it->busiest_s, it->base_busy_s);
    }
}

/* The bar on a terminal: every-rank iterations of a large job take seconds each. */
static void show_progress(void *ctx, int done, int total)
{
    cli_progress(CMD, "iterations", done, total, *(const double *)ctx);
}

int cmd_stragglers(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        stragglers_help();
        return CLI_OK;
    }
    strag_opts o;
    int rc;
    if ((rc = parse_opts(argc, argv, &o)))
        return rc;
    cli_job job;
    if ((rc = cli_layoutopt_build(CMD, &o.lf, &job))) {
        cli_job_free(&job);
        return rc;
    }
    double started_s = cli_wall_s();
    straggler_plan plan = {(int)o.iterations, o.slow, o.nslow, o.prob, o.factor, (uint64_t)o.seed,
                           show_progress, &started_s};
    straggler_result r;
    cs_err err;
    int run_rc = straggler_run(&job.in, &plan, &r, &err);
    cli_progress(CMD, "iterations", plan.iterations, plan.iterations, started_s); /* clears it */
    if (run_rc != 0) {
        rc = cli_bad_err(CMD, &err);
    } else if (o.fmt == CLI_CSV) {
        print_csv(&r);
    } else {
        char desc[160];
        printf("# %s on %ld GPUs of %s: %s; every rank simulated\n", job.model.name, job.gpus,
               o.lf.system, layout_describe(&job.layout, desc, sizeof desc));
        print_summary(&r, &job.layout);
        print_iterations(&r, &job.layout);
    }
    straggler_result_free(&r);
    cli_job_free(&job);
    return rc;
}
