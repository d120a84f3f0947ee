/* commcost_ep: expert-parallel all-to-alls (see commcost_ep.h). */
#include "commcost_ep.h"

#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "layout_ep.h"

/* The all-to-all of each of `ngroups` groups of n GPUs (one after the other
 * in gpus), all at once. */
static int build_concurrent(topo *t, const int32_t *gpus, int n, int ngroups, coll_plan *out,
                            cs_err *err)
{
    coll_params params;
    coll_params_default(&params);
    coll_plan *each = cs_xrealloc(NULL, sizeof *each * (size_t)ngroups);
    int built = 0, rc = 0;
    for (int g = 0; rc == 0 && g < ngroups; g++) {
        rc = coll_plan_build(t, COLL_ALLTOALL, COLL_ALGO_DIRECT, gpus + (size_t)g * n, n, &params,
                             &each[g], err);
        built += rc == 0;
    }
    if (rc == 0 && ngroups == 1) {
        *out = each[0];
        built = 0;
    } else if (rc == 0) {
        rc = coll_plan_concurrent(t, each, ngroups, out, err);
    }
    for (int g = 0; g < built; g++)
        coll_plan_free(&each[g]);
    free(each);
    return rc;
}

/* GPU of expert ranks (etp_rank, ep_rank, edp_rank) on stage s. */
static int32_t gpu_of(const layout_desc *l, int s, int etp_rank, int ep_rank, int edp_rank)
{
    return (int32_t)((long long)l->tp * l->dp * s +
                     layout_ep_local_rank(l, etp_rank, ep_rank, edp_rank));
}

/* The hierarchical phases: a group of ep GPUs etp apart holds `inside` of
 * them per node (the node's GPUs / etp), on ep / inside nodes. */
static int build_hier(topo *t, const layout_desc *l, int s, int per_node, commcost_ep_plans *out,
                      cs_err *err)
{
    int ep = layout_ep_of(l), etp = layout_etp_of(l), edp = layout_edp_of(l);
    int inside = per_node / etp, nodes = ep / inside, groups = etp * edp;
    int32_t *gpus = cs_xrealloc(NULL, sizeof *gpus * (size_t)ep * groups);
    int k = 0; /* intra: per group and node, its `inside` GPUs */
    for (int g = 0; g < groups; g++)
        for (int nd = 0; nd < nodes; nd++)
            for (int i = 0; i < inside; i++)
                gpus[k++] = gpu_of(l, s, g % etp, nd * inside + i, g / etp);
    int rc = build_concurrent(t, gpus, inside, groups * nodes, &out->intra, err);
    k = 0; /* inter: per group and local index, one GPU on each node */
    for (int g = 0; g < groups; g++)
        for (int i = 0; i < inside; i++)
            for (int nd = 0; nd < nodes; nd++)
                gpus[k++] = gpu_of(l, s, g % etp, nd * inside + i, g / etp);
    if (rc == 0 && (rc = build_concurrent(t, gpus, nodes, groups * inside, &out->inter, err)))
        coll_plan_free(&out->intra);
    free(gpus);
    out->has_hier = rc == 0;
    return rc;
}

int commcost_ep_build(topo *t, const layout_desc *l, int s, commcost_ep_plans *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    int ep = layout_ep_of(l), etp = layout_etp_of(l), edp = layout_edp_of(l);
    if (ep < 2 || edp < 1)
        return 0;
    int groups = etp * edp;
    int32_t *gpus = cs_xrealloc(NULL, sizeof *gpus * (size_t)ep * groups);
    for (int g = 0; g < groups; g++)
        for (int e = 0; e < ep; e++)
            gpus[g * ep + e] = gpu_of(l, s, g % etp, e, g / etp);
    int rc = build_concurrent(t, gpus, ep, groups, &out->flat, err);
    free(gpus);
    if (rc != 0)
        return cs_fail_prefix(err, "expert-parallel all-to-all of stage %d: ", s);
    out->has_flat = 1;
    int per_node = topo_node_type(t, 0)->gpus;
    int inside = per_node / etp;
    if (l->ep_a2a_hier && etp <= per_node && per_node % etp == 0 && inside > 1 && ep > inside &&
        ep % inside == 0 && build_hier(t, l, s, per_node, out, err) != 0)
        return cs_fail_prefix(err, "hierarchical expert-parallel all-to-all of stage %d: ", s);
    return 0;
}

void commcost_ep_free(commcost_ep_plans *p)
{
    if (p->has_flat)
        coll_plan_free(&p->flat);
    if (p->has_hier) {
        coll_plan_free(&p->intra);
        coll_plan_free(&p->inter);
    }
    memset(p, 0, sizeof *p);
}

double commcost_ep_a2a_s(const commcost_ep_plans *p, const layout_desc *l, uint64_t size_bytes)
{
    if (!p->has_flat)
        return 0;
    if (l->ep_a2a_hier && p->has_hier)
        return coll_time_s(&p->intra, size_bytes) + coll_time_s(&p->inter, size_bytes);
    return coll_time_s(&p->flat, size_bytes);
}

double commcost_ep_exposed_s(const model_desc *m, const layout_desc *l, double one_s, int count,
                             double compute_s)
{
    double total = count * one_s * layout_ep_imbalance(m, l);
    if (!l->ep_overlap)
        return total;
    return total > compute_s ? total - compute_s : 0;
}
