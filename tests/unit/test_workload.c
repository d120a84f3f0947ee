/* Unit tests: the operators of a layer and their FLOPs.  Totals against
 * Narayanan et al. 2021's formulas for every Megatron row, chunk FLOPs
 * summing to the whole, recomputation adding the forward, the tensor-
 * parallel collectives of each pass, the optimizer's bytes. */
#include <math.h>

#include "reference.h"
#include "tap.h"
#include "workload.h"

static layout_desc small_layout(const model_desc *m, int tp, int pp, int vpp, int mbs, int gbs)
{
    layout_desc l;
    layout_init(&l, m);
    l.tp = tp;
    l.pp = pp;
    l.vpp = vpp;
    l.mbs = mbs;
    l.gbs = gbs;
    l.schedule = vpp > 1 ? LAYOUT_SCHEDULE_INTERLEAVED : LAYOUT_SCHEDULE_1F1B;
    return l;
}

/* 96 B s l h^2 (1 + s/6h + V/16lh) with full recomputation, 72 ... + 6BshV without. */
static void megatron_formula_every_row(void)
{
    megatron_row rows[MEGATRON_MAX_ROWS];
    const model_desc *models[MEGATRON_MAX_ROWS];
    int n = megatron_rows_load(rows, models);
    for (int i = 0; i < n; i++) {
        megatron_row r = rows[i];
        const model_desc *m = models[i];
        layout_desc l;
        megatron_layout_of(&r, m, &l);
        l.recompute = LAYOUT_RECOMPUTE_FULL;
        workload_info w;
        workload_info_of(m, &l, &w);
        double B = r.gbs, s = 2048, L = r.layers, h = r.hidden, V = 51200;
        double paper = 96 * B * s * L * h * h * (1 + s / (6 * h) + V / (16 * L * h));
        CHECK_REL(w.hw_flops_iter, paper, 1e-12);
        CHECK_REL(w.model_flops_iter, 72 * B * s * L * h * h * (1 + s / (6 * h)) + 6 * B * s * h * V,
                  1e-12);
    }
    CHECK_EQ_INT(n, 10);
}

/* Per-GPU chunk FLOPs x GPUs x microbatches = the iteration's model FLOPs. */
static void chunks_sum_to_total(void)
{
    model_desc m;
    CHECK(model_find("llama3-8b", &m, NULL) == 0);
    layout_desc l = small_layout(&m, 4, 2, 2, 1, 16);
    l.dp = 2;
    CHECK(layout_validate(&l, &m, 16, 8, NULL) == 0);
    const dev_type *d = dev_find("h100", NULL);
    opcost_eff e;
    opcost_eff_default(&e);
    double sum = 0;
    for (int s = 0; s < l.pp; s++)
        for (int c = 0; c < l.vpp; c++) {
            workload_chunk ch;
            workload_chunk_of(&m, &l, d, &e, s, c, &ch);
            sum += ch.model_flops;
        }
    workload_info w;
    workload_info_of(&m, &l, &w);
    CHECK_REL(sum * l.tp * l.dp * layout_microbatches(&l), w.model_flops_iter, 1e-9);
}

/* Full recomputation repeats the forward, selective only attention. */
static void recompute_policies(void)
{
    model_desc m;
    CHECK(model_find("gpt3-175b", &m, NULL) == 0);
    const dev_type *d = dev_find("a100", NULL);
    opcost_eff e;
    opcost_eff_default(&e);
    layout_desc l = small_layout(&m, 8, 1, 1, 1, 1);
    workload_chunk none, full, sel;
    workload_chunk_of(&m, &l, d, &e, 0, 0, &none);
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    workload_chunk_of(&m, &l, d, &e, 0, 0, &full);
    l.recompute = LAYOUT_RECOMPUTE_SELECTIVE;
    workload_chunk_of(&m, &l, d, &e, 0, 0, &sel);
    CHECK(none.recompute_s == 0 && none.recompute_flops == 0);
    workload_op ops[WORKLOAD_MAX_OPS];
    int n = workload_layer_ops(&m, &l, d, &e, ops);
    double layer_fwd = 0;
    for (int i = 0; i < n; i++)
        layer_fwd += ops[i].fwd_s;
    CHECK_REL(full.recompute_s, m.layers * layer_fwd, 1e-9);
    CHECK(sel.recompute_s > 0 && sel.recompute_s < 0.2 * full.recompute_s);
    /* selective: the attention core's 4 b s^2 h / t per layer */
    CHECK_REL(sel.recompute_flops, m.layers * 4.0 * 2048 * 2048 * 12288 / 8, 1e-12);
    CHECK_EQ_INT(full.tp_recompute.allreduce, 2 * m.layers);
    CHECK_EQ_INT(sel.tp_recompute.allreduce, 0);
}

/* Two all-reduces per layer per pass; with sp an all-gather and a
 * reduce-scatter in their place; none at tp 1. */
static void tp_collectives(void)
{
    model_desc m;
    CHECK(model_find("megatron-18.4b", &m, NULL) == 0);
    const dev_type *d = dev_find("a100", NULL);
    opcost_eff e;
    opcost_eff_default(&e);
    layout_desc l = small_layout(&m, 8, 2, 1, 1, 2);
    workload_chunk first, last;
    workload_chunk_of(&m, &l, d, &e, 0, 0, &first);
    workload_chunk_of(&m, &l, d, &e, 1, 0, &last);
    CHECK_EQ_INT(first.tp_fwd.allreduce, 2 * 20 + 1); /* + the vocab-parallel embedding */
    CHECK_EQ_INT(last.tp_bwd.allreduce, 2 * 20 + 1);  /* + the output layer's input gradient */
    l.sp = 1;
    workload_chunk_of(&m, &l, d, &e, 1, 0, &last);
    CHECK_EQ_INT(last.tp_fwd.allreduce, 0);
    CHECK_EQ_INT(last.tp_fwd.allgather, 2 * 20 + 1);
    CHECK_EQ_INT(last.tp_fwd.reducescatter, 2 * 20);
    l.tp = 1;
    l.sp = 0;
    workload_chunk_of(&m, &l, d, &e, 1, 0, &last);
    CHECK_EQ_INT(last.tp_fwd.allreduce + last.tp_bwd.allreduce, 0);
}

/* Adam: 28 bytes per parameter, divided by dp under zero 1. */
static void optimizer_bytes(void)
{
    model_desc m;
    CHECK(model_find("llama2-7b", &m, NULL) == 0);
    const dev_type *d = dev_find("h100", NULL);
    opcost_eff e;
    opcost_eff_default(&e);
    e.kernel_gap_s = 0;
    layout_desc l = small_layout(&m, 1, 1, 1, 1, 8);
    l.dp = 8;
    double t0 = workload_optimizer_s(&m, &l, d, &e, 0);
    /* Adam's 28 bytes per parameter of the own shard, and the bucket scaled
     * by 1/dp before its collective (8: fp32 grads under bf16), which every
     * rank does on its whole buffer, sharded or not (framework.h) */
    double hbm = 3.35e12 * 0.896, scale_bytes = 8;
    CHECK_REL(t0, model_params(&m) * (28 + scale_bytes) / hbm, 1e-9);
    l.zero = 1;
    CHECK_REL(workload_optimizer_s(&m, &l, d, &e, 0),
              model_params(&m) * (28.0 / 8 + scale_bytes) / hbm, 1e-9);
    CHECK_REL(workload_grad_bytes(&m, &l, 0), 2 * model_params(&m), 1e-12);
}

/* Unfused attention is slower than the fused kernel at long sequences. */
static void flash_faster_than_unfused(void)
{
    model_desc m;
    CHECK(model_find("llama3-8b", &m, NULL) == 0);
    const dev_type *d = dev_find("h100", NULL);
    opcost_eff e;
    opcost_eff_default(&e);
    layout_desc l = small_layout(&m, 1, 1, 1, 1, 1);
    workload_chunk flash, unfused;
    workload_chunk_of(&m, &l, d, &e, 0, 0, &flash);
    l.flash_attention = 0;
    workload_chunk_of(&m, &l, d, &e, 0, 0, &unfused);
    CHECK(unfused.fwd_s > flash.fwd_s);
    CHECK_REL(unfused.model_flops, flash.model_flops, 1e-12); /* same model FLOPs */
}

TAP_MAIN({"megatron_formula_every_row", megatron_formula_every_row},
         {"chunks_sum_to_total", chunks_sum_to_total},
         {"recompute_policies", recompute_policies},
         {"tp_collectives", tp_collectives},
         {"optimizer_bytes", optimizer_bytes},
         {"flash_faster_than_unfused", flash_faster_than_unfused})
