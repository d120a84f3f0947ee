/* estimate: metrics and the closed-form estimate (see estimate.h). */
#include "estimate.h"

#include <math.h>
#include <stdlib.h>

#include "commcost_ep.h"
#include "estimate_sched.h"
#include "memory.h"
#include "schedule.h"
#include "workload.h"

const dev_type *estimate_device(topo *t) { return topo_node_type(t, 0)->gpu; }

int estimate_validate(const estimate_input *in, cs_err *err)
{
    int per_node = topo_node_type(in->topology, 0)->gpus;
    if (in->gpus > topo_gpu_count(in->topology))
        return cs_fail(err, "the job needs %d GPUs but the system has %d", in->gpus,
                       topo_gpu_count(in->topology));
    return layout_validate(in->layout, in->model, in->gpus, per_node, err);
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
    free(mb);
    out->peak_mem_bytes = out->stages[out->peak_stage].peak_mem_bytes;
    out->fits = out->peak_mem_bytes <= memory_usable_bytes(estimate_device(in->topology));
    workload_info info;
    workload_info_of(in->model, l, &info);
    out->model_flops_iter = info.model_flops_iter;
    out->hw_flops_iter = info.hw_flops_iter;
    out->tokens_iter = info.tokens_iter;
    return 0;
}

void estimate_finish(const estimate_input *in, estimate_result *out)
{
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
    double ep_s; /* expert-parallel all-to-alls, exposed */
} stage_work;

/* A chunk's exposed expert-parallel all-to-alls, forward, backward and
 * recomputed, each pass hiding them under its own compute when overlapped. */
double estimate_chunk_ep_s(const model_desc *m, const layout_desc *l, const commcost_stage *st,
                           const workload_chunk *ch)
{
    return commcost_ep_exposed_s(m, l, st->ep_a2a_s, ch->ep_a2a_fwd, ch->fwd_s) +
           commcost_ep_exposed_s(m, l, st->ep_a2a_s, ch->ep_a2a_bwd, ch->bwd_s) +
           commcost_ep_exposed_s(m, l, st->ep_a2a_s, ch->ep_a2a_rec, ch->recompute_s);
}

/* `layers` is the chunks' common part (workload_chunk_layers), computed
 * once per layout: only the first and last chunk add to it. */
static stage_work stage_work_of(const estimate_input *in, const commcost_stage *st, int s,
                                const workload_chunk *layers)
{
    stage_work w = {0};
    const dev_type *dev = estimate_device(in->topology);
    /* dualpipe: each microbatch runs one of the rank's two stages */
    double share = in->layout->schedule == LAYOUT_SCHEDULE_DUALPIPE ? 0.5 : 1;
    for (int c = 0; c < schedule_chunks(in->layout); c++) {
        workload_chunk ch = *layers;
        int at_stage, at_chunk;
        schedule_position(in->layout, schedule_vstage(in->layout, s, c), &at_stage, &at_chunk);
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
        w.ep_s += share * estimate_chunk_ep_s(in->model, in->layout, st, &ch);
    }
    return w;
}

static double stage_total(const stage_work *w)
{
    return w->fwd_s + w->bwd_s + w->rec_s + w->tp_s + w->ep_s;
}

/* Data-parallel time after the last backward, optimizer step, all-gather. */
static double stage_tail(const estimate_input *in, const commcost_stage *st,
                         const stage_work *w, int s, estimate_stage *out)
{
    double dp_s = 0, window = w->bwd_s + w->rec_s + w->tp_bwd_s;
    if (in->layout->dp > 1) {
        double all = (st->buckets - 1) * st->dp_bucket_s + st->dp_last_bucket_s;
        dp_s = framework_of(in->layout->framework)->dp_overlap
                   ? fmax(st->dp_last_bucket_s, all - window)
                   : all; /* reduced after the backward pass: nothing hides it */
    }
    const dev_type *dev = estimate_device(in->topology);
    out->dp_exposed_s = dp_s;
    out->optimizer_s = workload_optimizer_s(in->model, in->layout, dev, in->eff, s) +
                       st->dp_allgather_s;
    return dp_s + out->optimizer_s;
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
    workload_chunk layers;
    workload_chunk_layers(in->model, l, estimate_device(in->topology), in->eff, &layers);
    for (int s = 0; s < pp; s++) {
        w[s] = stage_work_of(in, &cc->stages[s], s, &layers);
        cmax = fmax(cmax, stage_total(&w[s]));
        csum += stage_total(&w[s]);
        p2p = fmax(p2p, cc->stages[s].p2p_s);
    }
    /* equal stages: m C + (pp - 1) C / v, the useful work and the bubble */
    double pipe = (m - 1) * cmax + (1 - 1 / v) * cmax + csum / v + 2 * (pp - 1) * p2p;
    double iter = 0, drained = 0; /* stage s ends its backward `drained` before stage 0 */
    double *split_end = NULL; /* split-backward schedules: each rank's end, replayed */
    if (schedule_splits_backward(l)) {
        split_end = calloc((size_t)pp, sizeof *split_end);
        if (!split_end)
            abort();
        estimate_sched_ends(in->model, l, estimate_device(in->topology), in->eff, cc, split_end);
    }
    double ready0 = 0, ready_last = 0; /* first and last stage: data-parallel reduction done */
    for (int s = 0; s < pp; s++) {
        double tail = stage_tail(in, &cc->stages[s], &w[s], s, &out->stages[s]);
        double end = split_end ? split_end[s] : pipe - drained;
        double ready = end + out->stages[s].dp_exposed_s;
        ready0 = s == 0 ? ready : ready0;
        ready_last = s == pp - 1 ? ready : ready_last;
        iter = fmax(iter, end + tail);
        drained += (w[s].bwd_s + w[s].rec_s + w[s].tp_bwd_s) / v + p2p;
    }
    if (cc->emb_bytes) { /* both wait for the other, then all-reduce the embedding */
        double end = fmax(ready0, ready_last) + cc->emb_s;
        int ends[2] = {0, pp - 1};
        for (int i = 0; i < 2; i++) {
            estimate_stage *e = &out->stages[ends[i]];
            e->dp_exposed_s += end - (i ? ready_last : ready0);
            iter = fmax(iter, end + e->optimizer_s);
        }
    }
    for (int s = 0; s < pp; s++) {
        estimate_stage *e = &out->stages[s];
        e->compute_s = m * (w[s].fwd_s + w[s].bwd_s);
        e->recompute_s = m * w[s].rec_s;
        e->tp_comm_s = m * w[s].tp_s;
        e->ep_comm_s = m * w[s].ep_s;
        e->p2p_s = 2 * (pp - 1) * p2p;
        double busy = e->compute_s + e->recompute_s + e->tp_comm_s + e->p2p_s + e->dp_exposed_s +
                      e->optimizer_s + e->ep_comm_s;
        e->bubble_s = fmax(0, iter - busy);
    }
    out->iteration_s = iter;
    free(split_end);
    free(w);
}

int estimate_analytic_with(const estimate_input *in, const commcost_groups *groups,
                           estimate_result *out, cs_err *err)
{
    if (estimate_begin(in, out, err) != 0)
        return -1;
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
