/* placesim: ready queues per device, channels or routed flows, memory counters. */
#include "placesim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "evq.h"
#include "net.h"

typedef struct ready_item {
    uint64_t ready_ps;
    int rank, op;
} ready_item;

typedef struct device {
    ready_item *heap;
    int n, cap, busy;
    uint64_t busy_ps, mem_bytes;
} device;

typedef struct run {
    const opgraph *g;
    const int *op_dev;
    const placesim_cfg *c;
    placesim_result *r;
    placesim_mem_trace *trace;
    evq *q;
    net *net;                          /* with a topology */
    device *dev;
    double *free_us;                   /* linear model: when each channel is next free */
    int *preds_left;
    int *tensors_left;                 /* per edge: its tensors not yet on its consumer's device */
    char *sent;                        /* sent[t * ndev + d]: tensor t sent to (or made on) d */
    char *kept;                        /* the output stays all step */
    uint64_t *got;                     /* got[v * ndev + d]: bytes of v received on d */
} run;

static uint64_t us_to_ps(double us)
{
    return (uint64_t)llround(us * 1e6);
}

static void mem_change(run *s, int d, int64_t delta)
{
    device *dv = &s->dev[d];
    dv->mem_bytes = (uint64_t)((int64_t)dv->mem_bytes + delta);
    if (dv->mem_bytes > s->r->peak_bytes[d])
        s->r->peak_bytes[d] = dv->mem_bytes;
    if (s->trace) {
        placesim_mem_trace *t = s->trace;
        CS_GROW(t->samples, t->cap, t->n + 1);
        t->samples[t->n++] = (placesim_mem_sample){evq_now(s->q) * 1e-6, d, dv->mem_bytes};
    }
}

static int item_less(ready_item a, ready_item b)
{
    return a.ready_ps != b.ready_ps ? a.ready_ps < b.ready_ps : a.rank < b.rank;
}

static void heap_push(device *dv, ready_item it)
{
    CS_GROW(dv->heap, dv->cap, dv->n + 1);
    int i = dv->n++;
    while (i > 0 && item_less(it, dv->heap[(i - 1) / 2])) {
        dv->heap[i] = dv->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    dv->heap[i] = it;
}

static ready_item heap_pop(device *dv)
{
    ready_item top = dv->heap[0], it = dv->heap[--dv->n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= dv->n)
            break;
        if (c + 1 < dv->n && item_less(dv->heap[c + 1], dv->heap[c]))
            c++;
        if (!item_less(dv->heap[c], it))
            break;
        dv->heap[i] = dv->heap[c];
        i = c;
    }
    if (dv->n > 0)
        dv->heap[i] = it;
    return top;
}

static void on_op_end(evq *q, void *ctx, uint64_t arg);

static void device_kick(run *s, int d)
{
    device *dv = &s->dev[d];
    if (dv->busy || dv->n == 0)
        return;
    int v = heap_pop(dv).op;
    const opg_node *o = &s->g->nodes[v];
    dv->busy = 1;
    mem_change(s, d, (int64_t)(o->out_bytes + o->temp_bytes));
    uint64_t dur = us_to_ps(o->compute_us);
    dv->busy_ps += dur;
    evq_schedule_in(s->q, dur, on_op_end, s, (uint64_t)v);
}

static void op_ready(run *s, int v)
{
    int d = s->op_dev[v];
    heap_push(&s->dev[d], (ready_item){evq_now(s->q), s->g->rank[v], v});
    device_kick(s, d);
}

/* An output is kept all step unless only its own fused node reads it. */
static int output_kept(const run *s, int v)
{
    const opgraph *g = s->g;
    if (g->out_start[v] == g->out_start[v + 1])
        return 1;
    for (int i = g->out_start[v]; i < g->out_start[v + 1]; i++) {
        int w = g->edges[g->out_edge[i]].dst;
        if (s->op_dev[w] != s->op_dev[v] || (s->c->fused_of && s->c->fused_of[w] != s->c->fused_of[v]))
            return 1;
    }
    return 0;
}

/* Tensor t has reached device d: its bytes are kept there (at most its
 * producer's output bytes in all), and every edge to d that carries it has
 * one tensor fewer to wait for. */
static void on_transfer_end(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    run *s = ctx;
    const opgraph *g = s->g;
    int nd = s->c->ndev, t = (int)(arg / (uint64_t)nd), d = (int)(arg % (uint64_t)nd);
    int v = g->tensors[t].src;
    uint64_t *got = &s->got[(size_t)v * (size_t)nd + (size_t)d], room = g->nodes[v].out_bytes - *got;
    uint64_t add = g->tensors[t].bytes < room ? g->tensors[t].bytes : room;
    *got += add;
    mem_change(s, d, (int64_t)add);
    for (int i = g->out_start[v]; i < g->out_start[v + 1]; i++) {
        int eid = g->out_edge[i];
        const opg_edge *e = &g->edges[eid];
        if (s->op_dev[e->dst] != d)
            continue;
        for (int k = 0; k < e->ntensors; k++)
            if (opg_edge_tensor(g, e, k) == t && --s->tensors_left[eid] == 0 &&
                --s->preds_left[e->dst] == 0)
                op_ready(s, e->dst);
    }
}

static void transfer_start(run *s, int t, int a, int b)
{
    const opg_tensor *tn = &s->g->tensors[t];
    uint64_t arg = (uint64_t)t * (uint64_t)s->c->ndev + (uint64_t)b;
    s->r->transfers++;
    s->r->transfer_bytes += (double)tn->bytes;
    if (!s->c->t) {
        double dur = s->c->latency_us + (double)tn->bytes / s->c->bytes_per_us;
        double end = place_channel_reserve(s->c->channels, s->c->ndev, s->free_us, a, b,
                                           evq_now(s->q) * 1e-6, dur);
        evq_schedule(s->q, us_to_ps(end), on_transfer_end, s, arg);
        return;
    }
    int32_t route[TOPO_MAX_ROUTE];
    int len = topo_route_gpus(s->c->t, a, b, (uint32_t)t, route, TOPO_MAX_ROUTE, NULL);
    len = len < 0 ? 0 : len;
    net_flow_start(s->net, route, NULL, len, (double)tn->bytes,
                   topo_route_latency_ps(s->c->t, route, len), on_transfer_end, s, arg);
}

/* v's outputs to other devices: each tensor once per device that reads it. */
static void send_outputs(run *s, int v)
{
    const opgraph *g = s->g;
    int a = s->op_dev[v], nd = s->c->ndev;
    for (int i = g->out_start[v]; i < g->out_start[v + 1]; i++) {
        const opg_edge *e = &g->edges[g->out_edge[i]];
        int b = s->op_dev[e->dst];
        for (int k = 0; b != a && k < e->ntensors; k++) {
            int t = opg_edge_tensor(g, e, k);
            if (!s->sent[(size_t)t * (size_t)nd + (size_t)b]) {
                s->sent[(size_t)t * (size_t)nd + (size_t)b] = 1;
                transfer_start(s, t, a, b);
            }
        }
    }
}

static void on_op_end(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    run *s = ctx;
    const opgraph *g = s->g;
    int v = (int)arg, d = s->op_dev[v];
    s->dev[d].busy = 0;
    mem_change(s, d, -(int64_t)(g->nodes[v].temp_bytes + (s->kept[v] ? 0 : g->nodes[v].out_bytes)));
    send_outputs(s, v);
    for (int i = g->out_start[v]; i < g->out_start[v + 1]; i++) {
        int w = g->edges[g->out_edge[i]].dst;
        if (s->op_dev[w] == d && --s->preds_left[w] == 0)
            op_ready(s, w);
    }
    device_kick(s, d);
}

static void on_start(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    (void)arg;
    run *s = ctx;
    for (int i = 0; i < s->g->n; i++)
        if (s->preds_left[s->g->topo[i]] == 0)
            op_ready(s, s->g->topo[i]);
}

static int check_input(const opgraph *g, const int *op_dev, const placesim_cfg *c, cs_err *err)
{
    if (c->ndev < 1 || c->ndev > PLACE_MAX_DEVICES)
        return cs_fail(err, "%d devices; 1 to %d are possible", c->ndev, PLACE_MAX_DEVICES);
    if (c->t && topo_gpu_count(c->t) < c->ndev)
        return cs_fail(err, "%d devices, but the system has %d GPUs", c->ndev,
                       topo_gpu_count(c->t));
    if (!c->t && !(c->bytes_per_us > 0 && c->latency_us >= 0))
        return cs_fail(err, "the linear model needs a bandwidth above 0 and a latency of 0 or more");
    for (int v = 0; v < g->n; v++)
        if (op_dev[v] < 0 || op_dev[v] >= c->ndev)
            return cs_fail(err, "operator %d ('%s') is on device %d; devices are 0 to %d", v,
                           opg_name(g, v), op_dev[v], c->ndev - 1);
    return 0;
}

static net *make_net(run *s)
{
    const placesim_cfg *c = s->c;
    int nl = topo_link_count(c->t);
    double *bw = cs_xrealloc(NULL, sizeof *bw * (size_t)(nl + 1));
    for (int l = 0; l < nl; l++)
        bw[l] = topo_link_at(c->t, l)->bw_bytes_per_s;
    net *n = net_new(s->q, nl, bw);
    free(bw);
    return n;
}

static void run_free(run *s)
{
    for (int d = 0; d < s->c->ndev; d++)
        free(s->dev[d].heap);
    free(s->dev);
    free(s->free_us);
    free(s->preds_left);
    free(s->tensors_left);
    free(s->sent);
    free(s->kept);
    free(s->got);
    net_free(s->net);
    evq_free(s->q);
}

int placesim_run(const opgraph *g, const int *op_dev, const placesim_cfg *c, placesim_result *r,
                 placesim_mem_trace *trace, cs_err *err)
{
    memset(r, 0, sizeof *r);
    if (check_input(g, op_dev, c, err) != 0)
        return -1;
    size_t nd = (size_t)c->ndev;
    run s = {g, op_dev, c, r, trace, evq_new(), NULL, calloc(nd, sizeof(device)),
             calloc(nd * nd, sizeof(double)), cs_xrealloc(NULL, sizeof(int) * (size_t)(g->n + 1)),
             cs_xrealloc(NULL, sizeof(int) * (size_t)(g->m + 1)),
             calloc((size_t)g->ntensors * nd + 1, 1), cs_xrealloc(NULL, (size_t)(g->n + 1)),
             calloc((size_t)g->n * nd + 1, sizeof(uint64_t))};
    if (!s.got || !s.dev || !s.free_us || !s.sent)
        abort();
    if (c->t)
        s.net = make_net(&s);
    for (int e = 0; e < g->m; e++)
        s.tensors_left[e] = g->edges[e].ntensors;
    for (int v = 0; v < g->n; v++) {
        s.preds_left[v] = g->in_start[v + 1] - g->in_start[v];
        s.kept[v] = (char)output_kept(&s, v);
        r->ops[op_dev[v]]++;
        mem_change(&s, op_dev[v], (int64_t)g->nodes[v].perm_bytes);
    }
    evq_schedule(s.q, 0, on_start, &s, 0);
    r->events = evq_run(s.q);
    r->step_us = evq_now(s.q) * 1e-6;
    for (int d = 0; d < c->ndev; d++)
        r->busy_us[d] = s.dev[d].busy_ps * 1e-6;
    run_free(&s);
    return 0;
}
