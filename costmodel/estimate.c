/* estimate: metrics and the closed-form estimate (see estimate.h). */
#include "estimate.h"

#include <math.h>
#include <stdlib.h>

#include "commcost_ep.h"
#include "cs_alloc.h"
#include "estimate_sched.h"
#include "estimate_shard.h"
#include "layout_stages.h"
#include "memory.h"
#include "schedule.h"
#include "workload.h"
#include "zero3_coord.h"

const dev_type *estimate_device(topo *t) { return topo_node_type(t, 0)->gpu; }

int estimate_validate(const estimate_input *in, cs_err *err)
{
    int per_node = topo_node_type(in->topology, 0)->gpus;
    if (in->gpus > topo_gpu_count(in->topology))
        return cs_fail(err, "the job needs %d GPUs but the system has %d", in->gpus,
                       topo_gpu_count(in->topology));
    if (layout_validate(in->layout, in->model, in->gpus, per_node, err) != 0)
        return -1;
    if (offload_validate(in->layout, topo_node_type(in->topology, 0), err) != 0)
        return -1;
    return z3c_applies(in->layout) ? z3c_validate(in->model, in->layout, err) : 0;
}

/* ---- offload (issue 17, offload.h): the verdict per tier and the time ---- */

static const sys_node_type *job_node(const estimate_input *in)
{
    return topo_node_type(in->topology, 0);
}

/* With the stages' footprints without offload (mb[pp]): each stage's GPU
 * peak with offload, the peak stage, the tiers' verdict, fits (every tier). */
static void offload_begin(const estimate_input *in, const memory_breakdown *mb,
                          estimate_result *out)
{
    const layout_desc *l = in->layout;
    if (l->offload == OFFLOAD_NONE)
        return;
    out->peak_stage = 0;
    for (int s = 0; s < l->pp; s++) {
        out->stages[s].peak_mem_bytes = offload_gpu_bytes(in->model, l, &mb[s]);
        if (out->stages[s].peak_mem_bytes > out->stages[out->peak_stage].peak_mem_bytes)
            out->peak_stage = s;
    }
    out->peak_mem_bytes = out->stages[out->peak_stage].peak_mem_bytes;
    /* the tiers hold the most parameters any stage has */
    int most = 0;
    for (int s = 1; s < l->pp; s++)
        most = mb[s].params > mb[most].params ? s : most;
    offload_memory(in->model, l, job_node(in), in->gpus, &mb[most],
                   memory_usable_bytes(estimate_device(in->topology)), &out->offload);
    out->offload.gpu_bytes = out->peak_mem_bytes;
    out->offload.fits_hbm = out->peak_mem_bytes <= out->offload.gpu_capacity_bytes;
    out->fits = out->offload.fits_hbm && out->offload.fits_dram && out->offload.fits_nvme;
}

/* The work of the stage the offload model follows: the one with the most
 * parameters (it moves the most). */
static void base_of(const estimate_input *in, const estimate_result *out, int s, offload_base *b)
{
    const layout_desc *l = in->layout;
    const estimate_stage *e = &out->stages[s];
    b->iteration_s = out->iteration_s;
    /* backward passes do twice the forward's FLOPs */
    b->fwd_s = e->compute_s / 3;
    b->bwd_s = e->compute_s * 2 / 3 + e->recompute_s;
    b->gpu_optimizer_s =
        workload_optimizer_s(in->model, l, estimate_device(in->topology), in->eff, s);
    b->params = memory_stage_params(in->model, l, s);
    b->activation_bytes_per_mb = offload_stored_bytes_per_layer(in->model, l) *
                                 layout_stage_layers(l, in->model, s);
    b->microbatches = layout_microbatches(l);
    b->layers = layout_layers_per_stage(l, in->model);
    /* one checkpoint per layer (Megatron's --checkpoint-activations), its
     * input in 2 B elements, split over the tensor-parallel group
     * (DeepSpeed's partition_activations) */
    b->checkpoint_bytes_per_mb = (double)l->mbs * in->model->seq_len / layout_cp_of(l) *
                                 in->model->hidden * 2.0 / l->tp *
                                 layout_stage_layers(l, in->model, s);
    b->fuyou_recompute_all = l->recompute == LAYOUT_RECOMPUTE_FULL;
    b->model = in->model;
    b->rec_s = e->recompute_s;
}

/* Given the iteration without offload: the iteration with it, each stage's
 * offload_s and optimizer_s, the report's traffic and utilisation.  bw NULL:
 * closed-form bandwidths. */
static void offload_time(const estimate_input *in, const offload_bw *bw, estimate_result *out)
{
    const layout_desc *l = in->layout;
    if (l->offload == OFFLOAD_NONE)
        return;
    int most = 0;
    for (int s = 1; s < l->pp; s++)
        if (memory_stage_params(in->model, l, s) > memory_stage_params(in->model, l, most))
            most = s;
    offload_bw closed;
    if (!bw) {
        offload_bw_closed(job_node(in), in->gpus, &closed);
        bw = &closed;
    }
    offload_base b;
    base_of(in, out, most, &b);
    double iter = offload_apply(l, &b, bw, &out->offload);
    /* Fuyou fills free HBM with activations or parameters (offload_fuyou.c) */
    out->offload.gpu_bytes += out->offload.fuyou_resident_bytes;
    out->stages[most].peak_mem_bytes += out->offload.fuyou_resident_bytes;
    out->peak_mem_bytes = fmax(out->peak_mem_bytes, out->stages[most].peak_mem_bytes);
    for (int s = 0; s < l->pp; s++) {
        estimate_stage *e = &out->stages[s];
        e->optimizer_s -= workload_optimizer_s(in->model, l, estimate_device(in->topology),
                                               in->eff, s);
        e->offload_s = out->offload.exposed_s;
    }
    out->iteration_s = iter;
}

int estimate_begin(const estimate_input *in, estimate_result *out, cs_err *err)
{
    const layout_desc *l = in->layout;
    *out = (estimate_result){0};
    if (estimate_validate(in, err) != 0)
        return -1;
    out->pp = l->pp;
    out->stages = calloc((size_t)l->pp, sizeof *out->stages);
    if (!out->stages)
        abort();
    /* One pass over the stages gives each peak and the worst (memory_peak's
     * rule: the lowest stage on a tie). */
    memory_breakdown *mb = calloc((size_t)l->pp, sizeof *mb);
    if (!mb)
        abort();
    memory_all_stages_valid(in->model, l, mb); /* validated above */
    for (int s = 0; s < l->pp; s++) {
        out->stages[s].peak_mem_bytes = mb[s].peak_bytes;
        if (mb[s].peak_bytes > out->stages[out->peak_stage].peak_mem_bytes)
            out->peak_stage = s;
    }
    out->peak_mem_bytes = out->stages[out->peak_stage].peak_mem_bytes;
    out->fits = out->peak_mem_bytes <= memory_usable_bytes(estimate_device(in->topology));
    offload_begin(in, mb, out);
    free(mb);
    workload_info info;
    workload_info_of(in->model, l, &info);
    out->model_flops_iter = info.model_flops_iter;
    out->hw_flops_iter = info.hw_flops_iter;
    out->tokens_iter = info.tokens_iter;
    return 0;
}

void estimate_finish(const estimate_input *in, estimate_result *out)
{
    estimate_finish_bw(in, NULL, out);
}

void estimate_finish_bw(const estimate_input *in, const offload_bw *bw, estimate_result *out)
{
    offload_time(in, bw, out);
    double gpus = (double)layout_gpus(in->layout);
    double peak = opcost_peak_flops(estimate_device(in->topology), in->layout->dtype);
    out->tokens_per_s = out->tokens_iter / out->iteration_s;
    out->model_tflops_per_gpu = out->model_flops_iter / out->iteration_s / gpus / 1e12;
    out->hw_tflops_per_gpu = out->hw_flops_iter / out->iteration_s / gpus / 1e12;
    out->mfu = out->model_tflops_per_gpu * 1e12 / peak;
    out->hfu = out->hw_tflops_per_gpu * 1e12 / peak;
}

/* One microbatch on one stage, all chunks. */
typedef struct stage_work {
    double fwd_s, bwd_s, rec_s, tp_s, tp_bwd_s;
    double shard_s, shard_hidden_s; /* ZeRO-3's gathers and reductions: exposed, hidden */
    double cp_s, cp_bwd_s, cp_hidden_s; /* context parallelism: exposed (all, backward), hidden */
    double ep_s; /* expert-parallel all-to-alls, exposed */
} stage_work;

/* Context parallelism's exchanges of one chunk (every layer's, forward,
 * recomputed forward and backward) into w, scaled by share. */
static void add_cp(const commcost_stage *st, const commcost *cc, const layout_desc *l,
                   const workload_chunk *ch, double share, stage_work *w)
{
    if (layout_cp_of(l) == 1)
        return;
    cpcomm_chunk c; /* recomputation runs the attention forward again */
    cpcomm_chunk_times(&cc->cp_volume, &st->cp, ch->attn_fwd_s, ch->attn_bwd_s, ch->cp_layers,
                       l->recompute != LAYOUT_RECOMPUTE_NONE, &c);
    w->cp_bwd_s += share * c.bwd_exposed_s;
    w->cp_s += share * (c.fwd_exposed_s + c.bwd_exposed_s);
    w->cp_hidden_s += share * c.hidden_s;
}


/* A chunk's exposed expert-parallel all-to-alls, forward, backward and
 * recomputed, each pass hiding them under its own compute when overlapped. */
double estimate_chunk_ep_s(const model_desc *m, const layout_desc *l, const commcost_stage *st,
                           const workload_chunk *ch)
{
    return commcost_ep_exposed_s(m, l, st->ep_a2a_s, ch->ep_a2a_fwd, ch->fwd_s) +
           commcost_ep_exposed_s(m, l, st->ep_a2a_s, ch->ep_a2a_bwd, ch->bwd_s) +
           commcost_ep_exposed_s(m, l, st->ep_a2a_s, ch->ep_a2a_rec, ch->recompute_s);
}

/* One chunk's transformer layers (workload_chunk_layers) on the first, a
 * middle and the last stage: they differ only under an uneven split
 * (layout_stages.h), so each is computed once per layout. */
typedef struct stage_layers {
    workload_chunk first, middle, last;
} stage_layers;

static void stage_layers_of(const estimate_input *in, stage_layers *out)
{
    const layout_desc *l = in->layout;
    const model_desc *m = in->model;
    const dev_type *dev = estimate_device(in->topology);
    int mid = l->pp > 2 ? 1 : 0, mid_n = layout_stage_chunk_layers(l, m, mid);
    workload_chunk_layers(m, l, dev, in->eff, mid, &out->middle);
    out->first = out->last = out->middle;
    if (layout_stage_chunk_layers(l, m, 0) != mid_n)
        workload_chunk_layers(m, l, dev, in->eff, 0, &out->first);
    if (layout_stage_chunk_layers(l, m, l->pp - 1) != mid_n)
        workload_chunk_layers(m, l, dev, in->eff, l->pp - 1, &out->last);
}

static const workload_chunk *layers_at(const stage_layers *sl, const layout_desc *l, int stage)
{
    return stage == 0 ? &sl->first : stage == l->pp - 1 ? &sl->last : &sl->middle;
}

/* `layers` holds the chunks' common part per kind of stage; only the
 * first and last chunk of the pipeline add to it. */
static stage_work stage_work_of(const estimate_input *in, const commcost *cc, int s,
                                const stage_layers *layers)
{
    stage_work w = {0};
    const commcost_stage *st = &cc->stages[s];
    const dev_type *dev = estimate_device(in->topology);
    /* dualpipe: each microbatch runs one of the rank's two stages */
    double share = in->layout->schedule == LAYOUT_SCHEDULE_DUALPIPE ? 0.5 : 1;
    for (int c = 0; c < schedule_chunks(in->layout); c++) {
        int at_stage, at_chunk;
        schedule_position(in->layout, schedule_vstage(in->layout, s, c), &at_stage, &at_chunk);
        workload_chunk ch = *layers_at(layers, in->layout, at_stage);
        workload_chunk_add_edges(in->model, in->layout, dev, in->eff, at_stage, at_chunk, &ch);
        w.fwd_s += share * ch.fwd_s;
        w.bwd_s += share * ch.bwd_s;
        w.rec_s += share * ch.recompute_s;
        double b = commcost_tp_s(st, ch.tp_bwd.allreduce + ch.tp_recompute.allreduce,
                                 ch.tp_bwd.allgather + ch.tp_recompute.allgather,
                                 ch.tp_bwd.reducescatter + ch.tp_recompute.reducescatter) +
                   commcost_tp_bwd_delta_s(st, in->layout, &ch);
        w.tp_bwd_s += share * b;
        w.tp_s += share * b + share * commcost_tp_s(st, ch.tp_fwd.allreduce, ch.tp_fwd.allgather,
                                    ch.tp_fwd.reducescatter);
        add_cp(st, cc, in->layout, &ch, share, &w);
        w.ep_s += share * estimate_chunk_ep_s(in->model, in->layout, st, &ch);
    }
    int layers_n = layout_stage_layers(in->layout, in->model, s);
    if (z3c_applies(in->layout)) /* DeepSpeed v0.3.13's module-by-module fetch */
        estimate_shard_coord(in->model, in->layout, st, layers_n,
                             w.fwd_s + w.tp_s - w.tp_bwd_s, w.rec_s, w.bwd_s + w.tp_bwd_s,
                             &w.shard_s, &w.shard_hidden_s, NULL);
    else
        estimate_shard_unit(in->layout, st, layers_n, w.fwd_s + w.tp_s - w.tp_bwd_s,
                            w.bwd_s + w.rec_s + w.tp_bwd_s, &w.shard_s, &w.shard_hidden_s);
    return w;
}

static double stage_total(const stage_work *w)
{
    return w->fwd_s + w->bwd_s + w->rec_s + w->tp_s + w->shard_s + w->cp_s + w->ep_s;
}

/* Data-parallel time after the last backward, optimizer step, all-gather. */
static double stage_tail(const estimate_input *in, const commcost_stage *st,
                         const stage_work *w, int s, estimate_stage *out)
{
    double window = w->bwd_s + w->rec_s + w->tp_bwd_s + w->cp_bwd_s, hidden_s;
    int overlap = framework_of(in->layout->framework)->dp_overlap;
    double dp_s = estimate_shard_reduce_exposed_s(in->layout, st, overlap, window,
                                                  stage_total(w), &hidden_s);
    const dev_type *dev = estimate_device(in->topology);
    out->dp_exposed_s = dp_s;
    if (in->layout->zero >= 2) {
        out->shard_exposed_s = dp_s;
        out->shard_hidden_s = hidden_s;
    }
    out->optimizer_s = workload_optimizer_s(in->model, in->layout, dev, in->eff, s) +
                       st->dp_allgather_s;
    return dp_s + out->optimizer_s;
}

/* ZeRO-2 under a split backward: the stage's reductions as queued behind
 * its W units (queue_s past its last unit), in place of stage_tail's window;
 * returns the new tail. */
static double w_queue_tail(const commcost_stage *st, int m, double queue_s, estimate_stage *out)
{
    double all, last;
    estimate_shard_reduce_parts(st, &all, &last);
    out->dp_exposed_s = out->shard_exposed_s = queue_s;
    out->shard_hidden_s = fmax(0, m * all - queue_s);
    return queue_s + out->optimizer_s;
}

static void analytic_times(const estimate_input *in, const commcost *cc, estimate_result *out)
{
    const layout_desc *l = in->layout;
    int m = layout_microbatches(l), pp = l->pp;
    double v = l->schedule == LAYOUT_SCHEDULE_INTERLEAVED ? l->vpp : 1;
    stage_work *w = calloc((size_t)pp, sizeof *w);
    if (!w)
        abort();
    double cmax = 0, csum = 0, p2p = 0;
    stage_layers layers;
    stage_layers_of(in, &layers);
    for (int s = 0; s < pp; s++) {
        w[s] = stage_work_of(in, cc, s, &layers);
        cmax = fmax(cmax, stage_total(&w[s]));
        csum += stage_total(&w[s]);
        p2p = fmax(p2p, cc->stages[s].p2p_s);
    }
    /* the slowest stage sets the steady state, every stage's time the fill
     * and drain: m C + (pp - 1) C / v for equal stages, the useful work and
     * the bubble; under an uneven split cmax and csum differ per stage */
    double pipe = (m - 1) * cmax + (1 - 1 / v) * cmax + csum / v + 2 * (pp - 1) * p2p;
    double iter = 0, drained = 0; /* stage s ends its backward `drained` before stage 0 */
    double *split_end = NULL; /* split-backward schedules: each rank's end, replayed */
    double *w_queue = NULL;   /* and ZeRO-2's reductions queued behind their W units */
    /* per stage: its first unit's start, its optimizer's end, its reduction's end */
    double *first = calloc((size_t)pp * 3, sizeof *first), *done = first + pp, *ready = done + pp;
    if (!first)
        abort();
    if (schedule_splits_backward(l)) {
        split_end = cs_xrealloc(NULL, sizeof *split_end * (size_t)pp);
        if (l->zero == 2 && layout_dp_cp(l) > 1 && framework_of(l->framework)->dp_overlap)
            w_queue = cs_xrealloc(NULL, sizeof *w_queue * (size_t)pp);
        estimate_sched_ends(in->model, l, estimate_device(in->topology), in->eff, cc, first,
                            split_end, w_queue);
    } else { /* rank s starts when the first microbatch's forward reaches it */
        for (int s = 1; s < pp; s++)
            first[s] = first[s - 1] + (w[s - 1].fwd_s + w[s - 1].tp_s - w[s - 1].tp_bwd_s) / v + p2p;
    }
    for (int s = 0; s < pp; s++) {
        double tail = stage_tail(in, &cc->stages[s], &w[s], s, &out->stages[s]);
        if (w_queue)
            tail = w_queue_tail(&cc->stages[s], m, w_queue[s], &out->stages[s]);
        double end = split_end ? split_end[s] + m * w[s].shard_s : pipe - drained;
        ready[s] = end + out->stages[s].dp_exposed_s;
        done[s] = end + tail;
        iter = fmax(iter, end + tail);
        drained += (w[s].bwd_s + w[s].rec_s + w[s].tp_bwd_s + w[s].cp_bwd_s) / v + p2p;
    }
    /* both wait for the other, then all-reduce the embedding (dualpipe: the
     * copies' gradient of every mirrored pair) */
    for (int r = 0; cc->emb_bytes && r < cc->emb_pairs; r++) {
        int ends[2] = {r, pp - 1 - r};
        double end = fmax(ready[r], ready[pp - 1 - r]) + cc->emb_s;
        for (int i = 0; i < 2; i++) {
            estimate_stage *e = &out->stages[ends[i]];
            e->dp_exposed_s += end - ready[ends[i]];
            iter = fmax(iter, end + e->optimizer_s);
            done[ends[i]] = fmax(done[ends[i]], end + e->optimizer_s);
        }
    }
    if (l->post_validation)
        iter = estimate_post_validated_s(pp, first, done);
    double *dualpipe_ep = NULL; /* DualPipe: what its F&B units leave exposed */
    if (l->schedule == LAYOUT_SCHEDULE_DUALPIPE && l->ep > 1) {
        dualpipe_ep = cs_xrealloc(NULL, sizeof *dualpipe_ep * (size_t)pp);
        estimate_sched_ep_s(in->model, l, estimate_device(in->topology), in->eff, cc,
                            dualpipe_ep);
    }
    for (int s = 0; s < pp; s++) {
        estimate_stage *e = &out->stages[s];
        e->compute_s = m * (w[s].fwd_s + w[s].bwd_s);
        e->recompute_s = m * w[s].rec_s;
        e->tp_comm_s = m * w[s].tp_s;
        e->ep_comm_s = dualpipe_ep ? dualpipe_ep[s] : m * w[s].ep_s;
        e->p2p_s = 2 * (pp - 1) * p2p;
        e->dp_exposed_s += m * w[s].shard_s; /* ZeRO-3's waits for gathers */
        e->shard_exposed_s += m * w[s].shard_s;
        e->shard_hidden_s += m * w[s].shard_hidden_s;
        e->cp_exposed_s = m * w[s].cp_s;
        e->cp_hidden_s = m * w[s].cp_hidden_s;
        double busy = e->compute_s + e->recompute_s + e->tp_comm_s + e->p2p_s + e->dp_exposed_s +
                      e->optimizer_s + e->cp_exposed_s + e->ep_comm_s;
        e->bubble_s = fmax(0, iter - busy);
    }
    out->iteration_s = iter;
    free(dualpipe_ep);
    free(first);
    free(split_end);
    free(w_queue);
    free(w);
}

int estimate_analytic_with(const estimate_input *in, const commcost_groups *groups,
                           estimate_result *out, cs_err *err)
{
    if (estimate_begin(in, out, err) != 0)
        return -1;
    return estimate_analytic_times(in, groups, out, err);
}

int estimate_analytic_times(const estimate_input *in, const commcost_groups *groups,
                            estimate_result *out, cs_err *err)
{
    if (!commcost_groups_match(groups, in->layout))
        return cs_fail(err, "estimate: the communication groups were built for another "
                            "tp, pp and dp");
    commcost cc;
    if (commcost_times(groups, in->model, in->layout, in->eff->profile, &cc, err) != 0)
        return -1;
    analytic_times(in, &cc, out);
    commcost_free(&cc);
    estimate_finish(in, out);
    return 0;
}

int estimate_analytic(const estimate_input *in, estimate_result *out, cs_err *err)
{
    *out = (estimate_result){0}; /* freeable whatever happens */
    if (estimate_validate(in, err) != 0) /* before routing anything */
        return -1;
    commcost_groups *groups;
    if (commcost_groups_build(in->topology, in->layout, &groups, err) != 0)
        return -1;
    int rc = estimate_analytic_with(in, groups, out, err);
    commcost_groups_free(groups);
    return rc;
}

void estimate_result_free(estimate_result *r)
{
    free(r->stages);
    r->stages = NULL;
}
