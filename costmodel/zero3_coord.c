/* zero3_coord: DeepSpeed v0.3.13's ZeRO-3 parameter coordinator over a
 * Megatron-LM GPT stack (zero3_coord.h has the behaviour and its sources). */
#include "zero3_coord.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "offload.h"
#include "schedule.h"

/* The modules of one Megatron-LM block (ParallelTransformerLayer of
 * DeepSpeedExamples' Megatron-LM-v1.1.5-ZeRO3, 2021-03), in the order their
 * forward pre-hooks run: the block, its input LayerNorm, the attention
 * module, the QKV projection, the attention core (QK^T, the softmax and
 * dropout modules, AV: no parameters), the output projection, the second
 * LayerNorm, the MLP module, its two projections.  Containers hold no
 * parameter of their own (named_parameters(recurse=False)) but run hooks,
 * and a hook may prefetch. */
enum { M_BLOCK, M_LN1, M_ATTN, M_QKV, M_CORE, M_PROJ, M_LN2, M_MLP, M_FC1, M_FC2, NMOD };
/* A block's parameters; the model's own (the root's) follow every block's. */
enum { P_LN1W, P_LN1B, P_QKVW, P_QKVB, P_PROJW, P_PROJB, P_LN2W, P_LN2B,
       P_FC1W, P_FC1B, P_FC2W, P_FC2B, NPARAM };
enum { R_WORD, R_POS, NROOT }; /* the embedding tables */
/* Outside the blocks: the model (the root module), which holds the word
 * table as an external parameter (gpt2_model.py:54-55 of that code), and
 * the embedding's position table, its own module's. */
#define M_ROOT NMOD
#define M_POS (NMOD + 1)
#define MAX_LIST 4

/* Each module's parameters as its hooks fetch them: its own, then the
 * external ones registered on it.  The three biases Megatron adds outside
 * their layer (skip_bias_add: the output projection's and fc2's in the
 * block, fc1's in the MLP) are registered as external parameters of the
 * container that adds them (transformer.py:96-97, 437-440 of that code). */
static const int fetch_list[NMOD][MAX_LIST] = {
    [M_BLOCK] = {P_PROJB, P_FC2B, -1},
    [M_LN1] = {P_LN1W, P_LN1B, -1},
    [M_ATTN] = {-1},
    [M_QKV] = {P_QKVW, P_QKVB, -1},
    [M_CORE] = {-1},
    [M_PROJ] = {P_PROJW, P_PROJB, -1},
    [M_LN2] = {P_LN2W, P_LN2B, -1},
    [M_MLP] = {P_FC1B, -1},
    [M_FC1] = {P_FC1W, P_FC1B, -1},
    [M_FC2] = {P_FC2W, P_FC2B, -1}};

/* The gradients each backward step produces, in order.  A bias its layer
 * returns for an add outside it is a Parameter, which the hooks'
 * _apply_to_tensors_only does not wrap (stage3.py:117), and a leaf's
 * gradient hook runs as soon as it is ready (AccumulateGrad first): its
 * gradient comes with the backward of the add, before the next module's
 * pre-backward hook.  So fc2's added bias is in the block's step, the
 * attention's in the second norm's, and fc1's (bias-GeLU's backward, after
 * fc2's release) before fc1's own fetch: pre_grad.  F.linear adds the QKV
 * bias after its matmul: the bias's gradient first. */
static const int grad_list[NMOD][MAX_LIST] = {
    [M_BLOCK] = {P_FC2B, -1},
    [M_LN1] = {P_LN1W, P_LN1B, -1},
    [M_ATTN] = {-1},
    [M_QKV] = {P_QKVB, P_QKVW, -1},
    [M_CORE] = {-1},
    [M_PROJ] = {P_PROJW, -1},
    [M_LN2] = {P_LN2W, P_LN2B, P_PROJB, -1},
    [M_MLP] = {-1},
    [M_FC1] = {P_FC1W, -1},
    [M_FC2] = {P_FC2W, -1}};
/* ... and the gradients whose hooks run before a backward step's fetch. */
static const int pre_grad[NMOD] = {[M_FC1] = P_FC1B + 1}; /* + 1: 0 is none */

/* The backward pre-hooks: a container's before its children's (its output's
 * hook wraps theirs), the MLP's modules before the second LayerNorm. */
static const int bwd_order[NMOD] = {M_BLOCK, M_MLP,  M_FC2,  M_FC1,  M_LN2,
                                    M_ATTN,  M_PROJ, M_CORE, M_QKV,  M_LN1};

typedef struct block_shape {
    double param[NPARAM]; /* elements of one tensor rank; 0: none */
    double root[NROOT];
    double flops[NMOD];   /* forward FLOPs a token of this rank */
} block_shape;

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
    /* each layout rule names the Lua field and the flag */
    const char *why =
        l->pp != 1 ? "pp = 1 (--pp 1): DeepSpeed's ZeRO-3 has no pipeline engine"
        : l->schedule != LAYOUT_SCHEDULE_1F1B
            ? "schedule = \"1f1b\" (--schedule 1f1b): each microbatch's forward, then its "
              "backward, as DeepSpeed's engine runs them"
        : l->shard_group ? "ZeRO-3 over the whole data-parallel group: drop hsdp_shard "
                           "(--hsdp-shard)"
        : l->prefetch != 1 || l->no_reshard
            ? "its own prefetch: drop prefetch and no_reshard (--prefetch, --no-reshard)"
        : layout_cp_of(l) != 1 || l->ep > 1 ? "cp = 1 and ep = 1 (--cp 1 --ep 1)"
        : model_is_moe(m) || model_is_mla(m) ? "a dense GPT model (no MoE, no MLA)"
        : !m->tied_embeddings ? "Megatron-LM v1.1.5's GPT-2, tied embeddings (its trace has "
                                "no output head of its own)"
        : l->dtype != MODEL_FP16 ? "dtype = \"fp16\" (--dtype fp16): v0.3.13's ZeRO trains in fp16"
        : l->recompute == LAYOUT_RECOMPUTE_SELECTIVE
            ? "full recomputation or none: recompute = \"full\"|\"none\" (--recompute full|none)"
            : NULL;
    if (why)
        return cs_fail(err, "offload: offload_engine = \"deepspeed-2021\" (--offload-engine "
                            "deepspeed-2021) emulates DeepSpeed v0.3.13's ZeRO-3 over "
                            "Megatron-LM blocks and needs %s",
                       why);
    return 0;
}

/* One block's parameters on one tensor rank (model.h's counting
 * conventions; Megatron splits the column-parallel weights and biases and
 * the row-parallel weights, keeps the norms and row-parallel biases whole)
 * and the root's embedding tables (the word table split over tp). */
static void block_shapes(const model_desc *m, const layout_desc *l, block_shape *bs)
{
    memset(bs, 0, sizeof *bs);
    double h = m->hidden, tp = l->tp, hd = model_head_dim(m);
    double q = m->heads * hd, kv = m->kv_heads * hd, ffn = m->ffn_hidden;
    double up = m->mlp == MODEL_MLP_SWIGLU ? 2 * ffn : ffn;
    int layernorm = m->norm == MODEL_NORM_LAYERNORM, bias = m->linear_bias;
    double *p = bs->param;
    p[P_LN1W] = p[P_LN2W] = h;
    p[P_LN1B] = p[P_LN2B] = layernorm ? h : 0;
    p[P_QKVW] = h * (q + 2 * kv) / tp;
    p[P_QKVB] = bias || m->qkv_bias ? (q + 2 * kv) / tp : 0;
    p[P_PROJW] = q * h / tp;
    p[P_PROJB] = bias ? h : 0;
    p[P_FC1W] = h * up / tp;
    p[P_FC1B] = bias ? up / tp : 0;
    p[P_FC2W] = ffn * h / tp;
    p[P_FC2B] = bias ? h : 0;
    bs->root[R_WORD] = (double)m->vocab * h / tp;
    bs->root[R_POS] = m->pos == MODEL_POS_LEARNED ? (double)m->seq_len * h : 0;
    bs->flops[M_QKV] = 2 * p[P_QKVW];
    bs->flops[M_PROJ] = 2 * p[P_PROJW];
    bs->flops[M_FC1] = 2 * p[P_FC1W];
    bs->flops[M_FC2] = 2 * p[P_FC2W];
    /* Megatron v1's attention core: QK^T and AV over the whole sequence */
    bs->flops[M_CORE] = 2.0 * 2.0 * m->seq_len * q / tp;
}

/* ---- the emulation ---------------------------------------------------------- */

enum { NA, INFLIGHT, AVAIL }; /* a parameter's state (PP: ZeroParamStatus) */

typedef struct entry { int pass, layer, mod; } entry; /* one trace position */

typedef struct emu {
    const z3c_config *cfg;
    block_shape bs;
    int layers;
    entry *tr;
    int n;
    double *before;  /* [i]: elements of the modules at trace positions < i */
    int *next_use;   /* [i]: the module's next position, or n */
    unsigned char *state; /* [layer * NPARAM + p], the root's at layers * NPARAM */
    double avail, bucket, flops_of_layer;
    int *flight, inflight; /* the gathers in flight: their parameters */
    z3c_trace *out;
    int capsteps, capcomm;
} emu;

/* A module's k-th parameter (own, then external) as an index into
 * state and its elements; -1 past the last. */
static int param_at(const emu *e, const entry *at, int k, double *elems)
{
    int id = -1;
    if (at->mod == M_ROOT || at->mod == M_POS) {
        int r = at->mod == M_ROOT ? R_WORD : R_POS;
        id = k == 0 ? e->layers * NPARAM + r : -1;
        *elems = id >= 0 ? e->bs.root[r] : 0;
    } else if (k < MAX_LIST && fetch_list[at->mod][k] >= 0) {
        id = at->layer * NPARAM + fetch_list[at->mod][k];
        *elems = e->bs.param[fetch_list[at->mod][k]];
    }
    return id;
}

static double module_elems(const emu *e, const entry *at)
{
    double sum = 0, p;
    for (int k = 0; param_at(e, at, k, &p) >= 0; k++)
        sum += p;
    return sum;
}

/* The trace: the model's forward (the root, the position table, every
 * block), then the root's backward hook and, for the last block down to
 * the first, its recomputation (full recomputation) and its backward, and
 * last the position table's backward hook. */
static void build_trace(emu *e, int recompute)
{
    int n = 0, layers = e->layers;
    e->tr[n++] = (entry){Z3C_FWD, -1, M_ROOT};
    e->tr[n++] = (entry){Z3C_FWD, -1, M_POS};
    for (int L = 0; L < layers; L++)
        for (int j = 0; j < NMOD; j++)
            e->tr[n++] = (entry){Z3C_FWD, L, j};
    e->tr[n++] = (entry){Z3C_BWD, -1, M_ROOT};
    for (int L = layers - 1; L >= 0; L--) {
        for (int j = 0; recompute && j < NMOD; j++)
            e->tr[n++] = (entry){Z3C_REC, L, j};
        for (int j = 0; j < NMOD; j++)
            e->tr[n++] = (entry){Z3C_BWD, L, bwd_order[j]};
    }
    e->tr[n++] = (entry){Z3C_BWD, -1, M_POS};
    e->n = n;
    e->before[0] = 0;
    for (int i = 0; i < n; i++)
        e->before[i + 1] = e->before[i] + module_elems(e, &e->tr[i]);
    int keys = (layers + 1) * (NMOD + 2);
    int *last = malloc((size_t)keys * sizeof *last);
    if (!last)
        abort();
    for (int k = 0; k < keys; k++)
        last[k] = n;
    for (int i = n - 1; i >= 0; i--) {
        int key = (e->tr[i].layer + 1) * (NMOD + 2) + e->tr[i].mod;
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

/* A gather issued: the live count includes it from now (stage3.py:329, :391). */
static void gather(emu *e, int id, double elems)
{
    e->state[id] = INFLIGHT;
    e->avail += elems;
    e->flight[e->inflight++] = id;
    add_comm(e, elems, 0);
}

/* fetch_sub_module: gathers what is not available; waits for everything in
 * flight when anything of the module was not available. */
static void fetch(emu *e, const entry *at, z3c_step *st)
{
    int wait = 0, id;
    double p;
    for (int k = 0; (id = param_at(e, at, k, &p)) >= 0; k++) {
        if (p <= 0 || e->state[id] == AVAIL)
            continue;
        wait = 1;
        if (e->state[id] == NA)
            gather(e, id, p);
    }
    if (!wait)
        return;
    for (int k = 0; k < e->inflight; k++)
        e->state[e->flight[k]] = AVAIL;
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
    double sum = 0, p;
    int issued = 0, id;
    for (int j = i + 1; j < e->n && sum < e->cfg->prefetch_bucket; j++)
        for (int k = 0; sum < e->cfg->prefetch_bucket && (id = param_at(e, &e->tr[j], k, &p)) >= 0;
             k++) {
            if (p <= 0 || e->state[id] != NA)
                continue;
            gather(e, id, p);
            sum += p;
            issued++;
        }
    /* each gather starts with torch.cuda.synchronize() (PP:611): the
     * module's kernels launch after all but the last */
    if (issued)
        st->gate = e->out->ncomm - 2 > st->gate ? e->out->ncomm - 2 : st->gate;
}

/* A gradient through the reduce bucket: one that would overflow it sends
 * the bucket first; one larger than the bucket is only marked and goes
 * with the next overflow (stage3.py :1433-1437, :1452-1453, :1465).  The
 * reduction is issued at the hook, while the kernels that write the
 * gradient may still run: no stream wait links the reduction stream to
 * the compute (:1689-1720), so it can overlap the step's own compute. */
static void reduce_grad(emu *e, double g)
{
    if (g <= 0)
        return;
    if (e->bucket > 0 && e->bucket + g > e->cfg->reduce_bucket) {
        add_comm(e, e->bucket, 1);
        e->bucket = 0;
    }
    e->bucket += g;
}

/* The gradients of a backward step; the tables' come last, with the
 * embedding's backward (the word table's once its two uses are summed). */
static void reduce_grads(emu *e, int mod)
{
    if (mod == M_POS) {
        reduce_grad(e, e->bs.root[R_WORD]);
        reduce_grad(e, e->bs.root[R_POS]);
    }
    for (int k = 0; mod < NMOD && k < MAX_LIST && grad_list[mod][k] >= 0; k++)
        reduce_grad(e, e->bs.param[grad_list[mod][k]]);
}

/* release_sub_module: every parameter but the persistent ones, unless the
 * module's next use is within the reuse distance.  The root's tables stay:
 * its post-forward hook comes after the logits, next to its pre-backward
 * (distance 0), and it has no post-backward (token ids need no gradient). */
static void release(emu *e, int i)
{
    const entry *at = &e->tr[i];
    int next = e->next_use[i], id;
    double distance = next < e->n ? e->before[next] - e->before[i + 1] : INFINITY, p;
    if (at->mod == M_ROOT || distance < e->cfg->max_reuse)
        return;
    for (int k = 0; (id = param_at(e, at, k, &p)) >= 0; k++) {
        if (p <= 0 || p < e->cfg->persist || e->state[id] != AVAIL)
            continue;
        e->state[id] = NA;
        e->avail -= p;
    }
}

/* After an optimizer step (_post_step, stage3.py:2339-2344) the persistent
 * parameters are gathered again: the first microbatch finds them
 * available (later ones of the same step do not: the end of each backward
 * releases everything).  That gather goes around the coordinator, so its
 * live count leaves them out (from the second step on; the end of the
 * backward subtracts them all the same: the count drifts lower by as much
 * every step, not modelled). */
static void persistent_available(emu *e)
{
    for (int L = 0; L < e->layers; L++)
        for (int k = 0; k < NPARAM; k++) {
            double p = e->bs.param[k];
            if (p > 0 && p < e->cfg->persist)
                e->state[L * NPARAM + k] = AVAIL;
        }
}

/* A later microbatch of the second step: the first one's end of backward
 * subtracted the persistent parameters it had never counted, so the count
 * starts that much below zero (and they are gathered, counted, again). */
static void count_after_first(emu *e)
{
    for (int L = 0; L < e->layers; L++)
        for (int k = 0; k < NPARAM; k++) {
            double p = e->bs.param[k];
            if (p > 0 && p < e->cfg->persist)
                e->avail -= p;
        }
}

/* A container's external parameters stay while its children run
 * (ds_active_sub_modules, stage3.py:424-433), released by them or at the
 * end: containers release nothing here. */
static int is_container(int mod) { return mod == M_BLOCK || mod == M_ATTN || mod == M_MLP; }

static void run(emu *e)
{
    z3c_trace *t = e->out;
    for (int i = 0; i < e->n; i++) {
        const entry *at = &e->tr[i];
        CS_GROW(t->steps, e->capsteps, t->nsteps + 1);
        z3c_step *st = &t->steps[t->nsteps++];
        double share = at->mod >= NMOD ? 0 : e->bs.flops[at->mod] / e->flops_of_layer;
        *st = (z3c_step){at->pass, at->layer, share, t->ncomm, 0, -1};
        if (at->pass == Z3C_BWD && at->mod < NMOD && pre_grad[at->mod])
            reduce_grad(e, e->bs.param[pre_grad[at->mod] - 1]); /* waited for by the fetch */
        fetch(e, at, st);
        prefetch(e, i, st);
        if (at->pass == Z3C_BWD)
            reduce_grads(e, at->mod);
        if (i == e->n - 1 && e->bucket > 0) /* the epilogue sends the rest */
            add_comm(e, e->bucket, 1);
        if (!is_container(at->mod))
            release(e, i);
    }
}

int z3c_build(const model_desc *m, const layout_desc *l, int layers, int after_step,
              const z3c_config *cfg, z3c_trace *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    if (layers < 1)
        return cs_fail(err, "zero3_coord: %d layers", layers);
    emu e = {.cfg = cfg, .out = out, .layers = layers};
    block_shapes(m, l, &e.bs);
    for (int k = 0; k < NMOD; k++)
        e.flops_of_layer += e.bs.flops[k];
    for (int k = 0; k < NPARAM; k++)
        out->block_elems += e.bs.param[k];
    out->root_elems = e.bs.root[R_WORD] + e.bs.root[R_POS];
    int recompute = l->recompute == LAYOUT_RECOMPUTE_FULL;
    size_t cap = (size_t)layers * NMOD * (recompute ? 3 : 2) + 4;
    e.tr = malloc(cap * sizeof *e.tr);
    e.before = malloc((cap + 1) * sizeof *e.before);
    e.next_use = malloc(cap * sizeof *e.next_use);
    e.state = calloc((size_t)(layers + 1) * NPARAM, 1);
    e.flight = malloc((size_t)(layers + 1) * NPARAM * sizeof *e.flight);
    if (!e.tr || !e.before || !e.next_use || !e.state || !e.flight)
        abort();
    out->layers = layers;
    build_trace(&e, recompute);
    if (after_step)
        persistent_available(&e);
    else
        count_after_first(&e);
    run(&e);
    free(e.tr);
    free(e.before);
    free(e.next_use);
    free(e.state);
    free(e.flight);
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
