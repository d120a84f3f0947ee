/* cli_run: `clustersim run FILE.lua [args...]`: a Lua scenario. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lua_limits.h"
#include "scenario.h"

#define CMD "run"
#define STATUS_AFTER_S 5 /* a scenario past this much CPU shows a status line */

#ifndef CS_VALIDATE_DIR
#define CS_VALIDATE_DIR "validate"
#endif

static void run_help(void)
{
    printf("usage: clustersim run [--out DIR] [--allow-unsafe] [--allow-read DIR]\n"
           "         [--max-instructions N] [--max-memory-mib M] [--max-cpu-seconds S]\n"
           "         FILE.lua [args...]\n\n"
           "Runs a scenario: a Lua 5.4 script that builds systems, models and layouts, calls\n"
           "estimate{...} and writes reports (docs/lua.md has the API with examples).\n"
           "The script's arguments are in `arg` (arg[0] is FILE.lua); everything after FILE.lua\n"
           "is the script's, so run's own options go before it.\n\n"
           "  --out DIR        folder for the reports (default out/); files appear only when\n"
           "                   the scenario finishes without error\n"
           "  --allow-unsafe   the whole standard library: os.execute, io, require, C modules\n"
           "                   (off by default: a scenario is shared like a configuration file)\n"
           "  --allow-read DIR files below DIR may be named (device_profile, place's graph);\n"
           "                   by default only those below the scenario's own folder; repeatable\n"
           "  --max-instructions N  Lua instructions the script may run (default %.0e)\n"
           "  --max-memory-mib M    Lua memory it may take (default %.0f MiB)\n"
           "  --max-cpu-seconds S   CPU time it may spend, Lua and the work of its calls\n"
           "                        (estimate{}, search{}, ...) together (default %.0f s);\n"
           "                        past %d s a status line shows the time and the line\n"
           "A scenario error prints file, line and traceback and exits with status 2; so does\n"
           "one over a limit.\n", LUA_LIMITS_INSTRUCTIONS, LUA_LIMITS_MEMORY_MIB, LUA_LIMITS_CPU_S,
           STATUS_AFTER_S);
}

static int parse_one(int c, const char *arg, void *ctx)
{
    scenario_opts *o = ctx;
    long n;
    switch (c) {
    case 'o': o->out_dir = arg; return CLI_OK;
    case 'u': o->allow_unsafe = 1; return CLI_OK;
    case 'r':
        if (o->nallow_read == (int)(sizeof o->allow_read / sizeof o->allow_read[0]))
            return cli_bad_input(CMD, "--allow-read: at most %d folders", o->nallow_read);
        o->allow_read[o->nallow_read++] = arg;
        return CLI_OK;
    case 'c':
        if (cli_parse_int(CMD, "--max-cpu-seconds", arg, 1, 1000000000L, &n))
            return CLI_BAD_INPUT;
        o->max_cpu_s = (double)n;
        return CLI_OK;
    case 'i':
        if (cli_parse_int(CMD, "--max-instructions", arg, 1000, 1000000000000000L, &n))
            return CLI_BAD_INPUT;
        o->max_instructions = (double)n;
        return CLI_OK;
    default:
        if (cli_parse_int(CMD, "--max-memory-mib", arg, 1, 1 << 20, &n))
            return CLI_BAD_INPUT;
        o->max_memory_mib = (double)n;
        return CLI_OK;
    }
}

/* A long scenario's status on standard error when it is a terminal, at
 * most four times a second: the CPU spent against the limit and the line
 * the script is at (its total work is not known beforehand, so no bar). */
typedef struct run_status {
    int tty;       /* standard error is a terminal (-1: not looked yet) */
    double last_s; /* CPU seconds at the last line shown (0: none shown) */
} run_status;

static void cpu_status(void *ctx, double used_s, double max_s, const char *where)
{
    run_status *st = ctx;
    if (used_s < STATUS_AFTER_S || used_s - st->last_s < 0.25)
        return;
    if (st->tty < 0)
        st->tty = isatty(STDERR_FILENO);
    if (!st->tty)
        return;
    st->last_s = used_s;
    fprintf(stderr, "\rrun: %sCPU %.0f s of at most %.0f s \033[K", where, used_s, max_s);
    fflush(stderr);
}

/* Clears the status line, if one is shown, before other output. */
static void clear_status(void *ctx)
{
    run_status *st = ctx;
    if (st->last_s > 0) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        st->last_s = 0;
    }
}

/* run's own options after FILE.lua belong to the scenario (its `arg`), as
 * with `lua FILE args`; a user who meant them for run is told so. */
static void note_late_options(const struct option *opts, int argc, char **argv, int first)
{
    for (int i = first + 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            continue;
        size_t len = strcspn(argv[i] + 2, "=");
        for (const struct option *op = opts; op->name; op++)
            if (strlen(op->name) == len && strncmp(op->name, argv[i] + 2, len) == 0)
                fprintf(stderr,
                        "clustersim run: note: '%s' after %s is the scenario's arg[%d], not "
                        "run's option; put run's options before the file\n",
                        argv[i], argv[first], i - first);
    }
}

int cmd_run(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        run_help();
        return CLI_OK;
    }
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"allow-unsafe", no_argument, 0, 'u'},
                                         {"allow-read", required_argument, 0, 'r'},
                                         {"max-instructions", required_argument, 0, 'i'},
                                         {"max-memory-mib", required_argument, 0, 'm'},
                                         {"max-cpu-seconds", required_argument, 0, 'c'},
                                         {0, 0, 0, 0}};
    scenario_opts o = {.out_dir = "out", .reference_dir = CS_VALIDATE_DIR};
    int first, rc;
    const cli_args args = {.first = &first, .in_order = 1}; /* what follows FILE.lua is its own */
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, &args, parse_one, &o)))
        return rc;
    if (first >= argc)
        return cli_bad_input(CMD, "name the scenario: clustersim run FILE.lua [args...]");
    note_late_options(opts, argc, argv, first);
    run_status status = {-1, 0};
    o.on_cpu = cpu_status;
    o.clear_status = clear_status;
    o.on_cpu_ctx = &status;
    cs_err err;
    int failed = scenario_run(argv[first], argv + first + 1, argc - first - 1, &o, &err) != 0;
    clear_status(&status);
    if (failed) {
        fprintf(stderr, "clustersim run: %s\n", err.msg);
        return CLI_BAD_INPUT;
    }
    return CLI_OK;
}
