/* goodput: a training job under failures and checkpoints (see goodput.h). */
#include "goodput.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <string.h>

/* ---- checks and names ---- */

int goodput_check(const goodput_job *job, const goodput_policy *p, cs_err *err)
{
    if (!(job->horizon_s > 0) || !isfinite(job->horizon_s))
        return cs_fail(err, "goodput: the horizon must be a positive time");
    if (!(job->mtbf_s > 0))
        return cs_fail(err, "goodput: the mean time between failures must be positive (a "
                            "failure rate above 0)");
    if (job->dist == GOODPUT_WEIBULL && !(job->weibull_shape > 0))
        return cs_fail(err, "goodput: the Weibull shape must be positive");
    double times[] = {job->detect_s, job->restart_s, job->reload_s, p->stall_s, p->write_s,
                      p->memory_reload_s, job->planned_per_s};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        if (!(times[i] >= 0) || !isfinite(times[i]))
            return cs_fail(err, "goodput: times and rates must be zero or positive");
    if (!(p->interval_s > 0))
        return cs_fail(err, "goodput: the checkpoint interval must be positive");
    return 0;
}

int goodput_ckpt_parse(const char *text, goodput_ckpt *out, cs_err *err)
{
    static const char *const names[] = {"sync", "async", "memory"};
    for (int i = 0; i < 3; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (goodput_ckpt)i;
            return 0;
        }
    return cs_fail(err, "checkpoint '%s' is not one of sync, async, memory", text);
}

const char *goodput_ckpt_name(goodput_ckpt kind)
{
    static const char *const names[] = {"sync", "async", "memory"};
    return kind <= GOODPUT_MEMORY ? names[kind] : "?";
}

/* ---- one run ---- */

typedef struct run_state {
    const goodput_job *job;
    const goodput_policy *p;
    gsl_rng *rng;
    double t;
    double next_fail, next_planned;
    double uncommitted;       /* trained since the last completed checkpoint */
    double inflight;          /* of which a background write will commit */
    double write_done;        /* when it completes (INFINITY: none) */
    goodput_run *out;
} run_state;

/* A lifetime with mean mtbf: exponential, or Weibull with that mean. */
static double lifetime(const run_state *s)
{
    const goodput_job *j = s->job;
    if (j->dist == GOODPUT_EXPONENTIAL || j->weibull_shape == 1)
        return gsl_ran_exponential(s->rng, j->mtbf_s);
    double k = j->weibull_shape, scale = j->mtbf_s / gsl_sf_gamma(1 + 1 / k);
    return gsl_ran_weibull(s->rng, scale, k);
}

static double next_planned_after(const run_state *s, double t)
{
    return s->job->planned_per_s > 0 ? t + gsl_ran_exponential(s->rng, 1 / s->job->planned_per_s)
                                     : INFINITY;
}

static double next_interrupt(const run_state *s)
{
    return fmin(s->next_fail, s->next_planned);
}

static double downtime(const run_state *s, int planned)
{
    double reload = s->p->kind == GOODPUT_MEMORY ? s->p->memory_reload_s : s->job->reload_s;
    return (planned ? 0 : s->job->detect_s) + s->job->restart_s + reload;
}

/* An interruption at s->t: the uncommitted work is lost; then the downtime,
 * restarted by every failure that falls inside it. */
static void interrupt(run_state *s, int planned)
{
    goodput_run *o = s->out;
    o->lost_s += s->uncommitted;
    s->uncommitted = s->inflight = 0;
    s->write_done = INFINITY;
    if (planned) {
        o->planned++;
        s->next_planned = next_planned_after(s, s->t);
    } else {
        o->interruptions++;
        s->next_fail = s->t + lifetime(s);
    }
    double end = s->t + downtime(s, planned);
    while (s->next_fail < end && s->next_fail < s->job->horizon_s) {
        o->down_s += s->next_fail - s->t;
        s->t = s->next_fail;
        o->interruptions++;
        s->next_fail = s->t + lifetime(s);
        end = s->t + downtime(s, 0);
    }
    end = fmin(end, s->job->horizon_s);
    o->down_s += end - s->t;
    s->t = end;
    if (s->next_planned < s->t) /* maintenance due during the downtime is done in it */
        s->next_planned = next_planned_after(s, s->t);
}

/* A background write that completes by `until` commits its work. */
static void settle_write(run_state *s, double until)
{
    if (s->write_done <= until) {
        s->out->useful_s += s->inflight;
        s->uncommitted -= s->inflight;
        s->inflight = 0;
        s->write_done = INFINITY;
    }
}

/* Training until the next checkpoint; 0 when interrupted or at the horizon. */
static int train(run_state *s)
{
    double end = s->t + s->p->interval_s, stop = fmin(next_interrupt(s), s->job->horizon_s);
    if (stop < end) {
        settle_write(s, stop);
        s->uncommitted += stop - s->t;
        s->t = stop;
        if (stop < s->job->horizon_s)
            interrupt(s, s->next_planned < s->next_fail);
        return 0;
    }
    settle_write(s, end);
    s->uncommitted += end - s->t;
    s->t = end;
    return 1;
}

/* The checkpoint: waiting for the previous background write, the stall,
 * then commit (sync) or a new background write (async, memory). */
static void checkpoint(run_state *s)
{
    double wait = s->write_done < INFINITY ? s->write_done - s->t : 0;
    double end = s->t + fmax(wait, 0) + s->p->stall_s;
    double stop = fmin(next_interrupt(s), s->job->horizon_s);
    if (stop < end) {
        settle_write(s, stop);
        s->out->ckpt_s += stop - s->t;
        s->t = stop;
        if (stop < s->job->horizon_s)
            interrupt(s, s->next_planned < s->next_fail);
        return;
    }
    settle_write(s, end);
    s->out->ckpt_s += end - s->t;
    s->t = end;
    if (s->p->kind == GOODPUT_SYNC) {
        s->out->useful_s += s->uncommitted;
        s->uncommitted = 0;
    } else {
        s->inflight = s->uncommitted;
        s->write_done = s->t + s->p->write_s;
    }
}

void goodput_simulate(const goodput_job *job, const goodput_policy *p, uint64_t seed,
                      goodput_run *out)
{
    memset(out, 0, sizeof *out);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)seed);
    run_state s = {job, p, rng, 0, 0, 0, 0, 0, INFINITY, out};
    s.next_fail = lifetime(&s);
    s.next_planned = next_planned_after(&s, 0);
    while (s.t < job->horizon_s)
        if (train(&s) && s.t < job->horizon_s)
            checkpoint(&s);
    settle_write(&s, job->horizon_s);
    out->goodput = out->useful_s / job->horizon_s;
    gsl_rng_free(rng);
}

/* ---- many runs ---- */

static double ci95(double sum, double sum_sq, int n)
{
    if (n < 2)
        return 0;
    double mean = sum / n, var = fmax(0, (sum_sq - n * mean * mean) / (n - 1));
    return gsl_cdf_tdist_Pinv(0.975, n - 1) * sqrt(var / n);
}

int goodput_runs(const goodput_job *job, const goodput_policy *p, int runs, uint64_t seed,
                 goodput_stats *out, cs_err *err)
{
    if (goodput_check(job, p, err) != 0)
        return -1;
    if (runs < 1)
        return cs_fail(err, "goodput: runs must be at least 1, not %d", runs);
    double g = 0, g2 = 0, n = 0, n2 = 0, planned = 0, lost = 0, ckpt = 0, down = 0;
    for (int r = 0; r < runs; r++) {
        goodput_run one;
        goodput_simulate(job, p, seed + (uint64_t)r, &one);
        g += one.goodput, g2 += one.goodput * one.goodput;
        n += one.interruptions, n2 += (double)one.interruptions * one.interruptions;
        planned += one.planned;
        lost += one.lost_s, ckpt += one.ckpt_s, down += one.down_s;
    }
    *out = (goodput_stats){runs, g / runs, ci95(g, g2, runs), n / runs, ci95(n, n2, runs),
                           planned / runs, lost / runs / 3600, ckpt / runs / 3600,
                           down / runs / 3600};
    return 0;
}

static double mean_goodput(const goodput_job *job, const goodput_policy *p, double interval_s,
                           int runs, uint64_t seed)
{
    goodput_policy q = *p;
    q.interval_s = interval_s;
    goodput_stats st;
    return goodput_runs(job, &q, runs, seed, &st, NULL) == 0 ? st.goodput_mean : 0;
}

double goodput_best_interval(const goodput_job *job, const goodput_policy *p, int runs,
                             uint64_t seed, double lo_s, double hi_s)
{
    const double phi = (sqrt(5.0) - 1) / 2;
    double a = log(lo_s), b = log(hi_s);
    double c = b - phi * (b - a), d = a + phi * (b - a);
    double fc = mean_goodput(job, p, exp(c), runs, seed), fd = mean_goodput(job, p, exp(d), runs, seed);
    for (int i = 0; i < 40 && b - a > 1e-3; i++) {
        if (fc >= fd) {
            b = d, d = c, fd = fc;
            c = b - phi * (b - a);
            fc = mean_goodput(job, p, exp(c), runs, seed);
        } else {
            a = c, c = d, fc = fd;
            d = a + phi * (b - a);
            fd = mean_goodput(job, p, exp(d), runs, seed);
        }
    }
    return exp((a + b) / 2);
}

/* ---- Daly 2006 ---- */

double goodput_daly_interval(double ckpt_s, double mtbf_s)
{
    if (ckpt_s >= 2 * mtbf_s)
        return mtbf_s;
    double x = ckpt_s / (2 * mtbf_s);
    return sqrt(2 * ckpt_s * mtbf_s) * (1 + sqrt(x) / 3 + x / 9) - ckpt_s;
}

double goodput_daly_goodput(double interval_s, double ckpt_s, double restart_s, double mtbf_s)
{
    double m = mtbf_s;
    return interval_s / (m * exp(restart_s / m) * (exp((interval_s + ckpt_s) / m) - 1));
}
