/* trainsim_coord: --offload-engine deepspeed-2021 lowered to tasks: the
 * steps of DeepSpeed v0.3.13's coordinator (costmodel/zero3_coord.h), each
 * step's gathers and reductions on the data-parallel stream and its
 * compute after the communication it waits for. */
#include <stdlib.h>

#include "layout_stages.h"
#include "trainsim_private.h"

/* Step st's gathers and reductions on the data-parallel stream, each after
 * the compute before it; sets gate_task[k] to the data-parallel task its
 * compute waits for (-1: none; the trace's gate is the communication just
 * before the step or one of its own). */
static void coord_comm(builder *b, int s, const z3c_trace *t, const z3c_step *st,
                       int *gate_task)
{
    double layer_bytes_per_elem = 2; /* 16-bit parameters */
    const commcost_stage *cs = &b->cc.stages[s];
    double grad_bytes_per_elem = 2 * (double)cs->bucket_bytes /
                                 (double)(cs->layer_bytes ? cs->layer_bytes : 1);
    for (int k = 0; k < b->nmem; k++)
        gate_task[k] = st->gate >= 0 && st->gate == st->first - 1 ? b->last_dp[s * b->nmem + k]
                                                                   : -1;
    for (int c = st->first; c < st->first + st->n; c++) {
        const z3c_comm *cm = &t->comm[c];
        uint64_t bytes = (uint64_t)ceil(cm->elems * (cm->reduce ? grad_bytes_per_elem
                                                                 : layer_bytes_per_elem));
        trainsim_phase_dp(b, s, cm->reduce ? P_REDUCE : P_GATHER, bytes,
                          cm->reduce ? R_DP : R_GATHER);
        for (int k = 0; c == st->gate && k < b->nmem; k++)
            gate_task[k] = b->last_dp[s * b->nmem + k];
    }
}

/* The steps of passes lo..hi of trace t: each step's communication, then
 * its compute (its share of its layer's pass) after its gate; a layer's
 * tensor-parallel collectives after its last step in a pass (the root's
 * steps have none).  Returns the first compute task. */
static int coord_steps(builder *b, int s, const z3c_trace *t, const uint64_t layer_ps[Z3C_NPASS],
                       const workload_tp tp[Z3C_NPASS], const double tp_delta_s[Z3C_NPASS],
                       int lo, int hi)
{
    static const char *const names[Z3C_NPASS] = {"forward", "recompute", "backward"};
    static const int roles[Z3C_NPASS] = {R_FWD, R_REC, R_BWD};
    int *gate_task = int_array((size_t)b->nmem, -1), first = -1;
    for (int i = 0; i < t->nsteps; i++) {
        const z3c_step *st = &t->steps[i];
        if (st->pass < lo || st->pass > hi)
            continue;
        uint64_t ps = (uint64_t)llround(st->share * (double)layer_ps[st->pass]);
        if (ps > 0 || st->n > 0 || st->gate >= 0) { /* else the step changes nothing */
            coord_comm(b, s, t, st, gate_task);
            int id = phase_compute(b, s, ps, roles[st->pass], names[st->pass]);
            for (int k = 0; k < b->nmem; k++)
                if (!dropped(b, k) && gate_task[k] >= 0) {
                    exec_dep(b->g, gate_task[k], id + member_slot(b, k));
                    b->info[id + member_slot(b, k)].in_gather = gate_task[k];
                }
            first = first < 0 ? id : first;
        }
        const z3c_step *next = i + 1 < t->nsteps ? &t->steps[i + 1] : NULL;
        if (st->layer >= 0 && (!next || next->pass != st->pass || next->layer != st->layer)) {
            int j = st->pass == Z3C_FWD ? st->layer : t->layers - 1 - st->layer;
            trainsim_phase_tp_part(b, s, tp[st->pass], tp_delta_s[st->pass], j, t->layers);
        }
    }
    free(gate_task);
    return first;
}

int trainsim_coord_unit(builder *b, int s, const schedule_unit *u, const chunk_cost *c,
                        int backward)
{
    const z3c_trace *t = &b->z3c[u->microbatch == 0 ? 0 : 1];
    uint64_t L = (uint64_t)t->layers;
    workload_tp tp[Z3C_NPASS] = {c->tp_fwd, c->tp_rec, c->tp_bwd};
    if (!backward) {
        uint64_t layer_ps[Z3C_NPASS] = {c->fwd_ps / L, 0, 0};
        double delta[Z3C_NPASS] = {0, 0, 0};
        return coord_steps(b, s, t, layer_ps, tp, delta, Z3C_FWD, Z3C_FWD);
    }
    /* every rank: the collectives hidden under weight-gradient GEMMs come
     * off the backward's compute (emit_backward) */
    uint64_t hidden_ps = b->folded ? 0 : units_s_to_ps_ceil(-c->tp_bwd_delta_s);
    uint64_t bwd_ps = c->bwd_ps > hidden_ps ? c->bwd_ps - hidden_ps : 0;
    uint64_t layer_ps[Z3C_NPASS] = {0, c->rec_ps / L, bwd_ps / L};
    double delta[Z3C_NPASS] = {0, 0, c->tp_bwd_delta_s};
    return coord_steps(b, s, t, layer_ps, tp, delta, Z3C_REC, Z3C_BWD);
}

int trainsim_coord_init(builder *b, cs_err *err)
{
    if (!z3c_applies(b->l) || layout_dp_cp(b->l) < 2)
        return 0;
    z3c_config cfg = z3c_defaults();
    b->z3c = calloc(2, sizeof *b->z3c);
    if (!b->z3c)
        abort();
    int layers = layout_stage_layers(b->l, b->in->model, 0);
    for (int k = 0; k < 2; k++) /* after the step, then later microbatches */
        if (z3c_build(b->in->model, b->l, layers, k == 0, &cfg, &b->z3c[k], err) != 0)
            return -1;
    /* each step and collective a task on every simulated rank: bound the
     * work as the units are (trainsim.h) */
    double per_mb = (double)b->z3c[1].nsteps + b->z3c[1].ncomm;
    if (per_mb * b->m * b->nmem > TRAINSIM_MAX_UNITS)
        return cs_fail(err, "deepspeed-2021: %.0f coordinator steps and collectives to simulate "
                            "(%.0f a microbatch x microbatches %d x ranks per stage %d); the "
                            "limit is %d: --mode analytic runs the same trace in closed form, "
                            "or a larger mbs", per_mb * b->m * b->nmem, per_mb, b->m, b->nmem,
                       TRAINSIM_MAX_UNITS);
    return 0;
}

void trainsim_coord_free(builder *b)
{
    for (int k = 0; b->z3c && k < 2; k++)
        z3c_free(&b->z3c[k]);
    free(b->z3c);
    b->z3c = NULL;
}
