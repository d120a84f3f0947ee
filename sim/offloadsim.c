/* offloadsim: offload transfers as flows (offloadsim.h). */
#include "offloadsim.h"

#include <stdlib.h>

#include "cs_alloc.h"
#include "evq.h"
#include "net.h"
#include "units.h"

/* The run: the network over the topology's links plus, per node, its NVMe
 * read and write links (ids nlinks + 2 node and + 1).  offloadsim_bw
 * measures each direction alone and the iteration adds their times
 * (offload_nvme_s): the drives, and a measured link in front of them
 * (tiers.h), take reads and writes in turn, so no run here starts read and
 * write flows together. */
typedef struct run {
    topo *t;
    evq *q;
    net *n;
    int nlinks;
    double *end_s;
} run;

static void on_done(evq *q, void *ctx, uint64_t arg)
{
    run *r = ctx;
    r->end_s[arg] = units_ps_to_s(evq_now(q));
}

static int make_net(run *r)
{
    int nl = topo_link_count(r->t), nodes = topo_node_count(r->t);
    double *bw = cs_xrealloc(NULL, sizeof *bw * (size_t)(nl + 2 * nodes));
    for (int l = 0; l < nl; l++)
        bw[l] = topo_link_at(r->t, l)->bw_bytes_per_s;
    for (int node = 0; node < nodes; node++) {
        const sys_node_type *nt = topo_node_type(r->t, node);
        sys_tiers tr = tiers_effective(&nt->tiers, nt->host_mem_bytes, nt->host_mem_bw_bytes_per_s);
        /* a node without drives gets links no flow may use (checked) */
        bw[nl + 2 * node] = tr.nvme.drives ? tiers_nvme_read_bw(&tr) : 1;
        bw[nl + 2 * node + 1] = tr.nvme.drives ? tiers_nvme_write_bw(&tr) : 1;
    }
    r->nlinks = nl;
    r->n = net_new(r->q, nl + 2 * nodes, bw);
    free(bw);
    return 0;
}

/* The link from vertex a to vertex b (adjacent), or -1. */
static int link_between(const topo *t, int a, int b)
{
    for (int l = 0; l < topo_link_count(t); l++) {
        const topo_link *lk = topo_link_at(t, l);
        if (lk->src == a && lk->dst == b)
            return l;
    }
    return -1;
}

static int has_drives(const topo *t, int node)
{
    const sys_node_type *nt = topo_node_type(t, node);
    sys_tiers tr = tiers_effective(&nt->tiers, nt->host_mem_bytes, nt->host_mem_bw_bytes_per_s);
    return tr.nvme.drives > 0;
}

/* The links of one flow: the PCIe path between GPU and DRAM; for NVMe the
 * drives' link and DRAM's direction the staging copy takes (the GPU's side
 * of an SSD transfer is an H2D or D2H flow of its own). */
static int flow_links(run *r, const offloadsim_flow *f, int32_t *links, uint64_t *latency_ps,
                      cs_err *err)
{
    int node = topo_node_of_gpu(r->t, f->gpu);
    int gpu = topo_gpu_vertex(r->t, f->gpu), mem = topo_hostmem_vertex(r->t, node);
    int cpu = topo_cpu_vertex(r->t, node);
    *latency_ps = 0;
    switch (f->dir) {
    case OFFLOADSIM_H2D:
    case OFFLOADSIM_D2H: {
        int up = f->dir == OFFLOADSIM_D2H;
        int n = topo_route(r->t, up ? gpu : mem, up ? mem : gpu, 0, links, TOPO_MAX_ROUTE, err);
        if (n > 0)
            *latency_ps = topo_route_latency_ps(r->t, links, n);
        return n;
    }
    case OFFLOADSIM_NVME_READ:
    case OFFLOADSIM_NVME_WRITE:
        break;
    }
    if (!has_drives(r->t, node))
        return cs_fail(err, "offload: an NVMe transfer of GPU %d, but node %d has no NVMe "
                            "drives", f->gpu, node);
    int read = f->dir == OFFLOADSIM_NVME_READ;
    /* a read lands in DRAM (cpu -> mem); a write leaves it (mem -> cpu) */
    links[0] = link_between(r->t, read ? cpu : mem, read ? mem : cpu);
    links[1] = r->nlinks + 2 * node + (read ? 0 : 1);
    return 2;
}

int offloadsim_run(topo *t, const offloadsim_flow *flows, int n, double *end_s, cs_err *err)
{
    for (int i = 0; i < n; i++) {
        if (flows[i].gpu < 0 || flows[i].gpu >= topo_gpu_count(t))
            return cs_fail(err, "offload: flow %d on GPU %d; GPUs are 0 to %d", i, flows[i].gpu,
                           topo_gpu_count(t) - 1);
        if (!(flows[i].bytes > 0))
            return cs_fail(err, "offload: flow %d moves %g bytes; it must move more than 0", i,
                           flows[i].bytes);
    }
    run r = {t, evq_new(), NULL, 0, end_s};
    make_net(&r);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int32_t links[TOPO_MAX_ROUTE + 2];
        uint64_t latency_ps = 0;
        int nl = flow_links(&r, &flows[i], links, &latency_ps, err);
        if (nl < 0) {
            rc = -1;
            break;
        }
        net_flow_start(r.n, links, NULL, nl, flows[i].bytes, latency_ps,
                       on_done, &r, (uint64_t)i);
    }
    if (rc == 0)
        evq_run(r.q);
    net_free(r.n);
    evq_free(r.q);
    return rc;
}

/* Every GPU of node 0 the job uses moves `bytes` in each of the given
 * directions at once; returns the slowest GPU's rate (bytes/s). */
static int measure(topo *t, int gpus, const offloadsim_dir *dirs, int ndirs, double *rate,
                   cs_err *err)
{
    const double bytes = 1e9;
    int n = gpus * ndirs;
    /* zeroed: every entry is written below, but -O3 cannot see it for n < 1 */
    offloadsim_flow *f = calloc((size_t)n + 1, sizeof *f);
    double *end = calloc((size_t)n + 1, sizeof *end);
    if (!f || !end)
        abort();
    for (int g = 0; g < gpus; g++)
        for (int d = 0; d < ndirs; d++)
            f[g * ndirs + d] = (offloadsim_flow){g, dirs[d], bytes};
    int rc = offloadsim_run(t, f, n, end, err);
    for (int d = 0; rc == 0 && d < ndirs; d++) {
        double slowest = 0;
        for (int g = 0; g < gpus; g++)
            slowest = end[g * ndirs + d] > slowest ? end[g * ndirs + d] : slowest;
        rate[d] = bytes / slowest;
    }
    free(f);
    free(end);
    return rc;
}

int offloadsim_bw(const estimate_input *in, offload_bw *bw, cs_err *err)
{
    const sys_node_type *nt = topo_node_type(in->topology, 0);
    int gpus = in->gpus < nt->gpus ? in->gpus : nt->gpus;
    offload_bw_closed(nt, in->gpus, bw);
    static const offloadsim_dir pcie[2] = {OFFLOADSIM_H2D, OFFLOADSIM_D2H};
    double rate[2];
    if (measure(in->topology, gpus, pcie, 2, rate, err) != 0)
        return -1;
    bw->h2d = rate[0];
    bw->d2h = rate[1];
    if (!has_drives(in->topology, 0))
        return 0;
    static const offloadsim_dir rd = OFFLOADSIM_NVME_READ, wr = OFFLOADSIM_NVME_WRITE;
    if (measure(in->topology, gpus, &rd, 1, &bw->nvme_read, err) != 0 ||
        measure(in->topology, gpus, &wr, 1, &bw->nvme_write, err) != 0)
        return -1;
    return 0;
}
