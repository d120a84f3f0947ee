/* estimate: the figures of one training iteration of a layout, and the
 * closed-form (analytic) way to get them.
 *
 * Owns estimate_result (iteration time, throughput, FLOP rates, MFU, HFU,
 * memory verdict and a per-stage breakdown), the metric formulas shared by
 * the analytic estimate and the simulation (estimate_finish), and the
 * analytic estimate itself.
 *
 * Analytic model, per stage s with C_s the compute plus tensor-parallel
 * communication of one microbatch over all the stage's chunks and P the
 * slowest pipeline transfer:
 *   pipeline  (m - 1/v) max_s C_s + sum_s C_s / v + 2 (pp - 1) P
 *             (v = vpp for the interleaved schedule, else 1: for equal
 *             stages m C of work plus a bubble of (pp - 1) / v
 *             stage-microbatches, Narayanan et al. 2021 sec. 2.2);
 *   then, on each stage, the data-parallel reduction of the buckets not
 *   hidden behind the last microbatch's backward pass (at least the last
 *   bucket), the optimizer step and, with zero 1, the parameter all-gather;
 *   the iteration ends with the slowest stage.
 * Metrics (docs/estimate.md):
 *   tokens/s = gbs * seq / iteration
 *   model TFLOP/s per GPU = model FLOPs per iteration / iteration / GPUs
 *   hardware TFLOP/s per GPU = the same with recomputation's FLOPs
 *   MFU, HFU = those rates over the device's dense peak for the data type. */
#ifndef CS_ESTIMATE_H
#define CS_ESTIMATE_H

#include "commcost.h"
#include "device.h"
#include "layout.h"
#include "model.h"
#include "offload.h"
#include "opcost.h"
#include "topo.h"
#include "workload.h"

/* Where the time of one stage went (seconds per iteration, one GPU). */
typedef struct estimate_stage {
    double compute_s;      /* forward and backward */
    double recompute_s;
    double tp_comm_s;      /* tensor-parallel collectives (blocking, never hidden) */
    double dp_exposed_s;   /* data-parallel communication not hidden by backward */
    double p2p_s;          /* waiting on pipeline transfers */
    double bubble_s;       /* idle for want of work: fill and drain */
    double optimizer_s;    /* optimizer step and zero-1 parameter all-gather */
    double peak_mem_bytes;
    /* sharding (ZeRO-2/3, HSDP; estimate_shard.h): the data-parallel traffic
     * per iteration the compute did not hide (part of dp_exposed_s) and
     * what it hid; 0 below zero 2 */
    double shard_exposed_s, shard_hidden_s;
    /* offload (issue 17): time the offload transfers and the CPU optimizer
     * step add (optimizer_s then holds no GPU optimizer step) */
    double offload_s;
    /* context parallelism (cpcomm.h): its exchanges not hidden by attention
     * (on the compute stream, in the time above) and hidden under it */
    double cp_exposed_s, cp_hidden_s;
    double ep_comm_s;      /* expert-parallel all-to-alls not hidden (commcost_ep.h) */
} estimate_stage;

typedef struct estimate_result {
    double iteration_s;
    double tokens_per_s;
    double model_flops_iter, hw_flops_iter;
    double tokens_iter;    /* gbs x seq */
    double model_tflops_per_gpu, hw_tflops_per_gpu;
    double mfu, hfu;
    double peak_mem_bytes; /* the stage with the highest peak */
    int peak_stage;
    int fits;
    int pp;
    estimate_stage *stages; /* pp entries, owned */
    /* memory tiers and offload (issue 17): the verdict per tier and the
     * resources' busy time; active 0 when the layout offloads nothing */
    offload_report offload;
} estimate_result;

/* What an estimate needs; the topology must hold the layout's GPUs. */
typedef struct estimate_input {
    const model_desc *model;
    const layout_desc *layout;
    topo *topology;
    int gpus;              /* GPUs the job uses: tp x pp x dp, at most the topology's */
    const opcost_eff *eff;
} estimate_input;

/* The device of the GPUs the layout runs on (the first node's). */
const dev_type *estimate_device(topo *t);

/* Allocates out->stages and fills FLOPs, memory and the verdict. */
int estimate_begin(const estimate_input *in, estimate_result *out, cs_err *err);

/* Given iteration_s, fills throughput, FLOP rates, MFU and HFU; a layout
 * that offloads first gets its offload time (estimate_offload, closed-form
 * bandwidths). */
void estimate_finish(const estimate_input *in, estimate_result *out);

/* The same with the per-GPU offload bandwidths bw (the engine's, measured
 * by sim/offloadsim; NULL: offload_bw_closed's). */
void estimate_finish_bw(const estimate_input *in, const offload_bw *bw, estimate_result *out);

/* Closed-form estimate.  Validates the layout against the topology (the
 * GPU count and the node rules); an invalid layout is an error, a layout
 * that does not fit is estimated with fits = 0. */
int estimate_analytic(const estimate_input *in, estimate_result *out, cs_err *err);

/* The same with the layout's communication groups already built (a search
 * builds them once per tp, pp and dp): the same figures. */
int estimate_analytic_with(const estimate_input *in, const commcost_groups *groups,
                           estimate_result *out, cs_err *err);

/* The time part of estimate_analytic_with, after estimate_begin filled out
 * (memory and the verdict): a search that needs no time for a layout that
 * does not fit stops after estimate_begin. */
int estimate_analytic_times(const estimate_input *in, const commcost_groups *groups,
                            estimate_result *out, cs_err *err);

/* Validates the layout for the topology: GPU count and node rules. */
int estimate_validate(const estimate_input *in, cs_err *err);

/* The exposed expert-parallel all-to-all seconds of one microbatch's chunk
 * (the closed form and the simulation both charge them). */
double estimate_chunk_ep_s(const model_desc *m, const layout_desc *l, const commcost_stage *st,
                           const workload_chunk *ch);

void estimate_result_free(estimate_result *r);

#endif
