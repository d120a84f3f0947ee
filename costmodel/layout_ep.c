/* layout_ep: expert parallelism's rules, mapping and load (see layout_ep.h). */
#include "layout_ep.h"

#include <math.h>

#include "layout_stages.h"
#include "units.h"

int layout_ep_local_rank(const layout_desc *l, int etp_rank, int ep_rank, int edp_rank)
{
    return etp_rank + layout_etp_of(l) * (ep_rank + layout_ep_of(l) * edp_rank);
}

int layout_dense_layers_in_vstage(const model_desc *m, const layout_desc *l, int vstage)
{
    if (!model_is_moe(m))
        return 0;
    /* the position of schedule_position (dualpipe: one chunk per stage) */
    int stage = vstage % l->pp, chunk = l->schedule == LAYOUT_SCHEDULE_DUALPIPE ? 0 : vstage / l->pp;
    int per = layout_stage_chunk_layers(l, m, stage);
    int left = m->moe_dense_layers - layout_chunk_first_layer(l, m, stage, chunk);
    return left <= 0 ? 0 : left < per ? left : per;
}

/* The share p_i of token slots expert i receives (sums to 1). */
static double share_of(const model_desc *m, const layout_desc *l, int i, double norm)
{
    switch ((layout_routing)l->moe_routing) {
    case LAYOUT_ROUTING_ZIPF: return pow(i + 1.0, -l->moe_zipf_s) / norm;
    case LAYOUT_ROUTING_HISTOGRAM: return l->moe_hist[i] / norm;
    default: return 1.0 / m->moe_experts;
    }
}

static double share_norm(const model_desc *m, const layout_desc *l)
{
    double norm = 0;
    for (int i = 0; i < m->moe_experts; i++)
        norm += l->moe_routing == LAYOUT_ROUTING_ZIPF ? pow(i + 1.0, -l->moe_zipf_s)
                : l->moe_routing == LAYOUT_ROUTING_HISTOGRAM ? l->moe_hist[i]
                                                             : 1.0 / m->moe_experts;
    return norm > 0 ? norm : 1;
}

/* The kept share of expert i: min(p_i, c / E), or p_i without a cap. */
static double kept(const model_desc *m, double p)
{
    double cap = m->moe_capacity_factor > 0 ? m->moe_capacity_factor / m->moe_experts : 2;
    return p < cap ? p : cap;
}

double layout_ep_imbalance(const model_desc *m, const layout_desc *l)
{
    if (!model_is_moe(m))
        return 1;
    int ep = layout_ep_of(l), per = m->moe_experts / ep;
    double norm = share_norm(m, l), worst = 0;
    for (int r = 0; r < ep; r++) {
        double load = 0;
        for (int i = r * per; i < (r + 1) * per; i++)
            load += kept(m, share_of(m, l, i, norm));
        worst = load > worst ? load : worst;
    }
    return ep * worst;
}

double layout_ep_kept_share(const model_desc *m, const layout_desc *l)
{
    if (!model_is_moe(m))
        return 1;
    double norm = share_norm(m, l), sum = 0;
    for (int i = 0; i < m->moe_experts; i++)
        sum += kept(m, share_of(m, l, i, norm));
    return sum;
}

static const char *const routing_names[] = {"uniform", "zipf", "histogram"};

const char *layout_routing_name(layout_routing r)
{
    return (unsigned)r < 3 ? routing_names[r] : "?";
}

int layout_routing_parse(const char *text, const char *what, layout_routing *out, cs_err *err)
{
    int i = 0;
    if (units_parse_name(text, what, routing_names, 3, &i, err) != 0)
        return -1;
    *out = (layout_routing)i;
    return 0;
}
