/* timeline_report: the files one simulated iteration leaves for people:
 * PREFIXtimeline.json (Chrome trace for Perfetto), PREFIXschedule.svg (the
 * pipeline schedule) and PREFIXmemory.svg (memory over time per stage).
 *
 * Owns the names and the staging of those three files: each goes through
 * the report set, so it appears only when the whole run succeeds. */
#ifndef CS_TIMELINE_REPORT_H
#define CS_TIMELINE_REPORT_H

#include "report.h"
#include "timeline.h"

typedef enum timeline_file { TLF_TRACE, TLF_SCHEDULE, TLF_MEMORY, TLF_COUNT } timeline_file;

/* Writes one of the files as `name` in the report set. */
int timeline_report_one(report_set *r, const char *name, timeline_file which,
                        const timeline *tl, cs_err *err);

/* Writes all three with the given prefix ("" or "run1_"). */
int timeline_report_all(report_set *r, const char *prefix, const timeline *tl, cs_err *err);

#endif
