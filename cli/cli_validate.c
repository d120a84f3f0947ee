/* cli_validate: `clustersim validate STUDY`: published training throughput
 * against the simulator, row by row, with the error and the assumptions the
 * source leaves open. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvread.h"
#include "estimate.h"
#include "layout_stages.h"
#include "tiers_spec.h"
#include "trainsim.h"

#define CMD "validate"

#ifndef CS_VALIDATE_DIR
#define CS_VALIDATE_DIR "validate"
#endif

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

typedef struct val_run {
    const val_opts *o;
    const struct study *study;
    val_row rows[64];
    int n;
    int header_seen;
} val_run;

typedef struct study {
    const char *name, *file, *metric, *unit;
    const char *const *columns; /* the header the file must have */
    int ncolumns;
    const char *assumptions;
    int (*row)(val_run *run, int line, char **f, cs_err *err);
} study;

/* ---- shared ------------------------------------------------------------------ */

/* Simulates (or estimates) one layout on `nodes` nodes of system `sys_name`. */
static int run_layout(const val_opts *o, const char *sys_name, int nodes, const model_desc *m,
                      const layout_desc *l, estimate_result *r, double *wall_s, cs_err *err)
{
    sys_system sys;
    topo *t = NULL;
    if (sys_from_spec(sys_name, nodes, &sys, err) != 0 || topo_build(&sys, &t, err) != 0)
        return -1;
    opcost_eff eff;
    opcost_eff_default(&eff);
    estimate_input in = {m, l, t, (int)layout_gpus(l), &eff};
    trainsim_stats stats = {0};
    double t0 = cli_wall_s();
    int rc = o->analytic ? estimate_analytic(&in, r, err)
                         : trainsim_run(&in, TRAINSIM_FOLDED, r, &stats, err);
    *wall_s = cli_wall_s() - t0;
    topo_free(t);
    return rc;
}

/* The busiest stage's breakdown (its idle time is the bubble), so that the
 * terms of a row add up to its iteration. */
static void keep_terms(const estimate_result *res, val_row *r)
{
    double most = -1;
    for (int s = 0; s < res->pp; s++) {
        const estimate_stage *e = &res->stages[s];
        double busy = e->compute_s + e->recompute_s + e->tp_comm_s + e->p2p_s + e->dp_exposed_s +
                      e->optimizer_s + e->offload_s + e->cp_exposed_s + e->ep_comm_s;
        if (busy > most) {
            most = busy;
            r->stage = s;
            r->terms = *e;
        }
    }
    r->terms.bubble_s = fmax(0, res->iteration_s - most);
}

/* The layout every row shares: recomputation, kernels and data type as the
 * sources ran them. */
static void row_layout(const model_desc *m, int tp, int pp, int dp, int mbs, int gbs,
                       framework_kind framework, layout_desc *l)
{
    layout_init(l, m);
    l->framework = framework;
    l->tp = tp;
    l->pp = pp;
    l->dp = dp;
    l->mbs = mbs;
    l->gbs = gbs;
    l->recompute = LAYOUT_RECOMPUTE_FULL;
    l->flash_attention = 0;
    l->dtype = MODEL_FP16;
}

static int field_num(char **f, int i, int line, double *out, cs_err *err)
{
    char *end;
    *out = strtod(f[i], &end);
    if (end == f[i] || *end)
        return cs_fail(err, "line %d, column %d: '%s' is not a number", line, i + 1, f[i]);
    return 0;
}

static int fields_num(char **f, int n, int line, double *out, cs_err *err)
{
    for (int i = 0; i < n; i++)
        if (field_num(f, i, line, &out[i], err) != 0)
            return -1;
    return 0;
}

static val_row *next_row(val_run *run, int line, cs_err *err)
{
    if (run->n == (int)(sizeof run->rows / sizeof run->rows[0])) {
        cs_fail(err, "line %d: more than %d rows", line, run->n);
        return NULL;
    }
    return memset(&run->rows[run->n++], 0, sizeof(val_row));
}

/* ---- Narayanan et al. 2021, Table 1 ------------------------------------------ */

static const char *const mt21_columns[] = {
    "params_billion", "attention_heads", "hidden", "layers", "tp", "pp", "gpus",
    "global_batch", "tflops_per_gpu", "percent_of_peak", "aggregate_pflops", "micro_batch",
    "layers_per_virtual_stage", "ddp_impl"};

/* The authors' microbatch and interleaving for the row (examples/sc21 of
 * Megatron-LM, the CSV's last columns), unless --mbs names one for all. */
static int mt21_settings(const val_run *run, int line, char **f, const double *v, int layers,
                         int pp, layout_desc *l, cs_err *err)
{
    l->mbs = run->o->mbs > 0 ? (int)run->o->mbs : (int)v[11];
    int per_chunk = (int)v[12];
    if (strcmp(f[13], "local") != 0 && strcmp(f[13], "torch") != 0)
        return cs_fail(err, "line %d: ddp_impl '%s' is neither local nor torch", line, f[13]);
    if (l->mbs < 1 || per_chunk < 0 || (per_chunk && (layers / pp) % per_chunk))
        return cs_fail(err, "line %d: micro_batch %g or layers_per_virtual_stage %g does not fit "
                       "%d layers on %d stages", line, v[11], v[12], layers, pp);
    l->vpp = per_chunk ? layers / pp / per_chunk : 1;
    l->schedule = l->vpp > 1 ? LAYOUT_SCHEDULE_INTERLEAVED : l->schedule;
    return 0;
}

static int mt21_row(val_run *run, int line, char **f, cs_err *err)
{
    double v[13];
    if (fields_num(f, 13, line, v, err) != 0)
        return -1;
    const model_desc *m = model_catalog_find_shape("megatron-", (int)v[3], (int)v[2], (int)v[1]);
    if (!m)
        return cs_fail(err, "line %d: no built-in model has %g layers, hidden %g, %g heads", line,
                       v[3], v[2], v[1]);
    int tp = (int)v[4], pp = (int)v[5], gpus = (int)v[6];
    if (tp < 1 || pp < 1 || gpus % (tp * pp) != 0)
        return cs_fail(err, "line %d: %d GPUs is not a multiple of tp %d x pp %d", line, gpus, tp,
                       pp);
    layout_desc l;
    row_layout(m, tp, pp, gpus / (tp * pp), 1, (int)v[7], FRAMEWORK_2021, &l);
    if (mt21_settings(run, line, f, v, m->layers, pp, &l, err) != 0)
        return -1;
    val_row *r = next_row(run, line, err);
    estimate_result res;
    double wall = 0;
    if (!r)
        return -1; /* its message names the line */
    if (run_layout(run->o, "dgx-a100-80g", gpus / 8, m, &l, &res, &wall, err) != 0)
        return cs_fail_prefix(err, "line %d (%s): ", line, m->name);
    *r = (val_row){.gpus = gpus, .tp = tp, .pp = pp, .dp = l.dp,
                   .microbatches = layout_microbatches(&l), .fits = res.fits,
                   .published = v[8], .predicted = res.hw_tflops_per_gpu,
                   .iteration_s = res.iteration_s, .wall_s = wall};
    keep_terms(&res, r);
    snprintf(r->label, sizeof r->label, "%s", m->name);
    estimate_result_free(&res);
    return 0;
}

/* ---- Megatron-LM v1.0 release notes, Table 1 --------------------------------- */

static const char *const mt19_columns[] = {"params_billion", "model_parallel_gpus",
                                           "iteration_ms", "weak_scaling_percent"};

/* The release notes give parameter counts only.  Shapes: the 2019 paper's
 * (Shoeybi et al., Table 1) where its count matches (1.2B, 4.2B); for 2.0B
 * and 8.7B that paper's hidden size and heads for the same model-parallel
 * degree, with the layer count that gives the published parameter count. */
static const struct { double params_billion; int hidden, heads, layers; } mt19_shapes[] = {
    {1.2, 1536, 16, 40}, {2.0, 1920, 20, 44}, {4.2, 2304, 24, 64}, {8.7, 3072, 32, 75}};

static int mt19_model(double params_billion, int line, model_desc *m, cs_err *err)
{
    for (size_t i = 0; i < sizeof mt19_shapes / sizeof mt19_shapes[0]; i++) {
        if (fabs(mt19_shapes[i].params_billion - params_billion) > 1e-9)
            continue;
        *m = (model_desc){"", mt19_shapes[i].layers, mt19_shapes[i].hidden, mt19_shapes[i].heads,
                          mt19_shapes[i].heads, 4 * mt19_shapes[i].hidden, 51200, 1024,
                          MODEL_MLP_GELU, MODEL_NORM_LAYERNORM, MODEL_POS_LEARNED, 1, 1,
                          MODEL_FP16, 0, 0, NULL, .head_dim_override = 0};
        snprintf(m->name, sizeof m->name, "gpt2-%.1fb", params_billion);
        return model_validate(m, err);
    }
    return cs_fail(err, "line %d: no assumed shape for a %.1fB model (known: 1.2, 2.0, 4.2, 8.7)",
                   line, params_billion);
}

static int mt19_row(val_run *run, int line, char **f, cs_err *err)
{
    double v[3];
    model_desc m;
    if (fields_num(f, 3, line, v, err) != 0 || mt19_model(v[0], line, &m, err) != 0)
        return -1;
    int tp = (int)v[1];
    if (tp < 1 || tp > 16)
        return cs_fail(err, "line %d: %d model-parallel GPUs; a DGX-2H has 16", line, tp);
    layout_desc l;
    row_layout(&m, tp, 1, 1, 8, 8, FRAMEWORK_2019, &l);
    val_row *r = next_row(run, line, err);
    estimate_result res;
    double wall = 0;
    if (!r)
        return -1; /* its message names the line */
    if (run_layout(run->o, "dgx2h-v100", 1, &m, &l, &res, &wall, err) != 0)
        return cs_fail_prefix(err, "line %d (%s): ", line, m.name);
    *r = (val_row){.gpus = tp, .tp = tp, .pp = 1, .dp = 1, .microbatches = 1, .fits = res.fits,
                   .published = v[2], .predicted = res.iteration_s * 1e3,
                   .iteration_s = res.iteration_s, .wall_s = wall};
    keep_terms(&res, r);
    snprintf(r->label, sizeof r->label, "%s", m.name);
    estimate_result_free(&res);
    return 0;
}

/* ---- offload papers' headline figures (issue 17) ------------------------------ */

static const char *const off_columns[] = {
    "label", "system", "gpus", "layers", "hidden", "heads", "seq", "vocab", "mbs", "gbs",
    "recompute", "zero", "offload", "offload_to", "engine", "checkpoints", "framework",
    "attention", "metric", "published", "source"};

/* The row's figure of res under its metric. */
static int off_metric(const char *metric, const estimate_result *res, int gpus, int line,
                      double *out, cs_err *err)
{
    if (strcmp(metric, "hw_tflops_per_gpu") == 0)
        *out = res->hw_tflops_per_gpu;
    else if (strcmp(metric, "model_tflops_per_gpu") == 0)
        *out = res->model_tflops_per_gpu;
    else if (strcmp(metric, "aggregate_pflops") == 0)
        *out = res->hw_tflops_per_gpu * gpus / 1e3;
    else if (strcmp(metric, "fits") == 0)
        *out = res->fits;
    else
        return cs_fail(err, "line %d: metric '%s' is not one of hw_tflops_per_gpu, "
                            "model_tflops_per_gpu, aggregate_pflops, fits", line, metric);
    return 0;
}

/* The row's model and layout: a GPT shape in fp16, data parallel only, the
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
    l->dp = (int)v[2];
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
    static const int numeric[] = {2, 3, 4, 5, 6, 7, 8, 9, 11, 19};
    double v[20] = {0};
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++)
        if (field_num(f, numeric[i], line, &v[numeric[i]], err) != 0)
            return -1;
    model_desc m;
    layout_desc l;
    sys_system probe;
    if (off_job(f, v, line, &m, &l, err) != 0 || sys_from_spec(f[1], 1, &probe, err) != 0)
        return cs_fail_prefix(err, "line %d: ", line);
    int per_node = probe.groups[0].node.gpus, gpus = (int)v[2];
    int nodes = gpus > per_node ? gpus / per_node : 1;
    val_row *r = next_row(run, line, err);
    estimate_result res;
    double wall = 0, predicted = 0;
    if (!r)
        return -1; /* its message names the line */
    if (run_layout(run->o, f[1], nodes, &m, &l, &res, &wall, err) != 0)
        return cs_fail_prefix(err, "line %d (%s): ", line, f[0]);
    int rc = off_metric(f[18], &res, gpus, line, &predicted, err);
    *r = (val_row){.gpus = gpus, .tp = 1, .pp = 1, .dp = l.dp,
                   .microbatches = layout_microbatches(&l), .fits = res.fits,
                   .published = v[19], .predicted = predicted, .iteration_s = res.iteration_s,
                   .wall_s = wall};
    keep_terms(&res, r);
    r->terms.optimizer_s += res.stages[r->stage].offload_s; /* the offload's exposed time */
    snprintf(r->label, sizeof r->label, "%s", f[0]);
    estimate_result_free(&res);
    return rc;
}

/* ---- Llama 3 405B, Dubey et al. 2024, Table 4 ------------------------------- */

static const char *const llama3_columns[] = {
    "gpus", "tp", "cp", "pp", "dp", "seq_len", "batch_per_dp", "tokens_per_batch",
    "tflops_per_gpu", "bf16_mfu_percent"};

static int llama3_row(val_run *run, int line, char **f, cs_err *err)
{
    double v[9];
    if (fields_num(f, 9, line, v, err) != 0)
        return -1;
    int gpus = (int)v[0], tp = (int)v[1], cp = (int)v[2], pp = (int)v[3], seq = (int)v[5];
    model_desc m;
    if (model_find(seq == 131072 ? "llama3-405b-128k" : "llama3-405b", &m, err) != 0)
        return -1;
    if (seq != m.seq_len)
        return cs_fail(err, "line %d: seq_len %d is neither 8192 nor 131072", line, seq);
    if (tp < 1 || cp < 1 || pp < 1 || gpus % (tp * cp * pp) != 0)
        return cs_fail(err, "line %d: %d GPUs is not a multiple of tp %d x cp %d x pp %d", line,
                       gpus, tp, cp, pp);
    /* dp from the GPUs (the printed DP of the 128K row, 4, gives 8192 GPUs
     * and 8M tokens, not its 16384 and 16M) */
    int dp = gpus / (tp * cp * pp), stages = pp;
    layout_desc l;
    layout_init(&l, &m);
    l.tp = tp, l.cp = cp, l.pp = stages, l.dp = dp, l.mbs = 1, l.gbs = dp * (int)v[6];
    /* one layer less on the first and the last of 16 stages, as Llama 3
     * trained (Dubey et al. 2024, sec. 3.3.2): 7 + 14 x 8 + 7 */
    if (layout_stage_auto_split(m.layers, pp, 1, &l.pp_first_layers, &l.pp_last_layers) != 0)
        l.pp_first_layers = l.pp_last_layers = 0;
    l.sp = 1, l.zero = 1;
    val_row *r = next_row(run, line, err);
    estimate_result res;
    double wall = 0;
    int used = (int)layout_gpus(&l);
    if (!r)
        return -1; /* its message names the line */
    if (run_layout(run->o, "dgx-h100", used / 8, &m, &l, &res, &wall, err) != 0)
        return cs_fail_prefix(err, "line %d (%s): ", line, m.name);
    *r = (val_row){.gpus = used, .tp = tp, .pp = stages, .dp = dp,
                   .microbatches = layout_microbatches(&l), .fits = res.fits,
                   .published = v[8], .predicted = res.model_tflops_per_gpu,
                   .iteration_s = res.iteration_s, .wall_s = wall};
    keep_terms(&res, r);
    snprintf(r->label, sizeof r->label, "405b s%dK cp%d", seq / 1024, cp);
    estimate_result_free(&res);
    return 0;
}

/* ---- mixture of experts (validate/moe_published.csv) --------------------------- */

static const char *const moe_columns[] = {
    "label", "system", "gpus", "model", "layers", "tp", "pp", "vpp", "schedule", "ep", "mbs",
    "gbs", "seq", "dtype", "overlap", "metric", "published"};

/* The row's model: the catalog entry, with the layer count the row states. */
static int moe_model(char **f, int line, model_desc *m, cs_err *err)
{
    double v[2];
    if (model_find(f[3], m, err) != 0)
        return cs_fail_prefix(err, "line %d: ", line);
    if (field_num(f, 4, line, &v[0], err) != 0 || field_num(f, 12, line, &v[1], err) != 0)
        return -1; /* field_num names the line */
    if ((int)v[0] != m->layers) { /* a pipeline-layout proxy (validate/moe.md) */
        snprintf(m->name, sizeof m->name, "%.30s (%d layers)", f[3], (int)v[0]);
        m->layers = (int)v[0];
    }
    m->seq_len = (int)v[1];
    return model_validate(m, err) != 0 ? cs_fail_prefix(err, "line %d: ", line) : 0;
}

static int moe_layout(char **f, int line, const model_desc *m, layout_desc *l, cs_err *err)
{
    enum { TP, PP, VPP, EP, GPUS, MBS, GBS, OVERLAP, N };
    static const int column[N] = {5, 6, 7, 9, 2, 10, 11, 14};
    double v[N];
    for (int i = 0; i < N; i++)
        if (field_num(f, column[i], line, &v[i], err) != 0)
            return -1;
    layout_init(l, m);
    l->tp = (int)v[TP];
    l->pp = (int)v[PP];
    l->vpp = (int)v[VPP];
    /* layers pp x vpp does not divide: Megatron's uneven first and last
     * stages (layout_stages.h; none fits 61 layers on pp 8 x vpp 4, so
     * that row keeps its layer slots) */
    if (layout_stage_auto_split(m->layers, l->pp, l->vpp, &l->pp_first_layers,
                                &l->pp_last_layers) != 0)
        l->pp_first_layers = l->pp_last_layers = 0;
    l->ep = (int)v[EP];
    l->dp = (int)v[GPUS] / (l->tp * l->pp);
    l->mbs = (int)v[MBS];
    l->gbs = (int)v[GBS];
    l->ep_overlap = (int)v[OVERLAP];
    l->zero = 1;                               /* distributed optimizer, all rows */
    l->sp = l->tp > 1;                         /* Megatron-Core requires it with MoE and tp */
    l->recompute = LAYOUT_RECOMPUTE_SELECTIVE; /* assumption: see validate/moe.md */
    if (layout_schedule_parse(f[8], "schedule", &l->schedule, err) != 0 ||
        model_dtype_parse(f[13], "dtype", &l->dtype, err) != 0)
        return cs_fail_prefix(err, "line %d: ", line);
    return 0;
}

static int moe_row(val_run *run, int line, char **f, cs_err *err)
{
    model_desc m;
    layout_desc l;
    double published;
    int tflops = strcmp(f[15], "tflops") == 0;
    if (!tflops && strcmp(f[15], "tokens") != 0)
        return cs_fail(err, "line %d: metric '%s' is not one of tflops, tokens", line, f[15]);
    if (moe_model(f, line, &m, err) != 0 || moe_layout(f, line, &m, &l, err) != 0 ||
        field_num(f, 16, line, &published, err) != 0)
        return -1; /* each names the line */
    val_row *r = next_row(run, line, err);
    estimate_result res;
    double wall = 0;
    int gpus = (int)layout_gpus(&l);
    if (!r)
        return -1; /* its message names the line */
    if (run_layout(run->o, f[1], (gpus + 7) / 8, &m, &l, &res, &wall, err) != 0)
        return cs_fail_prefix(err, "line %d (%s): ", line, f[0]);
    *r = (val_row){.gpus = gpus, .tp = l.tp, .pp = l.pp, .dp = l.dp,
                   .microbatches = layout_microbatches(&l), .fits = res.fits,
                   .published = published,
                   .predicted = tflops ? res.model_tflops_per_gpu : res.tokens_per_s / gpus,
                   .iteration_s = res.iteration_s, .wall_s = wall};
    keep_terms(&res, r);
    snprintf(r->label, sizeof r->label, "%s", f[0]);
    estimate_result_free(&res);
    return 0;
}

/* ---- zero-bubble schedules (validate/zb_published.csv) ------------------------ */

static const char *const zb_columns[] = {
    "label", "system", "layers", "hidden", "heads", "vocab", "seq", "pp", "mbs",
    "microbatches", "schedule", "post_validation", "published", "first_layers",
    "last_layers"};

/* Qi et al. 2024 Table 3's GPT-3-like shape, pipeline parallelism only;
 * predicted = samples per GPU per second, as their Table 4 counts. */
static int zb_row(val_run *run, int line, char **f, cs_err *err)
{
    enum { LAYERS, HIDDEN, HEADS, VOCAB, SEQ, PP, MBS, MICRO, PV, PUBLISHED, FIRST, LAST, N };
    static const int column[N] = {2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14};
    double v[N];
    for (int i = 0; i < N; i++)
        if (field_num(f, column[i], line, &v[i], err) != 0)
            return -1;
    model_desc m;
    model_custom(&m, (int)v[LAYERS], (int)v[HIDDEN], (int)v[HEADS]);
    m.vocab = (int)v[VOCAB];
    m.seq_len = (int)v[SEQ];
    snprintf(m.name, sizeof m.name, "gpt-%s", f[0]);
    layout_desc l;
    layout_init(&l, &m);
    l.pp = (int)v[PP];
    l.mbs = (int)v[MBS];
    l.gbs = (int)(v[MBS] * v[MICRO]);
    l.post_validation = v[PV] != 0;
    l.pp_first_layers = (int)v[FIRST]; /* their uneven split (Table 3's layer counts) */
    l.pp_last_layers = (int)v[LAST];
    l.flash_attention = 0; /* their memory row: see the study's assumptions */
    if (model_validate(&m, err) != 0 ||
        layout_schedule_parse(f[10], "schedule", &l.schedule, err) != 0)
        return cs_fail_prefix(err, "line %d: ", line);
    val_row *r = next_row(run, line, err);
    estimate_result res;
    double wall = 0;
    if (!r)
        return -1; /* its message names the line */
    if (run_layout(run->o, f[1], (l.pp + 7) / 8, &m, &l, &res, &wall, err) != 0)
        return cs_fail_prefix(err, "line %d (%s): ", line, f[0]);
    *r = (val_row){.gpus = l.pp, .tp = 1, .pp = l.pp, .dp = 1, .microbatches = (int)v[MICRO],
                   .fits = res.fits, .published = v[PUBLISHED],
                   .predicted = l.gbs / res.iteration_s / l.pp, .iteration_s = res.iteration_s,
                   .wall_s = wall};
    keep_terms(&res, r);
    snprintf(r->label, sizeof r->label, "%s %s%s", f[0], f[10], l.post_validation ? " pv" : "");
    estimate_result_free(&res);
    return 0;
}

static const study studies[] = {
    {"megatron2021", "megatron2021_weak_scaling.csv", "TFLOP/s per GPU", "TF/s", mt21_columns,
     sizeof mt21_columns / sizeof mt21_columns[0],
     "Narayanan et al. 2021 (arXiv 2104.04473) Table 1, on dgx-a100-80g (Selene: 8x A100\n"
     "80GB, NVSwitch, 8x HDR 200 Gb/s per node).  What the table leaves open: each row's\n"
     "microbatch and interleaving as the authors' own script sets them (Megatron-LM\n"
     "examples/sc21/run_table_1.sh, de7dc40f88: 16, 16, 16, 8, 4, 2, 2, 1, 1, 1; 76.1B to\n"
     "529.6B interleaved; --mbs M sets one for every row; its --DDP-impl torch for 1.7B\n"
     "to 18.4B, whose bucketed overlap with the last backward is not modelled: their\n"
     "all-reduce runs after the backward, as local DDP's does); for every row: full activation\n"
     "recomputation (the paper's FLOP formula counts it), Megatron-LM's unfused attention\n"
     "(2021, before FlashAttention), fp16, --framework megatron-2021 (Megatron-LM of April\n"
     "2021: blocking tensor-parallel collectives, no main_grad in fp16: autograd adds each\n"
     "microbatch after the first into the 16-bit .grad, 6 B/param; one data-parallel\n"
     "all-reduce after the backward pass, a 52 B/param fp16\n"
     "optimizer step, and the passes its code runs outside the GEMMs: the QKV bias add,\n"
     "bias gradients, the embedding gradient's zero fill, the causal softmax kernel, the\n"
     "attention's layout copies, the layer norms' backward; docs/estimate.md item 7).\n"
     "Predicted = the simulator's hardware TFLOP/s per GPU, which for these shapes is\n"
     "the paper's 96 B s l h^2 (1 + s/6h + V/16lh) over the simulated iteration time.",
     mt21_row},
    {"megatron2019", "megatron2019_v100_model_parallel.csv", "iteration time", "ms",
     mt19_columns, sizeof mt19_columns / sizeof mt19_columns[0],
     "Megatron-LM v1.0 release notes, Table 1: GPT-2 on one DGX-2H (dgx2h-v100: 16x V100\n"
     "32GB on NVSwitch at 450 W, 131.25 TFLOP/s each: the 2.1 PFLOPS rating over 16), batch\n"
     "8 as one microbatch, tensor parallelism only.  Assumed: sequence 1024,\n"
     "vocabulary 51200, full recomputation, unfused attention, fp16, --framework\n"
     "megatron-2019 (54 B/param FP16_Optimizer step, zero_grad's fill of the 16-bit and\n"
     "fp32 master grads 6 B/param, autograd's add into .grad 6 B/param, and the passes its\n"
     "code runs outside the GEMMs: every linear's bias add, bias gradients, the embedding\n"
     "gradient's zero fill, the attention's layout copies and query/key divisions, the\n"
     "layer norms' backward; docs/estimate.md item 7); shapes 1.2B 1536/16/40,\n"
     "2.0B 1920/20/44, 4.2B 2304/24/64, 8.7B 3072/32/75 (hidden/heads/layers; the notes\n"
     "give only parameter counts).  Predicted = simulated iteration time.",
     mt19_row},
    {"offload", "offload_papers.csv", "the row's metric (TFLOP/s per GPU, PFLOP/s, fits)",
     "mixed", off_columns, sizeof off_columns / sizeof off_columns[0],
     "Headline figures of ZeRO-Offload (arXiv 2101.06840), ZeRO-3 Offload / ZeRO-Infinity\n"
     "(arXiv 2104.07857 and DeepSpeed's blog) and Fuyou (arXiv 2403.06504), each row run\n"
     "with its --offload options on dgx2-v100 (DGX-2, the DeepSpeed papers' node) or\n"
     "fuyou-server (Fuyou's published testbed); each row's source column names what\n"
     "the source leaves open.  fp16, data parallel only; the offload behaviour is DeepSpeed's\n"
     "code of the source's time (costmodel/offload.h; engine deepspeed-2020 for 2020-21's\n"
     "ZeRO-Offload) with DeepSpeedExamples' checkpoints in host DRAM (checkpoints cpu);\n"
     "CPU Adam on the DGX-2 is DeepSpeed's measured rate (its tutorial's log),\n"
     "on fuyou-server that rate x cores x base clock x FMA units (Intel ARK; at turbo\n"
     "clocks 13% more: `clustersim system fuyou-server`), elsewhere the DRAM-bandwidth\n"
     "bound.  Fuyou's backward waits for its CPU step (the paper's synchronous design);\n"
     "the authors' code (Ratel) never waits for its optimizer process, so the rows where\n"
     "that step binds (fuyou-13b-b8, -b16, fuyou-175b-b8, -b16) rest on this modelling\n"
     "choice, not on the artifact's timing.  A fits row predicts 1\n"
     "(fits every tier) or 0; optimizer_s in --format csv\n"
     "includes the offload's exposed time.  See validate/offload.md.",
     off_row},
    {"llama3", "llama3_405b_table4.csv", "model TFLOP/s per GPU", "TF/s", llama3_columns,
     sizeof llama3_columns / sizeof llama3_columns[0],
     "Dubey et al. 2024 (arXiv 2407.21783) Table 4: Llama 3 405B on H100s (BF16), on\n"
     "dgx-h100 (8 H100 SXM, NVSwitch, 8x 400 Gb/s per node; Meta's Grand Teton on RoCE\n"
     "400 Gb/s is alike).  What the table leaves open, the same for every row: microbatch\n"
     "1, 1F1B (their interleaved schedule with its own rules is not modeled), sp, zero 1\n"
     "(for their FSDP-style sharding), no recomputation, fused attention, --framework\n"
     "megatron-core, ring attention (cp_comm p2p).  126 layers on their 16 stages, one\n"
     "layer less on the first and the last (7 + 14 x 8 + 7, Megatron's uneven split,\n"
     "--decoder-first/last-pipeline-num-layers 7).  dp = GPUs / (tp cp 16): the 128K row prints DP\n"
     "4, which gives neither its 16384 GPUs nor its 16M tokens; 8 gives both.  Predicted =\n"
     "model TFLOP/s per GPU counting the full s x s attention (4 b s^2 h per layer, as\n"
     "Narayanan et al.); the paper does not say how it counts attention at 128K.",
     llama3_row},
    {"moe", "moe_published.csv", "TFLOP/s or tokens/s per GPU", "per row", moe_columns,
     sizeof moe_columns / sizeof moe_columns[0],
     "Mixture-of-experts rows (validate/moe_published.csv has the sources): the layout,\n"
     "batch, sequence and data type as published; assumed where the source is silent:\n"
     "the distributed optimizer (zero 1), selective recomputation, sp with tp > 1,\n"
     "flash attention, balanced routing without dropping (Megatron-Bridge force-balances),\n"
     "flat all-to-all, Megatron-Core's framework profile; where pp x vpp does not divide\n"
     "the layers, the uneven split of layout_stages.h (dsv3-report: 61 layers, 3 + 14 x 4\n"
     "+ 2); dsv3-bridge as 64 layers (61 and the embedding, MTP and loss slots of its\n"
     "pipeline layout: no uneven split puts 61 on 8 x 4 chunks); dsv3-report overlaps\n"
     "dispatch and combine (DualPipe).  Predicted = model\n"
     "TFLOP/s per GPU (tflops rows) or tokens/s per GPU (tokens rows).",
     moe_row},
    {"zb", "zb_published.csv", "samples per GPU per second", "samples/s", zb_columns,
     sizeof zb_columns / sizeof zb_columns[0],
     "Qi et al., Zero Bubble Pipeline Parallelism (ICLR 2024, arXiv 2401.10241) Table 4,\n"
     "the settings of their Table 3 (A100 SXM 80G, 8 per node, pipeline parallelism only,\n"
     "sequence 1024), on dgx-a100-80g (HDR IB for their RoCE).  Their 1F1B as 1f1b, ZB-1p\n"
     "(automatic, 1x memory) as zb-auto, ZB-2p (automatic, 2x) as zb-h2 (our 2x order; we\n"
     "have no automatic 2x search), both with the post-validation they introduce.  Assumed\n"
     "where they are silent: vocabulary 50304 (GPT-2's 50257 padded to 128 by Megatron-LM),\n"
     "tied embeddings, fp16, no recomputation, Megatron-Core's profile, and unfused\n"
     "attention (Megatron-LM's default then): their 1F1B memory, 30 GB at 1.5B, holds the\n"
     "5 a s^2 b attention scores per layer of Korthikanti et al. (flash would give ~16).\n"
     "Their 22/30/46/62 layers, one fewer on the first and last stage (Megatron's\n"
     "--decoder-first/last-pipeline-num-layers): validate/schedules.md.",
     zb_row},
};
#define NSTUDIES ((int)(sizeof studies / sizeof studies[0]))

static int on_csv_row(void *ctx, int line, char **f, int n, cs_err *err)
{
    val_run *run = ctx;
    const study *st = run->study;
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
    const study *st = run->study;
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
        printf("  %-14s %s (%s)\n", studies[i].name, studies[i].metric, studies[i].file);
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

static int parse_opts(int argc, char **argv, val_opts *o, const study **st)
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
        if (strcmp(argv[first], studies[i].name) == 0)
            *st = &studies[i];
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
    const study *st = NULL;
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
