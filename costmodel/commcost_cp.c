/* commcost_cp: context parallelism's groups and prices (see commcost_cp.h). */
#include "commcost_cp.h"

#include <stdlib.h>

#include "cs_alloc.h"

/* Every group of one kind over the stage as one concurrent plan: `groups`
 * groups of n GPUs each, group g's i-th member at cp index
 * first(g) + i * stride, for each tensor rank and replica. */
static int build_kind(topo *t, const layout_desc *l, int s, coll_op op, coll_algo algo, int n,
                      int stride, int inner, coll_plan *out, cs_err *err)
{
    int per_replica = layout_cp_of(l) / n, ngroups = l->tp * l->dp * per_replica;
    coll_plan *each = cs_xrealloc(NULL, sizeof *each * (size_t)ngroups);
    int32_t *gpus = cs_xrealloc(NULL, sizeof *gpus * (size_t)n);
    coll_params params;
    coll_params_default(&params);
    int built = 0, rc = 0;
    for (int d = 0; rc == 0 && d < l->dp; d++)
        for (int r = 0; rc == 0 && r < l->tp; r++)
            for (int k = 0; rc == 0 && k < per_replica; k++) {
                /* ring: groups k = 0 .. a - 1 start at k; all-to-all: at k n */
                int first = inner ? k * n : k;
                for (int i = 0; i < n; i++)
                    gpus[i] = layout_rank_gpu(l, r, first + i * stride, d, s);
                rc = coll_plan_build(t, op, algo, gpus, n, &params, &each[built], err);
                built += rc == 0;
            }
    if (rc == 0)
        rc = coll_plan_concurrent(t, each, ngroups, out, err);
    for (int i = 0; i < built; i++)
        coll_plan_free(&each[i]);
    free(each);
    free(gpus);
    return rc;
}

int commcost_cp_build(topo *t, const layout_desc *l, int s, coll_plan *ring, int *has_ring,
                      coll_plan *a2a, int *has_a2a, cs_err *err)
{
    *has_ring = *has_a2a = 0;
    int cp = layout_cp_of(l);
    if (cp == 1)
        return 0;
    int a = layout_cp_a2a_ranks(l, topo_node_type(t, 0)->gpus), r = cp / a;
    if (r > 1) {
        if (build_kind(t, l, s, COLL_SENDRECV, COLL_ALGO_DIRECT, r, a, 0, ring, err) != 0)
            return cs_fail_prefix(err, "context-parallel ring of stage %d: ", s);
        *has_ring = 1;
    }
    if (a > 1) {
        if (build_kind(t, l, s, COLL_ALLTOALL, COLL_ALGO_DIRECT, a, 1, 1, a2a, err) != 0)
            return cs_fail_prefix(err, "context-parallel all-to-all of stage %d: ", s);
        *has_a2a = 1;
    }
    return 0;
}
