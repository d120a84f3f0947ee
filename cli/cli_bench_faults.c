/* cli_bench_faults: `clustersim bench faults`: how fast the goodput
 * simulation runs on the case, a 54-day job on 16,384 GPUs
 * (dgx-h100 nodes) with Llama 3's failure classes: runs per second at a
 * fixed interval, with one failure source and with the six classes, and
 * the whole study with the search for the best interval. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "faultmodel.h"
#include "goodput.h"

#define CMD "bench faults"
#define DAY 86400.0

static void help(void)
{
    printf("usage: clustersim bench faults [--runs K]\n\n"
           "Simulates K runs (default 1000) of a 54-day job on 16,384 GPUs with a sync\n"
           "checkpoint of 120 s every 1,500 s: first with one failure source (Llama 3's 419\n"
           "interruptions in 54 days), then with the six component classes at the same total\n"
           "rate, then the whole study (the best interval searched on the same seeds, then\n"
           "the K runs).  Prints wall time and runs per second for each.  Aim: 1,000 runs\n"
           "under 5 s.\n");
}

static int build_jobs(goodput_job *one, goodput_job *classes, cs_err *err)
{
    sys_system sys;
    if (sys_from_catalog("dgx-h100", 2048, &sys, err) != 0)
        return -1;
    double count[FAULT_NCLASSES];
    fault_components(&sys, 16384, count);
    fault_model fm;
    fault_model_default(&fm);
    *classes = goodput_job_single(54 * DAY, 1, 60, 600, 120);
    fault_sources(&fm, count, classes);
    *one = goodput_job_single(54 * DAY, goodput_job_mtbf_s(classes), 60, 600, 120);
    return 0;
}

static void report(const char *what, int runs, double wall_s, const goodput_stats *st)
{
    printf("%-34s %6d runs in %7.3f s: %8.0f runs/s (goodput %.4f, %.1f interruptions)\n", what,
           runs, wall_s, runs / wall_s, st->goodput_mean, st->interruptions_mean);
}

static int parse_runs(int c, const char *arg, void *runs)
{
    (void)c; /* --runs is the only option */
    return cli_parse_int(CMD, "--runs", arg, 1, 10000000, runs);
}

int cmd_bench_faults(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        help();
        return CLI_OK;
    }
    long runs = 1000;
    static const struct option opts[] = {{"runs", required_argument, 0, 'r'}, {0, 0, 0, 0}};
    int rc;
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, NULL, parse_runs, &runs)))
        return rc;
    goodput_job one, classes;
    cs_err err;
    if (build_jobs(&one, &classes, &err) != 0)
        return cli_bad_err(CMD, &err);
    goodput_policy p = {GOODPUT_SYNC, 1500, 120, 0, 0};
    goodput_stats st;
    printf("goodput benchmark: 54 days, 16,384 GPUs, sync checkpoints of 120 s\n");
    const goodput_job *jobs[2] = {&one, &classes};
    const char *names[2] = {"one failure source, interval 1500 s", "six classes, interval 1500 s"};
    for (int k = 0; k < 2; k++) {
        double t0 = cli_wall_s();
        if (goodput_runs(jobs[k], &p, (int)runs, 1, &st, &err) != 0)
            return cli_bad_err(CMD, &err);
        report(names[k], (int)runs, cli_wall_s() - t0, &st);
    }
    double t0 = cli_wall_s();
    double mtbf = goodput_job_mtbf_s(&classes);
    p.interval_s = goodput_best_interval(&classes, &p, (int)runs, 1, 12, 10 * mtbf);
    if (goodput_runs(&classes, &p, (int)runs, 1, &st, &err) != 0)
        return cli_bad_err(CMD, &err);
    double wall = cli_wall_s() - t0;
    printf("%-34s %6ld runs in %7.3f s (best interval %.0f s; goodput %.4f)\n",
           "six classes, interval searched", runs, wall, p.interval_s, st.goodput_mean);
    return CLI_OK;
}
