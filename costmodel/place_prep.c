/* place_prep: units (colocation groups plus co-placement) and fusion.
 *
 * Units come from a union-find: operators of one colocation group are one
 * unit; with co-placement an operator with a single consumer joins its
 * consumer's unit.  The rule looks at each operator's own out-degree, which
 * merging never changes, so one pass over the operators reaches the fixed
 * point that repeating the rule would.
 *
 * Fusion contracts each unit into one node.  Contracting a unit makes a
 * cycle exactly when the graph of units has a cycle through it, so units in
 * a strongly connected component (Tarjan) of more than one unit are cut: a
 * member v goes to part (unit, L(v)), where L is the longest path from a
 * source counting only edges between different units.  Every edge between
 * parts raises L, so the cut parts cannot form a cycle, and any cycle in the
 * contracted graph would have to pass through a unit that was not cut,
 * which Tarjan rules out. */
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "place.h"

static int uf_find(int *parent, int v)
{
    while (parent[v] != v) {
        parent[v] = parent[parent[v]];
        v = parent[v];
    }
    return v;
}

static void uf_union(int *parent, int a, int b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a != b)
        parent[a > b ? a : b] = a < b ? a : b; /* the smaller id leads: deterministic */
}

/* unit[v] = dense unit id of operator v; returns the unit count. */
static int make_units(const opgraph *g, int coplace, int *unit)
{
    int *parent = cs_xrealloc(NULL, sizeof *parent * (size_t)g->n);
    int *group_head = cs_xrealloc(NULL, sizeof *group_head * (size_t)(g->ngroups + 1));
    for (int v = 0; v < g->n; v++)
        parent[v] = v;
    for (int k = 0; k < g->ngroups; k++)
        group_head[k] = -1;
    for (int v = 0; v < g->n; v++) {
        int k = g->nodes[v].group;
        if (k >= 0 && group_head[k] < 0)
            group_head[k] = v;
        else if (k >= 0)
            uf_union(parent, group_head[k], v);
    }
    for (int v = 0; coplace && v < g->n; v++)
        if (g->out_start[v + 1] - g->out_start[v] == 1)
            uf_union(parent, v, g->edges[g->out_edge[g->out_start[v]]].dst);
    int n = 0;
    for (int v = 0; v < g->n; v++)
        unit[v] = -1;
    for (int v = 0; v < g->n; v++) { /* dense ids in order of each unit's first operator */
        int r = uf_find(parent, v);
        if (unit[r] < 0)
            unit[r] = n++;
        unit[v] = unit[r];
    }
    free(parent);
    free(group_head);
    return n;
}

/* The units' graph as CSR (edges between different units, repeats kept). */
typedef struct ugraph {
    int n, *start, *adj;
} ugraph;

static void unit_graph(const opgraph *g, const int *unit, int nunits, ugraph *u)
{
    u->n = nunits;
    u->start = calloc((size_t)nunits + 1, sizeof *u->start);
    u->adj = cs_xrealloc(NULL, sizeof *u->adj * (size_t)(g->m + 1));
    if (!u->start)
        abort();
    for (int e = 0; e < g->m; e++)
        if (unit[g->edges[e].src] != unit[g->edges[e].dst])
            u->start[unit[g->edges[e].src] + 1]++;
    for (int k = 0; k < nunits; k++)
        u->start[k + 1] += u->start[k];
    int *fill = cs_xrealloc(NULL, sizeof *fill * (size_t)(nunits + 1));
    memcpy(fill, u->start, sizeof *fill * (size_t)(nunits + 1));
    for (int e = 0; e < g->m; e++)
        if (unit[g->edges[e].src] != unit[g->edges[e].dst])
            u->adj[fill[unit[g->edges[e].src]]++] = unit[g->edges[e].dst];
    free(fill);
}

/* Tarjan's strongly connected components, iterative; in_cycle[k] = 1 for
 * units in a component of more than one unit. */
typedef struct tarjan {
    const ugraph *u;
    int *index, *low, *stack, *on_stack, *call, *edge_pos;
    int next, sp;
} tarjan;

static void tarjan_pop_component(tarjan *t, int root, char *in_cycle)
{
    int size = 0, top = t->sp;
    int w;
    do {
        w = t->stack[--top];
        size++;
    } while (w != root);
    for (int i = top; i < t->sp; i++) {
        t->on_stack[t->stack[i]] = 0;
        in_cycle[t->stack[i]] = size > 1;
    }
    t->sp = top;
}

static void tarjan_from(tarjan *t, int s, char *in_cycle)
{
    int depth = 0;
    t->call[depth++] = s;
    t->index[s] = t->low[s] = t->next++;
    t->stack[t->sp++] = s;
    t->on_stack[s] = 1;
    t->edge_pos[s] = t->u->start[s];
    while (depth > 0) {
        int v = t->call[depth - 1];
        if (t->edge_pos[v] < t->u->start[v + 1]) {
            int w = t->u->adj[t->edge_pos[v]++];
            if (t->index[w] < 0) {
                t->index[w] = t->low[w] = t->next++;
                t->stack[t->sp++] = w;
                t->on_stack[w] = 1;
                t->edge_pos[w] = t->u->start[w];
                t->call[depth++] = w;
            } else if (t->on_stack[w] && t->index[w] < t->low[v])
                t->low[v] = t->index[w];
            continue;
        }
        depth--;
        if (depth > 0 && t->low[v] < t->low[t->call[depth - 1]])
            t->low[t->call[depth - 1]] = t->low[v];
        if (t->low[v] == t->index[v])
            tarjan_pop_component(t, v, in_cycle);
    }
}

static void units_in_cycles(const ugraph *u, char *in_cycle)
{
    size_t n = (size_t)u->n + 1;
    tarjan t = {u, malloc(n * sizeof(int)), malloc(n * sizeof(int)), malloc(n * sizeof(int)),
                calloc(n, sizeof(int)), malloc(n * sizeof(int)), malloc(n * sizeof(int)), 0, 0};
    if (!t.index || !t.low || !t.stack || !t.on_stack || !t.call || !t.edge_pos)
        abort();
    for (int k = 0; k < u->n; k++)
        t.index[k] = -1;
    for (int k = 0; k < u->n; k++)
        if (t.index[k] < 0)
            tarjan_from(&t, k, in_cycle);
    free(t.index);
    free(t.low);
    free(t.stack);
    free(t.on_stack);
    free(t.call);
    free(t.edge_pos);
}

/* part[v]: the fused node of operator v (dense, in topological order of the
 * first member); returns the count.  Units in cycles are cut by level. */
static int make_parts(const opgraph *g, const int *unit, const char *in_cycle, int *part)
{
    int *level = calloc((size_t)g->n + 1, sizeof *level);
    if (!level)
        abort();
    for (int i = 0; i < g->n; i++) {
        int v = g->topo[i];
        for (int j = g->in_start[v]; j < g->in_start[v + 1]; j++) {
            int p = g->edges[g->in_edge[j]].src;
            int l = level[p] + (unit[p] != unit[v]);
            if (l > level[v])
                level[v] = l;
        }
    }
    /* key (unit, level or 0) -> part: hash-free, by sorting operators */
    int n = 0;
    int *first = cs_xrealloc(NULL, sizeof *first * (size_t)(g->n + 1)); /* unit -> part of its level-0 use */
    for (int v = 0; v < g->n; v++)
        first[v] = -1, part[v] = -1;
    for (int i = 0; i < g->n; i++) { /* topological order: parts numbered in it */
        int v = g->topo[i], k = unit[v];
        if (!in_cycle[k]) {
            if (first[k] < 0)
                first[k] = n++;
            part[v] = first[k];
        }
    }
    int *order = cs_xrealloc(NULL, sizeof *order * (size_t)(g->n + 1)), nc = 0;
    for (int i = 0; i < g->n; i++)
        if (in_cycle[unit[g->topo[i]]])
            order[nc++] = g->topo[i];
    /* members of cut units: same (unit, level) = same part; a small map per unit */
    for (int a = 0; a < nc; a++) {
        int v = order[a];
        if (part[v] >= 0)
            continue;
        part[v] = n;
        for (int b = a + 1; b < nc; b++)
            if (part[order[b]] < 0 && unit[order[b]] == unit[v] && level[order[b]] == level[v])
                part[order[b]] = n;
        n++;
    }
    free(order);
    free(first);
    free(level);
    return n;
}

typedef struct fedge {
    int src, dst, tensor; /* fused ends; the operator graph's tensor id */
} fedge;

static int fedge_cmp(const void *a, const void *b)
{
    const fedge *x = a, *y = b;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    if (x->dst != y->dst)
        return x->dst < y->dst ? -1 : 1;
    return (x->tensor > y->tensor) - (x->tensor < y->tensor);
}

/* An operator's output stays in memory when it leaves its fused node. */
static int output_leaves(const opgraph *g, const int *part, int v)
{
    if (g->out_start[v] == g->out_start[v + 1])
        return 1;
    for (int i = g->out_start[v]; i < g->out_start[v + 1]; i++)
        if (part[g->edges[g->out_edge[i]].dst] != part[v])
            return 1;
    return 0;
}

static void fused_nodes(const opgraph *g, const int *part, const int *unit, int nparts, opgraph *f)
{
    opg_node *nd = calloc((size_t)nparts + 1, sizeof *nd);
    int *first = cs_xrealloc(NULL, sizeof *first * (size_t)(nparts + 1));
    if (!nd)
        abort();
    for (int k = 0; k < nparts; k++)
        first[k] = -1;
    for (int i = 0; i < g->n; i++) {
        int v = g->topo[i], k = part[v];
        const opg_node *o = &g->nodes[v];
        if (first[k] < 0) {
            first[k] = v;
            nd[k].group = unit[v];
            nd[k].expert_dev = -1;
            nd[k].order = i;
        }
        nd[k].compute_us += o->compute_us;
        nd[k].perm_bytes += o->perm_bytes;
        int keep = output_leaves(g, part, v);
        uint64_t scratch = o->temp_bytes + (keep ? 0 : o->out_bytes);
        nd[k].temp_bytes = scratch > nd[k].temp_bytes ? scratch : nd[k].temp_bytes;
        nd[k].out_bytes += keep ? o->out_bytes : 0;
        if (nd[k].expert_dev < 0)
            nd[k].expert_dev = o->expert_dev;
    }
    for (int k = 0; k < nparts; k++)
        opg_add_node(f, opg_name(g, first[k]), &nd[k]);
    free(first);
    free(nd);
}

/* One fused edge per pair of fused nodes, carrying each distinct tensor of
 * the operator edges between them once; a tensor keeps its identity (the
 * operator graph's tensor id is its output key), so fused edges from one
 * node that carry the same tensor share it, as the operator edges did. */
static void fused_edges(const opgraph *g, const int *part, opgraph *f)
{
    fedge *e = cs_xrealloc(NULL, sizeof *e * (size_t)(g->netensor + 1));
    int n = 0;
    for (int i = 0; i < g->m; i++) {
        const opg_edge *o = &g->edges[i];
        for (int k = 0; part[o->src] != part[o->dst] && k < o->ntensors; k++)
            e[n++] = (fedge){part[o->src], part[o->dst], opg_edge_tensor(g, o, k)};
    }
    qsort(e, (size_t)n, sizeof *e, fedge_cmp);
    int *outs = cs_xrealloc(NULL, sizeof *outs * (size_t)(n + 1));
    uint64_t *bytes = cs_xrealloc(NULL, sizeof *bytes * (size_t)(n + 1));
    for (int i = 0; i < n;) {
        int k = 0, j = i;
        for (; j < n && e[j].src == e[i].src && e[j].dst == e[i].dst; j++)
            if (j == i || e[j].tensor != e[j - 1].tensor) {
                outs[k] = e[j].tensor;
                bytes[k++] = g->tensors[e[j].tensor].bytes;
            }
        opg_add_edge_outputs(f, e[i].src, e[i].dst, k, outs, bytes);
        i = j;
    }
    free(outs);
    free(bytes);
    free(e);
}

static void unit_tables(place_prep *p)
{
    const opgraph *f = &p->fused;
    p->unit_mem = calloc((size_t)p->nunits + 1, sizeof *p->unit_mem);
    p->unit_first = calloc((size_t)p->nunits + 2, sizeof *p->unit_first);
    p->unit_nodes = cs_xrealloc(NULL, sizeof *p->unit_nodes * (size_t)(f->n + 1));
    if (!p->unit_mem || !p->unit_first)
        abort();
    for (int k = 0; k < f->n; k++) {
        const opg_node *nd = &f->nodes[k];
        p->unit_mem[nd->group] += nd->perm_bytes + nd->temp_bytes + nd->out_bytes;
        p->unit_first[nd->group + 1]++;
    }
    for (int u = 0; u < p->nunits; u++)
        p->unit_first[u + 1] += p->unit_first[u];
    int *fill = cs_xrealloc(NULL, sizeof *fill * (size_t)(p->nunits + 1));
    memcpy(fill, p->unit_first, sizeof *fill * (size_t)(p->nunits + 1));
    for (int k = 0; k < f->n; k++)
        p->unit_nodes[fill[f->nodes[k].group]++] = k;
    free(fill);
}

/* The fused edge slot of tensor key t on edge P -> Q: fused_edges added the
 * slots sorted by (P, Q, t), so a binary search finds it. */
static int find_slot(const opgraph *f, const int *slot_edge, int P, int Q, int t)
{
    int lo = 0, hi = f->netensor - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const opg_edge *e = &f->edges[slot_edge[mid]];
        int key = f->tensors[f->edge_tensor[mid]].output;
        int c = e->src != P ? (e->src < P ? -1 : 1)
              : e->dst != Q ? (e->dst < Q ? -1 : 1) : (key > t) - (key < t);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* A fused node's members run one after another in topological order, as
 * they do once placed: a tensor leaves when its own operator ends, and an
 * input is needed when the first member reading it starts, not when the
 * whole node does. */
static void tensor_times(const opgraph *g, place_prep *p)
{
    const opgraph *f = &p->fused;
    double *run_us = calloc((size_t)f->n + 1, sizeof *run_us);
    double *op_end = cs_xrealloc(NULL, sizeof *op_end * (size_t)(g->n + 1));
    int *slot_edge = cs_xrealloc(NULL, sizeof *slot_edge * (size_t)(f->netensor + 1));
    if (!run_us)
        abort();
    for (int i = 0; i < g->n; i++) {
        int v = g->topo[i];
        op_end[v] = run_us[p->fused_of[v]] += g->nodes[v].compute_us;
    }
    p->tensor_at_us = cs_xrealloc(NULL, sizeof *p->tensor_at_us * (size_t)(f->ntensors + 1));
    for (int t = 0; t < f->ntensors; t++) /* a fused tensor's key is its operator tensor */
        p->tensor_at_us[t] = op_end[g->tensors[f->tensors[t].output].src];
    p->slot_need_us = cs_xrealloc(NULL, sizeof *p->slot_need_us * (size_t)(f->netensor + 1));
    for (int e = 0; e < f->m; e++)
        for (int k = 0; k < f->edges[e].ntensors; k++) {
            slot_edge[f->edges[e].tensor0 + k] = e;
            p->slot_need_us[f->edges[e].tensor0 + k] = 1e300;
        }
    for (int i = 0; i < g->m; i++) {
        const opg_edge *o = &g->edges[i];
        int P = p->fused_of[o->src], Q = p->fused_of[o->dst];
        double need = op_end[o->dst] - g->nodes[o->dst].compute_us;
        for (int k = 0; P != Q && k < o->ntensors; k++) {
            int slot = find_slot(f, slot_edge, P, Q, opg_edge_tensor(g, o, k));
            if (slot >= 0 && need < p->slot_need_us[slot])
                p->slot_need_us[slot] = need;
        }
    }
    free(run_us);
    free(op_end);
    free(slot_edge);
}

int place_prepare(const opgraph *g, int coplace, int fuse, place_prep *p, cs_err *err)
{
    memset(p, 0, sizeof *p);
    int *unit = cs_xrealloc(NULL, sizeof *unit * (size_t)(g->n + 1));
    p->nunits = make_units(g, coplace, unit);
    p->fused_of = cs_xrealloc(NULL, sizeof *p->fused_of * (size_t)(g->n + 1));
    int nparts = g->n;
    if (fuse) {
        ugraph u;
        unit_graph(g, unit, p->nunits, &u);
        char *in_cycle = calloc((size_t)p->nunits + 1, 1);
        if (!in_cycle)
            abort();
        units_in_cycles(&u, in_cycle);
        for (int k = 0; k < p->nunits; k++)
            p->split_units += in_cycle[k];
        nparts = make_parts(g, unit, in_cycle, p->fused_of);
        free(in_cycle);
        free(u.start);
        free(u.adj);
    } else {
        for (int i = 0; i < g->n; i++)
            p->fused_of[g->topo[i]] = i;
    }
    opg_init(&p->fused);
    fused_nodes(g, p->fused_of, unit, nparts, &p->fused);
    fused_edges(g, p->fused_of, &p->fused);
    free(unit);
    if (opg_finish(&p->fused, err) != 0)
        return cs_fail_prefix(err, "fusion (an internal error): ");
    unit_tables(p);
    tensor_times(g, p);
    return 0;
}

void place_prep_free(place_prep *p)
{
    opg_free(&p->fused);
    free(p->fused_of);
    free(p->unit_mem);
    free(p->unit_first);
    free(p->unit_nodes);
    free(p->tensor_at_us);
    free(p->slot_need_us);
    memset(p, 0, sizeof *p);
}
