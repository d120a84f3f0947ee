/* faultlog: a log of a job's interruptions, read from CSV, to replay.
 *
 * Owns the log's format: a header row, then one row per interruption:
 *   time_h or time_s   when, in hours or seconds since the job started;
 *                      never going backwards
 *   component          which one failed ("node0042/gpu3"; free text, may be
 *                      empty for planned ones)
 *   kind               its class (gpu, gpu_memory, nic, switch, host,
 *                      software: faultmodel.h) or "planned" for maintenance
 * Other columns are ignored; '#' lines are comments.  Errors name the file
 * and line. */
#ifndef CS_FAULTLOG_H
#define CS_FAULTLOG_H

#include "cs_error.h"
#include "goodput.h"

typedef struct faultlog {
    goodput_event *events;   /* source = the fault_class; owned */
    int n;
} faultlog;

int faultlog_read(const char *path, faultlog *out, cs_err *err);
void faultlog_free(faultlog *log);

#endif
