/* schedule: the order in which one pipeline rank runs its forward and
 * backward passes under GPipe, 1F1B and interleaved 1F1B.
 *
 * Owns the per-rank sequence of units (forward or backward of one microbatch
 * through one model chunk).  Virtual stage of chunk c on rank s: c pp + s;
 * microbatch i flows through virtual stages 0, 1, ... in its forward pass
 * and back in its backward pass.
 *   GPipe: the m forwards, then the m backwards (Huang et al. 2019).
 *   1F1B: min(pp - s - 1, m) warm-up forwards, then one forward and one
 *     backward alternately, then the remaining backwards (PipeDream-Flush,
 *     Narayanan et al. 2021 sec. 2.2.1).
 *   Interleaved: Megatron-LM's order over m vpp units: forward unit k runs
 *     chunk (k / pp) mod vpp of microbatch (k / (pp vpp)) pp + k mod pp;
 *     backward unit k the same microbatch through chunk vpp - 1 - (k / pp)
 *     mod vpp; warm-up min(2 (pp - s - 1) + (vpp - 1) pp, m vpp) forwards
 *     (Narayanan et al. 2021 sec. 2.2.2; needs m a multiple of pp). */
#ifndef CS_SCHEDULE_H
#define CS_SCHEDULE_H

#include "layout.h"

typedef struct schedule_unit {
    int backward;   /* 0 forward, 1 backward */
    int microbatch;
    int chunk;      /* 0 .. vpp-1 */
} schedule_unit;

/* Units a rank runs: 2 m vpp. */
int schedule_units(const layout_desc *l);

/* Fills out[0 .. schedule_units-1] with rank `stage`'s order (layout valid). */
void schedule_order(const layout_desc *l, int stage, schedule_unit *out);

#endif
