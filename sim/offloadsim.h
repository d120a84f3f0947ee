/* offloadsim: offload transfers between tiers as flows on the engine.
 *
 * Owns the flows that move model state between a GPU, its node's host DRAM
 * and NVMe drives (costmodel/offload.h says what moves and when).  They run
 * on the engine's max-min network (sim/net) over the topology's own links
 * (GPU -> PCIe switch -> CPU -> DRAM, costmodel/topo.h) plus two links per
 * node for its NVMe drives (all drives' read and write bandwidth,
 * costmodel/tiers.h), so GPUs behind one PCIe switch, one host's DRAM or one
 * node's drives share them: contention, not a fixed cost.  SSD traffic is
 * staged in host DRAM, as DeepSpeed's swap_tensor and Fuyou do: a drive
 * read crosses the drives and DRAM (written), a write DRAM (read) and the
 * drives; the GPU's side of it is an H2D or D2H flow of its own, as the
 * offload model counts the bytes (costmodel/offload.h). */
#ifndef CS_OFFLOADSIM_H
#define CS_OFFLOADSIM_H

#include "estimate.h"
#include "topo.h"

typedef enum offloadsim_dir {
    OFFLOADSIM_H2D,        /* host DRAM -> GPU */
    OFFLOADSIM_D2H,        /* GPU -> host DRAM */
    OFFLOADSIM_NVME_READ,  /* drives -> host DRAM (staging) */
    OFFLOADSIM_NVME_WRITE  /* host DRAM -> drives */
} offloadsim_dir;

typedef struct offloadsim_flow {
    int gpu;             /* global GPU number */
    offloadsim_dir dir;
    double bytes;
} offloadsim_flow;

/* Starts every flow at time 0 and fills end_s[i] with flow i's completion
 * (seconds).  Errors: a GPU out of range, an NVMe flow on a node without
 * drives, bytes not above 0. */
int offloadsim_run(topo *t, const offloadsim_flow *flows, int n, double *end_s, cs_err *err);

/* The per-GPU bandwidths of the job's offload measured on the engine: every
 * GPU of the first node that the job uses moves 1 GB each way at once (then
 * reads, then writes, its NVMe share); DRAM and the CPU optimizer's rates
 * are offload_bw_closed's. */
int offloadsim_bw(const estimate_input *in, offload_bw *bw, cs_err *err);

#endif
