/* exec_iso: collectives run as one timed task while their links carry
 * nothing else (issue 20).
 *
 * A collective whose links no other flow crosses moves at the rates its own
 * coflows leave each other, whatever else the cluster does: its duration is
 * a function of the plan, the size and the link capacities alone.  Such a
 * collective is one engine event instead of a launch, a flow per coflow and
 * phase and their re-solves.  Exactness is kept while the run goes, not
 * assumed:
 *   - a collective starts timed only if none of its links carries a flow or
 *     belongs to another timed collective; it then reserves its links until
 *     its end;
 *   - every flow the graph starts (transfers, coflows of collectives run as
 *     flows) is checked against the reservations first; the timed collective
 *     it meets moves to flows at that instant (exec_iso_demote): the replay
 *     up to now gives its phase, the bytes each coflow still has to move and
 *     the latencies still to pass, as sim/net would hold them, and its flows
 *     share the links with the newcomer from then on.
 * Links that transfers' routes cross (with the equal-cost siblings of their
 * first and last hop) are marked shared before the run: a collective over
 * them always runs as flows.
 *
 * The duration replays what sim/net does with the plan alone on its links:
 * each phase's coflows start together, rates by costmodel/maxmin, an ending
 * coflow frees bandwidth for the others, ends rounded up to picoseconds, each
 * coflow's latency after its last byte, the phase over when the last latency
 * has passed; NCCL's start latency (coll_start_ps) first. */
#ifndef CS_EXEC_ISO_H
#define CS_EXEC_ISO_H

#include <stdint.h>

#include "collective.h"
#include "evq.h"
#include "net.h"
#include "topo.h"

typedef struct exec_iso exec_iso;

/* cap_bytes_per_s: the capacity of each of t's links for the run. */
exec_iso *exec_iso_new(const topo *t, const double *cap_bytes_per_s);
void exec_iso_free(exec_iso *x);

/* Before the run: a collective task's plan (each plan counted once), and the
 * route of a transfer (its links are marked shared, and the equal-cost
 * choices of its first and last hop: links of the same kind from its source
 * or into its destination). */
void exec_iso_note_plan(exec_iso *x, const coll_plan *plan);
void exec_iso_note_route(exec_iso *x, const int32_t *links, int nlinks);

/* At a collective task's start (now_ps): 1 and *duration_ps (launch to end)
 * when it runs timed, its links reserved; 0 when it must run as flows.
 * exec_iso_started records the engine event of its end. */
int exec_iso_begin(exec_iso *x, const net *n, const coll_plan *plan, uint64_t size_bytes,
                   int task, uint64_t now_ps, uint64_t *duration_ps);
void exec_iso_started(exec_iso *x, const coll_plan *plan, evq_id end_event);
/* At a timed collective's end: its links are free again. */
void exec_iso_end(exec_iso *x, const coll_plan *plan);

/* Before any flow starts on links: the timed collective task holding one of
 * them, or -1. */
int exec_iso_owner(const exec_iso *x, const int32_t *links, int nlinks);

/* A coflow of a demoted collective's phase that has not ended: still moving
 * (bytes_left >= 0, wire bytes) or past its bytes, its latency passing at
 * done_ps (bytes_left < 0). */
typedef struct exec_iso_coflow {
    int coflow;
    double bytes_left;
    uint64_t done_ps;
} exec_iso_coflow;

typedef struct exec_iso_state {
    evq_id end_event;          /* the timed end to cancel */
    int phase;                 /* -1: in its start latency; nphases: over (end at now) */
    uint64_t phase_start_ps;   /* phase >= 0: when it began; -1: when phase 0 begins */
    int n;                     /* coflows of the phase that have not ended */
    const exec_iso_coflow *coflows; /* owned by x, valid until the next demotion */
} exec_iso_state;

/* The timed collective on plan moves to flows now: where it stands, as
 * sim/net would hold it; its links are released. */
void exec_iso_demote(exec_iso *x, const coll_plan *plan, uint64_t now_ps, exec_iso_state *st);

/* Chains (exec.c): a timed collective whose one successor is a collective on
 * the same plan, waiting for it alone, starts at its end on the links it
 * held.  exec_iso_plan_duration_ps: the duration alone of size_bytes on
 * plan (cached; UINT64_MAX on a stall); exec_iso_follow: task begins timed
 * on plan at start_ps, keeping the reservation and the end event (counted
 * as timed; a demotion replays it). */
uint64_t exec_iso_plan_duration_ps(exec_iso *x, const coll_plan *plan, uint64_t size_bytes);
void exec_iso_follow(exec_iso *x, const coll_plan *plan, int task, uint64_t start_ps,
                     uint64_t size_bytes);

/* Collectives started timed in the run, and those of them moved to flows. */
uint64_t exec_iso_timed(const exec_iso *x);
uint64_t exec_iso_demoted(const exec_iso *x);

/* The duration alone, launch to end, of a collective of size_bytes on plan
 * over links of these capacities; UINT64_MAX when a coflow would stall (a
 * zero-capacity link).  For the tests and exec_iso_begin. */
uint64_t exec_iso_duration_ps(const coll_plan *plan, uint64_t size_bytes,
                              const double *cap_bytes_per_s);

#endif
