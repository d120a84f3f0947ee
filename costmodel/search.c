/* search: the layout space, its rules, the closed-form pass over threads,
 * ranking and the Pareto front (see search.h). */
#include "search.h"
#include "sharding.h"


#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_alloc.h"
#include "goodput.h"
#include "layout_stages.h"
#include "memory.h"
#include "parmap.h"
#include "units.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

const char *search_rule_name(int rule)
{
    static const char *const names[SEARCH_NRULES] = {
        "tp divides heads, kv heads and MLP width",
        "tp within a node",
        "pp x vpp divides the layers, or the uneven split's rules",
        "dp x mbs divides the global batch",
        "interleaved needs pp >= 2 and microbatches a multiple of pp",
        "sp needs tp > 1 dividing the sequence",
        "zero >= 1 needs dp > 1",
        "the HSDP shard group divides dp",
        "at pp 1 only 1f1b: gpipe holds more, zero-bubble waits longer (unless fixed)",
        "cp: seq divisible by 2 cp; all-to-all group dividing heads / tp",
        "other layout rules",
        "offload rules (DeepSpeed's ZeRO stages, Fuyou's one GPU, NVMe drives)",
        "etp x ep divides tp x dp (expert layers reuse the dense ranks)",
    };
    return rule >= 0 && rule < SEARCH_NRULES ? names[rule] : "?";
}

/* ---- enumeration ------------------------------------------------------------- */

typedef struct enum_ctx {
    const search_input *in;
    int per_node;
    search_result *out;
    int cap;
    long stride; /* judge every stride-th combination (space_stride); 0: count only */
} enum_ctx;

/* The first rule the layout breaks, or -1 (then layout_validate decides). */
static int broken_rule(const enum_ctx *e, const layout_desc *l)
{
    const model_desc *m = e->in->model;
    if (m->heads % l->tp || m->kv_heads % l->tp || m->ffn_hidden % l->tp)
        return SEARCH_RULE_TP_SHAPE;
    if (!l->allow_tp_across_nodes && (l->tp > e->per_node || e->per_node % l->tp))
        return SEARCH_RULE_TP_NODE;
    if (layout_stage_rules(l, m, NULL) != 0) /* even, or uneven (layout_stages.h) */
        return SEARCH_RULE_LAYERS;
    if (l->gbs % ((long long)l->dp * l->mbs)) /* dp x mbs passes 2^31 at gbs near 2^28 */
        return SEARCH_RULE_BATCH;
    if (l->schedule == LAYOUT_SCHEDULE_INTERLEAVED &&
        (l->pp < 2 || layout_microbatches(l) % l->pp))
        return SEARCH_RULE_INTERLEAVED;
    if (l->sp && (l->tp < 2 || m->seq_len % l->tp))
        return SEARCH_RULE_SP;
    if (l->zero && layout_dp_cp(l) < 2 && !l->offload) /* shards over dp x cp; DeepSpeed
                                                         * offloads under ZeRO on one GPU too */
        return SEARCH_RULE_ZERO;
    if (l->shard_group && l->dp % l->shard_group)
        return SEARCH_RULE_HSDP;
    if (layout_cp_of(l) > 1 && layout_check_cp(l, m, e->per_node, NULL) != 0)
        return SEARCH_RULE_CP;
    if (((long long)l->tp * l->dp) % ((long long)layout_etp_of(l) * layout_ep_of(l)))
        return SEARCH_RULE_EP;
    /* one stage: no pipeline, nothing to overlap.  GPipe takes the time of
     * 1F1B and holds every microbatch's activations instead of one; the
     * zero-bubble orders have no bubble to fill and, W run apart, reduce
     * their gradient buckets later (0.6% slower on llama2-7b tp2 pp1): never
     * better, and duplicates in the top K */
    int one_stage_dup = l->schedule == LAYOUT_SCHEDULE_GPIPE ||
                        l->schedule == LAYOUT_SCHEDULE_ZB_H1 ||
                        l->schedule == LAYOUT_SCHEDULE_ZB_H2 || l->schedule == LAYOUT_SCHEDULE_ZB_AUTO;
    if (l->pp == 1 && one_stage_dup && e->in->space.fix.schedule != (int)l->schedule)
        return SEARCH_RULE_ONE_STAGE;
    if (l->offload && offload_validate(l, topo_node_type(e->in->topology, 0), NULL) != 0)
        return SEARCH_RULE_OFFLOAD;
    if (layout_validate(l, m, e->in->gpus, e->per_node, NULL) != 0)
        return SEARCH_RULE_OTHER;
    return -1;
}

static void consider(enum_ctx *e, const layout_desc *l)
{
    search_result *r = e->out;
    r->space++;
    if (e->stride == 0 || (r->space - 1) % e->stride != 0)
        return; /* counted, not judged (space_stride) */
    int rule = broken_rule(e, l);
    if (rule >= 0) {
        r->removed[rule]++;
        return;
    }
    CS_GROW(r->cands, e->cap, r->ncands + 1);
    r->cands[r->ncands++] = (search_candidate){.layout = *l};
    r->valid++;
}

static int free_or(int fixed, int value) { return fixed < 0 || fixed == value; }

/* The layout without offload and, when the space has offload, with every
 * (what, tier, engine) it allows; the rules drop the combinations that
 * cannot run. */
static void consider_offloads(enum_ctx *e, layout_desc *l)
{
    const search_space *sp = &e->in->space;
    l->offload = l->offload_to = l->offload_engine = 0;
    if (sp->offload <= 0)
        consider(e, l);
    if (sp->offload == 0)
        return;
    for (int what = OFFLOAD_OPTIMIZER; what <= OFFLOAD_ALL; what++)
        for (int to = OFFLOAD_TO_CPU; to <= OFFLOAD_TO_NVME; to++)
            for (int engine = 0; engine <= OFFLOAD_ENGINE_FUYOU; engine++) {
                if (!free_or(sp->offload, what) || !free_or(sp->offload_to, to))
                    continue;
                l->offload = what;
                l->offload_to = to;
                l->offload_engine = engine;
                consider(e, l);
            }
    l->offload = l->offload_to = l->offload_engine = 0;
}

/* Microbatch sizes: the fixed one, or powers of two up to the global batch. */
static int mbs_values(int gbs, int fixed, int *out)
{
    if (fixed) {
        out[0] = fixed;
        return 1;
    }
    int n = 0;
    for (long mbs = 1; mbs <= gbs; mbs *= 2)
        out[n++] = (int)mbs;
    return n;
}

/* The stage and the space's HSDP group and ZeRO-3 settings where the
 * stage uses them (layout_validate refuses them elsewhere). */
static void set_sharding(const search_space *sp, int zero, layout_desc *l)
{
    l->zero = zero;
    l->shard_group = zero >= 1 ? sp->shard_group : 0;
    l->prefetch = zero == 3 && sp->has_prefetch ? sp->prefetch : SHARDING_FSDP_PREFETCH;
    l->no_reshard = zero == 3 && sp->no_reshard;
}

/* The knobs that do not change the communication groups. */
static void enumerate_knobs(enum_ctx *e, layout_desc *l)
{
    const search_fix *fx = &e->in->space.fix;
    int mbs[32];
    int nmbs = mbs_values(l->gbs, fx->mbs, mbs);
    for (int i = 0; i < nmbs; i++)
        for (int sp = 0; sp <= 1; sp++)
            for (int rec = 0; rec <= 2; rec++)
                for (int zero = 0; zero <= SHARDING_MAX_STAGE; zero++) {
                    if (!free_or(fx->sp, sp) || !free_or(fx->recompute, rec) ||
                        !free_or(fx->zero, zero))
                        continue;
                    l->mbs = mbs[i];
                    l->sp = sp;
                    l->recompute = (layout_recompute)rec;
                    set_sharding(&e->in->space, zero, l);
                    consider_offloads(e, l);
                }
}

/* The layers' split for l's pp and vpp: the pinned first/last stage
 * counts, else the even split where pp x vpp divides the layers, else the
 * uneven one (layout_stage_auto_split); the rules drop what does not fit. */
static void set_stage_split(const enum_ctx *e, layout_desc *l)
{
    const search_fix *fx = &e->in->space.fix;
    int first = fx->first_layers, last = fx->last_layers;
    if (!first && !last &&
        layout_stage_auto_split(e->in->model->layers, l->pp, l->vpp, &first, &last) != 0)
        first = last = 0;
    l->pp_first_layers = first;
    l->pp_last_layers = last;
}

static void enumerate_pipeline(enum_ctx *e, layout_desc *l)
{
    const search_fix *fx = &e->in->space.fix;
    int max_vpp = e->in->space.max_vpp > 0 ? e->in->space.max_vpp : 8;
    for (int vpp = 1; vpp <= max_vpp; vpp++) {
        if (fx->vpp && vpp != fx->vpp)
            continue;
        l->vpp = vpp;
        set_stage_split(e, l);
        /* one chunk per rank; two in a V (or interleaved); more: interleaved */
        static const layout_schedule one[] = {
            LAYOUT_SCHEDULE_GPIPE, LAYOUT_SCHEDULE_1F1B,    LAYOUT_SCHEDULE_ZB_H1,
            LAYOUT_SCHEDULE_ZB_H2, LAYOUT_SCHEDULE_ZB_AUTO, LAYOUT_SCHEDULE_DUALPIPE};
        static const layout_schedule two[] = {LAYOUT_SCHEDULE_INTERLEAVED, LAYOUT_SCHEDULE_ZBV,
                                              LAYOUT_SCHEDULE_V_HALF, LAYOUT_SCHEDULE_V_MIN};
        const layout_schedule *list = vpp == 1 ? one : two;
        int nsched = vpp == 1 ? 6 : vpp == 2 ? 4 : 1;
        for (int k = 0; k < nsched; k++) {
            l->schedule = list[k];
            if (free_or(fx->schedule, (int)l->schedule))
                enumerate_knobs(e, l);
        }
    }
}

static void enumerate_ep(enum_ctx *e, layout_desc *l);

/* pp (and so dp) and the context-parallel variants for l's tp and cp. */
static void enumerate_cp(enum_ctx *e, layout_desc *l)
{
    const search_fix *fx = &e->in->space.fix;
    int rest = e->in->gpus / (l->tp * l->cp);
    for (int pp = 1; pp <= rest; pp++) {
        if (rest % pp || (fx->pp && pp != fx->pp))
            continue;
        l->pp = pp, l->dp = rest / pp;
        if (fx->dp && l->dp != fx->dp)
            continue;
        for (int comm = 0; comm < (l->cp > 1 ? 3 : 1); comm++) {
            l->cp_comm = (layout_cp_comm)comm;
            int a2a = layout_cp_a2a_ranks(l, e->per_node);
            /* a2a+p2p whose all-to-all group is 1 or cp is p2p or a2a again */
            int same = l->cp_comm == LAYOUT_CP_A2A_P2P && (a2a == 1 || a2a == l->cp);
            if (l->cp == 1 || (free_or(fx->cp_comm, comm) && (!same || fx->cp_comm == comm)))
                enumerate_ep(e, l);
        }
    }
}


/* Expert parallelism: every divisor of the routed experts (1 for a dense
 * model), or the fixed one. */
static void enumerate_ep(enum_ctx *e, layout_desc *l)
{
    int experts = e->in->model->moe_experts, fixed = e->in->space.fix.ep;
    for (int ep = 1; ep <= (experts > 0 ? experts : 1); ep++) {
        /* expert and context parallelism together are not modelled */
        if ((experts > 0 && experts % ep) || (fixed && ep != fixed) || (ep > 1 && l->cp > 1))
            continue;
        l->ep = ep;
        enumerate_pipeline(e, l);
    }
}

/* A fixed ep must divide the experts (and needs an MoE model). */
static int check_fixed_ep(const search_input *in, cs_err *err)
{
    int ep = in->space.fix.ep, experts = in->model->moe_experts;
    if (ep <= 1 || (experts > 0 && experts % ep == 0))
        return 0;
    if (experts <= 0)
        return cs_fail(err, "--fix ep=%d: model '%s' has no experts; use ep=1", ep,
                       in->model->name);
    int below = 0, above = 0;
    for (int d = 1; d <= experts; d++)
        if (experts % d == 0 && d < ep)
            below = d;
        else if (experts % d == 0 && d > ep && !above)
            above = d;
    return cs_fail(err, "--fix ep=%d does not divide the %d experts; nearest valid ep: %d%s%.0d",
                   ep, experts, below, above ? ", " : "", above);
}

static void enumerate(enum_ctx *e)
{
    const search_input *in = e->in;
    const search_fix *fx = &in->space.fix;
    int max_tp = in->space.max_tp > 0 ? in->space.max_tp : e->per_node;
    layout_desc l;
    layout_init(&l, in->model);
    l.gbs = in->gbs;
    l.dtype = in->dtype;
    l.flash_attention = in->flash_attention;
    l.framework = in->framework;
    l.post_validation = in->post_validation;
    l.allow_tp_across_nodes = max_tp > e->per_node;
    int max_cp = fx->cp ? fx->cp : in->space.max_cp > 1 ? in->space.max_cp : 1;
    for (int tp = 1; tp <= max_tp && tp <= in->gpus; tp++) {
        if (in->gpus % tp || (fx->tp && tp != fx->tp))
            continue;
        for (int cp = 1; cp <= max_cp && cp <= in->gpus / tp; cp++) {
            if ((in->gpus / tp) % cp || (fx->cp && cp != fx->cp))
                continue;
            l.tp = tp, l.cp = cp;
            enumerate_cp(e, &l);
        }
    }
}

/* The layouts evaluated: all of them, except in the fuzzing build
 * (-Dfuzz=true defines SEARCH_MAX_EVALUATED, as it lowers GOODPUT_MAX_EVENTS):
 * under its sanitizers and coverage a layout's closed form takes milliseconds,
 * and the first ones stand for the rest; the others are left unevaluated (and
 * their communication groups unbuilt), as when a search is interrupted, so
 * that path is fuzzed as well. */
static int evaluable(const search_result *r)
{
#ifdef SEARCH_MAX_EVALUATED
    return r->ncands < SEARCH_MAX_EVALUATED ? r->ncands : SEARCH_MAX_EVALUATED;
#else
    return r->ncands;
#endif
}

/* ---- communication groups, one per (tp, pp) ------------------------------------ */

typedef struct group_table {
    commcost_groups **groups; /* [ncands]: the candidate's groups (shared) */
    commcost_groups **owned;
    int nowned;
} group_table;

static int build_groups(const search_input *in, const search_result *r, group_table *gt,
                        double t0, cs_err *err)
{
    gt->groups = calloc((size_t)r->ncands + 1, sizeof *gt->groups);
    gt->owned = calloc((size_t)r->ncands + 1, sizeof *gt->owned);
    if (!gt->groups || !gt->owned)
        abort();
    for (int i = 0; i < evaluable(r); i++) {
        const layout_desc *l = &r->cands[i].layout;
        for (int k = gt->nowned - 1; k >= 0 && !gt->groups[i]; k--)
            if (commcost_groups_match(gt->owned[k], l))
                gt->groups[i] = gt->owned[k];
        if (gt->groups[i])
            continue;
        if (in->progress) /* each new mapping is routed: the slow part on large jobs */
            in->progress(in->progress_ctx, "layouts planned", i, evaluable(r), now_s() - t0);
        if (commcost_groups_build(in->topology, l, &gt->owned[gt->nowned], err) != 0)
            return -1;
        gt->groups[i] = gt->owned[gt->nowned++];
    }
    if (in->progress)
        in->progress(in->progress_ctx, "layouts planned", evaluable(r), evaluable(r),
                     now_s() - t0);
    return 0;
}

static void free_groups(group_table *gt)
{
    for (int k = 0; k < gt->nowned; k++)
        commcost_groups_free(gt->owned[k]);
    free(gt->owned);
    free(gt->groups);
}

/* ---- the closed-form pass over threads ---------------------------------------- */

typedef struct eval_ctx {
    const search_input *in;
    search_result *r;
    const group_table *gt;
    atomic_long done;
    int nthreads;
    atomic_long next; /* the first candidate no worker has taken */
} eval_ctx;

typedef struct worker {
    eval_ctx *ctx;
    pthread_t thread;
} worker;

/* Expected goodput and tokens per day under the fault model (search.h). */
static void expect_goodput(const search_input *in, search_candidate *c)
{
    const search_faults *f = in->faults;
    ckpt_cost ck;
    if (ckpt_cost_of(in->model, &c->layout, f->node, &f->storage, in->eff->profile, &ck, NULL) != 0)
        return;
    double d = f->async ? ck.snapshot_s : ck.sync_s;
    double restart = f->down_s + ck.reload_s + (f->async ? ck.sync_s : 0);
    double t = goodput_daly_interval(d, f->mtbf_s);
    c->ckpt_s = d;
    c->goodput = goodput_daly_goodput(t, d, restart, f->mtbf_s);
    c->tokens_per_day = c->tokens_per_s * 86400 * c->goodput;
}

static void evaluate(const search_input *in, const commcost_groups *g, search_candidate *c)
{
    estimate_input ei = {in->model, &c->layout, in->topology, in->gpus, in->eff};
    estimate_result res;
    if (estimate_begin(&ei, &res, NULL) == 0) {
        c->fits = res.fits;
        c->peak_mem_bytes = res.peak_mem_bytes;
        c->peak_stage = res.peak_stage;
        c->evaluated = !c->fits && !in->time_misfits; /* memory alone: search.h */
        if (!c->evaluated && estimate_analytic_times(&ei, g, &res, NULL) == 0) {
            c->evaluated = 1;
            c->iteration_s = res.iteration_s;
            c->tokens_per_s = res.tokens_per_s;
            c->mfu = res.mfu;
            if (in->faults && c->fits)
                expect_goodput(in, c);
        }
    }
    estimate_result_free(&res);
}

/* Each worker takes the next EVAL_CHUNK candidates in turn: each figure
 * depends only on its own layout, so the result is the same for any T and
 * any split.  Runs of neighbouring candidates share their unit orders
 * (schedule_view.c); until session 6 worker k took k, k + T, k + 2T, ...,
 * so both threads met each new order at once and both built it (a third
 * of the 96-GPU GPT-3 search's closed form on 2 threads). */
enum { EVAL_CHUNK = 32 };

static void *work(void *arg)
{
    worker *w = arg;
    eval_ctx *ctx = w->ctx;
    int n = evaluable(ctx->r);
    for (;;) {
        long from = atomic_fetch_add_explicit(&ctx->next, EVAL_CHUNK, memory_order_relaxed);
        if (from >= n)
            break;
        for (int i = (int)from; i < n && i < from + EVAL_CHUNK; i++) {
            if (ctx->in->stop && *ctx->in->stop)
                return NULL;
            evaluate(ctx->in, ctx->gt->groups[i], &ctx->r->cands[i]);
            atomic_fetch_add_explicit(&ctx->done, 1, memory_order_relaxed);
        }
    }
    return NULL;
}

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

static void run_workers(const search_input *in, search_result *r, const group_table *gt,
                        double t0)
{
    eval_ctx ctx = {in, r, gt, 0, in->threads > 0 ? in->threads : 1, 0};
    worker *ws = cs_xrealloc(NULL, sizeof *ws * (size_t)ctx.nthreads);
    for (int k = 0; k < ctx.nthreads; k++) {
        ws[k] = (worker){&ctx, 0};
        if (pthread_create(&ws[k].thread, NULL, work, &ws[k]) != 0) {
            fprintf(stderr, "clustersim: cannot start a thread\n");
            abort();
        }
    }
    /* poll every millisecond (so a short pass is not rounded up to a
     * report interval), report ten times a second */
    long done;
    double next_report = 0;
    while ((done = atomic_load(&ctx.done)) < evaluable(r) && !(in->stop && *in->stop)) {
        double t = now_s() - t0;
        if (in->progress && t >= next_report) {
            in->progress(in->progress_ctx, "layouts", done, r->ncands, t);
            next_report = t + 0.1;
        }
        sleep_s(0.001);
    }
    for (int k = 0; k < ctx.nthreads; k++)
        pthread_join(ws[k].thread, NULL);
    if (in->progress)
        in->progress(in->progress_ctx, "layouts", atomic_load(&ctx.done), r->ncands,
                     now_s() - t0);
    free(ws);
}

/* Under a backend (MPI ranks), the layouts are divided over the ranks
 * instead (parmap): each result is the layout's own, so the same bytes. */
typedef struct rank_ctx {
    const search_input *in;
    const search_result *r;
    const group_table *gt;
} rank_ctx;

static void eval_item(void *ctx, long i, void *out)
{
    const rank_ctx *c = ctx;
    search_candidate cand = c->r->cands[i];
    evaluate(c->in, c->gt->groups[i], &cand);
    memcpy(out, &cand, sizeof cand);
}

static void layout_label(void *ctx, long i, char *buf, size_t n)
{
    layout_describe(&((const rank_ctx *)ctx)->r->cands[i].layout, buf, (int)n);
}

static void run_ranks(const search_input *in, search_result *r, const group_table *gt)
{
    if (r->ncands == 0)
        return;
    rank_ctx c = {in, r, gt};
    parmap_job pj = {.n = evaluable(r), .out_size = sizeof *r->cands, .item = eval_item, .ctx = &c,
                     .label = layout_label, .what = "search layout", .chunk_max = 64};
    search_candidate *outs = cs_xrealloc(NULL, sizeof *outs * (size_t)r->ncands);
    parmap_run(&pj, outs); /* not into cands: an item reads its layout there */
    memcpy(r->cands, outs, sizeof *outs * (size_t)evaluable(r));
    free(outs);
}

/* Every combination is judged by the rules, except in the fuzzing build
 * (-Dfuzz=true defines SEARCH_MAX_SPACE, as SEARCH_MAX_EVALUATED above):
 * there the rules and layout_validate of every combination (198,528 in a
 * 96-GPU search) were a fifth of fuzz_lua_api's CPU under the
 * instrumentation (validate/robustness.md).  A space over the bound is
 * counted first and then every stride-th combination judged, so every tp,
 * pp and schedule still meets the rules; the others are counted in the
 * space, neither ruled out nor kept, and the search reports itself
 * interrupted, as when SEARCH_MAX_EVALUATED leaves layouts unevaluated. */
static long space_stride(enum_ctx *e)
{
#ifdef SEARCH_MAX_SPACE
    e->stride = 0;
    enumerate(e);
    long stride = (e->out->space + SEARCH_MAX_SPACE - 1) / SEARCH_MAX_SPACE;
    e->out->space = 0;
    return stride > 1 ? stride : 1;
#else
    (void)e;
    return 1;
#endif
}

int search_run(const search_input *in, search_result *out, cs_err *err)
{
    double t0 = now_s();
    memset(out, 0, sizeof *out);
    if (in->gpus < 1 || in->gpus > topo_gpu_count(in->topology))
        return cs_fail(err, "search: %d GPUs; the system has %d", in->gpus,
                       topo_gpu_count(in->topology));
    if (in->gbs < 1)
        return cs_fail(err, "search: the global batch must be at least 1, not %d", in->gbs);
    if (check_fixed_ep(in, err) != 0)
        return -1;
    enum_ctx e = {in, topo_node_type(in->topology, 0)->gpus, out, 0, 0};
    e.stride = space_stride(&e);
    enumerate(&e);
    group_table gt = {0};
    double tg = now_s();
    int rc = build_groups(in, out, &gt, tg, err);
    out->groups = gt.nowned;
    out->groups_s = now_s() - tg;
    double te = now_s();
    if (rc == 0 && parmap_size() > 1 && !parmap_nested())
        run_ranks(in, out, &gt);
    else if (rc == 0)
        run_workers(in, out, &gt, te);
    out->eval_s = now_s() - te;
    free_groups(&gt);
    for (int i = 0; i < out->ncands; i++) {
        out->evaluated += out->cands[i].evaluated;
        out->fitting += out->cands[i].evaluated && out->cands[i].fits;
    }
    out->interrupted = out->evaluated < out->ncands || e.stride > 1;
    out->wall_s = now_s() - t0;
    return rc;
}

void search_result_free(search_result *r)
{
    free(r->cands);
    r->cands = NULL;
    r->ncands = 0;
}

/* ---- ranking, the front, the closest miss -------------------------------------- */

typedef struct rank_key {
    double k1, k2;
    int index;
} rank_key;

static int key_cmp(const void *a, const void *b)
{
    const rank_key *x = a, *y = b;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    if (x->k2 != y->k2)
        return x->k2 < y->k2 ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

int search_rank(const search_result *r, search_objective obj, int *order, int max)
{
    rank_key *keys = cs_xrealloc(NULL, sizeof *keys * (size_t)(r->ncands + 1));
    int n = 0;
    for (int i = 0; i < r->ncands; i++) {
        const search_candidate *c = &r->cands[i];
        if (!c->evaluated || !c->fits)
            continue;
        rank_key k = {c->iteration_s, 0, i};
        if (obj == SEARCH_MFU)
            k = (rank_key){-c->mfu, c->iteration_s, i};
        else if (obj == SEARCH_MEMORY)
            k = (rank_key){c->peak_mem_bytes, c->iteration_s, i};
        else if (obj == SEARCH_GOODPUT)
            k = (rank_key){-c->tokens_per_day, c->iteration_s, i};
        keys[n++] = k;
    }
    qsort(keys, (size_t)n, sizeof *keys, key_cmp);
    int written = n < max ? n : max;
    for (int i = 0; i < written; i++)
        order[i] = keys[i].index;
    free(keys);
    return written;
}

void search_pareto(const search_result *r, int *on_front)
{
    rank_key *keys = cs_xrealloc(NULL, sizeof *keys * (size_t)(r->ncands + 1));
    int n = 0;
    for (int i = 0; i < r->ncands; i++) {
        on_front[i] = 0;
        const search_candidate *c = &r->cands[i];
        if (c->evaluated && c->fits)
            keys[n++] = (rank_key){c->iteration_s, c->peak_mem_bytes, i};
    }
    qsort(keys, (size_t)n, sizeof *keys, key_cmp);
    double best_mem = INFINITY;
    for (int k = 0; k < n; k++)
        if (keys[k].k2 < best_mem) { /* faster ones all hold more memory */
            on_front[keys[k].index] = 1;
            best_mem = keys[k].k2;
        }
    free(keys);
}

int search_closest_miss(const search_result *r)
{
    int best = -1;
    for (int i = 0; i < r->ncands; i++) {
        const search_candidate *c = &r->cands[i];
        if (c->evaluated && !c->fits &&
            (best < 0 || c->peak_mem_bytes < r->cands[best].peak_mem_bytes))
            best = i;
    }
    return best;
}

/* ---- parsing ------------------------------------------------------------------- */

int search_objective_parse(const char *text, search_objective *out, cs_err *err)
{
    static const char *const names[] = {"time", "mfu", "memory", "goodput"};
    for (int i = 0; i < 4; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (search_objective)i;
            return 0;
        }
    return cs_fail(err, "objective '%s' is not one of time, mfu, memory, goodput", text);
}

void search_fix_init(search_fix *fix)
{
    *fix = (search_fix){0, 0, 0, 0, 0, -1, -1, -1, -1, 0, -1, 0, 0, 0};
}

static int fix_one(const char *key, const char *value, search_fix *fix, cs_err *err)
{
    struct { const char *key; int *field; long max; } ints[] = {
        {"tp", &fix->tp, 1 << 16}, {"pp", &fix->pp, 1 << 16}, {"dp", &fix->dp, 1 << 24},
        {"vpp", &fix->vpp, 1024},  {"mbs", &fix->mbs, 1 << 20}, {"sp", &fix->sp, 1},
        {"zero", &fix->zero, SHARDING_MAX_STAGE}, {"cp", &fix->cp, 1 << 16},
        {"ep", &fix->ep, 1 << 16},
        {"first_layers", &fix->first_layers, 1 << 20}, {"last_layers", &fix->last_layers, 1 << 20}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (strcmp(key, ints[i].key) == 0) {
            long v;
            char what[32];
            snprintf(what, sizeof what, "--fix %s", key);
            long min = ints[i].field == &fix->sp || ints[i].field == &fix->zero ? 0 : 1;
            if (units_parse_int(value, what, min, ints[i].max, &v, err) != 0)
                return -1;
            *ints[i].field = (int)v;
            return 0;
        }
    if (strcmp(key, "recompute") == 0) {
        layout_recompute r;
        if (layout_recompute_parse(value, "--fix recompute", &r, err) != 0)
            return -1;
        fix->recompute = (int)r;
        return 0;
    }
    if (strcmp(key, "cp_comm") == 0) {
        layout_cp_comm c;
        if (layout_cp_comm_parse(value, "--fix cp_comm", &c, err) != 0)
            return -1;
        fix->cp_comm = (int)c;
        return 0;
    }
    if (strcmp(key, "schedule") == 0) {
        layout_schedule s;
        if (layout_schedule_parse(value, "--fix schedule", &s, err) != 0)
            return -1;
        fix->schedule = (int)s;
        return 0;
    }
    return cs_fail(err, "--fix: unknown knob '%s'; valid: tp, pp, dp, vpp, mbs, sp, zero, "
                        "recompute, schedule, cp, cp_comm, ep, first_layers, last_layers", key);
}

int search_fix_parse(const char *text, search_fix *fix, cs_err *err)
{
    char buf[512];
    if (strlen(text) >= sizeof buf)
        return cs_fail(err, "--fix: too long (at most %zu characters)", sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", text);
    size_t n = strlen(buf);
    if (n == 0 || buf[0] == ',' || buf[n - 1] == ',' || strstr(buf, ",,"))
        return cs_fail(err, "--fix: '%s' has an empty item (such as tp=8,pp=4)", text);
    const char *seen[256];
    int nseen = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1])
            return cs_fail(err, "--fix: '%s' is not KNOB=VALUE (such as tp=8,pp=4)", tok);
        *eq = '\0';
        for (int i = 0; i < nseen; i++)
            if (strcmp(seen[i], tok) == 0)
                return cs_fail(err, "--fix: knob '%s' given twice: give it once", tok);
        seen[nseen++] = tok; /* at most 256: every item takes 2 of the 512 characters */
        if (fix_one(tok, eq + 1, fix, err) != 0)
            return -1;
    }
    return 0;
}
