/* place: Baechi-style placement of an operator graph on memory-limited devices.
 *
 * Owns the preprocessing (colocation groups as units, co-placement, fusion),
 * the devices' memory limits and the linear communication model, the
 * placement algorithms (m-TOPO, m-ETF, m-SCT; the baselines single device,
 * expert and round-robin; auto: all of them, then a local search), the
 * memory model and its independent replay.  Pure cost model: simulating a
 * placement is sim/placesim's job; auto takes it as a callback.
 *
 * Memory model (Baechi's, docs/placement.md): a device keeps, for the
 * whole step, the persistent bytes of every operator placed on it, the
 * output of every operator whose output leaves its fused node (read by
 * another fused node or another device, or by no one), and the tensors it
 * receives from other devices (each distinct tensor once per receiving
 * device, at most the producer's output bytes in all); on top, the largest
 * scratch of one operator (its temporary bytes, plus its output when only
 * its own fused node reads it: fusion keeps those inside), since a device
 * runs one operator at a time.  A fused node's temp_bytes is the largest
 * scratch of its members.  The placers charge, conservatively, a unit's
 * kept bytes plus its scratch when it lands and each node's incoming
 * transfers (its fused edges' bytes) as it is placed.
 * Communication: a tensor between two devices takes latency_us plus
 * bytes / bytes_per_us on its channels (place_channels), and goes once to
 * each device that reads it; the placers price arrivals that way
 * (place_etf.c). */
#ifndef CS_PLACE_H
#define CS_PLACE_H

#include <stdint.h>

#include "cs_error.h"
#include "opgraph.h"

#define PLACE_MAX_DEVICES 64

/* auto's budget is bounded in work, not only in simulations: at most this
 * many operators and edges simulated over all its evaluations (evals x
 * (operators + edges)).  A simulation costs about 70 ns (GNMT) to 250 ns
 * (a 50,000-operator chain) per operator or edge in the default
 * (debugoptimized) build, so 2^25 is at most 2 to 8 s; it allows 5,050
 * evals on GNMT (6,644 operators and edges), whose 100,000 took 17 s.  The
 * fuzzing build sets lower bounds (meson.build), for this and the next. */
#ifndef PLACE_MAX_EVAL_WORK
#define PLACE_MAX_EVAL_WORK (1L << 25)
#endif

/* m-SCT's LP has a column per fused node and per edge, and GLPK's simplex
 * grows faster than its size (10,000 nodes and 20,000 edges: 2.1 s in the
 * default build; twice that: 6.5 s; 31,000 and 79,000: over a minute).  A
 * larger LP is refused; auto then starts from the other algorithms. */
#ifndef PLACE_SCT_MAX_LP
#define PLACE_SCT_MAX_LP (1L << 16)
#endif

typedef enum place_algo {
    PLACE_TOPO, PLACE_ETF, PLACE_SCT, PLACE_AUTO, PLACE_EXPERT, PLACE_SINGLE, PLACE_ROUNDROBIN,
    PLACE_EXPERT_NEAREST
} place_algo;

const char *place_algo_name(place_algo a);
int place_algo_parse(const char *text, place_algo *out, cs_err *err);

/* How transfers share the devices' links (docs/placement.md).  pair: one
 * channel per ordered device pair, as an NVLink node gives (direct links
 * per pair, or a non-blocking NVSwitch); device: one channel per device
 * shared by its sends and receives, Baechi's model (placer/device.py). */
typedef enum place_channels { PLACE_CH_PAIR, PLACE_CH_DEVICE } place_channels;

const char *place_channels_name(place_channels c);
int place_channels_parse(const char *text, place_channels *out, cs_err *err);

/* A tensor of dur_us sent from device a to b at now_us: reserves the
 * channels, first come first served, and returns when it has arrived.
 * free_us holds when each channel is next free: ndev * ndev entries for
 * pair (a * ndev + b), ndev for device.  With device, the send holds a's
 * channel from when it is free; the receive holds b's from the send's
 * start or later (Baechi's send_tensor and recv_tensor).  The simulator
 * and the placers both price transfers with it. */
double place_channel_reserve(place_channels ch, int ndev, double *free_us, int a, int b,
                             double now_us, double dur_us);

typedef struct place_spec {
    int ndev;
    uint64_t mem_bytes[PLACE_MAX_DEVICES];
    double latency_us;      /* per tensor */
    double bytes_per_us;    /* per channel */
    place_channels channels;
} place_spec;

/* The graph after preprocessing.  `fused` is an opgraph of fused nodes
 * whose `group` is the unit (the set placed together: a colocation group
 * merged with co-placed operators); a unit is one fused node unless fusing
 * it whole would have made a cycle, in which case it is cut into several. */
typedef struct place_prep {
    opgraph fused;
    int *fused_of;          /* operator -> fused node */
    int nunits;
    uint64_t *unit_mem;     /* a unit's kept bytes plus its largest scratch */
    int *unit_first;        /* CSR of fused nodes by unit */
    int *unit_nodes;
    int split_units;        /* units cut to avoid a cycle */
    double *tensor_at_us;   /* per fused tensor: when its operator ends, from its fused
                               node's start (members in topological order) */
    double *slot_need_us;   /* per fused edge slot (edge_tensor index): when the first member
                               that reads the tensor starts, from the node's start */
} place_prep;

/* coplace: an operator with a single consumer joins the consumer's unit;
 * fuse: each unit becomes one node (or the fewest nodes without a cycle);
 * without it every operator stays a node (units still hold). */
int place_prepare(const opgraph *g, int coplace, int fuse, place_prep *p, cs_err *err);
void place_prep_free(place_prep *p);

/* Cost of an edge between two different devices. */
static inline double place_comm_us(const place_spec *s, uint64_t bytes, int ntensors)
{
    return ntensors * s->latency_us + (double)bytes / s->bytes_per_us;
}

/* A placement: the device of every operator; unit_dev[u] as well when the
 * algorithm places whole units (all but the expert's two, which follow the
 * input's pins operator by operator), else NULL. */
typedef struct place_result {
    int *op_dev;
    int *unit_dev;
    double est_step_us;     /* the placers' pricing of this placement (place_estimate); 0
                               for the expert's two and auto */
} place_result;

/* Runs one algorithm (not auto) and fills the result (allocated here).  Fails
 * when the units cannot be placed within the memory limits, naming the
 * device and the shortfall. */
int place_run(const opgraph *g, const place_prep *p, const place_spec *s, place_algo a,
              place_result *r, cs_err *err);
void place_result_free(place_result *r);

/* Operator-level devices from a unit placement. */
void place_op_devices(const opgraph *g, const place_prep *p, const int *unit_dev, int *op_dev);

/* The expert's placement as the model's code gets it from TensorFlow's
 * placer: pinned operators where the input pins them; an unpinned one with
 * its colocation group's first pinned member (in topological order), else
 * on device 0.  nearest (expert-nearest, the old variant): an operator left
 * over goes with the nearest pinned operator instead (fewest edges either
 * way, breadth first from every pinned operator in topological order). */
int place_expert(const opgraph *g, int ndev, int nearest, int *op_dev, cs_err *err);

/* The independent replay: recomputes each device's bytes from the operators
 * alone (their fields, edges, fused node and device), without the units'
 * totals the placers keep. */
void place_replay_memory(const opgraph *g, const int *fused_of, const int *op_dev, int ndev,
                         uint64_t *need_bytes);

/* 0 when every device's need is within its limit; otherwise fails naming
 * the first device over and by how much. */
int place_check_memory(const place_spec *s, const uint64_t *need_bytes, cs_err *err);

/* auto: evaluates every algorithm and baseline with `eval` (a simulation of
 * the operator-level placement: step time in microseconds; nonzero =
 * failure), keeps the fastest that fits, then moves and swaps whole units
 * between devices while it improves, each move checked for memory and
 * simulated, within max_evals evaluations.  Deterministic. */
typedef int (*place_eval_fn)(void *ctx, const int *op_dev, double *step_us, cs_err *err);

typedef struct place_auto_info {
    place_algo start;       /* the algorithm the search started from */
    double start_step_us;
    int evals, moves;
    double step_us;
} place_auto_info;

int place_auto(const opgraph *g, const place_prep *p, const place_spec *s, place_eval_fn eval,
               void *ctx, int max_evals, place_result *r, place_auto_info *info, cs_err *err);

/* Internal to the place_* files: m-ETF, and m-SCT when fav is not NULL. */
int place_list_schedule(const place_prep *p, const place_spec *s, const int *fav,
                        int *unit_dev, double *step_us, cs_err *err);

/* The step a unit placement would take by the placers' own pricing: the
 * list schedule of m-ETF with every unit's device fixed, so each tensor is
 * booked on its channels when its producer is placed, as the simulator
 * sends it when its producer ends.  The predicted step of every unit
 * placement. */
double place_estimate(const place_prep *p, const place_spec *s, const int *unit_dev);

/* m-SCT's favourite children from the LP relaxation (GLPK): fav[v] is the
 * favourite child of fused node v, or -1.  Internal to place_sct. */
int place_sct_favourites(const opgraph *f, const place_spec *s, int *fav, cs_err *err);

#endif
