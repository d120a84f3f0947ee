/* offload_coord: DeepSpeed v0.3.13's parameter fetches under
 * --offload-engine deepspeed-2021 (offload_private.h, zero3_coord.h). */
#include <math.h>
#include <string.h>

#include "offload_private.h"
#include "zero3_coord.h"

/* One GPU: a gather is the parameter's 16-bit copy from pinned host memory
 * (the CPU flat buffer, stage3.py:916-921), at the link's rate; the
 * gradients take the engine's own path, not the trace's reductions. */
static double copy_up_s(const z3c_comm *c, void *ctx)
{
    const offload_bw *bw = ctx;
    return c->reduce ? 0 : c->elems * 2 / bw->h2d;
}

/* Adds one microbatch's trace (the first after the step, or a later one)
 * with weight w: its fetches and, on one GPU, its passes. */
static void add_microbatch(const layout_desc *l, const offload_base *b, const offload_bw *bw,
                           int layers, int m, int after_step, double w, offload_coord *out)
{
    z3c_config cfg = z3c_defaults();
    z3c_trace t;
    if (z3c_build(b->model, l, layers, after_step, &cfg, &t, NULL) != 0)
        return;
    out->fwd_elems += w * t.pass_gather_elems[Z3C_FWD];
    out->bwd_elems += w * (t.pass_gather_elems[Z3C_REC] + t.pass_gather_elems[Z3C_BWD]);
    /* what the trace leaves out (the final norm): once a pass */
    out->outside_elems = fmax(0, b->params - layers * t.block_elems - t.root_elems);
    if (out->windowed) {
        double per = (double)m * layers;
        double layer_s[Z3C_NPASS] = {b->fwd_s / per, b->rec_s / per,
                                     (b->bwd_s - b->rec_s) / per};
        double comm_s, fwd_end_s = 0;
        double end_s = z3c_time_s(&t, layer_s, copy_up_s, (void *)bw, &comm_s, &fwd_end_s);
        out->fwd_s += w * m * fwd_end_s;
        out->bwd_s += w * m * (end_s - fwd_end_s);
    }
    z3c_free(&t);
}

void offload_coord_of(const layout_desc *l, const offload_base *b, const offload_bw *bw,
                      offload_coord *out)
{
    memset(out, 0, sizeof *out);
    if (!b->model)
        return;
    int layers = b->layers > 0 ? b->layers : 1, m = b->microbatches > 0 ? b->microbatches : 1;
    int moves = l->offload == OFFLOAD_PARAMS || l->offload == OFFLOAD_ALL;
    out->windowed = moves && layout_dp_cp(l) == 1; /* z3c_build fails only without layers */
    add_microbatch(l, b, bw, layers, m, 1, 1.0 / m, out);
    if (m > 1)
        add_microbatch(l, b, bw, layers, m, 0, (m - 1.0) / m, out);
    /* the left-out parameters' copies precede each pass: nothing under them */
    double outside_s = out->windowed ? m * out->outside_elems * 2 / bw->h2d : 0;
    out->fwd_s += outside_s;
    out->bwd_s += outside_s;
}
