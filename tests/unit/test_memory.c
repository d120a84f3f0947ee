/* Unit tests: memory per pipeline stage.  Activations per layer against
 * Korthikanti et al. 2022 Table 2 and against hand-derived terms for SwiGLU
 * and GQA; model state of a small model worked out by hand, with and
 * without zero 1; what each schedule keeps in flight; the paper's 5x claim
 * for the 530B model; out-of-memory verdicts; Megatron's published layouts
 * fitting their A100s. */
#include <stdlib.h>

#include "memory.h"
#include "reference.h"
#include "tap.h"

/* A layout of mbs sequences on tp ranks (dp 1, pp 1), flash attention off
 * as in Korthikanti et al. */
static layout_desc act_layout(const model_desc *m, int tp, int sp, layout_recompute r, int mbs)
{
    layout_desc l;
    layout_init(&l, m);
    l.tp = tp;
    l.sp = sp;
    l.recompute = r;
    l.mbs = l.gbs = mbs;
    l.flash_attention = 0;
    return l;
}

static double act(const model_desc *m, int tp, int sp, layout_recompute r, int mbs)
{
    layout_desc l = act_layout(m, tp, sp, r, mbs);
    CHECK(layout_validate(&l, m, 0, 0, NULL) == 0);
    return memory_activation_bytes_per_layer(m, &l);
}

/* Table 2 of Korthikanti et al. 2022, every row, for GPT-3 175B (s 2048,
 * h 12288, a 96) with b = 2 and t = 8: 5as/h = 80, 5as/(ht) = 10.  Every
 * value is a whole number of bytes, so equality is exact. */
static void korthikanti_table2_exact(void)
{
    model_desc m;
    CHECK(model_find("gpt3-175b", &m, NULL) == 0);
    double s = 2048, b = 2, h = 12288, a = 96, t = 8;
    double sbh = s * b * h;
    CHECK_REL(act(&m, 1, 0, LAYOUT_RECOMPUTE_NONE, 2), sbh * (34 + 5 * a * s / h), 0);
    CHECK_REL(act(&m, 8, 0, LAYOUT_RECOMPUTE_NONE, 2),
              sbh * (10 + 24 / t + 5 * a * s / (h * t)), 0);
    CHECK_REL(act(&m, 8, 1, LAYOUT_RECOMPUTE_NONE, 2), sbh * (34 / t + 5 * a * s / (h * t)), 0);
    CHECK_REL(act(&m, 8, 0, LAYOUT_RECOMPUTE_SELECTIVE, 2), sbh * (10 + 24 / t), 0);
    CHECK_REL(act(&m, 8, 1, LAYOUT_RECOMPUTE_SELECTIVE, 2), sbh * (34 / t), 0);
    CHECK_REL(act(&m, 8, 0, LAYOUT_RECOMPUTE_FULL, 2), sbh * 2, 0);
    CHECK_REL(act(&m, 1, 0, LAYOUT_RECOMPUTE_FULL, 2), sbh * 2, 0);
    /* with sp the checkpointed layer input is the sequence-parallel shard */
    CHECK_REL(act(&m, 8, 1, LAYOUT_RECOMPUTE_FULL, 2), sbh * 2 / t, 0);
    /* a tp that is not a power of two: same formula, to rounding */
    model_desc g;
    CHECK(model_find("megatron-1.7b", &g, NULL) == 0); /* s 2048, h 2304, a 24 */
    double gsbh = 2048.0 * 2304;
    CHECK_REL(act(&g, 3, 0, LAYOUT_RECOMPUTE_NONE, 1),
              gsbh * (10 + 24 / 3.0 + 5 * 24 * 2048 / (2304 * 3.0)), 1e-14);
}

/* Llama-style layer, worked out tensor by tensor: s 4, b 1, h 8, a 2,
 * 1 key/value head of d 4, SwiGLU f 32 (sbh = 32, sbf = 128, sb(kd) = 16):
 *   outside tp: LN1 in 64 + QKV in 64 + mask 32 + LN2 in 64 + MLP in 64 +
 *               mask 32 = 320
 *   inside tp:  Q 64 + K 32 + V 32 + out-proj in 64 + gate 256 + up 256 +
 *               product 256 = 960
 *   core:       softmax 2*2*16 = 64 + mask 32 + dropout out 64 = 160
 *               (flash: log-sum-exp 4 * a * s * b = 32)
 * With 2 key/value heads (MHA), K and V are 64 each: inside = 1024, so on
 * tp 2: 320 + 1024 / 2 + 160 / 2 = 912, and with sp: (320 + 1024 + 160) / 2. */
static void swiglu_gqa_terms_by_hand(void)
{
    model_desc m = {"tiny-llama", 2, 8, 2, 1, 32, 10, 4, MODEL_MLP_SWIGLU, MODEL_NORM_RMSNORM,
                    MODEL_POS_ROTARY, 0, 0, MODEL_BF16, 0, 0, NULL, .head_dim_override = 0};
    CHECK_REL(act(&m, 1, 0, LAYOUT_RECOMPUTE_NONE, 1), 320 + 960 + 160, 0);
    CHECK_REL(act(&m, 1, 0, LAYOUT_RECOMPUTE_SELECTIVE, 1), 320 + 960, 0);
    CHECK_REL(act(&m, 1, 0, LAYOUT_RECOMPUTE_FULL, 1), 64, 0);
    CHECK_REL(act(&m, 1, 0, LAYOUT_RECOMPUTE_NONE, 2), 2 * (320 + 960 + 160), 0); /* b = 2 */
    layout_desc l = act_layout(&m, 1, 0, LAYOUT_RECOMPUTE_NONE, 1);
    l.flash_attention = 1;
    CHECK_REL(memory_activation_bytes_per_layer(&m, &l), 320 + 960 + 32, 0);
    m.kv_heads = 2; /* MHA stores K and V of 2 heads: 64 bytes more */
    CHECK_REL(act(&m, 1, 0, LAYOUT_RECOMPUTE_NONE, 1), 1440 + 64, 0);
    CHECK_REL(act(&m, 2, 0, LAYOUT_RECOMPUTE_NONE, 1), 912, 0);
    CHECK_REL(act(&m, 2, 1, LAYOUT_RECOMPUTE_NONE, 1), (320 + 1024 + 160) / 2.0, 0);
    m.mlp = MODEL_MLP_GELU; /* GELU keeps 2 tensors of f, SwiGLU 3: 256 bytes less */
    CHECK_REL(act(&m, 1, 0, LAYOUT_RECOMPUTE_NONE, 1), 1504 - 256, 0);
}

/* Flash attention stores no s x s tensor: only 4asb of softmax statistics
 * remain, and selective recomputation drops even those. */
static void flash_attention_drops_scores(void)
{
    model_desc m;
    CHECK(model_find("gpt3-175b", &m, NULL) == 0);
    layout_desc l = act_layout(&m, 8, 1, LAYOUT_RECOMPUTE_NONE, 1);
    l.flash_attention = 1;
    double s = 2048, h = 12288, a = 96, t = 8, sbh = s * h;
    CHECK_REL(memory_activation_bytes_per_layer(&m, &l), sbh * 34 / t + 4 * a * s / t, 0);
    l.recompute = LAYOUT_RECOMPUTE_SELECTIVE;
    CHECK_REL(memory_activation_bytes_per_layer(&m, &l), sbh * 34 / t, 0);
}

/* 4 layers, hidden 64, 4 heads, ffn 256, vocab 1000, seq 128, GPT style
 * (biases, LayerNorm, learned positions, tied), tp 2, pp 2, dp 4:
 *   per layer: attention 4*64*64 + 4*64 = 16640, MLP 2*64*256 + 256 + 64
 *     = 33088, norms 2*(64+64) = 256: 49984
 *   replicated on tp ranks: norms 256 + output and down biases 128 = 384
 *   per rank: (49984 - 384) / 2 + 384 = 25184; 2 layers per stage = 50368
 *   stage 0: + table 1000*64/2 = 32000 + positions 128*64 = 8192 = 90560
 *   stage 1: + final norm 128 + table copy 32000 = 82496
 *   stage 0 bytes: weights 2 x 90560 = 181120, grads 181120,
 *     optimizer 12 x 90560 = 1086720; zero 1: 1086720 / 4 = 271680 */
static model_desc small_gpt(void)
{
    model_desc m = {"small-gpt", 4, 64, 4, 4, 256, 1000, 128, MODEL_MLP_GELU,
                    MODEL_NORM_LAYERNORM, MODEL_POS_LEARNED, 1, 1, MODEL_FP16, 0, 0, NULL, .head_dim_override = 0};
    return m;
}

static void model_state_by_hand(void)
{
    model_desc m = small_gpt();
    layout_desc l;
    layout_init(&l, &m);
    l.tp = 2;
    l.pp = 2;
    l.dp = 4;
    l.gbs = 8;
    memory_breakdown b0, b1;
    CHECK(memory_per_stage(&m, &l, 0, &b0, NULL) == 0);
    CHECK(memory_per_stage(&m, &l, 1, &b1, NULL) == 0);
    CHECK_EQ_INT(b0.params, 90560);
    CHECK_EQ_INT(b1.params, 82496);
    CHECK_EQ_INT(b0.weights_bytes, 181120);
    CHECK_EQ_INT(b0.grads_bytes, 181120);
    CHECK_EQ_INT(b0.optimizer_bytes, 1086720);
    CHECK_EQ_INT(b1.optimizer_bytes, 12 * 82496);
    l.zero = 1;
    CHECK(memory_per_stage(&m, &l, 0, &b0, NULL) == 0);
    CHECK_EQ_INT(b0.weights_bytes, 181120);
    CHECK_EQ_INT(b0.grads_bytes, 181120); /* gradients stay whole */
    CHECK_EQ_INT(b0.optimizer_bytes, 271680);
    l.dtype = MODEL_FP8; /* fp8 primary weights: 1 byte */
    CHECK(memory_per_stage(&m, &l, 0, &b0, NULL) == 0);
    CHECK_EQ_INT(b0.weights_bytes, 90560);
    CHECK_EQ_INT(b0.grads_bytes, 181120);
    CHECK_REL(b0.peak_bytes, b0.weights_bytes + b0.grads_bytes + b0.optimizer_bytes +
                                 b0.activations_bytes + b0.buffers_bytes, 1e-15);
}

/* With one rank the stage holds the whole model; with pp > 1 and tied
 * embeddings the last stage adds its copy of the table. */
static void stage_params_sum_to_model(void)
{
    model_desc m = small_gpt();
    layout_desc l;
    layout_init(&l, &m);
    CHECK_EQ_INT(memory_stage_params(&m, &l, 0), model_params(&m));
    m.tied_embeddings = 0;
    CHECK_EQ_INT(memory_stage_params(&m, &l, 0), model_params(&m));
    l.pp = 4;
    CHECK_EQ_INT(memory_stage_params(&m, &l, 0) + memory_stage_params(&m, &l, 1) +
                     memory_stage_params(&m, &l, 2) + memory_stage_params(&m, &l, 3),
                 model_params(&m));
    m.tied_embeddings = 1;
    CHECK_EQ_INT(memory_stage_params(&m, &l, 0) + memory_stage_params(&m, &l, 3) +
                     2 * memory_stage_params(&m, &l, 1),
                 model_params(&m) + 1000 * 64);
}

/* 4 stages: 1F1B keeps min(p - stage, m); GPipe keeps m everywhere. */
static void schedules_in_flight(void)
{
    model_desc m = small_gpt();
    layout_desc l;
    layout_init(&l, &m);
    l.pp = 4;
    l.gbs = 8;
    for (int stage = 0; stage < 4; stage++)
        CHECK_EQ_INT(memory_chunks_in_flight(&l, stage), 4 - stage);
    l.gbs = 2;
    int want[] = {2, 2, 2, 1};
    for (int stage = 0; stage < 4; stage++)
        CHECK_EQ_INT(memory_chunks_in_flight(&l, stage), want[stage]);
    l.schedule = LAYOUT_SCHEDULE_GPIPE;
    l.gbs = 8;
    for (int stage = 0; stage < 4; stage++) {
        memory_breakdown b;
        CHECK(memory_per_stage(&m, &l, stage, &b, NULL) == 0);
        CHECK_EQ_INT(b.microbatches_in_flight, 8);
        CHECK_EQ_INT(b.chunks_in_flight, 8);
    }
}

/* Interior 1F1B stages differ by exactly one microbatch of one stage's
 * layers (no embedding or loss terms there). */
static void one_f_one_b_activation_steps(void)
{
    model_desc m;
    CHECK(model_find("megatron-145.6b", &m, NULL) == 0);
    layout_desc l;
    layout_init(&l, &m);
    l.tp = 8;
    l.pp = 8;
    l.sp = 1;
    l.gbs = 64;
    memory_breakdown b2, b3;
    CHECK(memory_per_stage(&m, &l, 2, &b2, NULL) == 0);
    CHECK(memory_per_stage(&m, &l, 3, &b3, NULL) == 0);
    CHECK_EQ_INT(b2.microbatches_in_flight, 6);
    CHECK_EQ_INT(b3.microbatches_in_flight, 5);
    CHECK_REL(b2.activations_bytes - b3.activations_bytes,
              10 * memory_activation_bytes_per_layer(&m, &l), 1e-12);
}

/* Interleaved 1F1B, p 4, v 2, m 8: rank r runs (p - r - 1) * 2 + (v - 1) * p
 * warm-up forwards plus one: 11 chunks on rank 0, 5 on rank 3.  On rank 0
 * that is p (1 + (p - 1) / (p v)) = 5.5 stages' worth (Korthikanti et al.
 * 2022, sec. 4.2.3), over 2p - 1 = 7 distinct microbatches. */
static void interleaved_in_flight(void)
{
    model_desc m = small_gpt();
    m.layers = 16;
    layout_desc l;
    layout_init(&l, &m);
    l.pp = 4;
    l.vpp = 2;
    l.gbs = 8;
    l.schedule = LAYOUT_SCHEDULE_INTERLEAVED;
    int want[] = {11, 9, 7, 5};
    for (int stage = 0; stage < 4; stage++)
        CHECK_EQ_INT(memory_chunks_in_flight(&l, stage), want[stage]);
    double p = 4, v = 2;
    CHECK_REL(memory_chunks_in_flight(&l, 0) * layout_layers_per_chunk(&l, &m),
              p * (1 + (p - 1) / (p * v)) * layout_layers_per_stage(&l, &m), 0);
    memory_breakdown b;
    CHECK(memory_per_stage(&m, &l, 0, &b, NULL) == 0);
    CHECK_EQ_INT(b.microbatches_in_flight, 7);
    l.gbs = 4; /* m = p: everything is warm-up, capped at m v = 8 chunks */
    CHECK_EQ_INT(memory_chunks_in_flight(&l, 0), 8);
}

/* Korthikanti et al. 2022 (abstract, sec. 6): for the 530B model with tp 8,
 * sequence parallelism with selective recomputation needs about 5x less
 * activation memory than tensor parallelism alone.  From Table 2 the ratio
 * is (10 t + 24 + 5as/h) / 34 = (80 + 24 + 64) / 34 = 4.94 per layer; the
 * stage adds the embedding mask (split by sp only) and the selective
 * working set, so we hold both to [4.5, 5.5]. */
static void turing_530b_five_times(void)
{
    model_desc m;
    CHECK(model_find("turing-530b", &m, NULL) == 0);
    double base = act(&m, 8, 0, LAYOUT_RECOMPUTE_NONE, 1);
    double best = act(&m, 8, 1, LAYOUT_RECOMPUTE_SELECTIVE, 1);
    double ratio = base / best;
    printf("# 530B tp8: per layer %.3f GB (tp) / %.3f GB (tp+sp+sel) = %.3fx\n", base / 1e9,
           best / 1e9, ratio);
    CHECK_REL(ratio, 168.0 / 34.0, 1e-12);
    CHECK(ratio >= 4.5 && ratio <= 5.5);
    layout_desc l = act_layout(&m, 8, 0, LAYOUT_RECOMPUTE_NONE, 1);
    l.pp = 35;
    l.gbs = 280;
    memory_breakdown tp_only, sp_sel;
    CHECK(memory_per_stage(&m, &l, 0, &tp_only, NULL) == 0);
    l.sp = 1;
    l.recompute = LAYOUT_RECOMPUTE_SELECTIVE;
    CHECK(memory_per_stage(&m, &l, 0, &sp_sel, NULL) == 0);
    double stage_ratio = tp_only.activations_bytes / sp_sel.activations_bytes;
    printf("# 530B tp8 pp35 stage 0: %.1f GB / %.1f GB = %.3fx\n", tp_only.activations_bytes / 1e9,
           sp_sel.activations_bytes / 1e9, stage_ratio);
    CHECK(stage_ratio >= 4.5 && stage_ratio <= 5.5);
}

/* Megatron 1T on one node of 8 H200s (tp 8, pp 1): 126B parameters per GPU,
 * 2 TB of model state alone. */
static void megatron_1t_does_not_fit(void)
{
    model_desc m;
    CHECK(model_find("megatron-1t", &m, NULL) == 0);
    layout_desc l;
    layout_init(&l, &m);
    l.tp = 8;
    const dev_type *h200 = dev_find("h200", NULL);
    CHECK(h200 != NULL);
    memory_breakdown b;
    int stage = -1, fits = -1;
    CHECK(memory_peak(&m, &l, h200, &b, &stage, &fits, NULL) == 0);
    CHECK_EQ_INT(fits, 0);
    CHECK_EQ_INT(stage, 0);
    CHECK(b.weights_bytes > 2 * 125e9 && b.peak_bytes > 16 * 125e9);
    cs_err err = {""};
    CHECK(memory_require_fit(&m, &l, h200, &err) == -1);
    printf("# %s\n", err.msg);
    CHECK_STR_CONTAINS(err.msg, "tp8 pp1 dp1 mbs1 gbs1 1f1b does not fit H200-SXM-141GB");
    CHECK_STR_CONTAINS(err.msg, "pipeline stage 0");
    CHECK_STR_CONTAINS(err.msg, "TiB per GPU");
    CHECK_STR_CONTAINS(err.msg, "GiB is usable");
}

/* 145.6B, tp 8 pp 8, mbs 4, no recomputation, on A100 80GB: 1F1B piles
 * 8 microbatches of activations on stage 0, which overflows, while the last
 * stage (1 microbatch) fits.  The verdict names stage 0. */
static void first_stage_overflows(void)
{
    model_desc m;
    CHECK(model_find("megatron-145.6b", &m, NULL) == 0);
    layout_desc l;
    layout_init(&l, &m);
    l.tp = 8;
    l.pp = 8;
    l.mbs = 4;
    l.gbs = 64;
    l.flash_attention = 0;
    const dev_type *a100 = dev_find("a100", NULL);
    double usable = memory_usable_bytes(a100);
    memory_breakdown worst, last, prev;
    int stage = -1, fits = -1;
    CHECK(memory_peak(&m, &l, a100, &worst, &stage, &fits, NULL) == 0);
    CHECK_EQ_INT(fits, 0);
    CHECK_EQ_INT(stage, 0);
    CHECK(memory_per_stage(&m, &l, 7, &last, NULL) == 0);
    printf("# stage 0 %.1f GB, stage 7 %.1f GB, usable %.1f GB\n", worst.peak_bytes / 1e9,
           last.peak_bytes / 1e9, usable / 1e9);
    CHECK(worst.peak_bytes > usable && last.peak_bytes < usable);
    CHECK(memory_per_stage(&m, &l, 0, &prev, NULL) == 0);
    for (int s = 1; s < 8; s++) { /* falling with the stage under 1F1B */
        memory_breakdown b;
        CHECK(memory_per_stage(&m, &l, s, &b, NULL) == 0);
        CHECK(b.peak_bytes < prev.peak_bytes);
        prev = b;
    }
    cs_err err = {""};
    CHECK(memory_require_fit(&m, &l, a100, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "pipeline stage 0 (0-based, of 8)");
}

/* Narayanan et al. 2021 trained every Table 1 row on A100 80GB with full
 * recomputation (the reference file's header); mbs 1 and 1F1B assumed.  All
 * must fit. */
static void megatron_published_layouts_fit(void)
{
    const dev_type *a100 = dev_find("A100-SXM4-80GB", NULL);
    megatron_row rows[MEGATRON_MAX_ROWS];
    const model_desc *models[MEGATRON_MAX_ROWS];
    int n = megatron_rows_load(rows, models);
    for (int i = 0; i < n; i++) {
        megatron_row r = rows[i];
        const model_desc *m = models[i];
        layout_desc l;
        megatron_layout_of(&r, m, &l);
        l.recompute = LAYOUT_RECOMPUTE_FULL;
        l.flash_attention = 0;
        memory_breakdown b;
        int stage, fits;
        cs_err err = {""};
        CHECK(memory_peak(m, &l, a100, &b, &stage, &fits, &err) == 0);
        printf("# %-16s stage %2d: %5.1f GB (state %5.1f, activations %5.1f)\n", m->name,
               stage, b.peak_bytes / 1e9,
               (b.weights_bytes + b.grads_bytes + b.optimizer_bytes) / 1e9,
               b.activations_bytes / 1e9);
        CHECK_EQ_INT(fits, 1);
        CHECK(memory_require_fit(m, &l, a100, &err) == 0);
    }
    CHECK_EQ_INT(n, 10);
}

/* The H200 reports 143771 MiB; the A100 80GB 81920 MiB.  Usable memory is
 * below either, by the context reserve and a little more. */
static void usable_memory(void)
{
    double mib = 1024.0 * 1024;
    double h200 = memory_usable_bytes(dev_find("h200", NULL));
    double a100 = memory_usable_bytes(dev_find("a100", NULL));
    printf("# usable: H200 %.0f MiB, A100 80GB %.0f MiB\n", h200 / mib, a100 / mib);
    CHECK(h200 < 143771 * mib - MEMORY_CONTEXT_RESERVE_BYTES);
    CHECK(h200 > 0.97 * (143771 * mib - MEMORY_CONTEXT_RESERVE_BYTES));
    CHECK(a100 < 81920 * mib - MEMORY_CONTEXT_RESERVE_BYTES);
    CHECK(a100 > 0.97 * (81920 * mib - MEMORY_CONTEXT_RESERVE_BYTES));
    CHECK(a100 > 80e9 - MEMORY_CONTEXT_RESERVE_BYTES); /* more than the decimal figure */
}

/* 128 MiB per communicator in use, and the gradient buckets with dp > 1. */
static void communication_allowance(void)
{
    model_desc m = small_gpt();
    layout_desc l;
    layout_init(&l, &m);
    memory_breakdown b;
    CHECK(memory_per_stage(&m, &l, 0, &b, NULL) == 0);
    CHECK_EQ_INT(b.buffers_bytes, 0);
    l.tp = 2;
    l.pp = 2;
    l.dp = 4;
    l.gbs = 8;
    CHECK(memory_per_stage(&m, &l, 1, &b, NULL) == 0);
    CHECK_EQ_INT(b.buffers_bytes, 3 * 128.0 * 1024 * 1024 + 100e6);
}

static void errors(void)
{
    model_desc m = small_gpt();
    layout_desc l;
    layout_init(&l, &m);
    l.pp = 3;
    memory_breakdown b;
    cs_err err = {""};
    CHECK(memory_per_stage(&m, &l, 0, &b, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "layers 4 is not divisible by pp 3");
    CHECK(memory_peak(&m, &l, dev_find("h100", NULL), &b, NULL, NULL, &err) == -1);
    l.pp = 2;
    CHECK(memory_per_stage(&m, &l, 2, &b, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "stage 2 is not a pipeline stage of pp 2 (stages 0 to 1)");
    CHECK(memory_per_stage(&m, &l, -1, &b, &err) == -1);
}

TAP_MAIN({"Korthikanti Table 2 exactly (GPT)", korthikanti_table2_exact},
         {"SwiGLU and GQA terms by hand", swiglu_gqa_terms_by_hand},
         {"flash attention drops the score tensors", flash_attention_drops_scores},
         {"weights, grads, optimizer by hand (zero 0, 1, fp8)", model_state_by_hand},
         {"stage parameters sum to the model", stage_params_sum_to_model},
         {"1F1B and GPipe microbatches in flight", schedules_in_flight},
         {"1F1B activation steps between stages", one_f_one_b_activation_steps},
         {"interleaved in flight (Megatron warm-up)", interleaved_in_flight},
         {"530B: sp + selective about 5x less", turing_530b_five_times},
         {"megatron-1t on 8 GPUs does not fit", megatron_1t_does_not_fit},
         {"first stage overflows, last fits", first_stage_overflows},
         {"Megatron 2021 published layouts fit A100 80GB", megatron_published_layouts_fit},
         {"usable device memory", usable_memory},
         {"communication allowance", communication_allowance},
         {"errors", errors})
