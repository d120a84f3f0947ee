/* bench_engine: throughput benchmark of the event queue (evq).
 *
 * The classic "hold" model: the queue is filled with `pending` events, then
 * `events` events run, each scheduling one replacement, so the queue stays
 * at `pending` throughout.  No printing; the caller reports the result. */
#ifndef CS_BENCH_ENGINE_H
#define CS_BENCH_ENGINE_H

#include <stdint.h>

#include "cs_error.h"

typedef struct bench_engine_result {
    uint64_t pending;      /* events in the queue during the run */
    uint64_t events;       /* events run in the timed part */
    double wall_s;         /* wall-clock time of the timed part */
    double events_per_s;   /* events / wall_s */
} bench_engine_result;

/* Runs the hold benchmark with GSL's mt19937 seeded with seed.  Returns 0,
 * or -1 with err filled if pending or events is 0. */
int bench_engine_run(uint64_t pending, uint64_t events, uint64_t seed,
                     bench_engine_result *out, cs_err *err);

#endif
