/* Unit tests that pin single terms of the cost model and the placement
 * replay to derivations written out here by hand, so that a one-line change
 * of any of them fails (each was a planted bug no other test caught):
 *   - the last stage stores the output layer's two 16-bit inputs and the
 *     fp32 logits (Korthikanti et al. 2022, sec. 4.3): 2*2*s*b*h + 4*s*b*v/t;
 *   - recomputation runs inside the backward pass, so it widens the window
 *     that hides data-parallel communication;
 *   - SwiGLU's elementwise kernel reads gate and up and writes their
 *     product (3 tensors of T x f/t) forward, and reads 3 and writes 2
 *     backward;
 *   - a pipeline boundary sends T x h 16-bit values split over the tp ranks
 *     (Megatron's scatter-gather, Narayanan et al. 2021, sec. 4.1);
 *   - an operator's scratch (temp) memory counts in the placement replay. */
#include <string.h>

#include "fixture.h"
#include "memory.h"
#include "opcost.h"
#include "opgraph.h"
#include "place.h"
#include "workload.h"

#define GIB 1073741824.0

/* llama2-7b: s 4096, h 4096, v 32000; tp 8, pp 4, mbs 1, no sp. */
static void last_stage_keeps_fp32_logits(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 4, "llama2-7b", 8, 4, 1, 8);
    f.l.sp = 0;
    double s = f.m.seq_len, b = 1, h = f.m.hidden, v = f.m.vocab, t = 8;
    CHECK_EQ_INT((int)s, 4096);
    CHECK_EQ_INT((int)v, 32000);
    /* the middle stages hold 8 layers each, the last the same 8 plus its edge */
    double edge = memory_unit_bytes(&f.m, &f.l, 3, 0) - memory_unit_bytes(&f.m, &f.l, 1, 0);
    double by_hand = 2 * 2 * s * b * h + 4 * s * b * v / t; /* 67108864 + 65536000 */
    printf("# last stage's edge: %.0f bytes, by hand %.0f\n", edge, by_hand);
    CHECK_REL(edge, by_hand, 1e-12);
    topo_free(f.t);
}

/* 16 data-parallel ranks on two nodes, one microbatch of 128 tokens: the
 * gradient all-reduce (13.5 GB over InfiniBand) outlasts the backward
 * pass, so what is exposed is the all-reduce less the window; full
 * recomputation widens the window by exactly the recomputation of the
 * microbatch. */
static void recompute_widens_the_dp_window(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 2, "llama2-7b", 1, 1, 16, 16);
    f.m.seq_len = 128;
    estimate_result none, full;
    f.l.recompute = LAYOUT_RECOMPUTE_NONE;
    CHECK(estimate_analytic(&f.in, &none, NULL) == 0);
    f.l.recompute = LAYOUT_RECOMPUTE_FULL;
    CHECK(estimate_analytic(&f.in, &full, NULL) == 0);
    double rec_mb = full.stages[0].recompute_s / layout_microbatches(&f.l);
    printf("# dp exposed: %.4f s without recomputation, %.4f s with (recompute %.4f s)\n",
           none.stages[0].dp_exposed_s, full.stages[0].dp_exposed_s, rec_mb);
    CHECK(rec_mb > 1e-3);
    CHECK(none.stages[0].dp_exposed_s > rec_mb + 0.01); /* the all-reduce is the longer */
    CHECK_REL(full.stages[0].dp_exposed_s, none.stages[0].dp_exposed_s - rec_mb, 1e-9);
    estimate_result_free(&none);
    estimate_result_free(&full);
    topo_free(f.t);
}

static void swiglu_moves_three_tensors(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 1, "llama2-7b", 8, 1, 1, 8);
    const dev_type *dev = estimate_device(f.t);
    workload_op ops[WORKLOAD_MAX_OPS];
    int n = workload_layer_ops(&f.m, &f.l, dev, &f.eff, ops), found = 0;
    double tensor = f.m.seq_len * 1.0 * f.m.ffn_hidden / 8 * 2; /* T x f/t, 16 bits */
    for (int i = 0; i < n; i++)
        if (strcmp(ops[i].name, "swiglu") == 0) {
            found = 1;
            CHECK_REL(ops[i].fwd_s, opcost_membound_s(dev, &f.eff, 3 * tensor), 1e-12);
            CHECK_REL(ops[i].bwd_s, opcost_membound_s(dev, &f.eff, 5 * tensor), 1e-12);
        }
    CHECK(found);
    topo_free(f.t);
}

static void p2p_bytes_split_over_tp(void)
{
    int tps[] = {1, 2, 8}, mbs[] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        fixture f;
        fixture_setup(&f, "dgx-h100", 1, "llama2-7b", tps[i], 1, 1, 8);
        f.l.mbs = mbs[i];
        workload_info info;
        workload_info_of(&f.m, &f.l, &info);
        double by_hand = (double)mbs[i] * f.m.seq_len * f.m.hidden * 2 / tps[i];
        CHECK_REL(info.p2p_bytes, by_hand, 1e-12);
        topo_free(f.t);
    }
}

/* a -> b on one device: a keeps 1 GiB of weights, needs 1 GiB of scratch
 * while it runs, and sends b 8 bytes (a fused node of its own, so kept).
 * By hand: 1 GiB + 8 B kept, plus the largest scratch, 1 GiB. */
static void scratch_counts_in_the_replay(void)
{
    opgraph g;
    opg_init(&g);
    opg_node a = {.compute_us = 1, .perm_bytes = (uint64_t)GIB, .temp_bytes = (uint64_t)GIB,
                  .out_bytes = 8, .group = -1, .expert_dev = -1, .order = 0};
    opg_node b = {.compute_us = 1, .out_bytes = 8, .group = -1, .expert_dev = -1, .order = 1};
    opg_add_node(&g, "a", &a);
    opg_add_node(&g, "b", &b);
    opg_add_edge(&g, 0, 1, 8, 1);
    CHECK(opg_finish(&g, NULL) == 0);
    int fused_of[2] = {0, 1}, dev[2] = {0, 0};
    uint64_t need[PLACE_MAX_DEVICES] = {0};
    place_replay_memory(&g, fused_of, dev, 1, need);
    printf("# replayed need: %llu bytes\n", (unsigned long long)need[0]);
    CHECK(need[0] == (uint64_t)(2 * GIB) + 8 + 8); /* a's out kept, and b's (read by no one) */
    place_spec spec = {1, {(uint64_t)(1.5 * GIB)}, 0, 1e6, PLACE_CH_PAIR};
    cs_err err;
    CHECK(place_check_memory(&spec, need, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "device 0 runs out of memory");
    place_prep p;
    CHECK(place_prepare(&g, 0, 0, &p, NULL) == 0);
    place_result r;
    int rc = place_run(&g, &p, &spec, PLACE_SINGLE, &r, &err);
    CHECK(rc != 0); /* 1.5 GiB holds the weights, not the weights and the scratch */
    if (rc == 0)
        place_result_free(&r);
    place_prep_free(&p);
    opg_free(&g);
}

TAP_MAIN({"last_stage_keeps_fp32_logits", last_stage_keeps_fp32_logits},
         {"recompute_widens_the_dp_window", recompute_widens_the_dp_window},
         {"swiglu_moves_three_tensors", swiglu_moves_three_tensors},
         {"p2p_bytes_split_over_tp", p2p_bytes_split_over_tp},
         {"scratch_counts_in_the_replay", scratch_counts_in_the_replay})
