/* opgraph: building, checking and ordering an operator graph. */
#include "opgraph.h"

#include <limits.h>
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
    free(g->edge_tensor);
    free(g->edge_tensor_bytes);
    free(g->tensors);
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

/* Appends an edge of n tensor slots; returns the first slot. */
static int new_edge(opgraph *g, int src, int dst, uint64_t bytes, int n)
{
    CS_GROW(g->edges, g->mcap, g->m + 1);
    g->edges[g->m++] = (opg_edge){src, dst, bytes, n, g->netensor};
    if ((long long)g->netensor + n > g->etcap) { /* in 64 bits: readers bound the total */
        long long cap = ((long long)g->netensor + n) * 2 + 64;
        g->etcap = cap > INT_MAX ? INT_MAX : (int)cap;
        g->edge_tensor = cs_xrealloc(g->edge_tensor, sizeof *g->edge_tensor * (size_t)g->etcap);
        g->edge_tensor_bytes = cs_xrealloc(g->edge_tensor_bytes,
                                           sizeof *g->edge_tensor_bytes * (size_t)g->etcap);
    }
    int first = g->netensor;
    g->netensor += n;
    return first;
}

void opg_add_edge(opgraph *g, int src, int dst, uint64_t bytes, int ntensors)
{
    int n = ntensors > 0 ? ntensors : 1, first = new_edge(g, src, dst, bytes, n);
    for (int i = 0; i < n; i++) { /* an even split; the first takes the remainder */
        g->edge_tensor[first + i] = OPG_OUT_OWN;
        g->edge_tensor_bytes[first + i] = bytes / (uint64_t)n + (i == 0 ? bytes % (uint64_t)n : 0);
    }
}

void opg_add_edge_outputs(opgraph *g, int src, int dst, int n, const int *outputs,
                          const uint64_t *bytes)
{
    uint64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += bytes[i];
    int first = new_edge(g, src, dst, sum, n);
    for (int i = 0; i < n; i++) {
        g->edge_tensor[first + i] = outputs[i];
        g->edge_tensor_bytes[first + i] = bytes[i];
    }
}

/* ---- tensors: (src, output) pairs shared by the edges that name them ---- */

typedef struct slot_key {
    int src, output, slot;
} slot_key;

static int slot_cmp(const void *a, const void *b)
{
    const slot_key *x = a, *y = b;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    if (x->output != y->output)
        return x->output < y->output ? -1 : 1;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

/* Gives every slot its tensor id; an OPG_OUT_OWN slot is a tensor of its own. */
static void resolve_tensors(opgraph *g)
{
    slot_key *k = cs_xrealloc(NULL, sizeof *k * (size_t)(g->netensor + 1));
    for (int e = 0; e < g->m; e++)
        for (int i = 0; i < g->edges[e].ntensors; i++) {
            int slot = g->edges[e].tensor0 + i;
            k[slot] = (slot_key){g->edges[e].src, g->edge_tensor[slot], slot};
        }
    qsort(k, (size_t)g->netensor, sizeof *k, slot_cmp);
    g->tensors = cs_xrealloc(NULL, sizeof *g->tensors * (size_t)(g->netensor + 1));
    g->ntensors = 0;
    for (int i = 0; i < g->netensor; i++) {
        uint64_t b = g->edge_tensor_bytes[k[i].slot];
        if (i == 0 || k[i].output == OPG_OUT_OWN || k[i].src != k[i - 1].src ||
            k[i].output != k[i - 1].output)
            g->tensors[g->ntensors++] = (opg_tensor){k[i].src, k[i].output, b};
        opg_tensor *t = &g->tensors[g->ntensors - 1];
        t->bytes = b > t->bytes ? b : t->bytes;
        g->edge_tensor[k[i].slot] = g->ntensors - 1;
    }
    free(k);
    free(g->edge_tensor_bytes);
    g->edge_tensor_bytes = NULL;
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
    resolve_tensors(g);
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
