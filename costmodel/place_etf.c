/* place_etf: m-ETF and the list schedule of m-SCT, on the fused graph.
 *
 * m-ETF (Baechi): among the ready nodes (every predecessor scheduled) and the
 * devices that can hold the node's unit (its unit already placed: that
 * device only; else any device with room for the whole unit), pick the pair
 * with the earliest start, max(device free, data arrival), where data from
 * another device arrives comm after its producer ends.  Ties: the node
 * first in topological order, then the lower device.  The node is appended
 * to the device; its unit's memory is charged when its first node lands.
 *
 * m-SCT adds the favourite child of the LP: a device whose last node's
 * favourite child is not yet scheduled is kept for it; another node may
 * take it only if it would end before that child could start there (the
 * parent's end plus the transfer the child saves), unless every device that
 * could take the node is kept. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "place.h"

typedef struct sched {
    const place_prep *p;
    const place_spec *s;
    const int *fav;
    int *unit_dev;
    double *end_us, *arrive;      /* per node; arrive[v * ndev + d] once v is ready */
    uint64_t *recv;               /* recv[v * ndev + d]: bytes v would receive on d */
    int *dev, *preds_left, *ready, *last;
    int nready;
    double free_us[PLACE_MAX_DEVICES];
    uint64_t used[PLACE_MAX_DEVICES];
} sched;

/* When v's inputs are all at device d. */
static void compute_arrival(sched *c, int v)
{
    const opgraph *f = &c->p->fused;
    for (int d = 0; d < c->s->ndev; d++) {
        double t = 0;
        uint64_t bytes = 0;
        for (int i = f->in_start[v]; i < f->in_start[v + 1]; i++) {
            const opg_edge *e = &f->edges[f->in_edge[i]];
            int remote = c->dev[e->src] != d;
            double at = c->end_us[e->src] + (remote ? place_comm_us(c->s, e->bytes, e->ntensors) : 0);
            bytes += remote ? e->bytes : 0;
            if (at > t)
                t = at;
        }
        c->arrive[(size_t)v * (size_t)c->s->ndev + (size_t)d] = t;
        c->recv[(size_t)v * (size_t)c->s->ndev + (size_t)d] = bytes;
    }
}

static int can_take(const sched *c, int v, int d)
{
    int u = c->p->fused.nodes[v].group;
    uint64_t need = c->recv[(size_t)v * (size_t)c->s->ndev + (size_t)d];
    if (c->unit_dev[u] >= 0 && c->unit_dev[u] != d)
        return 0;
    if (c->unit_dev[u] < 0)
        need += c->p->unit_mem[u];
    return c->used[d] + need <= c->s->mem_bytes[d];
}

/* m-SCT: device d is kept for a favourite child other than v that would
 * start later than v ends. */
static int kept_from(const sched *c, int v, int d, double start)
{
    if (!c->fav || c->last[d] < 0)
        return 0;
    int p = c->last[d], child = c->fav[p];
    if (child < 0 || child == v || c->dev[child] >= 0)
        return 0;
    double saved = 0;
    const opgraph *f = &c->p->fused;
    for (int i = f->out_start[p]; i < f->out_start[p + 1]; i++)
        if (f->edges[f->out_edge[i]].dst == child)
            saved = place_comm_us(c->s, f->edges[f->out_edge[i]].bytes, f->edges[f->out_edge[i]].ntensors);
    return start + f->nodes[v].compute_us > c->end_us[p] + saved;
}

typedef struct pick {
    int slot, dev;
    double start;
} pick;

static int better(const sched *c, pick a, int v, int d, double start)
{
    if (a.slot < 0 || start < a.start)
        return 1;
    if (start > a.start)
        return 0;
    int w = c->ready[a.slot];
    const opgraph *f = &c->p->fused;
    return f->rank[v] != f->rank[w] ? f->rank[v] < f->rank[w] : d < a.dev;
}

/* Best (ready node, device) pair; honour_kept = 0 ignores m-SCT's kept devices. */
static pick choose(const sched *c, int honour_kept)
{
    pick best = {-1, -1, 0};
    for (int i = 0; i < c->nready; i++) {
        int v = c->ready[i];
        for (int d = 0; d < c->s->ndev; d++) {
            if (!can_take(c, v, d))
                continue;
            double a = c->arrive[(size_t)v * (size_t)c->s->ndev + (size_t)d];
            double start = a > c->free_us[d] ? a : c->free_us[d];
            if (honour_kept && kept_from(c, v, d, start))
                continue;
            if (better(c, best, v, d, start))
                best = (pick){i, d, start};
        }
    }
    return best;
}

static void commit(sched *c, pick k)
{
    const opgraph *f = &c->p->fused;
    int v = c->ready[k.slot], u = f->nodes[v].group;
    c->ready[k.slot] = c->ready[--c->nready];
    if (c->unit_dev[u] < 0) {
        c->unit_dev[u] = k.dev;
        c->used[k.dev] += c->p->unit_mem[u];
    }
    c->used[k.dev] += c->recv[(size_t)v * (size_t)c->s->ndev + (size_t)k.dev];
    c->dev[v] = k.dev;
    c->end_us[v] = k.start + f->nodes[v].compute_us;
    c->free_us[k.dev] = c->end_us[v];
    c->last[k.dev] = v;
    for (int i = f->out_start[v]; i < f->out_start[v + 1]; i++) {
        int w = f->edges[f->out_edge[i]].dst;
        if (--c->preds_left[w] == 0) {
            compute_arrival(c, w);
            c->ready[c->nready++] = w;
        }
    }
}

/* The first ready node's unit fits nowhere: the error names it. */
static int stuck(const sched *c, const char *algo, cs_err *err)
{
    const place_prep *p = c->p;
    int v = c->ready[0], u = p->fused.nodes[v].group, best = 0, d0 = c->unit_dev[u];
    if (d0 >= 0) { /* its unit is already on d0: only the inputs it receives there are new */
        double room = ((double)c->s->mem_bytes[d0] - (double)c->used[d0]) / 1073741824.0;
        double need = (double)c->recv[(size_t)v * (size_t)c->s->ndev + (size_t)d0] / 1073741824.0;
        return cs_fail(err, "%s: no room for '%s': its unit is on device %d, which has %.3f GiB "
                       "free of %.3f GiB, and the inputs it receives there need %.3f GiB (%.3f GiB "
                       "more)", algo, opg_name(&p->fused, v), d0, room,
                       c->s->mem_bytes[d0] / 1073741824.0, need, need - room);
    }
    for (int d = 1; d < c->s->ndev; d++)
        if (c->s->mem_bytes[d] - c->used[d] > c->s->mem_bytes[best] - c->used[best])
            best = d;
    double room = ((double)c->s->mem_bytes[best] - (double)c->used[best]) / 1073741824.0;
    double need = (double)(p->unit_mem[u] + c->recv[(size_t)c->ready[0] * (size_t)c->s->ndev + (size_t)best]) / 1073741824.0;
    return cs_fail(err, "%s: no device has room for '%s' (its unit and inputs need %.3f GiB): "
                   "device %d, the emptiest, has %.3f GiB free of %.3f GiB and runs out of memory "
                   "by %.3f GiB", algo, opg_name(&p->fused, c->ready[0]), need, best, room,
                   c->s->mem_bytes[best] / 1073741824.0, need - room);
}

static void sched_free(sched *c)
{
    free(c->end_us);
    free(c->arrive);
    free(c->recv);
    free(c->dev);
    free(c->preds_left);
    free(c->ready);
}

int place_list_schedule(const place_prep *p, const place_spec *s, const int *fav,
                        int *unit_dev, double *step_us, cs_err *err)
{
    const opgraph *f = &p->fused;
    size_t n = (size_t)f->n + 1;
    int last[PLACE_MAX_DEVICES];
    sched c = {p, s, fav, unit_dev, cs_xrealloc(NULL, n * sizeof(double)),
               cs_xrealloc(NULL, n * (size_t)s->ndev * sizeof(double)),
               cs_xrealloc(NULL, n * (size_t)s->ndev * sizeof(uint64_t)), cs_xrealloc(NULL, n * sizeof(int)),
               cs_xrealloc(NULL, n * sizeof(int)), cs_xrealloc(NULL, n * sizeof(int)), last, 0, {0}, {0}};
    for (int d = 0; d < s->ndev; d++)
        last[d] = -1;
    for (int u = 0; u < p->nunits; u++)
        unit_dev[u] = -1;
    for (int v = 0; v < f->n; v++) {
        c.dev[v] = -1;
        c.preds_left[v] = f->in_start[v + 1] - f->in_start[v];
        if (c.preds_left[v] == 0) {
            compute_arrival(&c, v);
            c.ready[c.nready++] = v;
        }
    }
    int rc = 0;
    *step_us = 0;
    while (c.nready > 0 && rc == 0) {
        pick k = choose(&c, 1);
        if (k.slot < 0 && fav)
            k = choose(&c, 0);
        if (k.slot < 0)
            rc = stuck(&c, fav ? "m-SCT" : "m-ETF", err);
        else
            commit(&c, k);
    }
    for (int v = 0; rc == 0 && v < f->n; v++)
        if (c.end_us[v] > *step_us)
            *step_us = c.end_us[v];
    sched_free(&c);
    return rc;
}
