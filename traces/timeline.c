/* timeline: the record of one simulated iteration (see timeline.h). */
#include "timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"

void timeline_init(timeline *tl, int pp, int vpp, int microbatches)
{
    memset(tl, 0, sizeof *tl);
    tl->pp = pp;
    tl->vpp = vpp;
    tl->microbatches = microbatches;
    tl->memory = cs_xrealloc(NULL, sizeof *tl->memory * (size_t)pp);
    memset(tl->memory, 0, sizeof *tl->memory * (size_t)pp);
    for (int s = 0; s < pp; s++) {
        tl->memory[s].unit_bytes = cs_xrealloc(NULL, sizeof(double) * (size_t)vpp);
        memset(tl->memory[s].unit_bytes, 0, sizeof(double) * (size_t)vpp);
        tl->memory[s].wpend_bytes = cs_xrealloc(NULL, sizeof(double) * (size_t)vpp);
        memset(tl->memory[s].wpend_bytes, 0, sizeof(double) * (size_t)vpp);
    }
}

void timeline_free(timeline *tl)
{
    for (int s = 0; tl->memory && s < tl->pp; s++) {
        free(tl->memory[s].unit_bytes);
        free(tl->memory[s].wpend_bytes);
        free(tl->memory[s].points);
    }
    free(tl->memory);
    for (int c = 0; c < tl->ncounters; c++)
        free(tl->counters[c].points);
    free(tl->counters);
    free(tl->tracks);
    free(tl->slices);
    free(tl->flows);
    memset(tl, 0, sizeof *tl);
}

int timeline_add_track(timeline *tl, int gpu, int stage, const char *label)
{
    CS_GROW(tl->tracks, tl->captracks, tl->ntracks + 1);
    tl_track *t = &tl->tracks[tl->ntracks];
    t->gpu = gpu;
    t->stage = stage;
    snprintf(t->label, sizeof t->label, "%s", label);
    return tl->ntracks++;
}

void timeline_add_counter_point(timeline *tl, const char *name, int gpu, uint64_t time_ps,
                                double value)
{
    int c = 0;
    while (c < tl->ncounters && (tl->counters[c].gpu != gpu || strcmp(tl->counters[c].name, name)))
        c++;
    if (c == tl->ncounters) {
        CS_GROW(tl->counters, tl->capcounters, tl->ncounters + 1);
        tl->counters[c] = (tl_counter){.gpu = gpu};
        snprintf(tl->counters[c].name, sizeof tl->counters[c].name, "%s", name);
        tl->ncounters++;
    }
    tl_counter *k = &tl->counters[c];
    CS_GROW(k->points, k->cappoints, k->npoints + 1);
    k->points[k->npoints++] = (tl_counter_point){time_ps, value};
}

int timeline_add_slice(timeline *tl, const tl_slice *s)
{
    CS_GROW(tl->slices, tl->capslices, tl->nslices + 1);
    tl->slices[tl->nslices] = *s;
    return tl->nslices++;
}

int timeline_add_flow(timeline *tl, int from_slice, int to_slice)
{
    CS_GROW(tl->flows, tl->capflows, tl->nflows + 1);
    tl->flows[tl->nflows] = (tl_flow){from_slice, to_slice};
    return tl->nflows++;
}

int timeline_stage_track(const timeline *tl, int stage)
{
    for (int i = 0; i < tl->ntracks; i++)
        if (tl->tracks[i].stage == stage && strcmp(tl->tracks[i].label, "compute") == 0)
            return i;
    return -1;
}

/* ---- memory over time ---- */

/* A change of the bytes held at one instant. */
typedef struct mem_event {
    uint64_t time_ps;
    double delta_bytes;
} mem_event;

static int event_cmp(const void *a, const void *b)
{
    const mem_event *x = a, *y = b;
    if (x->time_ps != y->time_ps)
        return x->time_ps < y->time_ps ? -1 : 1;
    /* frees before allocations at one instant: a unit freed as the next
     * starts is not counted twice (the allocator reuses the bytes) */
    return (x->delta_bytes > y->delta_bytes) - (x->delta_bytes < y->delta_bytes);
}

/* The changes of the bytes held on one track: a unit's activations from
 * its forward start to its backward end, the working set during backward. */
static int collect_events(const timeline *tl, int track, const tl_memory *mem, mem_event **out)
{
    int n = 0, cap = 0;
    mem_event *ev = NULL;
    for (int i = 0; i < tl->nslices; i++) {
        const tl_slice *s = &tl->slices[i];
        if (s->track != track)
            continue;
        double unit = s->chunk >= 0 ? mem->unit_bytes[s->chunk] : 0;
        CS_GROW(ev, cap, n + 2);
        if (s->kind == TL_FORWARD && s->microbatch >= 0) {
            ev[n++] = (mem_event){s->start_ps, unit};
        } else if (s->kind == TL_RECOMPUTE || s->kind == TL_BACKWARD) {
            ev[n++] = (mem_event){s->start_ps, mem->working_bytes};
            ev[n++] = (mem_event){s->end_ps, -mem->working_bytes};
        }
    }
    /* a unit is released by the end of the last backward slice of its
     * (chunk, microbatch): the backward may be cut into bucket pieces; what
     * W reads, by the end of its last W slice */
    size_t units = (size_t)tl->vpp * (size_t)tl->microbatches;
    uint64_t *release_ps = calloc(2 * (units ? units : 1), sizeof *release_ps);
    if (!release_ps)
        abort();
    for (int i = 0; i < tl->nslices; i++) {
        const tl_slice *s = &tl->slices[i];
        int w = s->kind == TL_WEIGHT_GRAD;
        if (s->track == track && (s->kind == TL_BACKWARD || w) && s->microbatch >= 0)
            release_ps[w * units + (size_t)s->chunk * tl->microbatches + s->microbatch] =
                s->end_ps;
    }
    for (size_t u = 0; u < units; u++) {
        int c = (int)(u / (size_t)tl->microbatches);
        int split = release_ps[units + u] != 0;
        double kept = split ? mem->wpend_bytes[c] : 0;
        CS_GROW(ev, cap, n + 2);
        if (release_ps[u])
            ev[n++] = (mem_event){release_ps[u], -(mem->unit_bytes[c] - kept)};
        if (split)
            ev[n++] = (mem_event){release_ps[units + u], -kept};
    }
    free(release_ps);
    *out = ev;
    return n;
}

static void add_point(tl_memory *mem, uint64_t time_ps, double bytes)
{
    if (mem->npoints > 0 && mem->points[mem->npoints - 1].time_ps == time_ps) {
        mem->points[mem->npoints - 1].bytes = bytes;
        return;
    }
    CS_GROW(mem->points, mem->cappoints, mem->npoints + 1);
    mem->points[mem->npoints++] = (tl_mem_point){time_ps, bytes};
}

static void build_stage(timeline *tl, int stage)
{
    tl_memory *mem = &tl->memory[stage];
    mem->npoints = 0;
    mem_event *ev = NULL;
    int track = timeline_stage_track(tl, stage);
    int n = track >= 0 ? collect_events(tl, track, mem, &ev) : 0;
    qsort(ev, (size_t)n, sizeof *ev, event_cmp);
    double held = mem->static_bytes;
    mem->peak_bytes = held;
    add_point(mem, 0, held);
    for (int i = 0; i < n; i++) {
        held += ev[i].delta_bytes;
        add_point(mem, ev[i].time_ps, held);
        if (held > mem->peak_bytes)
            mem->peak_bytes = held;
    }
    add_point(mem, tl->makespan_ps, held);
    free(ev);
}

void timeline_memory_build(timeline *tl)
{
    for (int s = 0; s < tl->pp; s++)
        build_stage(tl, s);
}

const char *timeline_kind_name(tl_kind kind)
{
    static const char *const names[TL_KINDS] = {
        "forward", "backward", "recompute", "tp comm", "dp comm", "optimizer", "param all-gather",
        "p2p", "compute", "collective", "memory", "weight grad"};
    return kind >= 0 && kind < TL_KINDS ? names[kind] : "?";
}
