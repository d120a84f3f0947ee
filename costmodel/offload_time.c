/* offload_time: the iteration with its offload transfers and CPU optimizer
 * step (offload.h has the behaviour and its sources). */
#include <math.h>
#include <string.h>

#include "offload.h"

/* Bytes one GPU moves per iteration, each way and to each tier. */
typedef struct traffic {
    double h2d_fwd, h2d_bwd;  /* host -> GPU during forward, during backward */
    double d2h_fwd, d2h_bwd;  /* GPU -> host */
    double h2d_step;          /* after the CPU step, before the next forward */
    double d2h_step;          /* after a GPU step: the updated partition back to the host */
    double nvme_read_fwd, nvme_read_bwd, nvme_write_fwd, nvme_write_bwd;
    double nvme_read_step, nvme_write_step;
} traffic;

static int moves_optimizer(const layout_desc *l)
{
    return l->offload == OFFLOAD_OPTIMIZER || l->offload == OFFLOAD_ALL;
}
static int moves_params(const layout_desc *l)
{
    return l->offload == OFFLOAD_PARAMS || l->offload == OFFLOAD_ALL;
}

/* DeepSpeed (stage_1_and_2.py, stage3.py): p parameters of this rank's
 * partition, m microbatches. */
static void deepspeed_traffic(const layout_desc *l, double p, int m, traffic *t)
{
    int nvme = l->offload_to == OFFLOAD_TO_NVME;
    if (moves_params(l)) {
        /* the partition fetched before every pass of every microbatch:
         * forward, then (full recomputation) forward again, then backward */
        int bwd_passes = l->recompute == LAYOUT_RECOMPUTE_FULL ? 2 : 1;
        t->h2d_fwd += m * 2 * p;
        t->h2d_bwd += m * bwd_passes * 2 * p;
        if (nvme) {
            t->nvme_read_fwd += m * 2 * p;
            t->nvme_read_bwd += m * bwd_passes * 2 * p;
            t->nvme_write_step += 2 * p; /* the updated fp16 partition */
        }
    }
    if (!moves_optimizer(l)) { /* the GPU's optimizer updated the partition: back it goes */
        t->d2h_step += moves_params(l) ? 2 * p : 0;
        return;
    }
    /* fp32 gradients at the accumulation boundary; before it, the first
     * microbatch's fp16 gradients down and each later one's up */
    t->d2h_bwd += 4 * p + (m > 1 ? 2 * p : 0);
    t->h2d_bwd += (m - 1) * 2 * p;
    if (nvme) {
        t->nvme_write_bwd += 4 * p;        /* swap_out_gradients */
        t->nvme_read_step += 16 * p;       /* fp32 state and gradients in */
        t->nvme_write_step += 12 * p;      /* fp32 state out */
    }
    if (!moves_params(l)) /* the updated partition back to the GPU: fp32 under */
        t->h2d_step += (l->zero >= 3 ? 2 : 4) * p; /* stage 1/2, cast to fp16 under 3 */
}

/* Fuyou: one GPU holding nothing between layers; a the activations of one
 * microbatch swapped out after its forward pass and in for its backward,
 * through DRAM to the SSDs unless they stay in DRAM (ssd_a 0). */
static void fuyou_traffic(double p, double a, double ssd_a, int m, traffic *t)
{
    t->h2d_fwd = m * 2 * p;
    t->d2h_fwd = m * a;
    t->nvme_read_fwd = m * 2 * p;
    t->nvme_write_fwd = m * ssd_a;
    t->h2d_bwd = m * (2 * p + a);
    t->d2h_bwd = m * 2 * p;             /* fp16 gradients to the CPU optimizer */
    t->nvme_read_bwd = m * (2 * p + ssd_a) + 12 * p; /* and the fp32 state, once */
    t->nvme_write_bwd = 14 * p;         /* fp32 state and fp16 parameters back */
}

static double nvme_s(double read, double write, const offload_bw *bw)
{
    return (read > 0 ? read / bw->nvme_read : 0) + (write > 0 ? write / bw->nvme_write : 0);
}

/* The longest of the phase's resources: overlapped work ends with the busiest. */
static double phase_s(double gpu_s, double h2d, double d2h, double nr, double nw, double cpu_s,
                      const offload_bw *bw)
{
    double s = fmax(gpu_s, fmax(h2d / bw->h2d, d2h / bw->d2h));
    return fmax(s, fmax(nvme_s(nr, nw, bw), cpu_s));
}

static void fill_busy(const traffic *t, const offload_base *b, double cpu_s, double adam_p,
                      const offload_bw *bw, offload_report *r)
{
    r->h2d_bytes = t->h2d_fwd + t->h2d_bwd + t->h2d_step;
    r->d2h_bytes = t->d2h_fwd + t->d2h_bwd + t->d2h_step;
    r->nvme_read_bytes = t->nvme_read_fwd + t->nvme_read_bwd + t->nvme_read_step;
    r->nvme_write_bytes = t->nvme_write_fwd + t->nvme_write_bwd + t->nvme_write_step;
    r->cpu_step_s = cpu_s;
    r->busy_s[OFFLOAD_RES_GPU] = b->fwd_s + b->bwd_s;
    r->busy_s[OFFLOAD_RES_PCIE_H2D] = r->h2d_bytes / bw->h2d;
    r->busy_s[OFFLOAD_RES_PCIE_D2H] = r->d2h_bytes / bw->d2h;
    r->busy_s[OFFLOAD_RES_NVME] = nvme_s(r->nvme_read_bytes, r->nvme_write_bytes, bw);
    /* every byte in or out of the GPU or the drives, and Adam's, crosses DRAM */
    double dram_bytes = r->h2d_bytes + r->d2h_bytes + r->nvme_read_bytes + r->nvme_write_bytes +
                        adam_p * OFFLOAD_ADAM_BYTES_PER_PARAM;
    r->busy_s[OFFLOAD_RES_DRAM] = dram_bytes / bw->dram;
    r->busy_s[OFFLOAD_RES_CPU] = cpu_s;
}

static double deepspeed_iteration(const layout_desc *l, const offload_base *b,
                                  const offload_bw *bw, const traffic *t, double cpu_s)
{
    double rest = b->iteration_s - b->gpu_optimizer_s;
    /* prefetch hides fetches behind compute; what is left shows */
    double fwd = phase_s(b->fwd_s, t->h2d_fwd, t->d2h_fwd, t->nvme_read_fwd, t->nvme_write_fwd,
                         0, bw) - b->fwd_s;
    double bwd = phase_s(b->bwd_s, t->h2d_bwd, t->d2h_bwd, t->nvme_read_bwd, t->nvme_write_bwd,
                         0, bw) - b->bwd_s;
    if (moves_optimizer(l)) /* at least the last reduce bucket's copy follows the backward */
        bwd = fmax(bwd, fmin(t->d2h_bwd, OFFLOAD_DS_REDUCE_BUCKET * 4) / bw->d2h);
    /* the step: sub-groups read, updated, written one after another */
    double step = moves_optimizer(l) ? nvme_s(t->nvme_read_step, 0, bw) + cpu_s +
                                           nvme_s(0, t->nvme_write_step, bw) + t->h2d_step / bw->h2d
                                     : b->gpu_optimizer_s + t->d2h_step / bw->d2h +
                                           nvme_s(0, t->nvme_write_step, bw);
    if (l->offload_dpu) /* the step of iteration i runs behind iteration i + 1 */
        step = fmax(0, step - (b->fwd_s + b->bwd_s));
    return rest + fwd + bwd + step;
}

static double fuyou_iteration(const offload_base *b, const offload_bw *bw, const traffic *t,
                              double cpu_s)
{
    double fwd = phase_s(b->fwd_s, t->h2d_fwd, t->d2h_fwd, t->nvme_read_fwd, t->nvme_write_fwd,
                         0, bw);
    double bwd = phase_s(b->bwd_s, t->h2d_bwd, t->d2h_bwd, t->nvme_read_bwd, t->nvme_write_bwd,
                         cpu_s, bw);
    /* the rest of the base iteration (pipeline, data-parallel, bubble) is
     * empty on one GPU but kept for a faithful sum */
    return b->iteration_s - b->gpu_optimizer_s - b->fwd_s - b->bwd_s + fwd + bwd;
}

double offload_apply(const layout_desc *l, const offload_base *b, const offload_bw *bw,
                     offload_report *r)
{
    traffic t;
    memset(&t, 0, sizeof t);
    double p = b->params / (l->zero >= 1 ? layout_dp_cp(l) : 1);
    int fuyou = l->offload_engine == OFFLOAD_ENGINE_FUYOU;
    if (fuyou)
        fuyou_traffic(b->params, b->activation_bytes_per_mb,
                      r->acts_in_dram ? 0 : b->activation_bytes_per_mb, b->microbatches, &t);
    else
        deepspeed_traffic(l, p, b->microbatches, &t);
    double adam_p = fuyou || moves_optimizer(l) ? p : 0;
    double cpu_s = adam_p / bw->cpu_adam_params_per_s;
    double iter = fuyou ? fuyou_iteration(b, bw, &t, cpu_s)
                        : deepspeed_iteration(l, b, bw, &t, cpu_s);
    fill_busy(&t, b, cpu_s, adam_p, bw, r);
    r->exposed_s = iter - (b->iteration_s - b->gpu_optimizer_s);
    r->bottleneck = OFFLOAD_RES_PCIE_H2D;
    for (int k = 0; k < OFFLOAD_NRES; k++) {
        r->util[k] = r->busy_s[k] / iter;
        if (k != OFFLOAD_RES_GPU && r->busy_s[k] > r->busy_s[r->bottleneck])
            r->bottleneck = k;
    }
    return iter;
}
