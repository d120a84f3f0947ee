/* schedule: unit orders of the pipeline schedules (see schedule.h). */
#include "schedule.h"

int schedule_splits_backward(const layout_desc *l)
{
    return l->schedule >= LAYOUT_SCHEDULE_ZB_H1;
}

int schedule_chunks(const layout_desc *l)
{
    return l->schedule == LAYOUT_SCHEDULE_DUALPIPE ? 2 : l->vpp;
}

int schedule_units(const layout_desc *l)
{
    int kinds = schedule_splits_backward(l) ? 3 : 2;
    int visits = l->schedule == LAYOUT_SCHEDULE_DUALPIPE ? 1 : l->vpp; /* per microbatch */
    return kinds * layout_microbatches(l) * visits;
}

/* The V-shapes and dualpipe mirror the second chunk. */
static int mirrored(const layout_desc *l)
{
    return l->schedule >= LAYOUT_SCHEDULE_ZBV;
}

int schedule_vstages(const layout_desc *l) { return l->pp * schedule_chunks(l); }

int schedule_vstage(const layout_desc *l, int rank, int chunk)
{
    if (mirrored(l))
        return chunk == 0 ? rank : 2 * l->pp - 1 - rank;
    return chunk * l->pp + rank;
}

int schedule_vstage_rank(const layout_desc *l, int vstage)
{
    if (mirrored(l))
        return vstage < l->pp ? vstage : 2 * l->pp - 1 - vstage;
    return vstage % l->pp;
}

void schedule_position(const layout_desc *l, int vstage, int *stage, int *chunk)
{
    *stage = vstage % l->pp;
    *chunk = l->schedule == LAYOUT_SCHEDULE_DUALPIPE ? 0 : vstage / l->pp;
}

void schedule_path(const layout_desc *l, int mb, int *first_vstage, int *last_vstage)
{
    int nv = schedule_vstages(l);
    if (l->schedule != LAYOUT_SCHEDULE_DUALPIPE) {
        *first_vstage = 0;
        *last_vstage = nv - 1;
        return;
    }
    int second = mb >= layout_microbatches(l) / 2;
    *first_vstage = second ? l->pp : 0;
    *last_vstage = *first_vstage + l->pp - 1;
}

/* The k-th forward (or backward) unit of the rank under the layout's schedule. */
static schedule_unit unit_at(const layout_desc *l, int k, int backward)
{
    schedule_unit u = {backward ? SCHEDULE_B : SCHEDULE_F, k, 0, 0};
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
