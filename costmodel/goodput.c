/* goodput: a training job under failures and checkpoints (see goodput.h). */
#include "goodput.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "parmap.h"

/* ---- jobs, checks and names ---- */

goodput_job goodput_job_single(double horizon_s, double mtbf_s, double detect_s,
                               double restart_s, double reload_s)
{
    goodput_job job = {.horizon_s = horizon_s, .nsources = 1, .dist = GOODPUT_EXPONENTIAL,
                       .weibull_shape = 1, .planned_restart_s = restart_s,
                       .reload_s = reload_s, .spares = GOODPUT_SPARES_UNLIMITED};
    job.src[0] = (goodput_source){"any", mtbf_s, detect_s, restart_s, 0};
    return job;
}

double goodput_job_mtbf_s(const goodput_job *job)
{
    double rate = 0;
    for (int i = 0; i < job->nsources; i++)
        if (job->src[i].mtbf_s > 0)
            rate += 1 / job->src[i].mtbf_s;
    return rate > 0 ? 1 / rate : INFINITY;
}

static int nonnegative(double v)
{
    return v >= 0 && isfinite(v);
}

static int check_log(const goodput_job *job, cs_err *err)
{
    for (int i = 0; i < job->nlog; i++) {
        const goodput_event *e = &job->log[i];
        if (!nonnegative(e->time_s) || (i > 0 && e->time_s < job->log[i - 1].time_s))
            return cs_fail(err, "goodput: logged interruption %d: times must be zero or positive "
                                "and never go backwards", i + 1);
        if (!e->planned && (e->source < 0 || e->source >= job->nsources))
            return cs_fail(err, "goodput: logged interruption %d: no source %d", i + 1, e->source);
    }
    return 0;
}

static int check_sources(const goodput_job *job, cs_err *err)
{
    if (job->nsources < 1 || job->nsources > GOODPUT_MAX_SOURCES)
        return cs_fail(err, "goodput: between 1 and %d sources of failures, not %d",
                       GOODPUT_MAX_SOURCES, job->nsources);
    int any = 0;
    for (int i = 0; i < job->nsources; i++) {
        const goodput_source *src = &job->src[i];
        if (!nonnegative(src->detect_s) || !nonnegative(src->restart_s) || isnan(src->mtbf_s))
            return cs_fail(err, "goodput: source '%s': times must be zero or positive", src->name);
        any |= src->mtbf_s > 0;
    }
    if (!any && !job->log)
        return cs_fail(err, "goodput: the mean time between failures must be positive (a "
                            "failure rate above 0)");
    return 0;
}

/* The ranges every face (command line, Lua) accepts, checked here once so
 * both refuse the same input with the same words.  Far beyond any real job:
 * published Weibull shapes of node lifetimes are 0.5-0.8 (Schroeder and
 * Gibson 2006); below 0.1 the renewal process needs astronomically many
 * draws before a lifetime spans the horizon (and Gamma(1 + 1/k) overflows
 * below 0.0058). */
static int check_ranges(const goodput_job *job, const goodput_policy *p, cs_err *err)
{
    if (job->dist == GOODPUT_WEIBULL &&
        !(job->weibull_shape >= GOODPUT_MIN_SHAPE && job->weibull_shape <= GOODPUT_MAX_SHAPE))
        return cs_fail(err, "goodput: the Weibull shape must be between %g and %g, not %g",
                       GOODPUT_MIN_SHAPE, GOODPUT_MAX_SHAPE, job->weibull_shape);
    if (!(p->interval_s >= GOODPUT_MIN_INTERVAL_S && p->interval_s <= GOODPUT_MAX_TIME_S))
        return cs_fail(err, "goodput: the checkpoint interval must be between %g s and %g s, "
                            "not %g s", GOODPUT_MIN_INTERVAL_S, GOODPUT_MAX_TIME_S, p->interval_s);
    if (job->repair_s > GOODPUT_MAX_REPAIR_S)
        return cs_fail(err, "goodput: the repair time must be at most %g h, not %g h",
                       GOODPUT_MAX_REPAIR_S / 3600, job->repair_s / 3600);
    if (job->planned_per_s * 86400 > GOODPUT_MAX_PLANNED_PER_DAY)
        return cs_fail(err, "goodput: at most %g planned interruptions per day, not %g",
                       GOODPUT_MAX_PLANNED_PER_DAY, job->planned_per_s * 86400);
    double times[] = {job->planned_restart_s, job->reload_s, p->stall_s, p->write_s,
                      p->memory_reload_s, job->horizon_s};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        if (times[i] > GOODPUT_MAX_TIME_S)
            return cs_fail(err, "goodput: times must be at most %g s (%.0f years), not %g s",
                           GOODPUT_MAX_TIME_S, GOODPUT_MAX_TIME_S / (365 * 86400.0), times[i]);
    return 0;
}

int goodput_check(const goodput_job *job, const goodput_policy *p, cs_err *err)
{
    if (!(job->horizon_s > 0) || !isfinite(job->horizon_s))
        return cs_fail(err, "goodput: the horizon must be a positive time");
    if (check_sources(job, err) != 0 || check_log(job, err) != 0)
        return -1;
    if (job->dist == GOODPUT_WEIBULL && !(job->weibull_shape > 0))
        return cs_fail(err, "goodput: the Weibull shape must be positive");
    double times[] = {job->planned_restart_s, job->reload_s, job->repair_s, p->stall_s,
                      p->write_s, p->memory_reload_s, job->planned_per_s};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        if (!nonnegative(times[i]))
            return cs_fail(err, "goodput: times and rates must be zero or positive");
    if (job->spares < GOODPUT_SPARES_UNLIMITED)
        return cs_fail(err, "goodput: spares must be zero or more");
    if (!(p->interval_s > 0))
        return cs_fail(err, "goodput: the checkpoint interval must be positive");
    return check_ranges(job, p, err);
}

double goodput_expected_events(const goodput_job *job)
{
    if (job->log)
        return job->nlog;
    return job->horizon_s * (1 / goodput_job_mtbf_s(job) + job->planned_per_s);
}

int goodput_check_work(const goodput_job *job, int runs, cs_err *err)
{
    double per_run = goodput_expected_events(job);
    double all = (per_run + GOODPUT_RUN_EVENTS) * fmax(runs, 1); /* a run's own cost too */
    if (!(all <= GOODPUT_MAX_EVENTS))
        return cs_fail(err, "goodput: about %.3g interruptions' worth of work (%.3g interruptions "
                            "per run, and %g for the run itself, x %d runs); the limit is %g: "
                            "fewer runs, fewer days or lower rates",
                       all, per_run, (double)GOODPUT_RUN_EVENTS, runs, GOODPUT_MAX_EVENTS);
    return 0;
}

int goodput_check_trace(const goodput_job *job, const goodput_policy *p, cs_err *err)
{
    double segments = 2 * job->horizon_s / p->interval_s + 3 * goodput_expected_events(job);
    if (!(segments <= GOODPUT_MAX_TRACE))
        return cs_fail(err, "goodput: a picture of about %.3g segments (the horizon over the "
                            "checkpoint interval); the limit is %g: a longer interval or fewer days",
                       segments, GOODPUT_MAX_TRACE);
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
    double next_src[GOODPUT_MAX_SOURCES]; /* drawn: each source's next failure */
    double next_fail, next_planned;
    int fail_src;             /* the source of next_fail */
    int log_fail, log_planned; /* replayed: cursors on the next events of each kind */
    double uncommitted;       /* trained since the last completed checkpoint */
    double inflight;          /* of which a background write will commit */
    double write_done;        /* when it completes (INFINITY: none) */
    double *spare_ready;      /* per spare: when it is (again) ready */
    double wait_from, wait_to; /* the current downtime's wait for a spare */
    goodput_trace *tr;
    int commit_seg, inflight_seg; /* trace: first uncommitted segment; end of the write's */
    goodput_run *out;
} run_state;

/* ---- the trace ---- */

void goodput_trace_free(goodput_trace *tr)
{
    free(tr->seg);
    memset(tr, 0, sizeof *tr);
}

static void trace_add(run_state *s, double from, double to, goodput_seg_kind kind, int source)
{
    goodput_trace *tr = s->tr;
    if (!tr || !(to > from))
        return;
    if (tr->n == tr->cap) {
        int cap = tr->cap ? 2 * tr->cap : 256;
        goodput_segment *seg = realloc(tr->seg, (size_t)cap * sizeof *seg);
        if (!seg) { /* a picture without its tail beats no result */
            s->tr = NULL;
            return;
        }
        tr->seg = seg, tr->cap = cap;
    }
    tr->seg[tr->n++] = (goodput_segment){from, to, kind, source};
}

/* Training since the last completed checkpoint was lost. */
static void trace_lose(run_state *s)
{
    if (!s->tr)
        return;
    for (int i = s->commit_seg; i < s->tr->n; i++)
        if (s->tr->seg[i].kind == GOODPUT_SEG_TRAIN)
            s->tr->seg[i].kind = GOODPUT_SEG_LOST;
    s->commit_seg = s->inflight_seg = s->tr->n;
}

static void trace_commit(run_state *s, int upto)
{
    if (s->tr)
        s->commit_seg = upto;
}

static int trace_len(const run_state *s)
{
    return s->tr ? s->tr->n : 0;
}

/* ---- failure arrivals: drawn or replayed ---- */

/* A lifetime of source i: exponential, or Weibull with the same mean. */
static double lifetime(const run_state *s, int i)
{
    const goodput_job *j = s->job;
    double mean = j->src[i].mtbf_s;
    if (!(mean > 0))
        return INFINITY;
    if (j->dist == GOODPUT_EXPONENTIAL || j->weibull_shape == 1)
        return gsl_ran_exponential(s->rng, mean);
    double k = j->weibull_shape, scale = mean / gsl_sf_gamma(1 + 1 / k);
    return gsl_ran_weibull(s->rng, scale, k);
}

static void pick_next_fail(run_state *s)
{
    if (s->job->log) {
        const goodput_job *j = s->job;
        while (s->log_fail < j->nlog && j->log[s->log_fail].planned)
            s->log_fail++;
        s->next_fail = s->log_fail < j->nlog ? j->log[s->log_fail].time_s : INFINITY;
        s->fail_src = s->log_fail < j->nlog ? j->log[s->log_fail].source : 0;
        return;
    }
    s->next_fail = INFINITY;
    for (int i = 0; i < s->job->nsources; i++)
        if (s->next_src[i] < s->next_fail)
            s->next_fail = s->next_src[i], s->fail_src = i;
}

/* The failure at next_fail happened: the next one of its source. */
static void consume_fail(run_state *s)
{
    if (s->job->log)
        s->log_fail++;
    else
        s->next_src[s->fail_src] = s->next_fail + lifetime(s, s->fail_src);
    pick_next_fail(s);
}

/* The first planned interruption after t. */
static double planned_after(run_state *s, double t)
{
    const goodput_job *j = s->job;
    if (j->log) {
        while (s->log_planned < j->nlog &&
               (!j->log[s->log_planned].planned || j->log[s->log_planned].time_s <= t))
            s->log_planned++;
        return s->log_planned < j->nlog ? j->log[s->log_planned].time_s : INFINITY;
    }
    return j->planned_per_s > 0 ? t + gsl_ran_exponential(s->rng, 1 / j->planned_per_s) : INFINITY;
}

static double next_interrupt(const run_state *s)
{
    return fmin(s->next_fail, s->next_planned);
}

/* ---- interruptions ---- */

static double reload_s(const run_state *s)
{
    return s->p->kind == GOODPUT_MEMORY ? s->p->memory_reload_s : s->job->reload_s;
}

/* How long a failure of source i at s->t waits for a replacement node
 * after its detection; takes the spare. */
static double spare_wait(run_state *s, int i)
{
    const goodput_job *j = s->job;
    if (!j->src[i].needs_spare || j->spares == GOODPUT_SPARES_UNLIMITED)
        return 0;
    if (j->spares == 0)
        return j->repair_s;
    int k = 0;
    for (int q = 1; q < j->spares; q++)
        if (s->spare_ready[q] < s->spare_ready[k])
            k = q;
    double wait = fmax(0, s->spare_ready[k] - (s->t + j->src[i].detect_s));
    s->spare_ready[k] = s->t + j->repair_s; /* the failed node, once repaired */
    return wait;
}

/* The downtime of a failure of source i at s->t. */
static double failure_downtime(run_state *s, int i)
{
    const goodput_source *src = &s->job->src[i];
    double wait = spare_wait(s, i);
    double from = s->t + src->detect_s, to = from + wait;
    if (s->wait_to > s->t) { /* an earlier failure's wait for a node goes on */
        from = fmin(from, fmax(s->wait_from, s->t));
        to = fmax(to, s->wait_to);
    }
    s->wait_from = from, s->wait_to = to;
    return src->detect_s + wait + src->restart_s + reload_s(s);
}

/* Down from s->t to `to` (for `source`, -1 planned). */
static void spend_down(run_state *s, double to, int source)
{
    s->out->down_s += to - s->t;
    s->out->spare_wait_s += fmax(0, fmin(to, s->wait_to) - fmax(s->t, s->wait_from));
    trace_add(s, s->t, to, GOODPUT_SEG_DOWN, source);
    s->t = to;
}

/* The failure at next_fail (== s->t) counted; its downtime. */
static double take_failure(run_state *s, int *source)
{
    *source = s->fail_src;
    s->out->interruptions++;
    s->out->by_source[*source]++;
    consume_fail(s);
    return failure_downtime(s, *source);
}

/* An interruption at s->t: the uncommitted work is lost; then the downtime,
 * restarted by every failure that falls inside it.  A restart never ends
 * the downtime sooner: a node still being repaired is still missing when a
 * software failure restarts the job, so the later of the two ends wins
 * (otherwise adding failures would raise goodput). */
static void interrupt(run_state *s, int planned)
{
    goodput_run *o = s->out;
    o->lost_s += s->uncommitted;
    trace_lose(s);
    s->uncommitted = s->inflight = 0;
    s->write_done = INFINITY;
    int source = -1;
    double down;
    s->wait_from = s->wait_to = 0;
    if (planned) {
        o->planned++;
        s->next_planned = planned_after(s, s->t);
        down = s->job->planned_restart_s + reload_s(s);
    } else {
        down = take_failure(s, &source);
    }
    double end = s->t + down;
    while (s->next_fail < end && s->next_fail < s->job->horizon_s) {
        spend_down(s, s->next_fail, source);
        end = fmax(end, s->t + take_failure(s, &source));
    }
    spend_down(s, fmin(end, s->job->horizon_s), source);
    if (s->next_planned < s->t) /* maintenance due during the downtime is done in it */
        s->next_planned = planned_after(s, s->t);
}

/* ---- training and checkpoints ---- */

/* A background write that completes by `until` commits its work. */
static void settle_write(run_state *s, double until)
{
    if (s->write_done <= until) {
        s->out->useful_s += s->inflight;
        s->uncommitted -= s->inflight;
        s->inflight = 0;
        s->write_done = INFINITY;
        trace_commit(s, s->inflight_seg);
    }
}

/* Runs a segment of `kind` from s->t until `end` or the next interruption;
 * 0 when interrupted (or at the horizon). */
static int advance(run_state *s, double end, goodput_seg_kind kind)
{
    double stop = fmin(next_interrupt(s), s->job->horizon_s);
    double to = fmin(stop, end);
    settle_write(s, to);
    trace_add(s, s->t, to, kind, -1);
    if (kind == GOODPUT_SEG_TRAIN)
        s->uncommitted += to - s->t;
    else
        s->out->ckpt_s += to - s->t;
    s->t = to;
    if (stop < end) {
        if (stop < s->job->horizon_s)
            interrupt(s, s->next_planned < s->next_fail);
        return 0;
    }
    return 1;
}

/* The checkpoint: waiting for the previous background write, the stall,
 * then commit (sync) or a new background write (async, memory). */
static int checkpoint(run_state *s)
{
    double wait = s->write_done < INFINITY ? s->write_done - s->t : 0;
    if (!advance(s, s->t + fmax(wait, 0) + s->p->stall_s, GOODPUT_SEG_CKPT))
        return 0;
    if (s->p->kind == GOODPUT_SYNC) {
        s->out->useful_s += s->uncommitted;
        s->uncommitted = 0;
        trace_commit(s, trace_len(s));
    } else {
        s->inflight = s->uncommitted;
        s->write_done = s->t + s->p->write_s;
        s->inflight_seg = trace_len(s);
    }
    return 1;
}

/* Just after a checkpoint, with no interruption due for k + 1 whole cycles
 * of train-and-checkpoint, runs k of them at once: with a checkpoint every
 * I seconds, a stall S and a background write W, a cycle takes max(I, W) +
 * S for sync (W = 0) and async alike and commits I.  Exactly what the step
 * by step loop does, without its cost when intervals are short (async
 * checkpoints of a few seconds over weeks).  Not when tracing: the picture
 * wants every segment. */
static void fast_forward(run_state *s)
{
    const goodput_policy *p = s->p;
    double write = p->kind == GOODPUT_SYNC ? 0 : p->write_s;
    double cycle = fmax(p->interval_s, write) + p->stall_s;
    double room = fmin(next_interrupt(s), s->job->horizon_s) - s->t;
    double k = floor(room / cycle) - 1;
    if (s->tr || !(k >= 1) || !(cycle > 0))
        return;
    s->t += k * cycle;
    s->out->ckpt_s += k * (p->stall_s + fmax(0, write - p->interval_s));
    if (p->kind == GOODPUT_SYNC) {
        s->out->useful_s += k * p->interval_s;
        return;
    }
    /* the write in flight and k - 1 more commit; the last cycle's is in flight */
    s->out->useful_s += s->inflight + (k - 1) * p->interval_s;
    s->uncommitted = s->inflight = p->interval_s;
    s->write_done = s->t + write;
}

static void start(run_state *s)
{
    const goodput_job *j = s->job;
    for (int i = 0; i < j->spares; i++)
        s->spare_ready[i] = 0;
    if (!j->log)
        for (int i = 0; i < j->nsources; i++)
            s->next_src[i] = lifetime(s, i);
    pick_next_fail(s);
    s->next_planned = planned_after(s, j->log ? -1 : 0); /* a logged event may be at 0 */
}

void goodput_simulate(const goodput_job *job, const goodput_policy *p, uint64_t seed,
                      goodput_run *out, goodput_trace *trace)
{
    memset(out, 0, sizeof *out);
    if (trace)
        memset(trace, 0, sizeof *trace);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)seed);
    run_state s = {.job = job, .p = p, .rng = rng, .write_done = INFINITY, .tr = trace, .out = out};
    double spare_ready[64];
    s.spare_ready = job->spares <= 64 ? spare_ready : malloc((size_t)job->spares * sizeof(double));
    start(&s);
    while (s.t < job->horizon_s)
        if (advance(&s, s.t + p->interval_s, GOODPUT_SEG_TRAIN) && s.t < job->horizon_s &&
            checkpoint(&s))
            fast_forward(&s);
    settle_write(&s, job->horizon_s);
    out->goodput = out->useful_s / job->horizon_s;
    if (s.spare_ready != spare_ready)
        free(s.spare_ready);
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

/* Sums over runs; finished into goodput_stats. */
typedef struct run_sums {
    double g, g2, n, n2, planned, lost, ckpt, down, wait;
    double by_source[GOODPUT_MAX_SOURCES];
} run_sums;

static void add_run(run_sums *sum, const goodput_run *one)
{
    sum->g += one->goodput, sum->g2 += one->goodput * one->goodput;
    sum->n += one->interruptions, sum->n2 += (double)one->interruptions * one->interruptions;
    sum->planned += one->planned;
    sum->lost += one->lost_s, sum->ckpt += one->ckpt_s, sum->down += one->down_s;
    sum->wait += one->spare_wait_s;
    for (int i = 0; i < GOODPUT_MAX_SOURCES; i++)
        sum->by_source[i] += one->by_source[i];
}

static goodput_progress_fn progress_fn;
static void *progress_ctx;
static long progress_runs;

void goodput_set_progress(goodput_progress_fn fn, void *ctx)
{
    progress_fn = fn, progress_ctx = ctx, progress_runs = 0;
}

/* Runs over threads or ranks (parmap), a block at a time, summed in run
 * order: the same bytes however the runs were divided. */
typedef struct runs_ctx {
    const goodput_job *job;
    const goodput_policy *p;
    uint64_t seed;
} runs_ctx;

static void one_run(void *ctx, long index, void *out)
{
    const runs_ctx *c = ctx;
    goodput_simulate(c->job, c->p, c->seed + (uint64_t)index, out, NULL);
}

static void run_label(void *ctx, long index, char *buf, size_t n)
{
    snprintf(buf, n, "seed %llu", (unsigned long long)(((const runs_ctx *)ctx)->seed + (uint64_t)index));
}

#define RUNS_BLOCK 8192

static void sum_runs(const goodput_job *job, const goodput_policy *p, int runs, uint64_t seed,
                     run_sums *sum)
{
    goodput_run *block = cs_xrealloc(NULL, sizeof *block * (size_t)(runs < RUNS_BLOCK ? runs : RUNS_BLOCK));
    for (int first = 0; first < runs; first += RUNS_BLOCK) {
        int n = runs - first < RUNS_BLOCK ? runs - first : RUNS_BLOCK;
        runs_ctx c = {job, p, seed + (uint64_t)first};
        parmap_job pj = {.n = n, .out_size = sizeof *block, .item = one_run, .ctx = &c,
                         .label = run_label, .what = "Monte Carlo run"};
        parmap_run(&pj, block);
        for (int r = 0; r < n; r++)
            add_run(sum, &block[r]);
        progress_runs += n;
        if (progress_fn)
            progress_fn(progress_ctx, progress_runs);
    }
    free(block);
}

int goodput_runs(const goodput_job *job, const goodput_policy *p, int runs, uint64_t seed,
                 goodput_stats *out, cs_err *err)
{
    if (goodput_check(job, p, err) != 0)
        return -1;
    if (runs < 1)
        return cs_fail(err, "goodput: runs must be at least 1, not %d", runs);
    if (goodput_check_work(job, runs, err) != 0)
        return -1;
    run_sums sum = {0};
    sum_runs(job, p, runs, seed, &sum);
    const double h = 3600.0 * runs;
    *out = (goodput_stats){runs, sum.g / runs, ci95(sum.g, sum.g2, runs), sum.n / runs,
                           ci95(sum.n, sum.n2, runs), sum.planned / runs, sum.lost / h,
                           sum.ckpt / h, sum.down / h, sum.wait / h, {0}};
    for (int i = 0; i < GOODPUT_MAX_SOURCES; i++)
        out->by_source_mean[i] = sum.by_source[i] / runs;
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

#define SEARCH_MAX_STEPS 40
#define SEARCH_TOLERANCE 0.01 /* 1% in the interval: the optimum is flat */

long goodput_best_interval_runs(int runs, double lo_s, double hi_s)
{
    const double phi = (sqrt(5.0) - 1) / 2;
    double span = log(hi_s) - log(lo_s);
    double steps = span > SEARCH_TOLERANCE ? ceil(log(SEARCH_TOLERANCE / span) / log(phi)) : 0;
    return (long)(2 + fmin(steps, SEARCH_MAX_STEPS)) * (runs < GOODPUT_SEARCH_RUNS ? runs : GOODPUT_SEARCH_RUNS);
}

double goodput_best_interval(const goodput_job *job, const goodput_policy *p, int runs,
                             uint64_t seed, double lo_s, double hi_s)
{
    if (runs > GOODPUT_SEARCH_RUNS)
        runs = GOODPUT_SEARCH_RUNS;
    const double phi = (sqrt(5.0) - 1) / 2;
    double a = log(lo_s), b = log(hi_s);
    double c = b - phi * (b - a), d = a + phi * (b - a);
    double fc = mean_goodput(job, p, exp(c), runs, seed), fd = mean_goodput(job, p, exp(d), runs, seed);
    for (int i = 0; i < SEARCH_MAX_STEPS && b - a > SEARCH_TOLERANCE; i++) {
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
