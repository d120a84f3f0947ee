/* exec: dependency counting plus per-stream queues, driven by the engine.
 *
 * Readiness: a task's predecessor count drops to zero -> it is ready.  A
 * ready task without a stream starts at once; with a stream it starts when
 * it is the stream's next task in program order and the stream is idle.
 * A collective runs its plan's phases one after another; each phase starts
 * one flow per coflow and ends when the last of them arrives. */
#include "exec.h"

#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "evq.h"
#include "exec_iso.h"
#include "exec_routes.h"
#include "keymap.h"

/* 64 bytes: what only one kind uses shares storage (a run touches every
 * task a few times; Megatron 1T on 3072 GPUs has 2.8 M of them). */
typedef struct task {
    uint64_t start_ps, end_ps;
    union {
        uint64_t duration_ps;     /* compute, delay */
        struct {                  /* transfer */
            double bytes;
            int32_t src_gpu, dst_gpu;
            uint32_t salt;        /* the ECMP salt of the route (default: the id) */
        };
        struct {                  /* collective */
            const coll_plan *plan;
            uint64_t size_bytes;
            int32_t phase, outstanding; /* progress as flows */
            int32_t chain_left;   /* a timed chain's members from this one on (chains, below) */
        };
    };
    int32_t stream;
    uint32_t name_off;
    uint8_t kind;                 /* exec_kind */
    uint8_t started, ended;
} task;

typedef struct stream {
    int32_t gpu;
    uint32_t label_off;
    int32_t *order;    /* task ids in program order */
    int n, cap, next;
    int busy;
} stream;

struct exec_graph {
    task *tasks;
    int ntasks, captasks;
    stream *streams;
    int nstreams, capstreams;
    int32_t (*deps)[2];
    int ndeps, capdeps;
    int32_t *succ_start, *succ;  /* CSR built at run time */
    int32_t *preds_left;         /* per task: predecessors not ended yet (apart from the tasks:
                                    the hottest field, counted down once per dependency) */
    char *names;
    size_t names_len, names_cap;
    uint32_t *name_slots;        /* distinct names by hash: 1 + offset, 0 empty (intern) */
    size_t name_slots_cap, name_count;
    const char *recent_name[16]; /* names interned lately, by address (the lowerings pass */
    uint32_t recent_off[16];     /* the same literals again and again): checked, not trusted */
    /* run state */
    evq *q;
    net *net;
    topo *t;
    int ended;
    int full_resolve;            /* the network's reference re-solves (net_set_full_resolve) */
    /* collectives alone on their links run as one timed task (exec_iso.h) */
    int timed_collectives;
    exec_iso *iso;               /* during exec_run when timed_collectives is on */
    int no_chains;               /* timed collectives one at a time (exec_set_collective_chains) */
    exec_routes *routes;         /* during exec_run: transfers' routes kept per GPU pair */
};


void exec_set_full_resolve(exec_graph *g, int on) { g->full_resolve = on != 0; }
void exec_set_timed_collectives(exec_graph *g, int on) { g->timed_collectives = on != 0; }
void exec_set_collective_chains(exec_graph *g, int on) { g->no_chains = on == 0; }

exec_graph *exec_new(void)
{
    exec_graph *g = cs_xrealloc(NULL, sizeof *g);
    memset(g, 0, sizeof *g);
    return g;
}

void exec_free(exec_graph *g)
{
    if (!g)
        return;
    for (int s = 0; s < g->nstreams; s++)
        free(g->streams[s].order);
    free(g->tasks);
    free(g->streams);
    free(g->deps);
    free(g->succ_start);
    free(g->succ);
    free(g->preds_left);
    free(g->names);
    free(g->name_slots);
    free(g);
}

static size_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 0x100000001b3ull;
    return (size_t)h;
}

/* The slot of name in name_slots: where it is, or the empty one it goes to. */
static size_t name_slot(const exec_graph *g, const char *name)
{
    size_t i = name_hash(name) & (g->name_slots_cap - 1);
    while (g->name_slots[i] && strcmp(g->names + g->name_slots[i] - 1, name) != 0)
        i = (i + 1) & (g->name_slots_cap - 1);
    return i;
}

static void name_slots_grow(exec_graph *g)
{
    uint32_t *old = g->name_slots;
    size_t oldcap = g->name_slots_cap;
    g->name_slots_cap = oldcap ? oldcap * 2 : 64;
    g->name_slots = calloc(g->name_slots_cap, sizeof *g->name_slots);
    if (!g->name_slots)
        abort();
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            g->name_slots[name_slot(g, g->names + old[i] - 1)] = old[i];
    free(old);
}

static uint32_t intern_slow(exec_graph *g, const char *name);

/* A name's offset in names, each distinct name stored once (a graph has
 * millions of tasks and a few dozen names). */
static uint32_t intern(exec_graph *g, const char *name)
{
    if (!name)
        name = "";
    size_t r = ((uintptr_t)name >> 4) & 15;
    if (g->recent_name[r] == name && strcmp(g->names + g->recent_off[r], name) == 0)
        return g->recent_off[r];
    g->recent_name[r] = name;
    g->recent_off[r] = intern_slow(g, name);
    return g->recent_off[r];
}

static uint32_t intern_slow(exec_graph *g, const char *name)
{
    if ((g->name_count + 1) * 2 > g->name_slots_cap)
        name_slots_grow(g);
    size_t slot = name_slot(g, name);
    if (g->name_slots[slot])
        return g->name_slots[slot] - 1;
    size_t len = strlen(name) + 1;
    if (g->names_len + len > g->names_cap) {
        g->names_cap = (g->names_len + len) * 2 + 256;
        g->names = cs_xrealloc(g->names, g->names_cap);
    }
    memcpy(g->names + g->names_len, name, len);
    uint32_t off = (uint32_t)g->names_len;
    g->names_len += len;
    g->name_slots[slot] = off + 1;
    g->name_count++;
    return off;
}

int exec_stream(exec_graph *g, int gpu, const char *label)
{
    CS_GROW(g->streams, g->capstreams, g->nstreams + 1);
    stream *s = &g->streams[g->nstreams];
    memset(s, 0, sizeof *s);
    s->gpu = gpu;
    s->label_off = intern(g, label);
    return g->nstreams++;
}

static int add_task(exec_graph *g, exec_kind kind, int stream_id, const char *name)
{
    CS_GROW(g->tasks, g->captasks, g->ntasks + 1);
    task *tk = &g->tasks[g->ntasks];
    memset(tk, 0, sizeof *tk);
    tk->kind = (uint8_t)kind;
    tk->stream = stream_id;
    tk->name_off = intern(g, name);
    if (stream_id >= 0) {
        stream *s = &g->streams[stream_id];
        CS_GROW(s->order, s->cap, s->n + 1);
        s->order[s->n++] = g->ntasks;
    }
    return g->ntasks++;
}

int exec_compute(exec_graph *g, int stream_id, uint64_t duration_ps, const char *name)
{
    int id = add_task(g, EXEC_COMPUTE, stream_id, name);
    g->tasks[id].duration_ps = duration_ps;
    return id;
}

int exec_transfer(exec_graph *g, int stream_id, int src_gpu, int dst_gpu, double bytes,
                  const char *name)
{
    int id = add_task(g, EXEC_TRANSFER, stream_id, name);
    g->tasks[id].src_gpu = src_gpu;
    g->tasks[id].dst_gpu = dst_gpu;
    g->tasks[id].bytes = bytes;
    g->tasks[id].salt = (uint32_t)id;
    return id;
}

void exec_set_route_salt(exec_graph *g, int transfer, uint32_t salt)
{
    g->tasks[transfer].salt = salt;
}

int exec_collective(exec_graph *g, int stream_id, const coll_plan *plan, uint64_t size_bytes,
                    const char *name)
{
    int id = add_task(g, EXEC_COLLECTIVE, stream_id, name);
    g->tasks[id].plan = plan;
    g->tasks[id].size_bytes = size_bytes;
    return id;
}

int exec_delay(exec_graph *g, uint64_t duration_ps, const char *name)
{
    int id = add_task(g, EXEC_DELAY, -1, name);
    g->tasks[id].duration_ps = duration_ps;
    return id;
}

void exec_dep(exec_graph *g, int before, int after)
{
    CS_GROW(g->deps, g->capdeps, g->ndeps + 1);
    g->deps[g->ndeps][0] = before;
    g->deps[g->ndeps][1] = after;
    g->ndeps++;
}

/* ---- running ----------------------------------------------------------------- */

static void task_ready(exec_graph *g, int id);

static void task_finish(exec_graph *g, int id)
{
    task *tk = &g->tasks[id];
    tk->end_ps = evq_now(g->q);
    tk->ended = 1;
    g->ended++;
    if (tk->stream >= 0) {
        stream *s = &g->streams[tk->stream];
        s->busy = 0;
        s->next++;
        if (s->next < s->n && g->preds_left[s->order[s->next]] == 0)
            task_ready(g, s->order[s->next]);
    }
    for (int i = g->succ_start[id]; i < g->succ_start[id + 1]; i++)
        if (--g->preds_left[g->succ[i]] == 0)
            task_ready(g, g->succ[i]);
}

static void on_task_end(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    task_finish(ctx, (int)arg);
}

static void collective_phase(exec_graph *g, int id);
static void make_room(exec_graph *g, const int32_t *links, int nlinks);

static void on_coflow_end(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    exec_graph *g = ctx;
    task *tk = &g->tasks[arg];
    if (--tk->outstanding > 0)
        return;
    tk->phase++;
    collective_phase(g, (int)arg);
}

/* Starts every coflow of the collective's current phase as one flow. */
static void collective_phase(exec_graph *g, int id)
{
    task *tk = &g->tasks[id];
    const coll_plan *plan = tk->plan;
    if (tk->phase >= plan->nphases) {
        task_finish(g, id);
        return;
    }
    const coll_phase *ph = &plan->phases[tk->phase];
    tk->outstanding = ph->ncoflows;
    double wire = coll_wire_factor(plan, tk->size_bytes); /* NCCL's protocol on the wire */
    for (int c = 0; c < ph->ncoflows; c++) {
        const coll_coflow *cf = &ph->coflows[c];
        make_room(g, cf->links, cf->nlinks);
        net_flow_start(g->net, cf->links, cf->weights, cf->nlinks,
                       wire * coll_coflow_bytes(plan, cf, tk->size_bytes), cf->latency_ps,
                       on_coflow_end, g, (uint64_t)id);
    }
    if (ph->ncoflows == 0) {
        tk->phase++;
        collective_phase(g, id);
    }
}

static void on_collective_launched(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    collective_phase(ctx, (int)arg);
}

/* ---- chains of timed collectives -------------------------------------------------
 *
 * A timed collective's links carry nothing else until its end (a flow that
 * meets them demotes it first), so a successor that is a collective on the
 * same plan, without a stream and waiting for nothing else, would begin
 * timed at that end on the same links, and its end would free nothing else.
 * The chain of such followers runs on one end event at the last one's end
 * instead of an event per member; the members' starts and ends are written
 * as their own end events would have written them, when the chain ends or
 * when a flow meets it (the member running then is demoted, the ones before
 * it have ended). */

/* id's follower in a chain, or -1.  Checked when the chain starts; a
 * follower's other predecessors have ended by then. */
static int chain_next(exec_graph *g, int id)
{
    const task *tk = &g->tasks[id];
    if (tk->stream >= 0 || g->succ_start[id + 1] - g->succ_start[id] != 1)
        return -1;
    int next = g->succ[g->succ_start[id]];
    const task *nx = &g->tasks[next];
    if (nx->kind != EXEC_COLLECTIVE || nx->stream >= 0 || nx->plan != tk->plan ||
        nx->started || g->preds_left[next] != 1 ||
        exec_iso_plan_duration_ps(g->iso, nx->plan, nx->size_bytes) == UINT64_MAX)
        return -1;
    return next;
}

/* The followers of id, which starts timed now: their durations added to
 * id's end; every member learns how many members it and those after it are. */
static uint64_t chain_extend(exec_graph *g, int id)
{
    uint64_t extra_ps = 0;
    int n = 1, next;
    for (int m = id; !g->no_chains && (next = chain_next(g, m)) >= 0; m = next, n++)
        extra_ps += exec_iso_plan_duration_ps(g->iso, g->tasks[next].plan,
                                              g->tasks[next].size_bytes);
    for (int m = id;; m = g->succ[g->succ_start[m]]) {
        g->tasks[m].chain_left = n;
        if (--n == 0)
            break;
    }
    return extra_ps;
}

/* The member of id's chain running at now (the first to end after now, or
 * the last): the ones before it end and their followers begin, as the end
 * events of timed collectives would have done it one by one. */
static int chain_current(exec_graph *g, int id, uint64_t now_ps)
{
    while (g->tasks[id].ended) /* settled before (an end at a demotion's instant) */
        id = g->succ[g->succ_start[id]];
    task *tk = &g->tasks[id];
    while (tk->chain_left > 1) {
        uint64_t end_ps = tk->start_ps + exec_iso_plan_duration_ps(g->iso, tk->plan,
                                                                   tk->size_bytes);
        if (end_ps > now_ps)
            break;
        int next = g->succ[g->succ_start[id]];
        tk->end_ps = end_ps;
        tk->ended = 1;
        g->ended++;
        g->preds_left[next]--;
        tk = &g->tasks[next];
        tk->started = 1;
        tk->start_ps = end_ps;
        exec_iso_follow(g->iso, tk->plan, next, end_ps, tk->size_bytes);
        id = next;
    }
    return id;
}

/* A timed collective (exec_iso) moves to flows now, where its replay says
 * it stands: the rest of its start latency, or its phase's coflows still
 * moving (as flows with the bytes they have left) or in their latency. */
static void demote(exec_graph *g, int id)
{
    id = chain_current(g, id, evq_now(g->q));
    task *tk = &g->tasks[id];
    exec_iso_state st;
    exec_iso_demote(g->iso, tk->plan, evq_now(g->q), &st);
    if (st.phase >= tk->plan->nphases)
        return; /* it ends at this instant: its end event stays */
    evq_cancel(g->q, st.end_event);
    if (st.phase < 0) {
        evq_schedule(g->q, st.phase_start_ps, on_collective_launched, g, (uint64_t)id);
        return;
    }
    const coll_phase *ph = &tk->plan->phases[st.phase];
    tk->phase = st.phase;
    tk->outstanding = st.n;
    for (int i = 0; i < st.n; i++) {
        const exec_iso_coflow *m = &st.coflows[i];
        const coll_coflow *cf = &ph->coflows[m->coflow];
        if (m->bytes_left < 0)
            evq_schedule(g->q, m->done_ps, on_coflow_end, g, (uint64_t)id);
        else
            net_flow_start(g->net, cf->links, cf->weights, cf->nlinks, m->bytes_left,
                           cf->latency_ps, on_coflow_end, g, (uint64_t)id);
    }
}

/* Before a flow starts on links: a timed collective holding one moves to
 * flows first, so that the two share the link from now on. */
static void make_room(exec_graph *g, const int32_t *links, int nlinks)
{
    int owner;
    while (g->iso && (owner = exec_iso_owner(g->iso, links, nlinks)) >= 0)
        demote(g, owner);
}

/* A collective run as one timed task (exec_iso), or the last of its chain,
 * ends: its links are free. */
static void on_timed_collective_end(evq *q, void *ctx, uint64_t arg)
{
    exec_graph *g = ctx;
    int id = chain_current(g, (int)arg, evq_now(q));
    exec_iso_end(g->iso, g->tasks[id].plan);
    task_finish(g, id);
}

static void task_start(exec_graph *g, int id)
{
    task *tk = &g->tasks[id];
    tk->started = 1;
    tk->start_ps = evq_now(g->q);
    if (tk->stream >= 0)
        g->streams[tk->stream].busy = 1;
    switch (tk->kind) {
    case EXEC_COMPUTE:
    case EXEC_DELAY:
        evq_schedule_in(g->q, tk->duration_ps, on_task_end, g, (uint64_t)id);
        break;
    case EXEC_TRANSFER: {
        int32_t route[TOPO_MAX_ROUTE];
        uint64_t latency_ps;
        int len = exec_routes_get(g->routes, g->t, tk->src_gpu, tk->dst_gpu, tk->salt, route,
                                  &latency_ps); /* checked in exec_run */
        make_room(g, route, len < 0 ? 0 : len);
        net_flow_start(g->net, route, NULL, len < 0 ? 0 : len, tk->bytes, latency_ps,
                       on_task_end, g, (uint64_t)id);
        break;
    }
    case EXEC_COLLECTIVE: {
        uint64_t alone_ps;
        if (g->iso && exec_iso_begin(g->iso, g->net, tk->plan, tk->size_bytes, id,
                                     evq_now(g->q), &alone_ps)) {
            alone_ps += chain_extend(g, id);
            exec_iso_started(g->iso, tk->plan,
                             evq_schedule_in(g->q, alone_ps, on_timed_collective_end, g,
                                             (uint64_t)id));
        } else
            evq_schedule_in(g->q, coll_start_ps(tk->plan, tk->size_bytes),
                            on_collective_launched, g, (uint64_t)id);
        break;
    }
    }
}

static void task_ready(exec_graph *g, int id)
{
    task *tk = &g->tasks[id];
    if (tk->started)
        return;
    if (tk->stream < 0) {
        task_start(g, id);
        return;
    }
    stream *s = &g->streams[tk->stream];
    if (!s->busy && s->next < s->n && s->order[s->next] == id)
        task_start(g, id);
}

static void on_start_event(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    (void)arg;
    exec_graph *g = ctx;
    for (int id = 0; id < g->ntasks; id++)
        if (g->preds_left[id] == 0)
            task_ready(g, id);
}

static int build_successors(exec_graph *g, cs_err *err)
{
    free(g->succ_start);
    free(g->succ);
    g->succ_start = cs_xrealloc(NULL, sizeof(int32_t) * (size_t)(g->ntasks + 1));
    g->succ = cs_xrealloc(NULL, sizeof(int32_t) * (size_t)(g->ndeps + 1));
    memset(g->succ_start, 0, sizeof(int32_t) * (size_t)(g->ntasks + 1));
    free(g->preds_left);
    g->preds_left = cs_xrealloc(NULL, sizeof(int32_t) * (size_t)(g->ntasks + 1));
    memset(g->preds_left, 0, sizeof(int32_t) * (size_t)(g->ntasks + 1));
    for (int d = 0; d < g->ndeps; d++) {
        int a = g->deps[d][0], b = g->deps[d][1];
        if (a < 0 || a >= g->ntasks || b < 0 || b >= g->ntasks || a == b)
            return cs_fail(err, "dependency %d -> %d names a task that does not exist "
                           "(tasks are 0 to %d) or a task on itself", a, b, g->ntasks - 1);
        g->succ_start[a + 1]++;
    }
    for (int i = 0; i < g->ntasks; i++)
        g->succ_start[i + 1] += g->succ_start[i];
    int32_t *fill = cs_xrealloc(NULL, sizeof(int32_t) * (size_t)(g->ntasks + 1));
    memcpy(fill, g->succ_start, sizeof(int32_t) * (size_t)(g->ntasks + 1));
    for (int d = 0; d < g->ndeps; d++) /* in insertion order: deterministic */
        g->succ[fill[g->deps[d][0]]++] = g->deps[d][1];
    free(fill);
    return 0;
}

/* check_tasks routes each (source, destination) pair once (a keymap of the
 * pairs seen), not each of its many transfers: a route's existence does not
 * depend on its equal-cost choices. */
static int pair_seen(keymap *seen, int32_t src, int32_t dst)
{
    int added;
    keymap_add(seen, keymap_pair(src, dst), &added);
    return !added;
}

static int check_tasks(exec_graph *g, topo *t, cs_err *err)
{
    int gpus = topo_gpu_count(t);
    for (int s = 0; s < g->nstreams; s++)
        if (g->streams[s].gpu < 0 || g->streams[s].gpu >= gpus)
            return cs_fail(err, "stream %d is on GPU %d, but the system has GPUs 0 to %d", s,
                           g->streams[s].gpu, gpus - 1);
    keymap routed = KEYMAP_INIT;
    int rc = 0;
    for (int id = 0; rc == 0 && id < g->ntasks; id++) {
        task *tk = &g->tasks[id];
        if (tk->kind == EXEC_COMPUTE && tk->stream < 0)
            rc = cs_fail(err, "compute task '%s' has no stream", g->names + tk->name_off);
        if (tk->kind == EXEC_TRANSFER && (tk->src_gpu < 0 || tk->dst_gpu < 0 ||
                                          !pair_seen(&routed, tk->src_gpu, tk->dst_gpu))) {
            int32_t route[TOPO_MAX_ROUTE];
            int len = topo_route_gpus(t, tk->src_gpu, tk->dst_gpu, 0, route, TOPO_MAX_ROUTE, err);
            if (len < 0)
                rc = cs_fail_prefix(err, "transfer '%s': ", g->names + tk->name_off);
            else if (g->iso) /* a transfer may cross these links while a collective runs */
                exec_iso_note_route(g->iso, route, len);
        }
        if (tk->kind == EXEC_COLLECTIVE && !tk->plan)
            rc = cs_fail(err, "collective task '%s' has no plan", g->names + tk->name_off);
        else if (tk->kind == EXEC_COLLECTIVE && g->iso)
            exec_iso_note_plan(g->iso, tk->plan);
    }
    keymap_free(&routed);
    return rc;
}

static void reset_run_state(exec_graph *g)
{
    g->ended = 0;
    memset(g->preds_left, 0, sizeof(int32_t) * (size_t)(g->ntasks + 1)); /* a run counts them down */
    for (int d = 0; d < g->ndeps; d++)
        g->preds_left[g->deps[d][1]]++;
    for (int s = 0; s < g->nstreams; s++) {
        g->streams[s].next = 0;
        g->streams[s].busy = 0;
    }
    for (int id = 0; id < g->ntasks; id++) {
        task *tk = &g->tasks[id];
        tk->started = tk->ended = 0;
        if (tk->kind == EXEC_COLLECTIVE) /* the other kinds keep other fields there */
            tk->phase = tk->outstanding = tk->chain_left = 0;
        tk->start_ps = tk->end_ps = 0;
    }
}

/* One run of the whole graph on the engine. */
static void run_once(exec_graph *g, topo *t, const double *bw, exec_result *out)
{
    reset_run_state(g);
    int nlinks = topo_link_count(t);
    g->q = evq_new();
    g->net = net_new(g->q, nlinks, bw);
    net_set_full_resolve(g->net, g->full_resolve);
    g->t = t;
    g->routes = exec_routes_new();
    evq_schedule(g->q, 0, on_start_event, g, 0);
    out->events = evq_run(g->q);
    exec_routes_free(g->routes);
    g->routes = NULL;
    out->net = net_get_stats(g->net);
    net_free(g->net);
    evq_free(g->q);
    g->net = NULL;
    g->q = NULL;
}

int exec_run(exec_graph *g, topo *t, exec_result *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    int nlinks = topo_link_count(t);
    double *bw = cs_xrealloc(NULL, sizeof(double) * (size_t)(nlinks ? nlinks : 1));
    for (int l = 0; l < nlinks; l++)
        bw[l] = topo_link_at(t, l)->bw_bytes_per_s;
    g->iso = g->timed_collectives ? exec_iso_new(t, bw) : NULL;
    int rc = check_tasks(g, t, err) != 0 || build_successors(g, err) != 0 ? -1 : 0;
    if (rc == 0) {
        run_once(g, t, bw, out);
        out->timed_collectives = g->iso ? exec_iso_timed(g->iso) : 0;
        out->timed_demoted = g->iso ? exec_iso_demoted(g->iso) : 0;
    }
    exec_iso_free(g->iso);
    g->iso = NULL;
    free(bw);
    if (rc != 0)
        return -1;
    out->tasks = g->ntasks;
    for (int id = 0; id < g->ntasks; id++)
        if (g->tasks[id].end_ps > out->makespan_ps)
            out->makespan_ps = g->tasks[id].end_ps;
    int stuck = g->ended < g->ntasks;
    int first_stuck = 0;
    while (stuck && g->tasks[first_stuck].ended)
        first_stuck++;
    if (stuck)
        return cs_fail(err, "%d of %d tasks never ran (first: '%s'): the dependencies form a "
                       "cycle, or a stream's program order contradicts them",
                       g->ntasks - g->ended, g->ntasks, g->names + g->tasks[first_stuck].name_off);
    return 0;
}

int exec_task_count(const exec_graph *g) { return g->ntasks; }
exec_kind exec_task_kind(const exec_graph *g, int id) { return (exec_kind)g->tasks[id].kind; }
const char *exec_task_name(const exec_graph *g, int id) { return g->names + g->tasks[id].name_off; }
int exec_task_stream(const exec_graph *g, int id) { return g->tasks[id].stream; }
int exec_stream_gpu(const exec_graph *g, int s) { return g->streams[s].gpu; }
const char *exec_stream_label(const exec_graph *g, int s)
{
    return g->names + g->streams[s].label_off;
}
int exec_stream_count(const exec_graph *g) { return g->nstreams; }
uint64_t exec_task_start_ps(const exec_graph *g, int id) { return g->tasks[id].start_ps; }
uint64_t exec_task_end_ps(const exec_graph *g, int id) { return g->tasks[id].end_ps; }

/* What a task was built from, for writers that turn the graph into another
 * format (sim/chakra_export). */
static int is_kind(const exec_graph *g, int id, exec_kind kind) { return g->tasks[id].kind == kind; }
uint64_t exec_task_duration_ps(const exec_graph *g, int id)
{
    int timed = is_kind(g, id, EXEC_COMPUTE) || is_kind(g, id, EXEC_DELAY);
    return timed ? g->tasks[id].duration_ps : 0;
}
const coll_plan *exec_task_plan(const exec_graph *g, int id)
{
    return is_kind(g, id, EXEC_COLLECTIVE) ? g->tasks[id].plan : NULL;
}
uint64_t exec_task_size_bytes(const exec_graph *g, int id)
{
    return is_kind(g, id, EXEC_COLLECTIVE) ? g->tasks[id].size_bytes : 0;
}
void exec_task_transfer(const exec_graph *g, int id, int *src_gpu, int *dst_gpu, double *bytes)
{
    int on = is_kind(g, id, EXEC_TRANSFER);
    *src_gpu = on ? g->tasks[id].src_gpu : 0;
    *dst_gpu = on ? g->tasks[id].dst_gpu : 0;
    *bytes = on ? g->tasks[id].bytes : 0;
}
int exec_dep_count(const exec_graph *g) { return g->ndeps; }
void exec_dep_at(const exec_graph *g, int i, int *before, int *after)
{
    *before = g->deps[i][0];
    *after = g->deps[i][1];
}
