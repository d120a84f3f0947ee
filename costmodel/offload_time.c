/* offload_time: the iteration with its offload transfers and CPU optimizer
 * step (offload.h has the behaviour and its sources). */
#include <math.h>
#include <string.h>

#include "offload_private.h"

static int moves_optimizer(const layout_desc *l)
{
    return l->offload == OFFLOAD_OPTIMIZER || l->offload == OFFLOAD_ALL;
}
static int moves_params(const layout_desc *l)
{
    return l->offload == OFFLOAD_PARAMS || l->offload == OFFLOAD_ALL;
}

static int ds2023(const layout_desc *l) { return l->offload_engine == OFFLOAD_ENGINE_DEEPSPEED_2023; }

/* DeepSpeed's traffic (stage_1_and_2.py, stage3.py): p parameters of this
 * rank's partition, layer_params those of one whole layer (the reuse
 * distance counts whole parameters: ds_numel), m microbatches. */
static void deepspeed_traffic(const layout_desc *l, double p, double layer_params, int m,
                              const offload_coord *coord, offload_traffic *t)
{
    int nvme = l->offload_to == OFFLOAD_TO_NVME;
    if (moves_params(l) && coord) { /* the coordinator's fetches, each a partition's copy */
        double shards = layout_dp_cp(l);
        t->h2d_fwd += m * 2 * (coord->fwd_elems + coord->outside_elems) / shards;
        t->h2d_bwd += m * 2 * (coord->bwd_elems + coord->outside_elems) / shards;
    } else if (moves_params(l)) {
        /* the partition fetched before every pass of every microbatch:
         * forward, then (full recomputation) forward again, then backward;
         * v0.9.3 keeps the recomputation's fetch for the backward when a
         * layer is within the reuse distance */
        int reused = ds2023(l) && layer_params <= OFFLOAD_DS_MAX_REUSE_DISTANCE;
        int bwd_passes = l->recompute == LAYOUT_RECOMPUTE_FULL && !reused ? 2 : 1;
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
     * microbatch's fp16 gradients down and each later one's up; v0.9.3
     * sends every microbatch's fp16 gradients down and back up first */
    t->d2h_bwd += 4 * p + (ds2023(l) ? m * 2 * p : m > 1 ? 2 * p : 0);
    t->h2d_bwd_grads = ds2023(l) ? m * 2 * p : (m - 1) * 2 * p;
    t->h2d_bwd += t->h2d_bwd_grads;
    if (nvme) {
        t->nvme_write_bwd += 4 * p;        /* swap_out_gradients */
        t->nvme_read_step += 16 * p;       /* fp32 state and gradients in */
        t->nvme_write_step += 12 * p;      /* fp32 state out */
    }
    if (!moves_params(l)) /* the updated partition back to the GPU: fp32 under */
        t->h2d_step += (l->zero >= 3 ? 2 : 4) * p; /* stage 1/2, cast to fp16 under 3 */
}

/* DeepSpeed's CPU pass over the fp32 gradients before Adam (offload.h:
 * OFFLOAD_GRAD_PASS_BYTES_PER_PARAM); not Fuyou's, whose optimizer is its own. */
static double grad_pass_s(const layout_desc *l, double adam_p, const offload_bw *bw)
{
    if (l->offload_engine == OFFLOAD_ENGINE_FUYOU || !moves_optimizer(l) ||
        bw->cpu_grad_pass_params_per_s <= 0)
        return 0;
    return adam_p / bw->cpu_grad_pass_params_per_s;
}

/* DeepSpeed v0.3's CPU Adam (cpu_adam.cpp, 2020): each tile's update is
 * copied up through a pinned double buffer while Adam works on the next
 * tile, so the step lasts as long as the slower of the two pipelines: Adam
 * over every tile then the last tile's upload, or Adam over the first tile
 * then every upload. */
static double tiled_step_s(double adam_p, double cpu_s, double up_bytes, const offload_bw *bw)
{
    if (adam_p <= 0)
        return up_bytes / bw->h2d;
    double tiles = ceil(adam_p / OFFLOAD_DS2020_ADAM_TILE);
    double last = adam_p - (tiles - 1) * OFFLOAD_DS2020_ADAM_TILE; /* elements */
    double first = fmin(adam_p, OFFLOAD_DS2020_ADAM_TILE);
    return fmax(cpu_s + up_bytes * last / adam_p / bw->h2d,
                cpu_s * first / adam_p + up_bytes / bw->h2d);
}

/* Bytes of activation checkpoints copied each way in an iteration (0 when
 * they stay in HBM). */
static double ckpt_bytes(const layout_desc *l, const offload_base *b)
{
    return l->offload_ckpt_cpu ? b->microbatches * b->checkpoint_bytes_per_mb : 0;
}

/* Seconds the blocking pageable copies of the activation checkpoints add to
 * a forward (to_host: into fresh pages) or a backward (back from populated
 * ones), all microbatches (offload.h: OFFLOAD_PAGEABLE_*). */
static double ckpt_copy_s(const layout_desc *l, const offload_base *b, const offload_bw *bw,
                          int to_host)
{
    double rate = to_host ? fmin(bw->d2h, OFFLOAD_PAGEABLE_FIRST_TOUCH_D2H_BW)
                          : bw->h2d / OFFLOAD_PAGEABLE_H2D_SLOWDOWN;
    return ckpt_bytes(l, b) / rate;
}

/* The step's busy seconds: sub-groups read, updated, written one after
 * another, or the GPU's own step and the updated partition back. */
static double deepspeed_step(const layout_desc *l, const offload_base *b, const offload_bw *bw,
                             const offload_traffic *t, double cpu_s, double adam_p,
                             double busy_s[OFFLOAD_NRES])
{
    offload_phase_busy(moves_optimizer(l) ? 0 : b->gpu_optimizer_s, t->h2d_step, t->d2h_step,
                       t->nvme_read_step, t->nvme_write_step, cpu_s, adam_p, bw, busy_s);
    if (l->offload_engine == OFFLOAD_ENGINE_DEEPSPEED_2020) { /* the pass, then Adam's tiles */
        double pass_s = grad_pass_s(l, adam_p, bw);
        return pass_s + tiled_step_s(adam_p, cpu_s - pass_s, t->h2d_step, bw);
    }
    return moves_optimizer(l) ? offload_nvme_s(t->nvme_read_step, 0, bw) + cpu_s +
                                    offload_nvme_s(0, t->nvme_write_step, bw) +
                                    t->h2d_step / bw->h2d
                              : b->gpu_optimizer_s + t->d2h_step / bw->d2h +
                                    offload_nvme_s(0, t->nvme_write_step, bw);
}

/* DeepSpeed v0.9.3's passes (offload.h): a parameter's fetch is its NVMe
 * read then its copy up, one after the other (read ahead by one parameter,
 * so under the compute: a lower bound, the whole pass's fetch against its
 * compute); the backward's gradient copies (6 B a parameter down, its 2 B
 * fp16 back up) in turn with the backward. */
static void ds2023_passes(const layout_desc *l, const offload_traffic *t, const offload_bw *bw,
                          double gpu_fwd, double gpu_bwd, double *fwd, double *bwd)
{
    double fetch_fwd = offload_nvme_s(t->nvme_read_fwd, 0, bw) + t->h2d_fwd / bw->h2d;
    double fetch_bwd = offload_nvme_s(t->nvme_read_bwd, 0, bw) +
                       (t->h2d_bwd - t->h2d_bwd_grads) / bw->h2d;
    *fwd = fmax(*fwd, fmax(gpu_fwd, fetch_fwd));
    double grads_s = moves_optimizer(l) ? t->d2h_bwd / bw->d2h + t->h2d_bwd_grads / bw->h2d : 0;
    *bwd = fmax(*bwd, fmax(gpu_bwd + grads_s, fetch_bwd));
}

/* The iteration and its phases: forward and backward, each as long as its
 * busiest resource (prefetch hides fetches behind compute), the rest of the
 * base iteration (communication, bubbles: no offload traffic), the step. */
static double deepspeed_iteration(const layout_desc *l, const offload_base *b,
                                  const offload_bw *bw, const offload_traffic *t,
                                  const offload_coord *coord, double cpu_s, double adam_p,
                                  offload_report *r)
{
    double rest = b->iteration_s - b->gpu_optimizer_s;
    /* the checkpoints' blocking copies hold the GPU's stream; deepspeed-2021
     * on one GPU: the passes with the parameters' copies in the
     * coordinator's windows (the copies are then not a separate resource) */
    int windowed = coord && coord->windowed;
    double gpu_fwd = (windowed ? coord->fwd_s : b->fwd_s) + ckpt_copy_s(l, b, bw, 1);
    double gpu_bwd = (windowed ? coord->bwd_s : b->bwd_s) + ckpt_copy_s(l, b, bw, 0);
    double params_fwd = windowed ? t->h2d_fwd : 0;
    double params_bwd = windowed ? t->h2d_bwd - t->h2d_bwd_grads : 0;
    double fwd = offload_phase_s(gpu_fwd, t->h2d_fwd - params_fwd, t->d2h_fwd, t->nvme_read_fwd,
                                 t->nvme_write_fwd, 0, bw);
    double bwd = offload_phase_s(gpu_bwd, t->h2d_bwd - params_bwd, t->d2h_bwd, t->nvme_read_bwd,
                                 t->nvme_write_bwd, 0, bw);
    if (l->offload_engine == OFFLOAD_ENGINE_DEEPSPEED_2020) /* copies in turn with compute */
        bwd = gpu_bwd + t->d2h_bwd / bw->d2h + t->h2d_bwd / bw->h2d;
    else if (ds2023(l))
        ds2023_passes(l, t, bw, gpu_fwd, gpu_bwd, &fwd, &bwd);
    else if (moves_optimizer(l)) /* at least the last reduce bucket's copy follows the backward */
        bwd = fmax(bwd, gpu_bwd + fmin(t->d2h_bwd, OFFLOAD_DS_REDUCE_BUCKET * 4) / bw->d2h);
    double fbusy[OFFLOAD_NRES], bbusy[OFFLOAD_NRES], sbusy[OFFLOAD_NRES], none[OFFLOAD_NRES] = {0};
    /* the checkpoints' bytes load the links as any transfer does (their
     * rate is the host's, so a link shows only their share of it) */
    double ckpt = ckpt_bytes(l, b);
    offload_phase_busy(b->fwd_s, t->h2d_fwd, t->d2h_fwd + ckpt, t->nvme_read_fwd,
                       t->nvme_write_fwd, 0, 0, bw, fbusy);
    offload_phase_busy(b->bwd_s, t->h2d_bwd + ckpt, t->d2h_bwd, t->nvme_read_bwd,
                       t->nvme_write_bwd, 0, 0, bw, bbusy);
    double step = deepspeed_step(l, b, bw, t, cpu_s, adam_p, sbusy);
    double shown = step;
    if (l->offload_dpu) { /* the step of iteration i runs behind iteration i + 1 */
        shown = fmax(0, step - (b->fwd_s + b->bwd_s));
        double hidden = step > 0 ? (step - shown) / step : 0; /* spread over the passes */
        for (int k = 0; k < OFFLOAD_NRES; k++) {
            double spread = k == OFFLOAD_RES_GPU ? 0 : sbusy[k] * hidden;
            double passes = fwd + bwd > 0 ? fwd + bwd : 1;
            fbusy[k] += spread * fwd / passes;
            bbusy[k] += spread * bwd / passes;
            sbusy[k] *= 1 - hidden;
        }
    }
    r->nphases = 0;
    offload_phase_add(r, "forward", fwd, fbusy);
    offload_phase_add(r, "backward", bwd, bbusy);
    offload_phase_add(r, "rest", rest - b->fwd_s - b->bwd_s, none);
    offload_phase_add(r, "step", shown, sbusy);
    return rest - b->fwd_s - b->bwd_s + fwd + bwd + shown;
}

double offload_apply(const layout_desc *l, const offload_base *b, const offload_bw *bw,
                     offload_report *r)
{
    offload_traffic t;
    memset(&t, 0, sizeof t);
    double p = b->params / (l->zero >= 1 ? layout_dp_cp(l) : 1);
    int fuyou = l->offload_engine == OFFLOAD_ENGINE_FUYOU;
    double adam_p = fuyou || moves_optimizer(l) ? p : 0;
    double cpu_s = adam_p / bw->cpu_adam_params_per_s + grad_pass_s(l, adam_p, bw);
    double iter;
    if (fuyou) {
        iter = offload_fuyou_apply(b, bw, cpu_s, r);
    } else {
        offload_coord coord;
        int ds2021 = l->offload_engine == OFFLOAD_ENGINE_DEEPSPEED_2021;
        if (ds2021)
            offload_coord_of(l, b, bw, &coord);
        deepspeed_traffic(l, p, b->params / (b->layers > 0 ? b->layers : 1), b->microbatches,
                          ds2021 ? &coord : NULL, &t);
        iter = deepspeed_iteration(l, b, bw, &t, ds2021 ? &coord : NULL, cpu_s, adam_p, r);
        offload_fill_busy(&t, b, cpu_s, adam_p, bw, r);
        double ckpt = ckpt_bytes(l, b); /* the checkpoints cross PCIe too, each way once */
        r->d2h_bytes += ckpt;
        r->h2d_bytes += ckpt;
        r->busy_s[OFFLOAD_RES_PCIE_D2H] += ckpt / bw->d2h;
        r->busy_s[OFFLOAD_RES_PCIE_H2D] += ckpt / bw->h2d;
        r->busy_s[OFFLOAD_RES_DRAM] += 2 * ckpt / bw->dram;
    }
    r->exposed_s = iter - (b->iteration_s - b->gpu_optimizer_s);
    r->bottleneck = OFFLOAD_RES_PCIE_H2D;
    for (int k = 0; k < OFFLOAD_NRES; k++) {
        r->util[k] = r->busy_s[k] / iter;
        if (k != OFFLOAD_RES_GPU && r->busy_s[k] > r->busy_s[r->bottleneck])
            r->bottleneck = k;
    }
    return iter;
}
