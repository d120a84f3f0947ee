/* cli: shared option parsing and error printing for the commands. */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "tiers_spec.h"
#include "units.h"

int cli_bad_input(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "clustersim %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    return CLI_BAD_INPUT;
}

int cli_bad_err(const char *cmd, const cs_err *err) { return cli_bad_input(cmd, "%s", err->msg); }

int cli_bad_option(const char *cmd, int argc, char **argv)
{
    extern int optind;
    const char *arg = (optind - 1 >= 0 && optind - 1 < argc) ? argv[optind - 1] : "?";
    return cli_bad_input(cmd, "bad or incomplete option '%s'; see 'clustersim %s --help'", arg,
                         cmd);
}

int cli_parse_all(const char *cmd, const char *opt, const char *text, int *out)
{
    if (strcmp(text, "all") != 0)
        return cli_bad_input(cmd, "%s: '%s' is not 'all'", opt, text);
    *out = 1;
    return CLI_OK;
}

int cli_parse_format(const char *cmd, const char *text, cli_format *out)
{
    if (strcmp(text, "table") == 0)
        *out = CLI_TABLE;
    else if (strcmp(text, "csv") == 0)
        *out = CLI_CSV;
    else
        return cli_bad_input(cmd, "--format: '%s' is not a format; valid: table, csv", text);
    return CLI_OK;
}

int cli_parse_int(const char *cmd, const char *opt, const char *text, long min, long max,
                  long *out)
{
    cs_err err;
    return units_parse_int(text, opt, min, max, out, &err) == 0 ? CLI_OK : cli_bad_err(cmd, &err);
}

int cli_parse_size(const char *cmd, const char *opt, const char *text, uint64_t *out)
{
    cs_err err;
    return units_parse_size(text, opt, out, &err) == 0 ? CLI_OK : cli_bad_err(cmd, &err);
}

int cli_parse_positive(const char *cmd, const char *opt, const char *text, double *out)
{
    cs_err err;
    return units_parse_positive(text, opt, 0, out, &err) == 0 ? CLI_OK
                                                               : cli_bad_err(cmd, &err);
}

int cli_parse_nonnegative(const char *cmd, const char *opt, const char *text, double *out)
{
    cs_err err;
    return units_parse_positive(text, opt, 1, out, &err) == 0 ? CLI_OK
                                                               : cli_bad_err(cmd, &err);
}

/* An option getopt_long refused (it prints nothing itself): one line that
 * says which and why, unknown ('?') or without its value (':'). */
static int refused_option(const char *cmd, int c, int argc, char **argv)
{
    const char *arg = optind - 1 >= 1 && optind - 1 < argc ? argv[optind - 1] : "?";
    if (c == ':')
        return cli_bad_input(cmd, "option '%s' needs a value; see 'clustersim %s --help'", arg,
                             cmd);
    return cli_bad_input(cmd, "unknown or ambiguous option '%s'; see 'clustersim %s --help'", arg,
                         cmd);
}

/* The options that add one more of something each time (a failure class, a
 * straggler, a readable folder); any other given twice is refused rather
 * than silently taking the last. */
static int repeatable(const char *name)
{
    static const char *const names[] = {"rate", "slow", "allow-read"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

int cli_getopt_each(const char *cmd, int argc, char **argv, const struct option *opts,
                    const cli_args *args, cli_option_fn fn, void *ctx)
{
    static const cli_args none = {0};
    if (!args)
        args = &none;
    int c, rc, index;
    unsigned char seen[256] = {0};
    optind = 1;
    opterr = 0;
    /* "+": stop at the first positional instead of moving it to the end;
     * ":": a missing value comes back as ':', apart from an unknown option */
    while ((index = -1, c = getopt_long(argc, argv, args->in_order ? "+:" : ":", opts, &index)) != -1) {
        if (c == '?' || c == ':')
            return refused_option(cmd, c, argc, argv);
        if (index >= 0 && index < 256 && seen[index]++ && !repeatable(opts[index].name))
            return cli_bad_input(cmd, "option '--%s' given twice: give it once", opts[index].name);
        if ((rc = fn(c, optarg, ctx)))
            return rc;
    }
    if (args->first)
        *args->first = optind;
    else if (optind < argc)
        return cli_bad_input(cmd, "unexpected argument '%s'%s", argv[optind],
                             args->hint ? args->hint : "");
    return CLI_OK;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

int cli_build_topo(const char *cmd, const char *name, long nodes, sys_system *sys, topo **t)
{
    cs_err err;
    /* NAME or NAME:nvme=N (tiers_spec.h), so a drive-sweep row reruns by hand */
    if (sys_from_spec(name, (int)nodes, sys, &err) != 0 || topo_build(sys, t, &err) != 0)
        return cli_bad_err(cmd, &err);
    return CLI_OK;
}

int cli_build_job(const char *cmd, const char *name, long gpus, long nodes, sys_system *sys,
                  topo **t, long *job_gpus)
{
    cs_err err;
    if (sys_from_spec(name, 1, sys, &err) != 0)
        return cli_bad_err(cmd, &err);
    long per_node = sys->groups[0].node.gpus;
    *job_gpus = gpus ? gpus : nodes * per_node;
    if (gpus && nodes && gpus > nodes * per_node)
        return cli_bad_input(cmd, "--gpus %ld is more than --nodes %ld x %ld GPUs per node", gpus,
                             nodes, per_node);
    return cli_build_topo(cmd, name, nodes ? nodes : (*job_gpus + per_node - 1) / per_node, sys, t);
}

double cli_peak_rss_bytes(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss * 1024.0; /* Linux reports kilobytes */
}

void cli_progress(const char *what, const char *units, long done, long total, double started_s)
{
    static double last_s;
    static int tty = -1;
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    double now = cli_wall_s();
    if (!tty || total <= 0 || (done < total && now - last_s < 0.25))
        return;
    last_s = now;
    if (done >= total) {
        fputs("\r\033[K", stderr);
    } else {
        double elapsed = now - started_s, rate = elapsed > 0 ? (double)done / elapsed : 0;
        fprintf(stderr, "\r%s: %ld/%ld %s, %.1f s, about %.0f s left ", what, done, total, units,
                elapsed, rate > 0 ? (double)(total - done) / rate : 0);
    }
    fflush(stderr);
}

double cli_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A file can go to path only if its folder is a folder or can be made:
 * checked before the search, so a bad path costs no time. */
int cli_check_out_path(const char *cmd, const char *opt, const char *path)
{
    if (!path)
        return CLI_OK;
    const char *slash = strrchr(path, '/');
    if (!*path || (slash && !slash[1]))
        return cli_bad_input(cmd, "%s: '%s' names no file", opt, path);
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    struct stat st;
    if (*dir && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return cli_bad_input(cmd, "%s: '%s' is a file, not a folder", opt, dir);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cli_bad_input(cmd, "%s: '%s' is a folder; give a file name to write", opt, path);
    return CLI_OK;
}

int cli_finish_files(report_set *files, int rc, cs_err *err)
{
    if (rc == 0)
        rc = report_commit(files, err);
    for (int i = 0; rc == 0 && i < report_count(files); i++)
        fprintf(stderr, "wrote %s\n", report_path(files, i));
    if (rc != 0)
        report_abort(files);
    report_free(files);
    return rc;
}
