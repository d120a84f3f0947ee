/* topo: the link graph of a system, and shortest-path routes over it.
 *
 * Build: each node's vertices (GPUs, host CPU, PCIe switches, NVSwitch, NICs)
 * and links are added node by node, then the scale-out network's switches or
 * torus routers; finally the adjacency is frozen into compressed out- and
 * in-lists.  Vertices and links live in growable arrays, so later work (memory
 * tiers) can add vertices and links before the freeze.
 *
 * Routing splits a route into up to three parts: inside the source node (a
 * breadth-first search over that node's few vertices, per call), across the
 * network (hop distances to the destination's attachment switch, computed
 * once per destination and cached), and inside the destination node.  Node
 * vertices are never transit points of the network part, so traffic between
 * two nodes never cuts through a third node's PCIe tree. */
#include "topo.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Network distance maps are cached up to this many bytes: one map per
 * destination switch fits for any realistic switched fabric, and a huge torus
 * falls back to recomputing instead of growing without bound. */
#define DIST_CACHE_BYTES ((size_t)64 << 20)
#define DIST_NONE UINT16_MAX
/* Keeps every vertex and link id well inside int32. */
#define MAX_NODES (1 << 20)
/* Longest path inside a node between a GPU and a NIC:
 * GPU -> PCIe switch -> CPU -> PCIe switch -> NIC. */
#define MAX_INTRA_HOPS 4

typedef struct dist_slot {
    int32_t dst_net;   /* net index the map holds distances to; -1 empty */
    uint16_t *hops;    /* hops from every net vertex to dst_net */
} dist_slot;

struct topo {
    sys_system sys;
    int nnodes, ngpus, nnics;
    int torus_ndims, torus_dims[3];
    int tier_switches[3];          /* switches added so far per tier (their index) */

    int32_t *node_group;           /* [nnodes] */
    int32_t *node_first_gpu;       /* [nnodes + 1] global GPU numbers */
    int32_t *node_first_nic;       /* [nnodes + 1] global NIC numbers */
    int32_t *node_cpu, *node_hostmem, *node_nvswitch; /* vertex ids, nvswitch -1 when none */
    int32_t *gpu_node, *gpu_vertex;      /* [ngpus] */
    int32_t *nic_vertex, *nic_attach;    /* [nnics] attach: switch/router, -1 none */
    int32_t *nic_up_link, *nic_down_link;

    topo_vertex *verts;
    int32_t nverts, verts_cap;
    topo_link *links;
    int32_t nlinks, links_cap;
    bool oom;                      /* sticky: an append failed during build */

    int32_t *out_off, *out_link, *in_off, *in_link;   /* frozen adjacency */

    int32_t *net_index;            /* [nverts] switch/router -> 0..nnet-1, else -1 */
    int32_t nnet;
    int32_t *net_queue;
    dist_slot *slots;
    int32_t nslots;

    /* Scratch for per-call searches inside a node; stamps avoid clearing. */
    uint32_t stamp_now;
    uint32_t *stamp;
    int32_t *hops, *queue;
};

/* ---------------------------------------------------------------- graph */

static int32_t add_vertex(topo *t, topo_vkind kind, int32_t node, int32_t index, int32_t tier)
{
    if (t->oom)
        return -1;
    if (t->nverts == t->verts_cap) {
        int32_t cap = t->verts_cap ? t->verts_cap * 2 : 256;
        topo_vertex *v = cap > 0 ? realloc(t->verts, (size_t)cap * sizeof *v) : NULL;
        if (!v) {
            t->oom = true;
            return -1;
        }
        t->verts = v;
        t->verts_cap = cap;
    }
    t->verts[t->nverts] = (topo_vertex){kind, node, index, tier};
    return t->nverts++;
}

static int32_t add_link(topo *t, int32_t src, int32_t dst, topo_lkind kind,
                        double bw_bytes_per_s, uint64_t latency_ps)
{
    if (t->oom || src < 0 || dst < 0)
        return -1;
    if (t->nlinks == t->links_cap) {
        int32_t cap = t->links_cap < INT32_MAX / 2 ? (t->links_cap ? t->links_cap * 2 : 1024) : -1;
        topo_link *l = cap > 0 ? realloc(t->links, (size_t)cap * sizeof *l) : NULL;
        if (!l) {
            t->oom = true;
            return -1;
        }
        t->links = l;
        t->links_cap = cap;
    }
    t->links[t->nlinks] = (topo_link){src, dst, bw_bytes_per_s, latency_ps, kind};
    return t->nlinks++;
}

/* A full-duplex connection: link a->b, then b->a (id + 1), each with the
 * full per-direction bandwidth.  Returns the a->b id. */
static int32_t add_pair(topo *t, int32_t a, int32_t b, topo_lkind kind,
                        double bw_bytes_per_s, uint64_t lat_ab_ps, uint64_t lat_ba_ps)
{
    int32_t ab = add_link(t, a, b, kind, bw_bytes_per_s, lat_ab_ps);
    add_link(t, b, a, kind, bw_bytes_per_s, lat_ba_ps);
    return ab;
}

static int32_t add_switch(topo *t, int tier)
{
    return add_vertex(t, TOPO_V_SWITCH, -1, t->tier_switches[tier]++, tier);
}

static bool is_host_kind(topo_vkind kind)
{
    return kind != TOPO_V_SWITCH && kind != TOPO_V_ROUTER;
}

static int ceil_div(int a, int b)
{
    return (a + b - 1) / b;
}

static const sys_node_type *type_of_node(const topo *t, int node)
{
    return &t->sys.groups[t->node_group[node]].node;
}

/* ------------------------------------------------------------ checking */

static int check_nics(const sys_node_type *nt, int group, int nnodes, cs_err *err)
{
    if (nt->nics < 0 || nt->nics > SYS_MAX_NICS_PER_NODE)
        return cs_fail(err, "node type '%s' (group %d): %d NICs per node; valid is 0..%d",
                       nt->name, group, nt->nics, SYS_MAX_NICS_PER_NODE);
    if (nt->nics == 0) {
        if (nnodes > 1)
            return cs_fail(err, "node type '%s' (group %d) has no NICs, but the system has %d "
                           "nodes: every node needs at least one NIC to reach the others",
                           nt->name, group, nnodes);
        return 0;
    }
    if (!(nt->nic_bw_bytes_per_s > 0))
        return cs_fail(err, "node type '%s' (group %d): NIC bandwidth %g B/s; it must be > 0",
                       nt->name, group, nt->nic_bw_bytes_per_s);
    for (int i = 0; i < nt->gpus; i++)
        if (nt->nic_of_gpu[i] < 0 || nt->nic_of_gpu[i] >= nt->nics)
            return cs_fail(err, "node type '%s' (group %d): nic_of_gpu[%d] = %d; valid is 0..%d "
                           "(the node has %d NICs)", nt->name, group, i, nt->nic_of_gpu[i],
                           nt->nics - 1, nt->nics);
    return 0;
}

/* What this module relies on, checked here too so that topo never builds a
 * broken graph whatever sys_validate lets through. */
static int check_node_type(const sys_node_type *nt, int group, int nnodes, cs_err *err)
{
    if (nt->gpus < 1 || nt->gpus > SYS_MAX_GPUS_PER_NODE)
        return cs_fail(err, "node type '%s' (group %d): %d GPUs per node; valid is 1..%d",
                       nt->name, group, nt->gpus, SYS_MAX_GPUS_PER_NODE);
    if (nt->gpus_per_pcie_switch < 1)
        return cs_fail(err, "node type '%s' (group %d): gpus_per_pcie_switch = %d; valid is >= 1",
                       nt->name, group, nt->gpus_per_pcie_switch);
    if (nt->fabric != SYS_FABRIC_NVSWITCH && nt->fabric != SYS_FABRIC_PCIE)
        return cs_fail(err, "node type '%s' (group %d): unknown fabric %d; valid are NVSwitch "
                       "and PCIe", nt->name, group, (int)nt->fabric);
    if (!(nt->pcie_bw_bytes_per_s > 0))
        return cs_fail(err, "node type '%s' (group %d): PCIe bandwidth %g B/s; it must be > 0",
                       nt->name, group, nt->pcie_bw_bytes_per_s);
    if (nt->fabric == SYS_FABRIC_NVSWITCH && !(nt->nvlink_bw_bytes_per_s > 0))
        return cs_fail(err, "node type '%s' (group %d): NVSwitch fabric with NVLink bandwidth "
                       "%g B/s; it must be > 0", nt->name, group, nt->nvlink_bw_bytes_per_s);
    return check_nics(nt, group, nnodes, err);
}

static int check_network(const sys_network *net, cs_err *err)
{
    switch (net->kind) {
    case SYS_NET_SINGLE_SWITCH:
    case SYS_NET_TORUS2D:
    case SYS_NET_TORUS3D:
        break;
    case SYS_NET_FAT_TREE3:
        if (net->leaves_per_pod < 1)
            return cs_fail(err, "fat-tree3 network: leaves_per_pod = %d; valid is >= 1",
                           net->leaves_per_pod);
        /* fall through */
    case SYS_NET_FAT_TREE2:
    case SYS_NET_RAIL:
        if (net->nics_per_leaf < 1)
            return cs_fail(err, "%s network: nics_per_leaf = %d; valid is >= 1 (NIC ports per "
                           "leaf, or nodes per rail group)", sys_net_kind_name(net->kind),
                           net->nics_per_leaf);
        if (!(net->oversubscription > 0) || !isfinite(net->oversubscription))
            return cs_fail(err, "%s network: oversubscription %g; valid is a finite ratio > 0 "
                           "(1 = non-blocking)", sys_net_kind_name(net->kind),
                           net->oversubscription);
        break;
    default:
        return cs_fail(err, "unknown network kind %d; valid are single-switch, fat-tree2, "
                       "fat-tree3, rail, torus2d and torus3d", (int)net->kind);
    }
    if (!(net->link_bw_bytes_per_s >= 0) || !isfinite(net->link_bw_bytes_per_s))
        return cs_fail(err, "network link bandwidth %g B/s; valid is >= 0 (0 = the NIC rate)",
                       net->link_bw_bytes_per_s);
    return 0;
}

/* Splits n into k <= 3 ascending factors with the smallest sum: the most
 * square (k = 2) or cubic (k = 3) shape. */
static void balanced_factors(int n, int k, int f[3])
{
    f[0] = f[1] = f[2] = 1;
    if (k == 1) {
        f[0] = n;
    } else if (k == 2) {
        for (int d = 1; (long long)d * d <= n; d++)
            if (n % d == 0)
                f[0] = d;
        f[1] = n / f[0];
    } else if (k == 3) {
        long long best = LLONG_MAX;
        for (int a = 1; (long long)a * a * a <= n; a++) {
            if (n % a)
                continue;
            int m = n / a;
            for (int b = a; (long long)b * b <= m; b++) {
                if (m % b == 0 && (long long)a + b + m / b < best) {
                    best = (long long)a + b + m / b;
                    f[0] = a, f[1] = b, f[2] = m / b;
                }
            }
        }
    }
}

static int torus_shape_fail(const int given[3], int ndims, int nnodes, cs_err *err)
{
    char shape[64];
    if (ndims == 2)
        snprintf(shape, sizeof shape, "%dx%d", given[0], given[1]);
    else
        snprintf(shape, sizeof shape, "%dx%dx%d", given[0], given[1], given[2]);
    return cs_fail(err, "torus%dd: torus_dims %s do not fit the system's %d nodes; give dims "
                   "whose product is %d, or 0 for a dimension to derive it", ndims, shape,
                   nnodes, nnodes);
}

/* Resolves net.torus_dims against the node count: zeros are derived from the
 * nodes left over, most balanced first. */
static int torus_shape(topo *t, cs_err *err)
{
    const int *given = t->sys.net.torus_dims;
    int ndims = t->sys.net.kind == SYS_NET_TORUS2D ? 2 : 3;
    long long known = 1;
    int unknown = 0, f[3], next = 0;
    if (ndims == 2 && given[2] > 1)
        return cs_fail(err, "torus2d: torus_dims[2] = %d; a 2D torus takes two dims (leave the "
                       "third 0 or 1)", given[2]);
    for (int d = 0; d < ndims; d++) {
        if (given[d] < 0)
            return cs_fail(err, "torus%dd: torus_dims[%d] = %d; valid is >= 1, or 0 to derive",
                           ndims, d, given[d]);
        if (given[d] > 0 && (known *= given[d]) > t->nnodes)
            return torus_shape_fail(given, ndims, t->nnodes, err);
        unknown += given[d] == 0;
    }
    if (t->nnodes % known != 0 || (unknown == 0 && known != t->nnodes))
        return torus_shape_fail(given, ndims, t->nnodes, err);
    balanced_factors(t->nnodes / (int)known, unknown, f);
    t->torus_ndims = ndims;
    t->torus_dims[0] = t->torus_dims[1] = t->torus_dims[2] = 1;
    for (int d = 0; d < ndims; d++)
        t->torus_dims[d] = given[d] > 0 ? given[d] : f[next++];
    int diameter = 2 * (MAX_INTRA_HOPS + 1);
    for (int d = 0; d < ndims; d++)
        diameter += t->torus_dims[d] / 2;
    if (diameter > TOPO_MAX_ROUTE)
        return cs_fail(err, "torus%dd %dx%dx%d: its longest route would take %d links, more than "
                       "TOPO_MAX_ROUTE (%d); use a more balanced shape (0 dims derive one)",
                       ndims, t->torus_dims[0], t->torus_dims[1], t->torus_dims[2], diameter,
                       TOPO_MAX_ROUTE);
    return 0;
}

static int check_system(topo *t, cs_err *err)
{
    const sys_system *sys = &t->sys;
    if (sys->ngroups < 1 || sys->ngroups > SYS_MAX_GROUPS)
        return cs_fail(err, "system '%s': %d node groups; valid is 1..%d", sys->name,
                       sys->ngroups, SYS_MAX_GROUPS);
    long long nodes = 0;
    for (int g = 0; g < sys->ngroups; g++) {
        if (sys->groups[g].count < 0)
            return cs_fail(err, "system '%s': group %d has %d nodes; valid is >= 0", sys->name,
                           g, sys->groups[g].count);
        nodes += sys->groups[g].count;
    }
    if (nodes < 1 || nodes > MAX_NODES)
        return cs_fail(err, "system '%s': %lld nodes; valid is 1..%d", sys->name, nodes,
                       MAX_NODES);
    t->nnodes = (int)nodes;
    for (int g = 0; g < sys->ngroups; g++)
        if (sys->groups[g].count > 0 && check_node_type(&sys->groups[g].node, g, t->nnodes, err))
            return -1;
    if (check_network(&sys->net, err))
        return -1;
    if (sys->net.kind == SYS_NET_TORUS2D || sys->net.kind == SYS_NET_TORUS3D)
        return torus_shape(t, err);
    return 0;
}

/* ------------------------------------------------------------- nodes */

static int alloc_tables(topo *t)
{
    size_t nodes = (size_t)t->nnodes;
    t->node_group = calloc(nodes, sizeof(int32_t));
    t->node_first_gpu = calloc(nodes + 1, sizeof(int32_t));
    t->node_first_nic = calloc(nodes + 1, sizeof(int32_t));
    t->node_cpu = calloc(nodes, sizeof(int32_t));
    t->node_hostmem = calloc(nodes, sizeof(int32_t));
    t->node_nvswitch = calloc(nodes, sizeof(int32_t));
    if (!t->node_group || !t->node_first_gpu || !t->node_first_nic || !t->node_cpu ||
        !t->node_hostmem || !t->node_nvswitch)
        return -1;
    int node = 0;
    for (int g = 0; g < t->sys.ngroups; g++) {
        const sys_node_type *nt = &t->sys.groups[g].node;
        for (int k = 0; k < t->sys.groups[g].count; k++, node++) {
            t->node_group[node] = g;
            t->node_first_gpu[node + 1] = t->node_first_gpu[node] + nt->gpus;
            t->node_first_nic[node + 1] = t->node_first_nic[node] + nt->nics;
        }
    }
    t->ngpus = t->node_first_gpu[t->nnodes];
    t->nnics = t->node_first_nic[t->nnodes];
    size_t gpus = (size_t)t->ngpus, nics = (size_t)t->nnics + 1;
    t->gpu_node = calloc(gpus, sizeof(int32_t));
    t->gpu_vertex = calloc(gpus, sizeof(int32_t));
    t->nic_vertex = calloc(nics, sizeof(int32_t));
    t->nic_attach = malloc(nics * sizeof(int32_t));
    t->nic_up_link = malloc(nics * sizeof(int32_t));
    t->nic_down_link = malloc(nics * sizeof(int32_t));
    if (!t->gpu_node || !t->gpu_vertex || !t->nic_vertex || !t->nic_attach ||
        !t->nic_up_link || !t->nic_down_link)
        return -1;
    for (size_t i = 0; i < nics; i++)
        t->nic_attach[i] = t->nic_up_link[i] = t->nic_down_link[i] = -1;
    return 0;
}

/* PCIe switch of NIC j: the one of the first GPU that uses it, so GPU and
 * NIC traffic shares a switch as in a DGX; otherwise spread round-robin. */
static int nic_pcie_switch(const sys_node_type *nt, int nic, int nswitches)
{
    for (int i = 0; i < nt->gpus; i++)
        if (nt->nic_of_gpu[i] == nic)
            return i / nt->gpus_per_pcie_switch;
    return nic % nswitches;
}

static void build_node(topo *t, int node)
{
    const sys_node_type *nt = type_of_node(t, node);
    int per_sw = nt->gpus_per_pcie_switch, nsw = ceil_div(nt->gpus, per_sw);
    int32_t gpu0 = t->node_first_gpu[node];
    for (int i = 0; i < nt->gpus; i++) {
        t->gpu_vertex[gpu0 + i] = add_vertex(t, TOPO_V_GPU, node, i, 0);
        t->gpu_node[gpu0 + i] = node;
    }
    int32_t cpu = add_vertex(t, TOPO_V_CPU, node, 0, 0);
    t->node_cpu[node] = cpu;
    /* DRAM hangs off the CPU so that offload traffic contends for memory bandwidth. */
    t->node_hostmem[node] = add_vertex(t, TOPO_V_HOSTMEM, node, 0, 0);
    add_pair(t, cpu, t->node_hostmem[node], TOPO_L_MEMORY, nt->host_mem_bw_bytes_per_s, 0, 0);
    int32_t pcie0 = t->nverts;
    for (int s = 0; s < nsw; s++)
        add_pair(t, add_vertex(t, TOPO_V_PCIE_SWITCH, node, s, 0), cpu, TOPO_L_PCIE,
                 nt->pcie_bw_bytes_per_s, nt->pcie_latency_ps, nt->pcie_latency_ps);
    for (int i = 0; i < nt->gpus; i++)
        add_pair(t, t->gpu_vertex[gpu0 + i], pcie0 + i / per_sw, TOPO_L_PCIE,
                 nt->pcie_bw_bytes_per_s, nt->pcie_latency_ps, nt->pcie_latency_ps);
    t->node_nvswitch[node] = -1;
    if (nt->fabric == SYS_FABRIC_NVSWITCH) {
        int32_t nvs = add_vertex(t, TOPO_V_NVSWITCH, node, 0, 0);
        t->node_nvswitch[node] = nvs;
        for (int i = 0; i < nt->gpus; i++)
            add_pair(t, t->gpu_vertex[gpu0 + i], nvs, TOPO_L_NVLINK,
                     nt->nvlink_bw_bytes_per_s * (nt->nvlink_eff > 0 ? nt->nvlink_eff : 1),
                     nt->nvlink_latency_ps, nt->nvlink_latency_ps);
    }
    for (int j = 0; j < nt->nics; j++) {
        int32_t nic = add_vertex(t, TOPO_V_NIC, node, j, 0);
        t->nic_vertex[t->node_first_nic[node] + j] = nic;
        add_pair(t, nic, pcie0 + nic_pcie_switch(nt, j, nsw), TOPO_L_PCIE,
                 nt->pcie_bw_bytes_per_s, nt->pcie_latency_ps, nt->pcie_latency_ps);
    }
}

/* ----------------------------------------------------------- network */

/* NIC <-> its first switch or router.  The switch's traversal latency rides
 * on its out-link toward the NIC, so every switch crossed is counted once. */
static void attach_nic(topo *t, int32_t nic, int32_t sw)
{
    if (t->oom)
        return;
    const sys_node_type *nt = type_of_node(t, t->verts[t->nic_vertex[nic]].node);
    t->nic_attach[nic] = sw;
    t->nic_up_link[nic] = add_pair(t, t->nic_vertex[nic], sw, TOPO_L_NIC, nt->nic_bw_bytes_per_s,
                                   nt->nic_latency_ps,
                                   nt->nic_latency_ps + t->sys.net.switch_latency_ps);
    t->nic_down_link[nic] = t->nic_up_link[nic] + 1;
}

/* Switch port speed: the fastest NIC, so a leaf of a mixed system is sized
 * for its fastest port (its down-capacity is ports x this). */
static double port_bw_bytes_per_s(const topo *t)
{
    double bw = 0;
    for (int g = 0; g < t->sys.ngroups; g++) {
        const sys_group *grp = &t->sys.groups[g];
        if (grp->count > 0 && grp->node.nics > 0 && grp->node.nic_bw_bytes_per_s > bw)
            bw = grp->node.nic_bw_bytes_per_s;
    }
    return bw;
}

static int upper_count(int ports_down, double oversub)
{
    double n = round(ports_down / oversub);
    return n < 1 ? 1 : n > ports_down ? ports_down : (int)n;
}

/* Adds the tier above ndown switches (ids first_down..) that each have
 * ports_down down-ports of bw_down: round(ports_down / oversub) switches
 * (1..ports_down) and a link pair from every lower switch to every upper one,
 * sized so a lower switch's up-capacity is its down-capacity / oversub.
 * Returns the per-link bandwidth; *first_up gets the first new switch. */
static double connect_up(topo *t, int32_t first_down, int ndown, int ports_down,
                         double bw_down, int tier, int32_t *first_up)
{
    double oversub = t->sys.net.oversubscription;
    uint64_t lat_ps = t->sys.net.switch_latency_ps;
    int nup = upper_count(ports_down, oversub);
    double bw = ports_down * bw_down / (oversub * nup);
    *first_up = t->nverts;
    for (int u = 0; u < nup; u++)
        add_switch(t, tier);
    for (int d = 0; d < ndown; d++)
        for (int u = 0; u < nup; u++)
            add_pair(t, first_down + d, *first_up + u, TOPO_L_NETWORK, bw, lat_ps, lat_ps);
    return bw;
}

static void net_single_switch(topo *t)
{
    int32_t sw = add_switch(t, 0);
    for (int nic = 0; nic < t->nnics; nic++)
        attach_nic(t, nic, sw);
}

/* Leaves in global NIC order; returns the first leaf's id. */
static int32_t add_leaves(topo *t, int nleaves)
{
    int npl = t->sys.net.nics_per_leaf;
    int32_t leaf0 = t->nverts;
    for (int l = 0; l < nleaves; l++)
        add_switch(t, 0);
    for (int nic = 0; nic < t->nnics; nic++)
        attach_nic(t, nic, leaf0 + nic / npl);
    return leaf0;
}

static void net_fat_tree2(topo *t)
{
    int npl = t->sys.net.nics_per_leaf, nleaves = ceil_div(t->nnics, npl);
    int32_t leaf0 = add_leaves(t, nleaves), spine0;
    if (nleaves > 1)
        connect_up(t, leaf0, nleaves, npl, port_bw_bytes_per_s(t), 1, &spine0);
}

/* Per pod, aggregation switches above its leaves; above all aggregation
 * switches, core switches whose links give each pod an up-capacity of its
 * aggregation tier's down-capacity / oversubscription. */
static void net_fat_tree3(topo *t)
{
    int npl = t->sys.net.nics_per_leaf, lpp = t->sys.net.leaves_per_pod;
    int nleaves = ceil_div(t->nnics, npl), npods = ceil_div(nleaves, lpp);
    int32_t leaf0 = add_leaves(t, nleaves), agg0 = t->nverts, first;
    if (nleaves == 1)
        return;
    double leaf_agg_bw = 0;
    for (int p = 0; p < npods; p++) {
        int in_pod = p == npods - 1 ? nleaves - p * lpp : lpp;
        leaf_agg_bw = connect_up(t, leaf0 + p * lpp, in_pod, npl, port_bw_bytes_per_s(t), 1,
                                 &first);
    }
    if (npods > 1)
        connect_up(t, agg0, t->nverts - agg0, lpp, leaf_agg_bw, 2, &first);
}

static int nics_of_node(const topo *t, int node)
{
    return t->node_first_nic[node + 1] - t->node_first_nic[node];
}

/* Rail groups of nics_per_leaf nodes; per group one rail switch per NIC
 * index; spines above when there is more than one rail switch. */
static void net_rail(topo *t)
{
    int per_group = t->sys.net.nics_per_leaf, nrails = 0;
    int32_t rail0 = t->nverts, spine0;
    for (int n0 = 0; n0 < t->nnodes; n0 += per_group) {
        int n1 = n0 + per_group < t->nnodes ? n0 + per_group : t->nnodes, rails = 0;
        for (int n = n0; n < n1; n++)
            rails = nics_of_node(t, n) > rails ? nics_of_node(t, n) : rails;
        int32_t base = t->nverts;
        for (int j = 0; j < rails; j++)
            add_switch(t, 0);
        for (int n = n0; n < n1; n++)
            for (int j = 0; j < nics_of_node(t, n); j++)
                attach_nic(t, t->node_first_nic[n] + j, base + j);
        nrails += rails;
    }
    if (nrails > 1)
        connect_up(t, rail0, nrails, per_group, port_bw_bytes_per_s(t), 1, &spine0);
}

static double torus_link_bw(const topo *t)
{
    if (t->sys.net.link_bw_bytes_per_s > 0)
        return t->sys.net.link_bw_bytes_per_s;
    double bw = 0;
    for (int g = 0; g < t->sys.ngroups; g++) {
        const sys_group *grp = &t->sys.groups[g];
        double node_bw = grp->node.nics * grp->node.nic_bw_bytes_per_s;
        if (grp->count > 0 && node_bw > bw)
            bw = node_bw;
    }
    return bw;
}

/* One router per node (x fastest: node = x + X * (y + Y * z)), linked to its
 * +1 neighbour in each dimension with wraparound; that also covers the -1
 * neighbours.  A dimension of 2 gets one pair, not two to the same node. */
static void net_torus(topo *t)
{
    const int *dims = t->torus_dims;
    uint64_t lat_ps = t->sys.net.switch_latency_ps;
    double bw = torus_link_bw(t);
    int32_t router0 = t->nverts;
    for (int n = 0; n < t->nnodes; n++) {
        add_vertex(t, TOPO_V_ROUTER, n, n, 0);
        for (int j = 0; j < nics_of_node(t, n); j++)
            attach_nic(t, t->node_first_nic[n] + j, router0 + n);
    }
    for (int n = 0; n < t->nnodes; n++) {
        int c[3] = {n % dims[0], n / dims[0] % dims[1], n / (dims[0] * dims[1])};
        for (int d = 0; d < 3; d++) {
            if (dims[d] == 1 || (dims[d] == 2 && c[d] == 1))
                continue;
            int nc[3] = {c[0], c[1], c[2]};
            nc[d] = (c[d] + 1) % dims[d];
            int m = nc[0] + dims[0] * (nc[1] + dims[1] * nc[2]);
            add_pair(t, router0 + n, router0 + m, TOPO_L_NETWORK, bw, lat_ps, lat_ps);
        }
    }
}

static void build_network(topo *t)
{
    if (t->nnics == 0)   /* a lone node without NICs: nothing to reach */
        return;
    switch (t->sys.net.kind) {
    case SYS_NET_SINGLE_SWITCH: net_single_switch(t); break;
    case SYS_NET_FAT_TREE2: net_fat_tree2(t); break;
    case SYS_NET_FAT_TREE3: net_fat_tree3(t); break;
    case SYS_NET_RAIL: net_rail(t); break;
    case SYS_NET_TORUS2D:
    case SYS_NET_TORUS3D: net_torus(t); break;
    }
}

/* ------------------------------------------------------------ freeze */

/* Compressed adjacency: off[v]..off[v+1] index ids[], links in id order so
 * that ECMP choices do not depend on anything but the graph. */
static int build_csr(topo *t, bool incoming, int32_t **off_out, int32_t **ids_out)
{
    int32_t *off = calloc((size_t)t->nverts + 1, sizeof *off);
    int32_t *ids = malloc(((size_t)t->nlinks + 1) * sizeof *ids);
    *off_out = off;
    *ids_out = ids;
    if (!off || !ids)
        return -1;
    for (int32_t l = 0; l < t->nlinks; l++)
        off[(incoming ? t->links[l].dst : t->links[l].src) + 1]++;
    for (int32_t v = 0; v < t->nverts; v++)
        off[v + 1] += off[v];
    int32_t *fill = malloc(((size_t)t->nverts + 1) * sizeof *fill);
    if (!fill)
        return -1;
    memcpy(fill, off, ((size_t)t->nverts + 1) * sizeof *fill);
    for (int32_t l = 0; l < t->nlinks; l++)
        ids[fill[incoming ? t->links[l].dst : t->links[l].src]++] = l;
    free(fill);
    return 0;
}

static int freeze(topo *t)
{
    size_t nv = (size_t)t->nverts;
    if (build_csr(t, false, &t->out_off, &t->out_link) ||
        build_csr(t, true, &t->in_off, &t->in_link))
        return -1;
    t->net_index = malloc(nv * sizeof(int32_t));
    t->stamp = calloc(nv, sizeof(uint32_t));
    t->hops = malloc(nv * sizeof(int32_t));
    t->queue = malloc(nv * sizeof(int32_t));
    if (!t->net_index || !t->stamp || !t->hops || !t->queue)
        return -1;
    for (int32_t v = 0; v < t->nverts; v++)
        t->net_index[v] = is_host_kind(t->verts[v].kind) ? -1 : t->nnet++;
    if (t->nnet == 0)
        return 0;
    size_t per_map = (size_t)t->nnet * sizeof(uint16_t);
    size_t fit = DIST_CACHE_BYTES / per_map;
    t->nslots = fit < 1 ? 1 : fit > (size_t)t->nnet ? t->nnet : (int32_t)fit;
    t->slots = calloc((size_t)t->nslots, sizeof *t->slots);
    t->net_queue = malloc((size_t)t->nnet * sizeof(int32_t));
    if (!t->slots || !t->net_queue)
        return -1;
    for (int32_t s = 0; s < t->nslots; s++)
        t->slots[s].dst_net = -1;
    return 0;
}

/* ------------------------------------------------------- build / free */

int topo_build(const sys_system *sys, topo **out, cs_err *err)
{
    *out = NULL;
    if (!sys)
        return cs_fail(err, "topo_build: no system given");
    if (sys_validate(sys, err))
        return -1;
    topo *t = calloc(1, sizeof *t);
    if (!t)
        return cs_fail(err, "topo_build: out of memory");
    t->sys = *sys;
    if (check_system(t, err)) {
        topo_free(t);
        return -1;
    }
    if (alloc_tables(t)) {
        topo_free(t);
        return cs_fail(err, "topo_build: out of memory for %d nodes", t->nnodes);
    }
    for (int node = 0; node < t->nnodes; node++)
        build_node(t, node);
    build_network(t);
    if (t->oom || freeze(t)) {
        int nodes = t->nnodes;
        topo_free(t);
        return cs_fail(err, "topo_build: out of memory building the graph of %d nodes", nodes);
    }
    *out = t;
    return 0;
}

void topo_free(topo *t)
{
    if (!t)
        return;
    for (int32_t s = 0; s < t->nslots; s++)
        free(t->slots[s].hops);
    int32_t *tables[] = {t->node_group, t->node_first_gpu, t->node_first_nic, t->node_cpu,
                         t->node_hostmem, t->node_nvswitch, t->gpu_node, t->gpu_vertex, t->nic_vertex,
                         t->nic_attach, t->nic_up_link, t->nic_down_link, t->out_off,
                         t->out_link, t->in_off, t->in_link, t->net_index, t->net_queue,
                         t->hops, t->queue};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        free(tables[i]);
    free(t->slots);
    free(t->stamp);
    free(t->verts);
    free(t->links);
    free(t);
}

/* --------------------------------------------------------- accessors */

const sys_system *topo_system(const topo *t) { return &t->sys; }
int topo_gpu_count(const topo *t) { return t->ngpus; }
int topo_node_count(const topo *t) { return t->nnodes; }
int topo_vertex_count(const topo *t) { return t->nverts; }
int topo_link_count(const topo *t) { return t->nlinks; }

int topo_node_of_gpu(const topo *t, int gpu)
{
    return gpu >= 0 && gpu < t->ngpus ? t->gpu_node[gpu] : -1;
}

int topo_local_of_gpu(const topo *t, int gpu)
{
    return gpu >= 0 && gpu < t->ngpus ? gpu - t->node_first_gpu[t->gpu_node[gpu]] : -1;
}

int topo_gpus_in_node(const topo *t, int node)
{
    return node >= 0 && node < t->nnodes ? t->node_first_gpu[node + 1] - t->node_first_gpu[node]
                                         : -1;
}

int topo_first_gpu_of_node(const topo *t, int node)
{
    return node >= 0 && node < t->nnodes ? t->node_first_gpu[node] : -1;
}

const sys_node_type *topo_node_type(const topo *t, int node)
{
    return node >= 0 && node < t->nnodes ? type_of_node(t, node) : NULL;
}

const topo_vertex *topo_vertex_at(const topo *t, int v)
{
    return v >= 0 && v < t->nverts ? &t->verts[v] : NULL;
}

int topo_gpu_vertex(const topo *t, int gpu)
{
    return gpu >= 0 && gpu < t->ngpus ? t->gpu_vertex[gpu] : -1;
}

int topo_cpu_vertex(const topo *t, int node)
{
    return node >= 0 && node < t->nnodes ? t->node_cpu[node] : -1;
}

int topo_hostmem_vertex(const topo *t, int node)
{
    return node >= 0 && node < t->nnodes ? t->node_hostmem[node] : -1;
}

int topo_nic_vertex(const topo *t, int node, int nic)
{
    if (node < 0 || node >= t->nnodes || nic < 0 || nic >= nics_of_node(t, node))
        return -1;
    return t->nic_vertex[t->node_first_nic[node] + nic];
}

const topo_link *topo_link_at(const topo *t, int link)
{
    return link >= 0 && link < t->nlinks ? &t->links[link] : NULL;
}

void topo_set_link_bw(topo *t, int link, double bw_bytes_per_s)
{
    if (link >= 0 && link < t->nlinks && bw_bytes_per_s > 0)
        t->links[link].bw_bytes_per_s = bw_bytes_per_s;
}

int topo_torus_dims(const topo *t, int dims[3])
{
    for (int d = 0; d < 3; d++)
        dims[d] = t->torus_ndims ? t->torus_dims[d] : 1;
    return t->torus_ndims;
}

uint64_t topo_route_latency_ps(const topo *t, const int32_t *links, int n)
{
    uint64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += t->links[links[i]].latency_ps;
    return sum;
}

/* ----------------------------------------------------------- routing */

typedef struct route_buf {
    topo *t;
    int32_t src, dst;   /* the whole route's ends: hashed into every ECMP choice */
    uint32_t salt;
    int32_t *links;
    int max, n;
    cs_err *err;
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
static uint32_t ecmp_pick(const route_buf *r, int32_t at, uint32_t choices)
{
    uint64_t ends = ((uint64_t)(uint32_t)r->src << 32) | (uint32_t)r->dst;
    uint64_t here = ((uint64_t)r->salt << 32) | (uint32_t)at;
    return (uint32_t)(splitmix64(ends ^ splitmix64(here)) % choices);
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
static int32_t pick_link(const route_buf *r, int32_t cur, int32_t last_to, hop_ok_fn ok,
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
    uint32_t want = count > 1 ? ecmp_pick(r, cur, count) : 0;
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

/* Shortest route between two vertices of one node, never leaving it. */
static int route_in_node(route_buf *r, int32_t from, int32_t to)
{
    topo *t = r->t;
    if (from == to)
        return 0;
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

/* Hops from every switch/router to dst (a switch or router), over network
 * links only, from the cache or by a reverse breadth-first search. */
static const uint16_t *net_hops_to(topo *t, int32_t dst)
{
    int32_t k = t->net_index[dst], head = 0, tail = 0;
    dist_slot *s = &t->slots[k % t->nslots];
    if (s->dst_net == k)
        return s->hops;
    if (!s->hops && !(s->hops = malloc((size_t)t->nnet * sizeof *s->hops)))
        return NULL;
    for (int32_t i = 0; i < t->nnet; i++)
        s->hops[i] = DIST_NONE;
    s->hops[k] = 0;
    t->net_queue[tail++] = dst;
    while (head < tail) {
        int32_t u = t->net_queue[head++];
        uint16_t next = (uint16_t)(s->hops[t->net_index[u]] + 1);
        for (int32_t j = t->in_off[u]; j < t->in_off[u + 1]; j++) {
            const topo_link *l = &t->links[t->in_link[j]];
            int32_t kw = t->net_index[l->src];
            if (l->kind != TOPO_L_NETWORK || kw < 0 || s->hops[kw] != DIST_NONE)
                continue;
            s->hops[kw] = next;
            t->net_queue[tail++] = l->src;
        }
    }
    s->dst_net = k;
    return s->hops;
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
    net_step c = {net_hops_to(t, to), 0};
    if (!c.hops)
        return route_fail(r, "out of memory for a routing table");
    if (c.hops[t->net_index[from]] == DIST_NONE)
        return route_fail(r, "the network does not connect them");
    for (int32_t cur = from; cur != to;) {
        c.need = (uint16_t)(c.hops[t->net_index[cur]] - 1);
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

int topo_route(topo *t, int src_vertex, int dst_vertex, uint32_t salt, int32_t *links,
               int max_links, cs_err *err)
{
    if (src_vertex < 0 || src_vertex >= t->nverts || dst_vertex < 0 || dst_vertex >= t->nverts)
        return cs_fail(err, "topo_route: vertex %d out of range; this topology has %d vertices "
                       "(0..%d)", src_vertex < 0 || src_vertex >= t->nverts ? src_vertex
                       : dst_vertex, t->nverts, t->nverts - 1);
    route_buf r = {t, src_vertex, dst_vertex, salt, links, max_links < 0 ? 0 : max_links, 0,
                   err};
    if (src_vertex == dst_vertex)
        return 0;
    const topo_vertex *a = &t->verts[src_vertex], *b = &t->verts[dst_vertex];
    bool same_node = is_host_kind(a->kind) && is_host_kind(b->kind) && a->node == b->node;
    int rc = same_node ? route_in_node(&r, src_vertex, dst_vertex) : route_across(&r);
    return rc < 0 ? -1 : r.n;
}

int topo_route_gpus(topo *t, int src_gpu, int dst_gpu, uint32_t salt, int32_t *links,
                    int max_links, cs_err *err)
{
    if (src_gpu < 0 || src_gpu >= t->ngpus || dst_gpu < 0 || dst_gpu >= t->ngpus)
        return cs_fail(err, "topo_route_gpus: GPU %d out of range; this system has %d GPUs "
                       "(0..%d)", src_gpu < 0 || src_gpu >= t->ngpus ? src_gpu : dst_gpu,
                       t->ngpus, t->ngpus - 1);
    return topo_route(t, t->gpu_vertex[src_gpu], t->gpu_vertex[dst_gpu], salt, links,
                      max_links, err);
}
