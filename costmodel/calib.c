/* calib: the calibrated kernel models and the kernel names (see calib.h). */
#include "calib.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "devkernel.h"
#include "opcost.h"

static const char *const dtype_names[CALIB_NDTYPE] = {"fp32", "tf32", "bf16", "fp16", "fp8"};
static const char *const family_names[CALIB_NFAMILY] = {"gemm", "attention", "membound",
                                                        "copy", "collective"};
static const char *const memkernel_names[CALIB_NMEMKERNEL] = {
    "layernorm", "rmsnorm", "gelu", "swiglu", "softmax", "adam", "copy_d2d"};
static const char *const copy_names[CALIB_NCOPY] = {"copy_h2d_pinned", "copy_d2h_pinned",
                                                    "copy_h2d_pageable", "copy_d2h_pageable",
                                                    "copy_d2d_memcpy"};
static const char *const collop_names[CALIB_NCOLLOP] = {"allreduce", "allgather",
                                                        "reducescatter", "alltoall", "sendrecv"};

static const calib_kernel kernels[] = {
    {"gemm", CALIB_GEMM, 0},
    {"gemm_batched", CALIB_GEMM, 1},
    {"attention", CALIB_ATTENTION, CALIB_ATTN_OWN},
    {"sdpa_torch", CALIB_ATTENTION, CALIB_ATTN_SDPA},
    {"layernorm", CALIB_MEMBOUND, 0},
    {"rmsnorm", CALIB_MEMBOUND, 1},
    {"gelu", CALIB_MEMBOUND, 2},
    {"swiglu", CALIB_MEMBOUND, 3},
    {"softmax", CALIB_MEMBOUND, 4},
    {"adam", CALIB_MEMBOUND, 5},
    {"copy_d2d", CALIB_MEMBOUND, 6},
    {"copy_h2d_pinned", CALIB_COPY, 0},
    {"copy_d2h_pinned", CALIB_COPY, 1},
    {"copy_h2d_pageable", CALIB_COPY, 2},
    {"copy_d2h_pageable", CALIB_COPY, 3},
    {"copy_d2d_memcpy", CALIB_COPY, 4},
    {"allreduce", CALIB_COLLECTIVE, 0},
    {"allgather", CALIB_COLLECTIVE, 1},
    {"reducescatter", CALIB_COLLECTIVE, 2},
    {"alltoall", CALIB_COLLECTIVE, 3},
    {"sendrecv", CALIB_COLLECTIVE, 4},
};
#define NKERNELS ((int)(sizeof kernels / sizeof kernels[0]))

const char *calib_dtype_name(calib_dtype d) { return dtype_names[d]; }
const char *calib_family_name(calib_family f) { return family_names[f]; }
const char *calib_memkernel_name(int i) { return memkernel_names[i]; }
const char *calib_copy_name(int i) { return copy_names[i]; }
const char *calib_collop_name(int i) { return collop_names[i]; }

const char *calib_attn_source_name(calib_attn_source s)
{
    return s == CALIB_ATTN_SDPA ? "sdpa_torch" : "attention";
}

int calib_dtype_parse(const char *text, calib_dtype *out)
{
    for (int i = 0; i < CALIB_NDTYPE; i++)
        if (strcasecmp(text, dtype_names[i]) == 0) {
            *out = (calib_dtype)i;
            return 0;
        }
    return -1;
}

const calib_kernel *calib_kernel_find(const char *name, cs_err *err)
{
    char list[512] = "";
    for (int i = 0; i < NKERNELS; i++) {
        if (strcmp(kernels[i].name, name) == 0)
            return &kernels[i];
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, kernels[i].name, sizeof list - strlen(list) - 1);
    }
    cs_fail(err, "unknown kernel '%s'; valid kernels: %s", name, list);
    return NULL;
}

double calib_peak_flops(const dev_type *dev, calib_dtype d)
{
    switch (d) {
    case CALIB_FP32: return dev->fp32_flops_per_s;
    case CALIB_TF32: return dev->tf32_flops_per_s;
    case CALIB_BF16: return dev->bf16_flops_per_s;
    case CALIB_FP16: return dev->fp16_flops_per_s;
    default: return dev->fp8_flops_per_s;
    }
}

calib_dtype calib_dtype_of_model(model_dtype d)
{
    return d == MODEL_FP16 ? CALIB_FP16 : d == MODEL_FP8 ? CALIB_FP8 : CALIB_BF16;
}

double calib_dtype_bytes(calib_dtype d)
{
    return d == CALIB_FP8 ? 1 : (d == CALIB_FP32 || d == CALIB_TF32) ? 4 : 2;
}

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
        p->gemm[d] = (calib_gemm_fit){1, 0, k ? k->gemm_ceiling : e.gemm_eff, 0, e.kernel_gap_s,
                                      e.tile_m, e.tile_n, peak};
        p->attention[d] = (calib_gemm_fit){1, 0, e.attn_eff, 0, e.kernel_gap_s, 0, 0, peak};
    }
    calib_bw_fit mem = {1, 0, dev->hbm_bw_bytes_per_s * (k ? k->hbm_eff : e.mem_eff),
                        e.kernel_gap_s};
    p->membound = mem;
    for (int i = 0; i < CALIB_NMEMKERNEL; i++)
        p->memkernel[i] = mem;
}

static double mem_bw(const calib_profile *p)
{
    return p->membound.bw_bytes_per_s;
}

double calib_gemm_s(const calib_profile *p, const calib_gemm_fit *g, double m, double n,
                    double k, double batch, double bytes)
{
    double tiles = ceil(m / g->tile_m) * ceil(n / g->tile_n) * batch;
    double waves = ceil(tiles / p->sms);
    double per_sm_flops = g->peak_flops_per_s * g->eff / p->sms;
    double compute = waves * 2.0 * g->tile_m * g->tile_n * (k + g->k_extra) / per_sm_flops;
    return fmax(compute, bytes / mem_bw(p)) + g->fixed_s;
}

double calib_attention_s(const calib_profile *p, const calib_gemm_fit *a, double flops,
                         double bytes)
{
    return fmax(flops / (a->peak_flops_per_s * a->eff), bytes / mem_bw(p)) + a->fixed_s;
}

double calib_bw_s(const calib_bw_fit *b, double bytes)
{
    return bytes / b->bw_bytes_per_s + b->fixed_s;
}

const calib_gemm_fit *calib_attention_fit_for(const calib_profile *p, calib_attn_source kernel,
                                              calib_dtype d)
{
    int own_kept = kernel == CALIB_ATTN_OWN && p->attention_source[d] == CALIB_ATTN_SDPA &&
                   p->attention_own[d].have;
    return own_kept ? &p->attention_own[d] : &p->attention[d];
}

const calib_coll_fit *calib_coll_find(const calib_profile *p, int op, int ranks)
{
    for (int i = 0; i < p->ncoll; i++)
        if (p->coll[i].op == op && p->coll[i].ranks == ranks)
            return &p->coll[i];
    return NULL;
}

double calib_predict_s(const calib_profile *p, const calib_meas *r)
{
    const calib_kernel *kn = calib_kernel_find(r->kernel, NULL);
    if (!kn)
        return -1;
    const calib_gemm_fit *g = &p->gemm[r->dtype];
    const calib_gemm_fit *a = calib_attention_fit_for(p, (calib_attn_source)kn->index, r->dtype);
    switch (kn->family) {
    case CALIB_GEMM:
        return g->have && p->membound.have ? calib_gemm_s(p, g, r->m, r->n, r->k, r->batch, r->bytes)
                                           : -1;
    case CALIB_ATTENTION:
        return a->have && p->membound.have ? calib_attention_s(p, a, r->flops, r->bytes) : -1;
    case CALIB_MEMBOUND:
        return p->membound.have ? calib_bw_s(&p->membound, r->bytes) : -1;
    case CALIB_COPY:
        return p->copy[kn->index].have ? calib_bw_s(&p->copy[kn->index], r->bytes) : -1;
    default: {
        const calib_coll_fit *c = calib_coll_find(p, kn->index, r->ranks);
        return c ? c->latency_s + r->bytes / c->algbw_bytes_per_s : -1;
    }
    }
}

int calib_profile_check_device(const calib_profile *p, const dev_type *dev, cs_err *err)
{
    if (strcasecmp(p->device, dev->name) == 0)
        return 0;
    return cs_fail(err, "the device profile was fitted on %s, but the system's GPUs are %s; "
                        "calibrate on that GPU or pick a system with %s",
                   p->device, dev->name, p->device);
}
