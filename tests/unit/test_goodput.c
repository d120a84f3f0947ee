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
    return (goodput_job){60 * 24 * HOUR, mtbf_s, GOODPUT_EXPONENTIAL, 1, 0, 0, restart_s, 0};
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
           job.horizon_s / job.mtbf_s);
    CHECK(fabs(st.goodput_mean - daly) <= 0.02);
    CHECK_REL(st.interruptions_mean, job.horizon_s / job.mtbf_s, 0.05);
}

static void no_failures_is_the_duty_cycle(void)
{
    goodput_job job = job_of(1e15, 600);
    goodput_policy p = {GOODPUT_SYNC, 3000, 300, 0, 0};
    goodput_run r;
    goodput_simulate(&job, &p, 1, &r);
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
    goodput_simulate(&job, &p, 42, &a);
    goodput_simulate(&job, &p, 42, &b);
    goodput_simulate(&job, &p, 43, &c);
    CHECK(a.goodput == b.goodput && a.interruptions == b.interruptions);
    CHECK(a.goodput != c.goodput);
    CHECK(a.planned > 0);
    /* the time adds up: useful + lost + checkpoint + down + uncommitted tail = horizon */
    CHECK(a.useful_s + a.lost_s + a.ckpt_s + a.down_s <= job.horizon_s * (1 + 1e-9));
    CHECK(a.useful_s + a.lost_s + a.ckpt_s + a.down_s >= job.horizon_s - 2 * p.interval_s);
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
    job.mtbf_s = 0;
    CHECK(goodput_runs(&job, &p, 10, 1, &st, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "failure rate");
    goodput_ckpt k;
    CHECK(goodput_ckpt_parse("lazy", &k, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "sync, async, memory");
}

TAP_MAIN({"daly_formulas", daly_formulas}, {"best_interval_matches_daly", best_interval_matches_daly},
         {"goodput_matches_daly", goodput_matches_daly},
         {"no_failures_is_the_duty_cycle", no_failures_is_the_duty_cycle},
         {"async_beats_sync", async_beats_sync}, {"same_seed_same_run", same_seed_same_run},
         {"bad_input", bad_input})
