/* Unit tests: collectives alone on their links run as one timed task
 * (sim/exec_iso).  The replayed duration of a plan equals the plan run as
 * flows on an idle network; random task graphs (tensor-parallel groups in
 * nodes, data-parallel rings across them, transfers inside and between
 * nodes) give every task the same end timed as as flows, a timed collective
 * that another collective meets moving to flows there and then; every-rank
 * iterations on the validation layouts and random ones equal the flows with
 * full re-solves (the issue asks 0.1%; held here to 1e-6), the same on every
 * run and thread count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collfixture.h"
#include "cs_alloc.h"
#include "exec.h"
#include "exec_iso.h"
#include "fixture.h"
#include "parmap.h"
#include "tap.h"
#include "trainsim.h"

static double *link_caps(topo *t)
{
    int n = topo_link_count(t);
    double *cap = cs_xrealloc(NULL, sizeof(double) * (size_t)(n ? n : 1));
    for (int l = 0; l < n; l++)
        cap[l] = topo_link_at(t, l)->bw_bytes_per_s;
    return cap;
}

/* The replay against the plan simulated alone as flows (collsim), to a
 * picosecond per phase: every op and algorithm on one DGX H100 and on four
 * DGX A100s (their rings cross the rail network, trees and hierarchical plans
 * have coflows of unequal length that free bandwidth for the others), at
 * sizes under NCCL's LL, LL128 and Simple protocols. */
static void replay_equals_flows(void)
{
    static const struct { const char *sys; int nodes, gpus; } groups[] = {
        {"dgx-h100", 1, 8}, {"dgx-a100-80g", 4, 32}, {"dgx-a100-80g", 4, 4}};
    static const uint64_t sizes[] = {4096, 1u << 20, 256u << 20};
    int compared = 0;
    for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; gi++) {
        topo *t = make_topo(groups[gi].sys, groups[gi].nodes);
        double *cap = link_caps(t);
        int32_t gpus[32];
        int n = groups[gi].gpus;
        for (int i = 0; i < n; i++) /* 4 GPUs: one per node, as a dp ring */
            gpus[i] = n == 4 ? i * 8 : i;
        coll_params params;
        coll_params_default(&params);
        for (coll_op op = COLL_ALLREDUCE; op <= COLL_ALLGATHER; op++) {
            coll_algo algos[4];
            int na = coll_algos_for(op, algos);
            for (int a = 0; a < na; a++) {
                coll_plan plan;
                if (coll_plan_build(t, op, algos[a], gpus, n, &params, &plan, NULL) != 0)
                    continue; /* an algorithm the group does not have (NVLS on A100) */
                for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
                    uint64_t d = exec_iso_duration_ps(&plan, sizes[si], cap);
                    double flows_s = sim_time_s(t, &plan, sizes[si]);
                    CHECK(d != UINT64_MAX);
                    CHECK(units_ps_to_s(d) <= flows_s + 1e-12 * (1 + plan.nphases) &&
                          units_ps_to_s(d) >= flows_s - 1e-12 * (1 + plan.nphases));
                    compared++;
                }
                coll_plan_free(&plan);
            }
        }
        free(cap);
        topo_free(t);
    }
    printf("# %d plans and sizes compared\n", compared);
    CHECK(compared >= 30);
}

/* ---- random task graphs -------------------------------------------------------- */

#define NODES 4
#define GPN 8

typedef struct graph_case {
    topo *t;
    coll_plan tp[NODES], half[NODES], dp[GPN];
    double *cap; /* chain_graph: the links' capacities */
} graph_case;

static void case_plans(graph_case *c)
{
    c->t = make_topo("dgx-h100", NODES);
    coll_params params;
    coll_params_default(&params);
    for (int n = 0; n < NODES; n++) {
        int32_t g[GPN];
        for (int i = 0; i < GPN; i++)
            g[i] = n * GPN + i;
        CHECK(coll_plan_build(c->t, COLL_ALLREDUCE, COLL_ALGO_RING, g, GPN, &params, &c->tp[n],
                              NULL) == 0);
        CHECK(coll_plan_build(c->t, COLL_ALLREDUCE, COLL_ALGO_RING, g, GPN / 2, &params,
                              &c->half[n], NULL) == 0);
    }
    for (int r = 0; r < GPN; r++) {
        int32_t g[NODES];
        for (int n = 0; n < NODES; n++)
            g[n] = n * GPN + r;
        CHECK(coll_plan_build(c->t, COLL_ALLREDUCE, COLL_ALGO_RING, g, NODES, &params, &c->dp[r],
                              NULL) == 0);
    }
}

static void case_free(graph_case *c)
{
    for (int n = 0; n < NODES; n++) {
        coll_plan_free(&c->tp[n]);
        coll_plan_free(&c->half[n]);
    }
    for (int r = 0; r < GPN; r++)
        coll_plan_free(&c->dp[r]);
    topo_free(c->t);
}

/* Per node, steps of compute on every GPU then the node's tensor-parallel
 * all-reduce; now and then a data-parallel all-reduce on a rail (its own
 * stream, overlapping the next steps), a transfer to another node or (node
 * 0) inside this one, or (overlap) a small all-reduce over half the node 0
 * to 300 us after the first: two collectives on the same links, the second
 * meeting the first in its start latency, in its phase, or not at all. */
static exec_graph *random_graph(graph_case *c, uint64_t *seed, int overlap)
{
    exec_graph *g = exec_new();
    int compute[NODES * GPN], comm[NODES * GPN], last[NODES * GPN];
    for (int i = 0; i < NODES * GPN; i++) {
        compute[i] = exec_stream(g, i, "compute");
        comm[i] = exec_stream(g, i, "dp");
        last[i] = -1;
    }
    for (int step = 0; step < 12; step++)
        for (int n = 0; n < NODES; n++) {
            uint64_t roll = fixture_rand(seed) % 8;
            int ar = exec_collective(g, -1, &c->tp[n], (1 + fixture_rand(seed) % 64) << 20, "tp");
            int twin = -1, wait = -1;
            if (roll == 3 && overlap) { /* the first half of the node, 0 to 300 us after ar */
                twin = exec_collective(g, -1, &c->half[n], (1 + fixture_rand(seed) % 16) << 12,
                                       "twin");
                wait = exec_delay(g, fixture_rand(seed) % 300000000, "wait");
                exec_dep(g, wait, twin);
            }
            for (int i = n * GPN; i < (n + 1) * GPN; i++) {
                int k = exec_compute(g, compute[i], 1000000 + fixture_rand(seed) % 3000000, "f");
                if (last[i] >= 0)
                    exec_dep(g, last[i], k);
                exec_dep(g, k, ar);
                if (wait >= 0)
                    exec_dep(g, k, wait);
                last[i] = ar;
            }
            int gpu = n * GPN + (int)(fixture_rand(seed) % GPN);
            if (roll == 0) {
                /* on node 0's stream of the rail: one at a time */
                int d = exec_collective(g, comm[gpu % GPN], &c->dp[gpu % GPN], 1u << 22, "dp");
                exec_dep(g, ar, d);
            } else if (roll == 1 || (roll == 2 && n == 0)) { /* node 0's NVLink only */
                int peer = roll == 1 ? (gpu + GPN) % (NODES * GPN)
                                     : n * GPN + (gpu + 1 + (int)(fixture_rand(seed) % 7)) % GPN;
                int x = exec_transfer(g, comm[gpu], gpu, peer, 1 << 20, "p2p");
                exec_dep(g, ar, x);
            }
        }
    return g;
}

/* Runs the graph timed and as flows: every task's end alike, to 1e-6 and a
 * nanosecond (the replay rounds as net does; a demoted coflow's bytes left
 * may differ from net's in the last bits). */
static void compare_graph(graph_case *c, uint64_t seed, int overlap, uint64_t *timed,
                          uint64_t *demoted)
{
    uint64_t s1 = seed, s2 = seed;
    exec_graph *a = random_graph(c, &s1, overlap), *b = random_graph(c, &s2, overlap);
    exec_set_timed_collectives(a, 1);
    exec_result ra, rb;
    cs_err err;
    CHECK(exec_run(a, c->t, &ra, &err) == 0);
    CHECK(exec_run(b, c->t, &rb, &err) == 0);
    CHECK(rb.timed_collectives == 0);
    CHECK_REL((double)ra.makespan_ps, (double)rb.makespan_ps, 1e-6);
    int worst = 0;
    for (int id = 0; id < exec_task_count(a); id++) {
        double ea = (double)exec_task_end_ps(a, id), eb = (double)exec_task_end_ps(b, id);
        if (ea > eb + 1e-6 * eb + 1000 || ea < eb - 1e-6 * eb - 1000)
            worst++;
    }
    CHECK_EQ_INT(worst, 0);
    *timed += ra.timed_collectives;
    *demoted += ra.timed_demoted;
    exec_free(a);
    exec_free(b);
}

static void random_graphs(void)
{
    graph_case c;
    case_plans(&c);
    uint64_t seed = 0x2545f4914f6cdd1dull, timed = 0, demoted = 0;
    for (int i = 0; i < 16; i++)
        compare_graph(&c, fixture_rand(&seed), 0, &timed, &demoted);
    printf("# %llu collectives timed, %llu moved to flows\n", (unsigned long long)timed,
           (unsigned long long)demoted);
    CHECK(timed > 0); /* most tensor-parallel all-reduces are alone on their NVLink */
    timed = demoted = 0;
    for (int i = 0; i < 16; i++)
        compare_graph(&c, fixture_rand(&seed), 1, &timed, &demoted);
    printf("# with overlapping twins: %llu timed, %llu moved to flows\n",
           (unsigned long long)timed, (unsigned long long)demoted);
    CHECK(demoted > 0);
    case_free(&c);
}

/* ---- chains of timed collectives (exec.c) --------------------------------------- */

/* Per node, compute on every GPU, then the node's tensor-parallel all-reduce
 * and up to four more on its plan, each waiting for the one before (a chain;
 * sizes equal or not); now and then a follower also waits for a delay that
 * may end before or after its turn, a follower on half the node (another
 * plan: the chain stops there), or (node 0) a small all-reduce over half the
 * node 0 to 900 us after the compute, which meets the chain before, inside
 * or after one of its members, or at one's end. */
static exec_graph *chain_graph(graph_case *c, uint64_t *seed)
{
    exec_graph *g = exec_new();
    int compute[NODES * GPN], last[NODES * GPN];
    for (int i = 0; i < NODES * GPN; i++) {
        compute[i] = exec_stream(g, i, "compute");
        last[i] = -1;
    }
    for (int step = 0; step < 10; step++)
        for (int n = 0; n < NODES; n++) {
            uint64_t size = (1 + fixture_rand(seed) % 64) << 20;
            int head = exec_collective(g, -1, &c->tp[n], size, "tp"), tail = head;
            /* node 0, now and then: a twin whose flows start exactly at the
             * end of the chain's j-th member (equal sizes), j = 0: early */
            int tie = n == 0 && fixture_rand(seed) % 3 == 0;
            int gate = tie ? exec_delay(g, 0, "gate") : head;
            if (tie) {
                uint64_t at_ps = (fixture_rand(seed) % 4) * exec_iso_duration_ps(&c->tp[0], size,
                                                                                  c->cap);
                uint64_t launch_ps = coll_start_ps(&c->half[0], 1u << 14); /* its flows start then */
                int wait = exec_delay(g, at_ps > launch_ps ? at_ps - launch_ps : 0, "at");
                int twin = exec_collective(g, -1, &c->half[0], 1u << 14, "twin");
                exec_dep(g, gate, head);
                exec_dep(g, gate, wait);
                exec_dep(g, wait, twin);
            }
            for (int i = n * GPN; i < (n + 1) * GPN; i++) {
                int k = exec_compute(g, compute[i], 1000000 + fixture_rand(seed) % 3000000, "f");
                if (last[i] >= 0)
                    exec_dep(g, last[i], k);
                exec_dep(g, k, gate);
            }
            int followers = tie ? 3 : (int)(fixture_rand(seed) % 5);
            for (int f = 0; f < followers; f++) {
                uint64_t roll = tie ? 0 : fixture_rand(seed) % 6;
                const coll_plan *plan = roll == 5 ? &c->half[n] : &c->tp[n];
                int k = exec_collective(g, -1, plan, roll == 4 ? 4096 : size, "tp next");
                exec_dep(g, tail, k);
                if (roll == 3) { /* a second predecessor, ending 0 to 600 us after the head's */
                    int wait = exec_delay(g, fixture_rand(seed) % 600000000, "wait");
                    exec_dep(g, head, wait);
                    exec_dep(g, wait, k);
                }
                tail = k;
            }
            if (n == 0 && fixture_rand(seed) % 2) { /* meets the chain somewhere */
                int wait = exec_delay(g, fixture_rand(seed) % 900000000, "wait");
                int twin = exec_collective(g, -1, &c->half[0], 1u << 14, "twin");
                exec_dep(g, last[0] >= 0 ? last[0] : head, wait);
                exec_dep(g, wait, twin);
            }
            for (int i = n * GPN; i < (n + 1) * GPN; i++)
                last[i] = tail;
        }
    return g;
}

/* The same graph with chains and one timed collective at a time: every
 * task's start and end to the picosecond, as many collectives timed. */
static void chains_equal_one_by_one(void)
{
    graph_case c;
    case_plans(&c);
    c.cap = link_caps(c.t);
    uint64_t seed = 0x9e3779b97f4a7c15ull, events_on = 0, events_off = 0, demoted = 0;
    int differ = 0;
    for (int i = 0; i < 24; i++) {
        uint64_t s1 = fixture_rand(&seed), s2 = s1;
        exec_graph *a = chain_graph(&c, &s1), *b = chain_graph(&c, &s2);
        exec_set_timed_collectives(a, 1);
        exec_set_timed_collectives(b, 1);
        exec_set_collective_chains(b, 0);
        exec_result ra, rb;
        cs_err err;
        CHECK(exec_run(a, c.t, &ra, &err) == 0);
        CHECK(exec_run(b, c.t, &rb, &err) == 0);
        for (int id = 0; id < exec_task_count(a); id++)
            differ += exec_task_start_ps(a, id) != exec_task_start_ps(b, id) ||
                      exec_task_end_ps(a, id) != exec_task_end_ps(b, id);
        CHECK(ra.makespan_ps == rb.makespan_ps);
        CHECK(ra.timed_collectives == rb.timed_collectives);
        events_on += ra.events;
        events_off += rb.events;
        demoted += rb.timed_demoted;
        exec_free(a);
        exec_free(b);
    }
    CHECK_EQ_INT(differ, 0);
    printf("# events %llu chained, %llu one by one; %llu demoted\n",
           (unsigned long long)events_on, (unsigned long long)events_off,
           (unsigned long long)demoted);
    CHECK(events_on < events_off); /* the chains ran */
    CHECK(demoted > 0);            /* and flows met them */
    free(c.cap);
    case_free(&c);
}

/* ---- every-rank iterations ----------------------------------------------------- */

/* trainsim_run (timed collectives, incremental re-solves) against every
 * collective as flows with whole components re-solved.  Returns the
 * collectives timed. */
static uint64_t check_iteration(fixture *f)
{
    estimate_result fast, ref;
    trainsim_stats st = {0};
    cs_err err;
    CHECK(trainsim_run(&f->in, TRAINSIM_ALL_RANKS, &fast, &st, &err) == 0);
    CHECK(trainsim_run_full_resolve(&f->in, TRAINSIM_ALL_RANKS, &ref, &err) == 0);
    CHECK_REL(fast.iteration_s, ref.iteration_s, 1e-6);
    for (int s = 0; s < ref.pp; s++) {
        const estimate_stage *a = &fast.stages[s], *b = &ref.stages[s];
        CHECK_REL(a->tp_comm_s + 1, b->tp_comm_s + 1, 1e-6);
        CHECK_REL(a->dp_exposed_s + 1, b->dp_exposed_s + 1, 1e-6);
        CHECK_REL(a->p2p_s + 1, b->p2p_s + 1, 1e-6);
        CHECK_REL(a->bubble_s + 1, b->bubble_s + 1, 1e-6);
    }
    printf("#   %.6f s, %llu collectives timed, %llu moved to flows\n", fast.iteration_s,
           (unsigned long long)st.timed_collectives, (unsigned long long)st.timed_demoted);
    estimate_result_free(&fast);
    estimate_result_free(&ref);
    return st.timed_collectives;
}

/* The megatron2021 rows of `clustersim validate` (their shapes, a smaller
 * global batch; full recomputation, unfused attention, fp16) and the
 * megatron2019 tensor parallelism on one DGX-2H. */
static void validation_layouts(void)
{
    static const struct { const char *sys, *model; int tp, pp, dp, gbs, mbs; framework_kind fw; }
        rows[] = {{"dgx2-v100", "megatron-3.6b", 8, 1, 1, 8, 8, FRAMEWORK_2019},
                  {"dgx-a100-80g", "megatron-7.5b", 4, 1, 8, 16, 1, FRAMEWORK_2021},
                  {"dgx-a100-80g", "megatron-18.4b", 8, 1, 8, 16, 1, FRAMEWORK_2021},
                  {"dgx-a100-80g", "megatron-39.1b", 8, 2, 8, 32, 1, FRAMEWORK_2021}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fixture f;
        int gpus = rows[i].tp * rows[i].pp * rows[i].dp;
        fixture_setup(&f, rows[i].sys, (gpus + 7) / 8 > 0 ? (gpus + 7) / 8 : 1, rows[i].model,
                      rows[i].tp, rows[i].pp, rows[i].dp, rows[i].gbs);
        f.l.framework = rows[i].fw;
        f.l.mbs = rows[i].mbs;
        f.l.recompute = LAYOUT_RECOMPUTE_FULL;
        f.l.flash_attention = 0;
        f.l.dtype = MODEL_FP16;
        printf("# %s %s tp%d pp%d dp%d\n", rows[i].sys, rows[i].model, rows[i].tp, rows[i].pp,
               rows[i].dp);
        uint64_t timed = check_iteration(&f);
        if (rows[i].tp == 8)
            CHECK(timed > 0); /* a node's NVLink carries only its tensor-parallel group */
        topo_free(f.t);
    }
}

/* Random layouts on both fabrics (fixture_random_layout). */
static void random_layouts(void)
{
    uint64_t seed = 0x853c49e6748fea9bull, timed = 0;
    for (int i = 0; i < 10; i++) {
        fixture f;
        fixture_random_layout(&f, &seed);
        printf("# %s %s tp%d pp%d dp%d gbs%d zero%d sp%d\n", f.sys.name, f.m.name, f.l.tp,
               f.l.pp, f.l.dp, f.l.gbs, f.l.zero, f.l.sp);
        timed += check_iteration(&f);
        topo_free(f.t);
    }
    CHECK(timed > 0);
}

static void one_run(void *ctx, long index, void *out)
{
    (void)ctx;
    (void)index;
    fixture f;
    fixture_setup(&f, "dgx-a100-80g", 8, "megatron-18.4b", 8, 2, 4, 32);
    estimate_result r;
    cs_err err;
    double *t = out;
    if (trainsim_run(&f.in, TRAINSIM_ALL_RANKS, &r, NULL, &err) == 0) {
        t[0] = r.iteration_s;
        t[1] = r.stages[1].tp_comm_s;
        estimate_result_free(&r);
    }
    topo_free(f.t);
}

static void deterministic_over_threads(void) { fixture_same_over_threads(one_run, "timed run"); }

TAP_MAIN({"a plan's replayed duration equals it run as flows", replay_equals_flows},
         {"random graphs: timed = flows, overlaps move to flows", random_graphs},
         {"chains of timed collectives = one at a time", chains_equal_one_by_one},
         {"validation layouts: timed = flows with full re-solves", validation_layouts},
         {"random layouts: timed = flows with full re-solves", random_layouts},
         {"deterministic over runs and threads", deterministic_over_threads})
