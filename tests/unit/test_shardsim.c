/* Unit tests: the communication of sharding (ZeRO-2, ZeRO-3 / FSDP, HSDP)
 * in closed form.  The exposed and hidden times worked out by hand; HSDP's
 * replica all-reduce priced only under HSDP.  The simulated side (every
 * rank and folded agreeing on ZeRO-3 and HSDP) is in test_trainsim.c. */
#include <math.h>
#include <string.h>

#include "estimate_shard.h"
#include "fixture.h"
#include "tap.h"

/* A layout of dp 2 and m = 4 microbatches. */
static layout_desc two_replicas(int zero)
{
    layout_desc l;
    layout_init(&l, NULL);
    l.dp = 2;
    l.gbs = 8;
    l.zero = zero;
    return l;
}

/* 4 buckets of 1 s (the last 0.5 s), a backward window of 2 s, 3 s a
 * microbatch: zero 1 reduces once, 3.5 s, 1.5 s past the window; zero 2
 * every microbatch, 14 s against 2 + 3 x 3 = 11 s: 3 s exposed. */
static void reduce_by_hand(void)
{
    commcost_stage st;
    memset(&st, 0, sizeof st);
    st.buckets = 4;
    st.dp_bucket_s = 1;
    st.dp_last_bucket_s = 0.5;
    double hidden;
    layout_desc l = two_replicas(1);
    CHECK_REL(estimate_shard_reduce_exposed_s(&l, &st, 1, 2, 3, &hidden), 1.5, 1e-12);
    CHECK_REL(hidden, 2, 1e-12);
    CHECK_REL(estimate_shard_reduce_exposed_s(&l, &st, 0, 2, 3, &hidden), 3.5, 1e-12);
    l = two_replicas(2);
    CHECK_REL(estimate_shard_reduce_exposed_s(&l, &st, 1, 2, 3, &hidden), 3, 1e-12);
    CHECK_REL(hidden, 11, 1e-12);
    st.dp_replica_bucket_s = 0.25; /* HSDP: each bucket's shard all-reduced too */
    st.dp_replica_last_s = 0.125;
    CHECK_REL(estimate_shard_reduce_exposed_s(&l, &st, 1, 2, 3, &hidden),
              4 * (3 * 1.25 + 0.625) - 11, 1e-12);
    l = two_replicas(3); /* the layers reduced with the backward; the last one exposed */
    CHECK_REL(estimate_shard_reduce_exposed_s(&l, &st, 1, 2, 3, &hidden), 0.625, 1e-12);
}

/* ZeRO-3, 4 layers, gather 1 s and reduce-scatter 0.5 s a layer, forward
 * 0.5 s and backward 1 s a layer:
 *   prefetch 1: forward 1 + 3 x (1 - 0.5) = 2.5; backward: gathers 1 and
 *     2 run back to back (0-2) under layer 1 (1-2); then each later gather
 *     queues behind a reduce-scatter: RS1 2-2.5, g3 2.5-3.5, RS2 3.5-4,
 *     g4 4-5, so layer 4 computes 5-6: 6 - 4 = 2 exposed; 4.5 in all; of
 *     4 x 2.5 = 10, less the last reduce-scatter (the tail's), 5 hidden;
 *   prefetch 0: every gather waits: 4 + 4 = 8;
 *   no reshard: no backward gathers: 2.5 + 0. */
static void zero3_by_hand(void)
{
    commcost_stage st;
    memset(&st, 0, sizeof st);
    st.layer_gather_s = 1;
    st.dp_bucket_s = 0.5;
    double exposed, hidden;
    layout_desc l = two_replicas(3);
    estimate_shard_unit(&l, &st, 4, 2, 4, &exposed, &hidden);
    CHECK_REL(exposed, 4.5, 1e-12);
    CHECK_REL(hidden, 5, 1e-12);
    l.prefetch = 0;
    estimate_shard_unit(&l, &st, 4, 2, 4, &exposed, &hidden);
    CHECK_REL(exposed, 8, 1e-12);
    l.prefetch = 1;
    l.no_reshard = 1;
    estimate_shard_unit(&l, &st, 4, 2, 4, &exposed, &hidden);
    CHECK_REL(exposed, 2.5, 1e-12);
    l = two_replicas(2);
    estimate_shard_unit(&l, &st, 4, 2, 4, &exposed, &hidden);
    CHECK(exposed == 0 && hidden == 0);
}

/* llama2-7b tp 2, pp 2, dp 4 on two DGX H100 nodes, 8 microbatches. */
static void setup(fixture *f, int zero, int shard_group)
{
    fixture_setup(f, "dgx-h100", 2, "llama2-7b", 2, 2, 4, 32);
    f->l.zero = zero;
    f->l.shard_group = shard_group;
}

/* HSDP prices the shards' all-reduce across the replica groups; ZeRO-3
 * gathers a layer, not the stage after the step. */
static void hsdp_priced(void)
{
    fixture f;
    setup(&f, 3, 2);
    commcost cc;
    cs_err err;
    CHECK(commcost_build(f.t, &f.m, &f.l, NULL, &cc, &err) == 0);
    CHECK(cc.stages[0].dp_replica_bucket_s > 0);
    CHECK(cc.stages[0].layer_gather_s > 0);
    CHECK(cc.stages[0].dp_allgather_s == 0);
    CHECK_EQ_INT(cc.stages[0].buckets, 16); /* one per layer of the stage */
    commcost_free(&cc);
    f.l.shard_group = 0;
    CHECK(commcost_build(f.t, &f.m, &f.l, NULL, &cc, &err) == 0);
    CHECK(cc.stages[0].dp_replica_bucket_s == 0);
    commcost_free(&cc);
    topo_free(f.t);
}

TAP_MAIN({"ZeRO-1/2 reduction exposed by hand", reduce_by_hand},
         {"ZeRO-3 gathers exposed by hand", zero3_by_hand},
         {"HSDP replica all-reduce priced", hsdp_priced})
