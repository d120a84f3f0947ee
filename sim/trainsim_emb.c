/* trainsim_emb: the all-reduces between pipeline stages that hold the same
 * weights, lowered to exec tasks: the tied embedding's gradient between the
 * first and the last stage, and under dualpipe every mirrored stage pair's
 * copies (commcost.h: emb_pairs).  Split from trainsim.c, which calls
 * trainsim_emit_embedding once the stages' units are emitted. */
#include <stdlib.h>

#include "cs_alloc.h"
#include "trainsim_private.h"

/* Makes `task` wait for stage s's backward and gradient reduction on every
 * member (and, folded, every other data-parallel group). */
static void after_reduction(builder *b, int s, int task)
{
    for (int k = 0; k < b->nmem; k++) {
        if (dropped(b, k))
            continue;
        exec_dep(b->g, b->last[s * b->nmem + k], task);
        if (b->last_dp[s * b->nmem + k] >= 0)
            exec_dep(b->g, b->last_dp[s * b->nmem + k], task);
    }
    for (int r = 1; b->folded && r < b->l->tp; r++)
        if (b->shadow_last[s * b->l->tp + r] >= 0)
            exec_dep(b->g, b->shadow_last[s * b->l->tp + r], task);
}

/* The ring of member k of stage r and of stage pp - 1 - r. */
static int mirror_plan(const builder *b, int r, int k, coll_plan *out)
{
    int32_t pair[2] = {gpu_of(b, r, k), gpu_of(b, b->l->pp - 1 - r, k)};
    coll_params params;
    coll_params_default(&params);
    cs_err err;
    return coll_plan_build(b->in->topology, COLL_ALLREDUCE, COLL_ALGO_RING, pair, 2, &params, out,
                           &err);
}

/* Folded: every member's ring of the stage pair at once, as one plan, so
 * that the links they share are shared (what every rank simulated sees). */
static int mirror_plan_folded(const builder *b, int r, coll_plan *out)
{
    const layout_desc *l = b->l;
    int n = l->tp * layout_dp_cp(l), built = 0, rc = 0;
    coll_plan *each = cs_xrealloc(NULL, sizeof *each * (size_t)n);
    coll_params params;
    coll_params_default(&params);
    for (int i = 0; rc == 0 && i < n; i++) {
        int32_t pair[2] = {commcost_gpu(l, i % l->tp, i / l->tp, r),
                           commcost_gpu(l, i % l->tp, i / l->tp, l->pp - 1 - r)};
        cs_err err;
        rc = coll_plan_build(b->in->topology, COLL_ALLREDUCE, COLL_ALGO_RING, pair, 2, &params,
                             &each[built], &err);
        built += rc == 0;
    }
    cs_err err;
    if (rc == 0)
        rc = coll_plan_concurrent(b->in->topology, each, n, out, &err);
    for (int i = 0; i < built; i++)
        coll_plan_free(&each[i]);
    free(each);
    return rc;
}

/* DualPipe: each mirrored stage pair (r, pp - 1 - r) all-reduces its copies'
 * gradient once both have reduced theirs (commcost.h), one task per pair
 * and member (folded: member 0), each waiting only for its own two GPUs;
 * b->emb_task[r * nmem + k]. */
static int emit_mirror_allreduce(builder *b)
{
    int last = b->l->pp - 1, pairs = b->cc.emb_pairs;
    b->emb_task = int_array((size_t)pairs * b->nmem, -1);
    b->emb_plans = calloc((size_t)pairs * b->nmem, sizeof *b->emb_plans);
    if (!b->emb_plans)
        abort();
    for (int i = 0; i < pairs * b->nmem; i++) {
        int r = i / b->nmem, k = i % b->nmem;
        if (b->folded ? mirror_plan_folded(b, r, &b->emb_plans[i]) != 0
                      : mirror_plan(b, r, k, &b->emb_plans[i]) != 0)
            return -1;
        int id = coll_task(b, &b->emb_plans[i], b->cc.emb_bytes, -1, "copies' gradient all-reduce");
        for (int j = 0; j < 2; j++) {
            int s = j ? last - r : r;
            if (b->folded) {
                after_reduction(b, s, id);
                continue;
            }
            exec_dep(b->g, b->last[s * b->nmem + k], id);
            if (b->last_dp[s * b->nmem + k] >= 0)
                exec_dep(b->g, b->last_dp[s * b->nmem + k], id);
        }
        note(b, id, R_DP, r, b->folded ? -1 : k);
        b->info[id].gpu = gpu_of(b, r, k);
        b->emb_task[i] = id;
    }
    return 0;
}

/* Tied embeddings over a pipeline: the first and last stage all-reduce the
 * table's gradient once both have reduced theirs (commcost.h).  Folded: every
 * pair at once, one task over the concurrent plan; all ranks: one task per
 * pair (member k of the first and of the last stage), each waiting only for
 * its own two GPUs, as each pair's communicator does (and as a per-rank
 * trace can say).  Fills b->emb_task, or leaves it NULL when there is none. */
int trainsim_emit_embedding(builder *b)
{
    int last = b->l->pp - 1;
    if (!b->cc.emb_bytes)
        return 0;
    if (b->cc.emb_pairs > 1)
        return emit_mirror_allreduce(b);
    b->emb_task = int_array((size_t)b->nmem, -1);
    if (b->folded) {
        int id = coll_task(b, &b->cc.emb, b->cc.emb_bytes, -1, "embedding all-reduce");
        after_reduction(b, 0, id);
        after_reduction(b, last, id);
        note(b, id, R_DP, 0, -1);
        b->info[id].gpu = gpu_of(b, 0, 0);
        b->emb_task[0] = id;
        return 0;
    }
    coll_params params;
    coll_params_default(&params);
    b->emb_plans = calloc((size_t)b->nmem, sizeof *b->emb_plans);
    if (!b->emb_plans)
        abort();
    for (int k = 0; k < b->nmem; k++) {
        if (dropped(b, k)) {
            b->ghosts++;
            continue;
        }
        int32_t pair[2] = {gpu_of(b, 0, k), gpu_of(b, last, k)};
        cs_err err;
        if (coll_plan_build(b->in->topology, COLL_ALLREDUCE, COLL_ALGO_RING, pair, 2, &params,
                            &b->emb_plans[k], &err) != 0)
            return -1;
        int id = coll_task(b, &b->emb_plans[k], b->cc.emb_bytes, -1, "embedding all-reduce");
        for (int s = 0; s <= last; s += last) {
            exec_dep(b->g, b->last[s * b->nmem + k], id);
            if (b->last_dp[s * b->nmem + k] >= 0)
                exec_dep(b->g, b->last_dp[s * b->nmem + k], id);
        }
        note(b, id, R_DP, 0, k);
        b->emb_task[k] = id;
    }
    return 0;
}
