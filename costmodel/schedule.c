/* schedule: unit orders of the pipeline schedules (see schedule.h). */
#include "schedule.h"

int schedule_units(const layout_desc *l) { return 2 * layout_microbatches(l) * l->vpp; }

/* The k-th forward (or backward) unit of the rank under the layout's schedule. */
static schedule_unit unit_at(const layout_desc *l, int k, int backward)
{
    schedule_unit u = {backward, k, 0};
    if (l->schedule != LAYOUT_SCHEDULE_INTERLEAVED)
        return u;
    int pp = l->pp, group = pp * l->vpp;
    int chunk = (k / pp) % l->vpp;
    u.microbatch = (k / group) * pp + k % pp;
    u.chunk = backward ? l->vpp - 1 - chunk : chunk;
    return u;
}

static int warmup_of(const layout_desc *l, int stage, int total)
{
    int w;
    if (l->schedule == LAYOUT_SCHEDULE_GPIPE)
        return total;
    if (l->schedule == LAYOUT_SCHEDULE_INTERLEAVED)
        w = 2 * (l->pp - stage - 1) + (l->vpp - 1) * l->pp;
    else
        w = l->pp - stage - 1;
    return w < total ? w : total;
}

void schedule_order(const layout_desc *l, int stage, schedule_unit *out)
{
    int total = layout_microbatches(l) * l->vpp; /* forward units */
    int warmup = warmup_of(l, stage, total);
    int n = 0, f = 0, b = 0;
    while (f < warmup)
        out[n++] = unit_at(l, f++, 0);
    while (f < total) {
        out[n++] = unit_at(l, f++, 0);
        out[n++] = unit_at(l, b++, 1);
    }
    while (b < total)
        out[n++] = unit_at(l, b++, 1);
}
