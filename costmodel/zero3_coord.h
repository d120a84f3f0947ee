/* zero3_coord: DeepSpeed v0.3.12/13's ZeRO-3 parameter coordinator
 * (stage3.py's PartitionedParameterCoordinator, tag v0.3.13, 12a53b43; the
 * code of the ZeRO-3 Offload release of 2021-03-08), emulated over one
 * microbatch's module trace of a Megatron-LM GPT stack: which parameters
 * each module's hooks gather, where the host waits for every stream, and
 * which gradients each backward module's hooks send to be reduced.  The
 * engine `--offload-engine deepspeed-2021` prices that trace; this module
 * owns the trace and its closed-form timing, the simulation
 * (sim/trainsim_coord.c) lowers the same trace to tasks.
 *
 * What the code does (file:line at v0.3.13; S = runtime/zero/stage3.py,
 * PP = runtime/zero/partition_parameters.py, K = runtime/zero/constants.py):
 * - every module's pre-forward and pre-backward hook fetches the module's
 *   own parameters (recurse=False) and the external ones registered on it
 *   (Megatron's biases added outside their layer, the embedding on the
 *   model): those not available are all-gathered,
 *   and if any was not available or in flight, the host then waits for
 *   every handle, the communication stream and the device
 *   (_synchronize_communication, S:402-406, S:486-491:
 *   torch.cuda.synchronize()).  A module whose parameters are all available
 *   (or that has none) does not wait;
 * - then, only if no gather is in flight and fewer than
 *   stage3_max_live_parameters are available, it prefetches: the next
 *   parameters along the recorded trace that are not available, up to
 *   stage3_prefetch_bucket_size elements, the one crossing it included
 *   (S:188-220, S:312-334);
 * - every gather starts with torch.cuda.synchronize() (PP:611), so of a
 *   prefetch of several parameters all but the last complete before the
 *   module's kernels are launched; the last overlaps them;
 * - the post hook releases a parameter unless it is persistent (fewer than
 *   stage3_param_persistence_threshold elements) or the module's next use
 *   along the trace is nearer than stage3_max_reuse_distance elements of
 *   the modules in between (S:222-271, S:432-433, S:464-470); the end of
 *   the backward releases everything, persistent parameters too
 *   (S:2553-2557), and the optimizer step gathers the persistent ones
 *   again (_post_step, S:2339-2344), so the first microbatch after a step
 *   finds them available and later ones do not;
 * - gradients (S:1431-1468): a gradient that would overflow the
 *   reduce_bucket_size bucket first sends the bucket; one larger than the
 *   bucket is only marked and goes with the next overflow, at the next
 *   gradient's hook; the epilogue sends what is left.  A reduction is
 *   issued at the hook, as the kernels writing the gradient are launched,
 *   and nothing makes the reduction stream wait for them (S:1689-1720: no
 *   wait_stream), so it may overlap the step's own compute (a what-if
 *   with each step's reductions after its compute: validate/offload.md,
 *   tenth session).  A bias a layer returns for an add outside it is not
 *   wrapped by the hooks (S:117), so its hook runs with the add's
 *   backward, before the next module's pre-backward hook.  Gathers and
 *   reductions share the data-parallel process group, one NCCL stream;
 *   contiguous_gradients as every published config of the time sets it
 *   (reduce-scatter; the code's default would all-reduce).
 * The forward checkpoints every block (Megatron's --checkpoint-activations
 * through deepspeed.checkpointing): a block's recomputation runs its
 * forward hooks again just before its backward.
 *
 * The model (the root module) holds the word table: fetched at the
 * forward's start, kept to the end (its post-forward hook follows the
 * logits, next to its pre-backward); the position table is its own
 * module's, fetched at the forward's start and the backward's end.
 * Containers keep the external parameters they fetched while their
 * children run (ds_active_sub_modules).  The live count: the step's
 * gather of the persistent parameters goes around it, so from the second
 * step they are not counted; the code's count then drifts lower by as
 * much each step (the end of the backward subtracts them all the same),
 * which matters only where max_live is near the live set; this models the
 * second step (its later microbatches start the count below zero by the
 * persistent parameters).  Each microbatch starts from nothing in flight;
 * the code's last backward prefetch may reach into the next forward (a
 * small pessimism).  Not emulated: the hooks' own host time; the blocking
 * one-element copy of each release (PP:531), which waits for the compute
 * stream only, as the next step's fetch does; the step's synchronous
 * gather of the persistent parameters (a few MB).  A check of these rules
 * against the code: /work/notes/s10/verify-ds0313.md. */
#ifndef CS_ZERO3_COORD_H
#define CS_ZERO3_COORD_H

#include "cs_error.h"
#include "layout.h"
#include "model.h"

/* The code's defaults (K, tag v0.3.13). */
#define Z3C_PREFETCH_BUCKET_ELEMS 5e7 /* stage3_prefetch_bucket_size, K:94 */
#define Z3C_MAX_LIVE_ELEMS 1e9        /* stage3_max_live_parameters, K:87 */
#define Z3C_MAX_REUSE_ELEMS 1e9       /* stage3_max_reuse_distance, K:91 */
#define Z3C_PERSIST_ELEMS 1e5         /* stage3_param_persistence_threshold, K:100 */
#define Z3C_REDUCE_BUCKET_ELEMS 5e8   /* reduce_bucket_size, K:62 */

typedef struct z3c_config {
    double prefetch_bucket, max_live, max_reuse, persist, reduce_bucket; /* elements */
} z3c_config;

/* The defaults above. */
z3c_config z3c_defaults(void);

typedef enum z3c_pass { Z3C_FWD, Z3C_REC, Z3C_BWD, Z3C_NPASS } z3c_pass;

/* One communication, in issue order: a gather of a parameter or a
 * reduction of a bucket of gradients, elements of one tensor rank. */
typedef struct z3c_comm {
    double elems;
    int reduce; /* 0: all-gather (a fetch), 1: reduce-scatter */
} z3c_comm;

/* One module's hooks and kernels: its communication comm[first .. first +
 * n - 1] is issued after the compute of the steps before it; its compute
 * follows the compute before it and waits for comm[0 .. gate] (the stream
 * is serial; gate -1: for none). */
typedef struct z3c_step {
    int pass;     /* z3c_pass */
    int layer;
    double share; /* of its layer's compute in that pass */
    int first, n;
    int gate;
} z3c_step;

typedef struct z3c_trace {
    z3c_step *steps;
    int nsteps;
    z3c_comm *comm;
    int ncomm;
    int layers;
    double gather_elems, reduce_elems; /* totals of the microbatch */
    double pass_gather_elems[Z3C_NPASS]; /* gathered in each pass's steps */
    double block_elems;                /* a layer's parameters of one tensor rank */
    double root_elems;                 /* the embedding tables' */
    int syncs;                         /* steps whose host waits for every stream */
} z3c_trace;

/* Whether the layout runs this engine (ZeRO-3 with --offload-engine
 * deepspeed-2021). */
int z3c_applies(const layout_desc *l);

/* The layout's rules for the engine (pp 1 under 1f1b, no HSDP or FSDP
 * knobs, no cp or ep, a dense GPT with tied embeddings, fp16, full or no
 * recomputation); 0 or -1 with err naming the field and the flag. */
int z3c_validate(const model_desc *m, const layout_desc *l, cs_err *err);

/* Emulates one microbatch through `layers` layers of m's blocks under l
 * (tensor ranks split the weights); after_step: the first microbatch after
 * an optimizer step (the persistent parameters available).  0, or -1 with
 * err (no layer). */
int z3c_build(const model_desc *m, const layout_desc *l, int layers, int after_step,
              const z3c_config *cfg, z3c_trace *out, cs_err *err);
void z3c_free(z3c_trace *t);

/* Seconds of one communication. */
typedef double (*z3c_comm_s_fn)(const z3c_comm *c, void *ctx);

/* The closed form of the trace: compute on one stream, communication on
 * another, each step's compute waiting for its gate and each communication
 * for the compute before it.  layer_s[p]: one layer's compute in pass p.
 * Returns the microbatch's time to the end of its last communication and
 * sets the communication's total seconds and, where not NULL, fwd_end_s
 * to the end of the forward's last compute. */
double z3c_time_s(const z3c_trace *t, const double layer_s[Z3C_NPASS], z3c_comm_s_fn comm_s,
                  void *ctx, double *comm_total_s, double *fwd_end_s);

#endif
