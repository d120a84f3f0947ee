/* collective_proto: NCCL's latency and protocol model over a collective
 * plan (collective.h, ncclproto.h).
 *
 * A plan under the model keeps its coflows and their max-min rates (the
 * bandwidth side, over the measured links) and replaces its route latencies
 * and launch cost with NCCL's tuner latency of the protocol the tuner would
 * pick at the size; the picked protocol's bandwidth fraction inflates the
 * bytes on the wire (LL sends a 4-byte flag with every 4 data bytes).  The
 * closed form and the simulation (sim/exec) both read the plan through
 * coll_start_ps and coll_wire_factor, so they agree. */
#include "collective.h"

#include <math.h>
#include <string.h>

/* The GPU generation of a catalog device, by its name: V100 (compute
 * capability 7.0), A100 (8.0), H100 / H200 / GH200 (9.0). */
static int arch_of(const dev_type *gpu)
{
    if (!gpu)
        return NCCLPROTO_AMPERE;
    if (strncmp(gpu->name, "V100", 4) == 0)
        return NCCLPROTO_VOLTA;
    if (gpu->name[0] == 'H' || strncmp(gpu->name, "GH", 2) == 0)
        return NCCLPROTO_HOPPER;
    return NCCLPROTO_AMPERE;
}

static ncclproto_shape shape_of(ncclproto_algo algo, ncclproto_op op, int nranks, int nnodes,
                                const sys_node_type *nt)
{
    ncclproto_shape s = {algo, op, nranks, nnodes, nt->fabric == SYS_FABRIC_NVSWITCH,
                         arch_of(nt->gpu), nt->host_cpu_amd, 0};
    if (algo == NCCLPROTO_NVLS) /* the plan's links carry NVLink x nvlink_eff */
        s.nvls_share = nt->nvls_algbw_published /
                       (nt->nvlink_bw_bytes_per_s * (nt->nvlink_eff > 0 ? nt->nvlink_eff : 1));
    return s;
}

void coll_proto_attach(topo *t, coll_plan *plan, const coll_params *params)
{
    plan->nccl_calls = 0;
    if (!params->nccl_model || plan->nranks <= 1 || plan->nphases == 0)
        return;
    int ar = plan->op == COLL_ALLREDUCE;
    if (!ar && plan->op != COLL_REDUCESCATTER && plan->op != COLL_ALLGATHER)
        return;
    const sys_node_type *nt = topo_node_type(t, topo_node_of_gpu(t, plan->gpus[0]));
    ncclproto_op op = ar ? NCCLPROTO_ALLREDUCE : NCCLPROTO_REDUCESCATTER;
    int n = plan->nranks, nodes = plan->nnodes;
    switch (plan->algo) {
    case COLL_ALGO_RING:
        plan->nccl_shape[plan->nccl_calls++] = shape_of(NCCLPROTO_RING, op, n, nodes, nt);
        break;
    case COLL_ALGO_TREE:
        plan->nccl_shape[plan->nccl_calls++] = shape_of(NCCLPROTO_TREE, op, n, nodes, nt);
        break;
    case COLL_ALGO_NVLS:
        plan->nccl_shape[plan->nccl_calls++] = shape_of(NCCLPROTO_NVLS, op, n, nodes, nt);
        break;
    case COLL_ALGO_HIER: /* a reduce-scatter, an all-reduce across nodes, an all-gather */
        plan->nccl_shape[plan->nccl_calls++] =
            shape_of(NCCLPROTO_RING, NCCLPROTO_REDUCESCATTER, n / nodes, 1, nt);
        if (nodes > 1)
            plan->nccl_shape[plan->nccl_calls++] =
                shape_of(NCCLPROTO_RING, NCCLPROTO_ALLREDUCE, nodes, nodes, nt);
        plan->nccl_shape[plan->nccl_calls++] =
            shape_of(NCCLPROTO_RING, NCCLPROTO_REDUCESCATTER, n / nodes, 1, nt);
        break;
    default:
        return;
    }
    for (int p = 0; p < plan->nphases; p++)
        for (int c = 0; c < plan->phases[p].ncoflows; c++)
            plan->phases[p].coflows[c].latency_ps = 0; /* in NCCL's latencies now */
}

/* Here rather than in collective.c, which calls this file: the payload a
 * coflow's transfers carry, the pipeline's fill chunks included. */
double coll_coflow_bytes(const coll_plan *plan, const coll_coflow *cf, uint64_t size_bytes)
{
    double piece = cf->bytes_per_size * (double)size_bytes;
    double chunk = (double)plan->chunk_bytes < piece ? (double)plan->chunk_bytes : piece;
    return piece + cf->fill_hops * chunk;
}

/* The plan's bytes at full link rate: each phase's slowest coflow. */
static double bulk_s(const coll_plan *plan, uint64_t size_bytes)
{
    double total_s = 0;
    for (int p = 0; p < plan->nphases; p++) {
        const coll_phase *ph = &plan->phases[p];
        double slowest_s = 0;
        for (int c = 0; c < ph->ncoflows; c++)
            if (ph->idle_rate[c] > 0 && isfinite(ph->idle_rate[c]))
                slowest_s = fmax(slowest_s,
                                 coll_coflow_bytes(plan, &ph->coflows[c], size_bytes) /
                                     ph->idle_rate[c]);
        total_s += slowest_s;
    }
    return total_s;
}

static double plan_latency_us(const coll_plan *plan, ncclproto_proto p, uint64_t size_bytes)
{
    double us = 0;
    for (int i = 0; i < plan->nccl_calls; i++)
        us += ncclproto_latency_us(&plan->nccl_shape[i], p, (double)size_bytes, plan->channels);
    return us;
}

/* The share of the links' rate protocol p gets at size_bytes, bulk_s the
 * plan's time at full rate: every call of a plan is one algorithm's, so the
 * first call's shape gives the fraction (hier's calls are all rings); LL's
 * absolute cap lowers it further where the links are fast. */
static double plan_fraction(const coll_plan *plan, ncclproto_proto p, uint64_t size_bytes,
                            double bulk)
{
    double frac = ncclproto_bw_fraction(&plan->nccl_shape[0], p, (double)size_bytes);
    double cap_s = 0;
    for (int i = 0; i < plan->nccl_calls; i++)
        cap_s = fmax(cap_s, ncclproto_cap_s(&plan->nccl_shape[i], p, (double)size_bytes));
    if (cap_s > 0 && bulk > 0 && bulk / cap_s < frac)
        frac = bulk / cap_s;
    return frac;
}

/* One pass over the coflows: the protocol the tuner picks, its latency and
 * its bandwidth share (-1 and nothing set outside NCCL's model). */
static int pick_eval(const coll_plan *plan, uint64_t size_bytes, double *lat_us, double *frac)
{
    if (plan->nccl_calls == 0)
        return -1;
    double bulk = bulk_s(plan, size_bytes);
    int best = NCCLPROTO_SIMPLE;
    double best_s = INFINITY;
    for (int p = 0; p < NCCLPROTO_COUNT; p++) {
        double l = plan_latency_us(plan, (ncclproto_proto)p, size_bytes);
        double f = plan_fraction(plan, (ncclproto_proto)p, size_bytes, bulk);
        double s = l * 1e-6 + bulk / f;
        if (s < best_s) {
            best_s = s;
            best = p;
            *lat_us = l;
            *frac = f;
        }
    }
    return best;
}

int coll_proto_pick(const coll_plan *plan, uint64_t size_bytes)
{
    double lat_us, frac;
    return pick_eval(plan, size_bytes, &lat_us, &frac);
}

void coll_proto_cost(const coll_plan *plan, uint64_t size_bytes, uint64_t *start_ps,
                     double *wire)
{
    double lat_us = 0, frac = 1;
    if (pick_eval(plan, size_bytes, &lat_us, &frac) < 0) {
        *start_ps = plan->launch_ps;
        *wire = 1.0;
        return;
    }
    *start_ps = (uint64_t)llround(lat_us * 1e6);
    *wire = 1.0 / frac;
}

uint64_t coll_start_ps(const coll_plan *plan, uint64_t size_bytes)
{
    uint64_t start_ps;
    double wire;
    coll_proto_cost(plan, size_bytes, &start_ps, &wire);
    return start_ps;
}

double coll_wire_factor(const coll_plan *plan, uint64_t size_bytes)
{
    uint64_t start_ps;
    double wire;
    coll_proto_cost(plan, size_bytes, &start_ps, &wire);
    return wire;
}
