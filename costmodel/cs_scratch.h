/* cs_scratch: buffers each thread keeps from one call to the next, for the
 * closed form's per-layout work.
 *
 * A search prices thousands of layouts on each thread, and each layout's
 * unit orders, replay and unit times used to be allocated and freed afresh
 * (blocks of hundreds of KiB to MiB, which glibc may hand back to the
 * kernel, to be faulted in zeroed for the next layout).  A slot's buffer
 * grows to the largest size asked of it on its thread, is never shrunk,
 * and is freed when the thread ends.
 *
 * One user per slot at a time: a caller fills its slot and is done with it
 * before anything it calls may ask for the same slot (each slot below names
 * its one user).  The contents are undefined on return: callers fill them. */
#ifndef CS_SCRATCH_H
#define CS_SCRATCH_H

#include <stddef.h>

typedef enum cs_scratch_slot {
    CS_SCRATCH_ORDERS_VIEW,    /* schedule_orders_view: the thread's last equal-time orders */
    CS_SCRATCH_ORDERS_TIMED,   /* schedule_orders_timed_view: zb-auto's last orders */
    CS_SCRATCH_TIMED_COSTS,    /* schedule_orders_timed_view: the times they were built from */
    CS_SCRATCH_UNIT_TIMES,     /* estimate_sched: each unit's start and end */
    CS_SCRATCH_REPLAY_DOUBLES, /* schedule_zb replay: ends per cell, per-rank clocks */
    CS_SCRATCH_REPLAY_INTS,    /* schedule_zb replay: per-rank cursors, stage tables */
    CS_SCRATCH_SLOTS
} cs_scratch_slot;

/* This thread's buffer for `slot`, at least `bytes` long (aborts when out of
 * memory, as cs_xrealloc does). */
void *cs_scratch(cs_scratch_slot slot, size_t bytes);

/* Bytes this thread's buffer for `slot` holds now (0 before its first use):
 * for the tests that check a buffer is reused rather than grown again. */
size_t cs_scratch_held(cs_scratch_slot slot);

#endif
