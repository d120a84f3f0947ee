/* trainsim_dualpipe: DualPipe's overlapped F&B units in the simulation (see
 * trainsim_private.h and schedule_dualpipe.h).
 *
 * An F&B unit is emitted as its parts' tasks in order (the forward, the
 * other direction's B and W, each without its own all-to-all task), then
 * one task of what the unit takes beyond them (estimate_dualpipe_fb: the
 * all-to-all left exposed and the slowdown of the compute by the SMs the
 * communication holds), so that on a stage's compute stream the unit lasts
 * what the closed form charges.  Its two inputs are waited for before its
 * first task and its two outputs sent after its last, as dualpipe.py's
 * _forward_backward_chunk receives both before computing and sends both
 * after. */
#include <stdlib.h>

#include "estimate_dualpipe.h"
#include "estimate_sched.h"
#include "schedule.h"
#include "trainsim_private.h"

void trainsim_dualpipe_costs(builder *b)
{
    const layout_desc *l = b->l;
    if (l->schedule != LAYOUT_SCHEDULE_DUALPIPE)
        return;
    size_t nv = (size_t)schedule_vstages(l);
    double *f = cs_xrealloc(NULL, sizeof *f * nv), *bw = cs_xrealloc(NULL, sizeof *bw * nv);
    double *w = cs_xrealloc(NULL, sizeof *w * nv), *fb = cs_xrealloc(NULL, sizeof *fb * nv);
    double *extra = cs_xrealloc(NULL, sizeof *extra * nv), p2p_s;
    const dev_type *dev = estimate_device(b->in->topology);
    estimate_sched_costs(b->in->model, l, dev, b->in->eff, &b->cc, f, bw, w, &p2p_s);
    estimate_dualpipe_fb(b->in->model, l, dev, b->in->eff, &b->cc, f, bw, w, fb, extra);
    for (int s = 0; s < l->pp; s++)
        for (int c = 0; c < b->nchunks; c++) {
            double x = extra[schedule_vstage(l, s, c)];
            b->chunks[s * b->nchunks + c].fb_extra_ps = x > 0 ? units_s_to_ps_ceil(x) : 0;
        }
    free(f);
    free(bw);
    free(w);
    free(fb);
    free(extra);
}

static int *unit_cells(builder *b, int *arr, int s, const schedule_unit *u)
{
    int vs = schedule_vstage(b->l, s, u->chunk);
    return &arr[((size_t)vs * b->m + u->microbatch) * b->nmem];
}

void trainsim_dualpipe_pair_end(builder *b, int s, const schedule_unit *u)
{
    const chunk_cost *c = &b->chunks[s * b->nchunks + u[0].chunk];
    if (c->fb_extra_ps > 0)
        phase_compute(b, s, c->fb_extra_ps, R_EP, "F&B exposed all-to-all");
    int *f_start = unit_cells(b, b->fstart, s, &u[0]), *f_end = unit_cells(b, b->fend, s, &u[0]);
    int *b_start = unit_cells(b, b->bstart, s, &u[1]), *b_end = unit_cells(b, b->bend, s, &u[1]);
    for (int k = 0; k < b->nmem; k++) {
        if (dropped(b, k))
            continue;
        b_start[k] = f_start[k];
        f_end[k] = b_end[k] = b->last[s * b->nmem + k];
    }
}
