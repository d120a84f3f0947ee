/* Unit tests: offload rules, tier bytes, closed-form bandwidths and the
 * offloaded iteration (costmodel/offload.h), and the engine's flows through
 * shared PCIe switches (sim/offloadsim.h). */
#include <string.h>

#include "memory.h"
#include "model.h"
#include "offload.h"
#include "offloadsim.h"
#include "system.h"
#include "tap.h"
#include "zero3_coord.h"
#include "tiers.h"
#include "tiers_spec.h"
#include "topo.h"

static const model_desc *llama7b(void)
{
    static model_desc m;
    model_find("llama2-7b", &m, NULL);
    return &m;
}

static layout_desc one_gpu(const model_desc *m, int what, int to, int zero)
{
    layout_desc l;
    layout_init(&l, m);
    l.offload = what;
    l.offload_to = to;
    l.zero = zero;
    return l;
}

/* Each rule fails alone, with a message that names it. */
static void rules_named(void)
{
    const model_desc *m = llama7b();
    sys_system s;
    cs_err err;
    CHECK(sys_from_catalog("dgx2-v100", 1, &s, &err) == 0);
    const sys_node_type *node = &s.groups[0].node;
    layout_desc l = one_gpu(m, OFFLOAD_OPTIMIZER, OFFLOAD_TO_CPU, 1);
    CHECK(offload_validate(&l, node, &err) == 0);
    l.zero = 0;
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "only under ZeRO");
    l = one_gpu(m, OFFLOAD_PARAMS, OFFLOAD_TO_CPU, 1);
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "only under ZeRO-3");
    l = one_gpu(m, OFFLOAD_OPTIMIZER, OFFLOAD_TO_NVME, 1);
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "--offload-to nvme needs --zero 3");
    l = one_gpu(m, OFFLOAD_ALL, OFFLOAD_TO_CPU, 3);
    l.offload_dpu = 1;
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "delayed parameter update");
    l = one_gpu(m, OFFLOAD_NONE, OFFLOAD_TO_NVME, 1);
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "need offload = \"optimizer\"|\"params\"|\"all\" (--offload");
    l = one_gpu(m, OFFLOAD_ALL, OFFLOAD_TO_NVME, 0);
    l.offload_engine = OFFLOAD_ENGINE_FUYOU;
    CHECK(offload_validate(&l, node, &err) == 0);
    l.dp = 2;
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "Fuyou trains on one GPU");
    l.dp = 1;
    l.offload = OFFLOAD_OPTIMIZER;
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "use --offload all --offload-to nvme");
    /* a node without drives */
    sys_node_type bare = *node;
    bare.tiers.nvme.drives = 0;
    l = one_gpu(m, OFFLOAD_ALL, OFFLOAD_TO_NVME, 3);
    CHECK(offload_validate(&l, &bare, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "has no NVMe drives");
}

/* ZeRO-Offload on one GPU: the GPU keeps fp16 weights and no optimizer
 * state; DRAM holds 16 bytes per parameter (fp32 master, moments, fp32
 * gradients); with parameters too the GPU keeps at most the live window. */
static void tier_bytes(void)
{
    const model_desc *m = llama7b();
    sys_system s;
    cs_err err;
    CHECK(sys_from_catalog("dgx2-v100", 1, &s, &err) == 0);
    layout_desc l = one_gpu(m, OFFLOAD_NONE, OFFLOAD_TO_CPU, 1);
    memory_breakdown mb;
    CHECK(memory_per_stage(m, &l, 0, &mb, &err) == 0);
    l.offload = OFFLOAD_OPTIMIZER;
    offload_report r;
    memset(&r, 0, sizeof r);
    offload_memory(m, &l, &s.groups[0].node, 1, &mb, 32e9, &r);
    CHECK_REL(r.gpu_bytes, mb.peak_bytes - mb.optimizer_bytes, 1e-12);
    CHECK_REL(r.dram_bytes, 16 * mb.params, 1e-12);
    CHECK_REL(r.nvme_bytes, 0, 1e-12);
    CHECK(r.fits_dram);
    l.offload = OFFLOAD_ALL;
    l.offload_to = OFFLOAD_TO_NVME;
    l.zero = 3; /* set directly: the rules are offload_validate's */
    offload_memory(m, &l, &s.groups[0].node, 1, &mb, 32e9, &r);
    CHECK_REL(r.nvme_bytes, 18 * mb.params, 1e-12);
    CHECK(r.gpu_bytes < mb.activations_bytes + mb.buffers_bytes + mb.grads_bytes + 2.0e9 + 1);
    /* 16 GPUs of a node each offloading 7B to DRAM: 16 x 16 x 6.7e9 > 1.5 TB */
    l = one_gpu(m, OFFLOAD_OPTIMIZER, OFFLOAD_TO_CPU, 1);
    offload_memory(m, &l, &s.groups[0].node, 16, &mb, 32e9, &r);
    CHECK(!r.fits_dram);
    /* checkpoints in DRAM: llama2-7b's 32 layers x 4096 tokens x 4096 x 2 B of
     * full recomputation (1 microbatch in flight) leave HBM for DRAM */
    l = one_gpu(m, OFFLOAD_OPTIMIZER, OFFLOAD_TO_CPU, 1);
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    CHECK(memory_per_stage(m, &l, 0, &mb, &err) == 0);
    offload_memory(m, &l, &s.groups[0].node, 1, &mb, 32e9, &r);
    double hbm = r.gpu_bytes, dram = r.dram_bytes, ckpt = 32.0 * 4096 * 4096 * 2;
    l.offload_ckpt_cpu = 1;
    offload_memory(m, &l, &s.groups[0].node, 1, &mb, 32e9, &r);
    CHECK_REL(hbm - r.gpu_bytes, ckpt, 1e-12);
    CHECK_REL(r.dram_bytes - dram, ckpt, 1e-12);
}

/* Checkpoints in DRAM at tp 4: all of each GPU's stored checkpoint leaves
 * HBM, but DeepSpeed's partition_activations splits it over the tensor-
 * parallel group before the copy, so DRAM holds a quarter of it per GPU (the
 * bytes the copies move, estimate.c); under sp the HBM checkpoint is already
 * the GPU's quarter and all of it goes to DRAM.  By hand: llama2-7b, 32
 * layers x 4096 tokens x 4096 x 2 B, one GPU of the node counted. */
static void checkpoints_dram_split_by_tp(void)
{
    const model_desc *m = llama7b();
    sys_system s;
    cs_err err;
    CHECK(sys_from_catalog("dgx2-v100", 1, &s, &err) == 0);
    double full = 32.0 * 4096 * 4096 * 2;
    for (int sp = 0; sp <= 1; sp++) {
        layout_desc l = one_gpu(m, OFFLOAD_OPTIMIZER, OFFLOAD_TO_CPU, 1);
        l.recompute = LAYOUT_RECOMPUTE_FULL;
        l.tp = 4;
        l.sp = sp;
        memory_breakdown mb;
        CHECK(memory_per_stage(m, &l, 0, &mb, &err) == 0);
        offload_report r;
        memset(&r, 0, sizeof r);
        offload_memory(m, &l, &s.groups[0].node, 1, &mb, 32e9, &r);
        double hbm = r.gpu_bytes, dram = r.dram_bytes;
        l.offload_ckpt_cpu = 1;
        offload_memory(m, &l, &s.groups[0].node, 1, &mb, 32e9, &r);
        CHECK_REL(hbm - r.gpu_bytes, sp ? full / 4 : full, 1e-12);
        CHECK_REL(r.dram_bytes - dram, full / 4, 1e-12);
    }
}

/* Two GPUs on one PCIe switch share its uplink; on two switches they do not. */
static void closed_bw_shares_switch(void)
{
    sys_system s;
    cs_err err;
    CHECK(sys_from_catalog("dgx-a100-80g", 1, &s, &err) == 0);
    const sys_node_type *n = &s.groups[0].node;
    offload_bw one, eight;
    offload_bw_closed(n, 1, &one);
    offload_bw_closed(n, 8, &eight);
    CHECK_REL(one.h2d, n->pcie_bw_bytes_per_s, 1e-12);
    CHECK_REL(eight.h2d, n->pcie_bw_bytes_per_s / 2, 1e-12);
    CHECK_REL(eight.nvme_read, 8 * 7.0e9 / 8, 1e-12);
    /* 128 cores stream more than DRAM gives: DRAM-bound Adam, 28 bytes a parameter */
    CHECK_REL(one.cpu_adam_params_per_s, 2 * 8 * 3200e6 * 8 / 28.0, 1e-12);
    /* and the gradient pass, 8 bytes a parameter */
    CHECK_REL(one.cpu_grad_pass_params_per_s, 2 * 8 * 3200e6 * 8 / 8.0, 1e-12);
    /* the DGX-2's measured rates (DeepSpeed's log), shared by 16 GPUs */
    CHECK(sys_from_catalog("dgx2-v100", 1, &s, &err) == 0);
    offload_bw sixteen;
    offload_bw_closed(&s.groups[0].node, 16, &sixteen);
    CHECK_REL(sixteen.cpu_grad_pass_params_per_s, 10.28e9 / 1.1368 / 16, 1e-12);
    CHECK_REL(sixteen.cpu_adam_params_per_s, 10.28e9 / 6.348 / 16, 1e-12);
}

/* fuyou-server's CPU optimizer: the DGX-2's measured rates (DeepSpeed's
 * tutorial log: optimizer_step 6.348 s, optimizer_gradients 1.1368 s for
 * 10.28e9 parameters) carried by cores x clock x AVX-512 FMA units.  Intel
 * ARK's figures written out here by hand, the products worked on paper:
 * 2x Gold 5320 (26 cores, 2.20 GHz base, 3.40 GHz max turbo, 2 units) over
 * 2x Platinum 8168 (24 cores, 2.70 GHz base, 3.70 GHz max turbo, 2 units):
 * 228.8 / 259.2 = 0.88272 at base clocks, 353.6 / 355.2 = 0.99550 at turbo. */
static void cpu_rate_derived(void)
{
    sys_system s;
    cs_err err;
    const double at_base = 228.8 / 259.2, at_turbo = 353.6 / 355.2;
    CHECK(sys_from_catalog("fuyou-server", 1, &s, &err) == 0);
    const tier_host *h = &s.groups[0].node.tiers.host;
    CHECK_REL(h->cpu_adam_params_per_s, 1.42947e9, 1e-5); /* 1.61941e9 x 0.88272 */
    CHECK_REL(h->cpu_adam_params_per_s, 10.28e9 / 6.348 * at_base, 1e-12);
    CHECK_REL(h->cpu_adam_range_params_per_s[0], 10.28e9 / 6.348 * at_base, 1e-12);
    CHECK_REL(h->cpu_adam_range_params_per_s[1], 10.28e9 / 6.348 * at_turbo, 1e-12);
    CHECK_REL(h->cpu_grad_pass_params_per_s, 10.28e9 / 1.1368 * at_base, 1e-12);
    CHECK_REL(h->cpu_grad_pass_range_params_per_s[1], 10.28e9 / 1.1368 * at_turbo, 1e-12);
    CHECK(h->cpu_adam_kind == TIER_RATE_DERIVED && h->cpu_grad_pass_kind == TIER_RATE_ASSUMED);
    /* the printed source carries the parts' figures as the rate uses them */
    CHECK_STR_CONTAINS(h->cpu_adam_source, "2x Xeon Gold 5320 (26 cores, 2.20 GHz base, 3.40 GHz");
    CHECK_STR_CONTAINS(h->cpu_adam_source, "2x Xeon Platinum 8168 (24 cores, 2.70 GHz base");
    CHECK_STR_CONTAINS(h->cpu_adam_source, "optimizer_step 6.348 s for 10.28e9 parameters");
    CHECK_STR_CONTAINS(h->cpu_grad_pass_source, "optimizer_gradients 1.1368 s");
    /* below the DRAM bound (375.4 GB/s over 28 B: 13.4e9/s), so the one GPU
     * gets the derived rate: 13e9 parameters take 9.09 s, not 0.97 s */
    offload_bw bw;
    offload_bw_closed(&s.groups[0].node, 1, &bw);
    CHECK_REL(bw.cpu_adam_params_per_s, 10.28e9 / 6.348 * at_base, 1e-12);
    CHECK_REL(13e9 / bw.cpu_adam_params_per_s, 9.09, 1e-3);
    /* the host with its drives counted keeps the rates */
    CHECK(sys_from_spec("fuyou-server:nvme=3", 1, &s, &err) == 0);
    CHECK_REL(s.groups[0].node.tiers.host.cpu_adam_params_per_s, 10.28e9 / 6.348 * at_base, 1e-12);
    /* the DGX-2 keeps its measurement (no range), the others the bound (no rate) */
    CHECK(sys_from_catalog("rtx4090-box", 1, &s, &err) == 0);
    CHECK(s.groups[0].node.tiers.host.cpu_adam_params_per_s == 0);
    CHECK(s.groups[0].node.tiers.host.cpu_adam_kind == TIER_RATE_NONE);
    CHECK(sys_from_catalog("dgx2-v100", 1, &s, &err) == 0);
    CHECK_REL(s.groups[0].node.tiers.host.cpu_adam_params_per_s, 10.28e9 / 6.348, 1e-12);
    CHECK(s.groups[0].node.tiers.host.cpu_adam_kind == TIER_RATE_MEASURED);
    CHECK(s.groups[0].node.tiers.host.cpu_adam_range_params_per_s[1] == 0);
}

/* The iteration and bandwidths the hand derivations below start from. */
static const offload_base base_10s = {.iteration_s = 10, .fwd_s = 3, .bwd_s = 6,
                                      .gpu_optimizer_s = 0.5, .params = 1e9,
                                      .activation_bytes_per_mb = 1e9, .microbatches = 1};
static const offload_bw bw_hand = {.h2d = 10e9, .d2h = 10e9, .nvme_read = 5e9, .nvme_write = 2e9,
                                   .dram = 100e9, .cpu_adam_params_per_s = 2e9};

/* The iteration's parts: ZeRO-Offload's step and upload follow the
 * backward pass, hidden by DPU when compute is long enough. */
static void iteration_parts(void)
{
    const model_desc *m = llama7b();
    layout_desc l = one_gpu(m, OFFLOAD_OPTIMIZER, OFFLOAD_TO_CPU, 1);
    offload_base b = base_10s;
    offload_bw bw = bw_hand;
    offload_report r;
    memset(&r, 0, sizeof r);
    double iter = offload_apply(&l, &b, &bw, &r);
    /* gradients 4 GB down in 0.4 s, under the 6 s backward, but the last
     * 2 GB bucket's 0.2 s shows; then Adam 0.5 s and 4 GB up 0.4 s */
    CHECK_REL(iter, 10 - 0.5 + 0.2 + 0.5 + 0.4, 1e-12);
    CHECK_REL(r.d2h_bytes, 4e9, 1e-12);
    CHECK_REL(r.h2d_bytes, 4e9, 1e-12);
    CHECK_REL(r.cpu_step_s, 0.5, 1e-12);
    l.offload_dpu = 1;
    CHECK_REL(offload_apply(&l, &b, &bw, &r), 10 - 0.5 + 0.2, 1e-12);
    /* the CPU's gradient pass before Adam: 1e9 parameters at 4e9/s, 0.25 s */
    l.offload_dpu = 0;
    bw.cpu_grad_pass_params_per_s = 4e9;
    CHECK_REL(offload_apply(&l, &b, &bw, &r), 10 - 0.5 + 0.2 + 0.75 + 0.4, 1e-12);
    CHECK_REL(r.cpu_step_s, 0.75, 1e-12);
    bw.cpu_grad_pass_params_per_s = 0;
    /* parameters only: fetches hide behind compute; the GPU's step, then
     * the updated 2 GB partition back to the host (0.2 s) */
    l = one_gpu(llama7b(), OFFLOAD_PARAMS, OFFLOAD_TO_CPU, 3);
    CHECK_REL(offload_apply(&l, &b, &bw, &r), 10 + 0.2, 1e-12);
    CHECK_REL(r.d2h_bytes, 2e9, 1e-12);
    CHECK_REL(r.h2d_bytes, 4e9, 1e-12);
    /* Fuyou: forward and backward each last as long as their busiest
     * resource; no free HBM (capacity 0), activations not in DRAM: swapping
     * the one layer's 1 GB through the SSDs would make the backward 10 s
     * (SSD: 3 + 7 s), recomputing it makes it 9 s on the GPU and 9.8 s on
     * the SSDs (params 2 + state 12 GB read at 5 GB/s, 14 GB written at 2) */
    l = one_gpu(m, OFFLOAD_ALL, OFFLOAD_TO_NVME, 0);
    l.offload_engine = OFFLOAD_ENGINE_FUYOU;
    b.iteration_s = 9.5; /* compute only */
    iter = offload_apply(&l, &b, &bw, &r);
    CHECK_REL(iter, 3 + (2e9 + 12e9) / 5e9 + 14e9 / 2e9, 1e-12);
    CHECK_EQ_INT(r.fuyou_act_recompute_layers, 1);
    CHECK_EQ_INT(r.fuyou_act_swap_layers, 0);
    CHECK_EQ_INT(r.bottleneck, OFFLOAD_RES_NVME);
    /* a CPU slower than the SSDs (the Gold 5320's derived rate is of this
     * kind at small batches): the synchronous step, 1e9 parameters at
     * 1e8/s, is the backward: 3 + 10 s, whatever the placement; the SSDs
     * stay the bottleneck over the iteration (0.9 s more in the forward) */
    bw.cpu_adam_params_per_s = 1e8;
    CHECK_REL(offload_apply(&l, &b, &bw, &r), 3 + 10, 1e-12);
    CHECK_REL(r.cpu_step_s, 10, 1e-12);
    CHECK_EQ_INT(r.bottleneck, OFFLOAD_RES_NVME);
    bw.cpu_adam_params_per_s = 5e7; /* 20 s: now the CPU's */
    CHECK_REL(offload_apply(&l, &b, &bw, &r), 3 + 20, 1e-12);
    CHECK_EQ_INT(r.bottleneck, OFFLOAD_RES_CPU);
}

/* DeepSpeed v0.9.3's ZeRO-3 with everything on NVMe, full recomputation
 * (in the base's 6 s backward), by hand on base_10s and bw_hand:
 * - forward: the 2 GB partition read (0.4 s) then copied up (0.2 s), 0.6 s
 *   under the 3 s of compute;
 * - backward: fetched once (reused from the recomputation: 2 GB read and
 *   up, not 4), the gradients 6 GB down (fp16 and fp32: 0.6 s) and 2 GB
 *   back up (0.2 s) in turn with the 6 s: 6.8 s;
 * - step: 16 GB read (3.2 s), Adam 0.5 s, 14 GB written (7 s): 10.7 s;
 * - the rest of the base iteration, 10 - 0.5 - 3 - 6 = 0.5 s.
 * The same job under the 2021 engine hides the copies but the last 2 GB
 * bucket (0.2 s). */
static void deepspeed_2023(void)
{
    const model_desc *m = llama7b();
    layout_desc l = one_gpu(m, OFFLOAD_ALL, OFFLOAD_TO_NVME, 3);
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED_2023;
    offload_base b = base_10s;
    offload_bw bw = bw_hand;
    offload_report r;
    memset(&r, 0, sizeof r);
    double iter = offload_apply(&l, &b, &bw, &r);
    CHECK_REL(iter, 3 + 6.8 + 10.7 + 0.5, 1e-12);
    CHECK_REL(r.d2h_bytes, 6e9, 1e-12);
    CHECK_REL(r.h2d_bytes, 2e9 + 2e9 + 2e9, 1e-12);     /* forward, backward fetch, round trip */
    CHECK_REL(r.nvme_read_bytes, 2e9 + 2e9 + 16e9, 1e-12);
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED;
    CHECK_REL(offload_apply(&l, &b, &bw, &r), 3 + 6.2 + 10.7 + 0.5, 1e-12);
    CHECK_REL(r.nvme_read_bytes, 2e9 + 4e9 + 16e9, 1e-12);
    /* a slow link, 0.5 GB/s up: the forward's fetch, read (0.4 s) then copy
     * (4 s) one after the other, is the forward: 4.4 s, not the copy's 4 */
    bw.h2d = 0.5e9;
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED_2023;
    offload_apply(&l, &b, &bw, &r);
    CHECK_REL(r.phases[0].dur_s, 0.4 + 4, 1e-12);
    /* a layer past the reuse distance (2e9 parameters, 1e9 reused at most)
     * is fetched again for the backward: 8 GB read in the forward, 2 x 8 in
     * the backward, 64 GB for the step */
    b.params = 4e9;
    b.layers = 2;
    offload_apply(&l, &b, &bw, &r);
    CHECK_REL(r.nvme_read_bytes, 8e9 + 16e9 + 64e9, 1e-12);
    /* the distance counts whole parameters, not this rank's shard: over
     * dp 8 each rank reads 1 GB in the forward and 2 x 1 in the backward */
    l.dp = 8;
    offload_apply(&l, &b, &bw, &r);
    CHECK_REL(r.nvme_read_bytes, (8e9 + 16e9 + 64e9) / 8, 1e-12);
    l.dp = 1;
    b = base_10s;
    /* two microbatches, everything to the CPU: each one's 2 GB fetched up
     * in the forward (0.4 s) and once in the backward, its fp16 gradients
     * down and up (0.2 + 0.2 s each), the fp32 ones down once (0.4 s): a
     * backward of 6 + 0.8 + 0.4 = 7.2 s; the step Adam's 0.5 s */
    bw = bw_hand;
    l = one_gpu(m, OFFLOAD_ALL, OFFLOAD_TO_CPU, 3);
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED_2023;
    b.microbatches = 2;
    CHECK_REL(offload_apply(&l, &b, &bw, &r), 3 + 7.2 + 0.5 + 0.5, 1e-12);
    CHECK_REL(r.h2d_bytes, 4e9 + 4e9 + 4e9, 1e-12);
    CHECK_REL(r.d2h_bytes, 4e9 + 4e9, 1e-12);
    /* parameters alone, on slow drives (0.25 GB/s): the backward's one fetch,
     * 8 s read then 0.2 s up, is the backward (8.2 s), not the compute */
    b.microbatches = 1;
    bw.nvme_read = 0.25e9;
    l = one_gpu(m, OFFLOAD_PARAMS, OFFLOAD_TO_NVME, 3);
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED_2023;
    offload_apply(&l, &b, &bw, &r);
    CHECK_REL(r.phases[1].dur_s, 8 + 0.2, 1e-12);
    /* and the rules: ZeRO-3 only, no delayed parameter update */
    cs_err err;
    l.zero = 2;
    l.offload = OFFLOAD_OPTIMIZER;
    CHECK(offload_validate(&l, NULL, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "deepspeed-2023");
    l.zero = 3;
    l.offload_to = OFFLOAD_TO_CPU;
    l.offload_dpu = 1;
    CHECK(offload_validate(&l, NULL, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "delayed parameter update");
}

/* The utilisation over time: phases end to end over the iteration, each
 * resource's fraction within [0, 1]. */
static void check_phases(const offload_report *r, double iter)
{
    double end = 0;
    for (int p = 0; p < r->nphases; p++) {
        CHECK_REL(r->phases[p].start_s, end, 1e-9);
        end += r->phases[p].dur_s;
        for (int k = 0; k < OFFLOAD_NRES; k++)
            CHECK(r->phases[p].util[k] >= 0 && r->phases[p].util[k] <= 1);
    }
    CHECK_REL(end, iter, 1e-9); /* phases under a nanosecond are dropped */
}

/* Fuyou's placement, derived by hand: ten layers of 1 GB of activations
 * per microbatch (in DRAM), 0.1 B parameters, PCIe 1 GB/s each way, the
 * SSDs 10 GB/s (0.28 s of the backward), forward 3 s, backward 6 s. */
static void fuyou_placement(void)
{
    layout_desc l = one_gpu(llama7b(), OFFLOAD_ALL, OFFLOAD_TO_NVME, 0);
    l.offload_engine = OFFLOAD_ENGINE_FUYOU;
    offload_base b = {.iteration_s = 9, .fwd_s = 3, .bwd_s = 6, .params = 1e8,
                      .activation_bytes_per_mb = 1e10, .microbatches = 1, .layers = 10};
    offload_bw bw = {.h2d = 1e9, .d2h = 1e9, .nvme_read = 10e9, .nvme_write = 10e9,
                     .dram = 1e12, .cpu_adam_params_per_s = 1e10};
    offload_report r;
    memset(&r, 0, sizeof r);
    r.acts_in_dram = 1;
    /* no free HBM: k layers swapped out cost k s of the forward's d2h
     * (hidden up to 3) and k + 0.2 s of the backward's h2d; each of the
     * 10 - k recomputed costs 0.3 s of GPU: T(k) = max(3, k) +
     * max(9 - 0.3 k, 0.2 + k), least at k = 3: 3 + 8.1 */
    double iter = offload_apply(&l, &b, &bw, &r);
    CHECK_REL(iter, 3 + 8.1, 1e-12);
    CHECK_EQ_INT(r.fuyou_act_swap_layers, 3);
    CHECK_EQ_INT(r.fuyou_act_recompute_layers, 7);
    CHECK_EQ_INT(r.fuyou_act_gpu_layers, 0);
    check_phases(&r, iter);
    CHECK_EQ_INT(r.nphases, 2);
    CHECK_REL(r.phases[0].util[OFFLOAD_RES_PCIE_D2H], 1, 1e-12); /* 3 GB in 3 s */
    CHECK_REL(r.phases[1].util[OFFLOAD_RES_GPU], 1, 1e-12);
    CHECK_REL(r.phases[1].util[OFFLOAD_RES_PCIE_H2D], 3.2 / 8.1, 1e-12);
    /* 2.5 GB of free HBM: two layers' activations stay, three swapped,
     * five recomputed: 3 + 6 + 1.5 */
    r.gpu_capacity_bytes = 2.5e9;
    iter = offload_apply(&l, &b, &bw, &r);
    CHECK_REL(iter, 10.5, 1e-12);
    CHECK_EQ_INT(r.fuyou_act_gpu_layers, 2);
    CHECK_EQ_INT(r.fuyou_act_swap_layers, 3);
    CHECK_EQ_INT(r.fuyou_act_recompute_layers, 5);
    CHECK_REL(r.fuyou_resident_bytes, 2e9, 1e-12);
    /* fast PCIe: every layer swapped, hidden behind compute */
    bw.h2d = bw.d2h = 100e9;
    r.gpu_capacity_bytes = 0;
    CHECK_REL(offload_apply(&l, &b, &bw, &r), 9, 1e-12);
    CHECK_EQ_INT(r.fuyou_act_swap_layers, 10);
    /* SSDs at 10 MB/s: the backward waits on them (2 s of streamed
     * parameters, 26 s of fp32 state); 0.2 GB of free HBM, too little for
     * a layer's activations, keeps every layer's parameters: 2 s less */
    bw.nvme_read = bw.nvme_write = 0.01e9;
    b.params = 1e7;
    r.gpu_capacity_bytes = 0.2e9;
    iter = offload_apply(&l, &b, &bw, &r);
    CHECK_EQ_INT(r.fuyou_param_gpu_layers, 10);
    CHECK_REL(iter, 3 + 26, 1e-12);
}

/* Fuyou under full recomputation (its artifact's run.sh), the setting of
 * fuyou_placement with 0.1 GB checkpoints a layer (1 GB a microbatch) and
 * the recomputation in the base's backward (6 + 3 s): every layer's
 * checkpoint goes down in the forward (1 s, under its 3 s) and up in the
 * backward with the streamed parameters (1.2 s, under 9 s), every layer is
 * recomputed and none swapped or kept; free HBM keeps parameters only. */
static void fuyou_recompute_all(void)
{
    const model_desc *m = llama7b();
    layout_desc l = one_gpu(m, OFFLOAD_ALL, OFFLOAD_TO_NVME, 0);
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    /* the artifact checkpoints each block's two halves apart: two inputs a
     * layer, where DeepSpeed's full recomputation stores one */
    double one = memory_activation_bytes_per_layer(m, &l);
    CHECK_REL(offload_stored_bytes_per_layer(m, &l), one, 1e-12);
    l.offload_engine = OFFLOAD_ENGINE_FUYOU;
    CHECK_REL(offload_stored_bytes_per_layer(m, &l), 2 * one, 1e-12);
    offload_base b = {.iteration_s = 12, .fwd_s = 3, .bwd_s = 9, .params = 1e8,
                      .activation_bytes_per_mb = 1e9, .microbatches = 1, .layers = 10,
                      .fuyou_recompute_all = 1};
    offload_bw bw = {.h2d = 1e9, .d2h = 1e9, .nvme_read = 10e9, .nvme_write = 10e9,
                     .dram = 1e12, .cpu_adam_params_per_s = 1e10};
    offload_report r;
    memset(&r, 0, sizeof r);
    r.acts_in_dram = 1;
    r.gpu_capacity_bytes = 2.5e9;
    double iter = offload_apply(&l, &b, &bw, &r);
    CHECK_REL(iter, 3 + 9, 1e-12);
    CHECK_EQ_INT(r.fuyou_act_recompute_layers, 10);
    CHECK_EQ_INT(r.fuyou_act_swap_layers, 0);
    CHECK_EQ_INT(r.fuyou_act_gpu_layers, 0); /* 2.5 GB free, but no activations stay */
    check_phases(&r, iter);
    CHECK_REL(r.phases[0].util[OFFLOAD_RES_PCIE_D2H], 1.0 / 3, 1e-12); /* 1 GB in 3 s */
    /* slow PCIe (0.1 GB/s), two microbatches: the checkpoints' 20 s down
     * bind the forward; keeping every layer's parameters (0.2 GB up once,
     * not 0.4 GB streamed) makes the backward 22 s, not 24 */
    bw.h2d = bw.d2h = 0.1e9;
    b.microbatches = 2;
    iter = offload_apply(&l, &b, &bw, &r);
    CHECK_EQ_INT(r.fuyou_param_gpu_layers, 10);
    CHECK_EQ_INT(r.fuyou_act_gpu_layers, 0);
    CHECK_REL(r.phases[0].dur_s, 20, 1e-12);
    CHECK_REL(iter, 20 + 22, 1e-12);
    /* without it Fuyou's own plan: the same 1 GB of stored activations a
     * microbatch, 0.1 GB a layer, all ten kept in the 2.5 GB of free HBM
     * (no traffic, nothing recomputed) */
    b.fuyou_recompute_all = 0;
    l.recompute = LAYOUT_RECOMPUTE_NONE;
    offload_apply(&l, &b, &bw, &r);
    CHECK_EQ_INT(r.fuyou_act_gpu_layers, 10);
    CHECK_EQ_INT(r.fuyou_act_swap_layers, 0);
    CHECK_EQ_INT(r.fuyou_act_recompute_layers, 0);
}

/* DeepSpeed's phases: forward, backward, the rest, the step, end to end. */
static void deepspeed_phases(void)
{
    layout_desc l = one_gpu(llama7b(), OFFLOAD_ALL, OFFLOAD_TO_NVME, 3);
    offload_base b = base_10s;
    offload_bw bw = bw_hand;
    offload_report r;
    memset(&r, 0, sizeof r);
    double iter = offload_apply(&l, &b, &bw, &r);
    check_phases(&r, iter);
    CHECK_EQ_INT(r.nphases, 4);
    CHECK_STR_CONTAINS(r.phases[3].name, "step");
    /* the step reads 16 GB at 5 GB/s, updates (0.5 s), writes 14 GB at 2:
     * the drives busy 3.2 + 7 of its 10.7 s */
    CHECK_REL(r.phases[3].dur_s, 3.2 + 0.5 + 7, 1e-12);
    CHECK_REL(r.phases[3].util[OFFLOAD_RES_NVME], 10.2 / 10.7, 1e-12);
    l = one_gpu(llama7b(), OFFLOAD_OPTIMIZER, OFFLOAD_TO_CPU, 1);
    l.offload_dpu = 1;
    check_phases(&r, offload_apply(&l, &b, &bw, &r));
}

/* DeepSpeed v0.3 and checkpoints in host DRAM: each rule fails alone. */
static void rules_2020_and_checkpoints(void)
{
    const model_desc *m = llama7b();
    sys_system s;
    cs_err err;
    CHECK(sys_from_catalog("dgx2-v100", 1, &s, &err) == 0);
    const sys_node_type *node = &s.groups[0].node;
    layout_desc l = one_gpu(m, OFFLOAD_OPTIMIZER, OFFLOAD_TO_CPU, 2);
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED_2020;
    CHECK(offload_validate(&l, node, &err) == 0);
    l.zero = 3;
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "deepspeed-2020");
    l = one_gpu(m, OFFLOAD_ALL, OFFLOAD_TO_CPU, 3);
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED_2020;
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "only the optimizer");
    /* checkpoints: full recomputation, DeepSpeed's engines, an offload */
    l = one_gpu(m, OFFLOAD_ALL, OFFLOAD_TO_CPU, 3);
    l.offload_ckpt_cpu = 1;
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "use recompute = \"full\" (--recompute full)");
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    CHECK(offload_validate(&l, node, &err) == 0);
    l = one_gpu(m, OFFLOAD_ALL, OFFLOAD_TO_NVME, 0);
    l.offload_engine = OFFLOAD_ENGINE_FUYOU;
    l.offload_ckpt_cpu = 1;
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "Fuyou swaps activations itself");
    CHECK_STR_CONTAINS(err.msg, "offload_engine = \"deepspeed\" (--offload-engine deepspeed)");
    l = one_gpu(m, OFFLOAD_NONE, OFFLOAD_TO_CPU, 1);
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    l.offload_ckpt_cpu = 1;
    CHECK(offload_validate(&l, node, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "offload_checkpoints (--offload-to, --offload-engine, "
                                "--offload-dpu, --offload-checkpoints) need offload =");
}

/* By hand, on base_10s and bw_hand (10 GB/s each way, Adam 2e9/s):
 * checkpoints in host DRAM cost their bytes down into fresh pages at the
 * host's first-touch rate (under the link's) and back at the pinned rate
 * over 2.57 (offload.h); DeepSpeed v0.3 runs the gradient copies after the compute and
 * uploads tile by tile under Adam. */
static void iteration_2020_and_checkpoints(void)
{
    const model_desc *m = llama7b();
    layout_desc l = one_gpu(m, OFFLOAD_OPTIMIZER, OFFLOAD_TO_CPU, 1);
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    offload_base b = base_10s;
    b.checkpoint_bytes_per_mb = 0.5e9;
    b.microbatches = 2;
    offload_report r;
    memset(&r, 0, sizeof r);
    double plain = offload_apply(&l, &b, &bw_hand, &r);
    l.offload_ckpt_cpu = 1;
    /* 2 x 0.5 GB into fresh pages at the host's 1.96 GB/s (under the 10 GB/s
     * link) in the forward, back at 10 / 2.57 GB/s in the backward */
    CHECK_REL(offload_apply(&l, &b, &bw_hand, &r) - plain, 1e9 / 1.96e9 + 1e9 * 2.57 / 10e9,
              1e-9);
    /* each direction in its own phase, at its own link: down in the forward
     * at the lesser of d2h and the host's bound, up in the backward over h2d;
     * a down link slower than the host's bound sets the rate */
    offload_bw narrow = bw_hand;
    narrow.d2h = 1e9;
    narrow.h2d = 5e9;
    l.offload_ckpt_cpu = 0;
    offload_apply(&l, &b, &narrow, &r);
    double fwd_plain = r.phases[0].dur_s, bwd_plain = r.phases[1].dur_s;
    CHECK(!strcmp(r.phases[0].name, "forward") && !strcmp(r.phases[1].name, "backward"));
    l.offload_ckpt_cpu = 1;
    offload_apply(&l, &b, &narrow, &r);
    CHECK_REL(r.phases[0].dur_s - fwd_plain, 1e9 / 1e9, 1e-9);
    CHECK_REL(r.phases[1].dur_s - bwd_plain, 1e9 * 2.57 / 5e9, 1e-9);
    narrow.d2h = 10e9; /* the host's bound, not the link */
    offload_apply(&l, &b, &narrow, &r);
    CHECK_REL(r.phases[0].dur_s - fwd_plain, 1e9 / 1.96e9, 1e-9);
    /* the copies' bytes load the links: their share of each in the busy time */
    CHECK_REL(r.busy_s[OFFLOAD_RES_PCIE_H2D], r.h2d_bytes / 5e9, 1e-12);
    CHECK_REL(r.busy_s[OFFLOAD_RES_PCIE_D2H], r.d2h_bytes / 10e9, 1e-12);
    CHECK_REL(r.d2h_bytes, 4e9 + 2e9 + 1e9, 1e-12); /* fp32 + fp16 grads, checkpoints */
    l.offload_ckpt_cpu = 0;
    b.microbatches = 1;
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED_2020;
    /* 1e9 parameters, one tile: backward 6 + 4 GB / 10 GB/s = 6.4 s; step:
     * Adam 0.5 s, then the one tile's 4 GB up 0.4 s */
    CHECK_REL(offload_apply(&l, &b, &bw_hand, &r), 10 - 0.5 + 0.4 + 0.5 + 0.4, 1e-12);
    /* 4e9 parameters, four tiles (the last 0.78e9): Adam 2 s; the upload of
     * 16 GB (1.6 s) runs under it but for the last tile's 3.1 GB */
    b.params = 4e9;
    double last = 4e9 - 3 * OFFLOAD_DS2020_ADAM_TILE;
    CHECK_REL(offload_apply(&l, &b, &bw_hand, &r),
              10 - 0.5 + 16e9 / 10e9 + 2 + 4 * last / 10e9, 1e-12);
    /* a slow link: the uploads bind, after the first tile's Adam */
    offload_bw slow = bw_hand;
    slow.h2d = 1e9;
    CHECK_REL(offload_apply(&l, &b, &slow, &r),
              10 - 0.5 + 1.6 + 2 * OFFLOAD_DS2020_ADAM_TILE / 4e9 + 16, 1e-12);
}

/* The engine: two GPUs offloading through one PCIe switch take twice as
 * long as one; through two switches, as long as one. */
static void pcie_contention(void)
{
    sys_system s;
    cs_err err;
    topo *t;
    CHECK(sys_from_catalog("dgx-a100-80g", 1, &s, &err) == 0);
    CHECK(topo_build(&s, &t, &err) == 0);
    double end[2];
    offloadsim_flow one[1] = {{0, OFFLOADSIM_D2H, 4e9}};
    CHECK(offloadsim_run(t, one, 1, end, &err) == 0);
    double alone = end[0];
    CHECK_REL(alone, 4e9 / s.groups[0].node.pcie_bw_bytes_per_s, 1e-3);
    offloadsim_flow same[2] = {{0, OFFLOADSIM_D2H, 4e9}, {1, OFFLOADSIM_D2H, 4e9}};
    CHECK(offloadsim_run(t, same, 2, end, &err) == 0);
    CHECK(end[0] > 1.9 * alone && end[1] > 1.9 * alone);
    offloadsim_flow apart[2] = {{0, OFFLOADSIM_D2H, 4e9}, {2, OFFLOADSIM_D2H, 4e9}};
    CHECK(offloadsim_run(t, apart, 2, end, &err) == 0);
    CHECK_REL(end[0], alone, 1e-6);
    /* the drives are shared by the whole node: 8 readers get 1/8 each */
    offloadsim_flow rd[8];
    for (int g = 0; g < 8; g++)
        rd[g] = (offloadsim_flow){g, OFFLOADSIM_NVME_READ, 7e9};
    double e8[8];
    CHECK(offloadsim_run(t, rd, 8, e8, &err) == 0);
    CHECK_REL(e8[7], 8 * 7e9 / (8 * 7.0e9), 1e-3);
    offloadsim_flow bad[1] = {{99, OFFLOADSIM_H2D, 1}};
    CHECK(offloadsim_run(t, bad, 1, end, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "GPUs are 0 to 7");
    topo_free(t);
}

/* Fuyou's testbed: the SSDs' measured link (32 GB/s, tiers.c) bounds the
 * drives' sums (78 read, 40.8 write) in the closed form and in the engine
 * alike, so the two modes see the same drives. */
static void nvme_link_both_modes(void)
{
    sys_system s;
    cs_err err;
    topo *t;
    CHECK(sys_from_catalog("fuyou-server", 1, &s, &err) == 0);
    offload_bw bw;
    offload_bw_closed(&s.groups[0].node, 1, &bw);
    CHECK_REL(bw.nvme_read, 32e9, 1e-12);
    CHECK_REL(bw.nvme_write, 32e9, 1e-12);
    CHECK(topo_build(&s, &t, &err) == 0);
    double end[1];
    offloadsim_flow rd[1] = {{0, OFFLOADSIM_NVME_READ, 64e9}};
    CHECK(offloadsim_run(t, rd, 1, end, &err) == 0);
    CHECK_REL(end[0], 2.0, 1e-3);
    offloadsim_flow wr[1] = {{0, OFFLOADSIM_NVME_WRITE, 64e9}};
    CHECK(offloadsim_run(t, wr, 1, end, &err) == 0);
    CHECK_REL(end[0], 2.0, 1e-3);
    topo_free(t);
    /* three drives: under the link, their own sums */
    CHECK(sys_from_spec("fuyou-server:nvme=3", 1, &s, &err) == 0);
    offload_bw_closed(&s.groups[0].node, 1, &bw);
    CHECK_REL(bw.nvme_read, 3 * 6.5e9, 1e-12);
    CHECK_REL(bw.nvme_write, 3 * 3.4e9, 1e-12);
}

/* deepspeed-2021 on one GPU (world size 1: each of the coordinator's
 * gathers is the parameter's copy up, in its windows): four blocks of a
 * 10B's shape (h 4096, 2.0e8 parameters a block, all within the reuse
 * distance, so the recomputation's fetch serves the backward and the last
 * blocks keep their forward's).  With a link of no cost the passes are
 * the compute; with a slow one the forward's copies neither vanish under
 * the compute (the fetch waits at every module) nor exceed it plus all of
 * them; the bytes are the trace's. */
static void deepspeed_2021(void)
{
    static model_desc m;
    model_custom(&m, 4, 4096, 32);
    layout_desc l = one_gpu(&m, OFFLOAD_ALL, OFFLOAD_TO_CPU, 3);
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED_2021;
    cs_err err;
    CHECK(offload_validate(&l, NULL, &err) == 0);
    z3c_trace t;
    z3c_config cfg = z3c_defaults();
    CHECK(z3c_build(&m, &l, 4, 1, &cfg, &t, &err) == 0);
    offload_base b = {.iteration_s = 10, .fwd_s = 3, .bwd_s = 6, .rec_s = 2,
                      .gpu_optimizer_s = 0.5, .params = 4 * t.block_elems,
                      .microbatches = 1, .layers = 4, .model = &m};
    offload_bw bw = bw_hand;
    bw.h2d = 1e30;
    offload_report r;
    memset(&r, 0, sizeof r);
    offload_apply(&l, &b, &bw, &r);
    CHECK_REL(r.phases[0].dur_s, 3, 1e-9);
    CHECK_REL(r.h2d_bytes, 2 * t.gather_elems, 1e-12);
    /* the recomputation's fetch serves the backward: each block fetched
     * once in the forward and at most once after */
    CHECK(t.pass_gather_elems[Z3C_BWD] < t.block_elems);
    CHECK(t.pass_gather_elems[Z3C_FWD] + t.pass_gather_elems[Z3C_REC] <= 8 * t.block_elems);
    /* 1 GB/s: a block's 0.40 GB take 0.40 s against its 0.75 s forward */
    bw.h2d = 1e9;
    offload_apply(&l, &b, &bw, &r);
    double fwd_copies_s = 2 * t.pass_gather_elems[Z3C_FWD] / bw.h2d;
    printf("# forward %.4f s: compute 3, its copies %.4f s\n", r.phases[0].dur_s, fwd_copies_s);
    CHECK(r.phases[0].dur_s > 3 + 0.05);
    CHECK(r.phases[0].dur_s < 3 + fwd_copies_s);
    /* the engine of today's DeepSpeed hides them all (a pass's copies
     * against its compute) */
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED;
    offload_apply(&l, &b, &bw, &r);
    CHECK_REL(r.phases[0].dur_s, 3, 1e-12);
    /* its rules: CPU only, no DPU */
    l.offload_engine = OFFLOAD_ENGINE_DEEPSPEED_2021;
    l.offload_to = OFFLOAD_TO_NVME;
    CHECK(offload_validate(&l, NULL, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "--offload-to cpu");
    l.offload_to = OFFLOAD_TO_CPU;
    l.zero = 2;
    CHECK(offload_validate(&l, NULL, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "--zero 3");
    z3c_free(&t);
}

TAP_MAIN({"offload rules: each bad combination named", rules_named},
         {"deepspeed-2021: the coordinator's windows on one GPU", deepspeed_2021},
         {"offload tier bytes: GPU, host DRAM, NVMe", tier_bytes},
         {"checkpoints in DRAM: partitioned over tp as the copies are",
          checkpoints_dram_split_by_tp},
         {"closed-form bandwidths share PCIe switches and drives", closed_bw_shares_switch},
         {"CPU Adam on the Gold 5320: the DGX-2's rate x cores x clock x FMA units",
          cpu_rate_derived},
         {"offloaded iteration: step, DPU, Fuyou's phases", iteration_parts},
         {"Fuyou's placement: activations kept, swapped or recomputed", fuyou_placement},
         {"Fuyou under full recomputation: checkpoints to DRAM, every layer recomputed",
          fuyou_recompute_all},
         {"DeepSpeed v0.9.3: gradient copies in turn with the backward, one fetch", deepspeed_2023},
         {"phases over the iteration: utilisation within [0, 1]", deepspeed_phases},
         {"engine flows: two GPUs on one PCIe switch take longer than one", pcie_contention},
         {"the SSDs' measured link bounds both modes alike", nvme_link_both_modes},
         {"DeepSpeed v0.3 and checkpoints in DRAM: rules named", rules_2020_and_checkpoints},
         {"DeepSpeed v0.3's copies and checkpoints in DRAM by hand",
          iteration_2020_and_checkpoints})
