/* cli_bench_search: `clustersim bench search`: the layout search's speed on
 * the case, GPT-3 175B on 1024 A100 80GB (dgx-a100-80g), global
 * batch 1536, sequence 2048, the full space: the closed form on one thread
 * and on N, then the top-K simulation, and the whole command's wall time.
 * --gpus and --gbs pick another case of the same model and system (issue
 * 23's: 96 GPUs, global batch 1488).  Prints figures; never passes or
 * fails on time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "searchsim.h"

#define CMD "bench search"
enum { GPUS_PER_NODE = 8 }; /* dgx-a100-80g */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void help(void)
{
    printf("usage: clustersim bench search [--threads N] [--top K] [--gpus G] [--gbs B]\n\n"
           "GPT-3 175B on 1024 dgx-a100-80g GPUs, global batch 1536, sequence 2048, every\n"
           "layout: the closed-form pass on 1 thread and on N (default: every core), then\n"
           "the best K (default 20) simulated.  Prints layouts per second per thread and\n"
           "the wall time of the whole search (closed form on N threads + simulations).\n\n"
           "  --gpus G   GPUs, whole nodes of 8 (default 1024; 96 is issue 23's case)\n"
           "  --gbs B    global batch, sequences (default 1536; 1488 with --gpus 96)\n");
}

static int one_pass(search_input *in, int threads, search_result *r)
{
    cs_err err;
    in->threads = threads;
    if (search_run(in, r, &err) != 0)
        return cli_bad_err(CMD, &err);
    printf("closed form, %d thread%s: %ld layouts in %.4f s = %.0f layouts/s, %.0f per thread "
           "(plans %.3f s, whole pass %.3f s)\n", threads, threads > 1 ? "s" : "", r->evaluated,
           r->eval_s, r->evaluated / r->eval_s, r->evaluated / r->eval_s / threads, r->groups_s,
           r->wall_s);
    return CLI_OK;
}

static int run(search_input *in, int threads, int top)
{
    search_result r1, rn;
    int rc = one_pass(in, 1, &r1);
    if (rc == CLI_OK)
        rc = one_pass(in, threads, &rn);
    if (rc != CLI_OK)
        return rc;
    printf("space %ld, valid %ld, fit %ld; speed-up on %d threads: %.2fx\n", rn.space, rn.valid,
           rn.fitting, threads, r1.eval_s / rn.eval_s);
    searchsim_row *rows = calloc((size_t)top, sizeof *rows);
    int n = 0;
    cs_err err;
    double t0 = now_s();
    rc = searchsim_top(in, &rn, SEARCH_TIME, top, rows, &n, &err);
    double sim_s = now_s() - t0;
    if (rc == 0)
        printf("top %d simulated in %.3f s; search wall (closed form on %d threads + "
               "simulations): %.3f s; best %.3f s per iteration\n", n, sim_s, threads,
               rn.wall_s + sim_s, n ? rows[0].sim.iteration_s : 0.0);
    searchsim_rows_free(rows, n);
    free(rows);
    search_result_free(&r1);
    search_result_free(&rn);
    return rc == 0 ? CLI_OK : cli_bad_err(CMD, &err);
}

typedef struct bench_search_opts {
    long threads, top;
    long gpus, gbs; /* the case (issue 23) */
} bench_search_opts;

static int parse_one(int c, const char *arg, void *ctx)
{
    bench_search_opts *o = ctx;
    if (c == 't')
        return cli_parse_int(CMD, "--threads", arg, 1, 1024, &o->threads);
    if (c == 'g')
        return cli_parse_int(CMD, "--gpus", arg, GPUS_PER_NODE, 65536, &o->gpus);
    if (c == 'b')
        return cli_parse_int(CMD, "--gbs", arg, 1, 1 << 24, &o->gbs);
    return cli_parse_int(CMD, "--top", arg, 1, 10000, &o->top);
}

int cmd_bench_search(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        help();
        return CLI_OK;
    }
    static const struct option opts[] = {{"threads", required_argument, 0, 't'},
                                         {"top", required_argument, 0, 'k'},
                                         {"gpus", required_argument, 0, 'g'},
                                         {"gbs", required_argument, 0, 'b'}, {0, 0, 0, 0}};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    bench_search_opts o = {cores > 0 ? cores : 1, 20, 1024, 1536};
    int rc;
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, NULL, parse_one, &o)))
        return rc;
    if (o.gpus % GPUS_PER_NODE != 0)
        return cli_bad_input(CMD, "--gpus: %ld is not a multiple of the %d GPUs of a dgx-a100-80g node",
                       o.gpus, GPUS_PER_NODE);
    sys_system sys;
    topo *t = NULL;
    model_desc m;
    cs_err err;
    if (model_find("gpt3-175b", &m, &err) != 0)
        return cli_bad_err(CMD, &err);
    if ((rc = cli_build_topo(CMD, "dgx-a100-80g", o.gpus / GPUS_PER_NODE, &sys, &t)))
        return rc;
    opcost_eff eff;
    opcost_eff_default(&eff);
    search_input in = {&m, t, (int)o.gpus, (int)o.gbs, m.dtype, 1, &eff, {0}, 1, NULL, NULL, NULL,
                       NULL, FRAMEWORK_CORE, 0, 0};
    search_fix_init(&in.space.fix);
    if (searchsim_check_top(&in, (int)o.top, &err) != 0) { /* before both passes */
        topo_free(t);
        return cli_bad_err(CMD, &err);
    }
    printf("search benchmark: %s (sequence %d) on %ld GPUs of dgx-a100-80g, global batch %ld\n",
           m.name, m.seq_len, o.gpus, o.gbs);
    rc = run(&in, (int)o.threads, (int)o.top);
    topo_free(t);
    return rc;
}
