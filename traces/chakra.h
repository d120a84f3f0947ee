/* chakra: MLCommons Chakra execution traces, read and written.
 *
 * Owns the file format and a plain C view of it that the rest of the
 * project uses without protobuf.  A Chakra file (NAME.RANK.et) holds, as
 * Chakra's protolib writes them, one GlobalMetadata message and then Node
 * messages, each preceded by its length as a base-128 varint.  The schema
 * (et_def.proto) comes from the mlc-chakra package at build time and is
 * compiled by protoc-c; this module is the only one that sees it.
 *
 * What is kept of a node: id, name, type, data and control dependencies,
 * duration_micros, and the attributes that give it a cost or a partner:
 * num_ops and tensor_size (compute and memory), comm_type, comm_size,
 * pg_name, involved_dim, comm_src, comm_dst, comm_tag (communication),
 * is_cpu_op and stream (where it runs), and clustersim's own duration_ps
 * (the exact duration behind the rounded duration_micros) and coll_algo
 * (the algorithm a collective was priced with); Chakra readers ignore
 * attributes they do not know.  Attribute values are read whatever
 * integer field the writer chose (Chakra's tools disagree: comm_type comes
 * as int64 from the converters, as uint64 elsewhere). */
#ifndef CS_CHAKRA_H
#define CS_CHAKRA_H

#include <stdint.h>
#include <stdio.h>

#include "cs_error.h"

/* The NodeType values of et_def.proto. */
typedef enum chakra_type {
    CHAKRA_INVALID = 0,
    CHAKRA_METADATA = 1,
    CHAKRA_MEM_LOAD = 2,
    CHAKRA_MEM_STORE = 3,
    CHAKRA_COMP = 4,
    CHAKRA_SEND = 5,
    CHAKRA_RECV = 6,
    CHAKRA_COLL = 7
} chakra_type;

/* The CollectiveCommType values of et_def.proto. */
typedef enum chakra_coll {
    CHAKRA_ALL_REDUCE = 0,
    CHAKRA_REDUCE = 1,
    CHAKRA_ALL_GATHER = 2,
    CHAKRA_GATHER = 3,
    CHAKRA_SCATTER = 4,
    CHAKRA_BROADCAST = 5,
    CHAKRA_ALL_TO_ALL = 6,
    CHAKRA_REDUCE_SCATTER = 7,
    CHAKRA_REDUCE_SCATTER_BLOCK = 8,
    CHAKRA_BARRIER = 9
} chakra_coll;

/* Which optional attributes a node carries. */
enum {
    CHAKRA_HAS_NUM_OPS = 1 << 0,
    CHAKRA_HAS_TENSOR_SIZE = 1 << 1,
    CHAKRA_HAS_COMM_TYPE = 1 << 2,
    CHAKRA_HAS_COMM_SIZE = 1 << 3,
    CHAKRA_HAS_COMM_SRC = 1 << 4,
    CHAKRA_HAS_COMM_DST = 1 << 5,
    CHAKRA_HAS_COMM_TAG = 1 << 6,
    CHAKRA_HAS_STREAM = 1 << 7,
    CHAKRA_HAS_DURATION_PS = 1 << 8,
    CHAKRA_HAS_IS_CPU_OP = 1 << 9
};

typedef struct chakra_node {
    uint64_t id;
    char *name;
    int type;                   /* chakra_type, or the unknown value read */
    uint64_t *data_deps, *ctrl_deps;
    int ndata, nctrl;
    uint64_t duration_micros;
    uint64_t duration_ps;       /* clustersim's exact duration (CHAKRA_HAS_DURATION_PS) */
    unsigned has;               /* CHAKRA_HAS_* */
    double num_ops;             /* FLOPs */
    uint64_t tensor_size;       /* bytes */
    int comm_type;              /* chakra_coll */
    uint64_t comm_size;         /* bytes */
    int comm_src, comm_dst, comm_tag;
    int is_cpu_op;              /* Chakra's default when absent: 1 */
    int stream;
    char *pg_name;              /* NULL when absent */
    char *coll_algo;            /* clustersim's coll_algo attribute ("ring", ...), or NULL */
    unsigned char *involved_dim;
    int ninvolved;
} chakra_node;

typedef struct chakra_trace {
    char *version;              /* GlobalMetadata.version ("" when unset) */
    char *schema;               /* the "schema" attribute ("" when unset) */
    chakra_node *nodes;
    int nnodes, capnodes;
} chakra_trace;

/* Reads one file.  Errors name the file, the node (id, or the one before
 * the damage) and the problem: unreadable, gzip-compressed, truncated, a
 * message protobuf cannot decode, a schema version this reader does not
 * know.  out is filled only on success; chakra_free releases it. */
int chakra_read(const char *path, chakra_trace *out, cs_err *err);

/* Writes the trace to an open stream (the caller stages the file). */
int chakra_write(FILE *f, const chakra_trace *t, cs_err *err);

void chakra_free(chakra_trace *t);

/* Building a trace to write: the adders copy their strings and arrays. */
void chakra_init(chakra_trace *t, const char *version, const char *schema);
chakra_node *chakra_add(chakra_trace *t, uint64_t id, const char *name, chakra_type type);
void chakra_add_dep(chakra_node *n, uint64_t id);
void chakra_set_pg(chakra_node *n, const char *pg_name);
void chakra_set_algo(chakra_node *n, const char *algo);

/* The schema version this module writes, and whether one read is known. */
#define CHAKRA_VERSION "0.0.4"
#define CHAKRA_SCHEMA "1.0.2-chakra.0.0.4"
int chakra_version_known(const char *version, const char *schema);

const char *chakra_type_name(int type);
const char *chakra_coll_name(int comm_type);

#endif
