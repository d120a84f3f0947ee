/* Unit tests for topo: graph sizes counted by hand for small systems, routes
 * checked link by link, bandwidth formulas, ECMP spread, errors, and one
 * 16,384-GPU build timed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "topo.h"

#define NVLINK_BW 450e9
#define PCIE_BW 64e9
#define NIC_BW 50e9
#define NVLINK_PS 300000u
#define PCIE_PS 500000u
#define NIC_PS 1000000u
#define SWITCH_PS 500000u

static const dev_type test_gpu = {
    .name = "test-gpu", .memory_bytes = 80e9, .hbm_bw_bytes_per_s = 3.35e12,
    .fp32_flops_per_s = 67e12, .tf32_flops_per_s = 495e12, .bf16_flops_per_s = 989e12,
    .fp16_flops_per_s = 989e12, .fp8_flops_per_s = 1979e12,
    .nvlink_bw_bytes_per_s = NVLINK_BW, .pcie_gen = 5, .tdp_w = 700, .sms = 132};

/* gpus GPUs, 2 per PCIe switch, nics NICs with GPU i on NIC i * nics / gpus. */
static sys_node_type node_type(int gpus, int nics, sys_fabric fabric)
{
    sys_node_type nt;
    memset(&nt, 0, sizeof nt);
    snprintf(nt.name, sizeof nt.name, "test-%dg-%dn", gpus, nics);
    nt.gpu = &test_gpu;
    nt.gpus = gpus;
    nt.fabric = fabric;
    nt.nvlink_bw_bytes_per_s = NVLINK_BW;
    nt.nvlink_latency_ps = NVLINK_PS;
    nt.gpus_per_pcie_switch = 2;
    nt.pcie_bw_bytes_per_s = PCIE_BW;
    nt.pcie_latency_ps = PCIE_PS;
    nt.nics = nics;
    nt.nic_bw_bytes_per_s = NIC_BW;
    nt.nic_latency_ps = NIC_PS;
    for (int i = 0; i < gpus; i++)
        nt.nic_of_gpu[i] = nics > 0 ? i * nics / gpus : 0;
    nt.host_mem_bytes = 2e12;
    nt.host_mem_bw_bytes_per_s = 400e9;
    return nt;
}

static sys_node_type dgx(void)
{
    return node_type(8, 8, SYS_FABRIC_NVSWITCH);
}

static sys_system system_of(sys_node_type nt, int nodes, sys_net_kind kind)
{
    sys_system s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "test-system");
    s.ngroups = 1;
    s.groups[0].node = nt;
    s.groups[0].count = nodes;
    s.net.kind = kind;
    s.net.nics_per_leaf = 8;
    s.net.leaves_per_pod = 2;
    s.net.oversubscription = 1.0;
    s.net.switch_latency_ps = SWITCH_PS;
    return s;
}

static topo *build_ok(const sys_system *s)
{
    topo *t = NULL;
    cs_err err = {""};
    int rc = topo_build(s, &t, &err);
    if (rc != 0)
        printf("# topo_build failed: %s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
    return t;
}

static int route_gpus(topo *t, int a, int b, uint32_t salt, int32_t *links)
{
    cs_err err = {""};
    int n = topo_route_gpus(t, a, b, salt, links, TOPO_MAX_ROUTE, &err);
    if (n < 0)
        printf("# route %d -> %d failed: %s\n", a, b, err.msg);
    return n;
}

/* Vertex reached after link i (i = -1: the route's first vertex). */
static int32_t vertex_after(const topo *t, const int32_t *links, int i)
{
    return i < 0 ? topo_link_at(t, links[0])->src : topo_link_at(t, links[i])->dst;
}

static int count_tier(const topo *t, const int32_t *links, int n, int tier)
{
    int count = 0;
    for (int i = 0; i < n; i++) {
        const topo_vertex *v = topo_vertex_at(t, vertex_after(t, links, i));
        count += v->kind == TOPO_V_SWITCH && v->tier == tier;
    }
    return count;
}

static int count_kind(const topo *t, const int32_t *links, int n, topo_lkind kind)
{
    int count = 0;
    for (int i = 0; i < n; i++)
        count += topo_link_at(t, links[i])->kind == kind;
    return count;
}

static void check_kinds(const topo *t, const int32_t *links, int n, const topo_lkind *want,
                        int nwant)
{
    CHECK_EQ_INT(n, nwant);
    for (int i = 0; i < n && i < nwant; i++)
        CHECK_EQ_INT(topo_link_at(t, links[i])->kind, want[i]);
}

/* A route is a chain from src to dst, visits no vertex twice, and crosses
 * node-internal vertices only of the two end nodes. */
static bool route_well_formed(const topo *t, const int32_t *links, int n, int32_t src,
                              int32_t dst)
{
    if (n < 1 || n > TOPO_MAX_ROUTE || vertex_after(t, links, -1) != src ||
        vertex_after(t, links, n - 1) != dst)
        return false;
    int src_node = topo_vertex_at(t, src)->node, dst_node = topo_vertex_at(t, dst)->node;
    for (int i = 0; i < n; i++) {
        if (i > 0 && topo_link_at(t, links[i])->src != topo_link_at(t, links[i - 1])->dst)
            return false;
        const topo_vertex *v = topo_vertex_at(t, vertex_after(t, links, i));
        if (v->kind != TOPO_V_SWITCH && v->kind != TOPO_V_ROUTER && v->node != src_node &&
            v->node != dst_node)
            return false;
        for (int j = -1; j < i; j++)
            if (vertex_after(t, links, j) == vertex_after(t, links, i))
                return false;
    }
    return true;
}

/* Every GPU pair under a few salts: well formed, latency is the sum. */
static void check_all_gpu_routes(topo *t)
{
    int32_t links[TOPO_MAX_ROUTE];
    int bad = 0;
    for (int a = 0; a < topo_gpu_count(t); a++) {
        for (int b = 0; b < topo_gpu_count(t); b++) {
            for (uint32_t salt = 0; salt < 3 && a != b; salt++) {
                int n = route_gpus(t, a, b, salt, links);
                uint64_t sum = 0;
                for (int i = 0; i < n; i++)
                    sum += topo_link_at(t, links[i])->latency_ps;
                bad += !route_well_formed(t, links, n, topo_gpu_vertex(t, a),
                                          topo_gpu_vertex(t, b)) ||
                       topo_route_latency_ps(t, links, n) != sum;
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static int pcie_switch_of_nic(const topo *t, int node, int nic)
{
    int32_t v = topo_nic_vertex(t, node, nic);
    for (int l = 0; l < topo_link_count(t); l++)
        if (topo_link_at(t, l)->src == v && topo_link_at(t, l)->kind == TOPO_L_PCIE)
            return topo_vertex_at(t, topo_link_at(t, l)->dst)->index;
    return -1;
}

/* The switch or router a NIC hangs off. */
static int32_t attach_of_nic(const topo *t, int node, int nic)
{
    int32_t v = topo_nic_vertex(t, node, nic);
    for (int l = 0; l < topo_link_count(t); l++)
        if (topo_link_at(t, l)->src == v && topo_link_at(t, l)->kind == TOPO_L_NIC)
            return topo_link_at(t, l)->dst;
    return -1;
}

static int count_links_of_kind(const topo *t, topo_lkind kind)
{
    int n = 0;
    for (int l = 0; l < topo_link_count(t); l++)
        n += topo_link_at(t, l)->kind == kind;
    return n;
}

static int count_vertices(const topo *t, topo_vkind kind, int tier)
{
    int n = 0;
    for (int v = 0; v < topo_vertex_count(t); v++)
        n += topo_vertex_at(t, v)->kind == kind && (tier < 0 || topo_vertex_at(t, v)->tier == tier);
    return n;
}

/* ------------------------------------------------------------- cases */

static const topo_lkind six_hops[] = {TOPO_L_PCIE, TOPO_L_PCIE, TOPO_L_NIC,
                                      TOPO_L_NIC,  TOPO_L_PCIE, TOPO_L_PCIE};

static void test_single_switch(void)
{
    sys_system s = system_of(dgx(), 2, SYS_NET_SINGLE_SWITCH);
    topo *t = build_ok(&s);
    if (!t)
        return;
    /* per node: 8 GPU + CPU + 4 PCIe + NVSwitch + 8 NIC = 22; plus 1 switch */
    CHECK_EQ_INT(topo_vertex_count(t), 2 * 23 + 1);
    /* per node pairs: 8 GPU-PCIe + 4 PCIe-CPU + 8 NVLink + 8 NIC-PCIe = 28; 16 NIC-switch */
    CHECK_EQ_INT(topo_link_count(t), 2 * 2 * 29 + 2 * 16);
    CHECK_EQ_INT(topo_gpu_count(t), 16);
    CHECK_EQ_INT(topo_node_count(t), 2);
    int32_t links[TOPO_MAX_ROUTE];
    int n = route_gpus(t, 0, 8, 0, links);
    check_kinds(t, links, n, six_hops, 6);
    CHECK_EQ_INT(vertex_after(t, links, -1), topo_gpu_vertex(t, 0));
    CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 0))->kind, TOPO_V_PCIE_SWITCH);
    CHECK_EQ_INT(vertex_after(t, links, 1), topo_nic_vertex(t, 0, 0));
    CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 2))->kind, TOPO_V_SWITCH);
    CHECK_EQ_INT(vertex_after(t, links, 3), topo_nic_vertex(t, 1, 0));
    CHECK_EQ_INT(vertex_after(t, links, 5), topo_gpu_vertex(t, 8));
    /* 4 PCIe hops, NIC up, switch traversal rides on the switch->NIC link */
    CHECK_EQ_INT(topo_route_latency_ps(t, links, n), 4 * PCIE_PS + NIC_PS + NIC_PS + SWITCH_PS);
    /* GPU 13 is local 5 of node 1: it leaves through NIC 5, enters GPU 2 through NIC 2 */
    n = route_gpus(t, 13, 2, 0, links);
    CHECK_EQ_INT(n, 6);
    CHECK_EQ_INT(vertex_after(t, links, 1), topo_nic_vertex(t, 1, 5));
    CHECK_EQ_INT(vertex_after(t, links, 3), topo_nic_vertex(t, 0, 2));
    check_all_gpu_routes(t);
    topo_free(t);
}

static void test_same_node_nvlink(void)
{
    sys_system s = system_of(dgx(), 2, SYS_NET_SINGLE_SWITCH);
    topo *t = build_ok(&s);
    if (!t)
        return;
    int32_t links[TOPO_MAX_ROUTE];
    /* GPUs 0 and 1 share a PCIe switch (2 hops that way too): NVLink must win */
    int pairs[][2] = {{0, 1}, {0, 7}, {13, 9}};
    for (int p = 0; p < 3; p++) {
        int n = route_gpus(t, pairs[p][0], pairs[p][1], 7, links);
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_INT(count_kind(t, links, n, TOPO_L_NVLINK), 2);
        CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 0))->kind, TOPO_V_NVSWITCH);
        CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 0))->node,
                     topo_node_of_gpu(t, pairs[p][0]));
        CHECK_EQ_INT(topo_route_latency_ps(t, links, n), 2 * NVLINK_PS);
        CHECK_REL(topo_link_at(t, links[0])->bw_bytes_per_s, NVLINK_BW, 1e-12);
    }
    /* a GPU to its own host CPU goes over PCIe */
    cs_err err;
    int n = topo_route(t, topo_gpu_vertex(t, 5), topo_cpu_vertex(t, 0), 0, links,
                       TOPO_MAX_ROUTE, &err);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(count_kind(t, links, n, TOPO_L_PCIE), 2);
    CHECK_EQ_INT(topo_route(t, 3, 3, 0, links, TOPO_MAX_ROUTE, &err), 0);
    topo_free(t);
}

/* 3 NICs: GPUs 0-3 on NIC 0, 4-7 on NIC 1, NIC 2 unused by any GPU. */
static void test_nic_placement(void)
{
    sys_node_type nt = dgx();
    nt.nics = 3;
    for (int i = 0; i < 8; i++)
        nt.nic_of_gpu[i] = i / 4;
    sys_system s = system_of(nt, 2, SYS_NET_SINGLE_SWITCH);
    topo *t = build_ok(&s);
    if (!t)
        return;
    CHECK_EQ_INT(pcie_switch_of_nic(t, 0, 0), 0);   /* switch of GPU 0 */
    CHECK_EQ_INT(pcie_switch_of_nic(t, 0, 1), 2);   /* switch of GPU 4 */
    CHECK_EQ_INT(pcie_switch_of_nic(t, 0, 2), 2);   /* unused: 2 % 4 switches */
    int32_t links[TOPO_MAX_ROUTE];
    /* GPU 3 sits on PCIe switch 1, its NIC 0 on switch 0: up through the CPU */
    int n = route_gpus(t, 3, 11, 0, links);
    CHECK_EQ_INT(n, 10);
    CHECK_EQ_INT(vertex_after(t, links, 1), topo_cpu_vertex(t, 0));
    CHECK_EQ_INT(vertex_after(t, links, 3), topo_nic_vertex(t, 0, 0));
    CHECK_EQ_INT(vertex_after(t, links, 5), topo_nic_vertex(t, 1, 0));
    CHECK_EQ_INT(vertex_after(t, links, 7), topo_cpu_vertex(t, 1));
    /* GPU 5 shares switch 2 with NIC 1 */
    n = route_gpus(t, 5, 13, 0, links);
    CHECK_EQ_INT(n, 6);
    CHECK_EQ_INT(vertex_after(t, links, 1), topo_nic_vertex(t, 0, 1));
    check_all_gpu_routes(t);
    topo_free(t);
}

/* 4 DGX nodes, 8 NIC ports per leaf: 4 leaves; oversubscription 3 gives
 * round(8/3) = 3 spines of 8 x 50e9 / (3 x 3) B/s links. */
static void test_fat_tree2(void)
{
    sys_system s = system_of(dgx(), 4, SYS_NET_FAT_TREE2);
    s.net.oversubscription = 3.0;
    topo *t = build_ok(&s);
    if (!t)
        return;
    CHECK_EQ_INT(topo_vertex_count(t), 4 * 23 + 4 + 3);
    CHECK_EQ_INT(topo_link_count(t), 4 * 58 + 2 * 32 + 2 * 4 * 3);
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 0), 4);
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 1), 3);
    double up_bw[4] = {0};
    for (int l = 0; l < topo_link_count(t); l++) {
        const topo_link *k = topo_link_at(t, l);
        if (k->kind != TOPO_L_NETWORK)
            continue;
        CHECK_REL(k->bw_bytes_per_s, 8 * NIC_BW / 9, 1e-12);
        CHECK_EQ_INT(k->latency_ps, SWITCH_PS);
        const topo_vertex *v = topo_vertex_at(t, k->src);
        if (v->tier == 0)
            up_bw[v->index] += k->bw_bytes_per_s;
    }
    for (int leaf = 0; leaf < 4; leaf++)   /* up = down / oversubscription */
        CHECK_REL(up_bw[leaf], 8 * NIC_BW / 3, 1e-12);
    int32_t links[TOPO_MAX_ROUTE];
    int n = route_gpus(t, 0, 8, 0, links);   /* node 0 on leaf 0, node 1 on leaf 1 */
    static const topo_lkind want[] = {TOPO_L_PCIE, TOPO_L_PCIE, TOPO_L_NIC, TOPO_L_NETWORK,
                                      TOPO_L_NETWORK, TOPO_L_NIC, TOPO_L_PCIE, TOPO_L_PCIE};
    check_kinds(t, links, n, want, 8);
    CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 2))->tier, 0);
    CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 3))->tier, 1);
    CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 4))->tier, 0);
    CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 2))->index, 0);
    CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 4))->index, 1);
    CHECK_EQ_INT(topo_route_latency_ps(t, links, n),
                 4 * PCIE_PS + 2 * NIC_PS + 3 * SWITCH_PS);
    check_all_gpu_routes(t);
    topo_free(t);
}

static void test_fat_tree2_shared_leaf(void)
{
    /* 16 ports per leaf: both nodes on one leaf, so no spine at all */
    sys_system s = system_of(dgx(), 2, SYS_NET_FAT_TREE2);
    s.net.nics_per_leaf = 16;
    topo *t = build_ok(&s);
    if (!t)
        return;
    CHECK_EQ_INT(topo_vertex_count(t), 2 * 23 + 1);
    CHECK_EQ_INT(count_links_of_kind(t, TOPO_L_NETWORK), 0);
    int32_t links[TOPO_MAX_ROUTE];
    int n = route_gpus(t, 0, 8, 0, links);
    check_kinds(t, links, n, six_hops, 6);
    topo_free(t);
    /* 3 nodes, 16 ports: nodes 0-1 on leaf 0, node 2 on leaf 1 */
    s.groups[0].count = 3;
    if (!(t = build_ok(&s)))
        return;
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 0), 2);
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 1), 16);   /* round(16 / 1) */
    n = route_gpus(t, 3, 12, 0, links);
    CHECK_EQ_INT(n, 6);
    n = route_gpus(t, 3, 19, 0, links);
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(count_tier(t, links, n, 1), 1);
    topo_free(t);
}

static void test_ecmp(void)
{
    sys_system s = system_of(dgx(), 4, SYS_NET_FAT_TREE2);
    s.net.oversubscription = 3.0;   /* 3 spines */
    topo *t = build_ok(&s), *t2 = build_ok(&s);
    if (!t || !t2)
        goto done;
    int32_t a[TOPO_MAX_ROUTE], b[TOPO_MAX_ROUTE];
    bool seen[4096] = {false};
    int distinct = 0;
    for (uint32_t salt = 0; salt < 64; salt++) {
        int n = route_gpus(t, 0, 8, salt, a);
        int again = route_gpus(t, 0, 8, salt, b);
        CHECK_EQ_INT(again, n);
        CHECK(n == again && memcmp(a, b, (size_t)n * sizeof a[0]) == 0);
        int other = route_gpus(t2, 0, 8, salt, b);   /* a rebuilt graph routes the same */
        CHECK(n == other && memcmp(a, b, (size_t)n * sizeof a[0]) == 0);
        int32_t spine = vertex_after(t, a, 3);
        CHECK_EQ_INT(topo_vertex_at(t, spine)->tier, 1);
        if (spine >= 0 && spine < 4096 && !seen[spine]) {
            seen[spine] = true;
            distinct++;
        }
    }
    CHECK(distinct > 1);
    CHECK_EQ_INT(distinct, 3);
    /* distinct GPU pairs spread too, with one salt */
    memset(seen, 0, sizeof seen);
    distinct = 0;
    for (int g = 0; g < 8; g++) {
        int n = route_gpus(t, g, 16 + g, 0, a);
        int32_t spine = n == 8 ? vertex_after(t, a, 3) : 0;
        if (!seen[spine]) {
            seen[spine] = true;
            distinct++;
        }
    }
    CHECK(distinct > 1);
done:
    topo_free(t);
    topo_free(t2);
}

/* 4 nodes of 4 GPUs / 4 NICs, 4 ports per leaf (a leaf per node), 2 leaves
 * per pod: 2 pods.  Non-blocking: 4 aggregation switches per pod, 2 cores. */
static void test_fat_tree3(void)
{
    sys_system s = system_of(node_type(4, 4, SYS_FABRIC_NVSWITCH), 4, SYS_NET_FAT_TREE3);
    s.net.nics_per_leaf = 4;
    topo *t = build_ok(&s);
    if (!t)
        return;
    /* per node: 4 GPU + CPU + 2 PCIe + NVSwitch + 4 NIC = 12, pairs 4+2+4+4 = 14 */
    CHECK_EQ_INT(topo_vertex_count(t), 4 * 13 + 4 + 2 * 4 + 2);
    CHECK_EQ_INT(topo_link_count(t), 4 * 30 + 2 * 16 + 2 * (4 * 4) + 2 * (8 * 2));
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 2), 2);
    int32_t links[TOPO_MAX_ROUTE];
    int n = route_gpus(t, 0, 4, 0, links);   /* node 0 -> node 1, same pod */
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(count_tier(t, links, n, 1), 1);
    CHECK_EQ_INT(count_tier(t, links, n, 2), 0);
    n = route_gpus(t, 0, 8, 0, links);       /* node 0 -> node 2, across pods */
    CHECK_EQ_INT(n, 10);
    static const int tiers[] = {0, 1, 2, 1, 0};
    for (int i = 0; i < 5 && n == 10; i++)
        CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 2 + i))->tier, tiers[i]);
    check_all_gpu_routes(t);
    topo_free(t);
}

/* Oversubscription 3 at each tier: round(4/3) = 1 aggregation switch per
 * pod with 4 x 50e9 / 3 B/s leaf links; round(2/3) -> 1 core with
 * 2 x (200e9/3) / 3 B/s links, so a pod's up-capacity is its aggregation
 * tier's down-capacity / 3. */
static void test_fat_tree3_bandwidth(void)
{
    sys_system s = system_of(node_type(4, 4, SYS_FABRIC_NVSWITCH), 4, SYS_NET_FAT_TREE3);
    s.net.nics_per_leaf = 4;
    s.net.oversubscription = 3.0;
    topo *t = build_ok(&s);
    if (!t)
        return;
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 1), 2);
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 2), 1);
    double leaf_agg = 4 * NIC_BW / 3, agg_core = 2 * leaf_agg / 3;
    double pod_down = 0, pod_up = 0;
    for (int l = 0; l < topo_link_count(t); l++) {
        const topo_link *k = topo_link_at(t, l);
        if (k->kind != TOPO_L_NETWORK)
            continue;
        int from = topo_vertex_at(t, k->src)->tier, to = topo_vertex_at(t, k->dst)->tier;
        const topo_vertex *agg = topo_vertex_at(t, from == 1 ? k->src : k->dst);
        if (from + to == 1)
            CHECK_REL(k->bw_bytes_per_s, leaf_agg, 1e-12);
        else
            CHECK_REL(k->bw_bytes_per_s, agg_core, 1e-12);
        if (from == 1 && agg->index == 0)   /* pod 0's only aggregation switch */
            *(to == 0 ? &pod_down : &pod_up) += k->bw_bytes_per_s;
    }
    CHECK_REL(pod_up, pod_down / 3, 1e-12);
    topo_free(t);
}

/* 4 DGX nodes, 2 nodes per rail group: 2 groups x 8 rails = 16 rail
 * switches, round(2/1) = 2 spines of 2 x 50e9 / 2 B/s links. */
static void test_rail(void)
{
    sys_system s = system_of(dgx(), 4, SYS_NET_RAIL);
    s.net.nics_per_leaf = 2;
    topo *t = build_ok(&s);
    if (!t)
        return;
    CHECK_EQ_INT(topo_vertex_count(t), 4 * 23 + 16 + 2);
    CHECK_EQ_INT(topo_link_count(t), 4 * 58 + 2 * 32 + 2 * 16 * 2);
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 0), 16);
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 1), 2);
    for (int l = 0; l < topo_link_count(t); l++)
        if (topo_link_at(t, l)->kind == TOPO_L_NETWORK)
            CHECK_REL(topo_link_at(t, l)->bw_bytes_per_s, NIC_BW, 1e-12);
    CHECK_EQ_INT(attach_of_nic(t, 0, 3), attach_of_nic(t, 1, 3));
    CHECK(attach_of_nic(t, 0, 3) != attach_of_nic(t, 0, 4));
    CHECK(attach_of_nic(t, 0, 3) != attach_of_nic(t, 2, 3));
    int32_t links[TOPO_MAX_ROUTE];
    int n = route_gpus(t, 3, 11, 0, links);   /* rail 3, same group */
    check_kinds(t, links, n, six_hops, 6);
    CHECK_EQ_INT(count_tier(t, links, n, 0), 1);
    CHECK_EQ_INT(count_tier(t, links, n, 1), 0);
    CHECK_EQ_INT(vertex_after(t, links, 2), attach_of_nic(t, 0, 3));
    n = route_gpus(t, 3, 13, 0, links);       /* rail 3 -> rail 5, same group */
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(count_tier(t, links, n, 1), 1);
    CHECK_EQ_INT(vertex_after(t, links, 2), attach_of_nic(t, 0, 3));
    CHECK_EQ_INT(vertex_after(t, links, 4), attach_of_nic(t, 1, 5));
    n = route_gpus(t, 3, 19, 0, links);       /* rail 3 of group 0 -> of group 1 */
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(count_tier(t, links, n, 1), 1);
    CHECK_EQ_INT(vertex_after(t, links, 4), attach_of_nic(t, 2, 3));
    check_all_gpu_routes(t);
    topo_free(t);
}

static int torus_distance(const int dims[3], int a, int b)
{
    int hops = 0, stride = 1;
    for (int d = 0; d < 3; d++) {
        int ca = a / stride % dims[d], cb = b / stride % dims[d];
        int diff = abs(ca - cb);
        hops += diff < dims[d] - diff ? diff : dims[d] - diff;
        stride *= dims[d];
    }
    return hops;
}

/* Router hops of every node pair equal the wraparound Manhattan distance. */
static void check_torus_hops(topo *t, int gpus_per_node)
{
    int dims[3], bad = 0;
    topo_torus_dims(t, dims);
    int32_t links[TOPO_MAX_ROUTE];
    for (int a = 0; a < topo_node_count(t); a++) {
        for (int b = 0; b < topo_node_count(t); b++) {
            if (a == b)
                continue;
            int n = route_gpus(t, a * gpus_per_node, b * gpus_per_node, (uint32_t)a, links);
            bad += count_kind(t, links, n, TOPO_L_NETWORK) != torus_distance(dims, a, b) ||
                   count_kind(t, links, n, TOPO_L_NIC) != 2;
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_torus2d(void)
{
    /* 16 nodes of 2 GPUs / 1 NIC: per node 2 GPU + CPU + PCIe + NVSwitch + NIC = 6
     * vertices, 2 + 1 + 2 + 1 = 6 link pairs */
    sys_system s = system_of(node_type(2, 1, SYS_FABRIC_NVSWITCH), 16, SYS_NET_TORUS2D);
    topo *t = build_ok(&s);   /* dims derived: 4x4 */
    if (!t)
        return;
    int dims[3];
    CHECK_EQ_INT(topo_torus_dims(t, dims), 2);
    CHECK(dims[0] == 4 && dims[1] == 4 && dims[2] == 1);
    CHECK_EQ_INT(topo_vertex_count(t), 16 * 7 + 16);
    CHECK_EQ_INT(count_vertices(t, TOPO_V_ROUTER, -1), 16);
    CHECK_EQ_INT(count_links_of_kind(t, TOPO_L_NETWORK), 2 * 16 * 2);
    CHECK_EQ_INT(topo_link_count(t), 16 * 14 + 2 * 16 + 2 * 32);
    int32_t links[TOPO_MAX_ROUTE];
    int n = route_gpus(t, 0, 30, 0, links);   /* node (0,0) -> node (3,3): wraps both ways */
    CHECK_EQ_INT(count_kind(t, links, n, TOPO_L_NETWORK), 2);
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(topo_route_latency_ps(t, links, n), 4 * PCIE_PS + 2 * NIC_PS + 3 * SWITCH_PS);
    for (int l = 0; l < topo_link_count(t); l++)   /* default: NICs x NIC rate */
        if (topo_link_at(t, l)->kind == TOPO_L_NETWORK)
            CHECK_REL(topo_link_at(t, l)->bw_bytes_per_s, NIC_BW, 1e-12);
    check_torus_hops(t, 2);
    topo_free(t);
    /* 2x8, explicit link rate: a dimension of 2 gets one pair per neighbour couple */
    s.net.torus_dims[0] = 2;
    s.net.link_bw_bytes_per_s = 100e9;
    if (!(t = build_ok(&s)))
        return;
    topo_torus_dims(t, dims);
    CHECK(dims[0] == 2 && dims[1] == 8);
    CHECK_EQ_INT(count_links_of_kind(t, TOPO_L_NETWORK), 2 * (8 + 16));
    for (int l = 0; l < topo_link_count(t); l++)
        if (topo_link_at(t, l)->kind == TOPO_L_NETWORK)
            CHECK_REL(topo_link_at(t, l)->bw_bytes_per_s, 100e9, 1e-12);
    check_torus_hops(t, 2);
    check_all_gpu_routes(t);
    topo_free(t);
}

static void test_torus3d(void)
{
    sys_system s = system_of(node_type(2, 2, SYS_FABRIC_NVSWITCH), 24, SYS_NET_TORUS3D);
    topo *t = build_ok(&s);   /* most cubic shape of 24: 2x3x4 */
    if (!t)
        return;
    int dims[3];
    CHECK_EQ_INT(topo_torus_dims(t, dims), 3);
    CHECK(dims[0] == 2 && dims[1] == 3 && dims[2] == 4);
    /* pairs: dim 2 -> 12, dim 3 -> 24, dim 4 -> 24 */
    CHECK_EQ_INT(count_links_of_kind(t, TOPO_L_NETWORK), 2 * (12 + 24 + 24));
    for (int l = 0; l < topo_link_count(t); l++)   /* 2 NICs x 50e9 */
        if (topo_link_at(t, l)->kind == TOPO_L_NETWORK)
            CHECK_REL(topo_link_at(t, l)->bw_bytes_per_s, 2 * NIC_BW, 1e-12);
    check_torus_hops(t, 2);
    topo_free(t);
    s.groups[0].count = 8;
    if (!(t = build_ok(&s)))
        return;
    topo_torus_dims(t, dims);
    CHECK(dims[0] == 2 && dims[1] == 2 && dims[2] == 2);
    CHECK_EQ_INT(count_links_of_kind(t, TOPO_L_NETWORK), 2 * 12);
    check_torus_hops(t, 2);
    topo_free(t);
    s.groups[0].count = 12;   /* given 3 in the middle: 12 / 3 = 4 split 2x2 */
    s.net.torus_dims[1] = 3;
    if (!(t = build_ok(&s)))
        return;
    topo_torus_dims(t, dims);
    CHECK(dims[0] == 2 && dims[1] == 3 && dims[2] == 2);
    check_torus_hops(t, 2);
    topo_free(t);
}

/* PCIe fabric, 4 GPUs, 2 per switch, NICs 0 (GPUs 0-1) and 1 (GPUs 2-3). */
static void test_pcie_fabric(void)
{
    sys_system s = system_of(node_type(4, 2, SYS_FABRIC_PCIE), 2, SYS_NET_SINGLE_SWITCH);
    topo *t = build_ok(&s);
    if (!t)
        return;
    /* per node: 4 GPU + CPU + 2 PCIe + 2 NIC = 9, pairs 4 + 2 + 2 = 8 */
    CHECK_EQ_INT(topo_vertex_count(t), 2 * 10 + 1);
    CHECK_EQ_INT(topo_link_count(t), 2 * 18 + 2 * 4);
    CHECK_EQ_INT(count_vertices(t, TOPO_V_NVSWITCH, -1), 0);
    CHECK_EQ_INT(count_links_of_kind(t, TOPO_L_NVLINK), 0);
    int32_t links[TOPO_MAX_ROUTE];
    int n = route_gpus(t, 0, 1, 0, links);   /* same PCIe switch */
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 0))->kind, TOPO_V_PCIE_SWITCH);
    n = route_gpus(t, 0, 2, 0, links);       /* switch 0 -> CPU -> switch 1 */
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(count_kind(t, links, n, TOPO_L_PCIE), 4);
    CHECK_EQ_INT(vertex_after(t, links, 1), topo_cpu_vertex(t, 0));
    n = route_gpus(t, 1, 6, 0, links);       /* node 0 NIC 0 -> node 1 NIC 1 */
    check_kinds(t, links, n, six_hops, 6);
    CHECK_EQ_INT(vertex_after(t, links, 1), topo_nic_vertex(t, 0, 0));
    CHECK_EQ_INT(vertex_after(t, links, 3), topo_nic_vertex(t, 1, 1));
    check_all_gpu_routes(t);
    topo_free(t);
}

/* Group 0: 2 DGX nodes (GPUs 0-15); group 1: 1 node of 4 GPUs (16-19). */
static void test_heterogeneous(void)
{
    sys_system s = system_of(dgx(), 2, SYS_NET_FAT_TREE2);
    s.ngroups = 2;
    s.groups[1].node = node_type(4, 4, SYS_FABRIC_NVSWITCH);
    s.groups[1].node.nic_bw_bytes_per_s = 25e9;
    s.groups[1].count = 1;
    topo *t = build_ok(&s);
    if (!t)
        return;
    CHECK_EQ_INT(topo_gpu_count(t), 20);
    CHECK_EQ_INT(topo_node_count(t), 3);
    CHECK_EQ_INT(topo_node_of_gpu(t, 15), 1);
    CHECK_EQ_INT(topo_node_of_gpu(t, 16), 2);
    CHECK_EQ_INT(topo_local_of_gpu(t, 19), 3);
    CHECK_EQ_INT(topo_first_gpu_of_node(t, 2), 16);
    CHECK_EQ_INT(topo_gpus_in_node(t, 2), 4);
    CHECK_EQ_INT(topo_gpus_in_node(t, 0), 8);
    CHECK_EQ_INT(topo_node_type(t, 2)->gpus, 4);
    CHECK(topo_node_type(t, 3) == NULL);
    CHECK_EQ_INT(topo_node_of_gpu(t, 20), -1);
    const topo_vertex *v = topo_vertex_at(t, topo_gpu_vertex(t, 17));
    CHECK(v->kind == TOPO_V_GPU && v->node == 2 && v->index == 1);
    CHECK_EQ_INT(topo_nic_vertex(t, 2, 4), -1);
    /* 20 NICs, 8 per leaf: 3 leaves; node 2's NICs are 16..19, on leaf 2 */
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 0), 3);
    int32_t links[TOPO_MAX_ROUTE];
    int n = route_gpus(t, 17, 3, 0, links);
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(vertex_after(t, links, 1), topo_nic_vertex(t, 2, 1));
    CHECK_EQ_INT(vertex_after(t, links, 5), topo_nic_vertex(t, 0, 3));
    CHECK_REL(topo_link_at(t, links[2])->bw_bytes_per_s, 25e9, 1e-12);
    /* spine links sized by the fastest port: 8 x 50e9 / 8 spines */
    CHECK_REL(topo_link_at(t, links[3])->bw_bytes_per_s, NIC_BW, 1e-12);
    n = route_gpus(t, 16, 19, 0, links);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(count_kind(t, links, n, TOPO_L_NVLINK), 2);
    check_all_gpu_routes(t);
    topo_free(t);
}

static void test_non_gpu_endpoints(void)
{
    sys_system s = system_of(dgx(), 2, SYS_NET_FAT_TREE2);
    s.net.nics_per_leaf = 4;   /* 4 leaves, 4 spines */
    topo *t = build_ok(&s);
    if (!t)
        return;
    int32_t links[TOPO_MAX_ROUTE];
    cs_err err = {""};
    bool nic_seen[8] = {false};
    int distinct = 0;
    for (uint32_t salt = 0; salt < 64; salt++) {
        int n = topo_route(t, topo_cpu_vertex(t, 0), topo_cpu_vertex(t, 1), salt, links,
                           TOPO_MAX_ROUTE, &err);
        CHECK(route_well_formed(t, links, n, topo_cpu_vertex(t, 0), topo_cpu_vertex(t, 1)));
        int nic = topo_vertex_at(t, vertex_after(t, links, 1))->index;
        CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 1))->kind, TOPO_V_NIC);
        if (nic >= 0 && nic < 8 && !nic_seen[nic]) {
            nic_seen[nic] = true;
            distinct++;
        }
    }
    CHECK(distinct > 1);   /* host traffic spreads over the node's NICs */
    /* from a leaf switch to a GPU of node 1, and back */
    int32_t leaf = attach_of_nic(t, 0, 0);
    int n = topo_route(t, leaf, topo_gpu_vertex(t, 9), 0, links, TOPO_MAX_ROUTE, &err);
    CHECK(route_well_formed(t, links, n, leaf, topo_gpu_vertex(t, 9)));
    CHECK_EQ_INT(n, 5);   /* leaf 0 -> spine -> leaf 2 -> NIC 1 -> PCIe -> GPU */
    CHECK_EQ_INT(topo_vertex_at(t, vertex_after(t, links, 0))->tier, 1);
    n = topo_route(t, topo_gpu_vertex(t, 9), leaf, 0, links, TOPO_MAX_ROUTE, &err);
    CHECK(route_well_formed(t, links, n, topo_gpu_vertex(t, 9), leaf));
    CHECK_EQ_INT(n, 5);
    /* NVSwitch has no PCIe links: it cannot reach the network */
    int32_t nvs = -1;
    for (int v = 0; v < topo_vertex_count(t); v++)
        if (topo_vertex_at(t, v)->kind == TOPO_V_NVSWITCH && nvs < 0)
            nvs = v;
    CHECK_EQ_INT(topo_route(t, nvs, leaf, 0, links, TOPO_MAX_ROUTE, &err), -1);
    CHECK_STR_CONTAINS(err.msg, "NVSwitch");
    topo_free(t);
}

/* Host DRAM sits behind the CPU: GPU -> PCIe switch -> CPU -> DRAM, the last
 * hop a memory link at the node's host memory bandwidth. */
static void test_host_memory(void)
{
    sys_system s = system_of(dgx(), 1, SYS_NET_SINGLE_SWITCH);
    topo *t = build_ok(&s);
    if (!t)
        return;
    int32_t links[TOPO_MAX_ROUTE];
    cs_err err = {""};
    int mem = topo_hostmem_vertex(t, 0);
    CHECK_EQ_INT(topo_vertex_at(t, mem)->kind, TOPO_V_HOSTMEM);
    int n = topo_route(t, topo_gpu_vertex(t, 5), mem, 0, links, TOPO_MAX_ROUTE, &err);
    CHECK_EQ_INT(n, 3);
    CHECK(route_well_formed(t, links, n, topo_gpu_vertex(t, 5), mem));
    if (n == 3) {
        CHECK_EQ_INT(topo_link_at(t, links[2])->kind, TOPO_L_MEMORY);
        CHECK_REL(topo_link_at(t, links[2])->bw_bytes_per_s, 400e9, 1e-12);
        CHECK_EQ_INT(topo_link_at(t, links[0])->kind, TOPO_L_PCIE);
    }
    n = topo_route(t, mem, topo_gpu_vertex(t, 0), 0, links, TOPO_MAX_ROUTE, &err);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(topo_hostmem_vertex(t, 1), -1);
    topo_free(t);
}

static void test_errors(void)
{
    cs_err err = {""};
    topo *t = NULL;
    sys_system s = system_of(node_type(2, 1, SYS_FABRIC_NVSWITCH), 15, SYS_NET_TORUS2D);
    s.net.torus_dims[0] = s.net.torus_dims[1] = 4;
    CHECK_EQ_INT(topo_build(&s, &t, &err), -1);
    CHECK(t == NULL);
    CHECK_STR_CONTAINS(err.msg, "4x4");
    CHECK_STR_CONTAINS(err.msg, "15 nodes");
    s.net.torus_dims[1] = 0;   /* 15 is no multiple of 4 */
    CHECK_EQ_INT(topo_build(&s, &t, &err), -1);
    CHECK_STR_CONTAINS(err.msg, "torus");
    s = system_of(node_type(2, 1, SYS_FABRIC_NVSWITCH), 400, SYS_NET_TORUS2D);
    s.net.torus_dims[0] = 2;   /* 2x200: 100 hops one way */
    CHECK_EQ_INT(topo_build(&s, &t, &err), -1);
    CHECK_STR_CONTAINS(err.msg, "TOPO_MAX_ROUTE");
    s = system_of(dgx(), 2, SYS_NET_SINGLE_SWITCH);
    s.groups[0].node.nic_of_gpu[3] = 8;
    CHECK_EQ_INT(topo_build(&s, &t, &err), -1);
    CHECK(err.msg[0] != '\0');
    s = system_of(dgx(), 2, SYS_NET_FAT_TREE2);
    s.net.nics_per_leaf = 0;
    err.msg[0] = '\0';
    CHECK_EQ_INT(topo_build(&s, &t, &err), -1);
    CHECK(err.msg[0] != '\0');
    s = system_of(dgx(), 2, SYS_NET_SINGLE_SWITCH);
    s.groups[0].node.nics = 0;
    err.msg[0] = '\0';
    CHECK_EQ_INT(topo_build(&s, &t, &err), -1);
    CHECK(err.msg[0] != '\0');
    CHECK(t == NULL);
}

static void test_route_errors(void)
{
    sys_system s = system_of(dgx(), 2, SYS_NET_SINGLE_SWITCH);
    topo *t = build_ok(&s);
    if (!t)
        return;
    cs_err err = {""};
    int32_t links[TOPO_MAX_ROUTE];
    CHECK_EQ_INT(topo_route_gpus(t, 0, 16, 0, links, TOPO_MAX_ROUTE, &err), -1);
    CHECK_STR_CONTAINS(err.msg, "GPU 16 out of range");
    CHECK_STR_CONTAINS(err.msg, "16 GPUs");
    CHECK_EQ_INT(topo_route_gpus(t, -1, 3, 0, links, TOPO_MAX_ROUTE, &err), -1);
    CHECK_STR_CONTAINS(err.msg, "GPU -1");
    CHECK_EQ_INT(topo_route(t, 0, topo_vertex_count(t), 0, links, TOPO_MAX_ROUTE, &err), -1);
    CHECK_STR_CONTAINS(err.msg, "out of range");
    CHECK_EQ_INT(topo_route_gpus(t, 0, 8, 0, links, 5, &err), -1);   /* needs 6 */
    CHECK_STR_CONTAINS(err.msg, "max_links = 5");
    CHECK_EQ_INT(topo_route_gpus(t, 0, 8, 0, links, 6, &err), 6);
    topo_free(t);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    timespec_get(&t1, TIME_UTC);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* DGX H100 SuperPOD-like: 2048 nodes x 8 GPUs, 32 nodes per rail group.
 * g -> g + 8 is the next node's GPU on the same rail: one rail switch inside
 * a group, rail -> spine -> rail across groups. */
static void test_rail_16k_gpus(void)
{
    sys_system s = system_of(dgx(), 2048, SYS_NET_RAIL);
    s.net.nics_per_leaf = 32;
    struct timespec t0;
    timespec_get(&t0, TIME_UTC);
    topo *t = build_ok(&s);
    double build_s = seconds_since(&t0);
    if (!t)
        return;
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 0), 64 * 8);
    CHECK_EQ_INT(count_vertices(t, TOPO_V_SWITCH, 1), 32);
    int ngpus = topo_gpu_count(t), bad = 0, cross = 0;
    int32_t links[TOPO_MAX_ROUTE];
    timespec_get(&t0, TIME_UTC);
    for (int g = 0; g < ngpus; g++) {
        int n = route_gpus(t, g, (g + 8) % ngpus, 0, links);
        bool crosses_group = (g / 8) % 32 == 31;
        cross += crosses_group;
        bad += n != (crosses_group ? 8 : 6);
    }
    double route_s = seconds_since(&t0);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(cross, 64 * 8);
    timespec_get(&t0, TIME_UTC);   /* again, with every distance map cached */
    for (int g = 0; g < ngpus; g++)
        bad += route_gpus(t, g, (g + 8) % ngpus, 1, links) < 0;
    double warm_s = seconds_since(&t0);
    CHECK_EQ_INT(bad, 0);
    printf("# 2048-node rail: %d vertices, %d links; build %.1f ms; %d routes %.1f ms cold, "
           "%.1f ms warm (%.2f us/route)\n", topo_vertex_count(t), topo_link_count(t),
           build_s * 1e3, ngpus, route_s * 1e3, warm_s * 1e3, warm_s * 1e6 / ngpus);
    topo_free(t);
}

TAP_MAIN({"single switch: counts and a 6-link route", test_single_switch},
         {"host memory behind the CPU's memory link", test_host_memory},
         {"same node: NVLink through the NVSwitch", test_same_node_nvlink},
         {"NIC placement and nic_of_gpu", test_nic_placement},
         {"fat-tree2: counts, oversubscribed spines, route", test_fat_tree2},
         {"fat-tree2: shared leaf needs no spine", test_fat_tree2_shared_leaf},
         {"ECMP: deterministic, spread over spines", test_ecmp},
         {"fat-tree3: pods and core", test_fat_tree3},
         {"fat-tree3: oversubscribed bandwidths", test_fat_tree3_bandwidth},
         {"rail: same rail one switch, cross rail via spine", test_rail},
         {"torus2d: wraparound hop counts", test_torus2d},
         {"torus3d: derived shapes and hop counts", test_torus3d},
         {"PCIe fabric routes", test_pcie_fabric},
         {"heterogeneous groups: numbering and routes", test_heterogeneous},
         {"CPU and switch endpoints", test_non_gpu_endpoints},
         {"build errors", test_errors},
         {"route errors", test_route_errors},
         {"2048-node rail: build and route 16,384 pairs", test_rail_16k_gpus});
