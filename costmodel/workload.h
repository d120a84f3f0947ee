/* workload: what one GPU computes and communicates for one training
 * iteration of a layout, operator by operator.
 *
 * Owns the operator list of a transformer layer (forward and backward, per
 * GPU of a tensor-parallel group), the embedding and the output layer with
 * the loss, the optimizer step, and their sums per pipeline chunk: compute
 * seconds (through opcost), FLOPs, and the communication each pass needs
 * (tensor-parallel collectives, pipeline activations, data-parallel
 * gradients).  Times of communication are not here: they depend on the
 * topology (estimate and sim/trainsim price them).
 *
 * Operators of one layer, per microbatch of b sequences of s tokens, T = b s,
 * on one of t tensor-parallel GPUs (Megatron's split: QKV and MLP-up column
 * parallel, output projection and MLP-down row parallel); elementwise work
 * on the replicated activations is split t ways only under sp:
 *   norm1, qkv, attention core, proj, dropout+residual, norm2, mlp_up,
 *   activation, mlp_down, dropout+residual.
 * Context parallelism (cp > 1) gives each rank b s / cp tokens: every
 * operator above runs on them, and the attention core does 1/cp of the
 * whole sequence's attention (costmodel/cpcomm.h adds its communication).
 * Attention core: with flash attention one fused kernel (causal: half of the
 * s x s blocks are skipped, backward 2.5x the forward FLOPs as in
 * FlashAttention-2); without, Megatron-LM's unfused path: a batched QK^T,
 * fused scale-mask-softmax, dropout on the probabilities, a batched PV.
 * Backward of a matrix multiply is two multiplies (input and weight
 * gradient); of a streaming kernel, one that reads the gradient and the
 * saved input and writes the input gradient.  Each norm's backward is
 * followed by the add of the skip connection's gradient (autograd: read 2,
 * write 1).  A chunk that receives a scatter-gather pipeline transfer
 * all-gathers it over the tensor-parallel group (without sp); under sp
 * the backward all-gathers the QKV and MLP-up inputs again. The framework
 * profile (framework.h) adds main_grad accumulation and sets the
 * optimizer's bytes.
 *
 * FLOPs (the formulas in docs/estimate.md): model FLOPs count 2 m n k per
 * multiply and 4 b s^2 h per layer for attention (the full s x s, as
 * Narayanan et al. 2021 and Korthikanti et al. 2022 count), times 3 for
 * forward and backward; hardware FLOPs add the recomputed forward work
 * (full: the whole layer; selective: the attention core).  For a GPT shape
 * the totals are Narayanan et al.'s 72 B s l h^2 (1 + s/(6h)) + 6 B s h V
 * and, with full recomputation, their 96 B s l h^2 (1 + s/(6h) + V/(16lh)). */
#ifndef CS_WORKLOAD_H
#define CS_WORKLOAD_H

#include "device.h"
#include "layout.h"
#include "model.h"
#include "opcost.h"

/* One operator of a layer, for one microbatch on one GPU. */
typedef struct workload_op {
    const char *name;
    double fwd_flops;   /* model FLOPs of the forward (0 for streaming kernels) */
    double fwd_s, bwd_s;
    int attention_core; /* recomputed under selective recomputation */
    double bwd_weight_s; /* of bwd_s, the weight-gradient multiply (0: none): the W of
                          * split-backward schedules, the window a framework hides
                          * backward collectives under */
} workload_op;

#define WORKLOAD_MAX_OPS 24

/* Tensor-parallel collectives of one pass, all of size_bytes (nccl-tests
 * convention: the whole activation T x h). */
typedef struct workload_tp {
    int allreduce, allgather, reducescatter;
} workload_tp;

/* One pipeline chunk (layers / (pp vpp) layers, plus the embedding on the
 * first chunk of stage 0 and the output layer on the last chunk of the last
 * stage) for one microbatch on one GPU. */
typedef struct workload_chunk {
    double fwd_s, bwd_s, recompute_s;  /* compute seconds */
    double model_flops;                /* forward + backward */
    double recompute_flops;
    workload_tp tp_fwd, tp_bwd, tp_recompute;
    /* framework with tp_bwd_overlap: per layer, the weight-gradient GEMMs
     * (QKV, MLP-up) a backward collective of each runs under */
    int tp_bwd_windows, tp_bwd_layers;
    double tp_bwd_window_s[2];
    double bwd_weight_s; /* of bwd_s, the weight-gradient multiplies: the W
                          * that split-backward schedules run apart (Qi et
                          * al. 2024: dW = X^T dY of every linear layer, the
                          * output layer included); the rest is B */
    /* context parallelism: the attention core of one layer (forward and
     * backward seconds, the part the ring's transfers overlap) and the
     * layers whose attention exchanges K and V (costmodel/cpcomm.h) */
    double attn_fwd_s, attn_bwd_s;
    int cp_layers;
    /* Expert parallelism (layout_ep.h): the all-to-alls of one pass, each
     * the dispatch or the combine of one MoE layer's token slots (2 per
     * MoE layer forward, 2 backward, 2 more recomputed under full); 0
     * without ep > 1 */
    int ep_a2a_fwd, ep_a2a_bwd, ep_a2a_rec;
} workload_chunk;

/* What a whole layout needs beyond the chunks. */
typedef struct workload_info {
    double tp_size_bytes;      /* size of each tensor-parallel collective */
    double p2p_bytes;          /* activation (or its gradient) one GPU sends per boundary */
    double model_flops_iter;   /* whole iteration, all GPUs */
    double hw_flops_iter;
    double tokens_iter;        /* gbs x seq */
    /* Expert parallelism: each all-to-all's size, one rank's send buffer
     * (nccl-tests' convention): the T / tp tokens it routes, topk slots
     * each of hidden 16-bit values, less what capacity drops */
    double ep_a2a_bytes;
} workload_info;

/* The layer's operators into ops (at most WORKLOAD_MAX_OPS); returns the count. */
int workload_layer_ops(const model_desc *m, const layout_desc *l, const dev_type *dev,
                       const opcost_eff *e, workload_op *ops);

/* Chunk `chunk` (0 .. vpp-1) of pipeline stage `stage`; the layout is valid. */
void workload_chunk_of(const model_desc *m, const layout_desc *l, const dev_type *dev,
                       const opcost_eff *e, int stage, int chunk, workload_chunk *out);

/* The two parts workload_chunk_of adds: the chunk's transformer layers
 * (the same for every chunk of pipeline stage `stage`; under an uneven
 * split the stages differ, layout_stages.h), then, on the pipeline's first
 * chunk, the embedding and, on its last, the output layer and loss. */
void workload_chunk_layers(const model_desc *m, const layout_desc *l, const dev_type *dev,
                           const opcost_eff *e, int stage, workload_chunk *out);
void workload_chunk_add_edges(const model_desc *m, const layout_desc *l, const dev_type *dev,
                              const opcost_eff *e, int stage, int chunk, workload_chunk *out);

/* Sizes and FLOP totals of the layout. */
void workload_info_of(const model_desc *m, const layout_desc *l, workload_info *out);

/* Seconds of the optimizer step on one GPU of `stage`, bandwidth-bound at
 * the framework's bytes per parameter the GPU updates (framework.h: 28 for
 * Adam alone: fp32 master weight, momentum and variance read and written,
 * the 16-bit gradient read and the 16-bit weight written; 52 for Megatron-
 * LM 2021/2022's fp16 optimizer); with zero 1 a GPU updates 1/dp of its
 * parameters.  With dp > 1 it includes the framework's packing of separate
 * gradient tensors around the all-reduce, or its division of a contiguous
 * buffer by dp (framework_dp_pack_bytes: 2019, 2021, 2022), which like the
 * step is HBM traffic after the backward. */
double workload_optimizer_s(const model_desc *m, const layout_desc *l, const dev_type *dev,
                            const opcost_eff *e, int stage);

/* Seconds per microbatch of the embedding table gradient's own passes on
 * the first stage (framework.h emb_grad_bytes_per_param, tied_grad_sum):
 * the zero-filled dense gradient PyTorch's embedding backward writes, 2022's
 * hook add into main_grad, and the sum of a tied table's two gradients on
 * one GPU; 0 under megatron-core. */
double workload_emb_grad_s(const model_desc *m, const layout_desc *l, const dev_type *dev,
                           const opcost_eff *e);

/* The change in a chunk's backward tensor-parallel time for one pass when
 * the framework overlaps (tp_bwd_overlap): minus, per layer, the part of
 * each window one collective of one_collective_s hides; 0 otherwise.  The
 * exposed time is the pass's collectives plus this. */
double workload_tp_bwd_exposed_s(const workload_chunk *c, double one_collective_s);

/* Bytes of 16-bit gradients (or parameters) one GPU of `stage` holds: what
 * a ZeRO all-gather of the parameters moves. */
double workload_grad_bytes(const model_desc *m, const layout_desc *l, int stage);
/* Bytes one GPU of `stage` reduces over data parallelism: fp32 gradients
 * under bf16 (framework_grad_reduce_bytes), else 16-bit. */
double workload_grad_reduce_bytes(const model_desc *m, const layout_desc *l, int stage);

#endif
