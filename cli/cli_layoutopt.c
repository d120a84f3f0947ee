/* cli_layoutopt: the job flags shared by commands (see cli_layoutopt.h). */
#include "cli_layoutopt.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "profile.h"

enum { O_SYSTEM = CLI_LAYOUTOPT_FIRST, O_GPUS, O_NODES, O_MODEL, O_TP, O_PP, O_DP, O_VPP, O_MBS,
       O_GBS, O_SCHEDULE, O_SP, O_RECOMPUTE, O_ZERO, O_ATTN, O_TP_ACROSS, O_DEVICE_PROFILE,
       O_FRAMEWORK, O_EP_FIRST /* six expert-parallel flags (cli_epopt.h) */ };

const struct option cli_layoutopt_options[CLI_LAYOUTOPT_COUNT] = {
    {"system", required_argument, 0, O_SYSTEM}, {"gpus", required_argument, 0, O_GPUS},
    {"nodes", required_argument, 0, O_NODES},   {"model", required_argument, 0, O_MODEL},
    {"tp", required_argument, 0, O_TP},         {"pp", required_argument, 0, O_PP},
    {"dp", required_argument, 0, O_DP},         {"vpp", required_argument, 0, O_VPP},
    {"mbs", required_argument, 0, O_MBS},       {"gbs", required_argument, 0, O_GBS},
    {"schedule", required_argument, 0, O_SCHEDULE}, {"sp", no_argument, 0, O_SP},
    {"recompute", required_argument, 0, O_RECOMPUTE},
    {"zero", required_argument, 0, O_ZERO},     {"attention", required_argument, 0, O_ATTN},
    {"allow-tp-across-nodes", no_argument, 0, O_TP_ACROSS},
    {"device-profile", required_argument, 0, O_DEVICE_PROFILE},
    {"framework", required_argument, 0, O_FRAMEWORK},
    {"ep", required_argument, 0, O_EP_FIRST},
    {"expert-tensor-parallel-size", required_argument, 0, O_EP_FIRST + 1},
    {"ep-a2a", required_argument, 0, O_EP_FIRST + 2},
    {"ep-overlap", no_argument, 0, O_EP_FIRST + 3},
    {"routing", required_argument, 0, O_EP_FIRST + 4},
    {"moe-expert-capacity-factor", required_argument, 0, O_EP_FIRST + 5},
};

void cli_layoutopt_init(layout_flags *f)
{
    memset(f, 0, sizeof *f);
    f->tp = f->pp = f->vpp = 1;
    cli_epopt_init(&f->ep);
}

void cli_layoutopt_table(struct option *dst, const struct option *own, int nown)
{
    memcpy(dst, own, (size_t)nown * sizeof *own);
    memcpy(dst + nown, cli_layoutopt_options, sizeof cli_layoutopt_options);
    memcpy(dst + nown + CLI_LAYOUTOPT_COUNT, cli_modelopt_options, sizeof cli_modelopt_options);
    dst[nown + CLI_LAYOUTOPT_COUNT + CLI_MODELOPT_COUNT] = (struct option){0, 0, 0, 0};
}

void cli_layoutopt_help(void)
{
    printf("  --system NAME       built-in system (see 'clustersim system')\n"
           "  --gpus N            GPUs the job uses (tp x pp x dp); --nodes N: whole nodes\n"
           "  --model NAME        built-in model (see 'clustersim model'), or shape flags:\n");
    cli_modelopt_help();
    printf("  --tp, --pp, --dp    tensor, pipeline, data parallelism (dp default: GPUs/(tp pp))\n"
           "  --vpp V             model chunks per pipeline rank (interleaved; 2 for the\n"
           "                      V-shapes zbv, v-half, v-min)\n"
           "  --mbs, --gbs        microbatch and global batch, in sequences\n"
           "  --schedule S        gpipe, 1f1b or interleaved (default: interleaved when\n"
           "                      --vpp > 1, else 1f1b); with the backward split into\n"
           "                      input (B) and weight (W) gradients: zb-h1, zb-h2,\n"
           "                      zb-auto (zero bubble), zbv, v-half, v-min (V-shape),\n"
           "                      dualpipe (bidirectional; see docs/estimate.md)\n"
           "  --sp                Megatron sequence parallelism\n"
           "  --recompute R       activation recomputation: none (default), selective, full\n"
           "  --zero 0|1          1: distributed optimizer (optimizer state sharded over dp)\n"
           "  --allow-tp-across-nodes  let a tensor-parallel group span nodes\n"
           "  --attention A       flash (fused, default) or unfused (Megatron-LM 2021's kernels)\n"
           "  --framework F       megatron-core (default), megatron-2019, -2021 or -2022: what\n"
           "                      overlaps, gradient accumulation and optimizer bytes of\n"
           "                      that version of the training code (docs/estimate.md)\n"
           "  --device-profile F  kernel, copy and in-node collective times from a profile\n"
           "                      'clustersim calibrate' fitted on the system's GPU (default:\n"
           "                      the built-in model; docs/calibration.md)\n");
    cli_epopt_help();
}

static int parse_attention(const char *cmd, const char *text, int *unfused)
{
    if (strcmp(text, "flash") != 0 && strcmp(text, "unfused") != 0)
        return cli_bad_input(cmd, "--attention: '%s' is not one of flash, unfused", text);
    *unfused = strcmp(text, "unfused") == 0;
    return CLI_OK;
}

static int parse_enum(const char *cmd, int c, const char *arg, layout_flags *f)
{
    cs_err err;
    int rc;
    if (c == O_FRAMEWORK) {
        rc = framework_parse(arg, "--framework", &f->framework, &err);
    } else if (c == O_SCHEDULE) {
        f->has_schedule = 1;
        rc = layout_schedule_parse(arg, "--schedule", &f->schedule, &err);
    } else {
        f->has_recompute = 1;
        rc = layout_recompute_parse(arg, "--recompute", &f->recompute, &err);
    }
    return rc ? cli_bad_err(cmd, &err) : CLI_OK;
}

int cli_layoutopt_parse(const char *cmd, int c, const char *arg, layout_flags *f)
{
    switch (c) {
    case O_SYSTEM: f->system = arg; return CLI_OK;
    case O_MODEL: f->model = arg; return CLI_OK;
    case O_GPUS: return cli_parse_int(cmd, "--gpus", arg, 1, 1 << 24, &f->gpus);
    case O_NODES: return cli_parse_int(cmd, "--nodes", arg, 1, 1 << 20, &f->nodes);
    case O_TP: return cli_parse_int(cmd, "--tp", arg, 1, 1 << 16, &f->tp);
    case O_PP: return cli_parse_int(cmd, "--pp", arg, 1, 1 << 16, &f->pp);
    case O_DP: return cli_parse_int(cmd, "--dp", arg, 1, 1 << 24, &f->dp);
    case O_VPP: return cli_parse_int(cmd, "--vpp", arg, 1, 1 << 10, &f->vpp);
    case O_MBS: return cli_parse_int(cmd, "--mbs", arg, 1, 1 << 20, &f->mbs);
    case O_GBS: return cli_parse_int(cmd, "--gbs", arg, 1, 1 << 28, &f->gbs);
    case O_ZERO: return cli_parse_int(cmd, "--zero", arg, 0, 1, &f->zero);
    case O_SP: f->sp = 1; return CLI_OK;
    case O_TP_ACROSS: f->tp_across = 1; return CLI_OK;
    case O_DEVICE_PROFILE: f->device_profile = arg; return CLI_OK;
    case O_SCHEDULE:
    case O_RECOMPUTE:
    case O_FRAMEWORK: return parse_enum(cmd, c, arg, f);
    case O_ATTN: return parse_attention(cmd, arg, &f->unfused);
    default:
        if (c >= O_EP_FIRST && c < O_EP_FIRST + 6)
            return cli_epopt_parse(cmd, c - O_EP_FIRST, arg, &f->ep);
        if (c >= CLI_MODELOPT_FIRST && c <= CLI_MODELOPT_LAST)
            return cli_modelopt_parse(cmd, c, arg, &f->mf);
        return -1;
    }
}

int cli_layoutopt_has_model(const layout_flags *f)
{
    return f->model || cli_modelopt_any_shape(&f->mf);
}

int cli_layoutopt_check(const char *cmd, const layout_flags *f)
{
    if (!f->system)
        return cli_bad_input(cmd, "--system is required (see 'clustersim system')");
    if (!f->gpus && !f->nodes)
        return cli_bad_input(cmd, "give --gpus N or --nodes N");
    if (!f->mbs || !f->gbs)
        return cli_bad_input(cmd, "--mbs and --gbs are required");
    if (!cli_layoutopt_has_model(f))
        return cli_bad_input(cmd, "give --model NAME (see 'clustersim model') or shape flags");
    return CLI_OK;
}

static void fill_layout(const layout_flags *f, const model_desc *m, long gpus, layout_desc *l)
{
    layout_init(l, m);
    l->tp = (int)f->tp;
    l->pp = (int)f->pp;
    l->dp = f->dp ? (int)f->dp : (int)(gpus / (f->tp * f->pp) > 0 ? gpus / (f->tp * f->pp) : 1);
    l->vpp = (int)f->vpp;
    l->mbs = (int)f->mbs;
    l->gbs = (int)f->gbs;
    l->sp = f->sp;
    l->zero = (int)f->zero;
    l->recompute = f->has_recompute ? f->recompute : LAYOUT_RECOMPUTE_NONE;
    l->schedule = f->has_schedule ? f->schedule
                  : f->vpp > 1    ? LAYOUT_SCHEDULE_INTERLEAVED
                                  : LAYOUT_SCHEDULE_1F1B;
    l->flash_attention = !f->unfused;
    l->allow_tp_across_nodes = f->tp_across;
    l->framework = f->framework;
}

int cli_layoutopt_build(const char *cmd, const layout_flags *f, cli_job *job)
{
    memset(job, 0, sizeof *job);
    int rc;
    if ((rc = cli_modelopt_resolve(cmd, f->model, &f->mf, &job->model)))
        return rc;
    if ((rc = cli_build_job(cmd, f->system, f->gpus, f->nodes, &job->sys, &job->topology,
                            &job->gpus)))
        return rc;
    fill_layout(f, &job->model, job->gpus, &job->layout);
    if ((rc = cli_epopt_apply(cmd, &f->ep, &job->layout, &job->model, &job->hist))) {
        cli_job_free(job);
        return rc;
    }
    opcost_eff_default(&job->eff);
    cs_err err;
    if (f->device_profile && profile_apply(f->device_profile, job->sys.groups[0].node.gpu,
                                           &job->profile, &job->eff, &err) != 0) {
        cli_job_free(job);
        return cli_bad_err(cmd, &err);
    }
    job->in = (estimate_input){&job->model, &job->layout, job->topology, (int)job->gpus, &job->eff};
    return CLI_OK;
}

void cli_job_free(cli_job *job)
{
    topo_free(job->topology);
    job->topology = NULL;
    moe_hist_free(&job->hist);
}
