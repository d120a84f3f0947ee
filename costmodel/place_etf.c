/* place_etf: m-ETF and the list schedule of m-SCT, on the fused graph.
 *
 * m-ETF (Baechi): among the ready nodes (every predecessor scheduled) and the
 * devices that can hold the node's unit (its unit already placed: that
 * device only; else any device with room for the whole unit), pick the pair
 * with the earliest start, max(device free, data arrival).  Ties: the node
 * first in topological order, then the lower device.  The node is appended
 * to the device; its unit's memory is charged when its first node lands.
 *
 * Arrivals are priced as the simulator charges them (sim/placesim): a
 * tensor already on the device (sent there for an earlier node) costs
 * nothing more; one not yet there books the channels with the simulator's
 * own place_channel_reserve (pair: the device pair's; device: the sender's,
 * then the receiver's from the send's start), first come first served, for
 * latency plus bytes / bandwidth, from when its operator ends.  The choice
 * tries each (node, device) on a copy of the channels; the pick books them.  A tensor to a device that already holds
 * its reader's unit is booked when its producer is placed (send_ahead); one
 * whose reader's unit has no device yet, when the reader is placed.  The
 * same schedule with every unit's device fixed (place_estimate) books every
 * tensor when its producer is placed: the prediction of a placement.
 *
 * m-SCT adds the favourite child of the LP: a device whose last node's
 * favourite child is not yet scheduled is kept for it; another node may
 * take it only if it would end before that child could start there (the
 * parent's end plus the transfer the child saves), unless every device that
 * could take the node is kept. */
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "place.h"

typedef struct sched {
    const place_prep *p;
    const place_spec *s;
    const int *fav;
    int *unit_dev;
    int fixed;                    /* every unit's device given: no memory checks */
    double *end_us;               /* per node */
    double *tarr;                 /* tarr[t * ndev + d]: when tensor t is on d; < 0 not sent */
    double *chan;                 /* when each channel is next free (place_channel_reserve) */
    double *trial;                /* a trial's copy of chan */
    int trial_live;               /* the copy is made */
    int *dev, *preds_left, *ready, *last, *inbuf;
    int nready;
    double free_us[PLACE_MAX_DEVICES];
    uint64_t used[PLACE_MAX_DEVICES];
} sched;

static double tensor_us(const place_spec *s, const opg_tensor *t)
{
    return s->latency_us + (double)t->bytes / s->bytes_per_us;
}

/* v's in-edges, those whose producers end first first (the simulator sends
 * a tensor when its producer ends); returns the count. */
static int inputs_by_end(const sched *c, int v)
{
    const opgraph *f = &c->p->fused;
    int n = 0;
    for (int i = f->in_start[v]; i < f->in_start[v + 1]; i++) {
        int e = f->in_edge[i], j = n++;
        double t = c->end_us[f->edges[e].src];
        while (j > 0 && c->end_us[f->edges[c->inbuf[j - 1]].src] > t) {
            c->inbuf[j] = c->inbuf[j - 1];
            j--;
        }
        c->inbuf[j] = e;
    }
    return n;
}

/* A tensor sent from a at made_us reaches d, booked as the simulator books
 * it (place_channel_reserve); commit = 0 books on the trial copy of the
 * channels, made from the real ones at the trial's first booking. */
static double transfer(sched *c, int a, int d, double made_us, double dur_us, int commit)
{
    size_t nd = (size_t)c->s->ndev, nch = c->s->channels == PLACE_CH_PAIR ? nd * nd : nd;
    if (!commit && !c->trial_live) {
        memcpy(c->trial, c->chan, sizeof *c->trial * nch);
        c->trial_live = 1;
    }
    return place_channel_reserve(c->s->channels, (int)nd, commit ? c->chan : c->trial, a, d,
                                 made_us, dur_us);
}

/* When tensor slot (edge e, k) of v's inputs can be on device d. */
static double input_at(sched *c, const opg_edge *e, int k, int d, int commit,
                       uint64_t *recv_bytes)
{
    const opgraph *f = &c->p->fused;
    size_t nd = (size_t)c->s->ndev;
    int tid = opg_edge_tensor(f, e, k), a = c->dev[e->src];
    double made = c->end_us[e->src] - f->nodes[e->src].compute_us + c->p->tensor_at_us[tid];
    if (a == d)
        return made;
    double at = c->tarr[(size_t)tid * nd + (size_t)d];
    if (at >= 0)
        return at;
    at = transfer(c, a, d, made, tensor_us(c->s, &f->tensors[tid]), commit);
    *recv_bytes += f->tensors[tid].bytes;
    if (commit)
        c->tarr[(size_t)tid * nd + (size_t)d] = at;
    return at;
}

/* The earliest v can start on device d as far as its inputs go (each input
 * there by the time the member that reads it starts), and the bytes it
 * receives there that d does not hold yet.  commit = 0 tries it on a copy
 * of the channels; 1 books them and records where each tensor now is. */
static double arrival(sched *c, int v, int d, int commit, uint64_t *recv_bytes)
{
    const opgraph *f = &c->p->fused;
    double t = 0;
    c->trial_live = 0;
    *recv_bytes = 0;
    for (int i = 0, n = inputs_by_end(c, v); i < n; i++) {
        const opg_edge *e = &f->edges[c->inbuf[i]];
        for (int k = 0; k < e->ntensors; k++) {
            double at = input_at(c, e, k, d, commit, recv_bytes) -
                        c->p->slot_need_us[e->tensor0 + k];
            t = at > t ? at : t;
        }
    }
    return t;
}

/* Whether v may go to d (its unit's device, or room for its unit and the
 * inputs it receives there); start: when it could start there. */
static int can_take(sched *c, int v, int d, double *start)
{
    int u = c->p->fused.nodes[v].group;
    if (c->unit_dev[u] >= 0 && c->unit_dev[u] != d)
        return 0;
    uint64_t need;
    double a = arrival(c, v, d, 0, &need);
    *start = a > c->free_us[d] ? a : c->free_us[d];
    if (c->fixed)
        return 1;
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
            saved = place_comm_us(c->s, f->edges[f->out_edge[i]].bytes,
                                  f->edges[f->out_edge[i]].ntensors);
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
static pick choose(sched *c, int honour_kept)
{
    pick best = {-1, -1, 0};
    for (int i = 0; i < c->nready; i++) {
        int v = c->ready[i];
        for (int d = 0; d < c->s->ndev; d++) {
            double start;
            if (!can_take(c, v, d, &start))
                continue;
            if (honour_kept && kept_from(c, v, d, start))
                continue;
            if (better(c, best, v, d, start))
                best = (pick){i, d, start};
        }
    }
    return best;
}

/* v's tensors to devices that already hold a reader's unit are booked now,
 * when v is placed (the simulator sends a tensor when its producer ends);
 * readers whose unit has no device yet are booked when they are placed.
 * The bytes count on the receiving device now. */
static void send_ahead(sched *c, int v)
{
    const opgraph *f = &c->p->fused;
    for (int i = f->out_start[v]; i < f->out_start[v + 1]; i++) {
        const opg_edge *e = &f->edges[f->out_edge[i]];
        int d = c->unit_dev[f->nodes[e->dst].group];
        for (int k = 0; d >= 0 && d != c->dev[v] && k < e->ntensors; k++) {
            uint64_t bytes = 0;
            input_at(c, e, k, d, 1, &bytes);
            c->used[d] += bytes;
        }
    }
}

static void commit(sched *c, pick k)
{
    const opgraph *f = &c->p->fused;
    int v = c->ready[k.slot], u = f->nodes[v].group;
    c->ready[k.slot] = c->ready[--c->nready];
    if (c->unit_dev[u] < 0)
        c->used[k.dev] += c->p->unit_mem[u];
    c->unit_dev[u] = k.dev;
    uint64_t recv;
    arrival(c, v, k.dev, 1, &recv);
    c->used[k.dev] += recv;
    c->dev[v] = k.dev;
    c->end_us[v] = k.start + f->nodes[v].compute_us;
    c->free_us[k.dev] = c->end_us[v];
    c->last[k.dev] = v;
    send_ahead(c, v);
    for (int i = f->out_start[v]; i < f->out_start[v + 1]; i++) {
        int w = f->edges[f->out_edge[i]].dst;
        if (--c->preds_left[w] == 0)
            c->ready[c->nready++] = w;
    }
}

/* The first ready node's unit fits nowhere: the error names it. */
static int stuck(sched *c, const char *algo, cs_err *err)
{
    const place_prep *p = c->p;
    int v = c->ready[0], u = p->fused.nodes[v].group, best = 0, d0 = c->unit_dev[u];
    uint64_t recv;
    if (d0 >= 0) { /* its unit is already on d0: only the inputs it receives there are new */
        arrival(c, v, d0, 0, &recv);
        double room = ((double)c->s->mem_bytes[d0] - (double)c->used[d0]) / 1073741824.0;
        double need = (double)recv / 1073741824.0;
        return cs_fail(err, "%s: no room for '%s': its unit is on device %d, which has %.3f GiB "
                       "free of %.3f GiB, and the inputs it receives there need %.3f GiB (%.3f GiB "
                       "more)", algo, opg_name(&p->fused, v), d0, room,
                       c->s->mem_bytes[d0] / 1073741824.0, need, need - room);
    }
    for (int d = 1; d < c->s->ndev; d++)
        if (c->s->mem_bytes[d] - c->used[d] > c->s->mem_bytes[best] - c->used[best])
            best = d;
    arrival(c, v, best, 0, &recv);
    double room = ((double)c->s->mem_bytes[best] - (double)c->used[best]) / 1073741824.0;
    double need = (double)(p->unit_mem[u] + recv) / 1073741824.0;
    return cs_fail(err, "%s: no device has room for '%s' (its unit and inputs need %.3f GiB): "
                   "device %d, the emptiest, has %.3f GiB free of %.3f GiB and runs out of memory "
                   "by %.3f GiB", algo, opg_name(&p->fused, v), need, best, room,
                   c->s->mem_bytes[best] / 1073741824.0, need - room);
}

static void sched_free(sched *c)
{
    free(c->end_us);
    free(c->tarr);
    free(c->chan);
    free(c->trial);
    free(c->dev);
    free(c->preds_left);
    free(c->ready);
    free(c->inbuf);
}

/* The list schedule; fixed: unit_dev is given (no memory checks). */
static int list_schedule(const place_prep *p, const place_spec *s, const int *fav, int fixed,
                         int *unit_dev, double *step_us, cs_err *err)
{
    const opgraph *f = &p->fused;
    size_t n = (size_t)f->n + 1, nd = (size_t)s->ndev, nt = (size_t)f->ntensors + 1;
    int last[PLACE_MAX_DEVICES];
    sched c = {p, s, fav, unit_dev, fixed, cs_xrealloc(NULL, n * sizeof(double)),
               cs_xrealloc(NULL, nt * nd * sizeof(double)), calloc(nd * nd, sizeof(double)),
               cs_xrealloc(NULL, nd * nd * sizeof(double)), 0,
               cs_xrealloc(NULL, n * sizeof(int)), cs_xrealloc(NULL, n * sizeof(int)),
               cs_xrealloc(NULL, n * sizeof(int)), last,
               cs_xrealloc(NULL, ((size_t)f->m + 1) * sizeof(int)), 0, {0}, {0}};
    if (!c.chan)
        abort();
    for (int d = 0; d < s->ndev; d++)
        last[d] = -1;
    for (size_t i = 0; i < nt * nd; i++)
        c.tarr[i] = -1;
    for (int u = 0; !fixed && u < p->nunits; u++)
        unit_dev[u] = -1;
    for (int v = 0; v < f->n; v++) {
        c.dev[v] = -1;
        c.preds_left[v] = f->in_start[v + 1] - f->in_start[v];
        if (c.preds_left[v] == 0)
            c.ready[c.nready++] = v;
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

int place_list_schedule(const place_prep *p, const place_spec *s, const int *fav,
                        int *unit_dev, double *step_us, cs_err *err)
{
    return list_schedule(p, s, fav, 0, unit_dev, step_us, err);
}

double place_estimate(const place_prep *p, const place_spec *s, const int *unit_dev)
{
    int *dev = cs_xrealloc(NULL, sizeof *dev * (size_t)(p->nunits + 1));
    memcpy(dev, unit_dev, sizeof *dev * (size_t)p->nunits);
    double step_us = 0;
    list_schedule(p, s, NULL, 1, dev, &step_us, NULL);
    free(dev);
    return step_us;
}
