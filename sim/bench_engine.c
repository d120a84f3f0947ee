/* bench_engine: the hold-model benchmark of evq.
 *
 * Increments are uniform on [0, 2 * mean_ps) with mean_ps = pending * 500:
 * uniform increments are the standard "hold" distribution of the classic
 * priority-queue studies, and scaling the mean with the queue size keeps
 * events on average 500 ps apart in simulated time whatever the size, so
 * the timestamps look alike (same spread of times per bucket) for small and
 * large queues.  Times are whole picoseconds, so ties occur as in a real run.
 * All random numbers are drawn before the clock starts (8 bytes per timed
 * event), so only the queue is measured; the initial fill is not timed. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c17 */
#endif

#include "bench_engine.h"

#include <gsl/gsl_rng.h>
#include <stdlib.h>
#include <time.h>

#include "evq.h"

enum { MEAN_SPACING_PS = 500 };

typedef struct hold_state {
    const uint64_t *incr_ps;   /* one increment per timed event */
    uint64_t next;
    uint64_t left;             /* events still to run */
} hold_state;

static void hold_handler(evq *q, void *ctx, uint64_t arg)
{
    hold_state *st = ctx;
    evq_schedule_in(q, st->incr_ps[st->next++], hold_handler, st, arg);
    if (--st->left == 0)
        evq_stop(q);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill_uniform(gsl_rng *rng, uint64_t *v, uint64_t n, double span_ps)
{
    for (uint64_t i = 0; i < n; i++)
        v[i] = (uint64_t)(gsl_rng_uniform(rng) * span_ps);
}

/* Fills q with pending events at times drawn from the distribution of the
 * increments, as if each had been scheduled at time 0. */
static void fill_queue(evq *q, gsl_rng *rng, uint64_t pending, double span_ps,
                       hold_state *st)
{
    for (uint64_t i = 0; i < pending; i++)
        evq_schedule(q, (uint64_t)(gsl_rng_uniform(rng) * span_ps), hold_handler, st, i);
}

int bench_engine_run(uint64_t pending, uint64_t events, uint64_t seed,
                     bench_engine_result *out, cs_err *err)
{
    if (pending == 0 || events == 0)
        return cs_fail(err, "bench_engine: pending (%llu) and events (%llu) must both be at least 1",
                       (unsigned long long)pending, (unsigned long long)events);
    if (events > SIZE_MAX / sizeof(uint64_t))
        return cs_fail(err, "bench_engine: %llu events is too many to pre-generate",
                       (unsigned long long)events);
    uint64_t *incr_ps = malloc((size_t)events * sizeof *incr_ps);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    evq *q = evq_new();
    if (!incr_ps || !rng) {
        free(incr_ps);
        gsl_rng_free(rng);
        evq_free(q);
        return cs_fail(err, "bench_engine: out of memory for %llu increments",
                       (unsigned long long)events);
    }
    gsl_rng_set(rng, (unsigned long)seed);
    double span_ps = 2.0 * MEAN_SPACING_PS * (double)pending;
    hold_state st = {incr_ps, 0, events};
    fill_uniform(rng, incr_ps, events, span_ps);
    fill_queue(q, rng, pending, span_ps, &st);

    double t0 = now_s();
    uint64_t ran = evq_run(q);
    double wall_s = now_s() - t0;

    *out = (bench_engine_result){pending, ran, wall_s, wall_s > 0 ? (double)ran / wall_s : 0.0};
    evq_free(q);
    gsl_rng_free(rng);
    free(incr_ps);
    return 0;
}
