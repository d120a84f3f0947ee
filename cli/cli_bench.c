/* cli_bench: `clustersim bench engine|collective|job|search|place|faults|sweep|scale`.  Benchmarks print
 * figures (wall time, rates, peak memory); they never pass or fail on time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_engine.h"
#include "cli.h"
#include "collsim.h"
#include "tiers_spec.h"
#include "units.h"

static void bench_help(void)
{
    printf(
        "usage: clustersim bench engine [--pending N] [--events N] [--seed S] [--format F]\n"
        "       clustersim bench collective [--system NAME] [--nodes N] [--size SIZE]\n"
        "                                   [--algo A] [--format F]\n"
        "       clustersim bench job [--system NAME] [--gpus N] [--steps K] [--compute-ms T]\n"
        "                            [--allreduce SIZE] [--format F]\n"
        "       clustersim bench search [--threads N] [--top K] [--gpus G] [--gbs B]\n"
        "       clustersim bench place [--graph DIR] [--repeat R]\n"
        "       clustersim bench faults [--runs K]\n"
        "       clustersim bench sweep [--points N] [--runs R] [--ranks 1,2,4]\n"
        "       clustersim bench scale [--max-gpus N] [--format F]\n\n"
        "engine:     hold model on the event queue: N pending events (default 1000000),\n"
        "            each event scheduling one more; prints events/s.\n"
        "collective: one all-reduce (default 1G, ring) over every GPU of N nodes (default\n"
        "            128 dgx-h100 = 1024 GPUs) simulated as flows; wall time, peak memory.\n"
        "job:        K steps (default 100), each T ms of compute on every GPU (default 1)\n"
        "            then an all-reduce (default 16M, ring) over all N GPUs (default 256),\n"
        "            8 per node; wall time, peak memory, simulated time.\n"
        "search:     the layout search for GPT-3 175B on 1024 A100s (clustersim bench\n"
        "            search --help), global batch 1536, or on G GPUs (whole nodes of 8) at\n"
        "            global batch B: closed-form layouts/s per thread, search wall time.\n"
        "place:      m-ETF and m-SCT on the GNMT graph (clustersim bench place --help):\n"
        "            placement seconds beside Baechi's.\n"
        "faults:     goodput runs of a 54-day, 16,384-GPU job per second (clustersim bench\n"
        "            faults --help).\n"
        "sweep:      a sweep on 1, 2 and 4 MPI ranks: speedup and overhead per point\n"
        "            (clustersim bench sweep --help).\n"
        "scale:      every-rank iterations from 256 to 65,536 GPUs, one process each:\n"
        "            wall time, peak memory, growth exponent (clustersim bench scale --help).\n"
        "Peak memory is the process's peak resident set (getrusage), so run one\n"
        "benchmark per process to read it per case.\n");
}

/* Options shared by the three benchmarks; each ignores what it does not use. */
typedef struct bench_opts {
    long pending, events, seed, nodes, gpus, steps;
    double compute_ms;
    uint64_t size_bytes;
    const char *system;
    coll_algo algo;
    cli_format fmt;
} bench_opts;

static int parse_one(int c, const char *arg, void *ctx)
{
    bench_opts *o = ctx;
    cs_err err;
    switch (c) {
    case 'p': return cli_parse_int("bench", "--pending", arg, 1, 100000000, &o->pending);
    case 'e': return cli_parse_int("bench", "--events", arg, 1, 2000000000, &o->events);
    case 'S': return cli_parse_int("bench", "--seed", arg, 0, 0x7fffffff, &o->seed);
    case 'n': return cli_parse_int("bench", "--nodes", arg, 1, 65536, &o->nodes);
    case 'g': return cli_parse_int("bench", "--gpus", arg, 1, 1 << 20, &o->gpus);
    case 'k': return cli_parse_int("bench", "--steps", arg, 1, 1000000, &o->steps);
    case 'c': return cli_parse_positive("bench", "--compute-ms", arg, &o->compute_ms);
    case 'z': return cli_parse_size("bench", "--size", arg, &o->size_bytes);
    case 's': o->system = arg; return CLI_OK;
    case 'a': return coll_algo_parse(arg, &o->algo, &err) ? cli_bad_err("bench", &err) : CLI_OK;
    default: return cli_parse_format("bench", arg, &o->fmt); /* 'f' */
    }
}

static int parse_bench(int argc, char **argv, bench_opts *o)
{
    static const struct option opts[] = {
        {"pending", required_argument, 0, 'p'}, {"events", required_argument, 0, 'e'},
        {"seed", required_argument, 0, 'S'},    {"nodes", required_argument, 0, 'n'},
        {"gpus", required_argument, 0, 'g'},    {"steps", required_argument, 0, 'k'},
        {"compute-ms", required_argument, 0, 'c'}, {"size", required_argument, 0, 'z'},
        {"allreduce", required_argument, 0, 'z'}, {"system", required_argument, 0, 's'},
        {"algo", required_argument, 0, 'a'},    {"format", required_argument, 0, 'f'},
        {0, 0, 0, 0}};
    static const cli_args args = {.hint = "; see --help"};
    return cli_getopt_each("bench", argc, argv, opts, &args, parse_one, o);
}

static int bench_engine(const bench_opts *o)
{
    bench_engine_result r;
    cs_err err;
    if (bench_engine_run((uint64_t)o->pending, (uint64_t)o->events, (uint64_t)o->seed, &r, &err))
        return cli_bad_err("bench", &err);
    if (o->fmt == CLI_CSV)
        printf("events,pending,wall_s,events_per_s\n%llu,%llu,%.6f,%.0f\n",
               (unsigned long long)r.events, (unsigned long long)r.pending, r.wall_s,
               r.events_per_s);
    else
        printf("engine hold benchmark: %llu events with %llu pending\n"
               "wall %.3f s, %.2f million events/s\n",
               (unsigned long long)r.events, (unsigned long long)r.pending, r.wall_s,
               r.events_per_s / 1e6);
    return CLI_OK;
}

static void all_gpus(int32_t *group, int n)
{
    for (int i = 0; i < n; i++)
        group[i] = i;
}

static int build_allreduce(topo *t, coll_algo algo, int n, coll_plan *plan)
{
    coll_params params;
    cs_err err;
    coll_params_default(&params);
    int32_t *group = malloc(sizeof(int32_t) * (size_t)n);
    if (!group)
        abort();
    all_gpus(group, n);
    int rc = coll_plan_build(t, COLL_ALLREDUCE, algo == COLL_ALGO_AUTO ? COLL_ALGO_RING : algo,
                             group, n, &params, plan, &err);
    free(group);
    return rc ? cli_bad_err("bench", &err) : CLI_OK;
}

static void print_sim_bench(const bench_opts *o, const char *what, int gpus, double wall_s,
                            double sim_s, double busbw, const exec_result *res)
{
    double rss = cli_peak_rss_bytes();
    if (o->fmt == CLI_CSV) {
        printf("bench,gpus,wall_s,peak_rss_mb,simulated_s,busbw_gbps,events,flows,solves\n"
               "%s,%d,%.6f,%.1f,%.9f,%.3f,%llu,%llu,%llu\n", what, gpus, wall_s, rss / 1e6,
               sim_s, busbw, (unsigned long long)res->events,
               (unsigned long long)res->net.flows_started, (unsigned long long)res->net.solves);
        return;
    }
    printf("%s on %d GPUs\nwall %.3f s (set-up and simulation), peak memory %.1f MB\n"
           "simulated %.6f s", what, gpus, wall_s, rss / 1e6, sim_s);
    if (busbw > 0)
        printf(", bus bandwidth %.1f GB/s", busbw);
    printf("\n%llu events, %llu flows, %llu bandwidth re-solves\n",
           (unsigned long long)res->events, (unsigned long long)res->net.flows_started,
           (unsigned long long)res->net.solves);
}

static int bench_collective(const bench_opts *o)
{
    double t0 = cli_wall_s();
    sys_system sys;
    topo *t = NULL;
    coll_plan plan;
    int rc = cli_build_topo("bench", o->system, o->nodes, &sys, &t);
    if (rc || (rc = build_allreduce(t, o->algo, topo_gpu_count(t), &plan))) {
        topo_free(t);
        return rc;
    }
    const coll_plan *p = &plan;
    uint64_t end_ps;
    exec_result res;
    cs_err err;
    rc = collsim_run(t, &p, &o->size_bytes, 1, &end_ps, &res, &err) ? cli_bad_err("bench", &err) : 0;
    if (!rc) {
        int n = topo_gpu_count(t);
        double sim_s = units_ps_to_s(end_ps);
        double busbw = (double)o->size_bytes / sim_s / 1e9 * coll_busbw_factor(COLL_ALLREDUCE, n);
        char what[96], size[32];
        units_format_size(o->size_bytes, size, sizeof size);
        snprintf(what, sizeof what, "%s %s all-reduce", size, coll_algo_name(plan.algo));
        print_sim_bench(o, what, n, cli_wall_s() - t0, sim_s, busbw, &res);
    }
    coll_plan_free(&plan);
    topo_free(t);
    return rc;
}

/* The synthetic job: every step, compute on every GPU, then one all-reduce
 * over all of them that waits for every GPU's compute; the next step's
 * compute waits for the all-reduce. */
static void build_job(exec_graph *g, int gpus, long steps, uint64_t compute_ps,
                      const coll_plan *plan, uint64_t size_bytes)
{
    int first_stream = exec_stream_count(g);
    for (int i = 0; i < gpus; i++)
        exec_stream(g, i, "compute");
    int prev_collective = -1;
    char name[48];
    for (long s = 0; s < steps; s++) {
        snprintf(name, sizeof name, "allreduce step %ld", s);
        int first_task = exec_task_count(g);
        for (int i = 0; i < gpus; i++) {
            int c = exec_compute(g, first_stream + i, compute_ps, "compute");
            if (prev_collective >= 0)
                exec_dep(g, prev_collective, c);
        }
        int coll = exec_collective(g, -1, plan, size_bytes, name);
        for (int i = 0; i < gpus; i++)
            exec_dep(g, first_task + i, coll);
        prev_collective = coll;
    }
}

static int bench_job(const bench_opts *o)
{
    double t0 = cli_wall_s();
    sys_system sys;
    topo *t = NULL;
    cs_err err;
    if (sys_from_spec(o->system, 1, &sys, &err) != 0)
        return cli_bad_err("bench", &err);
    int rc, per_node = sys.groups[0].node.gpus;
    if (o->gpus % per_node != 0)
        return cli_bad_input("bench", "--gpus %ld is not a multiple of the %d GPUs per %s node",
                             o->gpus, per_node, o->system);
    if ((rc = cli_build_topo("bench", o->system, o->gpus / per_node, &sys, &t)))
        return rc;
    coll_plan plan;
    if ((rc = build_allreduce(t, o->algo, (int)o->gpus, &plan))) {
        topo_free(t);
        return rc;
    }
    exec_graph *g = exec_new();
    build_job(g, (int)o->gpus, o->steps, units_s_to_ps_ceil(o->compute_ms * 1e-3), &plan,
              o->size_bytes);
    exec_result res;
    rc = exec_run(g, t, &res, &err) ? cli_bad_err("bench", &err) : CLI_OK;
    if (!rc) {
        char what[128], size[32];
        units_format_size(o->size_bytes, size, sizeof size);
        snprintf(what, sizeof what, "job of %ld steps (%.3g ms compute + %s %s all-reduce)",
                 o->steps, o->compute_ms, size, coll_algo_name(plan.algo));
        print_sim_bench(o, what, (int)o->gpus, cli_wall_s() - t0, units_ps_to_s(res.makespan_ps),
                        0, &res);
    }
    exec_free(g);
    coll_plan_free(&plan);
    topo_free(t);
    return rc;
}

int cmd_bench(int argc, char **argv)
{
    /* the benchmarks with their own files print their own --help */
    static const struct { const char *name; int (*run)(int, char **); } own[] = {
        {"scale", cmd_bench_scale},   {"search", cmd_bench_search}, {"place", cmd_bench_place},
        {"faults", cmd_bench_faults}, {"sweep", cmd_bench_sweep}};
    for (size_t i = 0; argc >= 2 && i < sizeof own / sizeof own[0]; i++)
        if (strcmp(argv[1], own[i].name) == 0)
            return own[i].run(argc - 1, argv + 1);
    if (cli_wants_help(argc, argv) || argc < 2) {
        bench_help();
        return argc < 2 ? CLI_BAD_INPUT : CLI_OK;
    }
    const char *which = argv[1];
    bench_opts o = {1000000, 20000000, 1, 128, 256, 100, 1.0, 1ULL << 30, "dgx-h100",
                    COLL_ALGO_RING, CLI_TABLE};
    if (strcmp(which, "job") == 0)
        o.size_bytes = 16ULL << 20;
    int rc = parse_bench(argc - 1, argv + 1, &o);
    if (rc)
        return rc;
    if (strcmp(which, "engine") == 0)
        return bench_engine(&o);
    if (strcmp(which, "collective") == 0)
        return bench_collective(&o);
    if (strcmp(which, "job") == 0)
        return bench_job(&o);
    return cli_bad_input("bench", "unknown benchmark '%s'; valid: engine, collective, job, search, place, "
                         "faults, sweep, scale",
                         which);
}
