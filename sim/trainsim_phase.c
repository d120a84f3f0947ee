/* trainsim_phase: the phases of the lowering, each one step of every
 * simulated GPU of a stage: a pass's tensor-parallel collectives, a
 * data-parallel collective (with HSDP's replica all-reduce after it), the
 * expert-parallel all-to-alls (trainsim_private.h declares them). */
#include "trainsim_private.h"

static const char *const tp_names[NTP] = {"tp all-reduce", "tp all-gather", "tp reduce-scatter"};

/* The blocking tensor-parallel collectives of one pass; delta_s (<= 0) is
 * the part the framework hides under weight-gradient GEMMs: folded, off
 * the pass's collective time; all ranks, the collectives run as flows and
 * the backward's compute was shortened by as much (emit_backward). */
/* Piece `part` of `parts` of a pass's collectives (ZeRO-3's gathered
 * passes run them layer by layer, inside each layer's piece, as Megatron
 * does: the next layer's gather proceeds under them); parts 1: all. */
void trainsim_phase_tp_part(builder *b, int s, workload_tp tp, double delta_s, int part, int parts)
{
    int counts[NTP] = {tp.allreduce, tp.allgather, tp.reducescatter};
    if (b->folded) {
        double t = commcost_tp_s(&b->cc.stages[s], counts[P_AR], counts[P_AG], counts[P_RS]) +
                   delta_s;
        if (t > 0)
            phase_compute(b, s, units_s_to_ps_ceil(t / parts), R_TP, "tp comm");
        return;
    }
    const layout_desc *l = b->l;
    for (int d = 0; d < layout_dp_cp(l); d++)
        for (int op = 0; op < NTP; op++)
            for (int j = counts[op] * part / parts; j < counts[op] * (part + 1) / parts; j++)
                phase_group_coll(b, s, &b->tp_plans[(s * layout_dp_cp(l) + d) * NTP + op],
                                 b->cc.tp_size_bytes, -1, d * l->tp, 1, l->tp, R_TP,
                                 tp_names[op], 0);
}

void trainsim_phase_tp(builder *b, int s, workload_tp tp, double delta_s)
{
    trainsim_phase_tp_part(b, s, tp, delta_s, 0, 1);
}

/* HSDP: each member's reduced shard, all-reduced over its replica group
 * (folded: every group at once, commcost's concurrent plan), after the
 * member's own reduce-scatter. */
static void phase_replica(builder *b, int s, uint64_t bytes)
{
    const layout_desc *l = b->l;
    uint64_t shard_bytes = bytes / (uint64_t)b->shard;
    int groups = b->folded ? 1 : l->tp * b->shard, stride = l->tp * b->shard;
    for (int gi = 0; gi < groups; gi++) {
        int base = gi % l->tp + l->tp * (gi / l->tp); /* tensor rank r, dp rank i */
        const coll_plan *plan = b->folded ? &b->cc.stages[s].dp_replica
                                          : &b->rep_plans[s * l->tp * b->shard + gi];
        int id = coll_task(b, plan, shard_bytes, b->dp_stream[s * b->nmem + base],
                           "dp shard all-reduce");
        for (int i = 0; i < (b->folded ? 1 : b->replicas); i++) {
            int *last_dp = &b->last_dp[s * b->nmem + base + i * stride];
            exec_dep(b->g, *last_dp, id);
            *last_dp = id;
        }
        note(b, id, R_DP, s, base);
    }
}

/* The exposed expert-parallel all-to-alls of one pass: a task of their
 * closed-form seconds on every member (commcost_ep.h prices them on the
 * topology; they are not run as flows, so they see no contention from the
 * data-parallel traffic the simulation overlaps with them). */
void trainsim_phase_ep(builder *b, int s, uint64_t ep_ps)
{
    if (ep_ps > 0 && !b->cur_pair) /* an F&B unit charges its all-to-alls at its end */
        phase_compute(b, s, ep_ps, R_EP, "ep all-to-all");
}

/* One data-parallel collective (gradient bucket, parameter all-gather
 * after the step, or ZeRO-3's gather of a layer: role R_GATHER, which the
 * compute waits for through a gate (b->gate, or trainsim_coord.c's), not
 * through b->last). */
void trainsim_phase_dp(builder *b, int s, int which, uint64_t bytes, int role)
{
    const layout_desc *l = b->l;
    const char *name = which == P_REDUCE ? "dp gradient bucket" : "dp parameter all-gather";
    int on_dp = which == P_REDUCE || role == R_GATHER;
    if (b->folded && b->replicas > 1) { /* HSDP: every shard group at once */
        const commcost_stage *st = &b->cc.stages[s];
        phase_group_coll(b, s, which == P_REDUCE ? &st->dp_reduce : &st->dp_allgather, bytes,
                         b->dp_stream[s], 0, 1, 1, role, name, on_dp);
    } else if (b->folded) {
        phase_group_coll(b, s, &b->dp_plans[s * l->tp * NDP + which], bytes, b->dp_stream[s], 0,
                         1, 1, role, name, on_dp);
        for (int r = 1; r < l->tp; r++) { /* the other groups: flows only, not read back */
            if (!b->shares[s * l->tp + r])
                continue;
            int id = coll_task(b, &b->dp_plans[(s * l->tp + r) * NDP + which], bytes,
                               b->shadow_stream[s * l->tp + r], name);
            if (b->last[s] >= 0) /* ZeRO-3's first gather precedes all compute */
                exec_dep(b->g, b->last[s], id);
            note(b, id, R_NONE, s, -1);
            if (which == P_REDUCE)
                b->shadow_last[s * l->tp + r] = id;
        }
    } else {
        for (int gi = 0; gi < b->ndpg; gi++) { /* shard group: tensor rank r, replica j */
            int base = gi % l->tp + l->tp * (gi / l->tp) * b->shard;
            if (b->drop && b->drop[gi % l->tp]) { /* a copy of tensor rank 0 (trainsim_sym.c) */
                b->ghosts++;
                continue;
            }
            phase_group_coll(b, s, &b->dp_plans[(s * b->ndpg + gi) * NDP + which], bytes,
                             b->dp_stream[s * b->nmem + base], base, l->tp, b->shard, role,
                             name, on_dp);
        }
    }
    if (which == P_REDUCE && b->replicas > 1)
        phase_replica(b, s, bytes);
}

