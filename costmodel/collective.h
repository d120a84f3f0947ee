/* collective: algorithms for collectives over a GPU group on a topology.
 *
 * Owns the one description of every collective algorithm (ring, double
 * binary tree, hierarchical, direct) and its closed-form time.  A plan is a
 * sequence of phases; a phase is a set of concurrent *coflows*; a coflow is
 * the set of point-to-point transfers that advance in lock-step (the edges of
 * one ring channel, the edges of one tree), represented by the union of their
 * routes with each link's multiplicity.  A pipelined ring moves at the pace
 * of its slowest edge, which is what a coflow at one rate expresses.
 *
 * Two forms, one description:
 * - closed form (coll_time_s): each phase's coflows get their max-min rates on
 *   an idle network, time = launch + sum over phases of the slowest coflow's
 *   latency + bytes / rate;
 * - simulation (sim/exec): the same coflows run as flows on sim/net, sharing
 *   links with whatever else is running.
 *
 * Size conventions follow nccl-tests: allreduce and broadcast move a buffer
 * of size bytes; allgather and reducescatter count the whole gathered
 * buffer; alltoall counts each rank's send buffer; sendrecv each rank's
 * message (rank i sends to i+1).  Bus-bandwidth factors are nccl-tests'. */
#ifndef CS_COLLECTIVE_H
#define CS_COLLECTIVE_H

#include <stdint.h>

#include "cs_error.h"
#include "ncclproto.h"
#include "topo.h"

typedef enum coll_op {
    COLL_ALLREDUCE,
    COLL_REDUCESCATTER,
    COLL_ALLGATHER,
    COLL_ALLTOALL,
    COLL_BROADCAST,
    COLL_SENDRECV
} coll_op;

typedef enum coll_algo {
    COLL_ALGO_AUTO,
    COLL_ALGO_RING,
    COLL_ALGO_TREE,   /* double binary tree across nodes, chains inside (allreduce) */
    COLL_ALGO_HIER,   /* intra-node reduce-scatter, inter-node all-reduce, intra-node all-gather */
    COLL_ALGO_DIRECT, /* every pair at once (alltoall, sendrecv) */
    COLL_ALGO_NVLS    /* NVLink SHARP: the switch reduces (allreduce in one node that has it) */
} coll_algo;

typedef struct coll_params {
    uint64_t launch_ps;    /* once per collective: kernel launch and set-up */
    uint64_t step_ps;      /* per hop a chunk takes: synchronisation between ranks */
    uint64_t chunk_bytes;  /* pipeline chunk of chains and trees */
    /* NCCL's latency and protocol model (ncclproto.h) for allreduce, reduce-
     * scatter and all-gather: 1 (default) prices their latency with NCCL's
     * tuner tables and picks LL, LL128 or Simple per size; 0 keeps the route
     * latencies plus launch_ps and step_ps above for every op. */
    int nccl_model;
} coll_params;

typedef struct coll_coflow {
    int32_t *links;
    uint32_t *weights;
    int nlinks;
    int npairs;
    double bytes_per_size;   /* bytes each transfer carries per byte of collective size */
    uint64_t latency_ps;     /* hop latencies and step costs along the critical chain */
    int fill_hops;           /* extra chunk times before a pipeline is full (depth - 1) */
} coll_coflow;

typedef struct coll_phase {
    char name[32];
    int ncoflows;
    coll_coflow *coflows;
    double *idle_rate;       /* max-min rate of each coflow on an idle network, bytes/s */
} coll_phase;

#define COLL_MAX_PHASES 3

/* The most ordered pairs one plan routes.  All-to-all is the one plan whose
 * routes grow with the square of its group (n(n-1)); 2^24 pairs is a group of
 * 4,096 GPUs, about 6 s to route at -O3, past the largest expert- or
 * context-parallel group in use.  The fuzzing build sets a lower bound
 * (meson.build) so that an input costs milliseconds. */
#ifndef COLL_MAX_PAIRS
#define COLL_MAX_PAIRS (1ULL << 24)
#endif

/* The largest group an all-to-all plan takes under COLL_MAX_PAIRS: 4,096
 * GPUs (256 in the fuzzing build).  Layouts check their expert- and
 * context-parallel all-to-all groups against it (layout.c, layout_cp.c). */
int coll_alltoall_max_ranks(void);

/* The largest group the collective faces (`clustersim collective`, Lua
 * collective{}) take: 65,536 GPUs, the largest job the project simulates
 * every rank of; the command's default sweep over it (21 sizes) takes about
 * 12 s at -O3 with its bar showing, and a larger group's plan and flows grow
 * past any wait a user would sit through.  The fuzzing build sets a lower
 * bound (meson.build). */
#ifndef COLL_FACE_MAX_RANKS
#define COLL_FACE_MAX_RANKS 65536
#endif

typedef struct coll_plan {
    coll_op op;
    coll_algo algo;          /* never AUTO */
    int nranks, nnodes, channels;
    int32_t *gpus;           /* the group, in the order given (nranks entries) */
    int nphases;
    coll_phase phases[COLL_MAX_PHASES];
    uint64_t launch_ps;
    uint64_t chunk_bytes;
    /* NCCL's protocol model (coll_params.nccl_model): the calls the plan is
     * made of as NCCL's tuner sees them (hier: three); with ncalls > 0 the
     * coflows carry no route latency and launch_ps is not used: the latency
     * and each protocol's bandwidth come from collective_proto.c. */
    int nccl_calls;
    ncclproto_shape nccl_shape[COLL_MAX_PHASES];
} coll_plan;

void coll_params_default(coll_params *p);

/* Builds the plan of op with algo (not AUTO) over gpus[0..n-1] (global GPU
 * numbers, distinct).  Errors say which algorithms the op supports, or which
 * GPU is out of range or repeated. */
int coll_plan_build(topo *t, coll_op op, coll_algo algo, const int32_t *gpus, int n,
                    const coll_params *params, coll_plan *out, cs_err *err);
void coll_plan_free(coll_plan *plan);

/* Builds the plan of every algorithm op supports over gpus and keeps the one
 * with the smallest closed-form time at size_bytes (the first on ties), as
 * NCCL's tuner picks an algorithm per size. */
int coll_plan_best(topo *t, coll_op op, const int32_t *gpus, int n, const coll_params *params,
                   uint64_t size_bytes, coll_plan *out, cs_err *err);
/* One plan for n groups that run the same collective at the same time
 * (the tp data-parallel groups of a pipeline stage, the dp tensor-parallel
 * groups): every group's coflows in each phase, their idle rates solved
 * together, so links the groups share (ECMP collisions above a leaf) are
 * shared in the closed form and, as flows, in the simulation.  The plans
 * must run the same op and algorithm; the result has plans[0]'s ranks,
 * nodes and channels (one group's view) and owns copies of every coflow. */
int coll_plan_concurrent(topo *t, const coll_plan *plans, int n, coll_plan *out, cs_err *err);

/* Closed-form time of the plan for a collective of size_bytes. */
double coll_time_s(const coll_plan *plan, uint64_t size_bytes);

/* Payload bytes one transfer of a coflow carries, pipeline fill included
 * (times coll_wire_factor for the bytes on the wire). */
double coll_coflow_bytes(const coll_plan *plan, const coll_coflow *cf, uint64_t size_bytes);

/* ---- NCCL's protocol model over a plan (collective_proto.c) ---- */

/* Sets the plan's NCCL calls from its op, algorithm and group (none for
 * broadcast, all-to-all, send/recv and single-rank groups) and drops the
 * coflows' route latencies where it does. */
void coll_proto_attach(topo *t, coll_plan *plan, const coll_params *params);
/* The protocol NCCL's tuner picks for the plan at size_bytes, or -1 when
 * the plan is not under NCCL's model. */
int coll_proto_pick(const coll_plan *plan, uint64_t size_bytes);
/* The fixed cost before any byte moves: NCCL's latency of the picked
 * protocol, or launch_ps outside NCCL's model. */
uint64_t coll_start_ps(const coll_plan *plan, uint64_t size_bytes);
/* Wire bytes per payload byte at size_bytes: 1 / the picked protocol's
 * bandwidth fraction (1 outside NCCL's model). */
double coll_wire_factor(const coll_plan *plan, uint64_t size_bytes);
/* Both of the above in one pass over the plan's coflows. */
void coll_proto_cost(const coll_plan *plan, uint64_t size_bytes, uint64_t *start_ps,
                     double *wire);

/* Algorithms that support op, in preference order; returns the count. */
int coll_algos_for(coll_op op, coll_algo out[4]);

double coll_busbw_factor(coll_op op, int nranks);
const char *coll_op_name(coll_op op);
const char *coll_algo_name(coll_algo algo);
int coll_op_parse(const char *text, coll_op *op, cs_err *err);
int coll_algo_parse(const char *text, coll_algo *algo, cs_err *err);

#endif
