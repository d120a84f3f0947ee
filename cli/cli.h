/* cli: what every clustersim command shares.
 *
 * Owns exit statuses, the error printer, option parsing helpers that turn a
 * bad value into a message naming the option, and the system/group options
 * (--system, --nodes, --gpus) that many commands take.  Only this layer
 * prints errors and chooses exit statuses. */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "cs_error.h"
#include "system.h"
#include "topo.h"

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_BAD_INPUT = 2 };

typedef enum cli_format { CLI_TABLE, CLI_CSV } cli_format;

/* Prints "clustersim CMD: message" to stderr and returns CLI_BAD_INPUT. */
int cli_bad_input(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_bad_err(const char *cmd, const cs_err *err);

/* Reports an unknown option or missing value as getopt_long saw it. */
int cli_bad_option(const char *cmd, int argc, char **argv);

int cli_parse_format(const char *cmd, const char *text, cli_format *out);
/* An option whose one value is 'all' (--stages all, --ranks all): sets *out. */
int cli_parse_all(const char *cmd, const char *opt, const char *text, int *out);
int cli_parse_int(const char *cmd, const char *opt, const char *text, long min, long max,
                  long *out);
int cli_parse_size(const char *cmd, const char *opt, const char *text, uint64_t *out);
int cli_parse_positive(const char *cmd, const char *opt, const char *text, double *out);
int cli_parse_nonnegative(const char *cmd, const char *opt, const char *text, double *out);

/* What a command takes besides its options.  NULL (or every field 0): no
 * positional argument.  The other fields keep each command's messages as
 * its users know them. */
typedef struct cli_args {
    int *first;       /* positional arguments allowed: set to the index of the first
                         (argc when none); the command checks how many */
    int in_order;     /* stop at the first positional: the rest is its own (run's script) */
    const char *hint; /* after "unexpected argument 'X'" (e.g. "; see --help") */
} cli_args;

/* Runs getopt_long over argv (options from argv[1]) and hands each option to
 * fn(c, optarg, ctx), stopping at the first non-zero status it returns; an
 * unknown option, one without its value, or a stray argument where args
 * allows none, is an error naming it (one line: getopt prints nothing).  The one option loop of every command.  Returns CLI_OK or the
 * exit status. */
typedef int (*cli_option_fn)(int c, const char *arg, void *ctx);
struct option;
int cli_getopt_each(const char *cmd, int argc, char **argv, const struct option *opts,
                    const cli_args *args, cli_option_fn fn, void *ctx);

/* True when argv holds -h or --help (checked before any other parsing). */
int cli_wants_help(int argc, char **argv);

/* Builds system `name` with `nodes` nodes and its topology. */
int cli_build_topo(const char *cmd, const char *name, long nodes, sys_system *sys, topo **t);

/* The job's GPUs (--gpus, or --nodes whole nodes) and the topology of the
 * nodes holding them (--nodes, or as many as the GPUs need). */
int cli_build_job(const char *cmd, const char *name, long gpus, long nodes, sys_system *sys,
                  topo **t, long *job_gpus);

/* Checks, before any work, that a file can be written at path (NULL: not
 * asked for): it names a file, and its folder is not a file. */
int cli_check_out_path(const char *cmd, const char *opt, const char *path);

/* Ends a run's staged files: on rc 0 commits them and says on stderr what
 * was written, else removes them; frees the set.  Returns the status. */
struct report_set;
int cli_finish_files(struct report_set *files, int rc, cs_err *err);

/* Peak resident memory of this process in bytes (getrusage). */
double cli_peak_rss_bytes(void);
double cli_wall_s(void);

/* "what: done/total units, N s, about M s left" on standard error when it
 * is a terminal, at most four times a second; cleared when done == total.
 * started_s: cli_wall_s() when the work began. */
void cli_progress(const char *what, const char *units, long done, long total, double started_s);

/* Subcommands. */
int cmd_system(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_collective(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_estimate(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_faults(int argc, char **argv);
int cmd_stragglers(int argc, char **argv);
int cmd_place(int argc, char **argv);
int cmd_bench_place(int argc, char **argv); /* `bench place` */
int cmd_bench_search(int argc, char **argv); /* `bench search` */
int cmd_bench_faults(int argc, char **argv); /* `bench faults` */
int cmd_bench_sweep(int argc, char **argv); /* `bench sweep` */
int cmd_bench_scale(int argc, char **argv); /* `bench scale` */
int cmd_calibrate(int argc, char **argv);
int cmd_topology(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_validate_kernels(int argc, char **argv); /* `validate kernels` */

#endif
