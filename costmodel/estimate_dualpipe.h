/* estimate_dualpipe: the seconds of DualPipe's overlapped F&B units
 * (schedule_dualpipe.h) from the per-unit times the closed form and the
 * simulation charge (estimate_sched_costs).
 *
 * A lone unit pays its expert-parallel all-to-alls as commcost_ep_exposed_s
 * says (all of them, or beyond its own compute with --ep-overlap).  In an
 * F&B unit the forward's dispatch and combine run under the other
 * direction's full backward and the backward's under the forward
 * (DeepSeek-V3 sec. 3.2.1, figure 4): compute is the unit's time without
 * its all-to-alls (its tensor- and context-parallel exchanges stay with
 * it: DualPipe overlaps only the all-to-alls and the pipeline sends, and
 * our pipeline sends already run beside the compute), communication is
 * every all-to-all of the pass at the slowest expert rank's load
 * (commcost_ep_exposed_s without overlap), and the unit takes
 * schedule_dualpipe_fb_s with SCHEDULE_DUALPIPE_COMM_SM_SHARE. */
#ifndef CS_ESTIMATE_DUALPIPE_H
#define CS_ESTIMATE_DUALPIPE_H

#include "commcost.h"
#include "device.h"
#include "layout.h"
#include "model.h"
#include "opcost.h"

/* For every virtual stage vs of a forward (F&B: that forward with the
 * full backward of the rank's other chunk): fb_s[vs], the unit's seconds,
 * and extra_s[vs] (or NULL), what it takes beyond its parts' times
 * without their all-to-alls (f_s[vs] and b_s + w_s of the other chunk, as
 * given, less the all-to-alls a lone unit exposes): the exposed remainder
 * and the SM share's slowdown, which the simulation runs as one task. */
void estimate_dualpipe_fb(const model_desc *m, const layout_desc *l, const dev_type *dev,
                          const opcost_eff *e, const commcost *cc, const double *f_s,
                          const double *b_s, const double *w_s, double *fb_s, double *extra_s);

/* Each rank's exposed all-to-all seconds over its DualPipe order (ep_s[pp]):
 * its lone units' (commcost_ep_exposed_s) and its F&B units' extra, what the
 * simulation runs as all-to-all tasks on that rank; f_s, b_s, w_s as for
 * estimate_dualpipe_fb (estimate_sched_ep_s gives them). */
void estimate_dualpipe_ep_s(const model_desc *m, const layout_desc *l, const dev_type *dev,
                            const opcost_eff *e, const commcost *cc, const double *f_s,
                            const double *b_s, const double *w_s, double *ep_s);

#endif
