/* replay_private: the task graph replay_build makes of the traces, which
 * replay.c runs and reads back.  Only sim/replay*.c include it. */
#ifndef CS_REPLAY_PRIVATE_H
#define CS_REPLAY_PRIVATE_H

#include "exec.h"
#include "replay.h"

/* What a task is, for the breakdown and the timeline. */
enum replay_role { RR_NONE, RR_GPU, RR_CPU, RR_MEMORY, RR_COLL, RR_P2P };

typedef struct replay_graph {
    exec_graph *g;
    int ntasks;
    unsigned char *role;       /* [task] */
    int *ranks_first;          /* [task + 1]: its ranks in ranks[] */
    int *ranks;
    int nranks_used, capranks;
    coll_plan **plans;         /* built plans (stable addresses: tasks point to them) */
    int nplans, capplans;
    int *plan_group;           /* [plan]: the group it was built for */
    uint64_t *plan_size;       /* [plan] */
    int *plan_algo;            /* [plan]: coll_algo, or -1 for the fastest */
    int *plan_op;              /* [plan] */
    replay_result *counts;     /* nodes, collectives, transfers, priced, untimed */
} replay_graph;

/* Checks the traces and builds the task graph; errors name file, node id
 * and problem.  replay_graph_free releases out either way. */
int replay_build(const replay_traces *tr, const replay_input *in, replay_graph *out,
                 replay_result *counts, cs_err *err);
void replay_graph_free(replay_graph *rg);

#endif
