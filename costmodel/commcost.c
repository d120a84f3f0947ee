/* commcost: rank mapping and the collectives of a layout (see commcost.h). */
#include "commcost.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "commcost_cp.h"
#include "commcost_ep.h"
#include "layout_ep.h"
#include "cs_alloc.h"
#include "layout_stages.h"
#include "schedule.h"
#include "workload.h"

int commcost_shard_ranks(const layout_desc *l)
{
    return l->zero && l->shard_group ? l->shard_group : layout_dp_cp(l); /* dp x cp hold the same weights */
}

int commcost_gpu(const layout_desc *l, int tp_rank, int dp_rank, int pp_rank)
{
    return tp_rank + l->tp * (dp_rank + layout_dp_cp(l) * pp_rank); /* = layout_rank_gpu */
}

/* ---- the plans of every algorithm over every group of a mapping ---- */

enum { OP_AR, OP_AG, OP_RS, NOPS };
static const coll_op group_ops[NOPS] = {COLL_ALLREDUCE, COLL_ALLGATHER, COLL_REDUCESCATTER};

/* The algorithms an op may run over one group, each built or not. */
typedef struct algo_set {
    coll_plan plans[4];   /* every concurrent group's coflows (coll_plan_concurrent) */
    coll_plan solo[4];    /* group 0 alone: the algorithm is chosen on it */
    int has_solo[4];
    int built[4];
    int n;
    char why[256];        /* the last algorithm's reason when none was built */
} algo_set;

typedef struct stage_groups {
    algo_set tp[NOPS], dp[NOPS];
    /* HSDP (a shard group smaller than dp): dp[] holds the shard groups'
     * plans and replica the all-reduce across the replica groups */
    algo_set replica;
    coll_plan p2p;    /* to the next stage; none on the last */
    int has_p2p;
    coll_plan cp_ring, cp_a2a; /* context parallelism (commcost_cp.c) */
    int has_cp_ring, has_cp_a2a;
    commcost_ep_plans ep; /* expert-parallel all-to-alls (commcost_ep.h) */
} stage_groups;

struct commcost_groups {
    int tp, pp, dp, cp;
    layout_cp_comm cp_comm;
    int gpus_per_node;
    int ep, etp, ep_a2a_hier; /* expert parallelism the groups were built for */
    int shard; /* ranks of a shard group (sharding_group): dp x cp without HSDP */
    stage_groups *stages;
    coll_plan emb;  /* every first/last stage pair's all-reduce (commcost.h) */
    int has_emb;
};

/* The first and last stage of every (tensor rank, replica) all-reduce the
 * tied embedding's gradient at once; under dualpipe every mirrored stage
 * pair (r, pp - 1 - r) its copies' gradient (commcost.h). */
static int build_emb(topo *t, const layout_desc *l, commcost_groups *g, cs_err *err)
{
    int mirrors = l->schedule == LAYOUT_SCHEDULE_DUALPIPE ? l->pp / 2 : 1;
    int dpc = layout_dp_cp(l), pairs = l->tp * dpc * mirrors;
    coll_plan *each = cs_xrealloc(NULL, sizeof *each * (size_t)pairs);
    coll_params params;
    coll_params_default(&params);
    int built = 0, rc = 0;
    for (int i = 0; rc == 0 && i < pairs; i++) {
        int r = i % l->tp, d = i / l->tp % dpc, s = i / (l->tp * dpc);
        int32_t pair[2] = {commcost_gpu(l, r, d, s), commcost_gpu(l, r, d, l->pp - 1 - s)};
        rc = coll_plan_build(t, COLL_ALLREDUCE, COLL_ALGO_RING, pair, 2, &params, &each[built], err);
        built += rc == 0;
    }
    if (rc == 0)
        rc = coll_plan_concurrent(t, each, pairs, &g->emb, err);
    g->has_emb = rc == 0;
    for (int i = 0; i < built; i++)
        coll_plan_free(&each[i]);
    free(each);
    return rc ? cs_fail_prefix(err, "embedding all-reduce: ") : 0;
}

/* The plan of every algorithm of op over `ngroups` groups of n GPUs each
 * (gpus holds them one group after the other) that run it at the same
 * time: coll_plan_concurrent over the groups' plans, so that links they
 * share are shared in the price. */
static void build_set(topo *t, coll_op op, const int32_t *gpus, int n, int ngroups,
                      algo_set *set)
{
    coll_algo algos[4];
    coll_params params;
    coll_params_default(&params);
    set->n = coll_algos_for(op, algos);
    coll_plan *each = cs_xrealloc(NULL, sizeof *each * (size_t)ngroups);
    for (int i = 0; i < set->n; i++) {
        cs_err err;
        int built = 0;
        set->built[i] = 1;
        for (int gi = 0; gi < ngroups && set->built[i]; gi++, built++)
            set->built[i] = coll_plan_build(t, op, algos[i], gpus + (size_t)gi * n, n, &params,
                                            &each[gi], &err) == 0;
        if (set->built[i] && ngroups == 1) {
            set->plans[i] = each[0], built = 0;
        } else if (set->built[i]) {
            set->built[i] = coll_plan_concurrent(t, each, ngroups, &set->plans[i], &err) == 0;
            set->solo[i] = each[0];
            set->has_solo[i] = set->built[i];
        }
        if (!set->built[i])
            snprintf(set->why, sizeof set->why, "%.255s", err.msg);
        for (int gi = set->has_solo[i] ? 1 : 0; gi < built; gi++)
            coll_plan_free(&each[gi]);
    }
    free(each);
}

static void free_set(algo_set *set)
{
    for (int i = 0; i < set->n; i++) {
        if (set->built[i])
            coll_plan_free(&set->plans[i]);
        if (set->has_solo[i])
            coll_plan_free(&set->solo[i]);
    }
    set->n = 0;
}

/* The tensor-parallel groups and the data-parallel groups of one stage, and
 * its pipeline send.  All tp data-parallel groups of a stage reduce at the
 * same time, so their plans are priced together; so are the dp tensor-
 * parallel groups where a group spans nodes (inside a node the groups'
 * GPUs, hence their links, are disjoint: group 0 alone is priced). */
static int build_stage_groups(topo *t, const layout_desc *l, int s, stage_groups *g, cs_err *err)
{
    int dpc = layout_dp_cp(l); /* gradients are reduced over dp x cp */
    size_t n = (size_t)l->tp * dpc;
    int32_t *gpus = cs_xrealloc(NULL, sizeof *gpus * n);
    int per_node = topo_node_type(t, 0)->gpus;
    int tp_groups = l->tp > per_node ? dpc : 1;
    for (int d = 0; l->tp > 1 && d < tp_groups; d++)
        for (int r = 0; r < l->tp; r++)
            gpus[d * l->tp + r] = commcost_gpu(l, r, d, s);
    for (int op = 0; l->tp > 1 && op < NOPS; op++)
        build_set(t, group_ops[op], gpus, l->tp, tp_groups, &g->tp[op]);
    int shard = commcost_shard_ranks(l), replicas = dpc / shard;
    for (int r = 0; dpc > 1 && r < l->tp; r++) /* groups of `shard` consecutive dp x cp ranks */
        for (int d = 0; d < dpc; d++)
            gpus[r * dpc + d] = commcost_gpu(l, r, d, s);
    for (int op = 0; shard > 1 && op < NOPS; op++)
        build_set(t, group_ops[op], gpus, shard, l->tp * replicas, &g->dp[op]);
    for (int r = 0; replicas > 1 && r < l->tp; r++) /* HSDP: ranks d, d + shard, ... */
        for (int i = 0; i < shard; i++)
            for (int k = 0; k < replicas; k++)
                gpus[(r * shard + i) * replicas + k] = commcost_gpu(l, r, i + k * shard, s);
    if (replicas > 1)
        build_set(t, COLL_ALLREDUCE, gpus, replicas, l->tp * shard, &g->replica);
    free(gpus);
    if (commcost_cp_build(t, l, s, &g->cp_ring, &g->has_cp_ring, &g->cp_a2a, &g->has_cp_a2a,
                          err) != 0)
        return -1;
    if (s == l->pp - 1)
        return 0;
    int32_t pair[2] = {commcost_gpu(l, 0, 0, s), commcost_gpu(l, 0, 0, s + 1)};
    coll_params params;
    coll_params_default(&params);
    if (coll_plan_build(t, COLL_SENDRECV, COLL_ALGO_DIRECT, pair, 2, &params, &g->p2p, err))
        return cs_fail_prefix(err, "pipeline send from stage %d: ", s);
    g->has_p2p = 1;
    return 0;
}

int commcost_groups_build(topo *t, const layout_desc *l, commcost_groups **out, cs_err *err)
{
    if (layout_gpus(l) > COMMCOST_MAX_GPUS) /* the work grows with the GPUs: bound it */
        return cs_fail(err, "layout: the job has %lld GPUs (tp %d x cp %d x pp %d x dp %d); the "
                            "cost model plans the collectives of at most %ld: fewer GPUs",
                       layout_gpus(l), l->tp, layout_cp_of(l), l->pp, l->dp,
                       (long)COMMCOST_MAX_GPUS);
    commcost_groups *g = cs_xrealloc(NULL, sizeof *g);
    *g = (commcost_groups){l->tp, l->pp, l->dp, layout_cp_of(l), l->cp_comm,
                           topo_node_type(t, 0)->gpus, layout_ep_of(l), layout_etp_of(l),
                           l->ep_a2a_hier, commcost_shard_ranks(l),
                           calloc((size_t)l->pp, sizeof *g->stages), {0}, 0};
    if (!g->stages)
        abort();
    for (int s = 0; s < l->pp; s++)
        if (build_stage_groups(t, l, s, &g->stages[s], err) != 0 ||
            commcost_ep_build(t, l, s, &g->stages[s].ep, err) != 0) {
            commcost_groups_free(g);
            return -1;
        }
    if (l->pp > 1 && build_emb(t, l, g, err) != 0) { /* priced only for tied embeddings */
        commcost_groups_free(g);
        return -1;
    }
    *out = g;
    return 0;
}

void commcost_groups_free(commcost_groups *g)
{
    if (!g)
        return;
    for (int s = 0; s < g->pp; s++) {
        for (int op = 0; op < NOPS; op++) {
            free_set(&g->stages[s].tp[op]);
            free_set(&g->stages[s].dp[op]);
        }
        free_set(&g->stages[s].replica);
        coll_plan_free(&g->stages[s].p2p);
        coll_plan_free(&g->stages[s].cp_ring);
        coll_plan_free(&g->stages[s].cp_a2a);
        commcost_ep_free(&g->stages[s].ep);
    }
    coll_plan_free(&g->emb);
    free(g->stages);
    free(g);
}

int commcost_groups_match(const commcost_groups *g, const layout_desc *l)
{
    return g->tp == l->tp && g->pp == l->pp && g->dp == l->dp &&
           g->shard == commcost_shard_ranks(l) && g->cp == layout_cp_of(l) &&
           (g->cp == 1 || g->cp_comm == l->cp_comm) && g->ep == layout_ep_of(l) &&
           g->etp == layout_etp_of(l) && g->ep_a2a_hier == l->ep_a2a_hier;
}

/* ---- pricing: a measured fit, or the fastest algorithm at each size ---- */

/* The profile's number of a collective op, or -1 (broadcast: not measured). */
static int calib_op_of(coll_op op)
{
    switch (op) {
    case COLL_ALLREDUCE: return CALIB_OP_ALLREDUCE;
    case COLL_ALLGATHER: return CALIB_OP_ALLGATHER;
    case COLL_REDUCESCATTER: return CALIB_OP_REDUCESCATTER;
    case COLL_ALLTOALL: return CALIB_OP_ALLTOALL;
    case COLL_SENDRECV: return CALIB_OP_SENDRECV;
    default: return -1;
    }
}

double commcost_fitted_s(const calib_profile *profile, const coll_plan *plan, uint64_t size_bytes)
{
    int op = calib_op_of(plan->op);
    if (!profile || op < 0 || plan->nranks < 2 || plan->nnodes != 1)
        return -1; /* a one-rank fit (a one-GPU machine) prices nothing */
    const calib_coll_fit *fit = calib_coll_find(profile, op, plan->nranks);
    return fit ? fit->latency_s + (double)size_bytes / fit->algbw_bytes_per_s : -1;
}

double commcost_coll_s(const calib_profile *profile, const coll_plan *plan, uint64_t size_bytes)
{
    double fitted_s = commcost_fitted_s(profile, plan, size_bytes);
    return fitted_s >= 0 ? fitted_s : coll_time_s(plan, size_bytes);
}

/* The index of the algorithm with the smallest time at size for one group
 * alone (the first on ties, as coll_plan_best: NCCL's tuner chooses per
 * size, blind to what other groups run), or -1 with err when none was
 * built; *time_s is that algorithm's time with every concurrent group.
 * Under a fit every algorithm takes the fitted time: the first built is
 * kept. */
static int pick(const algo_set *set, uint64_t size, int n, const calib_profile *profile,
                double *time_s, cs_err *err)
{
    int best = -1;
    double best_s = 0;
    for (int i = 0; i < set->n; i++) {
        if (!set->built[i])
            continue;
        double t = commcost_coll_s(profile, set->has_solo[i] ? &set->solo[i] : &set->plans[i],
                                   size);
        if (best < 0 || t < best_s) {
            best = i;
            best_s = t;
        }
    }
    if (best >= 0)
        *time_s = commcost_coll_s(profile, &set->plans[best], size);
    if (best < 0)
        cs_fail(err, "%s over %d GPUs: %s", coll_op_name(set->n ? set->plans[0].op : COLL_ALLREDUCE),
                n, set->why);
    return best;
}

/* The chosen algorithm of each collective of a stage, for commcost_build. */
typedef struct stage_pick {
    int tp[NOPS], dp_reduce, dp_gather, replica;
} stage_pick;

static int price_tp(const stage_groups *g, const layout_desc *l, uint64_t size,
                    const calib_profile *profile, commcost_stage *st, stage_pick *pk, cs_err *err)
{
    double *times[NOPS] = {&st->tp_allreduce_s, &st->tp_allgather_s, &st->tp_reducescatter_s};
    for (int op = 0; op < NOPS; op++) {
        pk->tp[op] = -1;
        if (l->tp > 1 && (pk->tp[op] = pick(&g->tp[op], size, l->tp, profile, times[op], err)) < 0)
            return -1;
    }
    return 0;
}

/* HSDP: each bucket's reduced shard, all-reduced across the replica groups. */
static int price_replica(const stage_groups *g, const layout_desc *l, const calib_profile *profile,
                         commcost_stage *st, stage_pick *pk, cs_err *err)
{
    int shard = commcost_shard_ranks(l), replicas = l->dp / shard;
    pk->replica = -1;
    if (replicas < 2)
        return 0;
    uint64_t each = st->bucket_bytes / (uint64_t)shard;
    if ((pk->replica = pick(&g->replica, each, replicas, profile, &st->dp_replica_bucket_s,
                            err)) < 0)
        return -1;
    st->dp_replica_last_s = commcost_coll_s(profile, &g->replica.plans[pk->replica],
                                            st->last_bucket_bytes / (uint64_t)shard);
    return 0;
}

/* Gradient buckets: 25 M gradients (one layer's under ZeRO-3), or the
 * whole buffer where the framework reduces after the backward pass. */
static void size_buckets(const model_desc *m, const layout_desc *l, int s, commcost_stage *st)
{
    double grad_bytes = workload_grad_bytes(m, l, s);
    double reduce_bytes = workload_grad_reduce_bytes(m, l, s); /* fp32 under bf16 */
    double layers = layout_stage_layers(l, m, s);
    st->layer_bytes = (uint64_t)ceil(grad_bytes / layers); /* 16-bit parameters: gathers */
    uint64_t bucket = (uint64_t)(COMMCOST_BUCKET_GRADS *
                                 framework_grad_reduce_bytes(l->framework, l->dtype != MODEL_FP16));
    if (l->zero == 3)
        bucket = (uint64_t)ceil(reduce_bytes / layers);
    else if (!framework_of(l->framework)->dp_overlap) /* one all-reduce of the whole buffer */
        bucket = (uint64_t)ceil(reduce_bytes);
    /* a stage of more than COMMCOST_MAX_BUCKETS buckets (2.6e13 gradients
     * at 25 M each: no model that fits any memory) gets larger buckets, so
     * that the count, and the simulation's pieces, stay bounded */
    if (reduce_bytes / (double)bucket > COMMCOST_MAX_BUCKETS)
        bucket = (uint64_t)ceil(reduce_bytes / COMMCOST_MAX_BUCKETS);
    st->buckets = (int)ceil(reduce_bytes / (double)bucket);
    st->bucket_bytes = bucket;
    st->last_bucket_bytes = (uint64_t)(reduce_bytes - (double)bucket * (st->buckets - 1));
}

static int price_dp(const stage_groups *g, const model_desc *m, const layout_desc *l, int s,
                    const calib_profile *profile, commcost_stage *st, stage_pick *pk, cs_err *err)
{
    size_buckets(m, l, s, st);
    pk->dp_reduce = pk->dp_gather = pk->replica = -1;
    int shard = commcost_shard_ranks(l);
    if (layout_dp_cp(l) == 1) /* reduced over dp x cp */
        return 0;
    if (shard > 1) {
        const algo_set *reduce = &g->dp[l->zero ? OP_RS : OP_AR];
        if ((pk->dp_reduce = pick(reduce, st->bucket_bytes, shard, profile, &st->dp_bucket_s,
                                  err)) < 0)
            return -1;
        st->dp_last_bucket_s =
            commcost_coll_s(profile, &reduce->plans[pk->dp_reduce], st->last_bucket_bytes);
    }
    /* zero 1 and 2 gather the updated stage after the step; zero 3 each
     * layer before its forward and backward (stage3.py, FSDP's unshard) */
    uint64_t gather = l->zero == 3 ? st->layer_bytes : (uint64_t)workload_grad_bytes(m, l, s);
    double *gather_s = l->zero == 3 ? &st->layer_gather_s : &st->dp_allgather_s;
    if (l->zero && shard > 1 &&
        (pk->dp_gather = pick(&g->dp[OP_AG], gather, shard, profile, gather_s, err)) < 0)
        return -1;
    if (l->zero == 3 && shard > 1) { /* the plans' latency (commcost_stage) */
        st->dp_reduce_1b_s = commcost_coll_s(profile, &g->dp[OP_RS].plans[pk->dp_reduce], 1);
        st->layer_gather_1b_s = commcost_coll_s(profile, &g->dp[OP_AG].plans[pk->dp_gather], 1);
    }
    return price_replica(g, l, profile, st, pk, err);
}

/* Context parallelism's exchanges priced on the stage's plans (NULL: none):
 * ring steps and all-to-alls, an in-node group at the profile's fit. */
static void price_cp(const coll_plan *ring, const coll_plan *a2a, const cpcomm_volume *v,
                     const calib_profile *profile, commcost_stage *st)
{
    memset(&st->cp, 0, sizeof st->cp);
    if (ring) {
        st->cp.ring_kv_s = commcost_coll_s(profile, ring, (uint64_t)v->kv_block_bytes);
        st->cp.ring_kv2_s = commcost_coll_s(profile, ring, (uint64_t)(2 * v->kv_block_bytes));
    }
    if (a2a) {
        st->cp.a2a_qkv_s = commcost_coll_s(profile, a2a, (uint64_t)v->a2a_qkv_bytes);
        st->cp.a2a_out_s = commcost_coll_s(profile, a2a, (uint64_t)v->a2a_out_bytes);
    }
}

/* Moves a built plan into dst (trainsim runs it); leaves it unbuilt. */
static void take_cp(coll_plan *plan, int *has, coll_plan *dst)
{
    if (!*has)
        return;
    *dst = *plan;
    memset(plan, 0, sizeof *plan);
    *has = 0;
}

static int price(const commcost_groups *g, const model_desc *m, const layout_desc *l,
                 const calib_profile *profile, commcost *out, stage_pick *picks, cs_err *err)
{
    workload_info info;
    workload_info_of(m, l, &info);
    memset(&out->emb, 0, sizeof out->emb);
    out->emb_bytes = 0;
    out->emb_s = 0;
    out->pp = l->pp;
    out->tp_size_bytes = (uint64_t)info.tp_size_bytes;
    out->p2p_bytes = (uint64_t)info.p2p_bytes;
    cpcomm_volume_of(m, l, g->gpus_per_node, &out->cp_volume);
    out->stages = calloc((size_t)l->pp, sizeof *out->stages);
    if (!out->stages)
        abort();
    for (int s = 0; s < l->pp; s++) {
        const stage_groups *sg = &g->stages[s];
        commcost_stage *st = &out->stages[s];
        if (price_tp(sg, l, out->tp_size_bytes, profile, st, &picks[s], err) != 0 ||
            price_dp(sg, m, l, s, profile, st, &picks[s], err) != 0) {
            commcost_free(out);
            return -1;
        }
        if (sg->has_p2p)
            st->p2p_s = coll_time_s(&sg->p2p, out->p2p_bytes);
        price_cp(sg->has_cp_ring ? &sg->cp_ring : NULL,
                          sg->has_cp_a2a ? &sg->cp_a2a : NULL, &out->cp_volume, profile, st);
        st->ep_a2a_s = commcost_ep_a2a_s(&sg->ep, l, (uint64_t)info.ep_a2a_bytes);
    }
    /* none where one rank holds both ends (the V-shapes and DualPipe put the
     * first and the last stage on rank 0) */
    int ends_apart = schedule_vstage_rank(l, 0) != schedule_vstage_rank(l, schedule_vstages(l) - 1);
    out->emb_bytes = g->has_emb && m->tied_embeddings && ends_apart
                         ? (uint64_t)((double)m->vocab * m->hidden / l->tp *
                                      /* main_grad: fp32 under bf16 (training.py at
                                         55ba1f7 all-reduces word_embeddings_weight.main_grad) */
                                      framework_grad_reduce_bytes(l->framework,
                                                                  l->dtype != MODEL_FP16))
                         : 0;
    out->emb_pairs = 1;
    if (l->schedule == LAYOUT_SCHEDULE_DUALPIPE && g->has_emb) {
        out->emb_pairs = l->pp / 2;
        out->emb_bytes = (uint64_t)(workload_grad_bytes(m, l, 0) / (l->zero ? l->dp : 1));
    }
    out->emb_s = out->emb_bytes ? coll_time_s(&g->emb, out->emb_bytes) : 0;
    return 0;
}

int commcost_times(const commcost_groups *g, const model_desc *m, const layout_desc *l,
                   const calib_profile *profile, commcost *out, cs_err *err)
{
    stage_pick *picks = cs_xrealloc(NULL, sizeof *picks * (size_t)l->pp);
    int rc = price(g, m, l, profile, out, picks, err);
    free(picks);
    return rc;
}

/* Moves the chosen plans out of the groups into the stages (trainsim runs them). */
static void take_plans(commcost_groups *g, const layout_desc *l, const stage_pick *picks,
                       commcost *out)
{
    for (int s = 0; s < l->pp; s++) {
        stage_groups *sg = &g->stages[s];
        commcost_stage *st = &out->stages[s];
        coll_plan *tp_dst[NOPS] = {&st->tp_allreduce, &st->tp_allgather, &st->tp_reducescatter};
        struct { algo_set *set; int i; coll_plan *dst; } moves[NOPS + 3] = {
            {&sg->tp[OP_AR], picks[s].tp[OP_AR], tp_dst[OP_AR]},
            {&sg->tp[OP_AG], picks[s].tp[OP_AG], tp_dst[OP_AG]},
            {&sg->tp[OP_RS], picks[s].tp[OP_RS], tp_dst[OP_RS]},
            {&sg->dp[l->zero ? OP_RS : OP_AR], picks[s].dp_reduce, &st->dp_reduce},
            {&sg->dp[OP_AG], picks[s].dp_gather, &st->dp_allgather},
            {&sg->replica, picks[s].replica, &st->dp_replica}};
        for (int k = 0; k < NOPS + 3; k++)
            if (moves[k].i >= 0) {
                *moves[k].dst = moves[k].set->plans[moves[k].i];
                moves[k].set->built[moves[k].i] = 0; /* owned by out now */
            }
        if (sg->has_p2p) {
            st->p2p = sg->p2p;
            sg->has_p2p = 0;
            memset(&sg->p2p, 0, sizeof sg->p2p);
        }
        take_cp(&sg->cp_ring, &sg->has_cp_ring, &st->cp_ring);
        take_cp(&sg->cp_a2a, &sg->has_cp_a2a, &st->cp_a2a);
    }
}

int commcost_build(topo *t, const model_desc *m, const layout_desc *l,
                   const calib_profile *profile, commcost *out, cs_err *err)
{
    commcost_groups *g;
    if (commcost_groups_build(t, l, &g, err) != 0)
        return -1;
    stage_pick *picks = cs_xrealloc(NULL, sizeof *picks * (size_t)l->pp);
    int rc = price(g, m, l, profile, out, picks, err);
    if (rc == 0) {
        take_plans(g, l, picks, out);
        out->emb = g->emb; /* owned by out now */
        memset(&g->emb, 0, sizeof g->emb);
    }
    free(picks);
    commcost_groups_free(g);
    return rc;
}

void commcost_free(commcost *c)
{
    for (int s = 0; c->stages && s < c->pp; s++) {
        commcost_stage *st = &c->stages[s];
        coll_plan *plans[] = {&st->tp_allreduce, &st->tp_allgather, &st->tp_reducescatter,
                              &st->dp_reduce,    &st->dp_allgather, &st->p2p,
                              &st->dp_replica,   &st->cp_ring,      &st->cp_a2a};
        for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++)
            coll_plan_free(plans[i]);
    }
    coll_plan_free(&c->emb);
    free(c->stages);
    c->stages = NULL;
}

double commcost_tp_bwd_delta_s(const commcost_stage *st, const layout_desc *l,
                               const workload_chunk *c)
{
    if (schedule_splits_backward(l)) /* W runs apart: no weight-gradient GEMM to hide under */
        return 0;
    return workload_tp_bwd_exposed_s(c, l->sp ? st->tp_reducescatter_s : st->tp_allreduce_s);
}

double commcost_tp_s(const commcost_stage *st, int allreduce, int allgather, int reducescatter)
{
    return allreduce * st->tp_allreduce_s + allgather * st->tp_allgather_s +
           reducescatter * st->tp_reducescatter_s;
}
