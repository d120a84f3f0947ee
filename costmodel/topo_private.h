/* topo_private: the topology graph's representation, shared by its two
 * halves: topo.c (building the graph, accessors) and topo_route.c (routes).
 * Nothing outside costmodel/topo*.c includes this file. */
#ifndef CS_TOPO_PRIVATE_H
#define CS_TOPO_PRIVATE_H

#include "topo.h"

#include <stdbool.h>
#include <stdint.h>

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

/* A route inside a node that took no equal-cost choice: the same for every
 * salt, so it is found once and replayed (route_in_node).  key 0: empty. */
typedef struct node_route_slot {
    uint64_t key;      /* (from + 1) << 32 | to */
    int32_t off, len;  /* into node_route_links */
} node_route_slot;

typedef struct dist_slot {
    int32_t dst_net;   /* net index the map holds distances to; -1 empty */
    uint16_t levels;   /* hops labelled for every vertex up to this many */
    uint16_t *hops;    /* hops from net vertices to dst_net; DIST_NONE beyond levels */
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
    int32_t *net_vertex;           /* [nnet] the vertex of each net index */
    dist_slot *slots;
    int32_t nslots;

    /* Routes inside a node, by (from, to); open addressing, at most half full. */
    node_route_slot *node_routes;
    int32_t node_routes_cap, node_routes_used;
    int32_t *node_route_links;
    int32_t node_route_nlinks, node_route_links_cap;

    /* Scratch for per-call searches inside a node; stamps avoid clearing. */
    uint32_t stamp_now;
    uint32_t *stamp;
    int32_t *hops, *queue;

    /* Destination routing (issue 15, topo_dest.c): per NIC, its number in
     * the order of the leaves' down-ports (leaf index x ports + port): the
     * LID order a fat-tree routing engine balances over the up-links. */
    int32_t *nic_dest_key;

    /* Per-link counters lent to costmodel/collective (topo_link_scratch): all 0
     * between uses, so a plan costs its own links, not the topology's. */
    int32_t *link_scratch;
};

static inline bool is_host_kind(topo_vkind kind)
{
    return kind != TOPO_V_SWITCH && kind != TOPO_V_ROUTER;
}

static inline const sys_node_type *type_of_node(const topo *t, int node)
{
    return &t->sys.groups[t->node_group[node]].node;
}

static inline int nics_of_node(const topo *t, int node)
{
    return t->node_first_nic[node + 1] - t->node_first_nic[node];
}

/* topo_dest.c: fills nic_dest_key (after the network is built); -1 when
 * memory is short. */
int topo_dest_keys(topo *t);

#endif
