/* trainsim_cp: context parallelism in the simulated iteration (see
 * trainsim_private.h and costmodel/cpcomm.h).
 *
 * Folded: one task per pass on the compute stream of the closed form's
 * exposed seconds (as folded mode prices tensor-parallel collectives).
 * All ranks, per layer of the pass, as Transformer Engine runs it:
 *   the all-to-all of Q, K, V over each all-to-all group (a2a, a2a+p2p);
 *   R attention steps of A / R each, where step i's ring transfer (forward:
 *   K, V for step i + 1, on steps 0 .. R - 2; backward: K, V, then K, V
 *   with dK, dV, then dK, dV, on every step) starts with step i and step
 *   i + 1 waits for it; the backward's last transfer ends the layer;
 *   the all-to-all of the output.
 * Every ring and all-to-all group of the stage runs its own flows. */
#include <stdlib.h>

#include "cpcomm.h"
#include "trainsim_private.h"
#include "units.h"

/* Member index of cp rank c of tensor rank r, replica d. */
static int member_of(const builder *b, int r, int c, int d)
{
    return r + b->l->tp * (c + layout_cp_of(b->l) * d);
}

static int ring_ranks(const builder *b) { return b->cc.cp_volume.ring_ranks; }
static int a2a_ranks(const builder *b) { return b->cc.cp_volume.a2a_ranks; }

/* The plan of one group: `n` GPUs, cp indices first + i * stride. */
static int build_group(builder *b, int s, int r, int d, int first, int stride, int n, coll_op op,
                       coll_plan *out, cs_err *err)
{
    int32_t *gpus = cs_xrealloc(NULL, sizeof *gpus * (size_t)n);
    for (int i = 0; i < n; i++)
        gpus[i] = gpu_of(b, s, member_of(b, r, first + i * stride, d));
    coll_params params;
    coll_params_default(&params);
    int rc = coll_plan_build(b->in->topology, op, COLL_ALGO_DIRECT, gpus, n, &params, out, err);
    free(gpus);
    return rc;
}

int trainsim_cp_plans(builder *b, cs_err *err)
{
    const layout_desc *l = b->l;
    int cp = layout_cp_of(l), a = a2a_ranks(b), rr = ring_ranks(b);
    if (b->folded || cp == 1)
        return 0;
    /* groups per stage: a rings (one per position in the all-to-all group)
     * and rr all-to-all groups, per tensor rank and replica */
    b->cp_ring_groups = rr > 1 ? l->tp * l->dp * a : 0;
    b->cp_a2a_groups = a > 1 ? l->tp * l->dp * rr : 0;
    b->cp_ring_plans = calloc((size_t)l->pp * b->cp_ring_groups + 1, sizeof *b->cp_ring_plans);
    b->cp_a2a_plans = calloc((size_t)l->pp * b->cp_a2a_groups + 1, sizeof *b->cp_a2a_plans);
    if (!b->cp_ring_plans || !b->cp_a2a_plans)
        abort();
    int rc = 0;
    for (int s = 0; rc == 0 && s < l->pp; s++)
        for (int d = 0; rc == 0 && d < l->dp; d++)
            for (int r = 0; rc == 0 && r < l->tp; r++) {
                int g = d * l->tp + r;
                for (int i = 0; rc == 0 && rr > 1 && i < a; i++)
                    rc = build_group(b, s, r, d, i, a, rr, COLL_SENDRECV,
                                     &b->cp_ring_plans[s * b->cp_ring_groups + g * a + i], err);
                for (int k = 0; rc == 0 && a > 1 && k < rr; k++)
                    rc = build_group(b, s, r, d, k * a, 1, a, COLL_ALLTOALL,
                                     &b->cp_a2a_plans[s * b->cp_a2a_groups + g * rr + k], err);
            }
    return rc;
}

void trainsim_cp_free(builder *b)
{
    for (int i = 0; b->cp_ring_plans && i < b->l->pp * b->cp_ring_groups; i++)
        coll_plan_free(&b->cp_ring_plans[i]);
    for (int i = 0; b->cp_a2a_plans && i < b->l->pp * b->cp_a2a_groups; i++)
        coll_plan_free(&b->cp_a2a_plans[i]);
    free(b->cp_ring_plans);
    free(b->cp_a2a_plans);
}

void trainsim_cp_costs(builder *b, int s, const workload_chunk *w, chunk_cost *c)
{
    const layout_desc *l = b->l;
    cpcomm_chunk t = {0, 0, 0}, again = {0, 0, 0};
    int layers = layout_cp_of(l) > 1 ? w->cp_layers : 0;
    cpcomm_chunk_times(&b->cc.cp_volume, &b->cc.stages[s].cp, w->attn_fwd_s, w->attn_bwd_s, layers,
                       0, &t);
    if (l->recompute != LAYOUT_RECOMPUTE_NONE) /* the attention runs forward again */
        cpcomm_chunk_times(&b->cc.cp_volume, &b->cc.stages[s].cp, w->attn_fwd_s, w->attn_bwd_s,
                           layers, 1, &again);
    c->cp_fwd_exposed_s = t.fwd_exposed_s;
    c->cp_bwd_exposed_s = t.bwd_exposed_s;
    c->cp_rec_exposed_s = again.bwd_exposed_s - t.bwd_exposed_s;
    c->cp_hidden_s = l->recompute != LAYOUT_RECOMPUTE_NONE ? again.hidden_s : t.hidden_s;
    c->attn_fwd_s = w->attn_fwd_s;
    c->attn_bwd_s = w->attn_bwd_s;
    c->cp_layers = layers;
}

uint64_t trainsim_cp_attention_ps(const builder *b, const chunk_cost *c, int pass)
{
    if (b->folded || c->cp_layers == 0)
        return 0;
    double a = pass == CP_BWD ? c->attn_bwd_s : c->attn_fwd_s;
    return (uint64_t)c->cp_layers * units_s_to_ps_ceil(a / ring_ranks(b)) * ring_ranks(b);
}

/* Each all-to-all group of the stage exchanges bytes; every member waits. */
static void a2a_all(builder *b, int s, double bytes)
{
    const layout_desc *l = b->l;
    int a = a2a_ranks(b), rr = ring_ranks(b);
    for (int g = 0; g < b->cp_a2a_groups; g++) {
        int r = g / rr % l->tp, d = g / rr / l->tp, k = g % rr;
        phase_group_coll(b, s, &b->cp_a2a_plans[s * b->cp_a2a_groups + g], (uint64_t)bytes, -1,
                         member_of(b, r, k * a, d), l->tp, a, R_CP, "cp all-to-all", 0);
    }
}

/* Step `step`'s ring transfer of every ring group, after each member's
 * last task and its previous transfer; pend[k] becomes it. */
static void ring_transfers(builder *b, int s, double bytes, int *pend, int *next)
{
    const layout_desc *l = b->l;
    int a = a2a_ranks(b), rr = ring_ranks(b);
    for (int g = 0; g < b->cp_ring_groups; g++) {
        int r = g / a % l->tp, d = g / a / l->tp, i = g % a;
        int id = coll_task(b, &b->cp_ring_plans[s * b->cp_ring_groups + g], (uint64_t)bytes, -1,
                           "cp ring K,V");
        for (int j = 0; j < rr; j++) {
            int k = member_of(b, r, i + j * a, d);
            exec_dep(b->g, b->last[s * b->nmem + k], id);
            if (pend[k] >= 0)
                exec_dep(b->g, pend[k], id);
            next[k] = id;
        }
        note(b, id, R_NONE, s, -1);
        b->info[id].gpu = gpu_of(b, s, member_of(b, r, i, d));
    }
}

/* A compute task on every member that also waits for pend[k]. */
static void after_transfers(builder *b, int s, uint64_t dur_ps, int role, const char *name,
                            const int *pend)
{
    int first = phase_compute(b, s, dur_ps, role, name);
    for (int k = 0; k < b->nmem; k++) {
        if (pend[k] >= 0)
            exec_dep(b->g, pend[k], first + k);
        b->info[first + k].cp_step = 1;
    }
}

static void ring_layer(builder *b, int s, const chunk_cost *c, int pass, int *pend, int *next)
{
    int rr = ring_ranks(b), role = pass == CP_FWD ? R_FWD : pass == CP_BWD ? R_BWD : R_REC;
    double *steps = cs_xrealloc(NULL, sizeof *steps * (size_t)rr);
    double a = pass == CP_BWD ? c->attn_bwd_s : c->attn_fwd_s;
    int n = cpcomm_ring_steps(&b->cc.cp_volume, pass == CP_BWD, steps, rr);
    uint64_t step_ps = units_s_to_ps_ceil(a / rr);
    for (int k = 0; k < b->nmem; k++)
        pend[k] = next[k] = -1;
    for (int i = 0; i < rr; i++) {
        if (i < n)
            ring_transfers(b, s, steps[i], pend, next);
        after_transfers(b, s, step_ps, role, "attention step", pend);
        for (int k = 0; k < b->nmem; k++)
            pend[k] = i < n ? next[k] : -1;
    }
    int waiting = 0;
    for (int k = 0; k < b->nmem; k++)
        waiting |= pend[k] >= 0;
    if (waiting) /* the backward's last dK, dV before the layer ends */
        after_transfers(b, s, 0, R_CP, "cp wait", pend);
    free(steps);
}

void trainsim_cp_pass(builder *b, int s, const chunk_cost *c, int pass)
{
    double exposed = pass == CP_FWD ? c->cp_fwd_exposed_s
                     : pass == CP_BWD ? c->cp_bwd_exposed_s : c->cp_rec_exposed_s;
    if (c->cp_layers == 0)
        return;
    if (pass == CP_BWD) /* the closed form's hidden seconds, reported as such */
        b->cp_hidden_s[s] += c->cp_hidden_s;
    if (b->folded) {
        if (exposed > 0)
            phase_compute(b, s, units_s_to_ps_ceil(exposed), R_CP, "cp comm");
        return;
    }
    const cpcomm_volume *v = &b->cc.cp_volume;
    int *pend = int_array((size_t)b->nmem, -1), *next = int_array((size_t)b->nmem, -1);
    for (int layer = 0; layer < c->cp_layers; layer++) {
        /* backward: dO arrives by all-to-all, dQ, dK, dV leave by it */
        if (v->a2a_ranks > 1)
            a2a_all(b, s, pass == CP_BWD ? v->a2a_out_bytes : v->a2a_qkv_bytes);
        ring_layer(b, s, c, pass, pend, next);
        if (v->a2a_ranks > 1)
            a2a_all(b, s, pass == CP_BWD ? v->a2a_qkv_bytes : v->a2a_out_bytes);
    }
    free(pend);
    free(next);
}

int trainsim_cp_group_base(const builder *b, int k)
{
    int tp = b->l->tp, cp = layout_cp_of(b->l), a = a2a_ranks(b);
    int r = k % tp, j = k / tp, c = j % cp, d = j / cp;
    return member_of(b, r, c - c % a, d);
}
