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

/* What a unit computes.  Schedules that split the backward (zb-*, the
 * V-shapes, dualpipe) run B, the input gradients that the previous stage
 * waits for, and W, the weight gradients nothing downstream waits for but
 * the optimizer (Qi et al. 2024, sec. 2); the others run B as the whole
 * backward and no W. */
enum { SCHEDULE_F = 0, SCHEDULE_B = 1, SCHEDULE_W = 2 };

typedef struct schedule_unit {
    int backward;   /* SCHEDULE_F, SCHEDULE_B or SCHEDULE_W */
    int microbatch;
    int chunk;      /* 0 .. schedule_chunks - 1 */
    /* DualPipe's overlapped F&B (schedule_dualpipe.h): 1 on a forward and
     * the full backward (B and its W) of the other direction that follow
     * it, run as one unit whose communication hides under the other's
     * compute; 0 elsewhere */
    int overlap;
} schedule_unit;

/* Per-unit times for building and replaying orders, indexed by virtual
 * stage (schedule_vstage); p2p_s is one send between virtual stages on
 * different ranks. */
typedef struct schedule_costs {
    const double *f_s, *b_s, *w_s;
    double p2p_s;
    /* DualPipe's F&B units: [virtual stage of the forward] the unit's
     * seconds (schedule_dualpipe_fb_s); NULL: F + B + W of the two */
    const double *fb_s;
} schedule_costs;

/* Units a rank runs: m vpp (F + B), or 3 m vpp with the backward split
 * (dualpipe: 3 m, each microbatch visiting one of the rank's two chunks). */
int schedule_units(const layout_desc *l);

/* Whether the schedule splits the backward into B and W. */
int schedule_splits_backward(const layout_desc *l);

/* Model chunks a rank holds: vpp, or 2 under dualpipe (one stage per direction). */
int schedule_chunks(const layout_desc *l);

/* Virtual stages: pp * schedule_chunks.  Interleaved and the one-chunk
 * schedules number chunk c of rank s as c pp + s; the V-shapes and dualpipe
 * as s for chunk 0 and 2 pp - 1 - s for chunk 1. */
int schedule_vstages(const layout_desc *l);
int schedule_vstage(const layout_desc *l, int rank, int chunk);
int schedule_vstage_rank(const layout_desc *l, int vstage);

/* The (stage, chunk) of Megatron's numbering (vstage = chunk pp + stage,
 * vpp chunks) that holds the same layers as `vstage`, for the workload and
 * memory that depend on where the embedding and the output layer are:
 * dualpipe's direction-1 vstage pp + k holds stage k's layers. */
void schedule_position(const layout_desc *l, int vstage, int *stage, int *chunk);

/* The virtual stages microbatch mb runs through, first to last (dualpipe:
 * the first m / 2 microbatches through 0 .. pp-1 from rank 0, the others
 * through pp .. 2 pp - 1 from rank pp - 1). */
void schedule_path(const layout_desc *l, int mb, int *first_vstage, int *last_vstage);

/* Fills out[0 .. schedule_units-1] with rank `stage`'s order under GPipe,
 * 1F1B or interleaved (layout valid); schedule_orders serves every schedule. */
void schedule_order(const layout_desc *l, int stage, schedule_unit *out);

/* Every rank's order: out[r * schedule_units + i].  costs NULL: F = B = W =
 * 1, no communication (what the hand-made schedules assume). */
void schedule_orders(const layout_desc *l, const schedule_costs *costs, schedule_unit *out);

/* The same orders built afresh, without the memo of equal-time orders
 * (schedule_memo.h) that schedule_orders reads first: for the tests that
 * hold the memo's copies to the builders'. */
void schedule_orders_built(const layout_desc *l, const schedule_costs *costs, schedule_unit *out);

/* Times of every rank's order run with `costs`: each unit starts when its
 * rank is free and its input has arrived (p2p_s after the unit it depends on
 * ends).  end_s[r]: when rank r's last unit ends; busy_s[r]: its units' sum;
 * first_s[r]: when its first unit starts (any may be NULL). */
void schedule_replay(const layout_desc *l, const schedule_unit *orders,
                     const schedule_costs *costs, double *first_s, double *end_s,
                     double *busy_s);

/* The same replay, with when each unit starts and ends:
 * unit_start_s[r * schedule_units + i], unit_end_s[...] (an F&B unit's parts
 * share their unit's times); first_s, end_s as above (either may be NULL). */
void schedule_replay_units(const layout_desc *l, const schedule_unit *orders,
                           const schedule_costs *costs, double *first_s, double *end_s,
                           double *unit_start_s, double *unit_end_s);

/* Units of the group that starts at order[i]: 3 for DualPipe's F&B unit
 * (an F with overlap and the B and W after it), else 1. */
int schedule_group_len(const schedule_unit *order, int i, int n);

/* Peak over rank `rank`'s order of the activations it holds: F of a chunk
 * adds act_bytes[chunk], its B frees all but wpend_bytes[chunk] (what W
 * still reads), W frees the rest; without a split B frees it all.
 * *peak_units: the most chunks whose F ran and whose W (B) has not. */
double schedule_peak_activation(const layout_desc *l, const schedule_unit *order,
                                const double *act_bytes, const double *wpend_bytes,
                                int *peak_units);

#endif
