/* checkpoint: checkpoint size and times (see checkpoint.h). */
#include "checkpoint.h"

#include <math.h>

#include "calib.h"
#include "memory.h"

#define OPTIMIZER_BYTES_PER_PARAM 12.0

static double weight_bytes_per_param(const model_desc *m)
{
    return m->dtype == MODEL_FP8 ? 1.0 : 2.0;
}

/* The checkpoint's bytes: in total, and the most one GPU writes. */
static void sizes(const model_desc *m, const layout_desc *l, ckpt_cost *out)
{
    double per_param = weight_bytes_per_param(m) + OPTIMIZER_BYTES_PER_PARAM;
    out->total_bytes = out->gpu_bytes = 0;
    for (int s = 0; s < l->pp; s++) {
        double shard = memory_stage_params(m, l, s) * per_param; /* one tp rank's */
        out->total_bytes += shard * l->tp;
        out->gpu_bytes = fmax(out->gpu_bytes, shard / layout_dp_cp(l)); /* dp x cp hold it */
    }
}

/* Seconds to copy bytes between a GPU and host memory: the GPU's share of
 * its PCIe switch's uplink and of host memory bandwidth.  A fitted pinned
 * copy (one GPU alone on its link, `fit`, or NULL) stands for the link's
 * datasheet rate and adds its fixed time: measured beats assumed. */
static double host_copy_s(const sys_node_type *node, const calib_bw_fit *fit, double bytes)
{
    int per_switch = node->gpus_per_pcie_switch > 0 ? node->gpus_per_pcie_switch : 1;
    double link_bytes_per_s = fit ? fit->bw_bytes_per_s : node->pcie_bw_bytes_per_s;
    double bytes_per_s =
        fmin(link_bytes_per_s / per_switch, node->host_mem_bw_bytes_per_s / node->gpus);
    return bytes / bytes_per_s + (fit ? fit->fixed_s : 0);
}

/* The profile's fit of a pinned copy, or NULL without one. */
static const calib_bw_fit *copy_fit(const calib_profile *profile, int copy)
{
    return profile && profile->copy[copy].have ? &profile->copy[copy] : NULL;
}

int ckpt_cost_of(const model_desc *m, const layout_desc *l, const sys_node_type *node,
                 const ckpt_storage *st, const calib_profile *profile, ckpt_cost *out,
                 cs_err *err)
{
    if (layout_validate(l, m, (int)layout_gpus(l), node->gpus, err) != 0)
        return -1;
    if (!(st->write_bytes_per_s > 0) || !(st->read_bytes_per_s > 0))
        return cs_fail(err, "checkpoint: the storage bandwidths must be positive");
    sizes(m, l, out);
    double nic_bw = node->nics * node->nic_bw_bytes_per_s;
    out->node_bytes = out->gpu_bytes * node->gpus;
    out->snapshot_s = host_copy_s(node, copy_fit(profile, CALIB_COPY_D2H_PINNED), out->gpu_bytes);
    out->h2d_s = host_copy_s(node, copy_fit(profile, CALIB_COPY_H2D_PINNED), out->gpu_bytes);
    double node_out_s = nic_bw > 0 ? out->node_bytes / nic_bw : INFINITY;
    out->sync_s = fmax(fmax(out->total_bytes / st->write_bytes_per_s, node_out_s), out->snapshot_s);
    out->peer_copy_s = node_out_s;
    out->reload_s = fmax(out->total_bytes / st->read_bytes_per_s, node_out_s) + out->h2d_s;
    out->memory_reload_s = node_out_s + out->h2d_s;
    return 0;
}
