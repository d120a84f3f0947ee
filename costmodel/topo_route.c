/* topo_route: shortest-path routes over the topology graph (topo.h).
 *
 * A route has up to three parts: inside the source node (a
 * breadth-first search over that node's few vertices, per call), across the
 * network (hop distances to the destination's attachment switch, computed
 * once per destination and cached), and inside the destination node.  Node
 * vertices are never transit points of the network part, so traffic between
 * two nodes never cuts through a third node's PCIe tree. */
#include "topo_private.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------- routing */

typedef struct route_buf {
    topo *t;
    int32_t src, dst;   /* the whole route's ends: hashed into every ECMP choice */
    uint32_t salt;
    int32_t *links;
    int max, n;
    cs_err *err;
    int choices;        /* equal-cost choices made so far (picks among several) */
    int32_t dest_key;   /* destination routing: the destination NIC's number; -1: hash */
    uint32_t dest_div;  /* product of the upward choices made so far (D-mod-K) */
    int32_t up_pick[3]; /* the choice made climbing into each switch tier; -1: none */
    int hashed;         /* equal-cost choices made by the hash (the salt's only effect) */
} route_buf;

/* Which links and transit vertices a route inside a node may use.  NVLink
 * carries only GPU/NVSwitch traffic; everything else (GPU to NIC or CPU, and
 * all of a PCIe-fabric node) goes through PCIe switches and the CPU.  GPUs
 * and NICs are endpoints, never transit points. */
typedef struct hop_rule {
    uint32_t link_kinds, transit_kinds;
} hop_rule;

static const hop_rule nvlink_rule = {1u << TOPO_L_NVLINK, 1u << TOPO_V_NVSWITCH};
static const hop_rule host_rule = {(1u << TOPO_L_PCIE) | (1u << TOPO_L_MEMORY),
                                   (1u << TOPO_V_PCIE_SWITCH) | (1u << TOPO_V_CPU)};

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Equal-cost choice at vertex `at`: a hash of (src, dst, salt, at). */
static uint32_t ecmp_pick(route_buf *r, int32_t at, uint32_t choices)
{
    r->hashed++;
    uint64_t ends = ((uint64_t)(uint32_t)r->src << 32) | (uint32_t)r->dst;
    uint64_t here = ((uint64_t)r->salt << 32) | (uint32_t)at;
    return (uint32_t)(splitmix64(ends ^ splitmix64(here)) % choices);
}

/* Equal-cost choice at switch `at` toward a switch of tier `to_tier`, by
 * destination (topo_dest.c): climbing, link (d / P) mod K, P the product of
 * the choices below; descending where several switches of a tier qualify
 * (this graph links every switch of a tier to every one above), the same
 * index as on the way up, the one switch a k-ary fat-tree's cabling would
 * leave.  By the hash anywhere else. */
static uint32_t route_pick(route_buf *r, int32_t at, int32_t to_tier, uint32_t choices)
{
    const topo_vertex *v = &r->t->verts[at];
    if (r->dest_key < 0 || v->kind != TOPO_V_SWITCH || to_tier < 0 || to_tier > 2)
        return ecmp_pick(r, at, choices);
    if (to_tier < v->tier && r->up_pick[to_tier] >= 0)
        return (uint32_t)r->up_pick[to_tier] % choices;
    uint32_t want = ((uint32_t)r->dest_key / r->dest_div) % choices;
    r->dest_div = r->dest_div > UINT32_MAX / choices ? UINT32_MAX : r->dest_div * choices;
    r->up_pick[to_tier] = (int32_t)want;
    return want;
}

static void describe(const topo *t, int32_t v, char *buf, size_t n)
{
    static const char *const names[] = {"GPU", "NVSwitch", "PCIe switch", "CPU", "NIC",
                                        "switch", "router", "host memory"};
    const topo_vertex *x = &t->verts[v];
    if (x->kind == TOPO_V_SWITCH)
        snprintf(buf, n, "tier-%d switch %d (vertex %d)", x->tier, x->index, v);
    else if (x->kind == TOPO_V_ROUTER)
        snprintf(buf, n, "router of node %d (vertex %d)", x->node, v);
    else
        snprintf(buf, n, "%s %d of node %d (vertex %d)", names[x->kind], x->index, x->node, v);
}

static int route_fail(route_buf *r, const char *why)
{
    char a[96], b[96];
    describe(r->t, r->src, a, sizeof a);
    describe(r->t, r->dst, b, sizeof b);
    return cs_fail(r->err, "no route from %s to %s: %s", a, b, why);
}

static int push_link(route_buf *r, int32_t link)
{
    if (r->n >= r->max) {
        char why[96];
        snprintf(why, sizeof why, "it needs more than max_links = %d links (TOPO_MAX_ROUTE "
                 "always suffices)", r->max);
        return route_fail(r, why);
    }
    r->links[r->n++] = link;
    return 0;
}

typedef bool (*hop_ok_fn)(const topo *t, const topo_link *l, const void *ctx);

#define PICK_BUF 64

/* One of cur's out-links accepted by ok, chosen by the ECMP hash; -1 if none.
 * last_to >= 0 says this is the last hop, so only links cur -> last_to can
 * qualify: then the shorter of cur's out-list and last_to's in-list is
 * scanned (a spine's thousands of down-links are skipped).  Both lists are in
 * link id order, so either gives the same candidates in the same order. */
static int32_t pick_link(route_buf *r, int32_t cur, int32_t last_to, hop_ok_fn ok,
                         const void *ctx)
{
    const topo *t = r->t;
    const int32_t *ids = t->out_link + t->out_off[cur];
    int32_t n = t->out_off[cur + 1] - t->out_off[cur], found[PICK_BUF];
    if (last_to >= 0 && t->in_off[last_to + 1] - t->in_off[last_to] < n) {
        ids = t->in_link + t->in_off[last_to];
        n = t->in_off[last_to + 1] - t->in_off[last_to];
    }
    uint32_t count = 0;
    for (int32_t k = 0; k < n; k++) {
        const topo_link *l = &t->links[ids[k]];
        if (l->src == cur && ok(t, l, ctx) && count++ < PICK_BUF)
            found[count - 1] = ids[k];
    }
    if (count == 0)
        return -1;
    r->choices += count > 1;
    uint32_t want = count > 1 ? route_pick(r, cur, t->verts[t->links[found[0]].dst].tier, count)
                              : 0;
    if (want < PICK_BUF)
        return found[want];
    for (int32_t k = 0; k < n; k++) {   /* more candidates than the buffer holds */
        const topo_link *l = &t->links[ids[k]];
        if (l->src == cur && ok(t, l, ctx) && want-- == 0)
            return ids[k];
    }
    return -1;
}

static uint32_t next_stamp(topo *t)
{
    if (++t->stamp_now == 0) {   /* wrapped: old stamps could alias */
        memset(t->stamp, 0, (size_t)t->nverts * sizeof *t->stamp);
        t->stamp_now = 1;
    }
    return t->stamp_now;
}

/* Hop counts from root (reverse: to root) over root's node, by rule. */
static void node_bfs(topo *t, int32_t root, const hop_rule *rule, bool reverse)
{
    int32_t node = t->verts[root].node, head = 0, tail = 0;
    const int32_t *off = reverse ? t->in_off : t->out_off;
    const int32_t *ids = reverse ? t->in_link : t->out_link;
    uint32_t s = next_stamp(t);
    t->stamp[root] = s;
    t->hops[root] = 0;
    t->queue[tail++] = root;
    while (head < tail) {
        int32_t u = t->queue[head++];
        for (int32_t k = off[u]; k < off[u + 1]; k++) {
            const topo_link *l = &t->links[ids[k]];
            int32_t w = reverse ? l->src : l->dst;
            const topo_vertex *vw = &t->verts[w];
            if (!(rule->link_kinds & (1u << l->kind)) || t->stamp[w] == s ||
                vw->node != node || !is_host_kind(vw->kind))
                continue;
            t->stamp[w] = s;
            t->hops[w] = t->hops[u] + 1;
            if (rule->transit_kinds & (1u << vw->kind))
                t->queue[tail++] = w;
        }
    }
}

static int route_search_in_node(route_buf *r, int32_t from, int32_t to);

typedef struct node_step {
    const hop_rule *rule;
    int32_t to, need;
    uint32_t stamp;
} node_step;

static bool node_step_ok(const topo *t, const topo_link *l, const void *ctx)
{
    const node_step *c = ctx;
    int32_t w = l->dst;
    return (c->rule->link_kinds & (1u << l->kind)) && t->stamp[w] == c->stamp &&
           t->hops[w] == c->need &&
           (w == c->to || (c->rule->transit_kinds & (1u << t->verts[w].kind)));
}

static const hop_rule *rule_for(const topo *t, int32_t from, int32_t to)
{
    topo_vkind a = t->verts[from].kind, b = t->verts[to].kind;
    bool a_nv = a == TOPO_V_GPU || a == TOPO_V_NVSWITCH;
    bool b_nv = b == TOPO_V_GPU || b == TOPO_V_NVSWITCH;
    return a_nv && b_nv && t->node_nvswitch[t->verts[from].node] >= 0 ? &nvlink_rule
                                                                        : &host_rule;
}

/* The slot of key: its entry, or the empty slot where it would go; NULL
 * while the table is empty. */
static node_route_slot *node_route_find(const topo *t, uint64_t key)
{
    if (t->node_routes_cap == 0)
        return NULL;
    uint32_t mask = (uint32_t)t->node_routes_cap - 1, i = (uint32_t)splitmix64(key) & mask;
    while (t->node_routes[i].key != 0 && t->node_routes[i].key != key)
        i = (i + 1) & mask;
    return &t->node_routes[i];
}

/* Doubles the table (at most half full keeps probes short); false when
 * memory is short, and then the route is simply not kept. */
static bool node_routes_grow(topo *t)
{
    int32_t cap = t->node_routes_cap ? t->node_routes_cap * 2 : 1024;
    node_route_slot *old = t->node_routes, *fresh = calloc((size_t)cap, sizeof *fresh);
    if (!fresh)
        return false;
    int32_t old_cap = t->node_routes_cap;
    t->node_routes = fresh;
    t->node_routes_cap = cap;
    for (int32_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *node_route_find(t, old[i].key) = old[i];
    free(old);
    return true;
}

static void node_route_keep(topo *t, uint64_t key, const int32_t *links, int n)
{
    if ((t->node_routes_used + 1) * 2 > t->node_routes_cap && !node_routes_grow(t))
        return;
    if (t->node_route_nlinks + n > t->node_route_links_cap) {
        int32_t cap = (t->node_route_nlinks + n) * 2;
        int32_t *grown = realloc(t->node_route_links, (size_t)cap * sizeof *grown);
        if (!grown)
            return;
        t->node_route_links = grown;
        t->node_route_links_cap = cap;
    }
    memcpy(t->node_route_links + t->node_route_nlinks, links, (size_t)n * sizeof *links);
    *node_route_find(t, key) = (node_route_slot){key, t->node_route_nlinks, n};
    t->node_route_nlinks += n;
    t->node_routes_used++;
}

/* Shortest route between two vertices of one node, never leaving it.  A
 * route found without an equal-cost choice is kept and replayed: every
 * transfer between a GPU and its NIC takes the same hops. */
static int route_in_node(route_buf *r, int32_t from, int32_t to)
{
    topo *t = r->t;
    if (from == to)
        return 0;
    uint64_t key = ((uint64_t)(uint32_t)(from + 1) << 32) | (uint32_t)to;
    const node_route_slot *kept = node_route_find(t, key);
    if (kept && kept->key == key) {
        for (int32_t k = 0; k < kept->len; k++)
            if (push_link(r, t->node_route_links[kept->off + k]))
                return -1;
        return 0;
    }
    int first = r->n, choices = r->choices;
    if (route_search_in_node(r, from, to))
        return -1;
    if (r->choices == choices)
        node_route_keep(t, key, r->links + first, r->n - first);
    return 0;
}

/* The breadth-first search behind route_in_node. */
static int route_search_in_node(route_buf *r, int32_t from, int32_t to)
{
    topo *t = r->t;
    node_step c = {rule_for(t, from, to), to, 0, 0};
    node_bfs(t, to, c.rule, true);
    c.stamp = t->stamp_now;
    if (t->stamp[from] != c.stamp) {
        char a[96], b[96], why[256];
        describe(t, from, a, sizeof a);
        describe(t, to, b, sizeof b);
        snprintf(why, sizeof why, "%s does not reach %s inside its node", a, b);
        return route_fail(r, why);
    }
    for (int32_t cur = from; cur != to;) {
        c.need = t->hops[cur] - 1;
        int32_t l = pick_link(r, cur, c.need == 0 ? to : -1, node_step_ok, &c);
        if (l < 0 || push_link(r, l))
            return l < 0 ? route_fail(r, "internal error inside a node") : -1;
        cur = t->links[l].dst;
    }
    return 0;
}

/* The NIC a host vertex uses to leave (reverse: enter) its node: a GPU's
 * nic_of_gpu, a NIC itself, otherwise the nearest NICs by the ECMP hash. */
static int32_t nic_for(route_buf *r, int32_t v, bool reverse)
{
    topo *t = r->t;
    const topo_vertex *x = &t->verts[v];
    int first = t->node_first_nic[x->node], count = nics_of_node(t, x->node);
    if (x->kind == TOPO_V_NIC)
        return first + x->index;
    if (count == 0)
        return route_fail(r, "the node has no NICs");
    if (x->kind == TOPO_V_GPU)
        return first + type_of_node(t, x->node)->nic_of_gpu[x->index];
    node_bfs(t, v, &host_rule, reverse);
    int32_t best = INT32_MAX, ties = 0, pick = -1;
    for (int j = 0; j < count; j++) {
        int32_t nv = t->nic_vertex[first + j];
        if (t->stamp[nv] != t->stamp_now || t->hops[nv] > best)
            continue;
        ties = t->hops[nv] < best ? 1 : ties + 1;
        best = t->hops[nv];
    }
    if (ties == 0)
        return route_fail(r, "no NIC of the node is reachable over PCIe from it");
    uint32_t want = ties > 1 ? ecmp_pick(r, v, (uint32_t)ties) : 0;
    for (int j = 0; j < count && pick < 0; j++) {
        int32_t nv = t->nic_vertex[first + j];
        if (t->stamp[nv] == t->stamp_now && t->hops[nv] == best && want-- == 0)
            pick = first + j;
    }
    return pick;
}

/* The hop map to dst (a switch or router), from the cache or new with dst
 * alone labelled.  Levels are labelled as routes need them (net_extend), not
 * all at once: a whole breadth-first search per destination is a pass over
 * every link of the network, and ring plans route to every leaf, which made
 * building them quadratic in the nodes (validate/benchmarks.md, issue 20). */
static dist_slot *net_slot(topo *t, int32_t dst)
{
    int32_t k = t->net_index[dst];
    dist_slot *s = &t->slots[k % t->nslots];
    if (s->dst_net == k)
        return s;
    if (!s->hops && !(s->hops = malloc((size_t)t->nnet * sizeof *s->hops)))
        return NULL;
    for (int32_t i = 0; i < t->nnet; i++)
        s->hops[i] = DIST_NONE;
    s->hops[k] = 0;
    s->levels = 0;
    s->dst_net = k;
    return s;
}

/* Labels the next level whole: every network vertex without a label that has
 * a network link into the last level.  Only whole levels are ever labelled,
 * so a vertex within them holds its exact hops, as the full search gave.
 * 0 when the level is empty (everything that reaches dst is labelled). */
static int net_extend(topo *t, dist_slot *s)
{
    uint16_t last = s->levels, next = (uint16_t)(last + 1);
    int added = 0;
    for (int32_t i = 0; i < t->nnet; i++) {
        if (s->hops[i] != last)
            continue;
        int32_t u = t->net_vertex[i];
        for (int32_t j = t->in_off[u]; j < t->in_off[u + 1]; j++) {
            const topo_link *l = &t->links[t->in_link[j]];
            int32_t kw = t->net_index[l->src];
            if (l->kind != TOPO_L_NETWORK || kw < 0 || s->hops[kw] != DIST_NONE)
                continue;
            s->hops[kw] = next;
            added = 1;
        }
    }
    if (added)
        s->levels = next;
    return added;
}

/* Hops from `from` to the slot's dst: its label, or else one more than its
 * nearest labelled network out-neighbour (from is beyond the whole levels,
 * the neighbour within them, so that is its distance); levels are added
 * until one of the two exists.  DIST_NONE when dst cannot be reached. */
static uint16_t net_hops_from(topo *t, dist_slot *s, int32_t from)
{
    for (;;) {
        uint16_t h = s->hops[t->net_index[from]], best = DIST_NONE;
        if (h != DIST_NONE)
            return h;
        for (int32_t j = t->out_off[from]; j < t->out_off[from + 1]; j++) {
            const topo_link *l = &t->links[t->out_link[j]];
            int32_t kw = t->net_index[l->dst];
            if (l->kind == TOPO_L_NETWORK && kw >= 0 && s->hops[kw] < best)
                best = s->hops[kw];
        }
        if (best != DIST_NONE)
            return (uint16_t)(best + 1);
        if (!net_extend(t, s))
            return DIST_NONE;
    }
}

typedef struct net_step {
    const uint16_t *hops;
    uint16_t need;
} net_step;

static bool net_step_ok(const topo *t, const topo_link *l, const void *ctx)
{
    const net_step *c = ctx;
    int32_t kw = t->net_index[l->dst];
    return l->kind == TOPO_L_NETWORK && kw >= 0 && c->hops[kw] == c->need;
}

/* Router hops between two torus nodes: the wraparound Manhattan distance,
 * which is what a search would find, without a table per destination (a big
 * torus has as many destinations as nodes). */
static int torus_hops(const topo *t, int a, int b)
{
    int hops = 0;
    for (int d = 0, stride = 1; d < 3; stride *= t->torus_dims[d], d++) {
        int size = t->torus_dims[d];
        int diff = abs(a / stride % size - b / stride % size);
        hops += diff < size - diff ? diff : size - diff;
    }
    return hops;
}

typedef struct torus_step {
    int to_node, need;
} torus_step;

static bool torus_step_ok(const topo *t, const topo_link *l, const void *ctx)
{
    const torus_step *c = ctx;
    return l->kind == TOPO_L_NETWORK && t->verts[l->dst].kind == TOPO_V_ROUTER &&
           torus_hops(t, t->verts[l->dst].node, c->to_node) == c->need;
}

static int route_in_torus(route_buf *r, int32_t from, int32_t to)
{
    topo *t = r->t;
    torus_step c = {t->verts[to].node, 0};
    for (int32_t cur = from; cur != to;) {
        c.need = torus_hops(t, t->verts[cur].node, c.to_node) - 1;
        int32_t l = pick_link(r, cur, c.need == 0 ? to : -1, torus_step_ok, &c);
        if (l < 0 || push_link(r, l))
            return l < 0 ? route_fail(r, "internal error in the torus") : -1;
        cur = t->links[l].dst;
    }
    return 0;
}

/* Switch/router to switch/router over network links only. */
static int route_in_network(route_buf *r, int32_t from, int32_t to)
{
    topo *t = r->t;
    if (from == to)
        return 0;
    if (t->torus_ndims)
        return route_in_torus(r, from, to);
    dist_slot *s = net_slot(t, to);
    if (!s)
        return route_fail(r, "out of memory for a routing table");
    uint16_t hops = net_hops_from(t, s, from);
    if (hops == DIST_NONE)
        return route_fail(r, "the network does not connect them");
    /* each hop goes to a vertex one closer: within the whole levels, so the
     * candidates are exactly those a full search's map would give */
    net_step c = {s->hops, 0};
    for (int32_t cur = from; cur != to; hops = c.need) {
        c.need = (uint16_t)(hops - 1);
        int32_t l = pick_link(r, cur, c.need == 0 ? to : -1, net_step_ok, &c);
        if (l < 0 || push_link(r, l))
            return l < 0 ? route_fail(r, "internal error in the network") : -1;
        cur = t->links[l].dst;
    }
    return 0;
}

/* Out of the source node through its NIC, across the network, into the
 * destination node through its NIC.  Either end may itself be a switch or
 * router. */
static int route_across(route_buf *r)
{
    topo *t = r->t;
    int32_t from = r->src, to = r->dst, nic_in = -1;
    if (is_host_kind(t->verts[r->src].kind)) {
        int32_t nic_out = nic_for(r, r->src, false);
        if (nic_out < 0 || route_in_node(r, r->src, t->nic_vertex[nic_out]))
            return -1;
        if (t->nic_attach[nic_out] < 0)
            return route_fail(r, "the source NIC is not attached to a network");
        if (push_link(r, t->nic_up_link[nic_out]))
            return -1;
        from = t->nic_attach[nic_out];
    }
    if (is_host_kind(t->verts[r->dst].kind)) {
        if ((nic_in = nic_for(r, r->dst, true)) < 0)
            return -1;
        if (t->sys.net.routing == SYS_ROUTE_DEST && !t->torus_ndims && t->nic_dest_key)
            r->dest_key = t->nic_dest_key[nic_in];
        if (t->nic_attach[nic_in] < 0)
            return route_fail(r, "the destination NIC is not attached to a network");
        to = t->nic_attach[nic_in];
    }
    if (route_in_network(r, from, to))
        return -1;
    if (nic_in >= 0 && (push_link(r, t->nic_down_link[nic_in]) ||
                        route_in_node(r, t->nic_vertex[nic_in], r->dst)))
        return -1;
    return 0;
}

static int route_hashed(topo *t, int src_vertex, int dst_vertex, uint32_t salt, int32_t *links,
                        int max_links, int *hashed, cs_err *err);

int topo_route(topo *t, int src_vertex, int dst_vertex, uint32_t salt, int32_t *links,
               int max_links, cs_err *err)
{
    return route_hashed(t, src_vertex, dst_vertex, salt, links, max_links, NULL, err);
}

static int route_hashed(topo *t, int src_vertex, int dst_vertex, uint32_t salt, int32_t *links,
                        int max_links, int *hashed, cs_err *err)
{
    if (src_vertex < 0 || src_vertex >= t->nverts || dst_vertex < 0 || dst_vertex >= t->nverts)
        return cs_fail(err, "topo_route: vertex %d out of range; this topology has %d vertices "
                       "(0..%d)", src_vertex < 0 || src_vertex >= t->nverts ? src_vertex
                       : dst_vertex, t->nverts, t->nverts - 1);
    route_buf r = {t, src_vertex, dst_vertex, salt, links, max_links < 0 ? 0 : max_links, 0,
                   err, 0, -1, 1, {-1, -1, -1}, 0};
    if (hashed)
        *hashed = 0;
    if (src_vertex == dst_vertex)
        return 0;
    const topo_vertex *a = &t->verts[src_vertex], *b = &t->verts[dst_vertex];
    bool same_node = is_host_kind(a->kind) && is_host_kind(b->kind) && a->node == b->node;
    int rc = same_node ? route_in_node(&r, src_vertex, dst_vertex) : route_across(&r);
    if (hashed)
        *hashed = r.hashed > 0;
    return rc < 0 ? -1 : r.n;
}

int topo_route_gpus(topo *t, int src_gpu, int dst_gpu, uint32_t salt, int32_t *links,
                    int max_links, cs_err *err)
{
    return topo_route_gpus_hashed(t, src_gpu, dst_gpu, salt, links, max_links, NULL, err);
}

int topo_route_gpus_hashed(topo *t, int src_gpu, int dst_gpu, uint32_t salt, int32_t *links,
                           int max_links, int *hashed, cs_err *err)
{
    if (src_gpu < 0 || src_gpu >= t->ngpus || dst_gpu < 0 || dst_gpu >= t->ngpus)
        return cs_fail(err, "topo_route_gpus: GPU %d out of range; this system has %d GPUs "
                       "(0..%d)", src_gpu < 0 || src_gpu >= t->ngpus ? src_gpu : dst_gpu,
                       t->ngpus, t->ngpus - 1);
    return route_hashed(t, t->gpu_vertex[src_gpu], t->gpu_vertex[dst_gpu], salt, links,
                        max_links, hashed, err);
}
