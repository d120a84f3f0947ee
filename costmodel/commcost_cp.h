/* commcost_cp: the communication groups of context parallelism, for
 * commcost (nothing else includes this file; commcost prices them).
 *
 * The cp ranks of a stage's tensor rank r and data-parallel replica d are
 * layout_rank_gpu(l, r, c, d, s) for c = 0 .. cp - 1 (tp-cp-dp-pp order),
 * tp GPUs apart.  With an all-to-all group of a ranks (layout_cp_a2a_ranks)
 * the a consecutive cp ranks c = a k .. a k + a - 1 form one all-to-all
 * group and the cp / a ranks c = i, i + a, ... one ring (Megatron-Core's
 * hierarchical context-parallel groups, the first size innermost).  Every
 * group of the stage runs at once: one concurrent plan for the ring's step
 * (sendrecv, rank i to i + 1) and one for the all-to-all. */
#ifndef CS_COMMCOST_CP_H
#define CS_COMMCOST_CP_H

#include "collective.h"
#include "layout.h"
#include "topo.h"

/* Builds the stage's ring and all-to-all plans where the layout has them. */
int commcost_cp_build(topo *t, const layout_desc *l, int s, coll_plan *ring, int *has_ring,
                      coll_plan *a2a, int *has_a2a, cs_err *err);

#endif
