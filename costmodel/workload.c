/* workload: operators of a transformer layer and their sums per chunk (see
 * workload.h for the conventions). */
#include "workload.h"

#include <math.h>
#include <string.h>

#include "layout_ep.h"
#include "layout_stages.h"
#include "memory.h"
#include "sharding.h"
#include "model_moe.h"

#define ACT_BYTES 2.0  /* activations stay 16-bit under every dtype (memory.h) */
#define MASK_BYTES 1.0 /* a dropout mask element */

/* Shapes every operator needs, per GPU. */
typedef struct shape {
    double b, s, h, t, tokens, tokens_sp, heads_t, d, qkv_n, ffn_t, vocab_t, o_in;
    long long seq_n, score_batch_n; /* s and b x heads/tp as integers, for the
                                       code's shape conditions (softmax_bytes) */
} shape;

static shape shape_of(const model_desc *m, const layout_desc *l)
{
    shape x;
    x.b = l->mbs;
    x.s = (double)m->seq_len / layout_cp_of(l); /* context parallelism: this rank's tokens */
    x.h = m->hidden;
    x.t = l->tp;
    x.tokens = x.b * x.s;
    x.tokens_sp = l->sp ? x.tokens / x.t : x.tokens;
    x.heads_t = (double)m->heads / x.t;
    x.d = model_head_dim(m);
    x.qkv_n = ((double)m->heads * x.d + 2.0 * m->kv_heads * x.d) / x.t; /* q, k, v widths */
    x.o_in = (double)m->heads * model_v_head_dim(m) / x.t; /* the output projection's input */
    if (model_is_mla(m)) /* the latent down- and up-projections as one multiply of their FLOPs */
        x.qkv_n = ((double)model_attention_weights_count(m) / x.h - x.o_in * x.t) / x.t;
    x.ffn_t = (double)m->ffn_hidden / x.t;
    x.vocab_t = (double)m->vocab / x.t;
    x.seq_n = (long long)m->seq_len / layout_cp_of(l);
    x.score_batch_n = (long long)l->mbs * (m->heads / l->tp);
    return x;
}

typedef struct ctx {
    const dev_type *dev;
    const opcost_eff *e;
    model_dtype dtype;
    workload_op *ops;
    int n;
} ctx;

/* A matrix multiply (m x k) by (k x n) and its two backward multiplies. */
static workload_op *add_gemm(ctx *c, const char *name, double m, double n, double k)
{
    workload_op *o = &c->ops[c->n++];
    o->name = name;
    o->fwd_flops = 2 * m * n * k;
    o->fwd_s = opcost_gemm_s(c->dev, c->e, c->dtype, m, n, k, 1, ACT_BYTES);
    o->bwd_weight_s = opcost_gemm_s(c->dev, c->e, c->dtype, k, n, m, 1, ACT_BYTES); /* dW */
    o->bwd_s = opcost_gemm_s(c->dev, c->e, c->dtype, m, k, n, 1, ACT_BYTES) + o->bwd_weight_s;
    o->attention_core = 0;
    return o;
}

/* A streaming kernel moving fwd_bytes forward and bwd_bytes backward. */
static workload_op *add_stream(ctx *c, const char *name, double fwd_bytes, double bwd_bytes,
                               int core)
{
    workload_op *o = &c->ops[c->n++];
    o->name = name;
    o->fwd_flops = 0;
    o->fwd_s = opcost_membound_s(c->dev, c->e, fwd_bytes);
    o->bwd_s = opcost_membound_s(c->dev, c->e, bwd_bytes);
    o->bwd_weight_s = 0;
    o->attention_core = core;
    return o;
}

/* The backward add where a residual branch starts: the block's input feeds
 * both the norm and the skip, so autograd adds the two gradients (read 2,
 * write 1), a kernel of its own after the norm's backward (on the norm's
 * op); nothing forward. */
static void add_residual_grad(ctx *c, workload_op *norm, double act_bytes)
{
    norm->bwd_s += opcost_membound_s(c->dev, c->e, 3 * act_bytes);
}

/* A linear's bias outside its GEMM (framework.h, issue 15), on the linear's
 * op o, `outputs` output elements per microbatch: forward, its own
 * add pass (read 2, write 2 bytes per element) where the version runs one;
 * backward, the reduction of the output gradient over the tokens (read 2),
 * a weight gradient, where it is a kernel of its own. */
static void add_bias(ctx *c, workload_op *o, const framework_profile *fw, int has_bias,
                     int own_add, double outputs)
{
    if (!has_bias)
        return;
    if (own_add)
        o->fwd_s += opcost_membound_s(c->dev, c->e, outputs * 2 * ACT_BYTES);
    if (fw->bias_grad_pass) {
        double grad_s = opcost_membound_s(c->dev, c->e, outputs * ACT_BYTES);
        o->bwd_s += grad_s;
        o->bwd_weight_s += grad_s;
    }
}

/* FlashAttention-style fused kernel over all heads of the GPU. */
static void add_flash(ctx *c, const shape *x, double model_flops)
{
    double qkvo_bytes = x->tokens * (x->qkv_n + x->h / x->t) * ACT_BYTES;
    double run_flops = model_flops / 2; /* causal: the upper triangle is skipped */
    workload_op *o = &c->ops[c->n++];
    o->name = "attention (fused)";
    o->fwd_flops = model_flops;
    o->fwd_s = opcost_attention_s(c->dev, c->e, c->dtype, run_flops, qkvo_bytes);
    o->bwd_s = opcost_attention_s(c->dev, c->e, c->dtype, 2.5 * run_flops, 2 * qkvo_bytes);
    o->bwd_weight_s = 0; /* no weights */
    o->attention_core = 1;
}

/* Bytes per score the softmax moves forward and backward (framework.h):
 * read 2 and write 2, then read 4 and write 2; where the version's causal
 * kernel runs (2021: 16 < s <= 2048, s % 4 == 0, b x heads % 4 == 0), the
 * reads only of the unmasked share (s + 1) / 2s, the writes whole.  Where
 * that version's condition fails, its code takes the other branch of
 * FusedScaleMaskSoftmax.forward (aed2f75 megatron/model/fused_softmax.py; fp32
 * forced by --apply-query-key-layer-scaling, arguments.py): input.float()
 * r2 w4, * scale r4 w4, masked_fill_ r4 w4, Softmax r4 w4, .half() r4 w2 =
 * 36; backward, autograd's reverse of each: cast r2 w4, softmax r8 w4,
 * masked_fill r4 w4, scale r4 w4, cast r4 w2 = 40 (the mask, one per sample
 * and not per head, left out). */
static void softmax_bytes(const framework_profile *fw, long long batch_n, long long s_n,
                          double *fwd, double *bwd)
{
    int condition = s_n > 16 && s_n <= 2048 && s_n % 4 == 0 && batch_n % 4 == 0;
    double s = (double)s_n;
    if (fw->causal_softmax_kernel && !condition) {
        *fwd = 2 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 2;
        *bwd = 2 + 4 + 8 + 4 + 4 + 4 + 4 + 4 + 4 + 2;
        return;
    }
    double read_share = fw->causal_softmax_kernel ? (s + 1) / (2 * s) : 1;
    *fwd = ACT_BYTES * (read_share + 1);
    *bwd = ACT_BYTES * (2 * read_share + 1);
}

/* The version's layout copies around the batched multiplies (framework.h),
 * each a pass of its own: forward, the context's permute-contiguous (read
 * and write of T x h/tp) on the PV op; backward, the scaling of the query
 * and the key gradient (read and write of T x h/tp each) on QK^T; 2019 also
 * divides the query and the key forward (the same bytes each). */
static void add_layout_copies(ctx *c, int copies, double ctx_bytes, workload_op *qk,
                              workload_op *pv)
{
    double pass_s = opcost_membound_s(c->dev, c->e, 2 * ctx_bytes);
    pv->fwd_s += pass_s;
    qk->bwd_s += 2 * pass_s;
    if (copies == FRAMEWORK_COPIES_DIVIDE)
        qk->fwd_s += 2 * pass_s;
}

/* Megatron-LM's unfused attention: the s x s scores are materialised. */
static void add_unfused_attention(ctx *c, const shape *x, const framework_profile *fw)
{
    double batch = x->b * x->heads_t, s = x->s, d = x->d;
    double scores = batch * s * s, soft_fwd, soft_bwd;
    softmax_bytes(fw, x->score_batch_n, x->seq_n, &soft_fwd, &soft_bwd);
    workload_op *qk = &c->ops[c->n++];
    qk->name = "attention QK^T";
    qk->fwd_flops = 2 * batch * s * s * d;
    qk->fwd_s = opcost_score_gemm_s(c->dev, c->e, c->dtype, s, s, d, batch, ACT_BYTES);
    qk->bwd_s = 2 * opcost_score_gemm_s(c->dev, c->e, c->dtype, s, d, s, batch, ACT_BYTES);
    qk->bwd_weight_s = 0; /* activations times activations: no weights */
    qk->attention_core = 1;
    add_stream(c, "softmax", scores * soft_fwd, scores * soft_bwd, 1);
    add_stream(c, "attention dropout", scores * (2 * ACT_BYTES + MASK_BYTES),
               scores * (2 * ACT_BYTES + MASK_BYTES), 1);
    workload_op *pv = &c->ops[c->n++];
    pv->name = "attention PV";
    pv->fwd_flops = 2 * batch * s * s * d;
    pv->fwd_s = opcost_score_gemm_s(c->dev, c->e, c->dtype, s, d, s, batch, ACT_BYTES);
    pv->bwd_s = opcost_score_gemm_s(c->dev, c->e, c->dtype, s, s, d, batch, ACT_BYTES) +
                opcost_score_gemm_s(c->dev, c->e, c->dtype, s, d, s, batch, ACT_BYTES);
    pv->bwd_weight_s = 0;
    pv->attention_core = 1;
    if (fw->attn_layout_copies != FRAMEWORK_COPIES_NONE)
        add_layout_copies(c, fw->attn_layout_copies, batch * s * d * ACT_BYTES, qk, pv);
}

/* A layer norm's backward beyond the one read of the output gradient and
 * the input and the write of the input gradient (framework.h): where the
 * version's fused kernel first reads both for gamma and beta, that read and
 * the kernel reducing their partial sums, on the norm's op. */
static void add_norm_rereads(ctx *c, workload_op *norm, const framework_profile *fw,
                             double act_bytes)
{
    if (fw->norm_bwd_rereads)
        norm->bwd_s += opcost_membound_s(c->dev, c->e, 2 * act_bytes) + c->e->kernel_gap_s;
}

/* ---- mixture of experts (model_moe.h, layout_ep.h) ---- */

/* A grouped GEMM: `batch` experts each (m x k) by (k x n), and its backward. */
static void add_grouped_gemm(ctx *c, const char *name, double batch, double m, double n, double k)
{
    workload_op *o = &c->ops[c->n++];
    o->name = name;
    o->fwd_flops = 2 * batch * m * n * k;
    o->fwd_s = opcost_gemm_s(c->dev, c->e, c->dtype, m, n, k, batch, ACT_BYTES);
    o->bwd_weight_s = opcost_gemm_s(c->dev, c->e, c->dtype, k, n, m, batch, ACT_BYTES);
    o->bwd_s = opcost_gemm_s(c->dev, c->e, c->dtype, m, k, n, batch, ACT_BYTES) + o->bwd_weight_s;
    o->attention_core = 0;
}

/* The MoE block of one layer on one GPU: router (every rank routes the
 * tokens it holds: T / tp under the sequence parallelism Megatron-Core
 * requires of MoE with tp > 1), permutation of the token slots, the local
 * experts as grouped GEMMs and the shared experts as a tensor-parallel
 * MLP.  A GPU of an etp group gathers the slots of its etp ranks: per
 * local expert m_e = (T / tp) etp topk ep / experts slots, times the
 * slowest rank's load and the share kept after capacity dropping. */
static void add_moe_block(ctx *c, const model_desc *m, const layout_desc *l, const shape *x)
{
    int swiglu = m->mlp == MODEL_MLP_SWIGLU, ep = layout_ep_of(l), etp = layout_etp_of(l);
    double dispatch = x->tokens / x->t;                 /* tokens this GPU routes */
    double local = (double)m->moe_experts / ep;         /* experts on this GPU */
    double per_expert = dispatch * etp * m->moe_topk * ep / m->moe_experts *
                        layout_ep_imbalance(m, l) * layout_ep_kept_share(m, l);
    double slots = per_expert * local, f = (double)m->moe_ffn_hidden / etp;
    add_gemm(c, "router", x->tokens_sp, m->moe_experts, x->h);
    add_stream(c, "moe permute", 2 * slots * x->h * ACT_BYTES, 2 * slots * x->h * ACT_BYTES, 0);
    add_grouped_gemm(c, "experts up", local, per_expert, (swiglu ? 2 : 1) * f, x->h);
    add_stream(c, swiglu ? "experts swiglu" : "experts gelu", (swiglu ? 3 : 2) * slots * f * ACT_BYTES,
               (swiglu ? 5 : 3) * slots * f * ACT_BYTES, 0);
    add_grouped_gemm(c, "experts down", local, per_expert, x->h, f);
    add_stream(c, "moe unpermute", 2 * slots * x->h * ACT_BYTES, 2 * slots * x->h * ACT_BYTES, 0);
    if (m->moe_shared_ffn_hidden) {
        double fs = (double)m->moe_shared_ffn_hidden / x->t;
        add_gemm(c, "shared up", x->tokens, (swiglu ? 2 : 1) * fs, x->h);
        add_gemm(c, "shared down", x->tokens, x->h, fs);
    }
}

int workload_layer_ops(const model_desc *m, const layout_desc *l, const dev_type *dev,
                       const opcost_eff *e, workload_op *ops)
{
    shape x = shape_of(m, l);
    ctx c = {dev, e, l->dtype, ops, 0};
    double act_sp = x.tokens_sp * x.h * ACT_BYTES;        /* one replicated activation */
    double drop_fwd = x.tokens_sp * x.h * (3 * ACT_BYTES + MASK_BYTES) ;
    double drop_bwd = x.tokens_sp * x.h * (2 * ACT_BYTES + MASK_BYTES);
    int swiglu = m->mlp == MODEL_MLP_SWIGLU;
    double act_t = x.tokens * x.ffn_t * ACT_BYTES;         /* one MLP-inner tensor */

    const framework_profile *fw = framework_of(l->framework); /* its own passes */
    int own_add = fw->bias_add_pass == FRAMEWORK_BIAS_ALL; /* proj and MLP adds too */

    workload_op *norm = add_stream(&c, "norm1", 2 * act_sp, 3 * act_sp, 0);
    add_norm_rereads(&c, norm, fw, act_sp);
    add_residual_grad(&c, norm, act_sp);
    workload_op *qkv = add_gemm(&c, "qkv", x.tokens, x.qkv_n, x.h);
    add_bias(&c, qkv, fw, m->linear_bias || m->qkv_bias,
             fw->bias_add_pass != FRAMEWORK_BIAS_FUSED, x.tokens * x.qkv_n);
    /* the rank's share of the whole sequence's attention: its tokens against
     * all S = cp x s keys (model_attn_core_flops_per_token counts the model's
     * whole sequence: 4 b s S h / t for MHA = 4 b S^2 h / (t cp); ring: its
     * S / cp queries, causal halves balanced by chunk pairing; Ulysses: all
     * S tokens of heads / (t cp) heads); MLA's own head widths (model_moe.h) */
    if (l->flash_attention)
        add_flash(&c, &x, x.tokens * model_attn_core_flops_per_token(m) / x.t);
    else
        add_unfused_attention(&c, &x, fw);
    if (!l->flash_attention && fw->attn_layout_copies != FRAMEWORK_COPIES_NONE)
        qkv->bwd_s += opcost_membound_s(dev, e, 2 * x.tokens * x.qkv_n * ACT_BYTES); /* split */
    workload_op *proj = add_gemm(&c, "proj", x.tokens, x.h, x.o_in);
    add_bias(&c, proj, fw, m->linear_bias, own_add, x.tokens_sp * x.h); /* after its collective */
    add_stream(&c, "dropout+residual1", drop_fwd, drop_bwd, 0);
    norm = add_stream(&c, "norm2", 2 * act_sp, 3 * act_sp, 0);
    add_norm_rereads(&c, norm, fw, act_sp);
    add_residual_grad(&c, norm, act_sp);
    if (model_is_moe(m)) {
        add_moe_block(&c, m, l, &x);
    } else {
        workload_op *up = add_gemm(&c, "mlp_up", x.tokens, (swiglu ? 2 : 1) * x.ffn_t, x.h);
        add_bias(&c, up, fw, m->linear_bias, own_add, x.tokens * (swiglu ? 2 : 1) * x.ffn_t);
        add_stream(&c, swiglu ? "swiglu" : "gelu", (swiglu ? 3 : 2) * act_t,
                   (swiglu ? 5 : 3) * act_t, 0);
        workload_op *down = add_gemm(&c, "mlp_down", x.tokens, x.h, x.ffn_t);
        add_bias(&c, down, fw, m->linear_bias, own_add, x.tokens_sp * x.h);
    }
    add_stream(&c, "dropout+residual2", drop_fwd, drop_bwd, 0);
    return c.n;
}

/* Tensor-parallel collectives of one pass over `layers` layers. */
static workload_tp tp_of(const layout_desc *l, int collectives_per_pass)
{
    workload_tp tp = {0, 0, 0};
    if (l->tp == 1)
        return tp;
    if (l->sp) {
        tp.allgather = collectives_per_pass;
        tp.reducescatter = collectives_per_pass;
    } else {
        tp.allreduce = collectives_per_pass;
    }
    return tp;
}

/* Seconds of adding one microbatch's gradients of `params` into the
 * accumulated ones outside the GEMMs (framework_accum_bytes: from_gemm, a
 * linear layer's weights, else the embedding lookup's table), or 0;
 * averaged over the iteration's microbatches where the first one's is
 * taken, not added (framework_accum_share). */
static double accum_s(const layout_desc *l, const dev_type *dev, const opcost_eff *e,
                      double params, int from_gemm)
{
    double bytes = params * framework_accum_bytes(l->framework, l->dtype != MODEL_FP16, from_gemm);
    double share = framework_accum_share(l->framework, l->dtype != MODEL_FP16,
                                         layout_microbatches(l));
    return bytes > 0 ? share * opcost_membound_s(dev, e, bytes) : 0;
}

/* Backward seconds of one layer's tensor-parallel collectives that the
 * weight-gradient GEMMs can hide (framework.h: 2022's asynchronous input-
 * gradient all-reduce of the column-parallel QKV and MLP-up layers): the
 * wgrad time of each, one collective under each. */
static void overlap_windows(const layout_desc *l, const workload_op *ops, int n,
                            workload_chunk *out)
{
    out->tp_bwd_windows = 0;
    if (!framework_of(l->framework)->tp_bwd_overlap || l->tp == 1)
        return;
    for (int i = 0; i < n && out->tp_bwd_windows < 2; i++)
        if (strcmp(ops[i].name, "qkv") == 0 || strcmp(ops[i].name, "mlp_up") == 0)
            out->tp_bwd_window_s[out->tp_bwd_windows++] = ops[i].bwd_weight_s;
}

static void add_layers(const model_desc *m, const layout_desc *l, const dev_type *dev,
                       const opcost_eff *e, int layers, workload_chunk *out)
{
    workload_op ops[WORKLOAD_MAX_OPS];
    int n = workload_layer_ops(m, l, dev, e, ops);
    overlap_windows(l, ops, n, out);
    out->tp_bwd_layers = layers;
    out->bwd_s += layers * accum_s(l, dev, e, model_params_per_layer(m) / l->tp, 1);
    out->cp_layers = layers;
    for (int i = 0; i < n; i++) {
        if (ops[i].attention_core) { /* what the ring's transfers hide under */
            out->attn_fwd_s += ops[i].fwd_s;
            out->attn_bwd_s += ops[i].bwd_s;
        }
        int again = l->recompute == LAYOUT_RECOMPUTE_FULL ||
                    (l->recompute == LAYOUT_RECOMPUTE_SELECTIVE && ops[i].attention_core);
        out->fwd_s += layers * ops[i].fwd_s;
        out->bwd_s += layers * ops[i].bwd_s;
        out->bwd_weight_s += layers * ops[i].bwd_weight_s;
        out->model_flops += layers * 3 * ops[i].fwd_flops;
        if (again) {
            out->recompute_s += layers * ops[i].fwd_s;
            out->recompute_flops += layers * ops[i].fwd_flops;
        }
    }
    out->tp_fwd = tp_of(l, 2 * layers);
    out->tp_bwd = tp_of(l, 2 * layers);
    /* sequence parallelism keeps only the sequence shard of the QKV and
     * MLP-up inputs: the backward gathers each again for its weight
     * gradient (Megatron-LM mpu/layers.py since 2022, Megatron-Core) */
    if (l->sp && l->tp > 1)
        out->tp_bwd.allgather += 2 * layers;
    out->tp_recompute = tp_of(l, l->recompute == LAYOUT_RECOMPUTE_FULL ? 2 * layers : 0);
    int a2a = model_is_moe(m) && layout_ep_of(l) > 1 ? 2 * layers : 0; /* dispatch, combine */
    out->ep_a2a_fwd = out->ep_a2a_bwd = a2a;
    out->ep_a2a_rec = l->recompute == LAYOUT_RECOMPUTE_FULL ? a2a : 0;
}

/* The first moe_dense_layers layers of an MoE model are dense: on the
 * virtual stage holding `dense` of them, their operators replace the MoE
 * layer's (add_layers counted every layer as MoE). */
static void swap_dense_layers(const model_desc *m, const layout_desc *l, const dev_type *dev,
                              const opcost_eff *e, int dense, workload_chunk *out)
{
    model_desc plain = *m;
    plain.moe_experts = 0; /* the same model with its dense MLP */
    workload_chunk moe = {0}, dense_ops = {0};
    add_layers(m, l, dev, e, dense, &moe);
    add_layers(&plain, l, dev, e, dense, &dense_ops);
    out->fwd_s += dense_ops.fwd_s - moe.fwd_s;
    out->bwd_s += dense_ops.bwd_s - moe.bwd_s;
    out->recompute_s += dense_ops.recompute_s - moe.recompute_s;
    out->bwd_weight_s += dense_ops.bwd_weight_s - moe.bwd_weight_s;
    out->model_flops += dense_ops.model_flops - moe.model_flops;
    out->recompute_flops += dense_ops.recompute_flops - moe.recompute_flops;
    out->ep_a2a_fwd -= moe.ep_a2a_fwd;
    out->ep_a2a_bwd -= moe.ep_a2a_bwd;
    out->ep_a2a_rec -= moe.ep_a2a_rec;
}

/* workload.h; each pass a kernel of its own (framework.c for the sources). */
double workload_emb_grad_s(const model_desc *m, const layout_desc *l, const dev_type *dev,
                           const opcost_eff *e)
{
    const framework_profile *fw = framework_of(l->framework);
    double table = (double)m->vocab * m->hidden / l->tp, s = 0;
    if (fw->emb_grad_bytes_per_param > 0)
        s += opcost_membound_s(dev, e, table * fw->emb_grad_bytes_per_param);
    int fused = framework_wgrad_fused(l->framework, l->dtype != MODEL_FP16); /* no sum */
    if (fw->tied_grad_sum && !fused && m->tied_embeddings && l->pp == 1)
        s += opcost_membound_s(dev, e, table * 3 * ACT_BYTES);
    return s;
}

/* Input embedding (vocab-parallel lookup, positions, dropout). */
static void add_embedding(const model_desc *m, const layout_desc *l, const dev_type *dev,
                          const opcost_eff *e, workload_chunk *out)
{
    shape x = shape_of(m, l);
    double act = x.tokens * x.h * ACT_BYTES;
    double fwd = 2 * act + (m->pos == MODEL_POS_LEARNED ? 3 * act : 0) +
                 x.tokens_sp * x.h * (2 * ACT_BYTES + MASK_BYTES);
    out->fwd_s += opcost_membound_s(dev, e, fwd);
    out->bwd_s += opcost_membound_s(dev, e, x.tokens * x.h * (ACT_BYTES + 4)) +
                  accum_s(l, dev, e, (double)m->vocab * m->hidden / l->tp, 0) +
                  workload_emb_grad_s(m, l, dev, e);
    out->tp_fwd.allreduce += l->tp > 1 && !l->sp;
    out->tp_fwd.reducescatter += l->tp > 1 && l->sp;
}

/* Final norm, output layer (vocab-parallel) and cross-entropy loss in fp32. */
static void add_head(const model_desc *m, const layout_desc *l, const dev_type *dev,
                     const opcost_eff *e, workload_chunk *out)
{
    shape x = shape_of(m, l);
    ctx c = {dev, e, l->dtype, NULL, 0};
    workload_op op;
    c.ops = &op;
    add_gemm(&c, "logits", x.tokens, x.vocab_t, x.h);
    double act_sp = x.tokens_sp * x.h * ACT_BYTES;
    double logits = x.tokens * x.vocab_t;
    const framework_profile *fw = framework_of(l->framework); /* its loss's passes */
    out->fwd_s += op.fwd_s + opcost_membound_s(dev, e, 2 * act_sp) +
                  opcost_membound_s(dev, e, logits * fw->xent_fwd_bytes_per_logit);
    out->bwd_weight_s += op.bwd_weight_s;
    out->bwd_s += op.bwd_s + opcost_membound_s(dev, e, 3 * act_sp) +
                  opcost_membound_s(dev, e, logits * fw->xent_bwd_bytes_per_logit);
    if (fw->norm_bwd_rereads) /* the final norm's as the layers' (add_norm_rereads) */
        out->bwd_s += opcost_membound_s(dev, e, 2 * act_sp) + e->kernel_gap_s;
    if (!(m->tied_embeddings && l->pp == 1)) /* the head's own table, or the last stage's copy */
        out->bwd_s += accum_s(l, dev, e, (double)m->vocab * m->hidden / l->tp, 1);
    out->model_flops += 3 * op.fwd_flops;
    out->tp_fwd.allgather += l->tp > 1 && l->sp;
    out->tp_bwd.allreduce += l->tp > 1 && !l->sp;
    out->tp_bwd.reducescatter += l->tp > 1 && l->sp;
}

void workload_chunk_layers(const model_desc *m, const layout_desc *l, const dev_type *dev,
                           const opcost_eff *e, int stage, workload_chunk *out)
{
    *out = (workload_chunk){0};
    add_layers(m, l, dev, e, layout_stage_chunk_layers(l, m, stage), out);
}

void workload_chunk_add_edges(const model_desc *m, const layout_desc *l, const dev_type *dev,
                              const opcost_eff *e, int stage, int chunk, workload_chunk *out)
{
    /* Megatron's scatter-gather pipeline transfer sends 1/tp of the
     * activation (p2p_bytes); the receiver all-gathers it over the tensor-
     * parallel group before use: forward on every virtual stage but the
     * first, backward (the gradient) on every one but the last.  Under sp
     * the activation is already split along the sequence: nothing to gather. */
    int vstage = chunk * l->pp + stage, nv = l->pp * l->vpp;
    int dense = layout_dense_layers_in_vstage(m, l, vstage);
    if (dense > 0)
        swap_dense_layers(m, l, dev, e, dense, out);
    if (l->tp > 1 && !l->sp) {
        out->tp_fwd.allgather += vstage > 0;
        out->tp_bwd.allgather += vstage < nv - 1;
    }
    if (stage == 0 && chunk == 0)
        add_embedding(m, l, dev, e, out);
    if (stage == l->pp - 1 && chunk == l->vpp - 1)
        add_head(m, l, dev, e, out);
}

void workload_chunk_of(const model_desc *m, const layout_desc *l, const dev_type *dev,
                       const opcost_eff *e, int stage, int chunk, workload_chunk *out)
{
    workload_chunk_layers(m, l, dev, e, stage, out);
    workload_chunk_add_edges(m, l, dev, e, stage, chunk, out);
}

void workload_info_of(const model_desc *m, const layout_desc *l, workload_info *out)
{
    shape x = shape_of(m, l);
    double tokens = (double)l->gbs * m->seq_len, h = m->hidden;
    /* 2 per weight of every multiply a token passes through (an MoE layer:
     * router, top-k routed and shared experts) and the attention core over
     * the full s x s square (4 b s^2 h for MHA); model_moe.h */
    int moe_layers = model_moe_layers(m);
    double gemm = tokens * (moe_layers * model_layer_gemm_flops_per_token(m, 1) +
                            (m->layers - moe_layers) * model_layer_gemm_flops_per_token(m, 0));
    double attn = m->layers * tokens * model_attn_core_flops_per_token(m);
    double logits = 2 * tokens * h * m->vocab;
    out->tp_size_bytes = x.tokens * x.h * ACT_BYTES;
    out->p2p_bytes = x.tokens * x.h * ACT_BYTES / x.t; /* Megatron's scatter-gather split */
    out->model_flops_iter = 3 * (gemm + attn + logits);
    double recompute = 0;
    if (l->recompute == LAYOUT_RECOMPUTE_FULL)
        recompute = gemm + attn;
    else if (l->recompute == LAYOUT_RECOMPUTE_SELECTIVE)
        recompute = attn;
    out->ep_a2a_bytes = model_is_moe(m) ? x.tokens / x.t * m->moe_topk * x.h * ACT_BYTES *
                                              layout_ep_kept_share(m, l)
                                        : 0;
    out->hw_flops_iter = out->model_flops_iter + recompute;
    out->tokens_iter = tokens;
}

double workload_tp_bwd_exposed_s(const workload_chunk *c, double one_collective_s)
{
    double hidden_s = 0;
    for (int i = 0; i < c->tp_bwd_windows; i++)
        hidden_s += one_collective_s < c->tp_bwd_window_s[i] ? one_collective_s
                                                             : c->tp_bwd_window_s[i];
    return -c->tp_bwd_layers * hidden_s;
}

double workload_grad_bytes(const model_desc *m, const layout_desc *l, int stage)
{
    return memory_stage_params(m, l, stage) * ACT_BYTES;
}

double workload_grad_reduce_bytes(const model_desc *m, const layout_desc *l, int stage)
{
    return memory_stage_params(m, l, stage) *
           framework_grad_reduce_bytes(l->framework, l->dtype != MODEL_FP16);
}

double workload_optimizer_s(const model_desc *m, const layout_desc *l, const dev_type *dev,
                            const opcost_eff *e, int stage)
{
    double params = memory_stage_params(m, l, stage) / sharding_group(l); /* the own shard */
    /* and, where the framework reduces separate gradient tensors, their
     * flatten, divide and copy back around the all-reduce (framework.h) */
    double pack_bytes = layout_dp_cp(l) > 1 ? memory_stage_params(m, l, stage) *
                        framework_dp_pack_bytes(l->framework, l->dtype != MODEL_FP16) : 0;
    /* and the per-iteration zeroing of every gradient (framework_grad_zero_bytes) */
    double zero_bytes = memory_stage_params(m, l, stage) *
                        framework_grad_zero_bytes(l->framework, l->dtype != MODEL_FP16);
    return opcost_membound_s(dev, e,
                             params * framework_of(l->framework)->optimizer_bytes_per_param +
                             pack_bytes + zero_bytes);
}
