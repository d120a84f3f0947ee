/* estimate_offload: the estimate's memory verdict and iteration time for a
 * layout that offloads (offload.h), hooked into estimate_begin and
 * estimate_finish. */
#ifndef CS_ESTIMATE_OFFLOAD_H
#define CS_ESTIMATE_OFFLOAD_H

#include "estimate.h"
#include "memory.h"

/* With the stages' footprints without offload (mb[pp]): each stage's GPU
 * peak with offload, the peak stage, the tiers' verdict, fits (every tier). */
void estimate_offload_begin(const estimate_input *in, const memory_breakdown *mb,
                            estimate_result *out);

/* Given the iteration without offload: the iteration with it, each stage's
 * offload_s and optimizer_s, the report's traffic and utilisation.  bw NULL:
 * closed-form bandwidths. */
void estimate_offload_time(const estimate_input *in, const offload_bw *bw, estimate_result *out);

#endif
