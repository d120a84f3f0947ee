/* Unit tests: rank mapping, the closed-form estimate and the metrics.
 * A single GPU's iteration worked out from the operator costs; metric
 * identities; a non-fitting layout still estimated; invalid layouts
 * rejected with the rule that fails. */
#include "estimate.h"
#include "fixture.h"
#include "tap.h"
#include "trainsim.h"
#include "workload.h"


/* gpu = tp_rank + tp (dp_rank + dp pp_rank): tensor groups inside a node. */
static void rank_mapping(void)
{
    layout_desc l;
    layout_init(&l, NULL);
    l.tp = 8;
    l.dp = 4;
    l.pp = 2;
    CHECK_EQ_INT(commcost_gpu(&l, 0, 0, 0), 0);
    CHECK_EQ_INT(commcost_gpu(&l, 7, 0, 0), 7);
    CHECK_EQ_INT(commcost_gpu(&l, 0, 1, 0), 8);
    CHECK_EQ_INT(commcost_gpu(&l, 3, 2, 1), 3 + 8 * (2 + 4));
}

/* One GPU: m (forward + backward) + optimizer, nothing else. */
static void single_gpu_by_hand(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 1, "llama2-7b", 1, 1, 1, 1);
    f.l.mbs = 1;
    f.l.gbs = 4;
    estimate_result r;
    cs_err err;
    CHECK(estimate_analytic(&f.in, &r, &err) == 0);
    workload_chunk c;
    workload_chunk_of(&f.m, &f.l, estimate_device(f.t), &f.eff, 0, 0, &c);
    double opt = workload_optimizer_s(&f.m, &f.l, estimate_device(f.t), &f.eff, 0);
    CHECK_REL(r.iteration_s, 4 * (c.fwd_s + c.bwd_s) + opt, 1e-9);
    CHECK_REL(r.stages[0].compute_s, 4 * (c.fwd_s + c.bwd_s), 1e-9);
    CHECK(r.stages[0].bubble_s < 1e-9 && r.stages[0].tp_comm_s == 0);
    /* metrics */
    CHECK_REL(r.tokens_per_s, 4 * 4096 / r.iteration_s, 1e-9);
    CHECK_REL(r.mfu, r.model_tflops_per_gpu * 1e12 / 989.4e12, 1e-9);
    CHECK_REL(r.model_flops_iter, c.model_flops * 4, 1e-9);
    CHECK(r.hfu == r.mfu); /* no recomputation */
    CHECK(!r.fits);        /* 7B with Adam on one 80 GB GPU: 16 B/param = 108 GB */
    estimate_result_free(&r);
    topo_free(f.t);
}

/* Full recomputation: HFU / MFU = hardware / model FLOPs. */
static void hfu_counts_recompute(void)
{
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 1, "megatron-1.7b", 1, 1, 1, 1);
    f.l.recompute = LAYOUT_RECOMPUTE_FULL;
    f.l.gbs = 2;
    estimate_result r;
    CHECK(estimate_analytic(&f.in, &r, NULL) == 0);
    CHECK_REL(r.hfu / r.mfu, r.hw_flops_iter / r.model_flops_iter, 1e-9);
    CHECK(r.hw_flops_iter > 1.3 * r.model_flops_iter);
    CHECK(r.stages[0].recompute_s > 0);
    estimate_result_free(&r);
    topo_free(f.t);
}

static void invalid_layouts_rejected(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 2, "llama2-70b", 1, 1, 1, 1);
    cs_err err;
    estimate_result r;
    f.l.tp = 3; /* 64 heads */
    f.in.gpus = 3;
    CHECK(estimate_analytic(&f.in, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "tp");
    estimate_result_free(&r);
    f.l.tp = 8;
    f.in.gpus = 32; /* more than 2 nodes hold */
    CHECK(estimate_analytic(&f.in, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "system has 16");
    estimate_result_free(&r);
    f.in.gpus = 16; /* tp 8 x pp 1 x dp 1 is not 16 */
    CHECK(estimate_analytic(&f.in, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "16");
    estimate_result_free(&r);
    topo_free(f.t);
}

/* The interleaved closed form: m C of work plus a bubble of (pp - 1) C / v.
 * With few microbatches per pipeline (m = pp) the former formula, (m - 1) C
 * + pp C / v, was short by C (1 - 1/v), a third of the iteration here; the
 * simulation is the check. */
static void interleaved_closed_form_matches_simulation(void)
{
    static const int gbs[] = {64, 256}; /* m = 2 and 8 with dp 32, mbs 1 */
    for (int i = 0; i < 2; i++) {
        fixture f;
        fixture_setup(&f, "dgx-a100-80g", 8, "megatron-18.4b", 1, 2, 32, gbs[i]);
        f.l.vpp = 4;
        f.l.schedule = LAYOUT_SCHEDULE_INTERLEAVED;
        f.l.recompute = LAYOUT_RECOMPUTE_FULL;
        estimate_result ana, sim;
        CHECK(estimate_analytic(&f.in, &ana, NULL) == 0);
        CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &sim, NULL, NULL) == 0);
        /* 4%: the former formula was short by a third; what is left is
         * the data-parallel overlap, which the simulation runs per chunk
         * and the closed form over the whole backward window (each bucket
         * paying NCCL's ring latency across 8 nodes widens it: 2.0% with
         * the route latencies, 3.1% with NCCL's). */
        CHECK_REL(ana.iteration_s, sim.iteration_s, 0.04);
        estimate_result_free(&ana);
        estimate_result_free(&sim);
        topo_free(f.t);
    }
}

TAP_MAIN({"rank_mapping", rank_mapping},
         {"interleaved_closed_form_matches_simulation", interleaved_closed_form_matches_simulation}, {"single_gpu_by_hand", single_gpu_by_hand},
         {"hfu_counts_recompute", hfu_counts_recompute},
         {"invalid_layouts_rejected", invalid_layouts_rejected})
