/* estimate_offload: offload in the estimate (estimate_offload.h). */
#include "estimate_offload.h"

#include "workload.h"

static const sys_node_type *job_node(const estimate_input *in)
{
    return topo_node_type(in->topology, 0);
}

void estimate_offload_begin(const estimate_input *in, const memory_breakdown *mb,
                            estimate_result *out)
{
    const layout_desc *l = in->layout;
    if (l->offload == OFFLOAD_NONE)
        return;
    out->peak_stage = 0;
    for (int s = 0; s < l->pp; s++) {
        out->stages[s].peak_mem_bytes = offload_gpu_bytes(in->model, l, &mb[s]);
        if (out->stages[s].peak_mem_bytes > out->stages[out->peak_stage].peak_mem_bytes)
            out->peak_stage = s;
    }
    out->peak_mem_bytes = out->stages[out->peak_stage].peak_mem_bytes;
    /* the tiers hold the most parameters any stage has */
    int most = 0;
    for (int s = 1; s < l->pp; s++)
        most = mb[s].params > mb[most].params ? s : most;
    offload_memory(in->model, l, job_node(in), in->gpus, &mb[most],
                   memory_usable_bytes(estimate_device(in->topology)), &out->offload);
    out->offload.gpu_bytes = out->peak_mem_bytes;
    out->offload.fits_hbm = out->peak_mem_bytes <= out->offload.gpu_capacity_bytes;
    out->fits = out->offload.fits_hbm && out->offload.fits_dram && out->offload.fits_nvme;
}

/* The work of the stage the offload model follows: the one with the most
 * parameters (it moves the most). */
static void base_of(const estimate_input *in, const estimate_result *out, int s, offload_base *b)
{
    const layout_desc *l = in->layout;
    const estimate_stage *e = &out->stages[s];
    b->iteration_s = out->iteration_s;
    /* backward passes do twice the forward's FLOPs */
    b->fwd_s = e->compute_s / 3;
    b->bwd_s = e->compute_s * 2 / 3 + e->recompute_s;
    b->gpu_optimizer_s =
        workload_optimizer_s(in->model, l, estimate_device(in->topology), in->eff, s);
    b->params = memory_stage_params(in->model, l, s);
    b->activation_bytes_per_mb = memory_activation_bytes_per_layer(in->model, l) *
                                 layout_layers_per_stage(l, in->model);
    b->microbatches = layout_microbatches(l);
}

void estimate_offload_time(const estimate_input *in, const offload_bw *bw, estimate_result *out)
{
    const layout_desc *l = in->layout;
    if (l->offload == OFFLOAD_NONE)
        return;
    int most = 0;
    for (int s = 1; s < l->pp; s++)
        if (memory_stage_params(in->model, l, s) > memory_stage_params(in->model, l, most))
            most = s;
    offload_bw closed;
    if (!bw) {
        offload_bw_closed(job_node(in), in->gpus, &closed);
        bw = &closed;
    }
    offload_base b;
    base_of(in, out, most, &b);
    double iter = offload_apply(l, &b, bw, &out->offload);
    for (int s = 0; s < l->pp; s++) {
        estimate_stage *e = &out->stages[s];
        e->optimizer_s -= workload_optimizer_s(in->model, l, estimate_device(in->topology),
                                               in->eff, s);
        e->offload_s = out->offload.exposed_s;
    }
    out->iteration_s = iter;
}
