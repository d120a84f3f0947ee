/* collective: builds ring, tree, hierarchical and direct plans as coflows,
 * and evaluates their closed form.  See collective.h for the model. */
#include "collective.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maxmin.h"

/* ---- group layout: the GPUs of the group, sorted, split by node ---------- */

typedef struct layout {
    int n, nnodes;
    int32_t *gpu;        /* sorted by (node, local) */
    int32_t *node_start; /* nnodes + 1 offsets into gpu */
} layout;

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int layout_build(topo *t, const int32_t *gpus, int n, layout *lay, cs_err *err)
{
    int total = topo_gpu_count(t);
    memset(lay, 0, sizeof *lay);
    if (n < 1)
        return cs_fail(err, "a collective needs at least 1 GPU in its group");
    if (n > total)
        return cs_fail(err, "group of %d GPUs is larger than the system's %d GPUs", n, total);
    lay->n = n;
    lay->gpu = malloc(sizeof(int32_t) * (size_t)n);
    lay->node_start = malloc(sizeof(int32_t) * (size_t)(n + 1));
    if (!lay->gpu || !lay->node_start)
        abort();
    for (int i = 0; i < n; i++) {
        if (gpus[i] < 0 || gpus[i] >= total)
            return cs_fail(err, "GPU %d is out of range; the system has GPUs 0 to %d", gpus[i],
                           total - 1);
        lay->gpu[i] = gpus[i];
    }
    /* Global GPU numbers are node-major, so sorting them sorts by (node, local). */
    qsort(lay->gpu, (size_t)n, sizeof(int32_t), cmp_i32);
    for (int i = 1; i < n; i++)
        if (lay->gpu[i] == lay->gpu[i - 1])
            return cs_fail(err, "GPU %d appears twice in the group", lay->gpu[i]);
    for (int i = 0; i < n; i++)
        if (i == 0 || topo_node_of_gpu(t, lay->gpu[i]) != topo_node_of_gpu(t, lay->gpu[i - 1]))
            lay->node_start[lay->nnodes++] = i;
    lay->node_start[lay->nnodes] = n;
    return 0;
}

static void layout_free(layout *lay)
{
    free(lay->gpu);
    free(lay->node_start);
}

static int node_size(const layout *lay, int p) { return lay->node_start[p + 1] - lay->node_start[p]; }
static int32_t node_gpu(const layout *lay, int p, int j) { return lay->gpu[lay->node_start[p] + j]; }

/* Rings and trees across nodes use one channel per NIC the group can use in
 * every node, so that the channels spread over all the rails. */
static int channels_of(topo *t, const layout *lay)
{
    if (lay->nnodes == 1)
        return 1;
    int channels = SYS_MAX_NICS_PER_NODE;
    for (int p = 0; p < lay->nnodes; p++) {
        const sys_node_type *nt = topo_node_type(t, topo_node_of_gpu(t, node_gpu(lay, p, 0)));
        uint32_t used = 0;
        for (int j = 0; j < node_size(lay, p); j++)
            used |= 1u << nt->nic_of_gpu[topo_local_of_gpu(t, node_gpu(lay, p, j))];
        int distinct = __builtin_popcount(used);
        if (distinct < channels)
            channels = distinct;
    }
    return channels < 1 ? 1 : channels;
}

/* ---- coflow builder: routes pairs and merges their links ----------------- */

typedef struct builder {
    topo *t;
    const coll_params *params;
    cs_err *err;
    int32_t *mult;        /* per topology link: times the coflow crosses it */
    int32_t *touched;
    int ntouched, npairs;
    uint64_t lat_sum_ps, lat_max_ps, lat_max_inter_ps, lat_max_intra_ps;
} builder;

static void cf_begin(builder *b)
{
    b->ntouched = 0;
    b->npairs = 0;
    b->lat_sum_ps = b->lat_max_ps = b->lat_max_inter_ps = b->lat_max_intra_ps = 0;
}

static int cf_pair(builder *b, int32_t src_gpu, int32_t dst_gpu, uint32_t salt)
{
    int32_t route[TOPO_MAX_ROUTE];
    int len = topo_route_gpus(b->t, src_gpu, dst_gpu, salt, route, TOPO_MAX_ROUTE, b->err);
    if (len < 0)
        return -1;
    for (int h = 0; h < len; h++)
        if (b->mult[route[h]]++ == 0)
            b->touched[b->ntouched++] = route[h];
    uint64_t lat = topo_route_latency_ps(b->t, route, len) + b->params->step_ps;
    b->lat_sum_ps += lat;
    if (lat > b->lat_max_ps)
        b->lat_max_ps = lat;
    if (topo_node_of_gpu(b->t, src_gpu) != topo_node_of_gpu(b->t, dst_gpu)) {
        if (lat > b->lat_max_inter_ps)
            b->lat_max_inter_ps = lat;
    } else if (lat > b->lat_max_intra_ps) {
        b->lat_max_intra_ps = lat;
    }
    b->npairs++;
    return 0;
}

/* Turns the accumulated multiplicities into the coflow's link list, in link
 * order so the result does not depend on the order pairs were added. */
static void cf_end(builder *b, coll_coflow *cf, double bytes_per_size, uint64_t latency_ps,
                   int fill_hops)
{
    qsort(b->touched, (size_t)b->ntouched, sizeof(int32_t), cmp_i32);
    cf->nlinks = b->ntouched;
    cf->links = malloc(sizeof(int32_t) * (size_t)(b->ntouched ? b->ntouched : 1));
    cf->weights = malloc(sizeof(uint32_t) * (size_t)(b->ntouched ? b->ntouched : 1));
    if (!cf->links || !cf->weights)
        abort();
    for (int i = 0; i < b->ntouched; i++) {
        cf->links[i] = b->touched[i];
        cf->weights[i] = (uint32_t)b->mult[b->touched[i]];
        b->mult[b->touched[i]] = 0;
    }
    cf->npairs = b->npairs;
    cf->bytes_per_size = bytes_per_size;
    cf->latency_ps = latency_ps;
    cf->fill_hops = fill_hops > 0 ? fill_hops : 0;
}

static coll_coflow *phase_add(coll_phase *ph)
{
    coll_coflow *grown = realloc(ph->coflows, sizeof *grown * (size_t)(ph->ncoflows + 1));
    if (!grown)
        abort();
    ph->coflows = grown;
    coll_coflow *cf = &ph->coflows[ph->ncoflows++];
    memset(cf, 0, sizeof *cf);
    return cf;
}

static coll_phase *plan_phase(coll_plan *plan, const char *name)
{
    coll_phase *ph = &plan->phases[plan->nphases++];
    memset(ph, 0, sizeof *ph);
    snprintf(ph->name, sizeof ph->name, "%s", name);
    return ph;
}

/* ---- rings ---------------------------------------------------------------- */

/* Ring order of channel c: inside each node the group's GPUs from a channel-
 * specific start; every other node is walked backwards so that the GPU a ring
 * leaves a node from and the GPU it enters the next node at share a local
 * index, hence a rail (NCCL builds its rings the same way). */
static void ring_order(const layout *lay, int c, int channels, int32_t *out)
{
    int k_out = 0;
    for (int p = 0; p < lay->nnodes; p++) {
        int k = node_size(lay, p);
        int s = (c * k) / channels;
        for (int i = 0; i < k; i++) {
            int j = (p % 2 == 0) ? (s + i) % k : ((s - 1 - i) % k + k) % k;
            out[k_out++] = node_gpu(lay, p, j);
        }
    }
}

/* One coflow per channel over the ring's n edges (or its n-1 chain edges
 * starting at root when chain is set). */
static int build_ring_phase(builder *b, const layout *lay, coll_phase *ph, int channels,
                            coll_op op, int32_t root)
{
    int n = lay->n;
    int32_t *ring = malloc(sizeof(int32_t) * (size_t)n);
    if (!ring)
        abort();
    int chain = op == COLL_BROADCAST;
    for (int c = 0; c < channels; c++) {
        ring_order(lay, c, channels, ring);
        int start = 0;
        while (chain && ring[start] != root)
            start++;
        cf_begin(b);
        int edges = chain ? n - 1 : n;
        for (int i = 0; i < edges; i++)
            if (cf_pair(b, ring[(start + i) % n], ring[(start + i + 1) % n],
                        (uint32_t)(c * 7919 + i)) != 0) {
                free(ring);
                return -1;
            }
        double frac = (double)(n - 1) / n; /* share of the ring's edges a chunk crosses */
        double bytes = 0, lat = 0;
        int fill = 0;
        if (op == COLL_ALLREDUCE) {
            bytes = 2 * frac;
            lat = 2 * frac * (double)b->lat_sum_ps;
        } else if (op == COLL_BROADCAST) {
            bytes = 1;
            lat = (double)b->lat_sum_ps;
            fill = n - 2;
        } else { /* reduce-scatter, all-gather */
            bytes = frac;
            lat = frac * (double)b->lat_sum_ps;
        }
        cf_end(b, phase_add(ph), bytes / channels, (uint64_t)llround(lat), fill);
    }
    free(ring);
    return 0;
}

/* ---- double binary tree ------------------------------------------------------ */

/* Heap index of node position p in tree t; the second tree reverses the
 * positions so that the leaves of one are mostly inner nodes of the other. */
static int tree_index(int t, int p, int nnodes) { return t == 0 ? p : nnodes - 1 - p; }
static int tree_pos(int t, int h, int nnodes) { return t == 0 ? h : nnodes - 1 - h; }

/* j-th GPU of node p's chain in channel c: the chain starts where ring
 * channel c starts, so each channel's tree enters a node on its own rail. */
static int32_t chain_gpu(const layout *lay, int p, int c, int channels, int j)
{
    int k = node_size(lay, p);
    return node_gpu(lay, p, ((c * k) / channels + j) % k);
}

static int tree_pairs(builder *b, const layout *lay, int t, int c, int channels, int *kmax)
{
    *kmax = 1;
    for (int p = 0; p < lay->nnodes; p++) {
        int k = node_size(lay, p);
        if (k > *kmax)
            *kmax = k;
        uint32_t salt = (uint32_t)((c * 2 + t) * 104729 + p * 31);
        for (int j = 0; j + 1 < k; j++) /* chain inside the node, both directions */
            if (cf_pair(b, chain_gpu(lay, p, c, channels, j + 1), chain_gpu(lay, p, c, channels, j), salt) ||
                cf_pair(b, chain_gpu(lay, p, c, channels, j), chain_gpu(lay, p, c, channels, j + 1), salt))
                return -1;
        int h = tree_index(t, p, lay->nnodes);
        if (h == 0)
            continue;
        int q = tree_pos(t, (h - 1) / 2, lay->nnodes);
        int32_t child = chain_gpu(lay, p, c, channels, 0), parent = chain_gpu(lay, q, c, channels, 0);
        if (cf_pair(b, child, parent, salt) || cf_pair(b, parent, child, salt))
            return -1;
    }
    return 0;
}

static int build_tree_phase(builder *b, const layout *lay, coll_phase *ph, int channels)
{
    int depth = 0;
    while ((2 << depth) <= lay->nnodes) /* floor(log2(nnodes)) */
        depth++;
    for (int c = 0; c < channels; c++)
        for (int t = 0; t < 2; t++) {
            int kmax;
            cf_begin(b);
            if (tree_pairs(b, lay, t, c, channels, &kmax) != 0)
                return -1;
            /* A chunk climbs the chain and the tree, then comes back down. */
            int hops = depth + kmax - 1;
            uint64_t lat = 2 * ((uint64_t)depth * b->lat_max_inter_ps +
                                (uint64_t)(kmax - 1) * b->lat_max_intra_ps);
            cf_end(b, phase_add(ph), 1.0 / (2.0 * channels), lat, 2 * hops - 1);
        }
    return 0;
}

/* ---- hierarchical all-reduce ------------------------------------------------- */

/* One ring per node over its group GPUs; frac of the buffer crosses each edge. */
static int build_intra_rings(builder *b, const layout *lay, coll_phase *ph, double frac)
{
    for (int p = 0; p < lay->nnodes; p++) {
        int k = node_size(lay, p);
        cf_begin(b);
        for (int j = 0; j < k && k > 1; j++)
            if (cf_pair(b, node_gpu(lay, p, j), node_gpu(lay, p, (j + 1) % k), (uint32_t)p))
                return -1;
        cf_end(b, phase_add(ph), frac * (k - 1) / k,
               (uint64_t)llround((double)(k - 1) / k * (double)b->lat_sum_ps), 0);
    }
    return 0;
}

/* Local GPU j of every node forms one inter-node ring that all-reduces 1/k of the buffer. */
static int build_rail_rings(builder *b, const layout *lay, coll_phase *ph, int k)
{
    int nn = lay->nnodes;
    for (int j = 0; j < k; j++) {
        cf_begin(b);
        for (int p = 0; p < nn; p++)
            if (cf_pair(b, node_gpu(lay, p, j), node_gpu(lay, (p + 1) % nn, j), (uint32_t)j))
                return -1;
        double frac = (double)(nn - 1) / nn;
        cf_end(b, phase_add(ph), 2 * frac / k,
               (uint64_t)llround(2 * frac * (double)b->lat_sum_ps), 0);
    }
    return 0;
}

static int build_hier(builder *b, const layout *lay, coll_plan *plan, cs_err *err)
{
    int k = node_size(lay, 0);
    for (int p = 1; p < lay->nnodes; p++)
        if (node_size(lay, p) != k)
            return cs_fail(err, "hier needs the same number of group GPUs in every node "
                           "(node of GPU %d has %d, the first node %d); use ring or tree",
                           node_gpu(lay, p, 0), node_size(lay, p), k);
    if (build_intra_rings(b, lay, plan_phase(plan, "intra-reduce-scatter"), 1.0) != 0)
        return -1;
    if (lay->nnodes > 1 && build_rail_rings(b, lay, plan_phase(plan, "inter-allreduce"), k) != 0)
        return -1;
    return build_intra_rings(b, lay, plan_phase(plan, "intra-all-gather"), 1.0);
}

/* ---- direct: all-to-all and send/recv -------------------------------------------- */

static int build_direct(builder *b, const layout *lay, const int32_t *given, coll_op op,
                        coll_phase *ph)
{
    int n = lay->n;
    cf_begin(b);
    if (op == COLL_SENDRECV) { /* rank i sends to rank i+1, in the order given */
        for (int i = 0; i < n && n > 1; i++)
            if (cf_pair(b, given[i], given[(i + 1) % n], (uint32_t)i))
                return -1;
    } else {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j && cf_pair(b, lay->gpu[i], lay->gpu[j], (uint32_t)(i * n + j)))
                    return -1;
    }
    double bytes = op == COLL_SENDRECV ? 1.0 : 1.0 / n;
    cf_end(b, phase_add(ph), bytes, b->lat_max_ps, 0);
    return 0;
}

/* ---- NVLink SHARP ------------------------------------------------------------------ */

/* Every GPU sends its buffer up to the switch once and takes the reduced
 * buffer down once: one coflow over each GPU's NVLink out and in (a ring of
 * edges crosses each port once each way), one byte per byte of size.  The
 * measured algorithm bandwidth enters as the protocol share
 * (collective_proto.c). */
static int build_nvls(builder *b, const layout *lay, coll_phase *ph)
{
    cf_begin(b);
    for (int i = 0; i < lay->n; i++)
        if (cf_pair(b, lay->gpu[i], lay->gpu[(i + 1) % lay->n], (uint32_t)i))
            return -1;
    cf_end(b, phase_add(ph), 1.0, b->lat_max_ps, 0);
    return 0;
}

/* ---- plan ---------------------------------------------------------------------------- */

/* Idle max-min rates of a phase's coflows; local: per topology link, 0 or (while
 * it runs) the link's index in the phase + 1, all 0 again on return. */
static void phase_idle_rates(topo *t, coll_phase *ph, int32_t *local)
{
    int entries = 0, nl = 0;
    for (int c = 0; c < ph->ncoflows; c++)
        entries += ph->coflows[c].nlinks;
    int32_t *start = malloc(sizeof(int32_t) * (size_t)(ph->ncoflows + 1));
    int32_t *lidx = malloc(sizeof(int32_t) * (size_t)(entries + 1));
    int32_t *glob = malloc(sizeof(int32_t) * (size_t)(entries + 1));
    double *w = malloc(sizeof(double) * (size_t)(entries + 1));
    double *cap = malloc(sizeof(double) * (size_t)(entries + 1));
    ph->idle_rate = malloc(sizeof(double) * (size_t)(ph->ncoflows + 1));
    if (!start || !lidx || !glob || !w || !cap || !ph->idle_rate)
        abort();
    int e = 0;
    for (int c = 0; c < ph->ncoflows; c++) {
        start[c] = e;
        for (int i = 0; i < ph->coflows[c].nlinks; i++, e++) {
            int32_t l = ph->coflows[c].links[i];
            if (local[l] == 0) { /* local index + 1; 0: not seen */
                local[l] = nl + 1;
                glob[nl] = l;
                cap[nl++] = topo_link_at(t, l)->bw_bytes_per_s;
            }
            lidx[e] = local[l] - 1;
            w[e] = ph->coflows[c].weights[i];
        }
    }
    start[ph->ncoflows] = e;
    maxmin_problem p = {ph->ncoflows, start, lidx, w, nl, cap, NULL};
    maxmin_work work;
    maxmin_work_init(&work);
    maxmin_solve(&p, ph->idle_rate, &work);
    maxmin_work_free(&work);
    for (int i = 0; i < nl; i++)
        local[glob[i]] = 0;
    free(start);
    free(lidx);
    free(glob);
    free(w);
    free(cap);
}

static int check_algo(coll_op op, coll_algo algo, cs_err *err)
{
    coll_algo ok[4];
    int n = coll_algos_for(op, ok);
    for (int i = 0; i < n; i++)
        if (ok[i] == algo)
            return 0;
    char list[64] = "";
    for (int i = 0; i < n; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, coll_algo_name(ok[i]), sizeof list - strlen(list) - 1);
    }
    return cs_fail(err, "%s does not support algorithm '%s'; it supports: %s (or auto)",
                   coll_op_name(op), coll_algo_name(algo), list);
}

static int build_phases(builder *b, const layout *lay, const int32_t *gpus, coll_plan *plan,
                        cs_err *err)
{
    if (lay->n == 1)
        return 0; /* nothing moves: only the launch cost remains */
    switch (plan->algo) {
    case COLL_ALGO_RING:
        return build_ring_phase(b, lay, plan_phase(plan, "ring"), plan->channels, plan->op,
                                gpus[0]);
    case COLL_ALGO_TREE:
        return build_tree_phase(b, lay, plan_phase(plan, "tree"), plan->channels);
    case COLL_ALGO_HIER:
        return build_hier(b, lay, plan, err);
    case COLL_ALGO_DIRECT:
        return build_direct(b, lay, gpus, plan->op, plan_phase(plan, "direct"));
    case COLL_ALGO_NVLS:
        return build_nvls(b, lay, plan_phase(plan, "nvls"));
    case COLL_ALGO_AUTO:
        break;
    }
    return cs_fail(err, "algorithm auto must be resolved before a plan is built");
}

/* NVLS needs every GPU of the group in one node that has NVLink SHARP;
 * checked before anything is built, since auto tries it on every group. */
static int check_nvls(topo *t, const int32_t *gpus, int n, cs_err *err)
{
    int total = topo_gpu_count(t);
    if (n < 1 || gpus[0] < 0 || gpus[0] >= total)
        return 0; /* layout_build names the fault */
    int node = topo_node_of_gpu(t, gpus[0]), nodes = 1;
    for (int i = 1; i < n; i++)
        if (gpus[i] >= 0 && gpus[i] < total && topo_node_of_gpu(t, gpus[i]) != node) {
            nodes = 2;
            break;
        }
    const sys_node_type *nt = topo_node_type(t, node);
    if (nodes == 1 && nt->nvls_algbw_published > 0 && nt->fabric == SYS_FABRIC_NVSWITCH)
        return 0;
    return cs_fail(err, "nvls needs a group inside one node with NVLink SHARP (dgx-h100, "
                   "dgx-h200); this group %s of %s", nodes > 1 ? "spans nodes" : "is in a node",
                   nt->name);
}

/* Refuses a plan that would route more than COLL_MAX_PAIRS pairs: an
 * all-to-all over a group past its bound would take minutes to hours. */
int coll_alltoall_max_ranks(void)
{
    int most = (int)floor(sqrt((double)COLL_MAX_PAIRS)); /* largest m with m(m-1) <= bound */
    while ((uint64_t)(most + 1) * (uint64_t)most <= COLL_MAX_PAIRS)
        most++;
    while ((uint64_t)most * (uint64_t)(most - 1) > COLL_MAX_PAIRS)
        most--;
    return most;
}

static int check_pairs(coll_op op, coll_algo algo, int n, cs_err *err)
{
    if (algo != COLL_ALGO_DIRECT || op == COLL_SENDRECV || n <= coll_alltoall_max_ranks())
        return 0;
    uint64_t pairs = (uint64_t)n * (uint64_t)(n - 1);
    return cs_fail(err, "%s over %d GPUs routes %llu pairs; a plan routes at most %llu (a group "
                   "of %d GPUs): use a smaller group", coll_op_name(op), n,
                   (unsigned long long)pairs, (unsigned long long)COLL_MAX_PAIRS,
                   coll_alltoall_max_ranks());
}

int coll_plan_build(topo *t, coll_op op, coll_algo algo, const int32_t *gpus, int n,
                    const coll_params *params, coll_plan *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    if (check_algo(op, algo, err) != 0)
        return -1;
    if (algo == COLL_ALGO_NVLS && check_nvls(t, gpus, n, err) != 0)
        return -1;
    if (check_pairs(op, algo, n, err) != 0)
        return -1;
    layout lay;
    if (layout_build(t, gpus, n, &lay, err) != 0) {
        layout_free(&lay);
        return -1;
    }
    out->op = op;
    out->algo = algo;
    out->nranks = n;
    out->gpus = malloc(sizeof *out->gpus * (size_t)(n > 0 ? n : 1));
    if (!out->gpus)
        abort();
    memcpy(out->gpus, gpus, sizeof *out->gpus * (size_t)n);
    out->nnodes = lay.nnodes;
    out->channels = channels_of(t, &lay);
    out->launch_ps = params->launch_ps;
    out->chunk_bytes = params->chunk_bytes;
    int nlinks = topo_link_count(t);
    /* the topology's counters (all 0, left so): a plan's cost is its own
     * links, not the topology's, for the thousands of groups of a layout */
    builder b = {t, params, err, topo_link_scratch(t),
                 malloc(sizeof(int32_t) * (size_t)(nlinks ? nlinks : 1)), 0, 0, 0, 0, 0, 0};
    if (!b.touched)
        abort();
    int rc = build_phases(&b, &lay, gpus, out, err);
    for (int i = 0; rc != 0 && i < b.ntouched; i++)
        b.mult[b.touched[i]] = 0; /* a coflow left half-built by a route that failed */
    for (int p = 0; rc == 0 && p < out->nphases; p++)
        phase_idle_rates(t, &out->phases[p], b.mult); /* reused as the local link index */
    if (rc == 0)
        coll_proto_attach(t, out, params);
    free(b.touched);
    layout_free(&lay);
    if (rc != 0)
        coll_plan_free(out);
    return rc;
}

void coll_plan_free(coll_plan *plan)
{
    for (int p = 0; p < plan->nphases; p++) {
        for (int c = 0; c < plan->phases[p].ncoflows; c++) {
            free(plan->phases[p].coflows[c].links);
            free(plan->phases[p].coflows[c].weights);
        }
        free(plan->phases[p].coflows);
        free(plan->phases[p].idle_rate);
    }
    free(plan->gpus);
    memset(plan, 0, sizeof *plan);
}

double coll_time_s(const coll_plan *plan, uint64_t size_bytes)
{
    uint64_t start_ps;
    double wire;
    coll_proto_cost(plan, size_bytes, &start_ps, &wire);
    double total_s = (double)start_ps * 1e-12;
    for (int p = 0; p < plan->nphases; p++) {
        const coll_phase *ph = &plan->phases[p];
        double slowest_s = 0;
        for (int c = 0; c < ph->ncoflows; c++) {
            double s = (double)ph->coflows[c].latency_ps * 1e-12;
            if (ph->idle_rate[c] > 0 && isfinite(ph->idle_rate[c]))
                s += wire * coll_coflow_bytes(plan, &ph->coflows[c], size_bytes) / ph->idle_rate[c];
            else if (!(ph->idle_rate[c] > 0))
                s = INFINITY;
            if (s > slowest_s)
                slowest_s = s;
        }
        total_s += slowest_s;
    }
    return total_s;
}

/* ---- concurrent groups ----------------------------------------------------------- */

static void coflow_copy(coll_coflow *dst, const coll_coflow *src)
{
    *dst = *src;
    size_t n = (size_t)(src->nlinks ? src->nlinks : 1);
    dst->links = malloc(sizeof(int32_t) * n);
    dst->weights = malloc(sizeof(uint32_t) * n);
    if (!dst->links || !dst->weights)
        abort();
    memcpy(dst->links, src->links, sizeof(int32_t) * (size_t)src->nlinks);
    memcpy(dst->weights, src->weights, sizeof(uint32_t) * (size_t)src->nlinks);
}

int coll_plan_concurrent(topo *t, const coll_plan *plans, int n, coll_plan *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    if (n < 1)
        return cs_fail(err, "concurrent plans: none given");
    for (int i = 1; i < n; i++)
        if (plans[i].op != plans[0].op || plans[i].algo != plans[0].algo ||
            plans[i].nphases != plans[0].nphases)
            return cs_fail(err, "concurrent plans: group %d runs %s/%s in %d phases, group 0 "
                           "%s/%s in %d", i, coll_op_name(plans[i].op),
                           coll_algo_name(plans[i].algo), plans[i].nphases,
                           coll_op_name(plans[0].op), coll_algo_name(plans[0].algo),
                           plans[0].nphases);
    *out = plans[0];
    /* the plan owns its own copy of the first group (its nranks); the
     * coflows below are every group's */
    out->gpus = malloc(sizeof *out->gpus * (size_t)(out->nranks > 0 ? out->nranks : 1));
    if (!out->gpus)
        abort();
    memcpy(out->gpus, plans[0].gpus, sizeof *out->gpus * (size_t)out->nranks);
    int32_t *local = topo_link_scratch(t); /* all 0, and left so by phase_idle_rates */
    for (int p = 0; p < out->nphases; p++) {
        coll_phase *ph = &out->phases[p];
        int total = 0;
        for (int i = 0; i < n; i++)
            total += plans[i].phases[p].ncoflows;
        ph->ncoflows = 0;
        ph->coflows = calloc((size_t)(total ? total : 1), sizeof *ph->coflows);
        if (!ph->coflows)
            abort();
        for (int i = 0; i < n; i++)
            for (int c = 0; c < plans[i].phases[p].ncoflows; c++)
                coflow_copy(&ph->coflows[ph->ncoflows++], &plans[i].phases[p].coflows[c]);
        phase_idle_rates(t, ph, local);
    }
    return 0;
}

/* ---- names ------------------------------------------------------------------------- */

void coll_params_default(coll_params *p)
{
    /* Assumptions until calibration fits them: a few microseconds to launch a
     * collective kernel, a fraction of a microsecond of synchronisation per
     * hop, and NCCL-sized pipeline chunks. */
    p->launch_ps = 5 * 1000000ULL;
    p->step_ps = 200000ULL;
    p->chunk_bytes = 512 * 1024;
    p->nccl_model = 1;
}

int coll_algos_for(coll_op op, coll_algo out[4])
{
    switch (op) {
    case COLL_ALLREDUCE:
        out[0] = COLL_ALGO_RING, out[1] = COLL_ALGO_TREE, out[2] = COLL_ALGO_HIER;
        out[3] = COLL_ALGO_NVLS;
        return 4;
    case COLL_REDUCESCATTER:
    case COLL_ALLGATHER:
    case COLL_BROADCAST:
        out[0] = COLL_ALGO_RING;
        return 1;
    case COLL_ALLTOALL:
    case COLL_SENDRECV:
        out[0] = COLL_ALGO_DIRECT;
        return 1;
    }
    return 0;
}

double coll_busbw_factor(coll_op op, int n)
{
    switch (op) {
    case COLL_ALLREDUCE: return 2.0 * (n - 1) / n;
    case COLL_REDUCESCATTER:
    case COLL_ALLGATHER:
    case COLL_ALLTOALL: return (double)(n - 1) / n;
    case COLL_BROADCAST:
    case COLL_SENDRECV: return 1.0;
    }
    return 1.0;
}

static const char *op_names[] = {"allreduce", "reducescatter", "allgather",
                                 "alltoall",  "broadcast",     "sendrecv"};
static const char *algo_names[] = {"auto", "ring", "tree", "hier", "direct", "nvls"};

const char *coll_op_name(coll_op op) { return op_names[op]; }
const char *coll_algo_name(coll_algo algo) { return algo_names[algo]; }

int coll_op_parse(const char *text, coll_op *op, cs_err *err)
{
    for (int i = 0; i < 6; i++)
        if (strcasecmp(text, op_names[i]) == 0) {
            *op = (coll_op)i;
            return 0;
        }
    return cs_fail(err, "unknown collective '%s'; valid: allreduce, reducescatter, allgather, "
                   "alltoall, broadcast, sendrecv", text);
}

int coll_algo_parse(const char *text, coll_algo *algo, cs_err *err)
{
    for (int i = 0; i < 6; i++)
        if (strcasecmp(text, algo_names[i]) == 0) {
            *algo = (coll_algo)i;
            return 0;
        }
    return cs_fail(err, "unknown algorithm '%s'; valid: auto, ring, tree, hier, direct, nvls",
                   text);
}

int coll_plan_best(topo *t, coll_op op, const int32_t *gpus, int n, const coll_params *params,
                   uint64_t size_bytes, coll_plan *out, cs_err *err)
{
    coll_algo algos[4];
    int nalgos = coll_algos_for(op, algos);
    double best_s = 0;
    int found = 0;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < nalgos; i++) {
        coll_plan p;
        if (coll_plan_build(t, op, algos[i], gpus, n, params, &p, err) != 0)
            continue; /* an algorithm the group's shape does not allow */
        double s = coll_time_s(&p, size_bytes);
        if (!found || s < best_s) {
            if (found)
                coll_plan_free(out);
            *out = p;
            best_s = s;
            found = 1;
        } else {
            coll_plan_free(&p);
        }
    }
    return found ? 0 : -1; /* err holds the last algorithm's reason */
}
