/* svg_pipeline: pictures of one simulated iteration from its timeline.
 *
 * Owns two drawings of a timeline (timeline.h):
 *   the schedule  one row per pipeline stage with the slices of the stage's
 *                 compute track as boxes along time: forward and backward
 *                 in their own colour families, a shade per model chunk
 *                 when the schedule is interleaved, recompute, tensor-
 *                 parallel communication and the optimizer in colours of
 *                 their own; the grey row background left showing between
 *                 boxes is idle time (the pipeline bubble).  Microbatch
 *                 numbers are written in boxes wide enough to hold them;
 *                 every box has a tooltip with what it stands for.
 *   the memory    bytes held per stage over time as step lines, in GiB,
 *                 with the usable device memory as a dashed line; with more
 *                 than 8 stages, 8 of them from the first to the last.
 * Both stay readable from 1 to 64 stages and write in time linear in the
 * number of slices and memory points. */
#ifndef CS_SVG_PIPELINE_H
#define CS_SVG_PIPELINE_H

#include <stdio.h>

#include "timeline.h"

/* Each returns 0, or -1 when writing to f failed. */
int svg_pipeline_schedule(FILE *f, const timeline *tl);
int svg_pipeline_memory(FILE *f, const timeline *tl);

#endif
