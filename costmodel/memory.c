/* memory: footprint per GPU of each pipeline stage, and the fits verdict.
 * The formulas and their sources are in memory.h; the activation terms are
 * derived below, one stored tensor at a time. */
#include "memory.h"

#include <math.h>
#include <stdlib.h>

#include "layout_stages.h"
#include "memory_moe.h"
#include "schedule.h"
#include "schedule_memo.h" /* schedule_orders_view */
#include "sharding.h"

#include <stdint.h>
#include <stdio.h>

#include "units.h"

#define ACT_BYTES 2.0  /* 16-bit activations (Korthikanti et al. 2022, sec. 4.1) */
#define MASK_BYTES 1.0 /* dropout masks: one byte per element (same) */
#define LOGIT_BYTES 4.0 /* fp32 logits for the cross-entropy (same, sec. 4.3) */

#define WEIGHT_BYTES_16 2.0
#define WEIGHT_BYTES_FP8 1.0
#define GRAD_BYTES 2.0
#define OPTIMIZER_BYTES 12.0 /* fp32 master weights, Adam momentum and variance */

/* ---- activations of one transformer layer ---- */

/* One layer's stored activations for one microbatch, before any split, in
 * the three groups that tensor and sequence parallelism treat differently. */
typedef struct layer_acts {
    double outside_tp; /* replicated on every tp rank; split by sp */
    double inside_tp;  /* split by tp */
    double attn_core;  /* the attention core; split by tp, dropped by selective */
} layer_acts;

/* Korthikanti et al. 2022, sec. 4.1, for s tokens, b sequences, width h,
 * a query heads, k key/value heads of dimension d, MLP width f:
 *   outside the tensor-parallel region (their 10 s b h):
 *     LayerNorm 1 input 2sbh, QKV-projection input 2sbh, attention-output
 *     dropout mask sbh, LayerNorm 2 input 2sbh, MLP input 2sbh, MLP dropout
 *     mask sbh
 *   inside it (their 24 s b h for MHA and f = 4h):
 *     Q 2sbh, K and V 2 sb(kd) each (GQA: k heads; their 4sbh + 2sbh for
 *     Q, K and V when k = a), attention output (out-projection input) 2sbh,
 *     MLP: GELU keeps its input and output, 2sbf each (their 8sbh + 8sbh);
 *     SwiGLU keeps the gate and up outputs it multiplies, 2sbf each, and its
 *     product (the down-projection input), 2sbf
 *   attention core (their 5 a s^2 b): softmax output 2as^2b, its dropout
 *     mask as^2b, dropout output 2as^2b; with fused (flash) attention none of
 *     these is stored, only the fp32 log-sum-exp per query row, 4asb. */
/* Tokens of one sequence on one rank: context parallelism gives each of
 * its cp ranks seq_len / cp of them, so every activation term below is
 * divided by cp (Megatron-Core splits the sequence before the first layer
 * and keeps it split; the attention's own state is per query, on the rank
 * that holds it). */
static double seq_per_rank(const model_desc *m, const layout_desc *l)
{
    return (double)m->seq_len / layout_cp_of(l);
}

/* Bytes per element of what a Linear layer keeps for its weight gradient
 * (its input): under fp8 the FP8 copy its GEMM read, 1 byte (Transformer
 * Engine's Linear and LayerNormLinear save the quantized input for the
 * wgrad GEMM, transformer_engine/pytorch/module/linear.py; DeepSeek-V3's
 * report, arXiv 2412.19437 sec. 3.3.3: "we cache the activations in FP8
 * format for the backward pass of the Linear operator"); else 16-bit.
 * Norm inputs, attention's q, k, v and the activation functions' inputs
 * stay 16-bit. */
static double linear_input_bytes(const layout_desc *l)
{
    return l->dtype == MODEL_FP8 ? 1.0 : ACT_BYTES;
}

static layer_acts layer_terms(const model_desc *m, const layout_desc *l)
{
    double s = seq_per_rank(m, l), b = l->mbs, h = m->hidden, a = m->heads, f = m->ffn_hidden;
    double kv_width = (double)m->kv_heads * model_head_dim(m);
    double sbh = s * b * h, lin = linear_input_bytes(l);
    layer_acts t;
    /* the two norms' inputs; the QKV and MLP inputs (the norms' outputs) */
    t.outside_tp = ACT_BYTES * sbh * 2 + lin * sbh * 2 + MASK_BYTES * sbh * 2;
    double attention = ACT_BYTES * (sbh + 2 * s * b * kv_width) + lin * sbh; /* q k v; out-proj in */
    double fn_inputs = m->mlp == MODEL_MLP_SWIGLU ? 2 : 1; /* gate and up, or GELU's input */
    double mlp = model_is_moe(m) ? memory_moe_mlp_act_bytes(m, l, s * b, ACT_BYTES, lin)
                                 : s * b * f * (fn_inputs * ACT_BYTES + lin);
    t.inside_tp = attention + mlp;
    if (l->flash_attention)
        t.attn_core = 4.0 * a * s * b;
    else
        t.attn_core = (ACT_BYTES * 2 + MASK_BYTES) * a * s * s * b;
    return t;
}

/* Korthikanti et al. 2022, Table 2: tp splits the inside terms and the
 * attention core; sp splits the outside terms too; selective recomputation
 * drops the attention core; full recomputation keeps the layer input only,
 * 2sbh, itself split by sp (Megatron checkpoints the sequence-parallel shard). */
static double layer_bytes(const model_desc *m, const layout_desc *l, layout_recompute r)
{
    double t = l->tp, sp_div = l->sp ? t : 1.0;
    if (r == LAYOUT_RECOMPUTE_FULL)
        return ACT_BYTES * seq_per_rank(m, l) * l->mbs * m->hidden / sp_div;
    layer_acts a = layer_terms(m, l);
    double bytes = a.outside_tp / sp_div + a.inside_tp / t;
    if (r == LAYOUT_RECOMPUTE_NONE)
        bytes += a.attn_core / t;
    return bytes;
}

double memory_activation_bytes_per_layer(const model_desc *m, const layout_desc *l)
{
    return layer_bytes(m, l, l->recompute);
}

/* What recomputation rematerialises for one layer of one microbatch during
 * its backward pass: the whole layer under full recomputation (Megatron's
 * uniform method, one layer at a time), the attention core under selective. */
static double recompute_working_bytes(const model_desc *m, const layout_desc *l)
{
    if (l->recompute == LAYOUT_RECOMPUTE_FULL)
        return layer_bytes(m, l, LAYOUT_RECOMPUTE_NONE);
    if (l->recompute == LAYOUT_RECOMPUTE_SELECTIVE)
        return layer_terms(m, l).attn_core / l->tp;
    return 0;
}

/* ---- what the schedule keeps in flight ---- */

/* Forward passes run on rank `stage` before its first backward, plus the one
 * whose backward comes first, in (chunk, microbatch) units, as Megatron-LM's
 * interleaved schedule counts its warm-up (schedules.py:
 * (p - rank - 1) * 2 + (v - 1) * p, capped at m * v).  On rank 0 this is
 * v p + p - 1 chunks of L / (p v) layers = p (1 + (p - 1) / (p v)) stages'
 * worth: the factor of Narayanan et al. 2021 as Korthikanti et al. 2022,
 * sec. 4.2.3, state it. */
static int interleaved_chunks(const layout_desc *l, int stage)
{
    long long p = l->pp, v = l->vpp, total = (long long)layout_microbatches(l) * v;
    long long n = (p - stage - 1) * 2 + (v - 1) * p + 1;
    return (int)(n < total ? n : total);
}

int memory_chunks_in_flight(const layout_desc *l, int stage)
{
    int m = layout_microbatches(l), p = l->pp;
    if (l->schedule == LAYOUT_SCHEDULE_GPIPE)
        return m; /* every forward before any backward (Huang et al. 2019) */
    if (l->schedule == LAYOUT_SCHEDULE_INTERLEAVED)
        return interleaved_chunks(l, stage);
    /* 1F1B (Narayanan et al. 2021, sec. 2.2.1): p - stage - 1 warm-up
     * forwards and the one whose backward follows it */
    return p - stage < m ? p - stage : m;
}

/* Distinct microbatches among the first `chunks` forwards of the interleaved
 * order: forward k runs chunk (k / p) % v (Megatron's get_model_chunk_id),
 * and every microbatch enters through chunk 0, so count the chunk-0 ones. */
static int distinct_microbatches(const layout_desc *l, int chunks)
{
    if (l->schedule != LAYOUT_SCHEDULE_INTERLEAVED)
        return chunks;
    int count = 0;
    for (int k = 0; k < chunks; k++)
        count += (k / l->pp) % l->vpp == 0;
    return count;
}

/* The first stage keeps the input-embedding dropout mask, sbh bytes (split
 * by sp), per microbatch in flight; the last keeps the final-norm input and
 * the output-layer input (2sbh each, split by sp) and the fp32 logits,
 * 4 s b vocab / tp (vocab-parallel output), for the microbatches whose
 * forward on the last chunk awaits its backward: all m under GPipe, one
 * under 1F1B and interleaving (Korthikanti et al. 2022, sec. 4.3). */
static double first_edge_bytes_per_mb(const model_desc *m, const layout_desc *l)
{
    double sp_div = l->sp ? l->tp : 1.0;
    return MASK_BYTES * seq_per_rank(m, l) * l->mbs * m->hidden / sp_div;
}

static double last_edge_bytes_per_mb(const model_desc *m, const layout_desc *l)
{
    double sb = seq_per_rank(m, l) * l->mbs, sp_div = l->sp ? l->tp : 1.0;
    return 2 * ACT_BYTES * sb * m->hidden / sp_div + LOGIT_BYTES * sb * m->vocab / l->tp;
}

static double edge_bytes(const model_desc *m, const layout_desc *l, int stage, int mb_in_flight)
{
    double bytes = 0;
    if (stage == 0)
        bytes += first_edge_bytes_per_mb(m, l) * mb_in_flight;
    if (stage == l->pp - 1) {
        int last = l->schedule == LAYOUT_SCHEDULE_GPIPE ? layout_microbatches(l) : 1;
        bytes += last_edge_bytes_per_mb(m, l) * last;
    }
    return bytes;
}

double memory_unit_bytes(const model_desc *m, const layout_desc *l, int stage, int chunk)
{
    double bytes =
        layout_stage_chunk_layers(l, m, stage) * memory_activation_bytes_per_layer(m, l);
    if (stage == 0 && chunk == 0)
        bytes += first_edge_bytes_per_mb(m, l);
    if (stage == l->pp - 1 && chunk == l->vpp - 1)
        bytes += last_edge_bytes_per_mb(m, l);
    return bytes;
}

/* After B, W still reads each linear layer's input X and output gradient
 * dY (dW = X^T dY; Qi et al. 2024, sec. 2), 16-bit, split by tp (the
 * replicated ones by sp): X of qkv and MLP-up (the norms' outputs), of the
 * projection (the attention output) and MLP-down (the activation's
 * output); dY of qkv (q, k and v widths), the projection, MLP-up (two
 * halves under SwiGLU) and MLP-down.  For GPT (ffn 4h, MHA, no sp, tp 1)
 * that is 32 sbh: sail-sg's w_mem_approx (runtime.py). */
double memory_wpending_bytes_per_layer(const model_desc *m, const layout_desc *l)
{
    double tokens = seq_per_rank(m, l) * l->mbs, t = l->tp, sp_div = l->sp ? t : 1.0;
    double h = m->hidden, qkv = h + 2.0 * m->kv_heads * model_head_dim(m);
    double up = (m->mlp == MODEL_MLP_SWIGLU ? 2.0 : 1.0) * m->ffn_hidden;
    double x = 2 * h / sp_div + h / t + (double)m->ffn_hidden / t;
    double dy = qkv / t + h / sp_div + up / t + h / sp_div;
    return ACT_BYTES * tokens * (x + dy);
}

/* Split-backward schedules: the peak of rank `stage`'s own order (F adds a
 * chunk's activations, B frees all but W's inputs, W the rest).  zb-auto's
 * order depends on measured times; its memory limit is zb-h1's, and so is
 * the order counted here. */
static double split_activation_bytes(const model_desc *m, const layout_desc *l, int stage,
                                     const schedule_unit *all, int *units)
{
    int n = schedule_units(l), chunks = schedule_chunks(l);
    double act[2], wpend[2];
    for (int c = 0; c < chunks && c < 2; c++) {
        int at_stage, at_chunk;
        schedule_position(l, schedule_vstage(l, stage, c), &at_stage, &at_chunk);
        act[c] = memory_unit_bytes(m, l, at_stage, at_chunk);
        wpend[c] = fmin(act[c], layout_stage_chunk_layers(l, m, at_stage) *
                                    memory_wpending_bytes_per_layer(m, l));
    }
    return schedule_peak_activation(l, all + (size_t)stage * n, act, wpend, units);
}

/* Every rank's order of a split-backward layout (NULL for the others), in
 * this thread's view (schedule_memo.h): not freed, valid until the next. */
static const schedule_unit *split_orders(const layout_desc *l)
{
    return schedule_splits_backward(l) ? schedule_orders_view(l) : NULL;
}

double memory_recompute_working_bytes(const model_desc *m, const layout_desc *l)
{
    return recompute_working_bytes(m, l);
}

/* ---- model state ---- */

/* Norms and the biases of row-parallel layers (attention output, MLP down)
 * are replicated on every tp rank; everything else in a layer is split. */
static double layer_replicated(const model_desc *m)
{
    return 2 * model_final_norm_params(m) + (m->linear_bias ? 2.0 * m->hidden : 0);
}

static double layer_params_per_rank(const model_desc *m, int tp)
{
    double replicated = layer_replicated(m);
    return (model_params_per_layer(m) - replicated) / tp + replicated;
}

/* The rank holding the first (embedding) and the last (output layer)
 * virtual stage: 0 and pp - 1, but 0 for both under the V-shapes; under
 * dualpipe ranks 0 and pp - 1 each hold both (one per direction). */
static void edge_ranks(const layout_desc *l, int stage, int *first, int *last)
{
    if (l->schedule == LAYOUT_SCHEDULE_DUALPIPE) {
        *first = *last = stage == 0 || stage == l->pp - 1;
        return;
    }
    *first = schedule_vstage_rank(l, 0) == stage;
    *last = schedule_vstage_rank(l, schedule_vstages(l) - 1) == stage;
}

/* Layers of every chunk rank `stage` holds, each its own stage's count
 * (layout_stages.h): dualpipe keeps two stages per rank, one per direction. */
static int rank_layers(const model_desc *m, const layout_desc *l, int stage)
{
    int layers = 0;
    for (int c = 0; c < schedule_chunks(l); c++) {
        int at_stage, at_chunk;
        schedule_position(l, schedule_vstage(l, stage, c), &at_stage, &at_chunk);
        layers += layout_stage_chunk_layers(l, m, at_stage);
    }
    return layers;
}

double memory_stage_params(const model_desc *m, const layout_desc *l, int stage)
{
    double params = model_is_moe(m) /* experts over ep x etp, dense layers (memory_moe.h) */
                        ? memory_moe_layer_params(m, l, stage, layer_replicated(m))
                        : rank_layers(m, l, stage) * layer_params_per_rank(m, l->tp);
    double table = (double)m->vocab * m->hidden / l->tp; /* vocab-parallel */
    int first, last;
    edge_ranks(l, stage, &first, &last);
    if (first)
        params += table + (m->pos == MODEL_POS_LEARNED ? (double)m->seq_len * m->hidden : 0);
    if (last) {
        params += model_final_norm_params(m);
        if (!(m->tied_embeddings && first)) /* tied, on another rank: the last stage's copy */
            params += table;
    }
    return params;
}

/* ZeRO-3 gathers one unit at a time: a transformer layer, or the
 * vocab-parallel embedding / output table on the edge stages (FSDP wraps
 * each block and the embeddings as their own units); the largest one
 * bounds the gathered working set. */
static double largest_unit_params(const model_desc *m, const layout_desc *l, int stage)
{
    double unit = layer_params_per_rank(m, l->tp), table = (double)m->vocab * m->hidden / l->tp;
    int first, last;
    edge_ranks(l, stage, &first, &last);
    return (first || last) && table > unit ? table : unit;
}

static double buffers_bytes(const layout_desc *l)
{
    int dpc = layout_dp_cp(l); /* gradients are reduced over dp x cp */
    int comms = (l->tp > 1) + (l->pp > 1) + (dpc > 1) + (layout_cp_of(l) > 1);
    return comms * MEMORY_NCCL_COMM_BYTES + (dpc > 1 ? MEMORY_GRAD_BUCKETS_BYTES : 0);
}

/* ---- per stage and peak ---- */

int memory_per_stage(const model_desc *m, const layout_desc *l, int stage,
                     memory_breakdown *out, cs_err *err)
{
    if (layout_validate(l, m, 0, 0, err) != 0)
        return -1;
    if (stage < 0 || stage >= l->pp)
        return cs_fail(err, "memory: stage %d is not a pipeline stage of pp %d (stages 0 to %d)",
                       stage, l->pp, l->pp - 1);
    memory_per_stage_valid(m, l, stage, out);
    return 0;
}

static void stage_breakdown(const model_desc *m, const layout_desc *l, int stage,
                            const schedule_unit *orders, memory_breakdown *out);

void memory_per_stage_valid(const model_desc *m, const layout_desc *l, int stage,
                            memory_breakdown *out)
{
    stage_breakdown(m, l, stage, split_orders(l), out);
}

void memory_all_stages_valid(const model_desc *m, const layout_desc *l, memory_breakdown *out)
{
    const schedule_unit *orders = split_orders(l); /* once for every stage */
    for (int s = 0; s < l->pp; s++)
        stage_breakdown(m, l, s, orders, &out[s]);
}

static void stage_breakdown(const model_desc *m, const layout_desc *l, int stage,
                            const schedule_unit *orders, memory_breakdown *out)
{
    memory_breakdown b = {0};
    b.params = memory_stage_params(m, l, stage);
    double weight_bytes = l->dtype == MODEL_FP8 ? WEIGHT_BYTES_FP8 : WEIGHT_BYTES_16;
    sharding_state st = sharding_state_bytes(l, b.params, weight_bytes, GRAD_BYTES,
                                             OPTIMIZER_BYTES);
    b.weights_bytes = st.weights_bytes + sharding_gathered_bytes(l, largest_unit_params(m, l, stage),
                                                                 b.params, weight_bytes, GRAD_BYTES);
    b.grads_bytes = st.grads_bytes;
    /* experts' optimizer state over their own data-parallel group (memory_moe.h) */
    double experts = memory_moe_expert_params(m, l, stage);
    b.optimizer_bytes = experts > 0 ? (b.params - experts) / b.params * st.optimizer_bytes +
                                          experts * OPTIMIZER_BYTES / (l->zero ? layout_edp_of(l) : 1)
                                    : st.optimizer_bytes;
    if (orders) {
        b.activations_bytes = split_activation_bytes(m, l, stage, orders, &b.chunks_in_flight) +
                              recompute_working_bytes(m, l);
        b.microbatches_in_flight = b.chunks_in_flight;
    } else {
        b.chunks_in_flight = memory_chunks_in_flight(l, stage);
        b.microbatches_in_flight = distinct_microbatches(l, b.chunks_in_flight);
        b.activations_bytes = b.chunks_in_flight * layout_stage_chunk_layers(l, m, stage) *
                                  memory_activation_bytes_per_layer(m, l) +
                              edge_bytes(m, l, stage, b.microbatches_in_flight) +
                              recompute_working_bytes(m, l);
    }
    b.buffers_bytes = buffers_bytes(l);
    b.peak_bytes = b.weights_bytes + b.grads_bytes + b.optimizer_bytes + b.activations_bytes +
                   b.buffers_bytes;
    *out = b;
}

double memory_usable_bytes(const dev_type *dev)
{
    double vendor_gib = dev->memory_bytes / 1e9;
    return vendor_gib * 1024.0 * 1024 * 1024 * MEMORY_DRIVER_FRACTION -
           MEMORY_CONTEXT_RESERVE_BYTES;
}

int memory_peak(const model_desc *m, const layout_desc *l, const dev_type *dev,
                memory_breakdown *worst, int *worst_stage, int *fits, cs_err *err)
{
    if (layout_validate(l, m, 0, 0, err) != 0)
        return -1;
    memory_breakdown *all = malloc(sizeof *all * (size_t)l->pp);
    if (!all)
        abort();
    memory_all_stages_valid(m, l, all);
    int at = 0;
    for (int stage = 1; stage < l->pp; stage++)
        if (all[stage].peak_bytes > all[at].peak_bytes)
            at = stage;
    memory_breakdown best = all[at];
    free(all);
    if (worst)
        *worst = best;
    if (worst_stage)
        *worst_stage = at;
    if (fits)
        *fits = best.peak_bytes <= memory_usable_bytes(dev);
    return 0;
}

/* "1.23 GiB" for a byte count held in a double. */
static const char *size_text(double bytes, char *buf, int n)
{
    uint64_t whole = bytes <= 0 ? 0 : bytes >= 1.8e19 ? UINT64_MAX : (uint64_t)bytes;
    units_format_size(whole, buf, n);
    return buf;
}

int memory_require_fit(const model_desc *m, const layout_desc *l, const dev_type *dev,
                       cs_err *err)
{
    memory_breakdown b;
    int stage, fits;
    if (memory_peak(m, l, dev, &b, &stage, &fits, err) != 0)
        return -1;
    if (fits)
        return 0;
    char desc[160], peak[32], usable[32], w[32], g[32], o[32], a[32], c[32];
    return cs_fail(err,
                   "memory: %s does not fit %s: pipeline stage %d (0-based, of %d) needs %s per GPU (weights %s, "
                   "gradients %s, optimizer %s, activations %s, buffers %s) but %s is usable; "
                   "more tp or pp, a higher zero stage, or recomputation would lower it",
                   layout_describe(l, desc, sizeof desc), dev->name, stage, l->pp,
                   size_text(b.peak_bytes, peak, sizeof peak),
                   size_text(b.weights_bytes, w, sizeof w), size_text(b.grads_bytes, g, sizeof g),
                   size_text(b.optimizer_bytes, o, sizeof o),
                   size_text(b.activations_bytes, a, sizeof a),
                   size_text(b.buffers_bytes, c, sizeof c),
                   size_text(memory_usable_bytes(dev), usable, sizeof usable));
}
