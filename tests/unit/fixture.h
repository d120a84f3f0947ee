/* fixture: a system, its topology, a catalog model and a default layout,
 * wired into an estimate_input, for the estimate and trainsim tests. */
#ifndef CS_TEST_FIXTURE_H
#define CS_TEST_FIXTURE_H

#include <string.h>

#include "estimate.h"
#include "parmap.h"
#include "tap.h"

typedef struct fixture {
    sys_system sys;
    topo *t;
    model_desc m;
    layout_desc l;
    opcost_eff eff;
    estimate_input in;
} fixture;

/* tp x pp x dp GPUs of `nodes` nodes of `system`, global batch gbs, mbs 1. */
static inline void fixture_setup(fixture *f, const char *system, int nodes, const char *model,
                                 int tp, int pp, int dp, int gbs)
{
    CHECK(sys_from_catalog(system, nodes, &f->sys, NULL) == 0);
    CHECK(topo_build(&f->sys, &f->t, NULL) == 0);
    CHECK(model_find(model, &f->m, NULL) == 0);
    layout_init(&f->l, &f->m);
    f->l.tp = tp;
    f->l.pp = pp;
    f->l.dp = dp;
    f->l.gbs = gbs;
    opcost_eff_default(&f->eff);
    f->in = (estimate_input){&f->m, &f->l, f->t, tp * pp * dp, &f->eff};
}

/* The system's network made a fat-tree of 20-port leaves whose switches
 * hash each flow over the spines (ECMP: dgx-a100-80g's network before issue
 * 15 routed it by destination as the SuperPOD it is): the fabric where the
 * data-parallel rings of the tensor ranks collide, for the tests of that. */
static inline void fixture_ecmp_fat_tree(fixture *f)
{
    topo_free(f->t);
    f->sys.net.kind = SYS_NET_FAT_TREE2;
    f->sys.net.nics_per_leaf = 20;
    f->sys.net.routing = SYS_ROUTE_ECMP;
    CHECK(topo_build(&f->sys, &f->t, NULL) == 0);
    f->in.topology = f->t;
}

/* xorshift64: the tests' reproducible draws. */
static inline uint64_t fixture_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A random every-rank layout: tp 2, 4 or 8, pp 1, 2 or 4, dp 1 to 6 on one of
 * both fabrics, one of three models, ZeRO 1 and sequence parallelism drawn. */
static inline void fixture_random_layout(fixture *f, uint64_t *seed)
{
    static const char *const systems[] = {"dgx-h100", "dgx-a100-80g"};
    static const char *const models[] = {"llama3-8b", "megatron-18.4b", "gpt3-175b"};
    int tp = 2 << (fixture_rand(seed) % 3), pp = 1 << (fixture_rand(seed) % 3);
    int dp = 1 + (int)(fixture_rand(seed) % 6);
    int gpus = tp * pp * dp, nodes = (gpus + 7) / 8;
    fixture_setup(f, systems[fixture_rand(seed) % 2], nodes, models[fixture_rand(seed) % 3], tp,
                  pp, dp, dp * pp * (1 + (int)(fixture_rand(seed) % 3)));
    f->l.zero = (int)(fixture_rand(seed) % 2);
    f->l.sp = (int)(fixture_rand(seed) % 2);
}

/* run (a parmap item writing two doubles) gives the same bytes alone and
 * as 4 items over 1 and 2 threads. */
static inline void fixture_same_over_threads(parmap_item_fn run, const char *what)
{
    double serial[2] = {0}, outs[4][2];
    run(NULL, 0, serial);
    CHECK(serial[0] > 0);
    for (int threads = 1; threads <= 2; threads++) {
        parmap_job job = {4, sizeof outs[0], run, NULL, NULL, NULL, what, threads, 1};
        parmap_run(&job, outs);
        for (int i = 0; i < 4; i++)
            CHECK(memcmp(outs[i], serial, sizeof serial) == 0);
    }
}

#endif
