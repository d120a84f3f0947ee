/* schedule_dualpipe: DualPipe's unit order and its overlapped F&B unit
 * (DeepSeek-V3 Technical Report, arXiv 2412.19437, sec. 3.2.1, figures 4
 * and 5; deepseek-ai/DualPipe, dualpipe/dualpipe.py DualPipe.step).
 *
 * Order: rank r runs the eight steps of dualpipe.py's step(), in our
 * numbering (chunk 0: direction 0, stage r, microbatches 0 .. m/2 - 1
 * entering at rank 0; chunk 1: direction 1, stage pp - 1 - r, microbatches
 * m/2 .. m - 1 entering at rank pp - 1).  dualpipe.py's "phase" p is our
 * chunk p on the first half of the ranks and chunk 1 - p on the second.
 * With h = min(r, pp - 1 - r) and H = pp / 2:
 *   1  nF0     2 (H - h - 1) forwards of phase 0
 *   2  nF0F1   h + 1 times F0, F1
 *   3  nB1W1F1 H - h - 1 times B1 (W deferred), W, F1
 *   4  nF0B1F1B0  m/2 - pp + h + 1 times F0&B1, F1&B0 (the middle ranks'
 *              first F0, B1 run apart: "we don't overlap these two chunks")
 *   5  nB1F1B0 H - h - 1 times B1, F1&B0
 *   6  nB1B0   h + 1 times B1, B0 (W deferred from the middle of the step
 *              on, by the parity of h, as dualpipe.py switches enable_zb)
 *   7  nWB0    H - h - 1 times W, B0 (W deferred)
 *   8  nW      h + 1 times W
 * A backward whose W is not deferred is B followed at once by its W (a
 * "full backward"); deferred Ws run first in, first out (WeightGradStore's
 * queue).  F&B is a forward of one direction and the full backward of the
 * other run as one unit: the three units carry `overlap` 1. */
#ifndef CS_SCHEDULE_DUALPIPE_H
#define CS_SCHEDULE_DUALPIPE_H

#include "schedule.h"

/* Fills out[r * 3 m + i] for every rank (layout valid for dualpipe). */
void schedule_dualpipe_orders(const layout_desc *l, schedule_unit *out);

/* The share of a GPU's streaming multiprocessors that DualPipe's
 * all-to-all and pipeline kernels hold while they run beside the other
 * direction's compute: 20 of the H800's 132 (DeepSeek-V3 Technical
 * Report, sec. 3.2.2: "only 20 SMs are sufficient to fully utilize the
 * bandwidths of IB and NVLink"; sec. 3.2.1: the overlapped pair runs with
 * a share of SMs dedicated to communication). */
#define SCHEDULE_DUALPIPE_COMM_SM_SHARE (20.0 / 132.0)

/* Seconds of one F&B unit: a forward of compute f_compute_s and all-to-all
 * f_comm_s beside a full backward of compute b_compute_s (B and W) and
 * all-to-all b_comm_s.  Each pass's communication runs under the other's
 * compute; while it runs the compute has the SMs the communication does
 * not hold (share sm_share), so a half in which communication of c_s
 * overlaps compute of x_s takes max(c_s, x_s + sm_share c_s): the
 * compute's work done at (1 - sm_share) of the rate for c_s and the rest
 * at the full rate, or the communication's own time where it is longer
 * (the remainder exposed).  With no communication: f + b compute. */
double schedule_dualpipe_fb_s(double f_compute_s, double f_comm_s, double b_compute_s,
                              double b_comm_s, double sm_share);

#endif
