/* fixture: a system, its topology, a catalog model and a default layout,
 * wired into an estimate_input, for the estimate and trainsim tests. */
#ifndef CS_TEST_FIXTURE_H
#define CS_TEST_FIXTURE_H

#include "estimate.h"
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

#endif
