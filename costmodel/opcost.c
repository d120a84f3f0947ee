/* opcost: kernel times from FLOPs and bytes (see opcost.h for the model). */
#include "opcost.h"

#include <math.h>

#include "calib.h"
#include "devkernel.h"

/* The profile's fit of the kind, or NULL (then the built-in model). */
static const calib_gemm_fit *profile_fit(const opcost_eff *e, const calib_gemm_fit *fits,
                                         model_dtype dtype)
{
    if (!e->profile || !e->profile->membound.have)
        return NULL;
    const calib_gemm_fit *f = &fits[calib_dtype_of_model(dtype)];
    return f->have ? f : NULL;
}

void opcost_eff_default(opcost_eff *e)
{
    e->profile = NULL;
    e->gemm_eff = 0.821;
    e->attn_eff = 0.55;
    e->mem_eff = 0.896;
    e->kernel_gap_s = 2e-6;
    e->tile_m = 128;
    e->tile_n = 256;
    e->per_device = 1;
}

/* The device's entry when per-device parameters apply, else NULL. */
static const dev_kernel *entry(const dev_type *dev, const opcost_eff *e)
{
    return e->per_device ? dev_kernel_of(dev) : NULL;
}

double opcost_peak_flops(const dev_type *dev, model_dtype dtype)
{
    double half = dev->bf16_flops_per_s > 0 ? dev->bf16_flops_per_s : dev->fp16_flops_per_s;
    if (dtype == MODEL_FP16)
        return dev->fp16_flops_per_s;
    if (dtype == MODEL_FP8 && dev->fp8_flops_per_s > 0)
        return dev->fp8_flops_per_s;
    return half; /* bf16, or fp8 on a device without it; V100 has no bf16: fp16 */
}

static double mem_s(const dev_type *dev, const opcost_eff *e, double bytes)
{
    const dev_kernel *d = entry(dev, e);
    return bytes / (dev->hbm_bw_bytes_per_s * (d ? d->hbm_eff : e->mem_eff));
}

/* A score GEMM's bytes at the rate the measured attention chain's batched
 * GEMMs reach (devkernel.h: below a copy's), or a copy's rate without
 * per-device parameters. */
static double score_mem_s(const dev_type *dev, const opcost_eff *e, double bytes)
{
    const dev_kernel *d = entry(dev, e);
    return d ? bytes / (dev->hbm_bw_bytes_per_s * d->score_gemm_eff) : mem_s(dev, e, bytes);
}

/* Whole waves of tm x tn tiles over the SMs, k cut into `split` slices, at
 * per_sm_flops; with split-K, the reduction of the fp32 partial outputs. */
static double tiled_s(const dev_type *dev, const opcost_eff *e, double m, double n, double k,
                      double batch, int tm, int tn, int split, double per_sm_flops)
{
    double tiles = ceil(m / tm) * ceil(n / tn) * batch * split;
    double waves = ceil(tiles / dev->sms);
    double t = waves * 2.0 * tm * tn * ceil(k / split) / per_sm_flops;
    if (split > 1)
        t += mem_s(dev, e, batch * m * n * (4.0 * split + 2.0));
    return t;
}

/* The compute time of the tile choice a cuBLAS-like heuristic would make:
 * the best of the tile shapes, each with split-K while one wave is not
 * full (opcost.h); one tile_m x tile_n without per-device parameters. */
static double gemm_compute_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype,
                             double m, double n, double k, double batch)
{
    const dev_kernel *d = entry(dev, e);
    int fp8 = dtype == MODEL_FP8 && dev->fp8_flops_per_s > 0; /* FP8 units: their own ceiling */
    double fraction = d ? dev_kernel_gemm_fraction(d, fp8) : e->gemm_eff; /* sustained clock in */
    double per_sm_flops = opcost_peak_flops(dev, dtype) * fraction / dev->sms;
    if (!d)
        return tiled_s(dev, e, m, n, k, batch, e->tile_m, e->tile_n, 1, per_sm_flops);
    static const int shapes[][2] = {{128, 256}, {256, 128}, {128, 128}};
    double best = INFINITY;
    for (int i = 0; i < 3; i++) {
        int tm = shapes[i][0], tn = shapes[i][1];
        double tiles = ceil(m / tm) * ceil(n / tn) * batch;
        for (int split = 1; split <= 16; split *= 2) {
            if (split > 1 && (tiles * split > dev->sms || k / split < 128))
                break;
            best = fmin(best, tiled_s(dev, e, m, n, k, batch, tm, tn, split, per_sm_flops));
        }
    }
    return best;
}

/* The larger of the tile model's compute and the operands' bytes at the
 * rate mem gives (a roofline), or the profile's fit. */
static double gemm_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype, double m,
                     double n, double k, double batch, double elem_bytes,
                     double (*mem)(const dev_type *, const opcost_eff *, double))
{
    double compute = gemm_compute_s(dev, e, dtype, m, n, k, batch);
    double bytes = batch * (m * k + k * n + m * n) * elem_bytes;
    const calib_gemm_fit *g = profile_fit(e, e->profile ? e->profile->gemm : NULL, dtype);
    if (g)
        return calib_gemm_s(e->profile, g, m, n, k, batch, bytes);
    return fmax(compute, mem(dev, e, bytes)) + e->kernel_gap_s;
}

double opcost_gemm_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype, double m,
                     double n, double k, double batch, double elem_bytes)
{
    return gemm_s(dev, e, dtype, m, n, k, batch, elem_bytes, mem_s);
}

/* Attention's own precision: FP8 training keeps attention in 16 bits
 * (Transformer Engine's recipes run dot-product attention in FP8 only with
 * fp8_dpa, off by default: transformer_engine.common.recipe; the DeepSeek-V3
 * report, arXiv 2412.19437 sec. 3.3.1: "attention operators" in BF16). */
static model_dtype attention_dtype(model_dtype dtype)
{
    return dtype == MODEL_FP8 ? MODEL_BF16 : dtype;
}

double opcost_score_gemm_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype, double m,
                           double n, double k, double batch, double elem_bytes)
{
    return gemm_s(dev, e, attention_dtype(dtype), m, n, k, batch, elem_bytes, score_mem_s);
}

double opcost_attention_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype,
                          double flops, double bytes)
{
    dtype = attention_dtype(dtype);
    const calib_gemm_fit *a = profile_fit(e, e->profile ? e->profile->attention : NULL, dtype);
    if (a)
        return calib_attention_s(e->profile, a, flops, bytes);
    double compute = flops / (opcost_peak_flops(dev, dtype) * e->attn_eff);
    return fmax(compute, mem_s(dev, e, bytes)) + e->kernel_gap_s;
}

double opcost_membound_s(const dev_type *dev, const opcost_eff *e, double bytes)
{
    if (e->profile && e->profile->membound.have)
        return calib_bw_s(&e->profile->membound, bytes);
    return mem_s(dev, e, bytes) + e->kernel_gap_s;
}

double opcost_roofline_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype,
                         double flops, double bytes)
{
    double compute = flops / (opcost_peak_flops(dev, dtype) * e->gemm_eff);
    return fmax(compute, mem_s(dev, e, bytes)) + e->kernel_gap_s;
}
