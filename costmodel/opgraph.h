/* opgraph: an operator graph to be placed on devices.
 *
 * Owns operators (compute time, persistent, temporary and output memory,
 * colocation group, the expert's device), the tensors (an operator's
 * output: producer, output index, bytes), the edges between them (the
 * tensors each carries), the successor and predecessor lists, one
 * topological order, and the check that the graph has no cycle.
 *
 * A tensor is the unit of transfer: two edges from one producer that name
 * the same output carry the same tensor, which a device receives once
 * (TensorFlow's partitioner keys its Send/Recv pairs by producer, output
 * slot and destination device; Baechi's simulator caches a received tensor
 * per device).  An edge added without output indices carries tensors of
 * its own, shared with no other edge.  Built node by node and
 * edge by edge (traces/opgraph_csv reads the CSV of ../shared/placement, and
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
    uint64_t bytes;         /* the sum of its tensors' bytes */
    int ntensors;           /* tensors carried (each pays the per-tensor latency) */
    int tensor0;            /* its tensor ids: opgraph.edge_tensor[tensor0 .. + ntensors) */
} opg_edge;

/* Output index of a tensor that no other edge shares (an edge added
 * without output indices), and of a control dependency (TensorFlow's
 * Graph::kControlSlot: one per producer and destination device). */
#define OPG_OUT_OWN (-2)
#define OPG_OUT_CONTROL (-1)

typedef struct opg_tensor {
    int src;
    int output;             /* output index, OPG_OUT_CONTROL, or a key of the builder's */
    uint64_t bytes;
} opg_tensor;

typedef struct opgraph {
    int n, m, ngroups;
    int shared_tensors;     /* edges named their outputs (else every edge's tensors are its own) */
    opg_node *nodes;
    opg_edge *edges;
    char *names;
    size_t names_len, names_cap;
    int ncap, mcap;
    int *edge_tensor;           /* outputs while building; tensor ids after opg_finish */
    uint64_t *edge_tensor_bytes;/* while building: each slot's bytes */
    int netensor, etcap;
    /* built by opg_finish */
    opg_tensor *tensors;        /* distinct (src, output) pairs */
    int ntensors;
    int *out_start, *out_edge;  /* CSR of edge ids by source */
    int *in_start, *in_edge;    /* CSR of edge ids by destination */
    int *topo;                  /* a topological order (Kahn, ties by order then id) */
    int *rank;                  /* position of each node in topo */
} opgraph;

void opg_init(opgraph *g);
void opg_free(opgraph *g);

/* Adds a node (name copied); returns its id (0, 1, ...). */
int opg_add_node(opgraph *g, const char *name, const opg_node *fields);
/* An edge of ntensors tensors of its own (bytes split evenly). */
void opg_add_edge(opgraph *g, int src, int dst, uint64_t bytes, int ntensors);

/* An edge carrying outputs[0 .. n) of src (distinct; >= 0, OPG_OUT_CONTROL,
 * or any other key >= 0 the builder uses to name a tensor), with bytes[i]
 * each; the edge's bytes are their sum.  Edges naming the same (src,
 * output) share that tensor; its bytes are the largest any edge gives. */
void opg_add_edge_outputs(opgraph *g, int src, int dst, int n, const int *outputs,
                          const uint64_t *bytes);

/* Checks edges (known ends, no self loop), builds the lists and the
 * topological order.  A cycle is an error naming one node on it. */
int opg_finish(opgraph *g, cs_err *err);

/* Tensor i (0 .. ntensors) of edge e. */
static inline int opg_edge_tensor(const opgraph *g, const opg_edge *e, int i)
{
    return g->edge_tensor[e->tensor0 + i];
}

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
 * gradient, fp32 master, Adam moments).  Tensors: a forward operator's one
 * output (index 0) for all its readers; a gradient operator's output 1 + p,
 * the gradient of its forward operator's input p.  expert_devices > 0 pins layer i to
 * device i * expert_devices / layers (the hand-made pipeline split). */
int opg_from_model(const model_desc *m, const char *device, int mbs, int expert_devices,
                   opgraph *g, cs_err *err);

#endif
