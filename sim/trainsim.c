/* trainsim: lowering a pipeline schedule to exec tasks, running it, and
 * reading the breakdown back (see trainsim.h). */
#include "trainsim.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_alloc.h"
#include "schedule.h"
#include "units.h"
#include "workload.h"

/* What a task stands for, for the breakdown. */
enum role { R_NONE, R_FWD, R_BWD, R_REC, R_TP, R_DP, R_OPT, R_AG, R_P2P };

typedef struct task_info {
    unsigned char role;
    int stage, member; /* member -1: not read back */
    int in_transfer;   /* the transfer this task waits for, or -1 */
} task_info;

typedef struct chunk_cost {
    uint64_t fwd_ps, bwd_ps, rec_ps;
    workload_tp tp_fwd, tp_bwd, tp_rec;
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
    chunk_cost *chunks;               /* [stage * vpp + chunk] */
    int *stream, *dp_stream, *last, *last_dp; /* [stage * nmem + member] */
    int *fstart, *fend, *bstart, *bend;       /* [(vstage * m + mb) * nmem + member] */
    task_info *info;
    int capinfo;
    coll_plan *tp_plans; /* all-ranks: [(stage * dp + d) * NTP + op] */
    coll_plan *dp_plans; /* all-ranks: [(stage * tp + r) * NDP + op] */
} builder;

static int member_tp(const builder *b, int k) { return b->folded ? 0 : k % b->l->tp; }
static int member_dp(const builder *b, int k) { return b->folded ? 0 : k / b->l->tp; }

static int gpu_of(const builder *b, int s, int k)
{
    return commcost_gpu(b->l, member_tp(b, k), member_dp(b, k), s);
}

static void note(builder *b, int id, int role, int s, int k)
{
    CS_GROW(b->info, b->capinfo, id + 1);
    b->info[id] = (task_info){(unsigned char)role, s, k, -1};
}

/* ---- plans for all-ranks mode ------------------------------------------------ */

static int build_group_plans(builder *b, cs_err *err)
{
    const layout_desc *l = b->l;
    int n = l->tp > l->dp ? l->tp : l->dp;
    int32_t *gpus = cs_xrealloc(NULL, sizeof *gpus * (size_t)n);
    coll_params params;
    coll_params_default(&params);
    b->tp_plans = calloc((size_t)l->pp * l->dp * NTP, sizeof *b->tp_plans);
    b->dp_plans = calloc((size_t)l->pp * l->tp * NDP, sizeof *b->dp_plans);
    if (!b->tp_plans || !b->dp_plans)
        abort();
    static const coll_op tp_ops[NTP] = {COLL_ALLREDUCE, COLL_ALLGATHER, COLL_REDUCESCATTER};
    int rc = 0;
    for (int s = 0; rc == 0 && s < l->pp; s++) {
        for (int d = 0; rc == 0 && l->tp > 1 && d < l->dp; d++) {
            for (int r = 0; r < l->tp; r++)
                gpus[r] = commcost_gpu(l, r, d, s);
            for (int op = 0; rc == 0 && op < NTP; op++)
                rc = coll_plan_best(b->in->topology, tp_ops[op], gpus, l->tp, &params,
                                    b->cc.tp_size_bytes, &b->tp_plans[(s * l->dp + d) * NTP + op],
                                    err);
        }
        for (int r = 0; rc == 0 && l->dp > 1 && r < l->tp; r++) {
            for (int d = 0; d < l->dp; d++)
                gpus[d] = commcost_gpu(l, r, d, s);
            const commcost_stage *st = &b->cc.stages[s];
            coll_plan *p = &b->dp_plans[(s * l->tp + r) * NDP];
            rc = coll_plan_best(b->in->topology, st->dp_reduce.op, gpus, l->dp, &params,
                                st->bucket_bytes, &p[P_REDUCE], err);
            if (rc == 0 && l->zero)
                rc = coll_plan_best(b->in->topology, COLL_ALLGATHER, gpus, l->dp, &params,
                                    st->bucket_bytes, &p[P_GATHER], err);
        }
    }
    free(gpus);
    return rc;
}

static void free_group_plans(builder *b)
{
    const layout_desc *l = b->l;
    for (int i = 0; b->tp_plans && i < l->pp * l->dp * NTP; i++)
        coll_plan_free(&b->tp_plans[i]);
    for (int i = 0; b->dp_plans && i < l->pp * l->tp * NDP; i++)
        coll_plan_free(&b->dp_plans[i]);
    free(b->tp_plans);
    free(b->dp_plans);
}

/* ---- phases: one step of every simulated GPU of a stage ---------------------- */

/* A compute task on every member; returns the first member's task. */
static int phase_compute(builder *b, int s, uint64_t dur_ps, int role, const char *name)
{
    int first = -1;
    for (int k = 0; k < b->nmem; k++) {
        int *last = &b->last[s * b->nmem + k];
        int id = exec_compute(b->g, b->stream[s * b->nmem + k], dur_ps, name);
        if (*last >= 0)
            exec_dep(b->g, *last, id);
        *last = id;
        note(b, id, role, s, k);
        if (k == 0)
            first = id;
    }
    return first;
}

/* One collective over the members of group `grp` (members k = base + i * stride). */
static int phase_group_coll(builder *b, int s, const coll_plan *plan, uint64_t bytes, int stream,
                            int base, int stride, int count, int role, const char *name,
                            int on_dp)
{
    int id = exec_collective(b->g, stream, plan, bytes, name);
    for (int i = 0; i < count; i++) {
        int k = base + i * stride;
        exec_dep(b->g, b->last[s * b->nmem + k], id);
        if (on_dp)
            b->last_dp[s * b->nmem + k] = id;
        else
            b->last[s * b->nmem + k] = id;
    }
    note(b, id, role, s, base);
    return id;
}

static const char *const tp_names[NTP] = {"tp all-reduce", "tp all-gather", "tp reduce-scatter"};

/* The blocking tensor-parallel collectives of one pass. */
static void phase_tp(builder *b, int s, workload_tp tp)
{
    int counts[NTP] = {tp.allreduce, tp.allgather, tp.reducescatter};
    if (b->folded) {
        double t = commcost_tp_s(&b->cc.stages[s], counts[P_AR], counts[P_AG], counts[P_RS]);
        if (t > 0)
            phase_compute(b, s, units_s_to_ps_ceil(t), R_TP, "tp comm");
        return;
    }
    const layout_desc *l = b->l;
    for (int d = 0; d < l->dp; d++)
        for (int op = 0; op < NTP; op++)
            for (int j = 0; j < counts[op]; j++)
                phase_group_coll(b, s, &b->tp_plans[(s * l->dp + d) * NTP + op],
                                 b->cc.tp_size_bytes, -1, d * l->tp, 1, l->tp, R_TP,
                                 tp_names[op], 0);
}

/* One data-parallel collective (gradient bucket or parameter all-gather). */
static void phase_dp(builder *b, int s, int which, uint64_t bytes, int role)
{
    const layout_desc *l = b->l;
    const char *name = which == P_REDUCE ? "dp gradient bucket" : "dp parameter all-gather";
    if (b->folded) {
        const commcost_stage *st = &b->cc.stages[s];
        phase_group_coll(b, s, which == P_REDUCE ? &st->dp_reduce : &st->dp_allgather, bytes,
                         b->dp_stream[s], 0, 1, 1, role, name, which == P_REDUCE);
        return;
    }
    for (int r = 0; r < l->tp; r++)
        phase_group_coll(b, s, &b->dp_plans[(s * l->tp + r) * NDP + which], bytes,
                         b->dp_stream[s * b->nmem + r], r, l->tp, l->dp, role, name,
                         which == P_REDUCE);
}

/* ---- units ------------------------------------------------------------------- */

static int *unit_slot(builder *b, int *arr, int vstage, int mb)
{
    return &arr[((size_t)vstage * b->m + mb) * b->nmem];
}

/* Remembers where a unit starts and ends on every member, for the transfers. */
static void record_unit(builder *b, int *starts, int *ends, int s, const schedule_unit *u,
                        int first)
{
    int vs = u->chunk * b->l->pp + s;
    int *st = unit_slot(b, starts, vs, u->microbatch), *en = unit_slot(b, ends, vs, u->microbatch);
    for (int k = 0; k < b->nmem; k++) {
        st[k] = first + k; /* phase_compute adds the members' tasks consecutively */
        en[k] = b->last[s * b->nmem + k];
    }
}

static void emit_forward(builder *b, int s, const schedule_unit *u)
{
    const chunk_cost *c = &b->chunks[s * b->l->vpp + u->chunk];
    int first = phase_compute(b, s, c->fwd_ps, R_FWD, "forward");
    phase_tp(b, s, c->tp_fwd);
    record_unit(b, b->fstart, b->fend, s, u, first);
}

/* The last backward of a chunk is cut into one piece per gradient bucket. */
static int emit_backward_pieces(builder *b, int s, const chunk_cost *c, int last_of_chunk)
{
    const layout_desc *l = b->l;
    const commcost_stage *st = &b->cc.stages[s];
    if (!last_of_chunk || l->dp == 1)
        return phase_compute(b, s, c->bwd_ps, R_BWD, "backward");
    int pieces = (st->buckets + l->vpp - 1) / l->vpp;
    double chunk_bytes = workload_grad_bytes(b->in->model, l, s) / l->vpp;
    int first = -1;
    for (int j = 0; j < pieces; j++) {
        int id = phase_compute(b, s, c->bwd_ps / (uint64_t)pieces, R_BWD, "backward");
        first = first < 0 ? id : first;
        phase_dp(b, s, P_REDUCE, (uint64_t)(chunk_bytes / pieces), R_DP);
    }
    return first;
}

static void emit_backward(builder *b, int s, const schedule_unit *u)
{
    const chunk_cost *c = &b->chunks[s * b->l->vpp + u->chunk];
    int first = -1;
    if (c->rec_ps > 0) {
        first = phase_compute(b, s, c->rec_ps, R_REC, "recompute");
        phase_tp(b, s, c->tp_rec);
    }
    int id = emit_backward_pieces(b, s, c, u->microbatch == b->m - 1);
    first = first < 0 ? id : first;
    phase_tp(b, s, c->tp_bwd);
    record_unit(b, b->bstart, b->bend, s, u, first);
}

/* Optimizer step after the stage's buckets, then zero 1's all-gather. */
static void emit_tail(builder *b, int s)
{
    const layout_desc *l = b->l;
    const dev_type *dev = estimate_device(b->in->topology);
    uint64_t opt_ps = units_s_to_ps_ceil(workload_optimizer_s(b->in->model, l, dev, b->in->eff, s));
    int first = phase_compute(b, s, opt_ps, R_OPT, "optimizer");
    for (int k = 0; k < b->nmem; k++)
        if (b->last_dp[s * b->nmem + k] >= 0)
            exec_dep(b->g, b->last_dp[s * b->nmem + k], first + k);
    if (l->zero && l->dp > 1)
        phase_dp(b, s, P_GATHER, (uint64_t)workload_grad_bytes(b->in->model, l, s), R_AG);
}

static void emit_stage(builder *b, int s, schedule_unit *order)
{
    schedule_order(b->l, s, order);
    int n = schedule_units(b->l);
    for (int i = 0; i < n; i++) {
        if (order[i].backward)
            emit_backward(b, s, &order[i]);
        else
            emit_forward(b, s, &order[i]);
    }
    emit_tail(b, s);
}

/* Activations forward and gradients backward between virtual stages. */
static void emit_transfers(builder *b)
{
    int pp = b->l->pp, nv = pp * b->l->vpp;
    for (int vs = 0; vs + 1 < nv; vs++)
        for (int mb = 0; mb < b->m; mb++)
            for (int k = 0; k < b->nmem; k++)
                for (int dir = 0; dir < 2; dir++) {
                    int from_vs = dir ? vs + 1 : vs, to_vs = dir ? vs : vs + 1;
                    int src = unit_slot(b, dir ? b->bend : b->fend, from_vs, mb)[k];
                    int dst = unit_slot(b, dir ? b->bstart : b->fstart, to_vs, mb)[k];
                    int t = exec_transfer(b->g, -1, gpu_of(b, from_vs % pp, k),
                                          gpu_of(b, to_vs % pp, k), (double)b->cc.p2p_bytes,
                                          dir ? "send gradient" : "send activation");
                    note(b, t, R_P2P, to_vs % pp, -1);
                    exec_dep(b->g, src, t);
                    exec_dep(b->g, t, dst);
                    b->info[dst].in_transfer = t;
                }
}

/* ---- set-up and tear-down ---------------------------------------------------- */

static void chunk_costs(builder *b)
{
    const layout_desc *l = b->l;
    const dev_type *dev = estimate_device(b->in->topology);
    b->chunks = cs_xrealloc(NULL, sizeof *b->chunks * (size_t)(l->pp * l->vpp));
    for (int s = 0; s < l->pp; s++)
        for (int c = 0; c < l->vpp; c++) {
            workload_chunk w;
            workload_chunk_of(b->in->model, l, dev, b->in->eff, s, c, &w);
            b->chunks[s * l->vpp + c] = (chunk_cost){
                units_s_to_ps_ceil(w.fwd_s), units_s_to_ps_ceil(w.bwd_s),
                units_s_to_ps_ceil(w.recompute_s), w.tp_fwd, w.tp_bwd, w.tp_recompute};
        }
}

static int *int_array(size_t n, int fill)
{
    int *a = cs_xrealloc(NULL, sizeof *a * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        a[i] = fill;
    return a;
}

static int builder_init(builder *b, const estimate_input *in, trainsim_mode mode, cs_err *err)
{
    memset(b, 0, sizeof *b);
    b->in = in;
    b->l = in->layout;
    b->folded = mode == TRAINSIM_FOLDED;
    b->m = layout_microbatches(b->l);
    b->nmem = b->folded ? 1 : b->l->tp * b->l->dp;
    if (commcost_build(in->topology, in->model, b->l, &b->cc, err) != 0)
        return -1;
    if (!b->folded && build_group_plans(b, err) != 0)
        return -1;
    chunk_costs(b);
    b->g = exec_new();
    size_t per_stage = (size_t)b->l->pp * b->nmem;
    size_t units = (size_t)b->l->pp * b->l->vpp * b->m * b->nmem;
    b->stream = int_array(per_stage, -1);
    b->dp_stream = int_array(per_stage, -1);
    b->last = int_array(per_stage, -1);
    b->last_dp = int_array(per_stage, -1);
    b->fstart = int_array(units, -1);
    b->fend = int_array(units, -1);
    b->bstart = int_array(units, -1);
    b->bend = int_array(units, -1);
    for (int s = 0; s < b->l->pp; s++)
        for (int k = 0; k < b->nmem; k++) {
            b->stream[s * b->nmem + k] = exec_stream(b->g, gpu_of(b, s, k), "compute");
            b->dp_stream[s * b->nmem + k] = exec_stream(b->g, gpu_of(b, s, k), "dp");
        }
    return 0;
}

static void builder_free(builder *b)
{
    int *arrays[] = {b->stream, b->dp_stream, b->last,   b->last_dp,
                     b->fstart, b->fend,      b->bstart, b->bend};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
    free(b->chunks);
    free(b->info);
    free_group_plans(b);
    commcost_free(&b->cc);
    exec_free(b->g);
}

/* ---- reading the breakdown back ---------------------------------------------- */

/* Idle time before a task: waiting on its incoming transfer counts as p2p
 * (at most the transfer's own duration), waiting before the optimizer as
 * exposed data-parallel time, anything else as bubble. */
static void account_gap(const builder *b, const task_info *ti, int id, double gap_s,
                        estimate_stage *st)
{
    if (gap_s <= 0)
        return;
    if (ti->role == R_OPT) {
        st->dp_exposed_s += gap_s;
        return;
    }
    double p2p = 0;
    if (ti->in_transfer >= 0 &&
        exec_task_end_ps(b->g, ti->in_transfer) == exec_task_start_ps(b->g, id)) {
        double dur = units_ps_to_s(exec_task_end_ps(b->g, ti->in_transfer) -
                                   exec_task_start_ps(b->g, ti->in_transfer));
        p2p = gap_s < dur ? gap_s : dur;
    }
    st->p2p_s += p2p;
    st->bubble_s += gap_s - p2p;
}

static void read_breakdown(const builder *b, estimate_result *out)
{
    int ntasks = exec_task_count(b->g);
    uint64_t *prev_end = calloc((size_t)b->l->pp, sizeof *prev_end);
    if (!prev_end)
        abort();
    for (int id = 0; id < ntasks; id++) {
        const task_info *ti = &b->info[id];
        if (ti->member != 0 || ti->role == R_DP || ti->role == R_P2P || ti->role == R_NONE)
            continue;
        estimate_stage *st = &out->stages[ti->stage];
        uint64_t start = exec_task_start_ps(b->g, id), end = exec_task_end_ps(b->g, id);
        uint64_t from = start > prev_end[ti->stage] ? start : prev_end[ti->stage];
        if (ti->role == R_TP && !b->folded)
            from = prev_end[ti->stage]; /* waiting for the group is part of the collective */
        else
            account_gap(b, ti, id, units_ps_to_s(start - prev_end[ti->stage]), st);
        double busy = units_ps_to_s(end - from);
        switch (ti->role) {
        case R_FWD: case R_BWD: st->compute_s += busy; break;
        case R_REC: st->recompute_s += busy; break;
        case R_TP: st->tp_comm_s += busy; break;
        default: st->optimizer_s += busy; break; /* optimizer, parameter all-gather */
        }
        prev_end[ti->stage] = end;
    }
    for (int s = 0; s < b->l->pp; s++)
        out->stages[s].bubble_s += out->iteration_s - units_ps_to_s(prev_end[s]);
    free(prev_end);
}

int trainsim_run(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                 trainsim_stats *stats, cs_err *err)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (estimate_begin(in, out, err) != 0)
        return -1;
    builder b;
    int rc = builder_init(&b, in, mode, err);
    exec_result res = {0};
    if (rc == 0) {
        schedule_unit *order = cs_xrealloc(NULL, sizeof *order * (size_t)schedule_units(b.l));
        for (int s = 0; s < b.l->pp; s++)
            emit_stage(&b, s, order);
        free(order);
        emit_transfers(&b);
        CS_GROW(b.info, b.capinfo, exec_task_count(b.g));
        rc = exec_run(b.g, in->topology, &res, err);
    }
    if (rc == 0) {
        out->iteration_s = units_ps_to_s(res.makespan_ps);
        read_breakdown(&b, out);
        estimate_finish(in, out);
    }
    builder_free(&b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (stats)
        *stats = (trainsim_stats){res.tasks, res.events,
                                  (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9};
    return rc;
}
