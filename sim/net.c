/* net: flow-level network with incremental max-min re-solves.
 *
 * Each link keeps the list of active flows crossing it, so a change (flow
 * start, flow end, capacity change) marks its links dirty; one solve event
 * per instant gathers the flows whose rates the change can move (solve_dirty:
 * from the dirty links through full links only), advances their remaining
 * bytes to now, re-solves their rates against what the other flows leave and
 * moves their end events.  With every rank simulated, the data-parallel
 * rings of a fat-tree form one connected component that grows with the
 * cluster; cutting the re-solve at links with room keeps it local. */
#include "net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "maxmin.h"

typedef struct flow {
    int32_t *links;
    double *weights;
    int32_t *pos;          /* index of this flow in each link's list */
    int nlinks;
    double remaining_bytes;
    double unposted_bytes; /* moved but not yet added to its links' carried bytes */
    double rate;           /* bytes/s */
    uint64_t last_ps;      /* time remaining_bytes was last advanced */
    evq_id end_event;
    uint64_t latency_ps;
    net_done_fn done;
    void *ctx;
    uint64_t arg;
    uint32_t mark;
    int active;
} flow;

typedef struct link_entry {
    int32_t flow, hop;
} link_entry;

typedef struct nlink {
    double cap;
    double carried_bytes;
    link_entry *flows;
    int nflows, capflows;
    uint32_t mark;
    int32_t local;         /* index in the current sub-problem */
    uint32_t open;         /* the epoch in which every flow on it joined the sub-problem */
    int8_t tight;          /* the rates before the solve filled it (as of tight_epoch) */
    uint32_t tight_epoch;
} nlink;

/* Rounds of opening filled links before one solve takes the whole component. */
#define NET_MAX_ROUNDS 4

struct net {
    evq *q;
    int nlinks;
    nlink *links;
    flow *flows;
    int nflows, capflows;
    int32_t *free_ids;
    int nfree, capfree;
    int active;
    int32_t *dirty;
    int ndirty, capdirty;
    int solve_pending;
    uint32_t epoch;
    /* component scratch */
    int32_t *comp_flows, *comp_links, *csr_start, *csr_link;
    double *csr_weight, *comp_cap, *comp_rate, *fixed_load, *comp_bound;
    int cap_comp_flows, cap_comp_links, cap_csr_start, cap_csr_link, cap_csr_weight;
    int cap_comp_cap, cap_comp_rate, cap_fixed_load, cap_comp_bound;
    int32_t *open_queue;
    int nopen, cap_open_queue;
    int full_resolve;      /* every solve takes the whole component (the reference) */
    maxmin_work work;
    net_stats stats;
};


net *net_new(evq *q, int nlinks, const double *bw_bytes_per_s)
{
    net *n = cs_xrealloc(NULL, sizeof *n);
    memset(n, 0, sizeof *n);
    n->q = q;
    n->nlinks = nlinks;
    n->links = cs_xrealloc(NULL, sizeof *n->links * (size_t)nlinks);
    memset(n->links, 0, sizeof *n->links * (size_t)nlinks);
    for (int l = 0; l < nlinks; l++)
        n->links[l].cap = bw_bytes_per_s[l];
    maxmin_work_init(&n->work);
    return n;
}

static void flow_release(flow *f)
{
    free(f->links); /* one block with weights and pos (net_flow_start) */
    f->links = NULL;
    f->weights = NULL;
    f->pos = NULL;
}

void net_free(net *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->nflows; i++)
        flow_release(&n->flows[i]);
    for (int l = 0; l < n->nlinks; l++)
        free(n->links[l].flows);
    free(n->links);
    free(n->flows);
    free(n->free_ids);
    free(n->dirty);
    free(n->comp_flows);
    free(n->comp_links);
    free(n->csr_start);
    free(n->csr_link);
    free(n->csr_weight);
    free(n->comp_cap);
    free(n->comp_rate);
    free(n->fixed_load);
    free(n->comp_bound);
    free(n->open_queue);
    maxmin_work_free(&n->work);
    free(n);
}

static void solve_event(evq *q, void *ctx, uint64_t arg);

static void mark_dirty(net *n, int link)
{
    CS_GROW(n->dirty, n->capdirty, n->ndirty + 1);
    n->dirty[n->ndirty++] = link;
    if (!n->solve_pending) {
        n->solve_pending = 1;
        evq_schedule_in(n->q, 0, solve_event, n, 0);
    }
}

static int32_t flow_alloc(net *n)
{
    if (n->nfree > 0)
        return n->free_ids[--n->nfree];
    CS_GROW(n->flows, n->capflows, n->nflows + 1);
    memset(&n->flows[n->nflows], 0, sizeof(flow));
    return n->nflows++;
}

static void link_add_flow(nlink *l, int32_t id, int32_t hop)
{
    CS_GROW(l->flows, l->capflows, l->nflows + 1);
    l->flows[l->nflows++] = (link_entry){id, hop};
}

int32_t net_flow_start(net *n, const int32_t *links, const uint32_t *weights, int nlinks,
                       double bytes, uint64_t latency_ps, net_done_fn done, void *ctx,
                       uint64_t arg)
{
    n->stats.flows_started++;
    if (nlinks == 0 || !(bytes > 0)) {
        /* Nothing crosses the network: only the latency remains. */
        evq_schedule_in(n->q, latency_ps, done, ctx, arg);
        return -1;
    }
    int32_t id = flow_alloc(n);
    flow *f = &n->flows[id];
    /* one allocation per flow: links and pos (int32), then weights (double,
     * at 8 * nlinks bytes: aligned) */
    f->links = cs_xrealloc(NULL, (sizeof *f->links + sizeof *f->pos + sizeof *f->weights) *
                                     (size_t)nlinks);
    f->pos = f->links + nlinks;
    f->weights = (double *)(void *)(f->pos + nlinks);
    f->nlinks = nlinks;
    f->remaining_bytes = bytes;
    f->unposted_bytes = 0;
    f->rate = 0;
    f->last_ps = evq_now(n->q);
    f->end_event = 0;
    f->latency_ps = latency_ps;
    f->done = done;
    f->ctx = ctx;
    f->arg = arg;
    f->active = 1;
    for (int h = 0; h < nlinks; h++) {
        nlink *l = &n->links[links[h]];
        f->links[h] = links[h];
        f->weights[h] = weights ? (double)weights[h] : 1.0;
        f->pos[h] = l->nflows;
        link_add_flow(l, id, h);
        mark_dirty(n, links[h]);
    }
    n->active++;
    if (n->active > n->stats.peak_active_flows)
        n->stats.peak_active_flows = n->active;
    return id;
}

double net_flow_rate(const net *n, int32_t flow_id)
{
    if (flow_id < 0 || flow_id >= n->nflows || !n->flows[flow_id].active)
        return 0;
    return n->flows[flow_id].rate;
}

void net_set_capacity(net *n, int link, double bw_bytes_per_s)
{
    n->links[link].cap = bw_bytes_per_s;
    mark_dirty(n, link);
}

void net_set_full_resolve(net *n, int on) { n->full_resolve = on != 0; }

double net_link_bytes(const net *n, int link)
{
    const nlink *l = &n->links[link];
    double bytes = l->carried_bytes;
    for (int k = 0; k < l->nflows; k++) {
        const flow *f = &n->flows[l->flows[k].flow];
        bytes += f->unposted_bytes * f->weights[l->flows[k].hop];
    }
    return bytes;
}
int net_active_flows(const net *n) { return n->active; }
int net_link_flow_count(const net *n, int link) { return n->links[link].nflows; }
net_stats net_get_stats(const net *n) { return n->stats; }

/* Moves a flow's progress up to now.  Its links learn the bytes when it
 * ends (net_link_bytes adds what active flows moved), so a rate change costs
 * the same for a coflow over hundreds of links as for a point-to-point flow. */
static void flow_advance(flow *f, uint64_t now_ps)
{
    double moved = f->rate * (double)(now_ps - f->last_ps) * 1e-12;
    if (moved > f->remaining_bytes)
        moved = f->remaining_bytes;
    if (moved > 0) {
        f->remaining_bytes -= moved;
        f->unposted_bytes += moved;
    }
    f->last_ps = now_ps;
}

static void link_remove_flow(net *n, flow *f, int hop)
{
    nlink *l = &n->links[f->links[hop]];
    int at = f->pos[hop];
    link_entry last = l->flows[--l->nflows];
    if (at < l->nflows) {
        l->flows[at] = last;
        n->flows[last.flow].pos[last.hop] = at;
    }
}

static void end_event(evq *q, void *ctx, uint64_t arg)
{
    net *n = ctx;
    int32_t id = (int32_t)arg;
    flow *f = &n->flows[id];
    flow_advance(f, evq_now(q));
    for (int h = 0; h < f->nlinks; h++) {
        n->links[f->links[h]].carried_bytes += f->unposted_bytes * f->weights[h];
        link_remove_flow(n, f, h);
        mark_dirty(n, f->links[h]);
    }
    evq_schedule_in(q, f->latency_ps, f->done, f->ctx, f->arg);
    flow_release(f);
    f->active = 0;
    n->active--;
    CS_GROW(n->free_ids, n->capfree, n->nfree + 1);
    n->free_ids[n->nfree++] = id;
}

/* A link is tight when its flows fill it (to rounding): only through tight
 * links can one flow's new rate move another's (a link with room left is
 * nobody's bottleneck).  Rates are the ones before this solve. */
#define TIGHT_REL 1e-9

static double link_load(const net *n, const nlink *l)
{
    double load = 0;
    for (int k = 0; k < l->nflows; k++) {
        const flow *f = &n->flows[l->flows[k].flow];
        load += f->weights[l->flows[k].hop] * f->rate;
    }
    return load;
}

static int load_is_tight(double load, double cap) { return load >= cap * (1 - TIGHT_REL); }

/* Whether the rates before this solve filled the link; found once per solve,
 * and only for links the search may open through. */
static int link_tight(net *n, nlink *m)
{
    if (m->tight_epoch != n->epoch) {
        m->tight_epoch = n->epoch;
        m->tight = (int8_t)load_is_tight(link_load(n, m), m->cap);
    }
    return m->tight;
}

/* Puts a link into the sub-problem (a local index) once per epoch. */
static void comp_add_link(net *n, int32_t id, int *nl)
{
    nlink *m = &n->links[id];
    if (m->mark == n->epoch)
        return;
    m->mark = n->epoch;
    CS_GROW(n->comp_links, n->cap_comp_links, *nl + 1);
    m->local = *nl;
    n->comp_links[(*nl)++] = id;
}

/* Opens a link: every flow on it joins the sub-problem.  A link with one
 * flow is that flow's bound, not a link of the problem; one with none (the
 * links of a flow that ended alone) changes nobody's rate. */
static void open_link(net *n, int32_t id, int *nl)
{
    nlink *m = &n->links[id];
    if (m->open == n->epoch || m->nflows == 0)
        return;
    m->open = n->epoch;
    if (m->nflows > 1)
        comp_add_link(n, id, nl);
    CS_GROW(n->open_queue, n->cap_open_queue, n->nopen + 1);
    n->open_queue[n->nopen++] = id;
}

/* Breadth first from the open links: their flows join, and a joining flow's
 * links join too, opened when tight (full solve: always). */
static void grow_component(net *n, int *nf, int *nl, int *head, int open_all)
{
    for (; *head < n->nopen; (*head)++) {
        nlink *l = &n->links[n->open_queue[*head]];
        for (int k = 0; k < l->nflows; k++) {
            int32_t id = l->flows[k].flow;
            flow *f = &n->flows[id];
            if (f->mark == n->epoch)
                continue;
            f->mark = n->epoch;
            CS_GROW(n->comp_flows, n->cap_comp_flows, *nf + 1);
            n->comp_flows[(*nf)++] = id;
            for (int h = 0; h < f->nlinks; h++) {
                if (n->links[f->links[h]].nflows == 1)
                    continue; /* its own link: a bound in build_problem */
                nlink *m = &n->links[f->links[h]];
                comp_add_link(n, f->links[h], nl);
                if (m->open != n->epoch && (open_all || link_tight(n, m)))
                    open_link(n, f->links[h], nl);
            }
        }
    }
}

/* Builds the max-min problem of the sub-problem in local link numbering.  A
 * link that is not open also carries flows outside it, whose rates stay:
 * the sub-problem sees what they leave (fixed_load holds their load).  A
 * link only its flow crosses becomes a bound on that flow (a ring coflow
 * crosses many links nothing else uses). */
static void build_problem(net *n, int nf, int nl, maxmin_problem *p)
{
    int entries = 0;
    for (int i = 0; i < nf; i++)
        entries += n->flows[n->comp_flows[i]].nlinks;
    CS_GROW(n->csr_start, n->cap_csr_start, nf + 1);
    CS_GROW(n->csr_link, n->cap_csr_link, entries);
    CS_GROW(n->csr_weight, n->cap_csr_weight, entries);
    CS_GROW(n->comp_cap, n->cap_comp_cap, nl);
    CS_GROW(n->fixed_load, n->cap_fixed_load, nl);
    CS_GROW(n->comp_rate, n->cap_comp_rate, nf);
    CS_GROW(n->comp_bound, n->cap_comp_bound, nf);
    int e = 0;
    for (int i = 0; i < nf; i++) {
        flow *f = &n->flows[n->comp_flows[i]];
        n->csr_start[i] = e;
        n->comp_bound[i] = INFINITY;
        for (int h = 0; h < f->nlinks; h++) {
            const nlink *l = &n->links[f->links[h]];
            if (l->nflows == 1) {
                double share = (l->cap > 0 ? l->cap : 0) / f->weights[h];
                if (share < n->comp_bound[i])
                    n->comp_bound[i] = share;
                continue;
            }
            n->csr_link[e] = l->local;
            n->csr_weight[e++] = f->weights[h];
        }
    }
    n->csr_start[nf] = e;
    for (int i = 0; i < nl; i++) {
        const nlink *l = &n->links[n->comp_links[i]];
        double fixed = 0;
        for (int k = 0; k < l->nflows && l->open != n->epoch; k++) {
            const flow *f = &n->flows[l->flows[k].flow];
            if (f->mark != n->epoch)
                fixed += f->weights[l->flows[k].hop] * f->rate;
        }
        n->fixed_load[i] = fixed;
        n->comp_cap[i] = l->cap > fixed ? l->cap - fixed : 0;
    }
    *p = (maxmin_problem){nf, n->csr_start, n->csr_link, n->csr_weight, nl, n->comp_cap,
                          n->comp_bound};
}

/* Opens every link the new rates filled that was not open: flows outside
 * the sub-problem cross it, and one of them may now have to yield.  Returns
 * how many it opened (0: the sub-problem's rates are the full solution). */
static int open_filled_links(net *n, int nf, int *nl)
{
    int limit = *nl, opened = 0;
    double *load = n->comp_cap; /* reused: the capacities are read again on a rebuild */
    for (int i = 0; i < limit; i++)
        load[i] = n->fixed_load[i];
    for (int i = 0; i < nf; i++)
        for (int e = n->csr_start[i]; e < n->csr_start[i + 1]; e++)
            load[n->csr_link[e]] += n->csr_weight[e] * n->comp_rate[i];
    for (int i = 0; i < limit; i++) {
        int32_t id = n->comp_links[i];
        if (n->links[id].open != n->epoch && load_is_tight(load[i], n->links[id].cap)) {
            open_link(n, id, nl);
            opened++;
        }
    }
    return opened;
}

/* Re-solves the flows whose rates the dirty links can change: the flows of
 * the dirty links, then through every tight link they cross, the flows
 * there, and so on (SimGrid LMM's modified set, cut at links with room).
 * Flows outside keep their rates: each has a tight bottleneck link that no
 * re-solved flow crosses, so it stays fair.  A link with room that the new
 * rates fill is opened and the sub-problem solved again; after a few rounds
 * the whole component is solved at once. */
static int solve_dirty(net *n, int *nf_out)
{
    int nf = 0, nl = 0, head = 0, open_all = n->full_resolve;
    ++n->epoch;
    n->nopen = 0;
    for (int i = 0; i < n->ndirty; i++)
        open_link(n, n->dirty[i], &nl);
    for (int round = 0;; round++) {
        if (round == NET_MAX_ROUNDS && !open_all) {
            open_all = 1;
            for (int i = 0; i < nl; i++)
                open_link(n, n->comp_links[i], &nl);
        }
        grow_component(n, &nf, &nl, &head, open_all);
        if (nf == 0)
            break;
        maxmin_problem p;
        build_problem(n, nf, nl, &p);
        maxmin_solve(&p, n->comp_rate, &n->work);
        n->stats.rounds++;
        if (open_all || open_filled_links(n, nf, &nl) == 0)
            break;
    }
    *nf_out = nf;
    return nf;
}

/* Applies a new rate: the end event moves only when the rate changed. */
static void flow_set_rate(net *n, int32_t id, double rate, uint64_t now_ps)
{
    flow *f = &n->flows[id];
    if (rate == f->rate && f->end_event)
        return;
    f->rate = rate;
    if (f->end_event)
        evq_cancel(n->q, f->end_event);
    f->end_event = 0;
    if (!(rate > 0))
        return; /* stalled on a zero-capacity link until it changes */
    double left_s = f->remaining_bytes > 0 ? f->remaining_bytes / rate : 0;
    uint64_t dt_ps = (uint64_t)ceil(left_s * 1e12);
    f->end_event = evq_schedule(n->q, now_ps + dt_ps, end_event, n, (uint64_t)id);
}

static void solve_event(evq *q, void *ctx, uint64_t arg)
{
    (void)arg;
    net *n = ctx;
    uint64_t now_ps = evq_now(q);
    int nf;
    n->solve_pending = 0;
    solve_dirty(n, &nf);
    n->ndirty = 0;
    if (nf == 0)
        return;
    for (int i = 0; i < nf; i++) {
        flow_advance(&n->flows[n->comp_flows[i]], now_ps);
        flow_set_rate(n, n->comp_flows[i], n->comp_rate[i], now_ps);
    }
    n->stats.solves++;
    n->stats.solved_flows += (uint64_t)nf;
    if (nf > n->stats.largest_component)
        n->stats.largest_component = nf;
}
