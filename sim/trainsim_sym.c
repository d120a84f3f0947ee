/* trainsim_sym: symmetry classes of an every-rank iteration (see
 * trainsim_private.h).
 *
 * With every rank simulated, tensor rank r of a stage runs the same tasks as
 * rank 0 (the same durations: nothing slows one GPU) and meets it at every
 * tensor-parallel collective.  Its pipeline transfers, data-parallel
 * collectives and embedding all-reduce are flows of their own.  When those
 * flows cross links that no other rank and no tensor-parallel collective
 * uses, and the links pair up with rank 0's one to one, hop by hop, with
 * the same capacity, latency and weight (so that the flows of rank r share
 * links among themselves exactly as rank 0's do), then rank r's flows get
 * rank 0's rates at every instant and its tasks rank 0's times: leaving
 * them out changes no time of a task that stays.  The pairing is checked on
 * every flow (collectives' plans before emission, transfers' routes, with
 * the ECMP salts of the whole graph, before the transfers are emitted), so
 * that a straggler, a slow link, a shared leaf or an equal-cost choice that
 * differs between the ranks falls back to simulating every rank. */
#include "trainsim_private.h"

#include <stdlib.h>
#include <string.h>

#include "keymap.h"
#include "schedule.h"
#include "topo.h"

typedef struct sym_state {
    topo *t;
    int tp, nlinks;
    int32_t *owner; /* per link: -1 unused so far, -2 a tensor-parallel collective's, r: rank r's */
    int32_t *map;   /* per link of a rank r > 0: its partner on rank 0, or -1 */
    int32_t *rev;   /* [link0 * tp + r]: rank r's partner of rank-0 link link0, or -1 */
    /* (src, dst) GPU pairs of left-out transfers already paired on routes no
     * salt changes (no hashed choice): every microbatch's transfer between
     * them takes the same two routes, and pairing the same hops again
     * cannot fail (claims and partners only ever get set), so it is not
     * routed again. */
    keymap paired;
} sym_state;

#define OWNER_TP (-2)

static int32_t *links_array(size_t n)
{
    int32_t *a = cs_xrealloc(NULL, sizeof *a * (n ? n : 1));
    memset(a, 0xff, sizeof *a * (n ? n : 1)); /* every entry -1 */
    return a;
}

static sym_state *state_new(topo *t, int tp)
{
    sym_state *st = cs_xrealloc(NULL, sizeof *st);
    memset(st, 0, sizeof *st);
    st->t = t;
    st->tp = tp;
    st->nlinks = topo_link_count(t);
    st->owner = links_array((size_t)st->nlinks);
    st->map = links_array((size_t)st->nlinks);
    st->rev = links_array((size_t)st->nlinks * (size_t)tp);
    return st;
}

static void state_free(sym_state *st)
{
    if (!st)
        return;
    free(st->owner);
    free(st->map);
    free(st->rev);
    keymap_free(&st->paired);
    free(st);
}

/* A link used by `who`: fails when another rank (or a tensor-parallel
 * collective) uses it too. */
static int claim(sym_state *st, int32_t link, int32_t who)
{
    if (st->owner[link] == -1)
        st->owner[link] = who;
    return st->owner[link] == who;
}

/* Pairs link lr of rank r with link l0 of rank 0, crossed with weights wr
 * and w0: the same kind of link, the same capacity and latency, and a
 * pairing consistent with every earlier one (one to one). */
static int pair_hop(sym_state *st, int r, int32_t l0, int32_t lr, uint32_t w0, uint32_t wr)
{
    if (w0 != wr || !claim(st, l0, 0) || !claim(st, lr, r))
        return 0;
    const topo_link *a = topo_link_at(st->t, l0), *c = topo_link_at(st->t, lr);
    if (a->bw_bytes_per_s != c->bw_bytes_per_s || a->latency_ps != c->latency_ps ||
        a->kind != c->kind)
        return 0;
    int32_t *back = &st->rev[(size_t)l0 * (size_t)st->tp + (size_t)r];
    if (st->map[lr] == -1 && *back == -1) {
        st->map[lr] = l0;
        *back = lr;
    }
    return st->map[lr] == l0 && *back == lr;
}

static uint32_t weight_at(const coll_coflow *cf, int i) { return cf->weights ? cf->weights[i] : 1; }

static int pair_coflow(sym_state *st, int r, const coll_coflow *a, const coll_coflow *c)
{
    if (a->nlinks != c->nlinks || a->npairs != c->npairs || a->bytes_per_size != c->bytes_per_size ||
        a->latency_ps != c->latency_ps || a->fill_hops != c->fill_hops)
        return 0;
    for (int i = 0; i < a->nlinks; i++)
        if (!pair_hop(st, r, a->links[i], c->links[i], weight_at(a, i), weight_at(c, i)))
            return 0;
    return 1;
}

/* Plan pr of rank r against plan p0 of rank 0: the same algorithm and
 * sizes, every coflow paired hop by hop. */
static int pair_plan(sym_state *st, int r, const coll_plan *p0, const coll_plan *pr)
{
    if (p0->op != pr->op || p0->algo != pr->algo || p0->nranks != pr->nranks ||
        p0->nnodes != pr->nnodes || p0->channels != pr->channels || p0->nphases != pr->nphases ||
        p0->launch_ps != pr->launch_ps || p0->chunk_bytes != pr->chunk_bytes)
        return 0;
    for (int ph = 0; ph < p0->nphases; ph++) {
        const coll_phase *a = &p0->phases[ph], *c = &pr->phases[ph];
        if (a->ncoflows != c->ncoflows)
            return 0;
        for (int k = 0; k < a->ncoflows; k++)
            if (!pair_coflow(st, r, &a->coflows[k], &c->coflows[k]))
                return 0;
    }
    return 1;
}

static void claim_tp_plan(sym_state *st, const coll_plan *p, int *ok)
{
    for (int ph = 0; ph < p->nphases; ph++)
        for (int k = 0; k < p->phases[ph].ncoflows; k++)
            for (int i = 0; i < p->phases[ph].coflows[k].nlinks; i++)
                *ok = *ok && claim(st, p->phases[ph].coflows[k].links[i], OWNER_TP);
}

/* The embedding all-reduce of member k (rank r > 0) against rank 0's of
 * its replica: both plans built as emit_embedding_allreduce builds them. */
static int pair_embedding(sym_state *st, const builder *b, int k)
{
    int r = member_tp(b, k), last = b->l->pp - 1;
    int32_t pr[2] = {gpu_of(b, 0, k), gpu_of(b, last, k)};
    int32_t p0[2] = {gpu_of(b, 0, k - r), gpu_of(b, last, k - r)};
    coll_params params;
    coll_params_default(&params);
    coll_plan a, c;
    cs_err err;
    memset(&a, 0, sizeof a);
    memset(&c, 0, sizeof c);
    int ok = coll_plan_build(b->in->topology, COLL_ALLREDUCE, COLL_ALGO_RING, p0, 2, &params, &a,
                             &err) == 0 &&
             coll_plan_build(b->in->topology, COLL_ALLREDUCE, COLL_ALGO_RING, pr, 2, &params, &c,
                             &err) == 0 &&
             pair_plan(st, r, &a, &c);
    coll_plan_free(&a);
    coll_plan_free(&c);
    return ok;
}

/* Every collective of ranks r > 0 paired with rank 0's. */
static int pair_collectives(sym_state *st, const builder *b)
{
    const layout_desc *l = b->l;
    int ok = 1;
    for (int i = 0; ok && i < l->pp * l->dp * NTP; i++)
        claim_tp_plan(st, &b->tp_plans[i], &ok);
    for (int s = 0; ok && l->dp > 1 && s < l->pp; s++)
        for (int r = 1; ok && r < l->tp; r++)
            for (int which = 0; ok && which < (l->zero ? NDP : 1); which++)
                ok = pair_plan(st, r, &b->dp_plans[(s * l->tp) * NDP + which],
                               &b->dp_plans[(s * l->tp + r) * NDP + which]);
    for (int k = 0; ok && b->cc.emb_bytes && l->pp > 1 && k < b->nmem; k++)
        if (member_tp(b, k) > 0)
            ok = pair_embedding(st, b, k);
    return ok;
}

/* Whether a transfer between these GPUs takes one route whatever its salt
 * (tried with a few): where it takes equal-cost choices, rank r's and rank
 * 0's transfers would pair only by chance, and finding out after the graph
 * without the copies was emitted costs its time and memory. */
static int route_fixed(topo *t, int src_gpu, int dst_gpu)
{
    int32_t a[TOPO_MAX_ROUTE], c[TOPO_MAX_ROUTE];
    int na = topo_route_gpus(t, src_gpu, dst_gpu, 0, a, TOPO_MAX_ROUTE, NULL);
    for (uint32_t salt = 1; na >= 0 && salt < 4; salt++) {
        int nc = topo_route_gpus(t, src_gpu, dst_gpu, salt * 0x9e3779b9u, c, TOPO_MAX_ROUTE, NULL);
        if (nc != na || memcmp(a, c, sizeof *a * (size_t)na) != 0)
            return 0;
    }
    return na >= 0;
}

/* Every pipeline hop of every rank r > 0 on a route without choices. */
static int transfers_fixed(const builder *b)
{
    int nv = schedule_vstages(b->l);
    for (int vs = 0; vs + 1 < nv; vs++) {
        int from = schedule_vstage_rank(b->l, vs), to = schedule_vstage_rank(b->l, vs + 1);
        for (int k = 0; from != to && k < b->nmem; k++)
            if (member_tp(b, k) > 0 && (!route_fixed(b->in->topology, gpu_of(b, from, k),
                                                     gpu_of(b, to, k)) ||
                                        !route_fixed(b->in->topology, gpu_of(b, to, k),
                                                     gpu_of(b, from, k))))
                return 0;
    }
    return 1;
}

void trainsim_sym_plan(builder *b)
{
    /* ZeRO-3's per-layer gathers and HSDP's replica groups are not paired
     * here, nor DualPipe's mirrored embedding pairs or the post-validation's
     * per-rank reading, nor context parallelism's own groups: with them every
     * rank is simulated */
    if (b->folded || b->l->tp < 2 || b->gpu_factor || b->l->zero > 2 || b->replicas > 1 ||
        b->cc.emb_pairs > 1 || b->l->post_validation || layout_cp_of(b->l) > 1)
        return;
    sym_state *st = state_new(b->in->topology, b->l->tp);
    if (!pair_collectives(st, b) || !transfers_fixed(b)) {
        state_free(st);
        return;
    }
    b->sym = st;
    b->drop = calloc((size_t)b->l->tp, 1);
    if (!b->drop)
        abort();
    for (int r = 1; r < b->l->tp; r++)
        b->drop[r] = 1;
    b->nkept = 1;
}

int trainsim_sym_pair_transfer(builder *b, int kept_src_gpu, int kept_dst_gpu, uint32_t kept_salt,
                               int src_gpu, int dst_gpu, uint32_t salt)
{
    sym_state *st = b->sym;
    int r = src_gpu - kept_src_gpu; /* commcost_gpu: the tensor ranks of a replica adjacent */
    uint64_t key = keymap_pair(src_gpu, dst_gpu);
    if (r < 1 || r >= st->tp)
        return 0;
    if (kept_dst_gpu == dst_gpu - r && keymap_find(&st->paired, key) >= 0)
        return 1; /* the same unsalted routes as a transfer already paired */
    int32_t a[TOPO_MAX_ROUTE], c[TOPO_MAX_ROUTE];
    int hashed_a = 1, hashed_c = 1;
    int na = topo_route_gpus_hashed(st->t, kept_src_gpu, kept_dst_gpu, kept_salt, a,
                                    TOPO_MAX_ROUTE, &hashed_a, NULL);
    int nc = topo_route_gpus_hashed(st->t, src_gpu, dst_gpu, salt, c, TOPO_MAX_ROUTE, &hashed_c,
                                    NULL);
    if (na < 0 || na != nc)
        return 0;
    for (int i = 0; i < na; i++)
        if (!pair_hop(st, r, a[i], c[i], 1, 1))
            return 0;
    if (!hashed_a && !hashed_c && kept_dst_gpu == dst_gpu - r)
        keymap_add(&st->paired, key, NULL);
    return 1;
}

void trainsim_sym_done(builder *b)
{
    state_free(b->sym);
    b->sym = NULL;
}

void trainsim_sym_free(builder *b)
{
    trainsim_sym_done(b);
    free(b->drop);
    b->drop = NULL;
}
