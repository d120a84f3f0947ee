/* topo: the link graph of a system (topo.h).
 *
 * Build: each node's vertices (GPUs, host CPU, PCIe switches, NVSwitch, NICs)
 * and links are added node by node, then the scale-out network's switches or
 * torus routers; finally the adjacency is frozen into compressed out- and
 * in-lists.  Vertices and links live in growable arrays, so later work (memory
 * tiers) can add vertices and links before the freeze.
 *
 * Routing is in topo_route.c; the representation both share is in
 * topo_private.h. */
#include "topo_private.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int ceil_div(int a, int b)
{
    return (a + b - 1) / b;
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
    double eff = nt->nic_eff > 0 ? nt->nic_eff : 1; /* the measured share of line rate */
    t->nic_up_link[nic] = add_pair(t, t->nic_vertex[nic], sw, TOPO_L_NIC, nt->nic_bw_bytes_per_s * eff,
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
    t->net_vertex = malloc((size_t)t->nnet * sizeof(int32_t));
    if (!t->slots || !t->net_vertex)
        return -1;
    for (int32_t v = 0; v < t->nverts; v++)
        if (t->net_index[v] >= 0)
            t->net_vertex[t->net_index[v]] = v;
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
    if (t->oom || freeze(t) || topo_dest_keys(t)) {
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
                         t->out_link, t->in_off, t->in_link, t->net_index, t->net_vertex,
                         t->hops, t->queue, t->node_route_links, t->nic_dest_key};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        free(tables[i]);
    free(t->slots);
    free(t->node_routes);
    free(t->stamp);
    free(t->link_scratch);
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

int32_t *topo_link_scratch(topo *t)
{
    if (!t->link_scratch) {
        t->link_scratch = calloc((size_t)(t->nlinks ? t->nlinks : 1), sizeof(int32_t));
        if (!t->link_scratch)
            abort();
    }
    return t->link_scratch;
}

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
