/* cli_validate_megatron: the two Megatron-LM studies of `clustersim
 * validate`: Narayanan et al. 2021's weak scaling on A100s (megatron2021)
 * and the Megatron-LM v1.0 release notes' model parallelism on V100s
 * (megatron2019); each one's columns, assumptions and row-to-layout
 * mapping. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli_validate_private.h"

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
    static const int counts[] = {1, 2, 3, 4, 5, 6, 7, 11}; /* heads .. global_batch, micro_batch */
    double counted[8], per_chunk; /* checked only: v holds the values */
    if (val_fields_num(f, 13, line, v, err) != 0 ||
        val_counts_at(f, counts, 8, line, counted, err) != 0 ||
        val_int_at(f, 12, line, 0, VAL_MAX_COUNT, &per_chunk, err) != 0 ||
        val_gpus_split(line, v[6], v[4], v[5], err) != 0)
        return -1;
    const model_desc *m = model_catalog_find_shape("megatron-", (int)v[3], (int)v[2], (int)v[1]);
    if (!m)
        return cs_fail(err, "line %d: no built-in model has %g layers, hidden %g, %g heads", line,
                       v[3], v[2], v[1]);
    int tp = (int)v[4], pp = (int)v[5], gpus = (int)v[6];
    layout_desc l;
    row_layout(m, tp, pp, gpus / (tp * pp), 1, (int)v[7], FRAMEWORK_2021, &l);
    if (mt21_settings(run, line, f, v, m->layers, pp, &l, err) != 0)
        return -1;
    const val_job job = {line, m->name, "dgx-a100-80g", gpus / 8, m, &l,
                         {.gpus = gpus, .tp = tp, .pp = pp, .dp = l.dp, .published = v[8]}};
    estimate_result res;
    val_row *r = val_run_job(run, &job, &res, err);
    if (!r)
        return -1;
    r->predicted = res.hw_tflops_per_gpu;
    estimate_result_free(&res);
    return 0;
}

const val_study val_megatron2021 = {
    "megatron2021", "megatron2021_weak_scaling.csv", "TFLOP/s per GPU", "TF/s", mt21_columns,
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
    mt21_row};

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
    if (val_fields_num(f, 3, line, v, err) != 0 || mt19_model(v[0], line, &m, err) != 0)
        return -1;
    if (!(v[1] >= 1 && v[1] <= 16) || v[1] != floor(v[1])) /* before any cast to int */
        return cs_fail(err, "line %d: %g model-parallel GPUs; a DGX-2H has 16", line, v[1]);
    int tp = (int)v[1];
    layout_desc l;
    row_layout(&m, tp, 1, 1, 8, 8, FRAMEWORK_2019, &l);
    const val_job job = {line, m.name, "dgx2h-v100", 1, &m, &l,
                         {.gpus = tp, .tp = tp, .pp = 1, .dp = 1, .published = v[2]}};
    estimate_result res;
    val_row *r = val_run_job(run, &job, &res, err);
    if (!r)
        return -1;
    r->predicted = res.iteration_s * 1e3;
    estimate_result_free(&res);
    return 0;
}

const val_study val_megatron2019 = {
    "megatron2019", "megatron2019_v100_model_parallel.csv", "iteration time", "ms",
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
    mt19_row};
