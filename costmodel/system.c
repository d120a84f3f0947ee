/* system: built-in node types and systems, and validation of descriptions.
 *
 * Datasheet figures come from the device catalog.  The latencies below are
 * assumptions (typical published one-way figures for NVSwitch, PCIe switches
 * and InfiniBand switches), not fitted to any measurement; calibration may
 * replace them. */
#include "system.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tiers_cpu.h"
#include "units.h"

#define GBPS_TO_BYTES(gbit) ((gbit) * 1e9 / 8.0)

enum { NVLINK_HOP_PS = 250000, PCIE_HOP_PS = 250000, NIC_HOP_PS = 700000,
       SWITCH_HOP_PS = 300000 };

void sys_node_init(sys_node_type *n, const char *name, const dev_type *gpu, int gpus,
                   double nvlink_bw_bytes_per_s, int nics, double nic_bw_bytes_per_s)
{
    memset(n, 0, sizeof *n);
    snprintf(n->name, sizeof n->name, "%s", name);
    n->gpu = gpu;
    n->gpus = gpus;
    n->fabric = SYS_FABRIC_NVSWITCH;
    n->nvlink_bw_bytes_per_s = nvlink_bw_bytes_per_s;
    n->nvlink_latency_ps = NVLINK_HOP_PS;
    n->nvlink_eff = 1;
    n->nvlink_source = "none: NVLink at its line rate";
    n->gpus_per_pcie_switch = 2;
    n->pcie_bw_bytes_per_s = dev_pcie_x16_bw_bytes_per_s(gpu->pcie_gen);
    n->pcie_latency_ps = PCIE_HOP_PS;
    n->nics = nics;
    n->nic_bw_bytes_per_s = nic_bw_bytes_per_s;
    n->nic_latency_ps = NIC_HOP_PS;
    n->nic_eff = 1;
    n->nic_source = "none: NICs at their line rate";
    sys_node_spread_nics(n);
    n->host_mem_bytes = 2e12;
    n->host_mem_bw_bytes_per_s = 409.6e9;
    tiers_init_default(&n->tiers, n->host_mem_bytes, n->host_mem_bw_bytes_per_s);
}

void sys_node_spread_nics(sys_node_type *n)
{
    for (int i = 0; i < n->gpus && i < SYS_MAX_GPUS_PER_NODE; i++)
        n->nic_of_gpu[i] = n->nics > 0 ? i * n->nics / n->gpus : 0;
}

static void dgx_node(sys_node_type *n, const char *name, const char *gpu, int gpus,
                     double nvlink_bw, int nics, double nic_gbit, double host_mem_bytes,
                     double host_mem_bw)
{
    sys_node_init(n, name, dev_find(gpu, NULL), gpus, nvlink_bw, nics, GBPS_TO_BYTES(nic_gbit));
    n->host_mem_bytes = host_mem_bytes;
    n->host_mem_bw_bytes_per_s = host_mem_bw;
}

/* NCCL's measured all-reduce bus bandwidth over the node's 8 GPUs
 * (../shared/reference/component_measurements.csv) as the NVLink fraction. */
static void nvlink_measured(sys_node_type *n, double busbw_gbs, const char *source)
{
    n->nvlink_busbw_published = busbw_gbs * 1e9;
    n->nvlink_eff = n->nvlink_busbw_published / n->nvlink_bw_bytes_per_s;
    n->nvlink_source = source;
}

void sys_network_init(sys_network *net, sys_net_kind kind, int nics_per_leaf)
{
    memset(net, 0, sizeof *net);
    net->kind = kind;
    net->nics_per_leaf = nics_per_leaf;
    net->leaves_per_pod = 16;
    net->oversubscription = 1.0;
    net->switch_latency_ps = SWITCH_HOP_PS;
    net->routing = SYS_ROUTE_ECMP;
    net->routing_source = "assumed: equal-cost choices by a per-flow hash (Ethernet ECMP)";
}

/* InfiniBand: the subnet manager computes each switch's linear forwarding
 * table, one output port per destination LID; OpenSM's fat-tree engine
 * (ftree) balances them so that shift patterns (a ring's every step) go
 * contention-free (D-mod-K). */
static void ib_routing(sys_network *net)
{
    net->routing = SYS_ROUTE_DEST;
    net->routing_source = "InfiniBand routes by destination LID through forwarding tables the "
                          "subnet manager sets; OpenSM ftree routes fat-trees contention-free "
                          "for shift patterns (linux-rdma/opensm doc/current-routing.txt)";
}

/* Where a source documents adaptive routing (a switch choosing per packet,
 * by load, among the minimal-hop ports of a destination's AR group): the
 * model routes each flow on one path, so it cannot spread a flow by load;
 * destination routing is the closer of its two rules, because adaptive
 * routing exists to avoid the collisions a per-flow hash makes, and D-mod-K
 * already leaves the shift patterns (ring steps, pipeline sends) without two
 * flows on one link.  Issue 20. */
static void ib_routing_adaptive(sys_network *net)
{
    net->routing = SYS_ROUTE_DEST;
    net->routing_source = "adaptive routing is on by default in NVIDIA's subnet manager (UFM, "
                          "MLNX OpenSM: AR groups of the minimal-hop ports, switch picks by load; "
                          "NVIDIA InfiniBand Cluster Bring-up Procedure v1.0, Adaptive Routing) "
                          "and NCCL uses it on InfiniBand (release 2.6.4); one path per flow "
                          "here, so by destination (D-mod-K), which like AR keeps ring and "
                          "pipeline shifts off shared links, where the per-flow hash collides";
}

/* InfiniBand without a documented routing engine: the switches forward by
 * destination LID from the subnet manager's tables whatever the engine
 * (the LinearForwardingTable of the InfiniBand Architecture Specification
 * vol. 1: one output port per destination LID); the fat-tree engine's
 * D-mod-K is the model of those tables (topo_dest.c). */
static void ib_routing_lft(sys_network *net, const char *why)
{
    net->routing = SYS_ROUTE_DEST;
    net->routing_source = why;
}

/* DGX A100: 4 PCIe gen4 switches with 2 GPUs and 2 HDR NICs each; the
 * compute fabric of a DGX SuperPOD (Selene is one): NVIDIA DGX SuperPOD
 * reference architecture with DGX A100 (RA-09950-001, 2020): scalable units
 * of 20 DGX A100, rail-optimized (a node's 8 HDR HCAs on 8 leaf switches,
 * one per rail per unit; 40-port HDR switches, 20 down, 20 up),
 * non-blocking above, InfiniBand routed by the subnet manager. */
static void build_dgx_a100(sys_system *s)
{
    dgx_node(&s->groups[0].node, "dgx-a100-80g", "A100-SXM4-80GB", 8, 300e9, 8, 200,
             2e12, 409.6e9);
    nvlink_measured(&s->groups[0].node, 204,
                    "nccl-tests issues #149 and #178: all_reduce_perf busbw 200-208 GB/s, "
                    "8 A100 on NVSwitch, large messages (midpoint)");
    /* nccl-tests issue #100: all_reduce_perf busbw 91 GB/s over 2 HGX A100
     * nodes with 4 x 200 Gb/s NICs each (100 GB/s per node): 0.91 of line
     * rate (../shared/reference/component_measurements.csv).  DGX A100's
     * hosts are 2 AMD EPYC 7742 (DGX A100 datasheet). */
    s->groups[0].node.nic_eff = 91.0 / 100.0;
    s->groups[0].node.nic_source = "nccl-tests issue #100: all_reduce_perf busbw 91 GB/s over "
                                   "2 HGX A100 nodes with 4 x 200 Gb/s NICs (100 GB/s line rate)";
    s->groups[0].node.host_cpu_amd = 1;
    sys_network_init(&s->net, SYS_NET_RAIL, 20);
    s->net.topology_source = "NVIDIA DGX SuperPOD with DGX A100 reference architecture "
                             "(RA-09950-001, 2020): scalable units of 20 nodes, rail-optimized "
                             "compute fabric of 40-port HDR switches (one leaf per rail per unit), "
                             "non-blocking above";
    ib_routing(&s->net);
}

/* DGX H100 SuperPOD: NDR 400 Gb/s per GPU, rail-optimized, 32 nodes per
 * scalable unit (one rail switch per rail per unit). */
static void build_dgx_h100(sys_system *s)
{
    dgx_node(&s->groups[0].node, "dgx-h100", "H100-SXM5-80GB", 8, 450e9, 8, 400, 2e12,
             614.4e9);
    nvlink_measured(&s->groups[0].node, 370,
                    "nccl-tests issue #212: about 370 GB/s busbw without NVLS, 8 H100 "
                    "(with NVLS about 480, the nvls algorithm)");
    s->groups[0].node.nvls_algbw_published = 275e9;
    s->groups[0].node.nvls_source = "nccl-tests issue #212: with NVLS, 8 H100 reach a peak busbw "
                                    "of about 480 GB/s, algbw about 275 GB/s";
    sys_network_init(&s->net, SYS_NET_RAIL, 32);
    s->net.topology_source = "NVIDIA DGX SuperPOD with DGX H100 reference architecture "
                             "(RA-11333-001): scalable units of 32 nodes, rail-aligned (one NDR "
                             "leaf per rail per unit), spines above, fabric managed by UFM";
    ib_routing_adaptive(&s->net);
}

static void build_dgx_h200(sys_system *s)
{
    dgx_node(&s->groups[0].node, "dgx-h200", "H200-SXM-141GB", 8, 450e9, 8, 400, 2e12,
             614.4e9);
    nvlink_measured(&s->groups[0].node, 370,
                    "the same NVLink 4 / NVSwitch as dgx-h100: nccl-tests issue #212, about "
                    "370 GB/s without NVLS (issue #272's 475 GB/s on H200 is with NVLS)");
    s->groups[0].node.nvls_algbw_published = 475e9 / 1.75;
    s->groups[0].node.nvls_source = "nccl-tests issue #272: all_reduce_perf busbw 475 GB/s on 8 "
                                    "H200 with NVLS (algbw 475 / 1.75 = 271 GB/s)";
    sys_network_init(&s->net, SYS_NET_RAIL, 32);
    s->net.topology_source = "assumed: the DGX H100 SuperPOD fabric (RA-11333-001: NDR, units "
                             "of 32 rail-aligned nodes, UFM), the same ConnectX-7 NICs";
    ib_routing_adaptive(&s->net);
}

/* An H800 SXM5 cluster as DeepSeek-V3 trained on (DeepSeek-AI 2024, arXiv
 * 2412.19437 sec. 3.1): 8 GPUs per node on NVLink/NVSwitch, 8 InfiniBand
 * CX7 400 Gb/s NICs per node (one per GPU), the export variant of the H100
 * SXM5 with the same compute and HBM3 (NVIDIA H800 datasheet: 989 TFLOP/s
 * dense bf16, 80 GB, 3.35 TB/s; the catalog's H100-SXM5-80GB figures) and
 * NVLink cut to 400 GB/s both directions together, 200 GB/s per direction;
 * the report measures 160 GB/s achievable over NVLink (sec. 3.2.2). */
static void build_dgx_h800(sys_system *s)
{
    dgx_node(&s->groups[0].node, "dgx-h800", "H100-SXM5-80GB", 8, 200e9, 8, 400, 2e12,
             614.4e9);
    nvlink_measured(&s->groups[0].node, 160,
                    "DeepSeek-V3 report (arXiv 2412.19437) sec. 3.2.2: NVLink 160 GB/s "
                    "achievable per GPU on H800");
    sys_network_init(&s->net, SYS_NET_RAIL, 32);
    ib_routing_lft(&s->net, "InfiniBand across nodes (DeepSeek-V3 report, arXiv 2412.19437 sec. "
                            "3.1): switches forward by destination LID from the subnet manager's "
                            "tables (InfiniBand spec vol. 1, LinearForwardingTable); no routing "
                            "engine or adaptive routing documented for this cluster");
}

/* DGX-2(H): 16 V100 on NVSwitch (6 NVLinks x 25 GB/s), 8 EDR 100 Gb/s NICs,
 * one per GPU pair; fat-tree. */
static void build_dgx2_v100(sys_system *s)
{
    dgx_node(&s->groups[0].node, "dgx2-v100", "V100-SXM2-32GB", 16, 150e9, 8, 100, 1.5e12,
             255.9e9);
    sys_network_init(&s->net, SYS_NET_FAT_TREE2, 18);
    ib_routing_lft(&s->net, "EDR InfiniBand (DGX-2 datasheet: 8 x 100 Gb/s InfiniBand ports): "
                            "switches forward by destination LID from the subnet manager's "
                            "tables (InfiniBand spec vol. 1, LinearForwardingTable); no routing "
                            "engine or adaptive routing documented for this cluster");
}

/* DGX-2H: the DGX-2 with its 16 V100 at 450 W and a higher clock (2.1 PFLOPS
 * against 2: device.c's V100-SXM3-32GB-H); the same NVSwitch, NICs and
 * fabric.  Megatron-LM's 2019 runs (validate megatron2019). */
static void build_dgx2h_v100(sys_system *s)
{
    build_dgx2_v100(s);
    dgx_node(&s->groups[0].node, "dgx2h-v100", "V100-SXM3-32GB-H", 16, 150e9, 8, 100, 1.5e12,
             255.9e9);
}

/* One RTX 4090 on PCIe 4.0 x16 in a workstation (Fuyou's commodity
 * setting, arXiv 2403.06504): no NVLink; one 100 Gb/s NIC so that several
 * boxes can still be described. */
static void rtx4090_node(sys_system *s, const char *name)
{
    sys_node_type *n = &s->groups[0].node;
    sys_node_init(n, name, dev_find("RTX-4090-24GB", NULL), 1, 0, 1, GBPS_TO_BYTES(100));
    n->fabric = SYS_FABRIC_PCIE;
    n->gpus_per_pcie_switch = 1;
    sys_network_init(&s->net, SYS_NET_SINGLE_SWITCH, 0);
}
static void build_rtx4090_box(sys_system *s) { rtx4090_node(s, "rtx4090-box"); }

/* Fuyou's published testbed (issue 17): the same RTX 4090 in a two-socket
 * server with 12 NVMe drives (the authors' artifact, Crispig/Ratel
 * evaluation_data.md; its host tiers are in tiers.c).  Its GPU link moves
 * 21 GB/s a direction, not PCIe 4.0 x16's 31.5: BW_G, "maximum
 * unidirectional PCIe bandwidth between GPU and main memory" measured on
 * that server (the paper's ICDE 2025 version, Ratel, Table I and Fig. 1;
 * validate/offload_components.csv). */
static void build_fuyou_server(sys_system *s)
{
    rtx4090_node(s, "fuyou-server");
    s->groups[0].node.pcie_bw_bytes_per_s = 21e9;
}

/* The datasheet tiers of a built-in node, its host_mem figures made equal
 * to the tiers' DRAM totals. */
static void sys_node_tiers_builtin(sys_node_type *n)
{
    if (tiers_of_builtin(n->name, &n->tiers) != 0)
        return;
    tiers_cpu_rates(n->name, &n->tiers.host); /* measured or derived (tiers_cpu.h) */
    n->host_mem_bytes = n->tiers.host.dram_bytes;
    n->host_mem_bw_bytes_per_s = tiers_dram_bw(&n->tiers);
}

static const struct {
    const char *name;
    const char *summary;
    void (*build)(sys_system *);
} systems[] = {
    {"dgx-a100-80g", "8x A100 80GB, NVSwitch 300 GB/s/dir, 8x 200 Gb/s HDR IB, rail-optimized "
                     "(SuperPOD)",
     build_dgx_a100},
    {"dgx-h100", "8x H100 80GB, NVSwitch 450 GB/s/dir, 8x 400 Gb/s NDR IB, rail-optimized",
     build_dgx_h100},
    {"dgx-h200", "8x H200 141GB, NVSwitch 450 GB/s/dir, 8x 400 Gb/s NDR IB, rail-optimized",
     build_dgx_h200},
    {"dgx2-v100", "16x V100 32GB, NVSwitch 150 GB/s/dir, 8x 100 Gb/s EDR IB, fat-tree",
     build_dgx2_v100},
    {"dgx2h-v100", "16x V100 32GB at 450 W (DGX-2H), NVSwitch 150 GB/s/dir, 8x 100 Gb/s EDR IB, "
                   "fat-tree",
     build_dgx2h_v100},
    {"rtx4090-box", "1x RTX 4090 24GB on PCIe 4.0 x16, 2 NVMe SSDs, 1x 100 Gb/s (Fuyou's box)",
     build_rtx4090_box},
    {"fuyou-server", "1x RTX 4090 24GB on PCIe 4.0 x16, 2x Xeon Gold 5320, 768 GB, 12 NVMe SSDs "
                     "(Fuyou's testbed)",
     build_fuyou_server},
    {"dgx-h800", "8x H800 80GB (H100 SXM5 compute), NVSwitch 200 GB/s/dir, 8x 400 Gb/s IB",
     build_dgx_h800},
};
#define NSYSTEMS ((int)(sizeof systems / sizeof systems[0]))

int sys_catalog_count(void) { return NSYSTEMS; }
const char *sys_catalog_name(int i) { return (i >= 0 && i < NSYSTEMS) ? systems[i].name : NULL; }
const char *sys_catalog_summary(int i)
{
    return (i >= 0 && i < NSYSTEMS) ? systems[i].summary : NULL;
}

int sys_from_catalog(const char *name, int nodes, sys_system *out, cs_err *err)
{
    for (int i = 0; i < NSYSTEMS; i++) {
        if (strcmp(systems[i].name, name) != 0)
            continue;
        if (nodes < 1)
            return cs_fail(err, "system '%s': node count %d must be at least 1", name, nodes);
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "%s", name);
        out->ngroups = 1;
        systems[i].build(out);
        out->groups[0].count = nodes;
        sys_node_tiers_builtin(&out->groups[0].node);
        return sys_validate(out, err);
    }
    char list[256] = "";
    for (int i = 0; i < NSYSTEMS; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, systems[i].name, sizeof list - strlen(list) - 1);
    }
    return cs_fail(err, "unknown system '%s'; valid systems: %s", name, list);
}

int sys_total_nodes(const sys_system *sys)
{
    int n = 0;
    for (int g = 0; g < sys->ngroups; g++)
        n += sys->groups[g].count;
    return n;
}

int sys_total_gpus(const sys_system *sys)
{
    int n = 0;
    for (int g = 0; g < sys->ngroups; g++)
        n += sys->groups[g].count * sys->groups[g].node.gpus;
    return n;
}

int sys_net_kind_parse(const char *text, const char *what, sys_net_kind *out, cs_err *err)
{
    static const char *const names[] = {"single-switch", "fat-tree2", "fat-tree3", "rail",
                                        "torus2d", "torus3d"};
    if (strcmp(text, "fat-tree") == 0) {
        *out = SYS_NET_FAT_TREE2;
        return 0;
    }
    int i;
    if (units_parse_name(text, what, names, (int)(sizeof names / sizeof names[0]), &i, err) != 0)
        return -1;
    *out = (sys_net_kind)i;
    return 0;
}

const char *sys_net_kind_name(sys_net_kind kind)
{
    switch (kind) {
    case SYS_NET_SINGLE_SWITCH: return "single-switch";
    case SYS_NET_FAT_TREE2: return "fat-tree2";
    case SYS_NET_FAT_TREE3: return "fat-tree3";
    case SYS_NET_RAIL: return "rail";
    case SYS_NET_TORUS2D: return "torus2d";
    case SYS_NET_TORUS3D: return "torus3d";
    }
    return "unknown";
}

const char *sys_routing_name(sys_routing routing)
{
    return routing == SYS_ROUTE_DEST ? "destination" : "ecmp";
}

int sys_routing_parse(const char *text, const char *what, sys_routing *out, cs_err *err)
{
    static const char *const names[] = {"ecmp", "destination"};
    if (strcmp(text, "dest") == 0) {
        *out = SYS_ROUTE_DEST;
        return 0;
    }
    int i;
    if (units_parse_name(text, what, names, 2, &i, err) != 0)
        return -1;
    *out = (sys_routing)i;
    return 0;
}

static int positive(double v) { return isfinite(v) && v > 0; }

static int validate_node(const sys_node_type *n, int multi_node, cs_err *err)
{
    if (!n->gpu)
        return cs_fail(err, "node type '%s': no GPU type", n->name);
    if (n->gpus < 1 || n->gpus > SYS_MAX_GPUS_PER_NODE)
        return cs_fail(err, "node type '%s': %d GPUs per node; valid: 1 to %d", n->name,
                       n->gpus, SYS_MAX_GPUS_PER_NODE);
    if (n->fabric == SYS_FABRIC_NVSWITCH && !positive(n->nvlink_bw_bytes_per_s))
        return cs_fail(err, "node type '%s': NVLink bandwidth must be > 0", n->name);
    if (n->gpus_per_pcie_switch < 1 || !positive(n->pcie_bw_bytes_per_s))
        return cs_fail(err, "node type '%s': PCIe switches need >= 1 GPU each and bandwidth > 0",
                       n->name);
    if (n->nics < 0 || n->nics > SYS_MAX_NICS_PER_NODE)
        return cs_fail(err, "node type '%s': %d NICs; valid: 0 to %d", n->name, n->nics,
                       SYS_MAX_NICS_PER_NODE);
    if (multi_node && n->nics == 0)
        return cs_fail(err, "node type '%s' has no NICs, so a system of several nodes cannot "
                       "connect them; give it at least one NIC", n->name);
    if (n->nics > 0 && !positive(n->nic_bw_bytes_per_s))
        return cs_fail(err, "node type '%s': NIC bandwidth must be > 0", n->name);
    for (int i = 0; n->nics > 0 && i < n->gpus; i++)
        if (n->nic_of_gpu[i] < 0 || n->nic_of_gpu[i] >= n->nics)
            return cs_fail(err, "node type '%s': GPU %d uses NIC %d, but NICs are 0 to %d",
                           n->name, i, n->nic_of_gpu[i], n->nics - 1);
    return 0;
}

static int validate_network(const sys_system *sys, cs_err *err)
{
    const sys_network *net = &sys->net;
    if ((int)net->kind < SYS_NET_SINGLE_SWITCH || net->kind > SYS_NET_TORUS3D)
        return cs_fail(err, "system '%s': unknown network kind %d", sys->name, (int)net->kind);
    if (!(net->oversubscription >= 1.0) || !isfinite(net->oversubscription))
        return cs_fail(err, "system '%s': oversubscription %g must be 1 (non-blocking) or more",
                       sys->name, net->oversubscription);
    int tree = net->kind == SYS_NET_FAT_TREE2 || net->kind == SYS_NET_FAT_TREE3 ||
               net->kind == SYS_NET_RAIL;
    if (tree && net->nics_per_leaf < 1)
        return cs_fail(err, "system '%s': %s needs nics_per_leaf >= 1", sys->name,
                       sys_net_kind_name(net->kind));
    if (net->kind == SYS_NET_FAT_TREE3 && net->leaves_per_pod < 1)
        return cs_fail(err, "system '%s': fat-tree3 needs leaves_per_pod >= 1", sys->name);
    if (net->link_bw_bytes_per_s < 0)
        return cs_fail(err, "system '%s': link bandwidth must not be negative", sys->name);
    if (net->routing != SYS_ROUTE_ECMP && net->routing != SYS_ROUTE_DEST)
        return cs_fail(err, "system '%s': unknown routing %d; valid are ecmp and destination",
                       sys->name, (int)net->routing);
    /* a torus has no forwarding tables to route by: topo_route hashes its
     * minimal paths whatever this says, so accepting it would print a rule
     * the simulation does not follow */
    if (net->routing == SYS_ROUTE_DEST &&
        (net->kind == SYS_NET_TORUS2D || net->kind == SYS_NET_TORUS3D))
        return cs_fail(err, "system '%s': routing 'destination' needs a switched network "
                       "(fat-tree2, fat-tree3, rail), not %s: use routing 'ecmp'",
                       sys->name, sys_net_kind_name(net->kind));
    return 0;
}

int sys_validate(const sys_system *sys, cs_err *err)
{
    if (sys->ngroups < 1 || sys->ngroups > SYS_MAX_GROUPS)
        return cs_fail(err, "system '%s': %d node groups; valid: 1 to %d", sys->name,
                       sys->ngroups, SYS_MAX_GROUPS);
    int nodes = sys_total_nodes(sys);
    for (int g = 0; g < sys->ngroups; g++) {
        if (sys->groups[g].count < 1)
            return cs_fail(err, "system '%s': group %d has %d nodes; each group needs >= 1",
                           sys->name, g, sys->groups[g].count);
        if (validate_node(&sys->groups[g].node, nodes > 1, err) != 0 ||
            tiers_validate(&sys->groups[g].node.tiers, sys->groups[g].node.name, err) != 0)
            return cs_fail_prefix(err, "system '%s': ", sys->name);
    }
    if (nodes > 65536)
        return cs_fail(err, "system '%s': %d nodes; at most 65536 are supported", sys->name,
                       nodes);
    return validate_network(sys, err);
}
