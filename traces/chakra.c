/* chakra: the file framing (varint-delimited messages), the global
 * metadata and its version, and the trace's memory (see chakra.h).  The
 * nodes' fields and attributes are in chakra_node.c. */
#include "chakra.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chakra_private.h"
#include "cs_alloc.h"
#include "et_def.pb-c.h"

/* A message longer than this is not a node of a sane trace: a corrupt
 * length prefix would otherwise ask for gigabytes. */
#define MAX_MESSAGE_BYTES (64u << 20)

typedef struct reader {
    const char *path;
    unsigned char *data;
    size_t size, pos;
} reader;

static int slurp(reader *r, cs_err *err)
{
    FILE *f = fopen(r->path, "rb");
    if (!f)
        return cs_fail(err, "%s: cannot open: %s", r->path, strerror(errno));
    size_t cap = 1 << 16;
    r->data = cs_xrealloc(NULL, cap);
    r->size = 0;
    size_t got;
    while ((got = fread(r->data + r->size, 1, cap - r->size, f)) > 0) {
        r->size += got;
        if (r->size == cap)
            r->data = cs_xrealloc(r->data, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return cs_fail(err, "%s: read error", r->path);
    return 0;
}

/* The length prefix of the next message: 1 when one was read, 0 at a clean
 * end of file, -1 (err filled) when the prefix itself is cut or too long. */
static int next_length(reader *r, size_t *len, const char *where, cs_err *err)
{
    if (r->pos == r->size)
        return 0;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->pos == r->size)
            return cs_fail(err, "%s: truncated %s: the file ends inside a length prefix", r->path,
                           where);
        unsigned char b = r->data[r->pos++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (v > MAX_MESSAGE_BYTES)
                return cs_fail(err, "%s: %s claims %llu bytes: not a Chakra trace, or corrupt",
                               r->path, where, (unsigned long long)v);
            if (v > r->size - r->pos)
                return cs_fail(err,
                               "%s: truncated %s: it claims %llu bytes, the file has %zu left",
                               r->path, where, (unsigned long long)v, r->size - r->pos);
            *len = (size_t)v;
            return 1;
        }
    }
    return cs_fail(err, "%s: %s: length prefix longer than 10 bytes: not a Chakra trace", r->path,
                   where);
}

static char *dup_text(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = cs_xrealloc(NULL, n);
    memcpy(d, s ? s : "", n);
    return d;
}

int chakra_version_known(const char *version, const char *schema)
{
    /* GlobalMetadata arrived with et_def 0.0.4; Chakra 1.0 kept its layout.
     * The converters leave version empty and name the schema in an
     * attribute ("1.0.2-chakra.0.0.4", "1.0.2-chakra.1.0.0"). */
    if (version[0] && strncmp(version, "0.0.4", 5) != 0 && strncmp(version, "1.0.", 4) != 0)
        return 0;
    const char *c = strstr(schema, "chakra.");
    if (schema[0] && c && strncmp(c + 7, "0.0.4", 5) != 0 && strncmp(c + 7, "1.0.", 4) != 0)
        return 0;
    return 1;
}

static int read_metadata(reader *r, chakra_trace *t, cs_err *err)
{
    size_t len;
    int rc = next_length(r, &len, "global metadata", err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return cs_fail(err, "%s: empty file: a Chakra trace starts with its global metadata",
                       r->path);
    ChakraProtoMsg__GlobalMetadata *m =
        chakra_proto_msg__global_metadata__unpack(NULL, len, r->data + r->pos);
    if (!m)
        return cs_fail(err,
                       "%s: the first message is not Chakra global metadata (a trace from "
                       "before et_def 0.0.4, or not a Chakra trace)",
                       r->path);
    r->pos += len;
    t->version = dup_text(m->version);
    t->schema = dup_text("");
    for (size_t i = 0; i < m->n_attr; i++)
        if (strcmp(m->attr[i]->name, "schema") == 0 &&
            m->attr[i]->value_case == CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_STRING_VAL) {
            free(t->schema);
            t->schema = dup_text(m->attr[i]->string_val);
        }
    chakra_proto_msg__global_metadata__free_unpacked(m, NULL);
    if (!chakra_version_known(t->version, t->schema))
        return cs_fail(err,
                       "%s: Chakra schema version '%s' (schema '%s') is not one this reader "
                       "knows (0.0.4, 1.0.x)",
                       r->path, t->version, t->schema);
    return 0;
}

static void where_after(const chakra_trace *t, char *buf, size_t size)
{
    if (t->nnodes == 0)
        snprintf(buf, size, "first node");
    else
        snprintf(buf, size, "node after node %llu",
                 (unsigned long long)t->nodes[t->nnodes - 1].id);
}

static int read_nodes(reader *r, chakra_trace *t, cs_err *err)
{
    for (;;) {
        char where[64];
        where_after(t, where, sizeof where);
        size_t len;
        int rc = next_length(r, &len, where, err);
        if (rc <= 0)
            return rc;
        ChakraProtoMsg__Node *m = chakra_proto_msg__node__unpack(NULL, len, r->data + r->pos);
        if (!m)
            return cs_fail(err, "%s: %s (byte %zu): not a Chakra node message", r->path, where,
                           r->pos);
        r->pos += len;
        CS_GROW(t->nodes, t->capnodes, t->nnodes + 1);
        chakra_node *n = &t->nodes[t->nnodes++];
        memset(n, 0, sizeof *n);
        rc = chakra_node_from_pb(m, n, err);
        chakra_proto_msg__node__free_unpacked(m, NULL);
        if (rc != 0)
            return cs_fail_prefix(err, "%s: node %llu: ", r->path, (unsigned long long)n->id);
    }
}

int chakra_read(const char *path, chakra_trace *out, cs_err *err)
{
    reader r = {path, NULL, 0, 0};
    chakra_trace t;
    memset(&t, 0, sizeof t);
    int rc = slurp(&r, err);
    if (rc == 0 && r.size >= 2 && r.data[0] == 0x1f && r.data[1] == 0x8b)
        rc = cs_fail(err, "%s: gzip-compressed: gunzip it first", path);
    if (rc == 0)
        rc = read_metadata(&r, &t, err);
    if (rc == 0)
        rc = read_nodes(&r, &t, err);
    free(r.data);
    if (rc != 0) {
        chakra_free(&t);
        return -1;
    }
    *out = t;
    return 0;
}

/* One message with its varint length prefix, as protolib's encodeMessage. */
static int put_message(FILE *f, const ProtobufCMessage *m, cs_err *err)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    unsigned char prefix[10];
    int n = 0;
    size_t v = len;
    do {
        prefix[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            prefix[n] |= 0x80;
        n++;
    } while (v);
    unsigned char *buf = cs_xrealloc(NULL, len);
    protobuf_c_message_pack(m, buf);
    int ok = fwrite(prefix, 1, (size_t)n, f) == (size_t)n && fwrite(buf, 1, len, f) == len;
    free(buf);
    return ok ? 0 : cs_fail(err, "write error: %s", strerror(errno));
}

int chakra_write(FILE *f, const chakra_trace *t, cs_err *err)
{
    ChakraProtoMsg__GlobalMetadata meta = CHAKRA_PROTO_MSG__GLOBAL_METADATA__INIT;
    ChakraProtoMsg__AttributeProto schema = CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__INIT;
    ChakraProtoMsg__AttributeProto *attrs[1] = {&schema};
    meta.version = t->version;
    schema.name = "schema";
    schema.value_case = CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_STRING_VAL;
    schema.string_val = t->schema;
    meta.n_attr = 1;
    meta.attr = attrs;
    if (put_message(f, &meta.base, err) != 0)
        return -1;
    for (int i = 0; i < t->nnodes; i++) {
        chakra_pb_node pb;
        chakra_node_to_pb(&t->nodes[i], &pb);
        int rc = put_message(f, &pb.node.base, err);
        if (rc != 0)
            return -1;
    }
    return 0;
}

void chakra_init(chakra_trace *t, const char *version, const char *schema)
{
    memset(t, 0, sizeof *t);
    t->version = dup_text(version);
    t->schema = dup_text(schema);
}

void chakra_free(chakra_trace *t)
{
    for (int i = 0; i < t->nnodes; i++) {
        chakra_node *n = &t->nodes[i];
        free(n->name);
        free(n->data_deps);
        free(n->ctrl_deps);
        free(n->pg_name);
        free(n->coll_algo);
        free(n->involved_dim);
    }
    free(t->nodes);
    free(t->version);
    free(t->schema);
    memset(t, 0, sizeof *t);
}

chakra_node *chakra_add(chakra_trace *t, uint64_t id, const char *name, chakra_type type)
{
    CS_GROW(t->nodes, t->capnodes, t->nnodes + 1);
    chakra_node *n = &t->nodes[t->nnodes++];
    memset(n, 0, sizeof *n);
    n->id = id;
    n->name = dup_text(name);
    n->type = type;
    n->is_cpu_op = 1;
    return n;
}

void chakra_add_dep(chakra_node *n, uint64_t id)
{
    for (int i = 0; i < n->ndata; i++)
        if (n->data_deps[i] == id)
            return; /* once is enough */
    n->data_deps = cs_xrealloc(n->data_deps, sizeof *n->data_deps * (size_t)(n->ndata + 1));
    n->data_deps[n->ndata++] = id;
}

void chakra_set_pg(chakra_node *n, const char *pg_name)
{
    free(n->pg_name);
    n->pg_name = dup_text(pg_name);
}

void chakra_set_algo(chakra_node *n, const char *algo)
{
    free(n->coll_algo);
    n->coll_algo = dup_text(algo);
}
