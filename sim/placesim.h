/* placesim: a placed operator graph run on the engine.
 *
 * Owns one training step of an operator-level placement simulated with
 * sim/evq and sim/net: each device has one compute stream that runs its
 * ready operators one at a time (the one ready first; ties in topological
 * order), and every edge between two devices is a transfer.  With the
 * linear model a transfer is a flow on the channel of its device pair
 * (one link of bytes_per_us; transfers on a channel go one after another,
 * each paying latency_us per tensor after its bytes); with a topology the
 * flow follows the route between the two GPUs and shares its links by
 * max-min fairness with every other transfer in flight, paying the route's
 * latency per tensor.  Memory over time per device follows costmodel/place's
 * model in time: persistent bytes all step; an operator's output and scratch
 * from its start, scratch freed at its end; an output that leaves its fused
 * node (or device, or is read by no one) is kept to the end of the step, as
 * training keeps forward tensors for the backward pass; one read only inside
 * its fused node is part of the fused kernel's scratch, freed when its
 * producer ends (the readers see it inside the fused kernel); a received
 * tensor is kept
 * from its arrival (once per producer and device, at most its output
 * bytes).  Reports the step time, per device operators, busy time and peak
 * memory. */
#ifndef CS_PLACESIM_H
#define CS_PLACESIM_H

#include <stdint.h>

#include "cs_error.h"
#include "opgraph.h"
#include "place.h"
#include "topo.h"

typedef struct placesim_cfg {
    int ndev;
    double latency_us, bytes_per_us;   /* the linear model, when t is NULL */
    place_channels channels;           /* the linear model's channels */
    topo *t;                           /* else device i is GPU i of t (not owned) */
    const int *fused_of;               /* operator -> fused node; NULL: each its own */
} placesim_cfg;

typedef struct placesim_result {
    double step_us;
    int ops[PLACE_MAX_DEVICES];
    double busy_us[PLACE_MAX_DEVICES];
    uint64_t peak_bytes[PLACE_MAX_DEVICES];
    int transfers;
    double transfer_bytes;
    uint64_t events;
} placesim_result;

/* Memory over time, when asked for: (time, device, bytes in use) at every change. */
typedef struct placesim_mem_sample {
    double time_us;
    int dev;
    uint64_t bytes;
} placesim_mem_sample;

typedef struct placesim_mem_trace {
    placesim_mem_sample *samples;
    int n, cap;
} placesim_mem_trace;

/* Simulates op_dev (device per operator, 0 .. ndev-1).  trace may be NULL. */
int placesim_run(const opgraph *g, const int *op_dev, const placesim_cfg *c, placesim_result *r,
                 placesim_mem_trace *trace, cs_err *err);

#endif
