/* zero3_coord: DeepSpeed v0.3.13's ZeRO-3 parameter coordinator over a
 * Megatron-LM GPT stack (zero3_coord.h has the behaviour and its sources). */
#include "zero3_coord.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "offload.h"
#include "schedule.h"

/* The modules of one Megatron-LM block (ParallelTransformerLayer), in the
 * order their forward pre-hooks run: the block, its input LayerNorm, the
 * attention module, the QKV projection, the attention core (QK^T, the
 * softmax and dropout modules, AV: no parameters), the output projection,
 * the second LayerNorm, the MLP module, its two projections.  Containers
 * hold no parameter of their own (named_parameters(recurse=False)) but run
 * hooks, and a hook may prefetch. */
enum { M_BLOCK, M_LN1, M_ATTN, M_QKV, M_CORE, M_PROJ, M_LN2, M_MLP, M_FC1, M_FC2, NMOD };
#define MAX_PARAMS 2 /* weight, bias */

/* The backward pre-hooks: a container's before its children's (its output's
 * hook wraps theirs), the MLP's modules before the second LayerNorm. */
static const int bwd_order[NMOD] = {M_BLOCK, M_MLP,  M_FC2,  M_FC1,  M_LN2,
                                    M_ATTN,  M_PROJ, M_CORE, M_QKV,  M_LN1};

typedef struct module_shape {
    double param[MAX_PARAMS]; /* elements of one tensor rank; 0: none */
    double flops;             /* forward FLOPs a token of this rank */
} module_shape;

z3c_config z3c_defaults(void)
{
    return (z3c_config){Z3C_PREFETCH_BUCKET_ELEMS, Z3C_MAX_LIVE_ELEMS, Z3C_MAX_REUSE_ELEMS,
                        Z3C_PERSIST_ELEMS, Z3C_REDUCE_BUCKET_ELEMS};
}

int z3c_applies(const layout_desc *l)
{
    return l->zero == 3 && l->offload != OFFLOAD_NONE &&
           l->offload_engine == OFFLOAD_ENGINE_DEEPSPEED_2021;
}

int z3c_validate(const model_desc *m, const layout_desc *l, cs_err *err)
{
    const char *why = l->pp != 1 ? "pp 1 (DeepSpeed's ZeRO-3 has no pipeline engine)"
                      : l->shard_group ? "ZeRO-3 over the whole data-parallel group (no --hsdp)"
                      : l->prefetch != 1 || l->no_reshard
                          ? "its own prefetch (drop the FSDP knobs prefetchN, noreshard)"
                      : schedule_splits_backward(l) ? "a backward that is not split (no zb-*)"
                      : layout_cp_of(l) != 1 || l->ep > 1 ? "no context or expert parallelism"
                      : model_is_moe(m) || model_is_mla(m) ? "dense GPT blocks (no MoE, no MLA)"
                      : l->recompute == LAYOUT_RECOMPUTE_SELECTIVE
                          ? "full recomputation or none (--recompute full|none)"
                          : NULL;
    if (why)
        return cs_fail(err, "offload: --offload-engine deepspeed-2021 emulates DeepSpeed "
                            "v0.3.13's ZeRO-3 over Megatron-LM blocks and needs %s",
                       why);
    return 0;
}

/* One block's modules on one tensor rank (model.h's counting conventions;
 * Megatron splits the column-parallel weights and biases and the
 * row-parallel weights, and keeps the norms and row-parallel biases whole). */
static void block_shapes(const model_desc *m, const layout_desc *l, module_shape *mod)
{
    memset(mod, 0, NMOD * sizeof *mod);
    double h = m->hidden, tp = l->tp, hd = model_head_dim(m);
    double q = m->heads * hd, kv = m->kv_heads * hd, ffn = m->ffn_hidden;
    double up = m->mlp == MODEL_MLP_SWIGLU ? 2 * ffn : ffn;
    double norm_params = m->norm == MODEL_NORM_LAYERNORM ? 2 : 1;
    int bias = m->linear_bias;
    for (int k = 0; k < (int)norm_params; k++)
        mod[M_LN1].param[k] = mod[M_LN2].param[k] = h;
    mod[M_QKV].param[0] = h * (q + 2 * kv) / tp;
    mod[M_QKV].param[1] = bias || m->qkv_bias ? (q + 2 * kv) / tp : 0;
    mod[M_PROJ].param[0] = q * h / tp;
    mod[M_PROJ].param[1] = bias ? h : 0;
    mod[M_FC1].param[0] = h * up / tp;
    mod[M_FC1].param[1] = bias ? up / tp : 0;
    mod[M_FC2].param[0] = ffn * h / tp;
    mod[M_FC2].param[1] = bias ? h : 0;
    static const int gemms[] = {M_QKV, M_PROJ, M_FC1, M_FC2};
    for (int k = 0; k < 4; k++)
        mod[gemms[k]].flops = 2 * mod[gemms[k]].param[0];
    /* Megatron v1's attention core: QK^T and AV over the whole sequence */
    mod[M_CORE].flops = 2.0 * 2.0 * m->seq_len * q / tp;
}

/* ---- the emulation ---------------------------------------------------------- */

enum { NA, INFLIGHT, AVAIL }; /* a parameter's state (PP: ZeroParamStatus) */

typedef struct entry { int pass, layer, mod; } entry; /* one trace position */

typedef struct emu {
    const z3c_config *cfg;
    module_shape mod[NMOD];
    entry *tr;
    int n;
    double *before;  /* [i]: elements of the modules at trace positions < i */
    int *next_use;   /* [i]: the module's next position, or n */
    unsigned char *state; /* [(layer * NMOD + mod) * MAX_PARAMS + k] */
    double avail, bucket, flops_of_layer;
    int inflight;
    z3c_trace *out;
    int capsteps, capcomm;
} emu;

static double module_elems(const emu *e, int mod)
{
    return e->mod[mod].param[0] + e->mod[mod].param[1];
}

static unsigned char *state_of(emu *e, int layer, int mod, int k)
{
    return &e->state[((size_t)layer * NMOD + mod) * MAX_PARAMS + k];
}

/* The trace: every block's forward, then for the last block down to the
 * first its recomputation (full recomputation) and its backward. */
static void build_trace(emu *e, int layers, int recompute)
{
    int n = 0;
    for (int L = 0; L < layers; L++)
        for (int j = 0; j < NMOD; j++)
            e->tr[n++] = (entry){Z3C_FWD, L, j};
    for (int L = layers - 1; L >= 0; L--) {
        for (int j = 0; recompute && j < NMOD; j++)
            e->tr[n++] = (entry){Z3C_REC, L, j};
        for (int j = 0; j < NMOD; j++)
            e->tr[n++] = (entry){Z3C_BWD, L, bwd_order[j]};
    }
    e->n = n;
    e->before[0] = 0;
    for (int i = 0; i < n; i++)
        e->before[i + 1] = e->before[i] + module_elems(e, e->tr[i].mod);
    int *last = malloc((size_t)layers * NMOD * sizeof *last);
    if (!last)
        abort();
    for (int k = 0; k < layers * NMOD; k++)
        last[k] = n;
    for (int i = n - 1; i >= 0; i--) {
        int key = e->tr[i].layer * NMOD + e->tr[i].mod;
        e->next_use[i] = last[key];
        last[key] = i;
    }
    free(last);
}

static void add_comm(emu *e, double elems, int reduce)
{
    z3c_trace *t = e->out;
    CS_GROW(t->comm, e->capcomm, t->ncomm + 1);
    t->comm[t->ncomm++] = (z3c_comm){elems, reduce};
    t->steps[t->nsteps - 1].n++;
    if (reduce) {
        t->reduce_elems += elems;
    } else {
        t->gather_elems += elems;
        t->pass_gather_elems[t->steps[t->nsteps - 1].pass] += elems;
    }
}

static void gather(emu *e, int layer, int mod, int k)
{
    *state_of(e, layer, mod, k) = INFLIGHT;
    e->avail += e->mod[mod].param[k];
    e->inflight++;
    add_comm(e, e->mod[mod].param[k], 0);
}

/* fetch_sub_module: gathers what is not available; waits for everything in
 * flight when anything of the module was not available. */
static void fetch(emu *e, const entry *at, z3c_step *st)
{
    int wait = 0;
    for (int k = 0; k < MAX_PARAMS; k++) {
        unsigned char *s = state_of(e, at->layer, at->mod, k);
        if (e->mod[at->mod].param[k] <= 0 || *s == AVAIL)
            continue;
        wait = 1;
        if (*s == NA)
            gather(e, at->layer, at->mod, k);
    }
    if (!wait)
        return;
    for (size_t k = 0; k < (size_t)e->out->layers * NMOD * MAX_PARAMS; k++)
        if (e->state[k] == INFLIGHT)
            e->state[k] = AVAIL;
    e->inflight = 0;
    e->out->syncs++;
    st->gate = e->out->ncomm - 1;
}

/* prefetch_next_sub_modules: the next parameters along the trace that are
 * not available, up to the bucket (the one crossing it included). */
static void prefetch(emu *e, int i, z3c_step *st)
{
    if (e->inflight || e->avail >= e->cfg->max_live)
        return;
    double sum = 0;
    int issued = 0;
    for (int j = i + 1; j < e->n && sum < e->cfg->prefetch_bucket; j++)
        for (int k = 0; k < MAX_PARAMS && sum < e->cfg->prefetch_bucket; k++) {
            const entry *at = &e->tr[j];
            double p = e->mod[at->mod].param[k];
            if (p <= 0 || *state_of(e, at->layer, at->mod, k) != NA)
                continue;
            gather(e, at->layer, at->mod, k);
            sum += p;
            issued++;
        }
    /* each gather starts with torch.cuda.synchronize() (PP:611): the
     * module's kernels launch after all but the last */
    if (issued)
        st->gate = e->out->ncomm - 2 > st->gate ? e->out->ncomm - 2 : st->gate;
}

/* The gradients of a backward module, each through the reduce bucket. */
static void reduce_grads(emu *e, int mod)
{
    for (int k = 0; k < MAX_PARAMS; k++) {
        double g = e->mod[mod].param[k];
        if (g <= 0)
            continue;
        if (e->bucket > 0 && e->bucket + g > e->cfg->reduce_bucket) {
            add_comm(e, e->bucket, 1);
            e->bucket = 0;
        }
        if (g > e->cfg->reduce_bucket)
            add_comm(e, g, 1); /* extra_large_param_to_reduce */
        else
            e->bucket += g;
    }
}

/* release_sub_module: every parameter but the persistent ones, unless the
 * module's next use is within the reuse distance. */
static void release(emu *e, int i)
{
    const entry *at = &e->tr[i];
    int next = e->next_use[i];
    double distance = next < e->n ? e->before[next] - e->before[i + 1] : INFINITY;
    if (distance < e->cfg->max_reuse)
        return;
    for (int k = 0; k < MAX_PARAMS; k++) {
        double p = e->mod[at->mod].param[k];
        unsigned char *s = state_of(e, at->layer, at->mod, k);
        if (p <= 0 || p < e->cfg->persist || *s != AVAIL)
            continue;
        *s = NA;
        e->avail -= p;
    }
}

static void run(emu *e)
{
    z3c_trace *t = e->out;
    for (int i = 0; i < e->n; i++) {
        const entry *at = &e->tr[i];
        CS_GROW(t->steps, e->capsteps, t->nsteps + 1);
        z3c_step *st = &t->steps[t->nsteps++];
        *st = (z3c_step){at->pass, at->layer, e->mod[at->mod].flops / e->flops_of_layer,
                         t->ncomm, 0, -1};
        fetch(e, at, st);
        prefetch(e, i, st);
        if (at->pass == Z3C_BWD)
            reduce_grads(e, at->mod);
        if (i == e->n - 1 && e->bucket > 0) /* the end of the backward sends the rest */
            add_comm(e, e->bucket, 1);
        release(e, i);
    }
}

int z3c_build(const model_desc *m, const layout_desc *l, int layers, const z3c_config *cfg,
              z3c_trace *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    if (layers < 1)
        return cs_fail(err, "zero3_coord: %d layers", layers);
    emu e = {.cfg = cfg, .out = out};
    block_shapes(m, l, e.mod);
    for (int k = 0; k < NMOD; k++) {
        e.flops_of_layer += e.mod[k].flops;
        out->block_elems += module_elems(&e, k);
    }
    int recompute = l->recompute == LAYOUT_RECOMPUTE_FULL;
    size_t cap = (size_t)layers * NMOD * (recompute ? 3 : 2);
    e.tr = malloc(cap * sizeof *e.tr);
    e.before = malloc((cap + 1) * sizeof *e.before);
    e.next_use = malloc(cap * sizeof *e.next_use);
    e.state = calloc((size_t)layers * NMOD * MAX_PARAMS, 1);
    if (!e.tr || !e.before || !e.next_use || !e.state)
        abort();
    out->layers = layers;
    build_trace(&e, layers, recompute);
    run(&e);
    free(e.tr);
    free(e.before);
    free(e.next_use);
    free(e.state);
    return 0;
}

void z3c_free(z3c_trace *t)
{
    free(t->steps);
    free(t->comm);
    memset(t, 0, sizeof *t);
}

double z3c_time_s(const z3c_trace *t, const double layer_s[Z3C_NPASS], z3c_comm_s_fn comm_s,
                  void *ctx, double *comm_total_s, double *fwd_end_s)
{
    double *end = malloc(((size_t)t->ncomm + 1) * sizeof *end);
    if (!end)
        abort();
    double compute = 0, comm = 0, total = 0; /* where each stream is free */
    for (int i = 0; i < t->nsteps; i++) {
        const z3c_step *st = &t->steps[i];
        for (int c = st->first; c < st->first + st->n; c++) {
            double d = comm_s(&t->comm[c], ctx);
            comm = fmax(comm, compute) + d; /* issued after the compute before it */
            end[c] = comm;
            total += d;
        }
        double start = st->gate >= 0 ? fmax(compute, end[st->gate]) : compute;
        compute = start + st->share * layer_s[st->pass];
        if (fwd_end_s && st->pass == Z3C_FWD)
            *fwd_end_s = compute;
    }
    free(end);
    *comm_total_s = total;
    return fmax(compute, comm);
}
