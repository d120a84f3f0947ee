/* Unit tests: the timeline of a simulated iteration and its Chrome trace.
 *   memory over time: a unit's activations from forward start to backward
 *   end, the working set during backward, frees before allocations at one
 *   instant; the simulated peak equals memory_per_stage's for GPipe and
 *   1F1B, and for interleaved exceeds it by at most one embedding dropout
 *   mask on stage 0 (the formula counts the masks of the warm-up's distinct
 *   microbatches; in steady state backwards free chunk-1 units while
 *   forwards of new microbatches add chunk-0 ones);
 *   the recording: one forward and one backward per (chunk, microbatch) per
 *   stage, layers of virtual stages, a flow per pipeline transfer;
 *   the trace: one X event per slice, s/f pairs per flow, overlapping
 *   sends on separate lanes. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "memory.h"
#include "trace_json.h"
#include "trainsim.h"
#include "units.h"

static tl_slice slice(int track, tl_kind kind, int chunk, int mb, uint64_t start, uint64_t end)
{
    tl_slice s = {track, kind, 0, chunk, mb, -1, -1, start, end, "", 0};
    snprintf(s.name, sizeof s.name, "%s", timeline_kind_name(kind));
    return s;
}

static void memory_steps_by_hand(void)
{
    timeline tl;
    timeline_init(&tl, 1, 1, 2);
    int tr = timeline_add_track(&tl, 0, 0, "compute");
    tl_slice s[] = {slice(tr, TL_FORWARD, 0, 0, 0, 10), slice(tr, TL_FORWARD, 0, 1, 10, 20),
                    slice(tr, TL_BACKWARD, 0, 0, 20, 40), slice(tr, TL_BACKWARD, 0, 1, 40, 60)};
    for (int i = 0; i < 4; i++)
        timeline_add_slice(&tl, &s[i]);
    tl.makespan_ps = 70;
    tl.memory[0].static_bytes = 100;
    tl.memory[0].unit_bytes[0] = 10;
    tl.memory[0].working_bytes = 5;
    timeline_memory_build(&tl);
    const tl_memory *m = &tl.memory[0];
    /* 0: 110, 10: 120, 20: 125, 40: free 10 and -5 then +5 -> 115, 60: 100 */
    double want_bytes[] = {110, 120, 125, 115, 100, 100};
    uint64_t want_ps[] = {0, 10, 20, 40, 60, 70};
    CHECK_EQ_INT(m->npoints, 6);
    for (int i = 0; i < m->npoints && i < 6; i++) {
        CHECK_EQ_INT(m->points[i].time_ps, want_ps[i]);
        CHECK_REL(m->points[i].bytes, want_bytes[i], 1e-12);
    }
    CHECK_REL(m->peak_bytes, 125, 1e-12);
    timeline_free(&tl);
}

/* Simulates f's layout and checks every stage's simulated memory peak
 * against the formula; `extra` is the allowed excess on stage 0. */
static void check_peaks(fixture *f, double extra_stage0)
{
    timeline tl;
    estimate_result r;
    CHECK(trainsim_record(&f->in, TRAINSIM_FOLDED, &r, &tl, NULL, NULL) == 0);
    for (int s = 0; s < f->l.pp; s++) {
        memory_breakdown b;
        CHECK(memory_per_stage(&f->m, &f->l, s, &b, NULL) == 0);
        double sim = tl.memory[s].peak_bytes;
        if (s == 0 && extra_stage0 > 0) {
            CHECK(sim >= b.peak_bytes * (1 - 1e-12));
            CHECK(sim <= b.peak_bytes + extra_stage0 * (1 + 1e-9));
        } else {
            CHECK_REL(sim, b.peak_bytes, 1e-12);
        }
    }
    estimate_result_free(&r);
    timeline_free(&tl);
    topo_free(f->t);
}

static void simulated_peak_matches_formula(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 2, "llama2-7b", 2, 4, 2, 16); /* 1f1b, 8 microbatches */
    check_peaks(&f, 0);
    fixture_setup(&f, "dgx-h100", 2, "llama2-7b", 2, 4, 2, 16);
    f.l.schedule = LAYOUT_SCHEDULE_GPIPE;
    f.l.recompute = LAYOUT_RECOMPUTE_SELECTIVE;
    check_peaks(&f, 0);
    fixture_setup(&f, "dgx-h100", 2, "llama2-7b", 2, 4, 2, 32);
    f.l.vpp = 2;
    f.l.schedule = LAYOUT_SCHEDULE_INTERLEAVED;
    double mask = (double)f.m.seq_len * f.l.mbs * f.m.hidden; /* 1 byte per element */
    check_peaks(&f, mask);
}

static void recording_covers_every_unit(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 2, "llama2-7b", 2, 4, 2, 32);
    f.l.vpp = 2;
    f.l.schedule = LAYOUT_SCHEDULE_INTERLEAVED;
    timeline tl;
    estimate_result r;
    CHECK(trainsim_record(&f.in, TRAINSIM_FOLDED, &r, &tl, NULL, NULL) == 0);
    int m = 16, per_chunk = 32 / 8;
    for (int s = 0; s < 4; s++) {
        int track = timeline_stage_track(&tl, s), fwd = 0, bwd_units = 0, bad_layers = 0;
        CHECK(track >= 0);
        for (int i = 0; i < tl.nslices; i++) {
            const tl_slice *x = &tl.slices[i];
            if (x->track != track || (x->kind != TL_FORWARD && x->kind != TL_BACKWARD))
                continue;
            fwd += x->kind == TL_FORWARD;
            bwd_units += x->kind == TL_BACKWARD && x->microbatch >= 0;
            bad_layers += x->layer_first != (x->chunk * 4 + s) * per_chunk ||
                          x->layer_last != x->layer_first + per_chunk - 1;
        }
        CHECK_EQ_INT(fwd, 2 * m);
        CHECK(bwd_units >= 2 * m); /* the last backward of a chunk is cut into bucket pieces */
        CHECK_EQ_INT(bad_layers, 0);
    }
    CHECK_EQ_INT(tl.nflows, 2 * (4 * 2 - 1) * m);
    CHECK_REL(units_ps_to_s(tl.makespan_ps), r.iteration_s, 1e-12);
    estimate_result_free(&r);
    timeline_free(&tl);
    topo_free(f.t);
}

/* The trace of tl as a string the caller frees. */
static char *trace_of(const timeline *tl)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    CHECK(trace_json_write(f, tl) == 0);
    fclose(f);
    char *out = strdup(buf); /* a heap copy: gcc 12 cannot follow the stream's buffer */
    free(buf);
    return out;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void trace_events_and_lanes(void)
{
    timeline tl;
    timeline_init(&tl, 2, 1, 1);
    snprintf(tl.title, sizeof tl.title, "a \"quoted\" title");
    int c0 = timeline_add_track(&tl, 0, 0, "compute"), c1 = timeline_add_track(&tl, 8, 1, "compute");
    int p2p = timeline_add_track(&tl, 0, -1, "p2p send");
    tl_slice s[] = {slice(c0, TL_FORWARD, 0, 0, 0, 1000000), slice(p2p, TL_P2P, 0, 0, 1000000, 3000000),
                    slice(p2p, TL_P2P, 0, 0, 2000000, 4000000), /* overlaps the first send */
                    slice(c1, TL_FORWARD, 0, 0, 3000000, 5000000)};
    for (int i = 0; i < 4; i++)
        timeline_add_slice(&tl, &s[i]);
    timeline_add_flow(&tl, 1, 3);
    tl.makespan_ps = 5000000;
    timeline_memory_build(&tl);
    char *j = trace_of(&tl);
    CHECK_EQ_INT(count(j, "\"ph\":\"X\""), 4);
    CHECK_EQ_INT(count(j, "\"ph\":\"s\""), 1);
    CHECK_EQ_INT(count(j, "\"ph\":\"f\",\"bp\":\"e\""), 1);
    CHECK_STR_CONTAINS(j, "\"title\":\"a \\\"quoted\\\" title\"");
    CHECK_STR_CONTAINS(j, "\"name\":\"p2p send #2\"");
    CHECK_STR_CONTAINS(j, "\"name\":\"GPU 8 (stage 1)\"");
    CHECK_STR_CONTAINS(j, "\"ts\":1.000000,\"dur\":2.000000");
    CHECK_STR_CONTAINS(j, "\"name\":\"memory stage 1\"");
    free(j);
    timeline_free(&tl);
}

/* Counter tracks (issue 17): one "C" event per point, the same name and
 * GPU extend one track, another GPU makes another. */
static void counter_tracks(void)
{
    timeline tl;
    timeline_init(&tl, 1, 1, 1);
    timeline_add_counter_point(&tl, "util nvme", 0, 0, 0.25);
    timeline_add_counter_point(&tl, "util nvme", 0, 2000000, 1);
    timeline_add_counter_point(&tl, "util nvme", 3, 0, 0.5);
    CHECK_EQ_INT(tl.ncounters, 2);
    CHECK_EQ_INT(tl.counters[0].npoints, 2);
    char *j = trace_of(&tl);
    CHECK_EQ_INT(count(j, "\"ph\":\"C\",\"name\":\"util nvme\""), 3);
    CHECK_STR_CONTAINS(j, "\"pid\":0,\"ts\":2.000000,\"args\":{\"value\":1.0000}");
    CHECK_STR_CONTAINS(j, "\"pid\":3,\"ts\":0.000000,\"args\":{\"value\":0.5000}");
    free(j);
    timeline_free(&tl);
}

TAP_MAIN({"memory_steps_by_hand", memory_steps_by_hand},
         {"simulated_peak_matches_formula", simulated_peak_matches_formula},
         {"recording_covers_every_unit", recording_covers_every_unit},
         {"trace_events_and_lanes", trace_events_and_lanes},
         {"counter_tracks", counter_tracks})
