/* opgraph_model: an operator graph of a catalog transformer's training step.
 *
 * The operators of a layer and their times come from costmodel/workload
 * (forward and backward, one GPU, no tensor parallelism).  Sizes: every
 * operator outputs one activation of tokens x hidden 16-bit values (tokens
 * x MLP width after the MLP's up projection and activation); a backward
 * operator outputs the gradient of the same size.  Weights: the layer's
 * parameters (16 bytes each) are shared among its matrix multiplies in
 * proportion to their FLOPs, which for a multiply are 2 x tokens x its
 * parameters.  The embedding and the output layer with the loss are one
 * operator each (the output layer's multiply plus a softmax pass). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static double out_bytes(const gen *c, const workload_op *o)
{
    int wide = strcmp(o->name, "mlp_up") == 0 || strcmp(o->name, "gelu") == 0 ||
               strcmp(o->name, "swiglu") == 0;
    return c->tokens * (wide ? c->m->ffn_hidden : c->m->hidden) * ACT;
}

/* Forward ops of every layer; fwd[i * n + k].  Returns the last node. */
static int forward(gen *c, const workload_op *ops, int n, int prev, int *fwd)
{
    double flops = 0, layer_perm = model_params_per_layer(c->m) * PARAM_BYTES;
    for (int k = 0; k < n; k++)
        flops += ops[k].attention_core ? 0 : ops[k].fwd_flops;
    char name[96];
    for (int i = 0; i < c->m->layers; i++)
        for (int k = 0; k < n; k++) {
            const workload_op *o = &ops[k];
            double perm = o->attention_core || flops == 0 ? 0 : layer_perm * o->fwd_flops / flops;
            snprintf(name, sizeof name, "layer%d/%s", i, o->name);
            int v = add(c, name, o->fwd_s * 1e6, perm, out_bytes(c, o), c->g->ngroups, expert_of(c, i));
            opg_add_edge(c->g, prev, v, c->g->nodes[prev].out_bytes, 1);
            fwd[i * n + k] = prev = v;
        }
    return prev;
}

static int backward(gen *c, const workload_op *ops, int n, int prev, const int *fwd)
{
    char name[96];
    for (int i = c->m->layers - 1; i >= 0; i--)
        for (int k = n - 1; k >= 0; k--) {
            const opg_node *f = &c->g->nodes[fwd[i * n + k]];
            snprintf(name, sizeof name, "layer%d/%s_grad", i, ops[k].name);
            int v = add(c, name, ops[k].bwd_s * 1e6, 0, f->out_bytes, f->group, f->expert_dev);
            opg_add_edge(c->g, prev, v, c->g->nodes[prev].out_bytes, 1);
            opg_add_edge(c->g, fwd[i * n + k], v, c->g->nodes[fwd[i * n + k]].out_bytes, 1);
            prev = v;
        }
    return prev;
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
    workload_op ops[WORKLOAD_MAX_OPS];
    int n = workload_layer_ops(m, &l, dev, &e, ops);
    gen c = {g, m, expert_devices, (double)mbs * m->seq_len};
    opg_init(g);
    double act = c.tokens * m->hidden * ACT, emb_perm = model_embedding_params(m) * PARAM_BYTES;
    int last = m->layers - 1;
    int emb = add(&c, "embedding", opcost_membound_s(dev, &e, 3 * act) * 1e6, emb_perm, act, 0,
                  expert_of(&c, 0));
    int *fwd = calloc((size_t)(m->layers * n), sizeof *fwd);
    if (!fwd)
        return cs_fail(err, "out of memory for %d layers", m->layers);
    int top = forward(&c, ops, n, emb, fwd);
    double head_s = 3 * opcost_gemm_s(dev, &e, l.dtype, c.tokens, m->vocab, m->hidden, 1, ACT) +
                    opcost_membound_s(dev, &e, 4 * c.tokens * m->vocab * ACT);
    int loss = add(&c, "output+loss", head_s * 1e6, 0, act, c.g->ngroups, expert_of(&c, last));
    opg_add_edge(g, top, loss, g->nodes[top].out_bytes, 1);
    int bottom = backward(&c, ops, n, loss, fwd);
    int egrad = add(&c, "embedding_grad", opcost_membound_s(dev, &e, 3 * act) * 1e6, 0, 0, 0,
                    expert_of(&c, 0));
    opg_add_edge(g, bottom, egrad, g->nodes[bottom].out_bytes, 1);
    free(fwd);
    return opg_finish(g, err);
}
