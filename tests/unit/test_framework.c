/* Unit tests: framework profiles.  The optimizer and accumulation bytes of
 * each profile, and the overlap each promises visible in the breakdown of
 * both the closed form and the simulation. */
#include <math.h>
#include <string.h>

#include "commcost.h"
#include "devkernel.h"
#include "estimate.h"
#include "fixture.h"
#include "memory.h"
#include "tap.h"
#include "trainsim.h"
#include "workload.h"
#include "workload_checks.h"


/* Adam alone 28 B/param, Megatron-LM's fp16 optimizers 52 (2021, 2022) and
 * 54 (2019): the step's bandwidth time scales with them; in fp16 the
 * per-iteration zeroing of the gradients adds 2 (2022's 16-bit buffer) and
 * 6 (2019's 16-bit model and fp32 master grads), none for 2021 (None). */
static void optimizer_bytes(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 1, "megatron-1.7b", 1, 1, 1, 1);
    const dev_type *dev = estimate_device(f.t);
    double gap = f.eff.kernel_gap_s, params = memory_stage_params(&f.m, &f.l, 0);
    static const struct { framework_kind k; double bytes, zero; } cases[] = {
        {FRAMEWORK_CORE, 28, 0}, {FRAMEWORK_2021, 52, 0}, {FRAMEWORK_2022, 52, 2},
        {FRAMEWORK_2019, 54, 2 + 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.l.framework = cases[i].k;
        CHECK_REL(framework_of(cases[i].k)->optimizer_bytes_per_param, cases[i].bytes, 1e-12);
        double t = workload_optimizer_s(&f.m, &f.l, dev, &f.eff, 0) - gap;
        CHECK_REL(t, params * (cases[i].bytes + cases[i].zero) /
                         hbm_rate(dev), 1e-9);
    }
    topo_free(f.t);
}

/* Gradients reduced as separate tensors (2019, and 2021 in fp16) are
 * flattened, divided and copied back around the all-reduce: 12 bytes per
 * parameter more in the step after the backward, only with dp > 1, in the
 * closed form's and the simulation's optimizer term alike; a contiguous
 * buffer (2021 in bf16, 2022) is still divided by dp in place: 8 bytes in
 * fp32 (bf16), 4 in fp16 (2022's 16-bit buffer); Megatron-Core scales each
 * bucket by 1/dp the same way (8 in bf16, 4 in fp16). */
static void dp_pack_bytes(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 4, "megatron-1.7b", 1, 1, 32, 32);
    const dev_type *dev = estimate_device(f.t);
    double gap = f.eff.kernel_gap_s, params = memory_stage_params(&f.m, &f.l, 0);
    /* packed bytes per parameter by profile (framework_kind order) in fp16, bf16 */
    static const double pack[][2] = {[FRAMEWORK_CORE] = {4, 8}, [FRAMEWORK_2021] = {12, 8},
                                     [FRAMEWORK_2022] = {4, 8}, [FRAMEWORK_2019] = {12, 12}};
    /* and the gradients' zeroing each iteration (optimizer_bytes; bf16: the
     * fp32 buffer of 2021 and 2022) */
    static const double zero[][2] = {[FRAMEWORK_CORE] = {0, 0}, [FRAMEWORK_2021] = {0, 4},
                                     [FRAMEWORK_2022] = {2, 4}, [FRAMEWORK_2019] = {6, 6}};
    double hbm = hbm_rate(dev);
    for (int i = 0; i < 2 * (int)(sizeof pack / sizeof pack[0]); i++) {
        int bf16 = i % 2;
        f.l.framework = (framework_kind)(i / 2);
        f.l.dtype = bf16 ? MODEL_BF16 : MODEL_FP16;
        double want = pack[i / 2][bf16];
        CHECK_REL(framework_dp_pack_bytes(f.l.framework, bf16), want, 1e-12);
        double t = workload_optimizer_s(&f.m, &f.l, dev, &f.eff, 0);
        CHECK_REL(t - gap, params * (framework_of(f.l.framework)->optimizer_bytes_per_param + want +
                                     zero[i / 2][bf16]) / hbm, 1e-9);
        f.l.dp = 1; /* nothing to reduce, nothing to pack */
        CHECK_REL(t - workload_optimizer_s(&f.m, &f.l, dev, &f.eff, 0), params * want / hbm, 1e-9);
        f.l.dp = 32;
        estimate_result a, s;
        CHECK(estimate_analytic(&f.in, &a, NULL) == 0);
        CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &s, NULL, NULL) == 0);
        CHECK_REL(a.stages[0].optimizer_s, t, 1e-9);
        CHECK_REL(s.stages[0].optimizer_s, t, 1e-6);
        estimate_result_free(&a);
        estimate_result_free(&s);
    }
    topo_free(f.t);
}

/* fp16: 2021's autograd adds each microbatch's weight gradients into .grad,
 * 6 bytes per parameter of every layer (read 2 + 2, write 2) on the
 * backward pass, for 3 of every 4 microbatches here (the first's gradient
 * is taken as it is); 2022's hook adds all 4 into its 16-bit buffer (its
 * GEMM fusion needs fp32 main grads); bf16: 2021's hook adds all 4 into the
 * fp32 main_grad, 10 bytes (read 2 + 4, write 4), 2022 fuses it into the
 * GEMM, as Megatron-Core always (no extra time).  Seen as the
 * chunk's backward beyond its layers' operators (a middle stage: layers
 * only); the operators' own differences by profile are other tests'. */
static void accumulation_bytes(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 4, "megatron-18.4b", 8, 4, 1, 4);
    const dev_type *dev = estimate_device(f.t);
    int layers = layout_layers_per_chunk(&f.l, &f.m);
    double params = model_params_per_layer(&f.m) / f.l.tp;
    double bw = hbm_rate(dev), gap = f.eff.kernel_gap_s;
    static const struct { framework_kind k; model_dtype d; double bytes, share; } cases[] = {
        {FRAMEWORK_CORE, MODEL_FP16, 0, 0}, {FRAMEWORK_2021, MODEL_FP16, 6, 0.75},
        {FRAMEWORK_2022, MODEL_FP16, 6, 1}, {FRAMEWORK_2021, MODEL_BF16, 10, 1},
        {FRAMEWORK_2022, MODEL_BF16, 0, 0}, {FRAMEWORK_CORE, MODEL_BF16, 0, 0},
        {FRAMEWORK_2019, MODEL_FP16, 6, 1}}; /* 2019: into the zero-filled .grad */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.l.framework = cases[i].k;
        f.l.dtype = cases[i].d;
        workload_chunk c;
        workload_chunk_of(&f.m, &f.l, dev, &f.eff, 1, 0, &c);
        workload_op ops[WORKLOAD_MAX_OPS];
        int n = workload_layer_ops(&f.m, &f.l, dev, &f.eff, ops);
        double fwd_s = 0, bwd_s = 0;
        for (int j = 0; j < n; j++) {
            fwd_s += ops[j].fwd_s;
            bwd_s += ops[j].bwd_s;
        }
        double per_layer = cases[i].bytes > 0 ? params * cases[i].bytes / bw + gap : 0;
        check_near(c.bwd_s - layers * bwd_s, layers * per_layer * cases[i].share, 1e-9,
                   "accumulation");
        check_near(c.fwd_s, layers * fwd_s, 1e-9, "forward");
    }
    CHECK_REL(framework_accum_share(FRAMEWORK_2021, 1, 4), 1, 1e-12);
    CHECK_REL(framework_accum_share(FRAMEWORK_2021, 0, 4), 0.75, 1e-12);
    CHECK_REL(framework_accum_share(FRAMEWORK_2022, 0, 4), 1, 1e-12);
    topo_free(f.t);
}

/* Data parallelism: Megatron-Core reduces buckets during the last backward
 * pass, 2021 the whole buffer after it, so 2021's exposed data-parallel time
 * is the full reduction and more than Megatron-Core's, in both modes. */
static void dp_overlap_shows(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 4, "megatron-1.7b", 8, 1, 4, 16);
    estimate_result core_a, old_a, core_s, old_s;
    f.l.framework = FRAMEWORK_CORE;
    CHECK(estimate_analytic(&f.in, &core_a, NULL) == 0);
    CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &core_s, NULL, NULL) == 0);
    f.l.framework = FRAMEWORK_2021;
    CHECK(estimate_analytic(&f.in, &old_a, NULL) == 0);
    CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &old_s, NULL, NULL) == 0);
    commcost cc;
    CHECK(commcost_build(f.t, &f.m, &f.l, NULL, &cc, NULL) == 0);
    CHECK(cc.stages[0].buckets == 1); /* one all-reduce of every gradient */
    CHECK_REL(old_a.stages[0].dp_exposed_s, cc.stages[0].dp_last_bucket_s, 1e-9);
    CHECK_REL(old_s.stages[0].dp_exposed_s, cc.stages[0].dp_last_bucket_s, 0.01);
    CHECK(core_a.stages[0].dp_exposed_s < 0.8 * old_a.stages[0].dp_exposed_s);
    CHECK(core_s.stages[0].dp_exposed_s < 0.8 * old_s.stages[0].dp_exposed_s);
    printf("# exposed dp: core %.4f s (sim %.4f), 2021 %.4f s (sim %.4f)\n",
           core_a.stages[0].dp_exposed_s, core_s.stages[0].dp_exposed_s,
           old_a.stages[0].dp_exposed_s, old_s.stages[0].dp_exposed_s);
    commcost_free(&cc);
    estimate_result *all[] = {&core_a, &old_a, &core_s, &old_s};
    for (int i = 0; i < 4; i++)
        estimate_result_free(all[i]);
    topo_free(f.t);
}

/* bf16 training all-reduces fp32 gradients (Megatron-LM forces
 * accumulate_allreduce_grads_in_fp32 for bf16): 4 bytes per parameter under
 * 2021, 2022 and Megatron-Core, 2 under fp16 and under 2019; the bucket and
 * the whole-buffer all-reduce carry those bytes, a ZeRO parameter all-gather
 * stays 16-bit; the exposed 2022 data-parallel time is that of an all-reduce
 * of the fp32 buffer, in both modes. */
static void fp32_gradient_reduce(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 4, "megatron-1.7b", 8, 1, 4, 16);
    double params = memory_stage_params(&f.m, &f.l, 0);
    static const struct { framework_kind k; model_dtype d; double bytes; } cases[] = {
        {FRAMEWORK_2022, MODEL_BF16, 4}, {FRAMEWORK_2021, MODEL_BF16, 4},
        {FRAMEWORK_CORE, MODEL_BF16, 4}, {FRAMEWORK_2022, MODEL_FP16, 2},
        {FRAMEWORK_2019, MODEL_BF16, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.l.framework = cases[i].k;
        f.l.dtype = cases[i].d;
        CHECK_REL(workload_grad_reduce_bytes(&f.m, &f.l, 0), cases[i].bytes * params, 1e-12);
        CHECK_REL(workload_grad_bytes(&f.m, &f.l, 0), 2 * params, 1e-12);
    }
    f.l.framework = FRAMEWORK_2022;
    double exposed[2][2];
    for (int bf16 = 0; bf16 < 2; bf16++) {
        f.l.dtype = bf16 ? MODEL_BF16 : MODEL_FP16;
        commcost cc;
        estimate_result a, s;
        CHECK(commcost_build(f.t, &f.m, &f.l, NULL, &cc, NULL) == 0);
        CHECK(cc.stages[0].buckets == 1);
        CHECK_REL((double)cc.stages[0].last_bucket_bytes, (bf16 ? 4 : 2) * params, 1e-6);
        CHECK(estimate_analytic(&f.in, &a, NULL) == 0);
        CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &s, NULL, NULL) == 0);
        CHECK_REL(a.stages[0].dp_exposed_s, cc.stages[0].dp_last_bucket_s, 1e-9);
        CHECK_REL(s.stages[0].dp_exposed_s, cc.stages[0].dp_last_bucket_s, 0.01);
        exposed[bf16][0] = a.stages[0].dp_exposed_s;
        exposed[bf16][1] = s.stages[0].dp_exposed_s;
        commcost_free(&cc);
        estimate_result_free(&a);
        estimate_result_free(&s);
    }
    printf("# exposed dp fp16 %.4f s, bf16 (fp32 grads) %.4f s\n", exposed[0][0], exposed[1][0]);
    CHECK(exposed[1][0] > 1.8 * exposed[0][0]); /* twice the bytes, the same latency */
    CHECK(exposed[1][1] > 1.8 * exposed[0][1]);
    topo_free(f.t);
}

/* 2022 runs the QKV and MLP-up backward all-reduce under their weight-
 * gradient GEMMs: the stage's tensor-parallel time drops by, per layer and
 * microbatch, min(all-reduce, wgrad) of each, in the closed form and in the
 * simulation (folded and every rank), and so does the iteration. */
static void tp_overlap_shows(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 1, "megatron-7.5b", 8, 1, 1, 4);
    const dev_type *dev = estimate_device(f.t);
    estimate_result r[2][3];
    for (int k = 0; k < 2; k++) {
        f.l.framework = k ? FRAMEWORK_2022 : FRAMEWORK_2021;
        CHECK(estimate_analytic(&f.in, &r[k][0], NULL) == 0);
        CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &r[k][1], NULL, NULL) == 0);
        CHECK(trainsim_run(&f.in, TRAINSIM_ALL_RANKS, &r[k][2], NULL, NULL) == 0);
    }
    commcost cc;
    CHECK(commcost_build(f.t, &f.m, &f.l, NULL, &cc, NULL) == 0);
    workload_chunk w;
    workload_chunk_of(&f.m, &f.l, dev, &f.eff, 0, 0, &w);
    CHECK(w.tp_bwd_windows == 2);
    double ar = cc.stages[0].tp_allreduce_s, hidden = 0;
    for (int i = 0; i < 2; i++)
        hidden += fmin(ar, w.tp_bwd_window_s[i]);
    hidden *= f.m.layers * layout_microbatches(&f.l);
    CHECK(hidden > 0);
    CHECK_REL(r[0][0].stages[0].tp_comm_s - r[1][0].stages[0].tp_comm_s, hidden, 1e-6);
    CHECK_REL(r[0][1].stages[0].tp_comm_s - r[1][1].stages[0].tp_comm_s, hidden, 1e-3);
    /* the iteration gains that, plus the difference of the fp16 gradient
     * accumulations (2021 adds 3 of 4 microbatches into .grad, 2022 all 4
     * into its 16-bit buffer: a loss, compute) and of the steps (2022 zeroes
     * its buffer each iteration) */
    double adds = r[0][0].stages[0].compute_s - r[1][0].stages[0].compute_s;
    double steps = r[0][0].stages[0].optimizer_s - r[1][0].stages[0].optimizer_s;
    CHECK(adds < 0 && steps < 0);
    CHECK_REL(r[0][0].iteration_s - r[1][0].iteration_s, hidden + adds + steps, 1e-3);
    CHECK_REL(r[0][1].iteration_s - r[1][1].iteration_s, hidden + adds + steps, 1e-3);
    CHECK_REL(r[0][2].iteration_s - r[1][2].iteration_s, hidden + adds + steps, 0.02);
    commcost_free(&cc);
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 3; j++)
            estimate_result_free(&r[k][j]);
    topo_free(f.t);
}

/* The terms every profile has: the backward re-all-gather of the QKV and
 * MLP-up inputs under sp, the all-gather after a scatter-gather receive, the
 * residual gradient adds, and the tied embedding's all-reduce between the
 * first and last stage (closed form and simulation). */
static void left_out_terms(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 2, "megatron-1.7b", 8, 2, 1, 8);
    const dev_type *dev = estimate_device(f.t);
    int layers = layout_layers_per_chunk(&f.l, &f.m);
    workload_chunk first, second;
    workload_chunk_of(&f.m, &f.l, dev, &f.eff, 0, 0, &first);
    workload_chunk_of(&f.m, &f.l, dev, &f.eff, 1, 0, &second);
    CHECK_EQ_INT(first.tp_fwd.allgather, 0);   /* stage 0 receives nothing */
    CHECK_EQ_INT(first.tp_bwd.allgather, 1);   /* the gradient from stage 1 */
    CHECK_EQ_INT(second.tp_fwd.allgather, 1);  /* the activation from stage 0 */
    f.l.sp = 1;
    workload_chunk_of(&f.m, &f.l, dev, &f.eff, 1, 0, &second);
    CHECK_EQ_INT(second.tp_bwd.allgather, 4 * layers); /* 2 per layer + 2 re-gathers */
    CHECK_EQ_INT(second.tp_fwd.allgather, 2 * layers + 1); /* + the head's; no p2p gather */
    f.l.sp = 0;
    workload_op ops[WORKLOAD_MAX_OPS];
    workload_layer_ops(&f.m, &f.l, dev, &f.eff, ops);
    double act = f.l.mbs * (double)f.m.seq_len * f.m.hidden * 2;
    CHECK_REL(ops[0].bwd_s, 2 * opcost_membound_s(dev, &f.eff, 3 * act), 1e-12); /* norm + add */

    estimate_result a, sim;
    CHECK(estimate_analytic(&f.in, &a, NULL) == 0);
    CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &sim, NULL, NULL) == 0);
    commcost cc;
    CHECK(commcost_build(f.t, &f.m, &f.l, NULL, &cc, NULL) == 0);
    CHECK(f.l.dtype == MODEL_FP16);
    CHECK(cc.emb_bytes == (uint64_t)((double)f.m.vocab * f.m.hidden / 8 * 2));
    CHECK(cc.emb_s > 0);
    {   /* bf16: the embedding's main_grad is fp32, 4 bytes per parameter */
        commcost bf;
        f.l.dtype = MODEL_BF16;
        CHECK(commcost_build(f.t, &f.m, &f.l, NULL, &bf, NULL) == 0);
        CHECK(bf.emb_bytes == (uint64_t)((double)f.m.vocab * f.m.hidden / 8 * 4));
        CHECK(bf.emb_s > cc.emb_s);
        commcost_free(&bf);
        f.l.dtype = MODEL_FP16;
    }
    CHECK(a.stages[0].dp_exposed_s >= cc.emb_s * 0.999); /* dp 1: all of it is the embedding */
    CHECK_REL(sim.stages[0].dp_exposed_s, a.stages[0].dp_exposed_s, 0.05);
    CHECK_REL(sim.iteration_s, a.iteration_s, 0.02);
    commcost_free(&cc);
    estimate_result_free(&a);
    estimate_result_free(&sim);
    topo_free(f.t);
}

/* The loss: 2021 and 2022 run Megatron-LM's unfused fp32 cross-entropy (38
 * bytes per logit forward, 14 backward), 2019 also clones the fp32 logits
 * (46 forward), Megatron-Core keeps 14 and 6; only the head's stage moves. */
static void cross_entropy_bytes(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 1, "megatron-1.7b", 1, 1, 1, 1);
    f.m.linear_bias = 0; /* the profiles' bias passes apart (bias_passes) */
    const dev_type *dev = estimate_device(f.t);
    static const framework_kind kinds[] = {FRAMEWORK_CORE, FRAMEWORK_2022, FRAMEWORK_2019};
    workload_chunk c[3], layers;
    for (int i = 0; i < 3; i++) { /* the embedding and the head: all but the layers */
        f.l.framework = kinds[i];
        workload_chunk_of(&f.m, &f.l, dev, &f.eff, 0, 0, &c[i]);
        workload_chunk_layers(&f.m, &f.l, dev, &f.eff, 0, &layers);
        c[i].fwd_s -= layers.fwd_s;
        c[i].bwd_s -= layers.bwd_s;
    }
    double logits = (double)f.m.seq_len * f.l.mbs * f.m.vocab;
    double per_byte = logits / (hbm_rate(dev));
    CHECK_REL(c[1].fwd_s - c[0].fwd_s, (38 - 14) * per_byte, 1e-9);
    f.l.framework = FRAMEWORK_2022; /* and its embedding gradient (embedding_grad_bytes) */
    double act = (double)f.m.seq_len * f.m.hidden * 2; /* and the final norm's re-read */
    double table = (double)f.m.vocab * f.m.hidden; /* the fp16 hook's add: 6 B per entry */
    double emb_s = workload_emb_grad_s(&f.m, &f.l, dev, &f.eff) +
                   opcost_membound_s(dev, &f.eff, table * 6) +
                   opcost_membound_s(dev, &f.eff, 2 * act) + f.eff.kernel_gap_s;
    CHECK_REL(c[1].bwd_s - c[0].bwd_s - emb_s, (14 - 6) * per_byte, 1e-9);
    CHECK_REL(c[2].fwd_s - c[1].fwd_s, (46 - 38) * per_byte, 1e-9);
    CHECK_REL(framework_of(FRAMEWORK_2021)->xent_fwd_bytes_per_logit, 38, 1e-12);
    topo_free(f.t);
}

/* Biases outside the GEMMs (issue 15).  megatron-1.7b (hidden h = 2304) at
 * tp 1, one microbatch of T = 2048 tokens: 2021 and 2022 add the QKV bias
 * in a pass of its own, T x 3h elements read and written in 16 bits
 * (4 bytes each), also when the layer is recomputed; 2019 adds every
 * linear's bias so, T x 9h (QKV 3h, projection h, MLP up 4h, MLP down h);
 * all three reduce each linear's output gradient over the tokens for its
 * bias gradient, T x 9h elements read (2 bytes each) in four kernels, weight
 * gradients; Megatron-Core neither.  Derived here from the shapes, against
 * the same model without biases, per layer and in both modes' compute and
 * recompute terms (16 microbatches of 24 layers). */
static void bias_passes(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 4, "megatron-1.7b", 1, 1, 32, 512);
    f.l.flash_attention = 0;
    f.l.recompute = LAYOUT_RECOMPUTE_FULL;
    const dev_type *dev = estimate_device(f.t);
    double t = 2048, h = 2304, bw = hbm_rate(dev);
    double gap = f.eff.kernel_gap_s, layers = 24, microbatches = 16;
    double grads_s = t * 9 * h * 2 / bw + 4 * gap;
    static const struct { framework_kind k; double fwd_s; int grads; double share; } cases[] = {
        {FRAMEWORK_CORE, 0, 0, 0},
        {FRAMEWORK_2021, 2048.0 * 3 * 2304 * 4, 1, 15.0 / 16},
        {FRAMEWORK_2022, 2048.0 * 3 * 2304 * 4, 1, 1},
        {FRAMEWORK_2019, 2048.0 * 9 * 2304 * 4, 1, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double fwd_s = cases[i].fwd_s > 0 ? cases[i].fwd_s / bw : 0;
        fwd_s += cases[i].k == FRAMEWORK_2019 ? 4 * gap : cases[i].fwd_s > 0 ? gap : 0;
        double bwd_s = cases[i].grads ? grads_s : 0;
        double sum[2][3] = {{0}}; /* with, without biases: fwd, bwd, bwd_weight */
        estimate_result a[2], s[2];
        f.l.framework = cases[i].k;
        for (int bias = 1; bias >= 0; bias--) {
            workload_op ops[WORKLOAD_MAX_OPS];
            f.m.linear_bias = bias;
            int n = workload_layer_ops(&f.m, &f.l, dev, &f.eff, ops);
            for (int j = 0; j < n; j++) {
                sum[1 - bias][0] += ops[j].fwd_s;
                sum[1 - bias][1] += ops[j].bwd_s;
                sum[1 - bias][2] += ops[j].bwd_weight_s;
            }
            CHECK(estimate_analytic(&f.in, &a[1 - bias], NULL) == 0);
            CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &s[1 - bias], NULL, NULL) == 0);
        }
        check_near(sum[0][0] - sum[1][0], fwd_s, 1e-12, "layer forward");
        check_near(sum[0][1] - sum[1][1], bwd_s, 1e-12, "layer backward");
        check_near(sum[0][2] - sum[1][2], bwd_s, 1e-12, "weight gradients"); /* bias grads are */
        double runs = layers * microbatches; /* and the fp16 add of the 9h biases' grads */
        double accum_s = framework_of(cases[i].k)->accum_bytes_per_param * 9 * h / bw *
                         cases[i].share; /* 2021: the first microbatch's taken, not added */
        for (int mode = 0; mode < 2; mode++) {
            estimate_stage *with = mode ? &s[0].stages[0] : &a[0].stages[0];
            estimate_stage *without = mode ? &s[1].stages[0] : &a[1].stages[0];
            check_near(with->compute_s - without->compute_s, runs * (fwd_s + bwd_s + accum_s),
                       1e-9, "compute_s");
            check_near(with->recompute_s - without->recompute_s, runs * fwd_s, 1e-9, "recompute_s");
        }
        for (int j = 0; j < 2; j++) {
            estimate_result_free(&a[j]);
            estimate_result_free(&s[j]);
        }
    }
    topo_free(f.t);
}

/* The embedding table's gradient (issue 15), fp16: the dense V x h gradient
 * PyTorch zero-fills (2 bytes per entry) under 2019, 2021 and 2022, and at
 * pp 1 a tied table's two gradients summed by autograd (6 more; 2022 too,
 * whose GEMM fusion is off in fp16); megatron-core none.  Derived from
 * megatron-1.7b's shape (V = 51200, h = 2304, tp 1), and seen in the first
 * stage's backward at pp 2: the lookup's gradient (T x h, read 2 write 4),
 * the 6-byte accumulation of the table (2021: 1 of 2 microbatches) and
 * these passes. */
static void embedding_grad_bytes(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 1, "megatron-1.7b", 1, 1, 8, 8);
    const dev_type *dev = estimate_device(f.t);
    double table = 51200.0 * 2304, bw = hbm_rate(dev);
    double gap = f.eff.kernel_gap_s;
    static const struct { framework_kind k; double pp1_s, pp2_s, accum, share; } cases[] = {
        {FRAMEWORK_CORE, 0, 0, 0, 0},
        {FRAMEWORK_2021, 2 + 6, 2, 6, 0.5},
        {FRAMEWORK_2022, 2 + 6, 2, 6, 1},
        {FRAMEWORK_2019, 2 + 6, 2, 6, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.l.framework = cases[i].k;
        int kernels = (cases[i].pp1_s > 0) + (cases[i].pp1_s > cases[i].pp2_s);
        f.l.pp = 1;
        check_near(workload_emb_grad_s(&f.m, &f.l, dev, &f.eff),
                   table * cases[i].pp1_s / bw + kernels * gap, 1e-12, "tied, pp 1");
        f.l.pp = 2;
        f.l.dp = 4;
        double pp2_s = cases[i].pp2_s > 0 ? table * cases[i].pp2_s / bw + gap : 0;
        check_near(workload_emb_grad_s(&f.m, &f.l, dev, &f.eff), pp2_s, 1e-12, "pp 2");
        workload_chunk all, layers;
        workload_chunk_of(&f.m, &f.l, dev, &f.eff, 0, 0, &all);
        workload_chunk_layers(&f.m, &f.l, dev, &f.eff, 0, &layers);
        double accum = cases[i].accum;
        double lookup_s = 2048.0 * 2304 * 6 / bw + gap + /* 2 microbatches: 2021 adds 1 */
                          (accum > 0 ? (table * accum / bw + gap) * cases[i].share : 0);
        check_near(all.bwd_s - layers.bwd_s, lookup_s + pp2_s, 1e-12, "first stage backward");
        f.l.dp = 8;
    }
    topo_free(f.t);
}

/* Attention and norms as Megatron-LM 2021 runs them (issue 15), against
 * megatron-core's pricing on megatron-1.7b without biases (h = 2304, 24
 * heads of d = 96, T = s = 2048, one microbatch), derived from the shapes:
 * the causal softmax kernel reads the (s + 1) / 2s unmasked share of the
 * scores (forward 2 x share + 2 bytes per score, backward 4 x share + 2),
 * not at tp 8 and microbatch 1 or 2 (3 heads per GPU: b x heads % 4 != 0,
 * the fp32 branch), again at microbatch 4 (b x heads = 12);
 * the context's permute copy (read and write of T x h) forward, the two
 * alpha scalings (T x h each) and split's concatenation (T x 3h) backward;
 * the layer norm's backward re-read of input and gradient (T x h each) plus
 * the partial sums' kernel. */
static void attention_norm_passes(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 1, "megatron-1.7b", 1, 1, 1, 1);
    f.m.linear_bias = 0; /* the bias passes apart */
    f.l.flash_attention = 0;
    const dev_type *dev = estimate_device(f.t);
    double s = 2048, t = 2048, h = 2304, scores = 24 * s * s;
    double bw = hbm_rate(dev), gap = f.eff.kernel_gap_s;
    workload_op core[WORKLOAD_MAX_OPS], y2021[WORKLOAD_MAX_OPS];
    f.l.framework = FRAMEWORK_CORE;
    int n = workload_layer_ops(&f.m, &f.l, dev, &f.eff, core);
    f.l.framework = FRAMEWORK_2021;
    CHECK_EQ_INT(workload_layer_ops(&f.m, &f.l, dev, &f.eff, y2021), n);
    double share = (s + 1) / (2 * s);
    const workload_op *sc = op_named(core, n, "softmax"), *s21 = op_named(y2021, n, "softmax");
    check_near(sc->fwd_s, scores * 4 / bw + gap, 1e-12, "softmax forward, core");
    check_near(s21->fwd_s, scores * (2 * share + 2) / bw + gap, 1e-12, "softmax forward");
    check_near(s21->bwd_s, scores * (4 * share + 2) / bw + gap, 1e-12, "softmax backward");
    double copy_s = 2 * t * h * 2 / bw + gap; /* read and write of T x h */
    check_near(op_named(y2021, n, "attention PV")->fwd_s - op_named(core, n, "attention PV")->fwd_s,
               copy_s, 1e-12, "context copy");
    check_near(op_named(y2021, n, "attention QK^T")->bwd_s -
                   op_named(core, n, "attention QK^T")->bwd_s, 2 * copy_s, 1e-12, "alpha");
    check_near(op_named(y2021, n, "qkv")->bwd_s - op_named(core, n, "qkv")->bwd_s,
               2 * t * 3 * h * 2 / bw + gap, 1e-12, "split's concatenation");
    check_near(op_named(y2021, n, "norm2")->bwd_s - op_named(core, n, "norm2")->bwd_s,
               2 * t * h * 2 / bw + 2 * gap, 1e-12, "norm re-read");
    f.l.tp = 8; /* 3 heads per GPU: the code's fp32 branch, pass by pass (aed2f75
                 * fused_softmax.py): float(), * scale, masked_fill_, Softmax, half() */
    n = workload_layer_ops(&f.m, &f.l, dev, &f.eff, y2021);
    double fp32_fwd = (2 + 4) + (4 + 4) + (4 + 4) + (4 + 4) + (4 + 2);
    double fp32_bwd = (2 + 4) + (4 + 4 + 4) + (4 + 4) + (4 + 4) + (4 + 2);
    check_near(op_named(y2021, n, "softmax")->fwd_s, scores / 8 * fp32_fwd / bw + gap, 1e-12,
               "softmax forward, no kernel");
    check_near(op_named(y2021, n, "softmax")->bwd_s, scores / 8 * fp32_bwd / bw + gap, 1e-12,
               "softmax backward, no kernel");
    /* The condition is on b x heads/tp (attn_batch_size = b x np), not on the
     * heads alone: microbatch 2 gives 6 (still the fp32 branch), microbatch 4
     * gives 12 (the kernel, though 3 heads % 4 != 0); scores b x 3 x s^2. */
    static const struct { int mbs; int kernel; } mb[] = {{2, 0}, {4, 1}};
    for (int i = 0; i < 2; i++) {
        f.l.mbs = mb[i].mbs;
        n = workload_layer_ops(&f.m, &f.l, dev, &f.eff, y2021);
        double sc_mb = mb[i].mbs * 3 * s * s;
        double fwd = mb[i].kernel ? 2 * share + 2 : fp32_fwd;
        double bwd = mb[i].kernel ? 4 * share + 2 : fp32_bwd;
        check_near(op_named(y2021, n, "softmax")->fwd_s, sc_mb * fwd / bw + gap, 1e-12,
                   "softmax forward, microbatch 2 / 4");
        check_near(op_named(y2021, n, "softmax")->bwd_s, sc_mb * bwd / bw + gap, 1e-12,
                   "softmax backward, microbatch 2 / 4");
    }
    topo_free(f.t);
}

static void names_parse(void)
{
    framework_kind k;
    cs_err err;
    CHECK(framework_parse("megatron-2021", "--framework", &k, &err) == 0 && k == FRAMEWORK_2021);
    CHECK(framework_parse("megatron-core", "--framework", &k, &err) == 0 && k == FRAMEWORK_CORE);
    CHECK(framework_parse("megatron-2020", "--framework", &k, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "megatron-2022");
    layout_desc l;
    layout_init(&l, NULL);
    CHECK(l.framework == FRAMEWORK_CORE);
}

TAP_MAIN({"optimizer_bytes", optimizer_bytes}, {"accumulation_bytes", accumulation_bytes},
         {"dp_pack_bytes", dp_pack_bytes},
         {"dp_overlap_shows", dp_overlap_shows}, {"tp_overlap_shows", tp_overlap_shows},
         {"left_out_terms", left_out_terms}, {"names_parse", names_parse},
         {"fp32_gradient_reduce", fp32_gradient_reduce},
         {"cross_entropy_bytes", cross_entropy_bytes}, {"bias_passes", bias_passes},
         {"embedding_grad_bytes", embedding_grad_bytes},
         {"attention_norm_passes", attention_norm_passes})
