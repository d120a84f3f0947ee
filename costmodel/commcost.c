/* commcost: rank mapping and the collectives of a layout (see commcost.h). */
#include "commcost.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "workload.h"

int commcost_gpu(const layout_desc *l, int tp_rank, int dp_rank, int pp_rank)
{
    return tp_rank + l->tp * (dp_rank + l->dp * pp_rank);
}

static int plan_over(topo *t, coll_op op, const int32_t *gpus, int n, uint64_t size,
                     coll_plan *plan, double *time_s, cs_err *err)
{
    coll_params params;
    coll_params_default(&params);
    if (coll_plan_best(t, op, gpus, n, &params, size, plan, err) != 0)
        return cs_fail_prefix(err, "%s over %d GPUs", coll_op_name(op), n);
    if (time_s)
        *time_s = coll_time_s(plan, size);
    return 0;
}

static int build_tp(topo *t, const layout_desc *l, int stage, uint64_t size, commcost_stage *st,
                    cs_err *err)
{
    if (l->tp == 1)
        return 0;
    int32_t *gpus = cs_xrealloc(NULL, sizeof *gpus * (size_t)l->tp);
    for (int r = 0; r < l->tp; r++)
        gpus[r] = commcost_gpu(l, r, 0, stage);
    int rc = plan_over(t, COLL_ALLREDUCE, gpus, l->tp, size, &st->tp_allreduce,
                       &st->tp_allreduce_s, err);
    if (rc == 0)
        rc = plan_over(t, COLL_ALLGATHER, gpus, l->tp, size, &st->tp_allgather,
                       &st->tp_allgather_s, err);
    if (rc == 0)
        rc = plan_over(t, COLL_REDUCESCATTER, gpus, l->tp, size, &st->tp_reducescatter,
                       &st->tp_reducescatter_s, err);
    free(gpus);
    return rc;
}

static int build_dp(topo *t, const model_desc *m, const layout_desc *l, int stage,
                    commcost_stage *st, cs_err *err)
{
    double grad_bytes = workload_grad_bytes(m, l, stage);
    uint64_t bucket = (uint64_t)(COMMCOST_BUCKET_GRADS * 2);
    st->buckets = (int)ceil(grad_bytes / (double)bucket);
    st->bucket_bytes = bucket;
    st->last_bucket_bytes = (uint64_t)(grad_bytes - (double)bucket * (st->buckets - 1));
    if (l->dp == 1)
        return 0;
    int32_t *gpus = cs_xrealloc(NULL, sizeof *gpus * (size_t)l->dp);
    for (int r = 0; r < l->dp; r++)
        gpus[r] = commcost_gpu(l, 0, r, stage);
    coll_op reduce = l->zero ? COLL_REDUCESCATTER : COLL_ALLREDUCE;
    int rc = plan_over(t, reduce, gpus, l->dp, bucket, &st->dp_reduce, &st->dp_bucket_s, err);
    if (rc == 0)
        st->dp_last_bucket_s = coll_time_s(&st->dp_reduce, st->last_bucket_bytes);
    if (rc == 0 && l->zero)
        rc = plan_over(t, COLL_ALLGATHER, gpus, l->dp, (uint64_t)grad_bytes, &st->dp_allgather,
                       &st->dp_allgather_s, err);
    free(gpus);
    return rc;
}

static int build_p2p(topo *t, const layout_desc *l, int stage, uint64_t bytes,
                     commcost_stage *st, cs_err *err)
{
    if (stage == l->pp - 1)
        return 0;
    int32_t pair[2] = {commcost_gpu(l, 0, 0, stage), commcost_gpu(l, 0, 0, stage + 1)};
    coll_params params;
    coll_params_default(&params);
    if (coll_plan_build(t, COLL_SENDRECV, COLL_ALGO_DIRECT, pair, 2, &params, &st->p2p, err))
        return cs_fail_prefix(err, "pipeline send from stage %d", stage);
    st->p2p_s = coll_time_s(&st->p2p, bytes);
    return 0;
}

int commcost_build(topo *t, const model_desc *m, const layout_desc *l, commcost *out,
                   cs_err *err)
{
    workload_info info;
    workload_info_of(m, l, &info);
    out->pp = l->pp;
    out->tp_size_bytes = (uint64_t)info.tp_size_bytes;
    out->p2p_bytes = (uint64_t)info.p2p_bytes;
    out->stages = calloc((size_t)l->pp, sizeof *out->stages);
    if (!out->stages)
        abort();
    for (int s = 0; s < l->pp; s++) {
        commcost_stage *st = &out->stages[s];
        if (build_tp(t, l, s, out->tp_size_bytes, st, err) != 0 ||
            build_dp(t, m, l, s, st, err) != 0 ||
            build_p2p(t, l, s, out->p2p_bytes, st, err) != 0) {
            commcost_free(out);
            return -1;
        }
    }
    return 0;
}

void commcost_free(commcost *c)
{
    for (int s = 0; c->stages && s < c->pp; s++) {
        commcost_stage *st = &c->stages[s];
        coll_plan *plans[] = {&st->tp_allreduce, &st->tp_allgather, &st->tp_reducescatter,
                              &st->dp_reduce,    &st->dp_allgather, &st->p2p};
        for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++)
            coll_plan_free(plans[i]);
    }
    free(c->stages);
    c->stages = NULL;
}

double commcost_tp_s(const commcost_stage *st, int allreduce, int allgather, int reducescatter)
{
    return allreduce * st->tp_allreduce_s + allgather * st->tp_allgather_s +
           reducescatter * st->tp_reducescatter_s;
}
