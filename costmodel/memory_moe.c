/* memory_moe: the footprint of MoE layers (see memory_moe.h). */
#include "memory_moe.h"

#include "layout_ep.h"
#include "layout_stages.h"
#include "model_moe.h"
#include "schedule.h"

/* One MoE layer on one rank. */
static double moe_layer_per_rank(const model_desc *m, const layout_desc *l, double replicated)
{
    double routed = model_moe_routed_params(m), router = (double)m->hidden * m->moe_experts;
    double split = model_params_per_layer(m) - replicated - routed - router;
    return split / l->tp + replicated + router +
           routed / ((double)layout_ep_of(l) * layout_etp_of(l));
}

static double dense_layer_per_rank(const model_desc *m, const layout_desc *l, double replicated)
{
    return ((double)model_dense_layer_params_count(m) - replicated) / l->tp + replicated;
}

/* MoE layers of the rank's chunks: under dualpipe both of its stages, so
 * nothing is counted twice (each chunk is its own stage's layers). */
static int moe_layers_on(const model_desc *m, const layout_desc *l, int stage, int *dense)
{
    int moe = 0;
    *dense = 0;
    for (int c = 0; c < schedule_chunks(l); c++) {
        int vstage = schedule_vstage(l, stage, c), at_stage, at_chunk;
        schedule_position(l, vstage, &at_stage, &at_chunk);
        int d = layout_dense_layers_in_vstage(m, l, vstage);
        *dense += d;
        moe += layout_stage_chunk_layers(l, m, at_stage) - d;
    }
    return moe;
}

double memory_moe_layer_params(const model_desc *m, const layout_desc *l, int stage,
                               double replicated)
{
    int dense;
    int moe = moe_layers_on(m, l, stage, &dense);
    return moe * moe_layer_per_rank(m, l, replicated) +
           dense * dense_layer_per_rank(m, l, replicated);
}

double memory_moe_expert_params(const model_desc *m, const layout_desc *l, int stage)
{
    if (!model_is_moe(m))
        return 0;
    int dense;
    int moe = moe_layers_on(m, l, stage, &dense);
    return moe * model_moe_routed_params(m) / ((double)layout_ep_of(l) * layout_etp_of(l));
}

double memory_moe_mlp_act_bytes(const model_desc *m, const layout_desc *l, double tokens,
                                double act_bytes, double linear_bytes)
{
    /* per expert MLP: its input (the up-projection's) and the down-
     * projection's input at linear_bytes; the activation function's inputs
     * (SwiGLU: gate and up; GELU: one) at act_bytes */
    double fn_inputs = m->mlp == MODEL_MLP_SWIGLU ? 2 : 1;
    double routed = tokens * m->moe_topk * layout_ep_imbalance(m, l) * layout_ep_kept_share(m, l);
    double per_f = fn_inputs * act_bytes + linear_bytes;
    /* the shared experts read the layer's MLP input (memory.c counts it) */
    return routed * (linear_bytes * m->hidden + per_f * m->moe_ffn_hidden) +
           tokens * per_f * m->moe_shared_ffn_hidden;
}
