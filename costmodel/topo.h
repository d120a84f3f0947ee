/* topo: a system description turned into a graph of directed links, with routes.
 *
 * Owns vertices (GPUs, NVSwitches, PCIe switches, host CPUs, NICs, network
 * switches, torus routers), directed links with bandwidth and latency, the
 * GPU numbering (global GPU g = node-major, local index inside the node), and
 * routing: shortest paths, with equal-cost choices (ECMP) made by a
 * deterministic hash of (source, destination, salt), or, in a switched
 * network whose sys_network.routing is SYS_ROUTE_DEST (InfiniBand), by the
 * destination alone (D-mod-K, topo_dest.c: the same route for every salt).
 *
 * Both the closed-form collective model (costmodel) and the flow simulation
 * (sim) route over this graph, so the two see the same links.
 *
 * Every full-duplex connection is two links, one per direction, each with the
 * full per-direction bandwidth.  Route latency is the sum of its links'
 * latencies.  A topo caches routing tables lazily, so routing mutates it:
 * one topo per thread. */
#ifndef CS_TOPO_H
#define CS_TOPO_H

#include <stdint.h>

#include "cs_error.h"
#include "system.h"

typedef enum topo_vkind {
    TOPO_V_GPU,
    TOPO_V_NVSWITCH,
    TOPO_V_PCIE_SWITCH,
    TOPO_V_CPU,        /* host root complex */
    TOPO_V_NIC,
    TOPO_V_SWITCH,     /* scale-out network switch (leaf, rail, spine, aggregation, core) */
    TOPO_V_ROUTER,     /* torus: per-node router */
    TOPO_V_HOSTMEM     /* host DRAM of a node, behind its CPU (an endpoint only) */
} topo_vkind;

typedef enum topo_lkind {
    TOPO_L_NVLINK,
    TOPO_L_PCIE,
    TOPO_L_MEMORY,     /* CPU <-> host DRAM */
    TOPO_L_NIC,        /* NIC <-> first network switch or router */
    TOPO_L_NETWORK     /* switch <-> switch, router <-> router */
} topo_lkind;

typedef struct topo_link {
    int32_t src, dst;          /* vertex ids */
    double bw_bytes_per_s;     /* this direction */
    uint64_t latency_ps;
    topo_lkind kind;
} topo_link;

typedef struct topo_vertex {
    topo_vkind kind;
    int32_t node;              /* owning node, -1 for network switches */
    int32_t index;             /* local index (GPU i, NIC i, ...) or switch number */
    int32_t tier;              /* switches: 0 leaf/rail, 1 spine/aggregation, 2 core */
} topo_vertex;

typedef struct topo topo;

/* Builds the graph for sys (validated first). */
int topo_build(const sys_system *sys, topo **out, cs_err *err);
void topo_free(topo *t);

const sys_system *topo_system(const topo *t);
int topo_gpu_count(const topo *t);
int topo_node_count(const topo *t);
int topo_node_of_gpu(const topo *t, int gpu);
int topo_local_of_gpu(const topo *t, int gpu);
int topo_gpus_in_node(const topo *t, int node);
int topo_first_gpu_of_node(const topo *t, int node);
const sys_node_type *topo_node_type(const topo *t, int node);

int topo_vertex_count(const topo *t);
const topo_vertex *topo_vertex_at(const topo *t, int v);
int topo_gpu_vertex(const topo *t, int gpu);
int topo_cpu_vertex(const topo *t, int node);     /* host CPU (root complex) of a node */
int topo_hostmem_vertex(const topo *t, int node); /* host DRAM, behind the CPU's memory link */
int topo_nic_vertex(const topo *t, int node, int nic);

int topo_link_count(const topo *t);
const topo_link *topo_link_at(const topo *t, int link);

/* One int32 per link, all 0, for a caller that counts per link (a
 * collective's plan); the caller leaves every entry 0 again.  Owned by t
 * (which is not shared between threads: routing writes to it too). */
int32_t *topo_link_scratch(topo *t);

/* Changes a link's bandwidth (> 0) before a run: a degraded link.  Routes
 * do not change; the caller restores the old value when done. */
void topo_set_link_bw(topo *t, int link, double bw_bytes_per_s);

/* Route from vertex src to vertex dst as link ids, in order.  Returns the
 * number of links (0 when src == dst) or -1 (err filled) when unreachable or
 * when max_links is too small.  Same (src, dst, salt), same route.
 * GPU-to-GPU traffic stays inside a node when both ends share it; between
 * nodes it leaves through the source GPU's NIC (nic_of_gpu) and enters
 * through the destination GPU's NIC. */
int topo_route(topo *t, int src_vertex, int dst_vertex, uint32_t salt,
               int32_t *links, int max_links, cs_err *err);

/* Convenience: route between global GPU numbers. */
int topo_route_gpus(topo *t, int src_gpu, int dst_gpu, uint32_t salt,
                    int32_t *links, int max_links, cs_err *err);

/* topo_route_gpus that also says (*hashed, may be NULL) whether the route
 * took an equal-cost choice by the hash, the only part of a route the salt
 * changes: without one every salt gives this route (issue 20: a network
 * routed by destination takes none between GPUs with one NIC each). */
int topo_route_gpus_hashed(topo *t, int src_gpu, int dst_gpu, uint32_t salt, int32_t *links,
                           int max_links, int *hashed, cs_err *err);

/* Sum of link latencies along a route. */
uint64_t topo_route_latency_ps(const topo *t, const int32_t *links, int n);

/* Torus networks: fills dims with nodes per dimension (the shape given or
 * derived at build; unused dimensions are 1) and returns 2 or 3.  Returns 0
 * (dims set to 1) for switched networks. */
int topo_torus_dims(const topo *t, int dims[3]);

/* Longest route any topology produces, in links (bounds caller buffers). */
#define TOPO_MAX_ROUTE 64

#endif
