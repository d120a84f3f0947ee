/* cli_bench_scale: `clustersim bench scale`: how the every-rank simulation
 * (estimate --ranks all) grows with the cluster, on the cases of issue 20:
 * GPT-3 175B on 256 A100s, Megatron 1T on 3072 A100s, Llama 3 405B on 16,384
 * H100s, and Llama 3 70B from 512 to 65,536 H100s.  Each case runs in a
 * child process of its own, so that its peak resident memory is its own
 * (getrusage of the child); the parent prints wall time, peak memory, the
 * simulated iteration (the same figure `estimate --ranks all` prints) and,
 * over the Llama 3 70B series, the growth exponent of wall time in GPUs. */
#include <errno.h>
#include <getopt.h>
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "model.h"
#include "trainsim.h"

#define CMD "bench scale"

typedef struct scale_case {
    const char *name, *system, *model;
    int layers;        /* 0: the catalog's */
    int tp, pp, gpus, gbs;
    double aim_s;      /* the aim for the wall time; 0: none (the series) */
    int series;        /* part of the Llama 3 70B series the exponent is fitted on */
} scale_case;

/* Global batches: 16 microbatches of one sequence per replica (Llama 3's 2,048
 * sequences of 8,192 tokens for 405B on 128 replicas), Megatron 1T at its
 * published 3,072.  Llama 3 405B's 126 layers do not split over 16 stages
 * (Llama 3 trimmed its first and last stages instead), so its shape runs
 * with 128. */
static const scale_case cases[] = {
    {"gpt3-175b tp4 pp4 dp16", "dgx-a100-80g", "gpt3-175b", 0, 4, 4, 256, 256, 0.2, 0},
    {"megatron-1t tp8 pp64 dp6", "dgx-a100-80g", "megatron-1t", 0, 8, 64, 3072, 3072, 1.0, 0},
    {"llama3-405b/128 tp8 pp16 dp128", "dgx-h100", "llama3-405b", 128, 8, 16, 16384, 2048, 2.0,
     0},
    {"llama3-70b tp8 pp8 dp8", "dgx-h100", "llama3-70b", 0, 8, 8, 512, 128, 0, 1},
    {"llama3-70b tp8 pp8 dp32", "dgx-h100", "llama3-70b", 0, 8, 8, 2048, 512, 0, 1},
    {"llama3-70b tp8 pp8 dp128", "dgx-h100", "llama3-70b", 0, 8, 8, 8192, 2048, 0, 1},
    {"llama3-70b tp8 pp8 dp512", "dgx-h100", "llama3-70b", 0, 8, 8, 32768, 8192, 0, 1},
    {"llama3-70b tp8 pp8 dp1024", "dgx-h100", "llama3-70b", 0, 8, 8, 65536, 16384, 0, 1},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* What a child sends back through its pipe. */
typedef struct scale_result {
    int ok;
    double wall_s, cpu_s, iteration_s, peak_bytes;
    uint64_t events;
    int tasks;
    char msg[sizeof(((cs_err *)0)->msg)];
} scale_result;

static void help(void)
{
    printf("usage: clustersim bench scale [--max-gpus N] [--format table|csv]\n\n"
           "Simulates one iteration with every rank (estimate --ranks all) on each case\n"
           "up to N GPUs (default 65536), one child process per case, and prints its wall\n"
           "and CPU time (user + system: on a shared machine the steadier figure), peak\n"
           "resident memory, engine events and simulated iteration; then the growth\n"
           "exponents of wall and CPU time in GPUs over the Llama 3 70B series (least\n"
           "squares on log-log, and between neighbouring cases).  Cases: GPT-3 175B tp4\n"
           "pp4 on 256 dgx-a100-80g GPUs (aim < 0.2 s), Megatron 1T tp8 pp64 on 3072\n"
           "(aim < 1 s), Llama 3 405B's shape with 128 layers (126 do not split over 16\n"
           "stages) tp8 pp16 on 16384 dgx-h100 GPUs (aim < 2 s and\n"
           "< 1 GB), Llama 3 70B tp8 pp8 on 512 to 65536 (aim: linear, 65536 under 10 s\n"
           "and 4 GB).  mbs 1; 16 microbatches per replica (Megatron 1T: gbs 3072).\n");
}

/* The case, simulated in this (child) process. */
static void run_case(const scale_case *c, scale_result *r)
{
    memset(r, 0, sizeof *r);
    double t0 = cli_wall_s();
    cs_err err;
    sys_system sys;
    topo *t = NULL;
    model_desc m;
    int nodes_per = 8; /* both systems have 8 GPUs per node */
    if (sys_from_catalog(c->system, (c->gpus + nodes_per - 1) / nodes_per, &sys, &err) != 0 ||
        topo_build(&sys, &t, &err) != 0 || model_find(c->model, &m, &err) != 0) {
        snprintf(r->msg, sizeof r->msg, "%s", err.msg);
        topo_free(t);
        return;
    }
    if (c->layers)
        m.layers = c->layers;
    layout_desc l;
    layout_init(&l, &m);
    l.tp = c->tp;
    l.pp = c->pp;
    l.dp = c->gpus / (c->tp * c->pp);
    l.gbs = c->gbs;
    opcost_eff eff;
    opcost_eff_default(&eff);
    estimate_input in = {&m, &l, t, c->gpus, &eff};
    estimate_result out;
    trainsim_stats st;
    if (trainsim_run(&in, TRAINSIM_ALL_RANKS, &out, &st, &err) != 0) {
        snprintf(r->msg, sizeof r->msg, "%s", err.msg);
    } else {
        r->ok = 1;
        r->iteration_s = out.iteration_s;
        r->events = st.events;
        r->tasks = st.tasks;
        estimate_result_free(&out);
    }
    topo_free(t);
    r->wall_s = cli_wall_s() - t0;
    r->peak_bytes = cli_peak_rss_bytes();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* Forks a child for the case and reads its result back. */
static int fork_case(const scale_case *c, scale_result *r)
{
    int fd[2];
    fflush(stdout);
    if (pipe(fd) != 0)
        return cli_bad_input(CMD, "cannot make a pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        return cli_bad_input(CMD, "cannot fork: %s", strerror(errno));
    if (pid == 0) {
        close(fd[0]);
        scale_result mine;
        run_case(c, &mine);
        ssize_t w = write(fd[1], &mine, sizeof mine);
        _exit(w == (ssize_t)sizeof mine ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], r, sizeof *r);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != (ssize_t)sizeof *r || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        memset(r, 0, sizeof *r);
        snprintf(r->msg, sizeof r->msg, "the case's process ended without a result (%s)",
                 WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exit status");
    }
    return CLI_OK;
}

static void print_row(const scale_case *c, const scale_result *r, cli_format fmt)
{
    if (fmt == CLI_CSV) {
        printf("%s,%s,%d,%d,%.3f,%.3f,%.1f,%llu,%.6f,%.3g\n", c->name, c->system, c->gpus,
               c->gbs, r->wall_s, r->cpu_s, r->peak_bytes / 1e6, (unsigned long long)r->events,
               r->iteration_s, c->aim_s);
        return;
    }
    char aim[32] = "linear";
    if (c->aim_s > 0)
        snprintf(aim, sizeof aim, "< %g s", c->aim_s);
    printf("%-30s %-12s %6d %6d %8.2f %8.2f %9.1f %10llu %11.4f  %s\n", c->name, c->system,
           c->gpus, c->gbs, r->wall_s, r->cpu_s, r->peak_bytes / 1e6,
           (unsigned long long)r->events, r->iteration_s, aim);
}

/* Least-squares slope of log(wall) on log(GPUs) over the series, and the
 * exponent between neighbouring cases. */
static void print_exponent(const char *what, const double *gpus, const double *wall, int n)
{
    if (n < 2)
        return;
    double x[NCASES], y[NCASES], c0, c1, cov00, cov01, cov11, sumsq;
    for (int i = 0; i < n; i++) {
        x[i] = log(gpus[i]);
        y[i] = log(wall[i]);
    }
    gsl_fit_linear(x, 1, y, 1, (size_t)n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
    printf("growth exponent of %s time in GPUs, llama3-70b %.0f to %.0f GPUs: %.2f "
           "(aim <= 1.1); between cases:", what, gpus[0], gpus[n - 1], c1);
    for (int i = 1; i < n; i++)
        printf(" %.2f", (y[i] - y[i - 1]) / (x[i] - x[i - 1]));
    printf("\n");
}

static int parse_opt(int c, const char *arg, void *ctx)
{
    void **o = ctx;
    if (c == 'g')
        return cli_parse_int(CMD, "--max-gpus", arg, 1, 1 << 20, o[0]);
    return cli_parse_format(CMD, arg, o[1]);
}

int cmd_bench_scale(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        help();
        return CLI_OK;
    }
    long max_gpus = 65536;
    cli_format fmt = CLI_TABLE;
    static const struct option opts[] = {{"max-gpus", required_argument, 0, 'g'},
                                         {"format", required_argument, 0, 'f'},
                                         {0, 0, 0, 0}};
    void *ctx[2] = {&max_gpus, &fmt};
    int rc = cli_getopt_each(CMD, argc, argv, opts, NULL, parse_opt, ctx);
    if (rc)
        return rc;
    if (fmt == CLI_CSV)
        printf("case,system,gpus,gbs,wall_s,cpu_s,peak_MB,events,iteration_s,aim_s\n");
    else
        printf("%-30s %-12s %6s %6s %8s %8s %9s %10s %11s  %s\n", "case (every rank)",
               "system", "gpus", "gbs", "wall_s", "cpu_s", "peak_MB", "events", "iteration_s",
               "aim");
    double gpus[NCASES], wall[NCASES], cpu[NCASES];
    int n = 0, failed = 0;
    for (int i = 0; i < NCASES; i++) {
        if (cases[i].gpus > max_gpus)
            continue;
        scale_result r;
        if ((rc = fork_case(&cases[i], &r)))
            return rc;
        if (!r.ok) {
            fprintf(stderr, "clustersim " CMD ": %s: %s\n", cases[i].name, r.msg);
            failed = 1;
            continue;
        }
        print_row(&cases[i], &r, fmt);
        if (cases[i].series) {
            gpus[n] = cases[i].gpus;
            cpu[n] = r.cpu_s;
            wall[n++] = r.wall_s;
        }
    }
    if (fmt == CLI_TABLE) {
        print_exponent("wall", gpus, wall, n);
        print_exponent("cpu", gpus, cpu, n);
    }
    return failed ? CLI_FAILED : CLI_OK;
}
