/* calib_builtin: the built-in model as a profile (see calib_builtin.h). */
#include "calib_builtin.h"

#include <stdio.h>
#include <string.h>

#include "devkernel.h"
#include "opcost.h"

void calib_profile_default(const dev_type *dev, calib_profile *p)
{
    opcost_eff e;
    opcost_eff_default(&e);
    const dev_kernel *k = dev_kernel_of(dev); /* the device's ceiling, one tile (calib.h) */
    memset(p, 0, sizeof *p);
    snprintf(p->device, sizeof p->device, "%s", dev->name);
    snprintf(p->measured_on, sizeof p->measured_on, "%s (built-in model)", dev->name);
    p->sms = dev->sms;
    p->folds = 5;
    for (int d = 0; d < CALIB_NDTYPE; d++) {
        double peak = calib_peak_flops(dev, (calib_dtype)d);
        if (peak <= 0)
            continue;
        double fraction = k ? dev_kernel_gemm_fraction(k, d == CALIB_FP8) : e.gemm_eff;
        p->gemm[d] = (calib_gemm_fit){1, 0, fraction, 0, e.kernel_gap_s, e.tile_m, e.tile_n, peak};
        p->attention[d] = (calib_gemm_fit){1, 0, e.attn_eff, 0, e.kernel_gap_s, 0, 0, peak};
    }
    calib_bw_fit mem = {1, 0, dev->hbm_bw_bytes_per_s * (k ? k->hbm_eff : e.mem_eff),
                        e.kernel_gap_s};
    p->membound = mem;
    for (int i = 0; i < CALIB_NMEMKERNEL; i++)
        p->memkernel[i] = mem;
}

/* The model data type of a calibration row's, or -1 where estimates have none. */
static int model_dtype_of(calib_dtype d)
{
    return d == CALIB_FP16 ? MODEL_FP16 : d == CALIB_BF16 ? MODEL_BF16 : d == CALIB_FP8 ? MODEL_FP8
                                                                                          : -1;
}

double calib_builtin_predict_s(const void *ctx, const calib_profile *p, const calib_meas *r)
{
    const dev_type *dev = ctx;
    const calib_kernel *kn = calib_kernel_find(r->kernel, NULL);
    int dtype = model_dtype_of(r->dtype);
    if (!kn || dtype < 0 || (kn->family != CALIB_GEMM && kn->family != CALIB_ATTENTION))
        return calib_predict_s(p, r);
    opcost_eff e;
    opcost_eff_default(&e);
    if (kn->family == CALIB_ATTENTION)
        return opcost_attention_s(dev, &e, (model_dtype)dtype, r->flops, r->bytes);
    return opcost_gemm_s(dev, &e, (model_dtype)dtype, r->m, r->n, r->k, r->batch,
                         calib_dtype_bytes(r->dtype));
}
