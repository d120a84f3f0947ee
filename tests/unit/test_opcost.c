/* Unit tests: kernel times.  The one measured matrix multiply is reproduced
 * by construction of the default (that is its calibration, checked here so
 * that a change to the tile model shows); waves and padding cost whole tiles;
 * the best of the tile shapes is taken, split-K for thin outputs;
 * thin multiplies are bandwidth-bound; streaming kernels follow bandwidth. */
#include <math.h>

#include "opcost.h"
#include "tap.h"

/* The A100's copy efficiency as its source prints it (GPUInspector.jl on a DGX
 * A100: 1225.3 of 1448.4 GiB/s; costmodel/devkernel.c). */
#define A100_COPY_EFF (1225.3 / 1448.4)

static const dev_type *dev(const char *name) { return dev_find(name, NULL); }

/* bf16 8192^3 on an H200: the default reproduces h200_measured.csv's 788 TFLOP/s. */
static void h200_gemm_reproduced(void)
{
    opcost_eff e;
    opcost_eff_default(&e);
    e.kernel_gap_s = 0;
    double n = 8192, s = opcost_gemm_s(dev("H200-SXM-141GB"), &e, MODEL_BF16, n, n, n, 1, 2);
    CHECK_REL(2 * n * n * n / s / 1e12, 788, 0.005);
}

/* One tile (per_device 0): 108 tiles fill one wave of an A100; 109 take two. */
static void waves_cost_whole(void)
{
    opcost_eff e;
    opcost_eff_default(&e);
    e.kernel_gap_s = 0;
    e.per_device = 0;
    const dev_type *a100 = dev("A100-SXM4-80GB");
    double k = 8192;
    double one = opcost_gemm_s(a100, &e, MODEL_FP16, 128 * 108, 256, k, 1, 2);
    double two = opcost_gemm_s(a100, &e, MODEL_FP16, 128 * 109, 256, k, 1, 2);
    CHECK_REL(two / one, 2.0, 1e-9);
    double padded = opcost_gemm_s(a100, &e, MODEL_FP16, 128 * 108 - 1, 255, k, 1, 2);
    CHECK_REL(padded, one, 1e-9); /* a partial tile costs a whole one */
    double flops_per_s = 2 * 128 * 108 * 256 * k / one;
    CHECK_REL(flops_per_s, 312e12 * e.gemm_eff, 1e-9);
}

/* The default model without the kernel gap; the A100's per-SM rate at its
 * MAMF ceiling scaled to its sustained clock (1305 of 1410 MHz, devkernel.h). */
static opcost_eff no_gap(void)
{
    opcost_eff e;
    opcost_eff_default(&e);
    e.kernel_gap_s = 0;
    return e;
}

static const double a100_per_sm = 312e12 * (267.9 / 312.0) * (1305.0 / 1410.0) / 108;

/* The sustained clock where published: an A100's full waves run at its MAMF
 * ceiling x 1305 / 1410; an H100 (no sustained clock published) at its
 * ceiling as measured. */
/* FLOP/s of an m x n x 8192 multiply (no kernel gap); the shapes below move
 * few enough bytes per FLOP to stay compute-bound at a GEMM's HBM rate. */
static double rate(const dev_type *d, model_dtype dtype, double m, double n)
{
    opcost_eff e = no_gap();
    return 2 * m * n * 8192 / opcost_gemm_s(d, &e, dtype, m, n, 8192, 1, 2);
}

static void sustained_clock_scales_ceiling(void)
{
    const dev_type *a100 = dev("A100-SXM4-80GB"), *h100 = dev("H100-SXM5-80GB");
    CHECK_REL(rate(a100, MODEL_FP16, 128 * 108, 1024), 267.9e12 * 1305 / 1410, 1e-9);
    CHECK_REL(rate(h100, MODEL_BF16, 128 * 132, 2048), 792.1e12, 1e-9); /* eight full waves */
}

/* FP8 on Hopper: full waves at the FP8 MAMF (H100 1402.6 TFLOP/s of 1979: the
 * ratio to the FP8 peak, 70.9%, below bf16's 80.1%); on the A100, which has no
 * FP8 units, an FP8 multiply is priced as a 16-bit one. */
static void fp8_has_its_own_ceiling(void)
{
    const dev_type *a100 = dev("A100-SXM4-80GB"), *h100 = dev("H100-SXM5-80GB");
    CHECK_REL(rate(h100, MODEL_FP8, 128 * 132, 2048), 1402.6e12 * 1978.9 / 1979, 1e-9);
    CHECK_REL(rate(a100, MODEL_FP8, 128 * 108, 1024), rate(a100, MODEL_FP16, 128 * 108, 1024),
              1e-12);
}

/* FP8 training keeps attention in 16 bits (Transformer Engine's fp8_dpa is
 * off by default): fused attention and unfused score GEMMs under FP8 cost
 * what they cost in bf16, at half the FP8 peak's rate on an H100. */
static void fp8_attention_in_16_bits(void)
{
    opcost_eff e;
    opcost_eff_default(&e);
    const dev_type *h100 = dev("H100-SXM5-80GB");
    double flops = 1e12, bytes = 1e6;
    CHECK_REL(opcost_attention_s(h100, &e, MODEL_FP8, flops, bytes),
              opcost_attention_s(h100, &e, MODEL_BF16, flops, bytes), 1e-12);
    CHECK_REL(opcost_attention_s(h100, &e, MODEL_BF16, flops, bytes) - e.kernel_gap_s,
              flops / (989.4e12 * e.attn_eff), 1e-9);
    /* a compute-bound shape, so that the peak it runs at shows */
    double bf16 = opcost_score_gemm_s(h100, &e, MODEL_BF16, 8192, 8192, 8192, 1, 2);
    CHECK_REL(opcost_score_gemm_s(h100, &e, MODEL_FP8, 8192, 8192, 8192, 1, 2), bf16, 1e-12);
    CHECK(bf16 > 1.5 * opcost_gemm_s(h100, &e, MODEL_FP8, 8192, 8192, 8192, 1, 2)); /* not FP8's */
}

/* The tile choice: 9216 x 384 fills 128 x 256 tiles to 75% (144 tiles, two
 * waves on 108 SMs) but 256 x 128 tiles exactly (108 tiles, one wave): the
 * better one is taken, at the A100's MAMF ceiling. */
static void best_tile_taken(void)
{
    opcost_eff e = no_gap();
    const dev_type *a100 = dev("A100-SXM4-80GB");
    double k = 8192, per_sm = a100_per_sm;
    double t = opcost_gemm_s(a100, &e, MODEL_FP16, 256 * 36, 384, k, 1, 2);
    CHECK_REL(t, 2.0 * 256 * 128 * k / per_sm, 1e-9);
    e.per_device = 0; /* the single 128 x 256 tile: two waves of it */
    double one_tile = opcost_gemm_s(a100, &e, MODEL_FP16, 256 * 36, 384, k, 1, 2);
    CHECK_REL(one_tile / t, 2.0 * (267.9 / 312.0) * (1305.0 / 1410.0) / e.gemm_eff, 1e-9);
}

/* Split-K: 256 x 256 with k = 65536 makes 4 tiles of 128 x 128, 4% of an
 * A100; 16 slices of k fill 64 SMs, plus the reduction of 16 fp32 partial
 * outputs at HBM speed. */
static void split_k_for_thin_outputs(void)
{
    opcost_eff e = no_gap();
    const dev_type *a100 = dev("A100-SXM4-80GB");
    double k = 65536, per_sm = a100_per_sm;
    double t = opcost_gemm_s(a100, &e, MODEL_FP16, 256, 256, k, 1, 2);
    double reduce = 256.0 * 256 * (4 * 16 + 2) / (a100->hbm_bw_bytes_per_s * A100_COPY_EFF);
    CHECK_REL(t, 2.0 * 128 * 128 * (k / 16) / per_sm + reduce, 1e-9);
    double unsplit = 2.0 * 128 * 256 * k / per_sm; /* one wave of 128 x 256, k whole */
    CHECK(t < unsplit / 4);
}

/* A per-head attention multiply (k = 128) is limited by memory, not FLOPs. */
static void thin_gemm_bandwidth_bound(void)
{
    opcost_eff e;
    opcost_eff_default(&e);
    e.kernel_gap_s = 0;
    const dev_type *a100 = dev("A100-SXM4-80GB");
    double s = 2048, d = 128, batch = 32;
    double t = opcost_gemm_s(a100, &e, MODEL_FP16, s, s, d, batch, 2);
    double bytes = batch * (s * d + d * s + s * s) * 2;
    CHECK_REL(t, bytes / (a100->hbm_bw_bytes_per_s * A100_COPY_EFF), 1e-9);
    /* as an unfused attention's score GEMM: at the measured chain's 0.483 */
    t = opcost_score_gemm_s(a100, &e, MODEL_FP16, s, s, d, batch, 2);
    CHECK_REL(t, bytes / (a100->hbm_bw_bytes_per_s * 0.483), 1e-9);
}

/* The memory-bound GEMM rate re-derived from its source: Megatron's unfused
 * attention on an A100 40 GB, seq 2048, batch 16 x 8 heads of 64, fp16, no
 * dropout or mask, forward and backward 13.21 ms (FlashAttention paper,
 * arXiv 2205.14135, Table 20).  The chain: forward QK^T (s x s x d), softmax
 * (read and write a 16-bit score: 4 B), P V (s x d x s); backward dP = dO V^T
 * (s x s x d), dV = P^T dO, dQ = dS K, dK = dS^T Q (s x d x s each), softmax
 * backward (read P and dP, write dS: 6 B).  Priced by the model, it takes the
 * measured time to 0.3% (a round trip of the solved constant, not a
 * validation of it); at the copy's rate it took 9.30 ms. */
static void attention_chain_measured(void)
{
    opcost_eff e;
    opcost_eff_default(&e);
    const dev_type *a100 = dev("A100-SXM4-40GB");
    double b = 16 * 8, s = 2048, d = 64, scores = b * s * s;
    double score_out = opcost_score_gemm_s(a100, &e, MODEL_FP16, s, s, d, b, 2);
    double score_in = opcost_score_gemm_s(a100, &e, MODEL_FP16, s, d, s, b, 2);
    double fwd = score_out + score_in + opcost_membound_s(a100, &e, scores * 4);
    double bwd = score_out + 3 * score_in + opcost_membound_s(a100, &e, scores * 6);
    CHECK_REL(fwd + bwd, 13.21e-3, 3e-3);
}

static void streaming_and_gap(void)
{
    opcost_eff e;
    opcost_eff_default(&e);
    const dev_type *h100 = dev("H100-SXM5-80GB");
    double t = opcost_membound_s(h100, &e, 1e9);
    CHECK_REL(t, 1e9 / (3.35e12 * 0.896) + 2e-6, 1e-9);
    CHECK_REL(opcost_membound_s(h100, &e, 0), e.kernel_gap_s, 1e-12);
}

/* fp8 uses the fp8 peak where there is one; V100 (no bf16) uses fp16's. */
static void peaks_by_dtype(void)
{
    CHECK_REL(opcost_peak_flops(dev("H100-SXM5-80GB"), MODEL_FP8), 1978.9e12, 1e-9);
    CHECK_REL(opcost_peak_flops(dev("A100-SXM4-80GB"), MODEL_FP8), 312e12, 1e-9);
    CHECK_REL(opcost_peak_flops(dev("V100-SXM2-32GB"), MODEL_BF16), 125e12, 1e-9);
}

TAP_MAIN({"h200_gemm_reproduced", h200_gemm_reproduced},
         {"waves_cost_whole", waves_cost_whole}, {"best_tile_taken", best_tile_taken},
         {"sustained_clock_scales_ceiling", sustained_clock_scales_ceiling},
         {"fp8_has_its_own_ceiling", fp8_has_its_own_ceiling},
         {"split_k_for_thin_outputs", split_k_for_thin_outputs},
         {"thin_gemm_bandwidth_bound", thin_gemm_bandwidth_bound},
         {"attention_chain_measured", attention_chain_measured},
         {"fp8_attention_in_16_bits", fp8_attention_in_16_bits},
         {"streaming_and_gap", streaming_and_gap},
         {"peaks_by_dtype", peaks_by_dtype})
