/* Unit tests for destination routing (topo_dest.c, issue 15): on a fat-tree
 * routed by destination (InfiniBand's subnet manager, D-mod-K) every shift
 * permutation (GPU g sends to GPU g + k, a ring's step) crosses the network
 * with at most one flow per link, for every k, and salts change nothing;
 * the per-flow hash (Ethernet ECMP) on the same fabric still collides. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "topo.h"

static const dev_type test_gpu = {
    .name = "test-gpu", .memory_bytes = 80e9, .hbm_bw_bytes_per_s = 2e12,
    .bf16_flops_per_s = 312e12, .fp16_flops_per_s = 312e12, .nvlink_bw_bytes_per_s = 300e9,
    .pcie_gen = 4, .tdp_w = 400, .sms = 108};

/* nodes DGX-like nodes (8 GPUs, 8 NICs, GPU i on NIC i) on a network. */
static sys_system fabric(int nodes, sys_net_kind kind, int nics_per_leaf, sys_routing routing)
{
    sys_system s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "test-fabric");
    s.ngroups = 1;
    sys_node_init(&s.groups[0].node, "test-node", &test_gpu, 8, 300e9, 8, 25e9);
    s.groups[0].count = nodes;
    sys_network_init(&s.net, kind, nics_per_leaf);
    s.net.leaves_per_pod = 4;
    s.net.routing = routing;
    return s;
}

/* The most flows any network link (switch to switch) carries when every GPU
 * g sends to g + shift (mod the GPU count) with the given salt; -1 when a
 * route fails. */
static int max_network_load(topo *t, int shift, uint32_t salt)
{
    int ngpus = topo_gpu_count(t), worst = 0;
    int *load = calloc((size_t)topo_link_count(t), sizeof *load);
    if (!load)
        return -1;
    int32_t links[TOPO_MAX_ROUTE];
    for (int g = 0; g < ngpus && worst >= 0; g++) {
        int n = topo_route_gpus(t, g, (g + shift) % ngpus, salt ? salt + (uint32_t)g : 0, links,
                                TOPO_MAX_ROUTE, NULL);
        if (n < 0)
            worst = -1;
        for (int i = 0; i < n; i++)
            if (topo_link_at(t, links[i])->kind == TOPO_L_NETWORK && ++load[links[i]] > worst)
                worst = load[links[i]];
    }
    free(load);
    return worst;
}

static topo *build(const sys_system *s)
{
    topo *t = NULL;
    cs_err err = {""};
    CHECK_EQ_INT(topo_build(s, &t, &err), 0);
    return t;
}

/* Every shift of the GPUs by a multiple of step: at most one flow per
 * network link. */
static void check_shifts_free(const sys_system *s, int step, int *worst_out)
{
    topo *t = build(s);
    if (!t)
        return;
    int worst = 0;
    for (int k = step; k < topo_gpu_count(t); k += step) {
        int w = max_network_load(t, k, 0);
        if (w < 0 || w > worst)
            worst = w < 0 ? 99 : w;
        if (w != 1 && w != 0)
            printf("# %s: shift %d puts %d flows on one link\n", sys_net_kind_name(s->net.kind),
                   k, w);
    }
    CHECK_EQ_INT(worst, 1);
    *worst_out = worst;
    topo_free(t);
}

static void test_fat_tree2_shifts(void)
{
    int worst = 0;
    sys_system s = fabric(8, SYS_NET_FAT_TREE2, 8, SYS_ROUTE_DEST); /* a leaf per node */
    check_shifts_free(&s, 1, &worst);
    s = fabric(10, SYS_NET_FAT_TREE2, 20, SYS_ROUTE_DEST);         /* nodes straddle leaves */
    check_shifts_free(&s, 1, &worst);
}

static void test_rail_and_fat_tree3_shifts(void)
{
    int worst = 0;
    sys_system s = fabric(12, SYS_NET_RAIL, 4, SYS_ROUTE_DEST);    /* 3 rail groups */
    check_shifts_free(&s, 1, &worst);
    s = fabric(16, SYS_NET_FAT_TREE3, 8, SYS_ROUTE_DEST);          /* 4 pods of 4 leaves */
    check_shifts_free(&s, 1, &worst);
}

/* The same shift under the hash: some link carries two flows or more (the
 * collisions ECMP makes on an Ethernet fabric), and salts move routes. */
static void test_ecmp_still_collides(void)
{
    sys_system s = fabric(8, SYS_NET_FAT_TREE2, 8, SYS_ROUTE_ECMP);
    topo *t = build(&s);
    if (!t)
        return;
    CHECK(max_network_load(t, 8, 0) >= 2);
    int32_t a[TOPO_MAX_ROUTE], b[TOPO_MAX_ROUTE];
    int moved = 0;
    for (uint32_t salt = 1; salt < 16; salt++) {
        int na = topo_route_gpus(t, 0, 8, 0, a, TOPO_MAX_ROUTE, NULL);
        int nb = topo_route_gpus(t, 0, 8, salt, b, TOPO_MAX_ROUTE, NULL);
        moved += na != nb || memcmp(a, b, (size_t)na * sizeof *a) != 0;
    }
    CHECK(moved > 0);
    topo_free(t);
}

/* By destination, a route does not depend on the salt; the switch a route
 * climbs to is the destination's leaf port mod the spines (D-mod-K). */
static void test_dest_ignores_salt(void)
{
    sys_system s = fabric(8, SYS_NET_FAT_TREE2, 8, SYS_ROUTE_DEST);
    topo *t = build(&s);
    if (!t)
        return;
    int32_t a[TOPO_MAX_ROUTE], b[TOPO_MAX_ROUTE];
    for (int g = 0; g < 8; g++) {
        int na = topo_route_gpus(t, g, 8 + g, 0, a, TOPO_MAX_ROUTE, NULL);
        for (uint32_t salt = 1; salt < 8; salt++) {
            int nb = topo_route_gpus(t, g, 8 + g, salt * 2654435761u, b, TOPO_MAX_ROUTE, NULL);
            CHECK(na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0);
        }
        /* GPU -> PCIe -> NIC -> leaf -> spine: the spine is the 4th vertex */
        const topo_vertex *spine = topo_vertex_at(t, topo_link_at(t, a[3])->dst);
        CHECK_EQ_INT(spine->tier, 1);
        CHECK_EQ_INT(spine->index, g);
    }
    topo_free(t);
}

/* topo_route_gpus_hashed says whether the salt could change a route (issue
 * 20: the symmetry classes skip re-pairing such routes): by destination the
 * routes across the spines take no hashed choice and give the same links as
 * topo_route_gpus; hashed, they do; inside a node on NVSwitch, neither. */
static void test_hashed_flag(void)
{
    for (int dest = 0; dest < 2; dest++) {
        sys_system s = fabric(8, SYS_NET_FAT_TREE2, 8, dest ? SYS_ROUTE_DEST : SYS_ROUTE_ECMP);
        topo *t = build(&s);
        if (!t)
            return;
        int32_t a[TOPO_MAX_ROUTE], b[TOPO_MAX_ROUTE];
        int hashed = -1;
        for (int g = 0; g < 8; g++) {
            int na = topo_route_gpus_hashed(t, g, 8 + g, 7, a, TOPO_MAX_ROUTE, &hashed, NULL);
            int nb = topo_route_gpus(t, g, 8 + g, 7, b, TOPO_MAX_ROUTE, NULL);
            CHECK(na > 3 && na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0);
            CHECK_EQ_INT(hashed, !dest);
        }
        CHECK(topo_route_gpus_hashed(t, 0, 5, 7, a, TOPO_MAX_ROUTE, &hashed, NULL) > 0);
        CHECK_EQ_INT(hashed, 0);
        topo_free(t);
    }
}

/* The catalog's dgx-a100-80g (a DGX SuperPOD: rail-optimized units of 20
 * nodes, InfiniBand): on 2 whole units every shift by whole nodes (the
 * rail-aligned steps of NCCL's rings) is free; on 48 nodes (a partial third
 * unit) a ring's step, one node, still is.  (A shift by k nodes modulo 48 is
 * no shift of the units' port order, so D-mod-K promises nothing for it.) */
static void test_dgx_a100_rings(void)
{
    sys_system s;
    cs_err err = {""};
    CHECK_EQ_INT(sys_from_catalog("dgx-a100-80g", 40, &s, &err), 0);
    CHECK_EQ_INT(s.net.kind, SYS_NET_RAIL);
    CHECK_EQ_INT(s.net.routing, SYS_ROUTE_DEST);
    int worst = 0;
    check_shifts_free(&s, 8, &worst);
    CHECK_EQ_INT(sys_from_catalog("dgx-a100-80g", 48, &s, &err), 0);
    topo *t = build(&s);
    if (!t)
        return;
    CHECK_EQ_INT(max_network_load(t, 8, 0), 1);
    topo_free(t);
    s.net.routing = SYS_ROUTE_ECMP; /* the hash, kept for Ethernet: collides on the spines */
    if ((t = build(&s)))
        CHECK(max_network_load(t, 8 * 21, 0) >= 2);
    topo_free(t);
}

static void test_parse(void)
{
    sys_routing r = SYS_ROUTE_ECMP;
    cs_err err = {""};
    CHECK_EQ_INT(sys_routing_parse("destination", "routing", &r, &err), 0);
    CHECK_EQ_INT(r, SYS_ROUTE_DEST);
    CHECK_EQ_INT(sys_routing_parse("ecmp", "routing", &r, &err), 0);
    CHECK_EQ_INT(r, SYS_ROUTE_ECMP);
    CHECK_EQ_INT(sys_routing_parse("dest", "routing", &r, &err), 0);
    CHECK_EQ_INT(r, SYS_ROUTE_DEST);
    CHECK(sys_routing_parse("adaptive", "routing", &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "ecmp");
    CHECK_STR_CONTAINS(err.msg, "destination");
}

/* Network hops from switch src to switch dst by a breadth-first search of
 * the test's own over every network link (independent of topo_route.c). */
static int bfs_network_hops(const topo *t, int src, int dst)
{
    int nv = topo_vertex_count(t), nl = topo_link_count(t), head = 0, tail = 0;
    int *dist = malloc((size_t)nv * sizeof *dist), *queue = malloc((size_t)nv * sizeof *queue);
    if (!dist || !queue) {
        free(dist);
        free(queue);
        return -1;
    }
    for (int v = 0; v < nv; v++)
        dist[v] = -1;
    dist[src] = 0;
    queue[tail++] = src;
    while (head < tail && dist[dst] < 0) {
        int u = queue[head++];
        for (int k = 0; k < nl; k++) { /* small fabrics: a scan per vertex will do */
            const topo_link *l = topo_link_at(t, k);
            if (l->kind == TOPO_L_NETWORK && l->src == u && dist[l->dst] < 0) {
                dist[l->dst] = dist[u] + 1;
                queue[tail++] = l->dst;
            }
        }
    }
    int d = dist[dst];
    free(dist);
    free(queue);
    return d;
}

/* Routes do not depend on what was routed before (the hop maps are labelled
 * level by level as routes need them, issue 20): every GPU pair routed in
 * one order on one topology and in the reverse order on a fresh one gives
 * the same links, under the ECMP hash (whose pick depends on the whole
 * candidate set) and by destination; and each crosses the network by a
 * shortest path, as an independent search counts it. */
static void check_routes_history_free(const sys_system *s)
{
    topo *a = build(s), *b = build(s);
    if (!a || !b)
        return;
    int n = topo_gpu_count(a), same = 1, shortest = 1;
    int32_t la[TOPO_MAX_ROUTE], lb[TOPO_MAX_ROUTE], lc[TOPO_MAX_ROUTE];
    for (int i = 0; i < n * n; i++) { /* a forwards, b backwards: other histories */
        int r = n * n - 1 - i;
        topo_route_gpus(a, i / n, i % n, (uint32_t)i, la, TOPO_MAX_ROUTE, NULL);
        topo_route_gpus(b, r / n, r % n, (uint32_t)r, lb, TOPO_MAX_ROUTE, NULL);
    }
    for (int i = 0; i < n * n && same && shortest; i += 7) {
        int g = i / n, h = i % n;
        topo *c = build(s); /* cold: only this pair's levels labelled */
        int na = topo_route_gpus(a, g, h, (uint32_t)i, la, TOPO_MAX_ROUTE, NULL);
        int nb = topo_route_gpus(b, g, h, (uint32_t)i, lb, TOPO_MAX_ROUTE, NULL);
        int nc = c ? topo_route_gpus(c, g, h, (uint32_t)i, lc, TOPO_MAX_ROUTE, NULL) : -1;
        same = na >= 0 && na == nb && na == nc && memcmp(la, lb, (size_t)na * sizeof *la) == 0 &&
               memcmp(la, lc, (size_t)na * sizeof *la) == 0;
        int first = -1, last = -1, net = 0;
        for (int k = 0; k < na; k++)
            if (topo_link_at(a, la[k])->kind == TOPO_L_NETWORK) {
                first = first < 0 ? k : first;
                last = k;
                net++;
            }
        if (net > 0 && bfs_network_hops(a, topo_link_at(a, la[first])->src,
                                        topo_link_at(a, la[last])->dst) != net)
            shortest = 0;
        if (c)
            topo_free(c);
    }
    CHECK(same);
    CHECK(shortest);
    topo_free(a);
    topo_free(b);
}

static void test_routes_history_free(void)
{
    sys_system s = fabric(16, SYS_NET_FAT_TREE3, 8, SYS_ROUTE_ECMP); /* 4 pods of 4 leaves */
    check_routes_history_free(&s);
    s = fabric(12, SYS_NET_RAIL, 4, SYS_ROUTE_ECMP);
    check_routes_history_free(&s);
    s = fabric(16, SYS_NET_FAT_TREE3, 8, SYS_ROUTE_DEST);
    check_routes_history_free(&s);
}

TAP_MAIN({"fat-tree2 by destination: every shift contention-free", test_fat_tree2_shifts},
         {"rail and fat-tree3 by destination: every shift contention-free",
          test_rail_and_fat_tree3_shifts},
         {"ECMP hash on the same fat-tree still collides", test_ecmp_still_collides},
         {"by destination: salt-free, spine = port mod K", test_dest_ignores_salt},
         {"dgx-a100-80g: SuperPOD rail fabric, rings free", test_dgx_a100_rings},
         {"hashed flag: by destination no salted choice, hashed one", test_hashed_flag},
         {"routing names parse", test_parse},
         {"routes: the same whatever was routed before, shortest", test_routes_history_free});
