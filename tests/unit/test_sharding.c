/* Unit tests: sharding (ZeRO stages 0-3, FSDP, HSDP).  The ZeRO paper's
 * worked example of model-state memory per rank; the same terms inside the
 * per-stage footprint, ZeRO-3's gathered parameters and HSDP worked out by
 * hand on a small model; every sharding rule's message; the layout string;
 * and the Llama 3 405B production layout fitting an H100 from ZeRO-2 on. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "sharding.h"
#include "tap.h"

/* Rajbhandari et al. 2020 (arXiv 1910.02054), Figure 1 and sec. 5: Psi =
 * 7.5B, K = 12, Nd = 64: 120 GB, 31.4 GB, 16.6 GB and 1.9 GB per device
 * (decimal GB; the paper rounds to one decimal). */
static void zero_paper_example(void)
{
    const double psi = 7.5e9, expect_gb[4] = {120.0, 31.4, 16.6, 1.9};
    /* exact: 16 Psi; 4 Psi + 12 Psi / 64; 2 Psi + 14 Psi / 64; 16 Psi / 64 */
    const double exact_gb[4] = {120.0, 31.40625, 16.640625, 1.875};
    layout_desc l;
    layout_init(&l, NULL);
    l.dp = 64;
    for (int stage = 0; stage <= 3; stage++) {
        l.zero = stage;
        sharding_state s = sharding_state_bytes(&l, psi, 2, 2, 12);
        double gb = (s.weights_bytes + s.grads_bytes + s.optimizer_bytes) / 1e9;
        printf("# zero %d: %.6f GB per rank\n", stage, gb);
        CHECK_REL(gb, exact_gb[stage], 1e-12);
        CHECK_REL(round(gb * 10) / 10, expect_gb[stage], 1e-12);
    }
    /* HSDP: the same with shards spread over 8 ranks (replicated 8 times) */
    l.zero = 3;
    l.shard_group = 8;
    CHECK_EQ_INT(sharding_group(&l), 8);
    CHECK_EQ_INT(sharding_replicas(&l), 8);
    sharding_state s = sharding_state_bytes(&l, psi, 2, 2, 12);
    CHECK_REL(s.weights_bytes + s.grads_bytes + s.optimizer_bytes, 16 * psi / 8, 1e-12);
}

/* The small GPT of test_memory (tp 2, pp 2, dp 4): stage 0 holds 90560
 * parameters per rank; a layer 25184 per rank, the vocab-parallel table
 * 1000 x 64 / 2 = 32000 (the largest unit on stage 0). */
static model_desc small_gpt(void)
{
    model_desc m = {"small-gpt", 4, 64, 4, 4, 256, 1000, 128, MODEL_MLP_GELU,
                    MODEL_NORM_LAYERNORM, MODEL_POS_LEARNED, 1, 1, MODEL_FP16, 0, 0, NULL,
                    .head_dim_override = 0};
    return m;
}

static layout_desc small_layout(const model_desc *m, int zero)
{
    layout_desc l;
    layout_init(&l, m);
    l.tp = 2;
    l.pp = 2;
    l.dp = 4;
    l.gbs = 8;
    l.zero = zero;
    return l;
}

/* stage 0, 90560 parameters, Nd 4:
 *   zero 2: weights 181120, grads 2 x 90560 / 4 = 45280, optimizer 271680
 *   zero 3: weights 45280 + gathered: (1 + 1 prefetch) x 32000 x 2 x 3/4 =
 *     96000 and one unit's gradient 32000 x 2 = 64000: 205280
 *   no reshard: 45280 + 90560 x 2 x 3/4 = 135840, + 64000: 245120
 *   HSDP group 2: weights 90560 + 2 x 32000 x 2 x 1/2 + 64000 = 218560,
 *     grads 90560, optimizer 543360 */
static void stage_state_by_hand(void)
{
    model_desc m = small_gpt();
    memory_breakdown b;
    layout_desc l = small_layout(&m, 2);
    CHECK(memory_per_stage(&m, &l, 0, &b, NULL) == 0);
    CHECK_EQ_INT(b.params, 90560);
    CHECK_EQ_INT(b.weights_bytes, 181120);
    CHECK_EQ_INT(b.grads_bytes, 45280);
    CHECK_EQ_INT(b.optimizer_bytes, 271680);
    l = small_layout(&m, 3);
    CHECK(memory_per_stage(&m, &l, 0, &b, NULL) == 0);
    CHECK_EQ_INT(b.weights_bytes, 205280);
    CHECK_EQ_INT(b.grads_bytes, 45280);
    CHECK_EQ_INT(b.optimizer_bytes, 271680);
    l.no_reshard = 1;
    CHECK(memory_per_stage(&m, &l, 0, &b, NULL) == 0);
    CHECK_EQ_INT(b.weights_bytes, 245120);
    l = small_layout(&m, 3);
    l.prefetch = 0; /* only the unit computing */
    CHECK(memory_per_stage(&m, &l, 0, &b, NULL) == 0);
    CHECK_EQ_INT(b.weights_bytes, 45280 + 48000 + 64000);
    l = small_layout(&m, 3);
    l.shard_group = 2;
    CHECK(memory_per_stage(&m, &l, 0, &b, NULL) == 0);
    CHECK_EQ_INT(b.weights_bytes, 218560);
    CHECK_EQ_INT(b.grads_bytes, 90560);
    CHECK_EQ_INT(b.optimizer_bytes, 543360);
}

static void expect_rule(const layout_desc *l, const model_desc *m, const char *a, const char *b)
{
    cs_err err = {""};
    CHECK(layout_validate(l, m, 0, 0, &err) == -1);
    printf("# %s\n", err.msg);
    CHECK_STR_CONTAINS(err.msg, a);
    if (b)
        CHECK_STR_CONTAINS(err.msg, b);
}

static void rules(void)
{
    model_desc m = small_gpt();
    layout_desc l = small_layout(&m, 3);
    CHECK(layout_validate(&l, &m, 0, 0, NULL) == 0);
    l.zero = 4;
    expect_rule(&l, &m, "zero 4 is not modeled", "3 (and parameters: FSDP)");
    l = small_layout(&m, 3);
    l.dp = 1; /* valid: one rank holds every shard, as under zero 0 */
    l.gbs = 2;
    CHECK(layout_validate(&l, &m, 0, 0, NULL) == 0);
    memory_breakdown z3, z0;
    CHECK(memory_per_stage(&m, &l, 0, &z3, NULL) == 0);
    l.zero = 0;
    CHECK(memory_per_stage(&m, &l, 0, &z0, NULL) == 0);
    CHECK_EQ_INT(z3.weights_bytes, z0.weights_bytes + 64000); /* + one unit's gradient */
    CHECK_EQ_INT(z3.optimizer_bytes, z0.optimizer_bytes);
    l = small_layout(&m, 0);
    l.shard_group = 2;
    expect_rule(&l, &m, "shard group 2 (HSDP) needs zero >= 1", NULL);
    l = small_layout(&m, 3);
    l.dp = 6;
    l.gbs = 12;
    l.shard_group = 4;
    expect_rule(&l, &m, "shard group 4 must divide dp 6", "nearest that divide: 3, 6");
    l = small_layout(&m, 2);
    l.shard_group = 1;
    expect_rule(&l, &m, "shard group 1 (HSDP) shards over one rank", NULL);
    l = small_layout(&m, 2);
    l.no_reshard = 1;
    expect_rule(&l, &m, "no reshard after forward needs zero 3", NULL);
    l = small_layout(&m, 1);
    l.prefetch = 2;
    expect_rule(&l, &m, "prefetch 2 needs zero 3", NULL);
    l = small_layout(&m, 3);
    l.prefetch = SHARDING_MAX_PREFETCH + 1;
    expect_rule(&l, &m, "prefetch 65 layers is out of range 0 to 64", NULL);
    l = small_layout(&m, 3);
    l.shard_group = 4; /* the whole of dp: valid (FULL_SHARD) */
    CHECK(layout_validate(&l, &m, 0, 0, NULL) == 0);
}

static void describe(void)
{
    model_desc m = small_gpt();
    layout_desc l = small_layout(&m, 3);
    char buf[160];
    CHECK(strcmp(layout_describe(&l, buf, sizeof buf), "tp2 pp2 dp4 mbs1 gbs8 zero3 1f1b") == 0);
    l.shard_group = 2;
    l.prefetch = 2;
    l.no_reshard = 1;
    CHECK(strcmp(layout_describe(&l, buf, sizeof buf),
                 "tp2 pp2 dp4 mbs1 gbs8 zero3 hsdp2 prefetch2 noreshard 1f1b") == 0);
    l = small_layout(&m, 2);
    CHECK(strcmp(layout_describe(&l, buf, sizeof buf), "tp2 pp2 dp4 mbs1 gbs8 zero2 1f1b") == 0);
}

/* Llama 3 405B as Meta trained it on 8192 H100s (Llama 3 paper, arXiv
 * 2407.21783, Table 4: tp 8, pp 16, dp 64, seq 8192, 16M-token batches =
 * 2048 sequences, mbs 1) with Megatron's sequence parallelism.  126 layers
 * do not split evenly over 16 stages (Meta gave the first and last stage
 * one layer less); the uniform model holds 128 layers, 8 per stage: the
 * middle stages exactly, the edge stages one layer more than production
 * (an over-estimate).  From the formulas: no fit under zero 0 or 1, a fit
 * from zero 2 on (Meta sharded optimizer state and gradients). */
static void llama3_405b_fits_from_zero2(void)
{
    model_desc m;
    CHECK(model_find("llama3-405b", &m, NULL) == 0);
    m.layers = 128;
    const dev_type *h100 = dev_find("h100", NULL);
    for (int zero = 0; zero <= 3; zero++) {
        layout_desc l;
        layout_init(&l, &m);
        l.tp = 8, l.pp = 16, l.dp = 64, l.mbs = 1, l.gbs = 2048, l.sp = 1, l.zero = zero;
        memory_breakdown b;
        int stage, fits;
        CHECK(memory_peak(&m, &l, h100, &b, &stage, &fits, NULL) == 0);
        const double gib = 1073741824.0;
        printf("# zero %d: %.2f GiB on stage %d of %.2f GiB usable (weights %.2f, gradients "
               "%.2f, optimizer %.2f, activations %.2f, buffers %.2f)\n",
               zero, b.peak_bytes / gib, stage, memory_usable_bytes(h100) / gib,
               b.weights_bytes / gib, b.grads_bytes / gib, b.optimizer_bytes / gib,
               b.activations_bytes / gib, b.buffers_bytes / gib);
        CHECK_EQ_INT(fits, zero >= 2);
    }
}

TAP_MAIN({"ZeRO paper: 7.5B, K 12, Nd 64: 120, 31.4, 16.6, 1.9 GB", zero_paper_example},
         {"per-stage state, ZeRO-3 gathered, HSDP by hand", stage_state_by_hand},
         {"sharding rules name themselves", rules},
         {"layout string zero2, zero3, hsdp, prefetch, noreshard", describe},
         {"Llama 3 405B tp8 pp16 dp64 fits from zero 2", llama3_405b_fits_from_zero2})
