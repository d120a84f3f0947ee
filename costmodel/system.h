/* system: node types, scale-out networks and the catalog of built-in systems.
 *
 * Owns the *description* of a cluster (what hardware, how many, how it is
 * wired).  topo.h turns a description into a graph of links with routes.
 * A system is a list of node groups, each a node type and a count, so that a
 * heterogeneous cluster (two GPU types) is one description. */
#ifndef CS_SYSTEM_H
#define CS_SYSTEM_H

#include <stdint.h>

#include "cs_error.h"
#include "device.h"
#include "tiers.h"

#define SYS_MAX_GPUS_PER_NODE 16
#define SYS_MAX_NICS_PER_NODE 16
#define SYS_MAX_GROUPS 4

typedef enum sys_fabric {
    SYS_FABRIC_NVSWITCH, /* every GPU has one NVLink port pair to a non-blocking switch */
    SYS_FABRIC_PCIE      /* GPUs talk through PCIe switches and the host root complex */
} sys_fabric;

typedef struct sys_node_type {
    char name[48];
    const dev_type *gpu;
    int gpus;                         /* GPUs per node */
    sys_fabric fabric;
    double nvlink_bw_bytes_per_s;     /* per GPU per direction (NVSwitch fabric) */
    /* The fraction of nvlink_bw NCCL's collectives reach on this node: the
     * large-message all-reduce bus bandwidth nccl-tests measured over its
     * GPUs, over the line rate (1: none published); the NVLink links of the
     * topology carry nvlink_bw x this.  nvlink_source names the measurement. */
    double nvlink_eff;
    double nvlink_busbw_published;    /* bytes/s, the measured busbw (0: none) */
    const char *nvlink_source;
    uint64_t nvlink_latency_ps;       /* one hop GPU->switch or switch->GPU */
    int gpus_per_pcie_switch;         /* GPUs (and their NICs) sharing one PCIe switch */
    double pcie_bw_bytes_per_s;       /* per direction, one x16 link */
    uint64_t pcie_latency_ps;
    int nics;                         /* scale-out NICs per node */
    double nic_bw_bytes_per_s;        /* per NIC per direction */
    uint64_t nic_latency_ps;          /* NIC to first switch, one direction */
    int nic_of_gpu[SYS_MAX_GPUS_PER_NODE]; /* which NIC GPU i uses */
    double host_mem_bytes;
    double host_mem_bw_bytes_per_s;   /* CPU <-> DRAM, per direction */
    /* memory tiers (issue 17): DRAM per socket, CPUs, NVMe drives; the
     * built-in systems' datasheet figures (tiers.c); host_mem_bytes and
     * host_mem_bw_bytes_per_s above equal its DRAM totals */
    sys_tiers tiers;
    /* Scale-out efficiency and host CPU (collectives across nodes): the
     * fraction of the NIC line rate NCCL's collectives reach, from a
     * multi-node nccl-tests bus bandwidth (1: none published; the NIC links
     * of the topology carry nic_bw x this), its source, and whether the
     * host CPUs are AMD (NCCL's proxy overhead and LL caps depend on it). */
    double nic_eff;
    const char *nic_source;
    int host_cpu_amd;
    /* NVLink SHARP (in-switch reduction): the large-message all-reduce
     * algorithm bandwidth nccl-tests measured with it over the node's GPUs
     * (bytes/s; 0: the node has none), and its source. */
    double nvls_algbw_published;
    const char *nvls_source;
} sys_node_type;

typedef enum sys_net_kind {
    SYS_NET_SINGLE_SWITCH, /* every NIC on one non-blocking switch */
    SYS_NET_FAT_TREE2,     /* leaves and spines */
    SYS_NET_FAT_TREE3,     /* leaves, aggregation (per pod) and core */
    SYS_NET_RAIL,          /* NIC i of every node on rail switch i, spines above */
    SYS_NET_TORUS2D,       /* node routers in a 2D torus, no switches */
    SYS_NET_TORUS3D        /* node routers in a 3D torus, no switches */
} sys_net_kind;

/* How a switch picks among equal-cost links toward a destination (issue 15). */
typedef enum sys_routing {
    SYS_ROUTE_ECMP,  /* a hash of each flow's ends, as Ethernet ECMP: flows may collide */
    SYS_ROUTE_DEST   /* by destination, as an InfiniBand subnet manager's fat-tree
                        routing sets the forwarding tables (D-mod-K): shifts go
                        contention-free (topo_dest.c) */
} sys_routing;

typedef struct sys_network {
    sys_net_kind kind;
    int nics_per_leaf;        /* fat-tree: NIC ports per leaf switch;
                                 rail: nodes per rail group (one rail switch per rail per group) */
    int leaves_per_pod;       /* fat-tree3: leaves under one pod's aggregation layer */
    double oversubscription;  /* down:up bandwidth ratio at every switch tier (1 = non-blocking) */
    int torus_dims[3];        /* torus: nodes per dimension; 0 = derive from the node count */
    double link_bw_bytes_per_s;   /* switch-to-switch and torus links; 0 = the NIC rate */
    uint64_t switch_latency_ps;   /* per switch traversal (added on the switch's out-links) */
    /* Routing (issue 15): how equal-cost choices are made in a switched
     * network (tori route by the hash either way); routing_source says why. */
    sys_routing routing;
    const char *routing_source;
    const char *topology_source;  /* where the network's shape comes from (NULL: none given) */
} sys_network;

typedef struct sys_group {
    sys_node_type node;
    int count;                /* nodes of this type */
} sys_group;

typedef struct sys_system {
    char name[48];
    int ngroups;
    sys_group groups[SYS_MAX_GROUPS];
    sys_network net;
} sys_system;

/* Number of built-in system names and the i-th name. */
int sys_catalog_count(void);
const char *sys_catalog_name(int i);
const char *sys_catalog_summary(int i);

/* Fills out with built-in system `name` of `nodes` nodes.  Errors name the
 * valid systems, or say why the node count does not fit the network. */
int sys_from_catalog(const char *name, int nodes, sys_system *out, cs_err *err);

/* Checks a description for impossible values (no GPUs, NIC map out of range,
 * torus shape not matching the node count, ...). */
int sys_validate(const sys_system *sys, cs_err *err);

int sys_total_nodes(const sys_system *sys);
int sys_total_gpus(const sys_system *sys);
const char *sys_net_kind_name(sys_net_kind kind);
/* "single-switch", "fat-tree" (= "fat-tree2"), "fat-tree3", "rail", "torus2d", "torus3d". */
int sys_net_kind_parse(const char *text, const char *what, sys_net_kind *out, cs_err *err);

/* "ecmp" or "destination" (also "dest"); errors name what and the valid names. */
const char *sys_routing_name(sys_routing routing);
int sys_routing_parse(const char *text, const char *what, sys_routing *out, cs_err *err);

/* A node of `gpus` GPUs on an NVSwitch fabric with `nics` scale-out NICs, the
 * catalog's latencies and PCIe, 2 TB of host memory; GPU i uses NIC
 * i nics / gpus.  For systems described field by field. */
void sys_node_init(sys_node_type *n, const char *name, const dev_type *gpu, int gpus,
                   double nvlink_bw_bytes_per_s, int nics, double nic_bw_bytes_per_s);
/* Re-spreads the GPUs over the NICs (GPU i uses NIC i nics / gpus). */
void sys_node_spread_nics(sys_node_type *n);
/* A network of `kind` with the catalog's switch latency, non-blocking. */
void sys_network_init(sys_network *net, sys_net_kind kind, int nics_per_leaf);

#endif
