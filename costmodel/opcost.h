/* opcost: the time one GPU takes for one operator, from its FLOPs and bytes.
 *
 * Owns the device efficiency model (opcost_eff) and the three kernel kinds
 * a transformer is made of:
 *   matrix multiply   the output is cut into tiles; each SM computes one tile
 *                     per wave, at peak * ceiling / SMs, so partial tiles
 *                     (padding) and a last partly filled wave cost a whole
 *                     tile and a whole wave.  As cuBLAS's heuristic picks a
 *                     kernel per shape, the time is the best of the tile
 *                     shapes 128 x 256, 256 x 128 and 128 x 128 (CUTLASS's
 *                     large SM80 tensor-op threadblock tiles; the smallest of
 *                     them still needs only 2 x 128 x 128 / (256 x 2) = 64
 *                     FLOP per byte of L2 traffic, above the A100's 2048
 *                     FLOP/clk per SM over its 5120 B/clk L2 shared by 108
 *                     SMs = 43 (A100 whitepaper), so it runs at the same
 *                     rate; 64 x 128 would not), each with split-K when the
 *                     tiles fill less than one wave: k cut into s = 2, 4, 8
 *                     or 16 slices of at least 128 while tiles x s fit one
 *                     wave, plus a pass reading the s fp32 partial outputs
 *                     and writing the result at HBM speed.  The time is the
 *                     larger of that and the bytes moved (inputs and output
 *                     once) at the achieved memory bandwidth (a roofline):
 *                     thin multiplies such as attention's per-head ones come
 *                     out bandwidth-bound.
 *   fused attention   FlashAttention-style: FLOPs at peak * attn_eff, reading
 *                     Q, K, V and writing the output once.
 *   memory-bound      norms, activations, dropout, residual adds, softmax,
 *                     the optimizer: bytes read plus written at
 *                     hbm_bw * mem_eff.
 * Every kernel adds kernel_gap_s: the idle time between dependent kernels.
 *
 * Per device (per_device, the default): the ceiling and the HBM fraction of
 * the device's entry in devkernel.h, each with its source (best-shape
 * matmuls: A100 0.859, H100 0.801 (MAMF), V100 0.898 (DeepBench), RTX 4090
 * 1.004; the H200's own 0.821).  Without an entry,
 * or with per_device 0, these documented constants, not fitted to any
 * validation figure:
 *   gemm_eff 0.821  chosen so that this model reproduces the one measured
 *                   matrix multiply in ../shared/reference/h200_measured.csv
 *                   (bf16 8192^3 at 788 TFLOP/s on an H200: 2048 tiles of
 *                   128 x 256 in 16 waves over 132 SMs, so 788 / 989.4 /
 *                   (2048 / 2112) = 0.821);
 *   mem_eff 0.896   the measured H200 device-to-device copy, 4.3 of 4.8 TB/s;
 *   attn_eff 0.55   FlashAttention-2 (Dao 2023) reaches roughly 50-70% of
 *                   A100 peak forward and less backward; one figure for both;
 *   kernel_gap_s 2e-6  launch-to-launch gap of dependent kernels in eager
 *                   PyTorch with the CPU running ahead (an assumption);
 *   tile 128 x 256  the single tile of per_device 0 (the model before the
 *                   tile choice; calibrated profiles fit their own). */
#ifndef CS_OPCOST_H
#define CS_OPCOST_H

#include "device.h"
#include "model.h"

struct calib_profile;

typedef struct opcost_eff {
    /* A fitted device profile (calib.h, `clustersim calibrate`), or NULL for
     * the built-in model below.  With one, matrix multiplies, attention
     * (sdpa_torch's fit where measured) and memory-bound kernels take its
     * times wherever it has a fit (their fitted fixed time replaces
     * kernel_gap_s); the rest keeps these.  The same pointer carries the
     * profile to the checkpoint's copies and in-node collectives. */
    const struct calib_profile *profile;
    double gemm_eff;     /* fraction of the data type's peak a full wave of tiles reaches */
    double attn_eff;     /* fraction of peak of the fused attention kernel */
    double mem_eff;      /* fraction of HBM bandwidth a streaming kernel reaches */
    double kernel_gap_s; /* added to every kernel */
    int tile_m, tile_n;  /* output tile of one SM when per_device is 0 */
    int per_device;      /* 1: devkernel.h's ceiling and HBM fraction and the best of
                            several tiles with split-K; 0: the fields above, one tile */
} opcost_eff;

void opcost_eff_default(opcost_eff *e);

/* Peak FLOP/s of the device for matrix multiplies in dtype (fp8 falls back
 * to the 16-bit peak on devices without fp8). */
double opcost_peak_flops(const dev_type *dev, model_dtype dtype);

/* Seconds for `batch` independent multiplies of (m x k) by (k x n), operands
 * elem_bytes wide. */
double opcost_gemm_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype, double m,
                     double n, double k, double batch, double elem_bytes);

/* The same for a batched attention-score GEMM of unfused attention (QK^T,
 * probabilities x V and their gradients: one operand or the output is the
 * s x s score matrix, the other side the head width): its bytes move at the
 * device's score_gemm_eff of HBM (devkernel.h), which a measured chain of
 * them gives, not at a copy's rate. */
double opcost_score_gemm_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype, double m,
                           double n, double k, double batch, double elem_bytes);

/* Seconds for a fused attention kernel doing `flops` and moving `bytes`;
 * under FP8 training in 16 bits, as the score GEMMs above (opcost.c). */
double opcost_attention_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype,
                          double flops, double bytes);

/* Seconds for a streaming kernel that reads and writes `bytes` in all. */
double opcost_membound_s(const dev_type *dev, const opcost_eff *e, double bytes);

/* Seconds for an operator known only by its FLOPs and the bytes it moves
 * (a Chakra node's num_ops and tensor_size): the larger of the FLOPs at
 * peak * gemm_eff and the bytes at hbm_bw * mem_eff, plus kernel_gap_s.
 * Without its shape, tiles and waves cannot be counted. */
double opcost_roofline_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype,
                         double flops, double bytes);

#endif
