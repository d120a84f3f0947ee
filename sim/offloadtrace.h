/* offloadtrace: the offload's utilisation over time in the timeline
 * (issue 17).
 *
 * Owns the counter tracks "util pcie-h2d", "util pcie-d2h", "util dram",
 * "util nvme", "util cpu" and "util gpu": each resource's busy fraction,
 * within [0, 1], phase by phase as the offload model lays the iteration out
 * (costmodel/offload.h: forward, backward, the rest of the base iteration,
 * the step; offload_report.phases), from 0 to the iteration with offload.
 * They are the model's phases, not per task: the slices are the engine's
 * iteration without the offload's exposed time, which may end earlier. */
#ifndef CS_OFFLOADTRACE_H
#define CS_OFFLOADTRACE_H

#include "offload.h"
#include "timeline.h"

/* Adds the counter tracks under GPU `gpu`'s process; nothing when r is not
 * active. */
void offloadtrace_counters(const offload_report *r, int gpu, timeline *tl);

#endif
