/* opgraph_csv: the three CSV files of a placement graph, read with csvread. */
#include "opgraph_csv.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_alloc.h"
#include "csvread.h"

/* The columns a file needs (required) or may have; col[i] is the field
 * index of names[i], -1 when absent. */
#define MAX_COLS 12

typedef struct table {
    const char *const *names;
    int nrequired, ncols;
    int col[MAX_COLS];
    int header_done, rows;
    opgraph *g;
    char *group_seen;     /* groups.csv: ids listed */
    int ngroup_ids;
} table;

static int read_header(table *t, int line, char **f, int n, cs_err *err)
{
    for (int c = 0; c < t->ncols; c++) {
        t->col[c] = -1;
        for (int i = 0; i < n; i++)
            if (strcmp(f[i], t->names[c]) == 0)
                t->col[c] = i;
        if (c < t->nrequired && t->col[c] < 0)
            return cs_fail(err, "line %d: the header has no column '%s'", line, t->names[c]);
    }
    t->header_done = 1;
    return 0;
}

/* Field c of the row as text; "" when the column is absent or the row short. */
static const char *field(const table *t, char **f, int n, int c)
{
    return t->col[c] >= 0 && t->col[c] < n ? f[t->col[c]] : "";
}

static int number(const table *t, char **f, int n, int c, int line, double min, double *out,
                  cs_err *err)
{
    const char *s = field(t, f, n, c);
    double v = -1;
    *out = 0; /* set on every path: -O3 cannot see that cs_fail returns nonzero */
    if (csvread_number(s, &v) != 0 || !(v >= min) || v > 1e18)
        return cs_fail(err, "line %d: column '%s' is '%s'; expected a number >= %g", line,
                       t->names[c], s, min);
    *out = v;
    return 0;
}

static int integer(const table *t, char **f, int n, int c, int line, long min, long *out,
                   cs_err *err)
{
    double v;
    *out = 0;
    if (number(t, f, n, c, line, (double)min, &v, err) != 0)
        return -1;
    if (v != (double)(long)v || v > INT_MAX)
        return cs_fail(err, "line %d: column '%s' is '%s'; expected a whole number", line,
                       t->names[c], field(t, f, n, c));
    *out = (long)v;
    return 0;
}

/* expert_device: empty, a number, or a TensorFlow name ending in ":N". */
static int expert(const char *s, int line, int *dev, cs_err *err)
{
    if (*s == 0) {
        *dev = -1;
        return 0;
    }
    const char *p = strrchr(s, ':');
    p = p ? p + 1 : s;
    char *end;
    long d = strtol(p, &end, 10);
    if (*p == 0 || *end != 0 || d < 0 || d > 4095)
        return cs_fail(err, "line %d: column 'expert_device' is '%s'; expected empty, a "
                       "device number or a name such as /device:GPU:3", line, s);
    *dev = (int)d;
    return 0;
}

static const char *const node_cols[] = {"id", "name", "compute_us", "perm_mem_bytes",
                                        "temp_mem_bytes", "output_mem_bytes",
                                        "colocation_group", "expert_device", "topo_order"};
enum { N_ID, N_NAME, N_COMPUTE, N_PERM, N_TEMP, N_OUT, N_GROUP, N_EXPERT, N_ORDER };

static int node_row(void *ctx, int line, char **f, int n, cs_err *err)
{
    table *t = ctx;
    if (!t->header_done)
        return read_header(t, line, f, n, err);
    opg_node nd = {0};
    long id, group = -1, order = t->g->n;
    double perm, temp, out;
    if (integer(t, f, n, N_ID, line, 0, &id, err) || number(t, f, n, N_COMPUTE, line, 0, &nd.compute_us, err) ||
        number(t, f, n, N_PERM, line, 0, &perm, err) || number(t, f, n, N_TEMP, line, 0, &temp, err) ||
        number(t, f, n, N_OUT, line, 0, &out, err))
        return -1;
    if (*field(t, f, n, N_GROUP) && integer(t, f, n, N_GROUP, line, 0, &group, err))
        return -1;
    if (*field(t, f, n, N_ORDER) && integer(t, f, n, N_ORDER, line, 0, &order, err))
        return -1;
    if (expert(field(t, f, n, N_EXPERT), line, &nd.expert_dev, err))
        return -1;
    if (id != t->g->n)
        return cs_fail(err, "line %d: operator id %ld out of sequence; ids are 0, 1, 2, ... "
                       "in file order (expected %d)", line, id, t->g->n);
    nd.perm_bytes = (uint64_t)perm;
    nd.temp_bytes = (uint64_t)temp;
    nd.out_bytes = (uint64_t)out;
    nd.group = (int)group;
    nd.order = (int)order;
    opg_add_node(t->g, field(t, f, n, N_NAME), &nd);
    return 0;
}

static const char *const edge_cols[] = {"src", "dst", "bytes", "num_tensors", "src_outputs"};
enum { E_SRC, E_DST, E_BYTES, E_NT, E_OUTS };
#define MAX_EDGE_OUTPUTS 256
/* Every edge's tensor slots are held in one array of int-indexed entries:
 * the file's edges carry at most this many in all (GNMT's: a few thousand). */
#define MAX_TENSOR_SLOTS (1 << 26)

/* The graph's tensor slots stay within MAX_TENSOR_SLOTS with n more. */
static int check_slots(const table *t, int line, long n, cs_err *err)
{
    if ((long)t->g->netensor + n <= MAX_TENSOR_SLOTS)
        return 0;
    return cs_fail(err, "line %d: the edges so far carry more than %d tensors in all; the limit "
                   "is %d", line, MAX_TENSOR_SLOTS, MAX_TENSOR_SLOTS);
}

/* src_outputs: output indices separated by ';' (distinct, 0 to 65535); an
 * empty field is a control dependency. */
static int parse_outputs(const char *s, int line, int *outs, int *n, cs_err *err)
{
    *n = 0;
    if (*s == 0) {
        outs[(*n)++] = OPG_OUT_CONTROL;
        return 0;
    }
    for (const char *p = s;;) {
        char *end;
        errno = 0;
        long o = strtol(p, &end, 10);
        if (end == p || (*end != ';' && *end != 0) || errno != 0 || o < 0 || o > 65535 ||
            *n == MAX_EDGE_OUTPUTS)
            return cs_fail(err, "line %d: column 'src_outputs' is '%s'; expected output indices "
                           "(0 to 65535, at most %d) separated by ';', e.g. 6;1", line, s,
                           MAX_EDGE_OUTPUTS);
        for (int i = 0; i < *n; i++)
            if (outs[i] == (int)o)
                return cs_fail(err, "line %d: column 'src_outputs' is '%s'; output %ld appears "
                               "twice", line, s, o);
        outs[(*n)++] = (int)o;
        if (*end == 0)
            return 0;
        p = end + 1;
    }
}

/* With src_outputs: the edge carries those outputs, its bytes split evenly
 * (the file gives only their sum). */
static int add_edge_outputs(table *t, char **f, int n, int line, long src, long dst,
                            double bytes, cs_err *err)
{
    int outs[MAX_EDGE_OUTPUTS], k;
    uint64_t b[MAX_EDGE_OUTPUTS];
    if (parse_outputs(field(t, f, n, E_OUTS), line, outs, &k, err) != 0)
        return -1;
    long nt = k;
    if (outs[0] != OPG_OUT_CONTROL && *field(t, f, n, E_NT) &&
        (integer(t, f, n, E_NT, line, 1, &nt, err) || nt != k))
        return nt == k ? -1 : cs_fail(err, "line %d: 'num_tensors' is %ld but 'src_outputs' "
                                      "names %d output%s", line, nt, k, k == 1 ? "" : "s");
    if (check_slots(t, line, k, err) != 0)
        return -1;
    for (int i = 0; i < k; i++)
        b[i] = (uint64_t)bytes / (uint64_t)k + (i == 0 ? (uint64_t)bytes % (uint64_t)k : 0);
    opg_add_edge_outputs(t->g, (int)src, (int)dst, k, outs, b);
    return 0;
}

static int edge_row(void *ctx, int line, char **f, int n, cs_err *err)
{
    table *t = ctx;
    if (!t->header_done)
        return read_header(t, line, f, n, err);
    long src, dst, nt = 1;
    double bytes;
    if (integer(t, f, n, E_SRC, line, 0, &src, err) || integer(t, f, n, E_DST, line, 0, &dst, err) ||
        number(t, f, n, E_BYTES, line, 0, &bytes, err))
        return -1;
    if (src >= t->g->n || dst >= t->g->n)
        return cs_fail(err, "line %d: edge %ld -> %ld names an operator that nodes.csv does "
                       "not have (operators are 0 to %d)", line, src, dst, t->g->n - 1);
    if (src == dst)
        return cs_fail(err, "line %d: edge %ld -> %ld: an operator cannot feed itself", line,
                       src, dst);
    if (t->col[E_OUTS] >= 0)
        return add_edge_outputs(t, f, n, line, src, dst, bytes, err);
    if (*field(t, f, n, E_NT) && integer(t, f, n, E_NT, line, 1, &nt, err))
        return -1;
    if (nt > MAX_EDGE_OUTPUTS) /* as many as src_outputs may name */
        return cs_fail(err, "line %d: column 'num_tensors' is %ld; an edge carries at most %d "
                       "tensors", line, nt, MAX_EDGE_OUTPUTS);
    if (check_slots(t, line, nt, err) != 0)
        return -1;
    opg_add_edge(t->g, (int)src, (int)dst, (uint64_t)bytes, (int)nt);
    return 0;
}

static const char *const group_cols[] = {"group_id"};
#define OPG_MAX_GROUP_ID (1 << 24)

static int group_row(void *ctx, int line, char **f, int n, cs_err *err)
{
    table *t = ctx;
    if (!t->header_done)
        return read_header(t, line, f, n, err);
    long id;
    if (integer(t, f, n, 0, line, 0, &id, err))
        return -1;
    if (id > OPG_MAX_GROUP_ID) /* ids index a table: 2e9 would allocate 2 GB */
        return cs_fail(err, "line %d: group_id %ld is above %d", line, id, OPG_MAX_GROUP_ID);
    if (id >= t->ngroup_ids) {
        int cap = (int)id + 1;
        t->group_seen = cs_xrealloc(t->group_seen, (size_t)cap);
        memset(t->group_seen + t->ngroup_ids, 0, (size_t)(cap - t->ngroup_ids));
        t->ngroup_ids = cap;
    }
    t->group_seen[id] = 1;
    return 0;
}

static int read_one(const char *dir, const char *file, table *t, csvread_row_fn fn, cs_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (csvread_file(path, fn, t, err) != 0)
        return -1;
    if (!t->header_done)
        return cs_fail(err, "%s: the file is empty (it needs a header line)", path);
    return 0;
}

/* Every node's group must be listed in groups.csv (when the file exists). */
static int check_groups(const char *dir, opgraph *g, cs_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/groups.csv", dir);
    if (access(path, F_OK) != 0)
        return 0;
    table t = {group_cols, 1, 1, {0}, 0, 0, g, NULL, 0};
    int rc = read_one(dir, "groups.csv", &t, group_row, err);
    for (int v = 0; rc == 0 && v < g->n; v++) {
        int gr = g->nodes[v].group;
        if (gr >= 0 && (gr >= t.ngroup_ids || !t.group_seen[gr]))
            rc = cs_fail(err, "%s/nodes.csv: operator %d ('%s') is in colocation group %d, "
                         "which groups.csv does not list", dir, v, opg_name(g, v), gr);
    }
    free(t.group_seen);
    return rc;
}

int opgraph_read_dir(const char *dir, opgraph *g, cs_err *err)
{
    opg_init(g);
    table nodes = {node_cols, 7, 9, {0}, 0, 0, g, NULL, 0};
    table edges = {edge_cols, 3, 5, {0}, 0, 0, g, NULL, 0};
    if (read_one(dir, "nodes.csv", &nodes, node_row, err) != 0 ||
        read_one(dir, "edges.csv", &edges, edge_row, err) != 0 || check_groups(dir, g, err) != 0)
        return -1;
    g->shared_tensors = edges.col[E_OUTS] >= 0;
    if (g->n == 0)
        return cs_fail(err, "%s/nodes.csv has no operators", dir);
    if (opg_finish(g, err) != 0)
        return cs_fail_prefix(err, "%s/edges.csv: ", dir);
    return 0;
}
