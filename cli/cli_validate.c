/* cli_validate: `clustersim validate STUDY`: published training throughput
 * against the simulator, row by row, with the error and the assumptions the
 * source leaves open.  Owns the command: its flags, the studies' list, the
 * loop over a reference file's rows and the printed comparison; each study
 * (its columns, assumptions and row-to-layout mapping) is in its own
 * cli_validate_*.c (cli_validate_private.h). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_validate_private.h"
#include "csvread.h"

#define CMD "validate"

#ifndef CS_VALIDATE_DIR
#define CS_VALIDATE_DIR "validate"
#endif

/* In the order `validate --help` lists them. */
static const val_study *const studies[] = {&val_megatron2021, &val_megatron2019, &val_offload,
                                           &val_llama3,       &val_moe,          &val_zb};
#define NSTUDIES ((int)(sizeof studies / sizeof studies[0]))

/* The header first (the study's columns, in order), then each data row
 * through the study's reader. */
static int on_csv_row(void *ctx, int line, char **f, int n, cs_err *err)
{
    val_run *run = ctx;
    const val_study *st = run->study;
    if (!run->header_seen) {
        for (int i = 0; i < st->ncolumns; i++)
            if (i >= n || strcmp(f[i], st->columns[i]) != 0)
                return cs_fail(err, "line %d: column %d should be '%s' (found '%s')", line, i + 1,
                               st->columns[i], i < n ? f[i] : "nothing");
        run->header_seen = 1;
        return 0;
    }
    if (n < st->ncolumns)
        return cs_fail(err, "line %d: %d fields, expected %d", line, n, st->ncolumns);
    return st->row(run, line, f, err);
}

/* ---- output ------------------------------------------------------------------ */

typedef struct val_summary {
    double mae_pct, max_abs_pct, wall_s;
    int within10;
} val_summary;

static val_summary summarize(val_run *run)
{
    val_summary s = {0};
    for (int i = 0; i < run->n; i++) {
        val_row *r = &run->rows[i];
        r->error_pct = 100 * (r->predicted - r->published) / r->published;
        s.mae_pct += fabs(r->error_pct) / run->n;
        s.max_abs_pct = fmax(s.max_abs_pct, fabs(r->error_pct));
        s.within10 += fabs(r->error_pct) <= 10;
        s.wall_s += r->wall_s;
    }
    return s;
}

static void print_csv(const val_run *run)
{
    printf("model,gpus,tp,pp,dp,microbatches,iteration_s,published,predicted,error_percent,fits,"
           "wall_s,stage,compute_s,recompute_s,tp_exposed_s,pp_s,dp_exposed_s,bubble_s,"
           "optimizer_s\n");
    for (int i = 0; i < run->n; i++) {
        const val_row *r = &run->rows[i];
        const estimate_stage *e = &r->terms;
        printf("%s,%d,%d,%d,%d,%d,%.6f,%.4g,%.4g,%.2f,%s,%.4f,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,"
               "%.6f\n",
               r->label, r->gpus, r->tp, r->pp, r->dp, r->microbatches, r->iteration_s,
               r->published, r->predicted, r->error_pct, r->fits ? "true" : "false", r->wall_s,
               r->stage, e->compute_s, e->recompute_s, e->tp_comm_s, e->p2p_s, e->dp_exposed_s,
               e->bubble_s, e->optimizer_s);
    }
}

static void print_table(const val_run *run, const val_summary *s)
{
    const val_study *st = run->study;
    printf("%s: %s (%s), published against %s (%s)\n\nassumptions:\n%s\n\n", st->name,
           st->metric, st->unit, run->o->analytic ? "closed form" : "simulated", st->file,
           st->assumptions);
    int w = 18; /* the longest label, so that the columns stay aligned */
    for (int i = 0; i < run->n; i++)
        w = (int)strlen(run->rows[i].label) > w ? (int)strlen(run->rows[i].label) : w;
    printf("%-*s %5s %3s %3s %4s %5s %11s %10s %10s %8s %5s %8s\n", w, "model", "gpus", "tp",
           "pp", "dp", "mb", "iteration_s", "published", "predicted", "error_%", "fits",
           "wall_ms");
    for (int i = 0; i < run->n; i++) {
        const val_row *r = &run->rows[i];
        printf("%-*s %5d %3d %3d %4d %5d %11.3f %10.1f %10.1f %+8.1f %5s %8.1f\n", w, r->label,
               r->gpus, r->tp, r->pp, r->dp, r->microbatches, r->iteration_s, r->published,
               r->predicted, r->error_pct, r->fits ? "yes" : "NO", r->wall_s * 1e3);
    }
    printf("\n%d rows: mean absolute error %.1f%%, largest %.1f%%, %d of %d within 10%%\n",
           run->n, s->mae_pct, s->max_abs_pct, s->within10, run->n);
    printf("%s all %d rows in %.2f s wall\n", run->o->analytic ? "estimated" : "simulated",
           run->n, s->wall_s);
}

static void validate_help(void)
{
    printf("usage: clustersim validate STUDY [--mode sim|analytic] [--mbs M]\n"
           "                           [--reference FILE] [--format table|csv]\n\n"
           "Runs every row of a published table through the simulator and prints the\n"
           "published and predicted figures with the error, the assumptions the table\n"
           "leaves open, and the wall time.  Studies:\n");
    for (int i = 0; i < NSTUDIES; i++)
        printf("  %-14s %s (%s)\n", studies[i]->name, studies[i]->metric, studies[i]->file);
    printf("\n  --mode M         sim (default) or analytic (closed form)\n"
           "  --mbs M          microbatch size for every megatron2021 row (default: each\n"
           "                   row's, from the authors' examples/sc21 script)\n"
           "  --reference F    the table to read (default: the copy in %s/)\n"
           "  --format F       table (default) or csv\n"
           "clustersim validate kernels MEASUREMENTS.csv --profile P.lua: the calibrated\n"
           "device model against kernel measurements (see 'clustersim validate kernels --help').\n",
           CS_VALIDATE_DIR);
}

static int parse_one(int c, const char *arg, void *ctx)
{
    val_opts *o = ctx;
    if (c == 'm' && strcmp(arg, "sim") != 0 && strcmp(arg, "analytic") != 0)
        return cli_bad_input(CMD, "--mode: '%s' is not one of sim, analytic", arg);
    if (c == 'm')
        o->analytic = strcmp(arg, "analytic") == 0;
    else if (c == 'b')
        return cli_parse_int(CMD, "--mbs", arg, 1, 4096, &o->mbs);
    else if (c == 'r')
        o->reference = arg;
    else
        return cli_parse_format(CMD, arg, &o->fmt);
    return CLI_OK;
}

static int parse_opts(int argc, char **argv, val_opts *o, const val_study **st)
{
    static const struct option opts[] = {{"mode", required_argument, 0, 'm'},
                                         {"mbs", required_argument, 0, 'b'},
                                         {"reference", required_argument, 0, 'r'},
                                         {"format", required_argument, 0, 'f'},
                                         {0, 0, 0, 0}};
    *o = (val_opts){NULL, 0, 0, CLI_TABLE};
    int first, rc;
    const cli_args args = {.first = &first};
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, &args, parse_one, o)))
        return rc;
    if (first + 1 != argc)
        return cli_bad_input(CMD, "name one study: megatron2021, megatron2019, offload, llama3, moe or zb");
    for (int i = 0; i < NSTUDIES; i++)
        if (strcmp(argv[first], studies[i]->name) == 0)
            *st = studies[i];
    if (!*st)
        return cli_bad_input(CMD, "unknown study '%s'; studies: megatron2021, megatron2019, offload, llama3, moe, zb",
                             argv[first]);
    return CLI_OK;
}

int cmd_validate(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "kernels") == 0)
        return cmd_validate_kernels(argc - 1, argv + 1);
    if (cli_wants_help(argc, argv)) {
        validate_help();
        return CLI_OK;
    }
    val_opts o;
    const val_study *st = NULL;
    int rc;
    if ((rc = parse_opts(argc, argv, &o, &st)))
        return rc;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", CS_VALIDATE_DIR, st->file);
    val_run *run = calloc(1, sizeof *run);
    if (!run)
        abort();
    run->o = &o;
    run->study = st;
    cs_err err;
    if (csvread_file(o.reference ? o.reference : path, on_csv_row, run, &err) != 0) {
        free(run);
        return cli_bad_err(CMD, &err);
    }
    if (run->n == 0) {
        free(run);
        return cli_bad_input(CMD, "%s: no data rows", o.reference ? o.reference : path);
    }
    val_summary s = summarize(run);
    if (o.fmt == CLI_CSV)
        print_csv(run);
    else
        print_table(run, &s);
    free(run);
    return CLI_OK;
}
