/* framework: the profiles of the training code versions (see framework.h). */
#include "framework.h"

#include "units.h"

/* Cross-entropy bytes per logit.  Megatron-LM 2021 and 2022 (gpt_model.py
 * post_language_model_processing without --fp16-lm-cross-entropy, its
 * default: vocab_parallel_cross_entropy(output.float()), mpu/cross_entropy.py
 * at aed2f75 and 55ba1f7), one pass per PyTorch op: forward .float() r2 w4,
 * max r4, sub_ r4 w4, exp(out=) r4 w4, sum r4, div_ r4 w4 = 38; backward
 * mul_ r4 w4 and the cast's backward to 16 bits r4 w2 = 14.  2019
 * (pretrain_gpt2.py output.float(), mpu/cross_entropy.py at f86bb67) also
 * clones the fp32 logits first (r4 w4) and exp() is out of place (the same
 * bytes): 46 forward, 14 backward.  megatron-core keeps the count the model
 * had before profiles: 14 forward (read 2, 12 in fp32), 6 backward. */
#define XENT_2021_FWD 38.0
#define XENT_2019_FWD 46.0
#define XENT_UNFUSED_BWD 14.0

/* Biases outside the GEMMs (issue 15).  Forward: Megatron-LM 2021 (aed2f75
 * mpu/layers.py lines 283-284) passes the QKV projection's bias to F.linear
 * (transformer.py line 142: no skip_bias_add, unlike dense_h_to_4h, dense
 * and dense_4h_to_h, whose biases go into the fused bias-GeLU and
 * bias-dropout-add); for a 3-D input PyTorch runs matmul, then
 * output.add_(bias), a pass of its own (pytorch/pytorch issue #39661; fused
 * for N-D inputs only by PR #74070, PyTorch 1.12; aed2f75's README: PyTorch
 * 1.8).  2022 (55ba1f7 mpu/layers.py lines 234-235: output = output + bias)
 * the same.  2019 (f86bb67 mpu/layers.py): every ColumnParallelLinear passes
 * its bias to F.linear (QKV and MLP-up), RowParallelLinear adds it after the
 * all-reduce (output_ + self.bias, line 323).  Backward, all three: each
 * linear's bias gradient is the output gradient summed over the tokens in a
 * reduction of its own: autograd's sum_to for add_ and the broadcast biases
 * of 2021's bias-GeLU (fused_bias_gelu.py: backward returns tmp for the
 * bias) and bias-dropout-add, 2022's grad_output.sum(dim=0) (layers.py line
 * 301).  megatron-core keeps the model it had before (no bias passes). */
#define BIAS_ALL_GRADS 1

/* The embedding table's gradient (issue 15).  PyTorch's CUDA embedding
 * backward allocates a dense gradient of the whole table with at::zeros
 * (aten/src/ATen/native/cuda/Embedding.cu embedding_dense_backward_cuda for
 * up to 3072 indices, EmbeddingBackwardKernel.cu embedding_backward_cuda_
 * kernel above that) and writes the looked-up rows into it: 2 bytes per
 * table parameter of 16-bit zeros, 2019, 2021 and 2022 alike.  Adding it
 * into the accumulated gradients is framework_accum_bytes' (from_gemm 0):
 * 2022 in bf16 adds it into the fp32 main_grad with its hook (55ba1f7
 * model/distributed.py line 174, main_grad.add_(grad): read 2 + 4, write 4),
 * since only the linear layers accumulate inside the GEMM there
 * (gradient_accumulation_fusion, layers.py wgrad_gemm_accum_fp32): 12 in
 * all with the zero fill.  A tied table on one GPU (pp 1) gets two
 * gradients, the lookup's and the output layer's weight gradient; autograd
 * sums them before accumulating (read 2 + 2, write 2) wherever the output
 * layer's GEMM returns its gradient: 2019, 2021, and 2022 in fp16 (fusion
 * off); 2022 in bf16 adds the output layer's into main_grad inside its
 * GEMM (language_model.py line 46), so nothing is summed
 * (framework_wgrad_fused).  megatron-core keeps the model it had before
 * (none of these). */
#define EMB_ZERO_FILL 2.0

/* Gradient accumulation outside the GEMMs (framework_accum_bytes).  16-bit
 * gradients: an in-place add of one 16-bit gradient into another, read
 * 2 + 2, write 2: 2021 in fp16 (autograd's AccumulateGrad into .grad), 2022
 * in fp16 (the hook into its 16-bit buffer: _get_buffer_type is the param's
 * dtype without accumulate_allreduce_grads_in_fp32; fusion off), 2019
 * (AccumulateGrad into the .grad zero_grad filled with zeros, fp16/fp16.py
 * zero_grad(set_grads_to_None=False), called by training.py backward_step).
 * An fp32 main_grad (bf16 forces it, arguments.py at aed2f75 lines 139-145,
 * 55ba1f7 lines 164-170): main_grad.add_(grad) reads the 16-bit gradient
 * and the fp32 sum, writes the sum. */
#define ACCUM_16BIT 6.0
#define ACCUM_FP32_MAIN_GRAD (2.0 + 4.0 + 4.0)
/* Per-iteration zeroing (framework_grad_zero_bytes): 2019's zero_() of the
 * 16-bit model grads and of the fp32 master grads FP16_Optimizer's
 * param_groups hold (fp16/fp16.py lines 260-283); 2021's and 2022's
 * zero_grad_buffer (training.py at aed2f75 line 358, 55ba1f7 line 413;
 * MemoryBuffer.zero, data.zero_()) of a buffer of fp32 (bf16) or, 2022 in
 * fp16, the 16-bit param dtype. */
#define ZERO_2019 (2.0 + 4.0)

/* Attention and norms (issue 15).  Softmax: 2021's causal path
 * (model/fused_softmax.py at aed2f75, taken when 16 < sk <= 2048, sq % 4 == 0
 * and b x heads % 4 == 0) runs scaled_upper_triang_masked_softmax
 * (fused_kernels/scaled_upper_triang_masked_softmax.h): row i loads only its
 * i + 1 unmasked scores (local_seq = blockIdx.x + 1) and writes the whole row,
 * zeros above the diagonal; its backward loads the output gradient and the
 * probabilities of the same triangle and writes the whole row.  2022's
 * condition differs (is_kernel_available, batch_per_block): not modelled.
 * Layout copies, 2021 and 2022 (model/transformer.py at aed2f75 and
 * 55ba1f7): the context's permute(2, 0, 1, 3).contiguous() (read and write
 * of T x h/tp); in the backward, baddbmm's alpha = 1/sqrt(d) scales the query
 * and key gradients in a pass each (PyTorch's derivative: grad.bmm(...) *
 * alpha), and torch.split's backward (mpu.split_tensor_along_last_dim)
 * concatenates the three gradients into the QKV output gradient (read and
 * write of T x 3h/tp).  2019 (model/transformer.py at f86bb67) the same
 * split (line 230) and context permute(0, 2, 1, 3).contiguous() (line 268),
 * but it scales by dividing: query_layer/norm_factor and key_layer.
 * transpose(-1, -2)/norm_factor (lines 242-244) are forward passes (read
 * and write of T x h/tp each) whose backward divides the gradients again
 * (a pass each, as 2021's alpha).  Left out: the copies torch.matmul may
 * make reshaping 2019's permuted 4-D operands to 3-D (PyTorch internals,
 * not read here).  Layer norm, 2019 (apex FusedLayerNorm), 2021 and 2022
 * (fused_kernels/layer_norm_cuda_kernel.cu, HostLayerNormGradient):
 * cuComputePartGradGammaBeta reads the output gradient and the input for
 * gamma and beta, then cuComputeGradInput reads both again and writes the
 * input gradient. */

static const framework_profile profiles[] = {
    [FRAMEWORK_CORE] = {"megatron-core", 1, 0, 0.0, 28.0,
                        "Megatron-Core DDP overlap_grad_reduce; fused wgrad accumulation; "
                        "Adam 28 B/param", 14.0, 6.0, FRAMEWORK_BIAS_FUSED, 0, 0.0, 0, 0, 0, 0},
    [FRAMEWORK_2021] = {"megatron-2021", 0, 0, ACCUM_16BIT, 52.0,
                        "Megatron-LM aed2f75 (2021-04-11): model/distributed.py, training.py, "
                        "optimizer/optimizer.py, mpu/cross_entropy.py", XENT_2021_FWD,
                        XENT_UNFUSED_BWD, FRAMEWORK_BIAS_QKV, BIAS_ALL_GRADS, EMB_ZERO_FILL, 1,
                        1, FRAMEWORK_COPIES_ALPHA, 1},
    [FRAMEWORK_2022] = {"megatron-2022", 0, 1, ACCUM_16BIT, 52.0,
                        "Megatron-LM 55ba1f7 (2022-05-26): mpu/layers.py async grad all-reduce, "
                        "gradient_accumulation_fusion, mpu/cross_entropy.py", XENT_2021_FWD,
                        XENT_UNFUSED_BWD, FRAMEWORK_BIAS_QKV, BIAS_ALL_GRADS,
                        EMB_ZERO_FILL, 1, 0, FRAMEWORK_COPIES_ALPHA, 1},
    [FRAMEWORK_2019] = {"megatron-2019", 0, 0, ACCUM_16BIT, 54.0,
                        "Megatron-LM f86bb67 (2019-12-26): fp16/fp16.py FP16_Optimizer, "
                        "training.py, mpu/cross_entropy.py", XENT_2019_FWD, XENT_UNFUSED_BWD,
                        FRAMEWORK_BIAS_ALL, BIAS_ALL_GRADS, EMB_ZERO_FILL, 1, 0,
                        FRAMEWORK_COPIES_DIVIDE, 1},
};

static const char *const names[] = {"megatron-core", "megatron-2021", "megatron-2022",
                                    "megatron-2019"};

#define NPROFILES ((int)(sizeof profiles / sizeof profiles[0]))

const framework_profile *framework_of(framework_kind k)
{
    return (unsigned)k < (unsigned)NPROFILES ? &profiles[k] : &profiles[FRAMEWORK_CORE];
}

const char *framework_name(framework_kind k) { return framework_of(k)->name; }

double framework_grad_reduce_bytes(framework_kind k, int bf16_params)
{
    return bf16_params && k != FRAMEWORK_2019 ? 4.0 : 2.0;
}

double framework_dp_pack_bytes(framework_kind k, int bf16_params)
{
    if (k == FRAMEWORK_2019 || (k == FRAMEWORK_2021 && !bf16_params))
        return 12.0; /* flatten, divide by dp, copy back */
    /* 2021 bf16, 2022: buffer_.data /= dp; megatron-core: each bucket scaled
     * by 1/dp before its collective; a read and a write of the buffer */
    return 2.0 * framework_grad_reduce_bytes(k, bf16_params);
}

double framework_accum_share(framework_kind k, int bf16_params, int microbatches)
{
    if (k == FRAMEWORK_2021 && !bf16_params && microbatches > 0)
        return (microbatches - 1.0) / microbatches; /* the first is taken, not added */
    return 1.0;
}

int framework_wgrad_fused(framework_kind k, int bf16_params)
{
    return k == FRAMEWORK_CORE || (k == FRAMEWORK_2022 && bf16_params);
}

double framework_accum_bytes(framework_kind k, int bf16_params, int from_gemm)
{
    if (k == FRAMEWORK_CORE || (from_gemm && framework_wgrad_fused(k, bf16_params)))
        return 0.0;
    if (bf16_params && k != FRAMEWORK_2019) /* 2019 has no bf16: its 16-bit .grad */
        return ACCUM_FP32_MAIN_GRAD;
    return framework_of(k)->accum_bytes_per_param;
}

double framework_grad_zero_bytes(framework_kind k, int bf16_params)
{
    if (k == FRAMEWORK_2019)
        return ZERO_2019;
    if (k == FRAMEWORK_2022 || (k == FRAMEWORK_2021 && bf16_params))
        return framework_grad_reduce_bytes(k, bf16_params); /* the buffer's dtype */
    return 0.0; /* megatron-core as before; 2021 fp16: set to None */
}

int framework_parse(const char *text, const char *what, framework_kind *out, cs_err *err)
{
    int i = 0;
    if (units_parse_name(text, what, names, NPROFILES, &i, err) != 0)
        return -1;
    *out = (framework_kind)i;
    return 0;
}
