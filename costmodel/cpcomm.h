/* cpcomm: the communication context parallelism adds to every transformer
 * layer, its volume and the part of it attention hides, in closed form.
 *
 * Context parallelism (layout cp > 1) gives each of cp ranks b s / cp tokens
 * of every sequence (costmodel/workload.h); only attention needs the other
 * ranks' tokens.  Per layer and microbatch on one rank, with T = b s / cp
 * tokens, width h, tensor parallelism t, key/value width kv = kv_heads x
 * head_dim and 16-bit activations (Megatron-Core through Transformer
 * Engine's context_parallel.py, cp_comm_type):
 *   p2p (ring attention, AttnFuncWithCPAndKVP2P): the ring of R = cp ranks
 *     passes K and V blocks, B = 2 T (kv / t) 2 bytes each.  Forward: R - 1
 *     sends, the one for step i + 1 posted before step i's attention and
 *     waited on after it, so each overlaps 1/R of the attention (causal load
 *     balancing makes every step the same work).  Backward: R steps, each
 *     overlapped with 1/R of the attention backward, sending K,V (step 0),
 *     K,V and the accumulated dK,dV (steps 1 .. R - 2), dK,dV (step R - 1):
 *     2 (R - 1) B in all.
 *   a2a (Ulysses, AttnFuncWithCPAndQKVOA2A): an all-to-all over the a = cp
 *     ranks of Q, K and V before attention (send buffer T (h + 2 kv) / t x 2
 *     bytes, (a - 1)/a of it leaves the rank) and of the output after (T h / t
 *     x 2); backward the same two for the gradients.  Blocking: exposed.
 *   a2a+p2p (USP, hierarchical): the all-to-alls over the a cp ranks of a
 *     node (layout_cp_a2a_ranks), then the ring over R = cp / a nodes with
 *     blocks of the same B (s / R tokens of kv / (t a) width).
 * Exposed time of a ring step: what its transfer takes beyond the
 * attention it overlaps, max(0, c - A / R); hidden: the rest. */
#ifndef CS_CPCOMM_H
#define CS_CPCOMM_H

#include "layout.h"
#include "model.h"

typedef struct cpcomm_volume {
    int cp;                /* context-parallel ranks */
    int a2a_ranks;         /* the all-to-all (Ulysses) group; 1: none */
    int ring_ranks;        /* the ring, cp / a2a_ranks; 1: none */
    double kv_block_bytes; /* B: one ring message of K and V */
    double a2a_qkv_bytes;  /* all-to-all send buffer before attention (Q, K, V) */
    double a2a_out_bytes;  /* after attention (its output) */
} cpcomm_volume;

/* The sizes of one layer of one microbatch on one rank; gpus_per_node sets
 * the all-to-all group of a2a+p2p. */
void cpcomm_volume_of(const model_desc *m, const layout_desc *l, int gpus_per_node,
                      cpcomm_volume *out);

/* Bytes one rank sends for one layer of one microbatch, forward (backward
 * 0) or backward (1): ((a - 1)/a)(qkv + out) + (R - 1) B, backward with
 * 2 (R - 1) B. */
double cpcomm_sent_bytes(const cpcomm_volume *v, int backward);

/* Closed-form seconds of each exchange, every group of the stage at once. */
typedef struct cpcomm_prices {
    double ring_kv_s;  /* a ring step carrying B */
    double ring_kv2_s; /* a ring step carrying 2 B (K, V and dK, dV) */
    double a2a_qkv_s, a2a_out_s;
} cpcomm_prices;

/* One layer of one microbatch: seconds of communication not hidden by
 * attention, and hidden under it, forward and backward. */
typedef struct cpcomm_layer {
    double fwd_exposed_s, fwd_hidden_s;
    double bwd_exposed_s, bwd_hidden_s;
} cpcomm_layer;

/* attn_fwd_s, attn_bwd_s: the rank's attention core of one layer. */
void cpcomm_layer_times(const cpcomm_volume *v, const cpcomm_prices *p, double attn_fwd_s,
                        double attn_bwd_s, cpcomm_layer *out);

/* A chunk of `layers` layers: exposed seconds forward and backward (the
 * latter with the forward's again when the attention is recomputed), and
 * the hidden seconds of all three. */
typedef struct cpcomm_chunk {
    double fwd_exposed_s, bwd_exposed_s, hidden_s;
} cpcomm_chunk;
void cpcomm_chunk_times(const cpcomm_volume *v, const cpcomm_prices *p, double attn_fwd_s,
                        double attn_bwd_s, int layers, int recomputed, cpcomm_chunk *out);

/* The ring's transfer sizes step by step, forward (R - 1 entries of B) or
 * backward (R entries: B, 2 B ..., B); returns the count (at most max). */
int cpcomm_ring_steps(const cpcomm_volume *v, int backward, double *bytes, int max);

#endif
