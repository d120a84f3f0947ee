/* trainsim: one training iteration of a layout, lowered to a task graph and
 * run on the engine.
 *
 * Owns the lowering of a pipeline schedule (costmodel/schedule) to exec
 * tasks: per simulated GPU a compute stream with the forward, recompute and
 * backward work of every unit (costmodel/workload) and the blocking
 * tensor-parallel collectives; pipeline activations and gradients as
 * transfers between the stages' GPUs; the data-parallel gradient buckets of
 * each chunk reduced on a second stream while the chunk's last backward
 * pass runs (the last backward is cut into one piece per bucket, and each
 * bucket starts when its piece ends); then the optimizer step and, with
 * zero 1, the parameter all-gather.  It also reads the per-stage breakdown
 * back from the recorded task times.
 *
 * Two modes:
 *   folded     one GPU per pipeline stage (tensor rank 0 of replica 0)
 *              stands for its tensor-parallel group and for every data-
 *              parallel replica: tensor-parallel collectives take their
 *              closed-form time on that group (commcost) on the compute
 *              stream; pipeline transfers and data-parallel collectives
 *              (over the stage's real data-parallel group) run as flows,
 *              beside the flows of every other tensor rank's data-parallel
 *              group that shares a link with another group of the stage
 *              (ECMP collisions above a leaf), which the optimizer step
 *              waits for too.  Exact when replicas and tensor ranks are
 *              identical, up to pipeline transfers of other ranks sharing
 *              links.
 *   all-ranks  every GPU of the layout has its streams; tensor-parallel and
 *              data-parallel collectives of every group run as flows.
 *              Needed when ranks differ (stragglers, failures). */
#ifndef CS_TRAINSIM_H
#define CS_TRAINSIM_H

#include "estimate.h"
#include "exec.h"
#include "timeline.h"

/* At most this many units (a microbatch's pass through one chunk on one
 * simulated rank): about 600 bytes and 0.7 us each, so 2.5 GB and 3 s.  The
 * fuzzing build (-Dfuzz=true) sets a lower bound, as for GOODPUT_MAX_EVENTS. */
#ifndef TRAINSIM_MAX_UNITS
#define TRAINSIM_MAX_UNITS (1 << 22)
#endif

/* At most this many GPUs simulated every rank (--ranks all, stragglers,
 * the Chakra export): 65,536, the largest job the project times (about 7 s
 * at -O3, validate/benchmarks.md); 524,288 took over a minute and 9.5 GB.
 * The same figure as COMMCOST_MAX_GPUS (every job) today; kept apart, as
 * every rank costs memory in proportion to the GPUs where the folded
 * simulation does not, should planning become cheaper. */
#ifndef TRAINSIM_MAX_ALL_RANKS
#define TRAINSIM_MAX_ALL_RANKS 65536L
#endif

/* At most this many units recorded: a timeline (estimate --out, Lua
 * simulate{}) or a Chakra export keeps every task of them, and
 * the simulation that records runs every rank's tasks.  A unit is about
 * 1.6 kB of Chrome trace JSON: 2^18 units are about 400 MB and 7 s in the
 * default build; 4,194,304 (the simulation's bound) took 73 s, 8.7 GB of
 * memory and wrote 6.3 GB.  The fuzzing build sets a lower bound. */
#ifndef TRAINSIM_MAX_RECORDED_UNITS
#define TRAINSIM_MAX_RECORDED_UNITS (1L << 18)
#endif

typedef enum trainsim_mode { TRAINSIM_FOLDED, TRAINSIM_ALL_RANKS } trainsim_mode;

typedef struct trainsim_stats {
    int tasks;
    uint64_t events;
    double wall_s;
    int ranks_left_out;   /* symmetry classes: tensor ranks per group run as copies of rank 0 */
    /* collectives alone on their links, one timed task each (sim/exec_iso.h) */
    uint64_t timed_collectives;
    uint64_t timed_demoted; /* of them, moved to flows when another flow met them */
} trainsim_stats;

/* Simulates one iteration and fills out as estimate_analytic does (the
 * layout is validated the same way).  stats may be NULL. */
int trainsim_run(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                 trainsim_stats *stats, cs_err *err);

/* Like trainsim_run with every bandwidth re-solve taken over the whole
 * component of flows sharing links (exec_set_full_resolve): the reference
 * the incremental re-solves are held to. */
int trainsim_run_full_resolve(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                              cs_err *err);

/* Like trainsim_run with every rank's tasks simulated, none left out as a
 * copy of its tensor-parallel rank 0 (symmetry classes, trainsim_sym.c):
 * the reference the symmetric runs are held to. */
int trainsim_run_per_rank(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                          trainsim_stats *stats, cs_err *err);

/* Like trainsim_run, and records the iteration into tl: a track per GPU
 * stream, a slice per task, a flow per pipeline transfer, memory over time
 * per stage.  tl is filled only on success; the caller frees it with
 * timeline_free either way. */
int trainsim_record(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                    timeline *tl, trainsim_stats *stats, cs_err *err);

/* Stragglers: per GPU of the job, a factor on its compute time (1: normal
 * speed, 2: half speed), and back per GPU the time its compute stream was
 * busy.  Links are slowed in the topology itself (topo_set_link_bw). */
typedef struct trainsim_slow {
    const double *gpu_factor;   /* in->gpus entries, or NULL */
    double *gpu_busy_s;         /* in->gpus entries filled, or NULL */
} trainsim_slow;

/* One iteration with every rank simulated and the slowdowns applied. */
int trainsim_run_slow(const estimate_input *in, const trainsim_slow *slow, estimate_result *out,
                      cs_err *err);

/* Lowers one iteration with every rank (as TRAINSIM_ALL_RANKS) and hands
 * the task graph, before it runs, to fn; the graph and the plans its
 * collectives point to live until fn returns.  Returns fn's status. */
typedef int (*trainsim_graph_fn)(const exec_graph *g, void *ctx, cs_err *err);
int trainsim_lowered(const estimate_input *in, trainsim_graph_fn fn, void *ctx, cs_err *err);

#endif
