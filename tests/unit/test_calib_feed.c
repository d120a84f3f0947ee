/* Unit tests: what a fitted device profile feeds.
 *   Attention: with sdpa_torch rows measured, the fit estimates use is
 *   sdpa_torch's and our kernel's is kept apart; without them it is our
 *   kernel's, as before.  Copies: the checkpoint's snapshot and its
 *   host-to-device reload step run at the fitted pinned copy bandwidths,
 *   still shared per PCIe switch and capped by host memory.  Collectives:
 *   a tensor- or data-parallel group within one node, over a rank count the
 *   profile measured, takes the fitted time, in the estimate and in the
 *   simulation alike; groups across nodes, rank counts not measured and
 *   one-rank fits change nothing. */
#include <stdlib.h>

#include "calib_builtin.h"
#include "calib_fit.h"
#include "checkpoint.h"
#include "fixture.h"
#include "tap.h"
#include "trainsim.h"
#include "workload.h"

static const dev_type *h200(void) { return dev_find("h200", NULL); }

/* ---- attention ---------------------------------------------------------------- */

/* Fits measurements drawn from truth, with or without the sdpa_torch rows. */
static void fit_synthetic(const calib_profile *truth, int keep_sdpa, calib_profile *fit)
{
    calib_meas *rows;
    int n, kept = 0;
    cs_err err;
    CHECK(calib_synthesize(truth, 8, 0.01, 11, &rows, &n, &err) == 0);
    for (int i = 0; i < n; i++)
        if (keep_sdpa || strcmp(rows[i].kernel, "sdpa_torch") != 0)
            rows[kept++] = rows[i];
    CHECK(calib_fit(rows, kept, 5, -1, h200(), "synthetic", fit, &err) == 0);
    free(rows);
}

/* A compute-bound bf16 attention (32 heads, 4096 tokens, head size 128). */
static double attention_s(const calib_profile *p)
{
    opcost_eff e;
    opcost_eff_default(&e);
    e.profile = p;
    double flops = 4.0 * 32 * 4096 * 4096 * 128, bytes = 4.0 * 32 * 4096 * 128 * 2;
    return opcost_attention_s(h200(), &e, MODEL_BF16, flops, bytes);
}

static void sdpa_feeds_attention(void)
{
    calib_profile truth, fit;
    calib_synthetic_truth(h200(), 8, &truth);
    truth.attention[CALIB_BF16].eff = 0.62; /* sdpa_torch's, unlike the built-in 0.55 */
    double own_eff = truth.attention_own[CALIB_BF16].eff;
    fit_synthetic(&truth, 1, &fit);
    const calib_gemm_fit *a = &fit.attention[CALIB_BF16];
    CHECK(fit.attention_source[CALIB_BF16] == CALIB_ATTN_SDPA);
    CHECK_REL(a->eff, 0.62, 0.02);
    CHECK(fit.attention_own[CALIB_BF16].have);
    CHECK_REL(fit.attention_own[CALIB_BF16].eff, own_eff, 0.02);
    double flops = 4.0 * 32 * 4096 * 4096 * 128;
    CHECK_REL(attention_s(&fit), flops / (989.4e12 * a->eff) + a->fixed_s, 1e-9);
    /* without sdpa_torch rows: our kernel's fit, nothing kept apart */
    fit_synthetic(&truth, 0, &fit);
    CHECK(fit.attention_source[CALIB_BF16] == CALIB_ATTN_OWN);
    CHECK(!fit.attention_own[CALIB_BF16].have);
    CHECK_REL(fit.attention[CALIB_BF16].eff, own_eff, 0.02);
    CHECK_REL(attention_s(&fit), flops / (989.4e12 * fit.attention[CALIB_BF16].eff) +
                                     fit.attention[CALIB_BF16].fixed_s, 1e-9);
}

/* Rows of each kernel are predicted by that kernel's own fit. */
static void each_attention_kernel_predicted_by_its_fit(void)
{
    calib_profile p;
    calib_profile_default(h200(), &p);
    p.attention_own[CALIB_BF16] = p.attention[CALIB_BF16];
    p.attention_own[CALIB_BF16].eff = 0.05;
    p.attention_source[CALIB_BF16] = CALIB_ATTN_SDPA;
    calib_meas r = {"attention", CALIB_BF16, 4096, 4096, 128, 32, 0, 4.0 * 32 * 4096 * 128 * 2,
                    4.0 * 32 * 4096 * 4096 * 128, 1, 1, 1, 10, 0};
    double own_s = calib_predict_s(&p, &r);
    snprintf(r.kernel, sizeof r.kernel, "sdpa_torch");
    double sdpa_s = calib_predict_s(&p, &r);
    CHECK_REL(own_s / sdpa_s, 0.55 / 0.05, 0.01);
}

/* ---- copies and the checkpoint ------------------------------------------------ */

typedef struct ckpt_case {
    sys_system sys;
    model_desc m;
    layout_desc l;
    ckpt_storage st;
} ckpt_case;

static void ckpt_setup(ckpt_case *c)
{
    CHECK(sys_from_catalog("dgx-h200", 8, &c->sys, NULL) == 0);
    CHECK(model_find("llama2-70b", &c->m, NULL) == 0);
    layout_init(&c->l, &c->m);
    c->l.tp = 8, c->l.pp = 4, c->l.dp = 2, c->l.gbs = 64;
    c->st = (ckpt_storage){1e12, 2e12};
}

static ckpt_cost ckpt_of(ckpt_case *c, const calib_profile *p)
{
    ckpt_cost out = {0};
    cs_err err;
    CHECK(ckpt_cost_of(&c->m, &c->l, &c->sys.groups[0].node, &c->st, p, &out, &err) == 0);
    return out;
}

static void copies_feed_checkpoint(void)
{
    ckpt_case c;
    ckpt_setup(&c);
    const sys_node_type *node = &c.sys.groups[0].node; /* 2 GPUs a PCIe switch */
    calib_profile p;
    calib_profile_default(h200(), &p); /* no copy fits: the built-in figures */
    ckpt_cost base = ckpt_of(&c, NULL), same = ckpt_of(&c, &p);
    CHECK(same.snapshot_s == base.snapshot_s && same.reload_s == base.reload_s);
    CHECK_REL(base.snapshot_s, base.gpu_bytes / (node->pcie_bw_bytes_per_s / 2), 1e-12);
    /* a d2h copy at half the link's rate: the snapshot takes twice as long, plus fixed */
    p.copy[CALIB_COPY_D2H_PINNED] = (calib_bw_fit){1, 9, node->pcie_bw_bytes_per_s / 2, 10e-6};
    ckpt_cost d2h = ckpt_of(&c, &p);
    CHECK_REL(d2h.snapshot_s, 2 * base.snapshot_s + 10e-6, 1e-12);
    CHECK(d2h.reload_s == base.reload_s); /* reloads copy the other way */
    /* an h2d copy at a quarter: the reloads' last step takes four times as long */
    p.copy[CALIB_COPY_H2D_PINNED] = (calib_bw_fit){1, 9, node->pcie_bw_bytes_per_s / 4, 0};
    ckpt_cost h2d = ckpt_of(&c, &p);
    CHECK_REL(h2d.h2d_s, 4 * base.h2d_s, 1e-12);
    CHECK_REL(h2d.reload_s - base.reload_s, 3 * base.h2d_s, 1e-9);
    CHECK_REL(h2d.memory_reload_s - base.memory_reload_s, 3 * base.h2d_s, 1e-9);
    /* a copy faster than host memory feeds: host memory's share per GPU caps it */
    p.copy[CALIB_COPY_D2H_PINNED] = (calib_bw_fit){1, 9, 1e15, 0};
    CHECK_REL(ckpt_of(&c, &p).snapshot_s,
              base.gpu_bytes / (node->host_mem_bw_bytes_per_s / node->gpus), 1e-12);
}

/* ---- collectives ---------------------------------------------------------------- */

static const int tp_ops[3] = {CALIB_OP_ALLREDUCE, CALIB_OP_ALLGATHER, CALIB_OP_REDUCESCATTER};

/* Fits of all-reduce, all-gather and reduce-scatter over `ranks` GPUs. */
static void add_fits(calib_profile *p, int ranks, const double latency_s[3],
                     const double algbw_bytes_per_s[3])
{
    for (int i = 0; i < 3; i++)
        p->coll[p->ncoll++] = (calib_coll_fit){tp_ops[i], ranks, 20, latency_s[i],
                                               algbw_bytes_per_s[i]};
}

static const double lat_s[3] = {50e-6, 30e-6, 40e-6}, algbw[3] = {100e9, 200e9, 150e9};

static double fitted_s(int op, double size_bytes)
{
    return lat_s[op] + size_bytes / algbw[op];
}

/* The built-in model of an H200 plus fits of the three ops over `ranks`. */
static void fitted_profile(calib_profile *p, int ranks)
{
    calib_profile_default(h200(), p);
    add_fits(p, ranks, lat_s, algbw);
}

static commcost costs_of(fixture *f, const calib_profile *p)
{
    commcost cc;
    cs_err err;
    CHECK(commcost_build(f->t, &f->m, &f->l, p, &cc, &err) == 0);
    return cc;
}

/* The costs of tp x dp GPUs of one node under fits over 8 ranks. */
static commcost node_costs(fixture *f, int tp, int dp)
{
    fixture_setup(f, "dgx-h200", 1, "llama2-7b", tp, 1, dp, 8);
    calib_profile p;
    fitted_profile(&p, 8);
    return costs_of(f, &p);
}

/* Tensor parallel over the 8 GPUs of a node: the fitted times, exactly. */
static void fit_prices_tp(void)
{
    fixture f;
    commcost cc = node_costs(&f, 8, 1);
    double size = (double)cc.tp_size_bytes;
    CHECK_REL(cc.stages[0].tp_allreduce_s, fitted_s(0, size), 1e-12);
    CHECK_REL(cc.stages[0].tp_allgather_s, fitted_s(1, size), 1e-12);
    CHECK_REL(cc.stages[0].tp_reducescatter_s, fitted_s(2, size), 1e-12);
    commcost_free(&cc);
    topo_free(f.t);
}

/* Seconds of one microbatch's tensor-parallel collectives under the fits. */
static double fitted_tp_per_microbatch_s(fixture *f, const calib_profile *p)
{
    workload_chunk w;
    workload_chunk_of(&f->m, &f->l, h200(), &f->eff, 0, 0, &w);
    commcost cc = costs_of(f, p);
    double size = (double)cc.tp_size_bytes;
    commcost_free(&cc);
    workload_tp n = {w.tp_fwd.allreduce + w.tp_bwd.allreduce + w.tp_recompute.allreduce,
                     w.tp_fwd.allgather + w.tp_bwd.allgather + w.tp_recompute.allgather,
                     w.tp_fwd.reducescatter + w.tp_bwd.reducescatter + w.tp_recompute.reducescatter};
    CHECK(n.allreduce + n.allgather > 0);
    return n.allreduce * fitted_s(0, size) + n.allgather * fitted_s(1, size) +
           n.reducescatter * fitted_s(2, size);
}

/* The estimate's tensor-parallel time is the fitted collectives', and the
 * simulation runs the same times, folded or every rank. */
static void check_estimate_and_sim(fixture *f, const calib_profile *p)
{
    estimate_result r, folded, all;
    CHECK(estimate_analytic(&f->in, &r, NULL) == 0);
    CHECK_REL(r.stages[0].tp_comm_s,
              layout_microbatches(&f->l) * fitted_tp_per_microbatch_s(f, p), 1e-9);
    CHECK(trainsim_run(&f->in, TRAINSIM_FOLDED, &folded, NULL, NULL) == 0);
    CHECK(trainsim_run(&f->in, TRAINSIM_ALL_RANKS, &all, NULL, NULL) == 0);
    CHECK_REL(folded.iteration_s, r.iteration_s, 1e-6);
    CHECK_REL(all.iteration_s, r.iteration_s, 1e-6);
    CHECK_REL(all.stages[0].tp_comm_s, r.stages[0].tp_comm_s, 1e-6);
    estimate_result_free(&r);
    estimate_result_free(&folded);
    estimate_result_free(&all);
}

static void estimate_and_sim_take_fit(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h200", 1, "llama2-7b", 8, 1, 1, 8);
    calib_profile p;
    fitted_profile(&p, 8);
    f.eff.profile = &p;
    check_estimate_and_sim(&f, &p); /* all-reduces */
    f.l.sp = 1;
    check_estimate_and_sim(&f, &p); /* all-gathers and reduce-scatters */
    topo_free(f.t);
}

/* Data parallel within a node: its buckets take the fitted all-reduce. */
static void fit_prices_dp_in_node(void)
{
    fixture f;
    commcost cc = node_costs(&f, 1, 8);
    CHECK_REL(cc.stages[0].dp_bucket_s, fitted_s(0, (double)cc.stages[0].bucket_bytes), 1e-12);
    CHECK_REL(cc.stages[0].dp_last_bucket_s,
              fitted_s(0, (double)cc.stages[0].last_bucket_bytes), 1e-12);
    commcost_free(&cc);
    topo_free(f.t);
}

/* The same times with and without the profile. */
static void check_unchanged(fixture *f, const calib_profile *p)
{
    commcost with = costs_of(f, p), without = costs_of(f, NULL);
    for (int s = 0; s < f->l.pp; s++) {
        const commcost_stage *a = &with.stages[s], *b = &without.stages[s];
        CHECK(a->tp_allreduce_s == b->tp_allreduce_s && a->tp_allgather_s == b->tp_allgather_s &&
              a->tp_reducescatter_s == b->tp_reducescatter_s);
        CHECK(a->dp_bucket_s == b->dp_bucket_s && a->dp_allgather_s == b->dp_allgather_s);
        CHECK(a->p2p_s == b->p2p_s);
    }
    commcost_free(&with);
    commcost_free(&without);
}

/* Across nodes, over unmeasured rank counts, or from one-rank fits: the
 * topology model as before. */
static void fit_leaves_the_rest(void)
{
    calib_profile p;
    fitted_profile(&p, 1); /* what a one-GPU machine measures */
    add_fits(&p, 8, lat_s, algbw);
    add_fits(&p, 16, lat_s, algbw);
    fixture f;
    fixture_setup(&f, "dgx-h200", 2, "llama2-7b", 1, 1, 16, 16); /* dp 16 over two nodes */
    check_unchanged(&f, &p);
    topo_free(f.t);
    fixture_setup(&f, "dgx-h200", 1, "llama2-7b", 4, 2, 1, 8); /* tp 4: not measured */
    check_unchanged(&f, &p);
    /* a one-rank group prices nothing from the one-rank fit */
    coll_params params;
    coll_params_default(&params);
    coll_plan one;
    int32_t gpu0 = 0;
    CHECK(coll_plan_build(f.t, COLL_ALLREDUCE, COLL_ALGO_RING, &gpu0, 1, &params, &one, NULL) == 0);
    CHECK(commcost_fitted_s(&p, &one, 1 << 20) < 0);
    coll_plan_free(&one);
    topo_free(f.t);
}

TAP_MAIN({"sdpa_torch's fit feeds attention where measured", sdpa_feeds_attention},
         {"each attention kernel is predicted by its own fit",
          each_attention_kernel_predicted_by_its_fit},
         {"fitted pinned copies feed the checkpoint", copies_feed_checkpoint},
         {"a collective fit prices tensor parallel within a node", fit_prices_tp},
         {"the estimate and the simulation take the fitted times", estimate_and_sim_take_fit},
         {"a collective fit prices data parallel within a node", fit_prices_dp_in_node},
         {"groups across nodes, unmeasured ranks and one-rank fits are unchanged",
          fit_leaves_the_rest})
