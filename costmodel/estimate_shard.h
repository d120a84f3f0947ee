/* estimate_shard: the closed form of the sharded data-parallel traffic
 * (ZeRO-2, ZeRO-3 / FSDP, HSDP; costmodel/sharding.h), what it hides under
 * compute and what it exposes.
 *
 * ZeRO-2 (DeepSpeed stage_1_and_2.py, reduce_ready_partitions_and_remove_grads:
 * with partition_gradients every micro-step's buckets are reduce-scattered,
 * not only at the accumulation boundary as under ZeRO-1): the buckets'
 * reduction runs m times an iteration, each overlapping the compute that
 * follows it.  The parameter all-gather after the step is ZeRO-1's.
 *
 * ZeRO-3 (DeepSpeed stage3.py; PyTorch FSDP, torch/distributed/fsdp/
 * _runtime_utils.py: _pre_forward_unshard, _pre_backward_hook's unshard,
 * _post_backward_hook's reduce-scatter): per microbatch and layer an
 * all-gather of its parameters before the forward and again before the
 * backward (none with no_reshard), and a reduce-scatter of its gradients
 * after it, on one communication stream beside the compute.  With
 * prefetch >= 1 the gather of layer j is issued while layer j - 1 computes,
 * so a unit of L layers with per-layer compute c and gather g exposes the
 * first gather and (L - 1) max(0, g - c); in the backward the stream
 * carries the gather and the reduce-scatter (and under HSDP the shard's
 * all-reduce), so c competes with g + r.  With prefetch 0 every gather is
 * exposed.  The last layer's reduction is exposed after the last backward.
 *
 * HSDP: the reduce-scatters and all-gathers span the shard group; each
 * reduced shard is all-reduced across the replica groups after it. */
#ifndef CS_ESTIMATE_SHARD_H
#define CS_ESTIMATE_SHARD_H

#include "commcost.h"
#include "schedule.h"
#include "layout.h"
#include "model.h"

/* One microbatch through `layers` layers of a stage: fwd_s and bwd_s the
 * compute of its forward and backward (recomputation included).  Sets the
 * ZeRO-3 communication it exposes and the part hidden under compute
 * (both 0 below zero 3). */
void estimate_shard_unit(const layout_desc *l, const commcost_stage *st, int layers,
                         double fwd_s, double bwd_s, double *exposed_s, double *hidden_s);

/* The same for --offload-engine deepspeed-2021: one microbatch through the
 * module trace of DeepSpeed v0.3.13's coordinator (zero3_coord.h), its
 * gathers and reductions priced on the line through the stage's plans'
 * times at one byte and at a layer (commcost_stage),
 * rec_s the recomputation's compute; the mean over the iteration's
 * microbatches (the first after the step finds the persistent parameters
 * gathered).  The trace holds every reduction, the last included.  0, or
 * -1 with err. */
int estimate_shard_coord(const model_desc *m, const layout_desc *l, const commcost_stage *st,
                         int layers, double fwd_s,
                         double rec_s, double bwd_s, double *exposed_s, double *hidden_s,
                         cs_err *err);

/* One microbatch's (or, without ZeRO-2/3, the iteration's) gradient
 * reduction of the stage: all its buckets (*all_s) and the last of them
 * (*last_s), data-parallel and replica groups together. */
void estimate_shard_reduce_parts(const commcost_stage *st, double *all_s, double *last_s);

/* ZeRO-2 under a schedule that splits the backward: each microbatch's
 * buckets follow its W, and W units gather at the end of the order (the
 * zero-bubble schedules fill the bubble with them), so a window in one
 * microbatch's backward does not describe them.  The reductions of one rank
 * queue on its network in the order of its W units (unit_start_s,
 * unit_end_s of the n units of `order`, as schedule_replay_units gives
 * them): all but the last bucket may run during their W, the last after it.
 * Returns what runs past the rank's last unit (end_s); `chunks`: model
 * chunks on the rank, each W carrying one chunk's buckets. */
double estimate_shard_w_queue_s(const commcost_stage *st, const schedule_unit *order, int n,
                                int chunks, const double *unit_start_s,
                                const double *unit_end_s, double end_s);

/* The gradient reduction exposed after a stage's last backward: `window`
 * the backward time the last microbatch's reduction may hide under and
 * `between_s` one microbatch's whole time on the stage (earlier
 * microbatches' reductions, under ZeRO-2 and 3, hide under the later
 * microbatches).  overlap: whether the framework overlaps the reduction at
 * all.  Sets the hidden part too. */
double estimate_shard_reduce_exposed_s(const layout_desc *l, const commcost_stage *st,
                                       int overlap, double window_s, double between_s,
                                       double *hidden_s);

#endif
