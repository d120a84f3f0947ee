/* Unit tests: the framework profiles by dtype and 2019's passes (issue 15
 * review).  Every figure is worked out here from the shapes and the bytes
 * the code of each version moves (framework.c names the lines), not read
 * back from the profiles. */
#include <math.h>
#include <string.h>

#include "devkernel.h"
#include "estimate.h"
#include "fixture.h"
#include "memory.h"
#include "tap.h"
#include "workload.h"
#include "workload_checks.h"

/* Bytes per parameter per microbatch added outside the GEMMs: a 16-bit add
 * reads 2 + 2 and writes 2; an add into an fp32 main_grad reads 2 + 4 and
 * writes 4; 2022's GEMMs accumulate the linear weights themselves only with
 * fp32 main grads (bf16), so its embedding table still goes through the
 * hook; 2019 has no bf16 (its 16-bit .grad either way). */
static void accum_bytes_by_dtype(void)
{
    static const struct { framework_kind k; int bf16, from_gemm; double bytes; } cases[] = {
        {FRAMEWORK_CORE, 0, 1, 0},  {FRAMEWORK_CORE, 1, 0, 0},
        {FRAMEWORK_2021, 0, 1, 6},  {FRAMEWORK_2021, 0, 0, 6},
        {FRAMEWORK_2021, 1, 1, 10}, {FRAMEWORK_2021, 1, 0, 10},
        {FRAMEWORK_2022, 0, 1, 6},  {FRAMEWORK_2022, 0, 0, 6},
        {FRAMEWORK_2022, 1, 1, 0},  {FRAMEWORK_2022, 1, 0, 10},
        {FRAMEWORK_2019, 0, 1, 6},  {FRAMEWORK_2019, 1, 0, 6}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_near(framework_accum_bytes(cases[i].k, cases[i].bf16, cases[i].from_gemm),
                   cases[i].bytes, 0, "framework_accum_bytes");
    CHECK(framework_wgrad_fused(FRAMEWORK_2022, 1) && !framework_wgrad_fused(FRAMEWORK_2022, 0));
    CHECK(!framework_wgrad_fused(FRAMEWORK_2021, 1) && !framework_wgrad_fused(FRAMEWORK_2019, 0));
}

/* 2022's embedding table in bf16 (megatron-1.7b: V = 51200, h = 2304, tp 1):
 * the 2-byte zero fill of the dense gradient and the hook's add into the
 * fp32 main_grad (10) per microbatch, 12 in all; no tied sum at pp 1 (the
 * output layer's GEMM adds into main_grad itself).  In fp16: the zero fill
 * and the tied sum (6) at pp 1, and a 6-byte add into the 16-bit buffer.
 * Seen in the first stage's backward at pp 2 beyond the lookup's gradient
 * (T x h, read 2 write 4), every one of 2 microbatches adding. */
static void emb_2022_by_dtype(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 1, "megatron-1.7b", 1, 1, 8, 8);
    const dev_type *dev = estimate_device(f.t);
    double table = 51200.0 * 2304, bw = hbm_rate(dev), gap = f.eff.kernel_gap_s;
    static const struct { model_dtype d; double pp1, add; } cases[] = {
        {MODEL_BF16, 2, 10}, {MODEL_FP16, 2 + 6, 6}};
    f.l.framework = FRAMEWORK_2022;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.l.dtype = cases[i].d;
        f.l.pp = 1;
        f.l.dp = 8;
        int kernels = cases[i].pp1 > 2 ? 2 : 1;
        check_near(workload_emb_grad_s(&f.m, &f.l, dev, &f.eff),
                   table * cases[i].pp1 / bw + kernels * gap, 1e-12, "tied, pp 1");
        f.l.pp = 2;
        f.l.dp = 4;
        workload_chunk all, layers;
        workload_chunk_of(&f.m, &f.l, dev, &f.eff, 0, 0, &all);
        workload_chunk_layers(&f.m, &f.l, dev, &f.eff, 0, &layers);
        double want_s = 2048.0 * 2304 * 6 / bw + gap + table * 2 / bw + gap +
                        table * cases[i].add / bw + gap;
        check_near(all.bwd_s - layers.bwd_s, want_s, 1e-12, "first stage backward");
    }
    topo_free(f.t);
}

/* The gradients' zeroing each iteration, in the step's term at dp 1 (no
 * reduction to pack): every parameter of the stage, 2019 6 bytes (16-bit
 * model grads 2, fp32 master grads 4), 2021 none in fp16 (set to None) and
 * 4 in bf16 (the fp32 buffer), 2022 2 (its 16-bit buffer) and 4. */
static void grad_zero_bytes(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 1, "megatron-1.7b", 1, 1, 1, 1);
    const dev_type *dev = estimate_device(f.t);
    double params = memory_stage_params(&f.m, &f.l, 0), gap = f.eff.kernel_gap_s;
    static const struct { framework_kind k; model_dtype d; double opt, zero; } cases[] = {
        {FRAMEWORK_2019, MODEL_FP16, 54, 6}, {FRAMEWORK_2021, MODEL_FP16, 52, 0},
        {FRAMEWORK_2021, MODEL_BF16, 52, 4}, {FRAMEWORK_2022, MODEL_FP16, 52, 2},
        {FRAMEWORK_2022, MODEL_BF16, 52, 4}, {FRAMEWORK_CORE, MODEL_BF16, 28, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.l.framework = cases[i].k;
        f.l.dtype = cases[i].d;
        check_near(framework_grad_zero_bytes(cases[i].k, cases[i].d != MODEL_FP16),
                   cases[i].zero, 0, "framework_grad_zero_bytes");
        CHECK_REL(workload_optimizer_s(&f.m, &f.l, dev, &f.eff, 0) - gap,
                  params * (cases[i].opt + cases[i].zero) / hbm_rate(dev), 1e-9);
    }
    topo_free(f.t);
}

/* 2019's attention (f86bb67 model/transformer.py) against megatron-core's
 * pricing on megatron-1.7b without biases (h = 2304, T = 2048, tp 1): the
 * query and the key divided by sqrt(sqrt(d)) forward (read and write of
 * T x h each) and their gradients divided again backward, the context's
 * permute-contiguous forward (T x h), split's concatenation of the QKV
 * gradient backward (T x 3h); 2021 has all but the forward divisions. */
static void attention_copies_2019(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 1, "megatron-1.7b", 1, 1, 1, 1);
    f.m.linear_bias = 0;
    f.l.flash_attention = 0;
    const dev_type *dev = estimate_device(f.t);
    double t = 2048, h = 2304, bw = hbm_rate(dev), gap = f.eff.kernel_gap_s;
    double copy_s = 2 * t * h * 2 / bw + gap; /* read and write of T x h */
    workload_op core[WORKLOAD_MAX_OPS], y[WORKLOAD_MAX_OPS];
    f.l.framework = FRAMEWORK_CORE;
    int n = workload_layer_ops(&f.m, &f.l, dev, &f.eff, core);
    static const struct { framework_kind k; double qk_fwd_copies; } cases[] = {
        {FRAMEWORK_2019, 2}, {FRAMEWORK_2021, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.l.framework = cases[i].k;
        CHECK_EQ_INT(workload_layer_ops(&f.m, &f.l, dev, &f.eff, y), n);
        const workload_op *qk = op_named(y, n, "attention QK^T");
        const workload_op *qk0 = op_named(core, n, "attention QK^T");
        check_near(qk->fwd_s - qk0->fwd_s, cases[i].qk_fwd_copies * copy_s, 1e-12, "divisions");
        check_near(qk->bwd_s - qk0->bwd_s, 2 * copy_s, 1e-12, "their backward");
        check_near(op_named(y, n, "attention PV")->fwd_s - op_named(core, n, "attention PV")->fwd_s,
                   copy_s, 1e-12, "context copy");
        check_near(op_named(y, n, "qkv")->bwd_s - op_named(core, n, "qkv")->bwd_s,
                   2 * t * 3 * h * 2 / bw + gap, 1e-12, "split's concatenation");
    }
    topo_free(f.t);
}

TAP_MAIN({"accum_bytes_by_dtype", accum_bytes_by_dtype}, {"emb_2022_by_dtype", emb_2022_by_dtype},
         {"grad_zero_bytes", grad_zero_bytes}, {"attention_copies_2019", attention_copies_2019})
