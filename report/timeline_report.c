/* timeline_report: trace and pictures of a timeline, staged (see
 * timeline_report.h). */
#include "timeline_report.h"

#include <stdio.h>

#include "svg_pipeline.h"
#include "trace_json.h"

int timeline_report_one(report_set *r, const char *name, timeline_file which,
                        const timeline *tl, cs_err *err)
{
    FILE *f = report_begin(r, name, err);
    if (!f)
        return -1;
    int rc = which == TLF_TRACE      ? trace_json_write(f, tl)
             : which == TLF_SCHEDULE ? svg_pipeline_schedule(f, tl)
                                     : svg_pipeline_memory(f, tl);
    if (rc != 0)
        return cs_fail(err, "%s: could not write the file (disk full?)", name);
    return 0;
}

int timeline_report_all(report_set *r, const char *prefix, const timeline *tl, cs_err *err)
{
    static const char *const names[TLF_COUNT] = {"timeline.json", "schedule.svg", "memory.svg"};
    for (int i = 0; i < TLF_COUNT; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s%s", prefix, names[i]);
        if (timeline_report_one(r, name, (timeline_file)i, tl, err) != 0)
            return -1;
    }
    return 0;
}
