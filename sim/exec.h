/* exec: a task graph and its execution on the engine.
 *
 * Owns tasks (compute on a stream, point-to-point transfers, collectives,
 * delays), their dependencies, streams, and the recorded start and end of
 * every task.  A stream runs its tasks one at a time in the order they were
 * added (CUDA stream semantics): a task starts when it is at the head of its
 * stream and all its predecessors have ended.  Tasks without a stream start
 * as soon as their predecessors end.  Transfers and collectives become flows
 * on sim/net over the topology's links, so they contend for bandwidth with
 * everything else in flight. */
#ifndef CS_EXEC_H
#define CS_EXEC_H

#include <stdint.h>

#include "collective.h"
#include "cs_error.h"
#include "net.h"
#include "topo.h"

typedef enum exec_kind { EXEC_COMPUTE, EXEC_TRANSFER, EXEC_COLLECTIVE, EXEC_DELAY } exec_kind;

typedef struct exec_graph exec_graph;

typedef struct exec_result {
    uint64_t makespan_ps;       /* end of the last task */
    uint64_t events;            /* engine events run */
    int tasks;
    net_stats net;
    /* collectives run as one timed task (exec_set_timed_collectives) */
    uint64_t timed_collectives;  /* started timed */
    uint64_t timed_demoted;      /* of them, moved to flows when another flow met them */
} exec_result;

exec_graph *exec_new(void);
void exec_free(exec_graph *g);

/* Adds a stream on a GPU (label such as "compute" or "comm"); returns its id. */
int exec_stream(exec_graph *g, int gpu, const char *label);

/* Each adder returns the task id.  name is copied.  stream may be -1 for
 * transfers, collectives and delays. */
int exec_compute(exec_graph *g, int stream, uint64_t duration_ps, const char *name);
int exec_transfer(exec_graph *g, int stream, int src_gpu, int dst_gpu, double bytes,
                  const char *name);
/* plan must outlive the run; several tasks may share one plan. */
int exec_collective(exec_graph *g, int stream, const coll_plan *plan, uint64_t size_bytes,
                    const char *name);
int exec_delay(exec_graph *g, uint64_t duration_ps, const char *name);

/* A transfer's route takes its equal-cost (ECMP) choices from a salt, by
 * default its task id; a graph that leaves out tasks of a symmetric copy
 * (sim/trainsim_sym) gives its transfers the ids they have in the whole graph,
 * so that they take the same routes. */
void exec_set_route_salt(exec_graph *g, int transfer, uint32_t salt);

/* after may not start before before has ended. */
void exec_dep(exec_graph *g, int before, int after);

/* on: the network re-solves whole components (net_set_full_resolve), the
 * reference the incremental re-solves are tested against. */
void exec_set_full_resolve(exec_graph *g, int on);

/* on: a collective whose links carry nothing else while it runs is one timed
 * task instead of flows (sim/exec_iso.h: checked at every flow start, moved
 * to flows the moment another flow meets it; the same times as flows).  Off
 * by default. */
void exec_set_timed_collectives(exec_graph *g, int on);

/* on (the default): a timed collective's followers on the same plan, which
 * wait for it alone, run on its end event as one chain (exec.c: the same
 * starts and ends as one by one); off: one event each, the reference. */
void exec_set_collective_chains(exec_graph *g, int on);

/* Runs the whole graph on topology t.  Fails (err filled) on a dependency
 * cycle or a task that can never start. */
int exec_run(exec_graph *g, topo *t, exec_result *out, cs_err *err);

int exec_task_count(const exec_graph *g);
exec_kind exec_task_kind(const exec_graph *g, int task);
const char *exec_task_name(const exec_graph *g, int task);
int exec_task_stream(const exec_graph *g, int task);     /* -1 if none */
int exec_stream_gpu(const exec_graph *g, int stream);
const char *exec_stream_label(const exec_graph *g, int stream);
int exec_stream_count(const exec_graph *g);
uint64_t exec_task_start_ps(const exec_graph *g, int task);
uint64_t exec_task_end_ps(const exec_graph *g, int task);

/* What a task was built from: a compute's or delay's duration, a
 * collective's plan (NULL otherwise) and size, a transfer's ends and bytes;
 * and the dependencies in the order they were added. */
uint64_t exec_task_duration_ps(const exec_graph *g, int task);
const coll_plan *exec_task_plan(const exec_graph *g, int task);
uint64_t exec_task_size_bytes(const exec_graph *g, int task);
void exec_task_transfer(const exec_graph *g, int task, int *src_gpu, int *dst_gpu, double *bytes);
int exec_dep_count(const exec_graph *g);
void exec_dep_at(const exec_graph *g, int i, int *before, int *after);

#endif
