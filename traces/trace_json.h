/* trace_json: a timeline as a Chrome trace (JSON), the format Perfetto
 * (ui.perfetto.dev) and chrome://tracing open.
 *
 * Owns the mapping of a timeline onto trace events:
 *   process (pid)  one per GPU, named "GPU g (stage s)";
 *   thread (tid)   one per GPU stream ("compute", "dp", "p2p send", "tp");
 *                  slices that overlap on one stream without nesting (two
 *                  sends in flight at once) go to extra lanes, "p2p send #2",
 *                  because trace viewers require the slices of a thread to
 *                  nest;
 *   "X" events     one per slice: name, category (its kind), start and
 *                  duration in microseconds, args stage, chunk, microbatch
 *                  and layers when it has them;
 *   "s"/"f" events a flow arrow from each pipeline transfer to the task
 *                  that waited for it ("f" binds to the enclosing slice);
 *   "C" events     a counter per stage: the GiB its first GPU holds.
 * Output is deterministic: events in slice order, fixed number formats. */
#ifndef CS_TRACE_JSON_H
#define CS_TRACE_JSON_H

#include <stdio.h>

#include "timeline.h"

/* Writes the trace; returns 0, or -1 when writing failed. */
int trace_json_write(FILE *f, const timeline *tl);

#endif
