/* net: flow-level network with incremental max-min re-solves.
 *
 * Each link keeps the list of active flows crossing it.  One solve event per
 * instant re-solves the flows that started (and those of links whose
 * capacity changed) against what the other flows leave, advances their
 * remaining bytes to now and moves their end events.  The other flows keep
 * their rates unless the new rates, or a flow that ended, take away the
 * bottleneck of one of them or leave a re-solved flow without one (the
 * max-min conditions, checked where the two sets meet after each solve:
 * join_unfair_flows); only then does such a flow join and the sub-problem is
 * solved again.  With every rank simulated, the pipeline transfers and
 * data-parallel rings of a large fat-tree couple through links that two
 * flows fill into one component that grows with the cluster; most changes
 * move only a few rates in it, and the re-solve stays that small. */
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
    int32_t bneck;         /* a link last found to bottleneck it (full, no larger rate
                              there), -1: none yet; a hint, checked before use */
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
    /* flows that ended on it since the last solve (as of gone_epoch): their
     * load and largest rate, so that the solve knows whether it was full */
    double gone_load, gone_max;
    uint32_t gone_epoch;
} nlink;

/* Rounds of opening links before one solve takes the whole component. */
#define NET_MAX_ROUNDS 8

struct net {
    evq *q;
    int nlinks;
    nlink *links;
    flow *flows;
    int nflows, capflows;
    int32_t *free_ids;
    int nfree, capfree;
    int active;
    int32_t *dirty;        /* links whose capacity changed: all their flows re-solve */
    int ndirty, capdirty;
    int32_t *started;      /* flows started since the last solve */
    int nstarted, capstarted;
    int32_t *touched;      /* links a flow left since the last solve */
    int ntouched, captouched;
    int solve_pending;
    uint32_t epoch;
    /* component scratch */
    int32_t *comp_flows, *comp_links, *csr_start, *csr_link;
    double *csr_weight, *comp_cap, *comp_rate, *fixed_load, *comp_bound;
    int cap_comp_flows, cap_comp_links, cap_csr_start, cap_csr_link, cap_csr_weight;
    int cap_comp_cap, cap_comp_rate, cap_fixed_load, cap_comp_bound;
    /* per sub-problem link, for the max-min checks (join_unfair_flows): the
     * largest rate before this solve of a flow outside (-1: none) and of any
     * flow, whether the link was full, and after the solve the largest rate
     * of a re-solved flow and whether the link is full */
    double *out_max, *old_max, *new_max;
    int8_t *old_full, *new_full;
    int checked_links;     /* sub-problem links whose new state the checks know */
    int cap_out_max, cap_old_max, cap_new_max, cap_old_full, cap_new_full;
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
    free(n->started);
    free(n->touched);
    free(n->comp_flows);
    free(n->comp_links);
    free(n->csr_start);
    free(n->csr_link);
    free(n->csr_weight);
    free(n->comp_cap);
    free(n->comp_rate);
    free(n->fixed_load);
    free(n->comp_bound);
    free(n->out_max);
    free(n->old_max);
    free(n->new_max);
    free(n->old_full);
    free(n->new_full);
    free(n->open_queue);
    maxmin_work_free(&n->work);
    free(n);
}

static void solve_event(evq *q, void *ctx, uint64_t arg);

static void schedule_solve(net *n)
{
    if (!n->solve_pending) {
        n->solve_pending = 1;
        evq_schedule_in(n->q, 0, solve_event, n, 0);
    }
}

static void mark_dirty(net *n, int link)
{
    CS_GROW(n->dirty, n->capdirty, n->ndirty + 1);
    n->dirty[n->ndirty++] = link;
    schedule_solve(n);
}

/* A flow of the given rate left the link: the next solve (epoch + 1) learns
 * what the link carried before.  A link left empty moves nobody's rate. */
static void link_gone(net *n, int32_t link, double weight, double rate)
{
    nlink *l = &n->links[link];
    if (l->nflows == 0)
        return;
    if (l->gone_epoch != n->epoch + 1) {
        l->gone_epoch = n->epoch + 1;
        l->gone_load = 0;
        l->gone_max = -1;
        CS_GROW(n->touched, n->captouched, n->ntouched + 1);
        n->touched[n->ntouched++] = link;
    }
    l->gone_load += weight * rate;
    if (rate > l->gone_max)
        l->gone_max = rate;
    schedule_solve(n);
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
    f->bneck = -1;
    for (int h = 0; h < nlinks; h++) {
        nlink *l = &n->links[links[h]];
        f->links[h] = links[h];
        f->weights[h] = weights ? (double)weights[h] : 1.0;
        f->pos[h] = l->nflows;
        link_add_flow(l, id, h);
    }
    CS_GROW(n->started, n->capstarted, n->nstarted + 1);
    n->started[n->nstarted++] = id;
    schedule_solve(n);
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
        link_gone(n, f->links[h], f->weights[h], f->rate);
    }
    evq_schedule_in(q, f->latency_ps, f->done, f->ctx, f->arg);
    flow_release(f);
    f->active = 0;
    n->active--;
    CS_GROW(n->free_ids, n->capfree, n->nfree + 1);
    n->free_ids[n->nfree++] = id;
}

/* A link is full when its flows fill it (to rounding); rates compare
 * equal to the same relative tolerance. */
#define TIGHT_REL 1e-9

static int load_is_tight(double load, double cap) { return load >= cap * (1 - TIGHT_REL); }

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

/* A flow joins the sub-problem, and its links join too (full solve: opened
 * as well). */
static void join_flow(net *n, int32_t id, int *nf, int *nl, int open_all)
{
    flow *f = &n->flows[id];
    if (f->mark == n->epoch)
        return;
    f->mark = n->epoch;
    CS_GROW(n->comp_flows, n->cap_comp_flows, *nf + 1);
    n->comp_flows[(*nf)++] = id;
    for (int h = 0; h < f->nlinks; h++) {
        nlink *m = &n->links[f->links[h]];
        if (m->nflows == 1)
            continue; /* its own link: a bound in build_problem */
        comp_add_link(n, f->links[h], nl);
        if (open_all && m->open != n->epoch)
            open_link(n, f->links[h], nl);
    }
}

/* Breadth first from the open links: their flows join. */
static void grow_component(net *n, int *nf, int *nl, int *head, int open_all)
{
    for (; *head < n->nopen; (*head)++) {
        nlink *l = &n->links[n->open_queue[*head]];
        for (int k = 0; k < l->nflows; k++)
            join_flow(n, l->flows[k].flow, nf, nl, open_all);
    }
}

/* Sub-problem link i: the load of the flows outside the sub-problem (their
 * rates stay) and what the checks need of the rates before this solve.  An
 * open link has no flow outside. */
static void link_outside(net *n, int i)
{
    const nlink *l = &n->links[n->comp_links[i]];
    double fixed = 0, load = 0, out_max = -1, all_max = -1;
    for (int k = 0; k < l->nflows && l->open != n->epoch; k++) {
        const flow *f = &n->flows[l->flows[k].flow];
        double w_rate = f->weights[l->flows[k].hop] * f->rate;
        load += w_rate;
        if (f->rate > all_max)
            all_max = f->rate;
        if (f->mark != n->epoch) {
            fixed += w_rate;
            if (f->rate > out_max)
                out_max = f->rate;
        }
    }
    if (l->gone_epoch == n->epoch) { /* what flows that ended here put on it */
        load += l->gone_load;
        if (l->gone_max > all_max)
            all_max = l->gone_max;
    }
    n->fixed_load[i] = fixed;
    n->comp_cap[i] = l->cap > fixed ? l->cap - fixed : 0;
    n->out_max[i] = out_max;
    n->old_max[i] = all_max;
    n->old_full[i] = (int8_t)(l->open != n->epoch && load_is_tight(load, l->cap));
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
    CS_GROW(n->out_max, n->cap_out_max, nl);
    CS_GROW(n->old_max, n->cap_old_max, nl);
    CS_GROW(n->new_max, n->cap_new_max, nl);
    CS_GROW(n->old_full, n->cap_old_full, nl);
    CS_GROW(n->new_full, n->cap_new_full, nl);
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
    for (int i = 0; i < nl; i++)
        link_outside(n, i);
    *p = (maxmin_problem){nf, n->csr_start, n->csr_link, n->csr_weight, nl, n->comp_cap,
                          n->comp_bound};
}

/* After a solve, per sub-problem link below limit: the load of the new rates
 * (outside flows at theirs), whether it is full, and the largest new rate. */
static void new_link_state(net *n, int nf, int limit)
{
    double *load = n->comp_cap; /* reused: the capacities are read again on a rebuild */
    for (int i = 0; i < limit; i++) {
        load[i] = n->fixed_load[i];
        n->new_max[i] = -1;
    }
    for (int i = 0; i < nf; i++)
        for (int e = n->csr_start[i]; e < n->csr_start[i + 1]; e++) {
            int32_t l = n->csr_link[e];
            load[l] += n->csr_weight[e] * n->comp_rate[i];
            if (n->comp_rate[i] > n->new_max[l])
                n->new_max[l] = n->comp_rate[i];
        }
    for (int i = 0; i < limit; i++)
        n->new_full[i] = (int8_t)load_is_tight(load[i], n->links[n->comp_links[i]].cap);
}

/* Whether link b still bottlenecks outside flow g with the rates after this
 * solve: full, and no rate on it above g's.  A link outside the sub-problem
 * carries only outside flows, whose rates stay. */
static int still_bottleneck(const net *n, int32_t b, const flow *g)
{
    const nlink *l = &n->links[b];
    if (l->open == n->epoch)
        return 0;
    if (l->mark == n->epoch) {
        int i = l->local;
        if (i >= n->checked_links)
            return 0; /* joined the sub-problem during these checks: not known yet */
        double top = n->new_max[i] > n->out_max[i] ? n->new_max[i] : n->out_max[i];
        return n->new_full[i] && g->rate >= top * (1 - TIGHT_REL);
    }
    double load = 0, top = -1;
    for (int k = 0; k < l->nflows; k++) {
        const flow *f = &n->flows[l->flows[k].flow];
        load += f->weights[l->flows[k].hop] * f->rate;
        if (f->rate > top)
            top = f->rate;
    }
    return load_is_tight(load, l->cap) && g->rate >= top * (1 - TIGHT_REL);
}

/* An outside flow keeps its rate while it keeps a bottleneck.  Where sub-
 * problem link i was full and an outside flow had the largest rate there,
 * the link may have been its bottleneck: if the link is no longer full, or
 * a re-solved flow now passes that rate, the flow needs another bottleneck
 * (the one it last had, still valid) or it joins.  Returns how many joined. */
static int join_if_outside_loses(net *n, int i, int *nf, int *nl)
{
    double cand = n->old_max[i] * (1 - TIGHT_REL);
    if (!n->old_full[i] || n->out_max[i] < cand)
        return 0;
    int32_t id = n->comp_links[i];
    const nlink *l = &n->links[id];
    int joined = 0;
    for (int k = 0; k < l->nflows; k++) {
        int32_t gid = l->flows[k].flow;
        const flow *g = &n->flows[gid];
        if (g->mark == n->epoch || g->rate < cand)
            continue;
        int lost = !n->new_full[i] || n->new_max[i] > g->rate * (1 + TIGHT_REL);
        if (lost && !(g->bneck >= 0 && g->bneck != id && still_bottleneck(n, g->bneck, g))) {
            join_flow(n, gid, nf, nl, 0);
            joined++;
        }
    }
    return joined;
}

/* The link whose capacity alone bounds flow f at rate (its own link). */
static int32_t bound_link(const net *n, const flow *f, double rate)
{
    for (int h = 0; h < f->nlinks; h++) {
        const nlink *l = &n->links[f->links[h]];
        if (l->nflows == 1 && (l->cap > 0 ? l->cap : 0) / f->weights[h] <= rate * (1 + TIGHT_REL))
            return f->links[h];
    }
    return -1;
}

/* A re-solved flow has a bottleneck when a full link carries no larger
 * rate, an outside flow's included, or its own links bound it; *link is
 * that link. */
static int has_bottleneck(const net *n, int i, int32_t *link)
{
    double rate = n->comp_rate[i];
    for (int e = n->csr_start[i]; e < n->csr_start[i + 1]; e++) {
        int32_t l = n->csr_link[e];
        double top = n->new_max[l] > n->out_max[l] ? n->new_max[l] : n->out_max[l];
        if (n->new_full[l] && rate >= top * (1 - TIGHT_REL)) {
            *link = n->comp_links[l];
            return 1;
        }
    }
    if (rate >= n->comp_bound[i] * (1 - TIGHT_REL)) {
        *link = bound_link(n, &n->flows[n->comp_flows[i]], rate);
        return 1;
    }
    return 0;
}

/* Re-solved flow i has no bottleneck: on its full links, the outside flows
 * of a larger rate must yield, and join.  Returns how many joined. */
static int join_larger_outside(net *n, int i, int *nf, int *nl)
{
    int joined = 0;
    double above = n->comp_rate[i] * (1 + TIGHT_REL);
    for (int e = n->csr_start[i]; e < n->csr_start[i + 1]; e++) {
        int32_t l = n->csr_link[e];
        const nlink *m = &n->links[n->comp_links[l]];
        if (m->open == n->epoch || !n->new_full[l] || !(n->out_max[l] > above))
            continue;
        for (int k = 0; k < m->nflows; k++) {
            int32_t gid = m->flows[k].flow;
            if (n->flows[gid].mark != n->epoch && n->flows[gid].rate > above) {
                join_flow(n, gid, nf, nl, 0);
                joined++;
            }
        }
    }
    return joined;
}

/* Checks the max-min conditions the sub-problem cannot see (the flows
 * outside it keep their rates): every outside flow must keep a bottleneck,
 * every re-solved flow must have one.  The outside flows where one fails
 * join; returns how many (0: the rates are the max-min fair allocation of
 * every active flow: it is unique, and these conditions characterize it).
 * Notes each re-solved flow's bottleneck for later checks. */
static int join_unfair_flows(net *n, int *nf, int *nl)
{
    int limit = *nl, solved = *nf, joined = 0;
    new_link_state(n, solved, limit);
    n->checked_links = limit;
    for (int i = 0; i < limit; i++)
        if (n->links[n->comp_links[i]].open != n->epoch)
            joined += join_if_outside_loses(n, i, nf, nl);
    for (int i = 0; i < solved; i++) {
        int32_t link = -1;
        if (has_bottleneck(n, i, &link))
            n->flows[n->comp_flows[i]].bneck = link;
        else
            joined += join_larger_outside(n, i, nf, nl);
    }
    return joined;
}

/* The first sub-problem: the flows started since the last solve, the flows
 * of links whose capacity changed, and the links flows left (their flows
 * stay outside until a check opens the link; full solve: opened). */
static void seed_problem(net *n, int *nf, int *nl, int open_all)
{
    for (int i = 0; i < n->ndirty; i++)
        open_link(n, n->dirty[i], nl);
    for (int i = 0; i < n->ntouched; i++) {
        int32_t id = n->touched[i];
        if (n->links[id].nflows == 0)
            continue;
        if (open_all)
            open_link(n, id, nl);
        else
            comp_add_link(n, id, nl);
    }
    for (int i = 0; i < n->nstarted; i++)
        if (n->flows[n->started[i]].active)
            join_flow(n, n->started[i], nf, nl, open_all);
    n->ndirty = n->ntouched = n->nstarted = 0;
}

/* Re-solves the flows a change can move, starting from the flows that
 * started, against what the flows outside leave (SimGrid LMM's modified
 * set).  Then the max-min conditions are checked where the two sets meet; a
 * link where one fails is opened, its flows join and the sub-problem is
 * solved again; after a few rounds the whole component is solved at once. */
static int solve_dirty(net *n, int *nf_out)
{
    int nf = 0, nl = 0, head = 0, open_all = n->full_resolve;
    ++n->epoch;
    n->nopen = 0;
    seed_problem(n, &nf, &nl, open_all);
    for (int round = 0;; round++) {
        if (round == NET_MAX_ROUNDS && !open_all) {
            open_all = 1;
            for (int i = 0; i < nl; i++)
                open_link(n, n->comp_links[i], &nl);
        }
        grow_component(n, &nf, &nl, &head, open_all);
        if (nf == 0 && nl == 0)
            break;
        maxmin_problem p;
        build_problem(n, nf, nl, &p);
        if (nf > 0) {
            maxmin_solve(&p, n->comp_rate, &n->work);
            n->stats.rounds++;
        }
        if (open_all || join_unfair_flows(n, &nf, &nl) == 0)
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
