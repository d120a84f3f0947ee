/* opgraph: building, checking and ordering an operator graph. */
#include "opgraph.h"

#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"

void opg_init(opgraph *g)
{
    memset(g, 0, sizeof *g);
}

void opg_free(opgraph *g)
{
    free(g->nodes);
    free(g->edges);
    free(g->names);
    free(g->out_start);
    free(g->out_edge);
    free(g->in_start);
    free(g->in_edge);
    free(g->topo);
    free(g->rank);
    memset(g, 0, sizeof *g);
}

int opg_add_node(opgraph *g, const char *name, const opg_node *fields)
{
    size_t len = strlen(name) + 1;
    if (g->names_len + len > g->names_cap) {
        g->names_cap = (g->names_len + len) * 2 + 256;
        g->names = cs_xrealloc(g->names, g->names_cap);
    }
    memcpy(g->names + g->names_len, name, len);
    CS_GROW(g->nodes, g->ncap, g->n + 1);
    g->nodes[g->n] = *fields;
    g->nodes[g->n].name_off = (uint32_t)g->names_len;
    g->names_len += len;
    if (fields->group >= g->ngroups)
        g->ngroups = fields->group + 1;
    return g->n++;
}

void opg_add_edge(opgraph *g, int src, int dst, uint64_t bytes, int ntensors)
{
    CS_GROW(g->edges, g->mcap, g->m + 1);
    g->edges[g->m++] = (opg_edge){src, dst, bytes, ntensors};
}

/* CSR of edge ids keyed by the edge's source (by_src) or destination. */
static void build_csr(const opgraph *g, int by_src, int **start, int **list)
{
    int *s = calloc((size_t)g->n + 1, sizeof *s), *l = cs_xrealloc(NULL, sizeof *l * (size_t)(g->m + 1));
    if (!s)
        abort();
    for (int e = 0; e < g->m; e++)
        s[(by_src ? g->edges[e].src : g->edges[e].dst) + 1]++;
    for (int v = 0; v < g->n; v++)
        s[v + 1] += s[v];
    int *fill = cs_xrealloc(NULL, sizeof *fill * (size_t)(g->n + 1));
    memcpy(fill, s, sizeof *fill * (size_t)(g->n + 1));
    for (int e = 0; e < g->m; e++)
        l[fill[by_src ? g->edges[e].src : g->edges[e].dst]++] = e;
    free(fill);
    *start = s;
    *list = l;
}

/* Min-heap of node ids by (order, id). */
static int heap_less(const opgraph *g, int a, int b)
{
    int oa = g->nodes[a].order, ob = g->nodes[b].order;
    return oa != ob ? oa < ob : a < b;
}

static void heap_push(const opgraph *g, int *h, int *n, int v)
{
    int i = (*n)++;
    while (i > 0 && heap_less(g, v, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static int heap_pop(const opgraph *g, int *h, int *n)
{
    int top = h[0], v = h[--*n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && heap_less(g, h[c + 1], h[c]))
            c++;
        if (!heap_less(g, h[c], v))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0)
        h[i] = v;
    return top;
}

/* Kahn's algorithm; returns the count ordered (< n on a cycle). */
static int topo_sort(opgraph *g)
{
    int *indeg = calloc((size_t)g->n + 1, sizeof *indeg), *h = cs_xrealloc(NULL, sizeof *h * (size_t)(g->n + 1));
    if (!indeg)
        abort();
    int nh = 0, done = 0;
    for (int e = 0; e < g->m; e++)
        indeg[g->edges[e].dst]++;
    for (int v = 0; v < g->n; v++)
        if (indeg[v] == 0)
            heap_push(g, h, &nh, v);
    while (nh > 0) {
        int v = heap_pop(g, h, &nh);
        g->rank[v] = done;
        g->topo[done++] = v;
        for (int i = g->out_start[v]; i < g->out_start[v + 1]; i++)
            if (--indeg[g->edges[g->out_edge[i]].dst] == 0)
                heap_push(g, h, &nh, g->edges[g->out_edge[i]].dst);
    }
    free(indeg);
    free(h);
    return done;
}

/* A node left unordered has an unordered predecessor; walking back n steps
 * through those ends on a cycle. */
static int on_cycle(const opgraph *g)
{
    int v = 0;
    while (g->rank[v] >= 0)
        v++;
    for (int step = 0; step < g->n; step++)
        for (int i = g->in_start[v]; i < g->in_start[v + 1]; i++)
            if (g->rank[g->edges[g->in_edge[i]].src] < 0) {
                v = g->edges[g->in_edge[i]].src;
                break;
            }
    return v;
}

int opg_finish(opgraph *g, cs_err *err)
{
    for (int e = 0; e < g->m; e++) {
        const opg_edge *ed = &g->edges[e];
        if (ed->src < 0 || ed->src >= g->n || ed->dst < 0 || ed->dst >= g->n)
            return cs_fail(err, "edge %d -> %d names an operator that does not exist "
                           "(operators are 0 to %d)", ed->src, ed->dst, g->n - 1);
        if (ed->src == ed->dst)
            return cs_fail(err, "edge %d -> %d: an operator cannot feed itself", ed->src, ed->dst);
    }
    build_csr(g, 1, &g->out_start, &g->out_edge);
    build_csr(g, 0, &g->in_start, &g->in_edge);
    g->topo = cs_xrealloc(NULL, sizeof *g->topo * (size_t)(g->n + 1));
    g->rank = cs_xrealloc(NULL, sizeof *g->rank * (size_t)(g->n + 1));
    for (int v = 0; v < g->n; v++)
        g->rank[v] = -1;
    if (topo_sort(g) < g->n) {
        int v = on_cycle(g);
        return cs_fail(err, "the graph has a cycle: operator %d ('%s') depends on itself "
                       "through its inputs", v, opg_name(g, v));
    }
    return 0;
}
