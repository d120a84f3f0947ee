/* collfixture: what the collective tests share: a catalog system's
 * topology, the first n GPUs as a group, and one plan run alone on the
 * engine. */
#ifndef CS_TEST_COLLFIXTURE_H
#define CS_TEST_COLLFIXTURE_H

#include <stdio.h>

#include "collective.h"
#include "collsim.h"
#include "units.h"

/* `nodes` nodes of the catalog system `name`, or NULL (the error printed). */
static inline topo *make_topo(const char *name, int nodes)
{
    sys_system s;
    topo *t = NULL;
    cs_err err;
    if (sys_from_catalog(name, nodes, &s, &err) != 0 || topo_build(&s, &t, &err) != 0) {
        printf("# %s\n", err.msg);
        return NULL;
    }
    return t;
}

/* GPUs 0 .. n-1 into g; returns n. */
static inline int first_n(int32_t *g, int n)
{
    for (int i = 0; i < n; i++)
        g[i] = i;
    return n;
}

/* The plan's time for size bytes, simulated alone; -1 on error. */
static inline double sim_time_s(topo *t, const coll_plan *p, uint64_t size)
{
    uint64_t end_ps;
    exec_result res;
    cs_err err;
    if (collsim_run(t, &p, &size, 1, &end_ps, &res, &err) != 0) {
        printf("# %s\n", err.msg);
        return -1;
    }
    return units_ps_to_s(end_ps);
}

#endif
