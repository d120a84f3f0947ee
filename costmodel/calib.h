/* calib: the calibrated device model, fitted to kernel measurements.
 *
 * Owns the measurement row (one line of the CSV that kernels/ writes, see
 * docs/calibration.md), the kernel names and the family each belongs to,
 * the fitted profile (calib_profile) and the time each kernel takes under
 * it.  The models, per data type where it matters:
 *   matrix multiply  the output is cut into tile_m x tile_n tiles; a wave
 *                    of one tile per SM computes at peak * eff; each tile
 *                    also pays k_extra steps of k (prologue and epilogue),
 *                    so  compute = waves * 2 tile_m tile_n (k + k_extra)
 *                    / (peak eff / SMs),  waves = ceil(tiles / SMs);
 *                    time = max(compute, bytes / mem_bw) + fixed_s
 *   attention        time = max(flops / (peak eff), bytes / mem_bw) + fixed_s,
 *                    fitted to our own kernel's rows and to sdpa_torch's
 *                    (PyTorch's, what training runs); estimates take
 *                    sdpa_torch's fit where it was measured
 *   memory-bound     time = bytes / bw + fixed_s (norms, activations,
 *                    softmax, the optimizer; one pooled fit feeds estimates,
 *                    each kernel also gets its own)
 *   copies           time = bytes / bw + fixed_s, per direction and memory
 *                    (pinned ones feed the checkpoint's host copies)
 *   collectives      time = latency_s + size / algbw, per op and rank count
 *                    (feed collectives within one node, commcost.h)
 * fixed_s is everything a kernel costs whatever its size (launch, ramp,
 * tail); in estimates it stands in place of opcost's kernel_gap_s.
 * The fit itself is calib_fit.c. */
#ifndef CS_CALIB_H
#define CS_CALIB_H

#include "cs_error.h"
#include "device.h"
#include "model.h"

typedef enum calib_dtype { CALIB_FP32, CALIB_TF32, CALIB_BF16, CALIB_FP16, CALIB_FP8,
                           CALIB_NDTYPE } calib_dtype;

typedef enum calib_family { CALIB_GEMM, CALIB_ATTENTION, CALIB_MEMBOUND, CALIB_COPY,
                            CALIB_COLLECTIVE, CALIB_NFAMILY } calib_family;

enum { CALIB_NMEMKERNEL = 7, CALIB_NCOPY = 5, CALIB_NCOLLOP = 5, CALIB_MAX_COLL = 40 };

/* Copy and collective op numbers (calib_copy_name, calib_collop_name). */
enum { CALIB_COPY_H2D_PINNED = 0, CALIB_COPY_D2H_PINNED = 1 };
enum { CALIB_OP_ALLREDUCE, CALIB_OP_ALLGATHER, CALIB_OP_REDUCESCATTER, CALIB_OP_ALLTOALL,
       CALIB_OP_SENDRECV };

/* The kernel an attention fit was made on: our own fused kernel
 * ("attention" rows) or PyTorch's scaled_dot_product_attention
 * ("sdpa_torch" rows, FlashAttention or cuDNN). */
typedef enum calib_attn_source { CALIB_ATTN_OWN, CALIB_ATTN_SDPA } calib_attn_source;

/* One measured kernel (a CSV row).  Shape columns by family:
 *   gemm, gemm_batched  m, n, k, batch: batch products of (m x k)(k x n)
 *   attention           m query length, n key length, k head size,
 *                       batch = sequences x heads
 *   memory-bound        m rows, n row length (elements)
 *   copies              bytes only
 *   collectives         ranks, bytes (nccl-tests' size convention) */
typedef struct calib_meas {
    char kernel[32];
    calib_dtype dtype;
    double m, n, k, batch;
    int ranks;
    double bytes, flops;
    double time_median_s, time_min_s, time_max_s;
    long iterations;
    int line; /* in the file it came from (0 when generated) */
} calib_meas;

/* The kernel a name stands for. */
typedef struct calib_kernel {
    const char *name;
    calib_family family;
    int index; /* memory-bound kernel, copy or collective op number;
                  attention: a calib_attn_source */
} calib_kernel;

typedef struct calib_gemm_fit {
    int have, rows;
    double eff, k_extra, fixed_s;
    int tile_m, tile_n;
    double peak_flops_per_s; /* the datasheet peak eff is a fraction of */
} calib_gemm_fit;

typedef struct calib_bw_fit {
    int have, rows;
    double bw_bytes_per_s, fixed_s;
} calib_bw_fit;

typedef struct calib_coll_fit {
    int op, ranks, rows;
    double latency_s, algbw_bytes_per_s;
} calib_coll_fit;

typedef struct calib_profile {
    char device[48];       /* catalog name of the device (dev_find) */
    char measured_on[128]; /* the name the measurements gave */
    int sms, folds;
    calib_gemm_fit gemm[CALIB_NDTYPE];
    /* Attention fits (tile and k_extra unused).  attention[] is the one
     * estimates use: sdpa_torch's where its rows were measured (real
     * training runs that kernel, not our slower reference tiling), else
     * our own kernel's; attention_source[] says which.  With sdpa_torch's
     * in use, our kernel's own fit is kept in attention_own[]. */
    calib_gemm_fit attention[CALIB_NDTYPE];
    calib_gemm_fit attention_own[CALIB_NDTYPE];
    calib_attn_source attention_source[CALIB_NDTYPE];
    calib_bw_fit membound;                  /* pooled over the memory-bound kernels */
    calib_bw_fit memkernel[CALIB_NMEMKERNEL];
    calib_bw_fit copy[CALIB_NCOPY];
    calib_coll_fit coll[CALIB_MAX_COLL];
    int ncoll;
} calib_profile;

const char *calib_dtype_name(calib_dtype d);
int calib_dtype_parse(const char *text, calib_dtype *out);
const char *calib_family_name(calib_family f);
/* Names of memory-bound kernels, copies and collective ops by index. */
const char *calib_memkernel_name(int i);
const char *calib_copy_name(int i);
const char *calib_collop_name(int i);
/* "attention" or "sdpa_torch": the kernel name of a source. */
const char *calib_attn_source_name(calib_attn_source s);
/* The kernel of a name; NULL with err listing the valid names. */
const calib_kernel *calib_kernel_find(const char *name, cs_err *err);

/* Datasheet peak FLOP/s of dev for dtype (0 when it has none). */
double calib_peak_flops(const dev_type *dev, calib_dtype d);
calib_dtype calib_dtype_of_model(model_dtype d);
/* Bytes per element of dtype. */
double calib_dtype_bytes(calib_dtype d);

/* Seconds of one measured kernel under p; -1 when p has no fit for it. */
double calib_predict_s(const calib_profile *p, const calib_meas *row);
/* The kernels of the models above (p's fits must be present). */
double calib_gemm_s(const calib_profile *p, const calib_gemm_fit *g, double m, double n,
                    double k, double batch, double bytes);
double calib_attention_s(const calib_profile *p, const calib_gemm_fit *a, double flops,
                         double bytes);
double calib_bw_s(const calib_bw_fit *b, double bytes);
/* The attention fit that predicts rows of kernel (our own or sdpa_torch):
 * that kernel's own fit where the profile has it, else the estimates'. */
const calib_gemm_fit *calib_attention_fit_for(const calib_profile *p, calib_attn_source kernel,
                                              calib_dtype d);
/* The collective fit of op over ranks, or NULL. */
const calib_coll_fit *calib_coll_find(const calib_profile *p, int op, int ranks);

/* 0 when p was fitted on dev; else -1 with err saying which device it was. */
int calib_profile_check_device(const calib_profile *p, const dev_type *dev, cs_err *err);

#endif
