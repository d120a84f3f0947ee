/* Unit tests: expert parallelism.  Its rules and their nearest valid
 * values; the rank mapping; the slowest expert rank's load under Zipf
 * routing and capacity dropping, computed by hand; a Zipf-routed step
 * slower than a uniform one by that hand-computed factor on the routed
 * work; the all-to-all in the closed form and the simulation (folded and
 * every rank) agreeing; flat and hierarchical all-to-alls; expert memory. */
#include <math.h>
#include <string.h>

#include "commcost.h"
#include "fixture.h"
#include "layout_ep.h"
#include "memory.h"
#include "tap.h"
#include "trainsim.h"
#include "workload.h"

/* H_8 = 1 + 1/2 + ... + 1/8 = 761/280: Zipf(1) over 8 experts gives expert 0
 * the share 280/761 of the token slots. */
#define H8 (761.0 / 280.0)

/* Mixtral-8x7B over dp ranks with expert parallelism ep. */
static void mixtral_layout(model_desc *m, layout_desc *l, int dp, int ep)
{
    CHECK(model_find("mixtral-8x7b", m, NULL) == 0);
    layout_init(l, m);
    l->dp = dp;
    l->ep = ep;
}

static void rules(void)
{
    model_desc m;
    layout_desc l;
    cs_err err = {""};
    CHECK(model_find("llama3-8b", &m, NULL) == 0);
    layout_init(&l, &m);
    l.dp = 8;
    l.gbs = 8;
    l.ep = 2;
    CHECK(layout_validate(&l, &m, 0, 0, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "has none");
    CHECK(model_find("mixtral-8x7b", &m, NULL) == 0);
    l.ep = 3;
    CHECK(layout_validate(&l, &m, 0, 0, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "ep 3 does not divide the 8 experts");
    CHECK_STR_CONTAINS(err.msg, "ep values near 3: 2, 4");
    l.dp = 2;
    l.gbs = 2;
    l.ep = 4;
    CHECK(layout_validate(&l, &m, 0, 0, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "etp 1 x ep 4 = 4 does not divide tp 1 x dp 2 = 2");
    CHECK_STR_CONTAINS(err.msg, "ep values near 4: 2");
    l.ep = 2;
    CHECK(layout_validate(&l, &m, 0, 0, &err) == 0);
    CHECK_EQ_INT(layout_edp_of(&l), 1);
    l.etp = 3;
    CHECK(layout_validate(&l, &m, 0, 0, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "etp 3 does not divide the expert width 14336");
    /* an expert-parallel group past coll_alltoall_max_ranks (4,096 GPUs: 2^24
     * routed pairs) is refused with the limit, before any plan routes it */
    m.moe_experts = 8192;
    l.etp = 0;
    l.dp = 8192;
    l.gbs = 8192;
    l.ep = 8192;
    CHECK(layout_validate(&l, &m, 0, 0, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "ep 8192: the expert-parallel all-to-all over 8192 GPUs");
    CHECK_STR_CONTAINS(err.msg, "the limit is ep 4096");
    l.ep = 4096;
    CHECK(layout_validate(&l, &m, 0, 0, &err) == 0);
}

/* Megatron-Core's RankGenerator order tp-cp-ep-dp-pp with etp = tp 2, ep 4
 * over tp 2 x dp 8: ep group of (etp 1, edp 1) is ranks 1 + 2 (e + 4). */
static void mapping(void)
{
    layout_desc l;
    layout_init(&l, NULL);
    l.tp = 2;
    l.dp = 8;
    l.ep = 4;
    CHECK_EQ_INT(layout_edp_of(&l), 2);
    int want[4] = {9, 11, 13, 15};
    for (int e = 0; e < 4; e++)
        CHECK_EQ_INT(layout_ep_local_rank(&l, 1, e, 1), want[e]);
}

static void imbalance_by_hand(void)
{
    model_desc m;
    layout_desc l;
    mixtral_layout(&m, &l, 8, 8);
    CHECK_REL(layout_ep_imbalance(&m, &l), 1.0, 1e-12);
    l.moe_routing = LAYOUT_ROUTING_ZIPF;
    l.moe_zipf_s = 1;
    CHECK_REL(layout_ep_imbalance(&m, &l), 8 / H8, 1e-12); /* 2.9435 */
    l.ep = 4; /* experts 0 and 1 on rank 0: (1 + 1/2) / H8 of the slots */
    CHECK_REL(layout_ep_imbalance(&m, &l), 4 * 1.5 / H8, 1e-12);
    m.moe_capacity_factor = 2; /* at most 2/8 per expert: rank 0 keeps 1/4 + (1/2)/H8 */
    CHECK_REL(layout_ep_imbalance(&m, &l), 4 * (0.25 + 0.5 / H8), 1e-12);
    double kept = 0.25;
    for (int i = 1; i < 8; i++)
        kept += fmin(1.0 / (i + 1) / H8, 0.25);
    CHECK_REL(layout_ep_kept_share(&m, &l), kept, 1e-12);
    double hist[8] = {4, 1, 1, 1, 1, 0, 0, 0}; /* a measured histogram: 8 tokens */
    m.moe_capacity_factor = 0;
    l.moe_routing = LAYOUT_ROUTING_HISTOGRAM;
    l.moe_hist = hist;
    l.moe_hist_n = 8;
    CHECK_REL(layout_ep_imbalance(&m, &l), 4 * 5.0 / 8, 1e-12);
}

/* Mixtral on one DGX H100, ep 8 (one expert per GPU), one microbatch:
 * under Zipf(1) the GPU of expert 0 gets 8/H8 = 2.9435 times the even
 * slots, so its routed work (permutation, expert GEMMs) and its all-to-
 * alls take 2.9435 times as long, and the step waits for it. */
static double routed_compute_s(const fixture *f)
{
    workload_op ops[WORKLOAD_MAX_OPS];
    int n = workload_layer_ops(&f->m, &f->l, estimate_device(f->t), &f->eff, ops);
    double t = 0;
    for (int i = 0; i < n; i++)
        if (strncmp(ops[i].name, "experts", 7) == 0 || strstr(ops[i].name, "permute"))
            t += ops[i].fwd_s + ops[i].bwd_s;
    return t * f->m.layers;
}

static void zipf_slows_the_step(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 1, "mixtral-8x7b", 1, 1, 8, 8);
    f.l.ep = 8;
    estimate_result uni, zipf;
    CHECK(estimate_analytic(&f.in, &uni, NULL) == 0);
    double routed_uni = routed_compute_s(&f);
    f.l.moe_routing = LAYOUT_ROUTING_ZIPF;
    f.l.moe_zipf_s = 1;
    CHECK(estimate_analytic(&f.in, &zipf, NULL) == 0);
    double routed_zipf = routed_compute_s(&f), factor = 8 / H8;
    printf("# step %.4f s uniform, %.4f s Zipf(1); routed %.4f -> %.4f s (x%.4f, hand x%.4f); "
           "all-to-all %.4f -> %.4f s\n",
           uni.iteration_s, zipf.iteration_s, routed_uni, routed_zipf, routed_zipf / routed_uni,
           factor, uni.stages[0].ep_comm_s, zipf.stages[0].ep_comm_s);
    /* the all-to-alls are bandwidth-bound: exactly the factor */
    CHECK(uni.stages[0].ep_comm_s > 0);
    CHECK_REL(zipf.stages[0].ep_comm_s, factor * uni.stages[0].ep_comm_s, 1e-9);
    /* the routed kernels: the factor, up to the GEMMs' efficiency at 2.9x the rows */
    CHECK_REL(routed_zipf, factor * routed_uni, 0.03);
    /* the step grows by (factor - 1) times the routed work and the all-to-alls */
    double expect = uni.iteration_s + (factor - 1) * (routed_uni + uni.stages[0].ep_comm_s);
    CHECK_REL(zipf.iteration_s, expect, 0.02);
    estimate_result_free(&uni);
    estimate_result_free(&zipf);
    topo_free(f.t);
}

/* Every rank simulated = one per stage, with the all-to-alls; and the
 * closed form agrees with both on a pipeline without contention. */
static void folded_and_all_ranks_agree(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 2, "mixtral-8x7b", 1, 2, 8, 32);
    f.l.ep = 8;
    f.l.zero = 1;
    f.l.recompute = LAYOUT_RECOMPUTE_SELECTIVE;
    estimate_result all, folded, closed;
    cs_err err = {""};
    CHECK(trainsim_run(&f.in, TRAINSIM_ALL_RANKS, &all, NULL, &err) == 0);
    CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &folded, NULL, &err) == 0);
    CHECK(estimate_analytic(&f.in, &closed, &err) == 0);
    printf("# all ranks %.5f s, folded %.5f s, closed form %.5f s; all-to-all %.5f / %.5f s\n",
           all.iteration_s, folded.iteration_s, closed.iteration_s, all.stages[0].ep_comm_s,
           folded.stages[0].ep_comm_s);
    CHECK(folded.stages[0].ep_comm_s > 0);
    CHECK_REL(all.iteration_s, folded.iteration_s, 0.002);
    for (int s = 0; s < 2; s++) {
        CHECK_REL(all.stages[s].ep_comm_s, folded.stages[s].ep_comm_s, 1e-9);
        CHECK_REL(closed.stages[s].ep_comm_s, folded.stages[s].ep_comm_s, 1e-6);
    }
    CHECK_REL(closed.iteration_s, folded.iteration_s, 0.02);
    estimate_result_free(&all);
    estimate_result_free(&folded);
    estimate_result_free(&closed);
    topo_free(f.t);
}

/* One all-to-all of the fixture's layout on stage 0. */
static double a2a_s(fixture *f, int ep, int hier)
{
    commcost cc;
    f->l.ep = ep;
    f->l.ep_a2a_hier = hier;
    CHECK(commcost_build(f->t, &f->m, &f->l, NULL, &cc, NULL) == 0);
    double t = cc.stages[0].ep_a2a_s;
    commcost_free(&cc);
    return t;
}

/* The all-to-all of an ep group inside a node is one form; across two
 * nodes hierarchical differs from flat; a group over two nodes costs more
 * than one inside a node. */
static void flat_and_hierarchical(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 2, "mixtral-8x7b", 1, 1, 16, 16);
    double inside = a2a_s(&f, 8, 0);
    CHECK_REL(a2a_s(&f, 8, 1), inside, 1e-12); /* one node: priced flat */
    double flat = a2a_s(&f, 16, 0), hier = a2a_s(&f, 16, 1);
    printf("# all-to-all of %.0f MB per rank: ep 8 in a node %.3f ms; ep 16 over 2 nodes flat "
           "%.3f ms, hierarchical %.3f ms\n",
           8.0 * 4096 * 2 * 4096 * 2 / 8 / 1e6, inside * 1e3, flat * 1e3, hier * 1e3);
    CHECK(flat > inside && hier > inside && hier != flat);
    topo_free(f.t);
}

/* Experts split over ep: a rank of ep 8 holds 1/8 of the routed experts;
 * with zero 1 their optimizer state is sharded over edp = 2, the rest
 * over dp = 16. */
static void expert_memory(void)
{
    model_desc m;
    layout_desc l;
    mixtral_layout(&m, &l, 16, 1);
    l.gbs = 16;
    memory_breakdown one, eight;
    CHECK(memory_per_stage(&m, &l, 0, &one, NULL) == 0);
    l.ep = 8;
    CHECK(memory_per_stage(&m, &l, 0, &eight, NULL) == 0);
    double routed = m.layers * model_moe_routed_params(&m);
    CHECK_REL(one.params - eight.params, routed * 7 / 8, 1e-9);
    l.zero = 1;
    CHECK(memory_per_stage(&m, &l, 0, &eight, NULL) == 0);
    double experts = routed / 8;
    CHECK_REL(eight.optimizer_bytes, (eight.params - experts) * 12 / 16 + experts * 12 / 2, 1e-9);
}

TAP_MAIN({"rules and nearest values", rules}, {"rank mapping tp-cp-ep-dp-pp", mapping},
         {"slowest expert rank by hand", imbalance_by_hand},
         {"Zipf routing slows the step by the hand-computed factor", zipf_slows_the_step},
         {"folded, every rank and closed form agree", folded_and_all_ranks_agree},
         {"flat and hierarchical all-to-all", flat_and_hierarchical},
         {"expert memory per rank", expert_memory})
