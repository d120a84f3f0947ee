/* ncclproto: NCCL's latency and protocol model for ring and tree collectives.
 *
 * NCCL moves data in one of three protocols, chosen per size by its tuner:
 * LL (8-byte stores of 4 data bytes and a 4-byte flag: the lowest latency,
 * half the bandwidth), LL128 (128-byte lines of 120 data bytes) and Simple
 * (bulk copies with a fence per step: full bandwidth, the highest latency).
 * The tuner prices each (algorithm, protocol) as
 *     time = base latency + steps x per-hop latency + bytes / bandwidth,
 * with the latencies in microseconds from tables in its source:
 * NVIDIA/nccl src/graph/tuning.cc (commit 5067397c, ncclTunerConstantsDefaults
 * and ncclTopoTuneModel, ncclTopoGetAlgoTime).  This file holds those tables
 * and the step counts of that code; the bandwidth side stays with the
 * topology (max-min rates over the measured links), scaled by each
 * protocol's efficiency from the same code.
 *
 * Used by collective.c for allreduce, reduce-scatter and all-gather on the
 * ring, tree and hierarchical plans; broadcast, all-to-all and send/recv keep
 * the route-latency model (their latency is not in NCCL's tuning tables). */
#ifndef CS_NCCLPROTO_H
#define CS_NCCLPROTO_H

typedef enum ncclproto_proto {
    NCCLPROTO_LL,
    NCCLPROTO_LL128,
    NCCLPROTO_SIMPLE,
    NCCLPROTO_COUNT
} ncclproto_proto;

typedef enum ncclproto_algo {
    NCCLPROTO_RING,
    NCCLPROTO_TREE,
    NCCLPROTO_NVLS   /* NVLink SHARP in one node: Simple only */
} ncclproto_algo;

typedef enum ncclproto_op {
    NCCLPROTO_ALLREDUCE,
    NCCLPROTO_REDUCESCATTER, /* and all-gather: n - 1 steps */
} ncclproto_op;

/* The shape of one collective's communicator as NCCL's tuner sees it. */
typedef struct ncclproto_shape {
    ncclproto_algo algo;
    ncclproto_op op;
    int nranks, nnodes;
    int intra_nvlink;   /* 1: GPUs of a node talk over NVLink; 0: over PCIe */
    int arch;           /* NCCLPROTO_VOLTA, _AMPERE or _HOPPER (compute capability 7, 8, 9) */
    int cpu_amd;        /* host CPUs are AMD: NCCL's network overhead and LL caps differ */
    double nvls_share;  /* NVLS: measured algorithm bandwidth over the plan's link rate */
} ncclproto_shape;

enum { NCCLPROTO_VOLTA, NCCLPROTO_AMPERE, NCCLPROTO_HOPPER };

/* The tuner's latency of the collective in microseconds for protocol p:
 * base + intra-node steps x intra hop latency + inter-node steps x network
 * hop latency (tuning.cc, ncclTopoTuneModel).  size_bytes enters only
 * through the ring's plateau factor of ncclTopoGetAlgoTime. */
double ncclproto_latency_us(const ncclproto_shape *s, ncclproto_proto p, double size_bytes,
                            int channels);

/* The fraction of the link bandwidth protocol p delivers on the shape's
 * algorithm (tuning.cc: ring LL x0.5, LL128 x0.92, Simple x1; tree LL
 * x1/3.8, LL128 x7/9 in a node or x120/128 across nodes, on top of the
 * tree's x0.92 and its medium-size correction at size_bytes).  Not
 * modelled: the absolute caps (llMaxBws, perChMax*Bws) of the same file. */
double ncclproto_bw_fraction(const ncclproto_shape *s, ncclproto_proto p, double size_bytes);

/* The smallest time LL may take for size_bytes: NCCL caps LL's bus
 * bandwidth at llMaxBws (by GPU generation in a node, by host CPU across
 * nodes) and converts it to algorithm bandwidth as the tuner does (ring
 * n / steps, tree 1/2).  0 for the other protocols. */
double ncclproto_cap_s(const ncclproto_shape *s, ncclproto_proto p, double size_bytes);

const char *ncclproto_name(ncclproto_proto p);

#endif
