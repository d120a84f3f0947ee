/* placesim: a placed operator graph run on the engine.
 *
 * Owns one training step of an operator-level placement simulated with
 * sim/evq (and sim/net with a topology): each device has one compute stream
 * that runs its ready operators one at a time (the one ready first; ties in
 * topological order).  A tensor (producer, output) is the unit of transfer:
 * when its producer ends it goes once to each other device that reads it
 * (TensorFlow's Send/Recv per tensor and destination device), and an edge
 * is satisfied when all its tensors are there.  With the linear model a
 * transfer takes latency_us + bytes / bytes_per_us on its channels, booked
 * first come first served by costmodel/place's place_channel_reserve: pair,
 * one channel per ordered device pair; device, one per device for its sends
 * and receives (Baechi's).  With a topology the flow follows the route
 * between the two GPUs and shares its links by max-min fairness with every
 * other transfer in flight, paying the route's latency.  Memory over time
 * per device follows costmodel/place's model in time: persistent bytes all
 * step; an operator's output and scratch from its start, scratch freed at
 * its end; an output that leaves its fused node (or device, or is read by
 * no one) is kept to the end of the step, as training keeps forward tensors
 * for the backward pass; one read only inside its fused node is part of the
 * fused kernel's scratch, freed when its producer ends; a received tensor
 * is kept from its arrival (once per tensor and device, at most its
 * producer's output bytes in all).  Reports the step time, per device
 * operators, busy time and peak memory, and the transfers made. */
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
    int transfers;              /* tensors sent (once per tensor and receiving device) */
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
