/* opcost: kernel times from FLOPs and bytes (see opcost.h for the model). */
#include "opcost.h"

#include <math.h>

#include "calib.h"

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
    return bytes / (dev->hbm_bw_bytes_per_s * e->mem_eff);
}

double opcost_gemm_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype, double m,
                     double n, double k, double batch, double elem_bytes)
{
    double tiles = ceil(m / e->tile_m) * ceil(n / e->tile_n) * batch;
    double waves = ceil(tiles / dev->sms);
    double per_sm_flops = opcost_peak_flops(dev, dtype) * e->gemm_eff / dev->sms;
    double compute = waves * 2.0 * e->tile_m * e->tile_n * k / per_sm_flops;
    double bytes = batch * (m * k + k * n + m * n) * elem_bytes;
    const calib_gemm_fit *g = profile_fit(e, e->profile ? e->profile->gemm : NULL, dtype);
    if (g)
        return calib_gemm_s(e->profile, g, m, n, k, batch, bytes);
    return fmax(compute, mem_s(dev, e, bytes)) + e->kernel_gap_s;
}

double opcost_attention_s(const dev_type *dev, const opcost_eff *e, model_dtype dtype,
                          double flops, double bytes)
{
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
