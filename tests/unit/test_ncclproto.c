/* Unit tests: NCCL's tuner latencies and protocols (costmodel/ncclproto,
 * collective_proto), small messages against measured rows, the protocol
 * switch points, the ring's 2(n-1) steps against the tree's log steps, and
 * the NICs at their measured share of line rate. */
#include <stdlib.h>

#include "collfixture.h"
#include "tap.h"

static coll_plan plan_of(topo *t, coll_algo algo, const int32_t *g, int n)
{
    coll_params params;
    coll_plan plan;
    cs_err err;
    coll_params_default(&params);
    if (coll_plan_build(t, COLL_ALLREDUCE, algo, g, n, &params, &plan, &err) != 0) {
        printf("# %s\n", err.msg);
        abort();
    }
    return plan;
}

/* tuning.cc by hand: an 8-GPU NVLink ring all-reduce takes 2 x 7 steps. */
static void latencies_by_hand(void)
{
    ncclproto_shape ring = {NCCLPROTO_RING, NCCLPROTO_ALLREDUCE, 8, 1, 1, NCCLPROTO_AMPERE, 0, 0};
    CHECK_REL(ncclproto_latency_us(&ring, NCCLPROTO_LL, 8, 1), 6.6 + 14 * 0.6, 1e-12);
    CHECK_REL(ncclproto_latency_us(&ring, NCCLPROTO_LL128, 8, 1), 14.0 + 14 * 1.9, 1e-12);
    CHECK_REL(ncclproto_latency_us(&ring, NCCLPROTO_SIMPLE, 8, 1), 8.4 + 14 * 3.4, 1e-12);
    /* 4 nodes of 8 on AMD hosts: 2 x 3 network steps at 14 us, the other 56
     * at the proxy's 2 us x 3 (above NVLink's 3.4), x1.4 past the plateau */
    ncclproto_shape multi = {NCCLPROTO_RING, NCCLPROTO_ALLREDUCE, 32, 4, 1, NCCLPROTO_AMPERE, 1, 0};
    CHECK_REL(ncclproto_latency_us(&multi, NCCLPROTO_SIMPLE, 1 << 20, 4),
              1.4 * (8.4 + 56 * 6.0 + 6 * 14.0), 1e-12);
    CHECK_REL(ncclproto_latency_us(&multi, NCCLPROTO_SIMPLE, 32 * 4 * 32, 4),
              8.4 + 56 * 6.0 + 6 * 14.0, 1e-12); /* below 64 B per channel and rank */
    /* the tree: base + 2 x ((ppn - 1) intra + log2(nodes) network) */
    ncclproto_shape tree = {NCCLPROTO_TREE, NCCLPROTO_ALLREDUCE, 32, 4, 1, NCCLPROTO_AMPERE, 1, 0};
    CHECK_REL(ncclproto_latency_us(&tree, NCCLPROTO_LL, 8, 4), 6.8 + 2 * (7 * 0.6 + 2 * 5.0),
              1e-12);
    ncclproto_shape one = {NCCLPROTO_RING, NCCLPROTO_ALLREDUCE, 1, 1, 1, NCCLPROTO_AMPERE, 0, 0};
    CHECK(ncclproto_latency_us(&one, NCCLPROTO_SIMPLE, 8, 1) == 0);
}

/* Latency-bound all-reduces on 8 NVLink-4 GPUs in one node, as nccl-tests
 * measured them (github.com/deepseek-ai/DeepEP/issues/303, all_reduce_perf
 * on 8 H20, out-of-place: 8 B 12.49 us, 1 KiB 16.38 us, 4 KiB 16.69 us; the
 * H20 has the H100's NVLink 4 and NVSwitch): the model's times lie within
 * the spread of those rows. */
static void small_messages_within_measured_spread(void)
{
    topo *t = make_topo("dgx-h100", 1);
    int32_t g[8];
    coll_plan plan = plan_of(t, COLL_ALGO_RING, g, first_n(g, 8));
    static const uint64_t sizes[] = {8, 1024, 4096};
    for (int i = 0; i < 3; i++) {
        double us = coll_time_s(&plan, sizes[i]) * 1e6;
        printf("# %llu B: %.2f us (measured 12.49 to 16.69)\n", (unsigned long long)sizes[i], us);
        CHECK(us >= 12.49 && us <= 16.69);
        CHECK_EQ_INT(coll_proto_pick(&plan, sizes[i]), NCCLPROTO_LL);
        CHECK_REL(sim_time_s(t, &plan, sizes[i]), us * 1e-6, 1e-6);
    }
    /* latency-bound: 512x the bytes cost under 12% more time */
    CHECK(coll_time_s(&plan, 4096) < 1.12 * coll_time_s(&plan, 8));
    coll_plan_free(&plan);
    topo_free(t);
}

/* LL for small messages, LL128 in between, Simple for large; the switch is
 * where the two protocols' times cross. */
static void protocol_switch_points(void)
{
    topo *t = make_topo("dgx-a100-80g", 1);
    int32_t g[8];
    coll_plan plan = plan_of(t, COLL_ALGO_RING, g, first_n(g, 8));
    int last = NCCLPROTO_LL, switches = 0;
    for (uint64_t size = 8; size <= (1ULL << 32); size *= 2) {
        int p = coll_proto_pick(&plan, size);
        CHECK(p >= last); /* never back to a lower-latency protocol */
        if (p != last) {
            switches++;
            printf("# %s from %llu B\n", ncclproto_name((ncclproto_proto)p),
                   (unsigned long long)size);
        }
        last = p;
    }
    CHECK_EQ_INT(coll_proto_pick(&plan, 8), NCCLPROTO_LL);
    CHECK_EQ_INT(coll_proto_pick(&plan, 1ULL << 32), NCCLPROTO_SIMPLE);
    CHECK_EQ_INT(switches, 2);
    /* By hand, algorithm bandwidth = bus bandwidth x 8/14: LL at its
     * Ampere cap of 87.7 GB/s busbw (llMaxBws) moves 50.1 GB/s, LL128 at
     * 0.92 x 204 GB/s 107.2 GB/s, Simple 116.6 GB/s.  LL128's 25.6 us more
     * latency (40.6 - 15.0) pays off from 25.6 us / (1/50.1 - 1/107.2) =
     * 2.4 MB; Simple's 15.4 us more (56.0 - 40.6) from 21 MB. */
    CHECK_EQ_INT(coll_proto_pick(&plan, 2 << 20), NCCLPROTO_LL);
    CHECK_EQ_INT(coll_proto_pick(&plan, 4 << 20), NCCLPROTO_LL128);
    CHECK_EQ_INT(coll_proto_pick(&plan, 16 << 20), NCCLPROTO_LL128);
    CHECK_EQ_INT(coll_proto_pick(&plan, 32 << 20), NCCLPROTO_SIMPLE);
    coll_plan_free(&plan);
    topo_free(t);
}

/* At many nodes a ring's 2(n-1) network steps cost far more latency than a
 * tree's 2 log2(nodes): auto takes the tree for small all-reduces. */
static void ring_steps_against_tree_at_scale(void)
{
    topo *t = make_topo("dgx-a100-80g", 64);
    int n = 512;
    int32_t *g = malloc(sizeof(int32_t) * (size_t)n);
    first_n(g, n);
    coll_plan ring = plan_of(t, COLL_ALGO_RING, g, n), tree = plan_of(t, COLL_ALGO_TREE, g, n);
    double ring_us = coll_time_s(&ring, 8) * 1e6, tree_us = coll_time_s(&tree, 8) * 1e6;
    printf("# 512 GPUs, 8 B: ring %.1f us, tree %.1f us\n", ring_us, tree_us);
    /* ring LL: 6.6 + 896 intra steps at the 2 us proxy overhead + 126 at 2.7 */
    CHECK_REL(ring_us, 6.6 + 896 * 2.0 + 126 * 2.7, 1e-3);
    CHECK_REL(tree_us, 6.8 + 2 * (7 * 0.6 + 6 * 5.0), 1e-3);
    CHECK(tree_us * 10 < ring_us);
    coll_plan best;
    coll_params params;
    cs_err err;
    coll_params_default(&params);
    CHECK(coll_plan_best(t, COLL_ALLREDUCE, g, n, &params, 8, &best, &err) == 0);
    CHECK_EQ_INT(best.algo, COLL_ALGO_TREE);
    coll_plan_free(&best);
    coll_plan_free(&ring);
    coll_plan_free(&tree);
    free(g);
    topo_free(t);
}

/* Two dgx-a100-80g nodes: a large ring all-reduce is bound by the NICs at
 * the 0.91 of line rate nccl-tests measured (issue #100): 8 x 25 GB/s x
 * 0.91 = 182 GB/s of bus bandwidth at most, and close to it at 1 GiB. */
static void nics_at_measured_share(void)
{
    topo *t = make_topo("dgx-a100-80g", 2);
    int32_t g[16];
    coll_plan plan = plan_of(t, COLL_ALGO_RING, g, first_n(g, 16));
    uint64_t size = 1ULL << 30;
    double busbw = (double)size / coll_time_s(&plan, size) * coll_busbw_factor(COLL_ALLREDUCE, 16);
    printf("# 2 nodes, 1 GiB ring: busbw %.1f GB/s\n", busbw / 1e9);
    CHECK(busbw <= 182e9 * 1.0001);
    CHECK(busbw >= 0.95 * 182e9);
    coll_plan_free(&plan);
    topo_free(t);
}

/* NVLink SHARP on one dgx-h100: a 1 GiB all-reduce at the algorithm
 * bandwidth nccl-tests measured with it (issue #212: about 275 GB/s, busbw
 * about 480), above the ring's 370 GB/s busbw; its 25 us latency (tuning.cc,
 * Simple only) leaves small messages to the ring's LL; auto switches to it
 * where it is faster; A100 nodes and groups across nodes have none. */
static void nvls_on_hopper(void)
{
    topo *t = make_topo("dgx-h100", 1);
    int32_t g[8];
    coll_plan nvls = plan_of(t, COLL_ALGO_NVLS, g, first_n(g, 8));
    uint64_t big = 1ULL << 30;
    double algbw = (double)big / coll_time_s(&nvls, big);
    printf("# nvls 1 GiB: algbw %.1f GB/s, busbw %.1f\n", algbw / 1e9, algbw * 1.75 / 1e9);
    CHECK_REL(algbw, 275e9, 0.01);
    CHECK_REL(sim_time_s(t, &nvls, big), coll_time_s(&nvls, big), 1e-6);
    CHECK_EQ_INT(coll_proto_pick(&nvls, 8), NCCLPROTO_SIMPLE);
    CHECK_REL(coll_time_s(&nvls, 8), 25e-6, 0.01);
    coll_plan best;
    coll_params params;
    cs_err err;
    coll_params_default(&params);
    CHECK(coll_plan_best(t, COLL_ALLREDUCE, g, 8, &params, 8, &best, &err) == 0);
    CHECK_EQ_INT(best.algo, COLL_ALGO_RING);
    coll_plan_free(&best);
    CHECK(coll_plan_best(t, COLL_ALLREDUCE, g, 8, &params, big, &best, &err) == 0);
    CHECK_EQ_INT(best.algo, COLL_ALGO_NVLS);
    coll_plan_free(&best);
    coll_plan_free(&nvls);
    topo_free(t);
    t = make_topo("dgx-a100-80g", 1);
    CHECK(coll_plan_build(t, COLL_ALLREDUCE, COLL_ALGO_NVLS, g, 8, &params, &best, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "nvls needs a group inside one node with NVLink SHARP");
    topo_free(t);
}

/* Broadcast, all-to-all and send/recv are not in NCCL's tuning tables: they
 * keep the route latencies and the launch. */
static void ops_outside_the_tables(void)
{
    topo *t = make_topo("dgx-h100", 1);
    int32_t g[8];
    coll_params params;
    coll_plan plan;
    cs_err err;
    coll_params_default(&params);
    CHECK(coll_plan_build(t, COLL_SENDRECV, COLL_ALGO_DIRECT, g, first_n(g, 8), &params, &plan,
                          &err) == 0);
    CHECK_EQ_INT(coll_proto_pick(&plan, 8), -1);
    CHECK(coll_start_ps(&plan, 8) == params.launch_ps);
    CHECK_REL(coll_wire_factor(&plan, 8), 1.0, 1e-12);
    coll_plan_free(&plan);
    topo_free(t);
}

TAP_MAIN({"NCCL's tuner latencies by hand", latencies_by_hand},
         {"small messages cost what nccl-tests measured", small_messages_within_measured_spread},
         {"LL, LL128, Simple switch where their times cross", protocol_switch_points},
         {"a ring's 2(n-1) steps against a tree's log steps at 64 nodes",
          ring_steps_against_tree_at_scale},
         {"NICs at the measured share of line rate", nics_at_measured_share},
         {"NVLink SHARP at the measured bandwidth", nvls_on_hopper},
         {"ops outside NCCL's tables keep the launch", ops_outside_the_tables})
