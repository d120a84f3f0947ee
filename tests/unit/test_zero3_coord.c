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
#define WORD (50257 * 25600 / 4.0) /* the word table, held by the model */
#define POS (1024 * 25600.0)       /* the position table, its module's */

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
    l->dtype = MODEL_FP16;
}

/* The 1T's trace of `layers` blocks under cfg. */
static void one_t_trace(int layers, const z3c_config *cfg, z3c_trace *t)
{
    model_desc m;
    layout_desc l;
    cs_err err;
    one_t(&m, &l, layers);
    CHECK(z3c_build(&m, &l, layers, 1, cfg, t, &err) == 0);
}

/* Large gathers of the blocks (the word table's left out). */
static int block_gathers(const z3c_trace *t)
{
    int n = 0;
    for (int c = 0; c < t->ncomm; c++)
        n += !t->comm[c].reduce && t->comm[c].elems > 1e8 && t->comm[c].elems != WORD;
    return n;
}

/* Block `layer`'s step in pass `pass` whose compute share is `share`. */
static int step_of(const z3c_trace *t, int layer, int pass, double share)
{
    for (int i = 0; i < t->nsteps; i++)
        if (t->steps[i].layer == layer && t->steps[i].pass == pass &&
            fabs(t->steps[i].share - share) < 1e-9)
            return i;
    return -1;
}

/* At the defaults, the first microbatch after a step: each large weight
 * is gathered for the forward, again for the recomputation, and all but
 * fc2 (reuse distance 0, kept) a third time for the backward: 11 gathers,
 * 66.7% of the block regathered; the persistent parameters are not
 * gathered (the step did), the word table once and kept, the position
 * table for each pass.  The forward prefetches one weight ahead (fc1 and
 * the word table, 9.8e8, stay under max_live: fc2 hides under fc1); fc2's
 * gradient goes with the next overflow, fc1's bias's hook before fc1's
 * fetch, which waits for it; fc1's at the second norm's step, where the
 * projection's fetch waits for it (/work/notes/s10/review2.md). */
static void defaults_regather_two_thirds(void)
{
    z3c_config cfg = z3c_defaults();
    z3c_trace t;
    one_t_trace(8, &cfg, &t);
    CHECK_REL(t.block_elems, BLOCK + 4 * 25600 + 2 * 25600 + 3 * 25600 / 4 + 4 * 25600 / 4,
              1e-12);
    CHECK_REL(t.root_elems, WORD + POS, 1e-12);
    CHECK_EQ_INT(block_gathers(&t), 11 * 8);
    CHECK_REL(t.gather_elems, 8 * (3 * BLOCK - FC) + WORD + 2 * POS, 1e-9);
    CHECK_REL((t.gather_elems - WORD - 2 * POS - 2 * 8 * BLOCK) / (8 * BLOCK), 2.0 / 3.0, 1e-9);
    /* every gradient reduced once, the tables' too */
    CHECK_REL(t.reduce_elems, 8 * (BLOCK + 6 * 25600 + 7 * 25600 / 4) + WORD + POS, 1e-12);
    double fc_share = 8.0 / (24 + 4.0 * 1024 / 25600);
    int fc1 = step_of(&t, 3, Z3C_FWD, fc_share);
    CHECK(fc1 >= 0);
    if (fc1 >= 0) { /* fc1's forward: fc2's gather, under its GEMM */
        const z3c_step *st = &t.steps[fc1];
        CHECK_EQ_INT(st->n, 1);
        CHECK_REL(t.comm[st->first].elems, FC, 1e-12);
        CHECK(st->gate < st->first + st->n - 1);
    }
    int fc1_bwd = -1;
    for (int i = 0; i < t.nsteps && fc1_bwd < 0; i++) /* the backward's fc1: after fc2's */
        if (t.steps[i].layer == 3 && t.steps[i].pass == Z3C_BWD &&
            fabs(t.steps[i].share - fc_share) < 1e-9 && i > 0 &&
            t.steps[i - 1].pass == Z3C_BWD && t.steps[i - 1].share > 0)
            fc1_bwd = i;
    CHECK(fc1_bwd >= 0);
    if (fc1_bwd >= 0) { /* fc1's bias's hook sends fc2's gradient; fc1's fetch waits for it */
        const z3c_step *st = &t.steps[fc1_bwd];
        CHECK(st->n >= 1 && t.comm[st->first].reduce && t.comm[st->first].elems == FC);
        CHECK(st->gate >= st->first);
    }
    if (fc1_bwd >= 0) { /* the second norm's step sends fc1's gradient */
        const z3c_step *ln2 = &t.steps[fc1_bwd + 1];
        CHECK_EQ_INT(ln2->n, 1);
        CHECK(t.comm[ln2->first].reduce && t.comm[ln2->first].elems == FC);
    }
    /* a gate is the communication just before its step or one of the
     * step's own (the simulation's lowering relies on it) */
    for (int i = 0; i < t.nsteps; i++)
        CHECK(t.steps[i].gate == -1 || (t.steps[i].gate >= t.steps[i].first - 1 &&
                                        t.steps[i].gate < t.steps[i].first + t.steps[i].n));
    z3c_free(&t);
}

/* A later microbatch of the same step gathers the persistent parameters
 * too, each once (the block fetches its added biases first). */
static void later_microbatch_gathers_persistent(void)
{
    model_desc m;
    layout_desc l;
    cs_err err;
    one_t(&m, &l, 4);
    z3c_config cfg = z3c_defaults();
    z3c_trace first, later;
    CHECK(z3c_build(&m, &l, 4, 1, &cfg, &first, &err) == 0);
    CHECK(z3c_build(&m, &l, 4, 0, &cfg, &later, &err) == 0);
    CHECK_REL(later.gather_elems - first.gather_elems, 4 * (6 * 25600 + 7 * 25600 / 4), 1e-9);
    /* a block's first step fetches its added biases: it waits, then
     * prefetches; after the step it had nothing to fetch */
    int blk_later = step_of(&later, 2, Z3C_FWD, 0), blk_first = step_of(&first, 2, Z3C_FWD, 0);
    CHECK(blk_later >= 0 && later.steps[blk_later].gate >= later.steps[blk_later].first);
    CHECK(blk_first >= 0 && first.steps[blk_first].n == 0);
    z3c_free(&first);
    z3c_free(&later);
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
    CHECK_EQ_INT(block_gathers(&t), 11 * 4);
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
    CHECK(z3c_build(&m, &l, 1, 1, &cfg, &t, &err) == 0);
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
    int gate = -1; /* the first computing step starts after every gate before it */
    for (int i = 0; i < t.nsteps && (i == 0 || t.steps[i - 1].share == 0); i++)
        gate = t.steps[i].gate > gate ? t.steps[i].gate : gate;
    double exposed = 0;
    for (int c = 0; c <= gate; c++)
        exposed += t.comm[c].elems / 1e9;
    CHECK(exposed > 0);
    CHECK(end - 3e6 >= exposed * (1 - 1e-12));
    CHECK(end - 3e6 <= comm_s);
    z3c_free(&t);
}

/* A block's parameters at tp 1 are model.h's count of a layer: GPT's, and
 * a shape with grouped-query attention, SwiGLU, RMSNorm and no biases;
 * the tables are the word table split over tp and the positions. */
static void shapes_counted(void)
{
    model_desc m;
    layout_desc l;
    cs_err err;
    one_t(&m, &l, 2);
    l.tp = 1;
    z3c_config cfg = z3c_defaults();
    z3c_trace t;
    CHECK(z3c_build(&m, &l, 2, 1, &cfg, &t, &err) == 0);
    CHECK_REL(t.block_elems, model_params_per_layer(&m), 1e-12);
    CHECK_REL(t.root_elems, 50257.0 * 25600 + POS, 1e-12);
    z3c_free(&t);
    model_custom(&m, 2, 4096, 32);
    m.kv_heads = 8;
    m.mlp = MODEL_MLP_SWIGLU;
    m.ffn_hidden = 14336;
    m.norm = MODEL_NORM_RMSNORM;
    m.linear_bias = 0;
    m.pos = MODEL_POS_ROTARY;
    CHECK(z3c_build(&m, &l, 2, 1, &cfg, &t, &err) == 0);
    CHECK_REL(t.block_elems, model_params_per_layer(&m), 1e-12);
    CHECK_REL(t.root_elems, (double)m.vocab * 4096, 1e-12);
    z3c_free(&t);
}

/* Blocks under the prefetch bucket (megatron-1.7b's QKV is 1.6e7, proj
 * 5.3e6): a prefetch carries several parameters, and the step's kernels
 * wait for all but the last (each gather starts with a device
 * synchronize, partition_parameters.py:611). */
static void prefetch_waits_all_but_last(void)
{
    model_desc m;
    layout_desc l;
    cs_err err;
    CHECK(model_find("megatron-1.7b", &m, NULL) == 0);
    layout_init(&l, &m);
    l.dp = 8;
    l.zero = 3;
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    z3c_config cfg = z3c_defaults();
    z3c_trace t;
    CHECK(z3c_build(&m, &l, 4, 1, &cfg, &t, &err) == 0);
    int inside = 0; /* steps whose gate is one of their own prefetched gathers */
    for (int i = 0; i < t.nsteps; i++) {
        const z3c_step *st = &t.steps[i];
        inside += st->n >= 2 && st->gate >= st->first && st->gate == st->first + st->n - 2;
    }
    printf("# %d steps wait inside their own prefetch\n", inside);
    CHECK(inside >= 4);
    z3c_free(&t);
}

/* z3c_validate refuses the layout with a message holding `needle`. */
static void refused(const model_desc *m, const layout_desc *l, const char *needle)
{
    cs_err err;
    CHECK(z3c_validate(m, l, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, needle);
}

/* The rules, each naming the flag: pp, the schedule, the dtype, tied
 * embeddings, the FSDP knobs and selective recomputation. */
static void rules(void)
{
    model_desc m;
    layout_desc l;
    one_t(&m, &l, 4);
    cs_err err;
    CHECK(z3c_validate(&m, &l, &err) == 0);
    layout_desc bad = l;
    bad.pp = 2;
    refused(&m, &bad, "(--pp 1)");
    bad = l;
    bad.schedule = LAYOUT_SCHEDULE_GPIPE;
    refused(&m, &bad, "(--schedule 1f1b)");
    bad = l;
    bad.dtype = MODEL_BF16;
    refused(&m, &bad, "(--dtype fp16)");
    bad = l;
    bad.prefetch = 2;
    refused(&m, &bad, "(--prefetch, --no-reshard)");
    bad = l;
    bad.recompute = LAYOUT_RECOMPUTE_SELECTIVE;
    refused(&m, &bad, "(--recompute full|none)");
    model_desc untied = m;
    untied.tied_embeddings = 0;
    refused(&untied, &l, "tied embeddings");
}

TAP_MAIN({"defaults: 11 gathers a block, 2/3 regathered", defaults_regather_two_thirds},
         {"a later microbatch gathers the persistent parameters",
          later_microbatch_gathers_persistent},
         {"max_live 1e8: no large gather under a GEMM", max_live_small_no_prefetch},
         {"closed form by hand", closed_form_by_hand},
         {"shapes: a block is model.h's layer", shapes_counted},
         {"a prefetch of several: its kernels wait for all but the last",
          prefetch_waits_all_but_last},
         {"rules", rules})
