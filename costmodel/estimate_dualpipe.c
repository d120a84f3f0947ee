/* estimate_dualpipe: DualPipe's F&B units' seconds (see estimate_dualpipe.h). */
#include "estimate_dualpipe.h"

#include <stdlib.h>

#include "commcost_ep.h"
#include "cs_alloc.h"
#include "schedule.h"
#include "schedule_dualpipe.h"
#include "workload.h"

/* A virtual stage's all-to-all seconds, forward (pass 0) or backward with
 * its recomputation (pass 1): as a lone unit exposes them, and in all. */
static void a2a_s(const model_desc *m, const layout_desc *l, const dev_type *dev,
                  const opcost_eff *e, const commcost *cc, int vs, int pass, double *lone_s,
                  double *all_s)
{
    int stage, chunk;
    schedule_position(l, vs, &stage, &chunk);
    workload_chunk w;
    workload_chunk_of(m, l, dev, e, stage, chunk, &w);
    double one_s = cc->stages[schedule_vstage_rank(l, vs)].ep_a2a_s;
    layout_desc whole = *l;
    whole.ep_overlap = 0; /* every all-to-all, none hidden */
    if (pass == 0) {
        *lone_s = commcost_ep_exposed_s(m, l, one_s, w.ep_a2a_fwd, w.fwd_s);
        *all_s = commcost_ep_exposed_s(m, &whole, one_s, w.ep_a2a_fwd, w.fwd_s);
        return;
    }
    *lone_s = commcost_ep_exposed_s(m, l, one_s, w.ep_a2a_bwd, w.bwd_s) +
              commcost_ep_exposed_s(m, l, one_s, w.ep_a2a_rec, w.recompute_s);
    *all_s = commcost_ep_exposed_s(m, &whole, one_s, w.ep_a2a_bwd + w.ep_a2a_rec, w.bwd_s);
}

void estimate_dualpipe_fb(const model_desc *m, const layout_desc *l, const dev_type *dev,
                          const opcost_eff *e, const commcost *cc, const double *f_s,
                          const double *b_s, const double *w_s, double *fb_s, double *extra_s)
{
    for (int vf = 0; vf < schedule_vstages(l); vf++) {
        int rank = schedule_vstage_rank(l, vf);
        int vb = schedule_vstage(l, rank, vf < l->pp ? 1 : 0); /* the other direction */
        double f_lone, f_all, b_lone, b_all;
        a2a_s(m, l, dev, e, cc, vf, 0, &f_lone, &f_all);
        a2a_s(m, l, dev, e, cc, vb, 1, &b_lone, &b_all);
        double f_compute = f_s[vf] - f_lone, b_compute = b_s[vb] - b_lone + w_s[vb];
        fb_s[vf] = schedule_dualpipe_fb_s(f_compute, f_all, b_compute, b_all,
                                          SCHEDULE_DUALPIPE_COMM_SM_SHARE);
        if (extra_s)
            extra_s[vf] = fb_s[vf] - f_compute - b_compute;
    }
}

void estimate_dualpipe_ep_s(const model_desc *m, const layout_desc *l, const dev_type *dev,
                            const opcost_eff *e, const commcost *cc, const double *f_s,
                            const double *b_s, const double *w_s, double *ep_s)
{
    size_t nv = (size_t)schedule_vstages(l), n = (size_t)schedule_units(l);
    double *buf = cs_xrealloc(NULL, sizeof *buf * (nv * 2 + 4)), all_s;
    double *fb = buf, *extra = fb + nv, *lone = extra + nv;
    schedule_unit *o = cs_xrealloc(NULL, sizeof *o * n * (size_t)l->pp);
    estimate_dualpipe_fb(m, l, dev, e, cc, f_s, b_s, w_s, fb, extra);
    schedule_orders(l, NULL, o);
    for (int r = 0; r < l->pp; r++) {
        ep_s[r] = 0;
        for (int c = 0; c < 2; c++) { /* lone[c]: forward, lone[2 + c]: backward */
            int vs = schedule_vstage(l, r, c);
            a2a_s(m, l, dev, e, cc, vs, 0, &lone[c], &all_s);
            a2a_s(m, l, dev, e, cc, vs, 1, &lone[2 + c], &all_s);
        }
        const schedule_unit *u = o + (size_t)r * n;
        for (int i = 0; i < (int)n;) {
            int len = schedule_group_len(u, i, (int)n);
            if (len > 1)
                ep_s[r] += extra[schedule_vstage(l, r, u[i].chunk)];
            else if (u[i].backward != SCHEDULE_W)
                ep_s[r] += lone[(u[i].backward == SCHEDULE_B ? 2 : 0) + u[i].chunk];
            i += len;
        }
    }
    free(buf);
    free(o);
}
