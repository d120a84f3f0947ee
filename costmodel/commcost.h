/* commcost: where every rank of a layout runs, and the collectives its
 * communication needs, priced on the topology.
 *
 * Rank-to-GPU mapping (Megatron-Core's default order "tp-cp-ep-dp-pp",
 * tensor parallel innermost, then context parallel, pipeline outermost):
 *     gpu = tp_rank + tp * (cp_rank + cp * (dp_rank + dp * pp_rank))
 * The cp x dp ranks of a stage with one tensor rank hold the same weights;
 * below, "data-parallel group" and a dp_rank argument mean those dp x cp
 * ranks, index j = cp_rank + cp dp_rank (Megatron-Core's data-parallel
 * group with context parallel: gradients are reduced over it).  With cp 1
 * this is Megatron-LM's tp_rank + tp * (dp_rank + dp * pp_rank).
 * GPUs are numbered node by node, so a tensor-parallel group of tp <= GPUs
 * per node (tp dividing it) lies inside one node, the data-parallel group of
 * a stage spans the nodes of that stage, and consecutive pipeline stages are
 * tp x dp GPUs apart.
 *
 * For each pipeline stage, with the plans of commcost_build:
 *   tensor parallel  all-reduce, all-gather and reduce-scatter over the
 *                    stage's tensor-parallel group of replica 0, each at the
 *                    algorithm fastest for the layer's activation size;
 *   pipeline         a point-to-point transfer of the activation (1/tp of
 *                    it per GPU: Megatron's scatter-gather) to the next
 *                    stage's GPU with the same tensor rank;
 *   embedding        with tied embeddings and pp > 1, the all-reduce of the
 *                    table's gradient between first and last stage (below);
 *   data parallel    the gradient buckets' all-reduce, or with zero 1 their
 *                    reduce-scatter and, after the optimizer step, the
 *                    parameters' all-gather, over the stage's data-parallel
 *                    group of tensor rank 0.  Buckets hold 25 M gradients
 *                    (as memory.h counts them).  Zero 2 and 3, HSDP: below.
 *
 * A fitted device profile (calib.h) prices the tensor- and data-parallel
 * collectives of a group that lies within one node, where it holds a fit of
 * the op over exactly the group's rank count: latency_s + size / algbw, in
 * nccl-tests' size convention as coll_time_s takes it (commcost_fitted_s,
 * the one place).  Measured NCCL on the node beats the topology model there;
 * groups across nodes, rank counts not measured, and pipeline transfers
 * (point-to-point, not a collective) keep the topology model. */
#ifndef CS_COMMCOST_H
#define CS_COMMCOST_H

#include <stdint.h>

#include "collective.h"
#include "cpcomm.h"
#include "layout.h"
#include "model.h"
#include "topo.h"
#include "workload.h"

/* At most this many GPUs in a job whose collectives are planned: every
 * data-parallel group is routed and shares the network with the others,
 * in proportion to the GPUs.  65,536 GPUs, the largest job the project
 * simulates every rank of and the collective faces take
 * (COLL_FACE_MAX_RANKS).  In the default (debugoptimized) build on a shared
 * 2-core machine, llama2-7b at tp 1 on 65,536 GPUs took 7 s, on 131,072
 * 22 to 38 s, on 1,048,576 (dgx2-v100, 65,536 nodes) over a minute; a
 * larger bound needs the groups planned once per shape, not per group.
 * The fuzzing build sets a lower bound (meson.build). */
#ifndef COMMCOST_MAX_GPUS
#define COMMCOST_MAX_GPUS (1L << 16)
#endif

#define COMMCOST_BUCKET_GRADS 25e6
/* At most this many buckets per stage (larger buckets beyond: commcost.c). */
#define COMMCOST_MAX_BUCKETS (1 << 20)

struct calib_profile;

typedef struct commcost_stage {
    coll_plan tp_allreduce, tp_allgather, tp_reducescatter; /* nphases 0 when tp == 1 */
    coll_plan dp_reduce;   /* all-reduce, or reduce-scatter with zero 1; none when dp == 1 */
    coll_plan dp_allgather;/* zero 1 only */
    coll_plan p2p;         /* to the next stage (sendrecv of two ranks); none on the last */
    double tp_allreduce_s, tp_allgather_s, tp_reducescatter_s; /* one collective */
    double p2p_s;          /* one activation to the next stage */
    int buckets;           /* data-parallel gradient buckets of the stage */
    uint64_t bucket_bytes; /* each (the last may be smaller: sizes add up) */
    uint64_t last_bucket_bytes;
    double dp_bucket_s, dp_last_bucket_s; /* reduce of one (the last) bucket */
    double dp_allgather_s; /* parameters after the step (zero 1), whole stage */
    /* sharding (costmodel/sharding.h).  With a zero stage the reduce-scatter
     * and all-gather run over the shard group (dp, or the HSDP group); under
     * HSDP each reduced shard is then all-reduced across the dp / group
     * replica groups (FSDP HYBRID_SHARD's _post_backward_hook).  ZeRO-3
     * reduces and gathers one layer at a time: its buckets are the stage's
     * layers (bucket_bytes = layer_bytes). */
    coll_plan dp_replica;        /* HSDP: the shards' all-reduce; none otherwise */
    double dp_replica_bucket_s, dp_replica_last_s; /* of one (the last) bucket's shard */
    uint64_t layer_bytes;        /* 16-bit parameters of one layer of the stage per GPU */
    double layer_gather_s;       /* ZeRO-3: all-gather of one layer's parameters */
    /* ZeRO-3: the chosen gather's and reduce-scatter's plans at one byte;
     * with layer_gather_s and dp_bucket_s, two points of each plan's time,
     * a line between them prices a collective of any size (the closed form
     * of zero3_coord.h's per-parameter gathers) */
    double layer_gather_1b_s, dp_reduce_1b_s;
    /* context parallelism (cpcomm.h, commcost_cp.h): every cp group of the
     * stage at once, a ring step and the all-to-all; none when cp is 1 */
    coll_plan cp_ring, cp_a2a;
    cpcomm_prices cp;
    /* Expert parallelism (commcost_ep.h): one dispatch or combine all-to-all
     * of a microbatch's token slots, balanced routing; 0 without ep > 1 */
    double ep_a2a_s;
} commcost_stage;

typedef struct commcost {
    int pp;
    commcost_stage *stages;
    uint64_t tp_size_bytes, p2p_bytes;
    /* Tied embeddings over pp > 1: the first stage's input table and the last
     * stage's output copy are one parameter, so after the data-parallel
     * reduction each pair (tensor rank r, replica d of stage 0 and of stage
     * pp - 1) all-reduces that table's 16-bit gradient before the optimizer
     * step (Megatron-LM training.py 2021 on, Megatron-Core
     * finalize_model_grads); every pair at once (coll_plan_concurrent).
     * emb_bytes 0: none. */
    coll_plan emb;
    uint64_t emb_bytes;
    double emb_s;
    /* Mirrored stage pairs (r, pp - 1 - r), r < emb_pairs, that all-reduce
     * emb_bytes as above: 1 for the tied embedding; pp / 2 under dualpipe,
     * where rank r and rank pp - 1 - r hold the same two stages (one per
     * direction) and sum their copies' whole gradient before the step
     * (deepseek-ai/DualPipe examples/example_dualpipe.py adds the partner's
     * gradient of the same stage; with zero 1, each rank's 1/dp shard). */
    int emb_pairs;
    cpcomm_volume cp_volume; /* context parallelism's sizes per layer (cpcomm.h) */
} commcost;

/* Data-parallel ranks of the group a reduce-scatter or all-gather spans:
 * the HSDP shard group under a zero stage, else dp. */
int commcost_shard_ranks(const layout_desc *l);

/* The GPU of a rank (see the mapping above; dp_rank is the index j over
 * dp x cp). */
int commcost_gpu(const layout_desc *l, int tp_rank, int dp_rank, int pp_rank);

/* Plans and closed-form times for every stage.  The layout must be valid for
 * the topology's GPU count. */
int commcost_build(topo *t, const model_desc *m, const layout_desc *l,
                   const struct calib_profile *profile, commcost *out, cs_err *err);
void commcost_free(commcost *c);

/* The plans of every algorithm over every group of one mapping (tp, pp and
 * dp of a layout): what commcost_build prices.  Building them routes flows
 * on the topology (slow); pricing them at a layout's sizes is arithmetic,
 * so a search builds them once per (tp, pp, dp) and prices many layouts. */
typedef struct commcost_groups commcost_groups;
int commcost_groups_build(topo *t, const layout_desc *l, commcost_groups **out, cs_err *err);
void commcost_groups_free(commcost_groups *g);
/* Whether the groups were built for l's tp, pp, dp and cp (and cp_comm). */
int commcost_groups_match(const commcost_groups *g, const layout_desc *l);

/* The closed-form times of commcost_build from prebuilt groups (the same
 * algorithm choice, the same figures); out holds no plans.  Free with
 * commcost_free. */
int commcost_times(const commcost_groups *g, const model_desc *m, const layout_desc *l,
                   const struct calib_profile *profile, commcost *out, cs_err *err);

/* Seconds of a collective of size_bytes run as plan, from the profile's
 * fit (see above), or -1 when none applies (no profile, a group across
 * nodes or of one rank, a rank count or op the profile did not measure). */
double commcost_fitted_s(const struct calib_profile *profile, const coll_plan *plan,
                         uint64_t size_bytes);

/* The fitted time where one applies, else the plan's closed form. */
double commcost_coll_s(const struct calib_profile *profile, const coll_plan *plan,
                       uint64_t size_bytes);

/* The change to a chunk's backward tensor-parallel seconds (<= 0) when the
 * framework runs the column-parallel layers' backward all-reduce (reduce-
 * scatter under sp) under their weight-gradient GEMMs. */
double commcost_tp_bwd_delta_s(const commcost_stage *st, const layout_desc *l,
                               const workload_chunk *c);

/* Seconds of the tensor-parallel collectives of one pass. */
double commcost_tp_s(const commcost_stage *st, int allreduce, int allgather, int reducescatter);

#endif
