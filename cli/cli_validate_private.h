/* cli_validate_private: what `clustersim validate` (cli_validate.c: the
 * command, its flags, the row loop and the printing) shares with its
 * studies (cli_validate_megatron.c, _offload.c, _llama3.c, _moe.c, _zb.c:
 * each study's columns, assumptions and row-to-layout mapping) and with
 * the row helpers (cli_validate_row.c: fields to numbers, one layout run
 * into the next row).  Private to cli/cli_validate*.c. */
#ifndef CS_CLI_VALIDATE_PRIVATE_H
#define CS_CLI_VALIDATE_PRIVATE_H

#include "cli.h"
#include "cs_error.h"
#include "estimate.h"

typedef struct val_opts {
    const char *reference;
    int analytic;
    long mbs; /* 0: each row's own (megatron2021: the authors' script) */
    cli_format fmt;
} val_opts;

/* One compared row. */
typedef struct val_row {
    char label[64];
    int gpus, tp, pp, dp, microbatches, fits;
    double published, predicted, error_pct, iteration_s, wall_s;
    int stage;      /* the stage the terms are read from (the busiest) */
    estimate_stage terms;
} val_row;

typedef struct val_study val_study;

typedef struct val_run {
    const val_opts *o;
    const val_study *study;
    val_row rows[64];
    int n;
    int header_seen;
} val_run;

/* A published table: its file in validate/, what it compares, the header
 * the file must have, what the source leaves open, and how one data row
 * becomes a compared row (appended to run; errors name the line). */
struct val_study {
    const char *name, *file, *metric, *unit;
    const char *const *columns; /* the header the file must have */
    int ncolumns;
    const char *assumptions;
    int (*row)(val_run *run, int line, char **f, cs_err *err);
};

/* The studies, each defined in its cli_validate_*.c (cli_validate.c lists
 * them in the order of `validate --help`). */
extern const val_study val_megatron2021, val_megatron2019, val_offload, val_llama3, val_moe,
    val_zb;

/* ---- row helpers (cli_validate_row.c) ------------------------------------- */

/* Field i of line as a number; a message naming line and column if not. */
int val_field_num(char **f, int i, int line, double *out, cs_err *err);

/* The largest count a table's integer column may hold (GPUs, parallel
 * degrees, layers, batches): beyond any published run, and small enough
 * that their products stay in an int's range. */
#define VAL_MAX_COUNT (1 << 24)

/* Field i as a whole number from lo to hi, or a message naming line and
 * column (a table's integers are read this way before any cast to int). */
int val_int_at(char **f, int i, int line, int lo, int hi, double *out, cs_err *err);

/* Field i as a count: a whole number from 1 to VAL_MAX_COUNT. */
int val_count_at(char **f, int i, int line, double *out, cs_err *err);

/* The row's GPUs split whole into tp x pp groups (counts, checked in doubles
 * before any int product), or a message naming the line. */
int val_gpus_split(int line, double gpus, double tp, double pp, cs_err *err);

/* Fields column[0 .. n-1] as counts, into out[0 .. n-1]. */
int val_counts_at(char **f, const int *column, int n, int line, double *out, cs_err *err);

/* Fields 0 .. n-1 as numbers. */
int val_fields_num(char **f, int n, int line, double *out, cs_err *err);

/* Fields column[0 .. n-1] as numbers, into out[0 .. n-1]. */
int val_fields_at(char **f, const int *column, int n, int line, double *out, cs_err *err);

/* One layout of a row to run: on `nodes` nodes of `system`; name goes into
 * the error's "line N (NAME): " and is the row's label; row holds what the
 * study fills before the run (its GPUs, tp, pp, dp, the published figure). */
typedef struct val_job {
    int line;
    const char *name, *system;
    int nodes;
    const model_desc *m;
    const layout_desc *l;
    val_row row;
} val_job;

/* Simulates (or, with --mode analytic, estimates) the job into the run's
 * next row: job->row with the layout's microbatches, the fit, the
 * iteration, the wall time, the busiest stage's terms and the label (the
 * name) added; a study may write its own label or microbatches.  The study sets the row's
 * predicted figure from res and frees res; NULL (nothing to free) on an
 * error, whose message names the line. */
val_row *val_run_job(val_run *run, const val_job *job, estimate_result *res, cs_err *err);

#endif
