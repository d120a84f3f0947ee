/* evq: the discrete-event queue and simulated clock.
 *
 * Owns simulated time (uint64_t picoseconds) and the pending events.  Events
 * run in (time, insertion sequence) order, so two events at the same time run
 * in the order they were scheduled: the same inputs give the same run.
 * Time is monotone: an event may not be scheduled before evq_now().
 * No global state; any number of queues may live in one process. */
#ifndef CS_EVQ_H
#define CS_EVQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct evq evq;

/* A handler receives the queue (to schedule more work), the context pointer
 * and the integer argument given at scheduling time. */
typedef void (*evq_handler)(evq *q, void *ctx, uint64_t arg);

/* Handle of a scheduled event, for evq_cancel.  Never 0. */
typedef uint64_t evq_id;

evq *evq_new(void);
void evq_free(evq *q);

/* Schedules h(q, ctx, arg) at absolute time time_ps (>= evq_now(q); an
 * earlier time is clamped to now).  Returns a handle; never fails except on
 * allocation failure, which aborts (the simulation cannot continue). */
evq_id evq_schedule(evq *q, uint64_t time_ps, evq_handler h, void *ctx, uint64_t arg);

/* Schedules at evq_now(q) + delay_ps. */
evq_id evq_schedule_in(evq *q, uint64_t delay_ps, evq_handler h, void *ctx, uint64_t arg);

/* Cancels a pending event.  Returns 1 if it was pending, 0 if it already ran,
 * was already cancelled, or the handle is unknown. */
int evq_cancel(evq *q, evq_id id);

uint64_t evq_now(const evq *q);
size_t evq_pending(const evq *q);      /* scheduled, not run, not cancelled */
uint64_t evq_executed(const evq *q);   /* events run so far */

/* Runs the earliest event.  Returns 0 when nothing is pending. */
int evq_step(evq *q);

/* Runs events until none is pending or evq_stop() was called from a handler.
 * Returns the number of events run by this call. */
uint64_t evq_run(evq *q);

/* Runs events whose time is <= until_ps; the clock ends at until_ps if the
 * queue ran dry before it. */
uint64_t evq_run_until(evq *q, uint64_t until_ps);

/* Asks evq_run to return after the current event. */
void evq_stop(evq *q);

#endif
