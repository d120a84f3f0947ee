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

/* When each rank's last pipeline unit ends (end_s[pp]) and its first
 * starts (first_s[pp], or NULL) under the layout's order (zb-auto: built
 * for these costs); grad_queue_s[pp] (or NULL): ZeRO-2's per-microbatch
 * reductions queued behind the rank's W units, the part past its last unit
 * (estimate_shard_w_queue_s). */
void estimate_sched_ends(const model_desc *m, const layout_desc *l, const dev_type *dev,
                         const opcost_eff *e, const commcost *cc, double *first_s,
                         double *end_s, double *grad_queue_s);

/* DualPipe: each rank's exposed all-to-all seconds (ep_s[pp]) over its
 * order (estimate_dualpipe_ep_s with these per-unit times). */
void estimate_sched_ep_s(const model_desc *m, const layout_desc *l, const dev_type *dev,
                         const opcost_eff *e, const commcost *cc, double *ep_s);

/* The iteration under the optimizer post-validation (layout_desc): with no
 * cross-stage synchronisation before the optimizer, each rank starts its
 * next iteration when its own ends, so what repeats is the longest rank's
 * span, from its first unit's start (first_s) to its optimizer's end
 * (done_s).  The validation's all-reduce of the norm and the inf/nan flag
 * runs behind the next iteration (Qi et al. 2024, sec. 4: the partially
 * reduced state travels with the pipeline's own sends); a rollback, when
 * the check fails, redoes one optimizer step and is rare in stable
 * training (their observation), so it is not charged per iteration. */
double estimate_post_validated_s(int pp, const double *first_s, const double *done_s);

#endif
