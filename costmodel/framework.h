/* framework: what the training code does beyond the arithmetic, per version.
 *
 * Owns the framework profiles a layout names (layout_desc.framework): which
 * communication overlaps what, the gradient-accumulation traffic, the bytes
 * the optimizer step moves per parameter, and whether data-parallel
 * gradients are reduced during the backward pass or after it.  Every figure
 * is read off the code of the version modelled (NVIDIA/Megatron-LM on
 * GitHub; commits named below) and recorded in docs/estimate.md.
 *
 *   megatron-core  (default) the behaviour the model had before profiles:
 *                  data-parallel buckets of 25 M gradients reduced as the
 *                  last backward pass produces them (Megatron-Core's
 *                  distributed data parallel with overlap_grad_reduce),
 *                  tensor-parallel collectives blocking (tp-comm-overlap is
 *                  off by default), gradient accumulation fused into the
 *                  weight-gradient GEMM, Adam at 28 bytes per parameter.
 *   megatron-2021  Megatron-LM of Narayanan et al. 2021 (commit aed2f75,
 *                  2021-04-11): every tensor-parallel collective blocks;
 *                  in fp16 there is no main_grad (contiguous buffers only
 *                  with fp32 accumulation, arguments.py lines 150-155):
 *                  autograd adds each microbatch's weight gradients into
 *                  the 16-bit .grad (read 2 + 2, write 2 = 6 bytes per
 *                  parameter); in bf16 a hook adds them into the fp32
 *                  main_grad buffer (distributed.py param_hook,
 *                  main_grad.add_(grad): read 2 + 4, write 4 = 10); the whole buffer
 *                  is all-reduced once after the last backward pass
 *                  (allreduce_gradients, called by training.py after
 *                  forward_backward); the fp16 optimizer
 *                  (FP16OptimizerWithFP16Params.step) moves 52 bytes per
 *                  parameter: model grad to fp32 main grad 2 + 4, unscale
 *                  and inf check 4 + 4, the norm for clipping 4, Adam 28
 *                  (fp32 param, grad, two moments read; param and moments
 *                  written), fp32 param to the 16-bit model param 4 + 2.
 *                  In fp16 the gradients are separate tensors (no
 *                  contiguous buffer), packed around the all-reduce:
 *                  framework_dp_pack_bytes below.
 *   megatron-2022  Megatron-LM of Korthikanti et al. 2022 (commit 55ba1f7,
 *                  2022-05-26): as 2021, except that the column-parallel
 *                  layers' backward all-reduce (reduce-scatter under sp) of
 *                  the input gradient runs asynchronously under the weight-
 *                  gradient GEMM (mpu/layers.py,
 *                  LinearWithGradAccumulationAndAsyncCommunication) and the
 *                  weight-gradient GEMM accumulates into the fp32 main_grad
 *                  itself (gradient_accumulation_fusion: no separate add)
 *                  where main_grad is fp32 (bf16); in fp16 the fusion is
 *                  off and every gradient is added into the 16-bit buffer
 *                  by the hook (framework_accum_bytes).
 *   megatron-2019  Megatron-LM v1.0 (commit f86bb67, 2019-12-26): every
 *                  collective blocks, gradients stay in the 16-bit .grad
 *                  (no accumulation buffer: autograd adds into the zero-filled
 *                  .grad, framework_grad_zero_bytes), data-parallel all-reduce after
 *                  the backward pass (training.py allreduce_params), and
 *                  FP16_Optimizer (fp16/fp16.py) moves 54 bytes per
 *                  parameter: overflow check of the 16-bit grads 2, copy to
 *                  the fp32 master grads 2 + 4, downscale 4 + 4, the norm
 *                  for clipping 4, Adam 28, master to model params 4 + 2. */
#ifndef CS_FRAMEWORK_H
#define CS_FRAMEWORK_H

#include "cs_error.h"

typedef enum framework_kind {
    FRAMEWORK_CORE,  /* layout_init's default */
    FRAMEWORK_2021,
    FRAMEWORK_2022,
    FRAMEWORK_2019
} framework_kind;

typedef struct framework_profile {
    const char *name;
    int dp_overlap;                   /* 1: buckets reduced during the last backward;
                                         0: one all-reduce of every gradient after it */
    int tp_bwd_overlap;               /* 1: the column-parallel backward collective runs
                                         under the weight-gradient GEMM */
    double accum_bytes_per_param;     /* per microbatch, outside the GEMMs, with
                                         16-bit gradients (fp16); bf16:
                                         framework_accum_bytes */
    double optimizer_bytes_per_param; /* per parameter the GPU updates */
    const char *source;               /* where the figures come from */
    /* the loss: bytes the cross-entropy moves per element of the (vocab-
     * parallel) logits, beyond the logits GEMM's own output, read off each
     * version's code (framework.c) */
    double xent_fwd_bytes_per_logit;
    double xent_bwd_bytes_per_logit;
    /* biases outside the GEMMs (issue 15), read off each version's code
     * (framework.c): which linears add their bias in a pass of their own
     * (FRAMEWORK_BIAS_*), and whether each linear's bias gradient is a
     * reduction of its output gradient over the tokens, a kernel of its own */
    int bias_add_pass;
    int bias_grad_pass;
    /* the input embedding's table gradient per microbatch (issue 15,
     * framework.c): bytes per table parameter its backward moves besides
     * accum_bytes_per_param, and whether autograd first sums the two
     * gradients of a table tied to the output layer on the same GPU (where
     * the output layer's GEMM does not accumulate itself: framework_wgrad_fused) */
    double emb_grad_bytes_per_param;
    int tied_grad_sum;
    /* Megatron-LM's unfused attention and layer norm as the version's code
     * runs them (issue 15, framework.c): its causal softmax kernel, which
     * reads only the unmasked lower triangle of the scores, where the code's
     * condition on the shapes holds; the layout copies around the
     * attention's batched multiplies; the fused layer norm's backward, which
     * reads its input and output gradient twice (gamma/beta, then input) */
    int causal_softmax_kernel;
    int attn_layout_copies; /* FRAMEWORK_COPIES_* */
    int norm_bwd_rereads;
} framework_profile;

/* framework_profile.bias_add_pass: no linear (the bias goes into a fused
 * kernel or the GEMM), only the attention's QKV projection (the column-
 * parallel layer whose bias no fused kernel takes), or every linear. */
enum { FRAMEWORK_BIAS_FUSED = 0, FRAMEWORK_BIAS_QKV = 1, FRAMEWORK_BIAS_ALL = 2 };

/* framework_profile.attn_layout_copies (framework.c): none; 2021's and
 * 2022's (baddbmm's alpha scales the query and key gradients backward);
 * 2019's, which also divides the query and the key by sqrt(sqrt(d)) in
 * forward passes of their own before torch.matmul. */
enum { FRAMEWORK_COPIES_NONE = 0, FRAMEWORK_COPIES_ALPHA = 1, FRAMEWORK_COPIES_DIVIDE = 2 };

const framework_profile *framework_of(framework_kind k);

/* Bytes per gradient the data-parallel reduction moves: 4 (fp32) when the
 * parameters are bf16 (bf16 and fp8 training) under every profile but 2019,
 * since Megatron-LM forces accumulate_allreduce_grads_in_fp32 for bf16
 * (arguments.py at aed2f75 lines 139-145 and 55ba1f7 lines 164-170:
 * "bfloat16 requires gradient accumulation and all-reduce to be done in
 * fp32"; today's megatron/training/arguments.py the same while main grads
 * are fp32, their default); 2 for fp16 and for 2019 (no bf16). */
double framework_grad_reduce_bytes(framework_kind k, int bf16_params);
/* Bytes per gradient moved around the data-parallel all-reduce when the
 * gradients are separate tensors, not one contiguous buffer (issue 15):
 * allreduce_gradients flattens them into one buffer (read 2, write 2),
 * divides it by dp (2 + 2) and copies the result back (2 + 2) = 12.
 * Megatron-LM 2021 (aed2f75, model/distributed.py; arguments.py lines
 * 150-155 turn contiguous buffers on only with fp32 accumulation, which bf16
 * forces) for fp16, and 2019 (f86bb67, model/distributed.py
 * allreduce_params).  Where gradients live in a contiguous buffer (2021
 * bf16; 2022, whose use_contiguous_buffers_in_local_ddp is on by default)
 * allreduce_gradients still divides the whole buffer by dp before the
 * all-reduce (aed2f75 model/distributed.py line 193, 55ba1f7 line 200:
 * buffer_.data /= mpu.get_data_parallel_world_size()): one read and one
 * write of the buffer's dtype, fp32 when accumulate_allreduce_grads_in_fp32
 * (bf16 forces it; _get_buffer_type, 55ba1f7 lines 128-130) else the 16-bit
 * param dtype: 2 x framework_grad_reduce_bytes = 8 (bf16) or 4 (2022 fp16).
 * Megatron-Core does the same pass per bucket (NVIDIA/Megatron-LM d98e8a64,
 * core/distributed/param_and_grad_buffer.py start_grad_sync lines 666-667:
 * bucket.grad_data *= gradient_scaling_factor, which
 * distributed_data_parallel.py lines 271-278 set to 1/dp while
 * average_in_collective is False, its default), on the compute stream
 * during the backward: the same 8 bytes per parameter under bf16 (counted in
 * the optimizer term, where the other profiles' pass runs). */
double framework_dp_pack_bytes(framework_kind k, int bf16_params);
/* The share of an iteration's m microbatches whose weight gradients are
 * added into the accumulated ones (accum_bytes_per_param; issue 15): 2021
 * in fp16 keeps separate 16-bit .grad tensors, which the optimizer's
 * zero_grad sets to None each iteration (aed2f75 optimizer/optimizer.py
 * line 283, set_to_none=True; training.py line 360), and autograd's
 * AccumulateGrad takes the first microbatch's gradient as it is: (m - 1) / m;
 * a contiguous buffer (2021 in bf16) takes every microbatch's add: 1. */
double framework_accum_share(framework_kind k, int bf16_params, int microbatches);
/* Gradient accumulation by dtype (issue 15 review): whether the linear
 * layers' weight-gradient GEMMs add into main_grad themselves (2022 with
 * fp32 main grads, which bf16 forces: 55ba1f7 arguments.py lines 178-189
 * turn gradient_accumulation_fusion off otherwise; Megatron-Core as modelled
 * before profiles), and the bytes per parameter per microbatch that adding a
 * gradient into the accumulated ones moves outside the GEMMs: from_gemm, a
 * linear layer's weight (0 where fused), else the embedding lookup's table.
 * 16-bit gradients accum_bytes_per_param (read 2 + 2, write 2 = 6); an fp32
 * main_grad (2021 and 2022 in bf16) read 2 + 4, write 4 = 10. */
int framework_wgrad_fused(framework_kind k, int bf16_params);
double framework_accum_bytes(framework_kind k, int bf16_params, int from_gemm);
/* Bytes per parameter the code's per-iteration zeroing of the gradients
 * writes (issue 15 review): 2019's FP16_Optimizer.zero_grad with
 * set_grads_to_None=False zero-fills the 16-bit model grads (2) and the
 * fp32 master grads (4); 2021 and 2022 zero the contiguous main_grad buffer
 * where there is one (zero_grad_buffer: 4 in fp32, 2022's 16-bit buffer 2),
 * while optimizer.zero_grad sets grads to None (no pass). */
double framework_grad_zero_bytes(framework_kind k, int bf16_params);
const char *framework_name(framework_kind k);
int framework_parse(const char *text, const char *what, framework_kind *out, cs_err *err);

#endif
