/* opgraph_model: an operator graph of a catalog transformer's training step.
 *
 * The operators of a layer and their times come from costmodel/workload
 * (forward and backward, one GPU, no tensor parallelism), wired as a real
 * layer is, not as a chain: the layer input x feeds norm1 and the first
 * residual add; norm1 feeds the Q, K and V projections (workload's fused
 * qkv multiply split by output width, so time, FLOPs and weights add up
 * to the fused one), which feed the attention core (fused: Q, K, V;
 * unfused: QK^T reads Q and K, PV reads the dropped-out scores and V);
 * then proj, residual1 (proj's output + x), norm2, the MLP and residual2
 * (mlp_down's output + residual1's output), the layer's output.  Sizes:
 * activations are tokens x width x 2 bytes (width hidden, kv_heads x
 * head_dim for K and V, the MLP width after the up projection (twice it
 * for SwiGLU's gate and up) and the activation, heads x seq x seq per
 * microbatch for unfused scores).  Backward: every forward edge u -> v
 * gives v_grad -> u_grad carrying the gradient of u's output (u's output
 * bytes); each v_grad also reads v's saved output, outputs the gradients
 * of v's inputs and shares v's colocation group.  Weights: the layer's
 * parameters (16 bytes each) are shared among its matrix multiplies in
 * proportion to their FLOPs, which for a multiply are 2 x tokens x its
 * parameters.  The embedding and the output layer with the loss are one
 * operator each (the output layer's multiply plus a softmax pass). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "device.h"
#include "layout.h"
#include "opcost.h"
#include "opgraph.h"
#include "workload.h"

#define PARAM_BYTES 16.0 /* 16-bit weight and gradient, fp32 master, two Adam moments */
#define ACT 2.0

typedef struct gen {
    opgraph *g;
    const model_desc *m;
    int experts;
    double tokens;
} gen;

static int expert_of(const gen *c, int layer)
{
    return c->experts > 0 ? layer * c->experts / c->m->layers : -1;
}

static int add(gen *c, const char *name, double us, double perm, double out, int group, int dev)
{
    opg_node nd = {0, us, (uint64_t)perm, 0, (uint64_t)out, group, dev, c->g->n};
    return opg_add_node(c->g, name, &nd);
}

/* One operator of a layer: times, FLOPs (for its share of the weights),
 * output bytes and its forward inputs (indices into the layer, IN for the
 * layer's input). */
#define IN (-1)
typedef struct lop {
    char name[40];
    double fwd_us, bwd_us, flops, out;
    int core, npred, pred[3];
} lop;

static void push(lop *ops, int *n, const workload_op *o, const char *name, double share, double out,
                 int p0, int p1, int p2)
{
    lop *l = &ops[(*n)++];
    snprintf(l->name, sizeof l->name, "%s", name ? name : o->name);
    l->fwd_us = o->fwd_s * share * 1e6;
    l->bwd_us = o->bwd_s * share * 1e6;
    l->flops = o->fwd_flops * share;
    l->out = out;
    l->core = o->attention_core;
    l->npred = 0;
    int p[3] = {p0, p1, p2};
    for (int k = 0; k < 3; k++)
        if (p[k] != -2)
            l->pred[l->npred++] = p[k];
}

/* The layer's operators with their inputs; returns their count. */
static int layer_ops(const gen *c, const workload_op *w, int nw, lop *ops)
{
    const model_desc *m = c->m;
    double act = c->tokens * m->hidden * ACT, kv = (double)m->kv_heads * model_head_dim(m);
    double scores = c->tokens / m->seq_len * m->heads * (double)m->seq_len * m->seq_len * ACT;
    int n = 0, q = -1, k = -1, v = -1, res1 = -1;
    for (int i = 0; i < nw; i++) {
        const char *nm = w[i].name;
        int prev = n - 1 < 0 ? IN : n - 1, none = -2;
        if (strcmp(nm, "qkv") == 0) {
            double all = m->hidden + 2 * kv;
            q = n, k = n + 1, v = n + 2;
            push(ops, &n, &w[i], "q", m->hidden / all, act, prev, none, none);
            push(ops, &n, &w[i], "k", kv / all, c->tokens * kv * ACT, prev, none, none);
            push(ops, &n, &w[i], "v", kv / all, c->tokens * kv * ACT, prev, none, none);
        } else if (strcmp(nm, "attention (fused)") == 0 && q >= 0) {
            push(ops, &n, &w[i], NULL, 1, act, q, k, v);
        } else if (strcmp(nm, "attention QK^T") == 0 && q >= 0) {
            push(ops, &n, &w[i], NULL, 1, scores, q, k, none);
        } else if (strcmp(nm, "softmax") == 0 || strcmp(nm, "attention dropout") == 0) {
            push(ops, &n, &w[i], NULL, 1, scores, prev, none, none);
        } else if (strcmp(nm, "attention PV") == 0 && v >= 0) {
            push(ops, &n, &w[i], NULL, 1, act, prev, v, none);
        } else if (strcmp(nm, "dropout+residual1") == 0) {
            res1 = n;
            push(ops, &n, &w[i], NULL, 1, act, prev, IN, none);
        } else if (strcmp(nm, "dropout+residual2") == 0 && res1 >= 0) {
            push(ops, &n, &w[i], NULL, 1, act, prev, res1, none);
        } else if (strcmp(nm, "mlp_up") == 0) {
            double wide = (m->mlp == MODEL_MLP_SWIGLU ? 2.0 : 1.0) * m->ffn_hidden;
            push(ops, &n, &w[i], NULL, 1, c->tokens * wide * ACT, prev, none, none);
        } else if (strcmp(nm, "gelu") == 0 || strcmp(nm, "swiglu") == 0) {
            push(ops, &n, &w[i], NULL, 1, c->tokens * m->ffn_hidden * ACT, prev, none, none);
        } else {
            push(ops, &n, &w[i], NULL, 1, act, prev, none, none);
        }
    }
    return n;
}

/* An edge carrying output `output` of u (bytes: that tensor's).  A forward
 * operator has one output, 0, read by all its consumers (and its gradient)
 * as one tensor; a gradient operator's output 1 + p is the gradient of its
 * forward operator's input p. */
static void edge_out(opgraph *g, int u, int v, int output, uint64_t bytes)
{
    opg_add_edge_outputs(g, u, v, 1, &output, &bytes);
}

/* Forward operators of every layer; fwd[i * n + k].  Returns the top. */
static int forward(gen *c, const lop *ops, int n, int in, int *fwd)
{
    double flops = 0, layer_perm = model_params_per_layer(c->m) * PARAM_BYTES;
    for (int k = 0; k < n; k++)
        flops += ops[k].core ? 0 : ops[k].flops;
    char name[96];
    for (int i = 0; i < c->m->layers; i++) {
        for (int k = 0; k < n; k++) {
            const lop *o = &ops[k];
            double perm = o->core || flops == 0 ? 0 : layer_perm * o->flops / flops;
            snprintf(name, sizeof name, "layer%d/%.39s", i, o->name);
            int v = add(c, name, o->fwd_us, perm, o->out, c->g->ngroups, expert_of(c, i));
            for (int p = 0; p < o->npred; p++) {
                int u = o->pred[p] == IN ? in : fwd[i * n + o->pred[p]];
                edge_out(c->g, u, v, 0, c->g->nodes[u].out_bytes);
            }
            fwd[i * n + k] = v;
        }
        in = fwd[i * n + n - 1];
    }
    return in;
}

/* Backward operators, layers and operators in reverse; bwd[i * n + k]. */
static void backward(gen *c, const lop *ops, int n, const int *fwd, int *bwd)
{
    char name[96];
    for (int i = c->m->layers - 1; i >= 0; i--)
        for (int k = n - 1; k >= 0; k--) {
            const opg_node *f = &c->g->nodes[fwd[i * n + k]];
            double out = 0; /* the gradients of its inputs */
            for (int p = 0; p < ops[k].npred; p++)
                out += ops[k].pred[p] == IN ? c->tokens * c->m->hidden * ACT
                                            : ops[ops[k].pred[p]].out;
            snprintf(name, sizeof name, "layer%d/%.39s_grad", i, ops[k].name);
            bwd[i * n + k] = add(c, name, ops[k].bwd_us, 0, out, f->group, f->expert_dev);
        }
}

int opg_from_model(const model_desc *m, const char *device, int mbs, int expert_devices,
                   opgraph *g, cs_err *err)
{
    const dev_type *dev = dev_find(device, err);
    if (!dev || model_validate(m, err) != 0)
        return -1;
    if (mbs < 1)
        return cs_fail(err, "microbatch %d; it must be 1 or more", mbs);
    layout_desc l;
    layout_init(&l, m);
    l.mbs = l.gbs = mbs;
    opcost_eff e;
    opcost_eff_default(&e);
    workload_op w[WORKLOAD_MAX_OPS];
    int nw = workload_layer_ops(m, &l, dev, &e, w);
    gen c = {g, m, expert_devices, (double)mbs * m->seq_len};
    lop ops[WORKLOAD_MAX_OPS + 2]; /* qkv becomes three */
    int n = layer_ops(&c, w, nw, ops);
    opg_init(g);
    double act = c.tokens * m->hidden * ACT, emb_perm = model_embedding_params(m) * PARAM_BYTES;
    int last = m->layers - 1, nf = 2 + m->layers * n; /* forward nodes: 0 .. nf - 1 */
    int *fwd = cs_xrealloc(NULL, sizeof *fwd * (size_t)(m->layers * n));
    int *bwd = cs_xrealloc(NULL, sizeof *bwd * (size_t)(m->layers * n));
    int *grad = cs_xrealloc(NULL, sizeof *grad * (size_t)nf); /* forward node -> its gradient */
    int emb = add(&c, "embedding", opcost_membound_s(dev, &e, 3 * act) * 1e6, emb_perm, act, 0,
                  expert_of(&c, 0));
    int top = forward(&c, ops, n, emb, fwd);
    double head_s = 3 * opcost_gemm_s(dev, &e, l.dtype, c.tokens, m->vocab, m->hidden, 1, ACT) +
                    opcost_membound_s(dev, &e, 4 * c.tokens * m->vocab * ACT);
    int loss = add(&c, "output+loss", head_s * 1e6, 0, act, c.g->ngroups, expert_of(&c, last));
    edge_out(g, top, loss, 0, g->nodes[top].out_bytes);
    int mf = g->m; /* forward edges */
    backward(&c, ops, n, fwd, bwd);
    int egrad = add(&c, "embedding_grad", opcost_membound_s(dev, &e, 3 * act) * 1e6, 0, 0, 0,
                    expert_of(&c, 0));
    grad[emb] = egrad;
    grad[loss] = loss; /* the loss starts the backward pass itself */
    for (int i = 0; i < m->layers * n; i++)
        grad[fwd[i]] = bwd[i];
    for (int i = 0; i < m->layers * n; i++) /* each gradient reads its saved output */
        edge_out(g, fwd[i], bwd[i], 0, g->nodes[fwd[i]].out_bytes);
    int *nin = calloc((size_t)g->n + 1, sizeof *nin); /* v's inputs seen so far */
    if (!nin)
        abort();
    for (int k = 0; k < mf; k++) { /* u -> v (v's input p) gives grad(v) -> grad(u) */
        int u = g->edges[k].src, v = g->edges[k].dst;
        edge_out(g, grad[v], grad[u], 1 + nin[v]++, g->nodes[u].out_bytes);
    }
    free(nin);
    free(fwd);
    free(bwd);
    free(grad);
    return opg_finish(g, err);
}
