/* cli_layoutopt: the job flags shared by commands (see cli_layoutopt.h). */
#include "cli_layoutopt.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "profile.h"

enum { O_SYSTEM = CLI_LAYOUTOPT_FIRST, O_GPUS, O_NODES, O_MODEL, O_TP, O_PP, O_DP, O_VPP, O_MBS,
       O_GBS, O_SCHEDULE, O_SP, O_RECOMPUTE, O_ATTN, O_TP_ACROSS, O_DEVICE_PROFILE,
       O_FRAMEWORK,
       /* offload (issue 17) */
       O_OFFLOAD, O_OFFLOAD_TO, O_OFFLOAD_ENGINE, O_OFFLOAD_DPU,
       O_POST_VALIDATION,
       /* context parallelism (issue 18) */
       O_CP, O_CP_COMM,
       O_EP_FIRST /* six expert-parallel flags (cli_epopt.h) */,
       /* uneven pipeline stages (issue 18, layout_stages.h) */
       O_PP_FIRST = O_EP_FIRST + 6, O_PP_LAST,
       /* activation checkpoints in host DRAM (issue 17) */
       O_OFFLOAD_CKPT };

const struct option cli_layoutopt_options[CLI_LAYOUTOPT_COUNT] = {
    {"system", required_argument, 0, O_SYSTEM}, {"gpus", required_argument, 0, O_GPUS},
    {"nodes", required_argument, 0, O_NODES},   {"model", required_argument, 0, O_MODEL},
    {"tp", required_argument, 0, O_TP},         {"pp", required_argument, 0, O_PP},
    {"dp", required_argument, 0, O_DP},         {"vpp", required_argument, 0, O_VPP},
    {"mbs", required_argument, 0, O_MBS},       {"gbs", required_argument, 0, O_GBS},
    {"schedule", required_argument, 0, O_SCHEDULE}, {"sp", no_argument, 0, O_SP},
    {"recompute", required_argument, 0, O_RECOMPUTE},
    {"attention", required_argument, 0, O_ATTN},
    {"allow-tp-across-nodes", no_argument, 0, O_TP_ACROSS},
    {"device-profile", required_argument, 0, O_DEVICE_PROFILE},
    {"framework", required_argument, 0, O_FRAMEWORK},
    /* offload (issue 17) */
    {"offload", required_argument, 0, O_OFFLOAD},
    {"offload-to", required_argument, 0, O_OFFLOAD_TO},
    {"offload-engine", required_argument, 0, O_OFFLOAD_ENGINE},
    {"offload-dpu", no_argument, 0, O_OFFLOAD_DPU},
    {"post-validation", no_argument, 0, O_POST_VALIDATION},
    /* context parallelism (Megatron-Core's flag names, and --cp) */
    {"context-parallel-size", required_argument, 0, O_CP}, {"cp", required_argument, 0, O_CP},
    {"cp-comm-type", required_argument, 0, O_CP_COMM},
    {"ep", required_argument, 0, O_EP_FIRST},
    {"expert-tensor-parallel-size", required_argument, 0, O_EP_FIRST + 1},
    {"ep-a2a", required_argument, 0, O_EP_FIRST + 2},
    {"ep-overlap", no_argument, 0, O_EP_FIRST + 3},
    {"routing", required_argument, 0, O_EP_FIRST + 4},
    {"moe-expert-capacity-factor", required_argument, 0, O_EP_FIRST + 5},
    /* uneven pipeline stages (Megatron-Core's flag names) */
    {"decoder-first-pipeline-num-layers", required_argument, 0, O_PP_FIRST},
    {"decoder-last-pipeline-num-layers", required_argument, 0, O_PP_LAST},
    /* activation checkpoints in host DRAM (issue 17) */
    {"offload-checkpoints", no_argument, 0, O_OFFLOAD_CKPT},
};

void cli_layoutopt_init(layout_flags *f)
{
    memset(f, 0, sizeof *f);
    f->tp = f->pp = f->vpp = 1;
    cli_shardopt_init(&f->sf);
    f->cp = 1;
    cli_epopt_init(&f->ep);
}

void cli_layoutopt_table(struct option *dst, const struct option *own, int nown)
{
    memcpy(dst, own, (size_t)nown * sizeof *own);
    memcpy(dst + nown, cli_layoutopt_options, sizeof cli_layoutopt_options);
    memcpy(dst + nown + CLI_LAYOUTOPT_COUNT, cli_modelopt_options, sizeof cli_modelopt_options);
    memcpy(dst + nown + CLI_LAYOUTOPT_COUNT + CLI_MODELOPT_COUNT, cli_shardopt_options,
           sizeof cli_shardopt_options);
    dst[nown + CLI_LAYOUTOPT_COUNT + CLI_MODELOPT_COUNT + CLI_SHARDOPT_COUNT] =
        (struct option){0, 0, 0, 0};
}

void cli_layoutopt_help(void)
{
    printf("  --system NAME       built-in system (see 'clustersim system'); NAME:nvme=N: the\n"
           "                      same with N NVMe drives per node (1 to 64)\n"
           "  --gpus N            GPUs the job uses (tp x cp x pp x dp); --nodes N: whole nodes\n"
           "  --model NAME        built-in model (see 'clustersim model'), or shape flags:\n");
    cli_modelopt_help();
    printf("  --tp, --pp, --dp    tensor, pipeline, data parallelism (dp default: GPUs/(tp cp pp))\n"
           "  --cp N, --context-parallel-size N\n"
           "                      context parallelism: each sequence split over N ranks (seq\n"
           "                      divisible by 2 N; ranks ordered tp, cp, dp, pp)\n"
           "  --cp-comm-type T    p2p (ring attention, default), a2a (Ulysses all-to-all;\n"
           "                      heads / tp and kv heads / tp divisible by N), a2a+p2p\n"
           "                      (all-to-all inside a node, ring across)\n"
           "  --vpp V             model chunks per pipeline rank (interleaved; 2 for the\n"
           "                      V-shapes zbv, v-half, v-min)\n"
           "  --decoder-first-pipeline-num-layers N, --decoder-last-pipeline-num-layers N\n"
           "                      uneven pipeline stages (Megatron-Core): N layers on the\n"
           "                      first / last stage, the rest split evenly over the middle\n"
           "                      stages; pp >= 2, each stage's layers divisible by vpp\n"
           "  --mbs, --gbs        microbatch and global batch, in sequences\n"
           "  --schedule S        gpipe, 1f1b or interleaved (default: interleaved when\n"
           "                      --vpp > 1, else 1f1b); with the backward split into\n"
           "                      input (B) and weight (W) gradients: zb-h1, zb-h2,\n"
           "                      zb-auto (zero bubble), zbv, v-half, v-min (V-shape),\n"
           "                      dualpipe (bidirectional; see docs/estimate.md)\n"
           "  --sp                Megatron sequence parallelism\n"
           "  --recompute R       activation recomputation: none (default), selective, full\n"
           "  --allow-tp-across-nodes  let a tensor-parallel group span nodes\n"
           "  --attention A       flash (fused, default) or unfused (Megatron-LM 2021's kernels)\n"
           "  --framework F       megatron-core (default), megatron-2019, -2021 or -2022: what\n"
           "                      overlaps, gradient accumulation and optimizer bytes of\n"
           "                      that version of the training code (docs/estimate.md)\n"
           "  --post-validation   optimizer post-validation (zero-bubble paper, sec. 4): no\n"
           "                      cross-stage sync before the optimizer step; the norm and\n"
           "                      inf/nan check are validated after it (rolled back when\n"
           "                      they fail), so each rank starts its next iteration alone\n"
           "  --device-profile F  kernel, copy and in-node collective times from a profile\n"
           "                      'clustersim calibrate' fitted on the system's GPU (default:\n"
           "                      the built-in model; docs/calibration.md)\n"
           "  --offload W         none (default), optimizer (ZeRO-Offload: optimizer state\n"
           "                      and step on the CPU), params (ZeRO-3 parameters) or all\n"
           "  --offload-to T      cpu (default: host DRAM) or nvme (the node's SSDs)\n"
           "  --offload-engine E  deepspeed (default: ZeRO-Offload / ZeRO-Infinity), fuyou\n"
           "                      (one GPU, GPU-CPU-SSD pipeline; needs --offload all\n"
           "                      --offload-to nvme, and --recompute none: its own choice\n"
           "                      per layer, or full: every block, as its artifact runs)\n"
           "                      or deepspeed-2020 (DeepSpeed v0.3's\n"
           "                      ZeRO-Offload: gradient copies in turn with the backward,\n"
           "                      upload under CPU Adam; --offload optimizer, --zero 1|2)\n"
           "                      or deepspeed-2023 (DeepSpeed v0.9.3's ZeRO-3: gradient\n"
           "                      copies in turn with the backward; --zero 3)\n"
           "                      or deepspeed-2021 (DeepSpeed v0.3.13's ZeRO-3: module by\n"
           "                      module fetch with a wait at each, one weight prefetched\n"
           "                      ahead; --zero 3 --offload-to cpu, pp 1)\n"
           "  --offload-dpu       ZeRO-Offload's delayed parameter update (--offload\n"
           "                      optimizer --offload-to cpu); rules: docs/offload.md\n"
           "  --offload-checkpoints  DeepSpeed's cpu_checkpointing: each layer's checkpoint\n"
           "                      copied to pageable host memory and back, blocking the GPU\n"
           "                      (needs --offload and --recompute full); assumes its\n"
           "                      partition_activations: each GPU copies and stores 1/tp\n"
           "                      of a checkpoint (without --sp)\n");
    cli_shardopt_help();
    cli_epopt_help();
}

/* --offload, --offload-to, --offload-engine (issue 17). */
static int parse_offload(const char *cmd, int c, const char *arg, layout_flags *f)
{
    cs_err err;
    int rc = c == O_OFFLOAD      ? offload_what_parse(arg, "--offload", &f->offload, &err)
             : c == O_OFFLOAD_TO ? offload_to_parse(arg, "--offload-to", &f->offload_to, &err)
                                 : offload_engine_parse(arg, "--offload-engine",
                                                        &f->offload_engine, &err);
    return rc ? cli_bad_err(cmd, &err) : CLI_OK;
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
    case O_SP: f->sp = 1; return CLI_OK;
    case O_TP_ACROSS: f->tp_across = 1; return CLI_OK;
    case O_POST_VALIDATION: f->post_validation = 1; return CLI_OK;
    case O_DEVICE_PROFILE: f->device_profile = arg; return CLI_OK;
    case O_SCHEDULE:
    case O_RECOMPUTE:
    case O_FRAMEWORK: return parse_enum(cmd, c, arg, f);
    case O_CP: return cli_parse_int(cmd, "--cp", arg, 1, 1 << 16, &f->cp);
    case O_CP_COMM: {
        cs_err err;
        return layout_cp_comm_parse(arg, "--cp-comm-type", &f->cp_comm, &err)
                   ? cli_bad_err(cmd, &err) : CLI_OK;
    }
    case O_ATTN: return parse_attention(cmd, arg, &f->unfused);
    case O_OFFLOAD:
    case O_OFFLOAD_TO:
    case O_OFFLOAD_ENGINE: return parse_offload(cmd, c, arg, f);
    case O_OFFLOAD_DPU: f->offload_dpu = 1; return CLI_OK;
    case O_OFFLOAD_CKPT: f->offload_ckpt_cpu = 1; return CLI_OK;
    case O_PP_FIRST:
        return cli_parse_int(cmd, "--decoder-first-pipeline-num-layers", arg, 1, 1 << 20,
                             &f->pp_first);
    case O_PP_LAST:
        return cli_parse_int(cmd, "--decoder-last-pipeline-num-layers", arg, 1, 1 << 20,
                             &f->pp_last);
    default:
        if (c >= O_EP_FIRST && c < O_EP_FIRST + 6)
            return cli_epopt_parse(cmd, c - O_EP_FIRST, arg, &f->ep);
        if (c >= CLI_MODELOPT_FIRST && c <= CLI_MODELOPT_LAST)
            return cli_modelopt_parse(cmd, c, arg, &f->mf);
        if (c >= CLI_SHARDOPT_FIRST && c <= CLI_SHARDOPT_LAST)
            return cli_shardopt_parse(cmd, c, arg, &f->sf);
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
    return cli_shardopt_check(cmd, &f->sf, 0);
}

static void fill_layout(const layout_flags *f, const model_desc *m, long gpus, layout_desc *l)
{
    layout_init(l, m);
    l->tp = (int)f->tp;
    l->pp = (int)f->pp;
    long replica = f->tp * f->cp * f->pp; /* dp fills the GPUs left: tp x cp x dp x pp */
    l->dp = f->dp ? (int)f->dp : (int)(gpus / replica > 0 ? gpus / replica : 1);
    l->vpp = (int)f->vpp;
    l->mbs = (int)f->mbs;
    l->gbs = (int)f->gbs;
    l->sp = f->sp;
    l->recompute = f->has_recompute ? f->recompute : LAYOUT_RECOMPUTE_NONE;
    l->schedule = f->has_schedule ? f->schedule
                  : f->vpp > 1    ? LAYOUT_SCHEDULE_INTERLEAVED
                                  : LAYOUT_SCHEDULE_1F1B;
    l->flash_attention = !f->unfused;
    l->allow_tp_across_nodes = f->tp_across;
    l->framework = f->framework;
    l->offload = f->offload;
    l->offload_to = f->offload_to;
    l->offload_engine = f->offload_engine;
    l->offload_dpu = f->offload_dpu;
    l->offload_ckpt_cpu = f->offload_ckpt_cpu;
    cli_shardopt_apply(&f->sf, l);
    l->post_validation = f->post_validation;
    l->cp = (int)f->cp;
    l->cp_comm = f->cp_comm;
    l->pp_first_layers = (int)f->pp_first;
    l->pp_last_layers = (int)f->pp_last;
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
