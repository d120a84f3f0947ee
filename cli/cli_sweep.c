/* cli_sweep: `clustersim sweep SPEC.lua`: a scenario whose sweep{...} runs
 * many points over threads (or MPI ranks under mpirun) into one CSV, with
 * --resume to keep the rows an interrupted run left (lua/lua_sweep). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "parmap.h"
#include "scenario.h"

#define CMD "sweep"

#ifndef CS_VALIDATE_DIR
#define CS_VALIDATE_DIR "validate"
#endif

static void sweep_help(void)
{
    printf("usage: clustersim sweep [--out DIR] [--resume] [--threads N] [--progress|--no-progress]\n"
           "                        [--max-cpu-seconds S] SPEC.lua [args...]\n"
           "       mpirun -np N clustersim sweep ...\n\n"
           "Runs SPEC.lua, a scenario that calls sweep{...}: points (each a table of arguments\n"
           "to estimate, simulate, search, goodput, stragglers or place) as a list or a product\n"
           "of lists, run in parallel, one CSV row per point in point order, written row by row\n"
           "into the output folder (docs/sweep.md).  A point that fails gets its error in its\n"
           "row; the others go on.\n\n"
           "  --out DIR        output folder (default out/)\n"
           "  --resume         keep the rows an interrupted run of the same sweep left and run\n"
           "                   the remaining points only\n"
           "  --threads N      points at once in this process (default: every core); under\n"
           "                   mpirun one point per rank at a time, handed out as ranks free up\n"
           "  --progress       the progress bar on stderr even when it is not a terminal\n"
           "  --no-progress    no progress bar\n"
           "  --max-cpu-seconds S  stop the spec past S s of CPU, every thread's (default: no\n"
           "                   limit; `run` has 600 s); rows done so far are kept for --resume\n"
           "Exit status 2 on a scenario error (file, line, traceback), 0 otherwise, also when\n"
           "points failed (their rows say why; the count is printed).\n");
}

typedef struct sweep_cli {
    scenario_opts so;
    lua_sweep_opts sw;
} sweep_cli;

enum { O_OUT = 1, O_RESUME, O_THREADS, O_PROGRESS, O_NO_PROGRESS, O_MAX_CPU };

static int parse_one(int c, const char *arg, void *ctx)
{
    sweep_cli *o = ctx;
    long n;
    int rc;
    switch (c) {
    case O_OUT: o->so.out_dir = arg; return CLI_OK;
    case O_RESUME: o->sw.resume = 1; return CLI_OK;
    case O_PROGRESS: o->sw.progress = 1; return CLI_OK;
    case O_NO_PROGRESS: o->sw.progress = -1; return CLI_OK;
    case O_MAX_CPU:
        if ((rc = cli_parse_int(CMD, "--max-cpu-seconds", arg, 1, 1000000000L, &n)))
            return rc;
        o->so.max_cpu_s = (double)n;
        return CLI_OK;
    default:
        if ((rc = cli_parse_int(CMD, "--threads", arg, 1, 1024, &n)))
            return rc;
        o->sw.threads = (int)n;
        return CLI_OK;
    }
}

int cmd_sweep(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        sweep_help();
        return CLI_OK;
    }
    static const struct option opts[] = {{"out", required_argument, 0, O_OUT},
                                         {"resume", no_argument, 0, O_RESUME},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"progress", no_argument, 0, O_PROGRESS},
                                         {"no-progress", no_argument, 0, O_NO_PROGRESS},
                                         {"max-cpu-seconds", required_argument, 0, O_MAX_CPU},
                                         {0, 0, 0, 0}};
    /* no CPU limit unless asked: a sweep is long work by design, with its
     * bounds (at most 1e6 points), its bar and --resume */
    sweep_cli o = {{.out_dir = "out", .reference_dir = CS_VALIDATE_DIR, .max_cpu_s = -1}, {0}};
    o.so.sweep = &o.sw;
    int first, rc;
    const cli_args args = {.first = &first, .in_order = 1};
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, &args, parse_one, &o)))
        return rc;
    if (first >= argc)
        return cli_bad_input(CMD, "name the sweep: clustersim sweep SPEC.lua [args...]");
    cs_err err;
    if (scenario_run(argv[first], argv + first + 1, argc - first - 1, &o.so, &err) != 0) {
        fprintf(stderr, "clustersim sweep: %s\n", err.msg);
        return CLI_BAD_INPUT;
    }
    if (o.sw.sweeps == 0)
        return cli_bad_input(CMD, "%s ran no sweep{...}: a sweep spec calls sweep{run = FACE, "
                                  "points = ... or product = ...}", argv[first]);
    if (o.sw.failed > 0)
        fprintf(stderr, "clustersim sweep: %ld point%s failed (status and error in %s)\n",
                o.sw.failed, o.sw.failed == 1 ? "" : "s", o.sw.sweeps == 1 ? "its row" : "their rows");
    return CLI_OK;
}
