/* trainsim: lowering a pipeline schedule to exec tasks, running it, and
 * reading the breakdown back (see trainsim.h). */
#include "trainsim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_alloc.h"
#include "memory.h"
#include "schedule.h"
#include "units.h"
#include "workload.h"

/* What a task stands for, for the breakdown. */
enum role { R_NONE, R_FWD, R_BWD, R_REC, R_TP, R_DP, R_OPT, R_AG, R_P2P };

typedef struct task_info {
    unsigned char role;
    int stage, member; /* member -1: not read back */
    int in_transfer;   /* the transfer this task waits for, or -1 */
    int chunk, microbatch; /* the unit it belongs to, -1 outside units */
    int gpu;           /* tasks without a stream: the GPU that starts them */
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
    int cur_chunk, cur_mb; /* the unit being emitted, -1 outside units */
    coll_plan *tp_plans; /* all-ranks: [(stage * dp + d) * NTP + op] */
    coll_plan *dp_plans; /* all-ranks: [(stage * tp + r) * NDP + op] */
    const double *gpu_factor; /* stragglers: compute time factor per GPU, or NULL */
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
    b->info[id] = (task_info){(unsigned char)role, s,  k, -1, b->cur_chunk, b->cur_mb,
                              k >= 0 ? gpu_of(b, s, k) : -1};
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
        uint64_t d = b->gpu_factor ? (uint64_t)llround((double)dur_ps * b->gpu_factor[gpu_of(b, s, k)])
                                   : dur_ps;
        int id = exec_compute(b->g, b->stream[s * b->nmem + k], d, name);
        if (*last >= 0)
            exec_dep(b->g, *last, id);
        *last = id;
        note(b, id, role, s, k);
        if (k == 0)
            first = id;
    }
    return first;
}

/* A collective as flows on the topology; where the device profile has a
 * fit for it (commcost_fitted_s), a task of the fitted time instead, as
 * the analytic estimate prices it: on the stream given, or a delay. */
static int coll_task(builder *b, const coll_plan *plan, uint64_t bytes, int stream,
                     const char *name)
{
    double fitted_s = commcost_fitted_s(b->in->eff->profile, plan, bytes);
    if (fitted_s < 0)
        return exec_collective(b->g, stream, plan, bytes, name);
    uint64_t fitted_ps = units_s_to_ps_ceil(fitted_s);
    return stream >= 0 ? exec_compute(b->g, stream, fitted_ps, name)
                       : exec_delay(b->g, fitted_ps, name);
}

/* One collective over the members of group `grp` (members k = base + i * stride). */
static int phase_group_coll(builder *b, int s, const coll_plan *plan, uint64_t bytes, int stream,
                            int base, int stride, int count, int role, const char *name,
                            int on_dp)
{
    int id = coll_task(b, plan, bytes, stream, name);
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

static void emit_unit(builder *b, int s, const schedule_unit *u)
{
    b->cur_chunk = u->chunk;
    b->cur_mb = u->microbatch;
    if (u->backward)
        emit_backward(b, s, u);
    else
        emit_forward(b, s, u);
    b->cur_chunk = b->cur_mb = -1;
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
    for (int i = 0; i < n; i++)
        emit_unit(b, s, &order[i]);
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
                    b->info[t].gpu = gpu_of(b, from_vs % pp, k);
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
    b->cur_chunk = b->cur_mb = -1;
    b->in = in;
    b->l = in->layout;
    b->folded = mode == TRAINSIM_FOLDED;
    b->m = layout_microbatches(b->l);
    b->nmem = b->folded ? 1 : b->l->tp * b->l->dp;
    double units_all = (double)b->l->pp * b->l->vpp * b->m * b->nmem;
    if (units_all > TRAINSIM_MAX_UNITS) /* memory and time grow with them: bound the work */
        return cs_fail(err, "the iteration has %.0f units of work to simulate (microbatches %d x "
                            "stages %d x chunks %d%s); the limit is %d: a larger mbs or a "
                            "smaller gbs", units_all, b->m, b->l->pp, b->l->vpp,
                       b->folded ? "" : " x ranks per stage", TRAINSIM_MAX_UNITS);
    if (commcost_build(in->topology, in->model, b->l, in->eff->profile, &b->cc, err) != 0)
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

/* The member each stage is read back from: the GPU that finishes last (in
 * folded mode the one member).  The last one is where the stage's time
 * went; an earlier one would show waiting for the others as idle time. */
static int *slowest_members(const builder *b)
{
    int pp = b->l->pp, ntasks = exec_task_count(b->g);
    int *member = int_array((size_t)pp, 0);
    uint64_t *end = calloc((size_t)pp, sizeof *end);
    if (!end)
        abort();
    for (int id = 0; id < ntasks; id++) {
        const task_info *ti = &b->info[id];
        if (ti->member < 0 || ti->role == R_DP || ti->role == R_P2P || ti->role == R_NONE)
            continue;
        uint64_t e = exec_task_end_ps(b->g, id);
        if (e > end[ti->stage] || (e == end[ti->stage] && ti->member < member[ti->stage])) {
            end[ti->stage] = e;
            member[ti->stage] = ti->member;
        }
    }
    free(end);
    return member;
}

/* Whether a task is on the chosen member's timeline: its own, or (all
 * ranks) a tensor-parallel collective of its group, noted on the group's
 * first member. */
static int reads(const builder *b, const task_info *ti, const int *member)
{
    int k = member[ti->stage];
    if (ti->role == R_TP && !b->folded)
        return ti->member == k - member_tp(b, k);
    return ti->member == k;
}

static void read_breakdown(const builder *b, estimate_result *out)
{
    int ntasks = exec_task_count(b->g);
    uint64_t *prev_end = calloc((size_t)b->l->pp, sizeof *prev_end);
    if (!prev_end)
        abort();
    int *member = slowest_members(b);
    for (int id = 0; id < ntasks; id++) {
        const task_info *ti = &b->info[id];
        if (ti->role == R_DP || ti->role == R_P2P || ti->role == R_NONE || !reads(b, ti, member))
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
    free(member);
}

/* ---- the timeline ------------------------------------------------------------ */

static const tl_kind role_kind[] = {
    [R_FWD] = TL_FORWARD, [R_BWD] = TL_BACKWARD, [R_REC] = TL_RECOMPUTE, [R_TP] = TL_TP_COMM,
    [R_DP] = TL_DP_COMM,  [R_OPT] = TL_OPTIMIZER, [R_AG] = TL_PARAM_GATHER, [R_P2P] = TL_P2P};

/* The track of a task: its stream's, or one per GPU for streamless tasks
 * (transfers on "p2p send", all-ranks tensor-parallel collectives on "tp"). */
static int task_track(const builder *b, timeline *tl, int id, int *stream_track, int *gpu_track)
{
    int st = exec_task_stream(b->g, id);
    const task_info *ti = &b->info[id];
    if (st >= 0) {
        if (stream_track[st] < 0)
            stream_track[st] = timeline_add_track(tl, exec_stream_gpu(b->g, st), ti->stage,
                                                  exec_stream_label(b->g, st));
        return stream_track[st];
    }
    int which = ti->role == R_P2P ? 0 : 1;
    int *slot = &gpu_track[ti->gpu * 2 + which];
    if (*slot < 0)
        *slot = timeline_add_track(tl, ti->gpu, ti->role == R_P2P ? -1 : ti->stage,
                                   which ? "tp" : "p2p send");
    return *slot;
}

static void record_slices(const builder *b, timeline *tl, int *slice_of)
{
    int ntasks = exec_task_count(b->g), nstreams = exec_stream_count(b->g);
    int *stream_track = int_array((size_t)nstreams, -1);
    int *gpu_track = int_array((size_t)layout_gpus(b->l) * 2, -1);
    int per_chunk = layout_layers_per_chunk(b->l, b->in->model);
    for (int id = 0; id < ntasks; id++) {
        const task_info *ti = &b->info[id];
        slice_of[id] = -1;
        if (ti->role == R_NONE)
            continue;
        tl_slice sl = {task_track(b, tl, id, stream_track, gpu_track), role_kind[ti->role],
                       ti->stage, ti->chunk, ti->microbatch, -1, -1,
                       exec_task_start_ps(b->g, id), exec_task_end_ps(b->g, id), ""};
        if (ti->chunk >= 0 && ti->role != R_P2P) {
            int vs = ti->chunk * b->l->pp + ti->stage;
            sl.layer_first = vs * per_chunk;
            sl.layer_last = sl.layer_first + per_chunk - 1;
        }
        snprintf(sl.name, sizeof sl.name, "%s", exec_task_name(b->g, id));
        slice_of[id] = timeline_add_slice(tl, &sl);
    }
    free(stream_track);
    free(gpu_track);
}

static void record_memory(const builder *b, timeline *tl)
{
    const model_desc *m = b->in->model;
    tl->usable_bytes = memory_usable_bytes(estimate_device(b->in->topology));
    for (int s = 0; s < b->l->pp; s++) {
        memory_breakdown mb;
        cs_err ignored;
        if (memory_per_stage(m, b->l, s, &mb, &ignored) != 0)
            continue; /* cannot happen: the layout was validated */
        tl_memory *mem = &tl->memory[s];
        mem->static_bytes = mb.weights_bytes + mb.grads_bytes + mb.optimizer_bytes + mb.buffers_bytes;
        mem->working_bytes = memory_recompute_working_bytes(m, b->l);
        for (int c = 0; c < b->l->vpp; c++)
            mem->unit_bytes[c] = memory_unit_bytes(m, b->l, s, c);
    }
    timeline_memory_build(tl);
}

/* Slices with the transfers' flows, and memory over time. */
static void record_timeline(const builder *b, uint64_t makespan_ps, timeline *tl)
{
    char desc[120];
    timeline_init(tl, b->l->pp, b->l->vpp, b->m);
    snprintf(tl->title, sizeof tl->title, "%s, %s", b->in->model->name,
             layout_describe(b->l, desc, sizeof desc));
    tl->gpus = b->in->gpus;
    tl->makespan_ps = makespan_ps;
    int ntasks = exec_task_count(b->g);
    int *slice_of = int_array((size_t)ntasks, -1);
    record_slices(b, tl, slice_of);
    for (int id = 0; id < ntasks; id++) {
        int t = b->info[id].in_transfer;
        if (t >= 0 && slice_of[t] >= 0 && slice_of[id] >= 0)
            timeline_add_flow(tl, slice_of[t], slice_of[id]);
    }
    free(slice_of);
    record_memory(b, tl);
}

/* Each GPU's compute-stream busy time (not the fitted data-parallel
 * collectives that run as timed tasks on the "dp" stream). */
static void read_busy(const builder *b, double *busy_s, int gpus)
{
    for (int i = 0; i < gpus; i++)
        busy_s[i] = 0;
    for (int t = 0; t < exec_task_count(b->g); t++) {
        int stream = exec_task_stream(b->g, t), role = b->info[t].role;
        if (exec_task_kind(b->g, t) != EXEC_COMPUTE || stream < 0 || role == R_DP || role == R_AG)
            continue;
        int gpu = exec_stream_gpu(b->g, stream);
        if (gpu >= 0 && gpu < gpus)
            busy_s[gpu] += units_ps_to_s(exec_task_end_ps(b->g, t) - exec_task_start_ps(b->g, t));
    }
}

static int simulate(const estimate_input *in, trainsim_mode mode, const trainsim_slow *slow,
                    estimate_result *out, timeline *tl, trainsim_stats *stats, cs_err *err)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (estimate_begin(in, out, err) != 0)
        return -1;
    builder b;
    int rc = builder_init(&b, in, mode, err);
    b.gpu_factor = slow ? slow->gpu_factor : NULL;
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
        if (tl)
            record_timeline(&b, res.makespan_ps, tl);
        if (slow && slow->gpu_busy_s)
            read_busy(&b, slow->gpu_busy_s, in->gpus);
    }
    builder_free(&b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (stats)
        *stats = (trainsim_stats){res.tasks, res.events,
                                  (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9};
    return rc;
}

int trainsim_run(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                 trainsim_stats *stats, cs_err *err)
{
    return simulate(in, mode, NULL, out, NULL, stats, err);
}

int trainsim_run_slow(const estimate_input *in, const trainsim_slow *slow, estimate_result *out,
                      cs_err *err)
{
    return simulate(in, TRAINSIM_ALL_RANKS, slow, out, NULL, NULL, err);
}

int trainsim_record(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                    timeline *tl, trainsim_stats *stats, cs_err *err)
{
    memset(tl, 0, sizeof *tl);
    return simulate(in, mode, NULL, out, tl, stats, err);
}
