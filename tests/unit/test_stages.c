/* Unit tests: uneven pipeline stages (costmodel/layout_stages.h).  Each
 * stage's layer count and model order; every rule broken on its own with
 * its message; the search's split; and an uneven layout's stage times,
 * parameters and steady state derived by hand from the even layout's
 * per-layer and edge pieces. */
#include "estimate.h"
#include "fixture.h"
#include "layout_stages.h"
#include "memory.h"
#include "tap.h"
#include "workload.h"

/* Llama 3 405B's split (Dubey et al. 2024, sec. 3.3.2): 7 + 14 x 8 + 7. */
static void llama3_split(void)
{
    model_desc m;
    CHECK(model_find("llama3-405b", &m, NULL) == 0);
    CHECK_EQ_INT(m.layers, 126);
    layout_desc l;
    layout_init(&l, &m);
    l.tp = 8, l.pp = 16, l.dp = 1, l.gbs = 16;
    l.pp_first_layers = l.pp_last_layers = 7;
    cs_err err = {""};
    CHECK(layout_validate(&l, &m, 128, 8, &err) == 0);
    int sum = 0;
    for (int s = 0; s < 16; s++)
        sum += layout_stage_layers(&l, &m, s);
    CHECK_EQ_INT(sum, 126);
    CHECK_EQ_INT(layout_stage_layers(&l, &m, 0), 7);
    CHECK_EQ_INT(layout_stage_layers(&l, &m, 1), 8);
    CHECK_EQ_INT(layout_stage_layers(&l, &m, 14), 8);
    CHECK_EQ_INT(layout_stage_layers(&l, &m, 15), 7);
    CHECK_EQ_INT(layout_max_stage_layers(&l, &m), 8);
    CHECK_EQ_INT(layout_chunk_first_layer(&l, &m, 15, 0), 7 + 14 * 8);
    /* only the first set: the last is a middle stage (121 / 15 does not
     * divide; 6 leaves 120 = 15 x 8) */
    l.pp_last_layers = 0;
    l.pp_first_layers = 6;
    CHECK(layout_validate(&l, &m, 128, 8, &err) == 0);
    CHECK_EQ_INT(layout_stage_layers(&l, &m, 15), 8);
    /* interleaved: 2 chunks per stage, model order chunk-major */
    l.pp_first_layers = 8, l.pp_last_layers = 6;
    l.vpp = 2;
    l.schedule = LAYOUT_SCHEDULE_INTERLEAVED;
    CHECK(layout_validate(&l, &m, 128, 8, &err) == 0);
    CHECK_EQ_INT(layout_stage_layers(&l, &m, 3), 8);
    CHECK_EQ_INT(layout_stage_chunk_layers(&l, &m, 15), 3);
    CHECK_EQ_INT(layout_chunk_first_layer(&l, &m, 0, 1), 63); /* after chunk 0 of all 16 */
    CHECK_EQ_INT(layout_chunk_first_layer(&l, &m, 2, 1), 63 + 4 + 4);
}

static void expect_rule(const layout_desc *l, const model_desc *m, const char *part)
{
    cs_err err = {""};
    CHECK(layout_validate(l, m, (int)layout_gpus(l), 8, &err) == -1);
    printf("# %s\n", err.msg);
    CHECK_STR_CONTAINS(err.msg, part);
}

static void rules(void)
{
    model_desc m;
    CHECK(model_find("llama3-405b", &m, NULL) == 0);
    layout_desc l, b;
    layout_init(&b, &m);
    b.tp = 8, b.pp = 16, b.gbs = 16;
    l = b;
    expect_rule(&l, &m, "--decoder-first-pipeline-num-layers 7 --decoder-last-pipeline-num-layers 7");
    l.pp_first_layers = 70, l.pp_last_layers = 60;
    expect_rule(&l, &m, "first-stage layers 70 + last-stage layers 60 = 130 exceed the model's 126");
    l.pp_first_layers = 8, l.pp_last_layers = 7;
    expect_rule(&l, &m, "the 111 layers left after the first (8) and last (7) stage do not split "
                        "evenly");
    expect_rule(&l, &m, "first-stage layers near 8 that do: 7, 21");
    l = b;
    l.pp = 1, l.pp_first_layers = 7;
    expect_rule(&l, &m, "need pp >= 2");
    l = b;
    l.pp = 2, l.pp_first_layers = 60, l.pp_last_layers = 60;
    expect_rule(&l, &m, "no middle stage, so first-stage layers 60 + last-stage layers 60 must "
                        "equal the 126 layers");
    l = b;
    l.pp_first_layers = l.pp_last_layers = 7;
    l.vpp = 2, l.schedule = LAYOUT_SCHEDULE_INTERLEAVED;
    expect_rule(&l, &m, "pipeline stage 0 holds 7 layers, not divisible by vpp 2");
}

static void auto_split(void)
{
    int f, la;
    CHECK(layout_stage_auto_split(126, 16, 1, &f, &la) == 0);
    CHECK(f == 7 && la == 7);
    CHECK(layout_stage_auto_split(61, 16, 1, &f, &la) == 0); /* DeepSeek-V3: 3 + 14 x 4 + 2 */
    CHECK(f == 3 && la == 2);
    CHECK(layout_stage_auto_split(126, 16, 2, &f, &la) == 0); /* 8 + 14 x 8 + 6 */
    CHECK(f == 8 && la == 6);
    CHECK(layout_stage_auto_split(61, 2, 1, &f, &la) == 0);
    CHECK(f == 31 && la == 30);
    CHECK(layout_stage_auto_split(80, 4, 2, &f, &la) == 0); /* even: nothing set */
    CHECK(f == 0 && la == 0);
    CHECK(layout_stage_auto_split(7, 1, 2, &f, &la) == -1);
    CHECK(layout_stage_auto_split(3, 4, 1, &f, &la) == -1); /* fewer layers than stages */
}

/* llama2-7b (32 layers) on pp 4, tp 1, dp 1: 7 + 8 + 8 + 9 layers against
 * the even 8 each.  Per layer forward f and backward b from the even
 * layout's middle stage; the embedding E and head H from its edge stages
 * less their 8 layers. */
static void times_by_hand(void)
{
    fixture ev, un;
    fixture_setup(&ev, "dgx-h100", 1, "llama2-7b", 1, 4, 1, 8);
    fixture_setup(&un, "dgx-h100", 1, "llama2-7b", 1, 4, 1, 8);
    un.l.pp_first_layers = 7, un.l.pp_last_layers = 9;
    const dev_type *dev = estimate_device(ev.t);
    workload_chunk c[4];
    for (int s = 0; s < 4; s++)
        workload_chunk_of(&ev.m, &ev.l, dev, &ev.eff, s, 0, &c[s]);
    double f = c[1].fwd_s / 8, b = c[1].bwd_s / 8;
    double e = c[0].fwd_s + c[0].bwd_s - 8 * (f + b), h = c[3].fwd_s + c[3].bwd_s - 8 * (f + b);
    double per_mb[4] = {7 * (f + b) + e, 8 * (f + b), 8 * (f + b), 9 * (f + b) + h};
    estimate_result r8, r16;
    cs_err err;
    CHECK(estimate_analytic(&un.in, &r8, &err) == 0);
    for (int s = 0; s < 4; s++)
        CHECK_REL(r8.stages[s].compute_s, 8 * per_mb[s], 1e-9);
    /* the slowest stage (the last: 9 layers and the head) sets the steady
     * state: 8 more microbatches add 8 of its microbatches */
    un.l.gbs = 16;
    CHECK(estimate_analytic(&un.in, &r16, &err) == 0);
    double c3 = per_mb[3] + r8.stages[3].tp_comm_s / 8;
    CHECK_REL(r16.iteration_s - r8.iteration_s, 8 * c3, 1e-6);
    /* parameters: P per layer, the tables on the edges */
    double p = memory_stage_params(&ev.m, &ev.l, 1) / 8;
    double t0 = memory_stage_params(&ev.m, &ev.l, 0) - 8 * p;
    double t3 = memory_stage_params(&ev.m, &ev.l, 3) - 8 * p;
    CHECK_REL(memory_stage_params(&un.m, &un.l, 0), 7 * p + t0, 1e-12);
    CHECK_REL(memory_stage_params(&un.m, &un.l, 2), 8 * p, 1e-12);
    CHECK_REL(memory_stage_params(&un.m, &un.l, 3), 9 * p + t3, 1e-12);
    /* activations: 1F1B keeps pp - s microbatches of the stage's layers,
     * so stage 0 holds 4 x 1 layer fewer than the even split, stage 3 1 x 1 more */
    double act_layer = memory_activation_bytes_per_layer(&un.m, &un.l);
    memory_breakdown e0, e3, u0, u3;
    memory_per_stage_valid(&ev.m, &ev.l, 0, &e0);
    memory_per_stage_valid(&ev.m, &ev.l, 3, &e3);
    memory_per_stage_valid(&un.m, &un.l, 0, &u0);
    memory_per_stage_valid(&un.m, &un.l, 3, &u3);
    CHECK_REL(u0.activations_bytes, e0.activations_bytes - 4 * act_layer, 1e-12);
    CHECK_REL(u3.activations_bytes, e3.activations_bytes + 1 * act_layer, 1e-12);
    /* the report's peak is the worst stage */
    double worst = 0;
    for (int s = 0; s < 4; s++) {
        memory_breakdown mb;
        memory_per_stage_valid(&un.m, &un.l, s, &mb);
        worst = mb.peak_bytes > worst ? mb.peak_bytes : worst;
    }
    CHECK_REL(r16.peak_mem_bytes, worst, 1e-12);
    /* 8 + 8 set explicitly is the even split, to the last bit */
    estimate_result r_even, r_set;
    un.l.pp_first_layers = un.l.pp_last_layers = 8;
    ev.l.gbs = 16;
    CHECK(estimate_analytic(&ev.in, &r_even, &err) == 0);
    CHECK(estimate_analytic(&un.in, &r_set, &err) == 0);
    CHECK(r_even.iteration_s == r_set.iteration_s && r_even.peak_mem_bytes == r_set.peak_mem_bytes);
    estimate_result_free(&r8);
    estimate_result_free(&r16);
    estimate_result_free(&r_even);
    estimate_result_free(&r_set);
    topo_free(ev.t);
    topo_free(un.t);
}

TAP_MAIN({"Llama 3 405B's 7 + 14 x 8 + 7 and the model order", llama3_split},
         {"each rule with its message", rules},
         {"the search's split", auto_split},
         {"stage times, parameters, activations and steady state by hand", times_by_hand})
