/* trainsim_plans: the collective plans of every tensor- and data-parallel
 * group a lowered iteration runs, and which data-parallel groups share a
 * link (see trainsim_private.h).  Under HSDP the reduce-scatters and
 * all-gathers run over the shard groups (tp x dp / shard of them per stage)
 * and each reduced shard is all-reduced over a replica group (tp x shard of
 * them): FSDP's HYBRID_SHARD process groups. */
#include "trainsim_private.h"

#include <stdlib.h>
#include <string.h>

/* ---- plans of every group ---------------------------------------------------- */

/* Shard group gi of stage s (tensor rank gi % tp, replica gi / tp: dp
 * ranks replica * shard ...): its reduce-scatter (all-reduce under zero 0)
 * and, with a zero stage, its all-gather, at commcost's algorithms. */
static int build_shard_group(builder *b, int s, int gi, int32_t *gpus, const coll_params *params,
                             cs_err *err)
{
    const layout_desc *l = b->l;
    int r = gi % l->tp, first = gi / l->tp * b->shard;
    for (int i = 0; i < b->shard; i++)
        gpus[i] = commcost_gpu(l, r, first + i, s);
    const commcost_stage *st = &b->cc.stages[s];
    coll_plan *p = &b->dp_plans[(s * b->ndpg + gi) * NDP];
    int rc = coll_plan_build(b->in->topology, st->dp_reduce.op, st->dp_reduce.algo, gpus,
                             b->shard, params, &p[P_REDUCE], err);
    if (rc == 0 && l->zero)
        rc = coll_plan_build(b->in->topology, COLL_ALLGATHER, st->dp_allgather.algo, gpus,
                             b->shard, params, &p[P_GATHER], err);
    return rc;
}

/* HSDP replica group gi of stage s (tensor rank gi % tp, shard position
 * i = gi / tp: dp ranks i, i + shard, ...): the shard's all-reduce. */
static int build_replica_group(builder *b, int s, int gi, int32_t *gpus,
                               const coll_params *params, cs_err *err)
{
    const layout_desc *l = b->l;
    int r = gi % l->tp, i = gi / l->tp;
    for (int k = 0; k < b->replicas; k++)
        gpus[k] = commcost_gpu(l, r, i + k * b->shard, s);
    return coll_plan_build(b->in->topology, COLL_ALLREDUCE, b->cc.stages[s].dp_replica.algo, gpus,
                           b->replicas, params, &b->rep_plans[s * l->tp * b->shard + gi], err);
}

/* All-ranks mode runs every tensor- and data-parallel group's collectives;
 * folded mode runs every data-parallel group's (the tp groups of a stage
 * reduce at once and may share links above a leaf: one group alone would
 * miss that) and prices the tensor-parallel ones in closed form. */

int trainsim_build_group_plans(builder *b, cs_err *err)
{
    const layout_desc *l = b->l;
    int dpc = layout_dp_cp(l); /* gradients are reduced over dp x cp */
    int n = l->tp > dpc ? l->tp : dpc;
    int32_t *gpus = cs_xrealloc(NULL, sizeof *gpus * (size_t)n);
    coll_params params;
    coll_params_default(&params);
    b->tp_plans = calloc((size_t)l->pp * dpc * NTP, sizeof *b->tp_plans);
    b->dp_plans = calloc((size_t)l->pp * b->ndpg * NDP, sizeof *b->dp_plans);
    b->rep_plans = calloc((size_t)l->pp * l->tp * b->shard, sizeof *b->rep_plans);
    if (!b->tp_plans || !b->dp_plans || !b->rep_plans)
        abort();
    /* folded HSDP runs the stage's concurrent plans from commcost (every
     * group at once, shared links shared): no group plans, no shadows */
    int hsdp_folded = b->folded && b->replicas > 1;
    static const coll_op tp_ops[NTP] = {COLL_ALLREDUCE, COLL_ALLGATHER, COLL_REDUCESCATTER};
    int rc = 0;
    for (int s = 0; rc == 0 && s < l->pp; s++) {
        /* every group runs the algorithm commcost chose for the stage (NCCL's
         * tuner decides the same on identical groups), so the two modes
         * differ only in what runs concurrently, not in the algorithm */
        const commcost_stage *cs = &b->cc.stages[s];
        const coll_plan *tp_algo[NTP] = {&cs->tp_allreduce, &cs->tp_allgather,
                                         &cs->tp_reducescatter};
        for (int d = 0; rc == 0 && !b->folded && l->tp > 1 && d < dpc; d++) {
            for (int r = 0; r < l->tp; r++)
                gpus[r] = commcost_gpu(l, r, d, s);
            for (int op = 0; rc == 0 && op < NTP; op++)
                rc = coll_plan_build(b->in->topology, tp_ops[op], tp_algo[op]->algo, gpus, l->tp,
                                     &params, &b->tp_plans[(s * dpc + d) * NTP + op], err);
        }
        for (int gi = 0; rc == 0 && !hsdp_folded && dpc > 1 && gi < b->ndpg; gi++)
            rc = build_shard_group(b, s, gi, gpus, &params, err);
        for (int gi = 0; rc == 0 && !b->folded && b->replicas > 1 && gi < l->tp * b->shard;
             gi++)
            rc = build_replica_group(b, s, gi, gpus, &params, err);
    }
    free(gpus);
    return rc;
}

/* Calls fn on every link of a plan. */
static void plan_links(const coll_plan *p, void (*fn)(void *, int32_t), void *ctx)
{
    for (int ph = 0; ph < p->nphases; ph++)
        for (int c = 0; c < p->phases[ph].ncoflows; c++)
            for (int i = 0; i < p->phases[ph].coflows[c].nlinks; i++)
                fn(ctx, p->phases[ph].coflows[c].links[i]);
}

typedef struct share_scan {
    int32_t *owner; /* per link: the first group seen on it, or -1 */
    unsigned char *shares;
    int group;
} share_scan;

static void scan_link(void *ctx, int32_t link)
{
    share_scan *sc = ctx;
    int32_t o = sc->owner[link];
    if (o < 0)
        sc->owner[link] = sc->group;
    else if (o != sc->group)
        sc->shares[o] = sc->shares[sc->group] = 1;
}

static void reset_link(void *ctx, int32_t link) { ((share_scan *)ctx)->owner[link] = -1; }

/* Folded mode: which data-parallel groups of each stage share a link with
 * another group of the stage (ECMP collisions above a leaf).  Only those
 * are simulated beside the stage's representative (group 0): a group whose
 * links are its own runs as group 0 does, at no extra simulation cost. */
void trainsim_find_sharing_groups(builder *b)
{
    const layout_desc *l = b->l;
    int nlinks = topo_link_count(b->in->topology);
    share_scan sc = {cs_xrealloc(NULL, sizeof *sc.owner * (size_t)(nlinks + 1)), NULL, 0};
    b->shares = calloc((size_t)l->pp * l->tp + 1, 1);
    if (!b->shares)
        abort();
    for (int i = 0; i < nlinks; i++)
        sc.owner[i] = -1;
    for (int s = 0; layout_dp_cp(l) > 1 && s < l->pp; s++) {
        sc.shares = &b->shares[s * l->tp];
        for (sc.group = 0; sc.group < l->tp; sc.group++)
            plan_links(&b->dp_plans[(s * l->tp + sc.group) * NDP + P_REDUCE], scan_link, &sc);
        for (int r = 0; r < l->tp; r++)
            plan_links(&b->dp_plans[(s * l->tp + r) * NDP + P_REDUCE], reset_link, &sc);
    }
    free(sc.owner);
}

void trainsim_free_group_plans(builder *b)
{
    const layout_desc *l = b->l;
    for (int i = 0; b->tp_plans && i < l->pp * layout_dp_cp(l) * NTP; i++)
        coll_plan_free(&b->tp_plans[i]);
    for (int i = 0; b->dp_plans && i < l->pp * b->ndpg * NDP; i++)
        coll_plan_free(&b->dp_plans[i]);
    for (int i = 0; b->rep_plans && i < l->pp * l->tp * b->shard; i++)
        coll_plan_free(&b->rep_plans[i]);
    free(b->tp_plans);
    free(b->dp_plans);
    free(b->rep_plans);
}

