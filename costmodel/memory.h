/* memory: the bytes one GPU holds while training, per pipeline stage, and
 * whether that fits the device.
 *
 * Owns the footprint model: model state (weights, gradients, optimizer),
 * activations kept in flight by the pipeline schedule, a communication
 * allowance, and the usable memory of a device.  Every rank of one pipeline
 * stage holds the same bytes (tensor- and data-parallel ranks are symmetric),
 * so "per stage" means "per GPU of that stage".
 *
 * Model state (Rajbhandari et al. 2020, ZeRO, arXiv 1910.02054, sec. 3.1:
 * mixed-precision Adam keeps 2 + 2 + K bytes per parameter, K = 12):
 *   weights     2 bytes (fp16/bf16); fp8: 1 byte (assumption: fp8 primary
 *               weights as Transformer Engine's fp8_model_params / Megatron's
 *               --fp8-param-gather; the fp32 master copy is in the optimizer)
 *   gradients   2 bytes (Megatron's distributed optimizer keeps the full
 *               gradient buffer in its default); divided by Nd from zero 2
 *   optimizer   12 bytes: fp32 master weights, momentum, variance; divided by
 *               Nd from zero 1 (ZeRO stage 1 = Megatron distributed optimizer)
 *   Nd is dp, or the HSDP shard group; weights are divided by Nd under
 *   zero 3, which adds the parameters it has gathered (sharding.h).
 *   Note: Megatron-LM accumulates gradients in fp32 by default under bf16
 *   (its distrib_optimizer table: 18 bytes, 6 + 12/dp distributed); the
 *   16-byte ZeRO figure used here is the standard one and is lower by
 *   2 bytes per parameter.
 *
 * Parameters per rank of a stage: the stage's layers with their linear
 * weights, the biases of column-parallel layers (QKV, MLP up/gate) split
 * over tp; norms and the biases of row-parallel layers (attention output,
 * MLP down) replicated on every tp rank (as Megatron does).  The first
 * stage adds the vocab-parallel input embedding (vocab * hidden / tp) and
 * the learned positions (replicated); the last stage adds the output layer
 * (vocab * hidden / tp) and the final norm.  With tied embeddings and
 * pp > 1 the last stage keeps its own copy of the table (Megatron does, and
 * all-reduces its gradient with the first stage's); with pp 1 the one table
 * serves both.
 *
 * Activations per layer per microbatch: see memory.c, derived term by term
 * after Korthikanti et al. 2022 (arXiv 2205.05198) sec. 4 and equal to their
 * Table 2 for the GPT shape (a test holds it).  Activations are 16-bit, but
 * under fp8 the Linear layers' saved inputs (their GEMM inputs) are 1 byte:
 * Transformer Engine keeps the FP8 copy for the weight gradient, and keeps
 * norms, softmax, activation functions and residuals in 16 bits (memory.c
 * cites both), and dropout masks (1 byte per element) are counted as in that
 * paper, also for models trained without dropout (an over-estimate of
 * 2 s b h bytes per layer there).
 *
 * Activations in flight on a stage (memory.c has the derivations):
 *   GPipe: m microbatches on every stage (Huang et al. 2019);
 *   1F1B: min(pp - stage, m) (Narayanan et al. 2021, sec. 2.2.1);
 *   interleaved: Megatron-LM's warm-up count plus one, in (chunk,
 *     microbatch) units of layers / (pp * vpp) layers: min(2 (pp - stage - 1)
 *     + (vpp - 1) pp + 1, m vpp); on stage 0 that is pp (1 + (pp - 1) /
 *     (pp vpp)) stages' worth (Korthikanti et al. 2022, sec. 4.2.3);
 *   plus the input-embedding dropout mask on the first stage, per
 *   microbatch in flight there; the final-norm and output-layer inputs and
 *   the fp32 logits, 4 s b vocab / tp, on the last stage, for m microbatches
 *   under GPipe and one otherwise (Korthikanti et al. 2022, sec. 4.3);
 *   plus what recomputation rematerialises for one layer of one microbatch
 *   in the backward pass (the whole layer under full, the attention core
 *   under selective).
 *
 * Not modelled: allocator fragmentation, transient activation gradients of
 * the backward pass, pipeline send/receive staging. */
#ifndef CS_MEMORY_H
#define CS_MEMORY_H

#include "cs_error.h"
#include "device.h"
#include "layout.h"
#include "model.h"

/* Communication allowance, per GPU (documented constants, not fitted):
 *   NCCL: NCCL_BUFFSIZE (default 4 MiB) for each of 16 channels, send and
 *   receive: 128 MiB for every communicator the rank uses (tp, pp, dp group
 *   of more than one rank);
 *   data-parallel gradient buckets: two buckets in flight (one reducing while
 *   the next fills) of 25 M 16-bit gradients (PyTorch DDP's bucket_cap of
 *   25 MB): 2 * 25e6 * 2 bytes, when dp > 1. */
#define MEMORY_NCCL_COMM_BYTES (4.0 * 1024 * 1024 * 16 * 2)
#define MEMORY_GRAD_BUCKETS_BYTES (2 * 25e6 * 2)

/* Usable memory: vendors label HBM in binary gigabytes (the A100 80GB reports
 * 81920 MiB; the H200 "141 GB" reports 143771 MiB of 141 * 1024 = 144384),
 * so the vendor figure is read in GiB, less 1.5% the driver may withhold
 * (the H200 withholds 0.4%), less 1 GiB for the CUDA context, cuBLAS
 * workspaces and the allocator's own slack. */
#define MEMORY_DRIVER_FRACTION 0.985
#define MEMORY_CONTEXT_RESERVE_BYTES (1024.0 * 1024 * 1024)

typedef struct memory_breakdown {
    double params;            /* parameters held by one GPU of the stage */
    double weights_bytes;
    double grads_bytes;
    double optimizer_bytes;
    double activations_bytes; /* in flight, embedding/loss, recompute working set */
    double buffers_bytes;     /* communication allowance */
    double peak_bytes;        /* the sum of the five above */
    int microbatches_in_flight; /* distinct microbatches with activations stored */
    int chunks_in_flight;       /* (model chunk, microbatch) pairs stored; = the above when vpp 1 */
} memory_breakdown;

/* The footprint of one GPU of pipeline stage `stage` (0-based).  The layout
 * is validated first (without the GPU-count and node rules). */
int memory_per_stage(const model_desc *m, const layout_desc *l, int stage,
                     memory_breakdown *out, cs_err *err);

/* The same for a layout already validated and a stage in range (the
 * estimate validates once and asks for every stage). */
void memory_per_stage_valid(const model_desc *m, const layout_desc *l, int stage,
                            memory_breakdown *out);

/* Every stage's (out[pp]) of a valid layout: split-backward schedules build
 * their orders once rather than once per stage. */
void memory_all_stages_valid(const model_desc *m, const layout_desc *l, memory_breakdown *out);

/* The stage with the highest peak (the lowest such stage on a tie), its
 * breakdown, and whether it fits the device's usable memory. */
int memory_peak(const model_desc *m, const layout_desc *l, const dev_type *dev,
                memory_breakdown *worst, int *worst_stage, int *fits, cs_err *err);

/* Like memory_peak, but failing with a message (the stage, its breakdown and
 * the usable memory) when the layout does not fit. */
int memory_require_fit(const model_desc *m, const layout_desc *l, const dev_type *dev,
                       cs_err *err);

/* Stored activation bytes of one transformer layer for one microbatch on one
 * GPU, under the layout's tp, sp, recomputation and flash attention. */
double memory_activation_bytes_per_layer(const model_desc *m, const layout_desc *l);

/* Bytes per layer, per microbatch, that W still reads after B in a
 * split-backward schedule: each linear layer's output gradient. */
double memory_wpending_bytes_per_layer(const model_desc *m, const layout_desc *l);

/* Activations one microbatch leaves stored on a GPU of `stage` from its
 * forward pass through model chunk `chunk` until its backward pass: the
 * chunk's layers, plus the embedding dropout mask on the first stage's
 * first chunk and the output layer's inputs and logits on the last stage's
 * last chunk (layout valid).  The peak's activation term is these over the
 * units in flight plus the recomputation working set. */
double memory_unit_bytes(const model_desc *m, const layout_desc *l, int stage, int chunk);

/* What recomputation rematerialises during one layer's backward pass. */
double memory_recompute_working_bytes(const model_desc *m, const layout_desc *l);

/* Parameters held by one GPU of pipeline stage `stage` (layout valid). */
double memory_stage_params(const model_desc *m, const layout_desc *l, int stage);

/* (model chunk, microbatch) pairs whose activations stage `stage` holds at
 * its peak under the layout's schedule (layout valid). */
int memory_chunks_in_flight(const layout_desc *l, int stage);

/* Bytes a device leaves to the training job (see MEMORY_DRIVER_FRACTION). */
double memory_usable_bytes(const dev_type *dev);

#endif
