/* estimate_shard: the sharded data-parallel traffic in closed form (see
 * estimate_shard.h). */
#include "estimate_shard.h"

#include <math.h>

#include "zero3_coord.h"

/* The backward's wait for its gathers with prefetch p >= 1.  They share the
 * data-parallel stream with the layers' reduce-scatters, in the order they
 * are issued: the p + 1 gathers issued as the pass starts run back to back;
 * every later one queues behind the reduce-scatter of a computed layer, the
 * first of which waits for the first layer's compute.  The pass ends one
 * layer's compute after the later of the compute chain and the last gather. */
static double bwd_prefetched_exposed(double g, double r, double c, int layers, int p)
{
    double last_gather = layers <= p + 1 ? layers * g
                                         : fmax((p + 1) * g, g + c) + (layers - p - 1) * (g + r);
    return fmax(g + layers * c, last_gather + c) - layers * c;
}

void estimate_shard_unit(const layout_desc *l, const commcost_stage *st, int layers,
                         double fwd_s, double bwd_s, double *exposed_s, double *hidden_s)
{
    *exposed_s = *hidden_s = 0;
    if (l->zero != 3 || layout_dp_cp(l) < 2 || layers < 1)
        return;
    double g = st->layer_gather_s;
    double r = st->dp_bucket_s + st->dp_replica_bucket_s; /* one layer's gradients */
    double g_bwd = l->no_reshard ? 0 : g;
    double c_f = fwd_s / layers, c_b = bwd_s / layers;
    double fwd_exposed, bwd_exposed;
    if (l->prefetch == 0) { /* each gather waits for the layer before it */
        fwd_exposed = layers * g;
        bwd_exposed = layers * g_bwd + (layers - 1) * fmax(0, r - c_b);
    } else {
        fwd_exposed = g + (layers - 1) * fmax(0, g - c_f);
        bwd_exposed = l->no_reshard ? (layers - 1) * fmax(0, r - c_b)
                                    : bwd_prefetched_exposed(g, r, c_b, layers, l->prefetch);
    }
    double total = layers * (g + g_bwd + r);
    /* the last layer's reduce-scatter is the stage tail's (not counted here) */
    *exposed_s = fwd_exposed + bwd_exposed;
    *hidden_s = fmax(0, total - r - *exposed_s);
}

/* A collective of `bytes` on the line through the plan's time at one byte
 * and at the stage's layer size (commcost_stage). */
static double on_line(double one_byte_s, double full_s, double full_bytes, double bytes)
{
    if (full_bytes <= 1)
        return full_s;
    return one_byte_s + (full_s - one_byte_s) * (bytes - 1) / (full_bytes - 1);
}

typedef struct coord_prices {
    const commcost_stage *st;
    double gather_bytes, reduce_bytes; /* a parameter's, a gradient's */
} coord_prices;

static double coord_comm_s(const z3c_comm *c, void *ctx)
{
    const coord_prices *p = ctx;
    const commcost_stage *st = p->st;
    return c->reduce ? on_line(st->dp_reduce_1b_s, st->dp_bucket_s, (double)st->bucket_bytes,
                               ceil(c->elems * p->reduce_bytes))
                     : on_line(st->layer_gather_1b_s, st->layer_gather_s,
                               (double)st->layer_bytes, ceil(c->elems * p->gather_bytes));
}

int estimate_shard_coord(const model_desc *m, const layout_desc *l, const commcost_stage *st,
                         int layers, double fwd_s, double rec_s, double bwd_s, double *exposed_s,
                         double *hidden_s, cs_err *err)
{
    *exposed_s = *hidden_s = 0;
    if (layout_dp_cp(l) < 2 || layers < 1)
        return 0;
    /* 16-bit parameters; gradients as the stage's buckets carry them */
    double grad_ratio = st->layer_bytes ? (double)st->bucket_bytes / (double)st->layer_bytes : 1;
    coord_prices p = {st, 2, 2 * grad_ratio};
    double layer_s[Z3C_NPASS] = {fwd_s / layers, rec_s / layers, bwd_s / layers};
    z3c_config cfg = z3c_defaults();
    int m_count = layout_microbatches(l);
    /* the first microbatch after the step, then (weight m - 1) the others */
    for (int after = 1; after >= 0 && (after || m_count > 1); after--) {
        z3c_trace t;
        if (z3c_build(m, l, layers, after, &cfg, &t, err) != 0)
            return -1;
        double comm_s, end_s = z3c_time_s(&t, layer_s, coord_comm_s, &p, &comm_s, NULL);
        z3c_free(&t);
        double weight = (after ? 1.0 : m_count - 1.0) / m_count;
        double exposed = fmax(0, end_s - (fwd_s + rec_s + bwd_s));
        *exposed_s += weight * exposed;
        *hidden_s += weight * fmax(0, comm_s - exposed);
    }
    return 0;
}

double estimate_shard_reduce_exposed_s(const layout_desc *l, const commcost_stage *st,
                                       int overlap, double window_s, double between_s,
                                       double *hidden_s)
{
    *hidden_s = 0;
    if (layout_dp_cp(l) < 2)
        return 0;
    double all, last;
    estimate_shard_reduce_parts(st, &all, &last);
    if (z3c_applies(l)) /* the coordinator's trace holds them all */
        return 0;
    if (l->zero == 3) /* the layers' reductions ran with the backward (estimate_shard_unit) */
        return last;
    if (!overlap)
        return all; /* reduced after the backward pass: nothing hides it */
    int rounds = l->zero >= 2 ? layout_microbatches(l) : 1; /* ZeRO-2: every micro-step */
    double comm = rounds * all, window = window_s + (rounds - 1) * between_s;
    double exposed = fmax(last, comm - window);
    *hidden_s = fmax(0, comm - exposed);
    return exposed;
}

void estimate_shard_reduce_parts(const commcost_stage *st, double *all_s, double *last_s)
{
    *last_s = st->dp_last_bucket_s + st->dp_replica_last_s;
    *all_s = (st->buckets - 1) * (st->dp_bucket_s + st->dp_replica_bucket_s) + *last_s;
}

double estimate_shard_w_queue_s(const commcost_stage *st, const schedule_unit *order, int n,
                                int chunks, const double *unit_start_s,
                                const double *unit_end_s, double end_s)
{
    double all, last;
    estimate_shard_reduce_parts(st, &all, &last);
    all /= chunks > 0 ? chunks : 1;
    last /= chunks > 0 ? chunks : 1;
    double free_s = 0; /* when the rank's network is free of earlier buckets */
    for (int i = 0; i < n; i++)
        if (order[i].backward == SCHEDULE_W)
            free_s = fmax(fmax(free_s, unit_start_s[i]) + all - last, unit_end_s[i]) + last;
    return fmax(0, free_s - end_s);
}
