/* estimate_sched: the closed form of the schedules that split the backward
 * (zb-*, the V-shapes, dualpipe).
 *
 * Their unit orders come from a list schedule (schedule_zb.c), not from a
 * formula in m and pp, so the closed form replays the same orders with the
 * same per-unit times the simulation charges: F (forward and its tensor-
 * parallel collectives), B (recomputation, input gradients and their
 * collectives), W (weight gradients) per virtual stage, and one pipeline
 * send between ranks.  Without contention the two agree by construction;
 * what the simulation adds is the data-parallel buckets and links shared. */
#ifndef CS_ESTIMATE_SCHED_H
#define CS_ESTIMATE_SCHED_H

#include "commcost.h"
#include "device.h"
#include "layout.h"
#include "model.h"
#include "opcost.h"

/* f_s, b_s, w_s: [schedule_vstages(l)]; *p2p_s: the slowest stage's send. */
void estimate_sched_costs(const model_desc *m, const layout_desc *l, const dev_type *dev,
                          const opcost_eff *e, const commcost *cc, double *f_s, double *b_s,
                          double *w_s, double *p2p_s);

/* When each rank's last pipeline unit ends (end_s[pp]) under the layout's
 * order (zb-auto: built for these costs). */
void estimate_sched_ends(const model_desc *m, const layout_desc *l, const dev_type *dev,
                         const opcost_eff *e, const commcost *cc, double *end_s);

#endif
