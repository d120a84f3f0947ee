/* memory_moe: what mixture-of-experts layers change in a rank's footprint
 * (memory.h counts the rest).
 *
 *   parameters  an MoE layer's routed experts are split over ep x etp ranks
 *               (experts / ep whole experts, each MLP split etp ways); its
 *               attention, shared experts and norms as a dense layer's (tp);
 *               the router (hidden x experts) replicated, as Megatron-Core's
 *               TopKRouter is not tensor-parallel.  The first
 *               moe_dense_layers layers are dense layers on the stages that
 *               hold them.
 *   optimizer   with zero 1 the experts' optimizer state is sharded over the
 *               expert data-parallel ranks (edp = tp dp / (etp ep)), the rest
 *               over dp (Megatron-Core's distributed optimizer shards each
 *               parameter over its own data-parallel group).
 *   activations per token of a microbatch, before the split over tp that
 *               memory.c applies to the tensor-parallel terms: the dispatched
 *               inputs topk h, each expert's SwiGLU/GELU tensors (3 or 2 of
 *               topk f_e) and the shared experts' (f_shared); the routed
 *               terms scaled by the slowest rank's load (layout_ep.h). */
#ifndef CS_MEMORY_MOE_H
#define CS_MEMORY_MOE_H

#include "layout.h"
#include "model.h"

/* Parameters of the layers one GPU of rank `stage` holds, every chunk of
 * it (under DualPipe its two stages, each its own layers); `replicated` is
 * what every tp rank of a layer keeps whole (norms, row-parallel biases). */
double memory_moe_layer_params(const model_desc *m, const layout_desc *l, int stage,
                               double replicated);

/* Of those, the routed experts' (sharded over edp by the distributed optimizer). */
double memory_moe_expert_params(const model_desc *m, const layout_desc *l, int stage);

/* The MLP's tensor-parallel activation bytes of one MoE layer for s x b
 * tokens (memory.c divides them by tp): the Linear inputs (dispatched
 * tokens, down-projection inputs) at linear_bytes, the activation
 * function's inputs at act_bytes (memory.c says why they differ under fp8). */
double memory_moe_mlp_act_bytes(const model_desc *m, const layout_desc *l, double tokens,
                                double act_bytes, double linear_bytes);

#endif
