/* cli_bench_sweep: `clustersim bench sweep`: the speedup of a sweep on 1, 2
 * and 4 ranks (mpirun; 1 rank is one process on one thread) and the cost a
 * sweep adds per point (a Lua state, the point's source, a row; under MPI
 * the hand-out and the gather), measured on points that do almost nothing.
 * Every run's CSV must be byte-identical to the first: a benchmark that got
 * another answer would be timing something else. */
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define CMD "bench sweep"
#define MAX_RANKS 8

extern char **environ;

typedef struct bench_sweep_opts {
    long points, runs, tiny;
    int nranks, ranks[MAX_RANKS];
} bench_sweep_opts;

static void help(void)
{
    printf("usage: clustersim bench sweep [--points N] [--runs R] [--tiny M] [--ranks 1,2,4]\n\n"
           "Runs a sweep of N goodput points (default 16; each R = 2000 Monte Carlo runs of a\n"
           "30-day job on 4,096 to 32,768 GPUs) on each rank count (1: one process, one\n"
           "thread; more: mpirun --oversubscribe -np K) and prints wall time and speedup;\n"
           "then M points (default 1000) that do almost nothing (one run of a 1-hour job): their\n"
           "wall time less that of 1 such point, per point, is the sweep's overhead per point.\n"
           "The CSVs of every run must be the same bytes.  Needs clustersim built with MPI and\n"
           "mpirun for K > 1.\n");
}

static int parse_ranks(const char *arg, bench_sweep_opts *o)
{
    char *copy = strdup(arg), *save = NULL;
    o->nranks = 0;
    int rc = CLI_OK;
    for (char *t = strtok_r(copy, ",", &save); t && rc == CLI_OK; t = strtok_r(NULL, ",", &save)) {
        long k;
        if (o->nranks == MAX_RANKS)
            rc = cli_bad_input(CMD, "--ranks: at most %d rank counts", MAX_RANKS);
        else if ((rc = cli_parse_int(CMD, "--ranks", t, 1, 256, &k)) == CLI_OK)
            o->ranks[o->nranks++] = (int)k;
    }
    free(copy);
    return rc;
}

static int parse_one(int c, const char *arg, void *ctx)
{
    bench_sweep_opts *o = ctx;
    switch (c) {
    case 'p': return cli_parse_int(CMD, "--points", arg, 1, 100000, &o->points);
    case 'r': return cli_parse_int(CMD, "--runs", arg, 1, 1000000, &o->runs);
    case 't': return cli_parse_int(CMD, "--tiny", arg, 2, 100000, &o->tiny);
    default: return parse_ranks(arg, o);
    }
}

/* The spec: n goodput points of `runs` runs over `days` days. */
static int write_spec(const char *path, long n, long runs, double days)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "local pts = {}\n"
               "for i = 1, %ld do\n"
               "  pts[i] = {gpus = 4096 * (1 + (i - 1) %% 8), days = %g, checkpoint_s = 60,\n"
               "            failures_per_gpu_day = 0.002, runs = %ld, seed = i}\n"
               "end\n"
               "sweep{run = \"goodput\", name = \"bench.csv\", points = pts}\n",
            n, days, runs);
    return fclose(f);
}

/* CPU time of the children waited for so far (and theirs: getrusage counts
 * descendants). */
static double children_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* Runs the sweep on k ranks into dir; its wall time, or -1; *cpu_s the CPU
 * time of the processes it started (every rank). */
static double run_sweep(int k, const char *spec, const char *dir, double *cpu_s)
{
    char self[4096], np[16], threads[] = "1";
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return -1;
    self[len] = '\0';
    snprintf(np, sizeof np, "%d", k);
    char *one[] = {self, "sweep", "--no-progress", "--threads", threads, "--out", (char *)dir,
                   (char *)spec, NULL};
    char *mpi[] = {"mpirun", "--oversubscribe", "-np", np, "--allow-run-as-root", self, "sweep",
                   "--no-progress", "--out", (char *)dir, (char *)spec, NULL};
    if (getuid() != 0) /* mpirun refuses root without it, and only root may give it */
        memmove(&mpi[4], &mpi[5], sizeof mpi - 5 * sizeof mpi[0]);
    char **argv = k == 1 ? one : mpi;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1 /* O_WRONLY */, 0);
    pid_t pid;
    double t0 = cli_wall_s();
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int status;
    double cpu0 = children_cpu_s();
    if (rc != 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    *cpu_s = children_cpu_s() - cpu0;
    return cli_wall_s() - t0;
}

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* One sweep on every rank count: wall times into wall[]; 0, or an exit status. */
static int time_ranks(const bench_sweep_opts *o, const char *tmp, const char *spec, double *wall,
                      double *cpu)
{
    char dir[4200], first[4300], csv[4300];
    for (int i = 0; i < o->nranks; i++) {
        snprintf(dir, sizeof dir, "%s/r%d", tmp, o->ranks[i]);
        if ((wall[i] = run_sweep(o->ranks[i], spec, dir, &cpu[i])) < 0)
            return cli_bad_input(CMD, "the sweep on %d rank%s failed (is clustersim built with MPI, "
                                      "and mpirun installed?)", o->ranks[i], o->ranks[i] > 1 ? "s" : "");
        snprintf(csv, sizeof csv, "%s/bench.csv", dir);
        if (i == 0)
            snprintf(first, sizeof first, "%s", csv);
        else if (!same_file(first, csv))
            return cli_bad_input(CMD, "%d ranks wrote another CSV than %d: not the same sweep",
                                 o->ranks[i], o->ranks[0]);
    }
    return CLI_OK;
}

static int bench(const bench_sweep_opts *o, const char *tmp)
{
    char spec[4200], tiny[4200], one[4200];
    snprintf(spec, sizeof spec, "%s/bench.lua", tmp);
    snprintf(tiny, sizeof tiny, "%s/tiny.lua", tmp);
    snprintf(one, sizeof one, "%s/one.lua", tmp);
    if (write_spec(spec, o->points, o->runs, 30) != 0 || write_spec(tiny, o->tiny, 1, 1.0 / 24) ||
        write_spec(one, 1, 1, 1.0 / 24))
        return cli_bad_input(CMD, "cannot write the sweep specs in %s", tmp);
    double wall[MAX_RANKS], tiny_wall[MAX_RANKS], one_wall[MAX_RANKS], cpu[MAX_RANKS], unused[MAX_RANKS];
    int rc = time_ranks(o, tmp, spec, wall, cpu);
    if (rc == CLI_OK)
        rc = time_ranks(o, tmp, tiny, tiny_wall, unused);
    if (rc == CLI_OK)
        rc = time_ranks(o, tmp, one, one_wall, unused);
    if (rc != CLI_OK)
        return rc;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("sweep benchmark: %ld goodput points of %ld runs each; %ld cores; the CSVs of every "
           "run are the same bytes\n", o->points, o->runs, cores);
    printf("%5s %9s %8s %8s %12s %22s\n", "ranks", "wall s", "cpu s", "speedup", "points/s",
           "overhead/point ms");
    for (int i = 0; i < o->nranks; i++)
        printf("%5d %9.3f %8.3f %8.2f %12.2f %22.2f\n", o->ranks[i], wall[i], cpu[i], wall[0] / wall[i],
               o->points / wall[i], 1e3 * (tiny_wall[i] - one_wall[i]) / (double)(o->tiny - 1));
    printf("(overhead: a sweep of %ld points that do almost nothing less one of 1 point (the "
           "start-up), per point; cpu: of every rank and mpirun, which the speedup's wall "
           "time can only beat where cores are free)\n", o->tiny);
    return CLI_OK;
}

static void remove_scratch(const bench_sweep_opts *o, const char *tmp)
{
    char p[4300];
    for (int i = 0; i < o->nranks; i++) {
        snprintf(p, sizeof p, "%s/r%d/bench.csv", tmp, o->ranks[i]);
        unlink(p);
        snprintf(p, sizeof p, "%s/r%d", tmp, o->ranks[i]);
        rmdir(p);
    }
    snprintf(p, sizeof p, "%s/bench.lua", tmp);
    unlink(p);
    snprintf(p, sizeof p, "%s/tiny.lua", tmp);
    unlink(p);
    snprintf(p, sizeof p, "%s/one.lua", tmp);
    unlink(p);
    rmdir(tmp);
}

int cmd_bench_sweep(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        help();
        return CLI_OK;
    }
    bench_sweep_opts o = {16, 2000, 1000, 3, {1, 2, 4}};
    static const struct option opts[] = {{"points", required_argument, 0, 'p'},
                                         {"runs", required_argument, 0, 'r'},
                                         {"tiny", required_argument, 0, 't'},
                                         {"ranks", required_argument, 0, 'k'}, {0, 0, 0, 0}};
    int rc;
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, NULL, parse_one, &o)))
        return rc;
    char tmp[] = "/tmp/clustersim-bench-sweep-XXXXXX";
    if (!mkdtemp(tmp))
        return cli_bad_input(CMD, "cannot make a scratch folder in /tmp");
    rc = bench(&o, tmp);
    remove_scratch(&o, tmp);
    return rc;
}
