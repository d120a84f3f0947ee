/* place: the algorithm table, the baselines, m-TOPO, and the memory model. */
#include "place.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cs_alloc.h"

static const char *const algo_names[] = {"topo", "etf", "sct", "auto", "expert", "single",
                                         "roundrobin", "expert-nearest"};
#define NALGOS ((int)(sizeof algo_names / sizeof algo_names[0]))

const char *place_algo_name(place_algo a)
{
    return a >= 0 && (int)a < NALGOS ? algo_names[a] : "?";
}

int place_algo_parse(const char *text, place_algo *out, cs_err *err)
{
    for (int i = 0; i < NALGOS; i++)
        if (strcasecmp(text, algo_names[i]) == 0) {
            *out = (place_algo)i;
            return 0;
        }
    return cs_fail(err, "unknown algorithm '%s'; valid: topo, etf, sct, auto, expert, single, "
                   "roundrobin, expert-nearest", text);
}

void place_op_devices(const opgraph *g, const place_prep *p, const int *unit_dev, int *op_dev)
{
    for (int v = 0; v < g->n; v++)
        op_dev[v] = unit_dev[p->fused.nodes[p->fused_of[v]].group];
}

/* ---- memory ------------------------------------------------------------------ */

/* v's bytes kept all step, and its scratch while it runs (its temporary
 * bytes, plus its output when only its own fused node reads it). */
static void op_bytes(const opgraph *g, const int *fused_of, const int *op_dev, int v,
                     uint64_t *kept, uint64_t *scratch)
{
    const opg_node *o = &g->nodes[v];
    int leaves = g->out_start[v] == g->out_start[v + 1];
    for (int i = g->out_start[v]; !leaves && i < g->out_start[v + 1]; i++) {
        int w = g->edges[g->out_edge[i]].dst;
        leaves = fused_of[w] != fused_of[v] || op_dev[w] != op_dev[v];
    }
    *kept = o->perm_bytes + (leaves ? o->out_bytes : 0);
    *scratch = o->temp_bytes + (leaves ? 0 : o->out_bytes);
}

/* v's output as received by each other device: each distinct tensor once
 * per device that reads it (sent_to[t]: a bit per device it went to), at
 * most v's output bytes. */
static void received(const opgraph *g, const int *op_dev, int v, uint64_t *sent_to,
                     uint64_t *need_bytes)
{
    uint64_t carried[PLACE_MAX_DEVICES], to = 0; /* to: a bit per device that receives */
    for (int i = g->out_start[v]; i < g->out_start[v + 1]; i++) {
        const opg_edge *e = &g->edges[g->out_edge[i]];
        int d = op_dev[e->dst];
        for (int k = 0; d != op_dev[v] && k < e->ntensors; k++) {
            int t = opg_edge_tensor(g, e, k);
            if (!(to >> d & 1))
                carried[d] = 0;
            to |= 1ULL << d;
            if (!(sent_to[t] >> d & 1)) {
                sent_to[t] |= 1ULL << d;
                carried[d] += g->tensors[t].bytes;
            }
        }
    }
    for (int d = 0; to; d++, to >>= 1)
        if (to & 1)
            need_bytes[d] += carried[d] < g->nodes[v].out_bytes ? carried[d] : g->nodes[v].out_bytes;
}

void place_replay_memory(const opgraph *g, const int *fused_of, const int *op_dev, int ndev,
                         uint64_t *need_bytes)
{
    uint64_t need[PLACE_MAX_DEVICES] = {0}, peak[PLACE_MAX_DEVICES] = {0};
    uint64_t *sent_to = calloc((size_t)g->ntensors + 1, sizeof *sent_to);
    if (!sent_to)
        abort();
    for (int v = 0; v < g->n; v++) {
        uint64_t kept, scratch;
        op_bytes(g, fused_of, op_dev, v, &kept, &scratch);
        need[op_dev[v]] += kept;
        peak[op_dev[v]] = scratch > peak[op_dev[v]] ? scratch : peak[op_dev[v]];
        received(g, op_dev, v, sent_to, need);
    }
    free(sent_to);
    for (int d = 0; d < ndev; d++)
        need_bytes[d] = need[d] + peak[d];
}

int place_check_memory(const place_spec *s, const uint64_t *need_bytes, cs_err *err)
{
    for (int d = 0; d < s->ndev; d++)
        if (need_bytes[d] > s->mem_bytes[d])
            return cs_fail(err, "device %d runs out of memory: the placement needs %.3f GiB "
                           "there, %.3f GiB more than its %.3f GiB", d,
                           need_bytes[d] / 1073741824.0,
                           (need_bytes[d] - s->mem_bytes[d]) / 1073741824.0,
                           s->mem_bytes[d] / 1073741824.0);
    return 0;
}

/* ---- baselines and m-TOPO ------------------------------------------------------ */

static void single(const place_prep *p, int *unit_dev)
{
    memset(unit_dev, 0, sizeof *unit_dev * (size_t)p->nunits);
}

/* Units in the topological order of their first fused node. */
static void unit_order(const place_prep *p, int *order)
{
    int n = 0;
    char *seen = calloc((size_t)p->nunits + 1, 1);
    if (!seen)
        abort();
    for (int i = 0; i < p->fused.n; i++) {
        int u = p->fused.nodes[p->fused.topo[i]].group;
        if (!seen[u]) {
            seen[u] = 1;
            order[n++] = u;
        }
    }
    free(seen);
}

static void round_robin(const place_prep *p, int ndev, int *unit_dev)
{
    int *order = cs_xrealloc(NULL, sizeof *order * (size_t)(p->nunits + 1));
    unit_order(p, order);
    for (int i = 0; i < p->nunits; i++)
        unit_dev[order[i]] = i % ndev;
    free(order);
}

/* The unit that fits nowhere: names the device with the most room. */
static int no_room(const place_prep *p, const place_spec *s, const uint64_t *used, int u,
                   const char *algo, cs_err *err)
{
    int best = 0;
    for (int d = 1; d < s->ndev; d++)
        if (s->mem_bytes[d] - used[d] > s->mem_bytes[best] - used[best])
            best = d;
    uint64_t room = s->mem_bytes[best] - used[best];
    return cs_fail(err, "%s: no device has room for operator '%s' and its unit (%d node%s, "
                   "%.3f GiB): device %d, the emptiest, runs out of memory by %.3f GiB "
                   "(%.3f GiB free of %.3f GiB)", algo,
                   opg_name(&p->fused, p->unit_nodes[p->unit_first[u]]),
                   p->unit_first[u + 1] - p->unit_first[u],
                   p->unit_first[u + 1] - p->unit_first[u] == 1 ? "" : "s",
                   p->unit_mem[u] / 1073741824.0, best, (p->unit_mem[u] - room) / 1073741824.0,
                   room / 1073741824.0, s->mem_bytes[best] / 1073741824.0);
}

/* m-TOPO: units in topological order fill device after device up to a
 * balanced cap (the total times the device's share of all memory); a unit
 * that passes the cap goes to the next device; one that fits under no cap
 * goes to the first device with room. */
static int topo_fill(const place_prep *p, const place_spec *s, int *unit_dev, cs_err *err)
{
    uint64_t total = 0, limit_sum = 0, used[PLACE_MAX_DEVICES] = {0};
    for (int u = 0; u < p->nunits; u++)
        total += p->unit_mem[u];
    for (int d = 0; d < s->ndev; d++)
        limit_sum += s->mem_bytes[d];
    int *order = cs_xrealloc(NULL, sizeof *order * (size_t)(p->nunits + 1)), d = 0, rc = 0;
    unit_order(p, order);
    for (int i = 0; i < p->nunits && rc == 0; i++) {
        int u = order[i];
        while (d < s->ndev - 1 &&
               (double)(used[d] + p->unit_mem[u]) > (double)total * s->mem_bytes[d] / limit_sum)
            d++;
        int at = d;
        for (int k = 0; used[at] + p->unit_mem[u] > s->mem_bytes[at] && k < s->ndev; k++)
            at = (at + 1) % s->ndev;
        if (used[at] + p->unit_mem[u] > s->mem_bytes[at])
            rc = no_room(p, s, used, u, "m-TOPO", err);
        unit_dev[u] = at;
        used[at] += p->unit_mem[u];
    }
    free(order);
    return rc;
}

/* Operators left unplaced (-1) take the device of the nearest placed one:
 * breadth first over edges in both directions from every placed operator
 * in topological order. */
static void nearest_placed(const opgraph *g, int *op_dev)
{
    int *queue = cs_xrealloc(NULL, sizeof *queue * (size_t)(g->n + 1)), head = 0, tail = 0;
    for (int i = 0; i < g->n; i++)
        if (op_dev[g->topo[i]] >= 0)
            queue[tail++] = g->topo[i];
    while (head < tail) {
        int v = queue[head++];
        for (int side = 0; side < 2; side++) {
            const int *start = side ? g->in_start : g->out_start, *list = side ? g->in_edge : g->out_edge;
            for (int i = start[v]; i < start[v + 1]; i++) {
                const opg_edge *e = &g->edges[list[i]];
                int w = side ? e->src : e->dst;
                if (op_dev[w] < 0) {
                    op_dev[w] = op_dev[v];
                    queue[tail++] = w;
                }
            }
        }
    }
    free(queue);
}

int place_expert(const opgraph *g, int ndev, int nearest, int *op_dev, cs_err *err)
{
    int *group_dev = cs_xrealloc(NULL, sizeof *group_dev * (size_t)(g->ngroups + 1));
    for (int k = 0; k < g->ngroups; k++)
        group_dev[k] = -1;
    for (int i = 0; i < g->n; i++) {
        int v = g->topo[i], d = g->nodes[v].expert_dev, k = g->nodes[v].group;
        op_dev[v] = d;
        if (d >= ndev) {
            free(group_dev);
            return cs_fail(err, "expert: operator %d ('%s') is pinned to device %d, but there "
                           "are %d devices (0 to %d)", v, opg_name(g, v), d, ndev, ndev - 1);
        }
        if (d >= 0 && k >= 0 && group_dev[k] < 0)
            group_dev[k] = d;
    }
    for (int v = 0; v < g->n; v++) /* TensorFlow: a colocation group goes where it is pinned */
        if (op_dev[v] < 0 && g->nodes[v].group >= 0)
            op_dev[v] = group_dev[g->nodes[v].group];
    if (nearest)
        nearest_placed(g, op_dev);
    for (int v = 0; v < g->n; v++) /* TensorFlow's default device: the first GPU */
        if (op_dev[v] < 0)
            op_dev[v] = 0;
    free(group_dev);
    return 0;
}

static int unit_algo(const place_prep *p, const place_spec *s, place_algo a, place_result *r,
                     cs_err *err)
{
    switch (a) {
    case PLACE_SINGLE: single(p, r->unit_dev); return 0;
    case PLACE_ROUNDROBIN: round_robin(p, s->ndev, r->unit_dev); return 0;
    case PLACE_TOPO: return topo_fill(p, s, r->unit_dev, err);
    case PLACE_ETF: return place_list_schedule(p, s, NULL, r->unit_dev, &r->est_step_us, err);
    case PLACE_SCT: {
        int *fav = cs_xrealloc(NULL, sizeof *fav * (size_t)(p->fused.n + 1));
        int rc = place_sct_favourites(&p->fused, s, fav, err);
        if (rc == 0)
            rc = place_list_schedule(p, s, fav, r->unit_dev, &r->est_step_us, err);
        free(fav);
        return rc;
    }
    default: return cs_fail(err, "%s is not a single algorithm", place_algo_name(a));
    }
}

int place_run(const opgraph *g, const place_prep *p, const place_spec *s, place_algo a,
              place_result *r, cs_err *err)
{
    memset(r, 0, sizeof *r);
    r->op_dev = cs_xrealloc(NULL, sizeof *r->op_dev * (size_t)(g->n + 1));
    int rc;
    if (a == PLACE_EXPERT || a == PLACE_EXPERT_NEAREST)
        rc = place_expert(g, s->ndev, a == PLACE_EXPERT_NEAREST, r->op_dev, err);
    else {
        r->unit_dev = cs_xrealloc(NULL, sizeof *r->unit_dev * (size_t)(p->nunits + 1));
        rc = unit_algo(p, s, a, r, err);
        /* The prediction prices the finished placement, every unit's device known:
         * m-ETF's and m-SCT's own schedules booked a transfer only once its reader
         * was placed, and m-SCT's kept devices idle for favourite children. */
        if (rc == 0)
            r->est_step_us = place_estimate(p, s, r->unit_dev);
        if (rc == 0)
            place_op_devices(g, p, r->unit_dev, r->op_dev);
    }
    if (rc == 0) {
        uint64_t need[PLACE_MAX_DEVICES];
        place_replay_memory(g, p->fused_of, r->op_dev, s->ndev, need);
        rc = place_check_memory(s, need, err);
        if (rc != 0)
            cs_fail_prefix(err, "%s: ", place_algo_name(a));
    }
    if (rc != 0)
        place_result_free(r);
    return rc;
}

void place_result_free(place_result *r)
{
    free(r->op_dev);
    free(r->unit_dev);
    memset(r, 0, sizeof *r);
}
