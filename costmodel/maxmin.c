/* maxmin: weighted progressive filling with a lazy min-heap of link shares.
 *
 * A link's share is cap_left / weight_left: the rate every unfrozen flow on
 * it would get if that link filled first.  Freezing flows at the minimum
 * share s only raises other links' shares ((c - w s) / (W - w) >= c / W when
 * c / W >= s), so a heap entry can only be stale low: pop, recompute, and
 * push back if it grew. */
#include "maxmin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct maxmin_heap_item {
    double share;
    int32_t link;
} maxmin_heap_item;

static void *grow(void *p, size_t count, size_t elem)
{
    void *q = realloc(p, count * elem);
    if (!q && count > 0)
        abort(); /* out of memory: the solve cannot continue */
    return q;
}

void maxmin_work_init(maxmin_work *w) { memset(w, 0, sizeof *w); }

void maxmin_work_free(maxmin_work *w)
{
    free(w->cap_left);
    free(w->weight_left);
    free(w->link_flow_start);
    free(w->link_flow);
    free(w->link_flow_weight);
    free(w->frozen);
    free(w->heap);
    free(w->bound);
    free(w->flow_heap);
    memset(w, 0, sizeof *w);
}

/* Grows the scratch arrays; a link is in the heap at most once at a time,
 * so the heap needs one slot per link. */
static void reserve(maxmin_work *w, int nlinks, int nentries, int nflows)
{
    if (nlinks + 1 > w->links_cap) {
        size_t cap = (size_t)(nlinks + 1) * 2;
        w->cap_left = grow(w->cap_left, cap, sizeof(double));
        w->weight_left = grow(w->weight_left, cap, sizeof(double));
        w->link_flow_start = grow(w->link_flow_start, cap + 1, sizeof(int32_t));
        w->heap = grow(w->heap, cap, sizeof(maxmin_heap_item));
        w->links_cap = (int)cap;
    }
    if (nentries > w->entries_cap) {
        size_t cap = (size_t)nentries * 2;
        w->link_flow = grow(w->link_flow, cap, sizeof(int32_t));
        w->link_flow_weight = grow(w->link_flow_weight, cap, sizeof(double));
        w->entries_cap = (int)cap;
    }
    if (nflows > w->flows_cap) {
        size_t cap = (size_t)nflows * 2;
        w->frozen = grow(w->frozen, cap, 1);
        w->bound = grow(w->bound, cap, sizeof(double));
        w->flow_heap = grow(w->flow_heap, cap, sizeof(maxmin_heap_item));
        w->flows_cap = (int)cap;
    }
}

/* Transposes the flow->link CSR into link->flow lists and sums weights. */
static void index_links(const maxmin_problem *p, maxmin_work *w)
{
    int32_t *start = w->link_flow_start;
    memset(start, 0, sizeof(int32_t) * (size_t)(p->nlinks + 1));
    for (int e = 0; e < p->flow_start[p->nflows]; e++)
        start[p->link[e] + 1]++;
    for (int l = 0; l < p->nlinks; l++)
        start[l + 1] += start[l];
    int32_t *fill = w->link_flow_start; /* reuse as cursor, restored below */
    for (int l = 0; l < p->nlinks; l++) {
        w->cap_left[l] = p->capacity[l];
        w->weight_left[l] = 0;
    }
    for (int f = 0; f < p->nflows; f++)
        for (int e = p->flow_start[f]; e < p->flow_start[f + 1]; e++) {
            int l = p->link[e];
            int pos = fill[l]++;
            w->link_flow[pos] = f;
            w->link_flow_weight[pos] = p->weight[e];
            w->weight_left[l] += p->weight[e];
        }
    for (int l = p->nlinks; l > 0; l--) /* undo the cursor shift */
        fill[l] = fill[l - 1];
    fill[0] = 0;
}

static double share_of(const maxmin_work *w, int l)
{
    if (w->weight_left[l] <= 0)
        return INFINITY;
    double c = w->cap_left[l] > 0 ? w->cap_left[l] : 0;
    return c / w->weight_left[l];
}

static void heap_push(maxmin_heap_item *h, int *n, maxmin_heap_item it)
{
    int i = (*n)++;
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (h[parent].share < it.share ||
            (h[parent].share == it.share && h[parent].link <= it.link))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = it;
}

static maxmin_heap_item heap_pop(maxmin_heap_item *h, int *n)
{
    maxmin_heap_item top = h[0], last = h[--(*n)];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && (h[c + 1].share < h[c].share ||
                           (h[c + 1].share == h[c].share && h[c + 1].link < h[c].link)))
            c++;
        if (last.share < h[c].share || (last.share == h[c].share && last.link <= h[c].link))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

static void freeze_flow(const maxmin_problem *p, maxmin_work *w, int f, double s, double *rates);

/* Freezes every unfrozen flow of link l at rate s and charges its links. */
static void freeze_link(const maxmin_problem *p, maxmin_work *w, int l, double s,
                        double *rates)
{
    for (int pos = w->link_flow_start[l]; pos < w->link_flow_start[l + 1]; pos++) {
        int f = w->link_flow[pos];
        if (!w->frozen[f])
            freeze_flow(p, w, f, s, rates);
    }
}

/* One flow: its rate is its tightest link's capacity over its weight there,
 * the value progressive filling reaches, without indexing the links (most
 * re-solves of a large simulation are one coflow over many links). */
static double solve_one(const maxmin_problem *p)
{
    double rate = p->flow_bound ? p->flow_bound[0] : INFINITY;
    for (int e = p->flow_start[0]; e < p->flow_start[1]; e++) {
        double c = p->capacity[p->link[e]] > 0 ? p->capacity[p->link[e]] : 0;
        double share = c / p->weight[e];
        if (share < rate)
            rate = share;
    }
    return rate;
}

/* A link only one flow crosses keeps its share (capacity over that flow's
 * weight) until the flow freezes, so it acts as a bound of the flow: the
 * lowest such bound per flow goes into a heap of flows instead of one heap
 * entry per link.  A ring coflow crosses dozens of links nothing else uses;
 * only the shared ones stay in the heap of links.  Returns the link heap's
 * size; the flow heap's is left in *nflow_heap. */
static int fill_heaps(const maxmin_problem *p, maxmin_work *w, int *nflow_heap)
{
    int n = 0, nf = 0;
    for (int f = 0; f < p->nflows; f++)
        w->bound[f] = p->flow_bound ? p->flow_bound[f] : INFINITY;
    for (int l = 0; l < p->nlinks; l++) {
        int32_t first = w->link_flow_start[l], count = w->link_flow_start[l + 1] - first;
        if (count == 1) {
            int32_t f = w->link_flow[first];
            double share = share_of(w, l);
            if (share < w->bound[f])
                w->bound[f] = share;
        } else if (count > 1) {
            heap_push(w->heap, &n, (maxmin_heap_item){share_of(w, l), l});
        }
    }
    for (int f = 0; f < p->nflows; f++)
        if (w->bound[f] < INFINITY)
            heap_push(w->flow_heap, &nf, (maxmin_heap_item){w->bound[f], f});
    *nflow_heap = nf;
    return n;
}

/* Freezes one flow at rate s and charges its links. */
static void freeze_flow(const maxmin_problem *p, maxmin_work *w, int f, double s, double *rates)
{
    w->frozen[f] = 1;
    rates[f] = s;
    for (int e = p->flow_start[f]; e < p->flow_start[f + 1]; e++) {
        w->cap_left[p->link[e]] -= p->weight[e] * s;
        w->weight_left[p->link[e]] -= p->weight[e];
    }
}

void maxmin_solve(const maxmin_problem *p, double *rates, maxmin_work *w)
{
    if (p->nflows == 1) {
        rates[0] = solve_one(p);
        return;
    }
    int nentries = p->flow_start[p->nflows];
    reserve(w, p->nlinks, nentries, p->nflows);
    index_links(p, w);
    memset(w->frozen, 0, (size_t)p->nflows);
    for (int f = 0; f < p->nflows; f++)
        rates[f] = INFINITY;
    int nf, n = fill_heaps(p, w, &nf);
    while (n > 0 || nf > 0) {
        if (nf > 0 && w->frozen[w->flow_heap[0].link]) {
            heap_pop(w->flow_heap, &nf);
            continue;
        }
        if (n > 0) {
            double now = share_of(w, w->heap[0].link);
            if (now == INFINITY) { /* every flow on it is frozen already */
                heap_pop(w->heap, &n);
                continue;
            }
            if (now > w->heap[0].share * (1 + 1e-12) + 1e-300) { /* stale low */
                maxmin_heap_item it = heap_pop(w->heap, &n);
                heap_push(w->heap, &n, (maxmin_heap_item){now, it.link});
                continue;
            }
            if (nf == 0 || now <= w->flow_heap[0].share) {
                freeze_link(p, w, heap_pop(w->heap, &n).link, now, rates);
                continue;
            }
        }
        maxmin_heap_item it = heap_pop(w->flow_heap, &nf);
        freeze_flow(p, w, it.link, it.share, rates);
    }
}
