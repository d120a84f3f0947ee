/* chakra_export: the lowered iteration as one Chakra trace per rank (see
 * chakra_export.h). */
#include "chakra_export.h"

#include <stdlib.h>
#include <string.h>

#include "chakra.h"
#include "cs_alloc.h"
#include "trainsim.h"

/* Where a task appears: one entry per (task, rank), in task order. */
typedef struct placed {
    int *first, *count; /* [task] -> entries */
    int *rank;          /* [entry] */
    int *node;          /* [entry]: index into the rank's trace */
    int n, cap;
} placed;

typedef struct exporter {
    const exec_graph *g;
    int ranks;
    chakra_trace *traces;  /* [rank] */
    int *stream_index;     /* [stream]: its index among its GPU's streams */
    placed at;
    /* communicator groups, named pg0, pg1, ... in order of first use */
    const coll_plan **groups;
    int ngroups, capgroups;
    int *tag;              /* [src * ranks + dst]: next transfer's tag */
} exporter;

static void place(exporter *x, int rank, chakra_node *n)
{
    placed *p = &x->at;
    CS_GROW(p->rank, p->cap, p->n + 1);
    p->node = cs_xrealloc(p->node, sizeof *p->node * (size_t)p->cap);
    p->rank[p->n] = rank;
    p->node[p->n] = (int)(n - x->traces[rank].nodes);
    p->n++;
}

static chakra_node *new_node(exporter *x, int rank, const char *name, chakra_type type)
{
    chakra_trace *t = &x->traces[rank];
    chakra_node *n = chakra_add(t, (uint64_t)t->nnodes, name, type);
    n->is_cpu_op = 0; /* ASTRA-sim skips CPU operators */
    place(x, rank, n);
    return n;
}

static int group_index(exporter *x, const coll_plan *plan)
{
    for (int i = 0; i < x->ngroups; i++) {
        const coll_plan *o = x->groups[i];
        if (o->nranks == plan->nranks &&
            memcmp(o->gpus, plan->gpus, sizeof *o->gpus * (size_t)o->nranks) == 0)
            return i;
    }
    CS_GROW(x->groups, x->capgroups, x->ngroups + 1);
    x->groups[x->ngroups] = plan;
    return x->ngroups++;
}

static int chakra_comm_type(coll_op op, int *out)
{
    switch (op) {
    case COLL_ALLREDUCE: *out = CHAKRA_ALL_REDUCE; return 0;
    case COLL_ALLGATHER: *out = CHAKRA_ALL_GATHER; return 0;
    case COLL_REDUCESCATTER: *out = CHAKRA_REDUCE_SCATTER; return 0;
    case COLL_ALLTOALL: *out = CHAKRA_ALL_TO_ALL; return 0;
    case COLL_BROADCAST: *out = CHAKRA_BROADCAST; return 0;
    default: return -1;
    }
}

static int put_collective(exporter *x, int t, cs_err *err)
{
    const coll_plan *plan = exec_task_plan(x->g, t);
    int comm_type;
    if (chakra_comm_type(plan->op, &comm_type) != 0)
        return cs_fail(err, "task '%s': a %s has no Chakra collective type",
                       exec_task_name(x->g, t), coll_op_name(plan->op));
    char pg[24];
    snprintf(pg, sizeof pg, "pg%d", group_index(x, plan));
    uint64_t size = exec_task_size_bytes(x->g, t);
    /* Chakra's converter counts a collective's input bytes: for an
     * all-gather each rank's shard, not the gathered buffer. */
    uint64_t comm_size = plan->op == COLL_ALLGATHER ? size / (uint64_t)plan->nranks : size;
    for (int i = 0; i < plan->nranks; i++) {
        int rank = plan->gpus[i];
        if (rank < 0 || rank >= x->ranks)
            return cs_fail(err, "task '%s': GPU %d outside the job", exec_task_name(x->g, t), rank);
        chakra_node *n = new_node(x, rank, exec_task_name(x->g, t), CHAKRA_COLL);
        n->comm_type = comm_type;
        n->comm_size = comm_size;
        n->has |= CHAKRA_HAS_COMM_TYPE | CHAKRA_HAS_COMM_SIZE;
        chakra_set_pg(n, pg);
        chakra_set_algo(n, coll_algo_name(plan->algo));
    }
    return 0;
}

static void put_transfer(exporter *x, int t)
{
    int src, dst;
    double bytes;
    exec_task_transfer(x->g, t, &src, &dst, &bytes);
    int tag = x->tag[src * x->ranks + dst]++;
    chakra_node *ends[2] = {new_node(x, src, exec_task_name(x->g, t), CHAKRA_SEND),
                            new_node(x, dst, exec_task_name(x->g, t), CHAKRA_RECV)};
    for (int i = 0; i < 2; i++) {
        ends[i]->comm_src = src;
        ends[i]->comm_dst = dst;
        ends[i]->comm_tag = tag;
        ends[i]->comm_size = (uint64_t)(bytes + 0.5);
        ends[i]->has |= CHAKRA_HAS_COMM_SRC | CHAKRA_HAS_COMM_DST | CHAKRA_HAS_COMM_TAG |
                        CHAKRA_HAS_COMM_SIZE;
    }
}

static void put_compute(exporter *x, int t)
{
    int s = exec_task_stream(x->g, t);
    uint64_t ps = exec_task_duration_ps(x->g, t);
    chakra_node *n = new_node(x, exec_stream_gpu(x->g, s), exec_task_name(x->g, t), CHAKRA_COMP);
    n->duration_micros = (ps + 500000) / 1000000;
    n->duration_ps = ps;
    n->stream = x->stream_index[s];
    n->has |= CHAKRA_HAS_DURATION_PS | CHAKRA_HAS_STREAM;
}

static int put_task(exporter *x, int t, cs_err *err)
{
    x->at.first[t] = x->at.n;
    int rc = 0;
    switch (exec_task_kind(x->g, t)) {
    case EXEC_COMPUTE:
        if (exec_task_stream(x->g, t) < 0)
            return cs_fail(err, "task '%s' runs on no GPU", exec_task_name(x->g, t));
        put_compute(x, t);
        break;
    case EXEC_COLLECTIVE: rc = put_collective(x, t, err); break;
    case EXEC_TRANSFER: put_transfer(x, t); break;
    case EXEC_DELAY:
        return cs_fail(err,
                       "task '%s' is a collective priced by the device profile's fitted time, "
                       "not a collective: Chakra cannot carry it (drop --device-profile)",
                       exec_task_name(x->g, t));
    }
    x->at.count[t] = x->at.n - x->at.first[t];
    return rc;
}

/* before -> after, in every file that holds both; an error when none does. */
static int put_dep(exporter *x, int before, int after, cs_err *err)
{
    const placed *p = &x->at;
    int put = 0;
    for (int a = p->first[after]; a < p->first[after] + p->count[after]; a++)
        for (int b = p->first[before]; b < p->first[before] + p->count[before]; b++)
            if (p->rank[a] == p->rank[b]) {
                chakra_trace *t = &x->traces[p->rank[a]];
                chakra_add_dep(&t->nodes[p->node[a]], t->nodes[p->node[b]].id);
                put = 1;
            }
    if (!put)
        return cs_fail(err, "'%s' waits for '%s' on another GPU with no communication between "
                       "them: Chakra cannot carry that dependency",
                       exec_task_name(x->g, after), exec_task_name(x->g, before));
    return 0;
}

static int put_deps(exporter *x, cs_err *err)
{
    int n = exec_task_count(x->g), nstreams = exec_stream_count(x->g);
    for (int i = 0; i < exec_dep_count(x->g); i++) {
        int before, after;
        exec_dep_at(x->g, i, &before, &after);
        if (put_dep(x, before, after, err) != 0)
            return -1;
    }
    /* A stream's program order: each task after the one before it. */
    int *last = cs_xrealloc(NULL, sizeof *last * (size_t)(nstreams ? nstreams : 1));
    for (int s = 0; s < nstreams; s++)
        last[s] = -1;
    int rc = 0;
    for (int t = 0; rc == 0 && t < n; t++) {
        int s = exec_task_stream(x->g, t);
        if (s < 0)
            continue;
        if (last[s] >= 0)
            rc = put_dep(x, last[s], t, err);
        last[s] = t;
    }
    free(last);
    return rc;
}

static void number_streams(exporter *x)
{
    int nstreams = exec_stream_count(x->g);
    int *per_gpu = calloc((size_t)x->ranks + 1, sizeof *per_gpu);
    x->stream_index = cs_xrealloc(NULL, sizeof *x->stream_index * (size_t)(nstreams + 1));
    if (!per_gpu)
        abort();
    for (int s = 0; s < nstreams; s++) {
        int gpu = exec_stream_gpu(x->g, s);
        x->stream_index[s] = gpu >= 0 && gpu < x->ranks ? per_gpu[gpu]++ : 0;
    }
    free(per_gpu);
}

static int write_groups(const exporter *x, report_set *files, cs_err *err)
{
    FILE *f = report_begin(files, "comm_group.json", err);
    if (!f)
        return -1;
    fputs("{", f);
    for (int i = 0; i < x->ngroups; i++) {
        fprintf(f, "%s\n  \"pg%d\": [", i ? "," : "", i);
        for (int k = 0; k < x->groups[i]->nranks; k++)
            fprintf(f, "%s%d", k ? ", " : "", x->groups[i]->gpus[k]);
        fputs("]", f);
    }
    fputs("\n}\n", f);
    return report_end(files, f, err);
}

static int write_traces(const exporter *x, report_set *files, cs_err *err)
{
    for (int r = 0; r < x->ranks; r++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%d.et", CHAKRA_EXPORT_PREFIX, r);
        FILE *f = report_begin(files, name, err);
        if (!f || chakra_write(f, &x->traces[r], err) != 0 || report_end(files, f, err) != 0)
            return -1;
    }
    return write_groups(x, files, err);
}

typedef struct export_ctx {
    int ranks;
    report_set *files;
} export_ctx;

static int export_graph(const exec_graph *g, void *ctx, cs_err *err)
{
    export_ctx *c = ctx;
    exporter x;
    memset(&x, 0, sizeof x);
    x.g = g;
    x.ranks = c->ranks;
    int n = exec_task_count(g);
    x.traces = cs_xrealloc(NULL, sizeof *x.traces * (size_t)x.ranks);
    for (int r = 0; r < x.ranks; r++)
        chakra_init(&x.traces[r], CHAKRA_VERSION, CHAKRA_SCHEMA);
    x.at.first = cs_xrealloc(NULL, sizeof(int) * (size_t)(n + 1));
    x.at.count = cs_xrealloc(NULL, sizeof(int) * (size_t)(n + 1));
    x.tag = calloc((size_t)x.ranks * (size_t)x.ranks, sizeof *x.tag);
    if (!x.tag)
        abort();
    number_streams(&x);
    int rc = 0;
    for (int t = 0; rc == 0 && t < n; t++)
        rc = put_task(&x, t, err);
    if (rc == 0)
        rc = put_deps(&x, err);
    if (rc == 0)
        rc = write_traces(&x, c->files, err);
    for (int r = 0; r < x.ranks; r++)
        chakra_free(&x.traces[r]);
    free(x.traces);
    free(x.at.first), free(x.at.count), free(x.at.rank), free(x.at.node);
    free(x.groups), free(x.tag), free(x.stream_index);
    return rc;
}

int chakra_export_iteration(const estimate_input *in, report_set *files, cs_err *err)
{
    export_ctx c = {in->gpus, files};
    if (trainsim_lowered(in, export_graph, &c, err) != 0)
        return cs_fail_prefix(err, "--chakra-out: ");
    return 0;
}
