/* replay: a set of per-rank Chakra execution traces simulated on a system.
 *
 * Owns finding a trace's rank files, turning their nodes into an exec task
 * graph on the chosen topology, running it, and reading back the iteration
 * time and where each rank's time went.
 *
 * Files: a folder holding PREFIX.0.et ... PREFIX.(N-1).et (Chakra's and
 * ASTRA-sim's naming: the text converter writes NAME.R.et), or the path
 * PREFIX itself (ASTRA-sim's --workload-configuration).  One prefix per
 * folder; every rank from 0 to the highest present must have its file.
 *
 * Rank r runs on GPU r of the system (the first N GPUs).  Nodes:
 *   COMP_NODE      on its rank: a GPU operator on the stream its `stream`
 *                  attribute names (stream 0 without one), a CPU operator
 *                  (is_cpu_op, Chakra's default) on the rank's CPU thread;
 *                  it lasts duration_ps (clustersim's exact attribute),
 *                  else duration_micros, else, from num_ops (FLOPs) and
 *                  tensor_size (bytes), the kernel model's roofline
 *                  (costmodel/opcost) on the system's device, else 0.
 *                  With price_compute the roofline wins wherever num_ops is
 *                  given (recorded times belong to the recording GPU).
 *   MEM_LOAD_NODE, MEM_STORE_NODE  tensor_size bytes at the device's
 *                  streaming bandwidth, on the rank's memory queue.
 *   COMM_COLL_NODE one collective of the whole group (the k-th collective
 *                  of a group in every member's file is the same one):
 *                  the group is every rank whose file names the same
 *                  pg_name, else the ranks involved_dim selects (dimension
 *                  0: the GPUs of a node; 1: across nodes), else all ranks.
 *                  comm_type, comm_size (an all-gather's comm_size is each
 *                  rank's input, as Chakra's converter counts it) run as
 *                  our collective plans, as flows on the system's links,
 *                  with the algorithm of the coll_algo attribute or the
 *                  fastest for the size.
 *   COMM_SEND_NODE, COMM_RECV_NODE  the k-th send from a to b with tag t and
 *                  the k-th receive at b from a with tag t are one transfer.
 *   METADATA_NODE, INVALID_NODE  take no time; their dependencies hold.
 * Data and control dependencies both order nodes within a file. */
#ifndef CS_REPLAY_H
#define CS_REPLAY_H

#include "chakra.h"
#include "device.h"
#include "opcost.h"
#include "timeline.h"
#include "topo.h"

typedef struct replay_traces {
    char *prefix;            /* path prefix: DIR/NAME */
    int ranks;
    char **paths;            /* [rank] */
    chakra_trace *rank;      /* [rank] */
} replay_traces;

/* Finds and reads every rank's file of `where` (a folder or a prefix). */
int replay_load(const char *where, replay_traces *out, cs_err *err);
void replay_traces_free(replay_traces *t);

typedef struct replay_input {
    topo *topology;
    int gpus;                /* GPUs of the job; at least the ranks */
    const dev_type *device;  /* prices num_ops, tensor_size */
    const opcost_eff *eff;
    int price_compute;
} replay_input;

typedef struct replay_rank {
    double end_s;            /* when its last node ended */
    double compute_s;        /* GPU operators, summed over streams */
    double cpu_s;            /* CPU operators */
    double memory_s;         /* memory loads and stores */
    double comm_s;           /* collectives and transfers it took part in, union */
    double exposed_comm_s;   /* communication while no GPU operator ran */
    double idle_s;           /* nothing of its own running */
} replay_rank;

typedef struct replay_result {
    double iteration_s;
    int ranks, nodes, tasks;
    int collectives, transfers;
    int priced;              /* compute nodes priced by the kernel model */
    int untimed;             /* compute nodes with neither a duration nor num_ops */
    uint64_t events;
    replay_rank *rank;       /* [ranks] */
} replay_result;

/* Simulates the traces.  Errors name the file, the node id and the
 * problem (a missing dependency, a cycle, an unknown node type, a
 * collective without its partners).  tl (NULL: none) receives a track
 * per rank and stream and a slice per task. */
int replay_run(const replay_traces *tr, const replay_input *in, replay_result *out, timeline *tl,
               cs_err *err);
void replay_result_free(replay_result *r);

#endif
