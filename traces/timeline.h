/* timeline: what one simulated training iteration did, task by task, and
 * the memory each pipeline stage held over time.
 *
 * Owns the record a simulation leaves for pictures and traces: tracks (one
 * per GPU stream), slices (one per task, with what it stands for: kind,
 * stage, model chunk, microbatch, layers), flows (a point-to-point transfer
 * to the task that waits for it), and per stage a step function of the
 * bytes held.  trainsim fills it; trace_json and svg_pipeline draw it.  It
 * knows nothing of the engine: times are plain picoseconds.
 *
 * Memory over time (timeline_memory_build), per stage, from the slices of
 * the stage's first GPU's compute track: the model state and buffers
 * (static_bytes) all the time; a unit's activations (unit_bytes of its
 * chunk) from the start of its forward pass to the end of its backward
 * pass, but wpend_bytes of it until the end of its W slice where the
 * schedule splits the backward; the recomputation working set (working_bytes) while a recompute or
 * backward slice runs.  Its peak equals memory_per_stage's peak whenever
 * the simulated schedule keeps as many units in flight as the formula
 * counts (a test holds it for GPipe, 1F1B and interleaved). */
#ifndef CS_TIMELINE_H
#define CS_TIMELINE_H

#include <stdint.h>

typedef enum tl_kind {
    TL_FORWARD,
    TL_BACKWARD,
    TL_RECOMPUTE,
    TL_TP_COMM,      /* tensor-parallel collective */
    TL_DP_COMM,      /* data-parallel gradient bucket */
    TL_OPTIMIZER,
    TL_PARAM_GATHER, /* zero 1's parameter all-gather */
    TL_P2P,          /* pipeline send of activations or gradients */
    TL_COMPUTE,      /* a replayed trace's operator (sim/replay) */
    TL_COLLECTIVE,   /* a replayed trace's collective */
    TL_MEMORY_OP,    /* a replayed trace's memory load or store */
    TL_WEIGHT_GRAD,  /* W: weight gradients of split-backward schedules (their
                      * TL_BACKWARD is B, the input gradients) */
    TL_KINDS
} tl_kind;

typedef struct tl_track {
    int gpu;
    int stage;
    char label[24];  /* "compute", "dp", "p2p send", "tp" */
} tl_track;

typedef struct tl_slice {
    int track;
    tl_kind kind;
    int stage;
    int chunk;       /* model chunk, -1 when none (optimizer, buckets) */
    int microbatch;  /* -1 when none */
    int layer_first, layer_last; /* transformer layers the slice covers, -1 when none */
    uint64_t start_ps, end_ps;
    char name[32];
    /* DualPipe's overlapped F&B unit the slice belongs to (its forward, its
     * full backward and the all-to-all left exposed share one number,
     * 1, 2, ... per rank's compute track), 0 outside one */
    int fb_pair;
} tl_slice;

typedef struct tl_flow {
    int from_slice, to_slice; /* a transfer and the task that waited for it */
} tl_flow;

typedef struct tl_mem_point {
    uint64_t time_ps;
    double bytes;    /* held from time_ps until the next point */
} tl_mem_point;

typedef struct tl_memory {
    double static_bytes;    /* weights, gradients, optimizer state, buffers */
    double working_bytes;   /* recomputation working set, during backward */
    double *unit_bytes;     /* [chunk]: activations one microbatch leaves stored */
    double *wpend_bytes;    /* [chunk]: of those, what W still reads after B (0
                             * without W slices) */
    tl_mem_point *points;   /* step function, time ascending */
    int npoints, cappoints;
    double peak_bytes;
} tl_memory;

/* A counter track beside the slices (issue 17: a memory tier's utilisation
 * over the iteration): a step function, each value held until the next. */
typedef struct tl_counter_point {
    uint64_t time_ps;
    double value;
} tl_counter_point;

typedef struct tl_counter {
    char name[32];
    int gpu;                 /* the process (GPU) it is drawn under */
    tl_counter_point *points;
    int npoints, cappoints;
} tl_counter;

typedef struct timeline {
    char title[160];        /* model and layout, for pictures */
    int pp, vpp, microbatches;
    int gpus;               /* GPUs of the job */
    uint64_t makespan_ps;
    double usable_bytes;    /* device memory the job may use */
    tl_track *tracks;
    int ntracks, captracks;
    tl_slice *slices;
    int nslices, capslices;
    tl_flow *flows;
    int nflows, capflows;
    tl_memory *memory;      /* [pp] */
    /* the two chunks of a rank are DualPipe's two directions (stage r one
     * way, stage pp - 1 - r the other), named so in pictures (0/1) */
    int bidirectional;
    /* counter tracks (issue 17), in the order first added */
    tl_counter *counters;
    int ncounters, capcounters;
} timeline;

void timeline_init(timeline *tl, int pp, int vpp, int microbatches);
void timeline_free(timeline *tl);

/* Each adder returns the new index. */
int timeline_add_track(timeline *tl, int gpu, int stage, const char *label);
int timeline_add_slice(timeline *tl, const tl_slice *s);
int timeline_add_flow(timeline *tl, int from_slice, int to_slice);

/* Appends (time_ps, value) to the counter `name` under `gpu`, made on first
 * use; times must not go back. */
void timeline_add_counter_point(timeline *tl, const char *name, int gpu, uint64_t time_ps,
                                double value);

/* The compute track of stage `stage`'s first GPU, or -1. */
int timeline_stage_track(const timeline *tl, int stage);

/* Builds every stage's memory step function from its compute track (see
 * the header comment); memory[s].static_bytes, working_bytes and
 * unit_bytes must be set. */
void timeline_memory_build(timeline *tl);

/* "forward", "backward", ... */
const char *timeline_kind_name(tl_kind kind);

#endif
