/* chakra_node: one node between its protobuf form and chakra_node: the
 * fields, the attributes clustersim reads, and their names (see chakra.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "chakra_private.h"
#include "cs_alloc.h"

typedef ChakraProtoMsg__AttributeProto pb_attr;

static char *copy_text(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = cs_xrealloc(NULL, n);
    memcpy(d, s ? s : "", n);
    return d;
}

/* An attribute's value as an integer, whichever integer field holds it. */
static int attr_int(const pb_attr *a, int64_t *v)
{
    switch (a->value_case) {
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT32_VAL: *v = a->int32_val; return 1;
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT64_VAL: *v = a->int64_val; return 1;
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_UINT32_VAL: *v = a->uint32_val; return 1;
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_UINT64_VAL: *v = (int64_t)a->uint64_val; return 1;
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_SINT32_VAL: *v = a->sint32_val; return 1;
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_SINT64_VAL: *v = a->sint64_val; return 1;
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_FIXED32_VAL: *v = a->fixed32_val; return 1;
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_FIXED64_VAL: *v = (int64_t)a->fixed64_val; return 1;
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_SFIXED32_VAL: *v = a->sfixed32_val; return 1;
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_SFIXED64_VAL: *v = a->sfixed64_val; return 1;
    case CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_BOOL_VAL: *v = a->bool_val; return 1;
    default: return 0;
    }
}

static int attr_number(const pb_attr *a, double *v)
{
    int64_t i;
    if (a->value_case == CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_DOUBLE_VAL)
        *v = a->double_val;
    else if (a->value_case == CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_FLOAT_VAL)
        *v = a->float_val;
    else if (attr_int(a, &i))
        *v = a->value_case == CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_UINT64_VAL
                 ? (double)a->uint64_val
                 : (double)i;
    else
        return 0;
    return 1;
}

/* The integer attributes clustersim reads: name, flag, where it goes. */
typedef struct int_attr {
    const char *name;
    unsigned flag;
    size_t offset;
    int wide; /* uint64_t field (else int) */
} int_attr;

static const int_attr int_attrs[] = {
    {"tensor_size", CHAKRA_HAS_TENSOR_SIZE, offsetof(chakra_node, tensor_size), 1},
    {"comm_type", CHAKRA_HAS_COMM_TYPE, offsetof(chakra_node, comm_type), 0},
    {"comm_size", CHAKRA_HAS_COMM_SIZE, offsetof(chakra_node, comm_size), 1},
    {"comm_src", CHAKRA_HAS_COMM_SRC, offsetof(chakra_node, comm_src), 0},
    {"comm_dst", CHAKRA_HAS_COMM_DST, offsetof(chakra_node, comm_dst), 0},
    {"comm_tag", CHAKRA_HAS_COMM_TAG, offsetof(chakra_node, comm_tag), 0},
    {"stream", CHAKRA_HAS_STREAM, offsetof(chakra_node, stream), 0},
    {"is_cpu_op", CHAKRA_HAS_IS_CPU_OP, offsetof(chakra_node, is_cpu_op), 0},
    {"duration_ps", CHAKRA_HAS_DURATION_PS, offsetof(chakra_node, duration_ps), 1},
};

static int read_int_attr(const int_attr *d, const pb_attr *a, chakra_node *n, cs_err *err)
{
    int64_t v;
    if (!attr_int(a, &v))
        return cs_fail(err, "attribute %s: expected an integer value", d->name);
    if (v < 0 && d->flag != CHAKRA_HAS_COMM_TAG)
        return cs_fail(err, "attribute %s: negative value %lld", d->name, (long long)v);
    if (!d->wide && v > INT32_MAX)
        return cs_fail(err, "attribute %s: value %lld out of range", d->name, (long long)v);
    char *field = (char *)n + d->offset;
    if (d->wide) {
        uint64_t u = a->value_case == CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_UINT64_VAL
                         ? a->uint64_val
                         : (uint64_t)v;
        memcpy(field, &u, sizeof u);
    } else {
        int i = (int)v;
        memcpy(field, &i, sizeof i);
    }
    n->has |= d->flag;
    return 0;
}

static int read_involved(const pb_attr *a, chakra_node *n, cs_err *err)
{
    if (a->value_case != CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_BOOL_LIST)
        return cs_fail(err, "attribute involved_dim: expected a bool list");
    free(n->involved_dim);
    n->ninvolved = (int)a->bool_list->n_values;
    n->involved_dim = cs_xrealloc(NULL, (size_t)n->ninvolved + 1);
    for (int i = 0; i < n->ninvolved; i++)
        n->involved_dim[i] = a->bool_list->values[i] != 0;
    return 0;
}

static int read_attr(const pb_attr *a, chakra_node *n, cs_err *err)
{
    for (size_t i = 0; i < sizeof int_attrs / sizeof int_attrs[0]; i++)
        if (strcmp(a->name, int_attrs[i].name) == 0)
            return read_int_attr(&int_attrs[i], a, n, err);
    if (strcmp(a->name, "num_ops") == 0) {
        if (!attr_number(a, &n->num_ops) || n->num_ops < 0)
            return cs_fail(err, "attribute num_ops: expected a non-negative number");
        n->has |= CHAKRA_HAS_NUM_OPS;
    } else if (strcmp(a->name, "pg_name") == 0) {
        if (a->value_case != CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_STRING_VAL)
            return cs_fail(err, "attribute pg_name: expected a string");
        free(n->pg_name);
        n->pg_name = copy_text(a->string_val);
    } else if (strcmp(a->name, "coll_algo") == 0) {
        if (a->value_case != CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_STRING_VAL)
            return cs_fail(err, "attribute coll_algo: expected a string");
        free(n->coll_algo);
        n->coll_algo = copy_text(a->string_val);
    } else if (strcmp(a->name, "involved_dim") == 0) {
        return read_involved(a, n, err);
    }
    return 0; /* other attributes (rf_id, op_schema, ...) are not used */
}

static uint64_t *copy_ids(const uint64_t *ids, size_t n)
{
    uint64_t *d = cs_xrealloc(NULL, sizeof *d * (n ? n : 1));
    if (n)
        memcpy(d, ids, sizeof *d * n);
    return d;
}

int chakra_node_from_pb(const ChakraProtoMsg__Node *m, chakra_node *n, cs_err *err)
{
    n->id = m->id;
    n->name = copy_text(m->name);
    n->type = (int)m->type;
    n->is_cpu_op = 1; /* Chakra's feeder: a node is a CPU op unless it says otherwise */
    n->data_deps = copy_ids(m->data_deps, m->n_data_deps);
    n->ndata = (int)m->n_data_deps;
    n->ctrl_deps = copy_ids(m->ctrl_deps, m->n_ctrl_deps);
    n->nctrl = (int)m->n_ctrl_deps;
    n->duration_micros = m->duration_micros;
    for (size_t i = 0; i < m->n_attr; i++)
        if (read_attr(m->attr[i], n, err) != 0)
            return -1;
    return 0;
}

/* ---- writing ----------------------------------------------------------------- */

static pb_attr *next_attr(chakra_pb_node *out, const char *name)
{
    size_t i = out->node.n_attr++;
    pb_attr init = CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__INIT;
    out->attr[i] = init;
    out->attr[i].name = (char *)name;
    out->attr_ptr[i] = &out->attr[i];
    return &out->attr[i];
}

static void put_int64(chakra_pb_node *out, const char *name, int64_t v)
{
    pb_attr *a = next_attr(out, name);
    a->value_case = CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT64_VAL;
    a->int64_val = v;
}

/* ASTRA-sim's feeder reads comm_src, comm_dst and comm_tag from int32_val. */
static void put_int32(chakra_pb_node *out, const char *name, int32_t v)
{
    pb_attr *a = next_attr(out, name);
    a->value_case = CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT32_VAL;
    a->int32_val = v;
}

static void put_uint64(chakra_pb_node *out, const char *name, uint64_t v)
{
    pb_attr *a = next_attr(out, name);
    a->value_case = CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_UINT64_VAL;
    a->uint64_val = v;
}

static void put_comm_attrs(const chakra_node *n, chakra_pb_node *out)
{
    if (n->has & CHAKRA_HAS_COMM_TYPE)
        put_int64(out, "comm_type", n->comm_type);
    if (n->has & CHAKRA_HAS_COMM_SIZE)
        put_int64(out, "comm_size", (int64_t)n->comm_size);
    if (n->has & CHAKRA_HAS_COMM_SRC)
        put_int32(out, "comm_src", n->comm_src);
    if (n->has & CHAKRA_HAS_COMM_DST)
        put_int32(out, "comm_dst", n->comm_dst);
    if (n->has & CHAKRA_HAS_COMM_TAG)
        put_int32(out, "comm_tag", n->comm_tag);
    if (n->pg_name) {
        pb_attr *a = next_attr(out, "pg_name");
        a->value_case = CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_STRING_VAL;
        a->string_val = n->pg_name;
    }
    if (n->coll_algo) {
        pb_attr *a = next_attr(out, "coll_algo");
        a->value_case = CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_STRING_VAL;
        a->string_val = n->coll_algo;
    }
    if (n->ninvolved > 0) {
        ChakraProtoMsg__BoolList init = CHAKRA_PROTO_MSG__BOOL_LIST__INIT;
        out->involved = init;
        int k = n->ninvolved < 64 ? n->ninvolved : 64;
        for (int i = 0; i < k; i++)
            out->involved_vals[i] = n->involved_dim[i];
        out->involved.n_values = (size_t)k;
        out->involved.values = out->involved_vals;
        pb_attr *a = next_attr(out, "involved_dim");
        a->value_case = CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_BOOL_LIST;
        a->bool_list = &out->involved;
    }
}

void chakra_node_to_pb(const chakra_node *n, chakra_pb_node *out)
{
    ChakraProtoMsg__Node init = CHAKRA_PROTO_MSG__NODE__INIT;
    out->node = init;
    out->node.id = n->id;
    out->node.name = n->name;
    out->node.type = (ChakraProtoMsg__NodeType)n->type;
    out->node.n_data_deps = (size_t)n->ndata;
    out->node.data_deps = n->data_deps;
    out->node.n_ctrl_deps = (size_t)n->nctrl;
    out->node.ctrl_deps = n->ctrl_deps;
    out->node.duration_micros = n->duration_micros;
    out->node.attr = out->attr_ptr;
    pb_attr *cpu = next_attr(out, "is_cpu_op");
    cpu->value_case = CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_BOOL_VAL;
    cpu->bool_val = n->is_cpu_op != 0;
    if (n->has & CHAKRA_HAS_NUM_OPS)
        put_int64(out, "num_ops", (int64_t)n->num_ops);
    if (n->has & CHAKRA_HAS_TENSOR_SIZE)
        put_uint64(out, "tensor_size", n->tensor_size);
    if (n->has & CHAKRA_HAS_STREAM)
        put_int64(out, "stream", n->stream);
    if (n->has & CHAKRA_HAS_DURATION_PS)
        put_uint64(out, "duration_ps", n->duration_ps);
    put_comm_attrs(n, out);
}

const char *chakra_type_name(int type)
{
    static const char *const names[] = {"INVALID_NODE",   "METADATA_NODE",  "MEM_LOAD_NODE",
                                        "MEM_STORE_NODE", "COMP_NODE",      "COMM_SEND_NODE",
                                        "COMM_RECV_NODE", "COMM_COLL_NODE"};
    return type >= 0 && type <= CHAKRA_COLL ? names[type] : "unknown";
}

const char *chakra_coll_name(int comm_type)
{
    static const char *const names[] = {"ALL_REDUCE", "REDUCE",         "ALL_GATHER",
                                        "GATHER",     "SCATTER",        "BROADCAST",
                                        "ALL_TO_ALL", "REDUCE_SCATTER", "REDUCE_SCATTER_BLOCK",
                                        "BARRIER"};
    return comm_type >= 0 && comm_type <= CHAKRA_BARRIER ? names[comm_type] : "unknown";
}
