/* offloadtrace: see offloadtrace.h. */
#include "offloadtrace.h"

#include <stdio.h>

#include "units.h"

void offloadtrace_counters(const offload_report *r, int gpu, timeline *tl)
{
    if (!r->active || r->nphases == 0)
        return;
    const offload_phase *last = &r->phases[r->nphases - 1];
    for (int k = 0; k < OFFLOAD_NRES; k++) {
        char name[32];
        snprintf(name, sizeof name, "util %s", offload_res_name(k));
        for (int p = 0; p < r->nphases; p++)
            timeline_add_counter_point(tl, name, gpu, units_s_to_ps_ceil(r->phases[p].start_s),
                                       r->phases[p].util[k]);
        /* idle after the iteration: the step function ends */
        timeline_add_counter_point(tl, name, gpu, units_s_to_ps_ceil(last->start_s + last->dur_s), 0);
    }
}
