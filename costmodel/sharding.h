/* sharding: how the data-parallel group shares the model state (ZeRO stages
 * 0 to 3, FSDP, HSDP), the bytes per rank that leaves, and the rules a
 * sharded layout must keep.
 *
 * Stages (Rajbhandari et al. 2020, ZeRO, arXiv 1910.02054, sec. 5 and
 * Figure 1; Psi parameters, K optimizer bytes per parameter, Nd the ranks a
 * shard is spread over):
 *   0  nothing sharded                      (2 + 2 + K) Psi
 *   1  optimizer state (Megatron's distributed optimizer; DeepSpeed
 *      stage_1_and_2.py with partition_gradients off)  4 Psi + K Psi / Nd
 *   2  and gradients (stage_1_and_2.py, partition_gradients on: each
 *      bucket is reduce-scattered as the backward fills it, and a rank
 *      keeps only its partition)           2 Psi + (2 + K) Psi / Nd
 *   3  and parameters (DeepSpeed stage3.py; PyTorch FSDP FULL_SHARD)
 *                                           (2 + 2 + K) Psi / Nd
 * HSDP (PyTorch FSDP's HYBRID_SHARD, torch/distributed/fsdp/api.py
 * ShardingStrategy; DeepSpeed's MiCS / ZeRO++ hpZ): shards are spread over
 * a shard group of consecutive data-parallel ranks and replicated across
 * the dp / shard_group such groups; Nd is then the shard-group size.
 *
 * ZeRO-3 also holds the parameters it has gathered: the layer computing and
 * the `prefetch` layers gathered ahead of it (FSDP's forward_prefetch /
 * backward_prefetch BACKWARD_PRE issue the next unit's all-gather while the
 * current unit computes, torch/distributed/fsdp/_runtime_utils.py; FSDP's
 * default limit_all_gathers keeps at most two units in flight, i.e. one
 * ahead), in 16-bit, and while a layer's gradients are reduce-scattered its
 * unsharded gradient (FSDP frees it after the reduce-scatter,
 * _post_backward_hook).  Without resharding after forward (FSDP
 * SHARD_GRAD_OP, reshard_after_forward=False) the gathered parameters stay
 * from the forward to the backward: the whole stage's weights are held.
 *
 * The rules a sharded layout keeps are layout_validate's (layout.h). */
#ifndef CS_SHARDING_H
#define CS_SHARDING_H

#include "cs_error.h"
#include "layout.h"

#define SHARDING_MAX_STAGE LAYOUT_MAX_ZERO
#define SHARDING_MAX_PREFETCH LAYOUT_MAX_PREFETCH
#define SHARDING_FSDP_PREFETCH LAYOUT_FSDP_PREFETCH

/* The ranks one shard is spread over (Nd): the shard group under HSDP, else
 * dp; 1 when nothing is sharded (zero 0). */
int sharding_group(const layout_desc *l);

/* Replicas of each shard: dp / sharding_group (1 without HSDP). */
int sharding_replicas(const layout_desc *l);

/* The three model-state terms per rank for `params` parameters with
 * `weight_bytes` per weight (2, or 1 for fp8 weights), 2 per gradient and
 * `optimizer_bytes` per parameter (K), under the layout's stage and Nd. */
typedef struct sharding_state {
    double weights_bytes, grads_bytes, optimizer_bytes;
} sharding_state;
sharding_state sharding_state_bytes(const layout_desc *l, double params, double weight_bytes,
                                    double grad_bytes, double optimizer_bytes);

/* ZeRO-3's gathered working set on a rank: (1 + prefetch) units of
 * `unit_params` gathered weights plus one unit's unsharded gradients, or
 * with no_reshard the stage's `stage_params` weights (minus the shard the
 * rank holds anyway) plus one unit's gradients.  0 below stage 3. */
double sharding_gathered_bytes(const layout_desc *l, double unit_params, double stage_params,
                               double weight_bytes, double grad_bytes);

#endif
