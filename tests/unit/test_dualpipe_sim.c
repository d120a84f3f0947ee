/* Unit tests: DualPipe's overlapped F&B units in the simulation and the
 * closed form, on a mixture-of-experts pipeline with expert parallelism
 * (Mixtral-8x7B, tp 1, pp 4, dp 4, ep 4 on two DGX H100 nodes, 8
 * microbatches):
 *   - every rank simulated agrees with the folded run (iteration, each
 *     stage's exposed all-to-all), and the closed form with both;
 *   - on the folded run's timeline each F&B unit lasts what the closed form
 *     charges it (estimate_dualpipe_fb), and carries one pair number;
 *   - the overlap pays: each F&B unit is shorter than its forward and full
 *     backward run alone, by at most their all-to-alls. */
#include <math.h>
#include <stdlib.h>

#include "commcost.h"
#include "estimate_dualpipe.h"
#include "estimate_sched.h"
#include "fixture.h"
#include "schedule.h"
#include "tap.h"
#include "timeline.h"
#include "trainsim.h"

static void moe_dualpipe(fixture *f)
{
    fixture_setup(f, "dgx-h100", 2, "mixtral-8x7b", 1, 4, 4, 32);
    f->l.ep = 4;
    f->l.zero = 1;
    f->l.schedule = LAYOUT_SCHEDULE_DUALPIPE;
}

static void folded_equals_all_ranks(void)
{
    fixture f;
    moe_dualpipe(&f);
    estimate_result all, folded, closed;
    cs_err err = {""};
    CHECK(trainsim_run(&f.in, TRAINSIM_ALL_RANKS, &all, NULL, &err) == 0);
    CHECK(trainsim_run(&f.in, TRAINSIM_FOLDED, &folded, NULL, &err) == 0);
    CHECK(estimate_analytic(&f.in, &closed, &err) == 0);
    printf("# all ranks %.5f s, folded %.5f s, closed form %.5f s\n", all.iteration_s,
           folded.iteration_s, closed.iteration_s);
    CHECK_REL(all.iteration_s, folded.iteration_s, 0.002);
    /* 3.5%: since uneven stages and the F&B units met (the merge of issues
     * 18 and 19), the closed form charges the data-parallel reduction
     * against the last backward's window (0.1317 s exposed per stage) where
     * the simulation, in the F&B order, hides more of it (0.0979 s): 1.216
     * against 1.182 s (validate/schedules.md) */
    CHECK_REL(closed.iteration_s, folded.iteration_s, 0.035);
    for (int s = 0; s < f.l.pp; s++) {
        printf("# stage %d exposed all-to-all: all ranks %.6f, folded %.6f, closed %.6f s\n", s,
               all.stages[s].ep_comm_s, folded.stages[s].ep_comm_s, closed.stages[s].ep_comm_s);
        CHECK(folded.stages[s].ep_comm_s > 0);
        CHECK_REL(all.stages[s].ep_comm_s, folded.stages[s].ep_comm_s, 1e-9);
        CHECK_REL(closed.stages[s].ep_comm_s, folded.stages[s].ep_comm_s, 1e-6);
    }
    estimate_result_free(&all);
    estimate_result_free(&folded);
    estimate_result_free(&closed);
    topo_free(f.t);
}

/* The closed form's F&B seconds and the lone parts' per virtual stage. */
typedef struct unit_times {
    double f[8], b[8], w[8], fb[8], extra[8];
} unit_times;

static void closed_units(fixture *f, unit_times *u)
{
    commcost cc;
    double p2p_s;
    CHECK(commcost_build(f->t, &f->m, &f->l, NULL, &cc, NULL) == 0);
    const dev_type *dev = estimate_device(f->t);
    estimate_sched_costs(&f->m, &f->l, dev, &f->eff, &cc, u->f, u->b, u->w, &p2p_s);
    estimate_dualpipe_fb(&f->m, &f->l, dev, &f->eff, &cc, u->f, u->b, u->w, u->fb, u->extra);
    commcost_free(&cc);
}

static void units_last_as_charged(void)
{
    fixture f;
    moe_dualpipe(&f);
    unit_times u;
    closed_units(&f, &u);
    for (int vs = 0; vs < 2 * f.l.pp; vs++) {
        int other = schedule_vstage(&f.l, schedule_vstage_rank(&f.l, vs), vs < f.l.pp);
        double lone = u.f[vs] + u.b[other] + u.w[other];
        if (vs == 0)
            printf("# F&B %.6f s, lone F + B + W %.6f s\n", u.fb[vs], lone);
        CHECK(u.fb[vs] < lone);     /* the all-to-alls hide */
        CHECK(u.extra[vs] >= 0);
    }
    timeline tl;
    estimate_result r;
    cs_err err = {""};
    CHECK(trainsim_record(&f.in, TRAINSIM_FOLDED, &r, &tl, NULL, &err) == 0);
    int pairs = 0, bad = 0;
    for (int s = 0; s < f.l.pp; s++) {
        int track = timeline_stage_track(&tl, s);
        for (int k = 1;; k++) { /* pair k of stage s: its slices' span */
            uint64_t lo = UINT64_MAX, hi = 0;
            int chunk = -1;
            for (int i = 0; i < tl.nslices; i++) {
                const tl_slice *sl = &tl.slices[i];
                if (sl->track != track || sl->fb_pair != k)
                    continue;
                lo = sl->start_ps < lo ? sl->start_ps : lo;
                hi = sl->end_ps > hi ? sl->end_ps : hi;
                if (chunk < 0 && sl->kind == TL_FORWARD)
                    chunk = sl->chunk;
            }
            if (hi == 0)
                break;
            pairs++;
            double span_s = (double)(hi - lo) * 1e-12;
            double want = u.fb[schedule_vstage(&f.l, s, chunk)];
            bad += fabs(span_s - want) > 1e-6 * want;
        }
    }
    /* dualpipe.py: per rank m/2 - pp + h + 1 + (H - h - 1) F&B units of
     * each kind; with m 8, pp 4 every rank runs 3 (the middle ranks' first
     * F0, B1 apart) */
    printf("# %d F&B units, %d not lasting the closed form's time\n", pairs, bad);
    CHECK_EQ_INT(pairs, 4 * 3);
    CHECK_EQ_INT(bad, 0);
    /* an F&B unit waits for both directions' inputs: two flows into its first
     * slice, except where its forward is the first stage of its direction
     * (rank 0's F0&B1, rank 3's F1&B0: once each at m 8), so 12 - 2 */
    int *into = calloc((size_t)tl.nslices, sizeof *into), both = 0;
    for (int i = 0; i < tl.nflows; i++)
        into[tl.flows[i].to_slice]++;
    for (int i = 0; i < tl.nslices; i++)
        both += tl.slices[i].fb_pair > 0 && into[i] == 2;
    printf("# %d F&B units wait for two transfers\n", both);
    CHECK_EQ_INT(both, 10);
    free(into);
    timeline_free(&tl);
    estimate_result_free(&r);
    topo_free(f.t);
}

TAP_MAIN({"folded_equals_all_ranks", folded_equals_all_ranks},
         {"units_last_as_charged", units_last_as_charged})
