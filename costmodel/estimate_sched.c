/* estimate_sched: split-backward schedules in closed form (see estimate_sched.h). */
#include "estimate_sched.h"

#include <math.h>
#include <stdlib.h>

#include "commcost_ep.h"
#include "cs_alloc.h"
#include "cs_scratch.h"
#include "estimate_shard.h"
#include "estimate_dualpipe.h"
#include "schedule.h"
#include "schedule_memo.h" /* schedule_orders_view */
#include "workload.h"

void estimate_sched_costs(const model_desc *m, const layout_desc *l, const dev_type *dev,
                          const opcost_eff *e, const commcost *cc, double *f_s, double *b_s,
                          double *w_s, double *p2p_s)
{
    int split = schedule_splits_backward(l);
    *p2p_s = 0;
    for (int s = 0; s < l->pp; s++)
        *p2p_s = fmax(*p2p_s, cc->stages[s].p2p_s);
    for (int vs = 0; vs < schedule_vstages(l); vs++) {
        int stage, chunk, rank = schedule_vstage_rank(l, vs);
        schedule_position(l, vs, &stage, &chunk);
        workload_chunk w;
        workload_chunk_of(m, l, dev, e, stage, chunk, &w);
        const commcost_stage *st = &cc->stages[rank];
        double weight = split ? w.bwd_weight_s : 0;
        f_s[vs] = w.fwd_s + commcost_tp_s(st, w.tp_fwd.allreduce, w.tp_fwd.allgather,
                                          w.tp_fwd.reducescatter);
        b_s[vs] = w.recompute_s + w.bwd_s - weight +
                  commcost_tp_s(st, w.tp_bwd.allreduce + w.tp_recompute.allreduce,
                                w.tp_bwd.allgather + w.tp_recompute.allgather,
                                w.tp_bwd.reducescatter + w.tp_recompute.reducescatter);
        /* expert-parallel all-to-alls, as estimate_chunk_ep_s counts them */
        f_s[vs] += commcost_ep_exposed_s(m, l, st->ep_a2a_s, w.ep_a2a_fwd, w.fwd_s);
        b_s[vs] += commcost_ep_exposed_s(m, l, st->ep_a2a_s, w.ep_a2a_bwd, w.bwd_s) +
                   commcost_ep_exposed_s(m, l, st->ep_a2a_s, w.ep_a2a_rec, w.recompute_s);
        w_s[vs] = weight;
        cpcomm_chunk cp; /* context parallelism's exposed exchanges (zero when cp is 1) */
        cpcomm_chunk_times(&cc->cp_volume, &st->cp, w.attn_fwd_s, w.attn_bwd_s,
                           layout_cp_of(l) > 1 ? w.cp_layers : 0,
                           l->recompute != LAYOUT_RECOMPUTE_NONE, &cp);
        f_s[vs] += cp.fwd_exposed_s;
        b_s[vs] += cp.bwd_exposed_s;
    }
}

/* Replays the orders (first_s, end_s) and, with queue_s, queues ZeRO-2's
 * per-microbatch reductions behind each rank's W units in the same replay
 * (estimate_shard_w_queue_s): what each rank's runs past its last unit. */
static void replay_with_queues(const layout_desc *l, const commcost *cc,
                               const schedule_unit *orders, const schedule_costs *c,
                               double *first_s, double *end_s, double *queue_s)
{
    if (!queue_s) {
        schedule_replay(l, orders, c, first_s, end_s, NULL);
        return;
    }
    size_t n = (size_t)schedule_units(l), all = n * (size_t)l->pp;
    double *start = cs_scratch(CS_SCRATCH_UNIT_TIMES, sizeof *start * 2 * all), *end = start + all;
    schedule_replay_units(l, orders, c, first_s, end_s, start, end);
    for (int r = 0; r < l->pp; r++)
        queue_s[r] = estimate_shard_w_queue_s(&cc->stages[r], orders + r * n, (int)n,
                                              schedule_chunks(l), start + r * n, end + r * n,
                                              end_s[r]);
}

/* The orders to replay: zb-auto's built from the measured times, the
 * others' from equal times (both the thread's views, schedule_memo.h). */
static const schedule_unit *orders_of(const layout_desc *l, const schedule_costs *c)
{
    return l->schedule == LAYOUT_SCHEDULE_ZB_AUTO ? schedule_orders_timed_view(l, c)
                                                  : schedule_orders_view(l);
}

void estimate_sched_ends(const model_desc *m, const layout_desc *l, const dev_type *dev,
                         const opcost_eff *e, const commcost *cc, double *first_s,
                         double *end_s, double *grad_queue_s)
{
    size_t nv = (size_t)schedule_vstages(l);
    double *f = cs_xrealloc(NULL, sizeof *f * nv), *b = cs_xrealloc(NULL, sizeof *b * nv);
    double *w = cs_xrealloc(NULL, sizeof *w * nv);
    double *fb = cs_xrealloc(NULL, sizeof *fb * nv);
    schedule_costs c = {f, b, w, 0, NULL};
    estimate_sched_costs(m, l, dev, e, cc, f, b, w, &c.p2p_s);
    if (l->schedule == LAYOUT_SCHEDULE_DUALPIPE) { /* its overlapped F&B units */
        estimate_dualpipe_fb(m, l, dev, e, cc, f, b, w, fb, NULL);
        c.fb_s = fb;
    }
    replay_with_queues(l, cc, orders_of(l, &c), &c, first_s, end_s, grad_queue_s);
    free(f);
    free(b);
    free(w);
    free(fb);
}

void estimate_sched_ep_s(const model_desc *m, const layout_desc *l, const dev_type *dev,
                         const opcost_eff *e, const commcost *cc, double *ep_s)
{
    size_t nv = (size_t)schedule_vstages(l);
    double *f = cs_xrealloc(NULL, sizeof *f * nv * 3), *b = f + nv, *w = b + nv, p2p_s;
    estimate_sched_costs(m, l, dev, e, cc, f, b, w, &p2p_s);
    estimate_dualpipe_ep_s(m, l, dev, e, cc, f, b, w, ep_s);
    free(f);
}

double estimate_post_validated_s(int pp, const double *first_s, const double *done_s)
{
    double span = 0;
    for (int s = 0; s < pp; s++)
        span = fmax(span, done_s[s] - first_s[s]);
    return span;
}
