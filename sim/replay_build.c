/* replay_build: per-rank Chakra traces checked and turned into one exec
 * task graph (see replay.h for the mapping of every node type). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "opgraph.h"
#include "replay_private.h"
#include "units.h"

typedef struct group {
    char *pg;                /* NULL: selected by involved_dim, or all ranks */
    int *members, n;         /* ranks, ascending */
    int **colls, *ncolls;    /* [member]: its nodes on the group, in file order */
} group;

typedef struct rank_state {
    int *task;               /* [node] */
    int **deps, *ndeps;      /* [node]: indices of the nodes it waits for */
    int *order;              /* topological order (ties: file order) */
    int *group, *pos;        /* COLL nodes: group, and place in the member's list */
    int *partner_rank, *partner_node; /* SEND/RECV: the other end */
    int *stream_key, *stream_id, nstreams; /* exec streams of the rank, by key */
} rank_state;

typedef struct builder {
    const replay_traces *tr;
    const replay_input *in;
    replay_graph *rg;
    cs_err *err;
    rank_state *rs;
    group *groups;
    int ngroups, capgroups;
} builder;

enum { KEY_CPU = -2, KEY_MEMORY = -1 }; /* stream keys; GPU streams use their number */

static const chakra_node *node_at(const builder *b, int r, int i)
{
    return &b->tr->rank[r].nodes[i];
}

static int fail_node(builder *b, int r, int i, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_node(builder *b, int r, int i, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cs_fail(b->err, "%s: node %llu: %s", b->tr->paths[r],
                   (unsigned long long)node_at(b, r, i)->id, msg);
}

/* ---- one file: ids, dependencies, order ----------------------------------------- */

typedef struct id_index {
    uint64_t id;
    int idx;
} id_index;

static int by_id(const void *a, const void *b)
{
    const id_index *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id ? 1 : x->idx - y->idx;
}

static int find_id(const id_index *ix, int n, uint64_t id)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (ix[mid].id == id)
            return ix[mid].idx;
        if (ix[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int resolve_deps(builder *b, int r, const id_index *ix)
{
    const chakra_trace *t = &b->tr->rank[r];
    rank_state *s = &b->rs[r];
    for (int i = 0; i < t->nnodes; i++) {
        const chakra_node *n = &t->nodes[i];
        if (n->type < CHAKRA_INVALID || n->type > CHAKRA_COLL)
            return fail_node(b, r, i, "unknown node type %d (et_def knows 0 to 7)", n->type);
        s->deps[i] = cs_xrealloc(NULL, sizeof(int) * (size_t)(n->ndata + n->nctrl + 1));
        for (int k = 0; k < n->ndata + n->nctrl; k++) {
            uint64_t id = k < n->ndata ? n->data_deps[k] : n->ctrl_deps[k - n->ndata];
            int j = find_id(ix, t->nnodes, id);
            if (j < 0)
                return fail_node(b, r, i, "%s dependency on node %llu, which is not in the file",
                                 k < n->ndata ? "data" : "control", (unsigned long long)id);
            s->deps[i][s->ndeps[i]++] = j;
        }
    }
    return 0;
}

/* The file's nodes in dependency order, ties in file order: opgraph's
 * topological sort with the file index as each node's tie-break rank. */
static int topo_order(builder *b, int r)
{
    int n = b->tr->rank[r].nnodes;
    rank_state *s = &b->rs[r];
    opgraph g;
    opg_init(&g);
    for (int i = 0; i < n; i++) {
        opg_node f = {0};
        f.group = f.expert_dev = -1;
        f.order = i;
        opg_add_node(&g, "", &f);
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < s->ndeps[i]; k++) {
            if (s->deps[i][k] == i) {
                opg_free(&g);
                return fail_node(b, r, i, "the node depends on itself");
            }
            opg_add_edge(&g, s->deps[i][k], i, 0, 0);
        }
    cs_err cycle;
    int rc = 0;
    if (opg_finish(&g, &cycle) != 0) {
        int stuck = 0;
        while (g.rank[stuck] >= 0)
            stuck++;
        rc = fail_node(b, r, stuck, "in or behind a dependency cycle: it can never start");
    } else {
        memcpy(s->order, g.topo, sizeof *s->order * (size_t)n);
    }
    opg_free(&g);
    return rc;
}

static int check_file(builder *b, int r)
{
    const chakra_trace *t = &b->tr->rank[r];
    rank_state *s = &b->rs[r];
    size_t n = (size_t)t->nnodes + 1;
    s->task = cs_xrealloc(NULL, sizeof(int) * n);
    s->deps = calloc(n, sizeof *s->deps);
    s->ndeps = calloc(n, sizeof *s->ndeps);
    s->order = cs_xrealloc(NULL, sizeof(int) * n);
    s->group = cs_xrealloc(NULL, sizeof(int) * n);
    s->pos = cs_xrealloc(NULL, sizeof(int) * n);
    s->partner_rank = cs_xrealloc(NULL, sizeof(int) * n);
    s->partner_node = cs_xrealloc(NULL, sizeof(int) * n);
    if (!s->deps || !s->ndeps)
        abort();
    for (int i = 0; i < t->nnodes; i++)
        s->task[i] = s->group[i] = s->partner_rank[i] = -1;
    id_index *ix = cs_xrealloc(NULL, sizeof *ix * n);
    for (int i = 0; i < t->nnodes; i++)
        ix[i] = (id_index){t->nodes[i].id, i};
    qsort(ix, (size_t)t->nnodes, sizeof *ix, by_id);
    int rc = 0;
    for (int i = 1; rc == 0 && i < t->nnodes; i++)
        if (ix[i].id == ix[i - 1].id)
            rc = fail_node(b, r, ix[i].idx, "duplicate node id");
    if (rc == 0)
        rc = resolve_deps(b, r, ix);
    free(ix);
    return rc == 0 ? topo_order(b, r) : rc;
}

/* ---- collectives: groups and matching ------------------------------------------ */

static int add_group(builder *b, const char *pg, const int *members, int n)
{
    CS_GROW(b->groups, b->capgroups, b->ngroups + 1);
    group *g = &b->groups[b->ngroups];
    memset(g, 0, sizeof *g);
    if (pg) {
        g->pg = cs_xrealloc(NULL, strlen(pg) + 1);
        strcpy(g->pg, pg);
    }
    g->members = cs_xrealloc(NULL, sizeof(int) * (size_t)(n + 1));
    memcpy(g->members, members, sizeof(int) * (size_t)n);
    g->n = n;
    return b->ngroups++;
}

static int group_named(builder *b, const char *pg)
{
    for (int i = 0; i < b->ngroups; i++)
        if (b->groups[i].pg && strcmp(b->groups[i].pg, pg) == 0)
            return i;
    return -1;
}

/* Members of a pg_name: every rank whose file names it. */
static void collect_named_groups(builder *b)
{
    for (int r = 0; r < b->tr->ranks; r++)
        for (int i = 0; i < b->tr->rank[r].nnodes; i++) {
            const chakra_node *n = node_at(b, r, i);
            if (n->type != CHAKRA_COLL || !n->pg_name)
                continue;
            int g = group_named(b, n->pg_name);
            if (g < 0)
                g = add_group(b, n->pg_name, &r, 1);
            group *gr = &b->groups[g];
            if (gr->members[gr->n - 1] != r) {
                gr->members = cs_xrealloc(gr->members, sizeof(int) * (size_t)(gr->n + 1));
                gr->members[gr->n++] = r;
            }
        }
}

/* Ranks an involved_dim selects around rank r: dimension 0 is the GPUs of
 * r's node, dimension 1 the same local GPU on every node; a dimension the
 * list leaves out is involved.  Returns the group, or -1 (err filled). */
static int dims_group(builder *b, int r, int i)
{
    const chakra_node *n = node_at(b, r, i);
    for (int d = 2; d < n->ninvolved; d++)
        if (!n->involved_dim[d])
            return fail_node(b, r, i, "involved_dim has %d dimensions; clustersim maps two "
                             "(in a node, across nodes): name the group with pg_name",
                             n->ninvolved);
    int in_node = n->ninvolved < 1 || n->involved_dim[0];
    int across = n->ninvolved < 2 || n->involved_dim[1];
    topo *t = b->in->topology;
    int node_r = topo_node_of_gpu(t, r), per_node = topo_gpus_in_node(t, node_r);
    int ranks = b->tr->ranks, nm = 0;
    int *m = cs_xrealloc(NULL, sizeof(int) * (size_t)ranks);
    for (int q = 0; q < ranks; q++) {
        int same_node = topo_node_of_gpu(t, q) == node_r;
        int same_local = q % per_node == r % per_node; /* nodes alike: GPUs numbered node by node */
        if ((in_node || same_local) && (across || same_node))
            m[nm++] = q;
    }
    int g = -1;
    for (int k = 0; k < b->ngroups && g < 0; k++)
        if (!b->groups[k].pg && b->groups[k].n == nm &&
            memcmp(b->groups[k].members, m, sizeof(int) * (size_t)nm) == 0)
            g = k;
    if (g < 0)
        g = add_group(b, NULL, m, nm);
    free(m);
    return g;
}

static int member_index(const group *g, int r)
{
    for (int k = 0; k < g->n; k++)
        if (g->members[k] == r)
            return k;
    return -1;
}

static int assign_groups(builder *b)
{
    for (int r = 0; r < b->tr->ranks; r++)
        for (int i = 0; i < b->tr->rank[r].nnodes; i++) {
            const chakra_node *n = node_at(b, r, i);
            if (n->type != CHAKRA_COLL)
                continue;
            int g = n->pg_name ? group_named(b, n->pg_name) : dims_group(b, r, i);
            if (g < 0)
                return -1;
            group *gr = &b->groups[g];
            if (!gr->colls) {
                gr->colls = calloc((size_t)gr->n, sizeof *gr->colls);
                gr->ncolls = calloc((size_t)gr->n, sizeof *gr->ncolls);
                if (!gr->colls || !gr->ncolls)
                    abort();
            }
            int k = member_index(gr, r);
            gr->colls[k] = cs_xrealloc(gr->colls[k], sizeof(int) * (size_t)(gr->ncolls[k] + 1));
            b->rs[r].group[i] = g;
            b->rs[r].pos[i] = gr->ncolls[k];
            gr->colls[k][gr->ncolls[k]++] = i;
        }
    return 0;
}

static const char *group_label(const group *g, char *buf, size_t size)
{
    if (g->pg)
        snprintf(buf, size, "group '%s'", g->pg);
    else
        snprintf(buf, size, "its group of %d ranks", g->n);
    return buf;
}

/* Every member of a group has as many collectives on it. */
static int check_groups(builder *b)
{
    for (int g = 0; g < b->ngroups; g++) {
        group *gr = &b->groups[g];
        for (int k = 1; gr->colls && k < gr->n; k++) {
            int a = gr->ncolls[0] < gr->ncolls[k] ? 0 : k, z = a == 0 ? k : 0;
            if (gr->ncolls[a] == gr->ncolls[z])
                continue;
            char lab[96];
            int ra = gr->members[a], rz = gr->members[z];
            return fail_node(b, rz, gr->colls[z][gr->ncolls[a]],
                             "collective %d on %s has no partner in %s (that rank has %d "
                             "collectives on the group, this one %d)",
                             gr->ncolls[a] + 1, group_label(gr, lab, sizeof lab),
                             b->tr->paths[ra], gr->ncolls[a], gr->ncolls[z]);
        }
    }
    return 0;
}


/* ---- point-to-point: the k-th send a -> b with tag t meets the k-th receive ---- */

typedef struct p2p_end {
    int src, dst, tag, rank, node;
} p2p_end;

static int pair_cmp(const p2p_end *x, const p2p_end *y)
{
    if (x->src != y->src)
        return x->src - y->src;
    if (x->dst != y->dst)
        return x->dst - y->dst;
    return x->tag < y->tag ? -1 : x->tag > y->tag;
}

static int by_pair(const void *a, const void *b)
{
    const p2p_end *x = a, *y = b;
    int c = pair_cmp(x, y);
    return c ? c : x->node - y->node; /* file order within one rank's file */
}

static int unmatched(builder *b, const p2p_end *lone, int is_send)
{
    return fail_node(b, lone->rank, lone->node,
                     "no matching %s for this transfer %d -> %d with tag %d in %s",
                     is_send ? "COMM_RECV_NODE" : "COMM_SEND_NODE", lone->src, lone->dst,
                     lone->tag, b->tr->paths[is_send ? lone->dst : lone->src]);
}

/* The node's (src, dst, tag); sends need comm_dst, receives comm_src. */
static int p2p_key(builder *b, int r, int i, p2p_end *e)
{
    const chakra_node *n = node_at(b, r, i);
    int send = n->type == CHAKRA_SEND;
    unsigned need = send ? CHAKRA_HAS_COMM_DST : CHAKRA_HAS_COMM_SRC;
    if (!(n->has & need))
        return fail_node(b, r, i, "%s without %s: its peer is unknown", chakra_type_name(n->type),
                         send ? "comm_dst" : "comm_src");
    if (!(n->has & CHAKRA_HAS_COMM_SIZE))
        return fail_node(b, r, i, "%s without comm_size", chakra_type_name(n->type));
    int self = send ? n->comm_src : n->comm_dst;
    unsigned self_flag = send ? CHAKRA_HAS_COMM_SRC : CHAKRA_HAS_COMM_DST;
    if ((n->has & self_flag) && self != r)
        return fail_node(b, r, i, "%s %d is not this file's rank %d", send ? "comm_src" : "comm_dst",
                         self, r);
    int peer = send ? n->comm_dst : n->comm_src;
    if (peer < 0 || peer >= b->tr->ranks)
        return fail_node(b, r, i, "peer rank %d: the traces have ranks 0 to %d", peer,
                         b->tr->ranks - 1);
    *e = (p2p_end){send ? r : peer, send ? peer : r, (n->has & CHAKRA_HAS_COMM_TAG) ? n->comm_tag : 0,
                   r, i};
    return 0;
}

static int match_p2p(builder *b)
{
    p2p_end *sends = NULL, *recvs = NULL;
    int ns = 0, nr = 0, caps = 0, capr = 0, rc = 0;
    for (int r = 0; rc == 0 && r < b->tr->ranks; r++)
        for (int i = 0; rc == 0 && i < b->tr->rank[r].nnodes; i++) {
            int type = node_at(b, r, i)->type;
            p2p_end e;
            if (type != CHAKRA_SEND && type != CHAKRA_RECV)
                continue;
            if ((rc = p2p_key(b, r, i, &e)) != 0)
                break;
            if (type == CHAKRA_SEND) {
                CS_GROW(sends, caps, ns + 1);
                sends[ns++] = e;
            } else {
                CS_GROW(recvs, capr, nr + 1);
                recvs[nr++] = e;
            }
        }
    if (rc == 0 && ns > 0)
        qsort(sends, (size_t)ns, sizeof *sends, by_pair);
    if (rc == 0 && nr > 0)
        qsort(recvs, (size_t)nr, sizeof *recvs, by_pair);
    int k = 0;
    for (; rc == 0 && k < ns && k < nr; k++) {
        int c = pair_cmp(&sends[k], &recvs[k]);
        if (c != 0) {
            rc = unmatched(b, c < 0 ? &sends[k] : &recvs[k], c < 0);
            break;
        }
        b->rs[sends[k].rank].partner_rank[sends[k].node] = recvs[k].rank;
        b->rs[sends[k].rank].partner_node[sends[k].node] = recvs[k].node;
        b->rs[recvs[k].rank].partner_rank[recvs[k].node] = sends[k].rank;
        b->rs[recvs[k].rank].partner_node[recvs[k].node] = sends[k].node;
    }
    if (rc == 0 && (k < ns || k < nr))
        rc = unmatched(b, k < ns ? &sends[k] : &recvs[k], k < ns);
    free(sends);
    free(recvs);
    return rc;
}

/* ---- tasks ------------------------------------------------------------------ */

static void note_task(builder *b, int task, int role, const int *ranks, int n)
{
    replay_graph *rg = b->rg;
    rg->ntasks = task + 1;
    rg->role = cs_xrealloc(rg->role, (size_t)rg->ntasks);
    rg->ranks_first = cs_xrealloc(rg->ranks_first, sizeof(int) * (size_t)(rg->ntasks + 1));
    rg->role[task] = (unsigned char)role;
    rg->ranks_first[task] = rg->nranks_used;
    CS_GROW(rg->ranks, rg->capranks, rg->nranks_used + n);
    memcpy(rg->ranks + rg->nranks_used, ranks, sizeof(int) * (size_t)n);
    rg->nranks_used += n;
    rg->ranks_first[task + 1] = rg->nranks_used;
}

static int stream_of(builder *b, int r, int key)
{
    rank_state *s = &b->rs[r];
    for (int k = 0; k < s->nstreams; k++)
        if (s->stream_key[k] == key)
            return s->stream_id[k];
    char label[32];
    if (key == KEY_CPU)
        snprintf(label, sizeof label, "cpu");
    else if (key == KEY_MEMORY)
        snprintf(label, sizeof label, "memory");
    else
        snprintf(label, sizeof label, "stream %d", key);
    s->stream_key = cs_xrealloc(s->stream_key, sizeof(int) * (size_t)(s->nstreams + 1));
    s->stream_id = cs_xrealloc(s->stream_id, sizeof(int) * (size_t)(s->nstreams + 1));
    s->stream_key[s->nstreams] = key;
    s->stream_id[s->nstreams] = exec_stream(b->rg->g, r, label);
    return s->stream_id[s->nstreams++];
}

static uint64_t compute_ps(builder *b, const chakra_node *n)
{
    const replay_input *in = b->in;
    int has_ops = (n->has & CHAKRA_HAS_NUM_OPS) != 0;
    int recorded = (n->has & CHAKRA_HAS_DURATION_PS) || n->duration_micros > 0;
    if (recorded && !(in->price_compute && has_ops))
        return (n->has & CHAKRA_HAS_DURATION_PS) ? n->duration_ps : n->duration_micros * 1000000u;
    if (has_ops || (n->has & CHAKRA_HAS_TENSOR_SIZE)) {
        b->rg->counts->priced++;
        /* The traces do not say the data type: 16-bit, as training runs. */
        return units_s_to_ps_ceil(opcost_roofline_s(in->device, in->eff, MODEL_BF16, n->num_ops,
                                                    (double)n->tensor_size));
    }
    b->rg->counts->untimed++;
    return 0;
}

static void add_compute(builder *b, int r, int i)
{
    const chakra_node *n = node_at(b, r, i);
    int key = n->is_cpu_op ? KEY_CPU : (n->has & CHAKRA_HAS_STREAM) ? n->stream : 0;
    int t = exec_compute(b->rg->g, stream_of(b, r, key), compute_ps(b, n), n->name);
    b->rs[r].task[i] = t;
    note_task(b, t, n->is_cpu_op ? RR_CPU : RR_GPU, &r, 1);
}

static void add_memory(builder *b, int r, int i)
{
    const chakra_node *n = node_at(b, r, i);
    double s = opcost_membound_s(b->in->device, b->in->eff, (double)n->tensor_size);
    int t = exec_compute(b->rg->g, stream_of(b, r, KEY_MEMORY), units_s_to_ps_ceil(s), n->name);
    b->rs[r].task[i] = t;
    note_task(b, t, RR_MEMORY, &r, 1);
}

static void add_transfer(builder *b, int r, int i)
{
    const chakra_node *n = node_at(b, r, i);
    int pr = b->rs[r].partner_rank[i], pn = b->rs[r].partner_node[i];
    int src = n->type == CHAKRA_SEND ? r : pr, dst = n->type == CHAKRA_SEND ? pr : r;
    int t = src == dst ? exec_delay(b->rg->g, 0, n->name)
                       : exec_transfer(b->rg->g, -1, src, dst, (double)n->comm_size, n->name);
    b->rs[r].task[i] = t;
    b->rs[pr].task[pn] = t;
    int ends[2] = {src, dst};
    note_task(b, t, RR_P2P, ends, src == dst ? 1 : 2);
    b->rg->counts->transfers++;
}


/* Chakra's collective types as ours; the ones we have no plan for fail. */
static int coll_op_of(builder *b, int r, int i, coll_op *op, uint64_t *size)
{
    const chakra_node *n = node_at(b, r, i);
    if (!(n->has & CHAKRA_HAS_COMM_TYPE))
        return fail_node(b, r, i, "COMM_COLL_NODE without comm_type");
    if (!(n->has & CHAKRA_HAS_COMM_SIZE) && n->comm_type != CHAKRA_BARRIER)
        return fail_node(b, r, i, "COMM_COLL_NODE without comm_size");
    int members = b->groups[b->rs[r].group[i]].n;
    *size = n->comm_size;
    switch (n->comm_type) {
    case CHAKRA_ALL_REDUCE: *op = COLL_ALLREDUCE; return 0;
    case CHAKRA_BARRIER: *op = COLL_ALLREDUCE; return 0; /* NCCL: a one-element all-reduce */
    case CHAKRA_ALL_GATHER: *op = COLL_ALLGATHER; *size = n->comm_size * (uint64_t)members; return 0;
    case CHAKRA_REDUCE_SCATTER:
    case CHAKRA_REDUCE_SCATTER_BLOCK: *op = COLL_REDUCESCATTER; return 0;
    case CHAKRA_ALL_TO_ALL: *op = COLL_ALLTOALL; return 0;
    case CHAKRA_BROADCAST: *op = COLL_BROADCAST; return 0;
    default:
        return fail_node(b, r, i, "collective %s (comm_type %d) is not modelled (all-reduce, "
                         "all-gather, reduce-scatter, all-to-all, broadcast, barrier are)",
                         chakra_coll_name(n->comm_type), n->comm_type);
    }
}

static const coll_plan *plan_for(builder *b, int r, int i, int g, coll_op op, uint64_t size)
{
    const chakra_node *n = node_at(b, r, i);
    replay_graph *rg = b->rg;
    int algo = -1;
    coll_algo a;
    if (n->coll_algo) {
        if (coll_algo_parse(n->coll_algo, &a, b->err) != 0) {
            fail_node(b, r, i, "coll_algo: %s", b->err->msg);
            return NULL;
        }
        algo = (int)a;
    }
    for (int p = 0; p < rg->nplans; p++)
        if (rg->plan_group[p] == g && rg->plan_op[p] == (int)op && rg->plan_algo[p] == algo &&
            (algo >= 0 || rg->plan_size[p] == size))
            return rg->plans[p];
    const group *gr = &b->groups[g];
    int32_t *gpus = cs_xrealloc(NULL, sizeof *gpus * (size_t)gr->n);
    for (int k = 0; k < gr->n; k++)
        gpus[k] = gr->members[k];
    coll_params params;
    coll_params_default(&params);
    coll_plan *plan = cs_xrealloc(NULL, sizeof *plan);
    int rc = algo >= 0 ? coll_plan_build(b->in->topology, op, (coll_algo)algo, gpus, gr->n, &params,
                                         plan, b->err)
                       : coll_plan_best(b->in->topology, op, gpus, gr->n, &params, size, plan, b->err);
    free(gpus);
    if (rc != 0) {
        free(plan);
        fail_node(b, r, i, "%s over %d ranks: %s", coll_op_name(op), gr->n, b->err->msg);
        return NULL;
    }
    int p = rg->nplans++;
    rg->plans = cs_xrealloc(rg->plans, sizeof *rg->plans * (size_t)rg->nplans);
    rg->plan_group = cs_xrealloc(rg->plan_group, sizeof(int) * (size_t)rg->nplans);
    rg->plan_op = cs_xrealloc(rg->plan_op, sizeof(int) * (size_t)rg->nplans);
    rg->plan_algo = cs_xrealloc(rg->plan_algo, sizeof(int) * (size_t)rg->nplans);
    rg->plan_size = cs_xrealloc(rg->plan_size, sizeof(uint64_t) * (size_t)rg->nplans);
    rg->plans[p] = plan;
    rg->plan_group[p] = g, rg->plan_op[p] = (int)op, rg->plan_algo[p] = algo;
    rg->plan_size[p] = size;
    return plan;
}

/* The k-th collective of the group in every member's file is one task. */
static int add_collective(builder *b, int r, int i)
{
    const chakra_node *n = node_at(b, r, i);
    int g = b->rs[r].group[i], k = b->rs[r].pos[i];
    group *gr = &b->groups[g];
    for (int m = 0; m < gr->n; m++) {
        const chakra_node *o = node_at(b, gr->members[m], gr->colls[m][k]);
        if (o->comm_type != n->comm_type || o->comm_size != n->comm_size) {
            char lab[96];
            return fail_node(b, r, i,
                             "%s of %llu bytes is collective %d on %s, but there %s has node "
                             "%llu, %s of %llu bytes",
                             chakra_coll_name(n->comm_type), (unsigned long long)n->comm_size,
                             k + 1, group_label(gr, lab, sizeof lab), b->tr->paths[gr->members[m]],
                             (unsigned long long)o->id, chakra_coll_name(o->comm_type),
                             (unsigned long long)o->comm_size);
        }
    }
    coll_op op = COLL_ALLREDUCE;
    uint64_t size = 0;
    if (coll_op_of(b, r, i, &op, &size) != 0)
        return -1;
    int t;
    if (gr->n == 1) {
        t = exec_delay(b->rg->g, 0, n->name); /* a group of one moves nothing */
    } else {
        const coll_plan *plan = plan_for(b, r, i, g, op, size);
        if (!plan)
            return -1;
        t = exec_collective(b->rg->g, -1, plan, size, n->name);
    }
    for (int m = 0; m < gr->n; m++)
        b->rs[gr->members[m]].task[gr->colls[m][k]] = t;
    note_task(b, t, RR_COLL, gr->members, gr->n);
    b->rg->counts->collectives++;
    return 0;
}

static int add_task(builder *b, int r, int i)
{
    const chakra_node *n = node_at(b, r, i);
    switch (n->type) {
    case CHAKRA_COMP: add_compute(b, r, i); return 0;
    case CHAKRA_MEM_LOAD:
    case CHAKRA_MEM_STORE: add_memory(b, r, i); return 0;
    case CHAKRA_SEND:
    case CHAKRA_RECV: add_transfer(b, r, i); return 0;
    case CHAKRA_COLL: return add_collective(b, r, i);
    default: { /* METADATA_NODE, INVALID_NODE: no time, dependencies kept */
        int t = exec_delay(b->rg->g, 0, n->name);
        b->rs[r].task[i] = t;
        note_task(b, t, RR_NONE, &r, 1);
        return 0;
    }
    }
}

static int add_tasks(builder *b)
{
    for (int r = 0; r < b->tr->ranks; r++) {
        const rank_state *s = &b->rs[r];
        for (int o = 0; o < b->tr->rank[r].nnodes; o++)
            if (s->task[s->order[o]] < 0 && add_task(b, r, s->order[o]) != 0)
                return -1;
    }
    for (int r = 0; r < b->tr->ranks; r++) {
        const rank_state *s = &b->rs[r];
        for (int i = 0; i < b->tr->rank[r].nnodes; i++)
            for (int k = 0; k < s->ndeps[i]; k++)
                if (s->task[s->deps[i][k]] != s->task[i])
                    exec_dep(b->rg->g, s->task[s->deps[i][k]], s->task[i]);
    }
    return 0;
}

static void builder_free(builder *b)
{
    for (int r = 0; b->rs && r < b->tr->ranks; r++) {
        rank_state *s = &b->rs[r];
        for (int i = 0; s->deps && i < b->tr->rank[r].nnodes; i++)
            free(s->deps[i]);
        free(s->deps), free(s->ndeps), free(s->task), free(s->order), free(s->group);
        free(s->pos), free(s->partner_rank), free(s->partner_node);
        free(s->stream_key), free(s->stream_id);
    }
    free(b->rs);
    for (int g = 0; g < b->ngroups; g++) {
        group *gr = &b->groups[g];
        for (int m = 0; gr->colls && m < gr->n; m++)
            free(gr->colls[m]);
        free(gr->colls), free(gr->ncolls), free(gr->members), free(gr->pg);
    }
    free(b->groups);
}

int replay_build(const replay_traces *tr, const replay_input *in, replay_graph *out,
                 replay_result *counts, cs_err *err)
{
    memset(out, 0, sizeof *out);
    out->g = exec_new();
    out->counts = counts;
    if (tr->ranks > in->gpus)
        return cs_fail(err, "%s: %d ranks, but the job has %d GPUs (--gpus)", tr->prefix, tr->ranks,
                       in->gpus);
    builder b = {tr, in, out, err, calloc((size_t)tr->ranks, sizeof(rank_state)), NULL, 0, 0};
    if (!b.rs)
        abort();
    int rc = 0;
    for (int r = 0; rc == 0 && r < tr->ranks; r++) {
        rc = check_file(&b, r);
        counts->nodes += tr->rank[r].nnodes;
    }
    if (rc == 0) {
        collect_named_groups(&b);
        rc = assign_groups(&b);
    }
    if (rc == 0)
        rc = check_groups(&b);
    if (rc == 0)
        rc = match_p2p(&b);
    if (rc == 0)
        rc = add_tasks(&b);
    builder_free(&b);
    return rc;
}

void replay_graph_free(replay_graph *rg)
{
    exec_free(rg->g);
    for (int p = 0; p < rg->nplans; p++) {
        coll_plan_free(rg->plans[p]);
        free(rg->plans[p]);
    }
    free(rg->plans), free(rg->plan_group), free(rg->plan_op), free(rg->plan_algo);
    free(rg->plan_size), free(rg->role), free(rg->ranks_first), free(rg->ranks);
    memset(rg, 0, sizeof *rg);
}
