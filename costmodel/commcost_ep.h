/* commcost_ep: the all-to-alls of expert parallelism, planned on the
 * topology and priced.
 *
 * Every expert-parallel group of a stage (layout_ep.h's mapping: ep GPUs
 * etp apart) dispatches its token slots to the experts' ranks and combines
 * the results back: one all-to-all each, every group of the stage at once
 * (coll_plan_concurrent prices the links they share).  Two forms:
 *   flat          NCCL's all-to-all: every pair of the group at once
 *                 (COLL_ALGO_DIRECT), across nodes where the group spans them;
 *   hierarchical  (ep_a2a_hier) first among the group's GPUs inside each
 *                 node over NVLink, then among the GPUs of the same local
 *                 index across the group's nodes, each phase moving the
 *                 whole send buffer (Tutel's 2DH all-to-all, Hwang et al.
 *                 2023, sec. 3.3; DeepEP's intra-node forwarding): the same
 *                 bytes cross the network as flat, in nodes - 1 messages per
 *                 GPU instead of (nodes - 1) x GPUs per node, so it gains on
 *                 latency and loses an NVLink pass.  A group inside one node
 *                 is priced flat.
 * The size convention is nccl-tests' (each rank's send buffer). */
#ifndef CS_COMMCOST_EP_H
#define CS_COMMCOST_EP_H

#include <stdint.h>

#include "collective.h"
#include "layout.h"
#include "model.h"
#include "topo.h"

typedef struct commcost_ep_plans {
    coll_plan flat;          /* every group's all-to-all at once */
    coll_plan intra, inter;  /* the hierarchical phases (has_hier) */
    int has_flat, has_hier;
} commcost_ep_plans;

/* The plans of stage s; nothing (has_flat 0) without ep > 1. */
int commcost_ep_build(topo *t, const layout_desc *l, int s, commcost_ep_plans *out, cs_err *err);
void commcost_ep_free(commcost_ep_plans *p);

/* Seconds of one all-to-all of size_bytes per rank in the layout's form. */
double commcost_ep_a2a_s(const commcost_ep_plans *p, const layout_desc *l, uint64_t size_bytes);

/* Seconds a pass waits on `count` all-to-alls of one_s each (balanced
 * routing): the slowest expert rank receives layout_ep_imbalance times the
 * balanced slots, and everyone waits for it at the combine; with
 * ep_overlap they run under another microbatch's compute of the pass
 * (compute_s; DeepSeek-V3's DualPipe overlap, Megatron-Core's
 * --overlap-moe-expert-parallel-comm), exposed only beyond it. */
double commcost_ep_exposed_s(const model_desc *m, const layout_desc *l, double one_s, int count,
                             double compute_s);

#endif
