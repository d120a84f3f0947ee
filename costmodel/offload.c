/* offload: options, rules, tier bytes and closed-form bandwidths (offload.h). */
#include "offload.h"

#include <math.h>

#include "units.h"

static const char *const what_names[] = {"none", "optimizer", "params", "all"};
static const char *const to_names[] = {"cpu", "nvme"};
static const char *const engine_names[] = {"deepspeed", "fuyou", "deepspeed-2020",
                                           "deepspeed-2023", "deepspeed-2021"};
static const char *const res_names[] = {"gpu", "pcie-h2d", "pcie-d2h", "dram", "nvme", "cpu"};

#define NAME_AT(names, i) \
    ((i) >= 0 && (i) < (int)(sizeof names / sizeof names[0]) ? names[i] : "unknown")

const char *offload_what_name(int what) { return NAME_AT(what_names, what); }
const char *offload_to_name(int to) { return NAME_AT(to_names, to); }
const char *offload_engine_name(int engine) { return NAME_AT(engine_names, engine); }
const char *offload_res_name(int res) { return NAME_AT(res_names, res); }

int offload_what_parse(const char *text, const char *what, int *out, cs_err *err)
{
    return units_parse_name(text, what, what_names, 4, out, err);
}
int offload_to_parse(const char *text, const char *what, int *out, cs_err *err)
{
    return units_parse_name(text, what, to_names, 2, out, err);
}
int offload_engine_parse(const char *text, const char *what, int *out, cs_err *err)
{
    return units_parse_name(text, what, engine_names, 5, out, err);
}

static int moves_optimizer(const layout_desc *l)
{
    return l->offload == OFFLOAD_OPTIMIZER || l->offload == OFFLOAD_ALL;
}
static int moves_params(const layout_desc *l)
{
    return l->offload == OFFLOAD_PARAMS || l->offload == OFFLOAD_ALL;
}

/* DeepSpeed's rules: which ZeRO stage carries which offload. */
static int validate_deepspeed(const layout_desc *l, cs_err *err)
{
    if (l->zero < 1)
        return cs_fail(err, "offload: DeepSpeed offloads only under ZeRO (zero/config.py: "
                            "offload_optimizer is valid for stages 1, 2, 3); use --zero 1 or more");
    if (moves_params(l) && l->zero < 3)
        return cs_fail(err, "offload: --offload %s moves parameters, which DeepSpeed does only "
                            "under ZeRO-3 (zero/config.py: offload_param 'valid only with stage "
                            "3'); use --zero 3 or --offload optimizer",
                       offload_what_name(l->offload));
    if (l->offload_to == OFFLOAD_TO_NVME && l->zero < 3)
        return cs_fail(err, "offload: --offload-to nvme needs --zero 3 (DeepSpeed swaps to NVMe "
                            "only in stage3.py; stage_1_and_2.py has no swapper); use --zero 3 or "
                            "--offload-to cpu");
    if (l->offload_dpu && (l->offload != OFFLOAD_OPTIMIZER || l->offload_to != OFFLOAD_TO_CPU))
        return cs_fail(err, "offload: --offload-dpu (ZeRO-Offload's delayed parameter update) "
                            "needs --offload optimizer --offload-to cpu");
    return 0;
}

/* DeepSpeed v0.3 (2020-09): stage2.py's cpu_offload was its only offload. */
static int validate_deepspeed_2020(const layout_desc *l, cs_err *err)
{
    if (l->offload != OFFLOAD_OPTIMIZER || l->offload_to != OFFLOAD_TO_CPU || l->zero < 1 ||
        l->zero > 2)
        return cs_fail(err, "offload: --offload-engine deepspeed-2020 (DeepSpeed v0.3, "
                            "stage2.py cpu_offload) offloads only the optimizer to the CPU "
                            "under ZeRO-1 or 2; use --offload optimizer --offload-to cpu "
                            "--zero 1|2, or --offload-engine deepspeed");
    return validate_deepspeed(l, err);
}

static int validate_deepspeed_2023(const layout_desc *l, cs_err *err)
{
    if (l->zero != 3)
        return cs_fail(err, "offload: --offload-engine deepspeed-2023 is DeepSpeed v0.9.3's "
                            "ZeRO-3 (stage3.py); use --zero 3, or --offload-engine deepspeed");
    if (l->offload_dpu)
        return cs_fail(err, "offload: --offload-engine deepspeed-2023 (DeepSpeed v0.9.3) has no "
                            "delayed parameter update (stage3.py); drop --offload-dpu");
    return validate_deepspeed(l, err);
}

/* DeepSpeed v0.3.13: its coordinator is ZeRO-3's (the model-dependent
 * rules are z3c_validate's, run by estimate). */
static int validate_deepspeed_2021(const layout_desc *l, cs_err *err)
{
    if (l->zero != 3)
        return cs_fail(err, "offload: --offload-engine deepspeed-2021 is DeepSpeed v0.3.13's "
                            "ZeRO-3 (stage3.py); use --zero 3, or --offload-engine deepspeed");
    if (l->offload_to != OFFLOAD_TO_CPU)
        return cs_fail(err, "offload: --offload-engine deepspeed-2021 (DeepSpeed v0.3.13) "
                            "offloads to the CPU only (NVMe came with ZeRO-Infinity, v0.3.15); "
                            "use --offload-to cpu");
    if (l->offload_dpu)
        return cs_fail(err, "offload: --offload-engine deepspeed-2021 (DeepSpeed v0.3.13's "
                            "stage3.py) has no delayed parameter update; drop --offload-dpu");
    return validate_deepspeed(l, err);
}

/* Checkpoints in host DRAM: DeepSpeed's checkpointing.py, for the layers
 * Megatron's --checkpoint-activations checkpoints.  These rules reach CLI
 * and Lua users alike, so they name each option both ways: the Lua field
 * with its value, then the flag in parentheses. */
static int validate_ckpt_cpu(const layout_desc *l, cs_err *err)
{
    if (l->offload_engine == OFFLOAD_ENGINE_FUYOU)
        return cs_fail(err, "offload: offload_checkpoints = true (--offload-checkpoints) is "
                            "DeepSpeed's cpu_checkpointing; Fuyou swaps activations itself: drop "
                            "it or use offload_engine = \"deepspeed\" (--offload-engine "
                            "deepspeed)");
    if (l->recompute != LAYOUT_RECOMPUTE_FULL)
        return cs_fail(err, "offload: offload_checkpoints = true (--offload-checkpoints) moves "
                            "the checkpoints of full recomputation; use recompute = \"full\" "
                            "(--recompute full)");
    return 0;
}

static int validate_fuyou(const layout_desc *l, cs_err *err)
{
    if (l->zero != 0)
        return cs_fail(err, "offload: Fuyou does not shard with ZeRO; use --zero 0 with "
                            "--offload-engine fuyou");
    if (l->tp * l->pp * layout_dp_cp(l) != 1)
        return cs_fail(err, "offload: Fuyou trains on one GPU; tp %d pp %d dp %d cp %d uses %d",
                       l->tp, l->pp, l->dp, layout_cp_of(l), l->tp * l->pp * layout_dp_cp(l));
    if (l->offload != OFFLOAD_ALL || l->offload_to != OFFLOAD_TO_NVME)
        return cs_fail(err, "offload: Fuyou keeps parameters and optimizer state on the SSDs; "
                            "use --offload all --offload-to nvme");
    if (l->offload_dpu)
        return cs_fail(err, "offload: Fuyou's optimizer is synchronous; drop --offload-dpu");
    if (l->recompute == LAYOUT_RECOMPUTE_SELECTIVE)
        return cs_fail(err, "offload: Fuyou chooses per layer whether to keep, swap or "
                            "recompute activations (--recompute none), or recomputes every "
                            "block (--recompute full, its authors' run.sh); selective is "
                            "neither");
    return 0;
}

int offload_validate(const layout_desc *l, const sys_node_type *node, cs_err *err)
{
    if (l->offload == OFFLOAD_NONE) {
        if (l->offload_to != OFFLOAD_TO_CPU || l->offload_engine != OFFLOAD_ENGINE_DEEPSPEED ||
            l->offload_dpu || l->offload_ckpt_cpu)
            return cs_fail(err, "offload: offload_to, offload_engine, offload_dpu and "
                                "offload_checkpoints (--offload-to, --offload-engine, "
                                "--offload-dpu, --offload-checkpoints) need offload = "
                                "\"optimizer\"|\"params\"|\"all\" (--offload "
                                "optimizer|params|all)");
        return 0;
    }
    if (l->offload < OFFLOAD_NONE || l->offload > OFFLOAD_ALL || l->offload_to < 0 ||
        l->offload_to > OFFLOAD_TO_NVME || l->offload_engine < 0 ||
        l->offload_engine > OFFLOAD_ENGINE_DEEPSPEED_2021)
        return cs_fail(err, "offload: option out of range (offload %d, to %d, engine %d)",
                       l->offload, l->offload_to, l->offload_engine);
    int rc = l->offload_engine == OFFLOAD_ENGINE_FUYOU ? validate_fuyou(l, err)
             : l->offload_engine == OFFLOAD_ENGINE_DEEPSPEED_2020 ? validate_deepspeed_2020(l, err)
             : l->offload_engine == OFFLOAD_ENGINE_DEEPSPEED_2023 ? validate_deepspeed_2023(l, err)
             : l->offload_engine == OFFLOAD_ENGINE_DEEPSPEED_2021 ? validate_deepspeed_2021(l, err)
                                                                 : validate_deepspeed(l, err);
    if (rc == 0 && l->offload_ckpt_cpu)
        rc = validate_ckpt_cpu(l, err);
    if (rc != 0)
        return rc;
    if (node && l->offload_to == OFFLOAD_TO_NVME) {
        sys_tiers t = tiers_effective(&node->tiers, node->host_mem_bytes,
                                      node->host_mem_bw_bytes_per_s);
        if (t.nvme.drives == 0)
            return cs_fail(err, "offload: --offload-to nvme, but node type '%s' has no NVMe "
                                "drives; use --offload-to cpu or a system with drives",
                           node->name);
    }
    return 0;
}

static double shards(const layout_desc *l) { return l->zero >= 1 ? layout_dp_cp(l) : 1; /* dp x cp hold the same weights */ }

/* Fuyou's GPU working set: two layers' fp16 parameters and gradients
 * (computing one, prefetching the next) and one layer's activations of a
 * microbatch, double-buffered; the rest of the activations go to host
 * memory or the SSDs.  Under full recomputation the double-buffered
 * activations are a layer's checkpoints, and the layer being recomputed
 * holds its whole activations (the artifact recomputes half a block at a
 * time, so this over-counts by up to a half-block's activations). */
double offload_stored_bytes_per_layer(const model_desc *m, const layout_desc *l)
{
    double one = memory_activation_bytes_per_layer(m, l);
    int halves = l->offload_engine == OFFLOAD_ENGINE_FUYOU && l->recompute == LAYOUT_RECOMPUTE_FULL;
    return halves ? 2 * one : one;
}

static double fuyou_gpu_bytes(const model_desc *m, const layout_desc *l,
                              const memory_breakdown *mb)
{
    double layer_params = mb->params / m->layers;
    double stored = 2 * offload_stored_bytes_per_layer(m, l);
    if (l->recompute == LAYOUT_RECOMPUTE_FULL) { /* two checkpoints and one layer recomputed */
        layout_desc whole = *l;
        whole.recompute = LAYOUT_RECOMPUTE_NONE;
        stored += memory_activation_bytes_per_layer(m, &whole);
    }
    return 2 * (2 + 2) * layer_params + stored + mb->buffers_bytes;
}

/* The stored checkpoints --offload-checkpoints moves from HBM to host DRAM:
 * every layer's (full recomputation) of every chunk in flight; the
 * recomputation's working set stays on the GPU. */
static double ckpt_hbm_bytes(const model_desc *m, const layout_desc *l,
                             const memory_breakdown *mb)
{
    if (!l->offload_ckpt_cpu)
        return 0;
    double stored = mb->chunks_in_flight * layout_layers_per_chunk(l, m) *
                    memory_activation_bytes_per_layer(m, l);
    return fmin(stored, mb->activations_bytes);
}

/* Their host DRAM copy: DeepSpeed's partition_activations (set by every
 * script that sets cpu_checkpointing, offload.h) splits each checkpoint over
 * the tensor-parallel group before the copy, so each GPU stores 1/tp of it,
 * as the copies move (estimate.c base_of); under sp the checkpoint in HBM
 * is already the GPU's sequence shard. */
static double ckpt_dram_bytes(const model_desc *m, const layout_desc *l,
                              const memory_breakdown *mb)
{
    return ckpt_hbm_bytes(m, l, mb) / (l->sp ? 1 : l->tp);
}

double offload_gpu_bytes(const model_desc *m, const layout_desc *l, const memory_breakdown *mb)
{
    if (l->offload == OFFLOAD_NONE)
        return mb->peak_bytes;
    if (l->offload_engine == OFFLOAD_ENGINE_FUYOU)
        return fuyou_gpu_bytes(m, l, mb);
    double weights = mb->weights_bytes, grads = mb->grads_bytes, opt = mb->optimizer_bytes;
    if (moves_optimizer(l)) {
        opt = 0;
        /* gradients leave as they are reduced: the GPU keeps the two
         * reduce buckets (overlap_comm double-buffers), at most all of them */
        if (l->zero >= 2)
            grads = fmin(grads, 2 * OFFLOAD_DS_REDUCE_BUCKET * 2);
    }
    if (moves_params(l))
        weights = fmin(weights, 2 * OFFLOAD_DS_MAX_LIVE_PARAMS);
    return mb->activations_bytes - ckpt_hbm_bytes(m, l, mb) + mb->buffers_bytes + weights +
           grads + opt;
}

/* Host DRAM and NVMe bytes of one GPU's offloaded state. */
static void gpu_tier_bytes(const model_desc *m, const layout_desc *l, const memory_breakdown *mb,
                           double dram_capacity, double *dram, double *nvme, int *acts_in_dram)
{
    double p = mb->params / shards(l);
    int nv = l->offload_to == OFFLOAD_TO_NVME;
    *dram = *nvme = 0;
    *acts_in_dram = 0;
    if (l->offload_engine == OFFLOAD_ENGINE_FUYOU) {
        /* SSD: fp32 master, moments, fp16 parameters and gradients; DRAM:
         * two layers of staged state; the activations of every microbatch
         * in DRAM when they fit beside it, else on the SSDs */
        double acts = layout_microbatches(l) * m->layers * offload_stored_bytes_per_layer(m, l);
        *nvme = 16 * mb->params;
        *dram = 2 * 16 * mb->params / m->layers;
        *acts_in_dram = *dram + acts <= dram_capacity;
        *(*acts_in_dram ? dram : nvme) += acts;
        return;
    }
    if (moves_optimizer(l)) {
        /* fp32 master, moments (12) and fp32 gradients (4) */
        *(nv ? nvme : dram) += 16 * p;
        if (nv) /* the optimizer swapper's pinned buffers, one sub-group each */
            *dram += OFFLOAD_DS_OPT_BUFFERS * fmin(OFFLOAD_DS_SUB_GROUP, p) * 4;
    }
    if (moves_params(l)) {
        *(nv ? nvme : dram) += 2 * p;
        if (nv)
            *dram += OFFLOAD_DS_PARAM_BUFFERS * OFFLOAD_DS_PARAM_BUFFER_SIZE * 2;
    }
}

static int gpus_on_node(const sys_node_type *node, int gpus)
{
    return gpus < node->gpus ? (gpus > 0 ? gpus : 1) : node->gpus;
}

void offload_memory(const model_desc *m, const layout_desc *l, const sys_node_type *node,
                    int gpus, const memory_breakdown *mb, double gpu_capacity_bytes,
                    offload_report *r)
{
    sys_tiers t = tiers_effective(&node->tiers, node->host_mem_bytes,
                                  node->host_mem_bw_bytes_per_s);
    int g = gpus_on_node(node, gpus);
    double dram, nvme;
    gpu_tier_bytes(m, l, mb, t.host.dram_bytes, &dram, &nvme, &r->acts_in_dram);
    r->active = l->offload != OFFLOAD_NONE;
    r->gpu_bytes = offload_gpu_bytes(m, l, mb);
    r->gpu_capacity_bytes = gpu_capacity_bytes;
    /* every GPU of the node taken to hold the worst stage's state (an upper bound) */
    r->dram_bytes = g * (dram + ckpt_dram_bytes(m, l, mb));
    r->nvme_bytes = g * nvme;
    r->dram_capacity_bytes = t.host.dram_bytes;
    r->nvme_capacity_bytes = tiers_nvme_bytes(&t);
    r->fits_hbm = r->gpu_bytes <= gpu_capacity_bytes;
    r->fits_dram = r->dram_bytes <= r->dram_capacity_bytes;
    r->fits_nvme = r->nvme_bytes <= r->nvme_capacity_bytes;
}

void offload_bw_closed(const sys_node_type *node, int gpus, offload_bw *bw)
{
    sys_tiers t = tiers_effective(&node->tiers, node->host_mem_bytes,
                                  node->host_mem_bw_bytes_per_s);
    int g = gpus_on_node(node, gpus);
    int per_switch = node->gpus_per_pcie_switch < g ? node->gpus_per_pcie_switch : g;
    double dram = tiers_dram_bw(&t) / g;
    /* GPU -> switch link (its own), switch -> CPU uplink (shared), DRAM (shared) */
    double pcie = node->pcie_bw_bytes_per_s / per_switch;
    bw->h2d = bw->d2h = fmin(pcie, dram);
    bw->nvme_read = fmin(tiers_nvme_read_bw(&t) / g, dram);
    bw->nvme_write = fmin(tiers_nvme_write_bw(&t) / g, dram);
    bw->dram = dram;
    double cores = (double)t.host.cores / g;
    bw->cpu_adam_params_per_s =
        fmin(cores * t.host.core_stream_bw_bytes_per_s, dram) / OFFLOAD_ADAM_BYTES_PER_PARAM;
    if (t.host.cpu_adam_params_per_s > 0) /* measured (tiers.h): the node's rate, shared */
        bw->cpu_adam_params_per_s = fmin(bw->cpu_adam_params_per_s, t.host.cpu_adam_params_per_s / g);
    bw->cpu_grad_pass_params_per_s =
        fmin(cores * t.host.core_stream_bw_bytes_per_s, dram) / OFFLOAD_GRAD_PASS_BYTES_PER_PARAM;
    if (t.host.cpu_grad_pass_params_per_s > 0) /* measured, as CPU Adam */
        bw->cpu_grad_pass_params_per_s =
            fmin(bw->cpu_grad_pass_params_per_s, t.host.cpu_grad_pass_params_per_s / g);
}
