/* sharding: ZeRO stages, FSDP and HSDP; the formulas and their sources are
 * in sharding.h. */
#include "sharding.h"

#include <stdio.h>

int sharding_group(const layout_desc *l)
{
    if (!l->zero)
        return 1;
    return l->shard_group > 0 ? l->shard_group : layout_dp_cp(l); /* dp x cp hold the same weights */
}

int sharding_replicas(const layout_desc *l)
{
    return l->zero && l->shard_group > 0 ? layout_dp_cp(l) / l->shard_group : 1;
}

sharding_state sharding_state_bytes(const layout_desc *l, double params, double weight_bytes,
                                    double grad_bytes, double optimizer_bytes)
{
    double nd = sharding_group(l);
    sharding_state s;
    s.optimizer_bytes = params * optimizer_bytes / (l->zero >= 1 ? nd : 1);
    s.grads_bytes = params * grad_bytes / (l->zero >= 2 ? nd : 1);
    s.weights_bytes = params * weight_bytes / (l->zero >= 3 ? nd : 1);
    return s;
}

double sharding_gathered_bytes(const layout_desc *l, double unit_params, double stage_params,
                               double weight_bytes, double grad_bytes)
{
    if (l->zero < 3)
        return 0;
    double nd = sharding_group(l);
    double unsharded_grad = unit_params * grad_bytes; /* one unit until its reduce-scatter */
    if (l->no_reshard) /* every gathered weight stays from forward to backward */
        return stage_params * weight_bytes * (1 - 1 / nd) + unsharded_grad;
    /* the unit computing and `prefetch` ahead, less the shard each already counts */
    return (1.0 + l->prefetch) * unit_params * weight_bytes * (1 - 1 / nd) + unsharded_grad;
}
