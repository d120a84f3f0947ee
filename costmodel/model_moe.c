/* model_moe: MoE and MLA blocks of a model description (see model_moe.h). */
#include "model_moe.h"

int model_qk_head_dim(const model_desc *m)
{
    return model_is_mla(m) ? m->mla_nope_head_dim + m->mla_rope_head_dim : model_head_dim(m);
}

int model_v_head_dim(const model_desc *m)
{
    return model_is_mla(m) ? m->mla_v_head_dim : model_head_dim(m);
}

double model_active_params(const model_desc *m)
{
    double idle = 0;
    if (model_is_moe(m))
        idle = model_moe_layers(m) * model_moe_routed_params(m) *
               (1 - (double)m->moe_topk / m->moe_experts);
    return model_params(m) - idle;
}

double model_layer_gemm_flops_per_token(const model_desc *m, int moe)
{
    double h = m->hidden, mats = m->mlp == MODEL_MLP_SWIGLU ? 3 : 2;
    double mlp = mats * h * m->ffn_hidden;
    if (moe && model_is_moe(m))
        mlp = mats * h * ((double)m->moe_topk * m->moe_ffn_hidden + m->moe_shared_ffn_hidden) +
              h * m->moe_experts;
    return 2 * ((double)model_attention_weights_count(m) + mlp);
}

double model_attn_core_flops_per_token(const model_desc *m)
{
    /* QK^T and PV over the full s x s square: 2 s d_qk + 2 s d_v per head */
    return 2.0 * m->seq_len * m->heads * (model_qk_head_dim(m) + model_v_head_dim(m));
}

double model_kv_bytes_per_token(const model_desc *m)
{
    if (model_is_mla(m))
        return 2.0 * (m->mla_kv_lora_rank + m->mla_rope_head_dim);
    return 2.0 * 2 * m->kv_heads * model_head_dim(m);
}
