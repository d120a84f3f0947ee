/* estimate_shard: the sharded data-parallel traffic in closed form (see
 * estimate_shard.h). */
#include "estimate_shard.h"

#include <math.h>

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
        bwd_exposed = g_bwd + (layers - 1) * fmax(0, g_bwd + r - c_b);
    }
    double total = layers * (g + g_bwd + r);
    /* the last layer's reduce-scatter is the stage tail's (not counted here) */
    *exposed_s = fwd_exposed + bwd_exposed;
    *hidden_s = fmax(0, total - r - *exposed_s);
}

double estimate_shard_reduce_exposed_s(const layout_desc *l, const commcost_stage *st,
                                       int overlap, double window_s, double between_s,
                                       double *hidden_s)
{
    *hidden_s = 0;
    if (layout_dp_cp(l) < 2)
        return 0;
    double last = st->dp_last_bucket_s + st->dp_replica_last_s;
    if (l->zero == 3) /* the layers' reductions ran with the backward (estimate_shard_unit) */
        return last;
    double all = (st->buckets - 1) * (st->dp_bucket_s + st->dp_replica_bucket_s) + last;
    if (!overlap)
        return all; /* reduced after the backward pass: nothing hides it */
    int rounds = l->zero >= 2 ? layout_microbatches(l) : 1; /* ZeRO-2: every micro-step */
    double comm = rounds * all, window = window_s + (rounds - 1) * between_s;
    double exposed = fmax(last, comm - window);
    *hidden_s = fmax(0, comm - exposed);
    return exposed;
}
