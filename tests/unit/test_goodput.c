/* Unit tests: the goodput simulation against Daly's closed forms.
 *   With exponential failures and synchronous checkpoints, the best interval
 *   the simulation finds is within 10% of Daly's higher-order optimum, and
 *   the simulated goodput within 2 points of his expected goodput;
 *   without failures goodput is the checkpoint duty cycle; asynchronous
 *   checkpoints with a short stall beat synchronous ones; the same seed
 *   gives the same run; bad input is refused. */
#include "goodput.h"
#include "tap.h"

#define HOUR 3600.0

static goodput_job job_of(double mtbf_s, double restart_s)
{
    return goodput_job_single(60 * 24 * HOUR, mtbf_s, 0, restart_s, 0);
}

static void daly_formulas(void)
{
    /* d = 300 s, M = 4 h: sqrt(2 d M) = 2939.4; x = d / 2M = 0.0104 */
    double t = goodput_daly_interval(300, 4 * HOUR);
    CHECK_REL(t, 2939.39 * (1 + sqrt(300 / 28800.0) / 3 + 300 / 28800.0 / 9) - 300, 1e-6);
    CHECK_REL(goodput_daly_interval(3 * HOUR, HOUR), HOUR, 1e-12); /* d >= 2M: M */
    /* no failures to speak of: goodput -> t / (t + d) */
    CHECK_REL(goodput_daly_goodput(3000, 300, 0, 1e12), 3000.0 / 3300.0, 1e-6);
}

static void best_interval_matches_daly(void)
{
    goodput_job job = job_of(4 * HOUR, 600);
    goodput_policy p = {GOODPUT_SYNC, 1000, 300, 0, 0};
    double daly = goodput_daly_interval(300, 4 * HOUR);
    double best = goodput_best_interval(&job, &p, 60, 1, 300, 6 * HOUR);
    printf("# best interval: simulated %.0f s, Daly %.0f s\n", best, daly);
    CHECK_REL(best, daly, 0.10);
}

static void goodput_matches_daly(void)
{
    goodput_job job = job_of(4 * HOUR, 600);
    double t = goodput_daly_interval(300, 4 * HOUR);
    goodput_policy p = {GOODPUT_SYNC, t, 300, 0, 0};
    goodput_stats st;
    CHECK(goodput_runs(&job, &p, 100, 7, &st, NULL) == 0);
    double daly = goodput_daly_goodput(t, 300, 600, 4 * HOUR);
    printf("# goodput: simulated %.4f +- %.4f, Daly %.4f; interruptions %.1f (expected %.1f)\n",
           st.goodput_mean, st.goodput_ci95, daly, st.interruptions_mean,
           job.horizon_s / goodput_job_mtbf_s(&job));
    CHECK(fabs(st.goodput_mean - daly) <= 0.02);
    CHECK_REL(st.interruptions_mean, job.horizon_s / goodput_job_mtbf_s(&job), 0.05);
}

static void no_failures_is_the_duty_cycle(void)
{
    goodput_job job = job_of(1e15, 600);
    goodput_policy p = {GOODPUT_SYNC, 3000, 300, 0, 0};
    goodput_run r;
    goodput_simulate(&job, &p, 1, &r, NULL);
    CHECK_EQ_INT(r.interruptions, 0);
    CHECK_REL(r.goodput, 3000.0 / 3300.0, 1e-3); /* the horizon ends mid-interval at most once */
}

static void async_beats_sync(void)
{
    goodput_job job = job_of(3 * HOUR, 600);
    goodput_policy sync = {GOODPUT_SYNC, 2400, 300, 0, 0};
    goodput_policy async = {GOODPUT_ASYNC, 2400, 10, 290, 0};
    goodput_stats a, b;
    CHECK(goodput_runs(&job, &sync, 40, 3, &a, NULL) == 0);
    CHECK(goodput_runs(&job, &async, 40, 3, &b, NULL) == 0);
    CHECK(b.goodput_mean > a.goodput_mean);
    CHECK(b.ckpt_hours_mean < a.ckpt_hours_mean);
}

static void same_seed_same_run(void)
{
    goodput_job job = job_of(2 * HOUR, 600);
    job.dist = GOODPUT_WEIBULL;
    job.weibull_shape = 0.7;
    job.planned_per_s = 1 / (24 * HOUR);
    goodput_policy p = {GOODPUT_MEMORY, 1800, 5, 60, 30};
    goodput_run a, b, c;
    goodput_simulate(&job, &p, 42, &a, NULL);
    goodput_simulate(&job, &p, 42, &b, NULL);
    goodput_simulate(&job, &p, 43, &c, NULL);
    CHECK(a.goodput == b.goodput && a.interruptions == b.interruptions);
    CHECK(a.goodput != c.goodput);
    CHECK(a.planned > 0);
    /* the time adds up: useful + lost + checkpoint + down + uncommitted tail = horizon */
    CHECK(a.useful_s + a.lost_s + a.ckpt_s + a.down_s <= job.horizon_s * (1 + 1e-9));
    CHECK(a.useful_s + a.lost_s + a.ckpt_s + a.down_s >= job.horizon_s - 2 * p.interval_s);
}


/* Two sources of mean 8 h fail as often as one of 4 h, half each. */
static void sources_add_up(void)
{
    goodput_job job = job_of(4 * HOUR, 600);
    goodput_job two = job_of(8 * HOUR, 600);
    two.nsources = 2;
    two.src[1] = two.src[0];
    two.src[1].name = "other";
    CHECK_REL(goodput_job_mtbf_s(&two), 4 * HOUR, 1e-12);
    goodput_policy p = {GOODPUT_SYNC, 2700, 300, 0, 0};
    goodput_stats a, b;
    CHECK(goodput_runs(&job, &p, 100, 5, &a, NULL) == 0);
    CHECK(goodput_runs(&two, &p, 100, 5, &b, NULL) == 0);
    printf("# interruptions: one source %.1f, two sources %.1f (%.1f + %.1f)\n",
           a.interruptions_mean, b.interruptions_mean, b.by_source_mean[0], b.by_source_mean[1]);
    CHECK_REL(b.interruptions_mean, a.interruptions_mean, 0.03);
    CHECK_REL(b.by_source_mean[0], b.by_source_mean[1], 0.1);
    CHECK(fabs(a.goodput_mean - b.goodput_mean) < 0.01);
}

/* A spare that is always repaired in time changes nothing; none at all
 * makes every hardware failure wait for its repair. */
static void spares_and_repairs(void)
{
    goodput_job job = job_of(6 * HOUR, 600);
    job.src[0].needs_spare = 1;
    goodput_policy p = {GOODPUT_SYNC, 3000, 300, 0, 0};
    goodput_run unlimited, quick, none;
    goodput_simulate(&job, &p, 9, &unlimited, NULL);
    job.spares = 1, job.repair_s = 1;
    goodput_simulate(&job, &p, 9, &quick, NULL);
    CHECK(quick.goodput == unlimited.goodput && quick.spare_wait_s == 0);
    job.spares = 0, job.repair_s = 2 * HOUR;
    goodput_simulate(&job, &p, 9, &none, NULL);
    printf("# goodput: unlimited spares %.4f, none (2 h repair) %.4f, %.1f h waiting\n",
           unlimited.goodput, none.goodput, none.spare_wait_s / HOUR);
    CHECK(none.goodput < unlimited.goodput - 0.1);
    CHECK(none.spare_wait_s > 0.9 * none.interruptions * 2 * HOUR * 0.5);
    CHECK(none.spare_wait_s <= none.interruptions * 2 * HOUR + 1e-6);
    job.spares = 2, job.repair_s = 48 * HOUR; /* two spares, slow repairs: later failures wait */
    goodput_run few;
    goodput_simulate(&job, &p, 9, &few, NULL);
    CHECK(few.spare_wait_s > 0 && few.goodput < unlimited.goodput);
}

static double trace_total(const goodput_trace *tr, goodput_seg_kind kind)
{
    double t = 0;
    for (int i = 0; i < tr->n; i++)
        if (tr->seg[i].kind == kind)
            t += tr->seg[i].end_s - tr->seg[i].start_s;
    return t;
}

/* A replayed log, worked by hand: sync checkpoints of 100 s every 1000 s. */
static void log_replay_by_hand(void)
{
    goodput_job job = goodput_job_single(10000, 0, 0, 500, 0);
    job.planned_restart_s = 200;
    goodput_event log[] = {{2500, 0, 0}, {6000, -1, 1}};
    job.log = log, job.nlog = 2;
    goodput_policy p = {GOODPUT_SYNC, 1000, 100, 0, 0};
    goodput_run r;
    goodput_trace tr;
    goodput_simulate(&job, &p, 1, &r, &tr);
    /* trains 0-1000, ckpt, 1100-2100, ckpt, 2200-2500: loses 300, down to 3000;
     * 3000-4000, ckpt, 4100-5100, ckpt, 5200-6000: loses 800 (planned), down to 6200 */
    CHECK_EQ_INT(r.interruptions, 1);
    CHECK_EQ_INT(r.planned, 1);
    CHECK_REL(r.lost_s, 1100, 1e-12);
    CHECK_REL(r.down_s, 700, 1e-12);
    CHECK_REL(trace_total(&tr, GOODPUT_SEG_LOST), 1100, 1e-12);
    CHECK_REL(trace_total(&tr, GOODPUT_SEG_DOWN), 700, 1e-12);
    CHECK_REL(trace_total(&tr, GOODPUT_SEG_CKPT), r.ckpt_s, 1e-12);
    goodput_trace_free(&tr);
}

/* The trace covers the horizon without gaps and agrees with the figures. */
static void trace_adds_up(void)
{
    goodput_job job = job_of(2 * HOUR, 600);
    job.horizon_s = 5 * 24 * HOUR;
    job.planned_per_s = 1 / (24 * HOUR);
    goodput_policy p = {GOODPUT_ASYNC, 1200, 20, 200, 0};
    goodput_run r;
    goodput_trace tr;
    goodput_simulate(&job, &p, 3, &r, &tr);
    int gaps = 0;
    for (int i = 1; i < tr.n; i++)
        gaps += fabs(tr.seg[i].start_s - tr.seg[i - 1].end_s) > 1e-6;
    CHECK_EQ_INT(gaps, 0);
    CHECK(tr.n > 0 && tr.seg[0].start_s == 0 && fabs(tr.seg[tr.n - 1].end_s - job.horizon_s) < 1e-6);
    CHECK_REL(trace_total(&tr, GOODPUT_SEG_LOST), r.lost_s, 1e-9);
    CHECK_REL(trace_total(&tr, GOODPUT_SEG_DOWN), r.down_s, 1e-9);
    CHECK_REL(trace_total(&tr, GOODPUT_SEG_CKPT), r.ckpt_s, 1e-9);
    double kept = trace_total(&tr, GOODPUT_SEG_TRAIN);
    CHECK(kept >= r.useful_s - 1e-6 && kept <= r.useful_s + 2 * p.interval_s);
    goodput_trace_free(&tr);
}

/* Jumping whole cycles (no trace) gives what the step-by-step loop (trace
 * on) gives: sync, and async with the write shorter and longer than the
 * interval. */
static void fast_forward_is_exact(void)
{
    goodput_job job = job_of(3 * HOUR, 600);
    job.horizon_s = 20 * 24 * HOUR;
    job.planned_per_s = 1 / (24 * HOUR);
    goodput_policy ps[] = {{GOODPUT_SYNC, 300, 30, 0, 0}, {GOODPUT_ASYNC, 60, 1, 40, 0},
                           {GOODPUT_MEMORY, 20, 0.5, 45, 5}};
    for (int i = 0; i < 3; i++) {
        goodput_run fast, slow;
        goodput_trace tr;
        goodput_simulate(&job, &ps[i], 11, &fast, NULL);
        goodput_simulate(&job, &ps[i], 11, &slow, &tr);
        goodput_trace_free(&tr);
        CHECK_EQ_INT(fast.interruptions, slow.interruptions);
        CHECK_EQ_INT(fast.planned, slow.planned);
        CHECK_REL(fast.useful_s, slow.useful_s, 1e-9);
        CHECK_REL(fast.lost_s, slow.lost_s, 1e-9);
        CHECK_REL(fast.ckpt_s, slow.ckpt_s, 1e-9);
        CHECK_REL(fast.down_s, slow.down_s, 1e-9);
    }
}

/* Two sources: a gpu failure takes a node out, a software one does not. */
static goodput_job two_sources(int spares, double repair_s)
{
    goodput_job job = goodput_job_single(400 * HOUR, 0, 60, 600, 300);
    job.nsources = 2;
    job.src[0] = (goodput_source){"gpu", 0, 60, 600, 1};
    job.src[1] = (goodput_source){"software", 0, 30, 300, 0};
    job.spares = spares, job.repair_s = repair_s;
    return job;
}

/* A repair still under way is not ended by a software failure: the issue's
 * replayed case (gpu at 1 h, no spares, repair 1e6 h) keeps its goodput
 * when a software failure at 2 h is added. */
static void software_failure_does_not_end_a_repair(void)
{
    goodput_job job = two_sources(0, 1e6 * HOUR);
    job.horizon_s = 48 * HOUR;
    goodput_policy p = {GOODPUT_SYNC, 1800, 60, 0, 0};
    goodput_event one[] = {{1 * HOUR, 0, 0}};
    goodput_event two[] = {{1 * HOUR, 0, 0}, {2 * HOUR, 1, 0}};
    goodput_run a, b;
    job.log = one, job.nlog = 1;
    goodput_simulate(&job, &p, 1, &a, NULL);
    job.log = two, job.nlog = 2;
    goodput_simulate(&job, &p, 1, &b, NULL);
    printf("# goodput: gpu failure %.4f, plus a software failure %.4f\n", a.goodput, b.goodput);
    CHECK(b.goodput <= a.goodput);
    CHECK_REL(b.spare_wait_s, a.spare_wait_s, 1e-12); /* the wait is the repair's, once */
}

static uint64_t lcg_next(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 33;
}

/* Property: a log with one more failure (any source, any time) never has a
 * higher goodput, whatever the spares, repair time or checkpoint kind. */
static void more_failures_never_raise_goodput(void)
{
    uint64_t x = 12345;
    int worse = 0, cases = 0;
    for (int c = 0; c < 400; c++) {
        goodput_job job = two_sources((int)(lcg_next(&x) % 4) - 1, (double)(lcg_next(&x) % 40) * HOUR);
        goodput_policy p = {(goodput_ckpt)(lcg_next(&x) % 3), 600 + (double)(lcg_next(&x) % 7200),
                            (double)(lcg_next(&x) % 120), (double)(lcg_next(&x) % 3000), 30};
        goodput_event log[12];
        int n = 1 + (int)(lcg_next(&x) % 10);
        for (int i = 0; i < n; i++)
            log[i] = (goodput_event){(double)(lcg_next(&x) % 400) * HOUR / 1.3,
                                     (int)(lcg_next(&x) % 2), lcg_next(&x) % 8 == 0};
        for (int i = 1; i < n; i++) /* insertion sort by time */
            for (int k = i; k > 0 && log[k].time_s < log[k - 1].time_s; k--) {
                goodput_event t = log[k];
                log[k] = log[k - 1], log[k - 1] = t;
            }
        goodput_event more[13];
        double extra_s = (double)(lcg_next(&x) % 400) * HOUR / 1.7;
        int m = 0, put = 0;
        for (int i = 0; i < n; i++) {
            if (!put && extra_s < log[i].time_s)
                more[m++] = (goodput_event){extra_s, (int)(lcg_next(&x) % 2), 0}, put = 1;
            more[m++] = log[i];
        }
        if (!put)
            more[m++] = (goodput_event){extra_s, (int)(lcg_next(&x) % 2), 0};
        goodput_run a, b;
        job.log = log, job.nlog = n;
        goodput_simulate(&job, &p, 1, &a, NULL);
        job.log = more, job.nlog = m;
        goodput_simulate(&job, &p, 1, &b, NULL);
        cases++;
        if (b.goodput > a.goodput + 1e-12) {
            if (worse++ < 3)
                printf("# case %d: goodput %.6f with one more failure, %.6f without\n", c,
                       b.goodput, a.goodput);
        }
    }
    printf("# %d cases, %d where one more failure raised goodput\n", cases, worse);
    CHECK_EQ_INT(worse, 0);
}

/* Drawn failures: the case, 16384 GPUs at 7.77e-6 gpu failures per
 * GPU-hour with no spares and a 1e6 h repair; adding software failures must
 * not lift goodput off the floor. */
static void drawn_software_failures_do_not_help(void)
{
    goodput_job job = two_sources(0, 1e6 * HOUR);
    job.horizon_s = 30 * 24 * HOUR;
    job.src[0].mtbf_s = HOUR / (16384 * 7.77e-6);
    goodput_policy p = {GOODPUT_SYNC, 1800, 60, 0, 0};
    goodput_stats gpu_only, both;
    CHECK(goodput_runs(&job, &p, 20, 1, &gpu_only, NULL) == 0);
    job.src[1].mtbf_s = HOUR / (16384 * 4.75e-5);
    CHECK(goodput_runs(&job, &p, 20, 1, &both, NULL) == 0);
    printf("# goodput: gpu %.4f, gpu and software %.4f\n", gpu_only.goodput_mean, both.goodput_mean);
    CHECK(both.goodput_mean <= gpu_only.goodput_mean + 0.01);
}

static void bad_input(void)
{
    goodput_job job = job_of(HOUR, 600);
    goodput_policy p = {GOODPUT_SYNC, 0, 300, 0, 0};
    cs_err err;
    goodput_stats st;
    CHECK(goodput_runs(&job, &p, 10, 1, &st, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "interval must be positive");
    p.interval_s = 100;
    job.src[0].mtbf_s = 0;
    CHECK(goodput_runs(&job, &p, 10, 1, &st, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "failure rate");
    job.src[0].mtbf_s = HOUR;
    goodput_event back[] = {{100, 0, 0}, {50, 0, 0}};
    job.log = back, job.nlog = 2;
    CHECK(goodput_runs(&job, &p, 1, 1, &st, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "logged interruption 2");
    goodput_event nosrc[] = {{100, 3, 0}};
    job.log = nosrc, job.nlog = 1;
    CHECK(goodput_runs(&job, &p, 1, 1, &st, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "no source 3");
    goodput_ckpt k;
    CHECK(goodput_ckpt_parse("lazy", &k, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "sync, async, memory");
}

/* Runs cost work of their own: a million runs of a job that never fails
 * (10 s) are refused as GOODPUT_RUN_EVENTS each; the runs that fit pass. */
static void runs_count_in_the_bound(void)
{
    goodput_job job = job_of(1e15, 600); /* no failure in 60 days */
    cs_err err;
    int fit = (int)(GOODPUT_MAX_EVENTS / (GOODPUT_RUN_EVENTS + 1));
    CHECK(goodput_check_work(&job, fit, &err) == 0);
    CHECK(goodput_check_work(&job, 1000000, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "for the run itself, x 1000000 runs); the limit is");
}

TAP_MAIN({"daly_formulas", daly_formulas}, {"best_interval_matches_daly", best_interval_matches_daly},
         {"goodput_matches_daly", goodput_matches_daly},
         {"no_failures_is_the_duty_cycle", no_failures_is_the_duty_cycle},
         {"async_beats_sync", async_beats_sync}, {"same_seed_same_run", same_seed_same_run},
         {"sources_add_up", sources_add_up}, {"spares_and_repairs", spares_and_repairs},
         {"log_replay_by_hand", log_replay_by_hand}, {"trace_adds_up", trace_adds_up},
         {"fast_forward_is_exact", fast_forward_is_exact},
         {"software_failure_does_not_end_a_repair", software_failure_does_not_end_a_repair},
         {"more_failures_never_raise_goodput", more_failures_never_raise_goodput},
         {"drawn_software_failures_do_not_help", drawn_software_failures_do_not_help},
         {"runs_count_in_the_bound", runs_count_in_the_bound}, {"bad_input", bad_input})
