/* Unit tests: DeepSpeed v0.3.13's ZeRO-3 coordinator over Megatron blocks
 * (costmodel/zero3_coord.h).  The 1T block of ZeRO-Infinity's Table 1 (h
 * 25600, tp 4) worked out by hand from the code (stage3.py at v0.3.13):
 * its QKV, proj, fc1 and fc2 weights of 491.52M, 163.84M, 655.36M and
 * 655.36M elements a tensor rank; every bias and norm under the 1e5
 * persistence threshold. */
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "tap.h"
#include "zero3_coord.h"

#define QKV 491520000.0
#define PROJ 163840000.0
#define FC 655360000.0
#define BLOCK (QKV + PROJ + 2 * FC)

static void one_t(model_desc *m, layout_desc *l, int layers)
{
    model_custom(m, layers, 25600, 256);
    m->seq_len = 1024;
    m->vocab = 50257;
    layout_init(l, NULL);
    l->tp = 4;
    l->dp = 128;
    l->zero = 3;
    l->recompute = LAYOUT_RECOMPUTE_FULL;
}

/* The 1T's trace of `layers` blocks under cfg. */
static void one_t_trace(int layers, const z3c_config *cfg, z3c_trace *t)
{
    model_desc m;
    layout_desc l;
    cs_err err;
    one_t(&m, &l, layers);
    CHECK(z3c_build(&m, &l, layers, cfg, t, &err) == 0);
}

/* At the defaults each large weight is gathered for the forward, again for
 * the recomputation, and all but fc2 (reuse distance 0, kept) a third
 * time for the backward: 11 gathers, 66.7% of the block regathered.  The
 * gathers are issued one module ahead, so they land in the steps of the
 * block before (the first block's forward pays its QKV on demand). */
static void defaults_regather_two_thirds(void)
{
    z3c_config cfg = z3c_defaults();
    z3c_trace t;
    one_t_trace(8, &cfg, &t);
    CHECK_REL(t.block_elems, BLOCK + 4 * 25600 + 2 * 25600 + 3 * 25600 / 4 + 4 * 25600 / 4,
              1e-12);
    /* every large weight of the 8 blocks: 11 gathers a block */
    int big = 0;
    for (int c = 0; c < t.ncomm; c++)
        big += !t.comm[c].reduce && t.comm[c].elems > 1e8;
    CHECK_EQ_INT(big, 11 * 8);
    CHECK_REL(t.gather_elems, 8 * (3 * BLOCK - FC) + 8 * 6 * 25600 + 8 * 7 * 25600 / 4, 1e-9);
    /* the small parameters are 1e-4 of it */
    double regathered = (t.gather_elems - 2 * 8 * BLOCK) / (8 * BLOCK);
    CHECK_REL(regathered, 2.0 / 3.0, 1e-3);
    /* every gradient reduced once */
    CHECK_REL(t.reduce_elems, 8 * (BLOCK + 6 * 25600 + 7 * 25600 / 4), 1e-12);
    /* fc1's forward (no prefetch: fc1 and fc2 hold 1.31e9 > max_live)
     * issues nothing; a middle block's fetches are all prefetches except
     * the persistent parameters' first fetch in the forward */
    int fc1_fwd_comm = -1;
    for (int i = 0; i < t.nsteps; i++)
        if (t.steps[i].layer == 3 && t.steps[i].pass == Z3C_FWD &&
            fabs(t.steps[i].share - 8.0 / (24 + 4.0 * 1024 / 25600)) < 1e-9 &&
            fc1_fwd_comm < 0)
            fc1_fwd_comm = t.steps[i].n;
    CHECK_EQ_INT(fc1_fwd_comm, 0);
    /* a gate is the communication just before its step or one of the
     * step's own (the simulation's lowering relies on it) */
    for (int i = 0; i < t.nsteps; i++)
        CHECK(t.steps[i].gate == -1 || (t.steps[i].gate >= t.steps[i].first - 1 &&
                                        t.steps[i].gate < t.steps[i].first + t.steps[i].n));
    z3c_free(&t);
}

/* Large gathers issued at a step that computes (over 1% of its layer) and
 * not waited for before its kernels: the ones that hide under a GEMM. */
static int overlapped_under_gemm(const z3c_trace *t)
{
    int n = 0;
    for (int i = 0; i < t->nsteps; i++) {
        const z3c_step *st = &t->steps[i];
        for (int c = st->first; st->share > 0.01 && c < st->first + st->n; c++)
            n += !t->comm[c].reduce && t->comm[c].elems > 1e8 && c > st->gate;
    }
    return n;
}

/* max_live 1e8 (the 2021-03-08 example config): no large weight is
 * prefetched while another is live, so a GEMM's step fetches its own
 * weight and waits; the next is prefetched only at the steps between
 * (the attention core, the norms), which barely compute.  fc2 is still
 * kept for the backward (reuse distance 0): 11 gathers a block. */
static void max_live_small_no_prefetch(void)
{
    z3c_config cfg = z3c_defaults();
    z3c_trace t;
    one_t_trace(4, &cfg, &t);
    CHECK(overlapped_under_gemm(&t) > 4 * 4); /* the defaults hide most */
    z3c_free(&t);
    cfg.max_live = 1e8;
    cfg.max_reuse = 1e8;
    one_t_trace(4, &cfg, &t);
    int big = 0;
    for (int c = 0; c < t.ncomm; c++)
        big += !t.comm[c].reduce && t.comm[c].elems > 1e8;
    CHECK_EQ_INT(big, 11 * 4);
    CHECK_EQ_INT(overlapped_under_gemm(&t), 0);
    z3c_free(&t);
}

/* The closed form by hand on a one-block trace at unit compute: gathers of
 * 1 s per 1e9 elements, reductions free. */
static double one_s_per_1e9(const z3c_comm *c, void *ctx)
{
    (void)ctx;
    return c->reduce ? 0 : c->elems / 1e9;
}

static void closed_form_by_hand(void)
{
    model_desc m;
    layout_desc l;
    one_t(&m, &l, 1);
    l.recompute = LAYOUT_RECOMPUTE_NONE;
    z3c_config cfg = z3c_defaults();
    z3c_trace t;
    cs_err err;
    CHECK(z3c_build(&m, &l, 1, &cfg, &t, &err) == 0);
    double zero[Z3C_NPASS] = {0, 0, 0}, comm_s;
    /* no compute: the time is every gather in turn */
    double end = z3c_time_s(&t, zero, one_s_per_1e9, NULL, &comm_s, NULL);
    CHECK_REL(end, t.gather_elems / 1e9, 1e-12);
    CHECK_REL(comm_s, end, 1e-12);
    /* compute far longer than the communication: the gathers a step waits
     * for before its kernels (demand fetches and all but the last of a
     * prefetch) stay exposed, the rest hides */
    double slow[Z3C_NPASS] = {1e6, 0, 2e6};
    end = z3c_time_s(&t, slow, one_s_per_1e9, NULL, &comm_s, NULL);
    double exposed = 0;
    for (int i = 0; i < t.nsteps; i++) {
        const z3c_step *st = &t.steps[i];
        if (st->share > 0)
            break; /* the first computing step: everything before it waited */
        for (int c = st->first; c < st->first + st->n; c++)
            exposed += t.comm[c].elems / 1e9;
    }
    CHECK(exposed > 0);
    CHECK(end - 3e6 >= exposed * (1 - 1e-12));
    CHECK(end - 3e6 <= comm_s);
    z3c_free(&t);
}

/* The rules: pp, HSDP, the FSDP knobs and selective recomputation. */
static void rules(void)
{
    model_desc m;
    layout_desc l;
    one_t(&m, &l, 4);
    cs_err err;
    CHECK(z3c_validate(&m, &l, &err) == 0);
    l.pp = 2;
    CHECK(z3c_validate(&m, &l, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "pp 1");
    l.pp = 1;
    l.prefetch = 2;
    CHECK(z3c_validate(&m, &l, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "prefetch");
    l.prefetch = 1;
    l.recompute = LAYOUT_RECOMPUTE_SELECTIVE;
    CHECK(z3c_validate(&m, &l, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "recomputation");
}

TAP_MAIN({"defaults: 11 gathers a block, 2/3 regathered", defaults_regather_two_thirds},
         {"max_live 1e8: no large gather under a GEMM", max_live_small_no_prefetch},
         {"closed form by hand", closed_form_by_hand},
         {"rules", rules})
