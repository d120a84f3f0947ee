/* model_moe: what follows from the shape of mixture-of-experts (MoE) layers
 * and multi-head latent attention (MLA) beyond their parameter counts
 * (model.h counts and validates them): the widths of a head, the active
 * parameters, the model FLOPs per token and the KV-cache bytes.
 *
 * FLOPs per token: 2 per weight of every multiply a token passes through
 * (for an MoE layer: the router, top-k routed experts and the shared
 * ones), and the attention core 2 s heads (d_qk + d_v) per token for the
 * full s x s square (4 s h for MHA, the convention of workload.h). */
#ifndef CS_MODEL_MOE_H
#define CS_MODEL_MOE_H

#include "model.h"

/* Query/key and value widths of one head: d_qk = nope + rope under MLA, else
 * the head dimension; d_v = v_head_dim under MLA, else the head dimension. */
int model_qk_head_dim(const model_desc *m);
int model_v_head_dim(const model_desc *m);

/* Parameters a token passes through: all but the routed experts it is not
 * sent to (DeepSeek-V3's "37B activated", Mixtral's "12.9B per token"). */
double model_active_params(const model_desc *m);

/* Forward model FLOPs per token of one layer's multiplies, attention
 * (moe 0/1: the layer has an MoE block) and of the attention core of a
 * sequence of s tokens (full square, per token). */
double model_layer_gemm_flops_per_token(const model_desc *m, int moe);
double model_attn_core_flops_per_token(const model_desc *m);

/* Key/value bytes per token per layer a 16-bit cache holds: 2 kv_heads d
 * for MHA/GQA, (kv_lora + rope) for MLA (the latent and the shared rotary
 * key are all it keeps; DeepSeek-V2 sec. 2.1.2). */
double model_kv_bytes_per_token(const model_desc *m);

#endif
