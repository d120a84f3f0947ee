/* trainsim_private: the builder that lowers one iteration to exec tasks,
 * shared by its two halves: trainsim.c (emitting and running the tasks) and
 * trainsim_read.c (reading the breakdown, the timeline and busy times back).
 * Nothing outside sim/trainsim*.c includes this file. */
#ifndef CS_TRAINSIM_PRIVATE_H
#define CS_TRAINSIM_PRIVATE_H

#include <stdint.h>

#include "commcost.h"
#include "cs_alloc.h"
#include "exec.h"
#include "trainsim.h"
#include "workload.h"

/* What a task stands for, for the breakdown. */
enum role { R_NONE, R_FWD, R_BWD, R_REC, R_TP, R_DP, R_OPT, R_AG, R_P2P, R_WGT,
            R_EP /* expert-parallel all-to-all (commcost_ep.h) */ };

typedef struct task_info {
    unsigned char role;
    int stage, member; /* member -1: not read back */
    int in_transfer;   /* the transfer this task waits for, or -1 */
    int chunk, microbatch; /* the unit it belongs to, -1 outside units */
    int gpu;           /* tasks without a stream: the GPU that starts them */
} task_info;

typedef struct chunk_cost {
    uint64_t fwd_ps, bwd_ps, rec_ps; /* bwd_ps: B alone where the schedule splits it */
    uint64_t wgt_ps;                 /* W, or 0 */
    double tp_bwd_delta_s; /* backward collectives hidden under wgrad GEMMs (<= 0) */
    workload_tp tp_fwd, tp_bwd, tp_rec;
    uint64_t ep_fwd_ps, ep_bwd_ps, ep_rec_ps; /* exposed expert-parallel all-to-alls */
} chunk_cost;

enum { P_AR, P_AG, P_RS, NTP };     /* tensor-parallel plans of a group */
enum { P_REDUCE, P_GATHER, NDP };   /* data-parallel plans of a group */

typedef struct builder {
    const estimate_input *in;
    const layout_desc *l;
    exec_graph *g;
    commcost cc;
    int m, nmem; /* microbatches; simulated GPUs per stage */
    int folded;
    int nchunks, split;               /* schedule_chunks; whether W runs apart */
    chunk_cost *chunks;               /* [stage * nchunks + chunk] */
    int *stream, *dp_stream, *last, *last_dp; /* [stage * nmem + member] */
    int *shadow_stream, *shadow_last; /* folded: [stage * tp + r], data-parallel group r */
    unsigned char *shares;            /* folded: [stage * tp + r], group r shares a link */
    int *fstart, *fend, *bstart, *bend;       /* [(vstage * m + mb) * nmem + member] */
    task_info *info;
    int capinfo;
    int cur_chunk, cur_mb; /* the unit being emitted, -1 outside units */
    coll_plan *tp_plans; /* all-ranks: [(stage * dp + d) * NTP + op] */
    coll_plan *dp_plans; /* all-ranks: [(stage * tp + r) * NDP + op] */
    coll_plan *emb_plans; /* all-ranks: [member], its first/last stage pair */
    int *emb_task;        /* [member] the embedding all-reduce it waits for, or NULL */
    const double *gpu_factor; /* stragglers: compute time factor per GPU, or NULL */
} builder;

static inline int member_tp(const builder *b, int k) { return b->folded ? 0 : k % b->l->tp; }
static inline int member_dp(const builder *b, int k) { return b->folded ? 0 : k / b->l->tp; }

static inline int gpu_of(const builder *b, int s, int k)
{
    return commcost_gpu(b->l, member_tp(b, k), member_dp(b, k), s);
}

static inline int *int_array(size_t n, int fill)
{
    int *a = cs_xrealloc(NULL, sizeof *a * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        a[i] = fill;
    return a;
}

/* trainsim_read.c: the breakdown of the GPU that finishes last, the timeline
 * of the run, and each GPU's busy compute time (stragglers). */
void trainsim_read_breakdown(const builder *b, estimate_result *out);
void trainsim_record_timeline(const builder *b, uint64_t makespan_ps, timeline *tl);
void trainsim_read_busy(const builder *b, double *busy_s, int gpus);

#endif
