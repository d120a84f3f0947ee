/* offload: model state and optimizer work moved from the GPU to host DRAM
 * or NVMe (ZeRO-Offload, ZeRO-Infinity, Fuyou), the memory verdict per tier
 * and the time the moves and the CPU optimizer cost.
 *
 * Owns the offload options of a layout (layout_desc's offload block), their
 * rules (offload_validate: one message per rule, naming it), the bytes each
 * tier holds (offload_memory), and the iteration with its transfers
 * (offload_apply).  Bandwidths come in as offload_bw: the closed form
 * shares each PCIe link, switch uplink, DRAM and the node's NVMe drives
 * evenly among the GPUs that cross them (offload_bw_closed, what max-min
 * fairness gives flows that start together); sim/offloadsim measures them
 * with flows on the engine instead, where other traffic can take its share.
 *
 * What moves, per GPU of a stage holding P parameters, sharded over N data-
 * parallel ranks (N = dp with --zero >= 1), from DeepSpeed's code
 * (microsoft/DeepSpeed, deepspeed/runtime/zero/):
 *   ZeRO-Offload (--offload optimizer, stage_1_and_2.py): fp32 master
 *     weights, Adam moments and fp32 gradients on the CPU, 16 P / N bytes of
 *     DRAM.  Gradients are cast to fp32 on the GPU and copied down
 *     non-blocking as the backward pass produces them
 *     (async_inplace_copy_grad_to_fp32_buffer_from_gpu: 4 P / N bytes);
 *     with gradient accumulation every later microbatch first copies the
 *     accumulated fp16 gradient up (async_accumulate_grad_in_cpu_via_gpu:
 *     2 P / N bytes), the first copies it down (2 P / N).  step() runs CPU
 *     Adam, then copies the fp32 partition to the GPU and casts it there
 *     (4 P / N bytes up), then all-gathers: nothing overlaps the step.
 *     The paper's one-step delayed parameter update (DPU, arXiv 2101.06840
 *     sec. 4.2; not in DeepSpeed's current code) lets the step and the
 *     upload run behind the next iteration's forward and backward.
 *   ZeRO-Infinity (--offload params|all, stage3.py with swap_tensor/): the
 *     fp16 parameter partition lives on the CPU or NVMe (2 P / N bytes) and
 *     is fetched, each rank its own 1/N (bandwidth-centric partitioning,
 *     arXiv 2104.07857 sec. 6.1), before every forward, recomputation and
 *     backward pass of every microbatch, prefetched behind compute
 *     (partitioned_param_coordinator.py); the GPU keeps at most
 *     stage3_max_live_parameters (1e9, config.py) fp16 parameters.  On
 *     NVMe, the optimizer step reads fp32 state and gradients (16 P / N),
 *     runs CPU Adam and writes state and fp16 parameters back (14 P / N)
 *     one sub-group after another (PartitionedOptimizerSwapper: pipeline
 *     read and write are off by default, offload_config.py).
 *   Fuyou (--offload all --offload-to nvme --offload-engine fuyou, arXiv
 *     2403.06504): one GPU; parameters and optimizer state on the SSDs,
 *     each layer's activations kept in free HBM, swapped out after
 *     the forward pass and back before the backward pass (to host DRAM when
 *     they fit there beside the staging buffers, else to the SSDs) or
 *     recomputed, as its cost model finds fastest (offload_fuyou.c), free
 *     HBM may keep layers' parameters instead, the rest streamed per layer, and
 *     the CPU Adam step of each layer run as soon as its gradient arrives,
 *     synchronously, overlapped with the rest of the backward pass; each
 *     phase then takes as long as its busiest resource (GPU, PCIe each
 *     direction, SSD, CPU).
 * CPU Adam is memory bound: DeepSpeed's Step_AVX (csrc/includes/cpu_adam.h)
 * loads the gradient, both moments and the fp32 parameter and stores the
 * parameter and both moments, 28 bytes per parameter; its rate is the DRAM
 * bandwidth the GPU's share of cores can draw (tiers.h) over those bytes. */
#ifndef CS_OFFLOAD_H
#define CS_OFFLOAD_H

#include "cs_error.h"
#include "layout.h"
#include "memory.h"
#include "model.h"
#include "system.h"

typedef enum offload_what {
    OFFLOAD_NONE,
    OFFLOAD_OPTIMIZER, /* optimizer state and step (ZeRO-Offload) */
    OFFLOAD_PARAMS,    /* fp16 parameters (ZeRO-3 offload_param) */
    OFFLOAD_ALL        /* both */
} offload_what;

typedef enum offload_to { OFFLOAD_TO_CPU, OFFLOAD_TO_NVME } offload_to;

typedef enum offload_engine {
    OFFLOAD_ENGINE_DEEPSPEED, /* ZeRO-Offload / ZeRO-Infinity as DeepSpeed runs them */
    OFFLOAD_ENGINE_FUYOU,     /* Fuyou's GPU-CPU-SSD pipeline, one GPU */
    /* DeepSpeed v0.3 as of 2020-09 (commit 7baf3c3, the ZeRO-Offload
     * tutorial's log): stage2.py's cpu_offload, where every parameter's
     * gradient copy to the CPU follows a host-synchronising overflow check
     * (_has_inf_or_nan: float(x.float().sum())), so the fp32 gradient copies
     * run in turn with the backward, not under it; and cpu_adam.cpp uploads
     * the updated parameters tile by tile (TILE = 1024^3 elements, a pinned
     * double buffer) while Adam works on the next tile, so only the last
     * tile's upload follows the step.  Stages 1 and 2, CPU only. */
    OFFLOAD_ENGINE_DEEPSPEED_2020,
    /* DeepSpeed v0.9.3's ZeRO-3 (2023-06, commit 4559aa9b; the version of
     * Fuyou's ZeRO-Infinity baseline), on one GPU's backward: each reduce
     * bucket's gradients go to the CPU by copies that block the host thread
     * that launches the backward kernels (stage3.py partition_grads: fp16 to
     * a pageable-by-default CPU buffer, :1210, and back, :1213; fp32 into the
     * optimizer swapper's pinned buffer with non_blocking=False,
     * swap_tensor/utils.py:50-53; on a stream that first waits on the
     * compute stream, :1065; CUDA: a device-to-host copy returns only when
     * complete), so 6 B a parameter down and 2 B back run in turn with the
     * backward, not under it; a parameter fetched for the recomputation
     * stays on the GPU for its backward when a layer's parameters are
     * within stage3_max_reuse_distance (1e9 elements; a 13B's layer is
     * 3.15e8), so the backward fetches each once; an NVMe
     * parameter is read, then copied up, the host waiting on the copy, with
     * a read-ahead of one parameter (partitioned_param_coordinator.py
     * :264, :312-316, :434-457), so the fetch path is its read plus its copy.
     * ZeRO-3 only.  The mechanisms: /work/notes/s8/research-zinf.md. */
    OFFLOAD_ENGINE_DEEPSPEED_2023,
    /* DeepSpeed v0.3.12/13's ZeRO-3 (2021-03, tag v0.3.13, 12a53b43; the
     * ZeRO-3 Offload release): its parameter coordinator fetches module by
     * module with a host wait at every fetch and prefetches along the
     * recorded trace (costmodel/zero3_coord.h emulates it); gradients and
     * the optimizer as `deepspeed`.  ZeRO-3 only. */
    OFFLOAD_ENGINE_DEEPSPEED_2021
} offload_engine;

/* Bytes of Adam's CPU step per parameter (see above) and DeepSpeed's
 * defaults the footprint uses (deepspeed/runtime/zero/config.py and
 * offload_config.py). */
#define OFFLOAD_ADAM_BYTES_PER_PARAM 28.0
/* Before the CPU step DeepSpeed unscales (and clips) the fp32 gradients in
 * host DRAM on the CPU (stage2.py / stage_1_and_2.py unscale_and_clip_grads,
 * stage3.py per sub-group: grad.mul_(1 / combined_scale)): each gradient
 * read and written, 8 bytes per parameter. */
#define OFFLOAD_GRAD_PASS_BYTES_PER_PARAM 8.0
#define OFFLOAD_DS_MAX_LIVE_PARAMS 1e9       /* stage3_max_live_parameters */
#define OFFLOAD_DS_MAX_REUSE_DISTANCE 1e9    /* stage3_max_reuse_distance, elements */
#define OFFLOAD_DS_REDUCE_BUCKET 5e8         /* reduce_bucket_size, elements */
#define OFFLOAD_DS_SUB_GROUP 1e9             /* sub_group_size, elements */
#define OFFLOAD_DS_OPT_BUFFERS 4             /* offload_optimizer.buffer_count */
#define OFFLOAD_DS_PARAM_BUFFERS 5           /* offload_param.buffer_count */
#define OFFLOAD_DS_PARAM_BUFFER_SIZE 1e8     /* offload_param.buffer_size, elements */
#define OFFLOAD_DS2020_ADAM_TILE 1073741824.0 /* cpu_adam.h (2020): TILE = 1024^3 elements */

/* DeepSpeed's activation checkpoints in host DRAM (issue 17, layout_desc's
 * offload_ckpt_cpu; activation_checkpointing.cpu_checkpointing with
 * partition_activations, as DeepSpeedExamples' Megatron-LM scripts of 2020-21
 * run the offload models: ds_zero-offload_10B_config.json, and
 * ds_pretrain_gpt2-zero3.sh's PA_CPU=true).  checkpointing.py copies each
 * layer's checkpointed input (mbs x seq x hidden fp16, split over the tensor-
 * parallel group) into a freshly allocated pageable CPU tensor with a
 * blocking copy_ in the forward, and back with a blocking copy_ before the
 * layer's recomputation: both in the GPU's stream, nothing overlaps them.
 * Pageable copies are staged through a driver buffer and fault their pages
 * in during the copy (DeepSpeed PR #501, 2020-11: "the pages need to be
 * populated during the blocking cudaMemcpy calls, which are already in the
 * critical path of the forward step").  The two directions differ
 * (validate/offload_components.csv, ninth session):
 *   - to the host, into fresh pages, the host populates them during the
 *     copy: the rate is the lesser of the GPU's pinned share and
 *     OFFLOAD_PAGEABLE_FIRST_TOUCH_D2H_BW, 1.96 GB/s: a 2^30-byte copy into
 *     a fresh numpy.empty on a Quadro GV100 (PCIe 3.0) took 0.5479 s, 0.0997 s
 *     into pre-touched pages (rapidsai/dask-cuda PR #98, 2019-08-01).  A host
 *     bound, not the link's: a PCIe 4.0 L4 gave 1.8 GB/s into a fresh buffer
 *     (NVIDIA/cuda-quantum PR #4290) and an A100 1.4 GB/s device-to-pageable
 *     in torch.save (pytorch/pytorch PR #138018).  Carried to every host and
 *     applied per GPU's process: page population is assumed to scale across
 *     processes (each faults its own address space); not measured with 16
 *     processes at once, nor with transparent huge pages.
 *   - back, from pages the forward populated: the pinned rate over
 *     OFFLOAD_PAGEABLE_H2D_SLOWDOWN, 2.57: bandwidthTest on a DGX A100,
 *     pageable host-to-device 10.0 GB/s against pinned 25.7 (32 MB, a reused
 *     buffer; gengwg/gpu nvda_gpu_benchmark.md, f1ce2499); a Dell A100 PCIe
 *     server gave 5.2 (3.3 of 17.3), the uncertainty.  Carried from an
 *     NVIDIA DGX to the other hosts.
 * These replace a factor 6 both ways that had no source for this use. */
#define OFFLOAD_PAGEABLE_FIRST_TOUCH_D2H_BW 1.96e9
#define OFFLOAD_PAGEABLE_H2D_SLOWDOWN 2.57

/* The resources an offloaded iteration keeps busy. */
typedef enum offload_res {
    OFFLOAD_RES_GPU,
    OFFLOAD_RES_PCIE_H2D,
    OFFLOAD_RES_PCIE_D2H,
    OFFLOAD_RES_DRAM,
    OFFLOAD_RES_NVME,
    OFFLOAD_RES_CPU,
    OFFLOAD_NRES
} offload_res;

/* Bandwidth one GPU gets on each path while every GPU of the job moves its
 * share at once (bytes/s). */
typedef struct offload_bw {
    double h2d, d2h;               /* host DRAM -> GPU, GPU -> host DRAM */
    double nvme_read, nvme_write;  /* the node's drives, this GPU's share */
    double dram;                   /* this GPU's share of the DRAM bandwidth */
    double cpu_adam_params_per_s;  /* this GPU's share of the CPU optimizer */
    /* this GPU's share of the CPU's gradient pass before the step
     * (OFFLOAD_GRAD_PASS_BYTES_PER_PARAM); 0: not modelled */
    double cpu_grad_pass_params_per_s;
} offload_bw;

/* One phase of the offloaded iteration as the model lays it out (forward,
 * backward, the rest of the base iteration, the CPU step), with each
 * resource's busy fraction of it: the utilisation over time the trace's
 * counter tracks draw (issue 17). */
#define OFFLOAD_MAX_PHASES 4
typedef struct offload_phase {
    char name[12];
    double start_s, dur_s;
    double util[OFFLOAD_NRES]; /* in [0, 1] */
} offload_phase;

/* The memory verdict per tier and where the time went. */
typedef struct offload_report {
    int active;
    double gpu_bytes, gpu_capacity_bytes;     /* one GPU, the worst stage */
    double dram_bytes, dram_capacity_bytes;   /* one node */
    double nvme_bytes, nvme_capacity_bytes;   /* one node */
    int fits_hbm, fits_dram, fits_nvme;
    double h2d_bytes, d2h_bytes, nvme_read_bytes, nvme_write_bytes; /* one GPU, one iteration */
    double cpu_step_s;       /* the CPU's gradient pass and Adam over the GPU's partition */
    double exposed_s;        /* added to the iteration by transfers and the CPU step */
    double busy_s[OFFLOAD_NRES];
    double util[OFFLOAD_NRES];  /* busy over the iteration */
    int bottleneck;          /* the busiest resource other than the GPU */
    int acts_in_dram;        /* Fuyou: swapped activations fit in host DRAM (else SSDs) */
    /* utilisation over time (issue 17): the iteration's phases, in order */
    int nphases;
    offload_phase phases[OFFLOAD_MAX_PHASES];
    /* Fuyou's placement (issue 17, offload_fuyou.c): per layer, its
     * activations kept in HBM, swapped out or recomputed, and its fp16
     * parameters kept in HBM instead of streamed per microbatch */
    int fuyou_act_gpu_layers, fuyou_act_swap_layers, fuyou_act_recompute_layers;
    int fuyou_param_gpu_layers;
    double fuyou_resident_bytes; /* HBM those take beside the working set */
} offload_report;

const char *offload_what_name(int what);
const char *offload_to_name(int to);
const char *offload_engine_name(int engine);
const char *offload_res_name(int res);
int offload_what_parse(const char *text, const char *what, int *out, cs_err *err);
int offload_to_parse(const char *text, const char *what, int *out, cs_err *err);
int offload_engine_parse(const char *text, const char *what, int *out, cs_err *err);

/* The offload rules, the first broken one named:
 *   --offload-to, --offload-engine, --offload-dpu need --offload;
 *   DeepSpeed offloads only under ZeRO (--zero >= 1; on one GPU too);
 *   parameters (params, all) only under ZeRO-3;
 *   NVMe only under ZeRO-3 (stage_1_and_2.py has no swapper);
 *   DPU only with DeepSpeed's optimizer offload;
 *   Fuyou: zero 0, one GPU, --offload all --offload-to nvme, no DPU, no
 *     recomputation;
 *   NVMe needs drives on the node (node may be NULL: not checked). */
int offload_validate(const layout_desc *l, const sys_node_type *node, cs_err *err);

/* The GPU bytes of a stage whose footprint without offload is mb. */
double offload_gpu_bytes(const model_desc *m, const layout_desc *l, const memory_breakdown *mb);

/* Per-GPU bandwidths when `gpus` GPUs of the job offload at once on nodes of
 * type node, each link shared evenly by the GPUs that cross it. */
void offload_bw_closed(const sys_node_type *node, int gpus, offload_bw *bw);

/* Tier bytes and capacities, the verdicts: mb is the worst stage's footprint
 * without offload (its params are the most any GPU holds). */
void offload_memory(const model_desc *m, const layout_desc *l, const sys_node_type *node,
                    int gpus, const memory_breakdown *mb, double gpu_capacity_bytes,
                    offload_report *r);

/* What one layer of one microbatch stores between its forward and
 * backward passes: memory_activation_bytes_per_layer, but two checkpoints
 * under Fuyou's full recomputation (its artifact's run.sh checkpoints the
 * attention and the MLP half of every block apart, each input saved). */
double offload_stored_bytes_per_layer(const model_desc *m, const layout_desc *l);

/* The work of one GPU's iteration the offload model starts from. */
typedef struct offload_base {
    double iteration_s;     /* without offload */
    double fwd_s, bwd_s;    /* compute of the iteration, all microbatches (bwd with recompute) */
    double gpu_optimizer_s; /* the GPU optimizer step the offload replaces */
    double params;          /* parameters of the GPU (the worst stage) */
    double activation_bytes_per_mb; /* stored activations of one microbatch (Fuyou swaps them) */
    int microbatches;
    int layers;             /* transformer layers of the GPU (Fuyou places each; 0: one) */
    /* activation checkpoints in host DRAM (issue 17, OFFLOAD_PAGEABLE_*):
     * the checkpointed inputs of one microbatch, this GPU's part (bytes) */
    double checkpoint_bytes_per_mb;
    /* Fuyou under full recomputation (its authors' run.sh: every block under
     * torch.utils.checkpoint, its input kept in host memory): the stored
     * activations above are the checkpoints, every one goes to DRAM, and
     * every layer is recomputed (the time already in bwd_s) */
    int fuyou_recompute_all;
    /* deepspeed-2021 (zero3_coord.h): the model whose blocks its coordinator
     * fetches, and the recomputation's part of bwd_s */
    const model_desc *model;
    double rec_s;
} offload_base;

/* Fills r's traffic, CPU step, busy times and exposed time, and returns the
 * iteration with offload; r->acts_in_dram (offload_memory's) says where
 * Fuyou's activations go. */
double offload_apply(const layout_desc *l, const offload_base *b, const offload_bw *bw,
                     offload_report *r);

#endif
