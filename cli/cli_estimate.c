/* cli_estimate: `clustersim estimate`: one model, system and layout; the
 * iteration time, throughput, MFU, memory verdict and per-stage breakdown,
 * simulated on the engine or from the closed form. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "chakra_export.h"
#include "cli_layoutopt.h"
#include "estimate_print.h"
#include "timeline_report.h"
#include "trainsim.h"

#define CMD "estimate"

static void estimate_help(void)
{
    printf(
        "usage: clustersim estimate --system NAME (--gpus N | --nodes N)\n"
        "         (--model NAME | shape flags) --tp T --pp P [--dp D] [--vpp V]\n"
        "         --mbs M --gbs G [--schedule NAME] [--sp]\n"
        "         [--recompute none|selective|full] [--zero 0|1|2|3] [--fsdp] [--seq S]\n"
        "         [--dtype fp16|bf16|fp8] [--attention flash|unfused]\n"
        "         [--mode sim|analytic] [--ranks folded|all] [--stages all]\n"
        "         [--format table|csv] [--out DIR] [--chakra-out DIR]\n\n"
        "One training iteration of the layout: time, tokens/s, model and hardware\n"
        "TFLOP/s per GPU, MFU and HFU, peak memory per GPU with a fits verdict, and\n"
        "where each pipeline stage's time went.  A layout that does not fit memory is\n"
        "still estimated (fits false, exit 0); an invalid layout is an error (exit 2).\n\n");
    cli_layoutopt_help();
    printf(
        "  --mode M            sim: simulate on the engine (default); analytic: closed form\n"
        "  --ranks R           folded: one GPU per stage stands for its replicas (default);\n"
        "                      all: simulate every GPU\n"
        "  --stages all        print every stage (default: at most 16)\n"
        "  --format F          table (default) or csv (one header line, one row)\n"
        "  --out DIR           also write DIR/timeline.json (Chrome trace: open it in\n"
        "                      ui.perfetto.dev), DIR/schedule.svg and DIR/memory.svg (sim mode)\n"
        "  --chakra-out DIR    also write the iteration lowered with every rank as Chakra\n"
        "                      execution traces, DIR/iteration.R.et per rank, and\n"
        "                      DIR/comm_group.json (ASTRA-sim reads both; so does replay)\n"
        "Rank mapping: gpu = tp_rank + tp * (dp_rank + dp * pp_rank).  Formulas and columns:\n"
        "docs/estimate.md.\n");
}

typedef struct est_opts {
    const char *out_dir, *chakra_dir;
    int analytic, all_ranks, all_stages;
    cli_format fmt;
    layout_flags lf;
} est_opts;

enum { O_MODE = 1, O_RANKS, O_STAGES, O_FORMAT, O_OUT, O_CHAKRA_OUT };

static int parse_choice(const char *opt, const char *text, const char *a, const char *b,
                        int *is_b)
{
    if (strcmp(text, a) == 0 || strcmp(text, b) == 0) {
        *is_b = strcmp(text, b) == 0;
        return CLI_OK;
    }
    return cli_bad_input(CMD, "%s: '%s' is not one of %s, %s", opt, text, a, b);
}

static int parse_one(int c, const char *arg, void *ctx)
{
    est_opts *o = ctx;
    switch (c) {
    case O_MODE: return parse_choice("--mode", arg, "sim", "analytic", &o->analytic);
    case O_RANKS: return parse_choice("--ranks", arg, "folded", "all", &o->all_ranks);
    case O_STAGES: return cli_parse_all(CMD, "--stages", arg, &o->all_stages);
    case O_FORMAT: return cli_parse_format(CMD, arg, &o->fmt);
    case O_OUT: o->out_dir = arg; return CLI_OK;
    case O_CHAKRA_OUT: o->chakra_dir = arg; return CLI_OK;
    default: {
        int rc = cli_layoutopt_parse(CMD, c, arg, &o->lf);
        return rc < 0 ? cli_bad_option(CMD, 0, NULL) : rc;
    }
    }
}

static int parse_opts(int argc, char **argv, est_opts *o)
{
    static const struct option own[] = {
        {"mode", required_argument, 0, O_MODE},     {"ranks", required_argument, 0, O_RANKS},
        {"stages", required_argument, 0, O_STAGES}, {"format", required_argument, 0, O_FORMAT},
        {"out", required_argument, 0, O_OUT}, {"chakra-out", required_argument, 0, O_CHAKRA_OUT},
    };
    enum { NOWN = sizeof own / sizeof own[0] };
    struct option opts[CLI_LAYOUTOPT_TABLE(NOWN)];
    cli_layoutopt_table(opts, own, NOWN);
    memset(o, 0, sizeof *o);
    cli_layoutopt_init(&o->lf);
    int rc;
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, NULL, parse_one, o)))
        return rc;
    if ((rc = cli_layoutopt_check(CMD, &o->lf)))
        return rc;
    if (o->out_dir && o->analytic)
        return cli_bad_input(CMD, "--out writes the simulated timeline; drop --mode analytic");
    return CLI_OK;
}

/* Simulates and writes the timeline's three files into dir, staged: none
 * appears unless all were written. */
static int simulate_to_files(const estimate_input *in, trainsim_mode tm, const char *dir,
                             estimate_result *r, cs_err *err)
{
    timeline tl;
    report_set *files = report_new(dir);
    int rc = trainsim_record(in, tm, r, &tl, NULL, err);
    if (rc == 0)
        rc = timeline_report_all(files, "", &tl, err);
    rc = cli_finish_files(files, rc, err);
    timeline_free(&tl);
    return rc;
}

/* The lowered iteration as Chakra traces into dir, staged: no file appears
 * unless every rank's was written. */
static int write_chakra(const estimate_input *in, const char *dir, cs_err *err)
{
    report_set *files = report_new(dir);
    int rc = chakra_export_iteration(in, files, err);
    if (rc == 0)
        rc = report_commit(files, err);
    if (rc == 0)
        fprintf(stderr, "wrote %s/%s.0.et ... %s.%d.et and comm_group.json\n", dir,
                CHAKRA_EXPORT_PREFIX, CHAKRA_EXPORT_PREFIX, in->gpus - 1);
    else
        report_abort(files);
    report_free(files);
    return rc;
}

int cmd_estimate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        estimate_help();
        return CLI_OK;
    }
    est_opts o;
    int rc;
    if ((rc = parse_opts(argc, argv, &o)))
        return rc;
    cli_job job;
    if ((rc = cli_layoutopt_build(CMD, &o.lf, &job))) {
        cli_job_free(&job);
        return rc;
    }
    const estimate_input in = job.in;
    long gpus = job.gpus;
    estimate_result r;
    cs_err err;
    trainsim_mode tm = o.all_ranks ? TRAINSIM_ALL_RANKS : TRAINSIM_FOLDED;
    /* First the traces: a layout they cannot carry stops before --out writes. */
    if (o.chakra_dir && write_chakra(&in, o.chakra_dir, &err) != 0) {
        cli_job_free(&job);
        return cli_bad_err(CMD, &err);
    }
    if (o.analytic)
        rc = estimate_analytic(&in, &r, &err);
    else if (o.out_dir)
        rc = simulate_to_files(&in, tm, o.out_dir, &r, &err);
    else
        rc = trainsim_run(&in, tm, &r, NULL, &err);
    if (rc == 0) {
        estimate_label lab = {o.lf.system, o.analytic ? "analytic" : o.all_ranks ? "sim-all-ranks" : "sim",
                              gpus};
        if (o.fmt == CLI_CSV) {
            estimate_print_csv_header(stdout);
            estimate_print_csv_row(stdout, &in, &lab, &r);
        } else {
            estimate_print_table(stdout, &in, &lab, &r, o.all_stages ? 1 << 30 : 16);
        }
    }
    estimate_result_free(&r);
    cli_job_free(&job);
    return rc == 0 ? CLI_OK : cli_bad_err(CMD, &err);
}
