/* goodput: a long training job under failures and checkpoints, simulated
 * run by run, and Daly's closed forms to check it against.
 *
 * Owns the job model: the job trains in intervals of interval_s, each
 * followed by a checkpoint; an interruption loses the work since the last
 * checkpoint that completed, then costs a downtime (detect + wait for a
 * spare + restart + reload) during which further failures restart the
 * downtime.  Failures come from sources (component classes, see
 * faultmodel.h), each a renewal process with its own mean time between
 * failures for the whole job and its own detection and restart times:
 * exponential lifetimes (memoryless) or Weibull with the same mean (shape
 * < 1: early failures cluster), drawn with GSL; or they are replayed from
 * a log of timed events.  Planned interruptions (maintenance) arrive at a
 * fixed rate and lose the work since the last checkpoint like any other,
 * without the detection.
 *
 * Spares: a failure of a source that takes its node out (needs_spare)
 * needs a replacement node.  With unlimited hot spares it is there at
 * once; with S spares, the failed node goes to repair (repair_s) and
 * becomes a spare again when repaired, and a failure that finds no spare
 * waits for the first repair to finish; with none, the job waits for its
 * own node's repair.
 *
 * Checkpoint policies:
 *   sync    training stops for stall_s (every rank writes its shard to
 *           shared storage); the checkpoint completes at the end;
 *   async   training stops for stall_s (the copy to host memory), then the
 *           write runs in the background for write_s; the checkpoint
 *           completes when the write does, and the next one cannot start
 *           before (a failure in between falls back to the previous one);
 *   memory  like async, but the background copy goes to a peer host's
 *           memory, and a restart reloads from there (reload_s of the
 *           policy) instead of from shared storage.
 *
 * Figures per run: useful (committed) training time, work lost,
 * checkpointing stalls, downtime, interruptions; goodput = useful time /
 * horizon.  Runs use seed + run index, so any run can be replayed alone
 * and the mean does not depend on how runs are split across threads.
 *
 * Daly 2006 ("A higher order estimate of the optimum checkpoint interval
 * for restart dumps", FGCS 22(3)), for exponential failures with mean M,
 * checkpoint time d and restart time R:
 *   optimum interval  sqrt(2 d M) [1 + sqrt(d / 2M) / 3 + (d / 2M) / 9] - d
 *                     (d < 2M), else M;
 *   wall time per unit of work  M e^(R/M) (e^((t + d)/M) - 1) / t,
 *   so expected goodput = t / (M e^(R/M) (e^((t + d)/M) - 1)). */
#ifndef CS_GOODPUT_H
#define CS_GOODPUT_H

#include <stdint.h>

#include "cs_error.h"

typedef enum goodput_ckpt { GOODPUT_SYNC, GOODPUT_ASYNC, GOODPUT_MEMORY } goodput_ckpt;
typedef enum goodput_dist { GOODPUT_EXPONENTIAL, GOODPUT_WEIBULL } goodput_dist;

#define GOODPUT_MAX_SOURCES 8
#define GOODPUT_SPARES_UNLIMITED (-1)

typedef struct goodput_source {
    const char *name;         /* for reports ("gpu", "software", ...) */
    double mtbf_s;            /* mean time between its failures, whole job (<= 0: never) */
    double detect_s;          /* noticing the failure */
    double restart_s;         /* rescheduling and initialising */
    int needs_spare;          /* the failed node must be replaced */
} goodput_source;

/* One logged interruption: when, which source (index into the job's), and
 * whether it was planned (then source is ignored). */
typedef struct goodput_event {
    double time_s;
    int source;
    int planned;
} goodput_event;

typedef struct goodput_job {
    double horizon_s;         /* wall time simulated */
    int nsources;
    goodput_source src[GOODPUT_MAX_SOURCES];
    goodput_dist dist;
    double weibull_shape;     /* Weibull only (1 = exponential) */
    double planned_per_s;     /* planned interruptions per second (0: none) */
    double planned_restart_s; /* downtime of a planned interruption, before the reload */
    double reload_s;          /* reading the checkpoint back from shared storage */
    int spares;               /* hot spare nodes, or GOODPUT_SPARES_UNLIMITED */
    double repair_s;          /* repairing a failed node */
    const goodput_event *log; /* replayed instead of drawn when not NULL (sorted by time) */
    int nlog;
} goodput_job;

/* A job with one source of failures (mean mtbf_s for the whole job). */
goodput_job goodput_job_single(double horizon_s, double mtbf_s, double detect_s,
                               double restart_s, double reload_s);

/* The job's mean time between unexpected failures (all sources together). */
double goodput_job_mtbf_s(const goodput_job *job);

typedef struct goodput_policy {
    goodput_ckpt kind;
    double interval_s;        /* training between checkpoints */
    double stall_s;           /* training stopped per checkpoint */
    double write_s;           /* async, memory: background part */
    double memory_reload_s;   /* memory: reload from the peer's copy */
} goodput_policy;

typedef struct goodput_run {
    double useful_s, lost_s, ckpt_s, down_s;
    double spare_wait_s;      /* of down_s: waiting for a spare or a repair */
    int interruptions, planned;
    int by_source[GOODPUT_MAX_SOURCES];
    double goodput;
} goodput_run;

/* What one run did, segment by segment, for pictures. */
typedef enum goodput_seg_kind { GOODPUT_SEG_TRAIN, GOODPUT_SEG_LOST, GOODPUT_SEG_CKPT,
                                GOODPUT_SEG_DOWN } goodput_seg_kind;
typedef struct goodput_segment {
    double start_s, end_s;
    goodput_seg_kind kind;    /* TRAIN segments lost to an interruption become LOST */
    int source;               /* DOWN: the source that caused it, -1 planned */
} goodput_segment;
typedef struct goodput_trace {
    goodput_segment *seg;     /* owned; goodput_trace_free */
    int n, cap;
} goodput_trace;
void goodput_trace_free(goodput_trace *tr);

typedef struct goodput_stats {
    int runs;
    double goodput_mean, goodput_ci95;          /* half-width, t-based (normal beyond 30) */
    double interruptions_mean, interruptions_ci95;
    double planned_mean;                        /* planned interruptions per run */
    double lost_hours_mean, ckpt_hours_mean, down_hours_mean, spare_wait_hours_mean;
    double by_source_mean[GOODPUT_MAX_SOURCES];
} goodput_stats;

/* The accepted ranges (goodput_check; see check_ranges for why). */
#define GOODPUT_MIN_SHAPE 0.1
#define GOODPUT_MAX_SHAPE 100.0
#define GOODPUT_MIN_INTERVAL_S 1e-3
#define GOODPUT_MAX_TIME_S 1e12             /* any time: horizon, interval, restart, ... */
#define GOODPUT_MAX_REPAIR_S (1e6 * 3600.0)
#define GOODPUT_MAX_PLANNED_PER_DAY 1e6
/* Bounded work: interruptions over all the runs of one study, the interval
 * search's included (3 to 6 million a second, so at most about 10 s on one
 * core, less over threads or MPI ranks, shown with progress on a terminal:
 * a 4,000-run study of a 54-day, 16,384-GPU job is 1.7 million, a 2,000-run
 * 30-day study of 32,768 GPUs with its interval search 2e7; 1e8 let the
 * fuzzer find a 'faults' line that ran past 30 s under the sanitizers), and
 * segments of one trace.  The fuzzing build (-Dfuzz=true) sets a lower
 * bound: under its sanitizers and coverage a run is about 100x slower (a
 * faults line of 8 million interruptions, 0.6 s normally, took 72 s). */
#ifndef GOODPUT_MAX_EVENTS
#define GOODPUT_MAX_EVENTS 3e7
#endif
/* A run costs something before its first interruption (its generator
 * seeded, its figures kept): about 10 us in the default (debugoptimized)
 * build, as much as 75 interruptions, so each run counts as this many more
 * in the bound above.  1,000,000 runs of a job that never fails took 10 s;
 * they count as 1e8.  The fuzzing build counts 1 (its event bound is lower
 * still). */
#ifndef GOODPUT_RUN_EVENTS
#define GOODPUT_RUN_EVENTS 100.0
#endif
#define GOODPUT_MAX_TRACE 1e6

/* Checks the job and policy (positive times, interval > 0, the ranges
 * above): the one validation the command line and Lua share. */
int goodput_check(const goodput_job *job, const goodput_policy *p, cs_err *err);

/* Interruptions one run is expected to replay or draw (failures and
 * planned ones). */
double goodput_expected_events(const goodput_job *job);

/* Refuses runs whose expected interruptions, and GOODPUT_RUN_EVENTS for
 * each run, exceed GOODPUT_MAX_EVENTS. */
int goodput_check_work(const goodput_job *job, int runs, cs_err *err);

/* Refuses a trace (picture) of more than GOODPUT_MAX_TRACE segments. */
int goodput_check_trace(const goodput_job *job, const goodput_policy *p, cs_err *err);

/* One run with the given seed; trace may be NULL (else filled: the caller
 * frees it with goodput_trace_free). */
void goodput_simulate(const goodput_job *job, const goodput_policy *p, uint64_t seed,
                      goodput_run *out, goodput_trace *trace);

/* Called after every simulated run of goodput_runs with the runs done so
 * far in the process, for a progress display; NULL for none.  One display
 * per process (the command line's), so a plain static. */
typedef void (*goodput_progress_fn)(void *ctx, long runs_done);
void goodput_set_progress(goodput_progress_fn fn, void *ctx);

/* Runs goodput_best_interval simulates at most (a bound for a progress
 * display): its golden-section steps times min(runs, GOODPUT_SEARCH_RUNS). */
long goodput_best_interval_runs(int runs, double lo_s, double hi_s);

/* runs runs with seeds seed, seed + 1, ...; their mean and 95% interval. */
int goodput_runs(const goodput_job *job, const goodput_policy *p, int runs, uint64_t seed,
                 goodput_stats *out, cs_err *err);

/* The interval with the best mean goodput over runs (at most
 * GOODPUT_SEARCH_RUNS; the same seeds for every interval tried, so the
 * comparison is not noise), by golden-section search on the logarithm of
 * the interval between lo_s and hi_s, to 1%. */
#define GOODPUT_SEARCH_RUNS 200
double goodput_best_interval(const goodput_job *job, const goodput_policy *p, int runs,
                             uint64_t seed, double lo_s, double hi_s);

/* Daly's optimum interval and expected goodput (see above). */
double goodput_daly_interval(double ckpt_s, double mtbf_s);
double goodput_daly_goodput(double interval_s, double ckpt_s, double restart_s, double mtbf_s);

int goodput_ckpt_parse(const char *text, goodput_ckpt *out, cs_err *err);
const char *goodput_ckpt_name(goodput_ckpt kind);

#endif
