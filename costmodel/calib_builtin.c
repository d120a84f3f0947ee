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
