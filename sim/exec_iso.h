/* exec_iso: collectives run as one timed task where their links carry
 * nothing else while they run (issue 20).
 *
 * A collective whose links no other flow crosses from its launch to its end
 * (a tensor-parallel ring on a node's NVLink) moves at the rates its own
 * coflows leave each other, whatever else the cluster does: its duration is
 * a function of the plan, the size and the link capacities alone.  Such a
 * collective is one engine event instead of a launch, a flow per coflow and
 * phase and their re-solves.  Exactness is checked while the run goes, not
 * assumed:
 *   - a collective runs timed only if none of its links carries a flow or
 *     belongs to another timed collective when it starts; it then reserves
 *     its links until its end;
 *   - every flow the graph starts (transfers, coflows of collectives run as
 *     flows) is checked against the reservations; one that crosses a
 *     reserved link is a conflict: the link is marked shared and exec_run
 *     runs the graph again (collectives over shared links run as flows), a
 *     third time with every collective as flows if the second conflicts too.
 * Before the run, links that transfers' routes cross and links that plans of
 * different groups share (a data-parallel ring through a node's NVLink) are
 * marked shared, so that the usual case needs no second run.
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

/* At a collective's start: 1 and *duration_ps (launch to end) when it runs
 * timed, its links reserved; 0 when it must run as flows. */
int exec_iso_begin(exec_iso *x, const net *n, const coll_plan *plan, uint64_t size_bytes,
                   uint64_t *duration_ps);
/* At a timed collective's end: its links are free again. */
void exec_iso_end(exec_iso *x, const coll_plan *plan);

/* Before any flow starts: a reserved link among links is a conflict. */
void exec_iso_check_flow(exec_iso *x, const int32_t *links, int nlinks);

/* After a run: whether it must run again (a conflict); readies the next run
 * (reservations cleared; after two conflicting runs, no collective timed). */
int exec_iso_rerun(exec_iso *x);

/* Timed collectives in the current run. */
uint64_t exec_iso_timed(const exec_iso *x);

/* The duration alone, launch to end, of a collective of size_bytes on plan
 * over links of these capacities; UINT64_MAX when a coflow would stall (a
 * zero-capacity link).  For the tests and exec_iso_begin. */
uint64_t exec_iso_duration_ps(const coll_plan *plan, uint64_t size_bytes,
                              const double *cap_bytes_per_s);

#endif
