/* cli_estimate: `clustersim estimate`: one model, system and layout; the
 * iteration time, throughput, MFU, memory verdict and per-stage breakdown,
 * simulated on the engine or from the closed form. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_modelopt.h"
#include "estimate_print.h"
#include "timeline_report.h"
#include "trainsim.h"

#define CMD "estimate"

static void estimate_help(void)
{
    printf(
        "usage: clustersim estimate --system NAME (--gpus N | --nodes N)\n"
        "         (--model NAME | shape flags) --tp T --pp P [--dp D] [--vpp V]\n"
        "         --mbs M --gbs G [--schedule gpipe|1f1b|interleaved] [--sp]\n"
        "         [--recompute none|selective|full] [--zero 0|1] [--seq S]\n"
        "         [--dtype fp16|bf16|fp8] [--attention flash|unfused]\n"
        "         [--mode sim|analytic] [--ranks folded|all] [--stages all]\n"
        "         [--format table|csv] [--out DIR]\n\n"
        "One training iteration of the layout: time, tokens/s, model and hardware\n"
        "TFLOP/s per GPU, MFU and HFU, peak memory per GPU with a fits verdict, and\n"
        "where each pipeline stage's time went.  A layout that does not fit memory is\n"
        "still estimated (fits false, exit 0); an invalid layout is an error (exit 2).\n\n"
        "  --system NAME       built-in system (see 'clustersim system')\n"
        "  --gpus N            GPUs the job uses (tp x pp x dp); --nodes N: whole nodes\n"
        "  --model NAME        built-in model (see 'clustersim model'), or shape flags:\n");
    cli_modelopt_help();
    printf(
        "  --tp, --pp, --dp    tensor, pipeline, data parallelism (dp default: GPUs/(tp pp))\n"
        "  --vpp V             model chunks per pipeline rank (interleaved schedule)\n"
        "  --mbs, --gbs        microbatch and global batch, in sequences\n"
        "  --schedule S        default: interleaved when --vpp > 1, else 1f1b\n"
        "  --sp                Megatron sequence parallelism\n"
        "  --recompute R       activation recomputation (default none)\n"
        "  --zero 0|1          1: distributed optimizer (optimizer state sharded over dp)\n"
        "  --allow-tp-across-nodes  let a tensor-parallel group span nodes\n"
        "  --attention A       flash (fused, default) or unfused (Megatron-LM 2021's kernels)\n"
        "  --mode M            sim: simulate on the engine (default); analytic: closed form\n"
        "  --ranks R           folded: one GPU per stage stands for its replicas (default);\n"
        "                      all: simulate every GPU\n"
        "  --stages all        print every stage (default: at most 16)\n"
        "  --format F          table (default) or csv (one header line, one row)\n"
        "  --out DIR           also write DIR/timeline.json (Chrome trace: open it in\n"
        "                      ui.perfetto.dev), DIR/schedule.svg and DIR/memory.svg (sim mode)\n"
        "Rank mapping: gpu = tp_rank + tp * (dp_rank + dp * pp_rank).  Formulas and columns:\n"
        "docs/estimate.md.\n");
}

typedef struct est_opts {
    const char *system, *model, *out_dir;
    long gpus, nodes;
    long tp, pp, dp, vpp, mbs, gbs, zero;
    int sp, analytic, all_ranks, all_stages, unfused, has_schedule, has_recompute, tp_across;
    layout_schedule schedule;
    layout_recompute recompute;
    cli_format fmt;
    model_flags mf;
} est_opts;

enum { O_SYSTEM = 1, O_GPUS, O_NODES, O_MODEL, O_TP, O_PP, O_DP, O_VPP, O_MBS, O_GBS,
       O_SCHEDULE, O_SP, O_RECOMPUTE, O_ZERO, O_ATTN, O_MODE, O_RANKS, O_STAGES, O_FORMAT, O_TP_ACROSS, O_OUT };

static int parse_choice(const char *opt, const char *text, const char *a, const char *b,
                        int *is_b)
{
    if (strcmp(text, a) == 0 || strcmp(text, b) == 0) {
        *is_b = strcmp(text, b) == 0;
        return CLI_OK;
    }
    return cli_bad_input(CMD, "%s: '%s' is not one of %s, %s", opt, text, a, b);
}

static int parse_one(int c, const char *arg, est_opts *o)
{
    cs_err err;
    switch (c) {
    case O_SYSTEM: o->system = arg; return CLI_OK;
    case O_MODEL: o->model = arg; return CLI_OK;
    case O_GPUS: return cli_parse_int(CMD, "--gpus", arg, 1, 1 << 24, &o->gpus);
    case O_NODES: return cli_parse_int(CMD, "--nodes", arg, 1, 1 << 20, &o->nodes);
    case O_TP: return cli_parse_int(CMD, "--tp", arg, 1, 1 << 16, &o->tp);
    case O_PP: return cli_parse_int(CMD, "--pp", arg, 1, 1 << 16, &o->pp);
    case O_DP: return cli_parse_int(CMD, "--dp", arg, 1, 1 << 24, &o->dp);
    case O_VPP: return cli_parse_int(CMD, "--vpp", arg, 1, 1 << 10, &o->vpp);
    case O_MBS: return cli_parse_int(CMD, "--mbs", arg, 1, 1 << 20, &o->mbs);
    case O_GBS: return cli_parse_int(CMD, "--gbs", arg, 1, 1 << 28, &o->gbs);
    case O_ZERO: return cli_parse_int(CMD, "--zero", arg, 0, 1, &o->zero);
    case O_SP: o->sp = 1; return CLI_OK;
    case O_TP_ACROSS: o->tp_across = 1; return CLI_OK;
    case O_SCHEDULE:
        o->has_schedule = 1;
        return layout_schedule_parse(arg, "--schedule", &o->schedule, &err) ? cli_bad_err(CMD, &err)
                                                                              : CLI_OK;
    case O_RECOMPUTE:
        o->has_recompute = 1;
        return layout_recompute_parse(arg, "--recompute", &o->recompute, &err)
                   ? cli_bad_err(CMD, &err) : CLI_OK;
    case O_ATTN: return parse_choice("--attention", arg, "flash", "unfused", &o->unfused);
    case O_MODE: return parse_choice("--mode", arg, "sim", "analytic", &o->analytic);
    case O_RANKS: return parse_choice("--ranks", arg, "folded", "all", &o->all_ranks);
    case O_STAGES:
        if (strcmp(arg, "all") != 0)
            return cli_bad_input(CMD, "--stages: '%s' is not 'all'", arg);
        o->all_stages = 1;
        return CLI_OK;
    case O_FORMAT: return cli_parse_format(CMD, arg, &o->fmt);
    case O_OUT: o->out_dir = arg; return CLI_OK;
    default: return cli_modelopt_parse(CMD, c, arg, &o->mf);
    }
}

static int parse_opts(int argc, char **argv, est_opts *o)
{
    static const struct option own[] = {
        {"system", required_argument, 0, O_SYSTEM}, {"gpus", required_argument, 0, O_GPUS},
        {"nodes", required_argument, 0, O_NODES},   {"model", required_argument, 0, O_MODEL},
        {"tp", required_argument, 0, O_TP},         {"pp", required_argument, 0, O_PP},
        {"dp", required_argument, 0, O_DP},         {"vpp", required_argument, 0, O_VPP},
        {"mbs", required_argument, 0, O_MBS},       {"gbs", required_argument, 0, O_GBS},
        {"schedule", required_argument, 0, O_SCHEDULE}, {"sp", no_argument, 0, O_SP},
        {"recompute", required_argument, 0, O_RECOMPUTE},
        {"zero", required_argument, 0, O_ZERO},     {"attention", required_argument, 0, O_ATTN},
        {"mode", required_argument, 0, O_MODE},     {"ranks", required_argument, 0, O_RANKS},
        {"stages", required_argument, 0, O_STAGES}, {"format", required_argument, 0, O_FORMAT},
        {"allow-tp-across-nodes", no_argument, 0, O_TP_ACROSS},
        {"out", required_argument, 0, O_OUT},
    };
    enum { NOWN = sizeof own / sizeof own[0] };
    struct option opts[NOWN + CLI_MODELOPT_COUNT + 1];
    memcpy(opts, own, sizeof own);
    memcpy(opts + NOWN, cli_modelopt_options, sizeof cli_modelopt_options);
    opts[NOWN + CLI_MODELOPT_COUNT] = (struct option){0, 0, 0, 0};
    memset(o, 0, sizeof *o);
    o->tp = o->pp = o->vpp = 1;
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == '?')
            return cli_bad_option(CMD, argc, argv);
        if ((rc = parse_one(c, optarg, o)))
            return rc;
    }
    if (optind < argc)
        return cli_bad_input(CMD, "unexpected argument '%s'", argv[optind]);
    if (!o->system)
        return cli_bad_input(CMD, "--system is required (see 'clustersim system')");
    if (!o->gpus && !o->nodes)
        return cli_bad_input(CMD, "give --gpus N or --nodes N");
    if (!o->mbs || !o->gbs)
        return cli_bad_input(CMD, "--mbs and --gbs are required");
    if (o->out_dir && o->analytic)
        return cli_bad_input(CMD, "--out writes the simulated timeline; drop --mode analytic");
    if (!o->model && !cli_modelopt_any_shape(&o->mf))
        return cli_bad_input(CMD, "give --model NAME (see 'clustersim model') or shape flags");
    return CLI_OK;
}

static void fill_layout(const est_opts *o, const model_desc *m, long gpus, layout_desc *l)
{
    layout_init(l, m);
    l->tp = (int)o->tp;
    l->pp = (int)o->pp;
    l->dp = o->dp ? (int)o->dp : (int)(gpus / (o->tp * o->pp) > 0 ? gpus / (o->tp * o->pp) : 1);
    l->vpp = (int)o->vpp;
    l->mbs = (int)o->mbs;
    l->gbs = (int)o->gbs;
    l->sp = o->sp;
    l->zero = (int)o->zero;
    l->recompute = o->has_recompute ? o->recompute : LAYOUT_RECOMPUTE_NONE;
    l->schedule = o->has_schedule ? o->schedule
                  : o->vpp > 1    ? LAYOUT_SCHEDULE_INTERLEAVED
                                  : LAYOUT_SCHEDULE_1F1B;
    l->flash_attention = !o->unfused;
    l->allow_tp_across_nodes = o->tp_across;
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
    if (rc == 0)
        rc = report_commit(files, err);
    for (int i = 0; rc == 0 && i < report_count(files); i++)
        fprintf(stderr, "wrote %s\n", report_path(files, i));
    if (rc != 0)
        report_abort(files);
    report_free(files);
    timeline_free(&tl);
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
    model_desc m;
    if ((rc = cli_modelopt_resolve(CMD, o.model, &o.mf, &m)))
        return rc;
    sys_system sys;
    topo *t = NULL;
    long gpus = 0;
    if ((rc = cli_build_job(CMD, o.system, o.gpus, o.nodes, &sys, &t, &gpus)))
        return rc;
    layout_desc l;
    fill_layout(&o, &m, gpus, &l);
    opcost_eff eff;
    opcost_eff_default(&eff);
    estimate_input in = {&m, &l, t, (int)gpus, &eff};
    estimate_result r;
    cs_err err;
    trainsim_mode tm = o.all_ranks ? TRAINSIM_ALL_RANKS : TRAINSIM_FOLDED;
    if (o.analytic)
        rc = estimate_analytic(&in, &r, &err);
    else if (o.out_dir)
        rc = simulate_to_files(&in, tm, o.out_dir, &r, &err);
    else
        rc = trainsim_run(&in, tm, &r, NULL, &err);
    if (rc == 0) {
        estimate_label lab = {o.system, o.analytic ? "analytic" : o.all_ranks ? "sim-all-ranks" : "sim",
                              gpus};
        if (o.fmt == CLI_CSV) {
            estimate_print_csv_header(stdout);
            estimate_print_csv_row(stdout, &in, &lab, &r);
        } else {
            estimate_print_table(stdout, &in, &lab, &r, o.all_stages ? 1 << 30 : 16);
        }
    }
    estimate_result_free(&r);
    topo_free(t);
    return rc == 0 ? CLI_OK : cli_bad_err(CMD, &err);
}
