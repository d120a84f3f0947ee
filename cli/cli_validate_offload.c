/* cli_validate_offload: the offload study of `clustersim validate`: the
 * headline figures of the ZeRO-Offload, ZeRO-Infinity and Fuyou papers
 * (issue 17), each row with its own system, offload options and metric;
 * the columns, assumptions and row-to-layout mapping. */
#include <stdio.h>
#include <string.h>

#include "cli_validate_private.h"
#include "tiers_spec.h"

static const char *const off_columns[] = {
    "label", "system", "gpus", "layers", "hidden", "heads", "seq", "vocab", "mbs", "gbs",
    "recompute", "zero", "offload", "offload_to", "engine", "checkpoints", "framework",
    "attention", "metric", "published", "source", "tp"};

/* The row's figure of res under its metric. */
static int off_metric(const char *metric, const estimate_result *res, int gpus, int line,
                      double *out, cs_err *err)
{
    if (strcmp(metric, "hw_tflops_per_gpu") == 0)
        *out = res->hw_tflops_per_gpu;
    else if (strcmp(metric, "model_tflops_per_gpu") == 0)
        *out = res->model_tflops_per_gpu;
    else if (strcmp(metric, "tokens_per_s") == 0) /* the whole job's */
        *out = res->tokens_per_s;
    else if (strcmp(metric, "aggregate_pflops") == 0)
        *out = res->hw_tflops_per_gpu * gpus / 1e3;
    else if (strcmp(metric, "fits") == 0)
        *out = res->fits;
    else
        return cs_fail(err, "line %d: metric '%s' is not one of hw_tflops_per_gpu, "
                            "model_tflops_per_gpu, tokens_per_s, aggregate_pflops, fits", line, metric);
    return 0;
}

/* The row's model and layout: a GPT shape in fp16, data parallel over the
 * GPUs / tp tensor-parallel groups (the last column: the source's model
 * parallelism, 1 for all but the ZeRO-Infinity paper's own setting), the
 * training code (framework, attention) of the source's time. */
static int off_job(char **f, const double *v, int line, model_desc *m, layout_desc *l,
                   cs_err *err)
{
    model_custom(m, (int)v[3], (int)v[4], (int)v[5]);
    snprintf(m->name, sizeof m->name, "%s", f[0]);
    m->seq_len = (int)v[6];
    m->vocab = (int)v[7];
    if (model_validate(m, err) != 0)
        return cs_fail_prefix(err, "line %d: ", line);
    layout_init(l, m);
    l->tp = (int)v[21];
    l->dp = (int)(v[2] / v[21]);
    l->mbs = (int)v[8];
    l->gbs = (int)v[9];
    l->zero = (int)v[11];
    l->dtype = MODEL_FP16;
    if (layout_recompute_parse(f[10], "recompute", &l->recompute, err) != 0 ||
        offload_what_parse(f[12], "offload", &l->offload, err) != 0 ||
        offload_to_parse(f[13], "offload_to", &l->offload_to, err) != 0 ||
        offload_engine_parse(f[14], "engine", &l->offload_engine, err) != 0 ||
        framework_parse(f[16], "framework", &l->framework, err) != 0)
        return cs_fail_prefix(err, "line %d: ", line);
    /* where the activation checkpoints live: gpu, or cpu (DeepSpeed's cpu_checkpointing) */
    if (strcmp(f[15], "gpu") != 0 && strcmp(f[15], "cpu") != 0)
        return cs_fail(err, "line %d: checkpoints '%s' is not one of gpu, cpu", line, f[15]);
    l->offload_ckpt_cpu = strcmp(f[15], "cpu") == 0;
    if (strcmp(f[17], "flash") != 0 && strcmp(f[17], "unfused") != 0)
        return cs_fail(err, "line %d: attention '%s' is not one of flash, unfused", line, f[17]);
    l->flash_attention = strcmp(f[17], "flash") == 0;
    return 0;
}

static int off_row(val_run *run, int line, char **f, cs_err *err)
{
    static const int counts[] = {2, 3, 4, 5, 6, 7, 8, 9, 21}; /* gpus .. global batch, tp */
    double v[22] = {0};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (val_count_at(f, counts[i], line, &v[counts[i]], err) != 0)
            return -1;
    if (val_int_at(f, 11, line, 0, LAYOUT_MAX_ZERO, &v[11], err) != 0 ||
        val_field_num(f, 19, line, &v[19], err) != 0 || val_gpus_split(line, v[2], v[21], 1, err))
        return -1;
    model_desc m;
    layout_desc l;
    sys_system probe;
    if (off_job(f, v, line, &m, &l, err) != 0 || sys_from_spec(f[1], 1, &probe, err) != 0)
        return cs_fail_prefix(err, "line %d: ", line);
    int per_node = probe.groups[0].node.gpus, gpus = (int)v[2];
    int nodes = gpus > per_node ? gpus / per_node : 1;
    const val_job job = {line, f[0], f[1], nodes, &m, &l,
                         {.gpus = gpus, .tp = l.tp, .pp = 1, .dp = l.dp, .published = v[19]}};
    estimate_result res;
    val_row *r = val_run_job(run, &job, &res, err);
    if (!r)
        return -1;
    int rc = off_metric(f[18], &res, gpus, line, &r->predicted, err);
    r->terms.optimizer_s += res.stages[r->stage].offload_s; /* the offload's exposed time */
    estimate_result_free(&res);
    return rc;
}

const val_study val_offload = {
    "offload", "offload_papers.csv", "the row's metric (TFLOP/s per GPU, tokens/s, PFLOP/s, fits)",
    "mixed", off_columns, sizeof off_columns / sizeof off_columns[0],
    "Headline figures of ZeRO-Offload (arXiv 2101.06840), ZeRO-3 Offload / ZeRO-Infinity\n"
    "(arXiv 2104.07857 and DeepSpeed's blog) and Fuyou (arXiv 2403.06504), each row run\n"
    "with its --offload options on dgx2-v100 (DGX-2, the DeepSpeed papers' node) or\n"
    "fuyou-server (Fuyou's published testbed); each row's source column names what\n"
    "the source leaves open.  fp16, data parallel (tensor parallel where the source says:\n"
    "the 1T row's mp 4); the offload behaviour is DeepSpeed's\n"
    "code of the source's time (costmodel/offload.h; engine deepspeed-2020 for 2020-21's\n"
    "ZeRO-Offload, deepspeed-2021 for the ZeRO-3 Offload blog's rows, DeepSpeed v0.3.13's\n"
    "coordinator at its defaults (the run's config is not published), deepspeed-2023 for\n"
    "Fuyou's ZeRO-Infinity baseline, DeepSpeed 0.9.3)\n"
    "with DeepSpeedExamples' checkpoints in host DRAM (checkpoints cpu: copies down\n"
    "into fresh pages at 1.96 GB/s, up at the pinned rate over 2.57, both measured on\n"
    "other hosts and carried: offload_components.csv);\n"
    "CPU Adam on the DGX-2 is DeepSpeed's measured rate (its tutorial's log),\n"
    "on fuyou-server that rate x cores x base clock x FMA units (Intel ARK; at turbo\n"
    "clocks 13% more: `clustersim system fuyou-server`), elsewhere the DRAM-bandwidth\n"
    "bound.  Fuyou's backward waits for its CPU step (the paper's synchronous design);\n"
    "the authors' code (Ratel) never waits for its optimizer process, so the rows where\n"
    "that step binds (fuyou-13b-b8, -b16, fuyou-175b-b8, -b16) rest on this modelling\n"
    "choice, not on the artifact's timing.  Fuyou's rows are in tokens/s (its\n"
    "TFLOPS count 8 x the nominal parameters a token) and recompute every block, as\n"
    "its artifact's run.sh does.  A fits row predicts 1\n"
    "(fits every tier) or 0; optimizer_s in --format csv\n"
    "includes the offload's exposed time.  See validate/offload.md.",
    off_row};
