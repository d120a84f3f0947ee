/* schedule_vshape: the V-shape schedules' unit orders as their authors
 * construct them (Qi et al., "Pipeline Parallelism with Controllable
 * Memory", 2024; sail-sg/zero-bubble-pipeline-parallelism's schedulers
 * zbv.py and zbv_greedy.py, rendered in our own C):
 *   zbv: the greedy that fills a V of 2 pp chunks (1x memory) with W
 *     wherever a rank would wait, retried with each rank's bubble as its
 *     allowance (schedule_vgreedy.c);
 *   v-half, v-min: the paper's stable patterns (a microbatch every 6
 *     slots, 1/2x and 1/3x memory), W in the free slots and the "squeeze"
 *     of the warm-up and cool-down (schedule_vpattern.c).
 * Both write out[r * 6 m + i], rank r's order of F, B and W of its two
 * chunks (chunk 0: virtual stage r, chunk 1: 2 pp - 1 - r). */
#ifndef CS_SCHEDULE_VSHAPE_H
#define CS_SCHEDULE_VSHAPE_H

#include "schedule.h"

/* costs NULL: F = B = W = 1 and no communication; otherwise the mean F, B
 * and W over the virtual stages and the send (what runtime.py gives zbv.py). */
void schedule_zbv_orders(const layout_desc *l, const schedule_costs *costs, schedule_unit *out);

/* V-Half or V-Min by l->schedule; the patterns assume equal unit times. */
void schedule_vpattern_orders(const layout_desc *l, schedule_unit *out);

#endif
