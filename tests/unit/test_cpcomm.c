/* Unit tests: context parallelism.  Its layout rules (each broken on its
 * own names the rule and the nearest valid cp), the rank order, the
 * communication volume of each variant against its closed form derived
 * here by hand and against the bytes the simulation's lowering moves, the
 * exposed time of a ring step, activation memory and attention FLOPs per
 * rank, the gradient reduction over dp x cp, and the closed form, folded
 * and every-rank simulation agreeing on a CP case. */
#include <string.h>

#include "commcost.h"
#include "cpcomm.h"
#include "fixture.h"
#include "memory.h"
#include "tap.h"
#include "trainsim.h"
#include "workload.h"

/* llama3-8b (h 4096, 32 heads, 8 kv heads of 128, 32 layers) at seq 16384,
 * tp 2: per tp rank h/t = 2048 and kv/t = 8 x 128 / 2 = 512. */
static void shape(model_desc *m, layout_desc *l, int cp, layout_cp_comm comm)
{
    CHECK(model_find("llama3-8b", m, NULL) == 0);
    m->seq_len = 16384;
    layout_init(l, m);
    l->tp = 2;
    l->cp = cp;
    l->cp_comm = comm;
}

static void expect_invalid(const layout_desc *l, const model_desc *m, int gpus, const char *a,
                           const char *b)
{
    cs_err err = {""};
    CHECK(layout_validate(l, m, gpus, 8, &err) == -1);
    printf("# %s\n", err.msg);
    CHECK_STR_CONTAINS(err.msg, a);
    CHECK_STR_CONTAINS(err.msg, b);
}

static void rules(void)
{
    model_desc m;
    layout_desc l;
    cs_err err = {""};
    shape(&m, &l, 4, LAYOUT_CP_P2P);
    CHECK(layout_validate(&l, &m, 8, 8, &err) == 0);
    CHECK_EQ_INT(layout_gpus(&l), 8);
    CHECK_EQ_INT(layout_dp_cp(&l), 4);
    /* the world is tp x cp x dp x pp: 16 GPUs want dp 2 */
    expect_invalid(&l, &m, 16, "tp 2 x cp 4 x pp 1 x dp 1 = 8 GPUs", "dp 2 would use 16");
    /* seq 16384 / (2 x 3) is not whole: nearest cp dividing seq / 2 are 2 and 4 */
    l.cp = 3;
    expect_invalid(&l, &m, 6, "divisible by 2 cp = 6", "divide seq_len / 2: 2, 4");
    l.cp = 4;
    l.flash_attention = 0;
    expect_invalid(&l, &m, 8, "needs fused attention", "cp 4");
    l.flash_attention = 1;
    /* Ulysses over 8: kv_heads / tp = 4 is not divisible; cp 4 passes */
    l.cp = 8;
    l.cp_comm = LAYOUT_CP_A2A;
    expect_invalid(&l, &m, 16, "all-to-all group of 8 ranks", "near 8 that pass: 4");
    /* USP inside a node of 8 with tp 2: the all-to-all group is gcd(8, 4) = 4 */
    l.cp_comm = LAYOUT_CP_A2A_P2P;
    CHECK_EQ_INT(layout_cp_a2a_ranks(&l, 8), 4);
    CHECK(layout_validate(&l, &m, 16, 8, &err) == 0);
    /* an all-to-all group past coll_alltoall_max_ranks (4,096 GPUs: 2^24 routed
     * pairs) is refused before any plan routes it, with the limit and the way
     * out; ring attention over the same cp is not an all-to-all */
    l.cp = 8192; /* seq 16384 = 2 cp */
    l.cp_comm = LAYOUT_CP_A2A;
    expect_invalid(&l, &m, 16384, "all-to-all over 8192 GPUs routes 67100672 pairs",
                   "the limit is 4096 GPUs");
    l.cp_comm = LAYOUT_CP_P2P;
    CHECK(layout_validate(&l, &m, 16384, 8, &err) == 0);
    l.cp = 0; /* a layout not made by layout_init: no context parallelism */
    CHECK_EQ_INT(layout_cp_of(&l), 1);
    l.cp = 5;
    l.cp_comm = (layout_cp_comm)7;
    expect_invalid(&l, &m, 10, "cp_comm 7", "p2p, a2a, a2a+p2p");
}

static void names_and_describe(void)
{
    model_desc m;
    layout_desc l;
    char buf[160];
    shape(&m, &l, 8, LAYOUT_CP_A2A_P2P);
    CHECK_STR_CONTAINS(layout_describe(&l, buf, sizeof buf), "tp2 pp1 dp1 cp8 a2a+p2p mbs1");
    l.cp_comm = LAYOUT_CP_P2P;
    CHECK(strstr(layout_describe(&l, buf, sizeof buf), "cp8 mbs1") != NULL);
    l.cp = 1;
    CHECK(strstr(layout_describe(&l, buf, sizeof buf), "cp") == NULL);
    layout_cp_comm c;
    cs_err err = {""};
    CHECK(layout_cp_comm_parse("a2a+p2p", "--cp-comm-type", &c, &err) == 0 &&
          c == LAYOUT_CP_A2A_P2P);
    CHECK(layout_cp_comm_parse("ring", "--cp-comm-type", &c, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "--cp-comm-type");
}

/* tp-cp-dp-pp: tp 2, cp 4, dp 2, pp 2; gpu = t + 2 (c + 4 (d + 2 p)), and
 * commcost_gpu's dp index is j = c + 4 d. */
static void rank_order(void)
{
    model_desc m;
    layout_desc l;
    shape(&m, &l, 4, LAYOUT_CP_P2P);
    l.dp = 2;
    l.pp = 2;
    CHECK_EQ_INT(commcost_gpu(&l, 1, 0, 0), 1);
    CHECK_EQ_INT(commcost_gpu(&l, 0, 1, 0), 2);  /* cp rank 1 is tp GPUs away */
    CHECK_EQ_INT(commcost_gpu(&l, 0, 4, 0), 8);  /* dp rank 1: tp x cp away */
    CHECK_EQ_INT(commcost_gpu(&l, 1, 3 + 4, 1), 1 + 2 * (3 + 4 * (1 + 2)));
}

/* Bytes one rank sends per layer and microbatch, derived by hand for the
 * shape above (mbs 1, 16-bit activations), T = 16384 / cp tokens:
 *   p2p cp 4: B = 2 T kv_t 2 = 2 x 4096 x 512 x 2 = 8388608; forward R - 1
 *     = 3 blocks: 25165824; backward K,V + 1 x (K,V,dK,dV) + dK,dV = 6 B:
 *     50331648.
 *   a2a cp 4: Q,K,V buffer T (h_t + 2 kv_t) 2 = 4096 x 3072 x 2 = 25165824,
 *     output T h_t 2 = 16777216; 3/4 of both leave the rank: 31457280,
 *     forward and backward alike.
 *   a2a+p2p cp 8 (node of 8, tp 2: all-to-all over 4, ring over 2),
 *     T = 2048: all-to-alls 3/4 (12582912 + 8388608) = 15728640; B =
 *     2 x 2048 x 512 x 2 = 4194304; forward + B: 19922944; backward + 2 B:
 *     24117248. */
static const struct {
    int cp;
    layout_cp_comm comm;
    double fwd, bwd;
} volumes[] = {
    {4, LAYOUT_CP_P2P, 25165824, 50331648},
    {4, LAYOUT_CP_A2A, 31457280, 31457280},
    {8, LAYOUT_CP_A2A_P2P, 19922944, 24117248},
};

static void volume_closed_form(void)
{
    for (size_t i = 0; i < sizeof volumes / sizeof volumes[0]; i++) {
        model_desc m;
        layout_desc l;
        cpcomm_volume v;
        shape(&m, &l, volumes[i].cp, volumes[i].comm);
        cpcomm_volume_of(&m, &l, 8, &v);
        printf("# %s cp %d: %.0f forward, %.0f backward\n", layout_cp_comm_name(volumes[i].comm),
               volumes[i].cp, cpcomm_sent_bytes(&v, 0), cpcomm_sent_bytes(&v, 1));
        CHECK_REL(cpcomm_sent_bytes(&v, 0), volumes[i].fwd, 1e-12);
        CHECK_REL(cpcomm_sent_bytes(&v, 1), volumes[i].bwd, 1e-12);
    }
}

/* Bytes the context-parallel tasks of the lowered iteration move, summed
 * over every rank: a sendrecv's size leaves each of its ranks, an
 * all-to-all's (n - 1)/n of it. */
static int count_cp_bytes(const exec_graph *g, void *ctx, cs_err *err)
{
    (void)err;
    double *sum = ctx;
    for (int id = 0; id < exec_task_count(g); id++) {
        const char *name = exec_task_name(g, id);
        const coll_plan *p = exec_task_plan(g, id);
        if (!p || strncmp(name, "cp ", 3) != 0)
            continue;
        double n = p->nranks, size = (double)exec_task_size_bytes(g, id);
        *sum += p->op == COLL_ALLTOALL ? size * (n - 1) : size * n;
    }
    return 0;
}

/* The lowering moves gpus x m x layers per stage x (forward + backward)
 * bytes, each rank its closed-form share: 16 GPUs of two DGX H100 nodes,
 * pp 2 (16 layers a stage) or pp 1, two microbatches. */
static void volume_in_simulation(void)
{
    for (size_t i = 0; i < sizeof volumes / sizeof volumes[0]; i++) {
        fixture f;
        int pp = volumes[i].cp == 8 ? 1 : 2;
        fixture_setup(&f, "dgx-h100", 2, "llama3-8b", 2, pp, 1, 2);
        f.m.seq_len = 16384;
        f.l.cp = volumes[i].cp;
        f.l.cp_comm = volumes[i].comm;
        f.in.gpus = 16;
        double sum = 0;
        cs_err err = {""};
        CHECK(trainsim_lowered(&f.in, count_cp_bytes, &sum, &err) == 0);
        double per_rank = 2.0 * (32 / pp) * (volumes[i].fwd + volumes[i].bwd);
        printf("# %s: lowered %.0f bytes, closed form 16 x %.0f\n",
               layout_cp_comm_name(volumes[i].comm), sum, per_rank);
        CHECK_REL(sum, 16 * per_rank, 1e-12);
        topo_free(f.t);
    }
}

/* A ring step's transfer of c seconds over attention steps of a seconds:
 * forward 3 steps expose 3 max(0, c - a); backward of A_b = 2.5 A_f:
 * 2 max(0, c - a_b) + max(0, c2 - a_b). */
static void ring_exposure(void)
{
    cpcomm_volume v = {4, 1, 4, 1e6, 0, 0};
    cpcomm_prices p = {.ring_kv_s = 3e-3, .ring_kv2_s = 6e-3};
    cpcomm_layer t;
    cpcomm_layer_times(&v, &p, 8e-3, 20e-3, &t); /* a = 2 ms, a_b = 5 ms */
    CHECK_REL(t.fwd_exposed_s, 3 * 1e-3, 1e-12);
    CHECK_REL(t.fwd_hidden_s, 3 * 2e-3, 1e-12);
    CHECK_REL(t.bwd_exposed_s, 2 * 6e-3 - 2 * 5e-3, 1e-12);
    CHECK_REL(t.bwd_hidden_s, 2 * 3e-3 + 2 * 5e-3, 1e-12);
    cpcomm_layer_times(&v, &p, 40e-3, 100e-3, &t); /* long attention hides it all */
    CHECK(t.fwd_exposed_s == 0 && t.bwd_exposed_s == 0);
}

/* Activations per rank divided by cp; the attention's FLOPs per rank are
 * 1/cp of the whole sequence's; the model FLOPs of the iteration do not
 * change. */
static void memory_and_flops(void)
{
    model_desc m;
    layout_desc one, four;
    shape(&m, &one, 1, LAYOUT_CP_P2P);
    shape(&m, &four, 4, LAYOUT_CP_P2P);
    CHECK_REL(memory_activation_bytes_per_layer(&m, &four),
              memory_activation_bytes_per_layer(&m, &one) / 4, 1e-12);
    const dev_type *dev = dev_find("H100-SXM5-80GB", NULL);
    CHECK(dev != NULL);
    opcost_eff e;
    opcost_eff_default(&e);
    workload_op a[WORKLOAD_MAX_OPS], b[WORKLOAD_MAX_OPS];
    int n = workload_layer_ops(&m, &one, dev, &e, a);
    CHECK_EQ_INT(workload_layer_ops(&m, &four, dev, &e, b), n);
    for (int i = 0; i < n; i++) /* every operator, attention included, does a quarter */
        CHECK_REL(b[i].fwd_flops, a[i].fwd_flops / 4, 1e-12);
    workload_info i1, i4;
    four.dp = 1;
    workload_info_of(&m, &one, &i1);
    workload_info_of(&m, &four, &i4);
    CHECK_REL(i4.model_flops_iter, i1.model_flops_iter, 1e-12);
}

/* The gradient reduction runs over dp x cp (Megatron's data-parallel group
 * with context parallel): with dp 1 and cp 4 there is one, over 4 ranks. */
static void gradients_over_dp_cp(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 2, "llama3-8b", 2, 2, 1, 4);
    f.m.seq_len = 16384;
    f.l.cp = 4;
    f.in.gpus = 16;
    commcost cc;
    cs_err err = {""};
    CHECK(commcost_build(f.t, &f.m, &f.l, NULL, &cc, &err) == 0);
    CHECK_EQ_INT(cc.stages[0].dp_reduce.nranks, 4);
    CHECK(cc.stages[0].dp_bucket_s > 0);
    CHECK_EQ_INT(cc.stages[0].cp_ring.nranks, 4);
    CHECK(cc.stages[0].cp.ring_kv_s > 0 && cc.stages[0].cp.ring_kv2_s > cc.stages[0].cp.ring_kv_s);
    commcost_free(&cc);
    topo_free(f.t);
}

/* The closed form, the folded simulation and the every-rank simulation of
 * each variant on 16 GPUs agree; cp 8 with tp 2 spans both nodes, so the
 * ring's hops between them are InfiniBand's and part of it is exposed.
 * Folded mode prices the exchanges in closed form on an idle network; in
 * the every-rank run the last microbatch's ring shares InfiniBand with the
 * gradient reduction over dp x cp, once per iteration (0.019 s for p2p
 * here, whatever the microbatches): 16 microbatches keep that under 2%. */
static void modes_agree(void)
{
    static const struct { int cp; layout_cp_comm comm; } cases[] = {
        {8, LAYOUT_CP_P2P}, {4, LAYOUT_CP_A2A}, {8, LAYOUT_CP_A2A_P2P}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture f;
        int pp = 16 / (2 * cases[i].cp);
        fixture_setup(&f, "dgx-h100", 2, "llama3-8b", 2, pp, 1, 16);
        f.m.seq_len = 16384;
        f.l.cp = cases[i].cp;
        f.l.cp_comm = cases[i].comm;
        f.l.recompute = LAYOUT_RECOMPUTE_SELECTIVE;
        f.in.gpus = 16;
        estimate_result a, fo, all;
        cs_err err = {""};
        CHECK(estimate_analytic(&f.in, &a, &err) == 0);
        CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &fo, NULL, &err) == 0);
        CHECK(trainsim_run(&f.in, TRAINSIM_ALL_RANKS, &all, NULL, &err) == 0);
        printf("# %s: analytic %.6f s (cp exposed %.6f), folded %.6f (%.6f), all ranks %.6f\n",
               layout_cp_comm_name(cases[i].comm), a.iteration_s, a.stages[0].cp_exposed_s,
               fo.iteration_s, fo.stages[0].cp_exposed_s, all.iteration_s);
        CHECK(a.stages[0].cp_exposed_s + a.stages[0].cp_hidden_s > 0);
        CHECK_REL(fo.iteration_s, a.iteration_s, 0.01);
        CHECK_REL(fo.stages[0].cp_exposed_s, a.stages[0].cp_exposed_s, 0.01);
        CHECK_REL(all.iteration_s, fo.iteration_s, 0.02);
        estimate_result_free(&a);
        estimate_result_free(&fo);
        estimate_result_free(&all);
        topo_free(f.t);
    }
}

TAP_MAIN({"rules name the rule and the nearest cp", rules},
         {"names and describe", names_and_describe}, {"rank order tp-cp-dp-pp", rank_order},
         {"volume of each variant: closed form", volume_closed_form},
         {"volume of each variant: the lowering moves it", volume_in_simulation},
         {"ring exposure", ring_exposure}, {"memory and FLOPs per rank", memory_and_flops},
         {"gradients over dp x cp", gradients_over_dp_cp}, {"three modes agree", modes_agree})
