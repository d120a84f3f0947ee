/* exec_iso: collectives alone on their links, run as one timed task (see
 * exec_iso.h for the rule and why it is exact). */
#include "exec_iso.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "keymap.h"
#include "maxmin.h"

/* A flow's end not scheduled yet (net: end_event 0). */
#define NO_END UINT64_MAX

/* Scratch of one phase replay: the phase's links numbered locally, the
 * max-min problem over its running coflows, their progress. */
typedef struct replay {
    int32_t *local_of;      /* per global link: local index, -1 (kept so between phases) */
    int32_t *used;          /* the global links numbered in this solve */
    double *cap;            /* per local link */
    int32_t *flow_start, *entry_link;
    double *entry_weight, *rate;
    double *rem, *cur;      /* per coflow: bytes left, rate in force */
    uint64_t *last, *end;   /* per coflow: time rem was advanced to, end of its bytes */
    uint64_t *done;         /* per coflow: its latency passed (NO_END: bytes still moving) */
    int32_t *running;       /* coflows with bytes left */
    int cap_used, cap_entries, cap_coflows;
    maxmin_work work;
} replay;

typedef struct size_dur {
    uint64_t size_bytes, duration_ps;
} size_dur;

/* A plan the graph runs: its distinct links, the durations found so far,
 * and the task that runs timed on it now (one at most: it holds the links). */
typedef struct plan_entry {
    const coll_plan *plan;
    int32_t *links;
    int nlinks;
    size_dur *durs;
    int ndurs, capdurs;
    int32_t task;           /* the timed task now, -1 none */
    uint64_t start_ps, size_bytes;
    evq_id end_event;
} plan_entry;

struct exec_iso {
    int nlinks;
    const topo *t;
    int32_t *out_start, *out_link; /* links by source vertex (CSR) */
    int32_t *in_start, *in_link;   /* links by destination vertex */
    double *cap;            /* per link, bytes/s */
    uint8_t *shared;        /* crossed by something that may overlap a collective */
    int32_t *reserved;      /* per link: 1 + the plan entry of the timed collective on it, 0 */
    keymap plan_ids;        /* plans by address: their entry's index in plans */
    plan_entry *plans;      /* by index: stays put as plans are added (marks) */
    int capplans, nplans;
    replay rp;
    exec_iso_coflow *moving;   /* exec_iso_demote's answer */
    int capmoving;
    uint64_t timed, demoted;
};

/* ---- the replay of one collective alone ------------------------------------- */

static void replay_init(replay *r, int nlinks)
{
    memset(r, 0, sizeof *r);
    r->local_of = cs_xrealloc(NULL, sizeof(int32_t) * (size_t)(nlinks > 0 ? nlinks : 1));
    for (int l = 0; l < nlinks; l++)
        r->local_of[l] = -1;
    maxmin_work_init(&r->work);
}

static void replay_free(replay *r)
{
    void *arrays[] = {r->local_of, r->used, r->cap,  r->flow_start, r->entry_link,
                      r->entry_weight, r->rate, r->rem, r->cur, r->last,
                      r->end, r->done, r->running};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
    maxmin_work_free(&r->work);
}

static void replay_reserve(replay *r, const coll_phase *ph)
{
    int entries = 0;
    for (int c = 0; c < ph->ncoflows; c++)
        entries += ph->coflows[c].nlinks;
    if (entries > r->cap_entries || entries > r->cap_used) {
        int n = entries * 2 + 16;
        r->entry_link = cs_xrealloc(r->entry_link, sizeof(int32_t) * (size_t)n);
        r->entry_weight = cs_xrealloc(r->entry_weight, sizeof(double) * (size_t)n);
        r->used = cs_xrealloc(r->used, sizeof(int32_t) * (size_t)n);
        r->cap = cs_xrealloc(r->cap, sizeof(double) * (size_t)n);
        r->cap_entries = r->cap_used = n;
    }
    if (ph->ncoflows + 1 > r->cap_coflows) {
        int n = ph->ncoflows * 2 + 16;
        r->flow_start = cs_xrealloc(r->flow_start, sizeof(int32_t) * (size_t)n);
        r->rate = cs_xrealloc(r->rate, sizeof(double) * (size_t)n);
        r->rem = cs_xrealloc(r->rem, sizeof(double) * (size_t)n);
        r->cur = cs_xrealloc(r->cur, sizeof(double) * (size_t)n);
        r->last = cs_xrealloc(r->last, sizeof(uint64_t) * (size_t)n);
        r->end = cs_xrealloc(r->end, sizeof(uint64_t) * (size_t)n);
        r->done = cs_xrealloc(r->done, sizeof(uint64_t) * (size_t)n);
        r->running = cs_xrealloc(r->running, sizeof(int32_t) * (size_t)n);
        r->cap_coflows = n;
    }
}

/* Max-min rates (r->rate[i]) of the running coflows, as net's solve gives. */
static void replay_solve(replay *r, const coll_phase *ph, int nrun, const double *link_cap)
{
    int nl = 0, ne = 0;
    for (int i = 0; i < nrun; i++) {
        const coll_coflow *cf = &ph->coflows[r->running[i]];
        r->flow_start[i] = ne;
        for (int h = 0; h < cf->nlinks; h++) {
            int32_t l = cf->links[h];
            if (r->local_of[l] < 0) {
                r->local_of[l] = nl;
                r->used[nl] = l;
                r->cap[nl++] = link_cap[l];
            }
            r->entry_link[ne] = r->local_of[l];
            r->entry_weight[ne++] = cf->weights ? (double)cf->weights[h] : 1.0;
        }
    }
    r->flow_start[nrun] = ne;
    maxmin_problem p = {nrun, r->flow_start, r->entry_link, r->entry_weight, nl, r->cap, NULL};
    maxmin_solve(&p, r->rate, &r->work);
    for (int i = 0; i < nl; i++)
        r->local_of[r->used[i]] = -1;
}

/* net's flow_advance: progress at the rate in force up to now. */
static void replay_advance(replay *r, int c, uint64_t now_ps)
{
    double moved = r->cur[c] * (double)(now_ps - r->last[c]) * 1e-12;
    if (moved > r->rem[c])
        moved = r->rem[c];
    if (moved > 0)
        r->rem[c] -= moved;
    r->last[c] = now_ps;
}

/* Applies the new rates as net's flow_set_rate does; 0 when a coflow stalls. */
static int replay_rates(replay *r, int nrun, uint64_t now_ps)
{
    for (int i = 0; i < nrun; i++) {
        int c = r->running[i];
        replay_advance(r, c, now_ps);
        if (r->rate[i] == r->cur[c] && r->end[c] != NO_END)
            continue; /* net keeps the end event of an unchanged rate */
        r->cur[c] = r->rate[i];
        if (!(r->cur[c] > 0))
            return 0;
        double left_s = r->rem[c] > 0 ? r->rem[c] / r->cur[c] : 0;
        r->end[c] = now_ps + (uint64_t)ceil(left_s * 1e12);
    }
    return 1;
}

/* One phase from its start: the time its last coflow's latency has passed,
 * or UINT64_MAX on a stall.  With stop_ps inside the phase's bytes, it stops
 * there (*stopped set): r->done[c] is NO_END for the coflows still moving
 * (r->rem, r->cur and r->last their progress), else when their latency
 * passes.  Ends at stop_ps count as passed (net may run them first). */
static uint64_t replay_phase(replay *r, const coll_plan *plan, const coll_phase *ph,
                             uint64_t size_bytes, double wire, const double *link_cap,
                             uint64_t stop_ps, int *stopped)
{
    replay_reserve(r, ph);
    uint64_t phase_ps = 0, now_ps = 0;
    int nrun = 0;
    *stopped = 0;
    for (int c = 0; c < ph->ncoflows; c++) {
        const coll_coflow *cf = &ph->coflows[c];
        double bytes = wire * coll_coflow_bytes(plan, cf, size_bytes);
        r->done[c] = NO_END;
        if (cf->nlinks == 0 || !(bytes > 0)) { /* net: only the latency */
            r->done[c] = cf->latency_ps;
            phase_ps = cf->latency_ps > phase_ps ? cf->latency_ps : phase_ps;
            continue;
        }
        r->rem[c] = bytes;
        r->cur[c] = 0;
        r->last[c] = 0;
        r->end[c] = NO_END;
        r->running[nrun++] = c;
    }
    while (nrun > 0) {
        replay_solve(r, ph, nrun, link_cap);
        if (!replay_rates(r, nrun, now_ps))
            return UINT64_MAX;
        uint64_t next_ps = NO_END;
        for (int i = 0; i < nrun; i++)
            next_ps = r->end[r->running[i]] < next_ps ? r->end[r->running[i]] : next_ps;
        if (next_ps > stop_ps) {
            *stopped = 1;
            return phase_ps;
        }
        int kept = 0;
        for (int i = 0; i < nrun; i++) {
            int c = r->running[i];
            if (r->end[c] != next_ps) {
                r->running[kept++] = c;
                continue;
            }
            r->done[c] = next_ps + ph->coflows[c].latency_ps;
            phase_ps = r->done[c] > phase_ps ? r->done[c] : phase_ps;
        }
        nrun = kept;
        now_ps = next_ps;
    }
    return phase_ps;
}

/* Where a collective launched elapsed_ps ago stands: phase -1 (still in its
 * start latency), a phase with r's per-coflow state, or nphases (over).
 * *phase_start_ps: when that phase (or the first) began, from the launch. */
static int replay_at(replay *r, const coll_plan *plan, uint64_t size_bytes,
                     const double *link_cap, uint64_t elapsed_ps, uint64_t *phase_start_ps)
{
    uint64_t start_ps;
    double wire;
    coll_proto_cost(plan, size_bytes, &start_ps, &wire);
    *phase_start_ps = start_ps;
    if (elapsed_ps < start_ps)
        return -1;
    for (int p = 0; p < plan->nphases; p++) {
        int stopped;
        uint64_t phase_ps = replay_phase(r, plan, &plan->phases[p], size_bytes, wire, link_cap,
                                         elapsed_ps - *phase_start_ps, &stopped);
        if (stopped || *phase_start_ps + phase_ps > elapsed_ps)
            return p;
        *phase_start_ps += phase_ps;
    }
    return plan->nphases;
}

static uint64_t replay_duration(replay *r, const coll_plan *plan, uint64_t size_bytes,
                                const double *link_cap)
{
    uint64_t start_ps;
    double wire;
    coll_proto_cost(plan, size_bytes, &start_ps, &wire); /* as exec: NCCL's protocol */
    uint64_t total_ps = start_ps;
    for (int p = 0; p < plan->nphases; p++) {
        int stopped;
        uint64_t phase_ps = replay_phase(r, plan, &plan->phases[p], size_bytes, wire, link_cap,
                                         NO_END, &stopped);
        if (phase_ps == UINT64_MAX)
            return UINT64_MAX;
        total_ps += phase_ps;
    }
    return total_ps;
}

uint64_t exec_iso_duration_ps(const coll_plan *plan, uint64_t size_bytes,
                              const double *cap_bytes_per_s)
{
    int nlinks = 0;
    for (int p = 0; p < plan->nphases; p++)
        for (int c = 0; c < plan->phases[p].ncoflows; c++)
            for (int h = 0; h < plan->phases[p].coflows[c].nlinks; h++)
                if (plan->phases[p].coflows[c].links[h] >= nlinks)
                    nlinks = plan->phases[p].coflows[c].links[h] + 1;
    replay r;
    replay_init(&r, nlinks);
    uint64_t d = replay_duration(&r, plan, size_bytes, cap_bytes_per_s);
    replay_free(&r);
    return d;
}

/* ---- plans and links ------------------------------------------------------- */

/* Links by one end (end 0: source, 1: destination), as CSR over vertices. */
static void by_vertex(const topo *t, int end, int32_t **start_out, int32_t **link_out)
{
    int nv = topo_vertex_count(t), nl = topo_link_count(t);
    int32_t *start = calloc((size_t)nv + 2, sizeof(int32_t));
    int32_t *link = cs_xrealloc(NULL, sizeof(int32_t) * (size_t)(nl > 0 ? nl : 1));
    if (!start)
        abort();
    for (int l = 0; l < nl; l++) {
        const topo_link *k = topo_link_at(t, l);
        start[(end ? k->dst : k->src) + 2]++;
    }
    for (int v = 0; v < nv; v++)
        start[v + 2] += start[v + 1];
    for (int l = 0; l < nl; l++) {
        const topo_link *k = topo_link_at(t, l);
        link[start[(end ? k->dst : k->src) + 1]++] = l;
    }
    *start_out = start;
    *link_out = link;
}

exec_iso *exec_iso_new(const topo *t, const double *cap_bytes_per_s)
{
    exec_iso *x = cs_xrealloc(NULL, sizeof *x);
    memset(x, 0, sizeof *x);
    int nlinks = topo_link_count(t);
    size_t n = (size_t)(nlinks > 0 ? nlinks : 1);
    x->nlinks = nlinks;
    x->t = t;
    by_vertex(t, 0, &x->out_start, &x->out_link);
    by_vertex(t, 1, &x->in_start, &x->in_link);
    x->cap = cs_xrealloc(NULL, sizeof(double) * n);
    memcpy(x->cap, cap_bytes_per_s, sizeof(double) * (size_t)nlinks);
    x->shared = calloc(n, 1);
    x->reserved = calloc(n, sizeof(int32_t));
    if (!x->shared || !x->reserved)
        abort();
    replay_init(&x->rp, nlinks);
    return x;
}

void exec_iso_free(exec_iso *x)
{
    if (!x)
        return;
    for (int i = 0; i < x->nplans; i++) {
        free(x->plans[i].links);
        free(x->plans[i].durs);
    }
    free(x->plans);
    keymap_free(&x->plan_ids);
    free(x->out_start);
    free(x->out_link);
    free(x->in_start);
    free(x->in_link);
    free(x->cap);
    free(x->shared);
    free(x->reserved);
    free(x->moving);
    replay_free(&x->rp);
    free(x);
}

/* The plan's distinct links. */
static void entry_fill(exec_iso *x, plan_entry *e, const coll_plan *plan)
{
    e->plan = plan;
    e->task = -1;
    int cap = 0;
    for (int p = 0; p < plan->nphases; p++)
        for (int c = 0; c < plan->phases[p].ncoflows; c++) {
            const coll_coflow *cf = &plan->phases[p].coflows[c];
            for (int h = 0; h < cf->nlinks; h++) {
                int32_t l = cf->links[h];
                if (x->rp.local_of[l] >= 0)
                    continue; /* listed already (local_of doubles as a seen mark here) */
                x->rp.local_of[l] = 0;
                CS_GROW(e->links, cap, e->nlinks + 1);
                e->links[e->nlinks++] = l;
            }
        }
    for (int i = 0; i < e->nlinks; i++)
        x->rp.local_of[e->links[i]] = -1;
}

static plan_entry *entry_of(exec_iso *x, const coll_plan *plan)
{
    int added;
    uint32_t at = keymap_add(&x->plan_ids, (uint64_t)(uintptr_t)plan, &added);
    if (added) {
        CS_GROW(x->plans, x->capplans, (int)at + 1);
        x->nplans++;
        memset(&x->plans[at], 0, sizeof x->plans[at]);
        entry_fill(x, &x->plans[at], plan);
    }
    return &x->plans[at];
}

void exec_iso_note_plan(exec_iso *x, const coll_plan *plan) { entry_of(x, plan); }

/* Marks the links of the same kind as link that leave its source (end 0)
 * or enter its destination (end 1): the equal-cost choices of a route's
 * first or last hop (a node's NVSwitch planes). */
static void mark_alternatives(exec_iso *x, int32_t link, int end)
{
    const topo_link *k = topo_link_at(x->t, link);
    int v = end ? k->dst : k->src;
    const int32_t *start = end ? x->in_start : x->out_start;
    const int32_t *list = end ? x->in_link : x->out_link;
    for (int i = start[v]; i < start[v + 1]; i++)
        if (topo_link_at(x->t, list[i])->kind == k->kind)
            x->shared[list[i]] = 1;
}

void exec_iso_note_route(exec_iso *x, const int32_t *links, int nlinks)
{
    for (int h = 0; h < nlinks; h++)
        x->shared[links[h]] = 1;
    if (nlinks > 0) { /* other transfers of the pair may hash onto another plane */
        mark_alternatives(x, links[0], 0);
        mark_alternatives(x, links[nlinks - 1], 1);
    }
}

static uint64_t entry_duration(exec_iso *x, plan_entry *e, uint64_t size_bytes)
{
    for (int i = 0; i < e->ndurs; i++)
        if (e->durs[i].size_bytes == size_bytes)
            return e->durs[i].duration_ps;
    CS_GROW(e->durs, e->capdurs, e->ndurs + 1);
    uint64_t d = replay_duration(&x->rp, e->plan, size_bytes, x->cap);
    e->durs[e->ndurs++] = (size_dur){size_bytes, d};
    return d;
}

/* ---- during the run ---------------------------------------------------------- */

int exec_iso_begin(exec_iso *x, const net *n, const coll_plan *plan, uint64_t size_bytes,
                   int task, uint64_t now_ps, uint64_t *duration_ps)
{
    plan_entry *e = entry_of(x, plan);
    if (e->nlinks == 0)
        return 0;
    for (int i = 0; i < e->nlinks; i++) {
        int32_t l = e->links[i];
        if (x->shared[l] || x->reserved[l] || net_link_flow_count(n, l) > 0)
            return 0; /* not alone now: flows (a timed one there moves to flows with them) */
    }
    uint64_t d = entry_duration(x, e, size_bytes);
    if (d == UINT64_MAX)
        return 0; /* stalls on a dead link: as flows, the run reports it */
    int32_t mark = (int32_t)(e - x->plans) + 1;
    for (int i = 0; i < e->nlinks; i++)
        x->reserved[e->links[i]] = mark;
    e->task = task;
    e->start_ps = now_ps;
    e->size_bytes = size_bytes;
    x->timed++;
    *duration_ps = d;
    return 1;
}

void exec_iso_started(exec_iso *x, const coll_plan *plan, evq_id end_event)
{
    entry_of(x, plan)->end_event = end_event;
}

static void release(exec_iso *x, plan_entry *e)
{
    int32_t mark = (int32_t)(e - x->plans) + 1;
    for (int i = 0; i < e->nlinks; i++)
        if (x->reserved[e->links[i]] == mark)
            x->reserved[e->links[i]] = 0;
    e->task = -1;
}

void exec_iso_end(exec_iso *x, const coll_plan *plan) { release(x, entry_of(x, plan)); }

int exec_iso_owner(const exec_iso *x, const int32_t *links, int nlinks)
{
    for (int h = 0; h < nlinks; h++)
        if (x->reserved[links[h]])
            return x->plans[x->reserved[links[h]] - 1].task;
    return -1;
}

/* The coflows of phase p still to end at stop_ps (from the phase's start):
 * those moving with the bytes net's flow_advance would leave them, the
 * others with the time their latency passes. */
static int moving_coflows(exec_iso *x, const coll_phase *ph, uint64_t stop_ps,
                          uint64_t phase_start_abs_ps)
{
    replay *r = &x->rp;
    if (ph->ncoflows > x->capmoving) {
        x->capmoving = ph->ncoflows * 2;
        x->moving = cs_xrealloc(x->moving, sizeof *x->moving * (size_t)x->capmoving);
    }
    int n = 0;
    for (int c = 0; c < ph->ncoflows; c++) {
        exec_iso_coflow *m = &x->moving[n];
        m->coflow = c;
        if (r->done[c] == NO_END) {
            double moved = r->cur[c] * (double)(stop_ps - r->last[c]) * 1e-12;
            m->bytes_left = moved < r->rem[c] ? r->rem[c] - moved : 0;
            m->done_ps = 0;
            n++;
        } else if (r->done[c] > stop_ps) {
            m->bytes_left = -1;
            m->done_ps = phase_start_abs_ps + r->done[c];
            n++;
        }
    }
    return n;
}

void exec_iso_demote(exec_iso *x, const coll_plan *plan, uint64_t now_ps, exec_iso_state *st)
{
    plan_entry *e = entry_of(x, plan);
    memset(st, 0, sizeof *st);
    st->end_event = e->end_event;
    uint64_t phase_start_ps;
    st->phase = replay_at(&x->rp, plan, e->size_bytes, x->cap, now_ps - e->start_ps,
                          &phase_start_ps);
    st->phase_start_ps = e->start_ps + phase_start_ps;
    if (st->phase >= 0 && st->phase < plan->nphases) {
        st->n = moving_coflows(x, &plan->phases[st->phase], now_ps - st->phase_start_ps,
                               st->phase_start_ps);
        st->coflows = x->moving;
    }
    release(x, e);
    x->demoted++;
}

uint64_t exec_iso_plan_duration_ps(exec_iso *x, const coll_plan *plan, uint64_t size_bytes)
{
    return entry_duration(x, entry_of(x, plan), size_bytes);
}

void exec_iso_follow(exec_iso *x, const coll_plan *plan, int task, uint64_t start_ps,
                     uint64_t size_bytes)
{
    plan_entry *e = entry_of(x, plan);
    e->task = task;
    e->start_ps = start_ps;
    e->size_bytes = size_bytes;
    x->timed++;
}

uint64_t exec_iso_timed(const exec_iso *x) { return x->timed; }
uint64_t exec_iso_demoted(const exec_iso *x) { return x->demoted; }
