/* opgraph: an operator graph to be placed on devices.
 *
 * Owns operators (compute time, persistent, temporary and output memory,
 * colocation group, the expert's device), the edges between them (tensors
 * with their bytes), the successor and predecessor lists, one topological
 * order, and the check that the graph has no cycle.  Built node by node and
 * edge by edge (sim/opgraph_csv reads the CSV of ../shared/placement, and
 * opg_from_model generates one from a catalog transformer), then frozen by
 * opg_finish.  Placement (costmodel/place*) reads it, never changes it. */
#ifndef CS_OPGRAPH_H
#define CS_OPGRAPH_H

#include <stdint.h>

#include "cs_error.h"
#include "model.h"

typedef struct opg_node {
    uint32_t name_off;      /* into opgraph.names */
    double compute_us;
    uint64_t perm_bytes;    /* persistent (weights, optimizer state) */
    uint64_t temp_bytes;    /* scratch while it runs */
    uint64_t out_bytes;     /* all its outputs */
    int group;              /* colocation group, -1 for none */
    int expert_dev;         /* the expert's device, -1 when not pinned */
    int order;              /* tie-break rank (smaller first) */
} opg_node;

typedef struct opg_edge {
    int src, dst;
    uint64_t bytes;
    int ntensors;           /* tensors carried (each pays the per-tensor latency) */
} opg_edge;

typedef struct opgraph {
    int n, m, ngroups;
    opg_node *nodes;
    opg_edge *edges;
    char *names;
    size_t names_len, names_cap;
    int ncap, mcap;
    /* built by opg_finish */
    int *out_start, *out_edge;  /* CSR of edge ids by source */
    int *in_start, *in_edge;    /* CSR of edge ids by destination */
    int *topo;                  /* a topological order (Kahn, ties by order then id) */
    int *rank;                  /* position of each node in topo */
} opgraph;

void opg_init(opgraph *g);
void opg_free(opgraph *g);

/* Adds a node (name copied); returns its id (0, 1, ...). */
int opg_add_node(opgraph *g, const char *name, const opg_node *fields);
void opg_add_edge(opgraph *g, int src, int dst, uint64_t bytes, int ntensors);

/* Checks edges (known ends, no self loop), builds the lists and the
 * topological order.  A cycle is an error naming one node on it. */
int opg_finish(opgraph *g, cs_err *err);

static inline const char *opg_name(const opgraph *g, int v) { return g->names + g->nodes[v].name_off; }

/* A training step of catalog model m on one device of type dev, microbatch
 * mbs, as an operator graph: per layer the forward operators of
 * costmodel/workload wired as the layer is (the layer input into norm1 and
 * the first residual add, Q, K and V projections in parallel into the
 * attention core, the first residual's output into norm2 and the second
 * residual add), the loss, then the backward operators, each forward edge
 * reversed; each backward operator reads its forward operator's output and
 * shares its colocation group.  Weight-holding operators carry their
 * parameters' persistent memory (16 bytes per parameter: 16-bit weight and
 * gradient, fp32 master, Adam moments).  expert_devices > 0 pins layer i to
 * device i * expert_devices / layers (the hand-made pipeline split). */
int opg_from_model(const model_desc *m, const char *device, int mbs, int expert_devices,
                   opgraph *g, cs_err *err);

#endif
