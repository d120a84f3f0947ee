/* trainsim: lowering a pipeline schedule to exec tasks and running it (see
 * trainsim.h); reading the breakdown and the timeline back is in
 * trainsim_read.c. */
#include "trainsim.h"


#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commcost_ep.h"
#include "cs_alloc.h"
#include "estimate_sched.h"
#include "memory.h"
#include "offloadsim.h"
#include "layout_stages.h"
#include "offloadtrace.h"
#include "schedule.h"
#include "units.h"
#include "trainsim_private.h"
#include "workload.h"


/* ---- ZeRO-3: a layer's parameters gathered before it computes ---------------- */

/* Before piece j of a pass of n layers: the gathers through layer
 * j + prefetch not yet issued, each waiting for what the stage has done
 * so far (FSDP issues the next unit's all-gather as the current one starts:
 * _prefetch_handle); they queue on the data-parallel stream. */
static void gather_ahead(builder *b, int s, int j, int n, uint64_t bytes, int *issued)
{
    int ring = b->l->prefetch + 1;
    for (; *issued < n && *issued <= j + b->l->prefetch; (*issued)++) {
        trainsim_phase_dp(b, s, P_GATHER, bytes, R_GATHER);
        for (int k = 0; k < b->nmem; k++)
            b->gate[(s * b->nmem + k) * ring + *issued % ring] = b->last_dp[s * b->nmem + k];
    }
}

/* The piece whose members' tasks start at `first` waits for layer j's gather. */
static void wait_gather(builder *b, int s, int first, int j)
{
    int ring = b->l->prefetch + 1;
    for (int k = 0; k < b->nmem; k++) {
        int g = b->gate[(s * b->nmem + k) * ring + j % ring];
        exec_dep(b->g, g, first + k);
        b->info[first + k].in_gather = g;
    }
}

static int gathers(const builder *b) { return b->l->zero == 3 && layout_dp_cp(b->l) > 1; }

/* A pass of n layer pieces of dur_ps in all, each after its layer's gather
 * and followed by its share of the pass's tensor-parallel collectives. */
static int gathered_pass(builder *b, int s, uint64_t dur_ps, int n, uint64_t layer_bytes,
                         int role, const char *name, workload_tp tp, double tp_delta_s)
{
    int first = -1, issued = 0;
    for (int j = 0; j < n; j++) {
        gather_ahead(b, s, j, n, layer_bytes, &issued);
        int id = phase_compute(b, s, dur_ps / (uint64_t)n, role, name);
        wait_gather(b, s, id, j);
        trainsim_phase_tp_part(b, s, tp, tp_delta_s, j, n);
        first = first < 0 ? id : first;
    }
    return first;
}

/* One layer's 16-bit parameters on a GPU of stage s (= its gradients). */
static uint64_t layer_bytes(const builder *b, int s)
{
    return (uint64_t)(workload_grad_bytes(b->in->model, b->l, s) /
                      layout_stage_layers(b->l, b->in->model, s));
}

/* Layers of rank s's chunk `chunk` (its own stage's count, layout_stages.h). */
static int chunk_layers(const builder *b, int s, int chunk)
{
    int at_stage, at_chunk;
    schedule_position(b->l, schedule_vstage(b->l, s, chunk), &at_stage, &at_chunk);
    return layout_stage_chunk_layers(b->l, b->in->model, at_stage);
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
    int vs = schedule_vstage(b->l, s, u->chunk);
    int *st = unit_slot(b, starts, vs, u->microbatch), *en = unit_slot(b, ends, vs, u->microbatch);
    for (int k = 0; k < b->nmem; k++) {
        if (dropped(b, k))
            continue;
        st[k] = first + member_slot(b, k); /* phase_compute adds the members' tasks in order */
        en[k] = b->last[s * b->nmem + k];
    }
}

static void emit_forward(builder *b, int s, const schedule_unit *u)
{
    const chunk_cost *c = &b->chunks[s * b->nchunks + u->chunk];
    const char *name = b->split ? "F forward" : "forward";
    if (b->z3c) {
        record_unit(b, b->fstart, b->fend, s, u, trainsim_coord_unit(b, s, u, c, 0));
        return;
    }
    int first = gathers(b) ? gathered_pass(b, s, c->fwd_ps, chunk_layers(b, s, u->chunk),
                                           layer_bytes(b, s), R_FWD, name, c->tp_fwd, 0)
                           : phase_compute(b, s, c->fwd_ps, R_FWD, name);
    trainsim_cp_pass(b, s, c, CP_FWD);
    if (!gathers(b)) /* else inside the layers' pieces */
        trainsim_phase_tp(b, s, c->tp_fwd, 0);
    trainsim_phase_ep(b, s, c->ep_fwd_ps);
    record_unit(b, b->fstart, b->fend, s, u, first);
}

/* The pass that completes a chunk's gradients (the backward, or W where
 * the schedule splits it) is cut, on its last microbatch, into one piece
 * per gradient bucket when the framework overlaps the reduction. */
static int emit_backward_pieces(builder *b, int s, uint64_t dur_ps, int role, const char *name,
                                int last_of_chunk, const workload_tp *tp, double tp_delta_s)
{
    const layout_desc *l = b->l;
    const commcost_stage *st = &b->cc.stages[s];
    if (!last_of_chunk || layout_dp_cp(l) == 1 || (!framework_of(l->framework)->dp_overlap && l->zero < 3))
        return phase_compute(b, s, dur_ps, role, name); /* ZeRO-3 reduces layer by layer */
    int pieces = (st->buckets + b->nchunks - 1) / b->nchunks; /* ZeRO-3: the chunk's layers */
    double chunk_bytes = workload_grad_bytes(b->in->model, l, s) / b->nchunks; /* 16-bit: gathers */
    double reduce_bytes = workload_grad_reduce_bytes(b->in->model, l, s) / b->nchunks;
    int first = -1, issued = 0, regather = gathers(b) && !l->no_reshard && role != R_WGT;
    for (int j = 0; j < pieces; j++) {
        if (regather)
            gather_ahead(b, s, j, pieces, (uint64_t)(chunk_bytes / pieces), &issued);
        int id = phase_compute(b, s, dur_ps / (uint64_t)pieces, role, name);
        if (regather)
            wait_gather(b, s, id, j);
        if (tp) /* ZeRO-3: the layer's own collectives, the next gather under them */
            trainsim_phase_tp_part(b, s, *tp, tp_delta_s, j, pieces);
        first = first < 0 ? id : first;
        trainsim_phase_dp(b, s, P_REDUCE, (uint64_t)(reduce_bytes / pieces), R_DP);
    }
    return first;
}

static void emit_backward(builder *b, int s, const schedule_unit *u, int last_of_chunk)
{
    const chunk_cost *c = &b->chunks[s * b->nchunks + u->chunk];
    int first = -1;
    if (b->z3c) { /* the recomputation and the backward: the coordinator's steps */
        record_unit(b, b->bstart, b->bend, s, u, trainsim_coord_unit(b, s, u, c, 1));
        return;
    }
    if (c->rec_ps > 0 || (c->cp_layers && b->l->recompute != LAYOUT_RECOMPUTE_NONE)) {
        first = phase_compute(b, s, c->rec_ps, R_REC, "recompute");
        trainsim_cp_pass(b, s, c, CP_REC);
        trainsim_phase_tp(b, s, c->tp_rec, 0);
        trainsim_phase_ep(b, s, c->ep_rec_ps);
    }
    uint64_t hidden_ps = b->folded ? 0 : units_s_to_ps_ceil(-c->tp_bwd_delta_s);
    uint64_t bwd_ps = c->bwd_ps > hidden_ps ? c->bwd_ps - hidden_ps : 0;
    int L = chunk_layers(b, s, u->chunk);
    /* ZeRO-3 regathers layer by layer: the collectives go with the layers */
    int layered = gathers(b) && !b->l->no_reshard && last_of_chunk;
    const workload_tp *tp = layered ? &c->tp_bwd : NULL;
    int id = !b->split ? emit_backward_pieces(b, s, bwd_ps, R_BWD, "backward", last_of_chunk, tp,
                                              c->tp_bwd_delta_s)
             : layered /* B needs the weights; W reduces them */
                 ? gathered_pass(b, s, bwd_ps, L, layer_bytes(b, s), R_BWD, "B input grad",
                                 c->tp_bwd, c->tp_bwd_delta_s)
                 : phase_compute(b, s, bwd_ps, R_BWD, "B input grad");
    first = first < 0 ? id : first;
    trainsim_cp_pass(b, s, c, CP_BWD);
    if (!layered)
        trainsim_phase_tp(b, s, c->tp_bwd, c->tp_bwd_delta_s);
    trainsim_phase_ep(b, s, c->ep_bwd_ps);
    record_unit(b, b->bstart, b->bend, s, u, first);
}

/* W: the weight gradients, after its B on the same stream; no transfer
 * waits for it, only the optimizer (through the gradient buckets). */
static void emit_weight(builder *b, int s, const schedule_unit *u, int last_of_chunk)
{
    const chunk_cost *c = &b->chunks[s * b->nchunks + u->chunk];
    emit_backward_pieces(b, s, c->wgt_ps, R_WGT, "W weight grad", last_of_chunk, NULL, 0);
}

static void emit_unit(builder *b, int s, const schedule_unit *u, int last_of_chunk)
{
    b->cur_chunk = u->chunk;
    b->cur_mb = u->microbatch;
    if (u->backward == SCHEDULE_W)
        emit_weight(b, s, u, last_of_chunk);
    else if (u->backward == SCHEDULE_B)
        emit_backward(b, s, u, last_of_chunk);
    else
        emit_forward(b, s, u);
    b->cur_chunk = b->cur_mb = -1;
}

/* Frameworks that reduce after the backward pass: the whole buffer at once. */
static void emit_reduce_after_backward(builder *b, int s)
{
    const layout_desc *l = b->l;
    if (layout_dp_cp(l) > 1 && !framework_of(l->framework)->dp_overlap && l->zero < 3) /* the whole buffer */
        trainsim_phase_dp(b, s, P_REDUCE,
                          (uint64_t)ceil(workload_grad_reduce_bytes(b->in->model, l, s)), R_DP);
}

/* Optimizer step after the stage's buckets (and the embedding all-reduce,
 * on the first and last stage), then zero 1's all-gather. */
static void emit_step(builder *b, int s)
{
    const layout_desc *l = b->l;
    const dev_type *dev = estimate_device(b->in->topology);
    uint64_t opt_ps = units_s_to_ps_ceil(workload_optimizer_s(b->in->model, l, dev, b->in->eff, s));
    int first = phase_compute(b, s, opt_ps, R_OPT, "optimizer");
    int pair = s < l->pp - 1 - s ? s : l->pp - 1 - s; /* mirrored pair (commcost.h) */
    for (int k = 0; b->emb_task && pair < b->cc.emb_pairs && k < b->nmem; k++)
        if (!dropped(b, k))
            exec_dep(b->g, b->emb_task[pair * b->nmem + (b->folded && b->cc.emb_pairs == 1 ? 0 : k)],
                     first + member_slot(b, k));
    for (int k = 0; k < b->nmem; k++)
        if (!dropped(b, k) && b->last_dp[s * b->nmem + k] >= 0)
            exec_dep(b->g, b->last_dp[s * b->nmem + k], first + member_slot(b, k));
    for (int r = 1; b->folded && r < l->tp; r++) /* the step waits for every group's gradients */
        if (b->shadow_last[s * l->tp + r] >= 0)
            exec_dep(b->g, b->shadow_last[s * l->tp + r], first);
    if (l->zero && l->zero < 3 && layout_dp_cp(l) > 1) /* ZeRO-3 keeps the updated shard only */
        trainsim_phase_dp(b, s, P_GATHER, (uint64_t)workload_grad_bytes(b->in->model, l, s), R_AG);
}

/* Rank s's units in its order; the last unit of each chunk that completes
 * its gradients (W, or the backward) carries the gradient buckets. */
static void emit_stage(builder *b, int s, const schedule_unit *order)
{
    int n = schedule_units(b->l), last[2] = {-1, -1};
    int grads = b->split ? SCHEDULE_W : SCHEDULE_B;
    int *last_of = b->nchunks <= 2 ? last : int_array((size_t)b->nchunks, -1);
    for (int i = 0; i < n; i++)
        if (order[i].backward == grads)
            last_of[order[i].chunk] = i;
    for (int i = 0, pairs = 0; i < n; i++) {
        int len = schedule_group_len(order, i, n); /* DualPipe's F&B: one unit of three */
        b->cur_pair = len > 1 ? ++pairs : 0;
        for (int j = i; j < i + len; j++)
            emit_unit(b, s, &order[j], last_of[order[j].chunk] == j || b->l->zero >= 2);
        if (len > 1)
            trainsim_dualpipe_pair_end(b, s, &order[i]);
        b->cur_pair = 0;
        i += len - 1;
    }
    if (last_of != last)
        free(last_of);
    emit_reduce_after_backward(b, s);
}

/* The virtual stages and ranks of a hop: activations forward (dir 0) from
 * vs to vs + 1, gradients back (dir 1). */
static void hop_ranks(const builder *b, int vs, int dir, int *from_vs, int *to_vs, int *from,
                      int *to)
{
    *from_vs = dir ? vs + 1 : vs;
    *to_vs = dir ? vs : vs + 1;
    *from = schedule_vstage_rank(b->l, *from_vs);
    *to = schedule_vstage_rank(b->l, *to_vs);
}

typedef int (*hop_fn)(builder *b, int vs, int mb, int k, int dir, void *ctx);

/* Every hop of every member between virtual stages, in emission order;
 * stops at the first fn that fails. */
static int each_hop(builder *b, hop_fn fn, void *ctx)
{
    int nv = schedule_vstages(b->l);
    for (int vs = 0; vs + 1 < nv; vs++)
        for (int mb = 0; mb < b->m; mb++) {
            int first, last;
            schedule_path(b->l, mb, &first, &last);
            if (vs < first || vs >= last)
                continue;
            for (int k = 0; k < b->nmem; k++)
                for (int dir = 0; dir < 2; dir++)
                    if (fn(b, vs, mb, k, dir, ctx) != 0)
                        return -1;
        }
    return 0;
}

/* Symmetry classes: a left-out rank's transfer paired with its rank-0
 * counterpart's, routed with the salts of the whole graph (its ids: the
 * transfers come last, in each_hop's order; rank 0 is the first member of
 * its replica, so its transfer comes just before). */
static int pair_hop_transfer(builder *b, int vs, int mb, int k, int dir, void *ctx)
{
    (void)mb;
    uint32_t *salt = ctx; /* [0]: the next transfer's id, [1 + dir]: rank 0's last */
    int from_vs, to_vs, from, to;
    hop_ranks(b, vs, dir, &from_vs, &to_vs, &from, &to);
    if (from == to)
        return 0;
    uint32_t id = salt[0]++;
    if (!dropped(b, k)) {
        salt[1 + dir] = id;
        return 0;
    }
    int k0 = k - member_tp(b, k);
    return trainsim_sym_pair_transfer(b, gpu_of(b, from, k0), gpu_of(b, to, k0), salt[1 + dir],
                                      gpu_of(b, from, k), gpu_of(b, to, k), id)
               ? 0
               : -1;
}

static int emit_hop(builder *b, int vs, int mb, int k, int dir, void *ctx)
{
    (void)ctx;
    int from_vs, to_vs, from, to;
    hop_ranks(b, vs, dir, &from_vs, &to_vs, &from, &to);
    int src = unit_slot(b, dir ? b->bend : b->fend, from_vs, mb)[k];
    int dst = unit_slot(b, dir ? b->bstart : b->fstart, to_vs, mb)[k];
    if (from != to && dropped(b, k))
        b->ghosts++; /* the whole graph's transfer: counted for the later ones' salts */
    if (dropped(b, k))
        return 0;
    if (from == to) {
        exec_dep(b->g, src, dst);
        return 0;
    }
    int t = exec_transfer(b->g, -1, gpu_of(b, from, k), gpu_of(b, to, k), (double)b->cc.p2p_bytes,
                          dir ? "send gradient" : "send activation");
    if (b->drop) /* the route the whole graph's transfer takes */
        exec_set_route_salt(b->g, t, (uint32_t)t + b->ghosts);
    note(b, t, R_P2P, to, -1);
    b->info[t].gpu = gpu_of(b, from, k);
    exec_dep(b->g, src, t);
    exec_dep(b->g, t, dst);
    if (b->info[dst].in_transfer >= 0) /* an F&B unit waits for both directions' inputs */
        b->info[dst].in_transfer2 = t;
    else
        b->info[dst].in_transfer = t;
    return 0;
}

/* Activations forward and gradients backward between virtual stages (on
 * one rank, as where a V turns, a dependency without a send).  Fails, with
 * nothing emitted, when left-out ranks' transfers do not pair with rank 0's. */
static int emit_transfers(builder *b)
{
    uint32_t salt[3] = {(uint32_t)exec_task_count(b->g) + b->ghosts, 0, 0};
    if (b->drop && each_hop(b, pair_hop_transfer, salt) != 0)
        return -1;
    trainsim_sym_done(b);
    return each_hop(b, emit_hop, NULL);
}

/* Every rank's order; zb-auto's built for the times the closed form
 * charges (estimate_sched_costs), the others' for their fixed rules. */
static void unit_orders(const builder *b, schedule_unit *out)
{
    if (b->l->schedule != LAYOUT_SCHEDULE_ZB_AUTO) {
        schedule_orders(b->l, NULL, out);
        return;
    }
    size_t nv = (size_t)schedule_vstages(b->l);
    double *f = cs_xrealloc(NULL, sizeof *f * nv), *bw = cs_xrealloc(NULL, sizeof *bw * nv);
    double *w = cs_xrealloc(NULL, sizeof *w * nv);
    schedule_costs c = {f, bw, w, 0, NULL};
    estimate_sched_costs(b->in->model, b->l, estimate_device(b->in->topology), b->in->eff,
                         &b->cc, f, bw, w, &c.p2p_s);
    schedule_orders(b->l, &c, out);
    free(f);
    free(bw);
    free(w);
}

/* Every stage's units and tail, then the transfers between stages; fails
 * where the symmetry the graph was emitted for does not hold. */
static int emit_all(builder *b)
{
    size_t n = (size_t)schedule_units(b->l);
    schedule_unit *order = cs_xrealloc(NULL, sizeof *order * n * (size_t)b->l->pp);
    unit_orders(b, order);
    for (int s = 0; s < b->l->pp; s++)
        emit_stage(b, s, order + (size_t)s * n);
    if (trainsim_emit_embedding(b) != 0)
        abort(); /* a ring of two GPUs the topology routed for commcost: cannot fail */
    for (int s = 0; s < b->l->pp; s++)
        emit_step(b, s);
    free(order);
    return emit_transfers(b);
}

/* ---- set-up and tear-down ---------------------------------------------------- */

/* a - b, or 0 (the steps' rounding up may pass the whole) */
static uint64_t sub_ps(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
/* Exposed all-to-all picoseconds of a pass (as estimate_chunk_ep_s counts them). */
static uint64_t ep_ps(const builder *b, int s, int count, double compute_s)
{
    double t = commcost_ep_exposed_s(b->in->model, b->l, b->cc.stages[s].ep_a2a_s, count,
                                     compute_s);
    return t > 0 ? units_s_to_ps_ceil(t) : 0;
}

static void chunk_costs(builder *b)
{
    const layout_desc *l = b->l;
    const dev_type *dev = estimate_device(b->in->topology);
    b->chunks = cs_xrealloc(NULL, sizeof *b->chunks * (size_t)(l->pp * b->nchunks));
    for (int s = 0; s < l->pp; s++)
        for (int c = 0; c < b->nchunks; c++) {
            workload_chunk w;
            int at_stage, at_chunk; /* where rank s's chunk c sits in the model */
            schedule_position(l, schedule_vstage(l, s, c), &at_stage, &at_chunk);
            workload_chunk_of(b->in->model, l, dev, b->in->eff, at_stage, at_chunk, &w);
            double weight_s = b->split ? w.bwd_weight_s : 0;
            b->chunks[s * b->nchunks + c] = (chunk_cost){
                .fwd_ps = units_s_to_ps_ceil(w.fwd_s),
                .bwd_ps = units_s_to_ps_ceil(w.bwd_s - weight_s),
                .rec_ps = units_s_to_ps_ceil(w.recompute_s),
                .wgt_ps = units_s_to_ps_ceil(weight_s),
                .tp_bwd_delta_s = commcost_tp_bwd_delta_s(&b->cc.stages[s], l, &w),
                .tp_fwd = w.tp_fwd,
                .tp_bwd = w.tp_bwd,
                .tp_rec = w.tp_recompute,
                .ep_fwd_ps = ep_ps(b, s, w.ep_a2a_fwd, w.fwd_s),
                .ep_bwd_ps = ep_ps(b, s, w.ep_a2a_bwd, w.bwd_s),
                .ep_rec_ps = ep_ps(b, s, w.ep_a2a_rec, w.recompute_s)};
            chunk_cost *cc = &b->chunks[s * b->nchunks + c];
            trainsim_cp_costs(b, s, &w, cc); /* all ranks: the attention runs step by step */
            cc->fwd_ps = sub_ps(cc->fwd_ps, trainsim_cp_attention_ps(b, cc, CP_FWD));
            cc->bwd_ps = sub_ps(cc->bwd_ps, trainsim_cp_attention_ps(b, cc, CP_BWD));
            if (l->recompute != LAYOUT_RECOMPUTE_NONE)
                cc->rec_ps = sub_ps(cc->rec_ps, trainsim_cp_attention_ps(b, cc, CP_REC));
        }
}

static void graph_init(builder *b);

static int builder_init(builder *b, const estimate_input *in, trainsim_mode mode, cs_err *err)
{
    memset(b, 0, sizeof *b);
    b->cur_chunk = b->cur_mb = -1;
    b->in = in;
    b->l = in->layout;
    b->folded = mode == TRAINSIM_FOLDED;
    b->m = layout_microbatches(b->l);
    b->nchunks = schedule_chunks(b->l);
    b->split = schedule_splits_backward(b->l);
    b->nmem = b->folded ? 1 : b->l->tp * layout_dp_cp(b->l);
    if (!b->folded && layout_gpus(b->l) > TRAINSIM_MAX_ALL_RANKS)
        return cs_fail(err, "every rank of %lld GPUs to simulate; the limit is %ld: fewer GPUs",
                       layout_gpus(b->l), (long)TRAINSIM_MAX_ALL_RANKS);
    double units_all = (double)b->l->pp * b->l->vpp * b->m * b->nmem;
    if (units_all > TRAINSIM_MAX_UNITS) { /* memory and time grow with them: bound the work */
        char ranks[48] = "";
        if (b->nmem > 1)
            snprintf(ranks, sizeof ranks, " x ranks per stage %d", b->nmem);
        return cs_fail(err, "the iteration has %.0f units of work to simulate (microbatches %d x "
                            "stages %d x chunks %d%s); the limit is %d: a larger mbs or a "
                            "smaller gbs", units_all, b->m, b->l->pp, b->l->vpp, ranks,
                       TRAINSIM_MAX_UNITS);
    }
    if (commcost_build(in->topology, in->model, b->l, in->eff->profile, &b->cc, err) != 0)
        return -1;
    b->shard = commcost_shard_ranks(b->l);
    b->replicas = layout_dp_cp(b->l) / b->shard;
    b->ndpg = b->l->tp * b->replicas;
    if ((!b->folded || layout_dp_cp(b->l) > 1) && trainsim_build_group_plans(b, err) != 0)
        return -1;
    if (trainsim_cp_plans(b, err) != 0)
        return -1;
    b->cp_hidden_s = calloc((size_t)b->l->pp, sizeof *b->cp_hidden_s);
    if (!b->cp_hidden_s)
        abort();
    if (b->folded)
        trainsim_find_sharing_groups(b);
    if (trainsim_coord_init(b, err) != 0)
        return -1;
    chunk_costs(b);
    trainsim_dualpipe_costs(b);
    graph_init(b);
    return 0;
}

/* The task graph and what records it, apart from the plans it runs on. */
static void graph_init(builder *b)
{
    b->g = exec_new();
    size_t per_stage = (size_t)b->l->pp * b->nmem;
    size_t units = (size_t)schedule_vstages(b->l) * b->m * b->nmem;
    b->stream = int_array(per_stage, -1);
    b->dp_stream = int_array(per_stage, -1);
    b->last = int_array(per_stage, -1);
    b->last_dp = int_array(per_stage, -1);
    b->gate = int_array(per_stage * (size_t)(b->l->prefetch + 1), -1);
    b->fstart = int_array(units, -1);
    b->fend = int_array(units, -1);
    b->bstart = int_array(units, -1);
    b->bend = int_array(units, -1);
    b->shadow_stream = int_array((size_t)b->l->pp * b->l->tp, -1);
    b->shadow_last = int_array((size_t)b->l->pp * b->l->tp, -1);
    for (int s = 0; b->folded && layout_dp_cp(b->l) > 1 && s < b->l->pp; s++)
        for (int r = 1; r < b->l->tp; r++)
            b->shadow_stream[s * b->l->tp + r] =
                exec_stream(b->g, commcost_gpu(b->l, r, 0, s), "dp");
    for (int s = 0; s < b->l->pp; s++)
        for (int k = 0; k < b->nmem; k++) {
            b->stream[s * b->nmem + k] = exec_stream(b->g, gpu_of(b, s, k), "compute");
            b->dp_stream[s * b->nmem + k] = exec_stream(b->g, gpu_of(b, s, k), "dp");
        }
}

static void graph_free(builder *b)
{
    int *arrays[] = {b->stream, b->dp_stream, b->last,   b->last_dp,      b->fstart,
                     b->fend,   b->bstart,    b->bend,   b->shadow_stream, b->shadow_last,
                     b->gate};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
    free(b->info);
    b->info = NULL;
    b->capinfo = 0;
    free(b->emb_task);
    b->emb_task = NULL;
    for (int k = 0; b->emb_plans && k < b->nmem * b->cc.emb_pairs; k++)
        coll_plan_free(&b->emb_plans[k]);
    free(b->emb_plans);
    b->emb_plans = NULL;
    exec_free(b->g);
    b->g = NULL;
}

/* The metrics, after the offload's transfers (issue 17) with the bandwidths
 * the engine's flows get. */
static int finish_offload(const estimate_input *in, estimate_result *out, cs_err *err)
{
    offload_bw bw;
    if (in->layout->offload != OFFLOAD_NONE && offloadsim_bw(in, &bw, err) != 0)
        return -1;
    estimate_finish_bw(in, in->layout->offload != OFFLOAD_NONE ? &bw : NULL, out);
    return 0;
}

static void builder_free(builder *b)
{
    graph_free(b);
    free(b->chunks);
    free(b->shares);
    trainsim_free_group_plans(b);
    trainsim_sym_free(b);
    trainsim_cp_free(b);
    free(b->cp_hidden_s);
    commcost_free(&b->cc);
    trainsim_coord_free(b);
}

/* Emits the iteration, leaving out the tensor ranks that copy rank 0 where
 * the symmetry holds (trainsim_sym.c; never with a timeline or slowdowns,
 * which read every GPU back); where the transfers' routes show that it does
 * not, emits it whole again. */
static int emit_iteration(builder *b, const trainsim_slow *slow, int symmetry, cs_err *err)
{
    b->gpu_factor = slow ? slow->gpu_factor : NULL;
    if (symmetry)
        trainsim_sym_plan(b);
    if (emit_all(b) == 0)
        return 0;
    graph_free(b); /* the symmetry does not hold: every rank, on the same plans */
    trainsim_sym_free(b);
    b->ghosts = 0;
    graph_init(b);
    return emit_all(b) == 0 ? 0 : cs_fail(err, "internal error: emission without symmetry failed");
}

/* simulate's flags: the references the tests hold the fast paths to. */
/* A recording keeps every task: bound its units (TRAINSIM_MAX_RECORDED_UNITS)
 * before any work, as builder_init counts them. */
static int check_recorded_units(const estimate_input *in, trainsim_mode mode, const char *what,
                                const char *other_way, cs_err *err)
{
    const layout_desc *l = in->layout;
    int per_stage = mode == TRAINSIM_FOLDED ? 1 : l->tp * layout_dp_cp(l);
    double units = (double)l->pp * l->vpp * layout_microbatches(l) * per_stage;
    if (units <= TRAINSIM_MAX_RECORDED_UNITS)
        return 0;
    char ranks[48] = "";
    if (per_stage > 1)
        snprintf(ranks, sizeof ranks, " x ranks per stage %d", per_stage);
    return cs_fail(err, "%s of %.0f units of work (microbatches %d x stages %d x chunks %d%s); "
                        "one holds at most %ld: a smaller gbs or a larger mbs%s, or none",
                   what, units, layout_microbatches(l), l->pp, l->vpp, ranks,
                   (long)TRAINSIM_MAX_RECORDED_UNITS, other_way);
}

enum { SIM_FULL_RESOLVE = 1, SIM_PER_RANK = 2 };

static int simulate(const estimate_input *in, trainsim_mode mode, const trainsim_slow *slow,
                    int flags, estimate_result *out, timeline *tl, trainsim_stats *stats,
                    cs_err *err)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (estimate_begin(in, out, err) != 0)
        return -1;
    if (tl && check_recorded_units(in, mode, "a timeline",
                                   mode == TRAINSIM_FOLDED ? "" : ", the folded simulation",
                                   err) != 0)
        return -1; /* out stays the caller's to free, as after any failure here */
    builder b;
    int rc = builder_init(&b, in, mode, err);
    exec_result res = {0};
    if (rc == 0)
        rc = emit_iteration(&b, slow, !(flags & SIM_PER_RANK) && !tl && !slow, err);
    if (rc == 0) {
        exec_set_full_resolve(b.g, (flags & SIM_FULL_RESOLVE) != 0);
        exec_set_timed_collectives(b.g, !(flags & SIM_FULL_RESOLVE)); /* the reference: flows */
        CS_GROW(b.info, b.capinfo, exec_task_count(b.g));
        rc = exec_run(b.g, in->topology, &res, err);
    }
    if (rc == 0) {
        out->iteration_s = units_ps_to_s(res.makespan_ps);
        trainsim_read_breakdown(&b, out);
        if (in->layout->post_validation)
            trainsim_read_post_validated(&b, out);
        rc = finish_offload(in, out, err);
        if (tl) {
            trainsim_record_timeline(&b, res.makespan_ps, tl);
            offloadtrace_counters(&out->offload, 0, tl); /* each tier's utilisation */
        }
        if (slow && slow->gpu_busy_s)
            trainsim_read_busy(&b, slow->gpu_busy_s, in->gpus);
    }
    int left_out = b.drop ? b.l->tp - b.nkept : 0;
    builder_free(&b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (stats)
        *stats = (trainsim_stats){res.tasks, res.events,
                                  (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9,
                                  left_out, res.timed_collectives, res.timed_demoted};
    return rc;
}

int trainsim_run(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                 trainsim_stats *stats, cs_err *err)
{
    return simulate(in, mode, NULL, 0, out, NULL, stats, err);
}

int trainsim_run_full_resolve(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                              cs_err *err)
{
    return simulate(in, mode, NULL, SIM_FULL_RESOLVE | SIM_PER_RANK, out, NULL, NULL, err);
}

int trainsim_run_per_rank(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                          trainsim_stats *stats, cs_err *err)
{
    return simulate(in, mode, NULL, SIM_PER_RANK, out, NULL, stats, err);
}

int trainsim_run_slow(const estimate_input *in, const trainsim_slow *slow, estimate_result *out,
                      cs_err *err)
{
    return simulate(in, TRAINSIM_ALL_RANKS, slow, 0, out, NULL, NULL, err);
}

int trainsim_record(const estimate_input *in, trainsim_mode mode, estimate_result *out,
                    timeline *tl, trainsim_stats *stats, cs_err *err)
{
    memset(tl, 0, sizeof *tl);
    return simulate(in, mode, NULL, 0, out, tl, stats, err);
}

int trainsim_lowered(const estimate_input *in, trainsim_graph_fn fn, void *ctx, cs_err *err)
{

    estimate_result r;
    if (estimate_begin(in, &r, err) != 0)
        return -1;
    estimate_result_free(&r);
    if (check_recorded_units(in, TRAINSIM_ALL_RANKS, "a Chakra trace", "", err) != 0)
        return -1;
    builder b;
    int rc = builder_init(&b, in, TRAINSIM_ALL_RANKS, err);
    if (rc == 0) {
        if (emit_all(&b) == 0) /* without symmetry classes: cannot fail */
            rc = fn(b.g, ctx, err);
    }
    builder_free(&b);
    return rc;
}
